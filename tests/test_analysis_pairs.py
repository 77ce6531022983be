"""Preference pair analysis (issue 15, review/analysis/pairs.py): the four checks on real SQLite
projects imported from small real-layout files, the queue, the flag provider, `winnow analyze`,
and the counts on the real LLaMA-Factory preference files."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SHARED

from review.analysis import run_analysis
from review.analysis.pairs import pair_flags
from review.flags import default_flag_providers
from review.model import Queue
from review.queues import default_queues
from review.store import Store
from review.style.pair_noise import noise_check


def dpo(prompt: str, chosen: str, rejected: str) -> dict:
    return {
        "conversations": [{"from": "human", "value": prompt}],
        "chosen": {"from": "gpt", "value": chosen},
        "rejected": {"from": "gpt", "value": rejected},
    }


def kto(prompt: str, answer: str, label: bool) -> dict:
    return {"messages": [{"role": "user", "content": prompt}, {"role": "assistant", "content": answer}], "label": label}


LONG = "The capital of France is Paris, a city on the Seine known for its museums and its food."


def project(tmp_path: Path, records: list[dict], name: str = "pairs.json") -> Path:
    src = tmp_path / name
    src.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
    run_analysis(db, detectors=("exact",), pair_noise=noise_check)
    return db


def flags_of(db: Path) -> dict[int, list]:
    with Store(db) as store:
        return {s.id: pair_flags(store, 1, s) for s in store.iter_samples()}


def test_near_identical_and_truncated_chosen_are_flagged_in_words(tmp_path):
    db = project(
        tmp_path,
        [
            dpo("Capital of France?", LONG, LONG.replace("museums", "museum")),  # 1 character
            dpo("Is it raining?", "Yes.", "No."),  # a preference
            dpo("你是故意的吗？", "我真的是故意的。", "我是故意的。"),  # 2 characters
            dpo("Name a colour.", "Blue.", "Blue."),
            dpo(
                "List fruits.", "You can buy apples, pears and", "You can buy apples, pears and plums."
            ),  # chosen cut off
            dpo("List trees.", "Oak, ash and elm.", "Oak, ash and"),  # rejected cut off: fine
        ],
    )
    f = flags_of(db)
    assert [x.label for x in f[1]] == ["pair: chosen and rejected differ by 1 character (99% the same)"]
    assert f[2] == []
    assert [x.label for x in f[3]] == ["pair: chosen and rejected differ by 2 characters (85% the same)"]
    assert [x.label for x in f[4]] == ["pair: chosen and rejected are the same text (no preference signal)"]
    assert [x.kind for x in f[5]] == ["pair-noise"]
    assert f[5][0].label.startswith("pair: chosen is truncated; rejected is not — ends on the connective “and”")
    assert f[6] == []


def test_contradicting_preferences_name_the_other_record(tmp_path):
    x, y, z = LONG, "Paris is not the capital; Lyon is, since 1990.", "It is Marseille, by the sea."
    db = project(
        tmp_path,
        [
            dpo("Capital of France?", x, y),
            dpo("Capital of France?", y + " ", x),  # the other way round
            dpo("Capital of France?", z, x.replace("food", "foods")),  # rejects 1's chosen
            dpo("Capital of Spain?", "Madrid.", "Paris."),
        ],
    )
    f = flags_of(db)
    c1 = [x for x in f[1] if x.kind == "pair-contradiction"]
    assert c1 and c1[0].label == "pair: contradicts #2: it prefers the other way round" and c1[0].partner == 2
    c3 = [x for x in f[3] if x.kind == "pair-contradiction"]
    assert c3[0].label == "pair: contradicts #1: this record's rejected is #1's chosen"
    assert c3[0].score < c1[0].score
    prompt = [x for x in f[1] if x.kind == "pair-prompt"][0]
    assert prompt.label == "pair: same prompt as #2, other answers · 3 records ask it"
    assert f[4] == []


def test_kto_same_answer_labelled_both_ways_and_copies(tmp_path):
    db = project(
        tmp_path,
        [
            kto("Say hi.", "Hello there!", True),
            kto("Say hi.", "Hello there!", False),
            kto("Say bye.", "Goodbye.", True),
            kto("Say bye.", "Goodbye.", True),
        ],
    )
    f = flags_of(db)
    c = [x for x in f[1] if x.kind == "pair-contradiction"]
    assert c[0].label == "KTO: contradicts #2: this record's desirable answer is #2's undesirable answer"
    assert [x.label for x in f[3]] == ["KTO: same prompt and answers as #4 · 2 records ask it"]


def test_pairs_queue_most_certain_first_counted_and_offered(tmp_path):
    db = project(
        tmp_path,
        [
            dpo("Q1?", "Blue.", "Blue."),  # 1.0
            dpo("Q2?", "You can buy apples, pears and", "You can buy apples, pears and plums."),  # truncated 0.85
            dpo("Q3?", LONG, LONG.replace("museums", "museum")),  # 0.98
            dpo("Q4?", "Yes.", "No."),
        ],
    )
    table = default_queues()
    assert "pairs" in table.offered()
    with Store(db) as store:
        order, after = [], 0
        while (nxt := table.step(store, 1, Queue("pairs"), after)) is not None:
            order.append(nxt)
            after = nxt
        assert order == [1, 3, 2]
        assert table.count(store, 1, Queue("pairs")).count == 3
        # the registry's providers include the pair flags, each one indexed read
        sample = store.sample(2)
        assert sample is not None
        t = time.perf_counter()
        flags = [x for p in default_flag_providers() for x in p(store, 1, sample)]
        assert (time.perf_counter() - t) < 0.05
        assert any(x.kind == "pair-noise" for x in flags)


def test_analyze_command_prints_and_jsons_the_pair_counts(tmp_path):
    from tui.cli import cli

    src = tmp_path / "p.json"
    src.write_text(json.dumps([dpo("Q?", "Blue.", "Blue."), dpo("R?", "Yes.", "No.")]), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(src)
    r = CliRunner().invoke(cli, ["analyze", "--db", str(db), "--detector", "exact", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["pairs"]["counts"] == {
        "pair-same": 1,
        "pair-noise": 0,
        "pair-contradiction": 0,
        "pair-prompt": 0,
    }
    r = CliRunner().invoke(cli, ["analyze", "--db", str(db), "--detector", "exact"])
    assert r.exit_code == 0 and "1 near-identical chosen/rejected" in r.output


def test_real_preference_files(tmp_path):
    path = SHARED / "llamafactory_dpo_en_demo.json"
    if not path.exists():
        pytest.skip(f"{path} is absent: the real datasets live beside the repository, not in it")
    db = tmp_path / "p.db"
    with Store(db) as store:
        store.import_file(path)
    summary = run_analysis(db, detectors=("exact",), pair_noise=noise_check)
    assert summary.pairs is not None and summary.pairs.records == 300
    f = flags_of(db)
    same = sorted(sid for sid, fl in f.items() if any(x.kind == "pair-same" for x in fl))
    assert same == [44]  # "in Gorazde" dropped from the rejected: the one near copy read
    noisy = sorted(sid for sid, fl in f.items() if any(x.kind == "pair-noise" for x in fl))
    assert {8, 172} <= set(noisy)  # chosen code blocks cut off mid-line
    prompt = sorted(sid for sid, fl in f.items() if any(x.kind == "pair-prompt" for x in fl))
    assert prompt == [14, 29, 85, 112, 118, 158, 187, 231, 249, 276]  # the file's 5 exact duplicates
