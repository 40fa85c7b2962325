"""One process per store: an exclusive lock on a file next to the SQLite file.

Two desks on one store would both send every pending message and both handle every update.
`flock` is released by the kernel when the holder exits, however it exits, so a killed
desk never leaves a stale lock behind; the file keeps the holder's pid for the message.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from storage.base import StoreError


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
        self.path = Path(f"{store_path}.lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise StoreError naming the process that holds it."""
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
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)
