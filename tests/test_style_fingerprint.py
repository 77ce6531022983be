"""Style fingerprints: each feature of the table, in English and Chinese, and the cache."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from review.store import Store
from review.style import features as F
from review.style.fingerprint import answer_key, fingerprint, script_of, split_sentences

ROOT = Path(__file__).resolve().parents[1]


def test_plain_english_answer_first_with_offer_of_help():
    fp = fingerprint("Open Settings > Security and click Change password. Let me know if you need anything else.")
    assert fp.answer_first and fp.offer_help and not fp.preamble and not fp.apology
    assert fp.script == "en" and fp.punct_width == "n/a" and fp.move == "answer"
    assert fp.sentences == 2 and fp.paragraphs == 1 and fp.tokens == 15


def test_chinese_tokens_count_each_character():
    fp = fingerprint("您可以在设置中修改密码。")
    assert fp.tokens == 11  # 11 CJK characters, no Latin words
    assert fp.script == "zh" and fp.punct_width == "full" and fp.you_zh == "您"


@pytest.mark.parametrize(
    "text, feature",
    [
        ("Steps:\n- Open Settings\n- Click Save", "bullet_list"),
        ("步骤：\n1. 打开设置\n2. 点击保存", "numbered_list"),
        ("## Why it fails\nThe folder is excluded.", "heading"),
        ("| plan | price |\n|---|---|\n| Pro | $9.99 |", "table"),
        ("Run this:\n```\npip install winnow\n```", "code_block"),
        ("This is **important** to know.", "bold"),
        ("Sure! The limit is 5 GB.", "preamble"),
        ("当然！免费版有 5 GB 空间。", "preamble"),
        ("I'm sorry about that. The refund is on its way.", "apology"),
        ("非常抱歉给您带来不便。退款已经发出。", "apology"),
        ("I completely understand how annoying that is. Try signing in again.", "empathy"),
        ("请别担心，文件不会丢失。", "empathy"),
        ("The export is ready. Hope this helps!", "sign_off"),
        ("导出已完成。希望对您有帮助。", "sign_off"),
        ("The export is ready. Would you like the download link now?", "follow_up_question"),
        ("Done 🎉 your files are back.", "emoji"),
        ("It's done!", "exclamation"),
        ("It might be the firewall, I think.", "hedging"),
        ("可能是防火墙的问题。", "hedging"),
        ("I checked your account.", "first_person"),
        ("Your files are safe.", "second_person"),
    ],
)
def test_each_flag_feature(text, feature):
    fp = fingerprint(text)
    assert getattr(fp, feature) is True, (feature, fp)
    others = fingerprint("The limit is five gigabytes on the free plan.")
    assert getattr(others, feature) is False


@pytest.mark.parametrize(
    "text, you",
    [
        ("您可以在设置里修改。", "您"),
        ("你可以在设置里修改。", "你"),
        ("您好，你可以在设置里修改。", "mixed"),
        ("在设置里修改即可。", "none"),
        ("你们的设置在这里。", "none"),
    ],
)
def test_chinese_you_register(text, you):
    assert fingerprint(text).you_zh == you


def test_half_width_punctuation_in_chinese():
    assert fingerprint("可以,在设置里修改,然后保存.").punct_width == "half"
    assert fingerprint("可以，在设置里修改，然后保存。").punct_width == "full"


@pytest.mark.parametrize(
    "text, script",
    [
        ("Hello there", "en"),
        ("你好世界", "zh"),
        ("こんにちは世界", "ja"),
        ("안녕하세요", "ko"),
        ("Northwind 云盘 is 很好 and 便宜 for teams of all sizes", "mixed"),
        ("12345", "none"),
    ],
)
def test_script(text, script):
    assert script_of(text) == script


@pytest.mark.parametrize(
    "text, move",
    [
        ("I can't help with that: it is against our terms.", "refuse"),
        ("抱歉，我们无法提供其他用户的账号信息。", "refuse"),
        ("That's a question for a lawyer, so I can't advise on it.", "redirect"),
        ("起草合同不在我能提供帮助的范围内，建议您咨询专业律师。", "redirect"),
        ("Could you tell me which device you mean?", "clarify"),
        ("请问您说的是哪个文件？", "clarify"),
        ("No. Support staff can't open your files.", "answer"),
        ("超出配送范围的地址会有提示。", "answer"),
        ('Request a new link from the "Forgot password?" page.', "answer"),
    ],
)
def test_answer_moves(text, move):
    assert fingerprint(text).move == move


def test_evidence_names_the_words():
    fp = fingerprint("Sure! 😊 It's ready! 🎉")
    assert fp.evidence["preamble"] == "Sure"
    assert "😊" in fp.evidence["emoji"] and fp.evidence["exclamation"] == "2"


def test_answer_key_keeps_case_and_width():
    assert answer_key("OK") != answer_key("ok")
    assert answer_key("可以,") != answer_key("可以，")


def test_a_quoted_label_is_not_a_question():
    assert len(split_sentences('Use the "Forgot password?" page. Then sign in.')) >= 2
    fp = fingerprint('Use the "Forgot password?" page.')
    assert not fp.follow_up_question and fp.move == "answer"


def test_roundtrip_json():
    fp = fingerprint("Sure! **Bold** 😊 Let me know.")
    from review.style.fingerprint import Fingerprint

    assert Fingerprint.from_json(fp.to_json()) == fp


def test_every_table_row_is_a_fingerprint_field():
    from dataclasses import fields

    from review.style.fingerprint import Fingerprint

    names = {f.name for f in fields(Fingerprint)}
    assert {f.name for f in F.FEATURES} <= names


def _project(tmp_path, answers):
    path = tmp_path / "d.jsonl"
    path.write_text(
        "".join(
            json.dumps(
                {"messages": [{"role": "user", "content": f"question {i}"}, {"role": "assistant", "content": a}]}
            )
            + "\n"
            for i, a in enumerate(answers)
        ),
        encoding="utf-8",
    )
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(path)
    return db, path


def test_fingerprints_are_cached_and_recomputed_only_for_new_answers(tmp_path, monkeypatch):
    from review.style import run_style_analysis

    db, _ = _project(tmp_path, ["Yes, it is free.", "No, it costs $5.", "Yes, it is free."])
    first = run_style_analysis(db)
    assert first.fingerprinted == 2  # two distinct answers
    again = run_style_analysis(db)
    assert again.fingerprinted == 0 and again.cached == 2
    extra = tmp_path / "more.jsonl"
    extra.write_text(
        json.dumps({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "Maybe later."}]})
        + "\n"
    )
    with Store(db) as s:
        s.import_file(extra)
    assert run_style_analysis(db).fingerprinted == 1
    monkeypatch.setattr(F, "FEATURE_VERSION", F.FEATURE_VERSION + 1)
    assert run_style_analysis(db).fingerprinted == 3  # a new feature table recomputes everything


def test_importing_review_style_is_cheap():
    # The review screen pays only for the flag provider and queues: the analysis modules (numpy
    # search, drift, noise with rapidfuzz) load when a run starts.
    heavy = (
        "rich",
        "textual",
        "torch",
        "rapidfuzz",
        "review.style.run",
        "review.style.neighbours",
        "review.style.drift",
        "review.style.noise",
    )
    code = f"import sys, review.session, review.style;print(','.join(m for m in {heavy!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == ""


def test_migration_adds_style_tables_to_an_older_project(tmp_path):
    db = tmp_path / "old.db"
    with Store(db) as s:
        for t in ("style_fingerprints", "style_samples", "style_flags", "style_queue", "style_state"):
            s.conn.execute(f"DROP TABLE {t}")
        # a project from before m003 predates m009 (the index on style_flags) too
        s.conn.execute("DELETE FROM _sqlite_migrations WHERE name IN ('m003_style', 'm009_report_index')")
    with Store(db) as s:
        names = set(s.db.table_names())
    assert {"style_fingerprints", "style_flags", "style_queue"} <= names
