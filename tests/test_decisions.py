"""The goal-keyed, append-only decision log: decide, undo, redo, derived state."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from review.model import REASONS, Decision
from review.store import Change, GoalError, Store, check_goal_sentence


def test_goal_sentence_rules(project):
    with pytest.raises(GoalError):
        project.add_goal("   ")
    _, warnings = project.add_goal("When a question is ambiguous, ask before answering.")
    assert warnings == []
    _, warnings = project.add_goal("Be brief. Be kind. Never guess.")
    assert warnings and "several sentences" in warnings[0]
    assert check_goal_sentence("  Ask   first. ")[0] == "Ask first."


def test_decisions_are_per_goal(project):
    a, _ = project.add_goal("Goal A")
    b, _ = project.add_goal("Goal B")
    project.apply(a.id, [Change(1, "keep")])
    project.apply(b.id, [Change(1, "drop", "noisy")])
    assert project.decision(a.id, 1) == Decision("keep")
    assert project.decision(b.id, 1) == Decision("drop", "noisy")
    project.undo(b.id)
    assert project.decision(a.id, 1) == Decision("keep")
    assert project.decision(b.id, 1) == Decision()


def test_every_step_is_in_the_log_and_undo_survives_restart(tmp_path, data_file):
    path = tmp_path / "p.db"
    store = Store(path)
    store.import_file(data_file)
    g, _ = store.add_goal("Answer refund questions consistently")
    store.apply(g.id, [Change(1, "keep")])
    store.apply(g.id, [Change(2, "drop", "contradictory"), Change(2, "note", value="says 30 days")], kind="drop")
    store.apply(g.id, [Change(3, "tag", value="refund")])
    store.close()

    store = Store(path)  # a new process would see exactly this
    assert store.decision(g.id, 2) == Decision("drop", "contradictory", "says 30 days")
    assert store.undo(g.id) == [3]
    assert store.undo(g.id) == [2]
    assert store.decision(g.id, 2) == Decision()
    store.close()

    store = Store(path)
    assert store.redo(g.id) == [2]
    assert store.decision(g.id, 2).verdict == "drop"
    kinds = [r[0] for r in store.conn.execute("SELECT kind FROM actions ORDER BY id")]
    assert kinds == ["keep", "drop", "tag", "undo", "undo", "redo"]
    assert store.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 4  # nothing deleted
    store.close()


def test_new_action_clears_the_redo_stack(project):
    g, _ = project.add_goal("g")
    project.apply(g.id, [Change(1, "keep")])
    project.undo(g.id)
    project.apply(g.id, [Change(2, "keep")])
    assert project.redo(g.id) == []
    assert project.decision(g.id, 1) == Decision()


def test_rejects_unknown_reason_and_empty_tag(project):
    g, _ = project.add_goal("g")
    with pytest.raises(ValueError, match="unknown drop reason"):
        project.apply(g.id, [Change(1, "drop", "because")])
    with pytest.raises(ValueError, match="tag cannot be empty"):
        project.apply(g.id, [Change(1, "tag", value=" ")])
    assert project.conn.execute("SELECT count(*) FROM actions").fetchone()[0] == 0


def test_batch_is_one_undo_step(project):
    g, _ = project.add_goal("g")
    project.apply(g.id, [Change(1, "keep"), Change(5, "drop", "duplicate")], kind="batch")
    assert project.counts(g.id).kept == 1 and project.counts(g.id).by_reason == {"duplicate": 1}
    assert sorted(project.undo(g.id)) == [1, 5]
    assert project.counts(g.id).decided == 0


# ---------------------------------------------------------------- property: log == simple model

SAMPLES = st.integers(min_value=1, max_value=4)
TAGS = st.sampled_from(["refund", "zh", "boundary"])


class DecisionLogMachine(RuleBasedStateMachine):
    """Any sequence of decide / tag / note / undo / redo leaves the store equal to a naive model:
    a list of snapshots (undo stack) and a redo stack, replayed in memory."""

    @initialize()
    def setup(self):
        import tempfile
        from pathlib import Path

        from builders import chat, write_jsonl

        self.dir = tempfile.TemporaryDirectory()
        d = Path(self.dir.name)
        data = write_jsonl(d / "d.jsonl", [chat(f"q{i}", f"a{i}") for i in range(4)])
        self.store = Store(d / "p.db")
        self.store.import_file(data)
        self.goal, _ = self.store.add_goal("property goal")
        self.other, _ = self.store.add_goal("other goal")
        self.store.apply(self.other.id, [Change(1, "keep")])
        self.state: dict[int, Decision] = {}
        self.done: list[dict[int, Decision]] = []  # snapshots before each effective action
        self.redo_stack: list[dict[int, Decision]] = []

    def _do(self, changes: list[Change]):
        from review.store import apply_change

        self.done.append(dict(self.state))
        self.redo_stack.clear()
        for c in changes:
            self.state[c.sample_id] = apply_change(self.state.get(c.sample_id, Decision()), c)
        self.store.apply(self.goal.id, changes)

    @rule(s=SAMPLES)
    def keep(self, s):
        self._do([Change(s, "keep")])

    @rule(s=SAMPLES, reason=st.sampled_from(REASONS))
    def drop(self, s, reason):
        self._do([Change(s, "drop", reason)])

    @rule(s=SAMPLES)
    def clear(self, s):
        self._do([Change(s, "clear")])

    @rule(s=SAMPLES, tag=TAGS, on=st.booleans())
    def tag(self, s, tag, on):
        self._do([Change(s, "tag" if on else "untag", value=tag)])

    @rule(s=SAMPLES, text=st.text(max_size=5))
    def note(self, s, text):
        self._do([Change(s, "note", value=text)])

    @rule(a=SAMPLES, b=SAMPLES)
    def batch(self, a, b):
        self._do([Change(a, "keep"), Change(b, "drop", "duplicate")])

    @rule()
    def undo(self):
        touched = self.store.undo(self.goal.id)
        if self.done:
            self.redo_stack.append(dict(self.state))
            self.state = self.done.pop()
            assert touched
        else:
            assert touched == []

    @rule()
    def redo(self):
        touched = self.store.redo(self.goal.id)
        if self.redo_stack:
            self.done.append(dict(self.state))
            self.state = self.redo_stack.pop()
            assert touched
        else:
            assert touched == []

    @rule()
    def reopen(self):
        path = self.store.path
        self.store.close()
        self.store = Store(path)

    @invariant()
    def matches_model(self):
        expected = {k: v for k, v in self.state.items() if v != Decision()}
        assert self.store.materialised_decisions(self.goal.id) == expected
        assert self.store.rebuild_decisions(self.goal.id) == expected
        c = self.store.counts(self.goal.id)
        assert c.kept == sum(1 for d in expected.values() if d.verdict == "keep")
        assert c.dropped == sum(1 for d in expected.values() if d.verdict == "drop")
        tags: dict[str, int] = {}
        for d in expected.values():
            for t in d.tags:
                tags[t] = tags.get(t, 0) + 1
        assert c.by_tag == tags
        assert self.store.decision(self.other.id, 1) == Decision("keep")  # other goal untouched

    def teardown(self):
        self.store.close()
        self.dir.cleanup()


TestDecisionLog = DecisionLogMachine.TestCase
TestDecisionLog.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
