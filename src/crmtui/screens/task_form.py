"""`t` on a record: a task with a due date (`tomorrow`, `fri`, `+3d`, ISO ...)."""

from __future__ import annotations

from crmtui.screens.activity_form import _reason
from crmtui.screens.edit_forms import FormField, FormScreen
from crmtui.store.activities import add_task, clean_body
from crmtui.store.dates import parse_date
from crmtui.store.errors import ValidationError


def _due(value: str) -> None:
    if parse_date(value, field="due date") is None:
        raise ValidationError("due date: required", "due")


def task_form(database, record_kind: str, record_id: int) -> FormScreen:  # noqa: ANN001
    """The form; saving adds the task (one undo entry on the record's page)."""
    fields = [
        FormField("text", "Task", "", lambda v: _reason(clean_body, v), placeholder="Send the proposal"),
        FormField("due", "Due", "tomorrow", lambda v: _reason(_due, v), placeholder="tomorrow, fri, +3d, 2026-12-01"),
    ]

    def save(values: dict[str, str]) -> None:
        with database.session() as s:
            add_task(s, record_kind, record_id, values["text"], values["due"])

    return FormScreen(f"New task on {record_kind} #{record_id}", fields, save)
