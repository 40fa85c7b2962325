"""Memory and start-up: `python -m bot` on an empty store and on a million tickets."""

from __future__ import annotations

import logging
import shutil
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.world import (
    FIRST_CITIZEN,
    STAFF_CHAT,
    BenchError,
    fake_telegram,
    push_citizens,
    spawn_desk,
    until,
    wait_ready,
)

log = logging.getLogger(__name__)

KIB = 1024
WORKLOAD_TIMEOUT = 90.0


@dataclass(slots=True)
class Footprint:
    """One store: start-up times, and memory after a small workload."""

    label: str
    workload: int
    store_mb: float = 0.0
    startups: list[float] = field(default_factory=list)  # spawn to first getUpdates, seconds
    peak_rss_kib: int = 0  # VmHWM after the workload
    rss_kib: int = 0  # VmRSS after the workload
    handled: int = 0  # workload messages whose ack and card both went out
    workload_seconds: float = 0.0  # first push to the last message, or the time given up at

    @property
    def startup(self) -> float:
        return statistics.median(self.startups)

    @property
    def complete(self) -> bool:
        return self.handled >= self.workload


async def _start(db: Path, workdir: Path, result: Footprint, *, work: bool) -> None:
    """Start the desk, time its first getUpdates; if `work`, run the workload, read memory."""
    async with fake_telegram() as tg:
        proc = await spawn_desk(tg, db, workdir)
        try:
            result.startups.append(await wait_ready(tg, proc))
            if work:
                started = time.monotonic()
                push_citizens(tg, FIRST_CITIZEN, result.workload)
                try:
                    await until(lambda: len(tg.sent()) >= 2 * result.workload,
                                WORKLOAD_TIMEOUT, "acks and cards for the workload", proc)
                    result.workload_seconds = max(r["at"] for r in tg.sent()) - started
                except BenchError:
                    if proc.failed():
                        raise
                    result.workload_seconds = time.monotonic() - started
                    log.warning("%s: gave up on the workload after %.0f s",
                                result.label, WORKLOAD_TIMEOUT)
                acks = {r["chat_id"] for r in tg.sent() if r["chat_id"] > 0}
                result.handled = min(len(acks), len(tg.sent(STAFF_CHAT)))
                result.peak_rss_kib = proc.status_kib("VmHWM")
                result.rss_kib = proc.status_kib("VmRSS")
        finally:
            code = await proc.stop(timeout=30)
        if code != 0:
            raise BenchError(f"the desk exited with {code}:\n{proc.log_tail()}")


async def measure_store(
    label: str, source: Path | None, workdir: Path, *, workload: int, starts: int
) -> Footprint:
    """`starts` starts on a copy of `source` (None: a new empty store); the first one works."""
    db = workdir / f"footprint-{time.monotonic_ns()}.sqlite3"
    if source is not None:
        log.info("%s: copying the store (%.1f GB)", label, source.stat().st_size / 1e9)
        shutil.copyfile(source, db)
    result = Footprint(label, workload)
    try:
        for run in range(starts):
            await _start(db, workdir, result, work=run == 0)
            log.info("%s: start %d/%d in %.2f s", label, run + 1, starts, result.startups[-1])
        log.info("%s: peak RSS %.1f MiB, %d/%d handled in %.1f s", label,
                 result.peak_rss_kib / KIB, result.handled, workload, result.workload_seconds)
        result.store_mb = db.stat().st_size / 1e6
    finally:
        for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
            path.unlink(missing_ok=True)
    return result
