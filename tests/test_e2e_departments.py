"""End to end, real aiogram against the fake Bot API: departments from the rules file.

Cards go to a department's forum topic in the staff chat or to its own chat; staff there
answer, take and close as in the staff chat; «Отдел» passes a ticket on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, Desk
from tests.test_buttons import answers, keyboard
from tests.test_e2e_telegram import texts_in

# On both stores: its SQLite file, and a schema of its own on PostgreSQL.
pytestmark = pytest.mark.usefixtures("either_store")

HEALTH_CHAT = -1001000000002
CITIZEN = 5554101
OPERATOR = 7101
DOCTOR = 7102


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_group(STAFF_CHAT, "Операторы", is_forum=True)
        fake.add_group(HEALTH_CHAT, "Здравоохранение")
        yield fake


def rules_file(tmp_path: Path, housing_topic: int) -> Path:
    path = tmp_path / "departments.toml"
    path.write_text(f'''
[[department]]
key = "housing"
name = "ЖКХ"
topic = {housing_topic}
words = ["отопление", "не топят", "батареи холодные"]

[[department]]
key = "health"
name = "Здравоохранение"
chat = "{HEALTH_CHAT}"
words = ["врач", "поликлиника", "запись к врачу"]
''', encoding="utf-8")
    return path


async def card_in(tg: FakeTelegram, chat_id: int, number: int) -> dict[str, Any]:
    def find() -> dict[str, Any] | None:
        for record in tg.sent(chat_id):
            text = record["message"].get("text") or ""
            if f"№{number} " in text and "Ответить до" in text:
                return record["message"]
        return None
    found: dict[str, Any] = await tg.wait_for(find)
    return found


async def desk_with_departments(tg: FakeTelegram, tmp_path: Path) -> tuple[Desk, int]:
    topic = tg.add_topic(STAFF_CHAT, "ЖКХ")
    desk = Desk(tg.base_url, tmp_path / "d.sqlite3",
                departments_file=str(rules_file(tmp_path, topic)))
    await desk.start()
    return desk, topic


async def category_of(desk: Desk, number: int) -> str | None:
    assert desk.app is not None
    ticket = await desk.app.store.ticket(number)
    assert ticket is not None
    return ticket.category


async def test_inflected_words_send_the_card_to_the_department_topic(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk, topic = await desk_with_departments(tg, tmp_path)
    try:
        tg.push_update(tg.private_text(CITIZEN, "Третий день не топят, батареи совсем холодные"))
        card = await card_in(tg, STAFF_CHAT, 1)
        assert card.get("message_thread_id") == topic
        assert "Отдел: ЖКХ" in card["text"]
        assert [b["text"] for b in keyboard(card)[1]] == ["Отдел", "Закрыть", "Заблокировать"]
        assert await category_of(desk, 1) == "housing"

        # A message no rule matches stays in the staff chat itself, with no department.
        tg.push_update(tg.private_text(CITIZEN + 1, "Спасибо за ёлку на площади"))
        general = await card_in(tg, STAFF_CHAT, 2)
        assert general.get("message_thread_id") is None and "Отдел" not in general["text"]
        assert await category_of(desk, 2) is None

        # The citizen's follow-up goes to the topic too, under the card.
        tg.push_update(tg.private_text(CITIZEN, "Уже и в подъезде холодно"))
        follow_up = await tg.wait_for(lambda: [
            r["message"] for r in tg.sent(STAFF_CHAT)
            if "Уже и в подъезде холодно" in (r["message"].get("text") or "")
        ])
        assert follow_up[0].get("message_thread_id") == topic
        assert follow_up[0]["reply_to_message"]["message_id"] == card["message_id"]
    finally:
        await desk.stop()


async def test_staff_in_a_department_chat_answer_take_and_close(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk, _ = await desk_with_departments(tg, tmp_path)
    try:
        tg.push_update(tg.private_text(CITIZEN, "Не могу записаться к врачу в поликлинику"))
        card = await card_in(tg, HEALTH_CHAT, 1)
        assert "Отдел: Здравоохранение" in card["text"]
        assert not [r for r in tg.sent(STAFF_CHAT) if "№1 " in (r["message"].get("text") or "")]

        tg.push_update(tg.callback_query(DOCTOR, "do:/take", message=card["message_id"],
                                         chat_id=HEALTH_CHAT, first_name="Анна"))
        await tg.wait_for(lambda: tg.edits)
        assert tg.edits[0]["chat_id"] == HEALTH_CHAT
        assert tg.edits[0]["reply_markup"]["inline_keyboard"][0][0]["text"] == "✋ Анна"

        tg.push_update(tg.group_text(HEALTH_CHAT, DOCTOR, "Запишем вас на четверг", reply_to=card))
        await tg.wait_for(lambda: any("Запишем вас на четверг" in t
                                      for t in texts_in(tg, CITIZEN)))
        tg.push_update(tg.group_text(HEALTH_CHAT, DOCTOR, "/close", reply_to=card))
        await tg.wait_for(lambda: "№1 закрыто." in texts_in(tg, HEALTH_CHAT))
        assert desk.app is not None
        ticket = await desk.app.store.ticket(1)
        assert ticket is not None and not ticket.is_open and ticket.holder_name == "Анна"
    finally:
        await desk.stop()


async def test_a_move_reposts_the_card_and_marks_the_old_one(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk, topic = await desk_with_departments(tg, tmp_path)
    try:
        tg.push_update(tg.private_text(CITIZEN, "Не топят, а у ребёнка температура"))
        card = await card_in(tg, STAFF_CHAT, 1)
        assert card.get("message_thread_id") == topic

        tg.push_update(tg.callback_query(OPERATOR, "do:/move", message=card["message_id"],
                                         chat_id=STAFF_CHAT))
        listing = await tg.wait_for(lambda: [
            r["message"] for r in tg.sent(STAFF_CHAT)
            if "в какой отдел передать" in (r["message"].get("text") or "")
        ])
        choices = [(b["text"], b["callback_data"]) for row in keyboard(listing[0]) for b in row]
        assert choices == [("Здравоохранение", "do:/move health"),
                           ("общий чат сотрудников", "do:/move -")]
        assert listing[0].get("message_thread_id") == topic  # the list stays in the topic

        tg.push_update(tg.callback_query(OPERATOR, "do:/move health",
                                         message=listing[0]["message_id"], chat_id=STAFF_CHAT,
                                         first_name="Мария"))
        moved = await card_in(tg, HEALTH_CHAT, 1)
        assert moved["text"].startswith("№1 передано из «ЖКХ» (Мария).")
        assert "Не топят, а у ребёнка температура" in moved["text"]
        assert "Отдел: Здравоохранение" in moved["text"]
        assert keyboard(moved)[0][0]["callback_data"] == "do:/take"
        # The old card loses its buttons, and staff there are told where it went.
        await tg.wait_for(lambda: [e for e in tg.edits
                                   if e["message_id"] == card["message_id"]])
        assert [e["reply_markup"] for e in tg.edits if e["message_id"] == card["message_id"]] \
            == [None]
        await tg.wait_for(lambda: any(t.startswith("№1 передано: Здравоохранение.")
                                      for t in texts_in(tg, STAFF_CHAT)))
        assert await category_of(desk, 1) == "health"
        assert not answers(tg)[-1].get("show_alert")

        # Both cards reach the citizen: the new one, and the old one still.
        tg.push_update(tg.group_text(HEALTH_CHAT, DOCTOR, "Врач придёт сегодня", reply_to=moved))
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "Отопление дадут к вечеру",
                                     reply_to=card))
        await tg.wait_for(lambda: len([t for t in texts_in(tg, CITIZEN)
                                       if "Врач придёт" in t or "к вечеру" in t]) == 2)
        # A second move to the same department changes nothing.
        tg.push_update(tg.group_text(HEALTH_CHAT, DOCTOR, "/move health", reply_to=moved))
        await tg.wait_for(lambda: "№1 уже в отделе «Здравоохранение»." in texts_in(
            tg, HEALTH_CHAT))
    finally:
        await desk.stop()


async def test_move_without_departments_says_how_to_set_them(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.private_text(CITIZEN, "Не топят"))
        card = await card_in(tg, STAFF_CHAT, 1)
        assert "Отдел" not in [b["text"] for row in keyboard(card) for b in row]
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "/move", reply_to=card))
        await tg.wait_for(lambda: any("DEPARTMENTS_FILE" in t for t in texts_in(tg, STAFF_CHAT)))
        assert len(tg.sent(CITIZEN)) == 1  # the command went nowhere else


async def test_a_deleted_topic_sends_the_card_to_the_staff_chat_itself(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk, topic = await desk_with_departments(tg, tmp_path)
    try:
        tg.delete_topic(STAFF_CHAT, topic)
        tg.push_update(tg.private_text(CITIZEN, "Батареи холодные уже неделю"))
        card = await card_in(tg, STAFF_CHAT, 1)
        # Telegram refused the topic; the card is in the General topic, where staff see it.
        assert card.get("message_thread_id") is None
        assert "Отдел: ЖКХ" in card["text"]
        assert [r for r in tg.requests if r.method == "sendMessage"
                and r.params.get("message_thread_id") == topic]  # tried there first
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "Мастер будет завтра", reply_to=card))
        await tg.wait_for(lambda: any("Мастер будет завтра" in t for t in texts_in(tg, CITIZEN)))
    finally:
        await desk.stop()


async def test_a_department_chat_that_drops_the_bot_is_told_in_the_staff_chat(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk, _ = await desk_with_departments(tg, tmp_path)
    try:
        tg.block_user(HEALTH_CHAT)  # the bot was removed from the department's group
        tg.push_update(tg.private_text(CITIZEN, "Не могу попасть к врачу"))
        tg.push_update(tg.private_text(CITIZEN + 1, "В поликлинике нет талонов"))
        await tg.wait_for(lambda: [t for t in texts_in(tg, STAFF_CHAT)
                                   if "чат отдела «Здравоохранение» не принимает" in t])
        told = [t for t in texts_in(tg, STAFF_CHAT) if "«Здравоохранение» не принимает" in t]
        assert len(told) == 1 and "/move" in told[0]  # once per chat, not per card
        assert desk.app is not None
        ticket = await desk.app.store.ticket(1)
        # A department's chat refusing is no failure to reach the citizen.
        assert ticket is not None and ticket.unreachable is None

        # Back in the group, the waiting cards go out.
        tg.unblock_user(HEALTH_CHAT)
        await card_in(tg, HEALTH_CHAT, 1)
        await card_in(tg, HEALTH_CHAT, 2)
    finally:
        await desk.stop()


async def test_a_closed_department_topic_is_told_in_the_staff_chat_once(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk, topic = await desk_with_departments(tg, tmp_path)
    try:
        tg.close_topic(STAFF_CHAT, topic)
        tg.push_update(tg.private_text(CITIZEN, "Не топят"))
        tg.push_update(tg.private_text(CITIZEN + 1, "Батареи холодные"))
        await tg.wait_for(lambda: [t for t in texts_in(tg, STAFF_CHAT)
                                   if t.startswith("Тема отдела «ЖКХ» в этом чате закрыта")])
        assert len([t for t in texts_in(tg, STAFF_CHAT) if "«ЖКХ» в этом чате закрыта" in t]) == 1
        tg.reopen_topic(STAFF_CHAT, topic)
        first, second = await card_in(tg, STAFF_CHAT, 1), await card_in(tg, STAFF_CHAT, 2)
        assert first.get("message_thread_id") == second.get("message_thread_id") == topic
    finally:
        await desk.stop()


async def paced_desk(tg: FakeTelegram, tmp_path: Path) -> tuple[Desk, int]:
    """PACING=on, as in production: queued cards of one chat are merged."""
    topic = tg.add_topic(STAFF_CHAT, "ЖКХ")
    desk = Desk(tg.base_url, tmp_path / "d.sqlite3", pacing=True,
                departments_file=str(rules_file(tmp_path, topic)))
    await desk.start()
    return desk, topic


async def test_in_a_storm_merged_cards_stay_in_their_topic(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk, topic = await paced_desk(tg, tmp_path)
    try:
        for n in range(4):
            tg.push_update(tg.private_text(CITIZEN + n, f"Не топят в доме {n + 1}а"))
        tg.push_update(tg.private_text(CITIZEN + 9, "Спасибо за ёлку на площади"))
        await tg.wait_for(lambda: all(
            any(f"№{n} " in (r["message"].get("text") or "") for r in tg.sent(STAFF_CHAT))
            for n in range(1, 6)), timeout=20)
        where = {n: r["message"].get("message_thread_id") for r in tg.sent(STAFF_CHAT)
                 for n in range(1, 6) if f"№{n} " in (r["message"].get("text") or "")}
        assert where == {1: topic, 2: topic, 3: topic, 4: topic, 5: None}
    finally:
        await desk.stop()


async def test_a_closed_topic_holds_only_its_own_cards(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk, topic = await paced_desk(tg, tmp_path)
    try:
        tg.close_topic(STAFF_CHAT, topic)
        tg.push_update(tg.private_text(CITIZEN, "Не топят"))
        await tg.wait_for(lambda: [t for t in texts_in(tg, STAFF_CHAT)
                                   if t.startswith("Тема отдела «ЖКХ» в этом чате закрыта")])
        tg.push_update(tg.private_text(CITIZEN + 1, "Спасибо за ёлку на площади"))
        general = await card_in(tg, STAFF_CHAT, 2)  # not held behind the closed topic
        assert general.get("message_thread_id") is None and "№1 " not in general["text"]
        tg.reopen_topic(STAFF_CHAT, topic)
        held = await card_in(tg, STAFF_CHAT, 1)
        assert held.get("message_thread_id") == topic
    finally:
        await desk.stop()
