"""Temporaries, atomic writes and fsyncs: how an export puts its files in place (see the package docstring)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import re
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

TMP_TAG = "winnow"


def _tmp_pattern(target: Path) -> re.Pattern[str]:
    return re.compile(r"\." + re.escape(target.name) + r"\." + TMP_TAG + r"-(\d+)-[0-9a-f]+\.tmp")


def _create_tmp(target: Path) -> tuple[int, Path]:
    """A new temporary beside target, named with this PID, with the mode open() would give."""
    while True:
        tmp = target.with_name(f".{target.name}.{TMP_TAG}-{os.getpid()}-{secrets.token_hex(4)}.tmp")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666), tmp
        except FileExistsError:
            continue


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    except OSError:
        return True
    return True


def _stale_tmps(target: Path) -> list[Path]:
    """winnow's own temporaries for target (`.NAME.winnow-PID-HEX.tmp`) left by an export whose
    process is gone; nothing else (older versions' mkstemp names may be a user's own files)."""
    ours = _tmp_pattern(target)
    out = []
    try:
        entries = list(os.scandir(target.parent))
    except OSError:
        return []
    for e in entries:
        m = ours.fullmatch(e.name)
        if m is None:
            continue
        try:
            if not e.is_file(follow_symlinks=False):
                continue
            pid = int(m.group(1))
            if pid == os.getpid() or _pid_alive(pid):
                continue
        except OSError:
            continue
        out.append(Path(e.path))
    return out


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_atomic(target: Path, compress: bool, write: Callable[[TextIO], int]) -> tuple[Path, int]:
    """Write through `write` into a temporary file beside target, fsynced; return (tmp, count)."""
    fd, tmp = _create_tmp(target)
    try:
        with os.fdopen(fd, "wb") as raw:
            if compress:
                with gzip.open(raw, "wt", encoding="utf-8", newline="") as gz:
                    n = write(gz)  # type: ignore[arg-type]
            else:
                with open(raw.fileno(), "w", encoding="utf-8", newline="", closefd=False) as fh:
                    n = write(fh)
            raw.flush()
            os.fsync(raw.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp, n


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_json_tmp(path: Path, data: dict) -> Path:
    """`data` as JSON in a new temporary beside path, fsynced; removed again if writing fails."""
    fd, tmp = _create_tmp(path)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, ensure_ascii=False, indent=2)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp
