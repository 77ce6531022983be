"""Every `winnow` command through click's CliRunner, on real project files."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from tui.cli import cli


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args, ok=True):
        result = runner.invoke(cli, [str(a) for a in args], catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    return invoke


def test_top_level_help_lists_every_command(run):
    out = run("--help").output
    for name in ("import", "goal", "stats", "export", "demo", "open", "analyze", "leakage"):
        assert f"  {name}" in out


@pytest.mark.parametrize(
    "args",
    [
        ["import"],
        ["goal"],
        ["goal", "add"],
        ["goal", "list"],
        ["goal", "use"],
        ["stats"],
        ["export"],
        ["demo"],
        ["open"],
        ["analyze"],
        ["leakage"],
    ],
)
def test_every_command_help_has_an_example(run, args):
    out = run(*args, "--help").output
    assert "Example" in out and "winnow " in out.split("Example", 1)[1]


def test_import_goal_stats_export_flow(run, tmp_path, data_file, records):
    db = tmp_path / "p.db"
    out = run("import", data_file, "--db", db).output
    assert "imported 6 samples as openai (jsonl)" in out
    assert "1 record repeats an earlier record" in out and "line 5 repeats line 1" in out
    assert "already imported" in run("import", data_file, "--db", db).output
    assert "goal #1 is now active" in run("goal", "add", "Answer refund questions consistently.", "--db", db).output
    run("goal", "add", "Second hypothesis", "--db", db)
    assert "goal #1 is now active" in run("goal", "use", "refund", "--db", db).output
    listing = run("goal", "list", "--db", db).output
    assert "* #1" in listing and "  #2" in listing

    from review.store import Change, Store

    with Store(db) as s:
        s.apply(1, [Change(2, "keep"), Change(3, "drop", "contradictory")], kind="batch")
    data = json.loads(run("stats", "--db", db, "--json").output)
    assert data["samples"] == 6
    g1 = data["goals"][0]
    assert (g1["kept"], g1["dropped"], g1["undecided"], g1["dropped_by_reason"]) == (1, 1, 4, {"contradictory": 1})
    assert "kept 1 · dropped 1 · undecided 4" in run("stats", "--db", db).output

    kept = tmp_path / "kept.jsonl"
    assert "wrote 1 kept samples" in run("export", "--db", db, "-o", kept).output
    assert json.loads(kept.read_text(encoding="utf-8")) == records[1]
    assert (tmp_path / "kept.jsonl.manifest.json").exists()


def test_bad_input_is_one_line_no_traceback_db_unchanged(run, tmp_path, data_file):
    db = tmp_path / "p.db"
    run("import", data_file, "--db", db)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"messages": []}\n{oops\n', encoding="utf-8")
    r = run("import", bad, "--db", db, ok=False)
    assert r.exit_code == 2
    assert "bad.jsonl:2:" in r.output and "Traceback" not in r.output
    assert "nothing was imported" in r.output
    assert json.loads(run("stats", "--db", db, "--json").output)["samples"] == 6


def test_map_option_and_unknown_schema(run, tmp_path):
    db = tmp_path / "p.db"
    src = tmp_path / "qa.jsonl"
    src.write_text(json.dumps({"question": "q?", "std_answer": "a."}) + "\n", encoding="utf-8")
    r = run("import", src, "--db", db, ok=False)
    assert r.exit_code == 2 and "question" in r.output and "--map" in r.output
    assert (
        "imported 1 sample as mapped"
        in run("import", src, "--db", db, "--map", "prompt=question", "--map", "answer=std_answer").output
    )
    r = run("import", src, "--db", db, "--map", "nonsense", ok=False)
    assert "expected CANONICAL=FIELD" in r.output


def test_commands_on_missing_or_foreign_files_fail_clearly(run, tmp_path):
    r = run("stats", "--db", tmp_path / "none.db", ok=False)
    assert r.exit_code == 2 and "no such project file" in r.output
    (tmp_path / "x.db").write_text("not sqlite")
    r = run("goal", "list", "--db", tmp_path / "x.db", ok=False)
    assert "not an SQLite file" in r.output


def test_goal_errors(run, tmp_path, data_file):
    db = tmp_path / "p.db"
    run("import", data_file, "--db", db)
    assert run("goal", "add", "  ", "--db", db, ok=False).exit_code == 2
    r = run("goal", "add", "Be short. Be kind.", "--db", db)
    assert "several sentences" in r.output
    assert "no goal matches" in run("goal", "use", "zzz", "--db", db, ok=False).output
    assert "no kept samples" in run("export", "--db", db, "-o", tmp_path / "k.jsonl", ok=False).output


def test_demo_builds_the_bundled_project(run, tmp_path):
    db = tmp_path / "demo.db"
    out = run("demo", "--no-open", "--db", db).output
    assert "demo project:" in out
    data = json.loads(run("stats", "--db", db, "--json").output)
    assert 150 <= data["samples"] <= 300
    assert data["sources"][0]["format"] == "openai"
    # running it again reuses the project (decisions survive); --reset rebuilds
    run("demo", "--no-open", "--db", db)
    assert json.loads(run("stats", "--db", db, "--json").output)["samples"] == data["samples"]


def test_hostile_goal_text_is_sanitised_in_output(run, tmp_path, data_file):
    db = tmp_path / "p.db"
    run("import", data_file, "--db", db)
    out = run("goal", "add", "Ask first \x1b]0;pwned\x07 [/]", "--db", db).output
    assert "\x1b" not in out and "\x07" not in out and "[/]" in out


def test_stats_reads_out_the_analysis(run, tmp_path):
    db = tmp_path / "demo.db"
    run("demo", "--no-open", "--db", db)
    run("analyze", "--db", db, "--detector", "exact")
    out = run("stats", "--db", db).output
    assert "exact: 29 samples flagged in 13 clusters (largest 4), duplicate mass 16" in out
    assert "{" not in out  # figures read as sentences, not dict reprs
