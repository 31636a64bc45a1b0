"""The finder (ctrl+f): type part of a name, email or domain; enter opens the record."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from crmtui.store.search import find_records

ICONS = {"deal": "◆ deal   ", "company": "▣ company", "contact": "● contact"}


class FinderScreen(ModalScreen[None]):
    CSS_PATH = "detail.tcss"
    DEFAULT_CSS = """
    FinderScreen { align: center top; }
    #finder-box { width: 90; max-width: 100%; height: auto; max-height: 80%; margin-top: 2;
                  border: round $primary; background: $surface; padding: 0 1; }
    #finder-results { height: auto; max-height: 22; }
    """
    BINDINGS = [
        Binding("escape", "close", "Close", id="finder.close"),
        Binding("down", "to_results", "Results", id="finder.down", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="finder-box"):
            yield Input(placeholder="Find a deal, company or contact by name, email or domain", id="finder-input")
            yield OptionList(id="finder-results")
            yield Static("[dim]enter opens · ↓ to the results · esc closes[/]", markup=True)

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    @on(Input.Changed)
    def _typed(self, event: Input.Changed) -> None:
        with self.app.database.session() as s:
            found = find_records(s, event.value, limit=20)
        results = self.query_one(OptionList)
        results.clear_options()
        results.add_options(
            Option(Text.assemble((ICONS[f.kind] + "  ", "dim"), (f.label, "bold"), ("  " + f.detail, "dim"), no_wrap=True, overflow="ellipsis"), id=f"{f.kind}:{f.id}")
            for f in found
        )
        if found:
            results.highlighted = 0
        elif event.value.strip():
            results.add_option(Option(Text("Nothing matches. Try fewer letters, or part of an email or domain.", style="dim"), disabled=True))

    @on(Input.Submitted)
    def _enter(self) -> None:
        results = self.query_one(OptionList)
        if results.option_count:
            self._open(results.get_option_at_index(results.highlighted or 0).id)

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self._open(event.option.id)

    def _open(self, key: str | None) -> None:
        kind, _, raw = (key or "").partition(":")
        if raw.isdigit():
            self.dismiss(None)
            self.app.open_record(kind, int(raw))

    def action_to_results(self) -> None:
        self.query_one(OptionList).focus()

    def action_close(self) -> None:
        self.dismiss(None)
