"""kill-import: SIGKILL `winnow import BIG --db P` at a random moment, then import again.

BIG is a JSONL file generated once, large enough that the import takes seconds (its duration is
measured first and printed). Each trial runs the real CLI against either (a) a project file
that does not exist yet or (b) a copy of an existing project with samples, a goal and decisions,
and kills it with SIGKILL after a random delay spread over the whole import: Python start-up,
schema creation, the parse, the copy's short transactions (its rows hidden until the last one),
the last one, and after it. Then:

* `PRAGMA integrity_check` and `foreign_key_check` are ok (when a file was left at all: a kill
  before SQLite created it leaves none, or an empty one, which winnow treats as absent);
* the file holds none or all of BIG *as every reader sees it* (samples below the pending import's
  bound, `review.store.visible`; sources but its placeholder): no source row and no sample of it,
  or one source row with every record, in order (position, line and verbatim raw line checked
  against the file); `total_samples` equals the visible samples. Rows a kill left hidden are
  counted (they are no part of the project for any reader);
* in (b) the old samples, sources, goals, decisions, event log and cursor are byte-for-byte
  what they were;
* the -wal/-shm files left by the kill do not block: the same import run again exits 0 and
  ends with exactly the expected content. winnow documents (`winnow import --help`, review/store/imports.py)
  that a file whose sha256 is already in the project adds nothing: the re-run must say
  "imported N samples" when the kill left none of it, "already imported" when it left all of
  it, and a third run must say "already imported" and change nothing;
* after the re-run no hidden row, placeholder source or `pending_import_*` key is left: the
  samples table holds exactly what readers see.
"""

from __future__ import annotations

import glob
import hashlib
import json
import random
import shutil
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from reliability import Outcome, Scenario
from reliability.project import GOAL, build_project, integrity, records
from reliability.term import WINNOW, winnow_env
from review.store import Store, file_sha256, visible
from review.store.samples import visible_source

BIG_RECORDS = 60_000  # about 30 MB: a few seconds to import on a laptop
TIMEOUT = 300  # one import, on a shared CI machine


@dataclass(frozen=True)
class Big:
    path: Path
    sha: str  # of the file's bytes: the key winnow's "already imported" goes by
    lines: str  # of its lines, as the raw column must hold them
    n: int


def write_big(path: Path, rng: random.Random, n: int = BIG_RECORDS) -> Big:
    """BIG as JSONL."""
    words = "billing refund invoice account password reset plan upgrade cancel policy order ship".split()
    digest = hashlib.sha256()
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            q = " ".join(rng.choice(words) for _ in range(rng.randint(5, 30)))
            a = " ".join(rng.choice(words) for _ in range(rng.randint(10, 80)))
            line = json.dumps(
                {
                    "messages": [
                        {"role": "user", "content": f"Big {i}: {q}?"},
                        {"role": "assistant", "content": f"Answer {i}: {a}."},
                    ]
                }
            )
            fh.write(line + "\n")
            digest.update(line.encode() + b"\n")
    return Big(path, file_sha256(path), digest.hexdigest(), n)


def existing_project(path: Path, rng: random.Random) -> Path:
    """A project in use: 200 samples, a goal, 60 decisions (some undone), a cursor."""
    build_project(path, records(200, rng, long_every=0), GOAL)
    from review.session import open_session

    with Store(path) as store:
        session = open_session(store)
        assert session is not None
        for _ in range(60):
            if rng.random() < 0.7:
                session.keep()
            else:
                session.drop(rng.choice(["duplicate", "off-goal", "noisy"]))
        session.undo()
        session.keep()
    return path


def fingerprint(db: Path, big: Big) -> dict[str, str]:
    """A digest of every table a user's work lives in (samples and sources: only rows not from BIG)."""
    queries = {
        "samples": f"SELECT * FROM samples WHERE {visible()}"
        " AND source_id IN (SELECT id FROM sources WHERE sha256 != ?) ORDER BY id",
        "sources": f"SELECT * FROM sources WHERE sha256 != ? AND {visible_source()} ORDER BY id",
        "goals": "SELECT * FROM goals ORDER BY id",
        "goal_state": "SELECT * FROM goal_state ORDER BY goal_id",
        "decisions": "SELECT * FROM decisions ORDER BY goal_id, sample_id",
        "actions": "SELECT * FROM actions ORDER BY id",
        "events": "SELECT * FROM events ORDER BY id",
        "tallies": "SELECT * FROM tallies WHERE n != 0 ORDER BY goal_id, kind, key",
    }
    out = {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for name, sql in queries.items():
            h = hashlib.sha256()
            args = (big.sha,) if "?" in sql else ()
            for row in conn.execute(sql, args):
                h.update(repr(row).encode())
            out[name] = h.hexdigest()
    finally:
        conn.close()
    return out


def hidden(db: Path) -> int:
    """Rows of the file no reader sees (a killed import's copy; 0 when its keys are gone too)."""
    if not db.exists() or db.stat().st_size == 0:
        return 0
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'meta'").fetchone():
            return 0
        rows = conn.execute(f"SELECT count(*) FROM samples WHERE NOT ({visible()})").fetchone()[0]
        rows += conn.execute(f"SELECT count(*) FROM sources WHERE NOT ({visible_source()})").fetchone()[0]
        keys = conn.execute("SELECT count(*) FROM meta WHERE key LIKE 'pending_import%'").fetchone()[0]
        return rows + keys
    finally:
        conn.close()


def big_in(db: Path, big: Big) -> tuple[int, list[str]]:
    """(samples of BIG the file shows a reader, problems with them): 0 or big.n, whole and in order."""
    problems = []
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "sources" not in tables:
            return 0, []
        src = conn.execute("SELECT id, records FROM sources WHERE sha256 = ?", (big.sha,)).fetchall()
        total_meta = conn.execute("SELECT value FROM meta WHERE key = 'total_samples'").fetchone()
        count_all = conn.execute(f"SELECT count(*) FROM samples WHERE {visible()}").fetchone()[0]
        if total_meta is not None and int(total_meta[0]) != count_all:
            problems.append(f"meta total_samples {total_meta[0]} != {count_all} visible samples in the table")
        fks = conn.execute("PRAGMA foreign_key_check").fetchall()
        if fks:
            problems.append(f"foreign_key_check: {fks[:3]}")
        orphans = conn.execute(
            "SELECT count(*) FROM samples WHERE source_id NOT IN (SELECT id FROM sources)"
        ).fetchone()
        if orphans[0]:
            problems.append(f"{orphans[0]} samples belong to no source")
        if not src:
            return 0, problems
        if len(src) > 1:
            problems.append(f"BIG has {len(src)} source rows")
        sid, recorded = src[0]
        h = hashlib.sha256()
        n = 0
        for position, line, raw in conn.execute(
            f"SELECT position, line, raw FROM samples WHERE source_id = ? AND {visible()} ORDER BY id", (sid,)
        ):
            if position != n or line != n + 1:
                problems.append(f"BIG record {n} has position {position}, line {line}")
                break
            h.update(raw.encode() + b"\n")
            n += 1
        if recorded != n:
            problems.append(f"BIG's source row says {recorded} records, the file holds {n}")
        if n == big.n and h.hexdigest() != big.lines:
            problems.append("BIG's samples do not hold its lines verbatim, in order")
        return n, problems
    finally:
        conn.close()


def import_cmd(big: Big, db: Path) -> list[str]:
    return [str(WINNOW), "import", str(big.path), "--db", str(db)]


def stages(db: Path) -> list[Path]:
    """The stage files an import of `db` parses into (review/store/imports.py): removed on every
    way out but kill -9, and then by the next import."""
    return sorted(db.parent.glob(glob.escape(db.name) + ".import-*.stage*"))


def run(out: Outcome, trials: int, work: Path, rng: random.Random) -> None:
    if not WINNOW.exists():
        out.skip(f"needs the installed winnow script ({WINNOW}): pip install -e .")
        return
    env = winnow_env(work)
    big = write_big(work / "big.jsonl", rng)
    base = existing_project(work / "existing.db", rng)
    base_print = fingerprint(base, big)

    # How long a whole import takes here: the kills are spread over it.
    t = time.perf_counter()
    res = subprocess.run(import_cmd(big, work / "measure.db"), capture_output=True, text=True, env=env)
    full = time.perf_counter() - t
    if res.returncode != 0:
        out.fail(f"a plain import of BIG failed ({res.returncode}): {res.stderr.strip()[-500:]}")
        return
    for p in work.glob("measure.db*"):
        p.unlink()

    outcomes = {"none": 0, "all": 0, "no file": 0}
    reruns: list[float] = []
    leftovers = 0
    stages_left = 0
    hidden_left = 0
    for k in range(1, trials + 1):
        case = "new" if k % 2 else "existing"
        db = work / f"trial-{k}.db"
        if case == "existing":
            shutil.copy(base, db)
        # Start-up and schema creation, anywhere, or around the commit at the end.
        early, end = (0.0, 0.6), (full * 0.75, full * 1.1)
        delay = rng.uniform(*rng.choices([early, (0.0, full * 1.1), end], weights=[1, 3, 1])[0])
        where = f"trial {k} ({case} project, kill at {delay:.2f} s of a {full:.1f} s import)"
        failures_before = len(out.failures)

        proc = subprocess.Popen(import_cmd(big, db), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        try:
            proc.wait(timeout=delay)
        except subprocess.TimeoutExpired:
            proc.kill()
        proc.communicate(timeout=30)
        killed = proc.returncode == -9
        if not killed and proc.returncode != 0:
            out.fail(f"{where}: the import exited {proc.returncode} before the kill")

        # What the kill left.
        if not db.exists() or db.stat().st_size == 0:
            if case == "existing":
                out.fail(f"{where}: the existing project file is gone or empty")
                continue
            before, state = 0, "no file"
        else:
            status = integrity(db)
            if status != "ok":
                out.fail(f"{where}: integrity_check after the kill: {status}")
                continue
            before, problems = big_in(db, big)
            out.failures += [f"{where}: after the kill: {p}" for p in problems]
            if before not in (0, big.n):
                out.fail(f"{where}: the file holds {before} of BIG's {big.n} records (none or all expected)")
            state = "all" if before == big.n else "none"
            if case == "existing" and fingerprint(db, big) != base_print:
                changed = [t for t, h in fingerprint(db, big).items() if h != base_print[t]]
                out.fail(f"{where}: the old project changed: {changed}")
        if not killed and state != "all":
            out.fail(f"{where}: the import exited 0 but the file holds none of BIG")
        outcomes[state] += 1
        leftovers += any(Path(str(db) + sfx).exists() for sfx in ("-wal", "-shm", "-journal"))
        stages_left += len(stages(db))
        hidden_left += hidden(db) > 0

        # The same import again, over whatever the kill left: it must finish the job.
        t = time.perf_counter()
        res = subprocess.run(import_cmd(big, db), capture_output=True, text=True, env=env, timeout=TIMEOUT)
        reruns.append(time.perf_counter() - t)
        if res.returncode != 0:
            out.fail(f"{where}: re-running the import exited {res.returncode}: {res.stderr.strip()[-400:]}")
            continue
        said = res.stdout.strip()
        if state == "all" and "already imported" not in said:
            out.fail(f"{where}: BIG was already in the file, yet the re-run said: {said[:200]}")
        if state != "all" and f"imported {big.n:,} samples" not in said:
            out.fail(f"{where}: the re-run should import all of BIG, it said: {said[:200]}")
        check_final(out, where, db, case, big, base_print)
        if stages(db):
            out.fail(f"{where}: the re-run left stage files: {[p.name for p in stages(db)]}")

        # Once more: the documented "same file twice adds nothing".
        again = subprocess.run(import_cmd(big, db), capture_output=True, text=True, env=env, timeout=TIMEOUT)
        if again.returncode != 0 or "already imported" not in again.stdout:
            out.fail(f"{where}: a third import should say 'already imported': {again.returncode} {again.stdout[:200]}")
        check_final(out, where + " after a third import", db, case, big, base_print)

        out.trials = k
        if len(out.failures) == failures_before:
            for p in work.glob(f"trial-{k}.db*"):
                p.unlink()

    out.note(f"BIG: {big.n:,} records, {big.path.stat().st_size / 1e6:.0f} MB; a whole import took {full:.1f} s")
    out.note(
        f"kills left BIG: none {outcomes['none']}, all {outcomes['all']}, no file yet {outcomes['no file']}; "
        f"{leftovers} left -wal/-shm files, {stages_left} an import's stage file, {hidden_left} hidden rows of a "
        "copy under way (each removed by the re-run); "
        f"re-runs took {min(reruns, default=0):.1f}-{max(reruns, default=0):.1f} s"
    )


def check_final(out: Outcome, where: str, db: Path, case: str, big: Big, base_print: dict[str, str]) -> None:
    status = integrity(db)
    if status != "ok":
        out.fail(f"{where}: integrity_check after the re-run: {status}")
        return
    n, problems = big_in(db, big)
    out.failures += [f"{where}: after the re-run: {p}" for p in problems]
    if left := hidden(db):
        out.fail(f"{where}: the re-run left {left} hidden rows or keys of the killed import")
    if n != big.n:
        out.fail(f"{where}: after the re-run the file holds {n} of BIG's {big.n} records")
    old = 200 if case == "existing" else 0
    with Store(db, create=False) as store:
        if store.total_samples() != old + big.n:
            out.fail(f"{where}: {store.total_samples()} samples, expected {old} old + {big.n}")
    if case == "existing" and fingerprint(db, big) != base_print:
        changed = [t for t, h in fingerprint(db, big).items() if h != base_print[t]]
        out.fail(f"{where}: the old project changed: {changed}")


SCENARIO = Scenario(
    name="kill-import",
    checked=(
        "kill -9 during a large import, into a new and into an existing project: integrity_check ok, none or all "
        "of the file is in for every reader, old samples and decisions untouched, re-running imports it exactly "
        "once and removes the hidden rows a kill during the copy left"
    ),
    run=run,
    full=30,
    quick=3,
)
