"""What README promises about settings, media, forums, VK edits and pacing, end to end."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.telegram import BOT_USERNAME, FakeTelegram
from tests.fakes.vk import FakeVK
from tests.harness import STAFF_CHAT, Desk
from tests.test_e2e_telegram import OPERATOR, card_of, texts_in

CITIZEN = 5552001
VK_CITIZEN = 1001
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        fake.add_user(VK_CITIZEN, "Анна", "Иванова")
        yield fake


def vk_settings(vk: FakeVK) -> dict[str, Any]:
    return {"vk_token": vk.token, "vk_group_id": vk.group_id, "vk_api_url": vk.api_url}


async def vk_polling(vk: FakeVK) -> None:
    """Until the desk's long poll is at VK: a first start begins from VK's "now"."""
    asked = len(vk.longpoll_requests)
    await vk.wait_for(lambda: len(vk.longpoll_requests) > asked)


async def test_telegram_citizens_off_leaves_private_chats_alone_and_serves_staff(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    async with Desk(tg.base_url, db, telegram_citizens=False):
        tg.push_update(tg.private_text(CITIZEN, "Здравствуйте, вопрос"))
        queue = tg.group_text(STAFF_CHAT, OPERATOR, "/queue")
        tg.push_update(queue)
        # Updates are handled in order: the answer to /queue means the citizen's was handled.
        answer = await tg.wait_for(lambda: [
            r["message"] for r in tg.sent(STAFF_CHAT)
            if r["message"].get("reply_to_message", {}).get("message_id")
            == queue["message"]["message_id"]
        ])
    assert answer and tg.sent(CITIZEN) == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM tickets").fetchone()[0] == 0


async def test_locales_dir_with_the_operators_own_texts(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    own = tmp_path / "texts"
    shutil.copytree(ROOT / "locales", own)
    ftl = own / "ru" / "frontdesk.ftl"
    lines = ftl.read_text(encoding="utf-8").splitlines()
    lines = ["ack-received = Администрация района: ваше сообщение №{ $number } у нас."
             if line.startswith("ack-received =") else line for line in lines]
    ftl.write_text("\n".join(lines) + "\n", encoding="utf-8")
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", locales_dir=str(own)):
        tg.push_update(tg.private_text(CITIZEN, "вопрос"))
        await tg.wait_sent(1, chat_id=CITIZEN)
    assert texts_in(tg, CITIZEN) == ["Администрация района: ваше сообщение №1 у нас."]


async def test_staff_formatting_reaches_the_citizen(tg: FakeTelegram, tmp_path: Path) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.private_text(CITIZEN, "Когда откроют мост?"))
        card = await card_of(tg, 1)
        said = "Мост откроют 1 июня, подробности на сайте"
        reply = tg.group_text(STAFF_CHAT, OPERATOR, said, reply_to=card["message_id"])
        reply["message"]["entities"] = [  # offsets in UTF-16 units; all of it is in the BMP
            {"type": "bold", "offset": 0, "length": 4},
            {"type": "italic", "offset": said.index("1 июня"), "length": 6},
            {"type": "text_link", "offset": said.index("сайте"), "length": 5,
             "url": "https://example.org/most"},
        ]
        tg.push_update(reply)
        await tg.wait_sent(2, chat_id=CITIZEN)
    answer = tg.sent(CITIZEN)[1]["message"]
    text = answer["text"]
    assert text.endswith(said)
    shown = {(e["type"], text[e["offset"]:e["offset"] + e["length"]], e.get("url"))
             for e in answer.get("entities", [])}
    assert {("bold", "Мост", None), ("italic", "1 июня", None),
            ("text_link", "сайте", "https://example.org/most")} <= shown


async def test_citizens_photo_voice_and_video_reach_staff_as_copies_under_the_card(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    media = {"photo": tg.private_photo(CITIZEN, caption="яма"),
             "voice": tg.private_voice(CITIZEN + 1),
             "video": tg.private_video(CITIZEN + 2, caption="видео")}
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        for update in media.values():
            tg.push_update(update)
        cards = [await card_of(tg, number) for number in (1, 2, 3)]
        await tg.wait_for(lambda: len(tg.sent(STAFF_CHAT, "copyMessage")) >= 3)
    copies = tg.sent(STAFF_CHAT, "copyMessage")
    by_card = {c["message"]["reply_to_message"]["message_id"]: c for c in copies}
    kinds = {}
    for card in cards:
        copy = by_card[card["message_id"]]
        [kind] = [k for k in media if k in copy["message"]]
        kinds[card["text"].split(" ", 1)[0]] = kind
        source = media[kind]["message"]
        assert copy["params"]["from_chat_id"] == source["chat"]["id"]
        assert copy["params"]["message_id"] == source["message_id"]
    assert sorted(kinds.values()) == ["photo", "video", "voice"]


async def test_forum_staff_chat_cards_in_general_answers_in_the_askers_topic(
    tmp_path: Path,
) -> None:
    async with FakeTelegram() as tg:
        tg.add_group(STAFF_CHAT, "Операторы", is_forum=True)
        async with tg.bot() as admin:
            topic = (await admin.create_forum_topic(STAFF_CHAT, "Дежурные")).message_thread_id
        async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
            tg.push_update(tg.private_text(CITIZEN, "Нет воды"))
            card = await card_of(tg, 1)
            queue = tg.group_text(STAFF_CHAT, OPERATOR, "/queue", message_thread_id=topic)
            tg.push_update(queue)
            listed = await tg.wait_for(lambda: [
                r["message"] for r in tg.sent(STAFF_CHAT)
                if r["message"].get("reply_to_message", {}).get("message_id")
                == queue["message"]["message_id"]
            ])
            tg.push_update(tg.group_text(
                STAFF_CHAT, OPERATOR, "Воду дадут к вечеру.", reply_to=card["message_id"]
            ))
            await tg.wait_sent(2, chat_id=CITIZEN)
        assert "message_thread_id" not in card  # the General topic
        assert listed[0]["message_thread_id"] == topic and "№1" in listed[0]["text"]
        assert texts_in(tg, CITIZEN)[1].endswith("Воду дадут к вечеру.")
        assert not [r for r in tg.requests if r.status == 400]


async def test_id_in_a_group_answers_its_administrator_with_the_chat_id(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    """README's setup step: `/id@bot` in the group, sent by one of its administrators."""
    group, admin, member = -1001234567890, 7101, 7102
    tg.add_group(group, "Новая группа сотрудников")
    tg.add_admin(group, admin)
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.group_text(group, member, f"/id@{BOT_USERNAME}"))
        asked = tg.group_text(group, admin, f"/id@{BOT_USERNAME}")
        tg.push_update(asked)
        await tg.wait_sent(1, chat_id=group)
        tg.push_update(tg.private_text(CITIZEN, "вопрос"))  # handled after both /id
        await tg.wait_sent(1, chat_id=CITIZEN)
    [answer] = [r["message"] for r in tg.sent(group)]  # the member got none
    assert answer["reply_to_message"]["message_id"] == asked["message"]["message_id"]
    assert str(group) in answer["text"] and str(admin) in answer["text"]


async def test_vk_message_edit_tells_staff_with_the_new_text(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", **vk_settings(vk)):
        await vk_polling(vk)
        event = vk.message_new(VK_CITIZEN, "Не горит фонарь")
        card = await card_of(tg, 1)
        edited = {**event["object"]["message"], "text": "Не горит фонарь у дома 5",
                  "update_time": event["object"]["message"]["date"] + 30}
        vk.push_event("message_edit", edited)
        told = await tg.wait_for(lambda: [
            r["message"] for r in tg.sent(STAFF_CHAT)
            if "№1 · сообщение изменено" in (r["message"].get("text") or "")
        ])
    assert "Не горит фонарь у дома 5" in told[0]["text"]
    assert told[0]["reply_to_message"]["message_id"] == card["message_id"]
    assert len(vk.sent_messages(VK_CITIZEN)) == 1  # an edit is no new ticket, no new ack


async def test_vk_requests_stay_within_20_a_second_with_pacing(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    citizens = range(2001, 2041)
    for citizen in citizens:
        vk.add_user(citizen, "Житель", str(citizen))
    async with Desk(tg.base_url, tmp_path / "d.sqlite3", pacing=True, **vk_settings(vk)):
        await vk_polling(vk)
        for citizen in citizens:
            vk.message_new(citizen, "вопрос")
        await vk.wait_for(lambda: all(vk.sent_messages(c) for c in citizens), timeout=60)
    times = sorted(call.at for call in vk.calls("messages.send"))
    assert len(times) == len(citizens)  # one acknowledgement each, two seconds' worth
    # VK allows a community token 20 requests a second: no 21 sends within one second.
    # https://dev.vk.com/ru/api/api-requests
    busiest = max(sum(1 for t in times[i:] if t - start < 1.0)
                  for i, start in enumerate(times))
    assert busiest <= 20, busiest
    # Other calls (names, the long poll server) are not paced: counted with the sends, a
    # second may see one or two more; VK's error 6 on them is answered like any other.


@pytest.mark.parametrize("vk_on", [False, True])
def test_vkbottle_is_imported_only_when_vk_is_on(tmp_path: Path, vk_on: bool) -> None:
    script = f"""
import asyncio, sys
from tests.fakes.telegram import BOT_USERNAME, FakeTelegram
from tests.fakes.vk import FakeVK
from tests.harness import STAFF_CHAT, make_settings
from bot.app import Application

async def main():
    async with FakeTelegram() as tg, FakeVK() as vk:
        tg.add_group(STAFF_CHAT, "Операторы")
        extra = dict(vk_token=vk.token, vk_group_id=vk.group_id, vk_api_url=vk.api_url)
        settings = make_settings(tg.base_url, {str(tmp_path / 'd.sqlite3')!r},
                                 **(extra if {vk_on} else {{}}))
        before = "vkbottle" in sys.modules
        app = Application(settings)
        await app.start()
        await tg.wait_for(lambda: tg.getupdates_calls)
        print(before, "vkbottle" in sys.modules)
        await app.stop()

asyncio.run(main())
"""
    # The fake VK server is plain aiohttp; it must not pull vkbottle in by itself.
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
                          check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-2:] == ["False", str(vk_on)]
