"""PostgreSQL for the tests: the local server, a fresh schema for each test, dropped after.

The server is the one at TEST_POSTGRES_URL (default: 127.0.0.1:5432, database `test`, as on
the development machines and CI). Where it cannot be reached the PostgreSQL tests skip and
say why, unless FRONTDESK_REQUIRE_POSTGRES=1 (set by `.ci/run`): then they fail, so CI never
passes without having run them.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cache
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import asyncpg

PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@cache
def unreachable() -> str | None:
    """Why the test server cannot be used, or None."""
    import asyncpg  # noqa: PLC0415

    async def probe() -> None:
        conn = await asyncpg.connect(PG_URL, timeout=3)
        await conn.close()

    try:  # in a thread of its own: the caller may be inside an event loop already
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, probe()).result()
    except Exception as exc:  # any reason: refused, unknown host, auth, missing database
        return f"{type(exc).__name__}: {exc}".splitlines()[0]
    return None


def need_postgres() -> None:
    """Skip (or, with FRONTDESK_REQUIRE_POSTGRES=1, fail) a test without the server."""
    reason = unreachable()
    if reason is None:
        return
    message = f"PostgreSQL is not reachable at {PG_URL} ({reason}); set TEST_POSTGRES_URL"
    if os.environ.get("FRONTDESK_REQUIRE_POSTGRES") == "1":
        pytest.fail(message + " — required here (FRONTDESK_REQUIRE_POSTGRES=1)")
    pytest.skip(message)


@asynccontextmanager
async def fresh_schema() -> AsyncIterator[str]:
    """The URL of a new, empty schema on the test server, dropped with everything after."""
    import asyncpg  # noqa: PLC0415

    need_postgres()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(PG_URL)  # not named after the schema: never cut
    try:
        await conn.execute(f"CREATE SCHEMA {schema}")
        try:
            sep = "&" if "?" in PG_URL else "?"
            # Its sessions are named after it, so a test can find (and cut) its own.
            yield f"{PG_URL}{sep}search_path={schema}&application_name={schema}"
        finally:
            # Sessions of the test still open (a killed desk's) must not hold the drop up.
            await conn.execute(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE application_name = $1",
                schema,
            )
            await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await conn.close()


async def pg_rows(url: str, sql: str) -> list[asyncpg.Record]:
    """The rows of one statement on the store at `url`, read as they are (a test's look)."""
    import asyncpg  # noqa: PLC0415

    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql))
    finally:
        await conn.close()
