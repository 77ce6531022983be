"""textdiff.diff(): word-level for English, character-level for CJK, exact, bounded."""

from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from review.textdiff import DELETE, EQUAL, INSERT, changed_fraction, diff, tokenize


def changed(spans):
    return [s.text for s in spans if s.op != EQUAL]


def test_english_differs_by_whole_words():
    a, b = diff("The quick brown fox jumps.", "The quick red fox jumped.")
    assert changed(a) == ["brown ", "jumps"]
    assert changed(b) == ["red ", "jumped"]
    assert {s.op for s in a} == {EQUAL, DELETE}
    assert {s.op for s in b} == {EQUAL, INSERT}


def test_chinese_differs_by_characters():
    a, b = diff("我喜欢吃苹果。", "我喜欢吃香蕉。")
    assert changed(a) == ["苹果"]
    assert changed(b) == ["香蕉"]


def test_mixed_script_tokens():
    assert tokenize("abc中文def 42") == ["abc", "中", "文", "def ", "42"]


def test_identical_texts_have_no_changes():
    a, b = diff("same\ntext", "same\ntext")
    assert changed(a) == changed(b) == []
    assert changed_fraction(a) == 0.0


@given(st.text(max_size=300), st.text(max_size=300))
def test_spans_rebuild_both_texts(x, y):
    a, b = diff(x, y)
    assert "".join(s.text for s in a) == x
    assert "".join(s.text for s in b) == y
    assert all(s.op in (EQUAL, DELETE) for s in a)
    assert all(s.op in (EQUAL, INSERT) for s in b)
    assert [s.text for s in a if s.op == EQUAL] == [s.text for s in b if s.op == EQUAL]


def test_cost_is_bounded_on_huge_texts():
    cases = [
        ("word " * 200_000, "word " * 100_000 + "other " + "word " * 99_999),
        ("x" * 1_000_000, "y" * 1_000_000),
        ("a b\n" * 100_000, "b a\n" * 100_000),
        (" ".join(str(i) for i in range(50_000)), " ".join(str(i * 7) for i in range(50_000))),
    ]
    for x, y in cases:
        t = time.perf_counter()
        a, b = diff(x, y)
        assert time.perf_counter() - t < 2.0
        assert "".join(s.text for s in a) == x


def test_small_change_in_a_long_text_is_found():
    x = "lorem ipsum dolor " * 20_000
    y = x[:180_000] + "CHANGED " + x[180_000:]
    a, b = diff(x, y)
    assert changed(b) == ["CHANGED "]
    assert changed(a) == []
