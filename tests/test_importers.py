"""Importers: every format and container, detection on the shared real datasets, export round trips."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from review.formats import export_suffix, write_records
from review.importers import InputError, ParsedRecord, open_source
from review.model import ASSISTANT, SYSTEM, TOOL, TOOL_CALL, USER, Conversation, Turn

FIXTURES = Path(__file__).parent / "fixtures" / "import"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
REPO = Path(__file__).resolve().parents[1]


def records(path: Path | str, **kw) -> list[ParsedRecord]:
    return list(open_source(path, **kw))


def roles(conv: Conversation) -> list[str]:
    return [t.role for t in conv.turns]


# --- formats -------------------------------------------------------------------------------------


def test_alpaca_json_array() -> None:
    reader = open_source(FIXTURES / "alpaca.json")
    recs = list(reader)
    assert (reader.container, reader.format, reader.header) == ("json", "alpaca", "\n")  # header: after its "]"
    assert reader.mapping == {
        "prompt": "instruction",
        "query": "input",
        "answer": "output",
        "system": "system",
        "history": "history",
    }
    assert [r.line for r in recs] == [2, 7, 13, 19]
    assert [r.position for r in recs] == [0, 1, 2, 3]
    assert recs[0].conversation == Conversation(
        "", (Turn(USER, "Give three tips for staying healthy."), Turn(ASSISTANT, "Eat well, sleep, move."))
    )
    # input joins the instruction after a blank line; system goes to the system prompt
    assert recs[1].conversation.turns[0].content == "Translate to French.\n\nGood morning"
    assert recs[1].conversation.system == "You are a translator."
    # history pairs become earlier turns
    assert [t.content for t in recs[2].conversation.turns] == [
        "Translate to French: Good morning",
        "Bonjour",
        "And now to German?",
        "Guten Morgen",
    ]
    assert roles(recs[2].conversation) == [USER, ASSISTANT, USER, ASSISTANT]
    # an empty answer is kept: it is noise the curator should see
    assert recs[3].conversation.answer_text() == ""


def test_alpaca_json_raw_is_the_exact_slice() -> None:
    text = (FIXTURES / "alpaca.json").read_text(encoding="utf-8")
    for rec in records(FIXTURES / "alpaca.json"):
        assert rec.raw.startswith("{") and rec.raw.endswith("}")
        assert rec.raw in text
        assert text.splitlines()[rec.line - 1].lstrip().startswith("{")


def test_alpaca_jsonl_skips_blank_lines_and_input_is_optional() -> None:
    recs = records(FIXTURES / "alpaca.jsonl")
    lines = (FIXTURES / "alpaca.jsonl").read_text(encoding="utf-8").split("\n")
    assert [r.line for r in recs] == [1, 2, 4]
    assert [r.position for r in recs] == [0, 1, 2]
    assert [r.raw for r in recs] == [lines[0], lines[1], lines[3]]
    assert recs[2].conversation.turns == (Turn(USER, "Say hi."), Turn(ASSISTANT, "Hi"))


def test_sharegpt_roles_system_and_tools() -> None:
    reader = open_source(FIXTURES / "sharegpt.json")
    recs = list(reader)
    assert reader.format == "sharegpt"
    assert reader.mapping["messages"] == "conversations"
    first, second = (r.conversation for r in recs)
    assert first.system == "Be brief."
    assert roles(first) == [USER, ASSISTANT, USER, ASSISTANT]
    assert second.system == "You can call tools."
    assert roles(second) == [USER, TOOL_CALL, TOOL, ASSISTANT]
    assert second.turns[1].name == "get_weather"
    assert json.loads(second.tools)[0]["name"] == "get_weather"
    assert first.tools == ""


def test_sharegpt_under_messages_key_and_list_tools(tmp_path: Path) -> None:
    path = tmp_path / "sg.jsonl"
    rec = {
        "messages": [{"from": "user", "value": "q"}, {"from": "assistant", "value": "a"}],
        "tools": [{"name": "f"}],
    }
    path.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    reader = open_source(path)
    (parsed,) = list(reader)
    assert (reader.format, reader.mapping["messages"]) == ("sharegpt", "messages")
    assert parsed.conversation.tools == '[{"name": "f"}]'
    assert roles(parsed.conversation) == [USER, ASSISTANT]


def test_role_content_turns_under_conversations_read_as_openai(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    rec = {"conversations": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]}
    path.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    reader = open_source(path)
    (parsed,) = list(reader)
    assert (reader.format, reader.mapping["messages"]) == ("openai", "conversations")
    assert parsed.conversation.turns == (Turn(USER, "q"), Turn(ASSISTANT, "a"))


def test_openai_content_parts_tool_calls_and_extra_keys() -> None:
    reader = open_source(FIXTURES / "openai.jsonl")
    a, b, c = (r.conversation for r in reader)
    assert reader.format == "openai"
    assert a.system == "You are helpful." and roles(a) == [USER, ASSISTANT]
    assert a.label is True and b.label is None and c.label is None  # KTO's label, where a record has one
    assert b.turns[0].content == "What is in this picture?\n[image: https://example.com/cat.png]"
    assert roles(c) == [USER, TOOL_CALL, TOOL, ASSISTANT]
    call = json.loads(c.turns[1].content)
    assert call["name"] == "get_weather" and json.loads(call["arguments"]) == {"city": "Oslo"}
    assert c.turns[1].name == "get_weather"
    assert c.turns[2] == Turn(TOOL, '{"temp": 3}', "call_1")
    assert json.loads(c.tools)[0]["function"]["name"] == "get_weather"
    assert c.answer_text() == "It is 3 degrees."


def test_openai_assistant_text_and_tool_call_and_late_system(tmp_path: Path) -> None:
    path = tmp_path / "o.jsonl"
    rec = {
        "messages": [
            {"role": "developer", "content": "rules"},
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "mid-conversation note"},
            {
                "role": "assistant",
                "content": "checking",
                "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}],
            },
            {"role": "tool", "name": "f", "content": "ok"},
        ]
    }
    path.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    (parsed,) = records(path)
    conv = parsed.conversation
    assert conv.system == "rules"
    assert roles(conv) == [USER, SYSTEM, ASSISTANT, TOOL_CALL, TOOL]
    assert conv.turns[-1].name == "f"


def test_prompt_completion_and_response_alias() -> None:
    reader = open_source(FIXTURES / "prompt_completion.jsonl")
    recs = list(reader)
    assert reader.format == "prompt_completion" and reader.mapping == {"prompt": "prompt", "answer": "completion"}
    assert recs[0].conversation.turns == (Turn(USER, "The capital of France is"), Turn(ASSISTANT, " Paris."))
    reader = open_source(FIXTURES / "prompt_response.jsonl")
    recs = list(reader)
    assert reader.mapping == {"prompt": "prompt", "answer": "response"}
    assert recs[1].conversation.answer_text() == "Oak"


def test_preference_data_is_not_guessed_as_prompt_response(tmp_path: Path) -> None:
    path = tmp_path / "dpo.jsonl"
    path.write_text(
        json.dumps({"prompt": "p", "response": "r", "chosen": "c", "rejected": "x"}) + "\n", encoding="utf-8"
    )
    # A pair (issue 15) with a third answer beside it: which of them is which is not guessed, and
    # the refusal names the field that would be lost.
    with pytest.raises(InputError, match="'response', which the trl_pair format does not read"):
        open_source(path)


def test_prompt_completion_conversational(tmp_path: Path) -> None:
    path = tmp_path / "trl.jsonl"
    rec = {
        "prompt": [{"role": "system", "content": "s"}, {"role": "user", "content": "q"}],
        "completion": [{"role": "assistant", "content": "a"}],
    }
    path.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    (parsed,) = records(path)
    assert parsed.conversation == Conversation("s", (Turn(USER, "q"), Turn(ASSISTANT, "a")))


def test_mapped_jsonl_and_csv() -> None:
    mapping = {"prompt": "question", "answer": "std_answer"}
    for name in ("mapped.jsonl", "mapped.csv"):
        reader = open_source(FIXTURES / name, mapping=mapping)
        recs = list(reader)
        assert reader.format == "mapped" and reader.mapping == mapping
        assert [r.conversation.turns for r in recs] == [
            (Turn(USER, "What is 2+2?"), Turn(ASSISTANT, "4")),
            (Turn(USER, "Capital of Italy?"), Turn(ASSISTANT, "Rome")),
        ]


def test_mapping_with_system_and_query(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"q": "Q", "ctx": "C", "a": "A", "sys": "S"}) + "\n", encoding="utf-8")
    (parsed,) = records(path, mapping={"prompt": "q", "query": "ctx", "answer": "a", "system": "sys"})
    assert parsed.conversation == Conversation("S", (Turn(USER, "Q\n\nC"), Turn(ASSISTANT, "A")))


def test_explicit_format_overrides_detection(tmp_path: Path) -> None:
    path = tmp_path / "both.jsonl"
    # a record that has alpaca keys and a prompt/completion pair
    path.write_text(
        json.dumps({"instruction": "i", "output": "o", "prompt": "p", "completion": "c"}) + "\n", encoding="utf-8"
    )
    # Two answers in one record (issue 15 item 5): whichever layout reads it, the other answer would
    # be lost, so it is refused naming that field, detected or named by --format.
    with pytest.raises(InputError, match="'completion', which the alpaca format does not read"):
        records(path)
    with pytest.raises(InputError, match="this record is Alpaca but the file is read as prompt/completion"):
        records(path, fmt="prompt_completion")
    path.write_text(json.dumps({"instruction": "i", "prompt": "p", "completion": "c"}) + "\n", encoding="utf-8")
    assert records(path, fmt="prompt_completion")[0].conversation.prompt_text() == "p"


def test_detection_samples_several_records(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    # the first record alone says nothing; the rest are alpaca
    lines = [json.dumps({"note": "header-ish"})] + [
        json.dumps({"instruction": f"i{i}", "output": "o"}) for i in range(5)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    reader = open_source(path, skip_invalid=True)
    assert reader.format == "alpaca"
    assert len(list(reader)) == 5
    assert len(reader.skipped) == 1 and reader.skipped[0].startswith(f"{path}:1: ")


# --- containers ----------------------------------------------------------------------------------


def test_csv_raw_rows_header_and_embedded_newlines() -> None:
    reader = open_source(FIXTURES / "alpaca.csv")
    recs = list(reader)
    assert (reader.container, reader.format) == ("csv", "alpaca")
    assert reader.header == "instruction,input,output"
    assert [r.line for r in recs] == [2, 4]
    assert recs[0].raw == '"Write a haiku.",,"Old pond,\r\na frog jumps"'
    assert recs[0].conversation.answer_text() == "Old pond,\r\na frog jumps"
    assert recs[1].raw == "Say yes.,,Yes"


def test_tsv_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.tsv"
    path.write_text("prompt\tcompletion\nhello, world\thi\n", encoding="utf-8")
    with pytest.raises(InputError, match="tab-separated files are not supported — convert it to CSV"):
        open_source(path)


def test_wrapped_json_object() -> None:
    reader = open_source(FIXTURES / "wrapped.json")
    recs = list(reader)
    assert reader.container == "json"
    assert [(r.line, r.conversation.answer_text()) for r in recs] == [(3, "1"), (4, "2")]


def test_gzip_jsonl_and_json(tmp_path: Path) -> None:
    src = (FIXTURES / "alpaca.jsonl").read_bytes()
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(gzip.compress(src))
    reader = open_source(path)
    recs = list(reader)
    assert reader.container == "jsonl.gz" and len(recs) == 3
    assert reader.bytes_read == reader.bytes_total == path.stat().st_size
    path = tmp_path / "a.json.gz"
    path.write_bytes(gzip.compress((FIXTURES / "alpaca.json").read_bytes()))
    reader = open_source(path)
    assert reader.container == "json.gz"
    assert [r.line for r in reader] == [2, 7, 13, 19]


def test_gzip_named_jsonl_is_read_by_magic(tmp_path: Path) -> None:
    path = tmp_path / "looks_plain.jsonl"
    path.write_bytes(gzip.compress((FIXTURES / "alpaca.jsonl").read_bytes()))
    reader = open_source(path)
    assert reader.container == "jsonl.gz"
    assert len(list(reader)) == 3


def test_reader_is_reiterable_and_reports_progress() -> None:
    reader = open_source(FIXTURES / "alpaca.json")
    assert reader.bytes_total == (FIXTURES / "alpaca.json").stat().st_size
    assert [r.raw for r in reader] == [r.raw for r in reader]
    assert reader.bytes_read == reader.bytes_total


def test_utf8_bom_is_accepted_and_not_in_raw(tmp_path: Path) -> None:
    for name, src in (("b.jsonl", "alpaca.jsonl"), ("b.json", "alpaca.json"), ("b.csv", "alpaca.csv")):
        path = tmp_path / name
        path.write_bytes(b"\xef\xbb\xbf" + (FIXTURES / src).read_bytes())
        reader = open_source(path)
        recs = list(reader)
        assert recs and not any(r.raw.startswith("\ufeff") for r in recs)
        assert recs[0].line == records(FIXTURES / src)[0].line
    assert reader.header == "instruction,input,output"


def test_crlf_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "crlf.jsonl"
    path.write_bytes(b'{"instruction": "a", "output": "b"}\r\n{"instruction": "c", "output": "d"}\r\n')
    recs = records(path)
    assert [r.raw for r in recs] == ['{"instruction": "a", "output": "b"}', '{"instruction": "c", "output": "d"}']


def test_large_record_streams(tmp_path: Path) -> None:
    """A 50 MB record is read, in JSON lines and inside an array, in a few chunk doublings."""
    big = "x" * (50 << 20)
    rec = json.dumps({"instruction": "long", "input": "", "output": big})
    small = json.dumps({"instruction": "short", "input": "", "output": "y"})
    jl = tmp_path / "big.jsonl"
    jl.write_text(f"{small}\n{rec}\n{small}\n", encoding="utf-8")
    got = records(jl)
    assert [r.line for r in got] == [1, 2, 3]
    assert len(got[1].conversation.answer_text()) == len(big)
    arr = tmp_path / "big.json"
    arr.write_text(f"[\n{small},\n{rec},\n{small}\n]\n", encoding="utf-8")
    got = records(arr)
    assert [r.line for r in got] == [2, 3, 4]
    assert got[1].raw == rec


def test_records_across_chunk_boundaries(tmp_path: Path) -> None:
    """Lines stay right when records straddle the 1 MiB read boundary."""
    recs = [{"instruction": f"n{i}", "input": "", "output": "é" * (i % 700)} for i in range(6000)]
    path = tmp_path / "many.json"
    path.write_text(json.dumps(recs, indent=1, ensure_ascii=False), encoding="utf-8")
    text_lines = path.read_text(encoding="utf-8").split("\n")
    got = records(path)
    assert [json.loads(r.raw) for r in got] == recs
    assert all(text_lines[r.line - 1] == " {" for r in got)


# --- export --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["alpaca.json", "alpaca.jsonl", "alpaca.csv", "sharegpt.json", "openai.jsonl", "wrapped.json"]
)
def test_export_round_trip(tmp_path: Path, name: str) -> None:
    reader = open_source(FIXTURES / name)
    recs = list(reader)
    out = tmp_path / f"out{export_suffix(reader.container)}"
    with open(out, "w", encoding="utf-8", newline="") as fh:
        assert write_records(fh, reader.container, (r.raw for r in recs), reader.header) == len(recs)
    again = list(open_source(out))
    assert [r.raw for r in again] == [r.raw for r in recs]
    assert [r.conversation for r in again] == [r.conversation for r in recs]


def test_write_records_layouts() -> None:
    fh = io.StringIO()
    write_records(fh, "json", ['{"a": 1}', '{\n  "b": 2\n}'], None)
    assert fh.getvalue() == '[\n{"a": 1},\n{\n  "b": 2\n}\n]\n'
    assert json.loads(fh.getvalue()) == [{"a": 1}, {"b": 2}]
    fh = io.StringIO()
    assert write_records(fh, "json.gz", [], None) == 0
    assert json.loads(fh.getvalue()) == []
    fh = io.StringIO()
    write_records(fh, "jsonl.gz", ['{"a": 1}', '{"b": 2}'], None)
    assert fh.getvalue() == '{"a": 1}\n{"b": 2}\n'
    fh = io.StringIO()
    write_records(fh, "csv", ["1,2", '"x\ny",3'], "a,b")
    assert fh.getvalue() == 'a,b\n1,2\n"x\ny",3\n'
    assert export_suffix("parquet") == ".parquet" and export_suffix("json.gz") == ".json"
    with pytest.raises(ValueError, match="header"):
        write_records(io.StringIO(), "csv", ["1"], None)
    with pytest.raises(ValueError, match="unknown container"):
        write_records(io.StringIO(), "xml", [], None)


# --- the real datasets in ../shared/datasets ------------------------------------------------------

EXPECTED = {
    "alpaca_data.json": ("alpaca", 52002),
    "llamafactory_alpaca_en_demo.json": ("alpaca", 999),
    "llamafactory_alpaca_zh_demo.json": ("alpaca", 1000),
    "llamafactory_identity.json": ("alpaca", 91),
    "llamafactory_glaive_toolcall_en_demo.json": ("sharegpt", 300),
    "llamafactory_glaive_toolcall_zh_demo.json": ("sharegpt", 300),
    "llamafactory_kto_en_demo.json": ("openai", 300),
    "fastchat_dummy_conversation.json": ("sharegpt", 500),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_shared_datasets_detected(name: str) -> None:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared datasets are not part of a clone)")
    fmt, count = EXPECTED[name]
    reader = open_source(path)
    assert (reader.container, reader.format) == ("json", fmt)
    if count > 5000:
        return  # counting Alpaca 52k belongs to the benchmark, not the unit tests
    recs = list(reader)
    assert len(recs) == count and not reader.skipped
    originals = json.loads(path.read_text(encoding="utf-8"))
    assert [json.loads(r.raw) for r in recs] == originals
    lines = path.read_text(encoding="utf-8").split("\n")
    assert all(lines[r.line - 1].strip().startswith("{") for r in recs)


def test_shared_glaive_has_tools_and_tool_turns() -> None:
    path = SHARED / "llamafactory_glaive_toolcall_en_demo.json"
    if not path.exists():
        pytest.skip(f"{path} is absent (the shared datasets are not part of a clone)")
    recs = records(path)
    assert all(r.conversation.tools for r in recs)
    assert any(TOOL_CALL in roles(r.conversation) and TOOL in roles(r.conversation) for r in recs)


def test_importers_stay_headless() -> None:
    code = (
        "import sys, review.importers, review.formats; "
        "bad = [m for m in ('textual', 'rich', 'torch', 'sentence_transformers') if m in sys.modules]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 8, 13, 64])
def test_tiny_read_chunks_give_the_same_records(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, chunk: int) -> None:
    """Every record boundary, escape and multi-byte character lands on a chunk edge somewhere."""
    import review.importers.containers as containers

    path = tmp_path / "edges.json"
    recs = [
        {"instruction": "caf\u00e9 \u4e2d\u6587 \U0001f600", "input": "\\u00e9 \\", "output": "1e5"},
        {"instruction": "tab\there", "input": "", "output": "x" * 70, "n": -12.5e-3, "t": [True, None]},
    ]
    path.write_text(
        json.dumps(recs, indent=2, ensure_ascii=False)[:-1] + ',\n  {"instruction": "\\ud83d\\ude00", "output": ""}]',
        encoding="utf-8",
    )
    names = ["alpaca.json", "sharegpt.json"]
    expected = {n: [(r.line, r.raw) for r in records(FIXTURES / n)] for n in names}
    whole = [(r.line, r.raw) for r in records(path)]
    monkeypatch.setattr(containers, "CHUNK", chunk)
    for n in names:
        assert [(r.line, r.raw) for r in records(FIXTURES / n)] == expected[n]
    assert [(r.line, r.raw) for r in records(path)] == whole
    assert len(whole) == 3
