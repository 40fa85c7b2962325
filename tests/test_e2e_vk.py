"""End to end on VK: the real application against the local fake VK API and Telegram."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.fakes.vk import LONGPOLL, FakeVK
from tests.harness import STAFF_CHAT, Desk
from tests.test_e2e_telegram import texts_in

# On both stores: its SQLite file, and a schema of its own on PostgreSQL.
pytestmark = pytest.mark.usefixtures("either_store")

CITIZEN = 1001
NEIGHBOUR = 1002
OPERATOR = 7001


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        fake.add_user(CITIZEN, "Анна", "Иванова")
        fake.add_user(NEIGHBOUR, "Пётр", "Сидоров")
        yield fake


@pytest.fixture
def make_desk(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Desk]:
    # Nothing of the VK adapter may depend on the working directory (vkbottle's .vkbottle/).
    monkeypatch.chdir(tmp_path)

    def make(**overrides: Any) -> Desk:
        values: dict[str, Any] = {
            "vk_token": vk.token, "vk_group_id": vk.group_id, "vk_api_url": vk.api_url,
        }
        values.update(overrides)
        return Desk(tg.base_url, tmp_path / "desk.sqlite3", **values)

    return make


async def polling(vk: FakeVK) -> None:
    """Until the desk's long poll request is at VK: a first start begins from VK's "now"."""
    asked = len(vk.longpoll_requests)
    await vk.wait_for(lambda: len(vk.longpoll_requests) > asked)


@pytest.fixture
async def desk(make_desk: Callable[..., Desk], vk: FakeVK) -> AsyncIterator[Desk]:
    async with make_desk() as running:
        await polling(vk)
        yield running


def staff_texts(tg: FakeTelegram) -> list[str]:
    return [
        r["message"].get("text") or r["message"].get("caption") or "" for r in tg.sent(STAFF_CHAT)
    ]


async def staff_told(tg: FakeTelegram, prefix: str) -> dict[str, Any]:
    """The first staff-chat message starting with `prefix`, once it is there."""

    def find() -> dict[str, Any]:
        for record in tg.sent(STAFF_CHAT):
            if (record["message"].get("text") or "").startswith(prefix):
                return dict(record["message"])
        return {}

    return await tg.wait_for(find)


async def card_of(tg: FakeTelegram, number: int) -> dict[str, Any]:
    """The card of ticket №number, once it is in the staff chat."""
    return await staff_told(tg, f"№{number} ")


def links_of(message: dict[str, Any]) -> list[str]:
    return [e["url"] for e in message.get("entities", []) if e.get("type") == "text_link"]


async def staff_reply(tg: FakeTelegram, card: dict[str, Any], text: str) -> None:
    tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, text, reply_to=card["message_id"]))


async def test_private_message_opens_ticket_with_ack_and_card(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    vk.message_new(CITIZEN, "Не горит фонарь у дома 5")
    sent = await vk.wait_messages(1, peer_id=CITIZEN)
    assert sent[0]["message"].startswith("Ваше сообщение №1 получено. Ответим до ")
    assert sent[0]["random_id"] != 0
    card = await card_of(tg, 1)
    assert "ВКонтакте · личное сообщение" in card["text"]
    assert "Анна Иванова" in card["text"] and "Не горит фонарь у дома 5" in card["text"]
    assert "https://vk.com/id1001" in links_of(card)


async def test_follow_up_message_joins_the_open_ticket(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    vk.message_new(CITIZEN, "первое")
    card = await card_of(tg, 1)
    vk.message_new(CITIZEN, "второе, дополнение")
    follow_up = await staff_told(tg, "№1 · новое сообщение")
    assert follow_up["reply_to_message"]["message_id"] == card["message_id"]
    assert "второе, дополнение" in follow_up["text"]
    assert len(vk.sent_messages(CITIZEN)) == 1  # still the one acknowledgement


async def test_comment_opens_ticket_answered_under_the_comment(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    post = vk.add_post("Ремонт дороги на улице Ленина")
    comment = vk.wall_reply_new(post, CITIZEN, "А когда закончат?")["object"]
    acks = await vk.wait_comments(1)
    assert acks[0]["text"].startswith("Комментарию присвоен №1. Ответим здесь до ")
    assert acks[0]["reply_to_comment"] == comment["id"] and acks[0]["from_group"]
    card = await card_of(tg, 1)
    assert "ВКонтакте · комментарий" in card["text"] and "Анна Иванова" in card["text"]
    link = f"https://vk.com/wall-{vk.group_id}_{post}?reply={comment['id']}"
    assert link in links_of(card)


async def test_own_comment_echo_makes_no_ticket_and_no_loop(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    # The fake echoes the community's comments as wall_reply_new (from_id = -group_id),
    # as VK does: our acknowledgement comes back and must be left alone.
    post = vk.add_post("Объявление")
    vk.wall_reply_new(post, -vk.group_id, "Комментарий администратора")
    vk.wall_reply_new(post, CITIZEN, "вопрос")
    await vk.wait_comments(2)  # the administrator's and our acknowledgement
    await card_of(tg, 1)
    vk.message_new(NEIGHBOUR, "после эха")  # handled after the echoes, in order
    await card_of(tg, 2)
    assert len(vk.comments(post, from_group=True)) == 2
    assert sum(t.startswith("№") for t in staff_texts(tg)) == 2  # the citizen's, the DM


async def test_follow_up_comment_under_same_post_joins(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    post = vk.add_post("Новость")
    vk.wall_reply_new(post, CITIZEN, "первый комментарий")
    await card_of(tg, 1)
    vk.wall_reply_new(post, CITIZEN, "и ещё")
    follow_up = await staff_told(tg, "№1 · новое сообщение")
    assert "и ещё" in follow_up["text"]
    vk.wall_reply_new(post, NEIGHBOUR, "а у меня другой вопрос")
    await card_of(tg, 2)
    # The card and the acknowledgement go out side by side: wait for the second, then see
    # that a third never comes.
    await vk.wait_for(lambda: len(vk.comments(post, from_group=True)) >= 2)
    await asyncio.sleep(0.3)
    assert len(vk.comments(post, from_group=True)) == 2  # one acknowledgement each


async def test_staff_reply_to_private_card_is_sent_as_message(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    vk.message_new(CITIZEN, "Когда починят дорогу?")
    card = await card_of(tg, 1)
    await staff_reply(tg, card, "Ремонт запланирован на май.")
    sent = await vk.wait_messages(2, peer_id=CITIZEN)
    assert sent[1]["message"] == "Ответ на ваше сообщение №1:\n\nРемонт запланирован на май."
    assert sent[1]["random_id"] not in {0, sent[0]["random_id"]}


async def test_staff_reply_to_comment_card_is_a_reply_comment(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    post = vk.add_post("Новость")
    first = vk.wall_reply_new(post, CITIZEN, "Где купить билеты?")["object"]
    await card_of(tg, 1)
    latest = vk.wall_reply_new(post, CITIZEN, "И сколько стоят?")["object"]
    card = await card_of(tg, 1)
    await staff_told(tg, "№1 · новое сообщение")
    await staff_reply(tg, card, "В кассе у вокзала, 50 рублей.")
    answers = await vk.wait_comments(2, post_id=post)
    answer = answers[1]
    assert answer["text"] == "Ответ на ваше сообщение №1:\n\nВ кассе у вокзала, 50 рублей."
    assert answer["reply_to_comment"] == latest["id"] != first["id"]
    assert answer["guid"]


async def test_staff_photo_reply_is_uploaded_to_vk(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    vk.message_new(CITIZEN, "Где пункт вакцинации?")
    card = await card_of(tg, 1)
    tg.push_update(tg.group_photo(
        STAFF_CHAT, OPERATOR, caption="Вот схема", reply_to=card["message_id"]
    ))
    sent = await vk.wait_messages(2, peer_id=CITIZEN)
    assert sent[1]["message"] == "Ответ на ваше сообщение №1:\n\nВот схема"
    assert sent[1]["attachment"].startswith(f"photo-{vk.group_id}_")
    assert vk.calls("photos.saveMessagesPhoto")


async def test_staff_photo_under_a_comment_goes_as_image_document(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    post = vk.add_post("Новость")
    vk.wall_reply_new(post, CITIZEN, "Покажите схему объезда")
    card = await card_of(tg, 1)
    tg.push_update(tg.group_photo(
        STAFF_CHAT, OPERATOR, caption="Схема", reply_to=card["message_id"]
    ))
    answers = await vk.wait_comments(2, post_id=post)
    assert answers[1]["attachment"].startswith(f"doc-{vk.group_id}_")
    assert answers[1]["text"].endswith("Схема")


async def test_citizen_photo_reaches_staff_as_photo(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    photo = vk.photo_attachment(CITIZEN)
    vk.message_new(CITIZEN, "Вот яма", attachments=[photo])
    card = await card_of(tg, 1)
    assert "[фото]" in card["text"]
    shown = await tg.wait_sent(1, STAFF_CHAT, method="sendPhoto")
    assert shown[0]["message"]["photo"]
    assert shown[0]["message"]["caption"] == "№1"
    assert shown[0]["message"]["reply_to_message"]["message_id"] == card["message_id"]


async def test_other_attachments_are_described_for_staff(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    vk.message_new(
        CITIZEN,
        "",
        attachments=[
            vk.doc_attachment(CITIZEN, title="акт.pdf"),
            vk.audio_message_attachment(CITIZEN),
            vk.sticker_attachment(),
            vk.wall_attachment(text="репост"),
        ],
        geo=FakeVK.geo(55.75, 37.62),
    )
    card = await card_of(tg, 1)
    for words in ("[документ: акт.pdf]", "[голосовое сообщение]", "[стикер]",
                  "[репост записи]", "[геопозиция: 55.75000, 37.62000]"):
        assert words in card["text"]


async def test_comment_edit_and_delete_are_shown_to_staff(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    post = vk.add_post("Новость")
    comment = vk.wall_reply_new(post, CITIZEN, "было")["object"]
    card = await card_of(tg, 1)
    vk.wall_reply_edit(comment["id"], "стало")
    edited = await staff_told(tg, "№1 · сообщение изменено")
    assert "стало" in edited["text"]
    assert edited["reply_to_message"]["message_id"] == card["message_id"]
    vk.wall_reply_delete(comment["id"], deleter_id=CITIZEN)
    await staff_told(tg, "№1 · сообщение удалено")


async def test_citizen_who_forbids_messages_is_flagged_and_staff_hear_of_each_answer(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    vk.message_new(CITIZEN, "вопрос")
    card = await card_of(tg, 1)
    await vk.wait_messages(1, peer_id=CITIZEN)
    vk.deny_messages(CITIZEN)
    await staff_reply(tg, card, "первый ответ")
    told = await staff_told(tg, "№1: не удалось доставить ответ гражданину")
    assert "901" in told["text"] and "«первый ответ»" in told["text"]
    await staff_reply(tg, card, "второй ответ")
    codes = [None, 901, 901]  # the acknowledgement, then both answers refused
    await vk.wait_for(lambda: [c.error_code for c in vk.calls("messages.send")] == codes)
    await tg.wait_for(lambda: sum("не удалось доставить" in t for t in staff_texts(tg)) == 2)
    assert any("«второй ответ»" in t for t in staff_texts(tg))
    assert desk.app is not None
    ticket = await desk.app.store.ticket(1)
    assert ticket is not None and ticket.unreachable and "901" in ticket.unreachable


@pytest.mark.parametrize("code", [6, 9, 10])
async def test_temporary_errors_are_retried_and_delivered(
    tg: FakeTelegram, vk: FakeVK, desk: Desk, code: int
) -> None:
    vk.fail_next("messages.send", code)
    vk.message_new(CITIZEN, "вопрос")
    sent = await vk.wait_messages(1, peer_id=CITIZEN)
    assert sent[0]["message"].startswith("Ваше сообщение №1 получено.")
    assert [c.error_code for c in vk.calls("messages.send")] == [code, None]


async def test_lost_answers_are_retried_without_duplicates(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    # VK acts on the call, but the answer never arrives: the retry repeats random_id / guid.
    vk.faults.timeout(0.3, method="messages.send", process=True)
    vk.faults.timeout(0.3, method="wall.createComment", process=True)
    post = vk.add_post("Новость")
    vk.message_new(CITIZEN, "вопрос")
    vk.wall_reply_new(post, NEIGHBOUR, "комментарий")
    await vk.wait_for(lambda: len(vk.calls("messages.send")) >= 2)
    await vk.wait_for(lambda: len(vk.calls("wall.createComment")) >= 2)
    await card_of(tg, 2)
    assert len(vk.sent_messages(CITIZEN)) == 1
    assert len(vk.comments(post, from_group=True)) == 1
    first, again = vk.calls("messages.send")[:2]
    assert first.params["random_id"] == again.params["random_id"]


def missed_notices(tg: FakeTelegram) -> list[str]:
    return [t for t in texts_in(tg, STAFF_CHAT) if t.startswith("ВКонтакте не передал")]


async def test_vk_losing_history_or_state_does_not_stop_polling_and_staff_are_told(
    tg: FakeTelegram, vk: FakeVK, make_desk: Callable[..., Desk],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.vk.polling")
    desk = make_desk()
    await desk.start()
    await polling(vk)
    await desk.stop()
    vk.message_new(CITIZEN, "потеряно на стороне VK")
    vk.lose_history_before(vk.ts)  # failed: 1 for the stored position
    await desk.start()
    try:
        await polling(vk)
        vk.lose_info()  # failed: 3, a new key and position
        await vk.wait_for(lambda: len(vk.calls("groups.getLongPollServer")) >= 3)
        await polling(vk)
        vk.message_new(NEIGHBOUR, "после потери")
        await vk.wait_messages(1, peer_id=NEIGHBOUR)
        await tg.wait_for(lambda: len(missed_notices(tg)) >= 2)
    finally:
        await desk.stop()
    assert not vk.sent_messages(CITIZEN)  # VK no longer had it …
    assert "events before position" in caplog.text
    assert "may be missed" in caplog.text
    # … so a person is told: once for the lost history, once for the lost state.
    missed = missed_notices(tg)
    assert len(missed) == 2, missed
    assert all("могли не дойти до бота" in t for t in missed)
    assert " с " in missed[0] and " по " in missed[0]  # between the last answer and now


async def test_polling_survives_vk_errors_and_bad_gateway(
    tg: FakeTelegram, vk: FakeVK, make_desk: Callable[..., Desk]
) -> None:
    vk.fail_next("groups.getLongPollServer", 10)
    vk.http_error_next(LONGPOLL, 502)
    async with make_desk():
        await polling(vk)
        vk.message_new(CITIZEN, "вопрос")
        await vk.wait_messages(1, peer_id=CITIZEN)
        vk.expire_key()  # failed: 2, a new key and the same position
        vk.message_new(NEIGHBOUR, "после смены ключа")
        await vk.wait_messages(1, peer_id=NEIGHBOUR)
    assert len(vk.calls("groups.getLongPollServer")) >= 3


async def test_events_during_downtime_are_processed_after_restart(
    tg: FakeTelegram, vk: FakeVK, make_desk: Callable[..., Desk], tmp_path: Path
) -> None:
    desk = make_desk()
    await desk.start()
    await polling(vk)
    vk.message_new(CITIZEN, "до остановки")
    await vk.wait_messages(1, peer_id=CITIZEN)
    await desk.stop()

    post = vk.add_post("Новость")
    vk.message_new(NEIGHBOUR, "пока бот стоял")
    vk.wall_reply_new(post, CITIZEN, "комментарий пока бот стоял")
    vk.message_new(CITIZEN, "дополнение пока бот стоял")

    await desk.start()
    try:
        await vk.wait_messages(1, peer_id=NEIGHBOUR)
        await vk.wait_comments(1, post_id=post)
        await card_of(tg, 3)
        await staff_told(tg, "№1 · новое сообщение")
    finally:
        await desk.stop()
    assert len(vk.sent_messages(CITIZEN)) == 1
    assert not (tmp_path / ".vkbottle").exists()


async def test_event_delivered_twice_creates_nothing_twice(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    event = vk.message_new(CITIZEN, "один раз")
    await vk.wait_messages(1, peer_id=CITIZEN)
    vk.push_raw(event)
    vk.message_new(NEIGHBOUR, "следом")  # handled after the repeated event
    await card_of(tg, 2)
    assert len(vk.sent_messages(CITIZEN)) == 1
    assert sum(t.startswith("№") for t in staff_texts(tg)) == 2


async def test_start_button_greets_without_a_ticket(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    vk.message_new(CITIZEN, "Начать", payload='{"command":"start"}')
    sent = await vk.wait_messages(1, peer_id=CITIZEN)
    assert sent[0]["message"].startswith("Здравствуйте!")
    vk.message_new(CITIZEN, "вопрос")
    sent = await vk.wait_messages(2, peer_id=CITIZEN)
    assert sent[1]["message"].startswith("Ваше сообщение №1")


async def test_help_greets_without_a_ticket(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    vk.message_new(CITIZEN, "/help")
    vk.message_new(CITIZEN, "вопрос")
    sent = await vk.wait_messages(2, peer_id=CITIZEN)
    assert sent[0]["message"].startswith("Здравствуйте!")
    assert sent[1]["message"].startswith("Ваше сообщение №1 получено.")
    card = await card_of(tg, 1)
    assert card["text"].endswith("вопрос")


async def test_group_chat_messages_are_ignored(
    tg: FakeTelegram, vk: FakeVK, desk: Desk
) -> None:
    vk.message_new(CITIZEN, "в беседе", peer_id=2_000_000_001)
    vk.message_new(NEIGHBOUR, "в личке")
    await card_of(tg, 1)
    assert "в личке" in (await card_of(tg, 1))["text"]
    assert not vk.sent_messages(2_000_000_001)


async def test_invalid_token_stops_the_desk_naming_vk_token(
    vk: FakeVK, make_desk: Callable[..., Desk], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    desk = make_desk()
    app = await desk.start()
    vk.token = "not-the-community-token"  # revoked while the desk runs (start checks it too)
    try:
        await asyncio.wait_for(app.wait(), timeout=5)
        failure = app.failure()
        assert failure is not None and str(failure).startswith("VK_TOKEN:")
    finally:
        await desk.stop()
    assert any("VK_TOKEN" in r.getMessage() for r in caplog.records)
    assert desk.settings.vk_token.get_secret_value() not in caplog.text
