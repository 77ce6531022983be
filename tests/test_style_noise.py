"""Noise flags: each trigger fires on its case and names what set it off."""

from __future__ import annotations

import json

import pytest

from review.model import Conversation, Turn
from review.store import Store
from review.style import run_style_analysis, style_flags
from review.style.noise import Vocabulary, triggers


def conv(*turns: tuple[str, str]) -> Conversation:
    return Conversation("", tuple(Turn(r, t) for r, t in turns))


def names(c: Conversation, vocab: Vocabulary | None = None, **kw) -> dict[str, str]:
    return {t.name: t.detail for t in triggers(c, vocab, **kw)}


@pytest.mark.parametrize(
    "answer, evidence",
    [
        ("You can preview Word and Excel files in the browser, and once Office is connected you can also", "“…"),
        ("请在订单详情页点击开发票，填写抬头和税号后提交，电子发票会在", "电子发票会在"),
        (
            "To export, open Settings, go to Privacy and click Export. We'll email you when it's ready, which takes",
            "which takes",
        ),
    ],
)
def test_truncated(answer, evidence):
    got = names(conv(("user", "q"), ("assistant", answer)))
    assert "truncated" in got and evidence in got["truncated"]


@pytest.mark.parametrize(
    "answer",
    [
        "The capital of France is Paris",  # short, no earlier sentence: many datasets write like this
        "Steps:\n- Open Settings\n- Click Export",  # a list ends without a full stop
        "Thanks for asking. Hope this helps! Best regards, Harbor Bank Support",  # a signature
        "See https://example.com/docs",
    ],
)
def test_not_truncated(answer):
    assert "truncated" not in names(conv(("user", "q"), ("assistant", answer)))


def test_a_word_cut_off_is_found_from_the_projects_vocabulary():
    v = Vocabulary()
    for _ in range(5):
        v.add("You can edit files online and edit them offline.")
    got = names(
        conv(
            ("user", "q"),
            ("assistant", "Yes, you can preview them in the browser, and with Office connected you can also edi"),
        ),
        v,
    )
    assert "mid-word" in got["truncated"] and "“edit”" in got["truncated"]


def test_empty_placeholder_template_and_ends_on_user():
    assert "empty_answer" in names(conv(("user", "Can I change the language?"), ("assistant", "\n")))
    got = names(conv(("user", "<noinput>"), ("assistant", "Hello! How can I help?")))
    assert got["placeholder"] == "placeholder input “<noinput>”"
    assert "placeholder" in names(conv(("user", "Summarise"), ("assistant", "N/A")))
    got = names(conv(("user", "Status?"), ("assistant", "Hi {{customer_name}}, order {{order_id}} has shipped.")))
    assert got["template_field"] == "unfilled template field {{customer_name}}, {{order_id}}"
    # a content blank is unfilled; a letter's recipient slot is the blank an assistant rightly leaves
    assert "template_field" in names(
        conv(("user", "Write a letter"), ("assistant", "Dear Sir, I think [insert opinion]."))
    )
    assert "template_field" not in names(
        conv(("user", "Write a letter"), ("assistant", "Dear [Recipient Name], thanks."))
    )
    # template syntax inside a code block is code, not an unfilled field
    assert "template_field" not in names(
        conv(("user", "Jinja?"), ("assistant", "Use:\n```\n{{ name }}\n```\nThat's it."))
    )
    c = conv(("user", "My folder vanished."), ("assistant", "Was it shared with you?"), ("user", "yes, by Ann"))
    assert "ends_on_user" in names(c)
    assert "ends_on_user" not in names(c, ends_on_user_ok=True)  # a prompts-only dataset: its shape, not noise


@pytest.mark.parametrize(
    "where, text",
    [
        ("prompt", "你们这什么破软件！！！同步又失败了！！！"),
        ("prompt", "YOU CHARGED ME TWICE AND NOBODY IS ANSWERING. FIX IT NOW!!!"),
        ("answer", "Ugh, that's so annoying!! Excel is honestly the WORST 😤"),
    ],
)
def test_emotional(where, text):
    c = (
        conv(("user", text), ("assistant", "Sorry about that."))
        if where == "prompt"
        else conv(("user", "Sync fails"), ("assistant", text))
    )
    got = names(c)
    assert got["emotional"].startswith(f"emotional wording in the {where}: ")


def test_calm_text_with_acronyms_is_not_emotional():
    assert "emotional" not in names(
        conv(
            ("user", "How do I use the HTTP API with JSON over TLS?"),
            ("assistant", "Send a POST to /v1/files with your API key."),
        )
    )


def test_informal_slang_and_typos():
    got = names(conv(("user", "app says couldn't connect"), ("assistant", "lol idk, try restarting it?")))
    assert "“lol”" in got["informal"] and "“idk”" in got["informal"]
    got = names(conv(("user", "q"), ("assistant", "哈哈 这个我也不太清楚 你重启下试试呗～")))
    assert "“哈哈”" in got["informal"]
    v = Vocabulary()
    for _ in range(5):
        v.add("You can change the second email in Settings on your account if you know it.")
    got = names(conv(("user", "q"), ("assistant", "Yuo can chnage the secnd email in Setings.")), v)
    assert "typos" in got["informal"] and "Yuo (you?)" in got["informal"]
    # real words one substitution apart ("sell"/"tell") are not typos
    assert "informal" not in names(conv(("user", "q"), ("assistant", "We never sell or rent your data.")), v)


def test_self_contradiction_across_turns():
    c = conv(
        ("user", "免费版能共享文件夹吗？"),
        ("assistant", "可以，免费版也可以共享文件夹给其他人。"),
        ("user", "那我应该怎么设置？"),
        ("assistant", "抱歉，共享文件夹功能仅对专业版开放，免费版无法使用。"),
    )
    assert "yes then no" in names(c)["self_contradiction"]
    c = conv(
        ("user", "Is history on Free?"),
        ("assistant", "Yes, the Free plan keeps 30 days of version history."),
        ("user", "And how long on Pro?"),
        ("assistant", "Pro keeps version history for 180 days."),
    )
    assert "self_contradiction" not in names(c)  # another question, another number: no contradiction


def test_noise_flag_on_the_review_screen_names_triggers_and_reason(tmp_path):
    path = tmp_path / "d.jsonl"
    recs = [
        {"messages": [{"role": "user", "content": "<noinput>"}, {"role": "assistant", "content": ""}]},
        {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello, how can I help?"}]},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    db = tmp_path / "p.db"
    with Store(db) as s:
        s.import_file(path)
    run_style_analysis(db)
    with Store(db) as s:
        [flag] = [f for f in style_flags(s, 0, s.sample(1)) if f.kind == "noise"]
        assert flag.label == "noisy · empty answer, placeholder"
        assert flag.details == ("the answer is empty", "placeholder input “<noinput>”")
        assert flag.reason == "incomplete"
        assert not style_flags(s, 0, s.sample(2))
