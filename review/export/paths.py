"""Where an export goes when no output is named: the same default for `winnow export` and the
review screen's export dialog (E), beside the project: PROJECT_STEM.GOAL.kept.EXT."""

from __future__ import annotations

from pathlib import Path

from ..store import Store

_EXT = {"jsonl": ".jsonl", "json": ".json", "csv": ".csv", "parquet": ".parquet"}


def default_output(store: Store, goal_id: int, to: str | None = None) -> Path:
    """The default output file of an export of `goal_id`: beside the project, named after it and
    the goal, with the extension of the kept samples' layout (one layout; else .jsonl, and the
    export names one file per layout after it); a conversion (`to`) writes JSON lines."""
    ext = ".jsonl"
    if to is None:
        sources = {s.id: s for s in store.sources()}
        containers = {sources[i].container.removesuffix(".gz") for i in store.kept_source_ids(goal_id) if i in sources}
        if len(containers) == 1:
            ext = _EXT.get(containers.pop(), ".jsonl")
    return store.path.with_name(f"{store.path.stem}.{goal_id}.kept{ext}")
