"""How the store's rows read as values: tickets, times, attachments; the shared columns."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from storage.base import (
    Incident,
    MessageRecord,
    Ticket,
)
from storage.values import (
    Attachment,
    Channel,
    Platform,
)

TICKET_COLUMNS = (
    "id, platform, channel, chat_id, conversation, citizen_id, citizen_name, citizen_link, "
    "thread_id, reply_to, link, summary, status, opened_at, waiting_since, deadline_at, "
    "first_answer_at, last_answer_at, closed_at, escalation_level, next_escalation_at, "
    "card_chat_id, card_message_id, unreachable, interim_at, interim_count, category, "
    "holder_id, holder_name, incident_id"
)
# The same columns of a table aliased `t`, for joins.
T_TICKET_COLUMNS = ", ".join("t." + c.strip() for c in TICKET_COLUMNS.split(","))

INCIDENT_COLUMNS = (
    "id, state, title, category, created_at, confirmed_at, answered_at, closed_at, "
    "card_chat_id, card_message_id"
)

# Through the index on next_escalation_at: the sweep's cost follows the due tickets only.
DUE_ESCALATIONS = (
    f"SELECT {TICKET_COLUMNS} FROM tickets WHERE next_escalation_at IS NOT NULL "
    "AND next_escalation_at <= ? ORDER BY next_escalation_at LIMIT ?"
)

MESSAGES_OF_TICKET = (
    "SELECT ticket_id, direction, created_at, text, attachments, author, source_key, "
    "platform_message_id FROM messages WHERE ticket_id = ? ORDER BY id"
)


def ts(moment: datetime | None) -> float | None:
    """An aware datetime as UNIX seconds, the store's time format."""
    return None if moment is None else moment.timestamp()


def dt(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


def ticket_of(row: Sequence[Any]) -> Ticket:
    r = tuple(row)
    return Ticket(
        id=r[0], platform=Platform(r[1]), channel=Channel(r[2]), chat_id=r[3],
        conversation=r[4], citizen_id=r[5], citizen_name=r[6], citizen_link=r[7],
        thread_id=r[8], reply_to=r[9], link=r[10], summary=r[11], status=r[12],
        opened_at=datetime.fromtimestamp(r[13], UTC), waiting_since=dt(r[14]),
        deadline_at=dt(r[15]), first_answer_at=dt(r[16]), last_answer_at=dt(r[17]),
        closed_at=dt(r[18]), escalation_level=r[19], next_escalation_at=dt(r[20]),
        card_chat_id=r[21], card_message_id=r[22], unreachable=r[23],
        interim_at=dt(r[24]), interim_count=r[25], category=r[26], holder_id=r[27],
        holder_name=r[28], incident_id=r[29],
    )


def incident_of(row: Sequence[Any]) -> Incident:
    r = tuple(row)
    return Incident(
        id=r[0], state=r[1], title=r[2], category=r[3],
        created_at=datetime.fromtimestamp(r[4], UTC), confirmed_at=dt(r[5]),
        answered_at=dt(r[6]), closed_at=dt(r[7]), card_chat_id=r[8], card_message_id=r[9],
    )


def attachments_json(items: Sequence[Attachment]) -> str:
    return json.dumps(
        [{"kind": a.kind, "ref": a.ref, "name": a.name, "url": a.url} for a in items],
        ensure_ascii=False,
    )


def message_of(r: Sequence[Any]) -> MessageRecord:
    return MessageRecord(
        ticket_id=r[0], direction=r[1], created_at=datetime.fromtimestamp(r[2], UTC),
        text=r[3], attachments=tuple(Attachment(**a) for a in json.loads(r[4])),
        author=r[5], source_key=r[6], platform_message_id=r[7],
    )
