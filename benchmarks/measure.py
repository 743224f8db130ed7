"""Run one command and measure it: wall time, exit status and peak memory of its process tree.

`measure(cmd, cwd)` starts the command, samples the summed PSS of the process and all its
descendants from /proc (so a multi-process build is charged for every worker, shared pages
counted once), and reaps it with os.wait4, whose rusage gives the largest single process's peak
RSS. Linux-only. Never kills anything it did not start.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

SAMPLE_SECONDS = 0.05
# Reading a process's smaps_rollup walks its page tables under its memory-map lock: 48-60 ms
# for each 800 MB process of a 100,000-article build, so sampling every 50 ms kept a core busy
# in the kernel and held up the build's own page faults, far more at 100k than at 10k. The
# sampler therefore waits at least this many times as long as its last sample took.
SAMPLE_DUTY_INVERSE = 20


@dataclass(frozen=True, slots=True)
class Measurement:
    seconds: float
    returncode: int
    max_rss_mb: float  # largest single process (wait4 rusage; includes reaped descendants)
    tree_pss_mb: float  # peak of the sampled sum over the whole process tree
    cpu_seconds: float  # user + system time of the process and every descendant it reaped
    output_tail: str  # last lines of stdout+stderr, for failures

    @property
    def peak_mb(self) -> float:
        return max(self.max_rss_mb, self.tree_pss_mb)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as handle:
                found += [int(child) for child in handle.read().split()]
        except OSError:
            continue
    return found


def _pss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def tree_pss_kb(root: int) -> int:
    total, pending, seen = 0, [root], set()
    while pending:
        pid = pending.pop()
        if pid in seen:
            continue
        seen.add(pid)
        total += _pss_kb(pid)
        pending += _children(pid)
    return total


class _Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak_kb = pid, 0
        self.done = threading.Event()

    def run(self) -> None:
        wait = SAMPLE_SECONDS
        while not self.done.wait(wait):
            started = time.perf_counter()
            self.peak_kb = max(self.peak_kb, tree_pss_kb(self.pid))
            wait = max(SAMPLE_SECONDS, SAMPLE_DUTY_INVERSE * (time.perf_counter() - started))


def measure(cmd: Sequence[str], cwd: Path, env: dict[str, str] | None = None) -> Measurement:
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                   stdout=log, stderr=subprocess.STDOUT)
        sampler = _Sampler(process.pid)
        sampler.start()
        # wait4 rather than Popen.wait: it hands back this child's own rusage.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)  # already reaped: tell Popen
        sampler.done.set()
        sampler.join()
        log.seek(0)
        tail = log.read()[-2000:].decode("utf-8", "replace")
    return Measurement(
        seconds=seconds,
        returncode=process.returncode,
        max_rss_mb=usage.ru_maxrss / 1024,  # Linux reports kilobytes
        tree_pss_mb=sampler.peak_kb / 1024,
        cpu_seconds=usage.ru_utime + usage.ru_stime,
        output_tail=tail,
    )


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat", encoding="ascii") as handle:
        values = [int(v) for v in handle.readline().split()[1:9]]
    return values[3] + values[4], sum(values)  # (idle + iowait, total)


def cpu_busy(window: float = 0.5) -> float:
    """Fraction of all cores busy during `window` seconds: other people's work, when called
    between our own runs."""
    idle_a, total_a = _cpu_times()
    time.sleep(window)
    idle_b, total_b = _cpu_times()
    return 1 - (idle_b - idle_a) / max(1, total_b - total_a)


def wait_for_idle(max_wait: float, threshold: float = 0.25) -> float:
    """Wait (at most `max_wait` s) until the machine is mostly idle; return the last busy
    fraction seen, which the report records next to the run it preceded."""
    deadline = time.monotonic() + max_wait
    busy = cpu_busy()
    while busy > threshold and time.monotonic() < deadline:
        busy = cpu_busy(1.0)
    return busy
