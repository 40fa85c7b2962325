"""What becomes of an inbox row after the desk tried it: done, kept, or tried again later.

Only an update that cannot be read is finished with its reason; it stays in the inbox and
staff are told how many could not be read (at most one message an hour, never the text).
Anything else that goes wrong while handling it (the store locked or failing to write, a
broken text file, a bug met by one kind of message) leaves the row pending: it is tried
again with growing pauses, and after the last try it is set aside, kept in the store, and
staff are told in one message how many updates wait and why. Rows set aside are tried again
at the next start. A notice held back by the once-an-hour rule stays owed until it is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from handlers import notices
from handlers.desk import FrontDesk
from storage.base import InboxItem

log = logging.getLogger(__name__)

# Pauses after the 1st … 7th failed try: 8 tries over about an hour (63 minutes), so a
# store locked for a moment costs seconds, and an outage of the disk up to an hour.
RETRY_DELAYS = (2.0, 10.0, 30.0, 120.0, 600.0, 1200.0, 1800.0)


@dataclass(frozen=True, slots=True)
class Failure:
    """Why handling a row failed; a permanent failure is not tried again."""

    reason: str
    permanent: bool = False


def malformed(reason: str) -> Failure:
    return Failure(reason, permanent=True)


def failed(exc: BaseException) -> Failure:
    """A failure worth another try. The reason names the error, never the update."""
    text = str(exc).splitlines()[0][:200] if str(exc) else ""
    name = type(exc).__name__
    return Failure(f"{name}: {text}" if text else name)


class InboxKeeper:
    """Settles a batch of inbox rows and remembers when the next deferred one is due."""

    def __init__(
        self,
        desk: FrontDesk,
        *,
        delays: Sequence[float] = RETRY_DELAYS,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.desk = desk
        self.store = desk.store
        self.delays = tuple(delays)
        self.now = now
        self._next_due: datetime | None = None
        self._untold: str | None = None  # a reason staff still have to hear about
        # Whether unreadable updates may be owed to staff: looked up once at start, since
        # the count lives in the store and survives a crash before the notice was sent.
        self._unreadable = True

    @property
    def tries(self) -> int:
        return len(self.delays) + 1

    async def settle(self, items: Sequence[InboxItem], failures: Mapping[int, Failure]) -> None:
        """Finish what was handled or cannot be read; defer or set aside the rest."""
        again = [item for item in items if item.id in failures
                 and not failures[item.id].permanent]
        deferred = {item.id for item in again}
        permanent = {i: f.reason for i, f in failures.items() if f.permanent}
        await self.store.finish_inbox_many(
            [item.id for item in items if item.id not in deferred], permanent
        )
        if permanent:
            self._unreadable = True
        now = self.now()
        for item in again:
            reason = failures[item.id].reason
            attempts = item.attempts + 1
            if attempts >= self.tries:
                log.error("inbox row %s set aside after %s tries: %s",
                          item.id, attempts, _kind(reason))
                await self.store.inbox_set_aside(item.id, reason)
                self._untold = reason
                continue
            due = now + timedelta(seconds=self.delays[attempts - 1])
            log.warning("inbox row %s: try %s of %s failed (%s); again at %s",
                        item.id, attempts, self.tries, _kind(reason), due.strftime("%H:%M:%S"))
            await self.store.inbox_retry(item.id, due, reason)
            self._next_due = due if self._next_due is None else min(self._next_due, due)
        await self.tell_staff()

    async def tell_staff(self) -> None:
        """Tell staff of updates set aside or unreadable; owed until a notice is written.

        A notice held back because staff were told within the hour stays owed: the idle
        loop calls this every few seconds, so it goes once the hour is over.
        """
        if self._unreadable:
            try:
                if await notices.updates_unreadable(
                    self.store, self.desk.texts, self.desk.config.staff_chat_id, now=self.now()
                ):
                    self._unreadable = False
            except Exception as exc:
                log.error("staff could not be told of unreadable updates (%s); "
                          "trying again later", type(exc).__name__)
        if self._untold is None:
            return
        try:
            count, latest = await self.store.set_aside_inbox()
            if count and not await notices.updates_set_aside(
                self.store, self.desk.texts, self.desk.config.staff_chat_id,
                count=count, reason=latest or self._untold, now=self.now(),
            ):
                return  # told within the hour: still owed
        except Exception as exc:
            log.error("staff could not be told of updates set aside (%s); trying again later",
                      type(exc).__name__)
            return
        self._untold = None

    def wait(self, longest: float) -> float:
        """Seconds to sleep before the inbox is worth reading again."""
        if self._next_due is None:
            return longest
        seconds = (self._next_due - self.now()).total_seconds()
        if seconds <= 0:
            self._next_due = None
            return 0.0
        return min(longest, seconds)


def _kind(reason: str) -> str:
    """The error's name only: its text may quote what a citizen wrote, logs never do."""
    return reason.split(":", 1)[0]


async def retry_set_aside(desk: FrontDesk) -> int:
    """At start: updates set aside before are tried again, with a fresh count of tries."""
    count = await desk.store.retry_set_aside()
    if count:
        log.warning("%s inbox rows set aside earlier are tried again", count)
        await notices.updates_retried(desk.store)
    return count
