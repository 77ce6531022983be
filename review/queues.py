"""The queue table: every queue kind the review can step through, gathered explicitly.

A queue is a `model.Queue` value (kind + optional value); what a kind means — its label, how to
step it, its size where known, whether a step is instant — is its `model.QueueSpec`. Each module
that owns a kind returns its specs from a plain function, and `default_queues()` asks each in
turn: the store (the built-in kinds over samples and decisions), batches, goals (re-review),
analysis (duplicates, flagged, leaks), style (style drift, contradictions, noisy) and
preference pairs, last since most projects have none. Nothing
registers itself at import, so the table is the same whichever modules happen to be imported.

A new queue kind: a step function in the module that owns its tables, a spec in that module's
`queue_specs()`, and (for a new module) one line in `default_queues()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

from . import analysis, batch, goals, relevance, style
from .analysis import pairs
from .model import Queue, QueueSpec
from .store import Store, builtin_queues

# What fills a queue that is empty, named by the key (or command) that does it: a curator who
# picks "duplicates" before the analysis has run is told so instead of seeing nothing.
EMPTY_HINTS: dict[str, str] = {
    "undecided": "every sample is decided",
    "kept": "a keeps a sample",
    "dropped": "x drops a sample",
    "batch": "B proposes a batch",
    "rereview": "fills when the goal is reworded",
    "off_goal": "A (analysis) scores the goal",
    "duplicates": "A (analysis) finds them",
    "flagged": "A (analysis) flags them",
    "leaks": "winnow leakage --eval FILE",
    "pairs": "A (analysis) checks preference pairs",
    "style_drift": "A (analysis) finds it",
    "contradictions": "A (analysis) finds them",
    "noisy": "A (analysis) finds them",
}
COUNT_CAP = 100_000  # a stepped queue is counted up to this many (then shown as "100,000+")


@dataclass(frozen=True)
class QueueCount:
    """One line of the queue picker: the queue, its label, how many samples stepping it visits
    (`capped`: at least that many) and, when it is empty, what fills it."""

    queue: Queue
    label: str
    count: int
    capped: bool = False
    hint: str | None = None

    def line(self) -> str:
        n = f"{self.count:,}+" if self.capped else f"{self.count:,}"
        return f"{self.label} ({n})" + (f" · {self.hint}" if self.hint and not self.count else "")


class QueueTable:
    """Queue kinds in the order the queue dialog lists them, each with its spec."""

    def __init__(self, specs: Mapping[str, QueueSpec[Store]]):
        self._specs = dict(specs)

    def __contains__(self, kind: object) -> bool:
        return kind in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def spec(self, kind: str) -> QueueSpec[Store]:
        try:
            return self._specs[kind]
        except KeyError:
            raise ValueError(f"unknown queue {kind!r}") from None

    def with_queue(self, kind: str, spec: QueueSpec[Store]) -> QueueTable:
        """This table and one more (or a replaced) kind."""
        return QueueTable({**self._specs, kind: spec})

    def step(self, store: Store, goal_id: int, queue: Queue, after: int, *, forward: bool = True) -> int | None:
        """The next (or previous) sample id in the queue after/before sample `after`; None at its
        end. ValueError for a kind this table does not have."""
        return self.spec(queue.kind).step(store, goal_id, queue, after, forward)

    def size(self, store: Store, goal_id: int, queue: Queue) -> int | None:
        """The queue's length when it is known without a scan, else None."""
        spec = self._specs.get(queue.kind)
        return spec.size(store, goal_id, queue) if spec is not None and spec.size is not None else None

    def members(
        self,
        store: Store,
        goal_id: int,
        queue: Queue,
        *,
        cancelled: Callable[[], bool] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[int]:
        """Every sample of the queue as it stands now, in the queue's order (a bulk decision's
        selection). A built-in kind is one query; any other is stepped from its start to its end
        (each sample once, even where a queue's order would come back to one). ValueError for a
        kind this table does not have; `cancelled()` true stops the walk early (what was found so
        far is returned)."""
        spec = self.spec(queue.kind)
        fast = store.builtin_members(goal_id, queue.kind, queue.value)
        if fast is not None:
            return fast
        out: list[int] = []
        seen: set[int] = set()
        after = 0
        while True:
            if cancelled is not None and cancelled():
                break
            nxt = spec.step(store, goal_id, queue, after, True)
            if nxt is None or nxt in seen:
                break
            seen.add(nxt)
            out.append(nxt)
            after = nxt
            if progress is not None and len(out) % 500 == 0:
                progress(len(out))
        return out

    def count(
        self, store: Store, goal_id: int, queue: Queue, *, cancelled: Callable[[], bool] | None = None
    ) -> QueueCount:
        """How many samples stepping the queue visits now: the size where the spec knows it
        without a scan (the built-ins read the tallies), else the queue stepped to its end (up to
        COUNT_CAP). The review screen asks for the stepped ones in a worker, never on a key."""
        label = self.label(queue)
        known = self.size(store, goal_id, queue)
        if known is not None:
            n, capped = known, False
        else:
            spec = self.spec(queue.kind)
            n, after, seen = 0, 0, set()
            while n < COUNT_CAP and not (cancelled is not None and cancelled()):
                nxt = spec.step(store, goal_id, queue, after, True)
                if nxt is None or nxt in seen:
                    break
                seen.add(nxt)
                n, after = n + 1, nxt
            capped = n >= COUNT_CAP
        return QueueCount(queue, label, n, capped, None if n else self.empty_hint(queue))

    def left(
        self, store: Store, goal_id: int, queue: Queue, *, cancelled: Callable[[], bool] | None = None
    ) -> int | None:
        """Undecided samples in the queue (the status line's "N left"); None for the queues of
        decided samples (kept, dropped, a reason, a tag), where nothing is left to decide. "all"
        and "undecided" read the tallies; any other is listed (a worker's job)."""
        if queue.kind in ("kept", "dropped", "reason", "tag"):
            return None
        if queue.kind in ("all", "undecided"):
            return store.counts(goal_id).undecided
        ids = self.members(store, goal_id, queue, cancelled=cancelled)
        decided = store.decisions_of(goal_id, ids)
        return sum(1 for i in ids if i not in decided or decided[i].verdict is None)

    def empty_hint(self, queue: Queue) -> str | None:
        """What fills the queue when it is empty (None: nothing to say)."""
        if queue.kind == "search":
            return "no sample contains that text"
        if queue.kind in ("reason", "tag"):
            return None
        return EMPTY_HINTS.get(queue.kind)

    def label(self, queue: Queue) -> str:
        """The queue as the review screen names it ("dropped as duplicate", "search “x”")."""
        spec = self._specs.get(queue.kind)
        if spec is None:
            return queue.kind.replace("_", " ")
        return spec.label.format(value=queue.value if queue.value is not None else "")

    def instant(self, queue: Queue) -> bool:
        """Whether a step is an indexed keyset query the UI thread may run (else: in a worker)."""
        spec = self._specs.get(queue.kind)
        return spec is not None and spec.instant

    def offered(self) -> list[str]:
        """The kinds the queue dialog lists by their label, in table order."""
        return [kind for kind, spec in self._specs.items() if spec.offered]


def default_queues() -> QueueTable:
    """Every queue kind winnow has, built-ins first; a kind claimed twice is a programming error."""
    specs: dict[str, QueueSpec[Store]] = {}
    for part in (
        builtin_queues(),
        batch.queue_specs(),
        goals.queue_specs(),
        relevance.queue_specs(),
        analysis.queue_specs(),
        style.queue_specs(),
        pairs.queue_specs(),  # last: empty on every project without preference pairs
    ):
        twice = specs.keys() & part.keys()
        if twice:
            raise ValueError(f"queue kind(s) {sorted(twice)} defined twice")
        specs.update(part)
    return QueueTable(specs)
