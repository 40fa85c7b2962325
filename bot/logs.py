"""Logging that never shows a token: readable lines, or JSON lines for log shippers."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime

# A Telegram bot token anywhere in a message, even one we were not told about.
_TELEGRAM_TOKEN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class RedactSecrets(logging.Filter):
    """Replaces every known secret, and anything shaped like a bot token, with «***».

    The message, the exception's traceback and a stack are redacted before any formatter
    sees the record: the traceback is left as the redacted `exc_text`, which the formatters
    print instead of formatting the exception again.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def redact(self, text: str) -> str:
        clean = _TELEGRAM_TOKEN.sub("***", text)
        for secret in self.secrets:
            clean = clean.replace(secret, "***")
        return clean

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a library's format and arguments that do not match: a filter's
            # exception would reach the code that logged (a polling loop), not logging's own
            # handleError, so the line is kept as it came
            message = f"{record.msg} {record.args!r}"
        clean = self.redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        record.msg, record.args = clean, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, exception.

    Newlines inside a message or a traceback are escaped by JSON; the line separators JSON
    leaves as they are (U+2028, U+2029, NEL) are escaped too, so no reader splits an entry.
    """

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC)
        entry = {
            "time": moment.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname, "logger": record.name, "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        line = json.dumps(entry, ensure_ascii=False)
        return line.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") \
            .replace("\x85", "\\u0085")


# Libraries that log personal data at their verbose levels: aiosqlite logs every statement
# with its parameters (citizens' text), aiogram every update with user ids, vkbottle every
# API request with its data and answer.
# APScheduler's executor logs two INFO lines per run of every job ("Running job", "executed
# successfully"): about 2,900 a day for a sweep every minute, with nothing to act on.
QUIET_LIBRARIES = {
    "aiosqlite": logging.WARNING, "aiogram.event": logging.WARNING, "vkbottle": logging.WARNING,
    "apscheduler": logging.WARNING, "pymorphy3": logging.WARNING,
}


# Libraries that give their logger a handler of their own when imported: vkbottle writes its
# records to stderr in colour (vkbottle/modules.py), past the redaction and the JSON lines,
# and sends Python's warnings there too. Their records go to the root's handler instead.
OWN_HANDLERS = ("vkbottle",)


def quiet_libraries() -> None:
    """Keep libraries that would log personal data or routine noise at WARNING, and every
    library's records on the root's one redacted handler (vkbottle is imported late, only by
    a desk that serves VK: the desk calls this again once it is)."""
    for name, level in QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(level)
    for name in OWN_HANDLERS:
        logging.getLogger(name).handlers.clear()


def setup_logging(level: str, secrets: Iterable[str], log_format: str = "text") -> None:
    """The root logger to stderr, redacted; LOG_FORMAT `json` for one JSON object a line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json"
                         else logging.Formatter(TEXT_FORMAT))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Python's warnings go to stderr on their own; as JSON lines they go through the log.
    logging.captureWarnings(log_format == "json")
    quiet_libraries()


def refused(line: str) -> None:
    """The one line that stops the start, on stderr: as it is, or an ERROR entry where the
    log is JSON lines (LOG_FORMAT=json), so that a log shipper reads it like the rest."""
    if any(isinstance(handler.formatter, JsonFormatter)
           for handler in logging.getLogger().handlers):
        logging.getLogger("bot.run").error("%s", line)
    else:
        print(line, file=sys.stderr)
