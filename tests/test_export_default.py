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
