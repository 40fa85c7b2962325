"""No conversation state in aiogram: everything the desk knows of a citizen is in the store."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiogram.fsm.state import State
from aiogram.fsm.storage.base import BaseStorage, StorageKey

StateType = str | State | None


class NoStates(BaseStorage):
    """aiogram's FSM storage that holds nothing.

    aiogram's default MemoryStorage reads every update's state from a defaultdict, which adds
    an entry for each new chat and user and never drops it: memory that grows with every
    citizen who ever wrote. The desk uses no FSM states, so this storage keeps none and
    refuses to be given any.
    """

    async def set_state(self, key: StorageKey, state: StateType = None) -> None:
        if state is not None:
            raise NotImplementedError("the front desk keeps no conversation states")

    async def get_state(self, key: StorageKey) -> str | None:
        return None

    async def set_data(self, key: StorageKey, data: Mapping[str, Any]) -> None:
        if data:
            raise NotImplementedError("the front desk keeps no conversation data")

    async def get_data(self, key: StorageKey) -> dict[str, Any]:
        return {}

    async def close(self) -> None:
        return None
