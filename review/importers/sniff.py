"""Work out what kind of file we were handed before reading any record.

Magic bytes beat file names: a gzip called .jsonl is read as gzip, an SQLite database called
.jsonl is refused by name. Text must be UTF-8; a UTF-8 byte-order mark is accepted and skipped
(Windows tools write one, and refusing would only annoy), UTF-16/32 is refused with the iconv line
that fixes it.
"""

from __future__ import annotations

import gzip
import json
import re
import shlex
import zlib
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError
from .source import SourceFile

HEAD = 64 * 1024
UTF8_BOM = b"\xef\xbb\xbf"
GZIP_MAGIC = b"\x1f\x8b"
SQLITE_MAGIC = b"SQLite format 3\x00"
PARQUET_MAGIC = b"PAR1"

# Binary formats people plausibly hand to a dataset tool by mistake: (magic, what, todo).
REFUSED = (
    (
        SQLITE_MAGIC,
        "this is an SQLite database, not a dataset file",
        "export the table as JSON lines first, e.g. sqlite-utils rows DB.sqlite TABLE --nl > data.jsonl",
    ),
    (b"PK\x03\x04", "this is a zip archive", "unzip it and import the JSON/JSONL/CSV file inside"),
    (b"\xfd7zXZ\x00", "this is xz-compressed", "decompress it first: xz -d FILE"),
    (b"BZh", "this is bzip2-compressed", "decompress it first: bunzip2 FILE"),
    (b"\x28\xb5\x2f\xfd", "this is zstd-compressed", "decompress it first: zstd -d FILE"),
)

# A pretty-printed object that wraps the records: {"data": [ ...
WRAPPER = re.compile(r'\{[ \t\r\n]*"((?:[^"\\]|\\.)*)"[ \t\r\n]*:[ \t\r\n]*\[')


@dataclass(frozen=True)
class Sniffed:
    container: str  # jsonl | jsonl.gz | json | json.gz | csv | parquet
    gzip: bool
    bom: bool  # a UTF-8 byte-order mark to skip
    wrapper: bool  # json: a top-level object whose first value is the list of records


def _complete_json_line(text: bytes) -> bool:
    """Whether the first line of `text` is a whole JSON value on its own (in the sniffed head)."""
    end = text.find(b"\n")
    if end < 0:
        return False
    try:
        json.loads(text[:end])
    except ValueError:
        return False
    return True


def sniff(source: SourceFile) -> Sniffed:
    """The container of an open file, from its first 64 KiB (read through the one descriptor)."""
    name = source.name
    head = source.pread(HEAD)
    if not head:
        raise InputError(name, 1, "the file is empty", "check that the download or export finished")
    for magic, what, todo in REFUSED:
        if head.startswith(magic):
            raise InputError(name, 1, what, todo)
    if head.startswith(PARQUET_MAGIC):
        return Sniffed("parquet", False, False, False)
    compressed = head.startswith(GZIP_MAGIC)
    if compressed:
        try:
            with gzip.GzipFile(fileobj=source.plain(), mode="rb") as unzipped:
                head = unzipped.read(HEAD)
        except (OSError, EOFError, zlib.error) as e:
            raise InputError(
                name, 1, f"the gzip data is corrupt or cut off ({e})", "re-download or re-compress the file"
            ) from None
        if not head:
            raise InputError(name, 1, "the file is empty (an empty gzip stream)", "check that the export finished")
        for magic, what, todo in REFUSED:
            if head.startswith(magic):
                raise InputError(name, 1, what + " (inside gzip)", todo)
    _check_encoding(name, head)
    bom = head.startswith(UTF8_BOM)
    text = head[3:] if bom else head
    stripped = text.lstrip(b" \t\r\n")
    if not stripped:
        if len(head) < HEAD:
            raise InputError(name, 1, "the file holds only whitespace, no records", "check that the export finished")
        raise InputError(name, 1, "the file starts with 64 KiB of whitespace", "remove the leading blank space")
    line = 1 + text[: len(text) - len(stripped)].count(b"\n")
    suffix = Path(name.removesuffix(".gz") if compressed else name).suffix.lower()
    if suffix == ".tsv":
        # Export writes records back in their source's layout and names the file .csv; a tab
        # layout would not survive that, so refuse rather than half-support it.
        raise InputError(name, None, "tab-separated files are not supported", "convert it to CSV or JSON lines first")
    if suffix == ".csv":
        if compressed:
            raise InputError(name, None, "gzip-compressed CSV is not supported", "decompress it first: gunzip FILE")
        return Sniffed("csv", False, bom, False)
    gz = ".gz" if compressed else ""
    first = stripped[:1]
    if first == b"[":
        if suffix in (".jsonl", ".ndjson") and _complete_json_line(stripped):
            # JSON lines whose first record is an array (not an object): let the reader refuse
            # that record by its line, instead of reading the file as one JSON array.
            return Sniffed("jsonl" + gz, compressed, bom, False)
        return Sniffed("json" + gz, compressed, bom, False)
    if first == b"{":
        lines = stripped.split(b"\n", 2)
        first_line = lines[0].strip()
        second = lines[1].strip() if len(lines) > 1 else b""
        opening = first_line.decode("utf-8", "replace")
        prefix = WRAPPER.match(opening)
        if prefix is not None and prefix.end() == len(opening):
            return Sniffed("json" + gz, compressed, bom, True)  # {"data": [ alone on the first line
        # A JSON-lines record is one whole line. A first line that does not close its object,
        # followed by a line that does not open one, starts a multi-line JSON document instead.
        if first_line.endswith(b"}") or len(lines) == 1 or second.startswith(b"{") or not second:
            return Sniffed("jsonl" + gz, compressed, bom, False)
        if WRAPPER.match(stripped[:4096].decode("utf-8", "replace")):
            return Sniffed("json" + gz, compressed, bom, True)
        raise InputError(
            name,
            line,
            "the file is one JSON object spread over several lines, not a list of records",
            "give a JSON array of records [...] or JSON lines, one object per line (jq -c . converts)",
        )
    shown = stripped[:1].decode("latin-1")
    raise InputError(
        name,
        line,
        f"not JSON, JSON lines or CSV: the first character is {shown!r}",
        "a JSON file starts with '[', a JSON lines file with '{'; CSV files need a .csv name",
    )


def _reencode(name: str, encoding: str) -> str:
    path = Path(name)
    target = path.with_name(f"{path.stem}.utf8{path.suffix}")
    return f"re-save as UTF-8, e.g. iconv -f {encoding} -t UTF-8 {shlex.quote(name)} > {shlex.quote(str(target))}"


def _check_encoding(name: str, head: bytes) -> None:
    if head.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")):
        raise InputError(name, 1, "the file is UTF-32", _reencode(name, "UTF-32"))
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError(
            name, 1, "the file is UTF-16 (it starts with a UTF-16 byte-order mark)", _reencode(name, "UTF-16")
        )
    if b"\x00" in head:
        sample = head[:4096]
        even, odd = sample[0::2], sample[1::2]
        # UTF-16 text in an ASCII-heavy language puts a NUL in every other byte.
        if even.count(0) > 0.4 * len(even):
            raise InputError(
                name, 1, "the file looks like UTF-16 (every other byte is NUL)", _reencode(name, "UTF-16BE")
            )
        if odd.count(0) > 0.4 * len(odd):
            raise InputError(
                name, 1, "the file looks like UTF-16 (every other byte is NUL)", _reencode(name, "UTF-16LE")
            )
        line = 1 + head[: head.index(b"\x00")].count(b"\n")
        raise InputError(
            name, line, "the file contains NUL bytes: it is binary, not JSON/JSONL/CSV text", "give a UTF-8 text file"
        )
