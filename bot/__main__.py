"""`python -m bot`: read the settings, start the front desk, stop cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys

from bot.app import Application
from bot.logs import setup_logging
from bot.settings import SettingsError, load_settings
from handlers.texts import TextsError
from storage import StoreError


async def main() -> int:
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"frontdesk: {exc}", file=sys.stderr)
        return 2
    setup_logging(
        settings.log_level,
        [settings.telegram_token.get_secret_value(), settings.vk_token.get_secret_value()],
    )
    try:
        app = Application(settings)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, app.request_stop)
        await app.start()
    except (StoreError, TextsError) as exc:
        print(f"frontdesk: {exc}", file=sys.stderr)
        return 2
    await app.wait()
    failure = app.failure()
    await app.stop()
    return 1 if failure else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
