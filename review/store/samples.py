"""Sources and samples: reading what was imported."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence

from ..model import Conversation, Sample, Source
from .connection import StoreBase, chunks

# An import copies its records into `samples` over several short transactions (so that the review
# screen's writes never wait long, review/store/imports.py) and makes them visible all at once in
# its last one. Until then three `meta` keys describe it, and every read of `samples` stops below
# its first id and every listing of `sources` skips its placeholder row: no reader ever sees a
# part of a file. Ids are given in order after the project's last sample, so the hidden rows are
# exactly those from the first id on. A kill -9 between the transactions leaves the keys and the
# hidden rows; the next import into the project removes them (ImportRepo._drop_pending).
PENDING_FROM = "pending_import_from"  # the first sample id of the import being copied in
PENDING_SOURCE = "pending_import_source"  # the id of its placeholder `sources` row
PENDING_STAGE = "pending_import_stage"  # the name of its stage file: live while an import locks it
_HIDDEN_FROM = (
    f"coalesce((SELECT CAST(value AS INTEGER) FROM main.meta WHERE key = '{PENDING_FROM}'), 9223372036854775807)"
)
_HIDDEN_SOURCE = f"(SELECT CAST(value AS INTEGER) FROM main.meta WHERE key = '{PENDING_SOURCE}')"


def visible(column: str = "id") -> str:
    """The SQL condition that a sample id (`column`) is visible: below a pending import's rows.
    One uncorrelated subquery, evaluated once per statement (a rowid bound; one snapshot)."""
    return f"{column} < {_HIDDEN_FROM}"


def visible_source(column: str = "id") -> str:
    """The SQL condition that a source id is not a pending import's placeholder."""
    return f"{column} IS NOT {_HIDDEN_SOURCE}"


def written(columns: str, undecided: bool = False) -> str:
    """SELECT `columns` of the samples an export writes (one `?`: the goal id): the kept ones, or
    with `undecided` the kept and the not yet decided ones (`export --include undecided`); `s` is
    the sample, `d` its decision under the goal (NULL columns for a sample never decided)."""
    if undecided:
        return (
            f"SELECT {columns} FROM samples s LEFT JOIN decisions d ON d.sample_id = s.id AND d.goal_id = ?"
            f" WHERE (d.verdict = 'keep' OR d.verdict IS NULL) AND {visible('s.id')}"
        )
    return (
        f"SELECT {columns} FROM decisions d JOIN samples s ON s.id = d.sample_id"
        " WHERE d.goal_id = ? AND d.verdict = 'keep'"
    )


def system_key(text: str) -> bytes:
    """The key `SampleRepo.repeated_systems` counts a system prompt under (its exact text)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).digest()


class SampleRepo(StoreBase):
    """The `sources` and `samples` tables, read."""

    def sources(self) -> list[Source]:
        return [
            self._source(r) for r in self.conn.execute(f"SELECT * FROM sources WHERE {visible_source()} ORDER BY id")
        ]

    def source(self, source_id: int) -> Source:
        r = self.conn.execute("SELECT * FROM sources WHERE id = ?", (source_id,)).fetchone()
        return self._source(r)

    def source_header(self, source_id: int) -> str | None:
        r = self.conn.execute("SELECT header FROM sources WHERE id = ?", (source_id,)).fetchone()
        return r[0] if r else None

    @staticmethod
    def _source(r: tuple) -> Source:
        return Source(r[0], r[1], r[2], r[3], r[4], r[5], json.loads(r[6]), r[8], r[9])

    def total_samples(self) -> int:
        return int(self._meta_get("total_samples") or 0)

    _SAMPLE_COLS = (
        "s.id, s.source_id, src.name, s.position, s.line, s.system, s.turns, s.tools, s.raw,"
        " s.content_hash, s.prompt_hash, s.answer_hash, s.prompt_chars, s.answer_chars, s.rejected, s.label, s.media"
    )

    def sample(self, sample_id: int) -> Sample | None:
        r = self.conn.execute(
            f"SELECT {self._SAMPLE_COLS} FROM samples s JOIN sources src ON src.id = s.source_id"
            f" WHERE s.id = ? AND {visible('s.id')}",
            (sample_id,),
        ).fetchone()
        return self._sample(r) if r else None

    @staticmethod
    def _sample(r: tuple) -> Sample:
        return Sample(
            id=r[0],
            source_id=r[1],
            source_name=r[2],
            position=r[3],
            line=r[4],
            conversation=Conversation.from_stored(r[5], r[6], r[7], r[14], r[15], r[16]),
            raw=r[8],
            content_hash=r[9],
            prompt_hash=r[10],
            answer_hash=r[11],
            prompt_chars=r[12],
            answer_chars=r[13],
        )

    def samples(self, ids: Sequence[int]) -> list[Sample]:
        out: dict[int, Sample] = {}
        for chunk in chunks(list(ids), 500):
            q = ",".join("?" * len(chunk))
            for r in self.conn.execute(
                f"SELECT {self._SAMPLE_COLS} FROM samples s JOIN sources src ON src.id = s.source_id"
                f" WHERE s.id IN ({q}) AND {visible('s.id')}",
                chunk,
            ):
                out[r[0]] = self._sample(r)
        return [out[i] for i in ids if i in out]

    def iter_samples(self, *, batch: int = 1000, after: int = 0) -> Iterator[Sample]:
        """Every sample in id order, paged by key (bounded memory)."""
        last = after
        while True:
            rows = self.conn.execute(
                f"SELECT {self._SAMPLE_COLS} FROM samples s JOIN sources src ON src.id = s.source_id"
                f" WHERE s.id > ? AND {visible('s.id')} ORDER BY s.id LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield self._sample(r)
            last = rows[-1][0]

    def related_by_hash(self, sample: Sample, limit: int = 50) -> list[tuple[int, str]]:
        """Samples sharing this one's content hash ('exact') or prompt hash with another answer."""
        out: list[tuple[int, str]] = []
        for (sid,) in self.conn.execute(
            f"SELECT id FROM samples WHERE content_hash = ? AND id != ? AND {visible()} ORDER BY id LIMIT ?",
            (sample.content_hash, sample.id, limit),
        ):
            out.append((sid, "exact duplicate"))
        if sample.prompt_chars:
            for (sid,) in self.conn.execute(
                "SELECT id FROM samples WHERE prompt_hash = ? AND answer_hash != ? AND id != ?"
                f" AND {visible()} ORDER BY id LIMIT ?",
                (sample.prompt_hash, sample.answer_hash, sample.id, limit),
            ):
                out.append((sid, "same prompt, different answer"))
        return out

    def kept_raw_by_source(self, goal_id: int, *, undecided: bool = False) -> Iterator[tuple[int, int, str, str]]:
        """(source_id, sample_id, raw, tags JSON) of kept samples (`undecided`: and of those not
        decided), in source then file order."""
        yield from self.conn.execute(
            written("s.source_id, s.id, s.raw, coalesce(d.tags, '[]')", undecided)
            + " ORDER BY s.source_id, s.position",
            (goal_id,),
        )

    def content_hashes(self, ids: Sequence[int]) -> list[tuple[int, str]]:
        """(sample id, content hash) of those of `ids` that exist."""
        out: list[tuple[int, str]] = []
        for chunk in chunks(list(ids), 500):
            q = ",".join("?" * len(chunk))
            out += self.conn.execute(
                f"SELECT id, content_hash FROM samples WHERE id IN ({q}) AND {visible()}", chunk
            ).fetchall()
        return out

    def repeated_systems(self, *, cancelled: Callable[[], bool] | None = None) -> dict[bytes, int] | None:
        """How many samples carry each system prompt that more than one sample carries, keyed by
        `system_key(text)` (a digest: a shared prompt may be long). One scan of the `system`
        column (it is stored before the turns, so their overflow pages are not read); for a
        worker, not a keypress: 3.8 s on the 1M-sample bench project, 2 cores, loaded. None when
        `cancelled()` said so."""
        out: dict[bytes, int] = {}
        rows = self.conn.execute(
            f"SELECT system, count(*) FROM samples WHERE system != '' AND {visible()} GROUP BY system HAVING count(*) > 1"
        )
        for i, (text, n) in enumerate(rows):
            if cancelled is not None and i % 256 == 0 and cancelled():
                return None
            out[system_key(text)] = int(n)
        return out

    def source_raws(self, source_id: int, limit: int = 1000, max_chars: int = 4 << 20) -> list[str]:
        """The raw text of a source's first `limit` records, in file order, and no more of them
        than up to the one that brings the text to `max_chars` (at least one): one record may
        hold 64 MiB, and a thousand of them were read into one list."""
        out: list[str] = []
        chars = 0
        cur = self.conn.execute(
            f"SELECT raw FROM samples WHERE source_id = ? AND {visible()} ORDER BY position LIMIT ?", (source_id, limit)
        )
        try:
            for (raw,) in cur:
                out.append(raw)
                chars += len(raw)
                if chars >= max_chars:
                    break
        finally:
            cur.close()  # a statement left part-read would hold its read snapshot open
        return out

    def has_sample(self, sample_id: int) -> bool:
        return (
            self.conn.execute(f"SELECT 1 FROM samples WHERE id = ? AND {visible()}", (sample_id,)).fetchone()
            is not None
        )
