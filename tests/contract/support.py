"""What the contract tests build their cases from, through the store's interface only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import NewTicket, OutboxItem, Store, Ticket
from storage.values import Channel, Outbound, Platform, Purpose

STAFF = "-1001000000001"
T0 = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)  # Tuesday, 10:00 in Moscow
FAR = datetime(2100, 1, 1, tzinfo=UTC)  # every pending row is due by then


def new_ticket(
    citizen: str = "42", *, platform: Platform = Platform.TELEGRAM,
    opened_at: datetime = T0, deadline_at: datetime | None = T0 + timedelta(hours=8),
    conversation: str | None = None,
) -> NewTicket:
    return NewTicket(
        platform=platform, channel=Channel.DIRECT, chat_id=citizen,
        conversation=conversation or citizen, citizen_id=citizen,
        citizen_name=f"Житель {citizen}", citizen_link=f"tg://user?id={citizen}",
        thread_id=None, reply_to="1", link="", summary=f"вопрос {citizen}",
        opened_at=opened_at, deadline_at=deadline_at,
    )


async def open_ticket(store: Store, new: NewTicket | str = "42") -> Ticket:
    """A ticket created in a transaction of its own (a citizen's id for the usual one)."""
    async with store.transaction() as tx:
        return await tx.create_ticket(new_ticket(new) if isinstance(new, str) else new)


async def ticket(store: Store, ticket_id: int) -> Ticket:
    found = await store.ticket(ticket_id)
    assert found is not None, f"№{ticket_id} is not in the store"
    return found


def to_staff(
    purpose: Purpose, ticket_id: int | None = None, *, refers: tuple[int, ...] = (),
    chat_id: str = STAFF, platform: Platform = Platform.TELEGRAM,
) -> Outbound:
    return Outbound(platform, chat_id, purpose, f"{purpose} №{ticket_id}", html=True,
                    ticket_id=ticket_id, refers=refers)


def to_citizen(purpose: Purpose, ticket: Ticket, text: str = "") -> Outbound:
    return Outbound(ticket.platform, ticket.chat_id, purpose, text or f"{purpose}",
                    ticket_id=ticket.id)


async def enqueue(store: Store, *outbounds: Outbound) -> list[int]:
    async with store.transaction() as tx:
        return [await tx.enqueue(out) for out in outbounds]


async def due(store: Store) -> list[OutboxItem]:
    """Every pending row, whenever it is due."""
    return await store.due_outbox(FAR, 10_000)


async def the_row(store: Store, row_id: int) -> OutboxItem:
    [item] = [i for i in await due(store) if i.id == row_id]
    return item


async def refers_to(
    store: Store, message_id: str, chat_id: str = STAFF, platform: Platform = Platform.TELEGRAM,
) -> list[int]:
    async with store.transaction() as tx:
        return [t.id for t in await tx.ticket_by_ref(platform, chat_id, message_id)]
