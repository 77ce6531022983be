"""Train/eval leakage, and the `winnow analyze` / `winnow leakage` commands."""

from __future__ import annotations

import json

import pytest
from analysis_helpers import make_project
from click.testing import CliRunner

from review.analysis import analysis_stats, duplicate_flags, leakage, leaks_for
from review.embed import FakeEmbedder
from review.model import Queue
from review.queues import default_queues
from review.store import Store

TRAIN = [
    {"instruction": "What is the boiling point of water at sea level?", "input": "", "output": "100 degrees Celsius."},
    {"instruction": "Translate 'good morning' into French.", "input": "", "output": "Bonjour."},
    {"instruction": "Name three primary colours.", "input": "", "output": "Red, yellow and blue."},
    {"instruction": "Who wrote the novel Moby-Dick?", "input": "", "output": "Herman Melville."},
    {"instruction": "Give a synonym for happy.", "input": "", "output": "Joyful."},
]
EVAL = [
    {"instruction": "what is the boiling point of  water at sea level?", "input": "", "output": "212 F."},  # exact
    {"instruction": "Who wrote the novel Moby Dick", "input": "", "output": "Melville."},  # lexical
    {"instruction": "Explain photosynthesis in one sentence.", "input": "", "output": "Plants make sugar."},
]


@pytest.fixture
def train_db(tmp_path):
    db, ids = make_project(tmp_path, TRAIN)
    return db, ids


def test_leakage_finds_exact_and_lexical_prompt_copies(tmp_path, train_db):
    db, ids = train_db
    ev = tmp_path / "eval.jsonl"
    ev.write_text("".join(json.dumps(r) + "\n" for r in EVAL), encoding="utf-8")
    report = leakage(db, ev, embedder=FakeEmbedder())
    assert report.field == "prompt" and report.eval_samples == 3 and report.train_samples == 5
    pairs = {(x.sample_id, x.eval_position): x.detector for x in report.leaks}
    assert pairs == {(ids[0], 0): "exact", (ids[3], 1): "lexical"}
    assert report.leaked["exact"] == 1 and report.leaked["lexical"] >= 2 and report.leaked_samples == 2
    with Store(db) as s:
        goal = s.add_goal("Teach short factual answers.")[0]
        flag = next(f for f in duplicate_flags(s, goal.id, s.sample(ids[3])) if f.kind == "leak")
        assert flag.label.startswith("leak: eval #2 (lexical 0.9")
        assert flag.details[1] == EVAL[1]["instruction"]  # the eval partner's text, for the compare pane
        assert flag.reason == "duplicate" and flag.partner is None
        assert [x.eval_position for x in leaks_for(s, ids[3])] == [1]
        assert default_queues().step(s, goal.id, Queue("leaks"), 0) == ids[0]
        stats = analysis_stats(s)
        assert stats["leakage"]["leaked_samples"]["any"] == 2 and stats["leakage"]["eval_samples"] == 3


def test_leakage_against_a_project_and_semantic(tmp_path, train_db):
    db, ids = train_db
    (tmp_path / "e").mkdir()
    eval_db, _ = make_project(tmp_path / "e", EVAL, name="eval")
    emb = FakeEmbedder()
    report = leakage(db, eval_db, detectors=("semantic",), embedder=emb, thresholds={"semantic": 0.8})
    assert {x.sample_id for x in report.leaks} == {ids[0], ids[3]}
    assert all(x.detector == "semantic" and x.score >= 0.8 for x in report.leaks)
    calls = emb.calls
    leakage(db, eval_db, detectors=("semantic",), embedder=emb, thresholds={"semantic": 0.8})
    assert emb.calls == calls  # both sides' embeddings are cached in the training project


# ---------------------------------------------------------------------- CLI


def test_analyze_and_leakage_help_have_examples():
    from tui.cli_analysis import analyze
    from tui.cli_analysis import leakage as leakage_cmd

    for cmd in (analyze, leakage_cmd):
        r = CliRunner().invoke(cmd, ["--help"])
        assert r.exit_code == 0 and "Example:" in r.output and "--db" in r.output


def test_analyze_json_and_text(tmp_path, monkeypatch):
    from tui import cli_analysis

    db, _ = make_project(tmp_path, TRAIN + TRAIN[:2])
    monkeypatch.setattr("review.analysis.run.make_embedder", lambda model, device: FakeEmbedder())
    r = CliRunner().invoke(cli_analysis.analyze, ["--db", str(db), "--json"])
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["detectors"]["exact"]["pairs"] == 2 and data["detectors"]["exact"]["mass"] == 2
    assert data["detectors"]["semantic"]["embedded"] == 5
    r = CliRunner().invoke(cli_analysis.analyze, ["--db", str(db), "--detector", "exact"])
    assert r.exit_code == 0
    assert "exact" in r.output and "2 pairs" in r.output and "unchanged" in r.output
    assert "\x1b" not in r.output  # quiet when not a terminal: no progress bar


def test_analyze_reports_bad_input_cleanly(tmp_path):
    from tui import cli_analysis

    r = CliRunner().invoke(cli_analysis.analyze, ["--db", str(tmp_path / "missing.db")])
    assert r.exit_code == 2 and "no such project file" in r.output
    db, _ = make_project(tmp_path, TRAIN)
    r = CliRunner().invoke(cli_analysis.analyze, ["--db", str(db), "--threshold-semantic", "1.5"])
    assert r.exit_code == 2


def test_leakage_command(tmp_path, train_db):
    from tui import cli_analysis

    db, ids = train_db
    ev = tmp_path / "eval.jsonl"
    ev.write_text("".join(json.dumps(r) + "\n" for r in EVAL), encoding="utf-8")
    r = CliRunner().invoke(
        cli_analysis.leakage, ["--db", str(db), "--against", str(ev), "--detector", "exact", "--detector", "lexical"]
    )
    assert r.exit_code == 0, r.output
    assert r.output.startswith("2 of 5 training samples leak into")
    assert f"#{ids[0]} ≈ eval record 1 · exact 1.00" in r.output
    r = CliRunner().invoke(
        cli_analysis.leakage, ["--db", str(db), "--against", str(ev), "--detector", "exact", "--json"]
    )
    assert json.loads(r.output)["leaked_samples"] == {"exact": 1, "any": 1}


def test_stats_json_includes_analysis(tmp_path):
    from tui.cli import cli

    db, _ = make_project(tmp_path, TRAIN + TRAIN[:1])
    from review.analysis import run_analysis

    run_analysis(db, detectors=("exact", "lexical"))
    r = CliRunner().invoke(cli, ["stats", "--db", str(db), "--json"])
    assert r.exit_code == 0, r.output
    a = json.loads(r.output)["analysis"]
    assert a["detectors"]["exact"]["flagged_samples"] == 2 and a["detectors"]["exact"]["clusters"] == 1
    assert a["detectors"]["lexical"]["clusters"] == 1
