"""contention: the project file shared, locked, read-only or on a full disk, through the real
`winnow` in a real terminal (reliability.term.PtyTerminal) and as a subprocess.

Each trial is one situation:

  second instance  `winnow open` on a project another `winnow open` has: a clear message naming
                   the holder, a nonzero exit; the first instance still decides.
  headless alongside  `winnow stats` runs while the app reviews: every key acknowledged after it
                   is in the file once the app has quit.
  busy: give up    another process holds the write lock (BEGIN IMMEDIATE) past winnow's patience
                   while a decision key is pressed: "waiting" naming the holder, then "busy — ...
                   nothing was written"; the sample stays on screen undecided, the file holds no
                   row; once released the same key works.
  busy: released   the lock is released while the key waits: nothing is acknowledged before the
                   row is in the file, then the screen moves on by itself.
  busy: import     `winnow import` while the lock is held past the busy timeout: exit 2, "busy" and
                   the holder's pid, the file unchanged; released mid-wait, the import succeeds.
  busy: no freeze  the app in process (Pilot) with an event-loop lag monitor while a key waits on
                   the lock: the loop is never blocked for the busy timeout (max lag noted).
  read-only        the project on a read-only mount (else: chmod 444, run as nobody): `open` is
                   refused with "read-only ... copy it somewhere writable", `stats` and `export`
                   work, `import` is refused; the file is byte-for-byte unchanged.
  disk full        the project on a small tmpfs filled to the last block (else: SQLITE_FULL
                   injected): a key and an import say "disk full ... free space on ...", nothing
                   acknowledged, the file unchanged; after freeing space both work.

Mounts are made inside the work folder only and always unmounted in `finally`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from reliability import Outcome, Scenario
from reliability.pilot import wait_until
from reliability.scenarios.faults import build_base, dump, fresh, records, verdict_on_disk, write_jsonl
from reliability.term import WINNOW, PtyTerminal, winnow_env

N = 60  # samples in the project (build_base)
PATIENCE = 5.0  # tui.write_retry.BUSY_PATIENCE: how long a key waits for a busy project

HOLDER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("INSERT INTO meta (key, value) VALUES ('held', 'x') ON CONFLICT(key) DO UPDATE SET value = 'y'")
print("held", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
print("released", flush=True)
"""


class Holder:
    """Another process holding the project's write lock until release() (its write rolled back)."""

    def __init__(self, db: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if line != "held":
            self.release()
            raise RuntimeError(f"the lock holder did not start: {line!r}")
        self.pid = self.proc.pid

    def release(self) -> None:
        if self.proc.poll() is None:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write("\n")
                self.proc.stdin.flush()
                self.proc.wait(10)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(5)

    def __enter__(self) -> Holder:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def toasts(term: PtyTerminal) -> str:
    """The text of the notifications on screen (right of a ▌ border), joined into one line."""
    parts = [row.rsplit("▌", 1)[1] for row in term.text().splitlines() if "▌" in row]
    return " ".join(" ".join(parts).split())


def says(message: str, *words: str) -> bool:
    """Whether a notification holds every word, however the screen wrapped it: a path longer than
    the toast is broken mid-word across rows, and joining rows puts a space inside it, so both sides
    are compared with all whitespace removed."""
    flat = "".join(message.split())
    return all("".join(w.split()) in flat for w in words)


def wait_toast(term: PtyTerminal, pattern: str, timeout: float) -> str | None:
    end = time.monotonic() + timeout
    rx = re.compile(pattern)
    while time.monotonic() < end:
        t = toasts(term)
        if rx.search(t):
            return t
        time.sleep(0.05)
    return None


def status(n: int) -> str:
    return rf"#{n} / {N} "


def open_app(db: Path, tmp: Path) -> PtyTerminal:
    term = PtyTerminal([str(WINNOW), "open", str(db)], env=winnow_env(tmp))
    term.wait_for(status(1), timeout=30)
    return term


def quit_app(out: Outcome, term: PtyTerminal, where: str) -> None:
    term.send("q")
    code = term.wait_exit(15)
    if code != 0:
        out.fail(f"{where}: quitting the app gave exit code {code}")


def winnow(tmp: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(WINNOW), *args], env=winnow_env(tmp), capture_output=True, text=True, timeout=timeout)


def fresh_project(work: Path, name: str, base: Path) -> Path:
    folder = work / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    db = folder / "project.db"
    shutil.copyfile(base, db)
    return db


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def clear_message(text: str, db: Path, *words: str) -> bool:
    return str(db) in text and "Traceback" not in text and all(w in text for w in words)


# ---------------------------------------------------------------------------------------- mounts


class CannotMount(Exception):
    pass


@contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    if os.environ.get("WINNOW_RELIABILITY_NO_MOUNT"):  # to exercise the fallbacks
        raise CannotMount("mounting disabled by WINNOW_RELIABILITY_NO_MOUNT")
    where.mkdir(parents=True, exist_ok=True)
    try:
        r = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise CannotMount(str(e)) from e
    if r.returncode != 0:
        raise CannotMount((r.stderr or r.stdout).strip() or f"mount exited {r.returncode}")
    try:
        yield where
    finally:
        for _ in range(20):
            if subprocess.run(["umount", str(where)], capture_output=True).returncode == 0:
                break
            time.sleep(0.25)
        else:
            subprocess.run(["umount", "-l", str(where)], capture_output=True)


def remount_ro(where: Path) -> None:
    r = subprocess.run(["mount", "-o", "remount,ro", str(where)], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise CannotMount((r.stderr or r.stdout).strip())


# ---------------------------------------------------------------------------------------- trials


def second_instance(out: Outcome, work: Path, base: Path) -> None:
    db = fresh_project(work, "second", base)
    tmp = db.parent
    with open_app(db, tmp) as first:
        with PtyTerminal([str(WINNOW), "open", str(db)], env=winnow_env(tmp)) as second:
            code = second.wait_exit(30)
            text = bytes(second.raw).decode("utf-8", "replace")
        if code in (None, 0):
            out.fail(f"second instance: `winnow open` on an open project exited {code}, not an error")
        if not clear_message(text, db, "already open for review", f"winnow pid {first.pid}", "close that winnow"):
            out.fail(f"second instance: unclear message: {text.strip()!r}")
        first.send("a")
        first.wait_for(status(2))
        if verdict_on_disk(db, 1) != "keep":
            out.fail("second instance: the first instance's key did not reach the file")
        quit_app(out, first, "second instance")


def headless_alongside(out: Outcome, work: Path, base: Path) -> None:
    """`winnow stats` in another terminal while the app reviews (after a worker opened its own
    connection): every key after it must still reach the file."""
    name = "headless alongside"
    db = fresh_project(work, "alongside", base)
    tmp = db.parent
    with open_app(db, tmp) as term:
        term.send("j")
        term.wait_for(status(2))
        term.send("g")  # first undecided: found by a worker with its own Store
        term.wait_for(status(1))
        r = winnow(tmp, "stats", "--db", str(db))
        if r.returncode != 0:
            out.fail(f"{name}: `winnow stats` beside the open app failed: {r.stdout + r.stderr!r}")
        for n in (1, 2, 3):
            term.send("a")
            term.wait_for(status(n + 1))
        quit_app(out, term, name)
    got = {n: verdict_on_disk(db, n) for n in (1, 2, 3)}
    if got != {1: "keep", 2: "keep", 3: "keep"}:
        out.fail(f"{name}: keys acknowledged after `winnow stats` ran are not all in the file: {got}")


def busy_key(out: Outcome, work: Path, base: Path, *, release_after: float | None) -> None:
    name = "busy: give up" if release_after is None else "busy: released"
    db = fresh_project(work, "busy-key", base)
    tmp = db.parent
    with open_app(db, tmp) as term:
        holder = Holder(db)
        try:
            t0 = time.monotonic()
            term.send("a")
            waiting = wait_toast(term, r"waiting", 5)
            if waiting is None:
                out.fail(f"{name}: no 'waiting' notice while the project was busy:\n{term.text()}")
            elif not says(waiting, f"process {holder.pid}"):
                out.fail(f"{name}: the notice does not name the lock holder (pid {holder.pid}): {waiting!r}")
            if verdict_on_disk(db, 1) is not None or not re.search(status(1), term.text()):
                out.fail(f"{name}: acknowledged or moved on while the write was still waiting")
            if release_after is not None:
                time.sleep(max(0.0, release_after - (time.monotonic() - t0)))
                if re.search(status(2), term.text()):
                    out.fail(f"{name}: moved on before the lock was released")
                holder.release()
                term.wait_for(status(2), timeout=10)
                if verdict_on_disk(db, 1) != "keep":
                    out.fail(f"{name}: moved on, but #1 is not kept in the file")
                out.note(f"{name}: the key waited {time.monotonic() - t0:.1f} s, then saved")
            else:
                error = wait_toast(term, r"busy — .*nothing was written", PATIENCE + 10)
                if error is None:
                    out.fail(f"{name}: no 'busy' error after {PATIENCE + 10:.0f} s:\n{term.text()}")
                elif not says(error, db.name, f"process {holder.pid}", "try again"):
                    out.fail(f"{name}: the busy error lacks the file, holder or what to do: {error!r}")
                screen = term.text()
                if not re.search(status(1), screen) or "○ undecided" not in screen:
                    out.fail(f"{name}: after giving up the screen does not show #1 undecided:\n{screen}")
                if verdict_on_disk(db, 1) is not None:
                    out.fail(f"{name}: nothing was acknowledged, but the file holds a row for #1")
                holder.release()
                term.send("a")  # the same key, now that the lock is free
                term.wait_for(status(2), timeout=10)
                if verdict_on_disk(db, 1) != "keep":
                    out.fail(f"{name}: after release the key moved on, but #1 is not kept in the file")
        finally:
            holder.release()
        if term.alive():
            quit_app(out, term, name)
        else:
            out.fail(f"{name}: the app died (exit {term.wait_exit(1)}):\n{term.text()}")


def busy_import(out: Outcome, work: Path, base: Path) -> None:
    name = "busy: import"
    db = fresh_project(work, "busy-import", base)
    tmp = db.parent
    data = write_jsonl(tmp / "more.jsonl", records(12, tag="c"))
    before = dump(db)
    with Holder(db) as holder:
        t0 = time.monotonic()
        r = winnow(tmp, "import", str(data), "--db", str(db))
        waited = time.monotonic() - t0
        text = r.stdout + r.stderr
        if r.returncode != 2:
            out.fail(f"{name}: exit {r.returncode} while the write lock was held: {text!r}")
        if not clear_message(text, db, "busy", f"process {holder.pid}", "try again", "nothing was imported"):
            out.fail(f"{name}: unclear message: {text!r}")
    if dump(db) != before:
        out.fail(f"{name}: the failed import changed the file")
    out.note(f"{name}: gave up after {waited:.1f} s")
    # Released while the import waits: it goes through.
    with Holder(db) as holder:
        proc = subprocess.Popen(
            [str(WINNOW), "import", str(data), "--db", str(db)],
            env=winnow_env(tmp),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        time.sleep(1.0)
        holder.release()
        text, _ = proc.communicate(timeout=60)
    if proc.returncode != 0 or fresh(db, "SELECT count(*) FROM samples")[0][0] != N + 12:
        out.fail(f"{name}: released mid-wait, the import did not go through: {text!r}")


def no_freeze(out: Outcome, work: Path, base: Path) -> None:
    """In process: how long the event loop is blocked while a key waits on a held lock."""
    name = "busy: no freeze"
    db = fresh_project(work, "freeze", base)

    async def main() -> tuple[float, float]:
        from tui.app import make_app

        app = make_app(db, config={"cursor_blink": False})
        lags: list[float] = []
        stop = asyncio.Event()

        async def monitor() -> None:
            while not stop.is_set():
                t = time.perf_counter()
                await asyncio.sleep(0.005)
                lags.append(time.perf_counter() - t - 0.005)

        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await pilot.pause(0.3)
            task = asyncio.create_task(monitor())
            await pilot.press("j", "k")
            await pilot.pause(0.5)
            baseline = max(lags, default=0.0)
            lags.clear()
            with Holder(db):
                lags.clear()  # not the holder's start
                await pilot.press("a")

                def waiting() -> list[str]:
                    return [n.message for n in app._notifications if "waiting" in n.message]

                try:
                    await wait_until(pilot, lambda: bool(waiting()), timeout=10)
                except AssertionError:
                    out.fail(f"{name}: no 'waiting' notice while the project was busy")
                await pilot.pause(1.5)  # the window measured: the loop keeps running while the key waits
                busy = max(lags, default=0.0)
                await pilot.press("escape")  # give up
                try:
                    await wait_until(pilot, lambda: not getattr(app.screen, "busy", False), timeout=15)
                except AssertionError:
                    out.fail(f"{name}: still busy 15 s after giving up")
                if verdict_on_disk(db, 1) is not None:
                    out.fail(f"{name}: a row for #1 after giving up")
            await pilot.press("a")
            try:
                await wait_until(pilot, lambda: verdict_on_disk(db, 1) == "keep", timeout=15)
            except AssertionError:
                pass
            if verdict_on_disk(db, 1) != "keep":
                out.fail(f"{name}: after the lock was released, the key did not save #1")
            stop.set()
            await task
        return baseline, busy

    baseline, busy = asyncio.run(main())
    out.note(f"{name}: longest event-loop stall {busy * 1000:.0f} ms while busy ({baseline * 1000:.0f} ms idle)")
    if busy > 0.4:
        out.fail(f"{name}: the event loop stalled {busy * 1000:.0f} ms while a key waited on a busy project")


def read_only(out: Outcome, work: Path, base: Path) -> None:
    name = "read-only"
    folder = work / "ro"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    try:
        with tmpfs(folder / "mnt", "16m") as mnt:
            db = mnt / "project.db"
            shutil.copyfile(base, db)
            remount_ro(mnt)
            read_only_checks(out, name + " (read-only mount)", db, base, folder, [])
            return
    except CannotMount as e:
        why = str(e)
    # No mounting here: an unprivileged user and a file it cannot write.
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        out.skip(f"{name}: cannot mount a read-only tmpfs ({why}) and cannot switch user (not root / no setpriv)")
        return
    mnt = folder / "nobody"
    mnt.mkdir()
    os.chmod(folder, 0o755)
    os.chmod(mnt, 0o777)  # nobody may create the -shm beside the project (SQLite reads WAL through it)
    db = mnt / "project.db"
    shutil.copyfile(base, db)
    os.chmod(db, 0o444)
    (folder / "out").mkdir()
    os.chmod(folder / "out", 0o777)
    prefix = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
    read_only_checks(out, name + " (chmod 444, as nobody)", db, base, folder, prefix)


def read_only_checks(out: Outcome, name: str, db: Path, base: Path, folder: Path, prefix: list[str]) -> None:
    before = sha256(db)
    env = winnow_env(folder)
    outdir = folder / "out"
    outdir.mkdir(exist_ok=True)

    def cmd(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*prefix, str(WINNOW), *args], env=env, capture_output=True, text=True, timeout=60)

    with PtyTerminal([*prefix, str(WINNOW), "open", str(db)], env=env) as term:
        code = term.wait_exit(30)
        text = " ".join(bytes(term.raw).decode("utf-8", "replace").split())
    if code in (None, 0):
        out.fail(f"{name}: `winnow open` on a read-only project exited {code}")
    if not clear_message(text, db, "read-only", "copy it somewhere writable"):
        out.fail(f"{name}: `winnow open` gave an unclear message: {text!r}")
    r = cmd("stats", "--db", str(db))
    if r.returncode != 0 or f"{N} samples" not in r.stdout:
        out.fail(f"{name}: `winnow stats` failed on a read-only project: {r.stdout + r.stderr!r}")
    kept_file = outdir / "kept.jsonl"
    r = cmd("export", "--db", str(db), "-o", str(kept_file))
    kept = fresh(base, "SELECT count(*) FROM decisions WHERE goal_id = 1 AND verdict = 'keep'")[0][0]
    if r.returncode != 0 or not kept_file.exists() or len(kept_file.read_text().splitlines()) != kept:
        out.fail(f"{name}: `winnow export` failed on a read-only project: {r.stdout + r.stderr!r}")
    elif "read-only" not in r.stdout:
        out.fail(f"{name}: `winnow export` does not say the export is not recorded: {r.stdout!r}")
    data = write_jsonl(outdir / "more.jsonl", records(5, tag="r"))
    r = cmd("import", str(data), "--db", str(db))
    if r.returncode == 0 or not clear_message(r.stdout + r.stderr, db, "read-only", "copy it somewhere writable"):
        out.fail(f"{name}: `winnow import` into a read-only project: exit {r.returncode}, {r.stdout + r.stderr!r}")
    if sha256(db) != before:
        out.fail(f"{name}: the read-only project's bytes changed")


def fill(folder: Path) -> Path:
    """Fill the file system holding `folder` to its last byte; returns the filler file."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        for size in (1 << 16, 4096, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def disk_full(out: Outcome, work: Path, base: Path) -> None:
    name = "disk full"
    folder = work / "full"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    try:
        with tmpfs(folder / "mnt", f"{base.stat().st_size // 1024 + 1024}k") as mnt:
            disk_full_checks(out, name + " (small tmpfs)", mnt, base, folder)
            return
    except CannotMount as e:
        out.note(f"{name}: cannot mount a tmpfs ({e}); SQLITE_FULL injected instead")
    disk_full_injected(out, name + " (SQLITE_FULL injected)", folder, base)


def disk_full_checks(out: Outcome, name: str, mnt: Path, base: Path, folder: Path) -> None:
    db = mnt / "project.db"
    shutil.copyfile(base, db)
    data = write_jsonl(folder / "more.jsonl", records(N, tag="f"))
    # Full before anything has the project open (SQLite cannot even make its -shm): an import.
    before = dump(db)
    filler = fill(mnt)
    r = winnow(folder, "import", str(data), "--db", str(db))
    text = r.stdout + r.stderr
    if r.returncode != 2 or not clear_message(text, db, "disk full", "free space on", "nothing was imported"):
        out.fail(f"{name}: import into a project on a full disk: exit {r.returncode}, {text!r}")
    filler.unlink()
    if dump(db) != before:
        out.fail(f"{name}: the import on a full disk changed the file")
    with open_app(db, folder) as term:
        filler = fill(mnt)
        before = dump(db)
        term.send("a")
        error = wait_toast(term, r"disk full — nothing was written", 15)
        if error is None:
            out.fail(f"{name}: no 'disk full' error after a key:\n{term.text()}")
        elif not says(error, db.name, "free space on", mnt.name):
            out.fail(f"{name}: the error lacks the file or where to free space: {error!r}")
        screen = term.text()
        if not re.search(status(1), screen) or "○ undecided" not in screen:
            out.fail(f"{name}: after the failed key the screen does not show #1 undecided:\n{screen}")
        if verdict_on_disk(db, 1) is not None:
            out.fail(f"{name}: the key failed, but the file holds a row for #1")
        r = winnow(folder, "import", str(data), "--db", str(db))
        text = r.stdout + r.stderr
        if r.returncode != 2 or not clear_message(text, db, "disk full", "free space on", "nothing was imported"):
            out.fail(f"{name}: import on a full disk: exit {r.returncode}, {text!r}")
        if dump(db) != before:
            out.fail(f"{name}: the failed key or import changed the file")
        filler.unlink()
        term.send("a")
        term.wait_for(status(2), timeout=10)
        if verdict_on_disk(db, 1) != "keep":
            out.fail(f"{name}: with space freed, the key moved on but #1 is not kept in the file")
        r = winnow(folder, "import", str(data), "--db", str(db))
        if r.returncode != 0 or fresh(db, "SELECT count(*) FROM samples")[0][0] != 2 * N:
            out.fail(f"{name}: with space freed, the import failed: {r.stdout + r.stderr!r}")
        if term.alive():
            quit_app(out, term, name)
        else:
            out.fail(f"{name}: the app died:\n{term.text()}")


def disk_full_injected(out: Outcome, name: str, folder: Path, base: Path) -> None:
    """No tmpfs: every COMMIT fails with SQLITE_FULL until 'space is freed'."""
    import sqlite3

    from click.testing import CliRunner

    from reliability.scenarios.faults import PLAN, injected
    from tui.cli import cli

    db = folder / "project.db"
    shutil.copyfile(base, db)
    data = write_jsonl(folder / "more.jsonl", records(N, tag="f"))

    async def main() -> None:
        from tui.app import make_app

        app = make_app(db, config={"cursor_blink": False})
        async with app.run_test(size=(100, 30), notifications=True) as pilot:
            await pilot.pause(0.3)
            before = dump(db)
            PLAN.arm(sql="COMMIT", every=True, code=sqlite3.SQLITE_FULL, message="database or disk is full")
            await pilot.press("a")

            def errors() -> list[str]:
                return [n.message for n in app._notifications if n.severity == "error"]

            try:
                await wait_until(pilot, lambda: errors(), timeout=15, message="no error after the key")
            except AssertionError:
                pass
            if not any("disk full" in m and "free space on" in m for m in errors()):
                out.fail(f"{name}: no 'disk full' error after a key: {errors()}")
            view = getattr(app.screen, "view", None)
            if view is None or view.sample.id != 1:
                out.fail(f"{name}: the screen moved on after a failed key")
            r = CliRunner().invoke(cli, ["import", str(data), "--db", str(db)])
            if r.exit_code != 2 or "disk full" not in r.output:
                out.fail(f"{name}: import on a full disk: exit {r.exit_code}, {r.output!r}")
            if dump(db) != before:
                out.fail(f"{name}: the failed key or import changed the file")
            PLAN.arm(None)  # space freed
            await pilot.press("a")
            try:
                await wait_until(pilot, lambda: verdict_on_disk(db, 1) == "keep", timeout=15)
            except AssertionError:
                pass
            if verdict_on_disk(db, 1) != "keep":
                out.fail(f"{name}: with space freed, the key did not save #1")

    with injected():
        asyncio.run(main())


# ---------------------------------------------------------------------------------------- the scenario

TRIALS: list[tuple[str, Callable[[Outcome, Path, Path], None]]] = [
    ("second instance", second_instance),
    ("headless alongside", headless_alongside),
    ("read-only", read_only),
    ("disk full", disk_full),
    ("busy: import", busy_import),
    ("busy: give up", lambda out, work, base: busy_key(out, work, base, release_after=None)),
    ("busy: released", lambda out, work, base: busy_key(out, work, base, release_after=1.5)),
    ("busy: no freeze", no_freeze),
]


def run(out: Outcome, trials: int, work: Path, rng) -> None:
    base = build_base(work, N)
    times: list[str] = []
    for i in range(trials):
        label, trial = TRIALS[i % len(TRIALS)]
        t = time.perf_counter()
        try:
            trial(out, work, base)
        except Exception as e:  # an AssertionError from wait_for carries the screen
            out.fail(f"{label}: {type(e).__name__}: {e}")
        times.append(f"{label} {time.perf_counter() - t:.1f} s")
        out.trials += 1
    out.note("; ".join(times))


SCENARIO = Scenario(
    name="contention",
    checked=(
        "a second instance, a held write lock (key, import, event loop), a read-only project and a full "
        "disk: a clear message naming the file and what to do, nothing acknowledged that was not written, "
        "no crash, and everything works again once the cause is gone"
    ),
    run=run,
    full=len(TRIALS),
    quick=len(TRIALS),
)
