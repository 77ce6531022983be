"""The decision log: actions and their events (append-only), undo/redo, and the state derived
from them (`decisions`, `decision_tags`, `tallies`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from ..model import DEFAULT_REASON, REASONS, UNDECIDED, Decision
from .connection import now
from .errors import ProjectError
from .goals import GoalRepo
from .samples import SampleRepo


def stored_tags(stored: object) -> tuple[str, ...] | None:
    """A decision's tags column (a JSON list of strings) as a tuple; None when it is anything else,
    which only a project file changed outside winnow can hold. The caller names the sample."""
    try:
        tags = json.loads(stored) if isinstance(stored, str) else None
    except ValueError:
        return None
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return None
    return tuple(tags)


@dataclass(frozen=True)
class Change:
    """One per-sample change inside an action."""

    sample_id: int
    kind: str  # keep | drop | clear | tag | untag | note
    reason: str | None = None
    value: str | None = None


EVENT_KINDS = ("keep", "drop", "clear", "tag", "untag", "note")


def apply_change(d: Decision, c: Change) -> Decision:
    """The one place that says what an event does to a sample's state (also used by replay)."""
    if c.kind == "keep":
        return Decision("keep", None, d.note, d.tags)
    if c.kind == "drop":
        return Decision("drop", c.reason or DEFAULT_REASON, d.note, d.tags)
    if c.kind == "clear":
        return Decision(None, None, d.note, d.tags)
    if c.kind == "tag":
        return Decision(d.verdict, d.reason, d.note, tuple(sorted(set(d.tags) | {c.value or ""})))
    if c.kind == "untag":
        return Decision(d.verdict, d.reason, d.note, tuple(t for t in d.tags if t != c.value))
    if c.kind == "note":
        return Decision(d.verdict, d.reason, c.value or "", d.tags)
    raise ValueError(f"unknown event kind {c.kind!r}")


class DecisionRepo(GoalRepo, SampleRepo):
    """The `actions`, `events`, `decisions`, `decision_tags` and `tallies` tables."""

    def _tags(self, stored: object, sample_id: int) -> tuple[str, ...]:
        """A decision's tags as stored; damaged ones are refused by the sample instead of a traceback."""
        tags = stored_tags(stored)
        if tags is None:
            raise ProjectError(
                f"{self.path}: sample #{sample_id} has damaged tags ({str(stored)[:40]!r}) — this project file "
                "was changed outside winnow; re-import the source into a fresh project"
            )
        return tags

    def decision(self, goal_id: int, sample_id: int) -> Decision:
        r = self.conn.execute(
            "SELECT verdict, reason, note, tags FROM decisions WHERE goal_id = ? AND sample_id = ?",
            (goal_id, sample_id),
        ).fetchone()
        return Decision(r[0], r[1], r[2], self._tags(r[3], sample_id)) if r else UNDECIDED

    def apply(
        self, goal_id: int, changes: Sequence[Change], *, kind: str | None = None, revision: int | None = None
    ) -> int:
        """Append one action (one undo step) with its events; update derived state. Returns action id.

        Refused, with nothing written, into an archived goal (GoalArchived) and, given the goal's
        `revision` as the caller read it, when the goal has changed since (GoalChanged)."""
        if not changes:
            raise ValueError("an action needs at least one change")
        for c in changes:
            if c.kind not in EVENT_KINDS:
                raise ValueError(f"unknown event kind {c.kind!r}")
            if c.kind == "drop" and c.reason is not None and c.reason not in REASONS:
                raise ValueError(f"unknown drop reason {c.reason!r}; use one of {', '.join(REASONS)}")
            if c.kind in ("tag", "untag") and not (c.value or "").strip():
                raise ValueError("a tag cannot be empty")
        kind = kind or (changes[0].kind if len({c.kind for c in changes}) == 1 else "batch")
        t = now()
        with self.tx() as conn:
            self._check_goal(goal_id, revision)
            aid = int(
                conn.execute("INSERT INTO actions (goal_id, kind, at) VALUES (?, ?, ?)", (goal_id, kind, t)).lastrowid
                or 0
            )
            conn.executemany(
                "INSERT INTO events (action_id, goal_id, sample_id, kind, reason, value, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        aid,
                        goal_id,
                        c.sample_id,
                        c.kind,
                        (c.reason or DEFAULT_REASON) if c.kind == "drop" else None,
                        c.value,
                        t,
                    )
                    for c in changes
                ],
            )
            states: dict[int, Decision] = {}
            for c in changes:
                old = states.get(c.sample_id) or self.decision(goal_id, c.sample_id)
                states[c.sample_id] = apply_change(old, c)
            for sid, new in states.items():
                self._write_decision(goal_id, sid, new)
        return aid

    def _write_decision(self, goal_id: int, sample_id: int, new: Decision) -> None:
        old = self.decision(goal_id, sample_id)
        if old == new:
            return
        self.conn.execute(
            "INSERT INTO decisions (goal_id, sample_id, verdict, reason, note, tags) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(goal_id, sample_id) DO UPDATE SET verdict = excluded.verdict, reason = excluded.reason,"
            " note = excluded.note, tags = excluded.tags",
            (goal_id, sample_id, new.verdict, new.reason, new.note, json.dumps(list(new.tags), ensure_ascii=False)),
        )
        deltas: dict[tuple[str, str], int] = {}
        for d, sign in ((old, -1), (new, 1)):
            if d.verdict:
                deltas[("verdict", d.verdict)] = deltas.get(("verdict", d.verdict), 0) + sign
            if d.reason:
                deltas[("reason", d.reason)] = deltas.get(("reason", d.reason), 0) + sign
            for tg in d.tags:
                deltas[("tag", tg)] = deltas.get(("tag", tg), 0) + sign
        for (k, key), n in deltas.items():
            if n:
                self.conn.execute(
                    "INSERT INTO tallies (goal_id, kind, key, n) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT(goal_id, kind, key) DO UPDATE SET n = n + excluded.n",
                    (goal_id, k, key, n),
                )
        for tg in set(old.tags) - set(new.tags):
            self.conn.execute(
                "DELETE FROM decision_tags WHERE goal_id = ? AND tag = ? AND sample_id = ?", (goal_id, tg, sample_id)
            )
        for tg in set(new.tags) - set(old.tags):
            self.conn.execute(
                "INSERT OR IGNORE INTO decision_tags (goal_id, tag, sample_id) VALUES (?, ?, ?)",
                (goal_id, tg, sample_id),
            )

    def _replay(self, goal_id: int, sample_id: int) -> Decision:
        d = UNDECIDED
        for kind, reason, value in self.conn.execute(
            "SELECT e.kind, e.reason, e.value FROM events e JOIN actions a ON a.id = e.action_id"
            " WHERE e.goal_id = ? AND e.sample_id = ? AND a.undone = 0 ORDER BY e.id",
            (goal_id, sample_id),
        ):
            d = apply_change(d, Change(sample_id, kind, reason, value))
        return d

    def _touched(self, action_id: int) -> list[int]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT DISTINCT sample_id FROM events WHERE action_id = ? ORDER BY sample_id", (action_id,)
            )
        ]

    def _last_do(self, goal_id: int) -> int:
        r = self.conn.execute(
            "SELECT max(id) FROM actions WHERE goal_id = ? AND kind NOT IN ('undo', 'redo')", (goal_id,)
        ).fetchone()
        return r[0] or 0

    def undo_target(self, goal_id: int) -> int | None:
        r = self.conn.execute(
            "SELECT max(id) FROM actions WHERE goal_id = ? AND kind NOT IN ('undo', 'redo') AND undone = 0",
            (goal_id,),
        ).fetchone()
        return r[0]

    def redo_target(self, goal_id: int) -> int | None:
        # The redo stack: actions undone since the last new action, most recently undone first.
        r = self.conn.execute(
            "SELECT u.target FROM actions u JOIN actions t ON t.id = u.target"
            " WHERE u.goal_id = ? AND u.kind = 'undo' AND u.id > ? AND t.undone = 1 ORDER BY u.id DESC LIMIT 1",
            (goal_id, self._last_do(goal_id)),
        ).fetchone()
        return r[0] if r else None

    def undo(self, goal_id: int, *, revision: int | None = None) -> list[int]:
        """Undo the latest effective action of this goal. Returns the samples it touched ([] if none).
        Refused as apply() is, for an archived or changed goal."""
        return self._flip(goal_id, "undo", revision)

    def redo(self, goal_id: int, *, revision: int | None = None) -> list[int]:
        return self._flip(goal_id, "redo", revision)

    def _flip(self, goal_id: int, kind: str, revision: int | None = None) -> list[int]:
        with self.tx() as conn:
            self._check_goal(goal_id, revision)
            target = self.undo_target(goal_id) if kind == "undo" else self.redo_target(goal_id)
            if target is None:
                return []
            conn.execute(
                "INSERT INTO actions (goal_id, kind, target, at) VALUES (?, ?, ?, ?)", (goal_id, kind, target, now())
            )
            conn.execute("UPDATE actions SET undone = ? WHERE id = ?", (1 if kind == "undo" else 0, target))
            touched = self._touched(target)
            for sid in touched:
                self._write_decision(goal_id, sid, self._replay(goal_id, sid))
        return touched

    def action_before_last(self, goal_id: int, n: int) -> int:
        """Id of the goal's action (undo and redo aside) that preceded its last `n`; 0 if none did."""
        row = self.conn.execute(
            "SELECT id FROM actions WHERE goal_id = ? AND kind NOT IN ('undo', 'redo') ORDER BY id DESC LIMIT 1 OFFSET ?",
            (goal_id, n),
        ).fetchone()
        return row[0] if row else 0

    def rebuild_decisions(self, goal_id: int, upto: int | None = None) -> dict[int, Decision]:
        """Derive every sample's state for a goal from the log alone (undo/redo replayed from scratch).

        With `upto`, the state as it was when action `upto` was the newest (what an export at that
        log position contained). Also checks the materialised `decisions` table in tests.
        """
        limit = upto if upto is not None else 1 << 62
        undone: dict[int, bool] = {}
        for aid, kind, target in self.conn.execute(
            "SELECT id, kind, target FROM actions WHERE goal_id = ? AND id <= ? ORDER BY id", (goal_id, limit)
        ):
            if kind == "undo":
                undone[target] = True
            elif kind == "redo":
                undone[target] = False
            else:
                undone[aid] = False
        state: dict[int, Decision] = {}
        for aid, sid, kind, reason, value in self.conn.execute(
            "SELECT action_id, sample_id, kind, reason, value FROM events WHERE goal_id = ? AND action_id <= ?"
            " ORDER BY id",
            (goal_id, limit),
        ):
            if not undone.get(aid, True):
                state[sid] = apply_change(state.get(sid, UNDECIDED), Change(sid, kind, reason, value))
        return {k: v for k, v in state.items() if v != UNDECIDED}

    def materialised_decisions(self, goal_id: int) -> dict[int, Decision]:
        out = {}
        for sid, verdict, reason, note, tags in self.conn.execute(
            "SELECT sample_id, verdict, reason, note, tags FROM decisions WHERE goal_id = ?", (goal_id,)
        ):
            d = Decision(verdict, reason, note, self._tags(tags, sid))
            if d != UNDECIDED:
                out[sid] = d
        return out

    def history(self, goal_id: int, sample_id: int) -> list[tuple[str, str, str | None, str | None, bool]]:
        """(at, kind, reason, value, undone) for one sample under one goal, oldest first."""
        return [
            (at, kind, reason, value, bool(undone))
            for at, kind, reason, value, undone in self.conn.execute(
                "SELECT e.at, e.kind, e.reason, e.value, a.undone FROM events e JOIN actions a ON a.id = e.action_id"
                " WHERE e.goal_id = ? AND e.sample_id = ? ORDER BY e.id",
                (goal_id, sample_id),
            )
        ]
