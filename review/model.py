"""The canonical shapes winnow works with, shared by importers, store, analysis and the TUI.

Everything here is a frozen dataclass: the TUI receives these and never sees SQL rows.
This module imports only the standard library.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, NamedTuple, TypeVar

# Roles of the canonical conversation. Importers map every source vocabulary onto these.
SYSTEM = "system"
USER = "user"
ASSISTANT = "assistant"
TOOL_CALL = "tool_call"  # the assistant asking for a tool (ShareGPT function_call, OpenAI tool_calls)
TOOL = "tool"  # a tool's result (ShareGPT observation, OpenAI role=tool)
ROLES = (SYSTEM, USER, ASSISTANT, TOOL_CALL, TOOL)
ANSWER_ROLES = (ASSISTANT, TOOL_CALL)

# Drop reasons: a fixed, documented set (README "Decisions").
REASONS = (
    "off-goal",
    "duplicate",
    "style-drift",
    "noisy",
    "incomplete",
    "contradictory",
    "unsafe",
    "other",
)
DEFAULT_REASON = "other"


_encode_str = json.encoder.py_encode_basestring  # type: ignore[attr-defined]
try:  # the C accelerator, when CPython has it
    from _json import encode_basestring as _encode_str  # type: ignore[no-redef,assignment]
except ImportError:  # pragma: no cover
    pass


@dataclass(frozen=True)
class Turn:
    role: str
    content: str
    name: str | None = None  # tool / function name where the source gives one

    def to_json(self) -> dict:
        d: dict = {"role": self.role, "content": self.content}
        if self.name is not None:
            d["name"] = self.name
        return d

    @staticmethod
    def from_json(d: dict) -> Turn:
        return Turn(d["role"], d["content"], d.get("name"))


@dataclass(frozen=True)
class Conversation:
    """A sample as winnow understands it: optional system prompt, ordered turns, tools.

    `system` is kept out of `turns` so that a system prompt shared by many samples does
    not dominate the prompt text. `tools` is the JSON text of the tool schema list, or "".
    """

    system: str = ""
    turns: tuple[Turn, ...] = ()
    tools: str = ""
    # Preference data (issue 15). A pair (DPO/ORPO): `turns` is the prompt and the chosen answer,
    # `rejected` the rejected answer's turns (what follows the same prompt); () for everything else.
    # KTO: `label` is the record's desirable (True) / undesirable (False) flag; None when it has none.
    rejected: tuple[Turn, ...] = ()
    label: bool | None = None
    # References to media the record carries (images, audio, video), as "image: path" lines: shown
    # to the curator, never loaded. () when none.
    media: tuple[str, ...] = ()

    @property
    def is_pair(self) -> bool:
        return bool(self.rejected)

    def turns_json(self) -> str:
        return _turns_json(self.turns)

    def rejected_json(self) -> str:
        """The rejected turns as stored (samples.rejected): '' for a sample that is not a pair."""
        return _turns_json(self.rejected) if self.rejected else ""

    def media_json(self) -> str:
        """The media references as stored (samples.media): '' when there are none."""
        return json.dumps(list(self.media), ensure_ascii=False) if self.media else ""

    @staticmethod
    def from_stored(
        system: str,
        turns_json: str,
        tools: str,
        rejected_json: str | None = "",
        label: int | None = None,
        media_json: str | None = "",
    ) -> Conversation:
        return Conversation(
            system or "",
            tuple(Turn.from_json(t) for t in json.loads(turns_json)),
            tools or "",
            tuple(Turn.from_json(t) for t in json.loads(rejected_json)) if rejected_json else (),
            None if label is None else bool(label),
            tuple(json.loads(media_json)) if media_json else (),
        )

    def pair_answers(self) -> tuple[tuple[Turn, ...], tuple[Turn, ...]]:
        """(chosen answer turns, rejected answer turns) of a pair; the rejected side is () otherwise."""
        return self.split()[1], self.rejected

    def split(self) -> tuple[tuple[Turn, ...], tuple[Turn, ...]]:
        """(prompt turns, answer turns): the answer is the trailing run of assistant-side turns.

        For a multi-turn conversation everything before the last user/tool turn is context and
        belongs to the prompt; a conversation that ends on the user has an empty answer.
        """
        i = len(self.turns)
        while i > 0 and self.turns[i - 1].role in ANSWER_ROLES:
            i -= 1
        return self.turns[:i], self.turns[i:]

    def prompt_text(self) -> str:
        prompt, _ = self.split()
        parts = [self.system] if self.system else []
        parts += [t.content for t in prompt]
        return "\n".join(parts)

    def answer_text(self) -> str:
        _, answer = self.split()
        return "\n".join(t.content for t in answer)

    def full_text(self) -> str:
        parts = [f"system: {self.system}"] if self.system else []
        parts += [f"{t.role}: {t.content}" for t in self.turns]
        parts += [f"rejected {t.role}: {t.content}" for t in self.rejected]
        if self.label is not None:
            parts.append(f"label: {'desirable' if self.label else 'undesirable'}")
        parts += [f"media: {m}" for m in self.media]
        return "\n".join(parts)


def _turns_json(turns: tuple[Turn, ...]) -> str:
    # Same text as json.dumps([t.to_json() ...], ensure_ascii=False), built with the C string
    # encoder directly: this runs once per imported record and json.dumps' setup dominated.
    enc = _encode_str
    parts = []
    for t in turns:
        name = "" if t.name is None else f', "name": {enc(t.name)}'
        parts.append(f'{{"role": {enc(t.role)}, "content": {enc(t.content)}{name}}}')
    return "[" + ", ".join(parts) + "]"


def normalise(text: str) -> str:
    """The text that exact-duplicate hashes compare.

    Unicode NFKC (full-width ASCII becomes half-width, compatibility forms fold), every run of
    whitespace becomes one space, leading/trailing whitespace goes, and case folds. Punctuation
    is kept: "Yes." and "Yes!" are different answers.
    """
    if not text:
        return ""
    if text.isascii():  # NFKC is the identity on ASCII; lower() == casefold() there
        return " ".join(text.split()).lower()
    # str.split() folds every Unicode whitespace run; 3x faster than re.sub on 52k samples.
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def text_hash(text: str) -> str:
    return hashlib.blake2b(normalise(text).encode("utf-8"), digest_size=16).hexdigest()


class Hashes(NamedTuple):  # a tuple: built once per imported record, a frozen dataclass costs 3x
    content: str
    prompt: str
    answer: str
    prompt_chars: int = 0
    answer_chars: int = 0


def _digest(key: str) -> str:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).hexdigest()


def conversation_hashes(conv: Conversation) -> Hashes:
    """Hashes of the normalised conversation, each turn normalised once.

    prompt == text_hash(conv.prompt_text()) and answer == text_hash(conv.answer_text()), so a
    prompt from elsewhere (an eval set) can be matched; content also covers roles, turn
    boundaries and tools: two samples share it only if every turn (and the tool schema)
    matches after normalisation.
    This runs once per imported record, hence the plain loops.
    """
    turns = conv.turns
    i = len(turns)
    while i and turns[i - 1].role in ANSWER_ROLES:
        i -= 1
    system = normalise(conv.system)
    norms = [normalise(t.content) for t in turns]
    content = "system:" + system + "".join(["\x1e" + t.role + ":" + n for t, n in zip(turns, norms)])
    if conv.tools:
        content += "\x1etools:" + normalise(conv.tools)
    # A pair, a KTO label and media references are part of the record: two pairs with the same
    # chosen answer but different rejected ones are different samples. Nothing is added for a
    # sample without them, so the hashes of plain samples are what they always were.
    for t in conv.rejected:
        content += "\x1erejected " + t.role + ":" + normalise(t.content)
    if conv.label is not None:
        content += "\x1elabel:" + ("1" if conv.label else "0")
    for m in conv.media:
        content += "\x1emedia:" + normalise(m)
    prompt_chars = len(conv.system)
    for t in turns[:i]:
        prompt_chars += len(t.content)
    answer_chars = 0
    for t in turns[i:]:
        answer_chars += len(t.content)
    return Hashes(
        _digest(content),
        _digest(" ".join([x for x in (system, *norms[:i]) if x])),
        _digest(" ".join([x for x in norms[i:] if x])),
        prompt_chars,
        answer_chars,
    )


@dataclass(frozen=True)
class Sample:
    id: int  # stable: assigned at import, never reused
    source_id: int
    source_name: str
    position: int  # 0-based index of the record in its source file
    line: int  # 1-based line where the record starts
    conversation: Conversation
    raw: str  # the original record, verbatim
    content_hash: str
    prompt_hash: str
    answer_hash: str
    prompt_chars: int
    answer_chars: int


@dataclass(frozen=True)
class Goal:
    id: int
    sentence: str
    hypothesis: str
    created_at: str
    archived: bool = False
    revision: int = 0  # bumped by every edit and archive: a write checks it (store.GoalChanged)


@dataclass(frozen=True)
class Decision:
    """Current state of one sample under one goal, derived from the event log."""

    verdict: str | None = None  # "keep" | "drop" | None (undecided)
    reason: str | None = None
    note: str = ""
    tags: tuple[str, ...] = ()
    # Preference decisions (issue 15): "swapped" (a pair kept with chosen and rejected exchanged),
    # "flipped" (a KTO record kept with its label flipped), "both-bad" (a pair dropped: neither
    # answer is good); "" for every other decision. See review/store/decisions.py PREF_EVENTS.
    pref: str = ""


UNDECIDED = Decision()


@dataclass(frozen=True)
class Source:
    id: int
    path: str
    name: str
    sha256: str
    format: str
    container: str
    mapping: dict
    records: int
    imported_at: str


@dataclass(frozen=True)
class ImportReport:
    source: Source | None  # None when the file was already imported
    added: int
    already_imported: bool
    repeated_records: int  # records whose content hash repeats another in the same file
    repeated_examples: tuple[tuple[int, int], ...]  # (line, first line it repeats), a few
    skipped: tuple[str, ...] = ()  # "path:line: message" for the first skipped records (SKIPPED_LISTED)
    skipped_total: int = 0  # every skipped record
    # What the review shows beyond turns (told in the import summary, so a pair or label file is
    # never mistaken for plain SFT): preference pairs, KTO labels, records with media references.
    pairs: int = 0
    desirable: int = 0
    undesirable: int = 0
    with_media: int = 0
    # Keys read under another spelling (issue 15): (spelling, key, records), e.g.
    # ("instuction", "instruction", 65); the raw records keep their own spelling.
    respelt: tuple[tuple[str, str, int], ...] = ()


@dataclass(frozen=True)
class Counts:
    total: int
    kept: int
    dropped: int
    by_reason: dict = field(default_factory=dict)
    by_tag: dict = field(default_factory=dict)

    @property
    def decided(self) -> int:
        return self.kept + self.dropped

    @property
    def undecided(self) -> int:
        return self.total - self.decided


@dataclass(frozen=True)
class Flag:
    """Something analysis noticed about a sample, shown on the review screen.

    `partner` is the sample the compare pane shows beside this one; `members` is the whole group
    (near-duplicate cluster, contradiction pair...) including this sample, for group actions.
    """

    kind: str  # exact | same-prompt | lexical | semantic | leak | style | conflict | noise
    label: str  # one line, e.g. "semantic 0.97 · near-dup of #4521 · cluster of 6"
    partner: int | None = None
    score: float | None = None
    members: tuple[int, ...] = ()
    details: tuple[str, ...] = ()  # named reasons, e.g. "bullet list — 1 of 9 similar answers use one"
    reason: str | None = None  # the drop reason this flag suggests (duplicate, style-drift, ...)


@dataclass(frozen=True)
class Queue:
    """Which samples the review steps through: a queue kind ("all", "undecided", "reason",
    "duplicates", ...) and the kind's argument where it takes one (the reason, the tag, the search
    text, the batch id; "all" for an analysis queue that should not skip decided samples).

    Stored (goal_state.queue) and given on the command line (`--queue KIND[=VALUE]`) as
    {"kind": KIND} or {"kind": KIND, "value": VALUE}: `to_json` / `from_json` convert at that
    boundary and nowhere else. What each kind means is its `QueueSpec` (review.queues).
    """

    kind: str = "all"
    value: str | None = None

    def to_json(self) -> dict:
        return {"kind": self.kind} if self.value is None else {"kind": self.kind, "value": self.value}

    @staticmethod
    def from_json(d: object) -> Queue:
        """The queue a stored {"kind", "value"} object names; anything but an object is "all"."""
        if not isinstance(d, dict):
            return Queue()
        value = d.get("value")
        return Queue(str(d.get("kind", "all")), None if value is None else str(value))


S = TypeVar("S")  # the store a queue steps through: review.store.Store (generic so that model imports no store)


@dataclass(frozen=True)
class QueueSpec(Generic[S]):
    """What one queue kind means, in one place. A module that adds a kind returns its specs from a
    `queue_specs()` function; review.queues.default_queues() gathers them (nothing registers itself
    at import)."""

    label: str  # as the review screen shows the queue; "{value}" stands for the queue's value
    step: Callable[[S, int, Queue, int, bool], int | None]  # (store, goal_id, queue, after, forward) -> sample id
    size: Callable[[S, int, Queue], int | None] | None = None  # its length where known without a scan
    instant: bool = False  # an indexed keyset step, taken on the UI thread; else stepped in a worker
    offered: bool = True  # listed by its label in the queue dialog (f); built-ins are listed with their counts
