"""The findings of the latest style run as one read model (`StyleReport`), for `winnow report`
and scripts; `to_json()` is the dict `winnow report --json` prints."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
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


def counts(store: Store) -> dict[str, int]:
    """Flagged samples per list (style_drift, noisy) and contradictory pairs, by count queries."""
    ss = StyleStore(store)
    by_kind = ss.flag_counts()
    return {
        "style_drift": by_kind.get("style", 0),
        "contradictions": ss.conflict_pair_count(),
        "noisy": by_kind.get("noise", 0),
    }


def _pair(r) -> ConflictPair:
    a, b = sorted((r.sample_id, r.partner or 0))
    return ConflictPair((a, b), round(r.score, 3), r.label, tuple(r.details), r.reason)


def iter_list(store: Store, key: str) -> Iterator[FlagRow] | Iterator[ConflictPair]:
    """Every item of one of the report's flag lists ("style_drift", "contradictions", "noise"), in
    the report's order, read from the cursor one at a time (`winnow report --json` streams them)."""
    ss = StyleStore(store)
    if key == "contradictions":
        return (_pair(r) for r in ss.iter_conflict_pairs())
    kind = {"style_drift": "style", "noise": "noise"}[key]
    return (_flag(r) for r in ss.iter_flags_by_kind(kind))


LISTS = ("style_drift", "contradictions", "noise")  # the lists iter_list reads


def report(store: Store, goal_id: int | None, *, limit: int | None = 50, lists: bool = True) -> StyleReport:
    """Summary, feature prevalence, drift, contradictions, same-question groups, noise, boundaries.

    `limit` caps each list (None: every item; the counts are always complete). `lists=False` leaves
    the three flag lists empty for a caller that streams them with `iter_list`. goal_id None: no
    boundaries section. same_question_groups holds what the run stored (its first
    QUESTION_GROUPS_KEPT groups; the run summary's `question_groups` counts them all).
    """
    ss = StyleStore(store)
    run = ss.state("last_run")
    head = (str(store.path), store.total_samples(), bool(run), F.FEATURE_VERSION, run)
    if not run:
        return StyleReport(*head)

    def first(key: str) -> tuple:
        return tuple(islice(iter_list(store, key), limit)) if lists and limit != 0 else ()

    groups = _as_list(ss.state("question_groups", []))
    findings = Findings(
        counts=counts(store),
        noise_triggers=ss.state("noise_counts", {}),
        prevalence=ss.state("prevalence", {}),
        project_stability=ss.state("project_stability"),
        project_varying=ss.state("project_varying", []),
        style_drift=first("style_drift"),
        contradictions=first("contradictions"),
        same_question_groups=groups if limit is None else groups[:limit],
        noise=first("noise"),
        thresholds={
            "drift_flag": F.DRIFT_FLAG,
            "conflict_flag": F.CONFLICT_FLAG,
            "k_neighbours": F.K_NEIGHBOURS,
            "min_neighbours": F.MIN_NEIGHBOURS,
        },
    )
    return StyleReport(*head, findings, boundary_summary(store, goal_id) if goal_id is not None else None)
