"""Preference pair analysis (issue 15): what a DPO/ORPO pair or a KTO record says that a plain
sample cannot, in four checks. `run_pairs` (part of `winnow analyze`) stores what they find in
`pair_flags` and ranks the "pairs" queue (m011); the review screen's provider `pair_flags` reads
one sample's rows by key. Every flag says in words what set it off.

pair-same           near-identical chosen and rejected: no preference signal. Character-level
                    similarity (rapidfuzz ratio, the Indel distance normalised) >= SAME_RATIO, or
                    >= SAME_SHORT_RATIO where they differ by at most SAME_SHORT_CHARS characters
                    (Levenshtein): "我真的是故意的。" / "我是故意的。" (0.86, 2 characters). "Yes." /
                    "No." (0.57) and "B. 检查结果" / "C. 参与讨论" are preferences, not copies.
                    "chosen and rejected differ by 11 characters (95% the same)". Certainty: the ratio.
pair-noise          the rejected answer is better by the noise rules (review/style/pair_noise.py:
                    noise.py `triggers`, which runs noise_rules.py): the chosen answer has a defect
                    (truncated, empty, repetition loop, placeholder, unfilled template, wrong
                    language) that the rejected one has not. "chosen is truncated; rejected is
                    not". Certainty: the trigger's own. The style package imports analysis, so this
                    module cannot import it back: the check comes in as `noise` (run_pairs,
                    run_analysis(pair_noise=...)), as `winnow analyze` passes it.
pair-contradiction  records that ask the same question (review.prompt.question_key) judge the
                    same answer both ways: A's chosen is (near-)identical (same test as
                    pair-same) to B's rejected, or a KTO record labels desirable what another
                    labels undesirable. Both ways round (A prefers X over Y, B Y over X) is
                    certain (the lower ratio); one way round 0.75 of it. Names the other record.
pair-prompt         the same question in several preference records: how many, and whether the
                    other record carries the same answers (a copy, 0.85) or different ones (0.5).

Thresholds from reading the real preference files (/work/shared/datasets, 910 records): DPO en
300 pairs: one pair above 0.9 (#44, 0.96: the rejected drops "in Gorazde", a real but tiny
difference worth a look), the next at 0.73 (two different worked answers); DPO zh: #135 (0.86, two
characters) then 0.64; v1 DPO: the Gorazde pair again (0.96), then 0.54. So SAME_RATIO 0.90 and
the short-text rule catch each near copy read and nothing else.

Contradictions within one prompt group are compared pairwise up to GROUP_PAIRWISE_MAX records
(rapidfuzz); a larger group (a templated prompt) is matched on the normalised text only.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ..model import Flag, Queue, QueueSpec, Sample, Turn, normalise
from ..prompt import question_key
from ..store import Store
from .store import AnalysisStore, PairFlagRow

PairCheck = Callable[[Sample], PairFlagRow | None]

SAME_RATIO = 0.90
SAME_SHORT_RATIO = 0.80
SAME_SHORT_CHARS = 3
BOTH_WAYS = 1.0  # certainty factor of a contradiction both ways round (A: X over Y, B: Y over X)
ONE_WAY = 0.75  # ...and of one answer judged both ways (A's chosen is B's rejected)
PROMPT_COPY = 0.85  # the same question and the same answers in another record
PROMPT_OTHER = 0.5  # the same question, other answers
GROUP_PAIRWISE_MAX = 200
MEMBERS_MAX = 50  # records a flag lists as its group

KINDS = ("pair-same", "pair-noise", "pair-contradiction", "pair-prompt")
REASONS = {"pair-same": "other", "pair-contradiction": "contradictory", "pair-prompt": "duplicate"}


def _text(turns: Sequence[Turn]) -> str:
    return "\n".join(t.content for t in turns).strip()


@dataclass(frozen=True)
class Similarity:
    ratio: float  # rapidfuzz ratio / 100 (normalised Indel similarity)
    distance: int  # Levenshtein distance: characters inserted, deleted or replaced

    @property
    def near_identical(self) -> bool:
        return self.ratio >= SAME_RATIO or (self.ratio >= SAME_SHORT_RATIO and self.distance <= SAME_SHORT_CHARS)


def similarity(a: str, b: str) -> Similarity:
    """How alike two answers are, character by character (whitespace at the ends ignored)."""
    from rapidfuzz import fuzz
    from rapidfuzz.distance import Levenshtein

    a, b = a.strip(), b.strip()
    if a == b:
        return Similarity(1.0, 0)
    return Similarity(fuzz.ratio(a, b) / 100.0, Levenshtein.distance(a, b))


def same_check(sample: Sample) -> PairFlagRow | None:
    """Check 1: a pair whose chosen and rejected answers are (nearly) the same text."""
    conv = sample.conversation
    if not conv.is_pair:
        return None
    chosen, rejected = (_text(t) for t in conv.pair_answers())
    sim = similarity(chosen, rejected)
    if not sim.near_identical:
        return None
    if sim.distance == 0:
        label = "pair: chosen and rejected are the same text (no preference signal)"
    else:
        s = "" if sim.distance == 1 else "s"
        label = f"pair: chosen and rejected differ by {sim.distance} character{s} ({int(sim.ratio * 100)}% the same)"
    return PairFlagRow(sample.id, "pair-same", None, round(sim.ratio, 4), label, (sample.id,))


# ---------------------------------------------------------------------- groups by prompt


@dataclass(frozen=True)
class _Judged:
    """One answer a record judges: +1 (chosen / desirable) or -1 (rejected / undesirable)."""

    text: str
    sign: int
    role: str  # how the record names it: "chosen", "rejected", "desirable answer", "undesirable answer"


def _judgements(sample: Sample) -> list[_Judged]:
    conv = sample.conversation
    if conv.is_pair:
        chosen, rejected = (_text(t) for t in conv.pair_answers())
        return [_Judged(chosen, 1, "chosen"), _Judged(rejected, -1, "rejected")]
    if conv.label is not None:
        return [
            _Judged(
                conv.answer_text().strip(),
                1 if conv.label else -1,
                "desirable answer" if conv.label else "undesirable answer",
            )
        ]
    return []


def _answers_key(sample: Sample) -> tuple:
    return tuple((normalise(j.text), j.sign) for j in _judgements(sample))


def group_checks(group: Sequence[Sample], no_signal: set[int]) -> list[PairFlagRow]:
    """Checks 3 and 4 on the records that ask one question (ascending ids). `no_signal`: pairs
    whose chosen and rejected are near-identical (check 1): they judge nothing, so they
    contradict nothing."""
    if len(group) < 2:
        return []
    out: list[PairFlagRow] = []
    ids = tuple(s.id for s in group)
    members = ids[:MEMBERS_MAX]
    keys = {s.id: _answers_key(s) for s in group}
    pairwise = len(group) <= GROUP_PAIRWISE_MAX
    judged = {s.id: _judgements(s) for s in group}
    for s in group:
        others = [o for o in group if o.id != s.id]
        copies = [o.id for o in others if keys[o.id] == keys[s.id]]
        partner = copies[0] if copies else others[0].id
        n = len(group)
        what = "pair" if s.conversation.is_pair else "KTO"
        if copies:
            more = f" and {len(copies) - 1} more" if len(copies) > 1 else ""
            label = f"{what}: same prompt and answers as #{partner}{more} · {n} records ask it"
            score = PROMPT_COPY
        else:
            label = f"{what}: same prompt as #{partner}, other answers · {n} records ask it"
            score = PROMPT_OTHER
        out.append(PairFlagRow(s.id, "pair-prompt", partner, score, label, members))
        if s.id in no_signal:
            continue
        best: tuple[float, int, list[str]] | None = None  # (certainty, other id, what matched)
        for o in others:
            if o.id in no_signal:
                continue
            matched: list[tuple[float, str]] = []
            for mine in judged[s.id]:
                for theirs in judged[o.id]:
                    if mine.sign == theirs.sign:
                        continue
                    if normalise(mine.text) == normalise(theirs.text):
                        sim = Similarity(1.0, 0)
                    elif pairwise:
                        sim = similarity(mine.text, theirs.text)
                    else:
                        continue
                    if sim.near_identical:
                        matched.append((sim.ratio, f"this record's {mine.role} is #{o.id}'s {theirs.role}"))
            if not matched:
                continue
            both = len(matched) >= 2
            certainty = round(min(r for r, _ in matched) * (BOTH_WAYS if both else ONE_WAY), 4)
            if best is None or certainty > best[0]:
                best = (certainty, o.id, [w for _, w in matched])
        if best is not None:
            certainty, other, found = best
            head = (
                f"{what}: contradicts #{other}: it prefers the other way round"
                if len(found) >= 2
                else f"{what}: contradicts #{other}: {found[0]}"
            )
            out.append(
                PairFlagRow(
                    s.id,
                    "pair-contradiction",
                    other,
                    certainty,
                    head,
                    (s.id, other),
                    tuple(found) if len(found) >= 2 else (),
                )
            )
    return out


# ---------------------------------------------------------------------- the run


@dataclass(frozen=True)
class PairSummary:
    records: int  # pairs and KTO records read
    counts: dict[str, int]  # samples flagged, per check
    seconds: float

    def to_json(self) -> dict:
        return {"records": self.records, "counts": dict(self.counts), "seconds": round(self.seconds, 3)}


def run_pairs(
    store: Store,
    *,
    noise: PairCheck | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> PairSummary | None:
    """Run the four checks on every pair and KTO record of the project and store what they find
    (replacing the last run's). `noise`: check 2 (review.style.pair_noise.noise_check); without
    it the other three run. None when stopped before the end (the last run's findings stay)."""
    t0 = time.perf_counter()
    astore = AnalysisStore(store)
    rows: list[PairFlagRow] = []
    groups: dict[str, list[Sample]] = defaultdict(list)
    no_signal: set[int] = set()
    after, read = 0, 0
    while True:
        ids = astore.preference_ids(after, 1000)
        if not ids:
            break
        for s in store.samples(ids):
            for check in (same_check, noise):
                r = check(s) if check is not None else None
                if r is not None:
                    rows.append(r)
                    if r.kind == "pair-same":
                        no_signal.add(s.id)
            key = question_key(s.conversation)
            if key:
                groups[key].append(s)
        after = ids[-1]
        read += len(ids)
        if progress is not None:
            progress("pairs", read, read)
        if should_stop is not None and should_stop():
            return None
    for group in groups.values():
        rows += group_checks(group, no_signal)
    counts = {k: 0 for k in KINDS}
    for r in rows:
        counts[r.kind] += 1
    summary = PairSummary(read, counts, time.perf_counter() - t0)
    astore.replace_pair_flags(rows, {"summary": summary.to_json()})
    return summary


def pair_figures(store: Store) -> dict:
    """The latest pair run's figures ({} before the first): records read, samples per check."""
    state = AnalysisStore(store).pair_state().get("summary")
    return dict(state) if isinstance(state, dict) else {}


# ---------------------------------------------------------------------- review screen


def pair_flags(store: Store, goal_id: int, sample: Sample) -> list[Flag]:
    """The pair findings of one sample, most certain first: one indexed query (plus the
    decision, by key, for a pair already swapped: its chosen-side findings are answered)."""
    rows = AnalysisStore(store).pair_flags_of(sample.id)
    if not rows:
        return []
    pref = store.decision(goal_id, sample.id).pref if any(r.kind == "pair-noise" for r in rows) else ""
    out: list[Flag] = []
    for r in rows:
        if r.kind == "pair-noise" and pref in ("swapped", "both-bad"):
            continue
        reason = REASONS.get(r.kind)
        if r.kind == "pair-noise":
            reason = "incomplete" if "truncated" in r.label or "empty" in r.label else "noisy"
        out.append(Flag(r.kind, r.label, r.partner, r.score, r.members, r.details, reason=reason))
    return out


def pairs_queue(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
    """Samples the pair checks flagged, most certain first; undecided ones only unless value "all"."""
    return AnalysisStore(store).pair_queue_step(goal_id, after, forward, undecided_only=queue.value != "all")


def queue_specs() -> dict[str, QueueSpec[Store]]:
    """The "pairs" queue, for review.queues.default_queues()."""
    return {"pairs": QueueSpec("preference pairs flagged, most certain first", pairs_queue)}


__all__ = [
    "PairCheck",
    "KINDS",
    "SAME_RATIO",
    "SAME_SHORT_CHARS",
    "SAME_SHORT_RATIO",
    "PairSummary",
    "Similarity",
    "group_checks",
    "pair_figures",
    "pair_flags",
    "pairs_queue",
    "queue_specs",
    "run_pairs",
    "same_check",
    "similarity",
]
