"""Import orchestration: a file parsed into a stage file beside the project, then copied in by one
short transaction; and in-memory conversations added as a source."""

from __future__ import annotations

import errno
import glob
import hashlib
import json
import os
import secrets
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from ..model import Conversation, ImportReport, conversation_hashes
from .connection import now
from .errors import StorageError, mount_point, storage_error
from .samples import SampleRepo

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
COPY_CACHE_KIB = -65536  # the page cache while an import's stage is copied in: 64 MiB
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class ImportRepo(SampleRepo):
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
    ) -> ImportReport:
        """Import one file: all of it or (on any error) none of it.

        The file is parsed into a stage file beside the project (see `_stage`) without taking the
        project's write lock, then copied in by one short transaction: that transaction decides the
        new samples' ids and whether the content is already a source, so a review screen writing
        to the project meanwhile waits for the copy only, never for the parse. The stage file is
        removed on every way out (an error, SIGTERM/SIGINT raised as an exception); one left by a
        kill -9 is removed by the next import into the same project.

        progress(bytes_read, bytes_total, records) is called after each batch.
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
        if self.conn.execute("SELECT 1 FROM sources WHERE path = ?", (str(path),)).fetchone():
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
            self._stage(),
        ):
            return self._import_records(path, reader, progress, batch_size)

    def _import_records(
        self, path: Path, reader: SourceReader, progress: Callable[[int, int, int], None] | None, batch_size: int
    ) -> ImportReport:
        """Parse into the attached stage, then copy it into the project in one transaction."""
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

        try:
            held = 0  # characters of raw text in the batch: a batch of huge records is flushed early
            for rec in reader:
                conv = rec.conversation
                held += len(rec.raw)
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
        with self._copy_cache(), self.tx():
            # Decided here, under the write lock: another import may have finished meanwhile.
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
            cur = conn.execute(
                "INSERT INTO sources (path, name, sha256, format, container, mapping, header, records, imported_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    str(path),
                    path.name,
                    digest,
                    reader.format,
                    reader.container,
                    json.dumps(reader.mapping, ensure_ascii=False),
                    reader.header,
                    added,
                    now(),
                ),
            )
            source_id = int(cur.lastrowid or 0)
            # Ids follow the project's last sample, in file order.
            conn.execute(
                f"INSERT INTO samples (source_id, {_STAGE_COLUMNS})"
                f" SELECT ?, {_STAGE_COLUMNS} FROM stage.samples ORDER BY seq",
                (source_id,),
            )
            total = int(self._meta_get("total_samples") or 0) + added
            self._meta_set("total_samples", str(total))
            source = self.source(source_id)  # read before COMMIT: once committed, nothing may fail
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

    # -- the stage file

    def _stage_name(self) -> str:
        return f"{self.path.name}.import-{os.getpid()}-{secrets.token_hex(4)}.stage"

    @contextmanager
    def _stage(self) -> Iterator[Path]:
        """A new stage file beside the project, `<project>.import-<pid>-<random>.stage`, attached to
        this connection as `stage` with one table, `stage.samples`; detached and removed however
        the block ends. While it exists the import holds an exclusive flock on it, which is how
        the next import tells a stale one (left by a kill -9 or a power cut) from a running one.
        The stage keeps no journal on disk and is never fsynced: nothing in it needs to survive."""
        self._remove_stale_stages()
        stage, fd = self._new_stage_file()
        attached = False
        try:
            try:
                self._detach_stage()  # one a failed DETACH of an earlier import left attached
                self.conn.execute("ATTACH DATABASE ? AS stage", (str(stage),))
                attached = True
                self.conn.execute("PRAGMA stage.journal_mode = MEMORY")
                self.conn.execute("PRAGMA stage.synchronous = OFF")
                self.conn.execute(
                    "CREATE TABLE stage.samples (seq INTEGER PRIMARY KEY, position INTEGER NOT NULL,"
                    " line INTEGER NOT NULL, system TEXT NOT NULL, turns TEXT NOT NULL, tools TEXT NOT NULL,"
                    " raw TEXT NOT NULL, content_hash TEXT NOT NULL, prompt_hash TEXT NOT NULL,"
                    " answer_hash TEXT NOT NULL, prompt_chars INTEGER NOT NULL, answer_chars INTEGER NOT NULL,"
                    " n_turns INTEGER NOT NULL, rejected TEXT NOT NULL, label INTEGER, media TEXT NOT NULL)"
                )
            except sqlite3.Error as e:
                self._staging_failed(e)
            yield stage
        finally:
            if attached:
                try:
                    self._detach_stage()
                except sqlite3.Error:
                    pass  # the file goes anyway; the next import detaches it first
            for suffix in ("", "-journal"):
                try:
                    os.unlink(str(stage) + suffix)
                except OSError:
                    pass
            os.close(fd)

    def _new_stage_file(self) -> tuple[Path, int]:
        while True:
            stage = self.path.parent / self._stage_name()
            try:
                fd = os.open(stage, os.O_RDWR | os.O_CREAT | os.O_EXCL | _O_CLOEXEC, 0o600)
            except FileExistsError:
                continue
            except OSError as e:
                raise self._stage_os_error(stage, e) from e
            # Another import may have opened it as stale in the instant before the lock: then
            # this one is not ours alone, and a new name is taken.
            if _try_lock(fd) is not False and _same_file(stage, fd):
                return stage, fd
            os.close(fd)

    def _remove_stale_stages(self) -> None:
        """Remove the stage files beside the project that no running import holds. Where flock is
        not available (Windows) removal is simply tried: there an open file cannot be removed."""
        try:
            found = list(self.path.parent.glob(glob.escape(self.path.name) + ".import-*.stage"))
        except OSError:
            return
        for p in found:
            try:
                fd = os.open(p, os.O_RDONLY | _O_CLOEXEC)
            except OSError:
                continue
            try:
                if _try_lock(fd) is True:
                    for suffix in ("", "-journal"):
                        Path(str(p) + suffix).unlink(missing_ok=True)
            except OSError:
                pass
            finally:
                os.close(fd)

    def _detach_stage(self) -> None:
        if any(r[1] == "stage" for r in self.conn.execute("PRAGMA database_list").fetchall()):
            self.conn.execute("DETACH DATABASE stage")

    def _staging_failed(self, e: sqlite3.Error) -> NoReturn:
        """A refusal while the stage is written, told as the project's: the stage lies beside it,
        on the same disk, and nothing was written to the project."""
        err = storage_error(self.path, e)
        if err is None:
            raise e
        raise err from e

    def _stage_os_error(self, stage: Path, e: OSError) -> StorageError:
        why = e.strerror or str(e)
        if e.errno in (errno.ENOSPC, errno.EDQUOT):
            kind = "full"
            where = mount_point(self.path)
            todo = f"disk full — nothing was written; free space on {where}, then try again"
        elif e.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            kind = "read-only"
            todo = (
                f"cannot create the import's temporary file in {stage.parent} ({why}) — nothing was written; "
                "an import needs to write beside the project: make the folder writable, or copy the project "
                "somewhere writable"
            )
        else:
            kind = "io"
            todo = (
                f"cannot create the import's temporary file {stage.name} ({why}) — nothing was written; check the disk"
            )
        return StorageError(self.path, kind, f"{self.path}: {todo}")

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
        with self.tx() as conn:
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


def _try_lock(fd: int) -> bool | None:
    """An exclusive flock on fd, without waiting: True when taken, False when another open file
    holds it, None when the file system refuses locks. True where flock does not exist (Windows)."""
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:
        return None
    return True


def _same_file(path: Path, fd: int) -> bool:
    try:
        a, b = os.stat(path), os.fstat(fd)
    except OSError:
        return False
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)
