"""untrusted-project: a shared project file edited by a hostile (or careless) author.

One real project is made the way a user makes one (import, a goal, decisions, an export). Each
trial copies it and changes its schema with plain sqlite3, drawn at random from what an author
could do: a trigger (on a random table, BEFORE or AFTER, on INSERT, UPDATE or DELETE, rewriting
`samples.raw`), a view put in place of a table (the table renamed away), an extra table, view or
index, an index dropped, an index recreated under its own name on other columns, a table given
an extra column; sometimes under an odd name (quotes, spaces, an escape sequence), and left in WAL
or in rollback-journal mode (where opening would switch it to WAL). Then:

* `Store(p)` raises ProjectError, one line naming the object;
* `winnow stats`, `winnow export -o OUT` and `winnow goal add` (the real click commands, in
  process) exit 2 with that line, no traceback, and no OUT is written;
* `winnow open p` (a real process, so the review screen could start if it were not refused)
  exits 2 with the same line before any screen is drawn;
* afterwards the project file's bytes (and its -wal/-shm/-journal, present or not) are exactly
  as they were before the first command.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from reliability import Outcome, Scenario
from reliability.project import build_project, records
from reliability.term import WINNOW, winnow_env
from review.store import Change, ProjectError, Store

TIMEOUT = 60  # one `winnow open`, on a shared CI machine
TABLES = ("decisions", "events", "actions", "samples", "tallies", "goals", "goal_state", "sources", "meta")
ODD_NAMES = ('t"quoted"', "two words", "x\x1b[31mred", "[bold]markup[/bold]", "Ünïcode")

Attack = Callable[[random.Random, sqlite3.Connection], tuple[str, str]]  # -> (what it did, needle)


def _name(rng: random.Random, prefix: str) -> str:
    return rng.choice(ODD_NAMES) if rng.random() < 0.25 else f"{prefix}_{rng.randrange(1000)}"


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _shown(name: str) -> str:
    return json.dumps(name, ensure_ascii=False)  # how the refusal quotes a name


def trigger(rng: random.Random, conn: sqlite3.Connection) -> tuple[str, str]:
    name, table = _name(rng, "t"), rng.choice(TABLES)
    when, event = rng.choice(("BEFORE", "AFTER")), rng.choice(("INSERT", "UPDATE", "DELETE"))
    conn.execute(
        f"CREATE TRIGGER {_q(name)} {when} {event} ON {table} BEGIN "
        'UPDATE samples SET raw = \'{"messages": [{"role": "user", "content": "injected"}]}\'; END'
    )
    return f"trigger {name!r} {when} {event} ON {table}", f"unexpected trigger {_shown(name)}"


def view_in_place(rng: random.Random, conn: sqlite3.Connection) -> tuple[str, str]:
    table = rng.choice(("decisions", "tallies", "goals", "samples", "events"))
    conn.execute(f"ALTER TABLE {table} RENAME TO {table}_real")
    conn.execute(f"CREATE VIEW {table} AS SELECT * FROM {table}_real LIMIT 20")
    return f"view in place of {table}", f"{_shown(table)} is a view where winnow keeps a table"


def extra_table(rng: random.Random, conn: sqlite3.Connection) -> tuple[str, str]:
    name = _name(rng, "notes")
    conn.execute(f"CREATE TABLE {_q(name)} (a TEXT, b INTEGER)")
    return f"extra table {name!r}", f"unexpected table {_shown(name)}"


def extra_view(rng: random.Random, conn: sqlite3.Connection) -> tuple[str, str]:
    name = _name(rng, "v")
    conn.execute(f"CREATE VIEW {_q(name)} AS SELECT id, raw FROM samples")
    return f"extra view {name!r}", f"unexpected view {_shown(name)}"


def extra_index(rng: random.Random, conn: sqlite3.Connection) -> tuple[str, str]:
    name = _name(rng, "i")
    conn.execute(f"CREATE INDEX {_q(name)} ON samples(raw)")
    return f"extra index {name!r}", f"unexpected index {_shown(name)}"


def _indexes(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    rows = conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
    return sorted((str(n), str(t)) for n, t in rows)


def dropped_index(rng: random.Random, conn: sqlite3.Connection) -> tuple[str, str]:
    name, _ = rng.choice(_indexes(conn))
    conn.execute(f"DROP INDEX {_q(name)}")
    return f"dropped index {name}", f"index {_shown(name)} is missing"


def changed_index(rng: random.Random, conn: sqlite3.Connection) -> tuple[str, str]:
    name, table = rng.choice(_indexes(conn))
    cols = [r[1] for r in conn.execute(f"PRAGMA table_info({_q(table)})")]
    own = [r[2] for r in conn.execute(f"PRAGMA index_info({_q(name)})")]
    conn.execute(f"DROP INDEX {_q(name)}")
    how = rng.choice(("columns", "unique", "partial"))
    if how == "columns":
        # another column than the index had: the same one would recreate winnow's own index
        # (it did, style_samples_answer on answer_key: a trial that tampered with nothing)
        others = [c for c in cols if c not in own] or cols
        conn.execute(f"CREATE INDEX {_q(name)} ON {_q(table)}({_q(rng.choice(others))})")
    elif how == "unique":  # over every column (the primary key among them), so the data allows it
        conn.execute(f"CREATE UNIQUE INDEX {_q(name)} ON {_q(table)}({', '.join(_q(c) for c in cols)})")
    else:
        conn.execute(f"CREATE INDEX {_q(name)} ON {_q(table)}({_q(cols[0])}) WHERE {_q(cols[0])} IS NOT NULL")
    return f"index {name} recreated ({how})", f"index {_shown(name)} is not the one winnow creates"


def altered_table(rng: random.Random, conn: sqlite3.Connection) -> tuple[str, str]:
    table = rng.choice(TABLES)
    conn.execute(f"ALTER TABLE {table} ADD COLUMN shown TEXT DEFAULT 'x'")
    return f"column added to {table}", f"table {_shown(table)} is not the one winnow creates"


ATTACKS: list[Attack] = [
    trigger,
    view_in_place,
    extra_table,
    extra_view,
    extra_index,
    dropped_index,
    changed_index,
    altered_table,
]


def fingerprint(db: Path) -> dict[str, str | None]:
    out = {}
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = Path(str(db) + suffix)
        out[suffix] = hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None
    return out


def base_project(work: Path, rng: random.Random) -> Path:
    db = build_project(work / "base.db", records(40, rng, long_every=0))
    with Store(db) as store:
        store.apply(1, [Change(i, "keep") for i in range(1, 31)], kind="batch")
        store.apply(1, [Change(i, "drop", "off-goal") for i in range(31, 36)], kind="batch")
    res = CliRunner().invoke(_cli(), ["export", "--db", str(db), "-o", str(work / "first.jsonl")])
    if res.exit_code != 0:
        raise RuntimeError(f"the base project's export failed: {res.output}")
    return db


def _cli():
    from tui.cli import cli

    return cli


def trial(out: Outcome, base: Path, work: Path, rng: random.Random, i: int) -> str:
    tmp = work / f"t{i}"
    tmp.mkdir()
    db = tmp / "p.db"
    shutil.copy(base, db)
    attack = rng.choice(ATTACKS)
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        journal = rng.choice(("wal", "delete"))
        conn.execute(f"PRAGMA journal_mode = {journal}")
        did, needle = attack(rng, conn)
    finally:
        conn.close()
    what = f"trial {i} ({did}, {journal} journal)"
    before = fingerprint(db)

    try:
        Store(db, create=False).close()
        out.fail(f"{what}: Store() opened it")
    except ProjectError as e:
        if needle not in str(e) or "\n" in str(e):
            out.fail(f"{what}: Store() refused with {str(e)!r}, which does not name it as {needle!r}")

    export_to = tmp / "out.jsonl"
    runner = CliRunner()
    for args in (
        ["stats", "--db", str(db)],
        ["export", "--db", str(db), "-o", str(export_to)],
        ["goal", "add", "Answer in French.", "--db", str(db)],
    ):
        res = runner.invoke(_cli(), args)
        text = res.output + (repr(res.exception) if res.exception and res.exit_code != 2 else "")
        if res.exit_code != 2 or needle not in res.output or "Traceback" in text:
            out.fail(
                f"{what}: `winnow {args[0]}{' ' + args[1] if args[0] == 'goal' else ''}` exit {res.exit_code}: {text[-300:]!r}"
            )
    if export_to.exists():
        out.fail(f"{what}: export wrote {export_to.name}")

    try:
        proc = subprocess.run(
            [str(WINNOW), "open", str(db)],
            capture_output=True,
            text=True,
            env=winnow_env(tmp),
            stdin=subprocess.DEVNULL,
            timeout=TIMEOUT,
        )
        if proc.returncode != 2 or needle not in proc.stderr or "Traceback" in proc.stderr:
            out.fail(f"{what}: `winnow open` exit {proc.returncode}: {proc.stderr[-300:]!r}")
    except subprocess.TimeoutExpired:
        out.fail(f"{what}: `winnow open` was still running after {TIMEOUT}s (the screen started?)")

    after = fingerprint(db)
    if after != before:
        changed = [s or "the project file" for s in before if before[s] != after[s]]
        out.fail(f"{what}: changed {', '.join(changed)}")
    shutil.rmtree(tmp)
    return attack.__name__


def run(out: Outcome, trials: int, work: Path, rng: random.Random) -> None:
    base = base_project(work, rng)
    seen: dict[str, int] = {}
    for i in range(trials):
        name = trial(out, base, work, rng, i)
        seen[name] = seen.get(name, 0) + 1
        out.trials += 1
    out.note("attacks: " + ", ".join(f"{k} {v}" for k, v in sorted(seen.items())))


SCENARIO = Scenario(
    name="untrusted-project",
    checked=(
        "random hostile schema edits to a real project (trigger, view in place of a table, extra "
        "table/view/index, missing or changed index, altered table; WAL or rollback journal): open, stats, "
        "export and goal add refuse with one line naming the object, no traceback, no output, and the "
        "file's bytes unchanged"
    ),
    run=run,
    full=80,
    quick=8,
)
