"""What a platform's deliverer tells the sender about one outgoing message."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from handlers.model import Outbound


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """Sent (with the platform's message ids), worth retrying, or failed for good."""

    message_ids: tuple[str, ...] = ()
    error: str | None = None
    permanent: bool = False
    retry_after: float | None = None  # the platform said when to try again
    chat_refused: bool = False  # the chat itself refuses the bot (removed, gone, moved)
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

    async def deliver(self, outbound: Outbound, outbox_id: int) -> DeliveryResult: ...
