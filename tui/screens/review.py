"""The review screen: one sample at a time, decided with single keys.

Type-ahead safety: a decision key acts on the sample that has been *painted* on the terminal,
never on the cursor. Each time a sample is shown, `painted` is cleared, and it is set again only
once the frame holding that sample has been handed to the terminal; a decision key arriving
before that (typed ahead while a large sample renders, or while a worker looks for the next
sample) rings the bell and does nothing. The sample id is captured when the key is handled, so
even the drop dialog's follow-up key decides the sample that was on screen.

Stepping the fast queues (all, undecided, kept, dropped, reason, tag) is one indexed query and
runs inline; search, "first undecided" and queues added by analysis may scan, so they run in a
thread worker with its own Store while a progress bar shows.

Writes never freeze the screen and are acknowledged only once they are in the file; a busy
project is retried on a timer, keys waiting (Esc gives up): tui/write_retry.py. Analysis (A) runs
in a thread worker while deciding goes on, only the analysis bar showing it.

Where the parts live: this module is the controller (it reads the session, fills the widgets,
and turns the sample keys and the moving keys into session writes); the compare pane's keys are
review_pairs.py, the project-wide tasks (analysis, batch, export) review_tasks.py, their thread
workers review_workers.py; the paint gate is tui/paint_gate.py, the write state machine
tui/write_retry.py; the bars and the compare pane are widgets in tui/widgets/. The screen is
given what it works on (the session and its store, the project path, the embedder); it never
reaches into the app for them.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Container
from textual.events import Resize
from textual.timer import Timer
from textual.widgets import ProgressBar
from textual.worker import Worker, WorkerState, get_current_worker

from review.model import Counts, Flag, Queue, Sample
from review.session import PREF_LABELS, BulkPreview, ReviewSession, SelectionSummary, View, describe_action
from review.store import Flip, GoalArchived, GoalChanged, ProjectError, Store
from review.store.samples import system_key

from ..keys import REVIEW_BINDINGS
from ..messages import AnalysisFinished, SampleDecided
from ..widgets.bars import AnalysisBar, DecisionBar, FlagBar, GoalBar, LineBar, StatusBar
from ..widgets.compare import ComparePane
from ..widgets.conversation import ConversationView
from ..widgets.footer import SteadyFooter
from ..write_retry import WriteRetry, describe
from . import review_workers
from .review_pairs import PairKeys, related
from .review_tasks import ProjectTasks

if TYPE_CHECKING:
    from review.batch import Batch
    from review.embed import Embedder

    from .dialogs import QueueDialog


def _load_dialogs() -> None:
    """Load the dialogs' module (a thread worker's, after the first paint)."""
    import importlib

    importlib.import_module(".dialogs", __package__)


class ReviewScreen(PairKeys, ProjectTasks):
    CSS_PATH = Path(__file__).with_name("review.tcss")
    BINDINGS = [*REVIEW_BINDINGS]

    def __init__(
        self,
        session: ReviewSession,
        *,
        db_path: Path,
        embedder: Embedder | None = None,
        markdown: bool = False,
        wide_at: int = 120,
    ) -> None:
        super().__init__()
        self.session = session
        self.db_path = db_path  # the project file: each worker opens its own Store on it
        self.embedder = embedder  # the analysis worker's; None: sentence-transformers, when installed
        self.view: View | None = None
        self.flags: list[Flag] = []
        self.partners: list[Flag] = []
        self.partner_index = 0
        self.compare = False
        self.markdown = markdown
        self.wide_at = wide_at
        self.busy = False  # a worker is looking for the next sample (or a write waits)
        self._seeker = review_workers.Seek(db_path)
        self._analysis: Worker[None] | None = None
        self.analysis_running = False  # True until the analysis thread itself has returned
        self.analysis_last: AnalysisFinished | None = None
        self._seek_what = "moving"
        self._reread: Timer | None = None  # set while the view could not be read
        self._matches: dict[str, list[int]] = {}  # search text -> the ids it matches, ascending
        self._match_last_from: int | None = None  # P left this sample: show the next one at its last match
        self._left: dict[tuple[Queue, int], int] = {}  # (queue, log position) -> undecided left in it
        self.system_open = False  # p: repeated system prompts shown whole
        self._systems: dict[bytes, int] | None = None  # system_key -> samples carrying it (a worker's)
        self._systems_asked = False  # the worker counting them starts once the first sample is painted
        self._queue_dialog: QueueDialog | None = None  # the picker (f), built on first use and reused
        self._writes = WriteRetry(
            self, set_busy=self._set_busy, refresh=self.refresh_view, goal_moved=self._goal_moved, failed=self._failed
        )

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield GoalBar(id="goal-bar")
        yield StatusBar(id="status-bar")
        yield DecisionBar(id="decision-bar")
        yield FlagBar(id="flag-bar")
        yield ProgressBar(total=100, show_eta=False, show_percentage=False, id="busy")
        yield AnalysisBar(id="analysis-bar")
        with Container(id="body"):
            yield ConversationView(id="current")
            yield ComparePane(id="compare-pane")
        yield SteadyFooter(compact=True)

    def on_mount(self) -> None:
        self._layout_for(self.app.size.width)
        self.refresh_view()
        if self.session.resumed and self.view is not None:
            self.notify(f"resumed at #{self.view.number:,} · queue: {self.view.queue_label}", timeout=4)

    def on_resize(self, event: Resize) -> None:
        self._layout_for(event.size.width)
        self._show_goal()  # it may say "enlarge the terminal"

    def _layout_for(self, width: int) -> None:
        # Side by side when there is room for two readable columns, else stacked.
        self.query_one("#body").set_class(width < self.wide_at, "-stacked")

    # ------------------------------------------------------------------ showing a sample

    def refresh_view(self) -> None:
        """Show the session's current sample (state read fresh from the store). When the file
        cannot be read, say so instead of showing stale state, and try again each second."""
        try:
            self._show_view()
        except (ProjectError, sqlite3.Error) as e:
            self._show_unreadable(e)
            return
        if self._reread is not None:
            self._reread.stop()
            self._reread = None

    def _show_unreadable(self, e: Exception) -> None:
        self.view = None  # decision keys ring the bell until the sample is shown again
        self._forget_paint()
        self._bar("#status-bar", Text(f"could not read the project: {self._message(e)}", style="bold red"))
        self._bar("#decision-bar", Text("retrying each second…", style="dim"))
        self._bar("#flag-bar", Text(""))
        self.query_one("#current", ConversationView).show(Text(""))
        if self._reread is None:
            self._reread = self.set_interval(1.0, self.refresh_view)

    def _show_view(self) -> None:
        v = self.session.view()
        self.view = v
        self._forget_paint()
        self._notice_goal_change()
        self._show_goal()
        if v is None:
            self._show_empty()
            return
        self.flags = self.session.flags(v.sample)
        self.partners = related(self.flags, v.sample.id)
        if self.partner_index >= len(self.partners):
            self.partner_index = 0
        counts = self.session.counts()
        self.query_one("#status-bar", StatusBar).show_view(
            v, counts, self._batch_progress(), self._queue_left(v, counts)
        )
        self.query_one("#decision-bar", DecisionBar).show_view(v, self._search_position(v))
        self._show_flags(v)
        self._render_panes(v)
        self._await_paint(v.sample.id)

    def _queue_left(self, v: View, counts: Counts) -> int | None:
        """Undecided samples in the current queue ("N left"): from the tallies for all and
        undecided; for a queue that must be listed, the count a worker made at this log position
        (a new one is started when the log has moved since; until it answers, the line has none)."""
        queues, queue = self.session.queues, v.queue
        if queue.kind in ("kept", "dropped", "reason", "tag"):
            return None
        if queue.kind in ("all", "undecided"):
            return counts.undecided
        key = (queue, self.session.store.log_position())
        if key in self._left:
            return self._left[key]
        goal_id = self.session.goal.id

        def count() -> None:
            worker = get_current_worker()
            with Store(self.db_path, create=False, check_same_thread=False) as store:
                n = queues.left(store, goal_id, queue, cancelled=lambda: worker.is_cancelled)
            if not worker.is_cancelled and n is not None:
                self.app.call_from_thread(self._left_counted, key, n)

        self.run_worker(count, name="queue_left", group="queue_left", exclusive=True, exit_on_error=False, thread=True)
        return None

    def _search_position(self, v: View) -> tuple[int, int] | None:
        """(this sample's place among the matches, how many match) for a search queue: from the
        search's own result, listed once per search text by a worker (never on the keypress)."""
        if v.queue.kind != "search" or not v.queue.value:
            return None
        text = v.queue.value
        ids = self._matches.get(text)
        if ids is not None:
            return bisect.bisect_left(ids, v.sample.id) + 1, len(ids)

        def listed() -> None:
            worker = get_current_worker()
            with Store(self.db_path, create=False, check_same_thread=False) as store:
                found = store.search_ids(text)
            if not worker.is_cancelled:
                self.app.call_from_thread(self._search_listed, text, found)

        self.run_worker(listed, name="search_ids", group="search_ids", exclusive=True, exit_on_error=False, thread=True)
        return None

    def _search_listed(self, text: str, ids: list[int]) -> None:
        self._matches = {text: ids}
        v = self.view
        if v is not None and v.queue.kind == "search" and v.queue.value == text:
            self.query_one("#decision-bar", DecisionBar).show_view(v, self._search_position(v))

    def _left_counted(self, key: tuple[Queue, int], n: int) -> None:
        self._left = {key: n}
        v = self.view
        if v is not None and v.queue == key[0]:
            bar = self.query_one("#status-bar", StatusBar)
            bar.show_view(v, self.session.counts(), self._batch_progress(), n)

    def _bar(self, selector: str, text: Text) -> None:
        self.query_one(selector, LineBar).say(text)

    def _show_goal(self) -> None:
        self.query_one("#goal-bar", GoalBar).show_goal(self.session.goal)

    def _show_flags(self, v: View) -> None:
        bar = self.query_one("#flag-bar", FlagBar)
        bar.show_flags(self.flags, v.sample, related=bool(self.partners), compare=self.compare)

    def _shown_id(self) -> int | None:
        return self.view.sample.id if self.view is not None else None

    def _mark_painted(self, sample_id: int) -> None:
        super()._mark_painted(sample_id)
        if not self._systems_asked and self.painted is not None:
            # Work that can wait for the first paint: at 1M samples the count is a 4 s scan in a
            # thread, and started at mount it competed with that paint for the CPU. The dialogs'
            # module (the picker, the drop reasons, search) loads then too, so that the first
            # `f` or `x` does not wait for its import.
            self._systems_asked = True
            self._count_systems()
            self.run_worker(_load_dialogs, name="load_dialogs", group="load_dialogs", exit_on_error=False, thread=True)

    def _answer_on_screen(self) -> bool:
        return self.query_one("#current", ConversationView).answer_uncovered()

    def _show_empty(self) -> None:
        self._bar("#status-bar", Text("0 samples", style="bold"))
        self._bar("#decision-bar", Text(""))
        self._bar("#flag-bar", Text(""))
        self.query_one("#compare-pane").display = False
        self.query_one("#current", ConversationView).show(
            Text(
                "This project has no samples yet.\n\nImport a data file first:\n  winnow import FILE --db PROJECT.db",
                style="italic",
            )
        )

    def _batch_progress(self) -> tuple[int, int, int] | None:
        """(batch id, decided, size) while in the batch queue (one indexed query over the batch)."""
        queue = self.session.queue
        if queue.kind != "batch":
            return None
        from review.batch import batch_progress, latest_batch

        store = self.session.store
        bid = queue.value or latest_batch(store, self.session.goal.id)
        if bid is None:
            return None
        return (int(bid), *batch_progress(store, self.session.goal.id, int(bid)))

    # ------------------------------------------------------------------ guards

    def _ready(self) -> int | None:
        """The id of the sample on screen, or None (and a bell) when a decision must wait: until
        the sample has been painted, and at least the first line of its answer with it (on a
        terminal too small to show any of it, or with the answer scrolled out of view, the key
        says so and does nothing)."""
        v = self.view
        if v is None or self.busy or self.painted != v.sample.id:
            self.app.bell()
            return None
        if not self._answer_shown():
            self.app.bell()
            if self._refresh_pending():
                return None  # its frame is still to come (the pane's first lines at start-up): not yet painted
            if self.query_one("#current", ConversationView).uncovered_rows() < 3:
                # A toast does not fit a terminal this small: the top row says it, in what fits.
                width = self.query_one("#goal-bar").content_region.width
                say = next((m for m in ("enlarge the terminal", "enlarge terminal") if len(m) <= width), "enlarge")
                self._bar("#goal-bar", Text(say, style="bold reverse yellow"))
                self.notify("enlarge the terminal: the sample is not on screen — nothing was done", severity="warning")
            else:
                self.notify("the answer is further down: PgDn shows it — nothing was done", severity="warning")
            return None
        return v.sample.id

    # ------------------------------------------------------------------ writing

    def _message(self, e: Exception) -> str:
        return describe(self.session.store.path, e)

    def _save(self, what: str, write: Callable[[], Any], saved: Callable[[Any], None]) -> None:
        """Run one write of the session, then `saved(result)`: only what is in the file is ever
        acknowledged. Busy: retried on a timer (tui/write_retry.py). Any other failure: `what`
        and the reason on screen, and the view re-read, so it shows what the file holds."""
        self._writes.save(what, write, saved)

    def _notice_goal_change(self) -> None:
        """Each time a sample is shown (one indexed read): a goal another process reworded or
        archived shows as it now is before any key is pressed. The write still checks the
        revision itself, inside its transaction (a change may land after this read)."""
        goal = self.session.store.goal(self.session.goal.id)
        if goal.revision == self.session.goal.revision:
            return
        self.session.adopt_goal(goal)
        if goal.archived:
            self.notify(f"goal #{goal.id} was archived by another process — G: restore it or pick a goal", timeout=8)
        else:
            self.notify(f"goal #{goal.id} was reworded by another process — the new wording is above", timeout=8)

    def _goal_moved(self, e: GoalChanged) -> None:
        """Another process edited or archived the goal since it was painted: the write was rolled
        back inside its transaction. Show the goal as the file has it; the key is not applied, so
        the sample is judged again under the wording now on screen (after it is painted again)."""
        self.app.bell()
        goal = self.session.adopt_goal(e.goal)
        if isinstance(e, GoalArchived):
            msg = f"goal #{goal.id} was archived by another process: nothing was written — G: restore it or pick a goal"
        else:
            msg = f"goal #{goal.id} was reworded by another process: nothing was written — judge again (new wording above)"
        self.notify(msg, severity="warning", timeout=12)
        self.refresh_view()

    def _failed(self, what: str, e: Exception) -> None:
        self.app.bell()
        self.notify(f"{what}: {self._message(e)}", severity="error", timeout=12)
        self.refresh_view()

    # ------------------------------------------------------------------ deciding

    def action_keep(self) -> None:
        sid = self._ready()
        if sid is None:
            return
        self._decide(sid, "keep", None)

    def _decide(self, sid: int, verdict: str, reason: str | None) -> None:
        def saved(_: object) -> None:
            self.post_message(SampleDecided(sid, verdict, reason))
            self._advance(f"#{sid:,} " + ("kept" if verdict == "keep" else f"dropped ({reason})"))

        self._save(f"{verdict} #{sid:,}", lambda: self.session.decide(sid, verdict, reason), saved)

    def action_prefer(self, action: str) -> None:
        """S / N / L: swap a preference pair, drop it as both bad, flip a KTO label (issue 15): one
        log step each, undone by u; export writes the pair swapped or the label flipped."""
        sid = self._ready()
        if sid is None or self.view is None:
            return
        conv = self.view.sample.conversation
        if action in ("swap", "both-bad") and not conv.rejected:
            self.app.bell()
            self.notify("not a preference pair: swap and both bad are for chosen/rejected records", severity="warning")
            return
        if action == "flip" and conv.label is None:
            self.app.bell()
            self.notify("no KTO label on this record: nothing to flip", severity="warning")
            return
        if self.session.cursor != sid:
            self.app.bell()
            return

        def saved(_: object) -> None:
            d = self.session.store.decisions_of(self.session.goal.id, [sid]).get(sid)
            verdict = d.verdict if d is not None and d.verdict else "keep"
            self.post_message(SampleDecided(sid, verdict, d.reason if d is not None else None))
            self._advance(f"#{sid:,} " + (PREF_LABELS.get(d.pref, "kept as imported") if d is not None else "kept"))

        self._save(f"{action} #{sid:,}", lambda: self.session.prefer(action, advance=False), saved)

    def action_drop(self) -> None:
        sid = self._ready()
        if sid is None:
            return
        shown = self.partners[self.partner_index] if self.compare and self.partners else None
        suggested = (shown.reason if shown else None) or next((f.reason for f in self.flags if f.reason), None)

        def dropped(reason: str | None) -> None:
            if reason is not None:
                self._decide(sid, "drop", reason)

        from .dialogs import ReasonDialog

        self.app.push_screen(ReasonDialog(sid, suggested), dropped)

    def _advance(self, done: str) -> None:
        """Move on after `done` (already in the file). If moving fails, the error says `done` was
        saved, and the decided sample stays on screen showing it."""
        end = f"end of the queue ({self.session.queues.label(self.session.queue)}) — g: first undecided · f: another queue"
        self._step(True, end, what=f"{done} (saved), but moving on")

    def action_undo(self) -> None:
        if self.busy:
            self.app.bell()
            return

        def undone(flip: Flip) -> None:
            touched = flip.touched
            if not touched:
                self.notify("nothing to undo")
                return
            self.refresh_view()
            if flip.action_kind == "bulk":
                self.notify(f"undone: {describe_action(flip.action_kind, flip.detail, len(touched))}")
                return
            self.notify(f"undone · #{touched[0]:,}" + (f" and {len(touched) - 1} more" if len(touched) > 1 else ""))

        if not self._flip_bulk("undo"):
            self._save("undo", self.session.undo_step, undone)

    def _flip_bulk(self, kind: str) -> bool:
        """When the action undo (redo) would flip is a bulk one, which may hold 100,000 samples:
        flip it in a worker (one transaction there) and return True; else False."""
        store, goal = self.session.store, self.session.goal
        try:
            target = store.undo_target(goal.id) if kind == "undo" else store.redo_target(goal.id)
            info = store.action_info(target) if target is not None else None
        except (ProjectError, sqlite3.Error) as e:
            self._failed(kind, e)
            return True
        if info is None or info[0] != "bulk":
            return False
        self._set_busy(True)
        from . import bulk

        self.run_worker(
            partial(bulk.flip_bulk, self.db_path, goal, kind),
            name=f"bulk_{kind}",
            group="bulk",
            exclusive=True,
            exit_on_error=False,
            thread=True,
        )
        return True

    def _bulk_flipped(self, flip: Flip) -> None:
        self._set_busy(False)
        if not flip.touched:
            self.notify(f"nothing to {flip.kind}")
            return
        cursor = self.session.cursor
        if cursor is not None and cursor not in flip.touched:
            self.session.move_to(flip.touched[0])
        self.refresh_view()
        self.notify(f"{flip.kind}ne: {describe_action(flip.action_kind, flip.detail, len(flip.touched))}")

    def action_bulk(self) -> None:
        """Keep or drop every sample of the current queue (a search: its result) in one step:
        the queue is listed in a worker, the dialog shows what would change, and the write runs
        in a worker too (one transaction, one action: u undoes it)."""
        if self.busy or self.view is None:
            self.app.bell()
            return
        self._set_busy(True)
        goal, queue = self.session.goal, self.session.queue
        from . import bulk

        self.run_worker(
            partial(bulk.summarize_queue, self.db_path, self.session.queues, goal, queue),
            name="bulk_summary",
            group="bulk",
            exclusive=True,
            exit_on_error=False,
            thread=True,
        )

    def _bulk_summary(self, summary: SelectionSummary) -> None:
        self._set_busy(False)
        if not summary.matched:
            self.notify(f"nothing to decide: {summary.selection.label} is empty", severity="warning")
            return
        from . import bulk

        def chosen(choice: tuple[str, str | None] | None) -> None:
            if choice is None:
                return
            self._set_busy(True)
            self.run_worker(
                partial(bulk.write_bulk, self.db_path, self.session.goal, summary.selection, *choice),
                name="bulk_write",
                group="bulk",
                exclusive=True,
                exit_on_error=False,
                thread=True,
            )

        self.app.push_screen(bulk.BulkDialog(summary), chosen)

    def _bulk_written(self, preview: BulkPreview, action: int | None) -> None:
        self._set_busy(False)
        self.refresh_view()
        if action is None:
            self.notify("nothing to change: every sample was decided that way already")
            return
        what = "kept" if preview.verdict == "keep" else f"dropped as {preview.reason}"
        self.notify(f"{len(preview.changes):,} samples {what} in one step ({preview.selection.label}) · u undoes it")

    def action_redo(self) -> None:
        if self.busy:
            self.app.bell()
            return

        def redone(touched: list[int]) -> None:
            if not touched:
                self.notify("nothing to redo")
                return
            self.refresh_view()
            self.notify(f"redone · #{touched[0]:,}")

        if not self._flip_bulk("redo"):
            self._save("redo", self.session.redo, redone)

    def action_tag(self) -> None:
        sid = self._ready()
        if sid is None or self.view is None:
            return
        current = self.view.decision.tags
        hint = "Enter adds · -name removes · → completes a known tag"
        if current:
            hint += " · on this sample: " + ", ".join(current)
        try:
            known = self.session.tags()
        except (ProjectError, sqlite3.Error):
            known = list(current)  # completion is a convenience: tagging still works without it

        def tagged(value: str | None) -> None:
            value = (value or "").strip()
            if not value:
                return
            if value.startswith("-"):
                name = value[1:].strip()
                self._save(f"untag #{sid:,}", lambda: self.session.untag(name), lambda _: self.refresh_view())
            else:
                self._save(
                    f"tag #{sid:,}", lambda: self.session.tag(value, sample_id=sid), lambda _: self.refresh_view()
                )

        from .dialogs import TextDialog

        self.app.push_screen(TextDialog(f"Tag #{sid:,}", placeholder="tag", hint=hint, suggestions=known), tagged)

    def action_note(self) -> None:
        sid = self._ready()
        if sid is None or self.view is None:
            return

        def noted(value: str | None) -> None:
            if value is None:
                return
            text = value.strip()
            self._save(f"note on #{sid:,}", lambda: self.session.note(text), lambda _: self.refresh_view())

        from .dialogs import TextDialog

        self.app.push_screen(
            TextDialog(
                f"Note on #{sid:,}", value=self.view.decision.note, hint="Enter saves (empty clears) · Esc cancels"
            ),
            noted,
        )

    # ------------------------------------------------------------------ moving

    def action_next(self) -> None:
        self._step(True, f"end of the queue ({self.session.queues.label(self.session.queue)})")

    def action_previous(self) -> None:
        self._step(False, f"start of the queue ({self.session.queues.label(self.session.queue)})")

    def _step(self, forward: bool, at_end: str, what: str = "moving") -> None:
        if self.busy:
            self.app.bell()
            return
        if self.session.queues.instant(self.session.queue):

            def moved(ok: bool) -> None:
                self.refresh_view()
                if not ok:
                    self.notify(at_end)

            self._save(what, self.session.next if forward else self.session.previous, moved)
            return
        self._seek(self.session.queue, self.session.cursor or 0, forward, switch=False, empty=at_end, what=what)

    def action_first_undecided(self) -> None:
        if self.busy:
            self.app.bell()
            return
        self._seek(Queue("undecided"), 0, True, switch=False, empty="every sample is decided under this goal")

    def action_jump(self) -> None:
        if self.view is None:
            return

        def jumped(value: str | None) -> None:
            if value is None:
                return

            def done(ok: bool) -> None:
                if ok:
                    self.refresh_view()
                else:
                    self.notify(f"there is no sample #{value}", severity="warning")

            self._save(f"jump to #{value}", lambda: self.session.jump(int(value)), done)

        from .dialogs import JumpDialog

        self.app.push_screen(JumpDialog(self.view.total), jumped)

    def action_search(self) -> None:
        def searched(value: str | None) -> None:
            value = (value or "").strip()
            if not value:
                return
            self._set_queue(Queue("search", value))

        from .dialogs import TextDialog

        self.app.push_screen(
            TextDialog(
                "Search: show only samples containing…",
                placeholder="text",
                hint="case-insensitive · f to go back to all samples",
            ),
            searched,
        )

    def action_match(self, step: int) -> None:
        """. / ,: the next / previous match of the search within the sample shown (a long answer
        scrolls to it), and past its last / first, the next / previous matching sample (the search
        queue holds only those), landing on its first / last match."""
        v = self.view
        if v is None or v.queue.kind != "search" or not v.queue.value:
            self.app.bell()
            self.notify("no search: press / to search first", severity="warning")
            return
        pane = self.query_one("#current", ConversationView)
        if pane.go_to_match(step) is not None:
            return
        if step < 0:
            self._match_last_from = v.sample.id  # the previous sample opens at its last match
            self.action_previous()
        else:
            self.action_next()

    def action_filter(self) -> None:
        """The queue picker: the built-in queues counted from the tallies at once, the others
        ("counting…") by a worker that steps them, each line updated as its count arrives. The
        picker is built on the first `f` and the same one opened again after that (only its
        changed lines are redrawn); the worker starts once it has been painted."""
        try:
            c = self.session.counts()
        except (ProjectError, sqlite3.Error) as e:
            self._failed("queues", e)
            return
        queues = self.session.queues

        def line(label: str, n: int, queue: Queue) -> str:
            hint = queues.empty_hint(queue) if not n else None
            return f"{label} ({n:,})" + (f" · {hint}" if hint else "")

        choices: list[tuple[str, Queue]] = [
            (line("all samples", c.total, Queue("all")), Queue("all")),
            (line("undecided", c.undecided, Queue("undecided")), Queue("undecided")),
            (line("kept", c.kept, Queue("kept")), Queue("kept")),
            (line("dropped", c.dropped, Queue("dropped")), Queue("dropped")),
        ]
        choices += [(f"dropped as {r} ({n:,})", Queue("reason", r)) for r, n in c.by_reason.items() if n]
        choices += [(f"tagged {t} ({n:,})", Queue("tag", t)) for t, n in c.by_tag.items() if n]
        # Batches, re-review, analysis, style: in the table's order (review.queues.default_queues).
        stepped = [Queue(k) for k in queues.offered()]
        if "noisy" in queues.offered():  # then the noisy queue by trigger, those the style run found
            from review.style import noise_kind_queues

            at = stepped.index(Queue("noisy")) + 1
            stepped[at:at] = [q for q, _ in noise_kind_queues(self.session.store)]
        current = self.session.queue
        if (
            current.kind in ("search", "noise_kind")
            and current not in stepped
            or (current.kind in queues.offered() and current not in stepped)
        ):
            stepped.append(current)
        choices += [(f"{queues.label(q)} (counting…)", q) for q in stepped]
        known = [c.total, c.undecided, c.kept, c.dropped]
        known += [n for n in c.by_reason.values() if n] + [n for n in c.by_tag.values() if n]
        dialog = self._queue_dialog
        if dialog is None:
            from .dialogs import QueueDialog

            dialog = self._queue_dialog = QueueDialog(choices, current, dict(enumerate(known)))
            # Installed: popping it keeps it (and its widgets) for the next `f`.
            self.app.install_screen(dialog, name=f"queue-picker-{id(self)}")
        else:
            dialog.reopen(choices, current, dict(enumerate(known)))
        generation = dialog.generation

        def picked(queue: Queue | None) -> None:
            self.workers.cancel_group(self, "queue_counts")
            if queue is None:
                return
            i = next((j for j, (_, q) in enumerate(dialog.choices) if q == queue), None)
            if i is not None and dialog.counts.get(i) == 0:
                hint = queues.empty_hint(queue)
                self.notify(f"{queues.label(queue)}: empty" + (f" — {hint}" if hint else ""), severity="warning")
                return
            self._set_queue(queue)

        self.app.push_screen(dialog, picked)
        goal_id = self.session.goal.id

        def count_all() -> None:
            worker = get_current_worker()
            with Store(self.db_path, create=False, check_same_thread=False) as store:
                for q in stepped:
                    if worker.is_cancelled:
                        return
                    qc = queues.count(store, goal_id, q, cancelled=lambda: worker.is_cancelled)
                    if not worker.is_cancelled:
                        self.app.call_from_thread(dialog.show_count, q, qc.line(), qc.count, generation)

        def start_counting() -> None:
            if dialog.generation == generation and dialog.is_current:
                self.run_worker(
                    count_all,
                    name="queue_counts",
                    group="queue_counts",
                    exclusive=True,
                    exit_on_error=False,
                    thread=True,
                )

        # After the picker's first frame: the worker's own Store and its steps would compete with
        # that frame for the interpreter.
        dialog.call_after_refresh(start_counting)

    def _set_queue(self, queue: Queue) -> None:
        queues = self.session.queues
        label = queues.label(queue) if queue.kind in queues else queue.kind
        if queues.instant(queue):

            def done(ok: bool) -> None:
                if ok:
                    self.refresh_view()
                    self.notify(f"queue: {label}")
                else:
                    self.notify(f"no samples in the queue: {label}", severity="warning")

            self._save(f"queue: {label}", lambda: self.session.set_queue(queue), done)
            return
        if queue.kind not in queues:
            self.notify("no analysis has run on this project yet: run `winnow analyze`", severity="warning")
            return
        after = max((self.session.cursor or 1) - 1, 0)
        self._seek(queue, after, True, switch=True, empty=f"no samples in the queue: {label}")

    def _seek(self, queue: Queue, after: int, forward: bool, *, switch: bool, empty: str, what: str = "moving") -> None:
        """Find the next sample of a queue that may need a scan, in a worker. Busy is set here,
        on the UI thread, so no key handled from now on can act on the sample being left."""
        self._set_busy(True)
        self._seek_what = what
        switched = queue if switch else None

        def done(target: int | None) -> None:
            self._seek_done(switched, target, empty)

        run = partial(
            self._seeker.run, self.app, self.session.queues, self.session.goal.id, queue, after, forward, switch, done
        )
        self.run_worker(run, name="_seek_worker", group="seek", exclusive=True, exit_on_error=False, thread=True)

    @property
    def _seek_store(self) -> Store | None:
        """The running seek's connection (None when no seek runs)."""
        return self._seeker.store

    def action_cancel(self) -> None:
        """Give up a write waiting for a busy project; else stop a running search: interrupt its
        query (a worker cannot stop SQLite otherwise); else stop a running analysis."""
        if self._writes.give_up():
            return
        store = self._seeker.store
        if not self.busy or store is None:
            self._stop_analysis()
            return
        self.workers.cancel_group(self, "seek")
        store.conn.interrupt()

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        bar = self.query_one("#busy", ProgressBar)
        bar.display = busy
        bar.update(total=None if busy else 100, progress=0)

    def _seek_done(self, queue: Queue | None, target: int | None, empty: str) -> None:
        self._set_busy(False)
        if target is None:
            self.refresh_view()
            self.notify(empty, severity="warning")
            return

        def moved(ok: bool) -> None:
            self.refresh_view()
            if not ok:
                self.notify(empty, severity="warning")
            elif queue is not None:
                self.notify(f"queue: {self.session.queues.label(queue)}")

        self._save(self._seek_what, lambda: self.session.move_to(target, queue), moved)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "bulk" and event.state in (WorkerState.SUCCESS, WorkerState.ERROR):
            self._bulk_done(event.worker)
            return
        if event.worker.group == "batch" and event.state == WorkerState.ERROR:
            self._set_busy(False)
            self.notify(f"could not propose a batch: {event.worker.error}", severity="error")
            return
        if event.worker.group == "seek" and event.state in (WorkerState.ERROR, WorkerState.CANCELLED):
            self._set_busy(False)
            if event.state == WorkerState.CANCELLED:
                self.notify("stopped")
            else:
                self.notify(f"could not step the queue: {event.worker.error}", severity="error")

    def _bulk_done(self, worker: Worker[Any]) -> None:
        if worker.state == WorkerState.SUCCESS:
            result = worker.result
            if isinstance(result, SelectionSummary):
                self._bulk_summary(result)
            elif isinstance(result, Flip):
                self._bulk_flipped(result)
            elif isinstance(result, tuple):
                self._bulk_written(*result)
            return
        self._set_busy(False)
        e = worker.error
        if isinstance(e, GoalChanged):
            self._goal_moved(e)
        elif isinstance(e, Exception):
            self._failed("deciding all", e)

    # ------------------------------------------------------------------ views

    def action_markdown(self) -> None:
        self.markdown = not self.markdown
        if self.view is not None:
            self._render_panes(self.view)
        self.notify("markdown " + ("on" if self.markdown else "off"), timeout=1.5)

    # -- repeated system prompts: one line each until p

    def _count_systems(self) -> None:
        """Which system prompts more than one sample carries, counted once per screen by a worker
        (a scan of the samples; never on a keypress). Until it answers, prompts show whole; the
        sample on screen when it answers stays as it is drawn."""

        def count() -> None:
            worker = get_current_worker()
            with Store(self.db_path, create=False, check_same_thread=False) as store:
                found = store.repeated_systems(cancelled=lambda: worker.is_cancelled)
            if found is not None and not worker.is_cancelled:
                self.app.call_from_thread(self._systems_counted, found)

        self.run_worker(count, name="systems", group="systems", exclusive=True, exit_on_error=False, thread=True)

    def _systems_counted(self, found: dict[bytes, int]) -> None:
        # From the next sample shown on: the one on screen is not drawn again under the curator's
        # eyes (its text would jump, and a decision key pressed during that repaint would wait
        # for it and be refused).
        self._systems = found

    def _system_shared(self, sample: Sample) -> int:
        """How many samples carry this sample's system prompt (0: show it whole)."""
        system = sample.conversation.system
        if self.system_open or not system or not self._systems:
            return 0
        return self._systems.get(system_key(system), 0)

    def _system_key(self) -> str:
        """The key that toggles system prompts, as the keymap has it."""
        keymap = getattr(self.app, "config", {}).get("keymap")
        keys = keymap.get("system_prompt") if isinstance(keymap, dict) else None
        return str(keys).split(",")[0] if keys else "p"

    def action_system_prompt(self) -> None:
        v = self.view
        if v is None:
            return
        if not self.system_open and self._system_shared(v.sample) < 2:
            self.app.bell()
            why = "has none" if not v.sample.conversation.system else "is not repeated"
            if v.sample.conversation.system and self._systems is None:
                why = "is still being compared with the others"
            self.notify(f"this sample's system prompt {why}", timeout=2)
            return
        self.system_open = not self.system_open  # the pane itself shows the change: no notice over it
        self._render_panes(v)
        self._await_paint(v.sample.id)

    def action_scroll(self, pages: int) -> None:
        pane = self.query_one("#current", ConversationView)
        if pages > 0:
            pane.scroll_page_down(animate=False)
        else:
            pane.scroll_page_up(animate=False)

    def action_full_text(self) -> None:
        if self.view is None:
            return
        from .fulltext import FullTextScreen

        self.app.push_screen(FullTextScreen(self.view.sample))

    def action_goals(self) -> None:
        from .goals import GoalsScreen

        self.app.push_screen(GoalsScreen())

    # ------------------------------------------------------------------ batch and export

    def _batch_done(self, batch: Batch) -> None:
        self._set_busy(False)
        if not batch.size:
            self.notify("no undecided samples left to propose under this goal", severity="warning")
            return
        from review.batch import batch_progress

        decided, size = batch_progress(self.session.store, batch.goal_id, batch.id)
        # From the batch's first sample (0 is never a sample id, so the step starts at position 0).
        self._seek(Queue("batch"), 0, True, switch=True, empty="the batch is empty")
        self.notify(f"batch #{batch.id}: {size:,} samples · {decided:,} decided", timeout=4)

    def action_stats(self) -> None:
        from .stats import StatsScreen

        self.app.push_screen(StatsScreen(self.db_path, self.session.goal))

    def action_help(self) -> None:
        from .help import HelpScreen

        self.app.push_screen(HelpScreen(self))

    def action_quit(self) -> None:
        self.app.exit()
