"""The sender's question skips chats under way without reading their rows, however many wait.

That the answer is right past a backlog longer than the first look is in the contract suite
(tests/contract/test_outbox.py); here, that SQLite's plan reads the chat index, and that the
contract's backlog is long enough to take SQLite past its first look.
"""

from __future__ import annotations

from storage import SqliteStore
from storage.sql.outbox import WINDOW
from tests.contract.test_outbox import BACKLOG, LIMIT

STAFF = "-1001000000001"


def test_the_contract_backlog_goes_past_sqlites_first_look() -> None:
    assert LIMIT * WINDOW < BACKLOG


async def test_the_question_searches_the_chat_index_and_never_scans(store: SqliteStore) -> None:
    plan = await store.due_outbox_plan([("telegram", STAFF), ("vk", "77")])
    assert "SEARCH outbox USING INDEX outbox_chat_pending (platform=? AND chat_id<?)" in plan
    assert "SCAN" not in plan, plan


async def test_the_groups_question_searches_the_chat_index_and_never_scans(
    store: SqliteStore,
) -> None:
    plan = await store.due_groups_plan([("telegram", STAFF), ("telegram", "-100500")])
    assert "SEARCH outbox USING INDEX outbox_chat_pending" in plan
    assert "SCAN" not in plan, plan
