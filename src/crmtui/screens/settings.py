"""The settings screen (`,` from anywhere): make crmtui fit the way you sell.

Sections on the left (pipelines & stages, fields, choice lists, follow-up rules, general), the
section's rows on the right. The keys act on the row under the cursor: `n` new, `r`/enter
rename (a setting: change it), `e` edit, `K`/`J` (or ctrl+up/down) reorder, delete asks first.
Under each stage, its playbook: the tasks a deal entering it gets (`p` adds one).
Every change goes through the store functions the CLI calls, is saved at once and is one undo
entry in scope "settings", which `u` undoes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Header, OptionList, Static
from textual.widgets.option_list import Option

from crmtui.screens.confirm import ConfirmScreen, undo_last_in
from crmtui.screens.edit_forms import FormField, FormScreen
from crmtui.screens.prompt import PromptScreen
from crmtui.markup import plain
from crmtui.store.errors import CrmError
from crmtui.widgets.fit_table import Col, FitTable
from crmtui.widgets.footer import AppFooter

SECTIONS = {
    "pipelines": "Pipelines & stages",
    "fields": "Fields",
    "choices": "Choice lists",
    "rules": "Follow-up rules",
    "general": "General",
}
ENTITY_TITLES = {"deal": "Deal fields", "company": "Company fields", "contact": "Contact fields"}
LIST_TITLES = {"source": "Source", "lost_reason": "Lost reason", "customer_size": "Customer size",
               "category": "Category"}

# The row kinds each action applies to.
ROW_ACTIONS = {
    "new": {"pipeline", "stage", "entity", "field", "builtin", "option", "list", "choice", "playbook"},
    "new_pipeline": {"pipeline", "stage"},
    "rename": {"pipeline", "stage", "field", "option", "choice"},
    "edit": {"stage", "setting", "field", "playbook"},
    "delete": {"pipeline", "stage", "field", "option", "choice", "playbook"},
    "playbook": {"stage", "playbook"},
    "move": {"stage", "field", "choice"},
    "default_pipeline": {"pipeline"},
    "hide": {"builtin"},
}
MOVE = Binding.Group("Move")
SECTION_KINDS = {
    "pipelines": {"pipeline", "stage", "playbook"},
    "fields": {"entity", "field", "option", "builtin"},
    "choices": {"list", "choice"},
    "rules": {"setting"},
    "general": {"setting"},
}


@dataclass(frozen=True)
class Item:
    """What a row of the table is, and what the store calls need to act on it."""

    kind: str  # pipeline, stage, playbook, entity, field, option, builtin, list, choice, setting
    name: str = ""  # its own name: pipeline, stage, field, option, choice value, setting key; a playbook entry's id
    owner: str = ""  # the record type of a field, option or built-in field; the list of a choice
    parent: str = ""  # the field an option belongs to; the stage of a playbook entry
    pipeline_id: int = 0  # pipeline, stage and playbook rows
    data: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        return "\x1f".join((self.kind, str(self.pipeline_id), self.owner, self.parent, self.name))


Rows = list[tuple[Item, tuple]]  # each row: what it is, and its cells
Section = tuple[list[Col], Rows]


class PickScreen(ModalScreen[str | None]):
    """Pick one value from a short list (enter); esc cancels. Dismisses with the value."""

    CSS_PATH = "settings.tcss"
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="pick.cancel")]

    def __init__(self, title: str, values: list[str], *, current: str | None = None, hint: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.values = values
        self.current = current
        self.hint = hint or "enter chooses · esc cancels"

    def compose(self) -> ComposeResult:
        with Vertical(id="pick-box"):
            yield Static(self.title_text, id="pick-title", markup=False)
            yield OptionList(*[Option(v, id=str(i)) for i, v in enumerate(self.values)], id="pick-list")
            yield Static(self.hint, id="pick-hint", markup=False)

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = self.values.index(self.current) if self.current in self.values else 0
        options.focus()

    def on_key(self, event: events.Key) -> None:
        # A letter goes to the next value that starts with it (never to the app's one-letter keys).
        if event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            options = self.query_one(OptionList)
            start = (options.highlighted or 0) + 1
            order = self.values[start:] + self.values[:start]
            found = next((v for v in order if v.casefold().startswith(event.character.casefold())), None)
            if found is not None:
                options.highlighted = self.values.index(found)

    @on(OptionList.OptionSelected)
    def _picked(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(self.values[int(event.option.id or 0)])

    def action_cancel(self) -> None:
        self.dismiss(None)


def _reason(clean: Callable[[str], Any]) -> Callable[[str], str | None]:
    """A form check from a store cleaner: its message, or None when the text is fine."""

    def check(value: str) -> str | None:
        try:
            clean(value)
        except CrmError as exc:
            return exc.message
        return None

    return check


class SettingsScreen(Screen[None]):
    """Sections on the left, the section's rows on the right; keys act on the row."""

    CSS_PATH = "settings.tcss"
    BINDINGS = [
        Binding("escape", "back", "Back", id="settings.back"),
        Binding("n", "new", "New", id="settings.new"),
        Binding("N", "new_pipeline", "New pipeline", id="settings.new_pipeline"),
        Binding("r,enter", "rename", "Rename", id="settings.rename"),
        Binding("e", "edit", "Edit", id="settings.edit"),
        Binding("p", "playbook", "Playbook task", show=False, id="settings.playbook"),  # (the row hint shows it)
        Binding("delete", "delete", "Delete", id="settings.delete"),
        Binding("K,ctrl+up", "move(-1)", "Move up", id="settings.move_up", group=MOVE),
        Binding("J,ctrl+down", "move(1)", "Move down", id="settings.move_down", group=MOVE),
        Binding("asterisk", "default_pipeline", "Make default", id="settings.default_pipeline"),
        Binding("h", "hide", "Hide/show", id="settings.hide"),
        Binding("u", "undo", "Undo", id="settings.undo"),
        *[Binding(str(n), f"section('{name}')", title, show=False, id=f"settings.section_{name}")
          for n, (name, title) in enumerate(SECTIONS.items(), start=1)],
    ]

    def __init__(self, section: str = "pipelines") -> None:
        super().__init__()
        self.section = section
        self.items: dict[str, Item] = {}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="settings-title", classes="screen-title")
        with Horizontal(id="settings-body"):
            yield OptionList(*[Option(f"{n} {title}", id=name) for n, (name, title)
                               in enumerate(SECTIONS.items(), start=1)], id="settings-sections")
            with Vertical(id="settings-pane"):
                yield FitTable([], id="settings-table", cursor_type="row", zebra_stripes=False)
                yield Static("", id="settings-hint")
        yield AppFooter()

    def on_mount(self) -> None:
        self.query_one(OptionList).highlighted = list(SECTIONS).index(self.section)
        self.load()
        self.query_one(FitTable).focus()

    # --- rows --------------------------------------------------------------------------------

    def load(self, *, keep: str | None = None) -> None:
        """Read the section's rows again and put the cursor back on `keep` (else the same row)."""
        table = self.query_one(FitTable)
        current = keep or (self.current().key if self.current() else None)
        try:
            with self.app.database.session() as s:
                columns, rows = SECTION_ROWS[self.section](s)
        except CrmError as exc:
            self.notify(exc.message, severity="error")
            return
        self.items = {item.key: item for item, _cells in rows}
        table.show([(item.key, cells) for item, cells in rows], columns)
        if current in self.items:
            table.move_cursor(row=table.get_row_index(current))
        self.query_one("#settings-title", Static).update(
            Text.assemble(("Settings", "bold"), " › ", SECTIONS[self.section]))
        self._show_hint()
        self.refresh_bindings()

    def on_screen_resume(self) -> None:
        """Back from a form, a question or another screen (the trash may have restored a field)."""
        if self.is_mounted:
            self.load()

    def current(self) -> Item | None:
        table = self.query_one(FitTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key((table.cursor_row, 0)).row_key.value
        return self.items.get(key or "")

    def _show_hint(self) -> None:
        item = self.current()
        self.query_one("#settings-hint", Static).update(_hint(item) if item else "")

    # --- sections and cursor -------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#settings-sections")
    def _section_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id and event.option.id != self.section:
            self.section = event.option.id
            self.query_one(FitTable).move_cursor(row=0)
            self.load()

    @on(OptionList.OptionSelected, "#settings-sections")
    def _section_chosen(self) -> None:
        self.query_one(FitTable).focus()

    def action_section(self, name: str) -> None:
        self.query_one(OptionList).highlighted = list(SECTIONS).index(name)
        self.query_one(FitTable).focus()

    @on(DataTable.RowHighlighted)
    def _row_highlighted(self) -> None:
        self._show_hint()
        self.refresh_bindings()

    @on(DataTable.RowSelected)
    def _row_selected(self) -> None:
        item = self.current()
        if item is not None and item.kind in ("setting", "playbook"):
            self.action_edit()
        elif self.check_action("rename", ()):
            self.action_rename()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        kinds = ROW_ACTIONS.get(action)
        if kinds is None:
            return True
        item = self.current()
        if item is not None and item.kind in kinds:
            return True
        return None if kinds & SECTION_KINDS[self.section] else False

    # --- writing -------------------------------------------------------------------------------

    def _write(self, change: Callable[[Any], Any], *, keep: str | None = None) -> Any:  # noqa: ANN401
        """Run a store change in one transaction; a refusal is a notification and writes nothing."""
        try:
            with self.app.database.session() as s:
                result = change(s)
        except CrmError as exc:
            self.notify(exc.message, severity="error", timeout=6)
            return None
        self.load(keep=keep)
        return result if result is not None else True

    def _saving(self, change: Callable[[Any, str], Any], keep: Callable[[str], str] | None = None
                ) -> Callable[[str], str | None]:
        """A prompt check that saves: the store's refusal is shown in the prompt, which stays open."""

        def check(value: str) -> str | None:
            try:
                with self.app.database.session() as s:
                    change(s, value)
            except CrmError as exc:
                return exc.message
            self.call_after_refresh(self.load, keep=keep(value) if keep else None)
            return None

        return check

    def _ask(self, question: str, then: Callable[[], Any], *, yes: str = "Delete") -> None:
        self.app.push_screen(ConfirmScreen(question, yes=yes), lambda ok: then() if ok else None)

    # --- n: new --------------------------------------------------------------------------------

    def action_new(self) -> None:
        item = self.current()
        if item is None:
            return
        if item.kind in ("pipeline", "stage"):
            self._new_stage(item)
        elif item.kind == "option":
            self._new_option(item)
        elif item.kind in ("entity", "field", "builtin"):
            self._new_field(item.owner)
        elif item.kind in ("list", "choice"):
            self._new_choice(item.owner)
        elif item.kind == "playbook":
            self.action_playbook()

    def _new_stage(self, item: Item) -> None:
        from crmtui.store.models import STAGE_KINDS
        from crmtui.store.setup_pipelines import (add_stage, clean_color, clean_expected_days,
                                                  clean_probability)

        after = item.name if item.kind == "stage" else None
        pipeline = item.data.get("pipeline") or item.name
        fields = [
            FormField("name", "Name", placeholder="e.g. Discovery call"),
            FormField("kind", "Kind", "open", choices=[(k, k) for k in STAGE_KINDS]),
            FormField("probability", "Probability %", check=_optional(clean_probability),
                      placeholder="0-100 (empty: as the stage before)"),
            FormField("expected_days", "Expected days", check=_reason(clean_expected_days),
                      placeholder="days before it shows as aging (empty: none)"),
            FormField("color", "Colour", check=_reason(clean_color), placeholder="green, dark_orange, #rrggbb"),
        ]
        added: list[str] = []

        def save(values: dict[str, str]) -> None:
            with self.app.database.session() as s:
                stage = add_stage(s, values["name"], pipeline=item.pipeline_id, after=after,
                                  probability=values["probability"] or None,
                                  expected_days=values["expected_days"] or None, kind=values["kind"],
                                  color=values["color"] or None)
                added.append(stage.name)

        where = f" after {after!r}" if after else ""
        self._form(f"New stage in {pipeline!r}{where}", fields, save,
                   lambda: Item("stage", added[0], pipeline_id=item.pipeline_id).key)

    def _new_option(self, item: Item) -> None:
        from crmtui.store.field_setup import add_option

        field_name = item.parent
        self.app.push_screen(_prompt(
            f"New option of {field_name!r}", placeholder="the option's name",
            check=self._saving(lambda s, v: add_option(s, item.owner, field_name, v),
                               lambda v: Item("option", " ".join(v.split()), owner=item.owner, parent=field_name).key)))

    def _new_field(self, entity: str) -> None:
        from crmtui.store.custom_fields import FIELD_KINDS
        from crmtui.store.field_setup import add_field

        fields = [
            FormField("name", "Name", placeholder="e.g. Customer size"),
            FormField("kind", "Kind", "text", choices=[(k, k) for k in FIELD_KINDS]),
            FormField("options", "Options", placeholder="choice, multichoice: Small, Medium, Large"),
            FormField("from", "Looks up", placeholder="lookup: company.size, contact.email"),
            FormField("required", "Required", "no", choices=[("no", "no"), ("yes (asked in quick add)", "yes")]),
        ]
        added: list[str] = []

        def save(values: dict[str, str]) -> None:
            with self.app.database.session() as s:
                f = add_field(s, entity, values["name"], values["kind"], options=values["options"] or None,
                              required=values["required"] == "yes", lookup=values["from"] or None)
                added.append(f["name"])

        self._form(f"New {entity} field", fields, save, lambda: Item("field", added[0], owner=entity).key)

    def _new_choice(self, list_typed: str) -> None:
        from crmtui.store.choices import add_choice

        self.app.push_screen(_prompt(
            f"New value for {list_typed}", placeholder="the value forms will offer",
            check=self._saving(lambda s, v: add_choice(s, list_typed, v),
                               lambda v: Item("choice", " ".join(v.split()), owner=list_typed).key)))

    def action_new_pipeline(self) -> None:
        from crmtui.store.setup_pipelines import add_pipeline

        with self.app.database.session() as s:
            from crmtui.store.pipelines import list_pipelines

            names = [p.name for p in list_pipelines(s)]
        fields = [
            FormField("name", "Name", placeholder="e.g. Workshops"),
            FormField("stages", "Stages", "", choices=[("the default stages", "")]
                      + [(f"a copy of {n}'s", n) for n in names]),
        ]
        added: list[tuple[int, str]] = []

        def save(values: dict[str, str]) -> None:
            with self.app.database.session() as s:
                pipe = add_pipeline(s, values["name"], copy_stages_from=values["stages"] or None)
                added.append((pipe.id, pipe.name))

        self._form("New pipeline", fields, save, lambda: Item("pipeline", added[0][1], pipeline_id=added[0][0]).key)

    def _form(self, title: str, fields: list[FormField], save: Callable[[dict[str, str]], None],
              keep: Callable[[], str]) -> None:
        def done(saved: bool | None) -> None:
            if saved:
                self.load(keep=keep())

        self.app.push_screen(FormScreen(plain(title), fields, save), done)

    # --- p: the tasks a stage's playbook adds to each deal entering it ---------------------------

    def action_playbook(self) -> None:
        item = self.current()
        if item is not None and item.kind in ROW_ACTIONS["playbook"]:
            self._playbook_form(None, stage=item.parent if item.kind == "playbook" else item.name,
                                pipeline_id=item.pipeline_id)

    def _playbook_form(self, entry: Item | None, *, stage: str = "", pipeline_id: int = 0) -> None:
        """The form that adds a task to a stage's playbook, or (`entry`) changes one."""
        from crmtui.store.playbooks import add_entry, change_entry, clean_due

        stage = entry.parent if entry is not None else stage
        pipeline_id = entry.pipeline_id if entry is not None else pipeline_id
        d = entry.data if entry is not None else {}
        fields = [
            FormField("task", "Task", d.get("body", ""), placeholder="e.g. Chase the proposal"),
            FormField("due", "Due", f"+{d['due_days']}d" if entry is not None else "",
                      check=_optional(clean_due), placeholder="+5d, +2w or 5 days after it enters (empty: same day)"),
        ]
        saved: list[int] = []

        def save(values: dict[str, str]) -> None:
            with self.app.database.session() as s:
                if entry is not None:
                    saved.append(change_entry(s, entry.name, values["task"], values["due"] or "0").id)
                else:
                    saved.append(add_entry(s, stage, values["task"], values["due"] or "0", pipeline=pipeline_id).id)

        title = f"Playbook task of {stage!r}" if entry is not None else f"New playbook task for {stage!r}"
        self._form(title, fields, save, lambda: Item("playbook", str(saved[0]), parent=stage,
                                                     pipeline_id=pipeline_id).key)

    def _remove_playbook_task(self, item: Item) -> None:
        from crmtui.store.playbooks import remove_entry

        self._ask(f"Take {item.data['body']!r} off the playbook of {item.parent!r}? Tasks it already added stay.",
                  lambda: self._write(lambda s: remove_entry(s, item.name)), yes="Remove")

    # --- r / enter: rename; e: edit --------------------------------------------------------------

    def action_rename(self) -> None:
        item = self.current()
        if item is None or item.kind not in ROW_ACTIONS["rename"]:
            return
        from crmtui.store.choices import rename_choice
        from crmtui.store.field_setup import rename_field, rename_option
        from crmtui.store.setup_pipelines import rename_pipeline, rename_stage

        changes = {
            "pipeline": lambda s, v: rename_pipeline(s, item.pipeline_id, v),
            "stage": lambda s, v: rename_stage(s, item.name, v, pipeline=item.pipeline_id),
            "field": lambda s, v: rename_field(s, item.owner, item.name, v),
            "option": lambda s, v: rename_option(s, item.owner, item.parent, item.name, v),
            "choice": lambda s, v: rename_choice(s, item.owner, item.name, v),
        }
        what = {"pipeline": "pipeline", "stage": "stage", "field": f"{item.owner} field", "option": "option",
                "choice": f"{item.owner} value"}[item.kind]
        self.app.push_screen(_prompt(
            f"Rename {what} {item.name!r}", value=item.name,
            check=self._saving(changes[item.kind], lambda v: _renamed(item, v).key)))

    def action_edit(self) -> None:
        item = self.current()
        if item is None:
            return
        if item.kind == "stage":
            self._edit_stage(item)
        elif item.kind == "setting":
            self._edit_setting(item)
        elif item.kind == "field":
            self._edit_field(item)
        elif item.kind == "playbook":
            self._playbook_form(item)

    def _edit_field(self, item: Item) -> None:
        from crmtui.store.custom_fields import FIELD_KINDS
        from crmtui.store.field_setup import change_field

        d = item.data
        kinds = [d["kind"]] if d["kind"] == "lookup" else [k for k in FIELD_KINDS if k != "lookup"]
        fields = [
            FormField("kind", "Kind", d["kind"], choices=[(k, k) for k in kinds]),
            FormField("options", "Options", ", ".join(d.get("choices") or []),
                      placeholder="choice, multichoice: Small, Medium, Large"),
            FormField("required", "Required", "yes" if d.get("required") else "no",
                      choices=[("no", "no"), ("yes (asked in quick add)", "yes")]),
        ]

        def save(values: dict[str, str]) -> None:
            with self.app.database.session() as s:
                change_field(s, item.owner, item.name, kind=values["kind"], options=values["options"] or None,
                             required=values["required"] == "yes")

        self._form(f"{item.owner.capitalize()} field {item.name!r}", fields, save, lambda: item.key)

    def _edit_stage(self, item: Item) -> None:
        from crmtui.store.models import STAGE_KINDS
        from crmtui.store.setup_pipelines import (clean_color, clean_expected_days, clean_probability,
                                                  update_stage)

        d = item.data
        fields = [
            FormField("probability", "Probability %", str(d["probability"]), check=_reason(clean_probability)),
            FormField("expected_days", "Expected days", str(d["expected_days"] or ""),
                      check=_reason(clean_expected_days), placeholder="empty: no aging alert"),
            FormField("kind", "Kind", d["kind"], choices=[(k, k) for k in STAGE_KINDS]),
            FormField("color", "Colour", d["color"] or "", check=_reason(clean_color),
                      placeholder="green, dark_orange, #rrggbb (empty: by kind)"),
            FormField("playbook", "Playbook", "; ".join(f"{body} ({due})" for body, due in d["playbook"]) or "none",
                      read_only=True, placeholder="· p on the stage's row adds a task"),
        ]

        def save(values: dict[str, str]) -> None:
            with self.app.database.session() as s:
                update_stage(s, item.name, pipeline=item.pipeline_id, probability=values["probability"],
                             expected_days=values["expected_days"] or None, kind=values["kind"],
                             color=values["color"] or None)

        self._form(f"Stage {item.name!r} of {d['pipeline']!r}", fields, save, lambda: item.key)

    def _edit_setting(self, item: Item) -> None:
        from crmtui.store.settings import set_setting, show_value

        spec = item.data["spec"]
        if spec.kind == "bool":
            self._setting_changed(self._write(lambda s: set_setting(s, spec.key, item.data["value"] != "on"),
                                              keep=item.key), spec.key)
            return
        if spec.kind == "choice":
            def picked(value: str | None) -> None:
                if value is not None:
                    self._setting_changed(self._write(lambda s: set_setting(s, spec.key, value), keep=item.key),
                                          spec.key)

            self.app.push_screen(PickScreen(f"{spec.key}: {spec.help}", list(spec.options),
                                            current=item.data["value"]), picked)
            return

        def save(s: Any, value: str) -> None:  # noqa: ANN401
            set_setting(s, spec.key, value)
            self.call_after_refresh(self._setting_changed, True, spec.key)

        value = item.data["value"]
        self.app.push_screen(_prompt(
            spec.key, value="" if value == "none" else value, placeholder=show_value(spec.key, spec.default),
            hint=f"{spec.help} · enter saves · esc cancels", check=self._saving(save, lambda _v: item.key)))

    def _setting_changed(self, done: Any, key: str) -> None:  # noqa: ANN401
        if done is not None and key in ("theme", "locale", "currency", "start-screen"):
            self.apply_general()

    def apply_general(self) -> None:
        """The running app follows the general settings at once: its theme, and money and dates
        written in the locale (pages redraw with it when shown again)."""
        from crmtui.store.money import use_locale
        from crmtui.store.settings import all_settings

        with self.app.database.session() as s:
            values = all_settings(s)
        use_locale(values["locale"], values["currency"])
        self.app.settings.update({"theme": values["theme"], "start-screen": values["start-screen"]})
        if self.app.theme != values["theme"]:
            self.app.theme = values["theme"]

    # --- delete --------------------------------------------------------------------------------

    def action_delete(self) -> None:
        item = self.current()
        if item is None:
            return
        handler = {"pipeline": self._delete_pipeline, "stage": self._delete_stage, "field": self._delete_field,
                   "option": self._delete_option, "choice": self._delete_choice,
                   "playbook": self._remove_playbook_task}.get(item.kind)
        if handler is not None:
            handler(item)

    def _delete_stage(self, item: Item) -> None:
        from crmtui.store.setup_pipelines import delete_stage

        def delete(target: str | None = None) -> None:
            done = self._write(lambda s: delete_stage(s, item.name, pipeline=item.pipeline_id, move_deals_to=target))
            if done and target:
                self.notify(f"Deleted stage {item.name!r}; {_deals(done.moved)} moved to {target!r} · u undoes",
                            timeout=4)

        deals = item.data["deals"]
        if not deals:
            self._ask(f"Delete the stage {item.name!r} of {item.data['pipeline']!r}? Deals' history keeps its name.",
                      delete)
            return
        others = [i.name for i in self.items.values()
                  if i.kind == "stage" and i.pipeline_id == item.pipeline_id and i.name != item.name]
        self.app.push_screen(PickScreen(
            f"The stage {item.name!r} holds {_deals(deals)}. Delete it and move them to:", others,
            hint="enter moves them and deletes the stage · esc cancels"),
            lambda target: delete(target) if target else None)

    def _delete_pipeline(self, item: Item) -> None:
        from crmtui.store.setup_pipelines import delete_pipeline

        def delete(target: str | None = None) -> None:
            done = self._write(lambda s: delete_pipeline(s, item.pipeline_id, move_deals_to=target))
            if done and done.new_default is not None:
                self.notify(f"{done.new_default.name!r} is the default pipeline now", timeout=4)

        others = [i.name for i in self.items.values() if i.kind == "pipeline" and i.pipeline_id != item.pipeline_id]
        if not others:
            delete()  # the store refuses the last pipeline, saying why
            return
        if not item.data["deals"]:
            self._ask(f"Delete the pipeline {item.name!r} and its stages?", delete)
            return
        self.app.push_screen(PickScreen(
            f"The pipeline {item.name!r} holds {_deals(item.data['deals'])}. Delete it and move them to:", others,
            hint="each deal goes to the stage of the same name, else the first of its kind · esc cancels"),
            lambda target: delete(target) if target else None)

    def _delete_field(self, item: Item) -> None:
        from crmtui.store.field_setup import delete_field

        self._ask(f"Delete the {item.owner} field {item.name!r}? It goes to the trash with its values"
                  " (T, the trash, brings both back).",
                  lambda: self._write(lambda s: delete_field(s, item.owner, item.name)))

    def _delete_option(self, item: Item) -> None:
        from crmtui.store.field_setup import remove_option

        field_name = item.parent
        self._ask(f"Stop offering {item.name!r} in {field_name!r}? Records that have it keep it.",
                  lambda: self._write(lambda s: remove_option(s, item.owner, field_name, item.name)), yes="Remove")

    def _delete_choice(self, item: Item) -> None:
        from crmtui.store.choices import remove_choice

        self._ask(f"Stop offering {item.name!r} in {item.owner}? Records that say it keep it.",
                  lambda: self._write(lambda s: remove_choice(s, item.owner, item.name)), yes="Remove")

    # --- reorder, default pipeline, hide ---------------------------------------------------------

    def action_move(self, step: int) -> None:
        item = self.current()
        if item is None or item.kind not in ROW_ACTIONS["move"]:
            return
        siblings = [i.name for i in self.items.values()
                    if i.kind == item.kind and i.owner == item.owner and i.pipeline_id == item.pipeline_id]
        at = siblings.index(item.name)
        if not 0 <= at + step < len(siblings):
            return
        place: dict[str, Any] = {"after": siblings[at + 1]} if step > 0 else (
            {"first": True} if at == 1 else {"after": siblings[at - 2]})
        from crmtui.store.choices import move_choice
        from crmtui.store.field_setup import move_field
        from crmtui.store.setup_pipelines import move_stage

        moves = {
            "stage": lambda s: move_stage(s, item.name, pipeline=item.pipeline_id, **place),
            "field": lambda s: move_field(s, item.owner, item.name, **place),
            "choice": lambda s: move_choice(s, item.owner, item.name, **place),
        }
        self._write(moves[item.kind], keep=item.key)

    def action_default_pipeline(self) -> None:
        from crmtui.store.setup_pipelines import set_default_pipeline

        item = self.current()
        if item is not None and item.kind == "pipeline" and self._write(
                lambda s: set_default_pipeline(s, item.pipeline_id), keep=item.key):
            self.notify(f"{item.name!r} is the default pipeline: new deals and the board start there", timeout=3)

    def action_hide(self) -> None:
        from crmtui.store.field_setup import hide_field, show_field

        item = self.current()
        if item is not None and item.kind == "builtin":
            change = show_field if item.data["hidden"] else hide_field
            self._write(lambda s: change(s, item.owner, item.name), keep=item.key)

    # --- undo, back ------------------------------------------------------------------------------

    def action_undo(self) -> None:
        label = undo_last_in(self, "settings")
        if label is None:
            return
        self.apply_general()
        self.load()
        self.notify(f"Undone: {label}", timeout=3)

    def action_back(self) -> None:
        self.app.pop_screen()


# --- the sections' rows ----------------------------------------------------------------------------


def pipeline_section(s: Any) -> Section:  # noqa: ANN401
    """Each pipeline, then its stages."""
    from crmtui.store.pipelines import list_stages
    from crmtui.store.playbooks import due_label, stage_entries
    from crmtui.store.reports_basic import stage_totals
    from crmtui.store.setup_pipelines import pipeline_rows

    columns = [Col("Pipeline / stage", "name", shrink_to=14), Col("Kind", "kind"), Col("Prob.", "probability"),
               Col("Days", "days"), Col("Colour", "color", shrink_to=6, drop=1), Col("Deals", "deals")]
    rows: Rows = []
    for p in pipeline_rows(s):
        title = Text(p["name"], style="bold")
        if p["default"]:
            title.append("  default", style="dim")
        rows.append((Item("pipeline", p["name"], pipeline_id=p["id"], data=p),
                     (title, "", "", "", "", _count(p["deals"]))))
        counts = {r["stage_id"]: r["deals"] for r in stage_totals(s, p["id"])[1]}
        for st in list_stages(s, p["id"]):
            colour = Text(st.color, style=st.color) if st.color else Text("–", style="dim")
            playbook = stage_entries(s, st.id)
            data = {"probability": st.probability, "expected_days": st.expected_days, "kind": st.kind,
                    "color": st.color, "deals": counts.get(st.id, 0), "pipeline": p["name"],
                    "playbook": [(e.body, due_label(e.due_days)) for e in playbook]}
            rows.append((Item("stage", st.name, pipeline_id=p["id"], data=data),
                         (Text("  " + st.name), st.kind, Text(f"{st.probability}%", justify="right"),
                          Text(str(st.expected_days or "–"), justify="right"), colour, _count(data["deals"]))))
            for e in playbook:
                rows.append((Item("playbook", str(e.id), parent=st.name, pipeline_id=p["id"],
                                  data={"body": e.body, "due_days": e.due_days}),
                             (Text("    ▸ " + e.body, style="italic"), Text("task", style="dim"), "",
                              Text(due_label(e.due_days), justify="right"), "", "")))
    return columns, rows


def field_section(s: Any) -> Section:  # noqa: ANN401
    """Per record type: its custom fields (a choice field's options under it), then the built-in
    fields that may be hidden."""
    from crmtui.store.custom_fields import ENTITIES, custom_fields
    from crmtui.store.editing import FIELDS
    from crmtui.store.field_setup import ALWAYS_SHOWN, hidden_fields

    columns = [Col("Field", "name", shrink_to=14), Col("Kind", "kind"), Col("Details", "details", shrink_to=10)]
    rows: Rows = []
    for entity in ENTITIES:
        rows.append((Item("entity", entity, owner=entity), (Text(ENTITY_TITLES[entity], style="bold"), "", "")))
        for f in custom_fields(s, entity):
            details = [f"from {f['source'] or f['lookup']}" if f["kind"] == "lookup" else "",
                       f"{len(f['choices'])} options" if f["choices"] else "", "required" if f["required"] else ""]
            rows.append((Item("field", f["name"], owner=entity, data=f),
                         (Text("  " + f["name"]), f["kind"], ", ".join(d for d in details if d))))
            for option in f["choices"]:
                rows.append((Item("option", option, owner=entity, parent=f["name"]),
                             (Text("    · " + option, style="italic"), "option", "")))
        hidden = hidden_fields(s, entity)
        for key, (label, _clean) in FIELDS[entity].items():
            if key in ALWAYS_SHOWN[entity]:
                continue
            shown = Text("hidden", style="yellow") if key in hidden else Text("shown", style="dim")
            rows.append((Item("builtin", key, owner=entity, data={"hidden": key in hidden, "label": label}),
                         (Text("  " + label, style="dim"), Text("built-in", style="dim"), shown)))
    return columns, rows


def choice_section(s: Any) -> Section:  # noqa: ANN401
    """Each choice list, then its values in order."""
    from crmtui.store.choices import all_lists, shown_name

    columns = [Col("List / value", "value", shrink_to=20), Col("#", "position")]
    rows: Rows = []
    for name, values in all_lists(s).items():
        list_typed = shown_name(name)
        rows.append((Item("list", list_typed, owner=list_typed), (Text(LIST_TITLES[name], style="bold"), "")))
        for i, value in enumerate(values, start=1):
            rows.append((Item("choice", value, owner=list_typed), (Text("  " + value), str(i))))
    return columns, rows


def setting_section(s: Any, keys: tuple[str, ...]) -> Section:  # noqa: ANN401
    """One row per setting: its value, its default and what it means."""
    from crmtui.store.settings import SPECS, all_settings, show_value

    values = all_settings(s)
    columns = [Col("Setting", "key"), Col("Value", "value", shrink_to=12), Col("Default", "default", drop=2),
               Col("Meaning", "help", shrink_to=12, drop=1)]
    rows: Rows = []
    for key in keys:
        spec = SPECS[key]
        shown = show_value(key, values[key])
        rows.append((Item("setting", key, data={"value": shown, "spec": spec}),
                     (key, Text(shown, style="bold"), Text(show_value(key, spec.default), style="dim"), spec.help)))
    return columns, rows


def general_section(s: Any) -> Section:  # noqa: ANN401
    """Currency, locale, customer focus, start screen, theme, card fields."""
    from crmtui.store.settings import GENERAL

    return setting_section(s, GENERAL)


def rule_section(s: Any) -> Section:  # noqa: ANN401
    """The follow-up rules (`crmtui rules`)."""
    from crmtui.store.settings import RULES

    return setting_section(s, RULES)


SECTION_ROWS = {"pipelines": pipeline_section, "fields": field_section, "choices": choice_section,
                "rules": rule_section, "general": general_section}


def _prompt(title: str, **options: Any) -> PromptScreen:  # noqa: ANN401
    """A one-line prompt; names in its title and hint are text, not markup."""
    return PromptScreen(plain(title), **{k: plain(v) if k == "hint" else v for k, v in options.items()})


def _optional(clean: Callable[[str], Any]) -> Callable[[str], str | None]:
    """A check that lets an empty field through (the store picks the value)."""
    check = _reason(clean)
    return lambda value: check(value) if value.strip() else None


def _renamed(item: Item, value: str) -> Item:
    return Item(item.kind, " ".join(value.split()), owner=item.owner, parent=item.parent, pipeline_id=item.pipeline_id)


def _count(n: int) -> Text:
    return Text(f"{n:,}" if n else "–", style="" if n else "dim", justify="right")


def _deals(n: int) -> str:
    return f"{n:,} deal" if n == 1 else f"{n:,} deals"


HINTS = {
    "pipeline": "n new stage · N new pipeline · r rename · * make default · del delete",
    "stage": ("e probability, days, kind, colour · p playbook task · n new stage after it · r rename · K/J move"
              " · del delete"),
    "playbook": ("a task each deal entering the stage gets · e/enter change it · p or n another · del remove it"
                 " (tasks it added stay)"),
    "entity": "n new field",
    "field": ("n new field · r rename · e kind, options, required · K/J move · del delete (to the trash, with"
              " its values)"),
    "option": "n new option · r rename (records follow) · del stop offering it",
    "builtin": "h hides it from forms, pages and cards (never from the data or the export)",
    "list": "n new value",
    "choice": "n new value · r rename (records follow) · K/J move · del stop offering it",
}


def _hint(item: Item) -> Text:
    if item.kind == "setting":
        return Text.assemble((item.name, "bold"), f": {item.data['spec'].help} · enter or e changes it")
    if item.kind == "field" and item.data.get("kind") in ("choice", "multichoice"):
        return Text(HINTS["field"] + " · its options are below it", style="")
    return Text(HINTS[item.kind])
