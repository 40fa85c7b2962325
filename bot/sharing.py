"""A desk among several on one store: it says it is alive, and sends at its share.

On SQLite a desk has the store to itself and the count is always one; on PostgreSQL every
desk records itself every few seconds and counts the others seen lately, so the platforms'
overall limits (30 messages a second for a Telegram bot, 20 requests a second for a VK
token) hold for the deployment, not for each desk.
"""

from __future__ import annotations

import asyncio
import logging

from bot.pacing import Pacer
from storage.base import Store

log = logging.getLogger(__name__)

HEARTBEAT = 5.0  # seconds between a desk's reports that it is alive


class Sharing:
    """Keeps this desk's share of the limits as the number of desks changes."""

    def __init__(self, store: Store, pacer: Pacer) -> None:
        self.store = store
        self.pacer = pacer
        self.desks = 1

    async def look(self) -> None:
        """Report this desk alive and take its share: before the first send, then often."""
        desks = await self.store.heartbeat()
        if desks != self.desks:
            log.info("%d desks share the store; this one sends at 1/%d of the limits",
                     desks, desks)
        self.desks = desks
        self.pacer.share(desks)

    async def run(self) -> None:
        """Look every HEARTBEAT seconds until cancelled; the store's trouble only logged."""
        while True:
            await asyncio.sleep(HEARTBEAT)
            try:
                await self.look()
            except Exception as exc:  # the store away: the share stays as it was
                log.warning("this desk could not report itself alive (%s)", type(exc).__name__)
