"""A folder of Hugging Face hub shards (`train-00000-of-00003.parquet` …) as one dataset.

`shard_files(folder)` returns the folder's data files in import order, or raises InputError: a
folder of shards must hold every shard of each split it has (`-00000-of-00003` through
`-00002-of-00003`), and all of a split's shards must share one Arrow schema (export writes them
back as one Parquet file with it). A folder with no shards is refused with what it holds. A shard
that is not a regular file (a FIFO, a directory, a device, a link to one) is refused before any file
is opened: reading a named pipe waits for a writer, so the schema check would hang on it. Each
shard imports as a source of its own, in order; the checks above run before any is imported.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from .errors import InputError
from .source import not_regular

SHARD = re.compile(r"^(?P<split>.+?)-(?P<i>\d{5})-of-(?P<n>\d{5})\.parquet$")


def shard_files(folder: str | Path) -> list[Path]:
    folder = Path(folder)
    splits: dict[tuple[str, int], dict[int, Path]] = {}
    others: list[str] = []
    for p in sorted(folder.iterdir()):
        m = SHARD.match(p.name)
        if m is None:
            if not p.name.startswith("."):
                others.append(p.name)
            continue
        _regular(p)
        splits.setdefault((m["split"], int(m["n"])), {})[int(m["i"])] = p
    if not splits:
        shown = ", ".join(others[:5]) + (", …" if len(others) > 5 else "")
        raise InputError(
            str(folder),
            None,
            f"a folder, with no Parquet shards (NAME-00000-of-0000N.parquet) in it{f' (it holds {shown})' if shown else ''}",
            "import the data files themselves, e.g. winnow import FOLDER/*.jsonl",
        )
    names = [s for s, _ in splits]
    twice = next((s for s in names if names.count(s) > 1), None)
    if twice is not None:
        counts = sorted(n for s, n in splits if s == twice)
        raise InputError(
            str(folder),
            None,
            f"the {twice} shards disagree on how many there are ({' and '.join(map(str, counts))})",
            "keep one download of the split",
        )
    out: list[Path] = []
    for (split, n), found in sorted(splits.items()):
        missing = [i for i in range(n) if i not in found]
        if missing or max(found) >= n:
            what = (
                f"{split}-{missing[0]:05d}-of-{n:05d}.parquet is missing ({n - len(missing)} of {n} shards here)"
                if missing
                else f"{found[max(found)].name} is beyond the {n} shards its name counts"
            )
            raise InputError(str(folder), None, what, "download the whole split, then import the folder again")
        paths = [found[i] for i in range(n)]
        _same_schema(folder, paths)
        out += paths
    return out


def _regular(path: Path) -> None:
    """Refuse a shard that is not a regular file without opening it (os.stat follows a link)."""
    try:
        mode = os.stat(path).st_mode
    except OSError as e:
        raise InputError(
            str(path), None, f"the shard cannot be read ({e.strerror or e})", "download it again"
        ) from None
    if not stat.S_ISREG(mode):
        what = not_regular(str(path), mode).what
        raise InputError(
            str(path),
            None,
            what,
            "put the downloaded shard file itself in the folder (or move this out of it), then import the folder again",
        )


def _same_schema(folder: Path, paths: list[Path]) -> None:
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return  # the import of the first shard says pyarrow is needed
    first = None
    for p in paths:
        try:
            schema = pq.read_schema(p)
        except (OSError, ValueError) as e:
            raise InputError(str(p), None, f"the Parquet file cannot be read ({e})", "download it again") from None
        if first is None:
            first = schema
        elif not schema.equals(first):
            raise InputError(
                str(p),
                None,
                f"its schema differs from {paths[0].name}'s: the shards are not one dataset",
                "download the split again, or import the shards one by one",
            )
