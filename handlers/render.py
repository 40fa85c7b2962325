"""How tickets read: cards for staff, words for what cannot be shown."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from handlers.model import Attachment, Channel, Inbound, Platform
from handlers.texts import Texts, escape

SUMMARY_LENGTH = 200


def describe(texts: Texts, attachments: Iterable[Attachment]) -> list[str]:
    """Each attachment in words: «[стикер]», «[документ: act.pdf]»."""
    words = []
    for item in attachments:
        key = f"att-{item.kind}"
        name = item.name or "none"
        try:
            words.append(texts.get(key, name=name))
        except Exception:  # an attachment kind the locale has no words for
            words.append(texts.get("att-other", name=item.name or item.kind))
    return words


def message_words(texts: Texts, text: str, attachments: Iterable[Attachment]) -> str:
    """A message as plain words: its text and its attachments described."""
    parts = [text.strip()] if text.strip() else []
    parts.extend(describe(texts, attachments))
    return "\n".join(parts) or texts.get("empty-text")


def message_html(texts: Texts, text: str, attachments: Iterable[Attachment]) -> str:
    """The same, escaped for a staff card, with links where an attachment has one."""
    parts = [escape(text.strip())] if text.strip() else []
    for item, words in zip(list(attachments), describe(texts, attachments), strict=False):
        if item.url.startswith(("https://", "http://")):
            parts.append(f'<a href="{escape(item.url)}">{escape(words)}</a>')
        else:
            parts.append(escape(words))
    return "\n".join(parts) or escape(texts.get("empty-text"))


def summary(texts: Texts, inbound: Inbound) -> str:
    """The start of a ticket's first message, for escalations and the queue."""
    words = message_words(texts, inbound.text, inbound.attachments)
    flat = " ".join(words.split())
    return flat if len(flat) <= SUMMARY_LENGTH else flat[: SUMMARY_LENGTH - 1] + "…"


def citizen_html(texts: Texts, name: str, link: str) -> str:
    if link.startswith(("https://", "http://", "tg://")):
        return texts.html("card-link", url=link, name=name)
    return escape(name)


def card_html(
    texts: Texts, number: int, inbound: Inbound, deadline: datetime | None, tz: tzinfo
) -> str:
    """The staff card of a new ticket."""
    body = message_html(texts, inbound.text, inbound.attachments)
    if inbound.link:
        body += "\n" + texts.html("card-post-link", url=inbound.link)
    header = texts.get(
        "card",
        number=number,
        platform=platform_name(texts, inbound.platform),
        channel=channel_name(texts, inbound.channel),
        citizen=citizen_html(texts, inbound.author_name, inbound.author_link),
        deadline=texts.moment(deadline.astimezone(tz)) if deadline else "—",
    )
    return f"{header}\n\n{body}"


def with_body(header: str, body: str) -> str:
    """A header from the texts and a citizen's text after it (Fluent caps placeables)."""
    return f"{header}\n\n{body}"


def platform_name(texts: Texts, platform: Platform) -> str:
    return texts.get(f"platform-{platform.value}")


def channel_name(texts: Texts, channel: Channel) -> str:
    return texts.get(f"channel-{channel.value}")
