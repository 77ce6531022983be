"""Duplicate clusters are stars, not chains (review/analysis/clusters.py).

Connected components chained FastChat's 500 templated identity chats into one cluster, so "keep
one per cluster" would have kept 1 of 500 different questions. Built from links written here."""

from __future__ import annotations

import random

from review.analysis.clusters import build_clusters


def _by_sample(rows):
    return {sid: (cid, size, partner, score) for sid, cid, size, partner, score in rows}


def test_a_chain_is_not_one_cluster():
    # a ~ b ~ c ~ d ~ e, each only like its neighbours: the old components made one cluster of 5
    groups = {h: [i] for i, h in enumerate("abcde", 1)}
    links = [("a", "b", 0.98), ("b", "c", 0.98), ("c", "d", 0.98), ("d", "e", 0.98)]
    rows, fig = build_clusters(groups, links)
    sizes = sorted({(cid, size) for _, cid, size, _, _ in rows})
    assert fig["largest"] < 5 and len(sizes) >= 2, sizes


def test_every_member_is_linked_to_its_partner_and_within_two_steps_of_the_centre():
    rnd = random.Random(7)
    hashes = [f"h{i}" for i in range(60)]
    groups = {h: [i + 1] for i, h in enumerate(hashes)}
    links = {}
    for _ in range(150):
        a, b = rnd.sample(hashes, 2)
        links[tuple(sorted((a, b)))] = round(rnd.uniform(0.95, 1.0), 3)
    flat = [(a, b, s) for (a, b), s in links.items()]
    rows, _ = build_clusters(groups, flat)
    sid_hash = {groups[h][0]: h for h in hashes}
    linked = {frozenset(k): s for k, s in links.items()}
    members: dict[int, list[int]] = {}
    for sid, cid, _size, partner, score in rows:
        key = frozenset((sid_hash[sid], sid_hash[partner]))
        assert key in linked and linked[key] == score, (sid, partner)  # the partner is a real link, its score
        members.setdefault(cid, []).append(sid)
    for cid, sids in members.items():
        assert len(sids) == next(size for s, c, size, _, _ in rows if c == cid)
    # one cluster per sample, and the same links give the same clusters
    assert len({r[0] for r in rows}) == len(rows)
    assert sorted(build_clusters(groups, list(reversed(flat)))[0]) == sorted(rows)


def test_the_best_connected_text_is_the_centre_and_copies_stay_together():
    # "c" is linked to everything; "a" has two copies (samples 1 and 2)
    groups = {"a": [1, 2], "b": [3], "c": [4], "d": [5], "x": [6]}
    links = [("a", "c", 0.99), ("b", "c", 0.97), ("d", "c", 0.98), ("a", "b", 0.96)]
    rows, fig = build_clusters(groups, links)
    got = _by_sample(rows)
    assert {sid for sid in got} == {1, 2, 3, 4, 5}  # x has no link and one copy: not flagged
    assert {v[0] for v in got.values()} == {1} and fig["clusters"] == 1 and fig["largest"] == 5
    assert got[3][2] == 4 and got[3][3] == 0.97  # b's partner is the centre c, not a
    assert got[1][2] == got[2][2] == 4  # both copies of a point to c
    assert got[4][2] == 1 and got[4][3] == 0.99  # the centre names its strongest member


def test_a_text_whose_links_were_taken_joins_its_nearest_text_cluster():
    # centre c takes b and d; e links only to d (taken): e joins c's cluster with d as its partner
    groups = {h: [i] for i, h in enumerate("bcde", 1)}
    links = [("b", "c", 0.99), ("c", "d", 0.98), ("d", "e", 0.97)]
    got = _by_sample(build_clusters(groups, links)[0])
    assert got[4][0] == got[2][0] and got[4][2] == 3 and got[4][3] == 0.97


def test_copies_without_links_are_one_cluster_each_copy_naming_another():
    got = _by_sample(build_clusters({"a": [3, 8, 9]}, [])[0])
    assert got == {3: (3, 3, 8, 1.0), 8: (3, 3, 3, 1.0), 9: (3, 3, 3, 1.0)}
