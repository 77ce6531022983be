"""New samples take ids no table of the project names (red team, 2026-12-04): a project file from
someone else may carry decisions, tags or flags for sample ids past its last sample, and the next
import must not hand those ids to new samples (they arrived already decided). Ids that would pass
SQLite's largest integer are refused, the project left as it was. Real project files."""

from __future__ import annotations

import sqlite3

import pytest
from builders import chat, write_jsonl

from review.store import Change, Store
from review.store.errors import StorageError
from review.store.imports import _SAMPLE_ID_COLUMNS


def project(tmp_path, n: int = 3):
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(write_jsonl(tmp_path / "a.jsonl", [chat(f"theirs {i}", "ok") for i in range(n)]))
        s.add_goal("Short answers.")
    return db


def test_decisions_for_ids_past_the_last_sample_are_never_inherited(tmp_path):
    db = project(tmp_path)
    with Store(db) as s:
        s.apply(s.active_goal().id, [Change(3, "drop", "noisy")])
    raw = sqlite3.connect(db)
    with raw:  # the sender planted a decision, a tag and an event for a sample the file lacks
        raw.execute("UPDATE decisions SET sample_id = 9 WHERE sample_id = 3")
        raw.execute("UPDATE events SET sample_id = 9 WHERE sample_id = 3")
    raw.close()
    with Store(db) as s:
        rep = s.import_file(write_jsonl(tmp_path / "mine.jsonl", [chat(f"mine {i}", "ok") for i in range(12)]))
        ids = [x.id for x in s.samples(range(1, 30)) if x.source_id == rep.source.id]
        goal = s.active_goal().id
        assert min(ids) == 10 and len(ids) == 12
        assert all(s.decision(goal, i).verdict != "drop" for i in ids)


def test_every_sample_id_column_of_the_schema_is_consulted(tmp_path):
    db = project(tmp_path)
    raw = sqlite3.connect(db)
    named = {
        (t, c)
        for (t,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        for c in (r[1] for r in raw.execute(f"PRAGMA table_info({t})"))
        if c == "sample_id" or c == "partner" or (t == "samples" and c == "id")
    }
    raw.close()
    assert named == {(t, c) for t, cols in _SAMPLE_ID_COLUMNS for c in cols}


def test_ids_that_would_overflow_are_refused_and_nothing_changes(tmp_path):
    db = project(tmp_path)
    raw = sqlite3.connect(db)
    with raw:
        raw.execute("UPDATE samples SET id = 9223372036854775806 WHERE id = 3")
    raw.close()
    with Store(db) as s, pytest.raises(StorageError, match="import into a new project"):
        s.import_file(write_jsonl(tmp_path / "mine.jsonl", [chat(f"mine {i}", "ok") for i in range(3)]))
    with Store(db) as s:
        assert s.total_samples() == 3 and len(s.sources()) == 1
