"""A scrollable pane that shows one rendered sample. One widget, reused for every sample.

It renders the sample's Rich renderable to lines itself, once per sample (and per width), and
serves them through the line API: showing the next sample repaints this pane without a layout
pass over the screen, and scrolling never re-renders. That keeps keypress-to-paint low.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.padding import Padding
from rich.segment import Segment
from rich.text import Text
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

    def show(self, renderable: RenderableType) -> None:
        self._renderable = renderable
        self._width = 0
        self._render_lines()
        self.scroll_to(0, 0, animate=False, immediate=True)
        self.refresh()

    def on_resize(self) -> None:
        self._render_lines()

    def _render_lines(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 2 or width == self._width:
            return
        self._width = width
        console = self.app.console
        options = console.options.update(width=width, height=None, highlight=False)
        lines = console.render_lines(Padding(self._renderable, (0, 1)), options, pad=True)
        self._lines = [Strip(line, width) for line in lines]
        # Set the virtual size without the screen-wide layout pass its reactive would trigger: the
        # pane's own size does not change, only what it scrolls over.
        self.set_reactive(ScrollView.virtual_size, Size(width, len(self._lines)))
        self._scroll_update(self.virtual_size)
        self.refresh()

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
