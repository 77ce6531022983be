"""Honest quality: precision and recall per flag on the demo and on a labelled set the rules were not
tuned on (tests/fixtures/style, other domains). Each bar can fail; the measured figures are printed
(pytest -s) and quoted in review/style/README.md.

Demo measured (feature version 1): drift P 0.82 R 1.00 (the two extra flags, #32 "Of course" and #107 a
code block, do drift); contradictions P 1.00 R 1.00; noise P 1.00 R 1.00; moves 17/17.
Labelled set: drift P 0.89 (8 of 9 flags) R 1.00 (8 of 8); contradictions P 1.00 R 1.00; noise P 1.00 R 0.90 (a
self-contradiction whose two turns share too few words is missed); moves 7/7.

Drift since issue 14 (feature version 2): on real data (../shared, benchmarks/bench_quality.py) drift
flagged 3-35% of each dataset at ~0.3 precision; it now needs neighbours more similar than 99% of the
project's random prompt pairs, agreement beyond chance, and scores the strongest feature (plus 0.1 of
each other). The planted sets' tiny house styles lean on the features that no longer score (hedging,
first person, bold): planted drift recall fell to 0.56 (demo, 5 of 9) and 0.25 (labelled set); the
bars below are those measured figures, so a further loss still fails. Each flag still names at least
one of its planted features. Since d6590b9 (what the prompt asks for is no drift: 8 of the 10 false
English drift flags read on alpaca_en_demo go) the demo's planted #188 (an apology opening, longer)
is missed too: 4 of 9, 0.44.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from review.demo import DEMO_PATH, LABELS_PATH
from review.store import Store
from review.style import StyleStore, run_style_analysis
from review.style.features import FEATURE_VERSION
from review.style.fingerprint import Fingerprint

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "style"

# what the detail lines say for each feature named in the labels
FEATURE_WORDS = {
    "bullet_list": "bullet list",
    "numbered_list": "numbered list",
    "heading": "headings",
    "longer": "× longer",
    "apology_opening": "opens with an apology",
    "apology": "opens with an apology",
    "empathy": "opens with empathy",
    "preamble": "opens with a preamble",
    "exclamation": "exclamation marks",
    "emoji": "emoji",
    "informal_you": "uses 你 —",
    "sign_off": "signs off with",
    "punct_width": "-width punctuation —",
}

BARS = {
    # (precision, recall) that must be met; set a little under what is measured, so a regression fails
    "demo": {"drift": (0.8, 0.44), "conflict": (0.9, 1.0), "noise": (0.9, 0.95), "moves": 0.9},
    "labelled": {"drift": (0.8, 0.25), "conflict": (0.75, 0.75), "noise": (0.85, 0.85), "moves": 0.85},
}


def _measure(src: Path, labels: dict, tmp: Path) -> dict:
    db = tmp / "p.db"
    with Store(db) as s:
        s.import_file(src)
    run_style_analysis(db)
    out: dict = {}
    with Store(db) as s:
        ss = StyleStore(s)
        # sample id = line index + 1: the file is the project's only source
        want = {x["index"] + 1: x["features"] for x in labels["style_drift"]}
        flags = {r.sample_id: r for r in ss.flags_by_kind("style")}
        tp = set(want) & set(flags)
        out["drift"] = (len(tp) / max(len(flags), 1), len(tp) / len(want))
        out["drift_features"] = {
            sid - 1: [f for f in want[sid] if not any(FEATURE_WORDS[f] in d for d in flags[sid].details)] for sid in tp
        }
        out["drift_named"] = {
            sid - 1: [f for f in want[sid] if any(FEATURE_WORDS[f] in d for d in flags[sid].details)] for sid in tp
        }
        raw = labels["contradictions"]
        pairs = {tuple(sorted(p["pair"] if isinstance(p, dict) else p)) for p in raw}
        got = {tuple(sorted((r.sample_id - 1, r.partner - 1))) for r in ss.flags_by_kind("conflict")}
        out["conflict"] = (len(got & pairs) / max(len(got), 1), len(got & pairs) / len(pairs))
        out["hard_negatives_flagged"] = [p for p in labels.get("hard_negatives", []) if tuple(sorted(p)) in got]
        noisy = {x["index"] + 1: set(x["flags"]) for x in labels["noisy"]}
        nflags = {r.sample_id: r for r in ss.flags_by_kind("noise")}
        tp = set(noisy) & set(nflags)
        out["noise"] = (len(tp) / max(len(nflags), 1), len(tp) / len(noisy))
        words = {
            "empty_answer": "empty answer",
            "truncated": "truncated",
            "ends_on_user": "ends on the user",
            "placeholder": "placeholder",
            "template_field": "template field",
            "self_contradiction": "contradicts itself",
            "emotional": "emotional",
            "informal": "informal",
        }
        out["noise_triggers_missed"] = {
            sid - 1: [t for t in noisy[sid] if words[t] not in nflags[sid].label] for sid in tp
        }
        right = 0
        for b in labels["boundary"]:
            js = ss.fingerprint_of(b["index"] + 1, FEATURE_VERSION)
            right += bool(js) and Fingerprint.from_json(js).move == b["move"]
        out["moves"] = right / len(labels["boundary"])
    return out


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return _measure(DEMO_PATH, json.loads(LABELS_PATH.read_text()), tmp_path_factory.mktemp("q_demo"))


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    return _measure(
        FIXTURE / "style_labelled.jsonl",
        json.loads((FIXTURE / "labels.json").read_text()),
        tmp_path_factory.mktemp("q_labelled"),
    )


def _check(name: str, got: dict) -> None:
    bars = BARS[name]
    print(
        f"\n{name}: "
        + ", ".join(
            f"{k} P {v[0]:.2f} R {v[1]:.2f}" if isinstance(v, tuple) else f"{k} {v:.2f}"
            for k, v in got.items()
            if k in bars
        )
    )
    for kind in ("drift", "conflict", "noise"):
        p, r = got[kind]
        min_p, min_r = bars[kind]
        assert p >= min_p, f"{name} {kind} precision {p:.2f} < {min_p}"
        assert r >= min_r, f"{name} {kind} recall {r:.2f} < {min_r}"
    assert got["moves"] >= bars["moves"], f"{name} move accuracy {got['moves']:.2f}"


def test_demo_precision_and_recall(demo):
    _check("demo", demo)


def test_labelled_set_precision_and_recall(labelled):
    _check("labelled", labelled)


@pytest.mark.parametrize("which", ["demo", "labelled"])
def test_planted_drift_is_flagged_with_the_right_named_features(which, request):
    got = request.getfixturevalue(which)
    assert got["drift_named"] and all(got["drift_named"].values()), got["drift_features"]


@pytest.mark.parametrize("which", ["demo", "labelled"])
def test_noise_flags_name_the_labelled_trigger(which, request):
    got = request.getfixturevalue(which)
    assert all(not m for m in got["noise_triggers_missed"].values()), got["noise_triggers_missed"]


@pytest.mark.parametrize("which", ["demo", "labelled"])
def test_hard_negatives_are_not_contradictions(which, request):
    assert request.getfixturevalue(which)["hard_negatives_flagged"] == []
