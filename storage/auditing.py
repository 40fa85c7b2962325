"""The audit trail's values: who on the staff did what to which ticket or incident, and when.

An entry names a staff member acting in their job (their Telegram user id and name as the
desk knew them then) and never quotes a citizen: it outlives the anonymization of old tickets.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class AuditAction(StrEnum):
    """What was done: a short fixed vocabulary, the same in the store and the export."""

    ANSWERED = "answered"  # an answer relayed to the citizen (a template's too)
    CORRECTED = "corrected"  # an answer already sent, edited: the correction went
    INTERIM = "interim"  # an interim answer; detail: the working days given
    CLOSED = "closed"
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"
    MOVED = "moved"  # another department; detail: "from → to" (department keys, "-": none)
    TAKEN = "taken"  # «Взять»; detail: the holder it was taken from, if any
    JOINED = "joined"  # `/join`: the ticket joined an open incident
    TAKEN_OUT = "taken_out"  # «Это другое», `/apart 17`: the ticket left its incident
    RATED = "rated"  # the citizen's rating; detail: the score (the actor is the citizen)
    INCIDENT_MERGED = "incident_merged"  # «Объединить»: a suggestion confirmed
    INCIDENT_DISMISSED = "incident_dismissed"  # «Это разные»
    INCIDENT_TITLED = "incident_titled"  # `/title`
    INCIDENT_ANSWERED = "incident_answered"  # one answer to every reporter; detail: how many
    INCIDENT_CLOSED = "incident_closed"  # every ticket of it closed; detail: how many


class Actor(StrEnum):
    """Who acted: a staff member, or the citizen (a rating)."""

    STAFF = "staff"
    CITIZEN = "citizen"


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit trail; `id` is the store's, 0 before it is written."""

    at: datetime  # aware, UTC
    action: AuditAction
    actor: Actor = Actor.STAFF
    staff_id: str | None = None  # the Telegram user id (an anonymous admin: the chat's)
    staff_name: str = ""
    ticket_id: int | None = None
    incident_id: int | None = None
    detail: str = ""  # short and fixed in form: never a citizen's text
    id: int = 0
