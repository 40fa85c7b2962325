"""Several desks on one PostgreSQL store: who they are, which is alive, who leads what.

A role (polling a platform, handling the inbox, the scheduler) is a session-level advisory
lock held on a connection of its own: the server lets it go the moment that connection
ends, however the desk ends, so a standby takes the role over at its next look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket

import asyncpg

from storage.postgres.connection import PgConnection

log = logging.getLogger(__name__)

ROLE_TIMEOUT = 5.0  # seconds a role's session may take to answer before it counts as lost
CHANNEL = "frontdesk_inbox"  # where desks announce updates stored
ALIVE = 15.0  # seconds: a desk not seen for longer is not counted among those sharing
FORGOTTEN = 3600.0  # seconds: a desk not seen for longer is taken off the list
NOW = "extract(epoch FROM clock_timestamp())::float8"  # the server's clock, for every desk
_LEAD = "SELECT pg_try_advisory_lock(hashtext($1), hashtext(current_schema()))"
# A desk's machine gone without a word (power off, a cut cable) leaves its session open on
# the server until TCP says the peer is gone: two hours by the system's default. The role's
# session asks the server to probe after 10 s idle, every 5 s, 3 times, so its lock goes
# within about 25 s (https://www.postgresql.org/docs/15/runtime-config-connection.html).
KEEPALIVE = {"tcp_keepalives_idle": "10", "tcp_keepalives_interval": "5",
             "tcp_keepalives_count": "3"}


class PgSharing(PgConnection):
    """This desk among the others on the store."""

    def __init__(self, url: str, **kwargs: object) -> None:
        super().__init__(url, **kwargs)  # type: ignore[arg-type]
        # Unique among desks past and present: the host, the process, and a random part.
        self.desk_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._sessions: dict[str, asyncpg.Connection] = {}  # a role's, held or waited for
        self._held: set[str] = set()
        self._role_locks: dict[str, asyncio.Lock] = {}
        self._listener: asyncpg.Connection | None = None
        self._schema = ""

    async def _session(self) -> asyncpg.Connection:
        return await asyncpg.connect(self._url, timeout=ROLE_TIMEOUT, server_settings=KEEPALIVE)

    async def lead(self, role: str) -> bool:
        async with self._role_locks.setdefault(role, asyncio.Lock()):
            try:
                return await self._lead(role)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                self._drop(role)  # its session is gone, and the lock with it
            return await self._lead(role)  # once more, on a new session

    async def _lead(self, role: str) -> bool:
        conn = self._sessions.get(role)
        if conn is None or conn.is_closed():
            self._drop(role)
            conn = self._sessions[role] = await self._session()
        if role in self._held:
            await conn.fetchval("SELECT 1", timeout=ROLE_TIMEOUT)  # held while it lives
            return True
        if await conn.fetchval(_LEAD, f"frontdesk:{role}", timeout=ROLE_TIMEOUT):
            self._held.add(role)
            log.info("this desk took the role %s", role)
            return True
        return False

    @property
    def handles_inbox(self) -> bool:
        """Whether this desk has the "inbox" role (bot/pump.py): then it needs no telling."""
        return "inbox" in self._held

    async def resign(self, role: str) -> None:
        async with self._role_locks.setdefault(role, asyncio.Lock()):
            if role in self._held:
                log.info("this desk gives up the role %s", role)
            self._drop(role, lost=False)  # the lock goes with its session, at once

    def _drop(self, role: str, *, lost: bool = True) -> None:
        if role in self._held and lost:
            log.warning("this desk lost the role %s with its session", role)
        self._held.discard(role)
        conn = self._sessions.pop(role, None)
        if conn is not None:
            conn.terminate()

    async def _listen(self) -> None:
        """Hear the other desks' announcements, on a session of its own. Asked at every
        heartbeat: a session that does not answer is replaced (a dead peer is not always
        told), and since announcements may have been missed meanwhile, every platform's
        inbox is looked at."""
        listener = self._listener
        if listener is not None and not listener.is_closed():
            try:
                await listener.fetchval("SELECT 1", timeout=ROLE_TIMEOUT)
                return
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError):
                log.warning("this desk's session for the other desks' news was lost")
                listener.terminate()
        self._listener = None
        listener = await self._session()
        self._schema = str(await listener.fetchval("SELECT current_schema()"))
        await listener.add_listener(CHANNEL, self._heard)
        self._listener = listener
        for event in self._arrived_events():
            event.set()

    def _heard(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        schema, _, platform = str(payload).partition(" ")
        if schema == self._schema:
            self.arrivals(platform).set()

    async def heartbeat(self) -> int:
        await self._write(
            f"INSERT INTO desks (id, seen_at) VALUES (?, {NOW}) "
            "ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
            (self.desk_id,),
        )
        await self._write(f"DELETE FROM desks WHERE seen_at < {NOW} - ?", (FORGOTTEN,))
        rows = await self._fetchall(f"SELECT COUNT(*) FROM desks WHERE seen_at >= {NOW} - ?",
                                    (ALIVE,))
        try:
            await self._listen()
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as exc:
            # Counted alive all the same; the inbox is looked at every few seconds anyway.
            log.warning("this desk cannot hear the others now (%s)", type(exc).__name__)
        return max(1, int(rows[0][0]))

    async def close(self) -> None:
        for role in list(self._sessions):
            self._drop(role, lost=False)  # the roles go with their sessions
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.terminate()
        if self._pool is not None:
            # Not counted after ALIVE seconds anyway, if this cannot be said now.
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await self._write("DELETE FROM desks WHERE id = ?", (self.desk_id,))
        await super().close()
