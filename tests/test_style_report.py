"""`winnow report`: the same findings headless, as rich tables and as --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from review.demo import DEMO_PATH, LABELS_PATH
from review.model import Queue
from review.session import ReviewSession
from review.store import Change, Store
from tui.cli_report import bar, report, sparkline

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
FASTCHAT = SHARED / "fastchat_dummy_conversation.json"


@pytest.fixture
def demo_db(tmp_path):
    db = tmp_path / "demo.db"
    with Store(db) as s:
        s.import_file(DEMO_PATH)
        goal, _ = s.add_goal("Answer Northwind support questions in the house style")
        s.apply(goal.id, [Change(i, "keep") for i in range(1, 60)])
    return db


def test_help_has_an_example():
    r = CliRunner().invoke(report, ["--help"])
    assert r.exit_code == 0 and "Example:" in r.output and "winnow report --db project.db --json" in r.output


def test_missing_project_is_a_clear_error(tmp_path):
    r = CliRunner().invoke(report, ["--db", str(tmp_path / "nope.db")])
    assert r.exit_code == 2 and "no such project file" in r.output


def test_json_report_on_the_demo(demo_db):
    r = CliRunner().invoke(report, ["--db", str(demo_db), "--json"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    # drift flags only what a curator calls another style (issue 14): 4 of the 9 planted, no other
    # (#188 is missed since the prompt-aware rule of d6590b9; test_style_quality says so)
    assert data["counts"] == {"style_drift": 4, "contradictions": 8, "noisy": 20}
    assert {tuple(p["samples"]) for p in data["contradictions"]} >= {(10, 200), (90, 146)}
    drift = {f["sample"]: f for f in data["style_drift"]}
    planted = {d["index"] + 1 for d in json.loads(LABELS_PATH.read_text())["style_drift"]}
    assert set(drift) <= planted
    assert drift[142]["details"][0] == "bullet list — none of 7 similar answers use one"
    assert data["boundaries"]["kept"] == 59 and set(data["boundaries"]["moves"]) == {
        "answer",
        "clarify",
        "refuse",
        "redirect",
    }
    assert data["noise_triggers"]["truncated"] == 3


def test_table_report_via_envvar_and_rerun(demo_db, monkeypatch):
    monkeypatch.setenv("WINNOW_DB", str(demo_db))
    r = CliRunner().invoke(report, ["--limit", "3"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    for title in (
        "Style drift",
        "Contradictory answers",
        "Same question, different answers",
        "Noise",
        "Boundaries — goal #1",
    ):
        assert title in r.output
    assert "style run:" in r.output and "█" in r.output
    # piped (CliRunner is not a terminal): no progress bar in the output
    assert "%" not in r.output.splitlines()[0]
    again = CliRunner().invoke(report, ["--limit", "3", "--rerun"], catch_exceptions=False)
    assert again.exit_code == 0 and "0 fingerprinted now" in again.output


def test_untrusted_text_is_shown_literally(tmp_path):
    path = tmp_path / "d.jsonl"
    rec = {
        "messages": [
            {"role": "user", "content": "Is [bold red]this[/] ok?\x1b[31m"},
            {"role": "assistant", "content": "Yes [/] it is."},
        ]
    }
    path.write_text(
        (json.dumps(rec) + "\n") * 2
        + json.dumps({"messages": [rec["messages"][0], {"role": "assistant", "content": "No, never."}]})
        + "\n"
    )
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(path)
    r = CliRunner().invoke(report, ["--db", str(db)], catch_exceptions=False)
    assert r.exit_code == 0
    assert "[bold red]this[/]" in r.output and "\x1b[31m" not in r.output and "␛[31m" in r.output


@pytest.mark.skipif(not FASTCHAT.exists(), reason=f"shared dataset not present: {FASTCHAT}")
def test_fastchat_groups_of_identity_questions_with_different_answers(tmp_path):
    db = tmp_path / "fc.db"
    with Store(db) as s:
        s.import_file(FASTCHAT)
    r = CliRunner().invoke(report, ["--db", str(db), "--json", "--limit", "20"], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["run"]["question_groups"] == 51
    groups = {g["question"]: g for g in json.loads(r.output)["same_question_groups"]}
    for q in ("Who are you?", "What is your name?", "Are you ChatGPT?", "Who created you?"):
        assert q in groups, sorted(groups)[:20]
        assert groups[q]["distinct_answers"] >= 4 and groups[q]["samples"] >= groups[q]["distinct_answers"]
    assert "What is up?" not in groups  # asked 167 times, always answered the same way
    table = CliRunner().invoke(report, ["--db", str(db)], catch_exceptions=False)
    assert "Same question, different answers" in table.output and "Are you ChatGPT?" in table.output


def test_flags_reach_the_review_session(demo_db):
    from review.style import run_style_analysis

    run_style_analysis(demo_db)
    with Store(demo_db) as s:
        session = ReviewSession(s, s.active_goal())
        session.jump(142)
        kinds = [f.kind for f in session.flags()]
        assert "style" in kinds
        assert session.set_queue(Queue("noisy")) and session.view().queue_label == "noisy samples"


def test_bar_and_sparkline():
    assert bar(5, 10, width=4) == "██" and bar(0, 10) == "" and bar(1, 0) == ""
    assert sparkline([0.5, 0.6, 0.7]) == "▁▄█" and sparkline([]) == ""
