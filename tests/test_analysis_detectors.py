"""Duplicate detectors on constructed data with known answers (fast: FakeEmbedder for semantic)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from analysis_helpers import SHARED, add_records, found_pairs, make_project, precision_recall
from planted import EXPECTED, all_duplicates, build

from review.analysis import analysis_stats, duplicate_flags, run_analysis
from review.analysis import semantic as sem
from review.embed import FakeEmbedder
from review.model import Queue
from review.queues import default_queues
from review.session import open_session
from review.store import Store


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("planted")
    records, truth = build()
    db, ids = make_project(tmp, records)
    summary = run_analysis(db, embedder=FakeEmbedder())
    return db, ids, records, truth, summary


# Bars: exact must be perfect; lexical finds every planted near-copy kind (whitespace, punctuation,
# typos, reordered sentences, Chinese edits) and never a hard negative.
BARS = {"exact": (1.0, 1.0), "lexical": (0.97, 0.95)}


@pytest.mark.parametrize("detector", ["exact", "lexical"])
def test_precision_and_recall_on_the_planted_set(planted, detector):
    db, ids, _, truth, _ = planted
    found = set(found_pairs(db, detector, ids))
    expected = set().union(*(truth[k] for k in EXPECTED[detector]))
    precision, recall = precision_recall(found, expected, all_duplicates(truth))
    print(f"{detector}: precision {precision:.3f} recall {recall:.3f} ({len(found)} pairs)")
    p_bar, r_bar = BARS[detector]
    assert precision >= p_bar and recall >= r_bar
    assert not found & truth["negative"]


def test_exact_is_normalised_text_only(planted):
    db, ids, _, truth, _ = planted
    found = set(found_pairs(db, "exact", ids))
    assert found == truth["exact"]  # whitespace / case / full-width variants, and nothing else


def test_lexical_scores_are_similarities_at_or_above_threshold(planted):
    db, ids, _, truth, summary = planted
    found = found_pairs(db, "lexical", ids)
    assert summary["lexical"].threshold == 0.90
    assert all(0.90 <= s <= 1.0 for s in found.values())
    # reordered sentences score high although a plain edit ratio would not
    assert all(found[p] >= 0.95 for p in truth["reorder"])


def test_summary_figures_match_the_pairs(planted):
    db, ids, _, _, summary = planted
    for det in ("exact", "lexical", "semantic"):
        d = summary[det]
        assert d.pairs == len(found_pairs(db, det, ids))
        assert d.compared > 0 and d.complete
    assert summary["semantic"].embedded == summary["semantic"].compared


def test_flags_name_partner_cluster_and_reason(planted):
    db, ids, records, truth, _ = planted
    (i, j) = sorted(truth["typo"])[0]
    with Store(db) as s:
        s.add_goal("Teach the support assistant to answer billing questions.")
        flags = duplicate_flags(s, 1, s.sample(ids[i]))
    lex = [f for f in flags if f.kind == "lexical"]
    assert len(lex) == 1
    f = lex[0]
    assert f.reason == "duplicate"
    assert ids[i] in f.members and ids[j] in f.members
    assert f.partner in f.members and f.partner != ids[i]  # its strongest link
    assert f.label.startswith(f"lexical {f.score:.2f}") and f"near-copy of #{f.partner}" in f.label
    assert f.label.endswith(f"cluster of {len(f.members)}")
    assert f.details[0] == f"{f.members.index(ids[i]) + 1} of {len(f.members)} near-copies"


def test_duplicate_flags_say_why_they_fired(planted):
    """Each lexical/semantic flag says in words how alike the prompts and the answers are (issue 14)."""
    import re

    from review.analysis.flags import why_alike

    db, ids, _, truth, _ = planted
    (i, j) = sorted(truth["typo"])[0]
    with Store(db) as s:
        s.add_goal("Teach the support assistant to answer billing questions.")
        me = s.sample(ids[i])
        flags = [f for f in duplicate_flags(s, 1, me) if f.kind in ("lexical", "semantic")]
        assert flags
        for f in flags:
            why = [d for d in f.details if d.startswith("prompts ")]
            assert len(why) == 1, f.details
            m = re.fullmatch(r"prompts (\d\.\d\d) alike, answers (\d\.\d\d) alike \(characters\)", why[0])
            assert m, why[0]
            assert why[0] == why_alike(me, s.sample(f.partner))
            # a typo'd copy: both sides near-same, neither identical to an unrelated record's
            assert float(m.group(1)) >= 0.8 and float(m.group(2)) >= 0.8
        other = s.sample(ids[next(k for k in range(len(ids)) if k not in (i, j))])
        p, q = (float(x) for x in re.findall(r"\d\.\d\d", why_alike(me, other)))
        assert p < 1.0 or q < 1.0


def test_keep_one_drop_the_cluster_is_one_undo_step(planted, tmp_path):
    db, ids, _, truth, _ = planted
    with Store(db) as s:
        goal = s.active_goal() or s.add_goal("Teach the support assistant to answer billing questions.")[0]
        session = open_session(s, goal)
        assert session is not None
        (i, j) = sorted(truth["reorder"])[0]
        flag = next(f for f in session.flags(s.sample(ids[i])) if f.kind in ("lexical", "semantic"))
        session.keep_and_drop(ids[i], list(flag.members))
        assert s.decision(goal.id, ids[i]).verdict == "keep"
        assert all(s.decision(goal.id, m).verdict == "drop" for m in flag.members if m != ids[i])
        assert all(s.decision(goal.id, m).reason == "duplicate" for m in flag.members if m != ids[i])
        session.undo()
        assert all(s.decision(goal.id, m).verdict is None for m in flag.members)


def test_duplicates_queue_goes_cluster_by_cluster_and_skips_decided(planted):
    db, ids, _, _, _ = planted
    with Store(db) as s:
        goal = s.active_goal() or s.add_goal("Teach the support assistant to answer billing questions.")[0]
        session = open_session(s, goal)
        assert session is not None
        assert session.set_queue(Queue("duplicates", "all"))
        session.first()
        seen, groups = [], []
        while True:
            seen.append(session.cursor)
            if not session.next():
                break
        members = {}
        for sid in seen:
            fl = [f for f in duplicate_flags(s, goal.id, s.sample(sid)) if f.members]
            members[sid] = set().union(*(set(f.members) for f in fl)) if fl else {sid}
        # each group is contiguous in the queue: once left, it never comes back
        for sid in seen:
            g = min(members[sid])
            if not groups or groups[-1] != g:
                assert g not in groups
                groups.append(g)
        assert len(seen) == len(set(seen)) == analysis_stats(s)["duplicates"]["samples"]
        # the default duplicates queue leaves decided samples out
        session.set_queue(Queue("duplicates"))
        first = session.cursor
        session.keep_and_drop(first, [x for x in seen if min(members[x]) == min(members[first])])
        session.set_queue(Queue("duplicates"))
        assert session.cursor not in members[first]
        session.undo()


def test_stats_json_has_per_detector_figures(planted):
    db, _, _, _, summary = planted
    with Store(db) as s:
        stats = analysis_stats(s)
    for det in ("exact", "lexical", "semantic"):
        d = stats["detectors"][det]
        assert d["pairs"] == summary[det].pairs
        assert d["flagged_samples"] == summary[det].flagged
        assert d["clusters"] == summary[det].clusters
        assert d["duplicate_mass"] == summary[det].mass
    assert stats["duplicates"]["duplicate_mass"] > 0
    assert stats["embeddings"] == {"fake-trigram-256": summary["semantic"].embedded}


# ---------------------------------------------------------------------- incremental & resumable


def _records(n: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho".split()
    out = []
    for k in range(n):
        q = " ".join(rng.choice(words, 8)) + f" question {k}?"
        a = " ".join(rng.choice(words, 20)) + "."
        out.append({"instruction": q, "input": "", "output": a})
        if k % 10 == 3:  # a near-copy of the previous record
            out.append({"instruction": q, "input": "", "output": a.replace(".", "!")})
    return out


def test_rerun_does_no_work_and_new_samples_embed_only_themselves(tmp_path):
    db, _ = make_project(tmp_path, _records(200))
    emb = FakeEmbedder()
    first = run_analysis(db, embedder=emb)
    n = first["semantic"].embedded
    assert emb.calls == n > 200
    assert all(size <= 64 for size in emb.batches)
    again = run_analysis(db, embedder=emb)
    assert emb.calls == n
    assert all(d.compared == 0 for d in again.detectors)
    assert [d.pairs for d in again.detectors] == [d.pairs for d in first.detectors]
    new = add_records(db, tmp_path, _records(30, seed=1), "more")
    third = run_analysis(db, embedder=emb)
    assert emb.calls == n + len(new)
    assert third["semantic"].embedded == len(new) and third["semantic"].cached == 0
    assert third["lexical"].compared == len(new)


def test_a_stopped_run_resumes_where_it_stopped(tmp_path):
    records = _records(300)
    (tmp_path / "a").mkdir()
    whole_db, ids_whole = make_project(tmp_path / "a", records)
    whole = run_analysis(whole_db, embedder=FakeEmbedder())

    (tmp_path / "b").mkdir()
    db, ids = make_project(tmp_path / "b", records)
    emb = FakeEmbedder()

    def stop_after_three_batches() -> bool:
        return len(emb.batches) >= 3

    part = run_analysis(db, embedder=emb, should_stop=stop_after_three_batches, detectors=("semantic",))
    assert part.cancelled and not part["semantic"].complete
    assert emb.calls == sum(emb.batches[:3])
    with Store(db) as s:
        assert analysis_stats(s)["embeddings"]["fake-trigram-256"] == emb.calls  # each batch was committed
    done_before = emb.calls
    rest = run_analysis(db, embedder=emb, detectors=("semantic",))
    assert not rest.cancelled and rest["semantic"].complete
    assert rest["semantic"].cached == 0 and emb.calls == whole["semantic"].embedded  # nothing embedded twice
    assert rest["semantic"].embedded == emb.calls - done_before
    assert found_pairs(db, "semantic", ids) == found_pairs(whole_db, "semantic", ids_whole)


def test_changing_the_threshold_reuses_embeddings(tmp_path):
    db, ids = make_project(tmp_path, _records(120))
    emb = FakeEmbedder()
    run_analysis(db, embedder=emb, detectors=("semantic",))
    calls = emb.calls
    loose = run_analysis(db, embedder=emb, detectors=("semantic",), thresholds={"semantic": 0.5})
    assert emb.calls == calls and loose["semantic"].cached == calls
    assert loose["semantic"].threshold == 0.5
    assert all(s >= 0.5 for s in found_pairs(db, "semantic", ids).values())
    with pytest.raises(ValueError, match="outside"):
        run_analysis(db, embedder=emb, thresholds={"semantic": 1.5})
    with pytest.raises(ValueError, match="unknown detector"):
        run_analysis(db, embedder=emb, detectors=("fuzzy",))


def test_prompt_field_compares_prompts_only(tmp_path):
    recs = [
        {"instruction": "What is the capital of France?", "input": "", "output": "Paris."},
        {"instruction": "What is the capital of France?", "input": "", "output": "It is Paris, on the Seine."},
        {"instruction": "Name a prime number.", "input": "", "output": "Seven."},
    ]
    db, ids = make_project(tmp_path, recs)
    s = run_analysis(db, embedder=FakeEmbedder(), field="prompt", detectors=("exact",))
    assert s["exact"].field == "prompt"
    assert set(found_pairs(db, "exact", ids)) == {(0, 1)}
    run_analysis(db, embedder=FakeEmbedder(), field="full", detectors=("exact",))
    assert found_pairs(db, "exact", ids) == {}


# ---------------------------------------------------------------------- search itself


@pytest.mark.parametrize("n", [1, 7, 300])
def test_blocked_search_equals_brute_force(n):
    rng = np.random.default_rng(n)
    base = rng.normal(size=(max(n // 3, 1), 16)).astype(np.float32)
    m = base[rng.integers(0, len(base), n)] + 0.15 * rng.normal(size=(n, 16)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    m64 = m.astype(np.float64)
    full = m64 @ m64.T  # the canonical score: float64 products of the float32 vectors
    brute = {(i, j): full[i, j] for i in range(n) for j in range(i) if full[i, j] >= 0.9}
    i, j, s = sem.exact_pairs(m, 0.9, block_rows=16)
    got = dict(zip(zip(i.tolist(), j.tolist(), strict=True), s.tolist(), strict=True))
    assert set(got) == set(brute)
    # 1e-12: float64 sums of 16 products in another order (matmul vs row sums) differ in the last bits only
    assert all(abs(got[p] - brute[p]) < 1e-12 for p in brute)
    assert np.all(s >= 0.9)
    # the same pairs and bit-identical scores in other blocks, and incrementally from a start row
    i2, j2, s2 = sem.exact_pairs(m, 0.9, start=n // 2, block_rows=5)
    again = dict(zip(zip(i2.tolist(), j2.tolist(), strict=True), s2.tolist(), strict=True))
    assert again == {p: v for p, v in got.items() if p[0] >= n // 2}


def test_scores_do_not_depend_on_blocks_or_batch_composition():
    """A resumed run searches in other blocks than a run start to finish: the float32 product's last
    digits differ with the block's shape, so the stored score must come from pair_scores alone."""
    rng = np.random.default_rng(11)
    base = rng.normal(size=(40, 384)).astype(np.float32)
    m = base[rng.integers(0, 40, 600)] + 0.05 * rng.normal(size=(600, 384)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    runs = []
    for rows, cols in [(1024, 8192), (7, 8192), (64, 13), (1, 1)]:
        out_i, out_j, out_s = [], [], []
        for r0 in range(0, len(m), rows):
            i, j, s = sem.search_block(m, r0, min(r0 + rows, len(m)), 0.9, block_cols=cols)
            out_i += i.tolist()
            out_j += j.tolist()
            out_s += s.tolist()
        runs.append(dict(zip(zip(out_i, out_j, strict=True), out_s, strict=True)))
    assert len(runs[0]) > 1000
    assert all(r == runs[0] for r in runs[1:])  # same pairs, bit-identical scores


def test_approximate_index_recall_on_clustered_vectors():
    pytest.importorskip("usearch")
    rng = np.random.default_rng(3)
    centres = rng.normal(size=(300, 64)).astype(np.float32)
    m = centres[rng.integers(0, 300, 3000)] + 0.12 * rng.normal(size=(3000, 64)).astype(np.float32)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    i, j, _ = sem.exact_pairs(m, 0.8)
    exact = set(zip(i.tolist(), j.tolist(), strict=True))
    ai, aj, scores = sem.ann_pairs(m, 0.8)
    ann = set(zip(ai.tolist(), aj.tolist(), strict=True))
    assert len(exact) > 5000
    assert ann <= exact  # every reported pair is re-scored exactly
    assert len(ann) / len(exact) >= 0.99
    assert np.all(scores >= np.float32(0.8))


def test_ann_index_is_used_when_asked(tmp_path):
    pytest.importorskip("usearch")
    db, ids = make_project(tmp_path, _records(150))
    exact = run_analysis(db, embedder=FakeEmbedder(), detectors=("semantic",))
    pairs = found_pairs(db, "semantic", ids)
    (tmp_path / "b").mkdir()
    db2, ids2 = make_project(tmp_path / "b", _records(150))
    ann = run_analysis(db2, embedder=FakeEmbedder(), detectors=("semantic",), semantic_index="ann")
    assert exact["semantic"].index == "exact" and ann["semantic"].index == "ann"
    got = found_pairs(db2, "semantic", ids2)
    # Approximate: the graph is built on all cores and differs between runs, so a pair may be
    # missed (test_analysis_fast measured 1 run in 40); what is found is exact, score included.
    assert set(got) <= set(pairs) and len(got) >= len(pairs) - 1 and len(pairs) >= 15
    assert all(abs(got[p] - pairs[p]) < 1e-5 for p in got)  # re-scored in float32, dot vs matmul order


# ---------------------------------------------------------------------- real data sets


def test_glaive_toolcall_has_35_exact_duplicates(tmp_path):
    path = SHARED / "llamafactory_glaive_toolcall_en_demo.json"
    if not path.exists():
        pytest.skip(f"{path} not present (the shared data sets sit beside the repository)")
    db = tmp_path / "glaive.db"
    with Store(db) as s:
        s.import_file(path)
    summary = run_analysis(db, detectors=("exact",))
    raw = json.loads(path.read_text(encoding="utf-8"))
    byte_dups = len(raw) - len({json.dumps(r, sort_keys=True) for r in raw})
    assert byte_dups == 35
    assert summary["exact"].mass == 35  # 35 records repeat an earlier one (33 clusters, one of 3)


def test_demo_planted_duplicates(tmp_path):
    import review.demo

    demo = Path(review.demo.__file__).parent
    if not (demo / "labels.json").exists():
        pytest.skip("demo labels not there yet")
    labels = json.loads((demo / "labels.json").read_text(encoding="utf-8"))
    db = tmp_path / "demo.db"
    with Store(db) as s:
        s.import_file(demo / "support_demo.jsonl")
        ids = [x.id for x in sorted(s.iter_samples(), key=lambda x: x.position)]
    run_analysis(db, detectors=("exact", "lexical"))

    def pairs(groups):
        return {(a, b) for g in groups for a in g for b in g if a < b}

    exact, lexical = found_pairs(db, "exact", ids), found_pairs(db, "lexical", ids)
    assert set(exact) == pairs(labels["exact"])
    assert pairs(labels["lexical"]) <= set(lexical)
    assert not (set(exact) | set(lexical)) & pairs(labels["hard_negatives"])
    assert set(lexical) <= pairs(labels["exact"]) | pairs(labels["lexical"])  # no false positive


def test_flagged_queue_steps_through_flagged_samples_both_ways(planted):
    db, _, _, _, _ = planted
    with Store(db) as s:
        goal = s.active_goal() or s.add_goal("Teach the support assistant to answer billing questions.")[0]
        forward, cur = [], 0
        while (cur := default_queues().step(s, goal.id, Queue("flagged"), cur)) is not None:
            forward.append(cur)
        assert forward == sorted(forward) and len(forward) > 10
        session = open_session(s, goal)
        assert session is not None
        # every one is flagged (whole-sample exact copies by the review spine's own flag)
        assert all(session.flags(s.sample(x)) for x in forward)
        backward, cur = [], forward[-1] + 1
        while (cur := default_queues().step(s, goal.id, Queue("flagged"), cur, forward=False)) is not None:
            backward.append(cur)
        assert backward == forward[::-1]


def test_progress_reports_each_stage_up_to_its_total(tmp_path):
    db, _ = make_project(tmp_path, _records(150))
    seen: dict[str, list[tuple[int, int]]] = {}
    run_analysis(
        db,
        embedder=FakeEmbedder(),
        progress=lambda stage, done, total: seen.setdefault(stage, []).append((done, total)),
    )
    assert {"exact", "lexical: signatures", "semantic: embedding"} <= set(seen)
    emb = seen["semantic: embedding"]
    assert [d for d, _ in emb] == sorted(d for d, _ in emb) and emb[-1][0] == emb[-1][1] > 150
