"""Preference data (issue 15): pairs and KTO labels imported first-class, stored, hashed, verified
and exported in their own layout; content parts read; fields a format would drop refused by name."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from conftest import SHARED

from review.export import ExportError, export
from review.importers import InputError, open_source
from review.model import ASSISTANT, TOOL_CALL, USER, Conversation, Turn, conversation_hashes
from review.store import Change, Store


def shared(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} is absent: the real datasets live beside the repository, not in it")
    return path


def read(path: Path, **kw) -> tuple[str, list[Conversation]]:
    with open_source(path, **kw) as reader:
        convs = [r.conversation for r in reader]
    return reader.format, convs


def jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


# -- the real files, each layout


def test_llamafactory_sharegpt_dpo_knows_both_answers():
    for name in ("llamafactory_dpo_en_demo.json", "llamafactory_dpo_zh_demo.json"):
        path = shared(name)
        records = json.loads(path.read_text(encoding="utf-8"))
        fmt, convs = read(path)
        assert fmt == "sharegpt_pair" and len(convs) == len(records) == 300
        for rec, conv in zip(records, convs, strict=True):
            assert conv.answer_text() == rec["chosen"]["value"]
            assert [t.content for t in conv.rejected] == [rec["rejected"]["value"]]
            assert conv.rejected[0].role == ASSISTANT
            assert conv.prompt_text() == "\n".join(m["value"] for m in rec["conversations"])


def test_openai_style_chosen_and_rejected_messages_share_their_prompt():
    path = shared("llamafactory_v1_dpo_demo.jsonl")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    fmt, convs = read(path)
    assert fmt == "openai_pair" and len(convs) == 10
    for rec, conv in zip(records, convs, strict=True):
        assert conv.system == rec["chosen_messages"][0]["content"][0]["value"]
        assert conv.answer_text() == rec["chosen_messages"][-1]["content"][0]["value"]
        assert conv.rejected == (Turn(ASSISTANT, rec["rejected_messages"][-1]["content"][0]["value"]),)
        assert conv.answer_text() != conv.rejected[0].content


def test_kto_label_is_read_from_each_record():
    path = shared("llamafactory_kto_en_demo.json")
    records = json.loads(path.read_text(encoding="utf-8"))
    fmt, convs = read(path)
    assert fmt == "openai"
    assert [c.label for c in convs] == [r["label"] for r in records]
    assert {c.label for c in convs} == {True, False}


def test_v1_content_parts_are_read_not_shown_as_their_type():
    """The v1 SFT demo's parts are {"type": "text", "value": ...}: they used to read as "[text]",
    which made 499 of its 500 records one "repeat"; the file has 1 exact duplicate."""
    path = shared("llamafactory_v1_sft_demo.jsonl")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    _, convs = read(path)
    for rec, conv in zip(records, convs, strict=True):
        assert [t.content for t in conv.turns] == [m["content"][0]["value"] for m in rec["messages"]]
    assert len({conversation_hashes(c).content for c in convs}) == 499


def test_reasoning_and_tool_call_parts_are_kept():
    path = shared("llamafactory_reason_tool_use_demo_50.jsonl")
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    _, convs = read(path)
    for rec, conv in zip(records, convs, strict=True):
        text = conv.full_text()
        for msg in rec["messages"]:
            for part in msg["content"]:
                if part["type"] == "tool_call":
                    assert any(t.role == TOOL_CALL and t.content == part["value"] for t in conv.turns)
                else:
                    assert part["value"] in text or part["value"] == conv.system
        assert "[text]" not in text


def test_multimodal_references_are_kept_and_shown():
    path = shared("llamafactory_mllm_demo.json")
    records = json.loads(path.read_text(encoding="utf-8"))
    _, convs = read(path)
    for rec, conv in zip(records, convs, strict=True):
        assert conv.media == tuple(f"image: {p}" for p in rec["images"])
        assert all(f"media: image: {p}" in conv.full_text() for p in rec["images"])


@pytest.mark.parametrize(
    ("part", "named"),
    [
        ({"type": "code", "code": "print(2 + 2)"}, "type 'code' whose content ('code')"),
        ({"type": "custom", "data": {"answer": "four"}}, "type 'custom' whose content ('data')"),
        ({"type": "text", "text": 4}, "type 'text' whose content ('text')"),
        ({"type": "reasoning", "summary": [{"type": "summary_text", "text": "2 and 2"}]}, "type 'reasoning'"),
        ({"data": "four"}, "type (no type) whose content ('data')"),
    ],
)
def test_a_content_part_whose_content_would_not_be_shown_is_refused_naming_its_type_and_line(tmp_path, part, named):
    """Issue 15 item 5: an unknown part used to read as "[code]", its content left out of the
    review; it is refused at its line, naming the part's type and the keys that hold its content."""
    path = jsonl(
        tmp_path / "parts.jsonl",
        [
            {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]},
            {"messages": [{"role": "user", "content": "2+2?"}, {"role": "assistant", "content": [part]}]},
        ],
    )
    with pytest.raises(InputError) as e:
        read(path)
    assert str(e.value).startswith(f"{path}:2: message 2 of 'messages' has a content part of {named}"), str(e.value)
    assert " — " in str(e.value) and "--skip-invalid" in e.value.todo
    fmt, convs = read(path, skip_invalid=True)
    assert fmt == "openai" and len(convs) == 1


def test_content_parts_with_text_show_it_and_a_bare_part_shows_its_type(tmp_path):
    """What a part holds is shown: its text under its type, the Assistants API's text.value; a part
    that holds nothing but its type is "[type]" (nothing is left out)."""
    path = jsonl(
        tmp_path / "parts.jsonl",
        [
            {
                "messages": [
                    {"role": "user", "content": [{"type": "divider"}, {"type": "text", "text": "Sum 2 and 2."}]},
                    {
                        "role": "assistant",
                        "content": [
                            {"type": "code", "text": "print(2 + 2)", "language": "python"},
                            {"type": "text", "text": {"value": "It is 4.", "annotations": []}},
                        ],
                    },
                ]
            }
        ],
    )
    _, (conv,) = read(path)
    assert [t.content for t in conv.turns] == ["[divider]\nSum 2 and 2.", "[code] print(2 + 2)\nIt is 4."]


# -- the other layouts, on small files


def test_alpaca_dpo_strings(tmp_path):
    path = jsonl(
        tmp_path / "a.jsonl",
        [{"instruction": "Sum", "input": "2+2", "chosen": "4", "rejected": "5", "history": [["hi", "hello"]]}],
    )
    fmt, (conv,) = read(path)
    assert fmt == "alpaca_pair"
    assert conv.turns == (Turn(USER, "hi"), Turn(ASSISTANT, "hello"), Turn(USER, "Sum\n\n2+2"), Turn(ASSISTANT, "4"))
    assert conv.rejected == (Turn(ASSISTANT, "5"),)


def test_trl_prompt_chosen_rejected_strings_and_message_lists(tmp_path):
    path = jsonl(
        tmp_path / "t.jsonl",
        [
            {"prompt": "Capital of France?", "chosen": "Paris.", "rejected": "Lyon."},
            {
                "prompt": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Sky colour?"}],
                "chosen": [{"role": "assistant", "content": "Blue."}],
                "rejected": [{"role": "assistant", "content": "Green."}],
            },
        ],
    )
    fmt, (a, b) = read(path)
    assert fmt == "trl_pair"
    assert a.answer_text() == "Paris." and a.rejected == (Turn(ASSISTANT, "Lyon."),)
    assert b.system == "Be brief." and b.prompt_text() == "Be brief.\nSky colour?"
    assert b.answer_text() == "Blue." and b.rejected == (Turn(ASSISTANT, "Green."),)


def test_trl_implicit_prompt_conversations(tmp_path):
    conv = [{"role": "user", "content": "2+2?"}]
    path = jsonl(
        tmp_path / "i.jsonl",
        [
            {
                "chosen": conv + [{"role": "assistant", "content": "4"}],
                "rejected": conv + [{"role": "assistant", "content": "5"}],
            }
        ],
    )
    fmt, (c,) = read(path)
    assert fmt == "openai_pair" and c.answer_text() == "4" and c.rejected == (Turn(ASSISTANT, "5"),)


def test_a_pair_whose_two_sides_ask_different_prompts_is_refused(tmp_path):
    path = jsonl(
        tmp_path / "p.jsonl",
        [
            {
                "chosen_messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "x"}],
                "rejected_messages": [{"role": "user", "content": "b"}, {"role": "assistant", "content": "y"}],
            }
        ],
    )
    with pytest.raises(InputError, match=r"p\.jsonl:1: 'chosen_messages' and 'rejected_messages' differ before"):
        read(path)


def test_a_kto_label_that_is_not_a_boolean_is_refused(tmp_path):
    msgs = [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]
    path = jsonl(tmp_path / "k.jsonl", [{"messages": msgs, "label": True}, {"messages": msgs, "label": "yes"}])
    with pytest.raises(InputError, match=r"k\.jsonl:2: 'label' is a string, expected true or false"):
        read(path)


# -- no silent loss (item 5)


@pytest.mark.parametrize(
    "record, field",
    [
        (
            {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}], "response": "b"},
            "response",
        ),
        ({"instruction": "q", "output": "a", "tools": [{"name": "f"}]}, "tools"),
        (
            {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "chosen": "x"},
            "chosen",
        ),
        ({"instruction": "q", "output": "a", "label": False}, "label"),
    ],
)
def test_a_field_that_carries_an_answer_the_format_ignores_is_refused_by_name(tmp_path, record, field):
    path = jsonl(tmp_path / "r.jsonl", [record])
    with pytest.raises(InputError, match=rf"r\.jsonl:1: the record has '{field}', which the \w+ format does not read"):
        read(path)


def test_a_category_label_is_metadata_not_an_answer(tmp_path):
    path = jsonl(tmp_path / "c.jsonl", [{"instruction": "q", "output": "a", "label": "geography"}])
    fmt, (conv,) = read(path)
    assert fmt == "alpaca" and conv.label is None and conv.answer_text() == "a"


def test_a_dpo_record_in_a_sharegpt_file_is_not_read_as_plain_sharegpt(tmp_path):
    sft = {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]}
    dpo = {
        "conversations": [{"from": "human", "value": "q"}],
        "chosen": {"from": "gpt", "value": "c"},
        "rejected": {"from": "gpt", "value": "r"},
    }
    path = jsonl(tmp_path / "m.jsonl", [sft, sft, sft, dpo])
    with pytest.raises(InputError, match=r"m\.jsonl:4: this record is ShareGPT preference pairs"):
        read(path)


# -- store: columns, hashes, migration, the one-line-array crash


def test_the_pair_and_label_are_stored_and_read_back(tmp_path):
    with Store(tmp_path / "p.db") as store:
        store.import_file(shared("llamafactory_dpo_en_demo.json"))
        store.import_file(shared("llamafactory_kto_en_demo.json"))
        samples = list(store.iter_samples())
        pairs, kto = samples[:300], samples[300:]
        assert all(s.conversation.rejected for s in pairs) and all(s.conversation.label is None for s in pairs)
        assert {s.conversation.label for s in kto} == {True, False} and not any(s.conversation.rejected for s in kto)


def test_two_pairs_that_differ_only_in_the_rejected_answer_are_not_duplicates():
    prompt_and_chosen = (Turn(USER, "q"), Turn(ASSISTANT, "good"))
    a = Conversation("", prompt_and_chosen, "", (Turn(ASSISTANT, "bad"),))
    b = Conversation("", prompt_and_chosen, "", (Turn(ASSISTANT, "worse"),))
    plain = Conversation("", prompt_and_chosen)
    ha, hb, hp = conversation_hashes(a), conversation_hashes(b), conversation_hashes(plain)
    assert len({ha.content, hb.content, hp.content}) == 3
    assert ha.answer == hb.answer == hp.answer  # the answer is the chosen one
    yes, no = Conversation("", prompt_and_chosen, label=True), Conversation("", prompt_and_chosen, label=False)
    assert conversation_hashes(yes).content != conversation_hashes(no).content


def test_repeated_records_of_a_one_line_json_array_are_reported_not_a_crash(tmp_path):
    """All records of `[{...}, {...}]` on one line start on line 1: looking for the repeat by a
    later line found none and raised IndexError in Store._repeats_in_stage."""
    rec = {"instruction": "q", "output": "a"}
    path = tmp_path / "one.json"
    path.write_text(json.dumps([rec, {"instruction": "x", "output": "y"}, rec, rec]), encoding="utf-8")
    with Store(tmp_path / "p.db") as store:
        report = store.import_file(path)
    assert report.added == 4 and report.repeated_records == 2 and report.repeated_examples == ((1, 1),)


def test_a_project_from_before_m007_upgrades_and_its_samples_are_plain(tmp_path):
    from sqlite_utils import Database

    from review.migrations import NAMES, migration_set, migrations

    upto = list(NAMES[: NAMES.index("m007_preference")])
    assert upto[-1] == "m006_goal_relevance"
    path = tmp_path / "old.db"
    db = Database(path)
    migration_set(upto).apply(db)
    assert "rejected" not in [c.name for c in db["samples"].columns]
    db.execute("INSERT INTO meta (key, value) VALUES ('total_samples', '1')")
    db.execute(
        "INSERT INTO sources (path, name, sha256, format, container, mapping, header, records, imported_at)"
        " VALUES ('/x.jsonl', 'x.jsonl', 'abc', 'openai', 'jsonl', '{}', NULL, 1, 'now')"
    )
    conv = Conversation("", (Turn(USER, "q"), Turn(ASSISTANT, "a")))
    h = conversation_hashes(conv)
    db.execute(
        "INSERT INTO samples (source_id, position, line, system, turns, tools, raw, content_hash, prompt_hash,"
        " answer_hash, prompt_chars, answer_chars, n_turns) VALUES (1, 0, 1, '', ?, '', '{}', ?, ?, ?, 1, 1, 2)",
        [conv.turns_json(), h.content, h.prompt, h.answer],
    )
    db.conn.commit()
    db.close()
    with Store(path) as store:
        assert [m.name for m in migrations.applied(store.db)] == list(NAMES)
        (sample,) = store.iter_samples()
        assert sample.conversation == conv and sample.content_hash == h.content
        assert store.conn.execute("SELECT rejected, label, media FROM samples").fetchall() == [("", None, "")]


# -- export


ROUND_TRIP = (
    "llamafactory_dpo_en_demo.json",
    "llamafactory_dpo_zh_demo.json",
    "llamafactory_v1_dpo_demo.jsonl",
    "llamafactory_kto_en_demo.json",
    "llamafactory_v1_sft_demo.jsonl",
    "llamafactory_reason_tool_use_demo_50.jsonl",
    "llamafactory_mllm_demo.json",
)


@pytest.mark.parametrize("name", ROUND_TRIP)
def test_each_layout_round_trips_byte_for_byte(tmp_path, name):
    src = shared(name)
    with Store(tmp_path / "p.db") as store:
        store.import_file(src)
        goal, _ = store.add_goal("keep all")
        store.apply(goal.id, [Change(s.id, "keep") for s in store.iter_samples()], kind="batch")
        out = tmp_path / ("kept" + "".join(src.suffixes))
        export(store, goal, out)
    assert out.read_bytes() == src.read_bytes()


def test_a_changed_rejected_answer_is_caught_by_export_verification(tmp_path):
    with Store(tmp_path / "p.db") as store:
        store.import_file(shared("llamafactory_v1_dpo_demo.jsonl"))
        goal, _ = store.add_goal("g")
        store.apply(goal.id, [Change(1, "keep")], kind="batch")
    conn = sqlite3.connect(tmp_path / "p.db")
    conn.execute("UPDATE samples SET rejected = '[]' WHERE id = 1")
    conn.commit()
    conn.close()
    with Store(tmp_path / "p.db") as store, pytest.raises(ExportError, match="#1"):
        export(store, store.goals()[0], tmp_path / "out.jsonl")


def test_converting_a_pair_to_an_sft_layout_is_refused(tmp_path):
    with Store(tmp_path / "p.db") as store:
        store.import_file(shared("llamafactory_dpo_en_demo.json"))
        goal, _ = store.add_goal("g")
        store.apply(goal.id, [Change(1, "keep")], kind="batch")
        with pytest.raises(ExportError, match="preference pair, whose rejected answer no SFT layout holds"):
            export(store, goal, tmp_path / "out.jsonl", to="openai")


def test_an_unknown_pair_layout_is_told_to_name_its_prompt_not_to_map_answer_chosen(tmp_path):
    path = jsonl(tmp_path / "q.jsonl", [{"question": "2+2?", "chosen": "4", "rejected": "5"}])
    with pytest.raises(InputError) as e:
        read(path)
    assert "preference pairs" in e.value.todo and "jq -c '.prompt = .question | del(.question)'" in e.value.todo
    fixed = jsonl(tmp_path / "fixed.jsonl", [{"prompt": "2+2?", "chosen": "4", "rejected": "5"}])
    fmt, (conv,) = read(fixed)
    assert fmt == "trl_pair" and conv.rejected == (Turn(ASSISTANT, "5"),)


def test_a_user_mapping_onto_chosen_is_refused_naming_rejected(tmp_path):
    path = jsonl(
        tmp_path / "q.jsonl", [{"question": f"q{i}", "chosen": f"c{i}", "rejected": f"r{i}"} for i in range(3)]
    )
    with pytest.raises(InputError, match="'rejected', which the mapped format does not read"):
        read(path, mapping={"prompt": "question", "answer": "chosen"})


@pytest.mark.parametrize(
    "records",
    [
        [{"instruction": "Sum", "input": "2+2", "chosen": "4", "rejected": "5"}],
        [
            {
                "prompt": [{"role": "user", "content": "Hi"}],
                "chosen": [{"role": "assistant", "content": "Hello"}],
                "rejected": "Go away",
            }
        ],
        [{"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}], "label": False}],
    ],
)
def test_the_small_layouts_round_trip_too(tmp_path, records):
    src = tmp_path / "s.json"
    src.write_text(json.dumps(records, ensure_ascii=False, indent=4), encoding="utf-8")
    with Store(tmp_path / "p.db") as store:
        store.import_file(src)
        goal, _ = store.add_goal("keep all")
        store.apply(goal.id, [Change(s.id, "keep") for s in store.iter_samples()], kind="batch")
        export(store, goal, tmp_path / "out.json")
    assert (tmp_path / "out.json").read_bytes() == src.read_bytes()  # its own ending too (no "\\n" after "]")


def test_a_csv_of_alpaca_pairs_imports_and_round_trips(tmp_path):
    src = tmp_path / "pairs.csv"
    src.write_text('instruction,input,chosen,rejected\nSum,2+2,4,"five,\nmaybe"\n', encoding="utf-8")
    with Store(tmp_path / "p.db") as store:
        report = store.import_file(src)
        assert report.source is not None and report.source.format == "alpaca_pair"
        (sample,) = store.iter_samples()
        assert sample.conversation.answer_text() == "4"
        assert sample.conversation.rejected == (Turn(ASSISTANT, "five,\nmaybe"),)
        goal, _ = store.add_goal("g")
        store.apply(goal.id, [Change(1, "keep")], kind="batch")
        export(store, goal, tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_bytes() == src.read_bytes()
