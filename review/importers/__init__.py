"""Read dataset files into Conversations, streaming, with errors a curator can act on.

    reader = open_source("data.jsonl")        # sniffs the container, detects the format
    for rec in reader:                          # ParsedRecord(position, line, raw, conversation)
        ...

`open_source` raises InputError straight away for problems with the whole file (empty, binary,
UTF-16, unknown schema) and for the first bad record among the ones it samples; iteration raises
InputError for later bad records, or, with skip_invalid=True, lists them in `reader.skipped` and
goes on. Whole-file problems raise even with skip_invalid, and so does JSON so broken that the
next record cannot be found (a syntax error inside a JSON array, corrupt gzip).

Decisions, for the README:
- A UTF-8 byte-order mark is accepted silently and is not part of any record's raw text.
- UTF-16/32 files are refused with the iconv command that converts them.
- A gzip file is read by its magic bytes whatever its name (container "jsonl.gz" / "json.gz").
- Very large records (tested with 50 MB) are read, not refused; memory grows to about the size of
  the largest record, never the file.
- Blank lines in JSON lines and CSV are not records and do not count as positions.
- A JSON document that is a single object whose first value is the list of records
  ({"data": [...]}) is read as that list; the object's other keys are ignored, though the object
  must be well-formed to its end (a file cut after the records is refused).
- Parquet needs the optional pyarrow; its raw text is the row as JSON and its "line" is the row
  number.
- Duplicate keys, NaN/Infinity and nesting beyond Python's recursion limit are refused per record.
- CSV must be comma-separated UTF-8 with a header row; .tsv and gzip-compressed CSV are refused
  (export writes records back in their own layout, which a tab layout named .csv would not survive).
See schemas.py for what each format maps to (content parts, tool calls, the `response` alias).
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from review.model import Conversation

from . import containers, schemas
from .errors import InputError, RecordProblem
from .sniff import Sniffed, sniff

__all__ = ["FORMATS", "InputError", "ParsedRecord", "SourceReader", "open_source"]

FORMATS = schemas.FORMATS
SAMPLE_RECORDS = 32  # records read to detect the format
SAMPLE_CHARS = 16 << 20  # ...or fewer, when they are this large


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    position: int  # 0-based index of the record in the file (counting skipped ones too)
    line: int  # 1-based line where the record starts
    raw: str  # the original record text, verbatim
    conversation: Conversation


class SourceReader:
    """One dataset file, ready to stream. Iterating again re-reads the file from the start."""

    def __init__(self, path: Path, sniffed: Sniffed, fmt: str, mapping: dict[str, str], skip_invalid: bool) -> None:
        self.path = str(path)
        self.container = sniffed.container
        self.format = fmt
        self.mapping = mapping
        self.header: str | None = None
        self.skipped: list[str] = []
        self.bytes_total = os.path.getsize(path)
        self.bytes_read = 0
        self.skip_invalid = skip_invalid
        self._file = Path(path)
        self._sniffed = sniffed
        self._columns: list[str] | None = None
        self._convert = schemas.converter(fmt, mapping)

    def __repr__(self) -> str:
        return f"SourceReader({self.path!r}, container={self.container!r}, format={self.format!r})"

    def __iter__(self) -> Iterator[ParsedRecord]:
        self.skipped = []
        self.bytes_read = 0
        convert = self._convert
        path = self.path
        position = -1
        for line, raw, obj in self._items():
            position += 1
            if type(obj) is dict:
                try:
                    conversation = convert(obj)
                except RecordProblem as p:
                    obj = InputError(path, line + _field_offset(raw, p.field), p.what, p.todo)
                else:
                    yield ParsedRecord(position, line, raw, conversation)
                    continue
            if not self.skip_invalid:
                raise obj
            self.skipped.append(str(obj))

    def _items(self) -> Generator[containers.Item, None, None]:
        """(line, raw, dict | InputError) from the container, before any format is applied."""
        s = self._sniffed
        name = self.path
        if s.container == "parquet":
            yield from containers.parquet_records(name, str(self._file), self, self.bytes_total)
            return
        with open(self._file, "rb") as raw:
            stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")) if s.gzip else raw
            try:
                if s.bom:
                    stream.read(3)
                if s.container == "csv":
                    yield from containers.csv_records(name, stream, self, self._on_header)
                elif s.container.startswith("jsonl"):
                    yield from containers.jsonl_records(name, stream, raw, self)
                else:
                    yield from containers.json_array_records(
                        name, containers.Chunks(name, stream, raw, self), s.wrapper
                    )
            finally:
                if stream is not raw:
                    stream.close()

    def _on_header(self, text: str, columns: list[str]) -> None:
        self.header = text
        self._columns = columns


def _field_offset(raw: str, field: str | None) -> int:
    """Lines from a record's first line to the named field, for pretty-printed records."""
    if not field or "\n" not in raw:
        return 0
    at = raw.find(f'"{field}"')
    return raw.count("\n", 0, at) if at > 0 else 0


def open_source(
    path: str | Path, *, mapping: dict[str, str] | None = None, fmt: str | None = None, skip_invalid: bool = False
) -> SourceReader:
    """Sniff container and detect format (from the first records).

    Raises InputError early for an empty file, binary data (SQLite, zip, other compressors; gzip
    is read), UTF-16/32, an unknown schema, and the first bad record among those sampled (unless
    skip_invalid). `mapping` (keys prompt, answer, system, query, history) implies fmt="mapped".
    """
    name = str(path)
    if fmt is not None and fmt not in FORMATS:
        raise InputError(name, None, f"unknown format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    if mapping:
        if fmt is None:
            fmt = "mapped"
        if fmt not in ("mapped", "alpaca"):
            raise InputError(
                name,
                None,
                f"a field mapping applies to alpaca-like records, not {fmt}",
                "drop --map, or use --format mapped",
            )
        why = schemas.check_mapping({**schemas.ALPACA, **mapping} if fmt == "alpaca" else mapping)
        if why:
            raise InputError(name, None, why, "fix the --map options, e.g. --map prompt=question --map answer=answer")
    elif fmt == "mapped":
        raise InputError(
            name, None, "format 'mapped' needs a field mapping", "add --map prompt=FIELD --map answer=FIELD"
        )
    sniffed = sniff(Path(path))
    if sniffed.container == "csv":
        return _open_csv(Path(path), sniffed, fmt, mapping, skip_invalid)

    probe = SourceReader(Path(path), sniffed, "alpaca", dict(schemas.ALPACA), skip_invalid)
    sample: list[tuple[int, str, dict]] = []
    problems: list[InputError] = []
    chars = 0
    items = probe._items()
    try:
        for line, raw, obj in items:
            if isinstance(obj, InputError):
                if not skip_invalid:
                    raise obj
                problems.append(obj)
            else:
                sample.append((line, raw, obj))
                chars += len(raw)
            if len(sample) + len(problems) >= SAMPLE_RECORDS or chars >= SAMPLE_CHARS:
                break
    finally:
        items.close()
    if not sample:
        if problems:
            raise InputError(
                name, problems[0].line, f"none of the first records can be read ({problems[0].what})", problems[0].todo
            )
        # line 1: a refusal of file content always names a line (the whole file starts there)
        raise InputError(name, 1, "the file holds no records", "check that the export finished")
    objs = [obj for _, _, obj in sample]
    if fmt is None:
        found = schemas.detect(objs)
        if found is None:
            what, todo = schemas.unknown_schema_hint(objs)
            raise InputError(name, sample[0][0], what, todo)
        fmt, used = found
    elif fmt == "mapped":
        used = dict(mapping or {})
    elif fmt == "alpaca":
        used = {**schemas.ALPACA, **(mapping or {})}
    else:
        used = _mapping_for(fmt, objs)
    reader = SourceReader(Path(path), sniffed, fmt, used, skip_invalid)
    _check_sample(reader, sample)
    return reader


def _mapping_for(fmt: str, objs: list[dict]) -> dict[str, str]:
    """The mapping of a format the caller named: the detected one where records agree."""
    found = schemas.detect(objs)
    if found is not None and found[0] == fmt:
        return found[1]
    return dict(
        {"sharegpt": schemas.SHAREGPT, "openai": schemas.OPENAI, "prompt_completion": schemas.PROMPT_COMPLETION}[fmt]
    )


def _check_sample(reader: SourceReader, sample: list[tuple[int, str, Any]]) -> None:
    """Convert the sampled records: raise the first failure, or, when skipping, a mapping that fits none."""
    first: InputError | None = None
    ok = 0
    for line, raw, obj in sample:
        try:
            reader._convert(obj)
            ok += 1
        except RecordProblem as p:
            err = InputError(reader.path, line + _field_offset(raw, p.field), p.what, p.todo)
            if not reader.skip_invalid:
                raise err from None
            first = first or err
    if ok == 0 and first is not None:
        fields = sorted({k for _, _, obj in sample for k in obj})
        raise InputError(
            reader.path,
            first.line,
            f"none of the first {len(sample)} records fit the {reader.format} format ({first.what}); fields seen: {', '.join(fields)}",
            "check the --format / --map options",
        )


def _open_csv(
    path: Path, sniffed: Sniffed, fmt: str | None, mapping: dict[str, str] | None, skip_invalid: bool
) -> SourceReader:
    name = str(path)
    probe = SourceReader(path, sniffed, "alpaca", dict(schemas.ALPACA), skip_invalid)
    items = probe._items()
    first = next(items, None)  # reading one row fills in the header
    items.close()
    columns = probe._columns or []
    if first is None:
        raise InputError(name, 1, "the CSV file has a header but no rows", "check that the export finished")
    row = dict.fromkeys(columns, "")
    if fmt is None:
        found = schemas.detect([row])
        if found is None or found[0] not in ("alpaca", "prompt_completion"):
            what, todo = schemas.unknown_schema_hint([row])
            raise InputError(name, 1, what.replace("fields", "columns"), todo)
        fmt, used = found
    elif fmt in ("alpaca", "mapped"):
        used = {**schemas.ALPACA, **(mapping or {})} if fmt == "alpaca" else dict(mapping or {})
    elif fmt == "prompt_completion":
        used = _mapping_for(fmt, [row])
    else:
        raise InputError(
            name,
            None,
            f"a CSV file cannot hold {fmt} conversations",
            "use --format alpaca, prompt_completion or mapped",
        )
    used.pop("history", None)  # a CSV cell cannot hold the list of pairs
    needed = [used[k] for k in ("prompt", "answer") if k in used]
    missing = [c for c in needed + [v for k, v in used.items() if k not in ("prompt", "answer")] if c not in columns]
    missing_required = [c for c in needed if c not in columns]
    if missing_required:
        raise InputError(
            name,
            1,
            f"the header has no column {missing_required[0]!r}; columns: {', '.join(columns)}",
            "check the --map options",
        )
    for c in missing:
        used = {k: v for k, v in used.items() if v != c}  # optional columns the file does not have
    reader = SourceReader(path, sniffed, fmt, used, skip_invalid)
    reader.header = probe.header
    reader._columns = columns
    return reader
