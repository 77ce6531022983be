"""A read-only view of a long, already-sanitised text: only the visible lines are rendered.

For the full-text screen, where one sample may be a 1 MB line or 100k lines. Lines are wrapped
to the width once per resize (cell-aware, so CJK and emoji wrap right) and drawn with the line
API, so scrolling costs the same whatever the text's size.

Tabs are expanded to spaces here (tab stops every 8 cells): a raw segment goes to the terminal
as it is, and a TAB written there moves the cursor without painting the cells it skips, so the
previous screen's text showed through.
"""

from __future__ import annotations

from rich.cells import cell_len, chop_cells
from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

TAB_SIZE = 8


def expand_tabs(line: str, size: int = TAB_SIZE) -> str:
    """`line` with each tab replaced by spaces up to the next tab stop, counted in cells."""
    if "\t" not in line:
        return line
    parts = line.split("\t")
    out: list[str] = []
    col = 0
    for part in parts[:-1]:
        col += cell_len(part)
        pad = size - col % size
        out += (part, " " * pad)
        col += pad
    out.append(parts[-1])
    return "".join(out)


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
        for line in map(expand_tabs, self.source):
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
