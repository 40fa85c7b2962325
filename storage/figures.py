"""What the store says of the desk's state at one moment: for /metrics, read at scrape time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class DeskFigures:
    """Counts and the oldest rows of the queues, as the store has them now."""

    open_tickets: int
    overdue_tickets: int  # open, waiting on staff, past their deadline
    outbox_pending: int  # messages not yet sent nor given up
    outbox_oldest: datetime | None  # when the oldest of them was written; None: none
    inbox_pending: int  # updates stored and not yet handled (set-aside ones apart)
    inbox_oldest: datetime | None  # when the oldest of them was received; None: none
