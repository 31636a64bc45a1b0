"""Undo, tried at random: any sequence of what the board, the record pages and triage do, undone
newest first across every page, leaves the database as it was."""

from __future__ import annotations

import datetime as dt
import shutil
import sqlite3
from collections.abc import Callable
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crmtui.store import board_actions, clock, undo
from crmtui.store.activities import (add_task, complete_task, delete_activity, log_activity, reschedule_task,
                                     undo_scope)
from crmtui.store.companies import create_company
from crmtui.store.contacts import create_contact
from crmtui.store.db import Database, open_database
from crmtui.store.deals import create_deal, mark_won, snooze_deal
from crmtui.store.editing import add_link, trash_record, update_record
from crmtui.store.errors import CrmError
from crmtui.store.field_setup import add_field
from crmtui.store.setup_pipelines import add_pipeline
from crmtui.store.tags import set_tags
from tests.conftest import FIXED_NOW, finder_terms

STAGES = ["Unqualified", "Qualification", "Proposal sent", "Negotiation", "Won", "Lost", "N/A"]
REASONS = ["Price too high", "Timing"]
DUE = ["+1d", "2026-12-01", "fri"]


def _seed(path: Path) -> None:
    """Two pipelines, two companies, two contacts, four deals (one won), custom fields, tags,
    tasks and notes; made a month before the actions."""
    db = open_database(path)
    clock.set_fixed_now(FIXED_NOW - dt.timedelta(days=30))
    with db.session() as s:
        acme = create_company(s, "Acme", domain="acme.com", size="medium")
        create_company(s, "Bolt")
        create_contact(s, "Jo Smith", email="jo@acme.com", company_id=acme.id)
        create_contact(s, "Pat Solo")
        add_field(s, "deal", "Budget owner", "text")
        add_field(s, "deal", "Service", "choice", options="Design,Build")
        add_field(s, "company", "Region", "text")
        add_pipeline(s, "Workshops")
        create_deal(s, "Website relaunch", company="Acme", contact="Jo Smith", amount="12500", tags=["website"],
                    expected_close="2026-12-15", confidence=4)
        create_deal(s, "Logo", company="Bolt", amount="3000", stage="Negotiation")
        create_deal(s, "Coaching", contact="Pat Solo", amount="900")
        won = create_deal(s, "Retainer", company="Acme", amount="9000")
        mark_won(s, won.id)
        set_tags(s, "company", acme.id, ["key account"])
        add_task(s, "deal", 1, "Send the proposal", "2026-11-20")
        add_task(s, "company", acme.id, "Quarterly review", "2026-12-05")
        log_activity(s, "note", "contact", 1, "Prefers mornings")
    clock.set_fixed_now(FIXED_NOW)
    db.close()


def _pick(db: Database, sql: str, n: int) -> int | None:
    """The n-th (modulo) id the query returns: actions name their target by a number."""
    with db.session() as s:
        ids = [r[0] for r in s.execute(sql)]
    return ids[n % len(ids)] if ids else None


LIVE = {"deal": "SELECT id FROM deal WHERE deleted_at IS NULL ORDER BY id",
        "company": "SELECT id FROM company WHERE deleted_at IS NULL ORDER BY id",
        "contact": "SELECT id FROM contact WHERE deleted_at IS NULL ORDER BY id"}
OPEN_TASKS = ("SELECT id FROM activity WHERE kind = 'task' AND done_at IS NULL AND deleted_at IS NULL"
              " AND (deal_id IS NULL OR deal_id IN (SELECT id FROM deal WHERE deleted_at IS NULL)) ORDER BY id")
ACTIVITIES = "SELECT id FROM activity WHERE deleted_at IS NULL ORDER BY id"

EDITS = {
    "deal": [("title", "Website, phase 2"), ("title", "Logo"), ("amount", "15000"), ("amount", "12,500.50"),
             ("amount", ""), ("cost", "4000"), ("stage", "Negotiation"), ("stage", "Won"), ("stage", "Lost"),
             ("pipeline", "Workshops"), ("pipeline", "Sales"),
             ("tags", "seo, brand new"), ("tags", ""), ("tags", "website"), ("company", "Bolt"), ("company", ""),
             ("company", "#1"), ("contact", "Jo Smith"), ("contact", ""), ("expected_close", "2027-01-15"),
             ("expected_close", ""), ("closed_on", "2026-11-01"), ("confidence", "2"), ("confidence", ""),
             ("notes", "Call back in spring"), ("source", "Referral"), ("lost_reason", "Timing"),
             ("currency", "EUR"), ("proposal_url", "https://docs.example/p/2"), ("cf_1", "Alice"), ("cf_1", ""),
             ("cf_2", "Build"), ("cf_2", "")],
    "company": [("name", "Acme Ltd"), ("domain", "acme.org"), ("domain", ""), ("email", "hi@acme.org"),
                ("size", "small"), ("size", ""), ("tags", "vip"), ("tags", ""), ("notes", "Pays late"),
                ("cf_3", "North"), ("cf_3", "")],
    "contact": [("name", "Jo Smith-Jones"), ("email", "jo@new.example"), ("email", ""), ("company", "Bolt"),
                ("company", ""), ("tags", "champion"), ("title", "CEO")],
}

NTH = st.integers(0, 20)  # which record an action picks (modulo how many there are)
ACTIONS = st.one_of(
    # the board
    st.tuples(st.just("move"), NTH, st.sampled_from(STAGES)),
    st.tuples(st.just("step"), NTH, st.sampled_from([1, -1])),
    st.tuples(st.just("win"), NTH),
    st.tuples(st.just("lose"), NTH, st.sampled_from(REASONS)),
    st.tuples(st.just("create"), st.sampled_from(["Audit", "Website"]), st.sampled_from(["", "Acme", "Newco"]),
              st.sampled_from(["", "Qualification"])),
    st.tuples(st.just("trash"), NTH),
    # the record pages
    *[st.tuples(st.just("edit"), st.just(kind), NTH, st.lists(st.sampled_from(EDITS[kind]), min_size=1, max_size=5))
      for kind in ("deal", "deal", "deal", "company", "contact")],  # a deal has the most fields
    st.tuples(st.just("log"), st.sampled_from(sorted(LIVE)), NTH, st.sampled_from(["call", "note"])),
    st.tuples(st.just("task"), st.sampled_from(sorted(LIVE)), NTH, st.sampled_from(DUE)),
    st.tuples(st.just("complete"), NTH),
    st.tuples(st.just("reschedule"), NTH, st.sampled_from(DUE)),
    st.tuples(st.just("delete_activity"), NTH),
    st.tuples(st.just("trash_record"), st.sampled_from(["company", "contact"]), NTH),
    st.tuples(st.just("link"), NTH, st.sampled_from(["https://drive.example/contract", "~/deals/brief.pdf"])),
    # triage
    st.tuples(st.just("snooze"), NTH, st.sampled_from(["+1w", "2027-02-01", "off"])),
)


def _page_of(db: Database, activity_id: int) -> str:
    """The undo scope of the page an activity is acted on from: its deal's, else its contact's or company's."""
    with db.session() as s:
        deal, company, contact = s.execute(
            "SELECT deal_id, company_id, contact_id FROM activity WHERE id = :id", {"id": activity_id}).fetchone()
    if deal:
        return undo_scope("deal", deal)
    return undo_scope("contact", contact) if contact and not company else undo_scope("company", company)


def _on_a_deal(change: Callable[..., Any]) -> Callable[..., None]:
    def act(db: Database, n: int, *args: Any) -> None:  # noqa: ANN401
        deal = _pick(db, LIVE["deal"], n)
        if deal is not None:
            with db.session() as s:
                change(s, deal, *args)
    return act


def _create(db: Database, title: str, company: str, stage: str) -> None:
    with db.session() as s:
        board_actions.create(s, title, company=company, amount="2500", stage=stage or None)


def _edit(db: Database, kind: str, n: int, typed: list[tuple[str, str]]) -> None:
    record = _pick(db, LIVE[kind], n)
    if record is not None:
        with db.session() as s:
            update_record(s, kind, record, dict(typed))


def _log_or_task(what: str) -> Callable[..., None]:
    def act(db: Database, kind: str, n: int, value: str) -> None:
        record = _pick(db, LIVE[kind], n)
        if record is not None:
            with db.session() as s:
                if what == "log":
                    log_activity(s, value, kind, record, "Spoke about the budget")
                else:
                    add_task(s, kind, record, "Call back", value)
    return act


def _on_an_activity(query: str, change: Callable[..., Any]) -> Callable[..., None]:
    def act(db: Database, n: int, *args: Any) -> None:  # noqa: ANN401
        activity = _pick(db, query, n)
        if activity is not None:
            scope = _page_of(db, activity)
            with db.session() as s:
                change(s, activity, *args, scope=scope)
    return act


def _trash_record(db: Database, kind: str, n: int) -> None:
    record = _pick(db, LIVE[kind], n)
    if record is not None:
        with db.session() as s:
            trash_record(s, kind, record)


PERFORM: dict[str, Callable[..., None]] = {
    "move": _on_a_deal(board_actions.move_to_stage),
    "step": _on_a_deal(board_actions.step),
    "win": _on_a_deal(board_actions.win),
    "lose": _on_a_deal(board_actions.lose),
    "create": _create,
    "trash": _on_a_deal(board_actions.trash),
    "edit": _edit,
    "log": _log_or_task("log"),
    "task": _log_or_task("task"),
    "complete": _on_an_activity(OPEN_TASKS, complete_task),
    "reschedule": _on_an_activity(OPEN_TASKS, reschedule_task),
    "delete_activity": _on_an_activity(ACTIVITIES, delete_activity),
    "trash_record": _trash_record,
    "link": _on_a_deal(add_link),
    "snooze": _on_a_deal(snooze_deal),
}


def _undo_everything_since(db: Database, start: int) -> int:
    """Undo the newest change of any page until none is left; how many were undone."""
    undone = 0
    while True:
        with db.session() as s:
            scope = s.execute("SELECT scope FROM undo_entry WHERE undone_at IS NULL AND id > :start ORDER BY id DESC LIMIT 1",
                {"start": start}).scalar()
            if scope is None:
                return undone
            undo.undo_last(s, scope=scope)
        undone += 1


# Not compared: the undo log itself (it records the changes and their undoing); the finder's index
# (its own bookkeeping differs after a change and its undo: what it finds is compared instead);
# and a deal's last touch, which by design never goes back (an activity logged and undone still
# counts as contact made: the follow-up rules do not call the deal stale again).
SKIPPED_TABLES = {"undo_entry", "sqlite_stat1"}
SKIPPED_COLUMNS = {("deal", "last_touch_at")}
RECORDS = ("deal", "company", "contact", "activity")
Table = tuple[tuple[str, ...], list[tuple]]  # column names, rows in a fixed order


def _contents(path: Path) -> dict[str, Table]:
    conn = sqlite3.connect(path)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                                             " AND name NOT LIKE 'search_index%' ORDER BY name")]
        out = {}
        for table in set(tables) - SKIPPED_TABLES:
            columns = tuple(r[1] for r in conn.execute(f'PRAGMA table_info("{table}")')
                            if (table, r[1]) not in SKIPPED_COLUMNS)
            rows = conn.execute(f'SELECT {", ".join(columns)} FROM "{table}"').fetchall()
            out[table] = (columns, sorted(rows, key=repr))
        return out
    finally:
        conn.close()


def _dicts(table: Table) -> list[dict[str, Any]]:
    columns, rows = table
    return [dict(zip(columns, row, strict=True)) for row in rows]


def _rows_where(table: Table, keep: Callable[[dict[str, Any]], bool]) -> Table:
    columns, rows = table
    return columns, [row for row, named in zip(rows, _dicts(table), strict=True) if keep(named)]


def _without_records_made_since(contents: dict[str, Table], start: dict[str, Table]) -> dict[str, Table]:
    """The records the actions created are still there, in the trash: undoing a creation trashes
    it, as a delete would, so it can be brought back. Asserts so, then leaves them and what is
    theirs alone (a new deal's stage history and custom values)."""
    out = dict(contents)
    made: dict[str, set[int]] = {}
    for table in RECORDS:
        known = {row["id"] for row in _dicts(start[table])}
        new = [row for row in _dicts(contents[table]) if row["id"] not in known]
        assert all(row["deleted_at"] is not None for row in new), (table, new)
        made[table] = {row["id"] for row in new}
        out[table] = _rows_where(contents[table], lambda row, known=known: row["id"] in known)
    for table in ("stage_change", "deal_link"):
        out[table] = _rows_where(contents[table], lambda row: row["deal_id"] not in made["deal"])
    deal_fields = {row["id"] for row in _dicts(contents["custom_field"]) if row["entity"] == "deal"}
    out["custom_value"] = _rows_where(contents["custom_value"], lambda row: not (
        row["field_id"] in deal_fields and row["entity_id"] in made["deal"]))
    return out


@pytest.fixture
def seeded(tmp_path: Path, fixed_clock: dt.datetime) -> Path:  # noqa: ARG001
    path = tmp_path / "seed.db"
    _seed(path)
    return path


RUNS = count()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(actions=st.lists(ACTIONS, min_size=1, max_size=15))
@example(actions=[("edit", "company", 0, [("tags", "vip")])])  # a tag made by an edit went with its undo
def test_undoing_every_change_of_the_board_pages_and_triage_gives_back_the_database_as_it_was(
    seeded: Path, tmp_path: Path, actions: list[tuple[Any, ...]]
) -> None:
    path = tmp_path / f"run{next(RUNS)}.db"
    shutil.copyfile(seeded, path)
    start = _contents(path)
    db = open_database(path)
    with db.session() as s:
        start_id = undo.latest_id(s) or 0
    changes = 0
    for kind, *args in actions:
        with db.session() as s:
            before = undo.latest_id(s)
        try:
            PERFORM[kind](db, *args)
        except CrmError:
            pass  # refused (a deal already in its last stage, a task already done): nothing written
        with db.session() as s:
            changes += undo.latest_id(s) != before
    assert _undo_everything_since(db, start_id) == changes
    db.close()
    assert _without_records_made_since(_contents(path), start) == start
    held, fresh = finder_terms(path)
    assert held == fresh
