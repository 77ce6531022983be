"""The goals screen (`G`): goals as hypotheses, each with its wording history.

List every goal with its counts; switch to one, declare a new one, reword one (the old wording is
kept and what was decided under it goes to the re-review queue), archive, fork (a new goal that
starts from this one's decisions, as a draft) and compare two goals (the diff screen).

The list is a few indexed counts and is read inline; the highlighted goal's details (re-review
count, batch progress), a fork (copies every decision) and a diff (reads both kept sets and their
style figures) run in thread workers with their own Store.
"""

from __future__ import annotations

from pathlib import Path

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from review.figures import GoalDetail, GoalDiff, Repeats, diff_goals, goal_detail
from review.goals import Revision, archive_goal, edit_goal, fork_goal
from review.model import Counts, Goal
from review.sanitize import sanitize
from review.store import GoalError, ProjectError, Store, check_goal_sentence

from .. import render
from ..keys import GOALS_BINDINGS
from .dialogs import SafeInput, TextDialog
from .goal import QUESTION

LIST_SHOWN = 400  # sample ids listed per group in the diff view; the rest are counted


def load_detail(db_path: Path, goal_id: int) -> GoalDetail:
    with Store(db_path, create=False) as store:
        return goal_detail(store, goal_id)


def _short(text: str, width: int) -> str:
    text = sanitize(text, oneline=True)
    return text if len(text) <= width else text[: width - 1] + "…"


def goal_label(goal: Goal, counts: Counts, active: bool) -> Text:
    t = Text.assemble((f"#{goal.id:<3}", "bold"))
    t.append(f"✔{counts.kept:<4}", style="green")
    t.append(f"✘{counts.dropped:<4}", style="red")
    t.append(f"○{counts.undecided:<5}", style="dim")
    t.append(_short(goal.sentence, 44), style="dim strike" if goal.archived else "")
    if active:
        t.append(" (active)", style="bold green")
    elif goal.archived:
        t.append(" (archived)", style="dim")
    return t


def detail_view(d: GoalDetail) -> RenderableType:
    g = d.goal
    head = Text.assemble((f"Goal #{g.id}", "bold"), (" · archived" if g.archived else "", "dim"), "\n")
    head.append_text(render.safe(g.sentence, "bold"))
    hyp = render.safe(g.hypothesis, "italic") if g.hypothesis else Text("no hypothesis note — e adds one", style="dim")
    c = d.counts
    figures = Text.assemble(
        (f"✔ {c.kept:,} kept", "green"), " · ", (f"✘ {c.dropped:,} dropped", "red"), f" · ○ {c.undecided:,} undecided"
    )
    if d.rereview:
        figures.append(f"\n↻ {d.rereview:,} decided under an older wording (queue: re-review)", style="yellow")
    if d.batch is not None:
        bid, decided, size = d.batch
        figures.append(f"\nbatch #{bid}: {size:,} samples · {decided:,} decided")
    history = Table(box=None, padding=(0, 1), show_header=False, expand=True)
    history.add_column(no_wrap=True, style="dim")
    history.add_column(no_wrap=True)
    history.add_column(ratio=1)
    for r in d.revisions:
        history.add_row(f"{r.number}.", render.safe(r.at[:16].replace("T", " "), "dim"), _revision_text(r))
    return Group(head, hyp, Text(""), figures, Text(""), Text("History of wordings", style="bold"), history)


def _revision_text(r: Revision) -> Text:
    t = render.safe(r.note or "edited", "cyan", oneline=True)
    t.append(": ")
    t.append_text(render.safe(r.sentence, oneline=True))
    if r.hypothesis:
        t.append(" — ", style="dim")
        t.append_text(render.safe(r.hypothesis, "italic dim", oneline=True))
    return t


class GoalEditDialog(ModalScreen[tuple[str, str] | None]):
    """A goal's sentence and its optional hypothesis note; Enter in either field saves both."""

    CSS_PATH = Path(__file__).with_name("goals.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="goal_edit.cancel")]

    def __init__(self, title: str, sentence: str = "", hypothesis: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.sentence = sentence
        self.hypothesis = hypothesis

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(render.safe(self.title_text, "bold", oneline=True), classes="dialog-title")
            yield Static(Text(QUESTION))
            yield SafeInput(sanitize(self.sentence, oneline=True), placeholder="the goal sentence", id="edit-sentence")
            yield Static(Text("Hypothesis (optional): why this should help, how you will know", style="dim"))
            yield SafeInput(
                sanitize(self.hypothesis, oneline=True), placeholder="hypothesis note", id="edit-hypothesis"
            )
            yield Static(Text("Tab moves · Enter saves · Esc cancels", style="dim"), id="edit-hint")

    def on_mount(self) -> None:
        for inp in self.query(Input):
            inp.cursor_blink = getattr(self.app, "cursor_blink", True)
        self.query_one("#edit-sentence", Input).focus()

    @on(Input.Submitted)
    def _save(self, event: Input.Submitted) -> None:
        event.stop()
        sentence = self.query_one("#edit-sentence", Input).value
        try:
            check_goal_sentence(sentence)
        except GoalError as e:
            self.query_one("#edit-hint", Static).update(render.safe(str(e), "bold red"))
            return
        self.dismiss((sentence, self.query_one("#edit-hypothesis", Input).value.strip()))


class PickGoalDialog(ModalScreen[int | None]):
    """Pick one goal from a list (the other side of a diff)."""

    CSS_PATH = Path(__file__).with_name("goals.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="goal_pick.cancel")]

    def __init__(self, title: str, goals: list[Goal]) -> None:
        super().__init__()
        self.title_text = title
        self.goals = goals

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(render.safe(self.title_text, "bold", oneline=True), classes="dialog-title")
            options = []
            for g in self.goals:
                label = Text(f"#{g.id} ", style="bold")
                label.append_text(render.safe(_short(g.sentence, 56)))
                options.append(Option(label, id=str(g.id)))
            yield OptionList(*options, id="pick-list")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(int(event.option.id or 0))


class GoalsScreen(Screen[None]):
    CSS_PATH = Path(__file__).with_name("goals.tcss")
    BINDINGS = [*GOALS_BINDINGS]

    def __init__(self) -> None:
        super().__init__()
        self.goals: list[Goal] = []
        self.detail: GoalDetail | None = None

    @property
    def store(self) -> Store:
        return self.app.store  # type: ignore[attr-defined]

    @property
    def active_id(self) -> int | None:
        session = getattr(self.app, "session", None)
        return session.goal.id if session else None

    def compose(self) -> ComposeResult:
        yield Static(Text(" GOALS ", style="bold reverse"), id="goals-title")
        yield OptionList(id="goals-list")
        with VerticalScroll(id="goals-detail"):
            yield Static(id="goals-detail-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.reload(self.active_id)
        self.query_one("#goals-list", OptionList).focus()

    def reload(self, highlight: int | None = None) -> None:
        """Re-read the goals and their counts (indexed counts: inline)."""
        self.goals = self.store.goals(include_archived=True)
        ol = self.query_one("#goals-list", OptionList)
        keep = highlight if highlight is not None else (self.current.id if self.current else None)
        ol.clear_options()
        ol.add_options(
            [Option(goal_label(g, self.store.counts(g.id), g.id == self.active_id), id=str(g.id)) for g in self.goals]
        )
        for i, g in enumerate(self.goals):
            if g.id == keep:
                ol.highlighted = i
        if ol.highlighted is None and self.goals:
            ol.highlighted = 0
        self._load_detail()

    @property
    def current(self) -> Goal | None:
        ol = self.query_one("#goals-list", OptionList)
        if ol.highlighted is None or ol.highlighted >= len(self.goals):
            return None
        return self.goals[ol.highlighted]

    @on(OptionList.OptionHighlighted, "#goals-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._load_detail()

    @on(OptionList.OptionSelected, "#goals-list")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_switch()

    def _load_detail(self) -> None:
        g = self.current
        if g is not None:
            self._detail_worker(g.id)

    @work(thread=True, exclusive=True, group="goal-detail", exit_on_error=False)
    def _detail_worker(self, goal_id: int) -> None:
        worker = get_current_worker()
        detail = load_detail(self.app.db_path, goal_id)  # type: ignore[attr-defined]
        if not worker.is_cancelled:
            self.app.call_from_thread(self._show_detail, detail)

    def _show_detail(self, detail: GoalDetail) -> None:
        self.detail = detail
        self.query_one("#goals-detail-text", Static).update(detail_view(detail))

    # ------------------------------------------------------------------ actions

    def action_cursor(self, step: int) -> None:
        ol = self.query_one("#goals-list", OptionList)
        if step > 0:
            ol.action_cursor_down()
        else:
            ol.action_cursor_up()

    def action_switch(self) -> None:
        g = self.current
        if g is None:
            return
        if g.archived:
            self.notify(f"goal #{g.id} is archived — a restores it", severity="warning")
            return
        self.app.pop_screen()
        self.app.switch_to_goal(g.id)  # type: ignore[attr-defined]

    def action_new(self) -> None:
        def declared(value: tuple[str, str] | None) -> None:
            if value is None:
                return
            try:
                goal, warnings = self.store.add_goal(*value)
            except ProjectError as e:  # busy, read-only, disk full: nothing was written
                self.notify(f"goal not saved: {e}", severity="error", timeout=12)
                return
            for w in warnings:
                self.notify(f"note: {w}", severity="warning")
            self.app.pop_screen()
            self.app.switch_to_goal(goal.id)  # type: ignore[attr-defined]

        self.app.push_screen(GoalEditDialog("New goal"), declared)

    def action_edit(self) -> None:
        g = self.current
        if g is None:
            return

        def edited(value: tuple[str, str] | None) -> None:
            if value is None:
                return
            try:
                goal, warnings = edit_goal(self.store, g.id, *value)
            except ProjectError as e:
                self.notify(f"goal #{g.id} not reworded: {e}", severity="error", timeout=12)
                return
            if warnings == ["nothing changed"]:
                self.notify("nothing changed")
                return
            for w in warnings:
                self.notify(f"note: {w}", severity="warning")
            self.app.goal_changed(goal)  # type: ignore[attr-defined]
            self.reload(g.id)
            self.notify(f"goal #{g.id} reworded · samples decided before are in the re-review queue")

        self.app.push_screen(GoalEditDialog(f"Edit goal #{g.id}", g.sentence, g.hypothesis), edited)

    def action_archive(self) -> None:
        g = self.current
        if g is None:
            return
        if not g.archived and g.id == self.active_id:
            self.notify("this is the goal being reviewed — switch to another goal first", severity="warning")
            return
        try:
            goal = archive_goal(self.store, g.id, not g.archived)
        except ProjectError as e:
            self.notify(f"goal #{g.id} unchanged: {e}", severity="error", timeout=12)
            return
        self.app.goal_changed(goal)  # type: ignore[attr-defined]  # restored here: the review screen writes again
        self.reload(g.id)
        self.notify(f"goal #{g.id} " + ("restored" if g.archived else "archived"))

    def action_fork(self) -> None:
        g = self.current
        if g is None:
            return

        def named(value: str | None) -> None:
            if not value or not value.strip():
                return
            try:
                check_goal_sentence(value)
            except GoalError as e:
                self.notify(str(e), severity="error")
                return
            self._fork_worker(g.id, value, self.active_id)

        self.app.push_screen(
            TextDialog(
                f"Fork goal #{g.id}: the new goal's sentence",
                value=g.sentence,
                hint="its decisions are copied as a draft: all of them wait in the re-review queue",
            ),
            named,
        )

    @work(thread=True, exclusive=True, group="goal-fork", exit_on_error=False)
    def _fork_worker(self, source_id: int, sentence: str, active_id: int | None) -> None:
        with Store(self.app.db_path, create=False) as store:  # type: ignore[attr-defined]
            try:
                goal, copied = fork_goal(store, source_id, sentence)
                if active_id is not None:
                    store.use_goal(active_id)  # forking does not change the goal being reviewed
            except (GoalError, ProjectError) as e:
                self.app.call_from_thread(self.notify, str(e), severity="error")
                return
        self.app.call_from_thread(self._forked, goal, source_id, copied)

    def _forked(self, goal: Goal, source_id: int, copied: int) -> None:
        self.reload(goal.id)
        self.notify(f"goal #{goal.id} forked from #{source_id}: {copied:,} samples' decisions to re-review")

    def action_diff(self) -> None:
        g = self.current
        others = [o for o in self.goals if g is not None and o.id != g.id]
        if g is None or not others:
            self.notify("a diff needs two goals — n declares another", severity="warning")
            return

        def picked(other: int | None) -> None:
            if other is not None:
                self.app.push_screen(GoalDiffScreen(g.id, other))

        self.app.push_screen(PickGoalDialog(f"Compare goal #{g.id} with…", others), picked)

    def action_help(self) -> None:
        from .help import HelpScreen

        self.app.push_screen(HelpScreen(self, GOALS_BINDINGS, "goals screen"))

    def action_back(self) -> None:
        self.app.pop_screen()


def _share(d: Repeats) -> str:
    return f"{d.repeating:,} ({d.share:.0%})"


def _stability(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}"


def _ids(ids: list[int] | tuple[int, ...]) -> Text:
    if not ids:
        return Text("  none", style="dim")
    t = Text("  " + " ".join(f"#{i}" for i in ids[:LIST_SHOWN]))
    if len(ids) > LIST_SHOWN:
        t.append(f" … and {len(ids) - LIST_SHOWN:,} more", style="dim")
    return t


def diff_view(d: GoalDiff) -> RenderableType:
    a, b = d.a, d.b
    fa, fb = d.figures[a.id], d.figures[b.id]
    heads = Text()
    for g in (a, b):
        heads.append(f"#{g.id} ", style="bold")
        heads.append_text(render.safe(_short(g.sentence, 72)))
        heads.append("\n")
    # Fixed-width lines rather than a Table: the figures line up the same at any width.
    t = Text.assemble(("".ljust(22) + f"#{a.id}".rjust(12) + f"#{b.id}".rjust(12), "bold"), "\n")

    def row(label: str, va: str, vb: str, style: str = "") -> None:
        t.append(label.ljust(22), style=style)
        t.append(va.rjust(12) + vb.rjust(12) + "\n")

    row("kept", f"{fa.kept:,}", f"{fb.kept:,}", "green")
    row("dropped", f"{fa.dropped:,}", f"{fb.dropped:,}", "red")
    row("undecided", f"{fa.undecided:,}", f"{fb.undecided:,}")
    row("kept only here", f"{len(d.only_a):,}", f"{len(d.only_b):,}")
    row("repeats in kept set", _share(fa.duplicate_mass), _share(fb.duplicate_mass))
    row("style stability", _stability(fa.style_stability), _stability(fb.style_stability))
    ma, mb = fa.boundary_moves, fb.boundary_moves
    for move in dict.fromkeys([*ma, *mb]):
        row(f"kept that {move}", f"{ma.get(move, 0):,}", f"{mb.get(move, 0):,}")
    t.rstrip()
    both = Text.assemble(
        (f"kept under both: {d.both_kept:,}", "bold"), " · ", (f"decisions that disagree: {len(d.disagree):,}", "bold")
    )
    disagree = Text()
    if d.disagree:
        shown = d.disagree[:LIST_SHOWN]
        disagree.append("  " + " ".join(f"#{s} {va}/{vb}" for s, va, vb in shown))
        if len(d.disagree) > LIST_SHOWN:
            disagree.append(f" … and {len(d.disagree) - LIST_SHOWN:,} more", style="dim")
    else:
        disagree.append("  none", style="dim")
    return Group(
        heads,
        t,
        Text(""),
        both,
        Text(""),
        Text(f"Kept under #{a.id}, not under #{b.id} ({len(d.only_a):,})", style="bold"),
        _ids(d.only_a),
        Text(f"Kept under #{b.id}, not under #{a.id} ({len(d.only_b):,})", style="bold"),
        _ids(d.only_b),
        Text(f"Decided differently (#{a.id}/#{b.id}) ({len(d.disagree):,})", style="bold"),
        disagree,
    )


class GoalDiffScreen(Screen[None]):
    """Two goals side by side: sizes, repeats, style and boundary mix of each kept set, and the
    sample ids kept in one and not the other, or decided differently."""

    CSS_PATH = Path(__file__).with_name("goals.tcss")
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back", id="goal_diff.back")]

    def __init__(self, a_id: int, b_id: int) -> None:
        super().__init__()
        self.a_id = a_id
        self.b_id = b_id
        self.diff: GoalDiff | None = None

    def compose(self) -> ComposeResult:
        yield Static(Text(f" COMPARE GOALS #{self.a_id} · #{self.b_id} ", style="bold reverse"), id="diff-title")
        yield ProgressBar(total=None, show_eta=False, show_percentage=False, id="diff-progress")
        with VerticalScroll(id="diff-body"):
            yield Static(id="diff-text")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#diff-body").focus()
        self.load()

    @work(thread=True, exclusive=True, group="goal-diff", exit_on_error=False)
    def load(self) -> None:
        worker = get_current_worker()
        with Store(self.app.db_path, create=False) as store:  # type: ignore[attr-defined]
            diff = diff_goals(store, self.a_id, self.b_id)
        if not worker.is_cancelled:
            self.app.call_from_thread(self.show, diff)

    def show(self, diff: GoalDiff) -> None:
        self.diff = diff
        self.query_one("#diff-progress").display = False
        self.query_one("#diff-text", Static).update(diff_view(diff))
