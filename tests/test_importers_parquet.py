"""Parquet (issue 15 item 4): rows streamed by row group, exported back to Parquet with the
original schema; a folder of hub shards imports as one dataset. pyarrow is the `parquet` extra."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from review.export import ExportError, export
from review.importers import InputError, open_source
from review.model import ASSISTANT, USER
from review.store import Change, Store
from tui.cli import cli

pa = pytest.importorskip("pyarrow", reason="pyarrow is the optional parquet extra: pip install -e '.[parquet]'")
pq = pytest.importorskip("pyarrow.parquet")

SCHEMA = pa.schema(
    [
        ("id", pa.int32()),
        ("messages", pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))),
        ("score", pa.float32()),
        ("source", pa.dictionary(pa.int8(), pa.string())),
        ("ok", pa.bool_()),
    ]
)


def rows(start: int, n: int) -> list[dict]:
    return [
        {
            "id": i,
            "messages": [
                {"role": "user", "content": f"question {i} ✓"},
                {"role": "assistant", "content": f"answer {i}"},
            ],
            "score": i / 4,
            "source": "hub" if i % 2 else None,
            "ok": i % 3 == 0,
        }
        for i in range(start, start + n)
    ]


def write(path: Path, data: list[dict], row_group_size: int = 7) -> Path:
    pq.write_table(pa.Table.from_pylist(data, schema=SCHEMA), path, row_group_size=row_group_size)
    return path


def keep(db: Path, which=lambda s: True) -> None:
    with Store(db) as store:
        goal, _ = store.add_goal("keep")
        store.apply(goal.id, [Change(s.id, "keep") for s in store.iter_samples() if which(s)], kind="batch")


def test_rows_of_every_row_group_are_read_in_order(tmp_path: Path) -> None:
    path = write(tmp_path / "d.parquet", rows(0, 50))
    assert pq.ParquetFile(path).num_row_groups == 8
    with open_source(path) as reader:
        recs = list(reader)
    assert (reader.container, reader.format) == ("parquet", "openai")
    assert [r.line for r in recs] == list(range(1, 51))
    assert [(t.role, t.content) for t in recs[49].conversation.turns] == [
        (USER, "question 49 ✓"),
        (ASSISTANT, "answer 49"),
    ]


def test_kept_rows_go_back_to_parquet_with_the_original_schema(tmp_path: Path) -> None:
    src = write(tmp_path / "d.parquet", rows(0, 50))
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
    keep(db, lambda s: s.id % 2 == 1)
    with Store(db) as store:
        report = export(store, store.goals()[0], tmp_path / "kept.parquet")
    out = pq.read_table(report.files[0])
    assert out.schema.equals(SCHEMA)
    assert out.to_pylist() == [r for r in pq.read_table(src).to_pylist() if r["id"] % 2 == 0]


def test_tags_add_a_column_and_gz_is_refused(tmp_path: Path) -> None:
    src = write(tmp_path / "d.parquet", rows(0, 3))
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
    keep(db)
    with Store(db) as store:
        store.apply(store.goals()[0].id, [Change(1, "tag", value="good")])
        report = export(store, store.goals()[0], tmp_path / "kept.parquet", tags=True)
        with pytest.raises(ExportError, match="name the output .parquet"):
            export(store, store.goals()[0], tmp_path / "kept.parquet.gz")
    out = pq.read_table(report.files[0])
    assert out.schema.names == [*SCHEMA.names, "winnow_tags"]
    assert out.column("winnow_tags").to_pylist() == [["good"], [], []]
    assert out.drop(["winnow_tags"]).to_pylist() == pq.read_table(src).to_pylist()


def test_a_column_json_cannot_carry_is_refused_by_name(tmp_path: Path) -> None:
    path = tmp_path / "b.parquet"
    pq.write_table(pa.table({"prompt": ["p"], "completion": ["c"], "image": pa.array([b"\x89PNG"], pa.binary())}), path)
    with pytest.raises(InputError) as e:
        open_source(path)
    assert "column 'image' is binary" in e.value.what and "EXCLUDE (image)" in e.value.todo


def test_a_folder_of_shards_is_one_dataset(tmp_path: Path) -> None:
    folder = tmp_path / "hub"
    folder.mkdir()
    for i in range(3):
        write(folder / f"train-{i:05d}-of-00003.parquet", rows(i * 20, 20))
    (folder / "README.md").write_text("card", encoding="utf-8")
    db = tmp_path / "p.db"
    result = CliRunner().invoke(cli, ["import", str(folder), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert result.output.count("imported 20 samples as openai (parquet)") == 3
    keep(db)
    with Store(db) as store:
        assert [s.name for s in store.sources()] == [f"train-{i:05d}-of-00003.parquet" for i in range(3)]
        report = export(store, store.goals()[0], tmp_path / "train.parquet")
    assert len(report.files) == 1  # one schema: one file
    out = pq.read_table(report.files[0])
    assert out.schema.equals(SCHEMA) and [r["id"] for r in out.to_pylist()] == list(range(60))


def test_an_incomplete_or_mixed_folder_is_refused_before_anything_is_imported(tmp_path: Path) -> None:
    folder = tmp_path / "hub"
    folder.mkdir()
    write(folder / "train-00000-of-00003.parquet", rows(0, 5))
    write(folder / "train-00002-of-00003.parquet", rows(10, 5))
    db = tmp_path / "p.db"
    result = CliRunner().invoke(cli, ["import", str(folder), "--db", str(db)])
    assert result.exit_code != 0 and "train-00001-of-00003.parquet is missing (2 of 3 shards here)" in result.output
    assert not db.exists()
    pq.write_table(pa.table({"prompt": ["p"], "completion": ["c"]}), folder / "train-00001-of-00003.parquet")
    result = CliRunner().invoke(cli, ["import", str(folder), "--db", str(db)])
    assert result.exit_code != 0 and "schema differs from train-00000-of-00003.parquet's" in result.output
    assert not db.exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("x", encoding="utf-8")
    result = CliRunner().invoke(cli, ["import", str(empty), "--db", str(db)])
    assert result.exit_code != 0 and "no Parquet shards" in result.output and "notes.txt" in result.output


def test_rows_round_trip_through_json_exactly(tmp_path: Path) -> None:
    """Every row's raw text is its JSON; the review's turns come from it, so nothing is lost."""
    src = write(tmp_path / "d.parquet", rows(0, 10))
    with open_source(src) as reader:
        raws = [json.loads(r.raw) for r in reader]
    assert raws == pq.read_table(src).to_pylist()


def test_one_row_group_at_a_time_is_held(tmp_path: Path) -> None:
    """Arrow's own allocation while rows stream out stays near one row group's, however many
    groups the file has (iter_batches held every group's buffers until the end: 120 MB of Arrow
    memory for a 123 MB file)."""
    path = tmp_path / "big.parquet"
    pad = "x" * 2000
    data = [{"prompt": f"q{i} {pad}", "completion": f"a{i} {pad}"} for i in range(20_000)]
    pq.write_table(pa.Table.from_pylist(data), path, row_group_size=1000, compression="none")
    group_bytes = pq.ParquetFile(path).metadata.row_group(0).total_byte_size
    peak = 0
    with open_source(path) as reader:
        for n, rec in enumerate(reader, 1):
            if n % 250 == 0:
                peak = max(peak, pa.total_allocated_bytes())
            assert rec.line == n
    assert n == 20_000
    assert peak < 3 * group_bytes, (peak, group_bytes)
