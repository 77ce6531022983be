"""A scrollable pane that shows one rendered sample. One widget, reused for every sample.

It renders the sample's Rich renderable to lines itself, once per sample (and per width), and
serves them through the line API: showing the next sample repaints this pane without a layout
pass over the screen, and scrolling never re-renders. That keeps keypress-to-paint low.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.errors import NoWidget
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class ConversationView(ScrollView, can_focus=False):
    """Never focused, so the review screen's single keys always reach the screen; it scrolls by
    the screen's page keys and the mouse wheel."""

    DEFAULT_CSS = """
    ConversationView {
        height: 1fr;
        scrollbar-size-vertical: 1;
        overflow-y: scroll;  /* a scrollbar that comes and goes would cost a layout pass */
    }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._renderable: RenderableType = Text("")
        self._lines: list[Strip] = []
        self._width = 0
        self.answer_line: int | None = None  # line of the render.AnswerMark in what is shown
        self._find: Style | None = None  # the search's match style, when a search is shown
        self.match_index = 0  # which of match_lines() the view was last moved to

    def show(self, renderable: RenderableType, *, find: Style | None = None) -> None:
        """Show `renderable` from its top, or (`find`: a search's match style) from a little above
        the first line painted in that style, so a match deep in a long text is on screen."""
        self._renderable = renderable
        self._width = 0
        self._lines = []  # too narrow to render: show nothing rather than the previous sample
        self.answer_line = None
        self._find = find
        self.match_index = 0
        self._render_lines()
        top = 0
        if find is not None:
            first = self.first_line_with(find)
            if first is not None and first >= self.scrollable_content_region.height:
                top = max(0, first - 2)
        self.scroll_to(0, top, animate=False, immediate=True)
        self.refresh()

    def first_line_with(self, style: Style) -> int | None:
        """The first rendered line with a segment whose background is `style`'s."""
        for i, strip in enumerate(self._lines):
            if any(seg.style is not None and seg.style.bgcolor == style.bgcolor for seg in strip):
                return i
        return None

    def match_lines(self) -> list[int]:
        """The rendered lines holding a search match (several matches on one line are one stop)."""
        if self._find is None:
            return []
        bg = self._find.bgcolor
        return [
            i
            for i, strip in enumerate(self._lines)
            if any(s.style is not None and s.style.bgcolor == bg for s in strip)
        ]

    def go_to_match(self, step: int, *, last: bool = False) -> tuple[int, int] | None:
        """Move the view to the next (`step` 1) or previous (-1) match line of this sample, two
        lines above it as show() does; `last`: to the last one. (which of how many, 1-based), or
        None when there is no further match this way (the caller goes to the next sample)."""
        lines = self.match_lines()
        if not lines:
            return None
        index = len(lines) - 1 if last else self.match_index + step
        if not 0 <= index < len(lines):
            return None
        self.match_index = index
        self.scroll_to(0, max(0, lines[index] - 2), animate=False, immediate=True)
        self.refresh()
        return index + 1, len(lines)

    def on_resize(self) -> None:
        self._render_lines()

    def _render_lines(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 2 or width == self._width:
            return
        self._width = width
        console = self.app.console
        options = console.options.update(width=width, height=None, highlight=False)
        parts = [self._renderable]
        mark = None
        if isinstance(self._renderable, Group):
            from ..render import AnswerMark

            items = list(self._renderable.renderables)
            mark = next((i for i, r in enumerate(items) if isinstance(r, AnswerMark)), None)
            if mark is not None:  # rendered in two pieces (the same lines) to learn where it falls
                parts = [Group(*items[:mark]), Group(*items[mark + 1 :])]
        lines: list[list[Segment]] = []
        for i, part in enumerate(parts):
            if i == 1:
                self.answer_line = len(lines)
            lines += console.render_lines(Padding(part, (0, 1)), options, pad=True)
        if self.answer_line is not None and lines:
            self.answer_line = min(self.answer_line, len(lines) - 1)
        self._lines = [Strip(line, width) for line in lines]
        # Set the virtual size without the screen-wide layout pass its reactive would trigger: the
        # pane's own size does not change, only what it scrolls over.
        self.set_reactive(ScrollView.virtual_size, Size(width, len(self._lines)))
        self._scroll_update(self.virtual_size)
        self.refresh()

    def answer_offset(self) -> tuple[int, int] | None:
        """(x, y) on the screen of the answer's first line within the rows this pane shows now
        (the top row when the pane is scrolled into the answer, as to a search match deep in it),
        when the answer is within those rows (something else may still cover it: ask the screen
        what is on top there)."""
        if self.answer_line is None or not self._lines:
            return None
        region = self.scrollable_content_region
        row = max(self.answer_line - round(self.scroll_offset.y), 0)
        if not 0 <= row < region.height or region.width < 1:
            return None
        return region.x + min(1, region.width - 1), region.y + row

    def answer_uncovered(self) -> bool:
        """Whether the first line of the answer is on the terminal, not covered by anything (the
        footer covers the pane's only row on a 5-row terminal)."""
        at = self.answer_offset()
        if at is None:
            return False
        try:
            widget, _ = self.screen.get_widget_at(*at)
        except NoWidget:
            return False
        return widget is self

    def uncovered_rows(self) -> int:
        """How many rows of this pane are on the terminal, not covered (e.g. by the footer)."""
        region = self.scrollable_content_region
        rows = 0
        for y in range(region.y, region.bottom):
            try:
                rows += self.screen.get_widget_at(region.x, y)[0] is self
            except NoWidget:
                pass
        return rows

    @property
    def text(self) -> str:
        """The rendered text (for tests)."""
        return "\n".join(strip.text for strip in self._lines)

    def render_line(self, y: int) -> Strip:
        index = round(self.scroll_offset.y) + y
        width = self.scrollable_content_region.width
        if index >= len(self._lines):
            return Strip([Segment(" " * width, self.rich_style)], width)
        return self._lines[index].apply_style(self.rich_style).crop_extend(0, width, self.rich_style)
