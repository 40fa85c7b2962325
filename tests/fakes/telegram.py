"""A local fake of the Telegram Bot API that the real aiogram ``Bot`` can talk to.

End-to-end tests and benchmarks start it on 127.0.0.1 (a free port), point aiogram at it and
drive the bot as Telegram would: updates are pushed into a ``getUpdates`` queue, every call the
bot makes is recorded, and answers and failures follow Telegram's own format and wording::

    async with FakeTelegram() as tg, tg.bot() as bot:
        tg.push_update(tg.private_text(42, "Здравствуйте"))
        ...  # run the dispatcher's polling against ``bot``
        [reply] = await tg.wait_sent(1, chat_id=42)
        assert reply["message"]["text"] == "Сообщение получено"

What it models, and where it deliberately stops:

- ``getUpdates`` with ``offset`` confirmation, ``limit``, long polling and ``allowed_updates``;
  a second concurrent ``getUpdates`` ends the first with 409, as Telegram does.
- Webhooks (https://core.telegram.org/bots/api#setwebhook): ``setWebhook`` (``url``,
  ``secret_token`` of 1-256 characters ``A-Z a-z 0-9 _ -``, ``max_connections`` 1-100,
  ``allowed_updates``, ``drop_pending_updates``), ``deleteWebhook`` and ``getWebhookInfo``
  (with ``last_error_date`` and ``last_error_message`` as Telegram words them). While a webhook
  is set, ``getUpdates`` is refused with 409, and each update is POSTed to it as JSON with the
  secret in ``X-Telegram-Bot-Api-Secret-Token``, one at a time and in order; an answer other
  than 2xx, a timeout or a refused connection is tried again after a growing pause, until
  ``webhook_give_up_after`` seconds have passed (Telegram gives up "after a reasonable amount
  of attempts"). An update not yet delivered when the webhook is deleted comes by getUpdates.
  Plain ``http://`` URLs on any port are accepted, as a self-hosted Bot API server accepts
  them (Telegram's own wants HTTPS on 443, 80, 88 or 8443). :meth:`FakeTelegram.redeliver`
  sends a delivered update again, as Telegram does when it did not see the answer.
- Chats: the bot may write in a private chat (positive id) once the user wrote to it or
  started it (:meth:`FakeTelegram.start_private_chat`), until they block it; groups
  (negative ids) exist once registered with :meth:`FakeTelegram.add_group` or seen in a pushed
  update. Message ids increase per chat and are shared by users and the bot, so a user can
  reply to a bot message and the update carries the full ``reply_to_message``.
- Text: ``parse_mode`` HTML, MarkdownV2 and Markdown are parsed the way Telegram's server
  parses them (the same error messages, byte offsets and UTF-16 entity offsets), and limits
  apply to the visible text: 4,096 UTF-16 code units for a text, 1,024 for a caption.
- Files: uploads and file ids, ``getFile`` and downloads under ``/file/bot<token>/<path>``.
- Faults: one-shot errors (:meth:`FakeTelegram.fail_next`), periods of 429, 5xx or hanging
  requests (:attr:`FakeTelegram.faults`), and Telegram's flood limits (:class:`FloodLimits`,
  off unless ``enforce_limits``: a test about limits turns them on). Edits share a chat's
  limit with sends: "the limits for message editing are the same as for message sending
  … they share the limit" (Telegram's levlam, https://github.com/tdlib/td/issues/2592).

Everything runs on the event loop of the test; call its methods from that loop only.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import json
import math
import mimetypes
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, Literal, TypedDict, TypeVar, Unpack

import aiohttp
from aiogram import Bot
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "BOT_ID",
    "BOT_USERNAME",
    "DEFAULT_UPDATE_TYPES",
    "SENDING_METHODS",
    "TOKEN",
    "ApiRequest",
    "EntityParseError",
    "FakeTelegram",
    "FaultMode",
    "Faults",
    "FloodLimits",
    "LoopbackSession",
    "PrivateSender",
    "Sender",
    "Upload",
    "WebhookDelivery",
    "parse_entities",
    "utf16_len",
]

JsonDict = dict[str, Any]
_T = TypeVar("_T")


def _names(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


BOT_ID: Final = 1000
BOT_USERNAME: Final = "frontdesk_test_bot"
TOKEN: Final = f"{BOT_ID}:FAKE-frontdesk-test-token"
"""A well-formed token whose bot id matches the fake's bot, so ``bot.id == BOT_ID``."""

DEFAULT_FIRST_NAME: Final = "Иван"
TEXT_LIMIT: Final = 4096
CAPTION_LIMIT: Final = 1024
DOWNLOAD_LIMIT: Final = 20 * 1024 * 1024
UPLOAD_LIMIT: Final = 50 * 1024 * 1024

SENDING_METHODS: Final = _names(
    "sendMessage sendPhoto sendDocument sendVoice sendVideo sendSticker sendLocation"
    " copyMessage forwardMessage"
)
"""Methods that put a new message into a chat: what :meth:`FakeTelegram.sent` lists."""

ALL_UPDATE_TYPES: Final = _names(
    "message edited_message channel_post edited_channel_post business_connection"
    " business_message edited_business_message deleted_business_messages message_reaction"
    " message_reaction_count inline_query chosen_inline_result callback_query shipping_query"
    " pre_checkout_query purchased_paid_media poll poll_answer my_chat_member chat_member"
    " chat_join_request chat_boost removed_chat_boost"
)
# https://core.telegram.org/bots/api#getupdates: no list, or an empty one, means all but these.
DEFAULT_UPDATE_TYPES: Final = ALL_UPDATE_TYPES - {
    "chat_member",
    "message_reaction",
    "message_reaction_count",
}

_CONFLICT: Final = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
_WEBHOOK_SECRET: Final = re.compile(r"[A-Za-z0-9_-]{1,256}\Z")
SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"
_WEBHOOK_CONFLICT: Final = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_NOT_MODIFIED: Final = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
_STATUS_TEXT: Final = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram's limits and offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


# --------------------------------------------------------------------------------------------
# Marked-up text: Telegram's parsers for parse_mode HTML, MarkdownV2 and Markdown.
#
# These follow TDLib's parse_html / parse_markdown_v2 / parse_markdown (td/telegram/
# MessageEntity.cpp), which the Bot API server runs: they work on UTF-8 bytes, report byte
# offsets into the text as sent, and count entity offsets in UTF-16 code units.
# --------------------------------------------------------------------------------------------


class EntityParseError(ValueError):
    """Why Telegram cannot parse a marked-up text (the part after "can't parse entities: ")."""


_SPACE: Final = frozenset(b" \t\r\n\v\f\0")
_TRIMMED: Final = " \t\r\n\v\f"
_ALNUM: Final = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_HTML_TAGS: Final = _names(
    "a b strong i em s strike del u ins tg-spoiler tg-emoji span pre code blockquote"
)
_HTML_ENTITY_TYPES: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
}
# Order of entities that start and end together, as TDLib sorts them.
_PRIORITY: Final = {
    "blockquote": 0,
    "expandable_blockquote": 0,
    "pre": 11,
    "code": 20,
    "text_link": 49,
    "text_mention": 49,
    "bold": 90,
    "italic": 91,
    "underline": 92,
    "strikethrough": 93,
    "spoiler": 94,
    "custom_emoji": 99,
}
_USER_LINK: Final = re.compile(r"tg://user\?id=(\d{1,19})\Z", re.IGNORECASE)
_EMOJI_LINK: Final = re.compile(r"tg://emoji\?id=(\d{1,19})\Z", re.IGNORECASE)
_LINK_SCHEMES: Final = ("http://", "https://", "tg://", "ton://", "ftp://")
_BARE_DOMAIN: Final = re.compile(r"[\w-]+(?:\.[\w-]+)+(?:[/?#:]\S*)?\Z")


def _entity(kind: str, offset: int, length: int, **extra: Any) -> JsonDict:
    return {"type": kind, "offset": offset, "length": length, **extra}


def _sort_entities(entities: list[JsonDict]) -> list[JsonDict]:
    return sorted(
        entities, key=lambda e: (e["offset"], -e["length"], _PRIORITY.get(e["type"], 50))
    )


def _link_entity(url: str, offset: int, length: int) -> JsonDict | None:
    """A text_link or text_mention for ``url``, or None where Telegram drops the link."""
    if mention := _USER_LINK.match(url):
        user = {"id": int(mention[1]), "is_bot": False, "first_name": ""}
        return _entity("text_mention", offset, length, user=user)
    if url.lower().startswith(_LINK_SCHEMES):
        return _entity("text_link", offset, length, url=url)
    if _BARE_DOMAIN.match(url):
        return _entity("text_link", offset, length, url=f"http://{url}")
    return None


def _decode_html_entity(data: bytes, pos: int) -> tuple[int, int]:
    """The code point of the character reference at ``data[pos]`` and where it ends; 0 if none.

    Only &lt; &gt; &amp; &quot; and numeric references are understood; anything else
    (``&nbsp;``, a bare ``&``) stays in the text as it is.
    """
    end = pos + 1
    code = 0
    if data[end] == 0x23:  # '#'
        end += 1
        if data[end] == 0x78:  # 'x'
            end += 1
            while chr(data[end]) in "0123456789abcdefABCDEF" and code < 0x110000:
                code = code * 16 + int(chr(data[end]), 16)
                end += 1
        else:
            while 0x30 <= data[end] <= 0x39 and code < 0x110000:
                code = code * 10 + data[end] - 0x30
                end += 1
        if code == 0 or code >= 0x10FFFF or end - pos >= 10:
            return 0, pos
    else:
        while chr(data[end]).isascii() and chr(data[end]).isalpha():
            end += 1
        code = {b"lt": 0x3C, b"gt": 0x3E, b"amp": 0x26, b"quot": 0x22}.get(data[pos + 1 : end], 0)
        if code == 0:
            return 0, pos
    if data[end] == 0x3B:  # ';'
        end += 1
    return code, end


@dataclass(slots=True)
class _OpenEntity:
    kind: str
    argument: str
    offset: int  # UTF-16 offset in the visible text
    start: int  # byte position in the visible text
    source: int = 0  # byte offset in the marked-up text
    expandable: bool = False


class _Visible:
    """The visible text being built: UTF-8 bytes plus its length in UTF-16 code units."""

    __slots__ = ("data", "utf16")

    def __init__(self) -> None:
        self.data = bytearray()
        self.utf16 = 0

    def byte(self, c: int) -> None:
        self.data.append(c)
        if c & 0xC0 != 0x80:  # the first byte of a character
            self.utf16 += 2 if c >= 0xF0 else 1

    def char(self, code: int) -> None:
        self.data += chr(code).encode()
        self.utf16 += 2 if code > 0xFFFF else 1

    def since(self, start: int) -> str:
        return self.data[start:].decode()


def _parse_html(text: str) -> tuple[str, list[JsonDict]]:
    data = text.encode() + b"\0"
    size = len(data) - 1
    out = _Visible()
    entities: list[JsonDict] = []
    stack: list[_OpenEntity] = []
    i = 0
    while i < size:
        c = data[i]
        if c == 0x26:  # '&'
            code, end = _decode_html_entity(data, i)
            if code:
                if 0xD800 <= code <= 0xDFFF:
                    raise EntityParseError(
                        "Text contains invalid Unicode characters after decoding HTML entities, "
                        "check for unmatched surrogate code units"
                    )
                out.char(code)
                i = end
                continue
        if c != 0x3C:  # not '<'
            out.byte(c)
            i += 1
            continue

        begin = i
        i += 1
        if data[i] != 0x2F:  # a start tag
            while data[i] not in _SPACE and data[i] != 0x3E:
                i += 1
            if data[i] == 0:
                raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
            tag = data[begin + 1 : i].decode(errors="replace").lower()
            if tag not in _HTML_TAGS:
                raise EntityParseError(f'Unsupported start tag "{tag}" at byte offset {begin}')
            argument = ""
            expandable = False
            while data[i] != 0x3E:
                while data[i] != 0 and data[i] in _SPACE:
                    i += 1
                if data[i] == 0x3E:
                    break
                name_begin = i
                while data[i] not in _SPACE and data[i] not in b"=>":
                    i += 1
                name = data[name_begin:i].decode(errors="replace")
                if not name:
                    raise EntityParseError(
                        f'Empty attribute name in the tag "{tag}" at byte offset {begin}'
                    )
                while data[i] != 0 and data[i] in _SPACE:
                    i += 1
                if data[i] != 0x3D:  # '='
                    if tag == "blockquote" and name.lower() == "expandable":
                        expandable = True
                        continue
                    raise EntityParseError(
                        "Expected equal sign in declaration of an attribute of the tag "
                        f'"{tag}" at byte offset {begin}'
                    )
                i += 1
                while data[i] != 0 and data[i] in _SPACE:
                    i += 1
                if data[i] == 0:
                    raise EntityParseError(f'Unclosed start tag "{tag}" at byte offset {begin}')
                if data[i] not in b"'\"":  # an unquoted name token
                    token_begin = i
                    while data[i] in _ALNUM or data[i] in b".-":
                        i += 1
                    value = data[token_begin:i].decode().lower()
                    if data[i] not in _SPACE and data[i] != 0x3E:
                        raise EntityParseError(
                            f"Unexpected end of name token at byte offset {token_begin}"
                        )
                else:
                    quote = data[i]
                    i += 1
                    raw = bytearray()
                    while data[i] != quote and data[i] != 0:
                        if data[i] == 0x26:
                            code, end = _decode_html_entity(data, i)
                            if code:
                                raw += chr(code).encode(errors="surrogatepass")
                                i = end
                                continue
                        raw.append(data[i])
                        i += 1
                    if data[i] == quote:
                        i += 1
                    value = raw.decode(errors="replace")
                if data[i] == 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {begin}")
                if tag == "a" and name == "href":
                    argument = value
                elif tag == "code" and name == "class" and value.startswith("language-"):
                    argument = value.removeprefix("language-")
                elif tag == "span" and name == "class" and value.startswith("tg-"):
                    argument = value.removeprefix("tg-")
                elif tag == "tg-emoji" and name == "emoji-id":
                    argument = value
            if tag == "span" and argument != "spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {begin}'
                )
            stack.append(_OpenEntity(tag, argument, out.utf16, len(out.data), begin, expandable))
            i += 1  # past '>'
            continue

        # an end tag
        if not stack:
            raise EntityParseError(f"Unexpected end tag at byte offset {begin}")
        while data[i] not in _SPACE and data[i] != 0x3E:
            i += 1
        end_tag = data[begin + 2 : i].decode(errors="replace").lower()
        while data[i] != 0 and data[i] in _SPACE:
            i += 1
        if data[i] != 0x3E:
            raise EntityParseError(f"Unclosed end tag at byte offset {begin}")
        opened = stack.pop()
        if end_tag and end_tag != opened.kind:
            raise EntityParseError(
                f'Unmatched end tag at byte offset {begin}, expected "</{opened.kind}>", '
                f'found "</{end_tag}>"'
            )
        i += 1
        if out.utf16 > opened.offset:
            _close_html_entity(opened, out, entities)
    if stack:
        raise EntityParseError(
            f'Can\'t find end tag corresponding to start tag "{stack[-1].kind}"'
        )
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return out.data.decode(), _sort_entities(entities)


def _close_html_entity(opened: _OpenEntity, out: _Visible, entities: list[JsonDict]) -> None:
    offset, length = opened.offset, out.utf16 - opened.offset
    tag = opened.kind
    last = entities[-1] if entities else None
    same_span = last is not None and last["offset"] == offset and last["length"] == length
    if tag in _HTML_ENTITY_TYPES:
        entities.append(_entity(_HTML_ENTITY_TYPES[tag], offset, length))
    elif tag == "blockquote":
        kind = "expandable_blockquote" if opened.expandable else "blockquote"
        entities.append(_entity(kind, offset, length))
    elif tag == "tg-emoji":
        if not opened.argument.isdigit() or int(opened.argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(_entity("custom_emoji", offset, length, custom_emoji_id=opened.argument))
    elif tag == "a":
        link = _link_entity(opened.argument or out.since(opened.start), offset, length)
        if link is not None:
            entities.append(link)
    elif tag == "pre":
        if same_span and last is not None and last["type"] == "code" and last.get("language"):
            last["type"] = "pre"
        else:
            entities.append(_entity("pre", offset, length))
    elif tag == "code":
        if same_span and last is not None and last["type"] == "pre" and opened.argument:
            last["language"] = opened.argument
        else:
            entities.append(_entity("code", offset, length, language=opened.argument))


_MD2_RESERVED: Final = frozenset(b"_*[]()~`>#+-=|{}.!\n")
_MD2_CODE_RESERVED: Final = frozenset(b"`")
_MD2_TYPES: Final = {
    "Bold": "bold",
    "Italic": "italic",
    "Underline": "underline",
    "Strikethrough": "strikethrough",
    "Spoiler": "spoiler",
    "Code": "code",
    "Pre": "pre",
    "PreCode": "pre",
    "BlockQuote": "blockquote",
}


def _reserved(c: int) -> EntityParseError:
    return EntityParseError(
        f"Character '{chr(c)}' is reserved and must be escaped with the preceding '\\'"
    )


def _md2_is_end(kind: str, c: int, data: bytes, i: int) -> bool:
    nxt = data[i + 1]
    if kind == "Bold":
        return c == 0x2A
    if kind == "Italic":
        return c == 0x5F and nxt != 0x5F
    if kind == "Underline":
        return c == 0x5F and nxt == 0x5F
    if kind == "Code":
        return c == 0x60
    if kind in ("Pre", "PreCode"):
        return c == 0x60 and nxt == 0x60 and data[i + 2] == 0x60
    if kind in ("TextUrl", "CustomEmoji"):
        return c == 0x5D
    if kind == "Strikethrough":
        return c == 0x7E
    if kind == "Spoiler":
        return c == 0x7C and nxt == 0x7C
    return False  # BlockQuote ends at a line that does not start with '>'


def _md2_url(data: bytes, i: int, size: int) -> tuple[str, int]:
    """The URL in ``(...)`` starting at ``data[i]`` (just past '(') and the index of ')'."""
    url = bytearray()
    while i < size and data[i] != 0x29:
        if data[i] == 0x5C and 0 < data[i + 1] <= 126:
            url.append(data[i + 1])
            i += 2
            continue
        url.append(data[i])
        i += 1
    return url.decode(errors="replace"), i


def _parse_markdown_v2(text: str) -> tuple[str, list[JsonDict]]:
    data = text.encode() + b"\0\0\0"
    size = len(data) - 3
    out = _Visible()
    entities: list[JsonDict] = []
    stack: list[_OpenEntity] = []
    have_quote = False
    i = 0
    while i < size:
        c = data[i]
        if c == 0x5C and 0 < data[i + 1] <= 126:  # '\' escapes any ASCII character
            out.byte(data[i + 1])
            i += 2
            continue
        in_code = bool(stack) and stack[-1].kind in ("Code", "Pre", "PreCode")
        if c not in (_MD2_CODE_RESERVED if in_code else _MD2_RESERVED):
            out.byte(c)
            i += 1
            continue

        is_end = False
        if stack:
            ends_quote = have_quote and c == 0x0A and (i + 1 == size or data[i + 1] != 0x3E)
            is_end = ends_quote or _md2_is_end(stack[-1].kind, c, data, i)

        if not is_end:
            source = i
            argument = ""
            if c == 0x5F:  # '_'
                kind = "Italic"
                if data[i + 1] == 0x5F:
                    kind = "Underline"
                    i += 1
            elif c == 0x2A:
                kind = "Bold"
            elif c == 0x7E:
                kind = "Strikethrough"
            elif c == 0x7C:
                if data[i + 1] != 0x7C:
                    raise _reserved(c)
                kind = "Spoiler"
                i += 1
            elif c == 0x5B:
                kind = "TextUrl"
            elif c == 0x60:  # '`'
                kind = "Code"
                if data[i + 1] == 0x60 and data[i + 2] == 0x60:
                    kind = "Pre"
                    i += 3
                    language_end = i
                    while data[language_end] not in _SPACE and data[language_end] != 0x60:
                        language_end += 1
                    if i != language_end and language_end < size and data[language_end] != 0x60:
                        kind = "PreCode"
                        argument = data[i:language_end].decode(errors="replace")
                        i = language_end
                    if data[i] in b"\r\n":  # one line break after ``` is not part of the text
                        i += 2 if data[i + 1] in b"\r\n" and data[i] != data[i + 1] else 1
                    stack.append(_OpenEntity(kind, argument, out.utf16, len(out.data), source))
                    continue
            elif c == 0x21:  # '!'
                if data[i + 1] != 0x5B:
                    raise _reserved(c)
                kind = "CustomEmoji"
                i += 1
            elif c == 0x0A:
                out.byte(c)
                i += 1
                if i < size and data[i] == 0x3E:
                    i += 1
                    if not have_quote:
                        have_quote = True
                        stack.append(
                            _OpenEntity("BlockQuote", "", out.utf16, len(out.data), source)
                        )
                continue
            elif c == 0x3E and i == 0:
                kind = "BlockQuote"
                have_quote = True
            else:
                raise _reserved(c)
            stack.append(_OpenEntity(kind, argument, out.utf16, len(out.data), source))
            i += 1
            continue

        opened = stack[-1]
        if c == 0x0A and opened.kind != "BlockQuote":
            raise EntityParseError(
                f"Can't find end of {opened.kind} entity at byte offset {opened.source}"
            )
        skip = out.utf16 == opened.offset
        extra: JsonDict = {}
        kind = _MD2_TYPES.get(opened.kind, "")
        if opened.kind in ("Underline", "Spoiler"):
            i += 1
        elif opened.kind in ("Pre", "PreCode"):
            i += 2
            if opened.argument:
                extra["language"] = opened.argument
        elif opened.kind == "TextUrl":
            if data[i + 1] != 0x28:  # no "(url)": the text is the URL
                url = out.since(opened.start)
            else:
                url_begin = i + 2
                url, i = _md2_url(data, url_begin, size)
                if data[i] != 0x29:
                    raise EntityParseError(f"Can't find end of a URL at byte offset {url_begin}")
            link = _link_entity(url, opened.offset, out.utf16 - opened.offset)
            if link is None:
                skip = True
            else:
                kind = link.pop("type")
                extra = {k: v for k, v in link.items() if k not in ("offset", "length")}
        elif opened.kind == "CustomEmoji":
            if data[i + 1] != 0x28:
                raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
            url_begin = i + 2
            url, i = _md2_url(data, url_begin, size)
            if data[i] != 0x29:
                raise EntityParseError(
                    f"Can't find end of a custom emoji URL at byte offset {url_begin}"
                )
            emoji = _EMOJI_LINK.match(url)
            if emoji is None:
                raise EntityParseError("Invalid custom emoji URL specified")
            kind = "custom_emoji"
            extra["custom_emoji_id"] = emoji[1]
        elif opened.kind == "BlockQuote":
            have_quote = False
            out.byte(c)
        if not skip:
            entities.append(_entity(kind, opened.offset, out.utf16 - opened.offset, **extra))
        stack.pop()
        i += 1

    if have_quote and stack and stack[-1].kind == "BlockQuote":
        opened = stack.pop()
        if out.utf16 != opened.offset:
            entities.append(_entity("blockquote", opened.offset, out.utf16 - opened.offset))
    if stack:
        raise EntityParseError(
            f"Can't find end of {stack[-1].kind} entity at byte offset {stack[-1].source}"
        )
    return out.data.decode(), _sort_entities(entities)


def _parse_markdown(text: str) -> tuple[str, list[JsonDict]]:
    """The legacy ``Markdown`` mode: *bold*, _italic_, `code`, ```pre```, [text](url)."""
    data = text.encode() + b"\0\0\0"
    size = len(data) - 3
    out = _Visible()
    entities: list[JsonDict] = []
    i = 0
    while i < size:
        c = data[i]
        if c == 0x5C and data[i + 1] in b"_*`[":
            out.byte(data[i + 1])
            i += 2
            continue
        if c not in b"_*`[":
            out.byte(c)
            i += 1
            continue
        begin = i
        end_char = 0x5D if c == 0x5B else c
        is_pre = False
        language = ""
        i += 1
        if c == 0x60 and data[i] == 0x60 and data[i + 1] == 0x60:
            i += 2
            is_pre = True
            language_end = i
            while data[language_end] not in _SPACE and data[language_end] != 0x60:
                language_end += 1
            if i != language_end and language_end < size and data[language_end] != 0x60:
                language = data[i:language_end].decode(errors="replace")
                i = language_end
            if data[i] in b"\r\n":
                i += 2 if data[i + 1] in b"\r\n" and data[i] != data[i + 1] else 1
        offset = out.utf16
        start = len(out.data)
        while i < size and (
            data[i] != end_char or (is_pre and not (data[i + 1] == 0x60 and data[i + 2] == 0x60))
        ):
            out.byte(data[i])
            i += 1
        if i == size:
            raise EntityParseError(f"Can't find end of the entity starting at byte offset {begin}")
        length = out.utf16 - offset
        if length:
            if c == 0x5F:
                entities.append(_entity("italic", offset, length))
            elif c == 0x2A:
                entities.append(_entity("bold", offset, length))
            elif c == 0x5B:
                url = out.since(start)
                if data[i + 1] == 0x28:
                    i += 2
                    url_begin = i
                    while i < size and data[i] != 0x29:
                        i += 1
                    url = data[url_begin:i].decode(errors="replace")
                if (link := _link_entity(url, offset, length)) is not None:
                    entities.append(link)
            elif is_pre:
                extra = {"language": language} if language else {}
                entities.append(_entity("pre", offset, length, **extra))
            else:
                entities.append(_entity("code", offset, length))
        if is_pre:
            i += 2
        i += 1
    return out.data.decode(), _sort_entities(entities)


def _trim(text: str, entities: list[JsonDict]) -> tuple[str, list[JsonDict]]:
    """Drop leading and trailing whitespace as Telegram does, moving entities with the text."""
    stripped = text.strip(_TRIMMED)
    if len(stripped) == len(text):
        return text, entities
    left = len(text) - len(text.lstrip(_TRIMMED))  # whitespace is one UTF-16 unit a character
    end = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - left, 0)
        stop = min(entity["offset"] + entity["length"] - left, end)
        if stop > start:
            kept.append({**entity, "offset": start, "length": stop - start})
    return stripped, kept


def parse_entities(
    text: str, parse_mode: str | None, entities: list[JsonDict] | None = None
) -> tuple[str, list[JsonDict]]:
    """The text a reader sees and its entities, as Telegram makes them from what a bot sent.

    ``parse_mode`` is "HTML", "MarkdownV2", "Markdown" or None (then ``entities`` are taken as
    given). Leading and trailing whitespace is trimmed. Raises :class:`EntityParseError` with
    Telegram's reason, or ``ValueError`` for an unknown parse mode.
    """
    mode = (parse_mode or "").lower()
    if mode == "html":
        visible, found = _parse_html(text) if ("<" in text or "&" in text) else (text, [])
    elif mode == "markdownv2":
        visible, found = _parse_markdown_v2(text)
    elif mode == "markdown":
        visible, found = _parse_markdown(text)
    elif mode == "":
        visible, found = text, [dict(e) for e in entities or ()]
    else:
        raise ValueError(f"unsupported parse_mode {parse_mode!r}")
    return _trim(visible, found)


# --------------------------------------------------------------------------------------------
# Records, faults and flood limits
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Upload:
    """A file the bot uploaded in a multipart request; it replaces the field in ``params``."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass(slots=True)
class ApiRequest:
    """One HTTP request to the Bot API, as :attr:`FakeTelegram.requests` logs it."""

    method: str
    """Canonical method name (``sendMessage``), or the path as sent if the method is unknown."""
    params: JsonDict
    """Parameters with JSON fields decoded and numbers and booleans converted."""
    at: float
    """``time.monotonic()`` when the request arrived."""
    status: int | None = None
    """HTTP status of the answer; None while the request is still being served."""
    result: Any = None
    description: str | None = None
    """Telegram's description of the error, for failed requests."""


class _ApiError(Exception):
    def __init__(
        self,
        code: int,
        description: str,
        *,
        retry_after: int | None = None,
        html: bool = False,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        self.html = html
        self.migrate_to_chat_id = migrate_to_chat_id


def _bad_request(reason: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {reason}")


def _too_many_requests(retry_after: int) -> _ApiError:
    return _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)


@dataclass(frozen=True, slots=True)
class FaultMode:
    """A period during which requests fail; build one with :class:`Faults`."""

    kind: Literal["error", "timeout"]
    status: int = 0
    description: str = ""
    retry_after: int | None = None
    for_seconds: float | None = None
    """How long the period lasts from :meth:`FakeTelegram.set_fault`; None: until cleared."""
    methods: frozenset[str] | None = None
    """Method names it applies to (any case); None: every method, ``getUpdates`` included."""
    html: bool = False
    """Answer with an nginx-style HTML page instead of Telegram's JSON (a real 502 does)."""
    execute: bool = False
    """For a timeout: carry the request out (the message is sent) but never answer it."""

    def applies_to(self, method: str) -> bool:
        return self.methods is None or method.lower() in self.methods


def _lowered(methods: Iterable[str] | None) -> frozenset[str] | None:
    return None if methods is None else frozenset(m.lower() for m in methods)


class Faults:
    """Periods of failure for :attr:`FakeTelegram.faults`; each call replaces the current one."""

    def __init__(self, telegram: FakeTelegram) -> None:
        self._telegram = telegram

    def rate_limit(
        self,
        retry_after: int = 1,
        *,
        for_seconds: float | None = None,
        methods: Iterable[str] | None = SENDING_METHODS,
    ) -> FaultMode:
        """429 with ``retry_after`` for the sending methods (Telegram never limits getUpdates)."""
        mode = FaultMode(
            kind="error",
            status=429,
            description=f"Too Many Requests: retry after {retry_after}",
            retry_after=retry_after,
            for_seconds=for_seconds,
            methods=_lowered(methods),
        )
        self._telegram.set_fault(mode)
        return mode

    def server_error(
        self,
        status: int = 502,
        *,
        for_seconds: float | None = None,
        methods: Iterable[str] | None = None,
        description: str | None = None,
        html: bool = False,
    ) -> FaultMode:
        """5xx for every method (or ``methods``), as during an outage of Telegram."""
        mode = FaultMode(
            kind="error",
            status=status,
            description=description or _STATUS_TEXT.get(status, "Internal Server Error"),
            for_seconds=for_seconds,
            methods=_lowered(methods),
            html=html,
        )
        self._telegram.set_fault(mode)
        return mode

    def timeout(
        self,
        *,
        for_seconds: float | None = None,
        methods: Iterable[str] | None = None,
        execute: bool = False,
    ) -> FaultMode:
        """Requests hang until the fake stops, so the client's own timeout fires.

        With ``execute=True`` the request is carried out first (the message is sent) and only
        the answer is lost: the case that makes a retrying sender send twice.
        """
        mode = FaultMode(
            kind="timeout", for_seconds=for_seconds, methods=_lowered(methods), execute=execute
        )
        self._telegram.set_fault(mode)
        return mode

    def clear(self) -> None:
        """End the current period now."""
        self._telegram.set_fault(None)


@dataclass(slots=True)
class _OneShotFault:
    method: str | None
    error: _ApiError
    remaining: int
    chat_id: int | None = None
    skip: int = 0  # matching calls let through before the failures start

    def matches(self, method: str, params: JsonDict) -> bool:
        if self.method is not None and self.method != method.lower():
            return False
        return self.chat_id is None or params.get("chat_id") == self.chat_id


# What a bot that may not post some kind of content in a group is told, by send method.
_RIGHTS_FOR = {
    "sendMessage": "text messages",
    "sendPhoto": "photos",
    "sendDocument": "documents",
    "sendVoice": "voice notes",
    "sendVideo": "videos",
    "sendSticker": "stickers",
    "sendLocation": "locations",
}


@dataclass(frozen=True, slots=True)
class FloodLimits:
    """Telegram's flood limits, as its FAQ states them.

    https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this: "In a
    single chat, avoid sending more than one message per second. We may allow short bursts
    that go over this limit, but eventually you'll begin receiving 429 errors"; "not more than
    30 messages per second or so" overall; "not more than 20 messages per minute to the same
    group". A private chat is a token bucket (one message a second, a short burst); the
    others are sliding windows of (messages, seconds).
    """

    private_rate: float = 1.0
    """Messages a second one private chat takes for long."""
    private_burst: int = 2
    """How many may go at once after a quiet spell: a short burst, not a second allowance."""
    per_group: tuple[int, float] = (20, 60.0)
    overall: tuple[int, float] = (30, 1.0)


class _Window:
    __slots__ = ("hits", "limit", "seconds")

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.seconds = seconds
        self.hits: deque[float] = deque()

    def wait_needed(self, now: float) -> float:
        """Seconds until one more hit fits in the window; 0 if it fits now."""
        cutoff = now - self.seconds
        while self.hits and self.hits[0] <= cutoff:
            self.hits.popleft()
        if len(self.hits) < self.limit:
            return 0.0
        return self.hits[0] + self.seconds - now

    def hit(self, now: float) -> None:
        self.hits.append(now)


class _Bucket:
    """A token bucket: `rate` tokens a second, at most `burst`, full to begin with."""

    __slots__ = ("burst", "rate", "tokens", "updated")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = float(burst)
        self.updated = now

    def wait_needed(self, now: float) -> float:
        self.tokens = min(self.burst, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def hit(self, now: float) -> None:
        self.tokens -= 1


@dataclass(slots=True)
class _StoredFile:
    file_id: str
    file_unique_id: str
    kind: str
    data: bytes
    file_path: str
    media: Any = None
    """The Telegram object a message carries for this file (a list of sizes for a photo)."""


_FILE_FOLDERS: Final = {
    "photo": ("photos", ".jpg"),
    "document": ("documents", ".bin"),
    "voice": ("voice", ".oga"),
    "video": ("videos", ".mp4"),
    "sticker": ("stickers", ".webp"),
}
_SAMPLE_BYTES: Final = {
    "photo": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00fake-photo\xff\xd9",
    "document": b"%PDF-1.4\n% fake document\n%%EOF\n",
    "voice": b"OggS\x00fake-voice",
    "video": b"\x00\x00\x00\x18ftypmp42fake-video",
    "sticker": b"RIFF\x00\x00\x00\x00WEBPfake-sticker",
}
_CONTENT_KEYS: Final = _names(
    "text entities photo document voice video video_note audio animation sticker location"
    " venue contact dice poll caption caption_entities has_media_spoiler"
)
_MEDIA_KEYS: Final = frozenset(
    {"photo", "document", "voice", "video", "video_note", "audio", "animation"}
)
_MESSAGE_UPDATES: Final = frozenset(
    {"message", "edited_message", "channel_post", "edited_channel_post", "business_message"}
)

# Form fields arrive as strings; these are converted so tests read natural values.
_JSON_FIELDS: Final = _names(
    "reply_parameters reply_markup allowed_updates link_preview_options entities"
    " caption_entities commands scope media menu_button"
)
_INT_FIELDS: Final = _names(
    "chat_id from_chat_id message_id reply_to_message_id message_thread_id offset limit"
    " timeout user_id duration width height icon_color cache_time max_connections live_period"
    " heading proximity_alert_radius"
)
_FLOAT_FIELDS: Final = frozenset({"latitude", "longitude", "horizontal_accuracy"})
_BOOL_FIELDS: Final = _names(
    "disable_notification protect_content allow_sending_without_reply allow_paid_broadcast"
    " drop_pending_updates show_alert disable_web_page_preview disable_content_type_detection"
    " has_spoiler supports_streaming show_caption_above_media remove_caption"
)
_INTEGER: Final = re.compile(r"-?\d{1,20}\Z")
_TOKEN: Final = re.compile(r"\d{1,20}:[\w-]{1,100}\Z")
_COMMAND: Final = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/<>])")


def _decode_params(raw: Mapping[str, Any]) -> JsonDict:
    params: JsonDict = {}
    for key, value in raw.items():
        if not isinstance(value, str):
            params[key] = value
        elif key in _JSON_FIELDS:
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value  # the method that needs it reports it
        elif key in _INT_FIELDS and _INTEGER.match(value):
            params[key] = int(value)
        elif key in _FLOAT_FIELDS:
            try:
                params[key] = float(value)
            except ValueError:
                params[key] = value
        elif key in _BOOL_FIELDS and value.lower() in ("true", "false", "1", "0"):
            params[key] = value.lower() in ("true", "1")
        else:
            params[key] = value
    # aiogram uploads a file as a separate part and names it in the field: "attach://<part>".
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            part = value.removeprefix("attach://")
            if isinstance(params.get(part), Upload):
                params[key] = params.pop(part)
    return params


def _snapshot(message: JsonDict) -> JsonDict:
    """A message as it appears inside another one's ``reply_to_message``: one level deep."""
    return {k: v for k, v in message.items() if k != "reply_to_message"}


def _user(
    user_id: int,
    first_name: str,
    last_name: str | None = None,
    username: str | None = None,
    *,
    is_bot: bool = False,
) -> JsonDict:
    user: JsonDict = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name is not None:
        user["last_name"] = last_name
    if username is not None:
        user["username"] = username
    if not is_bot:
        user["language_code"] = "ru"
    return user


class Sender(TypedDict, total=False):
    """Who sends a message built by a helper, and under which id (the next one if absent)."""

    first_name: str
    last_name: str | None
    username: str | None
    message_id: int | None


class PrivateSender(Sender, total=False):
    reply_to_message_id: int | None
    """Reply to this stored message of the chat (a bot message, say)."""


# ChatPermissions of a new group: members may send everything.
_DEFAULT_PERMISSIONS: Final[JsonDict] = dict.fromkeys(
    (
        "can_send_messages",
        "can_send_audios",
        "can_send_documents",
        "can_send_photos",
        "can_send_videos",
        "can_send_video_notes",
        "can_send_voice_notes",
        "can_send_polls",
        "can_send_other_messages",
        "can_add_web_page_previews",
        "can_react_to_messages",
        "can_change_info",
        "can_invite_users",
        "can_pin_messages",
        "can_manage_topics",
    ),
    True,
)
_ADMIN_RIGHTS: Final[JsonDict] = {
    "can_be_edited": False, "is_anonymous": False, "can_manage_chat": True,
    "can_delete_messages": True, "can_manage_video_chats": True, "can_restrict_members": True,
    "can_promote_members": False, "can_change_info": True, "can_invite_users": True,
    "can_post_stories": False, "can_edit_stories": False, "can_delete_stories": False,
    "can_send_welcome_messages": False, "can_pin_messages": True, "can_manage_topics": False,
}


def _chat_member(status: str, user: JsonDict, rights: Mapping[str, bool]) -> JsonDict:
    """A ChatMember variant with every field the Bot API sends for ``status``."""
    fields: JsonDict
    if status == "creator":
        fields = {"is_anonymous": False}
    elif status == "administrator":
        fields = dict(_ADMIN_RIGHTS)
    elif status == "restricted":
        fields = {**_DEFAULT_PERMISSIONS, "is_member": True, "can_edit_tag": False,
                  "until_date": 0}
    elif status == "kicked":
        fields = {"until_date": 0}
    else:
        fields = {}
    return {"status": status, "user": user, **fields, **rights}


def _person(user_id: int, person: Sender, default_first_name: str) -> JsonDict:
    return _user(
        user_id,
        person.get("first_name", default_first_name),
        person.get("last_name"),
        person.get("username"),
    )


def _text_content(text: str) -> JsonDict:
    content: JsonDict = {"text": text}
    if command := _COMMAND.match(text):
        content["entities"] = [_entity("bot_command", 0, utf16_len(command[0]))]
    return content


def _caption_content(caption: str | None) -> JsonDict:
    return {} if caption is None else {"caption": caption}


class LoopbackSession(AiohttpSession):
    """aiogram's aiohttp session for a server on this machine.

    It closes at once: ``AiohttpSession.close`` waits 250 ms for TLS connections to wind
    down, which plain HTTP on the loopback does not need and which adds up across tests.
    """

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()


@dataclass
class WebhookDelivery:
    """One POST of an update to the webhook: the answer's status, or the error it met."""

    update_id: int
    status: int | None
    error: str | None
    at: float

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class _PollWaiter:
    __slots__ = ("event", "superseded")

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.superseded = False


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeTelegram:
    """A Telegram Bot API server on 127.0.0.1 with a random free port, for the real aiogram Bot.

    :param enforce_limits: answer 429 when the bot exceeds Telegram's flood limits (True for
        the defaults of :class:`FloodLimits`, or a :class:`FloodLimits`); off by default.
    :param rejected_tokens: well-formed tokens that get 401 Unauthorized.
    :param first_update_id: the ``update_id`` of the first pushed update.
    """

    def __init__(
        self,
        *,
        enforce_limits: bool | FloodLimits = False,
        rejected_tokens: Iterable[str] = (),
        first_update_id: int = 1,
        host: str = "127.0.0.1",
        webhook_timeout: float = 10.0,
        webhook_retry: tuple[float, float] = (0.1, 2.0),
        webhook_give_up_after: float = 60.0,
    ) -> None:
        self._host = host
        # Webhook delivery: how long an answer is waited for, the first and the longest pause
        # before a failed update is posted again, and when it is given up.
        self.webhook_timeout = webhook_timeout
        self.webhook_retry = webhook_retry
        self.webhook_give_up_after = webhook_give_up_after
        self._port: int | None = None
        self._runner: web.AppRunner | None = None
        self._stopped = asyncio.Event()
        self.rejected_tokens: set[str] = set(rejected_tokens)
        self.limits: FloodLimits | None = None
        if isinstance(enforce_limits, FloodLimits):
            self.limits = enforce_limits
        elif enforce_limits:
            self.limits = FloodLimits()
        self._windows: dict[tuple[str, int], _Window] = {}
        self._buckets: dict[int, _Bucket] = {}

        self.me: JsonDict = _user(BOT_ID, "Frontdesk", None, BOT_USERNAME, is_bot=True)
        # Privacy mode is on for a new bot (@BotFather /setprivacy): getMe's
        # can_read_all_group_messages is false. It matters only where the bot is no admin.
        self.privacy_mode = True
        # ChatMember records set by tests, per chat and user; the bot is an admin by default.
        self._members: dict[int, dict[int, JsonDict]] = {}
        self._permissions: dict[int, JsonDict] = {}
        self._migrated: dict[int, int] = {}

        # Chats and their messages; a chat's dict keeps the order people see.
        self._groups: dict[int, JsonDict] = {}
        self._private: dict[int, JsonDict] = {}
        self._blocked: set[int] = set()
        self._kicked: set[int] = set()
        self._started: set[int] = set()  # users who wrote to the bot in private
        self._muted: set[int] = set()
        self._closed_topics: set[tuple[int, int]] = set()
        self._messages: dict[int, dict[int, JsonDict]] = {}
        self._next_message_id: dict[int, int] = {}
        self._topics: dict[int, dict[int, JsonDict]] = {}

        # Updates.
        self._pending: deque[JsonDict] = deque()
        self._next_update_id = first_update_id
        self._confirmed_offset = 0
        self._allowed_updates: frozenset[str] = DEFAULT_UPDATE_TYPES
        self._allowed_updates_given: list[str] | None = None
        self._poll_waiter: _PollWaiter | None = None
        self._webhook_url = ""
        self._webhook_secret: str | None = None
        self._webhook_max_connections = 40
        self._webhook_error: tuple[int, str] | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self._webhook_signal = asyncio.Event()
        self._updates: dict[int, JsonDict] = {}  # every update queued, by its id
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.webhook_given_up: list[int] = []  # update ids Telegram stopped trying
        self._callback_queries: set[str] = set()
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        self._channel_post_ids = itertools.count(1)

        # Files.
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_numbers = itertools.count(1)

        # Faults.
        self._one_shot: list[_OneShotFault] = []
        self._fault: FaultMode | None = None
        self._fault_until: float | None = None
        self.faults = Faults(self)

        # What happened.
        self._requests: list[ApiRequest] = []
        self._getupdates_calls: list[ApiRequest] = []
        self._sent: list[JsonDict] = []
        self.edits: list[JsonDict] = []  # editMessageReplyMarkup calls that changed a message
        self._sent_by_chat: dict[int, list[JsonDict]] = {}
        self._commands: list[JsonDict] = []
        self._changed: asyncio.Event | None = None

        self._methods: dict[str, tuple[str, Callable[[JsonDict], Any]]] = {
            name.lower(): (name, handler)
            for name, handler in {
                "getMe": self._get_me,
                "getUpdates": self._get_updates,
                "sendMessage": self._send_message,
                "sendPhoto": self._send_photo,
                "sendDocument": self._send_document,
                "sendVoice": self._send_voice,
                "sendVideo": self._send_video,
                "sendSticker": self._send_sticker,
                "sendLocation": self._send_location,
                "copyMessage": self._copy_message,
                "forwardMessage": self._forward_message,
                "editMessageText": self._edit_message_text,
                "editMessageReplyMarkup": self._edit_message_reply_markup,
                "deleteMessage": self._delete_message,
                "getChat": self._get_chat,
                "getChatMember": self._get_chat_member,
                "getFile": self._get_file,
                "sendChatAction": self._send_chat_action,
                "setMyCommands": self._set_my_commands,
                "getMyCommands": lambda _params: self._commands,
                "deleteMyCommands": self._delete_my_commands,
                "setWebhook": self._set_webhook,
                "deleteWebhook": self._delete_webhook,
                "getWebhookInfo": self._get_webhook_info,
                "answerCallbackQuery": self._answer_callback_query,
                "createForumTopic": self._create_forum_topic,
                "close": lambda _params: True,
                "logOut": lambda _params: True,
            }.items()
        }

    # ---- lifecycle ------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free port of the loopback interface."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=UPLOAD_LIMIT)
        app.router.add_route("*", "/bot{token}/{method}", self._on_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._on_file)
        # No access log: benchmarks make thousands of requests a second.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self._host, 0)
        await site.start()
        self._stopped.clear()
        self._runner = runner
        self._port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving; requests that hang or long-poll are answered first, so it never hangs."""
        if self._runner is None:
            return
        self._stopped.set()
        if self._poll_waiter is not None:
            self._poll_waiter.event.set()
        await self._stop_delivering()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``TelegramAPIServer.from_base``."""
        if self._port is None:
            raise RuntimeError("FakeTelegram is not started")
        return f"http://{self._host}:{self._port}"

    @property
    def api_server(self) -> TelegramAPIServer:
        """aiogram's server description pointing at this fake."""
        return TelegramAPIServer.from_base(self.base_url)

    def bot(self, token: str = TOKEN, *, timeout: float = 10.0, **bot_kwargs: Any) -> Bot:
        """A real aiogram ``Bot`` talking to this fake; close it (``async with``) when done."""
        bot_kwargs.setdefault("default", DefaultBotProperties(parse_mode=None))
        session = LoopbackSession(api=self.api_server, timeout=timeout)
        return Bot(token, session=session, **bot_kwargs)

    # ---- the world the bot lives in -------------------------------------------------------

    def add_group(
        self,
        chat_id: int,
        title: str = "Сотрудники",
        *,
        is_forum: bool = False,
        username: str | None = None,
    ) -> JsonDict:
        """Register a group the bot is a member of; ids below -10**12 are supergroups."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        chat: JsonDict = {
            "id": chat_id,
            "title": title,
            "type": "supergroup" if chat_id < -(10**12) else "group",
        }
        if is_forum:
            chat["is_forum"] = True
            # Message 1 of a forum opens the General topic; topics get ids after it.
            self._next_message_id.setdefault(chat_id, 2)
        if username is not None:
            chat["username"] = username
        self._groups[chat_id] = chat
        self._kicked.discard(chat_id)
        return chat

    def add_topic(self, chat_id: int, name: str) -> int:
        """Someone opens a forum topic in a forum group; its message_thread_id."""
        created: JsonDict = self._create_forum_topic({"chat_id": chat_id, "name": name})
        thread_id: int = created["message_thread_id"]
        return thread_id

    def add_admin(self, chat_id: int, user_id: int) -> None:
        """Make a person an administrator of a group (``getChatMember`` says so)."""
        self.set_member(chat_id, user_id, "administrator")

    def block_user(self, chat_id: int) -> None:
        """The user blocks the bot: sending to them gets 403 (a group: the bot was kicked)."""
        if chat_id > 0:
            self._blocked.add(chat_id)
        else:
            self._kicked.add(chat_id)

    def start_private_chat(self, user_id: int) -> None:
        """The user has started the bot, so it may write to them in private.

        Telegram lets a bot message a user only after they started it or wrote to it
        (otherwise 403 "bot can't initiate conversation with a user"); a private message
        pushed with :meth:`push_update` starts the chat too.
        """
        self._started.add(user_id)

    def unblock_user(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)
        self._kicked.discard(chat_id)

    def restrict_bot(self, chat_id: int) -> None:
        """An admin mutes the bot in a group: it stays a member but may post nothing.

        Telegram answers 400 "not enough rights to send text messages to the chat" (photos,
        documents… for other content), not 403.
        """
        self._muted.add(chat_id)

    def unrestrict_bot(self, chat_id: int) -> None:
        self._muted.discard(chat_id)

    def close_topic(self, chat_id: int, thread_id: int = 1) -> None:
        """An admin closes a forum topic (1: General): posting there gets 400 TOPIC_CLOSED."""
        self._closed_topics.add((chat_id, thread_id))

    def reopen_topic(self, chat_id: int, thread_id: int = 1) -> None:
        self._closed_topics.discard((chat_id, thread_id))

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        """An admin deletes a forum topic with its messages: posting with its
        message_thread_id gets 400 "message thread not found" (tdlib/telegram-bot-api#854)."""
        self._topics.get(chat_id, {}).pop(thread_id, None)
        messages = self._messages.get(chat_id, {})
        for message_id in [i for i, m in messages.items()
                           if i == thread_id or m.get("message_thread_id") == thread_id]:
            del messages[message_id]

    def remove_message(self, chat_id: int, message_id: int) -> None:
        """Someone deletes a message: replies to it and copies of it fail from now on."""
        if self._messages.get(chat_id, {}).pop(message_id, None) is None:
            raise LookupError(f"no message {message_id} in chat {chat_id}")

    def migrate_group(self, chat_id: int, supergroup_id: int) -> JsonDict:
        """The group becomes a supergroup with a new id; calls with the old id get 400.

        https://core.telegram.org/bots/api#responseparameters: ``migrate_to_chat_id``.
        """
        old = self._groups.pop(chat_id)
        self._migrated[chat_id] = supergroup_id
        return self.add_group(supergroup_id, old["title"])

    def set_member(
        self, chat_id: int, user_id: int = BOT_ID,
        status: Literal["creator", "administrator", "member", "restricted", "left", "kicked"]
        = "member", **rights: bool,
    ) -> JsonDict:
        """Set what getChatMember answers for ``user_id`` (the bot by default) in a group.

        ``rights`` override the variant's fields, e.g. ``can_send_messages=False`` for a
        restricted member. The bot's status also governs its sending, as on Telegram: a bot
        that left or was restricted from messages gets Telegram's errors.
        """
        user = self.me if user_id == BOT_ID else _user(user_id, DEFAULT_FIRST_NAME, None, None)
        record = _chat_member(status, user, rights)
        self._members.setdefault(chat_id, {})[user_id] = record
        return record

    def set_permissions(self, chat_id: int, **permissions: bool) -> None:
        """The group's default permissions for members (ChatPermissions), e.g. read-only."""
        self._permissions.setdefault(chat_id, dict(_DEFAULT_PERMISSIONS)).update(permissions)

    def add_file(
        self,
        file_id: str,
        data: bytes,
        *,
        kind: Literal["photo", "document", "voice", "video", "sticker"] = "document",
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> JsonDict | list[JsonDict]:
        """Make ``file_id`` known with ``data`` for sending, ``getFile`` and downloads.

        Returns the object a message carries for it (a list of sizes for a photo).
        """
        media: JsonDict | list[JsonDict] = self._store_file(
            kind, data, file_id=file_id, file_name=file_name, mime_type=mime_type
        ).media
        return media

    # ---- updates --------------------------------------------------------------------------

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue an update (built by the helpers below) for getUpdates; returns its update_id.

        A message in it is stored in its chat, as if a person had just sent it. As with
        Telegram, ``allowed_updates`` filters when an update is created: a type the bot did not
        ask for in its last getUpdates is not queued.
        """
        if "update_id" in update:
            raise ValueError("push_update assigns update_id itself")
        if len(update) != 1:
            raise ValueError("an update carries exactly one object")
        [(kind, body)] = update.items()
        body = dict(body)
        if kind in _MESSAGE_UPDATES:
            self._absorb_message(body, edited=kind.startswith("edited_"))
        elif kind == "callback_query":
            self._callback_queries.add(str(body["id"]))
        update_id = self._next_update_id
        self._next_update_id += 1
        if kind in self._allowed_updates:
            self._updates[update_id] = {"update_id": update_id, kind: body}
            self._pending.append(self._updates[update_id])
            if self._poll_waiter is not None:
                self._poll_waiter.event.set()
            self._webhook_signal.set()
        self._notify()
        return update_id

    def push_raw(self, update: Mapping[str, Any]) -> int:
        """Queue ``update`` exactly as given, for feeding the bot malformed or unknown updates.

        Only ``update_id`` is assigned (replacing any given). Nothing is checked or stored,
        and ``allowed_updates`` does not filter it. Returns the update_id.
        """
        update_id = self._next_update_id
        self._next_update_id += 1
        self._updates[update_id] = {**update, "update_id": update_id}
        self._pending.append(self._updates[update_id])
        if self._poll_waiter is not None:
            self._poll_waiter.event.set()
        self._webhook_signal.set()
        self._notify()
        return update_id

    def redeliver(self, update_id: int) -> None:
        """Give an update again, the same bytes, first in line: as Telegram does when it did
        not see the answer to its webhook request, or a getUpdates confirming it."""
        self._pending.appendleft(self._updates[update_id])
        if self._poll_waiter is not None:
            self._poll_waiter.event.set()
        self._webhook_signal.set()

    @property
    def webhook_url(self) -> str:
        """The webhook set with setWebhook; empty when updates go by getUpdates."""
        return self._webhook_url

    def pending_updates(self) -> list[JsonDict]:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return list(self._pending)

    @property
    def confirmed_offset(self) -> int:
        """The highest ``offset`` confirmed: every update below it is gone for good."""
        return self._confirmed_offset

    @property
    def allowed_updates(self) -> list[str] | None:
        """The last ``allowed_updates`` the bot gave, or None if it never gave one."""
        return self._allowed_updates_given

    # ---- building updates -----------------------------------------------------------------
    #
    # These build update dicts as Telegram sends them; pass them to push_update. Message ids
    # are taken from the chat's sequence now, so the order of building is the order of ids.

    def private_text(self, user_id: int, text: str, **person: Unpack[PrivateSender]) -> JsonDict:
        """A text a person sends the bot in private (``/start`` gets a bot_command entity)."""
        return self._private_update(user_id, _text_content(text), person)

    def private_photo(
        self,
        user_id: int,
        *,
        caption: str | None = None,
        file_id: str | None = None,
        data: bytes | None = None,
        **person: Unpack[PrivateSender],
    ) -> JsonDict:
        """A photo sent in private; its sizes are registered as files that can be downloaded."""
        sizes = self._store_file("photo", data, file_id=file_id).media
        return self._private_update(user_id, {"photo": sizes, **_caption_content(caption)}, person)

    def private_document(
        self,
        user_id: int,
        *,
        file_name: str = "document.pdf",
        mime_type: str | None = None,
        caption: str | None = None,
        file_id: str | None = None,
        data: bytes | None = None,
        **person: Unpack[PrivateSender],
    ) -> JsonDict:
        """A document sent in private, registered as a downloadable file."""
        document = self._store_file(
            "document", data, file_id=file_id, file_name=file_name, mime_type=mime_type
        ).media
        return self._private_update(
            user_id, {"document": document, **_caption_content(caption)}, person
        )

    def private_voice(
        self,
        user_id: int,
        *,
        duration: int = 3,
        file_id: str | None = None,
        data: bytes | None = None,
        **person: Unpack[PrivateSender],
    ) -> JsonDict:
        """A voice message sent in private, registered as a downloadable file."""
        voice = self._store_file("voice", data, file_id=file_id, duration=duration).media
        return self._private_update(user_id, {"voice": voice}, person)

    def private_video(
        self,
        user_id: int,
        *,
        duration: int = 5,
        caption: str | None = None,
        file_id: str | None = None,
        data: bytes | None = None,
        **person: Unpack[PrivateSender],
    ) -> JsonDict:
        """A video sent in private, registered as a downloadable file."""
        video = self._store_file("video", data, file_id=file_id, duration=duration).media
        return self._private_update(user_id, {"video": video, **_caption_content(caption)}, person)

    def private_sticker(
        self,
        user_id: int,
        *,
        emoji: str = "👍",
        file_id: str | None = None,
        **person: Unpack[PrivateSender],
    ) -> JsonDict:
        """A sticker sent in private."""
        sticker = self._store_file("sticker", None, file_id=file_id, emoji=emoji).media
        return self._private_update(user_id, {"sticker": sticker}, person)

    def private_location(
        self,
        user_id: int,
        latitude: float = 44.6167,
        longitude: float = 33.5254,
        **person: Unpack[PrivateSender],
    ) -> JsonDict:
        """A location shared in private."""
        location = {"latitude": latitude, "longitude": longitude}
        return self._private_update(user_id, {"location": location}, person)

    def group_text(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        *,
        reply_to: JsonDict | int | None = None,
        message_thread_id: int | None = None,
        **person: Unpack[Sender],
    ) -> JsonDict:
        """A text in a group, e.g. staff answering: ``reply_to`` a stored message or its id.

        The reply carries the full ``reply_to_message`` as Telegram sends it, and inherits the
        thread of the message it answers. An unknown group is registered on the way.
        """
        content = _text_content(text)
        return self._group_update(
            chat_id, user_id, content, person, reply_to=reply_to, thread_id=message_thread_id
        )

    def group_photo(
        self,
        chat_id: int,
        user_id: int,
        *,
        caption: str | None = None,
        reply_to: JsonDict | int | None = None,
        message_thread_id: int | None = None,
        file_id: str | None = None,
        data: bytes | None = None,
        **person: Unpack[Sender],
    ) -> JsonDict:
        """A photo in a group (staff answering with a picture), registered as files."""
        sizes = self._store_file("photo", data, file_id=file_id).media
        content = {"photo": sizes, **_caption_content(caption)}
        return self._group_update(
            chat_id, user_id, content, person, reply_to=reply_to, thread_id=message_thread_id
        )

    def automatic_forward(
        self,
        chat_id: int,
        text: str = "Новость администрации",
        *,
        channel_id: int = -1001000000777,
        channel_title: str = "Администрация",
        channel_post_id: int | None = None,
        message_id: int | None = None,
    ) -> JsonDict:
        """A channel post as Telegram copies it into the channel's linked discussion group."""
        channel = {"id": channel_id, "title": channel_title, "type": "channel"}
        content: JsonDict = {
            "sender_chat": channel,
            "is_automatic_forward": True,
            "forward_origin": {
                "type": "channel",
                "chat": channel,
                "message_id": channel_post_id or next(self._channel_post_ids),
                "date": int(time.time()),
            },
            "text": text,
        }
        # Telegram's service account (777000) is the sender of automatic forwards.
        service: Sender = {"first_name": "Telegram", "message_id": message_id}
        return self._group_update(chat_id, 777000, content, service)

    def discussion_comment(
        self,
        chat_id: int,
        user_id: int,
        text: str,
        thread_id: int,
        reply_to_message_id: int | None = None,
        **person: Unpack[Sender],
    ) -> JsonDict:
        """A comment under a channel post, in the channel's linked discussion group.

        It sits in the thread ``thread_id`` (the id of the post's automatic forward in the
        group) and replies to ``reply_to_message_id`` (the forward itself by default). A
        missing forward is put into the group's history, as Telegram would have made it.
        """
        if thread_id not in self._messages.get(chat_id, {}):
            forward = self.automatic_forward(chat_id, message_id=thread_id)["message"]
            self._absorb_message(forward, edited=False)
        person.setdefault("first_name", DEFAULT_FIRST_NAME)
        reply_to = thread_id if reply_to_message_id is None else reply_to_message_id
        content = _text_content(text)
        return self._group_update(
            chat_id, user_id, content, person, reply_to=reply_to, thread_id=thread_id
        )

    def callback_query(
        self,
        user_id: int,
        data: str,
        *,
        message: JsonDict | int | None = None,
        chat_id: int | None = None,
        first_name: str = DEFAULT_FIRST_NAME,
        last_name: str | None = None,
        username: str | None = None,
    ) -> JsonDict:
        """A press on an inline button under ``message`` (in ``chat_id``, else the user's chat)."""
        body: JsonDict = {
            "id": str(next(self._query_ids)),
            "from": _user(user_id, first_name, last_name, username),
            "chat_instance": str(-(chat_id or user_id)),
            "data": data,
        }
        if message is not None:
            body["message"] = dict(self._lookup(chat_id or user_id, message))
        return {"callback_query": body}

    def edited_text(self, chat_id: int, message_id: int, text: str) -> JsonDict:
        """An ``edited_message`` update: the person changed the text of a stored message."""
        edited = {k: v for k, v in self._lookup(chat_id, message_id).items() if k != "entities"}
        edited.update(_text_content(text), edit_date=int(time.time()))
        return {"edited_message": edited}

    def message_update(
        self,
        chat: JsonDict | int,
        from_user: JsonDict | int,
        *,
        update_type: str = "message",
        reply_to: JsonDict | int | None = None,
        **fields: Any,
    ) -> JsonDict:
        """Any message update: ``chat`` and ``from_user`` as dicts or ids, ``fields`` as is.

        A missing ``message_id`` is allocated in the chat; ``reply_to`` is resolved to the
        stored message like in the other helpers.
        """
        chat_dict = dict(chat) if isinstance(chat, Mapping) else self._chat_for_update(chat)
        user = (
            dict(from_user)
            if isinstance(from_user, Mapping)
            else _user(from_user, DEFAULT_FIRST_NAME)
        )
        message_id = fields.pop("message_id", None)
        message = self._compose(chat_dict, user, fields, message_id=message_id)
        if reply_to is not None:
            message["reply_to_message"] = self._lookup(chat_dict["id"], reply_to, snapshot=True)
        return {update_type: message}

    # ---- faults ---------------------------------------------------------------------------

    def fail_next(
        self,
        method: str | None,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
        *,
        chat_id: int | None = None,
        skip: int = 0,
    ) -> None:
        """The next ``count`` calls of ``method`` (None: of any method, getUpdates included) fail.

        ``description`` defaults to Telegram's wording for ``status``; a 429 always carries
        ``retry_after`` (1 unless given), as Telegram's do. With ``chat_id`` only calls to that
        chat count; the first ``skip`` of them succeed (a failure on the second part of a
        message sent in parts).
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            description = _STATUS_TEXT.get(status, "Error")
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
        error = _ApiError(status, description, retry_after=retry_after)
        self._one_shot.append(_OneShotFault(
            None if method is None else method.lower(), error, count, chat_id=chat_id, skip=skip
        ))

    def set_fault(self, mode: FaultMode | None) -> None:
        """Start a period of failure (see :class:`Faults`), replacing any current one."""
        self._fault = mode
        self._fault_until = (
            None
            if mode is None or mode.for_seconds is None
            else time.monotonic() + mode.for_seconds
        )

    def clear_faults(self) -> None:
        """Forget pending one-shot failures and end the current period."""
        self._one_shot.clear()
        self.set_fault(None)

    # ---- inspection -----------------------------------------------------------------------

    @property
    def requests(self) -> list[ApiRequest]:
        """Every API request so far, in order of arrival (failed ones too)."""
        return self._requests

    @property
    def getupdates_calls(self) -> list[ApiRequest]:
        """The getUpdates requests so far, logged as they arrive."""
        return self._getupdates_calls

    def calls(self, method: str | None = None, *, chat_id: int | None = None) -> list[ApiRequest]:
        """Requests that succeeded, of ``method`` and to ``chat_id`` if given."""
        wanted = None if method is None else method.lower()
        return [
            r
            for r in self._requests
            if r.status == 200
            and (wanted is None or r.method.lower() == wanted)
            and (chat_id is None or r.params.get("chat_id") == chat_id)
        ]

    def sent(self, chat_id: int | None = None, method: str | None = None) -> list[JsonDict]:
        """Messages the bot sent, copied or forwarded, oldest first.

        Each is ``{"method", "chat_id", "params", "message", "at"}``; ``message`` is the
        message as stored (for copyMessage, the copy).
        """
        records = self._sent if chat_id is None else self._sent_by_chat.get(chat_id, [])
        if method is None:
            return list(records)
        wanted = method.lower()
        return [r for r in records if r["method"].lower() == wanted]

    def sent_count(self, chat_id: int | None = None) -> int:
        """How many messages the bot sent (to ``chat_id``): :meth:`sent` without the copy."""
        return len(self._sent if chat_id is None else self._sent_by_chat.get(chat_id, ()))

    def messages_in(self, chat_id: int) -> list[JsonDict]:
        """What a person in the chat sees, in order: pushed messages and the bot's, as edited,
        without deleted ones. The dicts are the stored ones; do not change them."""
        return list(self._messages.get(chat_id, {}).values())

    def message(self, chat_id: int, message_id: int) -> JsonDict | None:
        """The stored message, or None if it never existed or was deleted."""
        return self._messages.get(chat_id, {}).get(message_id)

    async def wait_for(self, predicate: Callable[[], _T], timeout: float = 10) -> _T:
        """Wait until ``predicate()`` is truthy and return its value.

        It is checked again whenever a request arrives or finishes, an update is pushed or a
        message changes. Raises ``TimeoutError`` listing the last requests.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = ", ".join(f"{r.method}→{r.status}" for r in self._requests[-10:])
                raise TimeoutError(
                    f"condition not met in {timeout} s; last requests: {recent or 'none'}"
                )
            if self._changed is None:
                self._changed = asyncio.Event()
            changed = self._changed
            try:
                async with asyncio.timeout(remaining):
                    await changed.wait()
            except TimeoutError:
                pass

    async def wait_sent(
        self,
        count: int,
        chat_id: int | None = None,
        *,
        method: str | None = None,
        timeout: float = 10,
    ) -> list[JsonDict]:
        """Wait until the bot has sent at least ``count`` messages (to ``chat_id``); return
        them as :meth:`sent` does."""

        def enough() -> list[JsonDict]:
            if method is None:
                records = self._sent if chat_id is None else self._sent_by_chat.get(chat_id, [])
                return list(records) if len(records) >= count else []
            matching = self.sent(chat_id, method)
            return matching if len(matching) >= count else []

        if count <= 0:
            return self.sent(chat_id, method)
        return await self.wait_for(enough, timeout)

    # ---- HTTP -----------------------------------------------------------------------------

    async def _on_api(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        asked = request.match_info["method"]
        entry = self._methods.get(asked.lower())
        method = entry[0] if entry is not None else asked
        try:
            params = await self._read_params(request)
        except _ApiError as error:
            return self._error_response(error)

        record = ApiRequest(method=method, params=params, at=time.monotonic())
        self._requests.append(record)
        if method == "getUpdates":
            self._getupdates_calls.append(record)
        self._notify()
        try:
            if not _TOKEN.match(token):
                raise _ApiError(404, "Not Found")
            if token in self.rejected_tokens:
                raise _ApiError(401, "Unauthorized")
            hang = self._injected_fault(method, params)
            if hang is not None and not hang.execute:
                await self._stopped.wait()
                raise _ApiError(502, "Bad Gateway")
            if entry is None:
                raise _ApiError(404, "Not Found")
            result = entry[1](params)
            if inspect.isawaitable(result):  # getUpdates long-polls
                result = await result
            if hang is not None:  # carried out, but the answer never comes
                record.result = result
                await self._stopped.wait()
                raise _ApiError(502, "Bad Gateway")
        except _ApiError as error:
            record.status = error.code
            record.description = error.description
            self._notify()
            return self._error_response(error)
        record.status = 200
        record.result = result
        self._notify()
        body = json.dumps({"ok": True, "result": result}, ensure_ascii=False)
        return web.Response(body=body.encode(), content_type="application/json")

    async def _on_file(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        if token in self.rejected_tokens:
            return self._error_response(_ApiError(401, "Unauthorized"))
        stored = self._files_by_path.get(request.match_info["path"])
        if not _TOKEN.match(token) or stored is None:
            return self._error_response(_ApiError(404, "Not Found"))
        return web.Response(body=stored.data, content_type="application/octet-stream")

    @staticmethod
    def _error_response(error: _ApiError) -> web.Response:
        if error.html:
            page = (
                f"<html>\r\n<head><title>{error.code} {error.description}</title></head>\r\n"
                f"<body>\r\n<center><h1>{error.code} {error.description}</h1></center>\r\n"
                "<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n"
            )
            return web.Response(status=error.code, text=page, content_type="text/html")
        payload: JsonDict = {
            "ok": False,
            "error_code": error.code,
            "description": error.description,
        }
        if error.retry_after is not None:
            payload["parameters"] = {"retry_after": error.retry_after}
        if error.migrate_to_chat_id is not None:
            payload["parameters"] = {"migrate_to_chat_id": error.migrate_to_chat_id}
        return web.Response(
            status=error.code,
            body=json.dumps(payload, ensure_ascii=False).encode(),
            content_type="application/json",
        )

    async def _read_params(self, request: web.Request) -> JsonDict:
        raw: dict[str, Any] = dict(request.query)
        if request.method == "POST" and request.body_exists:
            if request.content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as error:
                    raise _bad_request("can't parse JSON encoded request") from error
                if isinstance(body, dict):
                    raw.update(body)
                return raw
            try:
                form = await request.post()
            except web.HTTPRequestEntityTooLarge as error:
                raise _ApiError(413, "Request Entity Too Large") from error
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    with value.file:
                        raw[key] = Upload(value.filename, value.content_type, value.file.read())
                elif isinstance(value, str):
                    raw[key] = value
                else:
                    raw[key] = bytes(value).decode(errors="replace")
        return _decode_params(raw)

    def _injected_fault(self, method: str, params: JsonDict) -> FaultMode | None:
        """Raise the error a fault prescribes for this call; return a timeout to act out."""
        for fault in self._one_shot:
            if fault.matches(method, params):
                if fault.skip > 0:
                    fault.skip -= 1
                    break
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._one_shot.remove(fault)
                raise fault.error
        mode = self._fault
        if mode is None:
            return None
        if self._fault_until is not None and time.monotonic() >= self._fault_until:
            self.set_fault(None)
            return None
        if not mode.applies_to(method):
            return None
        if mode.kind == "timeout":
            return mode
        raise _ApiError(
            mode.status, mode.description, retry_after=mode.retry_after, html=mode.html
        )

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    # ---- getUpdates -----------------------------------------------------------------------

    async def _get_updates(self, params: JsonDict) -> list[JsonDict]:
        if self._webhook_url:
            raise _ApiError(409, _WEBHOOK_CONFLICT)
        previous = self._poll_waiter
        if previous is not None:  # Telegram ends the older request
            previous.superseded = True
            previous.event.set()
            self._poll_waiter = None
        offset = self._int(params, "offset", default=0)
        limit = min(max(self._int(params, "limit", default=100), 1), 100)
        timeout = max(self._int(params, "timeout", default=0), 0)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates_given = [str(kind) for kind in allowed]
            self._allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES
        self._confirm(offset)
        if not self._pending and timeout > 0 and not self._stopped.is_set():
            waiter = _PollWaiter()
            self._poll_waiter = waiter
            try:
                async with asyncio.timeout(timeout):
                    await waiter.event.wait()
            except TimeoutError:
                pass
            finally:
                if self._poll_waiter is waiter:
                    self._poll_waiter = None
            if waiter.superseded:
                raise _ApiError(409, _CONFLICT)
        return list(itertools.islice(self._pending, limit))

    def _confirm(self, offset: int) -> None:
        pending = self._pending
        if offset < 0:  # the last -offset updates are kept, all earlier ones forgotten
            while len(pending) > -offset:
                pending.popleft()
            offset = pending[0]["update_id"] if pending else self._next_update_id
        elif offset == 0:
            return
        while pending and pending[0]["update_id"] < offset:
            pending.popleft()
        self._confirmed_offset = max(self._confirmed_offset, offset)

    # ---- messages: storing and building ---------------------------------------------------

    def _allocate_message_id(self, chat_id: int, wanted: int | None = None) -> int:
        next_id = self._next_message_id.get(chat_id, 1)
        message_id = next_id if wanted is None else wanted
        self._next_message_id[chat_id] = max(next_id, message_id + 1)
        return message_id

    def _compose(
        self,
        chat: JsonDict,
        sender: JsonDict,
        content: Mapping[str, Any],
        *,
        message_id: int | None = None,
        thread_id: int | None = None,
    ) -> JsonDict:
        message: JsonDict = {
            "message_id": self._allocate_message_id(chat["id"], message_id),
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
        }
        if thread_id is not None:
            message["message_thread_id"] = thread_id
            if chat.get("is_forum"):
                message["is_topic_message"] = True
        message.update(content)
        return message

    def _store(self, message: JsonDict) -> None:
        self._messages.setdefault(message["chat"]["id"], {})[message["message_id"]] = message

    def _absorb_message(self, message: JsonDict, *, edited: bool) -> None:
        """Store a message pushed in an update; learn its chat and sender."""
        chat = message["chat"]
        chat_id = chat["id"]
        if chat.get("type") == "private":
            self._private[chat_id] = chat
            self._started.add(chat_id)
        elif chat.get("type") != "channel" and chat_id not in self._groups:
            self._groups[chat_id] = chat
        if "message_id" not in message:
            message["message_id"] = self._allocate_message_id(chat_id)
        else:
            self._allocate_message_id(chat_id, message["message_id"])
        message.setdefault("date", int(time.time()))
        stored = self._messages.get(chat_id, {}).get(message["message_id"])
        if edited and stored is not None:
            stored.clear()
            stored.update(message)
        else:  # a copy: a later edit must not change the update still in the queue
            self._store(dict(message))

    def _lookup(self, chat_id: int, ref: JsonDict | int, *, snapshot: bool = False) -> JsonDict:
        message_id = ref["message_id"] if isinstance(ref, Mapping) else ref
        stored = self._messages.get(chat_id, {}).get(message_id)
        if stored is None:
            if not isinstance(ref, Mapping):
                raise LookupError(f"no message {message_id} in chat {chat_id}")
            stored = dict(ref)
        return _snapshot(stored) if snapshot else stored

    def _private_chat(self, user_id: int) -> JsonDict:
        chat = self._private.get(user_id)
        if chat is None:
            chat = {"id": user_id, "type": "private", "first_name": DEFAULT_FIRST_NAME}
            self._private[user_id] = chat
        return chat

    def _chat_for_update(self, chat_id: int) -> JsonDict:
        if chat_id > 0:
            return self._private_chat(chat_id)
        return self._groups.get(chat_id) or self.add_group(chat_id)

    def _private_update(self, user_id: int, content: JsonDict, person: PrivateSender) -> JsonDict:
        user = _person(user_id, person, DEFAULT_FIRST_NAME)
        chat = {k: v for k, v in user.items() if k not in ("is_bot", "language_code")}
        chat["type"] = "private"
        message = self._compose(chat, user, content, message_id=person.get("message_id"))
        if (reply_to := person.get("reply_to_message_id")) is not None:
            message["reply_to_message"] = self._lookup(user_id, reply_to, snapshot=True)
        return {"message": message}

    def _group_update(
        self,
        chat_id: int,
        user_id: int,
        content: JsonDict,
        person: Sender,
        *,
        reply_to: JsonDict | int | None = None,
        thread_id: int | None = None,
    ) -> JsonDict:
        chat = self._groups.get(chat_id) or self.add_group(chat_id)
        replied = None if reply_to is None else self._lookup(chat_id, reply_to, snapshot=True)
        if thread_id is None and replied is not None:
            thread_id = replied.get("message_thread_id")
        message = self._compose(
            chat,
            _person(user_id, person, "Мария"),
            content,
            message_id=person.get("message_id"),
            thread_id=thread_id,
        )
        if replied is not None:
            message["reply_to_message"] = replied
        return {"message": message}

    # ---- files ----------------------------------------------------------------------------

    def _store_file(
        self,
        kind: str,
        data: bytes | None,
        *,
        file_id: str | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        duration: int = 3,
        emoji: str = "👍",
    ) -> _StoredFile:
        number = next(self._file_numbers)
        payload = _SAMPLE_BYTES.get(kind, b"") if data is None else data
        folder, extension = _FILE_FOLDERS[kind]
        if file_name and "." in file_name:
            extension = file_name[file_name.rfind(".") :]
        file_id = file_id or f"{kind}-{number}"
        stored = _StoredFile(
            file_id=file_id,
            file_unique_id=f"u{kind[:3]}{number}",
            kind=kind,
            data=payload,
            file_path=f"{folder}/file_{number}{extension}",
        )
        base: JsonDict = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(payload),
        }
        if kind == "photo":
            thumb = _StoredFile(
                file_id=f"{file_id}-s",
                file_unique_id=f"{stored.file_unique_id}s",
                kind=kind,
                data=payload,
                file_path=f"{folder}/file_{number}_s{extension}",
            )
            sizes = [
                {
                    "file_id": thumb.file_id,
                    "file_unique_id": thumb.file_unique_id,
                    "file_size": len(payload),
                    "width": 90,
                    "height": 68,
                },
                {**base, "width": 1280, "height": 960},
            ]
            thumb.media = stored.media = sizes
            self._index_file(thumb)
        elif kind == "document":
            guessed = mimetypes.guess_type(file_name or "")[0]
            stored.media = {
                **base,
                "file_name": file_name or f"file_{number}{extension}",
                "mime_type": mime_type or guessed or "application/octet-stream",
            }
        elif kind == "voice":
            stored.media = {**base, "duration": duration, "mime_type": "audio/ogg"}
        elif kind == "video":
            stored.media = {
                **base,
                "width": 1280,
                "height": 720,
                "duration": duration,
                "mime_type": mime_type or "video/mp4",
            }
        else:  # sticker
            stored.media = {
                **base,
                "type": "regular",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "emoji": emoji,
            }
        self._index_file(stored)
        return stored

    def _index_file(self, stored: _StoredFile) -> None:
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored

    def _input_file(self, params: JsonDict, kind: str) -> _StoredFile:
        value = params.get(kind)
        if isinstance(value, Upload):
            duration = params.get("duration")
            return self._store_file(
                kind,
                value.data,
                file_name=value.filename,
                mime_type=value.content_type,
                duration=duration if isinstance(duration, int) else 3,
            )
        if not isinstance(value, str) or not value:
            raise _bad_request(f"there is no {kind} in the request")
        if value.startswith(("http://", "https://")):  # Telegram would download it
            return self._store_file(kind, None, file_name=value.rsplit("/", 1)[-1])
        stored = self._files.get(value)
        if stored is None:
            raise _bad_request("wrong file identifier/HTTP URL specified")
        if stored.kind != kind:
            raise _bad_request(
                f"can't use file of type {stored.kind.capitalize()} as {kind.capitalize()}"
            )
        return stored

    # ---- parameters -----------------------------------------------------------------------

    @staticmethod
    def _int(params: JsonDict, name: str, *, default: int | None = None) -> int:
        value = params.get(name)
        if value is None or value == "":
            if default is None:
                raise _bad_request(f"{name} is empty")
            return default
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INTEGER.match(value):
            return int(value)
        raise _bad_request(f"invalid {name} specified")

    def _formatted(self, params: JsonDict, name: str, entities_name: str) -> tuple[str, JsonDict]:
        """Parse ``params[name]`` with the parse mode; the visible text and message fields."""
        text = params.get(name)
        if not isinstance(text, str):
            text = ""
        given = params.get(entities_name)
        mode = params.get("parse_mode") or None
        try:
            visible, entities = parse_entities(
                text, mode, given if isinstance(given, list) else None
            )
        except EntityParseError as error:
            raise _bad_request(f"can't parse entities: {error}") from error
        except ValueError as error:
            raise _bad_request("unsupported parse_mode") from error
        fields: JsonDict = {name: visible}
        if entities:
            fields[entities_name] = entities
        return visible, fields

    def _text_fields(self, params: JsonDict) -> JsonDict:
        visible, fields = self._formatted(params, "text", "entities")
        if not visible:
            raise _bad_request("message text is empty")
        if utf16_len(visible) > TEXT_LIMIT:
            raise _bad_request("message is too long")
        return fields

    def _caption_fields(self, params: JsonDict) -> JsonDict:
        if not params.get("caption"):
            return {}
        visible, fields = self._formatted(params, "caption", "caption_entities")
        if utf16_len(visible) > CAPTION_LIMIT:
            raise _bad_request("message caption is too long")
        return fields if visible else {}

    def _chat(self, ref: Any, *, sending: bool) -> JsonDict:
        """The chat ``ref`` names, or Telegram's error for it."""
        if ref is None or ref == "":
            raise _bad_request("chat_id is empty")
        if isinstance(ref, str) and ref.startswith("@"):
            for known in self._groups.values():
                if known.get("username", "").lower() == ref[1:].lower():
                    ref = known["id"]
                    break
            else:
                raise _bad_request("chat not found")
        if not isinstance(ref, int) or isinstance(ref, bool):
            raise _bad_request("chat not found")
        if ref > 0:
            if sending and ref == BOT_ID:
                raise _ApiError(403, "Forbidden: bot can't send messages to bots")
            if sending and ref in self._blocked:
                raise _ApiError(403, "Forbidden: bot was blocked by the user")
            if sending and ref not in self._started:
                # A bot cannot write first: the user must have started it (or written to it).
                raise _ApiError(403, "Forbidden: bot can't initiate conversation with a user")
            return self._private_chat(ref)
        group = self._groups.get(ref)
        if group is None and ref in self._migrated:
            raise _ApiError(
                400, "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self._migrated[ref],
            )
        if group is None:
            raise _bad_request("chat not found")
        if ref in self._kicked:
            kind = "supergroup" if group["type"] == "supergroup" else "group"
            raise _ApiError(403, f"Forbidden: bot was kicked from the {kind} chat")
        if sending:
            self._check_bot_may_send(group)
        return group

    def _stored_message(self, chat_id: int, params: JsonDict, missing: str) -> JsonDict:
        message = self._messages.get(chat_id, {}).get(self._int(params, "message_id"))
        if message is None:
            raise _bad_request(missing)
        return message

    def _thread(self, chat: JsonDict, params: JsonDict) -> int | None:
        if params.get("message_thread_id") in (None, ""):
            return None
        thread_id = self._int(params, "message_thread_id")
        chat_id = chat["id"]
        if thread_id in self._topics.get(chat_id, {}) or thread_id in self._messages.get(
            chat_id, {}
        ):
            return thread_id
        if chat.get("is_forum") and thread_id == 1:  # the General topic
            return None
        raise _bad_request("message thread not found")

    def _reply_target(self, chat_id: int, params: JsonDict) -> JsonDict | None:
        reply = params.get("reply_parameters")
        if reply not in (None, ""):
            if not isinstance(reply, dict):
                raise _bad_request("can't parse reply parameters JSON object")
            message_id = self._int(reply, "message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
        elif params.get("reply_to_message_id") not in (None, ""):
            message_id = self._int(params, "reply_to_message_id")
            allow_missing = params.get("allow_sending_without_reply") is True
        else:
            return None
        target = self._messages.get(chat_id, {}).get(message_id)
        if target is None:
            if allow_missing:
                return None
            raise _bad_request("message to be replied not found")
        return _snapshot(target)

    def _check_flood(self, chat: JsonDict) -> None:
        if self.limits is None:
            return
        now = time.monotonic()
        chat_limit: _Window | _Bucket
        if chat["type"] == "private":
            bucket = self._buckets.get(chat["id"])
            if bucket is None:
                bucket = self._buckets[chat["id"]] = _Bucket(
                    self.limits.private_rate, self.limits.private_burst, now
                )
            chat_limit = bucket
        else:
            chat_limit = self._window(("chat", chat["id"]), *self.limits.per_group)
        limits = (self._window(("overall", 0), *self.limits.overall), chat_limit)
        wait = max(limit.wait_needed(now) for limit in limits)
        if wait > 0:
            raise _too_many_requests(max(1, math.ceil(wait)))
        for limit in limits:
            limit.hit(now)

    def _window(self, key: tuple[str, int], limit: int, seconds: float) -> _Window:
        window = self._windows.get(key)
        if window is None:
            window = self._windows[key] = _Window(limit, seconds)
        return window

    # ---- methods: sending -----------------------------------------------------------------

    def _deliver(self, method: str, params: JsonDict, content: JsonDict) -> JsonDict:
        """Put a bot message into the chat ``params`` names, the way every send method does."""
        chat = self._chat(params.get("chat_id"), sending=True)
        chat_id = chat["id"]
        if chat_id in self._muted:
            what = _RIGHTS_FOR.get(method, "text messages")
            raise _bad_request(f"not enough rights to send {what} to the chat")
        thread_id = self._thread(chat, params)
        replied = self._reply_target(chat_id, params)
        if thread_id is None and replied is not None:
            # A reply joins the replied message's thread; a reply to the automatic forward of
            # a channel post is a comment, in the thread that forward starts.
            thread_id = replied.get("message_thread_id") or (
                replied["message_id"] if replied.get("is_automatic_forward") else None
            )
        if chat.get("is_forum") and (chat_id, thread_id or 1) in self._closed_topics:
            raise _bad_request("TOPIC_CLOSED")
        self._check_flood(chat)
        message = self._compose(chat, self.me, content, thread_id=thread_id)
        if replied is not None:
            message["reply_to_message"] = replied
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # only inline keyboards come back in a Message
        self._store(message)
        record = {
            "method": method,
            "chat_id": chat_id,
            "params": params,
            "message": message,
            "at": time.monotonic(),
        }
        self._sent.append(record)
        self._sent_by_chat.setdefault(chat_id, []).append(record)
        return message

    def _send_message(self, params: JsonDict) -> JsonDict:
        return self._deliver("sendMessage", params, self._text_fields(params))

    def _send_media(self, method: str, kind: str, params: JsonDict) -> JsonDict:
        caption = self._caption_fields(params) if kind != "sticker" else {}
        stored = self._input_file(params, kind)
        media = stored.media
        if kind == "sticker" and isinstance(params.get("emoji"), str):
            media = {**media, "emoji": params["emoji"]}
        return self._deliver(method, params, {kind: media, **caption})

    def _send_photo(self, params: JsonDict) -> JsonDict:
        return self._send_media("sendPhoto", "photo", params)

    def _send_document(self, params: JsonDict) -> JsonDict:
        return self._send_media("sendDocument", "document", params)

    def _send_voice(self, params: JsonDict) -> JsonDict:
        return self._send_media("sendVoice", "voice", params)

    def _send_video(self, params: JsonDict) -> JsonDict:
        return self._send_media("sendVideo", "video", params)

    def _send_sticker(self, params: JsonDict) -> JsonDict:
        return self._send_media("sendSticker", "sticker", params)

    def _send_location(self, params: JsonDict) -> JsonDict:
        latitude, longitude = params.get("latitude"), params.get("longitude")
        if not isinstance(latitude, float) or not isinstance(longitude, float):
            raise _bad_request("wrong latitude or longitude specified")
        location = {"latitude": latitude, "longitude": longitude}
        return self._deliver("sendLocation", params, {"location": location})

    def _copy_message(self, params: JsonDict) -> JsonDict:
        source_chat = self._chat(params.get("from_chat_id"), sending=False)
        source = self._stored_message(source_chat["id"], params, "message to copy not found")
        content: JsonDict = {k: v for k, v in source.items() if k in _CONTENT_KEYS}
        if not content:
            raise _bad_request("message can't be copied")
        if _MEDIA_KEYS.intersection(content) and "caption" in params:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(self._caption_fields(params))
        message = self._deliver("copyMessage", params, content)
        return {"message_id": message["message_id"]}

    def _forward_message(self, params: JsonDict) -> JsonDict:
        source_chat = self._chat(params.get("from_chat_id"), sending=False)
        source = self._stored_message(source_chat["id"], params, "message to forward not found")
        content: JsonDict = {k: v for k, v in source.items() if k in _CONTENT_KEYS}
        if not content:
            raise _bad_request("message can't be forwarded")
        if "forward_origin" in source:
            origin = source["forward_origin"]
        elif "sender_chat" in source:
            origin = {
                "type": "channel" if source["sender_chat"]["type"] == "channel" else "chat",
                "chat": source["sender_chat"],
                "date": source["date"],
            }
            if origin["type"] == "channel":
                origin["message_id"] = source["message_id"]
        else:
            origin = {"type": "user", "sender_user": source["from"], "date": source["date"]}
        return self._deliver("forwardMessage", params, {"forward_origin": origin, **content})

    # ---- methods: changing messages -------------------------------------------------------

    def _edit_message_text(self, params: JsonDict) -> JsonDict | bool:
        if params.get("inline_message_id"):
            self._text_fields(params)
            return True
        fields = self._text_fields(params)
        chat = self._chat(params.get("chat_id"), sending=True)
        message = self._stored_message(chat["id"], params, "message to edit not found")
        if message["from"]["id"] != BOT_ID:
            raise _bad_request("message can't be edited")
        self._check_flood(chat)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        markup = params.get("reply_markup")
        markup = markup if isinstance(markup, dict) and "inline_keyboard" in markup else None
        if (
            message["text"] == fields["text"]
            and message.get("entities") == fields.get("entities")
            and message.get("reply_markup") == markup
        ):
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        message.pop("entities", None)
        message.pop("reply_markup", None)
        message.update(fields)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        return message

    def _edit_message_reply_markup(self, params: JsonDict) -> JsonDict | bool:
        """https://core.telegram.org/bots/api#editmessagereplymarkup: the bot's own message
        only; an empty or absent inline keyboard removes it; the same one is 400 «not
        modified»; an edit is recorded in `edits`."""
        if params.get("inline_message_id"):
            return True
        chat = self._chat(params.get("chat_id"), sending=True)
        message = self._stored_message(chat["id"], params, "message to edit not found")
        if message["from"]["id"] != BOT_ID:
            raise _bad_request("message can't be edited")
        self._check_flood(chat)
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if markup is not None and not (
            isinstance(markup, dict) and isinstance(markup.get("inline_keyboard"), list)
        ):
            raise _bad_request("REPLY_MARKUP_INVALID")
        markup = markup if markup and markup["inline_keyboard"] else None
        if message.get("reply_markup") == markup:
            raise _bad_request(_NOT_MODIFIED.removeprefix("Bad Request: "))
        message.pop("reply_markup", None)
        if markup is not None:
            message["reply_markup"] = markup
        message["edit_date"] = int(time.time())
        self.edits.append({"chat_id": chat["id"], "message_id": message["message_id"],
                           "reply_markup": markup})
        return message

    def _delete_message(self, params: JsonDict) -> bool:
        chat = self._chat(params.get("chat_id"), sending=False)
        messages = self._messages.get(chat["id"], {})
        if messages.pop(self._int(params, "message_id"), None) is None:
            raise _bad_request("message to delete not found")
        return True

    # ---- methods: everything else ---------------------------------------------------------

    def _get_me(self, params: JsonDict) -> JsonDict:
        return {
            **self.me,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _get_chat(self, params: JsonDict) -> JsonDict:
        chat = self._chat(params.get("chat_id"), sending=False)
        extra: JsonDict = {}
        if chat["type"] != "private":
            extra["permissions"] = self._permissions.get(chat["id"], _DEFAULT_PERMISSIONS)
        return {
            **chat,
            **extra,
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _get_chat_member(self, params: JsonDict) -> JsonDict:
        chat = self._chat(params.get("chat_id"), sending=False)
        user_id = self._int(params, "user_id")
        return self._member(chat, user_id)

    def _member(self, chat: JsonDict, user_id: int) -> JsonDict:
        """https://core.telegram.org/bots/api#chatmember, as getChatMember answers it."""
        if chat["type"] == "private":
            user = self.me if user_id == BOT_ID else _user(user_id, DEFAULT_FIRST_NAME, None, None)
            return {"status": "member", "user": user}
        known = self._members.get(chat["id"], {}).get(user_id)
        if known is not None:
            return known
        if user_id == BOT_ID:
            return _chat_member("administrator", self.me, {})
        seen = next(
            (m["from"] for m in self._messages.get(chat["id"], {}).values()
             if m.get("from", {}).get("id") == user_id),
            None,
        )
        if seen is None:
            return {"status": "left", "user": _user(user_id, DEFAULT_FIRST_NAME, None, None)}
        return {"status": "member", "user": seen}

    def _check_bot_may_send(self, chat: JsonDict) -> None:
        """Telegram's answers to a bot that is not in a group, or may not write there."""
        me = self._member(chat, BOT_ID)
        kind = "supergroup" if chat["type"] == "supergroup" else "group"
        if me["status"] in {"left", "kicked"} or (
            me["status"] == "restricted" and not me.get("is_member")
        ):
            raise _ApiError(403, f"Forbidden: bot is not a member of the {kind} chat")
        if me["status"] in {"creator", "administrator"}:
            return
        allowed = (
            me["can_send_messages"] if me["status"] == "restricted"
            else self._permissions.get(chat["id"], _DEFAULT_PERMISSIONS)["can_send_messages"]
        )
        if not allowed:
            raise _bad_request("not enough rights to send text messages to the chat")

    def _get_file(self, params: JsonDict) -> JsonDict:
        file_id = params.get("file_id")
        if not isinstance(file_id, str) or not file_id:
            raise _bad_request("file_id is empty")
        stored = self._files.get(file_id)
        if stored is None:
            raise _bad_request("wrong file_id or the file is temporarily unavailable")
        if len(stored.data) > DOWNLOAD_LIMIT:
            raise _bad_request("file is too big")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    def _send_chat_action(self, params: JsonDict) -> bool:
        self._chat(params.get("chat_id"), sending=True)
        return True

    def _set_my_commands(self, params: JsonDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request("can't parse commands JSON object")
        self._commands = commands
        return True

    def _delete_my_commands(self, params: JsonDict) -> bool:
        self._commands = []
        return True

    async def _set_webhook(self, params: JsonDict) -> bool:
        url = params.get("url")
        if not isinstance(url, str):
            raise _bad_request("bad webhook: URL must be specified")
        if not url:  # "If an empty string is passed, webhook integration will be removed"
            return await self._delete_webhook(params)
        if not url.startswith(("http://", "https://")):
            raise _bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _WEBHOOK_SECRET.match(str(secret)):
            raise _bad_request("secret token contains unallowed characters")
        connections = self._int(params, "max_connections", default=40)
        if not 1 <= connections <= 100:
            raise _bad_request("bad webhook: max_connections must be between 1 and 100")
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates_given = [str(kind) for kind in allowed]
            self._allowed_updates = frozenset(allowed) or DEFAULT_UPDATE_TYPES
        if params.get("drop_pending_updates") is True:
            self._drop_pending()
        if self._poll_waiter is not None:  # a long poll under way ends as the webhook is set
            self._poll_waiter.superseded = True
            self._poll_waiter.event.set()
        await self._stop_delivering()
        self._webhook_url = url
        self._webhook_secret = None if secret is None else str(secret)
        self._webhook_max_connections = connections
        self._webhook_error = None
        self._webhook_task = asyncio.get_running_loop().create_task(self._deliver_to_webhook())
        return True

    async def _delete_webhook(self, params: JsonDict) -> bool:
        await self._stop_delivering()
        self._webhook_url = ""
        self._webhook_secret = None
        if params.get("drop_pending_updates") is True:
            self._drop_pending()
        return True

    def _drop_pending(self) -> None:
        self._pending.clear()
        self._confirmed_offset = self._next_update_id

    def _get_webhook_info(self, params: JsonDict) -> JsonDict:
        info: JsonDict = {
            "url": self._webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook_url:
            info["max_connections"] = self._webhook_max_connections
            info["ip_address"] = self._host
        if self._webhook_error is not None:
            info["last_error_date"], info["last_error_message"] = self._webhook_error
        if self._allowed_updates_given is not None:
            info["allowed_updates"] = self._allowed_updates_given
        return info

    # ---- webhook delivery -----------------------------------------------------------------

    async def _stop_delivering(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_to_webhook(self) -> None:
        """Post the pending updates to the webhook, oldest first, until it is deleted."""
        async with aiohttp.ClientSession() as session:
            while not self._stopped.is_set():
                if not self._pending:
                    self._webhook_signal.clear()
                    await self._webhook_signal.wait()
                    continue
                update = self._pending[0]
                delivered = await self._post_until_taken(session, update)
                if self._pending and self._pending[0] is update:
                    self._pending.popleft()
                if not delivered:
                    self.webhook_given_up.append(update["update_id"])
                self._confirmed_offset = max(self._confirmed_offset, update["update_id"] + 1)
                self._notify()

    async def _post_until_taken(self, session: aiohttp.ClientSession, update: JsonDict) -> bool:
        first_try = time.monotonic()
        pause, longest = self.webhook_retry
        while True:
            record = await self._post(session, update)
            self.webhook_deliveries.append(record)
            self._notify()
            if record.ok:
                return True
            self._webhook_error = (int(time.time()), record.error or "")
            if time.monotonic() + pause - first_try > self.webhook_give_up_after:
                return False
            await asyncio.sleep(pause)
            pause = min(pause * 2, longest)

    async def _post(self, session: aiohttp.ClientSession, update: JsonDict) -> WebhookDelivery:
        headers = {"Content-Type": "application/json"}
        if self._webhook_secret is not None:
            headers[SECRET_HEADER] = self._webhook_secret
        body = json.dumps(update, ensure_ascii=False).encode()
        status: int | None = None
        try:
            async with session.post(
                self._webhook_url, data=body, headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as answer:
                await answer.read()
                status = answer.status
                error = f"Wrong response from the webhook: {answer.status} {answer.reason}"
        except TimeoutError:
            error = "Read timeout expired"
        except aiohttp.ClientError:
            error = "Connection refused"
        ok = status is not None and 200 <= status < 300
        return WebhookDelivery(update["update_id"], status, None if ok else error,
                               time.monotonic())

    def _answer_callback_query(self, params: JsonDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._callback_queries:
            raise _bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._callback_queries.discard(query_id)
        return True

    def _create_forum_topic(self, params: JsonDict) -> JsonDict:
        chat = self._chat(params.get("chat_id"), sending=True)
        if not chat.get("is_forum"):
            raise _bad_request("the chat is not a forum")
        name = params.get("name")
        if not isinstance(name, str) or not 1 <= len(name) <= 128:
            raise _bad_request("invalid forum topic name specified")
        icon_color = self._int(params, "icon_color", default=7322096)
        topic = {"name": name, "icon_color": icon_color}
        message = self._compose(chat, self.me, {"forum_topic_created": topic})
        thread_id = message["message_id"]
        message["message_thread_id"] = thread_id
        message["is_topic_message"] = True
        self._store(message)
        self._topics.setdefault(chat["id"], {})[thread_id] = topic
        return {"message_thread_id": thread_id, **topic}
