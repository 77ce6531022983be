"""What the first paint and the queue picker no longer do (issue 16 item 7), checked on real
project files with Pilot at 80x24: the start-up imports leave out every screen, dialog and module
the first sample does not need (they still open on first use); the repeated-system-prompt count
starts only once the first sample is painted; the queue picker is built once and opened again,
its counts following the decisions; the footer is not rebuilt under a dialog, but is when its
keys change. Speed itself is measured in benchmarks/bench_tui.py, never here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tui_helpers import app_for, build_project, chat, screen_text, settle

from reliability.pilot import wait_until
from review.model import Queue
from tui.screens.dialogs import QueueDialog, ReasonDialog
from tui.screens.review import ReviewScreen

ROOT = Path(__file__).resolve().parents[2]

# Loaded on first use, never by opening a project at the review screen.
LAZY = [
    "rich.markdown",  # markdown off by default (m turns it on)
    "tui.screens.dialogs",
    "tui.screens.goal",  # only a project without a goal opens on it
    "tui.screens.goals",
    "tui.screens.bulk",
    "tui.screens.stats",
    "tui.screens.help",
    "tui.screens.fulltext",
    "tui.cli",
    "review.export",
    "review.style.features",  # ~40 patterns compiled at import
    "review.style.boundaries",
    "review.analysis.run",
    "review.style.run",
]
# Nor by opening a project: it reads the migrations applied with plain sqlite3 and the expected
# schema from review/schema_expected.py; sqlite-utils (and the numpy it imports) only migrate.
NOT_AT_OPEN = ["sqlite_utils", "numpy"]


def test_opening_the_review_screen_imports_none_of_the_screens_it_does_not_show():
    code = (
        "import json, sys\n"
        "from tui.app import make_app\n"
        "from tui.screens.review import ReviewScreen\n"
        f"print(json.dumps([m for m in {LAZY!r} if m in sys.modules]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []


def test_opening_a_project_at_the_review_screen_imports_neither_sqlite_utils_nor_the_lazy_modules(tmp_path):
    """In a fresh process, a real project opened at the review screen through Pilot, its first
    sample painted: neither sqlite_utils nor numpy was imported, nor any of LAZY but the dialogs
    (loaded by a worker once the sample is painted)."""
    path = build_project(tmp_path / "p.db", [chat(f"Question {i}?", f"Answer {i}.") for i in range(5)])
    code = f"""
import asyncio, json, sys
sys.path.insert(0, {str(ROOT / "tests" / "tui")!r})
from tui_helpers import app_for, settle
from tui.screens.review import ReviewScreen

async def main():
    app = app_for({str(path)!r})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen), app.screen
        print(json.dumps([m for m in {[m for m in LAZY if m != "tui.screens.dialogs"] + NOT_AT_OPEN!r} if m in sys.modules]))

asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_lazily_loaded_dialogs_and_screens_still_open(tmp_path):
    """In a fresh process (nothing imported by another test): a project without a goal opens
    on the goal dialog; then x opens the reason dialog, f the picker, ? the help, s the stats."""
    path = build_project(tmp_path / "p.db", [chat(f"Question {i}?", f"Answer {i}.") for i in range(5)], goal=None)
    code = f"""
import asyncio, json, sys
sys.path.insert(0, {str(ROOT / "tests" / "tui")!r})
from tui_helpers import app_for, settle
from tui.screens.review import ReviewScreen

async def main():
    seen = []
    app = app_for({str(path)!r})
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        seen.append(type(app.screen).__name__)
        await pilot.press(*"Keep short answers.", "enter")
        await settle(pilot)
        seen.append(type(app.screen).__name__)
        for key in ("x", "f", "question_mark", "s"):
            await pilot.press(key)
            await settle(pilot)
            seen.append(type(app.screen).__name__)
            await pilot.press("escape")
            await settle(pilot)
            assert isinstance(app.screen, ReviewScreen), (key, app.screen)
    print(json.dumps(seen))

asyncio.run(main())
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-3000:]
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [
        "GoalDialog",
        "ReviewScreen",
        "ReasonDialog",
        "QueueDialog",
        "HelpScreen",
        "StatsScreen",
    ]


async def test_the_system_prompt_count_starts_after_the_first_paint(project):
    app = app_for(project)
    started: list[int | None] = []
    count = ReviewScreen._count_systems

    def counting(screen: ReviewScreen) -> None:
        started.append(screen.painted)  # the sample painted when the worker is started
        count(screen)

    ReviewScreen._count_systems = counting  # type: ignore[method-assign]
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            await wait_until(pilot, lambda: app.screen._systems is not None, message="never counted")
            await pilot.press("j", "k")
            await settle(pilot)
    finally:
        ReviewScreen._count_systems = count  # type: ignore[method-assign]
    assert started == [1]  # once, with #1 already on the terminal


def _lines(dialog: QueueDialog) -> dict[Queue, str]:
    return {q: label for label, q in dialog.choices}


async def _open_picker(pilot, app) -> QueueDialog:
    await pilot.press("f")
    await wait_until(pilot, lambda: isinstance(app.screen, QueueDialog), message="the picker never opened")
    await settle(pilot)
    return app.screen


async def test_the_picker_is_built_once_and_its_counts_follow_the_decisions(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        first = await _open_picker(pilot, app)
        assert _lines(first)[Queue("kept")] == "kept (0) · a keeps a sample"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("a")  # keep #1
        await settle(pilot)
        again = await _open_picker(pilot, app)
        assert again is first  # the same screen, opened again
        lines = _lines(again)
        assert lines[Queue("kept")] == "kept (1)" and lines[Queue("undecided")] == "undecided (29)"
        text = screen_text(app)
        assert "kept (1)" in text and "undecided (29)" in text and "kept (0)" not in text
        await pilot.press("escape")
        await settle(pilot)
        # A drop with a reason adds a line ("dropped as ..."): the list is rebuilt, not patched.
        await pilot.press("x")
        await wait_until(pilot, lambda: isinstance(app.screen, ReasonDialog), message="no reason dialog")
        await pilot.press("enter")  # the suggested reason
        await settle(pilot)
        dialog = await _open_picker(pilot, app)
        assert dialog is first
        reasons = [label for label, q in dialog.choices if q.kind == "reason"]
        assert len(reasons) == 1 and reasons[0].endswith("(1)"), dialog.choices
        assert _lines(dialog)[Queue("dropped")] == "dropped (1)"
        option_list = dialog.query_one("OptionList")
        assert option_list.option_count == len(dialog.choices)
        assert str(option_list.get_option_at_index(4).prompt) == reasons[0]
        assert reasons[0] in screen_text(app)
        # The highlight is on the current queue, and picking still works on the reused picker.
        assert dialog.choices[option_list.highlighted][1] == Queue("all")
        option_list.highlighted = 2  # kept
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen) and app.screen.session.queue == Queue("kept")
        dialog = await _open_picker(pilot, app)
        assert dialog.choices[dialog.query_one("OptionList").highlighted][1] == Queue("kept")


async def test_a_count_made_for_an_earlier_opening_is_not_shown(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        dialog = await _open_picker(pilot, app)
        old = dialog.generation
        await pilot.press("escape")
        await settle(pilot)
        await _open_picker(pilot, app)
        assert dialog.generation == old + 1
        await wait_until(pilot, lambda: "counting" not in _lines(dialog)[Queue("batch")], message="never counted")
        dialog.show_count(Queue("batch"), "proposed batch (7)", 7, old)  # a late answer to the first opening
        await settle(pilot)
        assert _lines(dialog)[Queue("batch")] == "proposed batch (0) · B proposes a batch"
        dialog.show_count(Queue("batch"), "proposed batch (7)", 7, dialog.generation)
        await settle(pilot)
        assert _lines(dialog)[Queue("batch")] == "proposed batch (7)"
        assert "proposed batch (7)" in screen_text(app)


async def test_the_footer_is_not_rebuilt_under_a_dialog_but_follows_a_new_keymap(project):
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        keys = list(screen.query("FooterKey"))
        assert any(k.key == "a" for k in keys)
        for key in ("f", "x"):
            await pilot.press(key)
            await settle(pilot)
            await pilot.press("escape")
            await settle(pilot)
        assert app.screen is screen and list(screen.query("FooterKey")) == keys  # the same widgets
        app.update_keymap({"keep": "y"})
        await settle(pilot)
        rebuilt = list(screen.query("FooterKey"))
        assert rebuilt != keys and any(k.key == "y" for k in rebuilt) and not any(k.key == "a" for k in rebuilt)
        assert "y Keep" in screen_text(app)
