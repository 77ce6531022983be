"""fuzz-import: hypothesis-generated files through the real `Store.import_file`, and a few
through the `winnow import` command.

Each example is one file: a container (JSON lines, a JSON array, an array wrapped in {"data": [...]},
either of them gzipped, CSV) holding records of one format (Alpaca, ShareGPT with tool turns,
OpenAI `messages` with tool calls and content parts, prompt/completion, a user mapping given as
--map), drawn from a conversation model so the expected Conversation of every record is known.
Records may be mutated (extra, missing or wrongly typed fields, a record of another format, huge
or odd strings, duplicate keys, NaN, a 5,000-digit integer, a lone surrogate escape, deep
nesting, not an object), and the file's bytes too (a BOM, CRLF, blank lines, invalid UTF-8,
UTF-16, truncation, trailing garbage, empty files, corrupt gzip).

The file is imported into (a) a fresh project and (b) a project with samples, a goal and
decisions. Every example must end in one of two ways:
* imported exactly: one sample per record in the file, in order, each with the record's text
  verbatim, its line, and the Conversation the format's documented mapping gives; the source's
  count and the project's tallies grew by that many and nothing older changed; importing the
  file again adds nothing;
* refused with the importers' InputError, whose message is "<path>:<line>: what — what to do"
  with a line that exists in the file (inside the bad record, when one record was made bad), and
  the project dumps (`iterdump`) exactly as before.
Any other exception, or a partial import, is a failure. A few refused files also go through
`winnow import` in a subprocess: nonzero exit, "path:line:" on stderr, no traceback.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reliability import Outcome, Scenario

ASSISTANT, USER, SYSTEM, TOOL, TOOL_CALL = "assistant", "user", "system", "tool", "tool_call"
CLI_CHECKS = 4  # refused files also run through `winnow import`

Expected = tuple[str, tuple[tuple[str, str, str | None], ...], str]  # system, turns, tools


# ------------------------------------------------------------------------------------ the model


@dataclass
class Rec:
    """One record: its JSON value (or CSV row), the Conversation it must give, whether it is bad."""

    value: Any
    expected: Expected | None  # None: the record must be refused
    raw_edit: str | None = None  # a mutation applied to the record's text (dup key, NaN...)
    kind: str = "valid"


@dataclass
class Case:
    fmt: str
    container: str  # jsonl | json | wrapper | csv
    gz: bool
    records: list[Rec]
    option_fmt: str | None
    mapping: dict[str, str] | None
    skip: bool = False  # --skip-invalid: the good records are imported, each bad one listed
    ascii_only: bool = False
    indent: int | None = None
    blank_lines: bool = False
    final_newline: bool = True
    crlf: bool = False
    byte_edit: tuple[str, float, bytes] | None = None  # (kind, where 0..1, bytes)
    refusal: str = ""  # "path:line: " of the InputError, once refused
    # filled by render():
    content: bytes = b""  # the file's bytes, before compression
    spans: list[tuple[int, int]] = field(default_factory=list)  # first and last line of each record
    raws: list[str] = field(default_factory=list)  # each record's text as it is in the file

    def describe(self) -> str:
        kinds = [r.kind for r in self.records]
        return (
            f"{self.fmt} in {self.container}{'.gz' if self.gz else ''}, {len(self.records)} records {kinds}, "
            f"--format {self.option_fmt} --map {self.mapping} skip {self.skip}, byte edit {self.byte_edit and self.byte_edit[0]}, "
            f"indent {self.indent}, ascii {self.ascii_only}, crlf {self.crlf}, blank lines {self.blank_lines}"
        )


def _join(a: str, b: str) -> str:
    return f"{a}\n{b}" if a and b else a or b


def _st():
    from hypothesis import strategies as st

    return st


ODD = [
    "",
    " ",
    "\x1b]0;title\x07[/]",
    "[@click=app.quit]",
    "中文 テスト 한국어",
    "👨‍👩‍👧 🇫🇷",
    "\u202egnp.exe\u200b",
    "\x00nul\x7f",
    "two\nlines\r\nand\ttab",
    '"quoted", with, commas',
    "back\\slash \\u0041",
    "\ufeffbom",
    "e\u0301\u0336",
    "\U0001d11e\U000e0041",
]


def texts(csv_safe: bool):
    """Strings for record fields. In CSV no NUL (the csv module refuses it) and no bare CR:
    csv.writer leaves a CR unquoted unless it is in the line terminator, and csv.reader then
    refuses the row, so such a file is not valid CSV to begin with."""
    st = _st()
    alphabet = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r" if csv_safe else "")
    odd = [t for t in ODD if not (csv_safe and "\x00" in t)]
    return st.text(alphabet=alphabet, max_size=24) | st.sampled_from(odd)


def alpaca(draw, csv_row: bool) -> Rec:
    st = _st()
    t = texts(csv_row)
    p, a = draw(t), draw(t)
    rec: dict[str, Any] = {"instruction": p}
    q = draw(st.none() | t)
    if q is not None:
        rec["input"] = q
    rec["output"] = a
    system = ""
    if draw(st.booleans()):
        system = draw(t)
        rec["system"] = system
    turns: list[tuple[str, str, str | None]] = []
    if not csv_row and draw(st.booleans()):
        hist = draw(st.lists(st.tuples(t, t), max_size=2))
        if hist:
            rec["history"] = [list(h) for h in hist]
        for u, b in hist:
            turns += [(USER, u, None), (ASSISTANT, b, None)]
    turns += [(USER, p + ("\n\n" + q if q else ""), None), (ASSISTANT, a, None)]
    return Rec(rec, (system, tuple(turns), ""))


def mapped(draw, csv_row: bool) -> Rec:
    st = _st()
    t = texts(csv_row)
    p, a = draw(t), draw(t)
    rec = {"question": p, "answer": a}
    system = draw(t) if draw(st.booleans()) else ""
    rec["ctx"] = system  # the mapping names ctx as the system prompt
    return Rec(rec, (system, ((USER, p, None), (ASSISTANT, a, None)), ""))


MAPPING = {"prompt": "question", "answer": "answer", "system": "ctx"}


def prompt_completion(draw, csv_row: bool) -> Rec:
    t = texts(csv_row)
    p, c = draw(t), draw(t)
    return Rec({"prompt": p, "completion": c}, ("", ((USER, p, None), (ASSISTANT, c, None)), ""))


def sharegpt(draw, csv_row: bool) -> Rec:
    st = _st()
    t = texts(False)
    conv: list[dict] = []
    system = ""
    rec: dict[str, Any] = {}
    if draw(st.booleans()):
        system = draw(t)
        rec["system"] = system
    if draw(st.booleans()):
        s = draw(t)
        conv.append({"from": "system", "value": s})
        system = _join(system, s)
    turns: list[tuple[str, str, str | None]] = []
    for _ in range(draw(st.integers(1, 3))):
        u, a = draw(t), draw(t)
        conv.append({"from": draw(st.sampled_from(["human", "user"])), "value": u})
        turns.append((USER, u, None))
        if draw(st.booleans()):
            call = json.dumps({"name": "lookup", "arguments": {"q": draw(t)}}, ensure_ascii=False)
            result = draw(t)
            conv += [{"from": "function_call", "value": call}, {"from": "observation", "value": result}]
            turns += [(TOOL_CALL, call, "lookup"), (TOOL, result, None)]
        conv.append({"from": draw(st.sampled_from(["gpt", "assistant", "chatgpt", "model"])), "value": a})
        turns.append((ASSISTANT, a, None))
    rec["conversations"] = conv
    tools = ""
    if draw(st.booleans()):
        schema = [{"name": "lookup", "description": draw(t), "parameters": {"type": "object"}}]
        rec["tools"] = json.dumps(schema) if draw(st.booleans()) else schema
        tools = rec["tools"] if isinstance(rec["tools"], str) else json.dumps(schema, ensure_ascii=False)
    return Rec(rec, (system, tuple(turns), tools))


def openai(draw, csv_row: bool) -> Rec:
    st = _st()
    t = texts(False)
    msgs: list[dict] = []
    system = ""
    for _ in range(draw(st.integers(0, 2))):
        s = draw(t)
        msgs.append({"role": draw(st.sampled_from(["system", "developer"])), "content": s})
        system = _join(system, s)
    turns: list[tuple[str, str, str | None]] = []
    for k in range(draw(st.integers(1, 3))):
        u = draw(t)
        if draw(st.integers(0, 3)) == 0:  # content as parts: text kept, an image as a reference (never its data)
            parts = [{"type": "text", "text": u}, {"type": "image_url", "image_url": {"url": "data:x"}}]
            msgs.append({"role": "user", "content": parts})
            turns.append((USER, u + "\n[image: (inline data, 6 characters)]", None))
        else:
            msgs.append({"role": "user", "content": u})
            turns.append((USER, u, None))
        if draw(st.booleans()):
            fn = {"name": "lookup", "arguments": json.dumps({"q": draw(t)}, ensure_ascii=False)}
            said = draw(st.none() | t)
            msgs.append(
                {
                    "role": "assistant",
                    "content": said,
                    "tool_calls": [{"id": f"c{k}", "type": "function", "function": fn}],
                }
            )
            if said:
                turns.append((ASSISTANT, said, None))
            turns.append((TOOL_CALL, json.dumps(fn, ensure_ascii=False), "lookup"))
            result = draw(t)
            named = draw(st.booleans())
            msgs.append(
                {"role": "tool", "tool_call_id": f"c{k}", **({"name": "lookup"} if named else {}), "content": result}
            )
            turns.append((TOOL, result, "lookup" if named else f"c{k}"))
        a = draw(t)
        msgs.append({"role": "assistant", "content": a})
        turns.append((ASSISTANT, a, None))
    rec: dict[str, Any] = {"messages": msgs}
    if draw(st.booleans()):
        rec["label"] = draw(st.booleans())  # KTO-style extra key: ignored
    tools = ""
    if draw(st.booleans()):
        schema = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]
        rec["tools"] = schema
        tools = json.dumps(schema, ensure_ascii=False)
    return Rec(rec, (system, tuple(turns), tools))


MAKERS = {
    "alpaca": alpaca,
    "sharegpt": sharegpt,
    "openai": openai,
    "prompt_completion": prompt_completion,
    "mapped": mapped,
}
CSV_FORMATS = ("alpaca", "prompt_completion", "mapped")
CSV_COLUMNS = {
    "alpaca": ["instruction", "input", "output", "system"],
    "prompt_completion": ["prompt", "completion"],
    "mapped": ["question", "answer", "ctx"],
}
# A required field and values of the wrong type for it, per format (what the converter refuses).
REQUIRED = {
    "alpaca": ("output", "instruction"),
    "sharegpt": ("conversations",),
    "openai": ("messages",),
    "prompt_completion": ("prompt", "completion"),
    "mapped": ("question", "answer"),
}
WRONG = [5, 2.5, True, {"a": 1}, None]
OTHER = {  # a valid record of another format, which the detected format cannot read
    "alpaca": {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]},
    "sharegpt": {"instruction": "q", "output": "a"},
    "openai": {"prompt": "q", "completion": "a"},
    "prompt_completion": {"conversations": [{"from": "human", "value": "q"}, {"from": "gpt", "value": "a"}]},
    "mapped": {"instruction": "q", "output": "a"},
}
# Mutations of a record's text: (kind, text inserted right after its opening brace).
RAW_EDITS = [
    ("duplicate key", '"x_dup": 1, "x_dup": 2, '),
    ("NaN", '"x_nan": NaN, '),
    ("Infinity", '"x_inf": -Infinity, '),
    ("5000-digit integer", '"x_big": ' + "7" * 5000 + ", "),
    ("lone surrogate", '"x_lone": "a\\ud800b", '),
    ("lone low surrogate", '"x_lone": "\\udc00", '),
    ("deep nesting", '"x_deep": ' + "[" * 3000 + "]" * 3000 + ", "),
]
BYTE_EDITS = ["bom", "invalid utf-8", "truncate", "trailing garbage", "utf-16", "empty", "gzip cut"]


def mutate(draw, fmt: str, rec: Rec, container: str) -> Rec:
    """Maybe make the record bad (or oddly good). CSV rows only take the edits a cell can hold."""
    st = _st()
    csv_row = container == "csv"
    kinds = ["extra field", "huge string", "missing field", "wrong type", "other format"]
    if not csv_row:
        kinds += ["raw edit", "raw edit", "not an object", "wrong turn"]
    kind = draw(st.sampled_from(kinds))
    value = rec.value
    if kind == "extra field":
        extra = draw(_st().sampled_from(['{"nested": [1, {"x": null}]}', "[]", "0", '"text"', "false"]))
        return Rec({**value, "x_extra": json.loads(extra) if not csv_row else extra}, rec.expected, kind=kind)
    if kind == "huge string":
        big = draw(st.sampled_from(["x", "中", "😀", "a b "])) * 100_000
        key = {"alpaca": "output", "mapped": "answer", "prompt_completion": "completion"}.get(fmt)
        if key is None:
            return Rec({**value, "x_huge": big}, rec.expected, kind=kind)  # an ignored extra field
        exp = rec.expected
        assert exp is not None
        return Rec({**value, key: big}, (exp[0], exp[1][:-1] + ((ASSISTANT, big, None),), exp[2]), kind=kind)
    if kind == "missing field":
        key = draw(st.sampled_from(REQUIRED[fmt]))
        if fmt == "prompt_completion" and key == "completion":
            key = "completion" if "completion" in value else "response"
        if csv_row:
            return Rec({**value, key: None}, None, kind=kind)  # None: the cell is dropped (ragged row)
        return Rec({k: v for k, v in value.items() if k != key}, None, kind=kind)
    if kind == "wrong type":
        key = draw(st.sampled_from(REQUIRED[fmt]))
        if fmt == "prompt_completion" and key == "completion":
            key = "completion" if "completion" in value else "response"
        if csv_row:  # a cell is always a string: give the row an extra cell instead
            return Rec({**value, "x_ragged": "extra"}, None, kind="ragged row")
        return Rec({**value, key: draw(st.sampled_from(WRONG))}, None, kind=kind)
    if kind == "other format":
        if csv_row:
            return Rec({**value, "x_unquoted": '"'}, None, kind="unbalanced quote")
        return Rec(dict(OTHER[fmt]), None, kind=kind)
    if kind == "raw edit":
        name, text = draw(st.sampled_from(RAW_EDITS))
        return Rec(value, None, raw_edit=text, kind=name)
    if kind == "not an object":
        return Rec(draw(st.sampled_from([[1, 2], "text", 42, None])), None, kind=kind)
    # wrong turn: a turn of the conversation list that the format cannot read
    if fmt == "sharegpt":
        bad = draw(st.sampled_from([{"from": "alien", "value": "x"}, {"from": "human", "value": 5}, "turn"]))
        return Rec({**value, "conversations": [*value["conversations"], bad]}, None, kind=kind)
    if fmt == "openai":
        bad = draw(st.sampled_from([{"role": "wizard", "content": "x"}, {"role": "user", "content": 5}, 7]))
        return Rec({**value, "messages": [*value["messages"], bad]}, None, kind=kind)
    if fmt == "alpaca":
        return Rec({**value, "history": draw(st.sampled_from(["h", [["only one"]], [[1, 2]]]))}, None, kind=kind)
    return rec


def cases():
    st = _st()

    @st.composite
    def case(draw) -> Case:
        container = draw(st.sampled_from(["jsonl", "jsonl", "json", "wrapper", "csv"]))
        fmt = draw(st.sampled_from(CSV_FORMATS if container == "csv" else list(MAKERS)))
        n = draw(st.integers(1, 6))
        records = []
        for _ in range(n):
            rec = MAKERS[fmt](draw, container == "csv")
            records.append(mutate(draw, fmt, rec, container) if draw(st.integers(0, 2)) == 0 else rec)
        option = None
        mapping = None
        if fmt == "mapped":
            option, mapping = "mapped", dict(MAPPING)
        elif draw(st.integers(0, 4)) == 0:
            option = fmt  # --format given: the same records must come out
        if fmt == "prompt_completion" and container != "csv":
            # One answer key per file: the mapping is detected for the file, not per record.
            key, other = draw(st.sampled_from([("completion", "response"), ("response", "completion")]))
            for r in records:
                if isinstance(r.value, dict) and other in r.value and "prompt" in r.value:
                    r.value = {(key if k == other else k): v for k, v in r.value.items()}
        if option is None and all(r.kind == "other format" for r in records):
            # Records of another format only: that format is detected and the file is valid.
            qa = ("", ((USER, "q", None), (ASSISTANT, "a", None)), "")
            records = [Rec(r.value, qa, kind=r.kind) for r in records]
        c = Case(fmt, container, container != "csv" and draw(st.integers(0, 3)) == 0, records, option, mapping)
        c.ascii_only = draw(st.booleans())
        c.indent = draw(st.sampled_from([None, None, 2])) if container in ("json", "wrapper") else None
        c.blank_lines = container == "jsonl" and draw(st.integers(0, 3)) == 0
        c.final_newline = draw(st.integers(0, 4)) > 0
        c.crlf = draw(st.integers(0, 4)) == 0
        if draw(st.integers(0, 3)) == 0:
            kind = draw(st.sampled_from(BYTE_EDITS if c.gz else [k for k in BYTE_EDITS if k != "gzip cut"]))
            c.byte_edit = (
                kind,
                draw(st.floats(0, 1)),
                draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80"]))
                if kind == "invalid utf-8"
                else draw(st.sampled_from([b"garbage", b"}", b"]", b"\n{", b",", b'{"a": 1}'])),
            )
        bad = sum(r.expected is None for r in records)
        # Skipping, where the good records are the majority (else another format may win the
        # vote) and which records are bad is known: the bytes are intact, and no quote is left
        # open (the row it opens takes in the next lines, as far as the CSV grammar says).
        known = c.byte_edit is None and all(r.kind != "unbalanced quote" for r in records)
        c.skip = known and 0 < bad < len(records) - bad and draw(st.integers(0, 2)) == 0
        render(c)
        return c

    return case()


# ------------------------------------------------------------------------------------ the file


def render(c: Case) -> None:
    """The file's bytes, and each record's text and lines as they are in it."""
    nl = "\r\n" if c.crlf else "\n"
    texts: list[str] = []
    if c.container == "csv":
        cols = CSV_COLUMNS[c.fmt]
        extra = [k for r in c.records if isinstance(r.value, dict) for k in r.value if k not in cols]
        header = cols + [k for k in dict.fromkeys(extra) if k not in ("x_ragged", "x_unquoted")]
        buf = io.StringIO()
        csv.writer(buf, lineterminator=nl).writerow(header)
        head = buf.getvalue()
        for r in c.records:
            row = [r.value.get(k, "") for k in header]
            row = [v for v in row if v is not None]  # a missing cell: the row is short
            buf = io.StringIO()
            csv.writer(buf, lineterminator=nl).writerow(row + (["extra"] if "x_ragged" in r.value else []))
            text = buf.getvalue()[: -len(nl)]
            if "x_unquoted" in r.value:
                text += ',"never closed'
            texts.append(text)
        body = head + "".join(t + nl for t in texts)
        if not c.final_newline:
            body = body[: -len(nl)]
        c.spans, line = [], 2
        for t in texts:
            c.spans.append((line, line + t.count("\n")))
            line += t.count("\n") + 1
        c.raws = texts
        c.content = body.encode("utf-8")
        return
    for r in c.records:
        text = json.dumps(r.value, ensure_ascii=c.ascii_only, indent=c.indent)
        if r.raw_edit:
            text = "{" + r.raw_edit + text[1:] if text.startswith("{") and text != "{}" else "{" + r.raw_edit[:-2] + "}"
        texts.append(text.replace("\n", nl))
    if c.container == "jsonl":
        sep = nl + nl if c.blank_lines else nl
        body = sep.join(texts) + (nl if c.final_newline else "")
        starts, at = [], 0
        for t in texts:
            starts.append(at)
            at += len(t) + len(sep)
    else:
        opening = '{"data": [' + nl if c.container == "wrapper" else "[" + nl
        closing = nl + "]" + (', "meta": {"n": 1}}' if c.container == "wrapper" else "")
        starts, at = [], len(opening)
        for t in texts:
            starts.append(at)
            at += len(t) + len("," + nl)
        body = opening + ("," + nl).join(texts) + closing + (nl if c.final_newline else "")
    c.spans = [(body.count("\n", 0, s) + 1, body.count("\n", 0, s) + 1 + t.count("\n")) for s, t in zip(starts, texts)]
    c.raws = texts
    c.content = body.encode("utf-8")


def file_bytes(c: Case) -> bytes:
    """The bytes written: the content with the byte edit applied, compressed when gz."""
    data = c.content
    edit = c.byte_edit
    if edit:
        kind, where, piece = edit
        at = int(where * len(data))
        if kind == "bom":
            data = b"\xef\xbb\xbf" + data
        elif kind == "invalid utf-8":
            data = data[:at] + piece + data[at:]
        elif kind == "truncate":
            data = data[:at]
        elif kind == "trailing garbage":
            data = data + piece
        elif kind == "utf-16":
            data = data.decode("utf-8").encode("utf-16")
        elif kind == "empty":
            data = [b"", b"\n\n", b"  \n", b"[]", b"[\n]\n", b"{}", b'{"data": []}'][int(where * 6.99)]
    if c.gz:
        data = gzip.compress(data, mtime=0)
        if edit and edit[0] == "gzip cut":
            data = data[: max(int(edit[1] * len(data)), 1)]
    return data


# ------------------------------------------------------------------------------------ the oracle


def records_in(data: bytes, c: Case) -> list[tuple[str, Any]] | None:
    """(raw text, value) of each record the file holds, read with the standard library alone;
    None when the file is not cleanly readable that way (then it must be refused)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    text = text.removeprefix("\ufeff")
    if c.container == "csv":
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), strict=True))
        except csv.Error:
            return None
        lines = text.split("\n")
        if not rows:
            return None
        out = []
        for row in rows[1:]:
            if row:
                out.append(("", row))
        del lines
        return out
    try:
        if c.container == "jsonl":
            out = []
            for line in text.split("\n"):
                line = line.rstrip("\r\n")
                if line.strip():
                    out.append((line, json.loads(line)))
            return out
        doc = json.loads(text)
        items = doc["data"] if c.container == "wrapper" else doc
        return [("", v) for v in items]
    except (ValueError, KeyError, TypeError, RecursionError):
        return None


def lines_in(data: bytes, c: Case) -> int:
    """How many lines the (decompressed, as far as possible) file has."""
    if c.gz:
        d = __import__("zlib").decompressobj(31)
        try:
            data = d.decompress(data)
        except Exception:
            data = b""
    return data.count(b"\n") + 1


# ------------------------------------------------------------------------------------ one example


def dump(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return "\n".join(conn.iterdump())
    finally:
        conn.close()


def check_example(c: Case, folder: Path, templates: dict[str, Path]) -> tuple[list[str], str, Path]:
    """Import the case's file into a copy of each template: (broken promises, outcome, the file)."""
    from review.importers import InputError
    from review.store import Store

    folder.mkdir(parents=True, exist_ok=True)
    suffix = {"jsonl": ".jsonl", "json": ".json", "wrapper": ".json", "csv": ".csv"}[c.container]
    path = folder / f"data{suffix}{'.gz' if c.gz else ''}"
    data = file_bytes(c)
    path.write_bytes(data)
    problems: list[str] = []
    outcomes = []
    for target, template in templates.items():
        db = folder / f"{target}.db"
        shutil.copyfile(template, db)
        before = dump(db)
        refusal: InputError | None = None
        try:
            with Store(db, create=False) as store:
                old = store.total_samples()
                decisions_before = store.materialised_decisions(1) if target == "existing" else {}
                try:
                    report = store.import_file(path, fmt=c.option_fmt, mapping=c.mapping, skip_invalid=c.skip)
                except InputError as e:
                    refusal = e
                    c.refusal = f"{e.path}:{e.line}: "
                    problems += check_refusal(c, path, data, e, target)
                else:
                    problems += check_import(c, data, store, report, old, target)
                    if target == "existing" and store.materialised_decisions(1) != decisions_before:
                        problems.append(f"{target}: the import changed earlier decisions")
                    again = store.import_file(path, fmt=c.option_fmt, mapping=c.mapping, skip_invalid=c.skip)
                    if not again.already_imported or again.added:
                        problems.append(f"{target}: importing the same file again added {again.added}")
        except Exception as e:  # anything but InputError is the failure looked for
            problems.append(f"{target}: {type(e).__name__}: {e}\n{traceback.format_exc(limit=-4)}")
            outcomes.append("crashed")
            continue
        outcomes.append("refused" if refusal else "imported")
        after = dump(db)
        if refusal is not None:
            if after != before:
                problems.append(f"{target}: refused ({refusal}) but the database changed")
        else:
            # Rows that may change on an import: the project's counters. Every other row of
            # before must still be there, unchanged.
            allowed = ('INSERT INTO "meta"', 'INSERT INTO "sqlite_sequence"', 'INSERT INTO "tallies"')
            lost = [ln for ln in set(before.split("\n")) - set(after.split("\n")) if not ln.startswith(allowed)]
            if lost:
                problems.append(f"{target}: the import rewrote earlier rows, e.g. {lost[0][:120]!r}")
    if len(set(outcomes)) > 1:
        problems.append(f"imported into one project and refused by the other: {outcomes}")
    return problems, outcomes[0] if len(set(outcomes)) == 1 else "mixed", path


def _mapping_judged_by_content(c: Case, msg: str) -> bool:
    """A user's --map refused for what its fields hold, as the README documents (a prompt field of
    short labels: median <= 16 characters, none over 40; an answer field the same in most records),
    and the records really are so: a refusal the importer owes, not a failure."""
    if not c.mapping or not isinstance(c.records[0].value, dict):
        return False
    values = [r.value for r in c.records if isinstance(r.value, dict)]

    def field_of(key: str) -> list[str]:
        name = c.mapping.get(key, "") if c.mapping else ""
        return [str(v.get(name, "")) for v in values]

    if "looks like a category label or an id" in msg:
        # The documented rule, over the field's string values as the records hold them: the
        # median length (the mean of the middle two for an even count) <= 16, none over 40, at
        # most half of them distinct (or 2) — or one value in most (80%) of the records.
        name = c.mapping.get("prompt", "")
        strings = [v[name] for v in values if isinstance(v.get(name), str)]
        if not strings:
            return False
        lens = [len(x) for x in strings]
        few = len(set(strings)) <= max(2, 0.5 * len(strings))  # repeats make a label ('question' is no meta name)
        short = statistics.median(lens) <= 16 and max(lens) <= 40 and few
        same = max(strings.count(x) for x in strings) >= 0.8 * len(values)
        return short or same
    if "holds the same value in" in msg:
        answers = field_of("answer")
        return bool(answers) and max(answers.count(a) for a in answers) * 2 > len(answers)
    return False


def check_refusal(c: Case, path: Path, data: bytes, e: Exception, target: str) -> list[str]:
    where = str(path.resolve())
    line = getattr(e, "line", None)
    msg = str(e)
    problems = []
    if line is None or not msg.startswith(f"{where}:{line}: "):
        problems.append(f"{target}: refused without path:line: {msg[:300]!r}")
        return problems
    if not 1 <= line <= lines_in(data, c):
        problems.append(f"{target}: line {line} is not a line of the file ({lines_in(data, c)} lines): {msg[:200]}")
    if " — " not in msg or not msg.split(" — ", 1)[1].strip():
        problems.append(f"{target}: the message does not say what to do: {msg[:200]!r}")
    bad = [i for i, r in enumerate(c.records) if r.expected is None]
    good = len(c.records) - len(bad)
    # The error names a line of a bad record. (With as many bad records as good ones, a record of
    # another format may win the format vote, and then a good record is the one that does not fit.)
    if c.byte_edit is None and bad and (good > len(bad) or not good) and not _mapping_judged_by_content(c, msg):
        if not any(c.spans[i][0] <= line <= c.spans[i][1] for i in bad):
            spans = ", ".join(f"{i + 1} ({c.records[i].kind}, lines {c.spans[i][0]}-{c.spans[i][1]})" for i in bad)
            problems.append(f"{target}: the bad records are {spans}, but the error names line {line}: {msg[:200]}")
    if c.byte_edit is None and not bad and not _mapping_judged_by_content(c, msg):
        problems.append(f"{target}: a valid file was refused: {msg[:300]}")
    return problems


def check_import(c: Case, data: bytes, store, report, old: int, target: str) -> list[str]:
    problems = []
    src = report.source
    samples = [s for s in store.iter_samples() if s.source_id == src.id]
    samples.sort(key=lambda s: s.position)
    if report.added != len(samples) or src.records != len(samples):
        problems.append(f"{target}: report says {report.added}, source says {src.records}, stored {len(samples)}")
    if store.total_samples() != old + len(samples):
        problems.append(f"{target}: total_samples {store.total_samples()} != {old} + {len(samples)}")
    if target == "existing":
        counts = store.counts(1)
        if counts.total != old + len(samples) or counts.undecided != counts.total - counts.decided:
            problems.append(f"{target}: counts after the import are {counts}")
    got = [(s.raw, s.line) for s in samples]
    if c.byte_edit is None or c.byte_edit[0] == "bom":
        bad = [i for i, r in enumerate(c.records) if r.expected is None]
        if bad and not c.skip:
            kinds = [c.records[i].kind for i in bad]
            problems.append(f"{target}: a file with bad records ({kinds}) was imported: {len(samples)} samples")
            return problems
        if len(report.skipped) != len(bad):
            problems.append(f"{target}: {len(bad)} bad records, {len(report.skipped)} listed as skipped")
        where = str(Path(src.path))
        for msg in report.skipped:
            m = re.match(re.escape(where) + r":(\d+): .+ — .+", msg)
            if not m or not any(c.spans[i][0] <= int(m.group(1)) <= c.spans[i][1] for i in bad):
                problems.append(f"{target}: a skipped record is not named by path:line of a bad one: {msg[:200]}")
        good = [i for i in range(len(c.records)) if i not in bad]
        want = [(c.raws[i], c.spans[i][0]) for i in good]
        if got != want:
            diff = next(i for i, (a, b) in enumerate(zip(got + [None] * 9, want + [None] * 9)) if a != b)
            problems.append(
                f"{target}: record {diff + 1}: stored {str(got[diff : diff + 1])[:200]}, file has {str(want[diff : diff + 1])[:200]}"
            )
            return problems
        for s, r in zip(samples, (c.records[i] for i in good)):
            conv = s.conversation
            have = (conv.system, tuple((t.role, t.content, t.name) for t in conv.turns), conv.tools)
            if have != r.expected:
                problems.append(f"{target}: line {s.line}: stored {_first_difference(have, r.expected)}")
                break
        return problems
    # Damaged bytes that still imported: the samples must be exactly what the file holds.
    inside = records_in(gzip.decompress(data) if c.gz else data, c)
    if inside is None:
        problems.append(
            f"{target}: the file is not valid {c.container} ({c.byte_edit and c.byte_edit[0]}), yet {len(samples)} samples were imported"
        )
    elif len(inside) != len(samples):
        problems.append(f"{target}: the file holds {len(inside)} records, {len(samples)} were imported")
    elif c.container == "jsonl":
        if [s.raw for s in samples] != [raw for raw, _ in inside]:
            problems.append(f"{target}: stored raw texts differ from the file's lines")
    elif c.container == "csv":
        rows = [next(csv.reader([s.raw + "\n"])) if s.raw else [] for s in samples]
        if rows != [v for _, v in inside]:
            problems.append(f"{target}: stored rows differ from the file's rows")
    elif [json.loads(s.raw) for s in samples] != [v for _, v in inside]:
        problems.append(f"{target}: stored records differ from the file's")
    return problems


def _first_difference(have: Expected, want: Expected | None) -> str:
    assert want is not None
    for part, a, b in (("system", have[0], want[0]), ("tools", have[2], want[2])):
        if a != b:
            return f"{part} {a[:80]!r}, expected {b[:80]!r}"
    if len(have[1]) != len(want[1]):
        return f"{len(have[1])} turns {[t[0] for t in have[1]]}, expected {[t[0] for t in want[1]]}"
    for i, (a, b) in enumerate(zip(have[1], want[1])):
        if a != b:
            return f"turn {i + 1} {str(a)[:120]}, expected {str(b)[:120]}"
    return "?"


# ------------------------------------------------------------------------------------ projects


def templates(work: Path) -> dict[str, Path]:
    """A fresh project, and one with samples, a goal and decisions, to copy for each example."""
    from review.store import Change, Store

    fresh = work / "fresh.db"
    Store(fresh).close()
    existing = work / "existing.db"
    src = work / "base.jsonl"
    recs = [
        {"messages": [{"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"}]}
        for i in range(6)
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in recs))
    with Store(existing) as store:
        store.import_file(src)
        store.add_goal("Answer briefly.")
        store.apply(1, [Change(1, "keep")])
        store.apply(1, [Change(2, "drop", reason="duplicate")])
        store.apply(1, [Change(3, "tag", value="later")])
        store.apply(1, [Change(4, "note", value="check this")])
    return {"fresh": fresh, "existing": existing}


def cli_check(c: Case, path: Path, work: Path) -> list[str]:
    """`winnow import` on a file Store.import_file refused: nonzero, the same path:line, no traceback."""
    winnow = Path(sys.executable).with_name("winnow")
    args = [str(winnow), "import", str(path), "--db", str(work / "cli.db")]
    if c.option_fmt:
        args += ["--format", c.option_fmt]
    if c.skip:
        args.append("--skip-invalid")
    for k, v in (c.mapping or {}).items():
        args += ["--map", f"{k}={v}"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "WINNOW_CONFIG": str(work / "none.json"), "LC_ALL": "C.UTF-8"}
    res = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env)
    problems = []
    if res.returncode == 0:
        problems.append(f"winnow import {path}: exit status 0 for a refused file")
    if "Traceback" in res.stderr + res.stdout:
        problems.append(f"winnow import {path}: a traceback:\n{res.stderr[-800:]}")
    if c.refusal not in res.stderr:
        problems.append(f"winnow import {path}: {c.refusal!r} is not on stderr: {res.stderr[-300:]!r}")
    return problems


# ------------------------------------------------------------------------------------ the scenario


def run(out: Outcome, trials: int, work: Path, rng: random.Random) -> None:
    from hypothesis import HealthCheck, Phase, given, seed, settings

    base = templates(work)
    tally = {"imported": 0, "refused": 0, "crashed": 0, "mixed": 0, "skipping": 0}
    failures: dict[str, int] = {}
    cli_cases: list[tuple[Case, Path]] = []
    n = [0]

    @seed(rng.randrange(1 << 32))
    @settings(
        max_examples=trials,
        deadline=None,
        database=None,
        phases=[Phase.generate],  # no shrinking: failures are recorded, never raised
        suppress_health_check=list(HealthCheck),
    )
    @given(case=cases())
    def example(case: Case) -> None:
        folder = work / f"ex{n[0]:05d}"
        n[0] += 1
        problems, outcome, path = check_example(case, folder, base)
        tally[outcome] += 1
        tally["skipping"] += case.skip and outcome == "imported"
        for p in problems:
            key = p.split("\n")[0][:70]
            failures[key] = failures.get(key, 0) + 1
            if failures[key] <= 2:  # the same broken promise, shown twice at most
                out.fail(f"{p}\n  file: {path} — {case.describe()}\n  bytes: {file_bytes(case)[:240]!r}")
        if outcome == "refused" and not problems and len(cli_cases) < CLI_CHECKS:
            cli_cases.append((case, path))
        elif not problems:
            shutil.rmtree(folder, ignore_errors=True)

    example()
    out.trials = n[0]
    for case, path in cli_cases:
        for p in cli_check(case, path, work):
            out.fail(p)
    out.note(
        f"{n[0]} files: {tally['imported']} imported exactly ({tally['skipping']} of them skipping bad records), "
        f"{tally['refused']} refused; "
        f"{len(cli_cases)} refused files re-run through `winnow import`"
    )
    repeated = {k: v for k, v in failures.items() if v > 2}
    if repeated:
        out.note("failures seen more than twice: " + "; ".join(f"{k} ×{v}" for k, v in repeated.items()))


SCENARIO = Scenario(
    name="fuzz-import",
    checked=(
        "hypothesis-generated JSON/JSONL/gzip/CSV files of every format, valid and mutated, imported into a fresh and "
        "an existing project: each imports exactly (records, lines, conversations, tallies) or is refused with "
        "'path:line: what — what to do' and an unchanged database; never another exception; the CLI exits nonzero "
        "without a traceback"
    ),
    run=run,
    full=5000,
    quick=300,
)
