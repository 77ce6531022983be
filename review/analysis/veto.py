"""Pairs the semantic detector never calls near-duplicates, however close their vectors.

An embedding compares what two samples are about, and two requests that differ only in their
numbers, in the tools they may call, in the thing they name or in a follow-up are about the same
thing: "tip on 85 at 20%" and "tip on 50 at 15%", "create a profile" under one tool and "create an
account" under another, "Do you call Google APIs?" and "Do you call Meta APIs?", a password
request and the same request followed by "now update my e-mail password". For training they are
different questions, with different right answers. So a pair is kept only when both samples'
user turns, greetings and thank-yous left out (`is_pleasantry`: "Have a nice day!", "谢谢你的帮助！"),

* are as many, and hold turn by turn the same numbers (order inside a turn ignored: "a 20% tip
  on 85" / "tip on 85 at 20%"; 500 USD then 1000 EUR is not 1000 USD then 500 EUR),
* offer the same tool names (the tool schema's `name`s; descriptions and parameters are the
  prompt identity's business, review/prompt.py),
* name the same things: every name in one sample's user turns is a word of the other's. A name is
  a Latin-script word with a digit (GPT-3, davinci-002), with a capital after its first letter
  (ChatGPT, OpenAI, IBM, iPhone), or capitalised anywhere but at the start of a sentence (Google,
  Paris in "tell me about Paris"); "I" is not one. Case is ignored in the other sample ("Python" /
  "python"). Chinese names are not recognised (no segmentation); Latin names inside Chinese text
  are ("用Python" / "用Java"), and
* do not ask for other kinds of answer: a yes-or-no question on one side where the other asks a
  who/what/how one ("Are you curie?" / "Who created you?"), or wh-questions with no wh-word in
  common ("What's your name?" / "Who built you?"); in Chinese only yes-or-no against a
  question word ("你有名字吗？" / "你是由谁开发的？"), `question_forms`.

`differences` says in words which of these a vetoed pair breaks ("numbers 20, 85 vs 15, 50",
"names Google vs Meta", "user turns that ask something 2 vs 3"), and `shared` what a kept pair has
in common, for a curator to check in the two samples.

Measured on the labelled real pairs of tests/fixtures/quality/dup.jsonl: see the README's
"Semantic near-duplicates on real data". The veto is part of the detector's settings (`VETO`):
changing it re-runs the detector. The lexical detector takes the same veto (review/analysis/run.py).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..model import USER, Conversation
from ..store import Store

VETO = "user-turns+numbers+tool-names+names+question-form/4"
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
# A Latin-script word (letters, digits, inner - or .: GPT-3, davinci-002, H.G), or a mark that ends
# a sentence (the next word starts one), or any other run of word characters (a CJK run: not a name,
# but it is a word before the next one, so a Latin word after it does not start a sentence).
_SCAN = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:[-.][A-Za-z0-9]+)*|[.!?:;。！？：；\n]|[^\W_A-Za-z]+")
_ENDS = frozenset(".!?:;。！？：；\n")


def names(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """(the names in text, every Latin-script word of it lower-cased). See the module docstring."""
    found: set[str] = set()
    words: set[str] = set()
    start = True
    for m in _SCAN.finditer(text):
        tok = m.group(0)
        if tok in _ENDS:
            start = True
            continue
        first, start = start, False
        if not tok[0].isascii() or not tok[0].isalpha():
            continue
        words.add(tok.lower())
        if tok == "I":
            continue
        if any(c.isdigit() for c in tok) or any(c.isupper() for c in tok[1:]) or (tok[0].isupper() and not first):
            found.add(tok)
    return frozenset(found), frozenset(words)


def tool_names(tools: str | None) -> frozenset[str]:
    """The names of the tools a sample offers (OpenAI `{type, function: {name}}` or a plain
    `{name, …}` list); an unreadable schema is its own text, so only an identical one matches."""
    if not tools:
        return frozenset()
    try:
        data = json.loads(tools)
    except ValueError:
        return frozenset([tools])
    items = data if isinstance(data, list) else [data]
    found: set[str] = set()
    for item in items:
        if isinstance(item, dict):
            fn = item.get("function")
            name = fn.get("name") if isinstance(fn, dict) else item.get("name")
            if isinstance(name, str):
                found.add(name)
    return frozenset(found)


# A user turn that only greets, says goodbye or thanks carries no request: a conversation that adds
# "Have a nice day!" or "谢谢你的帮助！" asks for the same thing (FastChat, glaive). Compared after
# lower-casing and dropping everything but letters, digits and spaces. A bare "OK" / "好的" is not
# one: it may answer the assistant's "Shall I include symbols?".
GREETINGS = frozenset(
    "hi|hello|hey|hi there|hello there|what is up|whats up|sup|good morning|good afternoon|good evening"
    "|how are you|goodbye|bye|bye bye|see you|see you later|have a nice day|have a good day"
    "|你好|您好|嗨|哈喽|早上好|下午好|晚上好|再见|拜拜".split("|")
)
THANKS = re.compile(r"thank|thanks|thx|appreciate|谢谢|感谢|多谢|谢啦", re.IGNORECASE)
_NOT_WORD = re.compile(r"[^\w ]+")
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def is_pleasantry(turn: str) -> bool:
    """A greeting or goodbye (GREETINGS), or a short thank-you with no question and no number in
    it ("Thank you, that's all I needed!", "太好了，谢谢你的帮助！"): at most 6 Latin words and 16
    CJK characters. "Thanks! Now convert 100 EUR" and "谢谢！你也能帮我更新密码吗？" are requests."""
    bare = " ".join(_NOT_WORD.sub(" ", turn.lower().replace("'", "")).split())
    if bare in GREETINGS:
        return True
    if not THANKS.search(turn) or "?" in turn or "？" in turn or NUMBER.search(turn):
        return False
    return len(re.findall(r"[A-Za-z]+(?:'[A-Za-z]+)?", turn)) <= 6 and len(_CJK.findall(turn)) <= 16


# English questions by their first word: a yes-or-no question ("Are you curie?") and a who/what
# question ("Who created you?") want different answers ("No, I am…" / "Researchers at LMSYS"), so
# they are different requests however alike their words. "Can/Could/Would you…" is a polite
# request, not a yes-or-no question, and a yes-or-no sentence with a wh-word in it ("Do you know
# what X is?") asks the wh-question.
YES_NO = frozenset("am is are was were do does did have has had".split())
WH = frozenset("who what when where which why how whose whom".split())
_QUESTION = re.compile(r"[^.!?\n]*\?")
_EN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")


# Chinese questions: a clause with a question word (ZH_WH) asks a wh-question, written with "？"
# or not ("创造你的人是谁"); one ending in 吗/嘛 (or 么 outside 什么/怎么/这么/那么/多么) asks yes or
# no, as does an A-not-A or tag question (是不是, 有没有, 对吧), unless it is a request
# (_ZH_REQUEST: "能介绍一下你自己吗？"). Which wh-question is not
# told apart: 哪些 and 什么 both ask "what" ("你的技能有哪些" / "你具备什么能力"), so a Chinese
# wh-question is "wh", which shares its kind with every other one.
ZH_WH = re.compile(r"为什么|为何|怎么|怎样|如何|什么|啥|谁|哪|多少|几")
_ZH_CLAUSE = re.compile(r"[^。！？!?\n，,；;]+")
_ZH_YES_NO = re.compile(r"(?:吗|嘛|(?<![什怎这那多])么)\s*$|是不是|有没有|对吧|对不对|是否")
# A request asks the assistant to do something (你能…吗, 可以…吗, 请…, 帮我…): its 吗 is not a
# yes-or-no question. 能 counts only where it opens the request (at the start, after 你/您 or
# 能不能), not inside a word: 人工智能吗 asks yes or no; 请问 ("may I ask") is no request.
_ZH_REQUEST = re.compile(r"(?:^|[你您])(?:能|可以|可否)|能不能|能否|可不可以|请(?!问)|帮")


def question_forms(text: str) -> frozenset[str]:
    """What the questions of text ask: "yes-no", or their wh-word ("who", "what", …). English: the
    sentences ending in "?" by their first word ("Do you know what X is?" asks "what"); Chinese:
    every clause with a question word is "wh", one ending in 吗 "yes-no" (see ZH_WH)."""
    out = set()
    for q in _QUESTION.findall(text):
        words = [w.lower().split("'")[0] for w in _EN_WORD.findall(q)]  # what's -> what
        if not words:
            continue
        if words[0] in WH:
            out.add(words[0])
        elif words[0] in YES_NO:
            inner = [w for w in words[1:] if w in WH]
            out.add(inner[0] if inner else "yes-no")
    if _CJK.search(text):
        for clause in _ZH_CLAUSE.findall(text):
            if ZH_WH.search(clause):
                out.add("wh")
            elif _ZH_YES_NO.search(clause) and not _ZH_REQUEST.search(clause):
                out.add("yes-no")
    return frozenset(out)


@dataclass(frozen=True, eq=False)
class Request:
    """What two samples must share to be near-duplicates, read from one sample's user turns.

    `a == b` means "the same request": as many user turns that ask something (greetings and
    thank-yous left out, `is_pleasantry`), turn by turn the same numbers, the same tools, and every
    name of each is a word of the other. The names part is not transitive ("Google" matches
    "google", which has no name, and so matches a text without Google), so a Request is compared
    in pairs, never put in a set; its hash is that of its numbers and tools, which equal Requests
    share."""

    numbers: tuple[tuple[str, ...], ...]  # per user turn that asks something, sorted
    tools: frozenset[str]
    names: frozenset[str]
    words: frozenset[str]
    forms: frozenset[str] = frozenset()  # question_forms of the user turns that ask something

    def other_question(self, other: Request) -> bool:
        """Their questions want other kinds of answer: only yes-or-no ones on one side and only
        wh-questions on the other, or English wh-questions on both sides with no wh-word in
        common ("What's your name?" / "Who built you?"); a Chinese one ("wh") shares any."""
        a, b = self.forms, other.forms
        if not a or not b:
            return False
        if a == {"yes-no"} or b == {"yes-no"}:
            return a != b and "yes-no" not in (a & b)
        return "yes-no" not in a | b and "wh" not in a | b and not a & b

    def missing_names(self, other: Request) -> list[str]:
        """Names of self that are no word of other, sorted."""
        return sorted(n for n in self.names if n.lower() not in other.words)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Request):
            return NotImplemented
        return (
            self.numbers == other.numbers
            and self.tools == other.tools
            and not self.missing_names(other)
            and not other.missing_names(self)
            and not self.other_question(other)
        )

    def __hash__(self) -> int:
        return hash((self.numbers, self.tools))


def pair_key(conv: Conversation) -> Request:
    """The Request of a sample: its user turns' numbers and names, and its tools' names."""
    asks = [t.content for t in conv.turns if t.role == USER and not is_pleasantry(t.content)]
    found, words = names("\n".join(asks))
    numbers = tuple(tuple(sorted(NUMBER.findall(t))) for t in asks)
    return Request(numbers, tool_names(conv.tools), found, words, question_forms("\n".join(asks)))


def _forms(forms: frozenset[str]) -> str:
    return "/".join(sorted("yes-or-no" if f == "yes-no" else f for f in forms))


def _listed(items: Sequence[str], limit: int = 4) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" (+{len(items) - limit})" if len(items) > limit else "") if items else "none"


def differences(a: Request, b: Request) -> list[str]:
    """Why a and b are not the same request, in words a curator can check in the two user turns
    ("numbers 20, 85 vs 15, 50", "names Google vs Meta", "tools get_tip vs none"); [] when they are."""
    out = []
    if len(a.numbers) != len(b.numbers):
        out.append(f"user turns that ask something {len(a.numbers)} vs {len(b.numbers)}")
    else:
        for k, (x, y) in enumerate(zip(a.numbers, b.numbers, strict=True)):
            if x != y:
                where = f" in user turn {k + 1}" if len(a.numbers) > 1 else ""
                out.append(f"numbers{where} {_listed(x)} vs {_listed(y)}")
    if a.tools != b.tools:
        out.append(f"tools {_listed(sorted(a.tools - b.tools))} vs {_listed(sorted(b.tools - a.tools))}")
    ma, mb = a.missing_names(b), b.missing_names(a)
    if ma or mb:
        out.append(f"names {_listed(ma)} vs {_listed(mb)}")
    if a.other_question(b):
        out.append(f"a {_forms(a.forms)} question vs a {_forms(b.forms)} one")
    return out


def shared(a: Request, b: Request) -> str:
    """What a kept pair's user turns have in common, in words ("same numbers 20, 85 · same names
    GPT-3"); "" when they hold no number, tool or name."""
    parts = []
    nums = sorted({n for turn in a.numbers for n in turn})
    if nums:
        parts.append(f"same numbers {_listed(nums)}")
    if a.tools:
        parts.append(f"same tools {_listed(sorted(a.tools))}")
    common = sorted({n for n in a.names | b.names})
    if common:
        parts.append(f"same names {_listed(common)}")
    return " · ".join(parts)


def explain(a: Conversation, b: Conversation) -> str:
    """One line for a flag's details: what two samples' user turns share when the veto keeps them
    ("user turns alike in numbers 12 · names GPT-3"), or why it would not ("not the same request:
    names Google vs Meta")."""
    ka, kb = pair_key(a), pair_key(b)
    why = differences(ka, kb)
    if why:
        return "not the same request: " + "; ".join(why)
    common = shared(ka, kb)
    return f"user turns alike in {common.replace('same ', '')}" if common else ""


class PairVeto:
    """Filters (text hash, text hash, score) pairs by the Request of each text's first sample,
    read from the store once per text."""

    def __init__(self, store: Store, groups: dict[str, list[int]]) -> None:
        self.store = store
        self.groups = groups
        self.keys: dict[str, Request] = {}

    def keep(self, pairs: Sequence[tuple[str, str, float]]) -> list[tuple[str, str, float]]:
        need = {h for a, b, _ in pairs for h in (a, b) if h not in self.keys and h in self.groups}
        first = {self.groups[h][0]: h for h in need}
        ids = sorted(first)
        for i in range(0, len(ids), 1000):
            for s in self.store.samples(ids[i : i + 1000]):
                self.keys[first[s.id]] = pair_key(s.conversation)
        return [p for p in pairs if self.keys.get(p[0]) == self.keys.get(p[1])]


def veto_for(store: Store, groups: dict[str, list[int]], field: str, settings: dict) -> PairVeto | None:
    """The veto of a detector comparing `field`, recorded in its `settings` (so a changed veto
    re-runs the detector); None for `--field answer`, which does not compare the user turns."""
    if field == "answer":
        return None
    settings["veto"] = VETO
    return PairVeto(store, groups)
