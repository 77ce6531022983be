"""review/migrations.py: the steps in our own order through sqlite-utils' public API, and scripts
split into statements by SQLite's own idea of where a statement ends."""

from __future__ import annotations

import sqlite3

import pytest
from sqlite_utils import Database

from review.migrations import NAMES, STEPS, migration_set, migrations, run_script, statements

TRICKY = """
CREATE TABLE a (
    b TEXT DEFAULT ';',          -- a default holding a semicolon; and this comment too
    c TEXT DEFAULT '--not a comment',
    "d;e" INTEGER
);
-- a whole-line comment; with a semicolon
CREATE TRIGGER t AFTER INSERT ON a BEGIN
    UPDATE a SET c = 'x;y' WHERE rowid = new.rowid;
    SELECT 1;
END;
CREATE TABLE [f;g] (h /* a block comment; -- with both */ TEXT);
"""


def test_a_semicolon_in_a_string_a_name_a_comment_or_a_trigger_does_not_split_a_statement():
    got = [" ".join(s.split()) for s in statements(TRICKY)]
    assert got == [
        "CREATE TABLE a ( b TEXT DEFAULT ';', c TEXT DEFAULT '--not a comment', \"d;e\" INTEGER )",
        "CREATE TRIGGER t AFTER INSERT ON a BEGIN UPDATE a SET c = 'x;y' WHERE rowid = new.rowid; SELECT 1; END",
        "CREATE TABLE [f;g] (h /* a block comment; -- with both */ TEXT)",
    ]


def test_run_script_creates_what_the_script_says_inside_the_callers_transaction():
    db = Database(memory=True)
    db.execute("BEGIN")
    run_script(db, TRICKY)
    assert db.conn.in_transaction  # executescript() would have committed it
    db.execute("INSERT INTO a (c) VALUES ('z')")
    assert db.execute("SELECT b, c, [d;e] FROM a").fetchall() == [(";", "x;y", None)]
    assert db.execute("SELECT count(*) FROM sqlite_master WHERE name IN ('a', 't', 'f;g')").fetchone()[0] == 3
    db.execute("ROLLBACK")
    assert db.table_names() == []


def test_line_comments_are_not_stored_in_the_schema_and_the_rest_is_kept_as_written():
    db = Database(memory=True)
    run_script(db, "CREATE TABLE k (\n    a TEXT,   -- what a is\n    b TEXT DEFAULT '--'\n);")
    sql = db.execute("SELECT sql FROM sqlite_master WHERE name = 'k'").fetchone()[0]
    assert sql == "CREATE TABLE k (\n    a TEXT,   \n    b TEXT DEFAULT '--'\n)"


def test_an_incomplete_last_statement_is_an_error_not_skipped():
    db = Database(memory=True)
    with pytest.raises(sqlite3.OperationalError):
        run_script(db, "CREATE TABLE ok (a); CREATE TABLE broken (")


def test_our_list_of_steps_is_the_order_sqlite_utils_applies():
    assert NAMES == tuple(fn.__name__ for fn in STEPS)
    assert len(set(NAMES)) == len(NAMES)
    assert [m.name for m in migrations.pending(Database(memory=True))] == list(NAMES)
    db = Database(memory=True)
    migrations.apply(db)
    assert [m.name for m in migrations.applied(db)] == list(NAMES)


def test_a_migration_set_holds_exactly_the_named_steps_in_that_order():
    first_two = migration_set([NAMES[1], NAMES[0], "m999_from_a_newer_winnow", NAMES[0]])
    assert first_two.name == migrations.name
    db = Database(memory=True)
    assert [m.name for m in first_two.pending(db)] == [NAMES[1], NAMES[0]]
    just_one = migration_set([NAMES[0]])
    just_one.apply(db)
    assert [m.name for m in just_one.applied(db)] == [NAMES[0]]
    assert [m.name for m in migrations.pending(db)] == list(NAMES[1:])
