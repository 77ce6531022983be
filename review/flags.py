"""Flag providers: what the review screen can say about a sample, gathered explicitly.

A provider is a plain function (store, goal_id, sample) -> flags for that sample.
`default_flag_providers()` lists them in the order their flags appear: the spine's own
(exact copies, same prompt with another answer), then analysis (duplicates, leaks), then the
preference pair checks (analysis.pairs), then style (style drift, contradictions, noise). Nothing registers itself at import.

A new kind of flag: a provider function in the module that owns its tables, and one entry in
`default_flag_providers()`.
"""

from __future__ import annotations

from collections.abc import Callable

from . import analysis, relevance, style
from .analysis import pairs
from .model import Flag, Sample
from .prompt import question_key
from .store import Store

FlagProvider = Callable[[Store, int, Sample], list[Flag]]


def hash_flags(store: Store, goal_id: int, sample: Sample) -> list[Flag]:
    """Flags the spine knows without any analysis: exact copies and same prompt / other answer."""
    flags = []
    related = store.related_by_hash(sample)
    exact = [sid for sid, why in related if why == "exact duplicate"]
    if exact:
        members = tuple(sorted([sample.id, *exact]))
        flags.append(
            Flag(
                "exact",
                f"exact copy of #{exact[0]} · {len(members)} copies",
                exact[0],
                1.0,
                members,
                reason="duplicate",
            )
        )
    # samples.prompt_hash leaves out the tool schema and turn roles: keep only those that ask the same
    # question (review.prompt: "order a pizza" with other tools is another question)
    same = [sid for sid, why in related if why != "exact duplicate"]
    if same:
        mine = question_key(sample.conversation)
        same = [o.id for o in store.samples(same) if question_key(o.conversation) == mine]
    for sid in same:
        flags.append(
            Flag(
                "same-prompt",
                f"same prompt as #{sid}, different answer",
                sid,
                None,
                (sample.id, sid),
                reason="contradictory",
            )
        )
    return flags


def default_flag_providers() -> tuple[FlagProvider, ...]:
    return (hash_flags, analysis.duplicate_flags, pairs.pair_flags, style.style_flags, relevance.relevance_flags)
