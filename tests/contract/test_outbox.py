"""The outbox: rows due in order, what the sender skips, and what a delivered row records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import Store
from storage.values import (
    TICKET_REFS,
    TO_CITIZEN,
    Attachment,
    Channel,
    Outbound,
    Platform,
    Purpose,
)
from tests.contract.support import (
    FAR,
    STAFF,
    due,
    enqueue,
    open_ticket,
    refers_to,
    the_row,
    ticket,
    to_citizen,
    to_staff,
)

# A backlog under way longer than five times what the sender asks for: a store that first
# looks at a window of the oldest rows (SQLite: four times the limit) must look past it.
BACKLOG, LIMIT = 1050, 200


def note(chat: str, text: str, platform: Platform = Platform.TELEGRAM) -> Outbound:
    return Outbound(platform, chat, Purpose.NOTICE, text)


async def test_enqueued_messages_come_due_at_once_in_the_order_they_were_written(
    store: Store,
) -> None:
    before = datetime.now(UTC)
    async with store.transaction() as tx:
        first = await tx.enqueue(note("42", "a"))
        await tx.enqueue_many([note(STAFF, "b"), note("7", "c", Platform.VK)])
        await tx.enqueue_many([])
        last = await tx.enqueue(note("42", "d"))
    async with store.transaction() as tx:
        await tx.enqueue_many([note(STAFF, "e")])
    after = datetime.now(UTC)
    items = await store.due_outbox(after, 100)
    assert [i.outbound.text for i in items] == ["a", "b", "c", "d", "e"]
    assert [i.id for i in items] == sorted({i.id for i in items})
    assert (items[0].id, items[3].id) == (first, last)
    assert [(i.attempts, i.sent) for i in items] == [(0, ())] * 5
    slack = timedelta(seconds=1)
    assert all(before - slack <= i.created_at <= after + slack for i in items)
    assert [i.id for i in await store.due_outbox(after, 2)] == [items[0].id, items[1].id]


async def test_an_outbound_comes_back_from_the_outbox_with_every_field(store: Store) -> None:
    original = Outbound(
        platform=Platform.VK, chat_id="-1_2", purpose=Purpose.ANSWER, text="ответ <b>&</b>",
        html=True, ticket_id=7, channel=Channel.COMMENT, reply_to="9", reply_to_card=True,
        thread_id="2", copy_from=("1", "2"),
        attachments=(Attachment("photo", "f", "n", "u"), Attachment("doc", "g")),
        refers=(3, 4),
    )
    plain = Outbound(Platform.TELEGRAM, "42", Purpose.ACK, "Ваше сообщение №1 получено.")
    async with store.transaction() as tx:
        await tx.enqueue(original)
        await tx.enqueue_many([original, plain])
    assert [i.outbound for i in await due(store)] == [original, original, plain]


async def test_a_message_not_before_a_moment_is_not_due_until_then(store: Store) -> None:
    assert await store.next_outbox_at() is None
    now = datetime.now(UTC)
    later = now + timedelta(hours=1)
    async with store.transaction() as tx:
        late = await tx.enqueue(note("42", "потом"), not_before=later)
    assert await store.next_outbox_at() == later
    assert await store.due_outbox(now, 10) == []
    assert [i.id for i in await store.due_outbox(later, 10)] == [late]
    [soon] = await enqueue(store, note("43", "сейчас"))
    next_at = await store.next_outbox_at()
    assert next_at is not None and now <= next_at <= datetime.now(UTC)
    assert [i.id for i in await store.due_outbox(datetime.now(UTC), 10)] == [soon]
    assert [i.id for i in await store.due_outbox(later, 10)] == [late, soon]  # written order


async def test_due_outbox_leaves_out_rows_under_way_and_chats_skipped(store: Store) -> None:
    ids = await enqueue(
        store, note(STAFF, "staff 1"), note("42", "citizen 42"),
        note(STAFF, "vk chat of the same id", Platform.VK), note(STAFF, "staff 2"),
        note("43", "citizen 43"),
    )
    staff1, c42, vk_staff, staff2, c43 = ids
    assert [i.id for i in await store.due_outbox(FAR, 10, exclude=[c42, staff2])] == [
        staff1, vk_staff, c43]
    skip = [("telegram", STAFF)]
    assert [i.id for i in await store.due_outbox(FAR, 10, skip_chats=skip)] == [
        c42, vk_staff, c43]
    assert [i.id for i in await store.due_outbox(FAR, 2, exclude=[c42], skip_chats=skip)] == [
        vk_staff, c43]
    assert [i.id for i in await store.due_outbox(
        FAR, 10, skip_chats=[("telegram", "42"), ("vk", STAFF)])] == [staff1, staff2, c43]


async def test_due_rows_of_other_chats_come_in_id_order_past_a_backlog_under_way(
    store: Store,
) -> None:
    """The staff chat's backlog is older than all the rest and longer than any first look."""
    def row(platform: Platform, chat: str, n: int) -> Outbound:
        return Outbound(platform, chat, Purpose.NOTICE, text=f"№{n}")

    async with store.transaction() as tx:
        await tx.enqueue_many([row(Platform.TELEGRAM, STAFF, n) for n in range(BACKLOG)])
        await tx.enqueue_many([
            row(platform, chat, n)
            for n in range(30)
            for platform, chat in ((Platform.TELEGRAM, str(500 + n % 3)), (Platform.VK, "77"),
                                   (Platform.TELEGRAM, STAFF))
        ])
    everything = await due(store)
    assert len(everything) == BACKLOG + 90
    skip = [("telegram", STAFF), ("telegram", "501")]
    expected = [i.id for i in everything
                if (i.outbound.platform.value, i.outbound.chat_id) not in skip]
    got = await store.due_outbox(FAR, LIMIT, skip_chats=skip)
    assert [i.id for i in got] == expected  # 20 private, 30 VK, in id order
    assert len(expected) == 50
    # Rows in flight are left out too, and the limit holds.
    got = await store.due_outbox(FAR, 5, exclude=expected[:3], skip_chats=skip)
    assert [i.id for i in got] == expected[3:8]


async def test_the_groups_rows_are_read_apart_past_any_backlog_of_citizens(
    store: Store,
) -> None:
    """A thousand citizens' rows first, then a card in the staff chat and a reply in a
    discussion group: the groups' question reads just those, in id order."""
    discussion = "-1001000000777"
    async with store.transaction() as tx:
        await tx.enqueue_many([note(str(500 + n), f"№{n}") for n in range(BACKLOG)])
        await tx.enqueue_many([note("-5", "vk chat", Platform.VK), note("43", "citizen")])
    staff1, later, talk, staff2 = await enqueue(
        store, note(STAFF, "card 1"), note(STAFF, "card 2", ), note(discussion, "reply"),
        note(STAFF, "card 3"),
    )
    async with store.transaction() as tx:
        held = await tx.enqueue(note(STAFF, "not yet"), not_before=FAR + timedelta(days=1))
    assert [i.id for i in await store.due_group_outbox(FAR, 10)] == [staff1, later, talk, staff2]
    assert held not in [i.id for i in await store.due_group_outbox(FAR, 10)]
    assert [i.id for i in await store.due_group_outbox(FAR, 2)] == [staff1, later]
    assert [i.id for i in await store.due_group_outbox(FAR, 10, exclude=[staff1, talk])] == [
        later, staff2]
    assert [i.id for i in await store.due_group_outbox(
        FAR, 10, skip_chats=[("telegram", STAFF), ("telegram", "500")])] == [talk]
    assert [i.id for i in await store.due_group_outbox(
        FAR, 10, skip_chats=[("telegram", discussion), ("vk", STAFF)])] == [
        staff1, later, staff2]


async def test_the_groups_rows_of_a_forum_topic_under_way_wait(store: Store) -> None:
    busy = [Outbound(Platform.TELEGRAM, STAFF, Purpose.CARD, f"busy {n}", topic=1)
            for n in range(20)]
    free = Outbound(Platform.TELEGRAM, STAFF, Purpose.CARD, "free", topic=2)
    general = Outbound(Platform.TELEGRAM, STAFF, Purpose.CARD, "general")
    ids = await enqueue(store, *busy, free, general)
    assert [i.id for i in await store.due_group_outbox(
        FAR, 2, skip_topics=[(STAFF, 1)])] == ids[-2:]
    assert [i.id for i in await store.due_group_outbox(FAR, 2)] == ids[:2]


async def test_a_sent_row_is_due_no_more(store: Store) -> None:
    first, second = await enqueue(store, note("42", "a"), note("42", "b"))
    await store.outbox_sent(await the_row(store, first), ["100"])
    assert [i.id for i in await due(store)] == [second]
    await store.outbox_sent(await the_row(store, second), ["101", "102"])
    assert await due(store) == []
    assert await store.next_outbox_at() is None


async def test_sent_messages_naming_their_ticket_are_references_to_it(store: Store) -> None:
    made = await open_ticket(store)
    purposes = sorted(TICKET_REFS)
    await enqueue(store, *(to_staff(p, made.id) for p in purposes))
    for n, item in enumerate(await due(store)):
        await store.outbox_sent(item, [f"{n}01", f"{n}02"])  # a message sent in two parts
    for n, purpose in enumerate(purposes):
        assert await refers_to(store, f"{n}01") == [made.id], purpose
        assert await refers_to(store, f"{n}02") == [made.id], purpose
    # A reference is a message in its chat on its platform.
    assert await refers_to(store, "001", chat_id="42") == []
    assert await refers_to(store, "001", platform=Platform.VK) == []
    assert await refers_to(store, "999") == []


async def test_messages_for_other_purposes_refer_to_nothing(store: Store) -> None:
    made = await open_ticket(store)
    others = [p for p in Purpose if p not in TICKET_REFS]
    await enqueue(store, *(to_staff(p, made.id) for p in others),
                  *(to_citizen(p, made) for p in others))
    for n, item in enumerate(await due(store)):
        await store.outbox_sent(item, [str(n)])
    for n in range(len(others)):
        assert await refers_to(store, str(n)) == [], others[n]
        assert await refers_to(store, str(len(others) + n), chat_id=made.chat_id) == []
    assert await ticket(store, made.id) == made  # nor a card


async def test_a_message_naming_several_tickets_refers_to_each(store: Store) -> None:
    first, second, third = [await open_ticket(store, str(n)) for n in (1, 2, 3)]
    await enqueue(
        store,
        to_staff(Purpose.DIGEST, refers=(second.id, first.id)),
        to_staff(Purpose.CARD, third.id, refers=(first.id,)),
        to_staff(Purpose.NOTICE, third.id, refers=(second.id,)),  # its own ticket: no
    )
    digest, card, notice = await due(store)
    await store.outbox_sent(digest, ["9000"])
    await store.outbox_sent(card, ["9001"])
    await store.outbox_sent(notice, ["9002"])
    assert await refers_to(store, "9000") == [first.id, second.id]  # by number
    assert await refers_to(store, "9001") == [first.id, third.id]
    assert await refers_to(store, "9002") == [second.id]


async def test_the_latest_card_is_kept_on_the_ticket_by_its_last_part(store: Store) -> None:
    made = await open_ticket(store)
    [follow_up] = await enqueue(store, to_staff(Purpose.FOLLOW_UP, made.id))
    await store.outbox_sent(await the_row(store, follow_up), ["10"])
    assert (await ticket(store, made.id)).card_message_id is None  # not a card
    [card] = await enqueue(store, to_staff(Purpose.CARD, made.id))
    # Sent in parts over two tries: the buttons are under the last part.
    await store.outbox_retry(await the_row(store, card), FAR, "timeout", ["11"])
    assert (await ticket(store, made.id)).card_message_id == "11"
    await store.outbox_sent(await the_row(store, card), ["12"])
    kept = await ticket(store, made.id)
    assert (kept.card_chat_id, kept.card_message_id) == (STAFF, "12")
    # A card posted anew (a move to another department) is the ticket's card from then on.
    [again] = await enqueue(store, to_staff(Purpose.CARD, made.id, chat_id="-100999"))
    await store.outbox_sent(await the_row(store, again), ["20"])
    after = await ticket(store, made.id)
    assert (after.card_chat_id, after.card_message_id) == ("-100999", "20")
    assert await refers_to(store, "11") == [made.id]  # the old card still reaches it


async def test_rows_merged_into_one_message_each_refer_to_their_ticket(store: Store) -> None:
    first, second = await open_ticket(store, "1"), await open_ticket(store, "2")
    await enqueue(store, to_staff(Purpose.CARD, first.id), to_staff(Purpose.CARD, second.id),
                  to_staff(Purpose.FOLLOW_UP, first.id), to_staff(Purpose.NOTICE))
    rows = await due(store)
    await store.outbox_sent_many(rows, ["7000", "7001"])  # one message, in two parts
    assert await due(store) == []
    for part in ("7000", "7001"):
        assert await refers_to(store, part) == [first.id, second.id]
    for made in (first, second):
        carded = await ticket(store, made.id)
        # The last part: the one buttons are under, had it any.
        assert (carded.card_chat_id, carded.card_message_id) == (STAFF, "7001")


async def test_a_message_delivered_to_the_citizen_clears_unreachable(store: Store) -> None:
    reached = [await open_ticket(store, str(n)) for n, _ in enumerate(sorted(TO_CITIZEN))]
    staff_side = await open_ticket(store, "100")
    failed = await open_ticket(store, "101")
    async with store.transaction() as tx:
        for made in (*reached, staff_side, failed):
            await tx.set_unreachable(made.id, "Forbidden: bot was blocked by the user")
    await enqueue(store, *(to_citizen(p, made) for p, made in
                           zip(sorted(TO_CITIZEN), reached, strict=True)))
    await enqueue(store, *(to_staff(p, staff_side.id) for p in Purpose if p not in TO_CITIZEN))
    [lost] = await enqueue(store, to_citizen(Purpose.ANSWER, failed))
    for item in await due(store):
        if item.id == lost:
            await store.outbox_failed(item, "Forbidden: bot was blocked by the user")
        else:
            await store.outbox_sent(item, [str(item.id)])
    for made in reached:
        assert (await ticket(store, made.id)).unreachable is None
    for made in (staff_side, failed):
        assert (await ticket(store, made.id)).unreachable == (
            "Forbidden: bot was blocked by the user")


async def test_merged_rows_delivered_to_citizens_clear_unreachable(store: Store) -> None:
    first, second = await open_ticket(store, "1"), await open_ticket(store, "2")
    async with store.transaction() as tx:
        await tx.set_unreachable(first.id, "timeout")
        await tx.set_unreachable(second.id, "timeout")
    await enqueue(store, Outbound(Platform.TELEGRAM, "-100777", Purpose.ANSWER, "a",
                                  ticket_id=first.id),
                  Outbound(Platform.TELEGRAM, "-100777", Purpose.CLOSING, "b",
                           ticket_id=second.id))
    await store.outbox_sent_many(await due(store), ["55"])
    assert (await ticket(store, first.id)).unreachable is None
    assert (await ticket(store, second.id)).unreachable is None


async def test_a_retry_keeps_the_parts_already_sent_and_refers_to_them_at_once(
    store: Store,
) -> None:
    made = await open_ticket(store)
    [card_id] = await enqueue(store, to_staff(Purpose.CARD, made.id))
    card = await the_row(store, card_id)
    soon = datetime.now(UTC) + timedelta(minutes=5)
    await store.outbox_retry(card, soon, "429 too many requests", ["7001"])
    assert await refers_to(store, "7001") == [made.id]
    assert (await ticket(store, made.id)).card_message_id == "7001"
    assert await store.due_outbox(datetime.now(UTC), 10) == []
    assert await store.next_outbox_at() == soon
    [again] = await store.due_outbox(soon, 10)
    assert (again.id, again.sent, again.attempts) == (card.id, ("7001",), 1)
    await store.outbox_retry(again, soon, "502 Bad Gateway", ["7002"])
    [third] = await due(store)
    assert (third.sent, third.attempts) == (("7001", "7002"), 2)
    await store.outbox_retry(third, soon, "timeout")  # nothing delivered this time
    [fourth] = await due(store)
    assert (fourth.sent, fourth.attempts) == (("7001", "7002"), 3)
    assert await refers_to(store, "7002") == [made.id]
    await store.outbox_sent(fourth, ["7003"])
    assert await due(store) == []
    assert await refers_to(store, "7003") == [made.id]
    assert (await ticket(store, made.id)).card_message_id == "7003"  # the last part


async def test_a_failed_row_is_given_up_and_the_parts_it_sent_still_refer(store: Store) -> None:
    made = await open_ticket(store)
    follow_up, card = await enqueue(store, to_staff(Purpose.FOLLOW_UP, made.id),
                                    to_staff(Purpose.CARD, made.id))
    await store.outbox_failed(await the_row(store, follow_up), "Bad Request: chat not found")
    first = await the_row(store, card)
    await store.outbox_retry(first, datetime.now(UTC), "timeout", ["801"])
    await store.outbox_failed(await the_row(store, card), "Bad Request: message is too long",
                              ["802"])
    assert await due(store) == []
    assert await store.next_outbox_at() is None
    assert await refers_to(store, "801") == [made.id]
    assert await refers_to(store, "802") == [made.id]
    assert (await ticket(store, made.id)).card_message_id == "802"  # the last part that went
