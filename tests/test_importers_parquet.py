"""Parquet (issue 15 item 4): rows streamed by row group, exported back to Parquet with the
original schema; a folder of hub shards imports as one dataset. pyarrow is the `parquet` extra."""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


WINNOW = Path(sys.executable).with_name("winnow")


def import_in_subprocess(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """`winnow import ARGS` in its own process: a hang (opening a FIFO waits for a writer) fails
    the test at the timeout instead of blocking the run."""
    try:
        return subprocess.run([str(WINNOW), "import", *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"winnow import {' '.join(args)} still ran after {timeout} s: it opened something that blocks")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="os.mkfifo is POSIX only")
@pytest.mark.parametrize("which", [0, 1], ids=["first-shard", "last-shard"])
def test_a_fifo_among_the_shards_is_refused_at_once_and_nothing_imported(tmp_path: Path, which: int) -> None:
    """A named pipe with a shard's name used to hang the import: the schema check opened it."""
    folder = tmp_path / "hub"
    folder.mkdir()
    names = [f"train-{i:05d}-of-00002.parquet" for i in range(2)]
    for i, name in enumerate(names):
        if i == which:
            os.mkfifo(folder / name)
        else:
            write(folder / name, rows(i * 5, 5))
    db = tmp_path / "p.db"
    result = import_in_subprocess(str(folder), "--db", str(db), timeout=30)
    assert result.returncode != 0, result.stdout + result.stderr
    fifo = folder / names[which]
    assert f"{fifo}: not a regular file (a named pipe, FIFO) — " in result.stderr, result.stderr
    assert "nothing was imported" in result.stderr
    assert not db.exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="os.mkfifo is POSIX only")
def test_any_non_regular_shard_is_refused_before_any_shard_is_read(tmp_path: Path) -> None:
    """A directory, or a symlink to a FIFO, named as a shard is refused; a symlink to a regular
    shard is read through (LLaMA-Factory folders link their files)."""
    real = write(tmp_path / "real.parquet", rows(0, 5))
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    db = tmp_path / "p.db"
    for case, make in (
        ("dir", lambda p: p.mkdir()),
        ("link-to-fifo", lambda p: p.symlink_to(pipe)),
    ):
        folder = tmp_path / case
        folder.mkdir()
        (folder / "train-00000-of-00002.parquet").symlink_to(real)
        make(folder / "train-00001-of-00002.parquet")
        result = import_in_subprocess(str(folder), "--db", str(db), timeout=30)
        assert result.returncode != 0, result.stdout + result.stderr
        assert f"{folder / 'train-00001-of-00002.parquet'}: not a regular file (" in result.stderr, result.stderr
        assert not db.exists(), case
    folder = tmp_path / "links"
    folder.mkdir()
    (folder / "train-00000-of-00001.parquet").symlink_to(real)
    result = import_in_subprocess(str(folder), "--db", str(db))
    assert result.returncode == 0 and "imported 5 samples as openai (parquet)" in result.stdout, result.stderr


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="os.mkfifo is POSIX only")
def test_a_dataset_info_file_name_that_is_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "dataset_info.json").write_text(
        json.dumps({"piped": {"file_name": "piped.json"}, "hub": {"file_name": "hub"}}), encoding="utf-8"
    )
    os.mkfifo(folder / "piped.json")
    (folder / "hub").mkdir()
    os.mkfifo(folder / "hub" / "train-00000-of-00001.parquet")
    db = tmp_path / "p.db"
    result = import_in_subprocess("--dataset-dir", str(folder), "--dataset", "piped", "--db", str(db), timeout=30)
    assert result.returncode != 0 and "not a regular file" in result.stderr, result.stdout + result.stderr
    assert "piped.json" in result.stderr and not db.exists()
    result = import_in_subprocess("--dataset-dir", str(folder), "--dataset", "hub", "--db", str(db), timeout=30)
    assert result.returncode != 0 and not db.exists(), result.stdout + result.stderr


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
