"""Prompt identity: when two samples ask *the same question*.

A user turn alone is not the question. What a model is asked at a turn is everything it is given
before it answers:

* the tools it may call: the tool schema, reduced to what changes the task — each tool's name and
  its parameters (name, type, required), sorted; descriptions and key order do not count. "Can you
  order a pizza?" with `create_calendar_event` and with `calculate_discount` are two questions
  (the right answer names what the assistant *can* do).
* not the system prompt. A choice: a system prompt sets a persona and a tone ("You are Nora, keep
  answers short"); the facts a dataset teaches (a refund window, a dose, a phone number) must not
  change with it, so the same question under two personas is still the same question, and two
  answers that disagree on a fact under them are a contradiction. Tone under a persona is the drift
  check's business. (A tool schema written into the system prompt instead of the tools field is
  not read out of it.)
* the conversation up to the reply (every turn before it, each with its role, the user turn
  itself last, or a tool's result after it): "继续", "1", "A", "?" after two different
  conversations are two different questions, after the same conversation the same one.
  Turns are compared normalised (`model.normalise`: NFKC, whitespace, case).

`question_key` hashes that. It is *not* `samples.prompt_hash` (system + prompt turns, without roles
or tools): that hash is what export verifies against the canonical conversation, so it keeps its
meaning and no migration recomputes it; the question key is computed from the conversation where
a "same question" is decided (the style run's same-question groups and contradictions, the
same-prompt flag). This module imports only the standard library and `review.model`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence

from .model import ANSWER_ROLES, USER, Conversation, Turn, normalise

_SEP = "\x1e"


def _params(schema: object) -> list[list]:
    """[(name, type, required)] of a JSON-schema `parameters` object, sorted; nested objects by name only."""
    if not isinstance(schema, dict):
        return []
    props = schema.get("properties")
    required = schema.get("required")
    req = {str(r) for r in required} if isinstance(required, list) else set()
    out: list[list] = []
    if isinstance(props, dict):
        for name, spec in props.items():
            typ = spec.get("type") if isinstance(spec, dict) else None
            out.append([str(name), typ if isinstance(typ, str) else json.dumps(typ, sort_keys=True), name in req])
    return sorted(out)


def tool_signature(tools: str) -> str:
    """The tool schema as it changes the question: sorted [name, [[param, type, required], ...]] JSON.

    OpenAI ({"type": "function", "function": {...}}) and plain ({"name", "parameters"}) tool lists
    both reduce to names and parameters. Text that is not a JSON list of tools is normalised as
    text (a schema winnow cannot read still separates samples whose schemas differ). No tools: "".
    """
    if not tools or not tools.strip():
        return ""
    try:
        data = json.loads(tools)
    except ValueError:
        return normalise(tools)
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        return normalise(tools)
    sig: list[list] = []
    for t in data:
        if not isinstance(t, dict):
            sig.append(["?", normalise(json.dumps(t, ensure_ascii=False, sort_keys=True))])
            continue
        inner = t.get("function")
        fn: dict = inner if isinstance(inner, dict) else t
        name = fn.get("name")
        sig.append([str(name) if name is not None else "?", _params(fn.get("parameters"))])
    if not sig:
        return ""
    return json.dumps(sorted(sig), ensure_ascii=False, separators=(",", ":"))


def answer_start(turns: Sequence[Turn]) -> int:
    """Index where the final answer starts (the trailing run of assistant-side turns), as `Conversation.split`."""
    i = len(turns)
    while i > 0 and turns[i - 1].role in ANSWER_ROLES:
        i -= 1
    return i


def context_text(conv: Conversation, end: int) -> str:
    """Tool signature and turns[:end] with their roles, normalised: what a reply at `end` answers."""
    parts = ["tools:" + tool_signature(conv.tools)]
    parts += [t.role + ":" + normalise(t.content) for t in conv.turns[:end]]
    return _SEP.join(parts)


# A follow-up that leans on what came before: a pronoun or "that/again/more", thanks or an
# acknowledgement (their answers restate the advice given), 继续 / 那 / 还有. Marking too many turns
# as dependent only splits groups (a missed same question); too few would merge different ones.
_DEIXIS = re.compile(
    r"\b(?:it|its|this|that|these|those|them|they|their|above|previous|again|more|else|another|also|too|same|"
    r"then|continue|go on|thanks?|ok|okay|great|sure|yes|no)\b|"
    r"它|这|那|上面|上述|刚才|之前|继续|还有|还需|其他|其它|呢|谢谢|感谢|明白|好的|知道了|再|也",
    re.I,
)
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_WORD = re.compile(r"[^\W_]+")
_QMARK = re.compile(r"[?？]")
# A turn that opens as a request or a question of its own ("Tell me your name.", "请介绍一下…") is not
# a reply to the assistant's question, even without a question mark.
_REQUEST = re.compile(
    r"^(?:tell|please|give|show|explain|describe|list|write|introduce|translate|summari[sz]e|what|who|whom|"
    r"which|how|why|when|where|can|could|would|will|is|are|do|does|did|should|may)\b|"
    r"^(?:请|告诉|介绍|解释|描述|列出|写|给我|翻译|总结|你是|你能|你可以|什么|为什么|如何|怎么|哪)"
)


def depends_on_context(turns: Sequence[Turn], at: int) -> bool:
    """Does the user turn `at` need the turns before it to be understood? Short turns ("继续", "1",
    "A", "?", "go on"), deictic or thankful ones (_DEIXIS), and replies to the assistant's own
    question (the turn before asks, this one does not: "我今年45岁了。") do; "Are you ChatGPT?" or
    "Can you explain the difference between X and Y?" after a greeting do not: the same question."""
    if at <= 0:
        return False
    text = normalise(turns[at].content)
    cjk = len(_CJK.findall(text))
    words = len([w for w in _WORD.findall(_CJK.sub(" ", text))])
    if cjk + words <= 2 or (cjk and cjk <= 4 and words <= 1) or _DEIXIS.search(text):
        return True
    prev = turns[at - 1]
    asked = prev.role in ANSWER_ROLES and bool(_QMARK.search(prev.content.strip()[-2:]))
    return asked and not _QMARK.search(text) and not _REQUEST.search(text)


def _question_turn(turns: Sequence[Turn], end: int) -> int:
    """Index of the last user turn before `end` (-1: none)."""
    return next((i for i in range(end - 1, -1, -1) if turns[i].role == USER), -1)


def question_identity(conv: Conversation, end: int | None = None) -> str:
    """The text that says "the same question" for a reply starting at turn `end` (default: the final
    answer): the tools, the last user turn before `end` and what follows it (tool results), and,
    when that turn depends on them (`depends_on_context`), every turn before it. "" without a user turn."""
    k = answer_start(conv.turns) if end is None else end
    u = _question_turn(conv.turns, k)
    if u < 0:
        return ""
    if depends_on_context(conv.turns, u):
        return context_text(conv, k)
    parts = ["tools:" + tool_signature(conv.tools)]
    parts += [t.role + ":" + normalise(t.content) for t in conv.turns[u:k]]
    return _SEP.join(parts)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def question_key(conv: Conversation, end: int | None = None) -> str:
    """Hash of `question_identity`: equal for two replies exactly when they answer the same question. "" without one."""
    text = question_identity(conv, end)
    return _digest(text) if text else ""


def context_key(conv: Conversation, upto: int) -> str:
    """Hash of what comes before the user turn at `upto` (tools, and the earlier turns when it depends
    on them): equal when two questions are asked in the same setting, so that only the question's own
    wording is compared."""
    if 0 <= upto < len(conv.turns) and not depends_on_context(conv.turns, upto):
        return _digest(context_text(conv, 0))
    return _digest(context_text(conv, upto))


def same_question(a: Conversation, b: Conversation) -> bool:
    """Do the final answers of `a` and `b` reply to the same question (tools and context included)?"""
    ka = question_key(a)
    return bool(ka) and ka == question_key(b)


__all__ = [
    "answer_start",
    "context_key",
    "context_text",
    "depends_on_context",
    "question_identity",
    "question_key",
    "same_question",
    "tool_signature",
]
