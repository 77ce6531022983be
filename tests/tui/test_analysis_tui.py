"""Pilot tests: analysis from the review screen (A), cluster resolution (R), pair keys (< > D b).

The demo project (251 samples) has planted exact copies (#12, #34, #189), same-prompt pairs and,
once the style analysis has run, contradictions, drift and noise. The analysis worker gets a
deterministic embedder through `make_app(..., embedder=...)`; a gated one holds the run in its
semantic stage so a test can decide, or stop it, while it runs.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from tui_helpers import GOAL, on_disk, settle, verdicts

from review.demo import DEMO_PATH
from review.embed import FakeEmbedder
from review.session import ReviewSession
from review.store import Store
from tui.app import make_app
from tui.screens.dialogs import ReasonDialog
from tui.screens.review import ReviewScreen


class GatedEmbedder(FakeEmbedder):
    """A FakeEmbedder whose first batch waits until the test opens the gate."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.gate = threading.Event()

    def encode(self, texts: list[str]) -> np.ndarray:
        self.entered.set()
        self.gate.wait(timeout=20)
        return super().encode(texts)


@pytest.fixture
def demo(tmp_path) -> Path:
    path = tmp_path / "demo.db"
    with Store(path) as store:
        store.import_file(DEMO_PATH)
        store.add_goal(GOAL)
    return path


@pytest.fixture
def styled(demo) -> Path:
    """The demo project after a headless style analysis (conflict, style and noise flags)."""
    from review.style import run_style_analysis

    run_style_analysis(demo)
    return demo


def app_on(path: Path, embedder=None):
    return make_app(path, config={"cursor_blink": False}, embedder=embedder)


async def until(pilot, condition, what: str) -> None:
    """Pause until condition() holds. Never waits for workers: the analysis one may be gated."""
    deadline = time.monotonic() + 30  # generous: a loaded machine runs the worker slowly
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.025)
    raise AssertionError(f"timed out waiting for {what}")


async def painted(pilot) -> None:
    screen = pilot.app.screen
    await until(pilot, lambda: screen.view is not None and screen.painted == screen.view.sample.id, "a paint")


def flag_kinds(path: Path, sample_ids) -> dict[int, set[str]]:
    with Store(path, create=False) as store:
        session = ReviewSession(store, store.active_goal())
        return {sid: {f.kind for f in session.flags(store.sample(sid))} for sid in sample_ids}


def first_sample(path: Path, test) -> int:
    """The first sample whose flags pass test(flags)."""
    with Store(path, create=False) as store:
        session = ReviewSession(store, store.active_goal())
        for sid in range(1, store.total_samples() + 1):
            if test(session.flags(store.sample(sid))):
                return sid
    raise AssertionError("no such sample in the demo")


async def test_analysis_runs_from_the_key_while_decisions_go_on(demo):
    emb = GatedEmbedder()
    app = app_on(demo, emb)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, ReviewScreen)
        before = flag_kinds(demo, [36, 142])
        assert "lexical" not in before[36] and "style" not in before[142]
        await pilot.press("A")
        await until(pilot, emb.entered.is_set, "the semantic stage")
        assert screen.analysis_running and screen.query_one("#analysis-bar").display
        first = screen.view.sample.id
        await painted(pilot)
        await pilot.press("a")  # decided while the worker runs
        await painted(pilot)
        assert screen.analysis_running
        assert verdicts(demo) == {first: "keep"}
        assert screen.view.sample.id == first + 1
        emb.gate.set()
        await until(pilot, lambda: not screen.analysis_running, "the analysis to finish")
        done = screen.analysis_last
        assert done is not None and done.error is None and not done.cancelled
        assert "semantic" in done.summary and "contradictions" in done.summary
        assert not screen.query_one("#analysis-bar").display
        after = flag_kinds(demo, [36, 142])
        assert "lexical" in after[36] and "style" in after[142]
        assert verdicts(demo) == {first: "keep"}
        # The sample on screen shows its fresh flags.
        await pilot.press("colon", *"142", "enter")
        await painted(pilot)
        assert "style" in {f.kind for f in screen.flags}


@pytest.mark.parametrize("key", ["escape", "A"])
async def test_analysis_stops_and_keeps_what_it_found(demo, key):
    emb = GatedEmbedder()
    app = app_on(demo, emb)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("A")
        await until(pilot, emb.entered.is_set, "the semantic stage")
        await pilot.press(key)
        await pilot.pause()
        assert screen.analysis_running  # the thread is still inside encode
        assert "stopping" in str(screen.query_one("#analysis-label").render())
        emb.gate.set()
        await until(pilot, lambda: not screen.analysis_running, "the analysis thread to return")
        assert screen.analysis_last is not None and screen.analysis_last.cancelled
        assert screen.analysis_last.error is None
        kinds = flag_kinds(demo, [36, 142])
        assert "lexical" in kinds[36]  # exact and lexical finished before the stop: kept
        assert "style" not in kinds[142]  # the style analysis never started
        await painted(pilot)
        sid = screen.view.sample.id
        await pilot.press("a")  # the app goes on
        await painted(pilot)
        assert verdicts(demo) == {sid: "keep"}


async def test_keep_and_drop_the_cluster_is_one_undo_step(demo):
    app = app_on(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("colon", *"12", "enter")  # #12, #34 and #189 are exact copies
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        # [ and ] step through every member of the cluster.
        assert screen.partners[screen.partner_index].partner == 34
        await pilot.press("right_square_bracket")
        await settle(pilot)
        assert screen.partners[screen.partner_index].partner == 189
        await pilot.press("left_square_bracket")
        await settle(pilot)
        assert screen.partners[screen.partner_index].partner == 34
        await pilot.press("R")
        await settle(pilot)
        decisions = on_disk(demo)[0]
        assert {k: (d.verdict, d.reason) for k, d in decisions.items() if d.verdict} == {
            12: ("keep", None),
            34: ("drop", "duplicate"),
            189: ("drop", "duplicate"),
        }
        assert screen.view.sample.id == 13
        await pilot.press("u")
        await settle(pilot)
        assert {k: v for k, v in verdicts(demo).items() if v} == {}
        assert screen.view.sample.id == 12


async def test_cluster_key_does_nothing_without_a_cluster(demo):
    app = app_on(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert app.screen.view.sample.id == 1
        assert not [f for f in app.screen.flags if f.members[1:]]
        await pilot.press("R")
        await settle(pilot)
        assert verdicts(demo) == {}
        assert app.screen.view.sample.id == 1


@pytest.mark.parametrize(
    "key, expected",
    [
        ("less_than_sign", {"me": ("keep", None), "other": ("drop", "contradictory")}),
        ("greater_than_sign", {"me": ("drop", "contradictory"), "other": ("keep", None)}),
        ("D", {"me": ("drop", "contradictory"), "other": ("drop", "contradictory")}),
        ("b", {"me": ("keep", None), "other": ("keep", None)}),
    ],
)
async def test_pair_keys_resolve_a_contradiction(styled, key, expected):
    me = first_sample(styled, lambda flags: bool(flags) and flags[0].kind == "conflict" and flags[0].partner)
    app = app_on(styled)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("colon", *str(me), "enter", "c")
        await settle(pilot)
        flag = screen.partners[screen.partner_index]
        assert flag.kind == "conflict"
        other = flag.partner
        title = str(screen.query_one("#compare-title").render())
        assert "< keep this" in title and "b boundary" in title
        # No pair key before #me's answer was on screen (issue 12 item 12): since the sample under
        # judgment keeps two thirds of the stacked compare pane (12 of 18 rows at 80x24), its answer
        # is usually in view; when it is not, the key is refused with a note and PgDn shows it.
        await pilot.press(key)
        await settle(pilot)
        if not on_disk(styled)[0]:
            assert any("further down" in n.message for n in app._notifications)
            await pilot.press("pagedown")
            await settle(pilot)
            await pilot.press(key)
            await settle(pilot)
        decisions = on_disk(styled)[0]
        assert {"me": (decisions[me].verdict, decisions[me].reason)} | {
            "other": (decisions[other].verdict, decisions[other].reason)
        } == expected
        if key == "b":
            assert "boundary-pair" in decisions[me].tags and "boundary-pair" in decisions[other].tags
        await pilot.press("u")  # one undo step restores both
        await settle(pilot)
        decisions = on_disk(styled)[0]
        for sid in (me, other):
            assert decisions.get(sid) is None or (decisions[sid].verdict is None and not decisions[sid].tags)


async def test_pair_keys_do_nothing_without_a_pair_showing(demo):
    app = app_on(demo)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("less_than_sign", "greater_than_sign", "D", "b")  # compare pane closed
        await settle(pilot)
        await pilot.press("colon", *"12", "enter", "c")  # a duplicate cluster, not a pair
        await settle(pilot)
        await pilot.press("less_than_sign", "D", "b")
        await settle(pilot)
        assert verdicts(demo) == {}
        assert app.screen.view.sample.id == 12


@pytest.mark.parametrize("reason", ["noisy", "style-drift", "incomplete", "duplicate"])
async def test_enter_in_the_drop_dialog_takes_the_flags_reason(styled, reason):
    sid = first_sample(styled, lambda flags: next((f.reason for f in flags if f.reason), None) == reason)
    app = app_on(styled)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("colon", *str(sid), "enter")
        await settle(pilot)
        await pilot.press("x")
        await pilot.pause()
        assert isinstance(app.screen, ReasonDialog)
        await pilot.press("enter")
        await settle(pilot)
        d = on_disk(styled)[0][sid]
        assert (d.verdict, d.reason) == ("drop", reason)


def test_starting_the_app_loads_no_torch(demo):
    code = f"""
import asyncio, sys
from tui.app import make_app

async def main():
    app = make_app({str(demo)!r}, config={{"cursor_blink": False}})
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("j")
        await pilot.pause()

asyncio.run(main())
heavy = [m for m in ("torch", "sentence_transformers", "numpy", "rapidfuzz") if m in sys.modules]
print("heavy:", heavy)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "heavy: []" in out.stdout or "heavy: ['numpy']" in out.stdout, out.stdout
    assert "torch" not in out.stdout and "sentence_transformers" not in out.stdout


async def test_the_analysis_key_runs_every_pair_check(tmp_path):
    """A in the app runs the preference pair checks as `winnow analyze` does, check 2 (the noise
    rules on chosen and rejected) included."""
    import json

    def dpo(prompt: str, chosen: str, rejected: str) -> dict:
        return {
            "conversations": [{"from": "human", "value": prompt}],
            "chosen": {"from": "gpt", "value": chosen},
            "rejected": {"from": "gpt", "value": rejected},
        }

    src = tmp_path / "pairs.json"
    records = [
        dpo("List fruits.", "You can buy apples, pears and", "You can buy apples, pears and plums."),
        dpo("Name a colour.", "Blue.", "Blue."),
        dpo("Is it raining?", "Yes.", "No."),
    ]
    src.write_text(json.dumps(records), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
        store.add_goal(GOAL)
    app = app_on(db, FakeEmbedder())
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        screen = app.screen
        await pilot.press("A")
        await until(pilot, lambda: screen.analysis_last is not None, "the analysis to finish")
        assert screen.analysis_last.error is None
    kinds = flag_kinds(db, [1, 2, 3])
    assert "pair-noise" in kinds[1]  # chosen cut off, rejected whole
    assert "pair-same" in kinds[2]
    assert not {k for k in kinds[3] if k.startswith("pair")}
