"""The style fingerprint of one answer: the features of `features.py`, computed with its patterns.

A fingerprint is a frozen dataclass of plain values, stored as JSON keyed by the answer's exact text
hash and FEATURE_VERSION, so it is computed once per distinct answer and again only when the
answer (or the feature table) changes. Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field

from . import features as F

_FENCED = re.compile(r"^\s*(?:```|~~~).*?(?:^\s*(?:```|~~~)\s*$|\Z)", re.M | re.S)
_PARAGRAPH = re.compile(r"\n\s*\n")
_WORDLIKE = re.compile(r"\w")
_KANA = re.compile(f"[{F.KANA_CLASS}]")
_HANGUL = re.compile(f"[{F.HANGUL_CLASS}]")
_LETTER = re.compile(r"[^\W\d_]")
_QUOTED = re.compile(r"“[^”\n]{0,200}”|「[^」\n]{0,200}」|『[^』\n]{0,200}』|《[^》\n]{0,60}》|\"[^\"\n]{0,200}\"")


@dataclass(frozen=True)
class Fingerprint:
    chars: int = 0
    tokens: int = 0
    sentences: int = 0
    paragraphs: int = 0
    bullet_list: bool = False
    numbered_list: bool = False
    heading: bool = False
    table: bool = False
    code_block: bool = False
    bold: bool = False
    preamble: bool = False
    apology: bool = False
    empathy: bool = False
    answer_first: bool = False
    offer_help: bool = False
    sign_off: bool = False
    follow_up_question: bool = False
    you_zh: str = "none"  # 您 | 你 | mixed | none
    emoji: bool = False
    exclamation: bool = False
    hedging: bool = False
    first_person: bool = False
    second_person: bool = False
    script: str = "none"  # zh | en | mixed | ja | ko | other | none
    punct_width: str = "n/a"  # full | half | mixed | none | n/a (not Chinese)
    move: str = "answer"  # answer | clarify | refuse | redirect
    # feature -> the words that set it off, for the detail lines ("Sure!", "😊 🎉", "×5")
    evidence: dict = field(default_factory=dict, compare=False)

    def value(self, name: str):
        return getattr(self, name)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @staticmethod
    def from_json(text: str) -> Fingerprint:
        return Fingerprint(**json.loads(text))

    def present(self) -> list[str]:
        """Named features this answer shows, for the compare pane ("bullet list", "opens with an apology")."""
        out = [F.FEATURE_BY_NAME[n].label for n in F.FLAG_FEATURES if getattr(self, n)]
        if self.you_zh != "none":
            out.append(f"uses {self.you_zh}")
        out.append(F.SCRIPT_NAMES.get(self.script, self.script))
        if self.move != "answer":
            out.append(self.move)
        return out


def answer_key(text: str) -> str:
    """Hash of the exact answer text: two answers that differ only in case or width differ in style."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


def split_sentences(text: str) -> list[str]:
    return [s.strip() for s in F.SENTENCE_END.split(text) if s and _WORDLIKE.search(s)]


def script_of(text: str) -> str:
    cjk = len(F.CJK.findall(text))
    latin = len(F.LATIN_LETTER.findall(text))
    kana = len(_KANA.findall(text))
    hangul = len(_HANGUL.findall(text))
    other = len(_LETTER.findall(text)) - cjk - latin - kana - hangul
    letters = cjk + latin + kana + hangul + max(other, 0)
    if letters == 0:
        return "none"
    if kana >= 0.1 * letters:
        return "ja"
    if hangul >= 0.3 * letters:
        return "ko"
    if cjk >= F.SCRIPT_ZH_SHARE * letters:
        return "zh"
    if latin and cjk <= F.SCRIPT_EN_SHARE * letters and latin >= 0.5 * letters:
        return "en"
    if cjk:
        return "mixed"
    return "other"


def is_cjk_dominant(text: str) -> bool:
    return script_of(text) in ("zh", "ja", "ko", "mixed")


def _lines_matching(pattern: re.Pattern, text: str) -> int:
    return len(pattern.findall(text))


def move_of(sentences: list[str], offer_last: bool) -> str:
    head = " ".join(sentences[: F.MOVE_SPAN])
    if F.REDIRECT.search(head) or (F.PROFESSIONAL.search(head) and F.CANT.search(head)):
        return "redirect"
    if F.REFUSE.search(head):
        return "refuse"
    for i, s in enumerate(sentences):
        if not F.QUESTION_END.search(s) or F.OFFER_HELP.search(s):
            continue
        if F.CLARIFY_CUE.search(s) or (len(sentences) <= F.CLARIFY_SHORT and i < 2):
            return "clarify"
    return "answer"


def fingerprint(text: str) -> Fingerprint:
    """The fingerprint of one answer text (the trailing assistant turns, joined)."""
    text = text.strip()
    if not text:
        return Fingerprint()
    ev: dict[str, str] = {}
    code_block = bool(F.CODE_FENCE.search(text))
    prose = _FENCED.sub("\n", text) if code_block else text
    if not code_block and len(F.CODE_LINE.findall(text)) >= F.CODE_MIN_LINES:
        code_block, prose = True, ""  # unfenced code: no headings, lists or prose features in it
    sentences = split_sentences(prose) or [prose]
    if not prose:
        sentences = [""]
    first, last = sentences[0], sentences[-1]

    m = F.PREAMBLE.match(first)
    preamble = bool(m)
    if m:
        ev["preamble"] = first[: max(m.end(), 1)].rstrip()[:30]
    m = F.APOLOGY.match(first)
    apology = bool(m)
    if m:
        ev["apology"] = m.group(0).strip()[:30]
    m = F.EMPATHY.search(" ".join(sentences[: F.OPENING_SPAN]))
    empathy = bool(m)
    if m:
        ev["empathy"] = m.group(0)[:30]

    sign = F.SIGN_OFF.search(last)
    if sign:
        ev["sign_off"] = f"“{sign.group(0)}”"
    tail = [last] if not sign or len(sentences) < 2 else [sentences[-2], last]
    offer = any(F.OFFER_HELP.search(s) for s in tail)
    question = bool(F.QUESTION_END.search(last)) and not F.OFFER_HELP.search(last)

    # 您/你 inside quotation marks is someone else speaking (a dialogue, a quoted title), not the register
    unquoted = _QUOTED.sub("", prose)
    formal = len(F.YOU_FORMAL_ZH.findall(unquoted))
    informal = len(F.YOU_INFORMAL_ZH.findall(unquoted))
    you_zh = "mixed" if formal and informal else "您" if formal else "你" if informal else "none"
    if you_zh == "mixed":
        ev["you_zh"] = f"{formal}/{informal}"  # 您 / 你 counts: drift.register_mix reads them
    emoji = F.EMOJI.findall(prose)
    if emoji:
        ev["emoji"] = " ".join(dict.fromkeys(emoji))[:12]
    excl = len(F.EXCLAMATION.findall(prose))
    if excl:
        ev["exclamation"] = str(excl)
    hedges = F.HEDGING.findall(prose)
    if hedges:
        ev["hedging"] = ", ".join(f"“{h}”" for h in dict.fromkeys(h.lower() for h in hedges))

    script = script_of(prose)
    if script in ("zh", "mixed", "ja"):
        full = len(F.FULL_WIDTH_PUNCT.findall(prose))
        half = len(F.HALF_WIDTH_PUNCT_IN_CJK.findall(prose))
        punct = (
            "none"
            if not full and not half
            else "full"
            if full >= 4 * half
            else ("half" if half >= F.PUNCT_HALF_MIN else "none")
            if half >= 4 * full
            else "mixed"
        )
    else:
        punct = "n/a"

    move = move_of(sentences, offer)
    return Fingerprint(
        chars=len(text),
        tokens=len(F.TOKEN.findall(text)),
        sentences=len(sentences),
        paragraphs=len([p for p in _PARAGRAPH.split(text) if p.strip()]),
        bullet_list=_lines_matching(F.BULLET_LINE, prose) >= F.LIST_MIN_LINES,
        numbered_list=_lines_matching(F.NUMBERED_LINE, prose) >= F.LIST_MIN_LINES,
        heading=bool(F.HEADING_LINE.search(prose)),
        table=bool(F.TABLE_RULE.search(prose)) and prose.count("|") >= 4,
        code_block=code_block,
        bold=bool(F.BOLD.search(prose)),
        preamble=preamble,
        apology=apology,
        empathy=empathy,
        answer_first=not (preamble or apology or empathy) and move == "answer",
        offer_help=offer,
        sign_off=bool(sign),
        follow_up_question=question,
        you_zh=you_zh,
        emoji=bool(emoji),
        exclamation=excl > 0,
        hedging=bool(hedges),
        first_person=bool(F.FIRST_PERSON.search(prose)),
        second_person=bool(F.SECOND_PERSON.search(prose)),
        script=script,
        punct_width=punct,
        move=move,
        evidence=ev,
    )
