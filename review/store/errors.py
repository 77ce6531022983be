"""What a project file refuses, told as one line: the errors a Store raises, and the forensics
behind a StorageError (which SQLite refusal, who holds the write lock, why a file is read-only)."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from ..model import Goal


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
