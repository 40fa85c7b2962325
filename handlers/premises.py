"""What every room of the desk works over: one store, texts, calendar, settings and clock.

The rooms (intake, the staff desk, and those still to come) hold the same premises, not
copies, so a setting changed on them (`desk.premises.config = …`) is seen by every room.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from handlers.config import DeskConfig, WorkingClock
from handlers.texts import Texts
from storage.base import Store

if TYPE_CHECKING:
    from handlers.similarity import RecentReports


@dataclass(slots=True)
class Premises:
    """The desk's shared parts; one object for all rooms (see the module's docstring)."""

    store: Store
    texts: Texts
    calendar: WorkingClock
    config: DeskConfig
    now: Callable[[], datetime]
    recent: RecentReports | None = None  # the tickets incident detection remembers


class Room:
    """A part of the desk: the shared premises read as its own attributes."""

    def __init__(self, premises: Premises) -> None:
        self.premises = premises

    @property
    def store(self) -> Store:
        return self.premises.store

    @property
    def texts(self) -> Texts:
        return self.premises.texts

    @property
    def calendar(self) -> WorkingClock:
        return self.premises.calendar

    @property
    def config(self) -> DeskConfig:
        return self.premises.config

    @property
    def now(self) -> Callable[[], datetime]:
        return self.premises.now
