"""Export never destroys anything (issue 12, items 1-4 and 6).

1. The project file (however spelt), its side files and the imported sources are refused as
   outputs; another existing file is replaced only with --force (the app asks).
2. Data files and manifest are one unit: after a SIGKILL at any step, a manifest present always
   matches the files it names (sha256, record count), and the next export just works.
3. Temporaries of a killed export are removed by the next export; an error leaves none.
4. Files get the mode a plain open() gives (0666 & ~umask).
6. Each exported record's raw text must still parse to the conversation the reviewer saw.

Then the red team's findings (issue 12, review of items 1-6): a JSONL line is always one record,
the export is one read snapshot, `--tags` replaces an existing winnow_tags key or column, an
output that is not a regular file is refused even with --force, cleanup removes only winnow's own
temporaries, and hostile tags in a shared project are refused in one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from builders import chat, write_jsonl
from click.testing import CliRunner

from review.export import ExportError, ExportWouldReplace, export
from review.model import Conversation, Turn
from review.store import Change, Store
from tui.cli import cli

ROOT = Path(__file__).resolve().parents[1]


def keep(store: Store, goal, ids) -> None:
    store.apply(goal.id, [Change(i, "keep") for i in ids], kind="batch")


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temporaries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def proj(tmp_path):
    """A project at tmp/p.db with 6 samples from tmp/train.jsonl, goal #1 keeping #1-#3."""
    src = write_jsonl(tmp_path / "train.jsonl", [chat(f"question {i}?", f"answer {i}.") for i in range(6)])
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
        g, _ = store.add_goal("keep the good ones")
        keep(store, g, [1, 2, 3])
    return db, src


def cli_export(db: Path, *args, cwd: Path | None = None):
    runner = CliRunner()
    old = os.getcwd()
    if cwd:
        os.chdir(cwd)
    try:
        return runner.invoke(cli, ["export", "--db", str(db), *map(str, args)], catch_exceptions=False)
    finally:
        os.chdir(old)


def project_intact(db: Path) -> None:
    with Store(db, create=False) as store:
        assert store.counts(1).kept == 3
        assert store.total_samples() == 6


# ------------------------------------------------------------------ 1. refusals


@pytest.mark.parametrize("spelling", ["same", "dot-slash", "symlink", "hardlink", "-wal", "-shm", "-journal", ".lock"])
def test_the_project_file_and_its_side_files_are_refused(proj, tmp_path, spelling):
    db, _ = proj
    if spelling == "same":
        out = str(db)
    elif spelling == "dot-slash":
        out = "./p.db"
    elif spelling == "symlink":
        (tmp_path / "link.db").symlink_to(db)
        out = str(tmp_path / "link.db")
    elif spelling == "hardlink":
        os.link(db, tmp_path / "alias.db")
        out = str(tmp_path / "alias.db")
    else:
        out = str(db) + spelling
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    r = cli_export(db, "-o", out, cwd=tmp_path)
    assert r.exit_code != 0
    msg = r.output.strip()
    assert "\n" not in msg and "Traceback" not in msg, msg
    assert "exporting there would destroy it" in msg and "choose another output file" in msg
    # Even --force does not make it acceptable.
    assert cli_export(db, "-o", out, "--force", cwd=tmp_path).exit_code != 0
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert after == before
    project_intact(db)


@pytest.mark.parametrize("spelling", ["same", "symlink", "hardlink"])
def test_an_imported_source_is_refused(proj, tmp_path, spelling):
    db, src = proj
    before = src.read_bytes()
    if spelling == "same":
        out = src
    elif spelling == "symlink":
        out = tmp_path / "s.jsonl"
        out.symlink_to(src)
    else:
        out = tmp_path / "h.jsonl"
        os.link(src, out)
    r = cli_export(db, "-o", out, "--force")
    assert r.exit_code != 0
    assert "imported source #1 (train.jsonl)" in r.output and "\n" not in r.output.strip()
    assert src.read_bytes() == before
    assert not (tmp_path / f"{out.name}.manifest.json").exists()


@pytest.mark.parametrize("output", ["p.db", "./p.db", "p.db-wal", "a.jsonl"])
def test_the_output_name_is_refused_when_kept_samples_span_two_layouts(tmp_path, output):
    """With a JSONL and a CSV source, -o is the stem of two data files (p.a.jsonl, p.b.csv): the
    name given was accepted although it is the project (found by reliability/export-kill)."""
    a = write_jsonl(tmp_path / "a.jsonl", [chat(f"q{i}?", f"a{i}.") for i in range(3)])
    b = tmp_path / "b.csv"
    b.write_text("instruction,output\n" + "".join(f"p{i},r{i}\n" for i in range(3)), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(a)
        store.import_file(b)
        g, _ = store.add_goal("g")
        keep(store, g, [1, 4])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    r = cli_export(db, "-o", output, cwd=tmp_path)
    assert r.exit_code != 0, r.output
    msg = r.output.strip()
    assert "\n" not in msg and "exporting there would destroy it" in msg, msg
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_the_manifest_path_is_checked_like_the_data_files(tmp_path):
    # The project is named so that `-o k.jsonl` would put the manifest over it.
    src = write_jsonl(tmp_path / "train.jsonl", [chat("q?", "a.")])
    db = tmp_path / "k.jsonl.manifest.json"
    with Store(db) as store:
        store.import_file(src)
        g, _ = store.add_goal("g")
        keep(store, g, [1])
    before = db.read_bytes()
    r = cli_export(db, "-o", tmp_path / "k.jsonl", "--force")
    assert r.exit_code != 0 and "the project file" in r.output
    assert db.read_bytes() == before and not (tmp_path / "k.jsonl").exists()


def test_an_existing_unrelated_file_is_replaced_only_with_force(proj, tmp_path):
    db, _ = proj
    out = tmp_path / "notes.jsonl"
    out.write_text("my own notes\n")
    r = cli_export(db, "-o", out)
    assert r.exit_code != 0
    assert "already exists — add --force to replace it" in r.output and "\n" not in r.output.strip()
    assert out.read_text() == "my own notes\n"
    assert not (tmp_path / "notes.jsonl.manifest.json").exists()
    # An unrelated file at the manifest's place is protected the same way.
    out2 = tmp_path / "other.jsonl"
    (tmp_path / "other.jsonl.manifest.json").write_text("{}\n")
    assert cli_export(db, "-o", out2).exit_code != 0 and not out2.exists()

    r = cli_export(db, "-o", out, "--force")
    assert r.exit_code == 0, r.output
    assert len(out.read_text().splitlines()) == 3


def test_the_previous_export_to_the_same_place_is_replaced_without_force(proj, tmp_path):
    db, _ = proj
    out = tmp_path / "kept.jsonl"
    assert cli_export(db, "-o", out).exit_code == 0
    with Store(db, create=False) as store:
        store.apply(1, [Change(4, "keep")])
    r = cli_export(db, "-o", out)
    assert r.exit_code == 0, r.output
    assert len(out.read_text().splitlines()) == 4
    # Edited since: no longer the export the manifest names, so --force is needed.
    out.write_text(out.read_text() + "{}\n")
    assert cli_export(db, "-o", out).exit_code != 0


def test_the_library_raises_a_typed_refusal(proj, tmp_path):
    db, _ = proj
    (tmp_path / "x.jsonl").write_text("x\n")
    with Store(db, create=False) as store, pytest.raises(ExportWouldReplace) as e:
        export(store, store.goal(1), tmp_path / "x.jsonl")
    assert e.value.paths == (tmp_path / "x.jsonl",)


async def test_the_export_dialog_asks_before_replacing(tmp_path):
    from textual.widgets import Input

    from reliability.pilot import settle
    from tui.app import make_app
    from tui.screens.dialogs import ExportDialog, ReplaceDialog

    src = write_jsonl(tmp_path / "train.jsonl", [chat(f"question {i}?", f"answer {i}.") for i in range(4)])
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
        store.add_goal("keep the good ones")
    out = tmp_path / "mine.jsonl"
    out.write_text("not an export\n")

    app = make_app(db, config={"cursor_blink": False})

    async def until(cond, what: str) -> None:
        deadline = time.monotonic() + 20
        while not cond():
            assert time.monotonic() < deadline, what
            await pilot.pause(0.05)

    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, tries=100, message="the review screen never painted")
        await pilot.press("a")  # keep #1
        await settle(pilot, tries=100, message="no repaint after keep")
        for answer in ("n", "y"):
            await pilot.press("E")
            await until(lambda: isinstance(app.screen, ExportDialog), "no export dialog")
            app.screen.query_one("#export-path", Input).value = str(out)
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, ReplaceDialog), "no question before replacing the file")
            await pilot.press(answer)
            await app.workers.wait_for_complete()
            await until(lambda: not isinstance(app.screen, ReplaceDialog), "the question stayed")
            if answer == "n":
                assert out.read_text() == "not an export\n"
                assert not (tmp_path / "mine.jsonl.manifest.json").exists()
        await until(lambda: (tmp_path / "mine.jsonl.manifest.json").exists(), "no export after y")
    assert json.loads(out.read_text())["messages"][0]["content"] == "question 0?"


# ------------------------------------------------------------------ 2. kill at any moment

KILLER = textwrap.dedent(
    """
    import os, signal, sys
    sys.path.insert(0, {root!r})
    from review.store import Store
    from review.export import export
    import review.export as ex

    mode, n, db, out = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    calls = [0]
    if mode == "replace":  # SIGKILL before the n-th os.replace (main's code and today's alike)
        real = os.replace
        def replace(a, b):
            calls[0] += 1
            if calls[0] == n:
                os.kill(os.getpid(), signal.SIGKILL)
            real(a, b)
        os.replace = replace
    elif mode == "step":  # SIGKILL at the n-th named step of export
        def hook(name):
            calls[0] += 1
            if calls[0] == n:
                os.kill(os.getpid(), signal.SIGKILL)
        ex.STEP_HOOK = hook
    elif mode == "write":  # SIGKILL half way through writing the data
        import review.formats
        def broken(fh, container, raws, header):
            fh.write(next(iter(raws)) + "\\n")
            fh.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        review.formats.write_records = broken
    with Store(db, create=False) as store:
        export(store, store.goal(1), out)
    print("finished")
    """
)


def run_killer(tmp_path: Path, mode: str, n: int, db: Path, out: Path) -> bool:
    """Run an export in a subprocess that SIGKILLs itself; True if it was killed."""
    script = tmp_path / "killer.py"
    script.write_text(KILLER.format(root=str(ROOT)))
    p = subprocess.run(
        [sys.executable, str(script), mode, str(n), str(db), str(out)], capture_output=True, text=True, timeout=120
    )
    if p.returncode == -signal.SIGKILL:
        return True
    assert p.returncode == 0 and "finished" in p.stdout, p.stderr
    return False


def records_in(path: Path) -> int:
    n = len(path.read_bytes().splitlines())
    return n - 1 if path.suffix == ".csv" else n  # a CSV file has its header line


def check_consistent(manifest_path: Path) -> None:
    """What the README promises a reader: a manifest present matches every file it names."""
    if not manifest_path.exists():
        return
    m = json.loads(manifest_path.read_text(encoding="utf-8"))
    for f in m["files"]:
        p = Path(f["path"])
        assert p.exists(), f"manifest names a missing {p}"
        assert sha(p) == f["sha256"], f"{p.name}: new data beside an older manifest"
        assert records_in(p) == f["records"]


def previous_then_more(folder: Path, layout: str) -> tuple[Path, Path, Path]:
    """A project exported once to folder/kept.jsonl, then more samples kept (the next export differs).

    "two files": kept samples from a JSONL and a CSV source, so one export writes two data files.
    """
    folder.mkdir()
    a = write_jsonl(folder / "a.jsonl", [chat(f"q{i}?", f"a{i}.") for i in range(3)])
    db = folder / "p.db"
    with Store(db) as store:
        store.import_file(a)
        if layout == "two files":
            b = folder / "b.csv"
            b.write_text("instruction,output\n" + "".join(f"p{i},r{i}\n" for i in range(3)), encoding="utf-8")
            store.import_file(b)
        g, _ = store.add_goal("g")
        keep(store, g, [1, 4] if layout == "two files" else [1])
        export(store, g, folder / "kept.jsonl")
        keep(store, g, [2, 5] if layout == "two files" else [2])
    return db, folder / "kept.jsonl", folder / "kept.jsonl.manifest.json"


def kill_and_recover(folder: Path, mode: str, n: int, layout: str, *, tidy: bool = True) -> bool:
    """Kill an export at point n; check the pair, then that the next export works; True if killed."""
    db, out, manifest = previous_then_more(folder, layout)
    killed = run_killer(folder, mode, n, db, out)
    check_consistent(manifest)  # item 2: right after the kill, a manifest present matches its files
    with Store(db, create=False) as store:  # the next export to the same place needs no --force
        report = export(store, store.goal(1), out)
    assert report.kept == (4 if layout == "two files" else 2)
    check_consistent(manifest)
    if tidy:
        assert temporaries(folder) == []  # item 3: what the kill left is cleaned up
    return killed


@pytest.mark.parametrize("layout", ["one file", "two files"])
def test_a_kill_before_any_rename_leaves_a_consistent_pair(tmp_path, layout):
    n = 1
    while kill_and_recover(tmp_path / f"kill{n}", "replace", n, layout, tidy=False):
        n += 1
        assert n < 10
    assert n > 2  # it was killed at the renames of data and manifest at least


@pytest.mark.parametrize("layout", ["one file", "two files"])
def test_a_kill_at_every_step_leaves_a_consistent_pair(tmp_path, layout):
    n = 1
    while kill_and_recover(tmp_path / f"step{n}", "step", n, layout):
        n += 1
        assert n < 10
    # temporaries written, previous manifest moved aside, each data file renamed, manifest renamed
    assert n == (6 if layout == "two files" else 5)


def test_a_kill_while_writing_leaves_the_previous_pair(tmp_path):
    db, out, manifest = previous_then_more(tmp_path / "w", "two files")
    before = {p.name: p.read_bytes() for p in (tmp_path / "w").iterdir() if p.name.startswith("kept")}
    assert run_killer(tmp_path / "w", "write", 0, db, out)
    after = {p.name: p.read_bytes() for p in (tmp_path / "w").iterdir() if p.name.startswith("kept")}
    assert after == before
    check_consistent(manifest)


# ------------------------------------------------------------------ 3. temporaries


def test_a_killed_exports_temporaries_are_removed_by_the_next_export(proj, tmp_path):
    db, _ = proj
    out = tmp_path / "kept.jsonl"
    assert run_killer(tmp_path, "write", 0, db, out)
    assert temporaries(tmp_path) != []  # what the kill left
    with Store(db, create=False) as store:
        export(store, store.goal(1), out)
    assert temporaries(tmp_path) == []


def test_only_stale_temporaries_of_this_target_are_removed(proj, tmp_path):
    db, _ = proj
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    try:
        keep_these = [
            f".kept.jsonl.winnow-{live.pid}-0a1b2c3d.tmp",  # a live export's
            f".other.jsonl.winnow-{dead.pid}-0a1b2c3d.tmp",  # another target's
            ".kept.jsonl.abcd1234.tmp",  # not winnow's naming (older versions' was mkstemp's: ambiguous)
            ".kept.jsonl.wxyz9876.tmp",  # the same, untouched for an hour
            "kept.jsonl.winnow-1-0.tmp.mine",  # not winnow's naming
        ]
        remove_these = [
            f".kept.jsonl.winnow-{dead.pid}-0a1b2c3d.tmp",
            f".kept.jsonl.manifest.json.winnow-{dead.pid}-ff.tmp",
        ]
        for name in keep_these + remove_these:
            (tmp_path / name).write_text("partial")
        old = time.time() - 3600
        os.utime(tmp_path / ".kept.jsonl.wxyz9876.tmp", (old, old))
        with Store(db, create=False) as store:
            export(store, store.goal(1), tmp_path / "kept.jsonl")
        names = {p.name for p in tmp_path.iterdir()}
        assert set(keep_these) <= names
        assert not set(remove_these) & names
    finally:
        live.kill()
        live.wait()


def test_an_error_while_writing_the_manifest_leaves_no_temporary(proj, tmp_path, monkeypatch):
    db, _ = proj
    out = tmp_path / "kept.jsonl"
    with Store(db, create=False) as store:
        export(store, store.goal(1), out)
        before = {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("kept")}
        store.apply(1, [Change(4, "keep")])

        def full(*a, **k):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(json, "dump", full)
        with pytest.raises(OSError):
            export(store, store.goal(1), out)
    assert temporaries(tmp_path) == []
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("kept")} == before


def test_an_error_in_the_second_data_file_leaves_no_temporary(tmp_path, monkeypatch):
    db, out, _ = previous_then_more(tmp_path / "e", "two files")
    before = {p.name: p.read_bytes() for p in (tmp_path / "e").iterdir() if p.name.startswith("kept")}
    import review.formats

    real = review.formats.write_records
    calls = [0]

    def second_fails(fh, container, raws, header):
        calls[0] += 1
        if calls[0] == 2:
            raise OSError(28, "No space left on device")
        return real(fh, container, raws, header)

    monkeypatch.setattr(review.formats, "write_records", second_fails)
    with Store(db, create=False) as store, pytest.raises(OSError):
        export(store, store.goal(1), out)
    assert temporaries(tmp_path / "e") == []
    assert {p.name: p.read_bytes() for p in (tmp_path / "e").iterdir() if p.name.startswith("kept")} == before


def test_the_cli_reports_a_full_disk_in_one_line(proj, tmp_path, monkeypatch):
    db, _ = proj
    import review.formats

    def full(fh, container, raws, header):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(review.formats, "write_records", full)
    r = cli_export(db, "-o", tmp_path / "kept.jsonl")
    assert r.exit_code != 0 and "No space left on device" in r.output and "Traceback" not in r.output
    assert temporaries(tmp_path) == []


# ------------------------------------------------------------------ 4. permissions


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_files_get_the_mode_open_would_give(proj, tmp_path, umask, mode):
    db, _ = proj
    old = os.umask(umask)
    try:
        with Store(db, create=False) as store:
            report = export(store, store.goal(1), tmp_path / "kept.jsonl")
    finally:
        os.umask(old)
    for p in [*report.files, report.manifest]:
        assert stat.S_IMODE(p.stat().st_mode) == mode, p.name


# ------------------------------------------------------------------ 6. what the reviewer saw


def tamper(db: Path, sql: str, *args) -> None:
    with sqlite3.connect(db) as conn:
        conn.execute(sql, args)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE samples SET raw = replace(raw, 'answer 1.', 'something else') WHERE id = 2",
        "UPDATE samples SET turns = replace(turns, 'answer 1.', 'what the screen shows') WHERE id = 2",
        "UPDATE samples SET content_hash = 'x' WHERE id = 2",
        "UPDATE samples SET raw = 'not json' WHERE id = 2",
    ],
)
@pytest.mark.parametrize("to", [None, "sharegpt"])
def test_a_record_changed_outside_winnow_is_refused(proj, tmp_path, sql, to):
    db, _ = proj
    out = tmp_path / "kept.jsonl"
    tamper(db, sql)
    with Store(db, create=False) as store, pytest.raises(ExportError) as e:
        export(store, store.goal(1), out, to=to)
    msg = str(e.value)
    assert "1 kept samples no longer match" in msg and "#2" in msg and "#1" not in msg and "#3" not in msg
    assert "nothing was written" in msg
    assert not out.exists() and not (tmp_path / "kept.jsonl.manifest.json").exists()
    assert temporaries(tmp_path) == []
    with Store(db, create=False) as store:
        assert store.conn.execute("SELECT count(*) FROM exports").fetchone()[0] == 0


def test_a_changed_csv_row_is_refused_and_an_intact_one_exports(tmp_path):
    src = tmp_path / "qa.csv"
    src.write_text('question,std_answer\n"Hi, there",Hello\nWhy?,"Because\r\nit is"\nok,fine\n', encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src, mapping={"prompt": "question", "answer": "std_answer"})
        g, _ = store.add_goal("g")
        keep(store, g, [1, 2, 3])
        export(store, g, tmp_path / "ok.csv")  # untouched: exports
    tamper(db, "UPDATE samples SET raw = 'Why?,Because' WHERE id = 2")
    with Store(db, create=False) as store, pytest.raises(ExportError, match="#2"):
        export(store, store.goal(1), tmp_path / "kept.csv")
    assert not (tmp_path / "kept.csv").exists()


def test_generated_samples_are_checked_too(tmp_path):
    db = tmp_path / "gen.db"
    convs = [Conversation("be brief", (Turn("user", f"q{i}"), Turn("assistant", f"a{i}"))) for i in range(3)]
    with Store(db) as store:
        store.add_conversations("bench", convs)
        g, _ = store.add_goal("g")
        keep(store, g, [1, 2, 3])
        # (a generated source has no file layout of its own: it goes out as OpenAI messages)
        assert export(store, g, tmp_path / "ok.jsonl", to="openai").kept == 3
    tamper(db, "UPDATE samples SET raw = replace(raw, 'a2', 'other') WHERE id = 3")
    with Store(db, create=False) as store, pytest.raises(ExportError, match="#3"):
        export(store, store.goal(1), tmp_path / "kept.jsonl", to="openai")


@pytest.mark.parametrize("layout", ["jsonl", "json", "jsonl.gz"])
def test_intact_records_of_every_container_export(tmp_path, layout):
    import gzip

    records = [chat(f"q{i} — 好", f"a{i}", system="s" if i % 2 else None) for i in range(4)]
    records.append(chat("multi", "turn"))
    if layout == "json":
        src = tmp_path / "src.json"
        src.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    else:
        text = "".join(json.dumps(r, ensure_ascii=False) + "\r\n" for r in records)
        src = tmp_path / f"src.{layout}"
        src.write_bytes(gzip.compress(text.encode()) if layout.endswith(".gz") else text.encode())
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
        g, _ = store.add_goal("g")
        keep(store, g, range(1, 6))
        report = export(store, g, tmp_path / "out.jsonl")
    assert report.kept == 5


# ------------------------------------------------------------------ red team: one record per JSONL line


def jsonl_values(path: Path, *, strict: bool = False) -> list:
    """Every line of a JSONL file, parsed: split at \n as JSON lines defines it, or with `strict`
    as str.splitlines() does (it also breaks at U+2028, U+2029, U+0085 and the other Unicode line
    separators, which a record imported from a JSON lines file may hold as they were)."""
    text = path.read_text(encoding="utf-8")
    return [json.loads(line) for line in (text.splitlines() if strict else text.rstrip("\n").split("\n"))]


def smuggling(raw: str) -> tuple[str, dict]:
    """The red team's raw: the same conversation (so it verifies), with a complete other record
    on a line of its own inside it; and that other record."""
    evil = chat("question 0?", "EVIL ANSWER")
    tampered = raw[:-1] + ', "x":\n' + json.dumps(evil) + "\n}"
    assert json.loads(tampered)["messages"] == json.loads(raw)["messages"]
    return tampered, evil


def test_a_jsonl_record_changed_to_span_lines_is_refused(proj, tmp_path):
    db, _ = proj
    with sqlite3.connect(db) as conn:
        (raw,) = conn.execute("SELECT raw FROM samples WHERE id = 1").fetchone()
        conn.execute("UPDATE samples SET raw = ? WHERE id = 1", (smuggling(raw)[0],))
    out = tmp_path / "kept.jsonl"
    for to in (None, "openai"):
        with Store(db, create=False) as store, pytest.raises(ExportError, match="1 kept samples no longer match.*#1"):
            export(store, store.goal(1), out, to=to)
    assert not out.exists() and temporaries(tmp_path) == []


def test_a_record_spanning_lines_is_one_line_of_jsonl_and_smuggles_nothing(tmp_path):
    # In a JSON array a record may span lines (here: one edited outside winnow into the smuggling
    # shape, still the same conversation); in JSON lines it goes out re-serialised on one line.
    records = [chat(f"question {i}?", f"answer {i}.") for i in range(3)]
    src = tmp_path / "data.json"
    src.write_text(json.dumps(records), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
        g, _ = store.add_goal("g")
        keep(store, g, [1, 2, 3])
    with sqlite3.connect(db) as conn:
        (raw,) = conn.execute("SELECT raw FROM samples WHERE id = 1").fetchone()
        tampered, evil = smuggling(raw)
        conn.execute("UPDATE samples SET raw = ? WHERE id = 1", (tampered,))
    out = tmp_path / "kept.jsonl"
    with Store(db, create=False) as store:
        assert export(store, store.goal(1), out, to="openai").kept == 3
    values = jsonl_values(out, strict=True)
    assert len(values) == 3  # one line per kept record, nothing more
    assert values[0] == json.loads(tampered)  # the stored record, its value intact, on one line
    assert all(v.get("messages") != evil["messages"] for v in values)
    assert out.read_text(encoding="utf-8").split("\n")[1:3] == [json.dumps(r) for r in records[1:]]  # bytes kept


def test_line_separators_inside_strings_stay_as_imported_in_jsonl(tmp_path):
    """U+2028, U+2029 and NEL are valid inside a JSON lines record: a record imported from a JSON
    lines file keeps them byte for byte (the input's own format); one rewritten onto one line
    because it held a newline writes them as escapes (backslash-u), for the strictest readers."""
    answers = ["one\u2028two", "para\u2029graph", "next\x85line", "plain"]
    src = tmp_path / "u.jsonl"
    src.write_text("".join(json.dumps(chat("q?", a), ensure_ascii=False) + "\n" for a in answers), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
        g, _ = store.add_goal("g")
        keep(store, g, [1, 2, 3, 4])
        export(store, g, tmp_path / "out.jsonl")
    values = jsonl_values(tmp_path / "out.jsonl")
    assert [v["messages"][-1]["content"] for v in values] == answers
    assert (tmp_path / "out.jsonl").read_bytes() == src.read_bytes()  # every record byte for byte
    from review.formats import one_line

    rewritten = one_line(json.dumps({"a": "x\n\u2028y\x85"}, indent=1, ensure_ascii=False))
    assert "\u2028" not in rewritten and "\\u2028" in rewritten and "\\u0085" in rewritten
    assert json.loads(rewritten) == {"a": "x\n\u2028y\x85"} and rewritten.splitlines() == [rewritten]


@pytest.mark.parametrize("suffix", ["jsonl", "jsonl.gz"])
def test_a_pretty_printed_json_array_exports_as_valid_jsonl(tmp_path, suffix):
    import gzip

    records = [chat(f"q{i}?", f"a{i} — 好.") for i in range(3)]
    src = tmp_path / "data.json"
    src.write_text(json.dumps(records, indent=2, ensure_ascii=False), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
        g, _ = store.add_goal("g")
        keep(store, g, [1, 3])
        out = tmp_path / f"out.{suffix}"
        export(store, g, out, to="openai")
    text = gzip.decompress(out.read_bytes()).decode() if suffix.endswith(".gz") else out.read_text(encoding="utf-8")
    lines = text.splitlines()
    assert [json.loads(line) for line in lines] == [records[0], records[2]]
    assert "好" in text and "\\u597d" not in text  # ensure_ascii=False, as imported
    assert lines[0] == json.dumps(records[0], ensure_ascii=False)  # key order kept


def test_a_pretty_printed_array_exported_as_imported_stays_pretty(tmp_path):
    records = [chat(f"q{i}?", f"a{i}.") for i in range(2)]
    src = tmp_path / "data.json"
    src.write_text(json.dumps(records, indent=2), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
        g, _ = store.add_goal("g")
        keep(store, g, [1, 2])
        export(store, g, tmp_path / "out.json")
    text = (tmp_path / "out.json").read_text()
    assert json.loads(text) == records
    assert json.dumps(records[0], indent=2).replace("\n", "\n  ") in text  # the elements' own bytes


# ------------------------------------------------------------------ red team: one snapshot


def test_the_export_is_one_snapshot_despite_a_concurrent_keep(proj, tmp_path, monkeypatch):
    import review.formats

    db, _ = proj
    real = review.formats.write_records
    during: list[int] = []

    def write_then_another_process_keeps(*a, **k):
        n = real(*a, **k)
        with Store(db, create=False) as other:  # the app open beside `winnow export`
            keep(other, other.goal(1), [4])
            during.append(other.log_position())
        return n

    monkeypatch.setattr(review.formats, "write_records", write_then_another_process_keeps)
    out = tmp_path / "kept.jsonl"
    with Store(db, create=False) as store:
        before = store.log_position()
        report = export(store, store.goal(1), out)
        items = store.exported_sample_ids(report.export_id)
        row = store.export_of(1, report.export_id)
        assert row is not None
        replayed = {s for s, d in store.rebuild_decisions(1, upto=row["log_position"]).items() if d.verdict == "keep"}
        assert store.counts(1).kept == 4  # the concurrent keep did happen
    m = json.loads((tmp_path / "kept.jsonl.manifest.json").read_text())
    in_file = [json.loads(line)["messages"][0]["content"] for line in out.read_text().splitlines()]
    assert in_file == ["question 0?", "question 1?", "question 2?"]
    assert items == {1, 2, 3} and row["kept"] == 3
    assert m["kept_sample_ids_by_source"] == {"1": [1, 2, 3]} and m["counts"]["kept"] == 3
    assert m["decision_log_position"] == row["log_position"] == before < during[0]
    assert replayed == {1, 2, 3}
    assert f"action_id <= {before}" in m["trace"]


# ------------------------------------------------------------------ red team: tags round trip


def test_tags_replace_an_existing_winnow_tags_key(tmp_path):
    src = tmp_path / "s.jsonl"
    rec = {**chat("q?", "a."), "winnow_tags": ["old"], "after": 1}
    src.write_text(json.dumps(rec) + "\n" + json.dumps(chat("q2?", "b.")) + "\n")
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
        g, _ = store.add_goal("g")
        store.apply(g.id, [Change(1, "keep"), Change(1, "tag", value="new"), Change(2, "keep")], kind="batch")
        export(store, g, tmp_path / "o.jsonl", tags=True)
        export(store, g, tmp_path / "o2.jsonl", tags=True, to="openai")
    for name in ("o.jsonl", "o2.jsonl"):
        lines = (tmp_path / name).read_text().splitlines()
        assert lines[0].count('"winnow_tags"') == 1, lines[0]
        value = json.loads(lines[0])
        assert value["winnow_tags"] == ["new"]
        assert json.loads(lines[1])["winnow_tags"] == []
    first = (tmp_path / "o.jsonl").read_text().splitlines()[0]
    assert list(json.loads(first)) == list(rec)  # the key stays where it was; other bytes untouched
    assert first == json.dumps({**rec, "winnow_tags": ["new"]})
    # The round trip: winnow imports its own tagged export again, and exports it tagged again.
    with Store(tmp_path / "q.db") as store2:
        store2.import_file(tmp_path / "o.jsonl")
        g2, _ = store2.add_goal("g")
        store2.apply(g2.id, [Change(1, "keep"), Change(1, "tag", value="third")], kind="batch")
        export(store2, g2, tmp_path / "o3.jsonl", tags=True)
    assert json.loads((tmp_path / "o3.jsonl").read_text().splitlines()[0])["winnow_tags"] == ["third"]


def test_tags_replace_an_existing_winnow_tags_column(tmp_path):
    src = tmp_path / "qa.csv"
    src.write_text('question,winnow_tags,answer\n"Hi, there",old,Hello\nWhy?,"a;b","Because\nit is"\n')
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src, mapping={"prompt": "question", "answer": "answer"})
        g, _ = store.add_goal("g")
        store.apply(g.id, [Change(1, "keep"), Change(1, "tag", value="x,y"), Change(2, "keep")], kind="batch")
        export(store, g, tmp_path / "o.csv", tags=True)
    text = (tmp_path / "o.csv").read_text()
    assert text == 'question,winnow_tags,answer\n"Hi, there","x,y",Hello\nWhy?,,"Because\nit is"\n'
    with Store(tmp_path / "q.db") as store2:  # winnow reads its own export again
        store2.import_file(tmp_path / "o.csv", mapping={"prompt": "question", "answer": "answer"})
        assert store2.total_samples() == 2


# ------------------------------------------------------------------ red team: not a regular file


@pytest.mark.parametrize("kind", ["fifo", "device", "symlink to a device"])
def test_an_output_that_is_not_a_regular_file_is_refused_even_with_force(proj, tmp_path, kind):
    db, _ = proj
    out = tmp_path / "kept.jsonl"
    node = tmp_path / "node"
    if kind == "fifo":
        os.mkfifo(out)
        node = out
    else:
        try:
            os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a private /dev/null
        except PermissionError:
            pytest.skip("creating a device node needs root (CAP_MKNOD)")
        if kind == "device":
            node = out = tmp_path / "node"
        else:
            out.symlink_to(node)
    before = os.lstat(out)
    r = cli_export(db, "-o", out, "--force")
    assert r.exit_code != 0, r.output
    assert "not a regular file" in r.output and "\n" not in r.output.strip() and "Traceback" not in r.output
    after = os.lstat(out)
    assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert stat.S_ISCHR(os.lstat(node).st_mode) or stat.S_ISFIFO(os.lstat(node).st_mode)
    assert temporaries(tmp_path) == [] and not (tmp_path / f"{out.name}.manifest.json").exists()


def test_a_symlink_to_a_regular_file_is_replaced_only_with_force_and_its_target_kept(proj, tmp_path):
    db, _ = proj
    target = tmp_path / "elsewhere.txt"
    target.write_text("mine\n")
    out = tmp_path / "kept.jsonl"
    out.symlink_to(target)
    assert cli_export(db, "-o", out).exit_code != 0
    r = cli_export(db, "-o", out, "--force")
    assert r.exit_code == 0, r.output
    assert not out.is_symlink() and len(out.read_text().splitlines()) == 3
    assert target.read_text() == "mine\n"


# ------------------------------------------------------------------ red team: cleanup, hostile tags


def test_cleanup_never_removes_a_users_file_that_looks_like_an_old_temporary(proj, tmp_path):
    db, _ = proj
    mine = tmp_path / ".kept.jsonl.backup01.tmp"
    mine.write_text("my hand-made backup\n")
    os.utime(mine, (0, 0))  # untouched for decades
    with Store(db, create=False) as store:
        export(store, store.goal(1), tmp_path / "kept.jsonl")
    assert mine.read_text() == "my hand-made backup\n"


@pytest.mark.parametrize("bad", ["{not json", '{"a": 1}', '["ok", 3]'])
def test_hostile_tags_in_a_shared_project_are_refused_in_one_line(proj, tmp_path, bad):
    db, _ = proj
    tamper(db, "UPDATE decisions SET tags = ? WHERE sample_id = 2", bad)
    r = cli_export(db, "-o", tmp_path / "t.jsonl", "--tags")
    assert r.exit_code != 0 and "Traceback" not in r.output
    line = r.output.strip()
    assert "\n" not in line and "#2" in line and "tags" in line and "--tags" in line, line
    assert not (tmp_path / "t.jsonl").exists() and temporaries(tmp_path) == []
    with Store(db, create=False) as store:
        assert store.conn.execute("SELECT count(*) FROM exports").fetchone()[0] == 0


@pytest.mark.parametrize(
    "raw",
    [
        '{"messages": [], "winnow_tags": ["old"], "z": 1}',
        '{\n  "winnow_tags": [\n    "old"\n  ],\n  "messages": []\n}',  # an element of a pretty-printed array
        '{"messages":[],"winnow\\u005ftags":["old"]}',  # the same key, spelt with an escape
        '{"messages": []}',
        "{}",
    ],
)
def test_with_tags_never_gives_a_record_the_key_twice(raw):
    from review.export import with_tags

    out = with_tags(raw, "jsonl", ["new", "a,b"])
    pairs = json.loads(out, object_pairs_hook=lambda p: p)
    assert [k for k, _ in pairs].count("winnow_tags") == 1
    assert dict(pairs)["winnow_tags"] == ["new", "a,b"]
    before = [k for k, _ in json.loads(raw, object_pairs_hook=lambda p: p)]
    assert [k for k, _ in pairs][: len(before)] == before  # keys stay in their places


def test_a_record_that_cannot_be_put_on_one_line_is_refused_in_one_line(tmp_path):
    # 1e999 is valid JSON text, read as infinity, which JSON cannot write back.
    src = tmp_path / "data.json"
    src.write_text(
        '[\n  {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],\n'
        '   "score": 1e999}\n]\n'
    )
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
        g, _ = store.add_goal("g")
        keep(store, g, [1])
    r = cli_export(db, "-o", tmp_path / "out.jsonl", "--to", "openai")
    assert r.exit_code != 0 and "#1" in r.output and "one JSON line" in r.output and "Traceback" not in r.output
    assert "\n" not in r.output.strip()
    assert not (tmp_path / "out.jsonl").exists() and temporaries(tmp_path) == []
    assert cli_export(db, "-o", tmp_path / "out.json", "--to", "openai").exit_code == 0  # the array keeps its text


@pytest.mark.parametrize("bad", ["{not json", '{"a": 1}', '["ok", 3]'])
def test_hostile_tags_stop_stats_and_a_plain_export_in_one_line(proj, tmp_path, bad):
    """Without --tags the damaged tags were still parsed (for the manifest's figures) and raised a
    raw JSONDecodeError from the decisions store. `winnow stats` does not read them."""
    from tui.cli import cli

    db, _ = proj
    tamper(db, "UPDATE decisions SET tags = ? WHERE sample_id = 2", bad)
    r = CliRunner().invoke(cli, ["export", "--db", str(db), "-o", str(tmp_path / "t.jsonl")])
    assert r.exit_code != 0 and "Traceback" not in r.output, r.output
    assert "#2" in r.output and "damaged tags" in r.output and "\n" not in r.output.strip(), r.output
    assert not (tmp_path / "t.jsonl").exists() and temporaries(tmp_path) == []
    assert CliRunner().invoke(cli, ["stats", "--db", str(db)]).exit_code == 0
