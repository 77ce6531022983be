"""The noise rules that take more than one pattern: boilerplate phrases (an editable list), the
language of a text, repetition loops, how an answer ends, and answer lengths far from their
neighbours'. `noise.py` turns what these find into triggers; every threshold is here.

Boilerplate list — the choice written down. The phrases ship as a plain text file in the package
(`boilerplate.txt`, its format in its header). A user changes the list in their own config file,
the same one the TUI reads for its keymap: `$WINNOW_CONFIG`, else `config.json` in winnow's config
folder (platformdirs), under the key "boilerplate": {"add": [...], "remove": [...]} adds phrases to
or takes them from the shipped list, {"file": PATH} replaces it with the phrases of PATH (same
format). It is a user setting rather than a project setting because what counts as boilerplate is
the curator's taste across projects; each style run records which list it used (source, phrases).
"""

from __future__ import annotations

import json
import os
import re
import statistics
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..model import ASSISTANT, USER
from . import features as F

BOILERPLATE_FILE = Path(__file__).with_name("boilerplate.txt")

# ---------------------------------------------------------------------------------------------
# Thresholds

REPEAT_MIN_TIMES = 5  # a sentence said this many times or more...
REPEAT_MIN_CHARS = 12  # ...that is at least this long (normalised)...
REPEAT_MIN_SHARE = 0.5  # ...and whose repeats make up this share of the answer (a song's chords, 39%, are not)
LOOP_MIN_CHARS = 200  # an n-gram loop is looked for only in answers this long...
LOOP_MAX_COMPRESSION = 0.25  # ...that zlib packs to at most this share of their bytes (a cheap gate)
LOOP_NGRAMS = (2, 4, 8)  # token n-gram sizes looked at
LOOP_MIN_TIMES = 8  # an n-gram repeated this often...
LOOP_MIN_COVERAGE = 0.5  # ...covering this share of the answer's tokens

LANG_MIN_CJK = 6  # a text is Chinese with at least this many CJK characters...
LANG_ZH_RATIO = 3.0  # ...and this many times as many CJK characters as Latin words
LANG_MIN_WORDS = 5  # a text is English with at least this many Latin words and no CJK beyond...
LANG_EN_CJK_SHARE = 0.05  # ...this share of its words
# A prompt that holds words of the answer's language asks about them ("用“opulent”造句", "复数：watch"):
# an answer in that language is then right. Acronyms (AI, GDP) do not count.
LANG_FOREIGN_MAX = 0  # lower-case Latin words of 3+ letters a Chinese prompt may hold
LANG_FOREIGN_MAX_CJK = 2  # CJK characters an English prompt may hold
LANG_CODE_PROSE_MIN = 20  # an answer with fenced code: words (or CJK characters) of prose around it to judge
# A Chinese answer that switches to English: a run of this many English words in a row, outside quotes,
# brackets and code (labels: Alpaca zh 994 "托马斯·爱迪生（Thomas Edison） was an American inventor…",
# 876 "这句话的意思是： It is better to be safe…"; 4 of 4 such runs in the Chinese sets were real)
LANG_SWITCH_MIN_WORDS = 12

LENGTH_MIN_COMPARED = 5  # fewer similar prompts with answers: compare with all answers instead
LONG_RATIO = 8.0  # an answer this many times longer than the median answer to similar prompts...
LONG_DATASET_RATIO = 4.0  # ...and than the dataset's median answer...
LONG_MIN_TOKENS = 400  # ...and at least this long, is extreme
LONG_ALONE_RATIO = 20.0  # without similar prompts: this many times the dataset's median...
LONG_ALONE_MIN_TOKENS = 1500  # ...and at least this long (a 480-character medical answer among 43s is not)
SHORT_RATIO = 0.02  # an answer at most this share of the median answer to similar prompts...
SHORT_MAX_TOKENS = 3  # ...at most this long...
SHORT_MIN_MEDIAN = 150  # ...where that median is at least this many tokens. Never against the whole
# dataset: "副词", "Yes", "10比9大。" are whole answers to classification and factoid prompts

# ---------------------------------------------------------------------------------------------
# Boilerplate


class ConfigError(ValueError):
    """The user's boilerplate setting or phrase file cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Phrase:
    section: str
    text: str  # as written in the list
    pattern: re.Pattern


@dataclass(frozen=True)
class Boilerplate:
    phrases: tuple[Phrase, ...]
    source: str  # "built-in", "built-in + config (2 added, 1 removed)", or the replacing file's path

    def find(self, text: str) -> tuple[Phrase, str] | None:
        """The first phrase (list order) found in text, and the words it matched."""
        for p in self.phrases:
            m = p.pattern.search(text)
            if m:
                return p, m.group(0)
        return None


def _compile(phrase: str) -> re.Pattern:
    if phrase.startswith("re:"):
        return re.compile(phrase[3:], re.I | re.M)
    words = [re.escape(w) for w in phrase.split()]
    body = r"\s+".join(words)
    # whole words for Latin text; CJK has no word boundaries to ask for
    start = r"\b" if re.match(r"\w", phrase) and not F.CJK.match(phrase) else ""
    end = r"\b" if re.search(r"\w$", phrase) and not F.CJK.search(phrase[-1]) else ""
    return re.compile(start + body + end, re.I)


# A prompt about an AI, a robot or a chatbot: an answer that speaks as one answers it (labels:
# COIG-CQIA "作为人工智能，当你收到…", Alpaca zh "创建一个…聊天机器人脚本", "描述两个机器人之间的对话").
AI_ASKED = re.compile(
    r"(?<![A-Za-z])ai(?![A-Za-z])|人工智能|机器人|语言模型|聊天机器|数字人|"
    r"\b(?:artificial intelligence|language models?|chat ?bots?|robots?|virtual assistants?)\b",
    re.I,
)


# A question about the assistant itself — its name, who made it, what it is (labels: LLaMA-Factory's
# identity set "Do you have a name?" → "As an AI assistant developed by {{author}}…"): an answer that
# introduces itself as an AI is the identity the dataset teaches, not a copied disclaimer.
IDENTITY_ASKED = re.compile(
    r"\b(?:your name|who are you|what are you|introduce yourself|about yourself|are you (?:a |an )?(?:ai|bot|robot|human|chatgpt|gpt)|"
    r"who (?:created|built|made|trained|developed|designed|invented) you|"
    r"are you (?:based on|built on|powered by|made by|created by|trained by|developed by))\b|"
    r"你是谁|您是谁|你叫什么|你的名字|你有名字|介绍一下你自己|介绍你自己|你是什么|你的身份|"
    r"谁(?:开发|创造|训练|制作|打造|设计|发明)了你|你是由谁|你是谁(?:开发|打造|的作品)",
    re.I,
)


def parse_phrases(text: str, where: str) -> list[Phrase]:
    """The phrases of one list file. Raises ConfigError "where:line: what — what to do"."""
    out: list[Phrase] = []
    section = "boilerplate"
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip() or "boilerplate"
            continue
        try:
            out.append(Phrase(section, line, _compile(line)))
        except re.error as e:
            raise ConfigError(f"{where}:{n}: not a valid regular expression ({e}) — fix or remove the line") from e
    return out


def config_path() -> Path:
    """The user's config file, as the TUI finds it: $WINNOW_CONFIG, else config.json in winnow's config folder."""
    env = os.environ.get("WINNOW_CONFIG")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_config_dir("winnow")) / "config.json"


def load_boilerplate(config: dict | None = None) -> Boilerplate:
    """The shipped phrase list with the user's "boilerplate" setting applied. `config`: the user's
    config object (default: read from config_path(); a missing file is no setting)."""
    where = "config"
    if config is None:
        path = config_path()
        where = str(path)
        config = {}
        if path.exists():
            try:
                config = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise ConfigError(f"{path}: cannot read the config ({e}) — fix or remove it") from e
            if not isinstance(config, dict):
                raise ConfigError(f"{path}: the config must be a JSON object — fix or remove it")
    setting = config.get("boilerplate", {})
    if not isinstance(setting, dict) or set(setting) - {"add", "remove", "file"}:
        raise ConfigError(
            f'{where}: "boilerplate" must be an object with "add", "remove" (lists of phrases) or "file" (a path)'
        )
    if "file" in setting:
        path = Path(str(setting["file"])).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as e:
            raise ConfigError(f"{where}: boilerplate file {path} cannot be read ({e}) — fix the path") from e
        phrases = parse_phrases(text, str(path))
        source = str(path)
    else:
        phrases = parse_phrases(BOILERPLATE_FILE.read_text(encoding="utf-8"), str(BOILERPLATE_FILE))
        source = "built-in"
    add, remove = setting.get("add", []), setting.get("remove", [])
    for key, val in (("add", add), ("remove", remove)):
        if not isinstance(val, list) or not all(isinstance(x, str) and x.strip() for x in val):
            raise ConfigError(f'{where}: "boilerplate.{key}" must be a list of non-empty phrases')
    if remove:
        gone = {r.strip().casefold() for r in remove}
        phrases = [p for p in phrases if p.text.casefold() not in gone]
    if add:
        phrases += parse_phrases("[your list]\n" + "\n".join(a.strip() for a in add), f"{where} boilerplate.add")
    if add or remove:
        source += f" + config ({len(add)} added, {len(remove)} removed)"
    return Boilerplate(tuple(phrases), source)


# ---------------------------------------------------------------------------------------------
# Language of a text

_NOT_PROSE = re.compile(
    r"```.*?(?:```|\Z)|`[^`\n]+`|https?://\S+|\S+@\S+\.\w+|\{[^{}]*\}|<[^<>\n]{1,80}>",
    re.S,
)
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
PROMPT_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]*[a-z][A-Za-z]*(?![A-Za-z])")  # not an acronym: AI, GDP


def language(text: str) -> tuple[str, int, int]:
    """("zh" | "en" | "mixed" | "none", CJK characters, Latin words) of the prose: code, URLs,
    e-mail addresses and {json} are left out (they are English whatever the text's language)."""
    prose = _NOT_PROSE.sub(" ", text)
    cjk = len(F.CJK.findall(prose))
    words = len(_LATIN_WORD.findall(prose))
    if cjk >= LANG_MIN_CJK and cjk >= LANG_ZH_RATIO * words:
        return "zh", cjk, words
    if words >= LANG_MIN_WORDS and cjk <= LANG_EN_CJK_SHARE * words:
        return "en", cjk, words
    if cjk or words:
        return "mixed", cjk, words
    return "none", cjk, words


LANGUAGE_NAMES = {"zh": "Chinese", "en": "English"}
_QUOTED_OR_BRACKETED = re.compile(r"“[^”]*”|\"[^\"]*\"|「[^」]*」|《[^》]*》|（[^）]*）|\([^)]*\)")
_ENGLISH_RUN = re.compile(rf"(?:[A-Za-z0-9][A-Za-z0-9'’-]*[ ,;]+){{{LANG_SWITCH_MIN_WORDS - 1},}}[A-Za-z][A-Za-z'’-]*")


def english_run(text: str) -> str | None:
    """The first run of LANG_SWITCH_MIN_WORDS+ English words in a row in the prose of text (code,
    URLs, quoted and bracketed text left out: a title, a term, a quoted input are not a switch)."""

    def blank(m: re.Match) -> str:  # same length: the run found is quoted from the text itself
        return "\x00" * len(m.group(0))

    m = _ENGLISH_RUN.search(_QUOTED_OR_BRACKETED.sub(blank, _NOT_PROSE.sub(blank, text)))
    return text[m.start() : m.end()] if m else None


# A prompt that asks for another language, names one, or asks to translate: the answer may differ.
LANGUAGE_ASKED = re.compile(
    r"翻译|译成|译为|翻成|英文|英语|中文|汉语|普通话|拼音|英译|中译|双语|用英|用中|"
    r"\btranslat\w*|\benglish\b|\bchinese\b|\bmandarin\b|\bpinyin\b|\bcantonese\b|\blanguage\b",
    re.I,
)


# A prompt that asks for a register where slang and typos belong: informal is then what was asked.
REGISTER_ASKED = re.compile(
    r"\b(?:dialog(?:ue)?|conversation|chat|casual|informal|slang|tweet|text message|lyrics|song|rap|poem|"
    r"story|stories|screenplay|script|skit|joke|character|persona|pretend|role-?play|surfer|pirate|"
    r"abbreviations?|acronyms?|remove (?:all )?(?:the )?vowels|misspell\w*|typos?)\b|"
    r"对话|对白|聊天|口语|幽默|笑话|段子|俏皮|故事|小说|诗|歌词|台词|剧本|角色|扮演|网络用语|缩写|引言|名言",
    re.I,
)
# A prompt that hands over text to work on (a review to classify): its wording is not the user's mood.
TASK_MATERIAL = re.compile(
    r"\b(?:review|tweet|sentiment|polarity|classify|the following (?:text|sentence|passage|paragraph)|"
    r"given (?:a|the) (?:text|sentence|passage))\b|评论|情感|情绪分类|以下(?:文本|句子|段落)",
    re.I,
)


def is_code(text: str) -> bool:
    return bool(F.CODE_FENCE.search(text)) or len(F.CODE_LINE.findall(text)) >= F.CODE_MIN_LINES


# ---------------------------------------------------------------------------------------------
# Template fields that are not unfilled. Labels (tests/fixtures/quality/noise.jsonl, 182 flags read):
# a drafted letter's "[Your Name]", "Dear [Recipient]," are the blanks an assistant rightly leaves
# for what only the user knows (36 of 38 such flags); "${p._1}", "${{ secrets.TOKEN }}",
# "[User32]::" are code; "{{ . }}" is data. Left flagged: template variables ({{name}}), blanks where
# the answer's own content should be ("[insert opinion]", "[Target Market]"), a prompt's missing
# material ("[Insert an image]"), and any field a tool call sends.

# The user's or a party's own details: name, title, company, contact.
PARTY_SLOT = re.compile(
    r"\[\s*(?:your|recipient|customer|company|user|client|manager|sender|person)(?:['’]s)?[ _]?"
    r"(?:(?:full |first |last |company |job )?(?:name|title|position|company|email(?: address)?|phone(?: number)?|"
    r"address|signature|contact(?: information| info| details)?|password|username|account))?\s*\]",
    re.I,
)
# The prompt asks for a text written for the user to send (a letter, an email, a script): a party's
# slot is then theirs to fill. In a reply to the user ("Dear [Customer Name], we have updated…") it is unfilled.
DRAFT_ASKED = re.compile(
    r"\b(?:write|draft|compose|create|generate|prepare|pen|letters?|e-?mails?|notes?|messages?|invitations?|"
    r"scripts?|press release|newsletter|posts?|speech)\b|写|起草|撰写|拟",
    re.I,
)
TEMPLATE_ASKED = re.compile(r"\btemplates?\b|\bfill-in\b|\bform letter\b|模板|模版", re.I)
ANSWER_SLOT = re.compile(r"\[\s*(?:your )?answer(?: here)?\s*\]", re.I)  # a format the user asks the answer to fill
# Marks that make a line code rather than prose around a field: "println(s\"${p._1}\")", "= [RECIPIENT]",
# "[User32]::Get…" (other fields on the line are left out first: "I am {{name}} by {{author}}").
_CODE_MARKS = re.compile(r"[=;{}`]|::|\$\(|\bs\"|\w\(|\)\.")


def field_in_code(text: str, start: int, end: int) -> bool:
    """The field at text[start:end] sits in code: its line, without the field, has code's marks,
    or the field is an interpolation (${…}) or a ${{ … }} expression."""
    if text[max(0, start - 1) : start] == "$":
        return True  # ${{ github.token }}: a GitHub Actions expression
    ls = text.rfind("\n", 0, start) + 1
    le = text.find("\n", end)
    line = text[ls : le if le >= 0 else len(text)]
    rest = F.TEMPLATE_FIELD.sub(" ", line[: start - ls] + " " + line[end - ls :])
    return bool(_CODE_MARKS.search(rest))


def field_counts(
    field: str, text: str, start: int, end: int, *, sent: bool, template_asked: bool, draft_asked: bool = True
) -> bool:
    """Whether one TEMPLATE_FIELD match is an unfilled field a curator wants flagged (see above)."""
    if not re.search(r"[A-Za-z\u4e00-\u9fff]", field):
        return False  # "{{ . }}", "{{...}}": data, not a variable
    if sent:
        return True  # a tool call sends what it holds: a blank there goes out as it is
    if field_in_code(text, start, end):
        return False
    if ANSWER_SLOT.fullmatch(field):
        return False
    if template_asked and field.startswith("["):
        return False
    return not (draft_asked and PARTY_SLOT.fullmatch(field))


# ---------------------------------------------------------------------------------------------
# Repetition


def _norm(s: str) -> str:
    return " ".join(s.split()).strip(" -*•.,;:，。；：!?！？").casefold()


_TABLE_OR_RULE = re.compile(r"^\s*\|.*\|\s*$|^\s*[-=_*]{3,}\s*$")


def repetition(text: str) -> tuple[str, int, float] | None:
    """(the repeated unit, times, share of the answer it covers) for a sentence said again and
    again or an n-gram loop; None for ordinary text. Tables and code are not looked at."""
    if is_code(text):
        return None
    sentences = [
        _norm(s)
        for s in F.SENTENCE_END.split(text)
        if s and not _TABLE_OR_RULE.match(s) and len(_norm(s)) >= REPEAT_MIN_CHARS
    ]
    if sentences:
        unit, times = Counter(sentences).most_common(1)[0]
        share = times * len(unit) / max(1, len(" ".join(text.split())))
        if times >= REPEAT_MIN_TIMES and share >= REPEAT_MIN_SHARE:
            return unit, times, min(share, 1.0)
    if len(text) < LOOP_MIN_CHARS:
        return None
    raw = text.encode("utf-8")
    if len(zlib.compress(raw)) > LOOP_MAX_COMPRESSION * len(raw):
        return None
    tokens = F.TOKEN.findall(text)
    best: tuple[str, int, float] | None = None
    for n in LOOP_NGRAMS:
        if len(tokens) < n * LOOP_MIN_TIMES:
            continue
        gram, times = Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)).most_common(1)[0]
        coverage = min(1.0, times * n / len(tokens))
        if times >= LOOP_MIN_TIMES and coverage >= LOOP_MIN_COVERAGE and (best is None or coverage > best[2]):
            sep = "" if all(F.CJK.fullmatch(t) for t in gram) else " "
            best = (sep.join(gram), times, coverage)
    return best


# ---------------------------------------------------------------------------------------------
# How an answer ends (truncation). A cut is a real ending: a comma, a dangling connective, a word
# cut short, a fragment after the last full stop, an open code block. Lack of "。" or "." is not:
# titles, poems, lists, sign-offs and many Chinese answers end without it.

CUT_PUNCT = re.compile(r"[,，、(（\[【「『“‘]\s*$")
# Words that cannot end an English sentence (lower case only: "Vitamin A", "Plan B" can).
DANGLING_EN = re.compile(
    r"(?<![A-Za-z'’-])(?:and|or|but|nor|the|a|an|of|which|whose|whether|because|although|than|"
    r"your|my|their|our|its|his|such as|including|e\.g\.|i\.e\.|such|very|between|into|onto|"
    r"is the|are the|of the|to the|in the|for the|with the|on the|at the|by the|from the|"
    r"(?:from|of|in|on|at|for|to|with|by) the (?:last|next|following|first|other|previous|same)|"
    r"(?:can|could|will|would|may|might|should|must) also|(?:which|that|it|this) (?:\w+ )?(?:takes|needs|requires|means|makes))\s*$"
)
# Connectives that cannot end a Chinese sentence. Single characters that often end one (的, 了,
# 是, 在, 就, 可以, 需要) are left out: "这是不会遗传的" is a whole sentence.
DANGLING_ZH = re.compile(
    r"(?:以及|并且|而且|或者|如果|因为|所以|但是|然而|然后|例如|比如|包括|其中|以便|还有|以及其|及其|"
    r"通过|对于|关于|根据|由于|虽然|尽管|不仅|同时|另外|此外|首先|其次|最后|即|和|与|及|或|并|而|"
    r"的一|一个|这个|那个|这些|那些|一些|一种|各种|[会将可要需应]在)\s*$"
)
# A last line that closes a letter, or greets, may end on a comma: "祝好，" "Best regards," "Dear Ann,"
SALUTATION_LINE = re.compile(
    r"^\s*(?:(?:best|kind|warm|warmest)?\s*regards|best wishes|best|cheers|sincerely|yours(?: truly| sincerely| faithfully)?|"
    r"thanks|thank you|many thanks|love|respectfully|cordially|all the best|take care|dear\b.{0,40}|hi\b.{0,30}|"
    r"hello\b.{0,30}|祝好|祝安|此致|敬礼|顺祝.{0,10}|祝.{0,12}|谢谢|感谢.{0,12}|亲爱的.{0,20}|尊敬的.{0,20}|.{0,12}您好|.{0,12}你好)"
    r"\s*[,，:：]?\s*$",
    re.I,
)
# A fragment after the last stop: one CJK character ("…潜力。 大"), not a one-character reply.
CJK_FRAGMENT = re.compile(rf"(?:[。！？!?.]|\s)\s*([{F.CJK_CLASS}])\s*$")
CJK_FINAL_WORDS = set("哦啊吧呢呀嗯噢哈好是对行嘛啦呗")


def _opened_here(t: str) -> bool:
    """The answer opens the code block it leaves open: it does not start inside one (a "continue"
    turn picking up code) and its last fence is followed by code, not the end of the text."""
    before, after = t.split("```", 1)[0], t.rsplit("```", 1)[1]
    head = "\n".join(t.lstrip().splitlines()[:3])
    if is_code(head.split("```", 1)[0]) or (is_code(before) and not re.search(r"[.:：。]\s*$", before)):
        return False
    # Prose that ends on a full stop after the last fence: that fence closed a block opened in an
    # earlier turn (a "continue" answer picking up code: kto en 267).
    tail = after.strip()
    if tail and not is_code(tail) and re.search(r"[.!?。！？]\s*$", tail) and len(tail.split()) >= 8:
        return False
    return bool(after.strip()) and "\n" in after


def cut_ending(text: str, vocab_completes=None, informal: bool = False) -> tuple[str, float] | None:
    """(why the answer looks cut off, confidence), or None."""
    t = text.rstrip()
    if not t:
        return None
    if t.count("```") % 2 == 1 and _opened_here(t):
        return "an unclosed code block", 0.85
    last_line = t.splitlines()[-1].strip()
    if is_code(t) or SALUTATION_LINE.match(last_line):
        return None
    if last_line.startswith(("|", "#", ">")) or re.match(r"^https?://\S+$", last_line):
        return None
    if CUT_PUNCT.search(t):
        return f"ends on “…{' '.join(t[-14:].split())}”", 0.9
    m = DANGLING_ZH.search(t) or DANGLING_EN.search(t)
    if m and len(F.TOKEN.findall(t)) >= 4:
        return f"ends on the connective “{m.group(0).strip()}”", 0.85
    m = CJK_FRAGMENT.search(t)
    if m and m.group(1) not in CJK_FINAL_WORDS and len(F.TOKEN.findall(t)) >= 20:
        return f"ends on a fragment “{m.group(1)}” after the last sentence", 0.8
    if not informal and vocab_completes is not None:
        w = re.search(r"(?<![A-Za-z'’-])([a-z]{3,})$", t)
        if w and len(last_line.split()) >= 4:
            whole = vocab_completes(w.group(1))
            if whole:
                return f"ends mid-word on “{w.group(1)}” (“{whole}”?)", 0.7
    return None


# ---------------------------------------------------------------------------------------------
# Extreme length


def answer_offered(conv) -> bool:
    """The answer is a few words the user's text spells out: an option the prompt offers ("If it is not
    answerable, write “Not answerable”" → "Not answerable."), so its shortness is the format asked
    (labels: KTO en 130)."""
    prompt, answer = conv.split()
    said = _norm(" ".join(t.content for t in answer if t.role == ASSISTANT))
    asked = " ".join(" ".join(t.content for t in prompt if t.role == USER).split()).casefold()
    return bool(said) and said in asked


def length_outliers(
    tokens: Sequence[int], neighbours: Sequence[Sequence[int]], sims=None, min_sim=None
) -> dict[int, tuple[str, float]]:
    """{position: (what is extreme, confidence)} for answers far longer or shorter than the answers
    to similar prompts (their neighbours with an answer; too few: every answer of the dataset).
    Conservative on purpose: length varies a lot between honest answers."""
    have = [t for t in tokens if t > 0]
    if len(have) < 2 * LENGTH_MIN_COMPARED:
        return {}
    dataset_median = statistics.median(have)
    out: dict[int, tuple[str, float]] = {}
    for i, t in enumerate(tokens):
        if t <= 0:
            continue
        row = neighbours[i] if i < len(neighbours) else ()
        compared = [
            tokens[j]
            for k, j in enumerate(row)
            if 0 <= j != i and tokens[j] > 0 and (sims is None or min_sim is None or sims[i][k] >= min_sim[i])
        ]
        basis = "answers to similar prompts"
        alone = len(compared) < LENGTH_MIN_COMPARED
        if alone:
            compared, basis = have, "answers in the dataset"
        med = statistics.median(compared)
        if alone:
            if t >= LONG_ALONE_MIN_TOKENS and t >= LONG_ALONE_RATIO * med:
                out[i] = (
                    f"far longer: {t:,} tokens, {t / max(med, 1):.0f}× the median of {len(compared)} {basis} ({med:.0f})",
                    0.7,
                )
            continue
        if t >= LONG_MIN_TOKENS and t >= LONG_RATIO * med and t >= LONG_DATASET_RATIO * dataset_median:
            ratio = t / max(med, 1)
            out[i] = (
                f"far longer: {t:,} tokens, {ratio:.0f}× the median of {len(compared)} {basis} ({med:.0f})",
                round(0.6 + 0.2 * min(1.0, (ratio - LONG_RATIO) / (4 * LONG_RATIO)), 3),
            )
        elif t <= SHORT_MAX_TOKENS and med >= SHORT_MIN_MEDIAN and t <= SHORT_RATIO * med:
            out[i] = (f"far shorter: {t} tokens where {len(compared)} {basis} have a median of {med:.0f}", 0.6)
    return out
