"""One keyset step through a ranked queue table (part of the store layer; standard library only).

The analysis and style stores keep their queues as tables of (rank, sample_id[, kind]): the
"duplicates" queue in `dup_queue`, the style queues in `style_queue`. Stepping one is the same
query for both: find the rank of the sample the cursor is on, then the next (or previous) rank,
optionally skipping samples already decided under the goal. Never a scan of the whole table.
"""

from __future__ import annotations

import sqlite3

_UNDECIDED = (
    " AND NOT EXISTS (SELECT 1 FROM decisions d WHERE d.goal_id = ? AND d.sample_id = q.sample_id"
    " AND d.verdict IS NOT NULL)"
)


def rank_step(
    conn: sqlite3.Connection,
    table: str,
    goal_id: int,
    after: int,
    forward: bool,
    *,
    undecided_only: bool,
    where: str = "",
    args: tuple = (),
    resume_past: bool = False,
) -> int | None:
    """The sample after (or before) sample `after` in `table` by rank, or None at the queue's end.

    `table` is aliased `q`; `where` (with its `args`) narrows it, e.g. ``q.kind = ?``. When the
    cursor is not in the queue a forward step starts at the queue's head, or, with `resume_past`,
    at the first queued sample whose id is past the cursor (else the head); a backward step
    from outside the queue finds nothing.
    """
    narrow = f" AND {where}" if where else ""
    skip = _UNDECIDED if undecided_only else ""
    extra: tuple = (goal_id,) if undecided_only else ()
    r = conn.execute(f"SELECT q.rank FROM {table} q WHERE q.sample_id = ?{narrow}", (after, *args)).fetchone()
    if r is None:
        if not forward:
            return None
        row = None
        if resume_past:
            row = conn.execute(
                f"SELECT q.sample_id FROM {table} q WHERE q.sample_id > ?{narrow}{skip} ORDER BY q.rank LIMIT 1",
                (after, *args, *extra),
            ).fetchone()
        row = (
            row
            or conn.execute(
                f"SELECT q.sample_id FROM {table} q WHERE 1{narrow}{skip} ORDER BY q.rank LIMIT 1", (*args, *extra)
            ).fetchone()
        )
        return row[0] if row else None
    op, order = (">", "ASC") if forward else ("<", "DESC")
    row = conn.execute(
        f"SELECT q.sample_id FROM {table} q WHERE q.rank {op} ?{narrow}{skip} ORDER BY q.rank {order} LIMIT 1",
        (r[0], *args, *extra),
    ).fetchone()
    return row[0] if row else None
