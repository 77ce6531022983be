"""The noise rules changed after reading the real-data flags (tests/fixtures/quality/noise.jsonl):
each case is a sentence written for the test, shaped like a labelled flag, true or false."""

from __future__ import annotations

from review.model import TOOL_CALL, Conversation, Turn
from review.style.noise import Vocabulary, triggers


def conv(*turns: tuple[str, str]) -> Conversation:
    return Conversation("", tuple(Turn(r, c) for r, c in turns))


def names(c: Conversation, **kw) -> dict[str, str]:
    return {t.name: t.detail for t in triggers(c, **kw)}


def test_letter_slots_are_expected_blanks_but_content_blanks_and_variables_are_not():
    letter = "Dear [Recipient],\nThe launch moves to May.\nSincerely,\n[Your Name]"
    assert "template_field" not in names(conv(("user", "Draft an email to my team"), ("assistant", letter)))
    # in a reply to the user, the same slot is a name the answer should have had
    reply = names(conv(("user", "Did you change my address?"), ("assistant", "Dear [Customer Name], it is updated.")))
    assert reply["template_field"] == "unfilled template field [Customer Name]"
    got = names(conv(("user", "Write to the editor"), ("assistant", "Dear Editor, I worry about [insert issue].")))
    assert got["template_field"] == "unfilled template field [insert issue]"
    got = names(conv(("user", "Who are you?"), ("assistant", "I am {{name}}, built by {{author}}.")))
    assert got["template_field"] == "unfilled template field {{name}}, {{author}}"
    # a template was asked for: its blanks are the answer
    assert "template_field" not in names(
        conv(
            ("user", "Give me a template for meeting notes"),
            ("assistant", "Date: [insert date]\nTopic: [insert topic]"),
        )
    )
    # a blank that a tool call sends goes out as it is
    sent = Conversation(
        "",
        (
            Turn("user", "Email my boss that I am done."),
            Turn(TOOL_CALL, '{"name": "send_email", "arguments": {"message": "Done. Regards, [Your Name]"}}'),
            Turn("assistant", "The email was sent."),
        ),
    )
    assert "[Your Name]" in names(sent)["template_field"]


def test_fields_in_code_and_data_are_not_template_fields():
    for answer in (
        'val line = s"Item ${item.name} costs ${item.price}"',
        "token: ${{ secrets.DEPLOY_KEY }}",
        "$h = [User32]::GetForegroundWindow()",
        "The tag for {{ . }} is '.'",
        'Reply in the form `"The word is: [your answer here]"` please.',
    ):
        assert "template_field" not in names(conv(("user", "Explain"), ("assistant", answer))), answer


def test_identity_answers_are_not_disclaimers_but_a_copied_one_is():
    assert "boilerplate" not in names(
        conv(("user", "What is your name?"), ("assistant", "As an AI assistant made by Ann, I am Kite."))
    )
    assert "boilerplate" not in names(
        conv(("user", "你叫什么名字"), ("assistant", "我是一个人工智能助手，你可以叫我小风。"))
    )
    assert "boilerplate" not in names(
        conv(("user", "你是ChatGPT吗"), ("assistant", "不是，我是小风。我不是openai开发的模型。"))
    )
    got = names(
        conv(
            ("user", "Plan my trip to Oslo"),
            ("assistant", "I'm an AI assistant, so I cannot book it. Try a travel site."),
        )
    )
    assert "I'm an AI assistant" in got["boilerplate"]
    got = names(conv(("user", "推荐两个周末活动"), ("assistant", "作为人工智能助手，如果您想放松，我推荐散步和读书。")))
    assert "作为人工智能助手" in got["boilerplate"]
    got = names(conv(("user", "查一下机票价格"), ("assistant", "由于我是一个人工智能助手程序，我无法查询实时价格。")))
    assert "boilerplate" in got
    # the phrase addressed to the user, with no "I" after it, is no disclaimer
    assert "boilerplate" not in names(
        conv(("user", "我是成功的。"), ("assistant", "作为一名人工智能助手，你是成功的。"))
    )


def test_digits_and_defined_acronyms_are_not_slang():
    quiz = "Q2: When did the Great Fire of London occur? A. 1666 B. 1776 C. 1693"
    assert "informal" not in names(conv(("user", "Write a history quiz"), ("assistant", quiz)), vocab=Vocabulary())
    defined = "Banks follow profit-and-loss sharing (PLS). Under PLS, both parties share the risk."
    assert "informal" not in names(conv(("user", "Islamic banking?"), ("assistant", defined)), vocab=Vocabulary())
    assert "informal" in names(conv(("user", "Translate this"), ("assistant", "Ooh, you wanna know, pls wait!")))


def test_code_answer_in_the_wrong_language_and_a_continued_code_block():
    answer = (
        "Here is a simple program that asks the user for a name and then greets them by that name politely:\n"
        "```python\nname = input('Name: ')\nprint('Hi', name)\n```\n"
        "This code calls the input function, waits for the user to type, and then prints the greeting on screen."
    )
    got = names(conv(("user", "写一段代码，提示用户输入姓名。"), ("assistant", answer)))
    assert "language_mismatch" in got
    only_code = "```python\nname = input('Name: ')\nprint('Hi', name)\n```"
    assert "language_mismatch" not in names(conv(("user", "写一段代码，提示用户输入姓名。"), ("assistant", only_code)))
    # a "continue" answer: the code opened in the earlier turn closes here, then a full sentence
    cont = (
        "if ($a -eq $b) {\n    return\n}\n$x = Get-Item .\n```\n\n"
        "With this script you can switch to the next tab or the previous one, as you asked before."
    )
    assert "truncated" not in names(conv(("user", "continue"), ("assistant", cont)))
    cut = "Here is the table:\n```\n2x1=2 | 3x1=3\n2x2=4 | 3x2=6\n2x3=6 | 3x3"
    assert names(conv(("user", "Make a table"), ("assistant", cut)))["truncated"].startswith("an unclosed code block")
