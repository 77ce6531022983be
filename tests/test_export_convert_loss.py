"""`export --to` refuses a record whose fields the conversion would drop (no silent loss): a
per-message `weight: 0` changes what a trainer learns, a record-level `meta` is the curator's data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review.convert import unconverted_fields
from review.export import ExportError, export
from review.store import Change, Store


def project(tmp_path: Path, name: str, records: list[dict]) -> tuple[Store, Path]:
    src = tmp_path / name
    src.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    store = Store(tmp_path / "p.db")
    store.import_file(src)
    goal, _ = store.add_goal("answer plainly")
    store.apply(goal.id, [Change(i, "keep") for i in range(1, store.total_samples() + 1)])
    return store, src


WEIGHTED = {
    "messages": [
        {"role": "user", "content": "q"},
        {"role": "assistant", "content": "a", "weight": 0},
    ]
}


@pytest.mark.parametrize("to", ["sharegpt", "alpaca"])
def test_a_message_weight_is_not_dropped_by_a_conversion(tmp_path: Path, to: str) -> None:
    store, _ = project(
        tmp_path, "o.jsonl", [WEIGHTED, {"messages": [WEIGHTED["messages"][0], {"role": "assistant", "content": "b"}]}]
    )
    with store:
        with pytest.raises(ExportError) as e:
            export(store, store.goal(1), tmp_path / "out.jsonl", to=to)
        assert "sample #1 (o.jsonl:1) carries messages[1].weight" in str(e.value) and "#2" not in str(e.value)
        assert not (tmp_path / "out.jsonl").exists()
        # in its own layout the record goes out verbatim, weight and all
        export(store, store.goal(1), tmp_path / "own.jsonl")
        assert json.loads((tmp_path / "own.jsonl").read_text().splitlines()[0]) == WEIGHTED


def test_a_record_level_field_is_not_dropped_and_empty_ones_do_not_count(tmp_path: Path) -> None:
    recs = [
        {"instruction": "q", "output": "a", "meta": "from the 2023 crawl"},
        {"instruction": "q2", "input": "", "output": "a2", "meta": None, "extra": []},
    ]
    store, _ = project(tmp_path, "a.jsonl", recs)
    with store:
        with pytest.raises(ExportError) as e:
            export(store, store.goal(1), tmp_path / "out.jsonl", to="openai")
        assert "1 kept samples" in str(e.value) and "carries meta" in str(e.value)
        store.apply(1, [Change(1, "drop")])
        assert export(store, store.goal(1), tmp_path / "out.jsonl", to="openai").kept == 1


def test_unconverted_fields_reads_the_mapping() -> None:
    mapping = {"messages": "conversations", "role": "from", "content": "value"}.values()
    raw = json.dumps({"conversations": [{"from": "human", "value": "q", "loss": False}], "id": 7, "system": "s"})
    assert unconverted_fields(raw, mapping) == ["conversations[0].loss", "id"]
    assert unconverted_fields("not json", mapping) == [] and unconverted_fields("[1]", mapping) == []
