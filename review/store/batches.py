"""Proposed batches (`batches`, `batch_items`): the candidates a batch is drawn from, a batch
recorded, and stepping through one. How a batch is chosen is review/batch.py's."""

from __future__ import annotations

import json
from collections.abc import Sequence

from .connection import StoreBase, now
from .samples import visible


class BatchRepo(StoreBase):
    """The `batches` and `batch_items` tables."""

    def batch_candidates(self, goal_id: int) -> list[tuple[int, int, str, int]]:
        """(sample id, source id, content hash, answer chars) of every sample not yet decided
        under the goal, in id order."""
        return self.conn.execute(
            "SELECT s.id, s.source_id, s.content_hash, s.answer_chars FROM samples s"
            f" WHERE {visible('s.id')} AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.goal_id = ? AND d.sample_id = s.id"
            " AND d.verdict IS NOT NULL) ORDER BY s.id",
            (goal_id,),
        ).fetchall()

    def add_batch(self, goal_id: int, seed: int, method: dict, picked: Sequence[tuple[int, str]]) -> int:
        """Record a batch, its (sample id, why) items in order, in one transaction; its id."""
        with self.tx() as conn:
            bid = int(
                conn.execute(
                    "INSERT INTO batches (goal_id, size, seed, method, created_at) VALUES (?, ?, ?, ?, ?)",
                    (goal_id, len(picked), seed, json.dumps(method), now()),
                ).lastrowid
                or 0
            )
            conn.executemany(
                "INSERT INTO batch_items (batch_id, pos, sample_id, why) VALUES (?, ?, ?, ?)",
                [(bid, i, sid, why) for i, (sid, why) in enumerate(picked)],
            )
        return bid

    def latest_batch(self, goal_id: int) -> int | None:
        r = self.conn.execute("SELECT max(id) FROM batches WHERE goal_id = ?", (goal_id,)).fetchone()
        return r[0]

    def batch_step(self, batch_id: int | str, after: int, *, forward: bool = True) -> int | None:
        """The batch's next (or previous) sample in the order proposed, from the position of
        sample `after` in it (from its start, or end, when `after` is not in the batch). A batch
        id given as text (a queue's value) compares as its number, by SQLite's column affinity."""
        r = self.conn.execute(
            "SELECT pos FROM batch_items WHERE batch_id = ? AND sample_id = ?", (batch_id, after)
        ).fetchone()
        if r is None:
            pos = -1 if forward else 1 << 62
        else:
            pos = r[0]
        op, order = (">", "ASC") if forward else ("<", "DESC")
        r = self.conn.execute(
            f"SELECT sample_id FROM batch_items WHERE batch_id = ? AND pos {op} ? ORDER BY pos {order} LIMIT 1",
            (batch_id, pos),
        ).fetchone()
        return r[0] if r else None

    def batch_progress(self, goal_id: int, batch_id: int) -> tuple[int, int]:
        """(decided, size) of a batch under its goal."""
        size, decided = self.conn.execute(
            "SELECT count(*), count(d.verdict) FROM batch_items b LEFT JOIN decisions d"
            " ON d.goal_id = ? AND d.sample_id = b.sample_id WHERE b.batch_id = ?",
            (goal_id, batch_id),
        ).fetchone()
        return decided, size
