"""A project file from someone else is data, not code: what its schema may hold, and how winnow
connects to it.

A shared project file could carry SQL of its own: a trigger that rewrites `samples.raw` as a
sample is kept, a view named `decisions` in place of the table. SQLite runs those inside
winnow's own statements. Two defences, applied on every open (`review.store.Store`):

1. `harden(conn)` on every connection, before anything reads the file:
   - `PRAGMA trusted_schema = OFF`: a trigger, view, CHECK, DEFAULT, index or generated column in
     the file may no longer call an application-defined SQL function (nor any SQLite marks unsafe);
     SQLite answers "unsafe use of f()" instead of running it.
   - SQLite's defensive mode (`SQLITE_DBCONFIG_DEFENSIVE`: no `writable_schema`, no writes to
     shadow tables or `sqlite_dbpage`, no `journal_mode=OFF`), through `Connection.setconfig`
     where Python has it (3.12+), which also sets `SQLITE_DBCONFIG_TRUSTED_SCHEMA` off.
     Python 3.11 has no way to reach `sqlite3_db_config`: ctypes could call it only with the
     `sqlite3 *` handle read out of CPython's private `pysqlite_Connection` struct (and through a
     variadic C call, whose ABI ctypes does not promise everywhere), so winnow does not try. There
     defensive mode stays off; what covers for it is that winnow itself never issues the pragmas
     and writes it blocks, `trusted_schema = OFF`, and check 2 below, which refuses a file whose
     schema holds anything winnow did not create.
   - `PRAGMA cell_size_check = ON`: a crafted b-tree page is reported as damage rather than read.

2. `problems(conn)`: the file's `sqlite_master` compared with the schema winnow's own migrations
   create. The expected schema is derived from the migrations: those the file records as applied
   (review/migrations.py, in the order it applied them) are run on an in-memory database and its
   `sqlite_master` read back (tables, indexes, triggers, views; their SQL normalised: case,
   whitespace, comments and identifier quoting do not count). For every step in order (an
   up-to-date project) that replay is written down in review/schema_expected.py by
   `python -m review.schema --write` and checked against a fresh one by
   tests/test_schema_expected.py, so no start-up replays it. Every other object, every
   missing one and every one whose SQL differs is a problem; `refusal()` words the first one as
   one line that names it and says what to do. Tables of the analysis (m002) and style (m003)
   modules are created by those migrations, so they are known the same way. The only objects a
   file may hold beyond those are the statistics tables SQLite's own ANALYZE creates.

The comparison reads `sqlite_master` only (never a table's rows), whatever the size of the
project: deriving the expected schema of an older list of applied migrations takes about 10 ms
once per process (and imports sqlite-utils, as migrating does); an up-to-date project's is read
from the generated module; each open after that costs about 0.2 ms more than without the check.
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from .migrations import MIGRATIONS_TABLE, NAMES, SET_NAME, migration_set

# Python 3.12+ names for sqlite3_db_config options (absent on 3.11, which has no setconfig).
_DBCONFIG_OFF_ON = (("SQLITE_DBCONFIG_DEFENSIVE", True), ("SQLITE_DBCONFIG_TRUSTED_SCHEMA", False))


def harden(conn: sqlite3.Connection) -> None:
    """Make a connection treat the file's schema as untrusted (see the module docstring)."""
    setconfig = getattr(conn, "setconfig", None)
    if setconfig is not None:
        for name, value in _DBCONFIG_OFF_ON:
            op = getattr(sqlite3, name, None)
            if op is not None:
                setconfig(op, value)
    conn.execute("PRAGMA trusted_schema = OFF")
    conn.execute("PRAGMA cell_size_check = ON")


# ------------------------------------------------------------------------------- normalised SQL

_TOKEN_PATTERN = r"""
    (?P<string>'(?:[^']|'')*'?)
    | (?P<quoted>"(?:[^"]|"")*"?|\[[^\]]*\]?|`(?:[^`]|``)*`?)
    | (?P<skip>[\ \t\n\f\r]+|--[^\n]*|/\*.*?(?:\*/|\Z))  # SQLite's spaces are ASCII only: U+00A0 is a name
    | (?P<word>[A-Za-z0-9_$\x80-\U0010ffff]+)
    | (?P<other>.)
    """
_PLAIN = re.compile(r"[a-z_][a-z0-9_$]*\Z")
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _lower(s: str) -> str:
    return s.lower() if s.isascii() else s.translate(_ASCII_LOWER)  # SQLite folds ASCII letters only


def normalise(sql: str | None) -> str | None:
    """SQL text as a token sequence where only meaning counts: keywords and identifiers in ASCII
    lower case, identifier quoting ("x", [x], `x`, x) made one, whitespace and comments dropped.
    String literals are kept exactly. The text of an object an up-to-date project holds is
    looked up (review/schema_expected.py records tokenised()'s answer for each), not tokenised."""
    if sql is None:
        return None
    known = _known_sql().get(sql)
    return known if known is not None else tokenised(sql)


@functools.lru_cache(maxsize=4096)
def tokenised(sql: str | None) -> str | None:
    """normalise(sql) computed: the tokeniser itself, which the replay and the generator use."""
    if sql is None:
        return None
    out = []
    for m in _token().finditer(sql):
        kind, text = m.lastgroup, m.group()
        if kind == "skip":
            continue
        if kind == "quoted":
            inner = text[1:-1] if len(text) > 1 and text[-1] == {"[": "]"}.get(text[0], text[0]) else text[1:]
            if text[0] in '"`':
                inner = inner.replace(text[0] * 2, text[0])
            inner = _lower(inner)
            text = inner if _PLAIN.match(inner) else '"' + inner.replace('"', '""') + '"'
        elif kind != "string":
            text = _lower(text)
        out.append(text)
    return " ".join(out)


@functools.cache
def _token() -> re.Pattern[str]:
    return re.compile(_TOKEN_PATTERN, re.S | re.X)  # compiled on first use: ~6 ms


@functools.cache
def _known_sql() -> dict[str, str]:
    """normalise()'s answer for the SQL text of every object an up-to-date project holds, as
    review/schema_expected.py records it (a test recomputes each): opening such a project
    tokenises nothing."""
    from . import schema_expected

    return dict(getattr(schema_expected, "NORMALISED", ()))


# ----------------------------------------------------------------------------- expected schema


@dataclass(frozen=True)
class Entry:
    """One row of sqlite_master, as compared."""

    type: str  # table | index | view | trigger (or whatever else a damaged file holds)
    name: str
    table: str  # tbl_name: the table an index or trigger belongs to
    sql: str | None  # normalised; None for SQLite's automatic indexes

    @property
    def key(self) -> tuple[str, str]:
        return (self.type, _lower(self.name))

    def same(self, other: Entry) -> bool:
        return _lower(self.table) == _lower(other.table) and self.sql == other.sql

    @property
    def signature(self) -> tuple[str, str, str, str | None]:
        return (self.type, _lower(self.name), _lower(self.table), self.sql)


def _entries(conn: sqlite3.Connection, norm: Callable[[str | None], str | None] = normalise) -> list[tuple[Entry, int]]:
    rows = conn.execute("SELECT type, name, tbl_name, rootpage, sql FROM main.sqlite_master").fetchall()
    out = []
    for t, n, tb, r, s in rows:
        sql = norm(s)
        if t == "table" and _lower(str(n)) == _lower(MIGRATIONS_TABLE):
            sql = _bookkeeping(conn)
        out.append((Entry(str(t), str(n), str(tb), sql), r))
    return out


def _bookkeeping(conn: sqlite3.Connection) -> str:
    """sqlite-utils' migrations table, compared by its column names: sqlite-utils writes its CREATE
    TABLE itself, and another release may spell the types differently for a file it made."""
    cols = conn.execute(f"SELECT name FROM pragma_table_info('{MIGRATIONS_TABLE}', 'main')").fetchall()
    return "columns " + ",".join(sorted(_lower(str(c[0])) for c in cols))


@dataclass(frozen=True)
class Expected:
    objects: dict[tuple[str, str], Entry]
    optional: dict[tuple[str, str], Entry]  # may be there or not (ANALYZE's statistics tables)
    signatures: frozenset[tuple[str, str, str, str | None]]  # of `objects`: the quick comparison


@functools.lru_cache(maxsize=16)
def expected(applied: tuple[str, ...]) -> Expected:
    """The schema winnow's migrations create when exactly `applied` ran, in that order (names
    unknown to this winnow are skipped; the caller refuses such a file as written by a newer
    winnow). For every step in order, what an up-to-date project holds, it is read from
    review/schema_expected.py, written by replay() (`python -m review.schema --write`; a test
    replays and compares, so it cannot drift); for any other list, replayed."""
    if applied == NAMES:
        from . import schema_expected as gen

        if tuple(gen.NAMES) == NAMES:
            objects = {e.key: e for e in (Entry(*row) for row in gen.OBJECTS)}
            optional = {e.key: e for e, _ in _statistics_tables() if e.key not in objects}
            return Expected(objects, optional, frozenset(e.signature for e in objects.values()))
    return replay(applied)


def _statistics_tables() -> list[tuple[Entry, int]]:
    """The tables this SQLite's ANALYZE creates (sqlite_stat1, and sqlite_stat4 where it is built
    with it): measured here, not written down, as they depend on how SQLite was compiled."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE TABLE t(a)")
        conn.execute("CREATE INDEX t_a ON t(a)")
        conn.execute("ANALYZE")
        rows = conn.execute("SELECT type, name, tbl_name, rootpage, sql FROM sqlite_master WHERE name LIKE 'sqlite%'")
        return [(Entry(str(t), str(n), str(tb), normalise(s)), r) for t, n, tb, r, s in rows]
    finally:
        conn.close()


def replay(applied: tuple[str, ...]) -> Expected:
    """expected(applied) derived by running those migrations on an in-memory database and reading
    its sqlite_master back (before and after ANALYZE)."""
    from sqlite_utils import Database

    subset = migration_set(applied)
    db = Database(memory=True, execute_plugins=False)
    try:
        if subset.pending(db):
            subset.apply(db)
        else:  # a project file before its first migration ran: at most the empty bookkeeping table
            subset.ensure_migrations_table(db)
        objects = {e.key: e for e, _ in _entries(db.conn, tokenised)}
        db.execute("ANALYZE")
        optional = {e.key: e for e, _ in _entries(db.conn, tokenised) if e.key not in objects}
    finally:
        db.close()
    return Expected(objects, optional, frozenset(e.signature for e in objects.values()))


def applied_migrations(conn: sqlite3.Connection) -> tuple[str, ...]:
    """Names of the winnow migrations the file records as applied, in the order they ran."""
    try:
        rows = conn.execute(
            "SELECT name FROM main._sqlite_migrations WHERE migration_set = ? ORDER BY rowid", (SET_NAME,)
        ).fetchall()
    except sqlite3.OperationalError as e:
        if "no such table" in str(e) or "no such column" in str(e):
            return ()  # the comparison names the table that is missing or not winnow's
        raise
    return tuple(str(r[0]) for r in rows)


# -------------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class Problem:
    what: str  # extra | missing | different | replaced | damaged
    entry: Entry  # the file's object (extra, different, replaced, damaged) or the expected one (missing)
    expected: Entry | None = None  # replaced: the object winnow expects under that name
    detail: str = ""

    def __str__(self) -> str:
        name = json.dumps(self.entry.name, ensure_ascii=False)  # quotes it and escapes control characters
        if self.what == "extra":
            return f"unexpected {self.entry.type} {name}"
        if self.what == "missing":
            return f"{self.entry.type} {name} is missing"
        if self.what == "replaced" and self.expected is not None:
            return f"{name} is a {self.entry.type} where winnow keeps a {self.expected.type}"
        if self.what == "damaged":
            return f"the schema is damaged ({self.detail})"
        return f"{self.entry.type} {name} is not the one winnow creates"


# Dangerous first: code that runs inside winnow's statements, then what replaces winnow's objects.
_ORDER = {"trigger": 0, "view": 1, "table": 2, "index": 3}


def problems(conn: sqlite3.Connection) -> list[Problem]:
    """Every difference between the file's schema and the one winnow's migrations create.

    Reads sqlite_master and the list of applied migrations in one read transaction, so a
    concurrent upgrade by another winnow is seen entirely or not at all."""
    if conn.in_transaction:
        found, applied = _entries(conn), applied_migrations(conn)
    else:
        conn.execute("BEGIN")
        try:
            found, applied = _entries(conn), applied_migrations(conn)
        finally:
            conn.execute("COMMIT")
    known = set(NAMES)
    if any(n not in known for n in applied):
        return []  # written by a newer winnow: refused as such by the caller, before anything runs
    if not found:
        return []  # a new, empty file
    try:
        exp = expected(applied)
    except sqlite3.Error as e:  # e.g. a step recorded before the one that creates the table it alters
        bookkeeping = Entry("table", MIGRATIONS_TABLE, MIGRATIONS_TABLE, None)
        detail = f"its list of applied schema steps, {', '.join(applied)}, is not one winnow writes ({e})"
        return [Problem("damaged", bookkeeping, detail=detail)]
    out: list[Problem] = []
    if {e.signature for e, _ in found} != exp.signatures or len(found) != len(exp.signatures):
        out += _differences([e for e, _ in found], exp)
    out += _damage(found)
    out.sort(key=lambda p: (p.what != "damaged", _ORDER.get(p.entry.type, -1), p.what != "extra", p.entry.name))
    return out


def _differences(found: list[Entry], exp: Expected) -> list[Problem]:
    out: list[Problem] = []
    have = {e.key: e for e in found}
    for e in found:
        want = exp.objects.get(e.key) or exp.optional.get(e.key)
        if want is None:
            other = next((x for x in exp.objects.values() if _lower(x.name) == _lower(e.name)), None)
            out.append(Problem("replaced", e, other) if other else Problem("extra", e))
        elif not e.same(want):
            out.append(Problem("different", e, want))
    replaced = {_lower(p.entry.name) for p in out if p.what == "replaced"}
    for key, want in exp.objects.items():
        if key not in have and _lower(want.name) not in replaced:
            out.append(Problem("missing", want))
    return out


def _damage(found: list[tuple[Entry, int]]) -> list[Problem]:
    """Two tables or indexes on one b-tree page (or on none): only an edit of sqlite_master does that."""
    out: list[Problem] = []
    pages: dict[int, Entry] = {}
    for e, root in found:
        if e.type in ("table", "index") and not (e.sql or "").startswith("create virtual"):  # a virtual has none
            if not isinstance(root, int) or root <= 0:
                out.append(Problem("damaged", e, detail=f"{e.type} {json.dumps(e.name)} has no page"))
            elif root in pages:
                first = pages[root]
                detail = f"{first.type} {json.dumps(first.name)} and {e.type} {json.dumps(e.name)} share page {root}"
                out.append(Problem("damaged", e, detail=detail))
            else:
                pages[root] = e
    return out


_SHELL_SAFE = re.compile(r"[A-Za-z0-9_./-]+\Z")


def refusal(path: object, found: list[Problem]) -> str:
    """One line: the first problem, named, what it means and what to do (and how many more)."""
    p = found[0]
    why = "this project file was changed outside winnow"
    if p.what == "extra" and p.entry.type in _ORDER:
        todo = "open a copy made with winnow, or remove it with sqlite3 if you trust its author"
        if _PLAIN.match(p.entry.name) and _SHELL_SAFE.match(str(path)):
            todo += f" (sqlite3 {path} 'DROP {p.entry.type.upper()} {p.entry.name}')"
    elif p.what == "missing" and p.entry.type == "index" and p.entry.sql is not None:
        todo = "open a copy made with winnow, or recreate it with sqlite3 if you trust its author"
        if "'" not in p.entry.sql and _SHELL_SAFE.match(str(path)):
            todo += f" (sqlite3 {path} '{p.entry.sql}')"
    elif p.what == "damaged":
        why = "this project file was changed outside winnow, or is corrupt"
        todo = "open a copy made with winnow (ask its author for one)"
    else:
        todo = "open a copy made with winnow (ask its author for one)"
    more = f" (and {len(found) - 1} more difference{'s' if len(found) > 2 else ''})" if len(found) > 1 else ""
    return f"{path}: {p}{more} — {why}; {todo}"


# ------------------------------------------------------------------------- the generated module


def replayed_sql(applied: tuple[str, ...]) -> list[str]:
    """The SQL text, as stored in sqlite_master, of every object `applied` creates (and of the
    tables ANALYZE adds), from a replay on an in-memory database."""
    from sqlite_utils import Database

    db = Database(memory=True, execute_plugins=False)
    try:
        migration_set(applied).apply(db)
        db.execute("ANALYZE")
        return sorted({r[0] for r in db.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")})
    finally:
        db.close()


def generated_module(exp: Expected, sql: list[str]) -> str:
    """review/schema_expected.py's text for `exp`, the schema of every step (replay(NAMES)), and
    `sql`, its objects' SQL as stored (replayed_sql(NAMES))."""
    rows = sorted((e.type, e.name, e.table, e.sql) for e in exp.objects.values())
    lines = [
        '"""The schema winnow\'s migrations create when every step ran, in order: what an up-to-date',
        "project file holds (review/schema.py reads it instead of replaying every migration at each",
        "start). Generated: do not edit; `python -m review.schema --write` (or `make schema`) rewrites",
        'it from a replay, and tests/test_schema_expected.py fails when it differs from one."""',
        "",
        "# fmt: off",
        f"NAMES = {NAMES!r}",
        "",
        "# (type, name, tbl_name, normalised SQL) of each object, as review.schema.Entry",
        "OBJECTS = [",
    ]
    lines += [f"    {row!r}," for row in rows]
    lines += [
        "]",
        "",
        "# (SQL text as sqlite_master stores it, what review.schema.normalise makes of it)",
        "NORMALISED = [",
    ]
    lines += [f"    {(text, tokenised(text))!r}," for text in sql]
    lines += ["]", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(
        prog="python -m review.schema",
        description="Write review/schema_expected.py: the schema of every migration, from a replay.",
    )
    parser.add_argument(
        "--write", action="store_true", help="rewrite the module (without it: say whether it is current)"
    )
    args = parser.parse_args(argv)
    path = Path(__file__).with_name("schema_expected.py")
    text = generated_module(replay(NAMES), replayed_sql(NAMES))
    current = path.exists() and path.read_text(encoding="utf-8") == text
    if args.write:
        if not current:
            path.write_text(text, encoding="utf-8")
        print(f"{path}: {'unchanged' if current else 'written'}")
        return 0
    print(f"{path}: {'current' if current else 'out of date: run python -m review.schema --write'}")
    return 0 if current else 1


if __name__ == "__main__":
    raise SystemExit(main())
