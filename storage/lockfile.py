"""One process per store: an exclusive lock on a file next to the SQLite file.

Two desks on one store would both send every pending message and both handle every update.
`flock` is released by the kernel when the holder exits, however it exits, so a killed
desk never leaves a stale lock behind; the file keeps the holder's pid for the message.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
from pathlib import Path

from storage.base import StoreError

log = logging.getLogger(__name__)

ATTEMPTS = 5  # a lock file replaced between open and flock: look again this often


def _same_file(fd: int, path: Path) -> bool:
    try:
        there = os.stat(path)
    except OSError:
        return False
    here = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def in_use(store_path: str) -> str | None:
    """Why a desk cannot use this store now (another holds it), or None; holds nothing.

    A look before the slow start-up, so a second desk is refused at once; the store still
    takes the lock for real when it opens.
    """
    lock = StoreLock(store_path)
    if store_path == ":memory:" or not lock.path.parent.is_dir():
        return None  # nothing to share; or the store names the missing folder itself
    try:
        lock.acquire()
    except StoreError as exc:
        return str(exc)
    lock.release()
    return None


class StoreLock:
    """Held from the store's opening to its closing."""

    def __init__(self, store_path: str) -> None:
        # The file the path leads to, not the name: a symlink and its target are one store.
        self.path = Path(f"{Path(store_path).resolve()}.lock")
        self._fd: int | None = None
        self._lost: str | None = None  # why this desk may no longer use the store

    def acquire(self) -> None:
        """Take the lock, or raise StoreError naming the process that holds it.

        A lock file removed or replaced while another desk holds it would let a second desk
        lock a new file of the same name: the holder checks that the file it locked is the
        one at the path, and the second desk, finding it is not, tries again with the new one.
        """
        for _ in range(ATTEMPTS):
            fd = self._lock_once()
            if _same_file(fd, self.path):
                os.ftruncate(fd, 0)
                os.write(fd, f"{os.getpid()}\n".encode())
                self._fd = fd
                return
            os.close(fd)  # removed or replaced after it was opened: lock the new one
        raise StoreError(f"DATABASE_URL: {self.path} keeps changing; is another program "
                         "removing it?")

    def keep(self) -> None:
        """Make sure the lock is still visible at its path; called before each use of the store.

        If the lock file was removed (a clean-up of `*.lock`, an operator deleting stale-looking
        files), a second desk would find no lock and start beside this one: the file is made
        and locked again. If another process has locked a new file meanwhile, two desks share
        the store: StoreError, and this desk stops rather than send everything twice.
        """
        if self._lost is not None:
            raise StoreError(self._lost)
        if self._fd is None or _same_file(self._fd, self.path):
            return
        log.warning("%s was removed or replaced while this desk held it; locking it again",
                    self.path)
        old, self._fd = self._fd, None
        try:
            self.acquire()
        except StoreError as exc:
            self._lost = str(exc)  # every later use of the store fails the same way
            log.error("%s", exc)
            raise
        finally:
            os.close(old)

    def _lock_once(self) -> int:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"DATABASE_URL: cannot create {self.path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreError(
                f"DATABASE_URL: the store {self.path.with_suffix('')} is in use by another "
                f"Frontdesk process (pid {holder}); stop it, or give this one its own store"
            ) from None
        except OSError:
            os.close(fd)
            raise
        return fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)
