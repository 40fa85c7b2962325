"""The front desk's clockwork: the escalation sweep and the daily digest, on APScheduler 3.

Deadlines live in the store; the scheduler only decides when to look. Both jobs are safe to
run late or twice: the sweep re-checks every ticket in its transaction, and the digest keeps
the date it was last sent in the store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from typing import Any, TypeVar

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from handlers.config import DeskConfig, WorkingClock, utc_now
from handlers.digest import send_digest
from handlers.escalation import escalate_due
from handlers.report import send_weekly_report
from handlers.retention import RetentionRun, apply_retention
from handlers.texts import Texts
from storage.base import Store

log = logging.getLogger(__name__)

T = TypeVar("T")
# The nightly retention run: when the desk is quietest, in the desk's time zone.
RETENTION_AT = time(3, 30)
RETENTION_AFTER_START = timedelta(minutes=10)


class DeskScheduler:
    """Runs the sweep every ESCALATION_CHECK_INTERVAL and the digest at DIGEST_AT."""

    def __init__(
        self,
        store: Store,
        texts: Texts,
        calendar: WorkingClock,
        config: DeskConfig,
        *,
        check_interval: timedelta,
        digest_at: time | None,
        now: Callable[[], datetime] = utc_now,
        report_at: time | None = None,
    ) -> None:
        self.store = store
        self.texts = texts
        self.calendar = calendar
        self.config = config
        self.check_interval = check_interval
        # Compared with local wall time; an offset written in DIGEST_AT would not compare.
        self.digest_at = None if digest_at is None else digest_at.replace(tzinfo=None)
        self.report_at = None if report_at is None else report_at.replace(tzinfo=None)
        self.now = now
        self._scheduler: AsyncIOScheduler | None = None
        self._jobs: set[asyncio.Task[Any]] = set()  # job runs under way
        self._stopping = False

    def start(self) -> None:
        """Schedule the jobs on the running event loop; the first sweep runs at once."""
        tz = self.config.timezone
        # An explicit zone: cron jobs otherwise follow the scheduler's, by default the machine's
        # local one (https://apscheduler.readthedocs.io/en/3.x/modules/triggers/cron.html).
        scheduler = AsyncIOScheduler(timezone=tz)
        scheduler.add_job(
            self.sweep,
            IntervalTrigger(seconds=self.check_interval.total_seconds(), timezone=tz),
            id="escalation-sweep",
            # At once after a start, so tickets that fell due while the desk was down escalate
            # without waiting an interval.
            next_run_time=datetime.now(tz),
            coalesce=True,
            max_instances=1,
            # However late: the sweep is idempotent and coalesced, so a late run is one run
            # that catches everything up, where a skipped one would only delay escalations.
            misfire_grace_time=None,
        )
        if self.digest_at is not None:
            at = self.digest_at
            scheduler.add_job(
                self.digest,
                CronTrigger(
                    day_of_week="mon-sun", hour=at.hour, minute=at.minute, second=at.second,
                    timezone=tz,
                ),
                id="digest",
                coalesce=True,
                max_instances=1,
                # The job itself checks the working day and the store's once-a-day mark.
                misfire_grace_time=None,
            )
            # Started after today's digest time with no digest sent yet: send it now, late,
            # rather than skip the day; the store's mark keeps it to one a day.
            scheduler.add_job(
                self.digest, DateTrigger(timezone=tz), id="digest-catch-up",
                misfire_grace_time=None,
            )
        if self.report_at is not None:
            self._schedule_report(scheduler, self.report_at)
        self._schedule_retention(scheduler)
        scheduler.start()
        self._scheduler = scheduler
        self._stopping = False
        log.info(
            "scheduler started: sweep every %s, digest at %s, weekly report at %s, "
            "personal data's retention at %s", self.check_interval, self.digest_at or "off",
            self.report_at or "off", RETENTION_AT,
        )

    async def sweep(self) -> int:
        """Escalate every due ticket."""
        return await self._run(
            lambda: escalate_due(self.store, self.texts, self.calendar, self.config, self.now()),
            idle=0,
        )

    async def digest(self) -> bool:
        """Send today's digest if its time has come and it has not gone out yet."""
        return await self._run(self._digest_now, idle=False)

    async def _digest_now(self) -> bool:
        now = self.now()
        if self.digest_at is None or now.astimezone(self.config.timezone).time() < self.digest_at:
            return False
        return await send_digest(self.store, self.texts, self.calendar, self.config, now)

    def _schedule_report(self, scheduler: AsyncIOScheduler, at: time) -> None:
        """The weekly report: looked for every day at REPORT_AT, and once at start.

        Every day, not on Mondays only: a holiday Monday moves it to the next working day.
        The job itself decides whether a report is due; the store's mark keeps it to one a
        week, and one due while the desk was down goes at its start.
        """
        tz = self.config.timezone
        scheduler.add_job(
            self.report,
            CronTrigger(hour=at.hour, minute=at.minute, second=at.second, timezone=tz),
            id="report", coalesce=True, max_instances=1, misfire_grace_time=None,
        )
        scheduler.add_job(
            self.report, DateTrigger(timezone=tz), id="report-catch-up", misfire_grace_time=None,
        )

    async def report(self) -> list[str]:
        """The weekly report into the supervisors' chat if one is due and not sent yet."""
        at = self.report_at
        if at is None:
            return []
        return await self._run(
            lambda: send_weekly_report(self.store, self.calendar, self.config, at, self.now()),
            idle=[],
        )

    def _schedule_retention(self, scheduler: AsyncIOScheduler) -> None:
        """Personal data's retention (handlers/retention.py): every night at RETENTION_AT,
        and once a few minutes after a start, so a desk restarted every day still runs it.
        Safe to run late or twice: each run picks what is still left."""
        tz = self.config.timezone
        at = RETENTION_AT
        scheduler.add_job(
            self.retention,
            CronTrigger(hour=at.hour, minute=at.minute, timezone=tz),
            id="retention", coalesce=True, max_instances=1, misfire_grace_time=None,
        )
        scheduler.add_job(
            self.retention, DateTrigger(datetime.now(tz) + RETENTION_AFTER_START, timezone=tz),
            id="retention-catch-up", misfire_grace_time=None,
        )

    async def retention(self) -> RetentionRun:
        """Anonymize what RETENTION_DAYS has run out for; prune what PAYLOAD_DAYS has."""
        return await self._run(
            lambda: apply_retention(
                self.store, self.now(), retention_days=self.config.retention_days,
                payload_days=self.config.payload_days, stopping=lambda: self._stopping,
            ),
            idle=RetentionRun(complete=False),
        )

    async def _run(self, work: Callable[[], Awaitable[T]], *, idle: T) -> T:
        """A job's work, known to stop() so that it waits for the work instead of cutting it."""
        if self._stopping:
            return idle
        # Of several desks on one store one runs the jobs, so a ticket escalates once and
        # the digest goes once; another takes over when that desk is gone.
        if not await self.store.lead("scheduler"):
            return idle
        task = asyncio.current_task()
        assert task is not None
        self._jobs.add(task)
        try:
            return await work()
        finally:
            self._jobs.discard(task)

    async def stop(self, timeout: float = 10.0) -> None:
        """No new runs; let a sweep or digest under way finish, then shut the scheduler down."""
        self._stopping = True
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is None or not scheduler.running:
            return
        scheduler.pause()
        # A run APScheduler handed to the loop just now starts, sees _stopping and returns;
        # shutting down first would cancel it, and APScheduler logs that as a failed job.
        await asyncio.sleep(0)
        if self._jobs:
            await asyncio.wait(set(self._jobs), timeout=timeout)
        scheduler.shutdown(wait=False)
        await asyncio.sleep(0)  # AsyncIOScheduler shuts down in a loop callback
