"""The off-goal line on the review screen (issue 14 item 6): scored by the analysis, read from the
store when a sample is shown; the "off_goal" queue opens on the most off-goal sample."""

from __future__ import annotations

import pytest
from tui_helpers import app_for, build_project, chat, screen_text, settle

from review.embed import default_embedder
from review.model import Queue
from review.relevance import score_goal
from review.store import Change, Store
from tui.screens.review import ReviewScreen

GOAL = "Answer billing questions with the 30-day refund policy, briefly."


def _records() -> list[dict]:
    billing = [
        chat("Can I get a refund for my subscription?", "Yes: refunds are given within 30 days of purchase."),
        chat("I was charged twice this month, what do I do?", "We refund the duplicate charge within 5 days."),
        chat("How do I update the card on my account?", "Billing → Payment method → Replace card."),
        chat("Why is my invoice higher than last month?", "The annual plan renewed; the invoice lists it."),
        chat("Can I get my money back after 20 days?", "Yes, any purchase within 30 days can be refunded."),
        chat("Where can I download my invoices?", "Billing → Invoices: each one downloads as a PDF."),
        chat("Do you refund unused months of a yearly plan?", "Within 30 days of renewal, yes, in full."),
        chat("I want a refund, it has been 45 days.", "Sorry, refunds are only possible within 30 days."),
    ]
    return [
        *billing[:4],
        chat("Give me a recipe for banana bread.", "Mash 3 bananas, add flour and eggs, bake 1 h."),
        *billing[4:],
    ]


async def test_the_off_goal_flag_shows_on_the_sample_at_80x24(tmp_path):
    emb = default_embedder()
    if "e5" not in emb.model_id:
        pytest.skip(f"the multilingual model cannot run here: {getattr(emb, 'note', '')}")
    path = build_project(tmp_path / "p.db", _records(), goal=GOAL)
    with Store(path) as store:
        goal = store.active_goal()
        assert goal is not None
        store.apply(goal.id, [Change(sid, "keep") for sid in (1, 2, 3)])
        summary = score_goal(store, goal.id, emb)
        assert summary is not None and summary.flagged >= 1
        store.save_goal_state(goal.id, None, Queue("off_goal"))
    app = app_for(path)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        text = screen_text(app)
        assert "banana" in text, text  # the queue opens on the recipe, the one off-goal sample
        assert "⚑ off-goal · " in text and "to the goal (typical" in text, text
        assert "off-goal first" in text, text  # the decision bar names the queue
