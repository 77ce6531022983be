"""Exports (`exports`, `export_items`) and the kept rows an export writes. How an export is
written safely is review/export/'s."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from .connection import StoreBase
from .samples import written

# What an export reads of each kept sample, in source then file order.
_KEPT_COLUMNS = (
    "s.source_id, s.id, s.raw, coalesce(d.tags, '[]'), s.system, s.turns, s.tools, s.content_hash, s.prompt_hash,"
    " s.answer_hash, s.rejected, s.label, s.media, d.pref"
)


_EXPORT_KEYS = ("id", "at", "log_position", "manifest", "kept")


class ExportRepo(StoreBase):
    """The `exports` and `export_items` tables, and the reads of kept samples for an export."""

    @contextmanager
    def read_snapshot(self) -> Iterator[None]:
        """Every read on this Store inside the block sees one state of the project: a WAL read
        transaction, begun by its first read here, so a decision another process commits meanwhile
        is in none of them (readers never block that writer, nor it them). An export reads its kept
        records, counts, log position and sample ids inside one. No writes inside: tx() would end the
        snapshot (checked at the end)."""
        if self.conn.in_transaction:
            raise RuntimeError("read_snapshot() inside an open transaction")
        self.conn.execute("BEGIN DEFERRED")
        try:
            self.conn.execute("SELECT max(id) FROM actions").fetchone()  # the snapshot starts here
            yield
            if not self.conn.in_transaction:
                raise RuntimeError("a write inside read_snapshot() ended the snapshot")
        finally:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")  # it only read

    def kept_source_ids(self, goal_id: int, *, undecided: bool = False) -> list[int]:
        """The sources that hold a sample kept under the goal (`undecided`: or not decided), by id."""
        return [
            sid for (sid,) in self.conn.execute(written("DISTINCT s.source_id", undecided) + " ORDER BY 1", (goal_id,))
        ]

    def kept_rows(self, goal_id: int, *, undecided: bool = False) -> Iterator[tuple]:
        """(source_id, sample_id, raw, tags JSON, system, turns, tools, content_hash, prompt_hash,
        answer_hash, rejected, label, media, pref) of each kept sample (`undecided`: and each one not
        decided), in source then file order."""
        yield from self.conn.execute(
            written(_KEPT_COLUMNS, undecided) + " ORDER BY s.source_id, s.position", (goal_id,)
        )

    def add_export(
        self, goal_id: int, at: str, log_position: int, files: list[dict], manifest: str, kept_ids: Sequence[int]
    ) -> int:
        """Record an export and the samples it holds, in one transaction; its id."""
        with self.tx() as conn:
            eid = int(
                conn.execute(
                    "INSERT INTO exports (goal_id, at, log_position, files, manifest, kept) VALUES (?, ?, ?, ?, ?, ?)",
                    (goal_id, at, log_position, json.dumps(files, ensure_ascii=False), manifest, len(kept_ids)),
                ).lastrowid
                or 0
            )
            conn.executemany(
                "INSERT INTO export_items (export_id, sample_id) VALUES (?, ?)", [(eid, i) for i in kept_ids]
            )
        return eid

    def last_export(self, goal_id: int) -> dict | None:
        """The goal's newest export (id, at, log_position, manifest, kept), None if never exported."""
        r = self.conn.execute(
            "SELECT id, at, log_position, manifest, kept FROM exports WHERE goal_id = ? ORDER BY id DESC LIMIT 1",
            (goal_id,),
        ).fetchone()
        return dict(zip(_EXPORT_KEYS, r, strict=True)) if r else None

    def export_of(self, goal_id: int, export_id: int) -> dict | None:
        """Export `export_id` if it is one of the goal's (id, at, log_position, manifest, kept)."""
        r = self.conn.execute(
            "SELECT id, at, log_position, manifest, kept FROM exports WHERE id = ? AND goal_id = ?",
            (export_id, goal_id),
        ).fetchone()
        return dict(zip(_EXPORT_KEYS, r, strict=True)) if r else None

    def exported_sample_ids(self, export_id: int) -> set[int]:
        return {r[0] for r in self.conn.execute("SELECT sample_id FROM export_items WHERE export_id = ?", (export_id,))}

    def exports(self, goal_id: int | None = None) -> list[dict]:
        """Every export (of one goal, given its id), oldest first."""
        where, args = ("WHERE goal_id = ?", (goal_id,)) if goal_id else ("", ())
        return [
            dict(zip(("id", "goal_id", "at", "log_position", "kept", "manifest"), r, strict=True))
            for r in self.conn.execute(
                f"SELECT id, goal_id, at, log_position, kept, manifest FROM exports {where} ORDER BY id", args
            )
        ]
