"""A system prompt that other samples repeat takes one line of the review screen ("same as N other
samples"), counted once by a worker, from the next sample drawn on; p shows it whole (and back). A prompt no other sample has,
or one holding the search term, is shown whole. Pilot runs at 80x24 on real project files."""

from __future__ import annotations

from tui_helpers import app_for, build_project, chat, screen_text, settle

from reliability.pilot import wait_until
from review.store import Store

SHARED = (
    "You are the support assistant of Acme Hosting. Answer briefly and politely, cite the policy "
    "page you rely on, and never promise a refund that the policy does not grant."
)
OWN = "You are a pirate who answers only in rhymes."


def _records() -> list[dict]:
    return [
        chat("How do I reset my password?", "Open Settings, then Security.", SHARED),
        chat("Can I get a refund?", "Within 30 days, yes.", SHARED),
        chat("Where is my invoice?", "Under Billing.", SHARED),
        chat("Tell me about the sea.", "The sea is wide, the sea is deep.", OWN),
        chat("No system prompt here?", "None at all."),
    ]


def test_repeated_systems_counts_each_prompt_that_more_than_one_sample_carries(tmp_path):
    from review.store.samples import system_key

    path = build_project(tmp_path / "p.db", _records())
    with Store(path, create=False) as store:
        found = store.repeated_systems()
        assert found == {system_key(SHARED): 3}
        assert store.repeated_systems(cancelled=lambda: True) is None


async def _counted(pilot, app) -> None:
    """The worker has counted the prompts; the sample drawn before that stays as drawn, so step
    away and back to draw #1 again."""
    await wait_until(pilot, lambda: app.screen._systems is not None, message="the prompts were never counted")
    assert "never promise a refund" in screen_text(app)  # #1 as first drawn: whole
    await pilot.press("j", "k")
    await settle(pilot)
    await wait_until(pilot, lambda: "same as 2 other samples" in screen_text(app), message="never collapsed")


async def test_a_repeated_system_prompt_is_one_line_until_p(tmp_path):
    path = build_project(tmp_path / "p.db", _records())
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _counted(pilot, app)
        text = screen_text(app)
        assert "never promise a refund" not in text  # the prompt's end: only its start fits the line
        assert "p shows it" in text
        system_rows = [row for row in text.splitlines() if "SYSTEM" in row]
        assert len(system_rows) == 1, text
        assert "Open Settings, then Security." in text

        await pilot.press("p")
        await settle(pilot)
        text = screen_text(app)
        assert "same as 2 other samples" not in text
        assert "never promise a refund" in text, text

        await pilot.press("p")  # back to one line
        await settle(pilot)
        assert "same as 2 other samples" in screen_text(app)

        await pilot.press("j", "j", "j")  # #4: a prompt no other sample has is shown whole
        await settle(pilot)
        assert app.screen.view.sample.id == 4
        text = screen_text(app)
        assert "answers only in rhymes" in text and "other sample" not in text, text
        await pilot.press("p")  # nothing to expand: a bell and a word, the view unchanged
        await settle(pilot)
        assert app.screen.system_open is False


async def test_a_search_term_inside_the_repeated_prompt_shows_it_whole(tmp_path):
    path = build_project(tmp_path / "p.db", _records())
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await _counted(pilot, app)
        await pilot.press("slash")
        await settle(pilot)
        await pilot.press(*"refund that", "enter")
        await settle(pilot)
        text = screen_text(app)
        assert "never promise a refund" in text and "other samples" not in text, text
