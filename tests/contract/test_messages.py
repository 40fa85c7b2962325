"""A ticket's messages: kept once by their source, marked when edited, read back in order."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from storage import MessageRecord, Store
from storage.values import Attachment
from tests.contract.support import T0, open_ticket

M = timedelta(minutes=1)


async def test_messages_come_back_in_order_with_every_field(store: Store) -> None:
    made = await open_ticket(store)
    other = await open_ticket(store, "43")
    records = [
        MessageRecord(made.id, "in", T0, "Во дворе не вывозят мусор", author="Иван Петров",
                      source_key="telegram:42:1", platform_message_id="1"),
        MessageRecord(made.id, "out", T0 + M, "Вывезут завтра", author="Оператор"),
        MessageRecord(made.id, "in", T0 + 2 * M, "", attachments=(
            Attachment("photo", "file-1", "", "https://example.org/1.jpg"),
            Attachment("sticker", "file-2", "😀"),
        ), author="Иван Петров", source_key="telegram:42:2", platform_message_id="2"),
    ]
    async with store.transaction() as tx:
        assert await tx.add_message(records[0])
        assert await tx.add_message(MessageRecord(other.id, "in", T0, "чужое",
                                                  source_key="telegram:43:1"))
        for record in records[1:]:
            assert await tx.add_message(record)
        assert await tx.messages(made.id) == records  # in the transaction, before its commit
    assert await store.messages(made.id) == records
    assert [m.text for m in await store.messages(other.id)] == ["чужое"]
    assert await store.messages(other.id + 1) == []


async def test_add_message_keeps_each_source_key_once(store: Store) -> None:
    made = await open_ticket(store)
    other = await open_ticket(store, "43")
    first = MessageRecord(made.id, "in", T0, "первое", source_key="telegram:42:5")
    async with store.transaction() as tx:
        assert await tx.add_message(first)
    async with store.transaction() as tx:
        assert not await tx.add_message(replace(first, text="ещё раз"))
        assert not await tx.add_message(replace(first, ticket_id=other.id))  # on any ticket
        # Records without a source (staff answers) are each kept.
        assert await tx.add_message(MessageRecord(made.id, "out", T0 + M, "ответ"))
        assert await tx.add_message(MessageRecord(made.id, "out", T0 + M, "ответ"))
    assert [m.text for m in await store.messages(made.id)] == ["первое", "ответ", "ответ"]
    assert await store.messages(other.id) == []


async def test_mark_message_replaces_the_text_of_an_edit_and_keeps_it_otherwise(
    store: Store,
) -> None:
    made = await open_ticket(store)
    async with store.transaction() as tx:
        await tx.add_message(MessageRecord(made.id, "in", T0, "старое",
                                           source_key="telegram:42:1"))
        await tx.add_message(MessageRecord(made.id, "in", T0 + M, "другое",
                                           source_key="telegram:42:2"))
    async with store.transaction() as tx:
        await tx.mark_message("telegram:42:1", edited_at=T0 + 2 * M, text="новое")
    assert [m.text for m in await store.messages(made.id)] == ["новое", "другое"]
    async with store.transaction() as tx:
        await tx.mark_message("telegram:42:1", deleted_at=T0 + 3 * M)  # deleted: text kept
        await tx.mark_message("telegram:42:2", edited_at=T0 + 3 * M)
        await tx.mark_message("telegram:42:404", text="никому")  # no such message
    after = await store.messages(made.id)
    assert [m.text for m in after] == ["новое", "другое"]
    assert [m.created_at for m in after] == [T0, T0 + M]
    assert [m.source_key for m in after] == ["telegram:42:1", "telegram:42:2"]


async def test_ticket_by_message_finds_the_ticket_of_a_source_key(store: Store) -> None:
    made = await open_ticket(store)
    other = await open_ticket(store, "43")
    async with store.transaction() as tx:
        await tx.add_message(MessageRecord(made.id, "in", T0, "a", source_key="telegram:42:1"))
        await tx.add_message(MessageRecord(other.id, "in", T0, "b", source_key="telegram:43:1"))
        assert await tx.ticket_by_message("telegram:42:1") == made  # in the same transaction
    async with store.transaction() as tx:
        await tx.close_ticket(made.id, T0 + M)
    async with store.transaction() as tx:
        found = await tx.ticket_by_message("telegram:42:1")
        assert found is not None and found.id == made.id and not found.is_open
        assert await tx.ticket_by_message("telegram:43:1") == other
        assert await tx.ticket_by_message("telegram:42:2") is None
