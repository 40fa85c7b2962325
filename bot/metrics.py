"""/metrics and /healthz for the administration's monitoring (Prometheus), when METRICS_PORT
is set.

The server runs in the desk's own event loop (aiohttp, as the webhook server does), not in
prometheus-client's thread, and every Application has a registry of its own, never the
library's global one: several desks in one process (the tests) count apart.

Counters move as things happen: the desk's events (`handlers.events`: tickets opened, first
answers, escalations) and the sender's results. Gauges of the store's state are read from it
at scrape time, in one cheap read (`Store.figures`) given FIGURES_TIMEOUT: a store that fails
or is slow leaves them out of that scrape, and `frontdesk_store_up` says 0, rather than
holding the scrape.

It listens on METRICS_HOST:METRICS_PORT, 127.0.0.1 by default: the figures say how busy the
desk is and how late, which is nobody's business outside the administration.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Awaitable, Callable, Iterator, Sequence
from datetime import datetime, timedelta

from aiohttp import web
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.delivery import DeliveryResult
from bot.health import Health, Intake
from bot.startup import StartupRefused
from handlers.config import utc_now
from storage.base import Store
from storage.figures import DeskFigures
from storage.values import Platform

log = logging.getLogger(__name__)

FIGURES_TIMEOUT = 2.0  # seconds the store has to give the gauges' figures
SHUTDOWN_SECONDS = 2.0
# Working time to the first answer: minutes up to the regional rule's 9 working hours (4 for
# urgent ones), then days, up to the 7 working days an interim answer allows.
FIRST_ANSWER_BUCKETS = (
    60, 300, 900, 1800, 3600, 7200, 4 * 3600, 8 * 3600, 9 * 3600, 18 * 3600, 27 * 3600,
    45 * 3600, 63 * 3600, float("inf"),
)


def failure_class(result: DeliveryResult) -> str:
    """The kind of a failed attempt, as the sender treats it."""
    if result.retry_after is not None:
        return "rate_limited"  # Telegram's 429, VK's "too many requests per second"
    if result.chat_refused:
        return "refused"  # blocked by the citizen, the bot removed or muted in a chat
    return "permanent" if result.permanent else "temporary"


class DeskCounters:
    """The counters and the histogram; the desk's `DeskEvents` and the sender's observer."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.tickets_opened = Counter(
            "frontdesk_tickets_opened", "Tickets opened, by platform, channel and department",
            ["platform", "channel", "department"], registry=registry,
        )
        self.first_answer_seconds = Histogram(
            "frontdesk_first_answer_working_seconds",
            "Working time from a ticket's opening to its first answer, in seconds",
            ["platform"], buckets=FIRST_ANSWER_BUCKETS, registry=registry,
        )
        self.escalations = Counter(
            "frontdesk_escalations", "Escalation messages, by level (3+: the reminders)",
            ["level"], registry=registry,
        )
        self.sends = Counter(
            "frontdesk_sends", "Messages sent, by platform", ["platform"], registry=registry
        )
        self.failures = Counter(
            "frontdesk_send_failures",
            "Attempts to send that failed, by platform and error class "
            "(rate_limited, temporary, refused, permanent)",
            ["platform", "error"], registry=registry,
        )
        self.rate_limited = Counter(
            "frontdesk_rate_limited", "Answers of the platforms asking to wait (429)",
            ["platform"], registry=registry,
        )
        self.rate_limited_wait = Counter(
            "frontdesk_rate_limited_wait_seconds",
            "Seconds the platforms asked the desk to wait before sending again",
            ["platform"], registry=registry,
        )
        for platform in Platform:  # zero from the start, so rate() sees the first one
            self.sends.labels(platform.value)
            self.rate_limited.labels(platform.value)
            self.rate_limited_wait.labels(platform.value)

    # handlers.events.DeskEvents

    def opened(self, platform: str, channel: str, department: str | None) -> None:
        self.tickets_opened.labels(platform, channel, department or "none").inc()

    def first_answer(self, platform: str, working: timedelta) -> None:
        self.first_answer_seconds.labels(platform).observe(max(working.total_seconds(), 0.0))

    def escalated(self, level: int) -> None:
        self.escalations.labels(str(level) if level < 3 else "3+").inc()

    # the sender's observer

    def delivered(self, platform: Platform, result: DeliveryResult) -> None:
        """One attempt's result."""
        if result.ok:
            self.sends.labels(platform.value).inc()
            return
        self.failures.labels(platform.value, failure_class(result)).inc()
        if result.retry_after is not None:
            self.rate_limited.labels(platform.value).inc()
            self.rate_limited_wait.labels(platform.value).inc(max(result.retry_after, 0.0))


class StoreFigures(Collector):
    """The gauges read from the store: refreshed before each scrape, absent when it fails."""

    def __init__(self, store: Store, now: Callable[[], datetime]) -> None:
        self.store = store
        self.now = now
        self.latest: DeskFigures | None = None
        self.at = now()

    async def refresh(self, timeout: float = FIGURES_TIMEOUT) -> None:
        at = self.now()
        try:
            self.latest = await asyncio.wait_for(self.store.figures(at), timeout)
            self.at = at
        except Exception as exc:  # TimeoutError included: the scrape goes on without them
            self.latest = None
            log.warning("metrics: the store gave no figures (%s)", type(exc).__name__)

    def collect(self) -> Iterator[Metric]:
        figures = self.latest
        yield GaugeMetricFamily(
            "frontdesk_store_up", "1 if the store gave this scrape its figures, else 0",
            value=0 if figures is None else 1,
        )
        if figures is None:
            return

        def age(moment: datetime | None) -> float:
            return 0.0 if moment is None else max((self.at - moment).total_seconds(), 0.0)

        for name, doc, value in (
            ("frontdesk_open_tickets", "Open tickets", figures.open_tickets),
            ("frontdesk_overdue_tickets",
             "Open tickets waiting on staff past their deadline", figures.overdue_tickets),
            ("frontdesk_outbox_pending", "Messages waiting to be sent", figures.outbox_pending),
            ("frontdesk_outbox_oldest_pending_age_seconds",
             "Age of the oldest message waiting to be sent (0: none)",
             age(figures.outbox_oldest)),
            ("frontdesk_inbox_pending", "Updates received and not yet handled",
             figures.inbox_pending),
            ("frontdesk_inbox_lag_seconds",
             "Age of the oldest update received and not yet handled (0: none)",
             age(figures.inbox_oldest)),
        ):
            yield GaugeMetricFamily(name, doc, value=value)


class Monitoring:
    """The registry, the counters, and the HTTP server of /metrics and /healthz."""

    def __init__(
        self, store: Store, host: str, port: int, now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.host = host
        self.port = port
        self.registry = CollectorRegistry()
        self.counters = DeskCounters(self.registry)
        self.figures = StoreFigures(store, now)
        self.registry.register(self.figures)
        self.health: Health | None = None
        self._store = store
        self._runner: web.AppRunner | None = None

    def watch(self, intakes: Sequence[Intake]) -> None:
        """What /healthz asks about besides the store."""
        self.health = Health(self._store, intakes)

    async def metrics(self, request: web.Request) -> web.Response:
        await self.figures.refresh()
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def healthz(self, request: web.Request) -> web.Response:
        health = self.health or Health(self._store, ())
        problem = await health.problem()
        if problem is None:
            return web.Response(text="ok\n")
        return web.Response(status=503, text=problem + "\n")

    async def start(self) -> None:
        """Listen; StartupRefused names METRICS_PORT when the port cannot be had."""
        if self._runner is not None:
            return
        app = web.Application(middlewares=[_never_crash])
        app.router.add_get("/metrics", self.metrics)
        app.router.add_get("/healthz", self.healthz)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as exc:
            await runner.cleanup()
            raise StartupRefused(cannot_listen(self.host, self.port, exc)) from None
        self._runner = runner
        log.info("metrics and health on http://%s:%s/metrics and /healthz", self.host, self.port)

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()


def cannot_listen(host: str, port: int, exc: OSError) -> str:
    """Why the server cannot listen, in one line naming the setting to change."""
    if isinstance(exc, socket.gaierror):
        return f"METRICS_HOST: {host} is no address this machine knows ({exc.strerror})"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"METRICS_HOST: {host} is not an address of this machine (127.0.0.1, or 0.0.0.0 " \
            "for every one)"
    if exc.errno == errno.EACCES and port < 1024:  # the privileged ports
        return f"METRICS_PORT: {port} is below 1024, which only root may take; take one " \
            "above it, such as 9108"
    reason = exc.strerror or type(exc).__name__
    if exc.errno == errno.EADDRINUSE:
        reason = "another program, or WEBHOOK_PORT, has it"
    return f"METRICS_PORT: cannot listen on {host}:{port} ({reason})"


@web.middleware
async def _never_crash(
    request: web.Request,
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> web.StreamResponse:
    """A fault answers 500 with one line naming its kind, never a stack trace."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise  # aiohttp's own answers: 404, 405
    except Exception as exc:
        log.error("%s failed (%s)", request.path, type(exc).__name__)
        return web.Response(status=500, text=f"error: {type(exc).__name__}\n")
