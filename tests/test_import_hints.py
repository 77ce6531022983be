"""Import hints judged by content (issue 14 item 7): the "unknown schema" refusal suggests the fields
that hold the prompt and the answer, and a user mapping whose answer is the same in most records or
whose prompt is a short label is refused with nothing imported.

Real records come from ../shared/datasets (small slices copied into tmp_path); those tests skip,
saying why, where ../shared is absent. The synthetic cases stand on their own."""

from __future__ import annotations

import csv
import json
import random
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from review.importers import InputError, open_source
from review.store import Store
from tui.cli import cli

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def shared(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} is absent: the real datasets live beside the repository, not in it")
    return path


def records_of(name: str) -> list[dict]:
    path = shared(name)
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return json.loads(path.read_text(encoding="utf-8"))


def write_json(path: Path, recs: list[dict]) -> Path:
    path.write_text(json.dumps(recs, ensure_ascii=False, indent=2), encoding="utf-8")
    return path


def write_jsonl(path: Path, recs: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
    return path


def refusal(path: Path, **kw) -> InputError:
    with pytest.raises(InputError) as e:
        open_source(path, **kw).close()
    return e.value


def import_cli(tmp_path: Path, path: Path, *maps: str):
    db = tmp_path / "p.db"
    args = ["import", str(path), "--db", str(db)]
    for m in maps:
        args += ["--map", m]
    return CliRunner().invoke(cli, args, catch_exceptions=False), db


def refused_and_untouched(tmp_path: Path, path: Path, *maps: str) -> str:
    """Import with the mapping into a project holding one earlier import: refused, one line, the
    project exactly as it was."""
    db = tmp_path / "p.db"
    seed = write_jsonl(tmp_path / "seed.jsonl", [{"instruction": "Seed?", "output": "Seed."}])
    first, _ = import_cli(tmp_path, seed)
    assert first.exit_code == 0, first.output
    before = db.read_bytes()
    r, _ = import_cli(tmp_path, path, *maps)
    assert r.exit_code != 0 and "Traceback" not in r.output
    assert "nothing was imported" in r.output
    assert db.read_bytes() == before
    with Store(db, create=False) as store:
        assert store.total_samples() == 1
    line = r.output.strip().splitlines()[0]
    assert re.match(rf"winnow: {re.escape(str(path))}(:\d+)?: \S", line) and " — " in line
    return line


# ---------------------------------------------------------------------- synthetic: no ../shared needed


def _translation_records(n: int = 32, *, en_output: bool = False) -> list[dict]:
    rng = random.Random(7)
    out = []
    for i in range(n):
        rec = {
            "category": rng.choice(["geography", "history", "cooking"]),
            "en_input": f"What is the capital of country number {i}?",
            "zh_output": f"第{i}号国家的首都是一座古老的城市。",
            "text": f"Question {i}. " + "A long article about many unrelated things. " * 30,
        }
        if en_output:
            rec["en_output"] = f"The capital of country number {i} is an old city."
        out.append(rec)
    return out


def test_unknown_schema_suggests_fields_by_content_not_by_length(tmp_path: Path) -> None:
    """The old hint took 'text' as the prompt (a name on its list) and the first other string field,
    'category', as the answer. The category is a short label; en_input is the question."""
    path = write_jsonl(tmp_path / "mixed.jsonl", _translation_records())
    err = refusal(path)
    assert "unknown schema" in err.what
    assert "--map prompt=en_input --map answer=zh_output" in err.todo
    assert "'category' is a short label (3 values in 32 records" in err.todo
    assert "answer=category" not in err.todo and "prompt=text" not in err.todo


def test_unknown_schema_keeps_prompt_and_answer_in_one_language(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "both.jsonl", _translation_records(en_output=True))
    assert "--map prompt=en_input --map answer=en_output" in refusal(path).todo


def test_unknown_schema_never_suggests_an_input_field_as_the_answer(tmp_path: Path) -> None:
    recs = [
        {"en_input": f"Describe item {i} please", "notes": f"n{i % 2}", "reply": f"Item {i} is red."} for i in range(10)
    ]
    todo = refusal(write_jsonl(tmp_path / "r.jsonl", recs)).todo
    assert "--map prompt=en_input --map answer=reply" in todo


def test_unknown_schema_leaves_out_placeholders_and_empty_fields(tmp_path: Path) -> None:
    recs = [
        {"ask": f"问题{i}：为什么天空是蓝色的？", "note": "暂无版权信息", "extra": "", "bot": f"因为散射{i}。" * 3}
        for i in range(12)
    ]
    todo = refusal(write_jsonl(tmp_path / "zh.jsonl", recs)).todo
    assert "--map prompt=ask --map answer=bot" in todo
    assert "'note' is the same in 12 of 12 records" in todo and "'extra' is empty in 12 of 12 records" in todo


def test_csv_hint_reads_the_rows_not_only_the_header(tmp_path: Path) -> None:
    """A CSV file was judged by its header alone; the rows show which column is the label."""
    path = tmp_path / "d.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["kind", "body", "reply_text"])
        for i in range(10):
            w.writerow(
                ["faq" if i % 2 else "billing", f"How do I change plan {i}?", f"Open Settings and pick plan {i}."]
            )
    todo = refusal(path).todo
    assert "--map prompt=body --map answer=reply_text" in todo and "'kind' is a short label" in todo


def test_a_mapping_whose_answer_is_the_same_everywhere_is_refused(tmp_path: Path) -> None:
    recs = [{"q": f"What is {i} + {i}?", "a": str(2 * i), "source": "generated"} for i in range(20)]
    path = write_jsonl(tmp_path / "m.jsonl", recs)
    line = refused_and_untouched(tmp_path, path, "prompt=q", "answer=source")
    assert "the answer field 'source' holds the same value in 20 of 20 sampled records ('generated')" in line
    assert "--map answer=a" in line
    r, db = import_cli(tmp_path, path, "prompt=q", "answer=a")  # the right mapping imports
    assert r.exit_code == 0, r.output
    with Store(db, create=False) as store:
        assert store.total_samples() == 21


def test_a_mapping_whose_prompt_is_a_label_is_refused(tmp_path: Path) -> None:
    recs = [
        {"topic": ["billing", "login", "refunds"][i % 3], "question": f"Why was I charged twice in month {i}?", "answer": f"A retry, refunded in {i} days."}
        for i in range(15)
    ]  # fmt: skip
    path = write_jsonl(tmp_path / "l.jsonl", recs)
    line = refused_and_untouched(tmp_path, path, "prompt=topic", "answer=answer")
    assert "the prompt field 'topic' looks like a category label or an id, not a prompt (3 short values in 15" in line
    assert "--map prompt=question" in line
    # A short instruction with the real text in the query is a prompt, not a label.
    with open_source(path, mapping={"prompt": "topic", "query": "question", "answer": "answer"}) as reader:
        assert len(list(reader)) == 15


def test_a_mapping_check_on_csv(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["question", "answer", "licence"])
        for i in range(8):
            w.writerow([f"Question number {i}?", f"Answer number {i}.", "CC-BY"])
    err = refusal(path, mapping={"prompt": "question", "answer": "licence"})
    assert err.line == 2 and "'licence' holds the same value in 8 of 8" in err.what


def test_short_distinct_prompts_are_not_labels(tmp_path: Path) -> None:
    """Greetings and one-word questions are prompts: short, but each different."""
    words = ["你好", "你是谁？", "早上好", "谢谢", "再见", "你会什么？", "几点了？", "在吗"]
    recs = [{"q": w, "a": f"回答{i}：我是助手。"} for i, w in enumerate(words)]
    with open_source(write_jsonl(tmp_path / "s.jsonl", recs), mapping={"prompt": "q", "answer": "a"}) as reader:
        assert len(list(reader)) == len(words)


# ---------------------------------------------------------------------- real records from ../shared


def test_real_selfcognition_misspelt_key_is_read_as_the_key(tmp_path: Path) -> None:
    """65 of its 72 records spell the key `instuction`; the refusal named it and gave a jq rename.
    Since issue 15's spelling rule the key is read as `instruction` (tests/test_importers_spelling.py;
    the jq rename is still given where the spelling is ambiguous, and tested there)."""
    recs = records_of("selfcognition_self_cognition_data.json")[:12]
    assert {"instuction", "instruction"} <= {k for r in recs for k in r}
    path = write_json(tmp_path / "selfcognition.json", recs)
    with open_source(path) as reader:
        convs = [r.conversation for r in reader]
        assert reader.format == "alpaca" and len(convs) == 12
        assert reader.respelt == (("instuction", "instruction", sum("instuction" in r for r in recs)),)
    assert [c.turns[0].content for c in convs] == [r.get("instruction", r.get("instuction")) for r in recs]


def test_real_selfcognition_records_hint_the_misspelt_prompt_not_the_empty_input(tmp_path: Path) -> None:
    """Only `instuction` records: an unknown schema. The old hint took `input` (on its name list,
    empty in every record) as the prompt."""
    recs = [r for r in records_of("selfcognition_self_cognition_data.json") if "instuction" in r][:20]
    err = refusal(write_json(tmp_path / "sc.json", recs))
    assert "--map prompt=instuction --map answer=output" in err.todo
    assert "'input' is empty in 20 of 20 records" in err.todo


def test_real_coigcqia_placeholders_are_refused_as_answers(tmp_path: Path) -> None:
    """COIG-CQIA carries `metadata` and `copyright` placeholders on every record and a two-valued
    `answer_from`: none is an answer or a prompt."""
    lines = shared("coigcqia_100poison.jsonl").read_text(encoding="utf-8").splitlines()[:40]
    path = tmp_path / "coig.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    line = refused_and_untouched(tmp_path, path, "prompt=instruction", "answer=copyright")
    assert "'copyright' holds the same value in 32 of 32 sampled records ('暂无版权及作者信息')" in line
    assert "--map answer=output" in line
    assert (
        "'metadata' holds the same value" in refusal(path, mapping={"prompt": "instruction", "answer": "metadata"}).what
    )
    err = refusal(path, mapping={"prompt": "answer_from", "answer": "output"})
    assert (
        "the prompt field 'answer_from' looks like a category label" in err.what
        and "--map prompt=instruction" in err.todo
    )
    with open_source(path, mapping={"prompt": "instruction", "answer": "output"}) as reader:
        assert len(list(reader)) == 40


def test_real_coigcqia_renamed_keys_hint_by_content(tmp_path: Path) -> None:
    """The same real records with their prompt/answer keys renamed to names that say nothing: the
    content alone must pick them, and the placeholders must be named as left out."""
    lines = shared("coigcqia_100poison.jsonl").read_text(encoding="utf-8").splitlines()[:32]
    names = {"instruction": "f1", "input": "f2", "output": "f3"}
    recs = [{names.get(k, k): v for k, v in json.loads(line).items()} for line in lines]
    todo = refusal(write_jsonl(tmp_path / "c.jsonl", recs)).todo
    assert "--map prompt=f1 --map answer=f3" in todo
    assert "'copyright' is the same in 32 of 32 records" in todo


def test_real_zhongjing_category_fields_are_not_prompts(tmp_path: Path) -> None:
    recs = records_of("zhongjing_CMtMedQA_test.json")[:32]
    path = write_json(tmp_path / "zj.json", recs)
    for cate in ("cate1", "cate2"):
        err = refusal(path, mapping={"prompt": cate, "answer": "output", "history": "history"})
        assert f"the prompt field {cate!r} looks like a category label" in err.what
        assert "--map prompt=instruction" in err.todo
    with open_source(path, mapping={"prompt": "instruction", "answer": "output", "history": "history"}) as reader:
        assert len(list(reader)) == 32


def test_real_zhongjing_second_schema_is_read(tmp_path: Path) -> None:
    """The file holds 1,000 multi-turn records, then 144 with only `instruct`/`output`: the import
    was refused at the first of those with the rename; `instruct` is now read as `instruction`."""
    recs = records_of("zhongjing_CMtMedQA_test.json")[995:1005]
    assert "instruction" in recs[0] and "instruct" in recs[-1]
    path = write_json(tmp_path / "zj.json", recs)
    with open_source(path) as reader:
        convs = [r.conversation for r in reader]
        assert reader.format == "alpaca" and reader.respelt == (("instruct", "instruction", 5),)
    assert [c.turns[-2].content for c in convs[5:]] == [r["instruct"] for r in recs[5:]]


def test_real_preference_file_is_not_told_to_extract_its_conversation(tmp_path: Path) -> None:
    """chosen_messages/rejected_messages hold turns (role/content), not nested records: the old hint
    said to split them into records with jq -c '.chosen_messages[]'. Since issue 15 the layout is
    understood (openai_pair), so there is no hint at all: both answers are read."""
    lines = shared("llamafactory_v1_dpo_demo.jsonl").read_text(encoding="utf-8").splitlines()[:5]
    path = tmp_path / "dpo.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with open_source(path) as reader:
        convs = [r.conversation for r in reader]
    assert reader.format == "openai_pair" and len(convs) == 5
    assert all(c.rejected and c.answer_text() != c.rejected[-1].content for c in convs)
