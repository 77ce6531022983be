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
