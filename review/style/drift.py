"""Style drift: each answer's fingerprint against the answers to its most similar prompts.

For sample i the comparison set is its nearest prompts (`neighbours.py`) that reach the minimum
similarity and whose answers make the same move (plain answers: a refusal is a boundary, not
drift). With fewer than MIN_NEIGHBOURS of them it is compared with its group instead: the values
of a user-chosen field (a category), else the whole project. The rules and thresholds are the
table in `features.py`; this module only counts. Everything is vectorised over samples: the
comparison sets are an (n, k) index matrix, so 52k samples cost a few numpy passes, and the Python
loop that writes the named details runs only for the samples that drift.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from . import features as F
from .fingerprint import Fingerprint

SCORED_FLAGS = tuple(f.name for f in F.FEATURES if f.kind == "flag" and f.weight > 0)
CATEGORIES: dict[str, tuple[str, ...]] = {
    # value codes; the values listed in IGNORED never count (nothing to compare)
    "you_zh": ("none", "您", "你", "mixed"),
    "script": ("none", "zh", "en", "mixed", "ja", "ko", "other"),
    "punct_width": ("n/a", "none", "full", "half", "mixed"),
}
IGNORED = {"you_zh": {"none"}, "script": {"none"}, "punct_width": {"n/a", "none"}}
VALUE_NAMES = {
    "you_zh": {"您": "您", "你": "你", "mixed": "both 您 and 你"},
    "script": F.SCRIPT_NAMES,
    "punct_width": {"full": "full", "half": "half", "mixed": "mixed"},
}
_W_FLAG = np.array([F.FEATURE_BY_NAME[n].weight for n in SCORED_FLAGS])
_CAT_NAMES = tuple(CATEGORIES)
_W_CAT = np.array([F.FEATURE_BY_NAME[n].weight for n in _CAT_NAMES])


@dataclass(frozen=True)
class Drift:
    """One sample's drift: score, the named features that drift (short form, full detail line)."""

    score: float
    short: tuple[str, ...]  # "bullet list", "3.4× longer", "uses 你"
    details: tuple[str, ...]  # "bullet list — 1 of 9 similar answers use one"
    typical: int | None  # position of the group's most central answer
    compared: int  # answers compared with
    basis: str  # "similar prompts" | "field category=billing" | "whole project"


@dataclass
class Encoded:
    flags: np.ndarray  # (n, F) bool
    cats: np.ndarray  # (n, C) int16, -1 = nothing to compare
    tokens: np.ndarray  # (n,) float64
    valid: np.ndarray  # (n,) bool: has an answer that is a plain answer
    evidence: list[dict]


def encode(fps: Sequence[Fingerprint | None]) -> Encoded:
    n = len(fps)
    flags = np.zeros((n, len(SCORED_FLAGS)), dtype=bool)
    cats = np.full((n, len(_CAT_NAMES)), -1, dtype=np.int16)
    tokens = np.zeros(n)
    valid = np.zeros(n, dtype=bool)
    evidence: list[dict] = [{}] * n
    codes = {c: {v: k for k, v in enumerate(vals)} for c, vals in CATEGORIES.items()}
    for i, fp in enumerate(fps):
        if fp is None or fp.tokens == 0:
            continue
        valid[i] = fp.move == "answer"
        tokens[i] = fp.tokens
        flags[i] = [getattr(fp, name) for name in SCORED_FLAGS]
        for c, name in enumerate(_CAT_NAMES):
            v = getattr(fp, name)
            if v not in IGNORED[name]:
                cats[i, c] = codes[name].get(v, -1)
        evidence[i] = fp.evidence
    return Encoded(flags, cats, tokens, valid, evidence)


def _noisy_or(w: np.ndarray) -> np.ndarray:
    return 1.0 - np.prod(1.0 - np.clip(w, 0.0, 0.99), axis=-1)


def _length_weight(ratio: np.ndarray) -> np.ndarray:
    lr = np.abs(np.log2(np.where(ratio > 0, ratio, 1.0)))
    return np.minimum(F.LENGTH_MAX_WEIGHT, F.LENGTH_WEIGHT_PER_DOUBLING * lr)


@dataclass
class _Stats:
    """Counts over each sample's comparison set, (n, ...) arrays."""

    n: np.ndarray  # (n,) answers compared
    flag_k: np.ndarray  # (n, F) how many of them have each flag
    cat_k: list[np.ndarray]  # per category: (n, V) how many have each value
    cat_n: np.ndarray  # (n, C) how many have a comparable value
    med: np.ndarray  # (n,) median tokens
    lo: np.ndarray
    hi: np.ndarray


def _stats_from_sets(enc: Encoded, idx: np.ndarray, mask: np.ndarray) -> _Stats:
    safe = np.maximum(idx, 0)
    n = mask.sum(axis=1)
    flag_k = (enc.flags[safe] & mask[..., None]).sum(axis=1)
    cat_k, cat_n = [], np.zeros((len(idx), len(_CAT_NAMES)), dtype=np.int64)
    for c, name in enumerate(_CAT_NAMES):
        codes = np.where(mask, enc.cats[safe, c], -1)
        k = np.stack([(codes == v).sum(axis=1) for v in range(len(CATEGORIES[name]))], axis=1)
        cat_k.append(k)
        cat_n[:, c] = (codes >= 0).sum(axis=1)
    tok = np.where(mask, enc.tokens[safe], np.nan)
    with np.errstate(all="ignore"):
        med = np.where(n > 0, np.nanmedian(np.where(n[:, None] > 0, tok, 0.0), axis=1), 0.0)
        # the answer must also lie outside the bulk of the set (10th-90th percentile), so one other
        # long answer among the neighbours does not hide a third one
        lo = np.where(n > 0, np.nanpercentile(np.where(n[:, None] > 0, tok, 0.0), 10, axis=1), 0.0)
        hi = np.where(n > 0, np.nanpercentile(np.where(n[:, None] > 0, tok, 0.0), 90, axis=1), 0.0)
    return _Stats(n, flag_k, cat_k, cat_n, med, lo, hi)


def _stats_from_groups(enc: Encoded, groups: np.ndarray, rows: np.ndarray) -> tuple[_Stats, dict[int, int]]:
    """Stats of each row's whole group (the row itself left out), and each group's typical member."""
    out_n = np.zeros(len(rows), dtype=np.int64)
    flag_k = np.zeros((len(rows), len(SCORED_FLAGS)), dtype=np.int64)
    cat_k = [np.zeros((len(rows), len(CATEGORIES[c])), dtype=np.int64) for c in _CAT_NAMES]
    cat_n = np.zeros((len(rows), len(_CAT_NAMES)), dtype=np.int64)
    med, lo, hi = np.zeros(len(rows)), np.zeros(len(rows)), np.zeros(len(rows))
    typical: dict[int, int] = {}
    for g in np.unique(groups[rows]):
        members = np.flatnonzero((groups == g) & enc.valid)
        here = np.flatnonzero(groups[rows] == g)
        if not len(members):
            continue
        fk = enc.flags[members].sum(axis=0)
        ck = [
            np.bincount(
                np.maximum(enc.cats[members, c], 0),
                weights=(enc.cats[members, c] >= 0),
                minlength=len(CATEGORIES[name]),
            ).astype(np.int64)
            for c, name in enumerate(_CAT_NAMES)
        ]
        tok = enc.tokens[members]
        me = rows[here]
        inside = enc.valid[me].astype(np.int64)  # leave the sample itself out of its own group
        out_n[here] = len(members) - inside
        flag_k[here] = fk[None, :] - enc.flags[me] * inside[:, None]
        for c in range(len(_CAT_NAMES)):
            own = np.zeros((len(me), len(ck[c])), dtype=np.int64)
            ok = enc.cats[me, c] >= 0
            own[np.flatnonzero(ok), enc.cats[me, c][ok]] = 1
            cat_k[c][here] = ck[c][None, :] - own * inside[:, None]
            cat_n[here, c] = cat_k[c][here].sum(axis=1)
        med[here], lo[here], hi[here] = np.median(tok), np.quantile(tok, 0.1), np.quantile(tok, 0.9)
        typ = _typicality(enc, members, fk, ck, len(members), float(np.median(tok)))
        typical[int(g)] = int(members[int(np.argmax(typ))])
    return _Stats(out_n, flag_k, cat_k, cat_n, med, lo, hi), typical


def _typicality(enc: Encoded, members: np.ndarray, fk: np.ndarray, ck: list[np.ndarray], n: int, med: float):
    """How much each member agrees with the group, feature by feature: the highest is the typical answer."""
    agree = np.where(enc.flags[members], fk[None, :], n - fk[None, :]).sum(axis=1) / max(n, 1)
    for c in range(len(_CAT_NAMES)):
        codes = enc.cats[members, c]
        agree = agree + np.where(codes >= 0, ck[c][np.maximum(codes, 0)], 0) / max(n, 1)
    closeness = -np.abs(np.log2(np.maximum(enc.tokens[members], 1) / max(med, 1)))
    return agree + closeness


def score_all(
    enc: Encoded, stats: _Stats, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray], np.ndarray, np.ndarray]:
    """Per row: drift score and the arrays behind it (rare flags, missing flags, category drifts, ratio)."""
    n = np.maximum(stats.n, 1)[:, None]
    has = enc.flags[rows]
    rare = has & (stats.flag_k <= np.floor(F.RARE_SHARE * n + 1e-9)) & (stats.n[:, None] >= F.MIN_NEIGHBOURS)
    missing = ~has & (stats.flag_k >= np.ceil(F.COMMON_SHARE * n - 1e-9)) & (stats.n[:, None] >= F.MIN_NEIGHBOURS)
    w = np.where(rare, _W_FLAG, 0.0) + np.where(missing, _W_FLAG * F.ABSENT_FACTOR, 0.0)
    cat_drift = []
    wc = np.zeros((len(rows), len(_CAT_NAMES)))
    for c in range(len(_CAT_NAMES)):
        k = stats.cat_k[c]
        mode = np.argmax(k, axis=1)
        mode_k = k[np.arange(len(rows)), mode]
        own = enc.cats[rows, c]
        drift = (
            (own >= 0)
            & (own != mode)
            & (stats.cat_n[:, c] >= F.MIN_NEIGHBOURS)
            & (mode_k >= np.ceil(F.MODE_SHARE * np.maximum(stats.cat_n[:, c], 1) - 1e-9))
        )
        own_k = np.where(own >= 0, k[np.arange(len(rows)), np.maximum(own, 0)], 0)
        drift &= own_k <= np.floor(F.RARE_SHARE * np.maximum(stats.cat_n[:, c], 1) + 1e-9)
        cat_drift.append(np.where(drift, mode, -1))
        wc[:, c] = np.where(drift, _W_CAT[c], 0.0)
    tok = enc.tokens[rows]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(stats.med > 0, tok / np.maximum(stats.med, 1e-9), 1.0)
    long_ok = (np.maximum(tok, stats.med) >= F.LENGTH_MIN_TOKENS) & (stats.n >= F.MIN_NEIGHBOURS)
    longer = long_ok & (ratio >= F.LENGTH_RATIO) & (tok > stats.hi)
    shorter = long_ok & (ratio <= 1 / F.LENGTH_RATIO) & (tok < stats.lo)
    wl = np.where(longer | shorter, _length_weight(ratio), 0.0)
    score = _noisy_or(np.concatenate([w, wc, wl[:, None]], axis=1))
    return score, rare, missing, cat_drift, np.where(longer | shorter, ratio, 0.0), stats.med


def _describe(enc: Encoded, stats: _Stats, r: int, row: int, rare, missing, cat_drift, ratio, med, noun: str):
    n = int(stats.n[r])
    short, details, weights = [], [], []
    ev = enc.evidence[row]
    for f, name in enumerate(SCORED_FLAGS):
        feat = F.FEATURE_BY_NAME[name]
        k = int(stats.flag_k[r, f])
        if rare[r, f]:
            text = feat.rare.format(k=k, n=n, evidence=ev.get(name, "")).replace(" ()", "")
            short.append(feat.label)
            weights.append(feat.weight)
        elif missing[r, f]:
            text = feat.missing.format(k=k, n=n)
            short.append(f"no {feat.label}")
            weights.append(feat.weight * F.ABSENT_FACTOR)
        else:
            continue
        details.append(text.replace("similar answers", noun))
    for c, name in enumerate(_CAT_NAMES):
        mode = int(cat_drift[c][r])
        if mode < 0:
            continue
        vals = CATEGORIES[name]
        own = vals[int(enc.cats[row, c])]
        names = VALUE_NAMES[name]
        k = int(stats.cat_k[c][r, mode])
        text = F.CATEGORY_TEMPLATES[name].format(
            value=names.get(own, own), mode=names.get(vals[mode], vals[mode]), k=k, n=int(stats.cat_n[r, c])
        )
        details.append(text.replace("similar answers", noun))
        short.append(
            {
                "you_zh": f"uses {names.get(own, own)}",
                "script": f"answers in {names.get(own, own)}",
                "punct_width": f"{names.get(own, own)}-width punctuation",
            }[name]
        )
        weights.append(F.FEATURE_BY_NAME[name].weight)
    if ratio[r] > 0:
        x = float(ratio[r])
        word = f"{x:.1f}× longer" if x >= 1 else f"{1 / x:.1f}× shorter"
        short.append(word)
        details.append(
            f"{word} than the typical answer ({int(enc.tokens[row])} vs {med[r]:.0f} tokens, "
            f"{n} {noun.replace('similar answers', 'similar answers')})"
        )
        weights.append(float(_length_weight(np.array([x]))[0]))
    order = sorted(range(len(short)), key=lambda i: -weights[i])
    return tuple(short[i] for i in order), tuple(details[i] for i in order)


def compute_drift(
    fps: Sequence[Fingerprint | None],
    nbr_idx: np.ndarray,
    nbr_sim: np.ndarray,
    min_sim: np.ndarray,
    groups: np.ndarray | None = None,
    group_names: Sequence[str] | None = None,
) -> dict[int, Drift]:
    """Drift of every plain answer: position -> Drift (only those with a score above zero).

    nbr_idx/nbr_sim: (n, k) neighbours by prompt; min_sim: (n,) the similarity each row's
    neighbours must reach (it depends on whether they came from embeddings or n-grams).
    groups: (n,) fallback group per sample (-1: the whole project), group_names their labels.
    """
    enc = encode(fps)
    n = len(fps)
    if n == 0:
        return {}
    safe = np.maximum(nbr_idx, 0)
    mask = (nbr_idx >= 0) & (nbr_sim >= min_sim[:, None]) & enc.valid[safe]
    rows_all = np.flatnonzero(enc.valid)
    enough = mask[rows_all].sum(axis=1) >= F.MIN_NEIGHBOURS
    out: dict[int, Drift] = {}
    near_rows = rows_all[enough]
    far_rows = rows_all[~enough]
    if len(near_rows):
        st = _stats_from_sets(enc, nbr_idx[near_rows], mask[near_rows])
        score, rare, missing, cat_drift, ratio, med = score_all(enc, st, near_rows)
        # The typical answer of each comparison set: its member that agrees most with the set.
        sets = safe[near_rows]
        agree = np.where(enc.flags[sets], st.flag_k[:, None, :], st.n[:, None, None] - st.flag_k[:, None, :]).sum(-1)
        for c in range(len(_CAT_NAMES)):
            codes = enc.cats[sets, c]
            agree = agree + np.where(codes >= 0, np.take_along_axis(st.cat_k[c], np.maximum(codes, 0), axis=1), 0)
        agree = agree / np.maximum(st.n, 1)[:, None]
        agree = agree - np.abs(np.log2(np.maximum(enc.tokens[sets], 1) / np.maximum(st.med, 1)[:, None]))
        agree = np.where(mask[near_rows], agree, -np.inf)
        typical = np.take_along_axis(sets, np.argmax(agree, axis=1)[:, None], axis=1)[:, 0]
        for r in np.flatnonzero(score > 0):
            row = int(near_rows[r])
            short, details = _describe(enc, st, int(r), row, rare, missing, cat_drift, ratio, med, "similar answers")
            out[row] = Drift(
                round(float(score[r]), 3), short, details, int(typical[r]), int(st.n[r]), "similar prompts"
            )
    if len(far_rows):
        g = groups if groups is not None else np.full(n, -1, dtype=np.int64)
        st, typical_of = _stats_from_groups(enc, g, far_rows)
        score, rare, missing, cat_drift, ratio, med = score_all(enc, st, far_rows)
        for r in np.flatnonzero(score > 0):
            row = int(far_rows[r])
            gid = int(g[row])
            basis = group_names[gid] if group_names is not None and gid >= 0 else "whole project"
            noun = "answers in the project" if gid < 0 else "answers in its group"
            short, details = _describe(enc, st, int(r), row, rare, missing, cat_drift, ratio, med, noun)
            typ = typical_of.get(gid)
            out[row] = Drift(
                round(float(score[r]), 3), short, details, None if typ == row else typ, int(st.n[r]), basis
            )
    return out


def drift_label(d: Drift, typical_id: int | None) -> str:
    vs = f" · vs typical #{typical_id}" if typical_id is not None else ""
    return f"style drift {d.score:.2f} · {', '.join(d.short[:3])}{vs}"


def spread(values: Sequence[float]) -> float:
    """Coefficient of variation of log lengths, for the stability figure (0 = all alike)."""
    if len(values) < 2:
        return 0.0
    logs = [math.log(max(v, 1.0)) for v in values]
    mean = sum(logs) / len(logs)
    return math.sqrt(sum((x - mean) ** 2 for x in logs) / len(logs))
