"""Contradictory answers: the same (or the same reworded) question, answers that disagree.

Candidates are pairs of *exchanges* (a user turn and the assistant reply that follows it), so a
question asked inside multi-turn conversations is compared too:

* the same question: equal after `model.normalise`;
* the same question reworded: prompts that are each other's closest (MUTUAL_RANK) at
  CONFLICT_MIN_LEXICAL n-gram cosine or CONFLICT_MIN_SEMANTIC embedding cosine, asking the same
  kind of thing (QUESTION_TYPES) with the same numbers in them, and not a *minimal pair* — equal
  but for one short swap ("turn on" / "turn off", 退款 / 退货), which asks a different question.

A candidate pair is a contradiction only with evidence that the answers disagree, each piece
named: different numbers for the same unit ("30 天 vs 7 天", "$9.99 vs $12.99"), different ratios
("比例为4:1" vs "3:1"), opposite claims in the first sentence ("是非法的" vs "是合法的", F.OPPOSITE_CLAIMS),
opposite stance (one opens "Yes", the other "No"), one complies where the other refuses, or (short
answers) different names. Low answer similarity alone is wording, not disagreement: it is reported with
the pair, and same-question groups whose answers merely vary are listed by `winnow report`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from ..model import normalise
from . import features as F

_CONTENT_EN = re.compile(r"[a-z][a-z0-9'-]{2,}")
_CJK_RUN = re.compile(f"[{F.CJK_CLASS}]+")
_STOP = frozenset(
    "the and for you your with that this are can have has from not but was were will would could should "
    "our their there what when where which who how why does did its it's i'm you'll we'll they into about "
    "just also any all some more than then them they yes no".split()
)
_NAME = re.compile(r"(?<![.!?]\s)(?<!^)\b([A-Z][a-zA-Z]+(?:[- ][A-Z0-9][a-zA-Z0-9]*)*|[A-Za-z]+-\d[\w.-]*)")


def stance(text: str) -> str | None:
    """'yes' / 'no' from how an answer opens, else None."""
    t = text.strip().lstrip("*#>- ").strip()
    if F.NO.match(t):
        return "no"
    if F.YES.match(t):
        return "yes"
    first = re.split(r"(?<=[.!?。！？])\s*", t, maxsplit=1)[0]
    if F.NEGATIVE_CLAIM.search(first):
        return "no"
    return None


def quantities(text: str, ignore: Iterable[str] = ()) -> dict[str, dict[str, str]]:
    """unit -> {value: as written}: "days": {"30": "30 天"}, "$": {"9.99": "$9.99"}, "phone": {...}."""
    skip = set(ignore)
    out: dict[str, dict[str, str]] = {}
    for m in F.NUMBER_WITH_UNIT.finditer(unicodedata.normalize("NFKC", text)):
        if m.group("cur"):
            unit, value = F.UNIT_ALIASES.get(m.group("cur"), m.group("cur")), m.group("cv")
            shown = f"{m.group('cur')}{value}"
        elif m.group("phone"):
            d = re.sub(r"\D", "", m.group("phone"))[-10:]
            unit, value = "phone", d
            shown = m.group("phone").strip()
        else:
            raw_unit = m.group("u")
            canonical = F.UNIT_ALIASES.get(raw_unit.lower())
            if canonical is None:
                continue
            unit = canonical
            value = m.group("v")
            if unit == "time":
                value += raw_unit.lower().replace(".", "")
            shown = m.group(0).strip()
        value = value.replace(",", "")
        if value.endswith(".00"):
            value = value[:-3]
        if value in skip:
            continue
        out.setdefault(unit, {}).setdefault(value, shown)
    return out


# Durations of one scale compare across units: "3 天" and "2 周" are one quantity (and "14 天" agrees
# with "2 周"). Days to years and seconds to hours are two scales: "30 days" and "5 minutes" are
# different things (a refund window, a processing time), not two answers to one question.
DURATION_SCALES = {
    "days": ("calendar", 1),
    "weeks": ("calendar", 7),
    "months": ("calendar", 30),
    "years": ("calendar", 365),
    "seconds": ("clock", 1),
    "minutes": ("clock", 60),
    "hours": ("clock", 3600),
}


def _merge_durations(q: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for unit, vals in q.items():
        if unit not in DURATION_SCALES:
            out.setdefault(unit, {}).update(vals)
            continue
        scale, factor = DURATION_SCALES[unit]
        for v, shown in vals.items():
            try:
                base = float(v) * factor
            except ValueError:
                continue
            out.setdefault(f"duration ({scale})", {}).setdefault(f"{base:g}", shown)
    return out


def number_conflicts(a: str, b: str, question: str = "") -> list[str]:
    """'30 天 vs 7 天' for each unit both answers give with no value in common (durations in any unit
    compared as one: '3天 vs 2周')."""
    asked = {v for vals in quantities(question).values() for v in vals}
    qa, qb = _merge_durations(quantities(a, asked)), _merge_durations(quantities(b, asked))
    out = []
    for unit in sorted(set(qa) & set(qb)):
        if not set(qa[unit]) & set(qb[unit]):
            out.append(f"{'/'.join(qa[unit].values())} vs {'/'.join(qb[unit].values())}")
    return out


def ratios(text: str) -> dict[str, str]:
    """'4:1' -> as written, for each ratio a text names as one (F.RATIO: 比例为4:1, a ratio of 3:1)."""
    out: dict[str, str] = {}
    for m in F.RATIO.finditer(unicodedata.normalize("NFKC", text)):
        x, y = float(m.group("x")), float(m.group("y"))
        if y == 0:
            continue
        out.setdefault(f"{x / y:.3g}", f"{m.group('x')}:{m.group('y')}")
    return out


def ratio_conflict(a: str, b: str) -> str:
    """'4:1/5:1 vs 3:1' when both answers give ratios and none is the same, else ''."""
    ra, rb = ratios(a), ratios(b)
    if not ra or not rb or set(ra) & set(rb):
        return ""
    return f"{'/'.join(ra.values())} vs {'/'.join(rb.values())}"


def claim(text: str) -> dict[str, tuple[bool, str]]:
    """Claim name -> (says it, the words) for each F.OPPOSITE_CLAIMS the first sentence makes one way only."""
    first = _first_sentence(text)
    out: dict[str, tuple[bool, str]] = {}
    for name, yes, no in F.OPPOSITE_CLAIMS:
        my, mn = yes.search(first), no.search(first)
        if bool(my) != bool(mn):
            m = my or mn
            assert m is not None
            out[name] = (bool(my), m.group(0))
    return out


def claim_conflicts(a: str, b: str) -> list[str]:
    """'合法 vs 非法: “…是合法的…” vs “…是非法的…”' for each claim one answer's first sentence makes and the other's denies."""
    ca, cb = claim(a), claim(b)
    out = []
    for name in ca.keys() & cb.keys():
        if ca[name][0] != cb[name][0]:
            out.append(f"{ca[name][1]} vs {cb[name][1]} (“{_around(a, ca[name][1])}” vs “{_around(b, cb[name][1])}”)")
    return out


def _around(text: str, words: str, width: int = 14) -> str:
    """The first sentence of `text` around `words`, cut to about 2*width characters."""
    first = " ".join(_first_sentence(text).split())
    at = first.find(words)
    if at < 0:
        return opening(text)
    lo, hi = max(0, at - width), min(len(first), at + len(words) + width)
    return ("…" if lo else "") + first[lo:hi] + ("…" if hi < len(first) else "")


def names(text: str, question: str = "") -> set[str]:
    """Capitalised names and model-like tokens (GPT-4) not at a sentence start and not in the question."""
    q = question.casefold()
    found = {m.group(1) for m in _NAME.finditer(text.strip())}
    return {n for n in found if n.casefold() not in q and n.casefold() not in _STOP and len(n) > 2}


# What a refusal says in its first sentences, beyond the move classifier's REFUSE: an assistant
# that "can't order a pizza" or "does not support" a request refuses, however it goes on.
_REFUSAL = re.compile(
    r"\b(?:i|we)(?:'m| am| are|'re)? (?:sorry|afraid)\b[^.!?]{0,60}\b(?:can'?t|cannot|unable|not able|"
    r"don'?t have|do not have)\b|\b(?:i|we)(?:'m| am|'re| are) (?:unable|not able) to\b|"
    r"\b(?:i|we) (?:(?:can'?t|cannot)(?! (?:stress|emphasi[sz]e|wait|help but|thank|believe|imagine))|don'?t have the "
    r"(?:ability|capability|capabilities|function)|do not have the (?:ability|capability))\b|"
    r"\bas an ai\b[^.!?]{0,40}\b(?:can'?t|cannot|don'?t|unable)\b|"
    r"(?:我|我们)?(?:不能|无法|不可以|不会)(?:回答|提供|告诉|协助|帮助|帮您|帮你|支持|鼓励|确认|判断|为您|给您)|"
    r"不支持或鼓励|不鼓励|很抱歉|抱歉，我|作为(?:一个)?(?:人工智能|ai|AI)",
    re.I,
)
# An apology that goes on to say the thing asked for is illegal ("很抱歉，象牙是一种非法的动物制品",
# "Sorry, selling ivory is illegal") declines as plainly as "I can't": stated, not a mere cue.
_ILLEGAL_APOLOGY = (
    r"|(?:很抱歉|抱歉|对不起)[，,][^。！？]{0,20}(?:非法|违法|犯法|不合法)|\bsorry\b[^.!?]{0,40}\billegal\b"
)
# Apology and persona cues alone (很抱歉, 作为人工智能, 不鼓励) open many answers that go on to answer
# ("很抱歉，穿山甲是濒危动物…建议去医院"); where the move classifier saw two answers, only a stated
# inability counts as a refusal (measured on COIG-CQIA: 2 of 5 flags wrong with them, 0 of 2 without).
_STATED_REFUSAL = re.compile(
    _REFUSAL.pattern.replace("|不支持或鼓励|不鼓励|很抱歉|抱歉，我|作为(?:一个)?(?:人工智能|ai|AI)", "")
    + _ILLEGAL_APOLOGY,
    re.I,
)


def refuses(text: str, *, stated: bool = False) -> bool:
    """Does the answer decline in its first two sentences (F.REFUSE or the wider _REFUSAL)? stated:
    only a stated inability ("I can't", 我不能告诉您, 无法提供) counts, not an apology or persona cue."""
    head = " ".join(re.split(r"(?<=[.!?。！？])\s*", text.strip(), maxsplit=2)[:2])
    return bool(F.REFUSE.search(head) or (_STATED_REFUSAL if stated else _REFUSAL).search(head))


def refusal_sentence(text: str, limit: int = 40) -> str:
    """The first-two-sentence span that declines (what `refuses` matched), else the opening."""
    for sentence in re.split(r"(?<=[.!?。！？])\s*", text.strip(), maxsplit=2)[:2]:
        if F.REFUSE.search(sentence) or _REFUSAL.search(sentence):
            return opening(sentence, limit)
    return opening(text, limit)


def content_terms(text: str) -> set[str]:
    """Topic terms: Latin words of 3+ letters (stopwords out) and CJK character bigrams."""
    t = normalise(text)
    terms = {w for w in _CONTENT_EN.findall(t) if w not in _STOP}
    for run in _CJK_RUN.findall(t):
        terms.update(run[i : i + 2] for i in range(len(run) - 1))
    return terms


def overlap(a: str, b: str) -> float:
    ta, tb = content_terms(a), content_terms(b)
    if not ta or not tb:
        return 0.0
    return len(ta & tb) / min(len(ta), len(tb))


# Words that say what kind of question it is, not what it is about (removed before subjects are compared).
_QUESTION_FORM = re.compile(
    "|".join(p.pattern for _, p in F.QUESTION_TYPES)
    + r"|\b(?:what|which|is|it|possible|please|tell|me|can|could|would|do|does|did|much|many|per|one)\b|请问|请|吗|呢|吧",
    re.I,
)
_CJK_STOP = frozenset("的了是在我你您他她它们这那有和与及或也都就还一个种些么啊呀吧呢吗")


def subject_terms(question: str) -> set[str]:
    """What a question is about: its content words (Latin, stemmed to 4 letters) and CJK characters,
    without the words that only say what kind of question it is ("how long", 多久, 是什么) or stopwords."""
    t = _QUESTION_FORM.sub(" ", normalise(question))
    terms = {w[:4] for w in _CONTENT_EN.findall(t) if w not in _STOP}
    terms.update(c for c in F.CJK.findall(t) if c not in _CJK_STOP)
    return terms


def subject_coverage(a: str, b: str) -> float:
    """Shared subject terms over the larger side's: 1.0 when two questions are about the same things.

    Measured on real Chinese sets: two "…会持续多久？" questions about different illnesses share the
    question and little else (0.2–0.3); "专业版一个月多少钱？" / "专业版的月费是多少？" 0.75."""
    sa, sb = subject_terms(a), subject_terms(b)
    if not sa or not sb:
        return 1.0 if sa == sb else 0.0
    return len(sa & sb) / max(len(sa), len(sb))


def subject_swap(a: str, b: str) -> float:
    """How much subject each question has that the other lacks, the smaller side: a rewording adds or
    drops words on one side; a question about something else swaps them on both ("性格敏感的人" /
    "有钱有闲的人" 更容易得抑郁症吗: 2). A Latin stem counts 1.5 (a word, where CJK takes about two
    characters), a CJK character 1: one word swapped each side is still a rewording ("How much does the
    Pro plan cost?" / "How much is Pro per month?"), two are not."""
    sa, sb = subject_terms(a), subject_terms(b)

    def weight(terms: set[str]) -> float:
        return sum(1.0 if F.CJK.fullmatch(t) else 1.5 for t in terms)

    return min(weight(sa - sb), weight(sb - sa))


def same_subject(a: str, b: str) -> bool:
    """Are two questions of one kind about the same things (SUBJECT_MIN_COVERAGE, SUBJECT_MAX_SWAP)?"""
    return subject_coverage(a, b) >= F.SUBJECT_MIN_COVERAGE and subject_swap(a, b) < F.SUBJECT_MAX_SWAP


def question_type(prompt: str) -> str:
    """The kind of thing the last line of a prompt asks for (QUESTION_TYPES), else "other"."""
    lines = [x for x in prompt.strip().splitlines() if x.strip()]
    q = lines[-1] if lines else ""
    for name, pattern in F.QUESTION_TYPES:
        if pattern.search(q):
            return name
    return "other"


def minimal_pair(a: str, b: str) -> bool:
    """Two prompts equal but for one short swap: probably two different questions."""
    x, y = normalise(a), normalise(b)
    if x == y:
        return False
    p = 0
    while p < min(len(x), len(y)) and x[p] == y[p]:
        p += 1
    s = 0
    while s < min(len(x), len(y)) - p and x[-1 - s] == y[-1 - s]:
        s += 1
    # widen to whole words for Latin text so "upload"/"download" is one swapped word
    mid_x, mid_y = x[p : len(x) - s], y[p : len(y) - s]
    shared = p + s
    if shared < 0.5 * max(len(x), len(y)):
        return False

    def small(m: str) -> bool:
        cjk = len(F.CJK.findall(m))
        words = len(re.findall(r"[a-z0-9]+", m))
        return cjk <= F.MINIMAL_PAIR_MAX and words <= 3

    # a swap: both sides changed (an inserted or dropped word is a rewording, not another question)
    return bool(mid_x.strip()) and bool(mid_y.strip()) and small(mid_x) and small(mid_y)


@dataclass(frozen=True)
class Conflict:
    a: int  # positions of the two samples
    b: int
    score: float
    evidence: tuple[str, ...]  # "different numbers: 30 天 vs 7 天", "opposite answers: yes vs no"
    short: str  # "30 天 vs 7 天"
    question: str  # the (first) question, for the detail line
    same_question: bool
    prompt_similarity: float
    answer_similarity: float | None = None


def opening(text: str, limit: int = 40) -> str:
    """An answer's first sentence, cut at `limit` characters: what the curator reads in a flag's detail."""
    first = " ".join(_first_sentence(text).split())
    return first if len(first) <= limit else first[: limit - 1] + "…"


def _first_sentence(text: str) -> str:
    return re.split(r"(?<=[.!?。！？])\s+|(?<=[。！？])|\n", text.strip(), maxsplit=1)[0]


def disagreement(
    a: str,
    b: str,
    move_a: str,
    move_b: str,
    question: str,
    *,
    same_question: bool = True,
    qtype: str | None = None,
) -> tuple[float, list[str], str]:
    """(strength, evidence lines, short form) of two answers to one question.

    What counts depends on the question (NUMBER_QUESTIONS, STANCE_QUESTIONS, NAME_QUESTIONS):
    "Generate a random number" or "Write a title" have many right answers, so their differences
    are not contradictions. For a reworded question only each answer's first sentence, its direct
    answer, is searched for numbers; complying vs refusing and names count for the same question only.
    """
    kind = qtype or question_type(question)
    ev: list[tuple[float, str, str]] = []
    if kind in F.NUMBER_QUESTIONS:
        nums = (
            number_conflicts(a, b, question)
            if same_question
            else number_conflicts(_first_sentence(a), _first_sentence(b), question)
        )
        if nums:
            ev.append((F.EVIDENCE_WEIGHTS["numbers"], "different numbers: " + "; ".join(nums), nums[0]))
    if kind in F.STANCE_QUESTIONS:
        sa, sb = stance(a), stance(b)
        if sa and sb and sa != sb:
            ev.append(
                (
                    F.EVIDENCE_WEIGHTS["stance"],
                    f"opposite answers: {sa} (“{opening(a)}”) vs {sb} (“{opening(b)}”)",
                    f"{sa} vs {sb}",
                )
            )
    if same_question:
        ratio = ratio_conflict(a, b)
        if ratio and not any(ratio in line for _, line, _ in ev):
            ev.append((F.EVIDENCE_WEIGHTS["ratio"], f"different ratios: {ratio}", ratio))
        for line in claim_conflicts(a, b):
            ev.append((F.EVIDENCE_WEIGHTS["claim"], f"opposite claims: {line}", line.split(" (", 1)[0]))
    widened = move_a == move_b == "answer" and not ev  # "No, trials can't be extended" is a stance, said once
    if same_question and ({move_a, move_b} == {"refuse", "answer"} or widened):
        # both must read that way; the move classifier misses many refusals ("I'm unable to", 我不能告诉您),
        # so two "answers" count when one opens with a refusal and the other does not
        stated = move_a == move_b == "answer"
        ra, rb = (move_a == "refuse" or refuses(a, stated=stated)), (move_b == "refuse" or refuses(b, stated=stated))
        refusing, complying = (a, b) if ra else (b, a)
        if ra != rb and refuses(refusing, stated=stated) and not refuses(complying):

            def shown(text: str) -> str:
                return refusal_sentence(text) if text is refusing else opening(text)

            left = "refuses" if ra else "complies"
            right = "refuses" if left == "complies" else "complies"
            ev.append(
                (
                    F.EVIDENCE_WEIGHTS["refusal"],
                    f"one {left}, the other {right}: “{shown(a)}” vs “{shown(b)}”",
                    f"{left} vs {right}",
                )
            )
    if (
        same_question
        and kind in F.NAME_QUESTIONS
        and len(F.TOKEN.findall(a)) <= F.NAME_MAX_TOKENS
        and len(F.TOKEN.findall(b)) <= F.NAME_MAX_TOKENS
    ):
        from .fingerprint import split_sentences

        na, nb = names(a, question), names(b, question)
        only_a, only_b = na - nb, nb - na
        if only_a and only_b and len(split_sentences(a)) <= 2 and len(split_sentences(b)) <= 2:
            sa_ = ", ".join(sorted(only_a)[:2])
            sb_ = ", ".join(sorted(only_b)[:2])
            ev.append((F.EVIDENCE_WEIGHTS["names"], f"different names: {sa_} vs {sb_}", f"{sa_} vs {sb_}"))
    if not ev:
        return 0.0, [], ""
    ev.sort(key=lambda e: -e[0])
    strength = 1.0 - _prod(1.0 - w for w, _, _ in ev)
    return strength, [line for _, line, _ in ev], ev[0][2]


def _prod(xs: Iterable[float]) -> float:
    out = 1.0
    for x in xs:
        out *= x
    return out


def conflict_label(c: Conflict, partner_id: int) -> str:
    how = "same question" if c.same_question else f"similar question {c.prompt_similarity:.2f}"
    return f"contradicts #{partner_id} · {c.short} · {how}"
