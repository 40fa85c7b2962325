"""An incident's card in the staff chat: what it says, and when its edits go.

The card is the one place staff see an incident: its number, title, reporters per platform,
the latest of those who joined without a line of their own, and how its answer goes out. Its
text is written whole each time; edits of one card queued together go as the latest alone
(`bot.sender`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from handlers import buttons
from handlers.config import DeskConfig
from handlers.texts import Texts
from storage.base import Incident, Transaction
from storage.values import Outbound, Platform, Purpose

NUMBERS_SHOWN = 50  # ticket numbers listed on a card; the rest counted
# Reporters who join with a line of their own under the card: the first LINES_EACH in any
# LINES_WINDOW. The rest of a storm is folded into the card: counted, the latest quoted.
LINES_EACH = 5
LINES_WINDOW = timedelta(minutes=10)
LATEST = 3
SAMPLE_CHARS = 200


def incident_number(texts: Texts, incident_id: int) -> str:
    """How an incident is named in every message: «И-3», after «№»."""
    return texts.get("incident-number", id=incident_id)


def short(text: str, limit: int = SAMPLE_CHARS) -> str:
    """A citizen's text on one line, cut to `limit` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(slots=True)
class Lines:
    """How an incident's reporters were shown: lines in the current window, folded ones."""

    since: float = 0.0  # the window's start, a POSIX timestamp
    lines: int = 0
    folded: int = 0
    latest: list[int] = field(default_factory=list)  # the last folded tickets

    @classmethod
    def parse(cls, value: str | None) -> Lines:
        try:
            data = json.loads(value or "{}")
            return cls(float(data.get("since", 0)), int(data.get("lines", 0)),
                       int(data.get("folded", 0)), [int(i) for i in data.get("latest", [])])
        except (ValueError, TypeError, AttributeError):
            return cls()  # a damaged value starts a new window

    def dump(self) -> str:
        return json.dumps({"since": self.since, "lines": self.lines, "folded": self.folded,
                           "latest": self.latest})


def lines_key(incident_id: int) -> str:
    return f"incident-lines:{incident_id}"


async def take_line(tx: Transaction, incident_id: int, ticket_id: int, now: datetime) -> bool:
    """Whether a reporter joining now gets a line under the card; if not, the card counts
    and quotes them (a storm of a thousand must not be a thousand staff messages)."""
    state = Lines.parse(await tx.get_state(lines_key(incident_id)))
    if now.timestamp() - state.since >= LINES_WINDOW.total_seconds():
        state.since, state.lines = now.timestamp(), 0
    line = state.lines < LINES_EACH
    if line:
        state.lines += 1
    else:
        state.folded += 1
        state.latest = [*state.latest, ticket_id][-LATEST:]
    await tx.set_state(lines_key(incident_id), state.dump())
    return line


def edit_at(config: DeskConfig, now: datetime) -> datetime | None:
    """When an edit of an incident's card goes: at the next multiple of
    `card_edit_every`, so that the edits of one stretch go as one (None: at once)."""
    every = config.card_edit_every.total_seconds()
    if every <= 0:
        return None
    return datetime.fromtimestamp(math.ceil(now.timestamp() / every) * every, UTC)


async def enqueue_edit(
    tx: Transaction, texts: Texts, config: DeskConfig, incident: Incident, now: datetime
) -> None:
    """The posted card of `incident` says it as it is now. Every edit of a card goes this
    way, so the edits of one card keep their order and at most the latest one waits."""
    if incident.card_chat_id and incident.card_message_id:
        card = await incident_card(tx, texts, config, incident, edit=True)
        await tx.supersede_card_edits(incident.id)  # at most one edit waits: the latest
        await tx.enqueue(card, not_before=edit_at(config, now))


def answer_rows_key(incident_id: int) -> str:
    """The state key of the first outbox row of the latest answer to an incident."""
    return f"incident-answer-rows:{incident_id}"


async def incident_card(
    tx: Transaction, texts: Texts, config: DeskConfig, incident: Incident, *,
    edit: bool = False,
) -> Outbound:
    """An incident's card: its number, title, reporters by platform, the latest folded
    ones, how its latest answer is going out, «Закрыть все» while it is open.

    With `edit`, the new text of the card already posted: edits queued for it are sent as
    the latest one alone (`bot.sender`), within the group's limit.
    """
    counts, first = await tx.incident_reporters(incident.id, NUMBERS_SHOWN)
    total = sum(counts.values())
    lines = [
        texts.html("incident-card", incident=incident_number(texts, incident.id),
                   title=incident.title, count=total,
                   telegram=counts.get(Platform.TELEGRAM.value, 0),
                   vk=counts.get(Platform.VK.value, 0)),
        texts.html("incident-numbers", numbers=numbers(texts, first, total)),
        *await _folded(tx, texts, incident),
    ]
    since = await tx.get_state(answer_rows_key(incident.id))
    if since is not None and since.isdigit():
        rows, sent, failed = await tx.incident_answer_rows(incident.id, int(since))
        lines.append(texts.html("incident-progress", sent=sent, count=rows, failed=failed))
    lines.append(texts.html(
        "incident-card-hint" if incident.state == "open" else "incident-card-closed"
    ))
    chat_id, topic = config.place(incident.category)
    card = Outbound(
        platform=Platform.TELEGRAM, chat_id=chat_id, topic=topic,
        purpose=Purpose.INCIDENT_CARD, text="\n".join(lines), html=True,
        incident=incident.id,
        buttons=buttons.incident(texts) if incident.state == "open" else (),  # closed: none
    )
    if edit and incident.card_chat_id and incident.card_message_id:
        return replace(card, chat_id=incident.card_chat_id, edits=incident.card_message_id)
    return card


def numbers(texts: Texts, ids: Sequence[int], total: int | None = None) -> str:
    """«№3, №7, №12» — the first NUMBERS_SHOWN of `total` (all of `ids` unless given), then
    how many more."""
    shown = ", ".join(texts.get("ticket-number", number=n) for n in ids[:NUMBERS_SHOWN])
    rest = (len(ids) if total is None else total) - min(len(ids), NUMBERS_SHOWN)
    return texts.get("incident-numbers-more", numbers=shown, count=rest) if rest > 0 else shown


async def _folded(tx: Transaction, texts: Texts, incident: Incident) -> list[str]:
    """The card's lines on reporters who joined without a line of their own."""
    state = Lines.parse(await tx.get_state(lines_key(incident.id)))
    if not state.folded:
        return []
    lines = [texts.html("incident-folded", count=state.folded)]
    for ticket in sorted(await tx.tickets(state.latest), key=lambda t: t.id):
        if ticket.incident_id == incident.id and ticket.summary.strip():
            lines.append(texts.html("incident-folded-sample", number=ticket.id,
                                    text=short(ticket.summary)))
    return lines
