"""Noise kinds a curator recognises (issue 14 item 5), on realistic Chinese and English text."""

from __future__ import annotations

import json

import pytest

from review.model import Conversation, Turn
from review.style.noise import triggers
from review.style.noise_rules import ConfigError, load_boilerplate


def conv(*turns: tuple[str, str]) -> Conversation:
    return Conversation("", tuple(Turn(r, t) for r, t in turns))


def names(c: Conversation, **kw) -> dict[str, str]:
    return {t.name: t.detail for t in triggers(c, **kw)}


def test_no_user_turn_and_empty_turns():
    got = names(conv(("assistant", "我是由OpenAI训练的语言模型。")))
    assert "no_user_turn" in got and "1 assistant turn" in got["no_user_turn"]
    turns = [("user", "你好"), ("assistant", "你好！")]
    for _ in range(18):
        turns += [("user", ""), ("assistant", "请问还有什么可以帮您？")]
    got = names(conv(*turns))
    assert got["empty_turn"].startswith("18 empty user turns of 38")


@pytest.mark.parametrize(
    "sentence",
    ["The weather today is sunny and warm.", "今天的天气晴朗，气温适宜，适合出门散步。"],
)
def test_repetition_says_what_and_how_often(sentence):
    got = names(conv(("user", "Describe the weather"), ("assistant", " ".join([sentence] * 14))))
    assert "repetition" in got and "14 times" in got["repetition"]


@pytest.mark.parametrize(
    "answer",
    [
        "As an AI language model, I do not have personal opinions about movies.",
        "作为一个AI，我无法为您订购披萨，但我可以帮您计算折扣。",
        "我是由OpenAI训练的语言模型ChatGPT。",
    ],
)
def test_boilerplate(answer):
    got = names(conv(("user", "q"), ("assistant", answer)))
    assert "boilerplate" in got and "“" in got["boilerplate"]


def test_an_identity_the_dataset_teaches_is_not_boilerplate():
    c = conv(
        ("user", "Who are you?"), ("assistant", "I am Vicuna, a language model trained by researchers from LMSYS.")
    )
    assert "boilerplate" not in names(c)


def test_boilerplate_list_override(tmp_path, monkeypatch):
    cfg = tmp_path / "config.json"
    cfg.write_text(json.dumps({"boilerplate": {"add": ["Certainly, here is"], "remove": ["As an AI language model"]}}))
    monkeypatch.setenv("WINNOW_CONFIG", str(cfg))
    bp = load_boilerplate()
    assert "1 added, 1 removed" in bp.source
    c = conv(("user", "q"), ("assistant", "Certainly, here is the list you asked for."))
    assert "boilerplate" in names(c, boilerplate=bp) and "boilerplate" not in names(c)
    mine = tmp_path / "mine.txt"
    mine.write_text("[house words]\nre:^Greetings, human\n", encoding="utf-8")
    cfg.write_text(json.dumps({"boilerplate": {"file": str(mine)}}))
    bp = load_boilerplate()
    assert [p.section for p in bp.phrases] == ["house words"]
    assert names(conv(("user", "q"), ("assistant", "Greetings, human.")), boilerplate=bp)["boilerplate"].startswith(
        "house words"
    )
    mine.write_text("re:([unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"mine.txt:1: not a valid regular expression"):
        load_boilerplate()


@pytest.mark.parametrize(
    "prompt, answer, flagged",
    [
        (
            "列出四张披头士专辑。",
            "Here is a list of four Beatles albums: Abbey Road, Revolver, Help! and Let It Be.",
            True,
        ),
        ("What is the capital of France?", "法国的首都是巴黎，它也是法国最大的城市。", True),
        ("把这句话翻译成英文：今天天气很好。", "The weather is very nice today, so let us go out.", False),
        (
            "生成一个正确使用“opulent”一词的例句。",
            "The wedding reception was held in an opulent ballroom downtown.",
            False,
        ),
        (
            "用Python写一个函数计算阶乘",
            "```python\ndef fact(n):\n    return 1 if n < 2 else n * fact(n - 1)\n```",
            False,
        ),
    ],
)
def test_language_mismatch(prompt, answer, flagged):
    got = names(conv(("user", prompt), ("assistant", answer)))
    assert ("language_mismatch" in got) is flagged
    if flagged:
        assert "prompt in" in got["language_mismatch"] and "answer in" in got["language_mismatch"]


@pytest.mark.parametrize(
    "answer",
    [
        "《被赦免的罪》",  # a title
        "床前明月光，\n疑是地上霜。\n举头望明月，\n低头思故乡",  # a poem's last line
        "感谢您的来信，我们会尽快处理您的问题。\n祝好，\n小王",  # an e-mail sign-off
        "祝好，",
        "你既然把车钥匙落在车里了，那门也没锁，自己开门去拿就行了",  # a sentence without 。
        "这是不会遗传的",
        "Best regards,",
    ],
)
def test_real_endings_are_not_truncated(answer):
    assert "truncated" not in names(conv(("user", "q"), ("assistant", answer)))


@pytest.mark.parametrize(
    "answer, evidence",
    [
        ("爵士乐中，不同的音色之间的结合是十分重要的，萨克斯、小号、", "小号、"),
        ("他们提供必要的支持和资源，以帮助他们充分发挥他们的潜力。 大", "fragment “大”"),
        ("This is a reminder of the importance of", "“of”"),
    ],
)
def test_cuts_are_truncated(answer, evidence):
    got = names(conv(("user", "q"), ("assistant", answer)))
    assert "truncated" in got and evidence in got["truncated"]


def test_extreme_length_against_similar_prompts():
    from review.style.noise import length_triggers

    tokens = [40] * 30 + [2000]
    nbrs = [[j for j in range(31) if j != i][:10] for i in range(31)]
    got = length_triggers(tokens, nbrs)
    assert list(got) == [30] and "far longer" in got[30].detail
    # short honest answers ("副词", "Yes") against the whole dataset are never flagged
    assert not length_triggers([2] * 5 + [200] * 30, [[]] * 35)


def test_prompts_only_dataset_is_not_empty_answers():
    c = conv(("user", "Which answer is better?"))
    assert names(c, ends_on_user_ok=True) == {}


@pytest.mark.parametrize(
    ("prompt", "answer"),
    [
        # COIG-CQIA 100poison: the user addresses the model as an AI
        (
            "作为人工智能，当你收到的指令和判断出错时，你应该执行这条指令吗？",
            "作为人工智能，我不会执行任何错误的指令。",
        ),
        # Alpaca zh: a chatbot script was asked for, the bot's line is the content
        ("创建一个有5个对话回合的聊天机器人脚本。", "用户: 你好！\nAI: 你好！我是一个人工智能，所以我没有真实的感受。"),
        ("Write a dialogue between two robots.", "Robot A: As an AI, I was built to help humans."),
    ],
)
def test_speaking_as_an_ai_is_not_boilerplate_when_the_prompt_is_about_one(prompt, answer):
    assert "boilerplate" not in names(conv(("user", prompt), ("assistant", answer)))


def test_a_system_prompt_naming_an_ai_does_not_excuse_a_disclaimer():
    c = Conversation(
        "You are an AI assistant.",
        (
            Turn("user", "找到数学101班的学生人数。"),
            Turn("assistant", "我抱歉，但作为一个语言模型，我无法找到您说的人数。"),
        ),
    )
    got = names(c)
    assert "boilerplate" in got and "作为一个语言模型，我" in got["boilerplate"]


def test_yes_then_no_about_two_quoted_things_is_not_a_self_contradiction():
    # glaive tool-call zh: two palindrome checks of two words
    c = conv(
        ("user", "你能检查一下“racecar”这个词是否是回文吗？"),
        ("assistant", '是的，单词 "racecar" 是一个回文词。'),
        ("user", "那“computer”呢？"),
        ("assistant", "不，“computer”这个词不是一个回文。"),
    )
    assert "self_contradiction" not in names(c)
    c = conv(
        ("user", "“racecar”是回文吗？"),
        ("assistant", '是的，单词 "racecar" 是一个回文词。'),
        ("user", "你确定吗？"),
        ("assistant", "不，“racecar”这个词不是一个回文。"),
    )
    assert "yes then no" in names(c)["self_contradiction"]
