"""What the desk tells whoever counts its work (the metrics in bot/): platform-neutral.

The desk tells these once the transaction that records them has committed
(`Transaction.after_commit`): a handling rolled back and tried again counts once, and one
rolled back for good not at all. The default counts nothing, so the desk, its tests and the
scheduler need no counter at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from storage.base import Ticket, Transaction


class DeskEvents(Protocol):
    """The desk's events worth counting."""

    def opened(self, platform: str, channel: str, department: str | None) -> None:
        """A ticket was opened (department: its key; None: the staff chat's own)."""

    def first_answer(self, platform: str, working: timedelta) -> None:
        """A ticket got its first answer, `working` of working time after it was opened."""

    def escalated(self, level: int) -> None:
        """A ticket (or an incident) escalated to `level`: a message went to people."""


class NoEvents:
    """Counts nothing."""

    def opened(self, platform: str, channel: str, department: str | None) -> None:
        return None

    def first_answer(self, platform: str, working: timedelta) -> None:
        return None

    def escalated(self, level: int) -> None:
        return None


class Measures(Protocol):
    """The part of the working-time calendar (handlers.config.WorkingClock) counting needs."""

    def working_time_between(self, start: datetime, end: datetime) -> timedelta: ...


def answered(
    tx: Transaction, events: DeskEvents, calendar: Measures, ticket: Ticket, now: datetime
) -> None:
    """Staff answered `ticket` (as it was before the answer) in `tx`: its first answer is
    counted once `tx` commits, in working time from its opening, as the digest and the
    escalations measure."""
    if ticket.first_answer_at is None:
        working = calendar.working_time_between(ticket.opened_at, now)
        tx.after_commit(partial(events.first_answer, ticket.platform.value, working))
