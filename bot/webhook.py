"""The HTTP server for what the platforms push: Telegram's webhook and VK's Callback API.

Pushed intake keeps the rule of the pollers (bot/pump.py): an update is in the inbox before
the platform hears it was received. Each route answers success only after `InboxPump.receive`
returned; anything else makes the platform send it again, and a repeat is stored once by its
source key. The handlers take the rows from the inbox as they do for polled ones.

It listens on WEBHOOK_HOST:WEBHOOK_PORT (127.0.0.1:8080 by default) behind a reverse proxy
that takes HTTPS. Nothing a request carries is logged beyond its kind of fault: a body may
hold a citizen's message, a header a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from bot.startup import StartupRefused

if TYPE_CHECKING:
    from aiogram import Bot

    from bot.settings import Settings
    from bot.telegram.polling import TelegramPoller
    from bot.telegram.webhook import TelegramWebhook
    from bot.vk.callback import VKCallback
    from bot.vk.polling import VKPoller

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# A Telegram update or a VK event is a few kilobytes (files come as ids, not bytes).
BODY_LIMIT = 1024 * 1024
# On stop, requests under way may finish storing what they carry (the store is open).
SHUTDOWN_SECONDS = 5.0


@web.middleware
async def _never_crash(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An unexpected fault answers 500 (the platform sends again), named without content."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise  # aiohttp's own answers: 404, 405, 413
    except Exception as exc:
        log.error("%s: a request failed (%s); the platform will send it again",
                  request.path, type(exc).__name__)
        return web.Response(status=500, text="try again")


class PushIntake:
    """The webhook server, when TELEGRAM_WEBHOOK_URL or VK_CALLBACK_CONFIRMATION is set.

    Without either it listens nowhere, and both platforms are polled as before.
    """

    def __init__(
        self, host: str, port: int, polled: tuple[TelegramPoller, VKPoller | None], *,
        telegram: TelegramWebhook | None = None, vk: VKCallback | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.telegram_poller, self.vk_poller = polled  # the pumps, when polled instead
        self.telegram = telegram
        self.vk = vk
        self._runner: web.AppRunner | None = None

    @classmethod
    def from_settings(
        cls, settings: Settings, bot: Bot, telegram: TelegramPoller, vk: VKPoller | None,
    ) -> PushIntake:
        # The receivers import this module's helpers; vkbottle only when VK is served.
        webhook = callback = None
        if settings.telegram_webhook_url:
            from bot.telegram.webhook import TelegramWebhook  # noqa: PLC0415

            webhook = TelegramWebhook(
                bot, telegram, settings.telegram_webhook_url,
                settings.telegram_webhook_secret.get_secret_value(),
            )
        if settings.vk_callback and vk is not None:
            from bot.vk.callback import VKCallback  # noqa: PLC0415

            callback = VKCallback(
                vk, settings.vk_callback_confirmation,
                settings.vk_callback_secret.get_secret_value(), path=settings.vk_callback_path,
            )
        return cls(settings.webhook_host, settings.webhook_port, (telegram, vk),
                   telegram=webhook, vk=callback)

    @property
    def routes(self) -> dict[str, Handler]:
        routes: dict[str, Handler] = {}
        if self.telegram is not None:
            routes[self.telegram.path] = self.telegram.receive
        if self.vk is not None:
            routes[self.vk.path] = self.vk.receive
        return routes

    async def telegram_fetch(self) -> None:
        """Telegram's intake: the webhook set (then Telegram pushes), or long polling."""
        if self.telegram is not None:
            await self.telegram.fetch()
        else:
            await self.telegram_poller.fetch()

    async def vk_fetch(self) -> None:
        """VK's intake: nothing to fetch with the Callback API (VK pushes), or Long Poll."""
        if self.vk is None and self.vk_poller is not None:
            await self.vk_poller.fetch()

    async def start(self) -> None:
        """Listen, when there is anything to receive; StartupRefused names a busy port."""
        routes = self.routes
        if not routes or self._runner is not None:
            return
        app = web.Application(client_max_size=BODY_LIMIT, middlewares=[_never_crash])
        for path, handler in routes.items():
            app.router.add_post(path, handler)
        # No access log: the reverse proxy keeps one. A request whose sender gave up is not
        # cancelled (aiohttp's default): what it carries is stored all the same.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except OSError as exc:
            await runner.cleanup()
            raise StartupRefused(
                f"WEBHOOK_PORT: cannot listen on {self.host}:{self.port} "
                f"({exc.strerror or type(exc).__name__})"
            ) from None
        self._runner = runner
        log.info("receiving %s on %s:%s", " and ".join(sorted(self._names())),
                 self.host, self.port)

    def _names(self) -> list[str]:
        names = []
        if self.telegram is not None:
            names.append("Telegram's webhook")
        if self.vk is not None:
            names.append("VK's Callback API")
        return names

    async def stop(self) -> None:
        """Stop listening; requests under way finish first (within SHUTDOWN_SECONDS)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
