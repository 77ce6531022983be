"""The review screen's key footer: Textual's Footer, less the rebuilds that change nothing.

Textual's Footer recomposes (unmounts and mounts every key again) each time its screen is covered
or uncovered, since a screen announces its bindings again then. Over the review screen that is
every dialog (the queue picker, the drop reasons, search...) opening and closing: the footer
under the dimmed backdrop was rebuilt, identically, and the dialog laid out a second time because
its backdrop changed (issue 16 item 7: the queue picker's paint). `SteadyFooter` recomposes only
when what it shows differs from what it last composed: the active bindings (key, binding,
enabled, tooltip) and whether the palette key is shown.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer


class SteadyFooter(Footer):
    _shown: tuple[Any, ...] | None = None  # what the last compose showed (None: not composed with bindings yet)

    def _showing(self, screen: Screen) -> tuple[Any, ...]:
        bindings = tuple((key, b.binding, b.enabled, b.tooltip) for key, b in screen.active_bindings.items())
        return (bindings, self.show_command_palette, self.app.ENABLE_COMMAND_PALETTE)

    def compose(self) -> ComposeResult:
        composed = False
        for widget in super().compose():  # each as it comes: its `with` blocks stay in order
            composed = True
            yield widget
        # Nothing composed: the bindings were not announced yet, and the next announcement rebuilds.
        self._shown = self._showing(self.screen) if composed else None

    def bindings_changed(self, screen: Screen) -> None:
        if (
            self._shown is not None
            and self.is_attached
            and screen is self.screen
            and self._showing(screen) == self._shown
        ):
            return  # the same keys as on screen: nothing to rebuild
        super().bindings_changed(screen)
