"""A dict that forgets keys left alone for a while: per-citizen and per-chat state stays bounded.

A region's year brings tens of thousands of citizens and a storm can bring a hundred thousand;
state kept per citizen (flood windows, slow-down notices, send pacing) matters only for a
minute or so after their last message. Each write moves its key to the back; expired keys are
dropped from the front on every write (and when the size is asked), so the size follows the
citizens active within `ttl`, not every citizen ever seen.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, MutableMapping
from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


class ExpiringDict(MutableMapping[K, V]):
    """Keys not written for `ttl` seconds go (seen to on writes and len()); reads do not count."""

    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __getitem__(self, key: K) -> V:
        return self._items[key][1]

    def __setitem__(self, key: K, value: V) -> None:
        now = self.clock()
        self._items[key] = (now, value)
        self._items.move_to_end(key)
        self.expire(now)

    def __delitem__(self, key: K) -> None:
        del self._items[key]

    def __iter__(self) -> Iterator[K]:
        return iter(self._items)

    def __len__(self) -> int:
        self.expire()
        return len(self._items)

    def setdefault(self, key: K, default: V) -> V:
        """The value for `key` (or `default`, stored), and `key` counts as used now."""
        entry = self._items.get(key)
        value = default if entry is None else entry[1]
        self[key] = value
        return value

    def expire(self, now: float | None = None) -> None:
        """Drop every key not written within `ttl` of `now`."""
        cutoff = (self.clock() if now is None else now) - self.ttl
        while self._items:
            key, (written, _) = next(iter(self._items.items()))
            if written > cutoff:
                return
            del self._items[key]
