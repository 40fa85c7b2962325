"""`python -m bot report [--week 2026-W48] --out report.png`: a week's chart and its summary.

The same chart and words the supervisors get on Mondays, for any week that has ended; the
last full week by default. The settings are the desk's (the environment and .env); the
store is only read: a running SQLite desk's store is opened read-only, without its lock,
and a missing store file is named, never made. Exit codes: 0 written; 1 the store could not
be read or the file not written; 2 a wrong argument or setting, or no store there.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from bot.command import Parser, WrongArgument, store_reader
from bot.settings import Settings, SettingsError, departments, load_settings

if TYPE_CHECKING:
    from handlers.report import ReportFigures
    from handlers.texts import Texts
    from storage.base import Store

DESCRIPTION = """\
Draws the weekly report of an ISO week (Monday to Sunday in TIMEZONE) as a PNG and prints
its summary: new messages a day by platform, the first-answer median and 90th percentile in
working time against ESCALATION_AFTER, the share answered later than that, the departments
with the most messages. Only reads the store, also while the desk runs.

exit codes: 0 written; 1 the store could not be read or the file not written; 2 a wrong
argument or setting, or no store at DATABASE_URL
"""


def parser() -> argparse.ArgumentParser:
    made = Parser("python -m bot report", DESCRIPTION)
    made.add_argument("--week", metavar="2026-W48",
                      help="the ISO week (year and week number); default: the last full week")
    made.add_argument("--out", required=True, metavar="report.png",
                      help="where to write the chart (PNG)")
    return made


def arguments(argv: list[str], today: date) -> tuple[date, Path]:
    """(the week's Monday, the output file), or WrongArgument naming what is wrong."""
    from handlers.report import WrongWeek, requested_week  # noqa: PLC0415

    args = parser().parse_args(argv)
    try:
        monday = requested_week(args.week or "", today)
    except WrongWeek:
        raise WrongArgument(f"--week: expected an ISO week that has ended, such as 2026-W48, "
                            f"not {args.week!r}") from None
    out = Path(args.out)
    if not out.parent.is_dir():
        raise WrongArgument(f"--out: no such folder {out.parent}")
    return monday, out


async def read_figures(
    settings: Settings, store: Store, texts: Texts, monday: date
) -> ReportFigures:
    """The week's figures from the desk's store, opened for this and closed after."""
    from handlers.calendar import BusinessHours, WorkCalendar  # noqa: PLC0415
    from handlers.config import DeskConfig  # noqa: PLC0415
    from handlers.report import week_figures  # noqa: PLC0415

    config = DeskConfig(
        staff_chat_id=str(settings.staff_chat_id), timezone=settings.zone,
        escalation_after=settings.escalation_after, departments=departments(settings),
    )
    calendar = WorkCalendar(BusinessHours.parse(settings.business_hours), settings.zone)
    await store.open()
    try:
        return await week_figures(store, texts, calendar, config, monday)
    finally:
        await store.close()


def main(argv: list[str]) -> int:
    try:
        settings = load_settings()
        monday, out = arguments(argv, _today(settings))
        store = store_reader(settings.database_url)
    except (WrongArgument, SettingsError) as exc:
        print(f"frontdesk: report: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    from handlers.report import summary_text  # noqa: PLC0415
    from handlers.texts import Texts, TextsError  # noqa: PLC0415
    from storage import StoreError  # noqa: PLC0415

    logging.getLogger("storage").setLevel(logging.ERROR)  # its notices are the desk's
    try:
        texts = Texts(settings.locale,
                      Path(settings.locales_dir) if settings.locales_dir else None)
    except TextsError as exc:
        print(f"frontdesk: report: {exc}", file=sys.stderr)
        return 2
    try:
        figures = asyncio.run(read_figures(settings, store, texts, monday))
    except StoreError as exc:
        print(f"frontdesk: report: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a store of another schema, a server gone: named, not traced
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"frontdesk: report: the store could not be read: {reason}", file=sys.stderr)
        return 1
    from bot.chart import render_png  # noqa: PLC0415 (matplotlib only when drawing)

    try:
        png, summary = render_png(texts, figures), summary_text(texts, figures)
    except Exception as exc:  # an operator's text the chart cannot take: named, not traced
        reason = str(exc).splitlines()[0] if str(exc) else ""
        print(f"frontdesk: report: the chart of {figures.week} could not be drawn: "
              f"{type(exc).__name__} {reason}".rstrip(), file=sys.stderr)
        return 1
    try:
        out.write_bytes(png)
    except OSError as exc:
        print(f"frontdesk: report: cannot write {out}: {exc.strerror}", file=sys.stderr)
        return 1
    print(summary)
    print(f"frontdesk: report: the chart of {figures.week} is in {out}", file=sys.stderr)
    return 0


def _today(settings: Settings) -> date:
    from handlers.config import utc_now  # noqa: PLC0415

    return utc_now().astimezone(settings.zone).date()
