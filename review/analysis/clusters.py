"""Links become clusters (connected components), each sample with its strongest link."""

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

    Samples sharing a text hash are always in one cluster (their similarity is 1.0). A sample's
    partner is the first sample of the text its strongest link points to; a sample with no link
    to another text points to another copy of its own text, with score 1.0.
    """
    uf = UnionFind()
    best: dict[str, tuple[float, str]] = {}
    live = [(a, b, s) for a, b, s in ([] if exact_only else links) if a in groups and b in groups]
    for a, b, s in live:
        uf.union(a, b)
        if s > best.get(a, (-1.0, ""))[0]:
            best[a] = (s, b)
        if s > best.get(b, (-1.0, ""))[0]:
            best[b] = (s, a)
    comps: dict[str, list[str]] = {}
    for h in uf.parent:
        comps.setdefault(uf.find(h), []).append(h)
    for h, sids in groups.items():
        if len(sids) > 1 and h not in uf.parent:
            comps[h] = [h]
    link_pairs: dict[str, int] = {}
    for a, b, _ in live:
        r = uf.find(a)
        link_pairs[r] = link_pairs.get(r, 0) + len(groups[a]) * len(groups[b])
    rows: list[tuple[int, int, int, int, float]] = []
    pairs = clusters = largest = mass = 0
    for root, hashes in comps.items():
        size = sum(len(groups[h]) for h in hashes)
        if size < 2:
            continue
        cid = min(groups[h][0] for h in hashes)
        clusters += 1
        largest = max(largest, size)
        mass += size - 1
        pairs += link_pairs.get(root, 0) + sum(len(groups[h]) * (len(groups[h]) - 1) // 2 for h in hashes)
        for h in hashes:
            sids = groups[h]
            if h in best:
                score, other = best[h]
                partner = groups[other][0]
                rows.extend((sid, cid, size, partner, float(score)) for sid in sids)
            else:
                for k, sid in enumerate(sids):
                    rows.append((sid, cid, size, sids[1] if k == 0 else sids[0], 1.0))
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
