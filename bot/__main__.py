"""`python -m bot`: read the settings, start the front desk, stop cleanly on SIGTERM.

The settings are read and checked before aiogram, vkbottle, APScheduler or the store are
imported, so a wrong setting is named within a second, not after the heavy imports.
"""

from __future__ import annotations

import sys

from bot.settings import SettingsError, load_settings, settings_help

USAGE = """\
usage: python -m bot [--check | --help]
       python -m bot move-store --to postgresql://… [--from sqlite:///…]
       python -m bot backup FILE
       python -m bot export --from DATE --to DATE [--format csv|xlsx] --out FILE
       python -m bot report [--week 2026-W48] --out report.png

Starts the Frontdesk front desk with the settings from the environment and from .env in the
working directory (the environment wins). An empty value means the setting is not set.

  --check   read and check the settings, the store and the texts, ask Telegram (and VK, when
            VK_TOKEN is set) about the chats and the community, and exit without starting:
            0 when the desk can start, 2 when something stops it
  --help    print this and every setting with its default and meaning
  move-store  copy a stopped SQLite desk (DATABASE_URL, or --from) into an empty PostgreSQL
            store, in one transaction; `python -m bot move-store --help` says more
  backup    a consistent, checked copy of a SQLite desk, running or not
  export    tickets opened between two dates as CSV or xlsx, for reporting upward
  report    the weekly chart (PNG) and its summary, as the supervisors get it on Mondays

settings:
"""


# The commands beside the desk itself: each module's main(argv) -> exit code, imported only
# when its command is asked for.
COMMANDS = {
    "move-store": "bot.move", "backup": "bot.backup", "export": "bot.export",
    "report": "bot.report",
}


def main(argv: list[str]) -> int:
    if argv[:1] and argv[0] in COMMANDS:
        import importlib  # noqa: PLC0415 (only this command's imports)

        command = importlib.import_module(COMMANDS[argv[0]])
        code: int = command.main(argv[1:])
        return code
    if any(arg in {"-h", "--help"} for arg in argv):
        print(USAGE + settings_help())
        return 0
    unknown = [arg for arg in argv if arg != "--check"]
    if unknown:
        print(f"frontdesk: unknown argument {unknown[0]!r}; see python -m bot --help",
              file=sys.stderr)
        return 2
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"frontdesk: {exc}", file=sys.stderr)
        return 2
    if "--check" not in argv:
        busy = store_in_use(settings.database_url)
        if busy:
            print(f"frontdesk: {busy}", file=sys.stderr)
            return 2
    # Only now the heavy part: aiogram and the rest take seconds to import.
    from bot.run import run  # noqa: PLC0415

    return run(settings, check_only="--check" in argv)


def store_in_use(database_url: str) -> str | None:
    """Another desk on this store, told before the slow start-up rather than after it."""
    if not database_url.lower().startswith("sqlite:"):
        return None
    from storage import StoreError  # noqa: PLC0415
    from storage.lockfile import in_use  # noqa: PLC0415
    from storage.sqlite import sqlite_path  # noqa: PLC0415

    try:
        return in_use(sqlite_path(database_url))
    except StoreError:
        return None  # the store names its own trouble when it opens


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
