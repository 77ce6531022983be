"""The paint gate: knowing when a sample's frame has been handed to the terminal.

The review screen's decision keys act on the sample that has been *painted*, never on the cursor
(tui/screens/review.py). Textual has no public event for "this frame went to the terminal":
`call_after_refresh` waits for the next message to reach the screen, which may be the very key
it should have let in. So `PaintGatedScreen` hooks two private steps of `textual.screen.Screen`:

- `_compositor_refresh()`: renders the dirty widgets and hands the frame to the driver. Right
  after it returns, the frame is out, and the gate marks the waiting sample painted; unless a
  layout is still pending (`_layout_required`), as then the frame shows a stale arrangement...
- `_refresh_layout(size, scroll)`: ...except the frame that the layout pass paints itself right
  after reflowing (it calls `_compositor_refresh`): that frame is complete, although Textual
  clears `_layout_required` only after it has gone out. The gate notes that it is inside it.

These names are private and may change with any Textual release: PRIVATE_HOOKS and
PRIVATE_ATTRIBUTES list what the gate relies on, and tests/tui/test_paint_gate.py fails, naming
the hook, when an upgrade changes one of them (and checks on a real Pilot run that the gate still
sees a paint).
"""

from __future__ import annotations

from typing import TypeVar

from textual.geometry import Size
from textual.screen import Screen

# Textual's private methods the gate overrides, with the parameters it calls them with.
PRIVATE_HOOKS: dict[str, tuple[str, ...]] = {
    "_compositor_refresh": ("self",),
    "_refresh_layout": ("self", "size", "scroll"),
}
# Textual's private attributes the gate reads (the last five: what Screen._on_idle checks to know
# that a refresh is still to come).
PRIVATE_ATTRIBUTES: tuple[str, ...] = (
    "_layout_required",
    "_scroll_required",
    "_repaint_required",
    "_recompose_required",
    "_dirty_widgets",
)

ResultT = TypeVar("ResultT")


class PaintGatedScreen(Screen[ResultT]):
    """A screen that knows which sample has been painted (`painted`) and whether the first line
    of its answer has been on the terminal, uncovered (`answer_seen`).

    Subclasses say which sample is on screen (`_shown_id`) and whether its answer's first line is
    visible now (`_answer_on_screen`); they call `_await_paint` each time they show a sample.
    """

    def __init__(self) -> None:
        super().__init__()
        self.painted: int | None = None  # the sample id last painted on the terminal
        self.answer_seen: int | None = None  # ... whose answer's first line has been on the terminal
        self._unpainted: int | None = None  # shown, but its frame not yet written
        self._in_layout = False  # inside Textual's _refresh_layout (reflowed, about to paint)

    def _shown_id(self) -> int | None:
        """The id of the sample on screen now (None: none)."""
        raise NotImplementedError

    def _answer_on_screen(self) -> bool:
        """Whether the shown sample's answer has its first line on the terminal now."""
        raise NotImplementedError

    def _forget_paint(self) -> None:
        """Nothing counts as painted (the sample is being replaced, or cannot be shown)."""
        self.painted = None
        self.answer_seen = None

    def _await_paint(self, sample_id: int) -> None:
        """Decision keys wait until this sample's frame has gone to the terminal."""
        self._forget_paint()
        self._unpainted = sample_id

    def _mark_painted(self, sample_id: int) -> None:
        if self._shown_id() == sample_id:
            self.painted = sample_id
            self._unpainted = None

    def _compositor_refresh(self) -> None:
        # A refresh with a layout still pending paints a stale arrangement, except the one that
        # `_refresh_layout` makes right after reflowing (see the module docstring).
        super()._compositor_refresh()
        complete = self.is_current and (self._in_layout or not self._layout_required)
        if self._unpainted is not None and complete:
            self._mark_painted(self._unpainted)
        if complete and self.painted is not None and self.answer_seen != self.painted:
            # Scrolling (PgDn) or a larger terminal can bring the answer on screen later.
            if self._answer_on_screen():
                self.answer_seen = self.painted

    def _refresh_pending(self) -> bool:
        """Whether Textual still has something to lay out, scroll, repaint or recompose: then the
        terminal does not show the screen's current state yet."""
        return bool(
            self._layout_required
            or self._scroll_required
            or self._repaint_required
            or self._recompose_required
            or self._dirty_widgets
        )

    def _answer_shown(self) -> bool:
        """At a key: whether the painted sample's answer has been on the terminal. Also true when
        no refresh is pending (nothing to lay out, scroll, repaint or recompose, no dirty widget:
        what the compositor holds is what the terminal shows) and the answer's first line is
        uncovered in it. The frame that showed it can come before the pane knew where its answer
        starts (its lines are rendered at its first resize), and a still screen has no later
        refresh to check again: the key found it refused although the answer was in plain view
        (about one start in three, in the e2e test)."""
        if self.painted is None:
            return False
        if self.answer_seen == self.painted:
            return True
        if not self._refresh_pending() and self._answer_on_screen():
            self.answer_seen = self.painted
            return True
        return False

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        self._in_layout = True
        try:
            super()._refresh_layout(size, scroll)
        finally:
            self._in_layout = False
