"""The findings of the latest style run as one JSON-ready dict, for `winnow report` and scripts."""

from __future__ import annotations

from ..store import Store
from . import features as F
from .boundaries import boundary_summary
from .store import StyleStore


def _flag(r, store: Store) -> dict:
    return {
        "sample": r.sample_id,
        "score": round(r.score, 3),
        "label": r.label,
        "partner": r.partner,
        "details": list(r.details),
        "reason": r.reason,
    }


def _as_list(x: object) -> list:
    return x if isinstance(x, list) else []


def report(store: Store, goal_id: int | None, *, limit: int = 50) -> dict:
    """Summary, feature prevalence, drift, contradictions, same-question groups, noise, boundaries.

    `limit` caps each list (the counts are always complete). goal_id None: no boundaries section.
    """
    ss = StyleStore(store)
    run = ss.state("last_run")
    out: dict = {
        "project": str(store.path),
        "samples": store.total_samples(),
        "analysed": bool(run),
        "feature_version": F.FEATURE_VERSION,
        "run": run,
    }
    if not run:
        return out
    counts = ss.flag_counts()
    drift = ss.flags_by_kind("style", limit=limit)
    conflict_rows = ss.flags_by_kind("conflict", limit=4 * limit)
    pairs, seen = [], set()
    for r in conflict_rows:
        key = tuple(sorted((r.sample_id, r.partner or 0)))
        if key in seen:
            continue
        seen.add(key)
        pairs.append(
            {
                "samples": list(key),
                "score": round(r.score, 3),
                "label": r.label,
                "evidence": list(r.details),
                "reason": r.reason,
            }
        )
    noise = ss.flags_by_kind("noise", limit=limit)
    out.update(
        {
            "counts": {
                "style_drift": counts.get("style", 0),
                "contradictions": len(
                    {tuple(sorted((r.sample_id, r.partner or 0))) for r in ss.flags_by_kind("conflict")}
                ),
                "noisy": counts.get("noise", 0),
            },
            "noise_triggers": ss.state("noise_counts", {}),
            "prevalence": ss.state("prevalence", {}),
            "project_stability": ss.state("project_stability"),
            "project_varying": ss.state("project_varying", []),
            "style_drift": [_flag(r, store) for r in drift],
            "contradictions": pairs[:limit],
            "same_question_groups": _as_list(ss.state("question_groups", []))[:limit],
            "noise": [_flag(r, store) for r in noise],
            "thresholds": {
                "drift_flag": F.DRIFT_FLAG,
                "conflict_flag": F.CONFLICT_FLAG,
                "k_neighbours": F.K_NEIGHBOURS,
                "min_neighbours": F.MIN_NEIGHBOURS,
            },
        }
    )
    if goal_id is not None:
        b = boundary_summary(store, goal_id)
        out["boundaries"] = {
            "goal": goal_id,
            "kept": b.kept,
            "with_answer": b.with_answer,
            "moves": b.moves,
            "stability": b.stability,
            "project_stability": b.project_stability,
            "varying": list(b.varying),
            "warnings": list(b.warnings),
            "dominant_question": b.dominant_question,
            "history": [list(x) for x in b.history],
        }
    return out
