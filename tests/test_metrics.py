"""/metrics and /healthz of the real application, scraped over HTTP while it works against the
fake Telegram server: counters move as tickets open, get answered and escalate; the store's
gauges follow the store; /healthz says what is wrong in one line.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Application
from bot.startup import StartupRefused
from tests import harness
from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, Desk
from tests.pg import fresh_schema

CITIZEN = 5553001
OPERATOR = 7001


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def monitored(app: Application) -> Any:
    assert app.monitoring is not None
    return app.monitoring


async def get(port: int, path: str) -> tuple[int, str, str]:
    """Status, content type and body of a GET on the desk's metrics server."""
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{port}{path}") as r:
        return r.status, r.headers.get("Content-Type", ""), await r.text()


async def scrape(port: int) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of /metrics by (name, labels)."""
    status, content_type, body = await get(port, "/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body) for s in family.samples
    }


def value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


async def until(port: int, check: Callable[[dict[Any, float]], bool], timeout: float = 10) -> (
    dict[Any, float]
):
    """Scrape until `check` holds (the desk works on its own time); fail after `timeout`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        samples = await scrape(port)
        if check(samples):
            return samples
        if loop.time() > deadline:
            raise AssertionError(f"metrics never got there: {samples}")
        await asyncio.sleep(0.1)


async def health_until(port: int, wanted: int, timeout: float = 10) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        status, _, body = await get(port, "/healthz")
        if status == wanted:
            return body
        if loop.time() > deadline:
            raise AssertionError(f"/healthz stayed {status}: {body!r}")
        await asyncio.sleep(0.1)


async def card_of(tg: FakeTelegram, number: int) -> dict[str, Any]:
    def find() -> list[dict[str, Any]]:
        return [r["message"] for r in tg.sent(STAFF_CHAT)
                if (r["message"].get("text") or "").startswith(f"№{number} ")]
    card: dict[str, Any] = (await tg.wait_for(find))[0]
    return card


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
async def desk(tg: FakeTelegram, tmp_path: Path, port: int) -> AsyncIterator[Desk]:
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3", metrics_port=port,
                    escalation_after=2, escalation_check_interval=1) as running:
        yield running


class TestOnEitherStore:
    pytestmark = pytest.mark.usefixtures("either_store")

    async def test_counters_move_as_a_ticket_opens_escalates_and_is_answered(
        self, tg: FakeTelegram, desk: Desk, port: int
    ) -> None:
        before = await scrape(port)
        assert value(before, "frontdesk_first_answer_working_seconds_count",
                     platform="telegram") is None
        assert value(before, "frontdesk_sends_total", platform="telegram") is not None
        assert value(before, "frontdesk_store_up") == 1

        tg.push_update(tg.private_text(CITIZEN, "Не вывозят мусор"))
        card = await card_of(tg, 1)
        opened = await until(port, lambda s: value(
            s, "frontdesk_tickets_opened_total",
            platform="telegram", channel="direct", department="none") == 1)
        assert value(opened, "frontdesk_open_tickets") == 1
        # The acknowledgement and the card went: two sends, and nothing failed.
        assert (value(opened, "frontdesk_sends_total", platform="telegram") or 0) >= 2
        assert not [k for k in opened if k[0] == "frontdesk_send_failures_total"]

        # ESCALATION_AFTER is 2 s round the clock: level 1 about 2 s after the message.
        await until(port, lambda s: value(s, "frontdesk_escalations_total", level="1") == 1)

        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "Вывезут сегодня.",
                                     reply_to=card["message_id"]))
        await tg.wait_sent(2, chat_id=CITIZEN)
        answered = await until(port, lambda s: value(
            s, "frontdesk_first_answer_working_seconds_count", platform="telegram") == 1)
        working = value(answered, "frontdesk_first_answer_working_seconds_sum",
                        platform="telegram")
        assert working is not None and 2 <= working < 60  # after the escalation, seconds
        assert value(answered, "frontdesk_first_answer_working_seconds_bucket",
                     platform="telegram", le="60.0") == 1
        assert value(answered, "frontdesk_overdue_tickets") == 0

        # A second answer is no first answer.
        tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "И завтра тоже.",
                                     reply_to=card["message_id"]))
        await tg.wait_sent(3, chat_id=CITIZEN)
        again = await scrape(port)
        assert value(again, "frontdesk_first_answer_working_seconds_count",
                     platform="telegram") == 1

    async def test_overdue_gauge_rises_with_the_clock(
        self, tg: FakeTelegram, tmp_path: Path, port: int
    ) -> None:
        # ESCALATION_AFTER of an hour round the clock: the ticket is due an hour after it
        # was opened, and the scrape's clock is moved past that.
        async with Desk(tg.base_url, tmp_path / "desk.sqlite3", metrics_port=port,
                        escalation_after=3600) as desk:
            assert desk.app is not None
            ahead = [timedelta(0)]
            monitored(desk.app).figures.now = lambda: datetime.now(UTC) + ahead[0]
            tg.push_update(tg.private_text(CITIZEN, "Нет воды"))
            await card_of(tg, 1)
            samples = await until(port, lambda s: value(s, "frontdesk_open_tickets") == 1)
            assert value(samples, "frontdesk_overdue_tickets") == 0
            ahead[0] = timedelta(hours=1, minutes=1)
            samples = await scrape(port)
            assert value(samples, "frontdesk_overdue_tickets") == 1
            assert value(samples, "frontdesk_open_tickets") == 1

    async def test_healthz_answers_ok_then_503_when_the_store_is_closed(
        self, tg: FakeTelegram, desk: Desk, port: int
    ) -> None:
        assert desk.app is not None
        status, _, body = await get(port, "/healthz")
        assert (status, body) == (200, "ok\n")
        await desk.app.store.close()
        assert await health_until(port, 503) == "store: unavailable\n"
        # The gauges of the store are left out of a scrape, which still answers.
        samples = await scrape(port)
        assert value(samples, "frontdesk_store_up") == 0
        assert value(samples, "frontdesk_open_tickets") is None
        assert value(samples, "frontdesk_sends_total", platform="telegram") is not None
        await desk.app.store.open()  # back: healthy again, and the desk stops as usual
        assert await health_until(port, 200) == "ok\n"


async def test_failed_sends_are_counted_by_class_and_the_wait_asked_for(
    tg: FakeTelegram, desk: Desk, port: int
) -> None:
    # The first acknowledgement meets a 429 with retry_after 1, and goes after it.
    tg.fail_next("sendMessage", 429, retry_after=1, chat_id=CITIZEN)
    tg.push_update(tg.private_text(CITIZEN, "Когда включат свет?"))
    await tg.wait_sent(1, chat_id=CITIZEN)
    limited = await scrape(port)
    assert value(limited, "frontdesk_send_failures_total",
                 platform="telegram", error="rate_limited") == 1
    assert value(limited, "frontdesk_rate_limited_total", platform="telegram") == 1
    assert value(limited, "frontdesk_rate_limited_wait_seconds_total", platform="telegram") == 1

    # A citizen who blocked the bot: 403, refused for good.
    tg.push_update(tg.private_text(CITIZEN + 1, "Спасибо"))
    card = await card_of(tg, 2)
    await tg.wait_sent(1, chat_id=CITIZEN + 1)
    tg.block_user(CITIZEN + 1)
    tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR, "Пожалуйста.",
                                 reply_to=card["message_id"]))
    await until(port, lambda s: value(
        s, "frontdesk_send_failures_total", platform="telegram", error="refused") == 1)


async def test_healthz_says_when_polling_stalls(
    tg: FakeTelegram, desk: Desk, port: int
) -> None:
    assert desk.app is not None
    health = monitored(desk.app).health
    assert await health_until(port, 200) == "ok\n"
    tg.push_update(tg.private_text(CITIZEN, "Алло"))  # a poll answered
    await card_of(tg, 1)
    health.poll_within = 0.5
    tg.faults.server_error(502, methods=["getUpdates"])  # Telegram's API is down
    body = await health_until(port, 503)
    assert body.startswith("telegram intake: last poll ") and body.endswith(" s ago\n")
    tg.faults.clear()
    tg.push_update(tg.private_text(CITIZEN, "Снова работает?"))  # answered at once
    assert await health_until(port, 200, timeout=40) == "ok\n"


async def test_healthz_503_when_the_sqlite_file_is_removed(
    tg: FakeTelegram, desk: Desk, port: int, tmp_path: Path
) -> None:
    assert await health_until(port, 200) == "ok\n"
    (tmp_path / "desk.sqlite3").unlink()
    assert await health_until(port, 503) == "store: unavailable\n"


async def test_without_metrics_port_nothing_listens(tg: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3", metrics_host="127.0.0.1") as desk:
        assert desk.app is not None and desk.app.monitoring is None
        with pytest.raises(aiohttp.ClientConnectionError):
            await get(port, "/healthz")


async def test_a_busy_metrics_port_stops_the_start_naming_it(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        desk = Desk(tg.base_url, tmp_path / "desk.sqlite3", metrics_port=port)
        with pytest.raises(StartupRefused) as refused:
            await desk.start()
    assert str(refused.value).startswith(f"METRICS_PORT: cannot listen on 127.0.0.1:{port} (")
    assert "\n" not in str(refused.value)


async def test_a_desk_standing_by_on_postgresql_is_healthy_while_another_polls(
    tg: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fresh_schema() as url:
        monkeypatch.setattr(harness, "STORE_URL", url)
        first_port, second_port = free_port(), free_port()
        async with Desk(tg.base_url, tmp_path / "a.sqlite3", metrics_port=first_port) as first:
            assert first.app is not None
            tg.push_update(tg.private_text(CITIZEN, "Кто здесь?"))
            await card_of(tg, 1)  # the first desk polls
            async with Desk(tg.base_url, tmp_path / "b.sqlite3",
                            metrics_port=second_port) as second:
                assert second.app is not None
                standby = monitored(second.app).health
                standby.poll_within = 0.5
                while second.app.poller.polls is not False:  # it looked, and stands by
                    await asyncio.sleep(0.05)
                await asyncio.sleep(1.0)  # past poll_within without a poll of its own
                assert await get(second_port, "/healthz") == (200, "text/plain; charset=utf-8",
                                                              "ok\n")
