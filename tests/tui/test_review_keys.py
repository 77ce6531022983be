"""Pilot tests: press keys on the review screen and check what the project file now holds."""

from __future__ import annotations

import os
import signal
import time

import pytest
from tui_helpers import app_for, build_project, on_disk, screen_text, settle, verdicts

from review.lock import ProjectLocked
from review.model import Queue
from tui.screens.dialogs import QueueDialog, ReasonDialog
from tui.screens.goal import GoalDialog
from tui.screens.goals import GoalsScreen
from tui.screens.help import HelpScreen
from tui.screens.review import ReviewScreen
from tui.screens.stats import StatsScreen


async def test_keep_and_drop_advance_and_are_on_disk(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("space")
        await settle(pilot)
        await pilot.press("x", "2")
        await settle(pilot)
        await pilot.press("d", "o")
        await settle(pilot)
        await pilot.press("x", "x")
        await settle(pilot)
        decisions, cursor, _ = on_disk(project)
        assert {k: (d.verdict, d.reason) for k, d in decisions.items()} == {
            1: ("keep", None),
            2: ("keep", None),
            3: ("drop", "duplicate"),
            4: ("drop", "off-goal"),
            5: ("drop", "other"),
        }
        assert cursor == 6
        assert app.screen.view.sample.id == 6


async def test_escape_in_reason_dialog_drops_nothing(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("x")
        assert isinstance(app.screen, ReasonDialog)
        await pilot.press("escape")
        await settle(pilot)
        assert verdicts(project) == {}
        assert app.screen.view.sample.id == 1


async def test_enter_takes_the_reason_the_flag_suggests(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "j", "j")  # #5, an exact copy of #1
        await settle(pilot)
        assert app.screen.view.sample.id == 5
        await pilot.press("x", "enter")
        await settle(pilot)
        d = on_disk(project)[0][5]
        assert (d.verdict, d.reason) == ("drop", "duplicate")


async def test_undo_and_redo(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("u")
        await settle(pilot)
        assert verdicts(project) == {1: "keep"}
        assert app.screen.view.sample.id == 2  # undo goes back to the sample it touched
        await pilot.press("u")
        await settle(pilot)
        assert verdicts(project) == {}
        await pilot.press("U")
        await settle(pilot)
        assert verdicts(project) == {1: "keep"}
        await pilot.press("ctrl+r")
        await settle(pilot)
        assert verdicts(project) == {1: "keep", 2: "keep"}


async def test_tag_with_completion_untag_and_note(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("t", *"refund-policy", "enter")
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        await pilot.press("t", "r", "e", "right", "enter")  # → completes to refund-policy
        await settle(pilot)
        decisions, _, _ = on_disk(project)
        assert decisions[1].tags == ("refund-policy",)
        assert decisions[2].tags == ("refund-policy",)
        await pilot.press("t", *"-refund-policy", "enter")
        await settle(pilot)
        await pilot.press("n", *"check [this] later", "enter")
        await settle(pilot)
        decisions, _, _ = on_disk(project)
        assert decisions[2].tags == ()
        assert decisions[2].note == "check [this] later"
        assert "check [this] later" in screen_text(app)


async def test_navigation_keys(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "down", "j")
        await settle(pilot)
        assert on_disk(project)[1] == 4
        await pilot.press("k", "up")
        await settle(pilot)
        assert on_disk(project)[1] == 2
        await pilot.press("colon", *"15", "enter")
        await settle(pilot)
        assert on_disk(project)[1] == 15
        assert app.screen.view.sample.id == 15
        await pilot.press("colon", *"999", "enter")
        await settle(pilot)
        assert on_disk(project)[1] == 15  # no such sample: stays


async def test_first_undecided_and_end_of_queue(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(3):
            await pilot.press("a")
            await settle(pilot)
        await pilot.press("colon", *"30", "enter")
        await settle(pilot)
        await pilot.press("j")  # past the end: stays on #30
        await settle(pilot)
        assert app.screen.view.sample.id == 30
        await pilot.press("g")
        await settle(pilot)
        assert app.screen.view.sample.id == 4
        assert on_disk(project)[1] == 4


async def test_search_and_queue_filter(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"zanzibar", "enter")
        await settle(pilot)
        _, cursor, queue = on_disk(project)
        assert cursor == 17
        assert queue == {"kind": "search", "value": "zanzibar"}
        await pilot.press("a")  # keep #17; the search queue has nothing after it
        await settle(pilot)
        assert verdicts(project) == {17: "keep"}
        await pilot.press("f")
        assert isinstance(app.screen, QueueDialog)
        labels = [label for label, _ in app.screen.choices]
        assert "kept (1)" in labels and "undecided (29)" in labels
        await pilot.press("home", "down", "down", "enter")  # all, undecided, kept
        await settle(pilot)
        _, cursor, queue = on_disk(project)
        assert queue == {"kind": "kept"}
        assert cursor == 17


async def test_compare_pane_and_deciding_the_partner(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j")  # #2 shares its prompt with #3
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        screen = app.screen
        assert screen.query_one("#compare-pane").display
        assert screen.query_one("#body").has_class("-stacked")  # 80 columns: below, not beside
        text = screen_text(app)
        assert "#3" in text and "No, refunds are not offered." in text
        await pilot.press("X")
        await settle(pilot)
        d = on_disk(project)[0][3]
        assert (d.verdict, d.reason) == ("drop", "contradictory")
        await pilot.press("K")
        await settle(pilot)
        assert verdicts(project)[3] == "keep"
        assert app.screen.view.sample.id == 2  # deciding the partner does not move
        await pilot.press("c")
        await settle(pilot)
        assert not screen.query_one("#compare-pane").display


async def test_compare_is_side_by_side_when_wide(project):
    app = app_for(project)
    async with app.run_test(size=(140, 30)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert not app.screen.query_one("#body").has_class("-stacked")
        assert "#5" in screen_text(app)  # #1's exact copy


async def test_cycling_related_samples(tmp_path):
    from tui_helpers import chat

    path = build_project(tmp_path / "p.db", [chat("Same?", "A."), chat("Same?", "B."), chat("Same?", "C.")])
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        seen = [app.screen.partners[app.screen.partner_index].partner]
        await pilot.press("right_square_bracket")
        await settle(pilot)
        seen.append(app.screen.partners[app.screen.partner_index].partner)
        await pilot.press("left_square_bracket")
        await settle(pilot)
        seen.append(app.screen.partners[app.screen.partner_index].partner)
        assert seen == [2, 3, 2]


async def test_new_goal_and_switching_back(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("G")
        assert isinstance(app.screen, GoalsScreen)
        await pilot.press("n", *"Teach password resets.", "enter")
        await settle(pilot)
        assert app.session.goal.id == 2
        assert app.screen.view.sample.id == 1
        await pilot.press("x", "1")
        await settle(pilot)
        assert verdicts(project, 2) == {1: "drop"}
        assert verdicts(project, 1) == {1: "keep"}
        await pilot.press("G", "k", "enter")  # pick goal #1 from the list
        await settle(pilot)
        assert app.session.goal.id == 1
        assert app.screen.view.sample.id == 2  # goal 1's own cursor


async def test_first_run_asks_for_the_goal(tmp_path):
    from tui_helpers import base_records

    path = build_project(tmp_path / "fresh.db", base_records(), goal=None)
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, GoalDialog)
        assert "In one sentence: what should this batch teach the model?" in screen_text(app)
        await pilot.press("enter")  # empty: refused, stays
        assert isinstance(app.screen, GoalDialog)
        await pilot.press(*"Answer briefly.", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        assert "Answer briefly." in screen_text(app)
        await pilot.press("a")
        await settle(pilot)
    with __import__("review.store", fromlist=["Store"]).Store(path) as store:
        assert store.active_goal().sentence == "Answer briefly."
    assert verdicts(path) == {1: "keep"}


async def test_escape_on_first_goal_prompt_quits(tmp_path):
    from tui_helpers import base_records

    path = build_project(tmp_path / "fresh.db", base_records(), goal=None)
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


async def test_resume_same_goal_queue_and_sample(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for key in ("a", "a", "x"):
            await pilot.press(key)
            await settle(pilot)
        await pilot.press("2")
        await settle(pilot)
        await pilot.press("f", "home", "down", "enter")  # undecided queue
        await settle(pilot)
        await pilot.press("q")
    app2 = app_for(project)
    async with app2.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app2.screen
        assert screen.view.sample.id == 4
        assert screen.view.queue == Queue("undecided")
        notes = [n.message for n in app2._notifications]
        assert any(m.startswith("resumed at #4") and "undecided" in m for m in notes)


async def test_second_instance_is_refused_and_lock_is_released(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        with pytest.raises(ProjectLocked, match="already open for review"):
            app_for(project)
    app_for(project).close_project()  # released on exit: a new instance opens


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])
async def test_sigterm_and_sighup_exit_cleanly(project, sig):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        os.kill(os.getpid(), sig)
        for _ in range(50):
            await pilot.pause()
            if not app.is_running:
                break
    assert app.return_code == 128 + sig
    assert verdicts(project) == {1: "keep"}
    app_for(project).close_project()  # the lock went with it


async def test_stats_screen(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a", "x", "2")
        await settle(pilot)
        await pilot.press("s")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, StatsScreen)
        text = screen_text(app)
        assert "keep rate" in text and "50.0%" in text
        assert "duplicate" in text
        assert "Answer lengths" in text
        await pilot.press("escape")
        assert isinstance(app.screen, ReviewScreen)


async def test_help_lists_every_binding_and_follows_the_keymap(project):
    from tui.keys import REVIEW_BINDINGS

    app = app_for(project, keymap={"keep": "y", "drop": "n,x"})
    async with app.run_test(size=(100, 60)) as pilot:
        await settle(pilot)
        await pilot.press("a")  # no longer keep
        await settle(pilot)
        assert verdicts(project) == {}
        await pilot.press("y")
        await settle(pilot)
        assert verdicts(project) == {1: "keep"}
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        rows = {
            bid: keys
            for keys, _, bid, _ in __import__("tui.screens.help", fromlist=["x"]).key_rows(app.screen_stack[-2])
        }
        assert {b.id for b in REVIEW_BINDINGS} == set(rows)
        assert rows["keep"] == "y"
        assert rows["drop"] == "n x"
        text = screen_text(app)
        assert "first_undecided" in text


async def test_every_action_is_in_the_command_palette(project):
    from tui.keys import REVIEW_BINDINGS

    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        titles = {c.title for c in app.get_system_commands(app.screen)}
        assert {b.description for b in REVIEW_BINDINGS} <= titles
        keep = next(c for c in app.get_system_commands(app.screen) if c.title == "Keep")
        await keep.callback()
        await settle(pilot)
        assert verdicts(project) == {1: "keep"}


async def test_full_text_screen_shows_what_the_preview_cuts(tmp_path):
    from tui_helpers import chat

    long = "".join(f"line {i}\n" for i in range(100_000))
    path = build_project(tmp_path / "long.db", [chat("Long?", long + "THE END")])
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(10):
            await pilot.press("pagedown")
        await pilot.pause()
        text = screen_text(app)
        assert "more characters" in text and "press v to read it all" in text
        assert "line 119" in text and "line 120\n" not in text  # the preview stops at 120 lines
        await pilot.press("v")
        await pilot.pause()
        body = app.screen.query_one("#fulltext-body")
        assert len(body.lines) > 100_000
        assert any("THE END" in line for line in body.lines)
        await pilot.press("escape")
        assert isinstance(app.screen, ReviewScreen)


async def test_escape_stops_a_long_search(project, monkeypatch):
    import asyncio

    from review.model import QueueSpec

    def endless(store, goal_id, queue, after, forward):
        store.conn.execute(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000000000000)"
            " SELECT max(x) FROM c"
        ).fetchone()
        return 1

    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j")
        await settle(pilot)
        screen = app.screen
        endless_queue = QueueSpec("endless", endless)
        monkeypatch.setattr(screen.session, "queues", screen.session.queues.with_queue("endless", endless_queue))
        screen._set_queue(Queue("endless"))
        started_by = time.monotonic() + 20  # generous: a loaded machine starts the worker late
        while screen._seek_store is None and time.monotonic() < started_by:
            await asyncio.sleep(0.01)
        assert screen.busy and screen.query_one("#busy").display
        await pilot.press("a")  # refused while the search runs
        await pilot.press("escape")
        await settle(pilot)
        assert not screen.busy
        assert verdicts(project) == {}
        _, cursor, queue = on_disk(project)
        assert (cursor, queue) == (2, {"kind": "all"})  # nothing moved


async def test_the_partner_is_labelled_from_its_own_side(project):
    """Over #1 (shown beside its copy #5) the title says "exact copy of this sample", never
    "exact copy of #1" while showing #1."""
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "j", "j", "c")  # #5, an exact copy of #1
        await settle(pilot)
        assert app.screen.view.sample.id == 5
        title = str(app.screen.query_one("#compare-title").render())
        assert title.lstrip().startswith("#1 "), title
        assert "exact copy of this sample" in title and "of #1" not in title, title


async def test_at_80x24_the_sample_under_judgment_keeps_8_lines_beside_its_partner(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "j", "j", "c")
        await settle(pilot)
        assert app.screen.query_one("#body").has_class("-stacked")
        current = app.screen.query_one("#current")
        partner = app.screen.query_one("#partner")
        assert current.uncovered_rows() >= 11, current.uncovered_rows()
        assert partner.uncovered_rows() >= 3, partner.uncovered_rows()


async def test_w_swaps_which_side_of_the_compare_pane_is_large(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("j", "j", "j", "j", "c")
        await settle(pilot)
        current, partner = app.screen.query_one("#current"), app.screen.query_one("#partner")
        before = (current.uncovered_rows(), partner.uncovered_rows())
        assert before[0] > before[1] + 4, before
        await pilot.press("w")
        await settle(pilot)
        after = (current.uncovered_rows(), partner.uncovered_rows())
        assert after[1] > after[0], after
        await pilot.press("w")
        await settle(pilot)
        assert (current.uncovered_rows(), partner.uncovered_rows()) == before
