"""faults: make the n-th database call fail, for every n, along the decide and import paths.

The failure is injected at the real SQLite boundary: `Store.connection_class` is swapped for
`FaultyConnection`, whose execute / executemany / executescript / commit (and its cursors'
executes) count calls and raise `sqlite3.OperationalError("disk I/O error (injected at call n)")`
at call n, carrying SQLITE_IOERR as SQLite's own error would. A clean run first counts the calls a
path makes; then there is one trial per (path, n). Three layers:

  session  what the review keys call on ReviewSession (keep, drop with reason and note, tag,
           untag, note, undo, redo, keep-and-drop-cluster, a pair resolved, the moves): if the call
           raised, a fresh connection sees the file exactly as before (iterdump), the session's
           cursor has not moved, the Store is not left inside a transaction and the same call then
           works; if it returned, the change is in the file.
  import   `winnow import` through click, into a new project and into one with decisions: a
           nonzero exit with a message naming the file and what to do, no traceback, the file
           exactly as before (a new project: no file left behind), and the next import works;
           or exit 0 and the samples are there.
  screen   the Textual app in process, keys pressed with Pilot: the app never crashes; what the
           screen shows (its counts, the sample's verdict) is what the file holds; when no row
           was written, an error is on screen and the same sample is still shown, undecided; after
           the fault, the same key works.

The full form runs every n of every path; the quick form (CI) a random few of each.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reliability import Outcome, Scenario
from reliability.pilot import screen_text as _screen_text
from reliability.pilot import settle as _settle
from review.model import Queue

# ---------------------------------------------------------------------------------------- injection


class Plan:
    """Which call fails: the n-th, or (sql=...) the first whose statement starts with that text,
    or (every=True) each such call until disarmed (a disk that stays full). Only calls made on
    the thread that armed the plan are counted, so a worker thread cannot shift the count."""

    def __init__(self) -> None:
        self.arm(None)

    def arm(
        self,
        n: int | None = None,
        *,
        sql: str | None = None,
        every: bool = False,
        code: int = sqlite3.SQLITE_IOERR,
        message: str = "disk I/O error",
    ) -> None:
        self.calls, self.fail_at, self.sql, self.every = 0, n, sql, every
        self.code, self.message = code, message
        self.fired: str | None = None
        self.thread = threading.get_ident()

    def tick(self, what: str, sql: object = None) -> None:
        if threading.get_ident() != self.thread:
            return
        self.calls += 1
        text = " ".join(str(sql).split()) if sql is not None else ""
        if self.sql is not None:
            hit = text.upper().startswith(self.sql.upper()) and (self.every or self.fired is None)
        else:
            hit = self.calls == self.fail_at
        if hit:
            words = " ".join(text.split()[:3])
            self.fired = f"call {self.calls}: {what}" + (f" {words}" if words else "")
            e = sqlite3.OperationalError(f"{self.message} (injected at {self.fired})")
            e.sqlite_errorcode = self.code  # type: ignore[attr-defined]
            raise e


PLAN = Plan()


class FaultyCursor(sqlite3.Cursor):
    def execute(self, sql, *args):  # type: ignore[override]
        PLAN.tick("cursor.execute", sql)
        return super().execute(sql, *args)

    def executemany(self, sql, *args):  # type: ignore[override]
        PLAN.tick("cursor.executemany", sql)
        return super().executemany(sql, *args)

    def executescript(self, script):  # type: ignore[override]
        PLAN.tick("cursor.executescript", script)
        return super().executescript(script)


class FaultyConnection(sqlite3.Connection):
    def cursor(self, factory=FaultyCursor):  # type: ignore[override]
        return super().cursor(factory)

    def execute(self, sql, *args):  # type: ignore[override]
        PLAN.tick("execute", sql)
        return super().execute(sql, *args)

    def executemany(self, sql, *args):  # type: ignore[override]
        PLAN.tick("executemany", sql)
        return super().executemany(sql, *args)

    def executescript(self, script):  # type: ignore[override]
        PLAN.tick("executescript", script)
        return super().executescript(script)

    def commit(self):  # type: ignore[override]
        PLAN.tick("commit")
        return super().commit()


@contextmanager
def injected() -> Iterator[Plan]:
    """Every Store opened inside uses FaultyConnection; PLAN says which call fails."""
    from review.store import Store

    old = Store.connection_class
    Store.connection_class = FaultyConnection
    PLAN.arm(None)
    try:
        yield PLAN
    finally:
        Store.connection_class = old
        PLAN.arm(None)


# ---------------------------------------------------------------------------------------- projects


def chat(user: str, assistant: str) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


def records(n: int, tag: str = "") -> list[dict]:
    """n samples; #1 and #5 are exact copies (a duplicate cluster), #2 and #3 share a prompt."""
    out = [
        chat("How do I reset my password?", "Open Settings → Security and choose Reset password."),
        chat("Can I get a refund?", "Yes, within 30 days of purchase."),
        chat("Can I get a refund?", "No, refunds are not offered."),
        chat("Where is my invoice?", "Under Billing → Invoices."),
        chat("How do I reset my password?", "Open Settings → Security and choose Reset password."),
    ]
    out += [
        chat(f"Question {i}{tag} about billing?", f"Answer {i}{tag}: see the billing page.") for i in range(6, n + 1)
    ]
    return out[:n]


def write_jsonl(path: Path, recs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    return path


def build_base(work: Path, n: int = 60) -> Path:
    """A project with a goal and a few decisions (so undo, redo and a re-import have history)."""
    from review.session import ReviewSession
    from review.store import Store

    db = work / "base.db"
    with Store(db) as store:
        store.import_file(write_jsonl(work / "base.jsonl", records(n)))
        goal, _ = store.add_goal("Answer billing questions with the 30-day policy, briefly.")
        s = ReviewSession(store, goal)
        s.decide(2, "keep")
        s.decide(3, "drop", "contradictory")
        s.tag("billing", sample_id=2)
    return db


def dump(db: Path) -> list[str]:
    """The whole file as SQL, read through a fresh connection (what another process would see)."""
    if not db.exists():
        return []
    conn = sqlite3.connect(db)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def fresh(db: Path, sql: str, args: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def verdict_on_disk(db: Path, sid: int, goal_id: int = 1) -> str | None:
    rows = fresh(db, "SELECT verdict FROM decisions WHERE goal_id = ? AND sample_id = ?", (goal_id, sid))
    return rows[0][0] if rows else None


def injected_cause(e: BaseException) -> bool:
    seen: BaseException | None = e
    while seen is not None:
        if "injected at" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


# ---------------------------------------------------------------------------------------- session paths


@dataclass(frozen=True)
class Path_:
    name: str
    setup: Callable[[Any], None]  # (session) -> None, run before the fault is armed
    op: Callable[[Any], Any]  # (session) -> result; the call under test
    done: Callable[[Path, Any], bool]  # (db, session) -> the change is in the file


def _pair(s) -> int:
    from review.store import Change

    return s.apply(
        [
            Change(10, "keep"),
            Change(11, "keep"),
            Change(10, "tag", value="boundary-pair"),
            Change(11, "tag", value="boundary-pair"),
        ],
        kind="batch",
    )


def _tags(db: Path, sid: int) -> list[str]:
    rows = fresh(db, "SELECT tags FROM decisions WHERE goal_id = 1 AND sample_id = ?", (sid,))
    return json.loads(rows[0][0]) if rows else []


def _note(db: Path, sid: int) -> str | None:
    rows = fresh(db, "SELECT note FROM decisions WHERE goal_id = 1 AND sample_id = ?", (sid,))
    return rows[0][0] if rows else None


def _cursor(db: Path) -> int | None:
    rows = fresh(db, "SELECT cursor FROM goal_state WHERE goal_id = 1")
    return rows[0][0] if rows else None


def _undone(db: Path, aid_sql: str) -> int:
    return fresh(db, aid_sql)[0][0]


def _nothing(s) -> None:
    return None


SESSION_PATHS = [
    # What the review screen's keys call (tui/screens/review.py), and the library's own forms.
    Path_("keep (a)", _nothing, lambda s: s.decide(7, "keep"), lambda db, s: verdict_on_disk(db, 7) == "keep"),
    Path_(
        "drop with reason (x 2)",
        _nothing,
        lambda s: s.decide(7, "drop", "duplicate"),
        lambda db, s: verdict_on_disk(db, 7) == "drop",
    ),
    Path_("move on (j, after a key)", lambda s: s.jump(7), lambda s: s.next(), lambda db, s: _cursor(db) == 8),
    Path_(
        "keep and advance",
        lambda s: s.jump(7),
        lambda s: s.keep(),
        lambda db, s: verdict_on_disk(db, 7) == "keep" and _cursor(db) == 8,
    ),
    Path_(
        "drop, note and advance",
        lambda s: s.jump(7),
        lambda s: s.drop("off-goal", note="why"),
        lambda db, s: verdict_on_disk(db, 7) == "drop" and _note(db, 7) == "why" and _cursor(db) == 8,
    ),
    Path_("tag (t)", _nothing, lambda s: s.tag("urgent", sample_id=7), lambda db, s: "urgent" in _tags(db, 7)),
    Path_(
        "untag (t -name)",
        lambda s: s.jump(2),
        lambda s: s.untag("billing"),
        lambda db, s: "billing" not in _tags(db, 2),
    ),
    Path_(
        "note (n)",
        lambda s: s.jump(7),
        lambda s: s.note("check the policy"),
        lambda db, s: _note(db, 7) == "check the policy",
    ),
    Path_(
        "undo (u)",
        lambda s: s.decide(7, "keep"),
        lambda s: s.undo(),
        lambda db, s: verdict_on_disk(db, 7) is None and _cursor(db) == 7,
    ),
    Path_(
        "redo (U)",
        lambda s: (s.decide(7, "keep"), s.jump(20), s.undo(), s.jump(20)),
        lambda s: s.redo(),
        lambda db, s: verdict_on_disk(db, 7) == "keep" and _cursor(db) == 7,
    ),
    Path_(
        "keep, drop cluster (R)",
        _nothing,
        lambda s: s.keep_and_drop(1, [5]),
        lambda db, s: verdict_on_disk(db, 1) == "keep" and verdict_on_disk(db, 5) == "drop",
    ),
    Path_(
        "pair: boundary (b)",
        _nothing,
        _pair,
        lambda db, s: verdict_on_disk(db, 10) == "keep" and "boundary-pair" in _tags(db, 11),
    ),
    Path_("jump (:)", _nothing, lambda s: s.jump(30), lambda db, s: _cursor(db) == 30),
    Path_(
        "queue (f)",
        _nothing,
        lambda s: s.set_queue(Queue("undecided")),
        lambda db, s: (
            json.loads(fresh(db, "SELECT queue FROM goal_state WHERE goal_id = 1")[0][0])["kind"] == "undecided"
        ),
    ),
]


def session_trial(out: Outcome, base: Path, tmp: Path, path: Path_, n: int | None) -> int:
    """One trial (n=None: the counting run). Returns the number of calls the op made."""
    from review.session import ReviewSession
    from review.store import StorageError, Store

    db = tmp / "trial.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    shutil.copyfile(base, db)
    where = f"session {path.name}, fault at call {n}"
    with injected() as plan:
        store = Store(db, create=False)
        try:
            session = ReviewSession(store, store.goal(1))
            path.setup(session)
            before = dump(db)
            cursor, queue = session.cursor, session.queue
            plan.arm(n)
            try:
                path.op(session)
                error: BaseException | None = None
            except Exception as e:  # what the screen would have to show
                error = e
            calls = plan.calls
            fired = plan.fired
            plan.arm(None)
            if n is None:
                if error is not None:
                    out.fail(f"{where}: the clean run raised {type(error).__name__}: {error}")
                return calls
            if store.conn.in_transaction:
                out.fail(f"{where} ({fired}): the Store was left inside a transaction")
            if error is None:
                if not path.done(db, session):
                    out.fail(f"{where} ({fired}): returned, but the change is not in the file")
                return calls
            if not injected_cause(error):
                out.fail(f"{where}: raised something other than the fault: {type(error).__name__}: {error}")
            elif not isinstance(error, (StorageError, sqlite3.Error)):
                out.fail(f"{where}: the fault came out as {type(error).__name__}: {error}")
            elif isinstance(error, StorageError) and str(db) not in str(error):
                out.fail(f"{where}: the message does not name the file: {error}")
            if dump(db) != before:
                out.fail(f"{where} ({fired}): raised, but the file changed (a row without an acknowledgement)")
            if (session.cursor, session.queue) != (cursor, queue):
                out.fail(f"{where} ({fired}): raised, but the session moved from #{cursor} to #{session.cursor}")
            try:
                path.op(session)  # the fault has cleared: the same call works
            except Exception as e:
                out.fail(f"{where} ({fired}): the same call failed again after the fault: {type(e).__name__}: {e}")
            else:
                if not path.done(db, session):
                    out.fail(f"{where} ({fired}): after the fault the call returned, but nothing is in the file")
            return calls
        finally:
            store.close()


# ---------------------------------------------------------------------------------------- import paths


def import_trial(out: Outcome, base: Path, tmp: Path, kind: str, n: int | None) -> int:
    from click.testing import CliRunner

    from tui.cli import cli

    db = tmp / "import.db"
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    if kind == "existing":
        shutil.copyfile(base, db)
    data = write_jsonl(tmp / "more.jsonl", records(12, tag="b"))
    before = dump(db)
    samples_before = fresh(db, "SELECT count(*) FROM samples")[0][0] if db.exists() else 0
    where = f"import into a {kind} project, fault at call {n}"
    with injected() as plan:
        plan.arm(n)
        r = CliRunner().invoke(cli, ["import", str(data), "--db", str(db)])
        calls, fired = plan.calls, plan.fired
        plan.arm(None)
    if n is None:
        if r.exit_code != 0:
            out.fail(f"{where}: the clean run failed: {r.output}")
        return calls
    text = r.output
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        out.fail(f"{where} ({fired}): crashed with {type(r.exception).__name__}: {r.exception}")
        return calls
    if "Traceback" in text:
        out.fail(f"{where} ({fired}): a traceback reached the user:\n{text}")
    if r.exit_code == 0:
        got = fresh(db, "SELECT count(*) FROM samples")[0][0]
        if got != samples_before + 12:
            out.fail(f"{where} ({fired}): exit 0 but {got - samples_before} samples were added, not 12")
        return calls
    if not text.startswith("winnow: ") or (str(db) not in text and data.name not in text) or "—" not in text:
        out.fail(f"{where} ({fired}): unclear message (must name the file and say what to do): {text!r}")
    if kind == "new" and db.exists():
        out.fail(f"{where} ({fired}): a failed import into a new project left {db.name} behind")
    elif dump(db) != before:
        out.fail(f"{where} ({fired}): the import failed but the file changed")
    r2 = CliRunner().invoke(cli, ["import", str(data), "--db", str(db)])
    if r2.exit_code != 0 or fresh(db, "SELECT count(*) FROM samples")[0][0] != samples_before + 12:
        out.fail(f"{where} ({fired}): the next import did not work: {r2.output!r}")
    return calls


# ---------------------------------------------------------------------------------------- the screen

# (name, keys pressed before arming, the key(s) under test, what the key writes)
SCREEN_PATHS = [
    ("keep (a)", [], ["a"]),
    ("drop (x 2)", [], ["x", "2"]),
    ("tag (t)", [], ["t", *"urgent", "enter"]),
    ("note (n)", [], ["n", *"why", "enter"]),
    ("undo (u)", ["a"], ["u"]),
    ("redo (U)", ["a", "u"], ["U"]),
    ("keep, drop cluster (R)", [":", "1", "enter"], ["R"]),
    ("move (j)", [], ["j"]),
]

COUNTS = re.compile(r"✔ ([\d,]+) kept · ✘ ([\d,]+) dropped")


def _disk_state(db: Path) -> tuple[int, int, int, int | None]:
    kept = fresh(db, "SELECT count(*) FROM decisions WHERE goal_id = 1 AND verdict = 'keep'")[0][0]
    dropped = fresh(db, "SELECT count(*) FROM decisions WHERE goal_id = 1 AND verdict = 'drop'")[0][0]
    actions = fresh(db, "SELECT count(*) FROM actions")[0][0]
    return kept, dropped, actions, _cursor(db)


def _clear_toasts(app) -> None:
    app.clear_notifications()


async def screen_trials(
    out: Outcome, base: Path, tmp: Path, key: tuple, choose: Callable[[int], list[int]]
) -> tuple[int, int]:
    """One app per key path: a counting press, then one armed press per n in choose(calls counted).
    Returns (calls counted, trials run)."""
    from tui.app import make_app

    name = key[0]
    db = tmp / "screen.db"
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(str(db) + suffix).unlink(missing_ok=True)
    shutil.copyfile(base, db)
    trials = 0
    counted = 0
    with injected() as plan:
        app = make_app(db, config={"cursor_blink": False})
        try:
            counted, trials = await _screen_session(out, app, db, key, choose, plan)
        except Exception as e:  # the app died under the harness: a crash, reported with its cause
            out.fail(f"screen {name}: the app crashed: {type(e).__name__}: {e}")
        if app.return_code not in (None, 0):
            out.fail(f"screen {name}: the app ended with return code {app.return_code}")
    return counted, trials


async def _screen_session(out: Outcome, app, db: Path, key: tuple, choose, plan: Plan) -> tuple[int, int]:
    from tui.screens.review import ReviewScreen

    name, setup, keys = key
    trials = 0
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        await _settle(pilot)

        async def press(ks: list[str]) -> None:
            for k in ks:
                await pilot.press(k)
                await _settle(pilot)

        await press(setup)
        plan.arm(None)
        await press(keys)
        counted = plan.calls
        for n in choose(counted):
            if not app.is_running:
                break
            await press(setup)
            _clear_toasts(app)
            await _settle(pilot)
            ready_by = time.monotonic() + 20  # a failed read shows an error and is retried each second
            while time.monotonic() < ready_by:
                if not isinstance(app.screen, ReviewScreen) or app.screen.view is not None:
                    break
                await pilot.pause(0.1)
            screen = app.screen
            if not isinstance(screen, ReviewScreen) or screen.view is None:
                out.fail(f"screen {name}: not on the review screen before the trial")
                break
            sid = screen.view.sample.id
            before = _disk_state(db)
            plan.arm(n)
            await press(keys)
            fired = plan.fired
            plan.arm(None)
            trials += 1
            where = f"screen {name}, fault at call {n} ({fired or 'not reached'}) on #{sid}"
            if not app.is_running or app.return_code not in (None, 0):
                out.fail(f"{where}: the app stopped (return code {app.return_code})")
                break
            await _settle(pilot)
            screen = app.screen
            if not isinstance(screen, ReviewScreen):
                out.fail(f"{where}: left on {type(screen).__name__}, not the review screen")
                await pilot.press("escape")
                await _settle(pilot)
                continue
            after = _disk_state(db)
            text = _screen_text(app)
            m = COUNTS.search(text)
            if m and (int(m[1].replace(",", "")), int(m[2].replace(",", ""))) != after[:2]:
                out.fail(f"{where}: the screen shows {m[0]!r} but the file holds {after[0]} kept, {after[1]} dropped")
            if not m and "could not read" not in text:
                out.fail(f"{where}: the status line is gone and no error says why:\n{text}")
            shown = screen.view
            if shown is not None:
                on_disk = verdict_on_disk(db, shown.sample.id)
                if shown.decision.verdict != on_disk:
                    out.fail(
                        f"{where}: #{shown.sample.id} shows {shown.decision.verdict!r}, the file holds {on_disk!r}"
                    )
            wrote = after[2] != before[2] or (name.startswith("move") and after[3] != before[3])
            if fired and not wrote:
                if shown is None or shown.sample.id != sid:
                    out.fail(
                        f"{where}: nothing was written, but the screen moved on to "
                        f"#{shown.sample.id if shown else None}"
                    )
                errors = [n.message for n in app._notifications if n.severity == "error"]
                clear = [m for m in errors if str(db) in m and "nothing was written" in m]
                if not clear:
                    out.fail(f"{where}: nothing was written and no clear error says so: {errors}")
                elif clear[-1].split()[0] not in text:
                    out.fail(f"{where}: the error {clear[-1]!r} is not on screen:\n{text}")
                _clear_toasts(app)
                await press(keys)  # the fault has cleared: the same key works
                again = _disk_state(db)
                if again[2] == before[2] and again[3] == before[3]:
                    out.fail(f"{where}: after the fault, the same key wrote nothing")
    return counted, trials


# ---------------------------------------------------------------------------------------- the scenario


def pick(cases: list[tuple[str, int]], k: int, rng: random.Random) -> list[tuple[str, int]]:
    """k cases spread over the paths (each path in turn gets one more random n)."""
    if k >= len(cases):
        return cases
    by_path: dict[str, list[tuple[str, int]]] = {}
    for c in cases:
        by_path.setdefault(c[0], []).append(c)
    for v in by_path.values():
        rng.shuffle(v)
    chosen: list[tuple[str, int]] = []
    while len(chosen) < k:
        for v in by_path.values():
            if v and len(chosen) < k:
                chosen.append(v.pop())
    return chosen


FULL = 500  # trials >= FULL: every n of every path (about 480 cases)


def run(out: Outcome, trials: int, work: Path, rng: random.Random) -> None:
    base = build_base(work)
    tmp = work / "t"
    tmp.mkdir(exist_ok=True)
    counts: dict[str, int] = {}
    for p in SESSION_PATHS:
        counts["session " + p.name] = session_trial(out, base, tmp, p, None)
    for kind in ("new", "existing"):
        counts["import " + kind] = import_trial(out, base, tmp, kind, None)
    cases = [(name, n) for name, c in counts.items() for n in range(1, c + 1)]
    everything = trials >= FULL
    per_key = max(1, trials // 4 // len(SCREEN_PATHS))  # a quarter of a partial run goes to the screen
    chosen = cases if everything else pick(cases, max(trials - per_key * len(SCREEN_PATHS), 1), rng)
    ran = 0
    for name, n in chosen:
        if name.startswith("session "):
            session_trial(out, base, tmp, next(p for p in SESSION_PATHS if "session " + p.name == name), n)
        else:
            import_trial(out, base, tmp, name.split()[1], n)
        ran += 1
    screen_counts: dict[str, int] = {}
    for key in SCREEN_PATHS:

        def choose(counted: int) -> list[int]:
            ns = list(range(1, counted + 1))
            return ns if everything else sorted(rng.sample(ns, min(per_key, counted)))

        counted, k = asyncio.run(screen_trials(out, base, tmp, key, choose))
        screen_counts[key[0]] = counted
        ran += k
    out.trials = ran
    out.note("calls per path: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    out.note("calls per screen key: " + ", ".join(f"{k} {v}" for k, v in screen_counts.items()))


SCENARIO = Scenario(
    name="faults",
    checked=(
        "the n-th database call fails, for every n, along decide (session and screen keys) and import "
        "(new and existing project): no acknowledgement without a row, no row without one; the file is "
        "exactly as before when a call fails; clear message, no crash; the next call works"
    ),
    run=run,
    full=FULL,
    quick=60,
)
