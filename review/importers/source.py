"""The file behind an import: opened once, refused unless it is a regular file, hashed as it is read.

`SourceFile(path)` stats the path before opening it (a FIFO or a device would block or never end),
opens it without blocking, and checks that what it opened is the regular file it stat'ed. Every
read goes through that one descriptor, by offset (`pread`), so a pass never disturbs another.
`hashing()` starts a pass that feeds every byte it hands out into a sha256; the digest of a pass
that reached the end of the file is `sha256` of exactly the bytes the records were parsed from.

`check_unchanged()` compares the file with what it was when it was opened (size, mtime in ns,
inode, device, through the descriptor and through the path) and with the bytes the pass read: a
file appended to, rewritten or replaced during the read is refused, so the recorded sha256 always
describes the records imported.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
from pathlib import Path

from .errors import InputError

CHANGED = "the file changed while it was read; nothing was imported"
CHANGED_TODO = "wait until whatever is writing it has finished (or import a copy), then import it again"


def not_regular(name: str, mode: int) -> InputError:
    if stat.S_ISFIFO(mode):
        what = "a named pipe, FIFO"
    elif stat.S_ISCHR(mode):
        what = "a character device"
    elif stat.S_ISBLK(mode):
        what = "a block device"
    elif stat.S_ISDIR(mode):
        what = "a directory"
    elif stat.S_ISSOCK(mode):
        what = "a socket"
    else:
        what = "not a file"
    return InputError(
        name,
        None,
        f"not a regular file ({what})",
        "import from a regular dataset file; save a stream to one first, e.g. cat STREAM > data.jsonl",
    )


def refuse_non_regular(path: str | Path) -> None:
    """Refuse a path that is not a regular file, naming it as the user wrote it.

    `/dev/stdin` or `/dev/fd/0` fed by a pipe resolves to `/proc/PID/fd/pipe:[N]`, a name that
    cannot be opened again: checked before the path is resolved, the refusal says "a named pipe"
    under the name the user typed instead of "no such file" under that one.
    """
    try:
        st = os.stat(path)
    except OSError:
        return  # SourceFile reports a missing or unreadable file
    if not stat.S_ISREG(st.st_mode):
        raise not_regular(str(path), st.st_mode)


def _identity(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ino, st.st_dev)


class SourceFile:
    """One open, regular dataset file. Close it (or use `with`) when done."""

    def __init__(self, path: str | Path) -> None:
        self.name = str(path)
        name = self.name
        try:
            before = os.stat(path)
        except FileNotFoundError:
            raise InputError(name, None, "no such file", "check the path") from None
        except PermissionError:
            raise InputError(
                name, None, "the file cannot be read (permission denied)", "check its permissions"
            ) from None
        except OSError as e:
            raise InputError(name, None, f"cannot read the file ({e.strerror or e})", "check the path") from None
        if not stat.S_ISREG(before.st_mode):
            raise not_regular(name, before.st_mode)
        try:
            # O_NONBLOCK: if the path became a FIFO since the stat, opening it must not wait for a writer
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        except PermissionError:
            raise InputError(
                name, None, "the file cannot be read (permission denied)", "check its permissions"
            ) from None
        except OSError as e:
            raise InputError(name, None, f"cannot read the file ({e.strerror or e})", "check the path") from None
        self.fd = fd
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise not_regular(name, st.st_mode)
            if _identity(st) != _identity(before):
                raise InputError(name, None, CHANGED, CHANGED_TODO)
        except BaseException:
            self.close()
            raise
        self.stat = st
        self.size = st.st_size
        self.sha256: str | None = None  # of the last pass that read the whole file
        self.bytes_hashed = 0

    def close(self) -> None:
        fd, self.fd = getattr(self, "fd", -1), -1
        if fd >= 0:
            os.close(fd)

    def __enter__(self) -> SourceFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    def pread(self, size: int, offset: int = 0) -> bytes:
        return os.pread(self.fd, size, offset)

    def plain(self) -> io.BufferedReader:
        """A pass over the file from its start, without hashing (sniffing, sampling the first records)."""
        return io.BufferedReader(_Pass(self, None), CHUNK)

    def hashing(self) -> io.BufferedReader:
        """A pass from the start whose bytes are hashed; `finish(pass)` records the digest."""
        self.sha256 = None
        return io.BufferedReader(_Pass(self, hashlib.sha256()), CHUNK)

    def finish(self, stream: io.BufferedReader) -> None:
        """After the parser is done with a hashing pass: read what it left (so the digest covers
        the whole file), record the digest, and refuse a file that changed during the read."""
        raw = stream.raw
        assert isinstance(raw, _Pass) and raw.digest is not None
        while raw.read(CHUNK):
            pass
        self.bytes_hashed = raw.offset
        self.check_unchanged(raw.offset)
        self.sha256 = raw.digest.hexdigest()

    def check_unchanged(self, bytes_read: int | None = None) -> None:
        now = os.fstat(self.fd)
        try:
            by_path = _identity(os.stat(self.name))
        except OSError:
            by_path = None  # removed or renamed away: what we read is not what the path names now
        ours = _identity(self.stat)
        if _identity(now) != ours or by_path != ours or (bytes_read is not None and bytes_read != self.size):
            raise InputError(self.name, None, CHANGED, CHANGED_TODO)


CHUNK = 1 << 20


class _Pass(io.RawIOBase):
    """Reads the file by offset; with a digest, hashes every byte handed out."""

    def __init__(self, source: SourceFile, digest: hashlib._Hash | None) -> None:
        self.source = source
        self.digest = digest
        self.offset = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = os.pread(self.source.fd, len(buffer), self.offset)
        n = len(data)
        buffer[:n] = data
        self.offset += n
        if self.digest is not None:
            self.digest.update(data)
        return n

    def tell(self) -> int:
        return self.offset
