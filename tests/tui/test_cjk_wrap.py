"""CJK line breaking (tui.wrap): breaks between ideographs, never a closing punctuation mark at a
line's start nor an opening bracket at a line's end; Latin words in Chinese text stay whole. On
the real review screen at 80x24 too."""

from __future__ import annotations

import pytest
from rich.cells import cell_len
from tui_helpers import app_for, build_project, chat, settle

from tui.wrap import CLOSING, OPENING, wrap

# Real Chinese prose, mixed with English words, brackets and full-width punctuation.
ZH = (
    "机器学习是人工智能的一个分支，它使计算机能够从数据中学习。深度学习（Deep Learning）使用多层"
    "神经网络，在图像识别、语音识别和自然语言处理等领域取得了显著成果。我们使用 PyTorch 和 "
    "TensorFlow 进行实验，结果表明：模型的准确率达到了百分之九十五！你觉得呢？「这是引用。」"
    "《红楼梦》是中国古典小说；作者是曹雪芹。"
)
LATIN_WORDS = ("Deep", "Learning", "PyTorch", "TensorFlow")


def _check(lines: list[str], width: int) -> None:
    for i, line in enumerate(lines):
        assert cell_len(line) <= width, (width, line)
        if i:
            assert line[0] not in CLOSING, f"line {i} starts with {line[0]!r} at width {width}: {lines}"
        if i < len(lines) - 1:
            assert line[-1] not in OPENING, f"line {i} ends with {line[-1]!r} at width {width}: {lines}"


@pytest.mark.parametrize("width", range(12, 61))
def test_chinese_text_wraps_by_the_cjk_rules_at_every_width(width):
    lines = wrap(ZH, width)
    _check(lines, width)
    # nothing lost: only the spaces at breaks go
    assert "".join(lines).replace(" ", "") == ZH.replace(" ", "")
    # English words are never split across lines
    joined = "\n".join(lines)
    for word in LATIN_WORDS:
        assert not any(word[:k] + "\n" + word[k:] in joined for k in range(1, len(word))), (word, lines)


def test_lines_break_between_ideographs_and_fill_the_width():
    lines = wrap("一二三四五六七八九十" * 3, 20)  # 30 ideographs, 2 cells each
    assert lines == ["一二三四五六七八九十"] * 3


def test_a_closing_mark_at_the_break_pulls_the_previous_ideograph_down():
    # 10 ideographs fill 20 cells; "，" would start line 2: the break moves one ideograph back
    lines = wrap("一二三四五六七八九十，好的", 20)
    assert lines == ["一二三四五六七八九", "十，好的"]


def test_an_opening_bracket_never_ends_a_line():
    lines = wrap("一二三四五六七八九「引用」", 20)
    assert lines == ["一二三四五六七八九", "「引用」"]


def test_plain_english_wraps_at_spaces():
    assert wrap("the quick brown fox jumps over the lazy dog", 15) == [
        "the quick brown",
        "fox jumps over",
        "the lazy dog",
    ]


def test_a_word_wider_than_the_line_is_cut():
    assert wrap("a" * 25, 10) == ["a" * 10, "a" * 10, "a" * 5]


async def test_chinese_answer_on_the_review_screen_at_80x24_follows_the_rules(tmp_path):
    path = build_project(tmp_path / "p.db", [chat("请介绍一下机器学习。", ZH * 2)])
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        text = app.screen.query_one("#current").text
        body = [ln.strip() for ln in text.splitlines() if any("\u4e00" <= c <= "\u9fff" for c in ln)]
        assert len(body) >= 6, text
        for i, line in enumerate(body[1:], 1):  # body[0] is the prompt
            assert line[0] not in CLOSING, f"a line starts with {line[0]!r}: {text}"
            assert body[i - 1][-1] not in OPENING or i == 1, f"a line ends with {body[i - 1][-1]!r}: {text}"
        # a Chinese run is broken between ideographs, so lines are filled: none but the paragraph's
        # last is much shorter than the pane (rich breaks only at spaces: "进行实验，…" on one line)
        widths = [cell_len(ln) for ln in body[1:-1]]
        assert min(widths) >= 60, (widths, text)


def test_a_very_long_chinese_text_is_wrapped_by_rich_not_the_cjk_breaker():
    # The CJK breaker's cost grows faster than the text (27 s on an unclipped 100k-character
    # system prompt, a frozen screen); past CJK_WRAP_MAX characters Rich wraps it instead.
    import io

    from rich.console import Console
    from rich.text import Text

    from tui.render import CJK_WRAP_MAX, wrapped
    from tui.wrap import CJKWrapped

    short = Text("这是一个中文句子。" * 10)
    assert isinstance(wrapped(short), CJKWrapped)
    long = Text("这是一个中文句子。" * (CJK_WRAP_MAX // 9 + 1))
    assert len(long) > CJK_WRAP_MAX
    body = wrapped(long)
    assert body is long
    console = Console(width=80, file=io.StringIO(), color_system=None)
    lines = console.render_lines(body, console.options.update_width(80))
    assert sum(len("".join(s.text for s in line).strip()) for line in lines) == len(long.plain)
