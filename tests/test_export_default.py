"""`winnow export` without -o: the review screen's default (beside the project), and the summary
says what was left out (undecided, dropped) — read back from the files and the manifest."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from review.export.paths import default_output
from review.store import Change, Store
from tui.cli import cli


@pytest.fixture
def db(tmp_path, data_file):
    path = tmp_path / "project.db"
    with Store(path) as store:
        store.import_file(data_file)
        store.add_goal("answers support questions")
    return path


def _run(*args):
    r = CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.output


def test_export_without_output_writes_the_default_and_says_what_was_left_out(db, records):
    with Store(db) as store:
        store.apply(1, [Change(2, "keep"), Change(3, "drop", "contradictory")])
        default = default_output(store, 1)
    assert default == db.with_name("project.1.kept.jsonl")
    out = _run("export", "--db", db)
    assert f"wrote 1 kept samples to {default}" in out
    assert json.loads(default.read_text(encoding="utf-8")) == records[1]
    assert default.with_name(default.name + ".manifest.json").exists()
    assert "left out: 4 undecided (not reviewed yet" in out and "1 dropped" in out


def test_nothing_left_out_says_nothing(db):
    with Store(db) as store:
        store.apply(1, [Change(i, "keep") for i in range(1, 7)])
    out = _run("export", "--db", db, "-o", db.with_name("all.jsonl"))
    assert "wrote 6 kept samples" in out and "left out" not in out


def test_default_extension_follows_the_kept_layout(tmp_path):
    src = tmp_path / "qa.csv"
    src.write_text("instruction,output\nHi?,Hello.\nBye?,Goodbye.\n", encoding="utf-8")
    with Store(tmp_path / "p.db") as store:
        store.import_file(src)
        g, _ = store.add_goal("a goal")
        store.apply(g.id, [Change(1, "keep")])
        assert default_output(store, g.id) == tmp_path / f"p.{g.id}.kept.csv"
        assert default_output(store, g.id, "sharegpt") == tmp_path / f"p.{g.id}.kept.jsonl"
    out = _run("export", "--db", tmp_path / "p.db")
    assert f"p.{g.id}.kept.csv" in out
    assert (tmp_path / f"p.{g.id}.kept.csv").read_text(encoding="utf-8").splitlines()[1] == "Hi?,Hello."


def test_export_help_documents_the_default(tmp_path):
    out = _run("export", "--help")
    assert "PROJECT.GOAL.kept.jsonl" in " ".join(out.split())
    assert "left out" in out


def test_include_undecided_writes_kept_and_undecided_in_file_order_never_dropped(db, data_file):
    lines = data_file.read_text(encoding="utf-8").splitlines()
    with Store(db) as store:
        # 6 records: #2 kept, #3 dropped, #5 kept then undone to undecided, the rest never decided.
        store.apply(1, [Change(2, "keep"), Change(3, "drop", "contradictory"), Change(5, "keep")])
        store.apply(1, [Change(5, "clear")])
        store.apply(1, [Change(6, "tag", value="later")])  # tagged, not decided: undecided
    out_path = db.with_name("all_but_dropped.jsonl")
    out = _run("export", "--db", db, "--include", "undecided", "-o", out_path, "--tags")
    assert "wrote 5 kept and undecided samples" in out, out
    assert "of those, 4 undecided (--include undecided)" in out
    assert "left out: 1 dropped" in out and "not reviewed yet" not in out
    written = [json.loads(x) for x in out_path.read_text(encoding="utf-8").splitlines()]
    expected = [json.loads(lines[i - 1]) for i in (1, 2, 4, 5, 6)]
    assert [{k: v for k, v in r.items() if k != "winnow_tags"} for r in written] == expected
    assert [r["winnow_tags"] for r in written] == [[], [], [], [], ["later"]]
    manifest = json.loads(out_path.with_name(out_path.name + ".manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["written_undecided"] == 4 and manifest["counts"]["kept"] == 1
    assert manifest["files"][0]["records"] == 5
    # Without the option, only the kept one.
    out = _run("export", "--db", db, "-o", db.with_name("kept.jsonl"))
    assert "wrote 1 kept samples" in out and "of those" not in out
    assert "left out: 4 undecided" in out


def test_include_undecided_with_everything_dropped_is_refused(db):
    with Store(db) as store:
        store.apply(1, [Change(i, "drop", "other") for i in range(1, 7)])
    r = CliRunner().invoke(
        cli, ["export", "--db", str(db), "--include", "undecided", "-o", str(db.with_name("x.jsonl"))]
    )
    assert r.exit_code != 0 and "every sample is dropped" in r.output
