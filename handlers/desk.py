"""The front desk: citizens' messages become tickets, staff replies become answers.

`FrontDesk` is what the adapters talk to; the work is done in its rooms, all over the same
premises: the intake (`handlers.intake`) for citizens, the staff desk (`handlers.staff`) for
the staff chat. A new capability is a room beside them, not more of this class.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from handlers.config import DeskConfig, WorkingClock, utc_now
from handlers.forget import Forgetting
from handlers.intake import Intake
from handlers.model import Inbound
from handlers.premises import Premises, Room
from handlers.rating import Ratings, Told
from handlers.staff import StaffDesk
from handlers.texts import Texts
from storage.base import Store


class FrontDesk(Room):
    """Turns inbound messages into ticket changes and outgoing messages, in one transaction."""

    def __init__(
        self,
        store: Store,
        texts: Texts,
        calendar: WorkingClock,
        config: DeskConfig,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        super().__init__(Premises(store, texts, calendar, config, now))
        self.intake = Intake(self.premises)
        self.staff = StaffDesk(self.premises)
        self.ratings = Ratings(self.premises)
        # /forget, «удалить мои данные»: under the intake's once-a-minute rule for commands
        self.forgetting = Forgetting(self.premises, self.intake.flood)

    async def greet(self, inbound: Inbound, inbox_id: int | None = None) -> None:
        """A citizen opened the chat (/start); see `Intake.greet`."""
        await self.intake.greet(inbound, inbox_id)

    async def tell_ids(
        self, inbound: Inbound, inbox_id: int | None = None, *, anonymous: bool = False
    ) -> None:
        """/id: the chat's id and the sender's; see `Intake.tell_ids`."""
        await self.intake.tell_ids(inbound, inbox_id, anonymous=anonymous)

    async def tell_status(self, inbound: Inbound, inbox_id: int | None = None) -> None:
        """/status, «статус»: the citizen's own open tickets; see `Intake.tell_status`."""
        await self.intake.tell_status(inbound, inbox_id)

    async def receive(self, inbound: Inbound, inbox_id: int | None = None) -> None:
        """A citizen's message, edit or deletion; one from the staff chat goes to staff."""
        if inbound.is_staff_chat:
            await self.staff.staff_message(inbound, inbox_id)
            return
        await self.intake.receive(inbound, inbox_id)

    async def rate(self, inbound: Inbound, inbox_id: int | None = None) -> Told:
        """A citizen pressed a rating button; see `Ratings.rate`."""
        return await self.ratings.rate(inbound, inbox_id)

    def may_answer(self, inbound: Inbound) -> bool:
        """Whether STAFF_USER_IDS lets the author answer and give commands."""
        return self.staff.may_answer(inbound)

    async def staff_message(self, inbound: Inbound, inbox_id: int | None = None) -> None:
        """A message in the staff chat: an answer, a command, or staff talk."""
        await self.staff.staff_message(inbound, inbox_id)
