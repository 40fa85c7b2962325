"""A SQLite store opened to read only: a look into a desk's store while the desk runs.

No lock file is taken (the running desk holds it), no migration is applied and nothing can
be written: the file is opened with SQLite's `mode=ro` (https://www.sqlite.org/uri.html).
WAL lets such a reader see the last commits beside the writer. A missing file is an error,
never a new store.

A reader of a WAL store needs its `-wal` and `-shm` files, and SQLite makes them when they
are not there (the desk is stopped: its closing removed them). Left behind, they would be
the reader's user's, and a desk running as another user could not write them at its next
start ("attempt to write a readonly database"); so the reader removes at its closing the
ones it made, if no desk holds the store then and the `-wal` is empty. A store in
rollback-journal mode (a backup's copy) gets no such files.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from pathlib import Path

import aiosqlite

from storage.base import StoreError
from storage.schema import behind
from storage.sqlite.store import SqliteStore


class ReadOnlySqliteStore(SqliteStore):
    """The store's reads on a file opened read-only; any write fails."""

    def __init__(self, path: str | Path) -> None:
        super().__init__(path, exclusive=False)
        self._made: list[Path] = []  # the -wal and -shm files not there before the opening

    async def open(self) -> None:
        path = Path(self._path)
        if self._path == ":memory:" or not path.is_file():
            raise StoreError(f"DATABASE_URL: no store at {path}")
        # SQLite names them after the file it opens: the resolved path, as below.
        self._made = [f for f in _shared_files(path.resolve()) if not f.exists()]
        try:
            self._db = await aiosqlite.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None
            )
            await self._db.execute("PRAGMA busy_timeout = 5000")
            versions = await self._db.execute_fetchall("SELECT version FROM schema_version")
        except sqlite3.Error as exc:
            await self.close()
            raise StoreError(f"DATABASE_URL: cannot read the SQLite store {path}: {exc}") from exc
        if not versions:
            await self.close()
            raise StoreError(f"DATABASE_URL: {path} holds no Frontdesk store")
        older = behind(str(path), (int(row[0]) for row in versions))
        if older:
            await self.close()
            raise StoreError(older)

    async def close(self) -> None:
        await super().close()
        made, self._made = self._made, []
        if made:
            remove_made(Path(self._path), made)


def _shared_files(path: Path) -> list[Path]:
    return [Path(f"{path}-wal"), Path(f"{path}-shm")]


def remove_made(path: Path, made: list[Path]) -> None:
    """The -wal and -shm a reader made beside a stopped desk's store, removed, while the
    desk's lock file is held for the moment (a desk starting just then is refused, and says
    so): a running desk's, or a -wal with commits in it, are left as they are."""
    path = path.resolve()
    try:
        fd = os.open(f"{path}.lock", os.O_RDONLY)  # never made here: the desk's
    except OSError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return  # a desk holds the store: the files are in its use
    try:
        wal = Path(f"{path}-wal")
        if wal.exists() and wal.stat().st_size > 0:
            return  # a desk wrote meanwhile; its commits are there until its next checkpoint
        for shared in made:
            with contextlib.suppress(FileNotFoundError):
                shared.unlink()
    except OSError:
        return  # not ours to remove after all (the folder's rights): they stay
    finally:
        os.close(fd)

