"""The VK adapter's parts: events as inbound values, idempotency numbers, delivery edge cases."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.files import FileUnavailable
from bot.vk.client import make_api
from bot.vk.convert import Author, attachment_of, author_id, is_start, to_inbound
from bot.vk.delivery import HALF, SLOTS, VKDelivery, random_id
from handlers.model import Event
from handlers.texts import Texts
from storage import SqliteStore
from storage.values import Attachment, Channel, Outbound, Platform, Purpose
from tests.fakes.vk import FakeVK

GROUP = 123456
AUTHORS = {1001: Author("Анна Иванова", "https://vk.com/id1001")}


def event(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {"group_id": GROUP, "type": kind, "event_id": "e1", "v": "5.199", "object": obj}


def message(**fields: Any) -> dict[str, Any]:
    base = {"id": 17, "from_id": 1001, "peer_id": 1001, "text": "Здравствуйте",
            "date": 1_700_000_000, "attachments": [], "conversation_message_id": 3, "out": 0}
    return {**base, **fields}


def comment(**fields: Any) -> dict[str, Any]:
    base = {"id": 9, "from_id": 1001, "post_id": 7, "owner_id": -GROUP, "text": "Вопрос",
            "date": 1_700_000_000, "parents_stack": []}
    return {**base, **fields}


# random_id


def test_random_id_is_stable_nonzero_int32_and_distinct_per_part_and_row() -> None:
    numbers = {random_id(42, row, slot) for row in range(1, 200) for slot in range(SLOTS)}
    assert len(numbers) == 199 * SLOTS
    assert all(1 <= n < 2**31 for n in numbers)
    assert random_id(42, 5, 1) == random_id(42, 5, 1)
    assert random_id(42, 5, 0) != random_id(43, 5, 0)  # another database, other numbers


def test_random_id_wraps_safely_for_huge_rows_and_salts() -> None:
    for row in (2**27, 2**40, 2**62):
        assert 1 <= random_id(2**31 - 2, row, SLOTS - 1) < 2**31


def test_random_id_refuses_a_slot_of_another_row() -> None:
    with pytest.raises(ValueError):
        random_id(1, 1, SLOTS)


# events


def test_private_message_becomes_direct_inbound() -> None:
    inbound = to_inbound(event("message_new", {"message": message()}), GROUP, AUTHORS)
    assert inbound is not None
    assert (inbound.platform, inbound.channel) == (Platform.VK, Channel.DIRECT)
    assert (inbound.chat_id, inbound.author_id, inbound.message_id) == ("1001", "1001", "17")
    assert inbound.author_name == "Анна Иванова"
    assert inbound.author_link == "https://vk.com/id1001"
    assert inbound.source_key == "vk:1001:17"
    assert inbound.sent_at is not None


def test_unknown_author_shows_profile_id() -> None:
    inbound = to_inbound(
        event("message_new", {"message": message(from_id=5, peer_id=5)}), GROUP, {}
    )
    assert inbound is not None
    assert (inbound.author_name, inbound.author_link) == ("id5", "https://vk.com/id5")


def test_group_chat_and_community_messages_are_not_taken() -> None:
    chat = message(peer_id=2_000_000_001, id=0)
    assert to_inbound(event("message_new", {"message": chat}), GROUP, AUTHORS) is None
    own = message(from_id=-GROUP, out=1)
    assert to_inbound(event("message_new", {"message": own}), GROUP, AUTHORS) is None
    assert to_inbound(event("message_reply", message()), GROUP, AUTHORS) is None


def test_comment_becomes_comment_inbound_with_link() -> None:
    inbound = to_inbound(event("wall_reply_new", comment()), GROUP, AUTHORS)
    assert inbound is not None
    assert inbound.channel is Channel.COMMENT
    assert (inbound.chat_id, inbound.thread_id, inbound.message_id) == (f"-{GROUP}_7", "7", "9")
    assert inbound.link == f"https://vk.com/wall-{GROUP}_7?reply=9"
    assert inbound.conversation == f"-{GROUP}_7/7/1001"


def test_reply_in_a_thread_links_to_the_thread() -> None:
    obj = comment(id=12, parents_stack=[9], reply_to_comment=9)
    inbound = to_inbound(event("wall_reply_new", obj), GROUP, AUTHORS)
    assert inbound is not None
    assert inbound.link == f"https://vk.com/wall-{GROUP}_7?reply=12&thread=9"


def test_community_comments_and_other_walls_are_not_taken() -> None:
    own = comment(from_id=-GROUP)
    assert to_inbound(event("wall_reply_new", own), GROUP, AUTHORS) is None
    assert to_inbound(event("wall_reply_edit", own), GROUP, AUTHORS) is None
    other_wall = comment(owner_id=-999)
    assert to_inbound(event("wall_reply_new", other_wall), GROUP, AUTHORS) is None


def test_comment_edit_and_delete_name_the_same_message() -> None:
    new = to_inbound(event("wall_reply_new", comment()), GROUP, AUTHORS)
    edit = to_inbound(event("wall_reply_edit", comment(text="иначе")), GROUP, AUTHORS)
    gone = {"owner_id": -GROUP, "id": 9, "deleter_id": 1001, "post_id": 7}
    delete = to_inbound(event("wall_reply_delete", gone), GROUP, AUTHORS)
    assert new is not None and edit is not None and delete is not None
    assert new.source_key == edit.source_key == delete.source_key
    assert (edit.event, delete.event) == (Event.EDITED, Event.DELETED)


def test_author_ids_are_users_only() -> None:
    assert author_id(event("message_new", {"message": message()})) == 1001
    assert author_id(event("wall_reply_new", comment(from_id=-GROUP))) is None
    assert author_id(event("wall_reply_delete", {"id": 9})) is None


def test_start_button_payload() -> None:
    start = message(text="Начать", payload='{"command":"start"}')
    assert is_start(event("message_new", {"message": start}))
    assert not is_start(event("message_new", {"message": message(payload="{bad")}))
    assert not is_start(event("message_new", {"message": message()}))


def test_mention_markup_reads_as_the_name() -> None:
    obj = comment(text="[club123456|Приёмная], спасибо! [id1002|Пётр], и вам")
    inbound = to_inbound(event("wall_reply_new", obj), GROUP, AUTHORS)
    assert inbound is not None and inbound.text == "Приёмная, спасибо! Пётр, и вам"


def test_photo_takes_the_largest_copy() -> None:
    photo = {"id": 5, "owner_id": 1001, "access_key": "k", "sizes": [
        {"type": "s", "width": 75, "height": 50, "url": "https://x/s"},
        {"type": "z", "width": 1280, "height": 960, "url": "https://x/z"},
        {"type": "x", "width": 604, "height": 453, "url": "https://x/x"},
    ]}
    assert attachment_of({"type": "photo", "photo": photo}) == Attachment(
        "photo", ref="photo1001_5_k", url="https://x/z"
    )


def test_attachments_and_extras_are_described() -> None:
    obj = message(
        attachments=[
            {"type": "link", "link": {"url": "https://gosuslugi.ru", "title": "Госуслуги"}},
            {"type": "poll", "poll": {"id": 1, "owner_id": 1, "question": "Как?"}},
            {"type": "call", "call": {}},
        ],
        geo={"coordinates": {"latitude": 55.75, "longitude": 37.62}},
        fwd_messages=[{"text": "пересланный текст"}],
    )
    inbound = to_inbound(event("message_new", {"message": obj}), GROUP, AUTHORS)
    assert inbound is not None
    kinds = [(a.kind, a.name) for a in inbound.attachments]
    assert kinds == [
        ("link", "Госуслуги"), ("poll", "Как?"), ("call", ""),
        ("location", "55.75000, 37.62000"), ("forwarded", "пересланный текст"),
    ]
    assert inbound.attachments[3].url == "https://yandex.ru/maps/?pt=37.62,55.75&z=17"


# delivery against the fake VK API


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK(group_id=GROUP) as fake:
        yield fake


@pytest.fixture
async def delivery(
    vk: FakeVK, store: SqliteStore, texts: Texts
) -> AsyncIterator[VKDelivery]:
    api, http = make_api(vk.token, vk.api_url)

    async def fetch(file_id: str) -> bytes:
        if file_id == "gone":
            raise FileUnavailable("file is too big")
        return b"\xff\xd8\xff\xe0fake-jpeg\xff\xd9"

    yield VKDelivery(api, store, GROUP, fetch, texts)
    await http.close()


def direct(text: str, *attachments: Attachment) -> Outbound:
    return Outbound(Platform.VK, "1001", Purpose.ANSWER, text, ticket_id=1,
                    attachments=attachments)


async def test_a_row_sent_twice_reaches_the_citizen_once(
    vk: FakeVK, delivery: VKDelivery
) -> None:
    first = await delivery.deliver(direct("ответ"), 7)
    again = await delivery.deliver(direct("ответ"), 7)
    assert first.ok and again.ok and first.message_ids == again.message_ids
    assert len(vk.sent_messages(1001)) == 1


async def test_long_text_is_split_into_parts_with_their_own_numbers(
    vk: FakeVK, delivery: VKDelivery
) -> None:
    text = "слово " * 1500  # 9,000 characters
    result = await delivery.deliver(direct(text), 3)
    sent = vk.sent_messages(1001)
    assert result.ok and len(sent) == 3
    assert all(len(m["message"]) <= 4096 for m in sent)
    assert " ".join(m["message"] for m in sent).split() == text.split()
    salt = await delivery.salt()
    assert [m["random_id"] for m in sent] == [random_id(salt, 3, i) for i in range(3)]


async def test_too_long_for_vk_is_sent_again_in_shorter_parts(
    vk: FakeVK, delivery: VKDelivery
) -> None:
    vk.fail_next("messages.send", 914)
    text = "длинный ответ " * 200  # 2,800 characters: one part, which VK refuses once
    result = await delivery.deliver(direct(text), 4)
    sent = vk.sent_messages(1001)
    assert result.ok and len(sent) == 3
    assert " ".join(m["message"] for m in sent).split() == text.split()
    salt = await delivery.salt()
    assert [m["random_id"] for m in sent] == [random_id(salt, 4, HALF + i) for i in range(3)]


async def test_still_too_long_fails_for_good(vk: FakeVK, delivery: VKDelivery) -> None:
    vk.fail_next("messages.send", 914, count=2)
    result = await delivery.deliver(direct("ответ"), 5)
    assert result.permanent and result.error is not None and "914" in result.error


@pytest.mark.parametrize(("code", "permanent"), [(901, True), (902, True), (6, False),
                                                 (9, False), (10, False), (100, True)])
async def test_vk_errors_become_delivery_results(
    vk: FakeVK, delivery: VKDelivery, code: int, permanent: bool
) -> None:
    vk.fail_next("messages.send", code)
    result = await delivery.deliver(direct("ответ"), 6)
    assert not result.ok and result.permanent is permanent
    assert result.error is not None and str(code) in result.error


async def test_bad_gateway_is_retried(vk: FakeVK, delivery: VKDelivery) -> None:
    vk.http_error_next("messages.send", 502)
    result = await delivery.deliver(direct("ответ"), 8)
    assert not result.ok and not result.permanent


async def test_what_vk_cannot_take_is_reported_and_the_rest_goes(
    vk: FakeVK, delivery: VKDelivery
) -> None:
    result = await delivery.deliver(direct(
        "ответ", Attachment("photo", ref="ok"), Attachment("video", ref="v"),
        Attachment("photo", ref="gone"),
    ), 9)
    sent = vk.sent_messages(1001)
    assert result.ok and len(sent) == 1
    assert sent[0]["attachment"].startswith(f"photo-{GROUP}_")
    assert "," not in sent[0]["attachment"]
    assert result.unrelayed == "[видео], [фото]"


async def test_staff_document_goes_as_a_document(vk: FakeVK, delivery: VKDelivery) -> None:
    result = await delivery.deliver(
        direct("акт", Attachment("document", ref="ok", name="акт.pdf")), 10
    )
    assert result.ok and result.unrelayed is None
    assert vk.sent_messages(1001)[0]["attachment"].startswith(f"doc-{GROUP}_")



async def test_comment_files_refused_by_vk_leave_the_text_going(
    vk: FakeVK, delivery: VKDelivery
) -> None:
    post = vk.add_post("Новость")
    asked = vk.wall_reply_new(post, 1001, "вопрос")["object"]
    vk.fail_next("wall.createComment", 100)
    out = Outbound(
        Platform.VK, f"-{GROUP}_{post}", Purpose.ANSWER, "ответ", ticket_id=1,
        channel=Channel.COMMENT, reply_to=str(asked["id"]),
        attachments=(Attachment("photo", ref="ok"),),
    )
    result = await delivery.deliver(out, 11)
    answers = vk.comments(post, from_group=True)
    assert result.ok and result.unrelayed == "[фото]"
    assert len(answers) == 1 and answers[0]["text"] == "ответ" and not answers[0]["attachment"]
    assert answers[0]["reply_to_comment"] == asked["id"]
