"""A decision key acts only on a sample whose answer has been on the terminal (issue 12, item 12).

At 20x5 the bars and the footer take every row and no sample text is visible: `a` must write
nothing and say "enlarge the terminal" in a line that fits. Once the answer's first line has been
painted (a larger terminal, or PgDn past a long prompt) the same key works.
"""

from __future__ import annotations

from textual import events
from tui_helpers import app_for, base_records, build_project, chat, on_disk, screen_text, settle

from reliability.pilot import wait_until

LONG_PROMPT = "\n".join(f"context line {i} of the customer's billing question" for i in range(30))


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def wait_for(pilot, condition, what: str) -> None:
    await wait_until(pilot, condition, message=f"timed out waiting for {what}")


async def test_at_20x5_a_key_writes_nothing_and_says_enlarge_the_terminal(project):
    app = app_for(project)
    async with app.run_test(size=(20, 5)) as pilot:
        await settle(pilot)
        assert "Open Settings" not in screen_text(app)  # none of sample #1's answer is on screen
        await pilot.press("a", "space", "x", "t", "n")  # keep, keep, drop, tag, note: all wait
        await settle(pilot)
        assert on_disk(project)[0] == {}, "nothing was decided"
        assert app.screen is app.screen_stack[-1] and not app.screen.is_modal, "no dialog opened"
        top = screen_text(app).splitlines()[0]
        assert top.strip() == "enlarge terminal", top  # "enlarge the terminal" does not fit 18 columns
        assert any(m.startswith("enlarge the terminal") for m in messages(app))

        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        await wait_for(pilot, lambda: "Open Settings" in screen_text(app), "the answer on screen")
        assert "enlarge" not in screen_text(app).splitlines()[0], "the goal bar is back"
        await pilot.press("a")
        await settle(pilot)
        assert {sid: d.verdict for sid, d in on_disk(project)[0].items()} == {1: "keep"}


async def test_a_terminal_just_wide_enough_says_the_whole_line(project):
    app = app_for(project)
    async with app.run_test(size=(24, 5)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert screen_text(app).splitlines()[0].strip() == "enlarge the terminal"
        assert on_disk(project)[0] == {}


async def test_at_80x24_a_short_sample_is_decided_at_once(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert {sid: d.verdict for sid, d in on_disk(project)[0].items()} == {1: "keep"}
        assert not any("enlarge" in m or "further down" in m for m in messages(app))


async def test_an_answer_below_a_long_prompt_is_decided_once_scrolled_into_view(tmp_path):
    path = build_project(tmp_path / "p.db", [chat(LONG_PROMPT, "Refunds take 30 days."), *base_records()[:3]])
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert "Refunds take 30 days." not in screen_text(app)
        await pilot.press("a")
        await settle(pilot)
        assert on_disk(path)[0] == {}
        assert "the answer is further down: PgDn shows it — nothing was done" in messages(app)

        for _ in range(5):  # a page at a time, as the curator reads down to the answer
            if "Refunds take 30 days." in screen_text(app):
                break
            await pilot.press("pagedown")
            await pilot.pause()
        assert "Refunds take 30 days." in screen_text(app)
        await wait_for(pilot, lambda: app.screen.answer_seen == 1, "the answer's paint to be noted")
        await pilot.press("a")
        await settle(pilot)
        assert {sid: d.verdict for sid, d in on_disk(path)[0].items()} == {1: "keep"}


async def test_keys_typed_ahead_at_20x5_decide_nothing(project):
    app = app_for(project)
    async with app.run_test(size=(20, 5)) as pilot:
        await settle(pilot)
        for k in "aaaaaa":
            app._driver.send_message(events.Key(k, k))
        await settle(pilot)
        assert on_disk(project)[0] == {}
