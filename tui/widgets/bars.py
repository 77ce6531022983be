"""The review screen's one-line bars: goal, position and progress, decision, flags; the analysis bar.

A one-line bar never changes size, so updating it skips the layout pass a plain update() would
cost (keypress-to-paint stays low). A long goal, tag, note or flag is cut with an ellipsis
(review.tcss): wrapping would push it onto a second row that is never shown. Every piece of
untrusted text goes through render.safe: it never becomes markup or a terminal escape.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import ProgressBar, Static

from review.model import Counts, Flag, Goal, Sample
from review.sanitize import suspicious
from review.session import View

from .. import render


def _one_line(t: Text) -> Text:
    t.no_wrap = True
    t.overflow = "ellipsis"
    return t


class LineBar(Static):
    """One row of text, replaced whole."""

    def say(self, text: Text) -> None:
        self.update(text, layout=False)


class GoalBar(LineBar):
    """The goal the samples are judged against (and, on a tiny terminal, "enlarge the terminal")."""

    def show_goal(self, goal: Goal) -> None:
        t = Text.assemble((" GOAL ", "bold reverse"))
        t.append(f" #{goal.id} ", style="bold")
        if goal.archived:
            t.append("(archived) ", style="bold red")
        t.append_text(render.safe(goal.sentence, oneline=True))
        self.say(_one_line(t))


class StatusBar(LineBar):
    """Where the sample stands in the project, and how far the review (or the batch) has got."""

    def show_view(self, v: View, c: Counts, batch: tuple[int, int, int] | None, left: int | None = None) -> None:
        """`batch`: (batch id, decided, size) while in the batch queue, where its progress is what matters.
        `left`: undecided samples in the current queue, where known ("N left")."""
        t = Text.assemble((f"#{v.number:,} / {v.total:,} ", "bold"))
        if batch is not None:
            bid, decided, size = batch
            t.append(f"batch #{bid}: ", style="bold")
            t.append_text(render.bar(decided / size if size else 0.0, 10))
            t.append(f" {decided:,}/{size:,} decided · ")
        else:
            t.append_text(render.bar(c.decided / c.total if c.total else 0.0))
            t.append(f" {100 * c.decided / c.total if c.total else 0:.0f}% · ")
        in_queue = left is not None and v.queue.kind not in ("all", "undecided")
        if in_queue:
            t.append(f"{left:,} left", style="bold")  # in this queue; the line's end may be cut
            t.append(" · ")
        t.append(f"✔ {c.kept:,} kept", style="green")
        t.append(" · ")
        t.append(f"✘ {c.dropped:,} dropped", style="red")
        t.append(f" · ○ {c.undecided:,} undecided")
        if left is not None and not in_queue:
            t.append(" left")
        self.say(_one_line(t))


class DecisionBar(LineBar):
    """The decision on the sample shown, and the queue being stepped."""

    def show_view(self, v: View, search: tuple[int, int] | None = None) -> None:
        """`search`: (this sample's place among the matches, how many match), once known."""
        t = render.verdict(v.decision)
        t.append_text(render.decision_details(v.decision))
        size = f" ({v.queue_size:,})" if v.queue_size is not None else ""
        t.append("  · queue: ", style="dim")
        t.append_text(render.safe(f"{v.queue_label}{size}", "dim", oneline=True))
        if search is not None:
            t.append(f" · match {search[0]:,} of {search[1]:,}", style="bold")
        self.say(_one_line(t))


class FlagBar(LineBar):
    """What the analysis flagged on the sample, and any hidden text in it."""

    def show_flags(self, flags: list[Flag], sample: Sample, *, related: bool, compare: bool) -> None:
        """`related`: the sample has partners the compare pane (c) can show."""
        t = Text()
        for f in flags:
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
        elif related and not compare:
            t.append("(c: compare)", style="dim")
        self.say(_one_line(t))


class AnalysisBar(Horizontal):
    """While the analysis runs: its stage, how far it has got, and how to stop it."""

    def compose(self) -> ComposeResult:
        yield Static(id="analysis-label")
        yield ProgressBar(total=None, show_eta=False, show_percentage=False, id="analysis-progress")

    def label(self, stage: str, done: int, total: int, rate: float) -> None:
        t = Text.assemble(("analysis ", "bold"), (stage, "italic"))
        if total:
            t.append(f" {done:,}/{total:,}")
        if rate:
            t.append(f" · {rate:,.0f}/s", style="dim")
        t.append(" · A/Esc stops ", style="dim")
        self.query_one("#analysis-label", Static).update(t)

    def progressed(self, stage: str, done: int, total: int, rate: float) -> None:
        self.label(stage, done, total, rate)
        self.query_one("#analysis-progress", ProgressBar).update(total=total or None, progress=done)

    def stopping(self) -> None:
        self.query_one("#analysis-label", Static).update(Text("analysis: stopping… ", style="bold yellow"))
