"""Bot processes under measurement: spawned with settings for the fake, watched via /proc."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_TICKS = os.sysconf("SC_CLK_TCK")


def base_env(**settings: str) -> dict[str, str]:
    """A clean environment: nothing of the caller's own settings or tokens leaks in."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(ROOT),
    }
    env.update(settings)
    return env


class BotProcess:
    """One child process, its output in a log file, stopped with SIGTERM like in production."""

    def __init__(self, proc: asyncio.subprocess.Process, log: Path, spawned_at: float) -> None:
        self.proc = proc
        self.log = log
        self.spawned_at = spawned_at

    @classmethod
    async def spawn(cls, args: list[str], env: dict[str, str], workdir: Path) -> BotProcess:
        """Start `python <args>` in `workdir`; `spawned_at` is taken just before the spawn."""
        log = workdir / f"{args[-1].replace('.', '-')}-{time.monotonic_ns()}.log"
        with log.open("wb") as out:
            spawned_at = time.monotonic()
            proc = await asyncio.create_subprocess_exec(
                sys.executable, *args, env=env, cwd=workdir,
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=out,
            )
        return cls(proc, log, spawned_at)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def status_kib(self, field: str) -> int:
        """A memory figure from /proc/<pid>/status, in KiB (VmHWM: peak RSS, VmRSS: now)."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        raise LookupError(field)

    def cpu_seconds(self) -> float:
        """User plus system CPU time the process has used so far, all its threads."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def failed(self) -> bool:
        return self.proc.returncode is not None

    def log_tail(self, lines: int = 20) -> str:
        text = self.log.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])

    async def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, wait for a clean exit, SIGKILL after `timeout`; the exit code."""
        if self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), timeout)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        return self.proc.returncode if self.proc.returncode is not None else -1
