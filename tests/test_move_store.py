"""move-store: a desk's SQLite store goes into an empty PostgreSQL store and reads the same there.

The source is a real desk's store filled through the store's own interface; the target is a
schema of its own on the PostgreSQL test server (tests/pg.py), read back through the store's
interface too. A refusal or a failure leaves the target as it was.
"""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.move import ProgressBar
from bot.move import main as move_main
from storage import MessageRecord, SqliteStore, Store, store_from_url
from storage.auditing import AuditAction, AuditEntry
from storage.move import TABLES, MoveError, move_store
from storage.values import Attachment, Outbound, Platform, Purpose
from tests.contract.support import FAR, STAFF, T0, due, new_ticket, to_staff
from tests.pg import fresh_schema

ROOT = Path(__file__).resolve().parent.parent
H = timedelta(hours=1)
SECRET = "s3cret-pw"


@dataclass(frozen=True)
class Desk:
    """What the source desk holds, by the numbers the checks need."""

    url: str
    path: Path
    tickets: tuple[int, ...]
    incident: int


async def build_desk(tmp_path: Path) -> Desk:
    """A desk with a row in every table: tickets (one closed, rated), messages, outbox rows
    sent and pending, references, an incident with its card, a blocked citizen, the inbox
    and the polling position."""
    path = tmp_path / "desk.sqlite3"
    store = SqliteStore(path, exclusive=True)
    await store.open()
    try:
        async with store.transaction() as tx:
            first = await tx.create_ticket(new_ticket("42"))
            second = await tx.create_ticket(new_ticket("43", platform=Platform.VK))
            third = await tx.create_ticket(new_ticket("44", opened_at=T0 + H))
            await tx.add_message(MessageRecord(
                first.id, "in", T0, text="Во дворе яма, третий день", source_key="telegram:42:1",
                attachments=(Attachment("photo", "file-1", "яма.jpg"),),
            ))
            await tx.add_message(MessageRecord(first.id, "out", T0 + H, text="Передали",
                                               author="Анна"))
            await tx.citizen_wrote(first.id, "1")
            await tx.answered(first.id, T0 + H)
            await tx.take(second.id, "5001", "Анна")
            await tx.audit(AuditEntry(T0 + H, AuditAction.TAKEN, staff_id="5001",
                                      staff_name="Анна", ticket_id=second.id))
            await tx.rate(third.id, 4, T0 + 2 * H)
            await tx.close_ticket(third.id, T0 + 2 * H)
            await tx.set_blocked(Platform.VK, "666", True)
            await tx.set_state("telegram:offset", "100500")
            incident = await tx.create_incident("Нет воды", "housing", [first.id, second.id], T0)
            await tx.set_incident_state(incident.id, "open", T0 + H)
            await tx.join_incident(second.id, None)  # set apart
            await tx.enqueue(to_staff(Purpose.CARD, first.id))
            await tx.enqueue(Outbound(Platform.TELEGRAM, STAFF, Purpose.INCIDENT_CARD, "card",
                                      html=True, incident=incident.id))
        for row in await due(store):
            await store.outbox_sent(row, ["900"] if row.outbound.purpose is Purpose.CARD
                                    else ["901"])
        async with store.transaction() as tx:  # waiting: one due now, one an hour on
            await tx.enqueue(Outbound(Platform.TELEGRAM, "42", Purpose.ANSWER, "Ответ",
                                      ticket_id=first.id))
            await tx.enqueue(Outbound(Platform.VK, "43", Purpose.NOTICE, "Позже",
                                      ticket_id=second.id), not_before=FAR - H)
        await store.put_inbox("telegram", [("telegram:100500", '{"update_id": 100500}')])
        async with store.transaction() as tx:  # the closed one's citizen asked to be forgotten
            assert await tx.forget_citizen(Platform.TELEGRAM, "44", T0 + 3 * H) == (
                [third.id], [])
    finally:
        await store.close()
    return Desk(f"sqlite:///{path}", path, (first.id, second.id, third.id), incident.id)


async def opened(url: str) -> Store:
    store = store_from_url(url)
    await store.open()
    return store


async def test_a_moved_desk_reads_the_same_on_postgresql(tmp_path: Path) -> None:
    desk = await build_desk(tmp_path)
    async with fresh_schema() as url:
        seen: list[tuple[str, int, int]] = []
        moved = await move_store(desk.url, url, lambda *step: seen.append(step), batch=1)
        assert list(moved.counts) == list(TABLES)
        assert all(moved.counts.values()), moved.counts  # every table had rows to move
        assert moved.last_ticket == max(desk.tickets) and moved.next_ticket == 4
        # Batch by batch, each table from none to all of its rows.
        assert [s for s in seen if s[0] == "tickets"] == [("tickets", n, 3) for n in range(4)]

        old, new = await opened(desk.url), await opened(url)
        try:
            for number in desk.tickets:
                assert await new.ticket(number) == await old.ticket(number)
                assert await new.messages(number) == await old.messages(number)
            assert await new.incident(desk.incident) == await old.incident(desk.incident)
            assert await new.due_outbox(FAR, 100) == await old.due_outbox(FAR, 100)
            assert [i.outbound.text for i in await new.due_outbox(T0 + 9000 * H, 100)] == \
                ["Ответ"]  # the later row is still not due
            assert await new.pending_inbox("telegram", 10) == \
                await old.pending_inbox("telegram", 10)
            assert await new.get_state("telegram:offset") == "100500"
            assert await new.ratings_between(T0, FAR) == [(None, 4)]
            assert await new.audit_for_tickets(desk.tickets) == \
                await old.audit_for_tickets(desk.tickets) != {}
            async with new.transaction() as tx:
                [card_ref] = await tx.ticket_by_ref(Platform.TELEGRAM, STAFF, "900")
                assert card_ref.id == desk.tickets[0]
                found = await tx.incident_by_ref(Platform.TELEGRAM, STAFF, "901")
                assert found is not None and found.id == desk.incident
                assert await tx.apart(desk.tickets) == {desk.tickets[1]}
                state = await tx.intake_state("vk:666:1", Platform.VK, "666", "666")
                assert state.blocked
                # Anonymized stays anonymized, and the request to be forgotten stands.
                assert await tx.forget_asked(Platform.TELEGRAM, "44") == T0 + 3 * H
                assert await tx.personal_tickets(Platform.TELEGRAM, "44") == ([], [])
                # Numbering goes on from the old store: no number is given twice.
                assert (await tx.create_ticket(new_ticket("45"))).id == moved.next_ticket
                later = await tx.create_incident("Свет", None, [], T0)
                assert later.id == desk.incident + 1
        finally:
            await old.close()
            await new.close()


async def test_a_target_that_is_not_empty_is_refused_and_left_alone(tmp_path: Path) -> None:
    desk = await build_desk(tmp_path)
    async with fresh_schema() as url:
        target = await opened(url)
        try:
            async with target.transaction() as tx:
                await tx.create_ticket(new_ticket("77"))
                await tx.set_state("vk:ts", "5")
        finally:
            await target.close()
        with pytest.raises(MoveError) as refused:
            await move_store(desk.url, url)
        assert "\n" not in str(refused.value)
        assert "not empty (tickets: 1, state: 1)" in str(refused.value)
        target = await opened(url)
        try:
            only = await target.ticket(1)
            assert only is not None and only.citizen_id == "77"
            assert await target.ticket(2) is None and await target.get_state("telegram:offset") \
                is None
            assert await target.pending_inbox("telegram", 10) == []
        finally:
            await target.close()


async def test_a_target_a_desk_is_running_on_is_refused(tmp_path: Path) -> None:
    desk = await build_desk(tmp_path)
    async with fresh_schema() as url:
        running = await opened(url)
        try:
            assert await running.heartbeat() == 1  # a desk on the empty store, alive
            with pytest.raises(MoveError, match=r"^--to: 1 desk\(s\) are running on the store"):
                await move_store(desk.url, url)
            assert await running.ticket(1) is None
        finally:
            await running.close()


async def test_a_running_desk_is_not_moved(tmp_path: Path) -> None:
    desk = await build_desk(tmp_path)
    running = SqliteStore(desk.path, exclusive=True)
    await running.open()
    try:
        async with fresh_schema() as url:
            with pytest.raises(MoveError, match=r"is running \(pid \d+\); stop it first"):
                await move_store(desk.url, url)
            target = await opened(url)
            try:
                assert await target.ticket(1) is None
            finally:
                await target.close()
    finally:
        await running.close()


@pytest.mark.parametrize("content", [b"", b"just some notes\n" * 100],
                         ids=["empty file", "not a database"])
async def test_a_file_that_is_no_desks_store_is_refused_untouched(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "notes.sqlite3"
    path.write_bytes(content)
    with pytest.raises(MoveError, match=r"^--from: ") as refused:
        await move_store(f"sqlite:///{path}", "postgresql://postgres@127.0.0.1:1/none")
    assert "\n" not in str(refused.value)
    assert path.read_bytes() == content  # no schema was made in it


async def test_an_unreachable_target_is_named_without_its_password(tmp_path: Path) -> None:
    desk = await build_desk(tmp_path)
    with pytest.raises(MoveError) as refused:
        await move_store(desk.url, f"postgresql://postgres:{SECRET}@127.0.0.1:1/test")
    message = str(refused.value)
    assert message.startswith("--to: cannot open the PostgreSQL store at "
                              "postgresql://postgres@127.0.0.1:1/test: ")
    assert SECRET not in message and "\n" not in message


async def test_a_row_the_target_refuses_mid_copy_leaves_it_empty(tmp_path: Path) -> None:
    """A message of a ticket that is not there (the source's foreign keys were off when it
    was written): the tickets are copied, the messages are refused, nothing stays."""
    desk = await build_desk(tmp_path)
    raw = sqlite3.connect(desk.path)
    with raw:
        raw.execute("INSERT INTO messages (ticket_id, direction, text, created_at) "
                    "VALUES (999, 'in', 'секретный текст', 0)")
    raw.close()
    async with fresh_schema() as url:
        with pytest.raises(MoveError) as failed:
            await move_store(desk.url, url, batch=1)
        message = str(failed.value)
        assert message.startswith("copying messages failed, nothing was written to the target")
        assert "секретный" not in message and "\n" not in message
        target = await opened(url)
        try:
            assert await target.ticket(desk.tickets[0]) is None
            assert await target.get_state("telegram:offset") is None
            assert await target.due_outbox(FAR, 100) == []
            assert await target.pending_inbox("telegram", 10) == []
        finally:
            await target.close()
        # Mended, the same desk moves into the same, still empty, store.
        raw = sqlite3.connect(desk.path)
        with raw:
            raw.execute("DELETE FROM messages WHERE ticket_id = 999")
        raw.close()
        moved = await move_store(desk.url, url)
        assert moved.counts["messages"] == 2


def run_command(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("TELEGRAM_", "STAFF_", "VK_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot", "move-store", *args], cwd=cwd,
        env={**clean, **env, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=60, check=False,
    )


async def test_the_command_moves_a_desk_and_prints_the_counts(tmp_path: Path) -> None:
    desk = await build_desk(tmp_path)
    async with fresh_schema() as url:
        with_password = url.replace("://postgres@", f"://postgres:{SECRET}@", 1)
        result = run_command(tmp_path, "--from", desk.url, "--to", with_password)
        assert result.returncode == 0, result.stderr
        assert result.stderr == ""  # no progress bar where stderr is not a terminal
        lines = result.stdout.splitlines()
        schema = url.split("search_path=", 1)[1].split("&", 1)[0]
        assert lines[0] == (f"moved {desk.path} to "
                            f"postgresql://postgres@127.0.0.1:5432/test?search_path={schema}")
        counted = {line.split()[0]: int(line.split()[1]) for line in lines
                   if line.startswith("  ")}
        assert list(counted) == list(TABLES)
        assert counted["tickets"] == 3 and counted["outbox"] == 4 and counted["refs"] == 1
        assert "tickets: the last is №3, the next will be №4" in lines
        assert SECRET not in result.stdout + result.stderr
        assert "Во дворе" not in result.stdout  # citizens' words stay in the store

        # Without --from: the desk's own DATABASE_URL.
        again = run_command(tmp_path, "--to", with_password, DATABASE_URL=desk.url)
        assert again.returncode == 1
        [line] = again.stderr.splitlines()
        assert line.startswith("frontdesk: move-store: --to: the store at ")
        assert "is not empty (incidents: 1, tickets: 3," in line and SECRET not in line


@pytest.mark.parametrize(("args", "says"), [
    ([], "the following arguments are required: --to"),
    (["--to", "sqlite:///other.sqlite3"], "--to: expected postgresql://"),
    (["--to", "postgresql://u:pw@host:port/db"], "--to: the port is not a number"),
    (["--to", "postgresql://u@h/db", "--from", "postgresql://u@h/db"],
     "--from: expected sqlite:///path"),
    (["--to", "postgresql://u@h/db", "--from", "sqlite:////no/such/desk.sqlite3"],
     "--from: no such file /no/such/desk.sqlite3"),
    (["--to", "postgresql://u@h/db", "--form", "x"], "unrecognized arguments: --form x"),
])
def test_a_wrong_argument_is_one_line_naming_it(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    assert move_main(args) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert err.startswith(f"frontdesk: move-store: {says}")


def test_a_database_url_naming_no_sqlite_file_is_named(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", "postgresql://postgres@127.0.0.1/test")
    assert move_main(["--to", "postgresql://u@h/db"]) == 2
    assert capsys.readouterr().err == (
        "frontdesk: move-store: DATABASE_URL names no SQLite file; give the store to move "
        "with --from sqlite:///path\n")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'gone.sqlite3'}")
    assert move_main(["--to", "postgresql://u@h/db"]) == 2
    assert capsys.readouterr().err == (
        f"frontdesk: move-store: DATABASE_URL: no such file {tmp_path / 'gone.sqlite3'}\n")


def test_the_progress_bar_redraws_one_line_per_table() -> None:
    screen = io.StringIO()
    bar = ProgressBar(screen)
    for done in (0, 5, 10):
        bar("tickets", done, 10)
    bar("state", 0, 0)
    drawn = screen.getvalue()
    assert drawn.count("\n") == 2 and drawn.endswith("\n")
    assert drawn.split("\r")[2].startswith("tickets         [" + "#" * 15 + "." * 15 + "] 5/10")
    assert "\rstate           [" + "#" * 30 + "] 0/0\n" in drawn
