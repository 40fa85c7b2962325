"""How fast each citizen writes: who floods, who was told to slow down, whose command was answered.

Kept in memory only, per citizen, and only for a minute after their last message.
"""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta

from handlers.expiring import ExpiringDict
from handlers.model import Event, Inbound
from handlers.premises import Premises
from storage.values import Platform

# How long a flooding citizen is slowed down; a quiet ticket's acknowledgement waits as long.
SLOW_DOWN = timedelta(minutes=1)
# The window messages are counted in, and how long a command's answer stands for the next.
WINDOW = timedelta(minutes=1)

Citizen = tuple[Platform, str]
Seen = tuple[Event, str, str]


class FloodGuard:
    """The per-citizen rate state of the intake, timed by the desk's clock."""

    def __init__(self, premises: Premises) -> None:
        # The clock and FLOOD_LIMIT are read through the premises: set on the desk, they hold here.
        self.premises = premises
        # Both matter for a minute after a citizen's last message, then are forgotten.
        idle = WINDOW.total_seconds()
        self.recent: ExpiringDict[Citizen, deque[tuple[datetime, Seen]]] = ExpiringDict(
            idle, clock=lambda: self.premises.now().timestamp())
        self.slowed: ExpiringDict[Citizen, datetime] = ExpiringDict(
            idle, clock=lambda: self.premises.now().timestamp())
        # Whom a command was answered within the last minute: /help sent fifty times gets one
        # greeting, so commands cannot take the share of the sends that FLOOD_LIMIT protects.
        self.answered: ExpiringDict[Citizen, datetime] = ExpiringDict(
            idle, clock=lambda: self.premises.now().timestamp())

    def flooding(self, inbound: Inbound, now: datetime) -> bool:
        """More than FLOOD_LIMIT messages from one citizen within the last minute."""
        key = (inbound.platform, inbound.author_id)
        recent = self.recent.setdefault(key, deque())
        while recent and now - recent[0][0] >= WINDOW:
            recent.popleft()
        # A message is counted once however often its handling is tried (a failed try
        # rolls back and is tried again); an edit with new text is another message.
        seen = (inbound.event, inbound.source_key, inbound.text)
        if all(other != seen for _, other in recent):
            recent.append((now, seen))
        return len(recent) > self.premises.config.flood_limit

    def tell_slowed(self, inbound: Inbound, now: datetime) -> bool:
        """Whether a slowed citizen is to be told now: once a SLOW_DOWN; True counts as told."""
        key = (inbound.platform, inbound.author_id)
        told = self.slowed.get(key)
        if told is not None and now - told < SLOW_DOWN:
            return False
        self.slowed[key] = now
        return True

    def answered_lately(self, inbound: Inbound, kind: str = "") -> bool:
        """A command of this kind of this citizen's was answered within the last minute.

        /start, /help and /id are one kind (they answer alike); /status is one of its own, so
        the greeting that names it does not silence it for a minute.
        """
        answered = self.answered.get((inbound.platform, f"{inbound.author_id}:{kind}"))
        return answered is not None and self.premises.now() - answered < WINDOW

    def command_answered(self, inbound: Inbound, kind: str = "") -> None:
        self.answered[(inbound.platform, f"{inbound.author_id}:{kind}")] = self.premises.now()
