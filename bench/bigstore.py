"""A store with a million tickets, built fast and cached under bench/data/ by schema version."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from bench.world import STAFF_CHAT
from storage import SqliteStore
from storage.values import Outbound, Platform, Purpose

log = logging.getLogger(__name__)

DATA = Path(__file__).resolve().parent / "data"
BUILD = 2  # bump when the rows below change
BATCH = 50_000
CITIZENS = 400_000  # people write more than once over the years
# Old update ids, far from the fake's (which start at 1): a clash would make the inbox drop
# the workload's updates as duplicates.
FIRST_UPDATE = 800_000_000
YEARS = 2
OPEN_SHARE = 100  # one ticket in a hundred is still open
_TICKET, _CHAT, _MESSAGE = "987654321", "555444333", "777666555"  # placeholders in templates


def schema_key() -> str:
    """The newest migration's number and a digest of all of them: a new schema, a new file."""
    folder = resources.files("storage") / "migrations"
    scripts = sorted((p.name, p.read_bytes()) for p in folder.iterdir() if p.name.endswith(".sql"))
    digest = hashlib.sha256(b"".join(name.encode() + body for name, body in scripts))
    version = max(int(name.split("_", 1)[0]) for name, _ in scripts)
    return f"v{version}-{digest.hexdigest()[:10]}-b{BUILD}"


async def cached_store(size: int) -> Path:
    """The cached store with `size` tickets, built first if missing (rebuilt per schema)."""
    path = DATA / f"store-{size}-{schema_key()}.sqlite3"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    for stale in DATA.glob(f"store-{size}-*"):  # built for another schema: gigabytes
        log.info("removing %s", stale.name)
        stale.unlink()
    partial = path.with_suffix(".building")
    partial.unlink(missing_ok=True)
    started = time.monotonic()
    await _create_schema(partial)
    await asyncio.to_thread(fill, partial, size)
    partial.rename(path)
    log.info("built %s in %.0f s", path.name, time.monotonic() - started)
    return path


async def _create_schema(path: Path) -> None:
    """The schema exactly as the application's migrations make it."""
    store = SqliteStore(path)
    await store.open()
    await store.close()


def _templates() -> tuple[str, str, str]:
    """An acknowledgement, a card and an inbox update, with placeholders for the ids."""
    ack = Outbound(
        Platform.TELEGRAM, _CHAT, Purpose.ACK,
        f"Ваше сообщение №{_TICKET} получено. Ответим до 26 ноября, 17:00.",
        ticket_id=int(_TICKET), reply_to=_MESSAGE,
    ).to_json()
    card = Outbound(
        Platform.TELEGRAM, str(STAFF_CHAT), Purpose.CARD,
        f"<b>№{_TICKET}</b> · Telegram · личное сообщение\n"
        f'<a href="tg://user?id={_CHAT}">Анна Петрова</a> · ответить до 17:00 26 ноября\n\n'
        "Здравствуйте! Третий день не горит фонарь у дома 5 по улице Ленина.",
        html=True, ticket_id=int(_TICKET),
    ).to_json()
    update = json.dumps({"update_id": int(_TICKET), "message": {
        "message_id": int(_MESSAGE), "date": 1700000000,
        "from": {"id": int(_CHAT), "is_bot": False, "first_name": "Анна"},
        "chat": {"id": int(_CHAT), "type": "private", "first_name": "Анна"},
        "text": "Здравствуйте! Третий день не горит фонарь у дома 5 по улице Ленина.",
    }}, ensure_ascii=False)
    return ack, card, update


def _fill_ids(template: str, ticket: int, chat: int, message: int) -> str:
    return (template.replace(_TICKET, str(ticket)).replace(_CHAT, str(chat))
            .replace(_MESSAGE, str(message)))


def _rows(first: int, last: int, size: int, now: float) -> Iterator[dict[str, Any]]:
    """Tickets `first`..`last`: spread over the last two years, the newest ones open."""
    span = YEARS * 365 * 86400
    for number in range(first, last + 1):
        chat = 100_000_000 + number % CITIZENS
        opened = now - span + span * number / size - 86400
        is_open = number > size - size // OPEN_SHARE
        waiting = is_open and number % 2 == 0
        yield {
            "id": number, "chat": chat, "message": number // CITIZENS + 1, "opened": opened,
            "status": "open" if is_open else "closed",
            "waiting": opened if waiting else None,
            "deadline": now + 365 * 86400 if waiting else None,
            "answered": None if waiting else opened + 3600,
            "closed": None if is_open else opened + 7200,
        }


def _insert_batch(db: sqlite3.Connection, rows: list[dict[str, Any]], templates: tuple[str, ...]
                  ) -> None:
    ack, card, update = templates
    db.executemany(
        "INSERT INTO tickets (id, platform, channel, chat_id, conversation, citizen_id, "
        "citizen_name, citizen_link, reply_to, summary, status, opened_at, waiting_since, "
        "deadline_at, first_answer_at, last_answer_at, closed_at, next_escalation_at, "
        "card_chat_id, card_message_id) VALUES (?, 'telegram', 'direct', ?, ?, ?, "
        "'Анна Петрова', ?, ?, 'Здравствуйте! Третий день не горит фонарь у дома 5', "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(r["id"], str(r["chat"]), str(r["chat"]), str(r["chat"]), f"tg://user?id={r['chat']}",
          str(r["message"]), r["status"], r["opened"], r["waiting"], r["deadline"],
          r["answered"], r["answered"], r["closed"], r["deadline"], str(STAFF_CHAT),
          str(r["id"])) for r in rows],
    )
    db.executemany(
        "INSERT INTO messages (ticket_id, direction, source_key, platform_message_id, author, "
        "text, attachments, created_at) VALUES (?, 'in', ?, ?, 'Анна Петрова', "
        "'Здравствуйте! Третий день не горит фонарь у дома 5 по улице Ленина.', '[]', ?)",
        [(r["id"], f"telegram:{r['chat']}:{r['message']}", str(r["message"]), r["opened"])
         for r in rows],
    )
    db.executemany(
        "INSERT INTO outbox (platform, chat_id, purpose, ticket_id, payload, status, attempts, "
        "not_before, created_at, sent_at, message_ids) "
        "VALUES ('telegram', ?, ?, ?, ?, 'sent', 1, ?, ?, ?, ?)",
        [row for r in rows for row in (
            (str(r["chat"]), "ack", r["id"], _fill_ids(ack, r["id"], r["chat"], r["message"]),
             r["opened"], r["opened"], r["opened"] + 1, f'["{r["message"] + 1}"]'),
            (str(STAFF_CHAT), "card", r["id"], _fill_ids(card, r["id"], r["chat"], r["message"]),
             r["opened"], r["opened"], r["opened"] + 1, f'["{r["id"]}"]'),
        )],
    )
    db.executemany(
        "INSERT INTO refs (platform, chat_id, message_id, ticket_id) VALUES ('telegram', ?, ?, ?)",
        [(str(STAFF_CHAT), str(r["id"]), r["id"]) for r in rows],
    )
    db.executemany(
        "INSERT INTO inbox (platform, source, payload, received_at, done) "
        "VALUES ('telegram', ?, ?, ?, 1)",
        [(f"telegram:{FIRST_UPDATE + r['id']}",
          _fill_ids(update, FIRST_UPDATE + r["id"], r["chat"], r["message"]),
          r["opened"]) for r in rows],
    )


def fill(path: Path, size: int) -> None:
    """Bulk insert: tickets, one message each, their sent ack and card, refs, inbox rows."""
    db = sqlite3.connect(path, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA cache_size = -1000000")
        templates = _templates()
        now = time.time()
        for first in range(1, size + 1, BATCH):
            rows = list(_rows(first, min(first + BATCH - 1, size), size, now))
            db.execute("BEGIN")
            _insert_batch(db, rows, templates)
            db.execute("COMMIT")
            log.info("big store: %d of %d tickets", rows[-1]["id"], size)
        db.execute("PRAGMA journal_mode = WAL")
    finally:
        db.close()
