"""What the commands beside the desk share (move-store, backup, export, report): arguments
that fail in one line, DATABASE_URL read alone, and the store opened for reading only."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from pydantic import field_validator
from pydantic_settings import BaseSettings

from bot.settings import Settings, project_sqlite_url

if TYPE_CHECKING:
    from storage.base import Store


class WrongArgument(Exception):
    """An argument or setting the command cannot take; the message names it."""


class Parser(argparse.ArgumentParser):
    """A command's arguments: a mistake raises WrongArgument (one line, exit code 2) rather
    than printing the usage; the description keeps its own line breaks."""

    def __init__(self, prog: str, description: str) -> None:
        super().__init__(
            prog=prog, description=description, allow_abbrev=False,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )

    def error(self, message: str) -> NoReturn:
        raise WrongArgument(message)


class StoreSetting(BaseSettings):
    """DATABASE_URL alone, read as the desk reads it: the other settings need not be set."""

    model_config = Settings.model_config

    database_url: str = Settings.model_fields["database_url"].default
    _database = field_validator("database_url")(project_sqlite_url)


def store_reader(url: str) -> Store:
    """The store DATABASE_URL names, for reads only: a SQLite file read-only and without
    the desk's lock (so a running desk is not disturbed), never made where there is none; a
    PostgreSQL store in read-only sessions that neither migrate it nor count as a desk."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        from storage import StoreError  # noqa: PLC0415 (the store's libraries only now)
        from storage.sqlite import sqlite_path  # noqa: PLC0415
        from storage.sqlite.reader import SqliteReader  # noqa: PLC0415

        try:
            path = sqlite_path(url)
        except StoreError as exc:
            raise WrongArgument(str(exc)) from None
        if path == ":memory:" or not Path(path).is_file():
            # A reader never makes a store: a wrong path is named, not filled anew.
            raise WrongArgument(f"DATABASE_URL: no store at {path}")
        return SqliteReader.from_url(url)
    if scheme in ("postgresql", "postgres"):
        from storage.postgres.reader import PgReader  # noqa: PLC0415

        return PgReader.from_url(url)
    raise WrongArgument(f"DATABASE_URL: unsupported scheme {scheme!r} "
                        "(expected sqlite:///path or postgresql://user@host/database)")
