"""Near-duplicate and leakage analysis (issue 4): exact, lexical and semantic detectors.

Importing this package is cheap (standard library only) and registers nothing: the review
screen's flag provider `duplicate_flags` and the "duplicates", "flagged" and "leaks" queues
(`queue_specs()`) are gathered by review.flags and review.queues. The detectors themselves (numpy,
rapidfuzz, and torch inside the semantic embedder) load on first use of `run_analysis` or
`leakage`, which a TUI worker or `winnow analyze` calls.

Detectors, what they compare and their defaults (see texts.py, lexical.py, semantic.py):

exact     normalised-text hash (NFKC, whitespace folded, case folded, punctuation kept)
lexical   MinHash/LSH on character 5-grams (3-grams for CJK text), verified with rapidfuzz;
          similarity >= 0.90 (rapidfuzz ratio 90, sentence order ignored)
semantic  sentence-transformers cosine >= 0.95, bundled all-MiniLM-L6-v2 by default;
          fast=True (`winnow analyze --fast`, the `fast` extra): an int8 ONNX copy of the model
          picks candidate pairs at threshold - margin (at least 0.03 at 0.95, wider where the int8
          error measured on this CPU needs it), the fp32 model embeds only their texts and
          decides; every pair and score is fp32, a pair the int8 model scores below
          threshold - margin is missed (fast.py fast_margin_for, embed_onnx.py calibration)

Each compares the whole sample by default (field "full": turns and tool schemas; the system
prompt too for exact, not for lexical/semantic, see texts.py), or the prompt or the answer only.

Flags read "semantic 0.97 · near-dup of #4521 · cluster of 6" (see flags.py); queues:
Queue("duplicates") (undecided members, cluster by cluster; value "all" for every member),
Queue("flagged") and Queue("leaks"). `winnow stats --json` gets `analysis_stats(store)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .. import store as _store
from .flags import analysis_stats, duplicate_flags, duplicate_pairs, queue_specs
from .store import DETECTORS, AnalysisStore, Leak

if TYPE_CHECKING:
    from .eval_leaks import LeakageReport, leakage
    from .run import DEFAULT_THRESHOLDS, AnalysisSummary, DetectorSummary, run_analysis

__all__ = [
    "DETECTORS",
    "DEFAULT_THRESHOLDS",
    "AnalysisStore",
    "AnalysisSummary",
    "DetectorSummary",
    "Leak",
    "LeakageReport",
    "analysis_stats",
    "duplicate_flags",
    "duplicate_pairs",
    "leakage",
    "leaks_for",
    "queue_specs",
    "run_analysis",
]

_LAZY = {
    "run_analysis": "run",
    "AnalysisSummary": "run",
    "DetectorSummary": "run",
    "DEFAULT_THRESHOLDS": "run",
    "leakage": "eval_leaks",
    "LeakageReport": "eval_leaks",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def leaks_for(store: _store.Store, sample_id: int) -> list[Leak]:
    """The eval samples a training sample leaks into, strongest first (for the compare pane)."""
    return AnalysisStore(store).leaks_of(sample_id)
