"""End to end: the escalation ladder of the real application, on a clock of seconds.

ESCALATION_AFTER is 2 s round the clock and the sweep runs every second, so level 1 comes about
2 s after the citizen wrote and level 2 about 4 s after; these tests take a few seconds each.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, Desk

# On both stores: its SQLite file, and a schema of its own on PostgreSQL.
pytestmark = pytest.mark.usefixtures("either_store")

SUPERVISORS = -1001000000009
CITIZEN = 5552001
OPERATOR = 7001
LADDER = {
    "escalation_after": 2,
    "escalation_check_interval": 1,
    "escalation_chat_id": SUPERVISORS,
    "business_hours": "24/7",
}
LEVEL_1 = "ждёт ответа"
LEVEL_2 = "без ответа"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.add_group(STAFF_CHAT, "Операторы")
        fake.add_group(SUPERVISORS, "Руководители")
        yield fake


def texts_in(tg: FakeTelegram, chat_id: int) -> list[str]:
    return [r["message"].get("text") or "" for r in tg.sent(chat_id)]


def escalations(tg: FakeTelegram, chat_id: int, marker: str, number: int) -> list[dict[str, Any]]:
    """Messages in `chat_id` that escalate ticket №number at the level `marker` names."""
    return [
        r["message"] for r in tg.sent(chat_id)
        if f"№{number} " in (r["message"].get("text") or "")
        and marker in r["message"]["text"]
    ]


async def card_of(tg: FakeTelegram, number: int) -> dict[str, Any]:
    """The card of ticket №number, once it is in the staff chat."""
    def find() -> list[dict[str, Any]]:
        return [
            r["message"] for r in tg.sent(STAFF_CHAT)
            if (r["message"].get("text") or "").startswith(f"№{number} ")
        ]
    card: dict[str, Any] = (await tg.wait_for(find))[0]
    return card


async def test_unanswered_ticket_climbs_to_level_2_and_answered_one_never_escalates(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3", **LADDER):
        tg.push_update(tg.private_text(CITIZEN, "Не вывозят мусор"))
        card = await card_of(tg, 1)
        tg.push_update(tg.private_text(CITIZEN + 1, "Когда починят дорогу?"))
        answered_card = await card_of(tg, 2)
        tg.push_update(tg.group_text(
            STAFF_CHAT, OPERATOR, "Ремонт в мае.", reply_to=answered_card["message_id"]
        ))
        await tg.wait_sent(2, chat_id=CITIZEN + 1)

        [level1] = await tg.wait_for(lambda: escalations(tg, STAFF_CHAT, LEVEL_1, 1))
        assert level1["reply_to_message"]["message_id"] == card["message_id"]
        assert "Не вывозят мусор" in level1["text"]

        [level2] = await tg.wait_for(lambda: escalations(tg, SUPERVISORS, LEVEL_2, 1))
        # One step at a time: level 1 went out before level 2 (events in order, not a check
        # at some moment that level 2 has not come yet, which a slow machine could break).
        order = [r["message"] for r in tg.sent()]
        assert order.index(level1) < order.index(level2)
        link = f"https://t.me/c/{str(STAFF_CHAT).removeprefix('-100')}/{card['message_id']}"
        assert any(e.get("url") == link for e in level2.get("entities", []))

        await asyncio.sleep(1.5)  # another sweep or so: nothing more, and nothing for №2
        assert len(escalations(tg, STAFF_CHAT, LEVEL_1, 1)) == 1
        assert len(escalations(tg, SUPERVISORS, LEVEL_2, 1)) == 1
        assert not [t for t in texts_in(tg, STAFF_CHAT) + texts_in(tg, SUPERVISORS)
                    if "№2 " in t and (LEVEL_1 in t or LEVEL_2 in t)]


async def test_restart_after_the_deadline_escalates_once_to_the_level_reached(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    desk = Desk(tg.base_url, tmp_path / "desk.sqlite3", **LADDER)
    await desk.start()
    loop = asyncio.get_running_loop()
    tg.push_update(tg.private_text(CITIZEN, "Нет отопления"))
    opened = loop.time()
    await card_of(tg, 1)
    await desk.stop()
    # Down past level 2's moment (4 s after the message): one message of level 2 on restart,
    # not level 1 and then level 2.
    await asyncio.sleep(max(0.0, opened + 4.5 - loop.time()))
    await desk.start()
    try:
        await tg.wait_for(lambda: escalations(tg, SUPERVISORS, LEVEL_2, 1))
        await asyncio.sleep(1.5)
        assert len(escalations(tg, SUPERVISORS, LEVEL_2, 1)) == 1
        assert escalations(tg, STAFF_CHAT, LEVEL_1, 1) == []
    finally:
        await desk.stop()
