"""review.prompt: two samples ask the same question when tools, earlier turns and the turn match."""

from __future__ import annotations

import json

from builders import write_jsonl

from review.flags import hash_flags
from review.model import ASSISTANT, USER, Conversation, Turn
from review.prompt import context_key, depends_on_context, question_key, same_question, tool_signature
from review.store import Store


def _tool(name: str, **params: str) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": f"{name} does things",
            "parameters": {"type": "object", "properties": {p: {"type": t} for p, t in params.items()}},
        },
    }


CALENDAR = json.dumps([_tool("create_calendar_event", title="string", date="string")])
DISCOUNT = json.dumps([_tool("calculate_discount", price="number", percent="number")])


def conv(*turns: tuple[str, str], tools: str = "", system: str = "") -> Conversation:
    return Conversation(system, tuple(Turn(r, c) for r, c in turns), tools)


PIZZA = ((USER, "Can you order a pizza for me?"), (ASSISTANT, "I can't do that."))


def test_tool_schema_is_part_of_the_question():
    with_calendar = conv(*PIZZA, tools=CALENDAR)
    with_discount = conv(*PIZZA, tools=DISCOUNT)
    assert question_key(with_calendar) != question_key(with_discount)
    assert not same_question(with_calendar, with_discount)
    assert question_key(with_calendar) != question_key(conv(*PIZZA))  # no tools is another setting


def test_tool_schema_compared_by_names_and_parameters_not_wording_or_order():
    a = [_tool("create_calendar_event", title="string", date="string"), _tool("get_weather", city="string")]
    b = [dict(t) for t in reversed(a)]
    b[0] = {"type": "function", "function": {**a[1]["function"], "description": "another description"}}
    assert tool_signature(json.dumps(a)) == tool_signature(json.dumps(b))
    assert same_question(conv(*PIZZA, tools=json.dumps(a)), conv(*PIZZA, tools=json.dumps(b)))
    # a parameter's type changes the task
    c = [_tool("create_calendar_event", title="string", date="integer"), _tool("get_weather", city="string")]
    assert tool_signature(json.dumps(c)) != tool_signature(json.dumps(a))
    # plain {"name", "parameters"} lists read like OpenAI's
    plain = [{"name": t["function"]["name"], "parameters": t["function"]["parameters"]} for t in a]
    assert tool_signature(json.dumps(plain)) == tool_signature(json.dumps(a))
    # text that is not a tool list still separates samples
    assert tool_signature("not json") != tool_signature("other text") and tool_signature("") == ""


def test_a_follow_up_is_asked_by_the_conversation_before_it():
    poem = conv((USER, "写一首关于秋天的诗"), (ASSISTANT, "秋风起……"), (USER, "继续"), (ASSISTANT, "落叶飞……"))
    code = conv((USER, "用Python写一个快速排序"), (ASSISTANT, "def qsort(a): ..."), (USER, "继续"), (ASSISTANT, "..."))
    assert question_key(poem) != question_key(code)
    # the same conversation before "继续": the same question, whatever the answer
    again = conv((USER, "写一首关于秋天的诗"), (ASSISTANT, "秋风起……"), (USER, "继续"), (ASSISTANT, "霜满天"))
    assert same_question(poem, again)
    # turns compare normalised (NFKC, whitespace, case) and with their roles
    spaced = conv((USER, "写一首关于秋天的诗 "), (ASSISTANT, "秋风起……"), (USER, " 继续"), (ASSISTANT, "x"))
    assert same_question(poem, spaced)
    swapped = conv((ASSISTANT, "写一首关于秋天的诗"), (USER, "秋风起……"), (USER, "继续"), (ASSISTANT, "x"))
    assert not same_question(poem, swapped)
    # the first exchange of each is asked in one setting (nothing before it), the follow-ups are not
    assert context_key(poem, 0) == context_key(code, 0)
    assert context_key(poem, 2) != context_key(code, 2)
    assert question_key(poem, 1) != question_key(code, 1)  # the first turns themselves differ


def test_system_prompt_is_not_part_of_the_question():
    nora = conv((USER, "How long is the refund window?"), (ASSISTANT, "30 days."), system="You are Nora, be brief.")
    max_ = conv((USER, "How long is the refund window?"), (ASSISTANT, "7 days."), system="You are Max, be chatty.")
    assert same_question(nora, max_)
    assert question_key(nora) == question_key(conv((USER, "How long is the refund window?"), (ASSISTANT, "-")))


def test_no_user_turn_no_question():
    assert question_key(conv((ASSISTANT, "Hello."))) == ""
    assert not same_question(conv((ASSISTANT, "Hello.")), conv((ASSISTANT, "Hi.")))


def _openai(user: str, answer: str, tools: list | None = None, before: tuple[str, ...] = ()) -> dict:
    msgs = []
    for i, text in enumerate(before):
        msgs.append({"role": "user" if i % 2 == 0 else "assistant", "content": text})
    msgs += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
    rec: dict = {"messages": msgs}
    if tools is not None:
        rec["tools"] = tools
    return rec


def test_same_prompt_flag_follows_the_question(tmp_path):
    records = [
        _openai(
            "Can you order a pizza for me?",
            "No, I can only create calendar events.",
            [_tool("create_calendar_event", title="string")],
        ),
        _openai(
            "Can you order a pizza for me?",
            "No, I can only calculate discounts.",
            [_tool("calculate_discount", price="number")],
        ),
        _openai("Can you order a pizza for me?", "Sorry, I cannot.", [_tool("create_calendar_event", title="string")]),
        _openai("继续", "落叶飞……", before=("写一首关于秋天的诗", "秋风起……")),
        _openai("继续", "return qsort(left) + ...", before=("用Python写一个快速排序", "def qsort(a): ...")),
        _openai("继续", "霜满天", before=("写一首关于秋天的诗", "秋风起……")),
    ]
    store = Store(tmp_path / "p.db")
    store.import_file(write_jsonl(tmp_path / "tools.jsonl", records))
    goal, _ = store.add_goal("answer well")

    def same_prompt(sid: int) -> set[int]:
        flags = hash_flags(store, goal.id, store.sample(sid))
        return {f.partner for f in flags if f.kind == "same-prompt"}

    assert same_prompt(1) == {3}  # not 2: other tools, another question
    assert same_prompt(2) == set()
    assert same_prompt(4) == {6}  # not 5: "继续" after another conversation
    assert same_prompt(5) == set()
    store.close()


def test_only_a_follow_up_that_leans_on_the_conversation_takes_it_in():
    alone = conv((USER, "Are you ChatGPT?"), (ASSISTANT, "No."))
    after_greeting = conv(
        (USER, "What is up?"),
        (ASSISTANT, "Hello! How can I help you today?"),
        (USER, "Are you ChatGPT?"),
        (ASSISTANT, "No!"),
    )
    assert same_question(alone, after_greeting)  # fastchat: one identity question, wherever it is asked
    tell = conv((USER, "Tell me your name."), (ASSISTANT, "Vicuna."))
    tell_after = conv(
        (USER, "Hi"), (ASSISTANT, "Hello! How can I help you today?"), (USER, "Tell me your name."), (ASSISTANT, "-")
    )
    assert same_question(tell, tell_after)  # a request of its own, not a reply to "How can I help?"
    assert context_key(alone, 0) == context_key(after_greeting, 2)
    # short, deictic or thankful turns, and replies to the assistant's own question, lean on what came before
    for text in (
        "继续",
        "1",
        "A",
        "?",
        "go on",
        "那退货期限是多久？",
        "好的,谢谢医生的建议!",
        "Can you make it shorter?",
    ):
        turns = conv((USER, "写一首诗"), (ASSISTANT, "秋风起。"), (USER, text)).turns
        assert depends_on_context(turns, 2), text
    reply = conv((USER, "我头疼"), (ASSISTANT, "您今年多大年纪？"), (USER, "我今年45岁了。")).turns
    assert depends_on_context(reply, 2)
    for text in (
        "Can you explain the difference between supervised and unsupervised learning?",
        "区块链技术是如何工作的?",
    ):
        turns = conv((USER, "写一首诗"), (ASSISTANT, "秋风起。"), (USER, text)).turns
        assert not depends_on_context(turns, 2), text
    assert not depends_on_context(reply, 0)  # nothing before the first turn
