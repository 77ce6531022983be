"""hostile-pty: hostile sample text through the real `winnow open` in a real pseudo-terminal.

Each trial takes one corpus entry (markup-like text, escape sequences, C0/C1 controls, invisible
characters, huge lines, CJK, emoji, combining marks, wide characters at the right edge) and one
placement (system, user, assistant, tool call, tool result, tag, note), imports a real project
holding it, opens it with the installed `winnow` at 80x24 in a PtyTerminal, and visits the sample
in the main view, the full-text view (v), the compare pane (c, against a sample with the same
prompt) and the search dialog (/: the entry pasted, then its marker searched for). Every payload
carries a unique ASCII marker (HX017Q...), so a leaked sequence names the entry it came from.
The full suite visits every entry in three placements (216 visits, ~3.5 s each); --quick six.

Checks, on every byte the app wrote (`term.raw`):
* it is UTF-8, and once the sequences winnow/Textual itself emits are removed (ALLOWED below,
  derived from a run on plain text and Textual's Linux driver), nothing a terminal acts on is
  left: no ESC, no C0 control, no DEL, no C1, no bidi/zero-width/format/tag character, no run of
  variation selectors;
* no payload sequence of the entry (e.g. ``ESC ]0;HX017Q``) occurs at all.
And on the emulated screen (pyte):
* the visible text of the sample is `sanitize(text)` (compared over the rows that fit, ignoring
  whitespace, which wrapping moves; wide characters take their two cells), in every view;
* markup-like text shows literally; clicking on it does nothing;
* pasted into the search box, the entry shows sanitised, and a key typed next lands after it;
  its marker typed and searched for finds the sample;
* the app is still running, the window title was never set, and `q` quits it with status 0.
"""

from __future__ import annotations

import json
import random
import re
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pyte
import wcwidth

from reliability import Outcome, Scenario
from reliability.term import WINNOW, PtyTerminal, winnow_env

COLS, ROWS = 80, 24
PLACEMENTS = ("system", "user", "assistant", "tool_call", "tool", "tag", "note")
ONE_LINE = ("tag", "note")  # shown in one-line bars, so only entries of modest size go there

# What winnow (Textual 8 on Linux) itself writes. Derived from `winnow open` on plain text and
# textual/drivers/linux_driver.py: SGR colours and absolute cursor moves for every frame; the DEC
# private modes it sets and resets (alt screen, cursor, mouse, focus, bracketed paste, autowrap,
# synchronized output); its mode queries; the kitty keyboard push/pop; OSC 22 (pointer shape,
# lower-case names only); and CR LF, which is the pty's ONLCR turning the app's LF into CR LF.
# Nothing else: no OSC 0/2 (title), OSC 8 (links), OSC 52 (clipboard), DCS, APC, no bare CR.
ALLOWED = re.compile(
    r"\x1b\[(?:\d{1,3}(?:;\d{1,3})*)?m"  # SGR
    r"|\x1b\[\d{1,4};\d{1,4}H"  # CUP
    r"|\x1b\[\?(?:7|25|1000|1003|1004|1006|1015|1016|1049|2004|2026|2048)[hl]"  # DECSET/DECRST
    r"|\x1b\[\?(?:2026|2048)\$p"  # DECRQM
    r"|\x1b\[>\d{1,2}u|\x1b\[<u"  # kitty keyboard protocol push / pop
    r"|\x1b\]22;[a-z-]{1,20}\x07"  # pointer shape
    r"|\r\n"
)
# Characters that must not reach the terminal, defined independently of review.sanitize's tables:
# C0 (CR LF handled above), DEL, C1; format characters (Cf: bidi, zero-width, BOM, tags,
# interlinear annotation, Egyptian format controls...) except the prepended concatenation marks,
# which are visible glyphs; lone surrogates; line/paragraph separators; noncharacters; and every
# Default_Ignorable_Code_Point (Unicode's own list of what renders as nothing: CGJ, Hangul
# fillers, Khmer inherent vowels, variation selectors...). Two exceptions, the ones sanitize
# documents: a ZWJ inside an emoji sequence and one variation selector after a visible character.
_DEFAULT_IGNORABLE = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)  # DerivedCoreProperties.txt, Unicode 15.1
_VISIBLE_CF = frozenset("\u0600\u0601\u0602\u0603\u0604\u0605\u06dd\u070f\u0890\u0891\u08e2\U000110bd\U000110cd")
_ZWJ = "\u200d"


def _leaky(ch: str) -> bool:
    cp = ord(ch)
    if cp < 0x20 or 0x7F <= cp <= 0x9F or (cp & 0xFFFE) == 0xFFFE or 0xFDD0 <= cp <= 0xFDEF:
        return True
    if any(lo <= cp <= hi for lo, hi in _DEFAULT_IGNORABLE):
        return True
    return unicodedata.category(ch) in ("Cf", "Cs", "Zl", "Zp") and ch not in _VISIBLE_CF


def _is_vs(ch: str) -> bool:
    cp = ord(ch)
    return 0xFE00 <= cp <= 0xFE0F or 0xE0100 <= cp <= 0xE01EF or cp in (0x180B, 0x180C, 0x180D, 0x180F)


def _pictograph(ch: str) -> bool:
    cp = ord(ch)
    return 0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x2300 <= cp <= 0x23FF or 0x2B00 <= cp <= 0x2BFF


def leaks(raw: bytes) -> list[str]:
    """What in the app's output a terminal would act on, or would hide, with its context."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return [f"output is not UTF-8 at byte {e.start}: {raw[max(e.start - 30, 0) : e.start + 10]!r}"]
    rest = ALLOWED.sub("", text)
    found: list[str] = []
    for m in re.finditer(r"[^\x20-\x7e]", rest):  # printable ASCII is always fine
        i, ch = m.start(), m.group()
        prev = rest[i - 1] if i else ""
        if ch == _ZWJ:
            base = rest[i - 2] if prev and _is_vs(prev) and i > 1 else prev
            ok = _pictograph(base) and i + 1 < len(rest) and _pictograph(rest[i + 1])
        elif _is_vs(ch):
            ok = bool(prev) and not prev.isspace() and not _is_vs(prev) and not _leaky(prev)
        else:
            ok = not _leaky(ch)
        if not ok:
            found.append(f"U+{ord(ch):04X} in …{rest[max(i - 30, 0) : i + 20]!r}…")
            if len(found) >= 5:
                break
    return found


# ---------------------------------------------------------------------------------------- corpus


@dataclass(frozen=True)
class Entry:
    name: str
    kind: str  # markup | escape | c0 | invisible | huge | cjk | emoji | combining | edge
    text: str
    needles: tuple[str, ...] = ()  # payload sequences (each holding the marker) never to be written
    literal: tuple[str, ...] = ()  # text that must appear on screen as is

    @property
    def small(self) -> bool:
        return len(self.text) <= 2000 and self.text.count("\n") <= 20


def _tags(s: str) -> str:
    return "".join(chr(0xE0000 + ord(c)) for c in s)


# (name, kind, text, needles, literal); § stands for the entry's marker.
_RAW: list[tuple[str, str, str, tuple[str, ...], tuple[str, ...]]] = [
    # markup-like text: Rich/Textual markup, emoji codes, markdown, HTML
    ("markup close", "markup", "[/] § [/]", (), ("[/] §",)),
    ("markup action", "markup", "[@click=app.quit]§ click me[/]", (), ("[@click=app.quit]§",)),
    ("markup link", "markup", "[link=https://evil.example/§]click[/link]", (), ("[link=https://evil.example/§]",)),
    ("markup styles", "markup", "[bold]§[/bold] [/bold] [red on blue]x[/] [b][i]y", (), ("[bold]§[/bold]",)),
    ("markup chat", "markup", "[INST] § [/INST] list[int] [Alice]: hi [[x]] \\[y\\]", (), ("[INST] §",)),
    ("markup content", "markup", "$accent §[$text-muted]m[/] :warning: :red_heart: :thumbs_up:", (), (":warning:",)),
    ("markdown html", "markup", "**§** <script>alert(1)</script> `[/]` [x](javascript:y)", (), ("**§**",)),
    # escape sequences: CSI
    ("CSI SGR", "escape", "\x1b[31m§ red\x1b[0m plain", ("\x1b[31m§",), ()),
    ("CSI clear home", "escape", "\x1b[2J\x1b[H§ top", ("\x1b[H§",), ()),
    ("CSI alt screen off", "escape", "\x1b[?1049l§ \x1b[?25h\x1b[?1000l", ("\x1b[?1049l§",), ()),
    ("CSI device status", "escape", "\x1b[6n§ \x1b[c \x1b[>c", ("\x1b[6n§",), ()),
    ("CSI paste end", "escape", "\x1b[201~§ \x1b[200~", ("\x1b[201~§",), ()),
    ("CSI kitty keys", "escape", "\x1b[>31u§\x1b[?2026h", ("\x1b[>31u§",), ()),
    ("CSI cursor moves", "escape", "abc\x1b[3D§\x1b[1A\x1b[99C\x1b[K", ("\x1b[3D§",), ()),
    # OSC, with BEL and with ST
    ("OSC 0 title", "escape", "\x1b]0;§ pwned\x07 after", ("\x1b]0;§",), ()),
    ("OSC 2 title ST", "escape", "\x1b]2;§\x1b\\ after", ("\x1b]2;§",), ()),
    (
        "OSC 8 link",
        "escape",
        "\x1b]8;;https://evil.example/§\x1b\\click\x1b]8;;\x1b\\",
        ("\x1b]8;;https://evil.example/§",),
        (),
    ),
    ("OSC 52 clipboard", "escape", "\x1b]52;c;§cHduZWQ=\x07", ("\x1b]52;c;§",), ()),
    ("OSC 22 pointer", "escape", "\x1b]22;§\x07 \x1b]22;pointer\x07", ("\x1b]22;§",), ()),
    ("OSC 7 / 1337", "escape", "\x1b]7;file://§/etc\x07\x1b]1337;File=name=§:AAAA\x07", ("\x1b]7;file://§",), ()),
    # DCS, APC, PM, SOS
    ("DCS", "escape", "\x1bP1$qm§\x1b\\ after", ("\x1bP1$qm§",), ()),
    ("DCS sixel", "escape", "\x1bPq#0;2;0;0;0§#0~~@@\x1b\\", ("\x1bPq#0;2;0;0;0§",), ()),
    ("APC kitty image", "escape", "\x1b_Gf=100,a=T;§AAAA\x1b\\", ("\x1b_Gf=100,a=T;§",), ()),
    ("PM", "escape", "\x1b^§ privacy\x1b\\", ("\x1b^§",), ()),
    ("SOS", "escape", "\x1bX§ string\x1b\\", ("\x1bX§",), ()),
    # single-character escapes
    ("ESC reset", "escape", "§\x1bc after reset", ("§\x1bc",), ()),
    ("ESC charset", "escape", "\x1b(0§lqqk\x1b(B", ("\x1b(0§",), ()),
    ("ESC DECALN", "escape", "\x1b#8§ \x1b7\x1b8 \x1bD\x1bM\x1b=", ("\x1b#8§",), ()),
    # 8-bit C1
    ("C1 CSI", "escape", "x\x9b31m§ \x9b2J", ("\x9b31m§",), ()),
    ("C1 OSC ST", "escape", "\x9d0;§\x9c after", ("\x9d0;§",), ()),
    ("C1 DCS APC", "escape", "\x90§\x9c \x9f§\x9c \x84\x85\x8d\x9e", ("\x90§",), ()),
    # partial and unterminated sequences
    ("OSC unterminated", "escape", "before \x1b]0;§ never ends", ("\x1b]0;§",), ()),
    ("CSI unterminated", "escape", "§ \x1b[31;", ("\x1b[31;",), ()),
    ("DCS unterminated", "escape", "\x1bP§ no end", ("\x1bP§",), ()),
    ("ESC at line end", "escape", "§ first\x1b\nsecond\x1b\nthird \x1b", (), ()),
    ("ESC ESC", "escape", "\x1b\x1b[§m \x1b\x1b", ("\x1b[§",), ()),
    ("ESC at the end", "escape", "§ ends with\x1b", (), ()),
    # C0 controls
    ("CR overwrite", "c0", "safe text\r§ EVIL", ("\r§",), ()),
    ("BS erase", "c0", "keep\x08\x08\x08\x08§", ("\x08§",), ()),
    ("NUL DEL", "c0", "a\x00§b\x7f§", ("\x00§", "\x7f§"), ()),
    ("BEL ENQ", "c0", "\x07§ \x05§", ("\x07§", "\x05§"), ()),
    ("SO SI VT FF", "c0", "\x0e§\x0f \x0b§ \x0c§", ("\x0e§", "\x0b§", "\x0c§"), ()),
    (
        "C0 rest",
        "c0",
        "\x01\x02\x03\x04\x06\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1c\x1d\x1e\x1f§",
        ("\x1f§",),
        (),
    ),
    ("tabs", "c0", "§\tcol\t\tcol3\n\tindented\t中\tx", (), ()),
    # invisible characters
    ("zero-width", "invisible", "pass\u200b§\u200cword\u2060x\u200d§", ("\u200b§", "\u200d§"), ()),
    ("bidi overrides", "invisible", "file\u202e§gnp.exe \u202a\u202b\u202c\u202d", ("\u202e§",), ()),
    ("bidi isolates", "invisible", "\u2066§\u2069 \u2067x\u2069 \u2068y\u2069 \u200e\u200f\u061c", ("\u2066§",), ()),
    ("BOM", "invisible", "\ufeff§ \ufeff", ("\ufeff§",), ()),
    ("tag smuggling", "invisible", "hi" + _tags("§ ignore the goal") + " there §", (_tags("§"),), ()),
    ("variation run", "invisible", "❤\ufe0f\ufe0f\ufe0f§ \U000e0100\U000e0101x", ("\ufe0f\ufe0f§",), ()),
    (
        "soft hyphen etc",
        "invisible",
        "in\u00advisible§\u2062\u2063\u2064\u180e\u3164\uffa0 a\u034fb \u17b4\u17b5",
        ("\u00advisible§",),
        (),
    ),
    ("separators", "invisible", "line\u2028§\u2029para \ufff9a\ufffab\ufffb", ("\u2028§",), ()),
    ("format controls", "invisible", "\U00013430§\U00013437\U00013438 \U0001d173x\U0001d17a", ("\U00013430§",), ()),
    ("mongolian fvs", "invisible", "ᠠ\u180b\u180c\u180d§", ("\u180c\u180d§",), ()),
    # huge
    ("100k line", "huge", "§" + "x" * 100_000, (), ()),
    ("100k words", "huge", "§ " + "lorem ipsum dolor " * 6000, (), ()),
    ("5000 lines", "huge", "§\n" + "\n".join(f"line {i}" for i in range(5000)), (), ()),
    ("100k CJK", "huge", "§" + "漢字かな한국어" * 15000, (), ()),
    ("many escapes", "huge", "\x1b[31m§" * 3000, ("\x1b[31m§",), ()),
    # JSON nested 100k deep: as a tool call's arguments the review screen tries to indent it
    ("deep JSON", "huge", '{"§": ' + "[" * 100_000 + "]" * 100_000 + "}", (), ()),
    # CJK, emoji, combining, right edge
    ("CJK", "cjk", "§ 中文测试，漢字かなカナ한국어 ＡＢＣ１２３ 「引用」。", (), ()),
    ("CJK long", "cjk", "§" + "这是一个很长的中文句子没有空格" * 12, (), ()),
    ("emoji ZWJ", "emoji", "§ 👨‍👩‍👧‍👦 🏳️‍🌈 🧑🏻‍💻 👍🏽 ❤️ 1️⃣", (), ()),
    ("flags", "emoji", "§ 🇫🇷🇯🇵🇺🇸 🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f", (), ()),
    (
        "combining",
        "combining",
        "§ e\u0301 a\u0300\u0301\u0302\u0303\u0304 z" + "\u0336\u0337\u0338" * 10 + " नमस्ते ไทย",
        (),
        (),
    ),
    ("RTL letters", "combining", "§ שלום עולם مرحبا بالعالم", (), ()),
]
for _k in range(72, 78):  # a wide character straddling the body's right edge, at each offset
    _RAW.append((f"wide at edge {_k}", "edge", "§" + "a" * (_k - 6) + "中文字😀", (), ()))


def corpus() -> list[Entry]:
    out = []
    for i, (name, kind, text, needles, literal) in enumerate(_RAW):
        m = f"HX{i:03d}Q"

        def sub(s: str, m: str = m) -> str:
            return s.replace(_tags("§"), _tags(m)).replace("§", m)

        out.append(Entry(name, kind, sub(text), tuple(map(sub, needles)), tuple(map(sub, literal))))
    return out


def marker(e: Entry) -> str:
    return re.search(r"HX\d{3}Q", e.text).group()  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------- project

SYSTEM_PLAIN = "You are a support assistant."
USER_PLAIN = "Where is my order?"
ANSWER_PLAIN = "It ships tomorrow."
TWIN_ANSWER = "A different answer, for comparison."
GOAL = "Answer support questions briefly."
SOURCE = "hostile.jsonl"
LABELS = {"system": "SYSTEM", "user": "USER", "assistant": "ASSISTANT", "tool_call": "TOOL CALL", "tool": "TOOL RESULT"}


def record(text: str, placement: str, answer: str) -> dict:
    """An OpenAI `messages` record with `text` in the given place (tag and note: plain record)."""
    system = text if placement == "system" else SYSTEM_PLAIN
    user = text if placement == "user" else USER_PLAIN
    msgs: list[dict] = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    if placement in ("tool_call", "tool"):
        query = text if placement == "tool_call" else "order 42"
        args = json.dumps({"q": query}, ensure_ascii=False)
        if placement == "tool_call" and text.startswith("{"):
            args = text  # JSON entries are the arguments themselves
        call = {"name": "lookup", "arguments": args}
        msgs.append(
            {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": call}]}
        )
        msgs.append(
            {
                "role": "tool",
                "tool_call_id": "c1",
                "name": "lookup",
                "content": text if placement == "tool" else "found",
            }
        )
    msgs.append({"role": "assistant", "content": text if placement == "assistant" else answer})
    return {"messages": msgs}


def sections(rec: dict) -> list[tuple[str, str]]:
    """(header as shown, content) per section, as the review screen orders them."""
    out = []
    for m in rec["messages"]:
        if m["role"] == "system":
            out.append(("SYSTEM", m["content"]))
        elif m["role"] == "user":
            out.append(("USER", m["content"]))
        elif m["role"] == "tool":
            out.append(("TOOL RESULT · lookup", m["content"]))
        elif m.get("tool_calls"):
            fn = m["tool_calls"][0]["function"]
            try:
                pretty = {"name": fn["name"], "arguments": json.loads(fn["arguments"])}
            except RecursionError:  # shown as the string it is
                pretty = fn
            out.append(("TOOL CALL · lookup", json.dumps(pretty, ensure_ascii=False, indent=2)))
        else:
            out.append(("ASSISTANT", m["content"]))
    return out


def build(folder: Path, entry: Entry, placement: str) -> tuple[Path, dict, str]:
    """A project with the hostile sample (#1) and a twin with the same prompt (#2); its raw line."""
    from review.store import Change, Store

    folder.mkdir(parents=True, exist_ok=True)
    rec = record(entry.text, placement, ANSWER_PLAIN)
    twin = record(entry.text, placement, TWIN_ANSWER)
    if placement == "assistant":
        twin["messages"][-1]["content"] = TWIN_ANSWER
    raw = json.dumps(rec, ensure_ascii=False)
    src = folder / SOURCE
    src.write_text(raw + "\n" + json.dumps(twin, ensure_ascii=False) + "\n", encoding="utf-8")
    db = folder / "hostile.db"
    with Store(db) as store:
        store.import_file(src)
        store.add_goal(GOAL)
        if placement in ONE_LINE:
            store.apply(1, [Change(1, placement, value=entry.text)])
    return db, rec, raw


# ---------------------------------------------------------------------------------------- screen


class GraphemeScreen(pyte.Screen):
    """A pyte screen that places whole grapheme clusters, as Rich 15 and current terminals do.

    pyte draws code point by code point and stops a chunk at the first zero-width character that
    is not a combining mark, so everything after a ZWJ or VS16 (👨‍👩‍👧, ❤️) would vanish, and a
    family emoji would take 8 cells where Rich reserves 2. Here each cluster takes the cells
    `wcwidth.wcswidth` gives it (2 for 👨‍👩‍👧, as Rich), in its first cell; a zero-width piece
    that arrives alone (a style change inside a cluster) joins the cell before it.
    """

    def draw(self, data: str) -> None:
        data = data.translate(self.g1_charset if self.charset else self.g0_charset)
        for g in wcwidth.iter_graphemes(data):
            width = wcwidth.wcswidth(g)
            if width == 0:
                self._join(g)
                continue
            width = max(width, 1)
            if self.cursor.x >= self.columns:
                if pyte.modes.DECAWM in self.mode:
                    self.carriage_return()
                    self.linefeed()
                else:
                    self.cursor.x = self.columns - width
            line = self.buffer[self.cursor.y]
            line[self.cursor.x] = self.cursor.attrs._replace(data=g)
            for x in range(self.cursor.x + 1, min(self.cursor.x + width, self.columns)):
                line[x] = self.cursor.attrs._replace(data="")
            self.cursor.x = min(self.cursor.x + width, self.columns)
        self.dirty.add(self.cursor.y)

    def _join(self, piece: str) -> None:
        line = self.buffer[self.cursor.y]
        x = self.cursor.x - 1
        while x > 0 and line[x].data == "":
            x -= 1
        if x >= 0:
            line[x] = line[x]._replace(data=line[x].data + piece)

    @property
    def display(self) -> list[str]:
        return [
            "".join(line[x].data for x in range(self.columns)) for line in (self.buffer[y] for y in range(self.lines))
        ]


class Terminal(PtyTerminal):
    """PtyTerminal with the GraphemeScreen."""

    def __init__(self, argv: list[str], *, env: dict[str, str], cols: int = COLS, rows: int = ROWS) -> None:
        super().__init__(argv, env=env, cols=cols, rows=rows, screen_class=GraphemeScreen)


def nows(s: str) -> str:
    """The text without whitespace: wrapping moves and pads whitespace, never anything else."""
    return "".join(s.split())


def settle(term: Terminal, before: int | None = None, quiet: float = 0.08, timeout: float = 8.0) -> None:
    """Wait until the app has written more than `before` bytes (when given), then until it has
    written nothing for `quiet` seconds: the frame answering the last key is complete."""
    end = time.monotonic() + timeout
    while before is not None and len(term.raw) <= before and time.monotonic() < end:
        time.sleep(0.02)
    seen = -1
    while time.monotonic() < end:
        n = len(term.raw)
        if n == seen:
            return
        seen = n
        time.sleep(quiet)


def press(term: Terminal, keys: str | bytes, expect: str | None = None, *, repaints: bool = True) -> None:
    """Send keys; wait for `expect` on screen, and for the repaint to end."""
    before = len(term.raw)
    term.send(keys)
    if expect:
        term.wait_for(expect, timeout=15)
    settle(term, before if repaints else None)


def cells(term: Terminal, y: int, x0: int = 0, x1: int = COLS) -> str:
    """Row y, columns x0..x1-1, as the emulator holds them (a wide character's stub cell is '')."""
    with term.lock:  # the reader thread feeds the screen
        line = term.screen.buffer[y]
        return "".join(line[x].data for x in range(x0, x1))


@dataclass
class Shown:
    header: str
    body: list[str]
    ended: bool  # the next header (or the clipped-text line) is on screen too
    clipped: bool


MORE = re.compile(r"… [\d,]+ more (characters|turns) — press v")


def pane(term: Terminal, y0: int, y1: int, hx: int, bx: int, ex: int) -> list[Shown]:
    """The sections visible in rows y0..y1-1: headers start with ▌ at column hx, bodies at bx."""
    out: list[Shown] = []
    for y in range(y0, y1):
        head = cells(term, y, hx, ex).rstrip()
        if head.startswith("▌"):
            if out:
                out[-1].ended = True
            out.append(Shown(head[1:], [], False, False))
        elif out and not out[-1].ended:
            row = cells(term, y, bx, ex)
            if MORE.search(row):
                out[-1].ended = out[-1].clipped = True
            else:
                out[-1].body.append(row)
    return out


def check_section(got: Shown, content: str, where: str) -> str | None:
    """None if the section shows sanitize(content), as far as it is visible; else why not."""
    from review.sanitize import sanitize

    body = "\n".join(got.body)
    same = "= same on both sides: "
    if got.body and got.body[0].lstrip().startswith(same):
        # the compare pane's one-line summary of a section both samples share
        seen = nows(got.body[0].split(same, 1)[1]).removesuffix("…")
        want = nows(sanitize(content[:200], oneline=True))
        return None if want.startswith(seen) else f"{where}: {got.header}: shows {seen[:80]!r}, not {want[:80]!r}"
    seen, want = nows(body), nows(sanitize(content))
    if not want.startswith(seen):
        at = next((i for i, (a, b) in enumerate(zip(seen, want)) if a != b), min(len(seen), len(want)))
        return (
            f"{where}: {got.header}: screen differs from sanitize(text) at character {at}: "
            f"shows {seen[max(at - 20, 0) : at + 20]!r}, expected {want[max(at - 20, 0) : at + 20]!r}"
        )
    if got.ended and not got.clipped and seen != want:
        return f"{where}: {got.header}: shows {len(seen)} of {len(want)} characters and then the next section"
    if got.clipped and not seen:
        return f"{where}: {got.header}: clipped before anything was shown"
    return None


def input_value(term: Terminal) -> str:
    """The text in the dialog's input box (between its ▊ and ▎ borders), without whitespace."""
    rows = term.text().split("\n")
    row = next((r for r in rows if "▊" in r and "▎" in r and "▔" not in r and "▁" not in r), None)
    return nows(row.split("▊", 1)[1].rsplit("▎", 1)[0]) if row else ""


def wait_value(term: Terminal, good, timeout: float = 15.0) -> str:
    """The input box's text once good(text) holds, or as it is after `timeout` seconds."""
    end = time.monotonic() + timeout
    seen = input_value(term)
    while not good(seen) and time.monotonic() < end:
        time.sleep(0.05)
        seen = input_value(term)
    return seen


# ---------------------------------------------------------------------------------------- a trial


def visit(term: Terminal, entry: Entry, placement: str, rec: dict, raw: str) -> list[str]:
    """Drive the app through every view of the sample; what was wrong on screen."""
    from review.sanitize import sanitize, suspicious

    problems: list[str] = []
    expected = dict(sections(rec))
    twin = dict(sections(record(entry.text, placement, TWIN_ANSWER)))
    if placement == "assistant":
        twin["ASSISTANT"] = TWIN_ANSWER

    def check(shown: list[Shown], want: dict[str, str], where: str) -> int:
        n = 0
        for s in shown:
            if s.header not in want:
                problems.append(f"{where}: unexpected header {s.header!r}")
                continue
            why = check_section(s, want[s.header], where)
            if why:
                problems.append(why)
            n += 1
        return n

    # main view
    term.wait_for(r"#1 / 2", timeout=30)
    settle(term)
    label = LABELS.get(placement)
    shown = pane(term, 4, ROWS - 1, 1, 3, COLS - 1)
    # The sample and its twin share their system prompt: drawn again once the screen has counted
    # that, it is one line (render.system_line), which must show the start of the sanitised
    # prompt; then p shows it whole and the sections are checked as always.
    collapsed = [sh for sh in shown if sh.header.startswith("SYSTEM · same as 1 other sample · p shows it")]
    if collapsed:
        start = collapsed[0].header.split(" — ", 1)[1] if " — " in collapsed[0].header else ""
        seen = nows(start).removesuffix("…")
        want = nows(sanitize(expected["SYSTEM"], oneline=True))
        if not want.startswith(seen):
            problems.append(f"main view: the system line shows {seen[:60]!r}, not the start of {want[:60]!r}")
        press(term, "p")
        shown = pane(term, 4, ROWS - 1, 1, 3, COLS - 1)
    check(shown, expected, "main view")
    if label and not any(s.header.startswith(label) for s in shown):
        problems.append(f"main view: the {label} section is not on screen")
    if placement in ONE_LINE:
        bar = cells(term, 2)
        key = {"tag": "tags: ", "note": "note: "}[placement]
        if key not in bar:
            problems.append(f"decision bar: no {key!r} in {bar.strip()!r}")
        else:
            # what follows the value: "  note: …" or "  · queue: …" (perhaps cut to "  ·…")
            seen = re.split(r"  note: |  ·", bar.split(key, 1)[1])[0]
            seen = nows(seen).removesuffix("…")
            want = nows(sanitize(entry.text, oneline=True))
            if not seen or not want.startswith(seen):
                problems.append(f"decision bar: {key}shows {seen[:60]!r}, not the start of {want[:60]!r}")
    else:
        hidden = [c for _, text in sections(rec) for c in suspicious(text)]
        if bool(hidden) != ("hidden text" in cells(term, 3)):
            problems.append(f"flag bar: {cells(term, 3).strip()!r}, but the classes found are {hidden}")
    screen = term.text()
    for lit in entry.literal:
        if placement not in ONE_LINE and lit not in screen:
            problems.append(f"main view: {lit!r} is not shown literally")
    if entry.literal and placement not in ONE_LINE:
        # Click on the markup-like text: an [@click=...] that had become markup would act.
        lines = screen.split("\n")
        at = next(((y, row.find(entry.literal[0])) for y, row in enumerate(lines) if entry.literal[0] in row), None)
        if at:
            y, x = at
            press(term, f"\x1b[<0;{x + 2};{y + 1}M\x1b[<0;{x + 2};{y + 1}m", repaints=False)
            if not term.alive() or "#1 / 2" not in term.text():
                problems.append("clicking on the markup-like text changed the screen or ended the app")
                return problems

    # full-text view: from the top, then from the end
    press(term, "v", r"full text · ")
    full = [(h, c) for h, c in sections(rec)] + [(f"RAW RECORD ({SOURCE} line 1)", raw)]
    want_text = sanitize("\n".join(f"▌{h}\n{c}\n" for h, c in full))
    want_full = nows(want_text)
    top = nows("".join(cells(term, y, 0, COLS - 1) for y in range(1, ROWS - 1)))
    if not want_full.startswith(top):
        at = next((i for i, (a, b) in enumerate(zip(top, want_full)) if a != b), 0)
        problems.append(
            f"full text (top): differs at character {at}: shows {top[max(at - 20, 0) : at + 20]!r}, "
            f"expected {want_full[max(at - 20, 0) : at + 20]!r}"
        )
    # G repaints only when the text is longer than the screen; wait for that repaint if so.
    rows = sum(-(-max(wcwidth.wcswidth(line), len(line)) // (COLS - 1)) or 1 for line in want_text.split("\n"))
    press(term, "G", repaints=rows > ROWS - 2)
    end = nows("".join(cells(term, y, 0, COLS - 1) for y in range(1, ROWS - 1)))
    if not end or not want_full.endswith(end):
        problems.append(f"full text (end): shows …{end[-60:]!r}, expected …{want_full[-60:]!r}")
    press(term, "q", r"#1 / 2")

    # compare pane (stacked at 80 columns): this sample above, its twin below; it stays open
    # for the search, which works the same with it
    press(term, "c", r"#2 +○ undecided")
    rule = next((y for y in range(4, ROWS - 1) if cells(term, y).startswith("▔▔▔▔")), None)
    if rule is None:
        problems.append("compare: no compare pane on screen")
    else:
        check(pane(term, 4, rule, 1, 3, COLS - 1), expected, "compare (this sample)")
        check(pane(term, rule + 2, ROWS - 1, 1, 3, COLS - 1), twin, "compare (related sample)")

    # search dialog: the entry pasted (bracketed paste), then a search for its marker
    press(term, "/", r"Search: show only samples")
    if entry.small:
        # Without its ESC characters: Textual's input parser reissues an escape sequence inside a
        # bracketed paste as key presses (so "\x1b]0;..." types "^]0;..."), and terminals drop
        # ESC from pastes anyway (xterm's allowPasteControls is off by default).
        pasted = entry.text.replace("\x1b", "").replace("\x00", "")  # Textual drops NUL from pastes
        press(term, b"\x1b[200~" + pasted.encode() + b"\x1b[201~", repaints=bool(pasted.strip()))
        want = nows(sanitize(pasted, oneline=True))
        # The repaint of a long paste can come after the output went quiet on a loaded machine
        # (seen once in 216 trials: the placeholder still showing): wait for it, then judge.
        seen = wait_value(term, lambda v: bool(v) and v in want)
        if not seen or seen not in want:
            problems.append(f"search: the pasted text shows as {seen[:60]!r}, not part of {want[:60]!r}")
        # A key typed next lands after the pasted text, as shown: the input replaced hidden
        # characters by longer markers, and the cursor must have moved with them.
        press(term, "Z")
        seen = wait_value(term, lambda v: v.endswith("Z"))
        if not seen.endswith("Z") or not (want + "Z").endswith(seen):
            problems.append(f"search: typing after the paste gives {seen[-60:]!r}, not …{(want + 'Z')[-60:]!r}")
    if placement not in ONE_LINE:
        m = marker(entry)
        i = entry.text.find(m) + len(m)
        # Non-ASCII entries: the marker and the characters after it, up to the first one that is
        # not a whole character by itself (typed one key at a time, a ZWJ would dangle).
        tail = entry.text[i : i + 5] if entry.kind in ("cjk", "emoji", "combining") else ""
        tail = re.split(r"[\n\u200d\ufe0f\U0001f3fb-\U0001f3ff\u0300-\u036f]", tail)[0]
        term_ = (m + tail).strip()
        press(term, "\x15")  # ctrl+u, then ctrl+k: clear the input on both sides of the cursor
        press(term, "\x0b", repaints=False)
        press(term, term_)
        try:
            press(term, "\r", r"queue: search “" + re.escape(term_[:20]))
        except AssertionError:
            problems.append(f"search for {term_!r} did not switch to the search queue:\n{term.text()}")
        if "#1 / 2" not in term.text():
            problems.append(f"search for {term_!r} did not find the sample:\n{term.text()}")
    else:
        press(term, "\x1b")
    return problems


def run_trial(out: Outcome, entry: Entry, placement: str, folder: Path) -> int:
    """One entry in one place, every view; returns the bytes the app wrote."""
    db, rec, raw = build(folder, entry, placement)
    m = marker(entry)
    where = f"{entry.name} [{m}] in {placement}"
    with Terminal([str(WINNOW), "open", str(db)], env=winnow_env(folder)) as term:
        try:
            problems = visit(term, entry, placement, rec, raw)
        except AssertionError as e:  # a screen that never came
            problems = [str(e)]
        # pyte reads Textual's OSC 22 (pointer shape) as a title ";default": that one is allowed.
        if not re.fullmatch(r"(;[a-z-]+)?", term.screen.title) or term.screen.icon_name:
            problems.append(f"the terminal title was set to {term.screen.title!r} / {term.screen.icon_name!r}")
        if not term.alive():
            problems.append(f"winnow exited on its own (status {term.wait_exit(1)})")
        else:
            term.send("q")
            code = term.wait_exit(20)
            if code != 0:
                problems.append(f"q did not quit cleanly: exit status {code}")
        written = bytes(term.raw)
    for why in leaks(written):
        problems.append(f"reached the terminal: {why}")
    for needle in entry.needles:
        if needle.encode() in written:
            problems.append(f"the payload sequence {needle!r} was written to the terminal")
    for p in problems:
        out.fail(f"{where}: {p}")
    return len(written)


def plan(trials: int, rng: random.Random) -> list[tuple[Entry, str]]:
    """Every entry in three placements (tag and note only for entries of modest size), shuffled;
    a run of fewer trials takes a random subset of them."""
    pairs: list[tuple[Entry, str]] = []
    for i, e in enumerate(corpus()):
        places = [p for p in PLACEMENTS if e.small or p not in ONE_LINE]
        pairs += [(e, places[(i + k * 3) % len(places)]) for k in range(3)]
    rng.shuffle(pairs)
    return pairs[:trials] if trials <= len(pairs) else pairs + [rng.choice(pairs) for _ in range(trials - len(pairs))]


def run(out: Outcome, trials: int, work: Path, rng: random.Random) -> None:
    if not WINNOW.exists():
        out.skip(f"needs the installed winnow script ({WINNOW}): pip install -e .")
        return
    written = 0
    for n, (entry, placement) in enumerate(plan(trials, rng)):
        written += run_trial(out, entry, placement, work / f"t{n:03d}")
        out.trials += 1
    out.note(f"{out.trials} visits (one corpus entry in one placement each); corpus: {len(corpus())} entries")
    out.note(f"bytes written by winnow: {written:,}")


SCENARIO = Scenario(
    name="hostile-pty",
    checked=(
        "hostile sample text (markup, escape sequences, C0/C1, invisible characters, huge lines, CJK, emoji) "
        "in every role, a tag and a note, seen in the main, full-text, compare and search views of the real "
        "winnow in a pty: nothing but winnow's own sequences reaches the terminal, no payload sequence at all, "
        "and the screen shows sanitize(text)"
    ),
    run=run,
    full=3 * len(_RAW),
    quick=6,
)
