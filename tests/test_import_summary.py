"""The import summary says what the review will show beyond turns (issue 15): a pair or KTO file
named only "as openai" read like plain SFT. Built from records written here, so it runs without
../shared."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from tui.cli import cli


def _import(tmp_path: Path, records: list[dict]) -> str:
    src = tmp_path / "data.jsonl"
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    r = CliRunner().invoke(cli, ["import", "--db", str(tmp_path / "p.db"), str(src)])
    assert r.exit_code == 0, r.output
    return r.output


def _msgs(q: str, a: str) -> list[dict]:
    return [{"role": "user", "content": q}, {"role": "assistant", "content": a}]


def test_kto_labels_are_counted_in_the_summary(tmp_path: Path) -> None:
    recs = [{"messages": _msgs(f"问题{i}", f"回答{i}"), "label": i % 3 != 0} for i in range(9)]
    out = _import(tmp_path, recs)
    assert "imported 9 samples" in out
    assert "9 KTO-labelled: 6 desirable, 3 undesirable" in out
    assert "preference pairs" not in out


def test_pairs_are_counted_and_plain_sft_says_nothing_more(tmp_path: Path) -> None:
    recs = [{"prompt": f"q{i}", "chosen": f"good {i}", "rejected": f"bad {i}"} for i in range(4)]
    out = _import(tmp_path, recs)
    assert "4 preference pairs: the review shows chosen and rejected side by side" in out
    sft_dir = tmp_path / "sft"
    sft_dir.mkdir()
    out = _import(sft_dir, [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(3)])
    assert out.count("\n") == 1, out  # only the "imported" line


def test_a_refused_file_after_others_says_which_stay_imported(tmp_path: Path) -> None:
    # each file is its own transaction: "nothing was imported; the project is unchanged" was false
    # once an earlier file of the same command had been imported
    ok, bad = tmp_path / "ok.jsonl", tmp_path / "bad.jsonl"
    ok.write_text('{"instruction": "q", "output": "a"}\n', encoding="utf-8")
    bad.write_text('{"instruction": "q"\n', encoding="utf-8")
    db = str(tmp_path / "p.db")
    r = CliRunner().invoke(cli, ["import", "--db", db, str(ok), str(bad)])
    assert r.exit_code == 2
    assert "ok.jsonl: imported 1 sample as alpaca" in r.output
    assert "(nothing was imported from bad.jsonl; ok.jsonl stays imported)" in r.output
    assert "the project is unchanged" not in r.output
    r = CliRunner().invoke(cli, ["import", "--db", str(tmp_path / "q.db"), str(bad)])
    assert r.exit_code == 2 and "(nothing was imported; the project is unchanged)" in r.output


def test_fields_the_format_does_not_read_are_named_in_the_summary(tmp_path: Path) -> None:
    # COIG-CQIA's shape: metadata beside the alpaca fields; one record spells instruction otherwise.
    recs = [
        {
            "instruction": f"问题{i}",
            "input": "",
            "output": f"回答{i}",
            "task_type": {"major": ["问答"]},
            "domain": ["医学"],
        }
        for i in range(5)
    ]
    recs.append({"instuction": "问题5", "input": "", "output": "回答5", "copyright": "CC", "empty": ""})
    out = _import(tmp_path, recs)
    line = next(ln for ln in out.splitlines() if "fields not shown as turns" in ln)
    assert line.endswith(": task_type, domain, copyright"), line  # not instuction (read), not an empty value
    sft = tmp_path / "sft"
    sft.mkdir()
    assert "fields not shown" not in _import(sft, [{"messages": _msgs("q", "a")}])
