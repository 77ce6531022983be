"""The bulk decision dialog (`*`): every sample of the current queue or search, kept or dropped
in one step. It shows the same figures `winnow decide --dry-run` prints (how many, under which
goal, how many undecided, how many decided otherwise are overwritten, the first few samples),
then asks: `a` keep all, `x` drop all (then the reason key), Enter confirms, Esc cancels at any
point. It returns (verdict, reason) through dismiss; the screen writes it as one log action,
which one `u` undoes."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import get_current_worker

from review.model import REASONS, Goal, Queue
from review.queues import QueueTable
from review.sanitize import sanitize
from review.session import BulkPreview, Selection, SelectionSummary, bulk_detail, preview_bulk, select_queue, summarize
from review.store import Flip, Store

from ..keys import BULK_BINDINGS, REASON_KEYS


def _cells(text: str, width: int) -> Text:
    """Untrusted text on one line, cut to `width` terminal cells with an ellipsis."""
    t = Text(sanitize(text, oneline=True))
    t.truncate(width, overflow="ellipsis")
    return t


class BulkDialog(ModalScreen[tuple[str, str | None] | None]):
    """Keep or drop every sample of a selection, after seeing what that changes."""

    CSS_PATH = Path(__file__).with_name("bulk.tcss")
    BINDINGS = [*BULK_BINDINGS]

    def __init__(self, summary: SelectionSummary) -> None:
        super().__init__()
        self.summary = summary
        self.verdict: str | None = None
        self.reason: str | None = None

    def compose(self) -> ComposeResult:
        s = self.summary
        with Vertical(classes="dialog"):
            title = Text("Decide all: ", style="bold")
            title.append(sanitize(s.selection.label, oneline=True), style="bold")
            yield Static(title, classes="dialog-title")
            yield Static(self._counts(), id="bulk-counts")
            yield Static(self._samples(), id="bulk-samples")
            yield Static(self._choice(), id="bulk-choice")

    def _counts(self) -> Text:
        s = self.summary
        t = Text()
        t.append(f"{s.matched:,} samples", style="bold")
        t.append(f" under goal #{s.goal_id}: ")
        goal = _cells(s.goal_sentence, 60)
        goal.stylize("italic")
        t.append(goal)
        dropped = sum(s.dropped.values())
        t.append(f"\nnow {s.undecided:,} undecided · {s.kept:,} kept · {dropped:,} dropped")
        if dropped:
            t.append(" (" + ", ".join(f"{r} {n:,}" for r, n in sorted(s.dropped.items())) + ")", style="dim")
        return t

    def _samples(self) -> Text:
        t = Text()
        for sid, now, prompt in self.summary.first:
            t.append(f"#{sid:<7,}", style="bold")
            t.append(f" {now:<20} ", style="dim")
            t.append(_cells(prompt, 40))  # cells, not characters: a CJK character takes two
            t.append("\n")
        more = self.summary.matched - len(self.summary.first)
        if more > 0:
            t.append(f"… and {more:,} more", style="dim")
        return t

    def _choice(self) -> Text:
        t = Text()
        if self.verdict is None:
            t.append("a", style="bold")
            t.append(" keep all · ")
            t.append("x", style="bold")
            t.append(" drop all · Esc cancels")
            return t
        if self.verdict == "drop" and self.reason is None:
            t.append("drop all — why? ", style="bold")
            t.append(" · ".join(f"{REASON_KEYS[r][0]} {r}" for r in REASONS))
            t.append("\nEsc cancels", style="dim")
            return t
        change, over, already = self.summary.figures(self.verdict, self.reason)
        what = "keep" if self.verdict == "keep" else f"drop as {self.reason}"
        t.append(f"{what} all {self.summary.matched:,}: ", style="bold")
        t.append(f"{change:,} will change")
        t.append(f" · {over:,} decided otherwise overwritten", style="bold red" if over else "")
        t.append(f" · {already:,} already so")
        t.append("\nEnter confirms (one step: u undoes it all) · Esc cancels", style="dim")
        return t

    def _update(self) -> None:
        self.query_one("#bulk-choice", Static).update(self._choice())

    def action_choose(self, verdict: str) -> None:
        self.verdict = verdict
        self.reason = None
        self._update()

    def action_reason(self, reason: str) -> None:
        if self.verdict != "drop":
            self.app.bell()
            return
        self.reason = reason
        self._update()

    def action_confirm(self) -> None:
        if self.verdict is None or (self.verdict == "drop" and self.reason is None):
            self.app.bell()
            return
        self.dismiss((self.verdict, self.reason))


# ---------------------------------------------------------------------- the thread work


def summarize_queue(db_path: Path, queues: QueueTable, goal: Goal, queue: Queue) -> SelectionSummary:
    """In a thread worker, on its own connection: the queue's samples as they stand and their
    decisions now (a queue added by analysis is stepped from its start: seconds on a big one)."""
    worker = get_current_worker()
    with Store(db_path, create=False, check_same_thread=False) as store:
        selection = select_queue(store, goal.id, queues, queue, cancelled=lambda: worker.is_cancelled)
        return summarize(store, goal, selection)


def write_bulk(
    db_path: Path, goal: Goal, selection: Selection, verdict: str, reason: str | None
) -> tuple[BulkPreview, int | None]:
    """In a thread worker: count again inside this connection and write the decision as one
    action (committed on return), refused as any write is when the goal changed since."""
    with Store(db_path, create=False, check_same_thread=False) as store:
        preview = preview_bulk(store, goal, selection, verdict, reason=reason)
        if not preview.changes:
            return preview, None
        aid = store.apply_bulk(
            goal.id,
            preview.changes,
            verdict,
            reason=preview.reason,
            revision=goal.revision,
            detail=bulk_detail(preview),
        )
        return preview, aid


def flip_bulk(db_path: Path, goal: Goal, kind: str) -> Flip:
    """In a thread worker: undo (or redo) the goal's next action to flip (a bulk one: the screen
    checked), refused as any write is when the goal changed since the screen read it."""
    with Store(db_path, create=False, check_same_thread=False) as store:
        return store.flip(goal.id, kind, revision=goal.revision)
