"""An outgoing message's buttons as a VK inline keyboard, and a pressed button's data back.

https://dev.vk.com/ru/api/bots/development/keyboard: the keyboard is a JSON string in the
`keyboard` parameter of messages.send; an inline one is at most 6 rows of 5 buttons, 10 in all;
a label is at most 40 characters and a payload at most 255. A keyboard VK finds malformed is
error 911; a community with bot features off answers 912. Text buttons are used: a press comes
back as a message_new carrying the payload, on every client that shows the keyboard; callback
buttons (message_event) need clients that have them.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from storage.values import Outbound

log = logging.getLogger(__name__)

KEY = "button"  # {"button": "<the button's data>"}: the payload of the desk's own buttons
ROWS, PER_ROW, BUTTONS = 6, 5, 10  # an inline keyboard's limits
LABEL_LIMIT, PAYLOAD_LIMIT = 40, 255
KEYBOARD_INVALID, BOT_FEATURES_OFF = 911, 912
REFUSED = frozenset({KEYBOARD_INVALID, BOT_FEATURES_OFF})


def payload_of(data: str) -> str:
    return json.dumps({KEY: data}, ensure_ascii=False, separators=(",", ":"))


def keyboard_of(out: Outbound) -> str | None:
    """The row's buttons as VK's inline keyboard JSON; None without buttons, or for buttons
    VK would refuse (logged: the message then goes without them)."""
    if not out.buttons:
        return None
    rows = [[_button(label, data) for label, data in row] for row in out.buttons]
    count = sum(len(row) for row in rows)
    too_long = any(len(label) > LABEL_LIMIT or len(payload_of(data)) > PAYLOAD_LIMIT
                   for row in out.buttons for label, data in row)
    if len(rows) > ROWS or any(len(r) > PER_ROW for r in rows) or count > BUTTONS or too_long:
        log.error("buttons beyond VK's inline keyboard limits; the message goes without them")
        return None
    return json.dumps({"inline": True, "buttons": rows}, ensure_ascii=False,
                      separators=(",", ":"))


def _button(label: str, data: str) -> dict[str, Any]:
    return {"action": {"type": "text", "label": label, "payload": payload_of(data)}}


def data_of(payload: Any) -> str | None:
    """The desk's button data in a payload: a message_new's (a JSON string) or a
    message_event's (an object); None for any other payload."""
    if isinstance(payload, str):
        try:
            payload = json.loads(payload)
        except ValueError:
            return None
    data = payload.get(KEY) if isinstance(payload, dict) else None
    return data if isinstance(data, str) else None
