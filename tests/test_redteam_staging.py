"""Red team: the staging bookkeeping of an import (the `pending_import_*` meta keys, the stage
files beside the project) as a project file or a folder someone else made can hold them. The
next `winnow import` (a real subprocess) must clean up what is no import's without a traceback,
without deleting or orphaning a visible sample, and without waiting on a FIFO or a folder that
merely has a stage file's name."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from builders import chat, write_jsonl

WINNOW = Path(sys.executable).with_name("winnow")
KEYS = ("pending_import_from", "pending_import_source", "pending_import_stage")


def winnow(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(WINNOW), *args], capture_output=True, text=True, timeout=timeout)


def seeded(tmp_path: Path) -> Path:
    db = tmp_path / "p.db"
    seed = write_jsonl(tmp_path / "seed.jsonl", [chat(f"seed {i}?", f"seed answer {i}.") for i in range(5)])
    r = winnow("import", str(seed), "--db", str(db))
    assert r.returncode == 0, r.stderr
    return db


def edit(db: Path, *statements: tuple) -> None:
    c = sqlite3.connect(db)
    for s in statements:
        c.execute(*s)
    c.commit()
    c.close()


def rows(db: Path, sql: str) -> list[tuple]:
    c = sqlite3.connect(db)
    try:
        return c.execute(sql).fetchall()
    finally:
        c.close()


def import_more(tmp_path: Path, db: Path, name: str = "more.jsonl", n: int = 3) -> subprocess.CompletedProcess:
    more = write_jsonl(tmp_path / name, [chat(f"{name} {i}?", f"{name} answer {i}.") for i in range(n)])
    return winnow("import", str(more), "--db", str(db))


def assert_clean_import(r: subprocess.CompletedProcess, db: Path) -> None:
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Traceback" not in r.stderr
    assert rows(db, "SELECT key FROM meta WHERE key LIKE 'pending_import_%'") == []
    assert rows(db, "PRAGMA foreign_key_check") == []


def meta(key: str, value: object) -> tuple:
    return ("INSERT INTO meta (key, value) VALUES (?, ?)", (key, value))


PLACEHOLDER = ("UPDATE sources SET sha256 = 'pending:x' WHERE id = 1",)


@pytest.mark.parametrize(
    "keys",
    [
        # every id past what SQLite stores: binding it raised OverflowError on every import
        {"pending_import_from": "99999999999999999999999", "pending_import_source": "1"},
        {"pending_import_from": "1", "pending_import_source": "99999999999999999999999"},
        # no hidden row below 1: the loop was skipped and the placeholder's delete hit the foreign key
        {"pending_import_from": "-5", "pending_import_source": "1"},
        {"pending_import_from": "0", "pending_import_source": "1"},
    ],
)
def test_meta_keys_no_import_wrote_are_removed_by_the_next_import(tmp_path: Path, keys: dict) -> None:
    db = seeded(tmp_path)
    edit(db, PLACEHOLDER, *(meta(k, v) for k, v in keys.items()), meta("pending_import_stage", "x"))
    r = import_more(tmp_path, db)
    assert_clean_import(r, db)
    # Nothing of the seed went: its five rows and the three new ones are all there and visible.
    assert rows(db, "SELECT count(*) FROM samples") == [(8,)]
    r = winnow("stats", "--db", str(db))
    assert r.returncode == 0 and "8 samples" in r.stdout, r.stdout + r.stderr
    # And the project stays importable (it was broken for good: the keys stayed).
    assert_clean_import(import_more(tmp_path, db, "again.jsonl", 2), db)


@pytest.mark.parametrize("first", ["3", b"3"])  # a blob value: int(b"3") reads it too
def test_a_placeholder_with_visible_rows_keeps_them_and_its_source(tmp_path: Path, first: object) -> None:
    """Keys pointing at a `pending:` source whose rows 1-2 lie below the hidden bound (3): no dead
    import leaves that. The cleanup deleted the hidden rows 3-5 and then the source itself, which
    left samples 1-2 naming a source id the next import reused: they became records of the
    curator's own file (its export would carry them)."""
    db = seeded(tmp_path)
    edit(db, PLACEHOLDER, meta("pending_import_from", first), meta("pending_import_source", "1"))
    r = import_more(tmp_path, db)
    assert_clean_import(r, db)
    (new,) = rows(db, "SELECT id FROM sources WHERE name = 'more.jsonl'")
    assert rows(db, f"SELECT position FROM samples WHERE source_id = {new[0]} ORDER BY id") == [(0,), (1,), (2,)]
    assert rows(db, "SELECT id, source_id FROM samples WHERE id < 3") == [(1, 1), (2, 1)]
    assert rows(db, "SELECT count(*) FROM sources WHERE id = 1") == [(1,)]


def test_a_fifo_named_like_a_stage_file_does_not_hang_the_import(tmp_path: Path) -> None:
    db = seeded(tmp_path)
    os.mkfifo(tmp_path / "p.db.import-1-abcd.stage")
    r = import_more(tmp_path, db)  # it opened the FIFO to test its lock, and waited for a writer
    assert_clean_import(r, db)
    assert rows(db, "SELECT count(*) FROM samples") == [(8,)]
    assert (tmp_path / "p.db.import-1-abcd.stage").exists()  # not ours: left alone


def test_a_folder_named_as_the_pending_stage_is_not_a_running_import(tmp_path: Path) -> None:
    """A dead import's keys naming a stage that is a folder (a copied project directory): it
    exists, no lock can be tested on it, and the import waited 600 s for it to go."""
    db = seeded(tmp_path)
    name = "p.db.import-1-abcd.stage"
    (tmp_path / name).mkdir()
    edit(db, meta("pending_import_stage", name), meta("pending_import_from", "99"), meta("pending_import_source", "99"))
    r = winnow("import", str(write_jsonl(tmp_path / "more.jsonl", [chat("q?", "a.")])), "--db", str(db), timeout=60)
    assert_clean_import(r, db)
    assert rows(db, "SELECT count(*) FROM samples") == [(6,)]
