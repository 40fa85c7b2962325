"""Tickets: what a new message meets, what happens to a ticket, and what the reads return."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from zoneinfo import ZoneInfo

from storage import MessageRecord, NewTicket, Store
from storage.values import Channel, Platform
from tests.contract.support import FAR, T0, new_ticket, open_ticket, ticket

H = timedelta(hours=1)


async def test_a_new_ticket_is_open_and_waits_from_its_opening(store: Store) -> None:
    moscow = T0.astimezone(ZoneInfo("Europe/Moscow"))  # any zone: the same moments come back
    new = NewTicket(
        platform=Platform.VK, channel=Channel.COMMENT, chat_id="-100777", conversation="-1_5",
        citizen_id="702", citizen_name="Пётр «Иванов»", citizen_link="https://vk.com/id702",
        thread_id="5", reply_to="77", link="https://vk.com/wall-1_5?reply=77",
        summary="Яма на дороге", opened_at=moscow, deadline_at=moscow + 8 * H,
    )
    made = await open_ticket(store, new)
    assert made == await ticket(store, made.id)
    assert (made.platform, made.channel, made.chat_id, made.conversation) == (
        Platform.VK, Channel.COMMENT, "-100777", "-1_5")
    assert (made.citizen_id, made.citizen_name, made.citizen_link) == (
        "702", "Пётр «Иванов»", "https://vk.com/id702")
    assert (made.thread_id, made.reply_to, made.link, made.summary) == (
        "5", "77", "https://vk.com/wall-1_5?reply=77", "Яма на дороге")
    assert made.status == "open" and made.is_open
    assert made.opened_at == T0 and made.waiting_since == T0
    assert made.deadline_at == T0 + 8 * H and made.next_escalation_at == T0 + 8 * H
    assert made.escalation_level == 0
    assert (made.first_answer_at, made.last_answer_at, made.closed_at) == (None, None, None)
    assert (made.card_chat_id, made.card_message_id, made.unreachable) == (None, None, None)


async def test_a_ticket_without_a_deadline_waits_but_never_comes_due(store: Store) -> None:
    made = await open_ticket(store, new_ticket(deadline_at=None))
    assert made.waiting_since == T0 and made.deadline_at is None
    assert made.next_escalation_at is None
    assert await store.due_escalations(FAR, 10) == []


async def test_the_store_and_a_transaction_read_the_same_ticket(store: Store) -> None:
    made = await open_ticket(store)
    async with store.transaction() as tx:
        assert await tx.ticket(made.id) == made
        assert await tx.ticket(made.id + 1) is None
    assert await store.ticket(made.id) == made
    assert await store.ticket(made.id + 1) is None


async def test_intake_state_of_a_first_message_meets_nothing(store: Store) -> None:
    async with store.transaction() as tx:
        state = await tx.intake_state("telegram:42:1", Platform.TELEGRAM, "42", "42")
    assert (state.seen, state.blocked, state.ticket) == (False, False, None)


async def test_intake_state_sees_a_message_already_on_a_ticket(store: Store) -> None:
    made = await open_ticket(store)
    async with store.transaction() as tx:
        await tx.add_message(MessageRecord(made.id, "in", T0, "вопрос",
                                           source_key="telegram:42:1"))
    async with store.transaction() as tx:
        seen = await tx.intake_state("telegram:42:1", Platform.TELEGRAM, "42", "42")
        new = await tx.intake_state("telegram:42:2", Platform.TELEGRAM, "42", "42")
    assert seen.seen and not new.seen
    assert seen.ticket == new.ticket == made


async def test_intake_state_finds_the_open_ticket_of_its_conversation_only(store: Store) -> None:
    made = await open_ticket(store, new_ticket("42", conversation="c42"))
    other = await open_ticket(store, new_ticket("43", conversation="c43"))

    async def open_in(platform: Platform, conversation: str) -> int | None:
        async with store.transaction() as tx:
            found = (await tx.intake_state("k", platform, conversation, "42")).ticket
        return None if found is None else found.id

    assert await open_in(Platform.TELEGRAM, "c42") == made.id
    assert await open_in(Platform.TELEGRAM, "c43") == other.id
    assert await open_in(Platform.VK, "c42") is None  # the same conversation id on VK
    assert await open_in(Platform.TELEGRAM, "42") is None
    async with store.transaction() as tx:
        await tx.close_ticket(made.id, T0 + H)
    assert await open_in(Platform.TELEGRAM, "c42") is None  # closed: the next message opens
    again = await open_ticket(store, new_ticket("42", conversation="c42"))
    assert await open_in(Platform.TELEGRAM, "c42") == again.id != made.id


async def test_a_blocked_citizen_is_blocked_on_their_platform_until_unblocked(
    store: Store,
) -> None:
    async def blocked(platform: Platform, citizen: str) -> bool:
        async with store.transaction() as tx:
            return (await tx.intake_state("k", platform, citizen, citizen)).blocked

    async with store.transaction() as tx:
        await tx.set_blocked(Platform.TELEGRAM, "42", True)
    assert await blocked(Platform.TELEGRAM, "42")
    assert not await blocked(Platform.VK, "42") and not await blocked(Platform.TELEGRAM, "43")
    async with store.transaction() as tx:
        await tx.set_blocked(Platform.TELEGRAM, "42", True)  # twice: still blocked, once
        await tx.set_blocked(Platform.VK, "7", False)  # never blocked: nothing to undo
    assert await blocked(Platform.TELEGRAM, "42") and not await blocked(Platform.VK, "7")
    async with store.transaction() as tx:
        await tx.set_blocked(Platform.TELEGRAM, "42", False)
    assert not await blocked(Platform.TELEGRAM, "42")


async def test_citizen_wrote_without_waits_moves_replies_under_the_new_message(
    store: Store,
) -> None:
    made = await open_ticket(store)
    async with store.transaction() as tx:
        await tx.citizen_wrote(made.id, "2")
    assert await ticket(store, made.id) == replace(made, reply_to="2")  # still waits as it did
    async with store.transaction() as tx:
        await tx.answered(made.id, T0 + H)
        await tx.citizen_wrote(made.id, "3")  # a thank-you: nothing waits on staff
    after = await ticket(store, made.id)
    assert after.reply_to == "3" and after.waiting_since is None
    assert after.next_escalation_at is None and after.first_answer_at == T0 + H


async def test_citizen_wrote_with_waits_waits_again_from_the_foot_of_the_ladder(
    store: Store,
) -> None:
    made = await open_ticket(store)
    async with store.transaction() as tx:
        await tx.answered(made.id, T0 + H)
        await tx.set_escalations([(made.id, 3, T0 + 20 * H)])
        await tx.citizen_wrote(made.id, "5", waits=(T0 + 2 * H, T0 + 10 * H))
    after = await ticket(store, made.id)
    assert after.reply_to == "5"
    assert after.waiting_since == T0 + 2 * H and after.deadline_at == T0 + 10 * H
    assert after.next_escalation_at == T0 + 10 * H and after.escalation_level == 0
    assert after.first_answer_at == after.last_answer_at == T0 + H and after.is_open
    assert [t.id for t in await store.due_escalations(T0 + 10 * H, 10)] == [made.id]
    assert await store.due_escalations(T0 + 10 * H - timedelta(seconds=1), 10) == []


async def test_answered_stops_the_waiting_and_keeps_the_first_answer(store: Store) -> None:
    made = await open_ticket(store)
    async with store.transaction() as tx:
        await tx.set_escalations([(made.id, 2, T0 + 12 * H)])
        await tx.answered(made.id, T0 + H)
    first = await ticket(store, made.id)
    assert first.first_answer_at == first.last_answer_at == T0 + H
    assert (first.waiting_since, first.deadline_at, first.next_escalation_at) == (None,) * 3
    assert first.escalation_level == 0 and first.is_open
    async with store.transaction() as tx:
        await tx.citizen_wrote(made.id, "2", waits=(T0 + 2 * H, T0 + 9 * H))
        await tx.answered(made.id, T0 + 3 * H)
        assert await tx.waiting_tickets(10) == [] and await tx.waiting_count() == 0
    second = await ticket(store, made.id)
    assert second.first_answer_at == T0 + H and second.last_answer_at == T0 + 3 * H
    assert await store.due_escalations(FAR, 10) == []


async def test_close_ticket_closes_it_and_stops_the_waiting(store: Store) -> None:
    made = await open_ticket(store)
    kept = await open_ticket(store, "43")
    async with store.transaction() as tx:
        await tx.close_ticket(made.id, T0 + 2 * H)
        assert [t.id for t in await tx.waiting_tickets(10)] == [kept.id]
    closed = await ticket(store, made.id)  # still there, for its history
    assert closed.status != "open" and not closed.is_open and closed.closed_at == T0 + 2 * H
    assert (closed.waiting_since, closed.deadline_at, closed.next_escalation_at) == (None,) * 3
    assert [t.id for t in await store.open_tickets()] == [kept.id]
    assert [t.id for t in await store.due_escalations(FAR, 10)] == [kept.id]


async def test_interim_sets_a_new_deadline_the_ladder_starts_again_from(store: Store) -> None:
    made = await open_ticket(store)
    async with store.transaction() as tx:
        await tx.set_escalations([(made.id, 2, T0 + 12 * H)])
        await tx.interim(made.id, T0 + H, T0 + 50 * H)
    after = await ticket(store, made.id)
    assert after.interim_at == T0 + H and after.interim_count == 1
    assert after.deadline_at == after.next_escalation_at == T0 + 50 * H
    assert after.escalation_level == 0 and after.waiting_since == T0 and after.is_open
    assert after.first_answer_at is None  # an interim answer is not the answer
    assert await store.due_escalations(T0 + 49 * H, 10) == []
    assert [t.id for t in await store.due_escalations(T0 + 50 * H, 10)] == [made.id]
    async with store.transaction() as tx:  # answered, then a second interim: it waits again
        await tx.answered(made.id, T0 + 2 * H)
        await tx.interim(made.id, T0 + 3 * H, T0 + 60 * H)
    again = await ticket(store, made.id)
    assert again.interim_count == 2 and again.interim_at == T0 + 3 * H
    assert again.waiting_since == T0 + 3 * H and again.deadline_at == T0 + 60 * H


async def test_tickets_between_include_those_given_an_interim_answer_in_it(
    store: Store,
) -> None:
    old = await open_ticket(store, new_ticket("1", opened_at=T0 - 48 * H))
    later = await open_ticket(store, new_ticket("2", opened_at=T0 - 48 * H))
    async with store.transaction() as tx:
        await tx.interim(old.id, T0 + H, T0 + 50 * H)
        await tx.interim(later.id, T0 + 30 * H, T0 + 80 * H)
    assert [t.id for t in await store.tickets_between(T0, T0 + 24 * H)] == [old.id]
    assert {t.id for t in await store.tickets_between(T0 + 24 * H, T0 + 48 * H)} == {later.id}


async def test_set_unreachable_keeps_the_reason_until_cleared(store: Store) -> None:
    made = await open_ticket(store)
    async with store.transaction() as tx:
        await tx.set_unreachable(made.id, "Forbidden: bot was blocked by the user")
    assert (await ticket(store, made.id)).unreachable == "Forbidden: bot was blocked by the user"
    async with store.transaction() as tx:
        await tx.set_unreachable(made.id, None)
    assert await ticket(store, made.id) == made


async def test_open_tickets_are_the_open_ones_by_number(store: Store) -> None:
    numbers = [(await open_ticket(store, str(n))).id for n in range(5)]
    async with store.transaction() as tx:
        await tx.close_ticket(numbers[1], T0 + H)
        await tx.answered(numbers[3], T0 + H)  # answered, still open
    assert [t.id for t in await store.open_tickets()] == [numbers[0], *numbers[2:]]


async def test_waiting_tickets_come_oldest_first_with_a_limit_and_a_count(store: Store) -> None:
    late = await open_ticket(store, new_ticket("1", opened_at=T0 + 3 * H))
    early = await open_ticket(store, new_ticket("2", opened_at=T0 + H))
    same = await open_ticket(store, new_ticket("3", opened_at=T0 + H))  # a tie: by number
    answered = await open_ticket(store, new_ticket("4", opened_at=T0))
    closed = await open_ticket(store, new_ticket("5", opened_at=T0))
    again = await open_ticket(store, new_ticket("6", opened_at=T0))
    async with store.transaction() as tx:
        await tx.answered(answered.id, T0 + H)
        await tx.close_ticket(closed.id, T0 + H)
        await tx.answered(again.id, T0 + H)
        await tx.citizen_wrote(again.id, "9", waits=(T0 + 2 * H, T0 + 10 * H))
    async with store.transaction() as tx:
        assert [t.id for t in await tx.waiting_tickets(10)] == [
            early.id, same.id, again.id, late.id]
        assert [t.id for t in await tx.waiting_tickets(2)] == [early.id, same.id]
        assert await tx.waiting_count() == 4
        [first] = await tx.waiting_tickets(1)
    assert first == await ticket(store, early.id)


async def test_tickets_between_are_those_opened_or_first_answered_in_the_period(
    store: Store,
) -> None:
    start, end = T0, T0 + 24 * H

    async def add(opened: int, answered: int | None = None, second: int | None = None) -> int:
        made = await open_ticket(store, new_ticket(f"{opened}:{answered}",
                                                   opened_at=T0 + opened * H))
        async with store.transaction() as tx:
            if answered is not None:
                await tx.answered(made.id, T0 + answered * H)
            if second is not None:
                await tx.answered(made.id, T0 + second * H)
        return made.id

    at_start = await add(0)
    inside_both = await add(2, 3)
    answered_inside = await add(-5, 1)
    before = await add(-5)
    answered_before = await add(-5, -4, 2)  # answered again inside: the first answer counts
    at_end = await add(24)
    answered_at_end = await add(-5, 24)
    between = await store.tickets_between(start, end)
    assert sorted(t.id for t in between) == [at_start, inside_both, answered_inside]
    assert len(between) == 3  # each once, though both opened and answered in the period
    assert {t.id for t in await store.tickets_between(start - 5 * H, start)} == {
        before, answered_before, answered_inside, answered_at_end}
    assert {t.id for t in await store.tickets_between(end, end + H)} == {
        at_end, answered_at_end}
    assert await store.tickets_between(end + H, end + 2 * H) == []
    [read] = [t for t in between if t.id == inside_both]
    assert read == await ticket(store, inside_both)


async def test_due_escalations_are_the_due_ones_soonest_first_with_a_limit(store: Store) -> None:
    later = await open_ticket(store, new_ticket("1", deadline_at=T0 + 5 * H))
    sooner = await open_ticket(store, new_ticket("2", deadline_at=T0 + 2 * H))
    exactly = await open_ticket(store, new_ticket("3", deadline_at=T0 + 6 * H))
    await open_ticket(store, new_ticket("4", deadline_at=T0 + 7 * H))
    now = T0 + 6 * H
    assert [t.id for t in await store.due_escalations(now, 10)] == [
        sooner.id, later.id, exactly.id]
    assert [t.id for t in await store.due_escalations(now, 2)] == [sooner.id, later.id]
    async with store.transaction() as tx:
        in_tx = await tx.due_escalations(now, 10)
    assert in_tx == await store.due_escalations(now, 10)
    assert await store.due_escalations(T0 + H, 10) == []


async def test_set_escalations_sets_the_level_and_next_step_of_several_tickets(
    store: Store,
) -> None:
    first = await open_ticket(store, "1")
    second = await open_ticket(store, "2")
    untouched = await open_ticket(store, "3")
    async with store.transaction() as tx:
        await tx.set_escalations([])  # nothing to do
        await tx.set_escalations([(first.id, 1, T0 + 12 * H), (second.id, 2, None)])
    one, two = await ticket(store, first.id), await ticket(store, second.id)
    assert (one.escalation_level, one.next_escalation_at) == (1, T0 + 12 * H)
    assert (two.escalation_level, two.next_escalation_at) == (2, None)
    assert two.waiting_since == T0 and two.is_open  # still waits, no further step due
    assert await ticket(store, untouched.id) == untouched
    assert [t.id for t in await store.due_escalations(T0 + 12 * H, 10)] == [
        untouched.id, first.id]


async def test_citizen_tickets_are_that_citizens_open_ones_on_that_platform_newest_first(
    store: Store,
) -> None:
    direct = await open_ticket(store, new_ticket("42"))
    neighbour = await open_ticket(store, new_ticket("43"))
    closed = await open_ticket(store, new_ticket("42", conversation="post-1/42"))
    comment = await open_ticket(store, new_ticket("42", conversation="post-2/42"))
    answered = await open_ticket(store, new_ticket("42", conversation="post-3/42"))
    on_vk = await open_ticket(store, new_ticket("42", platform=Platform.VK))
    async with store.transaction() as tx:
        await tx.close_ticket(closed.id, T0 + H)
        await tx.answered(answered.id, T0 + H)  # answered, still open: listed
    async with store.transaction() as tx:
        mine = await tx.citizen_tickets(Platform.TELEGRAM, "42", 10)
        assert [t.id for t in mine] == [answered.id, comment.id, direct.id]
        assert await tx.citizen_open_count(Platform.TELEGRAM, "42") == 3
        assert [t.id for t in await tx.citizen_tickets(Platform.TELEGRAM, "42", 2)] == [
            answered.id, comment.id]
        assert [t.id for t in await tx.citizen_tickets(Platform.TELEGRAM, "43", 10)] == [
            neighbour.id]
        assert [t.id for t in await tx.citizen_tickets(Platform.VK, "42", 10)] == [on_vk.id]
        assert await tx.citizen_open_count(Platform.VK, "42") == 1
        assert await tx.citizen_tickets(Platform.VK, "43", 10) == []
        assert await tx.citizen_open_count(Platform.VK, "43") == 0
    assert mine[0] == await ticket(store, answered.id)  # whole tickets, as read one by one


async def test_a_ticket_starts_with_no_department_no_holder(store: Store) -> None:
    made = await open_ticket(store)
    assert (made.category, made.holder_id, made.holder_name) == (None, None, None)


async def test_a_take_names_the_holder_and_a_later_take_replaces_them(store: Store) -> None:
    made = await open_ticket(store)
    other = await open_ticket(store, new_ticket("43"))
    async with store.transaction() as tx:
        await tx.take(made.id, "501", "Мария")
    assert ((await ticket(store, made.id)).holder_id,
            (await ticket(store, made.id)).holder_name) == ("501", "Мария")
    async with store.transaction() as tx:
        await tx.take(made.id, "502", "Олег")
    taken = await ticket(store, made.id)
    assert (taken.holder_id, taken.holder_name) == ("502", "Олег")
    assert (await ticket(store, other.id)).holder_id is None


async def test_a_department_is_kept_and_can_be_cleared(store: Store) -> None:
    made = await open_ticket(store)
    async with store.transaction() as tx:
        await tx.set_category(made.id, "housing")
        assert (await tx.ticket(made.id)).category == "housing"  # type: ignore[union-attr]
    assert (await ticket(store, made.id)).category == "housing"
    async with store.transaction() as tx:
        await tx.set_category(made.id, None)
    assert (await ticket(store, made.id)).category is None


async def test_one_rating_per_ticket_a_later_one_replaces_it(store: Store) -> None:
    made = await open_ticket(store)
    other = await open_ticket(store, new_ticket("43"))
    async with store.transaction() as tx:
        await tx.set_category(made.id, "roads")
        assert await tx.rate(made.id, 2, T0) is None
    async with store.transaction() as tx:
        assert await tx.rate(made.id, 5, T0 + H) == 2
        assert await tx.rate(other.id, 4, T0 + H) is None
    assert sorted(await store.ratings_between(T0, T0 + 2 * H), key=str) == sorted(
        [("roads", 5), (None, 4)], key=str)
    # The changed rating counts when it was changed, once.
    assert await store.ratings_between(T0, T0 + H) == []
    assert await store.ratings_between(T0 + 2 * H, FAR) == []


async def test_a_rating_outside_one_to_five_is_refused(store: Store) -> None:
    made = await open_ticket(store)
    for score in (0, 6):
        try:
            async with store.transaction() as tx:
                await tx.rate(made.id, score, T0)
        except Exception:  # noqa: BLE001 - each backend raises its own integrity error
            pass
        else:
            raise AssertionError(f"score {score} was stored")
    assert await store.ratings_between(T0, FAR) == []
