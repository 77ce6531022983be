"""report-text: `winnow report` of a project whose samples and flags carry hostile text, and of one
whose newer tables were edited by a hostile author.

One real project is made the way a user makes one (import, a goal). Each trial copies it and does
one of two things:

* text: writes style flags (drift, contradiction, noise) through the style store whose labels and
  details are drawn from hostile pieces — C1 CSI (U+009B, which xterm obeys after UTF-8 decoding),
  OSC / CSI escape sequences, bidi overrides and isolates, zero-width and tag characters, line
  separators, Rich markup, CJK — then runs `winnow report` (a random --limit) and `winnow report
  --json` as real processes. Expected: exit 0, no traceback, no raw ESC, C1, bidi, zero-width or
  tag character anywhere in stdout, the JSON parses and holds every hostile string exactly as
  written (the escaping loses nothing), and the CJK stays readable text in both.
* schema: a trigger, view or index added on one of the tables migrations after m002 created
  (style_*, goal_*, batch*, exports, analysis, relevance); `winnow report` and `report --json`
  exit 2 with one line naming the object, and the file's bytes are unchanged.
"""

from __future__ import annotations

import hashlib
import json
import random
import shutil
import sqlite3
import subprocess
from pathlib import Path

from reliability import Outcome, Scenario
from reliability.project import build_project, records
from reliability.term import WINNOW, winnow_env
from review.store import Store

TIMEOUT = 120
PIECES = (
    "\x9b31m",
    "\x1b]0;owned\x07",
    "\x1b[2J\x1b[H",
    "\u202eevil",
    "\u2066iso\u2069",
    "\u200b\u200d",
    "\u2028",
    "\U000e0041\U000e0042",
    "[bold red]markup[/bold red]",
    "中文答案",
    "日本語",
    "\x85",
    "\ufeff",
)
RAW = {chr(c) for c in range(0x7F, 0xA0)} | set("\x1b\u202e\u2066\u2069\u200b\u200d\u2028\ufeff")


def _hostile(rng: random.Random) -> str:
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(1, 5)))


def _raw_in(text: str) -> list[str]:
    return sorted({f"U+{ord(c):04X}" for c in text if c in RAW or 0xE0000 <= ord(c) <= 0xE0FFF})


def _digest(db: Path) -> dict[str, str | None]:
    out = {}
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(db) + suffix)
        out[suffix] = hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None
    return out


def _report(db: Path, work: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(WINNOW), "report", "--db", str(db), *args],
        capture_output=True,
        text=True,
        env=winnow_env(work),
        stdin=subprocess.DEVNULL,
        timeout=TIMEOUT,
    )


def text_trial(out: Outcome, db: Path, tmp: Path, rng: random.Random, what: str) -> None:
    from review.style import FEATURE_VERSION, StyleStore
    from review.style.store import FlagRow

    planted: list[str] = []
    with Store(db) as store:
        n = store.total_samples()
        rows = []
        for sid in rng.sample(range(1, n + 1), 12):
            h = _hostile(rng)
            planted.append(h)
            kind = rng.choice(("style", "conflict", "noise"))
            partner = sid % n + 1
            members = (min(sid, partner), max(sid, partner))
            rows.append(FlagRow(sid, kind, round(rng.random(), 3), partner, members, f"flag {h}", (h,), "other"))
        ss = StyleStore(store)
        ss.replace_flags(rows)
        ss.set_state(
            {
                "feature_version": FEATURE_VERSION,
                "samples_at_run": n,
                "group_field": None,
                "question_groups": [],
                "noise_counts": {_hostile(rng): 1},
            }
        )
        ss.mark_run({"answers": n, "question_groups": 0})
    limit = rng.randint(1, 20)
    shown = _report(db, tmp, "--limit", str(limit))
    if shown.returncode != 0 or "Traceback" in shown.stderr:
        out.fail(f"{what}: `winnow report` exit {shown.returncode}: {shown.stderr[-300:]!r}")
    elif _raw_in(shown.stdout):
        out.fail(f"{what}: `winnow report` printed raw {', '.join(_raw_in(shown.stdout))}")
    elif limit >= len(planted) and "中文答案" in "".join(planted) and "中文答案" not in shown.stdout:
        # (under a smaller --limit the flag holding it may rightly be left out)
        out.fail(f"{what}: `winnow report` lost the CJK text")
    as_json = _report(db, tmp, "--json")
    if as_json.returncode != 0 or "Traceback" in as_json.stderr:
        out.fail(f"{what}: `winnow report --json` exit {as_json.returncode}: {as_json.stderr[-300:]!r}")
        return
    if _raw_in(as_json.stdout):
        out.fail(f"{what}: `winnow report --json` printed raw {', '.join(_raw_in(as_json.stdout))}")
    try:
        data = json.loads(as_json.stdout)
    except ValueError as e:
        out.fail(f"{what}: `winnow report --json` is not JSON ({e})")
        return
    found = [d for key in ("style_drift", "noise") for f in data[key] for d in f["details"]]
    found += [e for p in data["contradictions"] for e in p["evidence"]]
    missing = [h for h in planted if h not in found]
    if missing:
        out.fail(f"{what}: the JSON lost {len(missing)} of {len(planted)} hostile strings, e.g. {missing[0]!r}")


NEW_TABLES = (
    "style_flags",
    "style_samples",
    "style_fingerprints",
    "style_queue",
    "style_state",
    "goal_revisions",
    "batch_items",
    "exports",
)


def schema_trial(out: Outcome, db: Path, tmp: Path, rng: random.Random, what: str) -> str:
    conn = sqlite3.connect(db, isolation_level=None)
    have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    table = rng.choice([t for t in NEW_TABLES if t in have])
    how = rng.choice(("trigger", "view", "index"))
    name = f"x{rng.randrange(1000)}"
    if how == "trigger":
        conn.execute(f"CREATE TRIGGER {name} AFTER INSERT ON {table} BEGIN DELETE FROM decisions; END")
    elif how == "view":
        conn.execute(f"CREATE VIEW {name} AS SELECT * FROM {table}")
    else:
        col = conn.execute(f"PRAGMA table_info({table})").fetchall()[0][1]
        conn.execute(f"CREATE INDEX {name} ON {table}({col})")
    conn.close()
    before = _digest(db)
    needle = f'unexpected {how} "{name}"'
    for args in ((), ("--json",)):
        res = _report(db, tmp, *args)
        lines = res.stderr.strip().splitlines()
        if res.returncode != 2 or len(lines) != 1 or needle not in lines[0] or res.stdout:
            out.fail(
                f"{what} ({how} on {table}): `report {' '.join(args)}` exit {res.returncode}: {res.stderr[-300:]!r}"
            )
    if _digest(db) != before:
        out.fail(f"{what} ({how} on {table}): the refused project file changed")
    return f"{how} on {table}"


def run(out: Outcome, trials: int, work: Path, rng: random.Random) -> None:
    base = build_project(work / "base.db", records(30, rng, long_every=0))
    with Store(base) as store:  # everything in the main file: the trials copy only it
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    seen: dict[str, int] = {}
    for i in range(trials):
        tmp = work / f"t{i}"
        tmp.mkdir()
        db = tmp / "p.db"
        shutil.copy(base, db)
        kind = "text" if i % 2 == 0 else "schema"
        what = f"trial {i} ({kind})"
        if kind == "text":
            text_trial(out, db, tmp, rng, what)
            seen["text"] = seen.get("text", 0) + 1
        else:
            seen[schema_trial(out, db, tmp, rng, what)] = 1
        shutil.rmtree(tmp)
        out.trials += 1
    out.note("trials: " + ", ".join(f"{k} {v}" for k, v in sorted(seen.items())))


SCENARIO = Scenario(
    name="report-text",
    checked=(
        "hostile flag text (C1 CSI, escape sequences, bidi, zero-width, tags, markup, CJK) through "
        "`winnow report` and `report --json` as real processes: no raw control character in stdout, "
        "the JSON parses and keeps every string; a trigger/view/index on a newer table: both refuse in "
        "one line naming it and leave the file's bytes unchanged"
    ),
    run=run,
    full=40,
    quick=4,
)
