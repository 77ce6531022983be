"""hostile-input: `winnow import` of what is not a dataset, or not one that holds still.

Each trial imports one hostile input with the real CLI, into a new project (the file does not
exist yet) or into a copy of a project in use (samples, a goal, decisions). The first trials go
once through every kind, in random order; later ones are drawn at random (the changing file and
the bomb more often):

* bomb: a small `.jsonl.gz` or `.json.gz` (a JSON array) whose record, after 0-40 good ones,
  expands to far more than the limit. Built streaming as concatenated gzip members (one 16 MB
  member of "x" compressed once, written again and again), so the harness never holds it. Run with
  a lower `--max-record-mb` (4, 8 or 16) and the bomb 2-30x that; `bomb-default`: the 64 MB
  default limit against a 4 GB line in a ~4 MB file (the issue's case). Expected: exit 2 and the
  first line `winnow: PATH:LINE: record larger than N MB — ...` naming the bomb's line, "nothing
  was imported", no traceback, and a peak RSS of the winnow process (RUSAGE_CHILDREN of a parent
  whose only child it is) of at most RSS_BASE_MB + 4 x the limit (116-356 MB; the issue asks
  <= 500 MB for the 4 GB bomb).
* dev-zero, dev-urandom, fifo (no writer), fifo-writer (another descriptor holds the pipe open with
  records waiting in it), directory, socket: exit 2 with `winnow: PATH: not a regular file (...)`
  within DEADLINE seconds (a hang is a failure, never a wait). A directory is refused by click's
  argument check before winnow sees it: exit 2, "Error: ... File 'PATH' is a directory.". For the FIFO with a writer, the
  records are still in the pipe afterwards: winnow read nothing from it.
* changing: a large JSONL file to which a writer thread appends whole records while the import
  runs, in one burst or a stream of small writes, from a random moment (before the import opens
  the file, during the read, or after it). Expected: either exit 2 with "the file changed while it
  was read; nothing was imported", or exit 0 with the source's recorded sha256 equal to the
  sha256 of exactly the records imported (their raw lines, joined) and those records a prefix of
  the file at a record boundary — never a digest of other bytes. A burst is one write: the import
  holds all of it or none of it (a stream may be cut between two of its writes, when the read
  ended between them). Then the stable file: after a
  refusal it imports whole (recorded sha256 = the file's), and again adds nothing; after an import
  of the whole file, re-importing adds nothing; after an import that finished before the append,
  the file cut back to the bytes imported re-imports as "already imported" (the appended file is
  a new file to winnow: importing it adds it as a new source, which is documented, not checked).

For a new project every refusal leaves no project file (nor -wal/-shm); for an existing one every
file of the project is byte-for-byte as it was, integrity_check is ok and the counts unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from reliability import Outcome, Scenario
from reliability.project import GOAL, build_project, file_state, integrity, records
from reliability.term import WINNOW, winnow_env
from review.store import Change, Store

MB = 1 << 20
DEADLINE = 20.0  # a refusal of what is not a regular file comes at once; this is for a loaded CI machine
BOMB_DEADLINE = 60.0
RSS_BASE_MB = 100  # Python, click and winnow's modules: ~40-50 MB measured; the rest is the bound's slack
CHANGING_RECORDS = 30_000  # about 7 MB: an import of a second or two, so appends land during it
KINDS = ("bomb", "bomb-default", "dev-zero", "dev-urandom", "fifo", "fifo-writer", "directory", "socket", "changing")
WEIGHTS = {"changing": 4, "bomb": 3}
NOT_REGULAR = {
    "dev-zero": "a character device",
    "dev-urandom": "a character device",
    "fifo": "a named pipe, FIFO",
    "fifo-writer": "a named pipe, FIFO",
    "directory": "a directory",
    "socket": "a socket",
}
CHANGED = "the file changed while it was read; nothing was imported"
# Runs winnow as its only child, so RUSAGE_CHILDREN's ru_maxrss is winnow's own peak (KiB on Linux).
MEASURE = (
    "import json, resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "print(json.dumps([r.returncode, r.stdout, r.stderr, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))\n"
)


@dataclass
class Result:
    rc: int | None  # None: it did not end within the deadline (killed)
    stdout: str
    stderr: str
    seconds: float
    peak_mb: float | None = None


def run_winnow(args: list[str], env: dict[str, str], deadline: float, *, measure: bool = False) -> Result:
    """`winnow ARGS` in its own session, killed with its whole group if it outlives the deadline."""
    cmd = [str(WINNOW), *args]
    if measure:
        cmd = [sys.executable, "-c", MEASURE, *cmd]
    t = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=deadline)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return Result(None, out, err, time.perf_counter() - t)
    seconds = time.perf_counter() - t
    if not measure:
        return Result(proc.returncode, out, err, seconds)
    rc, out, err, kib = json.loads(out)
    return Result(rc, out, err, seconds, kib / 1024)


# --------------------------------------------------------------------------------- the inputs


def _member(data: bytes) -> bytes:
    c = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: one gzip member
    return c.compress(data) + c.flush()


def write_bomb(path: Path, expands_mb: int, good: int, array: bool) -> int:
    """A gzip file whose record after `good` good ones is one string of about `expands_mb` MB.
    Returns the line the bomb record starts on."""
    good_recs = [json.dumps({"instruction": f"question {i}?", "output": f"answer {i}."}) for i in range(good)]
    if array:
        head = "[\n" + "".join(r + ",\n" for r in good_recs)
        line, tail = good + 2, b'"}\n]\n'
    else:
        head = "".join(r + "\n" for r in good_recs)
        line, tail = good + 1, b'"}\n'
    block = _member(b"x" * (16 * MB))
    with open(path, "wb") as fh:
        fh.write(_member(head.encode() + b'{"instruction": "q", "output": "'))
        for _ in range(max(1, expands_mb // 16)):
            fh.write(block)
        fh.write(_member(tail))
    return line


def write_changing(path: Path, rng: random.Random, n: int) -> bytes:
    words = "refund invoice account password reset plan upgrade cancel policy order ship receipt".split()
    lines = []
    for i in range(n):
        q = " ".join(rng.choice(words) for _ in range(rng.randint(5, 25)))
        a = " ".join(rng.choice(words) for _ in range(rng.randint(10, 60)))
        lines.append(json.dumps({"instruction": f"Q{i}: {q}?", "output": f"A{i}: {a}."}) + "\n")
    data = "".join(lines).encode()
    path.write_bytes(data)
    return data


def appended_records(rng: random.Random, k: int, n: int) -> list[bytes]:
    return [
        json.dumps({"instruction": f"late {k}.{i}?", "output": f"appended {i}."}).encode() + b"\n" for i in range(n)
    ]


# --------------------------------------------------------------------------------- the project


def existing_project(path: Path, rng: random.Random) -> Path:
    build_project(path, records(150, rng, long_every=0), GOAL)
    with Store(path, create=False) as store:
        store.apply(1, [Change(i, "keep") for i in range(1, 40)], kind="batch")
        store.apply(1, [Change(i, "drop", "off-goal") for i in range(40, 60)], kind="batch")
    return path


def project_files(db: Path) -> dict[str, str]:
    out = {}
    for p in sorted(db.parent.iterdir()):
        if p.name.startswith(db.name):
            out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def old_rows(db: Path, old_sources: int) -> str:
    """A digest of the project's rows that no import may touch (sources and samples it held before)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        h = hashlib.sha256()
        for sql in (
            f"SELECT * FROM sources WHERE id <= {old_sources} ORDER BY id",
            f"SELECT * FROM samples WHERE source_id <= {old_sources} ORDER BY id",
            "SELECT * FROM goals ORDER BY id",
            "SELECT * FROM decisions ORDER BY goal_id, sample_id",
            "SELECT * FROM events ORDER BY id",
        ):
            for row in conn.execute(sql):
                h.update(repr(row).encode())
        return h.hexdigest()
    finally:
        conn.close()


def imported(db: Path, name: str) -> list[tuple[str, int, bytes]]:
    """(recorded sha256, records, the raw lines joined) of each source called `name`."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out = []
        for sid, sha, n in conn.execute("SELECT id, sha256, records FROM sources WHERE name = ? ORDER BY id", (name,)):
            raws = [r[0] for r in conn.execute("SELECT raw FROM samples WHERE source_id = ? ORDER BY position", (sid,))]
            out.append((sha, n, "".join(r + "\n" for r in raws).encode()))
        return out
    finally:
        conn.close()


@dataclass
class Project:
    db: Path
    new: bool
    files: dict[str, str]
    counts: tuple[int, int, int] | None


def take_project(trial: Path, base: Path, rng: random.Random) -> Project:
    db = trial / "project.db"
    new = rng.random() < 0.5
    if not new:
        shutil.copy(base, db)
    files = project_files(db)
    counts = None
    if not new:
        fs = file_state(db)
        counts = (fs.total, fs.kept, fs.dropped)
    return Project(db, new, files, counts)


def unchanged(out: Outcome, where: str, p: Project) -> None:
    """After a refusal: no project file for a new project; every file as it was for an existing one."""
    now = project_files(p.db)
    if p.new:
        if now:
            out.fail(f"{where}: a refused import into a new project left {sorted(now)}")
        return
    if now != p.files:
        out.fail(f"{where}: the project's files changed although the import was refused: {sorted(now)}")
    status = integrity(p.db)
    if status != "ok":
        out.fail(f"{where}: integrity_check: {status}")
        return
    fs = file_state(p.db)
    if (fs.total, fs.kept, fs.dropped) != p.counts:
        out.fail(f"{where}: counts {(fs.total, fs.kept, fs.dropped)} != {p.counts} before")


def check_refusal(out: Outcome, where: str, r: Result, first: str, deadline: float) -> bool:
    if r.rc is None:
        out.fail(f"{where}: no answer within {deadline:.0f} s (killed): a hang")
        return False
    lines = r.stderr.strip().splitlines()
    if r.rc != 2 or not lines or not lines[0].startswith(first):
        out.fail(f"{where}: expected exit 2 and '{first}…', got {r.rc}: {r.stderr.strip()[-500:]}")
        return False
    if "Traceback" in r.stderr or "MemoryError" in r.stderr:
        out.fail(f"{where}: a traceback on stderr: {r.stderr[-500:]}")
        return False
    return True


# --------------------------------------------------------------------------------- the trials


class Figures:
    def __init__(self) -> None:
        self.kinds: dict[str, int] = {}
        self.peaks: list[tuple[int, int, float]] = []  # (limit MB, bomb MB, peak MB)
        self.refusal_s: list[float] = []
        self.changing: dict[str, int] = {}
        self.skipped: set[str] = set()


def trial_bomb(out, where, trial, p, env, rng, fig, default: bool) -> None:
    limit = 64 if default else rng.choice([4, 8, 16])
    expands = 4096 if default else limit * rng.randint(2, 30)
    array = rng.random() < 0.3
    path = trial / ("bomb.json.gz" if array else "bomb.jsonl.gz")
    line = write_bomb(path, expands, rng.randint(0, 40), array)
    args = ["import", str(path), "--db", str(p.db)] + ([] if default else ["--max-record-mb", str(limit)])
    r = run_winnow(args, env, BOMB_DEADLINE, measure=True)
    where += f" ({path.stat().st_size / 1e6:.1f} MB gzip -> {expands} MB line at {line}, limit {limit} MB)"
    if check_refusal(out, where, r, f"winnow: {path}:{line}: record larger than {limit} MB — ", BOMB_DEADLINE):
        if "nothing was imported" not in r.stderr:
            out.fail(f"{where}: the refusal should say nothing was imported: {r.stderr[-300:]}")
    if r.peak_mb is not None:
        fig.peaks.append((limit, expands, r.peak_mb))
        bound = min(500, RSS_BASE_MB + 4 * limit)
        if r.peak_mb > bound:
            out.fail(f"{where}: peak RSS {r.peak_mb:.0f} MB > {bound} MB")
    unchanged(out, where, p)


def trial_not_regular(out, where, trial, p, env, rng, fig, kind: str) -> None:
    cleanup = None
    pipe_fd = None
    waiting = b""
    if kind in ("dev-zero", "dev-urandom"):
        path = Path("/dev/zero" if kind == "dev-zero" else "/dev/urandom")
        if not path.exists():
            fig.skipped.add(kind)
            return
    elif kind in ("fifo", "fifo-writer"):
        path = trial / "stream.jsonl"
        os.mkfifo(path)
        if kind == "fifo-writer":  # a writer holds the pipe open with records waiting in it
            pipe_fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
            waiting = b"".join(appended_records(rng, 0, 50))
            os.write(pipe_fd, waiting)
    elif kind == "directory":
        path = trial / "data.jsonl"
        path.mkdir()
        (path / "part-0.jsonl").write_text('{"instruction": "q", "output": "a"}\n')
    else:  # socket: its path must be short (108 bytes), so it may live in a folder of its own
        folder = trial
        if len(str(trial / "data.sock")) > 100:
            folder = Path(tempfile.mkdtemp(prefix="wn-"))
            cleanup = folder
        path = folder / "data.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(str(path))
        sock.listen(1)
    try:
        r = run_winnow(["import", str(path), "--db", str(p.db)], env, DEADLINE)
        fig.refusal_s.append(r.seconds)
        first = f"winnow: {path}: not a regular file ({NOT_REGULAR[kind]}) — "
        if kind == "directory" and f"File '{path}' is a directory." in r.stderr:
            first = "Usage: winnow import"  # click's own check of the argument (dir_okay=False) comes first
        elif kind == "directory":
            # a folder is read as a dataset of hub shards (05f9069); one without them is refused so
            first = f"winnow: {path}: a folder, with no Parquet shards"
        check_refusal(out, where, r, first, DEADLINE)
        if pipe_fd is not None:
            try:
                left = os.read(pipe_fd, len(waiting) + 1)
            except BlockingIOError:
                left = b""
            if left != waiting:
                out.fail(f"{where}: winnow read {len(waiting) - len(left)} bytes from the FIFO it refused")
        unchanged(out, where, p)
    finally:
        if pipe_fd is not None:
            os.close(pipe_fd)
        if kind == "socket":
            sock.close()
            path.unlink(missing_ok=True)
            if cleanup:
                shutil.rmtree(cleanup, ignore_errors=True)


class Appender(threading.Thread):
    """Appends whole records to `path` from `delay` seconds on: one burst, or a stream of small writes."""

    def __init__(self, path: Path, recs: list[bytes], delay: float, stream: bool) -> None:
        super().__init__(daemon=True)
        self.path, self.recs, self.delay, self.stream = path, recs, delay, stream

    def run(self) -> None:
        time.sleep(self.delay)  # the drawn moment: it is the input's timing, not a check
        with open(self.path, "ab") as fh:
            if not self.stream:
                fh.write(b"".join(self.recs))
                return
            for i in range(0, len(self.recs), 5):
                fh.write(b"".join(self.recs[i : i + 5]))
                fh.flush()
                time.sleep(0.01)


def trial_changing(out, where, trial, p, env, rng, fig, original: Path, full: float) -> None:
    path = trial / "growing.jsonl"
    shutil.copy(original, path)
    old_sources = 0
    old = None
    if not p.new:
        with Store(p.db, create=False) as store:
            old_sources = max(s.id for s in store.sources())
        old = old_rows(p.db, old_sources)
    stream = rng.random() < 0.5
    delay = rng.uniform(0, full)  # from before the file is opened to the end of the import
    recs = appended_records(rng, 1, rng.randint(1, 300))
    writer = Appender(path, recs, delay, stream)
    writer.start()
    r = run_winnow(["import", str(path), "--db", str(p.db)], env, BOMB_DEADLINE)
    writer.join(timeout=60)
    final = path.read_bytes()
    where += f" ({'stream' if stream else 'burst'} of {len(recs)} records from {delay:.2f} s of a {full:.1f} s import)"
    if r.rc is None:
        out.fail(f"{where}: the import did not end within {BOMB_DEADLINE:.0f} s")
        return
    if r.rc == 2:
        check_refusal(out, where, r, f"winnow: {path}: {CHANGED} — ", BOMB_DEADLINE)
        unchanged(out, where, p)
        fig.changing["refused: changed while read"] = fig.changing.get("refused: changed while read", 0) + 1
        # The stable file now imports whole, once.
        r2 = run_winnow(["import", str(path), "--db", str(p.db)], env, BOMB_DEADLINE)
        if r2.rc != 0:
            out.fail(f"{where}: importing the stable file exited {r2.rc}: {r2.stderr.strip()[-300:]}")
            return
        got = imported(p.db, path.name)
        if len(got) != 1 or got[0][2] != final or got[0][0] != hashlib.sha256(final).hexdigest():
            out.fail(f"{where}: the stable file's import does not hold it exactly ({len(got)} sources)")
    elif r.rc == 0:
        got = imported(p.db, path.name)
        if len(got) != 1:
            out.fail(f"{where}: {len(got)} sources named {path.name} after one import")
            return
        sha, n, joined = got[0]
        if sha != hashlib.sha256(joined).hexdigest():
            out.fail(f"{where}: the recorded sha256 is not that of the {n} records imported (the bug of issue 12/9)")
        if not final.startswith(joined) or n != joined.count(b"\n"):
            out.fail(f"{where}: the {n} records imported are not the file's first {n} records")
        whole = joined == final
        late = joined.count(b"\n") - CHANGING_RECORDS  # appended records that were imported
        if whole:
            state = "imported the appended file whole"
        elif late == 0:
            state = "imported before the append"
        elif stream and 0 < late < len(recs):
            state = "imported between two writes of the stream"
        else:  # one write of whole records: the read saw all of it or none of it, or it was refused
            state = f"imported {late} of the {len(recs)} records of one write"
            out.fail(f"{where}: {state}: a change during the read went unnoticed")
        fig.changing[state] = fig.changing.get(state, 0) + 1
        if not whole:
            with open(path, "r+b") as fh:  # the stable file: the bytes that were imported
                fh.truncate(len(joined))
    else:
        out.fail(f"{where}: the import exited {r.rc}: {r.stderr.strip()[-400:]}")
        return
    # Once stable and imported, importing it again adds nothing.
    count = len(imported(p.db, path.name))
    again = run_winnow(["import", str(path), "--db", str(p.db)], env, BOMB_DEADLINE)
    if again.rc != 0 or "already imported" not in again.stdout:
        out.fail(
            f"{where}: re-importing the stable file should say 'already imported': {again.rc} {again.stdout[-200:]}"
        )
    if len(imported(p.db, path.name)) != count:
        out.fail(f"{where}: re-importing the stable file added a source (duplicated its records)")
    status = integrity(p.db)
    if status != "ok":
        out.fail(f"{where}: integrity_check: {status}")
    if old is not None and old_rows(p.db, old_sources) != old:
        out.fail(f"{where}: the project's older samples, goals, decisions or log changed")


def run(out: Outcome, trials: int, work: Path, rng: random.Random) -> None:
    if not WINNOW.exists():
        out.skip(f"needs the installed winnow script ({WINNOW}): pip install -e .")
        return
    env = winnow_env(work)
    base = existing_project(work / "existing.db", rng)
    original = work / "changing.jsonl"
    write_changing(original, rng, CHANGING_RECORDS)
    t = time.perf_counter()
    r = run_winnow(["import", str(original), "--db", str(work / "measure.db")], env, BOMB_DEADLINE)
    full = time.perf_counter() - t
    if r.rc != 0:
        out.fail(f"a plain import of the changing file failed ({r.rc}): {r.stderr.strip()[-400:]}")
        return
    for p in work.glob("measure.db*"):
        p.unlink()

    fig = Figures()
    order = list(KINDS)
    rng.shuffle(order)
    for k in range(1, trials + 1):
        kind = order[k - 1] if k <= len(order) else rng.choices(KINDS, [WEIGHTS.get(n, 1) for n in KINDS])[0]
        trial = work / f"trial-{k}"
        trial.mkdir()
        p = take_project(trial, base, rng)
        where = f"trial {k} ({kind}, {'new' if p.new else 'existing'} project)"
        failures_before = len(out.failures)
        if kind in ("bomb", "bomb-default"):
            trial_bomb(out, where, trial, p, env, rng, fig, kind == "bomb-default")
        elif kind == "changing":
            trial_changing(out, where, trial, p, env, rng, fig, original, full)
        else:
            trial_not_regular(out, where, trial, p, env, rng, fig, kind)
        fig.kinds[kind] = fig.kinds.get(kind, 0) + 1
        out.trials = k
        if len(out.failures) == failures_before:
            shutil.rmtree(trial, ignore_errors=True)

    out.note("kinds: " + ", ".join(f"{n} {c}" for n, c in sorted(fig.kinds.items())))
    for limit in sorted({lim for lim, _, _ in fig.peaks}):
        lines = [e for lim, e, _ in fig.peaks if lim == limit]
        peaks = [pk for lim, _, pk in fig.peaks if lim == limit]
        out.note(
            f"limit {limit} MB: {len(lines)} bombs ({min(lines):,}-{max(lines):,} MB lines), peak RSS "
            f"{min(peaks):.0f}-{max(peaks):.0f} MB (bound {min(500, RSS_BASE_MB + 4 * limit)} MB)"
        )
    if fig.refusal_s:
        out.note(f"not-a-regular-file refusals took {min(fig.refusal_s):.2f}-{max(fig.refusal_s):.2f} s")
    if fig.changing:
        out.note(
            f"changing file ({CHANGING_RECORDS:,} records, import {full:.1f} s): "
            + ", ".join(f"{s} {n}" for s, n in sorted(fig.changing.items()))
        )
    if fig.skipped:
        out.note(f"not on this machine: {', '.join(sorted(fig.skipped))}")


SCENARIO = Scenario(
    name="hostile-input",
    checked=(
        "winnow import of a gzip bomb (refused by its line, peak RSS bounded), /dev/zero, /dev/urandom, a FIFO "
        "with and without a writer, a directory, a socket (refused at once), a file appended to during the "
        "import (refused, or its recorded sha256 is of exactly the records imported, never duplicated); "
        "a refusal leaves no new project file and an existing one byte-for-byte as it was"
    ),
    run=run,
    full=60,
    quick=9,
)
