"""Durable Bots Long Poll: each batch is in the inbox before the position moves past it.

vkbottle's BotPolling starts from VK's current position (events that arrived while the bot was
down are skipped) and keeps its position in `.vkbottle/` under the working directory
(vkbottle/polling/bot_polling.py). Here the position lives in the store, next to the inbox,
and moves only after the batch is stored; the desk works from the inbox, and an event seen
twice is stored once.
Protocol: https://dev.vk.com/ru/api/bots-long-poll/getting-started
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
from vkbottle import API, VKAPIError

from bot.inbox import Failure, failed, malformed
from bot.pump import Fetched, InboxPump, PlatformFailed
from bot.stopping import unless_stopped
from bot.vk.client import NETWORK_ERRORS, TOKEN_REJECTED, describe, error_code
from bot.vk.convert import (
    author_id,
    button_command,
    button_data,
    is_start,
    to_inbound,
    unserved,
)
from bot.vk.names import AuthorNames
from bot.vk.presses import answer_event
from handlers import notices
from handlers.commands import command_of
from handlers.desk import FrontDesk
from handlers.forget import asks_forget, is_forget
from handlers.model import Event, Inbound
from handlers.rating import is_rating
from handlers.status import asks_status
from storage.base import HandledElsewhere, InboxItem, Store
from storage.values import Channel

log = logging.getLogger(__name__)

PLATFORM = "vk"
TS_STATE = "vk:ts"  # the long poll position after the last batch stored in the inbox
HEARD_STATE = "vk:heard-at"  # when VK last answered with events or none (ISO time, UTC)


class VKTokenRejected(Exception):
    """VK says the community token is invalid (error 5): nothing works until it is replaced."""


@dataclass(frozen=True, slots=True)
class LongPollServer:
    """What groups.getLongPollServer hands out: where to ask, with which key."""

    server: str
    key: str
    ts: str


class VKPoller(InboxPump[dict[str, Any]]):
    """Fetches events into the inbox and hands them from there to the front desk.

    The loops are bot/pump.py's; here is what VK says and how the desk is handed an event.
    """

    platform = PLATFORM
    name = "VK long poll"
    log = log

    def __init__(
        self, api: API, desk: FrontDesk, store: Store, group_id: int, *, wait: int = 25
    ) -> None:
        super().__init__(store, desk)
        self.api = api
        self.desk = desk
        self.group_id = group_id
        self.wait = wait  # seconds VK holds a long poll request open (at most 90)
        self.names = AuthorNames(api)
        self._server: LongPollServer | None = None
        self._ts: str | None = None  # the position after the last batch stored

    # fetching

    async def begin(self) -> None:
        self._server = None
        self._ts = await self.store.get_state(TS_STATE)

    async def poll(self) -> Fetched[dict[str, Any]] | None:
        """One a_check; a `failed` answer comes as a batch of nothing, for `confirm`."""
        try:
            if self._server is None:
                self._server = await self._get_server()
            if self._ts is None:
                # A first start, or VK lost its state: from VK's current position.
                self._ts = await self._start_at(self._server.ts)
            answer = await self._check(self._server, self._ts)
        except VKAPIError as exc:
            if error_code(exc) == TOKEN_REJECTED:
                raise VKTokenRejected(
                    "VK_TOKEN: VK rejected the community token (error 5)"
                ) from None
            raise PlatformFailed(describe(exc)) from exc
        except NETWORK_ERRORS as exc:
            raise PlatformFailed(describe(exc)) from exc
        if answer is None:
            return None  # stopping
        return Fetched([] if "failed" in answer else _items(answer), answer)

    async def _start_at(self, ts: str) -> str:
        """Remember VK's current position as ours; a store failing here is tried again."""
        try:
            async with self.store.transaction() as tx:
                await tx.set_state(TS_STATE, ts)
                await tx.set_state(HEARD_STATE, datetime.now(UTC).isoformat())
        except Exception as exc:
            raise PlatformFailed(f"the store failed: {type(exc).__name__}") from exc
        return ts

    async def confirm(self, fetched: Fetched[dict[str, Any]]) -> None:
        answer = fetched.position
        assert self._server is not None and self._ts is not None  # set by poll
        if "failed" in answer:
            self._server, self._ts = await self._recover(answer, self._server, self._ts)
            return
        new_ts = answer.get("ts")
        async with self.store.transaction() as tx:
            if new_ts is not None and str(new_ts) != self._ts:
                await tx.set_state(TS_STATE, str(new_ts))
            await tx.set_state(HEARD_STATE, datetime.now(UTC).isoformat())
        if new_ts is not None:
            self._ts = str(new_ts)

    async def _get_server(self) -> LongPollServer:
        answer = await self.api.request("groups.getLongPollServer", {"group_id": self.group_id})
        try:
            data = answer["response"]
            return LongPollServer(str(data["server"]), str(data["key"]), str(data["ts"]))
        except (KeyError, TypeError) as exc:  # not VK's shape: asked again after a pause
            raise PlatformFailed(
                f"malformed getLongPollServer answer: {type(exc).__name__}"
            ) from None

    async def _check(self, server: LongPollServer, ts: str) -> dict[str, Any] | None:
        """One a_check; None when stopping cut it short (its events stay at VK for later)."""
        done, text = await unless_stopped(self.api.http_client.request_text(
            server.server,
            method="POST",
            params={"act": "a_check", "key": server.key, "ts": ts, "wait": self.wait},
            timeout=aiohttp.ClientTimeout(total=self.wait + 15),
        ), self.stopping)
        if not done or text is None:
            return None
        answer = json.loads(text)
        if not isinstance(answer, dict):
            raise json.JSONDecodeError("not an object", str(answer)[:50], 0)
        return answer

    async def _recover(
        self, answer: dict[str, Any], server: LongPollServer, ts: str
    ) -> tuple[LongPollServer | None, str | None]:
        """VK's `failed` answers: https://dev.vk.com/ru/api/bots-long-poll/getting-started."""
        failed = answer.get("failed")
        if failed == 1 and answer.get("ts") is not None:
            # The history VK keeps no longer reaches back to our position.
            new_ts = str(answer["ts"])
            log.warning("VK long poll: events before position %s are lost; going on from %s",
                        ts, new_ts)
            await self._missed(new_ts)
            return server, new_ts
        if failed == 2:
            log.info("VK long poll key expired; asking for a new one")
            return None, ts  # a new key, the same position
        if failed == 3:
            log.warning("VK long poll lost its state; a new key and position: "
                        "events since the last batch may be missed")
            await self._missed(None)
            return None, None
        log.warning("VK long poll answered failed=%r; asking for a new server", failed)
        await self.pause(1.0)
        return None, ts

    async def _missed(self, new_ts: str | None) -> None:
        """Events VK cannot give back: staff are told to look in the community's messages.

        The notice and the new position are written together; VK offers no way to fetch
        the lost events again through the long poll.
        """
        now = datetime.now(UTC)
        async with self.store.transaction() as tx:
            heard = await tx.get_state(HEARD_STATE)
            since = datetime.fromisoformat(heard) if heard else None
            await notices.vk_events_missed(
                tx, self.desk.texts, self.desk.config.staff_chat_id,
                self.desk.config.timezone, since=since, until=now,
            )
            if new_ts is not None:  # failed: 3 takes VK's current position once asked
                await tx.set_state(TS_STATE, new_ts)
            await tx.set_state(HEARD_STATE, now.isoformat())

    # processing

    async def handle(self, items: list[InboxItem]) -> dict[int, Failure]:
        # Kept without a payload (a group chat's message, `unserved`): nothing to do; the
        # rows are finished with the rest.
        items = [item for item in items if item.payload]
        events: list[dict[str, Any] | None] = []
        for item in items:
            try:
                event = json.loads(item.payload)
            except ValueError:
                event = None
            # Every Bots Long Poll event carries its `object` as a JSON object.
            readable = isinstance(event, dict) and isinstance(event.get("object"), dict)
            events.append(event if readable else None)
        # One users.get for the whole batch; an event whose author cannot be read is
        # malformed on its own, and must not hold back the others.
        failures: dict[int, Failure] = {}
        users: list[int] = []
        for item, event in zip(items, events, strict=True):
            try:
                user = author_id(event) if event is not None else None
            except Exception as exc:
                failures[item.id] = self._malformed(item.id, exc)
                continue
            if user is not None:
                users.append(user)
        try:
            authors = await self.names.lookup(users)
        except Exception as exc:  # an odd answer to users.get: cards show profile ids
            log.warning("users.get failed (%s); cards show profile ids", type(exc).__name__)
            authors = {}
        for item, event in zip(items, events, strict=True):
            if item.id in failures:
                continue
            if event is None:
                log.warning("inbox row %s: malformed event", item.id)
                failures[item.id] = malformed("malformed event")
                continue
            try:
                inbound = to_inbound(event, self.group_id, authors)
            except Exception as exc:  # the event itself cannot be read: trying again won't help
                failures[item.id] = self._malformed(item.id, exc)
                continue
            try:
                await self._handle(item.id, event, inbound)
            except HandledElsewhere:  # another desk, at a handover: nothing more to do here
                log.info("inbox row %s was handled by another desk", item.id)
            except Exception as exc:  # one event failing must not stop the rest
                log.exception("inbox row %s: handling failed", item.id)
                failures[item.id] = failed(exc)
        return failures

    @staticmethod
    def _malformed(inbox_id: int, exc: Exception) -> Failure:
        # The error's name only: its text may quote the event, a citizen's words included.
        reason = f"malformed event: {type(exc).__name__}"
        log.warning("inbox row %s: %s", inbox_id, reason)
        return malformed(reason)

    async def _handle(self, inbox_id: int, event: dict[str, Any], inbound: Inbound | None) -> None:
        if inbound is None:
            return  # the community's own comments, group chats, events the desk ignores
        # Commands only in direct messages: under a post, «статус» is a comment like any other.
        # A command with a photo or a forwarded message carries content: a message like any
        # other, so nothing the citizen sent is lost.
        bare = inbound.channel is Channel.DIRECT and inbound.event is Event.NEW \
            and not inbound.attachments
        data = button_data(event)
        if event.get("type") == "message_event":  # a callback button: answered by snackbar
            press = self.desk.forgetting.confirm if is_forget(data) else self.desk.rate
            await answer_event(self.api, event, await press(inbound, inbox_id))
        elif bare and data is not None and is_forget(data):
            # The text button under the offer of /forget: its label is no message.
            await self.desk.forgetting.confirm(replace(inbound, text=data), inbox_id)
        elif bare and (asks_forget(inbound.text) or button_command(event) == "forget"):
            await self.desk.forgetting.offer(inbound, inbox_id)
        elif bare and data is not None and is_rating(data):
            # A text button of the rating: its label is no message; the desk answers it.
            await self.desk.rate(replace(inbound, text=data), inbox_id)
        elif is_start(event) or (bare and command_of(inbound.text) == "help"):
            await self.desk.greet(inbound, inbox_id)
        elif bare and (asks_status(inbound.text) or button_command(event) == "status"):
            await self.desk.tell_status(inbound, inbox_id)
        else:
            await self.desk.receive(inbound, inbox_id)


def _items(answer: dict[str, Any]) -> list[tuple[str, str]]:
    """The inbox rows of an answer's events.

    Every event is kept, also one that is not an object: it is finished as unreadable and
    staff are told how many there were, rather than passed over as the position moves on.
    An answer whose `updates` is no list at all is not confirmed: asked again after a pause.
    """
    updates = answer.get("updates") or []
    if not isinstance(updates, list):
        raise PlatformFailed(f"malformed answer: updates is {type(updates).__name__}")
    return [inbox_row(event) for event in updates]


def inbox_row(event: Any) -> tuple[str, str]:
    """(source key, payload) of an event however it came, by Long Poll or Callback API."""
    raw = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    # event_id identifies an event however often VK delivers it, by either way.
    event_id = event.get("event_id") if isinstance(event, dict) else None
    key = f"{PLATFORM}:{event_id or hashlib.sha256(raw.encode()).hexdigest()}"
    return key, "" if unserved(event) else raw
