"""How tickets read: cards for staff, words for what cannot be shown."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from handlers.calendar import BusinessHours, DayHours
from handlers.model import Inbound
from handlers.texts import Texts, TextsError, escape
from storage.base import MessageRecord, Ticket
from storage.values import Attachment, Channel, Platform

SUMMARY_LENGTH = 200

# Bidi overrides and isolates would reorder the card around a citizen's text; control
# characters (Unicode category Cc: C0, DEL and the C1 block U+0080–U+009F) have no business
# on a screen, except newline and tab. The stored text keeps them.
_INVISIBLE = {
    **{c: None for c in range(0x00, 0x20) if c not in (0x09, 0x0A)},
    **{c: None for c in range(0x7F, 0xA0)},
    **{c: None for c in range(0x202A, 0x202F)},
    **{c: None for c in range(0x2066, 0x206A)},
}


def clean(text: str) -> str:
    """A citizen's text as it may be shown: no reordering marks, no control characters."""
    return text.translate(_INVISIBLE)


def describe(texts: Texts, attachments: Iterable[Attachment]) -> list[str]:
    """Each attachment in words: «[стикер]», «[документ: act.pdf]»; never a raw type name."""
    words = []
    for item in attachments:
        name = clean(item.name).strip() or "none"
        try:
            words.append(texts.get(f"att-{item.kind}", name=name))
        except TextsError:  # a kind the operator's texts have no words for
            words.append(_unknown(texts))
    return words


def _unknown(texts: Texts) -> str:
    try:
        return texts.get("att-unknown", name="none")
    except TextsError:
        return "[…]"


def message_words(texts: Texts, text: str, attachments: Iterable[Attachment]) -> str:
    """A message as plain words: its text and its attachments described."""
    text = clean(text).strip()
    parts = [text] if text else []
    parts.extend(describe(texts, attachments))
    return "\n".join(parts) or texts.get("empty-text")


def message_html(texts: Texts, text: str, attachments: Iterable[Attachment]) -> str:
    """The same, escaped for a staff card, with links where an attachment has one."""
    text = clean(text).strip()
    parts = [escape(text)] if text else []
    items = list(attachments)
    for item, words in zip(items, describe(texts, items), strict=True):
        if item.url.startswith(("https://", "http://")):
            parts.append(f'<a href="{escape(item.url)}">{escape(words)}</a>')
        else:
            parts.append(escape(words))
    return "\n".join(parts) or escape(texts.get("empty-text"))


def visible_length(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji is two)."""
    return len(text.encode("utf-16-le")) // 2


def summary(texts: Texts, inbound: Inbound) -> str:
    """The start of a ticket's first message, for escalations and the queue."""
    words = message_words(texts, inbound.text, inbound.attachments)
    flat = " ".join(words.split())
    return flat if len(flat) <= SUMMARY_LENGTH else flat[: SUMMARY_LENGTH - 1] + "…"


def citizen_html(texts: Texts, name: str, link: str) -> str:
    name = clean(name).strip() or "—"
    if link.startswith(("https://", "http://", "tg://")):
        return texts.html("card-link", url=link, name=name)
    return escape(name)


def card_html(
    texts: Texts, number: int, inbound: Inbound, deadline: datetime | None, tz: tzinfo,
    *, local_deadline: str | None = None, department: str | None = None,
) -> str:
    """The staff card of a new ticket; with the department it is routed to, if any."""
    body = message_html(texts, inbound.text, inbound.attachments)
    if inbound.link:
        body += "\n" + texts.html("card-post-link", url=inbound.link)
    header = texts.get(
        "card",
        number=number,
        platform=platform_name(texts, inbound.platform),
        channel=channel_name(texts, inbound.channel),
        citizen=citizen_html(texts, inbound.author_name, inbound.author_link),
        deadline=local_deadline
        or (texts.moment(deadline.astimezone(tz)) if deadline else "—"),
    )
    if department:
        header += "\n" + texts.html("card-department", department=department)
    return f"{header}\n\n{body}"


def with_body(header: str, body: str) -> str:
    """A header from the texts and a citizen's text after it (Fluent caps placeables)."""
    return f"{header}\n\n{body}"


def platform_name(texts: Texts, platform: Platform) -> str:
    return texts.get(f"platform-{platform.value}")


def channel_name(texts: Texts, channel: Channel) -> str:
    return texts.get(f"channel-{channel.value}")


def greeting(
    texts: Texts, *, hours: str, organization: str = "", site_url: str = "",
    feedback_url: str = "", policy_url: str = "", retention_days: int = 1095,
) -> str:
    """What a citizen reads on /start and /help: who answers, when, and how their data is used
    and for how long (RETENTION_DAYS)."""
    name = organization.strip() or texts.get("organization-unnamed")
    parts = [texts.get("greeting", organization=name, hours=hours)]
    if site_url:
        parts.append(texts.get("greeting-site", url=site_url))
    if feedback_url:
        parts.append(texts.get("greeting-feedback", url=feedback_url))
    notice = texts.get("privacy-notice", organization=name, days=retention_days)
    if policy_url:
        notice += "\n" + texts.get("privacy-policy", url=policy_url)
    return "\n".join(parts) + "\n\n" + notice


def hours_words(texts: Texts, hours: BusinessHours) -> str:
    """Working hours as citizens read them: «Пн–Чт 09:00–18:00, Пт 09:00–16:45»."""
    if hours.always_open:
        return texts.get("hours-always")
    names = texts.get("weekdays").split()
    groups: list[tuple[int, int, DayHours]] = []  # first day, last day, their hours
    for day, span in enumerate(hours.week):
        if span is None:
            continue
        if groups and groups[-1][1] == day - 1 and groups[-1][2] == span:
            groups[-1] = (groups[-1][0], day, span)
        else:
            groups.append((day, day, span))
    parts = []
    for first, last, span in groups:
        days = names[first] if first == last else f"{names[first]}–{names[last]}"
        parts.append(f"{days} {_clock(span.opens)}–{_clock(span.closes)}")
    return ", ".join(parts)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


MOVED_CARD_MESSAGES = 5  # the citizen's latest messages a re-posted card shows


def moved_card_html(
    texts: Texts, ticket: Ticket, messages: Iterable[MessageRecord], tz: tzinfo, *,
    department: str | None, moved_from: str, moved_by: str,
) -> str:
    """The card of a ticket passed to another department, from what the store keeps: who
    passed it on, the card's header, the citizen's latest messages."""
    header = texts.get(
        "card",
        number=ticket.id,
        platform=platform_name(texts, ticket.platform),
        channel=channel_name(texts, ticket.channel),
        citizen=citizen_html(texts, ticket.citizen_name, ticket.citizen_link),
        deadline=texts.moment(ticket.deadline_at.astimezone(tz)) if ticket.deadline_at else "—",
    )
    if department:
        header += "\n" + texts.html("card-department", department=department)
    said = [m for m in messages if m.direction == "in"][-MOVED_CARD_MESSAGES:]
    body = "\n\n".join(message_html(texts, m.text, m.attachments) for m in said)
    if ticket.link:
        body += "\n" + texts.html("card-post-link", url=ticket.link)
    moved = texts.html("move-card-header", number=ticket.id, **{"from": moved_from},
                       by=clean(moved_by).strip() or "—")
    return f"{moved}\n{header}\n\n{body or escape(texts.get('empty-text'))}"
