"""Goals as hypotheses (edit history, re-review, fork, diff), small first batches, traceable exports."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from review.batch import batch_progress, propose_batch
from review.convert import LossyConversion, to_alpaca, to_openai, to_sharegpt
from review.demo import DEMO_PATH
from review.export import ExportError, changes_since, export
from review.figures import add_more_signals, diff_goals, to_json
from review.goals import edit_goal, fork_goal, rereview_count, revisions
from review.model import Conversation, Decision, Queue, Turn
from review.session import ReviewSession
from review.store import Change, Store
from tui.cli import cli


@pytest.fixture
def demo(tmp_path):
    store = Store(tmp_path / "demo.db")
    store.import_file(DEMO_PATH)
    yield store
    store.close()


def test_edit_keeps_old_wording_and_queues_rereview(project):
    g, _ = project.add_goal("Answer refunds with the 30-day policy.")
    project.apply(g.id, [Change(1, "keep")])
    project.apply(g.id, [Change(2, "drop", "contradictory")])
    g2, _ = edit_goal(project, g.id, "Answer refunds with the 14-day policy.")
    assert g2.sentence.endswith("14-day policy.")
    assert [r.sentence for r in revisions(project, g.id)] == [
        "Answer refunds with the 30-day policy.",
        "Answer refunds with the 14-day policy.",
    ]
    assert project.decision(g.id, 1) == Decision("keep")  # never silently rewritten
    s = ReviewSession(project, g2)
    assert s.set_queue(Queue("rereview")) and s.view().number == 1
    assert rereview_count(project, g.id) == 2
    s.keep()  # decided again under the new wording: leaves the queue
    assert rereview_count(project, g.id) == 1
    assert s.view().number == 2


def test_fork_copies_decisions_as_one_undoable_draft(project):
    a, _ = project.add_goal("goal a")
    project.apply(a.id, [Change(1, "keep"), Change(2, "drop", "noisy"), Change(3, "tag", value="zh")], kind="batch")
    b, n = fork_goal(project, a.id, "goal b, revised")
    assert n == 3
    assert project.materialised_decisions(b.id) == project.materialised_decisions(a.id)
    assert rereview_count(project, b.id) == 2  # the two verdicts
    project.undo(b.id)
    assert project.materialised_decisions(b.id) == {}
    assert project.decision(a.id, 1) == Decision("keep")


def test_diff_goals(project):
    a, _ = project.add_goal("a")
    b, _ = project.add_goal("b")
    project.apply(a.id, [Change(1, "keep"), Change(2, "keep"), Change(3, "drop", "noisy")], kind="batch")
    project.apply(b.id, [Change(2, "keep"), Change(3, "keep"), Change(1, "drop", "off-goal")], kind="batch")
    d = diff_goals(project, a.id, b.id)
    assert d.only_a == (1,) and d.only_b == (3,) and d.both_kept == 1
    assert d.disagree == ((1, "keep", "drop"), (3, "drop", "keep"))
    assert d.figures[a.id].kept == 2


def test_kept_duplicates_count_in_duplicate_mass(project):
    g, _ = project.add_goal("g")
    project.apply(g.id, [Change(1, "keep"), Change(5, "keep"), Change(2, "keep")], kind="batch")  # 1 and 5 are copies
    fig = diff_goals(project, g.id, g.id).figures[g.id]
    assert to_json(fig.duplicate_mass) == {"repeating": 1, "share": round(1 / 3, 4)}


def test_batch_is_seeded_spread_and_skips_duplicates_and_decided(demo):
    g, _ = demo.add_goal("g")
    demo.apply(g.id, [Change(1, "keep")])
    b1 = propose_batch(demo, g.id, size=50, seed=3)
    b2 = propose_batch(demo, g.id, size=50, seed=3)
    b3 = propose_batch(demo, g.id, size=50, seed=4)
    assert b1.sample_ids == b2.sample_ids and b1.sample_ids != b3.sample_ids
    assert len(b1.sample_ids) == 50 == len(set(b1.sample_ids))
    assert 1 not in b1.sample_ids
    hashes = [demo.sample(i).content_hash for i in b1.sample_ids]
    assert len(hashes) == len(set(hashes))  # one per exact-duplicate group
    assert len(b1.strata) >= 4  # spread over several strata
    # Chinese and English both represented
    zh = sum(
        1 for i in b1.sample_ids if any("\u4e00" <= c <= "\u9fff" for c in demo.sample(i).conversation.full_text())
    )
    assert 5 <= zh <= 45
    s = ReviewSession(demo, g)
    assert s.set_queue(Queue("batch"))
    assert s.view().number == b3.sample_ids[0]  # the goal's latest batch, in proposed order
    s.keep()
    assert s.view().number == b3.sample_ids[1]
    assert batch_progress(demo, g.id, b3.id) == (1, 50)


def test_conversions_are_faithful_or_refused():
    conv = Conversation(
        "Be brief.", (Turn("user", "hi"), Turn("assistant", "hello"), Turn("user", "bye"), Turn("assistant", "ciao"))
    )
    assert to_alpaca(conv) == {
        "instruction": "bye",
        "input": "",
        "output": "ciao",
        "system": "Be brief.",
        "history": [["hi", "hello"]],
    }
    assert to_sharegpt(conv)["conversations"][0] == {"from": "human", "value": "hi"}
    assert to_openai(conv)["messages"][0] == {"role": "system", "content": "Be brief."}
    tools = Conversation(
        "",
        (
            Turn("user", "weather?"),
            Turn("tool_call", '{"name": "w", "arguments": "{}"}', "w"),
            Turn("tool", "sunny", "w"),
            Turn("assistant", "Sunny."),
        ),
    )
    with pytest.raises(LossyConversion, match="tool"):
        to_alpaca(tools)
    msgs = to_openai(tools)["messages"]
    assert msgs[1]["tool_calls"][0]["function"]["name"] == "w" and msgs[2]["role"] == "tool"
    assert [t["from"] for t in to_sharegpt(tools)["conversations"]] == ["human", "function_call", "observation", "gpt"]


def test_export_records_and_since(demo, tmp_path):
    g, _ = demo.add_goal("g")
    demo.apply(g.id, [Change(i, "keep") for i in (2, 3, 4)], kind="batch")
    r1 = export(demo, g, tmp_path / "a.jsonl")
    demo.apply(g.id, [Change(3, "drop", "noisy"), Change(9, "keep")], kind="batch")
    ch = changes_since(demo, g.id)
    assert ch.since["id"] == r1.export_id and ch.added == (9,) and ch.removed == (3,) and ch.unchanged == 2
    r2 = export(demo, g, tmp_path / "b.json", to="sharegpt")
    m = json.loads(r2.manifest.read_text(encoding="utf-8"))
    assert m["previous_export"]["id"] == r1.export_id
    assert sorted(sum(m["kept_sample_ids_by_source"].values(), [])) == [2, 4, 9]
    recs = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert all("conversations" in r for r in recs) and len(recs) == 3
    # the manifest's log position reproduces the kept set exactly
    kept_then = {
        s for s, d in demo.rebuild_decisions(g.id, upto=m["decision_log_position"]).items() if d.verdict == "keep"
    }
    assert kept_then == {2, 4, 9}


def test_lossy_export_is_refused_whole(demo, tmp_path):
    g, _ = demo.add_goal("g")
    tool_ids = [s.id for s in demo.iter_samples() if any(t.role == "tool_call" for t in s.conversation.turns)]
    demo.apply(g.id, [Change(tool_ids[0], "keep"), Change(2, "keep")], kind="batch")
    with pytest.raises(ExportError, match="cannot convert 1 kept samples to alpaca"):
        export(demo, g, tmp_path / "x.jsonl", to="alpaca")
    assert not (tmp_path / "x.jsonl").exists()


def test_add_more_signals(demo):
    g, _ = demo.add_goal("g")
    demo.apply(g.id, [Change(i, "keep") for i in range(1, 11)], kind="batch")
    sig = add_more_signals(demo, g.id, last_n=1)
    assert sig.kept == 10 and sig.kept_before_last_n == 0
    assert any("only 10 kept" in a for a in sig.advice)


def test_done_when_two_goals_batches_compare_export_cli(tmp_path):
    """Issue 6's scenario end to end through the CLI (the keyboard half is in tests/tui)."""
    r = CliRunner()

    def run(*args):
        res = r.invoke(cli, [str(a) for a in args], catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res.output

    db = tmp_path / "demo.db"
    run("demo", "--no-open", "--db", db)
    run("goal", "add", "Answer billing questions briefly, answer first.", "--db", db)
    run("goal", "add", "When a request is out of scope, redirect politely.", "--db", db)
    for goal in (1, 2):
        out = json.loads(run("batch", "--db", db, "--goal", goal, "--size", 50, "--seed", goal, "--json"))
        with Store(db) as s:
            ids = out["samples"]
            s.apply(
                goal,
                [Change(i, "keep" if (i + goal) % 3 else "drop", None if (i + goal) % 3 else "off-goal") for i in ids],
                kind="batch",
            )
    diff = json.loads(run("goal", "diff", "1", "2", "--db", db, "--json"))
    assert diff["figures"]["1"]["kept"] > 0 and diff["figures"]["2"]["kept"] > 0
    for goal in (1, 2):
        run("export", "--db", db, "--goal", goal, "-o", tmp_path / f"g{goal}.jsonl")
        m = json.loads((tmp_path / f"g{goal}.jsonl.manifest.json").read_text(encoding="utf-8"))
        with Store(db) as s:
            kept = {
                k for k, d in s.rebuild_decisions(goal, upto=m["decision_log_position"]).items() if d.verdict == "keep"
            }
        assert sorted(kept) == sorted(sum(m["kept_sample_ids_by_source"].values(), []))
        assert m["goal"]["sentence"] and m["files"][0]["records"] == len(kept)
    assert "added   0" in run("export", "--db", db, "--goal", 1, "--since", "last")
    assert "#1" in run("export", "--db", db, "--list")


def test_report_ends_with_should_i_add_more(tmp_path):
    r = CliRunner()
    db = tmp_path / "demo.db"
    assert r.invoke(cli, ["demo", "--no-open", "--db", str(db)]).exit_code == 0
    with Store(db) as s:
        g, _ = s.add_goal("g")
        s.apply(g.id, [Change(i, "keep") for i in (2, 3, 4, 5)], kind="batch")
    res = r.invoke(cli, ["report", "--db", str(db)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    assert "Should I add more?" in res.output and "only 4 kept" in res.output
    data = json.loads(r.invoke(cli, ["report", "--db", str(db), "--json"]).output)
    assert data["should_i_add_more"]["kept"] == 4
