"""export-kill: SIGKILL `winnow export` at a random moment; and outputs that would destroy the project.

One project is prepared: a JSONL source (BIG_RECORDS records) and a CSV source, goal #1 with
about two thirds of both kept, so an export writes two data files (`out.big.jsonl`,
`out.rows.csv`) and the manifest `out.jsonl.manifest.json` that names their sha256, record count
and size. A previous export of a smaller kept set (A) is made once; the project then keeps more
(B) and a reference export of B gives the bytes a complete new export has (the data files are
deterministic: the kept records verbatim, in order). Each trial copies the project and, in three
trials of four, the previous export into a fresh output folder, runs `winnow export` as a real
process and kills it with SIGKILL at a moment drawn from three ways (no test seam in winnow):

* timer: after a random delay spread over the whole export (start-up, the re-parse of every
  kept record, writing, hashing, the renames);
* temporary: as soon as the first `.NAME.winnow-PID-HEX.tmp` appears in the folder, plus a random
  delay of up to a tenth of the export (the writing phase);
* commit: as soon as one of the final names changes (the previous manifest moved aside, a data
  file renamed over its predecessor), so the kill lands inside the commit when the machine lets
  the watcher win the race.

Then, on what the kill left:
* the folder holds only the export's own names and temporaries; every data file is byte-for-byte
  the previous export's or the new export's (never partial); a manifest present is the previous
  one or the new one, and every file it names has exactly its sha256, record count and size
  (no manifest at all = interrupted, which the manifest's own "check" text tells a reader);
* the project passes integrity_check, its samples, sources, goals, decisions, event log and
  tallies are what they were, and it records at most one more export (exactly one when the
  export exited 0 before the kill); when it records none, the project file is byte-for-byte as it
  was (a -wal the kill left may hold an uncommitted transaction, which SQLite discards);
* the same export run again, without --force, exits 0, leaves no temporary at all and ends with
  the complete new export (manifest matching both files, files equal to the reference).

Each trial also tries two outputs (cycling through SPELLINGS) that would destroy something, on a
small one-source project: the project file, `./p.db`, a symlink and a hard link to it, its -wal
and -shm (with a reader holding the WAL open, so they exist), the imported source and a hard
link to it, with or without --force; and `-o ./project.db` on the trial's two-layout project,
where -o only gives the two data files their stem (accepted before 7943a88). Each must exit 2 with one line saying "exporting there would
destroy it", and every file in the folder must be byte-for-byte as before with no file added
(SQLite's -shm, which every reader writes, and an empty -wal excepted: they hold no data).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from reliability import Outcome, Scenario
from reliability.project import GOAL, build_project, integrity, records
from reliability.scenarios.kill_import import write_big
from reliability.term import WINNOW, winnow_env
from review.store import Change, Store

BIG_RECORDS = 12_000  # about 6 MB of JSONL: an export of two thirds of it takes about a second
CSV_ROWS = 2_000
TIMEOUT = 120  # one export, on a shared CI machine
OUT = "out.jsonl"
MANIFEST = OUT + ".manifest.json"
TMP = re.compile(r"\..+\.winnow-\d+-[0-9a-f]+\.tmp")
TABLES = ("samples", "sources", "goals", "goal_state", "decisions", "actions", "events", "tallies")
READER = (
    "import sqlite3, sys; c = sqlite3.connect(sys.argv[1], isolation_level=None); c.execute('BEGIN'); "
    "c.execute('SELECT count(*) FROM samples').fetchone(); print('reading', flush=True); sys.stdin.read(); "
    "c.execute('COMMIT'); c.close()"
)
SPELLINGS = ("project", "dot-slash", "symlink", "hardlink", "-wal", "-shm", "source", "source-hardlink")


@dataclass(frozen=True)
class Export:
    """The bytes of one complete export: data file name -> sha256, and the manifest's sha256."""

    data: dict[str, str]
    manifest: str


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def count_records(path: Path) -> int:
    if path.name.endswith(".csv"):
        with open(path, newline="", encoding="utf-8") as fh:
            return sum(1 for row in csv.reader(fh) if row) - 1  # the header is not a record
    with open(path, "rb") as fh:
        return sum(1 for line in fh if line.strip())


def fingerprint(db: Path) -> dict[str, str]:
    """A digest of every table a user's work lives in (the exports table aside: an export adds a row)."""
    out = {}
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        for t in TABLES:
            rows = sorted(repr(row) for row in conn.execute(f"SELECT * FROM {t}"))  # some have no rowid
            out[t] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
    finally:
        conn.close()
    return out


def exports_recorded(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return int(conn.execute("SELECT count(*) FROM exports").fetchone()[0])
    finally:
        conn.close()


def export_cmd(db: Path, out: Path | str, *extra: str) -> list[str]:
    return [str(WINNOW), "export", "--db", str(db), "-o", str(out), *extra]


def manifest_problems(folder: Path) -> list[str]:
    """Every file the manifest in `folder` names must have its sha256, record count and size."""
    try:
        m = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return [f"the manifest cannot be read: {e}"]
    problems = []
    for f in m.get("files", []):
        p = folder / Path(f["path"]).name
        if not p.exists():
            problems.append(f"the manifest names {p.name}, which is not there")
            continue
        if sha256(p) != f["sha256"]:
            problems.append(f"{p.name}: sha256 differs from the manifest's")
        if p.stat().st_size != f["bytes"]:
            problems.append(f"{p.name}: {p.stat().st_size} bytes, the manifest says {f['bytes']}")
        n = count_records(p)
        if n != f["records"]:
            problems.append(f"{p.name}: {n} records, the manifest says {f['records']}")
    return problems


def snapshot_export(folder: Path) -> Export:
    m = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    return Export({Path(f["path"]).name: f["sha256"] for f in m["files"]}, sha256(folder / MANIFEST))


def prepare(work: Path, rng: random.Random, env: dict[str, str]) -> tuple[Path, Export, Export, Path, float]:
    """(project, previous export, new export, folder holding the previous export, seconds one export takes)."""
    src = work / "src"
    src.mkdir()
    big = write_big(src / "big.jsonl", rng, BIG_RECORDS)
    with open(src / "rows.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["instruction", "output"])
        for i in range(CSV_ROWS):
            w.writerow([f"Row {i}: what is the refund window?", f"Answer {i}: " + "thirty days, " * rng.randint(2, 30)])
    db = work / "project.db"
    with Store(db) as store:
        store.import_file(big.path)
        store.import_file(src / "rows.csv")
        goal, _ = store.add_goal(GOAL)
        ids = [r[0] for r in store.conn.execute("SELECT id FROM samples ORDER BY id")]
        store.apply(goal.id, [Change(i, "keep") for i in ids if i % 3 == 1], kind="batch")  # A
    prev = work / "previous"
    prev.mkdir()
    res = subprocess.run(export_cmd(db, prev / OUT), capture_output=True, text=True, env=env, timeout=TIMEOUT)
    if res.returncode != 0:
        raise RuntimeError(f"the previous export failed: {res.stderr.strip()[-400:]}")
    with Store(db, create=False) as store:  # B: more kept, a few dropped
        store.apply(1, [Change(i, "keep") for i in ids if i % 3 == 2], kind="batch")
        store.apply(1, [Change(i, "drop", "off-goal") for i in ids if i % 30 == 1], kind="batch")
    ref = work / "reference"
    ref.mkdir()
    t = time.perf_counter()
    res = subprocess.run(export_cmd(db, ref / OUT), capture_output=True, text=True, env=env, timeout=TIMEOUT)
    full = time.perf_counter() - t
    if res.returncode != 0:
        raise RuntimeError(f"the reference export failed: {res.stderr.strip()[-400:]}")
    previous, new = snapshot_export(prev), snapshot_export(ref)
    if set(previous.data) != set(new.data) or any(previous.data[n] == new.data[n] for n in new.data):
        raise RuntimeError(f"the previous and new exports should differ in every file: {previous} {new}")
    return db, previous, new, prev, full


def refusal_project(work: Path, rng: random.Random) -> Path:
    folder = work / "refuse"
    folder.mkdir()
    db = build_project(folder / "p.db", records(120, rng, long_every=0), GOAL)  # source: p.jsonl
    with Store(db, create=False) as store:
        store.apply(1, [Change(i, "keep") for i in range(1, 61)], kind="batch")
    (folder / "link.db").symlink_to("p.db")
    os.link(db, folder / "alias.db")
    os.link(folder / "p.jsonl", folder / "alias.jsonl")
    return db


def folder_state(folder: Path) -> dict[str, str]:
    out = {}
    for p in sorted(folder.iterdir()):
        if p.is_symlink():
            out[p.name] = "-> " + os.readlink(p)
        elif p.name.endswith("-shm") or (p.name.endswith("-wal") and p.stat().st_size == 0):
            # SQLite's bookkeeping, holding no data: every reader writes the -shm, a read-only
            # connection (this harness's) leaves both behind, a clean close removes them.
            continue
        elif p.is_file():
            out[p.name] = sha256(p)
        else:
            out[p.name] = "(not a file)"
    return out


def try_refusal(out: Outcome, where: str, db: Path, spelling: str, force: bool, env: dict[str, str]) -> bool:
    """One output that would destroy something: refused, nothing changed. True when the -wal existed."""
    folder = db.parent
    target = {
        "project": str(db),
        "dot-slash": "./p.db",
        "symlink": str(folder / "link.db"),
        "hardlink": str(folder / "alias.db"),
        "-wal": str(db) + "-wal",
        "-shm": str(db) + "-shm",
        "source": str(folder / "p.jsonl"),
        "source-hardlink": str(folder / "alias.jsonl"),
        "project (two layouts)": "./" + db.name,  # -o is then the stem of out.big.jsonl, out.rows.csv
    }[spelling]
    reader = None
    if spelling in ("-wal", "-shm"):
        # Another process (as the open app would) keeps a read transaction, so the side files exist.
        # Not this one: hashing the project here would close a descriptor of it and drop this
        # process's SQLite locks (POSIX locks are per process), letting the export delete the WAL.
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(db)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert reader.stdout is not None and reader.stdout.readline().strip() == "reading"
    wal_existed = Path(str(db) + "-wal").exists()
    try:
        before = folder_state(folder)
        res = subprocess.run(
            export_cmd(db, target, *(["--force"] if force else [])),
            capture_output=True,
            text=True,
            env=env,
            cwd=folder,
            timeout=TIMEOUT,
        )
        after = folder_state(folder)
    finally:
        if reader is not None:
            reader.communicate(timeout=TIMEOUT)
    what = f"{where}: export -o {target}{' --force' if force else ''} ({spelling})"
    said = res.stderr.strip()
    if res.returncode != 2:
        out.fail(f"{what} exited {res.returncode}, expected a refusal (2): {said[-300:]} {res.stdout[-200:]}")
    elif "\n" in said or "Traceback" in said or "exporting there would destroy it" not in said:
        out.fail(f"{what}: the refusal should be one line saying why: {said[-400:]}")
    if after != before:
        changed = sorted(n for n in set(before) | set(after) if before.get(n) != after.get(n))
        out.fail(f"{what}: files changed although the export was refused: {changed}")
    return wal_existed


def watch_and_kill(proc: subprocess.Popen, folder: Path, way: str, delay: float, names: list[str]) -> str:
    """Kill proc the way drawn; return what the watcher saw when it fired."""
    if way == "timer":
        try:
            proc.wait(timeout=delay)
            return "exited first"
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            return f"at {delay:.2f} s"

    def inode(name: str) -> int | None:
        try:
            return os.stat(folder / name).st_ino
        except FileNotFoundError:
            return None

    start = {n: inode(n) for n in names}
    deadline = time.monotonic() + TIMEOUT
    while proc.poll() is None and time.monotonic() < deadline:
        if way == "temporary":
            if any(TMP.fullmatch(n) for n in os.listdir(folder)):
                if delay:
                    time.sleep(delay)  # the drawn moment after the first temporary appeared
                proc.send_signal(signal.SIGKILL)
                return "after the first temporary"
        elif any(inode(n) != start[n] for n in names):  # commit: a final name changed
            proc.send_signal(signal.SIGKILL)
            return "in the commit"
    return "exited first"


def classify(out: Outcome, where: str, folder: Path, previous: Export, new: Export, had_previous: bool) -> str:
    """What the kill left in the output folder, checked against the promise; the state's name."""
    names = set(os.listdir(folder))
    temps = {n for n in names if TMP.fullmatch(n)}
    expected = set(new.data) | {MANIFEST}
    extra = names - temps - expected
    if extra:
        out.fail(f"{where}: files that are neither the export's nor its temporaries: {sorted(extra)}")
    newer = 0
    for name in sorted(set(new.data) & names):
        h = sha256(folder / name)
        if h == new.data[name]:
            newer += 1
        elif not (had_previous and h == previous.data[name]):
            out.fail(f"{where}: {name} is neither the previous nor the new export (a partial file?)")
    if MANIFEST in names:
        out.failures += [f"{where}: after the kill: {p}" for p in manifest_problems(folder)]
        h = sha256(folder / MANIFEST)
        if had_previous and h == previous.manifest:
            state = "previous"
        else:
            state = "new"
            if snapshot_export(folder).data != new.data:
                out.fail(f"{where}: a manifest that is neither the previous nor the new export's")
            elif newer != len(new.data):
                out.fail(f"{where}: the new manifest is in place but only {newer} of its files")
    else:
        state = f"no manifest, {newer}/{len(new.data)} new" if (had_previous or newer) else "nothing yet"
    if temps:
        state += " + temporaries"
    return state


def run(out: Outcome, trials: int, work: Path, rng: random.Random) -> None:
    if not WINNOW.exists():
        out.skip(f"needs the installed winnow script ({WINNOW}): pip install -e .")
        return
    env = winnow_env(work)
    base, previous, new, prev_folder, full = prepare(work, rng, env)
    base_print, base_exports, base_sha = fingerprint(base), exports_recorded(base), sha256(base)
    small = refusal_project(work, rng)
    names = [*sorted(new.data), MANIFEST]

    ways: dict[str, int] = {}
    states: dict[str, int] = {}
    temp_bytes: list[int] = []
    wal_seen = 0
    first_spelling = rng.randrange(len(SPELLINGS))
    for k in range(1, trials + 1):
        failures_before = len(out.failures)
        trial = work / f"trial-{k}"
        folder = trial / "out"
        folder.mkdir(parents=True)
        db = trial / "project.db"
        shutil.copy(base, db)
        had_previous = k % 4 != 0
        if had_previous:
            for name in names:
                shutil.copy(prev_folder / name, folder / name)
        way = rng.choices(["timer", "temporary", "commit"], weights=[3, 2, 2])[0]
        delay = rng.uniform(0, full * 1.1) if way == "timer" else rng.uniform(0, full / 10) * (rng.random() < 0.7)
        proc = subprocess.Popen(export_cmd(db, folder / OUT), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        seen = watch_and_kill(proc, folder, way, delay, names)
        _, err = proc.communicate(timeout=TIMEOUT)
        where = f"trial {k} ({way} kill {seen}, {'over a previous export' if had_previous else 'first export'})"
        key = f"{way} ({seen})" if seen == "exited first" else way
        ways[key] = ways.get(key, 0) + 1
        if proc.returncode not in (0, -signal.SIGKILL):
            out.fail(f"{where}: the export exited {proc.returncode} before the kill: {err.decode()[-300:]}")

        state = classify(out, where, folder, previous, new, had_previous)
        states[state] = states.get(state, 0) + 1
        temp_bytes += [(folder / n).stat().st_size for n in os.listdir(folder) if TMP.fullmatch(n)]
        if proc.returncode == 0 and state != "new":
            out.fail(f"{where}: the export exited 0 but left: {state}")
        status = integrity(db)
        if status != "ok":
            out.fail(f"{where}: integrity_check after the kill: {status}")
            continue
        if fingerprint(db) != base_print:
            out.fail(f"{where}: the project changed: {[t for t, h in fingerprint(db).items() if h != base_print[t]]}")
        recorded = exports_recorded(db) - base_exports
        if recorded not in ((1,) if proc.returncode == 0 else (0, 1)):
            out.fail(f"{where}: the project records {recorded} new exports")
        if recorded == 0 and sha256(db) != base_sha:
            out.fail(f"{where}: the export was not recorded, yet the project file's bytes changed")

        # The same export again, without --force: it must finish the job and tidy up.
        res = subprocess.run(export_cmd(db, folder / OUT), capture_output=True, text=True, env=env, timeout=TIMEOUT)
        if res.returncode != 0:
            out.fail(f"{where}: re-running the export exited {res.returncode}: {res.stderr.strip()[-400:]}")
        else:
            left = sorted(os.listdir(folder))
            if left != sorted(names):
                out.fail(f"{where}: after the re-run the folder holds {left}, expected {sorted(names)}")
            out.failures += [f"{where}: after the re-run: {p}" for p in manifest_problems(folder)]
            now = {n: sha256(folder / n) for n in new.data if (folder / n).exists()}
            if now != new.data:
                out.fail(f"{where}: after the re-run the data files differ from the reference export")
            if fingerprint(db) != base_print or integrity(db) != "ok":
                out.fail(f"{where}: the re-run changed the project's samples, decisions or log")
            if exports_recorded(db) - base_exports != recorded + 1:
                out.fail(f"{where}: the re-run should record exactly one export")

        # Two outputs that would destroy something, on the small project.
        for j in range(2):
            spelling = SPELLINGS[(first_spelling + 2 * (k - 1) + j) % len(SPELLINGS)]
            wal_seen += try_refusal(out, f"trial {k}", small, spelling, rng.random() < 0.5, env)
        try_refusal(out, f"trial {k}", db, "project (two layouts)", rng.random() < 0.5, env)

        out.trials = k
        if len(out.failures) == failures_before:
            shutil.rmtree(trial, ignore_errors=True)

    kept = sum(count_records(prev_folder.parent / "reference" / n) for n in new.data)
    out.note(f"an export of {kept:,} kept records (2 files, {BIG_RECORDS:,} + {CSV_ROWS:,} samples) took {full:.1f} s")
    out.note("kills: " + ", ".join(f"{w} {n}" for w, n in sorted(ways.items())))
    out.note("left: " + ", ".join(f"{s} {n}" for s, n in sorted(states.items())))
    if temp_bytes:
        out.note(f"{len(temp_bytes)} temporaries left by kills (up to {max(temp_bytes) / 1e6:.1f} MB), all removed")
    tried = min(len(SPELLINGS), 2 * trials)
    out.note(
        f"refused outputs: {2 * trials} tries over {tried} spellings on a one-source project (the -wal existed "
        f"in {wal_seen}), and the two-layout project's own name in every trial"
    )


SCENARIO = Scenario(
    name="export-kill",
    checked=(
        "kill -9 during `winnow export` over a previous export: each data file whole (old or new), a manifest "
        "present matches every file it names, the project unchanged, the next export completes and leaves no "
        "temporary; the project, its -wal/-shm, links to it and the imported source are refused as outputs"
    ),
    run=run,
    full=40,
    quick=3,
)
