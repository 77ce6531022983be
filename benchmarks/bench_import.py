"""Import benchmark: winnow's import of Alpaca 52k vs a raw sqlite3 executemany, same run.

The baseline does the least any importer must: json.load the file, build one row per record
(the same columns winnow stores: turns as JSON, the raw record text) and executemany them into a
table with the same indexes, in one transaction. winnow additionally streams the file (bounded
memory), keeps each record's exact original bytes, computes three normalised hashes per record
and records the source.

A second table imports a large generated file (200,000 OpenAI-messages records; 50,000 with
--quick) while the project is open elsewhere: another connection makes a decision-like write
every 50 ms with the normal busy timeout, as the review screen does on a key, and the longest of
those waits is reported beside the import's own time.

    python -m benchmarks.bench_import [--json] [--file PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.common import ROOT, Figure, measure, print_table, shared_file
else:
    from .common import ROOT, Figure, measure, print_table, shared_file


def synthetic_alpaca(path: Path, n: int = 52_002) -> Path:
    import random

    rnd = random.Random(7)
    words = "the a model answer question data refund password account sync plan help please why how".split()
    recs = [
        {
            "instruction": " ".join(rnd.choices(words, k=rnd.randint(5, 20))),
            "input": "" if rnd.random() < 0.6 else " ".join(rnd.choices(words, k=10)),
            "output": " ".join(rnd.choices(words, k=rnd.randint(10, 120))),
        }
        for _ in range(n)
    ]
    path.write_text(json.dumps(recs, indent=4), encoding="utf-8")
    return path


def synthetic_chats(path: Path, n: int) -> Path:
    """n JSON lines of OpenAI messages (about 530 bytes each), written streaming."""
    import random

    rnd = random.Random(11)
    words = "the a model answer question data refund password account sync plan help please why how".split()
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            user = f"q{i} " + " ".join(rnd.choices(words, k=rnd.randint(5, 25)))
            assistant = f"a{i} " + " ".join(rnd.choices(words, k=rnd.randint(20, 100)))
            msgs = [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]
            fh.write(json.dumps({"messages": msgs}) + "\n")
    return path


WRITE_EVERY = 0.05  # seconds between the concurrent writer's decisions
IMPORTER = (
    "import sys, time\n"
    "from review.store import Store\n"
    "marks = []\n"
    "def copied(done, total):\n"
    "    marks.append(time.perf_counter())\n"
    "with Store(sys.argv[2]) as s:\n"
    "    print('started', flush=True)\n"
    "    t = time.perf_counter()\n"
    "    r = s.import_file(sys.argv[1], copied=copied)\n"
    "    end = time.perf_counter()\n"
    "    # The copy's transactions: each one's time is the gap between two calls (the first: from\n"
    "    # the reservation, not timed here, so it is left out).\n"
    "    gaps = [b - a for a, b in zip(marks, marks[1:])]\n"
    "    print(end - t, r.added, max(gaps, default=0.0), len(marks), flush=True)\n"
)


def contended_import(src: str, db: str) -> dict:
    """`src` imported by a child process into a project with a goal, while this process (the open
    review screen) keeps or clears sample #1 every 50 ms with the normal busy timeout (5 s): the
    import's own time, how long the longest of those writes waited, and how many failed (busy)."""
    from review.store import Change, StorageError, Store

    seed = Path(db).parent / "seed.jsonl"
    synthetic_chats(seed, 20)
    with Store(db) as s:
        s.import_file(seed)
        goal, _ = s.add_goal("Keep answers that help the customer.")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", IMPORTER, src, db], stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    proc.stdout.readline()  # "started": the project is open and the import begins
    waits: list[float] = []
    failed = 0
    with Store(db) as app:
        kind = "keep"
        while proc.poll() is None:
            t = time.perf_counter()
            try:
                app.apply(goal.id, [Change(1, kind)])
                kind = "clear" if kind == "keep" else "keep"
            except StorageError:
                failed += 1
            waits.append(time.perf_counter() - t)
            time.sleep(WRITE_EVERY)
    seconds, added, longest_copy, copies = proc.stdout.read().split()
    proc.wait()
    return {
        "import_s": float(seconds),
        "samples": int(added),
        "copy_transactions": int(copies),
        "longest_copy_transaction": f"{float(longest_copy):.2f} s",
        "writes": len(waits),
        "longest_write_wait": f"{max(waits, default=0.0):.2f} s",
        "failed_writes": failed,
        "importer_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def run_contended(d: str, quick: bool, n: int | None = None) -> Figure:
    n = n or (50_000 if quick else 200_000)
    src = synthetic_chats(Path(d) / f"chats_{n // 1000}k.jsonl", n)
    got = measure(
        f"winnow import {n // 1000}k, a decision every 50 ms beside it", contended_import, str(src), f"{d}/contended.db"
    )
    extra = dict(got.extra)
    seconds = float(extra.pop("import_s"))
    rss = float(extra.pop("importer_peak_rss_mb"))
    return Figure(got.name, seconds, rss, extra)


def winnow_import(src: str, db: str) -> dict:
    from review.store import Store

    with Store(db) as store:
        report = store.import_file(src)
    return {"samples": report.added}


def _raw_db(db: str) -> sqlite3.Connection:
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(
        "CREATE TABLE samples (id INTEGER PRIMARY KEY, source_id, position, line, system, turns, tools, raw,"
        " content_hash, prompt_hash, answer_hash, prompt_chars, answer_chars, n_turns)"
    )
    for col in ("content_hash", "prompt_hash"):
        conn.execute(f"CREATE INDEX i_{col} ON samples({col})")
    conn.execute("CREATE INDEX i_src ON samples(source_id, position)")
    return conn


INSERT = (
    "INSERT INTO samples (source_id, position, line, system, turns, tools, raw, content_hash,"
    " prompt_hash, answer_hash, prompt_chars, answer_chars, n_turns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)


def raw_executemany(src: str, db: str, with_hashes: bool = True) -> dict:
    """json.load the whole file, build each row with straightforward code, executemany, commit."""
    import hashlib
    import unicodedata

    def norm(text: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()

    def digest(key: str) -> str:
        return hashlib.blake2b(key.encode(), digest_size=16).hexdigest()

    with open(src, encoding="utf-8") as fh:
        records = json.load(fh)
    conn = _raw_db(db)
    rows = []
    for i, r in enumerate(records):
        prompt = r["instruction"] + ("\n\n" + r["input"] if r["input"] else "")
        turns = [{"role": "user", "content": prompt}, {"role": "assistant", "content": r["output"]}]
        if with_hashes:
            content_key = "system:" + "".join(f"\x1e{t['role']}:{norm(t['content'])}" for t in turns)
            hashes = (digest(content_key), digest(norm(prompt)), digest(norm(r["output"])))
        else:
            hashes = ("", "", "")
        rows.append(
            (
                1,
                i,
                0,
                "",
                json.dumps(turns, ensure_ascii=False),
                "",
                json.dumps(r, ensure_ascii=False),
                *hashes,
                len(prompt),
                len(r["output"]),
                2,
            )
        )
    conn.execute("BEGIN")
    conn.executemany(INSERT, rows)
    conn.execute("COMMIT")
    conn.close()
    return {"samples": len(rows)}


def raw_no_hashes(src: str, db: str) -> dict:
    return raw_executemany(src, db, with_hashes=False)


def same_rows(a: str, b: str) -> bool:
    """Every column but raw and line (the baseline cannot know them) is identical."""
    cols = "position, system, turns, tools, content_hash, prompt_hash, answer_hash, prompt_chars, answer_chars, n_turns"
    ca, cb = sqlite3.connect(a), sqlite3.connect(b)
    try:
        return (
            ca.execute(f"SELECT {cols} FROM samples ORDER BY id").fetchall()
            == cb.execute(f"SELECT {cols} FROM samples ORDER BY id").fetchall()
        )
    finally:
        ca.close()
        cb.close()


def run(as_json: bool = False, file: str | None = None, quick: bool = False, contended: int | None = None) -> list:
    repeat = 1 if quick else 3
    notes = []
    with tempfile.TemporaryDirectory() as d:
        src = Path(file) if file else shared_file("alpaca_data.json")
        if src is None:
            src = synthetic_alpaca(Path(d) / "alpaca_synthetic.json")
            notes.append(
                "../shared/datasets/alpaca_data.json not found: SYNTHETIC data of the same shape (52,002 records)."
            )

        def clean() -> None:
            for f in Path(d).glob("*.db*"):
                if not f.name.startswith("winnow"):
                    f.unlink()

        bare = measure(
            "json.load + executemany, no hashes (context)",
            raw_no_hashes,
            str(src),
            f"{d}/bare.db",
            repeat=repeat,
            setup=clean,
        )
        base = measure(
            "raw sqlite3 executemany, same rows (baseline)",
            raw_executemany,
            str(src),
            f"{d}/raw.db",
            repeat=repeat,
            setup=clean,
        )

        def clean_winnow() -> None:
            for f in Path(d).glob("winnow.db*"):
                f.unlink()

        win = measure("winnow import", winnow_import, str(src), f"{d}/winnow.db", repeat=repeat, setup=clean_winnow)
        if src.name.startswith("alpaca"):
            base.extra["same_rows_as_winnow"] = same_rows(f"{d}/raw.db", f"{d}/winnow.db")
        ratio = win.seconds / base.seconds
        win.extra["vs_baseline"] = f"{ratio:.2f}x"
        win.extra["rows_per_s"] = f"{win.extra['samples'] / win.seconds:,.0f}"
        notes.append(
            f"winnow / baseline = {ratio:.2f}x (target ≤ 1.5x) on {src.name}. The baseline json.loads the "
            "whole file and builds the same rows (same hashes, checked column by column) with plain code; "
            "winnow also streams the file (bounded memory), keeps each record's exact bytes, rejects "
            "duplicate keys/NaN per record and records the source."
        )
        print_table("Import", [bare, base, win], notes, as_json)
        busy = run_contended(d, quick, contended)
        print_table(
            "Import beside an open review",
            [busy],
            [
                "wall = the import's own time; peak RSS = the importing process's. longest_write_wait = the "
                "longest a decision written meanwhile by another connection (busy timeout 5 s) waited; "
                "failed_writes = decisions refused as busy. Target: at most a second or two.",
                "Before the import staged its records (b15844f, 200k, the same VM): import 13.2 s, longest wait "
                "5.11 s = the busy timeout, 2 of 13 writes failed: the write lock was held for the whole parse. "
                "After staging, one transaction copied the stage in (f3ac434^, 2026-12-03): 200k 2.46 s longest "
                "wait; 1M 5.04 s, 3 of 658 failed. Now the copy is cut into transactions of 25,000 records, its rows "
                "hidden until a last short one: longest_copy_transaction is the longest of those (the lock is free "
                "between them).",
            ],
            as_json,
        )
    return [bare, base, win, busy]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--file")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, one run each")
    ap.add_argument("--contended", type=int, help="records of the import beside an open review (default 200,000)")
    ap.add_argument("--only-contended", action="store_true", help="run only the import beside an open review")
    a = ap.parse_args()
    if a.only_contended:
        with tempfile.TemporaryDirectory() as d:
            print_table("Import beside an open review", [run_contended(d, a.quick, a.contended)], [], a.json)
    else:
        run(a.json, a.file, a.quick, a.contended)
