"""The conversation layouts of issue 15 item 2 on the review screen: every turn of a MOSS/Firefly
record and of a `### Human:` chat text is shown, the markers and pair keys are not."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tui_helpers import GOAL, app_for, screen_text, settle

from review.store import Store


def project(tmp_path: Path, record: dict) -> Path:
    src = tmp_path / "d.jsonl"
    src.write_text(json.dumps(record, ensure_ascii=False) + "\n", encoding="utf-8")
    with Store(tmp_path / "p.db") as store:
        store.import_file(src)
        store.add_goal(GOAL)
    return tmp_path / "p.db"


async def shows_all(pilot, app, texts: list[str]) -> str:
    for _ in range(100):
        shown = screen_text(app)
        if all(t in shown for t in texts):
            return shown
        await pilot.pause(0.05)
    raise AssertionError(f"not all of {texts!r} appeared:\n{screen_text(app)}")


@pytest.mark.parametrize(
    "record",
    [
        {
            "category": "Brainstorming",
            "conversation": [
                {"human": "Name a colour.", "assistant": "Blue is one."},
                {"human": "Another one?", "assistant": "Green, then."},
            ],
        },
        {
            "text": "### Human: Name a colour.### Assistant: Blue is one.### Human: Another one?### Assistant: Green, then."
        },
    ],
)
async def test_every_turn_is_on_the_screen(tmp_path: Path, record: dict) -> None:
    app = app_for(project(tmp_path, record))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = await shows_all(pilot, app, ["Name a colour.", "Blue is one.", "Another one?", "Green, then."])
        assert "###" not in shown and '"human"' not in shown
