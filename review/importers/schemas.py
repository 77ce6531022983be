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
    list of parts keeps the text of text parts (`text`, or LLaMA-Factory v1's `value`; joined by
    newlines), reasoning parts as "[reasoning]" and their text, media parts as a reference
    ("[image: https://...]", never the data), a `tool_call` part of an assistant message as a
    tool_call turn, and any other part as "[type]" and its text; a part with no text that holds
    anything else is refused naming its type (it would show as "[type]" alone). Assistant `tool_calls` become tool_call turns whose content is the JSON of the
    call's `function` ({"name", "arguments"}); role tool/function/ipython -> tool, named by `name`
    or else `tool_call_id`; leading system/developer messages form the system prompt. KTO's
    boolean `label` is read (below); other keys that carry no answer are ignored.
prompt_completion
    {"prompt": "prompt", "answer": "completion"}. `response` stands in for `completion` only when
    the record has no `completion`, `chosen` or `rejected` (with those it is preference data, and
    guessing which answer is "the" answer would be wrong). Either side may also be a list of
    role/content messages (TRL's conversational prompt-completion).
conversation
    {"messages": "conversation", "user": "human", "assistant": "assistant", "system": "system"}:
    MOSS / Firefly records, `conversation: [{"human": ..., "assistant": ...}, ...]`, each pair two
    turns (a pair may hold one side only). A pair with another key that holds a value is refused
    naming it; record-level keys (conversation_id, category, num_turns) are metadata.
text_pair
    {"chosen": "chosen", "rejected": "rejected"}: Anthropic HH-RLHF, two whole chats as text in the
    markers of text_chat; they must agree up to the last answer, which is the pair's two answers.
text_chat
    {"text": "text"}: one text holding the whole chat, split into turns at its speaker markers:
    `### Human:` / `### Assistant:` (Guanaco), `Human:` / `Assistant:` at the start of a line
    (Anthropic HH), or `<|user|>` / `<|assistant|>` / `<|system|>` (Zephyr). The record must start
    with a marker (text before the first one is refused); each turn's text is stripped of the
    whitespace around it, and export writes the record verbatim.
mapped
    The user's own mapping onto alpaca's shape: keys prompt and answer (required), query, system,
    history (optional).

Preference data (issue 15): a pair keeps the chosen answer as the sample's answer (its `turns`)
and the rejected answer in `Conversation.rejected`; a KTO record keeps its boolean in `label`.
sharegpt_pair
    LLaMA-Factory's ShareGPT ranking layout: {"messages": "conversations", "role": "from",
    "content": "value", "chosen": "chosen", "rejected": "rejected", "system": "system", "tools":
    "tools"}. `chosen` and `rejected` are each one message (or a list of messages) answering the
    conversation; role/content may be role/content instead of from/value.
openai_pair
    {"chosen": "chosen_messages", "rejected": "rejected_messages", "role": "role", "content":
    "content"}: two whole conversations (LLaMA-Factory v1, TRL's implicit prompt under
    chosen/rejected). They must be the same up to the answer; the shared part is the prompt.
alpaca_pair
    {"prompt": "instruction", "query": "input", "chosen": "chosen", "rejected": "rejected",
    "system": "system", "history": "history"}: strings, as LLaMA-Factory's Alpaca ranking layout.
trl_pair
    {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}: TRL's explicit-prompt
    preference layout; each side a string or a list of role/content messages.
KTO
    sharegpt, openai or prompt_completion records with a boolean `label` read it ({"label":
    "label"} in the mapping, when any sampled record has one); a record without it is unlabelled,
    any other label value is refused.

Media: a record's `images`, `videos` and `audios` lists (LLaMA-Factory's multimodal layout) are
kept as references ("image: path") in `Conversation.media`; content parts of type image/audio/
video (image_url, input_audio...) become "[image: url]" in the text. No media data is loaded.

No silent loss: a record holding a field that carries an answer or what the answer depends on
(ANSWER_FIELDS: chosen, rejected, response, completion, output, label, history, tools, images...)
that its format does not read is refused naming the field, with the format that reads it.

Tool schemas (`tools`) are stored as JSON text: a string is kept as given, a list or object is
serialised.

Keys spelt another way (issue 15): a record of a built-in format that lacks one of the format's
record-level keys (alpaca: instruction, input, output, system, history; the messages, tools,
chosen, rejected, prompt, completion... of the others) but has exactly one key that is that key
spelt another way (hints.spelt_as: ignoring case, the same first letter, at least 5 characters,
Damerau-Levenshtein distance 1, or 2 for keys of 8 characters or more, or a cut such as
`instruct`) is read as if it had that key: `instuction` and `instruct` as `instruction`. Never
when the key is one some format reads (`conversations` is not `conversation`, `chosen` is not
`chosen_messages`), when two keys of the record could be the missing one, or when the key could
also be another key of the format or a key some format reads: then nothing is renamed, and a
missing required key is refused as before, with the jq command that renames it. The rule is
applied record by record, the same way at import and when export checks a record again, and is
not applied to the `mapped` format (--map without --format: the user named the fields) nor to a
dataset_info.json layout (LLaMA-Factory reads its columns by their exact names). The record's raw text is kept as it is, so export writes it byte for byte;
the converter counts each spelling read (RecordConverter.respelt) and the import summary says so.
Detection is by the exact keys: a file whose sampled records all spell a key another way is an
unknown schema (its hint suggests the --map).
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from review.model import ANSWER_ROLES, ASSISTANT, SYSTEM, TOOL, TOOL_CALL, USER, Conversation, Turn

from . import hints
from .errors import SKIP_HINT, RecordProblem, kind

FORMATS = (
    "alpaca",
    "sharegpt",
    "openai",
    "prompt_completion",
    "sharegpt_pair",
    "openai_pair",
    "alpaca_pair",
    "trl_pair",
    "conversation",
    "text_chat",
    "text_pair",
    "mapped",
)
PAIR_FORMATS = ("sharegpt_pair", "openai_pair", "alpaca_pair", "trl_pair", "text_pair")
MAPPING_KEYS = ("prompt", "query", "answer", "system", "history")
SHAREGPT_PAIR = {
    **{"messages": "conversations", "role": "from", "content": "value"},
    "chosen": "chosen",
    "rejected": "rejected",
    "system": "system",
    "tools": "tools",
}
OPENAI_PAIR = {
    "chosen": "chosen_messages",
    "rejected": "rejected_messages",
    "role": "role",
    "content": "content",
    "tools": "tools",
}
ALPACA_PAIR = {
    "prompt": "instruction",
    "query": "input",
    "chosen": "chosen",
    "rejected": "rejected",
    "system": "system",
    "history": "history",
}
TRL_PAIR = {"prompt": "prompt", "chosen": "chosen", "rejected": "rejected"}
# Top-level fields that carry an answer, or what an answer depends on: a record holding one (not
# empty) that its format does not read is refused naming it (see _unread).
ANSWER_FIELDS = (
    "chosen",
    "rejected",
    "chosen_messages",
    "rejected_messages",
    "response",
    "completion",
    "output",
    "label",
    "history",
    "tools",
    "functions",
    "conversations",
    "messages",
)
MEDIA_FIELDS = {"images": "image", "videos": "video", "audios": "audio"}
# Which format reads a field, for the refusal's "what to do".
_READ_BY = {
    "chosen": "a preference layout (sharegpt_pair, alpaca_pair, trl_pair)",
    "rejected": "a preference layout (sharegpt_pair, alpaca_pair, trl_pair)",
    "chosen_messages": "openai_pair",
    "rejected_messages": "openai_pair",
    "label": "KTO (openai/sharegpt messages with a boolean label)",
}

ALPACA = {"prompt": "instruction", "query": "input", "answer": "output", "system": "system", "history": "history"}
SHAREGPT = {"messages": "conversations", "role": "from", "content": "value", "system": "system", "tools": "tools"}
OPENAI = {"messages": "messages", "role": "role", "content": "content", "tools": "tools"}
PROMPT_COMPLETION = {"prompt": "prompt", "answer": "completion"}
CONVERSATION = {"messages": "conversation", "user": "human", "assistant": "assistant", "system": "system"}
TEXT_CHAT = {"text": "text"}
TEXT_PAIR = {"chosen": "chosen", "rejected": "rejected"}
# Speaker markers of chats kept as one text, each family with its own regular expression: the
# group is the speaker. "Human:" counts only at the start of a line (or of the text).
TEXT_MARKERS = (
    (re.compile(r"###\s*(Human|Assistant)\s*:"), {"Human": USER, "Assistant": ASSISTANT}),
    (re.compile(r"(?:^|(?<=\n))(Human|Assistant)\s*:"), {"Human": USER, "Assistant": ASSISTANT}),
    (re.compile(r"<\|(user|assistant|system)\|>"), {"user": USER, "assistant": ASSISTANT, "system": SYSTEM}),
)

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
REASONING_PART_TYPES = ("reasoning", "thinking")
# Content parts that refer to media: shown as "[image: url]", never loaded.
MEDIA_PART_TYPES = {
    "image": "image",
    "image_url": "image",
    "input_image": "image",
    "audio": "audio",
    "input_audio": "audio",
    "audio_url": "audio",
    "video": "video",
    "video_url": "video",
    "file": "file",
    "input_file": "file",
}

Converter = Callable[[dict], Conversation]

# Keys of a mapping that name no field: LLaMA-Factory's role tags (values a turn's role field
# takes) and the dataset_info.json entry a source was read by (see dataset_info.py).
TAG_KEYS = {
    "user_tag": USER,
    "assistant_tag": ASSISTANT,
    "observation_tag": TOOL,
    "function_tag": TOOL_CALL,
    "system_tag": SYSTEM,
}
META_KEYS = frozenset({*TAG_KEYS, "dataset_info", "query_sep"})


# Mapping keys that name a key of the record itself (the others name keys inside a turn, role
# tags, or how fields join): the keys a spelling may stand for.
RECORD_KEYS = ("prompt", "query", "answer", "system", "history", "messages", "chosen", "rejected", "tools", "text")
# Keys some format reads: never read as another key's spelling.
KNOWN_FIELDS = frozenset(
    {
        v
        for m in (
            ALPACA,
            SHAREGPT,
            OPENAI,
            PROMPT_COMPLETION,
            CONVERSATION,
            TEXT_CHAT,
            TEXT_PAIR,
            SHAREGPT_PAIR,
            OPENAI_PAIR,
            ALPACA_PAIR,
            TRL_PAIR,
        )
        for k, v in m.items()
        if k in RECORD_KEYS
    }
    | {"conversations", "messages", "response", "functions", "label", *ANSWER_FIELDS, *MEDIA_FIELDS}
)
RESPELT_KINDS = 1000  # distinct (spelling, key) pairs counted one by one; more count as ("", key)
_PLANS_CACHED = 4096  # key layouts whose renames are remembered (records of one file share a few)


def respellings(keys: Iterable[str], canonical: tuple[str, ...]) -> dict[str, str]:
    """{key the record has: canonical key it is read as} for a record with these keys (see the
    module docstring: one candidate only, never a known field, never two canonical keys)."""
    keys = list(keys)
    present = set(keys)
    missing = [c for c in canonical if c not in present]
    if not missing:
        return {}
    unknown = [k for k in keys if k not in KNOWN_FIELDS and k not in canonical]
    renames: dict[str, str] = {}
    for c in missing:
        found = [k for k in unknown if hints.spelt_as(k, c)]
        if len(found) != 1:
            continue  # none, or two keys that could each be it: ambiguous
        key = found[0]
        if any(hints.spelt_as(key, other) for other in (*canonical, *KNOWN_FIELDS) if other != c):
            continue  # it could as well be another key
        renames[key] = c
    return renames


class RecordConverter:
    """A format's converter (a record -> its Conversation) that reads a key spelt another way as
    the key it stands for (`respellings`) and counts each spelling it read, for the import summary."""

    def __init__(self, convert: Converter, canonical: tuple[str, ...]) -> None:
        self._convert = convert
        self.canonical = canonical  # the record-level keys a spelling may stand for (() = none)
        # (spelling, key) -> records; spelling "" stands for those beyond RESPELT_KINDS kinds
        self.respelt: Counter[tuple[str, str]] = Counter()
        self._plans: dict[tuple[str, ...], dict[str, str]] = {}

    def __call__(self, obj: dict) -> Conversation:
        if not self.canonical:
            return self._convert(obj)
        layout = tuple(obj)
        renames = self._plans.get(layout)
        if renames is None:
            renames = respellings(layout, self.canonical)
            if len(self._plans) < _PLANS_CACHED and len(layout) <= 64:
                self._plans[layout] = renames
        if not renames:
            return self._convert(obj)
        try:
            conv = self._convert({renames.get(k, k): v for k, v in obj.items()})
        except RecordProblem as p:
            alias = next((k for k, c in renames.items() if c == p.field), None)
            if alias is None:
                raise
            raise RecordProblem(f"{p.what} (the record spells it {alias!r})", p.todo, alias, p.rename) from None
        for alias, key in renames.items():
            known = (alias, key) in self.respelt or len(self.respelt) < RESPELT_KINDS
            self.respelt[(alias, key) if known else ("", key)] += 1
        return conv

    def reset(self) -> None:
        """Forget the spellings counted (a new pass over the file starts)."""
        self.respelt.clear()

    def respelt_summary(self) -> tuple[tuple[str, str, int], ...]:
        """(spelling, key, records) for each spelling read, the most frequent first (spelling ""
        counts the records read through spellings beyond the first RESPELT_KINDS)."""
        return tuple(
            (alias, key, n) for (alias, key), n in sorted(self.respelt.items(), key=lambda x: (-x[1], x[0][1], x[0][0]))
        )


def field_names(mapping: dict[str, str]) -> set[str]:
    """The record fields a mapping reads (its values, less the role tags and the entry name)."""
    return {v for k, v in mapping.items() if k not in META_KEYS}


# How much raw text unread_keys reads: the records up to the one that crosses it (at least one).
# A record of 100,000 distinct keys is a few MiB; the first 1,000 of them held 10^8 names in a
# dict (gigabytes) after the import itself had run in bounded memory.
UNREAD_CHARS = 4 << 20


def unread_keys(
    raws: Iterable[str], mapping: dict[str, str], also_read: Iterable[str] = (), *, max_chars: int = UNREAD_CHARS
) -> list[str]:
    """Top-level keys of JSON records (`raws`) that hold a value and that the mapping does not
    read (media fields and `also_read` — keys read under another spelling — count as read), in
    the order first seen, in the records up to and including the one that brings the raw text
    read to `max_chars`. They are not in the review's turns; they stay in each record's raw
    text (the full-text view shows it) and export keeps them. A CSV row gives none: its
    columns are the header's, named at import."""
    read = field_names(mapping) | set(MEDIA_FIELDS) | set(also_read)
    seen: dict[str, None] = {}
    chars = 0
    for raw in raws:
        chars += len(raw)
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            seen.update(dict.fromkeys(k for k, v in obj.items() if k not in read and v not in (None, "", [], {})))
        if chars >= max_chars:
            break  # before taking the next record: the caller may be reading a file
    return list(seen)


def _roles(mapping: dict[str, str]) -> dict[str, str]:
    """Speaker -> role for ShareGPT turns: the built-in table, or, for a mapping read from a
    dataset_info.json entry, exactly its tags (LLaMA-Factory accepts no other speaker)."""
    if "dataset_info" not in mapping:
        return SHAREGPT_ROLES
    defaults = {
        "user_tag": "human",
        "assistant_tag": "gpt",
        "observation_tag": "observation",
        "function_tag": "function_call",
        "system_tag": "system",
    }
    return {mapping.get(k, defaults[k]): role for k, role in TAG_KEYS.items()}


def _with_label(obj: dict, mapping: dict[str, str]) -> dict[str, str]:
    """The mapping, reading KTO's boolean `label` where the record has one."""
    return {**mapping, "label": "label"} if isinstance(obj.get("label"), bool) else mapping


def classify(obj: dict) -> tuple[str, dict[str, str]] | None:
    """The format a single record looks like, with its mapping, or None."""
    pair = "chosen" in obj and "rejected" in obj
    if isinstance(obj.get("chosen_messages"), list) and isinstance(obj.get("rejected_messages"), list):
        return "openai_pair", dict(OPENAI_PAIR)
    for key in ("messages", "conversations"):
        turns = obj.get(key)
        if isinstance(turns, list):
            first = next((t for t in turns if isinstance(t, dict)), None)
            if first is None:
                continue
            if "from" in first and "value" in first:
                if pair:
                    return "sharegpt_pair", {**SHAREGPT_PAIR, "messages": key}
                return "sharegpt", _with_label(obj, {**SHAREGPT, "messages": key})
            if "role" in first:
                if pair:
                    return "sharegpt_pair", {**SHAREGPT_PAIR, "messages": key, "role": "role", "content": "content"}
                return "openai", _with_label(obj, {**OPENAI, "messages": key})
    if (
        pair
        and type(obj["chosen"]) is str
        and type(obj["rejected"]) is str
        and "instruction" not in obj
        and "prompt" not in obj
    ):
        if text_markers(obj["chosen"]) is not None:
            return "text_pair", dict(TEXT_PAIR)  # Anthropic HH: two whole chats as text
    if pair:
        if "instruction" in obj:
            return "alpaca_pair", dict(ALPACA_PAIR)
        if "prompt" in obj:
            return "trl_pair", dict(TRL_PAIR)
        if isinstance(obj["chosen"], list) and isinstance(obj["rejected"], list):
            return "openai_pair", {**OPENAI_PAIR, "chosen": "chosen", "rejected": "rejected"}  # TRL implicit prompt
    if "instruction" in obj and "output" in obj:
        return "alpaca", dict(ALPACA)
    turns = obj.get("conversation")
    if (
        isinstance(turns, list)
        and turns
        and isinstance(turns[0], dict)
        and ("human" in turns[0] or "assistant" in turns[0])
    ):
        return "conversation", dict(CONVERSATION)
    text = obj.get("text")
    if type(text) is str and text_markers(text) is not None and not any(k in obj for k in ("prompt", "instruction")):
        return "text_chat", dict(TEXT_CHAT)
    if "prompt" in obj:
        if "completion" in obj:
            return "prompt_completion", _with_label(obj, dict(PROMPT_COMPLETION))
        if "response" in obj and "chosen" not in obj and "rejected" not in obj:
            return "prompt_completion", {"prompt": "prompt", "answer": "response"}
    return None


def detect(objs: Iterable[dict]) -> tuple[str, dict[str, str]] | None:
    """Majority vote over sampled records; ties go to the format seen first."""
    votes: dict[tuple, int] = {}
    labelled: set[tuple] = set()
    total = 0
    for obj in objs:
        total += 1
        found = classify(obj)
        if found is not None:
            mapping = dict(found[1])
            # A KTO label on some records only does not make another format: the vote ignores it.
            had_label = mapping.pop("label", None) is not None
            key = (found[0], tuple(mapping.items()))
            votes[key] = votes.get(key, 0) + 1
            if had_label:
                labelled.add(key)
    if not votes:
        return None
    best = max(votes, key=lambda k: votes[k])  # max keeps the first of equal counts
    fmt, items = best
    if fmt == "text_chat" and votes[best] * 2 <= total:
        return None  # a few documents that open with "Human:" do not make a corpus of chats
    return fmt, {**dict(items), "label": "label"} if best in labelled else dict(items)


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
    if "chosen" in seen and "rejected" in seen:
        # A preference pair: mapping answer=chosen would throw the rejected answer away.
        other = next((f for f in fields if f not in ("chosen", "rejected") and f not in MEDIA_FIELDS), None)
        todo = (
            "these records are preference pairs (chosen/rejected): name the prompt field 'prompt' (TRL layout) or "
            "'instruction' (Alpaca layout) and import again"
            + (f", e.g. jq -c '.prompt = .{other} | del(.{other})'" if other and other.isidentifier() else "")
            + "; --map answer=chosen would lose the rejected answers"
        )
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


def converter(fmt: str, mapping: dict[str, str]) -> RecordConverter:
    """The converter of a format and its mapping; a built-in format's reads keys spelt another
    way (`mapped` and a dataset_info.json layout read their fields by exact name)."""
    if fmt in ("alpaca", "mapped"):
        convert = _alpaca(mapping, fmt)
    elif fmt == "sharegpt":
        convert = _sharegpt(mapping)
    elif fmt == "openai":
        convert = _openai(mapping)
    elif fmt == "prompt_completion":
        convert = _prompt_completion(mapping)
    elif fmt == "sharegpt_pair":
        convert = _sharegpt_pair(mapping)
    elif fmt == "openai_pair":
        convert = _openai_pair(mapping)
    elif fmt in ("alpaca_pair", "trl_pair"):
        convert = _string_pair(mapping, fmt)
    elif fmt == "conversation":
        convert = _conversation(mapping)
    elif fmt == "text_chat":
        convert = _text_chat(mapping)
    elif fmt == "text_pair":
        convert = _text_pair(mapping)
    else:
        raise ValueError(f"unknown format {fmt!r}")
    exact = fmt == "mapped" or "dataset_info" in mapping
    canonical = () if exact else tuple(dict.fromkeys(v for k, v in mapping.items() if k in RECORD_KEYS))
    return RecordConverter(_complete(convert, fmt, mapping), canonical)


def _complete(convert: Converter, fmt: str, mapping: dict[str, str]) -> Converter:
    """The converter, refusing a record with an answer-carrying field the format does not read
    (no silent loss), and adding the KTO label and the media references the record carries."""
    read = field_names(mapping)
    if fmt == "openai":
        read.add("functions")
    if fmt in ("prompt_completion", "alpaca_pair", "trl_pair"):
        read.add("tools")
    watched = tuple(f for f in ANSWER_FIELDS if f not in read)
    label_field = mapping.get("label")

    def complete(obj: dict) -> Conversation:
        # A `label` that is not a boolean is a category (metadata), not KTO's verdict on the answer.
        unread = [
            f
            for f in watched
            if f in obj and obj[f] not in (None, "", [], {}) and (f != "label" or type(obj[f]) is bool)
        ]
        if unread:
            raise _unread(unread, fmt)
        conv = convert(obj)
        label = None
        if label_field:
            value = obj.get(label_field)
            if value is None:
                pass  # a record without a label is unlabelled, as it was: nothing to lose
            elif type(value) is not bool:
                raise RecordProblem(
                    f"{label_field!r} is {kind(value)}, expected true or false (KTO's desirable / undesirable)",
                    SKIP_HINT,
                    label_field,
                )
            label = value
        media = _media(obj)
        if label is None and not media:
            return conv
        return Conversation(conv.system, conv.turns, conv.tools, conv.rejected, label, media)

    return complete


def _unread(fields: list[str], fmt: str) -> RecordProblem:
    shown = ", ".join(repr(f) for f in fields)
    readers = sorted({_READ_BY[f] for f in fields if f in _READ_BY})
    todo = (
        f"import it as {' or '.join(readers)} (--format), or remove the field{'s' if len(fields) > 1 else ''} if "
        "they carry nothing; or import with --skip-invalid to leave such records out"
        if readers
        else "split the file by layout, or remove the field if it carries nothing; or import with --skip-invalid "
        "to leave such records out"
    )
    return RecordProblem(
        f"the record has {shown}, which the {fmt} format does not read: {'they' if len(fields) > 1 else 'it'} would be lost",
        todo,
        fields[0],
    )


def _media(obj: dict) -> tuple[str, ...]:
    out: list[str] = []
    for field, what in MEDIA_FIELDS.items():
        value = obj.get(field)
        if value in (None, "", []):
            continue
        items = value if isinstance(value, list) else [value]
        for item in items:
            out.append(f"{what}: {_reference(item)}")
    return tuple(out)


def _reference(item: Any) -> str:
    """A media item as a short reference: its path or URL, never its data."""
    if isinstance(item, str):
        if item.startswith("data:") or len(item) > 2048:
            return f"(inline data, {len(item):,} characters)"
        return item
    if isinstance(item, dict):
        for key in ("url", "path", "file", "filename", "image_url", "audio_url", "video_url"):
            value = item.get(key)
            if isinstance(value, (str, dict)):
                return _reference(value)
        return "(inline data)" if item else "(empty)"
    return f"({kind(item)})"


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
    sep = mapping.get("query_sep", "\n\n")  # LLaMA-Factory joins instruction and input with "\n"
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
                prompt = prompt + sep + query
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
    roles = _roles(mapping)
    known = (
        "known speakers" if roles is SHAREGPT_ROLES else f"the tags of dataset_info entry {mapping['dataset_info']!r}"
    )

    def convert(obj: dict) -> Conversation:
        system = _optional_text(obj, ks)
        turns: list[Turn] = []
        for i, msg in enumerate(_turn_list(obj, km)):
            if type(msg) is not dict:
                raise RecordProblem(f"turn {i + 1} of {km!r} is {kind(msg)}, expected an object", SKIP_HINT, km)
            speaker = msg.get(kr)
            role = roles.get(speaker) if type(speaker) is str else None
            if role is None:
                raise RecordProblem(f"turn {i + 1} has speaker {speaker!r}; {known}: {', '.join(roles)}", SKIP_HINT, km)
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


def _part_text(part: dict) -> str | None:
    """A content part's text: OpenAI's `text`, LLaMA-Factory v1's `value`, or the Assistants API's
    `text: {"value": ..., "annotations": [...]}` (its value)."""
    for key in ("text", "value"):
        text = part.get(key)
        if isinstance(text, str):
            return text
        if key == "text" and isinstance(text, dict) and isinstance(text.get("value"), str):
            return text["value"]
    return None


def _unshown_part(part: dict, ptype: Any, where: str) -> RecordProblem:
    """A content part whose content winnow cannot show: refused naming its type and keys, since
    the review would show "[type]" and the curator would decide without seeing what it holds."""
    keys = [k for k, v in part.items() if k != "type" and v not in (None, "", [], {})]
    name = repr(ptype) if isinstance(ptype, str) else "(no type)"
    return RecordProblem(
        f"{where} has a content part of type {name} whose content ({', '.join(map(repr, keys))}) winnow "
        "does not read: the review would show it as a bare label, without what it holds",
        'make it a text part with a string text ({"type": "text", "text": "..."}) or remove it; '
        "or import with --skip-invalid to leave such records out",
    )


def _content(content: Any, where: str, calls: list[str] | None = None) -> str:
    """The text of a message's content. Parts: text (`text` or `value`) as it is; reasoning as
    "[reasoning]" then its text; media as "[image: url]"; a refusal's text; a `tool_call` part's
    JSON is appended to `calls` where given (an assistant message: it becomes a tool_call turn),
    else shown as "[tool_call] JSON". Any other part is "[type]" followed by its text; a part with
    no text that holds something else (a `code` key, a `text` that is not a string, a reasoning
    `summary`) is refused naming its type and keys: shown as "[type]" alone, what it holds would be
    left out of the review."""
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
                text = _part_text(part)
                if ptype in TEXT_PART_TYPES and text is not None:
                    parts.append(text)
                elif ptype in REASONING_PART_TYPES and text is not None:
                    parts.append(f"[{ptype}]\n{text}")
                elif ptype == "tool_call" and (text is not None or isinstance(part.get("value"), dict)):
                    call = text if text is not None else json.dumps(part["value"], ensure_ascii=False)
                    if calls is not None:
                        calls.append(call)
                    else:
                        parts.append(f"[tool_call] {call}")
                elif isinstance(ptype, str) and ptype in MEDIA_PART_TYPES:
                    ref = part.get(ptype, text)
                    parts.append(
                        f"[{MEDIA_PART_TYPES[ptype]}: {_reference(ref) if ref is not None else '(no reference)'}]"
                    )
                elif isinstance(part.get("refusal"), str):
                    parts.append(part["refusal"])
                elif text is not None:
                    parts.append(f"[{ptype if isinstance(ptype, str) else 'part'}] {text}")
                elif any(v not in (None, "", [], {}) for k, v in part.items() if k != "type"):
                    raise _unshown_part(part, ptype, where)
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
        part_calls: list[str] = []
        text = _content(msg.get(kc), where, part_calls if role == ASSISTANT else None)
        if role == SYSTEM and not turns:
            system = _join(system, text)
        elif role == ASSISTANT:
            calls = [Turn(TOOL_CALL, c, _call_name(c)) for c in part_calls] + _tool_calls(msg, where)
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


def _answer_side(value: Any, field: str, kr: str, kc: str, roles: dict[str, str] = SHAREGPT_ROLES) -> tuple[Turn, ...]:
    """One answer of a ShareGPT pair: a message, or a list of messages, all on the assistant side."""
    msgs = value if isinstance(value, list) else [value]
    if not msgs:
        raise RecordProblem(f"{field!r} is an empty list: the answer has no turns", SKIP_HINT, field)
    turns: list[Turn] = []
    for i, msg in enumerate(msgs):
        if type(msg) is not dict:
            raise RecordProblem(f"{field!r} is {kind(msg)}, expected a message object", SKIP_HINT, field)
        speaker = msg.get(kr)
        role = roles.get(speaker) if type(speaker) is str else None
        if role not in (ASSISTANT, TOOL_CALL):
            raise RecordProblem(
                f"{field!r} (message {i + 1}) has speaker {speaker!r}, expected the assistant's (gpt, assistant)",
                SKIP_HINT,
                field,
            )
        content = msg.get(kc)
        text = content if type(content) is str else _content(content, f"{field!r}")
        turns.append(Turn(role, text, _call_name(text) if role == TOOL_CALL else None))
    return tuple(turns)


def _sharegpt_pair(mapping: dict[str, str]) -> Converter:
    kch, krj = mapping["chosen"], mapping["rejected"]
    kr, kc = mapping["role"], mapping["content"]
    prompt_only = _sharegpt({k: v for k, v in mapping.items() if k not in ("chosen", "rejected")})

    def convert(obj: dict) -> Conversation:
        for field in (kch, krj):
            if obj.get(field) is None:
                raise _missing(field, "sharegpt_pair", obj, mapping.values())
        conv = prompt_only(obj)
        prompt, answer = conv.split()
        if answer:
            km = mapping["messages"]
            raise RecordProblem(
                f"{km!r} ends with an answer before {kch!r}/{krj!r}: which one is preferred is not clear",
                SKIP_HINT,
                km,
            )
        chosen = _answer_side(obj[kch], kch, kr, kc, _roles(mapping))
        rejected = _answer_side(obj[krj], krj, kr, kc, _roles(mapping))
        return Conversation(conv.system, prompt + chosen, conv.tools, rejected)

    return convert


def _openai_pair(mapping: dict[str, str]) -> Converter:
    kch, krj, kr, kc, kt = (
        mapping["chosen"],
        mapping["rejected"],
        mapping["role"],
        mapping["content"],
        mapping.get("tools"),
    )

    def side(obj: dict, field: str) -> Conversation:
        system, turns = _messages(_turn_list(obj, field), field, kr, kc, "")
        return Conversation(system, tuple(turns))

    def convert(obj: dict) -> Conversation:
        chosen, rejected = side(obj, kch), side(obj, krj)
        prompt, answer = chosen.split()
        rprompt, ranswer = rejected.split()
        if rprompt != prompt or rejected.system != chosen.system:
            raise RecordProblem(
                f"{kch!r} and {krj!r} differ before their answers: a pair answers one prompt",
                SKIP_HINT,
                krj,
            )
        if not answer or not ranswer:
            field = kch if not answer else krj
            raise RecordProblem(f"{field!r} does not end with an assistant answer", SKIP_HINT, field)
        return Conversation(chosen.system, chosen.turns, _tools_text(obj, kt), ranswer)

    return convert


def _string_pair(mapping: dict[str, str], fmt: str) -> Converter:
    """alpaca_pair (instruction/input/chosen/rejected strings, history) and trl_pair (prompt /
    chosen / rejected, each a string or a list of messages)."""
    kp, kch, krj = mapping["prompt"], mapping["chosen"], mapping["rejected"]
    kq, ks, kh = mapping.get("query"), mapping.get("system"), mapping.get("history")
    sep = mapping.get("query_sep", "\n\n")
    messages_ok = fmt == "trl_pair"

    def side(obj: dict, field: str, role: str, system: str) -> tuple[str, list[Turn]]:
        value = obj[field]
        if type(value) is str:
            return system, [Turn(role, value)]
        if messages_ok and isinstance(value, list):
            return _messages(value, field, "role", "content", system)
        expected = "a string or a list of messages" if messages_ok else "a string"
        raise RecordProblem(f"{field!r} is {kind(value)}, expected {expected}", SKIP_HINT, field)

    def convert(obj: dict) -> Conversation:
        for field in (kp, kch, krj):
            if field not in obj:
                raise _missing(field, fmt, obj, mapping.values())
        system, prompt = side(obj, kp, USER, _optional_text(obj, ks))
        if kq:
            query = obj.get(kq)
            if query:
                if type(query) is not str:
                    raise _not_string(kq, query)
                if len(prompt) != 1 or prompt[0].role != USER:
                    raise RecordProblem(f"{kq!r} needs {kp!r} to be a string", SKIP_HINT, kq)
                prompt = [Turn(USER, prompt[0].content + sep + query)]
        history = obj.get(kh) if kh else None
        before = _history(history, kh or "") if history else ()
        system, chosen = side(obj, kch, ASSISTANT, system)
        system, rejected = side(obj, krj, ASSISTANT, system)
        for field, turns in ((kch, chosen), (krj, rejected)):
            if not turns or any(t.role not in ANSWER_ROLES for t in turns):
                raise RecordProblem(f"{field!r} holds more than the assistant's answer", SKIP_HINT, field)
        return Conversation(system, before + tuple(prompt + chosen), _tools_text(obj, "tools"), tuple(rejected))

    return convert


def _conversation(mapping: dict[str, str]) -> Converter:
    """MOSS / Firefly: a list of {human, assistant} pairs."""
    km, ku, ka, ks = mapping["messages"], mapping["user"], mapping["assistant"], mapping.get("system")

    def convert(obj: dict) -> Conversation:
        turns: list[Turn] = []
        for i, pair in enumerate(_turn_list(obj, km)):
            if type(pair) is not dict:
                raise RecordProblem(f"pair {i + 1} of {km!r} is {kind(pair)}, expected an object", SKIP_HINT, km)
            other = [k for k, v in pair.items() if k not in (ku, ka) and v not in (None, "", [], {})]
            if other:
                raise RecordProblem(
                    f"pair {i + 1} of {km!r} has {', '.join(repr(k) for k in other)} beside {ku!r} and {ka!r}: "
                    "it would be lost",
                    "remove the key if it carries nothing, or convert the records to ShareGPT; "
                    "or import with --skip-invalid to leave such records out",
                    km,
                )
            for key, role in ((ku, USER), (ka, ASSISTANT)):
                value = pair.get(key)
                if value is None:
                    continue
                if type(value) is not str:
                    raise RecordProblem(f"pair {i + 1}'s {key!r} is {kind(value)}, expected a string", SKIP_HINT, km)
                turns.append(Turn(role, value))
        if not turns:
            raise RecordProblem(f"{km!r} holds no {ku!r} or {ka!r} text", SKIP_HINT, km)
        return Conversation(_optional_text(obj, ks), tuple(turns))

    return convert


def text_markers(text: str) -> tuple[re.Pattern[str], dict[str, str]] | None:
    """The marker family a chat text is written in: the one whose marker starts the text."""
    head = text.lstrip()
    for pattern, roles in TEXT_MARKERS:
        m = pattern.match(head)
        if m is not None:
            return pattern, roles
    return None


def split_text_chat(text: str) -> tuple[str, list[Turn]] | None:
    """(system, turns) of a chat kept as one text, or None when it does not start with a marker."""
    found = text_markers(text)
    if found is None:
        return None
    pattern, roles = found
    marks = list(pattern.finditer(text))
    system = ""
    turns: list[Turn] = []
    for m, nxt in zip(marks, [*marks[1:], None], strict=True):
        body = text[m.end() : nxt.start() if nxt is not None else len(text)].strip()
        role = roles[m.group(1)]
        if role == SYSTEM and not turns:
            system = _join(system, body)
        else:
            turns.append(Turn(role, body))
    return system, turns


def _text_chat(mapping: dict[str, str]) -> Converter:
    kt = mapping["text"]

    def convert(obj: dict) -> Conversation:
        text = obj.get(kt)
        if type(text) is not str:
            raise RecordProblem(
                f"the record has no {kt!r} text" if text is None else f"{kt!r} is {kind(text)}, expected a string",
                SKIP_HINT,
                kt if text is not None else None,
            )
        split = split_text_chat(text)
        if split is None:
            raise RecordProblem(
                f"{kt!r} does not start with a speaker marker (### Human:, Human:, <|user|>): its turns cannot be told apart",
                "split the file: these records are not chats of this layout; or import with --skip-invalid to leave them out",
                kt,
            )
        system, turns = split
        if not turns:
            raise RecordProblem(f"{kt!r} holds only a system prompt, no turns", SKIP_HINT, kt)
        return Conversation(system, tuple(turns))

    return convert


def _text_pair(mapping: dict[str, str]) -> Converter:
    kch, krj = mapping["chosen"], mapping["rejected"]
    one = {f: _text_chat({"text": f}) for f in (kch, krj)}

    def convert(obj: dict) -> Conversation:
        for field in (kch, krj):
            if field not in obj:
                raise _missing(field, "text_pair", obj, mapping.values())
        chosen, rejected = one[kch](obj), one[krj](obj)
        prompt, answer = chosen.split()
        rprompt, ranswer = rejected.split()
        if rprompt != prompt or rejected.system != chosen.system:
            raise RecordProblem(
                f"{kch!r} and {krj!r} differ before their last answer: a pair answers one conversation",
                SKIP_HINT,
                krj,
            )
        if not answer or not ranswer:
            field = kch if not answer else krj
            raise RecordProblem(f"{field!r} does not end with an assistant answer", SKIP_HINT, field)
        return Conversation(chosen.system, chosen.turns, "", ranswer)

    return convert
