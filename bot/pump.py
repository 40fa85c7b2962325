"""Durable intake, written once for every platform: stored first, confirmed after, then handled.

A platform's own polling moves past a batch while its handlers may still run (aiogram's
`Dispatcher.start_polling`, vkbottle's `BotPolling`; each poller's docstring says how), so a
crash could lose what the platform no longer gives. Here a batch goes into the inbox first;
only then does the platform's position move past it (Telegram's getUpdates offset, VK's long
poll `ts`), and the handlers take their rows from the inbox, where a row stays pending until
it is settled.

A platform that pushes instead (Telegram's webhook, VK's Callback API) hands its rows to
`receive`, which stores them before the platform is answered; `process` is the same.

The pump owns the two loops, the backoffs, pause and stop; each platform's poller
(bot/telegram/polling.py, bot/vk/polling.py) owns everything its platform says and means.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Generic, TypeVar

from aiogram.utils.backoff import Backoff, BackoffConfig

from bot.inbox import Failure, InboxKeeper
from handlers.desk import FrontDesk
from storage.base import InboxItem, Store

# 1 s after the first failure, doubling up to 30 s; no jitter: one desk polls a platform at a
# time, so there is no crowd of clients to spread out, and the delays stay the ones the logs
# name.
BACKOFF = BackoffConfig(min_delay=1.0, max_delay=30.0, factor=2.0, jitter=0.0)
BATCH = 100  # inbox rows handed to the platform's handler at a time
IDLE = 5.0  # seconds between looks at an idle inbox (retries due, notices owed to staff)
STANDBY = 2.0  # seconds between looks of a desk standing by at whether it may take a role

P = TypeVar("P")


class PlatformFailed(Exception):
    """The platform gave no batch this time: try again after a backoff, or after `pause`.

    `reason` goes to the log as it is: the poller names the error, never what it carried
    (an answer's text may quote a citizen's message). `pause` is a wait the platform asked
    for itself (Telegram's retry_after) or a fixed one; it does not count as a failure.
    """

    def __init__(self, reason: str, *, pause: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pause = pause


@dataclass(frozen=True, slots=True)
class Fetched(Generic[P]):
    """One answer of the platform: rows for the inbox, and where to go on from once stored."""

    items: Sequence[tuple[str, str]]  # (source key, payload): a key seen before is stored once
    position: P


class Role:
    """A role of the desk as a loop sees it (`Store.lead`): held at the last look or not.

    Of several desks on one store the first to look takes a role; the others look again
    every STANDBY seconds, and the first to look after its holder is gone takes it over.
    On SQLite a desk has every role.
    """

    def __init__(self, name: str, what: str) -> None:
        self.name = name
        self.what = what  # for the log: "this desk polls telegram"
        self.had: bool | None = None  # None: not looked yet

    async def have(
        self, store: Store, log: logging.Logger, pause: Callable[[float], Awaitable[None]]
    ) -> bool:
        """Whether this desk has the role now; if not, after a pause of STANDBY."""
        try:
            now = await store.lead(self.name)
        except Exception as exc:  # the store: looked at again, never given up
            log.error("whether this desk %s is unknown (%s); again in %.1f s",
                      self.what, type(exc).__name__, STANDBY)
            now = False
        else:
            if now and self.had is False:
                log.info("this desk %s now", self.what)
            elif not now and self.had is not False:
                log.info("another desk %s; this one stands by", self.what)
        self.had = now
        if not now:
            await pause(STANDBY)
        return now

    async def resign(self, store: Store, log: logging.Logger) -> None:
        """Give the role up (the loop is done): a desk standing by takes it at its next look."""
        if not self.had:
            return
        self.had = None
        try:
            await store.resign(self.name)
        except Exception as exc:  # it goes with the store's session at close all the same
            log.warning("this desk could not give up %s (%s)", self.name, type(exc).__name__)


class InboxPump(ABC, Generic[P]):
    """Fetches a platform's batches into the inbox and hands them from there to its handler.

    A platform's poller subclasses it with what is its own: where it left off (`begin`), how
    it is asked and what its errors mean (`poll`), how its position moves (`confirm`), and
    how a stored row reaches the desk (`handle`).
    """

    platform: ClassVar[str]  # the inbox's name for it
    name: ClassVar[str]  # what is asked, for the log: "getUpdates failed (…)"
    log: ClassVar[logging.Logger]  # the platform's own logger, so lines keep their names

    def __init__(self, store: Store, desk: FrontDesk) -> None:
        self.store = store
        self.keeper = InboxKeeper(desk)
        self.stopping = asyncio.Event()
        # Set when rows arrive, stored by this desk or (PostgreSQL) by another one.
        self._wake = store.arrivals(self.platform)
        # Of several desks on one store one polls the platform, and one handles the inbox
        # (every platform's: a citizen's messages in order, incidents seen whole).
        self._polls = Role(f"poll:{self.platform}", f"polls {self.platform}")
        self._handles = Role("inbox", "handles the inbox")
        self.polled_at: float | None = None  # time.monotonic() of the platform's last answer
        # time.monotonic() when this desk took the polling over from another (None: never)
        self.polling_since: float | None = None

    @abstractmethod
    async def begin(self) -> None:
        """Before the first poll: where the platform left off."""

    @abstractmethod
    async def poll(self) -> Fetched[P] | None:
        """The next answer; None if there is nothing to store (or stopping cut it short).

        Raises PlatformFailed for trouble worth another try; anything else ends intake.
        """

    @abstractmethod
    async def confirm(self, fetched: Fetched[P]) -> None:
        """Move the position past an answer whose rows are in the inbox."""

    @abstractmethod
    async def handle(self, items: list[InboxItem]) -> Mapping[int, Failure]:
        """Hand stored rows to the desk; the failures by row id (the keeper settles them)."""

    @property
    def polls(self) -> bool | None:
        """Whether this desk polls the platform (another one may); None: not looked yet."""
        return self._polls.had

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()

    async def receive(self, items: Sequence[tuple[str, str]]) -> int:
        """Rows the platform pushed (a webhook): stored, then handled; how many were new.

        The platform is answered only after this returns: a failure here raises, so the
        platform is told to send the rows again.
        """
        new = await self.store.put_inbox(self.platform, items)
        self._wake.set()
        return new

    async def pause(self, seconds: float) -> None:
        """Sleep, but not past a stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stopping.wait(), timeout=seconds)

    async def fetch(self) -> None:
        """Poll the platform until stopped; store each batch, then confirm it. Stopped, the
        role of polling goes at once to a desk standing by."""
        try:
            await self._fetch()
        finally:
            await self._polls.resign(self.store, self.log)

    async def _fetch(self) -> None:
        # Counted apart: a good answer from the platform says nothing of the store.
        platform_failures, store_failures = Backoff(BACKOFF), Backoff(BACKOFF)
        while not self.stopping.is_set():
            try:
                await self.begin()
                store_failures.reset()
                break
            except Exception as exc:  # the store, read at start: tried again, never given up
                wait = next(store_failures)
                self.log.error("the inbox position could not be read (%s); again in %.1f s",
                               type(exc).__name__, wait)
                await self.pause(wait)
        while not self.stopping.is_set():
            if not await self._leading():
                continue
            try:
                fetched = await self.poll()
            except PlatformFailed as exc:
                delay = exc.pause
                if delay is None:
                    delay = next(platform_failures)
                    self.log.warning("%s failed (%s); again in %.1f s",
                                     self.name, exc.reason, delay)
                await self.pause(delay)
                continue
            platform_failures.reset()
            self.polled_at = time.monotonic()
            if fetched is None:
                continue
            try:
                if fetched.items:
                    await self.store.put_inbox(self.platform, fetched.items)
                    self._wake.set()
                await self.confirm(fetched)
            except Exception as exc:
                # Not confirmed: the platform gives the same batch again, stored once.
                delay = next(store_failures)
                self.log.error("%s: the store failed keeping a batch or its position (%s); "
                               "again in %.1f s", self.name, type(exc).__name__, delay)
                await self.pause(delay)
                continue
            store_failures.reset()

    async def _leading(self) -> bool:
        """Whether this desk polls the platform now; a desk taking over goes on from the
        position the one before it left in the store."""
        had = self._polls.had
        if not await self._polls.have(self.store, self.log, self.pause):
            return False
        if had is False:
            await self.begin()
            self.polling_since = time.monotonic()
        return True

    async def process(self) -> None:
        """Hand stored rows to the handler, oldest first, until stopped; then the inbox goes
        at once to a desk standing by."""
        try:
            await self._process()
        finally:
            await self._handles.resign(self.store, self.log)

    async def _process(self) -> None:
        failures = Backoff(BACKOFF)
        while True:
            self._wake.clear()
            if not await self._handles.have(self.store, self.log, self.pause):
                if self.stopping.is_set():
                    return  # the desk that handles the inbox goes on with it
                continue
            try:
                items = await self.store.pending_inbox(self.platform, BATCH)
                if items:
                    # Handlers finish their rows in their own transactions; the keeper
                    # settles the rest (rows no handler took, unreadable ones, and
                    # failures to try again).
                    await self.keeper.settle(items, await self.handle(items))
                failures.reset()
            except Exception as exc:  # the store itself failing must not stop intake
                self.log.error("%s inbox: the store failed (%s); again shortly",
                               self.platform, type(exc).__name__)
                if self.stopping.is_set():
                    return  # what is not done stays pending for the next start
                await self.pause(next(failures))
                continue
            if items:
                continue
            if self.stopping.is_set():
                return
            await self.keeper.tell_staff()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.keeper.wait(IDLE))
