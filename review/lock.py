"""The review lock: an advisory lock beside the project file so two review screens never race on one project.

Headless commands (stats, export, import) do not take it: SQLite's own locking keeps them safe.
The lock is only about two *review screens* moving one cursor and one undo history at once.

How it is taken, by platform (the OS module is imported when the lock is taken, never at import,
so `import review.lock` works everywhere):

* POSIX: `fcntl.flock` on ``PROJECT.lock``. The kernel releases it when the process dies
  (kill -9, SSH drop), so a crash never leaves a stale lock.
* Windows (no `fcntl`): `msvcrt.locking` on one byte of ``PROJECT.lock`` far past the holder
  text, so a second winnow can still read who holds it. Windows too releases the lock with the
  process.
* Neither (some other platform): no lock. `acquire` succeeds, emits a `LockWarning` and sets
  `ProjectLock.warning` to a one-line explanation, so the caller can show it: two review screens
  on one project are then not prevented (each write still checks the goal's revision).
"""

from __future__ import annotations

import os
import socket
import warnings
from pathlib import Path
from typing import IO

from .store import ProjectError

# msvcrt locks a byte range: lock one far past the holder text, which stays readable.
_MSVCRT_OFFSET = 1 << 30


class ProjectLocked(ProjectError):
    pass


class LockWarning(UserWarning):
    """The platform offers no file lock: this project is not protected from a second review screen."""


class ProjectLock:
    """``PROJECT.lock``, held while a review screen is open (see the module docstring per platform)."""

    def __init__(self, db_path: Path):
        # Beside the file itself, not the name it was opened by: through a symlink (or `./p.db`,
        # or another folder's `../x/p.db`) it is the same project, and one lock must stop both.
        self.path = Path(os.path.realpath(db_path) + ".lock")
        self.fh: IO[str] | None = None
        self.warning: str | None = None  # set by acquire() where the platform has no lock

    def acquire(self) -> None:
        try:
            fh = open(self.path, "a+")
        except OSError as e:
            raise ProjectError(
                f"{self.path.with_suffix('')}: cannot create its review lock {self.path.name} "
                f"({e.strerror or e}) — the project's folder must be writable; copy the project somewhere writable"
            ) from e
        try:
            taken = _lock(fh)
        except OSError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            fh.close()
            raise ProjectLocked(
                f"{self.path.with_suffix('')}: already open for review in {holder} — "
                "close that winnow first (headless commands such as `winnow stats` still work)"
            ) from None
        if not taken:
            self.warning = (
                f"{self.path.with_suffix('')}: this platform has no file lock (neither fcntl nor msvcrt) — "
                "a second winnow could open this project for review at the same time; open it in one only"
            )
            warnings.warn(self.warning, LockWarning, stacklevel=2)
        fh.seek(0)
        fh.truncate()
        fh.write(f"winnow pid {os.getpid()} on {socket.gethostname()}")
        fh.flush()
        self.fh = fh

    def release(self) -> None:
        if self.fh:
            _unlock(self.fh)
            self.fh.close()
            self.fh = None


def _lock(fh: IO[str]) -> bool:
    """Take the lock without waiting: True when taken, False when the platform has none; OSError
    when another process holds it."""
    try:
        import fcntl
    except ImportError:
        pass
    else:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    try:
        import msvcrt
    except ImportError:
        return False
    fh.seek(_MSVCRT_OFFSET)
    msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
    return True


def _unlock(fh: IO[str]) -> None:
    try:
        import fcntl
    except ImportError:
        pass
    else:
        fcntl.flock(fh, fcntl.LOCK_UN)
        return
    try:
        import msvcrt
    except ImportError:
        return
    fh.seek(_MSVCRT_OFFSET)
    msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]
