"""A local fake of the VK API and the Bots Long Poll server.

End-to-end tests and benchmarks run vkbottle's real ``API`` client and ``BotPolling`` against it.
It serves ``/method/{name}`` in VK API 5.199 shapes with VK's error format, hands out a Bots
Long Poll server on the same port, accepts photo and document uploads, and serves the files it
knows about so attachments can be downloaded. Everything lives in memory; one instance is one
community (``group_id``) holding one community token.

    async with FakeVK() as vk:
        api = API(vk.token, http_client=AiohttpClient())
        api.API_URL = vk.api_url            # vkbottle builds ``API_URL + method``
        polling = BotPolling(api, group_id=vk.group_id, wait=1)
        vk.message_new(from_id=1, text="Здравствуйте")
        ...
        await vk.wait_messages(1, peer_id=1)

Conventions, all taken from VK:

* Errors come back with HTTP 200 as ``{"error": {"error_code", "error_msg", "request_params"}}``.
* The long poll ``ts`` is a position in the event history: ``a_check`` with ``ts=T`` returns every
  event at position ``>= T`` and the next position as the new ``ts``. Events are kept, so a
  restarted client asking with an old ``ts`` gets them again.
* Post ids and comment ids on the community wall come from one sequence, as on VK.
* A non-zero ``random_id`` the community already used in the same dialog within the last hour,
  among that dialog's last 100 messages, returns the first message's id and sends nothing;
  anywhere else, or later, it sends again (https://dev.vk.com/ru/method/messages.send,
  ``random_id``: «проверяя в заданном диалоге сообщения за последний час (но не более 100
  последних сообщений)»). ``random_id=0`` turns the check off.
* The community's own comments come back as ``wall_reply_new`` (``from_id = -group_id``) and its
  own messages as ``message_reply`` when those events are enabled in the long poll settings
  (``wall_reply_new`` is on by default, ``message_reply`` off), so a bot must skip its own echo.
  ``set_longpoll_events(wall_reply_new=False)`` turns the echo off.
* The attachment placeholders are a 1x1 PNG; pass ``content=`` for real bytes.
* ``keyboard`` on ``messages.send`` is checked as https://dev.vk.com/ru/api/bots/development/keyboard
  describes it: a JSON object with ``buttons`` (rows of buttons, each with an ``action`` of a
  known type; text and callback buttons with a ``label`` of at most 40 characters, a payload
  of at most 255); inline at most 6 rows of 5, 10 buttons in all; otherwise at most 10 rows
  of 5, 40 in all. A malformed keyboard is error 911 "Keyboard format is invalid"; with bot
  features off in the community settings (``set_bot_features(False)``) any keyboard is error
  912 "This is a chat bot feature, change this status in settings". Nothing is sent then.
* The Callback API (https://dev.vk.com/ru/api/callback/getting-started):
  :meth:`FakeVK.connect_callback_server` is the community's settings page, where the address
  and the secret key are entered and «Confirm» pressed: VK posts ``{"type": "confirmation",
  "group_id": …}`` and the server is confirmed only if the answer's body is the confirmation
  code (:attr:`FakeVK.confirmation_code`, also ``groups.getCallbackConfirmationCode``). Every
  event pushed after that is also POSTed to the server as JSON, its envelope with ``secret``
  added, one at a time and in order; an answer other than HTTP 200 with the body ``ok``, a
  timeout or a refused connection is sent again, up to ``callback_retries`` more times with a
  growing pause, then given up. The Long Poll keeps serving every event as before.
* A press on a keyboard button (``press_button``) comes back as VK sends it: a text button as
  ``message_new`` whose text is the label and ``payload`` the button's payload string; a
  callback button as ``message_event`` (user_id, peer_id, event_id, payload as an object,
  conversation_message_id), answered with ``messages.sendMessageEventAnswer`` while its
  event_id is valid (a minute).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import os
import random
import re
import socket
import struct
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

__all__ = [
    "API_VERSION",
    "CHAT_PEER_BASE",
    "CallbackDelivery",
    "ERROR_MESSAGES",
    "LONGPOLL",
    "UPLOAD",
    "ApiCall",
    "FakeVK",
    "Faults",
]

API_VERSION = "5.199"
#: Peer ids from this base on are group chats (``2000000000 + chat_id``).
CHAT_PEER_BASE = 2_000_000_000
#: Fault target for the long poll endpoint (``http_error_next(LONGPOLL)``).
LONGPOLL = "longpoll"
#: Fault target for the photo and document upload endpoints.
UPLOAD = "upload"

MAX_MESSAGE_LENGTH = 4096
#: Requests per second VK allows a community token (checked only with ``enforce_limits``).
COMMUNITY_RPS_LIMIT = 20
#: How far back VK looks for a repeated ``random_id`` in one dialog (messages.send).
RANDOM_ID_SECONDS = 3600
RANDOM_ID_MESSAGES = 100
MAX_LONGPOLL_WAIT = 90

ERROR_MESSAGES: dict[int, str] = {
    1: "Unknown error occurred",
    3: "Unknown method passed",
    5: "User authorization failed: invalid access_token (4).",
    6: "Too many requests per second",
    8: "Invalid request: v (version) is required",
    9: "Flood control",
    10: "Internal server error",
    15: "Access denied",
    29: "Rate limit reached",
    100: "One of the parameters specified was missing or invalid",
    113: "Invalid user id",
    121: "Invalid hash",
    901: "Can't send messages for users without permission",
    902: "Can't send messages to this user due to their privacy settings",
    911: "Keyboard format is invalid",
    912: "This is a chat bot feature, change this status in settings",
    914: "Message is too long",
}
# https://dev.vk.com/ru/api/bots/development/keyboard
KEYBOARD_LIMITS = {True: (6, 5, 10), False: (10, 5, 40)}  # inline: (rows, per row, buttons)
BUTTON_LABEL_LIMIT = 40
BUTTON_PAYLOAD_LIMIT = 255
BUTTON_TYPES = frozenset(
    {"text", "callback", "open_link", "location", "vkpay", "open_app", "intent_subscribe",
     "intent_unsubscribe"}
)
BUTTON_COLORS = frozenset({"primary", "secondary", "negative", "positive"})
#: How long the event_id of a message_event may be answered (seconds).
EVENT_ANSWER_SECONDS = 60
SNACKBAR_TEXT_LIMIT = 90

_NO_TOKEN_MSG = "User authorization failed: no access_token passed."
_BAD_GATEWAY_HTML = (
    "<html>\r\n<head><title>{status}</title></head>\r\n<body>\r\n"
    "<center><h1>{status}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
_ATTACHMENT_RE = re.compile(
    r"^(photo|video|audio|doc|wall|market|poll|audio_playlist|story)(-?\d+)_(\d+)(?:_[0-9a-zA-Z]+)?$"
)
_DEFAULT_CLIENT_INFO: dict[str, Any] = {
    "button_actions": [
        "text",
        "vkpay",
        "open_app",
        "location",
        "open_link",
        "callback",
        "intent_subscribe",
        "intent_unsubscribe",
    ],
    "keyboard": True,
    "inline_keyboard": True,
    "carousel": True,
    "lang_id": 0,
}
_DEFAULT_LONGPOLL_EVENTS: dict[str, bool] = {
    "message_new": True,
    "message_reply": False,
    "message_allow": True,
    "message_deny": True,
    "wall_post_new": True,
    "wall_reply_new": True,
    "wall_reply_edit": True,
    "wall_reply_delete": True,
}
# (type, longest side) of the photo copies VK offers; the small ones always exist.
_PHOTO_SIZES: tuple[tuple[str, int], ...] = (
    ("s", 75),
    ("m", 130),
    ("x", 604),
    ("y", 807),
    ("z", 1280),
    ("w", 2560),
)
_DOC_TYPES: dict[str, int] = {
    **dict.fromkeys(("txt", "doc", "docx", "pdf", "odt", "rtf", "xls", "xlsx"), 1),
    **dict.fromkeys(("zip", "rar", "7z"), 2),
    "gif": 3,
    **dict.fromkeys(("jpg", "jpeg", "png", "webp"), 4),
    **dict.fromkeys(("mp3", "ogg", "wav"), 5),
    **dict.fromkeys(("mp4", "avi", "mov"), 6),
    **dict.fromkeys(("epub", "fb2"), 7),
}
_MALE_FIRST = ("Александр", "Дмитрий", "Максим", "Сергей", "Андрей", "Алексей", "Иван", "Михаил")
_FEMALE_FIRST = ("Анна", "Мария", "Елена", "Ольга", "Наталья", "Татьяна", "Ирина", "Екатерина")
_LAST_STEMS = (
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Петров",
    "Соколов",
    "Новиков",
)

JSON = Any
Params = dict[str, str]


def _tiny_png() -> bytes:
    """A valid 1x1 white PNG: downloadable placeholder content for attachments."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
        + chunk(b"IEND", b"")
    )


PLACEHOLDER_PNG = _tiny_png()
_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


class VKError(Exception):
    """An error the fake answers in VK's format (raised inside method handlers)."""

    def __init__(self, code: int, msg: str | None = None) -> None:
        self.code = code
        self.msg = msg or ERROR_MESSAGES.get(code, ERROR_MESSAGES[1])
        super().__init__(self.msg)

    @classmethod
    def invalid(cls, detail: str) -> VKError:
        """Error 100 the way VK words it: the generic text, a colon, the detail."""
        return cls(100, f"{ERROR_MESSAGES[100]}: {detail}")


@dataclass(slots=True)
class ApiCall:
    """One request to ``/method/{name}`` as the fake saw it (``access_token`` left out)."""

    method: str
    params: dict[str, str]
    at: float
    #: VK error code answered, if any.
    error_code: int | None = None
    #: HTTP status answered; 0 when the connection was dropped without an answer.
    http_status: int = 200
    #: The ``response`` value on success.
    response: JSON = None


@dataclass
class CallbackDelivery:
    """One POST of an event to the Callback API server: its answer, or the error it met."""

    event_id: str | None
    status: int | None
    answer: str | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.answer == "ok"


@dataclass(frozen=True)
class _CallbackServer:
    url: str
    secret_key: str


@dataclass(slots=True)
class _Queued:
    method: str | None
    remaining: int
    code: int
    msg: str | None = None

    def matches(self, method: str) -> bool:
        return self.method is None or self.method == method


@dataclass(slots=True)
class _Window:
    method: str | None
    until: float
    code: int = 0
    msg: str | None = None
    process: bool = False

    def matches(self, method: str, now: float) -> bool:
        return now < self.until and (self.method is None or self.method == method)


@dataclass(slots=True)
class _Upload:
    kind: str
    content: bytes
    filename: str
    doc_type: str = "doc"


class Faults:
    """Failures that last for a while rather than for a number of calls.

    ``method`` is a VK method name, :data:`LONGPOLL`, :data:`UPLOAD`, or ``None`` for every
    request of that kind.
    """

    def __init__(self) -> None:
        self._api_errors: list[_Window] = []
        self._timeouts: list[_Window] = []

    def api_error(
        self,
        code: int,
        for_seconds: float,
        *,
        method: str | None = None,
        error_msg: str | None = None,
    ) -> None:
        """Answer API calls with VK error ``code`` for the next ``for_seconds``."""
        until = time.monotonic() + for_seconds
        self._api_errors.append(_Window(method, until, code=code, msg=error_msg))

    def timeout(
        self, for_seconds: float, *, method: str | None = None, process: bool = False
    ) -> None:
        """Hang requests arriving in the next ``for_seconds``, then drop them unanswered.

        With ``process=True`` an API call takes effect before its answer is lost (the case
        ``random_id`` and ``guid`` exist for). ``FakeVK.stop()`` releases hanging requests.
        """
        until = time.monotonic() + for_seconds
        self._timeouts.append(_Window(method, until, process=process))

    def clear(self) -> None:
        """Forget every active window."""
        self._api_errors.clear()
        self._timeouts.clear()

    def _api_error_for(self, method: str) -> _Window | None:
        now = time.monotonic()
        self._api_errors = [w for w in self._api_errors if now < w.until]
        return next((w for w in self._api_errors if w.matches(method, now)), None)

    def _timeout_for(self, method: str) -> _Window | None:
        now = time.monotonic()
        self._timeouts = [w for w in self._timeouts if now < w.until]
        return next((w for w in self._timeouts if w.matches(method, now)), None)


class _Reader:
    """Typed access to the string parameters of one API call."""

    def __init__(self, params: Params) -> None:
        self.params = params

    def text(self, name: str) -> str | None:
        value = self.params.get(name)
        return value if value else None

    def require_text(self, name: str) -> str:
        value = self.text(name)
        if value is None:
            raise VKError.invalid(f"{name} is a required parameter")
        return value

    def integer(self, name: str) -> int | None:
        value = self.params.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except ValueError:
            raise VKError.invalid(f"{name} not integer") from None

    def require_integer(self, name: str) -> int:
        value = self.integer(name)
        if value is None:
            raise VKError.invalid(f"{name} is a required parameter")
        return value

    def integers(self, name: str) -> list[int]:
        value = self.params.get(name) or ""
        try:
            return [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise VKError.invalid(f"{name} not integer") from None

    def flag(self, name: str) -> bool:
        return self.params.get(name, "").lower() in {"1", "true"}


class FakeVK:
    """A fake VK API and Bots Long Poll server for one community, on 127.0.0.1.

    Args:
        group_id: The community's id (positive).
        token: The only access token the API accepts.
        name: The community's name in ``groups.getById``.
        screen_name: Its screen name; ``club{group_id}`` by default.
        enforce_limits: Answer error 6 beyond 20 API requests a second, as VK does for a
            community token. Off by default so tests and benchmarks are not throttled.
        clock: Source of Unix time for ``date`` fields.
    """

    def __init__(
        self,
        group_id: int = 123456,
        token: str = "vk-test-token",
        *,
        name: str = "Приёмная администрации (тест)",
        screen_name: str | None = None,
        enforce_limits: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if group_id <= 0:
            msg = "group_id is the community's positive id"
            raise ValueError(msg)
        self.group_id = group_id
        self.token = token
        self.name = name
        self.screen_name = screen_name or f"club{group_id}"
        self.enforce_limits = enforce_limits
        self.faults = Faults()
        self._clock = clock

        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._stopping: asyncio.Event | None = None

        self._calls: list[ApiCall] = []
        self._calls_by_method: dict[str, list[ApiCall]] = {}
        self._fail_queue: list[_Queued] = []
        self._http_queue: list[_Queued] = []
        self._garbled: list[Any] = []  # long poll answers to give as they are
        self._overrides: dict[str, list[Any]] = {}  # API answers to give as they are
        self._recent_requests: deque[float] = deque()
        self._state_signal = asyncio.Event()

        self._users: dict[int, dict[str, Any]] = {}
        self._denied: set[int] = set()
        self._bot_features = True
        self._events_to_answer: dict[str, tuple[int, int, float]] = {}  # user, peer, since
        self._event_answers: list[dict[str, Any]] = []
        self._message_seq = 0
        self._cmid: dict[int, int] = {}
        self._last_inbound: dict[int, int] = {}
        self._sent: list[dict[str, Any]] = []
        self._sent_by_peer: dict[int, list[dict[str, Any]]] = {}

        self._wall_seq = 0
        self._posts: dict[int, dict[str, Any]] = {}
        self._comments: dict[int, dict[str, Any]] = {}
        self._comments_by_post: dict[int, list[dict[str, Any]]] = {}
        self._comment_by_guid: dict[str, int] = {}
        self._community_comments = 0

        self._media_seq = 0
        self._photos: dict[tuple[int, int], dict[str, Any]] = {}
        self._docs: dict[tuple[int, int], dict[str, Any]] = {}
        self._uploads: dict[str, _Upload] = {}
        self._files: dict[str, tuple[bytes, str]] = {}

        self._history: list[dict[str, Any]] = []
        self._history_floor = 1
        self._events_signal = asyncio.Event()
        self._lp_key = self._new_key()
        self._retired_keys: dict[str, int] = {}
        self._lp_events = dict(_DEFAULT_LONGPOLL_EVENTS)
        self._lp_enabled = True
        self._longpoll_requests: list[int] = []

        # Callback API: the confirmed server, what is still to be posted to it, and how.
        self.confirmation_code = os.urandom(4).hex()
        self.callback_timeout = 10.0
        self.callback_retries = 5
        self.callback_retry = (0.1, 2.0)  # the first and the longest pause before a repeat
        self._callback: _CallbackServer | None = None
        self._callback_queue: deque[dict[str, Any]] = deque()
        self._callback_signal = asyncio.Event()
        self._callback_task: asyncio.Task[None] | None = None
        self.callback_deliveries: list[CallbackDelivery] = []
        self.callback_given_up: list[dict[str, Any]] = []

        self._methods: dict[str, Callable[[_Reader], JSON]] = {
            "groups.getById": self._groups_get_by_id,
            "groups.getLongPollServer": self._groups_get_long_poll_server,
            "groups.getLongPollSettings": self._groups_get_long_poll_settings,
            "groups.setLongPollSettings": self._groups_set_long_poll_settings,
            "groups.getCallbackConfirmationCode": lambda _p: {"code": self.confirmation_code},
            "users.get": self._users_get,
            "messages.send": self._messages_send,
            "messages.getConversationsById": self._messages_get_conversations_by_id,
            "messages.sendMessageEventAnswer": self._messages_send_message_event_answer,
            "wall.createComment": self._wall_create_comment,
            "wall.getComments": self._wall_get_comments,
            "wall.getById": self._wall_get_by_id,
            "photos.getMessagesUploadServer": self._photos_get_messages_upload_server,
            "photos.saveMessagesPhoto": self._photos_save_messages_photo,
            "docs.getMessagesUploadServer": self._docs_get_messages_upload_server,
            "docs.getWallUploadServer": self._docs_get_wall_upload_server,
            "docs.save": self._docs_save,
            "utils.resolveScreenName": self._utils_resolve_screen_name,
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/method/{name}", self._handle_api)
        app.router.add_route("*", "/whp/{group_id}", self._handle_longpoll)
        app.router.add_post("/upload/{kind}", self._handle_upload)
        app.router.add_get("/files/{name}", self._handle_file)
        # handler_cancellation: a client that gives up (timeout) cancels the request's handler.
        runner = web.AppRunner(
            app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", 0))
            await web.SockSite(runner, sock).start()
        except BaseException:
            sock.close()
            await runner.cleanup()
            raise
        self._port = sock.getsockname()[1]
        self._stopping = asyncio.Event()
        self._runner = runner

    async def stop(self) -> None:
        """Release hanging and waiting requests and close the server. Never hangs."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        if self._stopping is not None:
            self._stopping.set()
        self._signal_events()
        self._signal_state()
        await self._stop_callback()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ addresses

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``; available once started."""
        if self._port is None:
            msg = "FakeVK is not started"
            raise RuntimeError(msg)
        return f"http://127.0.0.1:{self._port}"

    @property
    def api_url(self) -> str:
        """What vkbottle's ``API.API_URL`` must be: the method name is appended to it."""
        return f"{self.base_url}/method/"

    @property
    def longpoll_url(self) -> str:
        """The ``server`` groups.getLongPollServer hands out (VK's looks like ``.../whp/ID``)."""
        return f"{self.base_url}/whp/{self.group_id}"

    def file_url(self, name: str) -> str:
        """The URL the fake serves a registered file at."""
        return f"{self.base_url}/files/{name}"

    def add_file(self, name: str, content: bytes, content_type: str) -> str:
        """Serve ``content`` at ``/files/{name}`` and return its URL."""
        self._files[name] = (content, content_type)
        return self.file_url(name)

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str | None,
        error_code: int,
        error_msg: str | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` (``None``: any) with a VK error."""
        self._fail_queue.append(_Queued(method, count, error_code, error_msg))

    def http_error_next(self, method: str | None, status: int = 502, count: int = 1) -> None:
        """Answer the next ``count`` requests with an nginx-style HTTP error page.

        ``method`` is a VK method, :data:`LONGPOLL`, :data:`UPLOAD` or ``None`` (any).
        """
        self._http_queue.append(_Queued(method, count, status))

    def override_next(self, method: str, response: Any) -> None:
        """Answer the next call of ``method`` with ``{"response": response}``, whatever it is."""
        self._overrides.setdefault(method, []).append(response)

    def garbled_longpoll_next(self, body: Any, count: int = 1) -> None:
        """Answer the next ``count`` long poll requests with ``body`` as JSON, whatever it is.

        What a proxy or a broken gateway in front of VK may hand back (``{"updates": 7}``);
        VK itself documents only the shapes above.
        """
        self._garbled.extend([body] * count)

    def expire_key(self) -> None:
        """Retire the long poll key: requests with it get ``{"failed": 2}``."""
        self._retired_keys[self._lp_key] = 2
        self._lp_key = self._new_key()

    def lose_info(self) -> None:
        """Retire the key as lost: requests with it get ``{"failed": 3}`` (new key and ts)."""
        self._retired_keys[self._lp_key] = 3
        self._lp_key = self._new_key()

    def lose_history_before(self, ts: int) -> None:
        """Forget events before position ``ts``; asking for them gets ``{"failed": 1, "ts": N}``.

        ``N`` is the oldest position still kept, so the client gets whatever is left.
        """
        self._history_floor = max(self._history_floor, min(ts, self.ts))

    def deny_messages(self, user_id: int, *, push_event: bool = True) -> None:
        """The user forbids messages from the community: ``messages.send`` answers 901.

        As on VK, a later ``message_new`` from the user lifts it. ``push_event`` also pushes
        the ``message_deny`` event VK sends.
        """
        self._denied.add(user_id)
        if push_event:
            self.push_event("message_deny", {"user_id": user_id})

    def allow_messages(self, user_id: int, *, push_event: bool = True) -> None:
        """The user allows messages again (``message_allow``)."""
        self._denied.discard(user_id)
        if push_event:
            self.push_event("message_allow", {"user_id": user_id, "key": ""})

    def set_bot_features(self, enabled: bool) -> None:
        """Messages → Bot settings → «Bot features»: off, a keyboard is refused (912)."""
        self._bot_features = enabled

    def set_longpoll_events(self, **events: bool) -> None:
        """Turn long poll event types on or off, like ``groups.setLongPollSettings``."""
        self._lp_events.update(events)

    def set_longpoll_enabled(self, enabled: bool) -> None:
        """Turn the community's Bots Long Poll API on or off (Manage → API usage)."""
        self._lp_enabled = enabled

    # ------------------------------------------------------------------ users and posts

    def add_user(
        self,
        user_id: int,
        first_name: str,
        last_name: str,
        *,
        screen_name: str | None = None,
        sex: int = 0,
    ) -> dict[str, Any]:
        """Register a user for ``users.get`` and ``utils.resolveScreenName``."""
        user = {
            "id": user_id,
            "first_name": first_name,
            "last_name": last_name,
            "sex": sex,
            "screen_name": screen_name or f"id{user_id}",
        }
        self._users[user_id] = user
        return dict(user)

    def add_post(
        self,
        text: str,
        *,
        attachments: list[dict[str, Any]] | None = None,
        push_event: bool = False,
    ) -> int:
        """Publish a post on the community wall; returns its id (``push_event``: wall_post_new)."""
        post_id = self._next_wall_id()
        post = {
            "id": post_id,
            "owner_id": -self.group_id,
            "from_id": -self.group_id,
            "date": self._now(),
            "post_type": "post",
            "text": text,
            "attachments": list(attachments or []),
            "comments": {"count": 0, "can_post": 1, "groups_can_post": True},
            "likes": {"count": 0, "user_likes": 0, "can_like": 1},
            "reposts": {"count": 0, "user_reposted": 0},
        }
        self._posts[post_id] = post
        self._comments_by_post[post_id] = []
        if push_event:
            self.push_event("wall_post_new", dict(post))
        return post_id

    # ------------------------------------------------------------------ event builders

    @property
    def ts(self) -> int:
        """The position the next event will get (the ``ts`` getLongPollServer hands out)."""
        return len(self._history) + 1

    @property
    def events(self) -> list[dict[str, Any]]:
        """Every event pushed so far, oldest first (event at position ``p`` is ``[p - 1]``)."""
        return list(self._history)

    @property
    def longpoll_requests(self) -> list[int]:
        """The ``ts`` of every long poll request, in arrival order."""
        return list(self._longpoll_requests)

    def push_event(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Push an event of any type in the 5.199 Bots Long Poll envelope; returns it."""
        event = {
            "group_id": self.group_id,
            "type": event_type,
            "event_id": os.urandom(20).hex(),
            "v": API_VERSION,
            "object": obj,
        }
        return self.push_raw(event)

    def push_raw(self, event: dict[str, Any]) -> dict[str, Any]:
        """Push an event exactly as given (push one twice to test deduplication by event_id)."""
        self._history.append(event)
        if self._callback is not None:
            self._callback_queue.append(event)
            self._callback_signal.set()
        self._signal_events()
        return event

    # ------------------------------------------------------------------ Callback API

    async def connect_callback_server(self, url: str, *, secret_key: str = "") -> bool:
        """Enter the server in the community's settings and press «Confirm»: True if confirmed.

        Confirmed, it gets every event pushed from now on (``secret_key`` in each).
        """
        await self._stop_callback()
        self._callback = None
        confirmation = {"type": "confirmation", "group_id": self.group_id}
        async with aiohttp.ClientSession() as session:
            record = await self._post_event(session, url, confirmation)
        self.callback_deliveries.append(record)
        if record.status != 200 or record.answer != self.confirmation_code:
            return False
        self._callback = _CallbackServer(url, secret_key)
        self._callback_task = asyncio.get_running_loop().create_task(self._deliver_callbacks())
        return True

    async def disconnect_callback_server(self) -> None:
        """Remove the server from the settings: events no longer go to it."""
        await self._stop_callback()
        self._callback = None
        self._callback_queue.clear()

    async def _stop_callback(self) -> None:
        task, self._callback_task = self._callback_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_callbacks(self) -> None:
        async with aiohttp.ClientSession() as session:
            while self._callback is not None:
                if not self._callback_queue:
                    self._callback_signal.clear()
                    await self._callback_signal.wait()
                    continue
                event = self._callback_queue[0]
                server = self._callback
                body = {**event, "secret": server.secret_key} if server.secret_key else event
                pause, longest = self.callback_retry
                for attempt in range(self.callback_retries + 1):
                    if attempt:
                        await asyncio.sleep(pause)
                        pause = min(pause * 2, longest)
                    record = await self._post_event(session, server.url, body)
                    self.callback_deliveries.append(record)
                    self._signal_state()
                    if record.ok:
                        break
                else:
                    self.callback_given_up.append(event)
                self._callback_queue.popleft()
                self._signal_state()

    async def _post_event(
        self, session: aiohttp.ClientSession, url: str, body: dict[str, Any]
    ) -> CallbackDelivery:
        event_id = body.get("event_id") if isinstance(body, dict) else None
        try:
            async with session.post(
                url, data=_dumps(body).encode(), headers={"Content-Type": "application/json"},
                timeout=aiohttp.ClientTimeout(total=self.callback_timeout),
            ) as answer:
                text = await answer.text(errors="replace")
                return CallbackDelivery(event_id, answer.status, text)
        except TimeoutError:
            return CallbackDelivery(event_id, None, None, "timeout")
        except aiohttp.ClientError as exc:
            return CallbackDelivery(event_id, None, None, type(exc).__name__)

    def message_new(
        self,
        from_id: int,
        text: str = "",
        *,
        attachments: list[dict[str, Any]] | None = None,
        reply_message: dict[str, Any] | None = None,
        fwd_messages: list[dict[str, Any]] | None = None,
        peer_id: int | None = None,
        conversation_message_id: int | None = None,
        geo: dict[str, Any] | None = None,
        payload: str | None = None,
        client_info: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Push a ``message_new`` from a user and return the event.

        ``reply_message`` and ``fwd_messages`` take VK message dicts, ``message_new`` events or
        records from :meth:`sent_messages` (the community's own messages). In a group chat
        (``peer_id >= CHAT_PEER_BASE``) the message ``id`` is 0, as VK gives bots there.
        """
        peer = from_id if peer_id is None else peer_id
        is_chat = peer >= CHAT_PEER_BASE
        message_id = 0 if is_chat else self._next_message_id()
        cmid = conversation_message_id or self._next_cmid(peer)
        message: dict[str, Any] = {
            "date": self._now(),
            "from_id": from_id,
            "id": message_id,
            "out": 0,
            "version": 10_000_000 + self._message_seq,
            "attachments": list(attachments or []),
            "conversation_message_id": cmid,
            "fwd_messages": [self._as_foreign(m) for m in fwd_messages or []],
            "important": False,
            "is_hidden": False,
            "peer_id": peer,
            "random_id": 0,
            "text": text,
        }
        if reply_message is not None:
            message["reply_message"] = self._as_foreign(reply_message)
        if geo is not None:
            message["geo"] = geo
        if payload is not None:
            message["payload"] = payload
        if not is_chat:
            self._denied.discard(from_id)
            self._last_inbound[peer] = message_id
        info = dict(_DEFAULT_CLIENT_INFO) if client_info is None else client_info
        return self.push_event("message_new", {"message": message, "client_info": info})

    def message_event(
        self,
        user_id: int,
        payload: dict[str, Any] | None,
        *,
        peer_id: int | None = None,
        conversation_message_id: int | None = None,
    ) -> dict[str, Any]:
        """Push a ``message_event``: a callback button pressed; returns the event.

        Its event_id may be answered with ``messages.sendMessageEventAnswer`` for a minute.
        """
        peer = user_id if peer_id is None else peer_id
        event_id = os.urandom(6).hex()
        self._events_to_answer[event_id] = (user_id, peer, time.monotonic())
        obj: dict[str, Any] = {"user_id": user_id, "peer_id": peer, "event_id": event_id}
        if payload is not None:
            obj["payload"] = payload
        if conversation_message_id is not None:
            obj["conversation_message_id"] = conversation_message_id
        return self.push_event("message_event", obj)

    def press_button(
        self, message: dict[str, Any], label: str, *, from_id: int | None = None
    ) -> dict[str, Any]:
        """Press the button ``label`` of the keyboard a sent message (a :meth:`sent_messages`
        record) carries, as ``from_id`` (its peer by default); returns the event VK sends.

        A text button sends a message_new with the label and the payload string; a callback
        button a message_event with the payload as an object.
        """
        keyboard = json.loads(message.get("keyboard") or "{}")
        found = [
            button["action"] for row in keyboard.get("buttons", []) for button in row
            if button.get("action", {}).get("label") == label
        ]
        if not found:
            msg = f"no button {label!r} under message {message.get('id')}"
            raise ValueError(msg)
        action = found[0]
        user = message["peer_id"] if from_id is None else from_id
        payload = action.get("payload")
        if action["type"] == "callback":
            return self.message_event(
                user, json.loads(payload) if payload else None, peer_id=message["peer_id"],
                conversation_message_id=message["conversation_message_id"],
            )
        if action["type"] != "text":
            msg = f"button {label!r} is a {action['type']} button"
            raise ValueError(msg)
        return self.message_new(user, label, peer_id=message["peer_id"], payload=payload)

    @property
    def event_answers(self) -> list[dict[str, Any]]:
        """messages.sendMessageEventAnswer calls that succeeded: their parameters, with
        ``event_data`` read as an object."""
        return [dict(a) for a in self._event_answers]

    def wall_reply_new(
        self,
        post_id: int,
        from_id: int,
        text: str,
        *,
        reply_to_comment: int | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Push a ``wall_reply_new``: a comment under a community post (``from_id`` may be
        ``-group_id`` for the community itself); returns the event."""
        record = self._store_comment(
            post_id,
            from_id,
            text,
            reply_to_comment=reply_to_comment,
            attachments=list(attachments or []),
        )
        return self.push_event("wall_reply_new", self._comment_object(record))

    def wall_reply_edit(self, comment_id: int, text: str) -> dict[str, Any]:
        """Push a ``wall_reply_edit`` with the comment's new text; returns the event."""
        record = self._comment(comment_id)
        record["text"] = text
        return self.push_event("wall_reply_edit", self._comment_object(record))

    def wall_reply_delete(self, comment_id: int, deleter_id: int) -> dict[str, Any]:
        """Push a ``wall_reply_delete`` and mark the comment deleted; returns the event."""
        record = self._comment(comment_id)
        record["deleted"] = True
        obj = {
            "owner_id": -self.group_id,
            "id": comment_id,
            "deleter_id": deleter_id,
            "post_id": record["post_id"],
        }
        return self.push_event("wall_reply_delete", obj)

    # ------------------------------------------------------------------ attachment builders

    def photo_attachment(
        self,
        owner_id: int,
        *,
        content: bytes | None = None,
        width: int = 1280,
        height: int = 960,
        text: str = "",
    ) -> dict[str, Any]:
        """A ``photo`` attachment whose size URLs download ``content`` from the fake."""
        photo_id = self._next_media_id()
        photo = self._photo_object(
            owner_id, photo_id, content=content, width=width, height=height, text=text
        )
        self._photos[(owner_id, photo_id)] = photo
        return {"type": "photo", "photo": photo}

    def doc_attachment(
        self,
        owner_id: int,
        *,
        title: str = "document.pdf",
        content: bytes | None = None,
    ) -> dict[str, Any]:
        """A ``doc`` attachment whose ``url`` downloads ``content`` from the fake."""
        doc = self._doc_object(owner_id, self._next_media_id(), title, content)
        self._docs[(owner_id, doc["id"])] = doc
        return {"type": "doc", "doc": doc}

    def audio_message_attachment(
        self,
        owner_id: int,
        *,
        duration: int = 5,
        content: bytes | None = None,
        transcript: str | None = None,
    ) -> dict[str, Any]:
        """An ``audio_message`` (voice message) with ``link_ogg``/``link_mp3`` on the fake."""
        return {
            "type": "audio_message",
            "audio_message": self._audio_message_object(
                owner_id, self._next_media_id(), duration, content, transcript
            ),
        }

    def sticker_attachment(self, sticker_id: int = 1, *, product_id: int = 1) -> dict[str, Any]:
        """A ``sticker`` attachment with image URLs on the fake."""
        url = self.add_file(f"sticker{sticker_id}.png", PLACEHOLDER_PNG, "image/png")
        images = [{"url": url, "width": side, "height": side} for side in (64, 128, 256, 512)]
        sticker = {
            "inner_type": "base_sticker_new",
            "product_id": product_id,
            "sticker_id": sticker_id,
            "images": images,
            "images_with_background": images,
            "is_allowed": True,
        }
        return {"type": "sticker", "sticker": sticker}

    def wall_attachment(
        self,
        owner_id: int | None = None,
        post_id: int | None = None,
        *,
        text: str = "",
        from_id: int | None = None,
        attachments: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A ``wall`` attachment (a repost). With no arguments: a new community post;
        with the id of a post made by :meth:`add_post`: that post."""
        owner = -self.group_id if owner_id is None else owner_id
        if owner == -self.group_id and post_id in self._posts:
            post = dict(self._posts[post_id])
        else:
            post = {
                "id": post_id or self._next_media_id(),
                "owner_id": owner,
                "from_id": owner if from_id is None else from_id,
                "date": self._now(),
                "post_type": "post",
                "text": text,
                "attachments": list(attachments or []),
                "comments": {"count": 0},
                "likes": {"count": 0},
                "reposts": {"count": 0},
            }
        post["to_id"] = post["owner_id"]
        return {"type": "wall", "wall": post}

    @staticmethod
    def geo(latitude: float, longitude: float, *, title: str | None = None) -> dict[str, Any]:
        """A message ``geo`` value (pass it to ``message_new(geo=...)``)."""
        value: dict[str, Any] = {
            "type": "point",
            "coordinates": {"latitude": latitude, "longitude": longitude},
        }
        if title is not None:
            value["place"] = {"title": title, "latitude": latitude, "longitude": longitude}
        return value

    # ------------------------------------------------------------------ inspection

    def sent_messages(self, peer_id: int | None = None) -> list[dict[str, Any]]:
        """Messages the community sent (one per stored message; duplicates suppressed).

        Keys: id, peer_id, conversation_message_id, message, random_id, attachment, reply_to,
        forward, keyboard, payload, date, params (everything the call passed).
        """
        source = self._sent if peer_id is None else self._sent_by_peer.get(peer_id, [])
        return [dict(m) for m in source]

    def comments(
        self, post_id: int | None = None, *, from_group: bool | None = None
    ) -> list[dict[str, Any]]:
        """Comments on community posts, users' and the community's, oldest first.

        Keys: the event object's (id, from_id, date, text, post_id, owner_id, parents_stack,
        thread, reply_to_comment, reply_to_user, attachments) plus from_group (written by the
        community), guid, deleted and attachment (the string the community passed).
        ``from_group`` filters on authorship.
        """
        source = (
            self._comments.values() if post_id is None else self._comments_by_post.get(post_id, [])
        )
        return [dict(c) for c in source if from_group is None or c["from_group"] == from_group]

    def calls(self, method: str | None = None) -> list[ApiCall]:
        """API calls received (including failed ones), oldest first."""
        return list(self._calls if method is None else self._calls_by_method.get(method, []))

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``predicate()`` holds; it is re-checked on every API call or state change.

        The fake signals a change by setting and replacing an ``asyncio.Event`` (the builders
        are synchronous, so an ``asyncio.Condition`` could not be notified from them).
        """
        try:
            async with asyncio.timeout(timeout):
                while not predicate():
                    await self._state_signal.wait()
        except TimeoutError:
            msg = f"condition not met within {timeout} s"
            raise TimeoutError(msg) from None

    async def wait_messages(
        self, count: int, peer_id: int | None = None, timeout: float = 10.0
    ) -> list[dict[str, Any]]:
        """Wait until the community has sent ``count`` messages (to ``peer_id``); return them."""
        source = self._sent if peer_id is None else self._sent_by_peer.setdefault(peer_id, [])
        try:
            await self.wait_for(lambda: len(source) >= count, timeout)
        except TimeoutError:
            msg = f"{len(source)} of {count} messages sent to {peer_id or 'anyone'} in {timeout} s"
            raise TimeoutError(msg) from None
        return self.sent_messages(peer_id)

    async def wait_comments(
        self,
        count: int,
        *,
        post_id: int | None = None,
        from_group: bool | None = True,
        timeout: float = 10.0,
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` comments exist (by default: the community's); return them."""

        def enough() -> bool:
            if from_group and post_id is None:
                # The common case, counted without copying every comment on each wake-up.
                return self._community_comments >= count
            return len(self.comments(post_id, from_group=from_group)) >= count

        try:
            await self.wait_for(enough, timeout)
        except TimeoutError:
            have = len(self.comments(post_id, from_group=from_group))
            msg = f"{have} of {count} comments in {timeout} s"
            raise TimeoutError(msg) from None
        return self.comments(post_id, from_group=from_group)

    # ------------------------------------------------------------------ HTTP handlers

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["name"]
        params = await self._read_params(request)
        call = ApiCall(
            method=method,
            params={k: v for k, v in params.items() if k != "access_token"},
            at=self._clock(),
        )
        self._calls.append(call)
        self._calls_by_method.setdefault(method, []).append(call)

        hang = self.faults._timeout_for(method)
        if hang is not None and not hang.process:
            call.http_status = 0
            self._signal_state()
            return await self._hang_and_drop(request, hang.until)
        status = self._take(self._http_queue, method)
        if status is not None:
            call.http_status = status.code
            self._signal_state()
            return self._http_error(status.code)

        try:
            overrides = self._overrides.get(method)
            result = overrides.pop(0) if overrides else self._call(method, params)
        except VKError as error:
            call.error_code = error.code
            body: JSON = {
                "error": {
                    "error_code": error.code,
                    "error_msg": error.msg,
                    "request_params": self._request_params(method, params),
                }
            }
        else:
            call.response = result
            body = {"response": result}
        self._signal_state()
        if hang is not None:
            call.http_status = 0
            return await self._hang_and_drop(request, hang.until)
        return web.json_response(body, dumps=_dumps)

    async def _handle_longpoll(self, request: web.Request) -> web.StreamResponse:
        params = await self._read_params(request)
        try:
            ts: int | None = int(params.get("ts", ""))
        except ValueError:
            ts = None
        if ts is not None:
            self._longpoll_requests.append(ts)
            self._signal_state()
        hang = self.faults._timeout_for(LONGPOLL)
        if hang is not None:
            return await self._hang_and_drop(request, hang.until)
        status = self._take(self._http_queue, LONGPOLL)
        if status is not None:
            return self._http_error(status.code)
        if self._garbled:
            return web.json_response(self._garbled.pop(0), dumps=_dumps)

        key = params.get("key", "")
        if request.match_info["group_id"] != str(self.group_id) or key != self._lp_key:
            return web.json_response({"failed": self._retired_keys.get(key, 2)})
        if ts is None:
            return web.json_response({"failed": 1, "ts": self.ts})
        if ts < self._history_floor:
            return web.json_response({"failed": 1, "ts": self._history_floor})
        if ts > self.ts:
            return web.json_response({"failed": 1, "ts": self.ts})

        try:
            wait = min(max(int(params.get("wait", "25")), 0), MAX_LONGPOLL_WAIT)
        except ValueError:
            wait = 25
        if ts == self.ts and wait > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    while ts == self.ts and not self._is_stopping():
                        await self._events_signal.wait()
        updates = self._history[ts - 1 :]
        return web.json_response({"ts": str(self.ts), "updates": updates}, dumps=_dumps)

    async def _handle_upload(self, request: web.Request) -> web.StreamResponse:
        kind = request.match_info["kind"]
        if kind not in {"photo", "doc"}:
            return web.Response(status=404, text="Not Found")
        hang = self.faults._timeout_for(UPLOAD)
        if hang is not None:
            return await self._hang_and_drop(request, hang.until)
        status = self._take(self._http_queue, UPLOAD)
        if status is not None:
            return self._http_error(status.code)

        form = await request.post()
        field_name = "photo" if kind == "photo" else "file"
        part = form.get(field_name)
        content = getattr(part, "file", None)
        key = os.urandom(16).hex()
        if kind == "photo":
            if content is None:
                # VK answers an upload without the file with an empty photo list.
                return web.json_response({"server": 1, "photo": "[]", "hash": self._hash("")})
            filename = getattr(part, "filename", None) or "picture.jpg"
            self._uploads[key] = _Upload("photo", content.read(), filename)
            photo = _dumps([{"photo": key, "sizes": [], "kid": key[:8], "debug": "xs"}])
            return web.json_response(
                {"server": 1, "photo": photo, "hash": self._hash(photo)}, dumps=_dumps
            )
        if content is None:
            return web.json_response({"error": "file is undefined"})
        filename = getattr(part, "filename", None) or "doc.txt"
        doc_type = request.query.get("type", "doc")
        self._uploads[key] = _Upload("doc", content.read(), filename, doc_type)
        return web.json_response({"file": key})

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        item = self._files.get(request.match_info["name"])
        if item is None:
            return web.Response(status=404, text="Not Found")
        content, content_type = item
        return web.Response(body=content, content_type=content_type)

    # ------------------------------------------------------------------ API dispatch

    def _call(self, method: str, params: Params) -> JSON:
        token = params.get("access_token")
        if not token:
            raise VKError(5, _NO_TOKEN_MSG)
        if token != self.token:
            raise VKError(5)
        if not params.get("v"):
            raise VKError(8)
        if self.enforce_limits:
            now = time.monotonic()
            while self._recent_requests and now - self._recent_requests[0] >= 1.0:
                self._recent_requests.popleft()
            if len(self._recent_requests) >= COMMUNITY_RPS_LIMIT:
                raise VKError(6)
            self._recent_requests.append(now)
        queued = self._take(self._fail_queue, method)
        if queued is not None:
            raise VKError(queued.code, queued.msg)
        window = self.faults._api_error_for(method)
        if window is not None:
            raise VKError(window.code, window.msg)
        handler = self._methods.get(method)
        if handler is None:
            raise VKError(3)
        return handler(_Reader(params))

    def _groups_get_by_id(self, p: _Reader) -> JSON:
        listed = f"{p.text('group_id') or ''},{p.text('group_ids') or ''}".split(",")
        wanted = [ident.strip() for ident in listed if ident.strip()]
        groups = []
        # With a community token and no ids VK answers the community itself.
        for ident in wanted or [str(self.group_id)]:
            if ident in {str(self.group_id), self.screen_name, f"club{self.group_id}"}:
                groups.append(self._group_object())
            elif ident.isdigit():
                other = f"club{ident}"
                groups.append(
                    {**self._group_object(), "id": int(ident), "name": other, "screen_name": other}
                )
            else:
                raise VKError.invalid("group_ids is undefined")
        return {"groups": groups, "profiles": []}

    def _groups_get_long_poll_server(self, p: _Reader) -> JSON:
        if p.require_integer("group_id") != self.group_id:
            raise VKError(15, "Access denied: no access to call this method")
        if not self._lp_enabled:
            raise VKError.invalid("longpoll for this group is not enabled")
        return {"key": self._lp_key, "server": self.longpoll_url, "ts": str(self.ts)}

    def _groups_get_long_poll_settings(self, p: _Reader) -> JSON:
        if p.require_integer("group_id") != self.group_id:
            raise VKError(15, "Access denied: no access to call this method")
        return {
            "is_enabled": self._lp_enabled, "api_version": API_VERSION,
            "events": dict(self._lp_events),
        }

    def _groups_set_long_poll_settings(self, p: _Reader) -> JSON:
        p.require_integer("group_id")
        if p.text("enabled") is not None:
            self._lp_enabled = p.flag("enabled")
        not_events = {"group_id", "enabled", "api_version", "access_token", "v"}
        for name in p.params.keys() - not_events:
            self._lp_events[name] = p.flag(name)
        return 1

    def _users_get(self, p: _Reader) -> JSON:
        fields = {f.strip() for f in (p.text("fields") or "").split(",") if f.strip()}
        users = []
        for ident in (i.strip() for i in (p.text("user_ids") or "").split(",")):
            if not ident:
                continue
            user_id = self._resolve_user(ident)
            if user_id is not None:
                users.append(self._user_object(user_id, fields))
        if not users and p.text("user_ids"):
            raise VKError(113)
        # With a community token and no user_ids VK answers an empty list.
        return users

    def _messages_send(self, p: _Reader) -> JSON:
        random_id = p.integer("random_id")
        if random_id is None:
            raise VKError.invalid("random_id is a required parameter")
        if not -(2**31) <= random_id < 2**31:
            raise VKError.invalid("random_id should be a 32-bit integer")
        peer_ids = p.integers("peer_ids")
        single = p.integer("peer_id") or p.integer("user_id")
        chat_id = p.integer("chat_id")
        if single is None and chat_id is not None:
            single = CHAT_PEER_BASE + chat_id
        if single is None and not peer_ids:
            raise VKError.invalid("peer_id, user_id, chat_id or peer_ids is required")
        text = p.params.get("message", "")
        attachment = p.text("attachment")
        if not text and not attachment and not p.text("forward") and not p.text("sticker_id"):
            raise VKError.invalid("message is empty or invalid")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise VKError(914)
        self._check_attachments(attachment)
        self._check_keyboard(p.text("keyboard"))
        if not peer_ids:
            assert single is not None
            if single in self._denied:
                raise VKError(901)
            earlier = self._same_random_id(single, random_id)
            if earlier is not None:
                return earlier["id"]
            result: JSON = self._store_sent(single, text, random_id, p)["id"]
            return result
        result = []
        for peer in peer_ids:
            if peer in self._denied:
                error = {"code": 901, "description": ERROR_MESSAGES[901]}
                refused = {"peer_id": peer, "message_id": 0, "conversation_message_id": 0}
                result.append({**refused, "error": error})
                continue
            record = self._same_random_id(peer, random_id) or self._store_sent(
                peer, text, random_id, p
            )
            result.append(
                {
                    "peer_id": peer,
                    "message_id": record["id"],
                    "conversation_message_id": record["conversation_message_id"],
                }
            )
        return result

    def _same_random_id(self, peer: int, random_id: int) -> dict[str, Any] | None:
        """The message this ``random_id`` already sent to ``peer``, if VK still checks it.

        https://dev.vk.com/ru/method/messages.send: the check looks in the given dialog at the
        messages of the last hour, but no more than the last 100 of them.
        """
        if not random_id:
            return None
        hour_ago = self._now() - RANDOM_ID_SECONDS
        for record in reversed(self._sent_by_peer.get(peer, [])[-RANDOM_ID_MESSAGES:]):
            if record["date"] <= hour_ago:
                return None
            if record["random_id"] == random_id:
                return record
        return None

    def _messages_send_message_event_answer(self, p: _Reader) -> JSON:
        event_id = p.require_text("event_id")
        user_id, peer_id = p.require_integer("user_id"), p.require_integer("peer_id")
        pressed = self._events_to_answer.get(event_id)
        # VK documents that an event_id is valid for a minute; what it answers for one that
        # is not is not published: error 100 here.
        if pressed is None or time.monotonic() - pressed[2] > EVENT_ANSWER_SECONDS:
            raise VKError.invalid("event_id is invalid or expired")
        if pressed[:2] != (user_id, peer_id):
            raise VKError.invalid("user_id or peer_id does not match the event")
        raw = p.text("event_data")
        data: Any = None
        if raw is not None:
            try:
                data = json.loads(raw)
            except ValueError:
                raise VKError.invalid("event_data is not JSON") from None
            if not isinstance(data, dict) or data.get("type") not in {
                "show_snackbar", "open_link", "open_app"
            }:
                raise VKError.invalid("event_data type is invalid")
            text = data.get("text")
            if data["type"] == "show_snackbar" and (
                not isinstance(text, str) or not 0 < len(text) <= SNACKBAR_TEXT_LIMIT
            ):
                raise VKError.invalid("event_data text is invalid")
        del self._events_to_answer[event_id]
        self._event_answers.append(
            {"event_id": event_id, "user_id": user_id, "peer_id": peer_id, "event_data": data}
        )
        return 1

    def _messages_get_conversations_by_id(self, p: _Reader) -> JSON:
        items = []
        for peer in p.integers("peer_ids"):
            kind = "chat" if peer >= CHAT_PEER_BASE else "user"
            sent = self._sent_by_peer.get(peer, [])
            last = max(self._last_inbound.get(peer, 0), sent[-1]["id"] if sent else 0)
            can_write: dict[str, Any] = {"allowed": peer not in self._denied}
            if peer in self._denied:
                can_write["reason"] = 901
            items.append(
                {
                    "peer": {"id": peer, "type": kind, "local_id": peer % CHAT_PEER_BASE},
                    "last_message_id": last,
                    "last_conversation_message_id": self._cmid.get(peer, 0),
                    "in_read": self._last_inbound.get(peer, 0),
                    "out_read": sent[-1]["id"] if sent else 0,
                    "can_write": can_write,
                }
            )
        return {"count": len(items), "items": items}

    def _wall_create_comment(self, p: _Reader) -> JSON:
        post_id = p.require_integer("post_id")
        owner_id = p.integer("owner_id") or -self.group_id
        if owner_id != -self.group_id:
            raise VKError(15, "Access denied: a community token comments only on its own wall")
        if post_id not in self._posts:
            raise VKError.invalid("post_id is invalid")
        text = p.params.get("message", "")
        attachment = p.text("attachments")
        if not text and not attachment and not p.text("sticker_id"):
            raise VKError.invalid("message is empty or invalid")
        self._check_attachments(attachment)
        guid = p.text("guid")
        if guid is not None and guid in self._comment_by_guid:
            existing = self._comments[self._comment_by_guid[guid]]
            return {"comment_id": existing["id"], "parents_stack": existing["parents_stack"]}
        reply_to = p.integer("reply_to_comment")
        if reply_to is not None and (
            reply_to not in self._comments or self._comments[reply_to]["post_id"] != post_id
        ):
            raise VKError.invalid("reply_to_comment is invalid")
        record = self._store_comment(
            post_id,
            -self.group_id,
            text,
            reply_to_comment=reply_to,
            attachments=self._attachment_objects(attachment),
        )
        record["guid"] = guid
        record["attachment"] = attachment
        if guid is not None:
            self._comment_by_guid[guid] = record["id"]
        if self._lp_events.get("wall_reply_new"):
            self.push_event("wall_reply_new", self._comment_object(record))
        return {"comment_id": record["id"], "parents_stack": list(record["parents_stack"])}

    def _wall_get_comments(self, p: _Reader) -> JSON:
        owner_id = p.integer("owner_id") or -self.group_id
        post_id = p.require_integer("post_id")
        if owner_id != -self.group_id or post_id not in self._posts:
            raise VKError.invalid("post_id is invalid")
        thread_of = p.integer("comment_id")
        live = [c for c in self._comments_by_post[post_id] if not c["deleted"]]
        if thread_of is None:
            level = [c for c in live if not c["parents_stack"]]
        else:
            level = [c for c in live if thread_of in c["parents_stack"]]
        if p.text("sort") == "desc":
            level.reverse()
        offset = p.integer("offset") or 0
        count = min(p.integer("count") or 10, 100)
        return {
            "count": len(live),
            "current_level_count": len(level),
            "can_post": True,
            "show_reply_button": True,
            "groups_can_post": True,
            "items": [self._comment_object(c) for c in level[offset : offset + count]],
        }

    def _wall_get_by_id(self, p: _Reader) -> JSON:
        items = []
        for ident in (p.text("posts") or "").split(","):
            owner, _, post = ident.strip().partition("_")
            if owner == str(-self.group_id) and post.isdigit() and int(post) in self._posts:
                items.append(dict(self._posts[int(post)]))
        return {"items": items}

    def _photos_get_messages_upload_server(self, p: _Reader) -> JSON:
        p.integer("peer_id")
        return {
            "album_id": -3,
            "upload_url": f"{self.base_url}/upload/photo?act=do_add&gid={self.group_id}",
            "user_id": 0,
            "group_id": self.group_id,
        }

    def _photos_save_messages_photo(self, p: _Reader) -> JSON:
        raw = p.require_text("photo")
        if p.text("hash") != self._hash(raw):
            raise VKError(121)
        try:
            listed = json.loads(raw)
            upload = self._uploads.pop(listed[0]["photo"])
        except (ValueError, LookupError, TypeError):
            raise VKError.invalid("photos_list is invalid") from None
        owner_id = -self.group_id
        photo = self._photo_object(
            owner_id, self._next_media_id(), content=upload.content, width=1280, height=960
        )
        self._photos[(owner_id, photo["id"])] = photo
        return [photo]

    def _docs_get_messages_upload_server(self, p: _Reader) -> JSON:
        doc_type = p.text("type") or "doc"
        if doc_type not in {"doc", "audio_message", "graffiti"}:
            raise VKError.invalid("type is invalid")
        return {"upload_url": f"{self.base_url}/upload/doc?type={doc_type}"}

    def _docs_get_wall_upload_server(self, p: _Reader) -> JSON:
        # A community token may call it (VK API schema: access_token_type user, group);
        # photos.getWallUploadServer it may not, so the fake has no such method.
        group_id = p.integer("group_id")
        if group_id is not None and group_id != self.group_id:
            raise VKError(15, "Access denied: no access to this community's documents")
        return {"upload_url": f"{self.base_url}/upload/doc?type=doc"}

    def _docs_save(self, p: _Reader) -> JSON:
        upload = self._uploads.pop(p.require_text("file"), None)
        if upload is None or upload.kind != "doc":
            raise VKError.invalid("file is invalid")
        owner_id = -self.group_id
        media_id = self._next_media_id()
        if upload.doc_type == "audio_message":
            audio = self._audio_message_object(owner_id, media_id, 5, upload.content, None)
            return {"type": "audio_message", "audio_message": audio}
        title = p.text("title") or upload.filename
        doc = self._doc_object(owner_id, media_id, title, upload.content)
        self._docs[(owner_id, media_id)] = doc
        if upload.doc_type == "graffiti":
            graffiti = {"id": media_id, "owner_id": owner_id, "url": doc["url"]}
            graffiti.update(width=512, height=512)
            return {"type": "graffiti", "graffiti": graffiti}
        return {"type": "doc", "doc": doc}

    def _utils_resolve_screen_name(self, p: _Reader) -> JSON:
        name = p.require_text("screen_name")
        if name in {self.screen_name, f"club{self.group_id}", f"public{self.group_id}"}:
            return {"object_id": self.group_id, "type": "group"}
        user_id = self._resolve_user(name, generate=False)
        if user_id is None:
            return []
        return {"object_id": user_id, "type": "user"}

    # ------------------------------------------------------------------ internals

    def _now(self) -> int:
        return int(self._clock())

    @staticmethod
    def _new_key() -> str:
        return os.urandom(20).hex()

    def _hash(self, value: str) -> str:
        return hashlib.sha1(f"{self.group_id}:{value}".encode()).hexdigest()

    def _next_message_id(self) -> int:
        self._message_seq += 1
        return self._message_seq

    def _next_cmid(self, peer: int) -> int:
        self._cmid[peer] = self._cmid.get(peer, 0) + 1
        return self._cmid[peer]

    def _next_wall_id(self) -> int:
        self._wall_seq += 1
        return self._wall_seq

    def _next_media_id(self) -> int:
        self._media_seq += 1
        return 456_239_000 + self._media_seq

    def _is_stopping(self) -> bool:
        return self._stopping is None or self._stopping.is_set()

    def _signal_events(self) -> None:
        self._events_signal.set()
        self._events_signal = asyncio.Event()
        self._signal_state()

    def _signal_state(self) -> None:
        self._state_signal.set()
        self._state_signal = asyncio.Event()

    @staticmethod
    def _take(queue: list[_Queued], method: str) -> _Queued | None:
        for item in queue:
            if item.matches(method):
                item.remaining -= 1
                if item.remaining <= 0:
                    queue.remove(item)
                return item
        return None

    @staticmethod
    async def _read_params(request: web.Request) -> Params:
        params = dict(request.query)
        if request.method == "POST" and request.can_read_body:
            form = await request.post()
            params.update((k, v) for k, v in form.items() if isinstance(v, str))
        return params

    @staticmethod
    def _request_params(method: str, params: Params) -> list[dict[str, str]]:
        listed = [{"key": "method", "value": method}, {"key": "oauth", "value": "1"}]
        listed += [{"key": k, "value": v} for k, v in params.items() if k not in {"access_token"}]
        return listed

    @staticmethod
    def _http_error(status: int) -> web.Response:
        reason = {502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable"}
        title = reason.get(status, f"{status} Error")
        return web.Response(
            status=status, text=_BAD_GATEWAY_HTML.format(status=title), content_type="text/html"
        )

    async def _hang_and_drop(self, request: web.Request, until: float) -> web.Response:
        """Hold the request until ``until`` (or stop), then close the connection unanswered."""
        stopping = self._stopping
        remaining = until - time.monotonic()
        if stopping is not None and remaining > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), remaining)
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=504)

    def _check_keyboard(self, raw: str | None) -> None:
        """911 for a keyboard out of VK's format, 912 for any with bot features off."""
        if raw is None:
            return
        if not self._bot_features:
            raise VKError(912)
        try:
            keyboard = json.loads(raw)
        except ValueError:
            raise VKError(911) from None
        rows = keyboard.get("buttons") if isinstance(keyboard, dict) else None
        if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
            raise VKError(911)
        most_rows, per_row, most = KEYBOARD_LIMITS[keyboard.get("inline") is True]
        if len(rows) > most_rows or any(len(r) > per_row for r in rows):
            raise VKError(911)
        if sum(len(r) for r in rows) > most:
            raise VKError(911)
        for button in (b for r in rows for b in r):
            if not self._button_valid(button):
                raise VKError(911)

    @staticmethod
    def _button_valid(button: Any) -> bool:
        action = button.get("action") if isinstance(button, dict) else None
        if not isinstance(action, dict) or action.get("type") not in BUTTON_TYPES:
            return False
        if "color" in button and button["color"] not in BUTTON_COLORS:
            return False
        payload = action.get("payload")
        if payload is not None:
            if not isinstance(payload, str) or len(payload) > BUTTON_PAYLOAD_LIMIT:
                return False
            try:
                json.loads(payload)
            except ValueError:
                return False
        if action["type"] not in {"text", "callback"}:
            return True
        label = action.get("label")
        return isinstance(label, str) and 0 < len(label) <= BUTTON_LABEL_LIMIT

    def _check_attachments(self, attachment: str | None) -> None:
        for item in (attachment or "").split(","):
            if item.strip() and not _ATTACHMENT_RE.match(item.strip()):
                raise VKError.invalid(f"attachment {item.strip()!r} is invalid")

    def _attachment_objects(self, attachment: str | None) -> list[dict[str, Any]]:
        objects = []
        for item in (attachment or "").split(","):
            match = _ATTACHMENT_RE.match(item.strip())
            if match is None:
                continue
            kind, owner, media = match.group(1), int(match.group(2)), int(match.group(3))
            known = (self._photos if kind == "photo" else self._docs).get((owner, media))
            obj = dict(known) if known else {"id": media, "owner_id": owner}
            objects.append({"type": kind, kind: obj})
        return objects

    def _store_sent(self, peer: int, text: str, random_id: int, p: _Reader) -> dict[str, Any]:
        record = {
            "id": self._next_message_id(),
            "peer_id": peer,
            "conversation_message_id": self._next_cmid(peer),
            "message": text,
            "random_id": random_id,
            "attachment": p.text("attachment"),
            "reply_to": p.integer("reply_to"),
            "forward": p.text("forward"),
            "keyboard": p.text("keyboard"),
            "payload": p.text("payload"),
            "date": self._now(),
            "params": {k: v for k, v in p.params.items() if k != "access_token"},
        }
        self._sent.append(record)
        self._sent_by_peer.setdefault(peer, []).append(record)
        if self._lp_events.get("message_reply"):
            self.push_event("message_reply", self._own_message_object(record))
        return record

    def _own_message_object(self, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "date": record["date"],
            "from_id": -self.group_id,
            "id": record["id"],
            "out": 1,
            "version": 10_000_000 + self._message_seq,
            "attachments": self._attachment_objects(record["attachment"]),
            "conversation_message_id": record["conversation_message_id"],
            "fwd_messages": [],
            "important": False,
            "is_hidden": False,
            "peer_id": record["peer_id"],
            "random_id": record["random_id"],
            "text": record["message"],
        }

    def _as_foreign(self, message: dict[str, Any]) -> dict[str, Any]:
        """A message as VK nests it in ``reply_message``/``fwd_messages``."""
        if "object" in message:  # a message_new event
            message = message["object"]["message"]
        elif "message" in message and "text" not in message:  # a sent_messages() record
            message = self._own_message_object(message)
        keep = (
            "date",
            "from_id",
            "text",
            "attachments",
            "conversation_message_id",
            "peer_id",
            "id",
            "fwd_messages",
            "geo",
        )
        return {k: message[k] for k in keep if k in message}

    def _comment(self, comment_id: int) -> dict[str, Any]:
        try:
            return self._comments[comment_id]
        except KeyError:
            msg = f"no comment {comment_id}"
            raise ValueError(msg) from None

    def _store_comment(
        self,
        post_id: int,
        from_id: int,
        text: str,
        *,
        reply_to_comment: int | None,
        attachments: list[dict[str, Any]],
    ) -> dict[str, Any]:
        if post_id not in self._posts:
            msg = f"no post {post_id}; create it with add_post()"
            raise ValueError(msg)
        record: dict[str, Any] = {
            "id": self._next_wall_id(),
            "from_id": from_id,
            "date": self._now(),
            "text": text,
            "post_id": post_id,
            "owner_id": -self.group_id,
            "parents_stack": [],
            "thread": {"count": 0},
        }
        if reply_to_comment is not None:
            parent = self._comment(reply_to_comment)
            root = parent["parents_stack"][0] if parent["parents_stack"] else parent["id"]
            record["parents_stack"] = [root]
            record["reply_to_comment"] = reply_to_comment
            record["reply_to_user"] = parent["from_id"]
            self._comments[root]["thread"]["count"] += 1
        if attachments:
            record["attachments"] = attachments
        record["from_group"] = from_id == -self.group_id
        record["deleted"] = False
        record["guid"] = None
        record["attachment"] = None
        self._comments[record["id"]] = record
        self._comments_by_post[post_id].append(record)
        self._posts[post_id]["comments"]["count"] += 1
        if record["from_group"]:
            self._community_comments += 1
        self._signal_state()
        return record

    _INTERNAL_COMMENT_KEYS = frozenset({"from_group", "deleted", "guid", "attachment"})

    def _comment_object(self, record: dict[str, Any]) -> dict[str, Any]:
        obj = {k: v for k, v in record.items() if k not in self._INTERNAL_COMMENT_KEYS}
        obj["parents_stack"] = list(record["parents_stack"])
        obj["thread"] = dict(record["thread"])
        obj["post_owner_id"] = -self.group_id
        return obj

    def _group_object(self) -> dict[str, Any]:
        photo = self.add_file(f"club{self.group_id}.png", PLACEHOLDER_PNG, "image/png")
        return {
            "id": self.group_id,
            "name": self.name,
            "screen_name": self.screen_name,
            "is_closed": 0,
            "type": "group",
            "photo_50": photo,
            "photo_100": photo,
            "photo_200": photo,
        }

    def _resolve_user(self, ident: str, *, generate: bool = True) -> int | None:
        candidate = ident.removeprefix("id")
        if candidate.isdigit() and int(candidate) > 0:
            user_id = int(candidate)
            return user_id if generate or user_id in self._users else None
        return next((u["id"] for u in self._users.values() if u["screen_name"] == ident), None)

    def _user_object(self, user_id: int, fields: Iterable[str]) -> dict[str, Any]:
        user = self._users.get(user_id) or self._generated_user(user_id)
        obj: dict[str, Any] = {
            "id": user_id,
            "first_name": user["first_name"],
            "last_name": user["last_name"],
            "can_access_closed": True,
            "is_closed": False,
        }
        for name in fields:
            if name == "screen_name":
                obj["screen_name"] = user["screen_name"]
            elif name == "sex":
                obj["sex"] = user["sex"]
            elif name.startswith("photo_"):
                obj[name] = self.add_file(f"id{user_id}.png", PLACEHOLDER_PNG, "image/png")
        return obj

    @staticmethod
    def _generated_user(user_id: int) -> dict[str, Any]:
        rng = random.Random(user_id)
        female = rng.random() < 0.5
        stem = rng.choice(_LAST_STEMS)
        return {
            "id": user_id,
            "first_name": rng.choice(_FEMALE_FIRST if female else _MALE_FIRST),
            "last_name": stem + "а" if female else stem,
            "sex": 1 if female else 2,
            "screen_name": f"id{user_id}",
        }

    def _photo_object(
        self,
        owner_id: int,
        photo_id: int,
        *,
        content: bytes | None,
        width: int,
        height: int,
        text: str = "",
    ) -> dict[str, Any]:
        name = f"photo{owner_id}_{photo_id}.jpg"
        url = self.add_file(name, content or PLACEHOLDER_PNG, "image/jpeg")
        longest = max(width, height)
        sizes = []
        for kind, side in _PHOTO_SIZES:
            if side > longest and kind not in {"s", "m", "x"}:
                break
            scale = min(1.0, side / longest)
            sizes.append(
                {
                    "type": kind,
                    "width": max(1, round(width * scale)),
                    "height": max(1, round(height * scale)),
                    "url": f"{url}?size={kind}",
                }
            )
        return {
            "album_id": -3,
            "date": self._now(),
            "id": photo_id,
            "owner_id": owner_id,
            "access_key": os.urandom(9).hex(),
            "sizes": sizes,
            "orig_photo": {"type": "base", "width": width, "height": height, "url": url},
            "text": text,
            "has_tags": False,
        }

    def _doc_object(
        self, owner_id: int, doc_id: int, title: str, content: bytes | None
    ) -> dict[str, Any]:
        ext = title.rsplit(".", 1)[-1].lower() if "." in title else ""
        body = content if content is not None else b"%PDF-1.4\n% frontdesk fake document\n"
        url = self.add_file(f"doc{owner_id}_{doc_id}", body, "application/octet-stream")
        return {
            "id": doc_id,
            "owner_id": owner_id,
            "title": title,
            "size": len(body),
            "ext": ext,
            "date": self._now(),
            "type": _DOC_TYPES.get(ext, 8),
            "url": url,
            "access_key": os.urandom(9).hex(),
        }

    def _audio_message_object(
        self,
        owner_id: int,
        audio_id: int,
        duration: int,
        content: bytes | None,
        transcript: str | None,
    ) -> dict[str, Any]:
        body = content if content is not None else b"OggS\x00fake voice message"
        ogg = self.add_file(f"audio_msg{owner_id}_{audio_id}.ogg", body, "audio/ogg")
        mp3 = self.add_file(f"audio_msg{owner_id}_{audio_id}.mp3", body, "audio/mpeg")
        audio: dict[str, Any] = {
            "id": audio_id,
            "owner_id": owner_id,
            "duration": duration,
            "waveform": [(i * 7) % 31 for i in range(128)],
            "link_ogg": ogg,
            "link_mp3": mp3,
            "access_key": os.urandom(9).hex(),
        }
        if transcript is not None:
            audio["transcript"] = transcript
            audio["transcript_state"] = "done"
        return audio
