"""Import orchestration: a file parsed into a stage file beside the project, then copied in by short
transactions that keep it hidden until the last one shows all of it; and in-memory conversations
added as a source."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ..model import Conversation, ImportReport, conversation_hashes
from .connection import now
from .errors import StorageError
from .samples import PENDING_FROM, PENDING_SOURCE, PENDING_STAGE, visible_source
from .staging import StagingRepo

if TYPE_CHECKING:
    from ..importers import SourceReader

# An import writes its rows in batches of `batch_size` records or of this many characters of raw
# text, whichever comes first: memory stays bounded when every record is large.
BATCH_CHARS = 32 << 20
# The stage's columns, as `samples` has them (less source_id, which the copy adds).
_STAGE_COLUMNS = (
    "position, line, system, turns, tools, raw, content_hash, prompt_hash, answer_hash, prompt_chars, answer_chars,"
    " n_turns, rejected, label, media"
)
MAX_ID = 2**63 - 1  # SQLite's largest integer: no sample id is above it
# Every column that names a sample by id (tests/test_import_ids.py checks the schema has no other).
_SAMPLE_ID_COLUMNS = (
    ("samples", ("id",)),
    ("events", ("sample_id",)),
    ("decisions", ("sample_id",)),
    ("decision_tags", ("sample_id",)),
    ("analysis_texts", ("sample_id",)),
    ("dup_clusters", ("sample_id", "partner")),
    ("dup_queue", ("sample_id",)),
    ("leaks", ("sample_id",)),
    ("style_samples", ("sample_id",)),
    ("style_flags", ("sample_id", "partner")),
    ("style_queue", ("sample_id",)),
    ("batch_items", ("sample_id",)),
    ("export_items", ("sample_id",)),
    ("goal_relevance", ("sample_id",)),
    ("pair_flags", ("sample_id", "partner")),
    ("pair_queue", ("sample_id",)),
)
COPY_CACHE_KIB = -65536  # the page cache while an import's stage is copied in: 64 MiB


class ImportRepo(StagingRepo):
    """Writes `sources` and `samples` (the only writer of either)."""

    def import_file(
        self,
        path: str | Path,
        *,
        mapping: dict[str, str] | None = None,
        fmt: str | None = None,
        skip_invalid: bool = False,
        progress: Callable[[int, int, int], None] | None = None,
        batch_size: int = 5000,
        max_record_bytes: int | None = None,
        copied: Callable[[int, int], None] | None = None,
    ) -> ImportReport:
        """Import one file: all of it or (on any error) none of it, for every reader.

        The file is parsed into a stage file beside the project (see `_stage`) without taking the
        project's write lock. Then one short transaction decides, under the lock, whether the
        content is already a source and whether any record was read, and reserves the new samples'
        ids (after the project's last sample, in file order) and a placeholder `sources` row; the
        stage is copied in by transactions of at most COPY_ROWS records (COPY_CHARS of text), the
        rows hidden from every reader (`samples.visible`), and a last short transaction makes the
        whole file visible at once (the source row, `total_samples`, the visibility bound). A review
        screen writing meanwhile waits for one of those transactions at most, never for the parse
        or the whole copy. On an error the copied rows are removed again. The stage file is removed
        on every way out (an error, SIGTERM/SIGINT raised as an exception); a stage file and hidden
        rows left by a kill -9 are removed by the next import into the same project (see
        `_drop_pending`), which then imports the file exactly once.

        progress(bytes_read, bytes_total, records) is called after each batch of the parse;
        copied(records_copied, records) after each committed transaction of the copy.
        Raises importers.InputError for bad input; the database is then exactly as it was.
        The file is read once: the pass that parses it also hashes it, so the sha256 recorded is
        that of exactly the bytes imported, and a file that changed during the read is refused.
        A file whose content is already a source is "already imported" (found by the recorded
        path and a hash of the file before parsing, or by the hash after the parse).
        """
        from ..importers import DEFAULT_MAX_RECORD, open_source, refuse_non_regular

        refuse_non_regular(path)  # before resolve(): a piped /dev/stdin resolves to an unopenable name
        path = Path(path).resolve()
        if not self.read_only:
            # Before the "already imported" answer too: a kill -9 after the copy committed leaves
            # the stage, and re-running that import is exactly what the user does next.
            self._remove_stale_stages()
            self._drop_stale_pending()
        if self.conn.execute(f"SELECT 1 FROM sources WHERE path = ? AND {visible_source()}", (str(path),)).fetchone():
            # Re-opening a file imported before (`winnow data.jsonl` each session): a hash is
            # cheaper than a parse.
            row = self.conn.execute("SELECT id FROM sources WHERE sha256 = ?", (file_sha256(path),)).fetchone()
            if row:
                return ImportReport(self.source(row[0]), 0, True, 0, ())
        if self.read_only:
            with self.tx():  # raises the read-only StorageError, before a stage file is made
                pass
        with (
            open_source(
                path,
                mapping=mapping,
                fmt=fmt,
                skip_invalid=skip_invalid,
                max_record_bytes=max_record_bytes or DEFAULT_MAX_RECORD,
            ) as reader,
            self._stage() as stage,
        ):
            return self._import_records(path, reader, progress, batch_size, stage.name, copied)

    def _import_records(
        self,
        path: Path,
        reader: SourceReader,
        progress: Callable[[int, int, int], None] | None,
        batch_size: int,
        stage: str,
        copied: Callable[[int, int], None] | None,
    ) -> ImportReport:
        """Parse into the attached stage, then copy it into the project (see import_file)."""
        conn = self.conn
        insert = f"INSERT INTO stage.samples ({_STAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        added = 0
        batch: list[tuple] = []
        shown = {"pairs": 0, "desirable": 0, "undesirable": 0, "with_media": 0}

        def flush() -> None:
            # A plain BEGIN, never IMMEDIATE: IMMEDIATE would take the write lock of every attached
            # database, the project's too. Deferred, the batch locks the stage file alone.
            conn.execute("BEGIN")
            try:
                conn.executemany(insert, batch)
                conn.execute("COMMIT")
            except BaseException:
                try:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
                raise

        cuts: list[int] = []  # the stage seq each copy transaction ends at
        in_cut = cut_chars = 0
        try:
            held = 0  # characters of raw text in the batch: a batch of huge records is flushed early
            for rec in reader:
                conv = rec.conversation
                held += len(rec.raw)
                in_cut += 1
                cut_chars += len(rec.raw)
                if in_cut >= self.COPY_ROWS or cut_chars >= self.COPY_CHARS:
                    cuts.append(added + len(batch) + 1)
                    in_cut = cut_chars = 0
                shown["pairs"] += bool(conv.rejected)
                if conv.label is not None:
                    shown["desirable" if conv.label else "undesirable"] += 1
                shown["with_media"] += bool(conv.media)
                h = conversation_hashes(conv)
                batch.append(
                    (
                        rec.position,
                        rec.line,
                        conv.system,
                        conv.turns_json(),
                        conv.tools,
                        rec.raw,
                        h.content,
                        h.prompt,
                        h.answer,
                        h.prompt_chars,
                        h.answer_chars,
                        len(conv.turns),
                        conv.rejected_json(),
                        None if conv.label is None else int(conv.label),
                        conv.media_json(),
                    )
                )
                if len(batch) >= batch_size or held >= BATCH_CHARS:
                    flush()
                    added += len(batch)
                    batch.clear()
                    held = 0
                    if progress:
                        progress(reader.bytes_read, reader.bytes_total, added)
            if batch:
                flush()
                added += len(batch)
                batch.clear()
            repeated, examples = self._repeats_in_stage()
        except sqlite3.Error as e:
            self._staging_failed(e)
        digest = reader.sha256  # set by a complete read of a file that did not change
        assert digest is not None
        if in_cut:
            cuts.append(added)
        with self._samples_tx():
            # Decided here, under the write lock, before anything is visible: another import may
            # have finished meanwhile (and none is copying in now: _samples_tx waited for it).
            row = conn.execute("SELECT id FROM sources WHERE sha256 = ?", (digest,)).fetchone()
            if row:
                return ImportReport(self.source(int(row[0])), 0, True, 0, ())
            if added == 0:
                from ..importers import InputError

                raise InputError(
                    str(path),
                    None,
                    "no records could be imported",
                    "check the file, or drop --skip-invalid to see the first error",
                )
            # The placeholder source: its sha256 is set in the last transaction (until then no
            # "already imported" answer can come from it; none of its rows is visible).
            cur = conn.execute(
                "INSERT INTO sources (path, name, sha256, format, container, mapping, header, records, imported_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?)",
                (
                    str(path),
                    path.name,
                    f"pending:{stage}",
                    reader.format,
                    reader.container,
                    json.dumps(reader.mapping, ensure_ascii=False),
                    reader.header,
                    now(),
                ),
            )
            source_id = int(cur.lastrowid or 0)
            first = self._first_free_id(conn)
            if first + added - 1 > MAX_ID:
                raise StorageError(
                    self.path,
                    "other",
                    f"{self.path}: sample numbers would pass {MAX_ID:,} (the project's numbers reach"
                    f" #{first - 1:,}) — import into a new project",
                )
            self._meta_set(PENDING_STAGE, stage)
            self._meta_set(PENDING_SOURCE, str(source_id))
            self._meta_set(PENDING_FROM, str(first))
        pending = (stage, source_id, first)
        try:
            with self._copy_cache():
                lo = 0
                for hi in cuts:
                    with self.tx():
                        self._still_ours(pending)
                        # Ids follow the project's last sample, in file order.
                        n = conn.execute(
                            f"INSERT INTO samples (id, source_id, {_STAGE_COLUMNS})"
                            f" SELECT ? + seq, ?, {_STAGE_COLUMNS} FROM stage.samples"
                            " WHERE seq > ? AND seq <= ? ORDER BY seq",
                            (first - 1, source_id, lo, hi),
                        ).rowcount
                    if n != hi - lo:
                        raise StorageError(
                            self.path, "io", f"{self.path}: the import's stage lost records — nothing was imported"
                        )
                    lo = hi
                    if copied:
                        copied(lo, added)
                with self.tx():
                    # The flip: the whole file becomes visible at once.
                    self._still_ours(pending)
                    conn.execute(
                        "UPDATE sources SET sha256 = ?, records = ?, imported_at = ? WHERE id = ?",
                        (digest, added, now(), source_id),
                    )
                    for key in (PENDING_FROM, PENDING_SOURCE, PENDING_STAGE):
                        conn.execute("DELETE FROM meta WHERE key = ?", (key,))
                    total = int(self._meta_get("total_samples") or 0) + added
                    self._meta_set("total_samples", str(total))
                    source = self.source(source_id)  # read before COMMIT: once committed, nothing may fail
        except BaseException:
            try:
                self._drop_pending(pending)
            except (sqlite3.Error, StorageError):
                pass  # still hidden; the next import into the project removes it
            raise
        if progress:
            progress(reader.bytes_total, reader.bytes_total, added)
        return ImportReport(
            source,
            added,
            False,
            repeated,
            examples,
            tuple(reader.skipped),
            reader.skipped_total,
            **shown,
            respelt=reader.respelt,
        )

    @staticmethod
    def _first_free_id(conn: sqlite3.Connection) -> int:
        """The first id no table names: above the last sample and above every sample id that a
        decision, an event, a tag, a batch, an export or an analysis row carries. A project file
        from elsewhere may hold decisions for samples it does not have; new samples must never
        arrive already decided (red team, 2026-12-04: the recipient's own sample arrived dropped)."""
        top = 0
        for table, cols in _SAMPLE_ID_COLUMNS:
            for col in cols:
                v = conn.execute(f"SELECT max({col}) FROM {table}").fetchone()[0]  # an index answers it
                if v is not None and not isinstance(v, int):  # text or a blob sorts above integers
                    q = f"SELECT max({col}) FROM {table} WHERE typeof({col}) = 'integer'"
                    v = conn.execute(q).fetchone()[0]
                top = max(top, int(v or 0))
        return top + 1

    @contextmanager
    def _copy_cache(self) -> Iterator[None]:
        """A larger page cache for the copy: the project's indexes stay in memory while it runs,
        which shortens the time the write lock is held (~20% at 200,000 records). Restoring it
        may not fail the import: it has committed by then."""
        try:
            old = int(self.conn.execute("PRAGMA main.cache_size").fetchone()[0])
            self.conn.execute(f"PRAGMA main.cache_size = {COPY_CACHE_KIB}")
        except sqlite3.Error as e:
            self._staging_failed(e)
        try:
            yield
        finally:
            try:
                self.conn.execute(f"PRAGMA main.cache_size = {old}")
            except sqlite3.Error:
                pass

    def add_conversations(self, name: str, conversations: Iterable[Conversation], *, batch_size: int = 5000) -> int:
        """Add in-memory conversations as one source named `name`, in one transaction.

        For generated data (the 1M-sample benchmark, test fixtures) where no file exists; each
        record's `raw` is the OpenAI `messages` JSON it would have had in a file.
        """
        insert = (
            "INSERT INTO samples (source_id, position, line, system, turns, tools, raw, content_hash,"
            " prompt_hash, answer_hash, prompt_chars, answer_chars, n_turns)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        digest = hashlib.sha256()
        added = 0
        if not self.read_only:
            self._remove_stale_stages()
        with self._samples_tx() as conn:
            cur = conn.execute(
                "INSERT INTO sources (path, name, sha256, format, container, mapping, header, records, imported_at)"
                " VALUES (?, ?, ?, 'openai', 'generated', '{}', NULL, 0, ?)",
                (f"generated:{name}", name, f"pending:{os.getpid()}:{now()}", now()),
            )
            source_id = int(cur.lastrowid or 0)
            batch: list[tuple] = []
            for conv in conversations:
                if conv.rejected or conv.label is not None or conv.media:
                    # Their raw (an OpenAI `messages` object) could not carry them: no silent loss.
                    raise ValueError("add_conversations takes plain conversations: no pairs, labels or media")
                messages = ([{"role": "system", "content": conv.system}] if conv.system else []) + [
                    t.to_json() for t in conv.turns
                ]
                raw = json.dumps({"messages": messages}, ensure_ascii=False)
                digest.update(raw.encode("utf-8", "surrogatepass") + b"\n")
                h = conversation_hashes(conv)
                batch.append(
                    (
                        source_id,
                        added + len(batch),
                        added + len(batch) + 1,
                        conv.system,
                        conv.turns_json(),
                        conv.tools,
                        raw,
                        h.content,
                        h.prompt,
                        h.answer,
                        len(conv.prompt_text()),
                        len(conv.answer_text()),
                        len(conv.turns),
                    )
                )
                if len(batch) >= batch_size:
                    conn.executemany(insert, batch)
                    added += len(batch)
                    batch.clear()
            if batch:
                conn.executemany(insert, batch)
                added += len(batch)
            conn.execute(
                "UPDATE sources SET records = ?, sha256 = ? WHERE id = ?", (added, digest.hexdigest(), source_id)
            )
            self._meta_set("total_samples", str(int(self._meta_get("total_samples") or 0) + added))
        return added

    def _repeats_in_stage(self) -> tuple[int, tuple[tuple[int, int], ...]]:
        """Records repeating an earlier record of the same file (kept, but reported), counted in the
        stage before the copy: the project's write lock is not held for it."""
        self.conn.execute("CREATE INDEX stage.stage_content_hash ON samples(content_hash, seq)")
        rows = self.conn.execute(
            "SELECT content_hash, count(*), min(seq) FROM stage.samples GROUP BY content_hash HAVING count(*) > 1"
        ).fetchall()
        repeated = sum(n - 1 for _, n, _ in rows)
        examples = []
        for h, _, first in rows[:5]:
            # By seq, not line: the records of a one-line JSON array all start on line 1.
            (first_line, line), *_ = self.conn.execute(
                "SELECT (SELECT line FROM stage.samples WHERE seq = ?), line FROM stage.samples"
                " WHERE content_hash = ? AND seq > ? ORDER BY seq LIMIT 1",
                (first, h, first),
            ).fetchall()
            examples.append((line, first_line))
        return repeated, tuple(sorted(examples))


def file_sha256(path: Path) -> str:
    """The sha256 of a regular file (importers.InputError for a FIFO, a device, a directory, or a
    file that changed while it was hashed)."""
    from ..importers.source import SourceFile

    with SourceFile(path) as src:
        src.finish(src.hashing())
        assert src.sha256 is not None
        return src.sha256
