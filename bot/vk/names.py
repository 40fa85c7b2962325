"""Citizens' names for staff cards: `users.get`, asked once per batch and kept in memory."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from vkbottle import API

from bot.vk.client import API_ERRORS, describe
from bot.vk.convert import Author, profile_link
from handlers.expiring import ExpiringDict

log = logging.getLogger(__name__)

USERS_PER_REQUEST = 1000  # https://dev.vk.com/ru/method/users.get: user_ids, up to 1000
NAMES_KEPT_FOR = 3600.0  # seconds after a name was asked: a citizen's conversation, not a year


class AuthorNames:
    """Names by VK user id; one VK cannot give now shows as `id<n>` and is asked again."""

    def __init__(self, api: API) -> None:
        self.api = api
        self._known: ExpiringDict[int, Author] = ExpiringDict(NAMES_KEPT_FOR)

    async def lookup(self, user_ids: Iterable[int]) -> Mapping[int, Author]:
        """Names of these users, asking VK only for the ones not known yet."""
        wanted = {u for u in user_ids if u > 0}
        missing = sorted(wanted - self._known.keys())
        for start in range(0, len(missing), USERS_PER_REQUEST):
            await self._ask(missing[start : start + USERS_PER_REQUEST])
        return {u: self._known[u] for u in wanted if u in self._known}

    async def _ask(self, user_ids: list[int]) -> None:
        try:
            answer = await self.api.request(
                "users.get", {"user_ids": ",".join(map(str, user_ids))}
            )
        except API_ERRORS as exc:
            # The card shows `id<n>` with the profile link; the next batch asks again.
            log.warning("users.get failed (%s); cards show profile ids", describe(exc))
            return
        for user in answer.get("response") or []:
            if not isinstance(user, dict) or not isinstance(user.get("id"), int):
                continue
            name = " ".join(str(user[k]) for k in ("first_name", "last_name") if user.get(k))
            self._known[user["id"]] = Author(name or f"id{user['id']}", profile_link(user["id"]))
