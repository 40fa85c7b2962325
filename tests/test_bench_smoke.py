"""The benchmarks' bots, tiny: each does what the throughput figures assume it does."""

from __future__ import annotations

from pathlib import Path

from bench.throughput import measure
from bench.world import fake_telegram, spawn_echo, wait_ready


async def test_desk_burst_acks_every_citizen_and_cards_every_ticket(tmp_path: Path) -> None:
    run = await measure("desk", 20, tmp_path)
    assert run.citizens_answered == 20
    assert run.cards == 20


async def test_echo_bot_answers_each_message_with_its_text_through_the_fake(
    tmp_path: Path,
) -> None:
    async with fake_telegram() as tg:
        echo = await spawn_echo(tg, tmp_path)
        try:
            await wait_ready(tg, echo)
            for chat_id, text in ((701, "Здравствуйте"), (702, "Когда починят фонарь?")):
                tg.push_update(tg.private_text(chat_id, text))
            await tg.wait_for(lambda: tg.sent(701) and tg.sent(702), timeout=30)
        finally:
            assert await echo.stop() == 0, echo.log_tail()
    assert [r["message"]["text"] for r in tg.sent(701)] == ["Здравствуйте"]
    assert [r["message"]["text"] for r in tg.sent(702)] == ["Когда починят фонарь?"]
