"""The fake VK server, driven by vkbottle's real API client, uploaders and BotPolling."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from vkbottle import (
    API,
    AiohttpClient,
    BotPolling,
    DocMessagesUploader,
    PhotoMessageUploader,
    VKAPIError,
)
from vkbottle.api.request_rescheduler import BlockingRequestRescheduler
from vkbottle_types.events.bot_events import MessageNew, WallReplyDelete, WallReplyNew
from vkbottle_types.objects import MessagesSendUserIdsResponseItem, UsersFields

from tests.fakes.vk import LONGPOLL, FakeVK


@pytest.fixture
async def vk() -> AsyncIterator[FakeVK]:
    async with FakeVK() as fake:
        yield fake


@pytest.fixture
async def http_client() -> AsyncIterator[AiohttpClient]:
    # An explicit client, closed here: vkbottle's default SingleAiohttpClient is a process-wide
    # singleton whose session outlives the test's event loop.
    client = AiohttpClient()
    yield client
    await client.close()


@pytest.fixture
def api(vk: FakeVK, http_client: AiohttpClient) -> API:
    return make_api(vk, http_client)


@pytest.fixture
def in_tmp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    # BotPolling writes its ts to ./.vkbottle/bot-polling/<group_id>.json after every batch.
    monkeypatch.chdir(tmp_path)
    return tmp_path


def make_api(vk: FakeVK, http_client: AiohttpClient, **kwargs: Any) -> API:
    api = API(vk.token, http_client=http_client, **kwargs)
    api.API_URL = vk.api_url  # vkbottle requests API_URL + method name
    return api


async def ask_next_batch(
    vk: FakeVK, updates: AsyncIterator[dict[str, Any]]
) -> asyncio.Future[dict[str, Any]]:
    """Ask the polling loop for its next batch; return once its long poll request arrived."""
    asked = len(vk.longpoll_requests)
    batch = asyncio.ensure_future(anext(updates))
    await vk.wait_for(lambda: len(vk.longpoll_requests) > asked, timeout=2)
    return batch


async def test_send_returns_message_id_and_repeated_random_id_sends_nothing(
    vk: FakeVK, api: API
) -> None:
    first = await api.messages.send(peer_id=1, message="Здравствуйте", random_id=101)
    repeated = await api.messages.send(peer_id=1, message="Здравствуйте", random_id=101)
    unprotected = [await api.messages.send(peer_id=1, message="x", random_id=0) for _ in range(2)]

    assert isinstance(first, int)
    assert repeated == first
    assert unprotected[0] != unprotected[1]
    sent = vk.sent_messages(peer_id=1)
    assert [m["message"] for m in sent] == ["Здравствуйте", "x", "x"]
    assert sent[0]["id"] == first
    assert sent[0]["random_id"] == 101
    assert len(vk.calls("messages.send")) == 4


async def test_repeated_random_id_is_checked_per_dialog_for_an_hour_and_100_messages(
    http_client: AiohttpClient,
) -> None:
    now = [1_700_000_000.0]
    async with FakeVK(clock=lambda: now[0]) as vk:
        api = make_api(vk, http_client)
        first = await api.messages.send(peer_id=1, message="Ответ", random_id=55)
        other_dialog = await api.messages.send(peer_id=2, message="Ответ", random_id=55)
        assert other_dialog != first  # another dialog: sent
        now[0] += 3599
        assert await api.messages.send(peer_id=1, message="Ответ", random_id=55) == first
        now[0] += 2
        after_an_hour = await api.messages.send(peer_id=1, message="Ответ", random_id=55)
        assert after_an_hour != first
        for n in range(100):
            await api.messages.send(peer_id=1, message=f"ещё {n}", random_id=1000 + n)
        beyond_100 = await api.messages.send(peer_id=1, message="Ответ", random_id=55)
        assert beyond_100 != after_an_hour
        assert [m["message"] for m in vk.sent_messages(peer_id=1)].count("Ответ") == 3


async def test_send_to_user_who_denied_messages_raises_901(vk: FakeVK, api: API) -> None:
    vk.deny_messages(5)

    with pytest.raises(VKAPIError[901]) as caught:
        await api.messages.send(peer_id=5, message="Ответ", random_id=7)

    assert caught.value.error_msg == "Can't send messages for users without permission"
    assert caught.value.request_params["method"] == "messages.send"
    assert vk.sent_messages() == []
    vk.message_new(from_id=5, text="снова пишу")  # writing to the community lifts it, as on VK
    assert isinstance(await api.messages.send(peer_id=5, message="Ответ", random_id=7), int)


async def test_send_validates_like_vk(vk: FakeVK, api: API) -> None:
    with pytest.raises(VKAPIError[100]) as missing:
        await api.messages.send(peer_id=1, message="без random_id")
    with pytest.raises(VKAPIError[914]):
        await api.messages.send(peer_id=1, message="я" * 4097, random_id=1)

    assert str(missing.value) == (
        "One of the parameters specified was missing or invalid: random_id is a required parameter"
    )
    assert await api.messages.send(peer_id=1, message="я" * 4096, random_id=2)


async def test_message_answer_style_peer_ids_returns_items(vk: FakeVK, api: API) -> None:
    vk.deny_messages(2, push_event=False)

    # vkbottle's Message.answer() sends this way; its typed send() overloads claim an int.
    response = await api.request(
        "messages.send", {"peer_ids": [1, 2], "message": "Всем", "random_id": 0}
    )

    items = [MessagesSendUserIdsResponseItem(**item) for item in response["response"]]
    assert items[0].peer_id == 1
    assert items[0].message_id == vk.sent_messages(1)[0]["id"]
    assert items[1].error is not None
    assert items[1].error.code == 901


async def test_unknown_method_and_wrong_token_answer_vk_errors(
    vk: FakeVK, api: API, http_client: AiohttpClient
) -> None:
    with pytest.raises(VKAPIError[3]):
        await api.request("messages.sendEverywhere", {})
    intruder = API("wrong-token", http_client=http_client)
    intruder.API_URL = vk.api_url
    with pytest.raises(VKAPIError[5]) as caught:
        await intruder.request("users.get", {})

    assert str(caught.value) == "User authorization failed: invalid access_token (4)."
    raw = await http_client.request_json(f"{vk.api_url}foo.bar", params={"v": "5.199"})
    assert raw["error"]["error_code"] == 5
    assert raw["error"]["request_params"][0] == {"key": "method", "value": "foo.bar"}


async def test_users_get_returns_registered_and_generated_users(vk: FakeVK, api: API) -> None:
    vk.add_user(1, "Анна", "Петрова", screen_name="anna")

    users = await api.users.get(
        user_ids=[1, 777], fields=[UsersFields.SCREEN_NAME, UsersFields.PHOTO_100]
    )

    assert (users[0].id, users[0].first_name, users[0].last_name) == (1, "Анна", "Петрова")
    assert users[0].screen_name == "anna"
    assert users[1].id == 777
    assert users[1].first_name
    assert users[1].first_name.isalpha()
    assert users[1].photo_100 is not None
    assert users[1].photo_100.startswith(vk.base_url)
    resolved = await api.utils.resolve_screen_name(screen_name="anna")
    assert not isinstance(resolved, list)
    assert resolved.object_id == 1


async def test_create_comment_threads_the_reply_and_guid_makes_it_idempotent(
    vk: FakeVK, api: API
) -> None:
    post_id = vk.add_post("Ремонт дороги на улице Ленина")
    question = vk.wall_reply_new(post_id, from_id=10, text="Когда закончат?")["object"]["id"]

    created = await api.wall.create_comment(
        owner_id=-vk.group_id,
        post_id=post_id,
        message="До 1 июня",
        reply_to_comment=question,
        from_group=vk.group_id,
        guid="ticket-1",
    )
    retried = await api.wall.create_comment(
        owner_id=-vk.group_id, post_id=post_id, message="До 1 июня", guid="ticket-1"
    )

    assert retried.comment_id == created.comment_id
    assert created.parents_stack == [question]
    [answer] = await vk.wait_comments(1, post_id=post_id)
    assert answer["reply_to_comment"] == question
    assert answer["reply_to_user"] == 10
    assert answer["from_id"] == -vk.group_id
    echo = vk.events[-1]
    assert echo["type"] == "wall_reply_new"
    assert echo["object"]["id"] == created.comment_id
    thread = await api.wall.get_comments(owner_id=-vk.group_id, post_id=post_id)
    assert thread.items[0].thread is not None
    assert thread.items[0].thread.count == 1


async def test_create_comment_errors(vk: FakeVK, api: API) -> None:
    post_id = vk.add_post("Объявление")

    with pytest.raises(VKAPIError[15]):
        await api.wall.create_comment(owner_id=-1, post_id=post_id, message="x")
    with pytest.raises(VKAPIError[100]):
        await api.request("wall.createComment", {"owner_id": -vk.group_id, "message": "x"})


async def test_bot_polling_receives_a_pushed_message(
    vk: FakeVK, api: API, in_tmp_dir: Path
) -> None:
    polling = BotPolling(api, group_id=vk.group_id, wait=1)

    state = in_tmp_dir / ".vkbottle" / "bot-polling" / f"{vk.group_id}.json"

    async with contextlib.aclosing(polling.listen()) as updates:
        pending = await ask_next_batch(vk, updates)
        pushed = vk.message_new(from_id=1, text="Здравствуйте")
        batch = await asyncio.wait_for(pending, 2)
        assert not state.exists()  # the ts is saved only when the next batch is asked for
        pending = await ask_next_batch(vk, updates)
        pending.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pending

    assert batch["updates"] == [pushed]
    assert batch["ts"] == str(vk.ts)
    assert json.loads(state.read_text()) == {"ts": str(vk.ts)}


async def test_bot_polling_gets_a_new_key_after_failed_2_and_loses_nothing(
    vk: FakeVK, api: API, in_tmp_dir: Path
) -> None:
    polling = BotPolling(api, group_id=vk.group_id, wait=1)

    async with contextlib.aclosing(polling.listen()) as updates:
        pending = await ask_next_batch(vk, updates)
        vk.expire_key()
        first = vk.message_new(from_id=1, text="первое")
        second = vk.message_new(from_id=1, text="второе")
        batches = [await asyncio.wait_for(pending, 2)]
        pending = await ask_next_batch(vk, updates)
        third = vk.message_new(from_id=1, text="третье")
        batches.append(await asyncio.wait_for(pending, 2))

    assert [b["updates"] for b in batches] == [[first, second], [third]]
    assert len(vk.calls("groups.getLongPollServer")) == 2


async def test_long_poll_keeps_history_for_a_restarted_client(
    vk: FakeVK, api: API, http_client: AiohttpClient
) -> None:
    server = (await api.request("groups.getLongPollServer", {"group_id": vk.group_id}))["response"]
    pushed = [vk.message_new(from_id=1, text=str(i)) for i in range(3)]

    async def check(ts: int | str, key: str = server["key"]) -> dict[str, Any]:
        params = {"act": "a_check", "key": key, "ts": ts, "wait": 0}
        return await http_client.request_json(server["server"], method="POST", params=params)

    first = await check(server["ts"])
    again = await check(server["ts"])
    vk.lose_history_before(vk.ts - 1)
    too_old = await check(server["ts"])
    vk.lose_info()
    lost = await check(vk.ts)

    assert first == again == {"ts": str(vk.ts), "updates": pushed}
    assert too_old == {"failed": 1, "ts": vk.ts - 1}
    assert lost == {"failed": 3}
    assert await check(vk.ts, key="nonsense") == {"failed": 2}
    assert vk.longpoll_requests[:2] == [int(server["ts"])] * 2


async def test_duplicate_event_id_is_delivered_twice(vk: FakeVK) -> None:
    event = vk.message_new(from_id=1, text="дубль")

    vk.push_raw(event)

    assert [e["event_id"] for e in vk.events] == [event["event_id"]] * 2


async def test_events_parse_as_vkbottle_models(vk: FakeVK) -> None:
    post_id = vk.add_post("Новость")
    previous = vk.message_new(from_id=1, text="первое")
    message = vk.message_new(
        from_id=1,
        text="Смотрите",
        attachments=[
            vk.photo_attachment(1, content=b"jpeg"),
            vk.doc_attachment(1, title="жалоба.pdf"),
            vk.audio_message_attachment(1, transcript="текст"),
            vk.sticker_attachment(9),
            vk.wall_attachment(post_id=post_id),
        ],
        reply_message=previous,
        geo=vk.geo(55.75, 37.62, title="Москва"),
    )
    comment = vk.wall_reply_new(post_id, from_id=2, text="Вопрос")
    reply = vk.wall_reply_new(post_id, 3, "Ответ", reply_to_comment=comment["object"]["id"])
    deleted = vk.wall_reply_delete(reply["object"]["id"], deleter_id=-vk.group_id)

    parsed = MessageNew(**message).object.message
    assert parsed is not None
    assert [a.type.value for a in parsed.attachments or []] == [
        "photo",
        "doc",
        "audio_message",
        "sticker",
        "wall",
    ]
    assert parsed.reply_message is not None
    assert parsed.reply_message.text == "первое"
    assert WallReplyNew(**reply).object.parents_stack == [comment["object"]["id"]]
    assert WallReplyDelete(**deleted).object.deleter_id == -vk.group_id
    assert vk.comments(post_id)[1]["deleted"] is True


async def test_attachment_urls_download_from_the_fake(
    vk: FakeVK, http_client: AiohttpClient
) -> None:
    photo = vk.photo_attachment(1, content=b"photo-bytes")["photo"]
    doc = vk.doc_attachment(1, title="справка.txt", content=b"doc-bytes")["doc"]

    largest = max(photo["sizes"], key=lambda s: s["width"])
    assert await http_client.request_content(largest["url"]) == b"photo-bytes"
    assert await http_client.request_content(doc["url"]) == b"doc-bytes"


async def test_photo_message_uploader_flow(
    vk: FakeVK, api: API, http_client: AiohttpClient
) -> None:
    uploader = PhotoMessageUploader(api)

    attachment = await uploader.upload(b"\x89PNG fake", peer_id=1)  # bytes; a str is a path
    await api.messages.send(peer_id=1, attachment=attachment, random_id=0)

    assert attachment.startswith(f"photo-{vk.group_id}_")
    assert vk.sent_messages(1)[0]["attachment"] == attachment
    saved = vk.calls("photos.saveMessagesPhoto")[0].response[0]
    assert await http_client.request_content(saved["sizes"][0]["url"]) == b"\x89PNG fake"


async def test_doc_messages_uploader_flow(vk: FakeVK, api: API) -> None:
    attachment = await DocMessagesUploader(api).upload(b"%PDF", peer_id=1, title="ответ.pdf")

    assert attachment.startswith(f"doc-{vk.group_id}_")
    assert vk.calls("docs.save")[0].response["doc"]["title"] == "ответ.pdf"


async def test_fail_next_raises_once_then_recovers(vk: FakeVK, api: API) -> None:
    vk.fail_next("messages.send", 9)

    with pytest.raises(VKAPIError[9]) as caught:
        await api.messages.send(peer_id=1, message="x", random_id=1)
    assert str(caught.value) == "Flood control"
    assert await api.messages.send(peer_id=1, message="x", random_id=1)
    assert [c.error_code for c in vk.calls("messages.send")] == [9, None]


async def test_http_error_is_rescheduled_by_vkbottle(
    vk: FakeVK, http_client: AiohttpClient
) -> None:
    # vkbottle does not raise on a non-JSON answer: it sleeps `delay` seconds (5 by default)
    # and asks once more; a second bad answer raises VKAPIError[1].
    api = make_api(vk, http_client, request_rescheduler=BlockingRequestRescheduler(delay=0))
    vk.http_error_next("users.get", status=502)

    users = await api.users.get(user_ids=[1])

    assert users[0].id == 1
    assert [c.http_status for c in vk.calls("users.get")] == [502, 200]


async def test_api_error_window_and_http_error_on_long_poll(
    vk: FakeVK, http_client: AiohttpClient
) -> None:
    vk.faults.api_error(10, for_seconds=5, method="users.get")
    vk.http_error_next(LONGPOLL, status=503)

    raw = await http_client.request_json(
        f"{vk.api_url}users.get", params={"access_token": vk.token, "v": "5.199"}
    )
    async with aiohttp.ClientSession() as session, session.get(vk.longpoll_url) as response:
        assert response.status == 503

    assert raw["error"]["error_code"] == 10
    vk.faults.clear()


async def test_timeout_that_processes_the_call_then_stop_does_not_hang() -> None:
    vk = FakeVK()
    await vk.start()
    vk.faults.timeout(60, method="messages.send", process=True)
    params = {"access_token": vk.token, "v": "5.199", "peer_id": "1", "random_id": "5"}
    params["message"] = "Ответ"

    async with aiohttp.ClientSession() as session:
        request = asyncio.ensure_future(session.post(f"{vk.api_url}messages.send", data=params))
        await vk.wait_messages(1, timeout=2)  # sent, but the answer never comes
        assert not request.done()
        await asyncio.wait_for(vk.stop(), 30)  # a guard against a hang, not a bound
        with pytest.raises(aiohttp.ServerDisconnectedError):
            await request  # the held call is let go when the fake stops


async def test_enforced_limit_answers_error_6_beyond_20_per_second(
    http_client: AiohttpClient,
) -> None:
    async with FakeVK(enforce_limits=True) as vk:
        api = make_api(vk, http_client)
        results = await asyncio.gather(
            *(api.users.get(user_ids=[1]) for _ in range(25)), return_exceptions=True
        )

    assert sum(isinstance(r, VKAPIError[6]) for r in results) == 5


async def test_wait_messages_wakes_when_the_bot_sends(vk: FakeVK, api: API) -> None:
    async def bot() -> None:
        await asyncio.sleep(0.01)
        await api.messages.send(peer_id=3, message="Принято", random_id=0)

    task = asyncio.create_task(bot())
    sent = await vk.wait_messages(1, peer_id=3, timeout=2)
    await task

    assert sent[0]["message"] == "Принято"
    with pytest.raises(TimeoutError):
        await vk.wait_messages(2, peer_id=3, timeout=0.05)
