"""Boundaries per goal: the move mix of the kept set, its warnings and its style stability."""

from __future__ import annotations

import json

import pytest

from review.demo import DEMO_PATH, LABELS_PATH
from review.store import Change, Store
from review.style import boundary_summary, run_style_analysis
from review.style.boundaries import stability
from review.style.fingerprint import fingerprint


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    with Store(db) as s:
        s.import_file(DEMO_PATH)
    run_style_analysis(db)
    return db


@pytest.fixture
def demo(demo_db, tmp_path):
    import shutil

    db = tmp_path / "demo.db"
    shutil.copy(demo_db, db)
    with Store(db) as s:
        yield s


LABELS = json.loads(LABELS_PATH.read_text())
# sample id = line index + 1 (the demo is the only source)
PLAIN = [i + 1 for i in (7, 27, 100, 126, 246, 32, 137, 151, 200, 218, 50, 117, 168)]
BOUNDARY = {b["index"] + 1: b["move"] for b in LABELS["boundary"]}


def keep(store: Store, goal_id: int, ids) -> None:
    store.apply(goal_id, [Change(i, "keep") for i in ids])


def test_only_plain_answers_warns_that_nothing_shows_where_the_behaviour_stops(demo):
    goal, _ = demo.add_goal("Answer account questions in the house style")
    keep(demo, goal.id, PLAIN)
    b = boundary_summary(demo, goal.id)
    assert b.kept == 13 and b.with_answer == 13
    assert b.moves == {"answer": 13, "clarify": 0, "refuse": 0, "redirect": 0}
    assert any(w.startswith("no examples of where the behaviour stops: all 13 kept answers") for w in b.warnings)
    keep(demo, goal.id, [53])  # a refusal
    b = boundary_summary(demo, goal.id)
    assert b.moves["refuse"] == 1 and not any("no examples" in w for w in b.warnings)


def test_the_labelled_boundary_samples_fill_the_move_mix(demo):
    goal, _ = demo.add_goal("Support answers that know their limits")
    keep(demo, goal.id, list(BOUNDARY) + PLAIN)
    b = boundary_summary(demo, goal.id)
    want = {m: sum(1 for v in BOUNDARY.values() if v == m) for m in ("clarify", "refuse", "redirect")}
    for move, n in want.items():
        assert b.moves[move] >= n
    assert not any("no examples" in w for w in b.warnings)


def test_refusals_dominating_is_a_warning(demo):
    goal, _ = demo.add_goal("Refuse everything")
    refusals = [i for i, m in BOUNDARY.items() if m in ("refuse", "redirect")]
    keep(demo, goal.id, refusals + PLAIN[:2])
    b = boundary_summary(demo, goal.id)
    assert b.kept == len(refusals) + 2
    # 8 refuse/redirect of 10: no single move reaches 70%, so it is the mix that is shown, not a warning
    assert b.moves["refuse"] + b.moves["redirect"] == 8


def test_stability_rises_when_drifting_answers_are_dropped_and_history_records_it(demo):
    goal, _ = demo.add_goal("Password help in one voice")
    cluster = [i + 1 for i in (32, 137, 141, 151, 187, 200, 204, 218)]
    keep(demo, goal.id, cluster)
    mixed = boundary_summary(demo, goal.id)
    demo.apply(goal.id, [Change(142, "drop", "style-drift"), Change(188, "drop", "style-drift")])
    clean = boundary_summary(demo, goal.id)
    assert clean.stability > mixed.stability
    assert [h[0] for h in clean.history] == [8, 6]
    assert mixed.varying and any("bullet list" in v or "apology" in v or "length" in v for v in mixed.varying)
    assert clean.project_stability is not None


def test_one_question_dominating_the_kept_set(tmp_path):
    path = tmp_path / "d.jsonl"
    recs = [
        {
            "messages": [
                {"role": "user", "content": "Who are you?"},
                {"role": "assistant", "content": f"I am Vicuna, answer {i}."},
            ]
        }
        for i in range(8)
    ]
    recs += [
        {
            "messages": [
                {"role": "user", "content": f"What is {i} + {i}?"},
                {"role": "assistant", "content": f"It is {2 * i}."},
            ]
        }
        for i in range(4)
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(path)
    run_style_analysis(db)
    with Store(db) as s:
        goal, _ = s.add_goal("Identity answers")
        keep(s, goal.id, range(1, 13))
        b = boundary_summary(s, goal.id)
    assert b.dominant_question == {"question": "Who are you?", "count": 8, "share": round(8 / 12, 3)}
    assert any(w.startswith("one question dominates") for w in b.warnings)


def test_stability_figure_bounds():
    same = [fingerprint("It is in Settings. Let me know if you need anything else.")] * 5
    assert stability(same)[0] == 1.0
    mixed = [
        fingerprint("- a\n- b"),
        fingerprint("Sure! 😊 Yes!"),
        fingerprint("非常抱歉。您好。"),
        fingerprint("It is in Settings."),
        fingerprint("## Title\n**bold** text"),
    ]
    figure, varying = stability(mixed)
    assert figure < 0.7 and varying
    assert stability(same[:1]) == (None, [])
