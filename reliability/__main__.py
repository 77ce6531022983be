"""`python -m reliability [--quick] [--trials N] [--only NAME ...] [--json] [--seed S]`

Runs every scenario (see reliability/__init__.py) and prints a summary: trials run, failures,
and what each scenario checked. Exits 1 if any trial failed.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from reliability import run_scenario
from reliability.scenarios import all_scenarios


def main(argv: list[str] | None = None) -> int:
    scenarios = all_scenarios()
    names = [s.name for s in scenarios]
    ap = argparse.ArgumentParser(prog="python -m reliability", description=__doc__)
    ap.add_argument("--quick", action="store_true", help="the reduced form CI runs (few trials per scenario)")
    ap.add_argument("--trials", type=int, help="trials per scenario (default: each scenario's full or quick count)")
    ap.add_argument("--only", action="append", choices=names, help="run only this scenario (repeatable)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: time-based, printed)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    ap.add_argument("--keep", action="store_true", help="keep the work folder (project files, logs)")
    a = ap.parse_args(argv)
    seed = a.seed if a.seed is not None else int(time.time())
    work = Path(tempfile.mkdtemp(prefix="winnow-reliability-"))
    results = []
    try:
        for k, sc in enumerate(s for s in scenarios if not a.only or s.name in a.only):
            trials = a.trials or (sc.quick if a.quick else sc.full)
            print(f"… {sc.name}: {trials} trials", file=sys.stderr, flush=True)
            out = run_scenario(sc, work / sc.name, trials=trials, seed=seed + k)
            results.append(out)
            state = "skipped" if out.skipped else ("ok" if out.ok else f"{len(out.failures)} FAILED")
            print(f"  {state} in {out.seconds:.1f} s", file=sys.stderr, flush=True)
    finally:
        if a.keep:
            print(f"work folder kept: {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
    failed = sum(len(r.failures) for r in results)
    if a.json:
        print(
            json.dumps(
                {
                    "date": time.strftime("%Y-%m-%d"),
                    "machine": machine(),
                    "seed": seed,
                    "failures": failed,
                    "scenarios": [r.as_dict() for r in results],
                },
                indent=2,
                ensure_ascii=False,
            )
        )
    else:
        print(summary(results, seed))
    return 1 if failed else 0


def machine() -> str:
    import os

    return f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def summary(results, seed: int) -> str:
    lines = [
        f"winnow reliability suite — {time.strftime('%Y-%m-%d')}, {machine()}, seed {seed}",
        "",
        f"{'scenario':<14} {'trials':>6} {'failures':>8} {'time':>7}  checked",
    ]
    for r in results:
        fails = "skipped" if r.skipped else str(len(r.failures))
        wrapped = textwrap.wrap(r.checked, 70) or [""]
        lines.append(f"{r.scenario:<14} {r.trials:>6} {fails:>8} {r.seconds:>6.0f}s  {wrapped[0]}")
        lines += [" " * 40 + w for w in wrapped[1:]]
        if r.skipped:
            lines.append(" " * 40 + f"skipped: {r.skipped}")
        lines += [" " * 40 + n for n in r.notes]
    lines.append("")
    total = sum(r.trials for r in results)
    failed = [f"{r.scenario}: {f}" for r in results for f in r.failures]
    lines.append(f"{total} trials, {len(failed)} failures")
    for f in failed[:30]:
        lines.append("  ✘ " + f.replace("\n", "\n    "))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
