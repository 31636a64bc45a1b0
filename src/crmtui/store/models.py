"""SQLModel tables. The schema itself is created by versioned migrations (migrations.py);
a test keeps these classes and the migrated schema in step.

Conventions: money in integer minor units (`*_cents`), timestamps naive UTC, dates as dates,
soft delete through `deleted_at` (a deleted record is in the trash until purged).
"""

from __future__ import annotations

import datetime as dt
from typing import Optional

from pydantic import NaiveDatetime
from sqlmodel import Field, SQLModel

STAGE_KINDS = ("open", "won", "lost", "closed")
ACTIVITY_KINDS = ("note", "call", "email", "meeting", "task")
CHOICE_LISTS = ("source", "lost_reason", "customer_size", "category")
CUSTOM_FIELD_KINDS = ("text", "number", "money", "date", "choice", "url", "rating", "yesno")


class Pipeline(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    position: int = 0
    is_default: bool = False
    created_at: NaiveDatetime
    deleted_at: Optional[NaiveDatetime] = None


class Stage(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    pipeline_id: int = Field(foreign_key="pipeline.id")
    name: str
    position: int
    probability: int = 0  # percent, 0-100
    expected_days: Optional[int] = None
    kind: str = "open"  # one of STAGE_KINDS
    deleted_at: Optional[NaiveDatetime] = None
    color: Optional[str] = None  # a colour name or #rrggbb; None: the colour of its kind


class Company(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
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
    created_at: NaiveDatetime
    updated_at: NaiveDatetime
    deleted_at: Optional[NaiveDatetime] = None


class Contact(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str
    email: Optional[str] = None
    phone: Optional[str] = None
    title: Optional[str] = None
    company_id: Optional[int] = Field(default=None, foreign_key="company.id")
    notes: Optional[str] = None
    external_id: Optional[str] = None
    created_at: NaiveDatetime
    updated_at: NaiveDatetime
    deleted_at: Optional[NaiveDatetime] = None


class Deal(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    title: str
    company_id: Optional[int] = Field(default=None, foreign_key="company.id")
    contact_id: Optional[int] = Field(default=None, foreign_key="contact.id")
    pipeline_id: int = Field(foreign_key="pipeline.id")
    stage_id: int = Field(foreign_key="stage.id")
    stage_entered_at: NaiveDatetime
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
    created_at: NaiveDatetime
    updated_at: NaiveDatetime
    deleted_at: Optional[NaiveDatetime] = None
    # schema 5 (follow-ups). The last four are kept by triggers on activity and deal: never set them.
    snoozed_until: Optional[dt.date] = None
    last_touch_at: Optional[NaiveDatetime] = None
    open_tasks: int = 0
    next_task_due: Optional[dt.date] = None
    last_task_due: Optional[dt.date] = None


class Tag(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str


class DealTag(SQLModel, table=True):
    __tablename__ = "deal_tag"
    deal_id: int = Field(foreign_key="deal.id", primary_key=True)
    tag_id: int = Field(foreign_key="tag.id", primary_key=True)


class CompanyTag(SQLModel, table=True):
    __tablename__ = "company_tag"
    company_id: int = Field(foreign_key="company.id", primary_key=True)
    tag_id: int = Field(foreign_key="tag.id", primary_key=True)


class ContactTag(SQLModel, table=True):
    __tablename__ = "contact_tag"
    contact_id: int = Field(foreign_key="contact.id", primary_key=True)
    tag_id: int = Field(foreign_key="tag.id", primary_key=True)


class Activity(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    kind: str  # one of ACTIVITY_KINDS
    body: str = ""
    deal_id: Optional[int] = Field(default=None, foreign_key="deal.id")
    company_id: Optional[int] = Field(default=None, foreign_key="company.id")
    contact_id: Optional[int] = Field(default=None, foreign_key="contact.id")
    occurred_at: NaiveDatetime
    due_on: Optional[dt.date] = None  # tasks only
    done_at: Optional[NaiveDatetime] = None  # tasks only
    created_at: NaiveDatetime
    deleted_at: Optional[NaiveDatetime] = None


class StageChange(SQLModel, table=True):
    __tablename__ = "stage_change"
    id: Optional[int] = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id")
    from_stage_id: Optional[int] = Field(default=None, foreign_key="stage.id")
    to_stage_id: int = Field(foreign_key="stage.id")
    changed_at: NaiveDatetime


class Choice(SQLModel, table=True):
    id: Optional[int] = Field(default=None, primary_key=True)
    list_name: str  # one of CHOICE_LISTS
    value: str
    position: int = 0


class CustomField(SQLModel, table=True):
    __tablename__ = "custom_field"
    id: Optional[int] = Field(default=None, primary_key=True)
    entity: str  # deal / company / contact
    name: str
    kind: str = "text"  # one of CUSTOM_FIELD_KINDS
    options: Optional[str] = None  # JSON: choices for `choice`
    position: int = 0
    deleted_at: Optional[NaiveDatetime] = None
    required: bool = False  # asked for in quick add
    lookup: Optional[str] = None  # a lookup field's source, "company.size": shown live, never stored


class CustomValue(SQLModel, table=True):
    __tablename__ = "custom_value"
    field_id: int = Field(foreign_key="custom_field.id", primary_key=True)
    entity_id: int = Field(primary_key=True)
    value: Optional[str] = None


# --- schema 2 -------------------------------------------------------------------------------


class Setting(SQLModel, table=True):
    key: str = Field(primary_key=True)
    value: str


class UndoEntry(SQLModel, table=True):
    """One undoable change: `payload` is JSON the service that made it knows how to reverse."""

    __tablename__ = "undo_entry"
    id: Optional[int] = Field(default=None, primary_key=True)
    scope: str = "board"
    label: str
    payload: str
    created_at: NaiveDatetime
    undone_at: Optional[NaiveDatetime] = None


class DealLink(SQLModel, table=True):
    """A file or URL attached to a deal: signed contract, received files."""

    __tablename__ = "deal_link"
    id: Optional[int] = Field(default=None, primary_key=True)
    deal_id: int = Field(foreign_key="deal.id")
    kind: str = "file"  # file / contract / url
    target: str
    label: Optional[str] = None
    created_at: NaiveDatetime


# --- schema 3: imports ----------------------------------------------------------------------


class ImportRun(SQLModel, table=True):
    """One `crmtui import`: where from, how it was read, and its counts (`summary`, JSON)."""

    __tablename__ = "import_run"
    id: Optional[int] = Field(default=None, primary_key=True)
    source: str
    record_type: str  # deals / companies / contacts
    encoding: str
    delimiter: str
    rows_read: int = 0
    summary: str = "{}"
    created_at: NaiveDatetime
    undone_at: Optional[NaiveDatetime] = None


class ImportChange(SQLModel, table=True):
    """What an import did: created ids first..last of `entity`, updated one row (old/new values,
    JSON), or linked a tag to an existing record (first_id = record, last_id = tag)."""

    __tablename__ = "import_change"
    id: Optional[int] = Field(default=None, primary_key=True)
    import_id: int = Field(foreign_key="import_run.id")
    entity: str
    action: str  # created / updated / linked
    first_id: int
    last_id: int
    old_values: Optional[str] = None
    new_values: Optional[str] = None
