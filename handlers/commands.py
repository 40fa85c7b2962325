"""Reading what staff and citizens type: `/commands`, `№<n>` prefixes, who posted."""

from __future__ import annotations

import re

from handlers.model import Inbound

_COMMAND = re.compile(r"^/([a-z_]+)(?:@\w+)?(?:\s|$)", re.IGNORECASE)
NUMBER = re.compile(r"^\s*№\s*(\d+)\b\s*")
# Commands given as a reply about one ticket (also after `№<n>` on a merged message).
TICKET_COMMANDS = frozenset({
    "take", "move", "close", "block", "unblock", "interim", "templates", "template", "join",
    "apart",
})


def split_number(text: str) -> tuple[int | None, str]:
    """`№17 /close` → (17, "/close"); a text without the prefix → (None, text)."""
    match = NUMBER.match(text)
    return (int(match.group(1)), text[match.end():]) if match else (None, text)


def posted_as_chat(inbound: Inbound) -> bool:
    """Posted on behalf of the chat itself: an anonymous administrator of a group."""
    return inbound.author_id == inbound.chat_id


def command_of(text: str) -> str | None:
    """`/close@frontdesk_bot now` → `close`."""
    match = _COMMAND.match(text.strip())
    return match.group(1).lower() if match else None


def number_arg(word: str) -> int | None:
    """A command's number argument: «17», «№17» → 17; None for anything else (or too long
    to be one of ours)."""
    word = word.lstrip("№")
    return int(word) if word.isdigit() and len(word) < 10 else None
