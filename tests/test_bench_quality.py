"""The real-data quality benchmark's own parts: the label-file validator and the scoring arithmetic.

The scoring runs on a real project (a small Alpaca file imported into SQLite in tmp_path, the exact
detector run on it by the benchmark's own code), not on hand-made flags.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.quality import datasets as D
from benchmarks.quality import flags as FL
from benchmarks.quality import labels as L

GOOD = {
    "detector": "semantic",
    "dataset": "llamafactory_alpaca_zh_demo.json",
    "positions": [3, 17],
    "lang": "zh",
    "label": True,
    "reason": "same question reworded: 列出三种水果 / 说出三种水果",
    "source": "flagged",
}


def _write(path: Path, objs: list) -> Path:
    path.write_text("".join((o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)) + "\n" for o in objs))
    return path


def test_a_good_line_is_read():
    lab = L.parse_line(json.dumps(GOOD), "dup.jsonl:1")
    assert (lab.detector, lab.positions, lab.label, lab.where) == ("semantic", (3, 17), True, "dup.jsonl:1")
    one = L.parse_line(json.dumps({**GOOD, "detector": "noise:truncated", "positions": [5]}), "noise.jsonl:1")
    assert one.positions == (5,)


@pytest.mark.parametrize(
    "line, says",
    [
        ("{not json", "not JSON"),
        (json.dumps([1, 2]), "not an object"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "reason"}), "missing reason"),
        (json.dumps({**GOOD, "note": "x"}), "unknown key 'note'"),
        (json.dumps({**GOOD, "goal": "Answer medical questions"}), "unknown key 'goal'"),  # off_goal only
        (json.dumps({**GOOD, "detector": "off_goal", "positions": [3], "goal": ""}), "goal must be"),
        (json.dumps({**GOOD, "detector": "dupes"}), "detector 'dupes'"),
        (json.dumps({**GOOD, "detector": "noise"}), "detector 'noise'"),
        (json.dumps({**GOOD, "dataset": "mine.json"}), "not a benchmark dataset"),
        (json.dumps({**GOOD, "positions": [17, 3]}), "ascending"),
        (json.dumps({**GOOD, "positions": [3, 3]}), "ascending and distinct"),
        (json.dumps({**GOOD, "positions": [3]}), "2 position(s), not 1"),
        (json.dumps({**GOOD, "detector": "drift"}), "1 position(s), not 2"),
        (json.dumps({**GOOD, "positions": [-1, 2]}), "0-based"),
        (json.dumps({**GOOD, "positions": [True, 2]}), "0-based"),
        (json.dumps({**GOOD, "lang": "fr"}), "lang 'fr'"),
        (json.dumps({**GOOD, "label": "yes"}), "true or false"),
        (json.dumps({**GOOD, "reason": " "}), "reason"),
        (json.dumps({**GOOD, "reason": "a\nb"}), "reason"),
        (json.dumps({**GOOD, "source": "guess"}), "source 'guess'"),
    ],
)
def test_a_bad_line_is_refused_naming_file_and_line(tmp_path, line, says):
    path = _write(tmp_path / "dup.jsonl", [GOOD, "", line])
    with pytest.raises(L.LabelError) as e:
        L.load_file(path)
    assert str(e.value).startswith("dup.jsonl:3: ")
    assert says in str(e.value)


def test_the_same_item_twice_is_refused(tmp_path):
    _write(tmp_path / "a.jsonl", [GOOD])
    _write(tmp_path / "b.jsonl", [{**GOOD, "label": False}])
    with pytest.raises(L.LabelError, match=r"b\.jsonl:1: .*a\.jsonl:1"):
        L.load_all(tmp_path)
    with pytest.raises(L.LabelError, match=r"c\.jsonl:2: .*c\.jsonl:1"):
        L.load_file(_write(tmp_path / "c.jsonl", [GOOD, GOOD]))


def test_a_position_past_the_dataset_is_refused():
    lab = L.parse_line(json.dumps({**GOOD, "positions": [3, 1000]}), "dup.jsonl:7")
    L.check_positions([lab], {GOOD["dataset"]: 1001})
    with pytest.raises(L.LabelError, match=r"dup\.jsonl:7: position 1000 is past the end .*1000 records"):
        L.check_positions([lab], {GOOD["dataset"]: 1000})


def _records(ds: D.Dataset) -> int:
    """How many records the benchmark reads of a dataset (alpaca_data: its fixed slice)."""
    if ds.name.endswith(".jsonl"):
        n = sum(1 for line in ds.path.open(encoding="utf-8") if line.strip())
    else:
        n = len(json.loads(ds.path.read_text(encoding="utf-8")))
    return min(n, D.ALPACA_SLICE) if ds.name == "alpaca_data.json" else n


def test_every_committed_label_file_validates():
    labels = L.load_all()  # raises LabelError naming file:line on the first bad one
    files = sorted(p.name for p in L.LABELS.glob("*.jsonl"))
    assert len({lab.where.split(":")[0] for lab in labels}) <= len(files)
    used = {lab.dataset for lab in labels}
    missing = [n for n in used if not D.BY_NAME[n].available()]
    if missing:
        pytest.skip(f"../shared/datasets lacks {', '.join(sorted(missing))}: positions not checked against it")
    L.check_positions(labels, {n: _records(D.BY_NAME[n]) for n in used})


def _array(path: Path, recs: list) -> None:
    # One record per line: on one line, repeated records stop the import (IndexError in
    # Store._repeats_in_stage, reported to the coordinator), and that is not what is tested here.
    path.write_text("[\n" + ",\n".join(json.dumps(r) for r in recs) + "\n]\n", encoding="utf-8")


def _tiny(tmp_path: Path) -> D.Dataset:
    recs = [
        {"instruction": "Name three fruits.", "input": "", "output": "Apple, pear, plum."},  # 0
        {"instruction": "What is 2 + 2?", "input": "", "output": "4"},  # 1
        {"instruction": "Name three fruits.", "input": "", "output": "Apple, pear, plum."},  # 2 = 0
        {"instruction": "Say hello in French.", "input": "", "output": "Bonjour."},  # 3
        {"instruction": "What is 2 + 2?", "input": "", "output": "4"},  # 4 = 1
        {"instruction": "Name a colour.", "input": "", "output": "Blue."},  # 5
        {"instruction": "Name a colour!", "input": "", "output": "Blue."},  # 6 (not exact)
    ]
    src = tmp_path / "tiny.json"
    _array(src, recs)
    return D.Dataset("tiny.json", "en", source=src)


def test_precision_recall_and_rate_on_a_real_project(tmp_path):
    ds = _tiny(tmp_path)
    run = FL.run_dataset(ds, ["exact"], cache=tmp_path / "cache")
    assert run.samples == 7
    assert sorted(f.positions for f in run.flags) == [(0, 2), (1, 4)]
    assert all(f.detector == "exact" and f.score == 1.0 for f in run.flags)
    assert (
        run.texts[0]["prompt"] == "user: Name three fruits."
        and run.texts[0]["answer"] == "assistant: Apple, pear, plum."
    )

    def lab(pos, label, source="flagged"):
        return L.Label("exact", "tiny.json", pos, "en", label, "read", source, "t.jsonl:1")

    labels = [lab((0, 2), True), lab((1, 4), False), lab((5, 6), True, "search"), lab((3, 5), False, "search")]
    (row,) = L.score(run.flags, labels, {"tiny.json": 7}, {"tiny.json": "en"})
    assert (row.flagged, row.labelled, row.true) == (2, 2, 1)
    assert row.precision == 0.5  # 1 true of 2 labelled flags
    assert (row.positives, row.found) == (2, 1)  # true labels: (0,2) flagged, (5,6) missed
    assert row.recall == 0.5
    assert row.coverage == 1.0
    assert row.max_rate == pytest.approx(4 / 7) and row.max_rate_dataset == "tiny.json"
    assert row.verdicts() == {"precision": False, "recall": False, "flag_rate": None}  # no rate bound on dups


def test_every_run_rebuilds_the_flags_from_a_fresh_import(tmp_path):
    ds = _tiny(tmp_path)
    FL.run_dataset(ds, ["exact"], cache=tmp_path / "cache")
    recs = json.loads(ds.path.read_text())
    recs[6] = recs[5]  # the file changes: a third exact pair
    _array(ds.path, recs)
    again = FL.run_dataset(ds, ["exact"], cache=tmp_path / "cache")
    assert sorted(f.positions for f in again.flags) == [(0, 2), (1, 4), (5, 6)]


def test_noise_flags_split_into_their_triggers():
    got = FL.noise_kinds("noisy · truncated, placeholder", ["ends on “，并且”", "“<noinput>” as the input"])
    assert got == [("truncated", ["ends on “，并且”"]), ("placeholder", ["“<noinput>” as the input"])]


def test_the_dataset_table_names_real_files_once():
    names = [d.name for d in D.DATASETS]
    assert len(names) == len(set(names))
    assert {d.lang for d in D.DATASETS} == {"zh", "en"}
    if not D.SHARED.is_dir():
        pytest.skip("../shared/datasets is absent here")
    assert [n for n in names if not (D.SHARED / n).is_file()] == []


def test_a_dataset_whose_text_the_importer_does_not_read_is_not_benchmarked(tmp_path):
    # Every turn a part of a type the importer does not read and that holds nothing but its type:
    # it reads as "[widget]" for each, so all samples look alike and any duplicate figure on them
    # would measure the importer, not the detectors. (Text, reasoning and media parts are read: an
    # image is "[image: a0.png]"; a part holding content winnow cannot show is refused at import.)
    recs = [
        {
            "id": i,
            "messages": [
                {"role": "user", "content": [{"type": "widget"}]},
                {"role": "assistant", "content": [{"type": "widget"}]},
            ],
        }
        for i in range(4)
    ]
    src = tmp_path / "parts.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in recs), encoding="utf-8")
    run = FL.run_dataset(D.Dataset("parts.jsonl", "en", source=src), ["exact"], cache=tmp_path / "cache")
    assert run.flags == [] and run.samples == 4
    assert run.note.startswith("not benchmarked: 4 of 4 samples read as part placeholders only")
