"""The real Application, run in-process against the local fake platforms."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from bot.app import Application
from bot.settings import Settings
from storage import SqliteStore, store_from_url
from tests.fakes.telegram import BOT_ID
from tests.pg import pg_rows

# The bot id in a token is the bot's user id: the fake's bot, so that "a reply to the bot"
# is recognised as it is against Telegram.
TOKEN = f"{BOT_ID}:AAHfakeTokenForTheLocalBotApiServer01"
STAFF_CHAT = -1001000000001
DISCUSSION_CHAT = -1001000000002
# The store a Desk uses when not its SQLite file: set for a test by the `either_store`
# fixture (tests/conftest.py) to a schema of its own on the PostgreSQL test server.
STORE_URL: str | None = None


def make_settings(tg_url: str, db: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_token": TOKEN,
        "telegram_api_url": tg_url,
        "staff_chat_id": STAFF_CHAT,
        "database_url": STORE_URL or f"sqlite:///{db}",
        "business_hours": "24/7",
        "pacing": False,
        "digest_at": None,
        "report_at": None,
        "shutdown_timeout": 5,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def installed(db: Path) -> None:
    """A store with its schema, as an installed desk has it (an empty file counts as new)."""
    if STORE_URL is None and db.exists() and db.stat().st_size:
        return
    # the installing is not the test's start
    quiet = logging.getLogger(
        "storage.sqlite.connection" if STORE_URL is None else "storage.postgres.connection"
    )
    was, quiet.disabled = quiet.disabled, True
    try:
        store = SqliteStore(db) if STORE_URL is None else store_from_url(STORE_URL)
        await store.open()
        await store.close()
    finally:
        quiet.disabled = was


async def store_rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a statement on the desk's store, read as they are (a test's look inside)."""
    if STORE_URL is None:
        with sqlite3.connect(db) as conn:
            return conn.execute(sql).fetchall()
    return [tuple(row) for row in await pg_rows(STORE_URL, sql)]


class Desk:
    """One Frontdesk process under test: start, stop, restart on the same database.

    The store is there before the first start, as on an installed desk, unless `new_store`:
    a store created at start is announced in the staff chat, which tests of that ask for.
    """

    def __init__(
        self, tg_url: str, db: Path, *, new_store: bool = False, **overrides: Any
    ) -> None:
        self.tg_url = tg_url
        self.db = db
        self.new_store = new_store
        self.overrides = overrides
        self.app: Application | None = None

    @property
    def settings(self) -> Settings:
        return make_settings(self.tg_url, self.db, **self.overrides)

    async def start(self) -> Application:
        if not self.new_store:
            await installed(self.db)
        self.app = Application(self.settings)
        await self.app.start()
        return self.app

    async def stop(self) -> None:
        if self.app is not None:
            app, self.app = self.app, None
            await app.stop()

    async def restart(self) -> Application:
        await self.stop()
        return await self.start()

    async def __aenter__(self) -> Desk:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
