"""The review lock on a platform without one: the screen opens and says so (review/lock.py)."""

from __future__ import annotations

import sys
import warnings

from tui_helpers import app_for, settle

from review.lock import LockWarning


async def test_without_any_os_lock_the_review_screen_opens_and_warns(project, monkeypatch):
    # As on a platform with neither fcntl nor msvcrt: `import fcntl` raises ImportError.
    monkeypatch.setitem(sys.modules, "fcntl", None)
    monkeypatch.setitem(sys.modules, "msvcrt", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LockWarning)
        app = app_for(project)
    assert app.lock is not None and app.lock.warning
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        notes = [n.message for n in app._notifications]
        assert any("has no file lock" in m and "open it in one only" in m for m in notes), notes
