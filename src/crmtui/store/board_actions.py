"""What the board changes, each change recorded in the undo log (scope "board") in the same
transaction, so `u` can reverse it even after a restart.

Every function takes an open session (one transaction: the caller's `database.session()`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crmtui.store import undo
from crmtui.store.companies import find_company
from crmtui.store.custom_fields import CUSTOM_PREFIX, custom_fields, split_custom_values, write_custom_values
from crmtui.store.deals import MoveResult, create_deal, delete_deal, get_deal, mark_lost, mark_won, move_deal, step_deal
from crmtui.store.errors import ValidationError
from crmtui.store.models import Deal, Stage
from crmtui.store.sql import Session
from crmtui.store.validate import require_text

SCOPE = "board"
# The deal columns a move may change; their old values go into the undo entry.
MOVE_COLUMNS = ["stage_id", "stage_entered_at", "closed_on", "lost_reason", "updated_at"]


@dataclass
class Undone:
    label: str
    deal_ids: list[int]


def _recorded(session: Session, deal_id: int | str, label: str, change) -> MoveResult:  # noqa: ANN001
    deal = get_deal(session, deal_id)
    before = undo.update_op(session, "deal", deal.id, MOVE_COLUMNS)
    result: MoveResult = change(deal.id)
    if not result.changed:
        return result
    ops = [before]
    if result.from_stage.id != result.to_stage.id:
        change_id = session.execute(
            "SELECT max(id) FROM stage_change WHERE deal_id = :id", {"id": deal.id}
        ).scalar()
        ops.append({"op": "delete_row", "table": "stage_change", "id": change_id})
    ops.extend({"op": "trash", "table": "activity", "id": task_id} for task_id in result.added_tasks)
    undo.record(session, label.format(title=deal.title, stage=result.to_stage.name), ops, scope=SCOPE)
    return result


def move_to_stage(session: Session, deal_id: int | str, stage: int | str | Stage) -> MoveResult:
    """Move a deal to a stage of its pipeline (undoable)."""
    if isinstance(stage, int):
        stage_row = session.get(Stage, stage)
        stage = stage_row if stage_row is not None else str(stage)
    return _recorded(session, deal_id, "move “{title}” to {stage}", lambda i: move_deal(session, i, stage))


def step(session: Session, deal_id: int | str, direction: int) -> MoveResult:
    """Move a deal one open stage forward (+1) or back (-1) (undoable)."""
    return _recorded(session, deal_id, "move “{title}” to {stage}", lambda i: step_deal(session, i, direction))


def win(session: Session, deal_id: int | str) -> MoveResult:
    """Mark a deal won; the close date is today (undoable)."""
    return _recorded(session, deal_id, "won “{title}”", lambda i: mark_won(session, i))


def lose(session: Session, deal_id: int | str, reason: str) -> MoveResult:
    """Mark a deal lost with a reason; the close date is today (undoable)."""
    reason = require_text(reason, "reason")
    return _recorded(session, deal_id, "lost “{title}”", lambda i: mark_lost(session, i, reason))


def create(
    session: Session,
    title: str,
    *,
    company: str | None = None,
    amount: str | None = None,
    stage: int | str | None = None,
    pipeline: int | str | None = None,
    expected_close: str | dt.date | None = None,
    custom: Mapping[str, str] | None = None,
) -> Deal:
    """Add a deal from the quick-add form, with the follow-up task the rules ask for (undoable:
    undo trashes the deal, its follow-up task, and the company when the form created it).
    `stage` is a stage id or name; `custom` the deal's custom fields as typed, by form name
    (`{"cf_7": "Website"}`): every required one must be there (see `new_deal_fields`)."""
    values = new_deal_fields(session, custom or {})
    company = (company or "").strip() or None
    new_company = company is not None and not company.startswith("#") and find_company(session, company) is None
    stage_name = None
    if isinstance(stage, int):
        stage_row = session.get(Stage, stage)
        stage_name = stage_row.name if stage_row is not None else str(stage)
        pipeline = pipeline if pipeline is not None else (stage_row.pipeline_id if stage_row else None)
    elif stage:
        stage_name = stage
    deal = create_deal(
        session, title, company=company, amount=amount, stage=stage_name, pipeline=pipeline,
        expected_close=expected_close, follow_up=None,  # None: the follow-up rules decide
    )
    write_custom_values(session, deal.id, values)
    ops = [{"op": "trash", "table": "deal", "id": deal.id}]
    tasks = session.execute("SELECT id FROM activity WHERE deal_id = :id AND deleted_at IS NULL", {"id": deal.id})
    ops.extend({"op": "trash", "table": "activity", "id": task_id} for (task_id,) in tasks)
    if new_company and deal.company_id is not None:
        ops.append({"op": "trash", "table": "company", "id": deal.company_id})
    undo.record(session, f"new deal “{deal.title}”", ops, scope=SCOPE)
    return deal


def required_fields(session: Session) -> list[dict[str, Any]]:
    """The custom deal fields a new deal must have (`crmtui fields add deal NAME --required`)."""
    return [f for f in custom_fields(session, "deal") if f["required"] and f["kind"] != "lookup"]


def required_reason(field: Mapping[str, Any]) -> str:
    """What a new deal's form says when a required field is left empty."""
    return f"{field['name']}: required for a new deal"


def new_deal_fields(session: Session, typed: Mapping[str, str]) -> dict[int, str]:
    """A new deal's custom values as typed, by form name (`cf_7`), cleaned and by field id;
    ValidationError naming the field when one is wrong, or when a required one is empty."""
    custom = {key: value for key, value in typed.items() if key.startswith(CUSTOM_PREFIX)}
    _own, cleaned = split_custom_values(session, "deal", custom)
    for field in required_fields(session):
        if cleaned.get(field["id"]) is None:
            raise ValidationError(required_reason(field), field["name"])
    return {field_id: value for field_id, value in cleaned.items() if value is not None}


def trash(session: Session, deal_id: int | str) -> Deal:
    """Move a deal to the trash (undoable)."""
    deal = delete_deal(session, deal_id)
    undo.record(session, f"trash “{deal.title}”", [{"op": "restore", "table": "deal", "id": deal.id}], scope=SCOPE)
    return deal


def undo_last(session: Session) -> Undone | None:
    """Reverse the newest board change not yet undone; None when there is none."""
    entry = undo.undo_last(session, scope=SCOPE)
    if entry is None:
        return None
    deal_ids = [op["id"] for op in json.loads(entry.payload) if op.get("table") == "deal"]
    return Undone(entry.label, list(dict.fromkeys(deal_ids)))
