"""The datasets of the quality benchmark and how each is read.

Every dataset is a file in ../shared/datasets (read-only, never copied into the repository). A
dataset whose records winnow's importer does not read as they are is written to a temporary copy
first, one record per record in the same order, so `Sample.position` is still the record's
index in the original file (the positions of the label files).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..common import SHARED

ALPACA_SLICE = 5_000


def _write_array(dst: Path, recs: list) -> None:
    """A JSON array, one record per line (a record's line is what the importer reports)."""
    body = ",\n".join(json.dumps(r, ensure_ascii=False) for r in recs)
    dst.write_text(f"[\n{body}\n]\n", encoding="utf-8")


def _rename_keys(renames: dict[str, str]) -> Callable[[Path, Path], str]:
    def prep(src: Path, dst: Path) -> str:
        recs = json.loads(src.read_text(encoding="utf-8"))
        out = []
        n = 0
        for r in recs:
            if isinstance(r, dict):
                for old, new in renames.items():
                    if old in r and new not in r:
                        r = {(new if k == old else k): v for k, v in r.items()}
                        n += 1
            out.append(r)
        _write_array(dst, out)
        spelled = ", ".join(f"{a!r} → {b!r}" for a, b in renames.items())
        return f"key renamed in {n} records ({spelled}) in a temporary copy: the importer needs one schema per file"

    return prep


def _first(n: int) -> Callable[[Path, Path], str]:
    def prep(src: Path, dst: Path) -> str:
        recs = json.loads(src.read_text(encoding="utf-8"))
        _write_array(dst, recs[:n])
        return f"first {min(n, len(recs)):,} of {len(recs):,} records (a fixed slice, for time)"

    return prep


@dataclass(frozen=True)
class Dataset:
    name: str  # file name in ../shared/datasets
    lang: str  # "zh" | "en": the language of its items (every flag of it is counted under this)
    prep: Callable[[Path, Path], str] | None = None  # writes the copy that is imported; returns what it did
    skip: str = ""  # why it cannot be benchmarked today ("" = it can)
    source: Path | None = None  # elsewhere than ../shared/datasets (the tests' own files)

    @property
    def path(self) -> Path:
        return self.source or SHARED / self.name

    def available(self) -> bool:
        return self.path.is_file()

    def suffix(self) -> str:
        return ".jsonl" if self.name.endswith(".jsonl") else ".json"


DATASETS: tuple[Dataset, ...] = (
    Dataset("llamafactory_alpaca_zh_demo.json", "zh"),
    Dataset("llamafactory_glaive_toolcall_zh_demo.json", "zh"),
    Dataset("betterruozhiba_ruozhiba_qa.json", "zh"),
    Dataset("coigcqia_100poison.jsonl", "zh"),
    # 1,000 Alpaca-with-history records, then 144 safety records spelled {instruct, output}.
    Dataset("zhongjing_CMtMedQA_test.json", "zh", _rename_keys({"instruct": "instruction"})),
    # 65 records spell the key `instuction`, 7 `instruction`.
    Dataset("selfcognition_self_cognition_data.json", "zh", _rename_keys({"instuction": "instruction"})),
    Dataset("llamafactory_dpo_zh_demo.json", "zh"),
    Dataset("alpaca_data.json", "en", _first(ALPACA_SLICE)),
    Dataset("llamafactory_alpaca_en_demo.json", "en"),
    Dataset("llamafactory_glaive_toolcall_en_demo.json", "en"),
    Dataset("llamafactory_identity.json", "en"),
    Dataset("fastchat_dummy_conversation.json", "en"),
    Dataset("llamafactory_kto_en_demo.json", "en"),
    Dataset("llamafactory_dpo_en_demo.json", "en"),
    Dataset("llamafactory_v1_sft_demo.jsonl", "en"),
    Dataset("llamafactory_reason_tool_use_demo_50.jsonl", "en"),
)

BY_NAME = {d.name: d for d in DATASETS}


def find(name: str) -> Dataset:
    """A dataset by file name (or a unique part of it)."""
    if name in BY_NAME:
        return BY_NAME[name]
    hits = [d for d in DATASETS if name in d.name]
    if len(hits) == 1:
        return hits[0]
    known = ", ".join(d.name for d in DATASETS)
    raise SystemExit(f"no single dataset matches {name!r} ({len(hits)} do) — one of: {known}")
