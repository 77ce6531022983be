"""`winnow decide` (a bulk decision: one log action, previewed first) and `winnow undo` /
`winnow redo` (one or more steps of the log). tui/cli.py registers them with `cli.add_command`.

Both take the review lock for the moment they write: a review screen open on the project holds
the undo history and the cursor, so a script deciding under it is refused (close the screen, or
bulk-decide there with `*`)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from review.model import REASONS
from review.sanitize import sanitize
from review.store import GoalError, ProjectError, StorageError, Store
from tui.cli_common import db_option, fail, json_text, open_store, resolve_goal


@contextmanager
def _review_lock(store: Store) -> Iterator[None]:
    from review.lock import ProjectLock

    lock = ProjectLock(store.path)
    try:
        lock.acquire()
    except ProjectError as e:
        fail(f"{e}; nothing was written")
    try:
        yield
    finally:
        lock.release()


def _print_preview(p: object) -> None:
    from review.session import BulkPreview

    assert isinstance(p, BulkPreview)
    click.echo(f"goal #{p.goal_id}: {sanitize(p.goal_sentence, oneline=True)}")
    click.echo(f"{sanitize(p.selection.label, oneline=True)}: {p.matched:,} samples → {sanitize(p.decision_label)}")
    parts = [f"{p.undecided:,} undecided"]
    if p.only_undecided:
        parts.append(f"{p.skipped:,} decided left as they are (--only-undecided)")
    else:
        parts.append(f"{p.overwritten:,} decided otherwise, overwritten")
        parts.append(f"{p.already:,} already so")
    click.echo("  " + " · ".join(parts))
    click.echo(f"  {len(p.changes):,} will change")
    for sid, now, prompt in p.first:
        click.echo(f"  #{sid:<7,} {now:<22} {sanitize(prompt, oneline=True)[:60]}")
    if len(p.changes) > len(p.first):
        click.echo(f"  … and {len(p.changes) - len(p.first):,} more")


@click.command("decide")
@db_option
@click.argument("verdict", type=click.Choice(["keep", "drop", "keep-one", "swap", "both-bad", "flip"]))
@click.option("--goal", "goal_ref", help="Decide under this goal (default: the active one).")
@click.option("--queue", metavar="KIND[=VALUE]", help="Every sample of a queue: undecided, kept, reason=R, duplicates…")
@click.option("--search", metavar="TEXT", help="Every sample containing TEXT (case-insensitive), as the `/` search.")
@click.option(
    "--flag",
    "flag_kind",
    metavar="KIND[=TEXT]",
    help="Every sample flagged KIND (exact, same-prompt, lexical, semantic, leak, style, conflict, noise, off-goal);"
    " =TEXT: only flags saying TEXT, e.g. noise='answer is empty'.",
)
@click.option("--ids", metavar="1,5-9", help="These sample numbers (every one must exist).")
@click.option("--reason", type=click.Choice(REASONS), help="With drop: the reason (default: other).")
@click.option("--tag", "tags", multiple=True, metavar="T", help="Also tag each sample T (repeatable).")
@click.option("--note", help="Also set each sample's note.")
@click.option("--only-undecided", is_flag=True, help="Leave samples decided already as they are.")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output (the preview, and the action id).")
def decide_cmd(
    db: str,
    verdict: str,
    goal_ref: str | None,
    queue: str | None,
    search: str | None,
    flag_kind: str | None,
    ids: str | None,
    reason: str | None,
    tags: tuple[str, ...],
    note: str | None,
    only_undecided: bool,
    dry_run: bool,
    as_json: bool,
) -> None:
    """Keep or drop every sample of a queue, search, flag kind or id list, as ONE step of the
    decision log (one `winnow undo` reverts it all).

    Preference data: `swap` keeps pairs with chosen and rejected exchanged (export writes them
    so), `both-bad` drops pairs whose answers are both bad, `flip` keeps KTO records with their
    label flipped. Every selected sample must be a pair (swap, both-bad) or carry a label (flip).

    The preview is printed first: how many samples, under which goal, how many are undecided,
    how many decided otherwise will be overwritten, and the first few. The decision is in the
    project file when the command reports it.

    \b
    Example:
      winnow decide --db p.db --flag noise drop --reason noisy --dry-run
      winnow decide --db p.db --flag "noise=answer is empty" drop --reason incomplete
      winnow decide --db p.db --search "As an AI language model" drop --reason style-drift
      winnow decide --db p.db --queue reason=duplicate keep --tag checked
      winnow decide --db p.db --ids 1,5-9 keep --json
      winnow decide --db p.db --flag semantic keep-one
      winnow decide --db p.db --ids 3,17 swap
      winnow decide --db p.db --ids 8 flip
      winnow undo --db p.db
    """
    from review.session import open_session

    chosen = [(k, v) for k, v in (("queue", queue), ("search", search), ("flag", flag_kind), ("ids", ids)) if v]
    if len(chosen) != 1:
        fail("say which samples: exactly one of --queue, --search, --flag, --ids (see winnow decide --help)")
    by, value = chosen[0]
    if reason is not None and verdict != "drop":
        fail("--reason goes with drop (a kept sample has no reason)")
    if verdict in ("swap", "both-bad", "flip"):
        if tags or note or only_undecided:
            fail(f"{verdict} goes with a selection alone (no --tag, --note or --only-undecided)")
        _prefer(db, goal_ref, by, value, verdict, dry_run, as_json)
        return
    if verdict == "keep-one":
        if by != "flag" or tags or note or only_undecided:
            fail("keep-one goes with --flag exact|lexical|semantic alone (one kept per cluster, the rest dropped)")
        _keep_one(db, goal_ref, value, dry_run, as_json)
        return
    with open_store(db) as store:
        goal = resolve_goal(store, goal_ref)
        session = open_session(store, goal)
        assert session is not None
        try:
            selection = session.select(by, value)
            preview = session.preview_bulk(
                selection, verdict, reason=reason, tags=tags, note=note, only_undecided=only_undecided
            )
        except ValueError as e:
            fail(str(e))
        if not as_json:
            _print_preview(preview)
        action = None
        if not dry_run and preview.changes:
            with _review_lock(store):
                try:
                    action = session.bulk_decide(preview)
                except (GoalError, StorageError, ProjectError) as e:
                    fail(f"{e}; nothing was written")
    if as_json:
        click.echo(json_text({**preview.to_json(), "dry_run": dry_run, "action": action}, ensure_ascii=False))
        return
    if dry_run:
        click.echo("dry run: nothing was written")
    elif action is None:
        click.echo("nothing to change: nothing was written")
    else:
        click.echo(
            f"decided {len(preview.changes):,} samples as one step (action #{action}) · undo: winnow undo --db {db}"
        )


def _prefer(db: str, goal_ref: str | None, by: str, value: str, action: str, dry_run: bool, as_json: bool) -> None:
    """swap / both-bad / flip on a selection, as one step of the log."""
    from review.session import open_session, preference_changes

    with open_store(db) as store:
        session = open_session(store, resolve_goal(store, goal_ref))
        assert session is not None
        try:
            selection = session.select(by, value)
            changes = preference_changes(store, session.goal, selection.ids, action, toggle=False)
        except ValueError as e:
            fail(f"{e}; nothing was written")
        ids = [c.sample_id for c in changes]
        if not as_json:
            click.echo(f"goal #{session.goal.id}: {sanitize(session.goal.sentence, oneline=True)}")
            click.echo(
                f"{sanitize(selection.label, oneline=True)}: {len(selection.ids):,} sample{'s' if len(selection.ids) != 1 else ''} → {action}"
                f" · {len(ids):,} will change ({len(selection.ids) - len(ids):,} {action} already)"
            )
        action_id = None
        if not dry_run and changes:
            detail = {
                "selector": selection.selector,
                "selection": selection.label,
                "verdict": action,
                "samples": len(ids),
            }
            with _review_lock(store):
                try:
                    action_id = store.apply(
                        session.goal.id, changes, kind="bulk", revision=session.goal.revision, detail=detail
                    )
                except (GoalError, StorageError, ProjectError) as e:
                    fail(f"{e}; nothing was written")
    if as_json:
        out = {"goal": session.goal.id, "verdict": action, "matched": len(selection.ids), "changes": ids}
        click.echo(json_text({**out, "dry_run": dry_run, "action": action_id}, ensure_ascii=False))
    elif dry_run:
        click.echo("dry run: nothing was written")
    elif action_id is None:
        click.echo("nothing to change: nothing was written")
    else:
        click.echo(f"decided {len(ids):,} samples as one step (action #{action_id}) · undo: winnow undo --db {db}")


def _keep_one(db: str, goal_ref: str | None, kind: str, dry_run: bool, as_json: bool) -> None:
    from review.session import open_session

    with open_store(db) as store:
        session = open_session(store, resolve_goal(store, goal_ref))
        assert session is not None
        try:
            plan = session.plan_keep_one(kind)
        except ValueError as e:
            fail(str(e))
        if not as_json:
            click.echo(f"goal #{session.goal.id}: {sanitize(session.goal.sentence, oneline=True)}")
            click.echo(
                f"{sanitize(plan.selection.label)}: {plan.clusters:,} clusters → keep {len(plan.keep):,}"
                f" (one each), drop {len(plan.drop):,} as duplicate · {plan.overwritten:,} decided otherwise, overwritten"
            )
            if plan.keep:
                click.echo(
                    "  keeping " + ", ".join(f"#{i:,}" for i in plan.keep[:8]) + (" …" if len(plan.keep) > 8 else "")
                )
        action = None
        if not dry_run and (plan.keep or plan.drop):
            with _review_lock(store):
                try:
                    action = session.keep_one(plan)
                except (GoalError, StorageError, ProjectError) as e:
                    fail(f"{e}; nothing was written")
    if as_json:
        click.echo(json_text({**plan.to_json(), "dry_run": dry_run, "action": action}, ensure_ascii=False))
    elif dry_run:
        click.echo("dry run: nothing was written")
    elif action is None:
        click.echo("no clusters: nothing was written")
    else:
        click.echo(
            f"decided {len(plan.keep) + len(plan.drop):,} samples as one step (action #{action}) · undo: winnow undo --db {db}"
        )


def _flip_command(kind: str) -> click.Command:
    @click.command(kind, help=_FLIP_HELP[kind])
    @db_option
    @click.option("--goal", "goal_ref", help="The goal whose log to step (default: the active one).")
    @click.option("--steps", type=click.IntRange(min=1), default=1, show_default=True, help="How many steps.")
    @click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
    def flip_cmd(db: str, goal_ref: str | None, steps: int, as_json: bool) -> None:
        from review.session import describe_action

        done = []
        with open_store(db) as store:
            goal = resolve_goal(store, goal_ref)
            with _review_lock(store):
                try:
                    with store.tx():  # all the steps or none
                        for _ in range(steps):
                            f = store.flip(goal.id, kind)
                            if f.action is None:
                                break
                            done.append(f)
                except (GoalError, StorageError, ProjectError) as e:
                    fail(f"{e}; nothing was {kind}ne")
        rows = [
            {
                "action": f.action,
                "kind": f.action_kind,
                "detail": f.detail,
                "samples": len(f.touched),
                "what": describe_action(f.action_kind, f.detail, len(f.touched)),
            }
            for f in done
        ]
        if as_json:
            click.echo(json_text({"goal": goal.id, kind: rows}, ensure_ascii=False))
            return
        if not rows:
            click.echo(f"nothing to {kind} under goal #{goal.id}")
            return
        for r in rows:
            click.echo(f"{kind}ne: {sanitize(str(r['what']))} (action #{r['action']})")
        if len(rows) < steps:
            click.echo(f"({len(rows)} of {steps} steps: nothing further to {kind})")

    return flip_cmd


_FLIP_HELP = {
    "undo": """Undo the last step(s) of the decision log: a bulk decision, a cluster step or one
    key in the review screen, each as it was recorded.

    \b
    Example:
      winnow undo --db p.db
      winnow undo --db p.db --steps 3 --json
    """,
    "redo": """Redo what `winnow undo` (or `u` in the review screen) undid, most recent first.

    \b
    Example:
      winnow redo --db p.db
    """,
}

undo_cmd = _flip_command("undo")
redo_cmd = _flip_command("redo")
