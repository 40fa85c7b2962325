"""/metrics and /healthz of the real application, scraped over HTTP while it works against the
fake Telegram server: counters move as tickets open, get answered and escalate; the store's
gauges follow the store; /healthz says what is wrong in one line.
"""

from __future__ import annotations

import asyncio
import errno
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from bot.app import Application
from bot.metrics import DeskCounters, cannot_listen
from bot.startup import StartupRefused
from handlers.calendar import BusinessHours, WorkCalendar
from handlers.config import DeskConfig
from handlers.desk import FrontDesk
from handlers.filing import Filing
from handlers.texts import Texts
from storage import SqliteStore, StoreError
from tests import harness
from tests.conftest import MOSCOW, FixedClock
from tests.conftest import STAFF_CHAT as CONF_STAFF_CHAT
from tests.fakes.telegram import FakeTelegram
from tests.harness import STAFF_CHAT, Desk
from tests.pg import fresh_schema
from tests.test_desk import citizen

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


async def test_a_start_failing_after_the_metrics_server_listens_leaves_nothing_listening(
    tg: FakeTelegram, tmp_path: Path, port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    desk = Desk(tg.base_url, tmp_path / "desk.sqlite3", metrics_port=port)
    app = Application(desk.settings)

    async def store_gone() -> None:
        raise StoreError("DATABASE_URL: the store stopped answering")

    monkeypatch.setattr(app.sharing, "look", store_gone)  # after /metrics listens
    with pytest.raises(StoreError):
        await app.start()
    with pytest.raises(aiohttp.ClientConnectionError):
        await get(port, "/healthz")
    # The port is free again: a desk can start on it.
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3", metrics_port=port):
        assert await health_until(port, 200) == "ok\n"


async def test_a_desk_taking_the_polling_over_is_healthy_while_its_first_poll_is_held(
    tg: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with fresh_schema() as url:
        monkeypatch.setattr(harness, "STORE_URL", url)
        first = Desk(tg.base_url, tmp_path / "a.sqlite3", metrics_port=free_port())
        await first.start()
        try:
            tg.push_update(tg.private_text(CITIZEN, "Кто здесь?"))
            await card_of(tg, 1)  # the first desk polls
            second_port = free_port()
            async with Desk(tg.base_url, tmp_path / "b.sqlite3",
                            metrics_port=second_port) as second:
                assert second.app is not None
                while second.app.poller.polls is not False:
                    await asyncio.sleep(0.05)
                # It has stood by for long: far more than POLL_WITHIN since its start.
                monitored(second.app).health.started_at -= 1000
                await first.stop()
                while second.app.poller.polls is not True:  # it took the polling over
                    await asyncio.sleep(0.05)
                # Its first long poll is held open by Telegram: no answer yet, and healthy.
                assert await get(second_port, "/healthz") == (
                    200, "text/plain; charset=utf-8", "ok\n")
        finally:
            await first.stop()


async def test_healthz_says_when_telegram_has_not_taken_the_webhook(
    tg: FakeTelegram, tmp_path: Path, port: int
) -> None:
    hook = free_port()
    tg.faults.server_error(502, methods=["setWebhook"])  # Telegram's API down at start
    async with Desk(tg.base_url, tmp_path / "desk.sqlite3", metrics_port=port,
                    telegram_webhook_url=f"http://127.0.0.1:{hook}/telegram/hook",
                    telegram_webhook_secret="webhook-Secret_0123456789",
                    webhook_port=hook) as desk:
        assert desk.app is not None
        monitored(desk.app).health.poll_within = 0.5
        body = await health_until(port, 503)
        assert body.startswith("telegram intake: webhook not set yet, ") \
            and body.endswith(" s after start\n")
        tg.faults.clear()
        await tg.wait_for(lambda: tg.webhook_url, timeout=40)
        assert await health_until(port, 200) == "ok\n"


@pytest.mark.parametrize(("host", "starts"), [
    ("10.254.254.254", "METRICS_HOST: 10.254.254.254 is not an address of this machine"),
    ("no-such-host.invalid", "METRICS_HOST: no-such-host.invalid is no address this machine "
     "knows ("),
])
async def test_a_wrong_metrics_host_stops_the_start_naming_it(
    tg: FakeTelegram, tmp_path: Path, port: int, host: str, starts: str
) -> None:
    desk = Desk(tg.base_url, tmp_path / "desk.sqlite3", metrics_port=port, metrics_host=host)
    with pytest.raises(StartupRefused) as refused:
        await desk.start()
    assert str(refused.value).startswith(starts)
    assert "\n" not in str(refused.value)


def test_a_port_below_1024_without_root_is_named_with_what_to_do() -> None:
    # Root may take it (this test may run as root): what a desk's user is told is checked here.
    line = cannot_listen("127.0.0.1", 80, PermissionError(errno.EACCES, "Permission denied"))
    assert line == "METRICS_PORT: 80 is below 1024, which only root may take; take one above " \
        "it, such as 9108"


async def test_a_handling_rolled_back_and_tried_again_counts_its_ticket_once(
    store: SqliteStore, texts: Texts, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = CollectorRegistry()
    calendar = WorkCalendar(BusinessHours.parse("24/7"), MOSCOW)
    config = DeskConfig(staff_chat_id=CONF_STAFF_CHAT, timezone=MOSCOW,
                        escalation_after=timedelta(hours=8), hours_text="24/7",
                        events=DeskCounters(registry))
    desk = FrontDesk(store, texts, calendar, config, now=clock)
    relay, faults = Filing._relay_media, [ConnectionError("the store went away mid-way")]

    async def relay_failing_once(self: Filing, *args: Any) -> None:
        if faults:  # after the ticket was made, before its transaction commits
            raise faults.pop()
        await relay(self, *args)

    monkeypatch.setattr(Filing, "_relay_media", relay_failing_once)
    labels = {"platform": "telegram", "channel": "direct", "department": "none"}
    message = citizen("Не вывозят мусор")
    with pytest.raises(ConnectionError):
        await desk.receive(message)  # rolled back: no ticket, and none counted
    assert registry.get_sample_value("frontdesk_tickets_opened_total", labels) is None
    await desk.receive(message)  # tried again from the inbox: the ticket, counted once
    assert registry.get_sample_value("frontdesk_tickets_opened_total", labels) == 1


def test_a_desk_without_metrics_port_does_not_import_prometheus_client() -> None:
    code = "import sys, bot.app; print('prometheus_client' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], cwd=Path(__file__).parent.parent,
                          capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout == "False\n"
