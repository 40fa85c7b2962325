"""`python -m bot export`: a fixed store's tickets, field by field (the staff actions of the
audit trail too), in CSV and xlsx, on both backends; nothing personal with --no-personal, no
staff member's name or id either; hostile text stays text; a running desk's store is read
beside it; its figures agree with the weekly report's.

The store is filled through the real desk (intake, staff answers, /interim, /close, the
rating press) on an injected clock; the export reads it as the command does.
"""

from __future__ import annotations

import asyncio
import csv
import fcntl
import html
import io
import os
import pty
import sqlite3
import struct
import sys
import termios
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot import export as command
from bot.exporting import export
from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.desk import FrontDesk
from handlers.digest import median, percentile
from handlers.export_rows import ExportRows
from handlers.model import Inbound
from handlers.report import report_figures
from handlers.routing import parse_rules
from handlers.texts import Texts
from storage import Store, store_from_url
from storage.base import ExportedTicket
from storage.lockfile import in_use
from storage.values import Channel, Platform
from tests.conftest import MOSCOW, STAFF_CHAT, FixedClock
from tests.pg import fresh_schema
from tests.test_escalation import card_of, deliver, staff
from tests.test_rating import press
from tests.test_report import ticket as report_ticket

PROJECT = Path(__file__).resolve().parent.parent
DEPARTMENTS = """\
[[department]]
key = "housing"
name = "ЖКХ"
topic = 2
words = ["мусор"]
"""
HOSTILE = "=cmd|' /C calc'!A0 ; \"кавычки\" и ;\nвторая строка"
HEADER = [
    "№", "Платформа", "Канал", "Отдел", "Открыто", "Первый ответ", "Закрыто",
    "Время до первого ответа, с рабочего времени", "С опозданием", "Промежуточных ответов",
    "Оценка", "Действия сотрудников",
]
PERSONAL_HEADER = ["Имя", "Имя пользователя", "ID на платформе", "Сообщения гражданина"]


@dataclass(frozen=True)
class Citizen:
    platform: Platform
    user: str
    name: str
    link: str
    channel: Channel = Channel.DIRECT

    def says(self, text: str, message_id: int) -> Inbound:
        comment = self.channel is Channel.COMMENT
        return Inbound(
            platform=self.platform, channel=self.channel,
            chat_id="-100777" if comment else self.user, author_id=self.user,
            author_name=self.name, author_link=self.link, message_id=str(message_id),
            text=text, thread_id="5" if comment else None,
        )


ANNA = Citizen(Platform.TELEGRAM, "918273645", "Анна Смирнова", "https://t.me/anna_smirnova_x")
IVAN = Citizen(Platform.TELEGRAM, "827364591", "Иван Петров", "https://t.me/ivan_petrov_x")
OLGA = Citizen(Platform.VK, "736459182", '-Ольга; "Иванова"', "https://vk.com/id736459182")
PETR = Citizen(Platform.TELEGRAM, "645918273", "Пётр Сидоров", "https://t.me/petr_sid_x",
               Channel.COMMENT)
NINA = Citizen(Platform.TELEGRAM, "559182736", "Нина Орлова", "https://t.me/nina_orl_x")
EARLY = Citizen(Platform.TELEGRAM, "491827365", "Ранний Житель", "https://t.me/early_x")
LATE = Citizen(Platform.TELEGRAM, "382736459", "Поздний Житель", "https://t.me/late_x")
# The staff who answer in the fixed store: their names and ids must not leave --no-personal.
DARYA = ("5550001234", "Кравцова Дарья")
OLEG = ("5550005678", "Оглоблин Олег")
TEXTS = {
    ANNA: ["Первое ноября: где справка"], IVAN: ["Во дворе не вывозят мусор уже неделю"],
    OLGA: [HOSTILE], PETR: ["Яма у остановки Школьная"],
    NINA: ["Не горит фонарь на Лесной", "И второй тоже не горит"],
    EARLY: ["Октябрьское сообщение"], LATE: ["Декабрьское сообщение"],
}


def msk(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=MOSCOW)


class Filling:
    """The desk on an injected clock, and the moves that make the fixed store."""

    def __init__(self, store: Store, clock: FixedClock) -> None:
        calendar = WorkCalendar(BusinessHours.parse("Mon-Fri 09:00-18:00"), MOSCOW)
        config = DeskConfig(
            staff_chat_id=STAFF_CHAT, timezone=MOSCOW, escalation_after=timedelta(hours=8),
            departments=parse_rules(DEPARTMENTS, "departments.toml"),
        )
        self.store, self.clock = store, clock
        self.desk = FrontDesk(store, Texts("ru"), calendar, config, now=clock)
        self.ids = iter(range(7000, 8000))

    async def at(self, moment: datetime) -> None:
        self.clock.moment = moment.astimezone(UTC)

    async def write(self, who: Citizen, text: str, moment: datetime) -> None:
        await self.at(moment)
        await self.desk.receive(who.says(text, next(self.ids)))
        await deliver(self.store)  # type: ignore[arg-type]

    async def staff(
        self, number: int, text: str, moment: datetime, who: tuple[str, str] = DARYA
    ) -> None:
        await self.at(moment)
        card = await card_of(self.store, number)  # type: ignore[arg-type]
        said = staff(text, card, message_id=next(self.ids))
        await self.desk.receive(replace(said, author_id=who[0], author_name=who[1]))
        await deliver(self.store)  # type: ignore[arg-type]


async def fill(store: Store) -> None:
    """№1 and №7 fall outside November; №2-№6 are the export's."""
    f = Filling(store, FixedClock(msk(10, 31, 23, 59)))
    await f.write(EARLY, TEXTS[EARLY][0], msk(10, 31, 23, 59))  # №1, Saturday 31 Oct
    await f.write(ANNA, TEXTS[ANNA][0], msk(11, 1, 0, 0))  # №2, Sunday 1 Nov 00:00
    await f.staff(2, "Справку выдают в МФЦ.", msk(11, 2, 9, 30))  # 30 min of working time
    await f.staff(2, "/close", msk(11, 2, 10))
    await f.write(IVAN, TEXTS[IVAN][0], msk(11, 24, 10))  # №3, to ЖКХ
    await f.staff(3, "Вывезем сегодня.", msk(11, 24, 12))
    await f.staff(3, "/close", msk(11, 24, 12, 30), who=OLEG)
    await f.at(msk(11, 24, 13))
    await f.desk.rate(press("rate:3:5", user=int(IVAN.user), message_id=next(f.ids)))
    await f.write(OLGA, HOSTILE, msk(11, 24, 11))  # №4, VK; due Wed 10:00, answered Thu
    await f.staff(4, "Ответ", msk(11, 26, 10))
    await f.write(PETR, TEXTS[PETR][0], msk(11, 25, 10))  # №5, a comment; due Wed 18:00
    await f.staff(5, "/interim 3 ждём подрядчика", msk(11, 25, 11))
    await f.staff(5, "Засыпали яму.", msk(11, 27, 12))
    await f.write(NINA, TEXTS[NINA][0], msk(11, 30, 23, 30))  # №6, open, never answered
    await f.write(NINA, TEXTS[NINA][1], msk(11, 30, 23, 45))
    await f.write(LATE, TEXTS[LATE][0], msk(12, 1, 0, 0))  # №7, Tuesday 1 Dec 00:00


def figures(*rows: list[object]) -> list[list[object]]:
    return [list(r) for r in rows]


def did(moment: str, action: str, who: tuple[str, str] | None = DARYA) -> str:
    """One entry of the staff actions column; who=None: no name (the citizen's rating)."""
    return f"2026-{moment} {action}" + (f" {who[1]}" if who else "")


# The fixed store as the export must give it: figures, then the personal columns.
EXPECTED = [
    [2, "telegram", "direct", None, "2026-11-01T00:00:00+03:00", "2026-11-02T09:30:00+03:00",
     "2026-11-02T10:00:00+03:00", 1800, "нет", 0, None,
     "; ".join((did("11-02 09:30", "answered"), did("11-02 10:00", "closed")))],
    [3, "telegram", "direct", "ЖКХ", "2026-11-24T10:00:00+03:00",
     "2026-11-24T12:00:00+03:00", "2026-11-24T12:30:00+03:00", 7200, "нет", 0, 5,
     "; ".join((did("11-24 12:00", "answered"), did("11-24 12:30", "closed", OLEG),
                did("11-24 13:00", "rated", None)))],
    # Tue 11-18 (7 h), Wed 9-18 (9 h), Thu 9-10 (1 h): 17 h, past the deadline of Wed 10:00.
    [4, "vk", "direct", None, "2026-11-24T11:00:00+03:00", "2026-11-26T10:00:00+03:00", None,
     61200, "да", 0, None, did("11-26 10:00", "answered")],
    # Wed 10-18 (8 h), Thu (9 h), Fri 9-12 (3 h): 20 h; the interim answer is counted apart.
    [5, "telegram", "comment", None, "2026-11-25T10:00:00+03:00",
     "2026-11-27T12:00:00+03:00", None, 72000, "да", 1, None,
     "; ".join((did("11-25 11:00", "interim"), did("11-27 12:00", "answered")))],
    [6, "telegram", "direct", None, "2026-11-30T23:30:00+03:00", None, None, None, "да", 0,
     None, None],
]
PERSONAL = [
    [ANNA.name, ANNA.link, ANNA.user, TEXTS[ANNA][0]],
    [IVAN.name, IVAN.link, IVAN.user, TEXTS[IVAN][0]],
    [OLGA.name, OLGA.link, OLGA.user, HOSTILE],
    [PETR.name, PETR.link, PETR.user, TEXTS[PETR][0]],
    [NINA.name, NINA.link, NINA.user, "\n\n".join(TEXTS[NINA])],
]


@pytest.fixture(params=["sqlite", "postgresql"])
async def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The fixed store on its backend, filled and closed: its DATABASE_URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
        store = store_from_url(url)
        await store.open()
        await fill(store)
        await store.close()
        yield url
        return
    async with fresh_schema() as url:
        store = store_from_url(url)
        await store.open()
        await fill(store)
        await store.close()
        yield url


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The export's settings as a desk's deployment has them; no .env of the checkout."""
    rules = tmp_path / "departments.toml"
    rules.write_text(DEPARTMENTS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "TIMEZONE": "Europe/Moscow", "BUSINESS_HOURS": "Mon-Fri 09:00-18:00",
        "ESCALATION_AFTER": "08:00:00", "LOCALE": "ru", "LOCALES_DIR": "",
        "DEPARTMENTS_FILE": str(rules),
    }.items():
        monkeypatch.setenv(name, value)
    return tmp_path


async def run(url: str, monkeypatch: pytest.MonkeyPatch, *argv: str) -> int:
    """The command's work as main() does it, inside the test's event loop."""
    monkeypatch.setenv("DATABASE_URL", url)
    asked = command.order(list(argv))
    read = command.settings()
    rows = command.rows_for(read, command.departments(read), personal=asked.personal)
    return await export(command.store_reader(read.database_url), rows, asked.first, asked.last,
                        out=asked.out, kind=asked.kind)


def csv_rows(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def as_csv(cell: object) -> str:
    if cell is None:
        return ""
    text = str(cell)
    return "'" + text if isinstance(cell, str) and text.startswith(("=", "+", "-", "@")) else text


def xlsx_rows(path: Path) -> list[list[object]]:
    book = load_workbook(path, read_only=True)
    rows = [list(row) for row in book.active.iter_rows(values_only=True)]
    book.close()
    # Empty cells are not written; a row read back ends at its last value.
    return [row + [None] * (len(rows[0]) - len(row)) for row in rows]


async def test_csv_has_every_field_of_the_fixed_store(
    store_url: str, environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = environment / "november.csv"
    count = await run(store_url, monkeypatch, "--from", "2026-11-01", "--to", "2026-11-30",
                      "--out", str(out))
    assert count == 5
    rows = csv_rows(out)
    assert rows[0] == HEADER + PERSONAL_HEADER
    expected = [[as_csv(c) for c in e + p] for e, p in zip(EXPECTED, PERSONAL, strict=True)]
    for got, want in zip(rows[1:], expected, strict=True):
        assert got == want
    assert rows[3][-1] == "'" + HOSTILE  # a formula start kept as text, quotes and all
    assert list(environment.glob("*.part")) == []


async def test_xlsx_has_every_field_of_the_fixed_store_as_strings_not_formulas(
    store_url: str, environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = environment / "november.xlsx"
    count = await run(store_url, monkeypatch, "--from", "2026-11-01", "--to", "2026-11-30",
                      "--out", str(out))
    assert count == 5
    rows = xlsx_rows(out)
    assert rows[0] == HEADER + PERSONAL_HEADER
    for got, want, personal in zip(rows[1:], EXPECTED, PERSONAL, strict=True):
        assert got == want + personal
    with zipfile.ZipFile(out) as book:
        sheet = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet and "<f " not in sheet
    assert html.escape(HOSTILE.split("\n", maxsplit=1)[0], quote=False) in sheet


async def test_no_personal_leaves_the_columns_out_and_nothing_personal_anywhere(
    store_url: str, environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for suffix in ("csv", "xlsx"):
        out = environment / f"public.{suffix}"
        await run(store_url, monkeypatch, "--from", "2026-10-01", "--to", "2026-12-31",
                  "--out", str(out), "--no-personal")
        if suffix == "csv":
            rows: list[list[object]] = [[*row] for row in csv_rows(out)]
            data = out.read_bytes()
        else:
            rows = xlsx_rows(out)
            with zipfile.ZipFile(out) as book:
                data = b"".join(book.read(name) for name in book.namelist())
        assert rows[0] == HEADER and all(len(r) == len(HEADER) for r in rows)
        assert len(rows) == 1 + 7
        for who, texts in TEXTS.items():
            words = [who.name, who.link, who.link.rsplit("/", 1)[-1], who.user, *texts]
            words += [line for text in texts for line in text.splitlines()]
            for word in words:
                for form in {word, html.escape(word, quote=False), html.escape(word)}:
                    assert form.encode() not in data, (suffix, word)
        for staff_id, name in (DARYA, OLEG):  # the staff's names and ids, in any part
            for word in (staff_id, name, *name.split()):
                assert word.encode() not in data, (suffix, word)
        # The staff actions stay, their times and actions without who did them.
        actions = {int(r[0]): r[len(HEADER) - 1] for r in rows[1:]}  # type: ignore[call-overload]
        assert actions[2] == "2026-11-02 09:30 answered; 2026-11-02 10:00 closed"
        assert actions[3] == ("2026-11-24 12:00 answered; 2026-11-24 12:30 closed; "
                              "2026-11-24 13:00 rated")
        assert actions[6] in ("", None)


async def test_days_are_local_and_both_ends_included(
    store_url: str, environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = environment / "days.csv"
    await run(store_url, monkeypatch, "--from", "2026-11-01", "--to", "2026-11-01",
              "--out", str(out), "--no-personal")
    assert [r[0] for r in csv_rows(out)[1:]] == ["2"]  # 00:00 of the first day, in Moscow
    await run(store_url, monkeypatch, "--from", "2026-11-30", "--to", "2026-12-01",
              "--out", str(out), "--no-personal")
    assert [r[0] for r in csv_rows(out)[1:]] == ["6", "7"]  # 23:30 and 00:00 local
    await run(store_url, monkeypatch, "--from", "2026-10-31", "--to", "2026-10-31",
              "--out", str(out), "--no-personal")
    assert [r[0] for r in csv_rows(out)[1:]] == ["1"]
    # In UTC №2 was opened on 31 October: the days are the desk's, not UTC's.
    monkeypatch.setenv("TIMEZONE", "UTC")
    await run(store_url, monkeypatch, "--from", "2026-10-31", "--to", "2026-10-31",
              "--out", str(out), "--no-personal")
    assert [r[0] for r in csv_rows(out)[1:]] == ["1", "2"]


async def test_pages_read_the_same_tickets_as_one_read(store_url: str) -> None:
    from bot.command import store_reader  # noqa: PLC0415

    store = store_reader(store_url)
    await store.open()
    try:
        span = (msk(10, 1, 0), msk(12, 2, 0))
        one = [e async for e in store.export_tickets(*span, personal=True, page=100)]
        paged = [e async for e in store.export_tickets(*span, personal=True, page=2)]
        assert paged == one and [e.ticket.id for e in one] == [1, 2, 3, 4, 5, 6, 7]
        assert await store.export_count(*span) == 7
        bare = [e async for e in store.export_tickets(*span, personal=False, page=3)]
        assert bare == [replace(e, texts=()) for e in one]
    finally:
        await store.close()


@pytest.mark.parametrize(("argv", "words"), [
    (["--to", "2026-11-30", "--out", "x.csv"], "--from"),
    (["--from", "2026-11-31", "--to", "2026-12-01", "--out", "x.csv"], "--from: expected"),
    (["--from", "2026-11-30", "--to", "2026-11-01", "--out", "x.csv"], "before"),
    (["--from", "2026-11-01", "--to", "2026-11-30", "--out", "x.txt"], ".csv or .xlsx"),
    (["--from", "2026-11-01", "--to", "2026-11-30", "--out", "x", "--format", "pdf"],
     "csv or xlsx"),
    (["--from", "2026-11-01", "--to", "2026-11-30", "--out", "x.xlsx", "--format", "csv"],
     "does not match"),
    (["--from", "2026-11-01", "--to", "2026-11-30", "--out", "no/such/folder/x.csv"],
     "cannot write in"),
    (["--from", "2026-11-01", "--to", "2026-11-30", "--out", "x.csv", "--bogus"], "--bogus"),
])
def test_a_wrong_argument_is_one_line_and_exit_2(
    argv: list[str], words: str, environment: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{environment / 'desk.sqlite3'}")
    assert command.main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("frontdesk: export: ") and err.count("\n") == 1 and words in err
    assert list(environment.iterdir()) == [environment / "departments.toml"]


def test_a_missing_store_is_named_and_not_created(
    environment: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = environment / "none.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
    code = command.main(["--from", "2026-11-01", "--to", "2026-11-30", "--out", "x.csv"])
    err = capsys.readouterr().err
    assert code == 2 and err == f"frontdesk: export: DATABASE_URL: no store at {missing}\n"
    assert not missing.exists() and not Path(f"{missing}.lock").exists()
    monkeypatch.setenv("TIMEZONE", "Mars/Olympus")
    assert command.main(["--from", "2026-11-01", "--to", "2026-11-30", "--out", "x.csv"]) == 2
    assert capsys.readouterr().err.startswith("frontdesk: export: TIMEZONE: ")


async def test_a_file_that_is_no_store_leaves_the_old_file_alone(environment: Path) -> None:
    (environment / "empty.sqlite3").write_bytes(b"")
    out = environment / "report.csv"
    out.write_text("the last report")
    proc = await command_process(environment, f"sqlite:///{environment / 'empty.sqlite3'}",
                                 "--from", "2026-11-01", "--to", "2026-11-30", "--out", str(out))
    stdout, stderr = await proc.communicate()
    assert proc.returncode == 1 and stderr.decode().count("\n") == 1
    assert stderr.decode().startswith("frontdesk: export: DATABASE_URL: ")
    assert out.read_text() == "the last report" and list(environment.glob(".*.part")) == []
    assert (environment / "empty.sqlite3").read_bytes() == b""


async def command_process(cwd: Path, url: str, *argv: str) -> asyncio.subprocess.Process:
    env = {**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(PROJECT)}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "export", *argv, cwd=cwd, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def test_the_command_reads_the_store_of_a_running_desk_quietly(
    environment: Path, tmp_path: Path
) -> None:
    path = tmp_path / "running.sqlite3"
    url = f"sqlite:///{path}"
    desk_store = store_from_url(url)  # as the desk holds it: with the lock file
    await desk_store.open()
    try:
        await fill(desk_store)
        assert in_use(str(path)) is not None
        out = environment / "running.xlsx"
        proc = await command_process(environment, url, "--from", "2026-11-01",
                                     "--to", "2026-11-30", "--out", str(out))
        stdout, stderr = await proc.communicate()
        assert (proc.returncode, stderr) == (0, b"")  # stderr is no terminal: no bar
        assert stdout.decode() == (
            f"exported 5 tickets opened 2026-11-01 to 2026-11-30 to {out}\n"
        )
        assert [r[0] for r in xlsx_rows(out)[1:]] == [2, 3, 4, 5, 6]
        assert in_use(str(path)) is not None  # the desk still holds its store
        await fill_one_more(desk_store)  # and writes on
    finally:
        await desk_store.close()


async def fill_one_more(store: Store) -> None:
    f = Filling(store, FixedClock(msk(12, 2, 10)))
    f.ids = iter(range(9000, 9100))
    await f.write(ANNA, "Ещё вопрос", msk(12, 2, 10))
    assert (await store.ticket(8)) is not None


async def test_on_a_terminal_a_progress_bar_counts_the_tickets(
    environment: Path, tmp_path: Path
) -> None:
    store_url = f"sqlite:///{tmp_path / 'desk.sqlite3'}"
    store = store_from_url(store_url)
    await store.open()
    await fill(store)
    await store.close()
    main_end, terminal = pty.openpty()
    # A terminal of 24 lines of 80 columns (a new pty has none, and a bar of width 0 is empty).
    fcntl.ioctl(terminal, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "export", "--from", "2026-11-01", "--to", "2026-11-30",
            "--out", str(environment / "bar.csv"), cwd=environment,
            env={**os.environ, "DATABASE_URL": store_url, "PYTHONPATH": str(PROJECT)},
            stdout=asyncio.subprocess.PIPE, stderr=terminal,
        )
        await proc.communicate()
        os.set_blocking(main_end, False)
        shown = os.read(main_end, 65536).decode()
    finally:
        os.close(main_end)
        os.close(terminal)
    assert proc.returncode == 0
    assert "/5 " in shown and "tickets" in shown  # the total from the count, then cleared


async def test_a_read_failing_halfway_leaves_no_file_and_the_old_one_as_it_was(
    environment: Path, tmp_path: Path
) -> None:
    # A store from before ratings existed: it opens, the header is written, the first page
    # fails. The earlier report of that name stays, and no half file is left beside it.
    path = tmp_path / "old.sqlite3"
    store = store_from_url(f"sqlite:///{path}")
    await store.open()
    await fill(store)
    await store.close()
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE ratings")
    db.close()
    out = environment / "report.xlsx"
    out.write_bytes(b"the last report")
    proc = await command_process(environment, f"sqlite:///{path}", "--from", "2026-11-01",
                                 "--to", "2026-11-30", "--out", str(out))
    _, stderr = await proc.communicate()
    assert proc.returncode == 1
    assert stderr.decode() == (
        "frontdesk: export: DATABASE_URL: reading the store failed: no such table: ratings\n"
    )
    assert out.read_bytes() == b"the last report"
    assert list(environment.glob(".report.xlsx.*")) == []


def test_the_export_and_the_weekly_report_agree_on_the_same_tickets() -> None:
    """Per ticket in the export, in sum in the report: the same working times, the same
    median and 90th percentile, the same «late» (more than ESCALATION_AFTER of working time)."""
    calendar = WorkCalendar(BusinessHours.parse("Mon-Fri 09:00-18:00"), MOSCOW)
    config = DeskConfig(staff_chat_id=STAFF_CHAT, timezone=MOSCOW,
                        escalation_after=timedelta(hours=8))
    week = [  # 2026-W48, every ticket opened and first answered in it
        # 8 h of working time, answered an hour after the deadline's 18:00, after hours:
        # not later than the target, in the report as in the export.
        report_ticket(1, Platform.TELEGRAM, msk(11, 23, 10), msk(11, 23, 19)),
        report_ticket(2, Platform.VK, msk(11, 24, 9), msk(11, 24, 12)),  # 3 h
        report_ticket(3, Platform.TELEGRAM, msk(11, 25, 10), msk(11, 26, 10)),  # 9 h: late
        report_ticket(4, Platform.TELEGRAM, msk(11, 26, 17), msk(11, 27, 9, 30)),  # 1.5 h
        report_ticket(5, Platform.VK, msk(11, 27, 10), msk(11, 27, 18)),  # 8 h, at 18:00
        report_ticket(6, Platform.TELEGRAM, msk(11, 28, 12), msk(11, 30, 9, 1)),  # Sat: 1 min
    ]
    week[-1] = replace(week[-1], first_answer_at=msk(11, 29, 20).astimezone(UTC))  # Sun: 0
    rows = ExportRows(calendar, config, Texts("ru"), now=msk(12, 1, 12))
    exported = [rows.row(ExportedTicket(ticket=t, rating=None)) for t in week]
    seconds = [r[HEADER.index("Время до первого ответа, с рабочего времени")] for r in exported]
    late = [r[HEADER.index("С опозданием")] for r in exported]
    assert seconds == [28800, 10800, 32400, 5400, 28800, 0]
    assert late == ["нет", "нет", "да", "нет", "нет", "нет"]
    report = report_figures(calendar, week, monday=date(2026, 11, 23), tz=MOSCOW,
                            target=config.escalation_after)
    spans = [timedelta(seconds=int(s)) for s in seconds]  # type: ignore[call-overload]
    assert report.answered == len(week)
    assert (report.median, report.p90) == (median(spans), percentile(spans, 0.9))
    assert (report.median, report.p90) == (timedelta(hours=5, minutes=30), timedelta(hours=9))
    assert report.late == late.count("да") == 1


async def test_the_file_is_readable_by_its_owner_only(
    store_url: str, environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for suffix in ("csv", "xlsx"):
        out = environment / f"owner.{suffix}"
        await run(store_url, monkeypatch, "--from", "2026-11-01", "--to", "2026-11-30",
                  "--out", str(out))
        assert out.stat().st_mode & 0o777 == 0o600, suffix


async def test_a_store_in_rollback_journal_mode_is_read_without_wal_files(
    environment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A copy made by `python -m bot backup` is in rollback-journal mode: a reader that made
    # it a WAL store, or left -wal and -shm beside it, would change the copy it reads.
    path = tmp_path / "copy.sqlite3"
    store = store_from_url(f"sqlite:///{path}")
    await store.open()
    await fill(store)
    await store.close()
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode = DELETE")
    db.close()
    before = path.read_bytes()
    out = environment / "copy.csv"
    assert await run(f"sqlite:///{path}", monkeypatch, "--from", "2026-11-01",
                     "--to", "2026-11-30", "--out", str(out)) == 5
    assert sorted(p.name for p in tmp_path.glob("copy.sqlite3*")) == [
        "copy.sqlite3", "copy.sqlite3.lock"
    ]
    assert path.read_bytes() == before


async def test_a_stopped_desks_wal_store_is_left_without_the_readers_wal_files(
    environment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Left behind, SQLite's -wal and -shm made by the reader would be its user's, and a desk
    # running as another user could not write them at its next start.
    path = tmp_path / "stopped.sqlite3"
    store = store_from_url(f"sqlite:///{path}")
    await store.open()
    await fill(store)
    await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    db.close()
    shared = [Path(f"{path}-wal"), Path(f"{path}-shm")]
    assert not any(f.exists() for f in shared)
    for kind in ("csv", "xlsx"):
        assert await run(f"sqlite:///{path}", monkeypatch, "--from", "2026-11-01",
                         "--to", "2026-11-30", "--out", str(environment / f"x.{kind}")) == 5
        assert not any(f.exists() for f in shared), kind
    running = store_from_url(f"sqlite:///{path}")  # a desk on it: its files are its own
    await running.open()
    try:
        assert await run(f"sqlite:///{path}", monkeypatch, "--from", "2026-11-01",
                         "--to", "2026-11-30", "--out", str(environment / "y.csv")) == 5
        assert all(f.exists() for f in shared)
        await fill_one_more(running)
    finally:
        await running.close()


async def test_the_export_of_a_week_agrees_with_its_report_on_the_fixed_store(
    store_url: str, environment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.command import store_reader  # noqa: PLC0415
    from handlers.report import week_figures  # noqa: PLC0415

    out = environment / "w48.csv"  # 2026-W48: №3, №4 and №5 opened and answered in it
    await run(store_url, monkeypatch, "--from", "2026-11-23", "--to", "2026-11-29",
              "--out", str(out), "--no-personal")
    rows = csv_rows(out)[1:]
    seconds = [timedelta(seconds=int(r[HEADER.index(
        "Время до первого ответа, с рабочего времени")])) for r in rows]
    late = [r[HEADER.index("С опозданием")] for r in rows]
    assert [r[0] for r in rows] == ["3", "4", "5"] and late == ["нет", "да", "да"]
    read = command.settings()
    rows_of = command.rows_for(read, command.departments(read), personal=False)
    store = store_reader(store_url)
    await store.open()
    try:
        report = await week_figures(store, rows_of.texts, rows_of.calendar, rows_of.config,
                                    date(2026, 11, 23))
    finally:
        await store.close()
    assert report.answered == 3 and report.late == late.count("да")
    assert (report.median, report.p90) == (median(seconds), percentile(seconds, 0.9))
    assert report.median == timedelta(hours=17)
