"""Build winnow's demo dataset: support_demo.jsonl, labels.json and README.md.

A dev tool outside the package (it is not in the wheel). It reads the content from
tools/demo/content/ and writes the three files into review/demo/, or into the folder given:

    python tools/demo/build_demo.py [OUT_DIR]

It needs only the standard library. The output is byte-identical on every run.

The content, all UTF-8 JSON that a person can review and edit:

- `samples.json`: a list of samples, each with a stable `key`. A sample is either
  `{"key", "system", "messages", "tools"?}` or `{"key", "copy_of"}` (a verbatim copy of another
  sample: a planted exact duplicate). `system` names a prompt in `prompts.json` (or is null for
  none) and becomes the first message. In `messages`, a tool call's `arguments` and a `tool`
  message's `content` may be written as JSON objects; they are written out as JSON strings
  (`json.dumps(..., ensure_ascii=False)`), as the OpenAI format wants. `tools` names schemas in
  `tools.json`.
- `planted.json`: the planted cases, against keys (pairs, groups, style clusters and their
  drifters, contradictions, noisy logs, boundaries, markup-like text) and the key pinned to the
  first line. Verbatim exact-duplicate groups come from `copy_of`.
- `README.template.md`: the text of the generated README; `{name}` fields are filled in with
  figures and `{table}` with the table of planted cases (other braces are left as they are).

Keys become 0-based line indices only when the file is written. The line order is a hash of the
key (so planted pairs land far apart, as they would in a real dump), which makes the output
independent of the order the content is written in.

Northwind Cloud and everything about it is fictional. The house facts the normal answers keep to:
Free 5 GB / 3 devices / 2 GB per file; Plus $4.99; Pro $9.99 a month or $99 a year, 2 TB,
50 GB per file; Team $12.99 per user; refunds within 30 days of a charge; reset links last
60 minutes; Trash keeps files 30 days; deletion has a 14-day grace period; exports are ready
within 48 hours and their link lasts 7 days. In Chinese: 专业版 ¥68/月 或 ¥648/年. Planted
contradictions break exactly one of these facts each.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CONTENT = HERE / "content"
DEFAULT_OUT = HERE.parents[1] / "review" / "demo"
DATA_FILE = "support_demo.jsonl"
LABELS_FILE = "labels.json"
README_FILE = "README.md"
TEMPLATE_FILE = "README.template.md"
README_FIELDS = ("en_share", "zh_share", "multi", "tools", "sys_en", "sys_nora", "sys_zh", "sys_none", "table")

Message = dict[str, Any]


class ContentError(Exception):
    """A mistake in the content files: one line, `path:line: what is wrong — what to do`."""


def where(path: Path, needle: str | None = None) -> str:
    """`path:line` of the first line holding `needle` (the line of a sample's key), else `path`."""
    if needle is not None:
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if needle in line:
                return f"{path}:{n}"
    return str(path)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ContentError(f"{path}: missing — restore it from git") from None
    except UnicodeDecodeError as e:
        raise ContentError(f"{path}: not UTF-8 ({e.reason} at byte {e.start}) — save it as UTF-8") from None
    except json.JSONDecodeError as e:
        raise ContentError(f"{path}:{e.lineno}: invalid JSON ({e.msg}, column {e.colno}) — fix the syntax") from None


@dataclass
class Content:
    """Everything the builder writes, keyed by sample key."""

    samples: dict[str, list[Message]] = field(default_factory=dict)
    tools: dict[str, list[dict]] = field(default_factory=dict)
    prompts: dict[str, str] = field(default_factory=dict)
    pinned_first: str = ""
    exact: dict[str, list[str]] = field(default_factory=dict)  # original key -> [original, copies...]
    exact_normalised: list[list[str]] = field(default_factory=list)
    lexical: list[tuple[str, str]] = field(default_factory=list)
    semantic: list[tuple[str, str]] = field(default_factory=list)
    hard_negatives: list[tuple[str, str]] = field(default_factory=list)
    clusters: dict[str, list[str]] = field(default_factory=dict)
    drift: list[tuple[str, str, list[str]]] = field(default_factory=list)  # key, cluster name, features
    contradictions: list[tuple[str, str, str]] = field(default_factory=list)
    noisy: list[tuple[str, list[str]]] = field(default_factory=list)
    boundary: list[tuple[str, str]] = field(default_factory=list)
    hostile: list[str] = field(default_factory=list)
    template: str = ""
    source: Path = CONTENT  # the content folder, for error messages


def pack_message(m: Message) -> Message:
    """A content message as it is written: object-valued tool arguments and results become JSON strings."""
    m = copy.deepcopy(m)
    for c in m.get("tool_calls") or []:
        if not isinstance(c["function"]["arguments"], str):
            c["function"]["arguments"] = json.dumps(c["function"]["arguments"], ensure_ascii=False)
    if m.get("role") == "tool" and not isinstance(m.get("content"), str):
        m["content"] = json.dumps(m["content"], ensure_ascii=False)
    return m


def load(content_dir: Path = CONTENT) -> Content:
    c = Content(source=content_dir)
    prompts_path, tools_path = content_dir / "prompts.json", content_dir / "tools.json"
    samples_path, planted_path = content_dir / "samples.json", content_dir / "planted.json"
    c.prompts = read_json(prompts_path)
    schemas: dict[str, dict] = read_json(tools_path)
    for name, schema in schemas.items():
        if schema.get("function", {}).get("name") != name:
            raise ContentError(
                f"{where(tools_path, json.dumps(name))}: schema {name!r} names another function — make them match"
            )

    copies: list[tuple[str, str]] = []
    for entry in read_json(samples_path):
        key = entry.get("key")
        if not isinstance(key, str) or not key:
            raise ContentError(f'{samples_path}: a sample without a "key" — give every sample a unique key')
        at = where(samples_path, f'"key": {json.dumps(key, ensure_ascii=False)}')
        if key in c.samples or any(key == k for k, _ in copies):
            raise ContentError(f"{at}: duplicate key {key!r} — rename one of them")
        if "copy_of" in entry:
            if set(entry) != {"key", "copy_of"}:
                raise ContentError(
                    f"{at}: {key!r} is a copy_of and has other fields — a copy holds only key and copy_of"
                )
            copies.append((key, entry["copy_of"]))
            continue
        system = entry.get("system")
        if system is not None and system not in c.prompts:
            raise ContentError(f"{at}: {key!r} names system prompt {system!r} — use one of {sorted(c.prompts)} or null")
        messages = [{"role": "system", "content": c.prompts[system]}] if system is not None else []
        c.samples[key] = messages + [pack_message(m) for m in entry.get("messages", [])]
        if "tools" in entry:
            unknown = [t for t in entry["tools"] if t not in schemas]
            if unknown:
                raise ContentError(f"{at}: {key!r} uses unknown tools {unknown} — add them to {tools_path.name}")
            c.tools[key] = [copy.deepcopy(schemas[t]) for t in entry["tools"]]
    for key, of in copies:
        at = where(samples_path, f'"key": {json.dumps(key, ensure_ascii=False)}')
        if of not in c.samples:
            raise ContentError(f"{at}: {key!r} is a copy of {of!r}, which is not an original sample — copy an original")
        c.samples[key] = copy.deepcopy(c.samples[of])
        if of in c.tools:
            c.tools[key] = copy.deepcopy(c.tools[of])
        c.exact.setdefault(of, [of]).append(key)

    p = read_json(planted_path)
    try:
        c.pinned_first = p["pinned_first"]
        c.exact_normalised = [list(g) for g in p["exact_normalised"]]
        c.lexical = [(a, b) for a, b in p["lexical"]]
        c.semantic = [(a, b) for a, b in p["semantic"]]
        c.hard_negatives = [(a, b) for a, b in p["hard_negatives"]]
        c.clusters = {name: list(keys) for name, keys in p["clusters"].items()}
        c.drift = [(d["key"], d["cluster"], list(d["features"])) for d in p["drift"]]
        c.contradictions = [(d["pair"][0], d["pair"][1], d["why"]) for d in p["contradictions"]]
        c.noisy = [(d["key"], list(d["flags"])) for d in p["noisy"]]
        c.boundary = [(d["key"], d["move"]) for d in p["boundary"]]
        c.hostile = list(p["hostile"])
    except (KeyError, TypeError, ValueError, IndexError) as e:
        raise ContentError(
            f"{planted_path}: malformed planted cases ({type(e).__name__}: {e}) — keep the shape of the other entries"
        ) from None

    template_path = content_dir / TEMPLATE_FILE
    try:
        c.template = template_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ContentError(f"{template_path}: missing — restore it from git") from None
    return c


def normalise(text: str) -> str:
    """Mirror of review.model.normalise, kept here so this script runs on the standard library alone."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


def full_text(messages: list[Message]) -> str:
    """Role-prefixed text as review.model.Conversation.full_text builds it, close enough for a self-check."""
    parts = []
    for i, m in enumerate(messages):
        if m["role"] == "system" and i == 0:
            parts.append(f"system: {m['content']}")
        elif m.get("tool_calls"):
            parts += [f"tool_call: {json.dumps(c['function'], ensure_ascii=False)}" for c in m["tool_calls"]]
        else:
            parts.append(f"{m['role']}: {m['content'] or ''}")
    return "\n".join(parts)


def order(c: Content) -> list[str]:
    rest = sorted((k for k in c.samples if k != c.pinned_first), key=lambda k: hashlib.sha256(k.encode()).hexdigest())
    return [c.pinned_first, *rest]


def is_chinese(messages: list[Message]) -> bool:
    text = " ".join(m["content"] or "" for m in messages if m["role"] == "user")
    return any("\u4e00" <= ch <= "\u9fff" for ch in text) or any(
        "\u4e00" <= ch <= "\u9fff" for m in messages for ch in (m["content"] or "") if m["role"] == "assistant"
    )


def check(c: Content, keys: list[str]) -> None:
    """Fail loudly on the mistakes that would make labels.json lie."""
    planted_path = c.source / "planted.json"
    if c.pinned_first not in c.samples:
        raise ContentError(
            f"{planted_path}: pinned_first {c.pinned_first!r} is not a sample key — name an existing sample"
        )
    by_norm: dict[str, list[str]] = {}
    for k in keys:
        by_norm.setdefault(normalise(full_text(c.samples[k])), []).append(k)
    planted = [sorted(g) for g in c.exact.values()] + [sorted(g) for g in c.exact_normalised]
    found = [sorted(g) for g in by_norm.values() if len(g) > 1]
    if sorted(planted) != sorted(found):
        raise ContentError(
            f"{planted_path}: exact groups differ from plan: planted {sorted(planted)}, found {sorted(found)}"
            " — plant every exact duplicate (copy_of or exact_normalised) and no others"
        )
    for a, b in c.lexical + c.semantic + c.hard_negatives:
        if normalise(full_text(c.samples[a])) == normalise(full_text(c.samples[b])):
            raise ContentError(
                f"{planted_path}: {a} and {b} are exact duplicates — make them differ or plant them as exact"
            )
    labelled = [k for pair in c.lexical + c.semantic + c.hard_negatives for k in pair]
    labelled += [k for a, b, _ in c.contradictions for k in (a, b)] + [k for k, _ in c.noisy + c.boundary] + c.hostile
    labelled += [k for ks in c.clusters.values() for k in ks] + [k for k, _, _ in c.drift]
    missing = sorted(set(labelled) - set(c.samples))
    if missing:
        raise ContentError(f"{planted_path}: labels name unknown keys {missing} — fix the keys or add the samples")
    unknown_clusters = sorted({name for _, name, _ in c.drift} - set(c.clusters))
    if unknown_clusters:
        raise ContentError(f"{planted_path}: drift names unknown clusters {unknown_clusters} — add them to clusters")


def labels(c: Content, index: dict[str, int]) -> dict[str, Any]:
    def ix(keys: Any) -> list[int]:
        return sorted(index[k] for k in keys)

    exact = sorted(ix(g) for g in list(c.exact.values()) + c.exact_normalised)
    return {
        "exact": exact,
        "exact_normalised_only": sorted(ix(g) for g in c.exact_normalised),
        "lexical": sorted(ix(p) for p in c.lexical),
        "semantic": sorted(ix(p) for p in c.semantic),
        "hard_negatives": sorted(ix(p) for p in c.hard_negatives),
        "style_drift": sorted(
            ({"index": index[k], "cluster": ix(c.clusters[n]), "features": f} for k, n, f in c.drift),
            key=lambda d: d["index"],
        ),
        "contradictions": sorted(
            ({"pair": ix((a, b)), "why": why} for a, b, why in c.contradictions), key=lambda d: d["pair"]
        ),
        "noisy": sorted(({"index": index[k], "flags": f} for k, f in c.noisy), key=lambda d: d["index"]),
        "boundary": sorted(({"index": index[k], "move": m} for k, m in c.boundary), key=lambda d: d["index"]),
        "hostile": ix(c.hostile),
    }


def dump_labels(data: dict[str, Any]) -> str:
    """JSON with one planted case per line: readable in a diff, still plain JSON."""
    blocks = []
    for key, items in data.items():
        if not items:
            blocks.append(f"  {json.dumps(key)}: []")
        elif all(isinstance(i, int) for i in items):
            blocks.append(f"  {json.dumps(key)}: {json.dumps(items)}")
        else:
            inner = ",\n".join(f"    {json.dumps(i, ensure_ascii=False)}" for i in items)
            blocks.append(f"  {json.dumps(key)}: [\n{inner}\n  ]")
    return "{\n" + ",\n".join(blocks) + "\n}\n"


def fill(template: str, values: dict[str, str], path: Path) -> str:
    """Replace each `{name}` of README_FIELDS; any other brace is text (the template holds JSON examples)."""
    missing = [name for name in README_FIELDS if "{" + name + "}" not in template]
    if missing:
        raise ContentError(f"{path}: fields {missing} are missing — put them back")
    return re.sub(r"\{([a-z_]+)\}", lambda m: values.get(m.group(1), m.group(0)), template)


def readme(c: Content, index: dict[str, int], keys: list[str]) -> str:
    zh_count = sum(is_chinese(c.samples[k]) for k in keys)
    systems = [c.samples[k][0]["content"] if c.samples[k][0]["role"] == "system" else None for k in keys]

    def pairs(ps: list[tuple[str, str]]) -> str:
        return ", ".join("–".join(map(str, ix)) for ix in sorted(sorted((index[a], index[b])) for a, b in ps))

    def groups(gs: list[list[str]]) -> str:
        return ", ".join(
            "{" + ", ".join(str(i) for i in sorted(index[k] for k in g)) + "}"
            for g in sorted(gs, key=lambda g: min(index[k] for k in g))
        )

    rows = [
        ("Exact duplicates (verbatim)", f"{len(c.exact)} groups", groups(list(c.exact.values()))),
        ("Exact after normalisation", f"{len(c.exact_normalised)} pairs", groups(c.exact_normalised)),
        ("Lexical near-duplicates", f"{len(c.lexical)} pairs", pairs(c.lexical)),
        ("Semantic near-duplicates (paraphrases)", f"{len(c.semantic)} pairs", pairs(c.semantic)),
        (
            "Hard negatives (similar look, different meaning)",
            f"{len(c.hard_negatives)} pairs",
            pairs(c.hard_negatives),
        ),
    ]
    for name, members in c.clusters.items():
        drifters = [(k, f) for k, n, f in c.drift if n == name]
        desc = ", ".join(f"{index[k]} ({' + '.join(f)})" for k, f in drifters)
        rows.append(
            (
                f"Style cluster `{name}`",
                f"{len(members)} samples, {len(drifters)} drifting",
                "members " + ", ".join(str(i) for i in sorted(index[k] for k in members)) + "; drift: " + desc,
            )
        )
    rows.append(
        (
            "Contradictions",
            f"{len(c.contradictions)} pairs",
            "; ".join(
                f"{min(index[a], index[b])}–{max(index[a], index[b])} ({why})"
                for a, b, why in sorted(c.contradictions, key=lambda x: min(index[x[0]], index[x[1]]))
            ),
        )
    )
    rows.append(
        (
            "Noisy logs",
            f"{len(c.noisy)} samples",
            ", ".join(f"{index[k]} ({', '.join(f)})" for k, f in sorted(c.noisy, key=lambda n: index[n[0]])),
        )
    )
    rows.append(
        (
            "Boundaries",
            f"{len(c.boundary)} samples",
            ", ".join(f"{index[k]} ({m})" for k, m in sorted(c.boundary, key=lambda b: index[b[0]])),
        )
    )
    rows.append(
        (
            "Markup-like text (must show literally)",
            f"{len(c.hostile)} samples",
            ", ".join(str(index[k]) for k in sorted(c.hostile, key=index.__getitem__)),
        )
    )
    tool_rows = ", ".join(str(index[k]) for k in sorted(c.tools, key=index.__getitem__))
    rows.append(("Tool calls (ordinary)", f"{len(c.tools)} samples", tool_rows))
    table = "".join(f"| {a} | {b} | {d} |\n" for a, b, d in rows)
    values = {
        "en_share": str(round(100 * (len(keys) - zh_count) / len(keys))),
        "zh_share": str(round(100 * zh_count / len(keys))),
        "multi": str(sum(sum(m["role"] == "user" for m in c.samples[k]) > 1 for k in keys)),
        "tools": str(len(c.tools)),
        "sys_en": str(systems.count(c.prompts.get("en"))),
        "sys_nora": str(systems.count(c.prompts.get("nora"))),
        "sys_zh": str(systems.count(c.prompts.get("zh"))),
        "sys_none": str(systems.count(None)),
        "table": table,
    }
    return fill(c.template, values, c.source / TEMPLATE_FILE)


def record(c: Content, key: str) -> dict[str, Any]:
    rec: dict[str, Any] = {"messages": c.samples[key]}
    if key in c.tools:
        rec["tools"] = c.tools[key]
    return rec


def build(out: Path, content_dir: Path = CONTENT) -> int:
    """Write the three files into `out` (created if missing); returns the number of samples."""
    c = load(content_dir)
    keys = order(c)
    check(c, keys)
    index = {k: i for i, k in enumerate(keys)}
    lines = [json.dumps(record(c, k), ensure_ascii=False) + "\n" for k in keys]
    texts = {
        DATA_FILE: "".join(lines),
        LABELS_FILE: dump_labels(labels(c, index)),
        README_FILE: readme(c, index, keys),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():  # everything is computed before the first write
        (out / name).write_text(text, encoding="utf-8", newline="\n")
    return len(keys)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    try:
        n = build(args.out)
    except ContentError as e:
        print(f"build_demo: {e}", file=sys.stderr)
        return 1
    print(f"wrote {n} samples to {args.out / DATA_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
