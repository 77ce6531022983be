"""Propose a small first batch to review: as much information per reviewed sample as possible.

How a batch is chosen (README "Small first batch"):
1. Candidates are the samples not yet decided under the goal.
2. One representative per duplicate group: samples sharing an exact content hash, or a
   near-duplicate cluster from `winnow analyze` (any detector), count once — the smallest id
   stands for the group.
3. Candidates are split into strata: source file × answer move (answers / asks to clarify /
   refuses / redirects) × script (English / Chinese / mixed) — both from the answer's style
   fingerprint (stored by the style analysis, computed here when missing) — × answer length
   (short / medium / long, terciles of the candidates).
4. Strata are visited round-robin, in order of size (largest first), taking a seeded random
   sample from each in turn, so small strata (the refusals, the Chinese answers) are represented
   and large ones do not crowd them out. The same seed gives the same batch.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass

from .analysis.store import AnalysisStore
from .model import Queue, QueueSpec
from .store import Store
from .style.store import StyleStore


@dataclass(frozen=True)
class Batch:
    id: int
    goal_id: int
    size: int
    seed: int
    sample_ids: tuple[int, ...]
    strata: dict  # stratum label -> samples taken


def propose_batch(store: Store, goal_id: int, size: int = 200, seed: int = 0) -> Batch:
    if size < 1:
        raise ValueError("a batch needs at least one sample")
    store.goal(goal_id)  # raises for an unknown goal
    rows = store.batch_candidates(goal_id)
    # 2. one representative per duplicate group (union of exact hash and analysis clusters)
    group_of: dict[int, str] = {sid: f"h:{h}" for sid, _, h, _ in rows}
    for sid, det, cid in AnalysisStore(store).all_cluster_memberships():
        if sid in group_of:
            group_of[sid] = f"c:{det}:{cid}" if not group_of[sid].startswith("c:") else group_of[sid]
    seen_groups: set[str] = set()
    cands = []
    for sid, src, _h, chars in rows:
        g = group_of[sid]
        if g in seen_groups:
            continue
        seen_groups.add(g)
        cands.append((sid, src, chars))
    # 3. strata
    moves = StyleStore(store).answer_moves()
    missing = [sid for sid, _, _ in cands if sid not in moves]
    if missing:
        # No style run yet (or new samples): fingerprint the candidates' answers here — pure
        # Python, a few seconds per 50k answers; the TUI calls this from a worker.
        from .style.fingerprint import fingerprint

        for start in range(0, len(missing), 1000):
            for sample in store.samples(missing[start : start + 1000]):
                fp = fingerprint(sample.conversation.answer_text())
                moves[sample.id] = (fp.move, fp.script)
    lengths = sorted(c for _, _, c in cands) or [0]
    t1, t2 = lengths[len(lengths) // 3], lengths[2 * len(lengths) // 3]
    names = {s.id: s.name for s in store.sources()}
    strata: dict[str, list[int]] = defaultdict(list)
    for sid, src, chars in cands:
        move, script = moves.get(sid, ("?", "?"))
        length = "short" if chars <= t1 else "medium" if chars <= t2 else "long"
        label = " · ".join(
            x
            for x in (names.get(src, str(src)), move if move != "?" else "", script if script != "?" else "", length)
            if x
        )
        strata[label].append(sid)
    # 4. seeded round-robin, largest stratum first
    rnd = random.Random(seed)
    order = sorted(strata, key=lambda k: (-len(strata[k]), k))
    for k in order:
        rnd.shuffle(strata[k])
    picked: list[tuple[int, str]] = []
    taken: dict[str, int] = defaultdict(int)
    depth = 0
    while len(picked) < size and any(depth < len(strata[k]) for k in order):
        for k in order:
            if depth < len(strata[k]) and len(picked) < size:
                picked.append((strata[k][depth], k))
                taken[k] += 1
        depth += 1
    method = {
        "strata": len(strata),
        "duplicate_groups_skipped": len(rows) - len(cands),
        "style_moves": bool(moves),
        "candidates": len(cands),
    }
    bid = store.add_batch(goal_id, seed, method, picked)
    return Batch(bid, goal_id, len(picked), seed, tuple(s for s, _ in picked), dict(taken))


def latest_batch(store: Store, goal_id: int) -> int | None:
    return store.latest_batch(goal_id)


def batch_step(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
    """Queue "batch": the batch's samples in the order proposed (value = batch id, default the
    goal's latest batch); steps from the position of `after` in the batch."""
    bid = queue.value or latest_batch(store, goal_id)
    if bid is None:
        return None
    return store.batch_step(bid, after, forward=forward)


def batch_progress(store: Store, goal_id: int, batch_id: int) -> tuple[int, int]:
    """(decided, size) of a batch under its goal."""
    return store.batch_progress(goal_id, batch_id)


def queue_specs() -> dict[str, QueueSpec[Store]]:
    """The batch queue, for review.queues.default_queues()."""
    return {"batch": QueueSpec("proposed batch", batch_step)}
