"""Convert a canonical conversation to a common trainer layout, refusing what would lose data.

Used by `winnow export --to FORMAT` when the user asks for a layout other than the input's.
Each converter returns a JSON object (a dict) or raises LossyConversion saying what cannot be
carried over.

alpaca     system -> "system"; earlier user/assistant pairs -> "history"; last user turn ->
           "instruction" ("input" empty); the answer -> "output". Refuses tool calls / tool
           results, a conversation that does not alternate user/assistant, or ends on the user.
sharegpt   {"conversations": [{"from", "value"}], "system"?, "tools"?}: user -> human,
           assistant -> gpt, tool_call -> function_call, tool -> observation. Carries everything.
openai     {"messages": [{"role", "content"}], "tools"?}: system first; tool_call turns become an
           assistant message with `tool_calls`; tool turns become role "tool". Carries everything.

Every target refuses a preference pair (its rejected answer), a KTO label and media references:
those records export in their own layout only. So is a record with fields the conversion would
drop (`unconverted_fields`: a per-message `weight`, a record-level `meta`), checked by export.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from .model import ASSISTANT, TOOL, TOOL_CALL, USER, Conversation

TARGETS = ("alpaca", "sharegpt", "openai")


class LossyConversion(ValueError):
    pass


def to_alpaca(conv: Conversation) -> dict:
    if any(t.role in (TOOL_CALL, TOOL) for t in conv.turns):
        raise LossyConversion("has tool calls or tool results, which Alpaca cannot hold — export as sharegpt or openai")
    roles = [t.role for t in conv.turns]
    if (
        not roles
        or roles[-1] != ASSISTANT
        or len(roles) % 2
        or any(r != (USER if i % 2 == 0 else ASSISTANT) for i, r in enumerate(roles))
    ):
        raise LossyConversion("does not alternate user/assistant ending on the assistant, as Alpaca needs")
    pairs = [[conv.turns[i].content, conv.turns[i + 1].content] for i in range(0, len(roles) - 2, 2)]
    rec: dict = {"instruction": conv.turns[-2].content, "input": "", "output": conv.turns[-1].content}
    if conv.system:
        rec["system"] = conv.system
    if pairs:
        rec["history"] = pairs
    return rec


_SHAREGPT_FROM = {USER: "human", ASSISTANT: "gpt", TOOL_CALL: "function_call", TOOL: "observation", "system": "system"}


def to_sharegpt(conv: Conversation) -> dict:
    rec: dict = {"conversations": [{"from": _SHAREGPT_FROM[t.role], "value": t.content} for t in conv.turns]}
    if conv.system:
        rec["system"] = conv.system
    if conv.tools:
        rec["tools"] = conv.tools
    return rec


def to_openai(conv: Conversation) -> dict:
    msgs: list[dict] = [{"role": "system", "content": conv.system}] if conv.system else []
    n_call = 0
    for t in conv.turns:
        if t.role == TOOL_CALL:
            try:
                fn = json.loads(t.content)
            except json.JSONDecodeError:
                fn = {"name": t.name or "", "arguments": t.content}
            if not isinstance(fn, dict):
                fn = {"name": t.name or "", "arguments": json.dumps(fn, ensure_ascii=False)}
            if isinstance(fn.get("arguments"), (dict, list)):
                fn = {**fn, "arguments": json.dumps(fn["arguments"], ensure_ascii=False)}
            n_call += 1
            call = {"id": f"call_{n_call}", "type": "function", "function": fn}
            if msgs and msgs[-1]["role"] == "assistant" and "tool_calls" in msgs[-1]:
                msgs[-1]["tool_calls"].append(call)
            else:
                msgs.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif t.role == TOOL:
            msg = {"role": "tool", "content": t.content, "tool_call_id": f"call_{n_call}"}
            if t.name:
                msg["name"] = t.name
            msgs.append(msg)
        else:
            msgs.append({"role": t.role, "content": t.content})
    rec: dict = {"messages": msgs}
    if conv.tools:
        try:
            rec["tools"] = json.loads(conv.tools)
        except json.JSONDecodeError:
            rec["tools"] = conv.tools
    return rec


CONVERTERS = {"alpaca": to_alpaca, "sharegpt": to_sharegpt, "openai": to_openai}


def _refuse_what_no_target_holds(conv: Conversation) -> None:
    """A preference pair, a KTO label or media references have no place in the SFT layouts:
    refuse rather than write a record without them (export such a source in its own layout)."""
    if conv.rejected:
        raise LossyConversion(
            "is a preference pair, whose rejected answer no SFT layout holds — export it in its own layout (drop --to)"
        )
    if conv.label is not None:
        raise LossyConversion("has a KTO label, which no SFT layout holds — export it in its own layout (drop --to)")
    if conv.media:
        raise LossyConversion(
            "refers to images, audio or video, which the converted layouts do not carry — export it in its own layout (drop --to)"
        )


# What a message object of any layout carries that the canonical conversation holds: its role,
# its text (or parts), tool calls and the call's id and name. Anything else on a message (a
# LLaMA-Factory/axolotl `weight`, a `loss` switch) is data a converted record would not carry.
MESSAGE_KEYS = frozenset(
    {"role", "content", "from", "value", "tool_calls", "tool_call_id", "name", "function_call", "type", "id"}
    | {"human", "assistant"}  # a MOSS/Firefly pair's two turns
)
RECORD_KEYS = frozenset({"system", "tools"})  # read by every layout that has them


def _carries(value: object) -> bool:
    """Does the field hold data? null, "" and empty lists/objects do not; 0 and false do."""
    return value is not None and value != "" and value != [] and value != {}


def unconverted_fields(raw: str, read: Iterable[str]) -> list[str]:
    """Fields of an original JSON record that a converted record would not carry: top-level keys
    other than the source's mapped ones (`read`: the mapping's values) and, in the mapped message
    lists, message keys other than MESSAGE_KEYS — each only where it holds a value ("weight": 0
    does: it changes what is trained on). A record that is not a JSON object has none."""
    try:
        obj = json.loads(raw)
    except (ValueError, RecursionError):
        return []
    if not isinstance(obj, dict):
        return []
    keys = set(read) | RECORD_KEYS
    out: list[str] = []
    for key, value in obj.items():
        if key not in keys:
            if _carries(value):
                out.append(key)
            continue
        if isinstance(value, list):
            for i, msg in enumerate(value):
                if isinstance(msg, dict):
                    out += [f"{key}[{i}].{k}" for k, v in msg.items() if k not in MESSAGE_KEYS and _carries(v)]
    return out


def convert(conv: Conversation, target: str) -> str:
    """One record as JSON text in the target layout."""
    _refuse_what_no_target_holds(conv)
    return json.dumps(CONVERTERS[target](conv), ensure_ascii=False)
