"""The semantic detector's veto (review/analysis/veto.py): requests that differ in their numbers or
in the tools they offer are never near-duplicates. Pair keys on written conversations, then the
real default model (multilingual-e5-small) on a real project file."""

from __future__ import annotations

import json

from review.analysis import duplicate_pairs, run_analysis
from review.analysis.veto import pair_key, tool_names
from review.model import ASSISTANT, USER, Conversation, Turn
from review.store import Store


def conv(user: str, answer: str = "Done.", tools: str | None = None) -> Conversation:
    return Conversation("", (Turn(USER, user), Turn(ASSISTANT, answer)), tools)


def test_numbers_of_the_user_turns_and_tool_names_make_the_key():
    assert pair_key(conv("Tip on 85 at 20%?")) != pair_key(conv("Tip on 50 at 15%?"))
    assert pair_key(conv("Tip on 85 at 20%?")) == pair_key(conv("What is a 20% tip on 85?"))  # order ignored
    assert pair_key(conv("Hi", "It is 214.3 km.")) == pair_key(conv("Hi", "It is 214.4 km."))  # answers don't count
    profile = json.dumps([{"name": "create_profile", "parameters": {"name": {"type": "string"}}}])
    account = json.dumps([{"type": "function", "function": {"name": "create_account"}}])
    assert tool_names(profile) == {"create_profile"} and tool_names(account) == {"create_account"}
    assert pair_key(conv("Make one", tools=profile)) != pair_key(conv("Make one", tools=account))
    assert tool_names("not json") == {"not json"} and tool_names(None) == frozenset()


def test_a_templated_request_with_other_numbers_is_not_a_semantic_duplicate(tmp_path):
    records = [
        {"instruction": "Calculate a 20% tip on a bill of $85.", "input": "", "output": "The tip is $17."},
        {"instruction": "Calculate a 15% tip on a bill of $50.", "input": "", "output": "The tip is $7.50."},
        {"instruction": "Calculate a 20% tip for a bill of $85.", "input": "", "output": "The tip is $17."},
        {"instruction": "Name the capital of France.", "input": "", "output": "Paris."},
    ]
    src = tmp_path / "tips.json"
    src.write_text(json.dumps(records), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(src)
    run_analysis(db, detectors=("semantic",), thresholds={"semantic": 0.9})
    with Store(db) as s:
        pairs = {tuple(sorted((a, b))) for a, b, _ in duplicate_pairs(s, "semantic")}
    assert pairs == {(1, 3)}  # the reworded one; never the 15% on $50
