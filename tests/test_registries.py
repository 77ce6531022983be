"""Queues, flag providers and the review lock are explicit (issue 13 item 1): nothing registers at
import, so what a module can do never depends on which other module happened to be imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Forbids modules in a fresh interpreter, as on a platform that does not have them (Windows: fcntl).
FORBID = textwrap.dedent(
    """
    import sys
    for name in {names!r}:
        sys.modules[name] = None  # `import name` now raises ImportError
    """
)


def python(code: str, *, forbid: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    prelude = FORBID.format(names=forbid) if forbid else ""
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def test_analysis_and_style_import_without_fcntl():
    done = python(
        """
        import review.analysis, review.style
        import review.lock
        print("ok")
        """,
        forbid=("fcntl",),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_review_lock_without_any_os_lock_warns_and_does_not_lock(tmp_path):
    db = tmp_path / "p.winnow"
    done = python(
        f"""
        import json, warnings
        from pathlib import Path
        from review.lock import LockWarning, ProjectLock
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = ProjectLock(Path({str(db)!r}))
            first.acquire()
            second = ProjectLock(Path({str(db)!r}))
            second.acquire()  # not refused: there is no lock to hold
        print(json.dumps({{
            "warned": [str(w.message) for w in caught if issubclass(w.category, LockWarning)],
            "warning": first.warning,
            "holder": Path({str(db)!r} + ".lock").read_text(),
        }}))
        first.release()
        second.release()
        """,
        forbid=("fcntl", "msvcrt"),
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert len(out["warned"]) == 2
    assert out["warning"] == out["warned"][0]
    assert "has no file lock" in out["warning"] and "open it in one only" in out["warning"]
    assert out["holder"].startswith("winnow pid ")
