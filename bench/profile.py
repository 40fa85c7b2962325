"""Where the desk's time goes: a throughput burst with py-spy attached to `python -m bot`.

`python -m bench.profile [--citizens N] [--out stacks.txt]`. py-spy is a profiling tool, not a
dependency of the project: `.venv/bin/pip install py-spy` first. Samples every thread (the
SQLite thread of aiosqlite too), idle ones left out; prints self and inclusive time.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from bench.world import (
    FIRST_CITIZEN,
    fake_telegram,
    push_citizens,
    spawn_desk,
    until,
    wait_ready,
)

OURS = ("bot/", "handlers/", "storage/", "scheduler/")
TICKS = os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds per thread of a process (name and id), from /proc."""
    seconds: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text()
        name = stat[stat.index("(") + 1: stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        seconds[f"{name} ({task.name})"] = (int(fields[11]) + int(fields[12])) / TICKS
    return seconds


async def record(
    citizens: int, out: Path, workdir: Path, *, mode: str = "gil"
) -> dict[str, float]:
    """One desk burst, sampled by py-spy from the first push to the last message.

    Returns the CPU seconds each thread used during the burst.
    """
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(spy).exists():
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    async with fake_telegram() as tg:
        proc = await spawn_desk(tg, workdir / "profile.sqlite3", workdir)
        try:
            await wait_ready(tg, proc)
            flags = {"gil": ["--gil"], "native": ["--native"], "all": []}[mode]
            sampler = await asyncio.create_subprocess_exec(
                spy, "record", "--pid", str(proc.pid), "--threads", "--rate", "250",
                "--format", "raw", "--output", str(out), *flags,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
            )
            await asyncio.sleep(1.0)  # py-spy attaches
            before = thread_cpu(proc.pid)
            started = time.monotonic()
            push_citizens(tg, FIRST_CITIZEN, citizens)
            await until(lambda: len(tg.sent()) >= 2 * citizens, 600, "every message", proc)
            print(f"{citizens} citizens in {time.monotonic() - started:.2f} s", file=sys.stderr)
            after = thread_cpu(proc.pid)
            sampler.send_signal(signal.SIGINT)
            await sampler.wait()
        finally:
            await proc.stop()
    return {name: after[name] - before.get(name, 0.0) for name in after}


def frame_name(frame: str) -> str:
    """`receive (handlers/desk.py:87)` → `handlers/desk.py:receive`, line dropped."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    for marker in ("site-packages/", "lib/python3.11/", "/work/main/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{path}:{name}"


def summarize(stacks: Path, top: int = 25) -> str:
    """Self time per function, and inclusive time of our own functions and key libraries."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    threads: collections.Counter[str] = collections.Counter()
    total = 0
    for line in stacks.read_text().splitlines():
        trace, _, count_text = line.rpartition(" ")
        if not trace:
            continue
        count = int(count_text)
        frames = trace.split(";")
        threads[frames[0]] += count
        names = [frame_name(f) for f in frames[1:]]
        total += count
        if names:
            own[names[-1]] += count
        for name in set(names):
            inclusive[name] += count
    lines = [f"{total} samples while busy", "", "by thread:"]
    lines += [f"  {100 * n / total:5.1f}%  {t}" for t, n in threads.most_common()]
    lines += ["", "self time:"]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in own.most_common(top)]
    lines += ["", "inclusive time, our code:"]
    ours = [(f, n) for f, n in inclusive.most_common() if f.startswith(OURS)]
    lines += [f"  {100 * n / total:5.1f}%  {f}" for f, n in ours[:top]]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=None, help="keep the raw stacks here")
    parser.add_argument(
        "--mode", choices=("gil", "native", "all"), default="gil",
        help="gil: Python holding the GIL (default); native: with C frames; all: every sample",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="frontdesk-profile-") as tmp:
        out = args.out or Path(tmp) / "stacks.txt"
        cpu = asyncio.run(record(args.citizens, out, Path(tmp), mode=args.mode))
        print("CPU seconds per thread during the burst:")
        for name, seconds in sorted(cpu.items(), key=lambda kv: -kv[1]):
            print(f"  {seconds:6.2f}  {name}")
        print()
        print(summarize(out))


if __name__ == "__main__":
    main()
