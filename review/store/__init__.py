"""The project file: one SQLite database per curation project. Every SQL statement on winnow's own
tables lives in this package (analysis and style keep their own stores).

Transactions are explicit: the connection runs in autocommit mode and each write method wraps
its statements in one `BEGIN IMMEDIATE ... COMMIT`, so a method either happened entirely or not
at all, and has happened (on disk, WAL + synchronous=FULL) when it returns.

When the file refuses a write (busy, read-only, disk full, an I/O error) the transaction is rolled
back and `StorageError` says what happened, which file, and what to do; the Store stays usable.
A project that cannot be written (a read-only mount, no write permission) opens read-only:
reading works, every write raises StorageError("read-only").

`Store` is the façade: one class built from one repository per table family —
connection.py (opening, schema check, migrations, transactions, meta), errors.py (ProjectError,
StorageError and the forensics behind it), imports.py (with staging.py: the stage file and the
hidden copy), samples.py (which reads only what is visible), goals.py (goals, their
wordings, where a review stands), decisions.py (the log), figures.py, queues.py, batches.py,
exports.py. No module outside the stores (this package, analysis/store.py, style/store.py, with
schema.py, migrations.py and the shared keyset step keyset.py) runs SQL — tests/test_store_layout.py
checks it. A new query goes into the repository of the table it reads. Import everything from
`review.store`.
"""

from __future__ import annotations

from .batches import BatchRepo
from .connection import SQLITE_MAGIC, SQLITE_NOTADB, StoreBase, chunks, now
from .decisions import EVENT_KINDS, Change, DecisionRepo, Flip, apply_change, stored_tags
from .errors import (
    GoalArchived,
    GoalChanged,
    GoalError,
    ProjectError,
    StorageError,
    mount_point,
    storage_error,
    why_read_only,
    write_lock_holder,
)
from .exports import ExportRepo
from .goals import check_goal_sentence
from .imports import BATCH_CHARS, COPY_CACHE_KIB, ImportRepo, file_sha256
from .queues import QueueRepo, builtin_queues
from .samples import visible

__all__ = [
    "BATCH_CHARS",
    "COPY_CACHE_KIB",
    "EVENT_KINDS",
    "SQLITE_MAGIC",
    "SQLITE_NOTADB",
    "Change",
    "Flip",
    "GoalArchived",
    "GoalChanged",
    "GoalError",
    "ProjectError",
    "StorageError",
    "Store",
    "StoreBase",
    "apply_change",
    "builtin_queues",
    "check_goal_sentence",
    "chunks",
    "file_sha256",
    "mount_point",
    "now",
    "storage_error",
    "stored_tags",
    "visible",
    "why_read_only",
    "write_lock_holder",
]


class Store(ImportRepo, DecisionRepo, QueueRepo, BatchRepo, ExportRepo):
    """Owns one project file and every SQL statement run against it (see the package docstring
    for which module holds which).

    One Store = one connection; do not share a Store across threads (a worker opens its own).
    """

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
