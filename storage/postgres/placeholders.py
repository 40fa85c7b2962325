"""The desk's statements take `?` placeholders (storage/sql); PostgreSQL numbers them."""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=1024)
def numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1`, `$2`, …; a `?` inside a '…' literal stays."""
    parts = sql.split("'")
    count = 0

    def number(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"${count}"

    for index in range(0, len(parts), 2):  # outside the quotes
        parts[index] = re.sub(r"\?", number, parts[index])
    return "'".join(parts)
