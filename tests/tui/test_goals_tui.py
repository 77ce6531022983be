"""Pilot tests of goals from the keyboard (issue 6): two goals on the demo project, a proposed batch
under each, the diff view, exports whose manifests trace the decisions; edit, archive, fork."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tui_helpers import app_for, screen_text, settle, verdicts

from review.batch import batch_progress, latest_batch
from review.demo import DEMO_PATH
from review.figures import diff_goals
from review.goals import rereview_count, revisions
from review.model import Queue
from review.store import Store
from tui.screens.dialogs import BatchDialog, ExportDialog
from tui.screens.goals import GoalDiffScreen, GoalEditDialog, GoalsScreen
from tui.screens.review import ReviewScreen

GOAL_A = "Answer support questions accurately and briefly."
GOAL_B = "Refuse unsafe requests politely, in the user's language."


@pytest.fixture
def demo(tmp_path) -> Path:
    path = tmp_path / "demo.db"
    with Store(path) as store:
        store.import_file(DEMO_PATH)
    return path


async def wait(pilot) -> None:
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await settle(pilot)


async def propose_batch_of_50(pilot) -> None:
    await pilot.press("B")
    assert isinstance(pilot.app.screen, BatchDialog)
    await pilot.press("end", "ctrl+u", "5", "0", "enter")
    await wait(pilot)


async def decide_batch(pilot, pattern) -> None:
    for i in range(50):
        await pilot.press(*pattern(i))
        await settle(pilot)


def manifest_kept(manifest: dict) -> set[int]:
    return {sid for ids in manifest["kept_sample_ids_by_source"].values() for sid in ids}


async def test_two_goals_batches_diff_and_traceable_exports(demo):
    app = app_for(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press(*GOAL_A, "enter")  # the first-run prompt declares goal #1
        await settle(pilot)
        await propose_batch_of_50(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen) and app.session.queue == Queue("batch")
        assert "batch #1:" in screen_text(app) and "0/50 decided" in screen_text(app)
        await decide_batch(pilot, lambda i: ["x", "2"] if i % 3 == 2 else ["a"])

        await pilot.press("G", "n")  # goal #2 from the goals screen
        assert isinstance(app.screen, GoalEditDialog)
        await pilot.press(*GOAL_B, "tab", *"refusals teach the boundary", "enter")
        await settle(pilot)
        assert app.session.goal.id == 2
        await propose_batch_of_50(pilot)
        assert "batch #2:" in screen_text(app)
        await decide_batch(pilot, lambda i: ["a"] if i % 2 == 0 else ["x", "o"])
        assert "50/50 decided" in screen_text(app)

        with Store(demo, create=False) as store:
            for gid in (1, 2):
                bid = latest_batch(store, gid)
                assert batch_progress(store, gid, bid) == (50, 50)
                assert store.counts(gid).decided == 50
            assert store.goal(2).hypothesis == "refusals teach the boundary"
            expected = diff_goals(store, 1, 2)

        await pilot.press("G")
        assert isinstance(app.screen, GoalsScreen)
        await pilot.press("k", "d", "enter")  # goal #1 highlighted, compare with the only other goal
        await wait(pilot)
        diff_screen = app.screen
        assert isinstance(diff_screen, GoalDiffScreen) and diff_screen.diff is not None
        assert (diff_screen.diff.only_a, diff_screen.diff.only_b) == (expected.only_a, expected.only_b)
        assert diff_screen.diff.disagree == expected.disagree and expected.disagree
        shown = screen_text(app)
        assert f"kept under both: {expected.both_kept}" in shown
        assert f"decisions that disagree: {len(expected.disagree)}" in shown

        await pilot.press("escape", "escape")  # back to reviewing goal #2
        await settle(pilot)
        for gid in (2, 1):
            if gid == 1:
                await pilot.press("G", "k", "enter")
                await settle(pilot)
            assert app.session.goal.id == gid
            await pilot.press("E")
            assert isinstance(app.screen, ExportDialog)
            await pilot.press("enter")  # the default path, as imported
            await wait(pilot)

    with Store(demo, create=False) as store:
        for gid in (1, 2):
            manifest_path = demo.with_name(f"demo.{gid}.kept.jsonl.manifest.json")
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            assert manifest["goal"]["id"] == gid
            pos = manifest["decision_log_position"]
            replayed = {s for s, d in store.rebuild_decisions(gid, upto=pos).items() if d.verdict == "keep"}
            assert manifest_kept(manifest) == replayed
            assert replayed == {s for s, v in verdicts(demo, gid).items() if v == "keep"}
            lines = demo.with_name(f"demo.{gid}.kept.jsonl").read_text(encoding="utf-8").splitlines()
            assert len(lines) == len(replayed)


async def test_edit_a_goal_keeps_its_history_and_queues_rereview(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for keys in (["a"], ["x", "2"], ["a"]):
            await pilot.press(*keys)
            await settle(pilot)
        await pilot.press("G", "e")
        assert isinstance(app.screen, GoalEditDialog)
        await pilot.press("end", "ctrl+u", *"Answer billing questions in one sentence.", "enter")
        await wait(pilot)
        assert isinstance(app.screen, GoalsScreen)
        assert "re-review" in screen_text(app)
        await pilot.press("escape")
        await settle(pilot)
        assert "Answer billing questions in one sentence." in screen_text(app)  # the goal bar
    with Store(project, create=False) as store:
        revs = revisions(store, 1)
        assert [r.sentence for r in revs] == [
            "Answer billing questions with the 30-day policy, briefly.",
            "Answer billing questions in one sentence.",
        ]
        assert rereview_count(store, 1) == 3


async def test_archive_and_restore_a_goal(project):
    with Store(project, create=False) as store:
        store.add_goal("Teach password resets.")
        store.use_goal(1)
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("G", "a")  # the active goal cannot be archived
        await pilot.pause()
        with Store(project, create=False) as store:
            assert not store.goal(1).archived
        await pilot.press("j", "a")
        await wait(pilot)
        with Store(project, create=False) as store:
            assert store.goal(2).archived and [g.id for g in store.goals()] == [1]
        assert "(archived)" in screen_text(app)
        await pilot.press("enter")  # an archived goal is not switched to
        await pilot.pause()
        assert isinstance(app.screen, GoalsScreen)
        await pilot.press("a")
        await wait(pilot)
        with Store(project, create=False) as store:
            assert not store.goal(2).archived


async def test_fork_a_goal_copies_its_decisions_as_a_draft(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for keys in (["a"], ["x", "2"]):
            await pilot.press(*keys)
            await settle(pilot)
        await pilot.press("G", "f", "end", "ctrl+u", *"Answer billing questions, citing the policy.", "enter")
        await wait(pilot)
        assert isinstance(app.screen, GoalsScreen)
        assert app.session.goal.id == 1  # forking does not switch
    assert verdicts(project, 2) == {1: "keep", 2: "drop"}
    with Store(project, create=False) as store:
        assert store.goal(2).sentence == "Answer billing questions, citing the policy."
        assert rereview_count(store, 2) == 2
        assert store.active_goal().id == 1
