"""Deals: creating, moving through stages, winning and losing. Every move is a StageChange."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from crmtui.store import clock, followups, hooks, playbooks, undo
from crmtui.store.companies import resolve_company
from crmtui.store.contacts import resolve_contact
from crmtui.store.custom_fields import with_fields
from crmtui.store.dates import parse_date
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.models import Deal, Stage, StageChange
from crmtui.store.money import parse_amount
from crmtui.store.pipelines import find_pipeline, find_stage, first_open_stage, stage_of_kind
from crmtui.store.sql import Session
from crmtui.store.tags import set_tags, tags_of
from crmtui.store.validate import clean_confidence, clean_currency, clean_text, clean_url, require_text

STATUSES = ("open", "won", "lost", "closed")


def create_deal(
    session: Session,
    title: str,
    *,
    company: str | int | None = None,
    contact: str | int | None = None,
    amount: str | int | None = None,
    cost: str | int | None = None,
    currency: str | None = None,
    stage: str | None = None,
    pipeline: str | int | None = None,
    tags: list[str] | None = None,
    source: str | None = None,
    expected_close: str | dt.date | None = None,
    confidence: int | str | None = None,
    proposal_url: str | None = None,
    notes: str | None = None,
    external_id: str | None = None,
    follow_up: bool | None = False,
) -> Deal:
    """Add a deal. Company and contact are names (created when new) or `#id`; amount as people
    write it; the stage defaults to the pipeline's first open stage. Records the first stage change.

    `follow_up`: add the "Follow up" task; None follows the rules (what the CLI and TUI pass).
    """
    title = require_text(title, "title")
    amount_cents = parse_amount(amount, field="amount") or 0
    cost_cents = parse_amount(cost, field="cost")
    if amount_cents < 0:
        raise ValidationError("amount: must not be negative", "amount")
    close = parse_date(expected_close, field="close date")
    stars = clean_confidence(confidence)
    currency = clean_currency(currency)
    proposal_url = clean_url(proposal_url, "proposal URL")
    pipe = find_pipeline(session, pipeline)
    target = find_stage(session, pipe, stage) if stage else first_open_stage(session, pipe)
    company_row = resolve_company(session, company)
    contact_row = resolve_contact(session, contact, company_id=company_row.id if company_row else None)
    if company_row is None and contact_row is not None and contact_row.company_id:
        company_row_id = contact_row.company_id
    else:
        company_row_id = company_row.id if company_row else None
    now = clock.utcnow()
    deal = Deal(
        title=title,
        company_id=company_row_id,
        contact_id=contact_row.id if contact_row else None,
        pipeline_id=pipe.id,
        stage_id=target.id,
        stage_entered_at=now,
        amount_cents=amount_cents,
        cost_cents=cost_cents,
        currency=currency,
        confidence=stars,
        expected_close=close,
        closed_on=clock.today() if target.kind != "open" else None,
        source=clean_text(source),
        proposal_url=proposal_url,
        notes=clean_text(notes),
        external_id=clean_text(external_id),
        created_at=now,
        updated_at=now,
    )
    session.add(deal)
    session.add(StageChange(deal_id=deal.id, from_stage_id=None, to_stage_id=target.id, changed_at=now))
    if tags:
        set_tags(session, "deal", deal.id, tags)

    if target.kind == "open" and (follow_up or (follow_up is None and followups.wants_follow_up(session))):
        followups.add_follow_up_task(session, deal.id)
    playbooks.on_enter(session, deal, target)
    hooks.emit(session, "deal-created", lambda: deal_detail(session, deal.id))
    return deal


def get_deal(session: Session, deal_id: int | str, *, include_deleted: bool = False) -> Deal:
    """A deal by id; NotFound when missing or in the trash."""
    try:
        key = int(str(deal_id).lstrip("#"))
    except ValueError:
        raise ValidationError(f"deal id: {deal_id!r} is not a number", "id") from None
    deal = session.get(Deal, key)
    if deal is None or (deal.deleted_at is not None and not include_deleted):
        raise NotFound(f"no deal with id {key}")
    return deal


@dataclass
class MoveResult:
    deal: Deal
    from_stage: Stage
    to_stage: Stage
    changed: bool
    added_tasks: list[int] = field(default_factory=list)  # the stage's playbook tasks the move added


def move_deal(
    session: Session,
    deal_id: int | str,
    stage: str | int | Stage,
    *,
    lost_reason: str | None = None,
) -> MoveResult:
    """Move a deal to a stage of its pipeline (by name, position or Stage), recording the change.

    Entering a won/lost/closed stage sets the close date (today); going back to an open stage
    clears it and any lost reason.
    """
    deal = get_deal(session, deal_id)
    pipe = find_pipeline(session, deal.pipeline_id)
    if isinstance(stage, Stage):
        target = stage
        if target.pipeline_id != deal.pipeline_id:
            raise ValidationError(f"stage {target.name!r} is not in the deal's pipeline", "stage")
    else:
        target = find_stage(session, pipe, str(stage))
    current = session.get(Stage, deal.stage_id)
    if target.id == deal.stage_id:
        if target.kind == "lost" and lost_reason:
            deal.lost_reason = require_text(lost_reason, "reason")
            deal.updated_at = clock.utcnow()
            session.add(deal)
            return MoveResult(deal, current, target, True)
        return MoveResult(deal, current, target, False)
    now = clock.utcnow()
    deal.stage_id = target.id
    deal.stage_entered_at = now
    deal.updated_at = now
    if target.kind == "open":
        deal.closed_on = None
        deal.lost_reason = None
    else:
        deal.closed_on = clock.today()
        deal.lost_reason = require_text(lost_reason, "reason") if target.kind == "lost" and lost_reason else None
    session.add(deal)
    session.add(StageChange(deal_id=deal.id, from_stage_id=current.id, to_stage_id=target.id, changed_at=now))
    added = playbooks.on_enter(session, deal, target)
    # Made only when a hook is installed, and once when both a stage-changed and a deal-won hook are.
    describe = functools.cache(lambda: deal_detail(session, deal.id))
    hooks.emit(session, "stage-changed", describe, old_stage=current.name, new_stage=target.name)
    if target.kind in ("won", "lost"):
        hooks.emit(session, f"deal-{target.kind}", describe, old_stage=current.name, new_stage=target.name)
    return MoveResult(deal, current, target, True, added)


def step_deal(session: Session, deal_id: int | str, direction: int) -> MoveResult:
    """Move a deal one open stage forward (+1) or back (-1). From a closed stage, back means the
    last open stage."""
    from crmtui.store.pipelines import list_stages

    deal = get_deal(session, deal_id)
    stages = list_stages(session, deal.pipeline_id)
    open_stages = [s for s in stages if s.kind == "open"]
    ids = [s.id for s in open_stages]
    if deal.stage_id not in ids:
        if direction < 0 and open_stages:
            return move_deal(session, deal.id, open_stages[-1])
        raise ValidationError("the deal is closed; move it back to an open stage first", "stage")
    index = ids.index(deal.stage_id) + direction
    if not 0 <= index < len(open_stages):
        edge = "last" if direction > 0 else "first"
        raise ValidationError(f"the deal is already in the {edge} open stage", "stage")
    return move_deal(session, deal.id, open_stages[index])


def mark_won(session: Session, deal_id: int | str) -> MoveResult:
    """Move a deal to its pipeline's won stage; the close date is today."""
    deal = get_deal(session, deal_id)
    return move_deal(session, deal.id, stage_of_kind(session, find_pipeline(session, deal.pipeline_id), "won"))


def mark_lost(session: Session, deal_id: int | str, reason: str) -> MoveResult:
    """Move a deal to its pipeline's lost stage with a reason (required)."""
    reason = require_text(reason, "reason")
    deal = get_deal(session, deal_id)
    lost = stage_of_kind(session, find_pipeline(session, deal.pipeline_id), "lost")
    return move_deal(session, deal.id, lost, lost_reason=reason)


def delete_deal(session: Session, deal_id: int | str) -> Deal:
    """Move a deal to the trash (soft delete)."""
    deal = get_deal(session, deal_id)
    deal.deleted_at = clock.utcnow()
    session.add(deal)
    return deal


def restore_deal(session: Session, deal_id: int | str) -> Deal:
    """Bring a deal back from the trash."""
    deal = get_deal(session, deal_id, include_deleted=True)
    deal.deleted_at = None
    deal.updated_at = clock.utcnow()
    session.add(deal)
    return deal


_DEAL_SELECT = """
SELECT d.id, d.title, d.company_id, c.name AS company, d.contact_id, p.name AS contact,
       p.email AS contact_email, d.pipeline_id, pl.name AS pipeline, d.stage_id, s.name AS stage,
       s.kind AS stage_kind, s.probability, d.amount_cents, d.cost_cents, d.currency, d.confidence,
       d.expected_close, d.closed_on, d.source, d.lost_reason, d.proposal_url, d.external_id,
       d.stage_entered_at, d.created_at, d.updated_at, d.snoozed_until, d.next_task_due, d.open_tasks,
       (SELECT group_concat(name, ';') FROM (SELECT t.name FROM deal_tag dt JOIN tag t ON t.id = dt.tag_id
         WHERE dt.deal_id = d.id ORDER BY t.name)) AS tags
FROM deal d
JOIN stage s ON s.id = d.stage_id
JOIN pipeline pl ON pl.id = d.pipeline_id
LEFT JOIN company c ON c.id = d.company_id
LEFT JOIN contact p ON p.id = d.contact_id
"""


def deal_rows(
    session: Session,
    *,
    stage: str | None = None,
    tag: str | None = None,
    status: str | None = None,
    pipeline: str | int | None = None,
    deal_id: int | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """Deals with their company, contact, stage and tags looked up, as plain dicts; with a
    `fields` object (custom fields by name, lookups included) when deals have custom fields.

    `status` is open / won / lost / closed (the stage's kind). Newest first.
    """
    where = ["d.deleted_at IS NULL"]
    params: dict[str, Any] = {}
    if deal_id is not None:
        where.append("d.id = :deal_id")
        params["deal_id"] = deal_id
    if pipeline is not None or stage is not None:
        pipe = find_pipeline(session, pipeline)
        where.append("d.pipeline_id = :pipeline_id")
        params["pipeline_id"] = pipe.id
        if stage is not None:
            where.append("d.stage_id = :stage_id")
            params["stage_id"] = find_stage(session, pipe, stage).id
    if status is not None:
        if status not in STATUSES:
            raise ValidationError(f"status: {status!r} is not one of {', '.join(STATUSES)}", "status")
        where.append("s.kind = :status")
        params["status"] = status
    if tag:
        where.append(
            "EXISTS (SELECT 1 FROM deal_tag dt JOIN tag t ON t.id = dt.tag_id"
            " WHERE dt.deal_id = d.id AND t.name = :tag COLLATE NOCASE)"
        )
        params["tag"] = tag.lstrip("#").strip()
    sql = _DEAL_SELECT + " WHERE " + " AND ".join(where) + " ORDER BY d.created_at DESC, d.id DESC"
    if limit is not None:
        sql += " LIMIT :limit"
        params["limit"] = limit
    rows = session.execute(sql, params).fetchall()
    return with_fields(session, "deal", [_row_dict(r) for r in rows])


def _row_dict(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["tags"] = out["tags"].split(";") if out["tags"] else []
    out["amount"] = out["amount_cents"] / 100
    cost = out["cost_cents"]
    out["cost"] = None if cost is None else cost / 100
    out["profit"] = None if cost is None else (out["amount_cents"] - cost) / 100
    out["weighted_amount"] = out["amount_cents"] * out["probability"] / 10000
    for key in ("stage_entered_at", "created_at", "updated_at"):
        if out[key]:
            out[key] = str(out[key]).replace(" ", "T")[:19] + "Z"
    return out


def deal_detail(session: Session, deal_id: int | str) -> dict[str, Any]:
    """One deal as a dict, with its stage history (oldest first), its line items, their totals
    and the deal's discount."""
    from crmtui.store.lines import discount_text, line_dict, line_rows, totals_of

    deal = get_deal(session, deal_id)
    (row,) = deal_rows(session, deal_id=deal.id)
    history = session.execute(
        "SELECT sc.changed_at, f.name AS from_stage, t.name AS to_stage FROM stage_change sc"
            " LEFT JOIN stage f ON f.id = sc.from_stage_id JOIN stage t ON t.id = sc.to_stage_id"
            " WHERE sc.deal_id = :id ORDER BY sc.changed_at, sc.id",
        {"id": deal.id},
    )
    row["stage_history"] = [
        {"at": str(h["changed_at"]).replace(" ", "T")[:19] + "Z", "from": h["from_stage"], "to": h["to_stage"]}
        for h in history
    ]
    row["tags"] = tags_of(session, "deal", deal.id)
    lines = line_rows(session, deal.id)
    row["discount"] = discount_text(deal.discount_bp, deal.discount_cents)
    row["discount_bp"], row["discount_cents"] = deal.discount_bp, deal.discount_cents
    row["lines"] = [line_dict(line) for line in lines]
    row["totals"] = totals_of(session, deal.id, lines).as_dict()
    return row


def snooze_deal(session: Session, deal_id: int | str, until: str | dt.date | None) -> tuple[Any, dt.date | None]:
    """Silence a deal's alerts until a date (`+1w`, `fri`, ISO...); None or "off" wakes it.

    Recorded in the undo log (scope "followups"). Returns (deal, until).
    """
    deal = get_deal(session, deal_id)
    day = None
    if until is not None and str(until).strip().lower() not in ("", "off", "none", "wake"):
        day = parse_date(until, field="snooze until")
        if day <= clock.today():
            raise ValidationError(f"snooze until: {day.isoformat()} is not in the future", "until")
    op = undo.update_op(session, "deal", deal.id, ["snoozed_until", "updated_at"])
    deal.snoozed_until = day
    deal.updated_at = clock.utcnow()
    session.add(deal)
    undo.record(session, f"snooze deal #{deal.id}", [op], scope="followups")
    return deal, day
