"""Bad input: every case gives an InputError naming the file, the line, what is wrong and what to do."""

from __future__ import annotations

import gzip
import json
import re
import sqlite3
import zipfile
from pathlib import Path

import pytest

from review.importers import InputError, open_source

FIXTURES = Path(__file__).parent / "fixtures" / "import"

GOOD = '{"instruction": "i", "input": "", "output": "o"}'


def fail(path: Path, *, iterate: bool = True, **kw) -> InputError:
    """The InputError that opening (and reading) `path` raises."""
    with pytest.raises(InputError) as info:
        reader = open_source(path, **kw)
        if iterate:
            list(reader)
    return info.value


def expect(err: InputError, path: Path, line: int | None, what: str, todo: str) -> None:
    assert err.path == str(path)
    assert err.line == line, str(err)
    assert what in err.what, str(err)
    assert todo in err.todo, str(err)
    where = f"{path}:{line}: " if line is not None else f"{path}: "
    assert str(err) == f"{where}{err.what} — {err.todo}"


def jsonl(tmp_path: Path, *lines: str, name: str = "d.jsonl", end: str = "\n") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + end, encoding="utf-8")
    return path


# --- the error itself ----------------------------------------------------------------------------


def test_input_error_shape() -> None:
    err = InputError("a.jsonl", 3, "bad", "fix it")
    assert (err.path, err.line, err.what, err.todo) == ("a.jsonl", 3, "bad", "fix it")
    assert str(err) == "a.jsonl:3: bad — fix it"
    assert str(InputError("a.jsonl", None, "bad", "fix it")) == "a.jsonl: bad — fix it"
    import pickle

    assert str(pickle.loads(pickle.dumps(err))) == str(err)


# --- malformed JSON ------------------------------------------------------------------------------


def test_malformed_jsonl_line(tmp_path: Path) -> None:
    path = jsonl(tmp_path, GOOD, GOOD, '{"instruction": "i" "output": "o"}', GOOD)
    expect(fail(path), path, 3, "malformed JSON", "fix the JSON on that line")


def test_two_values_on_one_line(tmp_path: Path) -> None:
    path = jsonl(tmp_path, GOOD, GOOD + " " + GOOD)
    expect(fail(path), path, 2, "more than one JSON value", "one record per line")


def test_malformed_json_array_points_at_the_line(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(
        '[\n  {"instruction": "a", "output": "b"},\n  {\n    "instruction": "c"\n    "output": "d"\n  }\n]\n'
    )
    expect(fail(path), path, 5, "malformed JSON: Expecting ',' delimiter (column 5)", "fix the JSON at that line")


def test_missing_comma_between_array_elements(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(f"[\n{GOOD}\n{GOOD}\n]\n")
    expect(fail(path), path, 3, "expected ',' or ']'", "add the missing comma")


def test_trailing_comma_in_array(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(f"[\n{GOOD},\n{GOOD},\n]\n")
    expect(fail(path), path, 4, "trailing comma", "remove the comma")


def test_data_after_the_array(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(f"[\n{GOOD}\n]\n[\n{GOOD}\n]\n")
    expect(fail(path), path, 4, "after the closing ']'", "remove it")


def test_multiline_object_that_is_not_a_wrapper(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text('{\n  "instruction": "i",\n  "output": "o"\n}\n')
    expect(fail(path), path, 1, "one JSON object spread over several lines", "jq -c")


def test_text_that_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text("\n\nhello world\n")
    expect(fail(path), path, 3, "first character is 'h'", "starts with '['")


# --- encodings -----------------------------------------------------------------------------------


def test_invalid_utf8_in_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(f"{GOOD}\n".encode() + b'{"instruction": "caf\xe9", "output": "o"}\n')
    expect(fail(path), path, 2, "invalid UTF-8 (byte 0xe9)", "iconv")


def test_invalid_utf8_in_json_array(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    body = f"[\n{GOOD},\n".encode() + b'{\n"instruction": "caf\xe9",\n"output": "o"}\n]\n'
    path.write_bytes(body)
    expect(fail(path), path, 4, "invalid UTF-8 (byte 0xe9)", "iconv")


def test_invalid_utf8_outside_a_string_in_json_array(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_bytes(f"[\n{GOOD},\n".encode() + b"\xff\n]\n")
    expect(fail(path), path, 3, "invalid UTF-8", "iconv")


def test_invalid_utf8_in_csv(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_bytes(b"prompt,completion\nok,fine\ncaf\xe9,x\n")
    expect(fail(path), path, 3, "invalid UTF-8", "iconv")


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_refused_with_the_fix(tmp_path: Path, encoding: str) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(f"{GOOD}\n{GOOD}\n".encode(encoding))
    err = fail(path)
    expect(err, path, 1, "UTF-16", "re-save as UTF-8, e.g. iconv -f UTF-16")
    assert err.todo.endswith(f"-t UTF-8 {path} > {tmp_path / 'd.utf8.jsonl'}")


def test_utf32_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_bytes(f"[{GOOD}]".encode("utf-32"))
    expect(fail(path), path, 1, "UTF-32", "iconv -f UTF-32")


def test_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + f"{GOOD}\n".encode())
    (rec,) = list(open_source(path))
    assert rec.raw == GOOD and rec.line == 1


# --- empty and truncated -------------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"\n  \n\t\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(content)
    err = fail(path, skip_invalid=True)
    expect(err, path, 1, "the file is empty" if not content else "only whitespace", "export finished")


def test_empty_json_array(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text("[\n]\n")
    expect(fail(path), path, 1, "no records", "export finished")


def test_empty_gzip(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl.gz"
    path.write_bytes(gzip.compress(b""))
    expect(fail(path), path, 1, "empty", "export finished")


def test_truncated_last_line(tmp_path: Path) -> None:
    path = jsonl(tmp_path, GOOD, GOOD, '{"instruction": "i", "output": "cut o', end="")
    expect(fail(path), path, 3, "the last line is cut off", "re-download or re-export")


def test_truncated_json_array(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(f'[\n{GOOD},\n{GOOD},\n{{"instruction": "i",\n "output": "cut o')
    expect(fail(path), path, 5, "ends inside a record", "re-download or re-export")


def test_unclosed_json_array(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(f"[\n{GOOD},\n{GOOD}\n")
    expect(fail(path), path, 4, "no ']'", "re-download")


@pytest.mark.parametrize("container", ["jsonl", "json"])
def test_truncated_gzip(tmp_path: Path, container: str) -> None:
    path = tmp_path / f"d.{container}.gz"
    text = "\n".join([GOOD] * 60000) + "\n" if container == "jsonl" else "[\n" + ",\n".join([GOOD] * 60000) + "\n]\n"
    data = gzip.compress(text.encode())
    path.write_bytes(data[: len(data) // 2])
    err = fail(path)
    assert err.path == str(path) and err.line is not None and err.line > 1
    assert "gzip data is corrupt or cut off" in err.what and "re-download" in err.todo


# --- values JSON allows but a dataset must not have ----------------------------------------------


@pytest.mark.parametrize("value", ['"just a string"', "[1, 2]", "42", "null"])
def test_non_object_line(tmp_path: Path, value: str) -> None:
    path = jsonl(tmp_path, GOOD, value)
    err = fail(path)
    expect(err, path, 2, "not a JSON object", "each record must be an object")


def test_non_object_array_element(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(f'[\n{GOOD},\n["a", "b"]\n]\n')
    expect(fail(path), path, 3, "a list, not a JSON object", "each record must be an object")


def test_duplicate_keys(tmp_path: Path) -> None:
    path = jsonl(tmp_path, GOOD, '{"instruction": "i", "output": "a", "output": "b"}')
    expect(fail(path), path, 2, "'output' appears twice", "keep one of them")


def test_duplicate_keys_in_array(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(f'[\n{GOOD},\n{{"instruction": "i", "output": "a", "output": "b"}}\n]\n')
    expect(fail(path), path, 3, "'output' appears twice", "keep one of them")


@pytest.mark.parametrize("const", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity(tmp_path: Path, const: str) -> None:
    path = jsonl(tmp_path, GOOD, f'{{"instruction": "i", "output": "o", "score": {const}}}')
    expect(fail(path), path, 2, f"{const} is not valid JSON", "write null or a string")


def test_extreme_nesting(tmp_path: Path) -> None:
    path = jsonl(tmp_path, GOOD, '{"instruction": "i", "output": "o", "x": ' + "[" * 100_000 + "]" * 100_000 + "}")
    expect(fail(path), path, 2, "nested too deeply", "flatten it")
    path = tmp_path / "d.json"
    path.write_text(f"[\n{GOOD},\n" + "[" * 100_000 + "]" * 100_000 + "\n]")
    expect(fail(path), path, 3, "nested too deeply", "flatten it")


# --- records that do not fit the format ----------------------------------------------------------


def test_record_lacking_a_field_of_the_detected_format() -> None:
    path = FIXTURES / "alpaca_line7_missing_output.jsonl"
    expect(fail(path), path, 7, "no 'output', which the alpaca format needs", "--skip-invalid")


def test_bad_record_after_the_sample(tmp_path: Path) -> None:
    lines = [GOOD] * 60
    lines[49] = '{"instruction": "i", "input": ""}'
    path = jsonl(tmp_path, *lines)
    reader = open_source(path)  # the first records are fine
    expect(fail(path), path, 50, "no 'output'", "--skip-invalid")
    assert reader.format == "alpaca"


def test_answer_that_is_a_number_points_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text('[\n  {\n    "instruction": "i",\n    "input": "",\n    "output": 42\n  }\n]\n')
    expect(fail(path), path, 5, "'output' is a number, expected a string", "--skip-invalid")


def test_prompt_that_is_null(tmp_path: Path) -> None:
    path = jsonl(tmp_path, GOOD, '{"instruction": null, "output": "o"}')
    expect(fail(path), path, 2, "'instruction' is null, expected a string", "fix the record")


def test_sharegpt_unknown_speaker(tmp_path: Path) -> None:
    ok = json.dumps({"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]})
    bad = json.dumps({"conversations": [{"from": "human", "value": "q"}, {"from": "robot", "value": "a"}]})
    path = jsonl(tmp_path, ok, ok, bad)
    expect(fail(path), path, 3, "speaker 'robot'", "--skip-invalid")


def test_openai_unknown_role_and_bad_content(tmp_path: Path) -> None:
    ok = json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})
    bad_role = json.dumps({"messages": [{"role": "narrator", "content": "q"}]})
    bad_content = json.dumps({"messages": [{"role": "user", "content": 7}]})
    path = jsonl(tmp_path, ok, bad_role, bad_content)
    reader = open_source(path, skip_invalid=True)
    assert len(list(reader)) == 1
    assert reader.skipped[0].startswith(f"{path}:2: ") and "role 'narrator'" in reader.skipped[0]
    assert reader.skipped[1].startswith(f"{path}:3: ") and "content is a number" in reader.skipped[1]


def test_empty_conversation(tmp_path: Path) -> None:
    ok = json.dumps({"conversations": [{"from": "human", "value": "q"}]})
    path = jsonl(tmp_path, ok, json.dumps({"conversations": []}))
    expect(fail(path), path, 2, "no turns", "--skip-invalid")


def test_unknown_schema_lists_fields_and_suggests_a_mapping() -> None:
    path = FIXTURES / "mapped.jsonl"
    err = fail(path)
    expect(err, path, 1, "unknown schema", "--map prompt=question --map answer=std_answer")
    assert "'question', 'std_answer', 'subject'" in err.what


def test_unknown_schema_is_whole_file_even_when_skipping(tmp_path: Path) -> None:
    path = jsonl(tmp_path, '{"a": 1}', '{"b": 2}')
    expect(fail(path, skip_invalid=True), path, 1, "unknown schema", "--map prompt=")


def test_unknown_schema_hints_at_nested_records(tmp_path: Path) -> None:
    path = jsonl(tmp_path, json.dumps({"rows": [{"q": "a"}, {"q": "b"}]}))
    expect(fail(path), path, 1, "unknown schema", "jq -c '.rows[]'")


def test_csv_unknown_schema(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("q,a\nx,y\n")
    expect(
        fail(path),
        path,
        1,
        "unknown schema: no known format matches the columns 'q', 'a'",
        "--map prompt=q --map answer=a",
    )


def test_mapping_naming_a_missing_field(tmp_path: Path) -> None:
    path = FIXTURES / "mapped.jsonl"
    expect(fail(path, mapping={"prompt": "question", "answer": "answer"}), path, 1, "no 'answer'", "--skip-invalid")
    err = fail(path, mapping={"prompt": "question", "answer": "answer"}, skip_invalid=True)
    expect(err, path, 1, "none of the first 2 records fit the mapped format", "--map")
    csv_path = FIXTURES / "mapped.csv"
    expect(
        fail(csv_path, mapping={"prompt": "question", "answer": "answer"}), csv_path, 1, "no column 'answer'", "--map"
    )


@pytest.mark.parametrize(
    ("kw", "what", "todo"),
    [
        ({"fmt": "yaml"}, "unknown format 'yaml'", "use one of alpaca"),
        ({"mapping": {"prompt": "q"}}, "needs answer", "--map answer="),
        ({"mapping": {"prompt": "q", "answer": "a", "colour": "c"}}, "unknown mapping key 'colour'", "fix the --map"),
        ({"fmt": "mapped"}, "needs a field mapping", "--map prompt=FIELD"),
        ({"fmt": "openai", "mapping": {"prompt": "q", "answer": "a"}}, "not openai", "drop --map"),
    ],
)
def test_bad_options(kw: dict, what: str, todo: str) -> None:
    path = FIXTURES / "alpaca.jsonl"
    expect(fail(path, **kw), path, None, what, todo)


def test_forced_format_that_fits_nothing(tmp_path: Path) -> None:
    path = FIXTURES / "alpaca.jsonl"
    expect(fail(path, fmt="sharegpt", skip_invalid=True), path, 1, "fit the sharegpt format", "--format")


# --- CSV -----------------------------------------------------------------------------------------


def test_ragged_csv_row(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("instruction,input,output\na,,b\nc,d\ne,,f\n")
    expect(fail(path), path, 3, "the row has 2 fields but the header has 3", "quote fields")


def test_unbalanced_csv_quote(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text('instruction,input,output\na,,b\n"c,,d\ne,,f\n')
    expect(fail(path), path, 3, "unbalanced quote", "close the quote")


def test_stray_quote_in_csv_field(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text('instruction,input,output\na,,b\n"c"x,,d\ne,,f\n')
    expect(fail(path), path, 3, "malformed CSV", "double inner quotes")
    reader = open_source(path, skip_invalid=True)
    assert [r.line for r in reader] == [2, 4]
    assert len(reader.skipped) == 1


def test_csv_duplicate_header(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("prompt,completion,prompt\na,b,c\n")
    expect(fail(path), path, 1, "'prompt' twice", "rename")


def test_csv_without_rows(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text("prompt,completion\n")
    expect(fail(path), path, 1, "no rows", "export finished")


# --- not a text file at all ----------------------------------------------------------------------


def test_sqlite_file_named_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    db = sqlite3.connect(path)
    db.execute("create table t (x)")
    db.commit()
    db.close()
    expect(fail(path, skip_invalid=True), path, 1, "SQLite database", "sqlite-utils rows")


def test_zip_file(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("d.json", "[]")
    expect(fail(path), path, 1, "zip archive", "unzip it")


def test_binary_with_nul_bytes(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(b"{\n\x00\x01\x02\x03 random binary \xff\xfe\x00 data" * 3)
    expect(fail(path), path, 2, "NUL bytes", "UTF-8 text file")


def test_missing_file_directory_and_gzipped_csv(tmp_path: Path) -> None:
    path = tmp_path / "nope.jsonl"
    expect(fail(path), path, None, "no such file", "check the path")
    expect(fail(tmp_path), tmp_path, None, "directory", "dataset file")
    path = tmp_path / "d.csv.gz"
    path.write_bytes(gzip.compress(b"prompt,completion\na,b\n"))
    expect(fail(path), path, None, "gzip-compressed CSV", "gunzip")


def test_parquet_without_pyarrow(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    # As if the optional pyarrow were not installed (a None entry makes `import` raise ImportError).
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    path = tmp_path / "d.parquet"
    path.write_bytes(b"PAR1" + b"\x00" * 64 + b"PAR1")
    expect(fail(path), path, None, "needs the optional pyarrow", "pip install pyarrow")


def test_parquet_with_pyarrow(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow", reason="pyarrow is optional and not installed")
    import pyarrow.parquet as pq

    path = tmp_path / "d.parquet"
    pq.write_table(pa.table({"instruction": ["i1", "i2"], "input": ["", "x"], "output": ["o1", "o2"]}), path)
    reader = open_source(path)
    recs = list(reader)
    assert (reader.container, reader.format) == ("parquet", "alpaca")
    assert [r.line for r in recs] == [1, 2]
    assert json.loads(recs[1].raw) == {"instruction": "i2", "input": "x", "output": "o2"}


# --- skip_invalid --------------------------------------------------------------------------------


def test_skip_invalid_lists_record_errors_and_keeps_positions(tmp_path: Path) -> None:
    path = jsonl(
        tmp_path,
        GOOD,
        "{broken",
        '{"instruction": "i", "output": 5}',
        "[1]",
        '{"instruction": "i", "output": "a", "output": "b"}',
        '{"instruction": "i", "output": "o", "n": NaN}',
        GOOD,
        '{"instruction": "i", "output": "cut',
        end="",
    )
    reader = open_source(path, skip_invalid=True)
    recs = list(reader)
    assert [(r.position, r.line) for r in recs] == [(0, 1), (6, 7)]
    assert [s.split(": ", 1)[0] for s in reader.skipped] == [f"{path}:{n}" for n in (2, 3, 4, 5, 6, 8)]
    assert "malformed JSON" in reader.skipped[0]
    assert "'output' is a number" in reader.skipped[1]
    assert "cut off" in reader.skipped[-1]
    list(reader)  # iterating again starts a fresh list
    assert len(reader.skipped) == 6


def test_skip_invalid_in_a_json_array(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_bytes(
        b"[\n"
        + GOOD.encode()
        + b',\n{"instruction": "caf\xe9", "output": "o"},\n{"instruction": "i"},\n"str",\n'
        + b'{"instruction": "i", "output": "a", "output": "b"},\n'
        + GOOD.encode()
        + b"\n]\n"
    )
    reader = open_source(path, skip_invalid=True)
    assert [r.line for r in reader] == [2, 7]
    assert [s.split(": ", 1)[0] for s in reader.skipped] == [f"{path}:{n}" for n in (3, 4, 5, 6)]


def test_broken_syntax_in_an_array_is_not_skippable(tmp_path: Path) -> None:
    path = tmp_path / "d.json"
    path.write_text(f'[\n{GOOD},\n{{"instruction": "i" "output": "o"}},\n{GOOD}\n]\n')
    expect(fail(path, skip_invalid=True), path, 3, "malformed JSON", "cannot be skipped")


@pytest.mark.parametrize(
    "content",
    [b"", "[{}]".encode("utf-16"), b"SQLite format 3\x00" + b"\x00" * 100, b'{"x": 1}\n{"y": 2}\n'],
    ids=["empty", "utf16", "sqlite", "unknown-schema"],
)
def test_whole_file_errors_raise_even_when_skipping(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "d.jsonl"
    path.write_bytes(content)
    err = fail(path, skip_invalid=True)
    assert err.line == 1 and str(path) in str(err)


def test_every_record_bad_is_a_whole_file_error(tmp_path: Path) -> None:
    path = jsonl(tmp_path, "{bad", "{worse")
    expect(fail(path, skip_invalid=True), path, 1, "none of the first records can be read", "fix the JSON")


def test_jsonl_whose_first_record_is_an_array_names_that_line(tmp_path):

    src = tmp_path / "data.jsonl"
    src.write_text('[1, 2]\n{"prompt": "p", "completion": "c"}\n{"prompt": "q", "completion": "d"}\n')
    reader = open_source(src, skip_invalid=True)
    records = list(reader)
    assert [r.line for r in records] == [2, 3]
    assert len(reader.skipped) == 1 and reader.skipped[0].startswith(f"{src}:1: ")


def test_csv_header_with_invalid_utf8_is_refused_by_its_line(tmp_path):

    src = tmp_path / "data.csv"
    src.write_bytes(b"instruction,input,output,s\x80ystem\nhi,,hello,\n")
    with pytest.raises(InputError, match=rf"^{re.escape(str(src))}:1: invalid UTF-8 in the header row"):
        list(open_source(src, fmt="alpaca", skip_invalid=True))
