"""Review queues: the next (or previous) sample of a queue by keyset, and its size where known."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from .figures import FigureRepo

if TYPE_CHECKING:
    from . import Store


def _ascii_lower(s: str) -> str:
    """Lower-case as SQLite's lower() does: ASCII letters only."""
    return s.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


class QueueRepo(FigureRepo):
    """Queue steps over `samples`, `decisions` and `decision_tags`; extensions registered below."""

    def queue_step(self, goal_id: int, queue: dict, after: int, *, forward: bool = True) -> int | None:
        """The next (or previous) sample id in a queue after/before `after`, by keyset. Never scans
        the whole table for the 'all', 'kept', 'dropped', 'reason' and 'tag' queues."""
        kind = queue.get("kind", "all")
        value = queue.get("value")
        op, order = (">", "ASC") if forward else ("<", "DESC")
        if kind == "all":
            sql = f"SELECT id FROM samples WHERE id {op} ? ORDER BY id {order} LIMIT 1"
            args: tuple = (after,)
        elif kind == "undecided":
            sql = (
                f"SELECT s.id FROM samples s WHERE s.id {op} ? AND NOT EXISTS (SELECT 1 FROM decisions d"
                " WHERE d.goal_id = ? AND d.sample_id = s.id AND d.verdict IS NOT NULL)"
                f" ORDER BY s.id {order} LIMIT 1"
            )
            args = (after, goal_id)
        elif kind in ("kept", "dropped"):
            sql = (
                f"SELECT sample_id FROM decisions WHERE goal_id = ? AND verdict = ? AND sample_id {op} ?"
                f" ORDER BY sample_id {order} LIMIT 1"
            )
            args = (goal_id, "keep" if kind == "kept" else "drop", after)
        elif kind == "reason":
            sql = (
                f"SELECT sample_id FROM decisions WHERE goal_id = ? AND reason = ? AND sample_id {op} ?"
                f" ORDER BY sample_id {order} LIMIT 1"
            )
            args = (goal_id, value, after)
        elif kind == "tag":
            sql = (
                f"SELECT sample_id FROM decision_tags WHERE goal_id = ? AND tag = ? AND sample_id {op} ?"
                f" ORDER BY sample_id {order} LIMIT 1"
            )
            args = (goal_id, value, after)
        elif kind == "search":
            # `turns` holds JSON: look for the query as JSON writes it (quotes, backslashes and
            # controls escaped), so `say "hi` finds say "hi". SQLite's lower() folds ASCII only.
            text = str(value or "")
            plain = _ascii_lower(text)
            in_json = _ascii_lower(json.dumps(text, ensure_ascii=False)[1:-1])
            sql = (
                f"SELECT id FROM samples WHERE id {op} ? AND (instr(lower(turns), ?) > 0 OR instr(lower(system), ?) > 0)"
                f" ORDER BY id {order} LIMIT 1"
            )
            args = (after, in_json, plain)
        elif kind in QUEUE_EXTENSIONS:
            return QUEUE_EXTENSIONS[kind](cast("Store", self), goal_id, queue, after, forward)
        else:
            raise ValueError(f"unknown queue {kind!r}")
        r = self.conn.execute(sql, args).fetchone()
        return r[0] if r else None

    def queue_size(self, goal_id: int, queue: dict) -> int | None:
        """Queue length when it is known without a scan (from tallies), else None."""
        kind = queue.get("kind", "all")
        c = self.counts(goal_id)
        if kind == "all":
            return c.total
        if kind == "undecided":
            return c.undecided
        if kind == "kept":
            return c.kept
        if kind == "dropped":
            return c.dropped
        if kind == "reason":
            return c.by_reason.get(queue.get("value", ""), 0)
        if kind == "tag":
            return c.by_tag.get(queue.get("value", ""), 0)
        return None


# Analysis modules register further queues here: kind -> fn(store, goal_id, queue, after, forward).
QUEUE_EXTENSIONS: dict[str, Callable[[Store, int, dict, int, bool], int | None]] = {}
