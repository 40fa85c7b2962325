"""README's quick start, step by step, on a copy of the checkout: it must work as written.

README says: `cp .env.example .env`, fill in TELEGRAM_TOKEN and STAFF_CHAT_ID, `make run`.
Here the Bot API server is the local fake (TELEGRAM_API_URL) and pacing is off, as for every
test against a local server; every other line of `.env.example` stays as shipped.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tomllib
from pathlib import Path

from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, TOKEN
from tests.test_e2e_telegram import texts_in

ROOT = Path(__file__).resolve().parent.parent
NOT_PART_OF_A_CHECKOUT = shutil.ignore_patterns(
    ".git", ".venv", "__pycache__", ".*_cache", "*.egg-info", ".env", "*.sqlite3*", "notes",
)
CITIZEN = 7_700_001


def fill_in(example: str, values: dict[str, str]) -> str:
    """What a person does in an editor: put a value after `NAME=` on its line."""
    lines = []
    for line in example.splitlines():
        name = line.partition("=")[0]
        lines.append(f"{name}={values[name]}" if name in values and "=" in line else line)
    return "\n".join(lines) + "\n"


def dry_run(checkout: Path, target: str, venv: Path) -> list[str]:
    """The commands `make <target>` would run with the virtualenv at `venv` (not run)."""
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", target, f"VENV={venv}"],
        cwd=checkout, capture_output=True, text=True, check=True,
    )
    return dry.stdout.strip().splitlines()


def make_run_command(checkout: Path) -> list[str]:
    """The command `make run` runs once the virtualenv is there (make's dry run says it)."""
    venv = Path(sys.prefix)
    last = dry_run(checkout, "run", venv)[-1]
    assert last == f"{venv}/bin/python -m bot"
    return last.split()


async def test_readme_quick_start_reaches_a_working_desk(tg: FakeTelegram, tmp_path: Path) -> None:
    checkout = tmp_path / "frontdesk"
    shutil.copytree(ROOT, checkout, ignore=NOT_PART_OF_A_CHECKOUT)
    # cp .env.example .env, then fill in TELEGRAM_TOKEN and STAFF_CHAT_ID
    example = (checkout / ".env.example").read_text(encoding="utf-8")
    (checkout / ".env").write_text(fill_in(example, {
        "TELEGRAM_TOKEN": TOKEN,
        "STAFF_CHAT_ID": str(STAFF_CHAT),
        "TELEGRAM_API_URL": tg.base_url,
        "PACING": "off",
    }), encoding="utf-8")
    # make run
    command = make_run_command(checkout)
    env = {k: v for k, v in os.environ.items()
           if k.split("_")[0] not in {"TELEGRAM", "STAFF", "VK", "DATABASE", "ESCALATION",
                                      "DIGEST", "PACING", "LOCALE", "LOCALES", "PYTHONPATH"}}
    log = tmp_path / "bot.log"
    with log.open("wb") as sink:
        process = await asyncio.create_subprocess_exec(
            *command, cwd=checkout, env=env, stdout=sink, stderr=sink,
        )
    try:
        tg.push_update(tg.private_text(CITIZEN, "Во дворе не горит фонарь"))
        await tg.wait_for(
            lambda: process.returncode is not None or (
                texts_in(tg, CITIZEN)
                and any("Во дворе не горит фонарь" in t for t in texts_in(tg, STAFF_CHAT))
            ),
            timeout=60,
        )
        assert process.returncode is None, log.read_text(encoding="utf-8")
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(process.wait(), timeout=30)

    [ack] = texts_in(tg, CITIZEN)
    assert ack.startswith("Ваше сообщение №1 получено.")
    [card] = [t for t in texts_in(tg, STAFF_CHAT) if "Во дворе не горит фонарь" in t]
    assert card.startswith("№1 ")
    assert code == 0
    assert (checkout / "frontdesk.sqlite3").exists()  # DATABASE_URL as shipped


def test_make_run_installs_only_what_the_bot_needs(tmp_path: Path) -> None:
    """On a fresh machine `make run` installs the bot; the test and lint tools only `make test`."""
    fresh = tmp_path / "fresh-venv"
    run = " ".join(dry_run(ROOT, "run", fresh))
    test = " ".join(dry_run(ROOT, "test", fresh))
    assert f"-m venv {fresh}" in run and "pip install" in run and "-e ." in run
    assert "[dev]" not in run
    assert "'.[dev]'" in test and test.endswith(f"{fresh}/bin/python -m pytest")
    with (ROOT / "pyproject.toml").open("rb") as file:
        project = tomllib.load(file)["project"]
    needed = " ".join(project["dependencies"]).lower()
    for tool in ("pytest", "hypothesis", "ruff", "mypy"):
        assert tool not in needed
        assert any(tool in dev for dev in project["optional-dependencies"]["dev"])
