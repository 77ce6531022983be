"""The `winnow` command. Thin commands over `review/`; Textual is imported only to open the app."""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

import click

from review import __version__
from review.importers import InputError
from review.sanitize import sanitize
from review.store import GoalError, ProjectError, StorageError, Store, storage_error
from tui.cli_common import ProgressBar, db_option, fail

DATA_SUFFIXES = (".json", ".jsonl", ".gz", ".csv", ".parquet")


def winnow_home() -> Path:
    """Where winnow keeps its own files (the demo project). WINNOW_HOME overrides it (tests)."""
    env = os.environ.get("WINNOW_HOME")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("winnow"))


def open_store(db: str | Path, *, create: bool = False, then: str = "") -> Store:
    """The project, or a one-line error (`then`: what that means for the command) and exit 2."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.meta["winnow.db"] = Path(db)  # so that an error from the file names it (DefaultToOpen)
    try:
        return Store(db, create=create)
    except ProjectError as e:
        fail(f"{e}\n{then}" if then else str(e))


def project_exists(db: str | Path) -> bool:
    p = Path(db)
    return p.exists() and p.stat().st_size > 0


def remove_project(db: str | Path) -> None:
    """Remove a project file this command created and could not fill (with its -wal and -shm)."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)


class Interrupted(BaseException):
    """SIGTERM/SIGINT during an import: unwinds like an error, so the transaction rolls back and a
    project file this command created is removed (the default SIGTERM action would leave it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted(signum)


def import_into(
    db: str | Path,
    files: list[str],
    mapping: dict | None,
    fmt: str | None,
    skip_invalid: bool,
    max_record_mb: int | None = None,
) -> None:
    """Import files into a project, created if missing. A new project that ends up with nothing
    imported (the first file was bad, the disk filled, SIGTERM or Ctrl-C) is removed: a failed
    import leaves the disk as it was."""
    import signal

    fresh = not project_exists(db)
    imported = False
    done: list[str] = []
    previous = {s: signal.signal(s, _interrupt) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        with open_store(db, create=True, then="(nothing was imported)") as store:
            for f in files:
                do_import(store, f, mapping, fmt, skip_invalid, max_record_mb)
                imported = True
                done.append(f)
    except Interrupted as e:
        name = signal.Signals(e.signum).name
        kept = f"; {', '.join(sanitize(Path(f).name) for f in done)} stay imported" if done else ""
        unchanged = "no project file was created" if fresh and not imported else "the project is unchanged"
        if fresh and not imported:
            remove_project(db)
        fail(f"interrupted ({name}): the file being imported was not imported, {unchanged}{kept}", 128 + e.signum)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if fresh and not imported:
            remove_project(db)


def parse_map(values: tuple[str, ...]) -> dict[str, str] | None:
    if not values:
        return None
    out = {}
    for v in values:
        key, sep, field = v.partition("=")
        if not sep or not key or not field:
            fail(f"--map {v!r}: expected CANONICAL=FIELD, e.g. --map prompt=question --map answer=std_answer")
        out[key.strip()] = field.strip()
    return out


def do_import(
    store: Store, path: str, mapping: dict | None, fmt: str | None, skip_invalid: bool, max_record_mb: int | None = None
) -> None:
    bar = ProgressBar(f"importing {Path(path).name}", rate="rows")
    stop = bar.stop
    try:
        report = store.import_file(
            path,
            mapping=mapping,
            fmt=fmt,
            skip_invalid=skip_invalid,
            progress=bar.rows if bar.active else None,
            max_record_bytes=max_record_mb << 20 if max_record_mb else None,
        )
    except Interrupted:
        stop()
        raise
    except MemoryError:
        stop()
        fail(
            f"{path}: out of memory while importing — nothing was imported; the project is unchanged "
            "(a lower --max-record-mb bounds what one record may take)"
        )
    except InputError as e:
        stop()
        fail(f"{e}\n(nothing was imported; the project is unchanged)")
    except OSError as e:
        stop()
        fail(f"{path}: cannot read ({e.strerror or e}) — check the path")
    except (ProjectError, sqlite3.Error) as e:
        stop()
        err = storage_error(store.path, e) if isinstance(e, sqlite3.Error) else e
        if err is None:
            raise
        fail(f"{err}\n(nothing was imported from {Path(path).name}; the project is unchanged)")
    stop()
    name = sanitize(Path(path).name)
    if report.already_imported:
        click.echo(f"{name}: already imported (same sha256) — nothing added")
        return
    src = report.source
    assert src is not None
    click.echo(f"{name}: imported {report.added:,} samples as {src.format} ({src.container}) into {store.path}")
    if report.repeated_records:
        ex = ", ".join(f"line {a} repeats line {b}" for a, b in report.repeated_examples[:3])
        click.echo(
            f"  {report.repeated_records:,} records repeat an earlier record of this file "
            f"(kept as separate samples: {ex})"
        )
    if report.skipped:
        click.echo(f"  skipped {len(report.skipped):,} invalid records:")
        for line in report.skipped:
            click.echo(f"    {sanitize(line)}")


class DefaultToOpen(click.Group):
    """`winnow FILE` means `winnow open FILE`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["open", *args]
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        # The project file refusing us (busy, read-only, disk full, I/O) is a message, never a
        # traceback: ProjectError messages say what happened, which file, and what to do.
        try:
            return super().invoke(ctx)
        except ProjectError as e:
            fail(str(e))
        except sqlite3.Error as e:
            db = ctx.meta.get("winnow.db")
            err = storage_error(db, e) if db is not None else None
            if err is None:
                raise
            fail(str(err))


@click.group(cls=DefaultToOpen, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="winnow")
def cli() -> None:
    """Review a fine-tuning dataset one sample at a time, against one goal sentence.

    \b
    Start here:
      winnow demo                          open the bundled demo project
      winnow data.jsonl                    import data.jsonl (into data.winnow.db) and review it
      winnow open project.db               review an existing project
    """


@cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@db_option
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="CANONICAL=FIELD",
    help="Map fields of an unknown schema: prompt, answer, system, query.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["alpaca", "sharegpt", "openai", "prompt_completion", "mapped"]),
    help="Skip detection and read records as this format.",
)
@click.option("--skip-invalid", is_flag=True, help="Import the valid records and list each skipped one.")
@click.option(
    "--max-record-mb",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="Refuse a file with a record (line, row, array element) larger than N MB (default 64).",
)
def import_cmd(
    files: tuple[str, ...],
    db: str,
    maps: tuple[str, ...],
    fmt: str | None,
    skip_invalid: bool,
    max_record_mb: int | None,
) -> None:
    """Import data files into a project (created if missing).

    Formats are detected from the records: Alpaca, ShareGPT, OpenAI messages,
    prompt/completion; JSON arrays, JSONL (.gz) and CSV. Each file is one
    transaction: a bad file changes nothing. Importing the same file twice adds nothing.

    \b
    Example:
      winnow import train.jsonl --db project.db
      winnow import qa.csv --db project.db --map prompt=question --map answer=std_answer
    """
    import_into(db, list(files), parse_map(maps), fmt, skip_invalid, max_record_mb)


@cli.group()
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
            json.dumps(
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


@cli.command("batch")
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
            json.dumps(
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


def resolve_goal(store: Store, ref: str | None):
    try:
        g = store.find_goal(ref) if ref else store.active_goal()
    except ProjectError as e:
        fail(str(e))
    if g is None:
        archived = [a for a in store.goals(include_archived=True) if a.archived]
        if archived and not store.goals():  # every goal is archived: name them rather than say there is none
            a = archived[-1]
            fail(
                f"{store.path}: no active goal — {archived_goal_line(store, a)}"
                + (f" ({len(archived) - 1} more archived: winnow goal list)" if len(archived) > 1 else "")
            )
        fail(f'{store.path}: no goal yet — add one: winnow goal add "..." --db {store.path}')
    return g


def archived_goal_line(store: Store, g) -> str:
    """What to say about an archived goal where the active one is looked for (stats, export)."""
    c = store.counts(g.id)
    return (
        f"goal #{g.id} “{g.sentence}” is archived; {c.kept:,} kept, {c.dropped:,} dropped — "
        f"restore it with `winnow goal archive {g.id} --restore --db {store.path}`, or name it with --goal {g.id}"
    )


@cli.command()
@db_option
@click.option("--goal", "goal_ref", help="Only this goal (number or a piece of its sentence).")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def stats(db: str, goal_ref: str | None, as_json: bool) -> None:
    """Samples, sources and decisions per goal.

    \b
    Example:
      winnow stats --db project.db
      winnow stats --db project.db --json | jq .goals
    """
    from review.figures import dumps, project_stats

    with open_store(db) as store:
        data = project_stats(store, resolve_goal(store, goal_ref) if goal_ref else None)
        archived = [archived_goal_line(store, store.goal(a.id)) for a in data.archived_goals or ()]
    if as_json:
        click.echo(dumps(data))
        return
    click.echo(f"{data.samples:,} samples in {sanitize(data.project)}")
    for s in data.sources:
        click.echo(f"  {sanitize(s.name)}: {s.records:,} records · {s.format} · {s.container}")
    if not data.goals and not data.archived_goals:
        click.echo("no goals yet")
    for g in data.goals:
        mark = "*" if g.active else " "
        arch = " (archived)" if g.archived else ""
        click.echo(f"{mark} goal #{g.id}{arch}: {sanitize(g.sentence)}")
        click.echo(f"    kept {g.kept:,} · dropped {g.dropped:,} · undecided {g.undecided:,}")
        if g.dropped_by_reason:
            click.echo("    dropped: " + ", ".join(f"{k} {v:,}" for k, v in g.dropped_by_reason.items()))
        if g.by_tag:
            click.echo("    tags: " + ", ".join(f"{sanitize(k)} {v:,}" for k, v in g.by_tag.items()))
    for line in archived:
        click.echo("  " + sanitize(line))
    analysis = data.analysis or {}
    for name, f in (analysis.get("detectors") or {}).items():
        extra = f" (≥ {f['threshold']})" if f.get("threshold") is not None else ""
        click.echo(
            f"  {name}{extra}: {f.get('flagged_samples', 0):,} samples flagged in {f.get('clusters', 0):,} "
            f"clusters (largest {f.get('largest_cluster', 0)}), duplicate mass {f.get('duplicate_mass', 0):,}"
            + ("" if f.get("complete", True) else " — run incomplete, `winnow analyze` resumes it")
        )
    dup = analysis.get("duplicates") or {}
    if dup.get("samples"):
        click.echo(
            f"  near-duplicates, all detectors: {dup['samples']:,} samples in {dup['groups']:,} groups; "
            f"{dup['duplicate_mass']:,} beyond the first of each ({dup['duplicate_share']:.1%} of the project)"
        )


@cli.command("export")
@db_option
@click.option("--goal", "goal_ref", help="Goal to export (default: the active one).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Output file; a .manifest.json is written beside it."
)
@click.option("--tags", is_flag=True, help='Add each record\'s tags (JSON: a "winnow_tags" key; CSV: a column).')
@click.option(
    "--to",
    "to",
    type=click.Choice(["alpaca", "sharegpt", "openai"]),
    help="Convert to this layout (refused, with reasons, where it would lose data).",
)
@click.option(
    "--since",
    "since",
    metavar="last|ID",
    help="Do not export: show what changed since the last (or the given) export of this goal.",
)
@click.option("--list", "list_", is_flag=True, help="Do not export: list this project's exports.")
@click.option(
    "--force", is_flag=True, help="Replace an existing output file (a previous export to the same place needs none)."
)
def export_cmd(
    db: str,
    goal_ref: str | None,
    output: str | None,
    tags: bool,
    to: str | None,
    since: str | None,
    list_: bool,
    force: bool,
) -> None:
    """Write the kept samples in the input's own format, plus a manifest.

    Records are written exactly as imported. If kept samples come from sources
    of different layouts (e.g. JSONL and CSV), one file per layout is written.
    The project file, its side files and the imported sources are never
    overwritten; another existing file only with --force.

    \b
    Example:
      winnow export --db project.db --goal 1 -o kept.jsonl
      winnow export --db project.db --to sharegpt -o kept_sharegpt.json
      winnow export --db project.db --since last
    """
    from review.export import ExportError, changes_since, export, exports

    with open_store(db) as store:
        if list_:
            for e in exports(store, resolve_goal(store, goal_ref).id if goal_ref else None):
                click.echo(
                    f"#{e['id']}  goal #{e['goal_id']}  {e['at']}  kept {e['kept']:,}  "
                    f"log position {e['log_position']}  {sanitize(e['manifest'])}"
                )
            return
        g = resolve_goal(store, goal_ref)
        if since is not None:
            try:
                ch = changes_since(store, g.id, None if since == "last" else int(since.lstrip("#")))
            except ValueError as e:
                fail(f"--since {since}: {e}" if not isinstance(e, ExportError) else str(e))
            if ch.since is None:
                click.echo(f"goal #{g.id} was never exported; {len(ch.added):,} samples are kept now")
            else:
                click.echo(f"since export #{ch.since['id']} ({ch.since['at']}, {ch.since['kept']:,} kept):")
            click.echo(f"  added   {len(ch.added):,}  " + ", ".join(f"#{i}" for i in ch.added[:20]))
            click.echo(f"  removed {len(ch.removed):,}  " + ", ".join(f"#{i}" for i in ch.removed[:20]))
            click.echo(f"  unchanged {ch.unchanged:,}")
            return
        if not output:
            fail("give -o/--output FILE (or --since / --list)")
        if g.archived:  # only when named with --goal: an archived goal is never the active one
            click.echo(f"note: goal #{g.id} is archived; exporting its kept samples as they stand", err=True)
        try:
            report = export(store, g, output, tags=tags, to=to, force=force)
        except (ExportError, ValueError) as e:
            fail(str(e))
        except OSError as e:
            where = e.filename or output
            fail(
                f"{where}: cannot write the export ({e.strerror or e}) — no existing file was replaced; "
                "check free space and permissions"
            )
        except StorageError as e:
            if e.kind != "read-only":
                raise
            # A read-only project: the files and the manifest are written; only the record of
            # this export in the project (what --since compares with) could not be.
            manifest = Path(output).with_name(Path(output).name + ".manifest.json")
            for f in json.loads(manifest.read_text(encoding="utf-8"))["files"]:
                click.echo(f"wrote {f['records']:,} kept samples to {sanitize(f['path'])}")
            click.echo(f"manifest: {sanitize(str(manifest))}")
            click.echo(
                f"note: {sanitize(str(store.path))} is read-only, so this export is not recorded in it "
                "(`winnow export --since` will not know it)"
            )
            return
    for path, n in zip(report.files, report.per_file, strict=True):
        click.echo(f"wrote {n:,} kept samples to {sanitize(str(path))}")
    click.echo(f"manifest: {sanitize(str(report.manifest))} (export #{report.export_id})")


def demo_db_path(db: str | None) -> Path:
    return Path(db) if db else winnow_home() / "demo.db"


def build_demo(path: Path, *, reset: bool = False) -> Store:
    from review.demo import DEMO_PATH

    if reset and path.exists():
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(path, create=True)
    if store.total_samples() == 0:
        store.import_file(DEMO_PATH)
    return store


@cli.command()
@click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False),
    help="Where to build the demo project (default: winnow's data folder, or $WINNOW_HOME).",
)
@click.option("--reset", is_flag=True, help="Rebuild the demo project from scratch (your demo decisions go).")
@click.option("--no-open", is_flag=True, help="Build it and print stats; do not open the review screen.")
def demo(db: str | None, reset: bool, no_open: bool) -> None:
    """Open the bundled demo: a support dataset in English and Chinese with planted
    duplicates, style drift, contradictions and noisy logs.

    \b
    Example:
      winnow demo
      winnow demo --no-open --db /tmp/demo.db
    """
    path = demo_db_path(db)
    with build_demo(path, reset=reset) as store:
        n = store.total_samples()
    if no_open:
        click.echo(f"demo project: {path} ({n:,} samples)")
        click.echo(f"review it:    winnow open {path}")
        return
    launch(path)


def launch(path: Path, goal_ref: str | None = None, queue: str | None = None) -> None:
    """Open the review screen (Textual is imported only here)."""
    from review.lock import ProjectLocked
    from review.model import Queue
    from review.queues import default_queues

    try:
        from tui.app import run_app
    except ImportError as e:  # pragma: no cover - only when the package is broken
        fail(f"the review screen could not load ({e}) — reinstall: pip install -U winnow-review")
    goal_id = None
    if goal_ref or queue:
        with open_store(path) as store:
            goal = resolve_goal(store, goal_ref)
            goal_id = goal.id
            if queue:
                kind, _, value = queue.partition("=")
                q = Queue(kind, value or None)
                try:
                    first = default_queues().step(store, goal.id, q, 0)
                except ValueError as e:
                    fail(f"--queue {queue}: {e}")
                if first is None:
                    fail(f"--queue {queue}: that queue is empty for goal #{goal.id}")
                store.save_goal_state(goal.id, first, q.to_json())
    try:
        code = run_app(path, goal_id=goal_id)
    except (ProjectLocked, ProjectError) as e:
        fail(str(e))
    sys.exit(code or 0)


@cli.command("open")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--db",
    "db",
    type=click.Path(dir_okay=False),
    help="When PATH is a data file: the project to import it into (default: beside it, NAME.winnow.db).",
)
@click.option("--goal", "goal_ref", help="Start on this goal (number or a piece of its sentence).")
@click.option("--map", "maps", multiple=True, metavar="CANONICAL=FIELD", help="As for `winnow import`.")
@click.option(
    "--queue",
    metavar="KIND[=VALUE]",
    help="Start in this queue: undecided, kept, dropped, reason=R, tag=T, batch, rereview, duplicates, "
    "style_drift, contradictions, noisy.",
)
def open_cmd(path: str, db: str | None, goal_ref: str | None, maps: tuple[str, ...], queue: str | None) -> None:
    """Review a project; given a data file, import it first.

    \b
    Example:
      winnow open project.db
      winnow train.jsonl                 # same as: winnow open train.jsonl
      winnow open train.jsonl --db project.db
    """
    p = Path(path)
    if not p.is_file():  # a FIFO or a device: reading even 16 bytes could wait forever
        from review.importers.source import not_regular

        fail(str(not_regular(path, p.stat().st_mode)))
    with open(p, "rb") as fh:
        is_db = fh.read(16) == b"SQLite format 3\x00"
    if not is_db:
        target = Path(db) if db else p.with_name(p.name.split(".")[0] + ".winnow.db")
        import_into(target, [path], parse_map(maps), None, False)
        p = target
    launch(p, goal_ref, queue)


from tui.cli_analysis import analyze, leakage  # noqa: E402 — commands defined in their own modules
from tui.cli_report import report  # noqa: E402

cli.add_command(analyze)
cli.add_command(leakage)
cli.add_command(report)


def main() -> None:
    cli(prog_name="winnow")
