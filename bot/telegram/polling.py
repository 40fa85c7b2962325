"""Durable long polling: every update is stored before Telegram is told it was received.

aiogram's own polling confirms a batch by asking for the next one while the handlers of the
last may still run (`Dispatcher.start_polling(handle_as_tasks=True)`, its default, in
aiogram/dispatcher/dispatcher.py), so a crash could lose confirmed updates. Here the offset moves
only after the batch is in the inbox, and handlers work from the inbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramConflictError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response
from aiogram.types import Update
from aiogram.types.update import UpdateTypeLookupError
from pydantic import ValidationError

from bot.inbox import Failure, InboxKeeper, failed, malformed
from bot.stopping import unless_stopped
from handlers.desk import FrontDesk
from storage.base import InboxItem, Store

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ALLOWED_UPDATES = ["message", "edited_message"]


class GetRawUpdates(TelegramMethod[list[dict[str, Any]]]):
    """getUpdates, answered as plain dicts: one malformed update cannot block the rest."""

    __returning__ = list[dict[str, Any]]
    __api_method__ = "getUpdates"

    offset: int | None = None
    limit: int | None = None
    timeout: int | None = None
    allowed_updates: list[str] | None = None


# pydantic keeps parametrized classes only weakly; see bot/telegram/delivery.py.
KEEP_RESPONSE_TYPE = Response[list[dict[str, Any]]]


def source_key(update_id: int, payload: str) -> str:
    """The inbox key of an update: its id, and a digest of what it says.

    Telegram numbers updates in sequence but picks a random start after a week without any
    (https://core.telegram.org/bots/api#update), so an id alone could one day match an old,
    different update and be dropped as a repeat. The same update sent again reads the same.
    """
    digest = hashlib.blake2b(payload.encode(), digest_size=8).hexdigest()
    return f"{PLATFORM}:{update_id}:{digest}"


class TelegramPoller:
    """Fetches updates into the inbox and feeds them from there to the dispatcher."""

    def __init__(
        self, bot: Bot, dispatcher: Dispatcher, store: Store, desk: FrontDesk, *,
        poll_timeout: int = 25,
    ) -> None:
        self.bot = bot
        self.dispatcher = dispatcher
        self.store = store
        self.keeper = InboxKeeper(desk)
        self.poll_timeout = poll_timeout
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self.first_poll = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def fetch(self) -> None:
        """Long-poll Telegram until stopped; store each batch, then confirm it."""
        offset: int | None = None
        failures = 0
        store_failures = 0  # counted apart: a good getUpdates says nothing of the store
        while not self._stopping.is_set():
            self.first_poll.set()
            try:
                updates = await self._get(offset)
            except TelegramUnauthorizedError:
                log.error("TELEGRAM_TOKEN: Telegram rejected the token")
                raise
            except TelegramRetryAfter as exc:
                await self._pause(exc.retry_after)
                continue
            except TelegramConflictError as exc:
                # Another process polls with this token, or a webhook is set for it.
                log.error("TELEGRAM_TOKEN: %s", exc.message)
                await self._pause(10)
                continue
            except (
                TelegramNetworkError, TelegramServerError, ClientDecodeError,
                TimeoutError, OSError,
            ) as exc:
                # ClientDecodeError: an answer that is not Telegram's JSON, such as the HTML
                # page of a 502 from the proxy in front of the Bot API. Its text may carry
                # the answer itself (citizens' messages): only the name is logged.
                failures += 1
                delay = min(30.0, 0.5 * 2 ** min(failures, 6))
                log.warning("getUpdates failed (%s); again in %.1f s", type(exc).__name__, delay)
                await self._pause(delay)
                continue
            failures = 0
            if not updates:
                continue
            items = []
            next_offset = offset
            for raw in updates:
                update_id = raw.get("update_id")
                if not isinstance(update_id, int):
                    log.warning("an update without update_id was skipped")
                    continue
                payload = json.dumps(raw, ensure_ascii=False, sort_keys=True)
                items.append((source_key(update_id, payload), payload))
                next_offset = max(next_offset or 0, update_id + 1)
            try:
                await self.store.put_inbox(PLATFORM, items)
            except Exception as exc:
                # Not confirmed to Telegram: the same batch comes again.
                store_failures += 1
                delay = min(30.0, 0.5 * 2 ** min(store_failures, 6))
                log.error("the inbox could not store updates (%s); again in %.1f s",
                          type(exc).__name__, delay)
                await self._pause(delay)
                continue
            store_failures = 0
            offset = next_offset
            self._wake.set()

    async def _get(self, offset: int | None) -> list[dict[str, Any]]:
        if self._stopping.is_set():
            return []
        request = GetRawUpdates(
            offset=offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES
        )
        poll: Awaitable[list[dict[str, Any]]] = self.bot(
            request, request_timeout=self.poll_timeout + 10
        )
        done, updates = await unless_stopped(poll, self._stopping)
        return updates if done and updates is not None else []

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def process(self) -> None:
        """Hand stored updates to the dispatcher, oldest first, until stopped."""
        failures = 0
        while True:
            self._wake.clear()
            try:
                items = await self.store.pending_inbox(PLATFORM, 100)
                if items:
                    await self._handle_batch(items)
                failures = 0
            except Exception as exc:  # the store itself failing must not stop intake
                failures += 1
                log.error("telegram inbox: the store failed (%s); again shortly",
                          type(exc).__name__)
                if self._stopping.is_set():
                    return  # what is not done stays pending for the next start
                await self._pause(min(30.0, 0.5 * 2 ** min(failures, 6)))
                continue
            if items:
                continue
            if self._stopping.is_set():
                return
            await self.keeper.tell_staff()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.keeper.wait(5.0))

    async def _handle_batch(self, items: list[InboxItem]) -> None:
        failures: dict[int, Failure] = {}
        for item in items:
            failure = await self._handle(item.id, item.payload)
            if failure:
                failures[item.id] = failure
        # Handlers finish their rows in their own transactions; the keeper settles the rest
        # (updates no handler took, unreadable ones, and failures to try again).
        await self.keeper.settle(items, failures)

    async def _handle(self, inbox_id: int, payload: str) -> Failure | None:
        try:
            raw = json.loads(payload)
            update = Update.model_validate(raw, context={"bot": self.bot})
            kind = update.event_type
        except (ValidationError, ValueError) as exc:
            reason = f"malformed update: {type(exc).__name__}"
            log.warning("inbox row %s: %s", inbox_id, reason)
            return malformed(reason)
        except UpdateTypeLookupError:
            # A kind newer than this aiogram: aiogram would warn with the whole update, a
            # citizen's text included. Nothing the desk takes; kept with its kind.
            kinds = ", ".join(sorted(set(raw) - {"update_id"})) or "none"
            reason = f"unknown update kind: {kinds}"[:200]
            log.warning("inbox row %s: %s", inbox_id, reason)
            return malformed(reason)
        try:
            await self.dispatcher.feed_update(self.bot, update, inbox_id=inbox_id)
        except Exception as exc:  # one update failing must not stop the rest
            log.exception("inbox row %s: handling %s failed", inbox_id, kind)
            return failed(exc)
        return None
