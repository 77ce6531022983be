"""A project file from someone else is data, not code (issue 12 item 5).

Every file here is a real project made by winnow, then edited with plain sqlite3 the way a hostile
or careless author would: a trigger, a view in place of a table, an extra table, a missing or
changed index, a changed table. winnow must refuse it at open, naming the object, and leave the
file exactly as it was; a project winnow made (analysis and style tables filled, an older schema)
must still open.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest
from builders import chat, write_jsonl
from click.testing import CliRunner
from sqlite_utils import Database

from review import schema
from review.migrations import NAMES, migrations
from review.store import Change, ProjectError, Store
from tui.cli import cli

N = 60


@pytest.fixture
def proj(tmp_path) -> Path:
    """A project of N samples with one goal; samples 1..50 kept."""
    src = write_jsonl(tmp_path / "train.jsonl", [chat(f"Question {i}?", f"Answer {i}.") for i in range(1, N + 1)])
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
        g, _ = store.add_goal("Answer briefly.")
        store.apply(g.id, [Change(i, "keep") for i in range(1, 51)], kind="batch")
    return db


def edit(db: Path, *statements: str) -> None:
    """Change the file outside winnow, as `sqlite3 p.db '...'` would."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        for s in statements:
            conn.execute(s)
    finally:
        conn.close()


def fingerprint(db: Path) -> dict[str, str | None]:
    """The bytes of the project file and of its side files (None: not there)."""
    out = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = Path(str(db) + suffix)
        out[suffix] = hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None
    return out


def cli_run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def assert_refused(db: Path, *needles: str) -> str:
    """Opening refuses with one line naming the object; stats, export and goal add refuse the same
    way, with no traceback and no output file; the file is exactly as before."""
    before = fingerprint(db)
    with pytest.raises(ProjectError) as e:
        Store(db, create=False)
    message = str(e.value)
    assert "\n" not in message
    for n in needles:
        assert n in message, message
    assert message.startswith(f"{db}: "), message
    out = db.parent / "out.jsonl"
    for args in (
        ["stats", "--db", str(db)],
        ["export", "--db", str(db), "-o", str(out)],
        ["goal", "add", "Another goal.", "--db", str(db)],
    ):
        r = cli_run(*args)
        assert r.exit_code == 2, (args, r.output)
        assert needles[0] in r.output and "Traceback" not in r.output, r.output
    assert not out.exists()
    assert fingerprint(db) == before
    return message


# ----------------------------------------------------------------------------------- attacks


def test_a_trigger_that_rewrites_raw_on_keep_is_refused_at_open(proj):
    original = edit_free_raw(proj, 55)
    edit(
        proj,
        "CREATE TRIGGER t_keep AFTER INSERT ON decisions BEGIN "
        'UPDATE samples SET raw = \'{"messages": [{"role": "user", "content": "evil"}]}\' '
        "WHERE id = new.sample_id; END",
        "CREATE TRIGGER t_keep2 AFTER UPDATE ON decisions BEGIN "
        "UPDATE samples SET raw = 'evil' WHERE id = new.sample_id; END",
    )
    message = assert_refused(proj, 'unexpected trigger "t_keep', "changed outside winnow")
    assert "(and 1 more difference)" in message
    assert edit_free_raw(proj, 55) == original  # nothing ran


def edit_free_raw(db: Path, sample_id: int) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT raw FROM samples WHERE id = ?", (sample_id,)).fetchone()[0]
    finally:
        conn.close()


def test_a_view_shadowing_the_decisions_table_is_refused(proj):
    # The attack: stats (tallies) say 50 kept, the "decisions" the export reads say 20.
    edit(
        proj,
        "ALTER TABLE decisions RENAME TO decisions_real",
        "CREATE VIEW decisions AS SELECT * FROM decisions_real WHERE sample_id <= 20",
    )
    assert_refused(proj, '"decisions" is a view where winnow keeps a table')


def test_an_extra_table_and_an_extra_view_are_refused(proj):
    edit(proj, "CREATE TABLE notes_by_author (x TEXT)")
    assert_refused(proj, 'unexpected table "notes_by_author"', "DROP TABLE notes_by_author")
    edit(proj, "DROP TABLE notes_by_author", "CREATE VIEW kept AS SELECT 1")
    assert_refused(proj, 'unexpected view "kept"')


def test_a_missing_index_is_refused(proj):
    edit(proj, "DROP INDEX samples_prompt_hash")
    message = assert_refused(proj, 'index "samples_prompt_hash" is missing')
    assert "create index samples_prompt_hash on samples" in message  # how to put it back


def test_a_changed_index_is_refused(proj):
    edit(proj, "DROP INDEX decisions_verdict", "CREATE INDEX decisions_verdict ON decisions(verdict)")
    assert_refused(proj, 'index "decisions_verdict" is not the one winnow creates')


def test_a_changed_table_is_refused(proj):
    edit(proj, "ALTER TABLE samples ADD COLUMN shown TEXT")
    assert_refused(proj, 'table "samples" is not the one winnow creates')


def test_a_table_pointed_at_another_tables_pages_is_refused(proj):
    # Same SQL, but `decisions` now reads the b-tree of `tallies`: only a sqlite_master edit does this.
    edit(
        proj,
        "PRAGMA writable_schema = ON",
        "UPDATE sqlite_master SET rootpage = (SELECT rootpage FROM sqlite_master WHERE name = 'tallies') "
        "WHERE name = 'decisions'",
    )
    assert_refused(proj, "the schema is damaged", '"tallies"', '"decisions"', "share page")


def test_migrations_recorded_in_an_order_winnow_never_applies_are_refused(proj):
    edit(proj, "UPDATE _sqlite_migrations SET id = id + 100, rowid = rowid + 100 WHERE name = 'm001_initial'")
    assert_refused(proj, "the schema is damaged", "is not one winnow writes")


def test_a_refused_file_in_rollback_journal_mode_is_left_exactly_as_it_was(proj):
    # Switching to WAL rewrites the header: that must not happen before the check.
    edit(proj, "PRAGMA journal_mode = DELETE", "CREATE TRIGGER t AFTER INSERT ON events BEGIN SELECT 1; END")
    assert_refused(proj, 'unexpected trigger "t"')
    conn = sqlite3.connect(f"file:{proj}?mode=ro", uri=True)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()


def test_a_hostile_name_is_quoted_and_escaped(proj):
    edit(proj, 'CREATE TABLE "x\x1b[31m [bold]" (a)')
    message = assert_refused(proj, 'unexpected table "x\\u001b[31m [bold]"')
    assert "\x1b" not in message and "DROP TABLE" not in message  # no command built from such a name


def test_trusted_schema_off_stops_functions_in_triggers_and_views(proj):
    """Objects made while winnow has the file open (so the open-time check cannot see them) still
    cannot call application functions from the schema."""
    calls = []
    with Store(proj) as store:
        assert store.conn.execute("PRAGMA trusted_schema").fetchone()[0] == 0
        if hasattr(store.conn, "getconfig"):  # Python 3.12+: defensive mode is reachable, and on
            assert store.conn.getconfig(sqlite3.SQLITE_DBCONFIG_DEFENSIVE)  # type: ignore[attr-defined]
        store.conn.create_function("probe", 1, lambda x: calls.append(x) or "evil")
        edit(
            proj,
            "CREATE VIEW v AS SELECT probe(raw) FROM samples",
            "CREATE TRIGGER t AFTER INSERT ON events BEGIN UPDATE samples SET raw = probe(raw); END",
        )
        with pytest.raises(sqlite3.OperationalError, match=r"unsafe use of probe\(\)"):
            store.conn.execute("SELECT * FROM v").fetchall()
        with pytest.raises(sqlite3.OperationalError, match=r"unsafe use of probe\(\)"):
            store.apply(1, [Change(55, "keep")])
        assert store.decision(1, 55).verdict is None  # rolled back, nothing half-written
    assert calls == []
    assert "evil" not in edit_free_raw(proj, 1)


# -------------------------------------------------------------------------------- what opens


def test_a_legit_project_with_analysis_and_style_results_opens(proj, tmp_path):
    from review.analysis.run import run_analysis
    from review.embed import FakeEmbedder
    from review.style.run import run_style_analysis

    run_analysis(proj, detectors=("exact", "lexical"), embedder=FakeEmbedder())
    run_style_analysis(proj)
    with Store(proj) as store:
        assert store.conn.execute("SELECT count(*) FROM style_samples").fetchone()[0] == N
        assert store.conn.execute("SELECT count(*) FROM analysis_texts").fetchone()[0] > 0
    r = cli_run("export", "--db", str(proj), "-o", str(tmp_path / "kept.jsonl"))
    assert r.exit_code == 0, r.output
    edit(proj, "ANALYZE")  # SQLite's own statistics tables are not winnow's, but harmless
    before = fingerprint(proj)
    with Store(proj, create=False) as store:
        assert store.counts(1).kept == 50
        assert store.conn.execute("PRAGMA trusted_schema").fetchone()[0] == 0  # opened hardened
    assert fingerprint(proj)[""] == before[""]


def test_formatting_of_the_schema_sql_does_not_count():
    assert schema.normalise('CREATE TABLE "a" ( [b]  TEXT, `c d` INT -- note\n)') == schema.normalise(
        'create table a(b text,\n"c d" int)'
    )
    assert schema.normalise("CREATE TABLE a (b TEXT DEFAULT 'X')") != schema.normalise(
        "CREATE TABLE a (b TEXT DEFAULT 'x')"
    )
    assert schema.normalise("CREATE TABLE a (b)") != schema.normalise("CREATE TABLE ab")


@pytest.mark.parametrize("k", range(1, len(NAMES)))
def test_an_older_project_opens_and_migrates_but_is_checked_first(tmp_path, k):
    """A file as an older winnow wrote it (the first k migrations) opens and upgrades; one with a
    trigger is refused before the upgrade runs (the check is against exactly those k)."""
    names = list(NAMES)
    db = tmp_path / "old.db"
    old = Database(db)
    migrations.apply(old, stop_before=names[k])
    old.execute("INSERT INTO goals (sentence, hypothesis, created_at) VALUES ('Keep it short.', '', 'x')")
    old.conn.commit()
    old.close()
    bad = tmp_path / "bad.db"
    bad.write_bytes(db.read_bytes())
    edit(bad, "CREATE TRIGGER t_goal AFTER UPDATE ON goals BEGIN SELECT 1; END")
    before = fingerprint(bad)
    with pytest.raises(ProjectError, match='unexpected trigger "t_goal"'):
        Store(bad)
    assert fingerprint(bad) == before
    with Store(db) as store:
        assert [m.name for m in migrations.applied(store.db)] == names
        assert store.goal(1).sentence == "Keep it short."
        assert store.conn.execute("PRAGMA trusted_schema").fetchone()[0] == 0
    with Store(db) as store:  # and the upgraded file passes the check as it stands
        assert json.loads(json.dumps(store.meta("schema"))) == ",".join(names)


def test_the_migrations_table_of_another_sqlite_utils_release_opens(tmp_path: Path) -> None:
    """sqlite-utils writes its bookkeeping table's CREATE itself; a file made by a release that
    spells its column types otherwise is still winnow's (compared by column names)."""
    db = tmp_path / "p.db"
    with Store(db):
        pass
    conn = sqlite3.connect(db)
    cols = [r[1] for r in conn.execute("PRAGMA table_info(_sqlite_migrations)")]
    rows = conn.execute("SELECT * FROM _sqlite_migrations").fetchall()
    indexes = [r[0] for r in conn.execute("SELECT sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")]
    with conn:
        conn.execute("ALTER TABLE _sqlite_migrations RENAME TO old_m")
        conn.execute(f"CREATE TABLE _sqlite_migrations ({', '.join(f'{c} BLOB' for c in cols)})")
        conn.executemany(f"INSERT INTO _sqlite_migrations VALUES ({', '.join('?' * len(cols))})", rows)
        conn.execute("DROP TABLE old_m")
        for sql in indexes:
            if "_sqlite_migrations" in sql:
                conn.execute(sql)
    conn.close()
    with Store(db) as s:
        assert s.conn.execute("SELECT count(*) FROM goals").fetchone() is not None
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("ALTER TABLE _sqlite_migrations ADD COLUMN evil TEXT")
    conn.close()
    with pytest.raises(ProjectError, match="_sqlite_migrations"):
        Store(db)


@pytest.mark.parametrize("space", ["\u00a0", "\u2003", "\u3000"])
def test_a_non_ascii_space_is_part_of_a_name_as_sqlite_reads_it(tmp_path: Path, space: str) -> None:
    """SQLite's tokenizer takes only ASCII spaces as spaces; every byte >= 0x80 belongs to a name.
    `value TEXT <NBSP>NOT NULL` is a column of type "TEXT \\xa0NOT" without NOT NULL to SQLite: it
    must not read as winnow's `value TEXT NOT NULL` (found by the red team)."""
    db = tmp_path / "p.db"
    with Store(db):
        pass
    conn = sqlite3.connect(db, isolation_level=None)
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'style_state'").fetchone()[0]
    assert "value TEXT NOT NULL" in sql
    conn.execute("DROP TABLE style_state")
    conn.execute(sql.replace("value TEXT NOT NULL", f"value TEXT {space}NOT NULL"))
    conn.execute("INSERT INTO style_state VALUES ('k', NULL)")  # the constraint is gone indeed
    conn.close()
    with pytest.raises(ProjectError, match="style_state"):
        Store(db)
    assert schema.normalise(f"a {space}b") != schema.normalise("a b")


def test_a_refused_project_shipped_with_its_wal_is_left_as_it_was(tmp_path: Path) -> None:
    """p.db plus a p.db-wal whose frames add a trigger: the trigger is seen and refused, and both
    files stay byte for byte (the last read-write connection to close would fold the WAL into
    p.db and delete it; found by the red team)."""
    made = tmp_path / "made.db"
    with Store(made):
        pass
    conn = sqlite3.connect(made, isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TRIGGER t_keep AFTER UPDATE ON decisions BEGIN UPDATE samples SET raw = 'x'; END")
    ship = tmp_path / "ship"
    ship.mkdir()
    (ship / "p.db").write_bytes(made.read_bytes())
    (ship / "p.db-wal").write_bytes(Path(str(made) + "-wal").read_bytes())
    conn.close()
    before = {n: (ship / n).read_bytes() for n in ("p.db", "p.db-wal")}
    assert len(before["p.db-wal"]) > 0
    with pytest.raises(ProjectError, match="t_keep"):
        Store(ship / "p.db")
    r = CliRunner().invoke(cli, ["stats", "--db", str(ship / "p.db")])
    assert r.exit_code != 0 and "t_keep" in r.output
    assert {n: (ship / n).read_bytes() for n in ("p.db", "p.db-wal")} == before
