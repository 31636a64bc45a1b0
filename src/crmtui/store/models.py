"""The tables as classes (`sql.table`). The schema itself is created by versioned migrations
(migrations.py); a test keeps these classes and the migrated schema in step.

Conventions: money in integer minor units (`*_cents`), timestamps naive UTC, dates as dates,
soft delete through `deleted_at` (a deleted record is in the trash until purged).
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from crmtui.store.sql import Record, table

STAGE_KINDS = ("open", "won", "lost", "closed")
ACTIVITY_KINDS = ("note", "call", "email", "meeting", "task")
CHOICE_LISTS = ("source", "lost_reason", "customer_size", "category")
CUSTOM_FIELD_KINDS = ("text", "number", "money", "date", "choice", "url", "rating", "yesno")


@table("pipeline")
class Pipeline(Record):
    id: Optional[int] = None
    name: str
    position: int = 0
    is_default: bool = False
    created_at: dt.datetime
    deleted_at: Optional[dt.datetime] = None


@table("stage")
class Stage(Record):
    id: Optional[int] = None
    pipeline_id: int
    name: str
    position: int
    probability: int = 0  # percent, 0-100
    expected_days: Optional[int] = None
    kind: str = "open"  # one of STAGE_KINDS
    deleted_at: Optional[dt.datetime] = None
    color: Optional[str] = None  # a colour name or #rrggbb; None: the colour of its kind


@table("company")
class Company(Record):
    id: Optional[int] = None
    name: str
    website: Optional[str] = None
    domain: Optional[str] = None
    email: Optional[str] = None
    phone: Optional[str] = None
    address: Optional[str] = None
    source: Optional[str] = None
    category: Optional[str] = None
    size: Optional[str] = None
    notes: Optional[str] = None
    external_id: Optional[str] = None
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: Optional[dt.datetime] = None


@table("contact")
class Contact(Record):
    id: Optional[int] = None
    name: str
    email: Optional[str] = None
    phone: Optional[str] = None
    title: Optional[str] = None
    company_id: Optional[int] = None
    notes: Optional[str] = None
    external_id: Optional[str] = None
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: Optional[dt.datetime] = None


@table("deal")
class Deal(Record):
    id: Optional[int] = None
    title: str
    company_id: Optional[int] = None
    contact_id: Optional[int] = None
    pipeline_id: int
    stage_id: int
    stage_entered_at: dt.datetime
    amount_cents: int = 0
    cost_cents: Optional[int] = None
    currency: Optional[str] = None  # None: the database's default currency
    confidence: Optional[int] = None  # 1-5 stars
    expected_close: Optional[dt.date] = None
    closed_on: Optional[dt.date] = None
    source: Optional[str] = None
    lost_reason: Optional[str] = None
    proposal_url: Optional[str] = None
    notes: Optional[str] = None
    external_id: Optional[str] = None
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: Optional[dt.datetime] = None
    # schema 5 (follow-ups). The last four are kept by triggers on activity and deal: never set them.
    snoozed_until: Optional[dt.date] = None
    last_touch_at: Optional[dt.datetime] = None
    open_tasks: int = 0
    next_task_due: Optional[dt.date] = None
    last_task_due: Optional[dt.date] = None
    # schema 13 (sales): a discount on the whole deal, a percentage or an amount, never both
    discount_bp: Optional[int] = None
    discount_cents: Optional[int] = None


@table("tag")
class Tag(Record):
    id: Optional[int] = None
    name: str


@table("deal_tag", key=("deal_id", "tag_id"))
class DealTag(Record):
    deal_id: int
    tag_id: int


@table("company_tag", key=("company_id", "tag_id"))
class CompanyTag(Record):
    company_id: int
    tag_id: int


@table("contact_tag", key=("contact_id", "tag_id"))
class ContactTag(Record):
    contact_id: int
    tag_id: int


@table("activity")
class Activity(Record):
    id: Optional[int] = None
    kind: str  # one of ACTIVITY_KINDS
    body: str = ""
    deal_id: Optional[int] = None
    company_id: Optional[int] = None
    contact_id: Optional[int] = None
    occurred_at: dt.datetime
    due_on: Optional[dt.date] = None  # tasks only
    done_at: Optional[dt.datetime] = None  # tasks only
    created_at: dt.datetime
    deleted_at: Optional[dt.datetime] = None
    # schema 12 (automation)
    playbook_task_id: Optional[int] = None  # the playbook entry that added this task
    due_hook_at: Optional[dt.datetime] = None  # when the task-due hook was told about it


@table("stage_change")
class StageChange(Record):
    id: Optional[int] = None
    deal_id: int
    from_stage_id: Optional[int] = None
    to_stage_id: int
    changed_at: dt.datetime


@table("choice")
class Choice(Record):
    id: Optional[int] = None
    list_name: str  # one of CHOICE_LISTS
    value: str
    position: int = 0


@table("custom_field")
class CustomField(Record):
    id: Optional[int] = None
    entity: str  # deal / company / contact
    name: str
    kind: str = "text"  # one of CUSTOM_FIELD_KINDS
    options: Optional[str] = None  # JSON: choices for `choice`
    position: int = 0
    deleted_at: Optional[dt.datetime] = None
    required: bool = False  # asked for in quick add
    lookup: Optional[str] = None  # a lookup field's source, "company.size": shown live, never stored


@table("custom_value", key=("field_id", "entity_id"))
class CustomValue(Record):
    field_id: int
    entity_id: int
    value: Optional[str] = None


# --- schema 2 -------------------------------------------------------------------------------


@table("setting", key=("key",))
class Setting(Record):
    key: str
    value: str


@table("undo_entry")
class UndoEntry(Record):
    """One undoable change: `payload` is JSON the service that made it knows how to reverse."""

    id: Optional[int] = None
    scope: str = "board"
    label: str
    payload: str
    created_at: dt.datetime
    undone_at: Optional[dt.datetime] = None


@table("deal_link")
class DealLink(Record):
    """A file or URL attached to a deal: signed contract, received files."""

    id: Optional[int] = None
    deal_id: int
    kind: str = "file"  # file / contract / url
    target: str
    label: Optional[str] = None
    created_at: dt.datetime


# --- schema 3: imports ----------------------------------------------------------------------


@table("import_run")
class ImportRun(Record):
    """One `crmtui import`: where from, how it was read, and its counts (`summary`, JSON)."""

    id: Optional[int] = None
    source: str
    record_type: str  # deals / companies / contacts
    encoding: str
    delimiter: str
    rows_read: int = 0
    summary: str = "{}"
    created_at: dt.datetime
    undone_at: Optional[dt.datetime] = None


@table("import_change")
class ImportChange(Record):
    """What an import did: created ids first..last of `entity`, updated one row (old/new values,
    JSON), or linked a tag to an existing record (first_id = record, last_id = tag)."""

    id: Optional[int] = None
    import_id: int
    entity: str
    action: str  # created / updated / linked
    first_id: int
    last_id: int
    old_values: Optional[str] = None
    new_values: Optional[str] = None


# --- schema 12: automation -------------------------------------------------------------------


@table("playbook_task")
class PlaybookTask(Record):
    """A task a stage's playbook adds to a deal entering the stage, due `due_days` after."""

    id: Optional[int] = None
    stage_id: int
    body: str
    due_days: int = 0
    position: int = 0
    created_at: dt.datetime
    deleted_at: Optional[dt.datetime] = None


# --- schema 13: sales ------------------------------------------------------------------------


@table("product")
class Product(Record):
    """A catalogue entry. Tax rate in basis points (2500 = 25 %); archived ones are not offered."""

    id: Optional[int] = None
    name: str
    code: Optional[str] = None
    unit: str = "piece"
    price_cents: int = 0
    currency: Optional[str] = None  # None: the database's default currency
    tax_bp: int = 0
    cost_cents: Optional[int] = None
    description: Optional[str] = None
    archived_at: Optional[dt.datetime] = None
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: Optional[dt.datetime] = None


@table("deal_line")
class DealLine(Record):
    """A line item of a deal. `quantity` is exact decimal text; `net_cents` is kept by the store
    (line_totals.line_net)."""

    id: Optional[int] = None
    deal_id: int
    product_id: Optional[int] = None
    description: str = ""
    quantity: str = "1"
    unit: Optional[str] = None
    unit_price_cents: int = 0
    discount_bp: int = 0
    tax_bp: int = 0
    unit_cost_cents: Optional[int] = None
    position: int = 0
    net_cents: int = 0
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: Optional[dt.datetime] = None


@table("quote")
class Quote(Record):
    """A quote made from a snapshot (JSON) of a deal's lines, customer and business profile."""

    id: Optional[int] = None
    number: str
    deal_id: int
    status: str = "draft"  # draft / sent / accepted / declined; "expired" is shown, not stored
    issued_on: dt.date
    valid_until: Optional[dt.date] = None
    currency: Optional[str] = None
    total_cents: int = 0
    snapshot: str
    template: Optional[str] = None
    format: Optional[str] = None
    path: Optional[str] = None
    created_at: dt.datetime
    updated_at: dt.datetime
    deleted_at: Optional[dt.datetime] = None


@table("quote_counter", key=("scope",))
class QuoteCounter(Record):
    scope: str
    last: int
