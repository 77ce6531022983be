"""The review screen's compare pane keys: c, [ ], K X (decide the partner), C (keep this, drop its
cluster), < > D b (resolve a contradiction or drift pair).

`PairKeys` is a part of ReviewScreen (tui/screens/review.py), which holds the state it reads and
the helpers it calls (declared below for the type checker); it owns what the compare pane shows.
Every key here decides the sample that has been painted (`_ready`), like the screen's own keys.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rich.console import RenderableType
from rich.style import Style

from review.model import DEFAULT_REASON, Flag
from review.session import ReviewSession, View

from .. import render
from ..messages import SampleDecided
from ..paint_gate import PaintGatedScreen
from ..widgets.compare import PAIR_KINDS, ComparePane
from ..widgets.conversation import ConversationView

CLUSTER_KINDS = ("exact", "lexical", "semantic")  # flags whose members are a near-duplicate cluster


def related(flags: list[Flag], sample_id: int) -> list[Flag]:
    """The samples the compare pane can show beside `sample_id`, one flag each, in flag order.
    A cluster's other members are partners too, so [ and ] step through all of them."""
    seen: set[int] = set()
    partners: list[Flag] = []
    for f in flags:
        for other in (f.partner, *f.members):
            if other is not None and other != sample_id and other not in seen:
                seen.add(other)
                partners.append(f if other == f.partner else dataclasses.replace(f, partner=other))
    return partners


class PairKeys(PaintGatedScreen[None]):
    session: ReviewSession
    view: View | None
    flags: list[Flag]
    partners: list[Flag]
    partner_index: int
    compare: bool
    markdown: bool
    _match_last_from: int | None

    if TYPE_CHECKING:  # ReviewScreen's

        def _ready(self) -> int | None: ...
        def _save(self, what: str, write: Callable[[], Any], saved: Callable[[Any], None]) -> None: ...
        def _advance(self, done: str) -> None: ...
        def _show_flags(self, v: View) -> None: ...
        def refresh_view(self) -> None: ...
        def _system_shared(self, sample: Any) -> int: ...
        def _system_key(self) -> str: ...

    def _conversation(self, v: View, term: str | None) -> RenderableType:
        return render.conversation(
            v.sample,
            markdown=self.markdown,
            highlight=term,
            system_shared=self._system_shared(v.sample),
            system_key=self._system_key(),
        )

    def _render_panes(self, v: View) -> None:
        pane = self.query_one("#compare-pane", ComparePane)
        pane.display = self.compare
        current = self.query_one("#current", ConversationView)
        term = v.queue.value if v.queue.kind == "search" else None
        find = Style.parse(render.MATCH_STYLE) if term else None
        if not self.compare:
            current.show(self._conversation(v, term), find=find)
            left, self._match_last_from = self._match_last_from, None
            if left is not None and left != v.sample.id:
                current.go_to_match(0, last=True)
            return
        if not self.partners:
            current.show(self._conversation(v, term), find=find)
            pane.nothing(f"compare: nothing related to #{v.number:,} is known")
            return
        flag = self.partners[self.partner_index]
        assert flag.partner is not None
        found = self.session.sample(flag.partner)
        if found is None:
            pane.nothing(f"compare: #{flag.partner} is not in this project")
            return
        other, decision = found
        mine, theirs = render.compared(v.sample, other)
        current.show(mine)
        pane.show_partner(theirs, other, decision, flag, self.partner_index, len(self.partners))

    def action_compare(self) -> None:
        self.compare = not self.compare
        if self.view is not None:
            self._render_panes(self.view)
            self._show_flags(self.view)
            self._await_paint(self.view.sample.id)

    def action_swap_compare(self) -> None:
        """w: give the partner the larger share of the body (and back); the sample under judgment
        has it by default (review.tcss)."""
        if not self.compare:
            self.app.bell()
            self.notify("press c to see a related sample first", severity="warning")
            return
        body = self.query_one("#body")
        body.toggle_class("-swapped")

    def action_cycle(self, step: int) -> None:
        if not self.compare or not self.partners or self.view is None:
            self.app.bell()
            return
        self.partner_index = (self.partner_index + step) % len(self.partners)
        self._render_panes(self.view)
        self._await_paint(self.view.sample.id)

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
