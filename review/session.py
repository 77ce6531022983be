"""ReviewSession: the façade the TUI drives — queue, cursor, decide, undo, counts.

Every method that changes something has committed it before it returns, so a screen that
shows the result after the call never shows a decision that is not on disk; and a method that
raises has changed nothing (a change and the cursor move after it are one transaction).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from .flags import FlagProvider, default_flag_providers
from .model import REASONS, Counts, Decision, Flag, Goal, Queue, Sample
from .queues import QueueTable, default_queues
from .store import Change, Store


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

    def _apply(self, changes: list[Change], kind: str | None = None) -> int:
        # Every write names the goal's revision as this session read it: a goal reworded or
        # archived by another process since is refused inside the write (store.GoalChanged).
        return self.store.apply(self.goal.id, changes, kind=kind, revision=self.goal.revision)

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
        with self._step():
            touched = self.store.undo(self.goal.id, revision=self.goal.revision)
            if touched:
                self._move(touched[0])
        return touched

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
