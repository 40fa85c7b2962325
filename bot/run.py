"""Run the front desk with settings already read: start, wait, stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from urllib.parse import unquote, urlsplit

from bot.app import Application
from bot.logs import refused, setup_logging
from bot.settings import Settings
from bot.startup import StartupRefused
from handlers.texts import TextsError
from storage import StoreError


def url_password(url: str) -> str:
    """The password in the store's URL (postgresql://user:password@…), kept out of the log."""
    try:
        return unquote(urlsplit(url).password or "")
    except ValueError:  # a URL that cannot be read names itself when the store opens
        return ""


def run(settings: Settings, *, check_only: bool = False) -> int:
    setup_logging(
        settings.log_level,
        [settings.telegram_token.get_secret_value(), settings.vk_token.get_secret_value(),
         settings.telegram_webhook_secret.get_secret_value(),
         settings.vk_callback_secret.get_secret_value(), url_password(settings.database_url)],
        settings.log_format,
    )
    return asyncio.run(_check(settings) if check_only else _serve(settings))


async def _serve(settings: Settings) -> int:
    try:
        app = Application(settings)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, app.request_stop)
        await app.start()
    except (StoreError, TextsError, StartupRefused) as exc:
        refused(f"frontdesk: {exc}")
        return 2
    await app.wait()
    failure = app.failure()
    await app.stop()
    return 1 if failure else 0


async def _check(settings: Settings) -> int:
    try:
        app = Application(settings)
    except (StoreError, TextsError) as exc:
        print(f"frontdesk: {exc}", file=sys.stderr)
        return 2
    try:
        await app.check(tell_staff=False)
    except StartupRefused as exc:
        print(f"frontdesk: {exc}", file=sys.stderr)
        return 2
    await app.close_clients()
    print("frontdesk: the settings are good; the desk can start")
    return 0
