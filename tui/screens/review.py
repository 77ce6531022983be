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

Writes never freeze the screen and are acknowledged only once they are in the file. The app's
connection waits at most a few milliseconds for another writer (tui.app.UI_BUSY_MS); while the
project stays busy, the write is retried on a timer for up to BUSY_PATIENCE seconds, keys waiting
and the bar showing it (Esc gives up). A write the file refuses (busy for too long, disk full,
read-only, an I/O error) is an error on screen that says what happened, which file, and what to
do; the sample stays on screen as the file has it, and the same key works once the cause is gone.

Analysis (A) runs the duplicate detectors and then the style analysis in a thread worker; the
`review/` functions open their own Store and report progress through a plain callback, turned here
into `AnalysisProgressed` messages. Deciding goes on meanwhile: only the analysis bar shows. The
worker's thread may outlive a cancelled Textual worker (a thread cannot be interrupted), so the
bar stays up ("stopping…") until the thread itself posts `AnalysisFinished`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Container, Horizontal, Vertical
from textual.errors import NoWidget
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, ProgressBar, Static
from textual.worker import Worker, WorkerState, get_current_worker

from review.batch import Batch, batch_progress, latest_batch, propose_batch
from review.export import ExportError, ExportReport, ExportWouldReplace, export
from review.model import DEFAULT_REASON, Flag, Sample
from review.sanitize import suspicious
from review.session import QUEUE_LABELS, ReviewSession, View, queue_label
from review.store import QUEUE_EXTENSIONS, GoalArchived, GoalChanged, ProjectError, StorageError, Store, storage_error

from .. import render
from ..keys import REVIEW_BINDINGS
from ..messages import AnalysisFinished, AnalysisProgressed, SampleDecided
from ..widgets.conversation import ConversationView
from .dialogs import BatchDialog, ExportDialog, JumpDialog, QueueDialog, ReasonDialog, ReplaceDialog, TextDialog

FAST_QUEUES = {"all", "undecided", "kept", "dropped", "reason", "tag"}
CLUSTER_KINDS = ("exact", "lexical", "semantic")  # flags whose members are a near-duplicate cluster
PAIR_KINDS = ("conflict", "same-prompt", "style")  # flags the pair keys (< > D b) resolve
BUSY_PATIENCE = 5.0  # seconds a key waits for another writer (as long as a headless command does)
RETRY_EVERY = 0.1  # seconds between two tries while the project is busy


class ReviewScreen(Screen[None]):
    CSS_PATH = Path(__file__).with_name("review.tcss")
    BINDINGS = REVIEW_BINDINGS

    def __init__(self, session: ReviewSession, *, markdown: bool = False, wide_at: int = 120) -> None:
        super().__init__()
        self.session = session
        self.view: View | None = None
        self.flags: list[Flag] = []
        self.partners: list[Flag] = []
        self.partner_index = 0
        self.compare = False
        self.markdown = markdown
        self.wide_at = wide_at
        self.painted: int | None = None  # the sample id last painted on the terminal
        self.answer_seen: int | None = None  # ... whose answer's first line has been on the terminal
        self._unpainted: int | None = None  # shown, but its frame not yet written
        self._in_layout = False  # inside Textual's _refresh_layout (reflowed, about to paint)
        self.busy = False  # a worker is looking for the next sample
        self._seek_store: Store | None = None
        self._analysis: Worker | None = None
        self.analysis_running = False  # True until the analysis thread itself has returned
        self.analysis_last: AnalysisFinished | None = None
        self._retry: Timer | None = None  # set while a write waits for a busy project
        self._seek_what = "moving"
        self._cancel_wait: Callable[[], None] | None = None
        self._reread: Timer | None = None  # set while the view could not be read

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        yield Static(id="goal-bar")
        yield Static(id="status-bar")
        yield Static(id="decision-bar")
        yield Static(id="flag-bar")
        yield ProgressBar(total=100, show_eta=False, show_percentage=False, id="busy")
        with Horizontal(id="analysis-bar"):
            yield Static(id="analysis-label")
            yield ProgressBar(total=None, show_eta=False, show_percentage=False, id="analysis-progress")
        with Container(id="body"):
            yield ConversationView(id="current")
            with Vertical(id="compare-pane"):
                yield Static(id="compare-title")
                yield ConversationView(id="partner")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._layout_for(self.app.size.width)
        self.refresh_view()
        if self.session.resumed and self.view is not None:
            self.notify(f"resumed at #{self.view.number:,} · queue: {self.view.queue_label}", timeout=4)

    def on_resize(self, event) -> None:
        self._layout_for(event.size.width)
        self._bar("#goal-bar", self._goal_line())  # it may say "enlarge the terminal"

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
        self.painted = None
        self.answer_seen = None
        self._bar("#status-bar", Text(f"could not read the project: {self._message(e)}", style="bold red"))
        self._bar("#decision-bar", Text("retrying each second…", style="dim"))
        self._bar("#flag-bar", Text(""))
        self.query_one("#current", ConversationView).show(Text(""))
        if self._reread is None:
            self._reread = self.set_interval(1.0, self.refresh_view)

    def _show_view(self) -> None:
        v = self.session.view()
        self.view = v
        self.painted = None
        self.answer_seen = None
        self._notice_goal_change()
        self._bar("#goal-bar", self._goal_line())
        if v is None:
            self._show_empty()
            return
        self.flags = self.session.flags(v.sample)
        seen: set[int] = set()
        self.partners = []
        for f in self.flags:
            # A cluster's other members are partners too, so [ and ] step through all of them.
            for other in (f.partner, *f.members):
                if other is not None and other != v.sample.id and other not in seen:
                    seen.add(other)
                    self.partners.append(f if other == f.partner else dataclasses.replace(f, partner=other))
        if self.partner_index >= len(self.partners):
            self.partner_index = 0
        self._bar("#status-bar", self._status_line(v))
        self._bar("#decision-bar", self._decision_line(v))
        self._bar("#flag-bar", self._flag_line(v.sample))
        self._render_panes(v)
        self._await_paint(v.sample.id)

    def _bar(self, selector: str, text: Text) -> None:
        # One-line bars never change size: skip the layout pass a plain update() would cost.
        self.query_one(selector, Static).update(text, layout=False)

    def _await_paint(self, sample_id: int) -> None:
        """Decision keys wait until this sample's frame has gone to the terminal."""
        self.painted = None
        self.answer_seen = None
        self._unpainted = sample_id

    def _compositor_refresh(self) -> None:
        # Textual's (private) step that renders the dirty widgets and hands the frame to the
        # terminal driver. Nothing public fires after that: call_after_refresh waits for the
        # next message to reach the screen, which may be the very key it should have let in.
        # A refresh with a layout still pending paints a stale arrangement, except the one that
        # `_refresh_layout` makes right after reflowing: that frame is complete, although
        # Textual clears `_layout_required` only after it has gone out.
        super()._compositor_refresh()
        complete = self.is_current and (self._in_layout or not self._layout_required)
        if self._unpainted is not None and complete:
            self._mark_painted(self._unpainted)
        if complete and self.painted is not None and self.answer_seen != self.painted:
            # Scrolling (PgDn) or a larger terminal can bring the answer on screen later.
            if self._answer_on_screen():
                self.answer_seen = self.painted

    def _answer_on_screen(self) -> bool:
        """Whether the first line of the sample's answer is on the terminal, not covered by
        anything (the footer covers the pane's only row on a 5-row terminal)."""
        pane = self.query_one("#current", ConversationView)
        at = pane.answer_offset()
        if at is None:
            return False
        try:
            widget, _ = self.get_widget_at(*at)
        except NoWidget:
            return False
        return widget is pane

    def _refresh_layout(self, size=None, scroll: bool = False) -> None:
        self._in_layout = True
        try:
            super()._refresh_layout(size, scroll)
        finally:
            self._in_layout = False

    def _mark_painted(self, sample_id: int) -> None:
        if self.view is not None and self.view.sample.id == sample_id:
            self.painted = sample_id
            self._unpainted = None

    def _render_panes(self, v: View) -> None:
        pane = self.query_one("#compare-pane")
        pane.display = self.compare
        current = self.query_one("#current", ConversationView)
        if not self.compare:
            current.show(render.conversation(v.sample, markdown=self.markdown))
            return
        partner_view = self.query_one("#partner", ConversationView)
        if not self.partners:
            current.show(render.conversation(v.sample, markdown=self.markdown))
            self._bar("#compare-title", Text(f"compare: nothing related to #{v.number:,} is known", style="dim"))
            partner_view.show(Text(""))
            return
        flag = self.partners[self.partner_index]
        assert flag.partner is not None
        found = self.session.sample(flag.partner)
        if found is None:
            self._bar("#compare-title", Text(f"compare: #{flag.partner} is not in this project", style="dim"))
            partner_view.show(Text(""))
            return
        other, decision = found
        mine, theirs = render.compared(v.sample, other)
        current.show(mine)
        partner_view.show(theirs)
        t = Text.assemble((f" #{other.id:,} ", "bold reverse"))
        t.append(" ")
        t.append_text(render.verdict(decision))
        if flag.kind in PAIR_KINDS:
            # The pair keys first: at 80 columns the reason is what gets cut, not the keys.
            t.append(" · < keep this · > keep that · D drop both · b boundary", style="bold")
        t.append(" · because: ", style="dim")
        t.append_text(render.safe(flag.label, "italic", oneline=True))
        if len(self.partners) > 1:
            t.append(f" · {self.partner_index + 1}/{len(self.partners)} [ ]", style="dim")
        if flag.kind not in PAIR_KINDS:
            t.append(" · K keep · X drop", style="dim")
        t.no_wrap = True
        t.overflow = "ellipsis"
        self._bar("#compare-title", t)

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

    def _goal_line(self) -> Text:
        t = Text.assemble((" GOAL ", "bold reverse"))
        t.append(f" #{self.session.goal.id} ", style="bold")
        if self.session.goal.archived:
            t.append("(archived) ", style="bold red")
        t.append_text(render.safe(self.session.goal.sentence, oneline=True))
        t.no_wrap = True
        t.overflow = "ellipsis"
        return t

    def _status_line(self, v: View) -> Text:
        c = self.session.counts()
        t = Text.assemble((f"#{v.number:,} / {v.total:,} ", "bold"))
        batch = self._batch_progress()
        if batch is not None:
            # In the batch queue the progress that matters is the batch's.
            bid, decided, size = batch
            t.append(f"batch #{bid}: ", style="bold")
            t.append_text(render.bar(decided / size if size else 0.0, 10))
            t.append(f" {decided:,}/{size:,} decided · ")
        else:
            t.append_text(render.bar(c.decided / c.total if c.total else 0.0))
            t.append(f" {100 * c.decided / c.total if c.total else 0:.0f}% · ")
        t.append(f"✔ {c.kept:,} kept", style="green")
        t.append(" · ")
        t.append(f"✘ {c.dropped:,} dropped", style="red")
        t.append(f" · ○ {c.undecided:,} undecided")
        t.no_wrap = True
        t.overflow = "ellipsis"
        return t

    def _batch_progress(self) -> tuple[int, int, int] | None:
        """(batch id, decided, size) while in the batch queue (one indexed query over the batch)."""
        queue = self.session.queue
        if queue.get("kind") != "batch":
            return None
        store = self.session.store
        bid = queue.get("value") or latest_batch(store, self.session.goal.id)
        if bid is None:
            return None
        return (int(bid), *batch_progress(store, self.session.goal.id, int(bid)))

    def _decision_line(self, v: View) -> Text:
        t = render.verdict(v.decision)
        t.append_text(render.decision_details(v.decision))
        size = f" ({v.queue_size:,})" if v.queue_size is not None else ""
        t.append("  · queue: ", style="dim")
        t.append_text(render.safe(f"{v.queue_label}{size}", "dim", oneline=True))
        t.no_wrap = True
        t.overflow = "ellipsis"
        return t

    def _flag_line(self, sample: Sample) -> Text:
        t = Text()
        for f in self.flags:
            t.append("⚑ ", style="bold yellow")
            t.append_text(render.safe(f.label, "yellow", oneline=True))
            t.append("  ")
        hidden = suspicious(sample.conversation.full_text() + sample.conversation.tools)
        if hidden:
            t.append("⚠ hidden text: ", style="bold red")
            t.append(", ".join(hidden), style="red")
            t.append("  ")
        if not t:
            t.append("no flags", style="dim")
        elif self.partners and not self.compare:
            t.append("(c: compare)", style="dim")
        t.no_wrap = True
        t.overflow = "ellipsis"
        return t

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
        if self.answer_seen != v.sample.id:
            self.app.bell()
            if self._pane_rows() < 3:
                # A toast does not fit a terminal this small: the top row says it, in what fits.
                width = self.query_one("#goal-bar").content_region.width
                say = next((m for m in ("enlarge the terminal", "enlarge terminal") if len(m) <= width), "enlarge")
                self._bar("#goal-bar", Text(say, style="bold reverse yellow"))
                self.notify("enlarge the terminal: the sample is not on screen — nothing was done", severity="warning")
            else:
                self.notify("the answer is further down: PgDn shows it — nothing was done", severity="warning")
            return None
        return v.sample.id

    def _pane_rows(self) -> int:
        """How many rows of the sample pane are on the terminal, not covered (e.g. by the footer)."""
        pane = self.query_one("#current", ConversationView)
        region = pane.scrollable_content_region
        rows = 0
        for y in range(region.y, region.bottom):
            try:
                rows += self.get_widget_at(region.x, y)[0] is pane
            except NoWidget:
                pass
        return rows

    # ------------------------------------------------------------------ writing

    def _message(self, e: Exception) -> str:
        if isinstance(e, sqlite3.Error):
            err = storage_error(self.session.store.path, e)
            if err is not None:
                return str(err)
            return f"{self.session.store.path}: {e} — nothing was written; try again, and report it if it persists"
        return str(e)

    def _save(self, what: str, write: Callable[[], Any], saved: Callable[[Any], None], deadline: float = 0.0) -> None:
        """Run one write of the session, then `saved(result)`: only what is in the file is ever
        acknowledged. Busy: retried on a timer (see the module docstring). Any other failure:
        `what` and the reason on screen, and the view re-read, so it shows what the file holds."""
        if not deadline and self._retry is not None:  # another write is waiting: this key waits too
            self.app.bell()
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
                self._wait(what, e, lambda: self._save(what, write, saved, deadline))
                return
            self._end_wait()
            self._failed(what, e)
            return
        self._end_wait()
        saved(result)

    def _wait(self, what: str, e: StorageError, retry: Callable[[], None]) -> None:
        if self._retry is None:
            self._set_busy(True)  # keys wait (bell) until this write is done or given up
            self.notify(
                f"{what}: waiting — {e.path.name} is busy: {e.holder or 'another program'} is writing to it"
                " · Esc gives up",
                severity="warning",
                timeout=BUSY_PATIENCE,
            )

            def gave_up() -> None:
                self._end_wait()
                self.notify(f"{what}: gave up — nothing was written; press the key again to retry", severity="warning")
                self.refresh_view()

            self._cancel_wait = gave_up
        self._retry = self.set_timer(RETRY_EVERY, retry)

    def _end_wait(self) -> None:
        if self._retry is not None:
            self._retry.stop()
            self._retry = None
            self._cancel_wait = None
            self._set_busy(False)

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

    def action_drop(self) -> None:
        sid = self._ready()
        if sid is None:
            return
        shown = self.partners[self.partner_index] if self.compare and self.partners else None
        suggested = (shown.reason if shown else None) or next((f.reason for f in self.flags if f.reason), None)

        def dropped(reason: str | None) -> None:
            if reason is not None:
                self._decide(sid, "drop", reason)

        self.app.push_screen(ReasonDialog(sid, suggested), dropped)

    def _advance(self, done: str) -> None:
        """Move on after `done` (already in the file). If moving fails, the error says `done` was
        saved, and the decided sample stays on screen showing it."""
        end = f"end of the queue ({queue_label(self.session.queue)}) — g: first undecided · f: another queue"
        self._step(True, end, what=f"{done} (saved), but moving on")

    def action_undo(self) -> None:
        if self.busy:
            self.app.bell()
            return

        def undone(touched: list[int]) -> None:
            if not touched:
                self.notify("nothing to undo")
                return
            self.refresh_view()
            self.notify(f"undone · #{touched[0]:,}" + (f" and {len(touched) - 1} more" if len(touched) > 1 else ""))

        self._save("undo", self.session.undo, undone)

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

        self.app.push_screen(
            TextDialog(
                f"Note on #{sid:,}", value=self.view.decision.note, hint="Enter saves (empty clears) · Esc cancels"
            ),
            noted,
        )

    def action_decide_partner(self, verdict: str) -> None:
        sid = self._ready()
        if sid is None:
            return
        if not self.compare or not self.partners:
            self.notify("press c to see a related sample first", severity="warning")
            return
        flag = self.partners[self.partner_index]
        assert flag.partner is not None
        reason = (flag.reason or DEFAULT_REASON) if verdict == "drop" else None
        partner = flag.partner

        def saved(_: object) -> None:
            self.post_message(SampleDecided(partner, verdict, reason))
            self.refresh_view()
            done = "kept" if verdict == "keep" else f"dropped ({reason})"
            self.notify(f"#{partner:,} {done}")

        self._save(f"{verdict} #{partner:,}", lambda: self.session.decide(partner, verdict, reason), saved)

    def action_keep_drop_cluster(self) -> None:
        """Keep this sample, drop the rest of its near-duplicate cluster: one undo step."""
        sid = self._ready()
        if sid is None:
            return
        # The cluster in the compare pane if it shows one, else the strongest (first) one.
        shown = self.partners[self.partner_index] if self.compare and self.partners else None
        clusters = [f for f in self.flags if f.kind in CLUSTER_KINDS and len(f.members) > 1]
        flag = shown if shown is not None and shown.kind in CLUSTER_KINDS else next(iter(clusters), None)
        if flag is None:
            self.app.bell()
            self.notify("this sample is in no duplicate cluster (A finds near-duplicates)", severity="warning")
            return
        members = sorted(set(flag.members) - {sid})

        def saved(_: object) -> None:
            self.post_message(SampleDecided(sid, "keep", None))
            for m in members:
                self.post_message(SampleDecided(m, "drop", "duplicate"))
            done = f"#{sid:,} kept · {len(members)} dropped as duplicate"
            self.notify(done + " (u undoes all)")
            self._advance(done)

        self._save(
            f"keep #{sid:,}, drop its cluster", lambda: self.session.keep_and_drop(sid, members, "duplicate"), saved
        )

    def action_resolve_pair(self, choice: str) -> None:
        """< > D b on a contradiction / drift pair in the compare pane: one undo step."""
        sid = self._ready()
        if sid is None:
            return
        flag = self.partners[self.partner_index] if self.compare and self.partners else None
        if flag is None or flag.kind not in PAIR_KINDS:
            self.app.bell()
            self.notify("no contradiction or drift pair in the compare pane (c shows one)", severity="warning")
            return
        from review.style import resolve_pair

        assert flag.partner is not None
        why = flag.reason or "other"
        done = {
            "left": f"#{sid:,} kept · #{flag.partner:,} dropped ({why})",
            "right": f"#{flag.partner:,} kept · #{sid:,} dropped ({why})",
            "both": f"#{sid:,} and #{flag.partner:,} dropped ({why})",
            "boundary": f"#{sid:,} and #{flag.partner:,} kept, tagged boundary-pair",
        }[choice]

        def saved(_: object) -> None:
            self.notify(done + " (u undoes)")
            self._advance(done)

        self._save(
            f"resolve #{sid:,} and #{flag.partner:,}",
            lambda: resolve_pair(self.session, flag, choice, sample_id=sid),
            saved,
        )

    # ------------------------------------------------------------------ analysis

    def action_analyze(self) -> None:
        """Start the analysis; while it runs, A stops it."""
        if self.analysis_running:
            self._stop_analysis()
            return
        embedder = getattr(self.app, "embedder", None)
        detectors = ["exact", "lexical", "semantic"]
        if embedder is None and importlib.util.find_spec("sentence_transformers") is None:
            detectors.remove("semantic")
            self.notify(
                "semantic near-duplicates skipped: sentence-transformers is not installed — "
                "pip install 'winnow-review[semantic]'",
                severity="warning",
                timeout=8,
            )
        self.analysis_running = True
        self._analysis_label("starting", 0, 0, 0.0)
        self.query_one("#analysis-bar").display = True
        self._analysis = self._analysis_worker(tuple(detectors), embedder)

    def _stop_analysis(self) -> bool:
        worker = self._analysis
        if not self.analysis_running or worker is None or worker.is_cancelled:
            return False
        worker.cancel()
        self.query_one("#analysis-label", Static).update(Text("analysis: stopping… ", style="bold yellow"))
        return True

    @work(thread=True, exclusive=True, group="analysis", exit_on_error=False)
    def _analysis_worker(self, detectors: tuple[str, ...], embedder) -> None:
        # Imported here: numpy, rapidfuzz (and torch, for a real embedder) load in this thread only.
        from review.analysis import run_analysis
        from review.style import run_style_analysis

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
            self._post(AnalysisProgressed(stage, done, total, rate))

        def stop() -> bool:
            return worker.is_cancelled

        parts: list[str] = []
        cancelled = False
        error: str | None = None
        try:
            summary = run_analysis(
                self.app.db_path, detectors=detectors, embedder=embedder, progress=progress, should_stop=stop
            )
            parts += [f"{d.detector} {d.flagged:,}" for d in summary.detectors]
            cancelled = summary.cancelled
            if not cancelled and not stop():
                style = run_style_analysis(self.app.db_path, progress=progress, should_stop=stop)
                cancelled = style.cancelled
                parts += [f"drift {style.drift:,}", f"contradictions {style.conflicts:,}", f"noisy {style.noisy:,}"]
            cancelled = cancelled or stop()
        except Exception as e:  # reported on the screen; what was committed stays
            error = f"{type(e).__name__}: {e}"
        self._post(AnalysisFinished(" · ".join(parts), cancelled, error))

    def _post(self, message) -> None:
        try:
            self.post_message(message)
        except RuntimeError:  # the app has closed under a thread that outlived it
            pass

    def _analysis_label(self, stage: str, done: int, total: int, rate: float) -> None:
        t = Text.assemble(("analysis ", "bold"), (stage, "italic"))
        if total:
            t.append(f" {done:,}/{total:,}")
        if rate:
            t.append(f" · {rate:,.0f}/s", style="dim")
        t.append(" · A/Esc stops ", style="dim")
        self.query_one("#analysis-label", Static).update(t)

    def on_analysis_progressed(self, message: AnalysisProgressed) -> None:
        if not self.analysis_running or (self._analysis is not None and self._analysis.is_cancelled):
            return
        self._analysis_label(message.stage, message.done, message.total, message.rate)
        self.query_one("#analysis-progress", ProgressBar).update(total=message.total or None, progress=message.done)

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

    # ------------------------------------------------------------------ moving

    def action_next(self) -> None:
        self._step(True, f"end of the queue ({queue_label(self.session.queue)})")

    def action_previous(self) -> None:
        self._step(False, f"start of the queue ({queue_label(self.session.queue)})")

    def _step(self, forward: bool, at_end: str, what: str = "moving") -> None:
        if self.busy:
            self.app.bell()
            return
        if self.session.queue.get("kind", "all") in FAST_QUEUES:

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
        self._seek({"kind": "undecided"}, 0, True, switch=False, empty="every sample is decided under this goal")

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

        self.app.push_screen(JumpDialog(self.view.total), jumped)

    def action_search(self) -> None:
        def searched(value: str | None) -> None:
            value = (value or "").strip()
            if not value:
                return
            self._set_queue({"kind": "search", "value": value})

        self.app.push_screen(
            TextDialog(
                "Search: show only samples containing…",
                placeholder="text",
                hint="case-insensitive · f to go back to all samples",
            ),
            searched,
        )

    def action_filter(self) -> None:
        try:
            c = self.session.counts()
        except (ProjectError, sqlite3.Error) as e:
            self._failed("queues", e)
            return
        choices: list[tuple[str, dict]] = [
            (f"all samples ({c.total:,})", {"kind": "all"}),
            (f"undecided ({c.undecided:,})", {"kind": "undecided"}),
            (f"kept ({c.kept:,})", {"kind": "kept"}),
            (f"dropped ({c.dropped:,})", {"kind": "dropped"}),
        ]
        choices += [(f"dropped as {r} ({n:,})", {"kind": "reason", "value": r}) for r, n in c.by_reason.items() if n]
        choices += [(f"tagged {t} ({n:,})", {"kind": "tag", "value": t}) for t, n in c.by_tag.items() if n]
        # A fixed order, whatever order the analysis modules happened to register in.
        order = ["batch", "rereview", "duplicates", "flagged", "leaks", "style_drift", "contradictions", "noisy"]
        kinds = sorted(QUEUE_EXTENSIONS, key=lambda k: (order.index(k) if k in order else len(order), k))
        choices += [(queue_label({"kind": k}), {"kind": k}) for k in kinds]
        if not QUEUE_EXTENSIONS:
            choices.append(("flagged — appears once `winnow analyze` has run", {"kind": "flagged"}))
        current = self.session.queue
        if current.get("kind") == "search":
            choices.append((queue_label(current), dict(current)))

        def picked(queue: dict | None) -> None:
            if queue is not None:
                self._set_queue(queue)

        self.app.push_screen(QueueDialog(choices, current), picked)

    def _set_queue(self, queue: dict) -> None:
        kind = queue.get("kind", "all")
        label = queue_label(queue) if kind in QUEUE_LABELS or kind in QUEUE_EXTENSIONS else kind
        if kind in FAST_QUEUES:

            def done(ok: bool) -> None:
                if ok:
                    self.refresh_view()
                    self.notify(f"queue: {label}")
                else:
                    self.notify(f"no samples in the queue: {label}", severity="warning")

            self._save(f"queue: {label}", lambda: self.session.set_queue(queue), done)
            return
        if kind not in QUEUE_LABELS and kind not in QUEUE_EXTENSIONS:
            self.notify("no analysis has run on this project yet: run `winnow analyze`", severity="warning")
            return
        after = max((self.session.cursor or 1) - 1, 0)
        self._seek(queue, after, True, switch=True, empty=f"no samples in the queue: {label}")

    def _seek(self, queue: dict, after: int, forward: bool, *, switch: bool, empty: str, what: str = "moving") -> None:
        """Find the next sample of a queue that may need a scan, in a worker. Busy is set here,
        on the UI thread, so no key handled from now on can act on the sample being left."""
        self._set_busy(True)
        self._seek_what = what
        self._seek_worker(queue, after, forward, switch, empty, self.session.goal.id)

    def action_cancel(self) -> None:
        """Give up a write waiting for a busy project; else stop a running search: interrupt its
        query (a worker cannot stop SQLite otherwise); else stop a running analysis."""
        if self._cancel_wait is not None:
            self._cancel_wait()
            return
        store = self._seek_store
        if not self.busy or store is None:
            self._stop_analysis()
            return
        self.workers.cancel_group(self, "seek")
        store.conn.interrupt()

    @work(thread=True, exclusive=True, group="seek", exit_on_error=False)
    def _seek_worker(self, queue: dict, after: int, forward: bool, switch: bool, empty: str, goal_id: int) -> None:
        worker = get_current_worker()
        store = Store(self.app.db_path, create=False, check_same_thread=False)  # its own connection
        self._seek_store = store  # so that Esc can interrupt the query from the UI thread
        try:
            target = store.queue_step(goal_id, queue, after, forward=forward)
            if target is None and switch and after > 0:
                target = store.queue_step(goal_id, queue, 0)
        except sqlite3.OperationalError:
            if worker.is_cancelled:
                return
            raise
        finally:
            self._seek_store = None
            store.close()
        if not worker.is_cancelled:
            self.app.call_from_thread(self._seek_done, queue if switch else None, target, empty)

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        bar = self.query_one("#busy", ProgressBar)
        bar.display = busy
        bar.update(total=None if busy else 100, progress=0)

    def _seek_done(self, queue: dict | None, target: int | None, empty: str) -> None:
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
                self.notify(f"queue: {queue_label(queue)}")

        self._save(self._seek_what, lambda: self.session.move_to(target, queue), moved)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
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

    # ------------------------------------------------------------------ views

    def action_compare(self) -> None:
        self.compare = not self.compare
        if self.view is not None:
            self._render_panes(self.view)
            self._bar("#flag-bar", self._flag_line(self.view.sample))
            self._await_paint(self.view.sample.id)

    def action_cycle(self, step: int) -> None:
        if not self.compare or not self.partners or self.view is None:
            self.app.bell()
            return
        self.partner_index = (self.partner_index + step) % len(self.partners)
        self._render_panes(self.view)
        self._await_paint(self.view.sample.id)

    def action_markdown(self) -> None:
        self.markdown = not self.markdown
        if self.view is not None:
            self._render_panes(self.view)
        self.notify("markdown " + ("on" if self.markdown else "off"), timeout=1.5)

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

    def action_batch(self) -> None:
        if self.busy:
            self.app.bell()
            return

        def chosen(value: tuple[int, int] | None) -> None:
            if value is not None:
                self._set_busy(True)
                self._batch_worker(self.session.goal.id, *value)

        self.app.push_screen(BatchDialog(self.session.goal.id), chosen)

    @work(thread=True, exclusive=True, group="batch", exit_on_error=False)
    def _batch_worker(self, goal_id: int, size: int, seed: int) -> None:
        # Fingerprints answers that the style analysis has not seen: seconds on a large project.
        with Store(self.app.db_path, create=False) as store:
            batch = propose_batch(store, goal_id, size, seed)
        self.app.call_from_thread(self._batch_done, batch)

    def _batch_done(self, batch: Batch) -> None:
        self._set_busy(False)
        if not batch.size:
            self.notify("no undecided samples left to propose under this goal", severity="warning")
            return
        decided, size = batch_progress(self.session.store, batch.goal_id, batch.id)
        # From the batch's first sample (0 is never a sample id, so the step starts at position 0).
        self._seek({"kind": "batch"}, 0, True, switch=True, empty="the batch is empty")
        self.notify(f"batch #{batch.id}: {size:,} samples · {decided:,} decided", timeout=4)

    def action_export(self) -> None:
        goal = self.session.goal
        db = Path(self.app.db_path)
        default = db.with_name(f"{db.stem}.{goal.id}.kept.jsonl")

        def chosen(value: tuple[str, str | None] | None) -> None:
            if value is None:
                return
            path, layout = value
            out = Path(path).expanduser()
            if not out.is_absolute():
                out = db.parent / out
            self._export_worker(goal.id, out, layout)

        self.app.push_screen(ExportDialog(goal.id, str(default)), chosen)

    @work(thread=True, exclusive=True, group="export", exit_on_error=False)
    def _export_worker(self, goal_id: int, out: Path, layout: str | None, force: bool = False) -> None:
        try:
            with Store(self.app.db_path, create=False) as store:
                report = export(store, store.goal(goal_id), out, to=layout, force=force)
        except ExportWouldReplace as e:
            self.app.call_from_thread(self._confirm_replace, goal_id, out, layout, [str(p) for p in e.paths])
            return
        except (ExportError, OSError) as e:
            self.app.call_from_thread(self.notify, f"export failed: {e}", severity="error", timeout=8)
            return
        self.app.call_from_thread(self._exported, report)

    def _confirm_replace(self, goal_id: int, out: Path, layout: str | None, paths: list[str]) -> None:
        def answered(replace: bool | None) -> None:
            if replace:
                self._export_worker(goal_id, out, layout, True)
            else:
                self.notify("export cancelled; the existing files are unchanged", timeout=4)

        self.app.push_screen(ReplaceDialog(paths), answered)

    def _exported(self, report: ExportReport) -> None:
        files = ", ".join(p.name for p in report.files)
        self.notify(f"exported {report.kept:,} kept samples → {files}\nmanifest: {report.manifest}", timeout=10)

    def action_stats(self) -> None:
        from .stats import StatsScreen

        self.app.push_screen(StatsScreen(self.app.db_path, self.session.goal))

    def action_help(self) -> None:
        from .help import HelpScreen

        self.app.push_screen(HelpScreen(self))

    def action_quit(self) -> None:
        self.app.exit()
