"""Goal consistency measured on real data: labelled off-goal samples against on-goal ones.

The labels (tests/fixtures/quality/goal.jsonl, detector "off_goal") name records of files in
../shared/datasets, each read by a person: label true = off the goal named in the line's "goal".
A language's labelled records are written, per dataset, into a file of their own (in label order)
and imported into one fresh project; `score_goal` scores them against that goal and the figures
are ROC-AUC of the off-goal score, precision of the first k of the "off_goal" queue, and precision
/ recall of the flags. "kept K": the first K on-goal samples (in label order) kept under the goal
first, as a curator would after a first look.

Run the whole measurement: .venv/bin/python -m tests.goal_quality   (the real model; minutes)
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

from review.relevance import score_goal
from review.store import Change, Store

ROOT = Path(__file__).resolve().parent.parent
LABELS = ROOT / "tests" / "fixtures" / "quality" / "goal.jsonl"
DATASETS = ROOT.parent / "shared" / "datasets"


@dataclass(frozen=True)
class Label:
    dataset: str
    position: int
    lang: str
    off_goal: bool
    reason: str
    goal: str


def labels(lang: str) -> list[Label]:
    out = []
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        if d["detector"] == "off_goal" and d["lang"] == lang:
            out.append(Label(d["dataset"], d["positions"][0], d["lang"], d["label"], d["reason"], d["goal"]))
    return out


def build(folder: Path, items: list[Label]) -> tuple[Store, int, dict[int, Label]]:
    """A project of the labelled records (one file per dataset), its goal, and sample id -> label."""
    goals = {x.goal for x in items}
    assert len(goals) == 1, f"one goal per measured set, not {sorted(goals)}"
    store = Store(folder / "goal-quality.db", create=True)
    by_sample: dict[int, Label] = {}
    for name in dict.fromkeys(x.dataset for x in items):
        mine = [x for x in items if x.dataset == name]
        records = json.loads((DATASETS / name).read_text(encoding="utf-8"))
        subset = folder / f"labelled-{name}"
        chosen = [_alpaca(records[x.position]) for x in mine]
        subset.write_text(json.dumps(chosen, ensure_ascii=False), encoding="utf-8")
        store.import_file(subset)
        for s in store.iter_samples():
            if s.source_name == subset.name:
                by_sample[s.id] = mine[s.position]
    goal, _ = store.add_goal(goals.pop())
    return store, goal.id, by_sample


def _alpaca(record: dict) -> dict:
    """zhongjing's safety records spell the key `instruct`: renamed, as the importer's refusal advises."""
    if "instruct" in record and "instruction" not in record:
        record = {("instruction" if k == "instruct" else k): v for k, v in record.items()}
    return record


def roc_auc(scores: list[float], positive: list[bool]) -> float:
    """P(an off-goal sample scores above an on-goal one), ties counted half."""
    pos = [s for s, p in zip(scores, positive, strict=True) if p]
    neg = [s for s, p in zip(scores, positive, strict=True) if not p]
    wins = sum((a > b) + 0.5 * (a == b) for a in pos for b in neg)
    return wins / (len(pos) * len(neg))


@dataclass(frozen=True)
class Figures:
    auc: float
    precision_at: dict[int, float]
    flagged: int
    flag_precision: float | None
    flag_recall: float
    kept: int


def measure(store: Store, goal_id: int, by_sample: dict[int, Label], embedder=None, keep: int = 0) -> Figures:
    on_goal = [sid for sid, x in by_sample.items() if not x.off_goal]
    if keep:
        store.apply(goal_id, [Change(sid, "keep") for sid in on_goal[:keep]])
    summary = score_goal(store, goal_id, embedder)
    assert summary is not None
    kept = set(on_goal[:keep])
    rows = {sid: store.relevance_of(goal_id, sid) for sid in by_sample if sid not in kept}
    ids = list(rows)
    scores = [rows[sid][1] for sid in ids]  # type: ignore[index]
    truth = [by_sample[sid].off_goal for sid in ids]
    order, sid = [], 0
    while (sid := store.relevance_step(goal_id, sid, forward=True, undecided_only=True) or 0) and len(order) < 100:
        order.append(sid)
    precision_at = {k: sum(by_sample[s].off_goal for s in order[:k]) / k for k in (10, 20, 50) if len(order) >= k}
    flagged = [sid for sid in ids if rows[sid][4]]  # type: ignore[index]
    hits = sum(by_sample[s].off_goal for s in flagged)
    return Figures(
        roc_auc(scores, truth),
        precision_at,
        len(flagged),
        hits / len(flagged) if flagged else None,
        hits / max(1, sum(truth)),
        len(kept),
    )


def main() -> None:
    import tempfile

    from review.embed import default_embedder

    emb = default_embedder()
    for lang in ("zh", "en"):
        items = labels(lang)
        with tempfile.TemporaryDirectory() as tmp:
            store, gid, by_sample = build(Path(tmp), items)
            with store:
                for keep in (0, 1, 10):  # the same project: a re-score embeds nothing new
                    f = measure(store, gid, by_sample, emb, keep)
                    off = sum(x.off_goal for x in items)
                    p = " ".join(f"P@{k} {v:.2f}" for k, v in f.precision_at.items())
                    fp = "-" if f.flag_precision is None else f"{f.flag_precision:.2f}"
                    print(
                        f"{lang} {len(items)} labelled ({off} off-goal) · kept {f.kept}: ROC-AUC {f.auc:.3f} · {p}"
                        f" · flagged {f.flagged} precision {fp} recall {f.flag_recall:.2f} · {emb.model_id}"
                    )
                    sys.stdout.flush()


if __name__ == "__main__":
    main()
