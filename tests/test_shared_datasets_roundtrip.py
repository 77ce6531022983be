"""Issue 15's "done when" on the real files in ../shared/datasets: every file there, and every
entry of LLaMA-Factory's dataset_info.json whose file is there, imports into a fresh project with
no --map, exports (everything kept) byte for byte, and every field its format reads is shown in
the review (turns, system, tools, the rejected answer, the KTO label, media references).

Files are found by listing the folder, so a file added there is checked too. A field the format
does not read may be left out of the review only when it carries no answer: never one of
ANSWER_FIELDS or a media list. Each test skips, saying why, where ../shared is absent (a user's
clone). Alpaca's 52k records take about 8 s; the rest together about as long."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import SHARED

from review.importers.schemas import ANSWER_FIELDS, MEDIA_FIELDS
from review.store import Store
from tui.cli import cli

INFO = "llamafactory_dataset_info.json"
# The format each file is detected as: a change here is a change in what the review shows.
DETECTED = {
    "alpaca_data.json": "alpaca",
    "betterruozhiba_ruozhiba_qa.json": "alpaca",
    "coigcqia_100poison.jsonl": "alpaca",
    "fastchat_dummy_conversation.json": "sharegpt",
    "llamafactory_alpaca_en_demo.json": "alpaca",
    "llamafactory_alpaca_zh_demo.json": "alpaca",
    "llamafactory_dpo_en_demo.json": "sharegpt_pair",
    "llamafactory_dpo_zh_demo.json": "sharegpt_pair",
    "llamafactory_glaive_toolcall_en_demo.json": "sharegpt",
    "llamafactory_glaive_toolcall_zh_demo.json": "sharegpt",
    "llamafactory_identity.json": "alpaca",
    "llamafactory_kto_en_demo.json": "openai",
    "llamafactory_mllm_demo.json": "openai",
    "llamafactory_reason_tool_use_demo_50.jsonl": "openai",
    "llamafactory_v1_dpo_demo.jsonl": "openai_pair",
    "llamafactory_v1_sft_demo.jsonl": "openai",
    "selfcognition_self_cognition_data.json": "alpaca",
    "zhongjing_CMtMedQA_test.json": "alpaca",
}
# Exported with every record identical but not byte for byte, and why. The JSON array exporter
# writes each element after the indentation of its closing brace (formats.element_indent): these
# files have elements whose opening brace is indented otherwise, which the project does not keep.
BYTE_DRIFT: dict[str, str] = {}  # file name -> why it exports record for record but not byte for byte
# Keys inside a turn or part that the review shows as the turn's role or kind, not as text.
TAG_KEYS = {"from", "role", "type"}


def data_files() -> list[str]:
    if not SHARED.is_dir():
        return []
    return sorted(p.name for p in SHARED.iterdir() if p.suffix in (".json", ".jsonl") and p.name != INFO)


def info_entries() -> list[str]:
    info = SHARED / INFO
    if not info.is_file():
        return []
    entries = json.loads(info.read_text(encoding="utf-8"))
    return sorted(n for n, e in entries.items() if (SHARED / f"llamafactory_{e.get('file_name', '')}").is_file())


def present(path: Path) -> Path:
    if not path.is_file():
        pytest.skip(f"{path} is absent: the real datasets live beside the repository, not in it")
    return path


def winnow(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == 0, f"winnow {' '.join(args)}\n{result.output}"
    return result.output


def strings(value: Any, key: str | None = None) -> list[str]:
    if isinstance(value, str):
        return [] if key in TAG_KEYS or not value.strip() else [value.strip()]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v, key)]
    return []


def records(path: Path) -> list[dict]:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


def round_trip(tmp_path: Path, src: Path, *import_args: str) -> str:
    """Import, keep all, export; check the output and the review. Returns the detected format."""
    db = str(tmp_path / "p.db")
    summary = winnow("import", *import_args, "--db", db)
    winnow("goal", "add", "keep everything", "--db", db)
    winnow("decide", "--db", db, "--queue", "all", "keep")
    out = tmp_path / ("kept" + "".join(src.suffixes))
    winnow("export", "--db", db, "-o", str(out))
    originals = records(src)
    with Store(db) as store:
        (source,) = store.sources()
        samples = list(store.iter_samples())
    assert source.records == len(samples) == len(originals), summary
    assert [json.loads(s.raw) for s in samples] == originals
    exported = out.read_bytes()
    if src.name in BYTE_DRIFT:
        assert exported != src.read_bytes(), f"{src.name} exports byte for byte now: remove it from BYTE_DRIFT"
        assert records(out) == originals
        assert re.sub(rb"\s+", b"", exported) == re.sub(rb"\s+", b"", src.read_bytes())  # whitespace only
    else:
        assert exported == src.read_bytes()
    read = {v for k, v in source.mapping.items() if isinstance(v, str) and k not in ("role", "content", "dataset_info")}
    carrying = read | set(ANSWER_FIELDS) | set(MEDIA_FIELDS)
    for s, rec in zip(samples, originals, strict=True):
        conv = s.conversation
        shown = conv.full_text() + "\n" + conv.tools
        for key, value in rec.items():
            if key == "label" and isinstance(value, bool):
                assert conv.label is value, f"{src.name}:{s.line}: label {value} reads as {conv.label}"
                continue
            lost = [t for t in strings(value, key) if t not in shown]
            assert not (lost and key in carrying), f"{src.name}:{s.line}: {key!r} is not in the review: {lost[0]!r:.80}"
    return source.format


@pytest.mark.parametrize("name", data_files() or ["(none)"])
def test_every_shared_file_imports_unmapped_and_exports_as_it_came(tmp_path: Path, name: str) -> None:
    src = present(SHARED / name)
    fmt = round_trip(tmp_path, src, str(src))
    assert fmt == DETECTED.get(name, fmt), f"{name} is read as {fmt} now, not {DETECTED[name]}"


@pytest.mark.parametrize("entry", info_entries() or ["(none)"])
def test_every_local_dataset_info_entry_round_trips(tmp_path: Path, entry: str) -> None:
    info = present(SHARED / INFO)
    folder = tmp_path / "data"
    folder.mkdir()
    for f in SHARED.glob("llamafactory_*"):
        (folder / f.name.removeprefix("llamafactory_")).symlink_to(f)
    file_name = json.loads(info.read_text(encoding="utf-8"))[entry]["file_name"]
    src = present(SHARED / f"llamafactory_{file_name}")
    round_trip(tmp_path, src, "--dataset-dir", str(folder), "--dataset", entry)
