"""The built-in review queues: keyset steps over `samples`, `decisions` and `decision_tags`.

Each step is one indexed query (never a scan of the whole table), except "search", which reads
every sample's text between the cursor and the next match. `builtin_queues()` gives their
`QueueSpec`s to review.queues.default_queues(), which adds the queues of batches, goals,
analysis and style.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ..model import Queue, QueueSpec
from .figures import FigureRepo
from .samples import visible

if TYPE_CHECKING:
    from . import Store


def _ascii_lower(s: str) -> str:
    """Lower-case as SQLite's lower() does: ASCII letters only."""
    return s.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _direction(forward: bool) -> tuple[str, str]:
    return (">", "ASC") if forward else ("<", "DESC")


class QueueRepo(FigureRepo):
    """The next (or previous) sample id after/before `after` in each built-in queue; None at its end."""

    def _first(self, sql: str, args: tuple) -> int | None:
        r = self.conn.execute(sql, args).fetchone()
        return r[0] if r else None

    def step_all(self, after: int, forward: bool) -> int | None:
        op, order = _direction(forward)
        return self._first(
            f"SELECT id FROM samples WHERE id {op} ? AND {visible()} ORDER BY id {order} LIMIT 1", (after,)
        )

    def step_undecided(self, goal_id: int, after: int, forward: bool) -> int | None:
        op, order = _direction(forward)
        return self._first(
            f"SELECT s.id FROM samples s WHERE s.id {op} ? AND {visible('s.id')} AND NOT EXISTS (SELECT 1 FROM decisions d"
            " WHERE d.goal_id = ? AND d.sample_id = s.id AND d.verdict IS NOT NULL)"
            f" ORDER BY s.id {order} LIMIT 1",
            (after, goal_id),
        )

    def step_verdict(self, goal_id: int, verdict: str, after: int, forward: bool) -> int | None:
        op, order = _direction(forward)
        return self._first(
            f"SELECT sample_id FROM decisions WHERE goal_id = ? AND verdict = ? AND sample_id {op} ?"
            f" ORDER BY sample_id {order} LIMIT 1",
            (goal_id, verdict, after),
        )

    def step_reason(self, goal_id: int, reason: str | None, after: int, forward: bool) -> int | None:
        op, order = _direction(forward)
        return self._first(
            f"SELECT sample_id FROM decisions WHERE goal_id = ? AND reason = ? AND sample_id {op} ?"
            f" ORDER BY sample_id {order} LIMIT 1",
            (goal_id, reason, after),
        )

    def step_tag(self, goal_id: int, tag: str | None, after: int, forward: bool) -> int | None:
        op, order = _direction(forward)
        return self._first(
            f"SELECT sample_id FROM decision_tags WHERE goal_id = ? AND tag = ? AND sample_id {op} ?"
            f" ORDER BY sample_id {order} LIMIT 1",
            (goal_id, tag, after),
        )

    def step_search(self, text: str, after: int, forward: bool) -> int | None:
        # `turns` holds JSON: look for the query as JSON writes it (quotes, backslashes and
        # controls escaped), so `say "hi` finds say "hi". SQLite's lower() folds ASCII only.
        op, order = _direction(forward)
        plain = _ascii_lower(text)
        in_json = _ascii_lower(json.dumps(text, ensure_ascii=False)[1:-1])
        return self._first(
            f"SELECT id FROM samples WHERE id {op} ? AND {visible()}"
            " AND (instr(lower(turns), ?) > 0 OR instr(lower(system), ?) > 0)"
            f" ORDER BY id {order} LIMIT 1",
            (after, in_json, plain),
        )

    # ------------------------------------------------------------------ whole queues (bulk decisions)

    def builtin_members(self, goal_id: int, kind: str, value: str | None) -> list[int] | None:
        """Every sample id of a built-in queue, ascending, in one query (a bulk decision's
        selection); None for a kind that is not built in (the caller steps it)."""
        args: tuple
        if kind == "all":
            sql, args = f"SELECT id FROM samples WHERE {visible()} ORDER BY id", ()
        elif kind == "undecided":
            sql = (
                f"SELECT s.id FROM samples s WHERE {visible('s.id')} AND NOT EXISTS (SELECT 1 FROM decisions d"
                " WHERE d.goal_id = ? AND d.sample_id = s.id AND d.verdict IS NOT NULL) ORDER BY s.id"
            )
            args = (goal_id,)
        elif kind in ("kept", "dropped"):
            sql = "SELECT sample_id FROM decisions WHERE goal_id = ? AND verdict = ? ORDER BY sample_id"
            args = (goal_id, "keep" if kind == "kept" else "drop")
        elif kind == "reason":
            sql, args = (
                "SELECT sample_id FROM decisions WHERE goal_id = ? AND reason = ? ORDER BY sample_id",
                (
                    goal_id,
                    value,
                ),
            )
        elif kind == "tag":
            sql, args = (
                "SELECT sample_id FROM decision_tags WHERE goal_id = ? AND tag = ? ORDER BY sample_id",
                (
                    goal_id,
                    value,
                ),
            )
        elif kind == "search":
            return self.search_ids(value or "")
        else:
            return None
        return [r[0] for r in self.conn.execute(sql, args)]

    def search_ids(self, text: str) -> list[int]:
        """Every sample the search queue for `text` steps through (the same match), ascending."""
        plain = _ascii_lower(text)
        in_json = _ascii_lower(json.dumps(text, ensure_ascii=False)[1:-1])
        return [
            r[0]
            for r in self.conn.execute(
                f"SELECT id FROM samples WHERE {visible()}"
                " AND (instr(lower(turns), ?) > 0 OR instr(lower(system), ?) > 0) ORDER BY id",
                (in_json, plain),
            )
        ]

    def shared_hash_ids(self, column: str) -> list[int]:
        """Samples whose content_hash (exact copies) or prompt_hash (same prompt) another sample
        shares: the candidates of the spine's own flags, ascending."""
        if column not in ("content_hash", "prompt_hash"):
            raise ValueError(f"no hash column {column!r}")
        return [
            r[0]
            for r in self.conn.execute(
                f"SELECT id FROM samples WHERE {visible()} AND {column} IN"
                f" (SELECT {column} FROM samples WHERE {visible()} GROUP BY {column} HAVING count(*) > 1) ORDER BY id"
            )
        ]

    def ids_in_ranges(self, ranges: list[tuple[int, int]]) -> list[int]:
        """The sample ids that exist within the inclusive ranges, ascending and each once."""
        out: set[int] = set()
        for lo, hi in ranges:
            out.update(
                r[0]
                for r in self.conn.execute(f"SELECT id FROM samples WHERE id BETWEEN ? AND ? AND {visible()}", (lo, hi))
            )
        return sorted(out)


def builtin_queues() -> dict[str, QueueSpec[Store]]:
    """The queues over samples and decisions, with their labels and (from the tallies) sizes."""

    def all_(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
        return store.step_all(after, forward)

    def undecided(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
        return store.step_undecided(goal_id, after, forward)

    def kept(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
        return store.step_verdict(goal_id, "keep", after, forward)

    def dropped(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
        return store.step_verdict(goal_id, "drop", after, forward)

    def reason(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
        return store.step_reason(goal_id, queue.value, after, forward)

    def tag(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
        return store.step_tag(goal_id, queue.value, after, forward)

    def search(store: Store, goal_id: int, queue: Queue, after: int, forward: bool) -> int | None:
        return store.step_search(queue.value or "", after, forward)

    return {
        "all": QueueSpec("all samples", all_, lambda s, g, q: s.counts(g).total, instant=True, offered=False),
        "undecided": QueueSpec(
            "undecided", undecided, lambda s, g, q: s.counts(g).undecided, instant=True, offered=False
        ),
        "kept": QueueSpec("kept", kept, lambda s, g, q: s.counts(g).kept, instant=True, offered=False),
        "dropped": QueueSpec("dropped", dropped, lambda s, g, q: s.counts(g).dropped, instant=True, offered=False),
        "reason": QueueSpec(
            "dropped as {value}",
            reason,
            lambda s, g, q: s.counts(g).by_reason.get(q.value or "", 0),
            instant=True,
            offered=False,
        ),
        "tag": QueueSpec(
            "tagged {value}", tag, lambda s, g, q: s.counts(g).by_tag.get(q.value or "", 0), instant=True, offered=False
        ),
        # May read every sample's text: stepped in a worker; its size is unknown without that scan.
        "search": QueueSpec("search “{value}”", search, offered=False),
    }
