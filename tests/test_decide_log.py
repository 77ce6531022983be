"""The decision log's property test (tests/test_decisions.py) with bulk decisions among its steps:
any sequence of single decisions, tags, notes, bulk decisions, undo and redo leaves the store
equal to the naive in-memory model (the bulk path writes its state set-wise in SQL, and undo
re-derives state set-wise: both must agree with apply_change, event by event)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import rule
from test_decisions import SAMPLES, TAGS, DecisionLogMachine

from review.model import REASONS, Decision
from review.store import Change, apply_change


class BulkDecisionLogMachine(DecisionLogMachine):
    @rule(
        ids=st.sets(SAMPLES, min_size=1),
        verdict=st.sampled_from(["keep", "drop"]),
        reason=st.sampled_from(REASONS),
        tags=st.lists(TAGS, max_size=2),
        note=st.none() | st.text(max_size=3),
    )
    def bulk(self, ids, verdict, reason, tags, note):
        sids = sorted(ids)
        why = reason if verdict == "drop" else None
        tags = list(dict.fromkeys(tags))
        self.done.append(dict(self.state))
        self.redo_stack.clear()
        for sid in sids:
            d = self.state.get(sid, Decision())
            for c in [Change(sid, verdict, why), *(Change(sid, "tag", value=t) for t in tags)] + (
                [Change(sid, "note", value=note)] if note is not None else []
            ):
                d = apply_change(d, c)
            self.state[sid] = d
        self.store.apply_bulk(self.goal.id, sids, verdict, reason=why, tags=tags, note=note)


TestBulkDecisionLog = BulkDecisionLogMachine.TestCase
TestBulkDecisionLog.settings = settings(
    max_examples=60, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
