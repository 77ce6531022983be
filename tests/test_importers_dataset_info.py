"""LLaMA-Factory's dataset_info.json (issue 15 item 3): `winnow import --dataset-dir DIR --dataset
NAME` reads each entry's file_name, formatting, columns, tags and ranking as LLaMA-Factory does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SHARED

from review.export import export
from review.importers import InputError, open_source
from review.importers.dataset_info import dataset_plans, entry_for
from review.model import ASSISTANT, SYSTEM, TOOL, TOOL_CALL, USER
from review.store import Change, Store
from tui.cli import cli

DEMOS = (
    "identity",
    "alpaca_en_demo",
    "alpaca_zh_demo",
    "glaive_toolcall_en_demo",
    "glaive_toolcall_zh_demo",
    "mllm_demo",
    "dpo_en_demo",
    "dpo_zh_demo",
    "kto_en_demo",
)


@pytest.fixture
def lf_dir(tmp_path: Path) -> Path:
    """LLaMA-Factory's data folder: the shared copies linked under their original names."""
    info = SHARED / "llamafactory_dataset_info.json"
    if not info.exists():
        pytest.skip(f"{info} is absent: the real datasets live beside the repository, not in it")
    folder = tmp_path / "data"
    folder.mkdir()
    for f in SHARED.glob("llamafactory_*"):
        (folder / f.name.removeprefix("llamafactory_")).symlink_to(f)
    return folder


def write(folder: Path, info: dict, files: dict[str, list[dict]]) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "dataset_info.json").write_text(json.dumps(info, indent=2), encoding="utf-8")
    for name, records in files.items():
        (folder / name).write_text(json.dumps(records, ensure_ascii=False, indent=2), encoding="utf-8")
    return folder


def read_plan(folder: Path, name: str):
    (plan,) = dataset_plans(folder, [name])
    with open_source(plan.path, fmt=plan.fmt, mapping=plan.mapping) as reader:
        return plan, [r.conversation for r in reader]


# -- the real registry and demo files


def test_every_local_demo_entry_reads_what_llamafactory_trains_on(lf_dir: Path) -> None:
    """Each entry read through dataset_info gives the turns LLaMA-Factory builds from the record:
    checked field by field against the JSON, with the entry's own column and tag names."""
    info = json.loads((lf_dir / "dataset_info.json").read_text(encoding="utf-8"))
    for name in DEMOS:
        entry = info[name]
        plan, convs = read_plan(lf_dir, name)
        records = json.loads(plan.path.read_text(encoding="utf-8"))
        assert len(convs) == len(records), name
        cols, tags = entry.get("columns", {}), entry.get("tags", {})
        if entry.get("formatting", "alpaca") == "alpaca":
            assert plan.fmt == "alpaca"
            for rec, conv in zip(records, convs, strict=True):
                prompt = rec["instruction"] + ("\n" + rec["input"] if rec.get("input") else "")  # LLaMA-Factory's join
                assert [(t.role, t.content) for t in conv.turns] == [(USER, prompt), (ASSISTANT, rec["output"])]
            continue
        msgs_key, role_key = cols.get("messages", "conversations"), tags.get("role_tag", "from")
        content_key = tags.get("content_tag", "value")
        role_of = {
            tags.get("user_tag", "human"): USER,
            tags.get("assistant_tag", "gpt"): ASSISTANT,
            tags.get("observation_tag", "observation"): TOOL,
            tags.get("function_tag", "function_call"): TOOL_CALL,
            tags.get("system_tag", "system"): SYSTEM,
        }
        for rec, conv in zip(records, convs, strict=True):
            want = [(role_of[m[role_key]], m[content_key]) for m in rec[msgs_key]]
            if want[0][0] == SYSTEM:  # LLaMA-Factory: a first message with the system tag is the system prompt
                assert conv.system == want.pop(0)[1]
            if entry.get("ranking"):
                assert plan.fmt == "sharegpt_pair"
                want.append((ASSISTANT, rec["chosen"][content_key]))
                assert [t.content for t in conv.rejected] == [rec["rejected"][content_key]]
            assert [(t.role, t.content) for t in conv.turns] == want, name
            if "kto_tag" in cols:
                assert conv.label is rec[cols["kto_tag"]]
            if "images" in cols:
                assert conv.media == tuple(f"image: {p}" for p in rec["images"])
            if "tools" in cols:
                assert conv.tools == rec["tools"]


def test_cli_imports_several_entries_and_they_export_byte_for_byte(lf_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    result = CliRunner().invoke(
        cli, ["import", "--dataset-dir", str(lf_dir), "--dataset", "dpo_en_demo,kto_en_demo,mllm_demo", "--db", str(db)]
    )
    assert result.exit_code == 0, result.output
    assert "dpo_en_demo.json: imported 300 samples as sharegpt_pair" in result.output
    assert "150 desirable, 150 undesirable" in result.output
    with Store(db) as store:
        assert [s.format for s in store.sources()] == ["sharegpt_pair", "sharegpt", "sharegpt"]
        assert [s.mapping["dataset_info"] for s in store.sources()] == ["dpo_en_demo", "kto_en_demo", "mllm_demo"]
        goal, _ = store.add_goal("keep all")
        store.apply(goal.id, [Change(s.id, "keep") for s in store.iter_samples()], kind="batch")
        report = export(store, goal, tmp_path / "kept.json")
    srcs = {p.name: p for p in (lf_dir / "dpo_en_demo.json", lf_dir / "kto_en_demo.json", lf_dir / "mllm_demo.json")}
    assert len(report.files) == 1  # one layout (json): the three sources, one after the other
    written = json.loads(Path(report.files[0]).read_text(encoding="utf-8"))
    expected = [r for p in srcs.values() for r in json.loads(p.read_text(encoding="utf-8"))]
    assert written == expected


def test_cli_refuses_an_unknown_entry_naming_the_local_ones(lf_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    result = CliRunner().invoke(cli, ["import", "--dataset-dir", str(lf_dir), "--dataset", "nope", "--db", str(db)])
    assert result.exit_code != 0
    assert "no dataset named 'nope'" in result.output and "alpaca_en_demo" in result.output
    assert not db.exists()


def test_a_hub_entry_is_refused_at_its_line(lf_dir: Path) -> None:
    info = json.loads((lf_dir / "dataset_info.json").read_text(encoding="utf-8"))
    name = next(k for k, v in info.items() if "hf_hub_url" in v)
    with pytest.raises(InputError) as e:
        dataset_plans(lf_dir, [name])
    text = (lf_dir / "dataset_info.json").read_text(encoding="utf-8").splitlines()
    assert e.value.line is not None and f'"{name}":' in text[e.value.line - 1]
    assert "remote dataset (hf_hub_url)" in e.value.what


def test_a_failed_entry_leaves_the_project_as_it_was(lf_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    ok = CliRunner().invoke(cli, ["import", "--dataset-dir", str(lf_dir), "--dataset", "identity", "--db", str(db)])
    assert ok.exit_code == 0
    before = db.read_bytes()
    bad = CliRunner().invoke(
        cli, ["import", "--dataset-dir", str(lf_dir), "--dataset", "alpaca_en_demo,wiki_demo", "--db", str(db)]
    )
    assert bad.exit_code != 0 and "wiki_demo.txt" in bad.output
    assert db.read_bytes() == before
    with Store(db) as store:
        assert [s.records for s in store.sources()] == [91]


# -- what the entry says, on small files


def test_custom_tags_are_the_only_speakers_accepted(tmp_path: Path) -> None:
    recs = [{"dialog": [{"speaker": "q", "text": "hi"}, {"speaker": "a", "text": "hello"}], "sys": "be kind"}]
    info = {
        "chat": {
            "file_name": "chat.json",
            "formatting": "sharegpt",
            "columns": {"messages": "dialog", "system": "sys"},
            "tags": {"role_tag": "speaker", "content_tag": "text", "user_tag": "q", "assistant_tag": "a"},
        }
    }
    folder = write(tmp_path / "d", info, {"chat.json": recs})
    _, (conv,) = read_plan(folder, "chat")
    assert conv.system == "be kind" and [(t.role, t.content) for t in conv.turns] == [
        (USER, "hi"),
        (ASSISTANT, "hello"),
    ]
    recs[0]["dialog"][1]["speaker"] = "gpt"  # a speaker LLaMA-Factory would not accept under these tags
    write(folder, info, {"chat.json": recs})
    with pytest.raises(InputError, match="speaker 'gpt'; the tags of dataset_info entry 'chat': q, a"):
        read_plan(folder, "chat")


def test_a_history_the_entry_does_not_name_is_refused_not_dropped(tmp_path: Path) -> None:
    recs = [{"instruction": "q2", "output": "a2", "history": [["q1", "a1"]]}]
    folder = write(tmp_path / "d", {"x": {"file_name": "x.json"}}, {"x.json": recs})
    with pytest.raises(InputError, match="'history', which the alpaca format does not read"):
        read_plan(folder, "x")
    write(folder, {"x": {"file_name": "x.json", "columns": {"history": "history"}}}, {})
    _, (conv,) = read_plan(folder, "x")
    assert [t.content for t in conv.turns] == ["q1", "a1", "q2", "a2"]


def test_alpaca_columns_ranking_and_kto_tag(tmp_path: Path) -> None:
    info = {
        "pairs": {
            "file_name": "p.json",
            "ranking": True,
            "columns": {"prompt": "q", "chosen": "good", "rejected": "bad"},
        },
        "kto": {"file_name": "k.json", "columns": {"prompt": "q", "response": "r", "kto_tag": "ok"}},
    }
    files = {
        "p.json": [{"q": "2+2?", "good": "4", "bad": "5"}],
        "k.json": [{"q": "2+2?", "r": "5", "ok": False}],
    }
    folder = write(tmp_path / "d", info, files)
    plan, (pair,) = read_plan(folder, "pairs")
    assert plan.fmt == "alpaca_pair" and pair.answer_text() == "4" and [t.content for t in pair.rejected] == ["5"]
    plan, (kto,) = read_plan(folder, "kto")
    assert plan.fmt == "alpaca" and kto.answer_text() == "5" and kto.label is False


def test_entry_for_gives_back_the_entry_it_was_read_by(lf_dir: Path) -> None:
    info = json.loads((lf_dir / "dataset_info.json").read_text(encoding="utf-8"))
    for name in DEMOS:
        (plan,) = dataset_plans(lf_dir, [name])
        entry = entry_for(info[name]["file_name"], plan.fmt, plan.mapping)
        assert entry is not None
        # The same entry up to the defaults LLaMA-Factory fills in (key order aside).
        want = {**info[name]}
        want_cols = {k: v for k, v in want.pop("columns", {}).items()}
        got_cols = entry.pop("columns", {})
        assert {k: v for k, v in got_cols.items() if not (k == "messages" and v == "conversations")} == {
            k: v for k, v in want_cols.items() if not (k == "messages" and v == "conversations")
        }, name
        want.pop("formatting", None) if want.get("formatting") == "alpaca" else None
        assert entry == want, name


def test_export_writes_the_entry_that_reads_the_kept_file(lf_dir: Path, tmp_path: Path) -> None:
    db, out = tmp_path / "p.db", tmp_path / "out"
    out.mkdir()
    run = CliRunner().invoke
    assert (
        run(cli, ["import", "--dataset-dir", str(lf_dir), "--dataset", "kto_en_demo", "--db", str(db)]).exit_code == 0
    )
    with Store(db) as store:
        goal, _ = store.add_goal("keep some")
        store.apply(goal.id, [Change(s.id, "keep") for s in store.iter_samples() if s.id % 3], kind="batch")
    result = run(cli, ["export", "--db", str(db), "-o", str(out / "kto_kept.json"), "--dataset-info"])
    assert result.exit_code == 0, result.output
    info = json.loads((out / "dataset_info.json").read_text(encoding="utf-8"))
    original = json.loads((lf_dir / "dataset_info.json").read_text(encoding="utf-8"))["kto_en_demo"]
    assert info == {"kto_kept": {**original, "file_name": "kto_kept.json"}}
    # LLaMA-Factory's reading of the new entry is the kept records, labels included.
    _, convs = read_plan(out, "kto_kept")
    kept = [r for i, r in enumerate(json.loads((lf_dir / "kto_en_demo.json").read_text(encoding="utf-8")), 1) if i % 3]
    assert [c.label for c in convs] == [r["label"] for r in kept]
    # A second export under the same name with another layout would say otherwise: refused, kept.
    (out / "dataset_info.json").write_text(json.dumps({"kto_kept": {"file_name": "x.json"}}), encoding="utf-8")
    result = run(cli, ["export", "--db", str(db), "-o", str(out / "kto_kept.json"), "--dataset-info"])
    assert "already has an entry 'kto_kept'" in result.output
    assert json.loads((out / "dataset_info.json").read_text(encoding="utf-8")) == {"kto_kept": {"file_name": "x.json"}}


def test_export_of_mixed_layouts_says_no_entry_fits(lf_dir: Path, tmp_path: Path) -> None:
    db = tmp_path / "p.db"
    run = CliRunner().invoke
    assert (
        run(cli, ["import", "--dataset-dir", str(lf_dir), "--dataset", "identity,mllm_demo", "--db", str(db)]).exit_code
        == 0
    )
    with Store(db) as store:
        goal, _ = store.add_goal("keep all")
        store.apply(goal.id, [Change(s.id, "keep") for s in store.iter_samples()], kind="batch")
    result = run(cli, ["export", "--db", str(db), "-o", str(tmp_path / "kept.json"), "--dataset-info"])
    assert result.exit_code == 0
    assert "kept.json: holds records of 2 layouts (alpaca, sharegpt)" in result.output
    assert not (tmp_path / "dataset_info.json").exists()


def test_fields_the_entry_does_not_read_are_named_in_the_summary(tmp_path: Path) -> None:
    recs = [{"instruction": "q", "output": "a", "system": "be terse", "id": 7}, {"instruction": "q2", "output": "a2"}]
    folder = write(tmp_path / "d", {"x": {"file_name": "x.json"}}, {"x.json": recs})
    result = CliRunner().invoke(
        cli, ["import", "--dataset-dir", str(folder), "--dataset", "x", "--db", str(tmp_path / "p.db")]
    )
    assert result.exit_code == 0, result.output
    assert "x: not read by its dataset_info entry" in result.output and result.output.rstrip().endswith(": system, id")
    _, convs = read_plan(folder, "x")
    assert convs[0].system == ""  # as LLaMA-Factory: no system column, no system prompt


def test_an_entry_naming_a_folder_is_refused_with_the_command_that_imports_it(tmp_path: Path) -> None:
    folder = write(tmp_path / "d", {"many": {"file_name": "parts"}}, {})
    (folder / "parts").mkdir()
    with pytest.raises(InputError) as e:
        dataset_plans(folder, ["many"])
    assert e.value.line == 2 and "names the folder 'parts'" in e.value.what and "winnow import" in e.value.todo


def test_a_ranking_entry_with_custom_tags_reads_both_answers(tmp_path: Path) -> None:
    recs = [
        {
            "dialog": [{"who": "asker", "say": "2+2?"}],
            "good": {"who": "bot", "say": "4"},
            "bad": {"who": "bot", "say": "5"},
        }
    ]
    entry = {
        "file_name": "p.json",
        "formatting": "sharegpt",
        "ranking": True,
        "columns": {"messages": "dialog", "chosen": "good", "rejected": "bad"},
        "tags": {"role_tag": "who", "content_tag": "say", "user_tag": "asker", "assistant_tag": "bot"},
    }
    folder = write(tmp_path / "d", {"p": entry}, {"p.json": recs})
    plan, (conv,) = read_plan(folder, "p")
    assert plan.fmt == "sharegpt_pair"
    assert conv.prompt_text() == "2+2?" and conv.answer_text() == "4" and [t.content for t in conv.rejected] == ["5"]
    assert entry_for("p.json", plan.fmt, plan.mapping) == entry
