"""Keys spelt another way (issue 15's "done when"): a record of the detected format that lacks one of
its keys but has exactly one key that is that key misspelt or cut (`instuction`, `instruct`) is
read as that key, the import summary says so, and the raw record is exported byte for byte.
Anything ambiguous is refused as before, with the jq rename.

Synthetic files stand on their own; the real files of ../shared/datasets are checked where that
folder is present (skipped, saying why, where it is absent): the two files that needed a rename
import without --map, and every other file imports exactly as before."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SHARED

from review.export import export
from review.importers import InputError, open_source
from review.importers.hints import edit_distance, spelt_as
from review.importers.schemas import respellings
from review.model import ASSISTANT, USER
from review.store import Change, Store
from tui.cli import cli


def shared(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} is absent: the real datasets live beside the repository, not in it")
    return path


def write_json(path: Path, recs: list[dict]) -> Path:
    path.write_text(json.dumps(recs, ensure_ascii=False, indent=4), encoding="utf-8")
    return path


def write_jsonl(path: Path, recs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    return path


def refusal(path: Path, **kw) -> InputError:
    with pytest.raises(InputError) as e:
        with open_source(path, **kw) as reader:
            list(reader)
    return e.value


def read_all(path: Path, **kw):
    with open_source(path, **kw) as reader:
        convs = [r.conversation for r in reader]
        return reader.format, convs, reader.respelt


def import_cli(tmp_path: Path, src: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["import", str(src), "--db", str(tmp_path / "p.db")])
    return result.exit_code, result.output


def export_all_kept(tmp_path: Path, src: Path) -> Path:
    """Import `src` into a fresh project, keep every sample, export to a file of src's suffix."""
    with Store(tmp_path / "rt.db") as store:
        store.import_file(src)
        goal, _ = store.add_goal("keep every record")
        store.apply(goal.id, [Change(s.id, "keep") for s in store.iter_samples()], kind="batch")
        out = tmp_path / ("kept" + src.suffix)
        export(store, goal, out)
    return out


def alpaca(i: int, key: str = "instruction") -> dict:
    return {key: f"Question {i}?", "input": "", "output": f"Answer {i}."}


# ------------------------------------------------------------------------- the rule itself


def test_edit_distance_counts_swaps_as_one_edit() -> None:
    assert edit_distance("instuction", "instruction") == 1
    assert edit_distance("ouptut", "output") == 1  # two neighbours swapped
    assert edit_distance("instrcutoin", "instruction") == 2
    assert edit_distance("abc", "abcdefgh") == 3  # capped
    assert edit_distance("input", "input") == 0


@pytest.mark.parametrize(
    ("key", "canonical", "expected"),
    [
        ("instuction", "instruction", True),
        ("instruct", "instruction", True),  # a cut
        ("Instruction", "instruction", True),  # case only
        ("inputs", "input", True),
        ("ouput", "output", True),
        ("histroy", "history", True),
        ("instuctoin", "instruction", True),  # two edits: a letter dropped, two swapped
        ("input_ids", "input", False),  # a longer key starting with the key is another field
        ("system_prompt", "system", False),
        ("story", "history", False),  # two edits from a short key, another first letter
        ("outptus", "output", False),  # two edits from a 6-letter key
        ("inst", "instruction", False),  # too short to tell
        ("tool", "tools", False),
        ("uotput", "output", False),  # the first letter differs
    ],
)
def test_spelt_as(key: str, canonical: str, expected: bool) -> None:
    assert spelt_as(key, canonical) is expected


def test_respellings_takes_one_candidate_only() -> None:
    canon = ("instruction", "input", "output", "system", "history")
    assert respellings(["instuction", "input", "output"], canon) == {"instuction": "instruction"}
    assert respellings(["instruct", "output"], canon) == {"instruct": "instruction"}
    # two keys that could each be the instruction: neither is read as it
    assert respellings(["instuction", "instrction", "output"], canon) == {}
    # the key is present: a near key beside it is left alone
    assert respellings(["instruction", "instuction", "output"], canon) == {}
    # a key some format reads is never another key's spelling
    assert respellings(["conversations"], ("conversation",)) == {}
    assert respellings(["chosen", "rejected_messages"], ("chosen_messages", "rejected_messages")) == {}
    assert respellings(["instruction", "input", "outputs", "ouput"], canon) == {}
    # a key that could be either of two keys of the format is read as neither
    assert respellings(["answerz"], ("answer", "answers")) == {}
    assert respellings(["answerz", "answers"], ("answer", "answers")) == {}


# ------------------------------------------------------------------------- synthetic files


def test_misspelt_key_is_read_said_in_the_summary_and_exported_byte_for_byte(tmp_path: Path) -> None:
    recs = [alpaca(0), *(alpaca(i, "instuction") for i in range(1, 6)), alpaca(6, "instruct")]
    src = write_json(tmp_path / "d.json", recs)
    fmt, convs, respelt = read_all(src)
    assert fmt == "alpaca" and len(convs) == 7
    assert [c.turns[0].content for c in convs] == [f"Question {i}?" for i in range(7)]
    assert respelt == (("instuction", "instruction", 5), ("instruct", "instruction", 1))
    code, out = import_cli(tmp_path, src)
    assert code == 0, out
    assert "imported 7 samples as alpaca" in out
    assert "5 records spell 'instruction' as 'instuction' (read as instruction)" in out
    assert "1 record spells 'instruction' as 'instruct' (read as instruction)" in out
    with Store(tmp_path / "p.db") as store:
        raws = [s.raw for s in store.iter_samples()]
    assert [json.loads(r) for r in raws] == recs  # raw keeps the record's own spelling
    assert export_all_kept(tmp_path, src).read_bytes() == src.read_bytes()


def test_a_file_that_needs_no_respelling_says_nothing_of_it(tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "d.jsonl", [alpaca(i) for i in range(4)])
    code, out = import_cli(tmp_path, src)
    assert code == 0 and "spell" not in out
    assert read_all(src)[2] == ()


def test_optional_keys_misspelt_are_read_too(tmp_path: Path) -> None:
    """`inputs` and `histroy` for input and history: today's reader would have dropped them."""
    recs = [
        alpaca(0),
        {"instruction": "Add", "inputs": "2 and 3", "output": "5", "histroy": [["Hi", "Hello."]]},
    ]
    fmt, convs, respelt = read_all(write_jsonl(tmp_path / "d.jsonl", recs))
    assert fmt == "alpaca"
    assert [(t.role, t.content) for t in convs[1].turns] == [
        (USER, "Hi"),
        (ASSISTANT, "Hello."),
        (USER, "Add\n\n2 and 3"),
        (ASSISTANT, "5"),
    ]
    assert sorted(respelt) == [("histroy", "history", 1), ("inputs", "input", 1)]


def test_ambiguous_spellings_are_refused_with_the_rename(tmp_path: Path) -> None:
    recs = [alpaca(0), {"instuction": "Q?", "instrction": "Q again?", "input": "", "output": "A."}]
    src = write_jsonl(tmp_path / "d.jsonl", recs)
    err = refusal(src)
    assert err.line == 2
    assert "the record has no 'instruction', which the alpaca format needs; it has 'instuction'" in err.what
    assert 'if has("instuction") then .["instruction"] = .["instuction"]' in err.todo
    code, out = import_cli(tmp_path, src)
    assert code != 0 and "nothing was imported" in out
    assert not (tmp_path / "p.db").exists()


def test_the_refusal_rename_still_works_where_it_is_given(tmp_path: Path) -> None:
    recs = [alpaca(0), {"instuction": "Q?", "instrction": "Q again?", "input": "", "output": "A."}]
    src = write_json(tmp_path / "d.json", recs)
    err = refusal(src)
    if shutil.which("jq") is None:
        pytest.skip("jq is not installed here: the rename command itself cannot be run")
    command = err.todo.split("e.g. ", 1)[1].split("; or import", 1)[0]
    subprocess.run(command, shell=True, cwd=tmp_path, check=True, timeout=60)
    fmt, convs, _ = read_all(tmp_path / "d.fixed.json")
    assert fmt == "alpaca" and convs[1].turns[0].content == "Q?"


def test_a_known_field_close_to_a_missing_key_is_not_read_as_it(tmp_path: Path) -> None:
    """`chosen_messages` missing, `chosen` present: `chosen` is a cut of chosen_messages but a key
    other formats read, not the chosen conversation misspelt: refused as before, naming it."""
    turn = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello."}]
    recs = [{"chosen": turn, "rejected_messages": turn}]
    err = refusal(write_jsonl(tmp_path / "d.jsonl", recs), fmt="openai_pair")
    assert "the record has 'chosen', which the openai_pair format does not read" in err.what


def test_a_known_field_is_not_read_as_a_spelling(tmp_path: Path) -> None:
    """MOSS `conversation` records read with --format conversation: a record holding ShareGPT's
    `conversations` instead is not the same field misspelt; it is refused naming it."""
    good = {"conversation": [{"human": "Hi", "assistant": "Hello."}]}
    other = {"conversations": [{"human": "Hi", "assistant": "Hello."}]}
    err = refusal(write_jsonl(tmp_path / "d.jsonl", [good, other]), fmt="conversation")
    assert err.line == 2 and "'conversations'" in err.what


def test_mixed_records_and_a_second_schema(tmp_path: Path) -> None:
    """Alpaca-with-history records, then records with only instruct/output (zhongjing's layout):
    the history becomes turns, the others import as single-turn samples."""
    first = [
        {"id": i, "cate1": "内科", "instruction": f"问{i}", "input": "", "output": f"答{i}", "history": [["早", "好"]]}
        for i in range(3)
    ]
    second = [{"instruct": f"安全问题{i}", "output": f"安全回答{i}"} for i in range(2)]
    src = write_json(tmp_path / "d.json", first + second)
    fmt, convs, respelt = read_all(src)
    assert fmt == "alpaca"
    assert [len(c.turns) for c in convs] == [4, 4, 4, 2, 2]
    assert [t.content for t in convs[0].turns] == ["早", "好", "问0", "答0"]
    assert [t.content for t in convs[3].turns] == ["安全问题0", "安全回答0"]
    assert respelt == (("instruct", "instruction", 2),)
    assert export_all_kept(tmp_path, src).read_bytes() == src.read_bytes()


def test_a_respelt_key_of_the_wrong_type_is_refused_naming_it(tmp_path: Path) -> None:
    recs = [alpaca(0), {"instuction": 5, "input": "", "output": "A."}]
    err = refusal(write_jsonl(tmp_path / "d.jsonl", recs))
    assert "'instruction' is a number, expected a string (the record spells it 'instuction')" in err.what


def test_a_user_mapping_reads_its_fields_by_exact_name(tmp_path: Path) -> None:
    recs = [{"question": f"Q{i}?", "answer": f"A{i}."} for i in range(6)] + [{"questoin": "Q?", "answer": "A."}]
    err = refusal(write_jsonl(tmp_path / "d.jsonl", recs), mapping={"prompt": "question", "answer": "answer"})
    assert err.line == 7 and "'question'" in err.what


def test_skip_invalid_counts_only_the_records_imported(tmp_path: Path) -> None:
    """The sampled records are converted twice (at open, then in the import pass): counted once."""
    recs = [alpaca(0), *(alpaca(i, "instuction") for i in range(1, 40)), {"instuction": 1, "output": "x"}]
    with open_source(write_jsonl(tmp_path / "d.jsonl", recs), skip_invalid=True) as reader:
        assert len(list(reader)) == 40
        assert reader.respelt == (("instuction", "instruction", 39),)
        assert reader.skipped_total == 1


# ------------------------------------------------------------------------- real files


def test_real_selfcognition_imports_without_map_and_round_trips(tmp_path: Path) -> None:
    src = shared("selfcognition_self_cognition_data.json")
    records = json.loads(src.read_text(encoding="utf-8"))
    code, out = import_cli(tmp_path, src)
    assert code == 0, out
    assert "imported 72 samples as alpaca (json)" in out
    assert "65 records spell 'instruction' as 'instuction' (read as instruction)" in out
    with Store(tmp_path / "p.db") as store:
        samples = list(store.iter_samples())
    prompts = [s.conversation.turns[0].content for s in samples]
    assert prompts == [r.get("instruction", r.get("instuction")) for r in records]
    assert [s.conversation.turns[-1].content for s in samples] == [r["output"] for r in records]
    out_file = export_all_kept(tmp_path, src)
    assert json.loads(out_file.read_text(encoding="utf-8")) == records
    assert out_file.read_bytes() == src.read_bytes()


def test_real_zhongjing_both_schemas_import_without_map_and_round_trip(tmp_path: Path) -> None:
    src = shared("zhongjing_CMtMedQA_test.json")
    records = json.loads(src.read_text(encoding="utf-8"))
    code, out = import_cli(tmp_path, src)
    assert code == 0, out
    assert "imported 1,144 samples as alpaca (json)" in out
    assert "144 records spell 'instruction' as 'instruct' (read as instruction)" in out
    with Store(tmp_path / "p.db") as store:
        samples = list(store.iter_samples())
    assert len(samples) == len(records) == 1144
    for s, r in zip(samples, records, strict=True):
        turns = s.conversation.turns
        if "history" in r:  # each [user, assistant] pair is two earlier turns
            want = [t for pair in r["history"] for t in pair] + [
                r["instruction"] + ("\n\n" + r["input"] if r["input"] else ""),
                r["output"],
            ]
            assert [t.content for t in turns] == want
            assert [t.role for t in turns] == [USER, ASSISTANT] * (len(r["history"]) + 1)
        else:  # the 144 safety records: one question, one answer
            assert [(t.role, t.content) for t in turns] == [(USER, r["instruct"]), (ASSISTANT, r["output"])]
    assert sum(len(s.conversation.turns) == 2 for s in samples) == 144 + sum(
        1 for r in records if "history" in r and not r["history"]
    )
    out_file = export_all_kept(tmp_path, src)
    assert json.loads(out_file.read_text(encoding="utf-8")) == records
    # Byte for byte, the two elements that open with an odd indentation included (lines 18958 and
    # 24187: 6 and 5 spaces before '{', 4 elsewhere): they were imported with their own in front.
    assert out_file.read_bytes() == src.read_bytes()


# Every other file of ../shared/datasets: format and record count as they imported before the
# spelling rule (README of the datasets), and no key read under another spelling — so each record
# is converted exactly as before.
UNCHANGED = {
    "alpaca_data.json": ("alpaca", 52002),
    "betterruozhiba_ruozhiba_qa.json": ("alpaca", 1475),
    "coigcqia_100poison.jsonl": ("alpaca", 906),
    "fastchat_dummy_conversation.json": ("sharegpt", 500),
    "llamafactory_alpaca_en_demo.json": ("alpaca", 999),
    "llamafactory_alpaca_zh_demo.json": ("alpaca", 1000),
    "llamafactory_dpo_en_demo.json": ("sharegpt_pair", 300),
    "llamafactory_dpo_zh_demo.json": ("sharegpt_pair", 300),
    "llamafactory_glaive_toolcall_en_demo.json": ("sharegpt", 300),
    "llamafactory_glaive_toolcall_zh_demo.json": ("sharegpt", 300),
    "llamafactory_identity.json": ("alpaca", 91),
    "llamafactory_kto_en_demo.json": ("openai", 300),
    "llamafactory_mllm_demo.json": ("openai", 6),
    "llamafactory_reason_tool_use_demo_50.jsonl": ("openai", 50),
    "llamafactory_v1_dpo_demo.jsonl": ("openai_pair", 10),
    "llamafactory_v1_sft_demo.jsonl": ("openai", 500),
}


def test_every_data_file_of_shared_is_listed() -> None:
    """A file added to ../shared/datasets must be added here (or to the two respelt ones)."""
    if not SHARED.exists():
        pytest.skip(f"{SHARED} is absent: the real datasets live beside the repository, not in it")
    data = {
        p.name
        for p in SHARED.iterdir()
        if p.suffix in (".json", ".jsonl") and p.name != "llamafactory_dataset_info.json"
    }
    assert data == {*UNCHANGED, "selfcognition_self_cognition_data.json", "zhongjing_CMtMedQA_test.json"}


@pytest.mark.parametrize("name", sorted(UNCHANGED))
def test_real_file_imports_as_before(name: str) -> None:
    fmt, count = UNCHANGED[name]
    with open_source(shared(name)) as reader:
        n = sum(1 for _ in reader)
        assert (reader.format, n) == (fmt, count)
        assert reader.respelt == ()


# ------------------------------------------------------------------------- the review screen


async def test_review_screen_shows_the_history_turns_and_a_respelt_record(tmp_path: Path) -> None:
    from reliability.pilot import screen_text, settle
    from tui.app import make_app

    recs = [
        {
            "instruction": "最后一个问题",
            "input": "",
            "output": "最后的回答",
            "history": [["第一个问题", "第一个回答"], ["第二个问题", "第二个回答"]],
        },
        {"instruct": "拼错键的问题", "output": "拼错键的回答"},
    ]
    src = write_json(tmp_path / "d.json", recs)
    with Store(tmp_path / "p.db") as store:
        store.import_file(src)
        store.add_goal("Answer medical questions safely.")
    app = make_app(tmp_path / "p.db", config={"cursor_blink": False})
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        want = ["第一个问题", "第一个回答", "第二个问题", "第二个回答", "最后一个问题", "最后的回答"]
        shown = screen_text(app)
        assert all(t in shown for t in want), shown
        await pilot.press("j")  # the next sample
        await settle(pilot)
        for _ in range(50):
            shown = screen_text(app)
            if "拼错键的问题" in shown:
                break
            await pilot.pause(0.05)
        assert "拼错键的问题" in shown and "拼错键的回答" in shown, shown
