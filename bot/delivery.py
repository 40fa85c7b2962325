"""What a platform's deliverer tells the sender about one outgoing message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from storage.values import Outbound


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """Sent, worth retrying, or failed for good; with the ids of the parts that went.

    A message sent in parts may fail after some of them: their ids come back with the
    failure, so a retry resumes after them and staff replies to them count.
    """

    message_ids: tuple[str, ...] = ()
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None  # the platform said when to try again
    chat_refused: bool = False  # the chat refuses the bot (removed, muted, gone, moved)
    unrelayed: str | None = None  # part of the message the platform could not take

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def sent(cls, *message_ids: str | int, unrelayed: str | None = None) -> DeliveryResult:
        return cls(message_ids=tuple(str(m) for m in message_ids), unrelayed=unrelayed)

    @classmethod
    def retry(cls, error: str, after: float | None = None) -> DeliveryResult:
        return cls(error=error, retry_after=after)

    @classmethod
    def failed(cls, error: str, *, chat_refused: bool = False) -> DeliveryResult:
        return cls(error=error, permanent=True, chat_refused=chat_refused)


class Deliverer(Protocol):
    """Sends one outbound message on one platform; never raises for platform errors."""

    async def deliver(
        self, outbound: Outbound, outbox_id: int, done: int = 0
    ) -> DeliveryResult:
        """Send it, skipping the first `done` parts (delivered by an earlier attempt)."""
        ...
