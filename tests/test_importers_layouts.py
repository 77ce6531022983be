"""Conversation layouts (issue 15 item 2): MOSS/Firefly `conversation` pairs and chats kept as one
text (Guanaco `### Human:`, HH `Human:`, Zephyr `<|user|>`) import as turns, show every answer,
export byte for byte; a field they would lose is refused by name."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review.export import export
from review.importers import InputError, open_source
from review.model import ASSISTANT, SYSTEM, USER
from review.store import Change, Store

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def read(path: Path, **kw):
    with open_source(path, **kw) as reader:
        return reader.format, [r.conversation for r in reader]


def round_trip(tmp: Path, src: Path) -> bytes:
    with Store(tmp / "p.db") as store:
        store.import_file(src)
        goal, _ = store.add_goal("keep all")
        store.apply(goal.id, [Change(s.id, "keep") for s in store.iter_samples()], kind="batch")
        out = tmp / ("kept" + src.suffix)
        export(store, goal, out)
    return out.read_bytes()


FIREFLY = [
    {
        "conversation_id": 1,
        "category": "Brainstorming",
        "conversation": [
            {"human": "Name a colour.", "assistant": "Blue."},
            {"human": "Another?", "assistant": "Green."},
        ],
        "dataset": "moss",
    },
    {
        "conversation_id": 2,
        "category": "Code",
        "conversation": [{"human": "print 1 in Python", "assistant": "print(1)"}],
    },
]


def test_firefly_pairs_become_turns_and_round_trip(tmp_path: Path) -> None:
    src = jsonl(tmp_path / "firefly.jsonl", FIREFLY)
    fmt, convs = read(src)
    assert fmt == "conversation"
    assert [(t.role, t.content) for t in convs[0].turns] == [
        (USER, "Name a colour."),
        (ASSISTANT, "Blue."),
        (USER, "Another?"),
        (ASSISTANT, "Green."),
    ]
    assert convs[1].prompt_text() == "print 1 in Python" and convs[1].answer_text() == "print(1)"
    # The category is metadata, never the prompt (the old suggested mapping made it one).
    assert all("Brainstorming" not in c.full_text() for c in convs)
    assert round_trip(tmp_path, src) == src.read_bytes()


def test_a_firefly_pair_with_another_field_is_refused_by_name(tmp_path: Path) -> None:
    recs = [FIREFLY[1], {"conversation": [{"human": "q", "assistant": "a", "assistant_2": "b"}]}]
    src = jsonl(tmp_path / "f.jsonl", recs)
    with pytest.raises(InputError) as e:
        read(src)
    assert e.value.line == 2 and "'assistant_2'" in e.value.what and "would be lost" in e.value.what


def test_a_firefly_record_with_an_answer_field_outside_the_pairs_is_refused(tmp_path: Path) -> None:
    src = jsonl(tmp_path / "f.jsonl", [{**FIREFLY[1], "output": "print(2)"}])
    with pytest.raises(InputError, match="'output', which the conversation format does not read"):
        read(src)


@pytest.mark.parametrize(
    ("text", "system", "turns"),
    [
        (
            "### Human: What is 2+2?### Assistant: 4.### Human: And 3+3? ### Assistant: 6.",
            "",
            [(USER, "What is 2+2?"), (ASSISTANT, "4."), (USER, "And 3+3?"), (ASSISTANT, "6.")],
        ),
        (
            "\n\nHuman: Is the sky blue? Human: nobody asked.\n\nAssistant: Usually.\nHuman: why?\nAssistant: Rayleigh scattering.",
            "",
            [
                (USER, "Is the sky blue? Human: nobody asked."),
                (ASSISTANT, "Usually."),
                (USER, "why?"),
                (ASSISTANT, "Rayleigh scattering."),
            ],
        ),
        (
            "<|system|>\nBe brief.</s>\n<|user|>\nHi</s>\n<|assistant|>\nHello.</s>",
            "Be brief.</s>",
            [(USER, "Hi</s>"), (ASSISTANT, "Hello.</s>")],
        ),
    ],
)
def test_chat_text_is_split_at_its_markers(tmp_path: Path, text: str, system: str, turns: list) -> None:
    src = jsonl(tmp_path / "g.jsonl", [{"text": text}, {"text": text}])
    fmt, convs = read(src)
    assert fmt == "text_chat"
    assert convs[0].system == system and [(t.role, t.content) for t in convs[0].turns] == turns
    assert round_trip(tmp_path, src) == src.read_bytes()


def test_chat_text_without_a_leading_marker_is_refused_at_its_line(tmp_path: Path) -> None:
    src = jsonl(tmp_path / "g.jsonl", [{"text": "### Human: q### Assistant: a"}] * 3 + [{"text": "Once upon a time"}])
    with pytest.raises(InputError) as e:
        read(src)
    assert e.value.line == 4 and "does not start with a speaker marker" in e.value.what


def test_plain_text_records_stay_an_unknown_schema(tmp_path: Path) -> None:
    src = jsonl(tmp_path / "t.jsonl", [{"text": "a plain document"}])
    with pytest.raises(InputError, match="unknown schema"):
        read(src)


def test_sharegpt_role_tag_variants(tmp_path: Path) -> None:
    for user, assistant in (("human", "gpt"), ("user", "assistant"), ("user", "chatgpt")):
        rec = {"conversations": [{"from": user, "value": "q"}, {"from": assistant, "value": "a"}]}
        _, (conv,) = read(jsonl(tmp_path / "s.jsonl", [rec]))
        assert [(t.role, t.content) for t in conv.turns] == [(USER, "q"), (ASSISTANT, "a")]


# -- properties: whatever turns go in, every one is reachable, and the file comes back as it was

body = (
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="#<|:"), min_size=1, max_size=30)
    .map(str.strip)
    .filter(bool)
)
pairs = st.lists(st.tuples(body, body), min_size=1, max_size=4)


@SETTINGS
@given(st.lists(pairs, min_size=1, max_size=5))
def test_property_firefly(records: list[list[tuple[str, str]]]) -> None:
    with tempfile.TemporaryDirectory() as d:
        src = jsonl(
            Path(d) / "f.jsonl", [{"conversation": [{"human": q, "assistant": a} for q, a in r]} for r in records]
        )
        _, convs = read(src)
        assert [[t.content for t in c.turns] for c in convs] == [[x for qa in r for x in qa] for r in records]
        assert round_trip(Path(d), src) == src.read_bytes()


@SETTINGS
@given(st.lists(pairs, min_size=1, max_size=5), st.sampled_from(["### {} : ", "\n{}: ", "<|{}|>\n"]))
def test_property_text_chat(records: list[list[tuple[str, str]]], marker: str) -> None:
    names = {"### {} : ": ("Human", "Assistant"), "\n{}: ": ("Human", "Assistant"), "<|{}|>\n": ("user", "assistant")}
    u, a = names[marker]
    texts = ["".join(marker.format(u) + q + "\n" + marker.format(a) + ans + "\n" for q, ans in r) for r in records]
    with tempfile.TemporaryDirectory() as d:
        src = jsonl(Path(d) / "g.jsonl", [{"text": t} for t in texts])
        fmt, convs = read(src)
        assert fmt == "text_chat"
        assert [[(t.role, t.content) for t in c.turns] for c in convs] == [
            [(role, x) for qa in r for role, x in zip((USER, ASSISTANT), qa, strict=True)] for r in records
        ]
        assert all(c.system == "" for c in convs) and SYSTEM not in {t.role for c in convs for t in c.turns}
        assert round_trip(Path(d), src) == src.read_bytes()


HH = {
    "chosen": "\n\nHuman: Is tea healthy?\n\nAssistant: In moderation.\n\nHuman: How much?\n\nAssistant: A few cups a day.",
    "rejected": "\n\nHuman: Is tea healthy?\n\nAssistant: In moderation.\n\nHuman: How much?\n\nAssistant: Ten litres.",
}


def test_anthropic_hh_pairs_know_both_answers_and_round_trip(tmp_path: Path) -> None:
    src = jsonl(tmp_path / "hh.jsonl", [HH, HH])
    fmt, convs = read(src)
    assert fmt == "text_pair"
    conv = convs[0]
    assert [(t.role, t.content) for t in conv.turns] == [
        (USER, "Is tea healthy?"),
        (ASSISTANT, "In moderation."),
        (USER, "How much?"),
        (ASSISTANT, "A few cups a day."),
    ]
    assert [(t.role, t.content) for t in conv.rejected] == [(ASSISTANT, "Ten litres.")]
    assert round_trip(tmp_path, src) == src.read_bytes()


def test_hh_pairs_that_disagree_before_the_answer_are_refused(tmp_path: Path) -> None:
    bad = {**HH, "rejected": HH["rejected"].replace("How much?", "How little?")}
    with pytest.raises(InputError) as e:
        read(jsonl(tmp_path / "hh.jsonl", [HH, bad]))
    assert e.value.line == 2 and "differ before their last answer" in e.value.what


def test_a_corpus_where_few_texts_open_with_a_marker_is_not_a_chat_file(tmp_path: Path) -> None:
    recs = [{"text": f"document {i}"} for i in range(5)] + [{"text": "Human: a quoted line"}]
    with pytest.raises(InputError, match="unknown schema"):
        read(jsonl(tmp_path / "t.jsonl", recs))
