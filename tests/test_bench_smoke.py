"""The throughput benchmark's burst, tiny: every citizen gets an ack and staff a card."""

from __future__ import annotations

from pathlib import Path

from bench.throughput import measure


async def test_desk_burst_acks_every_citizen_and_cards_every_ticket(tmp_path: Path) -> None:
    run = await measure("desk", 20, tmp_path)
    assert run.citizens_answered == 20
    assert run.cards == 20
