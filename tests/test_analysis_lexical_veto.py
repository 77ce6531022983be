"""The lexical detector applies the semantic detector's veto (review/analysis/veto.py): a tool-call
request whose shared wording surrounds other numbers or other tools is another request, not a
near-duplicate (glaive tool-call data in ../shared is full of them: "将500美元转换成欧元" /
"将1000美元转换成欧元" under one schema scored 0.93 lexical). Real project files, the real detector."""

from __future__ import annotations

import json

from review.analysis import duplicate_pairs, run_analysis
from review.store import Store

CONVERT = [{"name": "convert_currency", "description": "转换货币", "parameters": {"amount": {"type": "number"}}}]
EXCHANGE = [{"name": "exchange_money", "description": "转换货币", "parameters": {"amount": {"type": "number"}}}]
ASK = "你好，我需要将{n}美元转换成欧元。你能帮我吗？请告诉我按今天的汇率能换多少欧元，谢谢。"
ANSWER = "根据今天的汇率，换算结果已经给出。如果你还有其他问题，随时可以问我。祝你旅途愉快！"


def record(n: int, tools: list, answer: str = ANSWER) -> dict:
    return {
        "conversations": [{"from": "human", "value": ASK.format(n=n)}, {"from": "gpt", "value": answer}],
        "tools": json.dumps(tools, ensure_ascii=False),
    }


def lexical_pairs(tmp_path, records: list[dict]) -> set[tuple[int, int]]:
    src = tmp_path / "calls.json"
    src.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(src)
    run_analysis(db, detectors=("lexical",))
    with Store(db) as s:
        return {tuple(sorted((a, b))) for a, b, _ in duplicate_pairs(s, "lexical")}


def test_other_numbers_or_other_tools_around_the_same_wording_are_not_lexical_duplicates(tmp_path):
    records = [
        record(500, CONVERT),
        record(1000, CONVERT),  # same words, another amount: another request
        record(500, CONVERT, ANSWER.replace("祝你旅途愉快！", "祝你旅途顺利！")),  # the first, reworded answer
        record(500, EXCHANGE),  # the first under another tool
    ]
    assert lexical_pairs(tmp_path, records) == {(1, 3)}


def test_the_answer_side_keeps_every_pair(tmp_path):
    """--field answer compares answers only: the user turn's numbers are not what it compares."""
    records = [record(500, CONVERT), record(1000, CONVERT)]
    src = tmp_path / "calls.json"
    src.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(src)
    run_analysis(db, detectors=("lexical",), field="answer")
    with Store(db) as s:
        assert {tuple(sorted((a, b))) for a, b, _ in duplicate_pairs(s, "lexical")} == {(1, 2)}
