"""Run every benchmark: `python -m benchmarks [--quick] [--json] [--only SUITE ...]` (`make bench`).

Each figure is printed beside a baseline measured in the same run. Real data from
../shared/datasets is used when present; otherwise synthetic data of the same shape (said so).
Each suite prints its own table as it finishes; the end is one summary table of every figure
(with --json: one JSON document instead, the suites' tables going to stderr).

Suites: import (Alpaca 52k vs raw sqlite3), tui (1M-sample project: first paint, keypresses),
dedup (brute force vs winnow, full semantic vs bare encode, re-run, lexical, recall), speed
(`winnow analyze` of 5 samples; e5 semantic analysis vs bare e5 encode of 2,000 real texts), style
(fingerprints and drift of 52k), alternatives (VisiData and dtflow on the same files), quality
(precision and recall of every detector x language on the labelled real datasets of ../shared),
report (`winnow report --json` of 1.3M style flags vs bare sqlite3).
The full run takes about an hour on 2 cores (dedup alone about 45 minutes); --quick about 10.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import sys
import time
from dataclasses import asdict

from benchmarks.common import Figure, machine

SUITES = {
    "import": "bench_import",
    "tui": "bench_tui",
    "dedup": "bench_dedup",
    "speed": "bench_analysis_speed",
    "style": "bench_style",
    "alternatives": "bench_alternatives",
    "quality": "bench_quality",
    "decide": "bench_decide",
    "report": "bench_report",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="one machine-readable JSON document on stdout")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--only", choices=list(SUITES), action="append", help="run only this suite (repeatable)")
    a = ap.parse_args()
    started = time.perf_counter()
    results: dict[str, list[Figure]] = {}
    missing: dict[str, str] = {}
    for suite in a.only or list(SUITES):
        try:
            mod = importlib.import_module(f"benchmarks.{SUITES[suite]}")
        except ModuleNotFoundError as e:
            missing[suite] = f"not available ({e})"
            continue
        print(f"\n### {suite}", file=sys.stderr, flush=True)
        out = sys.stderr if a.json else sys.stdout
        with contextlib.redirect_stdout(out):
            try:
                results[suite] = mod.run(as_json=False, quick=a.quick)
            except SystemExit as e:  # a suite that cannot run here says why and the rest go on
                missing[suite] = str(e)
    total = time.perf_counter() - started
    if a.json:
        doc = {
            "date": time.strftime("%Y-%m-%d"),
            "machine": machine(),
            "quick": a.quick,
            "seconds": round(total),
            "suites": {k: [asdict(f) for f in v] for k, v in results.items()},
            "not_run": missing,
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    print(f"\n## Summary — {time.strftime('%Y-%m-%d')} · {machine()} · {total / 60:.0f} min\n")
    print("| suite | case | time | peak RSS | figures |\n|---|---|---|---|---|")
    for suite, figs in results.items():
        for f in figs:
            print(f"| {suite} {f.row()}")
    for suite, why in missing.items():
        print(f"| {suite} | not run: {why} | | | |")


if __name__ == "__main__":
    main()
