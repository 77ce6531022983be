"""A goal edited or archived by another process while the review screen is open (issue 12, item 11).

The screen painted the goal at some revision; every write it makes compares that revision with the
file's inside the write transaction. A goal reworded elsewhere: nothing is written, the screen
shows the new wording and the key is not applied. An archived goal: writes are refused. `winnow
stats` and `winnow export` name an archived goal instead of saying there is none.

Real project files, a real Pilot, and the CLI (CliRunner: its own connection, as another process
has) changing the goal while the app holds the project open.
"""

from __future__ import annotations

import json
import sqlite3

import pytest
from builders import chat, write_jsonl
from click.testing import CliRunner

from reliability.pilot import screen_text, settle, wait_until
from review.goals import archive_goal, edit_goal, rereview_count
from review.store import Change, GoalArchived, GoalChanged, Store
from tui.cli import cli

OLD = "Answer billing questions with the 30-day policy, briefly."
NEW = "Answer billing questions with the 14-day policy, and cite it."


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "p.db"
    src = write_jsonl(tmp_path / "train.jsonl", [chat(f"Question {i}?", f"Answer {i}.") for i in range(1, 31)])
    with Store(path) as store:
        store.import_file(src)
        store.add_goal(OLD)
    return path


def winnow(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def actions(path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM actions").fetchone()[0]


def verdicts(path, goal_id: int = 1) -> dict[int, str | None]:
    with Store(path, create=False) as store:
        return {sid: d.verdict for sid, d in store.materialised_decisions(goal_id).items()}


def messages(app) -> list[str]:
    return [n.message for n in app._notifications]


async def wait_for(pilot, condition, what: str) -> None:
    await wait_until(pilot, condition, message=f"timed out waiting for {what}")


def app_for(path):
    from tui.app import make_app

    return make_app(path, config={"cursor_blink": False})


# ---------------------------------------------------------------------- the store


def test_every_edit_and_archive_bumps_the_goal_revision(db):
    with Store(db, create=False) as store:
        assert store.goal(1).revision == 0
        edit_goal(store, 1, NEW)
        assert store.goal(1).revision == 1
        edit_goal(store, 1, hypothesis="refunds are the hard part")
        assert store.goal(1).revision == 2
        assert edit_goal(store, 1, NEW)[1] == ["nothing changed"] and store.goal(1).revision == 2
        archive_goal(store, 1)
        assert store.goal(1).revision == 3 and store.goal(1).archived
        archive_goal(store, 1, archived=False)
        assert store.goal(1).revision == 4 and not store.goal(1).archived


def test_a_write_under_a_revision_another_connection_changed_is_rolled_back(db):
    with Store(db, create=False) as mine, Store(db, create=False) as other:
        seen = mine.goal(1)
        mine.apply(1, [Change(1, "keep")], revision=seen.revision)
        edit_goal(other, 1, NEW)
        before = actions(db)
        with pytest.raises(GoalChanged) as e:
            mine.apply(1, [Change(2, "keep")], revision=seen.revision)
        assert e.value.goal.sentence == NEW and e.value.goal.revision == seen.revision + 1
        with pytest.raises(GoalChanged):
            mine.undo(1, revision=seen.revision)
        assert actions(db) == before and verdicts(db) == {1: "keep"}
        mine.apply(1, [Change(2, "keep")], revision=e.value.goal.revision)  # under the wording now in the file
        assert verdicts(db) == {1: "keep", 2: "keep"}


def test_the_revision_is_compared_inside_the_write_transaction(db):
    """Another process edits the goal in the instant between the caller's last read and its
    BEGIN IMMEDIATE: a check made before the transaction would miss it; the one inside sees it."""

    class Racing(sqlite3.Connection):
        armed = False

        def execute(self, sql, *args):  # type: ignore[override]
            if sql == "BEGIN IMMEDIATE" and Racing.armed:
                Racing.armed = False
                with Store(db, create=False) as other:
                    edit_goal(other, 1, NEW)
            return super().execute(sql, *args)

    class RacingStore(Store):
        connection_class = Racing

    with RacingStore(db, create=False) as store:
        seen = store.goal(1)
        Racing.armed = True
        with pytest.raises(GoalChanged):
            store.apply(1, [Change(1, "keep")], revision=seen.revision)
    assert verdicts(db) == {} and actions(db) == 0


def test_nothing_is_written_into_an_archived_goal(db):
    with Store(db, create=False) as store:
        store.apply(1, [Change(1, "keep")])
        archive_goal(store, 1)
        with pytest.raises(GoalArchived, match=r"goal #1 is archived — nothing was written; restore it"):
            store.apply(1, [Change(2, "keep")])
        with pytest.raises(GoalArchived):
            store.undo(1)
    assert verdicts(db) == {1: "keep"} and actions(db) == 1


# ---------------------------------------------------------------------- the review screen


async def test_a_goal_reworded_from_the_cli_is_shown_and_the_key_not_applied(db):
    app = app_for(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")  # under the old wording: fine
        await settle(pilot)
        assert verdicts(db) == {1: "keep"}
        assert OLD[:40] in screen_text(app)

        r = winnow("goal", "edit", "1", "--sentence", NEW, "--db", str(db))
        assert r.exit_code == 0, r.output
        before = actions(db)
        await pilot.press("a")  # the sample #2 was judged under a wording that is gone
        await settle(pilot)
        assert actions(db) == before and verdicts(db) == {1: "keep"}, "nothing is written"
        assert any("goal #1 was reworded by another process: nothing was written" in m for m in messages(app))
        text = screen_text(app)
        assert NEW[:40] in text and OLD[:40] not in text, "the screen shows the new wording"
        assert "#2 / 30" in text, "the key was not applied: the same sample waits to be judged again"

        await pilot.press("a")  # judged again, under the wording on screen
        await settle(pilot)
        assert verdicts(db) == {1: "keep", 2: "keep"}
    with Store(db, create=False) as store:
        # #2 was decided under the new wording; only #1 (decided before the edit) needs re-review.
        assert rereview_count(store, 1) == 1


async def test_moving_on_shows_a_goal_reworded_elsewhere_before_any_key_decides(db):
    app = app_for(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert winnow("goal", "edit", "1", "--sentence", NEW, "--db", str(db)).exit_code == 0
        await pilot.press("j")
        await settle(pilot)
        assert NEW[:40] in screen_text(app).splitlines()[0]
        assert "goal #1 was reworded by another process — the new wording is above" in messages(app)
        await pilot.press("a")  # judged with the new wording on screen: it counts at once
        await settle(pilot)
        assert verdicts(db) == {2: "keep"}


async def test_a_goal_archived_from_the_cli_refuses_every_write(db):
    app = app_for(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert verdicts(db) == {1: "keep"}

        r = winnow("goal", "archive", "1", "--db", str(db))
        assert r.exit_code == 0, r.output
        before = actions(db)
        await pilot.press("a")
        await settle(pilot)
        await wait_for(pilot, lambda: any("archived by another process" in m for m in messages(app)), "the message")
        msg = next(m for m in messages(app) if "archived by another process" in m)
        assert msg == "goal #1 was archived by another process: nothing was written — G: restore it or pick a goal"
        assert "(archived)" in screen_text(app).splitlines()[0]
        await pilot.press("a")  # still archived: still refused
        await settle(pilot)
        await pilot.press("u")  # an undo writes too
        await settle(pilot)
        assert actions(db) == before and verdicts(db) == {1: "keep"}

        r = winnow("goal", "archive", "1", "--restore", "--db", str(db))
        assert r.exit_code == 0, r.output
        await pilot.press("a")  # restored elsewhere: this key is refused once more, the goal re-read
        await settle(pilot)
        assert verdicts(db) == {1: "keep"}
        assert "(archived)" not in screen_text(app).splitlines()[0]
        await pilot.press("a")
        await settle(pilot)
        assert verdicts(db) == {1: "keep", 2: "keep"}


async def test_a_goal_archived_elsewhere_and_restored_in_the_app_takes_the_next_key(db):
    from tui.screens.goals import GoalsScreen

    app = app_for(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert winnow("goal", "archive", "1", "--db", str(db)).exit_code == 0
        await pilot.press("a")
        await settle(pilot)
        assert verdicts(db) == {} and "(archived)" in screen_text(app).splitlines()[0]
        await pilot.press("G")
        await wait_for(pilot, lambda: isinstance(app.screen, GoalsScreen), "the goals screen")
        await pilot.press("a")  # restore it, here
        await wait_for(pilot, lambda: any("goal #1 restored" in m for m in messages(app)), "the restore")
        await pilot.press("escape")
        await settle(pilot)
        assert "(archived)" not in screen_text(app).splitlines()[0]
        await pilot.press("a")
        await settle(pilot)
        assert verdicts(db) == {1: "keep"}


async def test_rewording_the_goal_in_the_app_itself_does_not_refuse_its_own_next_key(db):
    from tui.screens.goals import GoalEditDialog

    app = app_for(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("G", "e")
        await wait_for(pilot, lambda: isinstance(app.screen, GoalEditDialog), "the edit dialog")
        app.screen.dismiss((NEW, ""))
        await pilot.press("escape")  # back to reviewing
        await settle(pilot)
        await wait_for(pilot, lambda: NEW[:40] in screen_text(app), "the new wording on the review screen")
        await pilot.press("a")
        await settle(pilot)
        assert verdicts(db) == {1: "keep"}
        assert not any("another process" in m for m in messages(app))


# ---------------------------------------------------------------------- stats and export


@pytest.fixture
def archived(db):
    with Store(db, create=False) as store:
        store.apply(1, [Change(s, "keep") for s in range(1, 23)], kind="batch")
        store.apply(1, [Change(23, "drop", "off-goal")])
    r = winnow("goal", "archive", "1", "--db", str(db))
    assert r.exit_code == 0, r.output
    return db


def test_stats_names_an_archived_goal_instead_of_saying_there_is_none(archived):
    r = winnow("stats", "--db", str(archived))
    assert r.exit_code == 0, r.output
    assert "no goals yet" not in r.output
    assert (
        f"goal #1 “{OLD}” is archived; 22 kept, 1 dropped — restore it with `winnow goal archive 1 --restore"
        in r.output
    )
    assert "or name it with --goal 1" in r.output

    data = json.loads(winnow("stats", "--db", str(archived), "--json").output)
    assert data["goals"] == []  # the goals in use
    assert data["archived_goals"] == [{"id": 1, "sentence": OLD, "kept": 22, "dropped": 1, "undecided": 7}]

    r = winnow("stats", "--db", str(archived), "--goal", "1")
    assert r.exit_code == 0 and "goal #1 (archived):" in r.output and "kept 22 · dropped 1" in r.output


def test_export_names_an_archived_goal_and_exports_it_when_asked_by_number(archived, tmp_path):
    out = tmp_path / "kept.jsonl"
    r = CliRunner().invoke(cli, ["export", "--db", str(archived), "-o", str(out)])
    assert r.exit_code != 0 and not out.exists()
    assert "no active goal — goal #1" in r.output and "is archived; 22 kept" in r.output
    assert "--goal 1" in r.output and "no goal yet" not in r.output

    r = CliRunner().invoke(cli, ["export", "--db", str(archived), "--goal", "1", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "note: goal #1 is archived; exporting its kept samples as they stand" in r.output
    assert len(out.read_text(encoding="utf-8").splitlines()) == 22
