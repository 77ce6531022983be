"""Pairs the semantic detector never calls near-duplicates, however close their vectors.

An embedding compares what two samples are about, and two requests that differ only in their
numbers or in the tools they may call are about the same thing: "tip on 85 at 20%" and "tip on 50
at 15%", an invoice for 11 and one for 3.5, "create a profile" under one tool and "create an
account" under another. For training they are different questions, with different right answers.
So a semantic pair is kept only when both samples' user turns hold the same numbers (as a
multiset, in order of appearance ignored) and both offer the same tool names (the tool schema's
`name`s; descriptions and parameters are the prompt identity's business, review/prompt.py).

Measured on the labelled real pairs of tests/fixtures/quality/dup.jsonl (e5, 0.97): Chinese
precision 0.89 -> 0.94 (8 of 16 false pairs removed, 7 of 128 true ones lost: a reworded question
that adds a number, "five common flu symptoms"), English 0.26 -> 0.33 (22 of 74 false pairs
removed, none of 26 true ones; the rest are FastChat's identity template, see the README).
The veto is part of the detector's settings (`VETO`): changing it re-runs the detector.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from ..model import USER, Conversation
from ..store import Store

VETO = "user-numbers+tool-names/1"
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def tool_names(tools: str | None) -> frozenset[str]:
    """The names of the tools a sample offers (OpenAI `{type, function: {name}}` or a plain
    `{name, …}` list); an unreadable schema is its own text, so only an identical one matches."""
    if not tools:
        return frozenset()
    try:
        data = json.loads(tools)
    except ValueError:
        return frozenset([tools])
    items = data if isinstance(data, list) else [data]
    names: set[str] = set()
    for item in items:
        if isinstance(item, dict):
            fn = item.get("function")
            name = fn.get("name") if isinstance(fn, dict) else item.get("name")
            if isinstance(name, str):
                names.add(name)
    return frozenset(names)


def pair_key(conv: Conversation) -> tuple[tuple[str, ...], frozenset[str]]:
    """What two samples must share to be near-duplicates: their user turns' numbers and tools."""
    numbers = sorted(n for t in conv.turns if t.role == USER for n in NUMBER.findall(t.content))
    return tuple(numbers), tool_names(conv.tools)


class PairVeto:
    """Filters (text hash, text hash, score) pairs by `pair_key` of each text's first sample,
    read from the store once per text."""

    def __init__(self, store: Store, groups: dict[str, list[int]]) -> None:
        self.store = store
        self.groups = groups
        self.keys: dict[str, tuple] = {}

    def keep(self, pairs: Sequence[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
        need = {h for a, b, _ in pairs for h in (a, b) if h not in self.keys and h in self.groups}
        first = {self.groups[h][0]: h for h in need}
        ids = sorted(first)
        for i in range(0, len(ids), 1000):
            for s in self.store.samples(ids[i : i + 1000]):
                self.keys[first[s.id]] = pair_key(s.conversation)
        return [p for p in pairs if self.keys.get(p[0]) == self.keys.get(p[1])]
