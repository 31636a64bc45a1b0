"""Quotes: a numbered document (PDF, HTML or Markdown) made from a snapshot of a deal's lines,
customer and the business profile, so a later edit of the deal does not change a quote already made.

Numbers come from a pattern (the `quote-number` setting, `Q-{year}-{seq:04}` by default) and a
counter per year (or one for all time when the pattern has no {year}), taken inside the write
transaction: two processes quoting at once never get the same number, and a quote that fails
(a template error, an unwritable file) rolls back with its number, so there are no gaps. The
counter never goes down, so a number is never used twice.

A quote is draft, sent, accepted or declined; a draft or sent quote past its validity date is
shown as expired. Each change is a note in the deal's timeline and one undo entry on the deal page.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from crmtui.store import clock, line_totals, lines, undo
from crmtui.store.activities import undo_scope
from crmtui.store.dates import format_date, parse_date
from crmtui.store.deals import get_deal
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.models import Activity, Company, Contact, Deal, DealLink, Quote
from crmtui.store.money import format_money
from crmtui.store.settings import get_setting
from crmtui.store.sql import Session

FORMATS = ("pdf", "html", "md")
STATUSES = ("draft", "sent", "accepted", "declined")
VALID_DAYS = 30  # a quote without --valid-until is valid this long
# status -> the statuses it may be reached from
_FROM = {"sent": ("draft",), "accepted": ("draft", "sent"), "declined": ("draft", "sent")}


@dataclass
class QuoteMade:
    id: int
    number: str
    path: Path
    format: str
    deal_id: int
    deal_title: str
    total_cents: int
    total: str  # as the quote writes it
    currency: str
    valid_until: dt.date
    missing_profile: list[str] = field(default_factory=list)  # profile keys to set (none set yet)


@dataclass
class StatusChange:
    number: str
    status: str
    stage: str | None = None  # the stage the deal moved to
    lost: bool = False  # the deal was marked lost


def quotes_dir(session: Session) -> Path:
    """Where quotes go without -o: a quotes folder beside the database."""
    return Path(session.database.path).parent / "quotes"


def make_quote(
    session: Session,
    deal: int | str,
    *,
    valid_until: str | dt.date | None = None,
    template: str | None = None,
    fmt: str = "pdf",
    output: str | Path | None = None,
) -> QuoteMade:
    """Number and write a quote for a deal's lines, link the file on the deal page and note it in
    the timeline. Nothing is kept when anything fails (the caller's transaction rolls back, and
    the file is written only as the last step)."""
    from crmtui.store import quote_render
    from crmtui.store.profile import check_logo, get_profile, missing_keys

    record = get_deal(session, deal)
    if fmt not in FORMATS:
        raise ValidationError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}", "format")
    rows = lines.line_rows(session, record.id)
    if not rows:
        raise ValidationError(f"deal #{record.id} has no line items to quote: add some with crmtui lines add", "lines")
    issued = clock.today()
    until = _valid_until(valid_until, issued)
    loaded = quote_render.load_template(template, fmt)
    folder, name = _target(session, output)
    profile = get_profile(session)
    if profile["logo"]:
        check_logo(profile["logo"])
    number = _next_number(session, issued)
    target = folder / (name or f"{_file_name(number)}.{fmt}")
    currency = record.currency or get_setting(session, "currency") or ""
    snapshot = quote_snapshot(session, record, rows, number=number, issued=issued, until=until,
                              currency=currency, profile=profile)
    content = quote_render.render(loaded, snapshot, fmt)
    quote = _keep(session, record, snapshot, target, template=template, fmt=fmt)
    _write_file(target, content)
    return QuoteMade(quote.id, number, target, fmt, record.id, record.title, quote.total_cents,
                     snapshot["totals"]["total"], currency, until, missing_keys(profile))


def _keep(session: Session, deal: Deal, snapshot: dict[str, Any], target: Path, *, template: str | None,
          fmt: str) -> Quote:
    """Store a quote, link its file on the deal page and note it in the timeline: one undo entry."""
    now = clock.utcnow()
    number = snapshot["number"]
    quote = Quote(number=number, deal_id=deal.id, issued_on=dt.date.fromisoformat(snapshot["issued_on_iso"]),
                  valid_until=dt.date.fromisoformat(snapshot["valid_until_iso"]), currency=snapshot["currency"],
                  total_cents=snapshot["totals"]["total_cents"], snapshot=json.dumps(snapshot, ensure_ascii=False),
                  template=template, format=fmt, path=str(target), created_at=now, updated_at=now)
    session.add(quote)
    link = DealLink(deal_id=deal.id, kind="file", target=str(target), label=f"Quote {number}", created_at=now)
    session.add(link)
    # (no amount in the note: the timeline is not masked in privacy mode, the quote list is)
    note = _note(session, deal, f"Quote {number} made, valid until {snapshot['valid_until']}")
    undo.record(session, f"make quote {number}", [
        {"op": "trash", "table": "quote", "id": quote.id},
        {"op": "delete_row", "table": "deal_link", "id": link.id},
        {"op": "trash", "table": "activity", "id": note.id},
    ], scope=undo_scope("deal", deal.id))
    return quote


def _valid_until(value: str | dt.date | None, issued: dt.date) -> dt.date:
    until = parse_date(value, field="valid until", today=issued) if value else issued + dt.timedelta(days=VALID_DAYS)
    if until < issued:
        raise ValidationError(f"valid until: {until.isoformat()} is before today ({issued.isoformat()})", "valid until")
    return until


def _target(session: Session, output: str | Path | None) -> tuple[Path, str | None]:
    """The folder a quote goes to and its file name (None: named by its number). The quotes
    folder beside the database is made when the quote is written; another must exist."""
    if output is None or str(output).strip() == "":
        return quotes_dir(session), None
    path = Path(output).expanduser().absolute()
    folder, name = (path, None) if path.is_dir() else (path.parent, path.name)
    if not folder.is_dir():
        raise ValidationError(f"output: no folder {str(folder)!r} to write {path.name!r} in", "output")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValidationError(f"output: cannot write in {str(folder)!r} (permission denied)", "output")
    if name and path.exists() and not os.access(path, os.W_OK):
        raise ValidationError(f"output: cannot write {str(path)!r} (permission denied)", "output")
    return folder, name


def _file_name(number: str) -> str:
    return re.sub(r"[^\w.-]+", "-", number).strip("-.") or "quote"


def quote_pattern(session: Session) -> str:
    return get_setting(session, "quote-number")


def _next_number(session: Session, issued: dt.date) -> str:
    """The next quote number, taken from its counter in this (write) transaction. A number some
    quote already has (the pattern was changed back and forth) is skipped."""
    pattern = quote_pattern(session)
    scope = str(issued.year) if "{year" in pattern else "all"
    last = session.execute("SELECT last FROM quote_counter WHERE scope = :s", {"s": scope}).scalar() or 0
    while True:
        last += 1
        number = pattern.format(year=issued.year, seq=last)
        if session.execute("SELECT 1 FROM quote WHERE number = :n", {"n": number}).fetchone() is None:
            break
    session.execute("INSERT INTO quote_counter (scope, last) VALUES (:s, :n)"
                    " ON CONFLICT (scope) DO UPDATE SET last = excluded.last", {"s": scope, "n": last})
    return number


def _write_file(target: Path, content: bytes) -> None:
    """Write the file whole or not at all: a temporary file beside it, renamed over it."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
    except OSError as exc:
        raise ValidationError(f"output: cannot write in {str(target.parent)!r}: {exc.strerror}", "output") from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.chmod(temp, 0o666 & ~_umask())  # as an ordinary new file (mkstemp makes it private)
        os.replace(temp, target)
    except OSError as exc:
        Path(temp).unlink(missing_ok=True)
        raise ValidationError(f"output: cannot write {str(target)!r}: {exc.strerror}", "output") from None


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _money(cents: int | None, currency: str) -> str:
    return format_money(cents, currency, always_cents=True) if cents is not None else ""


def _number(text: str) -> str:
    """A quantity or a rate as the locale in use writes it (3,5 in de_DE), else as stored (3.5)."""
    from crmtui.store.money import current_locale

    locale = current_locale()
    if locale is None:
        return text
    from babel.numbers import format_decimal

    return format_decimal(Decimal(text), format="#,##0.####", locale=locale).replace("\u202f", "\u00a0")


def _percent(bp: int, *, blank_zero: bool = False) -> str:
    return "" if blank_zero and not bp else f"{_number(line_totals.percent_text(bp))} %"


def quote_snapshot(session: Session, deal: Deal, rows: list[Any], *, number: str, issued: dt.date,
                   until: dt.date, currency: str, profile: dict[str, str]) -> dict[str, Any]:
    """Everything a quote shows, as the templates receive it (money and dates already written in
    the database's locale; cents and ISO dates beside them for templates that want their own)."""
    figures = lines.totals_of(session, deal.id, rows)
    totals = figures.as_dict()
    for name in ("subtotal", "line_discount", "deal_discount", "net", "tax", "total", "cost"):
        totals[name] = _money(totals[f"{name}_cents"], currency)
    for rate, tax in zip(totals["taxes"], figures.taxes, strict=True):
        rate["rate"], rate["rate_bp"] = _percent(tax.rate_bp), tax.rate_bp
        rate["base"], rate["tax"] = _money(rate["base_cents"], currency), _money(rate["tax_cents"], currency)
    del totals["cost"], totals["cost_cents"]  # the consultant's own figure: not for the customer
    return {
        "number": number,
        "issued_on": format_date(issued),
        "issued_on_iso": issued.isoformat(),
        "valid_until": format_date(until),
        "valid_until_iso": until.isoformat(),
        "currency": currency,
        "deal": {"id": deal.id, "title": deal.title},
        "profile": {key.replace("-", "_"): value for key, value in profile.items()},
        "customer": _customer(session, deal),
        "lines": [_line(i, row, currency) for i, row in enumerate(rows, 1)],
        "totals": totals,
    }


def _line(index: int, row: Any, currency: str) -> dict[str, Any]:
    gross, net = line_totals.line_amounts(row["quantity"], row["unit_price_cents"], row["discount_bp"])
    return {
        "number": index,
        "description": row["description"] or row["product"] or "",
        "product": row["product"] or "",
        "code": row["code"] or "",
        "quantity": _number(line_totals.quantity_text(row["quantity"])),
        "unit": row["unit"] or "",
        "unit_price": _money(row["unit_price_cents"], currency),
        "unit_price_cents": row["unit_price_cents"],
        "discount": _percent(row["discount_bp"], blank_zero=True),
        "discount_bp": row["discount_bp"],
        "tax_rate": _percent(row["tax_bp"]),
        "tax_bp": row["tax_bp"],
        "gross": _money(gross, currency),
        "gross_cents": gross,
        "amount": _money(net, currency),
        "net_cents": net,
    }


# A company custom field whose name starts like this is the customer's VAT / organisation number.
_VAT_FIELD = re.compile(r"(?i)(vat|org|organi[sz]ation|tax)\b")


def _customer(session: Session, deal: Deal) -> dict[str, Any]:
    company = session.get(Company, deal.company_id) if deal.company_id else None
    contact = session.get(Contact, deal.contact_id) if deal.contact_id else None
    if company is None and contact is not None and contact.company_id:
        company = session.get(Company, contact.company_id)

    def of(record: Any, name: str) -> str:  # noqa: ANN401
        return (getattr(record, name) or "") if record is not None else ""

    company_fields = _custom_fields(session, "company", company.id) if company else {}
    return {
        "company": of(company, "name"), "address": of(company, "address"), "email": of(company, "email"),
        "phone": of(company, "phone"), "website": of(company, "website"),
        "vat": next((value for name, value in company_fields.items() if _VAT_FIELD.match(name)), ""),
        "contact": of(contact, "name"), "contact_email": of(contact, "email"), "contact_phone": of(contact, "phone"),
        "contact_title": of(contact, "title"),
        "company_id": company.id if company else None, "contact_id": contact.id if contact else None,
        "company_fields": company_fields,
        "contact_fields": _custom_fields(session, "contact", contact.id) if contact else {},
    }


def _custom_fields(session: Session, kind: str, record_id: int) -> dict[str, str]:
    """A record's custom fields that have a value, by name, as stored."""
    rows = session.execute(
        "SELECT f.name, v.value FROM custom_value v JOIN custom_field f ON f.id = v.field_id"
        " WHERE f.entity = :kind AND v.entity_id = :id AND f.deleted_at IS NULL AND coalesce(v.value, '') != ''"
        " ORDER BY f.position, f.id", {"kind": kind, "id": record_id})
    return {row["name"]: row["value"] for row in rows}


def _note(session: Session, deal: Deal, body: str) -> Activity:
    now = clock.utcnow()
    note = Activity(kind="note", body=body, deal_id=deal.id, company_id=deal.company_id, contact_id=deal.contact_id,
                    occurred_at=now, created_at=now)
    session.add(note)
    return note


def shown_status(status: str, valid_until: dt.date | str | None, today: dt.date | None = None) -> str:
    """A quote's status as shown: a draft or sent quote past its validity date is expired."""
    if status in ("draft", "sent") and valid_until:
        until = valid_until if isinstance(valid_until, dt.date) else dt.date.fromisoformat(str(valid_until)[:10])
        if until < (today or clock.today()):
            return "expired"
    return status


def list_quotes(session: Session, deal: int | str | None = None) -> list[dict[str, Any]]:
    """The quotes (of one deal, or all), newest first."""
    where, params = "q.deleted_at IS NULL", {}
    if deal is not None:
        where += " AND q.deal_id = :deal"
        params["deal"] = get_deal(session, deal).id
    rows = session.execute(
        "SELECT q.id, q.number, q.deal_id, d.title AS deal, q.status, q.issued_on, q.valid_until, q.total_cents,"
        f" q.currency, q.format, q.path FROM quote q JOIN deal d ON d.id = q.deal_id WHERE {where}"
        " ORDER BY q.issued_on DESC, q.id DESC", params).fetchall()
    today = clock.today()
    return [{
        "id": r["id"], "number": r["number"], "deal_id": r["deal_id"], "deal": r["deal"],
        "status": shown_status(r["status"], r["valid_until"], today), "issued_on": r["issued_on"],
        "valid_until": r["valid_until"], "total": _money(r["total_cents"], r["currency"] or ""),
        "total_cents": r["total_cents"], "currency": r["currency"], "format": r["format"], "path": r["path"],
    } for r in rows]


def get_quote(session: Session, quote_id: int | str) -> Quote:
    """A live quote by id (`3`, `#3`) or number (`Q-2026-0001`)."""
    text = str(quote_id).strip()
    found = session.find(Quote, "number = ? AND deleted_at IS NULL", [text])
    if not found and text.lstrip("#").isdigit():
        found = session.find(Quote, "id = ? AND deleted_at IS NULL", [int(text.lstrip("#"))])
    if not found:
        raise NotFound(f"no quote {text!r} (crmtui quotes list shows them)")
    return found[0]


def set_status(
    session: Session,
    quote_id: int | str,
    status: str,
    *,
    note: str | None = None,
    lost_reason: str | None = None,
) -> StatusChange:
    """Mark a quote sent, accepted or declined, with a note in the deal's timeline. Accepted moves
    the deal to the `quote-accept-stage` stage (when its pipeline has it and the deal is open);
    declined with a lost reason marks the deal lost. One undo entry on the deal page reverses it all."""
    quote = get_quote(session, quote_id)
    if status not in _FROM:
        raise ValidationError(f"status: {status!r} is not one of {', '.join(_FROM)}", "status")
    if quote.status not in _FROM[status]:
        raise ValidationError(f"quote {quote.number} is {quote.status}; it cannot be marked {status}", "status")
    deal = get_deal(session, quote.deal_id)
    ops: list[dict[str, Any]] = [undo.update_op(session, "quote", quote.id, ["status", "updated_at"])]
    quote.status, quote.updated_at = status, clock.utcnow()
    session.add(quote)
    text = (note or "").strip()
    activity = _note(session, deal, f"Quote {quote.number} {status}" + (f": {text}" if text else ""))
    ops.append({"op": "trash", "table": "activity", "id": activity.id})
    change = StatusChange(quote.number, status)
    if status == "accepted":
        change.stage = _accept_move(session, deal, ops)
    elif status == "declined" and lost_reason and lost_reason.strip():
        from crmtui.store.deals import mark_lost

        _moved(session, deal, ops, lambda: mark_lost(session, deal.id, lost_reason))
        change.lost = True
    undo.record(session, f"quote {quote.number} {status}", ops, scope=undo_scope("deal", deal.id))
    return change


def _accept_move(session: Session, deal: Deal, ops: list[dict[str, Any]]) -> str | None:
    """Move an open deal to the accept stage, when its pipeline has one of that name."""
    from crmtui.store.deals import move_deal
    from crmtui.store.pipelines import list_stages

    name = (get_setting(session, "quote-accept-stage") or "").strip()
    stages = list_stages(session, deal.pipeline_id)
    target = next((s for s in stages if s.name.casefold() == name.casefold()), None) if name else None
    current = next((s for s in stages if s.id == deal.stage_id), None)
    if target is None or current is None or current.kind != "open" or target.id == current.id:
        return None
    _moved(session, deal, ops, lambda: move_deal(session, deal.id, target))
    return target.name


# The deal columns a move may change (board_actions.MOVE_COLUMNS).
_MOVE_COLUMNS = ["stage_id", "stage_entered_at", "closed_on", "lost_reason", "updated_at"]


def _moved(session: Session, deal: Deal, ops: list[dict[str, Any]], move: Any) -> None:  # noqa: ANN401
    """Run a stage move, adding what reverses it to `ops`: the deal's columns, the stage change
    row, the playbook tasks it added."""
    before = undo.update_op(session, "deal", deal.id, _MOVE_COLUMNS)
    result = move()
    if not result.changed:
        return
    ops.append(before)
    if result.from_stage.id != result.to_stage.id:
        change_id = session.execute("SELECT max(id) FROM stage_change WHERE deal_id = :id", {"id": deal.id}).scalar()
        ops.append({"op": "delete_row", "table": "stage_change", "id": change_id})
    ops.extend({"op": "trash", "table": "activity", "id": task_id} for task_id in result.added_tasks)
