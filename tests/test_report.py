"""The weekly report: its figures and words from a fixed week, the chart as a PNG, the weekly
job on an injected clock, `/report` through the real polling loop, `python -m bot report`."""

from __future__ import annotations

import ast
import asyncio
import io
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.chart import render_png
from bot.delivery import DeliveryResult
from bot.report import main as report_main
from bot.telegram.delivery import TelegramDelivery
from bot.telegram.report_delivery import ReportDelivery
from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.report import (
    STATE_KEY,
    ReportFigures,
    WrongWeek,
    begin_reports,
    last_full_week,
    parse_week,
    report_figures,
    report_message,
    send_weekly_report,
    summary_text,
    week_label,
)
from handlers.texts import Texts
from scheduler.jobs import DeskScheduler
from storage import NewTicket, SqliteStore, Store, Ticket, store_from_url
from storage.values import Channel, Platform, Purpose
from tests import harness
from tests.conftest import MOSCOW, STAFF_CHAT, FixedClock
from tests.fakes.telegram import FakeTelegram, Upload
from tests.harness import STAFF_CHAT as TG_STAFF_CHAT
from tests.harness import TOKEN, Desk, installed

ROOT = Path(__file__).resolve().parent.parent
SUPERVISORS = "-100777"
FAR = datetime(2100, 1, 1, tzinfo=UTC)
W48 = date(2026, 11, 23)  # Monday of 2026-W48
NAMES = {"roads": "Дороги", "housing": "ЖКХ"}


def msk(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=MOSCOW)


def ticket(
    number: int, platform: Platform, opened: datetime, answered: datetime | None = None,
    category: str | None = None,
) -> Ticket:
    return Ticket(
        id=number, platform=platform, channel=Channel.DIRECT, chat_id=str(number),
        conversation=str(number), citizen_id=str(number), citizen_name="Ирина",
        citizen_link="", thread_id=None, reply_to=None, link="", summary="вопрос",
        status="open", opened_at=opened.astimezone(UTC), waiting_since=None, deadline_at=None,
        first_answer_at=answered.astimezone(UTC) if answered else None, last_answer_at=None,
        closed_at=None, escalation_level=0, next_escalation_at=None, card_chat_id=None,
        card_message_id=None, unreachable=None, category=category,
    )


TG, VK = Platform.TELEGRAM, Platform.VK
# 2026-W48, Mon-Fri 09:00-18:00 Moscow; first answers in working time: 1, 2, 3, 9 and 3 h.
WEEK = [
    ticket(1, TG, msk(11, 23, 10), msk(11, 23, 11), "roads"),
    ticket(2, TG, msk(11, 23, 10), msk(11, 23, 12), "roads"),
    ticket(3, VK, msk(11, 24, 9), msk(11, 24, 12), "housing"),
    ticket(4, TG, msk(11, 25, 10), msk(11, 26, 10), "roads"),  # 9 h: later than 8 h
    ticket(5, VK, msk(11, 27, 17), msk(11, 30, 10)),  # answered after the week
    ticket(6, TG, msk(11, 28, 12), None, "housing"),  # Saturday, no answer
    ticket(7, VK, msk(11, 20, 17), msk(11, 23, 11), "housing"),  # last week's, answered now
    ticket(8, TG, msk(11, 29, 23, 30), None, "roads"),  # Sunday night, Moscow time
    ticket(9, TG, msk(11, 30, 0, 10), None, "roads"),  # the next week
]


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar(BusinessHours.parse("Mon-Fri 09:00-18:00"), MOSCOW)


@pytest.fixture
def config() -> DeskConfig:
    return DeskConfig(staff_chat_id=STAFF_CHAT, timezone=MOSCOW,
                      escalation_after=timedelta(hours=8), escalation_chat_id=SUPERVISORS)


def figures_of(calendar: WorkCalendar, departments: bool = True) -> ReportFigures:
    return report_figures(
        calendar, WEEK, monday=W48, tz=MOSCOW, target=timedelta(hours=8),
        department=(lambda key: NAMES.get(key or "", "общий чат")) if departments else None,
    )


# the figures and their words


def test_weeks_are_iso_weeks_and_the_last_full_one_is_before_this_monday() -> None:
    assert parse_week("2026-W48") == W48 and parse_week("2026w48") == W48
    assert week_label(W48) == "2026-W48" and week_label(date(2026, 1, 1)) == "2026-W01"
    assert last_full_week(date(2026, 12, 4)) == W48  # a Friday
    assert last_full_week(date(2026, 11, 30)) == W48  # the next Monday
    for wrong in ("2026-48", "2026-W54", "W48", "48", ""):
        with pytest.raises(WrongWeek):
            parse_week(wrong)


def test_figures_of_a_fixed_week(calendar: WorkCalendar) -> None:
    figures = figures_of(calendar)
    assert dict(figures.per_day) == {TG: (2, 0, 1, 0, 0, 1, 1), VK: (0, 1, 0, 0, 1, 0, 0)}
    assert figures.opened == 7 and figures.opened_on(TG) == 5 and figures.opened_on(VK) == 2
    # Answers given in the week: 1, 2, 3, 9 and ticket 7's 3 h (Friday 17-18, Monday 9-11).
    assert figures.answered == 5
    assert figures.median == timedelta(hours=3) and figures.p90 == timedelta(hours=9)
    assert figures.late == 1 and figures.late_share == pytest.approx(0.2)
    assert figures.unanswered == 3  # tickets 5, 6 and 8
    assert figures.departments == (("Дороги", 4), ("ЖКХ", 2), ("общий чат", 1))


def test_summary_in_russian(calendar: WorkCalendar, texts: Texts) -> None:
    assert summary_text(texts, figures_of(calendar)).splitlines() == [
        "Отчёт за неделю 2026-W48: 23 ноября — 29 ноября 2026",
        "Новых сообщений: 7 (Telegram — 5, ВКонтакте — 2)",
        "Первый ответ (рабочее время; ответов: 5): медиана 3 ч, 90% — не дольше 9 ч; цель — 8 ч",
        "Позже цели: 1 из 5 (20%)",
        "Без ответа к концу недели: 3",
        "Больше всего сообщений: Дороги — 4; ЖКХ — 2; общий чат — 1",
    ]


def test_summary_in_english_with_a_fractional_share_and_no_departments(
    calendar: WorkCalendar,
) -> None:
    figures = replace(figures_of(calendar, departments=False), answered=40, late=3)
    assert figures.departments == ()
    assert summary_text(Texts("en"), figures).splitlines() == [
        "Week 2026-W48 report: November 23 — November 29, 2026",
        "New messages: 7 (Telegram 5, VK 2)",
        "First answer (working time; 40 answered): median 3 h, 90% within 9 h; target 8 h",
        "Later than the target: 3 of 40 (7.5%)",
        "Without an answer at the end of the week: 3",
    ]
    assert "(7,5%)" in summary_text(Texts("ru"), figures)


def test_a_week_without_answers_says_so(calendar: WorkCalendar, texts: Texts) -> None:
    figures = report_figures(calendar, [WEEK[5]], monday=W48, tz=MOSCOW,
                             target=timedelta(hours=8))
    assert figures.median is None and figures.late_share is None
    assert "Первых ответов за неделю не было" in summary_text(texts, figures)


# the chart


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as image:
        image.verify()
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size


@pytest.mark.parametrize("locale", ["ru", "en"])
def test_chart_of_the_fixed_week_is_a_png_of_sane_size(
    calendar: WorkCalendar, locale: str, tmp_path: Path
) -> None:
    data = render_png(Texts(locale), figures_of(calendar))
    assert png_size(data) == (1000, 700)
    assert 10_000 < len(data) < 1_000_000
    (tmp_path / f"report-{locale}.png").write_bytes(data)


def test_chart_of_an_empty_week_draws_too(calendar: WorkCalendar, texts: Texts) -> None:
    empty = report_figures(calendar, [], monday=W48, tz=MOSCOW, target=timedelta(hours=8))
    assert png_size(render_png(texts, empty)) == (1000, 700)


def top_level_imports(path: Path) -> set[str]:
    """The modules a file imports when it is imported (not those imported in functions)."""
    names: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_matplotlib_is_imported_only_when_a_chart_is_drawn() -> None:
    # Start-up time matters: only bot/chart.py imports matplotlib, and nothing imports it
    # at import time; it is imported where a chart is drawn.
    heavy = {}
    for folder in ("bot", "handlers", "scheduler", "storage"):
        for path in (ROOT / folder).rglob("*.py"):
            found = {n for n in top_level_imports(path)
                     if n.split(".")[0] == "matplotlib" or n.startswith("bot.chart")}
            if found:
                heavy[str(path.relative_to(ROOT))] = found
    assert list(heavy) == ["bot/chart.py"]
    assert all(n.startswith("matplotlib") for n in heavy["bot/chart.py"])


# the weekly job


async def add_ticket(store: Store, hint: str, opened: datetime,
                     answered: datetime | None = None) -> None:
    async with store.transaction() as tx:
        made = await tx.create_ticket(NewTicket(
            platform=Platform.TELEGRAM, channel=Channel.DIRECT, chat_id=hint,
            conversation=hint, citizen_id=hint, citizen_name="Ирина", citizen_link="",
            thread_id=None, reply_to=None, link="", summary=hint, opened_at=opened,
            deadline_at=None,
        ))
        if answered is not None:
            await tx.answered(made.id, answered)


async def reports_in(store: SqliteStore) -> list[tuple[str, str]]:
    return [(i.outbound.chat_id, i.outbound.text) for i in await store.due_outbox(FAR, 100)
            if i.outbound.purpose is Purpose.REPORT]


async def test_weekly_job_sends_once_on_monday_also_after_a_restart(
    tmp_path: Path, texts: Texts, calendar: WorkCalendar, config: DeskConfig
) -> None:
    path = tmp_path / "desk.sqlite3"
    clock = FixedClock(msk(11, 30, 9, 29))  # Monday 30 November, before REPORT_AT
    first = SqliteStore(path)
    await first.open()
    jobs = DeskScheduler(first, texts, calendar, config, check_interval=timedelta(seconds=30),
                         digest_at=None, now=clock, report_at=time(9, 30))
    assert await jobs.report() == []
    clock.moment = msk(11, 30, 9, 30)
    assert await jobs.report() == ["2026-W48"]
    clock.advance(minutes=5)
    assert await jobs.report() == []
    await first.close()

    again = SqliteStore(path)
    await again.open()
    try:
        jobs = DeskScheduler(again, texts, calendar, config, check_interval=timedelta(30),
                             digest_at=None, now=clock, report_at=time(9, 30))
        for moment in (msk(11, 30, 15), msk(12, 1, 10), msk(12, 6, 23)):
            clock.moment = moment
            assert await jobs.report() == []
        assert await reports_in(again) == [(SUPERVISORS, "2026-W48")]
        assert await again.get_state(STATE_KEY) == "2026-W48"
        clock.moment = msk(12, 7, 9, 30)  # the next Monday: the next week
        assert await jobs.report() == ["2026-W49"]
    finally:
        await again.close()


async def test_a_holiday_monday_moves_the_report_to_the_next_working_day(
    store: SqliteStore, calendar: WorkCalendar, config: DeskConfig
) -> None:
    await store.set_state(STATE_KEY, "2026-W07")
    # 23 February 2026 is Defender of the Fatherland Day, a Monday off.
    assert await send_weekly_report(store, calendar, config, time(9, 30), msk(2, 23, 12)) == []
    assert await send_weekly_report(store, calendar, config, time(9, 30), msk(2, 24, 9)) == []
    assert await send_weekly_report(
        store, calendar, config, time(9, 30), msk(2, 24, 16)  # started late that day
    ) == ["2026-W08"]
    assert await reports_in(store) == [(SUPERVISORS, "2026-W08")]


async def test_after_a_week_of_holidays_both_weeks_are_reported_on_the_first_working_day(
    store: SqliteStore, calendar: WorkCalendar, config: DeskConfig
) -> None:
    await store.set_state(STATE_KEY, "2025-W52")  # sent on 29 December 2025
    at = time(9, 30)
    # 5 to 11 January 2026: New Year holidays, 9 January a transferred day off.
    assert await send_weekly_report(store, calendar, config, at, msk(1, 9, 12)) == []
    assert await send_weekly_report(store, calendar, config, at, msk(1, 12, 9, 30)) == [
        "2026-W01", "2026-W02"
    ]
    assert await send_weekly_report(store, calendar, config, at, msk(1, 12, 10)) == []


async def test_a_new_desk_reports_only_the_last_week_and_to_the_staff_chat_alone(
    store: SqliteStore, calendar: WorkCalendar, config: DeskConfig
) -> None:
    alone = replace(config, escalation_chat_id="")
    assert await send_weekly_report(store, calendar, alone, time(9), msk(12, 4, 12)) == [
        "2026-W48"
    ]
    assert await reports_in(store) == [(STAFF_CHAT, "2026-W48")]


async def test_a_store_made_at_this_start_reports_from_this_week_on(
    store: SqliteStore, calendar: WorkCalendar, config: DeskConfig
) -> None:
    await begin_reports(store, config, msk(12, 4, 12))
    assert await send_weekly_report(store, calendar, config, time(9), msk(12, 4, 12)) == []
    assert await send_weekly_report(store, calendar, config, time(9), msk(12, 7, 10)) == [
        "2026-W49"
    ]
    await begin_reports(store, config, msk(12, 14, 12))  # a mark that is there stays
    assert await store.get_state(STATE_KEY) == "2026-W49"


async def test_a_desk_that_creates_its_store_sends_no_report_of_the_week_before(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "new.sqlite3"
    async with Desk(tg.base_url, db, new_store=True, report_at=time(0, 0)) as desk:
        assert desk.app is not None
        assert await desk.app.scheduler.report() == []
        marked = await desk.app.store.get_state(STATE_KEY)
    assert marked == week_label(last_full_week(datetime.now(MOSCOW).date()))
    assert not tg.calls("sendPhoto")


# `/report` through the real aiogram polling loop and the sender, against the fake Telegram


@pytest.mark.usefixtures("either_store")
async def test_report_command_in_the_staff_chat_ends_in_a_photo_with_its_summary(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    db = tmp_path / "d.sqlite3"
    await installed(db)
    monday = last_full_week(datetime.now(MOSCOW).date())
    week = week_label(monday)
    store = SqliteStore(db) if harness.STORE_URL is None else store_from_url(harness.STORE_URL)
    await store.open()
    opened = datetime.combine(monday, time(10), tzinfo=MOSCOW)
    await add_ticket(store, "a", opened, opened + timedelta(hours=1))
    await add_ticket(store, "b", opened + timedelta(days=1), opened + timedelta(days=1, hours=3))
    await store.close()
    async with Desk(tg.base_url, db):
        tg.push_update(tg.group_text(TG_STAFF_CHAT, 7001, "/report"))
        tg.push_update(tg.group_text(TG_STAFF_CHAT, 7001, "/report 2099-W01"))
        [photo] = await tg.wait_sent(1, chat_id=TG_STAFF_CHAT, method="sendPhoto")
        await tg.wait_sent(1, chat_id=TG_STAFF_CHAT, method="sendMessage")
    [call] = tg.calls("sendPhoto", chat_id=TG_STAFF_CHAT)
    upload = call.params["photo"]
    assert isinstance(upload, Upload) and upload.filename == f"report-{week}.png"
    assert png_size(upload.data) == (1000, 700)
    caption = photo["params"]["caption"].splitlines()
    assert caption[0].startswith(f"Отчёт за неделю {week}: ")
    assert caption[1:4] == [
        "Новых сообщений: 2 (Telegram — 2, ВКонтакте — 0)",
        "Первый ответ (рабочее время; ответов: 2): медиана 2 ч, 90% — не дольше 3 ч; цель — 8 ч",
        "Позже цели: 0 из 2 (0%)",
    ]
    [refused] = tg.sent(TG_STAFF_CHAT, "sendMessage")
    assert "/report 2026-W48" in refused["params"]["text"]
    assert "«2099-W01» не подходит" in refused["params"]["text"]


# the delivery of a report row, drawn at send time


async def deliver_row(
    tg: FakeTelegram, store: SqliteStore, texts: Texts, calendar: WorkCalendar,
    config: DeskConfig, *, week: str = "2026-W48",
) -> DeliveryResult:
    """One report row sent as the sender sends it, through a real Bot to the fake."""
    delivery = TelegramDelivery(tg.bot(), store, ReportDelivery(store, texts, calendar, config))
    row = replace(report_message(str(TG_STAFF_CHAT), W48), text=week)
    try:
        return await delivery.deliver(row, 1)
    finally:
        await delivery.bot.session.close()


async def test_a_chart_that_cannot_be_drawn_sends_the_summary_saying_so(
    tg: FakeTelegram, store: SqliteStore, calendar: WorkCalendar, config: DeskConfig,
    tmp_path: Path,
) -> None:
    # An operator's text the chart cannot be labelled with: the figures still go, in words.
    (tmp_path / "texts" / "ru").mkdir(parents=True)
    (tmp_path / "texts" / "ru" / "report.ftl").write_text(
        "chart-title = { $no-such-value }\n", encoding="utf-8"
    )
    texts = Texts("ru", tmp_path / "texts")
    await add_ticket(store, "a", msk(11, 23, 10), msk(11, 23, 11))
    result = await deliver_row(tg, store, texts, calendar, config)
    assert result.ok and len(result.message_ids) == 1
    assert tg.calls("sendPhoto") == []
    [sent] = tg.sent(TG_STAFF_CHAT, "sendMessage")
    lines = sent["params"]["text"].splitlines()
    assert lines[1] == "Новых сообщений: 1 (Telegram — 1, ВКонтакте — 0)"
    assert lines[-1] == ("График за неделю 2026-W48 построить не удалось (TextsError); "
                         "цифры — в этом сообщении.")


async def test_a_summary_too_long_for_a_caption_follows_the_photo_as_a_message(
    tg: FakeTelegram, store: SqliteStore, calendar: WorkCalendar, config: DeskConfig,
    tmp_path: Path,
) -> None:
    (tmp_path / "texts" / "ru").mkdir(parents=True)
    (tmp_path / "texts" / "ru" / "report.ftl").write_text(
        "report-title = Неделя { $week }. " + "Пояснение к отчёту. " * 60 + "\n",
        encoding="utf-8",
    )
    result = await deliver_row(tg, store, Texts("ru", tmp_path / "texts"), calendar, config)
    assert result.ok and len(result.message_ids) == 2
    [photo] = tg.calls("sendPhoto", chat_id=TG_STAFF_CHAT)
    assert "caption" not in photo.params and isinstance(photo.params["photo"], Upload)
    [text] = tg.sent(TG_STAFF_CHAT, "sendMessage")
    assert text["params"]["text"].startswith("Неделя 2026-W48. Пояснение")
    assert "Без ответа к концу недели: 0" in text["params"]["text"]


async def test_a_report_row_naming_no_week_fails_for_good(
    tg: FakeTelegram, store: SqliteStore, texts: Texts, calendar: WorkCalendar,
    config: DeskConfig,
) -> None:
    result = await deliver_row(tg, store, texts, calendar, config, week="no week")
    assert not result.ok and result.permanent and "names no week" in (result.error or "")
    assert tg.sent(TG_STAFF_CHAT) == []


# `python -m bot report`


@pytest.fixture
def desk_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The desk's settings in the environment; the working folder without a .env."""
    db = tmp_path / "desk.sqlite3"
    monkeypatch.chdir(tmp_path)
    for name, value in {
        "TELEGRAM_TOKEN": TOKEN, "STAFF_CHAT_ID": TG_STAFF_CHAT, "DATABASE_URL": f"sqlite:///{db}",
        "BUSINESS_HOURS": "Mon-Fri 09:00-18:00", "TIMEZONE": "Europe/Moscow", "LOCALE": "ru",
        "ESCALATION_AFTER": "08:00:00", "DEPARTMENTS_FILE": "", "LOCALES_DIR": "",
    }.items():
        monkeypatch.setenv(name, str(value))
    return db


def test_cli_reads_a_running_desks_store_writes_the_png_and_prints_the_summary(
    desk_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def fill_and_hold() -> SqliteStore:
        holder = SqliteStore(desk_env, exclusive=True)  # as the running desk holds it
        await holder.open()
        await add_ticket(holder, "a", msk(11, 23, 10), msk(11, 23, 11))
        await add_ticket(holder, "b", msk(11, 24, 10), msk(11, 25, 10))  # 9 h
        return holder

    loop = asyncio.new_event_loop()
    holder = loop.run_until_complete(fill_and_hold())
    try:
        before = desk_env.stat().st_mtime_ns, desk_env.stat().st_size
        out = tmp_path / "report.png"
        assert report_main(["--week", "2026-W48", "--out", str(out)]) == 0
        assert (desk_env.stat().st_mtime_ns, desk_env.stat().st_size) == before
    finally:
        loop.run_until_complete(holder.close())
        loop.close()
    assert png_size(out.read_bytes()) == (1000, 700)
    printed = capsys.readouterr()
    assert printed.out.splitlines()[:4] == [
        "Отчёт за неделю 2026-W48: 23 ноября — 29 ноября 2026",
        "Новых сообщений: 2 (Telegram — 2, ВКонтакте — 0)",
        "Первый ответ (рабочее время; ответов: 2): медиана 5 ч, 90% — не дольше 9 ч; цель — 8 ч",
        "Позже цели: 1 из 2 (50%)",
    ]
    assert printed.err.strip().endswith(str(out))


@pytest.mark.parametrize("week", ["2026-48", "2099-W01", "2026-W60"])
def test_cli_refuses_a_wrong_week_in_one_line(
    desk_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], week: str
) -> None:
    assert report_main(["--week", week, "--out", str(tmp_path / "r.png")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("frontdesk: report: --week: ")
    assert not (tmp_path / "r.png").exists()


def test_cli_names_a_missing_store_and_makes_none(
    desk_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert report_main(["--out", str(tmp_path / "r.png")]) == 2
    err = capsys.readouterr().err
    assert err == f"frontdesk: report: DATABASE_URL: no store at {desk_env}\n"
    assert not desk_env.exists() and not (tmp_path / "r.png").exists()


class RecordedTexts(Texts):
    """The Russian texts, each key asked for recorded."""

    def __init__(self) -> None:
        super().__init__("ru")
        self.asked: list[str] = []

    def get(self, key: str, **args: object) -> str:
        self.asked.append(key)
        return super().get(key, **args)


def test_a_quiet_week_of_a_desk_with_departments_does_not_say_it_has_none(
    calendar: WorkCalendar,
) -> None:
    texts = RecordedTexts()
    quiet = report_figures(calendar, [], monday=W48, tz=MOSCOW, target=timedelta(hours=8),
                           department=lambda key: NAMES.get(key or "", "общий чат"))
    png_size(render_png(texts, quiet))
    assert "chart-no-messages" in texts.asked and "chart-no-departments" not in texts.asked
    texts.asked.clear()
    png_size(render_png(texts, replace(quiet, with_departments=False)))
    assert "chart-no-departments" in texts.asked


def test_two_charts_asked_for_at_once_are_drawn_one_after_the_other(
    calendar: WorkCalendar, texts: Texts, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading  # noqa: PLC0415
    import time as clock  # noqa: PLC0415

    from bot import chart  # noqa: PLC0415

    drawing, overlapped = [], []
    per_day = chart._per_day

    def slow(*args: object) -> None:
        drawing.append(1)
        overlapped.append(len(drawing) > 1)
        clock.sleep(0.3)
        per_day(*args)  # type: ignore[arg-type]
        drawing.pop()

    monkeypatch.setattr(chart, "_per_day", slow)
    pngs: list[bytes] = []
    threads = [threading.Thread(target=lambda: pngs.append(render_png(texts, figures_of(
        calendar)))) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert overlapped == [False, False] and len(pngs) == 2
    assert pngs[0] == pngs[1]


async def test_the_command_reads_postgresql_without_migrating_or_writing_it() -> None:
    import asyncpg  # noqa: PLC0415

    from bot.command import store_reader  # noqa: PLC0415
    from storage import StoreError  # noqa: PLC0415
    from tests.pg import fresh_schema  # noqa: PLC0415

    async with fresh_schema() as url:
        empty = store_reader(url)
        with pytest.raises(StoreError, match="no Frontdesk store"):
            await empty.open()  # an empty schema is named, not filled with a store
        conn = await asyncpg.connect(url)
        try:
            tables = await conn.fetch("SELECT tablename FROM pg_tables "
                                      "WHERE schemaname = current_schema()")
        finally:
            await conn.close()
        assert tables == []
        desk = store_from_url(url)  # a desk's store, with a week's tickets
        await desk.open()
        await add_ticket(desk, "a", msk(11, 23, 10), msk(11, 23, 11))
        await desk.close()
        reader = store_reader(url)
        await reader.open()
        try:
            assert [t.id for t in await reader.tickets_between(msk(11, 23, 0),
                                                               msk(11, 30, 0))] == [1]
            with pytest.raises(asyncpg.ReadOnlySQLTransactionError):  # sessions read-only
                await reader.set_state(STATE_KEY, "2026-W48")
        finally:
            await reader.close()


async def test_report_asked_by_someone_not_on_staff_user_ids_is_refused(
    store: SqliteStore, texts: Texts, calendar: WorkCalendar, config: DeskConfig
) -> None:
    from handlers.desk import FrontDesk  # noqa: PLC0415
    from handlers.model import Inbound  # noqa: PLC0415

    listed = replace(config, staff_user_ids=frozenset({"7001"}))
    desk = FrontDesk(store, texts, calendar, listed, now=FixedClock(msk(12, 2, 10)))

    def asked(author: str, message_id: int) -> Inbound:
        return Inbound(platform=Platform.TELEGRAM, channel=Channel.DIRECT, chat_id=STAFF_CHAT,
                       author_id=author, author_name="Кто-то", message_id=str(message_id),
                       text="/report", html_text="/report", is_staff_chat=True)

    await desk.receive(asked("8008", 1))
    assert await reports_in(store) == []
    await desk.receive(asked("7001", 2))
    assert await reports_in(store) == [(STAFF_CHAT, "2026-W48")]


async def test_two_desks_on_postgresql_enqueue_the_weeks_report_once(
    calendar: WorkCalendar, config: DeskConfig
) -> None:
    # The scheduler's leader role keeps the job to one desk; at a handover both may run it
    # at once, and the mark in the store must still let one report through, not two.
    from tests.pg import fresh_schema  # noqa: PLC0415

    async with fresh_schema() as url:
        desks = [store_from_url(url), store_from_url(url)]
        for desk in desks:
            await desk.open()
        try:
            for monday_after in (msk(11, 30, 9, 30), msk(12, 7, 9, 30), msk(12, 14, 9, 30)):
                sent = await asyncio.gather(*(
                    send_weekly_report(desk, calendar, config, time(9, 30), monday_after)
                    for desk in desks
                ))
                assert sorted(len(weeks) for weeks in sent) == [0, 1], sent
            rows = [i.outbound.text for i in await desks[0].due_outbox(FAR, 100)
                    if i.outbound.purpose is Purpose.REPORT]
            assert rows == ["2026-W48", "2026-W49", "2026-W50"]
        finally:
            for desk in desks:
                await desk.close()


async def test_department_names_with_markup_and_dollars_go_as_written(
    tg: FakeTelegram, store: SqliteStore, texts: Texts, calendar: WorkCalendar,
    config: DeskConfig,
) -> None:
    # Names an operator wrote: HTML characters stay plain text in the caption (no parse
    # mode), and `$…$` is not taken for mathematics by the chart, which would fail on it.
    from handlers.routing import parse_rules  # noqa: PLC0415

    markup, dollars = "ЖКХ & <Дороги>", "Налоги $\\frac$"
    rules = parse_rules(
        f'[[department]]\nkey = "a"\nname = "{markup}"\ntopic = 2\nwords = ["яма"]\n'
        f"[[department]]\nkey = 'b'\nname = '{dollars}'\ntopic = 3\nwords = ['налог']\n",
        "departments.toml",
    )
    async with store.transaction() as tx:
        for n, (key, hour) in enumerate((("a", 10), ("b", 11), ("a", 12))):
            await tx.create_ticket(NewTicket(
                platform=Platform.TELEGRAM, channel=Channel.DIRECT, chat_id=str(n),
                conversation=str(n), citizen_id=str(n), citizen_name="Ирина", citizen_link="",
                thread_id=None, reply_to=None, link="", summary="вопрос",
                opened_at=msk(11, 23, hour), deadline_at=None, category=key,
            ))
    result = await deliver_row(tg, store, texts, calendar, replace(config, departments=rules))
    assert result.ok
    [photo] = tg.calls("sendPhoto", chat_id=TG_STAFF_CHAT)  # drawn: no summary alone
    assert "parse_mode" not in photo.params
    assert photo.params["caption"].splitlines()[-1] == (
        "Больше всего сообщений: ЖКХ & <Дороги> — 2; Налоги $\\frac$ — 1"
    )


async def test_a_crash_before_the_mark_commits_leaves_no_report_and_the_next_run_sends_it(
    store: SqliteStore, calendar: WorkCalendar, config: DeskConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from storage.sql.transaction import SqlTransaction  # noqa: PLC0415

    marked = SqlTransaction.set_state

    async def crash(tx: SqlTransaction, key: str, value: str) -> None:
        if key == STATE_KEY:  # the row is enqueued by now; the process dies here
            raise KeyboardInterrupt
        await marked(tx, key, value)

    monkeypatch.setattr(SqlTransaction, "set_state", crash)
    with pytest.raises(KeyboardInterrupt):
        await send_weekly_report(store, calendar, config, time(9, 30), msk(11, 30, 10))
    assert await reports_in(store) == [] and await store.get_state(STATE_KEY) is None
    monkeypatch.setattr(SqlTransaction, "set_state", marked)
    assert await send_weekly_report(store, calendar, config, time(9, 30), msk(11, 30, 10)) == [
        "2026-W48"
    ]
    assert await reports_in(store) == [(SUPERVISORS, "2026-W48")]


def test_cli_names_a_chart_it_cannot_draw_in_one_line_and_writes_nothing(
    desk_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def made() -> None:
        store = SqliteStore(desk_env)
        await store.open()
        await store.close()

    asyncio.run(made())
    (tmp_path / "texts" / "ru").mkdir(parents=True)
    (tmp_path / "texts" / "ru" / "report.ftl").write_text(
        "chart-title = { $no-such-value }\n", encoding="utf-8"
    )
    monkeypatch.setenv("LOCALES_DIR", str(tmp_path / "texts"))
    out = tmp_path / "r.png"
    assert report_main(["--week", "2026-W48", "--out", str(out)]) == 1
    printed = capsys.readouterr()
    assert printed.out == "" and printed.err.count("\n") == 1
    assert printed.err.startswith(
        "frontdesk: report: the chart of 2026-W48 could not be drawn: TextsError "
    )
    assert not out.exists()
