"""The analysis figures `winnow stats` shows, as a frozen read model (review.figures.ProjectStats
carries it): per detector, the duplicate groups, the embedding cache, the latest leakage and
analyze runs. `analysis_stats` (review.analysis) is its JSON, the "analysis" of `stats --json`.

Read through AnalysisStore; no SQL here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..store import Store
from .store import DETECTORS, AnalysisStore


@dataclass(frozen=True)
class DetectorFigures:
    settings: dict[str, Any]  # what the run was asked for: field, threshold, model (those it recorded)
    pairs: int
    flagged_samples: int
    clusters: int
    largest_cluster: int
    duplicate_mass: int  # flagged samples beyond the first of each cluster
    complete: bool  # False: the run was interrupted, `winnow analyze` resumes it

    @property
    def threshold(self) -> float | None:
        return self.settings.get("threshold")

    def to_json(self) -> dict:
        return {
            **self.settings,
            "pairs": self.pairs,
            "flagged_samples": self.flagged_samples,
            "clusters": self.clusters,
            "largest_cluster": self.largest_cluster,
            "duplicate_mass": self.duplicate_mass,
            "complete": self.complete,
        }


@dataclass(frozen=True)
class DuplicateFigures:
    """The duplicates queue over every detector."""

    samples: int
    groups: int
    duplicate_mass: int
    duplicate_share: float  # duplicate_mass / the project's samples, 4 places

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LeakageFigures:
    against: Any  # the eval file or project, as the run recorded it
    field: Any
    status: str
    eval_samples: Any
    leaked_samples: dict[str, int]  # per detector, and "any"

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class RunFigures:
    started_at: str
    finished_at: str | None
    status: str

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class AnalysisFigures:
    detectors: dict[str, DetectorFigures]  # only the detectors that have run
    duplicates: DuplicateFigures
    embeddings: dict[str, int]  # cached embeddings per model
    leakage: LeakageFigures | None = None  # None: `winnow leakage` never ran
    last_run: RunFigures | None = None  # None: `winnow analyze` never ran

    def to_json(self) -> dict:
        out: dict = {
            "detectors": {k: d.to_json() for k, d in self.detectors.items()},
            "duplicates": self.duplicates.to_json(),
            "embeddings": self.embeddings,
        }
        if self.leakage is not None:
            out["leakage"] = self.leakage.to_json()
        if self.last_run is not None:
            out["last_run"] = self.last_run.to_json()
        return out


def analysis_figures(store: Store) -> AnalysisFigures:
    a = AnalysisStore(store)
    detectors = {}
    for det in DETECTORS:
        state = a.detector_settings(det)
        if state is None:
            continue
        settings, figures, complete = state
        detectors[det] = DetectorFigures(
            {k: settings[k] for k in ("field", "threshold", "model") if k in settings},
            figures.get("pairs", 0),
            figures.get("flagged", 0),
            figures.get("clusters", 0),
            figures.get("largest", 0),
            figures.get("mass", 0),
            complete,
        )
    total = store.total_samples()
    in_queue = a.queue_size()
    groups = a.queue_group_count() if in_queue else 0
    mass = in_queue - groups
    duplicates = DuplicateFigures(in_queue, groups, mass, round(mass / total, 4) if total else 0.0)
    leakage = None
    last = a.last_run("leakage")
    if last:
        summary = last[3]
        leakage = LeakageFigures(
            summary.get("against"), summary.get("field"), last[2], summary.get("eval_samples"), a.leak_figures()
        )
    run = a.last_run("analyze")
    last_run = RunFigures(run[0], run[1], run[2]) if run else None
    return AnalysisFigures(detectors, duplicates, a.embedding_count(), leakage, last_run)
