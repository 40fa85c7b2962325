"""Outbound messages as VK API calls, and VK's errors as delivery results.

A private message goes with `messages.send` (its buttons as an inline keyboard), an answer to
a comment with `wall.createComment` under the citizen's comment, from the community. Both are
made idempotent with numbers derived from the outbox row, so a retry after a lost answer sends
nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from vkbottle import API, DocMessagesUploader, DocWallUploader, PhotoMessageUploader, VKAPIError

from bot.delivery import DeliveryResult
from bot.files import FetchFile, FileUnavailable
from bot.telegram.split import split_plain
from bot.vk.client import NETWORK_ERRORS, TOKEN_REJECTED, TRANSIENT_CODES, describe, error_code
from bot.vk.convert import media_ref
from bot.vk.keyboard import REFUSED, keyboard_of
from handlers import render
from handlers.texts import Texts
from storage.base import Store
from storage.values import Attachment, Channel, Outbound, Purpose

log = logging.getLogger(__name__)

TEXT_LIMIT = 4096  # messages.send: https://dev.vk.com/ru/method/messages.send
SHORTER_LIMIT = 1024  # after error 914: VK counted a part longer than we did
TOO_LONG = 914
TOO_MANY_PER_SECOND = 6
INVALID_PARAMETER = 100

# Each outbox row owns SLOTS consecutive numbers for random_id and guid: one per part of a
# split text, the second half for parts re-split after error 914, so no number repeats.
SLOTS = 16
HALF = SLOTS // 2
INT32_SPAN = 2**31 - 1  # random_id is int32; 0 turns VK's duplicate protection off
SALT_STATE = "vk:random_salt"

# (text, slot, with attachments, is the last part) → the id VK gave it
Send = Callable[[str, int, bool, bool], Awaitable[int]]


def random_id(salt: int, outbox_id: int, slot: int) -> int:
    """messages.send `random_id`: stable for one part of one row, in 1 … 2**31 - 1.

    VK sends nothing for a random_id it has seen from the community before, whatever the peer
    (https://dev.vk.com/ru/method/messages.send), so the number is unique across peers. The
    store's own salt keeps a new database from reusing the numbers of an old one.
    """
    if not 0 <= slot < SLOTS:
        raise ValueError(f"slot {slot} outside 0…{SLOTS - 1}")
    return (salt + outbox_id * SLOTS + slot) % INT32_SPAN + 1


def comment_guid(salt: int, outbox_id: int, slot: int) -> str:
    """wall.createComment `guid`: VK posts one comment per guid, so a retry posts none."""
    return f"fd{salt}-{outbox_id}-{slot}"


class TextTooLong(Exception):
    """More parts than an outbox row has numbers for: a text of over 32,000 characters."""


class VKDelivery:
    """Sends outbox rows through the VK API as the community."""

    def __init__(
        self, api: API, store: Store, group_id: int, fetch_file: FetchFile, texts: Texts
    ) -> None:
        self.api = api
        self.store = store
        self.group_id = group_id
        self.fetch_file = fetch_file
        self.texts = texts
        self._salt: int | None = None
        self._salt_lock = asyncio.Lock()

    async def deliver(self, outbound: Outbound, outbox_id: int, done: int = 0) -> DeliveryResult:
        """All parts again, whatever `done`: VK sends none twice (`random_id`, `guid`)."""
        try:
            if outbound.channel is Channel.COMMENT:
                return await self._comment(outbound, outbox_id)
            return await self._message(outbound, outbox_id)
        except VKAPIError as exc:
            return _result_of(exc)
        except NETWORK_ERRORS as exc:
            return DeliveryResult.retry(describe(exc))
        except TextTooLong:
            return DeliveryResult.failed("the text is too long for VK")

    async def salt(self) -> int:
        """A random number kept in the store, made on first use."""
        async with self._salt_lock:
            if self._salt is None:
                stored = await self.store.get_state(SALT_STATE)
                if stored is None:
                    stored = str(secrets.randbelow(INT32_SPAN))
                    await self.store.set_state(SALT_STATE, stored)
                self._salt = int(stored)
        return self._salt

    async def _message(self, out: Outbound, outbox_id: int) -> DeliveryResult:
        peer = int(out.chat_id)
        salt = await self.salt()
        attachment, unrelayed = await self._attachments(out, peer)

        keyboard = keyboard_of(out)

        async def send(text: str, slot: int, with_attachments: bool, last: bool) -> int:
            params: dict[str, Any] = {
                "peer_id": peer, "message": text,
                "random_id": random_id(salt, outbox_id, slot),
            }
            if with_attachments and attachment:
                params["attachment"] = attachment
            if keyboard and last:  # the buttons under the end of the text, as on Telegram
                try:
                    answer = await self.api.request(
                        "messages.send", {**params, "keyboard": keyboard}
                    )
                    return int(answer["response"])
                except VKAPIError as exc:
                    if error_code(exc) not in REFUSED:
                        raise
                    # 911 or 912 (bot features off): nothing was sent; the same part, with
                    # the same random_id, goes without the buttons, and without the question
                    # they answer (a closing message's last paragraph): a typed answer to it
                    # would be a new message, not a rating.
                    log.error("VK refused the keyboard (%s); sending without it", describe(exc))
                    if out.purpose is Purpose.CLOSING and "\n\n" in text:
                        params["message"] = text.rsplit("\n\n", 1)[0]
            answer = await self.api.request("messages.send", params)
            return int(answer["response"])

        ids = await _send_text(send, out.text)
        return DeliveryResult.sent(*ids, unrelayed=unrelayed)

    async def _comment(self, out: Outbound, outbox_id: int) -> DeliveryResult:
        owner, _, post = out.chat_id.rpartition("_")
        salt = await self.salt()
        attachments, unrelayed = await self._attachments(out, None)

        async def send(text: str, slot: int, with_attachments: bool, last: bool) -> int:
            nonlocal unrelayed  # a comment never carries buttons: `last` is not needed
            params: dict[str, Any] = {
                "owner_id": int(owner), "post_id": int(post), "message": text,
                "from_group": self.group_id, "guid": comment_guid(salt, outbox_id, slot),
            }
            if out.reply_to:
                params["reply_to_comment"] = int(out.reply_to)
            if with_attachments and attachments:
                try:
                    answer = await self.api.request(
                        "wall.createComment", {**params, "attachments": attachments}
                    )
                    return int(answer["response"]["comment_id"])
                except VKAPIError as exc:
                    if error_code(exc) != INVALID_PARAMETER:
                        raise
                    # VK refused the uploaded files under a comment: the text goes alone.
                    log.warning("VK refused attachments under a comment: %s", describe(exc))
                    unrelayed = ", ".join(
                        render.describe(self.texts, out.attachments)
                    )
            answer = await self.api.request("wall.createComment", params)
            return int(answer["response"]["comment_id"])

        ids = await _send_text(send, out.text)
        return DeliveryResult.sent(*ids, unrelayed=unrelayed)

    async def _attachments(self, out: Outbound, peer: int | None) -> tuple[str, str | None]:
        """Staff files uploaded to VK: the attachment string, and what could not go."""
        refs: list[str] = []
        missed: list[Attachment] = []
        for item in out.attachments:
            ref = await self._upload(item, peer)
            if ref:
                refs.append(ref)
            else:
                missed.append(item)
        unrelayed = ", ".join(render.describe(self.texts, missed)) if missed else None
        return ",".join(refs), unrelayed

    async def _upload(self, item: Attachment, peer: int | None) -> str | None:
        """One staff file on VK (`photo-1_2_key`), None if VK cannot take it from a community.

        Temporary failures raise, so the whole answer is tried again later.
        """
        if item.kind not in {"photo", "document"} or not item.ref:
            return None  # video, voice, stickers…: VK takes them only from a user's token
        try:
            data = await self.fetch_file(item.ref)
            return await self._upload_bytes(item, data, peer)
        except FileUnavailable as exc:
            log.warning("a staff file could not be fetched from Telegram: %s", exc)
            return None
        except VKAPIError as exc:
            if error_code(exc) in TRANSIENT_CODES or error_code(exc) == TOKEN_REJECTED:
                raise
            log.warning("VK did not take a staff file: %s", describe(exc))
            return None

    async def _upload_bytes(self, item: Attachment, data: bytes, peer: int | None) -> str:
        if peer is not None and item.kind == "photo":
            photo = await PhotoMessageUploader(self.api).raw_upload(data, peer_id=peer)
            return media_ref("photo", photo)
        title = item.name or ("photo.jpg" if item.kind == "photo" else "document")
        if peer is not None:
            saved = await DocMessagesUploader(self.api).raw_upload(data, peer_id=peer, title=title)
        else:
            # photos.getWallUploadServer takes only a user's token (VK API schema,
            # access_token_type ["user"]); docs.getWallUploadServer takes the community's,
            # so a photo goes under a comment as an image document.
            saved = await DocWallUploader(self.api).raw_upload(
                data, group_id=self.group_id, title=title
            )
        kind = str(saved["type"])
        return media_ref("doc", saved[kind])


async def _send_text(send: Send, text: str) -> list[int]:
    """A text in parts VK takes, never cut; attachments go with the first part."""
    parts = split_plain(text, TEXT_LIMIT) if text else [""]
    if len(parts) > HALF:
        raise TextTooLong
    ids: list[int] = []
    for index, part in enumerate(parts):
        try:
            ids.append(await send(part, index, index == 0, index == len(parts) - 1))
        except VKAPIError as exc:
            if error_code(exc) != TOO_LONG:
                raise
            # The rest again in shorter parts, numbered from the row's second half.
            shorter = [p for rest in parts[index:] for p in split_plain(rest, SHORTER_LIMIT)]
            if len(shorter) > HALF:
                raise TextTooLong from None
            for offset, piece in enumerate(shorter):
                ids.append(await send(
                    piece, HALF + offset, index == 0 and offset == 0, offset == len(shorter) - 1
                ))
            return ids
    return ids


def _result_of(exc: VKAPIError) -> DeliveryResult:
    """VK's error codes (https://dev.vk.com/ru/reference/errors) as the sender's results."""
    code = error_code(exc)
    if code == TOO_MANY_PER_SECOND:
        return DeliveryResult.retry(describe(exc), after=1.0)
    if code in TRANSIENT_CODES:
        return DeliveryResult.retry(describe(exc))
    if code == TOKEN_REJECTED:
        # The poller stops the desk naming VK_TOKEN; the row waits for a valid token.
        return DeliveryResult.retry(describe(exc))
    # 901/902: the citizen does not take messages from the community; 7, 15, 212, 213:
    # comments closed or the post gone; 914 even in short parts; anything else VK refuses.
    return DeliveryResult.failed(describe(exc))
