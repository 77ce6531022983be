"""A read-only view of a long, already-sanitised text: only the visible lines are rendered.

For the full-text screen, where one sample may be a 1 MB line or 100k lines. Lines are wrapped
to the width once per resize (cell-aware, so CJK and emoji wrap right) and drawn with the line
API, so scrolling costs the same whatever the text's size.
"""

from __future__ import annotations

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip


class TextLines(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    TextLines {
        height: 1fr;
        scrollbar-size-vertical: 1;
    }
    """

    def __init__(self, text: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.source = text.split("\n")
        self.lines: list[str] = []
        self._width = 0

    def on_resize(self) -> None:
        self._wrap(self.scrollable_content_region.width or self.size.width)

    def on_mount(self) -> None:
        self._wrap(self.scrollable_content_region.width or self.size.width)

    def _wrap(self, width: int) -> None:
        width = max(width, 10)
        if width == self._width:
            return
        self._width = width
        out: list[str] = []
        for line in self.source:
            if len(line) <= width // 2 or cell_len(line) <= width:
                out.append(line)
            else:
                out.extend(chop_cells(line, width))
        self.lines = out
        self.virtual_size = Size(width, len(out))
        self.refresh()

    def render_line(self, y: int) -> Strip:
        index = int(self.scroll_offset.y) + y
        if index >= len(self.lines):
            return Strip.blank(self.size.width)
        line = self.lines[index]
        return Strip([Segment(line, Style())], cell_len(line)).extend_cell_length(self.size.width)
