"""One project, one review screen, whatever name it is opened by (red team, 2026-12-04: `p.db` and
a symlink `link.db` to it each took their own lock, so two review screens could run on one file)."""

from __future__ import annotations

import os

import pytest

from review.lock import ProjectLock, ProjectLocked
from review.store import Store


def test_a_symlink_and_a_relative_spelling_share_the_lock(tmp_path, monkeypatch):
    db = tmp_path / "p.db"
    Store(db).close()
    (tmp_path / "link.db").symlink_to(db)
    (tmp_path / "sub").mkdir()
    first = ProjectLock(db)
    first.acquire()
    try:
        for other in (tmp_path / "link.db", tmp_path / "sub" / ".." / "p.db"):
            with pytest.raises(ProjectLocked, match="already open for review"):
                ProjectLock(other).acquire()
        monkeypatch.chdir(tmp_path / "sub")
        with pytest.raises(ProjectLocked):
            ProjectLock(os.path.join("..", "link.db")).acquire()  # type: ignore[arg-type]
    finally:
        first.release()
    assert ProjectLock(tmp_path / "link.db").path == tmp_path.resolve() / "p.db.lock"
