"""aiogram messages as the front desk's platform-neutral inbound values."""

from __future__ import annotations

from aiogram.types import Message

from handlers.model import Event, Inbound
from storage.values import Attachment, Channel, Platform

# Service messages: a Message field that only says something happened in the chat (a pin,
# an auto-delete timer, a background, a checklist or poll edited, a payment for an invoice the
# desk never sends…). With no text or content beside it, such a message is not a citizen's
# word to staff. Fields of https://core.telegram.org/bots/api#message, Bot API 10.3.
SERVICE_FIELDS = frozenset({
    "new_chat_members", "left_chat_member", "chat_owner_left", "chat_owner_changed",
    "new_chat_title", "new_chat_photo", "delete_chat_photo", "group_chat_created",
    "supergroup_chat_created", "channel_chat_created", "message_auto_delete_timer_changed",
    "migrate_to_chat_id", "migrate_from_chat_id", "pinned_message", "successful_payment",
    "refunded_payment", "users_shared", "user_shared", "chat_shared", "gift", "unique_gift",
    "gift_upgrade_sent", "connected_website", "write_access_allowed",
    "proximity_alert_triggered", "boost_added", "chat_background_set", "checklist_tasks_done",
    "checklist_tasks_added", "direct_message_price_changed", "forum_topic_created",
    "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened",
    "general_forum_topic_hidden", "general_forum_topic_unhidden", "giveaway_created",
    "giveaway_completed", "managed_bot_created", "paid_message_price_changed",
    "poll_option_added", "poll_option_deleted", "suggested_post_approved",
    "suggested_post_approval_failed", "suggested_post_declined", "suggested_post_paid",
    "suggested_post_refunded", "video_chat_scheduled", "video_chat_started", "video_chat_ended",
    "video_chat_participants_invited", "web_app_data", "community_chat_added",
    "community_chat_removed", "community_chat_joined",
})
RICH_TEXT_LENGTH = 1000


def _names(*parts: str | None) -> str:
    return " — ".join(p for p in parts if p)


def _rich_text(value: object) -> str:
    """The words of a rich message: every `text` string among its blocks, in order."""
    found: list[str] = []

    def walk(item: object) -> None:
        if isinstance(item, dict):
            for key, inner in item.items():
                if key == "text" and isinstance(inner, str):
                    found.append(inner)
                else:
                    walk(inner)
        elif isinstance(item, list):
            for inner in item:
                walk(inner)

    walk(value)
    text = " ".join(" ".join(found).split())
    return text if len(text) <= RICH_TEXT_LENGTH else text[: RICH_TEXT_LENGTH - 1] + "…"


def _media(message: Message, found: list[Attachment]) -> None:
    """Files staff are shown by a copy under the card, named on the card."""
    if message.live_photo:
        found.append(Attachment("live_photo", ref=message.live_photo.file_id))
    elif message.photo:
        found.append(Attachment("photo", ref=message.photo[-1].file_id))
    if message.sticker:
        found.append(Attachment("sticker", ref=message.sticker.file_id,
                                name=message.sticker.emoji or ""))
    if message.animation:
        found.append(Attachment("animation", ref=message.animation.file_id))
    elif message.document:
        found.append(Attachment("document", ref=message.document.file_id,
                                name=message.document.file_name or ""))
    if message.voice:
        found.append(Attachment("voice", ref=message.voice.file_id))
    if message.audio:
        name = _names(message.audio.performer, message.audio.title)
        found.append(Attachment("audio", ref=message.audio.file_id,
                                name=name or message.audio.file_name or ""))
    if message.video:
        found.append(Attachment("video", ref=message.video.file_id))
    if message.video_note:
        found.append(Attachment("video_note", ref=message.video_note.file_id))


def _places_and_people(message: Message, found: list[Attachment]) -> None:
    if message.venue:
        venue = message.venue
        lat, lon = venue.location.latitude, venue.location.longitude
        found.append(Attachment("venue", name=_names(venue.title, venue.address),
                                url=f"https://yandex.ru/maps/?pt={lon},{lat}&z=17"))
    elif message.location:
        lat, lon = message.location.latitude, message.location.longitude
        found.append(Attachment("location", name=f"{lat:.5f}, {lon:.5f}",
                                url=f"https://yandex.ru/maps/?pt={lon},{lat}&z=17"))
    if message.contact:
        contact = message.contact
        person = " ".join(p for p in (contact.first_name, contact.last_name) if p)
        found.append(Attachment("contact", name=_names(person, contact.phone_number)))


def _other_content(message: Message, found: list[Attachment]) -> None:
    """What the desk cannot show itself: named in words."""
    if message.poll:
        found.append(Attachment("poll", name=message.poll.question))
    if message.checklist:
        found.append(Attachment("checklist", name=message.checklist.title))
    if message.dice:
        found.append(Attachment("dice", name=f"{message.dice.emoji} {message.dice.value}"))
    if message.game:
        found.append(Attachment("game", name=message.game.title))
    if message.story:
        found.append(Attachment("story"))
    if message.paid_media:
        found.append(Attachment("paid_media"))
    if message.invoice:
        found.append(Attachment("invoice", name=message.invoice.title))
    if message.giveaway:
        found.append(Attachment("giveaway"))
    if message.giveaway_winners:
        found.append(Attachment("giveaway_winners"))
    if message.passport_data:
        found.append(Attachment("passport_data"))
    if message.rich_message:
        text = _rich_text(message.rich_message.model_dump(mode="json"))
        found.append(Attachment("rich_message", name=text))


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    """What a message carries besides text, in words the desk can render."""
    found: list[Attachment] = []
    _media(message, found)
    _places_and_people(message, found)
    _other_content(message, found)
    if not found and not (message.text or message.caption) and not is_service(message):
        # A kind of content newer than this code: never dropped silently.
        found.append(Attachment("unknown"))
    return tuple(found)


def is_service(message: Message) -> bool:
    """A service message: something happened in the chat, nobody said anything."""
    return any(getattr(message, name, None) for name in SERVICE_FIELDS)


def is_content_less_service(message: Message) -> bool:
    """A service message with no text or content beside it: not a ticket."""
    if message.text or message.caption:
        return False
    return is_service(message) and not attachments_of(message)


def author_link(message: Message) -> str:
    if message.sender_chat is not None:
        username = message.sender_chat.username
        return f"https://t.me/{username}" if username else ""
    user = message.from_user
    if user is None:
        return ""
    if user.username:
        return f"https://t.me/{user.username}"
    return f"tg://user?id={user.id}"


def author_of(message: Message) -> tuple[str, str]:
    """(id, name) of who wrote: a person, or the chat a message was posted on behalf of.

    Posted as a channel, or as the group itself by an anonymous administrator, a message's
    `from` is a placeholder bot and `sender_chat` is the author
    (https://core.telegram.org/bots/api#message).
    """
    if message.sender_chat is not None:
        chat = message.sender_chat
        return str(chat.id), (chat.title or chat.full_name or "—")
    user = message.from_user
    if user is not None:
        return str(user.id), user.full_name or "—"
    return str(message.chat.id), message.chat.full_name or "—"


def replies_to_bot(message: Message) -> bool:
    """Whether the message replies to one of this bot's own messages."""
    reply = message.reply_to_message
    if reply is None or reply.from_user is None or not reply.from_user.is_bot:
        return False
    return message.bot is None or reply.from_user.id == message.bot.id


def comment_link(message: Message) -> str:
    """A link to a comment in the discussion group, for staff who are its members."""
    chat = message.chat
    if chat.username:
        base = f"https://t.me/{chat.username}/{message.message_id}"
    else:
        internal = str(chat.id).removeprefix("-100")
        base = f"https://t.me/c/{internal}/{message.message_id}"
    if message.message_thread_id:
        return f"{base}?thread={message.message_thread_id}"
    return base


def to_inbound(
    message: Message,
    *,
    channel: Channel = Channel.DIRECT,
    event: Event = Event.NEW,
    is_staff_chat: bool = False,
) -> Inbound:
    """One Telegram message as an inbound event."""
    author_id, author_name = author_of(message)
    text = message.text or message.caption or ""
    html_text = ""
    if text:
        # The staff's formatting survives relaying; citizens' text is escaped on rendering.
        html_text = message.html_text if is_staff_chat else ""
    reply = message.reply_to_message
    return Inbound(
        platform=Platform.TELEGRAM,
        channel=channel,
        chat_id=str(message.chat.id),
        author_id=author_id,
        author_name=author_name,
        author_link=author_link(message),
        message_id=str(message.message_id),
        text=text,
        html_text=html_text,
        attachments=attachments_of(message),
        reply_to=str(reply.message_id) if reply else None,
        reply_to_bot=replies_to_bot(message),
        thread_id=str(message.message_thread_id) if channel is Channel.COMMENT
        and message.message_thread_id else None,
        link=comment_link(message) if channel is Channel.COMMENT else "",
        event=event,
        is_staff_chat=is_staff_chat,
        sent_at=message.date,
    )
