"""Noise in real logs: each trigger names what set it off, so the reviewer can judge in one glance.

Triggers (the drop reason each suggests in features.NOISE_REASONS; rules and thresholds of the
newer ones in `noise_rules.py`), with the confidence that orders the noise queue:

no_user_turn        1.0   the record has no user message (no user turn, or only empty ones), unless most
                          records have none (then it is the dataset's shape, e.g. plain completions)
empty_answer        1.0   the answer turns are blank (not where most samples end on the user: prompts only)
empty_turn          0.95  blank user or assistant turns inside the conversation: "3 empty user turns of 40"
template_field      0.95  an unfilled template field: {{name}}, {% ... %}, ${var}, [Your Name]
placeholder         0.9   <noinput>, <nooutput>, or a turn that is only "N/A", "none", "TODO"...
ends_on_user        0.9   the conversation's last turn is the user's (unless most samples end so)
truncated           0.7–0.9  the answer stops where no text ends: on a comma or "、", on a connective
                          ("and", "以及", "如果"), on a one-character fragment after its last full stop
                          ("…潜力。 大"), in an open code block, or on a word cut short ("edi" for "edit",
                          only where the project's answers end punctuated). Not the lack of "。" or ".":
                          titles, poems, lists, sign-offs ("祝好，", "Best regards,") and short answers end so
repetition          0.8–0.95  a sentence said REPEAT_MIN_TIMES+ times, or an n-gram loop covering half the answer
boilerplate         0.85  a phrase of the editable boilerplate list (AI disclaimers, another model's identity,
                          canned "I cannot browse the internet"): see noise_rules and boilerplate.txt
language_mismatch   0.75–0.9  the answer in English where the question is Chinese, or the other way round,
                          unless the prompt asks to translate or names a language, holds text in the
                          answer's language, or the answer is code
extreme_length      0.6–0.8  an answer far longer or far shorter than the answers to similar prompts
self_contradiction  0.7   a later assistant turn says the opposite of an earlier one on the same topic
                          (yes then no). Different numbers across turns are left alone: the user has
                          usually asked about something else ("and on Pro?")
emotional           0.5   angry or distressed wording in the prompt or the answer: exclamation runs,
                          shouting, words such as "ridiculous", "破软件", 😤 (EMOTIONAL_MIN cues)
informal            0.4   slang ("lol", "idk", "哈哈", "呗"), typos, lower-case sentence starts in the answer

A sample's noise flag scores its most certain trigger.

Typos are found against the project's own vocabulary, so no dictionary ships: a word seen at
most TYPO_RARE_MAX times that is one edit (insert, delete, substitute, transpose) from a word seen
at least TYPO_COMMON_MIN times, and not just its plural or past tense.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass

from ..model import ASSISTANT, SYSTEM, TOOL, TOOL_CALL, USER, Conversation
from . import features as F
from . import noise_rules as R
from .conflicts import overlap, stance
from .fingerprint import script_of

_FENCED = re.compile(r"```.*?(?:```|\Z)", re.S)
_INLINE_CODE = re.compile(r"`[^`\n]+`")
_WORD = re.compile(r"\b[A-Za-z][a-z]+\b")
_ENDINGS = ("s", "d", "e", "r", "y", "n")  # "file"/"files" is grammar, not a slip
_SENTENCE_START = re.compile(r"(?:[.!?]\s+|\n\s*)$")
_PROSE_STOP = re.compile(r"[.!?。！？]\s|[。！？]")


@dataclass(frozen=True)
class Trigger:
    name: str  # a key of NOISE_REASONS
    detail: str  # "ends on the connective “and”: “…you can also and”"
    confidence: float = 0.5  # how sure the trigger is (0–1): the noise queue's order, most certain first

    @property
    def reason(self) -> str:
        return F.NOISE_REASONS[self.name]


def _quote(text: str, n: int = 40, *, tail: bool = False) -> str:
    t = " ".join(text.split())
    if len(t) <= n:
        return f"“{t}”"
    return f"“…{t[-n:]}”" if tail else f"“{t[:n]}…”"


class Vocabulary:
    """Word counts of the project, for typo detection."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._index: dict[str, list[str]] | None = None
        self._common: list[str] | None = None

    def add(self, text: str) -> None:
        self.counts.update(w.lower() for w in _WORD.findall(text) if len(w) >= 3)

    def _build(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        for w, c in self.counts.items():
            if c < F.TYPO_COMMON_MIN:
                continue
            for key in {w, *(w[:i] + w[i + 1 :] for i in range(len(w)))}:
                index.setdefault(key, []).append(w)
        return index

    def suggestion(self, word: str) -> str | None:
        """The common word this rare word is one edit away from, if it looks like a typo of it."""
        w = word.lower()
        if self.counts.get(w, 0) > F.TYPO_RARE_MAX or len(w) < 3:
            return None
        if self._index is None:
            self._index = self._build()
        cands: set[str] = set()
        for key in {w, *(w[:i] + w[i + 1 :] for i in range(len(w)))}:
            cands.update(self._index.get(key, ()))
        best = None
        for c in sorted(cands, key=lambda c: -self.counts[c]):
            if c != w and _typing_slip(w, c):
                best = c
                break
        return best

    def completes(self, fragment: str) -> str | None:
        """The most common word this rare fragment is the start of ("edi" -> "edit"): a word cut off."""
        f = fragment.lower()
        if len(f) < 3 or self.counts.get(f, 0) > 1:
            return None
        if self._common is None:
            self._common = sorted(w for w, c in self.counts.items() if c >= F.TYPO_COMMON_MIN)
        lo = bisect.bisect_left(self._common, f)
        hi = bisect.bisect_left(self._common, f + "\uffff")
        found = [w for w in self._common[lo:hi] if w != f]
        return max(found, key=lambda w: self.counts[w]) if found else None

    def typos(self, text: str) -> list[tuple[str, str]]:
        """Likely typos: (word, the common word meant). Capitalised words count only at a sentence
        start: elsewhere they are names (Sade, Hart), which a project's vocabulary cannot judge."""
        seen: dict[str, tuple[str, str]] = {}
        counts = self.counts
        for m in _WORD.finditer(text):
            w = m.group(0)
            low = w.lower()
            if counts.get(low, 0) > F.TYPO_RARE_MAX or low in seen:
                continue  # most words are common: the cheap test first
            if w[0].isupper() and m.start() > 0 and not _SENTENCE_START.search(text[max(0, m.start() - 3) : m.start()]):
                continue
            s = self.suggestion(w)
            if s:
                seen[w.lower()] = (w, s)
        return list(seen.values())


def _typing_slip(rare: str, common: str) -> bool:
    """Two neighbouring letters swapped ("chnage"), or one letter left out but not the first
    ("secnd", "kno"): the slips people make. Substitutions are left out on purpose: "sell" and
    "tell" are both words, and without a dictionary a substitution cannot be told from one."""
    if len(rare) == len(common):
        diff = [i for i in range(len(rare)) if rare[i] != common[i]]
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and rare[diff[0]] == common[diff[1]]
            and rare[diff[1]] == common[diff[0]]
        )
    if len(rare) + 1 == len(common):
        if common.startswith(rare) and common[-1] in _ENDINGS:
            return False
        return any(common[:i] + common[i + 1 :] == rare for i in range(1, len(common)))
    return False


def _emotional(text: str) -> tuple[int, list[str]]:
    """(cues, what they were). Words count one each; an exclamation run, shouting or an angry emoji
    is intensity, and without intensity the cues are set to zero (see EMOTIONAL_MIN)."""
    cues = 0
    intense = False
    shown: list[str] = []
    words = list(dict.fromkeys(F.EMOTIONAL_WORDS.findall(text)))
    if words:
        cues += len(words)
        shown.append(", ".join(f"“{w}”" for w in words[:4]))
        intense = any(F.ANGRY_EMOJI.fullmatch(w) for w in words)
    runs = F.EXCLAMATION_RUN.findall(text)
    if runs:
        longest = max(runs, key=len)
        cues += 2 if len(longest) >= 3 else 1
        intense = True
        shown.append(f"“{longest}”" + (f" ×{len(runs)}" if len(runs) > 1 else ""))
    for run in F.SHOUTING_RUN.finditer(text):
        if len(set(F.SHOUTING_WORD.findall(run.group(0)))) >= F.SHOUTING_MIN_WORDS:
            cues += 2
            intense = True
            shown.append("shouting " + _quote(run.group(0), 30))
            break
    # An exclamation run alone is emphasis ("急！！！", "Extreme Battle!!!"), not anger: it needs a word
    # cue, shouting or an angry emoji beside it.
    strong = bool(words) or any("shouting" in x for x in shown)
    return (cues if intense and strong else 0), shown


def triggers(
    conv: Conversation,
    vocab: Vocabulary | None = None,
    *,
    ends_on_user_ok: bool = False,
    punctuated_share: float = 0.0,
    no_user_ok: bool = False,
    boilerplate: R.Boilerplate | None = None,
) -> list[Trigger]:
    """Every noise trigger of one conversation, most severe first.

    vocab: the project's words (typos, words cut off); ends_on_user_ok: most samples end on the
    user (prompts only: no answer is then the dataset's shape too); punctuated_share: share of the
    project's longer answers that end with punctuation (a word cut short is more certain where most
    do); no_user_ok: most samples have no user turn (completion-style text); boilerplate: the
    phrase list (default: the shipped one, without the user's setting).
    """
    out: list[Trigger] = []
    prompt, answer_turns = conv.split()
    answer = "\n".join(t.content for t in answer_turns if t.role == ASSISTANT)
    turns = conv.turns
    tool_answer = any(t.role == TOOL_CALL for t in answer_turns)
    asked = "\n".join(t.content for t in prompt if t.role in (USER, SYSTEM)) + "\n" + conv.system
    informal = _informal(answer, vocab, asked) if answer.strip() else None
    has_user = any(t.role == USER and t.content.strip() for t in turns)
    if turns and not has_user and not no_user_ok:
        users = sum(1 for t in turns if t.role == USER)
        what = (
            "no user turn: the record holds only "
            + ", ".join(f"{n} {r} turn{'s' if n > 1 else ''}" for r, n in Counter(t.role for t in turns).items())
            if not users
            else f"no user message: {'the user turn is' if users == 1 else f'all {users} user turns are'} empty"
        )
        out.append(Trigger("no_user_turn", what, 1.0))
    if turns and turns[-1].role == USER:
        if not ends_on_user_ok:
            out.append(Trigger("ends_on_user", f"the last turn is the user's: {_quote(turns[-1].content)}", 0.9))
    elif turns and not answer.strip() and not tool_answer:
        out.append(Trigger("empty_answer", "the answer is empty", 1.0))
    elif answer.strip() and not tool_answer:
        cut = R.cut_ending(
            answer,
            vocab.completes if vocab is not None else None,
            informal is not None,
        )
        if cut:
            out.append(Trigger("truncated", f"{cut[0]}: {_quote(answer, 30, tail=True)}", cut[1]))
    empty = _empty_turns(turns, len(turns) - len(answer_turns), has_user, bool(answer.strip()))
    if empty:
        out.append(Trigger("empty_turn", empty, 0.95))
    for t in turns:
        m = F.PLACEHOLDER_TAG.search(t.content)
        if m or (t.content.strip() and F.PLACEHOLDER_WHOLE.fullmatch(t.content)):
            who = "input" if t.role == USER else "answer" if t.role == ASSISTANT else t.role
            out.append(Trigger("placeholder", f"placeholder {who} {_quote(m.group(0) if m else t.content, 20)}", 0.9))
            break
    fields: list[str] = []
    template_asked = bool(R.TEMPLATE_ASKED.search(asked))
    draft_asked = bool(R.DRAFT_ASKED.search(asked))
    for t in turns:
        text = _INLINE_CODE.sub(" ", _FENCED.sub("", t.content))
        fields += [
            m.group(0)
            for m in F.TEMPLATE_FIELD.finditer(text)
            if R.field_counts(
                m.group(0),
                text,
                m.start(),
                m.end(),
                sent=t.role == TOOL_CALL,
                template_asked=template_asked,
                draft_asked=draft_asked,
            )
        ]
    if fields:
        uniq = list(dict.fromkeys(fields))
        out.append(
            Trigger(
                "template_field",
                "unfilled template field " + ", ".join(uniq[:3]) + (f" (+{len(uniq) - 3})" if len(uniq) > 3 else ""),
                0.95,
            )
        )
    said = [(i, t.content) for i, t in enumerate(turns) if t.role == ASSISTANT and t.content.strip()]
    rep = _repetition(said, len(said) > 1)
    if rep:
        out.append(rep)
    bp = _boilerplate(
        said,
        boilerplate if boilerplate is not None else _builtin(),
        len(said) > 1,
        "\n".join(t.content for t in prompt if t.role == USER),
    )
    if bp:
        out.append(bp)
    lang = _language_mismatch(conv, prompt, answer) if answer.strip() and not tool_answer else None
    if lang:
        out.append(lang)
    contra = self_contradiction(conv)
    if contra:
        out.append(Trigger("self_contradiction", contra, 0.7))
    user_text = "\n".join(t.content for t in prompt if t.role == USER)
    for where, text in (("prompt", user_text), ("answer", answer)):
        if where == "prompt" and R.TASK_MATERIAL.search(user_text):
            continue  # the emotion is in the text the task works on (a review to classify), not the writer's
        cues, shown = _emotional(text)
        if cues >= F.EMOTIONAL_MIN:
            out.append(Trigger("emotional", f"emotional wording in the {where}: " + "; ".join(shown), 0.5))
    if informal:
        out.append(Trigger("informal", informal, 0.4))
    return out


_BUILTIN: list[R.Boilerplate] = []


def _builtin() -> R.Boilerplate:
    if not _BUILTIN:
        _BUILTIN.append(R.load_boilerplate({}))
    return _BUILTIN[0]


def _empty_turns(turns, answer_start: int, has_user: bool, has_answer: bool) -> str | None:
    """ "3 empty user turns (turns 2, 4, 6)": blank user or assistant turns inside the conversation.
    Left to other triggers: the user turns when none has text (no_user_turn), a blank final answer
    (empty_answer); an assistant turn that only carries a tool call next to it is not empty."""
    found: list[tuple[int, str]] = []
    for i, t in enumerate(turns):
        if t.role not in (USER, ASSISTANT) or t.content.strip():
            continue
        if t.role == USER and not has_user:
            continue
        if i >= answer_start and not has_answer:
            continue
        if t.role == ASSISTANT and any(0 <= j < len(turns) and turns[j].role == TOOL_CALL for j in (i - 1, i + 1)):
            continue
        found.append((i, t.role))
    if not found:
        return None
    by_role = Counter(r for _, r in found)
    what = " and ".join(f"{n} empty {r} turn{'s' if n > 1 else ''}" for r, n in by_role.items())
    where = ", ".join(str(i + 1) for i, _ in found[:8]) + (", …" if len(found) > 8 else "")
    return f"{what} of {len(turns)} (turn{'s' if len(found) > 1 else ''} {where})"


def _repetition(said: list[tuple[int, str]], multi: bool) -> Trigger | None:
    for i, text in said:
        r = R.repetition(text)
        if r:
            unit, times, share = r
            where = f" in turn {i + 1}" if multi else ""
            conf = 0.8 + 0.15 * min(1.0, max(0.0, share - R.REPEAT_MIN_SHARE) / 0.5)
            return Trigger(
                "repetition",
                f"repeats {_quote(unit, 40)} {times} times{where} ({share:.0%} of the text)",
                round(conf, 3),
            )
    return None


def _boilerplate(said: list[tuple[int, str]], bp: R.Boilerplate, multi: bool, asked: str = "") -> Trigger | None:
    """The first listed phrase an assistant turn says — unless the user's text is about an AI,
    a robot or a chatbot (R.AI_ASKED: "作为人工智能，你…", "write a chatbot script") or asks the
    assistant who it is (R.IDENTITY_ASKED: "Do you have a name?", "你是谁"): speaking as one is then
    what was asked, not a copied disclaimer. A system prompt does not count: "You are an AI
    assistant" would excuse every disclaimer."""
    if R.AI_ASKED.search(asked) or R.IDENTITY_ASKED.search(asked):
        return None
    for i, text in said:
        hit = bp.find(text)
        if hit:
            phrase, matched = hit
            where = f" (turn {i + 1})" if multi else ""
            return Trigger("boilerplate", f"{phrase.section}{where}: {_quote(matched, 60)}", 0.85)
    return None


def _language_mismatch(conv: Conversation, prompt, answer: str) -> Trigger | None:
    """The answer in Chinese where the question is English, or the other way round. Not when the
    prompt asks to translate or names a language, when the prompt (or a tool's result) already holds
    text in the answer's language to work on, or when the answer is code (fenced code is judged by
    the prose around it: "Here is a simple code that…" to a Chinese prompt is a mismatch)."""
    users = [t for t in prompt if t.role == USER and t.content.strip()]
    prose = _FENCED.sub("\n", answer)
    if not users or R.is_code(prose):
        return None
    question = users[-1].content
    a_lang, a_cjk, a_words = R.language(prose)
    if prose != answer and (a_cjk if a_lang == "zh" else a_words) < R.LANG_CODE_PROSE_MIN:
        return None  # code with a line of comment around it: the code is the answer
    q_lang, _, _ = R.language(question)
    if q_lang not in R.LANGUAGE_NAMES:
        return None
    asked = "\n".join([conv.system, *(t.content for t in prompt if t.role in (USER, SYSTEM))])
    if R.LANGUAGE_ASKED.search(asked):
        return None
    after = [t.content for t in prompt[prompt.index(users[-1]) :] if t.role in (USER, TOOL)]
    held = "\n".join(after)
    p_words = len(R.PROMPT_WORD.findall(held))
    p_cjk = len(F.CJK.findall(held))
    if q_lang == "zh" and a_lang != "en" and p_words <= R.LANG_FOREIGN_MAX:
        run = R.english_run(prose)
        if run:  # a Chinese answer that goes on in English
            return Trigger(
                "language_mismatch",
                f"prompt in Chinese ({_quote(question, 24)}) / part of the answer in English ({_quote(run, 40)})",
                0.75,
            )
    if a_lang not in R.LANGUAGE_NAMES or a_lang == q_lang:
        return None
    if (a_lang == "en" and p_words > R.LANG_FOREIGN_MAX) or (a_lang == "zh" and p_cjk > R.LANG_FOREIGN_MAX_CJK):
        return None
    size = a_cjk if a_lang == "zh" else a_words
    conf = 0.75 + 0.15 * min(1.0, size / 100)
    return Trigger(
        "language_mismatch",
        f"prompt in {R.LANGUAGE_NAMES[q_lang]} ({_quote(question, 24)}) / answer in "
        f"{R.LANGUAGE_NAMES[a_lang]} ({_quote(answer, 24)})",
        round(conf, 3),
    )


def length_triggers(tokens, neighbours, sims=None, min_sim=None, offered=frozenset()) -> dict[int, Trigger]:
    """extreme_length triggers by position (see noise_rules.length_outliers); offered: positions whose
    short answer the prompt itself spells out (noise_rules.answer_offered), never "far shorter"."""
    return {
        i: Trigger("extreme_length", "answer " + d, c)
        for i, (d, c) in R.length_outliers(tokens, neighbours, sims, min_sim).items()
        if not (i in offered and d.startswith("far shorter"))
    }


def _informal(answer: str, vocab: Vocabulary | None, prompt: str = "") -> str | None:
    """Slang, typos, lower-case sentence starts — unless the prompt asks for that register (a
    dialogue, lyrics, a story, a persona) or already uses the words (花呗, "i wanna ___ you")."""
    if R.REGISTER_ASKED.search(prompt):
        return None
    prose = _FENCED.sub("", answer)
    score = 0.0
    shown = []
    in_prompt = {w.casefold() for w in F.INFORMAL_WORDS.findall(prompt)}
    acronyms = set(_DEFINED_ACRONYM.findall(prose))
    slang = [
        w
        for w in dict.fromkeys(
            m.group(0) for m in F.INFORMAL_WORDS.finditer(prose) if not _not_slang(prose, m, acronyms)
        )
        if w.casefold() not in in_prompt
    ]
    if slang:
        score += len(slang)
        shown.append(", ".join(f"“{w}”" for w in slang[:4]))
    if vocab is not None and script_of(prose) == "en":
        typos = vocab.typos(prose)
        words = _WORD.findall(prose)
        rare = {w.lower() for w in words if len(w) >= 3 and vocab.counts.get(w.lower(), 0) <= F.TYPO_RARE_MAX}
        if (
            len(typos) >= F.TYPO_MIN
            and len(typos) / max(1, len(words)) >= F.TYPO_SHARE
            and len(typos) / max(1, len(rare)) >= F.TYPO_OF_RARE
        ):
            score += 1.0
            shown.append("typos " + ", ".join(f"{w} ({s}?)" for w, s in typos[:3]))
    lower = F.LOWERCASE_SENTENCE.findall(prose)
    if lower:
        score += 0.5
        shown.append("lower-case sentence start " + _quote(lower[0].strip(" .!?"), 20))
    return "informal answer: " + "; ".join(shown) if score >= F.INFORMAL_MIN else None


_DEFINED_ACRONYM = re.compile(r"\(([A-Z]{2,6})\)")  # "profit-and-loss sharing (PLS)"


def _not_slang(text: str, m: re.Match, acronyms: set[str]) -> bool:
    """A slang match that is something else: digits inside a number ("666" in "1666", "6666"), or
    an acronym the text defines in capitals ("PLS" after "profit-and-loss sharing (PLS)")."""
    w = m.group(0)
    if w.isdigit():
        return text[m.start() - 1 : m.start()].isdigit() or text[m.end() : m.end() + 1].isdigit()
    return w in acronyms


_QUOTED = re.compile(r'"([^"\n]{1,40})"|“([^”\n]{1,40})”|「([^」\n]{1,40})」')


def _quoted(text: str) -> set[str]:
    return {next(g for g in m.groups() if g).strip().casefold() for m in _QUOTED.finditer(text)}


def self_contradiction(conv: Conversation) -> str | None:
    """An assistant turn that says the opposite of an earlier one on the same topic. Two turns that
    quote different things ("racecar" is a palindrome / "computer" is not: glaive zh) answer two
    questions, whatever their shared wording."""
    said = [t.content for t in conv.turns if t.role == ASSISTANT and t.content.strip()]
    for j in range(1, len(said)):
        for i in range(j):
            a, b = said[i], said[j]
            if overlap(a, b) < F.SELF_CONTRADICTION_OVERLAP:
                continue
            qa, qb = _quoted(a), _quoted(b)
            if qa and qb and not qa & qb:
                continue
            sa, sb = stance(a), stance(b)
            if sa and sb and sa != sb:
                return f"contradicts an earlier turn ({sa} then {sb}): {_quote(a, 30)} → {_quote(b, 30)}"
    return None
