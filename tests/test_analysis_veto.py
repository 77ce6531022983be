"""The semantic detector's veto (review/analysis/veto.py): requests that differ in their numbers, in
the tools they offer, in the names they use, in a follow-up that asks something, or a yes-or-no
question against a who/what one, are never near-duplicates. Pair keys on written conversations,
then the real default model (multilingual-e5-small) on real project files."""

from __future__ import annotations

import json

import numpy as np

from review.analysis import duplicate_pairs, run_analysis
from review.analysis.veto import differences, explain, is_pleasantry, names, pair_key, question_forms, tool_names
from review.model import ASSISTANT, USER, Conversation, Turn
from review.store import Store


def conv(user: str, answer: str = "Done.", tools: str | None = None) -> Conversation:
    return Conversation("", (Turn(USER, user), Turn(ASSISTANT, answer)), tools)


def test_numbers_of_the_user_turns_and_tool_names_make_the_key():
    assert pair_key(conv("Tip on 85 at 20%?")) != pair_key(conv("Tip on 50 at 15%?"))
    assert pair_key(conv("Tip on 85 at 20%?")) == pair_key(conv("What is a 20% tip on 85?"))  # order ignored
    assert pair_key(conv("Hi", "It is 214.3 km.")) == pair_key(conv("Hi", "It is 214.4 km."))  # answers don't count
    profile = json.dumps([{"name": "create_profile", "parameters": {"name": {"type": "string"}}}])
    account = json.dumps([{"type": "function", "function": {"name": "create_account"}}])
    assert tool_names(profile) == {"create_profile"} and tool_names(account) == {"create_account"}
    assert pair_key(conv("Make one", tools=profile)) != pair_key(conv("Make one", tools=account))
    assert tool_names("not json") == {"not json"} and tool_names(None) == frozenset()


def test_a_templated_request_with_other_numbers_is_not_a_semantic_duplicate(tmp_path):
    records = [
        {"instruction": "Calculate a 20% tip on a bill of $85.", "input": "", "output": "The tip is $17."},
        {"instruction": "Calculate a 15% tip on a bill of $50.", "input": "", "output": "The tip is $7.50."},
        {"instruction": "Calculate a 20% tip for a bill of $85.", "input": "", "output": "The tip is $17."},
        {"instruction": "Name the capital of France.", "input": "", "output": "Paris."},
    ]
    src = tmp_path / "tips.json"
    src.write_text(json.dumps(records), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(src)
    run_analysis(db, detectors=("semantic",), thresholds={"semantic": 0.9})
    with Store(db) as s:
        pairs = {tuple(sorted((a, b))) for a, b, _ in duplicate_pairs(s, "semantic")}
    assert pairs == {(1, 3)}  # the reworded one; never the 15% on $50


def turns(*pairs: tuple[str, str]) -> Conversation:
    return Conversation("", tuple(Turn(r, t) for u, a in pairs for r, t in ((USER, u), (ASSISTANT, a))), None)


def test_names_are_latin_words_with_a_digit_an_inner_capital_or_a_capital_inside_a_sentence():
    found, words = names("Are you GPT-3? Do you call Google APIs? I am fine. Tell me about Paris and the iPhone.")
    assert found == {"GPT-3", "Google", "APIs", "Paris", "iPhone"}  # not Are/Do/Tell (sentence starts), not I
    assert {"gpt-3", "google", "tell", "i"} <= words
    assert names("请用Python写一个函数")[0] == {"Python"}  # a Latin name inside Chinese text
    assert names("Python是什么？")[0] == frozenset()  # a sentence's first word is not a name


def test_a_pair_that_names_other_things_is_another_request():
    google, meta = pair_key(conv("Do you call Google APIs?")), pair_key(conv("Do you call Meta APIs?"))
    assert google != meta and differences(google, meta) == ["names Google vs Meta"]
    assert pair_key(conv("Tell me about Python.")) == pair_key(conv("tell me about python"))  # case ignored
    assert pair_key(conv("Are you GPT-3?")) == pair_key(conv("Are you based on GPT-3?"))  # reworded, same name
    assert pair_key(conv("Are you davinci-002?")) != pair_key(conv("Are you davinci-003?"))


def test_greetings_and_thanks_do_not_count_but_another_follow_up_does():
    for turn in (
        "Have a nice day!",
        "What is up?",
        "Goodbye",
        "Thank you, that's all I needed!",
        "太好了，谢谢你的帮助！",
    ):
        assert is_pleasantry(turn), turn
    for turn in (
        "Thanks! Now convert 100 EUR to USD.",
        "好的，谢谢！现在，你也能帮我更新一下我邮箱里的密码吗？",
        "好的，请包含符号。",
    ):
        assert not is_pleasantry(turn), turn
    ask = ("Are you GPT-3?", "No, I am trained by researchers from LMSYS.")
    assert pair_key(turns(ask)) == pair_key(turns(ask, ("Have a nice day!", "You too!")))
    password = [("I need a new password.", "How long?"), ("12 characters.", "Here: aB3#fG7&kL9!")]
    more = (*password, ("Thanks! Can you also change my e-mail password?", "Sorry, I cannot."))
    assert pair_key(turns(*password)) != pair_key(turns(*more))
    assert differences(pair_key(turns(*password)), pair_key(turns(*more))) == ["user turns that ask something 2 vs 3"]


def test_numbers_are_compared_turn_by_turn():
    a = turns(("Convert 500 USD to EUR.", "425 EUR."), ("Now 1000 EUR to USD?", "1176 USD."))
    b = turns(("Convert 1000 USD to EUR.", "850 EUR."), ("Now 500 EUR to USD?", "590 USD."))
    assert pair_key(a) != pair_key(b)  # the same numbers over the whole conversation, swapped
    assert differences(pair_key(a), pair_key(b))[0] == "numbers in user turn 1 500 vs 1000"


def test_questions_that_want_other_kinds_of_answer_are_other_requests():
    assert question_forms("Are you curie?") == {"yes-no"} and question_forms("Who created you?") == {"who"}
    assert question_forms("Do you know what a cat is?") == {"what"}  # an indirect wh-question
    assert question_forms("Can you introduce yourself?") == frozenset()  # a request, not yes-or-no
    curie, who = pair_key(conv("Are you curie?")), pair_key(conv("Who created you?"))
    assert curie != who and differences(curie, who) == ["a yes-or-no question vs a who one"]
    assert pair_key(conv("Do you know what a cat is?")) == pair_key(conv("What is a cat?"))
    name, built = pair_key(conv("What's your name?")), pair_key(conv("Who built you?"))
    assert name != built and differences(name, built) == ["a what question vs a who one"]
    assert pair_key(conv("Who made you? What are you?")) == pair_key(conv("Who built you?"))  # a wh-word shared
    # Chinese: yes-or-no (吗, not a request) against a question word; wh-questions are not told apart
    assert question_forms("你有名字吗？") == {"yes-no"} and question_forms("创造你的人是谁") == {"wh"}
    assert question_forms("能介绍一下你自己吗？") == frozenset()  # a request
    assert pair_key(conv("你有名字吗？")) != pair_key(conv("你是由谁开发的？"))
    assert pair_key(conv("你具备什么能力？")) == pair_key(conv("你的技能有哪些？"))  # 什么 / 哪些: both "what"


def test_chinese_yes_or_no_questions_are_read_in_all_their_forms():
    """The self-cognition set in ../shared: "你是人工智能吗？" read as a request (能 inside 智能), and
    A-not-A / tag questions (你是不是…, …对吧) as no question, so each paired with "你是谁？"."""
    for yes_no in ("你是人工智能吗？", "你是不是alpaca？", "你是ChatGLM，对吧？", "请问你是GPT吗？", "你有没有名字？"):
        assert question_forms(yes_no) == {"yes-no"}, yes_no
        assert pair_key(conv("你是谁？")) != pair_key(conv(yes_no)), yes_no
    for request in ("你能帮我订披萨吗？", "可以告诉我天气吗？", "你能不能帮我写一首诗？", "请帮我写诗好吗？"):
        assert question_forms(request) == frozenset(), request
    assert pair_key(conv("你是不是Sinovel.AI开发的？")) == pair_key(conv("你是Sinovel.AI开发的，对吧？"))


LMSYS = "researchers from Large Model Systems Organization (LMSYS)."
# Modelled on FastChat's dummy identity conversations (../shared/datasets/fastchat_dummy_conversation.json).
IDENTITY = [
    [("Who created you?", f"I'm a language model created by {LMSYS}")],
    [("Who made you?", f"I am a language model created by {LMSYS}")],
    [("Are you created by Google?", f"No, I'm a language model created by {LMSYS}")],
    [("Do you call Google APIs?", f"No, I am created by {LMSYS}")],
    [("Do you call Meta APIs?", f"No, I'm created by {LMSYS}")],
    [("Are you curie?", f"No, I'm a language model created by {LMSYS}")],
    [("Do you call Google APIs?", f"No, I'm created by {LMSYS}"), ("Have a nice day!", "You too!")],
    [("I need a new password. Can you generate one?", "Sure, how long?"), ("12 characters.", "Here: aB3#fG7&kL9!")],
    [
        ("I need a new password. Can you generate one?", "Sure, how long?"),
        ("12 characters.", "Here: aB3#fG7&kL9!"),
        ("Thanks! Now can you also change my e-mail password?", "Sorry, I cannot change passwords for you."),
    ],
]


def test_identity_template_pairs_with_the_real_model(tmp_path):
    """The default model (multilingual-e5-small) puts every pair of the identity template close;
    the veto keeps the reworded question and the one that only adds a goodbye."""
    from review.analysis.store import AnalysisStore
    from review.embed_e5 import E5_MODEL_ID

    records = [
        {"conversations": [{"from": f, "value": v} for u, a in r for f, v in (("human", u), ("gpt", a))]}
        for r in IDENTITY
    ]
    src = tmp_path / "identity.json"
    src.write_text(json.dumps(records), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(src)
    threshold = 0.95
    summary = run_analysis(db, detectors=("semantic",), thresholds={"semantic": threshold})
    assert summary["semantic"].model == E5_MODEL_ID
    with Store(db) as s:
        got = {tuple(sorted((a, b))) for a, b, _ in duplicate_pairs(s, "semantic")}
        a = AnalysisStore(s)
        by_id = {x.id: x for x in s.samples(list(range(1, len(IDENTITY) + 1)))}
        groups = a.text_groups("dialog")  # text hash -> the samples with that text
        vec = {
            sid: np.frombuffer(b, dtype="<f4")
            for h, _, b in a.embeddings(E5_MODEL_ID, list(groups))
            for sid in groups[h]
        }
    close = {(i, j) for i in vec for j in vec if i < j and float(vec[i] @ vec[j]) >= threshold}
    assert {(1, 2), (4, 7)} <= close and {
        (3, 4),
        (4, 5),
        (1, 6),
        (8, 9),
    } <= close  # all near: the model alone can't tell
    assert got == {(1, 2), (4, 7)}  # "Who created/made you?", and the same question plus "Have a nice day!"
    why = {p: differences(pair_key(by_id[p[0]].conversation), pair_key(by_id[p[1]].conversation)) for p in close - got}
    assert why[(4, 5)] == ["names Google vs Meta"]
    assert why[(1, 6)] == ["a who question vs a yes-or-no one"]
    assert why[(8, 9)] == ["user turns that ask something 2 vs 3"]
    assert all(why.values())  # every pair left out says why


def test_explain_says_what_a_kept_pair_shares_and_why_a_pair_is_not_one():
    assert explain(conv("Are you GPT-3? Tip 20%"), conv("Are you based on GPT-3? Tip 20%")) == (
        "user turns alike in numbers 20, 3 · names GPT-3"
    )
    assert explain(conv("Do you call Google APIs?"), conv("Do you call Meta APIs?")) == (
        "not the same request: names Google vs Meta"
    )
    assert explain(conv("Who made you?"), conv("Who created you?")) == ""  # nothing to point at
