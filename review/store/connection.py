"""The connection: opening (hardened against an untrusted schema, read-only where the file cannot
be written), the schema check and migrations, explicit transactions, and the `meta` table."""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from .. import migrations, schema
from ..migrations import NAMES
from .errors import ProjectError, StorageError, storage_error, why_read_only

if TYPE_CHECKING:
    from sqlite_utils import Database


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


SQLITE_MAGIC = b"SQLite format 3\x00"
SQLITE_NOTADB = 26


def chunks(xs: Sequence, n: int) -> Iterator[Sequence]:
    """Slices of at most n: keeps `IN (?, ...)` lists under SQLite's variable limit."""
    for i in range(0, len(xs), n):
        yield xs[i : i + n]


class StoreBase:
    """One project file and its connection; the repositories (samples, goals, decisions, ...) build on it."""

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
        self._db: Database | None = None  # see `db`
        try:
            # What sqlite-utils' Database sets on a connection it wraps (a REPLACE fires delete
            # triggers), set here as it always was, before the sqlite-utils helpers are first used.
            conn.execute("PRAGMA recursive_triggers = ON")
            self.set_busy_timeout(self.BUSY_TIMEOUT_MS)
            # Before anything writes (even the switch to WAL, which rewrites the header): a file
            # that is not winnow's, or whose schema holds objects winnow did not create, is refused
            # exactly as it was. When it comes with a -wal, first through a read-only connection: the
            # last read-write connection to close folds the WAL into the file and deletes it; a
            # read-only one cannot (it may leave a -shm, SQLite's index of the WAL). Then again on
            # this connection (cheap), in case the file changed in between.
            wal = Path(str(self.path) + "-wal")
            if exists and not self.read_only and wal.exists() and wal.stat().st_size > 0:
                self._probe_read_only()
            self._check_file(conn, fresh=not exists)
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

    def interrupt(self) -> None:
        """Stop the statement running on this Store's connection now (safe from another thread):
        it fails with sqlite3.OperationalError("interrupted"); a write it was part of rolls back.
        How a UI cancels a long search, which a worker cannot stop otherwise."""
        self.conn.interrupt()

    def _sync(self, *, durable: bool) -> None:
        want = "FULL" if durable else "NORMAL"
        if self._synchronous != want:
            self.conn.execute(f"PRAGMA synchronous = {want}")
            self._synchronous = want

    def _probe_read_only(self) -> None:
        """_check_file on a read-only connection of its own, closed before anything else opens."""
        uri = "file:" + urllib.parse.quote(str(self.path.resolve())) + "?mode=ro"
        try:
            probe = sqlite3.connect(uri, uri=True, isolation_level=None, factory=self.connection_class)
        except sqlite3.Error:
            return  # the read-write connection's own check reports what is wrong
        try:
            schema.harden(probe)
            probe.execute("PRAGMA busy_timeout = 5000")
            self._check_file(probe, fresh=False)
        except sqlite3.Error:
            pass  # e.g. a hot journal a read-only connection cannot roll back: checked below
        finally:
            probe.close()

    def _check_file(self, conn: sqlite3.Connection, *, fresh: bool) -> None:
        """Refuse a file from a newer winnow, one that is not a winnow project, and one whose schema
        is not exactly what winnow's migrations create (review/schema.py); reads only."""
        known = set(NAMES)
        applied = migrations.applied_names(conn)
        unknown = [n for n in applied if n not in known]
        if unknown:
            raise ProjectError(
                f"{self.path}: written by a newer winnow (schema step {unknown[-1]} is unknown here) — "
                "upgrade: pip install -U winnow-review"
            )
        if not applied and not fresh:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if tables - {"_sqlite_migrations"}:
                raise ProjectError(
                    f"{self.path}: an SQLite file, but not a winnow project — give winnow its own .db file"
                )
        found = schema.problems(conn)
        if found:
            raise ProjectError(schema.refusal(self.path, found))

    def _migrate(self, *, fresh: bool) -> None:
        if migrations.pending_names(self.conn):
            if self.read_only:
                raise ProjectError(
                    f"{self.path}: read-only ({why_read_only(self.path)}), and made by an older winnow — "
                    "copy it somewhere writable and open the copy once, to upgrade it"
                )
            # One transaction: a new or upgraded project is either complete or as it was.
            with self.tx():
                migrations.migrations.apply(self.db)
                self._meta_set("schema", ",".join(NAMES))
                if self._meta_get("created_at") is None:
                    self._meta_set("created_at", now())
                    self._meta_set("total_samples", "0")

    @property
    def db(self) -> Database:
        """The connection as a sqlite-utils Database, for the code that uses its helpers; made
        (and sqlite-utils imported) on first use: opening a project does not need it."""
        if self._db is None:
            from sqlite_utils import Database

            self._db = Database(self.conn, execute_plugins=False)
        return self._db

    def close(self) -> None:
        self.conn.close()

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
