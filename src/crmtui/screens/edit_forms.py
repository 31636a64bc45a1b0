"""Forms that check each field as you type.

An invalid field is marked (red border, the reason under it); `ctrl+s` saves, or refuses with the
reason; `esc` asks before dropping unsaved changes. The save itself is a callback that calls the
store, so the store's checks (the same ones) have the last word and their message is shown here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, Select, Static

from crmtui.markup import plain
from crmtui.screens.confirm import ConfirmScreen  # the shared yes/no modal (also used by the board)
from crmtui.store.errors import CrmError

__all__ = ["ConfirmScreen", "FormField", "FormScreen", "new_deal_form", "record_form"]


@dataclass
class FormField:
    """One field: its name (what the save callback gets), label, starting text and check.

    `check(text)` returns the reason the text is wrong, or None. `choices` makes it a drop-down;
    `suggestions` completes as you type (still free text).
    """

    name: str
    label: str
    value: str = ""
    check: Callable[[str], str | None] | None = None
    choices: list[tuple[str, str]] | None = None
    suggestions: list[str] = field(default_factory=list)
    placeholder: str = ""


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
        self.initial = {f.name: f.value for f in fields}
        self.created_id: int | None = None  # set by a save that creates a record

    def compose(self) -> ComposeResult:
        with Vertical(id="form-box"):
            yield Static(self.title_text, classes="screen-title")
            with VerticalScroll(id="form-fields"):
                for f in self.fields:
                    with Horizontal(classes="form-row"):
                        yield Label(f.label, classes="form-label")
                        if f.choices is not None:
                            yield Select(f.choices, value=f.value, allow_blank=False, id=f"field-{f.name}")
                        else:
                            yield Input(
                                f.value,
                                placeholder=f.placeholder,
                                id=f"field-{f.name}",
                                suggester=SuggestFromList(f.suggestions, case_sensitive=False) if f.suggestions else None,
                            )
                    yield Static("", id=f"error-{f.name}", classes="form-error")
            yield Static("", id="form-message")
            yield Static("[b]ctrl+s[/] save · [b]esc[/] cancel · [b]tab[/] next field", classes="form-help", markup=True)

    def on_mount(self) -> None:
        for f in self.fields:
            self.query_one(f"#error-{f.name}").display = False
        first = self.query(f"#field-{self.fields[0].name}").first()
        first.focus()

    # --- values and checks ------------------------------------------------------------------

    def values(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for f in self.fields:
            widget = self.query_one(f"#field-{f.name}")
            out[f.name] = str(widget.value) if isinstance(widget, Select) else widget.value
        return out

    @property
    def dirty(self) -> bool:
        return self.values() != self.initial

    def check(self, name: str) -> str | None:
        """Check one field now; mark it and show the reason."""
        spec = next(f for f in self.fields if f.name == name)
        widget = self.query_one(f"#field-{name}")
        value = str(widget.value) if isinstance(widget, Select) else widget.value
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
    def _changed(self, event: Input.Changed) -> None:
        if event.input.id and event.input.id.startswith("field-"):
            self.check(event.input.id.removeprefix("field-"))
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
            elif name and (match := next((f.name for f in self.fields if f.label == name[:16]), None)):
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
    """The edit form of a deal, company or contact, filled from the database."""
    from crmtui.store.editing import FIELDS, check_field, form_values, update_record

    with database.session() as s:
        values = form_values(s, kind, record_id)
        stages: list[str] = []
        if kind == "deal":
            from sqlalchemy import text

            stages = [r[0] for r in s.connection().execute(
                text("SELECT s.name FROM stage s JOIN deal d ON d.pipeline_id = s.pipeline_id"
                     " WHERE d.id = :id AND s.deleted_at IS NULL ORDER BY s.position"), {"id": record_id})]
    with database.session() as s:
        from sqlalchemy import text as sql

        pipelines = [r[0] for r in s.connection().execute(
            sql("SELECT name FROM pipeline WHERE deleted_at IS NULL ORDER BY position, id"))]
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
    ]

    from crmtui.store.custom_fields import CUSTOM_PREFIX, custom_rows, custom_text

    with database.session() as s:
        extra = custom_rows(s, kind, record_id)
    for field, stored in extra:
        hint = {"money": "12500", "date": "2026-12-01", "rating": "1 to 5", "yesno": "yes or no",
                "url": "https://...", "number": "42"}.get(field["kind"], "")
        if field["kind"] == "choice" and field["choices"]:
            hint = ", ".join(field["choices"])
        fields.append(FormField(
            f"{CUSTOM_PREFIX}{field['id']}", field["name"][:16], custom_text(field, stored, for_form=True),
            check=(lambda v, f=field: _custom_reason(f, v)), suggestions=field["choices"], placeholder=hint,
        ))

    def save(new_values: dict[str, str]) -> None:
        with database.session() as s:
            update_record(s, kind, record_id, new_values)

    return FormScreen(f"Edit {kind} #{record_id}", fields, save)


def _custom_reason(field: dict, value: str) -> str | None:
    from crmtui.store.custom_fields import clean_custom

    try:
        clean_custom(field, value)
    except CrmError as exc:
        return exc.message
    return None


def new_deal_form(database, *, company: str = "", contact: str = "") -> FormScreen:  # noqa: ANN001
    """A short form for a new deal (title, customer, amount, stage, close date). Once saved, the
    new deal's id is the form's `created_id`."""
    from crmtui.store.editing import check_field

    def check(name: str) -> Callable[[str], str | None]:
        return lambda v: check_field("deal", name, v)

    with database.session() as s:
        from crmtui.store.pipelines import default_pipeline, list_stages

        stages = [st.name for st in list_stages(s, default_pipeline(s).id) if st.kind == "open"]
    fields = [
        FormField("title", "Title", "", check("title"), placeholder="Website relaunch"),
        FormField("company", "Company", company, placeholder="name (new ones are added) or #id"),
        FormField("contact", "Contact", contact, placeholder="name, email or #id"),
        FormField("amount", "Amount", "", check("amount"), placeholder="12500"),
        FormField("stage", "Stage", stages[0] if stages else "", suggestions=stages),
        FormField("expected_close", "Expected close", "", check("expected_close"), placeholder="+30d"),
        FormField("confidence", "Confidence (1-5)", "", check("confidence")),
    ]

    def save(values: dict[str, str]) -> None:
        from crmtui.store.deals import create_deal

        with database.session() as s:
            deal = create_deal(
                s, values["title"], company=values["company"] or None, contact=values["contact"] or None,
                amount=values["amount"] or None, stage=values["stage"] or None,
                expected_close=values["expected_close"] or None, confidence=values["confidence"] or None,
                follow_up=None,  # the follow-up rules decide (a "Follow up" task by default)
            )
            form.created_id = deal.id

    form = FormScreen("New deal", fields, save)
    form.created_id = None
    return form
