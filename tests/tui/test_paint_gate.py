"""The paint gate (tui/paint_gate.py) relies on private hooks of textual.screen.Screen.

These tests fail loudly, naming the hook, when a Textual upgrade renames one, changes its
parameters, or stops painting through it; then the review screen's type-ahead safety would be
silently gone (decision keys would act on a sample never painted, or never act at all).
"""

from __future__ import annotations

import inspect
import time

import pytest
from textual.app import App, ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from tui.paint_gate import PRIVATE_ATTRIBUTES, PRIVATE_HOOKS, PaintGatedScreen

DEADLINE_S = 10.0  # generous: the machine is shared; a paint takes milliseconds


@pytest.mark.parametrize("hook", sorted(PRIVATE_HOOKS))
def test_the_private_hooks_exist_with_the_expected_parameters(hook):
    method = getattr(Screen, hook, None)
    assert callable(method), (
        f"textual.screen.Screen.{hook} is gone (Textual upgrade?): tui/paint_gate.py overrides it to "
        "learn when a frame reached the terminal — find the new hook and update PaintGatedScreen"
    )
    params = tuple(inspect.signature(method).parameters)
    assert params == PRIVATE_HOOKS[hook], (
        f"textual.screen.Screen.{hook} now takes {params}, the paint gate calls it with {PRIVATE_HOOKS[hook]} "
        "— update tui/paint_gate.py (and PRIVATE_HOOKS)"
    )


def test_the_layout_pass_paints_through_the_compositor_refresh_hook():
    # The gate counts the frame `_refresh_layout` paints as complete: it must paint through
    # `_compositor_refresh`, the other hook (not some new path the gate would not see).
    source = inspect.getsource(Screen._refresh_layout)
    assert "self._compositor_refresh()" in source, (
        "textual.screen.Screen._refresh_layout no longer calls self._compositor_refresh(): the paint gate "
        "(tui/paint_gate.py) would miss the frame painted after a layout pass"
    )


@pytest.mark.parametrize("name", PRIVATE_ATTRIBUTES)
def test_the_private_attributes_exist(name):
    screen = Screen()
    assert isinstance(getattr(screen, name, None), set if name == "_dirty_widgets" else bool), (
        f"textual Screen().{name} is gone or no longer of its type (Textual upgrade?): tui/paint_gate.py reads "
        "it to tell a complete frame from a stale one, and whether a refresh is still to come"
    )


class GatedScreen(PaintGatedScreen[None]):
    """The smallest screen using the gate: one Static showing 'sample' `shown`."""

    def __init__(self) -> None:
        super().__init__()
        self.shown: int | None = None
        self.painted_in_layout: list[bool] = []  # per sample marked painted: inside _refresh_layout?

    def compose(self) -> ComposeResult:
        yield Static(id="sample")

    def _shown_id(self) -> int | None:
        return self.shown

    def _answer_on_screen(self) -> bool:
        return self.query_one("#sample", Static).region.height > 0

    def _mark_painted(self, sample_id: int) -> None:
        before = self.painted
        super()._mark_painted(sample_id)
        if self.painted == sample_id and before != sample_id:
            self.painted_in_layout.append(self._in_layout)

    def show(self, sample_id: int, *, rows: int, layout: bool) -> None:
        self.shown = sample_id
        self.query_one("#sample", Static).update(f"sample #{sample_id}" + "\nmore" * (rows - 1), layout=layout)
        self._await_paint(sample_id)


class GatedApp(App[None]):
    def on_mount(self) -> None:
        self.push_screen(GatedScreen())


async def wait_for(pilot, condition, what: str) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.01)
    raise AssertionError(
        f"timed out ({DEADLINE_S:.0f} s) waiting for {what}: the paint gate no longer sees Textual's paints "
        "through Screen._compositor_refresh / Screen._refresh_layout (Textual upgrade?) — see tui/paint_gate.py"
    )


async def test_the_gate_sees_a_paint_on_a_real_run():
    app = GatedApp()
    async with app.run_test(size=(40, 10)) as pilot:
        screen = app.screen
        assert isinstance(screen, GatedScreen)
        await pilot.pause()
        # Same height as before: no layout pass; taller: Textual reflows, then paints.
        for sample_id, rows, layout in ((1, 1, False), (2, 3, True), (3, 3, False)):
            screen.show(sample_id, rows=rows, layout=layout)
            assert screen.painted is None and screen.answer_seen is None, "nothing counts as painted before a frame"
            await wait_for(
                pilot, lambda sid=sample_id: screen.painted == sid, f"sample #{sample_id} to be marked painted"
            )
            await wait_for(
                pilot, lambda sid=sample_id: screen.answer_seen == sid, f"sample #{sample_id}'s answer to be seen"
            )
        # The taller sample (a layout pass pending) was marked from the frame `_refresh_layout`
        # painted, never from a stale frame before it. (The others may or may not meet a layout
        # pass, depending on timing: either is right.)
        assert len(screen.painted_in_layout) == 3
        assert screen.painted_in_layout[1] is True, "the frame painted by the layout pass was not the one marked"


async def test_a_sample_replaced_before_its_frame_is_not_marked():
    app = GatedApp()
    async with app.run_test(size=(40, 10)) as pilot:
        screen = app.screen
        assert isinstance(screen, GatedScreen)
        await pilot.pause()
        screen.show(1, rows=1, layout=False)
        screen.shown = 2  # the screen moved on before sample #1 reached the terminal
        await pilot.pause()
        await pilot.pause()
        assert screen.painted is None, "a sample no longer on screen must not count as painted"
