"""Routine library chatter stays out of an INFO log."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest

from scheduler.jobs import DeskScheduler
from tests.fakes.telegram import FakeTelegram
from tests.harness import Desk


async def test_apscheduler_says_nothing_per_sweep_at_info(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    caplog.set_level(logging.INFO)
    sweeps = asyncio.Queue[None]()
    real_sweep = DeskScheduler.sweep

    async def counted(self: DeskScheduler, *args: Any) -> Any:
        result = await real_sweep(self, *args)
        sweeps.put_nowait(None)
        return result

    monkeypatch.setattr(DeskScheduler, "sweep", counted)
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3", escalation_check_interval=1):
        for _ in range(2):
            await asyncio.wait_for(sweeps.get(), timeout=30)
    assert [r.getMessage() for r in caplog.records if r.name.startswith("apscheduler")] == []
