"""Every kind of message a citizen can send, generated from the platforms' specifications.

Telegram: the fields of Message in the Bot API (https://core.telegram.org/bots/api#message,
Bot API 10.3 as aiogram 3.31 generates its types from it). Each field is classified here:
content a citizen sends (a ticket, its content named in words on the card), a service
message (nothing: no ticket, no acknowledgement), or what is said about a message rather than
in it. A field the specification adds later fails the first test until it is classified.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiogram.types import Message

from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, Desk
from tests.spec_samples import sample

# On both stores: its SQLite file, and a schema of its own on PostgreSQL.
pytestmark = pytest.mark.usefixtures("either_store")

# Content, and the words the card must show for the least message of that kind
# (strings of the generated samples are "x", numbers 1 or 1.5).
CONTENT = {
    "animation": "[GIF]",
    "audio": "[аудио]",
    "document": "[документ]",
    "live_photo": "[живое фото]",
    "paid_media": "[платные фото или видео]",
    "photo": "[фото]",
    "sticker": "[стикер]",
    "story": "[история]",
    "video": "[видео]",
    "video_note": "[видеосообщение]",
    "voice": "[голосовое сообщение]",
    "checklist": "[список задач: x]",
    "contact": "[контакт: x — x]",
    "dice": "[кубик: x 1]",
    "game": "[игра: x]",
    "poll": "[опрос: x]",
    "venue": "[место: x — x]",
    "location": "[геопозиция: 1.50000, 1.50000]",
    "invoice": "[счёт на оплату: x]",
    "giveaway": "[розыгрыш]",
    "giveaway_winners": "[итоги розыгрыша]",
    "passport_data": "[данные Telegram Passport]",
    "rich_message": "[сообщение с оформлением",
}
TEXT = frozenset({"text", "caption"})
# Service messages: something happened in the chat; nobody wrote anything.
SERVICE = frozenset({
    "new_chat_members", "left_chat_member", "chat_owner_left", "chat_owner_changed",
    "new_chat_title", "new_chat_photo", "delete_chat_photo", "group_chat_created",
    "supergroup_chat_created", "channel_chat_created", "message_auto_delete_timer_changed",
    "migrate_to_chat_id", "migrate_from_chat_id", "pinned_message", "successful_payment",
    "refunded_payment", "users_shared", "user_shared", "chat_shared", "gift", "unique_gift",
    "gift_upgrade_sent", "connected_website", "write_access_allowed",
    "proximity_alert_triggered", "boost_added", "chat_background_set", "checklist_tasks_done",
    "checklist_tasks_added", "direct_message_price_changed", "forum_topic_created",
    "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened",
    "general_forum_topic_hidden", "general_forum_topic_unhidden", "giveaway_created",
    "giveaway_completed", "managed_bot_created", "paid_message_price_changed",
    "poll_option_added", "poll_option_deleted", "suggested_post_approved",
    "suggested_post_approval_failed", "suggested_post_declined", "suggested_post_paid",
    "suggested_post_refunded", "video_chat_scheduled", "video_chat_started", "video_chat_ended",
    "video_chat_participants_invited", "web_app_data", "community_chat_added",
    "community_chat_removed", "community_chat_joined",
})
# About a message, not in it: who, where, when, what it replies to, how it looks.
ABOUT = frozenset({
    "message_id", "message_thread_id", "direct_messages_topic", "from", "sender_chat",
    "sender_boost_count", "sender_business_bot", "sender_tag", "date", "business_connection_id",
    "chat", "forward_origin", "is_topic_message", "is_automatic_forward", "reply_to_message",
    "external_reply", "quote", "reply_to_story", "reply_to_checklist_task_id",
    "reply_to_poll_option_id", "via_bot", "edit_date", "has_protected_content",
    "is_from_offline", "is_paid_post", "media_group_id", "author_signature", "paid_star_count",
    "entities", "caption_entities", "link_preview_options", "suggested_post_info", "effect_id",
    "show_caption_above_media", "has_media_spoiler", "reply_markup", "ephemeral_message_id",
    "guest_query_id", "guest_bot_caller_chat", "guest_bot_caller_user", "receiver_user",
    # Bot API 7.0 replaced these with forward_origin; aiogram still reads them.
    "forward_date", "forward_from", "forward_from_chat", "forward_from_message_id",
    "forward_sender_name", "forward_signature",
})
FIRST_CITIZEN = 6_000_001


def message_fields() -> dict[str, Any]:
    """The Message fields of the specification: name as Telegram sends it → its type."""
    return {f.alias or name: f.annotation for name, f in Message.model_fields.items()}


def test_every_message_field_of_the_bot_api_is_classified() -> None:
    fields = set(message_fields())
    classified = set(CONTENT) | TEXT | SERVICE | ABOUT
    assert fields - classified == set(), "new in the Bot API: content, service or about?"
    assert classified - fields == set()


@pytest.fixture
async def desk(tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[Desk]:
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3") as running:
        yield running


def push(tg: FakeTelegram, citizen: int, name: str, **fields: Any) -> None:
    person = {"id": citizen, "is_bot": False, "first_name": name}
    chat = {"id": citizen, "type": "private", "first_name": name}
    tg.push_update(tg.message_update(chat, person, **fields))


def card_for(tg: FakeTelegram, number: int) -> str:
    for record in tg.sent(STAFF_CHAT):
        text = record["message"].get("text") or ""
        if text.startswith(f"№{number} "):
            return str(text)
    raise AssertionError(f"no card №{number}")


def ack_number(tg: FakeTelegram, citizen: int) -> int:
    [ack] = [r["message"].get("text") or "" for r in tg.sent(citizen)]
    match = re.match(r"Ваше сообщение №(\d+) получено", ack)
    assert match, ack
    return int(match.group(1))


async def test_each_content_kind_is_a_ticket_named_in_words(
    tg: FakeTelegram, desk: Desk
) -> None:
    types = message_fields()
    citizens = {}
    for offset, kind in enumerate(sorted(CONTENT)):
        citizen = FIRST_CITIZEN + offset
        citizens[kind] = citizen
        push(tg, citizen, "Житель", **{kind: sample(types[kind])})
    await tg.wait_for(lambda: all(tg.sent(c) for c in citizens.values()))
    await tg.wait_for(lambda: len([
        r for r in tg.sent(STAFF_CHAT) if (r["message"].get("text") or "").startswith("№")
    ]) >= len(CONTENT))
    for kind, citizen in citizens.items():
        card = card_for(tg, ack_number(tg, citizen))
        assert CONTENT[kind] in card, (kind, card)
        body = card.split("\n\n", 1)[1]
        assert kind not in body and "none" not in body and "вложение" not in body, (kind, card)


async def test_content_the_desk_cannot_show_is_named_beside_its_caption(
    tg: FakeTelegram, desk: Desk
) -> None:
    paid = sample(message_fields()["paid_media"])
    push(tg, FIRST_CITIZEN, "Житель", paid_media=paid, caption="Фото ямы у дома 3")
    await tg.wait_sent(1, chat_id=FIRST_CITIZEN)
    card = card_for(tg, ack_number(tg, FIRST_CITIZEN))
    assert "Фото ямы у дома 3\n[платные фото или видео]" in card


async def test_service_messages_are_no_tickets(tg: FakeTelegram, desk: Desk) -> None:
    """Each citizen causes a service message, then writes: only the writing is a ticket."""
    types = message_fields()
    citizens = {}
    for offset, kind in enumerate(sorted(SERVICE)):
        citizen = FIRST_CITIZEN + offset
        citizens[kind] = citizen
        push(tg, citizen, "Житель", **{kind: sample(types[kind])})
        push(tg, citizen, "Житель", text=f"вопрос номер {offset}")
    await tg.wait_for(lambda: all(tg.sent(c) for c in citizens.values()))
    await tg.wait_for(lambda: len(tg.sent(STAFF_CHAT)) >= len(SERVICE))
    for offset, (kind, citizen) in enumerate(sorted(citizens.items())):
        # One acknowledgement, and the ticket it names opened with the citizen's words.
        card = card_for(tg, ack_number(tg, citizen))
        assert card.endswith(f"\n\nвопрос номер {offset}"), (kind, card)
    assert not [r for r in tg.sent(STAFF_CHAT) if "новое сообщение" in r["message"]["text"]]


# VK: every attachment type of VK's API schema (https://github.com/VKCOM/vk-api-schema,
# objects.json: `messages_message_attachment_type` and `wall_comment_attachment_type`, as
# vkbottle_types generates its enums from it), and the words a card shows for each.
VK_WORDS = {
    "photo": "[фото]",
    "audio": "[аудио: Название]",
    "video": "[видео: Название]",
    "doc": "[документ: Название]",
    "link": "[ссылка: Название]",
    "market": "[товар: Название]",
    "market_album": "[подборка товаров: Название]",
    "market_market_album": "[подборка товаров: Название]",
    "gift": "[подарок]",
    "sticker": "[стикер]",
    "wall": "[репост записи]",
    "wall_reply": "[комментарий к записи: Текст комментария]",
    "article": "[статья: Название]",
    "poll": "[опрос: Вопрос]",
    "call": "[звонок]",
    "graffiti": "[граффити]",
    "audio_message": "[голосовое сообщение]",
    "story": "[история]",
    "group_call_in_progress": "[групповой звонок]",
    "mini_app": "[мини-приложение: Название]",
    "video_playlist": "[плейлист видео: Название]",
    "narrative": "[сюжет из историй]",
    "audio_playlist": "[плейлист аудио: Название]",
    "note": "[заметка: Название]",
    "page": "[вики-страница: Название]",
    # Documented by VK for messages, not (yet) in the schema's enums.
    "podcast": "[подкаст: Название]",
    "clip": "[клип: Название]",
    "money_transfer": "[денежный перевод]",
    "money_request": "[денежный перевод]",
    # A type VK adds after this code: named in words, never by its raw name.
    "hologram": "[вложение, которое бот не умеет показать]",
}
VK_FIRST_USER = 3_000_001


def vk_schema_types() -> set[str]:
    from vkbottle_types.objects import (  # noqa: PLC0415
        MessagesMessageAttachmentType,
        WallCommentAttachmentType,
    )
    kinds = {t.value for t in MessagesMessageAttachmentType}
    kinds |= {t.value for t in WallCommentAttachmentType}
    return kinds - {"NOT_SUPPORTED"}


def test_every_vk_attachment_type_has_words() -> None:
    assert vk_schema_types() - set(VK_WORDS) == set()


async def test_each_vk_attachment_type_is_named_on_the_card(
    tg: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.fakes.vk import FakeVK  # noqa: PLC0415
    monkeypatch.chdir(tmp_path)
    async with FakeVK() as vk:
        users = {kind: VK_FIRST_USER + i for i, kind in enumerate(sorted(VK_WORDS))}
        for user in users.values():
            vk.add_user(user, "Житель", "ВКонтакте")
        settings = {"vk_token": vk.token, "vk_group_id": vk.group_id, "vk_api_url": vk.api_url}
        async with Desk(tg.base_url, tmp_path / "desk.sqlite3", **settings):
            asked = len(vk.longpoll_requests)
            await vk.wait_for(lambda: len(vk.longpoll_requests) > asked)
            for kind, user in users.items():
                item = {"id": 1, "owner_id": -1, "post_id": 2, "title": "Название",
                        "question": "Вопрос", "text": "Текст комментария"}
                vk.message_new(user, attachments=[{"type": kind, kind: item}])
            # A document without a title.
            vk.message_new(VK_FIRST_USER - 1, attachments=[
                {"type": "doc", "doc": {"id": 1, "owner_id": 1}}])
            await tg.wait_for(lambda: len([
                r for r in tg.sent(STAFF_CHAT) if (r["message"].get("text") or "").startswith("№")
            ]) >= len(VK_WORDS) + 1)
            await vk.wait_for(lambda: len(vk.sent_messages()) >= len(VK_WORDS) + 1)
            acks = {m["peer_id"]: m["message"] for m in vk.sent_messages()}
    for kind, user in users.items():
        number = int(re.match(r"Ваше сообщение №(\d+)", acks[user]).group(1))  # type: ignore[union-attr]
        body = card_for(tg, number).split("\n\n", 1)[1]
        assert body == VK_WORDS[kind], (kind, body)
    number = int(re.match(r"Ваше сообщение №(\d+)", acks[VK_FIRST_USER - 1]).group(1))  # type: ignore[union-attr]
    assert card_for(tg, number).split("\n\n", 1)[1] == "[документ]"
