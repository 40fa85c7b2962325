"""The answer to a VK callback button (message_event): a snackbar the citizen sees for a moment.

https://dev.vk.com/ru/method/messages.sendMessageEventAnswer: event_id, user_id and peer_id of
the event, and `event_data` {"type": "show_snackbar", "text": …} (at most 90 characters). The
event_id is valid for a minute. The press itself is handled before its answer, so no failure
of the answer undoes it.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from vkbottle import API

from bot.vk.client import API_ERRORS, describe
from handlers.rating import Told

log = logging.getLogger(__name__)

ANSWER_TIMEOUT = 3.0  # seconds: intake handles one event at a time
SNACKBAR_LIMIT = 90


def snackbar(text: str) -> str:
    """VK's event_data for a snackbar with `text`, cut to VK's limit."""
    if len(text) > SNACKBAR_LIMIT:
        text = text[: SNACKBAR_LIMIT - 1].rstrip() + "…"
    return json.dumps({"type": "show_snackbar", "text": text}, ensure_ascii=False,
                      separators=(",", ":"))


async def answer_event(api: API, event: dict[str, Any], told: Told) -> None:
    """Show the citizen what became of their press; a failure is logged, never raised."""
    obj = event.get("object") or {}
    params = {
        "event_id": obj.get("event_id"), "user_id": obj.get("user_id"),
        "peer_id": obj.get("peer_id"), "event_data": snackbar(told.text),
    }
    try:
        await asyncio.wait_for(
            api.request("messages.sendMessageEventAnswer", params), ANSWER_TIMEOUT
        )
    except API_ERRORS as exc:  # too late (the event expired), VK down, a timeout
        log.info("VK button press not answered: %s", describe(exc))
