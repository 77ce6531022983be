"""Property tests: whatever records go in come back out; whatever bytes go in, only InputError comes out."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review.formats import write_records
from review.importers import InputError, open_source
from review.model import ASSISTANT, SYSTEM, USER

SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("HYP_N", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

text = st.text(max_size=40)
alpaca_record = st.fixed_dictionaries(
    {"instruction": text, "output": text},
    optional={"input": text, "system": text, "extra": st.integers() | st.booleans() | st.none()},
)
message = st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]), "content": text})
openai_record = st.fixed_dictionaries(
    {"messages": st.lists(message, min_size=1, max_size=5)},
    optional={"label": st.booleans()},
).map(lambda r: {**r, "messages": [{"role": "system", "content": "sys"}, *r["messages"]]})


def layout(records: list[dict], container: str, indent: int | None, ascii_only: bool) -> str:
    if container == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=ascii_only) + "\n" for r in records)
    return json.dumps(records, indent=indent, ensure_ascii=ascii_only)


def read_back(content: str, suffix: str, **kw) -> tuple[list, object]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"d{suffix}"
        path.write_text(content, encoding="utf-8")
        reader = open_source(path, **kw)
        return list(reader), reader


def expected_alpaca_prompt(r: dict) -> str:
    return r["instruction"] + ("\n\n" + r["input"] if r.get("input") else "")


@SETTINGS
@given(
    records=st.lists(alpaca_record, min_size=1, max_size=8),
    container=st.sampled_from(["jsonl", "json"]),
    indent=st.sampled_from([None, 0, 2]),
    ascii_only=st.booleans(),
)
def test_alpaca_records_round_trip(records: list[dict], container: str, indent: int | None, ascii_only: bool) -> None:
    parsed, reader = read_back(layout(records, container, indent, ascii_only), "." + container, fmt="alpaca")
    assert [json.loads(p.raw) for p in parsed] == records
    assert [p.position for p in parsed] == list(range(len(records)))
    for p, r in zip(parsed, records, strict=True):
        conv = p.conversation
        assert conv.system == r.get("system", "")
        assert [(t.role, t.content) for t in conv.turns] == [
            (USER, expected_alpaca_prompt(r)),
            (ASSISTANT, r["output"]),
        ]
    # export writes them back in the same layout, and that parses to the same records
    out = io.StringIO()
    write_records(out, reader.container, (p.raw for p in parsed), reader.header)  # type: ignore[attr-defined]
    again, _ = read_back(out.getvalue(), "." + container, fmt="alpaca")
    assert [p.raw for p in again] == [p.raw for p in parsed]


@SETTINGS
@given(
    records=st.lists(openai_record, min_size=1, max_size=6),
    container=st.sampled_from(["jsonl", "json"]),
    indent=st.sampled_from([None, 2]),
    ascii_only=st.booleans(),
)
def test_openai_records_round_trip(records: list[dict], container: str, indent: int | None, ascii_only: bool) -> None:
    parsed, reader = read_back(layout(records, container, indent, ascii_only), "." + container)
    assert reader.format == "openai"  # type: ignore[attr-defined]
    assert [json.loads(p.raw) for p in parsed] == records
    for p, r in zip(parsed, records, strict=True):
        conv = p.conversation
        assert conv.system == "sys"
        assert [(t.role, t.content) for t in conv.turns] == [(m["role"], m["content"]) for m in r["messages"][1:]]
        assert SYSTEM not in [t.role for t in conv.turns]


csv_cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"), max_size=20)


def csv_line(row: tuple[str, ...]) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    return buf.getvalue()


@SETTINGS
@given(rows=st.lists(st.tuples(csv_cell, csv_cell), min_size=1, max_size=8))
def test_csv_rows_round_trip(rows: list[tuple[str, str]]) -> None:
    rows = [r for r in rows if r != ("", "")]  # csv writes that row as a blank line, which is no row
    if not rows:
        rows = [("p", "")]
    content = csv_line(("prompt", "completion")) + "".join(csv_line(r) for r in rows)
    parsed, reader = read_back(content, ".csv")
    assert [(p.conversation.turns[0].content, p.conversation.turns[1].content) for p in parsed] == rows
    assert [p.raw + "\n" for p in parsed] == [csv_line(r) for r in rows]
    out = io.StringIO()
    write_records(out, "csv", (p.raw for p in parsed), reader.header)  # type: ignore[attr-defined]
    assert out.getvalue() == content


def only_input_errors(content: bytes, suffix: str, skip_invalid: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"d{suffix}"
        path.write_bytes(content)
        try:
            reader = open_source(path, skip_invalid=skip_invalid)
            for rec in reader:
                assert isinstance(rec.raw, str)
        except InputError as e:
            assert str(path) in str(e) and e.what and e.todo


@SETTINGS
@given(
    content=st.binary(max_size=300),
    suffix=st.sampled_from([".jsonl", ".json", ".csv", ".gz", ".txt"]),
    skip=st.booleans(),
)
def test_random_bytes_parse_or_raise_input_error(content: bytes, suffix: str, skip: bool) -> None:
    only_input_errors(content, suffix, skip)


json_ish = st.text(alphabet='{}[]",:\n \\ueftnrsal0123-.+Eaoiputc\t\r', max_size=200)
keys = st.sampled_from(['"instruction"', '"output"', '"input"', '"messages"', '"role"', '"content"', '"prompt"'])


@SETTINGS
@given(
    pieces=st.lists(json_ish | keys, max_size=30),
    prefix=st.sampled_from(
        ["", "[", '[{"instruction": "a", "output": "b"},', '{"instruction": "a", "output": "b"}\n', "\ufeff"]
    ),
    suffix=st.sampled_from([".jsonl", ".json", ".csv"]),
    skip=st.booleans(),
)
def test_random_json_like_text_parses_or_raises_input_error(
    pieces: list[str], prefix: str, suffix: str, skip: bool
) -> None:
    only_input_errors((prefix + "".join(pieces)).encode("utf-8", "surrogatepass"), suffix, skip)


@SETTINGS
@given(records=st.lists(alpaca_record, min_size=1, max_size=5), cut=st.integers(min_value=0, max_value=400))
def test_any_truncation_parses_or_raises_input_error(records: list[dict], cut: int) -> None:
    for container in ("jsonl", "json"):
        content = layout(records, container, 2, False).encode()
        only_input_errors(content[: min(cut, len(content))], "." + container, False)


FIXTURES = Path(__file__).parent / "fixtures" / "import"
FIXTURE_FILES = sorted(p for p in FIXTURES.iterdir() if p.is_file())


@SETTINGS
@given(
    fixture=st.sampled_from(FIXTURE_FILES),
    edits=st.lists(
        st.tuples(st.floats(min_value=0, max_value=1), st.integers(0, 3), st.binary(max_size=3)), min_size=1, max_size=4
    ),
    skip=st.booleans(),
)
def test_damaged_fixtures_parse_or_raise_input_error(fixture: Path, edits: list, skip: bool) -> None:
    """Cut, insert or overwrite a few bytes of a real fixture: the damage is reported, never crashes."""
    data = bytearray(fixture.read_bytes())
    for where, drop, insert in edits:
        at = int(where * len(data))
        data[at : at + drop] = insert
    only_input_errors(bytes(data), fixture.suffix, skip)
