"""End to end: /id in groups, answered to their administrators only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, Desk

# On both stores: its SQLite file, and a schema of its own on PostgreSQL.
pytestmark = pytest.mark.usefixtures("either_store")

OPERATOR = 7001
NEWCOMER = 7002


@pytest.fixture
async def desk(tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[Desk]:
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3") as running:
        yield running


def replies_to(tg: FakeTelegram, chat_id: int, message_id: int) -> list[str]:
    return [
        r["message"]["text"] for r in tg.sent(chat_id)
        if (r["message"].get("reply_to_message") or {}).get("message_id") == message_id
    ]


async def test_id_in_a_group_answers_its_administrators_only(
    tg: FakeTelegram, desk: Desk
) -> None:
    other = -1001000000555
    tg.add_group(other, "Руководители")
    tg.set_member(STAFF_CHAT, OPERATOR, "administrator")
    tg.set_member(other, NEWCOMER, "creator")
    member = tg.push_update(tg.group_text(STAFF_CHAT, NEWCOMER, "/id"))
    admin = tg.group_text(STAFF_CHAT, OPERATOR, "/id@" + tg.me["username"])
    tg.push_update(admin)
    creator = tg.group_text(other, NEWCOMER, "/id")
    tg.push_update(creator)
    await tg.wait_for(lambda: replies_to(tg, STAFF_CHAT, admin["message"]["message_id"]))
    await tg.wait_for(lambda: replies_to(tg, other, creator["message"]["message_id"]))
    assert replies_to(tg, STAFF_CHAT, admin["message"]["message_id"]) == [
        f"id этого чата: {STAFF_CHAT}\nВаш id: {OPERATOR}"
    ]
    assert replies_to(tg, other, creator["message"]["message_id"]) == [
        f"id этого чата: {other}\nВаш id: {NEWCOMER}"
    ]
    # The member who is no administrator got nothing; nobody was told about a ticket.
    assert member and len(tg.sent(STAFF_CHAT)) == 1
    assert [r.params["user_id"] for r in tg.calls("getChatMember", chat_id=STAFF_CHAT)
            if r.params["user_id"] != tg.me["id"]] == [NEWCOMER, OPERATOR]


async def test_id_from_an_anonymous_administrator_and_when_telegram_fails(
    tg: FakeTelegram, desk: Desk
) -> None:
    group = tg.add_group(-1001000000556, "Обсуждение")
    anonymous = tg.message_update(
        group, {"id": 1087968824, "is_bot": True, "first_name": "Group",
                "username": "GroupAnonymousBot"},
        sender_chat=group, text="/id",
    )
    tg.push_update(anonymous)
    tg.fail_next("getChatMember", 502)
    unlucky = tg.group_text(group["id"], OPERATOR, "/id")
    tg.push_update(unlucky)
    tg.set_member(group["id"], OPERATOR, "administrator")
    again = tg.group_text(group["id"], OPERATOR, "/id")
    tg.push_update(again)
    await tg.wait_for(lambda: replies_to(tg, group["id"], again["message"]["message_id"]))
    assert replies_to(tg, group["id"], anonymous["message"]["message_id"]) == [
        f"id этого чата: {group['id']}\nВы пишете как анонимный администратор: "
        "Telegram не показывает ваш личный id."
    ]
    assert replies_to(tg, group["id"], unlucky["message"]["message_id"]) == []
