"""Preference decisions from the keyboard (issue 15): S swaps a pair, Z drops it as both bad, L
flips a KTO label; each is in the project file before the screen moves on, u undoes it, and an
export writes exactly those changes. Real Textual Pilot runs at 80x24 on files written here."""

from __future__ import annotations

import json
from pathlib import Path

from test_preference_tui import pair, project, shows, write_json
from tui_helpers import app_for, settle

from review.export import export
from review.store import Store


def decisions(db: Path) -> dict:
    with Store(db, create=False) as s:
        g = s.goals()[0]
        return s.decisions_of(g.id, [sm.id for sm in s.iter_samples()])


async def test_swap_both_bad_and_undo_from_the_keyboard_then_export(tmp_path):
    recs = [pair(f"Question {i}?", f"Good answer {i}.", f"Bad answer {i}.") for i in range(5)]
    src = write_json(tmp_path / "dpo.json", recs)
    db = project(tmp_path / "p.db", src)
    app = app_for(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await shows(pilot, app, " REJECTED ")
        await pilot.press("S")  # #1 swapped, on to #2
        await settle(pilot)
        d = decisions(db)
        assert d[1].verdict == "keep" and d[1].pref == "swapped"
        await pilot.press("Z")  # #2 both bad
        await settle(pilot)
        d = decisions(db)
        assert d[2].verdict == "drop" and d[2].pref == "both-bad"
        await pilot.press("S")  # #3 swapped, then undone: undecided again
        await settle(pilot)
        assert decisions(db)[3].pref == "swapped"
        await pilot.press("u")
        await settle(pilot)
        d3 = decisions(db).get(3)
        assert d3 is None or (d3.verdict is None and not d3.pref)
        await pilot.press("k", "k")  # back on #1: the screen says it is kept swapped
        await settle(pilot)
        await shows(pilot, app, "KEPT · swapped")
        await pilot.press("L")  # not a KTO record: refused, nothing written
        await settle(pilot)
        assert any("no KTO label" in n.message for n in app._notifications)
        assert decisions(db)[1].pref == "swapped"
    with Store(db, create=False) as s:
        g = s.goals()[0]
        export(s, g, tmp_path / "out.json")
    out = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert len(out) == 1  # only #1 was kept
    assert out[0]["chosen"]["value"] == "Bad answer 0." and out[0]["rejected"]["value"] == "Good answer 0."
    manifest = json.loads((tmp_path / "out.json.manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"]["swapped"] == 1 and manifest["counts"]["both_bad"] == 1


async def test_a_kto_label_flipped_from_the_keyboard(tmp_path):
    msgs = [{"role": "user", "content": "Hi?"}, {"role": "assistant", "content": "Hello."}]
    src = write_json(tmp_path / "kto.json", [{"messages": msgs, "label": True}, {"messages": msgs, "label": False}])
    db = project(tmp_path / "p.db", src)
    app = app_for(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await shows(pilot, app, "Hello.")
        await pilot.press("S")  # not a pair: refused
        await settle(pilot)
        assert any("not a preference pair" in n.message for n in app._notifications)
        assert not decisions(db)
        await pilot.press("L")
        await settle(pilot)
        d = decisions(db)
        assert d[1].verdict == "keep" and d[1].pref == "flipped"
    with Store(db, create=False) as s:
        export(s, s.goals()[0], tmp_path / "out.json")
    out = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert out == [{"messages": msgs, "label": False}]


async def test_the_real_dpo_demo_three_swaps_two_both_bad_from_the_keyboard(tmp_path):
    """Issue 15's done-when on ../shared's LLaMA-Factory DPO demo: from the keyboard at 80x24,
    swap #1, #3, #5 and mark #2, #4 both bad, keep the rest with `*`; the export is the source
    with exactly those five changes, and its manifest says so."""
    import pytest

    from review.store import Change

    src = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "llamafactory_dpo_en_demo.json"
    if not src.exists():
        pytest.skip(f"{src} is absent: the real datasets live beside the repository, not in it")
    db = project(tmp_path / "p.db", src)
    app = app_for(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await shows(pilot, app, " REJECTED ")
        for n, key in enumerate(("S", "Z", "S", "Z", "S"), 1):  # each decides the pair on screen, then moves on
            for _ in range(12):
                await pilot.press(key)
                await settle(pilot)
                if len(decisions(db)) == n:
                    break
                # a long prompt: the key acts only once the answers are on screen ("PgDn shows it")
                assert "the answer is further down: PgDn shows it" in list(app._notifications)[-1].message
                await pilot.press("pagedown")
                await settle(pilot)
    d = decisions(db)
    assert [(d[i].verdict, d[i].pref) for i in range(1, 6)] == [
        ("keep", "swapped"),
        ("drop", "both-bad"),
        ("keep", "swapped"),
        ("drop", "both-bad"),
        ("keep", "swapped"),
    ]
    with Store(db, create=False) as s:
        g = s.goals()[0]
        s.apply(g.id, [Change(i, "keep") for i in range(6, 301)], kind="batch")
        export(s, g, tmp_path / "out.json")
    records = json.loads(src.read_text(encoding="utf-8"))
    out = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    swapped = [{**r, "chosen": r["rejected"], "rejected": r["chosen"]} for r in (records[0], records[2], records[4])]
    assert out == [swapped[0], swapped[1], swapped[2], *records[5:]]
    counts = json.loads((tmp_path / "out.json.manifest.json").read_text(encoding="utf-8"))["counts"]
    assert (counts["swapped"], counts["both_bad"], counts["kept"], counts["dropped"]) == (3, 2, 298, 2)
