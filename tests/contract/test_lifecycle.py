"""Opening and closing a store: new or found again, where it is, what survives a reopening."""

from __future__ import annotations

from storage import MessageRecord
from storage.values import Platform, Purpose
from tests.contract.backends import Backend
from tests.contract.support import T0, due, enqueue, open_ticket, refers_to, ticket, to_staff


async def test_a_new_store_says_it_was_created_and_a_reopened_one_does_not(
    backend: Backend,
) -> None:
    store = backend.make()
    await store.open()
    try:
        assert store.created
    finally:
        await store.close()
    again = backend.make()
    await again.open()
    try:
        assert not again.created
    finally:
        await again.close()


async def test_location_names_the_store_and_never_a_secret(backend: Backend) -> None:
    first, second = backend.make(), backend.make()
    await first.open()
    try:
        where = first.location
    finally:
        await first.close()
    await second.open()
    try:
        assert second.location == where
    finally:
        await second.close()
    assert isinstance(where, str) and backend.where in where
    assert not [secret for secret in backend.secrets if secret in where]


async def test_everything_committed_is_there_after_reopening_and_numbers_go_on(
    backend: Backend,
) -> None:
    store = backend.make()
    await store.open()
    try:
        first, second = await open_ticket(store, "1"), await open_ticket(store, "2")
        async with store.transaction() as tx:
            await tx.add_message(MessageRecord(first.id, "in", T0, "вопрос",
                                               source_key="telegram:1:1"))
            await tx.set_blocked(Platform.TELEGRAM, "9", True)
            await tx.answered(second.id, T0)
        await store.set_state("vk:ts", "42")
        await store.put_inbox("vk", [("vk:1", "{}")])
        card, _pending = await enqueue(store, to_staff(Purpose.CARD, first.id),
                                       to_staff(Purpose.ESCALATION, second.id))
        [sent] = [i for i in await due(store) if i.id == card]
        await store.outbox_sent(sent, ["11"])
        before = [await ticket(store, first.id), await ticket(store, second.id)]
    finally:
        await store.close()

    # The same object opened again, as after a lost connection, and a new one, as at a start.
    for reopened in (store, backend.make()):
        await reopened.open()
        try:
            assert not reopened.created
            assert [await ticket(reopened, t.id) for t in before] == before
            assert [m.text for m in await reopened.messages(first.id)] == ["вопрос"]
            assert await reopened.get_state("vk:ts") == "42"
            assert [i.source for i in await reopened.pending_inbox("vk", 10)] == ["vk:1"]
            assert [i.outbound.purpose for i in await due(reopened)] == [Purpose.ESCALATION]
            assert await refers_to(reopened, "11") == [first.id]
            async with reopened.transaction() as tx:
                state = await tx.intake_state("telegram:1:1", Platform.TELEGRAM, "9", "9")
            assert state.seen and state.blocked
        finally:
            await reopened.close()

    last = backend.make()
    await last.open()
    try:
        newest = await open_ticket(last, "3")
        assert newest.id > second.id  # numbers go on from the old ones, never reused
    finally:
        await last.close()
