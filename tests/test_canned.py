"""Canned answers: `/templates` lists the operator's templates, `/template N` sends one.

At the desk on an injected clock and the real store, with the shipped texts and with an
operator's own folder; end to end on Telegram and VK against the local fakes.
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Callable
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.desk import FrontDesk
from handlers.texts import DEFAULT_LOCALES, Texts
from storage import SqliteStore
from storage.values import Purpose
from tests.conftest import MOSCOW, STAFF_CHAT, FixedClock
from tests.fakes.telegram import FakeTelegram
from tests.fakes.vk import FakeVK
from tests.harness import STAFF_CHAT as TG_STAFF_CHAT
from tests.harness import Desk
from tests.test_e2e_telegram import card_of, texts_in
from tests.test_e2e_vk import polling, staff_reply
from tests.test_escalation import card_of as stored_card
from tests.test_escalation import deliver, moscow, open_ticket, staff

CITIZEN = 5555001
VK_CITIZEN = 1001
OPERATOR = 7001


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar(BusinessHours.parse("Mon-Fri 09:00-18:00"), MOSCOW)


@pytest.fixture
def config() -> DeskConfig:
    return DeskConfig(staff_chat_id=STAFF_CHAT, timezone=MOSCOW,
                      escalation_after=timedelta(hours=8))


def desk_with(
    store: SqliteStore, texts: Texts, calendar: WorkCalendar, config: DeskConfig,
    clock: FixedClock,
) -> FrontDesk:
    return FrontDesk(store, texts, calendar, config, now=clock)


@pytest.fixture
def front(
    store: SqliteStore, texts: Texts, calendar: WorkCalendar, config: DeskConfig,
    clock: FixedClock,
) -> FrontDesk:
    return desk_with(store, texts, calendar, config, clock)


async def test_templates_lists_the_titles_in_file_order(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "Течёт крыша")
    await front.receive(staff("/templates", await stored_card(store, ticket.id)))
    [listing] = await deliver(store)
    assert listing.chat_id == STAFF_CHAT and listing.purpose is Purpose.STAFF_NOTICE
    assert listing.text.split("\n") == [
        "Шаблоны ответа на №1; отправить — ответом на карточку: /template 2",
        "1. Передано специалистам",
        "2. Уточнить адрес",
        "3. Не наша компетенция: управляющая компания",
        "4. Работы выполнены",
    ]


async def test_template_is_sent_as_the_staff_answer_with_its_placeholders_filled(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "Течёт крыша")
    clock.moment = moscow(24, 11).astimezone(UTC)
    await front.receive(staff("/template 1", await stored_card(store, ticket.id)))
    [answer] = await deliver(store)
    assert answer.chat_id == ticket.chat_id and answer.purpose is Purpose.ANSWER
    assert answer.text == (
        "Ответ на ваше сообщение №1:\n\nЗдравствуйте, Иван Петров! Ваше сообщение №1 "
        "передано специалистам. Ответим до 24 ноября, 18:00."
    )
    after = await store.ticket(ticket.id)
    assert after is not None and after.first_answer_at == moscow(24, 11).astimezone(UTC)
    assert after.waiting_since is None  # answered: the ladder stops
    await front.receive(staff("/template 4", await stored_card(store, ticket.id), 901))
    [done] = await deliver(store)
    assert done.text.endswith(
        "По сообщению №1: работы выполнены 24 ноября. Спасибо, что сообщили."
    )


async def test_a_template_handled_twice_is_sent_once(
    front: FrontDesk, store: SqliteStore, clock: FixedClock
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    order = staff("/template 2", await stored_card(store, ticket.id))
    await front.receive(order)
    await front.receive(order)
    assert len([o for o in await deliver(store) if o.chat_id == ticket.chat_id]) == 1


@pytest.mark.parametrize("order", ["/template", "/template 0", "/template 5", "/template два",
                                   "/template 1 2", "/template ١"])
async def test_a_template_without_a_listed_number_only_says_how(
    front: FrontDesk, store: SqliteStore, clock: FixedClock, order: str
) -> None:
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    await front.receive(staff(order, await stored_card(store, ticket.id)))
    [notice] = await deliver(store)
    assert notice.chat_id == STAFF_CHAT
    assert notice.text == (
        "Чтобы отправить шаблон, ответьте на карточку: /template 2 — номер из списка "
        "/templates (от 1 до 4)."
    )


async def test_an_operators_own_templates_replace_the_shipped_ones(
    store: SqliteStore, calendar: WorkCalendar, config: DeskConfig, clock: FixedClock,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "texts"
    shutil.copytree(DEFAULT_LOCALES, folder)
    (folder / "ru" / "templates.ftl").write_text(
        "template-water = Воду дадут к { $deadline }, { $name }.\n"
        "    .title = Вода\n"
        "template-untitled = Без заголовка №{ $number }.\n",
        encoding="utf-8",
    )
    front = desk_with(store, Texts("ru", folder), calendar, config, clock)
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "нет воды")
    card = await stored_card(store, ticket.id)
    await front.receive(staff("/templates", card, 901))
    [listing] = await deliver(store)
    assert listing.text.split("\n")[1:] == ["1. Вода", "2. template-untitled"]
    await front.receive(staff("/template 1", card, 902))
    [answer] = await deliver(store)
    assert answer.text.endswith("Воду дадут к 24 ноября, 18:00, Иван Петров.")


async def test_no_templates_at_all_says_where_they_go(
    store: SqliteStore, calendar: WorkCalendar, config: DeskConfig, clock: FixedClock,
    tmp_path: Path,
) -> None:
    folder = tmp_path / "texts"
    shutil.copytree(DEFAULT_LOCALES, folder)
    (folder / "ru" / "templates.ftl").write_text("## none yet\n", encoding="utf-8")
    front = desk_with(store, Texts("ru", folder), calendar, config, clock)
    ticket = await open_ticket(front, store, clock, moscow(24, 10), "вопрос")
    await front.receive(staff("/templates", await stored_card(store, ticket.id)))
    [listing] = await deliver(store)
    assert listing.text.startswith("Шаблонов ответа нет: их добавляют в templates.ftl")


# end to end


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        fake.add_user(VK_CITIZEN, "Анна", "Иванова")
        yield fake


@pytest.fixture
def vk_desk(
    tg: FakeTelegram, vk: FakeVK, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Desk]:
    monkeypatch.chdir(tmp_path)

    def make(**overrides: Any) -> Desk:
        return Desk(tg.base_url, tmp_path / "desk.sqlite3", vk_token=vk.token,
                    vk_group_id=vk.group_id, vk_api_url=vk.api_url, **overrides)
    return make


async def test_a_template_on_a_telegram_card_reaches_the_citizen(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    async with Desk(tg.base_url, tmp_path / "d.sqlite3"):
        tg.push_update(tg.private_text(CITIZEN, "Во дворе яма"))
        card = await card_of(tg, 1)
        tg.push_update(tg.group_text(TG_STAFF_CHAT, OPERATOR, "/template 2",
                                     reply_to=card["message_id"]))
        await tg.wait_sent(2, chat_id=CITIZEN)
    answer = texts_in(tg, CITIZEN)[1]
    assert answer.startswith("Ответ на ваше сообщение №1:\n\nЗдравствуйте, ")
    assert "уточните, пожалуйста, точный адрес" in answer


async def test_a_template_on_a_vk_card_goes_as_a_vk_message(
    tg: FakeTelegram, vk: FakeVK, vk_desk: Callable[..., Desk]
) -> None:
    async with vk_desk():
        await polling(vk)
        vk.message_new(VK_CITIZEN, "Когда починят дорогу?")
        card = await card_of(tg, 1)
        await staff_reply(tg, card, "/template 2")
        sent = await vk.wait_messages(2, peer_id=VK_CITIZEN)
    assert sent[1]["message"].startswith(
        "Ответ на ваше сообщение №1:\n\nЗдравствуйте, Анна Иванова! Чтобы разобраться"
    )
