"""Bulk decisions (issue 16): deciding 100,000 samples as one log action, and its undo.

    python benchmarks/bench_decide.py                  # 100,000 samples (the project is cached)
    python benchmarks/bench_decide.py --samples 20000

Cases, each on a fresh copy of the same project file (target: each ≤ 2 s at 100,000):
  * select + preview: `--queue all` listed and counted (what `winnow decide --dry-run` does);
  * decide: keep every sample, the write itself (one transaction: the action, 100,000 events,
    decisions, tallies);
  * undo and redo of it;
  * decide over decided: dropping the 100,000 kept samples with a tag (every one overwritten),
    its undo and its redo;
and the baseline, measured in the same run on a copy of the same file: bare sqlite3 writing the
same 100,000 event rows and 100,000 decision rows in one transaction (the floor: what any log
of this shape costs on this disk), with the same durability settings (WAL, synchronous=FULL).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.common import Figure, print_table  # noqa: E402


def ensure_project(path: Path, n: int) -> None:
    from review.model import Conversation, Turn
    from review.store import Store

    if path.exists():
        with Store(path, create=False) as store:
            if store.total_samples() == n and store.active_goal() is not None:
                return
        for suffix in ("", "-wal", "-shm", ".lock"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    print(f"generating {n:,} samples into {path} (once; cached for later runs)...", flush=True)
    convs = (
        Conversation("", (Turn("user", f"Question {i} about topic {i % 97}?"), Turn("assistant", f"Answer {i}. " * 3)))
        for i in range(n)
    )
    with Store(path) as store:
        store.add_conversations("bench", convs)
        store.add_goal("Keep the helpful answers.")


def _rss() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _copy(src: Path, d: Path, name: str) -> Path:
    dst = d / name
    shutil.copy(src, dst)
    return dst


def _timed(name: str, fn, **extra) -> tuple[Figure, object]:
    # CPU seconds beside the wall: on a loaded machine the wall is mostly waiting for a core.
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    return Figure(name, wall, _rss(), {**extra, "cpu": f"{cpu:.3f} s"}), out


def measure_all(db: Path, n: int) -> tuple[list[Figure], list[str]]:
    from review.session import ReviewSession
    from review.store import Store

    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(dir=db.parent) as tmp:
        d = Path(tmp)
        # Baseline: bare sqlite3, the same rows, one transaction, the same pragmas.
        path = _copy(db, d, "baseline.db")
        conn = sqlite3.connect(path, isolation_level=None)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")

        def bare() -> None:
            conn.execute("BEGIN IMMEDIATE")
            aid = conn.execute("INSERT INTO actions (goal_id, kind, at) VALUES (1, 'bulk', 'now')").lastrowid
            conn.executemany(
                "INSERT INTO events (action_id, goal_id, sample_id, kind, reason, value, at)"
                " VALUES (?, 1, ?, 'keep', NULL, NULL, 'now')",
                [(aid, i) for i in range(1, n + 1)],
            )
            conn.executemany(
                "INSERT INTO decisions (goal_id, sample_id, verdict, reason, note, tags) VALUES (1, ?, 'keep', NULL, '', '[]')",
                [(i,) for i in range(1, n + 1)],
            )
            conn.execute("COMMIT")

        f, _ = _timed(f"baseline: bare sqlite3, {n:,} events + decisions, one transaction", bare)
        conn.close()
        figures.append(f)

        path = _copy(db, d, "decide.db")
        with Store(path) as store:
            goal = store.active_goal()
            assert goal is not None
            s = ReviewSession(store, goal)

            def select_preview():
                return s.preview_bulk(s.select("queue", "all"), "keep")

            f, p = _timed(f"select + preview {n:,} (--dry-run)", select_preview)
            figures.append(f)
            f, aid = _timed(f"decide: keep {n:,} samples, one action", lambda: s.bulk_decide(p))  # type: ignore[arg-type]
            assert store.counts(goal.id).kept == n, "the decision did not land"
            f.extra["action"] = aid
            figures.append(f)
            f, flip = _timed(f"undo it ({n:,} samples)", s.undo_step)
            assert store.counts(goal.id).kept == 0, "undo did not restore"
            f.extra["touched"] = len(flip.touched)  # type: ignore[attr-defined]
            figures.append(f)
            f, _ = _timed("redo it", s.redo)
            assert store.counts(goal.id).kept == n
            figures.append(f)
            p2 = s.preview_bulk(s.select("queue", "all"), "drop", reason="duplicate", tags=["bench"])
            f, _ = _timed(f"decide over decided: drop {n:,} kept samples + a tag", lambda: s.bulk_decide(p2))
            f.extra["overwritten"] = p2.overwritten
            figures.append(f)
            f, _ = _timed("undo that", s.undo_step)
            assert store.counts(goal.id).kept == n and store.counts(goal.id).dropped == 0, "undo did not restore"
            figures.append(f)
            f, _ = _timed("redo that", s.redo)
            assert store.counts(goal.id).dropped == n and store.counts(goal.id).by_tag == {"bench": n}
            figures.append(f)
    base = figures[0].seconds
    notes = [
        "target (issue 16): deciding 100,000 samples ≤ 2 s and its undo likewise",
        "each winnow figure divided by the baseline: "
        + ", ".join(f"{f.name.split(':')[0]} {f.seconds / base:.1f}×" for f in figures[1:]),
    ]
    return figures, notes


def run(as_json: bool = False, quick: bool = False, samples: int | None = None) -> list[Figure]:
    n = samples or (20_000 if quick else 100_000)
    db = Path(tempfile.gettempdir()) / f"winnow_bench_decide_{n}.db"
    ensure_project(db, n)
    figures, notes = measure_all(db, n)
    print_table(f"bulk decisions, {n:,} samples", figures, notes, as_json)
    return figures


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--samples", type=int, default=100_000)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    run(as_json=a.json, samples=a.samples)


if __name__ == "__main__":
    main()
