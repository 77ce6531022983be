"""review/schema_expected.py is a replay of every migration written down (it can never drift from
one), opening an up-to-date project reads it instead of replaying, and the bookkeeping table is
read with plain sqlite3 exactly as sqlite-utils' migrations read it. Real SQLite files."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlite_utils import Database

from review import schema, schema_expected
from review.migrations import NAMES, applied_names, migration_set, migrations, pending_names
from review.store import Store

ROOT = Path(__file__).resolve().parents[1]


def test_the_generated_module_is_what_a_replay_of_every_migration_writes():
    replayed = schema.replay(NAMES)
    assert tuple(schema_expected.NAMES) == NAMES
    assert {schema.Entry(*row).signature for row in schema_expected.OBJECTS} == replayed.signatures
    sql = schema.replayed_sql(NAMES)
    assert [text for text, _ in schema_expected.NORMALISED] == sql
    for text, normalised in schema_expected.NORMALISED:
        assert normalised == schema.tokenised(text)
    text = (ROOT / "review" / "schema_expected.py").read_text(encoding="utf-8")
    assert text == schema.generated_module(replayed, sql), "run: python -m review.schema --write"


def test_the_sql_of_an_up_to_date_project_is_looked_up_and_any_other_tokenised(tmp_path):
    path = tmp_path / "p.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    stored = [r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")]
    conn.close()
    known = dict(schema_expected.NORMALISED)
    assert stored and all(text in known for text in stored)  # every object's text is recorded
    assert all(schema.normalise(text) == schema.tokenised(text) for text in stored)
    odd = 'CREATE  TABLE "Samples" ( id  INTEGER )  -- spaced'
    assert odd not in known and schema.normalise(odd) == "create table samples ( id integer )"


def test_the_expected_schema_of_every_step_is_the_replays_and_other_lists_are_replayed():
    full = schema.expected.__wrapped__(NAMES)
    replayed = schema.replay(NAMES)
    assert full.objects == replayed.objects
    assert full.optional == replayed.optional  # ANALYZE's tables, measured on this SQLite
    assert full.signatures == replayed.signatures
    first_two = schema.expected.__wrapped__(NAMES[:2])
    assert first_two == schema.replay(NAMES[:2])
    assert first_two.signatures != full.signatures


def test_the_module_command_says_whether_the_generated_module_is_current():
    out = subprocess.run([sys.executable, "-m", "review.schema"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "current" in out.stdout


def _bookkeeping_files(tmp: Path) -> list[tuple[str, Path]]:
    """Project-like files whose `_sqlite_migrations` says different things."""
    made: list[tuple[str, Path]] = []

    def new(label: str, sql: str = "", upto: int | None = None) -> None:
        path = tmp / f"{len(made)}.db"
        db = Database(path)
        if upto is not None:
            migration_set(NAMES[:upto]).apply(db)
        for statement in filter(None, (s.strip() for s in sql.split(";"))):
            db.execute(statement)
        db.close()
        made.append((label, path))

    new("empty")
    new("every step", upto=len(NAMES))
    new("the first three", upto=3)
    new("no steps yet", upto=0)
    new(
        "another set's rows",
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('x', 'm999', '')",
        upto=2,
    )
    new(
        "rows out of order",
        "CREATE TABLE _sqlite_migrations (id INTEGER PRIMARY KEY, migration_set TEXT, name TEXT, applied_at TEXT);"
        "INSERT INTO _sqlite_migrations VALUES (5, 'winnow', 'm002_analysis', ''), (2, 'winnow', 'm001_initial', '')",
    )
    new(
        "a view of that name",
        "CREATE VIEW _sqlite_migrations AS SELECT 1 AS id, 'winnow' AS migration_set, 'm001_initial' AS name, '' AS applied_at",
    )
    new(
        "the name in capitals",
        "CREATE TABLE _SQLITE_MIGRATIONS (id INTEGER PRIMARY KEY, migration_set TEXT, name TEXT, applied_at TEXT);"
        "INSERT INTO _SQLITE_MIGRATIONS VALUES (1, 'winnow', 'm001_initial', '')",
    )
    new(
        "a number for a name",
        "CREATE TABLE _sqlite_migrations (id INTEGER PRIMARY KEY, migration_set TEXT, name, applied_at TEXT);"
        "INSERT INTO _sqlite_migrations VALUES (1, 'winnow', 7, '')",
    )
    new(
        "no migration_set column",
        "CREATE TABLE _sqlite_migrations (id INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)",
    )
    return made


def test_applied_and_pending_read_with_sqlite3_are_what_sqlite_utils_reads(tmp_path):
    failed = []
    for label, path in _bookkeeping_files(tmp_path):
        db = Database(path)
        conn = sqlite3.connect(path)
        schema.harden(conn)
        try:
            try:
                want = [m.name for m in migrations.applied(db)], [m.name for m in migrations.pending(db)]
            except sqlite3.Error as e:  # refused as the file's own error where sqlite-utils fails
                with pytest.raises(type(e), match=str(e)):
                    applied_names(conn)
                failed.append(label)
                continue
            assert (applied_names(conn), pending_names(conn)) == want, label
        finally:
            conn.close()
            db.close()
    assert failed == ["no migration_set column"]


def test_opening_an_up_to_date_project_imports_neither_sqlite_utils_nor_numpy(tmp_path):
    path = tmp_path / "p.db"
    Store(path).close()  # created and migrated here (that imports sqlite-utils)
    code = (
        "import json, sys\n"
        "from review.store import Store\n"
        f"s = Store({str(path)!r}, create=False)\n"
        "assert s.meta('schema')\n"
        "print(json.dumps([m for m in ('sqlite_utils', 'numpy') if m in sys.modules]))\n"
        "s.db\n"  # the helpers still there, on first use
        "print(json.dumps('sqlite_utils' in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr[-3000:]
    assert [json.loads(line) for line in out.stdout.split()] == [[], True]


def test_an_older_project_still_migrates_through_sqlite_utils(tmp_path):
    path = tmp_path / "old.db"
    db = Database(path)
    migration_set(NAMES[:3]).apply(db)
    db.close()
    with Store(path, create=False) as store:
        assert [m.name for m in migrations.applied(store.db)] == list(NAMES)
        assert store.meta("schema") == ",".join(NAMES)
