"""The queue table: every queue kind the review can step through, gathered explicitly.

A queue is a `model.Queue` value (kind + optional value); what a kind means — its label, how to
step it, its size where known, whether a step is instant — is its `model.QueueSpec`. Each module
that owns a kind returns its specs from a plain function, and `default_queues()` asks each in
turn: the store (the built-in kinds over samples and decisions), batches, goals (re-review),
analysis (duplicates, flagged, leaks) and style (style drift, contradictions, noisy). Nothing
registers itself at import, so the table is the same whichever modules happen to be imported.

A new queue kind: a step function in the module that owns its tables, a spec in that module's
`queue_specs()`, and (for a new module) one line in `default_queues()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from . import analysis, batch, goals, relevance, style
from .model import Queue, QueueSpec
from .store import Store, builtin_queues


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
    ):
        twice = specs.keys() & part.keys()
        if twice:
            raise ValueError(f"queue kind(s) {sorted(twice)} defined twice")
        specs.update(part)
    return QueueTable(specs)
