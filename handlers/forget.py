"""A citizen's own request to remove their personal data: `/forget`, «удалить мои данные».

152-FZ art. 21 part 5: consent withdrawn, the operator destroys the data within 30 days. The
desk answers the request with what will be removed and a button; a press of it (data
`forget:<when the offer was made>`, valid a day) anonymizes the citizen's closed tickets at
once, and their open ones as each closes (storage: `forget_on_close`); the citizen is told,
and staff are told which numbers, without the citizen's name. A second press, an old button,
or a citizen without tickets each get a polite answer and change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from handlers.flood import FloodGuard
from handlers.model import Event, Inbound
from handlers.outgoing import tell_staff
from handlers.premises import Premises, Room
from handlers.rating import Told
from storage.base import Transaction
from storage.values import Channel, Outbound, Purpose

PREFIX = "forget:"
VALID = timedelta(days=1)  # how long the offer's button stands
KIND = "forget"  # its own kind of command for the once-a-minute rule
PRESSED = "forget-pressed"  # a VK text button pressed again: its refusals once a minute too
_ASKS = re.compile(r"/forget(?:@\w+)?|удалить мои данные", re.IGNORECASE)
_DATA = re.compile(r"forget:([0-9]{1,11})")  # UNIX seconds; 12 digits are past year 9999


def asks_forget(text: str) -> bool:
    """The whole message is the request, in any case, with any spaces."""
    return _ASKS.fullmatch(" ".join(text.split())) is not None


def is_forget(data: str | None) -> bool:
    """Whether a press's data is meant for this room (well formed or not)."""
    return bool(data) and str(data).startswith(PREFIX)


def data_of(offered: datetime) -> str:
    return f"{PREFIX}{int(offered.timestamp())}"


def offered_at(data: str | None) -> datetime | None:
    match = _DATA.fullmatch(data or "")
    return datetime.fromtimestamp(int(match.group(1)), UTC) if match else None


def numbers(ids: Sequence[int]) -> str:
    return ", ".join(f"№{n}" for n in ids)


def own_chat(inbound: Inbound) -> bool:
    """The citizen's private chat with the desk, where the chat is the person (Telegram's
    private chat id, VK's peer_id of a direct conversation): what is said there is theirs
    alone, and only they can press there. Not a post's comments, not a group chat."""
    return inbound.channel is Channel.DIRECT and inbound.chat_id == inbound.author_id


class Forgetting(Room):
    """The request, its confirmation, and what staff are told."""

    def __init__(self, premises: Premises, flood: FloodGuard) -> None:
        super().__init__(premises)
        self.flood = flood

    async def offer(self, inbound: Inbound, inbox_id: int | None = None) -> None:
        """The request: what will be removed, and the button; at most once a minute, and only
        in a private chat (under a post it would be public: there the adapters pass it on as
        a comment). A blocked citizen is answered too: a withdrawal of consent is never
        ignored (152-FZ art. 21 part 5), and the block stands."""
        answered = False
        async with self.store.transaction() as tx:
            if inbox_id is not None:
                await tx.finish_inbox(inbox_id)
            if not own_chat(inbound) or self.flood.answered_lately(inbound, KIND):
                return
            closed, still_open = await tx.personal_tickets(inbound.platform, inbound.author_id)
            mine = sorted(closed + still_open)
            if mine:
                text = self.texts.get("forget-offer", numbers=numbers(mine))
                if await self._blocked(tx, inbound):  # the one id that stays: say so
                    text += "\n" + self.texts.get("forget-blocked")
                button = ((self.texts.get("forget-button"), data_of(self.now())),)
                await tx.enqueue(self._reply(inbound, text, buttons=(button,)))
            else:
                days = self.config.payload_days
                await tx.enqueue(self._reply(inbound, self.texts.get("forget-nothing",
                                                                     days=days)))
            answered = True
        if answered:
            self.flood.command_answered(inbound, KIND)

    @staticmethod
    async def _blocked(tx: Transaction, inbound: Inbound) -> bool:
        state = await tx.intake_state(
            inbound.source_key, inbound.platform, inbound.conversation, inbound.author_id
        )
        return state.blocked

    async def confirm(self, inbound: Inbound, inbox_id: int | None = None) -> Told:
        """A press of the button, its data in `inbound.text`: the citizen's data removed (or
        why not), told in their chat and, for a press that can be answered, in the return."""
        now = self.now()
        done = False
        async with self.store.transaction() as tx:
            if inbox_id is not None:
                await tx.finish_inbox(inbox_id)
            told = await self._confirm(tx, inbound, now)
            # What was done is told in the chat; a press the platform lets the desk answer
            # (`inbound.key`: not a VK text button) learns of a refusal in that answer alone.
            # A text button's refusal is a message: once a minute, however often pressed.
            done = told.changed and not told.refused
            if done or not (inbound.key or self.flood.answered_lately(inbound, PRESSED)):
                await tx.enqueue(self._reply(inbound, told.text))
        if not done and not inbound.key:
            self.flood.command_answered(inbound, PRESSED)
        return told

    async def _confirm(self, tx: Transaction, inbound: Inbound, now: datetime) -> Told:
        offered = offered_at(inbound.text) if inbound.event is Event.NEW else None
        if offered is None or not now - VALID <= offered <= now + timedelta(minutes=5) \
                or not own_chat(inbound):
            return Told(self.texts.get("forget-expired"), refused=True)
        asked = await tx.forget_asked(inbound.platform, inbound.author_id)
        if asked is not None and asked >= offered:  # pressed again
            return Told(self.texts.get("forget-already"), changed=False)
        done, still_open = await tx.forget_citizen(inbound.platform, inbound.author_id, now)
        if not done and not still_open:
            text = self.texts.get("forget-nothing", days=self.config.payload_days)
            return Told(text, changed=False)
        lines = [self.texts.get("forget-done", numbers=numbers(done))] if done \
            else [self.texts.get("forget-done-none", numbers=numbers(still_open))]
        if done and still_open:
            lines.append(self.texts.get("forget-done-open", numbers=numbers(still_open)))
        await tx.enqueue(self._staff(done, still_open))
        return Told("\n".join(lines))

    def _staff(self, done: Sequence[int], still_open: Sequence[int]) -> Outbound:
        """Which numbers, and nothing of the citizen: not their name, nor their id."""
        lines = [self.texts.get("forget-staff")]
        if done:
            lines.append(self.texts.get("forget-staff-done", numbers=numbers(done)))
        if still_open:
            lines.append(self.texts.get("forget-staff-open", numbers=numbers(still_open)))
        return tell_staff(self.config.staff_chat_id, "\n".join(lines))

    @staticmethod
    def _reply(
        inbound: Inbound, text: str, buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
    ) -> Outbound:
        return Outbound(inbound.platform, inbound.chat_id, Purpose.NOTICE, text,
                        buttons=buttons)
