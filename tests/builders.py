"""Small builders for test data (a module of its own: `conftest` names clash between folders)."""

from __future__ import annotations

import json
from pathlib import Path


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return path


def chat(user: str, assistant: str, system: str | None = None) -> dict:
    msgs = [{"role": "system", "content": system}] if system else []
    return {"messages": msgs + [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]}


def copy_rows_from(db, source: Path) -> None:
    """Fill an older-schema sqlite-utils Database with every row of a project made by today's
    winnow (the columns the older tables have), for upgrade tests; commits and closes `db`."""
    db.execute("ATTACH DATABASE ? AS f", [str(source)])
    for t in db.table_names():
        if t != "_sqlite_migrations":
            names = ", ".join(f"[{c.name}]" for c in db[t].columns)
            db.execute(f"INSERT INTO [{t}] ({names}) SELECT {names} FROM f.[{t}]")
    db.conn.commit()
    db.close()
