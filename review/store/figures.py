"""Figures read from the derived state: counts by verdict, reason and tag, decision times, lengths."""

from __future__ import annotations

from ..model import Counts
from .samples import SampleRepo


class FigureRepo(SampleRepo):
    """Reads of `tallies`, `actions` and `decisions` for the figures."""

    def counts(self, goal_id: int) -> Counts:
        kept = dropped = 0
        by_reason: dict[str, int] = {}
        by_tag: dict[str, int] = {}
        for kind, key, n in self.conn.execute(
            "SELECT kind, key, n FROM tallies WHERE goal_id = ? AND n != 0 ORDER BY key", (goal_id,)
        ):
            if kind == "verdict":
                kept, dropped = (n, dropped) if key == "keep" else (kept, n)
            elif kind == "reason":
                by_reason[key] = n
            elif kind == "tag":
                by_tag[key] = n
        return Counts(self.total_samples(), kept, dropped, by_reason, by_tag)

    def all_tags(self, goal_id: int | None = None) -> list[str]:
        if goal_id is None:
            rows = self.conn.execute("SELECT DISTINCT key FROM tallies WHERE kind = 'tag' AND n > 0 ORDER BY key")
        else:
            rows = self.conn.execute(
                "SELECT key FROM tallies WHERE kind = 'tag' AND n > 0 AND goal_id = ? ORDER BY key", (goal_id,)
            )
        return [r[0] for r in rows]

    def decided_times(self, goal_id: int, limit: int = 5000) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT at FROM actions WHERE goal_id = ? AND kind IN ('keep', 'drop', 'batch') AND undone = 0"
                " ORDER BY id DESC LIMIT ?",
                (goal_id, limit),
            )
        ]

    def lengths_by_verdict(self, goal_id: int, limit: int = 100_000) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {"keep": [], "drop": []}
        for verdict, n in self.conn.execute(
            "SELECT d.verdict, s.answer_chars FROM decisions d JOIN samples s ON s.id = d.sample_id"
            " WHERE d.goal_id = ? AND d.verdict IS NOT NULL LIMIT ?",
            (goal_id, limit),
        ):
            out[verdict].append(n)
        return out
