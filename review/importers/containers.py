"""Containers: how records are laid out in a file (JSON lines, a JSON array, CSV, Parquet).

Each reader is a generator of (line, raw, obj): `raw` is the record's original text, verbatim,
and `obj` is the parsed dict, or an InputError for a record that can be skipped. Errors that leave
no way to find the next record (broken JSON syntax inside an array, corrupt gzip) are raised.

Everything streams. JSON lines go line by line; a JSON array is read in 1 MiB chunks and each
element is cut out with `JSONDecoder.raw_decode`, which also hands back the element's exact
slice. A record larger than the buffer grows it geometrically, so a 50 MB record costs one pass
per doubling, not one per chunk.

Every reader is bounded by `limit`, the most bytes one record may take (a JSON line, a CSV row, an
array element, what follows the records in a wrapper object): a larger one raises `too_large`
before it is held in memory whole, so a small gzip that expands to one 4 GB line costs about the
limit, not 4 GB.

Strictness: duplicate keys, NaN/Infinity, nesting deeper than Python's recursion limit, integers
longer than Python reads (4,300 digits) and lone UTF-16 surrogates (a "\ud800" escape without its
other half) are refused per record. Plain `json` would accept the first two silently (last key
wins, NaN becomes a float), so a record would mean something other than what its author saw; the
last two used to escape as a traceback (ValueError from int(), UnicodeEncodeError when the text
was hashed and stored).
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import zlib
from collections.abc import Callable, Iterator
from typing import IO, Any, Protocol

from ..formats import element_indent
from .errors import SKIP_HINT, InputError, kind
from .sniff import WRAPPER

CHUNK = 1 << 20
Item = tuple[int, str, Any]  # (line, raw, dict | InputError)

_WS = re.compile(r"[ \t\r\n]*")
_SURROGATE = re.compile("[\udc80-\udcff]")  # undecodable bytes, kept by surrogateescape
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # where a lone surrogate can come from
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
UTF8_TODO = "re-save the file as UTF-8, e.g. iconv -f LATIN1 -t UTF-8 FILE > FILE.utf8 (name its real encoding)"
TRUNCATED_TODO = "the file looks cut off — re-download or re-export it"


class Progress(Protocol):
    bytes_read: int


class DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class BadConstant(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _pairs(pairs: list[tuple[str, Any]]) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen: set[str] = set()
        for k, _ in pairs:
            if k in seen:
                raise DuplicateKey(k)
            seen.add(k)
    return d


def _constant(name: str) -> Any:
    raise BadConstant(name)


# The hook runs once per JSON object; measured on Alpaca 52k it adds ~15% to parsing, well under
# the cost of building the Conversations, and buys a refusal of duplicate keys.
STRICT = json.JSONDecoder(object_pairs_hook=_pairs, parse_constant=_constant)
# Re-reads a record the strict decoder refused, only to find where it ends: an integer too long
# for int() becomes a float (inf) here instead of raising again.
PLAIN = json.JSONDecoder(parse_int=float)


def _hook_problem(name: str, line: int, err: Exception) -> InputError:
    if isinstance(err, DuplicateKey):
        return InputError(
            name, line, f"the key {err.key!r} appears twice in one object", "keep one of them; " + SKIP_HINT
        )
    if not isinstance(err, BadConstant):  # int() refusing a number of more than 4,300 digits
        return InputError(
            name, line, "a number is too long to read (more than 4,300 digits)", "write it as a string; " + SKIP_HINT
        )
    return InputError(
        name,
        line,
        f"{err.name} is not valid JSON (JSON has no NaN or Infinity)",
        "write null or a string instead; " + SKIP_HINT,
    )


def _not_object(name: str, line: int, obj: Any) -> InputError:
    return InputError(
        name,
        line,
        f"the record is {kind(obj)}, not a JSON object",
        'each record must be an object such as {"instruction": ..., "output": ...}; ' + SKIP_HINT,
    )


def _nesting(name: str, line: int) -> InputError:
    return InputError(name, line, "the record is nested too deeply to parse", "flatten it; " + SKIP_HINT)


def _element_lead(buf: str, ws_from: int, pos: int) -> str | None:
    """The spaces and tabs before an array element on its own line, when they are all in hand
    (buf[ws_from:pos] is the whitespace before it; ws_from -1: it began in an earlier chunk). None
    when the element does not start a line or the start of its line is not in hand."""
    gap = buf[max(ws_from, 0) : pos]
    nl = gap.rfind("\n")
    if nl < 0:
        return None
    lead = gap[nl + 1 :]
    return lead if not lead.strip(" \t") else None


def _lone_surrogate(name: str, line: int, raw: str, obj: Any) -> InputError | None:
    """A record whose strings (keys or values) hold half a surrogate pair, from a \\udXXX escape.

    Only records whose text has such an escape are walked, so the common case costs one search.
    """
    if not _SURROGATE_ESCAPE.search(raw):
        return None
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            m = _LONE_SURROGATE.search(x)
            if m:
                return InputError(
                    name,
                    line,
                    f"the escape \\u{ord(m.group()):04x} is half of a UTF-16 surrogate pair, not a character",
                    "write the character itself, or the escape of both halves; " + SKIP_HINT,
                )
        elif isinstance(x, dict):
            stack += x.keys()
            stack += x.values()
        elif isinstance(x, list):
            stack += x
    return None


def megabytes(limit: int) -> str:
    mb = limit / (1 << 20)
    return f"{mb:g} MB" if mb >= 1 else f"{limit:,} bytes"


def too_large(name: str, line: int, limit: int, what: str = "record") -> InputError:
    return InputError(
        name,
        line,
        f"{what} larger than {megabytes(limit)}",
        "if the record is real, raise the limit with --max-record-mb N (an import needs several times the "
        "largest record in memory); otherwise split or fix it",
    )


def jsonl_records(name: str, stream: IO[bytes], raw: IO[bytes], progress: Progress, limit: int) -> Iterator[Item]:
    loads = STRICT.decode
    plain = stream is raw
    lineno = 0
    readline = stream.readline
    cap = limit + 2  # the record and its \r\n
    try:
        while data := readline(cap):
            lineno += 1
            if len(data) > limit and len(data.rstrip(b"\r\n")) > limit:
                raise too_large(name, lineno, limit)
            if plain:
                progress.bytes_read += len(data)
            elif not lineno & 1023:
                progress.bytes_read = raw.tell()
            try:
                text = data.decode()
            except UnicodeDecodeError as e:
                yield lineno, data.decode(errors="replace").rstrip("\r\n"), _bad_utf8(name, lineno, e)
                continue
            text = text.rstrip("\r\n")
            if not text or text.isspace():
                continue  # blank lines are not records
            try:
                obj = loads(text)
            except json.JSONDecodeError as e:
                yield lineno, text, _jsonl_malformed(name, lineno, text, e, data.endswith(b"\n"))
                continue
            except ValueError as e:  # DuplicateKey, BadConstant, or int() refusing 4,300+ digits
                yield lineno, text, _hook_problem(name, lineno, e)
                continue
            except RecursionError:
                yield lineno, text, _nesting(name, lineno)
                continue
            if type(obj) is not dict:
                yield lineno, text, _not_object(name, lineno, obj)
                continue
            yield lineno, text, _lone_surrogate(name, lineno, text, obj) or obj
    except (OSError, EOFError, zlib.error) as e:
        raise InputError(name, lineno + 1, f"the gzip data is corrupt or cut off ({e})", TRUNCATED_TODO) from None
    progress.bytes_read = raw.tell()


def _says(e: json.JSONDecodeError) -> str:
    """json's message, minus the dangling "at" its position used to follow."""
    if e.msg.startswith("Unterminated string"):
        return "a string that never closes"
    return e.msg.removesuffix(" at")


def _bad_utf8(name: str, line: int, e: UnicodeDecodeError, column: int | None = None) -> InputError:
    byte = e.object[e.start : e.start + 1].hex()
    return InputError(name, line, f"invalid UTF-8 (byte 0x{byte})", UTF8_TODO + "; or " + SKIP_HINT)


def _jsonl_malformed(name: str, line: int, text: str, e: json.JSONDecodeError, has_newline: bool) -> InputError:
    at_end = e.pos >= len(text.rstrip()) or e.msg.startswith("Unterminated string")
    if at_end and not has_newline:
        return InputError(
            name, line, f"the last line is cut off mid-record ({_says(e)})", TRUNCATED_TODO + "; or " + SKIP_HINT
        )
    if e.msg == "Extra data":
        return InputError(
            name,
            line,
            f"more than one JSON value on the line (column {e.colno})",
            "put one record per line; " + SKIP_HINT,
        )
    return InputError(
        name, line, f"malformed JSON: {_says(e)} (column {e.colno})", "fix the JSON on that line; " + SKIP_HINT
    )


class Chunks:
    """UTF-8 text from a byte stream in chunks, keeping undecodable bytes as surrogates.

    Strict decoding would lose the position of a bad byte; surrogateescape lets the array reader
    blame the one record that holds it.
    """

    def __init__(self, name: str, stream: IO[bytes], raw: IO[bytes], progress: Progress) -> None:
        self.name = name
        self.stream = stream
        self.raw = raw
        self.progress = progress
        self.decoder = codecs.getincrementaldecoder("utf-8")()
        self.eof = False
        self.bad_utf8 = False
        self.gzip = stream is not raw
        self.lines = 1  # lines decoded so far; counted only where gzip can fail mid-file

    def read(self, size: int) -> str:
        if self.eof:
            return ""
        try:
            data = self.stream.read(size)
        except (OSError, EOFError, zlib.error) as e:
            raise InputError(
                self.name, self.lines, f"the gzip data is corrupt or cut off ({e})", TRUNCATED_TODO
            ) from None
        self.progress.bytes_read = self.raw.tell()
        self.eof = not data
        try:
            text = self.decoder.decode(data, self.eof)
        except UnicodeDecodeError:
            self.bad_utf8 = True
            self.decoder.errors = "surrogateescape"
            try:
                text = self.decoder.decode(data, self.eof)
            finally:
                self.decoder.errors = "strict"
        if self.gzip:
            self.lines += text.count("\n")
        return text


def _maybe_cut(err: json.JSONDecodeError, size: int) -> bool:
    """Whether a parse error could be the buffer ending mid-record rather than bad JSON."""
    return err.pos >= size - 64 or err.msg.startswith("Unterminated string")


def _undecodable(name: str, line: int, text: str) -> InputError | None:
    m = _SURROGATE.search(text)
    if m is None:
        return None
    byte = (ord(m.group()) - 0xDC00).to_bytes(1, "big").hex()
    where = line + text.count("\n", 0, m.start())
    return InputError(name, where, f"invalid UTF-8 (byte 0x{byte})", UTF8_TODO + "; or " + SKIP_HINT)


JSON_END_KEPT = 64  # characters of whitespace after a top-level array's ']' that export reproduces


def json_array_records(
    name: str, chunks: Chunks, wrapper: bool, limit: int, on_end: Callable[[str], None] | None = None
) -> Iterator[Item]:
    """Elements of a top-level JSON array (or of the list that opens a wrapper object).

    on_end(text) is called, for a plain array read to its end, with the whitespace after its ']'
    (the file's last bytes: "" or "\n" mostly; "\n" when longer than JSON_END_KEPT), so an export
    of the whole array ends as the source did."""
    # raw_decode minus one Python frame per record
    scan: Callable[[str, int], tuple[Any, int]] = STRICT.scan_once  # type: ignore[attr-defined]
    ws: Callable[[str, int], Any] = _WS.match  # always matches: the pattern accepts ""
    buf = chunks.read(CHUNK)
    pos = 0
    line = 1  # the line of buf[lpos]
    lpos = 0

    def fail(at: int, what: str, todo: str) -> InputError:
        return InputError(name, line + buf.count("\n", lpos, at), what, todo)

    while not chunks.eof and len(buf) < 1 << 16:  # the opening must be in hand (tiny chunks, in tests)
        buf += chunks.read(CHUNK)
    pos = ws(buf, pos).end()
    if wrapper:
        m = WRAPPER.match(buf, pos)
        if m is None:
            raise fail(
                pos, "the top-level JSON object does not start with a list of records", "give a JSON array [...]"
            )
        pos = m.end()
    elif buf[pos : pos + 1] == "[":
        pos += 1
    else:
        raise fail(pos, "expected a JSON array '['", "give a JSON array of records [...]")
    expect_value = True
    after_comma = False
    ws_from = pos  # where the whitespace before the next token starts (-1: in an earlier chunk)
    refilled = False
    while True:
        if not refilled:
            ws_from = pos
        refilled = False
        pos = ws(buf, pos).end()
        if pos >= len(buf):
            if chunks.eof:
                raise fail(pos, "the file ends before the JSON array is closed (no ']')", TRUNCATED_TODO)
            line += buf.count("\n", lpos, pos)
            buf = chunks.read(CHUNK)
            pos = lpos = 0
            ws_from, refilled = -1, True  # the whitespace began in the chunk before: its start is not in hand
            continue
        c = buf[pos]
        if not expect_value:
            if c == ",":
                pos += 1
                expect_value = after_comma = True
                continue
            if c == "]":
                break
            if _SURROGATE.match(c):
                raise fail(pos, "invalid UTF-8 between records", UTF8_TODO)
            raise fail(pos, f"expected ',' or ']' after a record, found {c!r}", "add the missing comma between records")
        if c == "]":
            if after_comma:
                raise fail(
                    pos, "a comma before ']' (JSON allows no trailing comma)", "remove the comma after the last record"
                )
            break
        line += buf.count("\n", lpos, pos)
        lpos = pos
        lead = _element_lead(buf, ws_from, pos)
        problem: InputError | None = None
        while True:
            err: json.JSONDecodeError
            try:
                obj, end = scan(buf, pos)
                if end < len(buf) or isinstance(obj, dict) or chunks.eof:
                    break
                err = json.JSONDecodeError("a value that may go on", buf, end)  # a number cut by the chunk
            except StopIteration as e:  # the scanner's way of saying "Expecting value"
                err = json.JSONDecodeError("Expecting value", buf, e.value)
            except json.JSONDecodeError as e:
                err = e
            except ValueError as hooked:  # DuplicateKey, BadConstant, or int() refusing 4,300+ digits
                try:
                    obj, end = PLAIN.raw_decode(buf, pos)
                    problem = _hook_problem(name, line, hooked)
                    break
                except json.JSONDecodeError as e:
                    err = e
            except RecursionError:
                raise _nesting(name, line) from None
            if chunks.eof or not _maybe_cut(err, len(buf)):
                if chunks.bad_utf8 and _SURROGATE.match(buf, err.pos):
                    raise _undecodable(name, line, buf[pos : err.pos + 1]) or fail(err.pos, "invalid UTF-8", UTF8_TODO)
                if err.msg.startswith("Unterminated string") or not buf[err.pos :].strip():
                    raise fail(err.pos, f"the file ends inside a record ({_says(err)})", TRUNCATED_TODO)
                raise fail(
                    err.pos,
                    f"malformed JSON: {_says(err)} (column {err.pos - buf.rfind(chr(10), 0, err.pos)})",
                    "fix the JSON at that line (a missing comma or quote?); a broken array cannot be skipped record by record",
                )
            held = len(buf) - pos  # characters: never more than the record's UTF-8 bytes
            if held > limit:
                raise too_large(name, line, limit)
            buf = buf[pos:] + chunks.read(max(CHUNK, min(held, limit + 1 - held)))
            pos = lpos = 0
        raw = buf[pos:end]
        if lead is not None and lead != element_indent(raw):
            raw = lead + raw  # an element indented unlike its closing line: its own indentation kept
        if problem is None and chunks.bad_utf8:
            problem = _undecodable(name, line, raw)
        if problem is None and type(obj) is not dict:
            problem = _not_object(name, line, obj)
        if problem is None:
            problem = _lone_surrogate(name, line, raw, obj)
        yield line, raw, obj if problem is None else problem
        pos = end
        expect_value = after_comma = False
    pos += 1
    if wrapper:
        _rest_of_wrapper(name, chunks, buf[pos:], line + buf.count("\n", lpos, pos), limit)
        return
    end_text = ""
    while True:
        start = pos
        pos = ws(buf, pos).end()
        if len(end_text) <= JSON_END_KEPT:
            end_text += buf[start:pos]
        if pos < len(buf):
            raise fail(pos, "unexpected data after the closing ']' of the array", "remove it, or split the file")
        if chunks.eof:
            if on_end is not None:
                on_end(end_text if len(end_text) <= JSON_END_KEPT else "\n")
            return
        line += buf.count("\n", lpos, pos)
        buf = chunks.read(CHUNK)
        pos = lpos = 0


def _rest_of_wrapper(name: str, chunks: Chunks, rest: str, line: int, limit: int) -> None:
    """Read the wrapper object to its end after the records: its other keys carry no records, but a
    file cut or damaged after them must be refused like any other (the records alone would look
    complete). `rest` starts right after the records' ']', on `line`."""
    while not chunks.eof:
        if len(rest) > limit:
            raise too_large(name, line, limit, "the rest of the top-level object after the records is")
        rest += chunks.read(CHUNK)
    bad = _undecodable(name, line, rest) if chunks.bad_utf8 else None
    if bad is not None:
        raise bad
    head = '{"": 0'  # the object the rest closes, with the records' key standing in
    text = head + rest
    try:
        _, end = PLAIN.raw_decode(text)
    except json.JSONDecodeError as e:
        at = line + rest.count("\n", 0, max(e.pos - len(head), 0))
        if e.msg.startswith("Unterminated string") or not text[e.pos :].strip():
            raise InputError(name, at, "the file ends before the top-level object is closed", TRUNCATED_TODO) from None
        raise InputError(
            name, at, f"malformed JSON after the records: {_says(e)}", "fix the JSON at that line"
        ) from None
    except RecursionError:
        raise _nesting(name, line) from None
    extra = _WS.match(text, end).end()  # type: ignore[union-attr]
    if extra < len(text):
        raise InputError(
            name,
            line + rest.count("\n", 0, extra - len(head)),
            "unexpected data after the closing '}' of the top-level object",
            "remove it, or split the file",
        )


def csv_records(
    name: str, stream: IO[bytes], progress: Progress, on_header: Callable[[str, list[str]], None], limit: int
) -> Iterator[Item]:
    """Rows as dicts keyed by the header; raw is the row's exact text, embedded newlines included."""
    if csv.field_size_limit() < 1 << 30:
        csv.field_size_limit(1 << 30)  # process-wide; the default 128 KiB cell would refuse long answers
    pending: list[str] = []
    bad_lines: list[int] = []

    held = [0]  # bytes of the row read so far (a quoted field can span lines)

    def lines() -> Iterator[str]:
        n = 0
        readline = stream.readline
        while data := readline(limit + 2):
            n += 1
            progress.bytes_read += len(data)
            held[0] = held[0] + len(data) if pending else len(data)
            if held[0] > limit and (len(pending) > 0 or len(data.rstrip(b"\r\n")) > limit):
                raise too_large(name, start, limit, "CSV row")
            try:
                text = data.decode()
            except UnicodeDecodeError:
                text = data.decode(errors="replace")
                bad_lines.append(n)
            pending.append(text)
            yield text

    reader = csv.reader(lines(), strict=True)
    header: list[str] | None = None
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            text = "".join(pending).rstrip("\r\n")
            pending.clear()
            row_start, start = start, reader.line_num + 1
            if "unexpected end of data" in str(e):
                problem = InputError(
                    name,
                    row_start,
                    "unbalanced quote: a quoted field in the row starting here never closes",
                    'close the quote, or double a quote inside a field ("")',
                )
            else:
                # Named by the row's first line: a quote opened there may run on for many lines
                # before the csv module trips over something (the line it tripped on is given too).
                at = f" (on line {reader.line_num})" if reader.line_num != row_start else ""
                problem = InputError(
                    name,
                    row_start,
                    f"malformed CSV in the row starting here{at}: {e}",
                    'quote fields that hold the delimiter, double inner quotes ("")',
                )
            if header is None:
                raise problem from None
            yield row_start, text, problem
            continue
        text = "".join(pending).rstrip("\r\n")
        pending.clear()
        row_start, start = start, reader.line_num + 1
        if not row:
            continue  # a blank line
        if header is None:
            if bad_lines and bad_lines[-1] >= row_start:
                # The header names the columns every row is read by: a damaged one is a
                # damaged file, not a record to skip.
                raise InputError(name, bad_lines[-1], "invalid UTF-8 in the header row", UTF8_TODO)
            if len(set(row)) != len(row):
                dup = next(c for c in row if row.count(c) > 1)
                raise InputError(
                    name, row_start, f"the header names the column {dup!r} twice", "rename one of the columns"
                )
            header = row
            on_header(text, row)
            continue
        if bad_lines and bad_lines[-1] >= row_start:
            yield row_start, text, InputError(name, bad_lines[-1], "invalid UTF-8", UTF8_TODO + "; or " + SKIP_HINT)
            continue
        if len(row) != len(header):
            yield (
                row_start,
                text,
                InputError(
                    name,
                    row_start,
                    f"the row has {len(row)} fields but the header has {len(header)}",
                    "quote fields that contain the delimiter or a newline; " + SKIP_HINT,
                ),
            )
            continue
        yield row_start, text, dict(zip(header, row, strict=True))
    if header is None:
        raise InputError(name, 1, "the CSV file has no header row", "the first row must name the columns")


def _pyarrow_parquet(name: str) -> Any:
    try:
        import pyarrow.parquet as pq  # optional: only Parquet needs it
    except ImportError:
        raise InputError(
            name,
            None,
            "reading Parquet needs the optional pyarrow package, which is not installed",
            "pip install 'winnow-review[parquet]' (or pip install pyarrow), or convert the file to JSON lines",
        ) from None
    return pq


def _json_faithful(t: Any) -> bool:
    """Does a value of this Arrow type survive JSON and back (export rebuilds rows from JSON)?"""
    import pyarrow as pa

    if pa.types.is_dictionary(t):
        return _json_faithful(t.value_type)
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return _json_faithful(t.value_type)
    if pa.types.is_struct(t):
        return all(_json_faithful(t.field(i).type) for i in range(t.num_fields))
    return bool(
        pa.types.is_string(t)
        or pa.types.is_large_string(t)
        or pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_boolean(t)
        or pa.types.is_null(t)
    )


def parquet_schema(name: str, path: str) -> str:
    """The file's Arrow schema as text (base64 of its IPC serialisation), kept with the source so
    that export writes the kept rows back with it. Refuses a column whose values JSON cannot carry
    (bytes, timestamps, decimals…), naming it: its rows could not be written back as they were."""
    import base64

    pq = _pyarrow_parquet(name)
    try:
        schema = pq.read_schema(path)
    except (OSError, ValueError) as e:
        raise InputError(name, None, f"the Parquet file cannot be read ({e})", "re-export it") from None
    for field in schema:
        if not _json_faithful(field.type):
            raise InputError(
                name,
                None,
                f"column {field.name!r} is {field.type}, which winnow cannot carry through review and back unchanged",
                f"drop or convert the column first, e.g. with pyarrow or duckdb (SELECT * EXCLUDE ({field.name}))",
            )
    return base64.b64encode(schema.serialize().to_pybytes()).decode("ascii")


def parquet_records(name: str, path: str, progress: Progress, total: int, limit: int) -> Iterator[Item]:
    """Rows of a Parquet file; raw is the row as JSON, line is the 1-based row number.

    A row whose JSON is larger than `limit` is refused. pyarrow decodes a row group's column
    chunks before any row is seen, so for Parquet memory follows the file's row-group size, which
    winnow does not bound: one row group at a time is held, turned into rows 256 at a time (the
    hub writes row groups of a few hundred MB at most)."""
    pq = _pyarrow_parquet(name)
    try:
        pf = pq.ParquetFile(path, buffer_size=1 << 20)  # buffered reads: not the whole file at once
        rows = max(pf.metadata.num_rows, 1)
        n = 0
        # One row group at a time, released before the next: iter_batches kept every group's
        # buffers until the end (Arrow memory grew with the file: 120 MB for a 123 MB file).
        for group in range(pf.num_row_groups):
            table = pf.read_row_group(group, use_threads=False)
            for batch in table.to_batches(max_chunksize=256):
                for row in batch.to_pylist():
                    n += 1
                    raw = json.dumps(row, ensure_ascii=False, default=str)
                    if len(raw) > limit:
                        raise too_large(name, n, limit)
                    yield n, raw, row
                progress.bytes_read = total * n // rows
            del table
    except (OSError, ValueError) as e:  # pyarrow raises ArrowInvalid (a ValueError) and OSError subclasses
        raise InputError(name, None, f"the Parquet file cannot be read ({e})", "re-export it") from None
