"""Forms that check each field as you type.

An invalid field is marked (red border, the reason under it); `ctrl+s` saves, or refuses with the
reason; `esc` asks before dropping unsaved changes. The save itself is a callback that calls the
store, so the store's checks (the same ones) have the last word and their message is shown here.

A record's custom fields come after its own: a choice, rating or yes/no field is a pick list, a
multichoice field a list to tick, a looked-up field is shown and never edited. Built-in fields
the user hid are left out (and left as they are).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widget import Widget
from textual.widgets import Input, Label, Select, SelectionList, Static

from crmtui.markup import plain
from crmtui.screens.confirm import ConfirmScreen  # the shared yes/no modal (also used by the board)
from crmtui.store.errors import CrmError

__all__ = ["ConfirmScreen", "FormField", "FormScreen", "custom_form_field", "field_text", "field_widget",
           "new_deal_form", "record_form"]


@dataclass
class FormField:
    """One field: its name (what the save callback gets), label, starting text and check.

    `check(text)` returns the reason the text is wrong, or None. `choices` makes it a drop-down
    (`optional`: it may be left empty, ""), or with `many` a list to tick (its text "a, b");
    `suggestions` completes as you type (still free text). A `read_only` field shows its value
    (and the placeholder, dim) and is neither checked nor saved.
    """
    name: str
    label: str
    value: str = ""
    check: Callable[[str], str | None] | None = None
    choices: list[tuple[str, str]] | None = None
    suggestions: list[str] = field(default_factory=list)
    placeholder: str = ""
    optional: bool = False
    many: bool = False
    read_only: bool = False


def _picked(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


class PickMany(SelectionList[str]):
    """Options to tick (space), for a multichoice field. Its text is the ticked options, "a, b",
    in the options' order, or as the record had it while the same ones are ticked (a record may
    keep an option no longer offered, in its own order)."""
    def __init__(self, choices: list[tuple[str, str]], value: str, **kwargs: Any) -> None:  # noqa: ANN401
        self.initial = value
        picked = _picked(value)
        super().__init__(*[(label, option, option in picked) for label, option in choices], **kwargs)

    @property
    def text(self) -> str:
        ticked = set(self.selected)
        if ticked == set(_picked(self.initial)):
            return self.initial
        options = [self.get_option_at_index(i).value for i in range(self.option_count)]
        return ", ".join(option for option in options if option in ticked)


def field_widget(spec: FormField, widget_id: str, *, compact: bool = False) -> Widget:
    """The widget that edits a form field."""
    if spec.read_only:
        shown = Text(spec.value or "—")
        if spec.placeholder:
            shown.append(f"  {spec.placeholder}", style="dim")
        return Static(shown, id=widget_id, classes="form-read-only")
    if spec.choices is not None and spec.many:
        return PickMany(spec.choices, spec.value, id=widget_id, compact=compact)
    if spec.choices is not None:
        if spec.optional:
            return Select(spec.choices, value=spec.value or Select.NULL, prompt="—", id=widget_id, compact=compact)
        return Select(spec.choices, value=spec.value, allow_blank=False, id=widget_id, compact=compact)
    return Input(
        spec.value,
        placeholder=spec.placeholder,
        id=widget_id,
        suggester=SuggestFromList(spec.suggestions, case_sensitive=False) if spec.suggestions else None,
        compact=compact,
    )


def field_text(widget: Widget) -> str:
    """What a form field's widget holds, as text ("" for an empty drop-down)."""
    if isinstance(widget, PickMany):
        return widget.text
    if isinstance(widget, Select):
        return "" if widget.selection is None else str(widget.selection)
    if isinstance(widget, Input):
        return widget.value
    return ""


class FormScreen(ModalScreen[bool]):
    """A form over `fields`; `save(values)` writes (raising CrmError refuses, the form stays open).

    Dismisses with True once saved, False when dropped.
    """
    CSS_PATH = "forms.tcss"

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="form.save", priority=True),
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
    ]

    def __init__(self, title: str, fields: list[FormField], save: Callable[[dict[str, str]], None]) -> None:
        super().__init__()
        self.title_text = title
        self.fields = fields
        self.save_callback = save
        self.initial = {f.name: f.value for f in fields if not f.read_only}
        self.created_id: int | None = None  # set by a save that creates a record

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Static(self.title_text, classes="screen-title")
            with VerticalScroll(id="form-fields"):
                for f in self.fields:
                    with Horizontal(classes="form-row -many" if f.many else "form-row"):
                        yield Label(f.label, classes="form-label")
                        yield field_widget(f, f"field-{f.name}")
                    yield Static("", id=f"error-{f.name}", classes="form-error")
            yield Static("", id="form-message")
            yield Static("[b]ctrl+s[/] save · [b]esc[/] cancel · [b]tab[/] next field", classes="form-help", markup=True)

    def on_mount(self) -> None:
        for f in self.fields:
            self.query_one(f"#error-{f.name}").display = False
        editable = [f for f in self.fields if not f.read_only]
        if editable:
            self.query_one(f"#field-{editable[0].name}").focus()

    # --- values and checks ------------------------------------------------------------------

    def values(self) -> dict[str, str]:
        """The text of every field that can be edited, by name."""
        return {f.name: field_text(self.query_one(f"#field-{f.name}")) for f in self.fields if not f.read_only}

    @property
    def dirty(self) -> bool:
        return self.values() != self.initial

    def check(self, name: str) -> str | None:
        """Check one field now; mark it and show the reason."""
        spec = next(f for f in self.fields if f.name == name)
        if spec.read_only:
            return None
        value = field_text(self.query_one(f"#field-{name}"))
        reason = spec.check(value) if spec.check else None
        self._mark(name, reason)
        return reason

    def _mark(self, name: str, reason: str | None) -> None:
        widget = self.query_one(f"#field-{name}")
        widget.set_class(reason is not None, "-invalid")
        error = self.query_one(f"#error-{name}", Static)
        error.update(reason or "")
        error.display = reason is not None

    @on(Input.Changed)
    @on(Select.Changed)
    @on(SelectionList.SelectedChanged)
    def _changed(self, event: Input.Changed | Select.Changed | SelectionList.SelectedChanged) -> None:
        widget = event.control
        if widget is not None and widget.id and widget.id.startswith("field-"):
            self.check(widget.id.removeprefix("field-"))
            self.query_one("#form-message", Static).update("")

    # --- actions ---------------------------------------------------------------------------

    def action_save(self) -> None:
        reasons = [r for f in self.fields if (r := self.check(f.name))]
        message = self.query_one("#form-message", Static)
        if reasons:
            message.update(f"[b red]Not saved:[/] {plain(reasons[0])}")
            self.notify(f"Not saved: {reasons[0]}", severity="error", timeout=4)
            return
        try:
            self.save_callback(self.values())
        except CrmError as exc:
            name = getattr(exc, "field", None)
            names = {f.name for f in self.fields}
            if name in names:
                self._mark(name, exc.message)
            elif name and name.replace(" ", "_") in names:
                self._mark(name.replace(" ", "_"), exc.message)
            elif name and (match := next((f.name for f in self.fields if f.label in (name, name[:16])), None)):
                self._mark(match, exc.message)
            message.update(f"[b red]Not saved:[/] {plain(exc.message)}")
            self.notify(f"Not saved: {exc.message}", severity="error", timeout=4)
            return
        self.dismiss(True)

    def action_cancel(self) -> None:
        if not self.dirty:
            self.dismiss(False)
            return

        def answered(drop: bool | None) -> None:
            if drop:
                self.dismiss(False)

        self.app.push_screen(ConfirmScreen("Drop your unsaved changes?", yes="Drop", no="Keep editing"), answered)


# --- the record forms ------------------------------------------------------------------------


def _choices(database, list_name: str) -> list[str]:  # noqa: ANN001
    from crmtui.store.choices import values

    with database.session() as s:
        return values(s, list_name)


def record_form(database, kind: str, record_id: int) -> FormScreen:  # noqa: ANN001
    """The edit form of a deal, company or contact, filled from the database: its built-in fields
    but the hidden ones, then its custom fields."""
    from crmtui.store.custom_fields import custom_rows
    from crmtui.store.editing import FIELDS, check_field, form_values, update_record
    from crmtui.store.field_setup import hidden_fields

    with database.session() as s:
        values = form_values(s, kind, record_id)
        hidden = hidden_fields(s, kind)
        extra = custom_rows(s, kind, record_id)
        stages: list[str] = []
        if kind == "deal":
            stages = [r[0] for r in s.execute(
                "SELECT s.name FROM stage s JOIN deal d ON d.pipeline_id = s.pipeline_id"
                     " WHERE d.id = :id AND s.deleted_at IS NULL ORDER BY s.position", {"id": record_id})]
        pipelines = [r[0] for r in s.execute(
            "SELECT name FROM pipeline WHERE deleted_at IS NULL ORDER BY position, id")]
    suggestions = {
        "pipeline": pipelines,
        "stage": stages,
        "source": _choices(database, "source"),
        "lost_reason": _choices(database, "lost_reason"),
        "category": _choices(database, "category"),
        "size": _choices(database, "customer_size"),
    }
    placeholders = {
        "amount": "12500 or 12,500.00", "cost": "what delivering it costs you", "currency": "default currency",
        "confidence": "1 to 5", "expected_close": "2026-12-15, fri, +30d", "closed_on": "set when won or lost",
        "company": "company name or #id", "contact": "name, email or #id", "tags": "branding, website",
        "website": "https://...", "domain": "acme.com", "email": "name@example.com", "proposal_url": "https://...",
        "stage": ", ".join(stages[:3]) + " ...",
        "pipeline": ", ".join(pipelines),
    }
    fields = [
        FormField(
            name, label, values.get(name, ""),
            check=(lambda v, n=name: check_field(kind, n, v)),
            suggestions=suggestions.get(name, []),
            placeholder=placeholders.get(name, ""),
        )
        for name, (label, _clean) in FIELDS[kind].items()
        if name not in hidden
    ]
    fields += [custom_form_field(field, stored) for field, stored in extra]

    def save(new_values: dict[str, str]) -> None:
        with database.session() as s:
            update_record(s, kind, record_id, new_values)

    return FormScreen(f"Edit {kind} #{record_id}", fields, save)


_HINTS = {"money": "12500 or 12,500.00", "date": "2026-12-01, fri, +30d", "number": "42", "url": "https://...",
          "email": "name@example.com", "phone": "+1 555 0100"}
_RATINGS = [("★" * n + "☆" * (5 - n), str(n)) for n in range(1, 6)]
_YESNO = [("yes", "yes"), ("no", "no")]


def custom_form_field(
    field: dict[str, Any], stored: str | None, *, check: Callable[[str], str | None] | None = None
) -> FormField:
    """A custom field in a form, starting from the record's value (`stored`, None for a new
    record). A choice, rating or yes/no field is a pick list (a value no longer offered stays
    in it, marked); a looked-up field is shown read-only. Checked as typed with `custom_reason`
    (the record's own value is always fine), or `check` when given."""
    from crmtui.store.custom_fields import CUSTOM_PREFIX, custom_reason, custom_text

    name, kind = f"{CUSTOM_PREFIX}{field['id']}", field["kind"]
    value = custom_text(field, stored, for_form=True)
    reason = check or (lambda typed: custom_reason(field, typed, stored))
    if kind == "lookup":
        source = (field["source"] or field["lookup"] or "its customer").partition(".")[0]
        return FormField(name, field["name"], custom_text(field, stored), read_only=True,
                         placeholder=f"from {source} (change it there)")
    offered: list[tuple[str, str]] | None = None
    if kind in ("choice", "multichoice") and field["choices"]:
        offered = [(option, option) for option in field["choices"]]
    elif kind == "rating":
        offered = list(_RATINGS)
    elif kind == "yesno":
        offered = list(_YESNO)
    if offered is None:
        return FormField(name, field["name"], value, reason, placeholder=_HINTS.get(kind, ""))
    known = {option for _label, option in offered}
    kept = [v for v in (_picked(value) if kind == "multichoice" else [value] if value else []) if v not in known]
    offered += [(f"{v} (no longer offered)", v) for v in kept]
    return FormField(name, field["name"], value, reason, choices=offered, optional=True, many=kind == "multichoice")


def required_form_fields(session: Any) -> list[FormField]:  # noqa: ANN401
    """The custom fields a new deal must have, as form fields: left empty, they say so."""
    from crmtui.store.board_actions import required_fields, required_reason
    from crmtui.store.custom_fields import custom_reason

    def check(field: dict[str, Any]) -> Callable[[str], str | None]:
        return lambda typed: custom_reason(field, typed, None) if typed.strip() else required_reason(field)

    return [custom_form_field(field, None, check=check(field)) for field in required_fields(session)]


def new_deal_form(database, *, company: str = "", contact: str = "") -> FormScreen:  # noqa: ANN001
    """A short form for a new deal (title, customer, amount, stage, close date, and the custom
    fields marked required). Once saved, the new deal's id is the form's `created_id`."""
    from crmtui.store.editing import check_field
    from crmtui.store.field_setup import hidden_fields

    def check(name: str) -> Callable[[str], str | None]:
        return lambda v: check_field("deal", name, v)

    with database.session() as s:
        from crmtui.store.pipelines import default_pipeline, list_stages

        stages = [st.name for st in list_stages(s, default_pipeline(s).id) if st.kind == "open"]
        # A customer given by the page it was opened from is shown even when its field is hidden.
        hidden = hidden_fields(s, "deal") - {"company" if company else "", "contact" if contact else ""}
        required = required_form_fields(s)
    fields = [
        FormField("title", "Title", "", check("title"), placeholder="Website relaunch"),
        FormField("company", "Company", company, placeholder="name (new ones are added) or #id"),
        FormField("contact", "Contact", contact, placeholder="name, email or #id"),
        FormField("amount", "Amount", "", check("amount"), placeholder="12500"),
        FormField("stage", "Stage", stages[0] if stages else "", suggestions=stages),
        FormField("expected_close", "Expected close", "", check("expected_close"), placeholder="+30d"),
        FormField("confidence", "Confidence (1-5)", "", check("confidence")),
    ]
    fields = [f for f in fields if f.name not in hidden] + required

    def save(values: dict[str, str]) -> None:
        from crmtui.store.board_actions import new_deal_fields
        from crmtui.store.custom_fields import write_custom_values
        from crmtui.store.deals import create_deal

        typed = lambda name: values.get(name) or None  # noqa: E731 - a hidden field is not in the form
        with database.session() as s:
            custom = new_deal_fields(s, values)
            deal = create_deal(
                s, values["title"], company=typed("company"), contact=typed("contact"),
                amount=typed("amount"), stage=typed("stage"),
                expected_close=typed("expected_close"), confidence=typed("confidence"),
                follow_up=None,  # the follow-up rules decide (a "Follow up" task by default)
            )
            write_custom_values(s, deal.id, custom)
            form.created_id = deal.id

    form = FormScreen("New deal", fields, save)
    form.created_id = None
    return form
