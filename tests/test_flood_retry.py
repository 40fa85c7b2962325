"""Tries of one failing update count once toward FLOOD_LIMIT.

The real store, taught to meet "database is locked" when a ticket is created, as a second
writer on the file would make it; the desk is the real FrontDesk.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from handlers.desk import FrontDesk
from handlers.texts import Texts
from storage import SqliteStore
from storage.sqlite import SqliteTransaction
from storage.values import Purpose
from tests.conftest import FixedClock
from tests.test_desk import citizen, outbox


class LockedAtTicket(SqliteStore):
    """The real store; the first `times` new tickets meet "database is locked"."""

    def __init__(self, path: Path, times: int) -> None:
        super().__init__(path)
        self.times = times

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        async with super().transaction() as tx:
            create = tx.create_ticket

            async def create_ticket(*args: Any, **kwargs: Any) -> Any:
                if self.times > 0:
                    self.times -= 1
                    raise sqlite3.OperationalError("database is locked")
                return await create(*args, **kwargs)

            tx.create_ticket = create_ticket  # type: ignore[method-assign]
            yield tx


async def test_tries_of_one_message_do_not_make_a_citizen_a_flooder(
    tmp_path: Path, texts: Texts, clock: FixedClock, desk: FrontDesk
) -> None:
    store = LockedAtTicket(tmp_path / "locked.sqlite3", times=3)
    await store.open()
    try:
        flaky = FrontDesk(store, texts, desk.calendar, replace(desk.config, flood_limit=3),
                          now=clock)
        for _ in range(3):  # the store is locked for the first three tries
            with pytest.raises(sqlite3.OperationalError):
                await flaky.receive(citizen("первое", 1), inbox_id=1)
            clock.advance(seconds=2)
        await flaky.receive(citizen("первое", 1), inbox_id=1)
        await flaky.receive(citizen("второе", 2), inbox_id=2)  # two messages in all
        purposes = [item.outbound.purpose for item in await outbox(store)]
        assert Purpose.FOLLOW_UP in purposes, purposes  # the second message's card
        assert Purpose.NOTICE not in purposes, purposes  # nobody is told to slow down
    finally:
        await store.close()
