"""`winnow stats` (what the project holds: review.figures.ProjectStats) and `winnow export`
(the kept samples and their manifest: review.export). tui/cli.py registers them with
`cli.add_command`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from review.sanitize import sanitize
from review.store import StorageError, Store
from tui.cli_common import archived_goal_line, db_option, fail, open_store, resolve_goal, terminal_safe


@click.command()
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
        click.echo(terminal_safe(dumps(data)))
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
    analysis = data.analysis
    if analysis is None:
        return
    for name, f in analysis.detectors.items():
        extra = f" (≥ {f.threshold})" if f.threshold is not None else ""
        if f.settings.get("model"):
            extra += f" · model {sanitize(str(f.settings['model']), oneline=True)}"
        click.echo(
            f"  {name}{extra}: {f.flagged_samples:,} samples flagged in {f.clusters:,} "
            f"clusters (largest {f.largest_cluster}), duplicate mass {f.duplicate_mass:,}"
            + ("" if f.complete else " — run incomplete, `winnow analyze` resumes it")
        )
    dup = analysis.duplicates
    if dup.samples:
        click.echo(
            f"  near-duplicates, all detectors: {dup.samples:,} samples in {dup.groups:,} groups; "
            f"{dup.duplicate_mass:,} beyond the first of each ({dup.duplicate_share:.1%} of the project)"
        )


@click.command("export")
@db_option
@click.option("--goal", "goal_ref", help="Goal to export (default: the active one).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Output file; a .manifest.json is written beside it. Default: beside the project, "
    "PROJECT.GOAL.kept.jsonl (.json/.csv/.parquet for kept samples of that layout) — the review screen's default.",
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
@click.option(
    "--dataset-info",
    "dataset_info",
    is_flag=True,
    help="Also add an entry for each written file to dataset_info.json in the output's folder (LLaMA-Factory).",
)
@click.option(
    "--include",
    "include",
    type=click.Choice(["undecided"]),
    help="Also write the samples not decided yet under the goal (in file order among the kept ones; "
    "the manifest counts them apart). Dropped samples are never written.",
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
    dataset_info: bool,
    include: str | None,
) -> None:
    """Write the kept samples in the input's own format, plus a manifest.

    Records are written exactly as imported. If kept samples come from sources
    of different layouts (e.g. JSONL and CSV), one file per layout is written.
    The project file, its side files and the imported sources are never
    overwritten; another existing file only with --force.

    \b
    Only kept samples are written (with --include undecided, the undecided
    ones too): the summary says how many undecided and dropped samples were
    left out.

    \b
    Example:
      winnow export --db project.db            (to project.1.kept.jsonl beside it)
      winnow export --db project.db --goal 1 -o kept.jsonl
      winnow export --db project.db --to sharegpt -o kept_sharegpt.json
      winnow export --db project.db --since last
      winnow export --db project.db -o data/kept.json --dataset-info
      winnow export --db project.db --include undecided -o all_but_dropped.jsonl
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
            from review.export.paths import default_output

            output = str(default_output(store, g.id, to))
        if g.archived:  # only when named with --goal: an archived goal is never the active one
            click.echo(f"note: goal #{g.id} is archived; exporting its kept samples as they stand", err=True)
        try:
            report = export(store, g, output, tags=tags, to=to, force=force, undecided=include == "undecided")
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
        entries_note = _dataset_info(store, g.id, list(report.files), to, force) if dataset_info else []
    what = "kept and undecided samples" if include == "undecided" else "kept samples"
    for path, n in zip(report.files, report.per_file, strict=True):
        click.echo(f"wrote {n:,} {what} to {sanitize(str(path))}")

    click.echo(f"manifest: {sanitize(str(report.manifest))} (export #{report.export_id})")
    for line in _left_out(report.manifest):
        click.echo(line)
    for line in entries_note:
        click.echo(sanitize(line))


def _left_out(manifest: Path) -> list[str]:
    """What the export wrote beside the kept samples and what it did not write, from its manifest
    (the same snapshot as the files)."""
    try:
        counts = json.loads(manifest.read_text(encoding="utf-8"))["counts"]
        undecided, dropped = int(counts["undecided"]), int(counts["dropped"])
        written = int(counts.get("written_undecided", 0))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []
    lines = [f"of those, {written:,} undecided (--include undecided)"] if written else []
    parts = []
    if undecided - written:
        parts.append(f"{undecided - written:,} undecided (not reviewed yet: `winnow open` to decide them)")
    if dropped:
        parts.append(f"{dropped:,} dropped")
    return lines + (["left out: " + " · ".join(parts)] if parts else [])


def _dataset_info(store: Store, goal_id: int, files: list[Path], to: str | None, force: bool) -> list[str]:
    """Write LLaMA-Factory entries for the exported files; the lines that say what was done."""
    from review.importers import InputError
    from review.importers.dataset_info import export_entries, write_entries

    sources = {s.id: s for s in store.sources()}
    kept = [sources[i] for i in store.kept_source_ids(goal_id)]
    entries, notes = export_entries(files, [(s.container, s.format, s.mapping) for s in kept], to)
    if not entries:
        return notes
    try:
        path = write_entries(files[0].parent, entries, force)
    except InputError as e:
        return [*notes, f"dataset_info: not written — {e}"]
    return [*notes, f"dataset_info: {', '.join(entries)} in {path}"]
