"""Telegram's webhook: each update is in the inbox before Telegram gets its 200.

Telegram posts every update to the URL given to setWebhook, with the secret_token in the
`X-Telegram-Bot-Api-Secret-Token` header, and repeats a request "in case of an unsuccessful
request" (any answer but 2xx) before it gives up (https://core.telegram.org/bots/api#setwebhook).
So: a wrong secret is 401 and nothing is read; an update is stored under the key the poller
gives it (bot/telegram/polling.py, `inbox_row`), and a repeat is stored once; the store
failing is 503, so Telegram sends it again. The dispatcher takes the rows from the inbox
through the poller's processing loop, as it does for polled ones.
"""

from __future__ import annotations

import hmac
import logging
from urllib.parse import urlsplit

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.utils.backoff import Backoff
from aiohttp import web

from bot.pump import BACKOFF
from bot.pushed import Malformed, json_object, refuse_malformed
from bot.telegram.polling import ALLOWED_UPDATES, TelegramPoller, inbox_row

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WHERE = "Telegram webhook"


class TelegramWebhook:
    """Sets the webhook at start and stores what Telegram posts to it."""

    def __init__(self, bot: Bot, pump: TelegramPoller, url: str, secret: str) -> None:
        self.bot = bot
        self.pump = pump
        self.url = url
        self.path = urlsplit(url).path or "/"
        self._secret = secret.encode()
        self.is_set = False  # Telegram took the URL: it pushes from now on (/healthz asks)

    async def fetch(self) -> None:
        """Set the webhook, tried again through network trouble; then Telegram pushes.

        The updates Telegram holds are kept (drop_pending_updates off): those not confirmed
        by getUpdates before come by the webhook now.
        """
        failures = Backoff(BACKOFF)
        while not self.pump.stopping.is_set():
            try:
                await self.bot.set_webhook(
                    url=self.url, secret_token=self._secret.decode(),
                    allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False,
                )
            except TelegramUnauthorizedError:
                log.error("TELEGRAM_TOKEN: Telegram rejected the token")
                raise
            except TelegramBadRequest as exc:  # Telegram's words on the URL, never the secret
                log.error("TELEGRAM_WEBHOOK_URL: Telegram refused the webhook (%s)", exc.message)
                raise
            except TelegramRetryAfter as exc:
                await self.pump.pause(exc.retry_after)
            except (
                TelegramNetworkError, TelegramServerError, ClientDecodeError, TimeoutError,
                OSError,
            ) as exc:
                wait = next(failures)
                log.warning("setWebhook failed (%s); again in %.1f s", type(exc).__name__, wait)
                await self.pump.pause(wait)
            else:
                self.is_set = True
                log.info("Telegram's webhook is set; updates arrive at %s", self.path)
                return

    def _authentic(self, request: web.Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "").encode(errors="replace")
        return hmac.compare_digest(given, self._secret)

    async def receive(self, request: web.Request) -> web.Response:
        """One update from Telegram: 200 once it is in the inbox, or an answer to repeat it."""
        if not self._authentic(request):
            log.warning("%s: a request without the right secret was refused", WHERE)
            return web.Response(status=401, text="unauthorized")
        try:
            update = await json_object(request)
        except Malformed as exc:
            return refuse_malformed(WHERE, exc)
        row = inbox_row(update, self.pump.served)
        if row is None:
            return refuse_malformed(WHERE, Malformed("no update_id"))
        try:
            new = await self.pump.receive([row])
        except Exception as exc:
            log.error("%s: the store failed keeping an update (%s); Telegram sends it again",
                      WHERE, type(exc).__name__)
            return web.Response(status=503, text="try again")
        if not new:
            log.info("%s: update %s came again; it was stored before", WHERE, update["update_id"])
        return web.Response(status=200)
