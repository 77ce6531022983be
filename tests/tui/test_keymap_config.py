"""The user's keymap ($WINNOW_CONFIG): conflicts reported at start naming the binding ids, the
help screen saying where the config lives and how it is written; the palette's screenshot saved
in the current (or configured) folder with a plain notice."""

from __future__ import annotations

import json

from tui_helpers import app_for, screen_text, settle

from tui.keys import KEY_TABLES, keymap_problems
from tui.screens.help import HelpScreen


def test_the_default_tables_have_no_conflicts():
    # With every binding id mapped to its own keys the check sees the tables as shipped.
    for where, bindings in KEY_TABLES.items():
        identity = {b.id: b.key for b in bindings if b.id}
        assert keymap_problems(identity, {where: bindings}) == [], where


def test_remapping_drop_to_n_names_drop_and_note():
    problems = keymap_problems({"drop": "n"}, KEY_TABLES)
    assert len(problems) == 1
    assert "n is bound to drop and note" in problems[0] or "n is bound to note and drop" in problems[0]
    assert "review screen" in problems[0]
    assert "give note another key" in problems[0]


def test_a_moved_key_that_frees_its_old_owner_is_fine_and_characters_are_named():
    # note moves off n first: drop may take it. "?" is question_mark, help's key.
    assert keymap_problems({"drop": "n", "note": "N"}, KEY_TABLES) == []
    problems = keymap_problems({"keep": "?"}, KEY_TABLES)
    assert problems and "question_mark is bound to keep and help" in problems[0]


def test_an_unknown_binding_id_is_reported():
    problems = keymap_problems({"dorp": "z"}, KEY_TABLES)
    assert problems == ["keymap: no binding with id 'dorp' — the ids are listed on the help screen (?)"]


async def test_a_conflicting_keymap_is_reported_at_start(project, tmp_path, monkeypatch):
    cfg = tmp_path / "winnow.json"
    cfg.write_text(json.dumps({"keymap": {"drop": "n"}}), encoding="utf-8")
    monkeypatch.setenv("WINNOW_CONFIG", str(cfg))
    from tui.app import load_config

    app = app_for(project, **load_config())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        notes = [n.message for n in app._notifications]
        hit = [m for m in notes if "keymap:" in m]
        assert hit, notes
        assert "drop" in hit[0] and "note" in hit[0] and str(cfg) in hit[0]


async def test_help_documents_winnow_config(project, tmp_path, monkeypatch):
    cfg = tmp_path / "my-config.json"
    monkeypatch.setenv("WINNOW_CONFIG", str(cfg))
    app = app_for(project)
    async with app.run_test(size=(120, 80)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        help_box = app.screen.query_one("#help-box")
        help_box.scroll_end(animate=False)
        await pilot.pause()
        text = screen_text(app)
        assert "my-config.json" in text
        assert "WINNOW_CONFIG" in text
        assert '{"keymap": {"keep": "y"' in text
        assert "make_app" not in text


async def test_palette_screenshot_saves_in_the_current_folder_without_downloads(project, tmp_path, monkeypatch):
    home = tmp_path / "home"  # no Downloads folder in it
    home.mkdir()
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(here)
    app = app_for(project)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        shot = next(c for c in app.get_system_commands(app.screen) if c.title == "Screenshot")
        shot.callback()
        for _ in range(50):
            await pilot.pause(0.05)
            if list(here.glob("*.svg")):
                break
        files = list(here.glob("*.svg"))
        assert len(files) == 1 and "<svg" in files[0].read_text(encoding="utf-8")
        notes = [n.message for n in app._notifications if "screenshot" in n.message]
        assert notes and files[0].name in notes[-1] and str(here.resolve()) in notes[-1]
        assert "[$" not in notes[-1]
        assert not (home / "Downloads").exists()


async def test_screenshot_folder_from_config_and_a_folder_that_cannot_be_written(project, tmp_path):
    shots = tmp_path / "shots"
    shots.mkdir()
    app = app_for(project, screenshot_dir=str(shots))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.action_screenshot()
        assert len(list(shots.glob("*.svg"))) == 1
    app = app_for(project, screenshot_dir=str(tmp_path / "missing"))
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.action_screenshot()
        await pilot.pause()
        notes = [n.message for n in app._notifications if "screenshot" in n.message]
        assert notes and notes[-1].startswith("screenshot not saved: ") and "missing" in notes[-1]
