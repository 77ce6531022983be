"""The label files (tests/fixtures/quality/*.jsonl) and the figures computed from them.

One JSON object per line (see tests/fixtures/quality/README.md):

    {"detector": "semantic", "dataset": "llamafactory_alpaca_zh_demo.json", "positions": [3, 17],
     "lang": "zh", "label": true, "reason": "same question reworded", "source": "flagged"}

A line that is not exactly that is refused with `file:line: what is wrong`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..common import ROOT
from .datasets import BY_NAME
from .flags import Flag, family, is_pair

LABELS = ROOT / "tests" / "fixtures" / "quality"
FAMILIES = ("exact", "lexical", "semantic", "same_prompt", "contradiction", "drift", "off_goal", "noise")
KEYS = ("detector", "dataset", "positions", "lang", "label", "reason", "source")
OPTIONAL = {"goal": "off_goal"}  # optional key -> the detector it belongs to (off_goal: the goal sentence)
SOURCES = ("flagged", "search", "planted")
LANGS = ("zh", "en")
_NOISE_KIND = re.compile(r"noise:[a-z][a-z0-9_]*\Z")


class LabelError(ValueError):
    pass


@dataclass(frozen=True)
class Label:
    detector: str
    dataset: str
    positions: tuple[int, ...]
    lang: str
    label: bool
    reason: str
    source: str
    where: str  # file:line

    @property
    def key(self) -> tuple[str, str, tuple[int, ...]]:
        return (self.detector, self.dataset, self.positions)


def parse_line(text: str, where: str) -> Label:
    """One label line, or LabelError("file:line: what is wrong — what to do")."""

    def bad(what: str) -> LabelError:
        return LabelError(f"{where}: {what}")

    try:
        obj = json.loads(text)
    except ValueError as e:
        raise bad(f"not JSON ({e.msg} at column {e.colno}) — one JSON object per line") from None
    if not isinstance(obj, dict):
        raise bad(f"a JSON {type(obj).__name__}, not an object — one object per line")
    missing = [k for k in KEYS if k not in obj]
    if missing:
        raise bad(f"missing {', '.join(missing)} — every line has {', '.join(KEYS)}")
    extra = sorted(k for k in set(obj) - set(KEYS) if OPTIONAL.get(k) != obj.get("detector"))
    if extra:
        raise bad(f"unknown key {', '.join(map(repr, extra))} — only {', '.join(KEYS)} (and goal for off_goal)")
    if "goal" in obj and (not isinstance(obj["goal"], str) or not obj["goal"].strip()):
        raise bad("goal must be the goal sentence the item was judged against")
    det = obj["detector"]
    if not isinstance(det, str) or not (det in FAMILIES and det != "noise" or _NOISE_KIND.match(det)):
        raise bad(f"detector {det!r} is not one of {', '.join(f for f in FAMILIES if f != 'noise')}, noise:<kind>")
    ds = obj["dataset"]
    if not isinstance(ds, str) or ds not in BY_NAME:
        raise bad(f"dataset {ds!r} is not a benchmark dataset — a file name of ../shared/datasets in datasets.py")
    pos = obj["positions"]
    if not isinstance(pos, list) or not all(isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in pos):
        raise bad(f"positions {pos!r} must be a list of 0-based record indexes (integers >= 0)")
    want = 2 if is_pair(det) else 1
    if len(pos) != want:
        raise bad(f"{det} labels {'a pair' if want == 2 else 'one sample'}: {want} position(s), not {len(pos)}")
    if pos != sorted(set(pos)):
        raise bad(f"positions {pos} must be ascending and distinct — write {sorted(set(pos))}")
    if obj["lang"] not in LANGS:
        raise bad(f"lang {obj['lang']!r} is not zh or en")
    if not isinstance(obj["label"], bool):
        raise bad(f"label {obj['label']!r} must be true or false")
    reason = obj["reason"]
    if not isinstance(reason, str) or not reason.strip() or "\n" in reason:
        raise bad("reason must be one non-empty line that a person can check on screen")
    if obj["source"] not in SOURCES:
        raise bad(f"source {obj['source']!r} is not one of {', '.join(SOURCES)}")
    return Label(det, ds, tuple(pos), obj["lang"], obj["label"], reason, obj["source"], where)


def load_file(path: Path) -> list[Label]:
    out: list[Label] = []
    seen: dict[tuple, Label] = {}
    with open(path, encoding="utf-8") as fh:
        for n, text in enumerate(fh, 1):
            if not text.strip():
                continue
            lab = parse_line(text, f"{path.name}:{n}")
            prev = seen.get(lab.key)
            if prev is not None:
                raise LabelError(
                    f"{lab.where}: {lab.detector} {list(lab.positions)} of {lab.dataset} is labelled already at "
                    f"{prev.where} — keep one line per item"
                )
            seen[lab.key] = lab
            out.append(lab)
    return out


def load_all(folder: Path = LABELS) -> list[Label]:
    """Every label of every *.jsonl in the folder; the first bad line stops it (LabelError)."""
    out: list[Label] = []
    owner: dict[tuple, Label] = {}
    for path in sorted(folder.glob("*.jsonl")):
        for lab in load_file(path):
            if lab.key in owner:
                raise LabelError(f"{lab.where}: the same item is labelled in {owner[lab.key].where} — one file owns it")
            owner[lab.key] = lab
            out.append(lab)
    return out


def check_positions(labels: Iterable[Label], sizes: dict[str, int]) -> None:
    """Every position inside its dataset (sizes: dataset name -> records); LabelError otherwise."""
    for lab in labels:
        n = sizes.get(lab.dataset)
        if n is not None and lab.positions[-1] >= n:
            raise LabelError(
                f"{lab.where}: position {lab.positions[-1]} is past the end of {lab.dataset} ({n} records)"
            )


TARGET_PRECISION = {"noise": 0.8, "drift": 0.8, "off_goal": 0.8}  # the rest: 0.9
TARGET_RECALL = 0.9
TARGET_FLAG_RATE = 0.05  # drift and each noise kind
RATE_BOUND = ("drift", "noise")


@dataclass
class Row:
    detector: str
    lang: str
    flagged: int
    labelled: int
    true: int
    positives: int  # known positives (label true) in the datasets run
    found: int  # of them, flagged
    max_rate: float
    max_rate_dataset: str
    datasets: int

    @property
    def precision(self) -> float | None:
        return self.true / self.labelled if self.labelled else None

    @property
    def recall(self) -> float | None:
        return self.found / self.positives if self.positives else None

    @property
    def coverage(self) -> float | None:
        return self.labelled / self.flagged if self.flagged else None

    def target_precision(self) -> float:
        return TARGET_PRECISION.get(family(self.detector), 0.9)

    def verdicts(self) -> dict[str, bool | None]:
        """pass (True) / fail (False) / unknown (None, no labels) per target."""
        p, r = self.precision, self.recall
        rate = None
        if family(self.detector) in RATE_BOUND:
            rate = self.max_rate <= TARGET_FLAG_RATE
        return {
            "precision": None if p is None else p >= self.target_precision(),
            "recall": None if r is None else r >= TARGET_RECALL,
            "flag_rate": rate,
        }


def score(flags: list[Flag], labels: list[Label], samples: dict[str, int], langs: dict[str, str]) -> list[Row]:
    """Rows per detector x language over the datasets run (samples: dataset -> sample count).

    precision = labelled-true / labelled among the flags; recall = known positives flagged /
    known positives (labels with label true, any source, of the datasets run); flag rate = samples
    in a flag / samples of the dataset, its maximum over the datasets."""
    by_key = {lab.key: lab for lab in labels if lab.dataset in samples}
    flagged_keys = {f.key for f in flags}
    groups: dict[tuple[str, str], list[Flag]] = {}
    for f in flags:
        groups.setdefault((f.detector, f.lang), []).append(f)
    for lab in by_key.values():
        if lab.label:
            groups.setdefault((lab.detector, lab.lang), [])
    rows = []
    for (det, lang), fl in sorted(groups.items()):
        matched = [by_key[f.key] for f in fl if f.key in by_key]
        pos = [lab for lab in by_key.values() if lab.detector == det and lab.lang == lang and lab.label]
        rate, where = 0.0, ""
        per: dict[str, set[int]] = {}
        for f in fl:
            per.setdefault(f.dataset, set()).update(f.positions)
        for ds, members in per.items():
            r = len(members) / max(samples[ds], 1)
            if r > rate:
                rate, where = r, ds
        n_ds = sum(1 for ds, lg in langs.items() if lg == lang and ds in samples)
        rows.append(
            Row(
                det,
                lang,
                len(fl),
                len(matched),
                sum(1 for m in matched if m.label),
                len(pos),
                sum(1 for lab in pos if lab.key in flagged_keys),
                rate,
                where,
                n_ds,
            )
        )
    return rows
