"""LOG_FORMAT=json: one JSON object a line, redacted as the readable log is.

The formatter is checked on records through the real handler `setup_logging` installs; the
real desk process, started with LOG_FORMAT=json against the local fake Bot API server, must
write nothing to stderr but such lines.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import subprocess
import sys
import warnings
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import logs
from bot.run import run
from tests.fakes.telegram import FakeTelegram
from tests.harness import TOKEN, installed, make_settings
from tests.test_crash import bot_env
from tests.test_e2e_telegram import texts_in

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "pg-Pa55word-of-the-desk"
OTHER_TOKEN = "7654321098:AAE-anotherTokenNobodyToldUsAbout_xyz12"


@pytest.fixture
def root() -> Iterator[logging.Logger]:
    """The root logger, put back as it was after the test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield root
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        logging.captureWarnings(False)


def setup_logging(root: logging.Logger, *args: object) -> io.StringIO:
    """setup_logging as the desk calls it; what its handler writes to stderr, kept."""
    logs.setup_logging(*args)  # type: ignore[arg-type]
    [handler] = root.handlers
    assert isinstance(handler, logging.StreamHandler) and handler.stream is sys.stderr
    sink = io.StringIO()
    handler.setStream(sink)
    return sink


def entries(text: str) -> list[dict[str, str]]:
    """Every line as one JSON object; a line that is not one fails the test."""
    lines = text.splitlines()
    assert lines and text.endswith("\n")
    return [json.loads(line) for line in lines]


def test_a_record_with_secrets_in_message_and_exception_is_one_redacted_json_line(
    root: logging.Logger,
) -> None:
    stderr = setup_logging(root, "INFO", [TOKEN, PASSWORD], "json")
    log = logging.getLogger("bot.sender")
    before = datetime.now(UTC)
    try:
        raise ConnectionError(f"POST https://api.telegram.org/bot{TOKEN}/sendMessage\n"
                              f"password={PASSWORD} other {OTHER_TOKEN}")
    except ConnectionError:
        log.exception("send failed with %s and %s", TOKEN, OTHER_TOKEN)
    log.warning("Госуслуги\u2028строка\nвторая")
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn(f"a library's warning with {TOKEN}", UserWarning, stacklevel=1)
    text = stderr.getvalue()
    for secret in (TOKEN, PASSWORD, OTHER_TOKEN, TOKEN.split(":", 1)[1]):
        assert secret not in text
    failed, warned, warning = entries(text)
    assert set(failed) == {"time", "level", "logger", "message", "exception"}
    assert failed["level"] == "ERROR" and failed["logger"] == "bot.sender"
    assert failed["message"] == "send failed with *** and ***"
    assert failed["exception"].startswith("Traceback (most recent call last):")
    assert "ConnectionError: POST https://api.telegram.org/bot***/sendMessage\n" \
        "password=*** other ***" in failed["exception"]
    moment = datetime.fromisoformat(failed["time"])
    assert failed["time"].endswith("Z") and moment.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= moment <= datetime.now(UTC)
    assert set(warned) == {"time", "level", "logger", "message"}
    assert warned["message"] == "Госуслуги\u2028строка\nвторая"  # one line, read back whole
    assert warning["logger"] == "py.warnings" and "UserWarning: a library's warning with ***" \
        in warning["message"]


def test_the_text_format_is_redacted_the_same(root: logging.Logger) -> None:
    stderr = setup_logging(root, "INFO", [TOKEN, PASSWORD])
    try:
        raise ValueError(f"{PASSWORD} {OTHER_TOKEN}")
    except ValueError:
        logging.getLogger("storage").exception("store said %s", TOKEN)
    text = stderr.getvalue()
    assert TOKEN not in text and PASSWORD not in text and OTHER_TOKEN not in text
    first, *trace = text.splitlines()
    assert first.endswith(" ERROR storage: store said ***")
    assert trace[0] == "Traceback (most recent call last):" and trace[-1] == "ValueError: *** ***"


async def test_the_desk_started_with_log_format_json_writes_only_json_lines(
    tg: FakeTelegram, tmp_path: Path,
) -> None:
    db = tmp_path / "desk.sqlite3"
    await installed(db)
    env = bot_env(tg, db) | {"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"}
    err = tmp_path / "stderr.log"
    with err.open("wb") as sink:
        desk = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=tmp_path, env=env,
            stdout=asyncio.subprocess.DEVNULL, stderr=sink,
        )
    try:
        tg.push_update(tg.private_text(7_200_001, "Не работает светофор"))
        await tg.wait_for(lambda: desk.returncode is not None or texts_in(tg, 7_200_001),
                          timeout=60)
        assert desk.returncode is None, err.read_text(encoding="utf-8")
    finally:
        if desk.returncode is None:
            desk.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(desk.wait(), timeout=30)
    text = err.read_text(encoding="utf-8")
    assert code == 0, text
    found = entries(text)
    assert len(found) >= 3  # the start, the store, the stop at least
    assert all(set(e) >= {"time", "level", "logger", "message"} for e in found)
    assert {e["level"] for e in found} <= {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}
    assert any(e["logger"].startswith("storage") for e in found)
    assert TOKEN not in text and TOKEN.split(":", 1)[1] not in text
    assert "Не работает светофор" not in text  # citizens' messages are not logged


def test_a_start_refused_with_log_format_json_is_a_json_line_too(
    root: logging.Logger, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    missing = tmp_path / "no-such-folder" / "desk.sqlite3"
    # The store is opened first: the start is refused before any platform is asked.
    settings = make_settings("http://127.0.0.1:9", missing, log_format="json")
    assert run(settings) == 2
    out, err = capsys.readouterr()
    assert out == ""
    *_, last = entries(err)
    assert last["level"] == "ERROR"
    assert last["message"] == f"frontdesk: DATABASE_URL: folder {missing.parent} does not exist"


def test_vkbottle_records_and_warnings_go_through_the_redacted_json_handler_only(
    tmp_path: Path,
) -> None:
    # vkbottle gives its logger a coloured stderr handler of its own when imported, and puts
    # its own warnings.showwarning in; the desk imports it late (only to serve VK) and quiets
    # the libraries again at start, as here.
    code = (
        "import logging, warnings\n"
        "from bot.logs import quiet_libraries, setup_logging\n"
        f"setup_logging('INFO', [{PASSWORD!r}], 'json')\n"
        "import bot.vk.adapter\n"
        "quiet_libraries()\n"
        "from vkbottle.modules import logger\n"
        f"logger.error('VK said {{}}', {PASSWORD!r} + ' ' + {OTHER_TOKEN!r})\n"
        "warnings.simplefilter('always')\n"
        f"warnings.warn('a warning with ' + {PASSWORD!r}, UserWarning, stacklevel=1)\n"
        f"logging.getLogger('asyncpg.pool').error({PASSWORD!r})\n"
        f"logging.getLogger('aiogram.dispatcher').error({OTHER_TOKEN!r})\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    assert PASSWORD not in done.stderr and OTHER_TOKEN not in done.stderr
    said, warned, pg, aiogram = entries(done.stderr)  # each once, and nothing but JSON lines
    assert (said["logger"], said["message"]) == ("vkbottle", "VK said *** ***")
    assert warned["level"] == "WARNING" and "UserWarning: a warning with ***" in \
        warned["message"]
    assert (pg["logger"], pg["message"]) == ("asyncpg.pool", "***")
    assert (aiogram["logger"], aiogram["message"]) == ("aiogram.dispatcher", "***")


def test_a_librarys_record_whose_arguments_do_not_fit_is_logged_not_raised(
    root: logging.Logger,
) -> None:
    stderr = setup_logging(root, "INFO", [PASSWORD], "json")
    # A format with one argument too few, as a library could write it.
    logging.getLogger("aiogram.dispatcher").error("%s failed: %s", PASSWORD)  # noqa: PLE1206
    [entry] = entries(stderr.getvalue())
    assert entry["logger"] == "aiogram.dispatcher"
    assert entry["message"] == "%s failed: %s ('***',)"


def test_a_desk_serving_vk_keeps_vkbottles_own_handler_out_from_the_first_check(
    tmp_path: Path,
) -> None:
    # `python -m bot --check` makes the Application and asks the platforms, never starting it.
    code = (
        "import logging\n"
        "from pathlib import Path\n"
        "from bot.app import Application\n"
        "from tests.harness import make_settings\n"
        f"settings = make_settings('http://127.0.0.1:9', Path({str(tmp_path / 'd.sqlite3')!r}),"
        " vk_token='vk1.a.token', vk_group_id=1)\n"
        "Application(settings)\n"
        "print(logging.getLogger('vkbottle').handlers)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, check=True)
    assert done.stdout == "[]\n", done.stderr
