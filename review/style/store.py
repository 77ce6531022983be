"""Every SQL statement of the style tables (migration m003_style). Standard library only.

`StyleStore` borrows a `Store`'s connection and transactions, like `analysis.store.AnalysisStore`:
samples and decisions come through `Store`'s own methods, except the read-only joins below that
count kept samples' fingerprints per goal.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

from ..keyset import rank_step
from ..model import Flag
from ..store import Store, chunks, now

QUEUE_KINDS = ("style_drift", "contradictions", "noisy")


def _number(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _counts(v: object) -> bool:
    return isinstance(v, dict) and all(isinstance(k, str) and _number(n) for k, n in v.items())


def _run_shape(v: object) -> bool:
    if not isinstance(v, dict):
        return False
    numbers = ("answers", "fingerprinted", "cached", "seconds", "question_groups")
    return all(_number(v[k]) for k in numbers if k in v) and _counts(v.get("neighbours", {}))


def _prevalence_shape(v: object) -> bool:
    if not isinstance(v, dict):
        return False
    return all(
        (_counts(n) if k == "move" else _number(n) or isinstance(n, (dict, list, str))) for k, n in v.items()
    ) and (_number(v.get("answers", 0)))


def _groups_shape(v: object) -> bool:
    def group(g: object) -> bool:
        return (
            isinstance(g, dict)
            and isinstance(g.get("question"), str)
            and _number(g.get("samples"))
            and _number(g.get("distinct_answers"))
            and isinstance(g.get("disagreements"), list)
            and all(isinstance(d, str) for d in g["disagreements"])
            and isinstance(g.get("answers"), list)
            and all(
                isinstance(a, dict) and _number(a.get("samples")) and isinstance(a.get("text"), str)
                for a in g["answers"]
            )
        )

    return isinstance(v, list) and all(group(g) for g in v)


# The shapes the report reads of each style_state value (what run.py writes).
_STATE_SHAPES: dict[str, Callable[[object], bool]] = {
    "last_run": _run_shape,
    "noise_counts": _counts,
    "prevalence": _prevalence_shape,
    "project_stability": lambda v: v is None or _number(v),
    "project_varying": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    "question_groups": _groups_shape,
}


@dataclass(frozen=True)
class FlagRow:
    sample_id: int
    kind: str
    score: float
    partner: int | None
    members: tuple[int, ...]
    label: str
    details: tuple[str, ...]
    reason: str
    shown: bool = True

    def flag(self) -> Flag:
        return Flag(self.kind, self.label, self.partner, self.score, self.members, self.details, self.reason)


class StyleStore:
    def __init__(self, store: Store):
        self.store = store
        self.conn = store.conn

    # ------------------------------------------------------------------ fingerprints

    def cached_keys(self, version: int) -> set[str]:
        return {
            r[0] for r in self.conn.execute("SELECT answer_key FROM style_fingerprints WHERE version = ?", (version,))
        }

    def add_fingerprints(self, version: int, rows: Iterable[tuple[str, str, str, int, str]]) -> None:
        """rows: (answer_key, move, script, tokens, features JSON)."""
        with self.store.tx() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO style_fingerprints (answer_key, version, move, script, tokens, features)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                [(k, version, m, s, t, f) for k, m, s, t, f in rows],
            )

    def fingerprints(self, version: int, keys: Sequence[str]) -> dict[str, str]:
        """answer_key -> features JSON for those of `keys` that are cached."""
        out: dict[str, str] = {}
        for chunk in chunks(list(keys), 900):
            q = ",".join("?" * len(chunk))
            out.update(
                self.conn.execute(
                    f"SELECT answer_key, features FROM style_fingerprints WHERE version = ? AND answer_key IN ({q})",
                    (version, *chunk),
                ).fetchall()
            )
        return out

    def set_sample_keys(self, rows: Iterable[tuple[int, str]]) -> None:
        with self.store.tx() as conn:
            conn.executemany("INSERT OR REPLACE INTO style_samples (sample_id, answer_key) VALUES (?, ?)", list(rows))

    def fingerprint_of(self, sample_id: int, version: int) -> str | None:
        r = self.conn.execute(
            "SELECT f.features FROM style_samples s JOIN style_fingerprints f"
            " ON f.answer_key = s.answer_key AND f.version = ? WHERE s.sample_id = ?",
            (version, sample_id),
        ).fetchone()
        return r[0] if r else None

    def kept_fingerprints(self, goal_id: int, version: int) -> Iterator[tuple[int, str]]:
        """(sample_id, features JSON) of the samples kept under a goal that have an answer."""
        yield from self.conn.execute(
            "SELECT d.sample_id, f.features FROM decisions d"
            " JOIN style_samples s ON s.sample_id = d.sample_id"
            " JOIN style_fingerprints f ON f.answer_key = s.answer_key AND f.version = ?"
            " WHERE d.goal_id = ? AND d.verdict = 'keep' ORDER BY d.sample_id",
            (version, goal_id),
        )

    def kept_count(self, goal_id: int) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM decisions WHERE goal_id = ? AND verdict = 'keep'", (goal_id,)
        ).fetchone()[0]

    def kept_without_fingerprint(self, goal_id: int) -> int:
        return self.conn.execute(
            "SELECT count(*) FROM decisions d LEFT JOIN style_samples s ON s.sample_id = d.sample_id"
            " WHERE d.goal_id = ? AND d.verdict = 'keep' AND (s.sample_id IS NULL OR s.answer_key = '')",
            (goal_id,),
        ).fetchone()[0]

    def all_fingerprints(self, version: int) -> Iterator[tuple[int, str]]:
        yield from self.conn.execute(
            "SELECT s.sample_id, f.features FROM style_samples s JOIN style_fingerprints f"
            " ON f.answer_key = s.answer_key AND f.version = ? ORDER BY s.sample_id",
            (version,),
        )

    def answer_moves(self) -> dict[int, tuple[str, str]]:
        """sample id -> (move, script) of its answer's stored fingerprint, for every fingerprinted sample."""
        moves: dict[int, tuple[str, str]] = {}
        for sid, move, script in self.conn.execute(
            "SELECT s.sample_id, f.move, f.script FROM style_samples s JOIN style_fingerprints f"
            " ON f.answer_key = s.answer_key"
        ):
            moves[sid] = (move, script)
        return moves

    # ------------------------------------------------------------------ flags & queues

    def replace_flags(self, rows: Sequence[FlagRow]) -> None:
        with self.store.tx() as conn:
            conn.execute("DELETE FROM style_flags")
            conn.executemany(
                "INSERT INTO style_flags (sample_id, kind, score, partner, members, label, details, reason, shown)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.sample_id,
                        r.kind,
                        r.score,
                        r.partner,
                        json.dumps(list(r.members)),
                        r.label,
                        json.dumps(list(r.details), ensure_ascii=False),
                        r.reason,
                        int(r.shown),
                    )
                    for r in rows
                ],
            )

    def _row(self, r: tuple) -> FlagRow:
        return FlagRow(r[0], r[1], r[2], r[3], tuple(json.loads(r[4])), r[5], tuple(json.loads(r[6])), r[7], bool(r[8]))

    _COLS = "sample_id, kind, score, partner, members, label, details, reason, shown"

    def flags_of(self, sample_id: int, *, shown_only: bool = True) -> list[FlagRow]:
        where = " AND shown = 1" if shown_only else ""
        return [
            self._row(r)
            for r in self.conn.execute(
                f"SELECT {self._COLS} FROM style_flags WHERE sample_id = ?{where} ORDER BY score DESC, id",
                (sample_id,),
            )
        ]

    def flags_by_kind(self, kind: str, *, limit: int = 1_000_000, shown_only: bool = True) -> list[FlagRow]:
        where = " AND shown = 1" if shown_only else ""
        return [
            self._row(r)
            for r in self.conn.execute(
                f"SELECT {self._COLS} FROM style_flags WHERE kind = ?{where} ORDER BY score DESC, sample_id LIMIT ?",
                (kind, limit),
            )
        ]

    def iter_flags_by_kind(self, kind: str, *, shown_only: bool = True) -> Iterator[FlagRow]:
        """flags_by_kind's rows one at a time, from the cursor: a million flags never sit in a list."""
        where = " AND shown = 1" if shown_only else ""
        for r in self.conn.execute(
            f"SELECT {self._COLS} FROM style_flags WHERE kind = ?{where} ORDER BY score DESC, sample_id", (kind,)
        ):
            yield self._row(r)

    # One row per contradictory pair, strongest first: the row of its smaller sample where both sides
    # were flagged (a sample keeps only its MAX_CONFLICT_FLAGS strongest, so a pair may have one side).
    # The other side is one seek in style_flags_pair (m009: kind, shown, sample_id, partner, all four
    # equal here). Before it SQLite looked the other side up through style_flags_kind (kind = ? AND
    # shown = ? tied sample_id = ? AND kind = ?), scanning every conflict flag for each one: n², a
    # 15-minute `report --json` at 1.3M flags.
    _PAIR_ROWS = (
        "FROM style_flags f WHERE f.kind = 'conflict' AND f.shown = 1 AND (f.sample_id < f.partner OR NOT EXISTS"
        " (SELECT 1 FROM style_flags g WHERE g.kind = 'conflict' AND g.shown = 1"
        " AND g.sample_id = f.partner AND g.partner = f.sample_id))"
    )

    def iter_conflict_pairs(self) -> Iterator[FlagRow]:
        for r in self.conn.execute(f"SELECT {self._COLS} {self._PAIR_ROWS} ORDER BY f.score DESC, f.sample_id"):
            yield self._row(r)

    def conflict_pair_count(self) -> int:
        return self.conn.execute(f"SELECT count(*) {self._PAIR_ROWS}").fetchone()[0]

    def flag_counts(self) -> dict[str, int]:
        return dict(
            self.conn.execute(
                "SELECT kind, count(DISTINCT sample_id) FROM style_flags WHERE shown = 1 GROUP BY kind"
            ).fetchall()
        )

    def replace_queue(self, kind: str, sample_ids: Sequence[int]) -> None:
        seen: set[int] = set()
        ordered = [s for s in sample_ids if not (s in seen or seen.add(s))]  # type: ignore[func-returns-value]
        with self.store.tx() as conn:
            conn.execute("DELETE FROM style_queue WHERE kind = ?", (kind,))
            conn.executemany(
                "INSERT INTO style_queue (kind, rank, sample_id) VALUES (?, ?, ?)",
                [(kind, i + 1, sid) for i, sid in enumerate(ordered)],
            )

    def queue_size(self, kind: str) -> int:
        return self.conn.execute("SELECT count(*) FROM style_queue WHERE kind = ?", (kind,)).fetchone()[0]

    def queue_step(self, kind: str, goal_id: int, after: int, forward: bool, *, undecided_only: bool) -> int | None:
        """Next/previous sample of a style queue, by rank; `after` is a sample id (the cursor). From
        outside the queue it starts at the queue's head."""
        return rank_step(
            self.conn,
            "style_queue",
            goal_id,
            after,
            forward,
            undecided_only=undecided_only,
            where="q.kind = ?",
            args=(kind,),
        )

    # ------------------------------------------------------------------ state

    def set_state(self, values: dict[str, object]) -> None:
        with self.store.tx() as conn:
            conn.executemany(
                "INSERT INTO style_state (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                [(k, json.dumps(v, ensure_ascii=False, default=str)) for k, v in values.items()],
            )

    def _stored(self, key: str) -> tuple[bool, object]:
        """(whether a well-formed value is stored, the value). A shared project file carries
        style_state: a value that is not JSON, or not of the shape the style run writes, is not used."""
        r = self.conn.execute("SELECT value FROM style_state WHERE key = ?", (key,)).fetchone()
        if r is None:
            return False, None
        try:
            value = json.loads(r[0])
        except (TypeError, ValueError, RecursionError):
            return False, None
        check = _STATE_SHAPES.get(key)
        return (check is None or check(value)), value

    def state(self, key: str, default: object = None) -> object:
        """A value of the latest run, or `default` when none is stored or it is malformed. `last_run`
        reads as absent when any of the run's values is malformed, so a report runs the style
        analysis again (which rewrites them all) rather than reading a tampered or broken state."""
        ok, value = self._stored(key)
        if not ok:
            return default
        if key == "last_run":
            for other in _STATE_SHAPES:
                r = self.conn.execute("SELECT 1 FROM style_state WHERE key = ?", (other,)).fetchone()
                if r is not None and not self._stored(other)[0]:
                    return default
        return value

    def mark_run(self, summary: dict) -> None:
        self.set_state({"last_run": {**summary, "finished_at": now()}})
