"""Benchmark of incident detection: a new ticket compared with 10,000 in the window.

The window holds 10,000 tickets' first messages, as citizens write them: of 5 to 40 words,
greetings, function words and common words in any form, one department's words, a street and
a house now and then, a typo. A quarter of them belong to 25 incidents (one outage on one
street, a hundred messages each, in the citizens' own words); the rest are scattered over the
twenty departments of the routing benchmark. Then each new ticket is timed as the desk handles
it: its report made from the text, the alike ones found, and the report added. Half the new
tickets belong to an incident. The lemma cache is warm, as on a desk that has run an hour.

    python -m bench.incidents              # 10,000 in the window, 1,000 new tickets
    python -m bench.incidents 50000 2000
"""

from __future__ import annotations

import random
import statistics
import sys
import time as clock
import tracemalloc
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.routing import (
    ADJECTIVES,
    FUNCTION,
    NOUNS,
    OPENERS,
    STREETS,
    THEMES,
    VERBS,
    forms_of,
    typo,
)
from handlers.routing import analyzer
from handlers.similarity import RecentReports, Report, report_of

SEED = 20261201
INCIDENTS = 25
EACH = 100  # messages of one incident in the window
NOW = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
WINDOW = timedelta(hours=3)
TOP = 30  # the most alike the desk reads from the store (handlers.incidents.LOOKED_AT)

# Outages as citizens name them: each incident's messages take two or three of its words.
OUTAGES = [
    ["не топят", "отопления нет", "батареи холодные", "холодно в квартире", "отопление",
     "батареи ледяные", "отапление", "радиаторы холодные", "мёрзнем"],
    ["нет горячей воды", "горячую воду отключили", "горячая вода", "кран холодный"],
    ["нет света", "отключили свет", "электричества нет", "свет моргает", "без света"],
    ["нет воды", "воду отключили", "из крана не течёт", "водоснабжение"],
    ["газ отключили", "нет газа", "запах газа", "плита не работает"],
    ["мусор не вывозят", "контейнеры переполнены", "мусорка", "свалка во дворе"],
    ["яма на дороге", "ямы", "асфальт разбит", "дорога разбита", "колесо пробил"],
    ["автобус не пришёл", "маршрут отменили", "автобуса нет", "на остановке час"],
]
HOUSE = ["дом", "квартира", "подъезд", "этаж", "двор", "дети", "пенсионеры", "соседи"]


def incident_message(number: int, rng: random.Random, forms: dict[str, list[str]]) -> str:
    """A message of an incident: its outage in two or three of the citizens' words, among
    function and common words, its street in seven out of ten."""
    outage = OUTAGES[number % len(OUTAGES)]
    street = STREETS[number % len(STREETS)]
    words = [rng.choice(OPENERS), *rng.sample(outage, rng.randint(1, 3))]
    words += [rng.choice(FUNCTION) for _ in range(rng.randint(0, 6))]
    words += [rng.choice(forms[rng.choice(HOUSE)]) for _ in range(rng.randint(0, 2))]
    rng.shuffle(words)
    if rng.random() < 0.7:
        words.append(rng.choice([f"ул. {street}", f"на {street}",
                                 f"{street} {rng.randint(1, 90)}"]))
    return _written(words, rng)


def scattered_texts(count: int, rng: random.Random, forms: dict[str, list[str]]) -> list[str]:
    """Messages of no incident: 5 to 40 words, one department's words among common ones
    (the fifteen departments of no outage: culture, sport, land, records...)."""
    common = [*NOUNS, *ADJECTIVES, *VERBS]
    themes = list(THEMES.values())
    texts = []
    for _ in range(count):
        topic = rng.choice(themes)
        words = [rng.choice(OPENERS)]
        for _ in range(rng.randint(5, 40)):
            roll = rng.random()
            if roll < 0.45:
                words.append(rng.choice(FUNCTION))
            elif roll < 0.8:
                words.append(rng.choice(forms[rng.choice(common)]))
            elif roll < 0.97:
                pick = rng.choice(topic)
                words.append(rng.choice(forms.get(pick, [pick])))
            else:
                words.append(f"ул. {rng.choice(STREETS)}, д. {rng.randint(1, 120)}")
        texts.append(_written(words, rng))
    return texts


def _written(words: list[str], rng: random.Random) -> str:
    """Words as a citizen types them: a typo now and then, some in capitals."""
    text = " ".join(typo(w, rng) if rng.random() < 0.04 else w for w in words if w)
    text += rng.choice([".", "!", "!!!", "?", ""])
    return text.upper() if rng.random() < 0.05 else text


def handled(
    recent: RecentReports, ticket_id: int, text: str, now: datetime
) -> tuple[float, list[int]]:
    """Milliseconds a new ticket took (report, alike ones, added), and the alike ones."""
    started = clock.perf_counter_ns()
    report = report_of(ticket_id, now, None, text)
    found = recent.similar(report, now)
    recent.add(report)
    return (clock.perf_counter_ns() - started) / 1e6, found


def window_of(
    reports: int, rng: random.Random, forms: dict[str, list[str]]
) -> list[tuple[str, int | None]]:
    """The window's texts in the order they came, each with its incident's number or None."""
    rows: list[tuple[str, int | None]] = [
        (incident_message(number, rng, forms), number)
        for number in range(INCIDENTS) for _ in range(EACH)]
    rows += [(text, None) for text in scattered_texts(max(reports - len(rows), 0), rng, forms)]
    rng.shuffle(rows)
    return rows[:reports]


def indexed(rows: list[tuple[str, int | None]]) -> tuple[list[Report], float]:
    """The window's reports, opened over its first 90 %, and the milliseconds each took."""
    step = WINDOW * 0.9 / max(len(rows), 1)
    started = clock.perf_counter()
    made = [report_of(i, NOW - WINDOW * 0.9 + step * i, None, text)
            for i, (text, _) in enumerate(rows)]
    return made, (clock.perf_counter() - started) * 1000 / max(len(rows), 1)


def filled(made: list[Report]) -> RecentReports:
    recent = RecentReports(window=WINDOW)
    for report in made:
        recent.add(report)
    return recent


def bench_incidents(reports: int = 10_000, probes: int = 1000) -> dict[str, float]:
    """Mean and p95 milliseconds per new ticket against `reports` tickets in the window, and
    how many of its incident's messages a new ticket of an incident finds."""
    rng = random.Random(SEED)
    analyzer()  # the morphology: once per process, before any timing
    forms = forms_of(sorted({*NOUNS, *ADJECTIVES, *VERBS, *HOUSE,
                             *(w for ws in THEMES.values() for w in ws)}))
    rows = window_of(reports, rng, forms)
    made, report_ms = indexed(rows)
    tracemalloc.start()
    traced = filled(made)
    index_mb = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    del traced
    started = clock.perf_counter()
    recent = filled(made)
    build_ms = (clock.perf_counter() - started) * 1000
    members: dict[int, set[int]] = {}
    for index, (_, number) in enumerate(rows):
        if number is not None:
            members.setdefault(number, set()).add(index)
    spent, found, recall, top = [], [], [], []
    for offset in range(probes):
        # Every other new ticket is one more message of an incident.
        number = rng.randrange(INCIDENTS) if offset % 2 and members else None
        text = rng.choice(rows)[0] if number is None else incident_message(number, rng, forms)
        ms, alike = handled(recent, len(rows) + offset, text, NOW + timedelta(seconds=offset))
        spent.append(ms)
        found.append(len(alike))
        if number is not None:
            recall.append(len(members[number] & set(alike)) / len(members[number]))
            if report_of(0, NOW, None, text).places:
                top.append(len(members[number] & set(alike[:TOP])) / max(len(alike[:TOP]), 1))
    return {
        "reports": len(rows),
        "probes": probes,
        "incidents": len(members),
        "words_mean": round(statistics.mean(len(t.split()) for t, _ in rows), 1),
        "report_ms": round(report_ms, 3),
        "build_ms": round(build_ms, 1),
        "index_mb": round(index_mb, 1),
        "mean_ms": round(statistics.mean(spent), 3),
        "p95_ms": round(statistics.quantiles(spent, n=20)[-1], 3),
        "max_ms": round(max(spent), 3),
        "alike_mean": round(statistics.mean(found), 1),
        "incident_recall": round(statistics.mean(recall), 3) if recall else 0.0,
        "top_same": round(statistics.mean(top), 3) if top else 0.0,
    }


def main(argv: list[str]) -> int:
    figures: dict[str, Any] = bench_incidents(*(int(a) for a in argv[:2]))
    print(figures)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
