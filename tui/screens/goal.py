"""The goal dialog: declare the goal sentence, or pick an existing goal.

Shown first when a project has no goal, and on `G` from the review screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from review.model import Goal
from review.store import GoalError, check_goal_sentence

from ..render import safe
from .dialogs import SafeInput

QUESTION = "In one sentence: what should this batch teach the model?"


@dataclass(frozen=True)
class GoalChoice:
    """Either an existing goal's id or a new sentence (with the warnings it drew)."""

    goal_id: int | None = None
    sentence: str | None = None


class GoalDialog(ModalScreen[GoalChoice | None]):
    CSS_PATH = Path(__file__).with_name("goal.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="goal.cancel")]

    def __init__(self, goals: list[Goal], active_id: int | None = None, *, first: bool = False) -> None:
        super().__init__()
        self.goals = goals
        self.active_id = active_id
        self.first = first

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            title = "Declare the goal of this review" if self.first else "Goals"
            yield Static(Text(title, style="bold"), classes="dialog-title")
            yield Static(Text(QUESTION), classes="goal-question")
            yield SafeInput(
                placeholder="e.g. Answer refund questions with the 30-day policy, briefly.", id="goal-input"
            )
            yield Static(Text("Enter to start reviewing against it", style="dim"), id="goal-hint")
            if self.goals:
                yield Static(
                    Text("…or pick an existing goal (Tab, then ↑/↓ and Enter):", style="dim"), classes="goal-or"
                )
                options = []
                for g in self.goals:
                    label = Text.assemble((f"#{g.id} ", "bold"))
                    label.append_text(safe(g.sentence, oneline=True))
                    if g.id == self.active_id:
                        label.append("  (active)", style="green")
                    options.append(Option(label, id=str(g.id)))
                yield OptionList(*options, id="goal-list")
            hint = "Esc quits winnow" if self.first else "Esc goes back"
            yield Static(Text(hint, style="dim"), classes="goal-escape")

    def on_mount(self) -> None:
        inp = self.query_one("#goal-input", Input)
        inp.cursor_blink = getattr(self.app, "cursor_blink", True)
        inp.focus()

    @on(Input.Submitted, "#goal-input")
    def _declare(self, event: Input.Submitted) -> None:
        event.stop()
        try:
            sentence, warnings = check_goal_sentence(event.value)
        except GoalError as e:
            self.query_one("#goal-hint", Static).update(safe(str(e), "bold red"))
            return
        for w in warnings:
            self.notify(f"note: {w}", severity="warning")
        self.dismiss(GoalChoice(sentence=sentence))

    @on(OptionList.OptionSelected, "#goal-list")
    def _pick(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(GoalChoice(goal_id=int(event.option.id or 0)))
