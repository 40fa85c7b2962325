"""The store implementations the contract suite runs against: one factory each, in BACKENDS.

A factory gets the test's own temporary folder and yields a `Backend`: a way to make store
objects on one fresh, empty storage of its own (a file, a database), gone after the test.
Adding an implementation is one more factory in BACKENDS.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from storage import Store, store_from_url
from tests.pg import fresh_schema


@dataclass(frozen=True, slots=True)
class Backend:
    # A new, unopened store on this test's storage; every call on the same storage.
    make: Callable[[], Store]
    # What `Store.location` names: a part of it the log and the staff notice must show.
    where: str
    # What `Store.location` must never show (a password in the URL).
    secrets: tuple[str, ...] = ()


@asynccontextmanager
async def sqlite(tmp_path: Path) -> AsyncIterator[Backend]:
    """A file in the test's folder, opened the way the application opens DATABASE_URL."""
    path = tmp_path / "contract.sqlite3"
    yield Backend(make=lambda: store_from_url(f"sqlite:///{path}"), where=str(path.resolve()))


@asynccontextmanager
async def postgresql(tmp_path: Path) -> AsyncIterator[Backend]:
    """A schema of its own on the test server (tests/pg.py), through a URL with a password:
    the server trusts local connections and ignores it, and the location must not show it."""
    async with fresh_schema() as url:
        with_password = url.replace("://postgres@", "://postgres:s3cret-pw@", 1)
        yield Backend(make=lambda: store_from_url(with_password), where="127.0.0.1",
                      secrets=("s3cret-pw",))


BackendFactory = Callable[[Path], AbstractAsyncContextManager[Backend]]

BACKENDS: list[BackendFactory] = [sqlite, postgresql]
