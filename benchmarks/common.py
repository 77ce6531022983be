"""Shared benchmark plumbing: run each case in a fresh process, report wall time and peak RSS."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import platform
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "datasets"


def shared_file(name: str) -> Path | None:
    p = SHARED / name
    return p if p.exists() else None


@dataclass
class Figure:
    name: str
    seconds: float
    peak_rss_mb: float
    extra: dict

    def row(self) -> str:
        extra = ", ".join(f"{k}={v}" for k, v in self.extra.items())
        return f"| {self.name} | {self.seconds:.3f} s | {self.peak_rss_mb:.0f} MB | {extra} |"


def _child(fn: Callable, args: tuple, q) -> None:
    t = time.perf_counter()
    extra = fn(*args) or {}
    q.put((time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, extra))


def measure(name: str, fn: Callable, *args, repeat: int = 1, setup: Callable | None = None) -> Figure:
    """Run fn(*args) in a fresh process (so peak RSS is its own); fn returns a dict of extra figures.

    With repeat > 1 the best wall time is reported (the machine is shared; the minimum is the
    least disturbed run) and the number of runs is shown. setup() runs before each repeat.
    """
    ctx = mp.get_context("spawn")
    runs = []
    for _ in range(repeat):
        if setup:
            setup()
        q = ctx.Queue()
        p = ctx.Process(target=_child, args=(fn, args, q))
        p.start()
        runs.append(q.get())
        p.join()
    seconds = min(r[0] for r in runs)
    rss = max(r[1] for r in runs)
    extra = dict(runs[-1][2])
    if repeat > 1:
        extra["runs"] = f"best of {repeat}"
    return Figure(name, seconds, rss, extra)


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores · {cpu} · Python {platform.python_version()} · {platform.system()}"


def print_table(title: str, figures: list[Figure], notes: list[str], as_json: bool) -> None:
    if as_json:
        json.dump(
            {
                "title": title,
                "machine": machine(),
                "date": time.strftime("%Y-%m-%d"),
                "figures": [asdict(f) for f in figures],
                "notes": notes,
            },
            sys.stdout,
            indent=2,
        )
        print()
        return
    print(f"\n## {title}\n\n{time.strftime('%Y-%m-%d')} · {machine()}\n")
    print("| case | wall | peak RSS | figures |\n|---|---|---|---|")
    for f in figures:
        print(f.row())
    for n in notes:
        print(f"\n{n}")
