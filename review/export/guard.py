"""What an export output may not be: the project, its side files, a source, a non-regular file; and what it may replace."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from ..model import Source
from ..store import Store
from .errors import ExportError, ExportWouldReplace
from .files import _sha256, _stale_tmps


def _real(p: Path) -> str:
    return os.path.realpath(p)


def _inode(p: str) -> tuple[int, int] | None:
    try:
        st = os.stat(p)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _protected(store: Store, sources: dict[int, Source]) -> list[tuple[str, tuple[int, int] | None, str]]:
    """(resolved path, inode or None, what it is) of every file an export must never replace."""
    out = []
    # Beside the resolved file (where SQLite keeps its -wal and -shm) and beside the path as given:
    # opened through a symlink, the review lock is LINK.lock (review/lock.py), and replacing it
    # would let a second review screen open beside the first.
    given = os.path.abspath(store.path)
    as_given = os.path.join(_real(Path(os.path.dirname(given))), os.path.basename(given))  # its folder resolved
    for project in dict.fromkeys((_real(store.path), as_given)):
        for suffix, what in (
            ("", "the project file"),
            ("-wal", "the project's write-ahead log"),
            ("-shm", "the project's shared-memory file"),
            ("-journal", "the project's journal"),
            (".lock", "the project's session lock"),
        ):
            p = project + suffix
            out.append((p, _inode(p), what))
    for s in sources.values():
        if s.container == "generated" or s.path.startswith("generated:"):
            continue
        p = _real(Path(s.path))
        ino = _inode(p)
        if ino is not None:  # an imported source still at its recorded path
            out.append((p, ino, f"imported source #{s.id} ({s.name})"))
    return out


def _refuse_protected(path: Path, protected: list[tuple[str, tuple[int, int] | None, str]]) -> None:
    real, ino = _real(path), _inode(_real(path))
    for p, p_ino, what in protected:
        same = real == p or (ino is not None and ino == p_ino)
        # A sidecar that does not exist yet: compare the spelling without case too (a
        # case-insensitive filesystem would create the very file SQLite reads as the WAL).
        if not same and p_ino is None and ino is None:
            same = real.casefold() == p.casefold()
        if same:
            raise ExportError(
                f"{path}: that is {what} ({p}) — exporting there would destroy it; choose another output file"
            )
    if os.path.isdir(real):
        raise ExportError(f"{path}: is a folder — give a file name, e.g. {path / 'kept.jsonl'}")


_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a folder"),
)


def _refuse_not_regular(path: Path) -> None:
    """An existing output must be a regular file, or a symlink to one (the link is what gets
    replaced, never its target). Anything else — a FIFO, a device such as /dev/null, a socket, or a
    symlink to one (/dev/stdout) — is refused even with force: replacing it would put a regular
    file where the system or another program expects the node."""
    try:
        st = os.stat(path)
    except OSError:
        return  # nothing there, or a dangling symlink (replacing the link harms nothing)
    if stat.S_ISREG(st.st_mode):
        return
    kind = next((k for test, k in _KINDS if test(st.st_mode)), "not a plain file")
    if os.path.islink(path):
        kind = f"a symlink to {kind}"
    raise ExportError(
        f"{path}: not a regular file ({kind}) — export writes only regular files and never replaces "
        "anything else, even with --force; choose another output file"
    )


def _manifest_entries(path: Path) -> list[tuple[str, str]] | None:
    """(file name, sha256) of each data file a winnow manifest names; None if not a winnow manifest."""
    try:
        with open(path, encoding="utf-8") as fh:
            m = json.load(fh)
    except (OSError, ValueError):
        return None
    if not isinstance(m, dict) or "winnow" not in m or not isinstance(m.get("files"), list):
        return None
    return [
        (Path(f["path"]).name, f["sha256"])
        for f in m["files"]
        if isinstance(f, dict) and isinstance(f.get("path"), str) and isinstance(f.get("sha256"), str)
    ]


def _check_replace(data_paths: list[Path], manifest_path: Path, force: bool) -> None:
    """Refuse to replace an existing file unless force, or it is winnow's own export to this place.

    Ours: named, with its current sha256, by the manifest beside it or by the manifest (or moved
    aside previous manifest) of an interrupted winnow export to this place.
    """
    if force:
        return
    known: set[tuple[str, str]] = set()
    for m in [manifest_path, *_stale_tmps(manifest_path)]:
        known.update(_manifest_entries(m) or [])
    refused = []
    for p in data_paths:
        if os.path.lexists(p) and (p.name, _sha256(p) if p.is_file() else "") not in known:
            refused.append(p)
    if os.path.lexists(manifest_path) and _manifest_entries(manifest_path) is None:
        refused.append(manifest_path)
    if refused:
        raise ExportWouldReplace(refused)
