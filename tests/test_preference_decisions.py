"""Preference decisions (issue 15): swap a pair, mark it both bad, flip a KTO label — each one
step of the log (undo/redo, replay), and applied on export in the record's own layout."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SHARED

from review.export import ExportError, export
from review.export.verify import _Verifier
from review.model import Decision
from review.session import open_session
from review.store import Change, Store


def shared(name: str) -> Path:
    path = SHARED / name
    if not path.exists():
        pytest.skip(f"{path} is absent: the real datasets live beside the repository, not in it")
    return path


def keep_all(store: Store) -> int:
    goal, _ = store.add_goal("curate the pairs")
    store.apply(goal.id, [Change(s.id, "keep") for s in store.iter_samples()], kind="batch")
    return goal.id


def test_the_dpo_demo_swapped_and_both_bad_exports_exactly_those_changes(tmp_path):
    src = shared("llamafactory_dpo_zh_demo.json")
    records = json.loads(src.read_text(encoding="utf-8"))
    with Store(tmp_path / "p.db") as store:
        store.import_file(src)
        gid = keep_all(store)
        session = open_session(store)
        assert session is not None
        for sid in (4, 10, 200):
            session.move_to(sid)
            session.prefer("swap")
        for sid in (7, 150):
            session.move_to(sid)
            session.prefer("both-bad")
        assert store.decision(gid, 4) == Decision("keep", None, "", (), "swapped")
        assert store.decision(gid, 7).verdict == "drop" and store.decision(gid, 7).pref == "both-bad"
        report = export(store, store.goals()[0], tmp_path / "out.json")
    out = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    kept = [(i + 1, r) for i, r in enumerate(records) if i + 1 not in (7, 150)]
    assert len(out) == len(kept) == 298
    for (sid, rec), got in zip(kept, out, strict=True):
        if sid in (4, 10, 200):
            assert got == {**rec, "chosen": rec["rejected"], "rejected": rec["chosen"]}
            assert list(got) == list(rec)  # the record's own layout: same keys, same order
        else:
            assert got == rec
    counts = json.loads(report.manifest.read_text(encoding="utf-8"))["counts"]
    assert (counts["swapped"], counts["both_bad"], counts["label_flipped"]) == (3, 2, 0)
    assert counts["dropped"] == 2 and counts["kept"] == 298


def test_an_exported_swap_imports_back_as_the_swapped_pair(tmp_path):
    src = shared("llamafactory_dpo_en_demo.json")
    with Store(tmp_path / "p.db") as store:
        store.import_file(src)
        gid = keep_all(store)
        store.apply(gid, [Change(1, "swap")])
        before = store.sample(1)
        assert before is not None
        export(store, store.goals()[0], tmp_path / "out.json")
    with Store(tmp_path / "q.db") as again:
        again.import_file(tmp_path / "out.json")
        after = again.sample(1)
        assert after is not None
    prompt, chosen = before.conversation.split()
    assert after.conversation.turns == prompt + before.conversation.rejected
    assert after.conversation.rejected == chosen


def test_the_kto_demo_flipped_labels_are_written_flipped(tmp_path):
    src = shared("llamafactory_kto_en_demo.json")
    records = json.loads(src.read_text(encoding="utf-8"))
    with Store(tmp_path / "p.db") as store:
        store.import_file(src)
        gid = keep_all(store)
        session = open_session(store)
        assert session is not None
        for sid in (1, 2, 50):
            session.move_to(sid)
            session.prefer("flip")
        session.move_to(50)
        session.prefer("flip")  # flipping a flipped label again keeps it as imported
        assert store.decision(gid, 50) == Decision("keep")
        with pytest.raises(ValueError, match="not a preference pair"):
            session.prefer("swap")
        report = export(store, store.goals()[0], tmp_path / "out.json")
    out = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert len(out) == 300
    for i, (rec, got) in enumerate(zip(records, out, strict=True)):
        assert got == ({**rec, "label": not rec["label"]} if i + 1 in (1, 2) else rec)
    counts = json.loads(report.manifest.read_text(encoding="utf-8"))["counts"]
    assert (counts["swapped"], counts["both_bad"], counts["label_flipped"]) == (0, 0, 2)


PAIRS = {
    "sharegpt_pair": {
        "conversations": [{"from": "human", "value": "Hi"}],
        "chosen": {"from": "gpt", "value": "Hello"},
        "rejected": {"from": "gpt", "value": "Go away"},
    },
    "openai_pair": {
        "chosen_messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}],
        "rejected_messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Go away"}],
    },
    "alpaca_pair": {"instruction": "Hi", "input": "", "chosen": "Hello", "rejected": "Go away"},
    "trl_pair": {"prompt": "Hi", "chosen": "Hello", "rejected": "Go away"},
}


@pytest.mark.parametrize("fmt", list(PAIRS))
def test_every_pair_layout_is_written_swapped_in_its_own_layout(tmp_path, fmt):
    rec = PAIRS[fmt]
    src = tmp_path / "s.jsonl"
    src.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    with Store(tmp_path / "p.db") as store:
        report = store.import_file(src)
        assert report.source is not None and report.source.format == fmt
        gid = keep_all(store)
        store.apply(gid, [Change(1, "swap")])
        export(store, store.goals()[0], tmp_path / "out.jsonl")
    got = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    a, b = ("chosen_messages", "rejected_messages") if fmt == "openai_pair" else ("chosen", "rejected")
    assert got == {**rec, a: rec[b], b: rec[a]} and list(got) == list(rec)
    # the rest of the record's bytes are as imported
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8").replace("Go away", "@").replace(
        "Hello", "Go away"
    ).replace("@", "Hello") == src.read_text(encoding="utf-8")


def test_a_csv_pair_is_written_swapped_cell_for_cell(tmp_path):
    """A CSV row of alpaca pairs kept swapped: its chosen and rejected cells exchanged, each cell's
    text (quotes and an embedded line break included) moved whole, every other byte as imported."""
    src = tmp_path / "pairs.csv"
    src.write_text(
        'instruction,chosen,input,rejected\nSum,"4, surely",2+2,"five,\nmaybe"\nSay hi,Hello,,Go away\n',
        encoding="utf-8",
    )
    with Store(tmp_path / "p.db") as store:
        store.import_file(src)
        gid = keep_all(store)
        store.apply(gid, [Change(1, "swap")])
        report = export(store, store.goals()[0], tmp_path / "out.csv")
    assert (tmp_path / "out.csv").read_text(encoding="utf-8") == (
        'instruction,chosen,input,rejected\nSum,"five,\nmaybe",2+2,"4, surely"\nSay hi,Hello,,Go away\n'
    )
    assert json.loads(report.manifest.read_text(encoding="utf-8"))["counts"]["swapped"] == 1
    with Store(tmp_path / "back.db") as store:  # and it imports back as the swapped pair
        store.import_file(tmp_path / "out.csv")
        first = store.sample(1)
        assert first is not None and first.conversation.answer_text() == "five,\nmaybe"


def test_the_unrewritten_record_of_a_swapped_pair_fails_verification(tmp_path):
    """The check a swapped record passes is 'parses to the swapped pair', not a weaker one: the
    record as imported does not pass it, nor does one with only one side changed."""
    src = tmp_path / "s.jsonl"
    src.write_text(json.dumps(PAIRS["trl_pair"]) + "\n", encoding="utf-8")
    with Store(tmp_path / "p.db") as store:
        store.import_file(src)
        gid = keep_all(store)
        store.apply(gid, [Change(1, "swap")])
        (row,) = store.kept_rows(gid)
        assert row[13] == "swapped"
        v = _Verifier(store, {s.id: s for s in store.sources()})
        assert v.ok(row)  # the stored record is what was imported
        assert not v.ok_rewritten(row, row[2])
        assert not v.ok_rewritten(row, json.dumps({"prompt": "Hi", "chosen": "Go away", "rejected": "Go away"}))
        assert v.ok_rewritten(row, json.dumps({"prompt": "Hi", "chosen": "Go away", "rejected": "Hello"}))


def test_a_swap_recorded_on_a_record_without_the_pair_is_refused_on_export(tmp_path):
    src = tmp_path / "s.jsonl"
    src.write_text(json.dumps({"instruction": "q", "output": "a"}) + "\n", encoding="utf-8")
    with Store(tmp_path / "p.db") as store:
        store.import_file(src)
        keep_all(store)
    conn = sqlite3.connect(tmp_path / "p.db")  # a project file changed outside winnow
    conn.execute("UPDATE decisions SET pref = 'swapped'")
    conn.commit()
    conn.close()
    with Store(tmp_path / "p.db") as store, pytest.raises(ExportError, match="#1 is kept swapped"):
        export(store, store.goals()[0], tmp_path / "out.jsonl")
    assert not (tmp_path / "out.jsonl").exists()


def test_preference_decisions_undo_redo_and_replay_agree(tmp_path):
    src = tmp_path / "s.jsonl"
    src.write_text("".join(json.dumps(PAIRS["trl_pair"] | {"prompt": f"q{i}"}) + "\n" for i in range(6)), "utf-8")
    with Store(tmp_path / "p.db") as store:
        store.import_file(src)
        gid = keep_all(store)
        session = open_session(store)
        assert session is not None
        session.move_to(2)
        session.prefer("swap")
        session.prefer("both-bad")  # advanced to 3
        store.apply(gid, [Change(4, "swap"), Change(4, "tag", value="checked"), Change(5, "both-bad")])
        assert store.decision(gid, 4) == Decision("keep", None, "", ("checked",), "swapped")
        assert store.decision(gid, 3) == Decision("drop", "other", "", (), "both-bad")
        assert store.pref_counts(gid) == {"swapped": 2, "both-bad": 2}
        assert store.rebuild_decisions(gid) == store.materialised_decisions(gid)
        session.undo()  # the batch on 4 and 5
        assert store.decision(gid, 4) == Decision("keep") and store.decision(gid, 5) == Decision("keep")
        assert session.cursor == 4
        session.undo()  # both bad on 3
        assert store.decision(gid, 3) == Decision("keep")
        assert store.rebuild_decisions(gid) == store.materialised_decisions(gid)
        session.redo()
        assert store.decision(gid, 3).pref == "both-bad"
        assert store.rebuild_decisions(gid) == store.materialised_decisions(gid)
        assert store.counts(gid).kept == 5 and store.counts(gid).by_reason == {"other": 1}
        session.move_to(2)
        session.prefer("swap")  # swapping a swapped pair keeps it as imported
        assert store.decision(gid, 2) == Decision("keep")
        store.apply_bulk(gid, [3], "keep")  # a plain keep ends the both-bad decision
        assert store.decision(gid, 3) == Decision("keep")
        assert store.rebuild_decisions(gid) == store.materialised_decisions(gid)
    with Store(tmp_path / "p.db") as store:  # resumable: the decisions are in the file
        assert store.pref_counts(gid) == {}


def test_winnow_decide_swap_both_bad_flip_and_undo(tmp_path):
    from tui.cli import cli as main

    src = tmp_path / "s.jsonl"
    src.write_text("".join(json.dumps(PAIRS["trl_pair"] | {"prompt": f"q{i}"}) + "\n" for i in range(4)), "utf-8")
    db = str(tmp_path / "p.db")
    with Store(db) as store:
        store.import_file(src)
        gid = keep_all(store)
    run = CliRunner().invoke
    r = run(main, ["decide", "--db", db, "--ids", "1,3", "swap"])
    assert r.exit_code == 0, r.output
    r = run(main, ["decide", "--db", db, "--ids", "1-2", "swap", "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["changes"] == [2], r.output  # 1 is swapped already
    r = run(main, ["decide", "--db", db, "--ids", "4", "both-bad"])
    assert r.exit_code == 0, r.output
    r = run(main, ["decide", "--db", db, "--ids", "4", "flip"])
    assert r.exit_code != 0 and "no KTO label" in r.output
    with Store(db) as store:
        assert store.pref_counts(gid) == {"swapped": 3, "both-bad": 1}
    r = run(main, ["undo", "--db", db, "--steps", "2"])
    assert r.exit_code == 0 and "both bad of 1 samples" in r.output, r.output
    with Store(db) as store:
        assert store.pref_counts(gid) == {"swapped": 2}
