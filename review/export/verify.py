"""What the reviewer saw: each kept raw record parsed again as the importer did, checked against the stored conversation."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable

from ..model import Conversation, Source, conversation_hashes
from ..store import Store
from .errors import ExportError
from .tags import _csv_lines


def _generated_raw(conv: Conversation) -> str:
    """The raw text Store.add_conversations gives a generated record (an OpenAI `messages` object)."""
    messages = ([{"role": "system", "content": conv.system}] if conv.system else []) + [t.to_json() for t in conv.turns]
    return json.dumps({"messages": messages}, ensure_ascii=False)


class _Verifier:
    """Checks that a kept record's raw text still parses, as the importer parsed it, to the stored
    conversation and hashes: the conversation the reviewer was shown is the record written out."""

    def __init__(self, store: Store, sources: dict[int, Source]) -> None:
        self.store = store
        self.sources = sources
        self.parsers: dict[int, Callable[[str, Conversation], Conversation]] = {}
        self.bad: list[int] = []

    def _parser(self, source_id: int) -> Callable[[str, Conversation], Conversation]:
        if source_id in self.parsers:
            return self.parsers[source_id]
        from ..importers import schemas
        from ..importers.containers import STRICT

        src = self.sources[source_id]
        container = src.container.removesuffix(".gz")
        if container == "generated":

            def generated(raw: str, stored: Conversation) -> Conversation:
                if raw != _generated_raw(stored):
                    raise ValueError("raw differs")
                return stored

            parse = generated
        else:
            convert = schemas.converter(src.format, src.mapping)
            if container == "csv":
                header = self.store.source_header(source_id) or ""
                columns = next(csv.reader(_csv_lines(header), strict=True))

                def parse(raw: str, stored: Conversation) -> Conversation:
                    rows = [r for r in csv.reader(_csv_lines(raw), strict=True) if r]
                    if len(rows) != 1 or len(rows[0]) != len(columns):
                        raise ValueError("not one row of the header's width")
                    return convert(dict(zip(columns, rows[0], strict=True)))

            else:
                decoder = json.JSONDecoder() if container == "parquet" else STRICT
                # A JSONL record was one line of its file (the importer splits at each \n): a raw
                # holding a \n was changed since, e.g. to carry a second record on a line of its own.
                one_line = container == "jsonl"

                def parse(raw: str, stored: Conversation) -> Conversation:
                    if one_line and "\n" in raw:
                        raise ValueError("a JSON line holds a line break")
                    obj = decoder.decode(raw)
                    if type(obj) is not dict:
                        raise ValueError("not an object")
                    return convert(obj)

        self.parsers[source_id] = parse
        return parse

    def ok(self, row: tuple) -> bool:
        source_id, sample_id, raw, _tags, system, turns, tools, content_hash, prompt_hash, answer_hash = row[:10]
        rejected, label, media = row[10:13]
        try:
            stored = Conversation.from_stored(system, turns, tools, rejected, label, media)
            conv = self._parser(source_id)(raw, stored)
            h = conversation_hashes(conv)
            good = (
                conv.system == (system or "")
                and conv.turns_json() == turns
                and conv.tools == (tools or "")
                # a pair's rejected answer, a KTO label and media references are what was reviewed too
                and conv.rejected_json() == (rejected or "")
                and conv.label == (None if label is None else bool(label))
                and conv.media_json() == (media or "")
                and (h.content, h.prompt, h.answer) == (content_hash, prompt_hash, answer_hash)
            )
        except Exception:  # any failure to parse is a record that no longer matches
            good = False
        if not good:
            self.bad.append(sample_id)
        return good

    def ok_rewritten(self, row: tuple, rec: str) -> bool:
        """A record rewritten for its preference decision (pref.rewrite) parses to the reviewed
        conversation with exactly that change: a swapped pair's answers exchanged, a flipped
        record's label negated, everything else as stored. The record as imported was checked
        by ok() first; this checks the rewrite itself."""
        from .pref import expected

        source_id, sample_id = row[:2]
        system, turns, tools = row[4:7]
        rejected, label, media, pref = row[10:14]
        try:
            want = expected(Conversation.from_stored(system, turns, tools, rejected, label, media), pref)
            good = self._parser(source_id)(rec, want) == want
        except Exception:  # any failure to parse is a rewrite that went wrong
            good = False
        if not good:
            self.bad.append(sample_id)
        return good

    def refuse_if_any(self) -> None:
        if not self.bad:
            return
        ids = sorted(set(self.bad))
        shown = ", ".join(f"#{i}" for i in ids[:50]) + (f" and {len(ids) - 50} more" if len(ids) > 50 else "")
        raise ExportError(
            f"{len(ids)} kept samples no longer match what was imported and reviewed (their stored record or "
            f"conversation was changed outside winnow): {shown} — nothing was written; re-import the source into "
            "a fresh project, or drop those samples"
        )


def header_problem(container: str, header: str | None) -> str | None:
    """What is wrong with the text a source keeps beside its records, or None. Export writes it
    unchecked by the record verifier, so one changed outside winnow would go out unreviewed:
    a CSV header holding a second line is a row nobody kept (and the manifest does not count).
    The importer stores exactly one header row for a CSV, and for a JSON array the whitespace
    after its ']' (importers.containers.JSON_END_KEPT characters at most)."""
    from ..importers.containers import JSON_END_KEPT

    if container == "csv":
        try:
            rows = [r for r in csv.reader(_csv_lines(header or ""), strict=True) if r]
        except csv.Error:
            rows = []
        return None if len(rows) == 1 else "its CSV header is not one header row"
    if container == "json" and header is not None:
        if len(header) > JSON_END_KEPT or header.strip(" \t\r\n"):
            return "what it keeps after its JSON array's ']' is not the whitespace that followed it"
    return None
