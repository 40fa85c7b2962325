"""/status on Telegram, «статус» on VK: a citizen's own open tickets, within the command rules.

The desk against a real store with a fixed clock, then end to end: the real application with
aiogram and vkbottle against the local fake Bot API and VK servers.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from handlers.desk import FrontDesk
from handlers.model import Inbound
from handlers.status import asks_status
from handlers.texts import Texts
from storage import NewTicket, SqliteStore
from storage.values import Channel, Outbound, Platform, Purpose
from tests.conftest import FixedClock
from tests.fakes.telegram import FakeTelegram
from tests.fakes.vk import FakeVK
from tests.harness import DISCUSSION_CHAT, STAFF_CHAT, Desk
from tests.test_desk import citizen, outbox, send_all
from tests.test_e2e_telegram import card_of, texts_in

OPERATOR = 7001
ANNA, BORIS, VERA, GLEB = 5551001, 5551002, 5551003, 5551004  # Telegram citizens
VK_ANNA, VK_PETR, VK_OLGA = 1001, 1002, 1003
NONE_RU = Texts("ru").get("status-none")
# «№3 — принято, ответим до 24 ноября, 18:00»: a deadline is a date and a time.
UNTIL = r"ответим до \d{1,2} [а-я]+, \d\d:\d\d"


# What counts as a status request


@pytest.mark.parametrize("text", [
    "статус", " Статус ", "СТАТУС\n", "/status", "/STATUS", "/status@frontdesk_bot",
])
def test_a_status_request_is_the_word_or_the_command_alone(text: str) -> None:
    assert asks_status(text)


@pytest.mark.parametrize("text", [
    "", "статус моего сообщения", "какой статус?", "/status 5", "/statuses", "status",
    "/help",
])
def test_anything_more_or_else_is_no_status_request(text: str) -> None:
    assert not asks_status(text)


# The desk: what the answer says


async def notices(store: SqliteStore, chat: str = "42") -> list[Outbound]:
    return [i.outbound for i in await outbox(store)
            if i.outbound.purpose is Purpose.NOTICE and i.outbound.chat_id == chat]


async def status_of(desk: FrontDesk, store: SqliteStore, user: int = 42, n: int = 900) -> str:
    """What a citizen is answered to /status now (what was pending before is sent first)."""
    await send_all(store)
    await desk.tell_status(citizen("/status", n, user=user))
    [answer] = await notices(store, str(user))
    assert answer.reply_to == str(n) and answer.channel is Channel.DIRECT
    assert not answer.html and answer.ticket_id is None
    return answer.text


async def test_no_open_tickets_says_so_and_how_to_write(
    desk: FrontDesk, store: SqliteStore
) -> None:
    text = await status_of(desk, store)
    assert text == (
        "Открытых сообщений у вас нет.\nЧтобы задать вопрос, напишите его сюда одним или "
        "несколькими сообщениями, можно с фото. Мы ответим здесь же."
    )
    assert await store.open_tickets() == []  # the request is no ticket


async def test_each_state_reads_with_its_deadline(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await desk.receive(citizen("вопрос"))  # №1, waits: due by 18:00 (8 working hours)
    await desk.receive(comment("под постом", 2, post=7))  # №2, answered below
    await desk.receive(comment("ещё", 3, post=8))  # №3, given an interim answer below
    async with store.transaction() as tx:
        await tx.answered(2, clock.moment + timedelta(minutes=5))
        await tx.interim(3, clock.moment + timedelta(hours=1),
                         clock.moment + timedelta(days=7, hours=8))
    assert await status_of(desk, store) == (
        "Ваши открытые сообщения:\n"
        "№3 — промежуточный ответ 24 ноября, 11:00, ответим до 1 декабря, 18:00\n"
        "№2 — ответ дан\n"
        "№1 — принято, ответим до 24 ноября, 18:00"
    )


async def test_an_interim_answer_before_a_later_answer_is_not_shown_again(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await desk.receive(citizen("вопрос"))
    async with store.transaction() as tx:
        await tx.interim(1, clock.moment, clock.moment + timedelta(days=2))
        await tx.answered(1, clock.moment + timedelta(hours=1))
    await send_all(store)
    clock.advance(hours=2)
    await desk.receive(citizen("а ещё вопрос", 2))  # waits again, on a new deadline
    text = await status_of(desk, store)
    assert text == "Ваши открытые сообщения:\n№1 — принято, ответим до 25 ноября, 11:00"


async def test_a_ticket_without_a_deadline_is_accepted_without_one(
    desk: FrontDesk, store: SqliteStore
) -> None:
    async with store.transaction() as tx:
        made = await tx.create_ticket(_new_ticket(desk, deadline=False))
    assert await status_of(desk, store) == (
        f"Ваши открытые сообщения:\n№{made.id} — принято, готовим ответ"
    )


async def test_ten_are_listed_newest_first_then_how_many_more(
    desk: FrontDesk, store: SqliteStore
) -> None:
    for post in range(12):  # comments under twelve posts: twelve open tickets
        await desk.receive(comment(f"вопрос {post}", post + 1, post=post))
    lines = (await status_of(desk, store)).splitlines()
    assert lines[0] == "Ваши открытые сообщения:"
    assert [line.split(" ")[0] for line in lines[1:-1]] == [f"№{n}" for n in range(12, 2, -1)]
    assert lines[-1] == "и ещё 2"


async def test_only_the_citizens_own_and_only_open_ones_on_their_platform(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("моё", 1, user=42))  # №1
    await desk.receive(citizen("соседа", 2, user=43))  # №2
    await desk.receive(citizen("закрытое", 3, user=44))  # №3, closed
    on_vk = citizen("во ВКонтакте", 4, user=42)
    await desk.receive(replace_platform(on_vk, Platform.VK))  # №4: VK's id 42 is another person
    async with store.transaction() as tx:
        await tx.close_ticket(3, desk.now())
    assert re.fullmatch(rf"Ваши открытые сообщения:\n№1 — принято, {UNTIL}",
                        await status_of(desk, store, 42))
    assert re.fullmatch(rf"Ваши открытые сообщения:\n№2 — принято, {UNTIL}",
                        await status_of(desk, store, 43, 901))
    assert await status_of(desk, store, 44, 902) == NONE_RU


def test_the_english_texts_read_the_same_states() -> None:
    texts = Texts("en")
    assert texts.get("status-answered", number=3) == "№3: answered"
    assert texts.get("status-more", count=2) == "and 2 more"
    assert texts.get("status-none").startswith("You have no open messages.")


# The desk: the rules of commands


async def test_fifty_status_requests_are_answered_once_a_minute(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    for n in range(50):
        await desk.tell_status(citizen("/status", n + 1))
    assert len(await notices(store)) == 1
    clock.advance(seconds=61)
    await desk.tell_status(citizen("/status", 51))
    assert len(await notices(store)) == 2
    assert await store.open_tickets() == []


async def test_a_date_gone_by_is_said_as_gone_by(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await desk.receive(citizen("вопрос"))  # №1, due by 18:00 today
    clock.advance(seconds=24 * 3600)
    assert await status_of(desk, store) == (
        "Ваши открытые сообщения:\n"
        "№1 — принято, срок ответа (24 ноября, 18:00) прошёл; ответим как можно скорее"
    )


async def test_status_right_after_the_greeting_is_answered(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    """The greeting names /status: asking for it at once is not silenced as a repeat."""
    await desk.greet(citizen("/start", 1))
    clock.advance(seconds=20)
    await desk.tell_status(citizen("/status", 2))
    await desk.greet(citizen("/help", 3))  # the greeting's own minute still holds
    told = [i.outbound.purpose for i in await outbox(store) if i.outbound.chat_id == "42"]
    assert told == [Purpose.GREETING, Purpose.NOTICE]


async def test_a_blocked_citizen_gets_no_status(desk: FrontDesk, store: SqliteStore) -> None:
    await desk.receive(citizen("вопрос"))
    await send_all(store)
    async with store.transaction() as tx:
        await tx.set_blocked(Platform.TELEGRAM, "42", True)
    for n in range(5):
        await desk.tell_status(citizen("/status", n + 10))
    assert await outbox(store) == []


async def test_status_under_a_post_is_a_comment_like_any_other(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.tell_status(comment("статус", 5, post=9))
    rows = [i.outbound for i in await outbox(store)]
    assert [o.purpose for o in rows] == [Purpose.ACK, Purpose.CARD]
    assert rows[0].channel is Channel.COMMENT and "№1" in rows[0].text


def comment(text: str, message_id: int, *, post: int) -> Inbound:
    """A citizen's comment under a post: a conversation (and a ticket) per post."""
    return replace(citizen(text, message_id), channel=Channel.COMMENT, chat_id=f"post-{post}",
                   thread_id=str(post))


def replace_platform(inbound: Inbound, platform: Platform) -> Inbound:
    return replace(inbound, platform=platform)


def _new_ticket(desk: FrontDesk, *, deadline: bool) -> NewTicket:
    now = desk.now()
    return NewTicket(
        platform=Platform.TELEGRAM, channel=Channel.DIRECT, chat_id="42", conversation="42",
        citizen_id="42", citizen_name="Иван Петров", citizen_link="", thread_id=None,
        reply_to="1", link="", summary="вопрос", opened_at=now,
        deadline_at=now + timedelta(hours=8) if deadline else None,
    )


# End to end: Telegram


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_group(STAFF_CHAT, "Операторы")
        fake.add_group(DISCUSSION_CHAT, "Обсуждение канала")
        yield fake


def tickets_in(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0])


def cards(tg: FakeTelegram) -> list[str]:
    return [t for t in texts_in(tg, STAFF_CHAT) if re.match(r"№\d+ · ", t)]


async def answer_card(tg: FakeTelegram, number: int, text: str) -> None:
    card = await card_of(tg, number)
    tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, text, reply_to=card["message_id"]))


async def test_two_citizens_on_telegram_each_see_only_their_own(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db, discussion_chat_id=DISCUSSION_CHAT):
        tg.push_update(tg.private_text(ANNA, "Когда починят дорогу?"))  # №1, answered
        await card_of(tg, 1)
        tg.push_update(tg.private_text(BORIS, "Нет света в подъезде"))  # №2, waits
        await card_of(tg, 2)
        post = tg.automatic_forward(DISCUSSION_CHAT, "Новость: ремонт моста")
        tg.push_update(post)
        thread = post["message"]["message_id"]
        tg.push_update(tg.discussion_comment(DISCUSSION_CHAT, ANNA, "А мост когда?", thread))
        await card_of(tg, 3)  # №3, Anna's comment, waits
        tg.push_update(tg.discussion_comment(DISCUSSION_CHAT, BORIS, "И я про мост", thread))
        await card_of(tg, 4)  # №4, Boris's comment, answered
        await answer_card(tg, 1, "Ремонт в мае.")
        await answer_card(tg, 4, "Мост откроют в июне.")
        await tg.wait_sent(2, chat_id=ANNA)  # the acknowledgement and the answer
        await tg.wait_sent(3, chat_id=DISCUSSION_CHAT)  # the two acks and the answer to №4
        asked_anna = tg.private_text(ANNA, "/status")
        tg.push_update(asked_anna)
        tg.push_update(tg.private_text(BORIS, "/status"))
        tg.push_update(tg.private_text(VERA, "/status"))
        await tg.wait_sent(3, chat_id=ANNA)
        await tg.wait_sent(2, chat_id=BORIS)
        await tg.wait_sent(1, chat_id=VERA)
    anna, boris = texts_in(tg, ANNA)[2], texts_in(tg, BORIS)[1]
    assert re.fullmatch(rf"Ваши открытые сообщения:\n№3 — принято, {UNTIL}\n№1 — ответ дан",
                        anna), anna
    assert re.fullmatch(rf"Ваши открытые сообщения:\n№4 — ответ дан\n№2 — принято, {UNTIL}",
                        boris), boris
    assert texts_in(tg, VERA) == [NONE_RU]
    reply = tg.sent(ANNA)[2]["message"]["reply_to_message"]
    assert reply["message_id"] == asked_anna["message"]["message_id"]
    assert not tg.sent(ANNA)[2]["message"].get("entities")  # plain text
    assert len(cards(tg)) == 4 and tickets_in(db) == 4  # the requests are no tickets


async def test_a_blocked_citizen_on_telegram_gets_no_status(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db):
        tg.push_update(tg.private_text(GLEB, "спам"))
        card = await card_of(tg, 1)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/block", reply_to=card["message_id"]))
        await tg.wait_for(lambda: any("заблокирован" in t for t in texts_in(tg, STAFF_CHAT)))
        tg.push_update(tg.private_text(GLEB, "/status"))
        tg.push_update(tg.private_text(VERA, "/status"))  # handled after Gleb's
        await tg.wait_sent(1, chat_id=VERA)
    assert len(texts_in(tg, GLEB)) == 1  # the acknowledgement before the block, nothing since
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM outbox WHERE chat_id = ?", (str(GLEB),))
        assert rows.fetchone()[0] == 1


async def test_status_in_capitals_on_telegram_is_a_status_request(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db):
        tg.push_update(tg.private_text(VERA, "/STATUS"))
        await tg.wait_sent(1, chat_id=VERA)
    assert texts_in(tg, VERA) == [NONE_RU]
    assert tickets_in(db) == 0 and cards(tg) == []


async def test_fifty_status_commands_on_telegram_get_one_answer(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db):
        for _ in range(50):
            tg.push_update(tg.private_text(VERA, "/status"))
        tg.push_update(tg.private_text(VERA, "Вопрос про автобус"))  # after all fifty
        await tg.wait_sent(2, chat_id=VERA)
        await card_of(tg, 1)
    said = texts_in(tg, VERA)
    assert said[0] == NONE_RU and said[1].startswith("Ваше сообщение №1 получено.")
    assert len(said) == 2 and len(cards(tg)) == 1 and tickets_in(db) == 1


async def test_status_with_text_after_it_on_telegram_is_a_message(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.private_text(VERA, "/status моей заявки по ЖКХ"))
        card = await card_of(tg, 1)
    assert "/status моей заявки по ЖКХ" in card["text"]


# End to end: VK


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        fake.add_user(VK_ANNA, "Анна", "Иванова")
        fake.add_user(VK_PETR, "Пётр", "Сидоров")
        fake.add_user(VK_OLGA, "Ольга", "Смирнова")
        yield fake


@pytest.fixture
def vk_desk(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[], Desk]:
    monkeypatch.chdir(tmp_path)  # vkbottle must leave nothing in the working directory

    def make() -> Desk:
        return Desk(tg.base_url, tmp_path / "d.sqlite3", vk_token=vk.token,
                    vk_group_id=vk.group_id, vk_api_url=vk.api_url)

    return make


async def polling(vk: FakeVK) -> None:
    asked = len(vk.longpoll_requests)
    await vk.wait_for(lambda: len(vk.longpoll_requests) > asked)


def vk_said(vk: FakeVK, peer: int) -> list[str]:
    return [str(m["message"]) for m in vk.sent_messages(peer)]


async def test_status_on_vk_lists_the_citizens_own_and_makes_no_ticket(
    tg: FakeTelegram, vk: FakeVK, vk_desk: Callable[[], Desk], tmp_path: Path
) -> None:
    async with vk_desk():
        await polling(vk)
        vk.message_new(VK_ANNA, "Не горит фонарь у дома 5")  # №1, answered
        await answer_card(tg, 1, "Починим завтра.")
        await vk.wait_messages(2, peer_id=VK_ANNA)
        vk.message_new(VK_PETR, "Яма на дороге")  # №2, waits
        await card_of(tg, 2)
        vk.message_new(VK_ANNA, "  Статус ")
        vk.message_new(VK_PETR, "/status")
        vk.message_new(VK_OLGA, "Мои сообщения", payload='{"command":"status"}')  # a button
        await vk.wait_messages(3, peer_id=VK_ANNA)
        await vk.wait_messages(2, peer_id=VK_PETR)
        await vk.wait_messages(1, peer_id=VK_OLGA)
    assert vk_said(vk, VK_ANNA)[2] == "Ваши открытые сообщения:\n№1 — ответ дан"
    assert re.fullmatch(rf"Ваши открытые сообщения:\n№2 — принято, {UNTIL}",
                        vk_said(vk, VK_PETR)[1])
    assert vk_said(vk, VK_OLGA) == [NONE_RU]
    assert len(cards(tg)) == 2 and tickets_in(tmp_path / "d.sqlite3") == 2
    assert not any("Статус" in t or "/status" in t for t in texts_in(tg, STAFF_CHAT))


async def test_status_on_vk_with_a_photo_or_a_forward_is_a_message_like_any_other(
    tg: FakeTelegram, vk: FakeVK, vk_desk: Callable[[], Desk], tmp_path: Path
) -> None:
    """«Статус» carrying content is a message: the photo and the forwarded text reach staff."""
    photo = vk.photo_attachment(VK_ANNA)
    async with vk_desk():
        await polling(vk)
        vk.message_new(VK_PETR, "статус", fwd_messages=[
            {"from_id": VK_PETR, "text": "Яма у дома 3", "date": 1}])
        await card_of(tg, 1)
        vk.message_new(VK_ANNA, "Статус", attachments=[photo])
        await card_of(tg, 2)
    assert tickets_in(tmp_path / "d.sqlite3") == 2
    assert any("Яма у дома 3" in t for t in texts_in(tg, STAFF_CHAT))


async def test_status_under_a_vk_post_is_a_public_comment_like_any_other(
    tg: FakeTelegram, vk: FakeVK, vk_desk: Callable[[], Desk]
) -> None:
    async with vk_desk():
        await polling(vk)
        vk.message_new(VK_ANNA, "Не горит фонарь")  # №1, in private
        await card_of(tg, 1)
        post = vk.add_post("Ремонт дороги")
        vk.wall_reply_new(post, VK_ANNA, "статус")
        acks = await vk.wait_comments(1)
        card = await card_of(tg, 2)
    assert acks[0]["text"].startswith("Комментарию присвоен №2.")
    assert "№1" not in acks[0]["text"]  # nothing of the citizen's other tickets in public
    assert "\n\nстатус\n" in card["text"]
    assert len(vk.sent_messages(VK_ANNA)) == 1  # the acknowledgement of №1 only


async def test_a_blocked_citizen_on_vk_gets_no_status_and_fifty_get_one(
    tg: FakeTelegram, vk: FakeVK, vk_desk: Callable[[], Desk], tmp_path: Path
) -> None:
    async with vk_desk():
        await polling(vk)
        vk.message_new(VK_PETR, "спам")
        card = await card_of(tg, 1)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/block", reply_to=card["message_id"]))
        await tg.wait_for(lambda: any("заблокирован" in t for t in texts_in(tg, STAFF_CHAT)))
        vk.message_new(VK_PETR, "статус")
        for _ in range(50):
            vk.message_new(VK_OLGA, "статус")
        vk.message_new(VK_OLGA, "Вопрос про автобус")  # after all fifty
        await vk.wait_messages(2, peer_id=VK_OLGA)
        await card_of(tg, 2)
    assert len(vk.sent_messages(VK_PETR)) == 1  # the acknowledgement before the block
    said = vk_said(vk, VK_OLGA)
    assert said[0] == NONE_RU and said[1].startswith("Ваше сообщение №2 получено.")
    assert len(said) == 2 and tickets_in(tmp_path / "d.sqlite3") == 2
