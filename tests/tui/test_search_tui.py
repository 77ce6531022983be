"""Search on the review screen: the sample's place among the matches and their count, from the
search's own result (a worker), and every match marked in the sample (a style, never markup)."""

from __future__ import annotations

from tui_helpers import app_for, settle

from reliability.pilot import wait_until
from tui.render import MATCH_STYLE


def _bar(app) -> str:
    return str(app.screen.query_one("#decision-bar").render())


def _marked(app) -> list[str]:
    """The texts painted in the match style in the current pane."""
    from rich.style import Style

    want = Style.parse(MATCH_STYLE)
    pane = app.screen.query_one("#current")
    return [seg.text for strip in pane._lines for seg in strip if seg.style and seg.style.bgcolor == want.bgcolor]


async def test_search_shows_which_match_of_how_many_and_marks_it(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        await pilot.press(*"BILLING", "enter")
        await settle(pilot)
        await wait_until(pilot, lambda: "match 1 of" in _bar(app), message="the match count never came")
        n = int(_bar(app).split("match 1 of ")[1].split()[0])
        assert n == 23, _bar(app)  # "Question i about billing?" for i in 8..30
        assert [t.lower() for t in _marked(app)] == ["billing", "billing"], _marked(app)
        await pilot.press("j")
        await settle(pilot)
        assert f"match 2 of {n}" in _bar(app), _bar(app)


async def test_a_match_deep_in_a_long_answer_is_scrolled_into_view(tmp_path):
    from tui_helpers import build_project, chat, screen_text

    long = "\n".join(f"Line {i} of the policy text." for i in range(90)) + "\nWe also ship to Zanzibar."
    path = build_project(tmp_path / "p.db", [chat("Hello?", "Hi."), chat("Where do you ship?", long)])
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        await pilot.press(*"zanzibar", "enter")
        await settle(pilot)
        assert app.screen.view.sample.id == 2
        assert "ship to Zanzibar" in screen_text(app), screen_text(app)
        assert app.screen.query_one("#current").scroll_offset.y > 60
        await pilot.press("a")  # the match's sample is decided from where it is scrolled to
        await settle(pilot)
        from tui_helpers import on_disk

        assert {sid: d.verdict for sid, d in on_disk(path)[0].items()} == {2: "keep"}


async def test_next_and_previous_match_step_through_a_long_answer_then_across_samples(tmp_path):
    from tui_helpers import build_project, chat, screen_text

    lines = [f"Line {i} of the policy text." for i in range(120)]
    for i in (30, 70, 110):
        lines[i] = f"Line {i}: we ship to Zanzibar."
    path = build_project(
        tmp_path / "p.db",
        [chat("Hello?", "Hi."), chat("Where do you ship?", "\n".join(lines)), chat("And Zanzibar?", "Yes.")],
    )
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        await pilot.press(*"zanzibar", "enter")
        await settle(pilot)
        pane = app.screen.query_one("#current")
        assert app.screen.view.sample.id == 2
        stops = pane.match_lines()
        assert len(stops) == 3, stops
        assert "Line 30: we ship" in screen_text(app)
        await pilot.press("full_stop")
        await settle(pilot)
        assert app.screen.view.sample.id == 2
        assert "Line 70: we ship" in screen_text(app), screen_text(app)
        assert "Line 30: we ship" not in screen_text(app)
        await pilot.press("full_stop")
        await settle(pilot)
        assert "Line 110: we ship" in screen_text(app), screen_text(app)
        await pilot.press("comma")
        await settle(pilot)
        assert "Line 70: we ship" in screen_text(app), screen_text(app)
        await pilot.press("full_stop", "full_stop")  # past the last match: the next matching sample
        await settle(pilot)
        assert app.screen.view.sample.id == 3
        await wait_until(pilot, lambda: "match 2 of 2" in _bar(app), message=_bar(app))
        await pilot.press("comma")  # back to the long answer, at its last match
        await settle(pilot)
        assert app.screen.view.sample.id == 2
        assert "Line 110: we ship" in screen_text(app), screen_text(app)
        assert pane.match_index == 2


async def test_next_match_without_a_search_says_so(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        first = app.screen.view.sample.id
        await pilot.press("full_stop")
        await settle(pilot)
        assert app.screen.view.sample.id == first
        assert any("no search" in str(n.message) for n in app._notifications), list(app._notifications)


async def test_next_match_is_remappable(tmp_path):
    from tui_helpers import build_project, chat

    path = build_project(
        tmp_path / "p.db", [chat("Zanzibar?", "Yes."), chat("Hello?", "Hi."), chat("Zanzibar!", "No.")]
    )
    app = app_for(path, keymap={"match_next": "e"})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await settle(pilot)
        await pilot.press(*"zanzibar", "enter")
        await settle(pilot)
        assert app.screen.view.sample.id == 1
        await pilot.press("full_stop")  # moved off '.': nothing happens
        await settle(pilot)
        assert app.screen.view.sample.id == 1
        await pilot.press("e")
        await settle(pilot)
        assert app.screen.view.sample.id == 3
