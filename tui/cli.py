"""The `winnow` command. Thin commands over `review/`; Textual is imported only to open the app."""

from __future__ import annotations

import errno
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from review import __version__
from review.importers import FORMATS, InputError
from review.sanitize import sanitize
from review.store import ProjectError, Store, storage_error
from tui.cli_common import (
    Interrupted,
    ProgressBar,
    db_option,
    fail,
    interrupt,
    open_store,
    output_failed,
    resolve_goal,
)

DATA_SUFFIXES = (".json", ".jsonl", ".gz", ".csv", ".parquet")


def winnow_home() -> Path:
    """Where winnow keeps its own files (the demo project). WINNOW_HOME overrides it (tests)."""
    env = os.environ.get("WINNOW_HOME")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("winnow"))


def project_exists(db: str | Path) -> bool:
    p = Path(db)
    return p.exists() and p.stat().st_size > 0


def remove_project(db: str | Path) -> None:
    """Remove a project file this command created and could not fill (with its -wal and -shm)."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(db) + suffix).unlink(missing_ok=True)


def import_into(
    db: str | Path,
    files: list[str],
    mapping: dict | None,
    fmt: str | None,
    skip_invalid: bool,
    max_record_mb: int | None = None,
    layouts: dict[str, tuple[str, dict]] | None = None,
) -> None:
    """Import files into a project, created if missing (`layouts`: a file's own format and
    mapping, from a dataset_info.json entry, in place of `fmt` and `mapping`). A new project that ends up with nothing
    imported (the first file was bad, the disk filled, SIGTERM or Ctrl-C) is removed: a failed
    import leaves the disk as it was."""
    import signal

    fresh = not project_exists(db)
    imported = False
    done: list[str] = []
    previous = {s: signal.signal(s, interrupt) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        with open_store(db, create=True, then="(nothing was imported)") as store:
            for f in files:
                f_fmt, f_mapping = (layouts or {}).get(f, (fmt, mapping))
                do_import(store, f, f_mapping, f_fmt, skip_invalid, max_record_mb, done)
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


FIELD_NAME_CHARS = 40  # a field name in a one-line summary: a 10,000-character key is a data problem, not a name


def _field_name(name: str) -> str:
    """A field name as a summary line shows it: sanitised, and cut with "…" past FIELD_NAME_CHARS."""
    shown = sanitize(name, oneline=True)
    return shown if len(shown) <= FIELD_NAME_CHARS else shown[: FIELD_NAME_CHARS - 1] + "…"


def _not_imported(path: str, earlier: Sequence[str], *, name: bool = False) -> str:
    """What a failed import of `path` left: nothing, or the files imported before it in this command
    (each file is its own transaction)."""
    file = sanitize(Path(path).name, oneline=True)
    what = f"nothing was imported from {file}" if earlier or name else "nothing was imported"
    if not earlier:
        return f"{what}; the project is unchanged"
    names = ", ".join(sanitize(Path(f).name, oneline=True) for f in earlier)
    return f"{what}; {names} {'stays' if len(earlier) == 1 else 'stay'} imported"


def do_import(
    store: Store,
    path: str,
    mapping: dict | None,
    fmt: str | None,
    skip_invalid: bool,
    max_record_mb: int | None = None,
    earlier: Sequence[str] = (),
) -> None:
    """Import one file; `earlier`: the files this command imported before it (a refusal names them)."""
    shown = sanitize(path, oneline=True)  # a file name may hold a newline: it must not forge a line
    bar = ProgressBar(f"importing {sanitize(Path(path).name, oneline=True)}", rate="rows")
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
            f"{shown}: out of memory while importing — {_not_imported(path, earlier)} "
            "(a lower --max-record-mb bounds what one record may take)"
        )
    except InputError as e:
        stop()
        fail(f"{e}\n({_not_imported(path, earlier)})")
    except OSError as e:
        stop()
        fail(f"{shown}: cannot read ({e.strerror or e}) — check the path")
    except (ProjectError, sqlite3.Error) as e:
        stop()
        err = storage_error(store.path, e) if isinstance(e, sqlite3.Error) else e
        if err is None:
            raise
        fail(f"{err}\n({_not_imported(path, earlier, name=True)})")
    stop()
    name = sanitize(Path(path).name, oneline=True)
    if report.already_imported:
        click.echo(f"{name}: already imported (same sha256) — nothing added")
        return
    src = report.source
    assert src is not None
    samples = "sample" if report.added == 1 else "samples"
    click.echo(f"{name}: imported {report.added:,} {samples} as {src.format} ({src.container}) into {store.path}")
    if report.pairs:
        click.echo(f"  {report.pairs:,} preference pairs: the review shows chosen and rejected side by side")
    if report.desirable or report.undesirable:
        click.echo(
            f"  {report.desirable + report.undesirable:,} KTO-labelled: {report.desirable:,} desirable, "
            f"{report.undesirable:,} undesirable (the label is shown on each sample)"
        )
    if report.with_media:
        click.echo(f"  {report.with_media:,} with media references (shown as references, never loaded)")
    for alias, key, n in report.respelt:  # keys read under another spelling (instuction as instruction)
        recs = "record spells" if n == 1 else "records spell"
        shown_key = sanitize(repr(key), oneline=True)
        how = f"as {sanitize(repr(alias), oneline=True)}" if alias else "in yet other ways"
        click.echo(f"  {n:,} {recs} {shown_key} {how} (read as {sanitize(key, oneline=True)})")
    if src.container != "csv":  # a CSV's columns are its header's
        from review.importers.schemas import unread_keys

        try:  # the import has committed: a failed read here only leaves this hint out
            raws = store.source_raws(src.id)
        except (ProjectError, sqlite3.Error):
            raws = []
        unread = unread_keys(raws, src.mapping, (a for a, _, _ in report.respelt if a))
        if unread:
            click.echo(
                "  fields not shown as turns (kept in each record's raw text, v in the review; export keeps them): "
                + ", ".join(_field_name(f) for f in unread[:12])
                + (f" and {len(unread) - 12} more" if len(unread) > 12 else "")
            )
    if report.repeated_records:
        ex = ", ".join(f"line {a} repeats line {b}" for a, b in report.repeated_examples[:3])
        click.echo(
            f"  {report.repeated_records:,} {'record repeats' if report.repeated_records == 1 else 'records repeat'}"
            " an earlier record of this file "
            f"(kept as separate samples: {ex})"
        )
    if report.skipped_total:
        listed = "" if report.skipped_total == len(report.skipped) else f" (the first {len(report.skipped):,} listed)"
        click.echo(f"  skipped {report.skipped_total:,} invalid records{listed}:")
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
@click.argument("files", nargs=-1, type=click.Path(exists=True))
@db_option
@click.option(
    "--dataset-dir",
    type=click.Path(exists=True, file_okay=False),
    help="A folder with LLaMA-Factory's dataset_info.json: import the --dataset entries as it reads them.",
)
@click.option(
    "--dataset",
    "datasets",
    metavar="NAME[,NAME]",
    help="Entries of dataset_info.json to import (its file_name, formatting, columns, tags, ranking).",
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="CANONICAL=FIELD",
    help="Map fields of an unknown schema: prompt, answer, system, query. A mapping is refused when its "
    "answer field is the same in most of the first 32 records or its prompt is a short label (a category).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    help="Skip detection and read records as this format (the *_pair formats are preference data: chosen and "
    "rejected answers).",
)
@click.option(
    "--skip-invalid",
    is_flag=True,
    help="Import the valid records and list each skipped one (the first 1,000; the rest are counted).",
)
@click.option(
    "--max-record-mb",
    type=click.IntRange(min=1, max=1 << 20),  # 1 TiB: larger overflows a read size
    default=None,
    metavar="N",
    help="Refuse a file with a record (line, row, array element) larger than N MB (default 64).",
)
def import_cmd(
    files: tuple[str, ...],
    db: str,
    dataset_dir: str | None,
    datasets: str | None,
    maps: tuple[str, ...],
    fmt: str | None,
    skip_invalid: bool,
    max_record_mb: int | None,
) -> None:
    """Import data files into a project (created if missing).

    Formats are detected from the records: Alpaca, ShareGPT, OpenAI messages,
    prompt/completion, preference pairs, MOSS/Firefly, ### Human: chat text; JSON
    arrays, JSONL (.gz), CSV and Parquet (a folder of hub shards is one dataset). Each file is one
    transaction: a bad file changes nothing. Importing the same file twice adds nothing.

    \b
    Example:
      winnow import train.jsonl --db project.db
      winnow import qa.csv --db project.db --map prompt=question --map answer=std_answer
      winnow import --dataset-dir LLaMA-Factory/data --dataset alpaca_en_demo,dpo_en_demo --db project.db
    """
    if (dataset_dir is None) != (datasets is None):
        fail("--dataset-dir and --dataset go together, e.g. --dataset-dir data --dataset alpaca_en_demo")
    if not files and datasets is None:
        fail("give the files to import, or --dataset-dir DIR --dataset NAME")
    layouts: dict[str, tuple[str, dict]] = {}
    expanded: list[str] = []
    for f in files:  # a folder of hub shards is one dataset: its shards, checked, in order
        if not Path(f).is_dir():
            expanded.append(f)
            continue
        from review.importers.shards import shard_files

        try:
            expanded += [str(p) for p in shard_files(f)]
        except InputError as e:
            fail(f"{e}\n(nothing was imported; the project is unchanged)")
    files = tuple(expanded)
    if datasets is not None:
        if maps or fmt:
            fail("--map and --format do not apply to --dataset: dataset_info.json says how each is read")
        from review.importers.dataset_info import dataset_plans

        try:
            plans = dataset_plans(dataset_dir or ".", [n.strip() for n in datasets.split(",") if n.strip()])
        except InputError as e:
            fail(f"{e}\n(nothing was imported; the project is unchanged)")
        layouts = {str(p.path): (p.fmt, p.mapping) for p in plans}
    import_into(db, [*files, *layouts], parse_map(maps), fmt, skip_invalid, max_record_mb, layouts)
    if datasets is not None:
        from review.importers.dataset_info import unread_fields

        for p in plans:
            unread = unread_fields(p)
            if unread:
                click.echo(
                    f"  {sanitize(p.name, oneline=True)}: not read by its dataset_info entry (LLaMA-Factory ignores them "
                    f"too; they stay in exported records): {', '.join(_field_name(f) for f in unread[:12])}"
                    + (f" and {len(unread) - 12} more" if len(unread) > 12 else "")
                )


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
    click.echo(f"demo project: {path} ({n:,} samples)")  # still there above the prompt after quitting
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
                store.save_goal_state(goal.id, first, q)
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
    help="Start in this queue: undecided, kept, dropped, reason=R, tag=T, batch, rereview, off_goal, duplicates, "
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
from tui.cli_decide import decide_cmd, redo_cmd, undo_cmd  # noqa: E402
from tui.cli_goals import batch_cmd, goal  # noqa: E402
from tui.cli_project import export_cmd, stats  # noqa: E402
from tui.cli_report import report  # noqa: E402

for command in (goal, batch_cmd, stats, export_cmd, analyze, leakage, report, decide_cmd, undo_cmd, redo_cmd):
    cli.add_command(command)


def main() -> None:
    try:
        cli(prog_name="winnow")
    except Interrupted as e:
        # Raised where no import handler was left to catch it (between a file's end and the
        # handlers' restore): the import's own transaction has either committed or rolled back.
        import signal

        fail(f"interrupted ({signal.Signals(e.signum).name})", 128 + e.signum)
    except OSError as e:
        # Standard output refused (`> /dev/full`, a full disk): one line, never a traceback (click
        # handles a closed pipe itself). Only when stdout still refuses a byte; any other OSError
        # is a bug that must show.
        if e.filename is None and e.errno in (errno.ENOSPC, errno.EIO, errno.EFBIG, errno.EDQUOT):
            try:
                os.write(sys.stdout.fileno(), b"\n")
            except (OSError, ValueError):
                output_failed(e)
        raise
