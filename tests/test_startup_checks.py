"""Start-up checks against the fake Bot API and fake VK, which answer as the platforms do.

A chat the desk cannot use stops the start with one line naming the setting; a bot that cannot
see staff talk starts with a loud warning and a message to staff; trouble reaching a platform
is retried, then the desk starts anyway.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application
from bot.startup import StartupChecks, StartupRefused
from tests.fakes.telegram import BOT_ID, FakeTelegram
from tests.fakes.vk import FakeVK
from tests.harness import DISCUSSION_CHAT, STAFF_CHAT, TOKEN, Desk, make_settings
from tests.test_e2e_telegram import texts_in

ROOT = Path(__file__).resolve().parent.parent
SUPERVISORS = -1001000000003
CITIZEN = 4242


async def refused(tg: FakeTelegram, tmp_path: Path, **overrides: Any) -> str:
    app = Application(make_settings(tg.base_url, tmp_path / "desk.sqlite3", **overrides))
    with pytest.raises(StartupRefused) as info:
        await app.start()
    assert app.bot.session._session is None or app.bot.session._session.closed
    assert not tg.getupdates_calls  # nothing taken from citizens, nothing promised
    return str(info.value)


async def test_a_healthy_staff_chat_starts_quietly(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3"):
        await tg.wait_for(lambda: tg.getupdates_calls)
    assert [r.params["user_id"] for r in tg.calls("getChatMember")] == [BOT_ID]
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert tg.sent(STAFF_CHAT) == []


async def test_staff_chat_unknown_to_the_bot_stops_the_start(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    line = await refused(tg, tmp_path, staff_chat_id=-1009999999999)
    assert line == (
        "STAFF_CHAT_ID: Telegram knows no chat -1009999999999 with this bot in it "
        "(Bad Request: chat not found): add the bot to the staff chat and check the id "
        "(supergroup ids start with -100)"
    )


async def test_bot_not_a_member_of_the_staff_chat_stops_the_start(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.set_member(STAFF_CHAT, BOT_ID, "left")
    line = await refused(tg, tmp_path)
    assert line == (
        f"STAFF_CHAT_ID: the bot is not a member of the staff chat {STAFF_CHAT}: "
        "add it to the group"
    )


async def test_bot_removed_from_the_staff_chat_stops_the_start(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.block_user(STAFF_CHAT)  # kicked: Telegram answers 403 for the chat
    line = await refused(tg, tmp_path)
    assert line == (
        f"STAFF_CHAT_ID: the bot was removed from the staff chat {STAFF_CHAT}: add it back"
    )


@pytest.mark.parametrize("how", ["restricted", "read-only group"])
async def test_bot_without_the_right_to_send_stops_the_start(
    tg: FakeTelegram, tmp_path: Path, how: str
) -> None:
    if how == "restricted":
        tg.set_member(STAFF_CHAT, BOT_ID, "restricted", can_send_messages=False)
    else:
        tg.set_member(STAFF_CHAT, BOT_ID, "member")
        tg.set_permissions(STAFF_CHAT, can_send_messages=False)
    line = await refused(tg, tmp_path)
    assert line == (
        f"STAFF_CHAT_ID: the bot may not send messages in the staff chat {STAFF_CHAT}: "
        "make it an administrator, or allow members to send messages"
    )


async def test_supervisors_chat_is_checked_too(tg: FakeTelegram, tmp_path: Path) -> None:
    tg.add_group(SUPERVISORS, "Руководители")
    tg.set_member(SUPERVISORS, BOT_ID, "left")
    line = await refused(tg, tmp_path, escalation_chat_id=SUPERVISORS)
    assert line.startswith("ESCALATION_CHAT_ID: the bot is not a member of the supervisors' chat")


def department_rules(tmp_path: Path, where: str) -> str:
    path = tmp_path / "departments.toml"
    path.write_text(f'[[department]]\nkey = "health"\nname = "Здравоохранение"\n{where}\n'
                    'words = ["врач"]\n', encoding="utf-8")
    return str(path)


async def test_a_department_chat_is_checked_too(tg: FakeTelegram, tmp_path: Path) -> None:
    rules = department_rules(tmp_path, f'chat = "{SUPERVISORS}"')
    line = await refused(tg, tmp_path, departments_file=rules)
    assert line.startswith(
        f"DEPARTMENTS_FILE: Telegram knows no chat {SUPERVISORS} with this bot in it"
    )
    assert "add the bot to the chat of department «Здравоохранение»" in line

    tg.add_group(SUPERVISORS, "Здравоохранение")  # the bot added: the desk starts
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3", departments_file=rules):
        await tg.wait_for(lambda: tg.getupdates_calls)


async def test_a_department_topic_needs_a_forum_staff_chat(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    line = await refused(tg, tmp_path, departments_file=department_rules(tmp_path, "topic = 5"))
    assert line == (
        "DEPARTMENTS_FILE: department «Здравоохранение» names topic 5, but the staff chat "
        f"{STAFF_CHAT} has no topics: turn topics on in the group's settings, or give the "
        "department a chat of its own"
    )


async def test_privacy_mode_on_without_admin_warns_and_tells_staff_once(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tg.set_member(STAFF_CHAT, BOT_ID, "member")
    assert tg.privacy_mode  # a new bot's default
    desk = Desk(tg.base_url, tmp_path / "desk.sqlite3")
    async with desk:
        [notice] = await tg.wait_sent(1, chat_id=STAFF_CHAT)
        tg.push_update(tg.private_text(CITIZEN, "Здравствуйте"))
        await tg.wait_sent(1, chat_id=CITIZEN)  # the desk works: staff replies still reach it
    assert notice["message"]["text"].startswith("Внимание: бот не администратор этого чата")
    [warning] = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.startswith("STAFF_CHAT_ID: the bot is not an administrator of the staff chat")
    assert "/setprivacy" in warning
    async with desk:  # a restart while it lasts tells staff nothing new
        await tg.wait_for(lambda: len(tg.calls("getChatMember")) >= 2)
    notices = [t for t in texts_in(tg, STAFF_CHAT) if t.startswith("Внимание")]
    assert len(notices) == 1


async def test_privacy_mode_off_or_admin_sees_everything(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tg.set_member(STAFF_CHAT, BOT_ID, "member")
    tg.privacy_mode = False
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3"):
        await tg.wait_for(lambda: tg.getupdates_calls)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_discussion_group_unseen_warns_about_comments(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tg.add_group(DISCUSSION_CHAT, "Обсуждение канала")
    tg.set_member(DISCUSSION_CHAT, BOT_ID, "member")
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3", discussion_chat_id=DISCUSSION_CHAT):
        [notice] = await tg.wait_sent(1, chat_id=STAFF_CHAT)
    assert notice["message"]["text"].startswith("Внимание: бот не видит комментарии")
    assert any(r.getMessage().startswith("DISCUSSION_CHAT_ID: the bot is not an administrator")
               for r in caplog.records)


async def test_a_supergroup_migration_names_the_new_id(tg: FakeTelegram, tmp_path: Path) -> None:
    tg.add_group(-4000123, "Операторы")
    tg.migrate_group(-4000123, -1001234567890)
    line = await refused(tg, tmp_path, staff_chat_id=-4000123)
    assert line == "STAFF_CHAT_ID: the group became a supergroup: set STAFF_CHAT_ID=-1001234567890"


async def test_a_rejected_token_stops_the_start(tg: FakeTelegram, tmp_path: Path) -> None:
    tg.rejected_tokens.add(TOKEN)
    line = await refused(tg, tmp_path)
    assert line == "TELEGRAM_TOKEN: Telegram rejected the token: copy it again from @BotFather"


# ---- transient trouble -------------------------------------------------------------------


def statuses(tg: FakeTelegram, method: str) -> list[int | None]:
    return [r.status for r in tg.requests if r.method == method]


async def test_passing_trouble_is_retried_and_the_checks_go_on(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.fail_next("getMe", 502, count=2)
    tg.fail_next("getChatMember", 429, retry_after=1)
    tg.set_member(STAFF_CHAT, BOT_ID, "left")
    settings = make_settings(tg.base_url, tmp_path / "desk.sqlite3")
    async with tg.bot() as bot:
        checks = StartupChecks(settings, bot, attempts=3, first_pause=0.01)
        with pytest.raises(StartupRefused, match="not a member"):
            await checks.run()
    assert statuses(tg, "getMe") == [502, 502, 200]
    assert statuses(tg, "getChatMember") == [429, 200]


async def test_telegram_unreachable_starts_anyway_and_says_so(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.fail_next("getMe", 502, count=3)
    settings = make_settings(tg.base_url, tmp_path / "desk.sqlite3")
    async with tg.bot() as bot:
        found = await StartupChecks(settings, bot, attempts=3, first_pause=0.01).run()
    assert found.warnings == [
        "Telegram did not answer getMe (TelegramServerError); starting without checking the chats"
    ]
    assert statuses(tg, "getMe") == [502, 502, 502]
    assert not tg.calls("getChat")


# ---- VK ----------------------------------------------------------------------------------


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        yield fake


def vk_values(vk: FakeVK, **overrides: Any) -> dict[str, Any]:
    return {"vk_token": vk.token, "vk_group_id": vk.group_id, "vk_api_url": vk.api_url,
            **overrides}


async def test_vk_token_of_another_community_stops_the_start(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    line = await refused(tg, tmp_path, **vk_values(vk, vk_group_id=654321))
    assert line == (
        f"VK_GROUP_ID: the token belongs to community {vk.group_id}, not 654321: set "
        f"VK_GROUP_ID={vk.group_id} or use a token of community 654321"
    )


async def test_vk_long_poll_off_stops_the_start(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    vk.set_longpoll_enabled(False)
    line = await refused(tg, tmp_path, **vk_values(vk))
    assert line == (
        f"VK_TOKEN: Long Poll API is off in community {vk.group_id}: turn it on "
        "(community → Manage → API usage → Long Poll API), version 5.199"
    )


async def test_vk_without_message_events_stops_the_start(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    vk.set_longpoll_events(message_new=False)
    line = await refused(tg, tmp_path, **vk_values(vk))
    assert line.startswith(f"VK_TOKEN: Long Poll of community {vk.group_id} does not send "
                           "message_new")


async def test_vk_without_comment_events_warns_and_tells_staff(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)
    vk.set_longpoll_events(wall_reply_new=False, wall_reply_edit=False, wall_reply_delete=False)
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3", **vk_values(vk)):
        [notice] = await tg.wait_sent(1, chat_id=STAFF_CHAT)
    assert "комментарии под постами не становятся сообщениями" in notice["message"]["text"]
    assert any("does not send wall_reply_new, wall_reply_edit, wall_reply_delete" in
               r.getMessage() for r in caplog.records)


async def test_vk_rejected_token_stops_the_start(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    line = await refused(tg, tmp_path, **vk_values(vk, vk_token="vk1.a.not-this-one"))
    assert line.startswith("VK_TOKEN: VK rejected the token")


# ---- the real process ----------------------------------------------------------------------


def bot_env(tg: FakeTelegram, db: Path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("TELEGRAM_", "VK_", "STAFF_", "DATABASE_", "ESCALATION_"))}
    return {**keep, "PYTHONPATH": str(ROOT), "TELEGRAM_TOKEN": TOKEN,
            "TELEGRAM_API_URL": tg.base_url, "STAFF_CHAT_ID": str(STAFF_CHAT),
            "DATABASE_URL": f"sqlite:///{db}", "PACING": "off"}


async def run_check(tg: FakeTelegram, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    import asyncio  # noqa: PLC0415

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "--check", cwd=tmp_path,
        env=bot_env(tg, tmp_path / "desk.sqlite3"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return subprocess.CompletedProcess([], process.returncode, out.decode(), err.decode())


async def test_check_asks_the_platforms_and_does_not_start(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    result = await run_check(tg, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "frontdesk: the settings are good; the desk can start"
    assert tg.calls("getChatMember") and not tg.getupdates_calls
    assert not (tmp_path / "desk.sqlite3").exists()  # nothing started, nothing written


async def test_check_names_an_unusable_staff_chat_in_one_line(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.set_member(STAFF_CHAT, BOT_ID, "kicked")
    result = await run_check(tg, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"frontdesk: STAFF_CHAT_ID: the bot is not a member of the staff chat {STAFF_CHAT}: "
        "add it to the group"
    ]
    assert not tg.getupdates_calls
