"""Goals: creating, reading and choosing them, the write check against an archived or changed
goal, and where each goal's review stands (`goal_state`)."""

from __future__ import annotations

import json
import re

from ..keyset import rank_step
from ..model import Goal, Queue
from .connection import StoreBase, chunks, now
from .errors import GoalArchived, GoalChanged, GoalError, ProjectError

_SENTENCE_END = re.compile(r"[.!?。！？](?:\s+|$)(?=\S)")


def check_goal_sentence(sentence: str) -> tuple[str, list[str]]:
    """Normalise a goal sentence; raise GoalError when empty, return warnings otherwise."""
    s = " ".join(sentence.split())
    if not s:
        raise GoalError("a goal is one sentence saying what this batch should teach — it cannot be empty")
    warnings = []
    if len(_SENTENCE_END.findall(s)) >= 1:
        warnings.append("this reads like several sentences; a goal you can say in one sentence is easier to check")
    return s, warnings


class GoalRepo(StoreBase):
    """The `goals`, `goal_revisions` (created), `goal_state` and goal relevance
    (`goal_relevance`, `goal_relevance_runs`: review/relevance.py) tables."""

    def add_goal(self, sentence: str, hypothesis: str = "") -> tuple[Goal, list[str]]:
        s, warnings = check_goal_sentence(sentence)
        with self.tx() as conn:
            cur = conn.execute(
                "INSERT INTO goals (sentence, hypothesis, created_at) VALUES (?, ?, ?)", (s, hypothesis, now())
            )
            gid = int(cur.lastrowid or 0)
            conn.execute("INSERT INTO goal_state (goal_id, cursor, updated_at) VALUES (?, NULL, ?)", (gid, now()))
            conn.execute(
                "INSERT INTO goal_revisions (goal_id, sentence, hypothesis, at, log_position, note)"
                " VALUES (?, ?, ?, ?, 0, 'created')",
                (gid, s, hypothesis, now()),
            )
            self._meta_set("active_goal", str(gid))
        return self.goal(gid), warnings

    _GOAL_COLS = "id, sentence, hypothesis, created_at, archived_at, revision"

    def goals(self, *, include_archived: bool = False) -> list[Goal]:
        where = "" if include_archived else " WHERE archived_at IS NULL"
        return [self._goal(r) for r in self.conn.execute(f"SELECT {self._GOAL_COLS} FROM goals{where} ORDER BY id")]

    def goal(self, goal_id: int) -> Goal:
        r = self.conn.execute(f"SELECT {self._GOAL_COLS} FROM goals WHERE id = ?", (goal_id,)).fetchone()
        if not r:
            raise ProjectError(f"{self.path}: no goal #{goal_id} — list goals with `winnow goal list`")
        return self._goal(r)

    @staticmethod
    def _goal(r: tuple) -> Goal:
        return Goal(r[0], r[1], r[2], r[3], r[4] is not None, r[5])

    def _check_goal(self, goal_id: int, revision: int | None) -> None:
        """Inside a write transaction: refuse (GoalArchived / GoalChanged, rolling it back) a write
        into an archived goal, or under a goal whose revision is no longer the one the writer read.
        The write lock is held, so no other process can change the goal between this and COMMIT."""
        r = self.conn.execute("SELECT archived_at, revision FROM goals WHERE id = ?", (goal_id,)).fetchone()
        if r is None:
            raise ProjectError(
                f"{self.path}: no goal #{goal_id} — nothing was written; list goals with `winnow goal list`"
            )
        if r[0] is not None:
            raise GoalArchived(self.path, self.goal(goal_id))
        if revision is not None and r[1] != revision:
            raise GoalChanged(self.path, self.goal(goal_id))

    def active_goal(self) -> Goal | None:
        v = self._meta_get("active_goal")
        return self.goal(int(v)) if v else None

    def use_goal(self, goal_id: int) -> Goal:
        g = self.goal(goal_id)
        self.set_meta("active_goal", str(g.id))
        return g

    def find_goal(self, ref: str) -> Goal:
        """A goal by number (`2`, `#2`) or by a unique piece of its sentence."""
        ref = ref.strip()
        if ref.lstrip("#").isdigit():
            return self.goal(int(ref.lstrip("#")))
        hits = [g for g in self.goals(include_archived=True) if ref.casefold() in g.sentence.casefold()]
        if len(hits) == 1:
            return hits[0]
        if not hits:
            raise ProjectError(f"no goal matches {ref!r} — list goals with `winnow goal list`")
        raise ProjectError(f"{len(hits)} goals match {ref!r} — give the goal's number (see `winnow goal list`)")

    def log_position(self) -> int:
        """Id of the newest action: a goal's wording takes effect at a log position, and an export
        names it so a run traces to exact decisions."""
        r = self.conn.execute("SELECT max(id) FROM actions").fetchone()
        return r[0] or 0

    # ------------------------------------------------------------------ wordings, archive

    def goal_revisions(self, goal_id: int) -> list[tuple[str, str, str, int, str]]:
        """(sentence, hypothesis, at, log_position, note) of every wording the goal has had, oldest first."""
        return self.conn.execute(
            "SELECT sentence, hypothesis, at, log_position, note FROM goal_revisions WHERE goal_id = ? ORDER BY id",
            (goal_id,),
        ).fetchall()

    def reword_goal(self, goal_id: int, sentence: str, hypothesis: str) -> None:
        """A new wording (sentence, hypothesis) for the goal, taking effect at the current log
        position; the old one stays in `goal_revisions`."""
        with self.tx() as conn:
            # revision + 1: a review screen open on this goal elsewhere refuses its next write (GoalChanged).
            conn.execute(
                "UPDATE goals SET sentence = ?, hypothesis = ?, revision = revision + 1 WHERE id = ?",
                (sentence, hypothesis, goal_id),
            )
            conn.execute(
                "INSERT INTO goal_revisions (goal_id, sentence, hypothesis, at, log_position, note)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (goal_id, sentence, hypothesis, now(), self.log_position(), "edited"),
            )

    def archive_goal(self, goal_id: int, archived: bool = True) -> Goal:
        """Archive (or restore) a goal, bumping its revision; archiving the active goal makes the
        newest other unarchived goal active (or none)."""
        with self.tx() as conn:
            conn.execute(
                "UPDATE goals SET archived_at = ?, revision = revision + 1 WHERE id = ?",
                (now() if archived else None, goal_id),
            )
            active = self.meta("active_goal")
            if archived and active == str(goal_id):
                others = [g for g in self.goals() if g.id != goal_id]
                conn.execute("DELETE FROM meta WHERE key = 'active_goal'")
                if others:
                    conn.execute("INSERT INTO meta (key, value) VALUES ('active_goal', ?)", (str(others[-1].id),))
        return self.goal(goal_id)

    def restate_goal(self, goal_id: int, note: str) -> None:
        """Every wording of the goal takes effect at the current log position (a forked draft:
        the decisions copied into it all need re-review)."""
        with self.tx() as conn:
            conn.execute(
                "UPDATE goal_revisions SET log_position = ?, note = ? WHERE goal_id = ?",
                (self.log_position(), note, goal_id),
            )

    def rereview_step(self, goal_id: int, after: int, *, forward: bool = True) -> int | None:
        """The next (or previous) decided sample after/before `after` whose last effective keep or
        drop predates the goal's current wording; None when the goal was never reworded."""
        op, order = (">", "ASC") if forward else ("<", "DESC")
        row = self.conn.execute("SELECT max(log_position) FROM goal_revisions WHERE goal_id = ?", (goal_id,)).fetchone()
        since = row[0] or 0
        if since == 0:
            return None
        r = self.conn.execute(
            f"SELECT d.sample_id FROM decisions d WHERE d.goal_id = ? AND d.verdict IS NOT NULL AND d.sample_id {op} ?"
            " AND NOT EXISTS (SELECT 1 FROM events e JOIN actions a ON a.id = e.action_id"
            "   WHERE e.goal_id = d.goal_id AND e.sample_id = d.sample_id AND e.action_id > ? AND a.undone = 0"
            "   AND e.kind IN ('keep', 'drop'))"
            f" ORDER BY d.sample_id {order} LIMIT 1",
            (goal_id, after, since),
        ).fetchone()
        return r[0] if r else None

    # ------------------------------------------------------------------ where the review stands

    def goal_state(self, goal_id: int) -> tuple[int | None, Queue]:
        """The saved cursor and queue (stored as {"kind": K[, "value": V]}, see Queue.to_json)."""
        r = self.conn.execute("SELECT cursor, queue FROM goal_state WHERE goal_id = ?", (goal_id,)).fetchone()
        if not r:
            return None, Queue("all")
        return r[0], Queue.from_json(json.loads(r[1]))

    def save_goal_state(self, goal_id: int, cursor: int | None, queue: Queue) -> None:
        """Where the review stands. Committed without waiting for fsync (synchronous=NORMAL for
        this one transaction): it survives the process being killed, since the WAL is in the
        OS's hands, and the next decision's fsync makes it durable on disk too. Moving the cursor
        is the most frequent write and the fsync (~4 ms) was most of a keypress's cost."""
        with self.tx(durable=False) as conn:
            conn.execute(
                "INSERT INTO goal_state (goal_id, cursor, queue, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(goal_id) DO UPDATE SET cursor = excluded.cursor, queue = excluded.queue,"
                " updated_at = excluded.updated_at",
                (goal_id, cursor, json.dumps(queue.to_json(), ensure_ascii=False), now()),
            )

    # ------------------------------------------------------------------ relevance to the goal

    def kept_ids(self, goal_id: int) -> list[int]:
        """Every sample kept under the goal, by id."""
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT sample_id FROM decisions WHERE goal_id = ? AND verdict = 'keep' ORDER BY sample_id", (goal_id,)
            )
        ]

    def replace_relevance(
        self, goal_id: int, rows: list[tuple[int, int, float, float, float | None, bool]], run: dict
    ) -> None:
        """The goal's relevance scores, all at once: rows (sample_id, rank, score, goal_sim,
        kept_sim, flagged) replace the previous scoring, and `run` (revision, sentence, model_id,
        kept, figures) records what they were scored against. One transaction: a reader sees the
        old scoring or the new one, never a mix."""
        with self.tx() as conn:
            conn.execute("DELETE FROM goal_relevance WHERE goal_id = ?", (goal_id,))
            for part in chunks(rows, 5000):
                conn.executemany(
                    "INSERT INTO goal_relevance (goal_id, sample_id, rank, score, goal_sim, kept_sim, flagged)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(goal_id, sid, rank, sc, g, k, int(f)) for sid, rank, sc, g, k, f in part],
                )
            conn.execute(
                "INSERT OR REPLACE INTO goal_relevance_runs"
                " (goal_id, revision, sentence, model_id, kept, scored, flagged, figures, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    goal_id,
                    run["revision"],
                    run["sentence"],
                    run["model_id"],
                    run["kept"],
                    len(rows),
                    sum(1 for r in rows if r[5]),
                    json.dumps(run.get("figures", {}), ensure_ascii=False),
                    now(),
                ),
            )

    def relevance_of(self, goal_id: int, sample_id: int) -> tuple[int, float, float, float | None, bool] | None:
        """(rank, score, goal_sim, kept_sim, flagged) of one sample under the goal; None: not scored.
        One primary-key lookup (the review screen asks on every sample it shows)."""
        r = self.conn.execute(
            "SELECT rank, score, goal_sim, kept_sim, flagged FROM goal_relevance WHERE goal_id = ? AND sample_id = ?",
            (goal_id, sample_id),
        ).fetchone()
        return None if r is None else (r[0], r[1], r[2], r[3], bool(r[4]))

    def relevance_run(self, goal_id: int) -> dict | None:
        """The goal's latest scoring: revision, sentence, model_id, kept, scored, flagged, figures, at."""
        r = self.conn.execute(
            "SELECT revision, sentence, model_id, kept, scored, flagged, figures, at"
            " FROM goal_relevance_runs WHERE goal_id = ?",
            (goal_id,),
        ).fetchone()
        if r is None:
            return None
        keys = ("revision", "sentence", "model_id", "kept", "scored", "flagged", "figures", "at")
        run = dict(zip(keys, r, strict=True))
        run["figures"] = json.loads(run["figures"] or "{}")
        return run

    def relevance_step(self, goal_id: int, after: int, *, forward: bool, undecided_only: bool) -> int | None:
        """The next (previous) scored sample by rank, most off-goal first (keyset, never a scan)."""
        return rank_step(
            self.conn,
            "goal_relevance",
            goal_id,
            after,
            forward,
            undecided_only=undecided_only,
            where="q.goal_id = ?",
            args=(goal_id,),
        )
