"""The one error type importers raise, plus the internal signal converters use for bad records.

Every message names the file, the line, what is wrong and what to do about it, because the
person reading it is a curator looking at a terminal, not a developer reading a traceback.
"""

from __future__ import annotations

from ..sanitize import sanitize


class InputError(Exception):
    """path:line: what is wrong — what to do"""

    def __init__(self, path: str, line: int | None, what: str, todo: str) -> None:
        super().__init__(path, line, what, todo)  # args kept so the error pickles across processes
        self.path = str(path)
        self.line = line
        self.what = what
        self.todo = todo

    def __str__(self) -> str:
        path = sanitize(str(self.path), oneline=True)  # a newline in a file name must not forge a line
        where = path if self.line is None else f"{path}:{self.line}"
        return f"{where}: {self.what} — {self.todo}"


class RecordProblem(Exception):
    """A record that parsed as JSON but does not fit the format.

    `field` names the field at fault so the reader can point at its line inside a pretty-printed
    record; the reader turns this into an InputError with the path and line.
    """

    def __init__(self, what: str, todo: str, field: str | None = None, rename: tuple[str, str] | None = None) -> None:
        super().__init__(what)
        self.what = what
        self.todo = todo
        self.field = field
        self.rename = rename  # (key the record has, key the format needs): the reader says how to rename it


SKIP_HINT = "fix the record, or import with --skip-invalid to leave it out"


def kind(value: object) -> str:
    """How a JSON value's type reads in a message."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__
