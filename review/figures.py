"""Read models: the figures the CLI and the screens show, as frozen dataclasses.

Each read model is computed here, from Store methods (this module runs no SQL of its own), and
rendered elsewhere: `winnow stats` (`ProjectStats`), the stats screen (`StatsFigures`), the goals
screen (`GoalDetail`), `winnow goal diff` and its screen (`GoalDiff`, `GoalFigures`), the "should
I add more?" panel (`AddMoreSignals`) and `winnow report` (`ReportData`).

`to_json` turns a read model into the JSON-ready dict that `--json` prints and the export manifest
records: the keys, their order and the values are the ones these commands have always written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

from .batch import batch_progress, latest_batch
from .goals import Revision, rereview_count, revisions
from .model import Counts, Goal
from .store import Store

if TYPE_CHECKING:
    from .analysis.figures import AnalysisFigures
    from .style.boundaries import BoundarySummary
    from .style.findings import ConflictPair, FlagRow, StyleReport

SESSION_GAP_S = 15 * 60  # a pause longer than this ends a stretch of work (pace)
SIGNALS_LAST_N = 50  # "how the last N decisions changed the figures"

OMIT_NONE = {"omit_none": True}  # field metadata: to_json leaves the key out when the value is None


def to_json(obj: Any) -> Any:
    """A read model as plain JSON data: a dataclass becomes a dict of its fields in order (as
    `dataclasses.asdict` would, tuples as lists), leaving out a field marked `OMIT_NONE` while it
    is None; a dataclass with its own `to_json` method uses that."""
    if is_dataclass(obj) and not isinstance(obj, type):
        own = getattr(obj, "to_json", None)
        if own is not None:
            return own()
        out = {}
        for f in fields(obj):
            value = getattr(obj, f.name)
            if value is None and f.metadata.get("omit_none"):
                continue
            out[f.name] = to_json(value)
        return out
    if isinstance(obj, (list, tuple)):
        return [to_json(x) for x in obj]
    if isinstance(obj, dict):
        return {k: to_json(v) for k, v in obj.items()}
    return obj


# ---------------------------------------------------------------------- project stats (winnow stats)


@dataclass(frozen=True)
class SourceStats:
    id: int
    name: str
    path: str
    format: str
    container: str
    records: int
    sha256: str
    imported_at: str


@dataclass(frozen=True)
class GoalStats:
    id: int
    sentence: str
    archived: bool
    active: bool
    kept: int
    dropped: int
    undecided: int
    dropped_by_reason: dict[str, int]
    by_tag: dict[str, int]


@dataclass(frozen=True)
class ArchivedGoalStats:
    id: int
    sentence: str
    kept: int
    dropped: int
    undecided: int


@dataclass(frozen=True)
class ProjectStats:
    """`winnow stats`: the project, its sources, each goal's decisions and the analysis figures."""

    project: str
    samples: int
    sources: tuple[SourceStats, ...]
    goals: tuple[GoalStats, ...]
    # Every archived goal, listed apart so that `.goals` counts only the goals in use; None (and
    # absent from the JSON) when the stats are for one named goal.
    archived_goals: tuple[ArchivedGoalStats, ...] | None = field(default=None, metadata=OMIT_NONE)
    analysis: AnalysisFigures | None = field(default=None, metadata=OMIT_NONE)  # None: no analysis package


def project_stats(store: Store, goal: Goal | None = None) -> ProjectStats:
    """The figures of every goal in use (and the archived ones apart), or of `goal` alone."""
    sources = tuple(
        SourceStats(s.id, s.name, s.path, s.format, s.container, s.records, s.sha256, s.imported_at)
        for s in store.sources()
    )
    active = store.active_goal()
    archived = None
    if goal is None:
        archived = tuple(
            ArchivedGoalStats(g.id, g.sentence, c.kept, c.dropped, c.undecided)
            for g in store.goals(include_archived=True)
            if g.archived
            for c in [store.counts(g.id)]
        )
    goals = []
    for g in [goal] if goal is not None else store.goals():
        c = store.counts(g.id)
        goals.append(
            GoalStats(
                g.id,
                g.sentence,
                g.archived,
                bool(active and active.id == g.id),
                c.kept,
                c.dropped,
                c.undecided,
                c.by_reason,
                c.by_tag,
            )
        )
    analysis = None
    try:
        from .analysis.figures import analysis_figures
    except ImportError:  # pragma: no cover - the analysis package is part of winnow
        pass
    else:
        analysis = analysis_figures(store)
    return ProjectStats(str(store.path), store.total_samples(), sources, tuple(goals), archived, analysis)


# ---------------------------------------------------------------------- kept-set figures


@dataclass(frozen=True)
class Repeats:
    """How much of a kept set repeats itself."""

    repeating: int  # kept samples sharing a content hash or a near-duplicate cluster with an earlier kept one
    share: float  # repeating / kept, rounded to 4 places; 0.0 for an empty kept set


def _kept_ids(store: Store, goal_id: int) -> list[int]:
    return [s for s, d in store.materialised_decisions(goal_id).items() if d.verdict == "keep"]


def _repeat_groups(store: Store, ids: list[int]) -> list[tuple[int, str]]:
    """(sample id, group key) for each exact-content group and near-duplicate cluster of `ids`."""
    from .analysis.store import AnalysisStore

    out: list[tuple[int, str]] = [(sid, f"h:{h}") for sid, h in store.content_hashes(ids)]
    try:
        rows = AnalysisStore(store).cluster_keys(ids)
    except Exception:  # noqa: BLE001 - no analysis tables yet
        rows = []
    out += rows
    return out


def kept_duplicate_mass(store: Store, kept: list[int]) -> Repeats:
    """How much of the kept set repeats itself: kept samples that share an exact content hash or
    a near-duplicate cluster with another kept sample."""
    if not kept:
        return Repeats(0, 0.0)
    keep = set(kept)
    groups: dict[str, list[int]] = {}
    for chunk_start in range(0, len(kept), 500):
        for sid, key in _repeat_groups(store, kept[chunk_start : chunk_start + 500]):
            groups.setdefault(key, []).append(sid)
    repeating = set()
    for members in groups.values():
        inside = [m for m in members if m in keep]
        if len(inside) > 1:
            repeating.update(sorted(inside)[1:])  # the first of each group is the signal, the rest repeat it
    return Repeats(len(repeating), round(len(repeating) / len(keep), 4))


@dataclass(frozen=True)
class GoalFigures:
    """Size, duplicate mass, style stability and boundary mix of a goal's kept set — whatever the
    analyses present can say (a missing analysis leaves its figure out rather than guessing)."""

    kept: int
    dropped: int
    undecided: int
    dropped_by_reason: dict[str, int]
    duplicate_mass: Repeats
    style: BoundarySummary | None = None  # None: the style analysis is not available

    @property
    def style_stability(self) -> float | None:
        return self.style.stability if self.style is not None else None

    @property
    def boundary_moves(self) -> dict[str, int]:
        return dict(self.style.moves) if self.style is not None else {}

    def to_json(self) -> dict:
        out: dict = {
            "kept": self.kept,
            "dropped": self.dropped,
            "undecided": self.undecided,
            "dropped_by_reason": self.dropped_by_reason,
            "duplicate_mass": to_json(self.duplicate_mass),
        }
        b = self.style
        if b is not None:
            from .style.boundaries import summary_dict

            out["style_stability"] = b.stability
            out["style_varying"] = list(b.varying)
            out["boundary_moves"] = b.moves
            out["boundary_warnings"] = list(b.warnings)
            out["style"] = summary_dict(b)
        return out


def goal_figures(store: Store, goal_id: int) -> GoalFigures:
    c = store.counts(goal_id)
    mass = kept_duplicate_mass(store, _kept_ids(store, goal_id))
    try:
        from . import style
    except ImportError:  # pragma: no cover - style analysis not installed
        return GoalFigures(c.kept, c.dropped, c.undecided, c.by_reason, mass)
    return GoalFigures(
        c.kept, c.dropped, c.undecided, c.by_reason, mass, style.boundary_summary(store, goal_id, record=False)
    )


# ---------------------------------------------------------------------- goal diff


@dataclass(frozen=True)
class GoalDiff:
    a: Goal
    b: Goal
    only_a: tuple[int, ...]  # kept under A, not kept under B
    only_b: tuple[int, ...]
    disagree: tuple[tuple[int, str, str], ...]  # (sample, A's verdict, B's verdict) where both decided differently
    both_kept: int
    figures: dict[int, GoalFigures] = field(default_factory=dict)  # per goal id


def diff_goals(store: Store, a_id: int, b_id: int) -> GoalDiff:
    a, b = store.goal(a_id), store.goal(b_id)
    da, db = store.materialised_decisions(a_id), store.materialised_decisions(b_id)
    kept_a = {s for s, d in da.items() if d.verdict == "keep"}
    kept_b = {s for s, d in db.items() if d.verdict == "keep"}
    disagree = tuple(
        (s, da[s].verdict or "", db[s].verdict or "")
        for s in sorted(set(da) & set(db))
        if da[s].verdict and db[s].verdict and da[s].verdict != db[s].verdict
    )
    figures = {g.id: goal_figures(store, g.id) for g in (a, b)}
    return GoalDiff(
        a, b, tuple(sorted(kept_a - kept_b)), tuple(sorted(kept_b - kept_a)), disagree, len(kept_a & kept_b), figures
    )


# ---------------------------------------------------------------------- should I add more?


@dataclass(frozen=True)
class KeptStyle:
    """What the style analysis says about a kept set, now and before the last N decisions."""

    stability: float | None
    varying: tuple[str, ...]
    moves: dict[str, int]
    warnings: tuple[str, ...]
    stability_before: float | None


@dataclass(frozen=True)
class AddMoreSignals:
    """The "should I add more?" panel: how much the kept set repeats itself, how consistent its
    style is, whether it shows where the behaviour stops — and how the last `last_n` decisions
    moved those figures. Advice is phrased from the figures, never invented."""

    goal: str  # the goal's sentence
    kept: int
    kept_before_last_n: int
    last_n: int
    repeats: Repeats
    repeats_before: Repeats
    style: KeptStyle | None  # None: the style analysis is not available
    advice: tuple[str, ...]

    def to_json(self) -> dict:
        out: dict = {
            "goal": self.goal,
            "kept": self.kept,
            "kept_before_last_n": self.kept_before_last_n,
            "last_n": self.last_n,
            "repeats": to_json(self.repeats),
            "repeats_before": to_json(self.repeats_before),
        }
        s = self.style
        if s is not None:
            out["style_stability"] = s.stability
            out["varying"] = list(s.varying)
            out["moves"] = s.moves
            out["boundary_warnings"] = list(s.warnings)
            out["style_stability_before"] = s.stability_before
        out["advice"] = list(self.advice)
        return out


def add_more_signals(store: Store, goal_id: int, last_n: int = SIGNALS_LAST_N) -> AddMoreSignals:
    now_kept = _kept_ids(store, goal_id)
    before_pos = store.action_before_last(goal_id, last_n)
    then_kept = [s for s, d in store.rebuild_decisions(goal_id, upto=before_pos).items() if d.verdict == "keep"]
    dup_now, dup_then = kept_duplicate_mass(store, now_kept), kept_duplicate_mass(store, then_kept)
    advice: list[str] = []
    kept_style = None
    try:
        from .style import boundary_summary
    except ImportError:  # pragma: no cover
        boundary_summary = None  # type: ignore[assignment]
    if boundary_summary is not None:
        b = boundary_summary(store, goal_id, record=False)
        earlier = [st for n, st in b.history if n <= max(len(then_kept), 0)]
        before = earlier[-1] if earlier else None
        kept_style = KeptStyle(b.stability, tuple(b.varying), b.moves, tuple(b.warnings), before)
        advice += list(b.warnings)
        if b.stability is not None and b.stability < 0.6:
            advice.append(
                f"style stability is {b.stability:.2f}: make the kept answers agree in style before adding more"
            )
        if before is not None and b.stability is not None and b.stability < before - 0.05:
            advice.append(
                f"the last {last_n} decisions made the style less consistent ({before:.2f} → {b.stability:.2f})"
            )
    if dup_now.share >= 0.05:
        advice.append(
            f"{dup_now.repeating} kept samples ({dup_now.share:.0%}) repeat another kept sample: "
            "deduplicate before adding more"
        )
    if len(now_kept) < 20:
        advice.append(f"only {len(now_kept)} kept: review a small batch first (winnow batch) before judging")
    if not advice:
        advice.append(
            "the kept set is consistent, shows its boundaries and does not repeat itself: adding data "
            "is justified only if you can say what the new samples strengthen"
        )
    return AddMoreSignals(
        store.goal(goal_id).sentence,
        len(now_kept),
        len(then_kept),
        last_n,
        dup_now,
        dup_then,
        kept_style,
        tuple(advice),
    )


# ---------------------------------------------------------------------- the stats screen


def pace(times: list[str]) -> tuple[float | None, float]:
    """(decisions per hour of active work, active minutes). Pauses over SESSION_GAP_S don't count."""
    stamps = sorted(datetime.fromisoformat(t).timestamp() for t in times)
    if len(stamps) < 2:
        return None, 0.0
    active = sum(b - a for a, b in zip(stamps, stamps[1:]) if b - a <= SESSION_GAP_S)
    if active < 30:
        return None, active / 60
    return len(stamps) / (active / 3600), active / 60


@dataclass(frozen=True)
class StatsFigures:
    """Where the review under one goal stands: counts, pace, answer lengths by verdict, signals."""

    counts: Counts
    decided_per_hour: float | None  # None until there are a few minutes of work
    active_minutes: float
    lengths: dict[str, list[int]]  # "keep" / "drop" -> answer lengths in characters
    signals: AddMoreSignals | None = None


def stats_figures(store: Store, goal_id: int, last_n: int = SIGNALS_LAST_N) -> StatsFigures:
    per_hour, minutes = pace(store.decided_times(goal_id))
    return StatsFigures(
        store.counts(goal_id),
        per_hour,
        minutes,
        store.lengths_by_verdict(goal_id),
        add_more_signals(store, goal_id, last_n=last_n),
    )


# ---------------------------------------------------------------------- the goals screen


@dataclass(frozen=True)
class GoalDetail:
    goal: Goal
    counts: Counts
    revisions: tuple[Revision, ...]
    rereview: int  # samples decided under an older wording
    batch: tuple[int, int, int] | None  # (batch id, decided, size) of the latest batch


def goal_detail(store: Store, goal_id: int) -> GoalDetail:
    bid = latest_batch(store, goal_id)
    batch = (bid, *batch_progress(store, goal_id, bid)) if bid is not None else None
    return GoalDetail(
        store.goal(goal_id),
        store.counts(goal_id),
        tuple(revisions(store, goal_id)),
        rereview_count(store, goal_id),
        batch,
    )


# ---------------------------------------------------------------------- winnow report


def style_needs_run(store: Store, group_field: str | None) -> bool:
    """Whether the style analysis must run before a report: never run, or the project, the
    feature version or the group field changed since the last run."""
    from .style import FEATURE_VERSION, StyleStore

    ss = StyleStore(store)
    if not ss.state("last_run"):
        return True
    return (
        ss.state("feature_version") != FEATURE_VERSION
        or ss.state("samples_at_run") != store.total_samples()
        or ss.state("group_field") != group_field
    )


@dataclass(frozen=True)
class ReportData:
    """`winnow report`: the style findings (review.style.StyleReport) and, for a goal, the "should I
    add more?" signals."""

    findings: StyleReport
    should_i_add_more: AddMoreSignals | None = None

    def to_json(self) -> dict:
        out = self.findings.to_json()
        if self.should_i_add_more is not None:
            out["should_i_add_more"] = self.should_i_add_more.to_json()
        return out


def report_data(store: Store, goal_id: int | None, *, limit: int | None, lists: bool = True) -> ReportData:
    """The findings of the latest style run (each list capped at `limit`; None: every item) and the
    goal's signals. `lists=False`: the flag lists left empty, for `write_report_json` to stream."""
    from .style.findings import report

    findings = report(store, goal_id, limit=limit, lists=lists)
    signals = add_more_signals(store, goal_id, last_n=SIGNALS_LAST_N) if goal_id is not None else None
    return ReportData(findings, signals)


def write_report_json(store: Store, goal_id: int | None, out: TextIO, **kwargs: Any) -> None:
    """`winnow report --json`: every item of every list, the same text `dumps(report_data(store,
    goal_id, limit=None))` gives, written as it is read. The flag lists stream from the database
    cursor, so a project with a million flags holds one at a time, not a million-item list; their
    counts and the lists are read in one snapshot, so they agree while another process writes."""
    from .style.findings import LISTS, counts, iter_list

    head = to_json(report_data(store, goal_id, limit=None, lists=False))

    def enc(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False, indent=2, **kwargs)

    def value(v: Any, depth: int) -> str:
        return enc(v).replace("\n", "\n" + "  " * depth)

    with store.read_snapshot():
        if "counts" in head:
            head["counts"] = counts(store)
        out.write("{")
        for i, (key, v) in enumerate(head.items()):
            out.write(("," if i else "") + "\n  " + enc(key) + ": ")
            if key not in LISTS or "counts" not in head:
                out.write(value(v, 1))
                continue
            n = 0
            items: Iterator[FlagRow | ConflictPair] = iter_list(store, key)
            for n, item in enumerate(items, 1):
                out.write(("," if n > 1 else "[") + "\n    " + value(item.to_json(), 2))
            out.write("\n  ]" if n else "[]")
        out.write("\n}" if head else "}")


def dumps(obj: Any, **kwargs: Any) -> str:
    """A read model as the indented JSON `--json` prints (non-ASCII text kept as it is)."""
    return json.dumps(to_json(obj), ensure_ascii=False, indent=2, **kwargs)
