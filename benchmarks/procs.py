"""Running commands and measuring them: wall time, CPU seconds and peak RSS per process.

A command's whole process tree is polled (psutil, every 50 ms), so the processes Meltano
spawns (tap, target, dbt) are measured one by one. ``wait4`` gives exact figures for the
direct child, but they include every descendant it waited for (CPU summed, RSS the largest
of them): when the child had descendants, its own CPU is the total minus theirs and its
peak RSS is the polled one.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import psutil

POLL_SECONDS = 0.05


@dataclass
class ProcStats:
    kind: str
    started: float  # time.time() of process creation
    last_seen: float
    peak_rss: int = 0
    cpu: float = 0.0

    @property
    def seconds(self) -> float:
        return max(0.0, self.last_seen - self.started)


def kind_of(cmdline: Sequence[str]) -> str:
    """runner / tap / target / dbt / meltano / python / ..., from the executable's name."""
    names = [Path(arg).name for arg in cmdline[:3]]
    for name in names:
        if name == "tap-tiktok-ads-sync":
            return "runner"
        if name.startswith("tap-tiktok-ads"):
            return "tap"
        if name == "target-postgres":
            return "target"
        if name in ("dbt", "dbt_invoker"):
            return "dbt"
        if name == "meltano":
            return "meltano"
    return names[0] if names else "?"


@dataclass
class Summary:
    """Per kind of process: summed CPU, max peak RSS, first start to last sighting."""

    cpu: float = 0.0
    peak_rss: int = 0
    started: float = 0.0
    ended: float = 0.0

    @property
    def seconds(self) -> float:
        return max(0.0, self.ended - self.started)


@dataclass
class RunResult:
    command: list[str]
    returncode: int
    wall: float
    cpu: float  # the whole tree (wait4: the child and every descendant it waited for)
    peak_rss: int  # the largest process of the tree (wait4)
    processes: dict[int, ProcStats] = field(default_factory=dict)
    started_at: float = 0.0  # time.time() at start
    timed_out: bool = False

    def by_kind(self) -> dict[str, Summary]:
        result: dict[str, Summary] = {}
        for stats in self.processes.values():
            summary = result.setdefault(stats.kind, Summary(started=stats.started))
            summary.cpu += stats.cpu
            summary.peak_rss = max(summary.peak_rss, stats.peak_rss)
            summary.started = min(summary.started, stats.started)
            summary.ended = max(summary.ended, stats.last_seen)
        return result


class TreeWatcher(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.processes: dict[int, ProcStats] = {}
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.poll()
            self._stop_event.wait(POLL_SECONDS)

    def poll(self) -> None:
        try:
            tree = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        now = time.time()
        for proc in tree:
            try:
                with proc.oneshot():
                    stats = self.processes.get(proc.pid)
                    if stats is None:
                        stats = ProcStats(kind_of(proc.cmdline()), proc.create_time(), now)
                        self.processes[proc.pid] = stats
                    times = proc.cpu_times()
                    stats.cpu = times.user + times.system
                    stats.peak_rss = max(stats.peak_rss, proc.memory_info().rss)
                    stats.last_seen = now
            except psutil.Error:
                continue

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


def run(
    command: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    stdout: int | IO[bytes] | None = None,
    stderr: int | IO[bytes] | None = None,
    consume: Callable[[IO[bytes]], None] | None = None,
    timeout: float | None = None,
    on_timeout: Callable[[], None] | None = None,
) -> RunResult:
    """Run ``command`` to completion, watching its process tree.

    With ``consume``, stdout is a pipe handed to ``consume`` (which must read it to EOF).
    With ``timeout`` (not with ``consume``), the whole tree is killed after that many seconds
    (``on_timeout`` runs first, e.g. to note what was still running).
    """
    started_at = time.time()
    started = time.perf_counter()
    process = subprocess.Popen(
        list(command),
        env=dict(env) if env is not None else None,
        cwd=cwd,
        stdout=subprocess.PIPE if consume else stdout,
        stderr=stderr,
    )
    watcher = TreeWatcher(process.pid)
    watcher.start()
    try:
        if consume is not None:
            assert process.stdout is not None
            consume(process.stdout)
            process.stdout.close()
        timed_out = False
        if timeout is not None and consume is None:
            while True:
                pid, status, usage = os.wait4(process.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() - started > timeout:
                    timed_out = True
                    if on_timeout is not None:
                        on_timeout()
                    kill_tree(process.pid)
                    _, status, usage = os.wait4(process.pid, 0)
                    break
                time.sleep(0.2)
        else:
            _, status, usage = os.wait4(process.pid, 0)
    except BaseException:
        process.kill()
        process.wait()
        watcher.stop()
        raise
    wall = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    watcher.stop()
    root = watcher.processes.get(process.pid)
    tree_cpu = usage.ru_utime + usage.ru_stime
    if root is not None:
        descendants = [p for pid, p in watcher.processes.items() if pid != process.pid]
        if descendants:
            root.cpu = max(root.cpu, tree_cpu - sum(p.cpu for p in descendants))
        else:  # exact figures for a child that started nothing
            root.cpu = tree_cpu
            root.peak_rss = max(root.peak_rss, usage.ru_maxrss * 1024)
    return RunResult(
        command=list(command),
        returncode=process.returncode,
        wall=wall,
        cpu=tree_cpu,
        peak_rss=usage.ru_maxrss * 1024,
        processes=watcher.processes,
        started_at=started_at,
        timed_out=timed_out,
    )


def kill_tree(pid: int) -> None:
    """Kill a process and everything it started (children first)."""
    try:
        root = psutil.Process(pid)
        tree = [*root.children(recursive=True), root]
    except psutil.Error:
        return
    for proc in tree:
        try:
            proc.kill()
        except psutil.Error:
            continue
