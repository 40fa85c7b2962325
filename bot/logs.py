"""Logging that never shows a token."""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable

# A Telegram bot token anywhere in a message, even one we were not told about.
_TELEGRAM_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")


class RedactSecrets(logging.Filter):
    """Replaces every known secret, and anything shaped like a bot token, with «***»."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = _TELEGRAM_TOKEN.sub("***", message)
        for secret in self.secrets:
            clean = clean.replace(secret, "***")
        if record.exc_info and record.exc_info[1] is not None:
            text = logging.Formatter().formatException(record.exc_info)
            for secret in self.secrets:
                text = text.replace(secret, "***")
            record.exc_text = _TELEGRAM_TOKEN.sub("***", text)
            record.exc_info = None
            clean = f"{clean}\n{record.exc_text}"
            record.exc_text = None
        record.msg, record.args = clean, None
        return True


# Libraries that log personal data at their verbose levels: aiosqlite logs every statement
# with its parameters (citizens' text), aiogram every update with user ids, vkbottle every
# API request with its data and answer.
# APScheduler's executor logs two INFO lines per run of every job ("Running job", "executed
# successfully"): about 2,900 a day for a sweep every minute, with nothing to act on.
QUIET_LIBRARIES = {
    "aiosqlite": logging.WARNING, "aiogram.event": logging.WARNING, "vkbottle": logging.WARNING,
    "apscheduler": logging.WARNING, "pymorphy3": logging.WARNING,
}


def quiet_libraries() -> None:
    """Keep libraries that would log personal data or routine noise at WARNING."""
    for name, level in QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(level)


def setup_logging(level: str, secrets: Iterable[str]) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_libraries()
