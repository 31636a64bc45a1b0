"""`a` on a record: log a note, call, email or meeting with a date and text."""

from __future__ import annotations

from crmtui.screens.edit_forms import FormField, FormScreen
from crmtui.store.activities import LOG_KINDS, clean_body, log_activity, parse_when
from crmtui.store.errors import CrmError


def _reason(check, value: str) -> str | None:  # noqa: ANN001
    try:
        check(value)
    except CrmError as exc:
        return exc.message
    return None


def activity_form(database, record_kind: str, record_id: int, *, kind: str = "note") -> FormScreen:  # noqa: ANN001
    """The form; saving logs the activity (one undo entry on the record's page)."""
    fields = [
        FormField("kind", "Kind", kind, choices=[(k.capitalize(), k) for k in LOG_KINDS]),
        FormField("date", "Date", "", lambda v: _reason(parse_when, v), placeholder="today (or 2026-11-20, -2d ...)"),
        FormField("text", "Text", "", lambda v: _reason(clean_body, v), placeholder="what was said or agreed"),
    ]

    def save(values: dict[str, str]) -> None:
        with database.session() as s:
            log_activity(s, values["kind"], record_kind, record_id, values["text"], when=values["date"] or None)

    return FormScreen(f"Log an activity on {record_kind} #{record_id}", fields, save)
