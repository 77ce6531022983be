"""A paste into a one-line box (search, tag, note) goes in whole and safe, and typing goes on after it."""

from __future__ import annotations

from textual import events
from tui_helpers import app_for, base_records, build_project, settle

from tui.screens.dialogs import SafeInput


async def paste_then_type(tmp_path, pasted: str, typed: str) -> str:
    app = app_for(build_project(tmp_path / "p.db", base_records()))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await pilot.pause()
        box = app.screen.query_one(SafeInput)
        box.post_message(events.Paste(pasted))
        await pilot.pause()
        await pilot.press(*typed)
        await pilot.pause()
        return box.value


async def test_multiline_paste_is_kept_whole_with_visible_line_breaks(tmp_path):
    value = await paste_then_type(tmp_path, "first line\nsecond\x0bthird", "Z")
    assert value == "first line⏎second␋thirdZ"


async def test_typing_after_a_paste_with_controls_lands_after_the_markers(tmp_path):
    value = await paste_then_type(tmp_path, "a\x1b[31mred\u200bb", "xy")
    assert value.endswith("bxy")
    assert "\x1b" not in value and "\u200b" not in value
    assert value.startswith("a␛[31mred")
