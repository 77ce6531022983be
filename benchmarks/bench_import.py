"""Import benchmark: winnow's import of Alpaca 52k vs a raw sqlite3 executemany, same run.

The baseline does the least any importer must: json.load the file, build one row per record
(the same columns winnow stores: turns as JSON, the raw record text) and executemany them into a
table with the same indexes, in one transaction. winnow additionally streams the file (bounded
memory), keeps each record's exact original bytes, computes three normalised hashes per record
and records the source.

    python -m benchmarks.bench_import [--json] [--file PATH]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.common import measure, print_table, shared_file
else:
    from .common import measure, print_table, shared_file


def synthetic_alpaca(path: Path, n: int = 52_002) -> Path:
    import random

    rnd = random.Random(7)
    words = "the a model answer question data refund password account sync plan help please why how".split()
    recs = [
        {"instruction": " ".join(rnd.choices(words, k=rnd.randint(5, 20))),
         "input": "" if rnd.random() < 0.6 else " ".join(rnd.choices(words, k=10)),
         "output": " ".join(rnd.choices(words, k=rnd.randint(10, 120)))}
        for _ in range(n)
    ]
    path.write_text(json.dumps(recs, indent=4), encoding="utf-8")
    return path


def winnow_import(src: str, db: str) -> dict:
    from review.store import Store

    with Store(db) as store:
        report = store.import_file(src)
    return {"samples": report.added}


def raw_executemany(src: str, db: str) -> dict:
    with open(src, encoding="utf-8") as fh:
        records = json.load(fh)
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
    rows = []
    for i, r in enumerate(records):
        prompt = r["instruction"] + ("\n\n" + r["input"] if r["input"] else "")
        turns = json.dumps([{"role": "user", "content": prompt}, {"role": "assistant", "content": r["output"]}],
                           ensure_ascii=False)
        rows.append((1, i, 0, "", turns, "", json.dumps(r, ensure_ascii=False), "", "", "",
                     len(prompt), len(r["output"]), 2))
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO samples (source_id, position, line, system, turns, tools, raw, content_hash,"
                     " prompt_hash, answer_hash, prompt_chars, answer_chars, n_turns)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.execute("COMMIT")
    conn.close()
    return {"samples": len(rows)}


def run(as_json: bool = False, file: str | None = None) -> list:
    notes = []
    with tempfile.TemporaryDirectory() as d:
        src = Path(file) if file else shared_file("alpaca_data.json")
        if src is None:
            src = synthetic_alpaca(Path(d) / "alpaca_synthetic.json")
            notes.append("../shared/datasets/alpaca_data.json not found: SYNTHETIC data of the same shape (52,002 records).")
        base = measure("raw sqlite3 executemany (baseline)", raw_executemany, str(src), f"{d}/raw.db")
        win = measure("winnow import", winnow_import, str(src), f"{d}/winnow.db")
        ratio = win.seconds / base.seconds
        win.extra["vs_baseline"] = f"{ratio:.2f}x"
        win.extra["rows_per_s"] = f"{win.extra['samples'] / win.seconds:,.0f}"
        notes.append(f"winnow / baseline = {ratio:.2f}x (target ≤ 1.5x) on {src.name}")
        print_table("Import", [base, win], notes, as_json)
    return [base, win]


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--file")
    a = ap.parse_args()
    run(a.json, a.file)
