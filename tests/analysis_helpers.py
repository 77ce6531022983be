"""Helpers for the analysis tests: a project from records, ids by record index, pair metrics."""

from __future__ import annotations

import json
from pathlib import Path

from review.store import Store

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"


def make_project(tmp_path: Path, records: list[dict], name: str = "train") -> tuple[Path, list[int]]:
    """A project holding `records` (one import); returns its path and the sample id of each record."""
    src = tmp_path / f"{name}.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    db = tmp_path / f"{name}.db"
    with Store(db) as s:
        s.import_file(src)
        ids = [x.id for x in sorted(s.iter_samples(), key=lambda x: x.position)]
    return db, ids


def add_records(db: Path, tmp_path: Path, records: list[dict], name: str) -> list[int]:
    src = tmp_path / f"{name}.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    with Store(db) as s:
        before = {x.id for x in s.iter_samples()}
        s.import_file(src)
        return sorted(x.id for x in s.iter_samples() if x.id not in before)


def found_pairs(db: Path, detector: str, ids: list[int]) -> dict[tuple[int, int], float]:
    """The detector's sample pairs as record-index pairs (i < j) -> score."""
    from review.analysis import duplicate_pairs

    pos = {sid: k for k, sid in enumerate(ids)}
    with Store(db) as s:
        out = {}
        for a, b, score in duplicate_pairs(s, detector):
            i, j = sorted((pos[a], pos[b]))
            out[(i, j)] = score
        return out


def precision_recall(found: set, expected: set, correct: set) -> tuple[float, float]:
    precision = len(found & correct) / len(found) if found else 1.0
    recall = len(found & expected) / len(expected) if expected else 1.0
    return precision, recall
