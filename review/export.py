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
from typing import IO

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


def _write_atomic(target: Path, compress: bool, write: Callable[[IO[str]], int]) -> tuple[Path, int]:
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


def export(
    store: Store,
    goal: Goal,
    out: str | Path,
    *,
    tags: bool = False,
) -> ExportReport:
    """Write the kept samples of `goal` to `out` (one file per source container) plus a manifest."""
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
    groups: dict[tuple[str, str | None], list[int]] = {}
    for sid in kept_sources:
        container = _base_container(sources[sid].container)
        header = store.source_header(sid) if container == "csv" else None
        groups.setdefault((container, header), []).append(sid)
    targets: list[tuple[Path, str, str | None, list[int]]] = []
    for (container, header), sids in groups.items():
        if len(groups) == 1:
            path = out
        else:
            stem = out.name.removesuffix(".gz").removesuffix(out.suffixes[0] if out.suffixes else "")
            label = sources[sids[0]].name.split(".")[0] if len(sids) == 1 else container
            path = out.with_name(f"{stem}.{label}{_EXT[container]}" + (".gz" if compress else ""))
        targets.append((path, container, header, sids))

    written: list[tuple[Path, Path, int, str]] = []
    try:
        for path, container, header, sids in targets:
            def records(container: str = container, sids: list[int] = sids) -> Iterator[str]:
                for source_id, _sample_id, rec, tags_json in store.kept_raw_by_source(goal.id):
                    if source_id in sids:
                        yield with_tags(rec, container, json.loads(tags_json)) if tags else rec

            hdr = header + ",winnow_tags" if (tags and header is not None) else header
            tmp, n = _write_atomic(
                path, compress, lambda fh, c=container, r=records, h=hdr: write_records(fh, c, r(), h)
            )
            written.append((tmp, path, n, _sha256(tmp)))
        for tmp, path, _, _ in written:
            os.replace(tmp, path)
    except BaseException:
        for tmp, _, _, _ in written:
            tmp.unlink(missing_ok=True)
        raise

    counts = store.counts(goal.id)
    manifest_path = out.with_name(out.name + ".manifest.json")
    manifest = {
        "winnow": __version__,
        "exported_at": now(),
        "project": str(store.path.resolve()),
        "goal": {"id": goal.id, "sentence": goal.sentence, "hypothesis": goal.hypothesis},
        "decision_log_position": store.log_position(),
        "files": [{"path": str(p), "records": n, "sha256": h} for _, p, n, h in written],
        "sources": [
            {"id": s.id, "path": s.path, "sha256": s.sha256, "format": s.format, "container": s.container,
             "records": s.records}
            for s in sources.values()
        ],
        "counts": {
            "total": counts.total, "kept": counts.kept, "dropped": counts.dropped, "undecided": counts.undecided,
            "dropped_by_reason": counts.by_reason, "by_tag": counts.by_tag,
        },
        "tags_included": tags,
    }
    _write_json_atomic(manifest_path, manifest)
    return ExportReport(tuple(p for _, p, _, _ in written), manifest_path, sum(n for _, _, n, _ in written),
                        tuple(n for _, _, n, _ in written))


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
