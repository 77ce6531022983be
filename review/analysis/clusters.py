"""Links become clusters (stars around a centre, not chains), each sample with its partner."""

from __future__ import annotations

from collections.abc import Sequence

from .store import AnalysisStore


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict = {}

    def find(self, x):
        p = self.parent
        p.setdefault(x, x)
        while p[x] != x:
            p[x] = p[p[x]]
            x = p[x]
        return x

    def union(self, a, b) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def build_clusters(
    groups: dict[str, list[int]], links: Sequence[tuple[str, str, float]], *, exact_only: bool = False
) -> tuple[list[tuple[int, int, int, int, float]], dict]:
    """Rows (sample_id, cluster_id, size, partner, score) and figures for one detector.

    Samples sharing a text hash are always in one cluster (their similarity is 1.0). Texts joined
    by links form *star* clusters, not connected components: every member is linked directly to
    its cluster's centre, so a member is at least as similar to the centre as the threshold asks.
    Connected components chain: on FastChat's 500 templated identity chats every sample was in
    one cluster (A ~ B ~ C … with A and Z different questions), and "keep one per cluster" would
    have kept 1 of 500. Centres are chosen greedily, the text with the most links first (ties:
    the lowest sample id), and take every linked text not yet in a cluster; a text whose linked
    texts are all taken by then joins the cluster of the one it is most similar to. Each sample is
    in one cluster per detector. A member's partner is the text whose link put it there (its
    centre, or that nearest text); a centre's, its strongest member. Deterministic: the same links
    give the same clusters.
    """
    live = [(a, b, s) for a, b, s in ([] if exact_only else links) if a in groups and b in groups and a != b]
    adj: dict[str, dict[str, float]] = {}
    for a, b, s in live:
        sa = adj.setdefault(a, {})
        sb = adj.setdefault(b, {})
        if s > sa.get(b, -1.0):
            sa[b] = s
            sb[a] = s
    # The most linked texts first (weighted by their copies), then the one seen first in the project.
    order = sorted(adj, key=lambda h: (-sum(len(groups[o]) for o in adj[h]) - len(groups[h]), groups[h][0]))
    centre_of: dict[str, str] = {}
    partner_of: dict[str, str] = {}  # the text each member's flag names: a text it is linked to
    comps: dict[str, list[str]] = {}
    for h in order:
        if h in centre_of:
            continue
        taken = [o for o in sorted(adj[h], key=lambda o: (-adj[h][o], groups[o][0])) if o not in centre_of]
        if not taken:
            continue  # every text it links to is in a cluster already: it joins one below
        centre_of[h] = h
        comps[h] = [h, *taken]
        for o in taken:
            centre_of[o] = h
            partner_of[o] = h
        partner_of[h] = taken[0]
    # A text whose links all went to other centres' clusters joins the cluster of the text it is
    # most similar to (one step from that cluster's centre, never further: its neighbours are all
    # placed, so nothing joins through it).
    for h in order:
        if h not in centre_of:
            best = max(adj[h], key=lambda o: (adj[h][o], -groups[o][0]))
            centre_of[h] = centre_of[best]
            partner_of[h] = best
            comps[centre_of[best]].append(h)
    for h, sids in groups.items():
        if len(sids) > 1 and h not in centre_of:
            comps[h] = [h]
    rows: list[tuple[int, int, int, int, float]] = []
    clusters = largest = mass = 0
    pairs = sum(len(groups[a]) * len(groups[b]) for a, b, _ in live)
    for hashes in comps.values():
        size = sum(len(groups[h]) for h in hashes)
        pairs += sum(len(groups[h]) * (len(groups[h]) - 1) // 2 for h in hashes)
        if size < 2:
            continue
        cid = min(groups[h][0] for h in hashes)
        clusters += 1
        largest = max(largest, size)
        mass += size - 1
        for h in hashes:
            sids = groups[h]
            if h in partner_of:
                o = partner_of[h]
                rows.extend((sid, cid, size, groups[o][0], float(adj[h][o])) for sid in sids)
            else:  # copies of one text and nothing else: each points to another copy
                rows.extend((sid, cid, size, sids[1] if k == 0 else sids[0], 1.0) for k, sid in enumerate(sids))
    figures = {"pairs": pairs, "flagged": len(rows), "clusters": clusters, "largest": largest, "mass": mass}
    return rows, figures


def rebuild(astore: AnalysisStore, detector: str, groups: dict[str, list[int]]) -> dict:
    rows, figures = build_clusters(groups, astore.links(detector), exact_only=detector == "exact")
    astore.replace_clusters(detector, rows)
    return figures


def rebuild_queue(astore: AnalysisStore) -> int:
    """The duplicates queue: clusters of every detector merged, group by group, members in id order."""
    uf = UnionFind()
    for sid, _det, cid in astore.all_cluster_memberships():
        uf.union(sid, cid)
    members: dict[int, list[int]] = {}
    for sid in list(uf.parent):
        members.setdefault(uf.find(sid), []).append(sid)
    rows = [(sid, gid) for gid in sorted(members) for sid in sorted(members[gid])]
    astore.replace_queue(rows)
    return len(members)
