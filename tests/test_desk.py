"""The front desk's logic against a real SQLite store, without any platform library."""

from __future__ import annotations

import json
from dataclasses import fields, replace
from datetime import UTC, datetime

from handlers import render
from handlers.calendar import BusinessHours
from handlers.commands import command_of
from handlers.desk import FrontDesk
from handlers.model import Event, Inbound
from handlers.texts import Texts
from storage import OutboxItem, SqliteStore
from storage.values import Attachment, Channel, Outbound, Platform, Purpose
from tests.conftest import STAFF_CHAT, FixedClock


def citizen(text: str, message_id: int = 1, user: int = 42, **kw: object) -> Inbound:
    return Inbound(
        platform=Platform.TELEGRAM, channel=Channel.DIRECT, chat_id=str(user),
        author_id=str(user), author_name="Иван Петров", message_id=str(message_id),
        text=text, author_link=f"tg://user?id={user}", **kw,  # type: ignore[arg-type]
    )


def staff(text: str, reply_to: str | None, message_id: int = 900, **kw: object) -> Inbound:
    return Inbound(
        platform=Platform.TELEGRAM, channel=Channel.DIRECT, chat_id=STAFF_CHAT,
        author_id="7", author_name="Оператор", message_id=str(message_id), text=text,
        html_text=kw.pop("html_text", text),  # type: ignore[arg-type]
        reply_to=reply_to, is_staff_chat=True, **kw,  # type: ignore[arg-type]
    )


async def outbox(store: SqliteStore) -> list[OutboxItem]:
    return await store.due_outbox(datetime(2100, 1, 1, tzinfo=UTC), 1000)


async def send_all(store: SqliteStore, first_id: int = 5000) -> list[Outbound]:
    """Pretend every pending row was delivered, with increasing message ids."""
    sent = []
    for offset, item in enumerate(await outbox(store)):
        await store.outbox_sent(item, [str(first_id + offset)])
        sent.append(item.outbound)
    return sent


async def test_first_message_opens_ticket_with_ack_and_card(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("Во дворе не вывозят мусор"))
    rows = [i.outbound for i in await outbox(store)]
    assert [o.purpose for o in rows] == [Purpose.ACK, Purpose.CARD]
    ack, card = rows
    assert ack.chat_id == "42"
    # Tuesday 10:00 + 8 working hours = Tuesday 18:00 (Mon-Fri 09-18).
    assert ack.text == "Ваше сообщение №1 получено. Ответим до 24 ноября, 18:00."
    assert card.chat_id == STAFF_CHAT and card.html
    assert "<b>№1</b>" in card.text and "Во дворе не вывозят мусор" in card.text
    assert '<a href="tg://user?id=42">Иван Петров</a>' in card.text
    ticket = await store.ticket(1)
    assert ticket is not None and ticket.is_open and ticket.waiting_since is not None


async def test_follow_up_joins_open_ticket_without_new_ack(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("первое", 1))
    await send_all(store)
    await desk.receive(citizen("второе", 2))
    rows = [i.outbound for i in await outbox(store)]
    assert [o.purpose for o in rows] == [Purpose.FOLLOW_UP]
    assert rows[0].reply_to_card and "№1" in rows[0].text and "второе" in rows[0].text
    assert [m.text for m in await store.messages(1)] == ["первое", "второе"]


async def test_same_message_twice_creates_nothing_twice(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("дубль", 5))
    await desk.receive(citizen("дубль", 5))
    assert len(await outbox(store)) == 2
    assert len(await store.messages(1)) == 1


async def test_citizen_html_is_escaped_on_the_card(desk: FrontDesk, store: SqliteStore) -> None:
    await desk.receive(citizen('<b>жирный</b> & <a href="x">ссылка</a>'))
    card = (await outbox(store))[1].outbound
    assert "&lt;b&gt;жирный&lt;/b&gt; &amp; &lt;a href=\"x\"&gt;" in card.text


async def test_staff_reply_to_card_answers_citizen_and_records_first_answer(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await desk.receive(citizen("вопрос"))
    await send_all(store)  # the card becomes message 5001 in the staff chat
    clock.advance(minutes=30)
    await desk.receive(staff("Ответ <b>готов</b>", "5001", html_text="Ответ <b>готов</b>"))
    answer = (await outbox(store))[0].outbound
    assert answer.purpose is Purpose.ANSWER and answer.chat_id == "42"
    assert answer.text == "Ответ на ваше сообщение №1:\n\nОтвет <b>готов</b>"
    ticket = await store.ticket(1)
    assert ticket is not None
    assert ticket.first_answer_at == clock.moment and ticket.waiting_since is None


async def test_staff_talk_without_reply_is_ignored(desk: FrontDesk, store: SqliteStore) -> None:
    await desk.receive(citizen("вопрос"))
    await send_all(store)
    await desk.receive(staff("коллеги, кто на смене?", None))
    await desk.receive(staff("ответ на чужое сообщение", "12345"))
    assert await outbox(store) == []


async def test_close_then_new_message_opens_new_ticket(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("вопрос", 1))
    await send_all(store)
    await desk.receive(staff("/close", "5001"))
    rows = [i.outbound for i in await outbox(store)]
    assert [o.purpose for o in rows] == [Purpose.CLOSING, Purpose.STAFF_NOTICE]
    assert rows[0].text.startswith("Работа по сообщению №1 завершена.")
    await send_all(store, 6000)
    await desk.receive(citizen("снова я", 2))
    rows = [i.outbound for i in await outbox(store)]
    assert rows[0].purpose is Purpose.ACK and "№2" in rows[0].text


async def test_citizen_message_after_answer_waits_again(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    await desk.receive(citizen("вопрос", 1))
    await send_all(store)
    await desk.receive(staff("ответ", "5001"))
    await send_all(store, 6000)
    clock.advance(hours=1)
    await desk.receive(citizen("уточнение", 2))
    ticket = await store.ticket(1)
    assert ticket is not None
    assert ticket.waiting_since == clock.moment and ticket.next_escalation_at is not None


async def test_reply_to_merged_card_needs_a_number(desk: FrontDesk, store: SqliteStore) -> None:
    await desk.receive(citizen("первый", 1, user=41))
    await desk.receive(citizen("второй", 1, user=42))
    items = await outbox(store)
    cards = [i for i in items if i.outbound.purpose is Purpose.CARD]
    await store.outbox_sent_many(cards, ["7000"])  # both cards merged into one message
    for item in items:
        if item not in cards:
            await store.outbox_sent(item, ["1"])
    await desk.receive(staff("без номера", "7000"))
    notice = (await outbox(store))[0].outbound
    assert notice.purpose is Purpose.STAFF_NOTICE and "№1" in notice.text
    await store.outbox_sent((await outbox(store))[0], ["7001"])
    await desk.receive(staff("№2 ответ второму", "7000", message_id=901))
    answer = (await outbox(store))[0].outbound
    assert answer.chat_id == "42" and answer.text.endswith("ответ второму")


async def test_sticker_only_message_is_described_in_words(
    desk: FrontDesk, store: SqliteStore
) -> None:
    await desk.receive(citizen("", attachments=(Attachment("sticker", "file-1", "😀"),)))
    rows = [i.outbound for i in await outbox(store)]
    assert "[стикер 😀]" in rows[1].text
    assert rows[2].copy_from == ("42", "1")  # the sticker itself, under the card


async def test_comment_ticket_acknowledged_in_thread(
    desk: FrontDesk, store: SqliteStore
) -> None:
    comment = replace(
        citizen("комментарий", 77), channel=Channel.COMMENT, chat_id="-100777", thread_id="5",
    )
    await desk.receive(comment)
    ack = (await outbox(store))[0].outbound
    assert ack.reply_to == "77" and ack.chat_id == "-100777"
    assert ack.text.startswith("Комментарию присвоен №1. Ответим здесь до ")
    await desk.receive(replace(comment, message_id="78", text="ещё"))
    ticket = await store.ticket(1)
    assert ticket is not None and ticket.reply_to == "78"


async def test_edited_message_is_shown_to_staff(desk: FrontDesk, store: SqliteStore) -> None:
    await desk.receive(citizen("старое", 3))
    await send_all(store)
    await desk.receive(citizen("новое", 3, event=Event.EDITED))
    row = (await outbox(store))[0].outbound
    assert "изменено" in row.text and "новое" in row.text
    assert [m.text for m in await store.messages(1)] == ["новое"]


def test_command_parsing() -> None:
    assert command_of("/close") == "close"
    assert command_of("/close@frontdesk_bot спасибо") == "close"
    assert command_of("/CLOSE") == "close"
    assert command_of("закрыть /close") is None
    assert command_of("") is None


def test_outbound_survives_the_outbox_with_every_field() -> None:
    original = Outbound(
        platform=Platform.VK, chat_id="-1_2", purpose=Purpose.ANSWER, text="ответ",
        html=False, ticket_id=7, channel=Channel.COMMENT, reply_to="9", reply_to_card=True,
        thread_id="2", copy_from=("1", "2"), attachments=(Attachment("photo", "f", "n", "u"),),
        refers=(3, 4), buttons=((("Закрыть", "do:/close"),),),
    )
    assert Outbound.from_json(original.to_json()) == original
    assert {f.name for f in fields(Outbound)} == set(json.loads(original.to_json()))


def test_working_hours_read_in_the_citizens_language() -> None:
    hours = BusinessHours.parse("Mon-Thu 09:00-18:00, Fri 09:00-16:45")
    assert render.hours_words(Texts("ru"), hours) == "Пн–Чт 09:00–18:00, Пт 09:00–16:45"
    assert render.hours_words(Texts("en"), hours) == "Mon–Thu 09:00–18:00, Fri 09:00–16:45"
    assert render.hours_words(Texts("ru"), BusinessHours.parse("24/7")) == "круглосуточно"


def greeting_text(texts: Texts, **links: str) -> str:
    return render.greeting(texts, hours="Пн–Пт 09:00–18:00", **links)


def test_greeting_names_the_administration_its_links_and_the_data_notice(texts: Texts) -> None:
    text = greeting_text(
        texts, organization="Администрация Энского района", site_url="https://ensk.example",
        feedback_url="https://pos.gosuslugi.ru/landing/", policy_url="https://ensk.example/pd",
    )
    assert "Администрация Энского района отвечает здесь на ваши вопросы." in text
    assert "Официальный сайт: https://ensk.example" in text
    assert "Госуслуги. Решаем вместе: https://pos.gosuslugi.ru/landing/" in text
    assert "Оператор: Администрация Энского района." in text
    # What is processed, how long it is kept, the rights and how to use them, the policy.
    assert "имя и ссылку на профиль" in text and "сообщения и вложения" in text
    assert "хранятся 1095 дн. после того" in text and "отправьте /forget" in text
    assert "узнать" in text and "уточнения или удаления" in text and "152-ФЗ" in text
    assert "Политика обработки персональных данных: https://ensk.example/pd" in text
    assert "обращени" not in text.replace("официальным обращением", "").replace(
        "Официальное обращение", "")


def test_greeting_without_settings_shows_no_empty_links(texts: Texts) -> None:
    text = greeting_text(texts)
    assert "Администрация отвечает здесь" in text and "Оператор: Администрация." in text
    assert "http" not in text and "Политика" not in text and "Официальный сайт" not in text
    english = greeting_text(Texts("en"), organization="Ensk District Administration")
    assert "Operator: Ensk District Administration." in english


async def test_start_greets_with_the_configured_organization(
    desk: FrontDesk, store: SqliteStore
) -> None:
    desk.premises.config = replace(desk.config, organization="Администрация Энского района",
                          privacy_policy_url="https://ensk.example/pd")
    await desk.greet(citizen("/start"))
    [greeting] = [i.outbound for i in await outbox(store)]
    assert greeting.purpose is Purpose.GREETING
    assert "Оператор: Администрация Энского района." in greeting.text
    assert greeting.text.endswith("https://ensk.example/pd")


def test_no_text_calls_a_message_an_appeal() -> None:
    """A messenger message is not a 59-FZ appeal: «обращение» only where the greeting says so."""
    from pathlib import Path  # noqa: PLC0415
    folder = Path(__file__).resolve().parent.parent / "locales" / "ru"
    for path in folder.glob("*.ftl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#") or "по 59-ФЗ" in line:
                continue
            assert "обращени" not in line.lower(), f"{path.name}: {line}"


def test_deadline_reads_date_then_time(texts: Texts) -> None:
    moment = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)
    assert texts.moment(moment) == "2 декабря, 17:00"
    assert Texts("en").moment(moment) == "December 2, 17:00"


async def test_unlisted_staff_told_again_on_the_next_day_only(
    desk: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    desk.premises.config = replace(desk.config, staff_user_ids=frozenset({"7"}))
    await desk.receive(citizen("вопрос"))
    [card_id] = [str(5000 + i) for i, o in enumerate(await send_all(store))
                 if o.purpose is Purpose.CARD]
    newcomer = replace(staff("ответ", card_id), author_id="8")
    await desk.staff_message(newcomer)
    await desk.staff_message(replace(newcomer, message_id="901"))
    clock.advance(hours=20)  # 06:00 the next morning in Moscow
    await desk.staff_message(replace(newcomer, message_id="902"))
    await desk.staff_message(replace(newcomer, message_id="903", reply_to=None))  # talk
    told = [o for o in [i.outbound for i in await outbox(store)]
            if o.purpose is Purpose.STAFF_NOTICE]
    assert [o.reply_to for o in told] == ["900", "902"]
    assert all(o.chat_id == STAFF_CHAT for o in told)
    assert not [o for o in [i.outbound for i in await outbox(store)] if o.chat_id == "42"]


def test_every_locale_file_parses_and_ru_and_en_have_the_same_keys() -> None:
    """An operator edits these files; a typo must not silently drop a text."""
    from pathlib import Path  # noqa: PLC0415

    from fluent.syntax import FluentParser, ast  # noqa: PLC0415

    root = Path(__file__).resolve().parent.parent / "locales"

    def keys(path: Path) -> set[str]:
        source = path.read_text(encoding="utf-8")
        body = FluentParser().parse(source).body
        assert not [e for e in body if isinstance(e, ast.Junk)], f"{path}: broken entry"
        # A ticket number is written №<n> in every message about a ticket.
        assert "{ $number }" not in source.replace("№{ $number }", ""), path
        return {e.id.name for e in body if isinstance(e, ast.Message)}

    for ru in sorted((root / "ru").glob("*.ftl")):
        assert keys(ru) == keys(root / "en" / ru.name), ru.name
