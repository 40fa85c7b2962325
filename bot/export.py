"""`python -m bot export`: the tickets opened between two dates as CSV or xlsx, for reporting.

The arguments and the few settings the export needs are read and checked before the store's
libraries are imported, so a wrong one is named at once. The store is only read, beside a
desk that runs on it: a SQLite store read-only without its lock, PostgreSQL in read-only
sessions. Exit codes: 0 written; 1 the store or the file failed, nothing at --out;
2 a wrong argument or setting.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings

from bot.command import Parser, WrongArgument, store_reader
from bot.settings import PROJECT_DIR, Settings, describe_error, parse_duration, project_sqlite_url
from handlers.calendar import BusinessHours

if TYPE_CHECKING:
    from handlers.export_rows import ExportRows
    from handlers.routing import Rules

DESCRIPTION = """\
Writes one row per ticket opened from --from to --to (both days included, local days in
TIMEZONE): number, platform, channel, department, opened, first answer, closed (local time,
ISO 8601), working time to the first answer in seconds (BUSINESS_HOURS and the production
calendar), late or not (more than ESCALATION_AFTER of it), interim answers, rating, staff
actions (the audit trail: time, action, staff member); and the citizen's name, username,
platform id and messages, unless --no-personal, which leaves the staff's names out too.
Reads DATABASE_URL, TIMEZONE, BUSINESS_HOURS, ESCALATION_AFTER, LOCALE, LOCALES_DIR and
DEPARTMENTS_FILE as the desk does; the desk may be running. The file appears at --out only
when complete.

exit codes: 0 written; 1 the store or the file failed, nothing written at --out;
2 a wrong argument or setting
"""


FORMATS = ("csv", "xlsx")


def _field(name: str) -> Any:
    return Settings.model_fields[name].default


class ExportSettings(BaseSettings):
    """The settings the export reads, as the desk reads them: the others need not be set."""

    model_config = Settings.model_config

    database_url: str = _field("database_url")
    timezone: str = _field("timezone")
    business_hours: str = _field("business_hours")
    escalation_after: timedelta = _field("escalation_after")
    locale: str = _field("locale")
    locales_dir: str = _field("locales_dir")
    departments_file: str = _field("departments_file")

    _database = field_validator("database_url")(project_sqlite_url)
    _duration = field_validator("escalation_after", mode="before")(parse_duration)


@dataclass(frozen=True)
class Order:
    """What to export, checked."""

    first: date
    last: date
    kind: str  # csv or xlsx
    out: Path
    personal: bool


def parser() -> argparse.ArgumentParser:
    made = Parser("python -m bot export", DESCRIPTION)
    made.add_argument("--from", dest="first", required=True, metavar="YYYY-MM-DD",
                      help="the first day (local) whose opened tickets are exported")
    made.add_argument("--to", dest="last", required=True, metavar="YYYY-MM-DD",
                      help="the last day (local), included")
    made.add_argument("--format", dest="kind", metavar="csv|xlsx",
                      help="default: from the extension of --out")
    made.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    made.add_argument("--no-personal", action="store_true",
                      help="leave out the columns of names, usernames, ids and texts, and "
                           "the staff's names from the staff actions")
    return made


def _day(value: str, name: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise WrongArgument(f"{name}: expected a date YYYY-MM-DD, not {value!r}") from None


def order(argv: list[str]) -> Order:
    """The export asked for, or WrongArgument naming what is wrong."""
    args = parser().parse_args(argv)
    first, last = _day(args.first, "--from"), _day(args.last, "--to")
    if last < first:
        raise WrongArgument(f"--to: {last} is before --from {first}")
    out = Path(args.out).expanduser()
    suffix = out.suffix.lower().lstrip(".")
    kind = (args.kind or suffix).lower()
    if kind not in FORMATS:
        raise WrongArgument("--format: expected csv or xlsx" if args.kind else
                            "--out: name a .csv or .xlsx file, or give --format csv|xlsx")
    if suffix in FORMATS and suffix != kind:
        raise WrongArgument(f"--format {kind} does not match --out {out.name}")
    folder = out.parent
    if out.is_dir() or not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
        reason = "is a folder" if out.is_dir() else f"cannot write in {folder.resolve()}"
        raise WrongArgument(f"--out: {out} {reason}")
    return Order(first, last, kind, out, personal=not args.no_personal)


def settings() -> ExportSettings:
    try:
        read = ExportSettings()
    except ValidationError as exc:
        raise WrongArgument(describe_error(exc)) from None
    try:
        ZoneInfo(read.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise WrongArgument(f"TIMEZONE: unknown time zone {read.timezone!r}") from None
    try:
        BusinessHours.parse(read.business_hours)
    except ValueError as exc:
        raise WrongArgument(f"BUSINESS_HOURS: {exc}") from None
    if read.escalation_after <= timedelta(0):
        raise WrongArgument("ESCALATION_AFTER: must be longer than zero")
    if read.locale not in ("ru", "en"):
        raise WrongArgument("LOCALE: must be ru or en")
    return read


def departments(read: ExportSettings) -> Rules | None:
    if not read.departments_file:
        return None
    from handlers.routing import RulesError, load_rules  # noqa: PLC0415 - only when set

    path = Path(read.departments_file).expanduser()
    try:
        return load_rules(path if path.is_absolute() else PROJECT_DIR / path)
    except RulesError as exc:
        raise WrongArgument(f"DEPARTMENTS_FILE: {exc}") from None


def rows_for(read: ExportSettings, rules: Rules | None, *, personal: bool) -> ExportRows:
    """The rows as the desk of these settings measures them, now."""
    from bot.exporting import rows_of  # noqa: PLC0415 (fluent only once the arguments hold)

    return rows_of(
        timezone=read.timezone, business_hours=read.business_hours,
        escalation_after=read.escalation_after, locale=read.locale,
        locales_dir=read.locales_dir, rules=rules, personal=personal,
    )


def main(argv: list[str]) -> int:
    try:
        asked = order(argv)
        read = settings()
        rules = departments(read)
        store = store_reader(read.database_url)
    except WrongArgument as exc:
        print(f"frontdesk: export: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    from bot.exporting import export  # noqa: PLC0415 (openpyxl only from here)
    from handlers.texts import TextsError  # noqa: PLC0415
    from storage import StoreError  # noqa: PLC0415

    logging.getLogger("storage").setLevel(logging.ERROR)
    try:
        rows = rows_for(read, rules, personal=asked.personal)
        count = asyncio.run(export(store, rows, asked.first, asked.last, out=asked.out,
                                   kind=asked.kind, progress=sys.stderr.isatty()))
    except TextsError as exc:
        print(f"frontdesk: export: {exc}", file=sys.stderr)
        return 2
    except StoreError as exc:
        print(f"frontdesk: export: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"frontdesk: export: cannot write {asked.out}: {exc.strerror or exc}; "
              "nothing was written there", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"frontdesk: export: interrupted; nothing was written at {asked.out}",
              file=sys.stderr)
        return 130
    print(f"exported {count} tickets opened {asked.first} to {asked.last} to {asked.out}")
    return 0
