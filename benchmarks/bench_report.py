"""`winnow report --json` on a large project: every flag streamed from the database.

    python benchmarks/bench_report.py                  # 217,000 samples, about 1.3M style flags
    python benchmarks/bench_report.py --samples 50000

The project is built once (cached under the temp folder): an imported JSONL of near-identical
records and the flags a style run of that size leaves — per sample 3 contradiction flags (half of
them mirrored on the partner's side, as MAX_CONFLICT_FLAGS leaves a pair with one or both sides),
one drift flag and, for half the samples, a noise flag — written through the style store. The
detectors are not what is measured (bench_style is): the report reading and writing them is.

Cases:
  * `winnow report --json` as a user runs it (a subprocess, output counted, not kept);
  * the baseline, measured in the same run on the same file: bare sqlite3 reading every flag row
    in the report's order and json.dumps of each (the floor for streaming these rows).
A regression on this (the pair query scanning every conflict flag for each one) took 15 minutes at
1.3M flags; target ≤ 3x the baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import Figure, print_table  # noqa: E402


def ensure_project(path: Path, n: int) -> int:
    """The project of n samples with its flags (built once); returns the number of flags."""
    from review.store import Store
    from review.style import FEATURE_VERSION, StyleStore
    from review.style.store import FlagRow

    if path.exists():
        with Store(path, create=False) as store:
            ss = StyleStore(store)
            if store.total_samples() == n and ss.state("samples_at_run") == n:
                return store.conn.execute("SELECT count(*) FROM style_flags").fetchone()[0]
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    print(f"generating {n:,} samples and their flags into {path} (once; cached for later runs)...", flush=True)
    src = path.with_suffix(".jsonl")
    with src.open("w", encoding="utf-8") as f:
        for i in range(n):
            rec = {"instruction": f"How do I reset my password {i % 500}?", "output": f"Click reset. Then wait {i}."}
            f.write(json.dumps(rec) + "\n")
    rnd = random.Random(1)

    def flags():
        for s in range(1, n + 1):
            for _ in range(3):
                p = (s + rnd.randrange(n - 1)) % n + 1
                score = round(rnd.random(), 4)
                yield FlagRow(s, "conflict", score, p, (min(s, p), max(s, p)), f"contradicts #{p}", ("yes / no",), "x")
                if rnd.random() < 0.5:
                    yield FlagRow(p, "conflict", score, s, (min(s, p), max(s, p)), f"contradicts #{s}", ("no",), "x")
            yield FlagRow(s, "style", round(rnd.random(), 4), s % n + 1, (s,), "style drift", ("longer",), "style")
            if rnd.random() < 0.5:
                yield FlagRow(s, "noise", round(rnd.random(), 4), None, (s,), "noisy", ("cut off",), "noise")

    with Store(path) as store:
        store.import_file(src)
        ss = StyleStore(store)
        ss.replace_flags(list(flags()))
        ss.set_state(
            {
                "feature_version": FEATURE_VERSION,
                "samples_at_run": store.total_samples(),
                "group_field": None,
                "question_groups": [],
                "noise_counts": {"truncated": n // 2},
            }
        )
        ss.mark_run({"answers": n, "question_groups": 0})
        total = store.conn.execute("SELECT count(*) FROM style_flags").fetchone()[0]
    src.unlink()
    return total


def measure_all(db: Path) -> tuple[list[Figure], list[str]]:
    conn = sqlite3.connect(db)
    t = time.perf_counter()
    rows = 0
    size = 0
    for kind in ("style", "conflict", "noise"):
        for r in conn.execute(
            "SELECT sample_id, kind, score, partner, members, label, details, reason FROM style_flags"
            " WHERE kind = ? AND shown = 1 ORDER BY score DESC, sample_id",
            (kind,),
        ):
            size += len(json.dumps(r))
            rows += 1
    conn.close()
    base = Figure(f"baseline: bare sqlite3, {rows:,} flag rows read + json.dumps", time.perf_counter() - t, 0, {})
    exe = ROOT / ".venv" / "bin" / "winnow"
    cmd = [str(exe) if exe.exists() else sys.executable, "report", "--db", str(db), "--json"]
    if not exe.exists():
        cmd[1:1] = ["-m", "tui.cli"]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None
    out = 0
    for chunk in iter(lambda: proc.stdout.read(1 << 20), b""):  # type: ignore[union-attr]
        out += len(chunk)
    _, status, usage = os.wait4(proc.pid, 0)  # this child's own peak RSS (RUSAGE_CHILDREN mixes in others)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"winnow report --json failed with exit code {proc.returncode}")
    seconds = time.perf_counter() - t
    fig = Figure("winnow report --json", seconds, usage.ru_maxrss / 1024, {"output_MB": round(out / 2**20)})
    notes = [
        f"report --json / baseline: {fig.seconds / base.seconds:.1f}× (target ≤ 3×; 15 min when the pair query was n²)"
    ]
    return [base, fig], notes


def run(as_json: bool = False, quick: bool = False, samples: int | None = None) -> list[Figure]:
    n = samples or (30_000 if quick else 217_000)
    db = Path(tempfile.gettempdir()) / f"winnow_bench_report_{n}.db"
    flags = ensure_project(db, n)
    figures, notes = measure_all(db)
    print_table(f"report --json, {n:,} samples, {flags:,} style flags", figures, notes, as_json)
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=217_000)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    run(as_json=a.json, samples=a.samples)


if __name__ == "__main__":
    main()
