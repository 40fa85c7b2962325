"""State kept in memory per citizen or chat is forgotten once they go quiet."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from bot.app import build_dispatcher
from bot.pacing import Pacer
from bot.telegram.stateless import NoStates
from handlers.desk import FrontDesk
from handlers.expiring import ExpiringDict
from storage.values import Platform
from tests.conftest import FixedClock
from tests.harness import make_settings
from tests.test_desk import citizen


class Seconds:
    """A monotonic clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_expiring_dict_drops_keys_not_written_for_its_ttl() -> None:
    clock = Seconds()
    kept: ExpiringDict[int, str] = ExpiringDict(60, clock)
    for key in range(1000):
        kept[key] = "x"
    clock.now += 30
    kept[1] = "written again"
    kept.setdefault(2, "unused")  # counts as use
    assert kept.get(3) == "x"  # a read does not
    clock.now += 31
    kept[5000] = "new"
    assert dict(kept) == {1: "written again", 2: "x", 5000: "new"}


async def test_desk_forgets_flood_windows_and_notices_of_citizens_gone_quiet(
    desk: FrontDesk, clock: FixedClock
) -> None:
    desk.premises.config = replace(desk.config, flood_limit=2)
    citizens = range(100, 140)
    for user in citizens:
        for n in range(3):  # the third is one too many: slowed down, told once
            await desk.receive(citizen(f"сообщение {n}", message_id=n + 1, user=user))
    assert len(desk.intake.flood.recent) == len(citizens)
    assert len(desk.intake.flood.slowed) == len(citizens)
    clock.advance(seconds=61)
    await desk.receive(citizen("новый житель", user=999))
    assert list(desk.intake.flood.recent) == [(Platform.TELEGRAM, "999")]
    assert len(desk.intake.flood.slowed) == 0


async def test_pacer_forgets_chats_idle_past_their_window() -> None:
    clock = Seconds()
    pacer = Pacer(enabled=True, clock=clock)
    for chat in range(1, 2001):
        clock.now += 1.0  # a new chat a second: never waits
        async with pacer.slot(Platform.TELEGRAM, str(chat)):
            pass
    assert 25 <= pacer.chats_kept() <= 40  # the last half minute's chats, not 2,000
    for group in range(1, 21):
        clock.now += 3.0
        async with pacer.slot(Platform.TELEGRAM, str(-group)):
            pass
    assert pacer.chats_kept() == 20  # a group's window is a minute long
    clock.now += 300
    assert pacer.chats_kept() == 0


def test_the_desks_dispatcher_keeps_no_state_per_chat_and_user(
    desk: FrontDesk, tmp_path: Path
) -> None:
    # aiogram's default MemoryStorage adds an entry for every chat and user it ever sees.
    dispatcher = build_dispatcher(make_settings("http://127.0.0.1:9", tmp_path / "d.db"), desk)
    assert isinstance(dispatcher.fsm.storage, NoStates)
