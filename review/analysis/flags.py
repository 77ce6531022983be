"""What the review screen learns from analysis: flags, queues and figures. Standard library only.

Flag labels read like "semantic 0.97 · near-dup of #4521 · cluster of 6"; `members` is the
whole cluster (this sample included, ascending), `partner` the sample the compare pane shows and
`details[0]` where this sample stands ("2 of 6 near-copies"). A leak flag has no partner sample:
its `details` are ("eval FILE record N (line L)", the eval sample's text) for the compare pane.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from ..model import Flag, Queue, QueueSpec, Sample
from ..store import Store
from .figures import analysis_figures
from .store import DETECTORS, AnalysisStore

_NOUN = {"exact": "copy of", "lexical": "near-copy of", "semantic": "near-dup of"}
WHY_CHARS = 2000  # each side compared on its first WHY_CHARS characters: SequenceMatcher is quadratic


def _alike(a: str, b: str) -> float:
    return SequenceMatcher(None, a[:WHY_CHARS], b[:WHY_CHARS], autojunk=False).ratio()


def _prompt_side(sample: Sample) -> str:
    c = sample.conversation
    return f"{c.tools}\n{c.prompt_text()}" if c.tools else c.prompt_text()


def why_alike(sample: Sample, other: Sample) -> str:
    """Why a pair was flagged, in words: how alike its prompts (the whole prompt side: tools, system and
    every turn before the answer) and its answers are, as character-level ratios (0..1). Not
    question_identity: in a multi-turn record it is the last question only, and FastChat pairs whose
    first questions differ ("davinci-001" / "davinci-003") share their last one."""
    p = _alike(_prompt_side(sample), _prompt_side(other))
    q = _alike(sample.conversation.answer_text(), other.conversation.answer_text())
    return f"prompts {p:.2f} alike, answers {q:.2f} alike (characters)"


def duplicate_flags(store: Store, goal_id: int, sample: Sample) -> list[Flag]:
    a = AnalysisStore(store)
    out: list[Flag] = []
    for leak in a.leaks_of(sample.id)[:1]:
        others = len(a.leaks_of(sample.id)) - 1
        more = f" · +{others} more" if others else ""
        out.append(
            Flag(
                "leak",
                f"leak: eval #{leak.eval_position + 1} ({leak.detector} {leak.score:.2f}){more}",
                None,
                leak.score,
                (sample.id,),
                (f"eval {leak.eval_source} record {leak.eval_position + 1} (line {leak.eval_line})", leak.eval_text),
                reason="duplicate",
            )
        )
    rows = {r.detector: r for r in a.clusters_of(sample.id)}
    if not rows:
        return out
    seen: dict[tuple[int, ...], int] = {}
    for det in DETECTORS:
        r = rows.get(det)
        if r is None:
            continue
        state = a.detector_settings(det)
        fld = state[0].get("field", "full") if state else "full"
        members = tuple(a.cluster_members(det, r.cluster_id))
        where = f"{members.index(sample.id) + 1} of {r.size} near-copies" if sample.id in members else ""
        qual = "" if fld == "full" else f" ({fld})"
        score = "" if det == "exact" else f" {r.score:.2f}"
        label = f"{det}{score}{qual} · {_NOUN[det]} #{r.partner} · cluster of {r.size}"
        if det == "exact" and fld == "full":
            # The review spine already flags whole-sample copies ("exact copy of #N"); say it once.
            seen[members] = -1
            continue
        if members in seen:
            # Same cluster as a stronger detector's: one flag, the weaker finding as a detail.
            k = seen[members]
            if k >= 0:
                f = out[k]
                out[k] = Flag(f.kind, f.label, f.partner, f.score, f.members, (*f.details, label), f.reason)
            continue
        seen[members] = len(out)
        details = (where,) if where else ()
        other = store.sample(r.partner) if r.partner is not None and r.partner != sample.id else None
        if other is not None:
            details = (*details, why_alike(sample, other))
        out.append(Flag(det, label, r.partner, r.score, members, details, reason="duplicate"))
    return out


# ---------------------------------------------------------------------- queues


def duplicates_queue(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
    """Clustered samples, cluster by cluster; undecided ones only unless the queue's value is "all"."""
    return AnalysisStore(store).queue_step(goal_id, after, forward, undecided_only=queue.value != "all")


def flagged_queue(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
    """Every sample analysis flagged (any duplicate cluster or leak), in id order."""
    return AnalysisStore(store).flagged_step(after, forward)


def leaks_queue(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
    return AnalysisStore(store).leak_step(after, forward)


def queue_specs() -> dict[str, QueueSpec[Store]]:
    """The analysis queues, for review.queues.default_queues(); each step may scan, so none is instant."""
    return {
        "duplicates": QueueSpec("duplicates, cluster by cluster", duplicates_queue),
        "flagged": QueueSpec("flagged by analysis", flagged_queue),
        "leaks": QueueSpec("leaks into eval", leaks_queue),
    }


# ---------------------------------------------------------------------- figures


def analysis_stats(store: Store) -> dict:
    """Figures for `winnow stats --json`: per detector, the duplicate groups, embeddings, leakage —
    the JSON of the read model `analysis_figures` (review/analysis/figures.py)."""
    return analysis_figures(store).to_json()


def duplicate_pairs(store: Store, detector: str):
    """Every sample pair (a < b, score) a detector found, copies of one text included (score 1.0).

    An iterator: a cluster of k copies yields k(k-1)/2 pairs.
    """
    from itertools import combinations

    a = AnalysisStore(store)
    state = a.detector_settings(detector)
    if state is None:
        return
    groups = a.text_groups(state[0].get("text", state[0].get("field", "full")))
    for sids in groups.values():
        for x, y in combinations(sids, 2):
            yield (x, y, 1.0)
    if detector == "exact":
        return
    for h1, h2, score in a.links(detector):
        if h1 in groups and h2 in groups:
            for x in groups[h1]:
                for y in groups[h2]:
                    yield (min(x, y), max(x, y), score)
