"""`python -m bot backup FILE`: a consistent, checked copy of the desk's SQLite store.

DATABASE_URL is read as the desk reads it, and only it: the other settings need not be set.
Exit codes: 0 backed up; 1 the copy failed, nothing left at FILE; 2 nothing to back up here
or FILE refused (no store, a PostgreSQL store, FILE exists, a wrong argument).
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bot.command import Parser, StoreSetting, WrongArgument

DESCRIPTION = """\
Copies the desk's SQLite store (DATABASE_URL) to FILE while the desk runs or not: SQLite's
online backup API, in one snapshot, so the copy holds every ticket committed before the
backup began and the desk goes on working meanwhile. The copy is written beside FILE, checked
with PRAGMA integrity_check and only then named FILE; the number of tickets in it is printed.
An existing FILE is kept unless --force. For a PostgreSQL store use pg_dump (the command is
printed). README, "Backup and restore", says how to restore.

exit codes: 0 backed up; 1 the copy failed, nothing left at FILE; 2 nothing to back up here or
FILE refused (no store, a PostgreSQL store, FILE exists, a wrong argument)
"""


def parser() -> argparse.ArgumentParser:
    made = Parser("python -m bot backup", DESCRIPTION)
    made.add_argument("file", metavar="FILE", help="the copy to write, e.g. "
                      "/var/backups/frontdesk/frontdesk-2026-12-04.sqlite3")
    made.add_argument("--force", action="store_true", help="replace FILE if it exists")
    return made


def pg_dump_command(url: str, file: str) -> str:
    """The pg_dump that backs up the PostgreSQL store at `url`, without its password.

    libpq takes the password from PGPASSWORD or ~/.pgpass, and does not know the desk's
    `search_path` parameter: the schema goes to pg_dump's --schema instead; the other
    parameters (sslmode, …) stay in the URL.
    """
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    netloc = f"{parts.username}@{host}" if parts.username else host
    query = parse_qsl(parts.query, keep_blank_values=True)
    schemas = [value for name, value in query if name == "search_path"]
    kept = urlencode([(name, value) for name, value in query if name != "search_path"])
    command = ["pg_dump", "--format=custom", f"--file={file}"]
    command += [f"--schema={schema}" for schema in schemas[:1]]
    command.append(urlunsplit((parts.scheme, netloc, parts.path, kept, "")))
    return shlex.join(command)


def store_path(url: str, file: str) -> str:
    """The SQLite file behind DATABASE_URL, or WrongArgument saying what to do instead."""
    scheme = url.split(":", 1)[0].lower()
    if scheme in ("postgresql", "postgres"):
        raise WrongArgument(
            "DATABASE_URL names a PostgreSQL store; back it up with pg_dump: "
            f"{pg_dump_command(url, file)} (README: Backup and restore)"
        )
    from storage import StoreError  # noqa: PLC0415 (the store only once the URL is one)
    from storage.sqlite import sqlite_path  # noqa: PLC0415

    try:
        return sqlite_path(url)
    except StoreError as exc:
        raise WrongArgument(f"DATABASE_URL: {exc}") from None


def main(argv: list[str]) -> int:
    try:
        args = parser().parse_args(argv)
        path = store_path(StoreSetting().database_url, args.file)
    except WrongArgument as exc:
        print(f"frontdesk: backup: {exc}", file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0)
    from storage.sqlite.backup import BackupError, BackupRefused, backup_store  # noqa: PLC0415

    # SIGTERM (systemd stopping the timer's service, a shutdown) as Ctrl-C: the copy is
    # stopped and its temporary file removed, rather than left beside FILE with the
    # citizens' messages in it.
    before = signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        done = backup_store(path, Path(args.file), force=args.force)
    except BackupRefused as exc:
        print(f"frontdesk: backup: {exc}", file=sys.stderr)
        return 2
    except BackupError as exc:
        print(f"frontdesk: backup: {exc}; nothing was written to {args.file}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"frontdesk: backup: interrupted; nothing was written to {args.file}",
              file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, before)
    last = f"the last №{done.last_ticket}" if done.tickets else "none yet"
    print(f"backed up {done.source} to {done.target} ({done.size} bytes)")
    print(f"tickets: {done.tickets}, {last}")
    print("PRAGMA integrity_check: ok")
    return 0
