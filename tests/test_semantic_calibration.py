"""The e5 semantic threshold against the duplicate pairs read on real data (issue 14).

SEMANTIC_THRESHOLDS is calibrated on tests/fixtures/quality/dup.jsonl; these tests fail when the
threshold, the model or the whole-record text drifts away from those labels, and when
`winnow analyze --help` stops naming each model's default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from benchmarks.quality import datasets as D
from benchmarks.quality import flags as FL
from review.analysis.run import SEMANTIC_THRESHOLDS
from review.embed_e5 import E5_MODEL_ID

DUP = Path(__file__).parent / "fixtures" / "quality" / "dup.jsonl"
ALPACA_ZH = "llamafactory_alpaca_zh_demo.json"


def test_analyze_help_names_every_models_default_semantic_threshold():
    from tui import cli_analysis

    r = CliRunner().invoke(cli_analysis.analyze, ["--help"], terminal_width=400)
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "multilingual-e5-small" in text and "all-MiniLM-L6-v2" in text
    for value in SEMANTIC_THRESHOLDS.values():
        assert f"{value:.2f}" in text


def test_e5_threshold_finds_the_read_duplicates_of_alpaca_zh():
    """Every pair read as a duplicate in Alpaca zh is flagged at e5's default (but one the veto
    refuses), and the flags that were read are >= 0.9 true (at 0.97: 12 of 12 with the veto, 13 of
    14 before it; 0.98 loses 5 of the 13)."""
    ds = D.find(ALPACA_ZH)
    if not ds.path.is_file():
        pytest.skip(f"{ds.path} is absent here (the real dataset this threshold was calibrated on)")
    labels = {}
    for line in DUP.read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        if r["dataset"] == ALPACA_ZH and r["detector"] == "semantic":
            labels[tuple(r["positions"])] = r["label"]
    assert sum(labels.values()) >= 10
    run = FL.run_dataset(ds, ["semantic"])  # vectors from the benchmark's cache when there (keyed by text and model)
    assert run.model == E5_MODEL_ID
    flagged = {f.positions for f in run.flags if f.detector == "semantic"}
    assert all(f.score >= SEMANTIC_THRESHOLDS[E5_MODEL_ID] for f in run.flags if f.detector == "semantic")
    true_pairs = {p for p, lab in labels.items() if lab}
    # Every one is flagged but those the veto refuses by design (review/analysis/veto.py): a
    # reworded question that adds a number ("common flu symptoms" / "5 common flu symptoms").
    from review.analysis.veto import pair_key
    from review.importers import open_source

    with open_source(ds.path) as reader:
        convs = [rec.conversation for rec in reader]
    missed = true_pairs - flagged
    assert all(pair_key(convs[a]) != pair_key(convs[b]) for a, b in missed), missed
    assert len(missed) <= 1
    read = [labels[p] for p in flagged if p in labels]
    assert len(read) >= 10
    assert sum(read) / len(read) >= 0.9
