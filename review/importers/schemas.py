"""Record formats: recognising them from a record's keys and turning records into Conversations.

Formats and the mapping each reports (the mapping says which source field fills which part):

alpaca
    {"prompt": "instruction", "query": "input", "answer": "output", "system": "system",
    "history": "history"}. The user turn is instruction + "\\n\\n" + input when input is not empty.
    `history` is a list of [user, assistant] pairs that become earlier turns.
sharegpt
    {"messages": "conversations", "role": "from", "content": "value", "system": "system",
    "tools": "tools"}; `messages` may name "messages" instead when that list holds from/value
    turns. Speakers: human/user -> user; gpt/assistant/chatgpt/bing/bard/model -> assistant;
    system -> system prompt (leading) or a system turn (later); function_call -> tool_call;
    observation/function/tool -> tool.
openai
    {"messages": "messages", "role": "role", "content": "content", "tools": "tools"};
    `messages` may name "conversations" when that list holds role/content turns. Content that is a
    list of parts keeps the text of text parts (joined by newlines) and shows every other part as
    "[type]", e.g. "[image_url]": the curator sees something was there and no image data lands in
    analysis. Assistant `tool_calls` become tool_call turns whose content is the JSON of the
    call's `function` ({"name", "arguments"}); role tool/function/ipython -> tool, named by `name`
    or else `tool_call_id`; leading system/developer messages form the system prompt. Other keys
    on the record (e.g. KTO's `label`) are ignored.
prompt_completion
    {"prompt": "prompt", "answer": "completion"}. `response` stands in for `completion` only when
    the record has no `completion`, `chosen` or `rejected` (with those it is preference data, and
    guessing which answer is "the" answer would be wrong). Either side may also be a list of
    role/content messages (TRL's conversational prompt-completion).
mapped
    The user's own mapping onto alpaca's shape: keys prompt and answer (required), query, system,
    history (optional).

Tool schemas (`tools`) are stored as JSON text: a string is kept as given, a list or object is
serialised.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from review.model import ASSISTANT, SYSTEM, TOOL, TOOL_CALL, USER, Conversation, Turn

from . import hints
from .errors import SKIP_HINT, RecordProblem, kind

FORMATS = ("alpaca", "sharegpt", "openai", "prompt_completion", "mapped")
MAPPING_KEYS = ("prompt", "query", "answer", "system", "history")

ALPACA = {"prompt": "instruction", "query": "input", "answer": "output", "system": "system", "history": "history"}
SHAREGPT = {"messages": "conversations", "role": "from", "content": "value", "system": "system", "tools": "tools"}
OPENAI = {"messages": "messages", "role": "role", "content": "content", "tools": "tools"}
PROMPT_COMPLETION = {"prompt": "prompt", "answer": "completion"}

SHAREGPT_ROLES = {
    "human": USER,
    "user": USER,
    "gpt": ASSISTANT,
    "assistant": ASSISTANT,
    "chatgpt": ASSISTANT,
    "bing": ASSISTANT,
    "bard": ASSISTANT,
    "model": ASSISTANT,
    "system": SYSTEM,
    "function_call": TOOL_CALL,
    "observation": TOOL,
    "function": TOOL,
    "tool": TOOL,
}
OPENAI_ROLES = {
    "system": SYSTEM,
    "developer": SYSTEM,
    "user": USER,
    "assistant": ASSISTANT,
    "tool": TOOL,
    "function": TOOL,
    "ipython": TOOL,
}
TEXT_PART_TYPES = ("text", "input_text", "output_text")

Converter = Callable[[dict], Conversation]


def classify(obj: dict) -> tuple[str, dict[str, str]] | None:
    """The format a single record looks like, with its mapping, or None."""
    for key in ("messages", "conversations"):
        turns = obj.get(key)
        if isinstance(turns, list):
            first = next((t for t in turns if isinstance(t, dict)), None)
            if first is None:
                continue
            if "from" in first and "value" in first:
                return "sharegpt", {**SHAREGPT, "messages": key}
            if "role" in first:
                return "openai", {**OPENAI, "messages": key}
    if "instruction" in obj and "output" in obj:
        return "alpaca", dict(ALPACA)
    if "prompt" in obj:
        if "completion" in obj:
            return "prompt_completion", dict(PROMPT_COMPLETION)
        if "response" in obj and "chosen" not in obj and "rejected" not in obj:
            return "prompt_completion", {"prompt": "prompt", "answer": "response"}
    return None


def detect(objs: Iterable[dict]) -> tuple[str, dict[str, str]] | None:
    """Majority vote over sampled records; ties go to the format seen first."""
    votes: dict[tuple, int] = {}
    for obj in objs:
        found = classify(obj)
        if found is not None:
            key = (found[0], tuple(found[1].items()))
            votes[key] = votes.get(key, 0) + 1
    if not votes:
        return None
    fmt, items = max(votes, key=lambda k: votes[k])  # max keeps the first of equal counts
    return fmt, dict(items)


def unknown_schema_hint(objs: list[dict]) -> tuple[str, str]:
    """(what, todo) for records no format matches: list the fields and suggest a mapping, judged
    by the fields' names and content (hints.py): a category, a placeholder the same in every record
    or an always-empty field is not suggested, and the reasons are given."""
    fields: list[str] = []
    seen: set[str] = set()  # a record may have many thousands of fields: no list scans
    nested: str | None = None
    for obj in objs:
        for k, v in obj.items():
            if k not in seen:
                seen.add(k)
                fields.append(k)
            if nested is None and isinstance(v, list) and v and all(isinstance(x, dict) for x in v[:5]):
                if not any(("role" in x and "content" in x) or ("from" in x and "value" in x) for x in v[:5]):
                    nested = k  # a list of turns is a conversation, not records to extract
    shown = ", ".join(repr(f) for f in fields[:20]) + (", ..." if len(fields) > 20 else "")
    guess = hints.suggest(objs)
    prompt, answer = guess.prompt or "FIELD", guess.answer or "FIELD"
    what = f"unknown schema: no known format matches the fields {shown or '(none)'}"
    example = f"--map prompt={prompt} --map answer={answer}" + (f" --map query={guess.query}" if guess.query else "")
    why = f" (judged from the first {len(objs)} records: {'; '.join(guess.left_out)})" if guess.left_out else ""
    todo = (
        f"say which fields to use, e.g. {example}{why}; "
        "mapping keys: prompt, answer, system, query; known formats: alpaca (instruction/input/output), "
        "sharegpt (conversations of from/value), openai (messages of role/content), "
        "prompt_completion (prompt/completion)"
    )
    if nested is not None:
        todo += f"; if the records are nested under {nested!r}, extract them first, e.g. jq -c '.{nested}[]'"
    return what, todo


def check_mapping(mapping: dict[str, str]) -> str | None:
    """Why a user mapping is unusable, or None."""
    bad = [k for k in mapping if k not in MAPPING_KEYS]
    if bad:
        return f"unknown mapping key {bad[0]!r} (use prompt, answer, system, query, history)"
    missing = [k for k in ("prompt", "answer") if not mapping.get(k)]
    if missing:
        return f"the mapping needs {' and '.join(missing)}"
    for k, v in mapping.items():
        if not isinstance(v, str) or not v:
            return f"mapping {k} must name a field, got {v!r}"
    return None


def converter(fmt: str, mapping: dict[str, str]) -> Converter:
    if fmt in ("alpaca", "mapped"):
        return _alpaca(mapping, fmt)
    if fmt == "sharegpt":
        return _sharegpt(mapping)
    if fmt == "openai":
        return _openai(mapping)
    if fmt == "prompt_completion":
        return _prompt_completion(mapping)
    raise ValueError(f"unknown format {fmt!r}")


def _missing(field: str, fmt: str, obj: dict | None = None, used: Iterable[str] = ()) -> RecordProblem:
    what = f"the record has no {field!r}, which the {fmt} format needs"
    other = hints.near_miss(obj, field, set(used)) if obj is not None else None
    if other is None:
        return RecordProblem(what, SKIP_HINT)
    return RecordProblem(
        f"{what}; it has {other!r}, the same field under another spelling?", SKIP_HINT, other, (other, field)
    )


def _not_string(field: str, value: Any) -> RecordProblem:
    return RecordProblem(f"{field!r} is {kind(value)}, expected a string", SKIP_HINT, field)


def _optional_text(obj: dict, field: str | None) -> str:
    if not field:
        return ""
    value = obj.get(field)
    if value is None:
        return ""
    if type(value) is not str:
        raise _not_string(field, value)
    return value


def _tools_text(obj: dict, field: str | None) -> str:
    if not field:
        return ""
    value = obj.get(field)
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    raise RecordProblem(
        f"{field!r} is {kind(value)}, expected a list of tool schemas or its JSON text", SKIP_HINT, field
    )


def _alpaca(mapping: dict[str, str], fmt: str) -> Converter:
    kp, ka = mapping["prompt"], mapping["answer"]
    kq, ks, kh = mapping.get("query"), mapping.get("system"), mapping.get("history")

    def convert(obj: dict) -> Conversation:
        try:
            prompt = obj[kp]
            answer = obj[ka]
        except KeyError as e:
            raise _missing(e.args[0], fmt, obj, mapping.values()) from None
        if type(prompt) is not str:
            raise _not_string(kp, prompt)
        if type(answer) is not str:
            raise _not_string(ka, answer)
        if kq:
            query = obj.get(kq)
            if query:
                if type(query) is not str:
                    raise _not_string(kq, query)
                prompt = prompt + "\n\n" + query
        system = _optional_text(obj, ks) if ks else ""
        last = (Turn(USER, prompt), Turn(ASSISTANT, answer))
        history = obj.get(kh) if kh else None
        if not history:
            return Conversation(system, last)
        return Conversation(system, _history(history, kh or "") + last)

    return convert


def _history(history: Any, field: str) -> tuple[Turn, ...]:
    if not isinstance(history, list):
        raise RecordProblem(
            f"{field!r} is {kind(history)}, expected a list of [user, assistant] pairs", SKIP_HINT, field
        )
    turns: list[Turn] = []
    for pair in history:
        if not (isinstance(pair, list) and len(pair) == 2 and all(type(x) is str for x in pair)):
            raise RecordProblem(
                f"{field!r} holds {kind(pair)} where a [user, assistant] pair of strings belongs", SKIP_HINT, field
            )
        turns += (Turn(USER, pair[0]), Turn(ASSISTANT, pair[1]))
    return tuple(turns)


def _call_name(text: str) -> str | None:
    """The function name inside a tool call's JSON text, where there is one."""
    try:
        call = json.loads(text)
    except (ValueError, RecursionError):
        return None
    name = call.get("name") if isinstance(call, dict) else None
    return name if isinstance(name, str) else None


def _turn_list(obj: dict, field: str) -> list:
    turns = obj.get(field)
    if turns is None:
        raise RecordProblem(f"the record has no {field!r} list of turns", SKIP_HINT)
    if not isinstance(turns, list):
        raise RecordProblem(f"{field!r} is {kind(turns)}, expected a list of turns", SKIP_HINT, field)
    if not turns:
        raise RecordProblem(f"{field!r} is an empty list: the conversation has no turns", SKIP_HINT, field)
    return turns


def _join(a: str, b: str) -> str:
    return f"{a}\n{b}" if a and b else a or b


def _sharegpt(mapping: dict[str, str]) -> Converter:
    km, kr, kc = mapping["messages"], mapping["role"], mapping["content"]
    ks, kt = mapping.get("system"), mapping.get("tools")

    def convert(obj: dict) -> Conversation:
        system = _optional_text(obj, ks)
        turns: list[Turn] = []
        for i, msg in enumerate(_turn_list(obj, km)):
            if type(msg) is not dict:
                raise RecordProblem(f"turn {i + 1} of {km!r} is {kind(msg)}, expected an object", SKIP_HINT, km)
            speaker = msg.get(kr)
            role = SHAREGPT_ROLES.get(speaker) if type(speaker) is str else None
            if role is None:
                raise RecordProblem(
                    f"turn {i + 1} has speaker {speaker!r}; known speakers: {', '.join(SHAREGPT_ROLES)}", SKIP_HINT, km
                )
            value = msg.get(kc)
            if type(value) is not str:
                if role in (TOOL_CALL, TOOL) and isinstance(value, (dict, list)):
                    value = json.dumps(value, ensure_ascii=False)
                else:
                    raise RecordProblem(f"turn {i + 1}'s {kc!r} is {kind(value)}, expected a string", SKIP_HINT, km)
            if role == SYSTEM and not turns:
                system = _join(system, value)
            else:
                turns.append(Turn(role, value, _call_name(value) if role == TOOL_CALL else None))
        if not turns:
            raise RecordProblem(f"{km!r} holds only a system prompt, no turns", SKIP_HINT, km)
        return Conversation(system, tuple(turns), _tools_text(obj, kt))

    return convert


def _content(content: Any, where: str) -> str:
    if type(content) is str:
        return content
    if content is None:
        return ""
    if isinstance(content, list):
        parts = []
        for part in content:
            if isinstance(part, str):
                parts.append(part)
            elif isinstance(part, dict):
                ptype = part.get("type")
                text = part.get("text") if ptype in TEXT_PART_TYPES else part.get("refusal")
                if isinstance(text, str):
                    parts.append(text)
                else:
                    parts.append(f"[{ptype if isinstance(ptype, str) else 'part'}]")
            else:
                raise RecordProblem(f"{where} holds {kind(part)} among its content parts", SKIP_HINT)
        return "\n".join(parts)
    raise RecordProblem(f"{where}'s content is {kind(content)}, expected a string or a list of parts", SKIP_HINT)


def _tool_calls(msg: dict, where: str) -> list[Turn]:
    calls = msg.get("tool_calls")
    if calls is None:
        calls = [{"function": msg["function_call"]}] if msg.get("function_call") else []
    if not isinstance(calls, list):
        raise RecordProblem(f"{where}'s tool_calls is {kind(calls)}, expected a list", SKIP_HINT)
    turns = []
    for call in calls:
        if not isinstance(call, dict):
            raise RecordProblem(f"{where} has a tool call that is {kind(call)}, expected an object", SKIP_HINT)
        fn = call.get("function", call)
        name = fn.get("name") if isinstance(fn, dict) else None
        turns.append(Turn(TOOL_CALL, json.dumps(fn, ensure_ascii=False), name if isinstance(name, str) else None))
    return turns


def _messages(messages: list, field: str, kr: str, kc: str, system: str) -> tuple[str, list[Turn]]:
    turns: list[Turn] = []
    for i, msg in enumerate(messages):
        where = f"message {i + 1} of {field!r}"
        if type(msg) is not dict:
            raise RecordProblem(f"{where} is {kind(msg)}, expected an object", SKIP_HINT, field)
        speaker = msg.get(kr)
        role = OPENAI_ROLES.get(speaker) if type(speaker) is str else None
        if role is None:
            raise RecordProblem(
                f"{where} has role {speaker!r}; known roles: {', '.join(OPENAI_ROLES)}", SKIP_HINT, field
            )
        text = _content(msg.get(kc), where)
        if role == SYSTEM and not turns:
            system = _join(system, text)
        elif role == ASSISTANT:
            calls = _tool_calls(msg, where)
            if text or not calls:
                turns.append(Turn(ASSISTANT, text))
            turns += calls
        elif role == TOOL:
            name = msg.get("name") or msg.get("tool_call_id")
            turns.append(Turn(TOOL, text, name if isinstance(name, str) else None))
        else:
            turns.append(Turn(role, text))
    return system, turns


def _openai(mapping: dict[str, str]) -> Converter:
    km, kr, kc, kt = mapping["messages"], mapping["role"], mapping["content"], mapping.get("tools")

    def convert(obj: dict) -> Conversation:
        system, turns = _messages(_turn_list(obj, km), km, kr, kc, "")
        if not turns:
            raise RecordProblem(f"{km!r} holds only a system prompt, no turns", SKIP_HINT, km)
        tools = _tools_text(obj, kt) or _tools_text(obj, "functions")
        return Conversation(system, tuple(turns), tools)

    return convert


def _prompt_completion(mapping: dict[str, str]) -> Converter:
    kp, ka = mapping["prompt"], mapping["answer"]

    def side(obj: dict, field: str, role: str, system: str) -> tuple[str, list[Turn]]:
        value = obj[field]
        if type(value) is str:
            return system, [Turn(role, value)]
        if isinstance(value, list):
            return _messages(value, field, "role", "content", system)
        raise RecordProblem(f"{field!r} is {kind(value)}, expected a string or a list of messages", SKIP_HINT, field)

    def convert(obj: dict) -> Conversation:
        if kp not in obj:
            raise _missing(kp, "prompt_completion", obj, mapping.values())
        if ka not in obj:
            raise _missing(ka, "prompt_completion", obj, mapping.values())
        system, prompt = side(obj, kp, USER, "")
        system, answer = side(obj, ka, ASSISTANT, system)
        return Conversation(system, tuple(prompt + answer), _tools_text(obj, "tools"))

    return convert
