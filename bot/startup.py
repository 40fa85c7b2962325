"""Start-up checks: ask Telegram and VK whether the desk can work before citizens are answered.

A desk whose staff cannot see tickets must not promise citizens an answer, so a chat named in
the settings that the bot cannot use stops the start with one line naming the setting and what
to do. What only weakens the desk (privacy mode keeps the bot from seeing staff talk or channel
comments; a Long Poll event type off) starts it with a loud warning in the log and a message in
the staff chat. Network trouble during the checks is retried a few times; if the platform still
cannot be reached the desk starts anyway (its polling retries for as long as it takes) and says
so in the log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)

from bot.settings import Settings, departments

if TYPE_CHECKING:
    from vkbottle import API

    from handlers.routing import Department

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# Bots Long Poll event types the desk cannot work without, and those it uses when there.
# https://dev.vk.com/ru/api/bots-long-poll/getting-started
VK_EVENTS_NEEDED = ("message_new",)
VK_EVENTS_WANTED = ("wall_reply_new", "wall_reply_edit", "wall_reply_delete")
VK_API_VERSION = "5.199"
_SEES_ALL = frozenset({"creator", "administrator"})
_GONE = frozenset({"left", "kicked"})


class StartupRefused(Exception):
    """The desk must not start: one line that names the setting and what to do."""


class Unreachable(Exception):
    """A platform did not answer after a few tries."""


@dataclass
class Findings:
    """What the checks found that does not stop the start: log lines and staff-chat texts."""

    warnings: list[str] = field(default_factory=list)
    staff_notices: list[str] = field(default_factory=list)  # text keys for the staff chat


@dataclass(frozen=True, slots=True)
class ChatRole:
    setting: str
    chat_id: int
    what: str  # "the staff chat", ...
    must_see_messages: bool
    notice_key: str = ""  # the text for staff when the bot cannot see what it should


class StartupChecks:
    """Asks the platforms about the settings; `run` raises StartupRefused or returns findings."""

    def __init__(
        self, settings: Settings, bot: Bot, vk_api: API | None = None, *,
        attempts: int = 4, first_pause: float = 1.0,
    ) -> None:
        self.settings = settings
        self.bot = bot
        self.vk_api = vk_api
        self.attempts = attempts
        self.first_pause = first_pause

    async def run(self) -> Findings:
        findings = Findings()
        await self._telegram(findings)
        if self.vk_api is not None:
            await self._vk(self.vk_api, findings)
        return findings

    # ---- transient trouble ----------------------------------------------------------------

    async def _patiently(self, call: Callable[[], Awaitable[_T]]) -> _T:
        """The call, repeated on network trouble, 5xx and 429; Unreachable after a few tries."""
        pause = self.first_pause
        for attempt in range(1, self.attempts + 1):
            try:
                return await call()
            except TelegramRetryAfter as exc:
                wait: float = exc.retry_after
                reason = "429"
            except (TelegramNetworkError, TelegramServerError, TimeoutError, OSError) as exc:
                wait, reason = pause, type(exc).__name__
            if attempt == self.attempts:
                raise Unreachable(reason)
            await asyncio.sleep(wait)
            pause *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    # ---- Telegram -------------------------------------------------------------------------

    def _chats(self) -> list[ChatRole]:
        s = self.settings
        roles = [ChatRole("STAFF_CHAT_ID", s.staff_chat_id, "the staff chat", True,
                          "startup-staff-privacy")]
        if s.discussion_chat_id is not None:
            roles.append(ChatRole("DISCUSSION_CHAT_ID", s.discussion_chat_id,
                                  "the discussion group", True, "startup-discussion-privacy"))
        if s.escalation_chat_id is not None and s.escalation_chat_id != s.staff_chat_id:
            roles.append(ChatRole("ESCALATION_CHAT_ID", s.escalation_chat_id,
                                  "the supervisors' chat", False))
        # Staff in a department's chat answer by replying to its cards, which the bot sees
        # in privacy mode too.
        roles += [
            ChatRole("DEPARTMENTS_FILE", int(d.chat_id), f"the chat of department «{d.name}»",
                     False)
            for d in self._departments() if d.chat_id and int(d.chat_id) != s.staff_chat_id
        ]
        return roles

    def _departments(self) -> list[Department]:
        rules = departments(self.settings)
        return list(rules.departments) if rules is not None else []

    def _topics_need_a_forum(self, chat: Any) -> None:
        """A department's topic is a forum topic of the staff chat: the chat must have them."""
        with_topic = [d for d in self._departments() if d.topic is not None and not d.chat_id]
        if with_topic and not getattr(chat, "is_forum", False):
            d = with_topic[0]
            raise StartupRefused(
                f"DEPARTMENTS_FILE: department «{d.name}» names topic {d.topic}, but the staff "
                f"chat {chat.id} has no topics: turn topics on in the group's settings, or "
                "give the department a chat of its own"
            )

    async def _telegram(self, findings: Findings) -> None:
        try:
            me = await self._patiently(self.bot.get_me)
        except (TelegramUnauthorizedError, TelegramNotFound):
            raise StartupRefused(
                "TELEGRAM_TOKEN: Telegram rejected the token: copy it again from @BotFather"
            ) from None
        except Unreachable as exc:
            findings.warnings.append(
                f"Telegram did not answer getMe ({exc}); starting without checking the chats"
            )
            return
        reads_all = bool(me.can_read_all_group_messages)
        for role in self._chats():
            try:
                await self._chat(role, me.id, reads_all, findings)
            except Unreachable as exc:
                findings.warnings.append(
                    f"{role.setting}: Telegram did not answer ({exc}); {role.what} was not checked"
                )

    async def _chat(self, role: ChatRole, bot_id: int, reads_all: bool, found: Findings) -> None:
        name, chat_id = role.setting, role.chat_id
        try:
            chat = await self._patiently(lambda: self.bot.get_chat(chat_id))
            member = await self._patiently(lambda: self.bot.get_chat_member(chat_id, bot_id))
        except TelegramMigrateToChat as exc:
            raise StartupRefused(
                f"{name}: the group became a supergroup: set {name}={exc.migrate_to_chat_id}"
            ) from None
        except TelegramForbiddenError:
            raise StartupRefused(
                f"{name}: the bot was removed from {role.what} {chat_id}: add it back"
            ) from None
        except TelegramBadRequest as exc:
            raise StartupRefused(
                f"{name}: Telegram knows no chat {chat_id} with this bot in it "
                f"({exc.message}): add the bot to {role.what} and check the id "
                "(supergroup ids start with -100)"
            ) from None
        if chat.type == "private":
            return
        if name == "STAFF_CHAT_ID":
            self._topics_need_a_forum(chat)
        if chat.type == "channel":
            raise StartupRefused(f"{name}: {chat_id} is a channel: {role.what} must be a group")
        status = member.status
        if status in _GONE or (status == "restricted" and not getattr(member, "is_member", 1)):
            raise StartupRefused(
                f"{name}: the bot is not a member of {role.what} {chat_id}: add it to the group"
            )
        if not _can_send(status, member, chat.permissions):
            raise StartupRefused(
                f"{name}: the bot may not send messages in {role.what} {chat_id}: "
                "make it an administrator, or allow members to send messages"
            )
        if role.must_see_messages and status not in _SEES_ALL and not reads_all:
            found.warnings.append(
                f"{name}: the bot is not an administrator of {role.what} {chat_id} and its "
                "privacy mode is on, so it sees only replies to its own messages and commands "
                "addressed to it: make it an administrator, or in @BotFather /setprivacy → "
                "Disable (then remove the bot from the group and add it again)"
            )
            found.staff_notices.append(role.notice_key)

    # ---- VK -------------------------------------------------------------------------------

    async def _vk(self, api: API, findings: Findings) -> None:
        from bot.vk.client import NETWORK_ERRORS, TOKEN_REJECTED, error_code  # noqa: PLC0415

        assert self.settings.vk_group_id is not None
        wanted = abs(self.settings.vk_group_id)
        try:
            groups = await self._vk_call(api, "groups.getById", {}, NETWORK_ERRORS)
            self._vk_same_group(groups, wanted)
            settings = await self._vk_call(
                api, "groups.getLongPollSettings", {"group_id": wanted}, NETWORK_ERRORS
            )
        except Unreachable as exc:
            findings.warnings.append(f"VK did not answer ({exc}); the community was not checked")
            return
        except Exception as exc:
            code = error_code(exc)
            if code == TOKEN_REJECTED:
                raise StartupRefused(
                    "VK_TOKEN: VK rejected the token: create a community token again "
                    "(community → Manage → API usage → Access tokens)"
                ) from None
            if code is None:
                raise
            raise StartupRefused(
                f"VK_TOKEN: VK refused the check of community {wanted} (VK error {code}): "
                f"the token must be a token of the community VK_GROUP_ID={wanted}"
            ) from None
        if not self.settings.vk_callback:  # with the Callback API VK's events come by it
            self._vk_long_poll(settings, wanted, findings)

    @staticmethod
    def _vk_same_group(groups: Any, wanted: int) -> None:
        """With a community token and no ids, groups.getById answers the token's community."""
        listed = groups.get("groups", []) if isinstance(groups, dict) else groups
        own = int(listed[0]["id"]) if listed else None
        if own != wanted:
            raise StartupRefused(
                f"VK_GROUP_ID: the token belongs to community {own}, not {wanted}: set "
                f"VK_GROUP_ID={own} or use a token of community {wanted}"
            )

    async def _vk_call(
        self, api: API, method: str, params: dict[str, Any],
        network_errors: tuple[type[BaseException], ...],
    ) -> Any:
        pause = self.first_pause
        for attempt in range(1, self.attempts + 1):
            try:
                answer = await api.request(method, params)
                return answer["response"]
            except Exception as exc:
                transient = isinstance(exc, network_errors) or getattr(exc, "code", None) in {
                    1, 6, 9, 10, 29}
                if not transient:
                    raise
                if attempt == self.attempts:
                    raise Unreachable(type(exc).__name__) from None
            await asyncio.sleep(pause)
            pause *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    @staticmethod
    def _vk_long_poll(answer: Any, group_id: int, findings: Findings) -> None:
        where = "community → Manage → API usage → Long Poll API"
        if not answer.get("is_enabled"):
            raise StartupRefused(
                f"VK_TOKEN: Long Poll API is off in community {group_id}: turn it on "
                f"({where}), version {VK_API_VERSION}"
            )
        events = answer.get("events") or {}
        missing = [name for name in VK_EVENTS_NEEDED if not events.get(name)]
        if missing:
            raise StartupRefused(
                f"VK_TOKEN: Long Poll of community {group_id} does not send "
                f"{', '.join(missing)}: tick it under event types ({where})"
            )
        off = [name for name in VK_EVENTS_WANTED if not events.get(name)]
        if off:
            findings.warnings.append(
                f"VK_TOKEN: Long Poll of community {group_id} does not send {', '.join(off)}: "
                f"comments under posts are missed until it is ticked ({where})"
            )
            findings.staff_notices.append("startup-vk-comments-off")
        version = str(answer.get("api_version", ""))
        if version and version != VK_API_VERSION:
            findings.warnings.append(
                f"VK_TOKEN: Long Poll API version is {version}; choose {VK_API_VERSION} ({where})"
            )


def _can_send(status: str, member: Any, permissions: Any) -> bool:
    """Whether the bot may post: https://core.telegram.org/bots/api#chatmember."""
    if status in _SEES_ALL:
        return True
    if status == "restricted":
        return bool(getattr(member, "can_send_messages", False))
    # A plain member may post unless the group's default permissions forbid it.
    return permissions is None or permissions.can_send_messages is not False
