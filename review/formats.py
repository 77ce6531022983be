"""The write side of containers: export puts records back in the layout they came from.

Records travel as their original text (`raw`), so an exported record is byte-for-byte the record
that was imported; only the glue between records (newlines, the array's brackets and commas) is
written here. Compression is the caller's business: "jsonl.gz" is written as plain JSON lines to
whatever text handle it passes. Parquet sources export as JSON lines (their raw text is each row
as JSON), so give that file a .jsonl name: see export_suffix.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TextIO

CONTAINERS = ("jsonl", "jsonl.gz", "json", "json.gz", "csv", "parquet")


def _layout(container: str) -> str:
    if container not in CONTAINERS:
        raise ValueError(f"unknown container {container!r}; expected one of {', '.join(CONTAINERS)}")
    base = container.removesuffix(".gz")
    return "jsonl" if base == "parquet" else base


def export_suffix(container: str) -> str:
    """The file extension an export of this container should carry: '.jsonl', '.json' or '.csv'."""
    return "." + _layout(container)


def write_records(fh: TextIO, container: str, raws: Iterable[str], header: str | None) -> int:
    """Write raw records in the container's own layout; return how many were written.

    jsonl: one record per line. json: a JSON array '[\\n' + ',\\n'.join(raws) + '\\n]\\n', each
    element's text as imported. csv: the header line, then each row's text (rows with quoted
    newlines keep them). Streams: `raws` may be a generator over millions of records. Open a CSV
    target with newline="" so the rows' own line endings pass through untranslated.
    """
    layout = _layout(container)
    n = 0
    if layout == "jsonl":
        for raw in raws:
            fh.write(raw)
            fh.write("\n")
            n += 1
        return n
    if layout == "json":
        fh.write("[")
        for raw in raws:
            fh.write("\n" if n == 0 else ",\n")
            fh.write(raw)
            n += 1
        fh.write("\n]\n" if n else "]\n")
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
