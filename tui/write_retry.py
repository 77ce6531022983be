"""Writes from the review screen: never freezing it, acknowledged only once they are in the file.

The app's connection waits at most a few milliseconds for another writer (tui.app.UI_BUSY_MS);
while the project stays busy, the write is retried on a timer for up to BUSY_PATIENCE seconds,
keys waiting (bell) and the screen's busy bar showing it (Esc gives up). A write the file refuses
(busy for too long, disk full, read-only, an I/O error) is an error on screen that says what
happened, which file, and what to do; the sample stays on screen as the file has it, and the same
key works once the cause is gone. A goal another process changed meanwhile is its own case
(GoalChanged: the write was rolled back inside its transaction).

One write at a time: a key pressed while a write waits rings the bell and does nothing.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.screen import Screen
from textual.timer import Timer

from review.store import GoalChanged, ProjectError, StorageError, storage_error

BUSY_PATIENCE = 5.0  # seconds a key waits for another writer (as long as a headless command does)
RETRY_EVERY = 0.1  # seconds between two tries while the project is busy


def describe(path: Path, e: Exception) -> str:
    """One line on what went wrong with the project at `path`: what happened, which file, what to do."""
    if isinstance(e, sqlite3.Error):
        err = storage_error(path, e)
        if err is not None:
            return str(err)
        return f"{path}: {e} — nothing was written; try again, and report it if it persists"
    return str(e)


class WriteRetry:
    """The write state machine of one screen: idle, or one write waiting for a busy project.

    `set_busy(True/False)` makes the screen's keys wait while a write waits; `refresh()` re-reads
    the view (after giving up, so the screen shows what the file holds); `goal_moved(e)` and
    `failed(what, e)` report the two ways a write ends without being applied.
    """

    def __init__(
        self,
        screen: Screen[Any],
        *,
        set_busy: Callable[[bool], None],
        refresh: Callable[[], None],
        goal_moved: Callable[[GoalChanged], None],
        failed: Callable[[str, Exception], None],
    ) -> None:
        self._screen = screen
        self._set_busy = set_busy
        self._refresh = refresh
        self._goal_moved = goal_moved
        self._failed = failed
        self._retry: Timer | None = None  # set while a write waits for a busy project
        self._cancel_wait: Callable[[], None] | None = None

    @property
    def waiting(self) -> bool:
        return self._retry is not None

    def save(self, what: str, write: Callable[[], Any], saved: Callable[[Any], None], deadline: float = 0.0) -> None:
        """Run one write, then `saved(result)`: only what is in the file is ever acknowledged.
        Busy: retried on a timer. Any other failure: `what` and the reason on screen (`failed`)."""
        if not deadline and self._retry is not None:  # another write is waiting: this key waits too
            self._screen.app.bell()
            return
        try:
            result = write()
        except GoalChanged as e:
            self._end_wait()
            self._goal_moved(e)
            return
        except (ProjectError, sqlite3.Error) as e:
            now = time.monotonic()
            deadline = deadline or now + BUSY_PATIENCE
            if isinstance(e, StorageError) and e.kind == "busy" and now < deadline:
                self._wait(what, e, lambda: self.save(what, write, saved, deadline))
                return
            self._end_wait()
            self._failed(what, e)
            return
        self._end_wait()
        saved(result)

    def give_up(self) -> bool:
        """Esc: give up the write waiting for a busy project (False when none waits)."""
        if self._cancel_wait is None:
            return False
        self._cancel_wait()
        return True

    def _wait(self, what: str, e: StorageError, retry: Callable[[], None]) -> None:
        if self._retry is None:
            self._set_busy(True)  # keys wait (bell) until this write is done or given up
            self._screen.notify(
                f"{what}: waiting — {e.path.name} is busy: {e.holder or 'another program'} is writing to it"
                " · Esc gives up",
                severity="warning",
                timeout=BUSY_PATIENCE,
            )

            def gave_up() -> None:
                self._end_wait()
                self._screen.notify(
                    f"{what}: gave up — nothing was written; press the key again to retry", severity="warning"
                )
                self._refresh()

            self._cancel_wait = gave_up
        self._retry = self._screen.set_timer(RETRY_EVERY, retry)

    def _end_wait(self) -> None:
        if self._retry is not None:
            self._retry.stop()
            self._retry = None
            self._cancel_wait = None
            self._set_busy(False)
