"""Property tests for preference data (issue 15 item 5): every text field of every imported pair
or KTO record is reachable in the review (turns, the rejected answer, the label), whatever the
layout; and the conversation a record parses to is the one export verification parses again."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from review.importers import open_source
from review.importers.schemas import converter

SETTINGS = settings(
    max_examples=int(__import__("os").environ.get("HYP_N", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

text = st.text(min_size=1, max_size=30)


def gpt(value: str) -> dict:
    return {"from": "gpt", "value": value}


sharegpt_pair = st.builds(
    lambda p, c, r: {"conversations": [{"from": "human", "value": p}], "chosen": gpt(c), "rejected": gpt(r)},
    text,
    text,
    text,
)
openai_pair = st.builds(
    lambda s, p, c, r: {
        "chosen_messages": [
            {"role": "system", "content": s},
            {"role": "user", "content": p},
            {"role": "assistant", "content": [{"type": "text", "value": c}]},
        ],
        "rejected_messages": [
            {"role": "system", "content": s},
            {"role": "user", "content": p},
            {"role": "assistant", "content": [{"type": "text", "value": r}]},
        ],
    },
    text,
    text,
    text,
    text,
)
alpaca_pair = st.builds(
    lambda i, q, c, r: {"instruction": i, "input": q, "chosen": c, "rejected": r}, text, text, text, text
)
trl_pair = st.builds(lambda p, c, r: {"prompt": p, "chosen": c, "rejected": r}, text, text, text)
kto = st.builds(
    lambda p, a, label: {
        "messages": [{"role": "user", "content": p}, {"role": "assistant", "content": a}],
        "label": label,
    },
    text,
    text,
    st.booleans(),
)
LAYOUTS = {
    "sharegpt_pair": sharegpt_pair,
    "openai_pair": openai_pair,
    "alpaca_pair": alpaca_pair,
    "trl_pair": trl_pair,
    "openai": kto,
}


def strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() if k not in ("role", "from", "type") for s in strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings(v)]
    return []


@SETTINGS
@given(
    st.sampled_from(sorted(LAYOUTS)).flatmap(
        lambda name: st.tuples(st.just(name), st.lists(LAYOUTS[name], min_size=1, max_size=6))
    )
)
def test_every_text_of_every_record_is_reachable_in_the_review(case):
    fmt, records = case
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "p.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
        with open_source(path) as reader:
            parsed = list(reader)
    assert reader.format == fmt and len(parsed) == len(records)
    for rec, p in zip(records, parsed, strict=True):
        conv = p.conversation
        shown = conv.full_text()
        for s in strings(rec):
            assert s in shown, (s, shown)
        if fmt == "openai":
            assert conv.label is rec["label"] and not conv.rejected
        else:
            assert conv.rejected and conv.label is None
        # what export verification does: the raw parsed again gives the same conversation
        assert converter(reader.format, reader.mapping)(json.loads(p.raw)) == conv
