"""A consistent, checked copy of a desk's SQLite store, taken while the desk runs or not.

The copy is made with SQLite's online backup API (https://www.sqlite.org/backup.html), a few
pages a step with a short pause between steps. The whole copy is read in one snapshot: a read
transaction is held on the store from before the first step to after the last. In WAL mode a
reader does not block the writer (https://www.sqlite.org/wal.html), so the desk goes on
writing meanwhile, and the copy is the store as it was when the backup began, with every
ticket committed before then. Without the held snapshot each commit of the desk between two
steps would send the backup back to its first page, and a busy desk would keep it from ever
finishing.

The desk's lock file is not taken (one desk per store; a backup is not a desk), and nothing
is created where there is no store: the store is opened `mode=rw`, which opens an existing
file only. The copy goes to a temporary file beside the target, passes `PRAGMA
integrity_check`, and only then takes the target's name; a failure leaves no target behind.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
from dataclasses import dataclass
from pathlib import Path

from storage.base import StoreError

PAGES = 1024  # pages copied a step: 4 MiB at SQLite's default page size of 4096 bytes
PAUSE = 0.005  # seconds between steps, in which the desk's writes go on
BUSY_TIMEOUT = 5.0  # seconds to wait for the store while SQLite recovers its WAL index
# What SQLite may leave beside a database file: https://www.sqlite.org/tempfiles.html
_SIDE_FILES = ("-journal", "-wal", "-shm")


class BackupError(StoreError):
    """The copy failed; nothing is left at the target. One line."""


class BackupRefused(BackupError):
    """Nothing was tried: no store there, not a desk's store, or the target is taken."""


@dataclass(frozen=True, slots=True)
class BackedUp:
    """What was copied: the store, the copy, and the tickets it holds (checked in the copy)."""

    source: Path
    target: Path
    tickets: int
    last_ticket: int  # the highest ticket number in the copy (0: none yet)
    size: int  # bytes


def backup_store(
    store_path: str | Path, target: str | Path, *, force: bool = False,
    pages: int = PAGES, pause: float = PAUSE,
) -> BackedUp:
    """Copy the store at `store_path` to `target`; `force` replaces an existing target.

    Raises BackupRefused before anything is written when there is no desk's store at
    `store_path` or `target` is taken; BackupError when the copy cannot be read, written or
    checked, with the temporary file removed.
    """
    source, target = _source(Path(store_path)), Path(target).absolute()
    _check_target(source, target, force=force)
    store = _open_store(source)
    try:
        store.execute("BEGIN")  # the snapshot: every read below sees the same store
        _check_desk(store, source)
        tickets = _tickets(store)
        partial = _partial_file(target)
        try:
            _copy(store, source, partial, pages=pages, pause=pause)
            store.execute("COMMIT")
            copied = _check_copy(partial, tickets)
            _publish(partial, target, force=force)
        finally:
            _remove(partial)
    except sqlite3.Error as exc:  # the store could not be read (locked past the timeout)
        raise BackupError(f"cannot read the store {source}: {exc}") from None
    finally:
        store.close()
    return BackedUp(source, target, copied[0], copied[1], target.stat().st_size)


def _source(path: Path) -> Path:
    if str(path) == ":memory:":
        raise BackupRefused("DATABASE_URL names no SQLite file (:memory: keeps no store)")
    if not path.is_file():
        raise BackupRefused(f"no store at {path.absolute()}")
    return path.resolve()


def _check_target(source: Path, target: Path, *, force: bool) -> None:
    if target.is_dir():
        raise BackupRefused(f"{target} is a folder; name the file to write")
    if not target.parent.is_dir():
        raise BackupRefused(f"folder {target.parent} does not exist")
    if target.exists() and target.resolve() == source:
        raise BackupRefused(f"{target} is the store itself; name another file")
    if target.exists() and not force:
        raise BackupRefused(f"{target} exists; name another file, or replace it with --force")


def _open_store(path: Path) -> sqlite3.Connection:
    try:
        # mode=rw opens an existing file and never creates one (read-only when the file is
        # write-protected): https://www.sqlite.org/uri.html#urimode
        return sqlite3.connect(f"{path.as_uri()}?mode=rw", uri=True, isolation_level=None,
                               timeout=BUSY_TIMEOUT)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot open the store {path}: {exc}") from None


def _check_desk(store: sqlite3.Connection, path: Path) -> None:
    try:
        found = {name for (name,) in store.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name IN ('schema_version', 'tickets')"
        )}
    except sqlite3.OperationalError:
        raise  # a store that is there but cannot be read now
    except sqlite3.DatabaseError as exc:  # not a database at all, or a damaged one
        raise BackupRefused(f"{path} is not a desk's store: {exc}") from None
    if found != {"schema_version", "tickets"}:
        raise BackupRefused(f"{path} is not a desk's store (it has no tickets table)")


def _tickets(db: sqlite3.Connection) -> tuple[int, int]:
    count, last = db.execute("SELECT COUNT(*), COALESCE(MAX(id), 0) FROM tickets").fetchone()
    return int(count), int(last)


def _partial_file(target: Path) -> Path:
    """An empty file beside the target, on the same file system, so the rename is atomic."""
    try:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".partial",
                                    dir=target.parent)
    except OSError as exc:
        raise BackupError(f"cannot write in {target.parent}: {exc.strerror}") from None
    os.close(fd)
    return Path(name)


def _copy(store: sqlite3.Connection, source: Path, partial: Path, *, pages: int,
          pause: float) -> None:
    try:
        copy = sqlite3.connect(partial, isolation_level=None)
    except sqlite3.Error as exc:
        raise BackupError(f"cannot write {partial}: {exc}") from None
    try:
        # A step's callback is Python: a signal's handler (Ctrl-C, SIGTERM) runs between
        # steps, not only after the whole copy, and the temporary file is removed at once.
        store.backup(copy, pages=pages, sleep=pause, progress=_between_steps)
        # The copy carries the store's WAL mode in its header; a rollback journal makes it
        # one self-contained file, and the desk turns WAL on again when it opens a restore.
        copy.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error as exc:  # a read error of the store, a full disk
        raise BackupError(f"the copy of {source} to {partial.parent} failed: {exc}") from None
    finally:
        copy.close()


def _between_steps(status: int, remaining: int, total: int) -> None:
    """Nothing to do: only a point where Python runs the handlers of signals received."""


def _check_copy(partial: Path, expected: tuple[int, int]) -> tuple[int, int]:
    """(tickets, last ticket) of the copy, once it passes integrity_check and holds them all."""
    try:
        copy = sqlite3.connect(f"{partial.as_uri()}?mode=ro", uri=True, isolation_level=None)
        try:
            answer = _integrity(copy)
            found = _tickets(copy) if answer == ["ok"] else (0, 0)
        finally:
            copy.close()
        with partial.open("rb") as file:
            os.fsync(file.fileno())
    except (sqlite3.Error, OSError) as exc:
        raise BackupError(f"the copy could not be checked: {exc}") from None
    if answer != ["ok"]:
        # The backup copies pages as they are: a damaged copy is a damaged store.
        raise BackupError("the copy failed PRAGMA integrity_check, so the store itself is "
                          f"likely damaged: {'; '.join(answer[:3])}")
    if found != expected:
        raise BackupError(f"the copy holds {found[0]} tickets, the store {expected[0]}")
    return found


def _integrity(copy: sqlite3.Connection) -> list[str]:
    """`["ok"]`, or what is wrong: https://www.sqlite.org/pragma.html#pragma_integrity_check"""
    try:
        return [str(row[0]) for row in copy.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as exc:  # damaged beyond what the check can list
        return [str(exc)]


def _publish(partial: Path, target: Path, *, force: bool) -> None:
    """Give the checked copy the target's name; an existing target only with `force`."""
    try:
        if force:
            os.replace(partial, target)
        else:
            _link(partial, target)
    except FileExistsError:
        raise BackupRefused(f"{target} exists; name another file, or replace it with "
                            "--force") from None
    except OSError as exc:
        raise BackupError(f"cannot write {target}: {exc.strerror}") from None
    # The checked copy is at FILE now: a folder its file system cannot sync (EINVAL on some
    # network shares) does not make it "nothing was written".
    with contextlib.suppress(OSError):
        _sync_folder(target.parent)


def _link(partial: Path, target: Path) -> None:
    """The new name without replacing a file that took it meanwhile."""
    try:
        os.link(partial, target)  # FileExistsError when the name is taken
    except FileExistsError:
        raise
    except OSError:  # a file system without hard links (FAT, some network shares)
        if target.exists():
            raise FileExistsError(target) from None
        os.replace(partial, target)


def _sync_folder(folder: Path) -> None:
    """The new name on disk too, not only the file's contents."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _remove(partial: Path) -> None:
    """The temporary file and whatever SQLite left beside it (after a rename: nothing)."""
    for path in (partial, *(Path(f"{partial}{side}") for side in _SIDE_FILES)):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
