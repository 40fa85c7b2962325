"""One answer to an incident, the process SIGKILLed in the middle of sending it, restarted:
every reporter answered, nobody twice on VK, on Telegram at most the requests in flight.

The real `python -m bot` against the fake Bot API and VK servers; VK takes the sends but its
answers are lost until the kill, so the kill finds VK rows sent but not recorded — the case
VK's `random_id` is for.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.fakes.vk import FakeVK
from tests.harness import STAFF_CHAT
from tests.test_crash import bot_env, kill
from tests.test_e2e_telegram import texts_in

TG_CITIZENS = range(8_100_001, 8_100_021)
VK_CITIZENS = range(4_001, 4_021)
OPERATOR = 7401
ANSWER = "Авария на теплотрассе устранена, отопление дадут к 18:00"
VARIANTS = [
    "Здравствуйте, на улице Ленина {n} не топят третий день",
    "ул. Ленина {n}, батареи холодные. Когда дадут отопление?",
    "Ленина {n} — отопления нет с утра, дети мёрзнут",
    "почему не топят дом на Ленина {n}?",
]


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        for user in VK_CITIZENS:
            fake.add_user(user, "Житель", str(user))
        yield fake


async def spawn(tg: FakeTelegram, vk: FakeVK, db: Path, log: Path) -> asyncio.subprocess.Process:
    env = {**bot_env(tg, db), "VK_TOKEN": vk.token, "VK_GROUP_ID": str(vk.group_id),
           "VK_API_URL": vk.api_url}
    with log.open("ab") as sink:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=db.parent, env=env, stdout=sink, stderr=sink,
        )


def staff_texts(tg: FakeTelegram) -> list[dict[str, Any]]:
    return [r["message"] for r in tg.sent(STAFF_CHAT)]


def answered_on_telegram(tg: FakeTelegram) -> Counter[int]:
    return Counter({c: sum(ANSWER in t for t in texts_in(tg, c)) for c in TG_CITIZENS})


def answered_on_vk(vk: FakeVK) -> Counter[int]:
    return Counter({c: sum(ANSWER in m["message"] for m in vk.sent_messages(c))
                    for c in VK_CITIZENS})


async def test_killed_mid_answer_everyone_is_answered_and_nobody_twice_on_vk(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path
) -> None:
    db, log = tmp_path / "desk.sqlite3", tmp_path / "bot.log"
    bot = await spawn(tg, vk, db, log)
    try:
        await tg.wait_for(lambda: tg.calls("getUpdates"), timeout=60)
        await vk.wait_for(lambda: vk.longpoll_requests, timeout=60)
        for n, (tg_citizen, vk_citizen) in enumerate(zip(TG_CITIZENS, VK_CITIZENS, strict=True)):
            text = VARIANTS[n % len(VARIANTS)].format(n=n % 7 + 1)
            tg.push_update(tg.private_text(tg_citizen, text))
            vk.message_new(vk_citizen, text)
        suggestion = await tg.wait_for(lambda: next(
            (m for m in staff_texts(tg) if "Похоже на массовое" in (m.get("text") or "")), None),
            timeout=60)
        tg.push_update(tg.callback_query(OPERATOR, "do:/merge", message=suggestion["message_id"],
                                         chat_id=STAFF_CHAT))
        opened = await tg.wait_for(lambda: next(
            (m for m in staff_texts(tg) if "№И-1 Массовое" in (m.get("text") or "")), None),
            timeout=60)
        # Let every acknowledgement and card go before VK starts losing its answers.
        await tg.wait_for(lambda: all(texts_in(tg, c) for c in TG_CITIZENS), timeout=60)
        await vk.wait_for(lambda: all(vk.sent_messages(c) for c in VK_CITIZENS), timeout=60)

        vk.faults.timeout(600, method="messages.send", process=True)
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, ANSWER, reply_to=opened["message_id"]))
        await vk.wait_for(lambda: sum(answered_on_vk(vk).values()) >= 3, timeout=60)
        await kill(tg, bot)
        vk.faults.clear()
        before = sum(answered_on_vk(vk).values())
        assert before < len(VK_CITIZENS)  # killed mid-answer: work left

        bot = await spawn(tg, vk, db, log)
        await tg.wait_for(lambda: all(answered_on_telegram(tg).values())
                          and all(answered_on_vk(vk).values()), timeout=120)
        card = opened["message_id"]
        await tg.wait_for(lambda: "Ответ: отправлено 40 из 40." in (
            (tg.message(STAFF_CHAT, card) or {}).get("text") or ""), timeout=30)
        bot.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(bot.wait(), timeout=60) == 0
    finally:
        if bot.returncode is None:  # a failed step must not leave the desk running
            bot.kill()
            await bot.wait()

    on_vk, on_telegram = answered_on_vk(vk), answered_on_telegram(tg)
    assert set(on_vk.values()) == {1}  # random_id: VK took the repeats as the same message
    # Telegram has no idempotency key: a repeat is a request in flight at the kill.
    assert max(on_telegram.values()) <= 2
    with sqlite3.connect(db) as conn:
        rows = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT ticket_id), SUM(status = 'sent') FROM outbox "
            "WHERE purpose = 'answer'"
        ).fetchone()
    assert rows == (40, 40, 40)  # one answer row per reporter, all of them sent
    assert times_told(tg) == 1


def times_told(tg: FakeTelegram) -> int:
    """How many times staff were told the answer went out: once, not again on restart."""
    return sum(1 for m in staff_texts(tg)
               if (m.get("text") or "").startswith("№И-1: ответ отправлен 40 гражданам."))
