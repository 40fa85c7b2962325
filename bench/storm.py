"""Storm: 300 citizens at once, PACING=on, against a fake that enforces Telegram's limits.

Telegram allows 30 messages a second overall, about one a second per private chat and 20 a
minute per group (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
With the pacer on, not one request may meet 429, and the last acknowledgement should come
within 1.1x of the time 30 a second allows for the storm's messages.
"""

from __future__ import annotations

import bisect
import logging
import time
from dataclasses import dataclass
from pathlib import Path

from bench.world import (
    FIRST_CITIZEN,
    STAFF_CHAT,
    BenchError,
    citizens_answered,
    fake_telegram,
    push_citizens,
    spawn_desk,
    until,
    wait_ready,
)

log = logging.getLogger(__name__)

OVERALL_PER_SECOND = 30


@dataclass(frozen=True, slots=True)
class Storm:
    """What the storm's sends looked like from the fake server."""

    citizens: int
    last_ack_s: float  # from the push to the last acknowledgement
    sends_by_then: int  # every message sent up to the last acknowledgement (acks and cards)
    rejected: int  # answers of 429
    busiest_second: int  # most sends the server saw in any one second
    cards: int
    all_cards_s: float  # from the push until every ticket was on a card

    @property
    def allowed_s(self) -> float:
        """What 30 a second allows for one acknowledgement per citizen (cards not counted)."""
        return self.citizens / OVERALL_PER_SECOND

    @property
    def ratio(self) -> float:
        return self.last_ack_s / self.allowed_s


async def bench_storm(citizens: int, workdir: Path) -> Storm:
    async with fake_telegram(enforce_limits=True) as tg:
        db = workdir / f"storm-{time.monotonic_ns()}.sqlite3"
        proc = await spawn_desk(tg, db, workdir, pacing=True)
        try:
            await wait_ready(tg, proc)
            log.info("storm: %d citizens at once, PACING=on, limits enforced", citizens)
            pushed = push_citizens(tg, FIRST_CITIZEN, citizens)
            start = min(pushed.values())
            await until(lambda: citizens_answered(tg) >= citizens, 120, "every ack", proc)
            last_ack = max(r["at"] for r in tg.sent() if r["chat_id"] > 0)

            def every_ticket_on_a_card() -> bool:
                text = " ".join(r["message"].get("text", "") for r in tg.sent(STAFF_CHAT))
                return all(f"№{n} " in text for n in range(1, citizens + 1))

            await until(every_ticket_on_a_card, 300, "every ticket on a card", proc)
        finally:
            await proc.stop()
    sends = sorted(r["at"] for r in tg.sent())
    if not sends:
        raise BenchError("nothing was sent")
    busiest = max(bisect.bisect_left(sends, at + 1.0) - i for i, at in enumerate(sends))
    cards = tg.sent(STAFF_CHAT)
    return Storm(
        citizens=citizens,
        last_ack_s=last_ack - start,
        sends_by_then=sum(1 for at in sends if at <= last_ack),
        rejected=sum(1 for r in tg.requests if r.status == 429),
        busiest_second=busiest,
        cards=len(cards),
        all_cards_s=max(r["at"] for r in cards) - start,
    )
