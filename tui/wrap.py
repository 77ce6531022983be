"""Line breaking for text with Chinese/Japanese in it, by the usual CJK rules (a simple kinsoku).

Rich wraps at spaces only, so a Chinese paragraph breaks wherever the width runs out and lines
start with "，" or "。". Here a line may break after a space or between two ideographs (or an
ideograph and a Latin word), never before closing punctuation (，。、；：？！）」』》 …) and never
after an opening bracket (（「『《 …). A Latin word is not split unless it is wider than the line.

`CJKWrapped` renders a `rich.text.Text` (styles kept) with these breaks; `render` uses it only for
text that holds CJK characters, so other text wraps as Rich wraps it.
"""

from __future__ import annotations

from collections.abc import Iterator

from rich.cells import cell_len, get_character_cell_size
from rich.console import Console, ConsoleOptions
from rich.text import Text

# Must not start a line.
CLOSING = set(
    "，。、；：？！）」』》】〉〕］｝〗〙〛’”…‥・ー々〻ぁぃぅぇぉっゃゅょゎァィゥェォッャュョヮヵヶ,.;:?!)]}%"
)
# Must not end a line.
OPENING = set("（「『《【〈〔［｛〖〘〚‘“([{")


def is_cjk(ch: str) -> bool:
    """An ideograph, kana, or CJK/full-width punctuation: a line may break on either side of it."""
    o = ord(ch)
    return (
        0x2E80 <= o <= 0x9FFF  # radicals, CJK symbols and punctuation, kana, CJK ideographs
        or 0xAC00 <= o <= 0xD7AF  # Hangul syllables
        or 0xF900 <= o <= 0xFAFF  # compatibility ideographs
        or 0xFE30 <= o <= 0xFE4F  # CJK compatibility forms
        or 0xFF00 <= o <= 0xFFEF  # full-width forms
        or 0x20000 <= o <= 0x3FFFF  # extension B and beyond
    )


def has_cjk(text: str) -> bool:
    return any(is_cjk(ch) for ch in text)


def can_break(s: str, i: int) -> bool:
    """Whether a line may end before s[i] (0 < i < len(s))."""
    a, b = s[i - 1], s[i]
    if b in CLOSING or a in OPENING:
        return False
    if a.isspace():
        return not b.isspace()
    if b.isspace():
        return False  # the spaces stay at the end of the line; the break comes after them
    return is_cjk(a) or is_cjk(b) or a in CLOSING or b in OPENING


def line_spans(s: str, width: int) -> list[tuple[int, int]]:
    """(start, end) of each line of `s` (one paragraph: no newline) wrapped to `width` cells.
    Spaces at a break are dropped; every character that is not such a space is in a line."""
    width = max(width, 2)
    spans: list[tuple[int, int]] = []
    n = len(s)
    start = 0
    while True:
        col, e = 0, start
        while e < n and col + get_character_cell_size(s[e]) <= width:
            col += get_character_cell_size(s[e])
            e += 1
        if e >= n:
            spans.append((start, n))
            return spans
        if e == start:  # one character wider than the line
            e += 1
        if s[e].isspace():
            brk = e
        else:
            brk = next((b for b in range(e, start, -1) if can_break(s, b)), 0)
            if brk <= start:  # no break allowed: cut at the width, keeping the two rules if possible
                brk = e
                while brk > start + 1 and (s[brk] in CLOSING or s[brk - 1] in OPENING):
                    brk -= 1
        end = brk
        while end > start and s[end - 1] == " ":
            end -= 1
        spans.append((start, max(end, start)))
        start = brk
        while start < n and s[start] == " ":
            start += 1
        if start >= n:
            return spans


def wrap(text: str, width: int) -> list[str]:
    """`text` as lines of at most `width` cells (for tests and plain text)."""
    out: list[str] = []
    for para in text.split("\n"):
        out += [para[a:b] for a, b in line_spans(para, width)]
    return out


class CJKWrapped:
    """A Text rendered with `line_spans` breaks at the width it is given; its styles are kept."""

    def __init__(self, text: Text) -> None:
        self.text = text

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Text]:
        width = options.max_width
        plain = self.text.plain
        cuts: list[int] = []  # (start, end) of each line, divided in one pass: a slice per line is O(text)
        offset = 0
        for para in plain.split("\n"):
            for a, b in line_spans(para, width):
                cuts += (offset + a, offset + b)
            offset += len(para) + 1
        pieces = self.text.divide(cuts)
        lines = [pieces[k] for k in range(1, len(cuts), 2)]
        for line in lines:
            line.no_wrap = True
            line.overflow = "fold"
            line.end = "\n"
            yield line

    def __rich_measure__(self, console, options):
        from rich.measure import Measurement

        longest = max((cell_len(p) for p in self.text.plain.split("\n")), default=0)
        return Measurement(min(2, longest), min(longest, options.max_width))
