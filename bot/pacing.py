"""Keeping within the platforms' rate limits: token buckets per chat and per platform."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from handlers.model import Platform


@dataclass(frozen=True, slots=True)
class Limits:
    """How fast one platform lets a bot post (messages a second, and bursts)."""

    overall: float
    overall_burst: int
    private: float
    private_burst: int
    group: float
    group_burst: int


# Telegram: about 1 a second per private chat, 20 a minute per group, 30 a second overall
# (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
TELEGRAM_LIMITS = Limits(
    overall=30.0, overall_burst=30, private=1.0, private_burst=3, group=20 / 60, group_burst=3,
)
# VK: 20 requests a second for a community token (https://dev.vk.com/ru/api/api-requests).
VK_LIMITS = Limits(
    overall=20.0, overall_burst=20, private=20.0, private_burst=20, group=20.0, group_burst=20,
)
LIMITS = {Platform.TELEGRAM: TELEGRAM_LIMITS, Platform.VK: VK_LIMITS}


class Bucket:
    """A token bucket: `rate` tokens a second, holding at most `burst`."""

    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait(self, now: float) -> float:
        """Seconds until a token is there."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1

    def full(self, now: float) -> bool:
        self._refill(now)
        return self.tokens >= self.burst


class Pacer:
    """Waits before each send as long as the platform's limits require; off does nothing."""

    def __init__(
        self, enabled: bool, clock: Callable[[], float] = time.monotonic,
        limits: dict[Platform, Limits] | None = None,
    ) -> None:
        self.enabled = enabled
        self.clock = clock
        self.limits = limits or LIMITS
        self._overall: dict[Platform, Bucket] = {}
        self._chats: dict[tuple[Platform, str], Bucket] = {}

    def _buckets(self, platform: Platform, chat_id: str) -> tuple[Bucket, Bucket]:
        now = self.clock()
        limits = self.limits[platform]
        overall = self._overall.get(platform)
        if overall is None:
            overall = self._overall[platform] = Bucket(limits.overall, limits.overall_burst, now)
        chat = self._chats.get((platform, chat_id))
        if chat is None:
            if len(self._chats) > 10_000:
                self._forget_idle(now)
            group = chat_id.startswith("-")
            chat = self._chats[(platform, chat_id)] = Bucket(
                limits.group if group else limits.private,
                limits.group_burst if group else limits.private_burst,
                now,
            )
        return overall, chat

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, b in self._chats.items() if b.full(now)]:
            del self._chats[key]

    def delay(self, platform: Platform, chat_id: str) -> float:
        """How long a message to this chat would wait now."""
        if not self.enabled:
            return 0.0
        overall, chat = self._buckets(platform, chat_id)
        now = self.clock()
        return max(overall.wait(now), chat.wait(now))

    async def acquire(self, platform: Platform, chat_id: str) -> None:
        """Wait for the right to send one message."""
        if not self.enabled:
            return
        overall, chat = self._buckets(platform, chat_id)
        while True:
            now = self.clock()
            pause = max(overall.wait(now), chat.wait(now))
            if pause <= 0:
                overall.take(now)
                chat.take(now)
                return
            await asyncio.sleep(pause)
