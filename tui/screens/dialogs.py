"""Small typed dialogs of the review screen: drop reason, text entry (tag, note, search), jump,
queue choice. Each returns its value through dismiss(); Escape returns None."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from review.model import DEFAULT_REASON, REASONS, Queue
from review.sanitize import sanitize

from ..keys import REASON_KEYS
from ..render import safe


class ReasonDialog(ModalScreen[str | None]):
    """Why is this sample dropped? One key answers.

    The reason keys are bindings, not a key handler: a key typed ahead right after the drop key
    reaches the app before this dialog has mounted, and the app resolves it against the bindings
    of the screen on top by then — this one — so "x2" typed fast still drops as duplicate.
    """

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Cancel", id="drop.cancel"),
        Binding("enter", "pick_suggested", "Suggested reason", id="drop.suggested"),
        Binding("x", f"pick('{DEFAULT_REASON}')", "Default reason", id="drop.default"),
        *(
            Binding(",".join(k for k in keys if k), f"pick('{reason}')", reason, id=f"drop.{reason}")
            for reason, keys in REASON_KEYS.items()
        ),
    ]

    def __init__(self, number: int, suggested: str | None = None) -> None:
        super().__init__()
        self.number = number
        self.suggested = suggested if suggested in REASONS else DEFAULT_REASON

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(f"Drop #{self.number:,} — why?", style="bold"), classes="dialog-title")
            lines = Text()
            for reason, (num, letter) in REASON_KEYS.items():
                keys = f"{num}" + (f"/{letter}" if letter else "")
                lines.append(f" {keys:>4}  ", style="bold")
                lines.append(reason)
                if reason == self.suggested:
                    lines.append("  ← Enter", style="bold green")
                lines.append("\n")
            lines.append(f"\n x = {DEFAULT_REASON} · Esc = do not drop", style="dim")
            yield Static(lines, id="reason-list")

    def action_pick(self, reason: str) -> None:
        self.dismiss(reason)

    def action_pick_suggested(self) -> None:
        self.dismiss(self.suggested)


class SafeInput(Input):
    """An Input whose value never holds terminal controls (pasted text included)."""

    def _on_paste(self, event: events.Paste) -> None:
        # Textual's Input keeps only the first line of a paste and drops the rest silently; here
        # the whole paste goes in, its line breaks and controls shown as visible markers.
        event.stop()
        event.prevent_default()  # Textual would run Input's own handler too
        text = sanitize(event.text, oneline=True)
        if not text:
            return
        if self.selection.is_empty:
            self.insert_text_at_cursor(text)
        else:
            self.replace(text, *self.selection)

    @on(Input.Changed)
    def _clean(self, event: Input.Changed) -> None:
        raw = event.value
        cleaned = sanitize(raw, oneline=True)
        if cleaned != raw:
            # The markers are longer than what they replace: keep the cursor after the same
            # text it was after (the end of a paste), so the next key lands where it shows.
            at = len(sanitize(raw[: self.cursor_position], oneline=True))
            self.value = cleaned
            self.cursor_position = min(at, len(cleaned))


class TextDialog(ModalScreen[str | None]):
    """One line of text: a tag (with completion), a note, a search."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel")]

    def __init__(
        self,
        title: str,
        *,
        value: str = "",
        placeholder: str = "",
        hint: str = "",
        suggestions: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.hint = hint
        self.suggestions = suggestions or []

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(safe(self.title_text, "bold", oneline=True), classes="dialog-title")
            suggester = SuggestFromList(self.suggestions, case_sensitive=False) if self.suggestions else None
            yield SafeInput(
                sanitize(self.value, oneline=True), placeholder=self.placeholder, suggester=suggester, id="dialog-input"
            )
            if self.hint:
                yield Static(safe(self.hint, "dim"), classes="dialog-hint")

    def on_mount(self) -> None:
        inp = self.query_one(Input)
        inp.cursor_blink = getattr(self.app, "cursor_blink", True)
        inp.focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        value = self.accept(event.value)
        if value is not None:
            self.dismiss(value)

    def accept(self, value: str) -> str | None:
        """The value to return, or None to keep the dialog open."""
        return value


class JumpDialog(TextDialog):
    """A sample number."""

    def __init__(self, total: int) -> None:
        super().__init__(f"Jump to sample # (1–{total:,})", placeholder="number", hint="Enter to jump · Esc to cancel")

    def accept(self, value: str) -> str | None:
        digits = value.strip().lstrip("#").replace(",", "")
        if digits.isdigit():
            return digits
        self.notify("type a sample number, e.g. 312", severity="warning")
        return None


class QueueDialog(ModalScreen[Queue | None]):
    """Which samples to step through, each with how many it holds. The counts of queues that
    must be stepped to be counted arrive from a worker (`show_count`); until then they read
    "counting…". An empty queue says what fills it.

    The review screen builds it once and opens the same one on every `f` (`reopen`), so a
    second opening costs no compose, no mount and no styling of new widgets: only the lines
    that changed are redrawn. `generation` counts the openings: a count a worker found for an
    earlier one is not shown on this one."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel")]

    def __init__(self, choices: list[tuple[str, Queue]], current: Queue, counts: dict[int, int] | None = None) -> None:
        super().__init__()
        self.choices = list(choices)
        self.current = current
        self.counts: dict[int, int] = dict(counts or {})  # choice index -> count, once known
        self.generation = 0

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text("Queue — which samples to step through", style="bold"), classes="dialog-title")
            yield OptionList(*self._options(), id="queue-list")

    def _options(self) -> list[Option]:
        return [Option(safe(label, oneline=True), id=str(i)) for i, (label, _) in enumerate(self.choices)]

    def reopen(self, choices: list[tuple[str, Queue]], current: Queue, counts: dict[int, int]) -> None:
        """The next opening, with the lines and counts of now (before it is pushed again)."""
        before = self.choices
        self.generation += 1
        self.choices = list(choices)
        self.current = current
        self.counts = dict(counts)
        if not self.is_mounted:
            return  # compose reads the new lines
        ol = self.query_one(OptionList)
        if [q for _, q in before] == [q for _, q in self.choices]:
            for i, ((label, _), (was, _)) in enumerate(zip(self.choices, before)):
                if label != was:
                    ol.replace_option_prompt_at_index(i, safe(label, oneline=True))
        else:  # a reason, a tag or a noise kind came or went
            ol.clear_options()
            ol.add_options(self._options())
        self._highlight_current(ol)

    def show_count(self, queue: Queue, line: str, count: int, generation: int | None = None) -> None:
        """A count found by the worker: the queue's line now reads `line`."""
        if generation is not None and generation != self.generation:
            return  # counted for an earlier opening
        for i, (_, q) in enumerate(self.choices):
            if q == queue:
                self.counts[i] = count
                self.choices[i] = (line, q)
                if self.is_mounted:
                    self.query_one(OptionList).replace_option_prompt_at_index(i, safe(line, oneline=True))

    def on_mount(self) -> None:
        ol = self.query_one(OptionList)
        for i, (label, _) in enumerate(self.choices):
            ol.replace_option_prompt_at_index(i, safe(label, oneline=True))  # counts that came before the mount
        self._highlight_current(ol)

    def _highlight_current(self, ol: OptionList) -> None:
        for i, (_, q) in enumerate(self.choices):
            if q == self.current:
                ol.highlighted = i
                break
        ol.focus()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[int(event.option.id or 0)][1])


class BatchDialog(ModalScreen[tuple[int, int] | None]):
    """Size and seed of a proposed batch (the same seed proposes the same batch)."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel")]

    def __init__(self, goal_id: int, size: int = 200, seed: int = 0) -> None:
        super().__init__()
        self.goal_id = goal_id
        self.batch_size = size
        self.batch_seed = seed

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(f"Propose a batch under goal #{self.goal_id}", style="bold"), classes="dialog-title")
            yield Static(Text("samples, one per duplicate group, spread over source · move · script · length"))
            yield SafeInput(str(self.batch_size), placeholder="size", id="batch-size", restrict=r"[0-9]*")
            yield Static(Text("seed (the same seed proposes the same batch)", style="dim"))
            yield SafeInput(str(self.batch_seed), placeholder="seed", id="batch-seed", restrict=r"[0-9]*")
            yield Static(Text("Tab moves · Enter proposes · Esc cancels", style="dim"), classes="dialog-hint")

    def on_mount(self) -> None:
        for inp in self.query(Input):
            inp.cursor_blink = getattr(self.app, "cursor_blink", True)
        self.query_one("#batch-size", Input).focus()

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        size = self.query_one("#batch-size", Input).value.strip()
        seed = self.query_one("#batch-seed", Input).value.strip() or "0"
        if not size.isdigit() or int(size) < 1:
            self.notify("a batch needs at least one sample, e.g. 50", severity="warning")
            return
        self.dismiss((int(size), int(seed)))


EXPORT_LAYOUTS: list[tuple[str, str | None]] = [
    ("as imported (each record's own bytes)", None),
    ("alpaca", "alpaca"),
    ("sharegpt", "sharegpt"),
    ("openai messages", "openai"),
]


class ExportDialog(ModalScreen[tuple[str, str | None] | None]):
    """Where to write the kept samples, and in which layout. Returns (path, layout or None)."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="dialog.cancel")]

    def __init__(self, goal_id: int, default_path: str) -> None:
        super().__init__()
        self.goal_id = goal_id
        self.default_path = default_path

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text(f"Export what goal #{self.goal_id} kept", style="bold"), classes="dialog-title")
            yield SafeInput(sanitize(self.default_path, oneline=True), placeholder="output file", id="export-path")
            yield Static(Text("layout", style="dim"))
            yield OptionList(
                *[Option(label, id=str(i)) for i, (label, _) in enumerate(EXPORT_LAYOUTS)], id="export-layout"
            )
            yield Static(
                Text(
                    "a manifest (.manifest.json) beside it says which decisions produced it\n"
                    "Tab: layout · Enter exports · Esc cancels",
                    style="dim",
                ),
                classes="dialog-hint",
            )

    def on_mount(self) -> None:
        inp = self.query_one("#export-path", Input)
        inp.cursor_blink = getattr(self.app, "cursor_blink", True)
        self.query_one("#export-layout", OptionList).highlighted = 0
        inp.focus()

    def _done(self) -> None:
        path = self.query_one("#export-path", Input).value.strip()
        if not path:
            self.notify("type the output file", severity="warning")
            return
        i = self.query_one("#export-layout", OptionList).highlighted or 0
        self.dismiss((path, EXPORT_LAYOUTS[i][1]))

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        event.stop()
        self._done()

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._done()


class ReplaceDialog(ModalScreen[bool]):
    """The export would replace existing files: y replaces them, n or Esc keeps them."""

    CSS_PATH = Path(__file__).with_name("dialogs.tcss")
    BINDINGS = [
        Binding("y", "dismiss(True)", "Replace", id="replace.yes"),
        Binding("n,escape", "dismiss(False)", "Keep", id="replace.no"),
    ]

    def __init__(self, paths: list[str]) -> None:
        super().__init__()
        self.paths = paths

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Text("Replace existing files?", style="bold"), classes="dialog-title")
            shown = self.paths[:5] + ([f"… and {len(self.paths) - 5} more"] if len(self.paths) > 5 else [])
            yield Static(Text("\n".join(sanitize(p, oneline=True) for p in shown)), id="replace-paths")
            yield Static(
                Text(
                    "these files exist and are not an earlier export to this place\ny replaces them · n or Esc keeps them",
                    style="dim",
                ),
                classes="dialog-hint",
            )
