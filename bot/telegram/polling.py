"""Durable long polling: every update is stored before Telegram is told it was received.

aiogram's own polling confirms a batch by asking for the next one while the handlers of the
last may still run (`Dispatcher.start_polling(handle_as_tasks=True)`, its default, in
aiogram/dispatcher/dispatcher.py), so a crash could lose confirmed updates. Here the offset moves
only after the batch is in the inbox, and handlers work from the inbox.
"""

from __future__ import annotations

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

from bot.inbox import Failure, failed, malformed
from bot.pump import Fetched, InboxPump, PlatformFailed
from bot.stopping import unless_stopped
from bot.telegram.served import ServedChats
from handlers.desk import FrontDesk
from storage.base import HandledElsewhere, InboxItem, Store

log = logging.getLogger(__name__)

PLATFORM = "telegram"
ALLOWED_UPDATES = ["message", "edited_message", "callback_query"]


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


def inbox_row(raw: dict[str, Any], served: ServedChats | None = None) -> tuple[str, str] | None:
    """(source key, payload) of an update however it came, polled or by webhook; None
    without an update_id. From a chat the desk does not serve, the payload is empty: the
    update is stored once and passed, and nothing it says is kept (bot/telegram/served.py)."""
    update_id = raw.get("update_id")
    if not isinstance(update_id, int):
        return None
    payload = json.dumps(raw, ensure_ascii=False, sort_keys=True)
    kept = served is None or served.keeps(raw)
    return source_key(update_id, payload), payload if kept else ""


class TelegramPoller(InboxPump[int | None]):
    """Fetches updates into the inbox and feeds them from there to the dispatcher.

    The loops are bot/pump.py's; here is what Telegram says and how aiogram is fed.
    """

    platform = PLATFORM
    name = "getUpdates"
    log = log

    def __init__(
        self, bot: Bot, dispatcher: Dispatcher, store: Store, desk: FrontDesk, *,
        poll_timeout: int = 25,
    ) -> None:
        super().__init__(store, desk)
        self.bot = bot
        self.dispatcher = dispatcher
        self.poll_timeout = poll_timeout
        self._offset: int | None = None
        self._webhook_deleted = False
        self.served: ServedChats | None = None  # None: every update's payload is kept

    # fetching

    async def begin(self) -> None:
        self._offset = None  # Telegram keeps what was confirmed; it starts from there

    async def poll(self) -> Fetched[int | None] | None:
        try:
            if not self._webhook_deleted:
                # A webhook left from TELEGRAM_WEBHOOK_URL makes getUpdates answer 409
                # (https://core.telegram.org/bots/api#getupdates); the updates it holds
                # stay with Telegram and come by getUpdates instead.
                await self.bot.delete_webhook(drop_pending_updates=False)
                self._webhook_deleted = True
            updates = await self._get()
        except TelegramUnauthorizedError:
            log.error("TELEGRAM_TOKEN: Telegram rejected the token")
            raise
        except TelegramRetryAfter as exc:
            raise PlatformFailed("flood control", pause=exc.retry_after) from exc
        except TelegramConflictError as exc:
            # Another process polls with this token, or a webhook is set for it.
            log.error("TELEGRAM_TOKEN: %s", exc.message)
            raise PlatformFailed("conflict", pause=10) from exc
        except (
            TelegramNetworkError, TelegramServerError, ClientDecodeError, TimeoutError, OSError,
        ) as exc:
            # ClientDecodeError: an answer that is not Telegram's JSON, such as the HTML page
            # of a 502 from the proxy in front of the Bot API. Its text may carry the answer
            # itself (citizens' messages): only the name is logged.
            raise PlatformFailed(type(exc).__name__) from exc
        if not updates:
            return None
        items = []
        next_offset = self._offset
        for raw in updates:
            row = inbox_row(raw, self.served)
            if row is None:
                log.warning("an update without update_id was skipped")
                continue
            items.append(row)
            next_offset = max(next_offset or 0, raw["update_id"] + 1)
        return Fetched(items, next_offset)

    async def confirm(self, fetched: Fetched[int | None]) -> None:
        # Asking with the next offset is what tells Telegram the batch arrived.
        self._offset = fetched.position

    async def _get(self) -> list[dict[str, Any]]:
        request = GetRawUpdates(
            offset=self._offset, timeout=self.poll_timeout, allowed_updates=ALLOWED_UPDATES
        )
        poll: Awaitable[list[dict[str, Any]]] = self.bot(
            request, request_timeout=self.poll_timeout + 10
        )
        done, updates = await unless_stopped(poll, self.stopping)
        return updates if done and updates is not None else []

    # processing

    async def handle(self, items: list[InboxItem]) -> dict[int, Failure]:
        failures: dict[int, Failure] = {}
        for item in items:
            failure = await self._handle(item.id, item.payload)
            if failure:
                failures[item.id] = failure
        return failures

    async def _handle(self, inbox_id: int, payload: str) -> Failure | None:
        if not payload:  # from a chat the desk does not serve: nothing was kept, nothing to do
            return None
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
        except HandledElsewhere:  # another desk, at a handover: nothing more to do here
            log.info("inbox row %s was handled by another desk", inbox_id)
        except Exception as exc:  # one update failing must not stop the rest
            log.exception("inbox row %s: handling %s failed", inbox_id, kind)
            return failed(exc)
        return None
