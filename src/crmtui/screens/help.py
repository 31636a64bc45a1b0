"""The help screen (F1 or ?): every key that works on the screen underneath, and the app's."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Static


def _key_label(app, key: str) -> str:  # noqa: ANN001
    return app.get_key_display(Binding(key, "")) if key else key


def _declared_keys(screen: Screen) -> dict[str, str]:
    """Each binding id with every key it was declared with ("r,enter"), from the focused widget
    up to the app. Only one of them may be active: a focused widget's own binding for a key (a
    table's enter) hides the screen's."""
    owners = list(screen.focused.ancestors_with_self) if screen.focused else [screen, screen.app]
    keys: dict[str, str] = {}
    for owner in owners:
        for cls in type(owner).__mro__:
            for binding in cls.__dict__.get("BINDINGS", []):
                if isinstance(binding, Binding) and binding.id:
                    keys.setdefault(binding.id, binding.key)
    return keys


class HelpScreen(ModalScreen[None]):
    """Lists the keys of the screen it was opened over."""

    BINDINGS = [Binding("escape,f1,question_mark,q", "dismiss", "Close", id="help.close")]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self.under = under

    def compose(self) -> ComposeResult:
        with Vertical(id="help-box"):
            yield Static(Text("Keys", style="bold"), classes="screen-title")
            yield DataTable(id="help-table", show_cursor=False, zebra_stripes=True)
            yield Static(
                "ctrl+p opens the command palette. The CLI does the same and more: run [b]crmtui --help[/].",
                markup=True,
            )
            yield Static("[dim]esc closes this help[/]", markup=True)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("Key", "Does")
        seen: set[tuple[str, str]] = set()
        declared = _declared_keys(self.under)
        for key, active in self.under.active_bindings.items():
            binding = active.binding
            description = binding.tooltip or binding.description
            # Our own bindings carry ids; widgets' built-in ones are listed only when shown.
            if not (binding.show or binding.id) or not description or (binding.action, description) in seen:
                continue
            seen.add((binding.action, description))
            keys = " / ".join(_key_label(self.app, k.strip()) for k in declared.get(binding.id, binding.key).split(","))
            table.add_row(keys, description)
        # A page's sections (the deal's Products and Quotes) have keys of their own: listed even
        # while another part of the page has the cursor.
        for section, widget_class in getattr(self.under, "HELP_SECTIONS", ()):
            for binding in widget_class.BINDINGS:
                description = binding.tooltip or binding.description
                if isinstance(binding, Binding) and binding.id and (binding.action, description) not in seen:
                    seen.add((binding.action, description))
                    keys = " / ".join(_key_label(self.app, k.strip()) for k in binding.key.split(","))
                    table.add_row(keys, f"{section}: {description}")
