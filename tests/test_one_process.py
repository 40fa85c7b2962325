"""One desk per store: a second process on the same file refuses to start; handling is
idempotent per update on the staff side as on the citizens' side."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
from pathlib import Path

import pytest

from handlers.desk import FrontDesk
from storage import SqliteStore, StoreError, store_from_url
from storage.lockfile import in_use
from storage.values import Purpose
from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, Desk
from tests.test_crash import bot_env
from tests.test_desk import citizen, outbox, send_all, staff
from tests.test_e2e_telegram import texts_in


async def test_second_process_on_the_same_store_refuses_with_one_line(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "desk.sqlite3"
    env = bot_env(tg, db) | {"LOG_LEVEL": "WARNING"}
    first = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        await tg.wait_for(lambda: tg.getupdates_calls, timeout=60)  # the first one runs
        second = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(second.communicate(), timeout=60)
    finally:
        first.send_signal(signal.SIGTERM)
        await asyncio.wait_for(first.wait(), timeout=60)
    lines = [line for line in (out + err).decode().splitlines() if line.strip()]
    assert second.returncode != 0
    assert len(lines) == 1, lines
    assert "DATABASE_URL" in lines[0] and f"pid {first.pid}" in lines[0]
    assert first.returncode == 0


async def test_the_lock_is_released_when_the_store_closes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    first = store_from_url(url)
    await first.open()
    second = store_from_url(url)
    with pytest.raises(StoreError, match=r"DATABASE_URL: .* in use .*\(pid \d+\)"):
        await second.open()
    await first.close()
    await second.open()  # the same file, free again
    await second.close()


async def test_staff_answer_handled_twice_queues_one_answer(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("вопрос"))
    await send_all(store)  # the card becomes message 5001 in the staff chat
    answer = staff("Ответ", "5001")
    await desk.receive(answer)
    await desk.receive(answer)  # the same update again, e.g. from a second process
    answers = [i for i in await outbox(store) if i.outbound.purpose is Purpose.ANSWER]
    assert len(answers) == 1


async def test_a_new_store_is_announced_once_with_its_path(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    db = tmp_path / "desk.sqlite3"
    async with Desk(tg.base_url, db, new_store=True):
        notice = await tg.wait_for(lambda: [t for t in texts_in(tg, STAFF_CHAT)
                                            if t.startswith("Начато новое хранилище")])
    assert notice == [f"Начато новое хранилище {db.resolve()}: нумерация с №1. "
                      "Если раньше бот работал с другим файлом, проверьте DATABASE_URL."]
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING
                and "new store" in r.getMessage()]
    assert len(warnings) == 1 and str(db.resolve()) in warnings[0].getMessage()
    caplog.clear()
    # The same store again: its path logged, nothing announced.
    async with Desk(tg.base_url, db, new_store=True):
        tg.push_update(tg.private_text(5551001, "вопрос"))
        await tg.wait_sent(1, chat_id=5551001)
    assert f"store: {db.resolve()}" in caplog.text
    assert "new store" not in caplog.text
    assert len([t for t in texts_in(tg, STAFF_CHAT) if t.startswith("Начато")]) == 1


async def test_a_look_before_start_names_the_holder_and_holds_nothing(tmp_path: Path) -> None:
    path = str(tmp_path / "desk.sqlite3")
    assert in_use(path) is None
    store = SqliteStore(path, exclusive=True)
    await store.open()  # the look left the lock free
    reason = in_use(path)
    assert reason is not None and "DATABASE_URL" in reason and f"pid {os.getpid()}" in reason
    await store.close()
    assert in_use(path) is None


def test_a_second_desk_is_refused_before_aiogram_is_imported(tmp_path: Path) -> None:
    """The refusal comes from a look at the lock right after the settings, not after the
    seconds aiogram takes to import."""
    from storage.lockfile import StoreLock  # noqa: PLC0415
    from tests.test_settings import BASE, run_bot  # noqa: PLC0415

    db = tmp_path / "desk.sqlite3"
    held = StoreLock(str(db))
    held.acquire()
    try:
        result = run_bot(tmp_path, "-X", "importtime", "-m", "bot",
                         **BASE, DATABASE_URL=f"sqlite:///{db}")
    finally:
        held.release()
    lines = result.stderr.splitlines()
    [error] = [text for text in lines if not text.startswith("import time:")]
    imported = {
        text.rsplit("|", 1)[1].strip() for text in lines if text.startswith("import time:")
    }
    assert result.returncode == 2
    assert "DATABASE_URL" in error and f"pid {os.getpid()}" in error
    assert not [m for m in imported if m.split(".")[0] in {"aiogram", "vkbottle", "apscheduler"}]

async def test_a_second_store_through_a_symlink_is_refused(tmp_path: Path) -> None:
    real = tmp_path / "data" / "desk.sqlite3"
    real.parent.mkdir()
    link = tmp_path / "desk.sqlite3"
    first = SqliteStore(real, exclusive=True)
    await first.open()
    os.symlink(real, link)
    second = SqliteStore(link, exclusive=True)
    try:
        with pytest.raises(StoreError, match="in use by another Frontdesk process"):
            await second.open()
        assert in_use(str(link)) is not None
    finally:
        await second.close()
        await first.close()


async def test_a_lock_file_removed_while_the_desk_runs_is_made_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "desk.sqlite3"
    first = SqliteStore(db, exclusive=True)
    await first.open()
    Path(f"{db}.lock").unlink()  # a clean-up of stale-looking *.lock files
    await first.get_state("anything")  # the running desk uses its store: it locks anew
    assert "locking it again" in caplog.text
    second = SqliteStore(db, exclusive=True)
    try:
        with pytest.raises(StoreError, match=f"pid {os.getpid()}"):
            await second.open()
    finally:
        await second.close()
        await first.close()


async def test_a_desk_whose_lock_was_taken_by_another_stops_using_the_store(
    tmp_path: Path,
) -> None:
    db = tmp_path / "desk.sqlite3"
    first = SqliteStore(db, exclusive=True)
    await first.open()
    Path(f"{db}.lock").unlink()
    second = SqliteStore(db, exclusive=True)
    await second.open()  # started in the moment between the removal and the first's next use
    try:
        with pytest.raises(StoreError, match="in use by another"):
            await first.get_state("anything")
        with pytest.raises(StoreError):  # and every later use: no two desks sending
            await first.get_state("anything")
    finally:
        await second.close()
        await first.close()


async def test_an_empty_store_file_counts_as_a_new_store(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "desk.sqlite3"
    db.write_bytes(b"")  # a failed restore, `> desk.sqlite3`, a full disk at copy time
    store = SqliteStore(db, exclusive=True)
    await store.open()
    try:
        assert store.created
        assert "a new store was created" in caplog.text
    finally:
        await store.close()
    again = SqliteStore(db, exclusive=True)
    await again.open()
    try:
        assert not again.created
    finally:
        await again.close()
