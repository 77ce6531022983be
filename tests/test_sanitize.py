"""sanitize(): every terminal-active or invisible character becomes a visible, inert marker."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from review.sanitize import (
    BIDI,
    C1,
    CONTROL,
    ESCAPE,
    INVISIBLE,
    SURROGATE,
    TAG,
    ZERO_WIDTH,
    sanitize,
    suspicious,
)

# Nothing a terminal acts on, and nothing invisible, may survive sanitize().
FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200b\u200c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    "\u2060\ufeff\ud800-\udfff\U000e0000-\U000e007f]"
)

HOSTILE = {
    "CSI colour": ("red \x1b[31mRED\x1b[0m", "␛[31m", ESCAPE),
    "OSC title": ("\x1b]0;pwned\x07", "␛]0;pwned␇", ESCAPE),
    "OSC 52 clipboard": ("\x1b]52;c;cm0gLXJmIH4=\x1b\\", "␛]52;c;cm0gLXJmIH4=␛\\", ESCAPE),
    "OSC 8 hyperlink": ("\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "␛]8;;http://evil␛\\click", ESCAPE),
    "DCS": ("\x1bP1$qm\x1b\\", "␛P1$qm", ESCAPE),
    "APC": ("\x1b_Gf=100;AAAA\x1b\\", "␛_Gf=100", ESCAPE),
    "8-bit CSI": ("\x9b31mred", "⟨U+009B⟩31mred", C1),
    "8-bit OSC": ("\x9d0;title\x9c", "⟨U+009D⟩0;title⟨U+009C⟩", C1),
    "SO/SI": ("a\x0eb\x0fc", "a␎b␏c", CONTROL),
    "CR overwrite": ("rm -rf /\rls", "rm -rf /␍ls", CONTROL),
    "backspace": ("safe\x08\x08\x08\x08evil", "safe␈␈␈␈evil", CONTROL),
    "NUL": ("a\x00b", "a␀b", CONTROL),
    "DEL": ("a\x7fb", "a␡b", CONTROL),
    "bell": ("ding\x07", "ding␇", CONTROL),
    "RLO": ("user\u202egnp.exe", "user⟨U+202E⟩gnp.exe", BIDI),
    "isolates": ("\u2066x\u2069", "⟨U+2066⟩x⟨U+2069⟩", BIDI),
    "zero-width space": ("pass\u200bword", "pass⟨U+200B⟩word", ZERO_WIDTH),
    "BOM": ("\ufeffhi", "⟨U+FEFF⟩hi", ZERO_WIDTH),
    "tag smuggling": ("hi" + "".join(chr(0xE0000 + ord(c)) for c in "ignore goal"), "hi⟨tags:ignore goal⟩", TAG),
    "variation selector run": ("😀" + "\ufe01\ufe02\U000e0101", "😀\ufe01⟨U+FE02⟩⟨U+E0101⟩", INVISIBLE),
    "lone surrogate": ("a\ud800b", "a⟨U+D800⟩b", SURROGATE),
}


def test_each_hostile_class_becomes_a_marker_and_is_named():
    for name, (raw, expected_piece, cls) in HOSTILE.items():
        out = sanitize(raw)
        assert expected_piece in out, name
        assert not FORBIDDEN.search(out), name
        assert cls in suspicious(raw), name


def test_markup_looking_text_is_untouched():
    # Markup is the renderer's problem (Text, never markup); sanitize must not mangle it.
    s = "[/] [INST] [Alice]: hi list[int] [@click=app.quit] [link=http://x]y[/link]"
    assert sanitize(s) == s
    assert suspicious(s) == []


def test_ordinary_text_is_returned_unchanged():
    for s in [
        "hello\n\tworld",
        "中文，标点。",
        "emoji 😀 ❤️ 👨\u200d👩\u200d👧 🏳️\u200d🌈",
        "é e\u0301",
        "漢\U000e0100字",
    ]:
        assert sanitize(s) == s, s
        assert suspicious(s) == [], s


def test_zero_width_joiner_outside_emoji_is_marked():
    assert sanitize("a\u200db") == "a⟨U+200D⟩b"
    assert suspicious("a\u200db") == [ZERO_WIDTH]


def test_oneline_makes_newlines_visible():
    assert sanitize("a\nb\tc", oneline=True) == "a⏎b c"


def test_crlf_is_visible():
    assert sanitize("line\r\n") == "line␍\n"


@given(st.text())
def test_no_forbidden_character_survives(text):
    out = sanitize(text)
    assert not FORBIDDEN.search(out)
    assert sanitize(out) == out  # markers are themselves safe text
    if out == text:
        assert not set(suspicious(text)) & {ESCAPE, C1, CONTROL, BIDI, TAG, SURROGATE}


def test_a_megabyte_is_quick():
    import time

    text = ("word " * 200_000) + "\x1b[2J"
    t = time.perf_counter()
    out = sanitize(text)
    assert time.perf_counter() - t < 0.5
    assert out.endswith("␛[2J")


def test_other_default_ignorable_and_format_characters_are_marked():
    # Found by the hostile-pty reliability scenario: these reached the terminal unmarked.
    cases = {
        "Egyptian hieroglyph format control": ("\U00013430x\U00013438", "⟨U+13430⟩x⟨U+13438⟩"),
        "combining grapheme joiner": ("a\u034fb", "a⟨U+034F⟩b"),
        "Khmer inherent vowels": ("\u17b4\u17b5", "⟨U+17B4⟩⟨U+17B5⟩"),
        "unassigned tag-block code point": ("x\U000e0080", "x⟨U+E0080⟩"),
        "specials": ("x\ufff0", "x⟨U+FFF0⟩"),
    }
    for name, (raw, expected) in cases.items():
        assert sanitize(raw) == expected, name
        assert INVISIBLE in suspicious(raw), name


def test_mongolian_free_variation_selectors_are_variation_selectors():
    assert sanitize("ᠠ\u180b") == "ᠠ\u180b"  # one after a letter: how Mongolian is written
    assert sanitize("ᠠ\u180b\u180c\u180d") == "ᠠ\u180b⟨U+180C⟩⟨U+180D⟩"  # a run hides data
    assert sanitize(" \u180b") == " ⟨U+180B⟩"
