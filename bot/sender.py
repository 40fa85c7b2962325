"""The one delivery path: reads the outbox, sends through the platforms, records results."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from bot.delivery import Deliverer, DeliveryResult
from handlers.desk import FrontDesk
from handlers.model import Platform
from storage.base import OutboxItem, Store

log = logging.getLogger(__name__)

BATCH = 200
MAX_ATTEMPTS = 12  # with the backoff below: about an hour of trying
MAX_BACKOFF = 600.0


def backoff(attempts: int) -> float:
    """Exponential backoff with full jitter: 1, 2, 4 … seconds, capped."""
    ceiling = min(MAX_BACKOFF, 2.0 ** max(attempts, 0))
    return ceiling / 2 + random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not secrecy


class Sender:
    """Delivers outbox rows in order per chat, chats side by side."""

    def __init__(
        self,
        store: Store,
        deliverers: Mapping[Platform, Deliverer],
        desk: FrontDesk,
        *,
        changed: asyncio.Event,
        concurrency: int = 32,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.deliverers = dict(deliverers)
        self.desk = desk
        self.changed = changed
        self.now = now
        self._slots = asyncio.Semaphore(concurrency)
        self._busy: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._held: dict[tuple[str, str], datetime] = {}  # chats told to wait
        self._inflight: set[int] = set()
        self._stopping = False
        self._idle = asyncio.Event()

    async def run(self) -> None:
        """Deliver until stopped."""
        while not self._stopping:
            self.changed.clear()
            wait = await self._dispatch()
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=wait)
        await self._finish_workers()

    async def _dispatch(self) -> float:
        """Start a worker per chat with due rows; return how long to sleep at most."""
        now = self.now()
        items = await self.store.due_outbox(now, BATCH, exclude=tuple(self._inflight))
        by_chat: dict[tuple[str, str], list[OutboxItem]] = {}
        for item in items:
            key = (item.outbound.platform.value, item.outbound.chat_id)
            held = self._held.get(key)
            if key in self._busy or (held and held > now):
                continue
            by_chat.setdefault(key, []).append(item)
        for key, chat_items in by_chat.items():
            self._inflight.update(i.id for i in chat_items)
            task = asyncio.create_task(self._work(key, chat_items))
            self._busy[key] = task
            task.add_done_callback(self._worker_done)
        self._idle.clear() if self._busy else self._idle.set()
        if self._busy or len(items) >= BATCH:
            return 1.0
        next_at = await self.store.next_outbox_at()
        if next_at is None:
            return 5.0
        return max(0.05, min(5.0, (next_at - self.now()).total_seconds()))

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        for key, running in list(self._busy.items()):
            if running is task:
                del self._busy[key]
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery worker failed", exc_info=task.exception())
        self.changed.set()

    async def _work(self, key: tuple[str, str], items: list[OutboxItem]) -> None:
        try:
            for item in items:
                async with self._slots:
                    held_until = await self._deliver(item)
                if held_until is not None:
                    # Keep the chat's order: nothing after this row goes before it.
                    self._held[key] = held_until
                    break
        finally:
            self._inflight.difference_update(i.id for i in items)

    async def _deliver(self, item: OutboxItem) -> datetime | None:
        out = item.outbound
        deliverer = self.deliverers.get(out.platform)
        if deliverer is None:
            await self.store.outbox_failed(item, f"{out.platform} is not configured")
            return None
        try:
            result = await deliverer.deliver(out, item.id)
        except Exception as exc:  # a deliverer bug must not stop delivery of the rest
            log.exception("deliverer raised for outbox row %s", item.id)
            result = DeliveryResult.retry(type(exc).__name__)
        if result.ok:
            await self.store.outbox_sent(item, result.message_ids)
            if result.unrelayed:
                await self.desk.cannot_relay(out, result.unrelayed)
            return None
        error = result.error or "unknown error"
        if result.permanent or item.attempts + 1 >= MAX_ATTEMPTS:
            log.warning("outbox row %s failed for good: %s", item.id, error)
            await self.store.outbox_failed(item, error)
            await self.desk.delivery_failed(out, error)
            return None
        delay = result.retry_after if result.retry_after is not None else backoff(item.attempts)
        until = self.now() + timedelta(seconds=delay)
        log.info("outbox row %s: %s; retry in %.1f s", item.id, error, delay)
        await self.store.outbox_retry(item, until, error)
        return until

    async def _finish_workers(self) -> None:
        if self._busy:
            await asyncio.gather(*self._busy.values(), return_exceptions=True)

    async def drain(self, timeout: float) -> bool:
        """Wait until nothing due is left to send, at most `timeout` seconds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            due = await self.store.due_outbox(self.now(), 1)
            if not due and not self._busy:
                return True
            self.changed.set()
            await asyncio.sleep(0.05)
        return False

    def stop(self) -> None:
        self._stopping = True
        self.changed.set()
