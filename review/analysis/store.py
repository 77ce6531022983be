"""Every SQL statement of the analysis tables (migration m002_analysis).

`AnalysisStore` borrows a `Store`'s connection and transactions; it never touches the samples or
decision tables directly (samples come through `Store`'s own methods). Imports the standard
library only, so flag providers and queues stay cheap.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from ..keyset import rank_step
from ..store import Store, chunks, now, visible

DETECTORS = ("exact", "lexical", "semantic")


@dataclass(frozen=True)
class ClusterRow:
    detector: str
    cluster_id: int
    size: int
    partner: int
    score: float


@dataclass(frozen=True)
class Leak:
    """A training sample that near-duplicates an evaluation sample."""

    sample_id: int
    detector: str
    score: float
    eval_source: str
    eval_position: int  # 0-based record index in the eval file
    eval_line: int
    eval_text: str


@dataclass(frozen=True)
class PairFlagRow:
    """One finding of the preference pair checks (review/analysis/pairs.py), as stored."""

    sample_id: int
    kind: str  # pair-same | pair-noise | pair-contradiction | pair-prompt
    partner: int | None
    score: float
    label: str
    members: tuple[int, ...]
    details: tuple[str, ...] = ()


class AnalysisStore:
    def __init__(self, store: Store):
        self.store = store
        self.conn = store.conn

    # ------------------------------------------------------------------ texts

    def last_text_sample(self, field: str) -> int:
        r = self.conn.execute("SELECT max(sample_id) FROM analysis_texts WHERE field = ?", (field,)).fetchone()
        return r[0] or 0

    def add_texts(self, field: str, rows: Iterable[tuple[int, str]]) -> None:
        with self.store.tx() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO analysis_texts (field, sample_id, text_hash) VALUES (?, ?, ?)",
                [(field, sid, h) for sid, h in rows],
            )

    def text_groups(self, field: str) -> dict[str, list[int]]:
        """text hash -> sample ids (ascending), non-empty texts only, hashes in first-sample order."""
        out: dict[str, list[int]] = {}
        for sid, h in self.conn.execute(
            "SELECT sample_id, text_hash FROM analysis_texts WHERE field = ? AND text_hash != '' ORDER BY sample_id",
            (field,),
        ):
            out.setdefault(h, []).append(sid)
        return out

    def text_hash_of(self, field: str, sample_id: int) -> str | None:
        r = self.conn.execute(
            "SELECT text_hash FROM analysis_texts WHERE field = ? AND sample_id = ?", (field, sample_id)
        ).fetchone()
        return r[0] if r else None

    # ------------------------------------------------------------------ embeddings

    def cached_embedding_hashes(self, model_id: str) -> set[str]:
        return {r[0] for r in self.conn.execute("SELECT text_hash FROM embeddings WHERE model_id = ?", (model_id,))}

    def add_embeddings(self, model_id: str, dim: int, rows: Iterable[tuple[str, bytes]]) -> None:
        """One batch, one transaction: a killed run keeps every batch committed before it."""
        with self.store.tx() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO embeddings (text_hash, model_id, dim, vector) VALUES (?, ?, ?, ?)",
                [(h, model_id, dim, blob) for h, blob in rows],
            )

    def embeddings(self, model_id: str, hashes: Sequence[str]) -> Iterator[tuple[str, int, bytes]]:
        """(hash, dim, vector blob) for those of `hashes` that are cached, in no particular order."""
        for chunk in chunks(list(hashes), 900):
            q = ",".join("?" * len(chunk))
            yield from self.conn.execute(
                f"SELECT text_hash, dim, vector FROM embeddings WHERE model_id = ? AND text_hash IN ({q})",
                (model_id, *chunk),
            )

    def embedding_count(self) -> dict[str, int]:
        return dict(self.conn.execute("SELECT model_id, count(*) FROM embeddings GROUP BY model_id").fetchall())

    # ------------------------------------------------------------------ minhash

    def minhashes(self, scheme: str, hashes: Sequence[str]) -> Iterator[tuple[str, bytes]]:
        for chunk in chunks(list(hashes), 900):
            q = ",".join("?" * len(chunk))
            yield from self.conn.execute(
                f"SELECT text_hash, signature FROM minhashes WHERE scheme = ? AND text_hash IN ({q})", (scheme, *chunk)
            )

    def add_minhashes(self, scheme: str, rows: Iterable[tuple[str, bytes]]) -> None:
        with self.store.tx() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO minhashes (scheme, text_hash, signature) VALUES (?, ?, ?)",
                [(scheme, h, sig) for h, sig in rows],
            )

    # ------------------------------------------------------------------ detector state

    def detector_settings(self, detector: str) -> tuple[dict, dict, bool] | None:
        r = self.conn.execute(
            "SELECT settings, figures, complete FROM analysis_detectors WHERE detector = ?", (detector,)
        ).fetchone()
        return (json.loads(r[0]), json.loads(r[1]), bool(r[2])) if r else None

    def reset_detector(self, detector: str, settings: dict) -> None:
        """New settings: forget everything this detector found under the old ones."""
        with self.store.tx() as conn:
            conn.execute("DELETE FROM analysis_indexed WHERE detector = ?", (detector,))
            conn.execute("DELETE FROM dup_links WHERE detector = ?", (detector,))
            conn.execute("DELETE FROM dup_clusters WHERE detector = ?", (detector,))
            conn.execute(
                "INSERT INTO analysis_detectors (detector, settings, figures, complete, updated_at) VALUES (?, ?, '{}', 0, ?)"
                " ON CONFLICT(detector) DO UPDATE SET settings = excluded.settings, figures = '{}', complete = 0,"
                " updated_at = excluded.updated_at",
                (detector, json.dumps(settings, sort_keys=True), now()),
            )

    def set_complete(self, detector: str, complete: bool, figures: dict | None = None) -> None:
        with self.store.tx() as conn:
            if figures is None:
                conn.execute(
                    "UPDATE analysis_detectors SET complete = ?, updated_at = ? WHERE detector = ?",
                    (int(complete), now(), detector),
                )
            else:
                conn.execute(
                    "UPDATE analysis_detectors SET complete = ?, figures = ?, updated_at = ? WHERE detector = ?",
                    (int(complete), json.dumps(figures, sort_keys=True), now(), detector),
                )

    def indexed(self, detector: str) -> set[str]:
        return {
            r[0] for r in self.conn.execute("SELECT text_hash FROM analysis_indexed WHERE detector = ?", (detector,))
        }

    def forget(self, detector: str, hashes: Sequence[str]) -> None:
        """Texts no longer in the project: drop them and their links."""
        with self.store.tx() as conn:
            for chunk in chunks(list(hashes), 900):
                q = ",".join("?" * len(chunk))
                conn.execute(
                    f"DELETE FROM analysis_indexed WHERE detector = ? AND text_hash IN ({q})", (detector, *chunk)
                )
                conn.execute(f"DELETE FROM dup_links WHERE detector = ? AND a IN ({q})", (detector, *chunk))
                conn.execute(f"DELETE FROM dup_links WHERE detector = ? AND b IN ({q})", (detector, *chunk))

    def add_indexed(self, detector: str, hashes: Sequence[str], links: Iterable[tuple[str, str, float]]) -> None:
        """Record texts as compared and the links found for them, atomically (the unit of resume)."""
        with self.store.tx() as conn:
            conn.executemany(
                "INSERT OR REPLACE INTO dup_links (detector, a, b, score) VALUES (?, ?, ?, ?)",
                [(detector, *((a, b) if a < b else (b, a)), float(s)) for a, b, s in links],
            )
            conn.executemany(
                "INSERT OR IGNORE INTO analysis_indexed (detector, text_hash) VALUES (?, ?)",
                [(detector, h) for h in hashes],
            )

    def links(self, detector: str) -> list[tuple[str, str, float]]:
        return self.conn.execute("SELECT a, b, score FROM dup_links WHERE detector = ?", (detector,)).fetchall()

    # ------------------------------------------------------------------ clusters & queue

    def replace_clusters(self, detector: str, rows: Sequence[tuple[int, int, int, int, float]]) -> None:
        """rows: (sample_id, cluster_id, size, partner, score)."""
        with self.store.tx() as conn:
            conn.execute("DELETE FROM dup_clusters WHERE detector = ?", (detector,))
            conn.executemany(
                "INSERT INTO dup_clusters (sample_id, detector, cluster_id, size, partner, score) VALUES (?, ?, ?, ?, ?, ?)",
                [(sid, detector, cid, size, partner, score) for sid, cid, size, partner, score in rows],
            )

    def all_cluster_memberships(self) -> list[tuple[int, str, int]]:
        return self.conn.execute("SELECT sample_id, detector, cluster_id FROM dup_clusters").fetchall()

    def cluster_keys(self, sample_ids: Sequence[int]) -> list[tuple[int, str]]:
        """(sample id, "detector:cluster id") of each cluster that one of `sample_ids` is in."""
        q = ",".join("?" * len(sample_ids))
        return self.conn.execute(
            f"SELECT sample_id, detector || ':' || cluster_id FROM dup_clusters WHERE sample_id IN ({q})",
            list(sample_ids),
        ).fetchall()

    def replace_queue(self, rows: Sequence[tuple[int, int]]) -> None:
        """rows: (sample_id, group_id) in queue order."""
        with self.store.tx() as conn:
            conn.execute("DELETE FROM dup_queue")
            conn.executemany(
                "INSERT INTO dup_queue (rank, sample_id, group_id) VALUES (?, ?, ?)",
                [(i + 1, sid, gid) for i, (sid, gid) in enumerate(rows)],
            )

    def clusters_of(self, sample_id: int) -> list[ClusterRow]:
        return [
            ClusterRow(d, c, n, p, s)
            for d, c, n, p, s in self.conn.execute(
                "SELECT detector, cluster_id, size, partner, score FROM dup_clusters WHERE sample_id = ?", (sample_id,)
            )
        ]

    def cluster_members(self, detector: str, cluster_id: int) -> list[int]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT sample_id FROM dup_clusters WHERE detector = ? AND cluster_id = ? ORDER BY sample_id",
                (detector, cluster_id),
            )
        ]

    def cluster_sizes(self, detector: str) -> list[int]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT size FROM dup_clusters WHERE detector = ? AND sample_id = cluster_id", (detector,)
            )
        ]

    def queue_step(self, goal_id: int, after: int, forward: bool, *, undecided_only: bool) -> int | None:
        """Next/previous sample of the duplicates queue, by rank; `after` is a sample id. From outside
        the queue (e.g. where the cursor was when the queue was chosen) it starts at the first group
        that has a sample past it, else at the start."""
        return rank_step(
            self.conn, "dup_queue", goal_id, after, forward, undecided_only=undecided_only, resume_past=True
        )

    def queue_size(self) -> int:
        return self.conn.execute("SELECT count(*) FROM dup_queue").fetchone()[0]

    def queue_group_count(self) -> int:
        return self.conn.execute("SELECT count(DISTINCT group_id) FROM dup_queue").fetchone()[0]

    def flagged_step(self, after: int, forward: bool) -> int | None:
        """Next/previous sample (by id) that any detector clustered or that leaks into eval."""
        op, order, agg = (">", "ASC", "min") if forward else ("<", "DESC", "max")
        r = self.conn.execute(
            f"SELECT {agg}(x) FROM ("
            f" SELECT (SELECT sample_id FROM dup_clusters WHERE sample_id {op} ? ORDER BY sample_id {order} LIMIT 1) AS x"
            f" UNION ALL SELECT (SELECT sample_id FROM leaks WHERE sample_id {op} ? ORDER BY sample_id {order} LIMIT 1))",
            (after, after),
        ).fetchone()
        return r[0] if r else None

    def leak_step(self, after: int, forward: bool) -> int | None:
        op, order = (">", "ASC") if forward else ("<", "DESC")
        r = self.conn.execute(
            f"SELECT sample_id FROM leaks WHERE sample_id {op} ? ORDER BY sample_id {order} LIMIT 1", (after,)
        ).fetchone()
        return r[0] if r else None

    # ------------------------------------------------------------------ leaks

    def replace_leaks(self, rows: Sequence[Leak]) -> None:
        with self.store.tx() as conn:
            conn.execute("DELETE FROM leaks")
            conn.executemany(
                "INSERT OR REPLACE INTO leaks (sample_id, detector, score, eval_source, eval_position, eval_line, eval_text)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (x.sample_id, x.detector, x.score, x.eval_source, x.eval_position, x.eval_line, x.eval_text)
                    for x in rows
                ],
            )

    def leaks_of(self, sample_id: int) -> list[Leak]:
        return [
            Leak(*r)
            for r in self.conn.execute(
                "SELECT sample_id, detector, score, eval_source, eval_position, eval_line, eval_text FROM leaks"
                " WHERE sample_id = ? ORDER BY score DESC, eval_position",
                (sample_id,),
            )
        ]

    def leak_figures(self) -> dict[str, int]:
        out = dict(
            self.conn.execute("SELECT detector, count(DISTINCT sample_id) FROM leaks GROUP BY detector").fetchall()
        )
        out["any"] = self.conn.execute("SELECT count(DISTINCT sample_id) FROM leaks").fetchone()[0]
        return out

    # ------------------------------------------------------------------ runs

    def start_run(self, kind: str, settings: dict) -> int:
        with self.store.tx() as conn:
            return int(
                conn.execute(
                    "INSERT INTO analysis_runs (kind, started_at, status, summary) VALUES (?, ?, 'running', ?)",
                    (kind, now(), json.dumps({"settings": settings}, sort_keys=True)),
                ).lastrowid
                or 0
            )

    def finish_run(self, run_id: int, status: str, summary: dict) -> None:
        with self.store.tx() as conn:
            conn.execute(
                "UPDATE analysis_runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
                (now(), status, json.dumps(summary, sort_keys=True, default=str), run_id),
            )

    def last_run(self, kind: str) -> tuple[str, str | None, str, dict] | None:
        r = self.conn.execute(
            "SELECT started_at, finished_at, status, summary FROM analysis_runs WHERE kind = ? ORDER BY id DESC LIMIT 1",
            (kind,),
        ).fetchone()
        return (r[0], r[1], r[2], json.loads(r[3])) if r else None

    # ------------------------------------------------------------------ preference pairs (m011)

    def preference_ids(self, after: int = 0, limit: int = 1000) -> list[int]:
        """Ids past `after` of the samples that are a pair (a rejected answer) or carry a KTO label,
        ascending, at most `limit` (keyset pages; the sample rows come from `Store.samples`)."""
        return [
            r[0]
            for r in self.conn.execute(
                f"SELECT id FROM samples WHERE id > ? AND {visible()} AND (rejected != '' OR label IS NOT NULL)"
                " ORDER BY id LIMIT ?",
                (after, limit),
            )
        ]

    def replace_pair_flags(self, rows: Sequence[PairFlagRow], state: dict[str, object]) -> None:
        """Every pair finding of a run, the "pairs" queue (each sample once, at its most certain
        finding, most certain first) and the run's state, in one transaction."""
        best: dict[int, float] = {}
        for r in rows:
            best[r.sample_id] = max(best.get(r.sample_id, 0.0), r.score)
        order = sorted(best, key=lambda sid: (-best[sid], sid))
        with self.store.tx() as conn:
            conn.execute("DELETE FROM pair_flags")
            conn.execute("DELETE FROM pair_queue")
            conn.execute("DELETE FROM pair_state")
            conn.executemany(
                "INSERT OR REPLACE INTO pair_flags (sample_id, kind, partner, score, label, members, details)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        r.sample_id,
                        r.kind,
                        r.partner,
                        r.score,
                        r.label,
                        json.dumps(list(r.members)),
                        json.dumps(list(r.details), ensure_ascii=False),
                    )
                    for r in rows
                ],
            )
            conn.executemany(
                "INSERT INTO pair_queue (rank, sample_id) VALUES (?, ?)", [(i + 1, sid) for i, sid in enumerate(order)]
            )
            conn.executemany(
                "INSERT INTO pair_state (key, value) VALUES (?, ?)",
                [(k, json.dumps(v, sort_keys=True, ensure_ascii=False)) for k, v in state.items()],
            )

    def pair_flags_of(self, sample_id: int) -> list[PairFlagRow]:
        """The pair findings of one sample, most certain first (by key: the flag provider's query)."""
        return [
            PairFlagRow(sid, kind, partner, score, label, tuple(json.loads(members)), tuple(json.loads(details)))
            for sid, kind, partner, score, label, members, details in self.conn.execute(
                "SELECT sample_id, kind, partner, score, label, members, details FROM pair_flags WHERE sample_id = ?"
                " ORDER BY score DESC, kind",
                (sample_id,),
            )
        ]

    def pair_state(self) -> dict[str, object]:
        """The latest pair run's state ({} before the first)."""
        return {k: json.loads(v) for k, v in self.conn.execute("SELECT key, value FROM pair_state")}

    def pair_queue_step(self, goal_id: int, after: int, forward: bool, *, undecided_only: bool) -> int | None:
        return rank_step(self.conn, "pair_queue", goal_id, after, forward, undecided_only=undecided_only)

    def pair_queue_size(self) -> int:
        return self.conn.execute("SELECT count(*) FROM pair_queue").fetchone()[0]
