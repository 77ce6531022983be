"""One-off: dump the content of review/demo/build_demo.py (Python literals) into tools/demo/content/.

Run once, from the repository root, while review/demo/build_demo.py still exists:

    python tools/demo/convert_once.py

It imports the old module (which builds its data at import time and writes nothing unless run as a
script) and writes the data files that tools/demo/build_demo.py reads. Kept in history only; the
old module is deleted once the new builder is shown to write the same bytes.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OLD = ROOT / "review" / "demo" / "build_demo.py"
CONTENT = Path(__file__).resolve().parent / "content"


def load_old() -> Any:
    spec = importlib.util.spec_from_file_location("old_build_demo", OLD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def pretty(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def one_per_line(data: dict[str, Any]) -> str:
    """An object whose values are lists, one list item per line: a planted case per line."""
    blocks = []
    for key, value in data.items():
        if isinstance(value, list):
            inner = ",\n".join(f"    {json.dumps(item, ensure_ascii=False)}" for item in value)
            blocks.append(f"  {json.dumps(key)}: [\n{inner}\n  ]" if value else f"  {json.dumps(key)}: []")
        elif isinstance(value, dict):
            inner = ",\n".join(f"    {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in value.items())
            blocks.append(f"  {json.dumps(key)}: {{\n{inner}\n  }}")
        else:
            blocks.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(blocks) + "\n}\n"


def unpack_message(m: dict[str, Any]) -> dict[str, Any]:
    """Tool-call arguments and tool results are JSON strings in the output; objects in the content."""
    m = json.loads(json.dumps(m))
    for c in m.get("tool_calls") or []:
        args = c["function"]["arguments"]
        if json.dumps(json.loads(args), ensure_ascii=False) == args:
            c["function"]["arguments"] = json.loads(args)
    if m["role"] == "tool":
        content = m["content"]
        if json.dumps(json.loads(content), ensure_ascii=False) == content:
            m["content"] = json.loads(content)
    return m


def main() -> None:
    old = load_old()
    prompts = {"en": old.EN, "nora": old.NORA, "zh": old.ZH}
    prompt_name = {text: name for name, text in prompts.items()}

    tools: dict[str, dict[str, Any]] = {}
    for schemas in old.TOOLS.values():
        for schema in schemas:
            name = schema["function"]["name"]
            if name in tools and tools[name] != schema:
                raise SystemExit(f"two different schemas named {name}")
            tools[name] = schema

    copy_of = {copy: group[0] for group in old.EXACT.values() for copy in group[1:]}
    samples: list[dict[str, Any]] = []
    for key, messages in old.SAMPLES.items():
        if key in copy_of:
            samples.append({"key": key, "copy_of": copy_of[key]})
            continue
        entry: dict[str, Any] = {"key": key}
        if messages and messages[0]["role"] == "system":
            entry["system"] = prompt_name[messages[0]["content"]]
            messages = messages[1:]
        else:
            entry["system"] = None
        entry["messages"] = [unpack_message(m) for m in messages]
        if key in old.TOOLS:
            entry["tools"] = [t["function"]["name"] for t in old.TOOLS[key]]
        samples.append(entry)

    planted = {
        "pinned_first": old.PINNED_FIRST,
        "exact_normalised": old.EXACT_NORMALISED,
        "lexical": [list(p) for p in old.LEXICAL],
        "semantic": [list(p) for p in old.SEMANTIC],
        "hard_negatives": [list(p) for p in old.HARD_NEGATIVES],
        "clusters": old.CLUSTERS,
        "drift": [{"key": k, "cluster": c, "features": f} for k, c, f in old.DRIFT],
        "contradictions": [{"pair": [a, b], "why": why} for a, b, why in old.CONTRADICTIONS],
        "noisy": [{"key": k, "flags": f} for k, f in old.NOISY],
        "boundary": [{"key": k, "move": m} for k, m in old.BOUNDARY],
        "hostile": old.HOSTILE,
    }

    head = old.README_HEAD.replace("{{", "\0").replace("}}", "\1")
    head = head.replace("\0", "{").replace("\1", "}")
    template = head + "{table}" + old.README_TAIL
    fields = set(re.findall(r"\{([a-z_]+)\}", template))
    expected = {"en_share", "zh_share", "multi", "tools", "sys_en", "sys_nora", "sys_zh", "sys_none", "table"}
    if fields != expected:
        raise SystemExit(f"README template fields {sorted(fields)} != {sorted(expected)}")

    CONTENT.mkdir(parents=True, exist_ok=True)
    (CONTENT / "prompts.json").write_text(pretty(prompts), encoding="utf-8", newline="\n")
    (CONTENT / "tools.json").write_text(pretty(tools), encoding="utf-8", newline="\n")
    (CONTENT / "samples.json").write_text(pretty(samples), encoding="utf-8", newline="\n")
    (CONTENT / "planted.json").write_text(one_per_line(planted), encoding="utf-8", newline="\n")
    (CONTENT / "README.template.md").write_text(template, encoding="utf-8", newline="\n")
    print(f"wrote {len(samples)} samples, {len(tools)} tool schemas to {CONTENT}")


if __name__ == "__main__":
    main()
