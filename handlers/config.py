"""What every part of the desk shares: its settings, its clock, its working-time calendar."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Protocol
from zoneinfo import ZoneInfo

from handlers.events import DeskEvents, NoEvents

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
    incident_reports: int = 0  # alike tickets that make an incident suggestion; 0: none
    incident_window: timedelta = timedelta(hours=3)  # how far back tickets are compared
    # Edits of an incident's card for its count and progress go at most this often (paced:
    # a group takes 20 messages a minute, edits included); zero: at once.
    card_edit_every: timedelta = timedelta(0)
    retention_days: int = 1095  # closed tickets keep personal data this long (RETENTION_DAYS)
    payload_days: int = 7  # raw updates and sent messages' payloads (PAYLOAD_DAYS)
    events: DeskEvents = field(default_factory=NoEvents)  # counted for /metrics

    def place(self, category: str | None) -> tuple[str, int | None]:
        """Where a department's cards go: its own chat, or a forum topic of the staff chat
        (chat id, topic); the staff chat itself for none."""
        department = (
            self.departments.department(category)
            if self.departments is not None and category else None
        )
        if department is None:
            return self.staff_chat_id, None
        return department.chat_id or self.staff_chat_id, department.topic

    def department_name(self, category: str | None) -> str | None:
        """A department's name; None for none, or for one no longer in the rules file."""
        rules = self.departments
        department = rules.department(category) if rules is not None and category else None
        return department.name if department else None

    def department_of_chat(self, chat_id: str) -> str | None:
        """The name of the department whose own chat this is; None for any other chat."""
        rules = self.departments
        if rules is None or not chat_id or chat_id == self.staff_chat_id:
            return None
        return next((d.name for d in rules.departments if d.chat_id == chat_id), None)

    def staff_chats(self) -> frozenset[str]:
        """The staff chat and every department's own chat: where staff answer and act."""
        chats = {self.staff_chat_id}
        if self.departments is not None:
            chats |= {d.chat_id for d in self.departments.departments if d.chat_id}
        return frozenset(chats)


def utc_now() -> datetime:
    return datetime.now(UTC)
