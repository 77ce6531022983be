"""The bulk decision dialog (`*`): every sample of the current queue or search, kept or dropped
in one step. It shows the same figures `winnow decide --dry-run` prints (how many, under which
goal, how many undecided, how many decided otherwise are overwritten, the first few samples),
then asks: `a` keep all, `x` drop all (then the reason key), Enter confirms, Esc cancels at any
point. On the duplicates or flagged queue, `o` then `e`/`l`/`s` keeps one per duplicate cluster
of that kind (the plans counted in the same worker; returned as ("keep-one", kind)). It returns
(verdict, reason) through dismiss; the screen writes it as one log action, which one `u` undoes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static
from textual.worker import get_current_worker

from review.flags import default_flag_providers
from review.model import REASONS, Goal, Queue
from review.queues import QueueTable
from review.sanitize import sanitize
from review.session import (
    CLUSTER_KINDS,
    BulkPreview,
    KeepOnePlan,
    Selection,
    SelectionSummary,
    bulk_detail,
    plan_keep_one,
    preview_bulk,
    select_queue,
    summarize,
)
from review.store import Change, Flip, Store

from ..keys import BULK_BINDINGS, REASON_KEYS


def _cells(text: str, width: int) -> Text:
    """Untrusted text on one line, cut to `width` terminal cells with an ellipsis."""
    t = Text(sanitize(text, oneline=True))
    t.truncate(width, overflow="ellipsis")
    return t


@dataclass(frozen=True)
class QueueSummary(SelectionSummary):
    """A summary, and for the flagged queue the keep-one plan of each duplicate kind that has
    clusters (how many clusters, kept, dropped, overwritten), counted in the same worker."""

    keep_one: dict[str, KeepOnePlan] = field(default_factory=dict)


_KIND_KEYS = {"exact": "e", "lexical": "l", "semantic": "s"}


class BulkDialog(ModalScreen[tuple[str, str | None] | None]):
    """Keep or drop every sample of a selection, after seeing what that changes."""

    CSS_PATH = Path(__file__).with_name("bulk.tcss")
    BINDINGS = [*BULK_BINDINGS]

    def __init__(self, summary: SelectionSummary) -> None:
        super().__init__()
        self.summary = summary
        self.verdict: str | None = None
        self.reason: str | None = None
        self.plans: dict[str, KeepOnePlan] = getattr(summary, "keep_one", {})

    def on_key(self, event) -> None:  # type: ignore[no-untyped-def]
        # Keep one per cluster: `o`, then the duplicate kind's letter (only with plans to show).
        if not self.plans:
            return
        if event.key == "o":
            event.stop()
            self.verdict, self.reason = "keep-one", None
            self._update()
        elif self.verdict == "keep-one":
            kind = next((k for k, key in _KIND_KEYS.items() if key == event.key and k in self.plans), None)
            if kind is not None:
                event.stop()
                self.reason = kind
                self._update()

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
            t.append(" drop all · ")
            if self.plans:
                t.append("o", style="bold")
                t.append(" keep one per duplicate cluster · ")
            t.append("Esc cancels")
            return t
        if self.verdict == "keep-one":
            return self._keep_one_choice()
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

    def _keep_one_choice(self) -> Text:
        t = Text()
        if self.reason is None:
            t.append("keep one per cluster, drop the rest as duplicate — which clusters?\n", style="bold")
        for kind, plan in self.plans.items():
            chosen = kind == self.reason
            t.append(f"{_KIND_KEYS[kind]} {kind}: ", style="bold" if chosen or self.reason is None else "dim")
            t.append(
                f"{plan.clusters:,} clusters → keep {len(plan.keep):,}, drop {len(plan.drop):,}",
                style="" if chosen or self.reason is None else "dim",
            )
            if plan.overwritten:
                t.append(f" · {plan.overwritten:,} decided otherwise overwritten", style="bold red")
            t.append("\n")
        if self.reason is None:
            t.append("Esc cancels", style="dim")
        else:
            t.append("Enter confirms (one step: u undoes it all) · Esc cancels", style="dim")
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
        if self.verdict is None or (self.verdict in ("drop", "keep-one") and self.reason is None):
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
        s = summarize(store, goal, selection)
        plans: dict[str, KeepOnePlan] = {}
        if queue.kind in ("flagged", "duplicates"):  # where the duplicate clusters are
            providers = default_flag_providers()
            for kind in CLUSTER_KINDS:
                if worker.is_cancelled:
                    break
                plan = plan_keep_one(store, goal, queues, providers, kind)
                if plan.clusters:
                    plans[kind] = plan
        return QueueSummary(
            s.goal_id, s.goal_sentence, s.selection, s.undecided, s.kept, s.dropped, s.first, keep_one=plans
        )


def write_bulk(
    db_path: Path, goal: Goal, selection: Selection, verdict: str, reason: str | None
) -> tuple[BulkPreview, int | None]:
    """In a thread worker: count again inside this connection and write the decision as one
    action (committed on return), refused as any write is when the goal changed since.
    verdict "keep-one" with reason KIND: keep one per duplicate cluster of that kind."""
    if verdict == "keep-one":
        return _write_keep_one(db_path, goal, reason or "exact")
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


def _write_keep_one(db_path: Path, goal: Goal, kind: str) -> tuple[BulkPreview, int | None]:
    from review.queues import default_queues

    with Store(db_path, create=False, check_same_thread=False) as store:
        plan = plan_keep_one(store, goal, default_queues(), default_flag_providers(), kind)
        changes = [Change(i, "keep") for i in plan.keep] + [Change(i, "drop", "duplicate") for i in plan.drop]
        ids = tuple(c.sample_id for c in changes)
        # Said as the notice reads it: "N samples dropped as duplicate, one kept per cluster".
        preview = BulkPreview(
            goal.id, goal.sentence, plan.selection, "keep-one", "duplicate, one kept per cluster",
            (), None, False, len(ids), 0, 0, plan.overwritten, 0, ids, (),
        )  # fmt: skip
        if not changes:
            return preview, None
        detail = {
            "selector": plan.selection.selector,
            "selection": plan.selection.label,
            "verdict": "keep-one",
            "reason": "duplicate",
            "tags": [],
            "samples": len(changes),
        }
        aid = store.apply(goal.id, changes, kind="bulk", revision=goal.revision, detail=detail)
        return preview, aid


def flip_bulk(db_path: Path, goal: Goal, kind: str) -> Flip:
    """In a thread worker: undo (or redo) the goal's next action to flip (a bulk one: the screen
    checked), refused as any write is when the goal changed since the screen read it."""
    with Store(db_path, create=False, check_same_thread=False) as store:
        return store.flip(goal.id, kind, revision=goal.revision)
