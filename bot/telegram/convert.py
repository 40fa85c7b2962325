"""aiogram messages as the front desk's platform-neutral inbound values."""

from __future__ import annotations

from aiogram.types import Message

from handlers.model import Attachment, Channel, Event, Inbound, Platform


def attachments_of(message: Message) -> tuple[Attachment, ...]:
    """What a message carries besides text, in words the desk can render."""
    found: list[Attachment] = []
    if message.photo:
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
        name = " — ".join(p for p in (message.audio.performer, message.audio.title) if p)
        found.append(Attachment("audio", ref=message.audio.file_id,
                                name=name or message.audio.file_name or ""))
    if message.video:
        found.append(Attachment("video", ref=message.video.file_id))
    if message.video_note:
        found.append(Attachment("video_note", ref=message.video_note.file_id))
    if message.venue:
        found.append(Attachment("location", name=message.venue.title))
    elif message.location:
        lat, lon = message.location.latitude, message.location.longitude
        found.append(Attachment("location", name=f"{lat:.5f}, {lon:.5f}",
                                url=f"https://yandex.ru/maps/?pt={lon},{lat}&z=17"))
    if message.contact:
        found.append(Attachment("contact", name=" ".join(
            p for p in (message.contact.first_name, message.contact.last_name) if p)))
    if message.poll:
        found.append(Attachment("poll", name=message.poll.question))
    if not found and not (message.text or message.caption):
        # Anything else (a dice, a story, a game…): never dropped silently.
        kind = message.content_type
        found.append(Attachment("other", name=str(getattr(kind, "value", kind))))
    return tuple(found)


def author_link(message: Message) -> str:
    user = message.from_user
    if user is None:
        return ""
    if user.username:
        return f"https://t.me/{user.username}"
    return f"tg://user?id={user.id}"


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
    user = message.from_user
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
        author_id=str(user.id) if user else str(message.chat.id),
        author_name=(user.full_name if user else message.chat.full_name) or "—",
        author_link=author_link(message),
        message_id=str(message.message_id),
        text=text,
        html_text=html_text,
        attachments=attachments_of(message),
        reply_to=str(reply.message_id) if reply else None,
        thread_id=str(message.message_thread_id) if channel is Channel.COMMENT
        and message.message_thread_id else None,
        link=comment_link(message) if channel is Channel.COMMENT else "",
        event=event,
        is_staff_chat=is_staff_chat,
        sent_at=message.date,
    )
