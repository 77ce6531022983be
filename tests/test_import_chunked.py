"""An import copies its stage into the project in short transactions, hidden until the last one
(issue 12 item 13): every reader sees none or all of a file; a concurrent writer never waits for
the whole copy; an error or a kill -9 between the transactions leaves the project reading as if
the import never happened, and the next import removes the hidden rows and imports the file once.

Between the copy's transactions the import calls `copied(done, total)`: the checks run there (in
this process, on other connections) or, for the kill, in a subprocess that prints a line at each
call and waits for "go" on stdin. No check waits on a fixed sleep.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from builders import chat, write_jsonl
from test_import_staging import project  # the 5-sample project with a goal, written once

from review.figures import project_stats
from review.session import open_session
from review.store import Change, Store
from review.store.samples import PENDING_FROM, PENDING_SOURCE, PENDING_STAGE

ROOT = Path(__file__).resolve().parents[1]
N = 3_000
ROWS = 500  # records per copy transaction here: 6 transactions for N
KEYS = (PENDING_FROM, PENDING_SOURCE, PENDING_STAGE)


def big_file(path: Path, n: int = N) -> Path:
    """n chats sharing one system prompt (and every question asked twice)."""
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(json.dumps(chat(f"Zebra question {i // 2}?", f"Answer {i}: see Billing.", "Be brief.")) + "\n")
    return path


def pairs_file(path: Path, n: int = N) -> Path:
    """n preference pairs (prompt, chosen, rejected)."""
    recs = [{"prompt": f"Zebra pair {i}?", "chosen": f"Good {i}.", "rejected": f"Bad {i}."} for i in range(n)]
    return write_jsonl(path, recs)


def raw(db: Path, sql: str) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def stages(db: Path) -> list[Path]:
    return sorted(db.parent.glob(db.name + ".import-*.stage"))


def what_a_reader_sees(store: Store, goal_id: int) -> dict:
    """Every way winnow enumerates samples or sources, through a Store of its own."""
    from review.analysis.store import AnalysisStore

    session = open_session(store)
    assert session is not None
    stepped = [store.step_all(0, True)]
    while (after := store.step_all(stepped[-1], True)) is not None:
        stepped.append(after)
    stats = project_stats(store)
    return {
        "total": store.total_samples(),
        "session_total": session.counts().total,
        "sources": [s.name for s in store.sources()],
        "stats": (stats.samples, len(stats.sources)),
        "iter": [s.id for s in store.iter_samples()],
        "stepped": stepped,
        "all": store.builtin_members(goal_id, "all", None),
        "undecided": store.builtin_members(goal_id, "undecided", None),
        "search": store.search_ids("zebra"),
        "step_search": store.step_search("zebra", 0, True),
        "last": store.step_all(10**9, False),
        "ranges": store.ids_in_ranges([(1, 10**9)]),
        "has_6": store.has_sample(6),
        "sample_6": store.sample(6),
        "samples_6_10": store.samples(list(range(6, 11))),
        "hashes": store.content_hashes(list(range(1, 20))),
        "shared": store.shared_hash_ids("prompt_hash"),
        "systems": store.repeated_systems(),
        "batch": [r[0] for r in store.batch_candidates(goal_id)],
        "pairs": AnalysisStore(store).preference_ids(limit=10**6),
    }


@pytest.mark.parametrize("make", [big_file, pairs_file], ids=["chats", "pairs"])
def test_a_reader_between_the_copy_transactions_sees_none_of_the_file(tmp_path: Path, make) -> None:
    db, goal = project(tmp_path)
    src = make(tmp_path / "big.jsonl")
    with Store(db) as s:
        before = what_a_reader_sees(s, goal)
    assert before["iter"] == [1, 2, 3, 4, 5] and before["search"] == []
    seen: list[dict] = []
    copied_rows: list[int] = []

    def copied(done: int, total: int) -> None:
        # The copy is under way: part of the file is in the table, none of it may be seen.
        copied_rows.append(raw(db, "SELECT count(*) FROM samples") - 5)
        with Store(db) as reader:  # a connection opened now, as a screen or `winnow stats` would
            seen.append(what_a_reader_sees(reader, goal))

    with Store(db) as s, Store(db) as open_before:
        s.COPY_ROWS = ROWS
        report = s.import_file(src, copied=copied)
        after = what_a_reader_sees(open_before, goal)  # a connection open the whole time
    assert report.added == N
    assert copied_rows == [ROWS * k for k in range(1, N // ROWS + 1)]  # six transactions, hidden rows in the table
    assert seen and all(view == before for view in seen), [
        {k: v for k, v in view.items() if v != before[k]} for view in seen
    ][:1]
    assert after["total"] == 5 + N and after["iter"] == list(range(1, 5 + N + 1))
    assert after["sources"] == ["seed.jsonl", "big.jsonl"] and after["has_6"]
    assert len(after["search"]) == N and after["step_search"] == 6
    if make is pairs_file:
        assert after["pairs"] == list(range(6, 5 + N + 1))
    else:
        assert len(after["shared"]) == N and len(after["systems"]) == 1
    assert raw(db, "SELECT count(*) FROM meta WHERE key LIKE 'pending_import%'") == 0


def test_an_error_between_the_copy_transactions_leaves_the_project_as_it_was(tmp_path: Path) -> None:
    from reliability.scenarios.faults import dump

    db, _ = project(tmp_path)
    src = big_file(tmp_path / "big.jsonl")
    before = dump(db)

    def copied(done: int, total: int) -> None:
        if done == 3 * ROWS:
            raise KeyboardInterrupt  # Ctrl-C halfway through the copy

    with Store(db) as s:
        s.COPY_ROWS = ROWS
        with pytest.raises(KeyboardInterrupt):
            s.import_file(src, copied=copied)
        assert s.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1  # turned back on after the clean-up
    assert dump(db) == before and stages(db) == []
    with Store(db) as s:
        assert s.import_file(src).added == N and s.total_samples() == 5 + N


KILLED_IMPORTER = """
import sys
from review.store import Store
src, db, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])

def copied(done, total):
    print("copied", done, total, flush=True)
    if sys.stdin.readline().strip() != "go":
        raise SystemExit(3)

with Store(db) as s:
    s.COPY_ROWS = rows
    r = s.import_file(src, copied=copied)
    print("done", r.added, r.already_imported, flush=True)
"""


@contextmanager
def paused_importer(src: Path, db: Path, rows: int = ROWS) -> Iterator[subprocess.Popen]:
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_IMPORTER, str(src), str(db), str(rows)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=60)


def next_line(proc: subprocess.Popen) -> str:
    assert proc.stdout is not None
    line = proc.stdout.readline()  # blocks until the importer reaches its next copy transaction
    if not line:
        raise AssertionError(f"the importer ended: {proc.stderr.read() if proc.stderr else ''}")
    return line.strip()


def go(proc: subprocess.Popen) -> None:
    assert proc.stdin is not None
    proc.stdin.write("go\n")
    proc.stdin.flush()


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX kill -9")
def test_kill_9_between_the_copy_transactions_then_the_import_goes_in_exactly_once(tmp_path: Path) -> None:
    from reliability.scenarios.faults import dump

    db, goal = project(tmp_path)
    with Store(db) as s:
        s.apply(goal, [Change(2, "keep")])
        before = what_a_reader_sees(s, goal)
    src = big_file(tmp_path / "big.jsonl")
    with paused_importer(src, db) as proc:
        assert next_line(proc) == f"copied {ROWS} {N}"
        go(proc)
        assert next_line(proc) == f"copied {2 * ROWS} {N}"
        proc.kill()  # SIGKILL between two of the copy's transactions
        proc.wait(timeout=30)
    assert raw(db, "SELECT count(*) FROM samples") == 5 + 2 * ROWS  # the hidden rows it left
    assert len(stages(db)) == 1
    # Every entry point reads the project as if the import never happened.
    with Store(db) as s:
        assert what_a_reader_sees(s, goal) == before
        s.apply(goal, [Change(3, "drop", "noisy")])  # and it takes decisions as usual
    from click.testing import CliRunner

    from tui.cli import cli

    stats = CliRunner().invoke(cli, ["stats", "--db", str(db), "--json"])
    assert stats.exit_code == 0 and json.loads(stats.output)["samples"] == 5, stats.output

    # The same import again: it removes the leftovers and imports the file once.
    with Store(db) as s:
        report = s.import_file(src)
        assert report.added == N and not report.already_imported
        assert s.total_samples() == 5 + N
        assert [x.name for x in s.sources()] == ["seed.jsonl", "big.jsonl"]
    assert raw(db, "SELECT count(*) FROM samples") == 5 + N
    assert raw(db, "SELECT count(*) FROM samples WHERE source_id = 2") == N
    assert raw(db, "SELECT min(id) FROM samples WHERE source_id = 2") == 6
    assert raw(db, "SELECT count(*) FROM sources WHERE sha256 LIKE 'pending:%'") == 0
    assert raw(db, "SELECT count(*) FROM meta WHERE key LIKE 'pending_import%'") == 0
    assert stages(db) == []
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        conn.close()
    once = dump(db)
    with Store(db) as s:
        assert s.import_file(src).already_imported  # a third run changes nothing
    assert dump(db) == once


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX kill -9")
def test_leftovers_of_a_killed_import_are_removed_by_the_next_import_of_any_file(tmp_path: Path) -> None:
    db, _ = project(tmp_path)
    src = big_file(tmp_path / "big.jsonl")
    with paused_importer(src, db) as proc:
        assert next_line(proc).startswith("copied")
        proc.kill()
        proc.wait(timeout=30)
    other = pairs_file(tmp_path / "pairs.jsonl", 300)
    with Store(db) as s:
        assert s.import_file(other).added == 300
        # The other file takes the ids after the project's last visible sample.
        assert s.conn.execute("SELECT min(id), max(id) FROM samples WHERE source_id = 2").fetchone() == (6, 305)
        assert s.total_samples() == 305
    assert raw(db, "SELECT count(*) FROM samples") == 305


def test_a_writer_decides_without_waiting_while_a_large_import_copies(tmp_path: Path) -> None:
    """While the copy is under way (part of the file in the table), nothing holds the write lock
    between its transactions: a decision with no busy timeout at all goes through at each pause."""
    db, goal = project(tmp_path)
    src = big_file(tmp_path / "big.jsonl", 20_000)
    written = 0
    with paused_importer(src, db, rows=2_000) as proc, Store(db) as app:
        app.set_busy_timeout(0)  # any lock still held would fail this write at once
        kind = "keep"
        while (line := next_line(proc)).startswith("copied"):
            done = int(line.split()[1])
            assert raw(db, "SELECT count(*) FROM samples") == 5 + done  # mid-copy
            app.apply(goal, [Change(1, kind)])
            written += 1
            kind = "clear" if kind == "keep" else "keep"
            assert app.total_samples() == 5  # and the screen still sees none of it
            go(proc)
        assert line == "done 20000 False"
    assert written == 10
    with Store(db) as s:
        assert s.total_samples() == 20_005
        assert s.conn.execute("SELECT count(*) FROM actions").fetchone()[0] == written
