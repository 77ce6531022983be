"""Red team: `winnow export` (a real subprocess) of a project file someone else made or changed,
and to outputs that are the project's own files under another spelling. A source's name and
container are data: they never make a file name with a control character or a separator, never
a traceback; the review lock of a project opened through a symlink is never replaced."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from builders import chat, write_jsonl

WINNOW = Path(sys.executable).with_name("winnow")


def winnow(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(WINNOW), *args], capture_output=True, text=True, timeout=60, cwd=cwd)


def ok(r: subprocess.CompletedProcess) -> str:
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@pytest.fixture
def two_layouts(tmp_path: Path) -> Path:
    """A JSONL and a CSV source, all six samples kept: -o is the stem of two data files."""
    db = tmp_path / "p.db"
    a = write_jsonl(tmp_path / "a.jsonl", [chat(f"q{i}?", f"a{i}.") for i in range(3)])
    b = tmp_path / "b.csv"
    b.write_text("prompt,completion\n" + "".join(f"p{i}?,c{i}.\n" for i in range(3)), encoding="utf-8")
    ok(winnow("import", str(a), "--db", str(db)))
    ok(winnow("import", str(b), "--db", str(db)))
    ok(winnow("goal", "add", "Teach the model to answer.", "--db", str(db)))
    ok(winnow("decide", "--db", str(db), "--ids", "1-6", "keep"))
    return db


def edit(db: Path, sql: str, *params: object) -> None:
    c = sqlite3.connect(db)
    c.execute(sql, params)
    c.commit()
    c.close()


def refused(r: subprocess.CompletedProcess, *needles: str) -> str:
    assert r.returncode == 2, r.stdout + r.stderr
    assert "Traceback" not in r.stderr, r.stderr
    assert r.stderr.startswith("winnow: ") and " — " in r.stderr, r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr
    return r.stderr


@pytest.mark.parametrize(
    "name",
    [
        "\x1b]0;pwned\x07.jsonl",  # the data file's name held ESC and BEL: `ls` in the curator's terminal obeys them
        "\u202eevil.jsonl",  # a bidi override in the name
        "x/y.jsonl",  # refused as "Invalid name 'k.x/y.jsonl'"
        "[bold]x[/].jsonl",  # likewise (its '/')
        "n" * 300 + ".jsonl",  # File name too long
    ],
)
def test_a_source_name_from_the_project_file_never_makes_a_bad_file_name(two_layouts: Path, name: str) -> None:
    edit(two_layouts, "UPDATE sources SET name = ? WHERE id = 1", name)
    out = two_layouts.parent / "out"
    out.mkdir()
    ok(winnow("export", "--db", str(two_layouts), "-o", str(out / "k.jsonl")))
    files = sorted(p.name for p in out.iterdir())
    assert len(files) == 3, files  # two data files and the manifest, all in out/
    assert "k.b.csv" in files and "k.jsonl.manifest.json" in files
    (jsonl,) = [f for f in files if f.endswith(".jsonl") and f != "k.jsonl"]
    assert jsonl.isprintable() and len(jsonl) <= 80, repr(jsonl)
    assert (out / jsonl).read_text(encoding="utf-8").count("\n") == 3


def test_an_unknown_container_is_refused_not_a_traceback(two_layouts: Path) -> None:
    edit(two_layouts, "UPDATE sources SET container = 'xml' WHERE id = 1")  # KeyError: 'xml'
    refused(winnow("export", "--db", str(two_layouts), "-o", str(two_layouts.parent / "k.jsonl")), "'xml'", "#1")
    assert not (two_layouts.parent / "k.jsonl.manifest.json").exists()


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE samples SET source_id = 9 WHERE id = 1",  # a sample naming no source (KeyError: 9)
        "INSERT INTO meta (key, value) VALUES ('pending_import_source', '1')",  # its source hidden as a placeholder
    ],
)
def test_kept_samples_of_a_source_the_project_does_not_list_are_refused(two_layouts: Path, sql: str) -> None:
    edit(two_layouts, sql)
    refused(winnow("export", "--db", str(two_layouts), "-o", str(two_layouts.parent / "k.jsonl")), "source #")
    assert [p.name for p in two_layouts.parent.iterdir() if p.name.startswith("k.")] == []


def test_the_review_lock_of_a_project_opened_through_a_symlink_is_never_replaced(tmp_path: Path) -> None:
    """Opened as link.db, the review screen's lock is link.db.lock (review/lock.py); an export
    with --force replaced it with the data file, and a second screen could then open."""
    db = tmp_path / "p.db"
    ok(winnow("import", str(write_jsonl(tmp_path / "a.jsonl", [chat("q?", "a.")])), "--db", str(db)))
    ok(winnow("goal", "add", "Teach the model to answer.", "--db", str(db)))
    ok(winnow("decide", "--db", str(db), "--ids", "1", "keep"))
    (tmp_path / "link.db").symlink_to("p.db")
    lock = tmp_path / "link.db.lock"
    lock.write_text("held by pid 1\n")
    before = os.stat(lock).st_ino
    r = winnow("export", "--db", "link.db", "-o", "link.db.lock", "--force", cwd=tmp_path)
    refused(r, "session lock")
    assert os.stat(lock).st_ino == before and lock.read_text() == "held by pid 1\n"


@pytest.mark.parametrize(
    "header",
    [
        "prompt,completion\nINJECTED never reviewed?,INJECTED answer",  # written as a fourth row; manifest said 3
        "prompt,completion\r\nINJECTED?,x",
        "",
    ],
)
def test_a_csv_header_holding_more_than_its_header_row_is_refused(two_layouts: Path, header: str) -> None:
    edit(two_layouts, "UPDATE sources SET header = ? WHERE id = 2", header)
    out = two_layouts.parent / "out"
    out.mkdir()
    refused(winnow("export", "--db", str(two_layouts), "-o", str(out / "k.jsonl")), "source #2", "header")
    assert list(out.iterdir()) == []


def test_what_follows_a_json_array_is_whitespace_or_refused(tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    src = tmp_path / "a.json"
    src.write_text('[\n  {"instruction": "q?", "output": "a."}\n]\n', encoding="utf-8")
    ok(winnow("import", str(src), "--db", str(db)))
    ok(winnow("goal", "add", "Teach the model to answer.", "--db", str(db)))
    ok(winnow("decide", "--db", str(db), "--ids", "1", "keep"))
    ok(winnow("export", "--db", str(db), "-o", str(tmp_path / "good.json")))
    assert (tmp_path / "good.json").read_text(encoding="utf-8") == src.read_text(encoding="utf-8")
    edit(db, "UPDATE sources SET header = ? WHERE id = 1", '\n[{"instruction": "INJECTED?", "output": "x"}]\n')
    refused(winnow("export", "--db", str(db), "-o", str(tmp_path / "bad.json")), "source #1", "']'")
    assert not (tmp_path / "bad.json").exists()
