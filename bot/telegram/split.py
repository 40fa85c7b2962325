"""Long texts split into Telegram-sized parts, never cut, markup kept balanced."""

from __future__ import annotations

import html
import re

from handlers.render import visible_length

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

_TOKEN = re.compile(r"(<[^<>]+>)")
_TAG = re.compile(r"^<(/?)([a-zA-Z][\w-]*)")


def html_visible_length(markup: str) -> int:
    return visible_length(html.unescape(_TOKEN.sub("", markup)))


def split_plain(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Plain text in parts of at most `limit`, broken at line ends or spaces where possible."""
    parts: list[str] = []
    rest = text
    while visible_length(rest) > limit:
        cut = _fit(rest, limit)
        window = rest[:cut]
        for sep in ("\n", " "):
            at = window.rfind(sep)
            if at > cut // 2:
                cut = at + 1
                break
        parts.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip("\n")
    if rest or not parts:
        parts.append(rest)
    return [p for p in parts if p] or [text]


def _fit(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 units (surrogates kept whole)."""
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > limit:
            return max(index, 1)
    return len(text)


def split_html(markup: str, limit: int = TEXT_LIMIT) -> list[str]:
    """HTML in parts whose visible text fits; tags open at a break are closed and reopened."""
    if html_visible_length(markup) <= limit:
        return [markup]
    budget = limit - 16  # room for the odd entity boundary
    parts: list[str] = []
    current: list[str] = []
    used = 0
    stack: list[tuple[str, str]] = []  # (name, opening tag)

    def flush() -> None:
        nonlocal current, used
        closing = "".join(f"</{name}>" for name, _ in reversed(stack))
        parts.append("".join(current) + closing)
        current = [opening for _, opening in stack]
        used = 0

    for token in _TOKEN.split(markup):
        if not token:
            continue
        tag = _TAG.match(token) if token.startswith("<") else None
        if tag:
            closing, name = tag.group(1), tag.group(2).lower()
            if closing:
                if stack and stack[-1][0] == name:
                    stack.pop()
            else:
                stack.append((name, token))
            current.append(token)
            continue
        text = html.unescape(token)
        while text:
            room = budget - used
            if visible_length(text) <= room:
                current.append(html.escape(text, quote=False))
                used += visible_length(text)
                break
            cut = _fit(text, room) if room > 0 else 0
            window = text[:cut]
            at = max(window.rfind("\n"), window.rfind(" "))
            if at > cut // 2:
                cut = at + 1
            if cut > 0:
                current.append(html.escape(text[:cut], quote=False))
            text = text[cut:]
            flush()
    if current:
        parts.append("".join(current))
    return [p for p in parts if html_visible_length(p) > 0 or "<" in p]
