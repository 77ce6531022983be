"""The steps every detector of run_analysis shares: its run state, its summary, resuming and finishing.

A detector calls _prepare for the texts it has not compared yet under its settings, compares them,
then _finish to rebuild its clusters and record its figures (see run.py for the detectors).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import field as dc_field

from ..store import Store
from . import clusters
from .store import AnalysisStore
from .texts import text_kind

EMBED_BATCH = 64

Progress = Callable[[str, int, int], None]


class Cancelled(Exception):
    pass


@dataclass(frozen=True)
class DetectorSummary:
    detector: str
    field: str
    threshold: float | None
    pairs: int  # sample pairs at or above the threshold
    flagged: int  # samples in a cluster of two or more
    clusters: int
    largest: int
    mass: int  # duplicate mass: samples beyond the first of each cluster
    seconds: float
    compared: int  # texts compared this run (0 when nothing changed)
    embedded: int = 0  # texts sent to the model this run
    cached: int = 0  # new texts whose embedding was already in the project
    complete: bool = True
    model: str | None = None
    index: str | None = None  # semantic: exact | ann
    model_seconds: float = 0.0  # semantic: time inside the embedder (the rest is winnow's own)
    # semantic with fast=True (margin is None otherwise):
    margin: float | None = None  # candidates at threshold - margin on the int8 vectors
    fast_embedded: int = 0  # texts sent to the int8 model (embedded counts the fp32 model's)
    candidates: int = 0  # candidate pairs
    confirmed_texts: int = 0  # texts in a candidate pair, whose fp32 vectors decide


@dataclass
class _Run:
    store: Store
    astore: AnalysisStore
    field: str
    progress: Progress | None
    should_stop: Callable[[], bool] | None
    cancelled: bool = False
    results: list[DetectorSummary] = dc_field(default_factory=list)
    kind: str = ""  # the stored text the current detector compares (texts.text_kind)
    groups: dict[str, list[int]] = dc_field(default_factory=dict)  # its text hash -> sample ids
    texts: dict[str, str] = dc_field(default_factory=dict)  # texts read this run, by hash
    all_texts: dict[str, dict[str, str]] = dc_field(default_factory=dict)

    def use(self, detector: str) -> None:
        self.kind = text_kind(detector, self.field)
        self.groups = self.astore.text_groups(self.kind)
        self.texts = self.all_texts.get(self.kind, {})

    def report(self, stage: str, done: int, total: int) -> None:
        if self.progress:
            self.progress(stage, done, total)

    def stop(self) -> bool:
        if self.should_stop and self.should_stop():
            self.cancelled = True
        return self.cancelled


@contextmanager
def _one_blas_thread() -> Iterator[None]:
    try:
        from threadpoolctl import threadpool_limits  # comes with the semantic extra (scikit-learn)
    except ImportError:
        yield
        return
    with threadpool_limits(1, user_api="blas"):
        yield


def _prepare(run: _Run, detector: str, settings: dict) -> tuple[list[str], set[str], dict | None]:
    """Texts this detector has not compared yet, those it has, and its figures if nothing changed."""
    a = run.astore
    state = a.detector_settings(detector)
    if state is None or state[0] != settings:
        a.reset_detector(detector, settings)
        state = (settings, {}, False)
    indexed = a.indexed(detector)
    removed = [h for h in indexed if h not in run.groups]
    if removed:
        a.forget(detector, removed)
        indexed.difference_update(removed)
    new = [h for h in run.groups if h not in indexed]
    if not new and not removed and state[2] and state[1]:
        return [], indexed, state[1]
    a.set_complete(detector, False)
    return new, indexed, None


def _finish(run: _Run, detector: str, started: float, compared: int, settings: dict, **extra) -> DetectorSummary:
    figures = clusters.rebuild(run.astore, detector, run.groups)
    run.astore.set_complete(detector, not run.cancelled, figures)
    return _summary(
        detector, settings, figures, time.perf_counter() - started, compared, complete=not run.cancelled, **extra
    )


def _summary(detector: str, settings: dict, figures: dict, seconds: float, compared: int, **extra) -> DetectorSummary:
    return DetectorSummary(
        detector=detector,
        field=settings["field"],
        threshold=settings.get("threshold"),
        pairs=figures.get("pairs", 0),
        flagged=figures.get("flagged", 0),
        clusters=figures.get("clusters", 0),
        largest=figures.get("largest", 0),
        mass=figures.get("mass", 0),
        seconds=seconds,
        compared=compared,
        model=settings.get("model"),
        **extra,
    )
