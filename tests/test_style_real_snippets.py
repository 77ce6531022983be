"""The noise and drift rules changed on the real-data labels (issue 14), each tested on the text that
showed it: short snippets of the datasets' records (tests/fixtures/quality/{noise,drift}.jsonl name
them by dataset and position), written here so the tests run without ../shared."""

from __future__ import annotations

import numpy as np

from review.model import ASSISTANT, USER, Conversation, Turn
from review.style import noise_rules as R
from review.style.drift import compute_drift
from review.style.fingerprint import fingerprint
from review.style.noise import length_triggers, triggers


def conv(user: str, answer: str) -> Conversation:
    return Conversation("", [Turn(USER, user), Turn(ASSISTANT, answer)])


def kinds(c: Conversation) -> dict[str, str]:
    return {t.name: t.detail for t in triggers(c)}


# --- language_mismatch: a Chinese answer that goes on in English -----------------------------------


def test_a_chinese_answer_that_switches_to_english_is_named_with_the_english_words():
    # Alpaca zh 994
    answer = (
        "托马斯·爱迪生（Thomas Edison） was an American inventor and businessman, born in Milan, Ohio in 1847, "
        "and passed away in 1931 in the West Orange, New Jersey. 他被誉为“发明王”，获得了1093项专利。"
    )
    found = kinds(conv("概括托马斯·爱迪生的生平经历，用三句话。", answer))
    assert "part of the answer in English" in found["language_mismatch"]
    assert "“was an American inventor" in found["language_mismatch"]  # quoted from the answer as it is
    # Alpaca zh 876: the meaning of a proverb given as an English sentence
    found = kinds(
        conv(
            "宁可安全无事，不可冒险受害。",
            "这句话的意思是： It is better to be safe than to take risks and suffer harm. 这是一句谚语。",
        )
    )
    assert "“It is better to be safe" in found["language_mismatch"]


def test_english_that_is_quoted_bracketed_or_asked_for_is_no_switch():
    title = "他推荐了《The Old Man and the Sea and Other Stories of the Gulf Stream Told Again》这本书，值得一读。"
    assert "language_mismatch" not in kinds(conv("推荐一本关于大海的小说。", title))
    quoted = "这句英文是“It is better to be safe than to take risks and suffer harm in the end”的意思。"
    assert "language_mismatch" not in kinds(conv("解释这句谚语的意思。", quoted))
    asked = "意思是： It is better to be safe than to take risks and suffer harm in the long run."
    assert "language_mismatch" not in kinds(conv("把“宁可安全无事，不可冒险受害”翻译成英文。", asked))
    assert R.english_run("一个 short English phrase 不算。") is None


# --- placeholder: Alpaca's "No output required" -----------------------------------------------------


def test_no_output_required_is_a_placeholder_answer():
    # alpaca_data 1931, 1934
    found = kinds(conv("Create a design for a new t-shirt.", "No output required"))
    assert found["placeholder"] == "placeholder answer “No output required”"
    assert "placeholder" not in kinds(conv("Is any output required?", "No output is required for a dry run."))


# --- extreme_length: a short reply the prompt spells out ---------------------------------------------


def test_a_short_answer_the_prompt_offers_is_not_far_shorter():
    # KTO en 130: "If the question is not answerable, please let me know by writing "Not answerable"."
    prompt = 'Answer from the plot. If it is not answerable, write "Not answerable". My question: What did Gary love?'
    assert R.answer_offered(conv(prompt, "Not answerable."))
    assert not R.answer_offered(conv("Help me be better at making geotags", "Using ge"))  # KTO en 271: cut off
    tokens = [320] * 10 + [2]
    nbrs = [[j for j in range(11) if j != i] for i in range(11)]
    assert "far shorter" in length_triggers(tokens, nbrs)[10].detail
    assert 10 not in length_triggers(tokens, nbrs, offered={10})


# --- drift: what a feature is -----------------------------------------------------------------------


def test_sign_offs_offers_and_empathy_are_what_they_say():
    # alpaca_data 4939: "bring good luck" is content; a closing "Good luck!" signs off
    assert not fingerprint("Feng Shui arranges furniture to increase fortune and bring good luck.").sign_off
    assert fingerprint("Break big tasks into small ones. Good luck!").sign_off
    # self-cognition 17: what the bot is for, not a closing wish
    assert not fingerprint("我是HairChat。同时，我也是一个人工智能，希望能帮助用户解决头发方面的困惑和烦恼。").sign_off
    assert fingerprint("多喝水，注意休息。希望对您有所帮助！").sign_off
    # alpaca_data 4479 and 474: a rewrite of the user's skills, advice to ask others
    assert not fingerprint(
        "I can send SMS notifications, develop artificial intelligence services, and ensure quality."
    ).offer_help
    assert not fingerprint(
        "Follow these steps. You can always reach out to an experienced team of engineers."
    ).offer_help
    assert fingerprint("Follow these steps. Feel free to reach out to us with any questions.").offer_help
    # DPO en 0: enthusiasm is not empathy; COIG-CQIA 701: 很抱歉听到 is
    assert not fingerprint("That sounds like a fun and engaging idea! Here are some tips.").empathy
    assert fingerprint("很抱歉听到你爸爸妈妈不开心。但是，我可以理解你的担忧。").empathy


def test_one_half_width_colon_is_not_half_width_punctuation():
    # Alpaca zh 471: a "key: value" answer
    assert fingerprint("姓名: 张三，住在北京").punct_width != "half"
    assert fingerprint("他说:好的,明天见,不见不散").punct_width == "half"


PLAIN = "The answer is a plain sentence that explains the topic in a calm and even way for the reader here."


def odd_one(odd: str, prompt: str, plain: str = PLAIN) -> tuple[str, ...]:
    """The drift details of a ninth answer among eight plain ones, with its prompt (flagged or not)."""
    fps = [fingerprint(plain) for _ in range(8)] + [fingerprint(odd)]
    idx = np.array([[j for j in range(9) if j != i] for i in range(9)], dtype=np.int32)
    sim = np.full(idx.shape, 0.5, dtype=np.float32)
    d = compute_drift(fps, idx, sim, np.full(9, 0.1), prompts=["Explain the topic."] * 8 + [prompt]).get(8)
    return d.details if d is not None else ()


def test_the_format_or_genre_the_prompt_asks_for_is_not_drift():
    table = "|Benefits|Drawbacks|\n|---|---|\n|Easy access|Security issues|\n|Lower costs|Less contact|"
    assert odd_one(table, "Explain the topic.")  # unasked, a table among prose drifts...
    assert odd_one(table, "Create a chart that compares web-based learning systems") == ()  # alpaca_data 2593
    words = "1. Sprinting\n2. Jogging\n3. Endurance\n4. Speed"
    assert odd_one(words, "Explain the topic.")
    assert odd_one(words, "Generate a series of 8 words the describe running.") == ()  # alpaca_en 544
    assert odd_one(words, "给出四个描述跑步的词。") == ()
    assert odd_one(words, "写一个关于跑步的段落。")  # 一个 asks for one text, not for items
    # alpaca_data 4086: an apology and an offer are what a reply to a complaint says
    reply = "We apologize for the inconvenience. We will send the correct item. Please let us know if you have any questions."
    assert any("apology" in d for d in odd_one(reply, "Explain the topic."))
    assert odd_one(reply, "Create a response to the following customer complaint.\n\nI received the wrong order.") == ()
    # alpaca_data 3383: the prompt's "Hi [name]" format; "this" in a prompt does not hold "hi"
    hi = "Hi John, this is London calling!"
    assert not any("preamble" in d for d in odd_one(hi, "Format: Hi [name], this is [city] calling!"))
    assert any("preamble" in d for d in odd_one(hi, "Say this is London calling."))


def test_lacking_a_pleasantry_the_others_have_is_not_drift():
    # zhongjing 211: advice without the closing wish its neighbours end on
    closing = "Rest well and drink water. Let me know if you need anything else."
    assert odd_one("Rest well and drink water, and avoid spicy food for a month.", "Explain the topic.", closing) == ()
    listed = "- rest\n- water\n- no spicy food"
    assert any(d.startswith("no bullet list") for d in odd_one("Rest, water, no spicy food.", "Explain.", listed))


def test_an_answer_that_mixes_您_and_你_drifts_within_itself():
    # Alpaca zh 552 (a follow-up e-mail), whatever its neighbours
    email = (
        "亲爱的 [姓名]，\n\n我希望你一切都好。\n\n我只是想跟进一下我上次给您发送的电子邮件，以确保您收到了它。"
        "如果您还有其他问题，请随时与我联系。\n\n我期待着您的回复，并希望我们能够尽快解决你的问题。"
    )
    plain = "这是一个平静的回答，解释了这个话题。"
    fps = [fingerprint(plain) for _ in range(30)] + [fingerprint(email)]
    idx = np.full((31, 10), -1, dtype=np.int32)  # no neighbours at all
    out = compute_drift(fps, idx, np.zeros((31, 10), dtype=np.float32), np.full(31, 0.5))
    assert out[30].details == ("mixes 您 (4×) and 你 (2×) in one answer",) and out[30].basis == "the answer itself"
    # one generic 你 among 您 is not a mix; nor is it where the project mixes them in most answers
    one = "如果您需要帮助，请联系我们。你可以先试试重启。您也可以拨打客服电话。"
    assert 0 not in compute_drift([fingerprint(one)] + fps[:30], idx, np.zeros((31, 10)), np.full(31, 0.5))
    out = compute_drift([fingerprint(email)] * 31, idx, np.zeros((31, 10)), np.full(31, 0.5))
    assert not any("mixes" in d for x in out.values() for d in x.details)
