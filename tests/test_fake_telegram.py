"""The fake Bot API answers and fails the way Telegram does, for the real aiogram Bot."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, Message, ReplyParameters

from tests.fakes.telegram import (
    BOT_ID,
    BOT_USERNAME,
    TOKEN,
    EntityParseError,
    FakeTelegram,
    FloodLimits,
    Upload,
    parse_entities,
)

USER = 501
STAFF_CHAT = -1001234567890


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    async with FakeTelegram() as fake:
        fake.start_private_chat(USER)  # the user started the bot, so it may write to them
        yield fake


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with tg.bot() as real_bot:
        yield real_bot


# ---- identity and plumbing ------------------------------------------------------------------


async def test_get_me_through_a_plain_aiohttp_session(tg: FakeTelegram) -> None:
    session = AiohttpSession(api=TelegramAPIServer.from_base(tg.base_url))
    async with Bot(TOKEN, session=session, default=DefaultBotProperties(parse_mode=None)) as bot:
        me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (BOT_ID, True, BOT_USERNAME)


async def test_rejected_token_unknown_method_and_malformed_token(tg: FakeTelegram) -> None:
    tg.rejected_tokens.add("42:revoked")
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{tg.base_url}/bot42:revoked/getMe") as resp:
            assert resp.status == 401
            assert await resp.json() == {
                "ok": False,
                "error_code": 401,
                "description": "Unauthorized",
            }
        async with http.post(f"{tg.base_url}/bot{TOKEN}/sendTelepathy") as resp:
            assert resp.status == 404
            assert (await resp.json())["description"] == "Not Found"
        async with http.get(f"{tg.base_url}/botnot-a-token/getMe") as resp:
            assert resp.status == 404
        async with http.get(f"{tg.base_url}/bot{TOKEN}/GETME") as resp:  # case-insensitive
            assert (await resp.json())["result"]["id"] == BOT_ID
    assert [(r.method, r.status) for r in tg.requests] == [
        ("getMe", 401),
        ("sendTelepathy", 404),
        ("getMe", 404),
        ("getMe", 200),
    ]


# ---- sending and reading back ---------------------------------------------------------------


async def test_sent_message_is_recorded_and_seen_in_the_chat(tg: FakeTelegram, bot: Bot) -> None:
    tg.push_update(tg.private_text(USER, "Во дворе нет света"))
    sent = await bot.send_message(USER, "Сообщение получено", disable_notification=True)

    [record] = tg.sent(chat_id=USER)
    assert record["method"] == "sendMessage"
    assert record["params"]["disable_notification"] is True
    assert record["message"]["message_id"] == sent.message_id == 2
    assert sent.from_user is not None and sent.from_user.id == BOT_ID
    assert [m["text"] for m in tg.messages_in(USER)] == [
        "Во дворе нет света",
        "Сообщение получено",
    ]


async def test_html_is_parsed_into_the_visible_text_and_entities(
    tg: FakeTelegram, bot: Bot
) -> None:
    sent = await bot.send_message(
        USER,
        "<b>Заявка</b> &lt;42&gt; & <a href='https://gosuslugi.ru'>Госуслуги</a>",
        parse_mode="HTML",
    )
    assert sent.text == "Заявка <42> & Госуслуги"
    stored = tg.messages_in(USER)[-1]
    assert stored["entities"] == [
        {"type": "bold", "offset": 0, "length": 6},
        {"type": "text_link", "offset": 14, "length": 9, "url": "https://gosuslugi.ru"},
    ]


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("<foo>bar</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("Привет <b>мир", 'Can\'t find end tag corresponding to start tag "b"'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
    ],
)
async def test_bad_html_is_rejected_with_telegrams_reason(
    tg: FakeTelegram, bot: Bot, text: str, reason: str
) -> None:
    with pytest.raises(TelegramBadRequest) as caught:
        await bot.send_message(USER, text, parse_mode="HTML")
    assert caught.value.message == f"Bad Request: can't parse entities: {reason}"
    assert tg.sent() == []


async def test_length_limit_applies_to_the_visible_text_in_utf16(
    tg: FakeTelegram, bot: Bot
) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message is too long"):
        await bot.send_message(USER, "я" * 5000)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(USER, "😀" * 2049)  # 4,098 UTF-16 code units
    with pytest.raises(TelegramBadRequest, match="Bad Request: message text is empty"):
        await bot.send_message(USER, " \n ")

    sent = await bot.send_message(USER, "<b>" + "я" * 4096 + "</b>", parse_mode="HTML")
    assert sent.text is not None and len(sent.text) == 4096


async def test_caption_over_1024_is_rejected(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_file("photo-of-pothole", b"jpeg", kind="photo")
    with pytest.raises(TelegramBadRequest, match="Bad Request: message caption is too long"):
        await bot.send_photo(USER, "photo-of-pothole", caption="я" * 1025)
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_photo(USER, "never-uploaded")
    sent = await bot.send_photo(USER, "photo-of-pothole", caption="Яма")
    assert sent.photo is not None and sent.photo[-1].file_id == "photo-of-pothole"


# ---- Telegram's refusals and injected faults ------------------------------------------------


async def test_one_shot_429_carries_retry_after(tg: FakeTelegram, bot: Bot) -> None:
    tg.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as caught:
        await bot.send_message(USER, "раз")
    assert caught.value.retry_after == 3
    assert "Too Many Requests: retry after 3" in caught.value.message
    await bot.send_message(USER, "два")
    assert [r["message"]["text"] for r in tg.sent()] == ["два"]


async def test_blocked_user_and_unknown_group_are_refused(tg: FakeTelegram, bot: Bot) -> None:
    tg.block_user(USER)
    with pytest.raises(TelegramForbiddenError, match="Forbidden: bot was blocked by the user"):
        await bot.send_message(USER, "Ответ")
    with pytest.raises(TelegramBadRequest, match="Bad Request: chat not found"):
        await bot.send_message(-100999, "Коллеги")
    tg.add_group(-100999, "Сотрудники")
    assert (await bot.send_message(-100999, "Коллеги")).chat.title == "Сотрудники"


async def test_periods_of_server_errors_and_rate_limits_end(tg: FakeTelegram, bot: Bot) -> None:
    tg.faults.server_error(502, for_seconds=60)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.get_me()
    started = time.monotonic()
    tg.faults.rate_limit(retry_after=7, for_seconds=1)
    assert (await bot.get_me()).id == BOT_ID  # rate limits hit sending methods only
    for _ in range(600):  # until the period ends by itself (a guard of 30 s or so)
        try:
            await bot.send_message(USER, "x")
            break
        except TelegramRetryAfter as exc:
            assert exc.retry_after == 7
            await asyncio.sleep(0.05)
    sends = [r for r in tg.requests if r.method == "sendMessage"]
    # Refused while the period lasted (whatever arrived in its first second), then taken;
    # never refused again once one went through.
    assert all(r.status == 429 for r in sends if r.at < started + 1)
    assert [r.status for r in sends] == [429] * (len(sends) - 1) + [200]


async def test_timeout_fault_times_the_client_out_and_stop_does_not_hang() -> None:
    async with FakeTelegram() as tg, tg.bot(timeout=0.2) as bot:
        tg.start_private_chat(USER)
        tg.faults.timeout(execute=True)
        with pytest.raises(TelegramNetworkError, match="Request timeout error"):
            await bot.send_message(USER, "дошло, но ответа нет")
        assert len(tg.sent()) == 1  # carried out: a retry would send it twice
        [hanging] = [r for r in tg.requests if r.method == "sendMessage"]
        assert hanging.status is None  # the fake still holds it...
    assert hanging.status is not None  # ...and stopping answered it rather than wait


async def test_flood_limits_when_enforced() -> None:
    async with FakeTelegram(enforce_limits=True) as tg, tg.bot() as bot:
        tg.start_private_chat(USER)
        tg.start_private_chat(USER + 1)
        for n in range(2):  # a short burst is allowed
            await bot.send_message(USER, f"сообщение {n}")
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(USER, "ещё одно")
        assert caught.value.retry_after >= 1
        await bot.send_message(USER + 1, "другому человеку можно")


async def test_edits_share_a_groups_limit_with_sends() -> None:
    """https://github.com/tdlib/td/issues/2592: "the limits for message editing are the same
    as for message sending … they share the limit"."""
    group = -1009900
    async with FakeTelegram(enforce_limits=FloodLimits(per_group=(3, 60.0))) as tg, \
            tg.bot() as bot:
        tg.add_group(group, "Операторы")
        card = await bot.send_message(group, "карточка")
        await bot.edit_message_text("карточка: 2", chat_id=group, message_id=card.message_id)
        await bot.send_message(group, "ещё")
        with pytest.raises(TelegramRetryAfter):
            await bot.edit_message_text("карточка: 3", chat_id=group,
                                        message_id=card.message_id)
        assert tg.message(group, card.message_id)["text"] == "карточка: 2"


async def test_bot_cannot_write_first_to_a_user_who_never_wrote_to_it(
    tg: FakeTelegram, bot: Bot
) -> None:
    stranger = USER + 7
    with pytest.raises(TelegramForbiddenError, match="bot can't initiate conversation"):
        await bot.send_message(stranger, "здравствуйте")
    tg.push_update(tg.private_text(stranger, "/start"))
    await bot.send_message(stranger, "теперь можно")
    assert len(tg.sent(stranger)) == 1


# ---- getUpdates -----------------------------------------------------------------------------


async def test_offset_confirms_updates_for_good(tg: FakeTelegram, bot: Bot) -> None:
    ids = [tg.push_update(tg.private_text(USER, f"№{n}")) for n in range(3)]

    assert [u.update_id for u in await bot.get_updates()] == ids
    assert [u.update_id for u in await bot.get_updates()] == ids  # nothing confirmed yet
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates()] == ids[1:]  # the first is gone
    assert tg.confirmed_offset == ids[1]
    assert [u["update_id"] for u in tg.pending_updates()] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(offset=ids[1], limit=1)] == [ids[1]]
    assert len(tg.getupdates_calls) == 5


async def test_long_poll_wakes_as_soon_as_an_update_arrives(tg: FakeTelegram, bot: Bot) -> None:
    # A poll an hour long: it can only come back this soon because the update woke it.
    poll = asyncio.create_task(bot.get_updates(timeout=3600, request_timeout=3700))
    await tg.wait_for(lambda: tg.getupdates_calls)
    tg.push_update(tg.private_text(USER, "Здравствуйте"))
    [update] = await asyncio.wait_for(poll, 30)  # a guard against a hang, not a bound
    assert update.message is not None and update.message.text == "Здравствуйте"


async def test_second_get_updates_terminates_the_first(tg: FakeTelegram, bot: Bot) -> None:
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await tg.wait_for(lambda: tg.getupdates_calls)
    second = asyncio.create_task(bot.get_updates(timeout=5))
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates request"):
        await first
    tg.push_update(tg.private_text(USER, "живой"))
    assert len(await second) == 1


async def test_raw_updates_are_delivered_verbatim(tg: FakeTelegram) -> None:
    async with aiohttp.ClientSession() as http:
        tg.push_raw({"some_future_update": {"id": 1}})
        async with http.get(f"{tg.base_url}/bot{TOKEN}/getUpdates") as resp:
            assert (await resp.json())["result"] == [
                {"some_future_update": {"id": 1}, "update_id": 1}
            ]


async def test_allowed_updates_filter_updates_created_after_the_call(
    tg: FakeTelegram, bot: Bot
) -> None:
    await bot.get_updates(allowed_updates=["message"])
    tg.push_update(tg.callback_query(USER, "rate:5"))
    tg.push_update(tg.private_text(USER, "текст"))
    updates = await bot.get_updates()
    assert [u.event_type for u in updates] == ["message"]
    assert tg.allowed_updates == ["message"]


# ---- chats, replies, copies, files ----------------------------------------------------------


async def test_copy_message_of_a_citizens_photo_into_the_staff_group(
    tg: FakeTelegram, bot: Bot
) -> None:
    tg.add_group(STAFF_CHAT, "Сотрудники")
    photo = tg.push_update(tg.private_photo(USER, caption="Яма на Ленина"))
    assert photo == 1
    [incoming] = tg.messages_in(USER)

    copied = await bot.copy_message(
        STAFF_CHAT, USER, incoming["message_id"], caption="<i>№ 17</i>", parse_mode="HTML"
    )
    copy = tg.messages_in(STAFF_CHAT)[-1]
    assert copy["message_id"] == copied.message_id
    assert copy["photo"] == incoming["photo"]
    assert (copy["caption"], copy["caption_entities"]) == (
        "№ 17",
        [{"type": "italic", "offset": 0, "length": 4}],
    )
    with pytest.raises(TelegramBadRequest, match="message to copy not found"):
        await bot.copy_message(STAFF_CHAT, USER, 999)


async def test_staff_reply_carries_the_bot_message_it_answers(tg: FakeTelegram, bot: Bot) -> None:
    tg.add_group(STAFF_CHAT, "Сотрудники")
    card = await bot.send_message(STAFF_CHAT, "Обращение №17")
    update = tg.group_text(STAFF_CHAT, 777, "Бригада выехала", reply_to=card.message_id)
    tg.push_update(update)

    [delivered] = await bot.get_updates()
    assert delivered.message is not None
    replied = delivered.message.reply_to_message
    assert replied is not None and replied.message_id == card.message_id
    assert replied.from_user is not None and replied.from_user.id == BOT_ID
    assert replied.text == "Обращение №17"
    assert delivered.message.message_id == card.message_id + 1  # ids shared within a chat


async def test_reply_to_a_missing_message(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(TelegramBadRequest, match="Bad Request: message to be replied not found"):
        await bot.send_message(USER, "ответ", reply_parameters=ReplyParameters(message_id=99))
    tolerant = ReplyParameters(message_id=99, allow_sending_without_reply=True)
    sent = await bot.send_message(USER, "ответ", reply_parameters=tolerant)
    assert sent.reply_to_message is None


async def test_discussion_comment_replies_to_the_automatic_forward(tg: FakeTelegram) -> None:
    comment = tg.discussion_comment(-100777, USER, "Когда дадут воду?", thread_id=40)["message"]
    assert comment["message_thread_id"] == 40
    forward = comment["reply_to_message"]
    assert forward["message_id"] == 40 and forward["is_automatic_forward"] is True
    assert forward["sender_chat"]["type"] == "channel"
    assert comment["message_id"] == 41


async def test_files_download_and_uploads_are_kept(tg: FakeTelegram, bot: Bot) -> None:
    tg.push_update(tg.private_photo(USER, file_id="pothole", data=b"\xff\xd8 jpeg bytes"))
    downloaded = await bot.download("pothole")
    assert downloaded is not None and downloaded.read() == b"\xff\xd8 jpeg bytes"

    tg.add_group(STAFF_CHAT, "Сотрудники")
    act = BufferedInputFile(b"%PDF act", filename="act.pdf")
    sent = await bot.send_document(STAFF_CHAT, act)
    upload = tg.sent(method="sendDocument")[0]["params"]["document"]
    assert upload == Upload("act.pdf", "application/octet-stream", b"%PDF act")
    assert sent.document is not None and sent.document.file_name == "act.pdf"
    again = await bot.download(sent.document.file_id)
    assert again is not None and again.read() == b"%PDF act"


# ---- the real polling loop ------------------------------------------------------------------


async def test_dispatcher_polls_the_fake_end_to_end(tg: FakeTelegram, bot: Bot) -> None:
    dp = Dispatcher()

    @dp.message(F.text)
    async def echo(message: Message) -> None:
        """Any text: answer it in reply."""
        await message.reply(f"Принято: {message.text}")

    polling = asyncio.create_task(
        dp.start_polling(bot, handle_signals=False, close_bot_session=False, polling_timeout=1)
    )
    update = tg.private_text(USER, "Нет отопления")
    tg.push_update(update)
    [answer] = await tg.wait_sent(1, chat_id=USER)
    await dp.stop_polling()
    await polling

    assert answer["message"]["text"] == "Принято: Нет отопления"
    assert answer["message"]["reply_to_message"]["message_id"] == update["message"]["message_id"]
    assert tg.allowed_updates == ["message"]


# ---- the parsers alone ----------------------------------------------------------------------


def test_entity_offsets_count_utf16_code_units() -> None:
    text, entities = parse_entities("😀 <b>жирный</b>", "HTML")
    assert text == "😀 жирный"
    assert entities == [{"type": "bold", "offset": 3, "length": 6}]


def test_html_pre_code_language_and_unknown_character_references() -> None:
    text, entities = parse_entities(
        '<pre><code class="language-python">x = 1</code></pre> &nbsp; &#1071;', "HTML"
    )
    assert text == "x = 1 &nbsp; Я"
    assert entities == [{"type": "pre", "offset": 0, "length": 5, "language": "python"}]


def test_markdown_v2_reserved_characters_and_entities() -> None:
    with pytest.raises(EntityParseError, match=r"Character '\.' is reserved"):
        parse_entities("Заявка принята.", "MarkdownV2")
    with pytest.raises(EntityParseError, match="Can't find end of Bold entity at byte offset 0"):
        parse_entities("*жирный", "MarkdownV2")
    text, entities = parse_entities(
        r"*Заявка* №17 \(срочно\) [сайт](https://example.org)", "MarkdownV2"
    )
    assert text == "Заявка №17 (срочно) сайт"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 6},
        {"type": "text_link", "offset": 20, "length": 4, "url": "https://example.org"},
    ]
