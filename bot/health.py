"""/healthz: whether the desk works — its store answers, and its intake hears the platforms.

One line either way, for a monitoring check or a container's HEALTHCHECK: `ok` (200), or the
first reason it is not (503), such as `store: unavailable` or `telegram intake: last poll
312 s ago`. Never an exception's text: it could carry a path, a URL or a citizen's words.

What "hears the platforms" means depends on the intake:

- long polling (Telegram getUpdates, VK Long Poll): the platform answered a poll lately. A
  long poll is held open up to 25 s and a failing one is tried again within 30 s, so an
  answer older than POLL_WITHIN means intake has stalled;
- pushed (Telegram's webhook, VK's Callback API): there is nothing to poll and a quiet night
  has no requests, so the webhook server listening (it is, while the desk runs: a port it
  cannot take stops the start) is what there is to ask, and for Telegram that setWebhook
  took the URL (tried again through network trouble at start, `ready`);
- a desk standing by while another desk on the same PostgreSQL store polls: healthy when its
  store answers; it takes the polling over when the other desk is gone, and from then on has
  POLL_WITHIN for its first answer, as at start.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.pump import InboxPump
    from storage.base import Store

STORE_TIMEOUT = 1.0  # seconds the store has to answer the health read
POLL_WITHIN = 120.0  # seconds since the platform's last answer to a poll


@dataclass(frozen=True, slots=True)
class Intake:
    """One platform's intake: polled by `pump`, or pushed (None)."""

    name: str  # "telegram", "vk"
    pump: InboxPump[Any] | None
    ready: Callable[[], bool] | None = None  # pushed: whether the platform knows where to push


class Health:
    """Answers /healthz: None when healthy, else the reason in one line."""

    def __init__(
        self, store: Store, intakes: Sequence[Intake], *,
        store_timeout: float = STORE_TIMEOUT, poll_within: float = POLL_WITHIN,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.intakes = list(intakes)
        self.store_timeout = store_timeout
        self.poll_within = poll_within
        self.clock = clock
        self.started_at = clock()

    async def problem(self) -> str | None:
        """The first thing wrong, or None."""
        try:
            await asyncio.wait_for(self.store.ping(), self.store_timeout)
        except TimeoutError:
            return f"store: no answer in {self.store_timeout:g} s"
        except Exception:  # closed, its file removed, the server gone: all the same here
            return "store: unavailable"
        for intake in self.intakes:
            reason = self._intake_problem(intake)
            if reason is not None:
                return f"{intake.name} intake: {reason}"
        return None

    def _intake_problem(self, intake: Intake) -> str | None:
        pump = intake.pump
        now = self.clock()
        if pump is None:  # pushed: the platform was told where, or is still being told
            waited = now - self.started_at
            if intake.ready is None or intake.ready() or waited <= self.poll_within:
                return None
            return f"webhook not set yet, {waited:.0f} s after start"
        if pump.polls is False:
            return None  # another desk polls and this one stands by
        since = max(self.started_at, pump.polling_since or self.started_at)
        if pump.polled_at is None or pump.polled_at < since:
            waited = now - since
            if waited <= self.poll_within:
                return None
            after = "start" if pump.polling_since is None else "taking the polling over"
            return f"no poll yet, {waited:.0f} s after {after}"
        ago = now - pump.polled_at
        return f"last poll {ago:.0f} s ago" if ago > self.poll_within else None
