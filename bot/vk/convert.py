"""Bots Long Poll events (VK API 5.199) as the front desk's platform-neutral inbound values.

Event shapes: https://dev.vk.com/ru/api/community-events/json-schema
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.vk.keyboard import data_of
from handlers.model import Event, Inbound
from storage.values import Attachment, Channel, Platform

# Peer ids from 2e9 on are group chats (https://dev.vk.com/ru/method/messages.send).
CHAT_PEER_BASE = 2_000_000_000
FORWARDED_LENGTH = 1000

DIRECT_EVENTS = frozenset({"message_new", "message_edit"})
COMMENT_EVENTS = frozenset({"wall_reply_new", "wall_reply_edit", "wall_reply_delete"})

JSON = dict[str, Any]

# VK's mention markup: a reply to a comment starts with `[id1001|Анна], ` and staff read the name.
_MENTION = re.compile(r"\[(?:id|club|public)\d+\|([^\[\]|]*)\]")


@dataclass(frozen=True, slots=True)
class Author:
    """A VK user as staff see them on a card."""

    name: str
    link: str


def profile_link(user_id: int) -> str:
    return f"https://vk.com/id{user_id}"


def comment_link(owner_id: int, post_id: int, comment_id: int, thread: int | None) -> str:
    """VK's own link to a comment; a reply inside a thread needs the thread too."""
    link = f"https://vk.com/wall{owner_id}_{post_id}?reply={comment_id}"
    return f"{link}&thread={thread}" if thread and thread != comment_id else link


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _largest(items: Iterable[JSON]) -> JSON | None:
    sized = [i for i in items if isinstance(i, dict) and i.get("url")]
    if not sized:
        return None
    return max(sized, key=lambda i: (_int(i.get("width")) or 0) * (_int(i.get("height")) or 0))


def media_ref(kind: str, item: JSON) -> str:
    """VK's attachment string: `photo-1_2_accesskey`."""
    ref = f"{kind}{item.get('owner_id')}_{item.get('id')}"
    key = item.get("access_key")
    return f"{ref}_{key}" if key else ref


def _photo(photo: JSON) -> Attachment:
    # The largest of the offered copies (at most 2560 px): Telegram fetches photos by URL
    # up to 5 MB; `orig_photo` may be the untouched original and larger.
    best = _largest(photo.get("sizes") or []) or _largest([photo.get("orig_photo") or {}])
    return Attachment("photo", ref=media_ref("photo", photo), url=str(best["url"]) if best else "")


def _wall_link(wall: JSON) -> str:
    owner = wall.get("owner_id", wall.get("to_id", wall.get("from_id")))
    return f"https://vk.com/wall{owner}_{wall.get('id')}"


def attachment_of(item: JSON) -> Attachment:
    """One VK attachment: shown to staff where it can be, described in words where not."""
    kind = str(item.get("type", ""))
    body = item.get(kind)
    obj: JSON = body if isinstance(body, dict) else {}
    url = str(obj.get("url") or "")
    owner_item = f"{obj.get('owner_id')}_{obj.get('id')}"
    if kind in {"photo", "wall_reply"}:  # each needs a reader of its own
        return _photo(obj) if kind == "photo" else _wall_reply(obj)
    if kind == "doc":
        return Attachment("document", ref=media_ref("doc", obj), name=str(obj.get("title", "")),
                          url=url)
    if kind == "audio_message":
        return Attachment("voice", ref=media_ref("audio_message", obj),
                          url=str(obj.get("link_mp3") or obj.get("link_ogg") or ""))
    if kind == "sticker":
        image = _largest(obj.get("images") or [])
        return Attachment("sticker", url=str(image["url"]) if image else "")
    if kind == "video":
        return Attachment("video", ref=media_ref("video", obj), name=str(obj.get("title", "")),
                          url=f"https://vk.com/video{owner_item}")
    if kind == "audio":
        name = " — ".join(str(obj[k]) for k in ("artist", "title") if obj.get(k))
        return Attachment("audio", ref=media_ref("audio", obj), name=name)
    if kind == "wall":
        return Attachment("wall", ref=media_ref("wall", obj), url=_wall_link(obj))
    if kind == "link":
        return Attachment("link", name=str(obj.get("title") or url), url=url)
    if kind == "poll":
        return Attachment("poll", name=str(obj.get("question", "")))
    if kind == "market":
        return Attachment("market", name=str(obj.get("title", "")),
                          url=f"https://vk.com/product{owner_item}")
    if kind == "story":
        return Attachment("story", url=f"https://vk.com/story{owner_item}")
    if kind in {"graffiti", "gift"}:
        return Attachment(kind, url=url if kind == "graffiti" else "")
    return _described(kind, obj, url)


# Attachments staff can only read about, by VK's type: the locale's word and the field that
# names the thing. Types of `messages_message_attachment` and `wall_comment_attachment` in
# VK's API schema (https://github.com/VKCOM/vk-api-schema, objects.json), and the kinds VK
# documents for messages besides (https://dev.vk.com/ru/reference/objects/attachments-message).
DESCRIBED: dict[str, tuple[str, str]] = {
    "article": ("article", "title"),
    "market_album": ("market_album", "title"),
    "market_market_album": ("market_album", "title"),
    "video_playlist": ("video_playlist", "title"),
    "audio_playlist": ("audio_playlist", "title"),
    "podcast": ("podcast", "title"),
    "note": ("note", "title"),
    "page": ("page", "title"),
    "mini_app": ("mini_app", "title"),
    "narrative": ("narrative", "title"),
    "clip": ("clip", "title"),
    "event": ("event", "text"),
    "album": ("album", "title"),
    "call": ("call", ""),
    "group_call_in_progress": ("group_call", ""),
    "money_transfer": ("money", ""),
    "money_request": ("money", ""),
    "video_message": ("video_note", ""),
    "posted_photo": ("photo", ""),
}


def _wall_reply(obj: JSON) -> Attachment:
    """A comment the citizen points to: its words, and a link to it."""
    text = " ".join(str(obj.get("text") or "").split())
    if len(text) > FORWARDED_LENGTH:
        text = text[: FORWARDED_LENGTH - 1] + "…"
    owner, post, comment = obj.get("owner_id"), obj.get("post_id"), obj.get("id")
    if not (owner and post and comment):
        return Attachment("wall_reply", name=text)
    return Attachment("wall_reply", name=text, url=f"https://vk.com/wall{owner}_{post}?reply={comment}")


def _described(kind: str, obj: JSON, url: str) -> Attachment:
    """Anything else: named in words; a type VK adds later still never shows its raw name."""
    word, field = DESCRIBED.get(kind, ("unknown", ""))
    name = obj.get(field) if field else ""
    if kind == "mini_app" and not name and isinstance(obj.get("app"), dict):
        name = obj["app"].get("title")
    link = url or str(obj.get("view_url") or "")
    return Attachment(word, name=str(name or ""), url=link if link.startswith("https://") else "")


def location_of(geo: JSON) -> Attachment:
    """A message's `geo`: a place name or the coordinates, and a map to open."""
    coordinates = geo.get("coordinates") or {}
    lat, lon = coordinates.get("latitude"), coordinates.get("longitude")
    place = geo.get("place") or {}
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return Attachment("location", name=str(place.get("title") or "?"))
    name = str(place.get("title") or f"{lat:.5f}, {lon:.5f}")
    return Attachment("location", name=name, url=f"https://yandex.ru/maps/?pt={lon},{lat}&z=17")


def forwarded_of(message: JSON) -> Attachment:
    """A forwarded or quoted message: its text, so staff read what the citizen points to."""
    text = " ".join(str(message.get("text") or "").split())
    if len(text) > FORWARDED_LENGTH:
        text = text[: FORWARDED_LENGTH - 1] + "…"
    return Attachment("forwarded", name=text)


def attachments_of(obj: JSON) -> tuple[Attachment, ...]:
    found = [attachment_of(a) for a in obj.get("attachments") or [] if isinstance(a, dict)]
    if isinstance(obj.get("geo"), dict):
        found.append(location_of(obj["geo"]))
    for message in obj.get("fwd_messages") or []:
        if isinstance(message, dict):
            found.append(forwarded_of(message))
    if isinstance(obj.get("reply_message"), dict):
        found.append(forwarded_of(obj["reply_message"]))
    return tuple(found)


def _message(event: JSON) -> JSON:
    obj = event.get("object") or {}
    if not isinstance(obj, dict):
        return {}
    # message_new wraps the message with client_info; message_edit is the message itself.
    inner = obj.get("message") if event.get("type") == "message_new" else obj
    return inner if isinstance(inner, dict) else {}


def author_id(event: JSON) -> int | None:
    """The user who wrote, for looking names up; None for the community and other groups."""
    kind = event.get("type")
    if kind in DIRECT_EVENTS:
        sender = _int(_message(event).get("from_id"))
    elif kind in {"wall_reply_new", "wall_reply_edit"}:
        obj = event.get("object")
        sender = _int(obj.get("from_id")) if isinstance(obj, dict) else None
    else:
        return None
    return sender if sender is not None and sender > 0 else None


def button_command(event: JSON) -> str | None:
    """The command of a keyboard button a new message came from: {"command":"status"}."""
    if event.get("type") != "message_new":
        return None
    payload = _message(event).get("payload")
    try:
        data = json.loads(payload) if isinstance(payload, str) else None
    except ValueError:
        return None
    command = data.get("command") if isinstance(data, dict) else None
    return command if isinstance(command, str) else None


def button_data(event: JSON) -> str | None:
    """The data of the desk's own button a message_new (a text button) or a message_event
    (a callback button) came from; None for any other message or payload."""
    kind = event.get("type")
    if kind == "message_new":
        return data_of(_message(event).get("payload"))
    obj = event.get("object")
    if kind == "message_event" and isinstance(obj, dict):
        return data_of(obj.get("payload"))
    return None


def unserved(event: Any) -> bool:
    """A message in a group chat the community was added to: the desk takes none (see
    `_direct`), so its inbox row keeps no payload, nothing anyone wrote there."""
    if not isinstance(event, dict) or event.get("type") not in DIRECT_EVENTS:
        return False
    peer = _int(_message(event).get("peer_id"))
    return peer is not None and peer >= CHAT_PEER_BASE


def is_start(event: JSON) -> bool:
    """The «Начать» button VK shows in a new conversation: it sends {"command":"start"}."""
    return button_command(event) == "start"


def to_inbound(event: JSON, group_id: int, authors: Mapping[int, Author]) -> Inbound | None:
    """One event as an inbound value; None for what the desk does not take."""
    kind = event.get("type")
    if kind in DIRECT_EVENTS:
        return _direct(event, authors)
    if kind in COMMENT_EVENTS:
        return _comment(event, group_id, authors)
    if kind == "message_event":
        return _press(event)
    return None


def _author(user_id: int, authors: Mapping[int, Author]) -> Author:
    return authors.get(user_id) or Author(f"id{user_id}", profile_link(user_id))


def _text(obj: JSON) -> str:
    return _MENTION.sub(r"\1", str(obj.get("text") or ""))


def _sent_at(obj: JSON) -> datetime | None:
    date = _int(obj.get("date"))
    return datetime.fromtimestamp(date, UTC) if date else None


def _direct(event: JSON, authors: Mapping[int, Author]) -> Inbound | None:
    message = _message(event)
    sender, peer = _int(message.get("from_id")), _int(message.get("peer_id"))
    if sender is None or peer is None or sender <= 0 or message.get("out"):
        return None  # the community's own messages, and other communities'
    if peer >= CHAT_PEER_BASE:
        # Group chats the community was added to are not a front desk: an acknowledgement
        # or an answer there would be read by everyone in the chat.
        return None
    message_id = _int(message.get("id")) or _int(message.get("conversation_message_id"))
    author = _author(sender, authors)
    return Inbound(
        platform=Platform.VK,
        channel=Channel.DIRECT,
        chat_id=str(peer),
        author_id=str(sender),
        author_name=author.name,
        author_link=author.link,
        message_id=str(message_id),
        text=_text(message),
        attachments=attachments_of(message),
        event=Event.EDITED if event.get("type") == "message_edit" else Event.NEW,
        sent_at=_sent_at(message),
    )


def _press(event: JSON) -> Inbound | None:
    """A callback button pressed (message_event): a press with its data, not a message.

    https://dev.vk.com/ru/api/community-events/json-schema#message_event: user_id, peer_id,
    event_id (valid for a minute), payload, conversation_message_id. Data that is not the
    desk's comes as an empty text, which the desk refuses.
    """
    obj: JSON = event.get("object") or {}
    user, peer = _int(obj.get("user_id")), _int(obj.get("peer_id"))
    if user is None or peer is None or user <= 0 or not obj.get("event_id"):
        return None  # nobody to answer
    cmid = _int(obj.get("conversation_message_id")) or 0
    data = button_data(event) or ""
    return Inbound(
        platform=Platform.VK, channel=Channel.DIRECT, chat_id=str(peer),
        author_id=str(user), author_name="", author_link=profile_link(user),
        message_id=str(cmid), text=data,
        key=f"{Platform.VK}:press:{peer}:{cmid}:{data}",
    )


def _comment(event: JSON, group_id: int, authors: Mapping[int, Author]) -> Inbound | None:
    obj: JSON = event.get("object") or {}
    comment_id, post_id = _int(obj.get("id")), _int(obj.get("post_id"))
    owner = _int(obj.get("owner_id", obj.get("post_owner_id")))
    if comment_id is None or post_id is None or owner != -group_id:
        return None  # a community token comments only on its own wall: nowhere to answer
    chat_id = f"{owner}_{post_id}"
    if event.get("type") == "wall_reply_delete":
        deleter = _int(obj.get("deleter_id")) or 0
        return Inbound(
            platform=Platform.VK, channel=Channel.COMMENT, chat_id=chat_id,
            author_id=str(deleter), author_name="", message_id=str(comment_id),
            thread_id=str(post_id), event=Event.DELETED,
        )
    sender = _int(obj.get("from_id"))
    if sender is None or sender <= 0:
        # The community's own comments (from_id = -group_id: our acknowledgements and answers
        # come back as wall_reply_new) and other communities' are never a citizen's.
        return None
    author = _author(sender, authors)
    stack = obj.get("parents_stack") or []
    thread = _int(stack[0]) if stack else None
    reply_to = _int(obj.get("reply_to_comment"))
    return Inbound(
        platform=Platform.VK,
        channel=Channel.COMMENT,
        chat_id=chat_id,
        author_id=str(sender),
        author_name=author.name,
        author_link=author.link,
        message_id=str(comment_id),
        text=_text(obj),
        attachments=attachments_of(obj),
        reply_to=str(reply_to) if reply_to else None,
        thread_id=str(post_id),
        link=comment_link(owner, post_id, comment_id, thread),
        event=Event.EDITED if event.get("type") == "wall_reply_edit" else Event.NEW,
        sent_at=_sent_at(obj),
    )
