"""Run every benchmark: `python -m benchmarks [--json] [--quick]`.

Each figure is printed beside a baseline measured in the same run. Real data from
../shared/datasets is used when present; otherwise synthetic data of the same shape (said so).
"""

from __future__ import annotations

import argparse
import importlib

SUITES = ["bench_import", "bench_tui", "bench_dedup", "bench_style"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true", help="machine-readable output")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--only", choices=SUITES, action="append", help="run only these suites")
    a = ap.parse_args()
    for name in a.only or SUITES:
        try:
            mod = importlib.import_module(f"benchmarks.{name}")
        except ModuleNotFoundError as e:
            print(f"\n## {name}: not available ({e})")
            continue
        kwargs = {"as_json": a.json}
        if "quick" in mod.run.__code__.co_varnames:
            kwargs["quick"] = a.quick
        mod.run(**kwargs)


if __name__ == "__main__":
    main()
