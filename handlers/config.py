"""What every part of the desk shares: its settings, its clock, its working-time calendar."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from handlers.routing import Rules


class WorkingClock(Protocol):
    """The working-time calendar deadlines, escalations and the digest are measured on."""

    def add_working_time(self, start: datetime, delta: timedelta) -> datetime: ...
    def working_time_between(self, start: datetime, end: datetime) -> timedelta: ...
    def is_working_day(self, day: date) -> bool: ...
    def working_days_later(self, start: datetime, days: int) -> datetime: ...


@dataclass(frozen=True, slots=True)
class DeskConfig:
    """What the front desk needs to know of its settings, platform-neutral."""

    staff_chat_id: str
    timezone: ZoneInfo
    escalation_after: timedelta
    hours_text: str = ""
    staff_user_ids: frozenset[str] = field(default_factory=frozenset)
    escalation_repeat: timedelta = timedelta(hours=8)  # between reminders after level 2
    escalation_chat_id: str = ""  # supervisors; empty: level 2 goes to the staff chat
    duty_mentions: str = ""  # "@ivanov @petrova", added to level-1 escalations
    flood_limit: int = 20  # messages a minute from one citizen before they are slowed
    organization: str = ""  # who runs the desk, named in the greeting and the data notice
    site_url: str = ""  # the administration's official site
    feedback_url: str = ""  # its page on Gosuslugi's feedback platform
    privacy_policy_url: str = ""
    departments: Rules | None = None  # the operator's rules file; None: one staff chat


def utc_now() -> datetime:
    return datetime.now(UTC)
