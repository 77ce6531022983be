"""Answer style, contradictions, noise and boundaries (issue 5): the batch's three tests made visible.

* goal consistency / expression stability: every answer gets a style fingerprint (`fingerprint.py`);
  an answer whose fingerprint departs from the answers to its most similar prompts is flagged
  "style" with the features that drift and the counts behind them (`drift.py`);
* contradictions: the same or a reworded question answered with different numbers, opposite
  stance, complying vs refusing (`conflicts.py`), flagged "conflict" on both samples;
* noise in real logs: empty, truncated, placeholder, template, emotional, informal, ending on the
  user, contradicting an earlier turn (`noise.py`), flagged "noise" with what triggered it;
* clear boundaries: the mix of answer moves in a goal's kept set, its style stability, warnings
  (`boundaries.py`).

Every rule, word list and threshold is in the one table `features.py`. Importing this package is
cheap (standard library only) and registers nothing: the review screen's flag provider
`style_flags` and the queues "style_drift", "contradictions" and "noisy" (`queue_specs()`) are
gathered by review.flags and review.queues. numpy loads with `run_style_analysis`, which opens its
own Store (call it from a worker thread).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..keyset import rank_step
from ..model import Flag, Queue, QueueSpec, Sample
from ..store import Change, Store
from .store import QUEUE_KINDS, StyleStore

if TYPE_CHECKING:
    from .boundaries import BoundarySummary, boundary_summary
    from .features import FEATURE_VERSION, FEATURES
    from .findings import report
    from .run import StyleSummary, run_style_analysis

__all__ = [
    "FEATURES",
    "FEATURE_VERSION",
    "QUEUE_KINDS",
    "BoundarySummary",
    "StyleStore",
    "StyleSummary",
    "boundary_summary",
    "noise_kind_queues",
    "queue_specs",
    "report",
    "resolve_pair",
    "run_style_analysis",
    "style_flags",
]

# Loaded on first use: the review screen's flags and queues need none of these before its first
# paint (features.py compiles its ~40 patterns at import: tens of ms).
_LAZY = {
    "run_style_analysis": "run",
    "StyleSummary": "run",
    "report": "findings",
    "BoundarySummary": "boundaries",
    "boundary_summary": "boundaries",
    "FEATURES": "features",
    "FEATURE_VERSION": "features",
}

QUEUE_LABELS = {
    "style_drift": "style drift first",
    "contradictions": "contradictions, pair by pair",
    "noisy": "noisy samples",
}
BOUNDARY_TAG = "boundary-pair"


def __getattr__(name: str) -> Any:
    mod = _LAZY.get(name)
    if mod is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(f".{mod}", __name__), name)


def style_flags(store: Store, goal_id: int, sample: Sample) -> list[Flag]:
    """The style, conflict and noise flags of one sample from the latest style run."""
    return [r.flag() for r in StyleStore(store).flags_of(sample.id)]


def _queue(kind: str):
    def step(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
        # Undecided samples only, unless the queue's value is "all".
        return StyleStore(store).queue_step(kind, goal_id, after, forward, undecided_only=queue.value != "all")

    step.__name__ = f"{kind}_queue"
    return step


def _noise_kind_step(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
    """The noisy queue narrowed to one trigger: the queue's value is its word in the flag label
    (features.NOISE_WORDS: "empty answer"), found between the label's ", " separators."""
    from .features import NOISE_PREFIX

    return rank_step(
        store.conn,
        "style_queue",
        goal_id,
        after,
        forward,
        undecided_only=True,
        where="q.kind = 'noisy' AND EXISTS (SELECT 1 FROM style_flags f WHERE f.sample_id = q.sample_id"
        " AND f.kind = 'noise' AND instr(', ' || substr(f.label, ?) || ', ', ', ' || ? || ', ') > 0)",
        args=(len(NOISE_PREFIX) + 1, queue.value or ""),
    )


def noise_kind_queues(store: Store) -> list[tuple[Queue, int]]:
    """One queue per noise trigger of the latest style run ("noisy · empty answer"), most
    flagged first, with how many flags it raised (the run's own count: one read of its state)."""
    from .features import NOISE_WORDS

    counts = StyleStore(store).state("noise_counts", {})
    if not isinstance(counts, dict):
        return []
    found = [(NOISE_WORDS[name], int(n)) for name, n in counts.items() if name in NOISE_WORDS and n]
    return [(Queue("noise_kind", word), n) for word, n in sorted(found, key=lambda x: (-x[1], x[0]))]


def queue_specs() -> dict[str, QueueSpec[Store]]:
    """The style queues, for review.queues.default_queues(); stepped by rank in a worker. The
    per-trigger noisy queues are not listed by label: the picker offers those the run found."""
    specs = {kind: QueueSpec(QUEUE_LABELS[kind], _queue(kind)) for kind in QUEUE_KINDS}
    specs["noise_kind"] = QueueSpec("noisy · {value}", _noise_kind_step, offered=False)
    return specs


def resolve_pair(session: Any, flag: Flag, choice: str, sample_id: int | None = None, reason: str | None = None) -> int:
    """One key in the compare pane: `choice` is "left" (keep this sample, drop its partner),
    "right" (keep the partner, drop this one), "both" (drop both) or "boundary" (keep both and tag
    them as a boundary pair). One undo step; the drop reason defaults to the flag's. Returns the
    action id."""
    me = sample_id if sample_id is not None else session.cursor
    other = flag.partner
    if me is None or other is None:
        raise ValueError("this flag has no partner sample to resolve against")
    why = reason or flag.reason or "other"
    changes = {
        "left": [Change(me, "keep"), Change(other, "drop", why)],
        "right": [Change(other, "keep"), Change(me, "drop", why)],
        "both": [Change(me, "drop", why), Change(other, "drop", why)],
        "boundary": [
            Change(me, "keep"),
            Change(other, "keep"),
            Change(me, "tag", value=BOUNDARY_TAG),
            Change(other, "tag", value=BOUNDARY_TAG),
        ],
    }.get(choice)
    if changes is None:
        raise ValueError(f"unknown choice {choice!r}: one of left, right, both, boundary")
    return session.apply(changes, kind="batch")
