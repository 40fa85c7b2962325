"""The results as a markdown table, with the machine they were measured on."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.footprint import Footprint
from bench.incident_storm import IncidentStorm
from bench.latency import Latency
from bench.postgres import TAKEOVER_TARGET, Burst, PostgresBench
from bench.soak import Soak
from bench.storm import Storm
from bench.throughput import Throughput

MB = 1e6
KIB = 1024


@dataclass(slots=True)
class Results:
    """Everything one `python -m bench` run measured; a part it skipped stays empty."""

    citizens: int = 0
    throughput: Throughput | None = None
    latency: Latency | None = None
    baseline: Latency | None = None  # the same at a low rate: latency without a queue
    footprints: list[Footprint] = field(default_factory=list)
    sweep: list[dict[str, Any]] = field(default_factory=list)
    storm: Storm | None = None
    soak: Soak | None = None
    backlog: list[dict[str, Any]] = field(default_factory=list)  # small backlog, then large
    routing: dict[str, Any] | None = None
    incidents: dict[str, Any] | None = None
    incident_storm: IncidentStorm | None = None
    postgres: PostgresBench | None = None
    notes: list[str] = field(default_factory=list)
    load_before: str = ""
    load_after: str = ""


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True, slots=True)
class Tree:
    """The checkout the numbers come from: its commit, and whether anything differs from it."""

    commit: str | None  # the full hash; None outside a git checkout
    changes: tuple[str, ...]  # `git status --porcelain` lines: changed and untracked files

    @property
    def clean(self) -> bool:
        return self.commit is not None and not self.changes

    def describe(self) -> str:
        if self.commit is None:
            return "unknown (not a git checkout)"
        return self.commit if not self.changes else f"{self.commit} with uncommitted changes"


def tree(root: Path = ROOT) -> Tree:
    """HEAD and the working tree's changes (ignored files, such as bench/data/, aside)."""
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, check=True,
                              capture_output=True, text=True).stdout.strip()
        status = subprocess.run(["git", "status", "--porcelain"], cwd=root, check=True,
                                capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return Tree(None, ())
    return Tree(head, tuple(line for line in status.splitlines() if line.strip()))


def refusal(measured: Tree, now: Tree) -> str | None:
    """Why a run's figures must not be saved as the project's results, or None."""
    if measured.commit is None:
        return "not a git checkout: the commit measured cannot be recorded"
    if measured.changes:
        return (f"the tree has uncommitted changes ({len(measured.changes)} files, e.g. "
                f"{measured.changes[0].strip()}): commit first")
    if now.commit != measured.commit or now.changes:
        return "the tree changed while the benchmarks ran"
    return None


def machine() -> list[tuple[str, str]]:
    """The date, CPU, cores, versions and commit that the numbers belong to."""
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", cpu),
        ("cores", str(os.cpu_count())),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("aiogram", metadata.version("aiogram")),
        ("commit", tree().describe()),
    ]


def verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _throughput_rows(results: Results) -> list[tuple[str, str, str, str]]:
    t = results.throughput
    if t is None:
        return []
    rounds = len(t.runs) // 2
    desk = [r for r in t.runs if r.kind == "desk"]
    echo = [r for r in t.runs if r.kind == "echo"]
    cpu_desk = sum(r.cpu_ms_per_update for r in desk) / len(desk)
    cpu_echo = sum(r.cpu_ms_per_update for r in echo) / len(echo)
    n = f"{results.citizens:,}"
    return [
        (f"Throughput, Frontdesk ({n} citizens at once)",
         f"{t.median('desk'):,.0f} updates/s (median of {rounds})", "", ""),
        (f"Throughput, bare aiogram echo bot ({n})",
         f"{t.median('echo'):,.0f} updates/s (median of {rounds})", "", ""),
        ("Throughput ratio, Frontdesk / echo", f"{t.ratio:.2f}", "≥ 0.5", verdict(t.ratio >= 0.5)),
        ("Bot CPU per update, Frontdesk / echo",
         f"{cpu_desk:.2f} ms / {cpu_echo:.2f} ms", "", ""),
        ("Fake server's CPU share during the burst, Frontdesk / echo",
         f"{statistics.median(r.fake_busy for r in desk):.0%} / "
         f"{statistics.median(r.fake_busy for r in echo):.0%}", "", ""),
    ]


def _latency_rows(results: Results) -> list[tuple[str, str, str, str]]:
    rows = []
    for lat, target in ((results.latency, True), (results.baseline, False)):
        if lat is None:
            continue
        p95 = lat.percentile(95)
        rows.append((
            f"Ack latency at {lat.rate:.0f} msg/s for {lat.seconds:.0f} s"
            + ("" if target else " (for comparison)"),
            f"p50 {lat.percentile(50):.0f} ms · p95 {p95:.0f} ms · "
            f"p99 {lat.percentile(99):.0f} ms · max {max(lat.samples):.0f} ms",
            "p95 < 100 ms" if target else "", verdict(p95 < 100) if target else "",
        ))
    return rows


def _footprint_rows(results: Results) -> list[tuple[str, str, str, str]]:
    rows = []
    empty = next((f for f in results.footprints if f.label == "empty"), None)
    for f in results.footprints:
        peak = f.peak_rss_kib * KIB / MB
        target, ok = "", ""
        if f is not empty and empty is not None:
            delta = peak - empty.peak_rss_kib * KIB / MB
            target = "within 20 MB of empty"
            ok = verdict(abs(delta) <= 20) if f.complete else "**inconclusive**"
            peak_text = f"{peak:.0f} MB ({delta:+.0f} MB)"
        else:
            peak_text = f"{peak:.0f} MB"
        handled = (f"{f.workload} messages in {f.workload_seconds:.1f} s" if f.complete else
                   f"**only {f.handled} of {f.workload} handled in {f.workload_seconds:.0f} s**")
        rows.append((f"Peak RSS, {f.label} store, after {f.workload} messages",
                     f"{peak_text}; {handled}", target, ok))
    for f in results.footprints:
        runs = ", ".join(f"{s:.2f}" for s in f.startups)
        rows.append((f"Start-up to first getUpdates, {f.label} store",
                     f"{f.startup:.2f} s (median of {runs})", "< 2 s", verdict(f.startup < 2)))
    if results.throughput is not None:
        echo = [r.startup for r in results.throughput.runs if r.kind == "echo"]
        rows.append(("Start-up to first getUpdates, bare aiogram echo bot (the floor)",
                     f"{statistics.median(echo):.2f} s (median of {len(echo)})", "", ""))
    return rows


def _sweep_rows(results: Results) -> list[tuple[str, str, str, str]]:
    rows = []
    for entry in results.sweep:
        tickets = entry.get("tickets", entry.get("size", "?"))
        label = f"Escalation sweep, {tickets:,} tickets" if isinstance(tickets, int) else (
            f"Escalation sweep, {tickets}")
        if "due" in entry:
            label += f", {entry['due']} due"
        shown = {k: v for k, v in entry.items() if k not in ("tickets", "size", "due")}
        value = " · ".join(f"{k} {v}" for k, v in shown.items())
        target, ok = "", ""
        if tickets == 1_000_000 and isinstance(entry.get("sweep_ms"), int | float):
            target, ok = "< 50 ms", verdict(float(entry["sweep_ms"]) < 50)
        rows.append((label, value, target, ok))
    return rows


def _storm_rows(results: Results) -> list[tuple[str, str, str, str]]:
    st = results.storm
    if st is None:
        return []
    return [
        (f"Storm, {st.citizens:,} citizens at once, PACING=on, Telegram's limits enforced",
         f"{st.rejected} × 429 · busiest second {st.busiest_second} sends", "no 429",
         verdict(st.rejected == 0)),
        (f"Storm, last acknowledgement of {st.citizens:,}",
         f"{st.last_ack_s:.1f} s = {st.ratio:.2f}× the {st.allowed_s:.1f} s of 30 a second "
         f"({st.sends_by_then} sends by then, cards included)", "≤ 1.1×",
         verdict(st.ratio <= 1.1)),
        ("Storm, every ticket on a staff card",
         f"{st.all_cards_s:.0f} s, {st.cards} merged cards (20 a minute per group)", "", ""),
    ]


def _incident_storm_rows(results: Results) -> list[tuple[str, str, str, str]]:
    ins = results.incident_storm
    if ins is None:
        return []
    n, everyone = f"{ins.citizens:,}", f"{ins.reporters:,}"
    answer = (f"{ins.answer_s:.1f} s = {ins.ratio:.2f}× the {ins.allowed_s:.1f} s of 30 a second"
              if ins.answer_s is not None else
              f"**only {ins.answered:,} of {everyone} answered**")
    counted = (f"the card counted all {everyone} after {ins.card_counted_s:.0f} s"
               if ins.card_counted_s is not None else
               f"**the card counted {ins.card_count:,} of {everyone}**")
    return [
        (f"Incident storm, {n} alike messages at once on one merged incident, PACING=on, "
         "Telegram's limits enforced: staff-chat messages",
         f"{ins.staff_messages} ({ins.posts} posts + {ins.edits} edits; during the storm "
         f"{ins.storm_posts} + {ins.storm_edits}, during the answer {ins.answer_posts} + "
         f"{ins.answer_edits})", "< 20", verdict(ins.staff_messages < 20)),
        (f"Incident storm, one answer to all {everyone} reporters", answer, "≤ 1.1×",
         verdict(ins.ratio <= 1.1)),
        (f"Incident storm, {n} citizens", f"{ins.rejected} × 429", "no 429",
         verdict(ins.rejected == 0)),
        ("Incident storm, acknowledgements and the card",
         f"last acknowledgement {ins.last_ack_s:.1f} s ({ins.joined:,} of {n} joined the "
         f"incident); {counted}; answer progress on the card "
         f"{'shown' if ins.progress_shown else '**not shown**'}; {ins.failed_edits} failed "
         f"staff-chat edits; {_pending(ins.pending_at_end)} staff-chat rows left unsent",
         "", ""),
    ]


def _pending(rows: int | None) -> str:
    return "?" if rows is None else f"{rows:,}"


def _soak_rows(results: Results) -> list[tuple[str, str, str, str]]:
    so = results.soak
    if so is None or not so.samples:
        return []
    first, last = so.samples[0][1] * KIB / MB, so.samples[-1][1] * KIB / MB
    return [(
        f"Soak, always-new citizens at {so.rate:.0f}/s, RSS over {so.seconds:.0f} s "
        f"after {so.warm_up:.0f} s",
        f"{so.kib_per_thousand:+.0f} KiB per 1,000 citizens over the run, "
        f"{so.second_half_kib_per_thousand:+.0f} over its later half ({so.measured_citizens:,} "
        f"measured; {first:.1f} → {last:.1f} MB; {so.answered:,}/{so.pushed:,} acknowledged)",
        "later half < 100 KiB per 1,000", verdict(so.second_half_kib_per_thousand < 100),
    )]


def _backlog_rows(results: Results) -> list[tuple[str, str, str, str]]:
    if len(results.backlog) < 2:
        return []
    small, large = results.backlog[0], results.backlog[-1]
    return [(
        f"Acknowledgement with {large['pending']:,} staff-chat rows pending, the chat under way",
        f"message → acknowledgement due: p50 {large['ack_p50_ms']} ms, p95 "
        f"{large['ack_p95_ms']} ms (with {small['pending']:,} pending: p50 "
        f"{small['ack_p50_ms']} ms); the sender's query p50 {large['query_p50_ms']} ms",
        f"p50 within 2 ms of {small['pending']:,}",
        verdict(float(large["ack_p50_ms"]) <= float(small["ack_p50_ms"]) + 2),
    )]


def _incident_rows(results: Results) -> list[tuple[str, str, str, str]]:
    inc = results.incidents
    if inc is None:
        return []
    return [(f"Incident detection, a new ticket against {inc['reports']:,} in the window "
             f"({inc['incidents']} incidents)",
             f"mean {inc['mean_ms']:.2f} ms · p95 {inc['p95_ms']:.2f} ms per new ticket; "
             f"{inc['alike_mean']:.0f} alike on average, {inc['top_same']:.0%} of the top 30 "
             f"its own incident's; index {inc['index_mb']:.0f} MB", "p95 < 5 ms",
             verdict(inc["p95_ms"] < 5))]


def _routing_rows(results: Results) -> list[tuple[str, str, str, str]]:
    ro = results.routing
    if ro is None:
        return []
    size = (f"{ro['departments']} departments × {ro['rules'] // ro['departments']} words, "
            f"{ro['messages']:,} messages of {ro['words_mean']:.0f} words")
    return [
        (f"Routing, {size}, cold (lemma cache empty)",
         f"mean {ro['cold_mean_us']:.0f} µs · p95 {ro['cold_p95_us']:.0f} µs per message "
         f"({ro['forms']:,} word forms looked up in the dictionary)", "mean < 1 ms",
         verdict(ro["cold_mean_us"] < 1000)),
        (f"Routing, {size}, warm (every form cached)",
         f"mean {ro['warm_mean_us']:.0f} µs · p95 {ro['warm_p95_us']:.0f} µs per message",
         "mean < 1 ms", verdict(ro["warm_mean_us"] < 1000)),
        ("Routing, once per process: the morphology loaded / the rules file read",
         f"{ro['load_ms']:.0f} ms / {ro['build_ms']:.0f} ms", "", ""),
    ]


def _server_ms(burst: Burst) -> str:
    ms = burst.server_ms_per_update
    return "not read (the server is not on this machine)" if ms is None else f"{ms:.2f} ms"


def _sharing_value(b: Burst) -> str:
    st = b.stored
    stored = "" if st is None else (
        f"{st.tickets:,} tickets of {st.citizens:,} citizens, one ack row each "
        f"{'yes' if st.one_ack_each else '**no**'}, {st.unsettled} rows left over, ")
    return (f"{b.rate:,.0f} updates/s; desks' CPU {b.cpu_ms_per_update:.2f} ms per update "
            f"(all desks{_split_text(b)}), PostgreSQL {_server_ms(b)}; fake server busy "
            f"{b.fake_busy:.0%}; "
            f"{b.answered:,}/{b.updates:,} answered, {stored}{b.distinct_numbers:,} distinct "
            f"numbers, {b.repeated} repeated on the wire; desks' logs: "
            f"{len(b.log_problems)} distinct warnings/errors during the burst, "
            f"{len(b.stop_problems)} more at the stop")


def _split_text(b: Burst) -> str:
    if b.desks < 2:
        return ""
    return "; the one polling " + " / ".join(f"{share:.0%}" for share in b.desk_cpu_split)


def _postgres_rows(results: Results) -> list[tuple[str, str, str, str]]:
    pg = results.postgres
    if pg is None or not pg.shared:
        return []
    n, sq, one = f"{pg.citizens:,}", pg.sqlite, pg.shared[0]
    rows = [(f"PostgreSQL against SQLite, one desk, {n} citizens at once",
             f"{one.rate:,.0f} vs {sq.rate:,.0f} updates/s ({one.rate / sq.rate:.2f}×); desk "
             f"CPU {one.cpu_ms_per_update:.2f} vs {sq.cpu_ms_per_update:.2f} ms per update; "
             f"PostgreSQL server CPU {_server_ms(one)} per update", "", "")]
    rows += [(f"PostgreSQL, {b.desks} desk{'s' if b.desks > 1 else ''} sharing one store, "
              f"{n} citizens at once", _sharing_value(b), "no loss, no duplicate ticket",
              verdict(b.sound)) for b in pg.shared]
    if pg.takeovers:
        k = len(pg.takeovers)
        took, ack = pg.takeover("took_s"), pg.takeover("ack_s")
        rows += [
            (f"PostgreSQL, SIGKILL of the polling desk of 2 ({k} times): kill → the other "
             "desk polls", f"median {took[0]:.2f} s · max {took[1]:.2f} s", "", ""),
            (f"PostgreSQL, SIGKILL of the polling desk of 2 ({k} times): kill → a citizen's "
             "acknowledgement (written just after the kill)",
             f"median {ack[0]:.2f} s · max {ack[1]:.2f} s", f"< {TAKEOVER_TARGET:.0f} s",
             verdict(ack[1] < TAKEOVER_TARGET)),
        ]
    return rows


def _postgres_lines(results: Results) -> list[str]:
    if results.postgres is None:
        return []
    return ["PostgreSQL (`--only postgres`): the server at TEST_POSTGRES_URL, a fresh schema "
            "per run, dropped after. Each desk is a `python -m bot` process on it; one polls "
            "(the advisory lock poll:telegram), one handles the inbox (the role inbox), "
            "every desk sends; the CPU split shows how the work spread. A burst's time "
            "runs from the first push to the last acknowledgement or card reaching the fake; "
            "CPU is that of the desks' processes over the same span, the server's that of "
            "the sessions named after the schema plus the WAL writer, checkpointer and "
            "background writer (from /proc). After each burst the schema is read back and "
            "the cards on the wire counted: a ticket and one acknowledgement row per "
            "citizen, distinct numbers. The fake and the server share the machine's cores "
            "with the desks, so more desks need not mean more updates a second here. The "
            "takeover: of two idle desks the one polling is SIGKILLed, a citizen writes at "
            "once, at a random moment of the other desk's looks (every 2 s) at whether it may "
            "poll.", ""]


def render(results: Results) -> str:
    """The markdown table, then the machine and the notes."""
    rows = (_throughput_rows(results) + _latency_rows(results) + _footprint_rows(results)
            + _sweep_rows(results) + _storm_rows(results) + _incident_storm_rows(results)
            + _soak_rows(results)
            + _backlog_rows(results) + _routing_rows(results)
            + _incident_rows(results) + _postgres_rows(results))
    lines = ["# Frontdesk benchmarks", "", "| Benchmark | Result | Target | |",
             "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines += ["", "Machine: " + "; ".join(f"{k} {v}" for k, v in machine())
              + f"; load average {results.load_before} before, {results.load_after} after.", ""]
    lines += ["Everything ran against the local fake Bot API server on 127.0.0.1 (the bench "
              "process); each bot ran as its own process, Frontdesk as `python -m bot` with "
              "PACING=off (the storms: PACING=on against Telegram's limits) and a fresh "
              "SQLite file per run.", ""]
    lines += _postgres_lines(results)
    lines += [f"- {note}" for note in results.notes]
    return "\n".join(lines).rstrip() + "\n"
