"""Property-based tests: renderers and splitters hold for arbitrary Unicode."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.telegram.split import TEXT_LIMIT, split_html, split_plain, visible_length
from handlers import render
from handlers.model import Inbound
from handlers.texts import Texts, escape
from storage.values import Attachment, Channel, Platform
from tests.fakes.telegram import parse_entities, utf16_len

TEXTS = Texts("ru")
# Everything but lone surrogates, which no platform can carry.
UNICODE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=3000)
NAMES = st.text(st.characters(blacklist_categories=("Cs",)), min_size=0, max_size=80)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def inbound(text: str, name: str, attachments: tuple[Attachment, ...] = ()) -> Inbound:
    return Inbound(
        platform=Platform.VK, channel=Channel.COMMENT, chat_id="-1_2", author_id="3",
        author_name=name, message_id="4", text=text, attachments=attachments,
        author_link="https://vk.com/id3", link="https://vk.com/wall-1_2?reply=4",
    )


@FAST
@given(UNICODE)
def test_escaped_text_reads_back_as_itself(text: str) -> None:
    visible, entities = parse_entities(escape(text), "HTML")
    assert entities == [] or all(e["type"] != "text_link" for e in entities)
    # Telegram trims the ends by its own notion of white space; compare what is inside.
    assert visible.strip() == text.strip()


@FAST
@given(UNICODE, NAMES, st.lists(st.sampled_from(["photo", "sticker", "zzz"]), max_size=3))
def test_card_is_valid_markup_showing_the_cleaned_text(
    text: str, name: str, kinds: list[str]
) -> None:
    attachments = tuple(Attachment(kind, name=name) for kind in kinds)
    card = render.card_html(
        TEXTS, 7, inbound(text, name, attachments), datetime(2026, 1, 1, tzinfo=UTC),
        ZoneInfo("Europe/Moscow"),
    )
    visible, entities = parse_entities(card, "HTML")  # raises on broken markup
    assert visible.startswith("№7 ")
    shown = render.clean(text).strip()
    if shown:
        assert shown in visible
    links = [e["url"] for e in entities if e["type"] == "text_link"]
    assert all(url.startswith("https://vk.com/") for url in links)




# Splitting is only exercised by texts over the limit: a filler that ends within a few units of
# it (either side), then what is hard to break at — surrogate pairs, a family emoji joined by
# ZWJ, characters HTML escapes into entities, line ends — then a tail of any length.
CHAR = st.characters(blacklist_categories=("Cs",))
HARD = st.sampled_from(["😀", "👨\u200d👩\u200d👧", "𝕏", "&", "<", ">", "&amp;", "\n", " ", "ё"])


def utf16_fit(text: str, units: int) -> str:
    """The longest start of `text` within `units` UTF-16 units (a surrogate pair kept whole)."""
    out, used = [], 0
    for char in text:
        used += 2 if ord(char) > 0xFFFF else 1
        if used > units:
            break
        out.append(char)
    return "".join(out)


@st.composite
def long_texts(draw: st.DrawFn) -> str:
    word = draw(st.text(CHAR, min_size=1, max_size=12).filter(str.strip))
    gap = draw(st.sampled_from(["", " ", "\n", " \n "]))
    head = draw(st.integers(TEXT_LIMIT - 40, TEXT_LIMIT + 2))
    filler = (word + gap) * (head // utf16_len(word + gap) + 1)
    boundary = "".join(draw(st.lists(HARD, min_size=1, max_size=8)))
    tail = draw(st.text(CHAR, max_size=60)) + (word + gap) * draw(st.integers(0, 700))
    text = utf16_fit(filler, head) + boundary + tail + word
    return text if utf16_len(text) > TEXT_LIMIT else text + word * TEXT_LIMIT


LONG = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@LONG
@given(long_texts())
def test_plain_split_fits_and_keeps_every_word(text: str) -> None:
    assert utf16_len(text) > TEXT_LIMIT
    parts = split_plain(text)
    assert len(parts) > 1
    assert all(0 < visible_length(p) <= TEXT_LIMIT for p in parts)
    assert "".join(text.split()) == "".join("".join(parts).split())


@LONG
@given(long_texts(), st.sampled_from(["b", "i", "code"]))
def test_html_split_parts_parse_fit_and_keep_every_word(text: str, tag: str) -> None:
    assert utf16_len(text) > TEXT_LIMIT
    markup = f"<b>№1</b> · header\n\n<{tag}>{escape(text)}</{tag}>"
    parts = split_html(markup)
    assert len(parts) > 1
    seen = []
    for part in parts:
        visible, _ = parse_entities(part, "HTML")
        assert utf16_len(visible) <= TEXT_LIMIT
        seen.append(visible)
    expected = "".join(f"№1 · header{text}".split())
    assert "".join("".join(seen).split()) == expected


def _control_characters(text: str) -> set[str]:
    """Unicode category Cc (C0, DEL, C1) other than newline and tab."""
    import unicodedata  # noqa: PLC0415
    return {c for c in text if unicodedata.category(c) == "Cc" and c not in "\n\t"}


# Text with control characters mixed in, C1 (U+0080–U+009F) above all.
WITH_CONTROLS = st.text(
    st.one_of(
        st.characters(blacklist_categories=("Cs",)),
        st.characters(min_codepoint=0x00, max_codepoint=0x9F),
    ),
    max_size=600,
)


@FAST
@given(WITH_CONTROLS, WITH_CONTROLS, WITH_CONTROLS)
def test_no_control_character_reaches_cards_escalations_or_the_queue(
    text: str, name: str, attachment_name: str
) -> None:
    from dataclasses import replace  # noqa: PLC0415
    from datetime import timedelta  # noqa: PLC0415

    from handlers.config import DeskConfig  # noqa: PLC0415
    from handlers.escalation import escalation_message  # noqa: PLC0415
    from handlers.queue import queue_line  # noqa: PLC0415
    from storage.base import Ticket  # noqa: PLC0415

    zone = ZoneInfo("Europe/Moscow")
    message = inbound(text, name, (Attachment("document", name=attachment_name),
                                   Attachment("zzz", name=attachment_name)))
    rendered = [
        render.card_html(TEXTS, 7, message, datetime(2026, 1, 1, tzinfo=UTC), zone),
        render.message_html(TEXTS, text, message.attachments),
        render.summary(TEXTS, message),
    ]
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    ticket = Ticket(
        id=7, platform=Platform.VK, channel=Channel.COMMENT, chat_id="-1_2", conversation="c",
        citizen_id="3", citizen_name=name, citizen_link="", thread_id=None, reply_to=None,
        link="", summary=text, status="open", opened_at=moment, waiting_since=moment,
        deadline_at=moment, first_answer_at=None, last_answer_at=None, closed_at=None,
        escalation_level=0, next_escalation_at=moment, card_chat_id="-1001", card_message_id="5",
        unreachable=None,
    )
    config = DeskConfig(staff_chat_id="-1001", timezone=zone, escalation_after=timedelta(hours=1))
    for level in (1, 2, 3):
        rendered.append(escalation_message(TEXTS, config, ticket, level, timedelta(hours=2)).text)

    class Clock:
        def working_time_between(self, start: datetime, end: datetime) -> timedelta:
            return end - start

    rendered.append(queue_line(TEXTS, Clock(), replace(ticket), moment))  # type: ignore[arg-type]
    for shown in rendered:
        assert _control_characters(shown) == set()


def test_c1_control_characters_are_kept_off_a_card() -> None:
    text = "Свет\x85 не\x9b горит\x80\x9f\tдом\n5"
    card = render.card_html(
        TEXTS, 7, inbound(text, "Анна\x9c"), datetime(2026, 1, 1, tzinfo=UTC),
        ZoneInfo("Europe/Moscow"),
    )
    assert "Свет не горит\tдом\n5" in card
    assert "Анна<" in card and _control_characters(card) == set()


@FAST
@given(st.one_of(UNICODE, long_texts(), st.text(" \n\t\u202e\x00", max_size=5)))
def test_summary_is_the_start_of_the_cleaned_text_on_one_line(text: str) -> None:
    summary = render.summary(TEXTS, inbound(text, "x"))
    flat = " ".join(render.clean(text).split())
    assert "\n" not in summary and len(summary) <= render.SUMMARY_LENGTH
    if not flat:
        assert summary == TEXTS.get("empty-text")
    elif len(flat) <= render.SUMMARY_LENGTH:
        assert summary == flat
    else:
        assert len(summary) == render.SUMMARY_LENGTH and summary.endswith("…")
        assert flat.startswith(summary[:-1])
