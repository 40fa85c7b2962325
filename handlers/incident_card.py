"""An incident's card in the staff chat: what it says, and when its edits go.

The card is the one place staff see an incident: its number, title, reporters per platform,
the latest of those who joined without a line of their own, and how its answer goes out. Its
text is written whole each time; edits of one card queued together go as the latest alone
(`bot.sender`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from handlers import buttons, render
from handlers.config import DeskConfig
from handlers.routing import lemmas
from handlers.texts import Texts
from storage.base import Incident, Transaction
from storage.values import Outbound, Platform, Purpose

NUMBERS_SHOWN = 50  # ticket numbers listed on a card; the rest counted
# Reporters who join with a line of their own under the card: the first LINES_EACH in any
# LINES_WINDOW. The rest of a storm is folded into the card: counted, the latest quoted.
LINES_EACH = 5
LINES_WINDOW = timedelta(minutes=10)
ALARMS_EACH = 5  # more lines in a window for reporters who tell of a danger
LATEST = 3
SAMPLE_CHARS = 200
LIST_CHARS = 3300  # of the items of one message of /list; with its header below 4,096
LIST_PARTS = 5  # messages of /list at a time
LIST_ITEM_CHARS = 120


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


# Words of danger: a reporter who writes one gets a line under the card even in a storm,
# unless the incident is about it (every reporter of a gas outage writes «газ»).
DANGER = frozenset({
    "газ", "пожар", "дым", "задымление", "искрить", "взрыв", "взорваться", "обрушение",
    "обрушиться", "кипяток", "ожог", "травма", "угарный", "умереть", "погибнуть", "провод",
})
_WORDS = re.compile(r"[а-яё]+", re.IGNORECASE)


def alarming(text: str, title: str) -> bool:
    """Whether a citizen's text tells of a danger its incident's title does not name."""
    def words(of: str) -> set[str]:
        return {lemma for word in _WORDS.findall(of[:2000]) for lemma in lemmas(word)}
    return bool(words(text) & DANGER - words(title))


def lines_key(incident_id: int) -> str:
    return f"incident-lines:{incident_id}"


async def take_line(
    tx: Transaction, incident_id: int, ticket_id: int, now: datetime, *, alarm: bool = False
) -> bool:
    """Whether a reporter joining now gets a line under the card: the first LINES_EACH of
    each LINES_WINDOW, and ALARMS_EACH more who tell of a danger; if not, the card counts
    and quotes them (a storm of a thousand must not be a thousand staff messages; `/list`
    shows them all)."""
    state = Lines.parse(await tx.get_state(lines_key(incident_id)))
    if not 0 <= now.timestamp() - state.since < LINES_WINDOW.total_seconds():
        state.since, state.lines = now.timestamp(), 0  # a new window, or the clock stepped
    line = state.lines < LINES_EACH + (ALARMS_EACH if alarm else 0)
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
    if incident.state not in ("open", "closed"):
        return  # a suggestion's card is its own, with its own buttons
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


async def reporters_list(
    tx: Transaction, texts: Texts, incident: Incident, chat_id: str, reply_to: str | None,
    *, first: int = 1,
) -> list[Outbound]:
    """`/list` on the card: every reporter with the start of what they wrote, LIST_PARTS
    messages from part `first` on (`/list 6` goes on). Each names its tickets, so «№17 …»
    replying to it answers that citizen alone."""
    tickets = await tx.incident_tickets(incident.id)
    items = [
        (t.id, render.platform_name(texts, t.platform), short(t.summary, LIST_ITEM_CHARS))
        for t in tickets
    ]
    chunks = _chunks(items)
    number = incident_number(texts, incident.id)
    shown = list(enumerate(chunks))[max(first, 1) - 1:][:LIST_PARTS]
    parts = []
    for index, chunk in shown:
        lines = [texts.html("incident-list", incident=number, count=len(items),
                            part=index + 1, parts=len(chunks))]
        lines += [texts.html("incident-list-item", number=n, platform=p, text=t)
                  for n, p, t in chunk]
        if index == shown[-1][0] and index + 1 < len(chunks):
            lines.append(texts.html("incident-list-more", next=index + 2))
        parts.append(Outbound(
            platform=Platform.TELEGRAM, chat_id=chat_id, purpose=Purpose.STAFF_NOTICE,
            html=True, reply_to=reply_to, refers=tuple(n for n, _, _ in chunk),
            text="\n".join(lines),
        ))
    return parts


def _chunks(items: list[tuple[int, str, str]]) -> list[list[tuple[int, str, str]]]:
    """The list cut into messages of at most LIST_CHARS visible UTF-16 units of items."""
    chunks: list[list[tuple[int, str, str]]] = [[]]
    size = 0
    for item in items:
        length = render.visible_length(f"№{item[0]} ({item[1]}): {item[2]}") + 1
        if chunks[-1] and size + length > LIST_CHARS:
            chunks.append([])
            size = 0
        chunks[-1].append(item)
        size += length
    return chunks
