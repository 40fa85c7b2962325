"""Shared fixtures: a fresh store on disk, texts, a desk with a fixed clock."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings as hypothesis_settings

from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.desk import FrontDesk
from handlers.texts import Texts
from storage import SqliteStore
from tests import harness
from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT as TG_STAFF_CHAT
from tests.pg import fresh_schema

# CI (.ci/run exports HYPOTHESIS_PROFILE=ci) runs the property tests on a fixed set of
# examples, so a landing never depends on luck; locally every run explores new ones. A profile
# name that is not registered stops the run.
hypothesis_settings.register_profile("ci", derandomize=True, database=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or "default")

STAFF_CHAT = "-100500"
MOSCOW = ZoneInfo("Europe/Moscow")


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, start: datetime) -> None:
        self.moment = start

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    db = SqliteStore(tmp_path / "desk.sqlite3")
    await db.open()
    yield db
    await db.close()


@pytest.fixture(params=["sqlite", "postgresql"])
async def either_store(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[str]:
    """The test's Desk runs once on its SQLite file and once on PostgreSQL (a schema of its
    own); a module asks for it with `pytestmark = pytest.mark.usefixtures("either_store")`."""
    if request.param == "sqlite":
        yield "sqlite"
        return
    async with fresh_schema() as url:
        monkeypatch.setattr(harness, "STORE_URL", url)
        yield "postgresql"


@pytest.fixture
def texts() -> Texts:
    return Texts("ru")


@pytest.fixture
def clock() -> FixedClock:
    # Tuesday 24 November 2026, 10:00 in Moscow.
    return FixedClock(datetime(2026, 11, 24, 7, 0, tzinfo=UTC))


@pytest.fixture
def desk(store: SqliteStore, texts: Texts, clock: FixedClock) -> FrontDesk:
    calendar = WorkCalendar(BusinessHours.parse("Mon-Fri 09:00-18:00"), MOSCOW)
    config = DeskConfig(
        staff_chat_id=STAFF_CHAT, timezone=MOSCOW, escalation_after=timedelta(hours=8),
        hours_text="Mon-Fri 09:00-18:00",
    )
    return FrontDesk(store, texts, calendar, config, now=clock)


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    """The local fake Bot API with the staff chat the test desks use; a test file may define
    its own `tg` with more chats."""
    async with FakeTelegram() as fake:
        fake.add_group(TG_STAFF_CHAT, "Операторы")
        yield fake
