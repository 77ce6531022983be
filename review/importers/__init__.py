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
- One record (a JSON line, a CSV row, an array element) may take at most `max_record_bytes`
  (DEFAULT_MAX_RECORD, 64 MB; `winnow import --max-record-mb N` raises it). A larger one is refused
  as `path:line: record larger than 64 MB` before it is held whole, even with skip_invalid (it
  cannot be skipped without reading it), so memory stays near a few times the limit whatever the
  file holds — a 4 MB gzip that expands to one 4 GB line included.
- Only regular files are read: a FIFO, a device (/dev/zero), a directory or a socket is refused at
  once, before anything is read from it.
- The file is opened once and read through that descriptor; the full pass that parses the records
  also hashes them, so `reader.sha256` (set when iteration ends) is the sha256 of exactly the
  bytes parsed. A file that changed during the read (size, mtime, inode, or more/fewer bytes read
  than it had) is refused at the end of the pass: "the file changed while it was read". The first
  64 KiB and the first records are read twice (sniffing and format detection).
- A record that fails the detected format but is plainly another format (a ShareGPT record in an
  Alpaca file) is refused as a mix of formats, naming the lines where the other format's runs of
  records start; with skip_invalid it is skipped with that reason.
- Blank lines in JSON lines and CSV are not records and do not count as positions.
- A JSON document that is a single object whose first value is the list of records
  ({"data": [...]}) is read as that list; the object's other keys are ignored, though the object
  must be well-formed to its end (a file cut after the records is refused).
- Parquet needs the optional pyarrow (the `parquet` extra); its raw text is the row as JSON, its
  "line" the row number, and the source's header the file's Arrow schema (export writes the kept
  rows back to Parquet with it). It is read one row group at a time, in batches of 256 rows; a
  column JSON cannot carry (bytes, timestamps, decimals) is refused by name. A folder of hub
  shards (train-00000-of-00003.parquet …) is one dataset: see shards.py.
- Duplicate keys, NaN/Infinity and nesting beyond Python's recursion limit are refused per record.
- CSV must be comma-separated UTF-8 with a header row; .tsv and gzip-compressed CSV are refused
  (export writes records back in their own layout, which a tab layout named .csv would not survive).
See schemas.py for what each format maps to (content parts, tool calls, the `response` alias).
"""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, cast

from review.model import Conversation

from . import containers, hints, schemas
from .errors import InputError, RecordProblem
from .sniff import Sniffed, sniff
from .source import SourceFile, refuse_non_regular

__all__ = [
    "DEFAULT_MAX_RECORD",
    "FORMATS",
    "InputError",
    "ParsedRecord",
    "SourceReader",
    "open_source",
    "refuse_non_regular",
]

FORMATS = schemas.FORMATS
SAMPLE_RECORDS = 32  # records read to detect the format
SAMPLE_CHARS = 16 << 20  # ...or fewer, when they are this large
DEFAULT_MAX_RECORD = 64 << 20  # bytes one record may take; see the module docstring
MIXED_STARTS = 5  # other-format runs named in a "mixes formats" refusal
MIXED_SCAN = 1_000_000  # records looked at to find them
NAMES = {
    "alpaca": "Alpaca",
    "sharegpt": "ShareGPT",
    "openai": "OpenAI messages",
    "prompt_completion": "prompt/completion",
    "sharegpt_pair": "ShareGPT preference pairs",
    "openai_pair": "OpenAI preference pairs (chosen/rejected messages)",
    "alpaca_pair": "Alpaca preference pairs",
    "trl_pair": "prompt/chosen/rejected pairs",
    "conversation": "MOSS/Firefly conversation",
    "text_chat": "chat text (### Human: / ### Assistant:)",
    "text_pair": "chat-text preference pairs (Anthropic HH)",
}


# With skip_invalid, how many skipped records are listed with their reason; the rest are counted
# only (2M bad lines listed took 800 MB).
SKIPPED_LISTED = 1000


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    position: int  # 0-based index of the record in the file (counting skipped ones too)
    line: int  # 1-based line where the record starts
    raw: str  # the original record text, verbatim
    conversation: Conversation


class SourceReader:
    """One dataset file, ready to stream. Iterating again re-reads the file from the start.

    A full iteration sets `sha256` (of the bytes it parsed) or raises InputError if the file
    changed meanwhile. `close()` (or `with`) releases the file.
    """

    def __init__(
        self,
        source: SourceFile,
        sniffed: Sniffed,
        fmt: str,
        mapping: dict[str, str],
        skip_invalid: bool,
        max_record_bytes: int = DEFAULT_MAX_RECORD,
        fmt_given: bool = False,
    ) -> None:
        self.path = source.name
        self.container = sniffed.container
        self.format = fmt
        self.mapping = mapping
        self.header: str | None = None
        self.skipped: list[str] = []  # the first SKIPPED_LISTED of them: memory stays bounded
        self.skipped_total = 0
        self.bytes_total = source.size
        self.bytes_read = 0
        self.skip_invalid = skip_invalid
        self.max_record_bytes = max_record_bytes
        self.fmt_given = fmt_given
        self.source = source
        self._sniffed = sniffed
        self._columns: list[str] | None = None
        self._convert = schemas.converter(fmt, mapping)

    def __repr__(self) -> str:
        return f"SourceReader({self.path!r}, container={self.container!r}, format={self.format!r})"

    def __enter__(self) -> SourceReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.source.close()

    @property
    def sha256(self) -> str | None:
        """The sha256 of the bytes the last complete iteration parsed; None before one ends."""
        return self.source.sha256

    @property
    def respelt(self) -> tuple[tuple[str, str, int], ...]:
        """(spelling, key, records): the keys the last iteration read under another spelling
        (`instuction` as `instruction`: schemas.respellings), the most frequent first."""
        return self._convert.respelt_summary()

    def __iter__(self) -> Iterator[ParsedRecord]:
        self.skipped = []
        self.skipped_total = 0
        self.bytes_read = 0
        convert = self._convert
        convert.reset()  # the sampled records were converted once already, at open
        position = -1
        first_ok: int | None = None  # line of the first record of the current run that fits the format
        for line, raw, obj in self._items(hashing=True):
            position += 1
            if type(obj) is dict:
                try:
                    conversation = convert(obj)
                except RecordProblem as p:
                    obj = _mixed(self, line, obj, first_ok) or _problem(self, line, raw, p)
                    first_ok = None
                else:
                    if first_ok is None:
                        first_ok = line
                    yield ParsedRecord(position, line, raw, conversation)
                    continue
            if not self.skip_invalid:
                raise obj
            self.skipped_total += 1
            if len(self.skipped) < SKIPPED_LISTED:
                self.skipped.append(str(obj))

    def _items(self, *, hashing: bool = False) -> Generator[containers.Item, None, None]:
        """(line, raw, dict | InputError) from the container, before any format is applied.

        A hashing pass that reaches the end records the file's sha256 (and refuses a file that
        changed); the others only read."""
        s = self._sniffed
        name = self.path
        limit = self.max_record_bytes
        if s.container == "parquet":
            if hashing:  # pyarrow reads by offset, footer first: hash in a pass of our own
                self.source.finish(self.source.hashing())
            yield from containers.parquet_records(name, name, self, self.bytes_total, limit)
            if hashing:
                self.source.check_unchanged()
            return
        raw = self.source.hashing() if hashing else self.source.plain()
        stream = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")) if s.gzip else raw
        try:
            if s.bom:
                stream.read(3)
            if s.container == "csv":
                yield from containers.csv_records(name, stream, self, self._on_header, limit)
            elif s.container.startswith("jsonl"):
                yield from containers.jsonl_records(name, stream, raw, self, limit)
            else:
                yield from containers.json_array_records(
                    name, containers.Chunks(name, stream, raw, self), s.wrapper, limit, self._on_json_end
                )
            if hashing:
                self.source.finish(raw)
        finally:
            if stream is not raw:
                stream.close()

    def _on_header(self, text: str, columns: list[str]) -> None:
        self.header = text
        self._columns = columns

    def _on_json_end(self, text: str) -> None:
        # A JSON array's header is what follows its ']' ("" or "\n"): export ends the array so.
        self.header = text


def _mixed(reader: SourceReader, line: int, obj: dict, first_ok: int | None) -> InputError | None:
    """The refusal of a record that is plainly another format than the file's, or None.

    `first_ok`: the line of the first record of the run of records that fit, just before this one."""
    found = schemas.classify(obj)
    if reader.format not in NAMES or found is None or found[0] == reader.format:
        return None
    other, ours = NAMES[found[0]], NAMES[reader.format]
    if first_ok is not None and first_ok == line - 1:
        read_as = f"line {first_ok} is {ours}"
    elif first_ok is not None and first_ok < line:
        read_as = f"lines {first_ok}–{line - 1} are {ours}"
    else:
        read_as = f"the file is read as {ours}" + (" (--format)" if reader.fmt_given else "")
    todo = f"split it into one file per format and import each, or import with --skip-invalid to leave the {other} records out"
    if reader.skip_invalid:
        return InputError(reader.path, line, f"this record is {other} but {read_as}: the file mixes formats", todo)
    starts, more = _starts_of(reader, found[0])
    shown = ", ".join(str(n) for n in starts) + (", …" if more else "")
    at = f"line {shown}" if len(starts) == 1 and not more else f"lines {shown}"
    return InputError(
        reader.path,
        line,
        f"this record is {other} but {read_as}: the file mixes formats ({other} records start at {at})",
        todo,
    )


def _starts_of(reader: SourceReader, fmt: str) -> tuple[list[int], bool]:
    """Lines where a run of `fmt` records starts (the first few), and whether there may be more."""
    starts: list[int] = []
    prev: str | None = None
    items = reader._items()
    try:
        for n, (line, _, obj) in enumerate(items):
            if n >= MIXED_SCAN:
                return starts, True
            found = schemas.classify(obj) if type(obj) is dict else None
            kind = found[0] if found else None
            if kind == fmt and prev != fmt:
                if len(starts) == MIXED_STARTS:
                    return starts, True
                starts.append(line)
            prev = kind
    except InputError:
        return starts, True  # a later record the container cannot read: what was found so far
    finally:
        items.close()
    return starts, False


def _problem(reader: SourceReader, line: int, raw: str, p: RecordProblem) -> InputError:
    """The refusal of a record that does not fit the format, at the line of the field at fault; a
    key spelt another way (instuction) comes with the command that renames it in every record."""
    todo = p.todo
    if p.rename is not None:
        old, new = p.rename
        if reader.container == "csv":
            todo = f"rename the column {old!r} to {new!r} in the header, or import with --skip-invalid to leave such rows out"
        else:
            fix = hints.rename_command(reader.path, reader.container, old, new)
            todo = f"rename the key in every record that has it, e.g. {fix}; or import with --skip-invalid to leave such records out"
    return InputError(reader.path, line + _field_offset(raw, p.field), p.what, todo)


def _field_offset(raw: str, field: str | None) -> int:
    """Lines from a record's first line to the named field, for pretty-printed records."""
    if not field or "\n" not in raw:
        return 0
    at = raw.find(f'"{field}"')
    return raw.count("\n", 0, at) if at > 0 else 0


def open_source(
    path: str | Path,
    *,
    mapping: dict[str, str] | None = None,
    fmt: str | None = None,
    skip_invalid: bool = False,
    max_record_bytes: int = DEFAULT_MAX_RECORD,
) -> SourceReader:
    """Open the file, sniff its container and detect the format (from the first records).

    Raises InputError early for what is not a regular file, an empty file, binary data (SQLite,
    zip, other compressors; gzip is read), UTF-16/32, an unknown schema, a record larger than
    `max_record_bytes`, and the first bad record among those sampled (unless skip_invalid).
    `mapping` (keys prompt, answer, system, query, history) implies fmt="mapped". The reader holds
    the file open: close it (or use `with`).
    """
    if max_record_bytes < 1:
        raise ValueError("max_record_bytes must be positive")
    _check_options(str(path), mapping, fmt)
    source = SourceFile(path)
    try:
        return _open(source, mapping, fmt, skip_invalid, max_record_bytes)
    except BaseException:
        source.close()
        raise


def _check_options(name: str, mapping: dict[str, str] | None, fmt: str | None) -> None:
    if fmt is not None and fmt not in FORMATS:
        raise InputError(name, None, f"unknown format {fmt!r}", f"use one of {', '.join(FORMATS)}")
    if mapping and "dataset_info" in mapping:  # a whole layout, read from a dataset_info.json entry
        if fmt is None or fmt == "mapped":
            raise ValueError("a dataset_info layout names its format")
        return
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


def _open(
    source: SourceFile, mapping: dict[str, str] | None, fmt: str | None, skip_invalid: bool, limit: int
) -> SourceReader:
    name = source.name
    layout = bool(mapping and "dataset_info" in mapping)  # the mapping is the whole layout
    if mapping and fmt is None:
        fmt = "mapped"
    fmt_given = fmt is not None and (not mapping or layout)
    sniffed = sniff(source)
    if sniffed.container == "csv":
        return _open_csv(source, sniffed, fmt, mapping, skip_invalid, limit)

    probe = SourceReader(source, sniffed, "alpaca", dict(schemas.ALPACA), skip_invalid, limit)
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
    elif fmt == "mapped" or layout:
        used = dict(mapping or {})
    elif fmt == "alpaca":
        used = {**schemas.ALPACA, **(mapping or {})}
    else:
        used = _mapping_for(fmt, objs)
    reader = SourceReader(source, sniffed, fmt, used, skip_invalid, limit, fmt_given)
    if sniffed.container == "parquet":  # the schema export writes the kept rows back with
        reader.header = containers.parquet_schema(name, name)
    # First: a mapping onto a placeholder is the thing to say, before a field it leaves unread.
    if mapping and not layout:
        _check_mapping_content(name, objs, used, sample[0][0])
    _check_sample(reader, sample)
    return reader


def _check_mapping_content(name: str, objs: list[dict], used: dict[str, str], line: int) -> None:
    """Refuse a user's mapping whose answer is the same in most sampled records or whose prompt is
    a short label (hints.mapping_problem): nothing is imported. A refusal of file content names a
    line: the first sampled record's (the judgement is over the sample that starts there)."""
    problem = hints.mapping_problem(objs, used)
    if problem is not None:
        raise InputError(name, line, *problem)


def _mapping_for(fmt: str, objs: list[dict]) -> dict[str, str]:
    """The mapping of a format the caller named: the detected one where records agree."""
    found = schemas.detect(objs)
    if found is not None and found[0] == fmt:
        return found[1]
    return dict(
        {
            "sharegpt": schemas.SHAREGPT,
            "openai": schemas.OPENAI,
            "prompt_completion": schemas.PROMPT_COMPLETION,
            "sharegpt_pair": schemas.SHAREGPT_PAIR,
            "openai_pair": schemas.OPENAI_PAIR,
            "alpaca_pair": schemas.ALPACA_PAIR,
            "trl_pair": schemas.TRL_PAIR,
            "conversation": schemas.CONVERSATION,
            "text_chat": schemas.TEXT_CHAT,
            "text_pair": schemas.TEXT_PAIR,
        }[fmt]
    )


def _check_sample(reader: SourceReader, sample: list[tuple[int, str, Any]]) -> None:
    """Convert the sampled records: raise the first failure, or, when skipping, a mapping that fits none."""
    first: InputError | None = None
    first_ok: int | None = None
    ok = 0
    for line, raw, obj in sample:
        try:
            reader._convert(obj)
            ok += 1
            first_ok = line if first_ok is None else first_ok
        except RecordProblem as p:
            err = _mixed(reader, line, obj, first_ok) or _problem(reader, line, raw, p)
            first_ok = None
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
    source: SourceFile,
    sniffed: Sniffed,
    fmt: str | None,
    mapping: dict[str, str] | None,
    skip_invalid: bool,
    limit: int,
) -> SourceReader:
    name = source.name
    probe = SourceReader(source, sniffed, "alpaca", dict(schemas.ALPACA), skip_invalid, limit)
    items = probe._items()
    first = next(items, None)  # reading one row fills in the header
    rows: list[dict] = []  # the first rows, for the hints and the mapping check: what the columns hold
    try:
        for item in itertools.chain([first] if first is not None else [], items):
            if isinstance(item[2], dict):
                rows.append(item[2])
            if len(rows) >= SAMPLE_RECORDS:
                break
    except InputError:
        pass  # a bad row is refused (or skipped) by the import itself, at its line
    finally:
        items.close()
    columns = probe._columns or []
    if first is None:
        raise InputError(name, 1, "the CSV file has a header but no rows", "check that the export finished")
    row = dict.fromkeys(columns, "")
    if fmt is None:
        found = schemas.detect([row])
        if found is None or found[0] not in ("alpaca", "prompt_completion", "alpaca_pair", "trl_pair"):
            what, todo = schemas.unknown_schema_hint(rows or [row])
            raise InputError(name, 1, what.replace("fields", "columns"), todo)
        fmt, used = found
    elif mapping and "dataset_info" in mapping:
        used = dict(mapping)
    elif fmt in ("alpaca", "mapped"):
        used = {**schemas.ALPACA, **(mapping or {})} if fmt == "alpaca" else dict(mapping or {})
    elif fmt in ("prompt_completion", "alpaca_pair", "trl_pair"):
        used = _mapping_for(fmt, [row])
    else:
        raise InputError(
            name,
            None,
            f"a CSV file cannot hold {fmt} conversations",
            "use --format alpaca, prompt_completion, alpaca_pair, trl_pair or mapped",
        )
    used.pop("history", None)  # a CSV cell cannot hold the list of pairs
    required = ("prompt", "answer", "chosen", "rejected")
    needed = [used[k] for k in required if k in used]
    missing = [
        c
        for c in needed + [v for k, v in used.items() if k not in required and k not in schemas.META_KEYS]
        if c not in columns
    ]
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
    if mapping and "dataset_info" not in mapping:
        _check_mapping_content(name, rows, used, 2)  # the first row after the header
    reader = SourceReader(source, sniffed, fmt, used, skip_invalid, limit)
    reader.header = probe.header
    reader._columns = columns
    return reader
