"""The project file: one SQLite database per curation project. Every SQL statement lives here.

Transactions are explicit: the connection runs in autocommit mode and each write method wraps
its statements in one `BEGIN IMMEDIATE ... COMMIT`, so a method either happened entirely or not
at all, and has happened (on disk, WAL + synchronous=FULL) when it returns.

When the file refuses a write (busy, read-only, disk full, an I/O error) the transaction is rolled
back and `StorageError` says what happened, which file, and what to do; the Store stays usable.
A project that cannot be written (a read-only mount, no write permission) opens read-only:
reading works, every write raises StorageError("read-only").
"""

from __future__ import annotations

import errno
import glob
import hashlib
import json
import os
import re
import secrets
import shutil
import sqlite3
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from sqlite_utils import Database

from . import schema
from .migrations import migrations
from .model import (
    DEFAULT_REASON,
    REASONS,
    UNDECIDED,
    Conversation,
    Counts,
    Decision,
    Goal,
    ImportReport,
    Sample,
    Source,
    conversation_hashes,
)


class ProjectError(Exception):
    """A project file that cannot be used as asked; the message says why and what to do."""


class GoalError(ValueError):
    """A goal sentence that cannot be accepted."""


class GoalChanged(ProjectError):
    """A write under a goal refused because the goal changed since the writer read it (another
    process edited it): nothing was written. `goal` is the goal as the file holds it now."""

    def __init__(self, path: Path, goal: Goal, message: str = "") -> None:
        super().__init__(
            message
            or f"{path}: goal #{goal.id} was changed by another process — nothing was written; "
            f"it now reads: {goal.sentence}"
        )
        self.goal = goal


class GoalArchived(GoalChanged):
    """A write into an archived goal refused: nothing was written."""

    def __init__(self, path: Path, goal: Goal) -> None:
        super().__init__(
            path,
            goal,
            f"{path}: goal #{goal.id} is archived — nothing was written; restore it with "
            f"`winnow goal archive {goal.id} --restore`, or review another goal",
        )


class StorageError(ProjectError):
    """The project file refused a read or a write: `kind` is busy, full, read-only, io, damaged or
    other. What the failed step wrote was rolled back; the message names the file, says what
    happened and what to do."""

    def __init__(self, path: Path, kind: str, message: str, holder: str = "") -> None:
        super().__init__(message)
        self.path = path
        self.kind = kind
        self.holder = holder  # busy: who is writing to the file, as far as is known


# SQLite primary result codes (the low byte of an extended code) that mean the file refused us.
_STORAGE_KINDS = {5: "busy", 6: "busy", 8: "read-only", 10: "io", 11: "damaged", 13: "full", 14: "other", 26: "damaged"}


def storage_error(path: Path, e: sqlite3.Error) -> StorageError | None:
    """The StorageError for an sqlite3 error that comes from the file (None for a bug, e.g. bad SQL)."""
    code = getattr(e, "sqlite_errorcode", None)
    kind = _STORAGE_KINDS.get(code & 0xFF) if isinstance(code, int) else None
    if kind is None:
        text = str(e).lower()
        needles = (
            ("locked", "busy"),
            ("readonly", "read-only"),
            ("disk is full", "full"),
            ("i/o error", "io"),
            ("malformed", "damaged"),
            ("not a database", "damaged"),
        )
        kind = next((k for needle, k in needles if needle in text), None)
    if kind is None:
        return None
    if kind == "io":
        try:  # ENOSPC where SQLite says I/O error (growing the -shm, say): tell it as a full disk
            if shutil.disk_usage(Path(os.path.abspath(path)).parent).free < 1 << 20:
                kind = "full"
        except OSError:
            pass
    holder = ""
    if kind == "busy":
        holder = write_lock_holder(path) or "another program"
        todo = f"{holder} is writing to it; nothing was written — try again when it has finished"
    elif kind == "full":
        where = mount_point(path)
        try:
            free = f", {shutil.disk_usage(where).free // 1024:,} KiB free"
        except OSError:
            free = ""
        todo = f"disk full — nothing was written; free space on {where}{free}, then try again"
    elif kind == "read-only":
        todo = f"read-only ({why_read_only(path)}) — nothing was written; copy it somewhere writable and use the copy"
    elif kind == "io":
        detail = str(e) if "i/o error" in str(e).lower() else f"disk I/O error ({e})"
        todo = f"{detail} — nothing was written; check the disk (dmesg), then try again"
    elif kind == "damaged":
        todo = f"the file is damaged ({e}) — nothing was written; restore a backup, or try `sqlite3 {path} .recover`"
    else:
        todo = f"cannot use the file ({e}) — nothing was written; check the file and its folder"
    message = f"{path}: busy — {todo}" if kind == "busy" else f"{path}: {todo}"
    return StorageError(path, kind, message, holder)


def mount_point(path: Path) -> Path:
    p = Path(os.path.abspath(path)).parent
    while not os.path.ismount(p) and p != p.parent:
        p = p.parent
    return p


def why_read_only(path: Path) -> str:
    try:
        if os.statvfs(path.parent if not path.exists() else path).f_flag & os.ST_RDONLY:
            return f"{mount_point(path)} is mounted read-only"
    except OSError:
        pass
    return "no write permission"


def write_lock_holder(path: Path) -> str | None:
    """Who holds the project's write lock, from /proc/locks (Linux; None elsewhere or unknown).

    In WAL mode SQLite's writer holds a POSIX lock on byte 120 of the -shm file."""
    try:
        ino = os.stat(str(path) + "-shm").st_ino
        with open("/proc/locks") as fh:
            lines = fh.read().splitlines()
    except OSError:
        return None
    for line in lines:
        f = line.split()
        # "1: POSIX  ADVISORY  WRITE 4242 00:2f:1234 120 120" (a "->" marks a blocked waiter)
        if len(f) >= 8 and f[1] == "POSIX" and f[3] == "WRITE" and f[5].rsplit(":", 1)[-1] == str(ino):
            if f[6] != "120":
                continue
            pid = int(f[4])
            if pid == os.getpid():
                return "this winnow's own background work (analysis, export)"
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as fh:
                    cmd = " ".join(fh.read().replace(b"\0", b" ").decode("utf-8", "replace").split())
            except OSError:
                cmd = ""
            return f"process {pid}" + (f" ({cmd[:60]})" if cmd else "")
    return None


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


if TYPE_CHECKING:
    from .importers import SourceReader

# An import writes its rows in batches of `batch_size` records or of this many characters of raw
# text, whichever comes first: memory stays bounded when every record is large.
BATCH_CHARS = 32 << 20
# The stage's columns, as `samples` has them (less source_id, which the copy adds).
_STAGE_COLUMNS = (
    "position, line, system, turns, tools, raw, content_hash, prompt_hash, answer_hash, prompt_chars, answer_chars,"
    " n_turns"
)
COPY_CACHE_KIB = -65536  # the page cache while an import's stage is copied in: 64 MiB
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_NOTADB = 26
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


def _ascii_lower(s: str) -> str:
    """Lower-case as SQLite's lower() does: ASCII letters only."""
    return s.translate(_ASCII_LOWER)


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


class Store:
    """Owns one project file and every SQL statement run against it.

    One Store = one connection; do not share a Store across threads (a worker opens its own).
    """

    # The sqlite3.Connection class every Store opens: a seam for the reliability suite, which
    # swaps in a subclass that fails the n-th call (reliability/scenarios/faults.py).
    connection_class: type[sqlite3.Connection] = sqlite3.Connection
    BUSY_TIMEOUT_MS = 5000  # how long a write waits for another writer before "busy"

    def __init__(self, path: str | Path, *, create: bool = True, check_same_thread: bool = False):
        self.path = Path(path)
        exists = self.path.exists() and self.path.stat().st_size > 0
        if not exists and not create:
            raise ProjectError(
                f"{self.path}: no such project file — create one with `winnow import FILE --db {self.path}`"
            )
        # The file is never opened here except through SQLite: closing any descriptor of it drops
        # every POSIX lock this process holds on it, SQLite's too, and then another process that
        # closes the project takes it for unused and deletes the WAL under our open connection
        # (the decisions written after that are lost). SQLite itself says "not a database".
        # access() is also false on a read-only mount, for root too.
        self.read_only = exists and not os.access(self.path, os.W_OK)
        self._depth = 0  # > 0 inside tx()
        self._synchronous = ""
        conn = self._connect(check_same_thread)
        self.conn = conn
        try:
            self.db = Database(conn, execute_plugins=False)
            self.set_busy_timeout(self.BUSY_TIMEOUT_MS)
            # Before anything writes (even the switch to WAL, which rewrites the header): a file
            # that is not winnow's, or whose schema holds objects winnow did not create, is refused
            # exactly as it was.
            self._check_file(fresh=not exists)
            if not self.read_only:
                mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                if mode.lower() != "wal":
                    raise ProjectError(f"{self.path}: could not switch to WAL mode (got {mode})")
                self._sync(durable=True)
            conn.execute("PRAGMA foreign_keys = ON")
            self._migrate(fresh=not exists)
        except sqlite3.DatabaseError as e:
            conn.close()
            if getattr(e, "sqlite_errorcode", None) == SQLITE_NOTADB:
                raise self._not_sqlite() from e
            raise storage_error(self.path, e) or ProjectError(
                f"{self.path}: cannot use this file ({e}) — is it a winnow project?"
            ) from e
        except ProjectError:
            conn.close()
            raise

    def _connect(self, check_same_thread: bool) -> sqlite3.Connection:
        def connect(target: str, uri: bool = False) -> sqlite3.Connection:
            conn = sqlite3.connect(
                target,
                isolation_level=None,
                check_same_thread=check_same_thread,
                uri=uri,
                factory=self.connection_class,
            )
            try:
                schema.harden(conn)  # the file's schema is untrusted: trusted_schema=OFF, defensive mode
            except BaseException:
                conn.close()
                raise
            return conn

        try:
            if not self.read_only:
                return connect(str(self.path))
            # A WAL project opens read-only when SQLite can keep its -shm beside it; on a read-only
            # mount it cannot, and `immutable` (no locks, no -shm) is right: nothing can change it.
            base = "file:" + urllib.parse.quote(str(self.path.resolve()))
            conn = connect(base + "?mode=ro", uri=True)
            try:
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return conn
            except sqlite3.OperationalError:
                conn.close()
            wal = Path(str(self.path) + "-wal")
            if wal.exists() and wal.stat().st_size > 0:
                raise ProjectError(
                    f"{self.path}: read-only ({why_read_only(self.path)}), and its latest changes are still in "
                    f"{wal.name} — copy the project with its -wal file somewhere writable and use the copy"
                )
            return connect(base + "?immutable=1", uri=True)
        except sqlite3.Error as e:
            if getattr(e, "sqlite_errorcode", None) == SQLITE_NOTADB:
                raise self._not_sqlite() from e
            raise ProjectError(f"{self.path}: cannot open ({e}) — check the path and its permissions") from e

    def _not_sqlite(self) -> ProjectError:
        return ProjectError(
            f"{self.path}: not a winnow project (not an SQLite file) — pass a .db made by `winnow import`"
        )

    def set_busy_timeout(self, ms: int) -> None:
        """How long a write waits for another writer before failing with StorageError("busy")."""
        self.conn.execute(f"PRAGMA busy_timeout = {int(ms)}")

    def _sync(self, *, durable: bool) -> None:
        want = "FULL" if durable else "NORMAL"
        if self._synchronous != want:
            self.conn.execute(f"PRAGMA synchronous = {want}")
            self._synchronous = want

    # ------------------------------------------------------------------ lifecycle

    def _check_file(self, *, fresh: bool) -> None:
        """Refuse a file from a newer winnow, one that is not a winnow project, and one whose schema
        is not exactly what winnow's migrations create (review/schema.py); reads only."""
        known = {m.name for m in migrations._migrations}
        applied = [m.name for m in migrations.applied(self.db)]
        unknown = [n for n in applied if n not in known]
        if unknown:
            raise ProjectError(
                f"{self.path}: written by a newer winnow (schema step {unknown[-1]} is unknown here) — "
                "upgrade: pip install -U winnow-review"
            )
        if not applied and not fresh:
            tables = set(self.db.table_names())
            if tables - {"_sqlite_migrations"}:
                raise ProjectError(
                    f"{self.path}: an SQLite file, but not a winnow project — give winnow its own .db file"
                )
        found = schema.problems(self.conn)
        if found:
            raise ProjectError(schema.refusal(self.path, found))

    def _migrate(self, *, fresh: bool) -> None:
        if migrations.pending(self.db):
            if self.read_only:
                raise ProjectError(
                    f"{self.path}: read-only ({why_read_only(self.path)}), and made by an older winnow — "
                    "copy it somewhere writable and open the copy once, to upgrade it"
                )
            # One transaction: a new or upgraded project is either complete or as it was.
            with self.tx():
                migrations.apply(self.db)
                self._meta_set("schema", ",".join(m.name for m in migrations._migrations))
                if self._meta_get("created_at") is None:
                    self._meta_set("created_at", now())
                    self._meta_set("total_samples", "0")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def tx(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction; IMMEDIATE so a second writer waits instead of failing midway.

        Nested calls join the outer transaction. On any error everything is rolled back (a failed
        COMMIT too) and a refusal by the file is raised as StorageError; the Store stays usable.
        `durable=False` commits without waiting for fsync (see save_goal_state)."""
        if self._depth:
            yield self.conn
            return
        if self.read_only:
            raise StorageError(
                self.path,
                "read-only",
                f"{self.path}: read-only ({why_read_only(self.path)}) — nothing was written; "
                "copy it somewhere writable and use the copy",
            )
        try:
            if self.conn.in_transaction:  # left open by a ROLLBACK that failed: end it first
                self.conn.execute("ROLLBACK")
            self._sync(durable=durable)
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            err = storage_error(self.path, e)
            if err is None:
                raise
            raise err from e
        self._depth = 1
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException as e:
            if self.conn.in_transaction:
                try:
                    self.conn.execute("ROLLBACK")
                except sqlite3.Error:
                    pass  # still open: the next tx() ends it before it begins
            err = storage_error(self.path, e) if isinstance(e, sqlite3.Error) else None
            if err is None:
                raise
            raise err from e
        finally:
            self._depth = 0

    def _meta_get(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _meta_set(self, key: str, value: str) -> None:
        self.conn.execute(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def meta(self, key: str) -> str | None:
        return self._meta_get(key)

    def set_meta(self, key: str, value: str) -> None:
        with self.tx():
            self._meta_set(key, value)

    # ------------------------------------------------------------------ import

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
        from .importers import DEFAULT_MAX_RECORD, open_source

        path = Path(path).resolve()
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
        insert = f"INSERT INTO stage.samples ({_STAGE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        added = 0
        batch: list[tuple] = []

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
                from .importers import InputError

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
        return ImportReport(source, added, False, repeated, examples, tuple(reader.skipped))

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
                    " n_turns INTEGER NOT NULL)"
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
            "SELECT content_hash, count(*), min(line) FROM stage.samples GROUP BY content_hash HAVING count(*) > 1"
        ).fetchall()
        repeated = sum(n - 1 for _, n, _ in rows)
        examples = []
        for h, _, first in rows[:5]:
            line = self.conn.execute(
                "SELECT line FROM stage.samples WHERE content_hash = ? AND line > ? ORDER BY seq LIMIT 1", (h, first)
            ).fetchall()[0][0]
            examples.append((line, first))
        return repeated, tuple(sorted(examples))

    # ------------------------------------------------------------------ sources & samples

    def sources(self) -> list[Source]:
        return [self._source(r) for r in self.conn.execute("SELECT * FROM sources ORDER BY id")]

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
        " s.content_hash, s.prompt_hash, s.answer_hash, s.prompt_chars, s.answer_chars"
    )

    def sample(self, sample_id: int) -> Sample | None:
        r = self.conn.execute(
            f"SELECT {self._SAMPLE_COLS} FROM samples s JOIN sources src ON src.id = s.source_id WHERE s.id = ?",
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
            conversation=Conversation.from_stored(r[5], r[6], r[7]),
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
                f"SELECT {self._SAMPLE_COLS} FROM samples s JOIN sources src ON src.id = s.source_id WHERE s.id IN ({q})",
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
                " WHERE s.id > ? ORDER BY s.id LIMIT ?",
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
            "SELECT id FROM samples WHERE content_hash = ? AND id != ? ORDER BY id LIMIT ?",
            (sample.content_hash, sample.id, limit),
        ):
            out.append((sid, "exact duplicate"))
        if sample.prompt_chars:
            for (sid,) in self.conn.execute(
                "SELECT id FROM samples WHERE prompt_hash = ? AND answer_hash != ? AND id != ? ORDER BY id LIMIT ?",
                (sample.prompt_hash, sample.answer_hash, sample.id, limit),
            ):
                out.append((sid, "same prompt, different answer"))
        return out

    def kept_raw_by_source(self, goal_id: int) -> Iterator[tuple[int, int, str, str]]:
        """(source_id, sample_id, raw, tags JSON) of kept samples, in source then file order."""
        yield from self.conn.execute(
            "SELECT s.source_id, s.id, s.raw, d.tags FROM decisions d JOIN samples s ON s.id = d.sample_id"
            " WHERE d.goal_id = ? AND d.verdict = 'keep' ORDER BY s.source_id, s.position",
            (goal_id,),
        )

    # ------------------------------------------------------------------ goals

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

    # ------------------------------------------------------------------ decisions

    def decision(self, goal_id: int, sample_id: int) -> Decision:
        r = self.conn.execute(
            "SELECT verdict, reason, note, tags FROM decisions WHERE goal_id = ? AND sample_id = ?",
            (goal_id, sample_id),
        ).fetchone()
        return Decision(r[0], r[1], r[2], tuple(json.loads(r[3]))) if r else UNDECIDED

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
            d = Decision(verdict, reason, note, tuple(json.loads(tags)))
            if d != UNDECIDED:
                out[sid] = d
        return out

    def counts(self, goal_id: int) -> Counts:
        kept = dropped = 0
        by_reason: dict[str, int] = {}
        by_tag: dict[str, int] = {}
        for kind, key, n in self.conn.execute(
            "SELECT kind, key, n FROM tallies WHERE goal_id = ? AND n != 0 ORDER BY key", (goal_id,)
        ):
            if kind == "verdict":
                kept, dropped = (n, dropped) if key == "keep" else (kept, n)
            elif kind == "reason":
                by_reason[key] = n
            elif kind == "tag":
                by_tag[key] = n
        return Counts(self.total_samples(), kept, dropped, by_reason, by_tag)

    def all_tags(self, goal_id: int | None = None) -> list[str]:
        if goal_id is None:
            rows = self.conn.execute("SELECT DISTINCT key FROM tallies WHERE kind = 'tag' AND n > 0 ORDER BY key")
        else:
            rows = self.conn.execute(
                "SELECT key FROM tallies WHERE kind = 'tag' AND n > 0 AND goal_id = ? ORDER BY key", (goal_id,)
            )
        return [r[0] for r in rows]

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

    def log_position(self) -> int:
        """Id of the newest action: an export names this so a run traces to exact decisions."""
        r = self.conn.execute("SELECT max(id) FROM actions").fetchone()
        return r[0] or 0

    def decided_times(self, goal_id: int, limit: int = 5000) -> list[str]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT at FROM actions WHERE goal_id = ? AND kind IN ('keep', 'drop', 'batch') AND undone = 0"
                " ORDER BY id DESC LIMIT ?",
                (goal_id, limit),
            )
        ]

    def lengths_by_verdict(self, goal_id: int, limit: int = 100_000) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {"keep": [], "drop": []}
        for verdict, n in self.conn.execute(
            "SELECT d.verdict, s.answer_chars FROM decisions d JOIN samples s ON s.id = d.sample_id"
            " WHERE d.goal_id = ? AND d.verdict IS NOT NULL LIMIT ?",
            (goal_id, limit),
        ):
            out[verdict].append(n)
        return out

    # ------------------------------------------------------------------ queue & cursor

    def goal_state(self, goal_id: int) -> tuple[int | None, dict]:
        r = self.conn.execute("SELECT cursor, queue FROM goal_state WHERE goal_id = ?", (goal_id,)).fetchone()
        if not r:
            return None, {"kind": "all"}
        return r[0], json.loads(r[1])

    def save_goal_state(self, goal_id: int, cursor: int | None, queue: dict) -> None:
        """Where the review stands. Committed without waiting for fsync (synchronous=NORMAL for
        this one transaction): it survives the process being killed, since the WAL is in the
        OS's hands, and the next decision's fsync makes it durable on disk too. Moving the cursor
        is the most frequent write and the fsync (~4 ms) was most of a keypress's cost."""
        with self.tx(durable=False) as conn:
            conn.execute(
                "INSERT INTO goal_state (goal_id, cursor, queue, updated_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT(goal_id) DO UPDATE SET cursor = excluded.cursor, queue = excluded.queue,"
                " updated_at = excluded.updated_at",
                (goal_id, cursor, json.dumps(queue, ensure_ascii=False), now()),
            )

    def queue_step(self, goal_id: int, queue: dict, after: int, *, forward: bool = True) -> int | None:
        """The next (or previous) sample id in a queue after/before `after`, by keyset. Never scans
        the whole table for the 'all', 'kept', 'dropped', 'reason' and 'tag' queues."""
        kind = queue.get("kind", "all")
        value = queue.get("value")
        op, order = (">", "ASC") if forward else ("<", "DESC")
        if kind == "all":
            sql = f"SELECT id FROM samples WHERE id {op} ? ORDER BY id {order} LIMIT 1"
            args: tuple = (after,)
        elif kind == "undecided":
            sql = (
                f"SELECT s.id FROM samples s WHERE s.id {op} ? AND NOT EXISTS (SELECT 1 FROM decisions d"
                " WHERE d.goal_id = ? AND d.sample_id = s.id AND d.verdict IS NOT NULL)"
                f" ORDER BY s.id {order} LIMIT 1"
            )
            args = (after, goal_id)
        elif kind in ("kept", "dropped"):
            sql = (
                f"SELECT sample_id FROM decisions WHERE goal_id = ? AND verdict = ? AND sample_id {op} ?"
                f" ORDER BY sample_id {order} LIMIT 1"
            )
            args = (goal_id, "keep" if kind == "kept" else "drop", after)
        elif kind == "reason":
            sql = (
                f"SELECT sample_id FROM decisions WHERE goal_id = ? AND reason = ? AND sample_id {op} ?"
                f" ORDER BY sample_id {order} LIMIT 1"
            )
            args = (goal_id, value, after)
        elif kind == "tag":
            sql = (
                f"SELECT sample_id FROM decision_tags WHERE goal_id = ? AND tag = ? AND sample_id {op} ?"
                f" ORDER BY sample_id {order} LIMIT 1"
            )
            args = (goal_id, value, after)
        elif kind == "search":
            # `turns` holds JSON: look for the query as JSON writes it (quotes, backslashes and
            # controls escaped), so `say "hi` finds say "hi". SQLite's lower() folds ASCII only.
            text = str(value or "")
            plain = _ascii_lower(text)
            in_json = _ascii_lower(json.dumps(text, ensure_ascii=False)[1:-1])
            sql = (
                f"SELECT id FROM samples WHERE id {op} ? AND (instr(lower(turns), ?) > 0 OR instr(lower(system), ?) > 0)"
                f" ORDER BY id {order} LIMIT 1"
            )
            args = (after, in_json, plain)
        elif kind in QUEUE_EXTENSIONS:
            return QUEUE_EXTENSIONS[kind](self, goal_id, queue, after, forward)
        else:
            raise ValueError(f"unknown queue {kind!r}")
        r = self.conn.execute(sql, args).fetchone()
        return r[0] if r else None

    def queue_size(self, goal_id: int, queue: dict) -> int | None:
        """Queue length when it is known without a scan (from tallies), else None."""
        kind = queue.get("kind", "all")
        c = self.counts(goal_id)
        if kind == "all":
            return c.total
        if kind == "undecided":
            return c.undecided
        if kind == "kept":
            return c.kept
        if kind == "dropped":
            return c.dropped
        if kind == "reason":
            return c.by_reason.get(queue.get("value", ""), 0)
        if kind == "tag":
            return c.by_tag.get(queue.get("value", ""), 0)
        return None

    def has_sample(self, sample_id: int) -> bool:
        return self.conn.execute("SELECT 1 FROM samples WHERE id = ?", (sample_id,)).fetchone() is not None


# Analysis modules register further queues here: kind -> fn(store, goal_id, queue, after, forward).
QUEUE_EXTENSIONS: dict[str, Callable[[Store, int, dict, int, bool], int | None]] = {}


def file_sha256(path: Path) -> str:
    """The sha256 of a regular file (importers.InputError for a FIFO, a device, a directory, or a
    file that changed while it was hashed)."""
    from .importers.source import SourceFile

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


def chunks(xs: Sequence, n: int) -> Iterator[Sequence]:
    """Slices of at most n: keeps `IN (?, ...)` lists under SQLite's variable limit."""
    for i in range(0, len(xs), n):
        yield xs[i : i + n]
