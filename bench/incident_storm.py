"""Incident storm: 1,000 alike messages on one merged incident, PACING=on, Telegram's limits.

The day a district loses heating, five citizens write, staff merge the suggestion into one
incident, and then a thousand more write about it at once. Staff should see one card that
counts them, and its edits, not a thousand cards: fewer than 20 staff-chat messages over the
storm. One reply to the card then answers every reporter within 1.1x of the time 30 messages
a second allows, and not one request may meet 429
(https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this).
"""

from __future__ import annotations

import logging
import math
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from bench.proc import BotProcess
from bench.world import (
    FIRST_CITIZEN,
    STAFF_CHAT,
    BenchError,
    desk_env,
    fake_telegram,
    until,
    wait_ready,
)
from tests.fakes.telegram import FakeTelegram
from tests.harness import installed

log = logging.getLogger(__name__)
_T = TypeVar("_T")

OVERALL_PER_SECOND = 30
OPERATOR_ID = 7301  # on STAFF_USER_IDS: the press and the reply are a staff member's
SUGGESTED = "Похоже на массовое: 5 сообщений"
CARD = "№И-1 Массовое: "
JOINED_ACK = "Мы знаем об этой проблеме"
ANSWER = "Авария на теплотрассе устранена, отопление дадут сегодня к 18:00"
COUNT_ON_CARD = re.compile(r"(\d+) сообщени")
SETTLE_S = 60.0  # how long the card may take to show a count or the answer's progress

# The five who make the incident (as in tests/test_e2e_incidents.py), then the storm's words.
FOUNDERS = (
    "Здравствуйте! На улице Ленина третий день не топят",
    "ул. Ленина 5, батареи холодные. Когда дадут отопление?",
    "НА ЛЕНИНА НЕТ ОТОПЛЕНИЯ",
    "почему не топят дома на Ленина",
    "Отключили отопление на улице Ленина, в квартире холодно",
)
GREETINGS = ("", "Здравствуйте! ", "Добрый день, ", "Добрый вечер. ", "Помогите! ")
COMPLAINTS = (
    "на улице Ленина {house} не топят, батареи холодные",
    "Ленина {house}: батареи холодные, не топят",
    "ул. Ленина {house} — отопления нет, батареи ледяные",
    "не топят! Ленина {house}, холодные батареи",
    "у нас на Ленина {house} холодные батареи, не топят второй день",
    "батареи холодные на улице Ленина {house}, когда дадут отопление?",
    "НА ЛЕНИНА {house} НЕ ТОПЯТ, БАТАРЕИ ХОЛОДНЫЕ",
    "почему не топят на Ленина {house}? Батареи холодные",
    "Ленина {house}, кв. {flat}: отопления нет, батарея холодная",
    "отключили отопление, ул Ленина {house}, батареи еле тёплые",
    "в доме {house} по улице Ленина не топят, холодные батареи",
    "холодная батарея в квартире {flat}, Ленина {house}, не топят",
)


def complaint(n: int) -> str:
    """The n-th storm message: one of the complaints, greeted or not, a house of its own."""
    text = COMPLAINTS[n % len(COMPLAINTS)].format(house=n * 7 % 61 + 1, flat=n * 13 % 140 + 1)
    greeting = GREETINGS[n // len(COMPLAINTS) % len(GREETINGS)]
    return greeting + (text if greeting.endswith(", ") else text[0].upper() + text[1:])


@dataclass(frozen=True, slots=True)
class IncidentStorm:
    """What staff and citizens saw of the storm, from the fake server."""

    citizens: int  # the storm's, on top of the incident's first reporters
    founders: int
    joined: int  # of the storm's citizens, those acknowledged as the incident's reporters
    last_ack_s: float  # from the push to the last acknowledgement
    card_counted_s: float | None  # from the push until the card counted all; None: never
    card_count: int  # the count on the card when the answer was given
    storm_posts: int  # sendMessage-type posts to the staff chat, from the push to the answer
    storm_edits: int  # editMessageText calls on the staff chat that succeeded, the same span
    answer_posts: int  # the same from the answer to the end
    answer_edits: int
    answered: int  # reporters who got the one answer
    answer_s: float | None  # from the staff reply until every reporter had it; None: not all
    progress_shown: bool  # the card said the answer went out to all
    rejected: int  # answers of 429, the whole run
    failed_edits: int  # staff-chat edits that did not succeed, from the push on
    pending_at_end: int | None  # staff-chat rows still in the outbox when the desk stopped

    @property
    def reporters(self) -> int:
        return self.citizens + self.founders

    @property
    def posts(self) -> int:
        return self.storm_posts + self.answer_posts

    @property
    def edits(self) -> int:
        return self.storm_edits + self.answer_edits

    @property
    def staff_messages(self) -> int:
        return self.posts + self.edits

    @property
    def allowed_s(self) -> float:
        """What 30 a second allows for one answer to every reporter."""
        return self.reporters / OVERALL_PER_SECOND

    @property
    def ratio(self) -> float:
        return math.inf if self.answer_s is None else self.answer_s / self.allowed_s


class Inboxes:
    """What the citizens got, read from the fake's log of sends as it grows."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self.read = 0
        self.acked: dict[int, float] = {}  # chat id → when its first message arrived
        self.joined: set[int] = set()
        self.answered: dict[int, float] = {}  # chat id → when the answer arrived

    def update(self) -> None:
        if self.tg.sent_count() == self.read:
            return
        new = self.tg.sent()[self.read:]
        self.read += len(new)
        for record in new:
            chat_id, text = record["chat_id"], record["message"].get("text") or ""
            if chat_id <= 0:
                continue
            self.acked.setdefault(chat_id, record["at"])
            if JOINED_ACK in text:
                self.joined.add(chat_id)
            if ANSWER in text:
                self.answered.setdefault(chat_id, record["at"])

    def count(self, table: dict[int, float] | set[int], chats: range) -> int:
        self.update()
        return sum(1 for chat_id in chats if chat_id in table)


def incident_card(tg: FakeTelegram) -> dict[str, Any] | None:
    """The incident's card as staff see it now: the latest one posted, as edited since."""
    posted = [r["message"] for r in tg.sent(STAFF_CHAT)
              if (r["message"].get("text") or "").startswith(CARD)]
    return tg.message(STAFF_CHAT, posted[-1]["message_id"]) if posted else None


def count_on_card(tg: FakeTelegram) -> int:
    card = incident_card(tg)
    found = COUNT_ON_CARD.search((card or {}).get("text") or "")
    return int(found[1]) if found else 0


def staff_figures(tg: FakeTelegram, since: float, before: float = math.inf) -> tuple[int, int]:
    """Posts to the staff chat and successful edits of its messages, in [since, before)."""
    posts = sum(1 for r in tg.sent(STAFF_CHAT) if since <= r["at"] < before)
    edits = sum(1 for r in tg.calls("editMessageText") if since <= r.at < before
                and str(r.params.get("chat_id")) == str(STAFF_CHAT))
    return posts, edits


def log_staff_posts(tg: FakeTelegram, phase: str, since: float, before: float = math.inf,
                    shown: int = 8) -> None:
    """What the staff chat was sent in a phase, the first few by their first line."""
    posts = [r for r in tg.sent(STAFF_CHAT) if since <= r["at"] < before]
    for r in posts[:shown]:
        first = (r["message"].get("text") or r["method"]).split("\n")[0]
        log.info("incident storm, %s: staff chat got «%s»", phase, first[:70])
    if len(posts) > shown:
        log.info("incident storm, %s: and %d more staff-chat posts", phase, len(posts) - shown)


def failed_edits(tg: FakeTelegram, since: float) -> int:
    failed = [r for r in tg.requests if r.method.startswith("editMessage") and r.at >= since
              and str(r.params.get("chat_id")) == str(STAFF_CHAT)
              and r.status is not None and r.status != 200]
    for r in failed[:5]:
        log.warning("incident storm: %s failed: %s %s", r.method, r.status, r.description)
    return len(failed)


def pending_staff_rows(db: Path) -> int | None:
    """Staff-chat rows the desk had not sent when it stopped (None: the store says nothing)."""
    try:
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND status = "
                               "'pending'", (str(STAFF_CHAT),)).fetchone()
    except sqlite3.Error:
        return None
    return int(row[0])


async def found(find: Callable[[], _T | None], timeout: float, what: str,
                proc: BotProcess) -> _T:
    """What `find()` finds once it finds anything (see `until`)."""
    await until(find, timeout, what, proc)
    value = find()
    if value is None:
        raise BenchError(f"{what} came and went")
    return value


async def spawn_staffed_desk(tg: FakeTelegram, db: Path, workdir: Path) -> BotProcess:
    """`python -m bot` with PACING=on, on an installed store, the operator on STAFF_USER_IDS."""
    await installed(db)
    env = {**desk_env(tg.base_url, db, pacing=True), "STAFF_USER_IDS": str(OPERATOR_ID)}
    return await BotProcess.spawn(["-m", "bot"], env, workdir)


async def merged_incident(tg: FakeTelegram, proc: BotProcess) -> None:
    """Five alike messages, the suggestion merged with its button, the incident's card."""
    for n, text in enumerate(FOUNDERS):
        tg.push_update(tg.private_text(FIRST_CITIZEN + n, text, first_name="Анна"))

    def suggestion() -> dict[str, Any] | None:
        posted = [r["message"] for r in tg.sent(STAFF_CHAT)
                  if (r["message"].get("text") or "").startswith(SUGGESTED)]
        return posted[-1] if posted else None

    suggested = await found(suggestion, 120, "incident suggestion", proc)
    tg.push_update(tg.callback_query(OPERATOR_ID, "do:/merge",
                                     message=suggested["message_id"], chat_id=STAFF_CHAT))
    await found(lambda: incident_card(tg), 120, "incident card", proc)


async def storm(tg: FakeTelegram, proc: BotProcess, inboxes: Inboxes, citizens: int,
                ) -> dict[str, Any]:
    """The thousand at once; every acknowledgement, and the card counting them all."""
    reporters = len(FOUNDERS) + citizens
    chats = range(FIRST_CITIZEN + len(FOUNDERS), FIRST_CITIZEN + reporters)
    start = time.monotonic()
    for n, chat_id in enumerate(chats):
        tg.push_update(tg.private_text(chat_id, complaint(n), first_name="Анна"))
    log.info("incident storm: %d alike messages pushed in %.2f s", citizens,
             time.monotonic() - start)
    await until(lambda: inboxes.count(inboxes.acked, chats) >= citizens,
                60 + 3 * citizens / OVERALL_PER_SECOND, "every acknowledgement", proc)
    last_ack = max(inboxes.acked[chat_id] for chat_id in chats)
    counted: float | None = None
    try:
        await until(lambda: count_on_card(tg) >= reporters, SETTLE_S, "the card's count",
                    proc)
        # When the edit that first said so arrived (it may have been before the last ack).
        counted = min((r.at for r in tg.calls("editMessageText") if r.status == 200
                       and f"{reporters} сообщени" in str(r.params.get("text"))),
                      default=time.monotonic()) - start
    except BenchError:
        if proc.failed():
            raise
        log.warning("incident storm: the card counts %d of %d after %.0f s more",
                    count_on_card(tg), reporters, SETTLE_S)
    return {"start": start, "last_ack_s": last_ack - start, "card_counted_s": counted,
            "joined": inboxes.count(inboxes.joined, chats)}


async def one_answer(tg: FakeTelegram, proc: BotProcess, inboxes: Inboxes,
                     reporters: int) -> dict[str, Any]:
    """The operator replies to the card once; until every reporter has the answer."""
    card_id = (await found(lambda: incident_card(tg), 1, "incident card", proc))["message_id"]
    chats = range(FIRST_CITIZEN, FIRST_CITIZEN + reporters)
    answered_at = time.monotonic()
    tg.push_update(tg.group_text(STAFF_CHAT, OPERATOR_ID, ANSWER, reply_to=card_id))
    allowed = reporters / OVERALL_PER_SECOND
    answer_s: float | None = None
    try:
        await until(lambda: inboxes.count(inboxes.answered, chats) >= reporters,
                    60 + 3 * allowed, "the answer to every reporter", proc)
        answer_s = max(inboxes.answered[chat_id] for chat_id in chats) - answered_at
    except BenchError:
        if proc.failed():
            raise
        log.warning("incident storm: the answer reached %d of %d",
                    inboxes.count(inboxes.answered, chats), reporters)
    done = f"отправлено {reporters} из {reporters}"
    shown = True
    try:
        await until(lambda: done in ((incident_card(tg) or {}).get("text") or ""), SETTLE_S,
                    "the answer's progress on the card", proc)
    except BenchError:
        if proc.failed():
            raise
        shown = False
    return {"answered_at": answered_at, "answer_s": answer_s, "progress_shown": shown,
            "answered": inboxes.count(inboxes.answered, chats)}


async def bench_incident_storm(citizens: int, workdir: Path) -> IncidentStorm:
    async with fake_telegram(enforce_limits=True) as tg:
        db = workdir / f"incident-storm-{time.monotonic_ns()}.sqlite3"
        proc = await spawn_staffed_desk(tg, db, workdir)
        try:
            await wait_ready(tg, proc)
            await merged_incident(tg, proc)
            log.info("incident storm: %d citizens at once on №И-1, PACING=on, limits "
                     "enforced", citizens)
            inboxes = Inboxes(tg)
            stormed = await storm(tg, proc, inboxes, citizens)
            card_count = count_on_card(tg)
            answer = await one_answer(tg, proc, inboxes, len(FOUNDERS) + citizens)
        finally:
            await proc.stop()
    start, answered_at = stormed["start"], answer["answered_at"]
    storm_posts, storm_edits = staff_figures(tg, start, answered_at)
    log_staff_posts(tg, "storm", start, answered_at)
    log_staff_posts(tg, "answer", answered_at)
    answer_posts, answer_edits = staff_figures(tg, answered_at)
    return IncidentStorm(
        citizens=citizens, founders=len(FOUNDERS), joined=stormed["joined"],
        last_ack_s=stormed["last_ack_s"], card_counted_s=stormed["card_counted_s"],
        card_count=card_count, storm_posts=storm_posts, storm_edits=storm_edits,
        answer_posts=answer_posts, answer_edits=answer_edits, answered=answer["answered"],
        answer_s=answer["answer_s"], progress_shown=answer["progress_shown"],
        rejected=sum(1 for r in tg.requests if r.status == 429),
        failed_edits=failed_edits(tg, start), pending_at_end=pending_staff_rows(db),
    )
