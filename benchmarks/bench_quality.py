"""Quality benchmark on real data (issue #14): precision and recall of every detector x language.

Each dataset of ../shared/datasets listed in benchmarks/quality/datasets.py is imported into a
fresh project (benchmarks/.cache/quality/, git-ignored), winnow's detectors run on it with the
current code — run_analysis (exact, lexical, semantic; the default model) then
run_style_analysis (same-prompt groups, contradictions, drift, noise) as the app runs them — and
every flag is compared with the labels of tests/fixtures/quality/*.jsonl (a person's reading of
each item, one-line reason). Only the embedding cache is kept between runs (per dataset, keyed by
text hash and model id). alpaca_data.json is read as its first 5,000 records.

    python -m benchmarks.bench_quality [--dataset F ...] [--detector D ...] [--lang L] [--json]
    python -m benchmarks.bench_quality dump --detector D [--dataset F] [--lang L] [--unlabelled]
                                            [--limit N] [--sample N --seed S] [--reuse]

The table: per detector x language, flagged; labelled (coverage = labelled / flagged);
precision = labelled true / labelled; recall = known positives flagged / known positives (label
true, any source); the largest flag rate over the datasets (samples in a flag / samples) and
which; the targets (precision >= 0.9 duplicates/contradictions, >= 0.8 noise/drift/off-goal;
recall >= 0.9; flag rate <= 5% for drift and each noise kind) with pass/fail ("—": no labels).
`dump` prints the flags as JSON lines with the texts a reader needs, in queue order (most certain
first), to read and label.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from benchmarks.common import Figure, machine
    from benchmarks.quality import datasets as D
    from benchmarks.quality import flags as FL
    from benchmarks.quality import labels as L
else:
    from .common import Figure, machine
    from .quality import datasets as D
    from .quality import flags as FL
    from .quality import labels as L

TEXT_CHARS = 600


def _err(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def selected(names: list[str] | None, quick: bool = False) -> list[D.Dataset]:
    chosen = [D.find(n) for n in names] if names else list(D.DATASETS)
    if quick and not names:
        chosen = [d for d in chosen if d.name != "alpaca_data.json"]
    out = []
    for d in chosen:
        if d.skip:
            _err(f"skipped {d.name}: {d.skip}")
        elif not d.available():
            _err(f"skipped {d.name}: not in {D.SHARED} (the benchmark reads ../shared/datasets)")
        else:
            out.append(d)
    if not out:
        raise SystemExit(f"no dataset to run: {D.SHARED} is absent or holds none of the benchmark's files")
    return out


def collect(dsets: list[D.Dataset], detectors: list[str] | None, *, embed_cache: bool = True) -> list[FL.DatasetRun]:
    runs = []
    for d in dsets:
        t = time.perf_counter()
        r = FL.run_dataset(d, detectors, embed_cache=embed_cache)
        if detectors:
            r.flags = [f for f in r.flags if f.detector in detectors or FL.family(f.detector) in detectors]
        _err(
            f"{d.name}: {r.samples:,} samples, {len(r.flags):,} flags, {time.perf_counter() - t:.1f} s"
            + (f" ({'; '.join(f'{k} {v:.1f} s' for k, v in r.seconds.items())})" if r.seconds else "")
            + (f" — {r.note}" if r.note else "")
        )
        runs.append(r)
    _save_last(runs, detectors)
    return runs


def _flag_file(dataset: str, detector: str) -> Path:
    return FL.cache_dir() / "flags" / dataset / (detector.replace(":", "_") + ".jsonl")


def _save_last(runs: list[FL.DatasetRun], detectors: list[str] | None) -> None:
    """Each run's flags, per dataset and detector, for `dump --reuse` (a run replaces only what it computed)."""
    for r in runs:
        asked = FL.wanted_families(detectors)
        by_det: dict[str, list[dict]] = {}
        for f in r.flags:
            item = asdict(f)
            item["items"] = [{"position": p, **r.texts[p]} for p in f.positions]
            by_det.setdefault(f.detector, []).append(item)
        folder = FL.cache_dir() / "flags" / r.dataset.name
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.jsonl"):  # detectors of the families run that flag nothing now
            det = old.stem.replace("noise_", "noise:", 1)
            if FL.family(det) in asked and det not in by_det:
                old.unlink()
        for det, items in by_det.items():
            path = _flag_file(r.dataset.name, det)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in items), encoding="utf-8")
            os.replace(tmp, path)


def _load_last(dsets: list[D.Dataset]) -> list[dict]:
    out = []
    for d in dsets:
        folder = FL.cache_dir() / "flags" / d.name
        if not folder.is_dir():
            raise SystemExit(f"no earlier run of {d.name} saved — run without --reuse first")
        for path in sorted(folder.glob("*.jsonl")):
            out += [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return out


def clip(text: str, n: int = TEXT_CHARS) -> str:
    """At most about n characters: the start and the end (an ending matters to truncation checks)."""
    if len(text) <= n:
        return text
    head, tail = (2 * n) // 3, n // 3
    return f"{text[:head]} …[{len(text) - head - tail:,} chars left out]… {text[-tail:]}"


def load_labels() -> list[L.Label]:
    try:
        return L.load_all()
    except L.LabelError as e:
        raise SystemExit(f"bad label file line: {e}") from None


def dump(a: argparse.Namespace) -> None:
    labels = {lab.key: lab for lab in load_labels()}
    if a.reuse:
        items = _load_last(selected(a.dataset))
    else:
        runs = collect(selected(a.dataset), a.detector)
        items = []
        for r in runs:
            for f in r.flags:
                item = asdict(f)
                item["items"] = [{"position": p, **r.texts[p]} for p in f.positions]
                items.append(item)
    want = set(a.detector or [])
    out = []
    for it in items:
        det = it["detector"]
        if want and det not in want and FL.family(det) not in want:
            continue
        if a.dataset and not any(D.find(n).name == it["dataset"] for n in a.dataset):
            continue
        if a.lang and it["lang"] != a.lang:
            continue
        key = (det, it["dataset"], tuple(it["positions"]))
        lab = labels.get(key)
        if a.unlabelled and lab is not None:
            continue
        it["labelled"] = None if lab is None else {"label": lab.label, "reason": lab.reason, "where": lab.where}
        for x in it["items"]:
            for k in ("prompt", "answer", "system", "tools"):
                x[k] = clip(x.get(k) or "", TEXT_CHARS if k in ("prompt", "answer") else 200)
            for k in ("system", "tools"):
                if not x[k]:
                    del x[k]
        out.append(it)
    if a.sample:
        rnd = random.Random(a.seed)
        out = sorted(rnd.sample(out, min(a.sample, len(out))), key=lambda x: (x["detector"], x["dataset"], x["rank"]))
    if a.limit:
        out = out[: a.limit]
    for it in out:
        print(json.dumps(it, ensure_ascii=False))
    _err(f"{len(out):,} flags printed")


def _fmt(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def _verdict(v: bool | None) -> str:
    return "—" if v is None else ("pass" if v else "FAIL")


def table(rows: list[L.Row], models: set[str], notes: list[str], figures: list[Figure] | None = None) -> None:
    print(f"\n## Quality on real data — {time.strftime('%Y-%m-%d')} · {machine()}\n")
    print(f"semantic model: {', '.join(sorted(models)) or 'not run'}\n")
    if figures:
        print("| dataset | lang | samples | seconds | flags |\n|---|---|---|---|---|")
        for f in figures:
            name = f.name.removeprefix("quality ")
            counts = ", ".join(f"{k} {v:,}" for k, v in f.extra.items() if k != "samples") or "none"
            lang = D.BY_NAME[name].lang if name in D.BY_NAME else "?"
            print(f"| {name} | {lang} | {f.extra.get('samples', 0):,} | {f.seconds:.1f} | {counts} |")
        print()
    print(
        "| detector | lang | flagged | labelled (coverage) | precision | recall | max flag rate (dataset) | targets P / R / rate |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        v = r.verdicts()
        rate = f"{r.max_rate:.1%} ({r.max_rate_dataset})" if r.max_rate_dataset else "0"
        rec = f"{_fmt(r.recall)} ({r.found}/{r.positives})" if r.positives else "—"
        prec = f"{_fmt(r.precision)} ({r.true}/{r.labelled})" if r.labelled else "—"
        tr = f"≥{r.target_precision():.1f} {_verdict(v['precision'])} / ≥0.9 {_verdict(v['recall'])}"
        tr += f" / ≤5% {_verdict(v['flag_rate'])}" if v["flag_rate"] is not None else " / n.a."
        print(
            f"| {r.detector} | {r.lang} | {r.flagged:,} | {r.labelled:,} ({_fmt(r.coverage)}) | {prec} | {rec} | {rate} | {tr} |"
        )
    for n in notes:
        print(f"\n{n}")


def evaluate(
    names: list[str] | None,
    detectors: list[str] | None,
    lang: str | None,
    quick: bool = False,
    embed_cache: bool = True,
) -> tuple[list[Figure], list[L.Row], set[str], list[str]]:
    labels = load_labels()
    dsets = selected(names, quick)
    runs = collect(dsets, detectors, embed_cache=embed_cache)
    sizes = {r.dataset.name: r.samples for r in runs}
    try:
        L.check_positions(labels, sizes)
    except L.LabelError as e:
        raise SystemExit(f"bad label: {e}") from None
    flags = [f for r in runs for f in r.flags if not lang or f.lang == lang]
    labels = [lab for lab in labels if (not lang or lab.lang == lang)]
    if detectors:
        labels = [lab for lab in labels if lab.detector in detectors or FL.family(lab.detector) in detectors]
    unscored = [lab for lab in labels if FL.family(lab.detector) == "off_goal"]
    labels = [lab for lab in labels if FL.family(lab.detector) != "off_goal"]  # the goal scorer is not run here
    rows = L.score(flags, labels, sizes, {d.name: d.lang for d in dsets})
    models = {r.model for r in runs if r.model}
    figures = []
    for r in runs:
        counts: dict[str, int] = {}
        for f in r.flags:
            counts[f.detector] = counts.get(f.detector, 0) + 1
        figures.append(
            Figure(f"quality {r.dataset.name}", sum(r.seconds.values()), 0.0, {"samples": r.samples, **counts})
        )
    notes = [f"{r.dataset.name}: {r.note}" for r in runs if r.note]
    if unscored:
        notes.append(f"{FL.goal_note()}; its {len(unscored):,} off_goal labels are not scored here.")
    notes.append(
        f"{len(labels):,} labels read from {L.LABELS.relative_to(L.ROOT)}/*.jsonl; "
        f"datasets run: {len(runs)}; flags of each dataset are counted under its language."
    )
    return figures, rows, models, notes


def run(as_json: bool = False, quick: bool = False) -> list[Figure]:
    """The suite of `python -m benchmarks` (`make bench`): every dataset (--quick: without alpaca_data)."""
    figures, rows, models, notes = evaluate(None, None, None, quick)
    if as_json:
        json.dump({"models": sorted(models), "rows": [asdict(r) for r in rows], "notes": notes}, sys.stdout, indent=2)
        print()
    else:
        table(rows, models, notes, figures)
    return figures


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["dump"]:
        ap = argparse.ArgumentParser(prog="bench_quality dump", description="flags as JSON lines, to read and label")
        ap.add_argument(
            "--detector", action="append", required=True, help="e.g. exact, contradiction, noise:truncated, noise"
        )
        ap.add_argument("--dataset", action="append", help="a dataset file name (or a unique part of it); repeatable")
        ap.add_argument("--lang", choices=L.LANGS)
        ap.add_argument("--unlabelled", action="store_true", help="only flags no label file has")
        ap.add_argument("--limit", type=int, help="at most N flags (after --sample)")
        ap.add_argument("--sample", type=int, help="a random sample of N flags (with --seed)")
        ap.add_argument("--seed", type=int, default=0)
        ap.add_argument("--reuse", action="store_true", help="the flags of the last run instead of a new run")
        dump(ap.parse_args(argv[1:]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", "--only-dataset", action="append", dest="dataset", help="repeatable")
    ap.add_argument("--detector", action="append", help="repeatable; noise means every noise kind")
    ap.add_argument("--lang", choices=L.LANGS)
    ap.add_argument("--quick", action="store_true", help="leave out alpaca_data.json")
    ap.add_argument("--no-embed-cache", action="store_true", help="embed every text again")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    figures, rows, models, notes = evaluate(a.dataset, a.detector, a.lang, a.quick, not a.no_embed_cache)
    if a.json:
        print(json.dumps({"models": sorted(models), "rows": [asdict(r) for r in rows], "notes": notes}, indent=2))
    else:
        table(rows, models, notes, figures)


if __name__ == "__main__":
    main()
