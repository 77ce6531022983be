"""Export what a goal kept, in the input's own format, with a manifest that traces it.

The kept records are written exactly as they were imported (the raw text of each record), in
the container layout of their source (JSONL lines, a JSON array, CSV rows). Two exceptions, both
keeping the record's value: in JSON lines, a record whose text holds a line break is put on one
line (review/formats.py one_line), so a line is always exactly one record; with --tags, a record
that already has a `winnow_tags` key (or its CSV header that column) gets that value replaced.

Safety, in the order export() works:
- Everything read from the project — the kept records, the counts, the log position, the sample
  ids recorded in export_items — comes from ONE read snapshot (a WAL read transaction, held while
  the data files are written): a decision committed by another process meanwhile is in none of
  them, and the manifest's decision_log_position replays to exactly the exported set.
- Refusals first, nothing written: an existing output that is not a regular file (a FIFO, a
  device, a socket, or a symlink to one) is refused even with force=True. an output (the name given, each data file, the manifest) that is
  the project file, its -wal/-shm/-journal/.lock (beside the resolved file and beside the path
  as given: opened through a symlink, the lock is the link's), or an imported source still at its recorded
  path — compared by resolved path and, where the file exists, by (st_dev, st_ino), so a symlink,
  a hard link or `./` is caught. An existing file is replaced only with force=True, unless it is
  winnow's own earlier export to that place (named, with its current sha256, by the manifest
  beside it or by the manifest of an interrupted export).
- A data file named after its source (`-o k.jsonl` with two layouts: k.a.jsonl, k.b.csv) takes
  from the source's name only printable characters that are no path separator, 64 at most; a
  kept sample of a source the project does not list, or of a layout winnow never imports, or a
  source whose stored header is not what its importer keeps (one CSV header row; whitespace
  after a JSON array's ']') is refused (a project file changed outside winnow): the header goes
  out unverified, so a second line in it would be a record nobody reviewed.
- Every kept record's raw text is parsed again, as the importer parsed it, and must give the
  stored conversation and hashes (what the reviewer saw), and a JSONL source's record must still
  be one line; otherwise the export is refused listing the samples. Nothing in export reads a source file again (a CSV header is the stored one).
- Every file (data files and the manifest) is written to a temporary beside its target, created
  with the mode a plain open() gives (0666 & ~umask) and named `.NAME.winnow-PID-HEX.tmp`, then
  fsynced. Then the previous manifest is moved aside, the data files are renamed into place, and
  the manifest — which names each data file's sha256 and record count — is renamed LAST. A kill
  at any moment leaves either the previous export with its manifest, or files without a manifest
  (interrupted), or the new export with its manifest; a manifest always matches the files it names.
- Temporaries of a killed export (dead PID in the name) are removed by the next export to the same
  place; an error path never leaves one. Nothing else is ever removed: older winnow versions named
  theirs like mkstemp (`.NAME.XXXXXXXX.tmp`), which a user's own file can match, so those stay.
"""

from __future__ import annotations

import contextlib
import csv
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .. import __version__
from ..model import Conversation, Goal, Source
from ..store import Store, now, stored_tags
from .errors import ExportError, ExportWouldReplace
from .files import TMP_TAG, _create_tmp, _fsync_dir, _sha256, _stale_tmps, _write_atomic, _write_json_tmp
from .guard import _check_replace, _protected, _real, _refuse_not_regular, _refuse_protected
from .pref import REWRITTEN, expected, rewrite
from .tags import TAGS_KEY, _csv_lines, with_tags
from .verify import _Verifier, header_problem

__all__ = [
    "STEP_HOOK",
    "TAGS_KEY",
    "TMP_TAG",
    "ExportChanges",
    "ExportError",
    "ExportReport",
    "ExportWouldReplace",
    "changes_since",
    "export",
    "exports",
    "last_export",
    "with_tags",
]

# Test seam (like Store.connection_class): called with the name of each step of writing an export,
# so a test can kill the process between any two of them. Steps: "temporaries written",
# "previous manifest moved aside", "data file renamed" (once per file), "manifest renamed".
STEP_HOOK: Callable[[str], None] | None = None


def _step(name: str) -> None:
    if STEP_HOOK is not None:
        STEP_HOOK(name)


@dataclass(frozen=True)
class ExportReport:
    files: tuple[Path, ...]
    manifest: Path
    kept: int
    per_file: tuple[int, ...]
    export_id: int = 0


_EXT = {"jsonl": ".jsonl", "json": ".json", "csv": ".csv", "parquet": ".parquet"}


def _base_container(container: str) -> str:
    # Parquet rows are stored as JSON objects; they go out as Parquet with the source's schema
    # (kept as the source's header), shards of one schema into one file.
    return container.removesuffix(".gz")


def _kept_ids(store: Store, goal_id: int) -> list[int]:
    return [r[1] for r in store.kept_raw_by_source(goal_id)]


# ------------------------------------------------------------------ export
# What the output may not be: guard.py; what the reviewer saw: verify.py; temporaries and
# renames: files.py; --tags: tags.py.


def export(
    store: Store,
    goal: Goal,
    out: str | Path,
    *,
    tags: bool = False,
    to: str | None = None,
    force: bool = False,
    undecided: bool = False,
) -> ExportReport:
    """Write the kept samples of `goal` to `out` plus a manifest, and record the export.

    Without `to`, records go out exactly as imported, one file per source layout. With `to`
    (alpaca | sharegpt | openai) every kept sample is converted to that layout (records already in
    it go out verbatim); if any cannot be converted without loss, nothing is written and the error
    lists them. An existing output file is replaced only with `force` (or when it is this place's
    previous winnow export); the project, its side files, imported sources and anything that is
    not a regular file never are. Everything read from the project is one snapshot of it.
    With `undecided` the samples not decided under the goal are written too, among the kept ones
    in source then file order; the manifest counts them apart (`counts.written_undecided`), and
    export_items records every sample written.
    """
    out = Path(out)
    if not out.parent.exists():
        raise ExportError(f"{out.parent}: no such folder — create it first")
    # One read snapshot from the first read to the last: what the data files hold, the manifest
    # says and export_items records is the same state of the project.
    with store.read_snapshot():
        written, manifest_tmp, manifest, kept_ids = _write_temporaries(store, goal, out, tags, to, force, undecided)
    manifest_path = out.with_name(out.name + ".manifest.json")
    _commit(written, manifest_tmp, manifest_path, out.parent)
    eid = store.add_export(
        goal.id,
        manifest["exported_at"],
        manifest["decision_log_position"],
        manifest["files"],
        str(manifest_path),
        kept_ids,
    )
    return ExportReport(
        tuple(p for _, p, _, _, _ in written),
        manifest_path,
        sum(n for _, _, n, _, _ in written),
        tuple(n for _, _, n, _, _ in written),
        eid,
    )


# (temporary, path, records, sha256, bytes) of each data file written
_Written = list[tuple[Path, Path, int, str, int]]


def _write_temporaries(
    store: Store, goal: Goal, out: Path, tags: bool, to: str | None, force: bool, undecided: bool = False
) -> tuple[_Written, Path, dict, list[int]]:
    """Inside the read snapshot: the refusals, then every data file and the manifest written to
    temporaries. Returns (data files written, the manifest's temporary, the manifest, the kept
    sample ids); on any error no temporary is left."""
    from ..formats import write_records

    compress = out.suffix == ".gz"
    sources = {s.id: s for s in store.sources()}
    kept_sources = store.kept_source_ids(goal.id, undecided=undecided)
    if not kept_sources:
        if undecided:
            raise ExportError(f"goal #{goal.id}: every sample is dropped — nothing to write")
        raise ExportError(f"goal #{goal.id} has no kept samples yet — keep some in `winnow open`, then export")

    _refuse_unknown_sources(store, kept_sources, sources, converted=to is not None)
    verifier = _Verifier(store, sources)
    targets: list[tuple[Path, str, str | None, Callable[[], Iterator[str]]]] = []
    if to is not None:
        layout = _converted_container(out)
        targets.append(
            (out, layout, None, _converted_records(store, goal, sources, to, tags, verifier, layout, undecided))
        )
    else:
        groups: dict[tuple[str, str | None], list[int]] = {}
        for sid in kept_sources:
            container = _base_container(sources[sid].container)
            header = store.source_header(sid) if container in ("csv", "parquet") else None
            groups.setdefault((container, header), []).append(sid)
        # A JSON array ends as its (first) source did: its header is the text after its ']'.
        json_ends = {key: store.source_header(sids[0]) for key, sids in groups.items() if key[0] == "json"}
        for (container, header), sids in groups.items():
            if container == "parquet" and compress:
                raise ExportError(f"{out}: Parquet is compressed inside — name the output .parquet, not .gz")
            if len(groups) == 1:
                path = out
            else:
                stem = out.name.removesuffix(".gz").removesuffix(out.suffixes[0] if out.suffixes else "")
                label = _file_label(sources[sids[0]].name) if len(sids) == 1 else container
                path = out.with_name(f"{stem}.{label}{_EXT[container]}" + (".gz" if compress else ""))
            hdr, column = header, None
            if tags and header is not None and container == "csv":
                columns = next(csv.reader(_csv_lines(header)), [])
                if TAGS_KEY in columns:  # a file exported with --tags, imported again: that column is replaced
                    column = columns.index(TAGS_KEY)
                else:
                    hdr = f"{header},{TAGS_KEY}"
            records = _raw_records(store, goal.id, container, set(sids), tags, column, verifier, sources, undecided)
            if container == "json":
                hdr = json_ends[(container, header)]
            targets.append((path, container, hdr, records))

    manifest_path = out.with_name(out.name + ".manifest.json")
    data_paths = [t[0] for t in targets]
    if len({_real(p) for p in [*data_paths, manifest_path]}) != len(data_paths) + 1:
        raise ExportError(f"{out}: two of the files this export writes would be the same file — choose another name")
    protected = _protected(store, sources)
    # `out` too: with two layouts it is only the stem of the data files' names, yet `-o p.db`
    # naming the project is a mistake to refuse, not to write p.a.jsonl beside it.
    for p in [out, *data_paths, manifest_path]:
        _refuse_protected(p, protected)
    for p in [*data_paths, manifest_path]:
        _refuse_not_regular(p)
    _check_replace(data_paths, manifest_path, force)
    for p in [*data_paths, manifest_path]:
        for stale in _stale_tmps(p):
            stale.unlink(missing_ok=True)

    written: _Written = []
    try:
        for path, container, hdr, records in targets:

            def write(
                fh: TextIO, c: str = container, r: Callable[[], Iterator[str]] = records, h: str | None = hdr
            ) -> int:
                return write_records(fh, c, r(), h)

            tmp, n = _write_atomic(path, compress, write)
            written.append((tmp, path, n, _sha256(tmp), tmp.stat().st_size))
        verifier.refuse_if_any()

        # The same snapshot as the records just written: ids, counts and log position agree with them.
        position = store.log_position()
        kept_ids: list[int] = []
        by_source: dict[str, list[int]] = {}
        for source_id, sample_id, _raw, _t in store.kept_raw_by_source(goal.id, undecided=undecided):
            kept_ids.append(sample_id)
            by_source.setdefault(str(source_id), []).append(sample_id)
        previous = last_export(store, goal.id)
        counts = store.counts(goal.id)
        undecided_written = len(kept_ids) - counts.kept if undecided else 0
        prefs = store.pref_counts(goal.id)
        from ..figures import goal_figures, to_json
        from ..goals import revisions

        files = [
            {"path": str(p), "records": n, "sha256": h, "bytes": size, "layout": to or "as imported"}
            for _, p, n, h, size in written
        ]
        manifest = {
            "winnow": __version__,
            "exported_at": now(),
            "project": str(store.path.resolve()),
            "goal": {
                "id": goal.id,
                "sentence": goal.sentence,
                "hypothesis": goal.hypothesis,
                "revisions": [r.__dict__ for r in revisions(store, goal.id)],
            },
            "decision_log_position": position,
            "previous_export": previous,
            "files": files,
            "check": "each file's sha256 and record count are above; if a file disagrees, or this manifest is "
            "missing, the export was interrupted — run it again",
            "sources": [
                {
                    "id": s.id,
                    "path": s.path,
                    "sha256": s.sha256,
                    "format": s.format,
                    "container": s.container,
                    "records": s.records,
                }
                for s in sources.values()
            ],
            "counts": {
                "total": counts.total,
                "kept": counts.kept,
                "dropped": counts.dropped,
                "undecided": counts.undecided,
                # written beside the kept ones (--include undecided); 0 without it
                "written_undecided": undecided_written,
                "dropped_by_reason": counts.by_reason,
                "by_tag": counts.by_tag,
                # Preference decisions (issue 15): kept pairs written with chosen and rejected
                # exchanged, kept KTO records written with the label flipped, and pairs dropped as
                # both bad (in "dropped", under their drop reason, and counted here apart).
                "swapped": prefs.get("swapped", 0),
                "label_flipped": prefs.get("flipped", 0),
                "both_bad": prefs.get("both-bad", 0),
            },
            "figures": to_json(goal_figures(store, goal.id)),
            "tags_included": tags,
            "kept_sample_ids_by_source": by_source,
            "trace": "every kept sample's decisions: `sqlite3 PROJECT \"select * from events where goal_id = "
            f'{goal.id} and action_id <= {position}"`',
        }
        manifest_tmp = _write_json_tmp(manifest_path, manifest)
    except BaseException:
        for tmp, *_ in written:
            tmp.unlink(missing_ok=True)
        raise
    return written, manifest_tmp, manifest, kept_ids


def _refuse_unknown_sources(
    store: Store, kept_sources: list[int], sources: dict[int, Source], *, converted: bool
) -> None:
    """Every source a written sample comes from is one the project lists, and (unless the export
    converts) in a layout export writes or add_conversations' `generated`, with the header text
    its importer stores (verify.header_problem): a project file changed outside winnow may name
    others (a KeyError before), or carry a CSV header with rows in it that nobody reviewed."""
    for sid in kept_sources:
        source = sources.get(sid)
        if source is None:
            raise ExportError(
                f"{store.path}: samples to export name source #{sid}, which the project does not list (the file was "
                "changed outside winnow) — nothing was written; re-import the data files into a fresh project"
            )
        container = _base_container(source.container)
        if not converted and container not in _EXT and container != "generated":
            raise ExportError(
                f"{store.path}: source #{sid} ({source.name}) is stored as {container!r}, a layout winnow never imports "
                f"(the file was changed outside winnow) — nothing was written; re-import {source.name} into a fresh "
                "project"
            )
        problem = None if converted else header_problem(container, store.source_header(sid))
        if problem:
            raise ExportError(
                f"{store.path}: source #{sid} ({source.name}): {problem} (the file was changed outside winnow) — "
                f"nothing was written; re-import {source.name} into a fresh project"
            )


# What a data file's name may take from its source's name: the part before the first dot, its
# characters that are printable and no path separator, at most this many.
_LABEL_CHARS = 64


def _file_label(name: str) -> str:
    """The part of a data file's name that tells its source (`p.a.jsonl` for a.jsonl): a source
    name is data from the project file, so a separator, a control or bidi character, or a name
    too long for the file system never reaches the file name (they made a traceback, or a file
    whose name holds ESC)."""
    stem = name.split(".")[0]
    return "".join(c if c.isprintable() and c not in "/\\" else "_" for c in stem)[:_LABEL_CHARS]


def _commit(written: _Written, manifest_tmp: Path, manifest_path: Path, folder: Path) -> None:
    """Put the temporaries in place: the old manifest goes aside first (a kill from here on leaves
    no manifest claiming files it does not describe), the data files go into place, the manifest
    LAST. On an error the temporaries go (and the previous manifest back, if nothing was replaced)."""
    pending = [tmp for tmp, *_ in written] + [manifest_tmp]  # temporaries to remove if anything fails
    renamed = 0
    aside: Path | None = None
    try:
        _step("temporaries written")
        if os.path.lexists(manifest_path):
            fd, aside = _create_tmp(manifest_path)
            os.close(fd)
            pending.append(aside)
            os.replace(manifest_path, aside)
            _step("previous manifest moved aside")
        for tmp, path, _, _, _ in written:
            os.replace(tmp, path)
            pending.remove(tmp)
            renamed += 1
            _step("data file renamed")
        _fsync_dir(folder)
        os.replace(manifest_tmp, manifest_path)
        pending.remove(manifest_tmp)
        _fsync_dir(folder)
        _step("manifest renamed")
        if aside is not None:
            aside.unlink(missing_ok=True)
            pending.remove(aside)
    except BaseException:
        if aside is not None and renamed == 0 and not os.path.lexists(manifest_path):
            with contextlib.suppress(OSError):  # nothing replaced yet: the previous manifest goes back
                os.replace(aside, manifest_path)
        for tmp in pending:
            tmp.unlink(missing_ok=True)
        raise


def _tags_of(sample_id: int, tags_json: str | None) -> list[str]:
    """A decision's tags as stored; damaged ones (a file changed outside winnow) refuse the export."""
    tags = stored_tags(tags_json)
    if tags is None:
        raise ExportError(
            f"sample #{sample_id}: its tags in the project file are not a list of tag names (the file was changed "
            "outside winnow) — nothing was written; export without --tags, or re-import the source into a "
            "fresh project"
        )
    return list(tags)


def _on_one_line(sample_id: int, rec: str) -> str:
    """A JSONL record on one line (formats.one_line), a failure named by its sample."""
    from ..formats import one_line

    try:
        return one_line(rec)
    except ValueError as e:
        raise ExportError(
            f"sample #{sample_id}: its record spans several lines and cannot be written as one JSON line ({e}) — "
            "nothing was written; export to a .json file instead, or drop that sample"
        ) from e


def _raw_records(
    store: Store,
    goal_id: int,
    container: str,
    sids: set[int],
    tags: bool,
    column: int | None,
    verifier: _Verifier,
    sources: dict,
    undecided: bool = False,
) -> Callable[[], Iterator[str]]:
    headers: dict[int, str | None] = {}

    def records() -> Iterator[str]:
        for row in store.kept_rows(goal_id, undecided=undecided):
            source_id, sample_id, rec, tags_json = row[:4]
            if source_id in sids and verifier.ok(row):
                if row[13] in REWRITTEN:  # kept swapped / label flipped: written so, checked again
                    if container == "csv" and source_id not in headers:
                        headers[source_id] = store.source_header(source_id)
                    rec = rewrite(rec, container, sources[source_id], row[13], sample_id, headers.get(source_id))
                    if not verifier.ok_rewritten(row, rec):
                        continue
                if tags:
                    rec = with_tags(rec, container, _tags_of(sample_id, tags_json), column)
                yield _on_one_line(sample_id, rec) if container == "jsonl" else rec

    return records


def _converted_container(out: Path) -> str:
    name = out.name.removesuffix(".gz")
    return "json" if name.endswith(".json") else "jsonl"


def _converted_records(
    store: Store,
    goal: Goal,
    sources: dict,
    to: str,
    tags: bool,
    verifier: _Verifier,
    container: str,
    undecided: bool = False,
) -> Callable[[], Iterator[str]]:
    from ..convert import TARGETS, LossyConversion, convert, unconverted_fields
    from ..importers.schemas import field_names

    if to not in TARGETS:
        raise ExportError(f"--to {to}: unknown layout; use one of {', '.join(TARGETS)}")
    # Check every record first: refuse the whole export rather than drop samples silently.
    problems = []
    for source_id, sample_id, raw, _t in store.kept_raw_by_source(goal.id, undecided=undecided):
        if sources[source_id].format == to:
            continue
        sample = store.sample(sample_id)
        assert sample is not None
        where = f"sample #{sample_id} ({sources[source_id].name}:{sample.line})"
        try:
            convert(sample.conversation, to)
        except LossyConversion as e:
            problems.append(f"{where} {e}")
            continue
        dropped = unconverted_fields(raw, field_names(sources[source_id].mapping))  # role tags name no field
        if dropped:
            problems.append(
                f"{where} carries {', '.join(dropped[:4])}{' …' if len(dropped) > 4 else ''}, which {to} would not"
                " carry — export it in its own layout (drop --to), or remove the fields first"
            )
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ExportError(
            f"cannot convert {len(problems)} kept samples to {to} without loss{more}:\n  " + "\n  ".join(problems[:5])
        )

    def records() -> Iterator[str]:
        for row in store.kept_rows(goal.id, undecided=undecided):
            source_id, sample_id, raw, tags_json = row[:4]
            if not verifier.ok(row):
                continue
            if sources[source_id].format == to and _base_container(sources[source_id].container) != "csv":
                rec = raw
                if row[13] in REWRITTEN:  # kept swapped / label flipped: written so, checked again
                    rec = rewrite(rec, "json", sources[source_id], row[13], sample_id)
                    if not verifier.ok_rewritten(row, rec):
                        continue
            else:
                stored = Conversation.from_stored(row[4], row[5], row[6], row[10], row[11], row[12])
                rec = convert(expected(stored, row[13]), to)
            if tags:
                rec = with_tags(rec, "jsonl", _tags_of(sample_id, tags_json))
            yield _on_one_line(sample_id, rec) if container == "jsonl" else rec

    return records


def last_export(store: Store, goal_id: int) -> dict | None:
    return store.last_export(goal_id)


@dataclass(frozen=True)
class ExportChanges:
    since: dict | None  # the previous export (None: never exported)
    added: tuple[int, ...]  # kept now, not in that export
    removed: tuple[int, ...]  # in that export, not kept now
    unchanged: int


def changes_since(store: Store, goal_id: int, export_id: int | None = None) -> ExportChanges:
    """What `winnow export --since` shows: how the kept set moved since an export (default: the last)."""
    if export_id is None:
        prev = last_export(store, goal_id)
    else:
        prev = store.export_of(goal_id, export_id)
        if prev is None:
            raise ExportError(f"no export #{export_id} of goal #{goal_id} — see `winnow export --list`")
    now_kept = set(_kept_ids(store, goal_id))
    then = set() if prev is None else store.exported_sample_ids(prev["id"])
    return ExportChanges(prev, tuple(sorted(now_kept - then)), tuple(sorted(then - now_kept)), len(now_kept & then))


def exports(store: Store, goal_id: int | None = None) -> list[dict]:
    return store.exports(goal_id)
