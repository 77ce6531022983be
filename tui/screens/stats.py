"""The stats screen: where the review under the active goal stands.

Counts per decision, reason and tag; keep rate; pace (decisions per hour of active work, from
the decision log's timestamps); and a plot of answer lengths, kept against dropped. The figures
are read in a worker with its own Store (the length query touches every decided sample).
"""

from __future__ import annotations

import math
from pathlib import Path

from rich.columns import Columns
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, ProgressBar, Static
from textual.worker import get_current_worker

from review.figures import AddMoreSignals, StatsFigures, stats_figures
from review.model import Goal
from review.store import Store

from .. import render

LENGTH_BINS = (0, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000)


def load_figures(db_path: Path, goal_id: int) -> StatsFigures:
    with Store(db_path, create=False) as store:
        return stats_figures(store, goal_id)


def length_plot(lengths: dict[str, list[int]], width: int = 24) -> RenderableType:
    """A horizontal bar per length bin: kept (green) above dropped (red), counts beside."""
    edges = list(LENGTH_BINS) + [math.inf]
    counts = {k: [0] * (len(edges) - 1) for k in ("keep", "drop")}
    for verdict, values in lengths.items():
        for n in values:
            for i in range(len(edges) - 1):
                if edges[i] <= n < edges[i + 1]:
                    counts[verdict][i] += 1
                    break
    used = [i for i in range(len(edges) - 1) if counts["keep"][i] or counts["drop"][i]]
    if not used:
        return Text("nothing decided yet", style="dim")
    top = max(counts["keep"] + counts["drop"])
    table = Table(box=None, padding=(0, 1), show_header=True, header_style="bold")
    table.add_column("answer chars", justify="right", no_wrap=True)
    table.add_column(Text.assemble(("kept", "bold green"), " / ", ("dropped", "bold red")), no_wrap=True)
    for i in range(used[0], used[-1] + 1):
        lo, hi = edges[i], edges[i + 1]
        label = f"{lo:,}+" if hi == math.inf else f"{lo:,}–{hi - 1:,}"
        cell = Text()
        for verdict, style in (("keep", "green"), ("drop", "red")):
            n = counts[verdict][i]
            cells = math.ceil(width * n / top) if n else 0
            cell.append("█" * cells, style=style)
            cell.append(f" {n:,}" if n else " ·", style=style)
            if verdict == "keep":
                cell.append("\n")
        table.add_row(label, cell)
    return table


def _stability(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def signals_view(sig: AddMoreSignals) -> RenderableType:
    """The "Should I add more?" panel: the figures, how the last N decisions moved them, the advice."""
    rep, rep0 = sig.repeats, sig.repeats_before
    t = Table(box=None, padding=(0, 2), pad_edge=False, show_header=True, header_style="bold")
    t.add_column("kept set", no_wrap=True)
    t.add_column("now", justify="right", no_wrap=True)
    t.add_column(f"before last {sig.last_n}", justify="right", no_wrap=True)
    t.add_row("kept", f"{sig.kept:,}", f"{sig.kept_before_last_n:,}")
    t.add_row(
        "repeat share",
        f"{rep.share:.0%} ({rep.repeating:,})",
        f"{rep0.share:.0%} ({rep0.repeating:,})",
    )
    if sig.style is not None:
        t.add_row("style consistency", _stability(sig.style.stability), _stability(sig.style.stability_before))
    advice = Text()
    moves = sig.style.moves if sig.style is not None else {}
    if moves:
        advice.append("boundaries in the kept set: ", style="bold")
        advice.append(" · ".join(f"{k} {v:,}" for k, v in moves.items()) + "\n")
    for line in sig.advice:
        advice.append("→ ", style="bold yellow")
        advice.append_text(render.safe(line))
        advice.append("\n")
    advice.rstrip()
    return Group(Text("Should I add more?", style="bold"), t, advice)


def figures_view(goal: Goal, f: StatsFigures) -> RenderableType:
    c = f.counts
    title = Text.assemble(("Goal ", "bold"))
    title.append_text(render.safe(goal.sentence))
    t = Table(box=None, padding=(0, 2), pad_edge=False, show_header=False)
    t.add_column(style="bold", no_wrap=True)
    t.add_column(justify="right")
    t.add_column()
    t.add_row("samples", f"{c.total:,}", "")
    t.add_row(Text("kept", style="green"), f"{c.kept:,}", render.bar(c.kept / c.total if c.total else 0, 20))
    t.add_row(
        Text("dropped", style="red"), f"{c.dropped:,}", render.bar(c.dropped / c.total if c.total else 0, 20, "red")
    )
    t.add_row("undecided", f"{c.undecided:,}", "")
    t.add_row("keep rate", f"{100 * c.kept / c.decided:.1f}%" if c.decided else "—", "of decided samples")
    if f.decided_per_hour:
        t.add_row("decided / hour", f"{f.decided_per_hour:,.0f}", f"over {f.active_minutes:,.0f} min of active work")
    else:
        t.add_row("decided / hour", "—", "measured once there are a few minutes of work")
    reasons = Table(box=None, padding=(0, 2), pad_edge=False, show_header=True, header_style="bold")
    reasons.add_column("dropped because")
    reasons.add_column("n", justify="right")
    for r, n in sorted(c.by_reason.items(), key=lambda kv: -kv[1]):
        reasons.add_row(r, f"{n:,}")
    tags = Table(box=None, padding=(0, 2), pad_edge=False, show_header=True, header_style="bold")
    tags.add_column("tag")
    tags.add_column("n", justify="right")
    for tag, n in sorted(c.by_tag.items(), key=lambda kv: -kv[1]):
        tags.add_row(render.safe(tag, oneline=True), f"{n:,}")
    parts: list[RenderableType] = [title, Text(""), t, Text("")]
    if f.signals is not None:
        parts += [signals_view(f.signals), Text("")]
    side = [x for x, present in ((reasons, c.by_reason), (tags, c.by_tag)) if present]
    if side:
        parts += [Columns(side, padding=(0, 4)), Text("")]
    parts += [Text("Answer lengths", style="bold"), length_plot(f.lengths)]
    return Group(*parts)


class StatsScreen(Screen[None]):
    CSS_PATH = Path(__file__).with_name("stats.tcss")
    BINDINGS = [
        Binding("escape,q,s", "app.pop_screen", "Back", id="stats.back"),
    ]

    def __init__(self, db_path: Path, goal: Goal) -> None:
        super().__init__()
        self.db_path = db_path
        self.goal = goal

    def compose(self) -> ComposeResult:
        yield Static(Text(" STATS ", style="bold reverse"), id="stats-title")
        yield ProgressBar(total=None, show_eta=False, show_percentage=False, id="stats-progress")
        with VerticalScroll(id="stats-body"):
            yield Static(id="stats-figures")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#stats-body").focus()
        self.load()

    @work(thread=True, exclusive=True, group="stats", exit_on_error=False)
    def load(self) -> None:
        worker = get_current_worker()
        figures = load_figures(self.db_path, self.goal.id)
        if not worker.is_cancelled:
            self.app.call_from_thread(self.show, figures)

    def show(self, figures: StatsFigures) -> None:
        self.query_one("#stats-progress").display = False
        self.query_one("#stats-figures", Static).update(figures_view(self.goal, figures))
