"""Pilot tests at 80x24 for the bulk decision key (`*`): the dialog shows the preview's figures,
Enter writes one action, one `u` reverts every sample of it; the store is checked each time."""

from __future__ import annotations

from tui_helpers import app_for, on_disk, screen_text, settle

from review.store import Change, Store
from tui.screens.bulk import BulkDialog
from tui.screens.review import ReviewScreen


async def _search(pilot, text: str) -> None:
    await pilot.press("slash")
    for ch in text:
        await pilot.press("space" if ch == " " else ch)
    await pilot.press("enter")
    await settle(pilot)


async def _dialog(pilot, app) -> BulkDialog:
    await pilot.press("asterisk")
    for _ in range(100):
        await pilot.pause()
        if isinstance(app.screen, BulkDialog):
            break
    assert isinstance(app.screen, BulkDialog), "the bulk dialog never opened"
    return app.screen


def _ids_actions(project):
    with Store(project, create=False) as store:
        return store.conn.execute("SELECT count(*) FROM actions").fetchone()[0]


async def test_bulk_keep_of_a_search_then_one_undo_restores_every_sample(project):
    with Store(project) as store:
        store.apply(1, [Change(9, "drop", "noisy")])  # one match decided already: overwritten
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _search(pilot, "billing")  # #8-#30 ask about billing
        dialog = await _dialog(pilot, app)
        text = screen_text(app)
        assert "23 samples" in text and "under goal #1" in text
        assert "now 22 undecided · 0 kept · 1 dropped" in text
        assert "#8" in text and "Question 8 about billing?" in text and "… and 18 more" in text
        await pilot.press("a")
        await pilot.pause()
        text = screen_text(app)
        assert "keep all 23: 23 will change · 1 decided otherwise overwritten" in text
        assert dialog.summary.figures("keep") == (23, 1, 0)
        actions = _ids_actions(project)
        await pilot.press("enter")
        await settle(pilot)
        for _ in range(100):
            if not app.screen.busy:
                break
            await pilot.pause()
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        decisions, _, _ = on_disk(project)
        assert {sid for sid, d in decisions.items() if d.verdict == "keep"} == set(range(8, 31))
        assert _ids_actions(project) == actions + 1
        assert any("23 samples kept in one step (search “billing”)" in n.message for n in app._notifications)
        await pilot.press("u")
        await settle(pilot)
        decisions, _, _ = on_disk(project)
        assert {sid: (d.verdict, d.reason) for sid, d in decisions.items()} == {9: ("drop", "noisy")}
        assert any("undone: keep of 23 samples (search “billing”)" in n.message for n in app._notifications)
        assert app.screen.view.sample.id == 8  # the sample on screen stays
        await pilot.press("U")
        await settle(pilot)
        decisions, _, _ = on_disk(project)
        assert {sid for sid, d in decisions.items() if d.verdict == "keep"} == set(range(8, 31))
        assert any("redone: keep of 23 samples" in n.message for n in app._notifications)


async def test_bulk_drop_asks_the_reason_and_escape_writes_nothing(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _search(pilot, "refund")  # #2 and #3
        await _dialog(pilot, app)
        await pilot.press("x")
        await pilot.pause()
        assert "drop all — why?" in screen_text(app)
        await pilot.press("enter")  # no reason yet: nothing happens
        assert isinstance(app.screen, BulkDialog)
        await pilot.press("2")  # duplicate
        await pilot.pause()
        assert "drop as duplicate all 2: 2 will change" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert on_disk(project)[0] == {}
        await _dialog(pilot, app)
        await pilot.press("x", "2", "enter")
        for _ in range(100):
            await pilot.pause()
            if not app.screen.busy and isinstance(app.screen, ReviewScreen):
                break
        await settle(pilot)
        decisions, _, _ = on_disk(project)
        assert {sid: (d.verdict, d.reason) for sid, d in decisions.items()} == {
            2: ("drop", "duplicate"),
            3: ("drop", "duplicate"),
        }


def test_preview_rows_are_cut_in_cells_so_chinese_stays_on_one_line():
    from rich.cells import cell_len

    from tui.screens.bulk import _cells

    row = _cells("您好，我想咨询一下Northwind Cloud的退款政策，谢谢\n第二行", 40)
    assert cell_len(row.plain) <= 40 and "\n" not in row.plain and row.plain.endswith("…")
    assert _cells("[b]x[/b]", 40).plain == "[b]x[/b]"  # text, never markup
