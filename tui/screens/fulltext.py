"""Everything in one sample, unclipped: every turn, the tool schemas and the raw record."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Static

from review.model import Sample

from .. import render
from ..widgets.textlines import TextLines


class FullTextScreen(Screen[None]):
    CSS_PATH = Path(__file__).with_name("fulltext.tcss")
    BINDINGS = [
        Binding("escape,q,v", "app.pop_screen", "Back", id="fulltext.back"),
        Binding("j,down", "scroll(1)", "Down", id="fulltext.down", show=False),
        Binding("k,up", "scroll(-1)", "Up", id="fulltext.up", show=False),
        Binding("space,pagedown", "page(1)", "Page down", id="fulltext.page_down"),
        Binding("b,pageup", "page(-1)", "Page up", id="fulltext.page_up"),
        Binding("g,home", "top", "Top", id="fulltext.top"),
        Binding("G,end", "bottom", "End", id="fulltext.end"),
    ]

    def __init__(self, sample: Sample) -> None:
        super().__init__()
        self.sample = sample

    def compose(self) -> ComposeResult:
        s = self.sample
        title = Text.assemble((f" #{s.id:,} ", "bold reverse"))
        title.append(" full text · ")
        title.append_text(render.safe(f"{s.source_name} line {s.line}", oneline=True))
        yield Static(title, id="fulltext-title")
        yield TextLines(render.full_text(s), id="fulltext-body")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(TextLines).focus()

    def action_scroll(self, n: int) -> None:
        self.query_one(TextLines).scroll_relative(y=n, animate=False)

    def action_page(self, n: int) -> None:
        body = self.query_one(TextLines)
        body.scroll_relative(y=n * max(body.size.height - 1, 1), animate=False)

    def action_top(self) -> None:
        self.query_one(TextLines).scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one(TextLines).scroll_end(animate=False)
