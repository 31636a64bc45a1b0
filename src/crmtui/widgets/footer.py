"""The key bar at the bottom of every screen: Textual's Footer, rebuilt once per change.

Textual's Footer rebuilds all its keys (a widget each, styled one by one) every time its screen
says the bindings may have changed: on each focus change, on each screen pushed over it or
popped off it, and whenever a screen asks (the board greys its card keys when no card is
focused). Several of those arrive between two refreshes (opening the app: six rebuilds; pressing
`d` for the dashboard: ten, seven of them for the board hidden beneath), about 25 ms each.

This one rebuilds once for any number of requests that arrive before the next refresh, and not
while its screen is covered by another: the screen's resume asks again, so it is rebuilt then.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class AppFooter(Footer):
    """A Footer that coalesces its rebuilds (see the module's docstring)."""

    # Compact keys keep a cell of margin on their right; on the palette key, docked at the right
    # edge, that cell let the keys scrolled beneath show through ("^p palettea" at 80 columns).
    DEFAULT_CSS = """
    AppFooter.-compact FooterKey.-command-palette {
        margin-right: 0;
    }
    """

    _rebuild_pending = False

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus or not self.is_attached or screen is not self.screen:
            return
        if screen.app.screen is not screen:
            return  # covered by another screen (even one it shows through): its resume asks again
        if not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild)

    async def _rebuild(self) -> None:
        self._rebuild_pending = False
        if self.is_attached and self.app.screen is self.screen:
            await self.recompose()
