"""The export's reads on every store: tickets opened in [start, end), page by page."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from storage import MessageRecord, Store
from storage.auditing import AuditAction, AuditEntry
from tests.contract.support import T0, new_ticket, open_ticket

HOUR = timedelta(hours=1)


async def test_the_span_takes_its_start_and_not_its_end(store: Store) -> None:
    for hours, citizen in ((-1, "1"), (0, "2"), (5, "3"), (10, "4")):
        await open_ticket(store, new_ticket(citizen, opened_at=T0 + hours * HOUR))
    got = [e.ticket.id async for e in store.export_tickets(T0, T0 + 10 * HOUR, personal=False)]
    assert got == [2, 3]
    assert await store.export_count(T0, T0 + 10 * HOUR) == 2
    assert [e async for e in store.export_tickets(T0 + 20 * HOUR, T0 + 30 * HOUR,
                                                  personal=True)] == []
    assert await store.export_count(T0 + 20 * HOUR, T0 + 30 * HOUR) == 0


async def test_pages_bring_every_ticket_once_with_its_rating_and_citizens_texts(
    store: Store,
) -> None:
    for n in range(1, 8):
        ticket = await open_ticket(store, new_ticket(str(n), opened_at=T0 + n * HOUR))
        async with store.transaction() as tx:
            await tx.add_message(MessageRecord(ticket.id, "in", T0, text=f"первое {n}",
                                               source_key=f"k{n}a"))
            await tx.add_message(MessageRecord(ticket.id, "out", T0, text="ответ",
                                               source_key=f"k{n}b"))
            await tx.add_message(MessageRecord(ticket.id, "in", T0, text="",
                                               source_key=f"k{n}c"))  # a photo alone
            await tx.add_message(MessageRecord(ticket.id, "in", T0, text=f"второе {n}",
                                               source_key=f"k{n}d"))
            if n % 3 == 0:
                await tx.close_ticket(ticket.id, T0 + 9 * HOUR)
                await tx.rate(ticket.id, n % 5 + 1, T0 + 10 * HOUR)
    span = (T0, T0 + 10 * HOUR)
    for page in (1, 2, 3, 7, 100):
        got = [e async for e in store.export_tickets(*span, personal=True, page=page)]
        assert [e.ticket.id for e in got] == [1, 2, 3, 4, 5, 6, 7], page
        assert [e.rating for e in got] == [None, None, 4, None, None, 2, None]
        assert [e.texts for e in got] == [(f"первое {n}", f"второе {n}") for n in range(1, 8)]
    bare = [e async for e in store.export_tickets(*span, personal=False, page=2)]
    assert all(e.texts == () for e in bare) and len(bare) == 7


async def test_each_ticket_has_its_audit_trail_read_once_a_page(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(1, 8):
        ticket = await open_ticket(store, new_ticket(str(n), opened_at=T0 + n * HOUR))
        async with store.transaction() as tx:
            for minute in range(n % 3):  # 0, 1 or 2 entries a ticket
                await tx.audit(AuditEntry(
                    at=T0 + n * HOUR + minute * timedelta(minutes=1),
                    action=(AuditAction.ANSWERED, AuditAction.CLOSED)[minute],
                    staff_id=f"70{n}", staff_name=f"Сотрудник {n}", ticket_id=ticket.id,
                ))
    reads: list[list[int]] = []
    trail = store.audit_for_tickets

    async def counted(ticket_ids: Sequence[int]) -> dict[int, list[AuditEntry]]:
        reads.append(list(ticket_ids))
        return await trail(ticket_ids)

    monkeypatch.setattr(store, "audit_for_tickets", counted)
    for personal in (True, False):
        reads.clear()
        got = [e async for e in store.export_tickets(T0, T0 + 10 * HOUR, personal=personal,
                                                     page=3)]
        assert reads == [[1, 2, 3], [4, 5, 6], [7]]  # one read a page, not one a ticket
        assert [[(a.action, a.staff_name, a.ticket_id) for a in e.actions] for e in got] == [
            [(AuditAction.ANSWERED, f"Сотрудник {n}", n),
             (AuditAction.CLOSED, f"Сотрудник {n}", n)][: n % 3] for n in range(1, 8)
        ]
