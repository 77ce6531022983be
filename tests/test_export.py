"""Export: kept records verbatim in the input's own layout, atomically, with a manifest."""

from __future__ import annotations

import csv
import io
import json

import pytest
from builders import chat
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review.export import ExportError, export
from review.store import Change, Store


def keep(store, goal, ids):
    store.apply(goal.id, [Change(i, "keep") for i in ids], kind="batch")


def test_jsonl_export_is_byte_faithful(project, data_file, tmp_path):
    g, _ = project.add_goal("g")
    keep(project, g, [1, 3, 6])
    project.apply(g.id, [Change(2, "drop", "contradictory")])
    out = tmp_path / "kept.jsonl"
    report = export(project, g, out)
    lines = data_file.read_text(encoding="utf-8").splitlines()
    assert out.read_text(encoding="utf-8") == "".join(lines[i] + "\n" for i in (0, 2, 5))
    m = json.loads(report.manifest.read_text(encoding="utf-8"))
    assert m["goal"]["sentence"] == "g"
    assert m["counts"]["kept"] == 3 and m["counts"]["dropped_by_reason"] == {"contradictory": 1}
    assert m["sources"][0]["sha256"] == project.sources()[0].sha256
    assert m["files"][0]["records"] == 3
    assert m["decision_log_position"] == project.log_position()


def test_json_array_export_round_trips(tmp_path):
    records = [{"instruction": f"Say {i}", "input": "", "output": f"{i} — 好"} for i in range(5)]
    src = tmp_path / "alpaca.json"
    src.write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    store = Store(tmp_path / "p.db")
    store.import_file(src)
    g, _ = store.add_goal("g")
    keep(store, g, [2, 4])
    out = tmp_path / "kept.json"
    export(store, g, out)
    assert json.loads(out.read_text(encoding="utf-8")) == [records[1], records[3]]


@pytest.mark.parametrize("end", ["", "\n", "\n\n", "  \r\n"])
def test_a_whole_json_array_exported_is_its_source_byte_for_byte(tmp_path, end):
    # alpaca_data.json ends at its ']' with no line break: export always wrote ']\n' (1 byte off)
    records = [{"instruction": f"Say {i}", "input": "", "output": f"{i} — 好"} for i in range(3)]
    src = tmp_path / "alpaca.json"
    src.write_bytes((json.dumps(records, ensure_ascii=False, indent=4) + end).encode())
    store = Store(tmp_path / "p.db")
    store.import_file(src)
    g, _ = store.add_goal("g")
    keep(store, g, [1, 2, 3])
    out = tmp_path / "kept.json"
    export(store, g, out)
    assert out.read_bytes() == src.read_bytes()


@pytest.mark.parametrize(
    "text",
    [
        # one-line elements indented by two spaces (and one by a tab): element_indent gives ''
        '[\n  {"instruction": "a", "output": "b"},\n  {"instruction": "c", "output": "d"},\n\t{"instruction": "e", "output": "f"}\n]\n',
        # pretty elements, two of them opened deeper than their closing brace (zhongjing in ../shared)
        '[\n    {\n        "instruction": "a",\n        "output": "b"\n    },\n      {\n        "instruction": "c",'
        '\n        "output": "d"\n    },\n     {\n        "instruction": "e",\n        "output": "f"\n    }\n]',
    ],
)
def test_an_element_indented_unlike_its_last_line_keeps_its_indentation(tmp_path, text):
    src = tmp_path / "a.json"
    src.write_text(text, encoding="utf-8")
    store = Store(tmp_path / "p.db")
    store.import_file(src)
    g, _ = store.add_goal("g")
    keep(store, g, [1, 2, 3])
    export(store, g, tmp_path / "kept.json")
    assert (tmp_path / "kept.json").read_bytes() == src.read_bytes()
    store.apply(g.id, [Change(2, "drop", "other")])
    export(store, g, tmp_path / "two.json")  # a subset: each element keeps its own indentation
    assert json.loads((tmp_path / "two.json").read_text(encoding="utf-8")) == [
        json.loads(text)[0],
        json.loads(text)[2],
    ]
    export(store, g, tmp_path / "two.jsonl", to="alpaca")  # JSON lines: no indentation in front
    assert [ln[:1] for ln in (tmp_path / "two.jsonl").read_text(encoding="utf-8").splitlines()] == ["{", "{"]


def test_csv_export_keeps_header_and_rows(tmp_path):
    src = tmp_path / "qa.csv"
    src.write_text('question,std_answer\n"Hi, there",Hello\nWhy?,"Because\nit is"\n', encoding="utf-8")
    store = Store(tmp_path / "p.db")
    store.import_file(src, mapping={"prompt": "question", "answer": "std_answer"})
    g, _ = store.add_goal("g")
    keep(store, g, [2])
    out = tmp_path / "kept.csv"
    export(store, g, out, tags=False)
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows == [["question", "std_answer"], ["Why?", "Because\nit is"]]


def test_tags_are_added_without_touching_the_record(project, tmp_path):
    g, _ = project.add_goal("g")
    keep(project, g, [1])
    project.apply(g.id, [Change(1, "tag", value="refund")])
    out = tmp_path / "kept.jsonl"
    export(project, g, out, tags=True)
    rec = json.loads(out.read_text(encoding="utf-8"))
    assert rec["winnow_tags"] == ["refund"]
    del rec["winnow_tags"]
    assert rec == json.loads(project.sample(1).raw)


def test_export_is_atomic(project, tmp_path, monkeypatch):
    g, _ = project.add_goal("g")
    keep(project, g, [1, 2])
    out = tmp_path / "kept.jsonl"
    out.write_text("previous export\n")
    import review.formats

    def broken(fh, container, raws, header):
        fh.write(next(iter(raws)) + "\n")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(review.formats, "write_records", broken)
    with pytest.raises(OSError):
        export(project, g, out, force=True)  # an unrelated file is replaced only with force
    assert out.read_text() == "previous export\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_nothing_kept_is_a_clear_error(project, tmp_path):
    g, _ = project.add_goal("g")
    with pytest.raises(ExportError, match="no kept samples"):
        export(project, g, tmp_path / "x.jsonl")


texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=40)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    recs=st.lists(st.tuples(texts.filter(lambda s: s.strip()), texts), min_size=1, max_size=12),
    layout=st.sampled_from(["jsonl", "json"]),
    data=st.data(),
)
def test_property_import_then_export_returns_each_kept_record(tmp_path_factory, recs, layout, data):
    d = tmp_path_factory.mktemp("prop")
    records = [chat(u, a) for u, a in recs]
    src = d / f"src.{layout}"
    if layout == "jsonl":
        src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    else:
        src.write_text(json.dumps(records, ensure_ascii=False, indent=1), encoding="utf-8")
    store = Store(d / "p.db")
    store.import_file(src)
    g, _ = store.add_goal("g")
    chosen = sorted(data.draw(st.sets(st.integers(1, len(records)), min_size=1)))
    keep(store, g, chosen)
    out = d / f"out.{layout}"
    export(store, g, out)
    text = out.read_text(encoding="utf-8")
    got = [json.loads(x) for x in text.split("\n") if x] if layout == "jsonl" else json.loads(text)
    assert got == [records[i - 1] for i in chosen]
    raws = [s.raw for s in store.iter_samples()]
    for i in chosen:
        assert raws[i - 1] in text  # the exact bytes of each record
    store.close()
