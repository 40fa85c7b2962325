"""The fake Telegram a benchmark runs against, and the two bots it can run there."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from bench.proc import BotProcess, base_env
from storage import store_from_url
from tests.fakes.telegram import TOKEN, FakeTelegram
from tests.harness import installed

STAFF_CHAT = -1001000000001
FIRST_CITIZEN = 700_000_000


class BenchError(Exception):
    """A benchmark could not finish: the bot died, or did not do what was expected in time."""


@asynccontextmanager
async def fake_telegram(*, enforce_limits: bool = False) -> AsyncIterator[FakeTelegram]:
    """A fresh fake Bot API server on 127.0.0.1 with the staff chat in it."""
    async with FakeTelegram(enforce_limits=enforce_limits) as tg:
        tg.add_group(STAFF_CHAT, "Операторы")
        yield tg


def desk_env(
    api_url: str, db: Path, pacing: bool = False, database_url: str | None = None
) -> dict[str, str]:
    """The settings `python -m bot` gets: the fake server, a SQLite file (or the store
    `database_url` names), pacing as asked."""
    return base_env(
        TELEGRAM_TOKEN=TOKEN,
        TELEGRAM_API_URL=api_url,
        STAFF_CHAT_ID=str(STAFF_CHAT),
        DATABASE_URL=database_url or f"sqlite:///{db.resolve()}",
        PACING="on" if pacing else "off",
        BUSINESS_HOURS="24/7",
        DIGEST_AT="off",
        # A desk on a filled store would draw last week's chart at start, which is not what
        # a throughput, memory or start-up figure measures.
        REPORT_AT="off",
    )


async def spawn_desk(
    tg: FakeTelegram, db: Path, workdir: Path, *, pacing: bool = False,
    database_url: str | None = None,
) -> BotProcess:
    """Frontdesk as deployed: `python -m bot`, on a store that is already there: the SQLite
    file `db`, or the store `database_url` names (then `db` is not used).

    A store created at start is announced in the staff chat; an installed desk's is not, and
    the staff chat's figures count cards only.
    """
    if database_url is None:
        await installed(db)  # a store with its schema (an empty file would count as new)
    else:
        await install(database_url)
    env = desk_env(tg.base_url, db, pacing, database_url)
    return await BotProcess.spawn(["-m", "bot"], env, workdir)


async def install(url: str) -> None:
    """The store at `url` with its schema, quietly: the installing is not what is measured."""
    quiet = logging.getLogger("storage.postgres.connection")
    was, quiet.disabled = quiet.disabled, True
    try:
        store = store_from_url(url)
        await store.open()
        await store.close()
    finally:
        quiet.disabled = was


async def spawn_echo(tg: FakeTelegram, workdir: Path) -> BotProcess:
    """The bare aiogram echo bot, the practical upper limit."""
    env = base_env(TELEGRAM_TOKEN=TOKEN, TELEGRAM_API_URL=tg.base_url)
    return await BotProcess.spawn(["-m", "bench.echo_bot"], env, workdir)


async def until(
    predicate: Callable[[], Any], timeout: float, what: str,
    proc: BotProcess | Sequence[BotProcess],
) -> None:
    """Poll cheaply until `predicate()` holds; fail fast if a bot process (of several) died."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    procs = [proc] if isinstance(proc, BotProcess) else list(proc)
    while not predicate():
        dead = next((p for p in procs if p.failed()), None)
        if dead is not None:
            raise BenchError(f"bot exited ({dead.proc.returncode}) waiting for {what}:\n"
                             f"{dead.log_tail()}")
        if loop.time() > deadline:
            raise BenchError(f"no {what} within {timeout:.0f} s; bot log:\n"
                             f"{procs[0].log_tail()}")
        await asyncio.sleep(0.005)


async def wait_ready(tg: FakeTelegram, proc: BotProcess, timeout: float = 60.0) -> float:
    """Wait for the bot's first getUpdates; seconds from spawn to it."""
    await until(lambda: tg.getupdates_calls, timeout, "first getUpdates", proc)
    return tg.getupdates_calls[0].at - proc.spawned_at


def citizen_text(number: int) -> str:
    """A typical first message: a sentence or two."""
    return (f"Здравствуйте! Третий день не горит фонарь у дома {number % 97 + 1} "
            "по улице Ленина, вечером очень темно. Когда починят?")


def push_citizens(tg: FakeTelegram, first: int, count: int) -> dict[int, float]:
    """`count` distinct citizens write one message each, at once; chat id → push time."""
    pushed: dict[int, float] = {}
    for chat_id in range(first, first + count):
        tg.push_update(tg.private_text(chat_id, citizen_text(chat_id), first_name="Анна"))
        pushed[chat_id] = time.monotonic()  # ApiRequest.at's clock
    return pushed


def citizens_answered(tg: FakeTelegram) -> int:
    """Messages the bot has sent to citizens (private chats) so far."""
    return len(tg.sent()) - len(tg.sent(STAFF_CHAT))
