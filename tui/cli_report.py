"""`winnow report`: style drift, contradictions, same-question groups, noise and boundaries, headless.

Runs the style analysis first when the project has changed since the last run (or with --rerun),
with a progress bar on a terminal and nothing when piped. Tables are rich tables; the plots are
unicode block bars and a sparkline, which survive any pager or CI log. Sample text is untrusted:
it goes through `sanitize` and into `rich.text.Text`, never into markup.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO, cast

import click

from review.sanitize import sanitize
from review.store import ProjectError, Store
from tui.cli_common import JsonTerminalSafe, ProgressBar, db_option, fail, output_failed

if TYPE_CHECKING:
    from review.figures import ReportData

SPARK = "▁▂▃▄▅▆▇█"
BAR_WIDTH = 30


def bar(value: float, total: float, width: int = BAR_WIDTH) -> str:
    if total <= 0:
        return ""
    eighths = round(8 * width * value / total)
    full, part = divmod(eighths, 8)
    return "█" * full + ("" if not part else "▏▎▍▌▋▊▉"[part - 1])


def sparkline(values: list[float]) -> str:
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = (hi - lo) or 1.0
    return "".join(SPARK[min(7, int((v - lo) / span * 7.999))] for v in values)


def _text(s: Any, n: int | None = None):
    from rich.text import Text

    t = sanitize(str(s), oneline=True)
    if n is not None and len(t) > n:
        t = t[: n - 1] + "…"
    return Text(t)


def _lines(items) -> Any:
    """Untrusted lines as one Text, one per line (each sanitised, never markup)."""
    from rich.text import Text

    return Text("\n".join(sanitize(str(x), oneline=True) for x in items))


def shown_of(shown: int, total: int, what: str, stored: int | None = None, *, by_limit: bool = True) -> Any:
    """The line under a cut list: how many of how many, and how to see the rest (None when nothing was
    cut). by_limit: whether --limit shows more (the noise examples stop at 5 whatever it says)."""
    from rich.text import Text

    if total <= shown:
        return None
    line = f"showing {shown:,} of {total:,} {what}"
    if stored is not None and stored < total:
        line += (
            f" — --limit {stored} shows the first {stored:,}, all the style run keeps; --json lists them"
            if shown < stored
            else f" (the style run keeps the first {stored:,})"
        )
    elif by_limit:
        line += f" — --limit {total} shows them all, --json lists every one"
    else:
        line += " — --json lists every one"
    return Text(line, style="dim")


def render(report: ReportData, limit: int) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from review.style.findings import NO_FINDINGS

    con = Console(highlight=False, soft_wrap=False)
    sr = report.findings
    data = sr.findings or NO_FINDINGS
    run = sr.run or {}
    counts = data.counts
    nb = run.get("neighbours", {})
    con.print(_text(f"{sr.samples:,} samples in {sr.project}"))
    con.print(
        Text(
            f"style run: {run.get('answers', 0):,} answers · {run.get('fingerprinted', 0):,} fingerprinted now, "
            f"{run.get('cached', 0):,} cached · neighbours: {nb.get('lexical', 0):,} by n-grams, "
            f"{nb.get('semantic', 0):,} by embeddings ({run.get('model') or 'none cached'}), "
            f"{nb.get('group', 0):,} by group · {run.get('seconds', 0):.1f} s"
        )
    )
    con.print(
        Text(
            f"flagged: {counts.get('style_drift', 0):,} style drift · {counts.get('contradictions', 0):,} "
            f"contradictory pairs · {counts.get('noisy', 0):,} noisy",
            style="bold",
        )
    )

    t = Table(title="Style drift (strongest first)", title_justify="left", expand=False)
    for col in ("#", "score", "drifts in", "vs typical"):
        t.add_column(col, overflow="fold")
    for f in data.style_drift[:limit]:
        t.add_row(
            str(f.sample),
            f"{f.score:.2f}",
            _lines(f.details[:4]),
            f"#{f.partner}" if f.partner else "",
        )
    con.print(t if t.row_count else Text("no style drift found", style="dim"))
    _cut(con, t.row_count, counts.get("style_drift", 0), "drifting answers")

    t = Table(title="Contradictory answers", title_justify="left")
    for col in ("pair", "score", "evidence"):
        t.add_column(col, overflow="fold")
    for p in data.contradictions[:limit]:
        t.add_row(f"#{p.samples[0]} · #{p.samples[1]}", f"{p.score:.2f}", _lines(p.evidence))
    con.print(t if t.row_count else Text("no contradictions found", style="dim"))
    _cut(con, t.row_count, counts.get("contradictions", 0), "contradictory pairs")

    t = Table(title="Same question, different answers", title_justify="left")
    for col in ("question", "samples", "answers", "disagree", "most common answers"):
        t.add_column(col, overflow="fold")
    for g in data.same_question_groups[:limit]:
        answers = "\n".join(f"{a['samples']}× {sanitize(a['text'], oneline=True)[:70]}" for a in g["answers"][:3])
        t.add_row(
            _text(g["question"], 60),
            str(g["samples"]),
            str(g["distinct_answers"]),
            _text(", ".join(g["disagreements"]) or "—", 60),
            Text(answers),
        )
    con.print(t if t.row_count else Text("no question is asked twice with different answers", style="dim"))
    groups = run.get("question_groups", len(data.same_question_groups))
    _cut(con, t.row_count, groups if isinstance(groups, int) else 0, "questions", len(data.same_question_groups))

    trig = data.noise_triggers
    t = Table(title="Noise", title_justify="left")
    for col in ("trigger", "samples", ""):
        t.add_column(col)
    top = max(trig.values(), default=0)
    for name, n in sorted(trig.items(), key=lambda x: -x[1]):
        t.add_row(_text(name.replace("_", " ")), f"{n:,}", Text(bar(n, top), style="yellow"))
    con.print(t if t.row_count else Text("no noise found", style="dim"))
    noisy = data.noise[: min(limit, 5)]
    for f in noisy:
        con.print(_text(f"  #{f.sample} {f.label} — {f.details[0]}", 160))
    if noisy:
        _cut(con, len(noisy), counts.get("noisy", 0), "noisy samples", by_limit=False)

    prev = data.prevalence
    answers = prev.get("answers", 0)
    if answers:
        t = Table(title=f"Style features across {answers:,} answers", title_justify="left")
        for col in ("feature", "answers", ""):
            t.add_column(col)
        flags = [(k, v) for k, v in prev.items() if isinstance(v, int) and k != "answers"]
        for k, v in sorted(flags, key=lambda x: -x[1]):
            t.add_row(
                _text(k.replace("_", " ")), f"{v:,} ({100 * v / answers:.0f}%)", Text(bar(v, answers), style="cyan")
            )
        con.print(t)
        moves = prev.get("move", {})
        con.print(_text("answer moves: " + " · ".join(f"{k} {v:,}" for k, v in moves.items())))
    stab = data.project_stability
    if stab is not None:
        con.print(_text(f"project style stability {stab:.2f}; varies most: " + "; ".join(data.project_varying[:3])))

    b = sr.boundaries
    if b is not None:
        con.print(Text(f"\nBoundaries — goal #{b.goal_id}: {b.kept:,} kept", style="bold"))
        total = sum(b.moves.values())
        t = Table(show_header=False, box=None)
        for _ in range(3):
            t.add_column()
        for m, n in b.moves.items():
            t.add_row(_text(m), f"{n:,}", Text(bar(n, total) if total else "", style="green"))
        con.print(t)
        if b.stability is not None:
            hist = [h[1] for h in b.history]
            line = f"kept-set style stability {b.stability:.2f}"
            if b.project_stability is not None:
                line += f" (whole project {b.project_stability:.2f})"
            if len(hist) > 1:
                line += f"  history {sparkline(hist)}"
            con.print(Text(line))
            for vary in b.varying:
                con.print(_text(f"  varies: {vary}"))
        for w in b.warnings:
            con.print(_text(f"  ⚠ {w}"), style="yellow")

    sig = report.should_i_add_more
    if sig:
        con.print(Text("\nShould I add more?", style="bold"))
        t = Table(box=None)
        for col in ("kept set", "now", f"before the last {sig.last_n} decisions"):
            t.add_column(col)
        t.add_row("kept", f"{sig.kept:,}", f"{sig.kept_before_last_n:,}")
        t.add_row(
            "repeating another kept sample",
            f"{sig.repeats.share:.0%} ({sig.repeats.repeating:,})",
            f"{sig.repeats_before.share:.0%} ({sig.repeats_before.repeating:,})",
        )

        def fig(x: Any) -> str:
            return "—" if x is None else f"{x:.2f}"

        style = sig.style
        t.add_row(
            "style stability", fig(style.stability if style else None), fig(style.stability_before if style else None)
        )
        con.print(t)
        for a in sig.advice:
            con.print(_text(f"  → {a}"))


def _cut(con: Any, shown: int, total: int, what: str, stored: int | None = None, *, by_limit: bool = True) -> None:
    line = shown_of(shown, total, what, stored, by_limit=by_limit)
    if line is not None:
        con.print(line)


@click.command("report")
@db_option
@click.option(
    "--goal",
    "goal_ref",
    help="Goal whose kept set the boundaries section describes "
    "(number or a piece of its sentence; default: the active goal).",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Machine-readable output: every drifting answer, contradictory pair and noisy sample (no --limit), "
    "streamed as it is read; same_question_groups holds the first 200 the style run keeps (run.question_groups "
    "counts them all).",
)
@click.option(
    "--group-field",
    help="A record field (e.g. category) to compare answers within when a prompt has too few similar prompts.",
)
@click.option("--rerun", is_flag=True, help="Run the style analysis again even if the project has not changed.")
@click.option(
    "--limit",
    default=10,
    show_default=True,
    type=click.IntRange(min=0),
    help="Rows per table; a cut table says how many it shows of how many. Not used with --json.",
)
def report(db: str, goal_ref: str | None, as_json: bool, group_field: str | None, rerun: bool, limit: int) -> None:
    """Answer-style drift, contradictions, noise and boundaries, headless.

    Runs the style analysis when the project changed since the last run, then prints the
    findings the review screen flags: drifting answers with the features that drift, contradictory
    pairs with their evidence, questions asked several times with different answers, noise
    triggers, and for a goal the mix of answer moves and how stable the kept set's style is.

    \b
    Example:
      winnow report --db project.db
      winnow report --db project.db --goal 2 --limit 20
      winnow report --db project.db --json | jq '.contradictions[0].evidence'
    """
    from review.figures import report_data, style_needs_run
    from review.style import run_style_analysis

    try:
        store = Store(db, create=False)
    except ProjectError as e:
        fail(str(e))
    with store:
        try:
            g = store.find_goal(goal_ref) if goal_ref else store.active_goal()
        except ProjectError as e:
            fail(str(e))
        goal_id = g.id if g else None
        if rerun or style_needs_run(store, group_field):
            bar = ProgressBar(description="style: {task.description}")
            try:
                run_style_analysis(store.path, progress=bar.stage if bar.active else None, group_field=group_field)
            except ProjectError as e:
                bar.stop()
                fail(str(e))
            bar.stop()
        if as_json:
            _write_json(store, goal_id)
            return
        data = report_data(store, goal_id, limit=limit)
    try:
        render(data, limit)
        sys.stdout.flush()
    except OSError as e:
        output_failed(e, "the report")


def _write_json(store: Store, goal_id: int | None) -> None:
    from review.figures import write_report_json

    out = JsonTerminalSafe(sys.stdout)
    try:
        write_report_json(store, goal_id, cast(TextIO, out), default=str)  # it only calls write
        out.write("\n")
        out.flush()
    except OSError as e:  # `| head` (the reader has all it wanted), or a full disk
        output_failed(e, "the report")
