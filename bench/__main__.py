"""`make bench`: every benchmark against the local fakes, a table printed and saved.

Progress goes to stderr; the table to stdout and, for a full run, to bench/results.md, which
records the commit measured: from a tree with uncommitted changes the run is refused before it
starts (`--quick`, or `--output -`, prints without writing).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from pathlib import Path

from bench.backlog import bench_backlog
from bench.bigstore import cached_store
from bench.export import bench_export
from bench.footprint import measure_store
from bench.incident_storm import bench_incident_storm
from bench.incidents import bench_incidents
from bench.latency import bench_latency
from bench.metrics import bench_metrics
from bench.postgres import bench_postgres
from bench.report import Results, load_average, refusal, render, tree
from bench.routing import bench_routing
from bench.soak import bench_soak
from bench.storm import bench_storm
from bench.throughput import bench_throughput
from bench.world import BenchError

log = logging.getLogger("bench")

RESULTS = Path(__file__).resolve().parent / "results.md"
BENCHES = (
    "throughput", "latency", "memory", "sweep", "storm", "soak", "backlog", "routing",
    "incidents", "incident_storm", "postgres", "metrics", "export",
)
BIG = 1_000_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--citizens", type=int, default=2000, help="throughput burst size")
    parser.add_argument("--repeats", type=int, default=3, help="throughput rounds (echo, desk)")
    parser.add_argument("--rate", type=float, default=200, help="latency: messages a second")
    parser.add_argument("--latency-seconds", type=float, default=30, help="latency: duration")
    parser.add_argument("--baseline-rate", type=float, default=50,
                        help="latency again at this low rate, 10 s, for comparison (0: off)")
    parser.add_argument("--workload", type=int, default=200, help="memory: messages handled")
    parser.add_argument("--starts", type=int, default=3, help="start-up: starts per store")
    parser.add_argument("--storm-citizens", type=int, default=300,
                        help="storm: citizens at once, PACING=on, Telegram's limits enforced")
    parser.add_argument("--soak-rate", type=float, default=40,
                        help="soak: new citizens a second")
    parser.add_argument("--soak-warm-up", type=float, default=120,
                        help="soak: seconds before RSS is sampled (past every idle expiry)")
    parser.add_argument("--soak-seconds", type=float, default=180,
                        help="soak: seconds of RSS samples")
    parser.add_argument("--routing-messages", type=int, default=3000,
                        help="routing: messages routed to 20 departments of 50 words")
    parser.add_argument("--incident-reports", type=int, default=10_000,
                        help="incidents: tickets in the window a new ticket is compared with")
    parser.add_argument("--incident-storm-citizens", type=int, default=1000,
                        help="incident storm: alike messages at once on one merged incident, "
                        "PACING=on, Telegram's limits enforced")
    parser.add_argument("--postgres-citizens", type=int, default=2000,
                        help="postgres: burst size on SQLite and on 1, 2, 3 desks sharing "
                        "PostgreSQL (TEST_POSTGRES_URL)")
    parser.add_argument("--takeovers", type=int, default=3,
                        help="postgres: times the polling desk of two is SIGKILLed")
    parser.add_argument("--metrics-tickets", type=int, default=BIG,
                        help="metrics: tickets in the store a /metrics scrape is timed on")
    parser.add_argument("--export-tickets", type=int, default=BIG,
                        help="export: tickets of a month exported beside a running desk")
    parser.add_argument("--only", default=",".join(BENCHES),
                        help=f"comma-separated subset of {', '.join(BENCHES)}")
    parser.add_argument("--quick", action="store_true",
                        help="a smoke run: small burst, 5 s latency, no 1M store, no file")
    parser.add_argument("--output", type=Path, default=None,
                        help=f"where to write the table (default {RESULTS.name}, none if "
                        "quick); '-' or 'none': nowhere")
    args = parser.parse_args(argv)
    if args.quick:
        args.citizens, args.repeats = min(args.citizens, 300), 1
        args.latency_seconds, args.workload, args.starts = min(args.latency_seconds, 5), 50, 1
        args.baseline_rate = 0
        args.storm_citizens = min(args.storm_citizens, 100)
        args.soak_warm_up = min(args.soak_warm_up, 10)
        args.soak_seconds = min(args.soak_seconds, 20)
        args.routing_messages = min(args.routing_messages, 1000)
        args.incident_reports = min(args.incident_reports, 2000)
        args.incident_storm_citizens = min(args.incident_storm_citizens, 100)
        args.postgres_citizens = min(args.postgres_citizens, 300)
        args.takeovers = min(args.takeovers, 1)
        args.metrics_tickets = min(args.metrics_tickets, 10_000)
        args.export_tickets = min(args.export_tickets, 10_000)
    unknown = set(args.only.split(",")) - set(BENCHES)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    return args


async def run_sweep(quick: bool, results: Results) -> None:
    """Issue 4's sweep benchmark, if bench/sweep.py is there."""
    try:
        from bench.sweep import bench_sweep  # noqa: PLC0415 - issue 4's module, may be absent
    except ModuleNotFoundError as exc:
        if exc.name != "bench.sweep":
            raise
        results.notes.append("Sweep skipped: bench/sweep.py is not there yet.")
        return
    sizes = (10_000,) if quick else (10_000, 100_000, BIG)
    log.info("sweep over %s tickets", ", ".join(f"{s:,}" for s in sizes))
    results.sweep = await bench_sweep(sizes=sizes)


async def run_memory(args: argparse.Namespace, workdir: Path, results: Results) -> None:
    """Empty store, then (unless quick) the cached million-ticket store."""
    results.footprints.append(await measure_store(
        "empty", None, workdir, workload=args.workload, starts=args.starts))
    if args.quick:
        results.notes.append("Quick run: the 1M-ticket store was skipped.")
        return
    log.info("the 1M-ticket store (built once, then cached under bench/data/)")
    big = await cached_store(BIG)
    results.footprints.append(await measure_store(
        "1M-ticket", big, workdir, workload=args.workload, starts=args.starts))


async def run(args: argparse.Namespace) -> Results:
    """Each chosen benchmark in turn; one that fails leaves a note, the rest still run."""
    chosen = args.only.split(",")
    results = Results(citizens=args.citizens, load_before=load_average())
    with tempfile.TemporaryDirectory(prefix="frontdesk-bench-") as tmp:
        workdir = Path(tmp)
        steps = {
            "throughput": lambda: _throughput(args, workdir, results),
            "latency": lambda: _latency(args, workdir, results),
            "memory": lambda: run_memory(args, workdir, results),
            "sweep": lambda: run_sweep(args.quick, results),
            "storm": lambda: _storm(args, workdir, results),
            "soak": lambda: _soak(args, workdir, results),
            "backlog": lambda: _backlog(args, results),
            "routing": lambda: _routing(args, results),
            "incidents": lambda: _incidents(args, results),
            "incident_storm": lambda: _incident_storm(args, workdir, results),
            "postgres": lambda: _postgres(args, workdir, results),
            "metrics": lambda: _metrics(args, workdir, results),
            "export": lambda: _export(args, workdir, results),
        }
        for name in BENCHES:
            if name not in chosen:
                continue
            started = time.monotonic()
            log.info("== %s", name)
            try:
                await steps[name]()
            except BenchError as exc:
                log.error("%s failed: %s", name, exc)
                results.notes.append(f"{name} failed: {str(exc).splitlines()[0]}")
            log.info("== %s done in %.0f s", name, time.monotonic() - started)
    results.load_after = load_average()
    return results


async def _throughput(args: argparse.Namespace, workdir: Path, results: Results) -> None:
    results.throughput = await bench_throughput(args.citizens, args.repeats, workdir)


async def _latency(args: argparse.Namespace, workdir: Path, results: Results) -> None:
    results.latency = await bench_latency(args.rate, args.latency_seconds, workdir)
    if args.baseline_rate > 0:
        seconds = min(10.0, args.latency_seconds)
        results.baseline = await bench_latency(args.baseline_rate, seconds, workdir)


async def _storm(args: argparse.Namespace, workdir: Path, results: Results) -> None:
    results.storm = await bench_storm(args.storm_citizens, workdir)


async def _soak(args: argparse.Namespace, workdir: Path, results: Results) -> None:
    results.soak = await bench_soak(
        args.soak_rate, args.soak_warm_up, args.soak_seconds, workdir
    )


async def _backlog(args: argparse.Namespace, results: Results) -> None:
    sizes = (1_000, 10_000) if args.quick else (1_000, 100_000)
    results.backlog = [await bench_backlog(size) for size in sizes]


async def _routing(args: argparse.Namespace, results: Results) -> None:
    results.routing = bench_routing(args.routing_messages)  # CPU only: nothing to await


async def _incidents(args: argparse.Namespace, results: Results) -> None:
    results.incidents = bench_incidents(args.incident_reports)  # CPU only: nothing to await


async def _incident_storm(args: argparse.Namespace, workdir: Path, results: Results) -> None:
    results.incident_storm = await bench_incident_storm(args.incident_storm_citizens, workdir)


async def _postgres(args: argparse.Namespace, workdir: Path, results: Results) -> None:
    results.postgres = await bench_postgres(args.postgres_citizens, workdir, args.takeovers)


async def _metrics(args: argparse.Namespace, workdir: Path, results: Results) -> None:
    results.notes += await bench_metrics(
        args.metrics_tickets, args.citizens, args.repeats, workdir
    )


async def _export(args: argparse.Namespace, workdir: Path, results: Results) -> None:
    results.notes += (await bench_export(args.export_tickets, workdir)).notes()


def target(args: argparse.Namespace) -> Path | None:
    """Where the table goes: bench/results.md for a full run, nowhere for a quick one."""
    output: Path | None = args.output or (None if args.quick else RESULTS)
    return None if output is None or str(output) in ("-", "none") else output


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("handlers").setLevel(logging.WARNING)  # the sweep's per-ticket lines
    output = target(args)
    measured = tree()
    if output == RESULTS and (why := refusal(measured, measured)):
        print(f"bench: not writing {RESULTS.name}: {why}; --quick or --output - only print",
              file=sys.stderr)
        return 2
    started = time.monotonic()
    results = asyncio.run(run(args))
    if args.quick:
        results.notes.append("Quick run (--quick): small numbers, not for comparison.")
    table = render(results)
    print(table)
    if output == RESULTS and (why := refusal(measured, tree())):
        print(f"bench: not writing {RESULTS.name}: {why}", file=sys.stderr)
        return 2
    if output is not None:
        output.write_text(table, encoding="utf-8")
        log.info("written to %s", output)
    log.info("all done in %.0f s", time.monotonic() - started)
    failed = any(note.split(" ", 2)[1] == "failed:" for note in results.notes)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
