"""`python -m bot backup FILE`: a consistent, checked copy of a desk's store, running or not.

The store is a real desk's store, written to through the store's own interface or by the
real desk process against the local fake Bot API server while the backup runs; the copy is
restored as README says (copied over the store's file) and read back through the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.backup import main as backup_main
from storage import MessageRecord, SqliteStore, store_from_url
from storage.lockfile import in_use
from storage.sqlite.backup import BackupError, BackupRefused, backup_store
from tests.contract.support import T0, new_ticket
from tests.fakes.telegram import FakeTelegram
from tests.harness import installed
from tests.pg import fresh_schema, need_postgres
from tests.test_crash import bot_env
from tests.test_e2e_telegram import texts_in

ROOT = Path(__file__).resolve().parent.parent
TEXT = "Во дворе третий день не вывозят мусор, контейнеры переполнены. " * 20


async def open_tickets(store: SqliteStore, count: int, first: int = 0) -> list[int]:
    numbers = []
    for n in range(first, first + count):
        async with store.transaction() as tx:
            ticket = await tx.create_ticket(new_ticket(str(10_000 + n)))
            await tx.add_message(MessageRecord(ticket.id, "in", T0, text=f"{n}: {TEXT}"))
        numbers.append(ticket.id)
    return numbers


def integrity(path: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return [row[0] for row in conn.execute("PRAGMA integrity_check")]


def page_count(path: Path) -> int:
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA page_count").fetchone()[0])


def restore(backup: Path, folder: Path) -> Path:
    """README's restore: the copy over the (stopped) desk's file, no stale -wal or -shm."""
    folder.mkdir()
    store = folder / "desk.sqlite3"
    shutil.copyfile(backup, store)
    assert not Path(f"{store}-wal").exists() and not Path(f"{store}-shm").exists()
    return store


async def test_backup_of_a_store_being_written_restores_every_ticket_committed_before(
    tmp_path: Path,
) -> None:
    path = tmp_path / "desk.sqlite3"
    store = SqliteStore(path, exclusive=True)  # as the desk holds it: its lock taken
    await store.open()
    stop = asyncio.Event()
    written: list[int] = []

    async def keep_writing() -> None:
        while not stop.is_set():
            written.extend(await open_tickets(store, 1, first=len(written) + 1_000))
            await asyncio.sleep(0)

    try:
        await open_tickets(store, 150)
        writer = asyncio.create_task(keep_writing())
        await asyncio.sleep(0.05)
        committed = [n for n in range(1, 151)] + list(written)  # before the backup began
        pages = page_count(path)
        # A page a step with a pause: the backup takes hundreds of steps while the desk writes.
        done = await asyncio.to_thread(backup_store, path, tmp_path / "copy.sqlite3",
                                       pages=1, pause=0.002)
        during = len(written) - (len(committed) - 150)
        stop.set()
        await writer
        assert pages > 100 and during > 0  # the desk kept writing while the copy was made
        assert done.tickets >= len(committed) and done.last_ticket == done.tickets
        assert integrity(done.target) == ["ok"]
        # The store is still the desk's, and the desk goes on writing after the backup.
        assert in_use(str(path)) is not None
        [after] = await open_tickets(store, 1, first=99_999)
        assert after == 150 + len(written) + 1

        restored = SqliteStore(restore(done.target, tmp_path / "restored"), exclusive=True)
        await restored.open()
        try:
            for number in committed:
                assert await restored.ticket(number) == await store.ticket(number)
                assert await restored.messages(number) == await store.messages(number)
            assert await restored.ticket(done.last_ticket + 1) is None  # the copy's moment
            [next_one] = await open_tickets(restored, 1, first=50_000)
            assert next_one == done.last_ticket + 1  # numbers go on from the copy's last
        finally:
            await restored.close()
    finally:
        stop.set()
        await store.close()


async def test_backup_while_the_desk_process_runs_does_not_disturb_it(
    tg: FakeTelegram, tmp_path: Path,
) -> None:
    db = tmp_path / "desk.sqlite3"
    await installed(db)
    env = bot_env(tg, db) | {"LOG_LEVEL": "INFO"}
    log = tmp_path / "bot.log"
    with log.open("wb") as sink:
        desk = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env, stdout=sink, stderr=sink,
        )
    try:
        for citizen in (7_100_001, 7_100_002, 7_100_003):
            tg.push_update(tg.private_text(citizen, f"Сообщение {citizen}"))
            await tg.wait_for(lambda c=citizen: desk.returncode is not None  # type: ignore[misc]
                              or texts_in(tg, c), timeout=60)
        assert desk.returncode is None, log.read_text(encoding="utf-8")

        backup = tmp_path / "backups" / "desk-copy.sqlite3"
        backup.parent.mkdir()
        command = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "backup", str(backup), cwd=tmp_path, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(command.communicate(), timeout=60)
        assert command.returncode == 0, err.decode()
        assert err == b""
        assert out.decode().splitlines() == [
            f"backed up {db} to {backup} ({backup.stat().st_size} bytes)",
            "tickets: 3, the last №3",
            "PRAGMA integrity_check: ok",
        ]
        assert sorted(p.name for p in backup.parent.iterdir()) == ["desk-copy.sqlite3"]

        # The desk still runs, still holds its store, and takes the next message as №4.
        tg.push_update(tg.private_text(7_100_004, "Ещё одно сообщение"))
        await tg.wait_for(lambda: desk.returncode is not None or texts_in(tg, 7_100_004),
                          timeout=60)
        assert desk.returncode is None, log.read_text(encoding="utf-8")
        assert texts_in(tg, 7_100_004)[0].startswith("Ваше сообщение №4 получено.")
        assert in_use(str(db)) is not None
    finally:
        if desk.returncode is None:
            desk.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(desk.wait(), timeout=30)
    assert code == 0, log.read_text(encoding="utf-8")
    assert integrity(backup) == ["ok"]
    with contextlib.closing(sqlite3.connect(backup)) as conn:
        assert conn.execute("SELECT id, citizen_id FROM tickets ORDER BY id").fetchall() == [
            (1, "7100001"), (2, "7100002"), (3, "7100003"),
        ]


def run_backup(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
               cwd: Path, url: str, *args: str) -> tuple[int, list[str], list[str]]:
    """The command in this process, with DATABASE_URL alone set: (code, stdout, stderr)."""
    monkeypatch.chdir(cwd)  # no .env of the checkout
    monkeypatch.setenv("DATABASE_URL", url)
    code = backup_main(list(args))
    out, err = capsys.readouterr()
    return code, out.splitlines(), err.splitlines()


async def test_the_command_refuses_an_existing_file_unless_forced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "desk.sqlite3"
    store = SqliteStore(path)
    await store.open()
    await open_tickets(store, 2)
    await store.close()
    target = tmp_path / "backup.sqlite3"
    target.write_bytes(b"yesterday's backup")
    code, out, err = run_backup(monkeypatch, capsys, tmp_path, f"sqlite:///{path}", str(target))
    assert (code, out) == (2, [])
    assert err == [f"frontdesk: backup: {target} exists; name another file, or replace it "
                   "with --force"]
    assert target.read_bytes() == b"yesterday's backup"

    code, out, err = run_backup(monkeypatch, capsys, tmp_path, f"sqlite:///{path}",
                                str(target), "--force")
    assert (code, err) == (0, [])
    assert out[1:] == ["tickets: 2, the last №2", "PRAGMA integrity_check: ok"]
    assert integrity(target) == ["ok"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["backup.sqlite3", "desk.sqlite3"]

    code, _, err = run_backup(monkeypatch, capsys, tmp_path, f"sqlite:///{path}", str(path),
                              "--force")
    assert code == 2
    assert err == [f"frontdesk: backup: {path} is the store itself; name another file"]


def test_the_command_creates_no_store_where_there_is_none(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    code, out, err = run_backup(monkeypatch, capsys, tmp_path, f"sqlite:///{missing}",
                                str(tmp_path / "copy.sqlite3"))
    assert (code, out) == (2, [])
    assert err == [f"frontdesk: backup: no store at {missing}"]
    assert list(tmp_path.iterdir()) == []  # no store, no lock file, no copy


@pytest.mark.parametrize("content", [b"", b"not a database at all\n" * 200])
def test_the_command_refuses_a_file_that_is_not_a_desks_store(
    content: bytes, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    other = tmp_path / "other.sqlite3"
    other.write_bytes(content)
    code, _, err = run_backup(monkeypatch, capsys, tmp_path, f"sqlite:///{other}",
                              str(tmp_path / "copy.sqlite3"))
    assert code == 2 and len(err) == 1
    assert err[0].startswith(f"frontdesk: backup: {other} is not a desk's store")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.sqlite3"]
    assert other.read_bytes() == content


def test_the_command_points_a_postgresql_desk_to_pg_dump(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    url = "postgresql://frontdesk:s3cret-pw@db.example.local:5432/frontdesk?search_path=desk"
    code, out, err = run_backup(monkeypatch, capsys, tmp_path, url, "frontdesk.dump")
    assert (code, out) == (2, [])
    assert err == [
        "frontdesk: backup: DATABASE_URL names a PostgreSQL store; back it up with pg_dump: "
        "pg_dump --format=custom --file=frontdesk.dump --schema=desk "
        "postgresql://frontdesk@db.example.local:5432/frontdesk (README: Backup and restore)"
    ]
    assert list(tmp_path.iterdir()) == []


async def test_the_pg_dump_command_it_prints_backs_up_a_postgresql_desk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    need_postgres()
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump and pg_restore (PostgreSQL's client programs) are not installed")
    async with fresh_schema() as url:
        store = store_from_url(url)
        await store.open()
        try:
            async with store.transaction() as tx:
                await tx.create_ticket(new_ticket("42"))
        finally:
            await store.close()
        dump = tmp_path / "frontdesk.dump"
        _, _, [line] = run_backup(monkeypatch, capsys, tmp_path, url, str(dump))
        command = shlex.split(line.split("back it up with pg_dump: ", 1)[1]
                              .removesuffix(" (README: Backup and restore)"))
        dumped = subprocess.run(command, capture_output=True, text=True, timeout=60,
                                check=False)
        assert dumped.returncode == 0, dumped.stderr
        listed = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True,
                                text=True, timeout=60, check=True).stdout
        schema = url.split("search_path=", 1)[1].split("&", 1)[0]
        assert f"TABLE DATA {schema} tickets " in listed
        assert f"TABLE DATA {schema} schema_version " in listed

        # README's restore, after one more ticket: the store as it was at the dump.
        store = store_from_url(url)
        await store.open()
        try:
            async with store.transaction() as tx:
                assert (await tx.create_ticket(new_ticket("43"))).id == 2
        finally:
            await store.close()
        flags = ["--clean", "--if-exists", "--no-owner", "--single-transaction"]
        readme = (ROOT / "README.md").read_text(encoding="utf-8")
        assert f"pg_restore {' '.join(flags)} \\\n  --dbname=" in readme
        restored = subprocess.run(["pg_restore", *flags, f"--dbname={command[-1]}", str(dump)],
                                  capture_output=True, text=True, timeout=60, check=False)
        assert restored.returncode == 0, restored.stderr
        store = store_from_url(url)
        await store.open()
        try:
            assert (await store.ticket(1)) is not None
            assert await store.ticket(2) is None
        finally:
            await store.close()


async def test_a_copy_that_fails_its_check_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "desk.sqlite3"
    store = SqliteStore(path)
    await store.open()
    await open_tickets(store, 40)
    await store.close()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        [(root,)] = conn.execute("SELECT rootpage FROM sqlite_master WHERE type = 'index' "
                                 "AND tbl_name = 'messages' LIMIT 1").fetchall()
    # A damaged index page (a disk error the desk has not read yet): its cells overwritten.
    with path.open("r+b") as file:
        file.seek((root - 1) * page_size + page_size // 2)
        file.write(os.urandom(page_size // 2))
    target = tmp_path / "copy.sqlite3"
    with pytest.raises(BackupError, match="integrity_check") as caught:
        backup_store(path, target)
    assert not isinstance(caught.value, BackupRefused)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desk.sqlite3"]
    code, out, [line] = run_backup(monkeypatch, capsys, tmp_path, f"sqlite:///{path}",
                                   str(target))
    assert (code, out) == (1, [])
    assert line.startswith("frontdesk: backup: the copy failed PRAGMA integrity_check, so the "
                           "store itself is likely damaged: ")
    assert line.endswith(f"; nothing was written to {target}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["desk.sqlite3"]


def test_help_says_what_it_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert backup_main(["--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: python -m bot backup [-h] [--force] FILE")
    assert "PRAGMA integrity_check" in out and "pg_dump" in out


def test_a_backup_stopped_by_sigterm_leaves_no_partial_copy_behind(tmp_path: Path) -> None:
    # A store of some size, so that the copy takes long enough to be stopped half-way.
    path = tmp_path / "desk.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        conn.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, text BLOB)")
        conn.executemany("INSERT INTO tickets (text) VALUES (?)",
                         ((os.urandom(64 * 1024),) for _ in range(4000)))  # 256 MB
        conn.commit()
    folder = tmp_path / "backups"
    folder.mkdir()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": f"sqlite:///{path}"}
    backup = subprocess.Popen(
        [sys.executable, "-m", "bot", "backup", str(folder / "copy.sqlite3")],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        for _ in range(3000):  # the copy under way: its temporary file has pages in it
            partial = [p for p in folder.iterdir() if p.name.endswith(".partial")]
            if partial and partial[0].stat().st_size > 0:
                break
            assert backup.poll() is None, backup.communicate()
            time.sleep(0.01)
        backup.send_signal(signal.SIGTERM)
        _, err = backup.communicate(timeout=60)
    finally:
        if backup.poll() is None:
            backup.kill()
    assert backup.returncode == 130, err
    assert err == f"frontdesk: backup: interrupted; nothing was written to " \
        f"{folder / 'copy.sqlite3'}\n"
    assert list(folder.iterdir()) == []


async def test_a_folder_that_cannot_be_synced_still_has_the_checked_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "desk.sqlite3"
    store = SqliteStore(path)
    await store.open()
    await open_tickets(store, 3)
    await store.close()
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if os.path.isdir(f"/proc/self/fd/{fd}"):  # a network share refusing a folder's sync
            raise OSError(22, "Invalid argument")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    target = tmp_path / "copy.sqlite3"
    done = backup_store(path, target)  # told it was backed up, and it is
    assert (done.tickets, done.last_ticket) == (3, 3) and integrity(target) == ["ok"]


def test_the_copy_holds_what_is_still_in_the_wal_and_stands_alone(tmp_path: Path) -> None:
    path = tmp_path / "desk.sqlite3"
    with contextlib.closing(sqlite3.connect(path, isolation_level=None)) as desk:
        desk.execute("PRAGMA journal_mode = WAL")
        desk.execute("PRAGMA wal_autocheckpoint = 0")  # every commit stays in the -wal
        desk.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        desk.execute("CREATE TABLE tickets (id INTEGER PRIMARY KEY, text TEXT)")
        for n in range(300):
            desk.execute("INSERT INTO tickets (text) VALUES (?)", (f"{n}: {TEXT}",))
        # The desk still runs: the store's file itself has none of it yet.
        assert Path(f"{path}-wal").stat().st_size > path.stat().st_size
        folder = tmp_path / "backups"
        folder.mkdir()
        done = backup_store(path, folder / "copy.sqlite3")
        assert (done.tickets, done.last_ticket) == (300, 300)
        # One file, FILE alone: no -wal or -shm of its own beside it.
        assert [p.name for p in folder.iterdir()] == ["copy.sqlite3"]
        with contextlib.closing(sqlite3.connect(folder / "copy.sqlite3")) as copy:
            assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
            assert copy.execute("SELECT COUNT(*) FROM tickets").fetchone() == (300,)
