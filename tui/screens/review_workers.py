"""The review screen's thread workers: what may take longer than a keypress, off the UI thread.

Each runs in a Textual thread worker with its own Store on the project file (the app's connection
belongs to the UI thread) and hands its result back through `app.call_from_thread` (or, for the
analysis, as messages). The screen starts them (`run_worker(..., thread=True)`, one group each:
seek, batch, export, analysis) and reacts to what they return.

- seek: steps a queue that may need a scan (search, "first undecided", the analysis queues).
  Esc interrupts its query through `Seek.store` (a worker cannot stop SQLite otherwise).
- analysis (A): the duplicate detectors, then the style analysis; the `review/` functions open
  their own Store and report progress through a plain callback, turned here into
  `AnalysisProgressed` messages. The thread may outlive a cancelled Textual worker (a thread
  cannot be interrupted), so the screen's bar stays up until the thread itself posts
  `AnalysisFinished`.
- batch: proposes a batch (fingerprints answers the style analysis has not seen: seconds on a
  large project).
- export: writes the kept samples; an export that would replace files asks first.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App
from textual.message import Message
from textual.worker import get_current_worker

from review.model import Queue
from review.queues import QueueTable
from review.store import Store

from ..messages import AnalysisFinished, AnalysisProgressed

if TYPE_CHECKING:
    from review.batch import Batch
    from review.embed import Embedder
    from review.export import ExportReport


class Seek:
    """One queue step at a time, in a thread worker; `store` is its connection while it runs."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self.store: Store | None = None  # so that Esc can interrupt the query from the UI thread

    def run(
        self,
        app: App[Any],
        queues: QueueTable,
        goal_id: int,
        queue: Queue,
        after: int,
        forward: bool,
        switch: bool,
        done: Callable[[int | None], None],
    ) -> None:
        """Find the sample after `after` in `queue` (from its start when `switch`ing to it and there
        is none after), then `done(target)` on the UI thread, unless the worker was cancelled."""
        worker = get_current_worker()
        store = Store(self.db_path, create=False, check_same_thread=False)  # its own connection
        self.store = store
        try:
            target = queues.step(store, goal_id, queue, after, forward=forward)
            if target is None and switch and after > 0:
                target = queues.step(store, goal_id, queue, 0)
        except sqlite3.OperationalError:
            if worker.is_cancelled:
                return
            raise
        finally:
            self.store = None
            store.close()
        if not worker.is_cancelled:
            app.call_from_thread(done, target)


def post_from_thread(post: Callable[[Message], object], message: Message) -> None:
    try:
        post(message)
    except RuntimeError:  # the app has closed under a thread that outlived it
        pass


def analyse(
    db_path: Path, detectors: tuple[str, ...], embedder: Embedder | None, post: Callable[[Message], object]
) -> None:
    """Run the detectors, then the style analysis, posting AnalysisProgressed (at most ten a
    second) and, once the thread is done, AnalysisFinished. Errors are reported, not raised:
    what was committed stays."""
    # Imported here: numpy, rapidfuzz (and torch, for a real embedder) load in this thread only.
    from review.analysis import run_analysis
    from review.style import run_style_analysis
    from review.style.pair_noise import noise_check

    worker = get_current_worker()
    started: dict[str, float] = {}
    last = [0.0]

    def progress(stage: str, done: int, total: int) -> None:
        now = time.monotonic()
        t0 = started.setdefault(stage, now)
        if now - last[0] < 0.1 and done < total:
            return  # at most ten bar updates a second
        last[0] = now
        rate = done / (now - t0) if now > t0 else 0.0
        post_from_thread(post, AnalysisProgressed(stage, done, total, rate))

    def stop() -> bool:
        return worker.is_cancelled

    parts: list[str] = []
    cancelled = False
    error: str | None = None
    try:
        summary = run_analysis(
            db_path, detectors=detectors, embedder=embedder, progress=progress, should_stop=stop, pair_noise=noise_check
        )
        parts += [f"{d.detector} {d.flagged:,}" for d in summary.detectors]
        cancelled = summary.cancelled
        if not cancelled and not stop():
            style = run_style_analysis(db_path, progress=progress, should_stop=stop)
            cancelled = style.cancelled
            parts += [f"drift {style.drift:,}", f"contradictions {style.conflicts:,}", f"noisy {style.noisy:,}"]
        if not cancelled and not stop():
            # Goal consistency: re-scored from the active goal's wording and kept samples each run.
            from review.relevance import score_goal

            rel = score_goal(db_path, embedder=embedder, progress=progress, should_stop=stop)
            if rel is not None:
                cancelled = rel.cancelled
                parts.append(f"off-goal {rel.flagged:,}")
        cancelled = cancelled or stop()
    except Exception as e:  # reported on the screen; what was committed stays
        error = f"{type(e).__name__}: {e}"
    post_from_thread(post, AnalysisFinished(" · ".join(parts), cancelled, error))


def propose(app: App[Any], db_path: Path, goal_id: int, size: int, seed: int, done: Callable[[Batch], None]) -> None:
    """Propose a batch of `size` undecided samples, then `done(batch)` on the UI thread."""
    from review.batch import propose_batch  # loaded with the first batch, not before the first paint

    with Store(db_path, create=False) as store:
        batch = propose_batch(store, goal_id, size, seed)
    app.call_from_thread(done, batch)


def export_kept(
    app: App[Any],
    db_path: Path,
    goal_id: int,
    out: Path,
    layout: str | None,
    force: bool,
    *,
    exported: Callable[[ExportReport], None],
    would_replace: Callable[[list[str]], None],
    failed: Callable[[str], None],
) -> None:
    """Export the goal's kept samples to `out`; on the UI thread, `exported(report)`, or
    `would_replace(paths)` (nothing written: ask, then run again with force), or `failed(message)`."""
    from review.export import ExportError, ExportWouldReplace, export  # loaded with the first export

    try:
        with Store(db_path, create=False) as store:
            report = export(store, store.goal(goal_id), out, to=layout, force=force)
    except ExportWouldReplace as e:
        app.call_from_thread(would_replace, [str(p) for p in e.paths])
        return
    except (ExportError, OSError) as e:
        app.call_from_thread(failed, f"export failed: {e}")
        return
    app.call_from_thread(exported, report)
