"""--tags: a `winnow_tags` key (JSON) or column (CSV) put into a raw record, replacing one it already has."""

from __future__ import annotations

import json

from .errors import ExportError

TAGS_KEY = "winnow_tags"  # the key (JSON) or column (CSV) --tags writes


def with_tags(raw: str, container: str, tags: list[str], column: int | None = None) -> str:
    """Give a raw record the sample's tags without touching its other bytes.

    JSON: a record that already has a top-level "winnow_tags" key (a file winnow exported with
    --tags, imported again) gets that key's value replaced where it stands; otherwise the key is
    added last. CSV: `column` is the index of the header's winnow_tags column, whose cell is
    replaced; None (no such column) appends a cell.
    """
    if container == "csv":
        cell = _csv_cell(";".join(tags))
        if column is None:
            return raw + "," + cell
        spans = _csv_spans(raw)
        if spans is None or column >= len(spans):
            raise ExportError(f"cannot put tags in column {column + 1} of a CSV row that does not have it")
        start, end = spans[column]
        return raw[:start] + cell + raw[end:]
    value = json.dumps(tags, ensure_ascii=False)
    members = _member_spans(raw)
    if members is None:
        raise ExportError("cannot add tags to a record that is not a JSON object")
    existing = [(start, end) for key, start, end in members if key == TAGS_KEY]
    if existing:
        for start, end in reversed(existing):
            raw = raw[:start] + value + raw[end:]
        return raw
    body = raw.rstrip()
    inner = body[:-1].rstrip()
    sep = "" if inner.endswith("{") else ", "
    return f"{inner}{sep}{json.dumps(TAGS_KEY)}: {value}}}"


_JSON_WS = " \t\n\r"


def _member_spans(text: str) -> list[tuple[str, int, int]] | None:
    """(key, start, end) of the value of each top-level member of a JSON object's text; None if
    the text is not one JSON object."""
    dec = json.JSONDecoder()
    n = len(text)

    def skip(i: int) -> int:
        while i < n and text[i] in _JSON_WS:
            i += 1
        return i

    i = skip(0)
    if i >= n or text[i] != "{":
        return None
    i = skip(i + 1)
    out: list[tuple[str, int, int]] = []
    if i < n and text[i] == "}":
        return out if skip(i + 1) == n else None
    try:
        while True:
            if i >= n or text[i] != '"':
                return None
            key, i = dec.raw_decode(text, i)
            i = skip(i)
            if i >= n or text[i] != ":":
                return None
            start = skip(i + 1)
            _, end = dec.raw_decode(text, start)
            out.append((key, start, end))
            i = skip(end)
            if i < n and text[i] == ",":
                i = skip(i + 1)
                continue
            return out if i < n and text[i] == "}" and skip(i + 1) == n else None
    except ValueError:
        return None


def _csv_spans(row: str) -> list[tuple[int, int]] | None:
    """(start, end) of each cell of one CSV row's text (the csv module's default dialect, which
    the importer reads); None if it is not one well-formed row."""
    spans = []
    i, n = 0, len(row)
    while True:
        start = i
        if i < n and row[i] == '"':
            i += 1
            while True:
                j = row.find('"', i)
                if j < 0:
                    return None
                if row.startswith('""', j):
                    i = j + 2
                    continue
                i = j + 1
                break
        else:
            j = row.find(",", i)
            i = n if j < 0 else j
        spans.append((start, i))
        if i == n:
            return spans
        if row[i] != ",":
            return None
        i += 1


def _csv_cell(s: str) -> str:
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\n\r') else s


def _csv_lines(text: str) -> list[str]:
    """Lines as the importer fed them to csv.reader: split after each \\n only."""
    parts = text.split("\n")
    return [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
