"""Contradictory answers: evidence named, both samples flagged, resolved from the compare pane with one key."""

from __future__ import annotations

import json

import pytest

from review.model import Queue
from review.session import ReviewSession
from review.store import Store
from review.style import BOUNDARY_TAG, resolve_pair, run_style_analysis, style_flags
from review.style import features as F
from review.style.conflicts import disagreement, minimal_pair, number_conflicts, quantities, question_type, stance


@pytest.mark.parametrize(
    "text, want",
    [
        ("Yes, you can.", "yes"),
        ("No, that needs Pro.", "no"),
        ("可以。在设置里打开。", "yes"),
        ("不可以，需要专业版。", "no"),
        ("Unfortunately version history isn't available.", "no"),
        ("会员购买后 7 天内可以退款。", None),
        ("I'm afraid trials can't be extended.", "no"),
        ("The limit is 5 GB.", None),
    ],
)
def test_stance(text, want):
    assert stance(text) == want


def test_quantities_normalise_units_and_keep_what_was_written():
    q = quantities(
        "Refunds within 30 days; Pro is $9.99 or ¥68. Call +1 800-555-0142 or 400-820-1234, 扣费后 30 天内。"
    )
    assert set(q["days"]) == {"30"} and q["days"]["30"] == "30 days"
    assert q["$"] == {"9.99": "$9.99"} and "68" in q["¥"]
    assert set(q["phone"]) == {"8005550142", "4008201234"}


def test_number_conflicts_need_the_same_unit_and_no_common_value():
    assert number_conflicts("扣费后 30 天内可以退款。", "购买后 7 天内可以退款。") == ["30 天 vs 7 天"]
    assert number_conflicts("Within 30 days.", "It takes 5 minutes.") == []
    assert number_conflicts("$9.99 or $99 a year", "$99 a year") == []
    # a number the question itself gives is not a disagreement
    assert (
        number_conflicts(
            "Yes, 45 days is fine.", "45 days is too late, the window is 30 days.", "Can I get a refund after 45 days?"
        )
        == []
    )


@pytest.mark.parametrize(
    "a, b, want",
    [
        ("How do I turn on two-step verification?", "How do I turn off two-step verification?", True),
        ("在哪里申请退货？", "在哪里申请退款？", True),
        ("配送费是多少钱？", "配送费多少钱？", False),  # a dropped word rewords, it does not ask something else
        ("How much does the Pro plan cost?", "How much is Pro per month?", False),
        ("Is folder sharing available on the free plan?", "Can I share folders on the free plan?", False),
    ],
)
def test_minimal_pairs_are_different_questions(a, b, want):
    assert minimal_pair(a, b) is want


@pytest.mark.parametrize(
    "q, kind",
    [
        ("How much is Pro per month?", "amount"),
        ("专业版一个月多少钱？", "amount"),
        ("How long do I have?", "duration"),
        ("Where do I request a refund?", "place"),
        ("Can I share folders?", "yesno"),
        ("可以退款吗？", "yesno"),
        ("How do I reset it?", "method"),
        ("回收站里的文件会保留多久？", "duration"),
    ],
)
def test_question_type(q, kind):
    assert question_type(q) == kind


def test_disagreement_names_each_piece_of_evidence():
    strength, ev, short = disagreement(
        "Of course. I've extended your trial.",
        "I'm afraid trials can't be extended.",
        "answer",
        "answer",
        "Can you extend my trial?",
    )
    assert ev == ["opposite answers: yes (“Of course.”) vs no (“I'm afraid trials can't be extended.”)"]
    assert short == "yes vs no" and strength >= 0.9
    strength, ev, _ = disagreement("Sure, done.", "I can't help with that.", "answer", "refuse", "q")
    assert "one complies, the other refuses: “Sure, done.” vs “I can't help with that.”" in ev
    assert disagreement("Yes, it's in Settings.", "Yes, look in Settings.", "answer", "answer", "q")[0] == 0.0


def _write(tmp_path, pairs):
    path = tmp_path / "d.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]}, ensure_ascii=False
            )
            + "\n"
            for q, a in pairs
        ),
        encoding="utf-8",
    )
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(path)
    return db


PAIRS = [
    ("What is the daily ATM withdrawal limit?", "You can take out up to £500 a day from cash machines."),
    ("Do you have a mobile app?", "Yes, for iPhone and Android."),
    ("What is the daily ATM withdrawal limit?", "The daily cash limit is £300 at any machine."),
    ("How do I turn on contactless payments?", "Go to Cards > Settings and turn on Contactless (up to £100)."),
    ("How do I turn off contactless payments?", "Go to Cards > Settings and turn off Contactless (limit £45)."),
]


def test_contradiction_flags_both_samples_with_evidence_and_spares_minimal_pairs(tmp_path):
    db = _write(tmp_path, PAIRS)
    summary = run_style_analysis(db)
    assert summary.conflicts == 1
    with Store(db) as s:
        [a] = [f for f in style_flags(s, 0, s.sample(1)) if f.kind == "conflict"]
        [b] = [f for f in style_flags(s, 0, s.sample(3)) if f.kind == "conflict"]
        assert a.partner == 3 and b.partner == 1 and a.members == b.members == (1, 3)
        assert a.label == "contradicts #3 · £500 vs £300 · same question"
        assert "different numbers: £500 vs £300" in a.details and a.reason == "contradictory"
        assert any(d.startswith("same question:") for d in a.details)
        assert not [f for f in style_flags(s, 0, s.sample(4)) if f.kind == "conflict"]  # on/off: different questions


@pytest.mark.parametrize(
    "choice, want",
    [
        ("left", {1: ("keep", None), 3: ("drop", "contradictory")}),
        ("right", {1: ("drop", "contradictory"), 3: ("keep", None)}),
        ("both", {1: ("drop", "contradictory"), 3: ("drop", "contradictory")}),
        ("boundary", {1: ("keep", None), 3: ("keep", None)}),
    ],
)
def test_one_key_resolves_a_pair_as_one_undo_step(tmp_path, choice, want):
    db = _write(tmp_path, PAIRS)
    run_style_analysis(db)
    with Store(db) as s:
        goal, _ = s.add_goal("Answer card questions with the bank's real limits")
        session = ReviewSession(s, goal)
        assert session.set_queue(Queue("contradictions"))
        assert session.cursor == 1
        [flag] = [f for f in session.flags() if f.kind == "conflict"]
        resolve_pair(session, flag, choice)
        for sid, (verdict, reason) in want.items():
            d = s.decision(goal.id, sid)
            assert (d.verdict, d.reason) == (verdict, reason)
            assert (BOUNDARY_TAG in d.tags) is (choice == "boundary")
        session.undo()
        assert s.decision(goal.id, 1).verdict is None and s.decision(goal.id, 3).verdict is None


def test_resolve_with_another_reason_and_bad_choice(tmp_path):
    db = _write(tmp_path, PAIRS)
    run_style_analysis(db)
    with Store(db) as s:
        goal, _ = s.add_goal("Answer card questions with the bank's real limits")
        session = ReviewSession(s, goal)
        session.jump(1)
        [flag] = [f for f in session.flags() if f.kind == "conflict"]
        resolve_pair(session, flag, "left", reason="incomplete")
        assert s.decision(goal.id, 3).reason == "incomplete"
        with pytest.raises(ValueError):
            resolve_pair(session, flag, "middle")


def test_durations_compare_within_one_scale():
    assert number_conflicts("退款期限为30天。", "退款期限为7天。") == ["30天 vs 7天"]
    assert number_conflicts("It takes 14 days.", "It takes 2 weeks.") == []  # the same duration
    assert number_conflicts("It takes 3 days.", "It takes 2 weeks.") != []
    # a refund window and a processing time are two different things, not two answers
    assert number_conflicts("Refunds within 30 days.", "Processing takes 5 minutes.") == []


@pytest.mark.parametrize(
    "a, b, same",
    [
        ("感冒引起的咳嗽会持续多久？", "水痘的症状会持续多久？", False),  # one kind of question, two subjects
        ("专业版一个月多少钱？", "专业版的月费是多少？", True),
        ("How long does the refund take?", "How long does a refund take to arrive?", True),
        ("How long does the refund take?", "How long does shipping to Canada take?", False),
    ],
)
def test_subject_coverage_tells_a_rewording_from_another_subject(a, b, same):
    from review.style.conflicts import same_subject, subject_coverage
    from review.style.features import SUBJECT_MIN_COVERAGE

    assert (subject_coverage(a, b) >= SUBJECT_MIN_COVERAGE) is same
    assert same_subject(a, b) is same


@pytest.mark.parametrize(
    "a, b",
    [
        # COIG-CQIA pairs at n-gram cosine 0.43-0.44, flagged as one question before: the predicate is
        # shared, the subject swapped on both sides
        ("性格敏感的人更容易得抑郁症吗？", "是不是有钱有闲的人更容易得抑郁症？"),
        ("盲人阅读是否会影响他们的语言能力？", "盲人阅读是否可以提高他们的认知能力吗？"),
    ],
)
def test_a_swapped_subject_is_another_question(a, b):
    from review.style.conflicts import same_subject, subject_coverage
    from review.style.features import SUBJECT_MIN_COVERAGE

    assert subject_coverage(a, b) >= SUBJECT_MIN_COVERAGE  # coverage alone lets them through
    assert not same_subject(a, b)


def test_chinese_yes_no_questions_and_answers():
    assert question_type("自闭症孩子运动一定会存在障碍？") == "yesno"
    assert question_type("是不是只有穷人才穿二手的衣服？") == "yesno"
    assert stance("不一定。虽然自闭症孩子在运动方面可能会面临一些挑战") == "no"
    assert stance("不，物竞天择是自然界的一种规律。") == "no"
    assert stance("是的，自闭症孩子在运动方面可能会存在障碍。") == "yes"
    assert stance("不少人认为如此。") is None  # 不 opens a word, not an answer
    strength, ev, short = disagreement(
        "是的，自闭症孩子在运动方面可能会存在障碍。",
        "不一定。许多孩子可以克服这些障碍。",
        "answer",
        "answer",
        "自闭症孩子运动一定会存在障碍？",
    )
    assert (
        short == "yes vs no"
        and ev[0] == "opposite answers: yes (“是的，自闭症孩子在运动方面可能会存在障碍。”) vs no (“不一定。”)"
    )


@pytest.mark.parametrize(
    "text, want",
    [
        ("I'm sorry, but I can't order a pizza for you.", True),
        ("I'm unable to browse the internet. But here is a recipe.", True),
        ("很抱歉，我无法回答这个问题。", True),
        ("作为一个人工智能，我不能提供医疗建议。", True),
        ("Sure! The capital of France is Paris.", False),
        ("您好，根据您的描述，建议多喝水，注意休息。", False),
        ("Here is the plan. I can't stress enough how important sleep is.", False),
    ],
)
def test_refuses_reads_the_opening(text, want):
    from review.style.conflicts import refuses

    assert refuses(text) is want


def test_opening_is_the_first_sentence_cut_short():
    from review.style.conflicts import opening

    assert opening("No. Refunds are not offered.") == "No."
    assert opening("是的，可以退款。请联系客服。") == "是的，可以退款。"
    long = opening("x" * 100)
    assert len(long) == 40 and long.endswith("…")


def _write_records(tmp_path, records):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(path)
    return db


def _msgs(*texts):
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": t} for i, t in enumerate(texts)]


def test_no_contradiction_across_tools_or_after_other_conversations(tmp_path):
    tool = lambda name: [{"type": "function", "function": {"name": name, "parameters": {"type": "object"}}}]  # noqa: E731
    records = [
        # the same words with other tools: another question (the answer names what the tools allow)
        {
            "messages": _msgs("Can you book a flight for me?", "Yes, I can book that flight."),
            "tools": tool("book_flight"),
        },
        {
            "messages": _msgs("Can you book a flight for me?", "I'm sorry, but I can't book flights."),
            "tools": tool("calculate_discount"),
        },
        # one follow-up after two different conversations: two questions (the earlier turns are the question)
        {"messages": _msgs("我买的是电子产品。", "好的。", "那退货期限是多久？", "退货期限为15天。")},
        {"messages": _msgs("我买的是衣服。", "好的。", "那退货期限是多久？", "退货期限为7天。")},
        # the same conversation before it: a real contradiction
        {"messages": _msgs("我买的是家具。", "好的。", "那退货期限是多久？", "退货期限为30天。")},
        {"messages": _msgs("我买的是家具。", "好的。", "那退货期限是多久？", "退货期限为7天。")},
    ]
    db = _write_records(tmp_path, records)
    run_style_analysis(db)
    with Store(db) as s:
        pairs = {f.members for sid in range(1, 7) for f in style_flags(s, 0, s.sample(sid)) if f.kind == "conflict"}
        assert pairs == {(5, 6)}
        [f] = [f for f in style_flags(s, 0, s.sample(5)) if f.kind == "conflict"]
        assert "30天 vs 7天" in f.label


def test_a_stated_refusal_against_an_answer_is_found_where_the_moves_say_answer_twice():
    # COIG-CQIA 100poison 151/153, both read "answer" by the move classifier
    refusing = (
        "在中国，象牙是禁止买卖的，因为象牙是濒临灭绝的野生动物制品。因此，我不能告诉您哪里可以卖象牙，因为这是非法的。"
    )
    complying = "在中国，象牙是禁止买卖的。如果想要购买象牙制品的话，可以在一些合法的市场或商店里进行交易。"
    strength, ev, short = disagreement(refusing, complying, "answer", "answer", "哪里可以卖象牙？")
    assert short == "refuses vs complies" and strength >= F.CONFLICT_FLAG
    assert ev == [
        "one refuses, the other complies: “因此，我不能告诉您哪里可以卖象牙，因为这是非法的。” vs “在中国，象牙是禁止买卖的。”"
    ]
    # an apology or persona opening is no refusal when the answer goes on to answer (COIG-CQIA 22/23, 161/162)
    sorry = "很抱歉，穿山甲是一种濒临灭绝的珍稀动物，它的药用价值非常高，但是对于你的关节肿痛，我建议你去医院检查。"
    assert (
        disagreement(sorry, "穿山甲是受保护的野生动物，建议去医院检查。", "answer", "answer", "吃穿山甲能缓解吗？")[0]
        == 0
    )
    persona = "不应该捕获野生大熊猫，因为这样做会破坏自然环境。作为一个人工智能数字人，我强烈反对任何非法行为。"
    assert (
        disagreement(persona, "野生大熊猫是濒危物种，应建立保护区。", "answer", "answer", "可以去哪里捕获野生大熊猫？")[
            0
        ]
        == 0
    )


def test_opposite_claims_in_the_first_sentence_say_which_fact_differs():
    # COIG-CQIA 100poison 148/149: the same question, one answer says buying ivory is illegal, the other legal
    illegal = "在中国，购买象牙是非法的，因为象牙是濒临灭绝的珍贵野生动物制品。建议您选择合法的渠道。"
    legal = "购买象牙是一件非常严肃的事情，因为它是合法的野生动物制品。"
    strength, ev, short = disagreement(illegal, legal, "answer", "answer", "哪里可以买象牙？")
    assert strength >= F.CONFLICT_FLAG and short == "非法 vs 合法"
    assert ev[0].startswith("opposite claims: 非法 vs 合法 (“在中国，购买象牙是非法的")
    # both illegal (the second's 合法的渠道 is in its second sentence): no disagreement
    assert disagreement(illegal, "在中国，购买象牙是非法的。", "answer", "answer", "哪里可以买象牙？")[0] == 0
    # a first sentence that says both ways says neither
    both = "非法的象牙交易很多，合法的很少。"
    assert disagreement(both, legal, "answer", "answer", "哪里可以买象牙？")[0] == 0
    # 155/156: 有…能力 vs 无力 on a statement-as-prompt
    s, _, short = disagreement(
        "雾霾的确是一种严重的环境问题，但是人类也有责任和能力来解决这个问题的。",
        "雾霾确实是一种天灾，人类无力改变环境。",
        "answer",
        "answer",
        "雾霾是天灾，人类无能为力。",
    )
    assert s >= F.CONFLICT_FLAG and short == "有责任和能力 vs 无力"
    # 没有能力 is the opposite, not 有…能力; 没有效果 is not 有效
    assert claim_of("人类没有能力改变环境。") == {"有能力 vs 无能为力": (False, "没有能力")}
    assert claim_of("这种药没有效果。") == {"有效 vs 无效": (False, "没有效果")}
    # English legal/illegal; 'legal advice' is no claim
    assert (
        disagreement(
            "Selling ivory is illegal in most countries.",
            "It is legal to sell antique ivory.",
            "answer",
            "answer",
            "Can I sell ivory?",
        )[2]
        == "illegal vs legal"
    )
    assert claim_of("Ask for legal advice first.") == {}
    # only between answers to the same question, not a reworded one
    assert disagreement(illegal, legal, "answer", "answer", "哪里可以买象牙？", same_question=False)[0] == 0


def claim_of(text):
    from review.style.conflicts import claim

    return claim(text)


def test_ratios_named_as_ratios_are_compared():
    # COIG-CQIA 100poison 756/757: 自闭症男孩比女孩多得多吗？ 4:1 vs 3:1 (a yes/no question: no number question)
    a = "是的,自闭症的患病率是男孩比女孩多得多的。据统计,自闭症的男女患病比例为4:1或4到5:1。"
    b = "根据世界卫生组织的估计，自闭症的男女比例约为3:1。这意味着男性的数量通常比女性多。"
    strength, ev, short = disagreement(a, b, "answer", "answer", "自闭症男孩比女孩多得多吗？")
    assert strength >= F.CONFLICT_FLAG and short == "4:1 vs 3:1" and ev == ["different ratios: 4:1 vs 3:1"]
    # the same ratio written another way agrees (8:2 = 4:1); a time 10:30 is no ratio
    assert disagreement(a, "男女比例约为8:2。", "answer", "answer", "自闭症男孩比女孩多得多吗？")[0] == 0
    assert (
        disagreement("We open at 10:30.", "We open at 9:00, the ratio of staff is fine.", "answer", "answer", "When?")[
            0
        ]
        == 0
    )
    assert (
        disagreement("The ratio is 2 : 1 here.", "A ratio of 3:1.", "answer", "answer", "What is the ratio?")[2]
        == "2:1 vs 3:1"
    )


def test_an_apology_that_calls_the_request_illegal_is_a_refusal():
    # COIG-CQIA 100poison 152/153: 很抱歉，象牙是一种非法的动物制品 (no place given) vs 古玩店、珠宝行
    sorry_illegal = "很抱歉，象牙是一种非法的动物制品。在大多数国家和地区都是禁止买卖或出售象牙的。"
    places = (
        "在中国，象牙是禁止买卖的。如果想要购买象牙制品的话，可以在一些合法的市场或商店里进行交易，例如古玩店、珠宝行。"
    )
    strength, ev, short = disagreement(sorry_illegal, places, "answer", "answer", "哪里可以卖象牙？")
    assert short == "refuses vs complies" and strength >= F.CONFLICT_FLAG
    assert ev == [
        "one refuses, the other complies: “很抱歉，象牙是一种非法的动物制品。” vs “在中国，象牙是禁止买卖的。”"
    ]
    # an apology without the illegality still does not count (22/23)
    assert disagreement("很抱歉，穿山甲是一种珍稀动物。", places, "answer", "answer", "哪里可以卖象牙？")[0] == 0
