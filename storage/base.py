"""The ticket store's interface: what the front desk, the adapters and the scheduler may ask."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from storage.auditing import AuditEntry
from storage.figures import DeskFigures
from storage.values import Attachment, Channel, Outbound, Platform

# How many updates were finished as unreadable since staff were last told (a count).
UNREADABLE_UNTOLD = "inbox:unreadable-untold"


class StoreError(Exception):
    """The store cannot be opened or used as configured."""


class HandledElsewhere(StoreError):
    """The update a transaction handles was finished by another desk meanwhile (several
    desks on one PostgreSQL store, at a handover): its handling is rolled back, and that is
    all there is to do."""


@dataclass(frozen=True, slots=True)
class Ticket:
    """One citizen's conversation with the desk, numbered `№<id>`."""

    id: int
    platform: Platform
    channel: Channel
    chat_id: str
    conversation: str
    citizen_id: str
    citizen_name: str
    citizen_link: str
    thread_id: str | None
    reply_to: str | None
    link: str
    summary: str
    status: str
    opened_at: datetime
    waiting_since: datetime | None
    deadline_at: datetime | None
    first_answer_at: datetime | None
    last_answer_at: datetime | None
    closed_at: datetime | None
    escalation_level: int
    next_escalation_at: datetime | None
    card_chat_id: str | None
    card_message_id: str | None
    unreachable: str | None
    interim_at: datetime | None = None  # when staff last gave an interim answer
    interim_count: int = 0
    category: str | None = None  # the department's key; None: the staff chat's own
    holder_id: str | None = None  # who took it («Взять»): a staff member's platform id
    holder_name: str | None = None
    incident_id: int | None = None  # the incident it belongs to: suggested, open or closed

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def anonymized(self) -> bool:
        """Its citizen's data removed (retention, /forget): no chat is left to answer in."""
        return not self.chat_id


@dataclass(frozen=True, slots=True)
class Incident:
    """One problem many citizens wrote about, numbered `№И-<id>`."""

    id: int
    state: str  # suggested, open, dismissed, closed
    title: str
    category: str | None
    created_at: datetime
    confirmed_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    card_chat_id: str | None
    card_message_id: str | None

    @property
    def is_live(self) -> bool:
        """Suggested or open: new tickets may still join it."""
        return self.state in ("suggested", "open")


@dataclass(frozen=True, slots=True)
class NewTicket:
    """What a ticket starts with."""

    platform: Platform
    channel: Channel
    chat_id: str
    conversation: str
    citizen_id: str
    citizen_name: str
    citizen_link: str
    thread_id: str | None
    reply_to: str | None
    link: str
    summary: str
    opened_at: datetime
    deadline_at: datetime | None
    category: str | None = None  # the department it is routed to


@dataclass(frozen=True, slots=True)
class MessageRecord:
    """A message on a ticket, in either direction."""

    ticket_id: int
    direction: str  # "in" from the citizen, "out" from staff
    created_at: datetime
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    author: str = ""
    source_key: str | None = None
    platform_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class InboxItem:
    """An update stored before the platform was told it was handled."""

    id: int
    platform: str
    source: str
    payload: str
    attempts: int = 0  # tries that failed so far


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """A message waiting for the sender."""

    id: int
    outbound: Outbound
    attempts: int
    created_at: datetime
    sent: tuple[str, ...] = ()  # message ids of the parts delivered by earlier attempts


@dataclass(frozen=True, slots=True)
class IntakeState:
    """What a citizen's new message meets in the store."""

    seen: bool  # this very message is on a ticket already
    blocked: bool
    ticket: Ticket | None  # the open ticket of its conversation


class Transaction(Protocol):
    """Reads and writes that commit together or not at all."""

    async def ticket(self, ticket_id: int) -> Ticket | None: ...
    async def ticket_by_ref(
        self, platform: Platform, chat_id: str, message_id: str
    ) -> list[Ticket]: ...
    async def ticket_by_message(self, source_key: str) -> Ticket | None: ...
    async def intake_state(
        self, source_key: str, platform: Platform, conversation: str, citizen_id: str
    ) -> IntakeState: ...
    async def create_ticket(self, new: NewTicket) -> Ticket: ...
    # what happens to a ticket, each in words of the desk rather than of columns
    async def citizen_wrote(
        self, ticket_id: int, message_id: str, *, waits: tuple[datetime, datetime] | None = None
    ) -> None:
        """A follow-up: replies go under it; with `waits` (since, deadline) it waits again."""
        ...
    async def answered(self, ticket_id: int, at: datetime) -> None:
        """Staff answered: nothing waits on them, the first answer is kept."""
        ...
    async def interim(self, ticket_id: int, at: datetime, deadline: datetime) -> None:
        """An interim answer: a new deadline the escalation follows; the final answer is owed."""
        ...
    async def close_ticket(self, ticket_id: int, at: datetime) -> None: ...
    async def take(self, ticket_id: int, holder_id: str, holder_name: str) -> None:
        """A staff member took the ticket; a later take by another replaces them."""
        ...
    async def set_category(self, ticket_id: int, category: str | None) -> None: ...
    async def rate(self, ticket_id: int, score: int, at: datetime) -> int | None:
        """The citizen's rating of the answer; the one it replaced, or None for a first."""
        ...
    async def set_unreachable(self, ticket_id: int, reason: str | None) -> None: ...
    async def messages(self, ticket_id: int) -> list[MessageRecord]:
        """A ticket's messages, both directions, in order."""
        ...
    async def add_message(self, record: MessageRecord) -> bool: ...
    async def mark_message(
        self, source_key: str, *, edited_at: datetime | None = None,
        deleted_at: datetime | None = None, text: str | None = None,
    ) -> None: ...
    async def enqueue(self, outbound: Outbound, not_before: datetime | None = None) -> int: ...
    async def enqueue_many(self, outbounds: Sequence[Outbound]) -> None: ...
    def after_commit(self, call: Callable[[], None]) -> None:
        """Call `call` once this transaction has committed, never if it rolls back (what is
        counted for /metrics counts what the store kept)."""
        ...
    async def due_escalations(self, now: datetime, limit: int) -> list[Ticket]: ...
    async def set_escalations(
        self, steps: Sequence[tuple[int, int, datetime | None]]
    ) -> None: ...
    async def finish_inbox(self, inbox_id: int, error: str | None = None) -> None: ...
    async def set_blocked(self, platform: Platform, citizen_id: str, blocked: bool) -> None: ...

    # escalation: the queue and the digest's once-a-day mark
    async def waiting_tickets(self, limit: int) -> list[Ticket]: ...
    async def waiting_count(self) -> int: ...

    # a citizen's own: /status
    async def citizen_tickets(
        self, platform: Platform, citizen_id: str, limit: int
    ) -> list[Ticket]:
        """The citizen's open tickets on that platform, newest (highest number) first."""
        ...
    async def citizen_open_count(self, platform: Platform, citizen_id: str) -> int:
        """How many open tickets the citizen has on that platform."""
        ...

    async def get_state(self, key: str) -> str | None: ...
    async def set_state(self, key: str, value: str) -> None: ...

    # incidents: one problem, many reporters
    async def create_incident(
        self, title: str, category: str | None, ticket_ids: Sequence[int], at: datetime
    ) -> Incident:
        """A suggested incident of these tickets: those in no other incident and not set
        apart by staff join it."""
        ...
    async def incident(self, incident_id: int) -> Incident | None: ...
    async def incident_by_ref(
        self, platform: Platform, chat_id: str, message_id: str
    ) -> Incident | None: ...
    async def incident_tickets(self, incident_id: int) -> list[Ticket]:
        """Its tickets, lowest number first."""
        ...
    async def set_incident_state(self, incident_id: int, state: str, at: datetime) -> None:
        """open (confirmed), closed, or dismissed: then its tickets leave it and are set
        apart."""
        ...
    async def incident_answered(self, incident_id: int, at: datetime) -> None: ...
    async def set_incident_title(self, incident_id: int, title: str) -> None: ...
    async def join_incident(self, ticket_id: int, incident_id: int | None) -> None:
        """The ticket joins the incident; None takes it out of its one and sets it apart."""
        ...
    async def live_incidents(self) -> list[Incident]:
        """Suggested and open incidents, oldest first."""
        ...
    async def incident_reporters(
        self, incident_id: int, shown: int
    ) -> tuple[dict[str, int], list[int]]:
        """Its tickets counted by platform ("telegram": 30, …) and the numbers of the first
        `shown` of them: what its card says, without reading them all."""
        ...
    async def incident_answer_rows(self, incident_id: int, since: int) -> tuple[int, int, int]:
        """The answers to an incident's reporters from outbox row `since` on: how many in
        all, sent, and given up."""
        ...
    async def supersede_card_edits(self, incident_id: int) -> int:
        """The edits of an incident's card not yet sent are done without a request (a newer
        edit, enqueued next in this transaction, says all they would); how many."""
        ...
    async def tickets(self, ticket_ids: Sequence[int]) -> list[Ticket]:
        """These tickets, in one read; those not in the store left out."""
        ...
    async def apart(self, ticket_ids: Sequence[int]) -> set[int]:
        """Which of these tickets staff set apart from incidents."""
        ...
    async def waiting_incidents(self) -> list[tuple[Incident, int, datetime]]:
        """Open incidents with tickets waiting on staff, each with how many wait and since
        when the longest has; the longest waiting first."""
        ...
    async def waiting_outside_incidents(self, limit: int) -> list[Ticket]:
        """Waiting tickets in no open incident, oldest first, as `waiting_tickets`: those of
        a suggested or closed one included."""
        ...

    # audit trail (storage/sql/audit.py): staff actions, each written with what it records
    async def audit(self, entry: AuditEntry) -> None:
        """An entry of the audit trail, committed with the action it records or not at all."""
        ...
    async def audit_of_ticket(self, ticket_id: int) -> list[AuditEntry]:
        """A ticket's entries, oldest first."""
        ...

    # personal data (storage/sql/retention.py): retention and a citizen's /forget, 152-FZ.
    # Anonymized: texts, names, profile links, platform ids and files gone, figures kept.
    async def anonymize_closed(self, before: datetime, at: datetime, limit: int) -> list[int]:
        """At most `limit` tickets closed before `before`, oldest first, anonymized; their
        numbers (none left: an empty list)."""
        ...
    async def anonymize(self, ticket_ids: Sequence[int], at: datetime) -> list[int]:
        """Those of these tickets that are closed and not anonymized yet, anonymized with
        their messages and their outbox rows no longer pending; their numbers."""
        ...
    async def prune_inbox(self, before: datetime, limit: int) -> int:
        """At most `limit` handled updates received before then lose their raw payload (the
        source key stays, so a repeat is still stored once); how many."""
        ...
    async def prune_outbox(self, before: datetime, limit: int) -> int:
        """At most `limit` rows sent or given up before then lose their payload (and, sent to
        a citizen, the citizen's chat); how many."""
        ...
    async def drop_citizens(self, limit: int) -> int:
        """Citizens' rows no longer needed (not blocked, no forgetting pending) removed."""
        ...
    async def drop_claims(self, before: datetime) -> int:
        """Desks' claims on chats (several desks on PostgreSQL) that ran out before then
        removed: a claim names a chat, a citizen's maybe; how many."""
        ...
    async def forget_citizen(
        self, platform: Platform, citizen_id: str, at: datetime
    ) -> tuple[list[int], list[int]]:
        """The citizen asked to be forgotten: their closed tickets anonymized now, and the
        handled raw updates carrying their id pruned; (anonymized, still open) numbers. The
        open ones are anonymized when they close (`forget_on_close`)."""
        ...
    async def personal_tickets(
        self, platform: Platform, citizen_id: str
    ) -> tuple[list[int], list[int]]:
        """The citizen's tickets on that platform not anonymized yet: (closed, open)."""
        ...
    async def forget_asked(self, platform: Platform, citizen_id: str) -> datetime | None:
        """When the citizen last asked to be forgotten, if their row is still kept."""
        ...
    async def forget_on_close(self, ticket_id: int, at: datetime) -> bool:
        """Just closed: anonymized if its citizen asked to be forgotten after it opened."""
        ...


class Store(Protocol):
    """The ticket store: SQLite by default; one interface for every backend.

    Inside `transaction()` use only the transaction: the store's own methods wait for the
    transaction to end (SQLite has one writer), so calling one there never returns.
    `tests/contract/` holds the promises every implementation keeps.
    """

    # Set after every transaction that may have added outbox rows: the sender looks again.
    changed: asyncio.Event

    @property
    def created(self) -> bool:
        """Whether open() found no schema and made a new store: numbering starts at №1."""
        ...

    @property
    def location(self) -> str:
        """Where the store is, for the log and the staff notice (never a password)."""
        ...

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    # intake
    async def put_inbox(self, platform: str, items: Sequence[tuple[str, str]]) -> int: ...
    async def pending_inbox(
        self, platform: str, limit: int, now: datetime | None = None
    ) -> list[InboxItem]: ...
    async def finish_inbox_many(self, ids: Sequence[int], errors: Mapping[int, str]) -> None: ...
    async def inbox_retry(self, inbox_id: int, not_before: datetime, error: str) -> None: ...
    async def inbox_set_aside(self, inbox_id: int, error: str) -> None: ...
    async def set_aside_inbox(self) -> tuple[int, str | None]: ...
    async def retry_set_aside(self) -> int: ...

    # delivery
    async def due_outbox(
        self, now: datetime, limit: int, exclude: Sequence[int] = (),
        skip_chats: Sequence[tuple[str, str]] = (),
    ) -> list[OutboxItem]: ...
    async def due_group_outbox(
        self, now: datetime, limit: int, exclude: Sequence[int] = (),
        skip_chats: Sequence[tuple[str, str]] = (), skip_topics: Sequence[tuple[str, int]] = (),
    ) -> list[OutboxItem]:
        """Due rows for Telegram groups (the staff side) in id order, but for rows, chats
        and (chat, forum topic) pairs under way: read apart, so a backlog of citizens'
        rows never holds them."""
        ...
    async def next_outbox_at(self) -> datetime | None: ...
    async def outbox_sent(self, item: OutboxItem, message_ids: Sequence[str]) -> None: ...
    async def outbox_sent_many(
        self, items: Sequence[OutboxItem], message_ids: Sequence[str]
    ) -> None: ...
    async def outbox_retry(
        self, item: OutboxItem, not_before: datetime, error: str, sent: Sequence[str] = ()
    ) -> None: ...
    async def outbox_failed(
        self, item: OutboxItem, error: str, sent: Sequence[str] = ()
    ) -> None: ...

    # reads
    async def ticket(self, ticket_id: int) -> Ticket | None: ...
    async def incident(self, incident_id: int) -> Incident | None:
        """An incident as the store has it now (outside any transaction)."""
        ...
    async def messages(self, ticket_id: int) -> list[MessageRecord]: ...
    async def due_escalations(self, now: datetime, limit: int) -> list[Ticket]: ...
    async def tickets_between(self, start: datetime, end: datetime) -> list[Ticket]:
        """Tickets opened, first answered, or last given an interim answer in [start, end)."""
        ...
    async def open_tickets(self) -> list[Ticket]: ...
    async def recent_reports(self, since: datetime, limit: int) -> list[tuple[Ticket, str]]:
        """Open tickets opened since then, newest first, with their first message's text:
        what incident detection remembers across a restart."""
        ...
    async def ratings_between(
        self, start: datetime, end: datetime
    ) -> list[tuple[str | None, int]]:
        """(department, score) of the ratings given or changed in [start, end)."""
        ...
    async def incidents_between(
        self, start: datetime, end: datetime
    ) -> list[tuple[Incident, int, int, datetime]]:
        """Incidents open at any time in [start, end), those closed in it included, lowest
        number first; each with its Telegram and VK tickets and when the first was opened.
        Suggested and dismissed ones are not among them, nor one without tickets."""
        ...

    # small named values: polling positions and the like
    async def get_state(self, key: str) -> str | None: ...
    async def set_state(self, key: str, value: str) -> None: ...

    # several desks on one store (PostgreSQL); on SQLite one desk has the store to itself
    async def lead(self, role: str) -> bool:
        """Whether this desk has `role` now ("poll:telegram", "poll:vk", "inbox",
        "scheduler"), taking it if no other desk has it. A desk whose process ends loses its
        roles at once; one whose machine vanishes, when the server notices (seconds)."""
        ...
    async def resign(self, role: str) -> None:
        """This desk no longer does what `role` is for (it is stopping): another may."""
        ...
    async def heartbeat(self) -> int:
        """This desk is alive; how many desks use the store now, this one included."""
        ...
    def arrivals(self, platform: str) -> asyncio.Event:
        """Set when updates of `platform` were stored, by this desk or (PostgreSQL) another:
        the desk that handles the inbox looks at once."""
        ...

    # audit trail (storage/sql/audit.py): reads for `/audit` and the export
    async def audit_of_ticket(self, ticket_id: int) -> list[AuditEntry]:
        """A ticket's entries, oldest first."""
        ...
    async def audit_for_tickets(
        self, ticket_ids: Sequence[int]
    ) -> dict[int, list[AuditEntry]]:
        """The entries of these tickets, each ticket's oldest first; a ticket without
        entries is not among the keys."""
        ...
    def audit_between(
        self, start: datetime, end: datetime, page: int = 1000
    ) -> AsyncIterator[AuditEntry]:
        """Every entry made in [start, end), in time order, read `page` at a time."""
        ...

    # operations (storage/sql/figures.py): what /metrics and /healthz read
    async def figures(self, now: datetime) -> DeskFigures:
        """Open and overdue tickets (waiting on staff past their deadline at `now`), and the
        outbox's and the inbox's pending rows with the oldest of each, in one cheap read."""
        ...
    async def ping(self) -> None:
        """Return if the store answers a read (its file still there, on SQLite); raise if not."""
        ...

    # export (storage/sql/export.py): `python -m bot export`, streamed
    async def export_count(self, start: datetime, end: datetime) -> int:
        """How many tickets were opened in [start, end)."""
        ...
    def export_tickets(
        self, start: datetime, end: datetime, *, personal: bool, page: int = 500
    ) -> AsyncIterator[ExportedTicket]:
        """The tickets opened in [start, end), lowest number first, read `page` at a time by
        number, each with its audit trail; with `personal`, with its citizen's texts too."""
        ...


@dataclass(frozen=True, slots=True)
class ExportedTicket:
    """A ticket as the export reads it: with its rating, its audit trail and, asked for, the
    citizen's texts."""

    ticket: Ticket
    rating: int | None  # the citizen's score, 1-5; None: not rated
    texts: tuple[str, ...] = ()  # the citizen's messages in order, those with text
    actions: tuple[AuditEntry, ...] = ()  # the ticket's audit trail, oldest first
