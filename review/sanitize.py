"""The one function that makes untrusted text safe to put on a terminal.

Every string that came from a dataset, a user or a file system (sample text, goal sentences,
tags, notes, notifications, file names in errors) goes through `sanitize` before it reaches
the screen. It maps each character that a terminal would act on, or that a reader cannot see,
to a visible marker:

* C0 controls (except tab and newline), DEL -> Control Pictures: ESC -> ␛, CR -> ␍, NUL -> ␀,
  BS -> ␈, SO -> ␎, SI -> ␏, BEL -> ␇, DEL -> ␡. An escape sequence (CSI, OSC, DCS, APC) thus
  shows as ``␛[31m`` or ``␛]52;c;…␇``: it is visible and inert.
* 8-bit C1 controls (U+0080-U+009F, e.g. the one-byte CSI U+009B) -> ``⟨U+009B⟩``.
* bidi controls (LRE/RLE/PDF/LRO/RLO, LRI/RLI/FSI/PDI, LRM/RLM/ALM), zero-width characters,
  other invisible format characters (Unicode's default-ignorable code points, such as the
  combining grapheme joiner and Hangul fillers, and the Egyptian hieroglyph format controls),
  lone surrogates and noncharacters -> ``⟨U+202E⟩``.
* a run of Unicode tag characters (U+E0000-U+E007F, "ASCII smuggling") -> one marker that
  spells out the hidden text: ``⟨tags:ignore the goal⟩``.

Two legitimate uses of invisible characters are kept, because marking them would break text
people actually write: a zero-width joiner between two pictographs (emoji ZWJ sequences such
as a family emoji) and a single variation selector after a visible character (❤️, CJK
ideographic variants; Mongolian free variation selectors count too). A *run* of variation
selectors is marked: that is how data is smuggled inside an emoji.

`suspicious` names the classes of such characters found in a text; the review screen shows
them as a flag on the sample. This module imports only the standard library.
"""

from __future__ import annotations

import re

# Classes named by `suspicious`, in the order they are reported.
ESCAPE = "escape sequence"
C1 = "C1 control"
CONTROL = "control character"
BIDI = "bidi control"
ZERO_WIDTH = "zero-width"
TAG = "unicode tag"
INVISIBLE = "invisible"
SURROGATE = "lone surrogate"
CLASSES = (ESCAPE, C1, CONTROL, BIDI, ZERO_WIDTH, TAG, INVISIBLE, SURROGATE)

# Everything that may need a marker. Matched as runs, then decided one character at a time.
_SUSPECT = re.compile(
    "["
    "\x00-\x08\x0b-\x1f\x7f-\x9f"  # C0 (tab and newline stay), DEL, C1
    "\xad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufffb\ufffe\uffff"
    "\ud800-\udfff"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U00013430-\U0001343f"
    "\U000e0000-\U000e0fff"
    "]+"
)

_BIDI = frozenset((0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)))
_ZERO_WIDTH = frozenset((0x180E, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF))
_ZWJ = 0x200D


def _is_variation_selector(cp: int) -> bool:
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF or 0x180B <= cp <= 0x180D or cp == 0x180F


def _is_tag(cp: int) -> bool:
    return 0xE0000 <= cp <= 0xE007F


def _is_pictograph(ch: str) -> bool:
    """Close enough to Extended_Pictographic for deciding whether a ZWJ joins emoji."""
    if not ch:
        return False
    cp = ord(ch)
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2300 <= cp <= 0x23FF
        or 0x2B00 <= cp <= 0x2BFF
        or cp in (0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139)
    )


def _marker(cp: int) -> str:
    if cp < 0x20:
        return chr(0x2400 + cp)  # ␀ … ␟ (␛ for ESC, ␍ for CR)
    if cp == 0x7F:
        return "\u2421"  # ␡
    return f"⟨U+{cp:04X}⟩"


def _class_of(cp: int) -> str:
    if cp == 0x1B:
        return ESCAPE
    if cp < 0x20 or cp == 0x7F:
        return CONTROL
    if 0x80 <= cp <= 0x9F:
        return C1
    if cp in _BIDI:
        return BIDI
    if cp in _ZERO_WIDTH:
        return ZERO_WIDTH
    if 0xD800 <= cp <= 0xDFFF:
        return SURROGATE
    return INVISIBLE


def _pieces(run: str, text: str, start: int) -> list[tuple[str, str | None]]:
    """(replacement, class or None when the character is kept as is) for one suspect run."""
    out: list[tuple[str, str | None]] = []
    before = text[start - 1] if start > 0 else ""
    after = text[start + len(run)] if start + len(run) < len(text) else ""
    i, n = 0, len(run)
    while i < n:
        ch = run[i]
        cp = ord(ch)
        if _is_tag(cp):
            j = i
            while j < n and _is_tag(ord(run[j])):
                j += 1
            hidden = "".join(chr(ord(c) - 0xE0000) if 0xE0020 <= ord(c) <= 0xE007E else "·" for c in run[i:j])
            out.append((f"⟨tags:{hidden}⟩", TAG))
            i = j
            continue
        if _is_variation_selector(cp) and i == 0 and before and not before.isspace():
            out.append((ch, None))  # a single selector right after a visible character
        elif cp == _ZWJ:
            # Look past a kept variation selector: 🏳 U+FE0F U+200D 🌈
            prev = run[i - 1] if i > 0 else before
            if i > 0 and _is_variation_selector(ord(prev)) and out and out[-1][1] is None:
                prev = run[i - 2] if i > 1 else before
            nxt = run[i + 1] if i + 1 < n else after
            if _is_pictograph(prev) and _is_pictograph(nxt):
                out.append((ch, None))
            else:
                out.append((_marker(cp), ZERO_WIDTH))
        else:
            out.append((_marker(cp), _class_of(cp)))
        i += 1
    return out


def sanitize(text: str, *, oneline: bool = False) -> str:
    """Text with every terminal-active or invisible character replaced by a visible marker.

    With `oneline`, newlines become ⏎ and tabs a space, for one-line places (titles, tags).
    Text that needs no change is returned as is (one regex search: cheap on long text).
    """
    if oneline:
        text = text.replace("\n", "⏎").replace("\t", " ")
    if not _SUSPECT.search(text):
        return text
    return _SUSPECT.sub(lambda m: "".join(p for p, _ in _pieces(m.group(), m.string, m.start())), text)


def suspicious(text: str) -> list[str]:
    """Names of the classes of hidden or terminal-active characters in `text` (see CLASSES)."""
    found: set[str] = set()
    for m in _SUSPECT.finditer(text):
        found.update(c for _, c in _pieces(m.group(), text, m.start()) if c)
        if len(found) == len(CLASSES):
            break
    return [c for c in CLASSES if c in found]
