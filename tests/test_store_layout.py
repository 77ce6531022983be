"""The store's layout (issue 13 item 2): one owner of SQL per table family, behind one façade.

These read the source, not a database: what they pin down is where SQL may live.
"""

from __future__ import annotations

import ast
from pathlib import Path

import review.store
from review.store import Store

ROOT = Path(__file__).resolve().parent.parent
# The stores: this package for winnow's own tables, analysis and style for theirs; the schema
# check and the migrations; keyset.py, the ranked-queue step the analysis and style stores share
# (it runs on the connection they pass it).
SQL_OWNERS = (
    "review/store/",
    "review/analysis/store.py",
    "review/style/store.py",
    "review/schema.py",
    "review/migrations.py",
    "review/keyset.py",
)
SQL_CALLS = {"execute", "executemany", "executescript"}


def _modules(*folders: str) -> list[Path]:
    return sorted(p for f in folders for p in (ROOT / f).rglob("*.py") if "__pycache__" not in p.parts)


def _calls(path: Path, names: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [
        f"{path.relative_to(ROOT)}:{node.lineno}: .{node.func.attr}(…)"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in names
    ]


def test_no_module_outside_the_stores_runs_sql():
    found = []
    for path in _modules("review", "tui"):
        rel = path.relative_to(ROOT).as_posix()
        if not rel.startswith(SQL_OWNERS):
            found += _calls(path, SQL_CALLS)
    assert found == [], "SQL outside the stores — move it into a store method:\n" + "\n".join(found)


def test_no_module_reads_sqlite_utils_private_migration_list():
    found = []
    for path in _modules("review", "tui"):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found += [
            f"{path.relative_to(ROOT)}:{n.lineno}"
            for n in ast.walk(tree)
            if isinstance(n, ast.Attribute) and n.attr == "_migrations"
        ]
    assert found == [], "Migrations._migrations is sqlite-utils' private list; use review.migrations.STEPS"


def test_store_modules_stay_small():
    sizes = {p.name: len(p.read_text(encoding="utf-8").splitlines()) for p in _modules("review/store")}
    assert set(sizes) >= {"__init__.py", "connection.py", "errors.py", "imports.py", "samples.py", "goals.py"}
    assert {n: s for n, s in sizes.items() if s > 600} == {}


def test_the_facade_exports_every_name_it_lists():
    missing = [n for n in review.store.__all__ if not hasattr(review.store, n)]
    assert missing == []
    # One class over the repositories: each table family's methods are the Store's.
    for method in ("import_file", "sample", "goal", "apply", "counts", "step_all", "add_batch", "add_export"):
        assert callable(getattr(Store, method)), method
