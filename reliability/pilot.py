"""In-process helpers for Textual Pilot runs of the review screen, shared by the reliability
scenarios and the test suite (tests/tui/tui_helpers.py)."""

from __future__ import annotations


def screen_text(app) -> str:
    """The screen's visible text, line by line."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(seg.text for seg in strip) for strip in strips)


def pending_input(app) -> int:
    """Messages (keys typed ahead among them) still queued for the app, its screens or the focused
    widget. A test that ends while keys are queued has them handled as the app shuts down."""
    pumps = [app, *app.screen_stack]
    if app.screen_stack and app.focused is not None:
        pumps.append(app.focused)
    return sum(p.message_queue_size for p in pumps)


async def settle(pilot, *, tries: int = 200, message: str = "the review screen never settled") -> None:
    """Wait for workers and queued keys, then until the review screen is not busy and has painted
    its sample."""
    from tui.screens.review import ReviewScreen

    app = pilot.app
    for _ in range(tries):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if pending_input(app):
            continue
        screen = app.screen
        if not isinstance(screen, ReviewScreen):
            return
        if not screen.busy and (screen.view is None or screen.painted == screen.view.sample.id):
            return
    raise AssertionError(message)


async def wait_until(pilot, predicate, *, timeout: float = 20.0, message: str = "the condition never held") -> None:
    """Let the app run until `predicate()` is true; AssertionError after `timeout` seconds.

    The check of a key's effect on a loaded machine: a fixed pause is sometimes too short."""
    import time

    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"{message} (waited {timeout:.0f} s)")
        await pilot.pause(0.05)
