"""The winnow app and its one factory, `make_app`, used by the CLI, the tests and the scripts.

Nothing happens at import time. `make_app` opens the project (errors come out before the
terminal switches screens) and takes the project lock, so a second review screen on the same
project is refused with a clear message instead of racing the first (headless commands such as
`winnow stats` still work: SQLite's own locking keeps them safe). The lock is a kernel flock:
kill -9 or a dropped SSH link release it.

Every decision is committed before the screen shows it, so quitting is always safe; SIGTERM and
SIGHUP (the SSH link dropped) just exit cleanly, restoring the terminal where there is one.

A read-only project (a read-only mount, no write permission) is refused with a message saying to
copy it somewhere writable: every key of the review screen writes (even moving saves where the
review stands). `winnow stats` and `winnow export` work on it as it is.

The app's connection waits at most UI_BUSY_MS for another writer, so a write never freezes the
screen for the 5 s a headless command waits; the review screen retries a busy write on a timer
instead (tui/write_retry.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
from collections.abc import Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App, SystemCommand
from textual.screen import Screen

from review.lock import ProjectLock
from review.model import Goal
from review.sanitize import sanitize
from review.session import ReviewSession
from review.store import ProjectError, Store, why_read_only

from .keys import GOALS_BINDINGS, KEY_TABLES, REVIEW_BINDINGS, config_path, keymap_problems
from .messages import SampleDecided
from .screens.review import ReviewScreen

UI_BUSY_MS = 30  # the longest one write may block the UI thread waiting for another writer
SIGNAL_GRACE_S = 3.0  # after SIGHUP/SIGTERM, the longest a clean shutdown may take before the process just ends


class WinnowApp(App[None]):
    TITLE = "winnow"
    # The review screen owns the single keys; the app keeps only the palette and ctrl+q.

    def __init__(
        self,
        db_path: Path,
        store: Store,
        lock: ProjectLock | None,
        *,
        goal_id: int | None = None,
        config: dict[str, Any] | None = None,
        embedder: Any = None,
    ) -> None:
        super().__init__()
        # The analysis worker's embedder (review.embed.Embedder); None: sentence-transformers,
        # loaded in the worker thread, or no semantic detector when it is not installed.
        self.embedder = embedder
        self.db_path = Path(db_path)
        self.store = store
        self.lock = lock
        self.config = dict(config or {})
        self.cursor_blink: bool = bool(self.config.get("cursor_blink", True))
        self.session: ReviewSession | None = None
        self.decided_this_run = 0
        self._goal_id = goal_id
        self._project_closed = False
        self._shut = threading.Event()  # set once app.run() has returned (the watchdog stands down)
        if self.config.get("theme"):
            self.theme = str(self.config["theme"])
        keymap = self.config.get("keymap")
        # Said at start (on_mount): a keymap that makes two bindings share a key, or names none.
        self.keymap_problems: list[str] = []
        if isinstance(keymap, dict) and keymap:
            mapped = {str(k): str(v) for k, v in keymap.items()}
            self.keymap_problems = keymap_problems(mapped, KEY_TABLES)
            self.set_keymap(mapped)
        elif keymap:
            self.keymap_problems = ['keymap: must be an object of binding id to keys, e.g. {"keep": "y"}; ignored']

    # ------------------------------------------------------------------ lifecycle

    def on_mount(self) -> None:
        self._install_signal_handlers()
        if (
            not self.config.get("theme")
            and not self.is_headless
            and self.console.color_system in ("standard", "windows")
        ):
            # On a 16-colour terminal the truecolor theme is squeezed into 16 colours and loses its
            # contrast; the ANSI theme draws with the terminal's own palette instead.
            self.theme = "ansi-dark"
        where = self.config.get("_path")
        for problem in self.keymap_problems:
            self.notify(problem + (f" ({where})" if where else ""), severity="warning", timeout=20)
        if self.lock is not None and self.lock.warning:  # a platform without file locks
            self.notify(self.lock.warning, severity="warning", timeout=12)
        if self._goal_id is not None:
            goal: Goal | None = self.store.goal(self._goal_id)
            try:
                self.store.use_goal(self._goal_id)  # remembered for next time; reviewing does not need it
            except ProjectError as e:
                self.notify(f"goal #{self._goal_id} not remembered as the active one: {e}", severity="warning")
        else:
            goal = self.store.active_goal()
        if goal is None:
            self.choose_goal(first=True)
        else:
            self._start(goal)

    def _on_unmount(self) -> None:
        # The underscore form: App dispatches Unmount after its message queue has closed, when
        # only the `_on_` handler still runs.
        self.close_project()

    def close_project(self) -> None:
        """Close the store and release the lock (idempotent; decisions are already on disk)."""
        if self._project_closed:
            return
        self._project_closed = True
        self._remove_signal_handlers()
        self.store.close()
        if self.lock:
            self.lock.release()

    def _install_signal_handlers(self) -> None:
        # A plain signal handler, not the event loop's: it runs even while the loop is stuck
        # (e.g. in a write to a terminal nobody reads any more), and hands the exit to the loop.
        self._loop = asyncio.get_running_loop()
        self._old_handlers: dict[int, object] = {}
        try:
            for sig in (signal.SIGTERM, signal.SIGHUP):
                self._old_handlers[sig] = signal.signal(sig, self._on_signal)
        except ValueError:  # not the main thread
            pass

    def _remove_signal_handlers(self) -> None:
        for sig, old in getattr(self, "_old_handlers", {}).items():
            try:
                signal.signal(sig, old)  # type: ignore[arg-type]
            except (ValueError, TypeError):
                pass
        self._old_handlers = {}

    def _on_signal(self, signum: int, _frame: object = None) -> None:
        if not self.is_headless and not self._shut.is_set():
            # With the terminal gone (SIGHUP), shutting down can block writing to a pty nobody
            # reads any more (seen over ssh, after the project was closed). Everything is
            # already on disk, so unless app.run() has returned within a grace period, the
            # process simply ends, as kill -9 would; the kernel frees the lock.
            threading.Thread(target=self._end_after_grace, args=(signum,), daemon=True).start()
        loop = self._loop  # Textual's running loop, set again in _install_signal_handlers
        assert loop is not None, "the signal handlers are installed only while the app runs"
        loop.call_soon_threadsafe(partial(self.exit, return_code=128 + signum))

    def _end_after_grace(self, signum: int) -> None:
        if not self._shut.wait(SIGNAL_GRACE_S):
            os._exit(128 + signum)

    # ------------------------------------------------------------------ goals

    def choose_goal(self, *, first: bool) -> None:
        from .screens.goal import GoalChoice, GoalDialog  # only a project without a goal opens on it

        active = self.session.goal.id if self.session else None

        def chosen(choice: GoalChoice | None) -> None:
            if choice is None:
                if first:
                    self.exit()
                return
            try:
                if choice.goal_id is not None:
                    goal = self.store.use_goal(choice.goal_id)
                else:
                    goal, _ = self.store.add_goal(choice.sentence or "")
                self._start(goal)
            except ProjectError as e:
                self.notify(f"goal not saved: {e}", severity="error", timeout=12)
                if first:
                    self.choose_goal(first=True)
                return
            if not first:
                self.notify(f"goal #{goal.id}: {goal.sentence}")

        self.push_screen(GoalDialog(self.store.goals(), active, first=first), chosen)

    def switch_to_goal(self, goal_id: int) -> None:
        """Review against another goal (from the goals screen)."""
        try:
            goal = self.store.use_goal(goal_id)
            self._start(goal)
        except ProjectError as e:
            self.notify(f"goal #{goal_id} not switched to: {e}", severity="error", timeout=12)
            return
        self.notify(f"goal #{goal.id}: {goal.sentence}")

    def goal_changed(self, goal: Goal) -> None:
        """A goal was reworded: the review screen shows the new wording if it is the active one."""
        if self.session is not None and self.session.goal.id == goal.id:
            self._start(goal)

    def _start(self, goal: Goal) -> None:
        if self.session is None:
            self.session = ReviewSession(self.store, goal)
            self.push_screen(
                ReviewScreen(
                    self.session,
                    db_path=self.db_path,
                    embedder=self.embedder,
                    markdown=bool(self.config.get("markdown", False)),
                    wide_at=int(self.config.get("wide_at", 120)),
                )
            )
            return
        self.session.switch_goal(goal)
        for screen in self.screen_stack:
            if isinstance(screen, ReviewScreen):
                screen.refresh_view()

    def on_sample_decided(self, message: SampleDecided) -> None:
        self.decided_this_run += 1

    # ------------------------------------------------------------------ text that reaches the screen

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: Any = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        # Notifications often carry data (tags, file names, errors): sanitised, never markup.
        super().notify(sanitize(str(message)), title=sanitize(title), severity=severity, timeout=timeout, markup=False)

    # ------------------------------------------------------------------ screenshots

    def screenshot_folder(self) -> Path:
        """Where the palette's Screenshot writes: config "screenshot_dir", else the current folder
        (Textual's default, ~/Downloads, does not exist on most servers)."""
        return Path(str(self.config.get("screenshot_dir") or ".")).expanduser()

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save an SVG of the screen and say plainly where it went (or why it could not)."""
        folder = Path(path).expanduser() if path else self.screenshot_folder()
        try:
            written = Path(self.save_screenshot(filename, str(folder)))
        except OSError as e:
            self.notify(
                f'screenshot not saved: {folder}: {e.strerror or e} — set "screenshot_dir" in $WINNOW_CONFIG '
                "to a folder you can write",
                severity="error",
                timeout=10,
            )
            return
        self.notify(f"screenshot saved: {written.name}\nin {written.parent.resolve()}", title="Screenshot", timeout=8)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title == "Screenshot":  # Textual's saves to ~/Downloads and shows raw markup
                yield SystemCommand(
                    "Screenshot",
                    f"Save an SVG of this screen in {self.screenshot_folder()}",
                    lambda: self.set_timer(0.1, self.action_screenshot),
                )
            else:
                yield command
        from .screens.goals import GoalsScreen

        bindings = (
            REVIEW_BINDINGS
            if isinstance(screen, ReviewScreen)
            else GOALS_BINDINGS
            if isinstance(screen, GoalsScreen)
            else []
        )
        if bindings:
            seen = set()
            for b in bindings:
                if b.id in seen:
                    continue
                seen.add(b.id)
                yield SystemCommand(b.description, b.tooltip, partial(screen.run_action, b.action))


def load_config() -> dict[str, Any]:
    """The user's config: $WINNOW_CONFIG, else config.json in winnow's config folder, else {}.

    {"keymap": {"keep": "y", "drop": "n"}, "markdown": false, "wide_at": 120, "screenshot_dir": "."}
    The file's path is kept under "_path" so messages about the config can name it.
    """
    path = config_path()
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ProjectError(f"{path}: cannot read the config ({e}) — fix or remove it") from e
    if not isinstance(data, dict):
        raise ProjectError(f"{path}: the config must be a JSON object")
    return {**data, "_path": str(path)}


def make_app(
    db_path: str | Path,
    *,
    goal_id: int | None = None,
    config: dict[str, Any] | None = None,
    lock: bool = True,
    embedder: Any = None,
) -> WinnowApp:
    """The app on one project file. Raises ProjectError (ProjectLocked for a second instance)."""
    path = Path(db_path)
    store = Store(path, create=False, check_same_thread=False)  # used on the UI thread only
    if store.read_only:
        store.close()
        raise ProjectError(
            f"{path}: read-only ({why_read_only(path)}) — reviewing saves every key into the project, so "
            f"copy it somewhere writable and open the copy (cp {path} ~/ && winnow open ~/{path.name}); "
            "`winnow stats` and `winnow export` work on it as it is"
        )
    project_lock = ProjectLock(path) if lock else None
    try:
        store.set_busy_timeout(UI_BUSY_MS)
        if goal_id is not None:
            store.goal(goal_id)  # a clear error for a goal that does not exist
        if project_lock:
            project_lock.acquire()
    except BaseException:
        store.close()
        raise
    return WinnowApp(path, store, project_lock, goal_id=goal_id, config=config, embedder=embedder)


def run_app(db_path: str | Path, *, goal_id: int | None = None, config: dict[str, Any] | None = None) -> int:
    """Run the review app in this terminal; the exit code (128+N after signal N)."""
    app = make_app(db_path, goal_id=goal_id, config=load_config() if config is None else config)
    try:
        app.run()
    finally:
        app.close_project()
        app._shut.set()
    return app.return_code or 0
