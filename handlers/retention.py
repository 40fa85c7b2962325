"""Personal data kept no longer than its purpose needs (152-FZ art. 5 part 7): the daily run.

Closed tickets closed more than RETENTION_DAYS ago are anonymized (their figures stay); the
raw copies, inbox payloads of handled updates and outbox payloads of sent messages, are pruned
after PAYLOAD_DAYS; citizens' rows no longer needed (not blocked, nothing to forget) go. Each
step works in bounded batches, one short transaction each, so the desk's own work goes on
between them; a run cut short (a stop, a crash) leaves whole batches done and the next run
goes on from there, because every step picks what is still left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.base import Store, Transaction

log = logging.getLogger(__name__)

BATCH = 200  # tickets (with their messages and outbox rows) in one transaction
PRUNE_BATCH = 1000  # inbox or outbox rows in one transaction
CLAIMS_KEPT = timedelta(hours=1)  # a desk's claim on a chat, run out this long, goes


@dataclass(frozen=True, slots=True)
class RetentionRun:
    """What one run did, in counts (no numbers or names: it goes to the log)."""

    anonymized: int = 0
    inbox_pruned: int = 0
    outbox_pruned: int = 0
    citizens_dropped: int = 0
    complete: bool = True  # False: stopped before the end; the next run goes on


async def apply_retention(
    store: Store, now: datetime, *, retention_days: int, payload_days: int,
    stopping: Callable[[], bool] = lambda: False,
) -> RetentionRun:
    """One run of the retention rules at `now`."""
    anonymize_before = now - timedelta(days=retention_days)
    prune_before = now - timedelta(days=payload_days)

    async def anonymized(tx: Transaction) -> int:
        return len(await tx.anonymize_closed(anonymize_before, now, BATCH))

    async def inbox(tx: Transaction) -> int:
        return await tx.prune_inbox(prune_before, PRUNE_BATCH)

    async def outbox(tx: Transaction) -> int:
        return await tx.prune_outbox(prune_before, PRUNE_BATCH)

    async def citizens(tx: Transaction) -> int:
        await tx.drop_claims(now - CLAIMS_KEPT)
        return await tx.drop_citizens(PRUNE_BATCH)

    counts = [0, 0, 0, 0]
    complete = True
    steps = ((anonymized, BATCH), (inbox, PRUNE_BATCH), (outbox, PRUNE_BATCH),
             (citizens, PRUNE_BATCH))
    for n, (step, batch) in enumerate(steps):
        counts[n], complete = await _batches(store, step, batch, stopping)
        if not complete:
            break
    run = RetentionRun(counts[0], counts[1], counts[2], counts[3], complete=complete)
    if any(counts) or not complete:
        log.info("retention: %s tickets anonymized, %s inbox and %s outbox payloads pruned, "
                 "%s citizens' rows removed%s", *counts, "" if complete else "; stopped")
    return run


async def _batches(
    store: Store, step: Callable[[Transaction], Awaitable[int]], batch: int,
    stopping: Callable[[], bool],
) -> tuple[int, bool]:
    """The step's batches until one is not full; (rows done, whether it got to the end)."""
    total = 0
    while True:
        if stopping():
            return total, False
        async with store.transaction() as tx:
            done = await step(tx)
        total += done
        if done < batch:
            return total, True
        await asyncio.sleep(0)  # let the desk's waiting transactions go first
