"""ReviewSession: the façade the TUI drives — queue, cursor, decide, undo, counts.

Every method that changes something has committed it before it returns, so a screen that
shows the result after the call never shows a decision that is not on disk; and a method that
raises has changed nothing (a change and the cursor move after it are one transaction).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from .flags import FlagProvider, default_flag_providers
from .model import REASONS, UNDECIDED, Counts, Decision, Flag, Goal, Queue, Sample
from .queues import QueueTable, default_queues
from .store import Change, Flip, Store
from .store.imports import MAX_ID


@dataclass(frozen=True)
class View:
    """What the review screen shows for the current position."""

    sample: Sample
    decision: Decision
    number: int  # the sample's number in the project (its stable id)
    total: int  # samples in the project
    queue: Queue
    queue_label: str
    queue_size: int | None  # None when unknown without a scan (search, analysis queues)


class ReviewSession:
    """`queues` (what each queue kind means) and `flag_providers` (what is said about a sample)
    default to everything winnow has: review.queues.default_queues(), review.flags.default_flag_providers()."""

    def __init__(
        self,
        store: Store,
        goal: Goal,
        *,
        queues: QueueTable | None = None,
        flag_providers: Sequence[FlagProvider] | None = None,
    ):
        self.store = store
        self.goal = goal
        self.queues = default_queues() if queues is None else queues
        self.flag_providers = tuple(default_flag_providers() if flag_providers is None else flag_providers)
        cursor, self.queue = store.goal_state(goal.id)
        self.cursor: int | None = cursor if cursor is not None and store.has_sample(cursor) else None
        self.resumed = self.cursor is not None
        if self.cursor is None:
            self.cursor = self._step_queue(self.queue, 0) or self._step_queue(Queue("all"), 0)

    def _step_queue(self, queue: Queue, after: int, *, forward: bool = True) -> int | None:
        return self.queues.step(self.store, self.goal.id, queue, after, forward=forward)

    # ---------------------------------------------------------------- position

    def view(self) -> View | None:
        if self.cursor is None:
            return None
        sample = self.store.sample(self.cursor)
        if sample is None:
            return None
        return View(
            sample=sample,
            decision=self.store.decision(self.goal.id, sample.id),
            number=sample.id,
            total=self.store.total_samples(),
            queue=self.queue,
            queue_label=self.queues.label(self.queue),
            queue_size=self.queues.size(self.store, self.goal.id, self.queue),
        )

    def _move(self, target: int | None, queue: Queue | None = None) -> bool:
        # Saved first: when the save fails the session still stands where the file says it does.
        if target is None:
            return False
        queue = self.queue if queue is None else queue
        self.store.save_goal_state(self.goal.id, target, queue)
        self.cursor, self.queue = target, queue
        return True

    @contextmanager
    def _step(self) -> Iterator[None]:
        """A change and the move after it as one transaction: both happen or (on error) neither,
        and the session's cursor is back where it was."""
        cursor, queue = self.cursor, self.queue
        try:
            with self.store.tx():
                yield
        except BaseException:
            self.cursor, self.queue = cursor, queue
            raise

    def next(self) -> bool:
        """Step forward in the queue; False (and no move) at its end."""
        return self._move(self._step_queue(self.queue, self.cursor or 0))

    def previous(self) -> bool:
        return self._move(self._step_queue(self.queue, self.cursor or 0, forward=False))

    def first(self) -> bool:
        return self._move(self._step_queue(self.queue, 0))

    def first_undecided(self) -> bool:
        return self._move(self._step_queue(Queue("undecided"), 0))

    def next_undecided(self) -> bool:
        return self._move(self._step_queue(Queue("undecided"), self.cursor or 0))

    def jump(self, number: int) -> bool:
        return self._move(number if self.store.has_sample(number) else None)

    def move_to(self, sample_id: int, queue: Queue | None = None) -> bool:
        """Go to a sample found elsewhere (e.g. by a worker's own Store stepping a slow queue),
        optionally switching queue at the same time. False (nothing changes) if no such sample."""
        if not self.store.has_sample(sample_id):
            return False
        return self._move(sample_id, queue)

    def set_queue(self, queue: Queue) -> bool:
        """Switch queue; the cursor moves to the queue's first sample at or after it, else its first.
        Returns False (queue unchanged) when the queue is empty; ValueError for an unknown kind."""
        probe = self._step_queue(queue, (self.cursor or 1) - 1)
        probe = probe or self._step_queue(queue, 0)
        if probe is None:
            return False
        return self._move(probe, queue)

    # ---------------------------------------------------------------- decisions

    def _apply(self, changes: list[Change], kind: str | None = None, detail: dict | None = None) -> int:
        # Every write names the goal's revision as this session read it: a goal reworded or
        # archived by another process since is refused inside the write (store.GoalChanged).
        return self.store.apply(self.goal.id, changes, kind=kind, revision=self.goal.revision, detail=detail)

    def adopt_goal(self, goal: Goal) -> Goal:
        """Take the goal as the file now holds it (GoalChanged.goal): the session then writes under
        its current wording (and an archived goal keeps refusing writes)."""
        if goal.id != self.goal.id:
            raise ValueError(f"goal #{goal.id} is not this session's goal #{self.goal.id}")
        self.goal = goal
        return goal

    def _advance(self) -> None:
        # After deciding, move on in the queue; in the 'undecided' queue the decided sample has
        # left it, so stepping from its id still gives the next one.
        self.next()

    def keep(self, *, advance: bool = True) -> int:
        assert self.cursor is not None
        with self._step():
            aid = self._apply([Change(self.cursor, "keep")])
            if advance:
                self._advance()
        return aid

    def drop(self, reason: str | None = None, note: str | None = None, *, advance: bool = True) -> int:
        assert self.cursor is not None
        if reason is not None and reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}; one of {', '.join(REASONS)}")
        changes = [Change(self.cursor, "drop", reason)]
        if note:
            changes.append(Change(self.cursor, "note", value=note))
        with self._step():
            aid = self._apply(changes, kind="drop")
            if advance:
                self._advance()
        return aid

    def prefer(self, action: str, *, advance: bool = True) -> int:
        """A preference decision on the current sample (issue 15), one undo step: "swap" (a pair
        kept with chosen and rejected exchanged; on a swapped pair: kept as imported again),
        "both-bad" (a pair dropped, neither answer good) or "flip" (a KTO record kept with its label
        flipped; on a flipped one: kept as imported again). ValueError when the sample is not a
        pair (swap, both-bad) or has no label (flip). Returns the action id (0: nothing written)."""
        assert self.cursor is not None
        changes = preference_changes(self.store, self.goal, [self.cursor], action)
        with self._step():
            aid = self._apply(changes, kind=action) if changes else 0  # both bad already: nothing to write
            if advance:
                self._advance()
        return aid

    def decide(self, sample_id: int, verdict: str, reason: str | None = None) -> int:
        """Keep or drop a sample other than the current one (e.g. the compare pane's partner)."""
        return self._apply([Change(sample_id, verdict, reason if verdict == "drop" else None)])

    def apply(self, changes: list[Change], kind: str = "batch") -> int:
        """Several changes as one undo step (e.g. keep this, drop the rest of its cluster)."""
        return self._apply(changes, kind=kind)

    def clear(self) -> int:
        assert self.cursor is not None
        return self._apply([Change(self.cursor, "clear")])

    def tag(self, tag: str, sample_id: int | None = None) -> int:
        sid = sample_id or self.cursor
        assert sid is not None
        return self._apply([Change(sid, "tag", value=tag.strip())])

    def untag(self, tag: str) -> int:
        assert self.cursor is not None
        return self._apply([Change(self.cursor, "untag", value=tag)])

    def note(self, text: str) -> int:
        assert self.cursor is not None
        return self._apply([Change(self.cursor, "note", value=text)])

    def undo(self) -> list[int]:
        """Undo the last step; the cursor goes to the (first) sample it touched."""
        return self.undo_step().touched

    def undo_step(self) -> Flip:
        """Undo the last step and say what it was. The cursor goes to the (first) sample it
        touched, except after a bulk decision that touched the sample on screen: it stays."""
        with self._step():
            flip = self.store.flip(self.goal.id, "undo", revision=self.goal.revision)
            if flip.touched and not (flip.action_kind == "bulk" and self.cursor in flip.touched):
                self._move(flip.touched[0])
        return flip

    def redo(self) -> list[int]:
        with self._step():
            touched = self.store.redo(self.goal.id, revision=self.goal.revision)
            if touched:
                self._move(touched[0])
        return touched

    def sample(self, sample_id: int) -> tuple[Sample, Decision] | None:
        """Another sample and its decision under this goal (the compare pane's partner)."""
        sample = self.store.sample(sample_id)
        return (sample, self.store.decision(self.goal.id, sample_id)) if sample else None

    def flags(self, sample: Sample | None = None) -> list[Flag]:
        """Everything known about a sample, strongest first; feeds the flag line and compare pane."""
        sample = sample or (self.store.sample(self.cursor) if self.cursor else None)
        if sample is None:
            return []
        out: list[Flag] = []
        for provider in self.flag_providers:
            out.extend(provider(self.store, self.goal.id, sample))
        return out

    def keep_and_drop(self, keep: int, drop: list[int], reason: str = "duplicate") -> int:
        """Keep one sample and drop the others (its cluster) as one undo step."""
        changes = [Change(keep, "keep")] + [Change(s, "drop", reason) for s in drop if s != keep]
        return self._apply(changes, kind="batch")

    # ---------------------------------------------------------------- bulk decisions

    def select(self, by: str, value: str, *, cancelled: Callable[[], bool] | None = None) -> Selection:
        """The samples of a queue (`KIND[=VALUE]`), a search, a flag kind or an id list (`1,5-9`).
        A queue or flag kind may step a slow queue: the TUI calls this in a worker."""
        if by == "queue":
            kind, _, v = value.partition("=")
            return select_queue(self.store, self.goal.id, self.queues, Queue(kind, v or None), cancelled=cancelled)
        if by == "search":
            return select_search(self.store, value)
        if by == "flag":
            return select_flag(self.store, self.goal.id, self.queues, self.flag_providers, value, cancelled=cancelled)
        if by == "ids":
            return select_ids(self.store, value)
        raise ValueError(f"select by queue, search, flag or ids, not {by!r}")

    def select_current(self, *, cancelled: Callable[[], bool] | None = None) -> Selection:
        """The samples of the queue the review stands in (a search is its result)."""
        return select_queue(self.store, self.goal.id, self.queues, self.queue, cancelled=cancelled)

    def preview_bulk(self, selection: Selection, verdict: str, **kw: object) -> BulkPreview:
        return preview_bulk(self.store, self.goal, selection, verdict, **kw)  # type: ignore[arg-type]

    def bulk_decide(self, preview: BulkPreview) -> int | None:
        """Write a previewed bulk decision as one action (one undo step), committed on return.
        None (nothing written) when no sample would change."""
        if preview.goal_id != self.goal.id:
            raise ValueError(f"the preview is for goal #{preview.goal_id}, this session's goal is #{self.goal.id}")
        if not preview.changes:
            return None
        return self.store.apply_bulk(
            self.goal.id,
            preview.changes,
            preview.verdict,
            reason=preview.reason,
            tags=preview.tags,
            note=preview.note,
            revision=self.goal.revision,
            detail=bulk_detail(preview),
        )

    def plan_keep_one(self, kind: str) -> KeepOnePlan:
        return plan_keep_one(self.store, self.goal, self.queues, self.flag_providers, kind)

    def keep_one(self, plan: KeepOnePlan) -> int | None:
        """Write a keep-one plan as one action (one undo step); None when there is nothing."""
        changes = [Change(i, "keep") for i in plan.keep] + [Change(i, "drop", "duplicate") for i in plan.drop]
        if not changes:
            return None
        detail = {
            "selector": plan.selection.selector,
            "selection": plan.selection.label,
            "verdict": "keep-one",
            "reason": "duplicate",
            "tags": [],
            "samples": len(changes),
        }
        return self._apply(changes, kind="bulk", detail=detail)

    # ---------------------------------------------------------------- figures & goals

    def counts(self) -> Counts:
        return self.store.counts(self.goal.id)

    def tags(self) -> list[str]:
        return self.store.all_tags()

    def switch_goal(self, goal: Goal) -> None:
        self.store.use_goal(goal.id)  # first: if it fails, the session is unchanged
        self.goal = goal
        cursor, self.queue = self.store.goal_state(goal.id)
        self.cursor = cursor if cursor is not None and self.store.has_sample(cursor) else None
        if self.cursor is None:
            self.cursor = self._step_queue(Queue("all"), 0)


# ---------------------------------------------------------------------- bulk decisions

# Where the samples that may carry a flag kind are found: the spine's hash columns and the queues
# of the modules that own each kind (with "all": decided samples too). Each candidate's flags are
# then asked of the flag providers, so a selection holds exactly the samples the screen flags.
FLAG_SOURCES: dict[str, tuple[str | Queue, ...]] = {
    "exact": ("content_hash", Queue("flagged")),
    "same-prompt": ("prompt_hash",),
    "lexical": (Queue("flagged"),),
    "semantic": (Queue("flagged"),),
    "leak": (Queue("leaks"),),
    "style": (Queue("style_drift", "all"),),
    "conflict": (Queue("contradictions", "all"),),
    "noise": (Queue("noisy", "all"),),
    "off-goal": (Queue("off_goal", "all"),),
}
PREVIEW_SAMPLES = 5  # samples a preview lists


@dataclass(frozen=True)
class Selection:
    """The samples a bulk decision is about, and how they were chosen."""

    selector: dict  # {"queue": "reason=duplicate"} | {"search": TEXT} | {"flag": KIND} | {"ids": "1,5-9"}
    label: str  # as a person reads it: 'queue “dropped as duplicate”', 'search “as an ai”'
    ids: tuple[int, ...]


@dataclass(frozen=True)
class BulkPreview:
    """What a bulk decision would do, counted before anything is written (the CLI's --dry-run
    and the TUI's confirmation show these same figures)."""

    goal_id: int
    goal_sentence: str
    selection: Selection
    verdict: str  # keep | drop
    reason: str | None  # the drop reason (None for keep)
    tags: tuple[str, ...]
    note: str | None
    only_undecided: bool
    matched: int  # samples selected
    undecided: int  # ... not decided yet
    already: int  # ... decided the same way already (same verdict and reason)
    overwritten: int  # ... decided otherwise, whose decision this replaces
    skipped: int  # ... decided and left as they are (only_undecided)
    changes: tuple[int, ...]  # the samples whose state changes (the rest: nothing is written)
    first: tuple[tuple[int, str, str], ...]  # (id, its decision now, first prompt line) of the first few

    @property
    def decision_label(self) -> str:
        words = "keep" if self.verdict == "keep" else f"drop as {self.reason}"
        if self.tags:
            words += " · tag " + ", ".join(self.tags)
        if self.note:
            words += " · note"
        return words

    def to_json(self) -> dict:
        return {
            "goal": {"id": self.goal_id, "sentence": self.goal_sentence},
            "selector": self.selection.selector,
            "selection": self.selection.label,
            "verdict": self.verdict,
            "reason": self.reason,
            "tags": list(self.tags),
            "note": self.note,
            "only_undecided": self.only_undecided,
            "matched": self.matched,
            "undecided": self.undecided,
            "already": self.already,
            "overwritten": self.overwritten,
            "skipped": self.skipped,
            "will_change": len(self.changes),
            "first": [{"id": i, "now": now, "prompt": prompt} for i, now, prompt in self.first],
        }


MAX_ID_PIECES = 10_000  # pieces of one --ids: past this, a file of numbers belongs in a queue or a tag


def parse_ids(spec: str) -> list[tuple[int, int]]:
    """`1,5-9` as inclusive ranges; ValueError saying what is wrong with a bad piece. Only ASCII
    digits count (`str.isdigit` accepts "²" and "٣"), and every number is a possible sample id."""
    ranges: list[tuple[int, int]] = []
    pieces = [p for p in spec.replace(" ", "").split(",") if p]
    if len(pieces) > MAX_ID_PIECES:
        raise ValueError(
            f"--ids: {len(pieces):,} pieces, at most {MAX_ID_PIECES:,} — join neighbours into ranges (5-9) or tag them and use --queue tag=T"
        )
    for piece in pieces:
        m = _ID_PIECE.fullmatch(piece)
        if m is None:
            raise ValueError(f"--ids: {piece!r} is not a sample number or a range — write e.g. 1,5-9")
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) is not None else a
        for n in (a, b):
            if not 1 <= n <= MAX_ID:
                raise ValueError(
                    f"--ids: {piece!r}: sample numbers start at 1 and end at {MAX_ID:,} — write e.g. 1,5-9"
                )
        if b < a:
            raise ValueError(f"--ids: {piece!r} runs backwards — write {b}-{a}")
        ranges.append((a, b))
    if not ranges:
        raise ValueError("--ids: no sample numbers — write e.g. 1,5-9")
    return ranges


_ID_PIECE = re.compile(r"#?([0-9]{1,20})(?:-#?([0-9]{1,20}))?", re.ASCII)


def select_ids(store: Store, spec: str) -> Selection:
    """Samples by number; every number must exist (ValueError naming the missing ones)."""
    ranges = parse_ids(spec)
    union: list[tuple[int, int]] = []  # "1-5,3" asks for five samples, and reads them once
    for a, b in sorted(ranges):
        if union and a <= union[-1][1] + 1:
            union[-1] = (union[-1][0], max(union[-1][1], b))
        else:
            union.append((a, b))
    found = store.ids_in_ranges(union)
    wanted = sum(b - a + 1 for a, b in union)
    if len(found) < wanted:
        have = set(found)
        missing = list(itertools.islice((i for a, b in union for i in range(a, b + 1) if i not in have), 5))
        raise ValueError(
            f"--ids: no sample {', '.join(f'#{i}' for i in missing)}"
            + (f" ({wanted - len(found):,} of {wanted:,} missing)" if wanted - len(found) > len(missing) else "")
            + f" — the project has samples #1–#{store.total_samples():,}; nothing was decided"
        )
    return Selection({"ids": spec}, f"samples {spec}", tuple(found))


def select_queue(
    store: Store, goal_id: int, queues: QueueTable, queue: Queue, *, cancelled: Callable[[], bool] | None = None
) -> Selection:
    label = queues.label(queue)
    sel = f"{queue.kind}={queue.value}" if queue.value is not None else queue.kind
    ids = queues.members(store, goal_id, queue, cancelled=cancelled)
    if queue.kind == "search":
        return Selection({"search": queue.value or ""}, label, tuple(ids))
    return Selection({"queue": sel}, f"queue “{label}”", tuple(ids))


def select_search(store: Store, text: str) -> Selection:
    if not text.strip():
        raise ValueError("--search: an empty text matches everything — use --queue all for that")
    return Selection({"search": text}, f"search “{text}”", tuple(store.search_ids(text)))


def select_flag(
    store: Store,
    goal_id: int,
    queues: QueueTable,
    providers: Sequence[FlagProvider],
    kind: str,
    *,
    cancelled: Callable[[], bool] | None = None,
) -> Selection:
    """Every sample the review screen flags with `kind` (its flag line), ascending. `KIND=TEXT`:
    only flags of that kind whose label or details contain TEXT (case-insensitive), e.g.
    `noise=answer is empty` for the empty answers among the noisy samples."""
    spec = kind
    kind, _, text = spec.partition("=")
    needle = text.strip().casefold()
    sources = FLAG_SOURCES.get(kind)
    if sources is None:
        raise ValueError(f"--flag: no flag kind {kind!r}; one of {', '.join(FLAG_SOURCES)}")

    def wanted(f: Flag) -> bool:
        if f.kind != kind:
            return False
        return not needle or any(needle in part.casefold() for part in (f.label, *f.details))

    candidates: set[int] = set()
    for src in sources:
        if isinstance(src, str):
            candidates.update(store.shared_hash_ids(src))
        elif src.kind in queues:
            candidates.update(queues.members(store, goal_id, src, cancelled=cancelled))
    ids = []
    ordered = sorted(candidates)
    for i in range(0, len(ordered), 500):
        if cancelled is not None and cancelled():
            break
        for sample in store.samples(ordered[i : i + 500]):
            if any(wanted(f) for p in providers for f in p(store, goal_id, sample)):
                ids.append(sample.id)
    label = f"flag “{kind}”" + (f" with “{text.strip()}”" if needle else "")
    return Selection({"flag": spec}, label, tuple(sorted(ids)))


def _preview_line(sample: Sample, selection: Selection) -> str:
    """What a preview shows of a sample: for a search, the text around the first match (so a
    curator sees "has an air of" before dropping every "as an ai"); else the question's first line."""
    text = selection.selector.get("search")
    if isinstance(text, str) and text:
        full = sample.conversation.system + "\n" + sample.conversation.full_text()
        at = _ascii_fold(full).find(_ascii_fold(text))
        if at >= 0:
            start = max(0, at - 20)
            snippet = " ".join(full[start : at + len(text) + 40].split())
            return ("…" if start else "") + snippet
    # The question, not a system prompt shared by many samples: the last prompt turn (in a chat,
    # the one the answer replies to); the system prompt only when there is no turn.
    prompt, _ = sample.conversation.split()
    for turn in reversed(prompt):
        line = next((ln.strip() for ln in turn.content.splitlines() if ln.strip()), "")
        if line:
            return line
    return next((ln.strip() for ln in sample.conversation.system.splitlines() if ln.strip()), "")


def _ascii_fold(s: str) -> str:
    # As the search matches: SQLite's lower() folds ASCII letters only (review/store/queues.py).
    return s.translate({c: c + 32 for c in range(65, 91)})


CLUSTER_KINDS = ("exact", "lexical", "semantic")


@dataclass(frozen=True)
class KeepOnePlan:
    """Keep one sample per duplicate cluster, drop the rest as duplicate: what it would do."""

    goal_id: int
    selection: Selection  # the flagged samples
    clusters: int
    keep: tuple[int, ...]  # one per cluster: the one kept already, else the lowest number
    drop: tuple[int, ...]
    overwritten: int  # dropped ones that were kept (or kept ones that were dropped otherwise)

    def to_json(self) -> dict:
        return {
            "selector": self.selection.selector,
            "selection": self.selection.label,
            "clusters": self.clusters,
            "keep": len(self.keep),
            "drop": len(self.drop),
            "overwritten": self.overwritten,
            "first_clusters_keep": list(self.keep[:PREVIEW_SAMPLES]),
        }


def plan_keep_one(
    store: Store, goal: Goal, queues: QueueTable, providers: Sequence[FlagProvider], kind: str
) -> KeepOnePlan:
    """For every cluster a duplicate flag of `kind` names (its members), keep one and drop the
    others as duplicate; a sample in two clusters is kept if any cluster keeps it."""
    if kind not in CLUSTER_KINDS:
        raise ValueError(f"keep-one goes with --flag {' | '.join(CLUSTER_KINDS)} (a duplicate cluster), not {kind!r}")
    selection = select_flag(store, goal.id, queues, providers, kind)
    clusters: set[tuple[int, ...]] = set()
    for sample in store.samples(list(selection.ids)):
        for p in providers:
            clusters.update(f.members for f in p(store, goal.id, sample) if f.kind == kind and len(f.members) > 1)
    olds = store.decisions_of(goal.id, sorted({m for c in clusters for m in c}))
    keep: set[int] = set()
    for members in clusters:
        kept = [m for m in members if olds.get(m, UNDECIDED).verdict == "keep"]
        keep.add(kept[0] if kept else min(members))
    drop = sorted({m for c in clusters for m in c} - keep)
    over = sum(1 for m in drop if olds.get(m, UNDECIDED).verdict == "keep")
    over += sum(1 for m in keep if olds.get(m, UNDECIDED).verdict == "drop")
    return KeepOnePlan(goal.id, selection, len(clusters), tuple(sorted(keep)), tuple(drop), over)


def _describe(d: Decision) -> str:
    if d.pref:
        return PREF_LABELS[d.pref]
    if d.verdict == "keep":
        return "kept"
    if d.verdict == "drop":
        return f"dropped ({d.reason})"
    return "undecided"


# What a preference decision (Decision.pref) is called on screen and in the manifest.
PREF_LABELS = {"swapped": "kept, swapped", "flipped": "kept, label flipped", "both-bad": "dropped (both bad)"}
PREFERENCE_ACTIONS = ("swap", "both-bad", "flip")


def preference_changes(
    store: Store, goal: Goal, sample_ids: Sequence[int], action: str, *, toggle: bool = True
) -> list[Change]:
    """The changes of a preference decision on these samples: `swap` and `both-bad` need a pair,
    `flip` a KTO label (ValueError naming the first sample that has not). With `toggle` (a key
    in the review), swapping a swapped pair or flipping a flipped label keeps it as imported (a
    keep); without (`winnow decide`), a sample already so is left as it is (no change)."""
    if action not in PREFERENCE_ACTIONS:
        raise ValueError(f"unknown preference decision {action!r}; one of {', '.join(PREFERENCE_ACTIONS)}")
    ids = list(dict.fromkeys(sample_ids))
    olds = store.decisions_of(goal.id, ids)
    out = []
    for sid in ids:
        sample = store.sample(sid)
        if sample is None:
            raise ValueError(f"no sample #{sid}")
        conv = sample.conversation
        if action in ("swap", "both-bad") and not conv.is_pair:
            raise ValueError(f"sample #{sid} is not a preference pair: {action} needs a chosen and a rejected answer")
        if action == "flip" and conv.label is None:
            raise ValueError(f"sample #{sid} has no KTO label to flip")
        old = olds.get(sid, UNDECIDED).pref
        if old == {"swap": "swapped", "flip": "flipped", "both-bad": "both-bad"}[action]:
            if toggle and action != "both-bad":
                out.append(Change(sid, "keep"))
            continue
        out.append(Change(sid, action))
    return out


def _changes_for(sid: int, verdict: str, reason: str | None, tags: Sequence[str], note: str | None) -> list[Change]:
    out = [Change(sid, verdict, reason if verdict == "drop" else None)]
    out += [Change(sid, "tag", value=t) for t in tags]
    if note is not None:
        out.append(Change(sid, "note", value=note))
    return out


def preview_bulk(
    store: Store,
    goal: Goal,
    selection: Selection,
    verdict: str,
    *,
    reason: str | None = None,
    tags: Sequence[str] = (),
    note: str | None = None,
    only_undecided: bool = False,
) -> BulkPreview:
    """Count what deciding `selection` would do; nothing is written. ValueError for a verdict
    other than keep/drop, an unknown reason or an empty tag."""
    from .store.decisions import apply_change

    if verdict not in ("keep", "drop"):
        raise ValueError(f"a bulk decision is keep or drop, not {verdict!r}")
    if verdict == "drop":
        reason = reason or "other"
        if reason not in REASONS:
            raise ValueError(f"--reason: unknown reason {reason!r}; one of {', '.join(REASONS)}")
    elif reason is not None:
        raise ValueError("--reason goes with drop (a kept sample has no reason)")
    tags = tuple(dict.fromkeys(t.strip() for t in tags))
    if any(not t for t in tags):
        raise ValueError("--tag: a tag cannot be empty")
    olds = store.decisions_of(goal.id, selection.ids)
    undecided = already = overwritten = skipped = 0
    changes: list[int] = []
    for sid in selection.ids:
        old = olds.get(sid, UNDECIDED)
        if old.verdict is None:
            undecided += 1
        elif only_undecided:
            skipped += 1
            continue
        elif old.verdict == verdict and old.reason == (reason if verdict == "drop" else None):
            already += 1
        else:
            overwritten += 1
        new = old
        for c in _changes_for(sid, verdict, reason, tags, note):
            new = apply_change(new, c)
        if new != old:
            changes.append(sid)
    first = []
    for sample in store.samples(changes[:PREVIEW_SAMPLES]):
        first.append((sample.id, _describe(olds.get(sample.id, UNDECIDED)), _preview_line(sample, selection)[:100]))
    return BulkPreview(
        goal.id,
        goal.sentence,
        selection,
        verdict,
        reason if verdict == "drop" else None,
        tags,
        note,
        only_undecided,
        len(selection.ids),
        undecided,
        already,
        overwritten,
        skipped,
        tuple(changes),
        tuple(first),
    )


@dataclass(frozen=True)
class SelectionSummary:
    """A selection's samples by their decision now, so a confirmation screen can say, for each
    choice the curator may make (keep, drop as R), what `preview_bulk` would count, without
    reading the project again (no tags or note: those are the CLI's)."""

    goal_id: int
    goal_sentence: str
    selection: Selection
    undecided: int
    kept: int
    dropped: dict[str, int]  # by reason
    first: tuple[tuple[int, str, str], ...]  # (id, its decision now, first prompt line)

    @property
    def matched(self) -> int:
        return len(self.selection.ids)

    def figures(self, verdict: str, reason: str | None = None) -> tuple[int, int, int]:
        """(will change, overwritten, already so) if every sample were kept / dropped as `reason`."""
        if verdict == "keep":
            already = self.kept
        else:
            already = self.dropped.get(reason or "other", 0)
        decided = self.kept + sum(self.dropped.values())
        return self.matched - already, decided - already, already


def summarize(store: Store, goal: Goal, selection: Selection) -> SelectionSummary:
    olds = store.decisions_of(goal.id, selection.ids)
    kept = 0
    dropped: dict[str, int] = {}
    for d in olds.values():
        if d.verdict == "keep":
            kept += 1
        elif d.verdict == "drop":
            dropped[d.reason or "other"] = dropped.get(d.reason or "other", 0) + 1
    undecided = len(selection.ids) - kept - sum(dropped.values())
    first = []
    for sample in store.samples(list(selection.ids[:PREVIEW_SAMPLES])):
        first.append((sample.id, _describe(olds.get(sample.id, UNDECIDED)), _preview_line(sample, selection)[:100]))
    return SelectionSummary(goal.id, goal.sentence, selection, undecided, kept, dropped, tuple(first))


def bulk_changes(preview: BulkPreview) -> list[Change]:
    out: list[Change] = []
    for sid in preview.changes:
        out += _changes_for(sid, preview.verdict, preview.reason, preview.tags, preview.note)
    return out


def bulk_detail(preview: BulkPreview) -> dict:
    """What the action records about itself (actions.detail): enough to name it on undo."""
    return {
        "selector": preview.selection.selector,
        "selection": preview.selection.label,
        "verdict": preview.verdict,
        "reason": preview.reason,
        "tags": list(preview.tags),
        "samples": len(preview.changes),
    }


def describe_action(kind: str | None, detail: dict | None, touched: int) -> str:
    """One line for an undone or redone action: "drop as duplicate of 312 samples (search “x”)"."""
    if kind == "bulk" and detail:
        verdict = {
            "keep": "keep",
            "keep-one": "keep one per cluster",
            "swap": "swap",
            "flip": "flip the label",
            "both-bad": "both bad",
        }.get(str(detail.get("verdict")), f"drop as {detail.get('reason')}")
        return f"{verdict} of {touched:,} samples ({detail.get('selection', '')})"
    what = {"batch": "group step", None: "step", "flip": "label flip", "both-bad": "both bad"}.get(kind, kind or "step")
    return f"{what} on {touched:,} sample" + ("s" if touched != 1 else "")


def open_session(
    store: Store,
    goal: Goal | None = None,
    *,
    queues: QueueTable | None = None,
    flag_providers: Sequence[FlagProvider] | None = None,
) -> ReviewSession | None:
    """A session on the given or the active goal; None when the project has no goal yet."""
    goal = goal or store.active_goal()
    return ReviewSession(store, goal, queues=queues, flag_providers=flag_providers) if goal else None
