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
        await settle(pilot)  # the worker's counts are in

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


def goals_project(tmp_path):
    """Two goals, a few decisions under each, goal #1 reworded once (times fixed)."""
    from review.store import Store

    path = build_project(tmp_path / "project.db", base_records())
    with Store(path, create=False) as store:
        store.add_goal("Refuse what the policy does not cover.", "refusals mark the boundary")
        store.use_goal(1)
    return path


async def _decide_two_goals(pilot, path):
    await settle(pilot)
    for keys in (["a"], ["a"], ["x", "2"], ["a"]):
        await pilot.press(*keys)
        await settle(pilot)
    await pilot.press("G", "j", "enter")
    await settle(pilot)
    for keys in (["a"], ["x", "o"], ["a"], ["x", "2"]):
        await pilot.press(*keys)
        await settle(pilot)
    await pilot.press("G", "k", "enter")
    await settle(pilot)


def _fix_goal_times(path):
    import sqlite3

    freeze_times(path)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE goal_revisions SET at = '2026-11-25T08:00:00.000+00:00'")
        conn.execute("UPDATE goals SET created_at = '2026-11-25T08:00:00.000+00:00'")


def test_goals_screen(snap_compare, tmp_path):
    path = goals_project(tmp_path)

    async def goals(pilot):
        await _decide_two_goals(pilot, path)
        await pilot.press("G", "e", "end", "ctrl+u", *"Answer billing questions in one sentence.", "enter")
        await pilot.app.workers.wait_for_complete()
        _fix_goal_times(path)
        await pilot.press("j", "k")  # re-read the details with the fixed times
        await pilot.app.workers.wait_for_complete()
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app_for(path), terminal_size=SIZE, run_before=goals)


def test_goal_diff_screen(snap_compare, tmp_path):
    path = goals_project(tmp_path)

    async def diff(pilot):
        await _decide_two_goals(pilot, path)
        await pilot.press("G", "d", "enter")
        await pilot.app.workers.wait_for_complete()
        pilot.app.clear_notifications()
        await pilot.pause()

    assert snap_compare(app_for(path), terminal_size=SIZE, run_before=diff)


def test_stats_add_more_panel(snap_compare, tmp_path):
    path = goals_project(tmp_path)

    async def stats(pilot):
        await _decide_two_goals(pilot, path)
        freeze_times(path)
        pilot.app.clear_notifications()
        await pilot.press("s")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app_for(path), terminal_size=SIZE, run_before=stats)
