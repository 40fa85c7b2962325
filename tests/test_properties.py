"""Property-based tests: renderers and splitters hold for arbitrary Unicode."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.telegram.split import TEXT_LIMIT, split_html, split_plain, visible_length
from handlers import render
from handlers.model import Attachment, Channel, Inbound, Platform
from handlers.texts import Texts, escape
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


@FAST
@given(UNICODE)
def test_summary_is_short_and_single_line(text: str) -> None:
    summary = render.summary(TEXTS, inbound(text, "x"))
    assert len(summary) <= render.SUMMARY_LENGTH and "\n" not in summary and summary


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12_000))
def test_plain_split_fits_and_keeps_every_word(text: str) -> None:
    parts = split_plain(text)
    assert all(visible_length(p) <= TEXT_LIMIT for p in parts)
    assert "".join(text.split()) == "".join("".join(parts).split())


@settings(max_examples=60, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=12_000),
       st.sampled_from(["b", "i", "code"]))
def test_html_split_parts_parse_fit_and_keep_every_word(text: str, tag: str) -> None:
    markup = f"<b>№1</b> · header\n\n<{tag}>{escape(text)}</{tag}>"
    parts = split_html(markup)
    seen = []
    for part in parts:
        visible, _ = parse_entities(part, "HTML")
        assert utf16_len(visible) <= TEXT_LIMIT
        seen.append(visible)
    expected = "".join(f"№1 · header{text}".split())
    assert "".join("".join(seen).split()) == expected
