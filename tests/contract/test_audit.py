"""The audit trail: entries commit with their transaction or not at all, and read back by
ticket, by several tickets and by a time range, in order, with every field as written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage import Store
from storage.auditing import Actor, AuditAction, AuditEntry
from tests.contract.support import FAR, T0, open_ticket

M = timedelta(minutes=1)


class Boom(Exception):
    pass


def entry(ticket_id: int | None, action: AuditAction = AuditAction.ANSWERED, at_minute: int = 0,
          **kw: object) -> AuditEntry:
    values: dict[str, object] = {"staff_id": "7001", "staff_name": "Оля «Ко»", **kw}
    return AuditEntry(at=T0 + at_minute * M, action=action, ticket_id=ticket_id,
                      **values)  # type: ignore[arg-type]


def plain(entries: list[AuditEntry]) -> list[AuditEntry]:
    """The entries without the ids the store gave them."""
    return [AuditEntry(**{f: getattr(e, f) for f in AuditEntry.__slots__ if f != "id"})
            for e in entries]


async def test_an_entry_reads_back_as_written_every_field(store: Store) -> None:
    number = (await open_ticket(store)).id
    written = [
        entry(number, AuditAction.MOVED, 1, detail="housing → -", incident_id=None),
        entry(number, AuditAction.CLOSED, 2, incident_id=3),
        AuditEntry(at=T0 + 3 * M, action=AuditAction.RATED, actor=Actor.CITIZEN,
                   ticket_id=number, detail="2"),
    ]
    async with store.transaction() as tx:
        for one in written:
            await tx.audit(one)
        assert plain(await tx.audit_of_ticket(number)) == written  # seen inside it too
    read = await store.audit_of_ticket(number)
    assert plain(read) == written
    assert [e.id for e in read] == sorted({e.id for e in read}) and read[0].id > 0
    assert read[2].staff_id is None and read[2].staff_name == ""
    assert read[0].at.tzinfo is not None and read[0].at == T0 + M


async def test_a_transaction_that_fails_leaves_no_entry(store: Store) -> None:
    number = (await open_ticket(store)).id
    with pytest.raises(Boom):
        async with store.transaction() as tx:
            await tx.close_ticket(number, T0)
            await tx.audit(entry(number, AuditAction.CLOSED))
            raise Boom
    assert await store.audit_of_ticket(number) == []
    assert [e async for e in store.audit_between(T0 - M, FAR)] == []
    still = await store.ticket(number)
    assert still is not None and still.is_open


async def test_entries_of_several_tickets_come_grouped_each_in_order(store: Store) -> None:
    first, second, third = [(await open_ticket(store, c)).id for c in ("41", "42", "43")]
    async with store.transaction() as tx:
        await tx.audit(entry(second, AuditAction.TAKEN, 0))
        await tx.audit(entry(first, AuditAction.ANSWERED, 1))
        await tx.audit(entry(None, AuditAction.INCIDENT_MERGED, 2, incident_id=1))
        await tx.audit(entry(second, AuditAction.CLOSED, 3))
    found = await store.audit_for_tickets([second, first, third, first, 999])
    assert sorted(found) == [first, second]  # none of their own: not among the keys
    assert [e.action for e in found[second]] == [AuditAction.TAKEN, AuditAction.CLOSED]
    assert [e.action for e in found[first]] == [AuditAction.ANSWERED]
    assert await store.audit_for_tickets([]) == {}


async def test_many_tickets_are_read_in_one_call(store: Store) -> None:
    async with store.transaction() as tx:
        for n in range(1, 1201):  # past the chunk of ids one statement takes
            await tx.audit(entry(n, AuditAction.CLOSED, n % 7))
    found = await store.audit_for_tickets(range(1, 1301))
    assert sorted(found) == list(range(1, 1201))
    assert all(len(v) == 1 and v[0].ticket_id == k for k, v in found.items())


async def test_a_time_range_is_read_in_order_page_by_page(store: Store) -> None:
    async with store.transaction() as tx:
        # Several at the same moment, on either side of a page's end; one before, one at
        # the range's end (left out: the range is half-open).
        for minute in (5, 1, 1, 1, 2, 2, 3, 0, 10):
            await tx.audit(entry(minute, AuditAction.ANSWERED, minute))
    for page in (1, 2, 3, 1000):
        read = [e async for e in store.audit_between(T0 + M, T0 + 10 * M, page=page)]
        assert [e.ticket_id for e in read] == [1, 1, 1, 2, 2, 3, 5], page
        assert [e.id for e in read if e.ticket_id == 1] == sorted(
            e.id for e in read if e.ticket_id == 1)
    assert [e async for e in store.audit_between(T0 + 11 * M, FAR)] == []
