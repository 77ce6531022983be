"""LLaMA-Factory's `dataset_info.json`: which file a dataset is and how its columns are read.

    plans = dataset_plans("data", ["alpaca_en_demo", "dpo_en_demo"])
    for p in plans:                      # Plan(name, path, fmt, mapping)
        store.import_file(p.path, fmt=p.fmt, mapping=p.mapping)

An entry is read the way LLaMA-Factory's `DatasetAttr` reads it (data/parser.py): `file_name`
relative to the folder; `formatting` alpaca (the default) or sharegpt; `ranking` for preference
pairs; `columns` with LLaMA-Factory's defaults (alpaca: prompt=instruction, query=input,
response=output, the user turn instruction + "\n" + input as LLaMA-Factory joins them; sharegpt:
messages=conversations) and nothing else unless named — `system`,
`history` and `tools` are read only where the entry lists them, as LLaMA-Factory does; `tags`
(role_tag from, content_tag value, user_tag human, assistant_tag gpt, observation_tag
observation, function_tag function_call, system_tag system): a turn whose speaker is not one of
the entry's tags is refused, where LLaMA-Factory would drop the record. `kto_tag` is KTO's label.

The mapping a plan carries names the entry (`"dataset_info": NAME`), so the source remembers it
and `entry_for` can write a matching entry for an exported file. Answer-carrying fields the
entry does not name (a `history` or `tools` it leaves out) are refused naming the field, as for
every format: winnow never imports less than the file holds without saying so.

A `file_name` is joined to the folder as LLaMA-Factory joins it, but a folder someone else made is
not trusted to name a path outside itself: a `file_name` that is absolute or climbs out with `..`
is refused — a file the user means to read from elsewhere is given to `winnow import` directly.
A symlink inside the folder is followed, as LLaMA-Factory follows it (a data folder of links to
big files elsewhere is common), but only to a regular file: a FIFO or a device such as /dev/zero
(which would block or never end) is refused, linked or not. dataset_info.json itself
is bounded (MAX_INFO_BYTES) and a nesting too deep to parse is refused, not a traceback.

Refused: a folder with no dataset_info.json, an unknown name (the names with a local file are
listed), a hub or remote entry (hf_hub_url, ms_hub_url, script_url, cloud_file_name), a missing
file, a `formatting` other than alpaca/sharegpt, and a pretraining entry (prompt only, no
response column in the file is refused by the format as a missing field).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import InputError

INFO = "dataset_info.json"
MAX_INFO_BYTES = 16 * 1024 * 1024  # LLaMA-Factory's own is ~30 KB; a bigger one is not an index of datasets
TAG_DEFAULTS = {
    "role_tag": "from",
    "content_tag": "value",
    "user_tag": "human",
    "assistant_tag": "gpt",
    "observation_tag": "observation",
    "function_tag": "function_call",
    "system_tag": "system",
}
REMOTE_KEYS = ("hf_hub_url", "ms_hub_url", "om_hub_url", "script_url", "cloud_file_name")
ALPACA_COLUMNS = ("prompt", "query", "response", "history", "system", "tools", "chosen", "rejected", "kto_tag")
SHAREGPT_COLUMNS = ("messages", "system", "tools", "chosen", "rejected", "kto_tag")
MEDIA_COLUMNS = ("images", "videos", "audios")


@dataclass(frozen=True, slots=True)
class Plan:
    name: str  # the entry's name in dataset_info.json
    path: Path  # the file it names
    fmt: str  # the winnow format that reads it
    mapping: dict[str, str]  # the whole layout, "dataset_info": name included


def load_info(folder: str | Path) -> dict[str, Any]:
    """The folder's dataset_info.json, parsed; InputError when missing or not an object."""
    path = Path(folder) / INFO
    if not path.is_file():
        raise InputError(
            str(path),
            None,
            "no dataset_info.json in this folder",
            "give --dataset-dir the folder that holds LLaMA-Factory's dataset_info.json",
        )
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    if size > MAX_INFO_BYTES:
        raise InputError(
            str(path),
            None,
            f"dataset_info.json is {size // (1024 * 1024)} MiB, over the {MAX_INFO_BYTES // (1024 * 1024)} MiB an index of datasets needs",
            "check that this is LLaMA-Factory's dataset_info.json",
        )
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise InputError(
            str(path),
            None,
            "dataset_info.json is nested too deeply to read",
            "check that this is LLaMA-Factory's dataset_info.json",
        ) from None
    except (OSError, UnicodeDecodeError, ValueError) as e:
        line = getattr(e, "lineno", None)
        raise InputError(
            str(path), line, f"cannot read dataset_info.json ({e})", "fix the JSON (python -m json.tool shows where)"
        ) from None
    if not isinstance(info, dict):
        raise InputError(
            str(path),
            1,
            "dataset_info.json is not a JSON object of entries",
            "check that this is LLaMA-Factory's dataset_info.json",
        )
    return info


def _line_of(path: Path, name: str) -> int | None:
    """The line of dataset_info.json where the entry `name` starts, for refusals."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    at = text.find(json.dumps(name, ensure_ascii=False) + ":")
    if at < 0:
        at = text.find(json.dumps(name) + ":")
    return text.count("\n", 0, at) + 1 if at >= 0 else None


def dataset_plans(folder: str | Path, names: list[str]) -> list[Plan]:
    """One Plan per entry name, in order; InputError (path:line of the entry) for the first that
    cannot be imported. Nothing is read from the data files here."""
    folder = Path(folder)
    info = load_info(folder)
    info_path = folder / INFO
    plans = []
    for name in names:
        entry = info.get(name)
        if entry is None:
            local = [
                k
                for k, v in info.items()
                if isinstance(v, dict) and "file_name" in v and not any(r in v for r in REMOTE_KEYS)
            ]
            shown = ", ".join(local[:30]) + (", …" if len(local) > 30 else "")
            raise InputError(
                str(info_path),
                None,
                f"no dataset named {name!r}",
                f"use one of the entries with a local file: {shown or '(none)'}",
            )
        plans.append(_plan(folder, info_path, name, entry))
    return plans


def _plan(folder: Path, info_path: Path, name: str, entry: Any) -> Plan:
    line = _line_of(info_path, name)

    def refuse(what: str, todo: str) -> InputError:
        return InputError(str(info_path), line, f"entry {name!r}: {what}", todo)

    if not isinstance(entry, dict):
        raise refuse(f"is {type(entry).__name__}, expected an object", "fix the entry")
    remote = next((k for k in REMOTE_KEYS if k in entry), None)
    if remote is not None:
        raise refuse(
            f"is a remote dataset ({remote}), not a file in this folder",
            "download it and add an entry with file_name, or import the downloaded file directly",
        )
    file_name = entry.get("file_name")
    if not isinstance(file_name, str) or not file_name:
        raise refuse("has no file_name", "add file_name (the data file, relative to the folder)")
    if "\0" in file_name:
        raise refuse("file_name holds a NUL character", "fix file_name")
    path = folder / file_name
    if not path.exists():
        raise refuse(
            f"names {file_name!r}, which is not in {folder}", "put the file there under that name, or fix file_name"
        )
    if path.is_dir():
        raise refuse(
            f"names the folder {file_name!r} (LLaMA-Factory reads every file in it)",
            f"import its files directly: winnow import {path}/* (a folder of hub Parquet shards: winnow import {path})",
        )
    norm = os.path.normpath(file_name)
    if os.path.isabs(file_name) or norm == ".." or norm.startswith(".." + os.sep):
        raise refuse(
            f"names {file_name!r}, outside {str(folder)!r}",
            f"a dataset folder may only name files under it; if you trust that file, import it directly: winnow import {str(path.resolve())!r}",
        )
    if not path.is_file():
        raise refuse(
            f"names {file_name!r}, which is not a regular file (a FIFO or a device)",
            "point file_name at the data file itself",
        )
    formatting = entry.get("formatting", "alpaca")
    ranking = bool(entry.get("ranking", False))
    columns = entry.get("columns") or {}
    tags = entry.get("tags") or {}
    if not isinstance(columns, dict) or not isinstance(tags, dict):
        raise refuse("columns and tags must be objects", "fix the entry")
    allowed = {"alpaca": ALPACA_COLUMNS, "sharegpt": SHAREGPT_COLUMNS}.get(formatting)
    if allowed is None:
        raise refuse(
            f"formatting {formatting!r} is not alpaca or sharegpt",
            "use formatting alpaca or sharegpt, as LLaMA-Factory does",
        )
    unknown = [c for c in columns if c not in allowed and c not in MEDIA_COLUMNS]
    if unknown:
        raise refuse(
            f"column {unknown[0]!r} is not one LLaMA-Factory reads for {formatting}",
            f"use {', '.join(allowed + MEDIA_COLUMNS)}",
        )
    media = [c for c in MEDIA_COLUMNS if c in columns and columns[c] != c]
    if media:
        raise refuse(
            f"column {media[0]} is read from {columns[media[0]]!r}; winnow reads media references from {media[0]!r} only",
            f"rename the field to {media[0]!r} in the file and the entry",
        )
    mapping: dict[str, str] = {"dataset_info": name}
    if formatting == "alpaca":
        mapping["prompt"] = columns.get("prompt", "instruction")
        mapping["query"] = columns.get("query", "input")
        mapping["query_sep"] = "\n"  # LLaMA-Factory's "\n".join([instruction, input])
        if ranking:
            fmt = "alpaca_pair"
            mapping["chosen"] = columns.get("chosen", "chosen")
            mapping["rejected"] = columns.get("rejected", "rejected")
        else:
            fmt = "alpaca"
            mapping["answer"] = columns.get("response", "output")
        for key in ("system", "history"):
            if columns.get(key):
                mapping[key] = columns[key]
    else:
        fmt = "sharegpt_pair" if ranking else "sharegpt"
        mapping["messages"] = columns.get("messages", "conversations")
        mapping["role"] = tags.get("role_tag", TAG_DEFAULTS["role_tag"])
        mapping["content"] = tags.get("content_tag", TAG_DEFAULTS["content_tag"])
        for key in ("user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag"):
            mapping[key] = tags.get(key, TAG_DEFAULTS[key])
        for key in ("system", "tools"):
            if columns.get(key):
                mapping[key] = columns[key]
        if ranking:
            mapping["chosen"] = columns.get("chosen", "chosen")
            mapping["rejected"] = columns.get("rejected", "rejected")
    if columns.get("tools") and formatting == "alpaca":
        raise refuse("an alpaca entry with tools", "winnow reads tools from sharegpt entries only")
    for key in MEDIA_COLUMNS:  # read by every format (schemas._media); named so entry_for names them
        if key in columns:
            mapping[key] = key
    if columns.get("kto_tag"):
        if ranking:
            raise refuse("has both ranking and kto_tag", "keep one: LLaMA-Factory reads a pair or a KTO label")
        mapping["label"] = columns["kto_tag"]
    for key, value in mapping.items():
        if not isinstance(value, str) or not value:
            raise refuse(f"{key} must be a field name, got {value!r}", "fix the entry's columns / tags")
    return Plan(name, path, fmt, mapping)


def entry_for(file_name: str, fmt: str, mapping: dict[str, str]) -> dict[str, Any] | None:
    """A dataset_info.json entry for a file written in a source's own layout (an export): the
    entry the source was read by, with file_name replaced; for a source detected by winnow, the
    entry LLaMA-Factory needs for its layout; None where LLaMA-Factory has none (prompt/completion,
    a user's mapping, OpenAI pairs)."""
    entry: dict[str, Any] = {"file_name": file_name}
    columns: dict[str, str] = {}
    tags: dict[str, str] = {}
    if fmt in ("alpaca", "alpaca_pair"):
        for ours, theirs, default in (
            ("prompt", "prompt", "instruction"),
            ("query", "query", "input"),
            ("answer", "response", "output"),
            ("chosen", "chosen", "chosen"),
            ("rejected", "rejected", "rejected"),
            ("system", "system", None),
            ("history", "history", None),
            ("label", "kto_tag", None),
        ):
            if ours in mapping and mapping[ours] != default:
                columns[theirs] = mapping[ours]
        if fmt == "alpaca_pair":
            entry["ranking"] = True
    elif fmt in ("sharegpt", "sharegpt_pair", "openai"):
        entry["formatting"] = "sharegpt"
        if fmt == "sharegpt_pair":
            entry["ranking"] = True
            columns["chosen"], columns["rejected"] = mapping["chosen"], mapping["rejected"]
        columns["messages"] = mapping["messages"]
        for ours, theirs in (("system", "system"), ("tools", "tools"), ("label", "kto_tag")):
            if ours in mapping:
                columns[theirs] = mapping[ours]
        if fmt == "openai":
            tags = {
                "role_tag": "role",
                "content_tag": "content",
                "user_tag": "user",
                "assistant_tag": "assistant",
                "observation_tag": "tool",
                "system_tag": "system",
            }
        else:
            given = {"role_tag": mapping["role"], "content_tag": mapping["content"]}
            given.update(
                {
                    k: mapping[k]
                    for k in ("user_tag", "assistant_tag", "observation_tag", "function_tag", "system_tag")
                    if k in mapping
                }
            )
            tags = {k: v for k, v in given.items() if v != TAG_DEFAULTS[k]}
    else:
        return None
    columns.update({k: mapping[k] for k in MEDIA_COLUMNS if k in mapping})
    if columns:
        entry["columns"] = columns
    if tags:
        entry["tags"] = tags
    return entry


_TARGET_LAYOUTS = {
    "alpaca": (
        "alpaca",
        {"prompt": "instruction", "query": "input", "answer": "output", "system": "system", "history": "history"},
    ),
    "sharegpt": (
        "sharegpt",
        {"messages": "conversations", "role": "from", "content": "value", "system": "system", "tools": "tools"},
    ),
    "openai": ("openai", {"messages": "messages", "role": "role", "content": "content", "tools": "tools"}),
}


def export_entries(
    files: list[Path], sources: list[tuple[str, str, dict[str, str]]], to: str | None
) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """Entries for the files of an export, named after each file (its name without suffixes),
    and a note for each file no one entry describes. `sources`: (container, format, mapping) of
    each source with kept samples; `to`: the layout the export converted to, if any."""
    from review.formats import export_suffix

    entries: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for path in files:
        if to is not None:
            layouts = {(to, json.dumps(_TARGET_LAYOUTS[to][1], sort_keys=True))}
        else:
            layouts = {
                (
                    fmt,
                    json.dumps({k: v for k, v in m.items() if k not in ("dataset_info", "query_sep")}, sort_keys=True),
                )
                for container, fmt, m in sources
                if export_suffix(container) == path.suffix
            }
        if len(layouts) != 1:
            notes.append(
                f"{path.name}: holds records of {len(layouts)} layouts ({', '.join(sorted(f for f, _ in layouts))}); no one dataset_info entry describes it — export each source to its own file"
            )
            continue
        ((fmt, mapping_json),) = layouts
        entry = entry_for(path.name, _TARGET_LAYOUTS[to][0] if to else fmt, json.loads(mapping_json))
        if entry is None:
            notes.append(f"{path.name}: LLaMA-Factory has no layout for {fmt} records; no entry written")
            continue
        entries[path.name.split(".")[0]] = entry
    return entries, notes


def write_entries(folder: Path, entries: dict[str, dict[str, Any]], force: bool) -> Path:
    """Add the entries to folder/dataset_info.json (created if missing), keeping its other
    entries; an entry of the same name with other content is replaced only with `force`. Written
    to a temporary file, then renamed. Raises InputError when it would replace one."""
    import os
    import tempfile

    path = folder / INFO
    info = load_info(folder) if path.exists() else {}
    clash = [n for n, e in entries.items() if n in info and info[n] != e]
    if clash and not force:
        raise InputError(
            str(path),
            _line_of(path, clash[0]),
            f"already has an entry {clash[0]!r} that says otherwise",
            "export to another name, or add --force to replace the entry",
        )
    info.update(entries)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".dataset_info.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(info, fh, ensure_ascii=False, indent=2)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def unread_fields(plan: Plan, sample: int = 1000) -> list[str]:
    """Top-level fields of the first `sample` records that the entry does not read (LLaMA-Factory
    ignores them too): said in the import summary, since the review does not show them. They stay
    in each record's raw text, so export keeps them."""
    from itertools import islice

    from . import open_source
    from .schemas import unread_keys

    with open_source(plan.path, fmt=plan.fmt, mapping=plan.mapping) as reader:
        return unread_keys((rec.raw for rec in islice(reader, sample)), plan.mapping)
