"""The write side of containers: export puts records back in the layout they came from.

Records travel as their original text (`raw`), so an exported record is byte-for-byte the record
that was imported; only the glue between records (newlines, the array's brackets and commas) is
written here. One exception, in JSON lines: a record whose text holds a line break (an element of
a pretty-printed JSON array, or a raw edited outside winnow) is re-serialised onto one line from
its parsed value (see one_line), so that each line of a JSONL file is always exactly one record.
Compression is the caller's business: "jsonl.gz" is written as plain JSON lines to whatever text
handle it passes. Parquet sources export as Parquet, with the source's schema (their raw text is
each row as JSON; write_parquet rebuilds the rows), to the binary file under the text handle.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, TextIO

CONTAINERS = ("jsonl", "jsonl.gz", "json", "json.gz", "csv", "parquet")


def _layout(container: str) -> str:
    if container not in CONTAINERS:
        raise ValueError(f"unknown container {container!r}; expected one of {', '.join(CONTAINERS)}")
    return container.removesuffix(".gz")


def export_suffix(container: str) -> str:
    """The file extension an export of this container should carry: '.jsonl', '.json', '.csv' or
    '.parquet'."""
    return "." + _layout(container)


PARQUET_BATCH = 4096  # rows per row group written: memory stays bounded whatever the export holds


def write_parquet(sink: Any, raws: Iterable[str], schema_text: str) -> int:
    """Rows (each a JSON object, as a Parquet source's raw text) written as Parquet to the binary
    `sink` with the source's schema (`schema_text`: base64 of its IPC serialisation, as the import
    kept it). A `winnow_tags` key that the schema lacks (--tags) adds a list<string> column."""
    import base64

    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(schema_text)))
    writer = None
    n = 0
    batch: list[dict] = []

    def flush() -> None:
        nonlocal writer, schema
        if writer is None:
            if any("winnow_tags" in r for r in batch) and "winnow_tags" not in schema.names:
                schema = schema.append(pa.field("winnow_tags", pa.list_(pa.string())))
            writer = pq.ParquetWriter(sink, schema)
        writer.write_table(pa.Table.from_pylist(batch, schema=schema))
        batch.clear()

    try:
        for raw in raws:
            batch.append(json.loads(raw))
            n += 1
            if len(batch) >= PARQUET_BATCH:
                flush()
        if batch or writer is None:
            flush()
    finally:
        if writer is not None:
            writer.close()
    return n


# Every character at which some reader ends a line: str.splitlines() breaks at all of these (\n, \r,
# \v, \f, \x1c-\x1e, NEL, U+2028, U+2029), JavaScript's line terminators include U+2028/U+2029.
_LINE_BREAK = re.compile("[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
# Those json.dumps(ensure_ascii=False) leaves as they are (it escapes the others, all below 0x20).
_UNESCAPED = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        raise ValueError("a key appears twice in one object")
    return d


# What ends a line of a JSON lines file (\n, and \r before it): a record holding one is rewritten.
# The other breaks above are valid inside a JSON lines record, and a record imported from one
# keeps them as they were, byte for byte.
_TERMINATOR = re.compile("[\n\r]")


_INDENT = (" ", "\t")


def one_line(raw: str) -> str:
    """`raw` (one JSON value) as one line of a JSON lines file: unchanged when it holds no \n or
    \r; otherwise re-serialised from its parsed value, key order kept, non-ASCII kept as it is
    (ensure_ascii=False), on one line, with U+0085/U+2028/U+2029 inside strings written as \\u
    escapes. The value is the same; only the bytes between tokens (and those escapes) differ.
    Raises ValueError if raw is not one JSON value (or holds a number no JSON can carry)."""
    if not _TERMINATOR.search(raw):
        return raw.lstrip(" \t") if raw[:1] in _INDENT else raw  # an array element's own indentation
    value = json.loads(raw, object_pairs_hook=_no_duplicates)
    text = json.dumps(value, ensure_ascii=False, allow_nan=False)  # an overflowing 1e999 is refused
    return _LINE_BREAK.sub(lambda m: _UNESCAPED.get(m.group(), f"\\u{ord(m.group()):04x}"), text)


def element_indent(raw: str) -> str:
    """The indentation a pretty-printed array element had before its first line: that of its last
    line (the closing brace sits at the element's own depth in json.dump(indent=N) output and the
    editors that mimic it). '' for a one-line element. Spaces and tabs only."""
    end = raw.rfind("\n")
    if end < 0:
        return ""
    last = raw[end + 1 :]
    stripped = last.lstrip(" \t")
    return last[: len(last) - len(stripped)] if stripped else ""


def write_records(fh: TextIO, container: str, raws: Iterable[str], header: str | None) -> int:
    """Write raw records in the container's own layout; return how many were written.

    jsonl: one record per line (a record with a line break in its text is put on one line, see
    one_line). json: a JSON array '[\\n' + ',\\n'.join(raws) + '\\n]' + header, each element's text
    as imported, after the indentation it had (element_indent; an element indented otherwise than
    its last line was imported with its own indentation in front, see importers.containers), and header the text that followed
    the source's ']' ("\\n" when None), so a pretty-printed array kept whole comes out byte for
    byte. csv: the header line, then each row's text (rows with quoted newlines keep them).
    Streams: `raws` may be a generator over millions of records. Open a CSV
    target with newline="" so the rows' own line endings pass through untranslated.
    """
    layout = _layout(container)
    n = 0
    if layout == "parquet":
        if header is None:
            raise ValueError("a Parquet export needs the schema of its source")
        fh.flush()
        return write_parquet(getattr(fh, "buffer", fh), raws, header)  # the binary file under the text handle
    if layout == "jsonl":
        for raw in raws:
            fh.write(one_line(raw))
            fh.write("\n")
            n += 1
        return n
    if layout == "json":
        fh.write("[")
        for raw in raws:
            fh.write("\n" if n == 0 else ",\n")
            if raw[:1] not in _INDENT:  # an element that kept its own indentation starts with it
                fh.write(element_indent(raw))
            fh.write(raw)
            n += 1
        end = "\n" if header is None else header  # what followed the source's ']' (projects before: "\n")
        fh.write(("\n]" if n else "]") + end)
        return n
    if header is None:
        raise ValueError("a CSV export needs the header line of its source")
    fh.write(header)
    fh.write("\n")
    for raw in raws:
        fh.write(raw)
        fh.write("\n")
        n += 1
    return n
