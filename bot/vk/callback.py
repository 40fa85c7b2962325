"""VK's Callback API: each event is in the inbox before VK gets its "ok".

VK posts every event of the community as JSON with `type`, `object`, `group_id`, `event_id`
and `secret` (the secret key of the server's settings); a server is confirmed by answering a
`confirmation` event with the string the settings show, and each event must be answered with
the plain string `ok` and HTTP 200, or it is sent again; after several errors in a row VK stops
sending for a while (https://dev.vk.com/ru/api/callback/getting-started). So: a
wrong secret or community is 403 and nothing is stored; an event is stored under the key the
Long Poll gives it (bot/vk/polling.py, `inbox_row`: its event_id), so a repeat is stored once;
the store failing is 500, and VK sends it again. The desk takes the rows from the inbox
through the poller's processing loop, as it does for polled ones.
"""

from __future__ import annotations

import hmac
import logging
from typing import Any

from aiohttp import web

from bot.pushed import Malformed, json_object, refuse_malformed
from bot.vk.polling import VKPoller, inbox_row

log = logging.getLogger(__name__)

PATH = "/vk/callback"
WHERE = "VK Callback API"


class VKCallback:
    """Answers VK's confirmation and stores the community's events."""

    def __init__(
        self, pump: VKPoller, confirmation: str, secret: str, *, path: str = PATH
    ) -> None:
        self.pump = pump
        self.group_id = pump.group_id
        self.path = path
        self._confirmation = confirmation
        self._secret = secret.encode()

    def _authentic(self, event: dict[str, Any]) -> bool:
        given = event.get("secret")
        given_bytes = given.encode(errors="replace") if isinstance(given, str) else b""
        return hmac.compare_digest(given_bytes, self._secret)

    def _ours(self, event: dict[str, Any]) -> bool:
        group_id = event.get("group_id")
        return isinstance(group_id, int) and not isinstance(group_id, bool) \
            and abs(group_id) == self.group_id

    async def receive(self, request: web.Request) -> web.Response:
        """One event from VK: `ok` once it is in the inbox, or an answer that repeats it."""
        try:
            event = await json_object(request)
        except Malformed as exc:
            return refuse_malformed(WHERE, exc)
        kind = event.get("type")
        if not isinstance(kind, str):
            return refuse_malformed(WHERE, Malformed("no type"))
        if kind == "confirmation":
            if not self._ours(event):
                log.warning("%s: a confirmation for another community was refused", WHERE)
                return web.Response(status=403, text="forbidden")
            log.info("%s: the server is confirmed for community %s", WHERE, self.group_id)
            return web.Response(text=self._confirmation)
        if not self._authentic(event) or not self._ours(event):
            log.warning("%s: an event without the right secret or community was refused", WHERE)
            return web.Response(status=403, text="forbidden")
        # The secret is not kept: the row is the event as Long Poll would give it.
        stored = {name: value for name, value in event.items() if name != "secret"}
        try:
            new = await self.pump.receive([inbox_row(stored)])
        except Exception as exc:
            log.error("%s: the store failed keeping an event (%s); VK sends it again",
                      WHERE, type(exc).__name__)
            return web.Response(status=500, text="try again")
        if not new:
            log.info("%s: an event came again; it was stored before", WHERE)
        return web.Response(text="ok")
