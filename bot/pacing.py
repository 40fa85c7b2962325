"""Keeping within the platforms' rate limits: sliding windows per chat and per platform.

A limit such as Telegram's 30 messages a second is a rate in any second, not a bucket to spend
at once: a bucket that starts full lets a storm's first second send twice the limit. Each
limit here is a sliding window of (count, seconds) with sends spread `seconds / count` apart.
A send occupies its window from the moment it starts until `seconds` after its answer came
back; while it is under way Telegram may count it at any moment, so the window holds no more
than `count` sends that the server could still see in one span of `seconds`, however the
requests are delayed on the way.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass
from typing import Any

from aiogram import Bot
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import TelegramType

from handlers.expiring import ExpiringDict
from storage.values import Platform

BUSY_POLL = 0.01  # every send of a window is still under way: look again this soon
UNDER_WAY_AT_MOST = 30.0  # seconds; longer than any request is let run


@dataclass(frozen=True, slots=True)
class Rate:
    """At most `count` sends in any `seconds`."""

    count: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Limits:
    """How fast one platform lets a bot post: overall, per private chat, per group."""

    overall: Rate
    private: Rate
    group: Rate


# Telegram: 30 messages a second overall; in one chat no more than about one a second ("short
# bursts" may pass, "eventually" they get 429); 20 a minute in a group
# (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
TELEGRAM_LIMITS = Limits(overall=Rate(30, 1.0), private=Rate(1, 1.0), group=Rate(20, 60.0))
# VK: 20 requests a second for a community token (https://dev.vk.com/ru/api/api-requests).
VK_LIMITS = Limits(overall=Rate(20, 1.0), private=Rate(20, 1.0), group=Rate(20, 1.0))
LIMITS = {Platform.TELEGRAM: TELEGRAM_LIMITS, Platform.VK: VK_LIMITS}


class Window:
    """One sliding window: sends under way, and when recent ones finished."""

    __slots__ = ("done", "last_start", "rate", "spacing", "under_way")

    def __init__(self, rate: Rate) -> None:
        self.rate = rate
        self.spacing = rate.seconds / rate.count
        self.done: deque[float] = deque()
        self.under_way = 0
        self.last_start = -math.inf

    def wait(self, now: float) -> float:
        """Seconds until one more send may start; 0 if it may start now."""
        while self.done and self.done[0] <= now - self.rate.seconds:
            self.done.popleft()
        pause = self.last_start + self.spacing - now
        if self.under_way + len(self.done) >= self.rate.count:
            edge = self.done[0] + self.rate.seconds - now if self.done else BUSY_POLL
            pause = max(pause, edge)
        return max(pause, 0.0)

    def start(self, now: float) -> None:
        self.under_way += 1
        self.last_start = now

    def finish(self, now: float) -> None:
        self.under_way -= 1
        self.done.append(now)


class Pacer:
    """Waits before each send as long as the platforms' limits require; off does nothing.

    Telegram is paced per HTTP request (:meth:`telegram_middleware`), so a message sent in
    parts counts every part; VK per outbox row through :meth:`sending`.
    """

    def __init__(
        self, enabled: bool, clock: Callable[[], float] = time.monotonic,
        limits: dict[Platform, Limits] | None = None,
    ) -> None:
        self.enabled = enabled
        self.clock = clock
        self.limits = limits or LIMITS
        self.per_request: set[Platform] = set()
        self._overall = {platform: Window(lim.overall) for platform, lim in self.limits.items()}
        self._turns: dict[Platform, asyncio.Lock] = {}
        # A chat's window matters until its last send is `seconds` old (a request may take up
        # to half a minute more): then it is forgotten, so the number kept follows the chats
        # active lately, not every chat ever served.
        longest = {
            kind: max(getattr(lim, kind).seconds for lim in self.limits.values())
            for kind in ("private", "group")
        }
        self._chats: dict[str, ExpiringDict[tuple[Platform, str], Window]] = {
            kind: ExpiringDict(seconds + UNDER_WAY_AT_MOST, clock)
            for kind, seconds in longest.items()
        }

    def share(self, desks: int) -> None:
        """Send at this desk's share of each platform's overall limit, `desks` desks sharing
        one store (and one token): the limit is the bot's, whoever sends. A chat's own limit
        stays whole, since one desk at a time sends to a chat."""
        for platform, limits in self.limits.items():
            window = self._overall[platform]
            count = max(1, limits.overall.count // max(desks, 1))
            if window.rate.count != count:
                window.rate = Rate(count, limits.overall.seconds)
                window.spacing = window.rate.seconds / count

    def _windows(self, platform: Platform, chat_id: str) -> tuple[Window, Window]:
        kind = "group" if chat_id.startswith("-") else "private"
        chats = self._chats[kind]
        chat = chats.get((platform, chat_id))
        if chat is None:
            chat = chats[(platform, chat_id)] = Window(getattr(self.limits[platform], kind))
        return self._overall[platform], chat

    def chats_kept(self) -> int:
        """How many chats' windows are held now (after dropping the idle ones)."""
        return sum(len(chats) for chats in self._chats.values())

    def delay(self, platform: Platform, chat_id: str) -> float:
        """How long a message to this chat would wait now."""
        if not self.enabled:
            return 0.0
        windows = self._windows(platform, chat_id)
        now = self.clock()
        return max(window.wait(now) for window in windows)

    @asynccontextmanager
    async def slot(self, platform: Platform, chat_id: str) -> AsyncIterator[None]:
        """Hold the right to send one message for as long as the request is under way."""
        if not self.enabled:
            yield
            return
        windows = self._windows(platform, chat_id)
        overall, chat = windows
        while True:
            while (pause := chat.wait(self.clock())) > 0:  # the chat's own limit first
                await asyncio.sleep(pause)
            # Then the platform's, in turn: a card waits behind the sends that came before
            # it, not behind every send that happens to wake up sooner.
            async with self._turns.setdefault(platform, asyncio.Lock()):
                while (pause := overall.wait(self.clock())) > 0:
                    await asyncio.sleep(pause)
                now = self.clock()
                if chat.wait(now) > 0:
                    continue  # another send to the chat (another forum topic) went first
                for window in windows:
                    window.start(now)
                break
        self._touch(platform, chat_id, chat)
        try:
            yield
        finally:
            now = self.clock()
            for window in windows:
                window.finish(now)
            self._touch(platform, chat_id, windows[1])

    def _touch(self, platform: Platform, chat_id: str, window: Window) -> None:
        self._chats["group" if chat_id.startswith("-") else "private"][(platform, chat_id)] = (
            window
        )

    def sending(self, platform: Platform, chat_id: str) -> AbstractAsyncContextManager[None]:
        """Hold the right to send one outbox row while its delivery is under way (platforms
        paced per request are paced there instead). Held to the end, not only at the start:
        VK counts requests as they reach it, so a send let go earlier but slow to leave the
        desk (a busy event loop, a slow upload) still counts in the window it arrives in."""
        if platform in self.per_request:
            return nullcontext()
        return self.slot(platform, chat_id)

    def telegram_middleware(self) -> PacedRequests:
        """aiogram request middleware that paces every Telegram request that posts."""
        self.per_request.add(Platform.TELEGRAM)
        return PacedRequests(self)


def posts_a_message(api_method: str) -> bool:
    """Bot API methods that put a message into a chat or change one, which is what the
    limits count: "the limits for message editing are the same as for message sending …
    they share the limit" (https://github.com/tdlib/td/issues/2592)."""
    if api_method == "sendChatAction":
        return False
    return api_method.startswith(("send", "copyMessage", "forwardMessage", "editMessage"))


class PacedRequests(BaseRequestMiddleware):
    """Every Telegram request that posts waits for its slot and holds it until answered."""

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Any:
        chat_id = getattr(method, "chat_id", None)
        if not self.pacer.enabled or chat_id is None or not posts_a_message(
            method.__api_method__
        ):
            return await make_request(bot, method)
        async with self.pacer.slot(Platform.TELEGRAM, str(chat_id)):
            return await make_request(bot, method)
