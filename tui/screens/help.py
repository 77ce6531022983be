"""The help screen, generated from the review screen's bindings as they are in force now
(after the user's keymap), so it can never disagree with the keys."""

from __future__ import annotations

from pathlib import Path

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from review.model import DEFAULT_REASON
from review.sanitize import sanitize

from ..keys import REASON_KEYS, REVIEW_BINDINGS, config_path


def key_rows(screen: Screen, bindings: list[Binding] | None = None) -> list[tuple[str, str, str, str]]:
    """(keys, description, binding id, help) for each of a screen's bindings (default: the review
    screen's), keys as now in force."""
    keys_by_id: dict[str, list[str]] = {}
    for active in screen.active_bindings.values():
        bid = active.binding.id
        if bid:
            keys_by_id.setdefault(bid, []).append(screen.app.get_key_display(active.binding))
    rows = []
    seen = set()
    for b in REVIEW_BINDINGS if bindings is None else bindings:
        if b.id in seen:
            continue
        seen.add(b.id)
        keys = " ".join(dict.fromkeys(keys_by_id.get(b.id or "", []))) or "(unbound)"
        rows.append((keys, b.description, b.id or "", b.tooltip))
    return rows


def keymap_help() -> Text:
    """How to remap a key: the config file winnow reads now, its format, an example."""
    t = Text("Remap keys by their id (the right-hand column) in winnow's config file, JSON:\n", style="dim")
    t.append(f"  {sanitize(str(config_path()), oneline=True)}", style="bold")
    t.append("  (set $WINNOW_CONFIG to use another file)\n", style="dim")
    t.append('  {"keymap": {"keep": "y", "drop": "n", "note": "N"}}\n')
    t.append(
        '  keys comma-separated ("x,d"); a key bound twice on one screen is reported when winnow starts',
        style="dim",
    )
    return t


class HelpScreen(ModalScreen[None]):
    CSS_PATH = Path(__file__).with_name("help.tcss")
    BINDINGS = [Binding("escape,q,question_mark", "app.pop_screen", "Close", id="help.close")]

    def __init__(self, review: Screen, bindings: list[Binding] | None = None, title: str = "review screen") -> None:
        super().__init__()
        self.review = review
        self.bindings = bindings
        self.title_text = title

    def compose(self) -> ComposeResult:
        table = Table(box=None, padding=(0, 1), show_header=True, header_style="bold", expand=True)
        table.add_column("key", style="bold cyan", no_wrap=True)
        table.add_column("does", ratio=1)
        table.add_column("id", style="dim", no_wrap=True)
        for keys, desc, bid, tip in key_rows(self.review, self.bindings):
            table.add_row(keys, Text(tip or desc), bid)
        reasons = Text("After drop, one key gives the reason: ", style="")
        reasons.append(" · ".join(f"{n}{'/' + letter if letter else ''} {r}" for r, (n, letter) in REASON_KEYS.items()))
        reasons.append(f" · Enter: the reason the flag suggests · x: {DEFAULT_REASON} · Esc: don't drop")
        palette = Text("Every action is also in the command palette (ctrl+p).\n", style="dim")
        palette.append(keymap_help())
        with VerticalScroll(id="help-box"):
            yield Static(Text(f"Keys — {self.title_text}", style="bold"), id="help-title")
            if self.bindings is None:
                yield Static(Group(table, Text(""), reasons, Text(""), palette))
            else:
                yield Static(Group(table, Text(""), palette))
            yield Static(Text("Esc / ? closes", style="dim"))
