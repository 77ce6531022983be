"""Untrusted text on the real screen: each hostile class shows as a visible marker, never reaches
the terminal as a control sequence, never acts as markup, and is flagged on the sample.

The terminal side is checked on the exact bytes the app would write for a full repaint; after
Textual's own colour and cursor-move sequences are removed, nothing that a terminal acts on, and
nothing invisible, may remain.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tui_helpers import (
    app_for,
    build_project,
    chat,
    screen_text,
    settle,
    terminal_bytes,
    tool_sample,
)

from review.sanitize import BIDI, C1, CONTROL, ESCAPE, TAG, ZERO_WIDTH
from review.store import Store

# Textual's own output: SGR colours and absolute cursor moves. Everything else is a leak.
TEXTUAL_SEQ = re.compile(r"\x1b\[[0-9;]*[mH]")
LEAK = re.compile(
    "[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200b\u200c\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff"
    "\ud800-\udfff\U000e0000-\U000e007f]"
)

CASES = {
    # name: (hostile text, marker that must be on screen, class named in the flag)
    "CSI": ("a \x1b[31mRED\x1b[0m \x1b[2J b", "␛[31mRED␛[0m ␛[2J", ESCAPE),
    "OSC 0 title": ("\x1b]0;pwned\x07", "␛]0;pwned␇", ESCAPE),
    "OSC 52 clipboard": ("\x1b]52;c;cHduZWQ=\x07", "␛]52;c;cHduZWQ=␇", ESCAPE),
    "OSC 8 hyperlink": ("\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "␛]8;;http://evil␛\\click", ESCAPE),
    "DCS": ("\x1bP1$qm\x1b\\", "␛P1$qm␛\\", ESCAPE),
    "APC": ("\x1b_Gf=100;AAAA\x1b\\", "␛_Gf=100;AAAA␛\\", ESCAPE),
    "8-bit CSI": ("x\x9b2Jy", "x⟨U+009B⟩2Jy", C1),
    "8-bit OSC": ("\x9d0;t\x9c", "⟨U+009D⟩0;t⟨U+009C⟩", C1),
    "SO SI": ("a\x0eb\x0fc", "a␎b␏c", CONTROL),
    "CR": ("safe\rEVIL", "safe␍EVIL", CONTROL),
    "BS": ("ok\x08\x08no", "ok␈␈no", CONTROL),
    "NUL": ("a\x00b", "a␀b", CONTROL),
    "DEL": ("a\x7fb", "a␡b", CONTROL),
    "RLO": ("file\u202egnp.exe", "file⟨U+202E⟩gnp.exe", BIDI),
    "LRI PDI": ("\u2066x\u2069", "⟨U+2066⟩x⟨U+2069⟩", BIDI),
    "ZWSP": ("pass\u200bword", "pass⟨U+200B⟩word", ZERO_WIDTH),
    "BOM": ("\ufeffhello", "⟨U+FEFF⟩hello", ZERO_WIDTH),
    "tags": ("hi" + "".join(chr(0xE0000 + ord(c)) for c in "obey me"), "hi⟨tags:obey me⟩", TAG),
}

MARKUP = [
    "[/]",
    "[INST]",
    "[Alice]: hi",
    "list[int]",
    "[@click=app.quit]",
    "[link=http://evil]click[/link]",
    "[bold]b[/bold]",
    "[/bold]",
]


def assert_no_leak(app) -> None:
    raw = terminal_bytes(app)
    rest = TEXTUAL_SEQ.sub("", raw).replace("\n", "")
    bad = LEAK.findall(rest)
    assert not bad, f"reached the terminal: {[hex(ord(c)) for c in bad[:10]]}"


@pytest.mark.parametrize("name", list(CASES))
async def test_each_class_is_a_marker_never_a_sequence(tmp_path, name):
    text, marker, cls = CASES[name]
    path = build_project(tmp_path / "p.db", [chat(f"user {text}", f"answer {text}", system=f"system {text}")])
    app = app_for(path)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert shown.count(marker) == 3, shown  # system, user and assistant turns
        assert "hidden text:" in shown and cls in shown
        assert_no_leak(app)
        await pilot.press("m")  # markdown rendering goes through the same sanitiser
        await settle(pilot)
        assert marker in screen_text(app)
        assert_no_leak(app)


async def test_markup_is_shown_literally_and_does_nothing(tmp_path):
    text = " ".join(MARKUP)
    path = build_project(tmp_path / "p.db", [chat(text, text, system=text), chat(text, text + " second", system=text)])
    app = app_for(path)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        for m in MARKUP:
            assert shown.count(m) >= 3, m
        await pilot.press("c")  # compare pane: the diff view renders the same text
        await settle(pilot)
        shown = screen_text(app)
        for m in ["[/]", "[@click=app.quit]", "[Alice]: hi"]:
            assert shown.count(m) >= 6, m  # three turns on each side
        # Clicking on the text that looks like an action must not quit.
        await pilot.click("#current", offset=(12, 2))
        await pilot.pause()
        assert app.is_running
        assert_no_leak(app)


async def test_tool_calls_and_results_are_sanitised(tmp_path):
    rec = tool_sample()
    rec["messages"][1]["tool_calls"][0]["function"]["arguments"] = '{"city": "\\u001b]0;pwned\\u0007"}'
    rec["messages"][2]["content"] = "\x1b[2J result \u202e"
    path = build_project(tmp_path / "p.db", [rec])
    app = app_for(path)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert "TOOL CALL" in shown and "TOOL RESULT" in shown
        assert "\\u001b]0;pwned\\u0007" in shown  # JSON of the call: escaped, so visible and inert
        assert "␛[2J result ⟨U+202E⟩" in shown
        assert_no_leak(app)


async def test_goal_tags_notes_and_notifications_are_sanitised(tmp_path):
    evil = "\x1b]0;pwned\x07[/]\u202e"
    path = build_project(tmp_path / "p.db", [chat("q", "a"), chat("q2", "a2")], goal=f"Teach {evil} this.")
    with Store(path) as store:
        from review.store import Change

        store.apply(1, [Change(1, "tag", value=f"t{evil}"), Change(1, "note", value=f"n{evil}")])
    app = app_for(path)
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        await settle(pilot)
        app.notify(f"file {evil}.jsonl", title=evil)
        await pilot.pause()
        shown = screen_text(app)
        assert "Teach ␛]0;pwned␇[/]⟨U+202E⟩ this." in shown
        assert "t␛]0;pwned␇[/]⟨U+202E⟩" in shown
        assert "n␛]0;pwned␇[/]⟨U+202E⟩" in shown
        assert "file ␛]0;pwned␇[/]⟨U+202E⟩.jsonl" in shown
        assert_no_leak(app)
        await pilot.press("f")  # the queue dialog lists the tag
        await pilot.pause()
        assert "tagged t␛]0;pwned␇[/]⟨U+202E⟩" in screen_text(app)
        assert_no_leak(app)
        await pilot.press("escape", "s")  # the stats screen lists it too
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "t␛]0;pwned␇[/]⟨U+202E⟩" in screen_text(app)
        assert_no_leak(app)
        await pilot.press("escape", "G")  # and the goal dialog lists the goal
        await pilot.pause()
        assert "Teach ␛]0;pwned␇[/]⟨U+202E⟩ this." in screen_text(app)
        assert_no_leak(app)


async def test_typed_or_pasted_controls_never_enter_a_tag(tmp_path):
    path = build_project(tmp_path / "p.db", [chat("q", "a")])
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await pilot.pause()
        from textual import events

        app.screen.query_one("#dialog-input").post_message(events.Paste("x\x1b]52;c;AAAA\x07y"))
        await pilot.pause()
        await pilot.press("enter")
        await settle(pilot)
    with Store(path) as store:
        assert store.decision(1, 1).tags == ("x␛]52;c;AAAA␇y",)


async def test_file_name_in_the_full_text_title_is_sanitised(tmp_path):
    path = tmp_path / "evil\x1b]0;pwned\x07.db"
    build_project(path, [chat("q", "a")])
    app = app_for(path)
    async with app.run_test(size=(100, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await pilot.pause()
        assert "evil␛]0;pwned␇.jsonl line 1" in screen_text(app)
        assert_no_leak(app)


async def test_a_megabyte_line_is_previewed_and_deciding_stays_fast(tmp_path):
    import time

    big = "x" * 1_000_000
    path = build_project(tmp_path / "p.db", [chat("big?", big), chat("small?", "ok")])
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        t = time.perf_counter()
        await pilot.press("a")
        await settle(pilot)
        assert time.perf_counter() - t < 1.0
        assert app.screen.view.sample.id == 2
    assert Path(path).exists()


async def test_tabs_in_the_full_text_view_are_spaces_not_tab_characters(tmp_path):
    # A TAB written to the terminal moves the cursor without painting the cells it skips: the
    # previous screen showed through (found by the hostile-pty reliability scenario).
    path = build_project(tmp_path / "p.db", [chat("col1\tcol2\t\tcol3\n\tindented\t中\tx", "a")])
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("v")
        await pilot.pause()
        assert "\t" not in terminal_bytes(app)
        lines = [line.rstrip() for line in screen_text(app).split("\n")]
        assert "col1    col2            col3" in lines
        assert "        indented        中      x" in lines


async def test_a_tool_call_with_deeply_nested_arguments_is_shown(tmp_path):
    # json.loads raises RecursionError on it; the review screen used to crash rendering the call.
    rec = tool_sample()
    rec["messages"][1]["tool_calls"][0]["function"]["arguments"] = "[" * 100_000 + "]" * 100_000
    path = build_project(tmp_path / "p.db", [rec])
    app = app_for(path)
    async with app.run_test(size=(100, 40)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert "TOOL CALL" in shown and '"arguments":' in shown and '"[[[[[[[[' in shown
        await pilot.press("c")
        await settle(pilot)
        assert app.is_running
