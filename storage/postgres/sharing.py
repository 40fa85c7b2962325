"""Several desks on one PostgreSQL store: who they are, which is alive, who leads what.

A role (polling a platform, the scheduler) is a session-level advisory lock held on a
connection of its own: the server lets it go the moment that connection ends, however the
desk ends, so a standby takes the role over at its next look.
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
        self._leads: dict[str, asyncpg.Connection] = {}
        self._lead_lock = asyncio.Lock()

    async def lead(self, role: str) -> bool:
        async with self._lead_lock:
            held = self._leads.get(role)
            if held is not None:
                try:
                    await held.fetchval("SELECT 1")  # the lock lives as long as its session
                    return True
                except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    log.warning("this desk lost the role %s with its connection", role)
                    del self._leads[role]
                    held.terminate()
            conn = await asyncpg.connect(self._url, timeout=10, server_settings=KEEPALIVE)
            try:
                if await conn.fetchval(_LEAD, f"frontdesk:{role}"):
                    self._leads[role] = conn
                    log.info("this desk took the role %s", role)
                    return True
            except BaseException:
                conn.terminate()
                raise
            await conn.close()
            return False

    async def heartbeat(self) -> int:
        await self._write(
            f"INSERT INTO desks (id, seen_at) VALUES (?, {NOW}) "
            "ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
            (self.desk_id,),
        )
        await self._write(f"DELETE FROM desks WHERE seen_at < {NOW} - ?", (FORGOTTEN,))
        rows = await self._fetchall(f"SELECT COUNT(*) FROM desks WHERE seen_at >= {NOW} - ?",
                                    (ALIVE,))
        return max(1, int(rows[0][0]))

    async def close(self) -> None:
        leads, self._leads = self._leads, {}
        for conn in leads.values():
            conn.terminate()  # the roles go with the sessions
        if self._pool is not None:
            # Not counted after ALIVE seconds anyway, if this cannot be said now.
            with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await self._write("DELETE FROM desks WHERE id = ?", (self.desk_id,))
        await super().close()
