"""aiogram routers: each scoped once to the chats it serves, each handler thin."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Collection

from aiogram import Router
from aiogram.filters import Command, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.telegram.convert import is_content_less_service, to_inbound
from bot.telegram.ids import answer_ids, answer_ids_or_comment, bare_id
from bot.telegram.presses import answer, citizen_press, press_to_inbound, rating_to_inbound
from handlers.desk import FrontDesk
from handlers.forget import asks_forget, is_forget
from handlers.model import Event
from handlers.status import asks_status
from storage.values import Channel

log = logging.getLogger(__name__)

MessageFilter = Callable[[Message], Awaitable[bool]]

# Filters are coroutines on purpose: aiogram runs a plain callable, a magic filter `F.…`
# included, through asyncio.to_thread, a thread round trip for every update.


async def in_private(message: Message) -> bool:
    return message.chat.type == "private"


async def in_groups(message: Message) -> bool:
    return message.chat.type in {"group", "supergroup"}


def from_people_in(chat_id: int) -> MessageFilter:
    async def check(message: Message) -> bool:
        """A person in the chat, or an anonymous administrator of it (posting as the chat).

        Anonymous administrators write as @GroupAnonymousBot with `sender_chat` set to the
        group itself (https://core.telegram.org/bots/api#message); other bots are not staff.
        """
        if message.chat.id != chat_id:
            return False
        if message.sender_chat is not None:
            return message.sender_chat.id == chat_id
        user = message.from_user
        return not (user and user.is_bot)
    return check


def comments_in(chat_id: int) -> MessageFilter:
    own_channels: set[int] = set()  # the channel whose posts the group discusses

    async def check(message: Message) -> bool:
        """A comment in a post's thread, by a person or posted as a chat.

        Not the channel's own forward of its post, and not the channel itself commenting:
        that is the administration, whose answers go through the staff chat.
        """
        if message.chat.id != chat_id:
            return False
        sender_chat = message.sender_chat
        if message.is_automatic_forward:
            if sender_chat is not None:
                own_channels.add(sender_chat.id)
            return False
        if not message.message_thread_id:
            return False
        if sender_chat is not None:
            root = message.reply_to_message
            if root is not None and root.is_automatic_forward and root.sender_chat:
                own_channels.add(root.sender_chat.id)
            # The group itself is its anonymous administrators: the administration too.
            return sender_chat.id not in own_channels and sender_chat.id != chat_id
        return message.from_user is not None and not message.from_user.is_bot
    return check


async def content_less_service(message: Message) -> bool:
    return is_content_less_service(message)


async def bare_status(message: Message) -> bool:
    """`/status` and nothing else: with more text after it, it is a message like any other."""
    return asks_status(message.text or "")


async def bare_forget(message: Message) -> bool:
    """/forget or «удалить мои данные» as the whole of a text (a caption is a message)."""
    return asks_forget(message.text or "")


def citizens_router() -> Router:
    """Private chats with citizens."""
    router = Router(name="citizens")
    router.message.filter(in_private)
    router.edited_message.filter(in_private)

    @router.message(content_less_service)
    async def service(message: Message) -> None:
        """A pin, an auto-delete timer, a background…: nothing for staff, no ticket."""

    @router.message(CommandStart())
    async def start(message: Message, desk: FrontDesk, inbox_id: int | None = None) -> None:
        """/start: the greeting."""
        await desk.greet(to_inbound(message), inbox_id)

    @router.message(Command("help"))
    async def citizen_help(
        message: Message, desk: FrontDesk, inbox_id: int | None = None
    ) -> None:
        """/help: the greeting again, which says how the desk works; not a ticket."""
        await desk.greet(to_inbound(message), inbox_id)

    router.message.register(answer_ids, Command("id"), bare_id)

    @router.message(Command("status", ignore_case=True), bare_status)
    async def citizen_status(
        message: Message, desk: FrontDesk, inbox_id: int | None = None
    ) -> None:
        """/status: the citizen's own open tickets, their state and deadline; not a ticket."""
        await desk.tell_status(to_inbound(message), inbox_id)

    @router.message(bare_forget)
    async def citizen_forget(
        message: Message, desk: FrontDesk, inbox_id: int | None = None
    ) -> None:
        """/forget, «удалить мои данные»: what would be removed, and a button to confirm."""
        await desk.forgetting.offer(to_inbound(message), inbox_id)

    @router.message()
    async def private_message(
        message: Message, desk: FrontDesk, inbox_id: int | None = None
    ) -> None:
        """Any message from a citizen: a new ticket or a follow-up."""
        await desk.receive(to_inbound(message), inbox_id)

    @router.edited_message()
    async def private_edit(
        message: Message, desk: FrontDesk, inbox_id: int | None = None
    ) -> None:
        """A citizen edited a message: staff see the new text."""
        await desk.receive(to_inbound(message, event=Event.EDITED), inbox_id)

    return router


def discussion_router(discussion_chat_id: int) -> Router:
    """Comments under the channel's posts, in its discussion group."""
    router = Router(name="discussion")
    in_thread = comments_in(discussion_chat_id)
    router.message.filter(in_thread)
    router.edited_message.filter(in_thread)

    @router.message(content_less_service)
    async def service(message: Message) -> None:
        """A service message in a post's thread: no ticket."""

    router.message.register(answer_ids_or_comment, Command("id"), bare_id)

    @router.message()
    async def comment(message: Message, desk: FrontDesk, inbox_id: int | None = None) -> None:
        """A citizen's comment under a post."""
        await desk.receive(to_inbound(message, channel=Channel.COMMENT), inbox_id)

    @router.edited_message()
    async def comment_edit(
        message: Message, desk: FrontDesk, inbox_id: int | None = None
    ) -> None:
        """A citizen edited a comment."""
        await desk.receive(
            to_inbound(message, channel=Channel.COMMENT, event=Event.EDITED), inbox_id
        )

    return router


def staff_router(staff_chat_id: int, name: str = "staff") -> Router:
    """The staff chat (or the supervisors' chat): answers, commands and staff talk."""
    router = Router(name=name)
    in_chat = from_people_in(staff_chat_id)
    router.message.filter(in_chat)
    router.edited_message.filter(in_chat)
    router.message.register(answer_ids, Command("id"))

    @router.message()
    async def staff_message(
        message: Message, desk: FrontDesk, inbox_id: int | None = None
    ) -> None:
        """A reply to a card is an answer; /close, /block, /queue are commands."""
        await desk.staff_message(to_inbound(message, is_staff_chat=True), inbox_id)

    @router.edited_message()
    async def staff_edit(
        message: Message, desk: FrontDesk, inbox_id: int | None = None
    ) -> None:
        """Staff corrected a message: an answer already sent goes again, as a correction."""
        await desk.staff_message(
            to_inbound(message, event=Event.EDITED, is_staff_chat=True), inbox_id
        )

    return router


def presses_router(staff_chat_ids: Collection[int]) -> Router:
    """Buttons pressed under the desk's messages: in the staff chat or the supervisors'; in
    a citizen's private chat, the rating under a closing message and the confirmation of a
    request to remove their data (/forget).

    A staff press is the staff message its command is, from the presser, as a reply to the
    message the button is under; it goes through the desk as the typed command does. Every
    press is answered, after it is handled: Telegram's client spins until then.
    """
    router = Router(name="presses")
    chats = frozenset(staff_chat_ids)

    async def in_staff_chats(query: CallbackQuery) -> bool:
        message = query.message
        return message is not None and message.chat.id in chats

    @router.callback_query(in_staff_chats)
    async def press(query: CallbackQuery, desk: FrontDesk, inbox_id: int | None = None) -> None:
        inbound = press_to_inbound(query)
        if inbound is None:
            await answer(query, desk.texts.get("button-refused"))
        elif not desk.may_answer(inbound):
            await answer(query, desk.texts.get("button-not-staff"))
        else:
            await desk.staff_message(inbound, inbox_id)
            await answer(query)

    router.callback_query(in_private_chats, forget_pressed)(forget_press)
    router.callback_query(in_private_chats)(rating_press)

    @router.callback_query()
    async def elsewhere(query: CallbackQuery, desk: FrontDesk) -> None:
        """A press in another chat, or under a message Telegram no longer shows: refused."""
        await answer(query, desk.texts.get("button-refused") if query.message else None)

    return router


async def in_private_chats(query: CallbackQuery) -> bool:
    message = query.message
    return message is not None and message.chat.type == "private"


async def forget_pressed(query: CallbackQuery) -> bool:
    return is_forget(query.data)


async def forget_press(query: CallbackQuery, desk: FrontDesk, inbox_id: int | None = None) -> None:
    """A citizen confirmed the removal of their data: a toast, and the message in the chat
    says what was done; an old button gets an alert."""
    inbound = citizen_press(query)
    if inbound is None:
        await answer(query, desk.texts.get("forget-expired"))
        return
    told = await desk.forgetting.confirm(inbound, inbox_id)
    if told.refused:
        await answer(query, told.text)
    else:
        await answer(query, toast=desk.texts.get("forget-toast") if told.changed else told.text)


async def rating_press(query: CallbackQuery, desk: FrontDesk, inbox_id: int | None = None) -> None:
    """A citizen rated the answer under the closing message: thanked in a toast; a press that
    is not theirs, or not a rating, gets an alert and changes nothing."""
    inbound = rating_to_inbound(query)
    if inbound is None:  # the desk puts no other buttons in private chats
        await answer(query, desk.texts.get("rating-refused"))
        return
    # Unanswered if this fails: the press stays in the inbox, and the try seconds later
    # answers it while Telegram still takes an answer.
    told = await desk.rate(inbound, inbox_id)
    if told.refused:
        await answer(query, told.text)
    else:
        await answer(query, toast=told.text)


def other_chats_router() -> Router:
    """Groups the desk does not serve: their ids are logged to help find the staff chat."""
    router = Router(name="other-chats")
    router.message.filter(in_groups)
    router.message.register(answer_ids, Command("id"))

    @router.message()
    async def other_group(message: Message) -> None:
        """A message in a group that is neither the staff chat nor the discussion group."""
        log.debug("staff chat candidate: %s", message.chat.id)

    return router
