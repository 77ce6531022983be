"""The fast semantic path's plumbing, with fake embedders (no model): what it embeds, caches, finds.

The "exact" embedder is FakeEmbedder; the "quick" one is the same vectors with deterministic noise
(a stand-in for the int8 model: close, not equal). The real int8 model is tested in
test_embed_onnx.py and, on 2,000 Alpaca samples, in test_analysis_real_model.py.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from analysis_helpers import add_records, found_pairs, make_project

from review.analysis import analysis_stats, run_analysis
from review.analysis.run import FAST_SAFETY_FACTOR, FAST_SAFETY_FLOOR, fast_margin_for
from review.embed import FakeEmbedder
from review.embed_onnx import CALIBRATION_GRID, FastCalibration
from review.embed_probes import PROBE_SET
from review.store import Store


class NoisyEmbedder(FakeEmbedder):
    """FakeEmbedder's vectors plus noise seeded by the text: an approximate model of the same space."""

    def __init__(self, noise: float, model_id: str = "fake-noisy"):
        super().__init__(model_id=model_id)
        self.noise = noise

    def encode(self, texts: list[str]) -> np.ndarray:
        base = super().encode(texts)
        for i, t in enumerate(texts):
            rng = np.random.default_rng(int.from_bytes(hashlib.blake2b(t.encode(), digest_size=8).digest(), "little"))
            base[i] += rng.normal(0.0, self.noise, base.shape[1]).astype(np.float32)
        return base / np.linalg.norm(base, axis=1, keepdims=True)


class CalibratedNoisyEmbedder(NoisyEmbedder):
    """A NoisyEmbedder that reports its measured error, as OnnxInt8Embedder.calibration() does."""

    def __init__(self, noise: float, shortfall: float):
        super().__init__(noise)
        self.asked = 0
        self.measured = _calibration([shortfall] * len(CALIBRATION_GRID))

    def calibration(self) -> FastCalibration:
        self.asked += 1
        return self.measured


def _calibration(shortfall: list[float]) -> FastCalibration:
    return FastCalibration(
        fingerprint={"cpu": "a test CPU"},
        probe_set=PROBE_SET,
        texts=420,
        pairs=0,
        grid=CALIBRATION_GRID,
        shortfall=tuple(shortfall),
        seconds=0.0,
    )


def _records(n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    words = ["".join(rng.choice(letters, 6)) for _ in range(2000)]
    out = []
    for k in range(n):
        q = " ".join(rng.choice(words, 8)) + f" question {k}"
        a = " ".join(rng.choice(words, 20))
        out.append({"instruction": q, "input": "", "output": a})
        if k % 7 == 3:  # near-copies at several distances
            out.append({"instruction": q, "input": "", "output": a.replace(" ", "  ", 2) + " !"})
            out.append({"instruction": q + " please", "input": "", "output": a[: len(a) * 3 // 4]})
    return out


THR = {"semantic": 0.85}


def same_pairs(got: dict, expected: dict) -> bool:
    """The same pairs, with scores equal up to float32 rounding (products of other shapes round apart)."""
    return got.keys() == expected.keys() and all(abs(got[p] - expected[p]) <= 2e-6 for p in got)


def _exact_run(tmp_path, records):
    (tmp_path / "exact").mkdir()
    db, ids = make_project(tmp_path / "exact", records)
    run_analysis(db, detectors=("semantic",), embedder=FakeEmbedder(), thresholds=THR)
    return found_pairs(db, "semantic", ids)


def test_fast_path_finds_the_exact_pairs_and_embeds_only_candidates_exactly(tmp_path):
    records = _records(200)
    expected = _exact_run(tmp_path, records)
    db, ids = make_project(tmp_path, records)
    exact, quick = FakeEmbedder(), NoisyEmbedder(0.01)
    s = run_analysis(db, detectors=("semantic",), embedder=exact, fast=True, fast_embedder=quick, thresholds=THR)
    d = s["semantic"]
    assert same_pairs(found_pairs(db, "semantic", ids), expected) and len(expected) > 40
    assert d.margin == fast_margin_for(0.85) == 0.09 and d.fast_embedded == quick.calls == d.compared
    assert d.candidates >= d.pairs == len(expected)
    # The exact model saw only texts in a candidate pair, each once.
    assert exact.calls == d.embedded == d.confirmed_texts < d.compared / 2
    with Store(db) as st:
        counts = analysis_stats(st)["embeddings"]
    assert counts == {"fake-noisy": d.compared, "fake-trigram-256": d.confirmed_texts}


def test_every_pair_is_an_exact_pair_even_when_the_quick_model_is_poor(tmp_path):
    """What the fast path guarantees (no pair below threshold) and what it does not (recall)."""
    records = _records(200)
    expected = _exact_run(tmp_path, records)
    db, ids = make_project(tmp_path, records)
    run_analysis(
        db,
        detectors=("semantic",),
        embedder=FakeEmbedder(),
        fast=True,
        fast_embedder=NoisyEmbedder(0.2),
        thresholds=THR,
    )
    got = found_pairs(db, "semantic", ids)
    assert set(got) < set(expected)  # misses pairs the noisy model pushed below threshold - margin
    assert all(abs(expected[p] - score) <= 2e-6 for p, score in got.items())


def test_switching_between_fast_and_exact_reuses_every_cached_vector(tmp_path):
    records = _records(150)
    db, ids = make_project(tmp_path, records)
    exact, quick = FakeEmbedder(), NoisyEmbedder(0.01)
    fast = run_analysis(db, detectors=("semantic",), embedder=exact, fast=True, fast_embedder=quick, thresholds=THR)
    fast_pairs = found_pairs(db, "semantic", ids)
    confirmed = exact.calls
    # An exact run afterwards searches again, embedding only the texts the fast run did not confirm.
    full = run_analysis(db, detectors=("semantic",), embedder=exact, thresholds=THR)
    assert full["semantic"].embedded == fast["semantic"].compared - confirmed
    assert full["semantic"].cached == confirmed and exact.calls == fast["semantic"].compared
    assert same_pairs(found_pairs(db, "semantic", ids), fast_pairs)
    # A fast run after that embeds nothing: every text has its exact vector, used as is.
    again = run_analysis(db, detectors=("semantic",), embedder=exact, fast=True, fast_embedder=quick, thresholds=THR)
    assert again["semantic"].fast_embedded == 0 and again["semantic"].embedded == 0
    assert exact.calls == fast["semantic"].compared and quick.calls == fast["semantic"].compared
    assert same_pairs(found_pairs(db, "semantic", ids), fast_pairs)


def test_a_stopped_fast_run_resumes_without_embedding_anything_twice(tmp_path):
    records = _records(300)
    expected = _exact_run(tmp_path, records)
    db, ids = make_project(tmp_path, records)
    exact, quick = FakeEmbedder(), NoisyEmbedder(0.01)
    part = run_analysis(
        db,
        detectors=("semantic",),
        embedder=exact,
        fast=True,
        fast_embedder=quick,
        thresholds=THR,
        should_stop=lambda: len(quick.batches) >= 3,
    )
    assert part.cancelled and not part["semantic"].complete and part["semantic"].pairs == 0
    assert quick.calls == sum(quick.batches[:3]) == part["semantic"].fast_embedded
    with Store(db) as st:
        assert analysis_stats(st)["embeddings"] == {"fake-noisy": quick.calls}  # each batch was committed
    before = quick.calls
    rest = run_analysis(db, detectors=("semantic",), embedder=exact, fast=True, fast_embedder=quick, thresholds=THR)
    assert not rest.cancelled and rest["semantic"].complete
    assert rest["semantic"].cached == before and quick.calls == rest["semantic"].compared
    assert same_pairs(found_pairs(db, "semantic", ids), expected)

    # Stopped in the confirmation: the exact vectors made so far are kept too.
    (tmp_path / "c").mkdir()
    db2, ids2 = make_project(tmp_path / "c", records)
    exact2 = FakeEmbedder()
    stop = run_analysis(
        db2,
        detectors=("semantic",),
        embedder=exact2,
        fast=True,
        fast_embedder=NoisyEmbedder(0.01),
        thresholds=THR,
        should_stop=lambda: exact2.calls > 0,
    )
    assert stop.cancelled and exact2.calls == 64
    done = run_analysis(
        db2, detectors=("semantic",), embedder=exact2, fast=True, fast_embedder=NoisyEmbedder(0.01), thresholds=THR
    )
    assert done["semantic"].embedded == done["semantic"].confirmed_texts - 64 and done["semantic"].fast_embedded == 0
    assert same_pairs(found_pairs(db2, "semantic", ids2), expected)


def test_new_samples_are_compared_with_the_old_ones(tmp_path):
    records = _records(120)
    db, _ = make_project(tmp_path, records)
    exact, quick = FakeEmbedder(), NoisyEmbedder(0.01)
    run_analysis(db, detectors=("semantic",), embedder=exact, fast=True, fast_embedder=quick, thresholds=THR)
    more = [dict(r, output=r["output"] + " .") for r in records[:10]]  # near-copies of old samples
    new_ids = add_records(db, tmp_path, more, "more")
    calls = quick.calls
    s = run_analysis(db, detectors=("semantic",), embedder=exact, fast=True, fast_embedder=quick, thresholds=THR)
    assert quick.calls - calls == len(new_ids) == s["semantic"].compared
    with Store(db) as st:
        ids = [x.id for x in sorted(st.iter_samples(), key=lambda x: x.id)]
    got = found_pairs(db, "semantic", ids)
    (tmp_path / "x").mkdir()
    expected = _exact_run(tmp_path / "x", records + more)
    assert same_pairs(got, expected) and len([p for p in got if max(p) >= len(records)]) >= 10


def test_fast_progress_stages_and_bad_arguments(tmp_path):
    db, _ = make_project(tmp_path, _records(100))
    seen: dict[str, list[tuple[int, int]]] = {}
    run_analysis(
        db,
        detectors=("semantic",),
        embedder=FakeEmbedder(),
        fast=True,
        fast_embedder=NoisyEmbedder(0.01),
        thresholds=THR,
        progress=lambda stage, done, total: seen.setdefault(stage, []).append((done, total)),
    )
    assert {"semantic: fast encode", "semantic: search", "semantic: confirm"} <= set(seen)
    for stage in ("semantic: fast encode", "semantic: confirm"):
        assert seen[stage][-1][0] == seen[stage][-1][1] > 0
    assert [fast_margin_for(t) for t in (0.95, 0.9, 0.8, 1.0)] == [0.03, 0.06, 0.12, 0.03]
    with pytest.raises(ValueError, match="fast_margin"):
        run_analysis(db, embedder=FakeEmbedder(), fast=True, fast_margin=0.9, thresholds=THR)
    with pytest.raises(ValueError, match="bundled all-MiniLM-L6-v2 only"):
        run_analysis(db, detectors=("semantic",), embedder=FakeEmbedder(), fast=True)


def test_fast_path_with_the_approximate_index(tmp_path):
    pytest.importorskip("usearch")
    records = _records(200)
    expected = _exact_run(tmp_path, records)
    db, ids = make_project(tmp_path, records)
    exact = FakeEmbedder()
    s = run_analysis(
        db,
        detectors=("semantic",),
        embedder=exact,
        fast=True,
        fast_embedder=NoisyEmbedder(0.01),
        thresholds=THR,
        semantic_index="ann",
    )
    assert s["semantic"].index == "ann" and exact.calls == s["semantic"].confirmed_texts < s["semantic"].compared
    # HNSW is approximate and usearch builds its graph on all cores, so the graph (and, rarely, a
    # pair) differs between runs: 1 run in 40 on a loaded machine missed one of the 85 pairs. What
    # holds every time: every pair found is an exact pair with the exact score, recall >= 0.97.
    got = found_pairs(db, "semantic", ids)
    assert got.keys() <= expected.keys() and all(abs(got[p] - expected[p]) <= 2e-6 for p in got)
    assert len(got) >= 0.97 * len(expected) and len(expected) > 40


def test_the_default_margin_covers_the_error_the_fast_model_measured_on_this_cpu(tmp_path):
    """A fast model that errs more than the fixed margin allows (an int8 kernel of another CPU) gets a wider one.

    NoisyEmbedder(0.03) pushes pairs at 0.85 up to about 0.16 below their exact cosine: with the
    fixed 0.09 it finds 28 of the 85 exact pairs (measured). Reporting that error through
    calibration() widens the margin to 1.25 x 0.16 + 0.005 = 0.205, which finds every pair.
    """
    records = _records(200)
    expected = _exact_run(tmp_path, records)
    got = {}
    for name, quick in (("fixed", NoisyEmbedder(0.03)), ("calibrated", CalibratedNoisyEmbedder(0.03, 0.16))):
        (tmp_path / name).mkdir()
        db, ids = make_project(tmp_path / name, records)
        s = run_analysis(
            db, detectors=("semantic",), embedder=FakeEmbedder(), fast=True, fast_embedder=quick, thresholds=THR
        )
        got[name] = (s["semantic"].margin, found_pairs(db, "semantic", ids))
    assert got["fixed"][0] == fast_margin_for(0.85) == 0.09 and len(got["fixed"][1]) < len(expected) - 20
    margin = FAST_SAFETY_FACTOR * 0.16 + FAST_SAFETY_FLOOR
    assert got["calibrated"][0] == fast_margin_for(0.85, _calibration([0.16] * 50)) == pytest.approx(margin, abs=1e-6)
    assert same_pairs(got["calibrated"][1], expected) and len(expected) > 40
    # An explicit --fast-margin is used as given; the calibration is not consulted.
    (tmp_path / "explicit").mkdir()
    db, _ = make_project(tmp_path / "explicit", records)
    quick = CalibratedNoisyEmbedder(0.03, 0.16)
    s = run_analysis(
        db,
        detectors=("semantic",),
        embedder=FakeEmbedder(),
        fast=True,
        fast_embedder=quick,
        fast_margin=0.1,
        thresholds=THR,
    )
    assert s["semantic"].margin == 0.1 and quick.asked == 0


def test_the_calibrated_margin_never_narrows_and_keeps_candidates_at_lower_thresholds():
    """fast_margin_for with a measured error: never below the fixed margin, threshold - margin never falls.

    The second property is what lets test_embed_onnx check each pair at its own fp32 cosine only:
    a pair that is a candidate at threshold c is one at every threshold below c.
    """
    # A shortfall that grows as the cosine falls, like the int8 model's (0.0303 at 0.95, 0.084 at 0.75).
    shortfall = [round(0.03 + 0.0027 * (95 - k - 50), 4) if k < 45 else 0.0303 for k in range(50)]
    cal = _calibration(shortfall)
    grid = np.round(np.arange(0.40, 1.0001, 0.001), 3)
    fixed = np.array([fast_margin_for(t) for t in grid])
    calibrated = np.array([fast_margin_for(t, cal) for t in grid])
    assert (calibrated >= fixed).all() and (calibrated > fixed).any()
    floor = grid - calibrated
    assert (np.diff(floor) >= -1e-9).all()  # 1e-9: the float rounding of the grid itself
    # Exactly the stated formula, rounded up to 1e-6, at a grid point and between two.
    assert (
        fast_margin_for(0.95, cal) == pytest.approx(1.25 * 0.0303 + 0.005, abs=1e-6)
        and fast_margin_for(0.95, cal) >= 1.25 * 0.0303 + 0.005 - 1e-9  # 1e-9: float rounding of the formula
    )
    assert cal.shortfall_at(0.955) == cal.shortfall_at(0.95) and cal.shortfall_at(0.3) == shortfall[0]
    # A small measured error leaves the fixed margin as it was.
    assert [fast_margin_for(t, _calibration([0.001] * 50)) for t in (0.95, 0.9, 0.8)] == [0.03, 0.06, 0.12]
