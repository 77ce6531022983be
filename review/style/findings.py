"""The findings of the latest style run as one read model (`StyleReport`), for `winnow report`
and scripts; `to_json()` is the dict `winnow report --json` prints."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..store import Store
from . import features as F
from .boundaries import BoundarySummary, boundary_summary
from .store import StyleStore


@dataclass(frozen=True)
class FlagRow:
    """One flagged sample (style drift or noise), strongest first in its list."""

    sample: int
    score: float  # rounded to 3 places
    label: str
    partner: int | None  # the typical answer it was compared with, for drift
    details: tuple[str, ...]
    reason: str | None  # the drop reason the flag suggests

    def to_json(self) -> dict:
        return {
            "sample": self.sample,
            "score": self.score,
            "label": self.label,
            "partner": self.partner,
            "details": list(self.details),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ConflictPair:
    """Two samples whose answers contradict each other (each pair once)."""

    samples: tuple[int, int]  # (smaller id, larger id)
    score: float
    label: str
    evidence: tuple[str, ...]
    reason: str | None

    def to_json(self) -> dict:
        return {
            "samples": list(self.samples),
            "score": self.score,
            "label": self.label,
            "evidence": list(self.evidence),
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Findings:
    """What the latest style run found. The counts are complete; each list is capped by the report's
    limit. noise_triggers, prevalence, project_varying and same_question_groups are the figures the run
    stored, as it stored them."""

    counts: dict[str, int]  # style_drift, contradictions (pairs), noisy
    noise_triggers: Any  # {trigger: samples}
    prevalence: Any  # {"answers": n, feature: count or a breakdown, ...}
    project_stability: Any  # float | None
    project_varying: Any  # [the features that vary most, with counts]
    style_drift: tuple[FlagRow, ...]
    contradictions: tuple[ConflictPair, ...]
    same_question_groups: list[dict[str, Any]]
    noise: tuple[FlagRow, ...]
    thresholds: dict[str, float]


NO_FINDINGS = Findings({}, {}, {}, None, [], (), (), [], (), {})  # before any style run


@dataclass(frozen=True)
class StyleReport:
    project: str
    samples: int
    analysed: bool
    feature_version: int
    run: Any  # the latest run's summary as recorded (None before any run)
    findings: Findings | None = None  # None: never analysed
    boundaries: BoundarySummary | None = None  # the goal's kept set; None without a goal (or a run)

    def to_json(self) -> dict:
        out: dict = {
            "project": self.project,
            "samples": self.samples,
            "analysed": self.analysed,
            "feature_version": self.feature_version,
            "run": self.run,
        }
        f = self.findings
        if f is None:
            return out
        out.update(
            {
                "counts": f.counts,
                "noise_triggers": f.noise_triggers,
                "prevalence": f.prevalence,
                "project_stability": f.project_stability,
                "project_varying": f.project_varying,
                "style_drift": [r.to_json() for r in f.style_drift],
                "contradictions": [p.to_json() for p in f.contradictions],
                "same_question_groups": f.same_question_groups,
                "noise": [r.to_json() for r in f.noise],
                "thresholds": f.thresholds,
            }
        )
        b = self.boundaries
        if b is not None:
            out["boundaries"] = {
                "goal": b.goal_id,
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


def _flag(r) -> FlagRow:
    return FlagRow(r.sample_id, round(r.score, 3), r.label, r.partner, tuple(r.details), r.reason)


def _as_list(x: object) -> list:
    return x if isinstance(x, list) else []


def report(store: Store, goal_id: int | None, *, limit: int = 50) -> StyleReport:
    """Summary, feature prevalence, drift, contradictions, same-question groups, noise, boundaries.

    `limit` caps each list (the counts are always complete). goal_id None: no boundaries section.
    """
    ss = StyleStore(store)
    run = ss.state("last_run")
    head = (str(store.path), store.total_samples(), bool(run), F.FEATURE_VERSION, run)
    if not run:
        return StyleReport(*head)
    counts = ss.flag_counts()
    drift = ss.flags_by_kind("style", limit=limit)
    conflict_rows = ss.flags_by_kind("conflict", limit=4 * limit)
    pairs: list[ConflictPair] = []
    seen = set()
    for r in conflict_rows:
        a, b = sorted((r.sample_id, r.partner or 0))
        if (a, b) in seen:
            continue
        seen.add((a, b))
        pairs.append(ConflictPair((a, b), round(r.score, 3), r.label, tuple(r.details), r.reason))
    noise = ss.flags_by_kind("noise", limit=limit)
    findings = Findings(
        counts={
            "style_drift": counts.get("style", 0),
            "contradictions": len({tuple(sorted((r.sample_id, r.partner or 0))) for r in ss.flags_by_kind("conflict")}),
            "noisy": counts.get("noise", 0),
        },
        noise_triggers=ss.state("noise_counts", {}),
        prevalence=ss.state("prevalence", {}),
        project_stability=ss.state("project_stability"),
        project_varying=ss.state("project_varying", []),
        style_drift=tuple(_flag(r) for r in drift),
        contradictions=tuple(pairs[:limit]),
        same_question_groups=_as_list(ss.state("question_groups", []))[:limit],
        noise=tuple(_flag(r) for r in noise),
        thresholds={
            "drift_flag": F.DRIFT_FLAG,
            "conflict_flag": F.CONFLICT_FLAG,
            "k_neighbours": F.K_NEIGHBOURS,
            "min_neighbours": F.MIN_NEIGHBOURS,
        },
    )
    return StyleReport(*head, findings, boundary_summary(store, goal_id) if goal_id is not None else None)
