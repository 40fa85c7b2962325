"""`python -m bot move-store --to postgresql://…`: a stopped desk's SQLite store into PostgreSQL.

The arguments are read and checked before the store's libraries are imported, so a wrong one
is named at once. Exit codes: 0 moved; 1 refused or failed, with nothing written to the
target; 2 a wrong argument (or DATABASE_URL not naming a SQLite file).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from bot.command import Parser, StoreSetting, WrongArgument
from bot.settings import project_sqlite_url

if TYPE_CHECKING:
    from storage.move import Moved

DESCRIPTION = """\
Copies the desk's SQLite store into an empty PostgreSQL store, every table and every value:
tickets keep their numbers and the next ticket goes on from the last, messages waiting to be
sent stay waiting, the polling positions go on where they were. Stop the desk first. The
copy is one transaction: when anything fails, nothing is written to the target. Then set
DATABASE_URL to the PostgreSQL store and start the desk; the SQLite file stays as it was.

exit codes: 0 moved; 1 refused or failed, nothing written to the target; 2 a wrong argument
"""


def parser() -> argparse.ArgumentParser:
    made = Parser("python -m bot move-store", DESCRIPTION)
    made.add_argument(
        "--from", dest="source", metavar="sqlite:///path",
        help="the SQLite store to move, in the words of DATABASE_URL (a relative path is in "
        "the project's folder); default: DATABASE_URL from the environment and .env",
    )
    made.add_argument(
        "--to", dest="target", required=True, metavar="postgresql://user:password@host/db",
        help="the PostgreSQL store to fill; it must be empty (its schema is made if missing)",
    )
    return made


def arguments(argv: list[str]) -> tuple[str, str]:
    """(source URL, target URL), or WrongArgument naming what is wrong."""
    args = parser().parse_args(argv)
    target = _target(args.target)
    return _source(args.source), target


def _source(given: str | None) -> str:
    if given is None:
        url = StoreSetting().database_url
        if not url.lower().startswith("sqlite:"):
            raise WrongArgument("DATABASE_URL names no SQLite file; give the store to move "
                                "with --from sqlite:///path")
        name = "DATABASE_URL"
    else:
        url, name = project_sqlite_url(given), "--from"
        if not url.lower().startswith("sqlite:"):
            raise WrongArgument("--from: expected sqlite:///path (a SQLite desk's store), "
                                f"not {url.split(':', 1)[0]}:…")
    from storage import StoreError  # noqa: PLC0415 (the store only once the URL is one)
    from storage.sqlite import sqlite_path  # noqa: PLC0415

    try:
        path = sqlite_path(url)
    except StoreError:
        path = ""
    if path in ("", ":memory:"):
        raise WrongArgument(f"{name}: names no SQLite file")
    if not Path(path).is_file():
        raise WrongArgument(f"{name}: no such file {path}")
    return url


def _target(given: str) -> str:
    scheme = given.split(":", 1)[0].lower() if ":" in given else ""
    if scheme not in ("postgresql", "postgres") or not given.startswith(f"{scheme}://"):
        raise WrongArgument("--to: expected postgresql://user:password@host:5432/database")
    try:
        urlsplit(given).port  # noqa: B018 (read for the error it raises)
    except ValueError:
        raise WrongArgument("--to: the port is not a number from 0 to 65535") from None
    return given


class ProgressBar:
    """One line per table on a terminal, redrawn in place as its rows go over."""

    WIDTH = 30

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def __call__(self, table: str, done: int, total: int) -> None:
        filled = self.WIDTH if total == 0 else self.WIDTH * done // total
        self._stream.write(f"\r{table:<15} [{'#' * filled}{'.' * (self.WIDTH - filled)}] "
                           f"{done}/{total}")
        if done >= total:
            self._stream.write("\n")
        self._stream.flush()


def summary(moved: Moved) -> str:
    """What went over, table by table: the same count on both sides."""
    width = max(len(table) for table in moved.counts)
    lines = [f"moved {moved.source} to {moved.target}", "rows (source = target):"]
    lines += [f"  {table:<{width}}  {rows}" for table, rows in moved.counts.items()]
    last = f"№{moved.last_ticket}" if moved.last_ticket else "none yet"
    lines.append(f"tickets: the last is {last}, the next will be №{moved.next_ticket}")
    lines.append(f"now set DATABASE_URL to {moved.target} (with its password) and start "
                 "the desk")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    try:
        source, target = arguments(argv)
    except WrongArgument as exc:
        print(f"frontdesk: move-store: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    from storage import StoreError  # noqa: PLC0415 (the store's libraries only from here)
    from storage.move import move_store  # noqa: PLC0415

    # The stores' notices (a new schema, "ticket numbers start at №1") do not apply to a move.
    logging.getLogger("storage").setLevel(logging.ERROR)
    progress = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    try:
        moved = asyncio.run(move_store(source, target, progress))
    except StoreError as exc:
        print(f"frontdesk: move-store: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("frontdesk: move-store: interrupted; nothing was written to the target",
              file=sys.stderr)
        return 130
    print(summary(moved))
    return 0
