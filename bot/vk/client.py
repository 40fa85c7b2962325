"""vkbottle's API client as Frontdesk uses it: our own HTTP session, no hidden waits."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
from vkbottle import API, AiohttpClient, VKAPIError
from vkbottle.api import ABCAPI
from vkbottle.api.request_rescheduler import ABCRequestRescheduler

# A hung request is given up and retried, not waited on; uploads of 20 MB still fit.
REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=10, sock_read=30)

# https://dev.vk.com/ru/reference/errors: worth another try later.
TRANSIENT_CODES = frozenset({1, 6, 9, 10, 14, 29})
TOKEN_REJECTED = 5


class VKUnavailable(Exception):
    """VK answered something that is not JSON (an nginx 502 page): try again later."""


class RaiseOnInvalidAnswer(ABCRequestRescheduler):
    """Instead of vkbottle's default, which sleeps 5 s and more before repeating a request."""

    async def reschedule(
        self, ctx_api: ABCAPI | API, method: str, data: dict[str, Any], recent_response: Any
    ) -> dict[str, Any]:
        raise VKUnavailable(f"{method}: VK answered with no JSON")


# Network trouble and VK's non-JSON answers (an upload server's too): worth repeating.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (
    VKUnavailable, aiohttp.ClientError, asyncio.TimeoutError, OSError, json.JSONDecodeError,
)
# Anything a VK request may end with besides an answer.
API_ERRORS: tuple[type[BaseException], ...] = (VKAPIError, *NETWORK_ERRORS)


def make_api(token: str, api_url: str) -> tuple[API, AiohttpClient]:
    """An API bound to its own HTTP client, which the caller closes on stop."""
    # vkbottle's default SingleAiohttpClient is process-wide and outlives event loops.
    http = AiohttpClient(timeout=REQUEST_TIMEOUT)
    api = API(token, http_client=http, request_rescheduler=RaiseOnInvalidAnswer())
    api.API_URL = api_url  # on the instance: other API objects keep VK's own address
    return api, http


def error_code(exc: BaseException) -> int | None:
    """The VK error code of an API error, None for anything else."""
    return getattr(exc, "code", None) if isinstance(exc, VKAPIError) else None


def describe(exc: BaseException) -> str:
    """A short reason for logs and for staff: never the request's parameters."""
    code = error_code(exc)
    if code is not None:
        return f"VK error {code}: {getattr(exc, 'error_msg', '')}".rstrip(": ")
    return type(exc).__name__
