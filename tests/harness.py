"""The real Application, run in-process against the local fake platforms."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from bot.app import Application
from bot.settings import Settings
from storage import SqliteStore
from tests.fakes.telegram import BOT_ID

# The bot id in a token is the bot's user id: the fake's bot, so that "a reply to the bot"
# is recognised as it is against Telegram.
TOKEN = f"{BOT_ID}:AAHfakeTokenForTheLocalBotApiServer01"
STAFF_CHAT = -1001000000001
DISCUSSION_CHAT = -1001000000002


def make_settings(tg_url: str, db: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "telegram_token": TOKEN,
        "telegram_api_url": tg_url,
        "staff_chat_id": STAFF_CHAT,
        "database_url": f"sqlite:///{db}",
        "business_hours": "24/7",
        "pacing": False,
        "digest_at": None,
        "shutdown_timeout": 5,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


async def installed(db: Path) -> None:
    """A store with its schema, as an installed desk has it (an empty file counts as new)."""
    if db.exists() and db.stat().st_size:
        return
    # the installing is not the test's start
    quiet = logging.getLogger("storage.sqlite.connection")
    was, quiet.disabled = quiet.disabled, True
    try:
        store = SqliteStore(db)
        await store.open()
        await store.close()
    finally:
        quiet.disabled = was


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
