"""What a platform pushes (Telegram's webhook, VK's Callback API): a body read as a JSON
object, or refused with 400 naming only what kind of fault it has: a body may hold a
citizen's message."""

from __future__ import annotations

import json
import logging
from typing import Any

from aiohttp import web

log = logging.getLogger(__name__)


class Malformed(Exception):
    """A body that is no JSON object: answered 400. The reason never quotes the body."""


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request's body as a JSON object, or Malformed saying what it is instead."""
    body = await request.read()
    try:
        value = json.loads(body)
    except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, nested past reason
        raise Malformed(f"not JSON ({type(exc).__name__})") from None
    if not isinstance(value, dict):
        raise Malformed(f"not an object ({type(value).__name__})")
    return value


def refuse_malformed(where: str, exc: Malformed) -> web.Response:
    log.warning("%s: a malformed request was refused: %s", where, exc)
    return web.Response(status=400, text="malformed request")
