"""Style drift: the drifting features are named, with the counts behind them, beside the typical answer."""

from __future__ import annotations

import json

import numpy as np

from review.model import Queue
from review.queues import default_queues
from review.session import ReviewSession
from review.store import Store
from review.style import features as F
from review.style import run_style_analysis, style_flags
from review.style.drift import compute_drift
from review.style.fingerprint import fingerprint

HOUSE = [
    (
        "How do I reset my password on the website?",
        "Click Forgot password on the sign-in page and follow the link we "
        "email you. Let me know if you need anything else.",
    ),
    (
        "How do I reset my password in the app?",
        "Tap Forgot password on the app's sign-in screen and follow the "
        "link we email you. Let me know if you need anything else.",
    ),
    (
        "How do I reset my password if the link expired?",
        "Reset links last an hour, so request a new one from the "
        "sign-in page and use the newest email. Let me know if it fails again.",
    ),
    (
        "How do I reset my password without email access?",
        "Use the account recovery form and we confirm it is "
        "yours within two days. Let me know if you need anything else.",
    ),
    (
        "How do I change my password on the desktop app?",
        "After a password change the desktop app needs a fresh "
        "sign-in, so sign out and back in. Let me know if it keeps asking.",
    ),
    (
        "How do I reset my password when no email arrives?",
        "Check your spam folder and make sure you typed the "
        "address you signed up with. Let me know if nothing arrives in ten minutes.",
    ),
    (
        "How do I reset my password on every device?",
        "A reset signs you out on every device, so sign in again "
        "with the new password. Let me know if you have any other questions.",
    ),
]
DRIFT_Q = "How do I pick a strong password when I reset my password?"
DRIFT_A = (
    "Tips for a strong password:\n- Use 12 or more characters\n- Mix words and numbers\n- Never reuse it\n"
    "Let me know if you need anything else."
)


def write(tmp_path, pairs, extra: list[dict] | None = None):
    path = tmp_path / "d.jsonl"
    recs = [{"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]} for q, a in pairs]
    for r, e in zip(recs, extra or []):
        r.update(e)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(path)
    return db


def test_bullet_list_drift_is_named_with_counts_beside_the_typical_answer(tmp_path):
    db = write(tmp_path, [*HOUSE, (DRIFT_Q, DRIFT_A)])
    summary = run_style_analysis(db)
    assert summary.drift == 1
    with Store(db) as s:
        sample = s.sample(8)
        [flag] = [f for f in style_flags(s, 0, sample) if f.kind == "style"]
        assert flag.label.startswith("style drift ") and "bullet list" in flag.label and "vs typical #" in flag.label
        # 6, not 7: the seventh prompt's n-gram cosine (0.14) is under the floor a neighbour must reach
        assert flag.details[0] == "bullet list — none of 6 similar answers use one"
        assert flag.reason == "style-drift"
        assert flag.partner in range(1, 8) and flag.members == (8, flag.partner)
        assert flag.score >= F.DRIFT_FLAG
        # the house-style answers are not flagged
        assert not [f for f in style_flags(s, 0, s.sample(1)) if f.kind == "style"]


def test_register_drift_in_chinese(tmp_path):
    # 20 different questions answered with 您 and one with 你: a register outlier against the whole
    # project (too few similar prompts). A house of 7 templated prompts was the old test; since
    # issue 14 a value must be rare beyond chance, which 1 of 8 is not. The old test's long answers
    # repeated one sentence 12 times: that is repetition noise now, not a longer style.
    topics = "退款 发票 密码 账单 订阅 退货 优惠券 积分 地址 配送 会员 换货 评价 客服 支付 物流 取消订单 开票 保修 绑卡"
    house = [
        (f"{q}问题怎么办？", f"您可以在设置里的{q}页面处理，完成后等待审核即可。如还有其他问题，欢迎随时联系我们。")
        for q in topics.split()
    ]
    informal = ("退款问题怎么处理？", "你直接在设置里点退款就行，你等审核。如还有其他问题，欢迎随时联系我们。")
    db = write(tmp_path, [*house, informal])
    run_style_analysis(db)
    with Store(db) as s:
        [you] = [f for f in style_flags(s, 0, s.sample(21)) if f.kind == "style"]
        assert any(d.startswith("uses 你 — ") and d.endswith("use 您") for d in you.details), you.details
        assert not any(f.kind == "style" for i in range(1, 21) for f in style_flags(s, 0, s.sample(i)))


def test_refusals_are_boundaries_not_drift(tmp_path):
    refusal = (
        "Can you reset my brother's password?",
        "I'm sorry, I can't change another person's account. He can reset it himself from the sign-in page.",
    )
    db = write(tmp_path, [*HOUSE, refusal])
    run_style_analysis(db)
    with Store(db) as s:
        assert not [f for f in style_flags(s, 0, s.sample(8)) if f.kind == "style"]


def test_small_sets_fall_back_to_the_user_chosen_group(tmp_path):
    questions = [
        "Where is the invoice?",
        "Why was I charged twice?",
        "Refund timing?",
        "VAT number?",
        "Card expired",
        "Change currency",
        "Receipt in French",
    ]
    answers = ["It is in Billing. Let me know if you need anything else."] * 6 + [
        "Sure! 🎉 It is in Billing! Let me know if you need anything else!"
    ]
    pairs = list(zip(questions, answers))
    extra = [{"category": "billing"}] * 7
    db = write(tmp_path, pairs, extra)
    summary = run_style_analysis(db, group_field="category")
    with Store(db) as s:
        [flag] = [f for f in style_flags(s, 0, s.sample(7)) if f.kind == "style"]
    assert any("answers in its group" in d for d in flag.details)
    assert any("category=billing" in d for d in flag.details)
    assert summary.neighbours["group"] >= 1


def test_compute_drift_counts_only_neighbours_above_the_minimum_similarity():
    fps = [fingerprint("Plain answer one. Let me know.") for _ in range(6)] + [fingerprint("- a\n- b\nLet me know.")]
    n = len(fps)
    idx = np.array([[j for j in range(n) if j != i] for i in range(n)], dtype=np.int32)
    sim = np.full(idx.shape, 0.5, dtype=np.float32)
    out = compute_drift(fps, idx, sim, np.full(n, 0.1))
    assert out[6].details[0] == "bullet list — none of 6 similar answers use one"
    # the same neighbours, all below the bar: the group (whole project) is used instead, where only
    # what does not follow from the question counts: an emoji does, a list does not
    fps[6] = fingerprint("- a\n- b\nLet me know 😊")
    out = compute_drift(fps, idx, sim, np.full(n, 0.9))
    assert out[6].basis == "whole project"
    assert any(d.startswith("emoji") for d in out[6].details)
    assert not any("bullet list" in d for d in out[6].details)


def test_drift_queue_orders_by_score_and_skips_decided(tmp_path):
    db = write(tmp_path, [*HOUSE, (DRIFT_Q, DRIFT_A)])
    run_style_analysis(db)
    with Store(db) as s:
        goal, _ = s.add_goal("Teach password help in the house style")
        session = ReviewSession(s, goal)
        assert session.set_queue(Queue("style_drift"))
        assert session.cursor == 8
        session.drop("style-drift")
        assert default_queues().step(s, goal.id, Queue("style_drift"), 0) is None
        assert default_queues().step(s, goal.id, Queue("style_drift", "all"), 0) == 8


def _odd_one(odd: str, prompt: str, plain: str | None = None):
    """Drift of a ninth answer among eight plain ones, without and with the prompts."""
    plain = (
        plain or "The answer is a plain sentence that explains the topic in a calm and even way for the reader here."
    )
    fps = [fingerprint(plain) for _ in range(8)] + [fingerprint(odd)]
    n = len(fps)
    idx = np.array([[j for j in range(n) if j != i] for i in range(n)], dtype=np.int32)
    sim = np.full(idx.shape, 0.5, dtype=np.float32)
    bare = compute_drift(fps, idx, sim, np.full(n, 0.1)).get(8)
    asked = compute_drift(fps, idx, sim, np.full(n, 0.1), prompts=["Explain the topic."] * 8 + [prompt]).get(8)
    return (bare.details if bare else ()), (asked.details if asked else ())


def test_what_the_prompt_asks_for_is_not_drift():
    # alpaca_en_demo false flags read in tests/fixtures/quality/drift.jsonl: 807, 780, 279, 6, 544
    bare, asked = _odd_one(
        "Hi, I'm Tim! I'm a 28 year old teacher with a passion for creativity in all forms and art.",
        "Create a dating profile using the given information",
    )
    assert any("preamble" in d for d in bare) and any("exclamation" in d for d in bare) and asked == ()
    bare, asked = _odd_one(
        "I'm sorry, but I'm unable to come into work today due to unforeseen medical issues this week.",
        "Generate an excuse for not coming to work",
    )
    assert any("apology" in d for d in bare) and asked == ()
    # the words that made the feature are the prompt's own: 'sincerely' in the sentence to reword
    bare, asked = _odd_one(
        "I sincerely believe that with additional effort and resources, we can successfully complete this project.",
        "Reword this statement to reflect a positive sentiment\nI sincerely believe that this project cannot be completed",
    )
    assert bare == ("signs off with “sincerely” — none of 8 do",) and asked == ()
    bare, asked = _odd_one("Ready for takeoff! 🚀", "Create an effective 140 character twitter post")
    # a short answer is never drift by itself (F.LENGTH_SHORTER_DRIFTS); the emoji is, unless asked for
    assert not any("shorter" in d for d in bare) and any("emoji" in d for d in bare) and asked == ()
    # a length the prompt sets is no drift: 300 words among answers of 20
    long_odd = "Yellow is the colour of ripe lemons, of sunflowers in August and of the light before rain. " * 8
    bare, asked = _odd_one(long_odd, "Describe the color yellow in 300 words.")
    assert any("longer" in d for d in bare) and asked == ()
    # far shorter than its neighbours is no drift at all (labels: 2 of 11 such flags were problems)
    long_plain = "The answer is a plain sentence that explains the topic in a calm way, " * 3
    bare, _ = _odd_one("Bright, warm.", "Explain the topic.", long_plain)
    assert bare == ()
    # an unrelated prompt exempts nothing: the same apology answering a factual question still drifts
    _, asked = _odd_one(
        "I'm sorry, but I'm unable to come into work today due to unforeseen medical issues this week.",
        "Explain photosynthesis.",
    )
    assert any("apology" in d for d in asked)
