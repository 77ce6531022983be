"""The two things an import keeps beside the project while it runs: its stage file (the parsed
records, in a file of their own, so that the parse takes no lock on the project) and, while the
stage is copied in, the bookkeeping that keeps the copied rows hidden until the last transaction
(the `pending_import_*` meta keys; what readers do with them is `samples.visible`)."""

from __future__ import annotations

import errno
import glob
import os
import secrets
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from .errors import StorageError, mount_point, storage_error
from .samples import PENDING_FROM, PENDING_SOURCE, PENDING_STAGE, SampleRepo

# How long an import (or add_conversations) waits for another import that is copying into the same
# project: the copy of a million records takes seconds; a wait this long means a stage file that a
# dead import left on a file system without locks.
PENDING_WAIT_S = 600
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# The ids SQLite can store: meta values outside this range are no import's (see _drop_pending).
_MAX_ID = (1 << 63) - 1


class StagingRepo(SampleRepo):
    """An import's stage file and its hidden copy (ImportRepo runs the import itself)."""

    # The copy from the stage is cut into transactions of at most this many records or this many
    # characters of raw text (whichever comes first), so that one holds the write lock for well
    # under a second: about 0.1-0.2 s for 25,000 chat records on the benchmarks' 2-core VM.
    COPY_ROWS = 25_000
    COPY_CHARS = 16 << 20

    # -- an import being copied in (hidden until its last transaction)

    def _pending(self) -> tuple[str, int, int] | None:
        """(stage file name, placeholder source id, first sample id) of the import being copied
        into the project, or None. Meta values from a file someone else made are data: anything
        that does not read as winnow wrote it is taken for a dead import's (see _drop_pending)."""
        rows = dict(
            self.conn.execute(
                "SELECT key, value FROM meta WHERE key IN (?, ?, ?)", (PENDING_STAGE, PENDING_SOURCE, PENDING_FROM)
            ).fetchall()
        )
        if not rows:
            return None
        try:
            return (
                str(rows.get(PENDING_STAGE, "")),
                int(rows.get(PENDING_SOURCE, -1)),
                int(rows.get(PENDING_FROM, -1)),
            )
        except (TypeError, ValueError):
            return ("", -1, -1)

    def _pending_live(self, pending: tuple[str, int, int]) -> bool:
        """Whether the import that wrote `pending` is still running: its stage file exists and no
        stale-stage sweep could remove it (it holds the file's lock; see _remove_stale_stages)."""
        name = pending[0]
        if not (name.startswith(self.path.name + ".import-") and name.endswith(".stage")) or os.sep in name:
            return False
        if os.altsep and os.altsep in name:
            return False
        self._remove_stale_stages()
        try:  # winnow's stage is a regular file; a folder, FIFO or link by that name is no import's
            return stat.S_ISREG(os.lstat(self.path.parent / name).st_mode)
        except OSError:
            return False

    def _still_ours(self, pending: tuple[str, int, int]) -> None:
        if self._pending() != pending:
            raise StorageError(
                self.path,
                "io",
                f"{self.path}: another winnow removed this import's rows while it copied them in — nothing was "
                "imported; run the import again",
            )

    @contextmanager
    def _samples_tx(self) -> Iterator[sqlite3.Connection]:
        """A write transaction in which no import is copying into the project: one that is waits
        for it to end (its transactions are short; the whole copy takes seconds), one a kill -9
        left is removed first. Every writer of `samples` starts with this: new ids follow the
        last sample, so two imports may not interleave their rows."""
        deadline = time.monotonic() + PENDING_WAIT_S
        while True:
            pending = self._pending()
            if pending is not None:
                if not self._pending_live(pending):
                    self._drop_pending(pending)
                elif time.monotonic() > deadline:
                    raise StorageError(
                        self.path,
                        "busy",
                        f"{self.path}: another import ({pending[0]}) has been copying into this project for "
                        f"{PENDING_WAIT_S} s — nothing was written; if no winnow import is running, delete that "
                        "file and try again",
                    )
                else:
                    time.sleep(0.05)  # polling the other import's end (a fraction of one of its transactions)
                continue
            with self.tx() as conn:
                if self._pending() is None:  # none began between the read above and the lock
                    yield conn
                    return

    def _drop_stale_pending(self) -> None:
        """Remove what an import killed while it copied in left behind (nothing when none did)."""
        pending = self._pending()
        if pending is not None and not self._pending_live(pending):
            self._drop_pending(pending)

    def _drop_pending(self, pending: tuple[str, int, int]) -> None:
        """Remove the hidden rows of an import that did not finish, then its placeholder source and
        the meta keys, in transactions of COPY_ROWS rows (the review screen waits for one at most).
        Only rows of the placeholder source (a `pending:` sha256) at or past its first id go, and
        the placeholder only once no row names it: a project file from someone else cannot make
        this delete a visible sample or leave one without its source. Foreign keys
        are off for it: no event can refer to a hidden sample (every decision goes to a sample a
        reader found), and the check would scan `events` once per row removed."""
        _, source_id, first = pending
        # Values a project file from someone else may hold: an id SQLite cannot store names no row
        # (binding it would raise OverflowError on every import), one below 1 no hidden row.
        placeholder = 0 < source_id <= _MAX_ID and self._is_placeholder(source_id)
        if not 0 < first <= _MAX_ID:
            first = 0
        fk_on = bool(self.conn.execute("PRAGMA foreign_keys").fetchone()[0])
        if placeholder and first > 0 and fk_on and not self.conn.in_transaction:
            self.conn.execute("PRAGMA foreign_keys = OFF")
        else:
            fk_on = False
        try:
            while placeholder and first > 0:
                with self.tx() as conn:
                    if self._pending() != pending:
                        return  # another import removed it meanwhile
                    n = conn.execute(
                        "DELETE FROM samples WHERE id IN"
                        " (SELECT id FROM samples WHERE id >= ? AND source_id = ? ORDER BY id LIMIT ?)",
                        (first, source_id, self.COPY_ROWS),
                    ).rowcount
                if n == 0:
                    break
            with self.tx() as conn:
                if self._pending() != pending:
                    return
                # Only a placeholder no sample names any more: a dead import's rows all lie at or
                # past its first id. Rows below it (a file someone else made) are visible ones;
                # deleting their source would orphan them for the next source to adopt its id.
                if (
                    placeholder
                    and not conn.execute("SELECT 1 FROM samples WHERE source_id = ? LIMIT 1", (source_id,)).fetchone()
                ):
                    conn.execute("DELETE FROM sources WHERE id = ? AND sha256 LIKE 'pending:%'", (source_id,))
                for key in (PENDING_FROM, PENDING_SOURCE, PENDING_STAGE):
                    conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        finally:
            if fk_on:
                self.conn.execute("PRAGMA foreign_keys = ON")

    def _is_placeholder(self, source_id: int) -> bool:
        return (
            self.conn.execute("SELECT 1 FROM sources WHERE id = ? AND sha256 LIKE 'pending:%'", (source_id,)).fetchone()
            is not None
        )

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
                # Never blocking, never through a link: a FIFO by that name would hang the open.
                fd = os.open(p, os.O_RDONLY | _O_CLOEXEC | _O_NONBLOCK | _O_NOFOLLOW)
            except OSError:
                continue
            try:
                if stat.S_ISREG(os.fstat(fd).st_mode) and _try_lock(fd) is True:
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
