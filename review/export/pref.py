"""Preference decisions on export (issue 15): a pair kept swapped is written with its chosen and
rejected values exchanged, a KTO record kept flipped with its label negated, each in its own
layout and without touching the record's other bytes; verify.py checks the rewritten record
parses to the reviewed conversation with that one change."""

from __future__ import annotations

import json
from dataclasses import replace

from ..model import Conversation, Source
from .errors import ExportError
from .tags import _member_spans

REWRITTEN = ("swapped", "flipped")


def expected(conv: Conversation, pref: str) -> Conversation:
    """The conversation a kept record with this preference decision must parse to once rewritten."""
    if pref == "swapped":
        prompt, chosen = conv.split()
        return replace(conv, turns=prompt + conv.rejected, rejected=chosen)
    if pref == "flipped":
        return replace(conv, label=None if conv.label is None else not conv.label)
    return conv


def rewrite(raw: str, container: str, source: Source, pref: str, sample_id: int, header: str | None = None) -> str:
    """The raw record with its swap or flip applied: the values of the layout's chosen and
    rejected keys exchanged where they stand, or the label's value negated where it stands. A
    CSV row (`header`: its source's header line) has its chosen and rejected cells exchanged, each
    cell's text (quotes included) moved whole; a label in a CSV cell is not rewritten."""
    if pref not in REWRITTEN:
        return raw
    if container == "csv":
        return _rewrite_csv(raw, source, pref, sample_id, header)
    members = _member_spans(raw)
    keys = (
        [str(source.mapping.get("chosen")), str(source.mapping.get("rejected"))]
        if pref == "swapped"
        else [str(source.mapping.get("label"))]
    )
    spans = {k: (a, b) for k, a, b in members or ()}
    if members is None or not all(k in spans for k in keys):
        raise ExportError(
            f"sample #{sample_id} is kept {pref}, but its record has no {' and '.join(keys)} to rewrite"
            " — nothing was written; undo that decision (u in the review, or winnow undo)"
        )
    if pref == "swapped":
        (a1, b1), (a2, b2) = sorted((spans[keys[0]], spans[keys[1]]))
        return raw[:a1] + raw[a2:b2] + raw[b1:a2] + raw[a1:b1] + raw[b2:]
    a, b = spans[keys[0]]
    value = json.loads(raw[a:b])
    if not isinstance(value, bool):
        raise ExportError(f"sample #{sample_id}: its label is not true or false — nothing was written")
    return raw[:a] + json.dumps(not value) + raw[b:]


def _rewrite_csv(raw: str, source: Source, pref: str, sample_id: int, header: str | None) -> str:
    import csv

    from .tags import _csv_lines, _csv_spans

    if pref != "swapped":
        raise ExportError(
            f"sample #{sample_id} is kept with its label flipped, which winnow does not rewrite in a CSV cell — "
            "nothing was written; undo that decision, or import the data as JSON"
        )
    columns = next(csv.reader(_csv_lines(header)), []) if header is not None else []
    names = [str(source.mapping.get("chosen")), str(source.mapping.get("rejected"))]
    spans = _csv_spans(raw)
    if spans is None or not all(n in columns for n in names) or max(columns.index(n) for n in names) >= len(spans):
        raise ExportError(
            f"sample #{sample_id} is kept swapped, but its CSV row has no {' and '.join(names)} cells to exchange"
            " — nothing was written; undo that decision (u in the review, or winnow undo)"
        )
    (a1, b1), (a2, b2) = sorted((spans[columns.index(names[0])], spans[columns.index(names[1])]))
    return raw[:a1] + raw[a2:b2] + raw[b1:a2] + raw[a1:b1] + raw[b2:]
