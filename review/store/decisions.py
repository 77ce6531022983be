"""The decision log: actions and their events (append-only), undo/redo, and the state derived
from them (`decisions`, `decision_tags`, `tallies`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from ..model import DEFAULT_REASON, REASONS, UNDECIDED, Decision
from .connection import now
from .errors import ProjectError
from .goals import GoalRepo
from .samples import SampleRepo


def stored_tags(stored: object) -> tuple[str, ...] | None:
    """A decision's tags column (a JSON list of strings) as a tuple; None when it is anything else,
    which only a project file changed outside winnow can hold. The caller names the sample."""
    return _parse_tags(stored) if isinstance(stored, str) else None


@lru_cache(maxsize=4096)
def _parse_tags(stored: str) -> tuple[str, ...] | None:
    # Cached: a project has few distinct tag sets, and a bulk step reads 100,000 of them.
    try:
        tags = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        return None
    return tuple(tags)


@lru_cache(maxsize=4096)
def tags_json(tags: tuple[str, ...]) -> str:
    """The tags column for a decision's tags (cached like _parse_tags)."""
    return json.dumps(list(tags), ensure_ascii=False)


@dataclass(frozen=True)
class Change:
    """One per-sample change inside an action."""

    sample_id: int
    kind: str  # keep | drop | clear | tag | untag | note | swap | flip | both-bad
    reason: str | None = None
    value: str | None = None


@dataclass(frozen=True)
class Flip:
    """What one undo or redo did: the action it flipped (None: there was nothing to flip), that
    action's kind and detail, and the samples it touched (ascending)."""

    kind: str  # undo | redo
    action: int | None
    action_kind: str | None
    detail: dict | None
    touched: list[int]


EVENT_KINDS = ("keep", "drop", "clear", "tag", "untag", "note", "swap", "flip", "both-bad")
# Preference decisions (issue 15) are verdicts too (the latest verdict event wins, as keep/drop/
# clear): the event kind, the verdict it gives and the `pref` it records. Un-swapping is a keep.
PREF_EVENTS = {"swap": ("keep", "swapped"), "flip": ("keep", "flipped"), "both-bad": ("drop", "both-bad")}
VERDICT_EVENTS = ("keep", "drop", "clear", *PREF_EVENTS)
VERDICTS = ("keep", "drop")  # what a decision's verdict column holds besides NULL


def apply_change(d: Decision, c: Change) -> Decision:
    """The one place that says what an event does to a sample's state (also used by replay)."""
    if c.kind == "keep":
        return Decision("keep", None, d.note, d.tags)
    if c.kind == "drop":
        return Decision("drop", c.reason or DEFAULT_REASON, d.note, d.tags)
    if c.kind == "clear":
        return Decision(None, None, d.note, d.tags)
    if c.kind in PREF_EVENTS:
        verdict, pref = PREF_EVENTS[c.kind]
        return Decision(verdict, (c.reason or DEFAULT_REASON) if verdict == "drop" else None, d.note, d.tags, pref)
    if c.kind == "tag":
        return Decision(d.verdict, d.reason, d.note, tuple(sorted(set(d.tags) | {c.value or ""})), d.pref)
    if c.kind == "untag":
        return Decision(d.verdict, d.reason, d.note, tuple(t for t in d.tags if t != c.value), d.pref)
    if c.kind == "note":
        return Decision(d.verdict, d.reason, c.value or "", d.tags, d.pref)
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
            "SELECT verdict, reason, note, tags, pref FROM decisions WHERE goal_id = ? AND sample_id = ?",
            (goal_id, sample_id),
        ).fetchone()
        return Decision(r[0], r[1], r[2], self._tags(r[3], sample_id), r[4]) if r else UNDECIDED

    def decisions_of(self, goal_id: int, sample_ids: Sequence[int]) -> dict[int, Decision]:
        """The current decision of each of these samples that has a row (one query, any number)."""
        out: dict[int, Decision] = {}
        for sid, verdict, reason, note, tags, pref in self.conn.execute(
            "SELECT sample_id, verdict, reason, note, tags, pref FROM decisions WHERE goal_id = ?"
            " AND sample_id IN (SELECT value FROM json_each(?))",
            (goal_id, json.dumps(list(sample_ids))),
        ):
            out[sid] = Decision(verdict, reason, note, self._tags(tags, sid), pref)
        return out

    def apply(
        self,
        goal_id: int,
        changes: Sequence[Change],
        *,
        kind: str | None = None,
        revision: int | None = None,
        detail: dict | None = None,
    ) -> int:
        """Append one action (one undo step) with its events; update derived state. Returns action id.

        Any number of changes is one transaction of a fixed number of statements (executemany),
        so a bulk decision of 100,000 samples is one action that one undo reverts. `detail`
        (JSON) says what a bulk action selected, for `winnow undo` and the audit.

        Refused, with nothing written, into an archived goal (GoalArchived) and, given the goal's
        `revision` as the caller read it, when the goal has changed since (GoalChanged)."""
        if not changes:
            raise ValueError("an action needs at least one change")
        kinds = set()
        for c in changes:
            kinds.add(c.kind)
            if c.kind not in EVENT_KINDS:
                raise ValueError(f"unknown event kind {c.kind!r}")
            if c.kind in ("drop", "both-bad") and c.reason is not None and c.reason not in REASONS:
                raise ValueError(f"unknown drop reason {c.reason!r}; use one of {', '.join(REASONS)}")
            if c.kind in ("tag", "untag") and not (c.value or "").strip():
                raise ValueError("a tag cannot be empty")
        kind = kind or (changes[0].kind if len(kinds) == 1 else "batch")
        t = now()
        with self.tx() as conn:
            self._check_goal(goal_id, revision)
            aid = int(
                conn.execute(
                    "INSERT INTO actions (goal_id, kind, at, detail) VALUES (?, ?, ?, ?)",
                    (goal_id, kind, t, json.dumps(detail, ensure_ascii=False) if detail is not None else None),
                ).lastrowid
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
                        (c.reason or DEFAULT_REASON) if c.kind in ("drop", "both-bad") else None,
                        c.value,
                        t,
                    )
                    for c in changes
                ],
            )
            olds = self.decisions_of(goal_id, list(dict.fromkeys(c.sample_id for c in changes)))
            states: dict[int, Decision] = {}
            for c in changes:
                old = states.get(c.sample_id) or olds.get(c.sample_id, UNDECIDED)
                states[c.sample_id] = apply_change(old, c)
            self._write_decisions(goal_id, olds, states)
        return aid

    def apply_bulk(
        self,
        goal_id: int,
        sample_ids: Sequence[int],
        verdict: str,
        *,
        reason: str | None = None,
        tags: Sequence[str] = (),
        note: str | None = None,
        revision: int | None = None,
        detail: dict | None = None,
    ) -> int:
        """One action deciding every one of `sample_ids` (distinct) the same way, with the same
        tags and note: the events and apply()'s state, written set-wise in SQL (a fixed number of
        statements, no Python per sample), so 100,000 samples cost about what writing their rows
        costs. The state it writes is apply_change's, event by event (verdict, then each tag, then
        the note); tests/test_decide.py checks it against a replay of the log. Returns the action id;
        refused as apply() is."""
        if verdict not in ("keep", "drop"):
            raise ValueError(f"a bulk decision is keep or drop, not {verdict!r}")
        sample_ids = list(dict.fromkeys(sample_ids))  # each once: the tallies count samples
        if not sample_ids:
            raise ValueError("an action needs at least one change")
        reason = (reason or DEFAULT_REASON) if verdict == "drop" else None
        if reason is not None and reason not in REASONS:
            raise ValueError(f"unknown drop reason {reason!r}; use one of {', '.join(REASONS)}")
        tags = tuple(dict.fromkeys(tags))
        if any(not t.strip() for t in tags):
            raise ValueError("a tag cannot be empty")
        ids = json.dumps(list(sample_ids))
        t = now()
        with self.tx() as conn:
            self._check_goal(goal_id, revision)
            aid = int(
                conn.execute(
                    "INSERT INTO actions (goal_id, kind, at, detail) VALUES (?, 'bulk', ?, ?)",
                    (goal_id, t, json.dumps(detail, ensure_ascii=False) if detail is not None else None),
                ).lastrowid
                or 0
            )
            # The ids drive the join (CROSS JOIN keeps them outer: each is one primary-key lookup).
            old = self._verdict_counts(
                "FROM json_each(?) j CROSS JOIN decisions d ON d.goal_id = ? AND d.sample_id = j.value", (ids, goal_id)
            )
            events = [(verdict, reason, None)] + [("tag", None, tg) for tg in tags]
            if note is not None:
                events.append(("note", None, note))
            for kind, why, value in events:  # per sample the events' ids run verdict, tags, note
                conn.execute(
                    "INSERT INTO events (action_id, goal_id, sample_id, kind, reason, value, at)"
                    " SELECT ?, ?, value, ?, ?, ?, ? FROM json_each(?)",
                    (aid, goal_id, kind, why, value, t, ids),
                )
            new_tags = json.dumps(sorted(tags), ensure_ascii=False)
            # A sample with no tags, or with exactly these, gets these as they are; only one with
            # others has the two lists merged (a subquery per sample, most of this statement's time).
            merged = (
                "CASE WHEN decisions.tags IN ('[]', excluded.tags) THEN excluded.tags ELSE"
                " replace((SELECT json_group_array(value) FROM (SELECT value FROM json_each(decisions.tags)"
                " UNION SELECT value FROM json_each(?) ORDER BY 1)), '\",\"', '\", \"') END"
            )
            conn.execute(
                "INSERT INTO decisions (goal_id, sample_id, verdict, reason, note, tags)"
                " SELECT ?, value, ?, ?, ?, ? FROM json_each(?) WHERE true"
                " ON CONFLICT(goal_id, sample_id) DO UPDATE SET verdict = excluded.verdict, reason = excluded.reason,"
                " pref = ''"
                + (", note = excluded.note" if note is not None else "")
                + (f", tags = {merged}" if tags else ""),
                (goal_id, verdict, reason, note or "", tags_json(tuple(sorted(tags))), ids)
                + ((new_tags,) if tags else ()),
            )
            deltas: dict[tuple[str, str], int] = {("verdict", verdict): len(sample_ids)}
            if reason:
                deltas[("reason", reason)] = len(sample_ids)
            for key, n in old.items():
                deltas[key] = deltas.get(key, 0) - n
            for tg in tags:
                before = conn.total_changes
                conn.execute(
                    "INSERT OR IGNORE INTO decision_tags (goal_id, tag, sample_id) SELECT ?, ?, value FROM json_each(?)",
                    (goal_id, tg, ids),
                )
                deltas[("tag", tg)] = conn.total_changes - before
            conn.executemany(
                "INSERT INTO tallies (goal_id, kind, key, n) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(goal_id, kind, key) DO UPDATE SET n = n + excluded.n",
                [(goal_id, k, key, n) for (k, key), n in deltas.items() if n],
            )
        return aid

    def _write_decisions(self, goal_id: int, olds: dict[int, Decision], news: dict[int, Decision]) -> None:
        """Set the derived state of samples from `olds` (as the table holds them; absent:
        undecided) to `news`: decisions, decision_tags and the tallies, each in one executemany."""
        upserts = []
        tag_gone: list[tuple[int, str, int]] = []
        tag_new: list[tuple[int, str, int]] = []
        deltas: dict[tuple[str, str], int] = {}
        for sid, new in news.items():
            old = olds.get(sid, UNDECIDED)
            if old == new:
                continue
            upserts.append((goal_id, sid, new.verdict, new.reason, new.note, tags_json(new.tags), new.pref))
            for d, sign in ((old, -1), (new, 1)):
                if d.verdict:
                    deltas[("verdict", d.verdict)] = deltas.get(("verdict", d.verdict), 0) + sign
                if d.reason:
                    deltas[("reason", d.reason)] = deltas.get(("reason", d.reason), 0) + sign
                for tg in d.tags:
                    deltas[("tag", tg)] = deltas.get(("tag", tg), 0) + sign
            if old.tags != new.tags:
                tag_gone += [(goal_id, tg, sid) for tg in set(old.tags) - set(new.tags)]
                tag_new += [(goal_id, tg, sid) for tg in set(new.tags) - set(old.tags)]
        if not upserts:
            return
        self.conn.executemany(
            "INSERT INTO decisions (goal_id, sample_id, verdict, reason, note, tags, pref) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT(goal_id, sample_id) DO UPDATE SET verdict = excluded.verdict, reason = excluded.reason,"
            " note = excluded.note, tags = excluded.tags, pref = excluded.pref",
            upserts,
        )
        self.conn.executemany(
            "INSERT INTO tallies (goal_id, kind, key, n) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(goal_id, kind, key) DO UPDATE SET n = n + excluded.n",
            [(goal_id, k, key, n) for (k, key), n in deltas.items() if n],
        )
        if tag_gone:
            self.conn.executemany("DELETE FROM decision_tags WHERE goal_id = ? AND tag = ? AND sample_id = ?", tag_gone)
        if tag_new:
            self.conn.executemany(
                "INSERT OR IGNORE INTO decision_tags (goal_id, tag, sample_id) VALUES (?, ?, ?)", tag_new
            )

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
        return self.flip(goal_id, "undo", revision=revision).touched

    def redo(self, goal_id: int, *, revision: int | None = None) -> list[int]:
        return self.flip(goal_id, "redo", revision=revision).touched

    def flip(self, goal_id: int, kind: str, *, revision: int | None = None) -> Flip:
        """Undo (or redo) one action, as one transaction of a fixed number of statements however
        many samples it touched; what it was is returned (`Flip.action` None: nothing to flip)."""
        if kind not in ("undo", "redo"):
            raise ValueError(f"flip is undo or redo, not {kind!r}")
        with self.tx() as conn:
            self._check_goal(goal_id, revision)
            target = self.undo_target(goal_id) if kind == "undo" else self.redo_target(goal_id)
            if target is None:
                return Flip(kind, None, None, None, [])
            info = self.action_info(target)
            conn.execute(
                "INSERT INTO actions (goal_id, kind, target, at) VALUES (?, ?, ?, ?)", (goal_id, kind, target, now())
            )
            conn.execute("UPDATE actions SET undone = ? WHERE id = ?", (1 if kind == "undo" else 0, target))
            touched = self._restate(goal_id, target)
        return Flip(kind, target, info[0] if info else None, info[1] if info else None, touched)

    def _restate(self, goal_id: int, action_id: int) -> list[int]:
        """Re-derive, from the log, the state of every sample an action touched (after its
        `undone` flag changed); returns those samples (ascending). Set-wise, a fixed number of
        statements however many samples: one pass over the touched samples' live events folds
        each into its new state (a temporary table, beside the state it replaces); only the rows
        that change are written, and the tallies move by the difference of those rows' counts
        before and after."""
        conn = self.conn
        args = {"goal": goal_id, "action": action_id}
        # Temporary tables are this connection's own and go with it.
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS restate_ids (sample_id INTEGER PRIMARY KEY)")
        conn.execute(
            "CREATE TEMP TABLE IF NOT EXISTS restate_new (sample_id INTEGER PRIMARY KEY, verdict TEXT, reason TEXT,"
            " note TEXT, tags TEXT, pref TEXT, had INTEGER, old_verdict TEXT, old_reason TEXT, old_note TEXT,"
            " old_tags TEXT, old_pref TEXT)"
        )
        conn.execute("DELETE FROM temp.restate_ids")
        conn.execute("DELETE FROM temp.restate_new")
        # An action's events were written in one transaction, so their ids are one run: read in
        # primary-key order (through events_action alone each row would be a separate fetch).
        conn.execute(
            "INSERT OR IGNORE INTO temp.restate_ids (sample_id) SELECT sample_id FROM events WHERE id BETWEEN"
            " (SELECT min(id) FROM events WHERE action_id = :action) AND"
            " (SELECT max(id) FROM events WHERE action_id = :action) AND action_id = :action",
            args,
        )
        touched = [r[0] for r in conn.execute("SELECT sample_id FROM temp.restate_ids ORDER BY sample_id")]
        if not touched:
            return []

        def live(e: str) -> str:
            return f"{e}.action_id NOT IN (SELECT id FROM actions WHERE goal_id = :goal AND undone = 1)"

        # The fold of apply_change in SQL: the latest live verdict event gives verdict, reason and
        # pref; the latest live note event the note; a tag is held when its latest live tag or
        # untag event is a tag (sorted, the tags column's form: see tags_json). One pass over each
        # sample's events (events_goal_sample, in sample order: no sort); the tag fold only for
        # samples that have live tag events at all, and short for the common case of tag events
        # that all name the same tag with no untag among them (json_array of one: the same form).
        verdicts = ", ".join(repr(k) for k in VERDICT_EVENTS)
        conn.execute(
            "INSERT INTO temp.restate_new SELECT x.sample_id,"
            " CASE v.kind WHEN 'keep' THEN 'keep' WHEN 'drop' THEN 'drop' WHEN 'swap' THEN 'keep'"
            " WHEN 'flip' THEN 'keep' WHEN 'both-bad' THEN 'drop' END,"
            " CASE v.kind WHEN 'drop' THEN v.reason WHEN 'both-bad' THEN v.reason END,"
            " coalesce(n.value, ''),"
            " CASE WHEN NOT x.tagged THEN '[]' WHEN NOT x.untagged AND x.tag0 = x.tag1 THEN json_array(x.tag0)"
            " ELSE (SELECT replace(json_group_array(value), '\",\"', '\", \"') FROM"
            " (SELECT e.value FROM events e WHERE e.goal_id = :goal AND e.sample_id = x.sample_id"
            f" AND e.kind = 'tag' AND {live('e')} AND NOT EXISTS (SELECT 1 FROM events u WHERE u.goal_id = :goal"
            " AND u.sample_id = x.sample_id AND u.id > e.id AND u.value = e.value AND u.kind IN ('tag', 'untag')"
            f" AND {live('u')}) ORDER BY e.value)) END,"
            " CASE v.kind WHEN 'swap' THEN 'swapped' WHEN 'flip' THEN 'flipped' WHEN 'both-bad' THEN 'both-bad'"
            " ELSE '' END,"
            " d.sample_id IS NOT NULL, d.verdict, d.reason, d.note, d.tags, d.pref"
            f" FROM (SELECT t.sample_id, max(CASE WHEN e.kind IN ({verdicts}) THEN e.id END) AS vid,"
            " max(CASE WHEN e.kind = 'note' THEN e.id END) AS nid, max(e.kind IN ('tag', 'untag')) AS tagged,"
            " max(e.kind = 'untag') AS untagged, min(CASE WHEN e.kind = 'tag' THEN e.value END) AS tag0,"
            " max(CASE WHEN e.kind = 'tag' THEN e.value END) AS tag1"
            " FROM temp.restate_ids t LEFT JOIN events e ON e.goal_id = :goal AND e.sample_id = t.sample_id"
            f" AND {live('e')} GROUP BY t.sample_id) x"
            " LEFT JOIN events v ON v.id = x.vid LEFT JOIN events n ON n.id = x.nid"
            " LEFT JOIN decisions d ON d.goal_id = :goal AND d.sample_id = x.sample_id",
            args,
        )
        # Nothing to write for a sample already in its new state (an undecided one: no row or
        # an undecided row).
        conn.execute(
            "DELETE FROM temp.restate_new WHERE CASE WHEN had THEN verdict IS old_verdict AND reason IS old_reason"
            " AND note IS old_note AND tags IS old_tags AND pref IS old_pref"
            " ELSE verdict IS NULL AND note = '' AND tags = '[]' AND pref = '' END"
        )
        retagged = "SELECT sample_id FROM temp.restate_new WHERE tags IS NOT old_tags"

        def tag_counts() -> dict[tuple[str, str], int]:
            return {
                ("tag", tg): n
                for tg, n in conn.execute(
                    f"SELECT tag, count(*) FROM decision_tags WHERE goal_id = :goal AND sample_id IN ({retagged})"
                    " GROUP BY tag",
                    args,
                )
            }

        before = self._verdict_counts(
            "FROM (SELECT old_verdict AS verdict, old_reason AS reason FROM temp.restate_new) d", ()
        )
        before.update(tag_counts())
        after = self._verdict_counts("FROM temp.restate_new d", ())
        conn.execute(
            "INSERT INTO decisions (goal_id, sample_id, verdict, reason, note, tags, pref)"
            " SELECT :goal, sample_id, verdict, reason, note, tags, pref FROM temp.restate_new WHERE true"
            " ON CONFLICT(goal_id, sample_id) DO UPDATE SET verdict = excluded.verdict, reason = excluded.reason,"
            " note = excluded.note, tags = excluded.tags, pref = excluded.pref",
            args,
        )
        conn.execute(f"DELETE FROM decision_tags WHERE goal_id = :goal AND sample_id IN ({retagged})", args)
        conn.execute(
            "INSERT INTO decision_tags (goal_id, tag, sample_id) SELECT :goal, j.value, r.sample_id"
            " FROM temp.restate_new r, json_each(r.tags) j WHERE r.tags IS NOT r.old_tags AND r.tags != '[]'",
            args,
        )
        after.update(tag_counts())
        conn.executemany(
            "INSERT INTO tallies (goal_id, kind, key, n) VALUES (?, ?, ?, ?)"
            " ON CONFLICT(goal_id, kind, key) DO UPDATE SET n = n + excluded.n",
            [
                (goal_id, k, key, after.get((k, key), 0) - before.get((k, key), 0))
                for k, key in before.keys() | after.keys()
                if after.get((k, key), 0) != before.get((k, key), 0)
            ],
        )
        return touched

    def _verdict_counts(self, source: str, params: Sequence[object]) -> dict[tuple[str, str], int]:
        """How many rows `source` (a FROM clause whose rows are `d`, with verdict and reason
        columns) holds of each verdict and each reason, as tally keys. One pass of sums over the
        values winnow writes (a GROUP BY would sort every row: at 100,000 that sort is most of
        the cost); any other value, which only a file changed outside winnow holds, is counted
        by a GROUP BY instead."""
        sums = [f"sum(d.verdict = '{v}')" for v in VERDICTS] + [f"sum(d.reason = '{r}')" for r in REASONS]
        row = self.conn.execute(
            f"SELECT count(d.verdict), count(d.reason), {', '.join(sums)} {source}", params
        ).fetchone()
        n_verdicts, n_reasons, *ns = (n or 0 for n in row)
        out: dict[tuple[str, str], int] = {}
        keys = [("verdict", v) for v in VERDICTS] + [("reason", r) for r in REASONS]
        for key, n in zip(keys, ns, strict=True):
            if n:
                out[key] = n
        if n_verdicts == sum(ns[: len(VERDICTS)]) and n_reasons == sum(ns[len(VERDICTS) :]):
            return out
        out = {}
        for v, r, n in self.conn.execute(f"SELECT d.verdict, d.reason, count(*) {source} GROUP BY 1, 2", params):
            if v:
                out[("verdict", v)] = out.get(("verdict", v), 0) + n
            if r:
                out[("reason", r)] = out.get(("reason", r), 0) + n
        return out

    def action_info(self, action_id: int) -> tuple[str, dict | None] | None:
        """(kind, detail) of one action; detail is what a bulk action selected (None otherwise)."""
        r = self.conn.execute("SELECT kind, detail FROM actions WHERE id = ?", (action_id,)).fetchone()
        if r is None:
            return None
        try:
            detail = json.loads(r[1]) if r[1] else None
        except ValueError:
            detail = None
        return r[0], detail if isinstance(detail, dict) else None

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

    def pref_counts(self, goal_id: int) -> dict[str, int]:
        """How many samples hold each preference decision (swapped, flipped, both-bad) now."""
        return dict(
            self.conn.execute(
                "SELECT pref, count(*) FROM decisions WHERE goal_id = ? AND pref != '' GROUP BY pref", (goal_id,)
            ).fetchall()
        )

    def materialised_decisions(self, goal_id: int) -> dict[int, Decision]:
        out = {}
        for sid, verdict, reason, note, tags, pref in self.conn.execute(
            "SELECT sample_id, verdict, reason, note, tags, pref FROM decisions WHERE goal_id = ?", (goal_id,)
        ):
            d = Decision(verdict, reason, note, self._tags(tags, sid), pref)
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
