"""The `n` form: a new deal in seconds, checked field by field (a bad amount or date is shown
under its field, never a crash), with the custom deal fields marked required. Dismisses with the
new deal's id, or None."""

from __future__ import annotations

import sqlite3

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import Suggester
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from crmtui.screens.edit_forms import FormField, field_text, field_widget, required_form_fields
from crmtui.screens.record_screen import field_label
from crmtui.store import board_actions
from crmtui.store.board import BoardStage, company_suggestion
from crmtui.store.dates import parse_date
from crmtui.store.db import Database
from crmtui.store.errors import DatabaseError, NotFound, ValidationError
from crmtui.store.money import parse_amount

# Which input shows an error about which field (ValidationError.field).
_FIELD_INPUT = {
    "title": "qa-title",
    "amount": "qa-amount",
    "close date": "qa-close",
    "stage": "qa-stage",
    "pipeline": "qa-stage",
}


class CompanySuggester(Suggester):
    """Completes a company name from the database (first match by prefix, via its index)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        super().__init__(use_cache=True, case_sensitive=False)
        self.conn = conn

    async def get_suggestion(self, value: str) -> str | None:
        return company_suggestion(self.conn, value)


class ChoicesSuggester(Suggester):
    """Completes the option being typed in a comma-separated list ("Ads, s" -> "Ads, SEO")."""

    def __init__(self, choices: list[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.choices = choices

    async def get_suggestion(self, value: str) -> str | None:
        typed = value.rpartition(",")[2].lstrip()
        if not typed:
            return None
        picked = {part.strip().casefold() for part in value.split(",")[:-1]}
        for option in self.choices:
            if option.casefold().startswith(typed.casefold()) and option.casefold() not in picked:
                return value[: len(value) - len(typed)] + option
        return None


def custom_input(spec: FormField, input_id: str) -> Widget:
    """A custom field's widget in quick add, one line high: a multichoice field is typed, the
    options completed as you type."""
    if spec.many:
        return Input(placeholder=f"{', '.join(v for _label, v in spec.choices or [])} (comma-separated)",
                     id=input_id, suggester=ChoicesSuggester([v for _label, v in spec.choices or []]), compact=True)
    return field_widget(spec, input_id, compact=True)


class QuickAddScreen(ModalScreen[int | None]):
    """Title, company (completed from existing ones, or new), amount, stage, expected close, and
    the custom deal fields marked required."""

    CSS_PATH = "board.tcss"

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="quick_add.cancel"),
        Binding("ctrl+s", "save", "Add deal", id="quick_add.save"),
    ]

    def __init__(self, database: Database, stages: list[BoardStage], *, stage_id: int | None = None) -> None:
        super().__init__()
        self.database = database
        self.stages = stages
        open_stages = [s for s in stages if s.is_open] or stages
        self.stage_id = stage_id if stage_id is not None else (open_stages[0].id if open_stages else None)
        self._conn: sqlite3.Connection | None = None
        self.required: dict[str, FormField] = {}  # the required custom fields, by input id

    def compose(self) -> ComposeResult:
        self._conn = self.database.raw()
        fields = [
            ("Title", Input(placeholder="what you sell them", id="qa-title", compact=True)),
            ("Company", Input(placeholder="name; → completes, a new one is created", id="qa-company",
                              suggester=CompanySuggester(self._conn), compact=True)),
            ("Amount", Input(placeholder="12,500", id="qa-amount", compact=True)),
            ("Stage", Select([(s.name, s.id) for s in self.stages], value=self.stage_id, allow_blank=False,
                             id="qa-stage", compact=True)),
            ("Expected close", Input(placeholder="2026-12-15, 15 Dec, +30d", id="qa-close", compact=True)),
        ]
        with self.database.session() as session:
            self.required = {f"qa-{spec.name.replace('_', '-')}": spec for spec in required_form_fields(session)}
        fields += [(field_label(spec.label, 15), custom_input(spec, input_id))
                   for input_id, spec in self.required.items()]
        with Vertical(id="qa-box"):
            yield Static("[b]New deal[/b]   enter adds · tab next field · esc cancels", markup=True)
            for label, field in fields:
                with Horizontal(classes="qa-row"):
                    yield Label(label, classes="field-label")
                    yield field
                yield Label("", id=f"{field.id}-error", classes="field-error")
            yield Label("", id="qa-error", classes="field-error")
            with Horizontal(id="qa-buttons"):
                yield Button("Add deal", id="qa-save", variant="primary", compact=True)
                yield Button("Cancel", id="qa-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#qa-title", Input).focus()

    def on_key(self, event: events.Key) -> None:
        # Letters typed on the stage list or a button stay in the form (no app-wide one-letter keys).
        if event.is_printable and not isinstance(self.focused, Input):
            event.stop()
            event.prevent_default()

    def on_unmount(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    # --- errors shown on their field ---------------------------------------------------------

    def show_error(self, input_id: str, message: str) -> None:
        label = self.query_one(f"#{input_id}-error", Label)
        label.update(message)
        label.display = bool(message)
        self.query_one(f"#{input_id}").set_class(bool(message), "-invalid-field")

    def _check(self, input_id: str) -> bool:
        """Check one field as typed so far; show or clear its error. True when it is fine."""
        if input_id in self.required:
            spec = self.required[input_id]
            reason = spec.check(field_text(self.query_one(f"#{input_id}"))) if spec.check else None
            self.show_error(input_id, reason or "")
            return reason is None
        value = self.query_one(f"#{input_id}", Input).value
        try:
            if input_id == "qa-amount":
                cents = parse_amount(value, field="amount")
                if cents is not None and cents < 0:
                    raise ValidationError("amount: must not be negative", "amount")
            elif input_id == "qa-close":
                parse_date(value, field="close date")
            elif input_id == "qa-title" and not value.strip():
                raise ValidationError("title: give the deal a title", "title")
        except ValidationError as exc:
            self.show_error(input_id, str(exc))
            return False
        self.show_error(input_id, "")
        return True

    @on(Input.Blurred)
    def _left_field(self, event: Input.Blurred) -> None:
        input_id = event.input.id or ""
        if event.input.value.strip() and (input_id in ("qa-amount", "qa-close") or input_id in self.required):
            self._check(input_id)

    @on(Input.Changed)
    @on(Select.Changed)
    def _typing(self, event: Input.Changed | Select.Changed) -> None:
        # An error goes away as soon as the field is right; a new one waits for enter or tab.
        input_id = (event.control.id if event.control is not None else None) or ""
        if input_id in ("qa-title", "qa-amount", "qa-close") or input_id in self.required:
            if self.query_one(f"#{input_id}-error", Label).display:
                self._check(input_id)

    # --- saving ------------------------------------------------------------------------------

    @on(Input.Submitted)
    def _submitted(self, _event: Input.Submitted) -> None:
        self.action_save()

    @on(Button.Pressed, "#qa-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#qa-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_save(self) -> None:
        checks = [self._check(i) for i in ("qa-title", "qa-amount", "qa-close", *self.required)]
        self.show_error("qa-company", "")
        self.show_error("qa-stage", "")
        self.query_one("#qa-error", Label).update("")
        if not all(checks):
            self._focus_first_error()
            return
        value = lambda i: self.query_one(f"#{i}", Input).value  # noqa: E731
        stage = self.query_one("#qa-stage", Select).value
        try:
            with self.database.session() as session:
                deal = board_actions.create(
                    session,
                    value("qa-title"),
                    company=value("qa-company"),
                    amount=value("qa-amount"),
                    stage=stage if isinstance(stage, int) else None,
                    expected_close=value("qa-close"),
                    custom={spec.name: field_text(self.query_one(f"#{i}")) for i, spec in self.required.items()},
                )
                deal_id = deal.id
        except ValidationError as exc:
            custom = {spec.label: input_id for input_id, spec in self.required.items()}
            input_id = _FIELD_INPUT.get(exc.field or "") or custom.get(exc.field or "", "qa-company")
            self.show_error(input_id, str(exc))
            self._focus_first_error()
            return
        except (NotFound, DatabaseError) as exc:
            self.query_one("#qa-error", Label).update(str(exc))
            return
        self.dismiss(deal_id)

    def _focus_first_error(self) -> None:
        for input_id in ("qa-title", "qa-company", "qa-amount", "qa-close", "qa-stage", *self.required):
            if self.query_one(f"#{input_id}-error", Label).display:
                self.query_one(f"#{input_id}").focus()
                return

    def action_cancel(self) -> None:
        self.dismiss(None)
