"""Export errors."""

from __future__ import annotations

from pathlib import Path


class ExportError(Exception):
    pass


class ExportWouldReplace(ExportError):
    """An output file exists and is not winnow's own earlier export to that place: pass force=True."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = tuple(paths)
        names = ", ".join(str(p) for p in paths)
        super().__init__(f"{names}: already exists — add --force to replace it, or choose another output file")
