"""The composition root: settings in, a running front desk out. Nothing runs at import."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiogram import Bot, Dispatcher
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.delivery import Deliverer
from bot.files import telegram_file_fetcher
from bot.health import Intake
from bot.inbox import retry_set_aside
from bot.logs import quiet_libraries
from bot.pacing import Pacer
from bot.sender import Sender
from bot.settings import Settings, departments
from bot.sharing import Sharing
from bot.startup import Findings, StartupChecks, StartupRefused
from bot.telegram.delivery import TelegramDelivery
from bot.telegram.polling import TelegramPoller
from bot.telegram.report_delivery import ReportDelivery
from bot.telegram.routers import (
    citizens_router,
    discussion_router,
    other_chats_router,
    presses_router,
    staff_router,
)
from bot.telegram.served import ServedChats
from bot.telegram.stateless import NoStates
from bot.webhook import PushIntake
from handlers import notices, report
from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.desk import FrontDesk
from handlers.feedback import DeliveryFeedback
from handlers.render import hours_words
from handlers.texts import Texts, escape
from scheduler.jobs import DeskScheduler
from storage import Store, store_from_url
from storage.values import Outbound, Platform, Purpose

if TYPE_CHECKING:
    from bot.metrics import Monitoring
    from bot.vk.adapter import VKAdapter

log = logging.getLogger(__name__)

# Paced, an incident's card is edited for its count at most every 10 s: a storm costs the
# staff chat a few edits, within the group's 20 messages a minute.
CARD_EDIT_EVERY = timedelta(seconds=10)

REQUEST_TIMEOUT = 15.0
STARTUP_NOTICE_STATE = "startup:told-staff"


def hours_text(texts: Texts, settings: Settings) -> str:
    return hours_words(texts, BusinessHours.parse(settings.business_hours))


def desk_config(settings: Settings, texts: Texts) -> DeskConfig:
    """What the desk needs of the settings, in its own platform-neutral terms."""
    return DeskConfig(
        staff_chat_id=str(settings.staff_chat_id),
        timezone=settings.zone,
        escalation_after=settings.escalation_after,
        hours_text=hours_text(texts, settings),
        staff_user_ids=frozenset(str(i) for i in settings.staff_user_ids),
        flood_limit=settings.flood_limit,
        incident_reports=settings.incident_reports,
        incident_window=settings.incident_window,
        card_edit_every=CARD_EDIT_EVERY if settings.pacing else timedelta(0),
        escalation_repeat=settings.escalation_repeat,
        escalation_chat_id=(
            "" if settings.escalation_chat_id is None else str(settings.escalation_chat_id)
        ),
        duty_mentions=settings.duty_mentions,
        organization=settings.organization_name,
        site_url=settings.organization_site_url,
        feedback_url=settings.gosuslugi_feedback_url,
        privacy_policy_url=settings.privacy_policy_url,
        retention_days=settings.retention_days,
        payload_days=settings.payload_days,
        departments=departments(settings),
    )


def build_dispatcher(settings: Settings, desk: FrontDesk) -> Dispatcher:
    dispatcher = Dispatcher(storage=NoStates(), settings=settings, desk=desk)
    dispatcher.include_router(staff_router(settings.staff_chat_id))
    supervisors = settings.escalation_chat_id
    if supervisors is not None and supervisors != settings.staff_chat_id:
        # Level-2 escalations go there: a reply to one answers, closes or blocks as well.
        dispatcher.include_router(staff_router(supervisors, name="supervisors"))
    staff_chats = {settings.staff_chat_id, *([supervisors] if supervisors is not None else [])}
    for chat_id in sorted(int(c) for c in desk.config.staff_chats()):
        if chat_id not in staff_chats:
            # A department's own chat: its staff answer, take and close there as well.
            dispatcher.include_router(staff_router(chat_id, name=f"department {chat_id}"))
            staff_chats.add(chat_id)
    dispatcher.include_router(presses_router(staff_chats))
    if settings.discussion_chat_id is not None:
        dispatcher.include_router(discussion_router(settings.discussion_chat_id))
    if settings.telegram_citizens:
        dispatcher.include_router(citizens_router())
    dispatcher.include_router(other_chats_router())
    return dispatcher


def monitoring(settings: Settings, store: Store) -> Monitoring | None:
    """/metrics and /healthz when METRICS_PORT is set; prometheus-client is imported only by
    a desk that serves them."""
    if settings.metrics_port is None:
        return None
    from bot.metrics import Monitoring  # noqa: PLC0415

    return Monitoring(store, settings.metrics_host, settings.metrics_port)


def telegram_bot(settings: Settings, pacer: Pacer) -> Bot:
    """The desk's Bot: its requests paced; Telegram answers in well under a second, so a hung
    request is retried, not waited on."""
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.telegram_api_url), timeout=REQUEST_TIMEOUT
    )
    session.middleware(pacer.telegram_middleware())
    return Bot(
        settings.telegram_token.get_secret_value(),
        session=session,
        default=DefaultBotProperties(parse_mode=None),
    )


class Application:
    """Everything one Frontdesk process runs, started and stopped together."""

    def __init__(self, settings: Settings, store: Store | None = None) -> None:
        self.settings = settings
        self.store: Store = store or store_from_url(settings.database_url)
        folder = Path(settings.locales_dir) if settings.locales_dir else None
        self.texts = Texts(settings.locale, folder)
        self.calendar = WorkCalendar(BusinessHours.parse(settings.business_hours), settings.zone)
        self.monitoring = monitoring(settings, self.store)
        config = desk_config(settings, self.texts)
        if self.monitoring is not None:  # the desk's events counted for /metrics
            config = replace(config, events=self.monitoring.counters)
        self.desk = FrontDesk(self.store, self.texts, self.calendar, config)
        self.scheduler = DeskScheduler(
            self.store, self.texts, self.calendar, self.desk.config,
            check_interval=settings.escalation_check_interval, digest_at=settings.digest_at,
            report_at=settings.report_at,
        )
        self.pacer = Pacer(settings.pacing)
        self.bot = telegram_bot(settings, self.pacer)
        self.dispatcher = build_dispatcher(settings, self.desk)
        self.poller = TelegramPoller(self.bot, self.dispatcher, self.store, self.desk)
        # Updates from chats the desk does not serve keep no payload (personal data).
        self.poller.served = ServedChats.of(
            self.desk.config, discussion=settings.discussion_chat_id,
            citizens=settings.telegram_citizens,
        )
        deliverers: dict[Platform, Deliverer] = {
            Platform.TELEGRAM: TelegramDelivery(self.bot, self.store, ReportDelivery(
                self.store, self.texts, self.calendar, self.desk.config
            )),
        }
        self.vk: VKAdapter | None = None
        if settings.vk_enabled:
            # vkbottle takes a second to import: only a desk that serves VK pays for it.
            from bot.vk.adapter import VKAdapter  # noqa: PLC0415
            quiet_libraries()  # vkbottle's own log handler out, for --check as well
            self.vk = VKAdapter(
                settings, self.store, self.desk, self.texts, telegram_file_fetcher(self.bot)
            )
            deliverers[Platform.VK] = self.vk.delivery
        self.push = PushIntake.from_settings(  # Telegram's webhook, VK's Callback API
            settings, self.bot, self.poller, self.vk.poller if self.vk is not None else None
        )
        self.sender = Sender(
            self.store, deliverers, DeliveryFeedback(self.store, self.texts, self.desk.config),
            changed=self.store.changed, pacer=self.pacer,
            give_up_after=settings.delivery_give_up_after,
        )
        if self.monitoring is not None:
            self.sender.observe = self.monitoring.counters.delivered
        self.sharing = Sharing(self.store, self.pacer)
        self._tasks: list[asyncio.Task[Any]] = []
        self._stopped = asyncio.Event()

    async def start(self) -> None:
        """Open the store, check the platforms (StartupRefused stops here), start every part."""
        quiet_libraries()
        await self.check()
        await self._listen()  # what the platforms push waits in the inbox for the handlers
        await self._monitor()
        try:
            if self.store.created:
                await notices.store_created(
                    self.store, self.texts, self.desk.config.staff_chat_id, self.store.location
                )
                await report.begin_reports(self.store, self.desk.config, self.scheduler.now())
            await retry_set_aside(self.desk)
            await self.sharing.look()
        except BaseException:  # the store failing now: nothing listens on, nothing stays open
            await self._abandon()
            raise
        self._spawn(self.sharing.run(), "sharing")
        self._spawn(self.push.telegram_fetch(), "telegram-fetch")
        self._spawn(self.poller.process(), "telegram-process")
        if self.vk is not None:
            self._spawn(self.push.vk_fetch(), "vk-fetch")
            self._spawn(self.vk.poller.process(), "vk-process")
        self._spawn(self.sender.run(), "sender")
        self.scheduler.start()
        log.info("front desk started")

    async def check(self, *, tell_staff: bool = True) -> None:
        """Open the store, ask the platforms whether the desk can work, report what is weak.

        The store first: a wrong DATABASE_URL or a second process is named at once, without
        waiting on the network. With `tell_staff` staff are told in their chat; without it
        (`python -m bot --check`, which neither opens nor creates the store) only the log says
        it. Raises StartupRefused with the clients and the store closed when the desk cannot
        work.
        """
        if tell_staff:
            await self.store.open()
        vk_api = self.vk.api if self.vk is not None else None
        try:
            findings = await StartupChecks(self.settings, self.bot, vk_api).run()
        except BaseException:
            await self.close_clients()
            if tell_staff:
                await self.store.close()
            raise
        for line in findings.warnings:
            log.warning("%s", line)
        if tell_staff:
            await self._report(findings)

    async def _report(self, findings: Findings) -> None:
        notices = [self.texts.get(key) for key in findings.staff_notices]
        # Staff are told once per finding, not at every restart while it lasts.
        told = await self.store.get_state(STARTUP_NOTICE_STATE) or ""
        now = "\n".join(notices)
        if now == told:
            return
        async with self.store.transaction() as tx:
            for text in notices:
                await tx.enqueue(Outbound(
                    platform=Platform.TELEGRAM, chat_id=str(self.settings.staff_chat_id),
                    purpose=Purpose.STAFF_NOTICE, text=escape(text), html=True,
                ))
        await self.store.set_state(STARTUP_NOTICE_STATE, now)

    async def _listen(self) -> None:
        try:
            await self.push.start()
        except StartupRefused:
            await self.close_clients()
            await self.store.close()
            raise

    async def _monitor(self) -> None:
        """/metrics and /healthz, when METRICS_PORT is set; a busy port stops the start."""
        if self.monitoring is None:
            return
        webhook = self.push.telegram
        intakes = [Intake("telegram", self.poller) if webhook is None
                   else Intake("telegram", None, ready=lambda: webhook.is_set)]
        if self.vk is not None:
            intakes.append(Intake("vk", None if self.push.vk else self.vk.poller))
        self.monitoring.watch(intakes)  # pushed intake (None) has nothing to poll
        try:
            await self.monitoring.start()
        except StartupRefused:
            await self._abandon()
            raise

    async def _abandon(self) -> None:
        """A start that failed half-way: stop listening, close the clients and the store."""
        if self.monitoring is not None:
            await self.monitoring.stop()
        await self.push.stop()
        await self.close_clients()
        await self.store.close()

    async def close_clients(self) -> None:
        """Close the platforms' HTTP sessions (the store stays as it is)."""
        await self.bot.session.close()
        if self.vk is not None:
            await self.vk.close()

    def _spawn(self, work: Awaitable[Any], name: str) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(work)
        task.set_name(name)
        task.add_done_callback(self._task_done)
        self._tasks.append(task)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("%s stopped: %s", task.get_name(), exc)
            self._stopped.set()

    async def wait(self) -> None:
        """Until something asks the desk to stop, or a part of it fails for good."""
        await self._stopped.wait()

    def request_stop(self) -> None:
        self._stopped.set()

    async def stop(self) -> None:
        """Stop intake, let the sender drain for a bounded time, close the store."""
        if self.monitoring is not None:
            await self.monitoring.stop()
        await self.push.stop()  # what is being received is stored first
        self.poller.stop()
        if self.vk is not None:
            self.vk.stop()
        await self.scheduler.stop(self.settings.shutdown_timeout.total_seconds())
        timeout = self.settings.shutdown_timeout.total_seconds()
        intake = [t for t in self._tasks if t.get_name().startswith(("telegram", "vk-"))]
        with contextlib.suppress(Exception):
            await asyncio.wait_for(asyncio.gather(*intake, return_exceptions=True), timeout)
        # Alone, the desk sends what it can before it stops; with other desks on the store
        # it only finishes what is under way, and they send the rest.
        drained = await self.sender.drain(timeout, look_for_more=self.sharing.desks == 1)
        if not drained:
            log.warning("stopping with messages still in the outbox; they go after restart")
        self.sender.stop()
        for task in self._tasks:
            if not task.done():
                task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.close_clients()
        await self.store.close()
        log.info("front desk stopped")

    def failure(self) -> BaseException | None:
        for task in self._tasks:
            if task.done() and not task.cancelled() and task.exception() is not None:
                return task.exception()
        return None
