"""Noise in real logs: each trigger names what set it off, so the reviewer can judge in one glance.

Triggers (patterns and thresholds in `features.py`; the drop reason each suggests in NOISE_REASONS):

empty_answer        the answer turns are blank
truncated           the answer stops mid-sentence: on a dangling word or comma, or on a letter
                    after earlier full stops, with prose (not a list, table, code or URL) last
ends_on_user        the conversation's last turn is the user's (unless most samples end so:
                    then it is the dataset's shape, e.g. prompts only)
placeholder         <noinput>, <nooutput>, or a turn that is only "N/A", "none", "TODO"...
template_field      an unfilled template field: {{name}}, {% ... %}, ${var}, [Your Name]
emotional           angry or distressed wording in the prompt or the answer: exclamation runs,
                    shouting, words such as "ridiculous", "破软件", 😤 (EMOTIONAL_MIN cues)
informal            slang ("lol", "idk", "哈哈", "呗"), typos, lower-case sentence starts in the answer
self_contradiction  a later assistant turn says the opposite of an earlier one on the same topic
                    (yes then no). Different numbers across turns are left alone: the user has
                    usually asked about something else ("and on Pro?")

Typos are found against the project's own vocabulary, so no dictionary ships: a word seen at
most TYPO_RARE_MAX times that is one edit (insert, delete, substitute, transpose) from a word seen
at least TYPO_COMMON_MIN times, and not just its plural or past tense.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from dataclasses import dataclass

from ..model import ASSISTANT, TOOL_CALL, USER, Conversation
from . import features as F
from .conflicts import overlap, stance
from .fingerprint import script_of

_FENCED = re.compile(r"```.*?(?:```|\Z)", re.S)
_WORD = re.compile(r"\b[A-Za-z][a-z]+\b")
_ENDINGS = ("s", "d", "e", "r", "y", "n")  # "file"/"files" is grammar, not a slip
_SENTENCE_START = re.compile(r"(?:[.!?]\s+|\n\s*)$")
_PROSE_STOP = re.compile(r"[.!?。！？]\s|[。！？]")


@dataclass(frozen=True)
class Trigger:
    name: str  # a key of NOISE_REASONS
    detail: str  # "ends mid-sentence: “…can also edi”"

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
    return (cues if intense else 0), shown


def _truncated(answer: str, vocab: Vocabulary | None, punctuated_share: float, informal: bool) -> str | None:
    """Why the answer looks cut off, or None. The weak rules (a letter after earlier full stops; any
    unpunctuated end where the project's answers end punctuated) do not apply to informal answers,
    which often just stop."""
    text = answer.rstrip()
    if len(F.TOKEN.findall(text)) < F.TRUNCATED_MIN_TOKENS or F.SIGN_OFF.search(text[-80:]):
        return None
    if text.count("```") % 2 == 1:
        return "an unclosed code block"
    last_line = text.splitlines()[-1]
    if F.NON_PROSE_LAST_LINE.match(last_line) or F.TERMINAL.search(text):
        return None
    shown = _quote(text, 30, tail=True)
    if F.DANGLING.search(text):
        return f"ends mid-sentence: {shown}"
    last_word = re.search(r"([A-Za-z]+)$", text)
    if last_word and vocab is not None:
        whole = vocab.completes(last_word.group(1))
        if whole:
            return f"ends mid-word: {shown} (“{last_word.group(1)}” — “{whole}”?)"
    if informal or not F.PROSE_END.search(text):
        return None
    if _PROSE_STOP.search(text[:-1]) or punctuated_share >= F.PUNCTUATED_SHARE:
        return f"ends mid-sentence: {shown}"
    return None


def triggers(
    conv: Conversation,
    vocab: Vocabulary | None = None,
    *,
    ends_on_user_ok: bool = False,
    punctuated_share: float = 0.0,
) -> list[Trigger]:
    """Every noise trigger of one conversation, most severe first.

    vocab: the project's words (typos, words cut off); ends_on_user_ok: most samples end on the
    user; punctuated_share: share of the project's longer answers that end with punctuation.
    """
    out: list[Trigger] = []
    prompt, answer_turns = conv.split()
    answer = "\n".join(t.content for t in answer_turns)
    turns = conv.turns
    informal = _informal(answer, vocab) if answer.strip() else None
    if turns and turns[-1].role == USER and not ends_on_user_ok:
        out.append(Trigger("ends_on_user", f"the last turn is the user's: {_quote(turns[-1].content)}"))
    elif turns and not answer.strip() and not any(t.role == TOOL_CALL for t in answer_turns):
        out.append(Trigger("empty_answer", "the answer is empty"))
    elif answer.strip() and not any(t.role == TOOL_CALL for t in answer_turns):
        why = _truncated(answer, vocab, punctuated_share, informal is not None)
        if why:
            out.append(Trigger("truncated", why))
    for t in turns:
        m = F.PLACEHOLDER_TAG.search(t.content)
        if m or (t.content.strip() and F.PLACEHOLDER_WHOLE.fullmatch(t.content)):
            who = "input" if t.role == USER else "answer" if t.role == ASSISTANT else t.role
            out.append(Trigger("placeholder", f"placeholder {who} {_quote(m.group(0) if m else t.content, 20)}"))
            break
    fields: list[str] = []
    for t in turns:
        fields += [m.group(0) for m in F.TEMPLATE_FIELD.finditer(_FENCED.sub("", t.content))]
    if fields:
        uniq = list(dict.fromkeys(fields))
        out.append(
            Trigger(
                "template_field",
                "unfilled template field " + ", ".join(uniq[:3]) + (f" (+{len(uniq) - 3})" if len(uniq) > 3 else ""),
            )
        )
    contra = self_contradiction(conv)
    if contra:
        out.append(Trigger("self_contradiction", contra))
    for where, text in (("prompt", "\n".join(t.content for t in prompt if t.role == USER)), ("answer", answer)):
        cues, shown = _emotional(text)
        if cues >= F.EMOTIONAL_MIN:
            out.append(Trigger("emotional", f"emotional wording in the {where}: " + "; ".join(shown)))
    if informal:
        out.append(Trigger("informal", informal))
    return out


def _informal(answer: str, vocab: Vocabulary | None) -> str | None:
    prose = _FENCED.sub("", answer)
    score = 0.0
    shown = []
    slang = list(dict.fromkeys(F.INFORMAL_WORDS.findall(prose)))
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


def self_contradiction(conv: Conversation) -> str | None:
    """An assistant turn that says the opposite of an earlier one on the same topic."""
    said = [t.content for t in conv.turns if t.role == ASSISTANT and t.content.strip()]
    for j in range(1, len(said)):
        for i in range(j):
            a, b = said[i], said[j]
            if overlap(a, b) < F.SELF_CONTRADICTION_OVERLAP:
                continue
            sa, sb = stance(a), stance(b)
            if sa and sb and sa != sb:
                return f"contradicts an earlier turn ({sa} then {sb}): {_quote(a, 30)} → {_quote(b, 30)}"
    return None
