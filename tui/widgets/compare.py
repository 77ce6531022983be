"""The compare pane (c): a sample related to the one under review, and why they are related.

Its title names the other sample, its decision and the flag that relates them; for a pair the
pair keys resolve (a contradiction, a same-prompt or style pair) it lists those keys first, as at
80 columns the reason is what gets cut, not the keys.
"""

from __future__ import annotations

import re

from rich.console import RenderableType
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical

from review.model import Decision, Flag, Sample

from .. import render
from .bars import LineBar
from .conversation import ConversationView

PAIR_KINDS = ("conflict", "same-prompt", "style")  # flags the pair keys (< > D b) resolve


def partner_label(label: str, other: int) -> str:
    """A flag's label (written from the reviewed sample's side: "exact copy of #16") as it reads
    over #16 itself: "exact copy of this sample"; a label naming another sample is kept, with
    "because:" before it."""
    said = re.sub(rf"#{other}(?![0-9])|#{other:,}(?![0-9,])", "this sample", label)
    return said if said != label else f"because: {label}"


class ComparePane(Vertical):
    def compose(self) -> ComposeResult:
        yield LineBar(id="compare-title")
        yield ConversationView(id="partner")

    def nothing(self, why: str) -> None:
        """No related sample to show: say why, in the title."""
        self.query_one("#compare-title", LineBar).say(Text(why, style="dim"))
        self.query_one("#partner", ConversationView).show(Text(""))

    def show_partner(
        self, renderable: RenderableType, other: Sample, decision: Decision, flag: Flag, index: int, count: int
    ) -> None:
        """Show `other` (rendered as `renderable`), related by `flag`: partner `index` of `count`."""
        self.query_one("#partner", ConversationView).show(renderable)
        t = Text.assemble((f" #{other.id:,} ", "bold reverse"))
        t.append(" ")
        t.append_text(render.verdict(decision))
        if flag.kind in PAIR_KINDS:
            t.append(" · < keep this · > keep that · D drop both · b boundary", style="bold")
        t.append(" · ", style="dim")
        t.append_text(render.safe(partner_label(flag.label, other.id), "italic", oneline=True))
        if count > 1:
            t.append(f" · {index + 1}/{count} [ ]", style="dim")
        if flag.kind not in PAIR_KINDS:
            t.append(" · K keep · X drop", style="dim")
        t.no_wrap = True
        t.overflow = "ellipsis"
        self.query_one("#compare-title", LineBar).say(t)
