"""Export what a goal kept, in the input's own format, with a manifest that traces it.

The kept records are written exactly as they were imported (the raw text of each record), in
the container layout of their source (JSONL lines, a JSON array, CSV rows). Files are written to
a temporary name beside the target and renamed into place, so a crash never leaves half a file.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from . import __version__
from .model import Goal
from .store import Store, now


class ExportError(Exception):
    pass


@dataclass(frozen=True)
class ExportReport:
    files: tuple[Path, ...]
    manifest: Path
    kept: int
    per_file: tuple[int, ...]
    export_id: int = 0


_EXT = {"jsonl": ".jsonl", "json": ".json", "csv": ".csv", "parquet": ".jsonl"}


def _base_container(container: str) -> str:
    base = container.removesuffix(".gz")
    # Parquet rows are stored as JSON objects; they go out as JSONL (said in the manifest).
    return "jsonl" if base == "parquet" else base


def with_tags(raw: str, container: str, tags: list[str]) -> str:
    """Add the sample's tags to a raw record without touching its other bytes."""
    if container == "csv":
        return raw + "," + _csv_cell(";".join(tags))
    body = raw.rstrip()
    if not body.endswith("}"):
        raise ExportError("cannot add tags to a record that is not a JSON object")
    inner = body[:-1].rstrip()
    sep = "" if inner.endswith("{") else ", "
    return f"{inner}{sep}\"winnow_tags\": {json.dumps(tags, ensure_ascii=False)}}}"


def _csv_cell(s: str) -> str:
    return '"' + s.replace('"', '""') + '"' if any(c in s for c in ',"\n\r') else s


def _write_atomic(target: Path, compress: bool, write: Callable[[TextIO], int]) -> tuple[Path, int]:
    """Write through `write` into a temporary file beside target, fsynced; return (tmp, count)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            if compress:
                with gzip.open(raw, "wt", encoding="utf-8", newline="") as gz:
                    n = write(gz)  # type: ignore[arg-type]
            else:
                with open(raw.fileno(), "w", encoding="utf-8", newline="", closefd=False) as fh:
                    n = write(fh)
            raw.flush()
            os.fsync(raw.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp), n


def _kept_ids(store: Store, goal_id: int) -> list[int]:
    return [r[1] for r in store.kept_raw_by_source(goal_id)]


def export(
    store: Store,
    goal: Goal,
    out: str | Path,
    *,
    tags: bool = False,
    to: str | None = None,
) -> ExportReport:
    """Write the kept samples of `goal` to `out` plus a manifest, and record the export.

    Without `to`, records go out exactly as imported, one file per source layout. With `to`
    (alpaca | sharegpt | openai) every kept sample is converted to that layout (records already in
    it go out verbatim); if any cannot be converted without loss, nothing is written and the error
    lists them.
    """
    from .formats import write_records

    out = Path(out)
    if not out.parent.exists():
        raise ExportError(f"{out.parent}: no such folder — create it first")
    compress = out.suffix == ".gz"
    sources = {s.id: s for s in store.sources()}
    kept_sources = [sid for (sid,) in store.conn.execute(
        "SELECT DISTINCT s.source_id FROM decisions d JOIN samples s ON s.id = d.sample_id"
        " WHERE d.goal_id = ? AND d.verdict = 'keep' ORDER BY 1", (goal.id,)
    )]
    if not kept_sources:
        raise ExportError(f"goal #{goal.id} has no kept samples yet — keep some in `winnow open`, then export")

    targets: list[tuple[Path, str, str | None, Callable[[], Iterator[str]]]] = []
    if to is not None:
        targets.append((out, _converted_container(out), None, _converted_records(store, goal, sources, to, tags)))
    else:
        groups: dict[tuple[str, str | None], list[int]] = {}
        for sid in kept_sources:
            container = _base_container(sources[sid].container)
            header = store.source_header(sid) if container == "csv" else None
            groups.setdefault((container, header), []).append(sid)
        for (container, header), sids in groups.items():
            if len(groups) == 1:
                path = out
            else:
                stem = out.name.removesuffix(".gz").removesuffix(out.suffixes[0] if out.suffixes else "")
                label = sources[sids[0]].name.split(".")[0] if len(sids) == 1 else container
                path = out.with_name(f"{stem}.{label}{_EXT[container]}" + (".gz" if compress else ""))

            hdr = header + ",winnow_tags" if (tags and header is not None) else header
            targets.append((path, container, hdr, _raw_records(store, goal.id, container, set(sids), tags)))

    written: list[tuple[Path, Path, int, str]] = []
    try:
        for path, container, hdr, records in targets:

            def write(fh: TextIO, c: str = container, r: Callable[[], Iterator[str]] = records,
                      h: str | None = hdr) -> int:
                return write_records(fh, c, r(), h)

            tmp, n = _write_atomic(path, compress, write)
            written.append((tmp, path, n, _sha256(tmp)))
        for tmp, path, _, _ in written:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _, _, _ in written:
            tmp.unlink(missing_ok=True)
        raise

    kept_ids = _kept_ids(store, goal.id)
    previous = last_export(store, goal.id)
    counts = store.counts(goal.id)
    manifest_path = out.with_name(out.name + ".manifest.json")
    from .goals import goal_figures, revisions

    files = [{"path": str(p), "records": n, "sha256": h, "layout": to or "as imported"} for _, p, n, h in written]
    by_source: dict[str, list[int]] = {}
    for source_id, sample_id, _raw, _t in store.kept_raw_by_source(goal.id):
        by_source.setdefault(str(source_id), []).append(sample_id)
    manifest = {
        "winnow": __version__,
        "exported_at": now(),
        "project": str(store.path.resolve()),
        "goal": {"id": goal.id, "sentence": goal.sentence, "hypothesis": goal.hypothesis,
                 "revisions": [r.__dict__ for r in revisions(store, goal.id)]},
        "decision_log_position": store.log_position(),
        "previous_export": previous,
        "files": files,
        "sources": [
            {"id": s.id, "path": s.path, "sha256": s.sha256, "format": s.format, "container": s.container,
             "records": s.records}
            for s in sources.values()
        ],
        "counts": {
            "total": counts.total, "kept": counts.kept, "dropped": counts.dropped, "undecided": counts.undecided,
            "dropped_by_reason": counts.by_reason, "by_tag": counts.by_tag,
        },
        "figures": goal_figures(store, goal.id),
        "tags_included": tags,
        "kept_sample_ids_by_source": by_source,
        "trace": "every kept sample's decisions: `sqlite3 PROJECT \"select * from events where goal_id = "
                 f"{goal.id} and action_id <= {store.log_position()}\"`",
    }
    _write_json_atomic(manifest_path, manifest)
    with store.tx() as conn:
        eid = int(conn.execute(
            "INSERT INTO exports (goal_id, at, log_position, files, manifest, kept) VALUES (?, ?, ?, ?, ?, ?)",
            (goal.id, manifest["exported_at"], manifest["decision_log_position"], json.dumps(files, ensure_ascii=False),
             str(manifest_path), len(kept_ids)),
        ).lastrowid or 0)
        conn.executemany("INSERT INTO export_items (export_id, sample_id) VALUES (?, ?)", [(eid, i) for i in kept_ids])
    return ExportReport(tuple(p for _, p, _, _ in written), manifest_path, sum(n for _, _, n, _ in written),
                        tuple(n for _, _, n, _ in written), eid)


def _raw_records(store: Store, goal_id: int, container: str, sids: set[int], tags: bool) -> Callable[[], Iterator[str]]:
    def records() -> Iterator[str]:
        for source_id, _sample_id, rec, tags_json in store.kept_raw_by_source(goal_id):
            if source_id in sids:
                yield with_tags(rec, container, json.loads(tags_json)) if tags else rec

    return records


def _converted_container(out: Path) -> str:
    name = out.name.removesuffix(".gz")
    return "json" if name.endswith(".json") else "jsonl"


def _converted_records(store: Store, goal: Goal, sources: dict, to: str, tags: bool) -> Callable[[], Iterator[str]]:
    from .convert import TARGETS, LossyConversion, convert

    if to not in TARGETS:
        raise ExportError(f"--to {to}: unknown layout; use one of {', '.join(TARGETS)}")
    # Check every record first: refuse the whole export rather than drop samples silently.
    problems = []
    for source_id, sample_id, _raw, _t in store.kept_raw_by_source(goal.id):
        if sources[source_id].format == to:
            continue
        sample = store.sample(sample_id)
        assert sample is not None
        try:
            convert(sample.conversation, to)
        except LossyConversion as e:
            problems.append(f"sample #{sample_id} ({sources[source_id].name}:{sample.line}) {e}")
    if problems:
        more = f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        raise ExportError(f"cannot convert {len(problems)} kept samples to {to} without loss{more}:\n  "
                          + "\n  ".join(problems[:5]))

    def records() -> Iterator[str]:
        for source_id, sample_id, raw, tags_json in store.kept_raw_by_source(goal.id):
            if sources[source_id].format == to and _base_container(sources[source_id].container) != "csv":
                rec = raw
            else:
                sample = store.sample(sample_id)
                assert sample is not None
                rec = convert(sample.conversation, to)
            yield with_tags(rec, "jsonl", json.loads(tags_json)) if tags else rec

    return records


def last_export(store: Store, goal_id: int) -> dict | None:
    r = store.conn.execute(
        "SELECT id, at, log_position, manifest, kept FROM exports WHERE goal_id = ? ORDER BY id DESC LIMIT 1",
        (goal_id,),
    ).fetchone()
    return dict(zip(("id", "at", "log_position", "manifest", "kept"), r, strict=True)) if r else None


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
        r = store.conn.execute(
            "SELECT id, at, log_position, manifest, kept FROM exports WHERE id = ? AND goal_id = ?", (export_id, goal_id)
        ).fetchone()
        if not r:
            raise ExportError(f"no export #{export_id} of goal #{goal_id} — see `winnow export --list`")
        prev = dict(zip(("id", "at", "log_position", "manifest", "kept"), r, strict=True))
    now_kept = set(_kept_ids(store, goal_id))
    then = set() if prev is None else {r[0] for r in store.conn.execute(
        "SELECT sample_id FROM export_items WHERE export_id = ?", (prev["id"],))}
    return ExportChanges(prev, tuple(sorted(now_kept - then)), tuple(sorted(then - now_kept)), len(now_kept & then))


def exports(store: Store, goal_id: int | None = None) -> list[dict]:
    where, args = ("WHERE goal_id = ?", (goal_id,)) if goal_id else ("", ())
    return [
        dict(zip(("id", "goal_id", "at", "log_position", "kept", "manifest"), r, strict=True))
        for r in store.conn.execute(
            f"SELECT id, goal_id, at, log_position, kept, manifest FROM exports {where} ORDER BY id", args
        )
    ]


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_json_atomic(path: Path, data: dict) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
