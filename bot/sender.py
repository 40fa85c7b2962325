"""The one delivery path: reads the outbox, sends through the platforms, records results."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from bot.delivery import Deliverer, DeliveryResult
from bot.pacing import Pacer
from bot.telegram.split import TEXT_LIMIT, html_visible_length
from handlers.feedback import DeliveryFeedback
from storage.base import OutboxItem, Store
from storage.values import Outbound, Platform, Purpose

log = logging.getLogger(__name__)

BATCH = 200
MAX_INFLIGHT = 256  # rows handed to workers and not yet done; no more are read meanwhile
GROUP_ROOM = 16  # rows for Telegram groups (the staff side) read besides, whatever is in flight
GIVE_UP_AFTER = timedelta(hours=24)  # of temporary errors, for a citizen's message
MAX_BACKOFF = 600.0
MERGEABLE = frozenset({
    Purpose.CARD, Purpose.FOLLOW_UP, Purpose.STAFF_NOTICE, Purpose.ESCALATION,
})
SEPARATOR = "\n\n— — —\n\n"


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
        feedback: DeliveryFeedback,
        *,
        changed: asyncio.Event,
        pacer: Pacer | None = None,
        concurrency: int = 32,
        give_up_after: timedelta = GIVE_UP_AFTER,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.deliverers = dict(deliverers)
        self.feedback = feedback
        self.changed = changed
        self.now = now
        self.give_up_after = give_up_after
        self.pacer = pacer or Pacer(enabled=False)
        self._slots = asyncio.Semaphore(concurrency)
        # Staff-side chats (Telegram groups) have slots of their own: a card does not queue
        # behind hundreds of citizens' rows waiting for theirs.
        self._group_slots = asyncio.Semaphore(GROUP_ROOM)
        self._busy: dict[tuple[str, ...], asyncio.Task[None]] = {}
        self._keys: dict[asyncio.Task[None], tuple[str, ...]] = {}
        self._held: dict[tuple[str, ...], datetime] = {}  # queues told to wait
        self._inflight: set[int] = set()
        self._stopping = False
        self._finishing = False  # draining what is under way only (other desks send the rest)
        # Told of every attempt's result (bot/metrics.py counts them); by default nobody.
        self.observe: Callable[[Platform, DeliveryResult], None] = lambda platform, result: None

    async def run(self) -> None:
        """Deliver until stopped."""
        failures = 0
        try:
            while not self._stopping:
                self.changed.clear()
                try:
                    wait = await self._dispatch()
                    failures = 0
                except Exception as exc:  # the store gone for a while: rows wait there
                    failures += 1
                    wait = min(30.0, backoff(failures))
                    log.error("the outbox could not be read (%s); again in %.0f s",
                              type(exc).__name__, wait)
                if self._stopping:
                    break
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), timeout=wait)
        finally:
            await self._finish_workers()

    async def _dispatch(self) -> float:
        """Start a worker per queue with due rows; return how long to sleep at most."""
        if self._finishing:
            return 1.0
        room = min(BATCH, MAX_INFLIGHT - len(self._inflight))
        now = self.now()
        for key in [k for k, until in self._held.items() if until <= now]:
            del self._held[key]
        # Whole chats under way or told to wait are skipped in the query itself, so a
        # backlog in one chat (the staff chat in a storm) never crowds out the others.
        skip_chats = [(k[0], k[1]) for k in (*self._busy, *self._held) if len(k) == 2]
        items = [] if room <= 0 else await self.store.due_outbox(
            now, room, exclude=tuple(self._inflight), skip_chats=skip_chats
        )
        # Nor does a backlog of citizens' rows hold back the staff's: a card, or an
        # incident's count while its answer goes to a thousand, is read past it.
        read = {item.id for item in items}
        skip_topics = [(k[1], int(k[2].removeprefix("topic:"))) for k in (*self._busy, *self._held)
                       if len(k) == 3 and k[2].startswith("topic:")]
        items += await self.store.due_group_outbox(
            now, GROUP_ROOM, exclude=(*self._inflight, *read), skip_chats=skip_chats,
            skip_topics=skip_topics,
        )
        items.sort(key=lambda item: item.id)
        if not items and room <= 0:
            return 1.0  # workers report back as they finish
        by_chat: dict[tuple[str, ...], list[OutboxItem]] = {}
        for item in items:
            key = self._queue_key(item.outbound)
            held = self._held.get(key)
            if key in self._busy or (held and held > now):
                continue
            by_chat.setdefault(key, []).append(item)
        for key, chat_items in by_chat.items():
            self._inflight.update(i.id for i in chat_items)
            task = asyncio.create_task(self._work(key, chat_items))
            self._busy[key] = task
            self._keys[task] = key
            task.add_done_callback(self._worker_done)
        if self._busy or len(items) >= room:
            return 1.0
        next_at = await self.store.next_outbox_at()
        if next_at is None:
            return 5.0
        return max(0.05, min(5.0, (next_at - self.now()).total_seconds()))

    def _queue_key(self, out: Outbound) -> tuple[str, ...]:
        """Rows that must go in order: a chat's, or, unpaced, one ticket's within a group.

        Paced, a group takes one message every few seconds and queued cards are merged, so
        the chat is one queue. Unpaced (local servers), a staff chat's cards of different
        tickets need not wait for each other; each ticket's messages still go in order. A
        forum topic is a queue of its own: one closed by its admins holds only its rows.
        """
        key: tuple[str, ...] = (out.platform.value, out.chat_id)
        if out.topic is not None:
            key = (*key, f"topic:{out.topic}")
        if self.pacer.enabled or not out.chat_id.startswith("-"):
            return key
        return (*key, str(out.ticket_id or ""))

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        key = self._keys.pop(task, None)
        if key is not None and self._busy.get(key) is task:
            del self._busy[key]
        if not task.cancelled() and task.exception() is not None:
            log.error("delivery worker failed", exc_info=task.exception())
        self.changed.set()

    async def _work(self, key: tuple[str, ...], items: list[OutboxItem]) -> None:
        try:
            queue = await self._latest_edits(items)
            staff_side = key[0] == Platform.TELEGRAM.value and key[1].startswith("-")
            slots = self._group_slots if staff_side else self._slots
            while queue:
                group = self._take_group(queue)
                async with slots:
                    held_until = await self._deliver(group)
                if held_until is not None:
                    # Keep the chat's order: nothing after this row goes before it.
                    self._held[key] = held_until
                    break
        finally:
            self._inflight.difference_update(i.id for i in items)

    async def _latest_edits(self, items: list[OutboxItem]) -> list[OutboxItem]:
        """The rows to send, of several edits of one incident card queued only the last.

        Each says the whole card as it was when written, so the last says all: the others
        are done without a request (a storm of reporters costs the group one edit, not one
        each).
        """
        def card(out: Outbound) -> str | None:  # the card an edit is of: its incident's
            if out.edits is None or out.purpose is not Purpose.INCIDENT_CARD:
                return None
            return f"incident:{out.incident}" if out.incident is not None else out.edits

        last: dict[str, int] = {}
        for item in items:
            if (key := card(item.outbound)) is not None:
                last[key] = item.id
        superseded = [
            item for item in items
            if (key := card(item.outbound)) is not None and last[key] != item.id
        ]
        if superseded:
            await self.store.outbox_sent_many(superseded, [])
        gone = {item.id for item in superseded}
        return [item for item in items if item.id not in gone]

    def _take_group(self, queue: list[OutboxItem]) -> list[OutboxItem]:
        """The next row, merged with the ones queued behind it when the chat must wait.

        Telegram takes about 20 messages a minute in one group: in a storm the staff chat
        gets one message naming several tickets instead of a queue hours long.
        """
        first = queue.pop(0)
        out = first.outbound
        if not (_mergeable(out) and self.pacer.delay(out.platform, out.chat_id) > 0):
            return [first]
        group = [first]
        size = html_visible_length(out.text)
        # One message is in one forum topic: rows for another topic of the chat wait.
        while queue and _mergeable(queue[0].outbound) and queue[0].outbound.topic == out.topic:
            extra = html_visible_length(queue[0].outbound.text) + len(SEPARATOR)
            if size + extra > TEXT_LIMIT:
                break
            size += extra
            group.append(queue.pop(0))
        return group

    async def _deliver(self, group: list[OutboxItem]) -> datetime | None:
        item = group[0]
        out = item.outbound if len(group) == 1 else _merged(group)
        deliverer = self.deliverers.get(out.platform)
        if deliverer is None:
            # VK turned off with VK messages still waiting: staff hear of each one.
            reason = f"{out.platform} is not configured"
            for each in group:
                await self.feedback.delivery_failed(each.outbound, reason)
                await self.store.outbox_failed(each, reason)
                await self._answered_incident(each.outbound)
            return None
        try:
            async with self.pacer.sending(out.platform, out.chat_id):
                result = await deliverer.deliver(out, item.id, len(item.sent))
        except Exception as exc:  # a deliverer bug must not stop delivery of the rest
            log.exception("deliverer raised for outbox row %s", item.id)
            result = DeliveryResult.retry(type(exc).__name__)
        self.observe(out.platform, result)
        if result.ok:
            await self.store.outbox_sent_many(group, result.message_ids)
            if result.unrelayed:
                await self.feedback.cannot_relay(out, result.unrelayed)
            await self._answered_incident(out)
            return None
        if len(group) > 1:
            # A merged message (one part, so nothing of it went) goes again row by row.
            item = group[0]
            out = item.outbound
        return await self._not_delivered(item, result)

    async def _not_delivered(self, item: OutboxItem, result: DeliveryResult) -> datetime | None:
        """Retry, wait for people to put a staff chat right, or give up and tell people."""
        out = item.outbound
        error = result.error or "unknown error"
        setting = self.feedback.staff_setting(out.chat_id) if out.platform is Platform.TELEGRAM \
            else None
        if setting and result.chat_refused:
            # Staff must not miss a card because the bot was removed, muted or moved: keep it
            # until someone puts things right, and say so loudly.
            log.error("%s: Telegram refuses messages to chat %s: %s", setting, out.chat_id, error)
            await self.feedback.staff_chat_refused(out, error)
        elif result.permanent or (not setting and self._too_old(item)):
            log.warning("outbox row %s failed for good: %s", item.id, error)
            # People are told first: a crash between the two tells them again after the
            # restart rather than never.
            await self.feedback.delivery_failed(out, error)
            await self.store.outbox_failed(item, error, result.message_ids)
            await self._answered_incident(out)
            return None
        delay = result.retry_after if result.retry_after is not None else backoff(item.attempts)
        until = self.now() + timedelta(seconds=delay)
        log.info("outbox row %s: %s; retry in %.1f s", item.id, error, delay)
        await self.store.outbox_retry(item, until, error, result.message_ids)
        return until

    async def _answered_incident(self, out: Outbound) -> None:
        """One answer of an incident's went or was given up: its card counts it; its card
        went: it says what the incident is now. A failure here only delays the card: the
        row itself is recorded."""
        if out.incident is None:
            return
        try:
            if out.purpose is Purpose.ANSWER:
                await self.feedback.incident_progress(out.incident)
            elif out.purpose is Purpose.INCIDENT_CARD and out.edits is None:
                await self.feedback.incident_card_posted(out.incident, out)
        except Exception:
            log.exception("the card of incident %s was not updated", out.incident)

    def _too_old(self, item: OutboxItem) -> bool:
        """Temporary errors end a row by time, not by attempts: an outage may last hours."""
        return self.now() - item.created_at >= self.give_up_after

    async def _finish_workers(self) -> None:
        """Stopping after the drain deadline: what is still in flight goes after restart."""
        workers = list(self._busy.values())
        for worker in workers:
            worker.cancel()
        if workers:
            await asyncio.gather(*workers, return_exceptions=True)

    async def drain(self, timeout: float, *, look_for_more: bool = True) -> bool:
        """Wait until nothing due is left to send, at most `timeout` seconds; without
        `look_for_more`, only until what is under way is done (other desks send the rest)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            if not look_for_more:
                self._finishing = True  # the run loop starts nothing new
                if not self._busy:
                    return True
                await asyncio.sleep(0.05)
                continue
            due = await self.store.due_outbox(self.now(), 1)
            if not due and not self._busy:
                return True
            self.changed.set()
            await asyncio.sleep(0.05)
        return False

    def stop(self) -> None:
        self._stopping = True
        self.changed.set()


def _mergeable(out: Outbound) -> bool:
    return (
        out.platform is Platform.TELEGRAM and out.html and out.purpose in MERGEABLE
        and out.copy_from is None and not out.attachments and out.chat_id.startswith("-")
        and out.edits is None and out.incident is None
    )


def _merged(group: list[OutboxItem]) -> Outbound:
    """One staff-chat message for several rows; each row still names its own ticket."""
    outs = [item.outbound for item in group]
    purpose = Purpose.CARD if any(o.purpose is Purpose.CARD for o in outs) else outs[0].purpose
    return Outbound(
        platform=outs[0].platform,
        chat_id=outs[0].chat_id,
        purpose=purpose,
        text=SEPARATOR.join(o.text for o in outs),
        html=True,
        topic=outs[0].topic,
    )
