"""Import one dataset into a fresh project, run winnow's detectors on it, collect every flag.

Every run imports and analyses from scratch with the current code; the only thing carried from
one run to the next is the embedding cache (vectors keyed by text hash and model id, so a changed
text or a changed model id is embedded again), kept per dataset in a project of its own under
benchmarks/.cache/quality/. Everything is read through the stores' public methods.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from ..common import ROOT
from .datasets import Dataset

CACHE = ROOT / "benchmarks" / ".cache" / "quality"

DUP_DETECTORS = ("exact", "lexical", "semantic")
PAIR_DETECTORS = (*DUP_DETECTORS, "same_prompt", "contradiction")
STYLE_DETECTORS = ("same_prompt", "contradiction", "drift", "noise")
GOAL_DETECTORS = ("off_goal",)


def family(detector: str) -> str:
    """exact/lexical/semantic/same_prompt/contradiction/drift/off_goal, or "noise" for noise:<kind>."""
    return "noise" if detector.startswith("noise:") else detector


def is_pair(detector: str) -> bool:
    return family(detector) in PAIR_DETECTORS


@dataclass
class Flag:
    detector: str
    dataset: str
    positions: tuple[int, ...]  # 0-based Sample.position, sorted
    lang: str
    score: float
    label: str
    details: list[str] = field(default_factory=list)
    rank: int = 0  # 1-based place in its detector's queue for this dataset (most certain first)

    @property
    def key(self) -> tuple[str, str, tuple[int, ...]]:
        return (self.detector, self.dataset, self.positions)


@dataclass
class DatasetRun:
    dataset: Dataset
    samples: int
    flags: list[Flag]
    texts: dict[int, dict[str, str]]  # position -> {"prompt", "answer", "system", "tools"}
    model: str | None
    seconds: dict[str, float]
    note: str = ""


def cache_dir(root: Path | None = None) -> Path:
    """benchmarks/.cache/quality (made on first use, with a .gitignore of everything), or `root`."""
    if root is not None:
        root.mkdir(parents=True, exist_ok=True)
        return root
    CACHE.mkdir(parents=True, exist_ok=True)
    ignore = CACHE.parent / ".gitignore"
    if not ignore.exists():
        ignore.write_text("*\n", encoding="utf-8")
    return CACHE


def wanted_families(detectors: Iterable[str] | None) -> set[str]:
    """Which detector families a run needs for the asked-for detectors (None: all)."""
    if not detectors:
        return {*DUP_DETECTORS, *STYLE_DETECTORS, *GOAL_DETECTORS}
    return {family(d) for d in detectors}


def run_dataset(
    ds: Dataset, detectors: Iterable[str] | None = None, *, embed_cache: bool = True, cache: Path | None = None
) -> DatasetRun:
    """Fresh import, the detectors the families need, every flag collected (cache: instead of CACHE)."""
    fams = wanted_families(detectors)
    # A folder of this run's own: several runs (several helpers) may go at once.
    (cache_dir(cache) / "work").mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=ds.name + ".", dir=cache_dir(cache) / "work"))
    try:
        return _run_in(ds, fams, work, embed_cache, cache)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_in(ds: Dataset, fams: set[str], work: Path, embed_cache: bool, cache: Path | None) -> DatasetRun:
    from review.store import Store

    seconds: dict[str, float] = {}
    t = time.perf_counter()
    src = ds.path
    note = ""
    if ds.prep is not None:
        src = work / ("source" + ds.suffix())
        note = ds.prep(ds.path, src)
    db = work / "project.db"
    with Store(db) as s:
        s.import_file(src)
    seconds["import"] = time.perf_counter() - t
    lost = _text_lost(db)
    if lost:
        return DatasetRun(ds, lost[1], [], {}, None, seconds, f"not benchmarked: {lost[0]}")
    emb_db = cache_dir(cache) / "embeddings" / (ds.name + ".db")
    if embed_cache:
        _copy_embeddings(emb_db, db)
    need_style = bool(fams & set(STYLE_DETECTORS))
    dup = sorted(fams & set(DUP_DETECTORS))
    if need_style:
        dup = list(DUP_DETECTORS)  # the app runs the style analysis after all three (its neighbours use their cache)
    model = None
    if dup:
        from review.analysis.run import run_analysis

        t = time.perf_counter()
        summary = run_analysis(db, detectors=dup)
        seconds["analysis"] = time.perf_counter() - t
        for d in summary.detectors:
            if d.detector == "semantic":
                model = d.model
    if need_style:
        from review.style.run import run_style_analysis

        t = time.perf_counter()
        run_style_analysis(db)
        seconds["style"] = time.perf_counter() - t
    if embed_cache and "semantic" in dup:
        _copy_embeddings(db, emb_db)
    t = time.perf_counter()
    flags, texts, samples = _collect(db, ds, fams)
    seconds["collect"] = time.perf_counter() - t
    return DatasetRun(ds, samples, flags, texts, model, seconds, note)


_PLACEHOLDERS = re.compile(r"\s*(\[[a-z_]+\]\s*)+", re.ASCII)


def _text_lost(db: Path) -> tuple[str, int] | None:
    """Why the import is no test of the detectors (most samples' turns are only part placeholders
    such as “[widget]”: a part type the importer does not read), with the sample count; None when it reads fine."""
    from review.store import Store

    with Store(db, create=False) as s:
        n = lost = 0
        for sample in s.iter_samples(batch=2000):
            n += 1
            turns = sample.conversation.turns
            if turns and all(_PLACEHOLDERS.fullmatch(t.content or "") for t in turns):
                lost += 1
    if n and lost * 2 > n:
        return (
            f"{lost:,} of {n:,} samples read as part placeholders only (“[widget]”): the importer does"
            " not read content parts of these types, so every sample looks alike",
            n,
        )
    return None


def goal_note() -> str:
    try:
        import review.relevance  # noqa: F401  (helper F's scorer, when it exists)
    except ModuleNotFoundError:
        return "off_goal: no goal relevance scorer in review/ yet (review.relevance), not run"
    return "off_goal: review.relevance exists but the bench does not call it yet"


def _copy_embeddings(src: Path, dst: Path) -> int:
    """Every cached vector of `src` that `dst` lacks, copied into `dst` (both winnow projects)."""
    from review.analysis.store import AnalysisStore
    from review.store import Store

    if not src.exists():
        return 0
    dst.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with Store(src) as a, Store(dst) as b:
        sa, sb = AnalysisStore(a), AnalysisStore(b)
        for model in sa.embedding_count():
            todo = sorted(sa.cached_embedding_hashes(model) - sb.cached_embedding_hashes(model))
            by_dim: dict[int, list[tuple[str, bytes]]] = {}
            for h, dim, blob in sa.embeddings(model, todo):
                by_dim.setdefault(dim, []).append((h, blob))
            for dim, rows in by_dim.items():
                sb.add_embeddings(model, dim, rows)
                n += len(rows)
    return n


def _sample_texts(conv) -> dict[str, str]:
    prompt, answer = conv.split()
    return {
        "prompt": "\n".join(f"{t.role}: {t.content}" for t in prompt),
        "answer": "\n".join(f"{t.role}: {t.content}" for t in answer),
        "system": conv.system,
        "tools": conv.tools,
    }


def _collect(db: Path, ds: Dataset, fams: set[str]) -> tuple[list[Flag], dict[int, dict[str, str]], int]:
    from review.analysis.store import AnalysisStore
    from review.store import Store
    from review.style.store import StyleStore

    flags: list[Flag] = []
    with Store(db, create=False) as s:
        pos: dict[int, int] = {}
        texts: dict[int, dict[str, str]] = {}
        convs = {}  # position -> Conversation, for what the semantic veto says of a pair
        for sample in s.iter_samples(batch=2000):
            pos[sample.id] = sample.position
            texts[sample.position] = _sample_texts(sample.conversation)
            if "semantic" in fams:
                convs[sample.position] = sample.conversation
        a = AnalysisStore(s)
        members: dict[str, list[int]] = {}
        for sid, det, _cid in a.all_cluster_memberships():
            members.setdefault(det, []).append(sid)
        for det in DUP_DETECTORS:
            if det not in fams:
                continue
            best: dict[tuple[int, ...], Flag] = {}
            for sid in sorted(members.get(det, [])):
                for row in a.clusters_of(sid):
                    if row.detector != det or row.partner == sid:
                        continue
                    p = tuple(sorted((pos[sid], pos[row.partner])))
                    f = Flag(
                        det,
                        ds.name,
                        p,
                        ds.lang,
                        round(row.score, 4),
                        f"{det} duplicate, similarity {row.score:.3f}",
                        [f"cluster #{row.cluster_id} of {row.size} samples"],
                    )
                    if det == "semantic":
                        from review.analysis.veto import explain

                        why = explain(convs[p[0]], convs[p[1]])  # "user turns alike in numbers 12 · names GPT-3"
                        if why:
                            f.details.append(why)
                    if p not in best or best[p].score < f.score:
                        best[p] = f
            flags += _ranked(best.values())
        if fams & set(STYLE_DETECTORS):
            ss = StyleStore(s)
            if "same_prompt" in fams:
                flags += _ranked(_same_prompt(ss, pos, ds))
            if "contradiction" in fams:
                seen: dict[tuple[int, ...], Flag] = {}
                for r in ss.flags_by_kind("conflict", shown_only=True):
                    p = tuple(sorted(pos[m] for m in r.members))
                    if len(p) == 2 and (p not in seen or seen[p].score < r.score):
                        seen[p] = Flag("contradiction", ds.name, p, ds.lang, r.score, r.label, list(r.details))
                flags += _ranked(seen.values())
            if "drift" in fams:
                flags += _ranked(
                    Flag("drift", ds.name, (pos[r.sample_id],), ds.lang, r.score, r.label, list(r.details))
                    for r in ss.flags_by_kind("style", shown_only=True)
                )
            if "noise" in fams:
                by_kind: dict[str, list[Flag]] = {}
                for r in ss.flags_by_kind("noise", shown_only=False):
                    for kind, details in noise_kinds(r.label, r.details):
                        by_kind.setdefault(kind, []).append(
                            Flag(f"noise:{kind}", ds.name, (pos[r.sample_id],), ds.lang, r.score, r.label, details)
                        )
                for kind in sorted(by_kind):
                    flags += _ranked(by_kind[kind])
        return flags, texts, s.total_samples()


def _ranked(flags: Iterable[Flag]) -> list[Flag]:
    out = sorted(flags, key=lambda f: (-f.score, f.positions))
    for i, f in enumerate(out, 1):
        f.rank = i
    return out


def _same_prompt(ss, pos: dict[int, int], ds: Dataset) -> list[Flag]:
    """One pair per extra distinct answer of each same-question group: the first sample of the most
    common answer with the first sample of each other answer (the report keeps the first 200 groups)."""
    out: dict[tuple[int, ...], Flag] = {}
    for g in ss.state("question_groups", []) or []:
        answers = [a for a in g.get("answers", []) if a.get("ids")]
        if len(answers) < 2:
            continue
        first = answers[0]["ids"][0]
        for other in answers[1:]:
            sid = other["ids"][0]
            if first not in pos or sid not in pos:
                continue
            p = tuple(sorted((pos[first], pos[sid])))
            q = " ".join(str(g.get("question", "")).split())[:80]
            out[p] = Flag(
                "same_prompt",
                ds.name,
                p,
                ds.lang,
                float(g.get("distinct_answers", 2)),
                f"same prompt, {g.get('distinct_answers')} distinct answers over {g.get('samples')} samples: “{q}”",
                [str(x) for x in g.get("disagreements", [])],
            )
    return list(out.values())


def noise_kinds(label: str, details: Iterable[str]) -> list[tuple[str, list[str]]]:
    """The triggers of one stored noise flag: (trigger name, its details).

    The flag row stores the triggers' words in its label ("noisy · truncated, placeholder") and one
    detail per trigger in the same order; the words map back to trigger names through the style
    run's NOISE_WORDS. A word that maps to no name is kept as-is (spaces as underscores)."""
    try:
        from review.style.run import NOISE_WORDS
    except ImportError:
        NOISE_WORDS = {}
    names = {w: n for n, w in NOISE_WORDS.items()}
    words = [w.strip() for w in label.split("·", 1)[-1].split(",") if w.strip()]
    kinds = [names.get(w, w.replace(" ", "_")) for w in words]
    dl = list(details)
    if len(dl) == len(kinds):
        return [(k, [d]) for k, d in zip(kinds, dl, strict=True)]
    return [(k, dl) for k in kinds]
