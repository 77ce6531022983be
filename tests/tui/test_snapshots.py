"""Snapshot tests of each screen at 80x24 (pytest-textual-snapshot; SVGs in __snapshots__).

Update after an intended UI change with: pytest tests/tui/test_snapshots.py --snapshot-update
Nothing here depends on the clock: the stats screen's pace comes from logged times, which the
stats test fixes first; the cursor does not blink.
"""

from __future__ import annotations

from tui_helpers import HOSTILE, app_for, base_records, build_project, chat, freeze_times, settle

SIZE = (80, 24)


def review_app(tmp_path, records=None, goal="Answer billing questions with the 30-day policy, briefly."):
    return app_for(build_project(tmp_path / "project.db", records or base_records(), goal=goal))


def test_goal_prompt(snap_compare, tmp_path):
    assert snap_compare(review_app(tmp_path, goal=None), terminal_size=SIZE)


def test_review_screen(snap_compare, tmp_path):
    assert snap_compare(review_app(tmp_path), terminal_size=SIZE, run_before=settle)


def test_review_screen_chinese_and_emoji(snap_compare, tmp_path):
    async def to_4(pilot):
        await settle(pilot)
        await pilot.press("colon", "4", "enter")
        await settle(pilot)

    assert snap_compare(review_app(tmp_path), terminal_size=SIZE, run_before=to_4)


def test_review_screen_tool_calls(snap_compare, tmp_path):
    async def to_7(pilot):
        await settle(pilot)
        await pilot.press("colon", "7", "enter")
        await settle(pilot)

    assert snap_compare(review_app(tmp_path), terminal_size=SIZE, run_before=to_7)


def test_drop_reason_dialog(snap_compare, tmp_path):
    async def drop(pilot):
        await settle(pilot)
        await pilot.press("x")

    assert snap_compare(review_app(tmp_path), terminal_size=SIZE, run_before=drop)


def test_compare_pane_stacked(snap_compare, tmp_path):
    async def compare(pilot):
        await settle(pilot)
        await pilot.press("j", "c")
        await settle(pilot)

    assert snap_compare(review_app(tmp_path), terminal_size=SIZE, run_before=compare)


def test_compare_pane_side_by_side(snap_compare, tmp_path):
    async def compare(pilot):
        await settle(pilot)
        await pilot.press("j", "c")
        await settle(pilot)

    assert snap_compare(review_app(tmp_path), terminal_size=(130, 24), run_before=compare)


def test_help_screen(snap_compare, tmp_path):
    async def help_(pilot):
        await settle(pilot)
        await pilot.press("question_mark")

    assert snap_compare(review_app(tmp_path), terminal_size=SIZE, run_before=help_)


def test_stats_screen(snap_compare, tmp_path):
    path = build_project(tmp_path / "project.db", base_records())
    app = app_for(path)

    async def stats(pilot):
        await settle(pilot)
        for keys in (["a"], ["a"], ["x", "2"], ["t", *"refund", "enter"], ["a"], ["x", "o"]):
            await pilot.press(*keys)
            await settle(pilot)
        freeze_times(path)
        await pilot.press("s")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=SIZE, run_before=stats)


def test_queue_dialog(snap_compare, tmp_path):
    async def queue(pilot):
        await settle(pilot)
        await pilot.press("a", "f")

    assert snap_compare(review_app(tmp_path), terminal_size=SIZE, run_before=queue)


def test_tag_dialog(snap_compare, tmp_path):
    async def tag(pilot):
        await settle(pilot)
        await pilot.press("t", *"billing", "enter")
        await settle(pilot)
        await pilot.press("j", "t", "b")

    assert snap_compare(review_app(tmp_path), terminal_size=SIZE, run_before=tag)


def test_hostile_sample(snap_compare, tmp_path):
    app = review_app(tmp_path, [chat("Show me: " + HOSTILE, HOSTILE)])
    assert snap_compare(app, terminal_size=SIZE, run_before=settle)


def test_full_text_screen(snap_compare, tmp_path):
    long = "".join(f"line {i}: {'中文' if i % 3 == 0 else 'text'}\n" for i in range(400))

    async def full(pilot):
        await settle(pilot)
        await pilot.press("v")
        await pilot.pause()

    assert snap_compare(review_app(tmp_path, [chat("Long?", long)]), terminal_size=SIZE, run_before=full)
