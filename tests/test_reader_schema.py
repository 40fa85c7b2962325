"""The commands that only read a store (export, report) on a store this version has not
migrated yet (the code updated, the desk not restarted): one line saying to start the desk
once, rather than "no such table" half-way through. On both backends."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.command import store_reader
from storage import StoreError, store_from_url
from storage.schema import migrations
from tests.pg import fresh_schema


async def _older(url: str, subfolder: str) -> None:
    """The store at `url` made, then its last migration taken back as if never applied."""
    store = store_from_url(url)
    await store.open()
    await store.close()
    if subfolder:
        import asyncpg  # noqa: PLC0415

        conn = await asyncpg.connect(url)
        try:
            await conn.execute("DROP TABLE audit")
            await conn.execute("DELETE FROM schema_version WHERE version >= 3")
        finally:
            await conn.close()
    else:
        import sqlite3  # noqa: PLC0415

        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        db.execute("DROP TABLE audit")
        db.execute("DELETE FROM schema_version WHERE version >= 14")
        db.commit()
        db.close()
    assert {3 if subfolder else 14} <= migrations(subfolder)  # the ones taken back exist


async def _refused(url: str) -> str:
    reader = store_reader(url)
    with pytest.raises(StoreError) as caught:
        await reader.open()
    return str(caught.value)


async def test_a_sqlite_store_not_migrated_yet_is_named_in_one_line(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    await _older(url, "")
    line = await _refused(url)
    assert "older than this version" in line and "0014" in line and "start the desk" in line
    assert "\n" not in line


async def test_a_postgresql_store_not_migrated_yet_is_named_in_one_line() -> None:
    async with fresh_schema() as url:
        await _older(url, "postgresql")
        line = await _refused(url)
    assert "older than this version" in line and "0003" in line and "\n" not in line


async def test_an_up_to_date_store_is_read() -> None:
    async with fresh_schema() as url:
        store = store_from_url(url)
        await store.open()
        await store.close()
        reader = store_reader(url)
        await reader.open()
        await reader.close()
