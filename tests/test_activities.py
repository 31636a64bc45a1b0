"""Activities, tasks, editing, undo and the trash: the store functions and the CLI commands."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtui.cli import app as cli
from crmtui.store.activities import (
    add_task,
    complete_task,
    log_activity,
    next_open_task,
    reschedule_task,
    stage_history,
    tasks,
    timeline,
)
from crmtui.store.companies import create_company
from crmtui.store.contacts import create_contact
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal, move_deal
from crmtui.store.editing import check_field, form_values, trash_record, undo_last_edit, update_record
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.trash import parse_ref, restore, trash_list
from tests.conftest import fetch, snapshot_of

runner = CliRunner()


@pytest.fixture
def seeded(db_path: Path, fixed_clock: dt.datetime) -> Path:
    db = open_database(db_path)
    with db.session() as s:
        acme = create_company(s, "Acme", domain="acme.com", email="hello@acme.com", phone="+1 555 0100")
        create_contact(s, "Jo Smith", email="jo@acme.com", company_id=acme.id)
        create_deal(s, "Website relaunch", company="Acme", contact="jo@acme.com", amount="12500", cost="4000")
    db.close()
    return db_path


def run(db_path: Path, *args: str):  # noqa: ANN201
    return runner.invoke(cli, ["--db", str(db_path), *args])


# --- store ---------------------------------------------------------------------------------


def test_log_activity_belongs_to_the_deal_its_company_and_contact(seeded: Path) -> None:
    db = open_database(seeded)
    with db.session() as s:
        a = log_activity(s, "call", "deal", 1, "Talked budget", when="2026-11-20")
        assert (a.deal_id, a.company_id, a.contact_id) == (1, 1, 1)
        assert a.occurred_at == dt.datetime(2026, 11, 20, 12, 0)
    with db.session() as s:
        for kind, rid in (("deal", 1), ("company", 1), ("contact", 1)):
            texts = [e.text for e in timeline(s, kind, rid)]
            assert "Talked budget" in texts and "created in Unqualified" in texts


def test_timeline_is_newest_first_with_stage_changes_mixed_in(seeded: Path, fixed_clock: dt.datetime) -> None:
    from crmtui.store import clock

    db = open_database(seeded)
    with db.session() as s:
        log_activity(s, "note", "deal", 1, "first", when="2026-11-01")
    clock.set_fixed_now(dt.datetime(2026, 11, 25, 10, 0))
    with db.session() as s:
        move_deal(s, 1, "Proposal sent")
    clock.set_fixed_now(dt.datetime(2026, 11, 26, 10, 0))
    with db.session() as s:
        log_activity(s, "email", "deal", 1, "sent the proposal")
        entries = timeline(s, "deal", 1)
        assert [(e.kind, e.text) for e in entries] == [
            ("email", "sent the proposal"),
            ("stage", "Unqualified → Proposal sent"),
            ("stage", "created in Unqualified"),
            ("note", "first"),
        ]
        stays = stage_history(s, 1)
        assert [(x.stage, x.days) for x in stays] == [("Unqualified", 2), ("Proposal sent", 1)]


def test_tasks_due_dates_complete_reschedule_and_overdue(seeded: Path) -> None:
    db = open_database(seeded)
    with db.session() as s:
        late = add_task(s, "deal", 1, "Chase invoice", "2026-11-20")
        soon = add_task(s, "company", 1, "Send proposal", "fri")
        plus = add_task(s, "contact", 1, "Call back", "+3d")
        assert soon.due_on == dt.date(2026, 11, 27) and plus.due_on == dt.date(2026, 11, 26)
        assert next_open_task(s, "deal", 1).id == late.id
        assert [t["id"] for t in tasks(s, overdue=True)] == [late.id]
        complete_task(s, late.id)
        assert next_open_task(s, "deal", 1) is None
        reschedule_task(s, soon.id, "2026-12-01")
        assert [t["id"] for t in tasks(s)] == [plus.id, soon.id]
        with pytest.raises(ValidationError, match="already done"):
            complete_task(s, late.id)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda s: log_activity(s, "note", "deal", 1, "   "), "text: required"),
        (lambda s: log_activity(s, "fax", "deal", 1, "x"), "kind: 'fax'"),
        (lambda s: log_activity(s, "note", "deal", 99, "x"), "no deal with id 99"),
        (lambda s: add_task(s, "deal", 1, "x", "someday"), "due date: 'someday' is not a date"),
        (lambda s: add_task(s, "deal", 1, "x", ""), "due date: required"),
        (lambda s: complete_task(s, 12345), "no task with id 12345"),
    ],
)
def test_bad_activity_input_is_refused(seeded: Path, call, message: str) -> None:  # noqa: ANN001
    db = open_database(seeded)
    before = snapshot_of(seeded)
    with pytest.raises((ValidationError, NotFound), match=message), db.session() as s:
        call(s)
    assert snapshot_of(seeded) == before


def test_edit_deal_validates_and_undo_restores_everything(seeded: Path) -> None:
    db = open_database(seeded)
    with db.session() as s:
        changed = update_record(s, "deal", 1, {
            "title": "Website relaunch v2", "amount": "15,000", "confidence": "4", "stage": "Negotiation",
            "tags": "website, seo", "expected_close": "2026-12-31", "proposal_url": "docs.example/p1",
        })
        assert set(changed) == {"title", "amount", "confidence", "stage", "tags", "expected_close", "proposal_url"}
    assert fetch(seeded, "SELECT title, amount_cents, confidence, proposal_url, expected_close FROM deal") == [
        ("Website relaunch v2", 1500000, 4, "https://docs.example/p1", "2026-12-31")
    ]
    assert fetch(seeded, "SELECT count(*) FROM stage_change WHERE deal_id = 1") == [(2,)]
    with db.session() as s:
        assert undo_last_edit(s, "deal", 1).startswith("edit ")
    assert fetch(seeded, "SELECT title, amount_cents, confidence, proposal_url, stage_id FROM deal") == [
        ("Website relaunch", 1250000, None, None, 1)
    ]
    assert fetch(seeded, "SELECT count(*) FROM stage_change") == [(1,)]
    assert fetch(seeded, "SELECT count(*) FROM deal_tag") == [(0,)]
    with db.session() as s:
        assert undo_last_edit(s, "deal", 1) is None  # creating the deal is not this page's edit


@pytest.mark.parametrize(
    ("kind", "field", "value", "reason"),
    [
        ("deal", "title", "  ", "title: required"),
        ("deal", "amount", "12,5x", "amount"),
        ("deal", "amount", "-5", "amount: must not be negative"),
        ("deal", "confidence", "6", "confidence: '6' is not 1 to 5 stars"),
        ("deal", "expected_close", "31/31/2026", "expected close"),
        ("deal", "proposal_url", "not a url", "proposal URL"),
        ("deal", "currency", "euro", "currency"),
        ("company", "name", "", "name: required"),
        ("company", "email", "hello@", "email: 'hello@' is not an email address"),
        ("company", "website", "ftp://x", "website"),
        ("contact", "email", "jo at acme", "email"),
    ],
)
def test_each_field_check_names_the_problem(kind: str, field: str, value: str, reason: str, seeded: Path) -> None:
    assert reason in (check_field(kind, field, value) or "")
    db = open_database(seeded)
    before = snapshot_of(seeded)
    with pytest.raises(ValidationError, match=reason.split(":")[0]), db.session() as s:
        update_record(s, kind, 1, {field: value})
    assert snapshot_of(seeded) == before


def test_a_size_outside_the_customer_size_list_is_refused_on_save(seeded: Path) -> None:
    # (the list is the user's, in the database: checked on save, not per keystroke)
    db = open_database(seeded)
    before = snapshot_of(seeded)
    with pytest.raises(ValidationError, match="size: 'huge' is not one of small, medium, enterprise"), db.session() as s:
        update_record(s, "company", 1, {"size": "huge"})
    assert snapshot_of(seeded) == before


def test_customer_is_looked_up_not_copied(seeded: Path) -> None:
    db = open_database(seeded)
    with db.session() as s:
        update_record(s, "company", 1, {"name": "Acme Corp", "email": "sales@acme.com"})
        update_record(s, "contact", 1, {"phone": "+1 555 0199"})
        from crmtui.store.deals import deal_detail

        row = deal_detail(s, 1)
        assert row["company"] == "Acme Corp"
        assert form_values(s, "deal", 1)["company"] == "Acme Corp"
    assert fetch(seeded, "PRAGMA table_info(deal)")  # no customer columns on a deal:
    assert not {"email", "phone"} & {r[1] for r in fetch(seeded, "PRAGMA table_info(deal)")}


def test_edit_links_the_deal_to_an_existing_company_only(seeded: Path) -> None:
    db = open_database(seeded)
    with pytest.raises(ValidationError, match="no company called 'Nope'"), db.session() as s:
        update_record(s, "deal", 1, {"company": "Nope"})
    with db.session() as s:
        create_company(s, "Bolt")
        update_record(s, "deal", 1, {"company": "bolt"})
    assert fetch(seeded, "SELECT company_id FROM deal") == [(2,)]


def test_trash_and_restore_every_kind(seeded: Path) -> None:
    db = open_database(seeded)
    with db.session() as s:
        note = log_activity(s, "note", "deal", 1, "x")
        trash_record(s, "deal", 1)
        trash_record(s, "contact", 1)
        from crmtui.store.trash import move_to_trash

        move_to_trash(s, f"A{note.id}")
        refs = [r["ref"] for r in trash_list(s)]
        assert sorted(refs) == sorted(["D1", "P1", f"A{note.id}"])
    with db.session() as s:
        restore(s, "d1")
        restore(s, "contact:1")
    assert fetch(seeded, "SELECT deleted_at FROM deal") == [(None,)]
    assert fetch(seeded, "SELECT deleted_at FROM contact") == [(None,)]
    with pytest.raises(ValidationError, match="not in the trash"), db.session() as s:
        restore(s, "D1")


@pytest.mark.parametrize("value", ["X1", "", "D", "deal:abc", "12x"])
def test_bad_trash_ids(value: str) -> None:
    with pytest.raises(ValidationError, match="is not a record id"):
        parse_ref(value)


# --- CLI -----------------------------------------------------------------------------------


def test_cli_log_each_kind(seeded: Path) -> None:
    for flag, kind in (("--note", "note"), ("--call", "call"), ("--email", "email"), ("--meeting", "meeting")):
        result = run(seeded, "log", "1", flag, f"{kind} text")
        assert result.exit_code == 0, result.output
        assert f"Logged {kind}" in result.output
    result = run(seeded, "log", "C1", "--note", "on the company", "--json")
    assert json.loads(result.output)["record"] == "C1"
    assert fetch(seeded, "SELECT kind, body FROM activity ORDER BY id") == [
        ("note", "note text"), ("call", "call text"), ("email", "email text"), ("meeting", "meeting text"),
        ("note", "on the company"),
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["log", "99", "--note", "x"], "no deal with id 99"),
        (["log", "P42", "--call", "x"], "no contact with id 42"),
        (["log", "1", "--note", "  "], "text: required"),
        (["log", "1"], "give exactly one of --note"),
        (["log", "1", "--note", "a", "--call", "b"], "give exactly one of --note"),
        (["log", "Z1", "--note", "x"], "is not a record id"),
        (["log", "1", "--note", "x", "--date", "31.31.2026"], "date: '31.31.2026' is not a date"),
        (["task", "add", "1", "Call", "--due", "someday"], "due date: 'someday' is not a date"),
        (["task", "add", "1", "Call"], "due date: required"),
        (["task", "add", "1", " ", "--due", "fri"], "text: required"),
        (["task", "add", "77", "Call", "--due", "fri"], "no deal with id 77"),
        (["task", "done", "555"], "no task with id 555"),
        (["task", "done", "abc"], "is not a number"),
        (["task", "reschedule", "555", "fri"], "no task with id 555"),
        (["trash", "restore", "D1"], "is not in the trash"),
        (["trash", "restore", "D99"], "no deal with id 99"),
        (["trash", "restore", "Q1"], "is not a record id"),
    ],
)
def test_cli_errors_are_one_line_and_write_nothing(seeded: Path, args: list[str], message: str) -> None:
    before = snapshot_of(seeded)
    result = run(seeded, *args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert snapshot_of(seeded) == before


def test_cli_tasks_add_done_and_list(seeded: Path) -> None:
    assert run(seeded, "task", "add", "1", "Send proposal", "--due", "tomorrow").exit_code == 0
    assert run(seeded, "task", "add", "C1", "Old chase", "--due", "2026-11-01").exit_code == 0
    result = run(seeded, "tasks", "--json")
    rows = json.loads(result.output)
    assert [(r["body"], r["due_on"], r["overdue"]) for r in rows] == [
        ("Old chase", "2026-11-01", True), ("Send proposal", "2026-11-24", False)
    ]
    overdue = json.loads(run(seeded, "tasks", "--overdue", "--json").output)
    assert [r["body"] for r in overdue] == ["Old chase"]
    table = run(seeded, "tasks")
    assert "Send proposal" in table.output and "D1 Website relaunch" in table.output
    done = run(seeded, "task", "done", str(rows[0]["id"]))
    assert done.exit_code == 0 and "Old chase" in done.output
    assert fetch(seeded, "SELECT done_at IS NOT NULL FROM activity WHERE body = 'Old chase'") == [(1,)]
    assert "No overdue tasks" in run(seeded, "tasks", "--overdue").output
    moved = run(seeded, "task", "reschedule", str(rows[1]["id"]), "+1w", "--json")
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.output)["due_on"] == "2026-11-30"
    assert fetch(seeded, "SELECT due_on FROM activity WHERE body = 'Send proposal'") == [("2026-11-30",)]
    before = snapshot_of(seeded)
    refused = run(seeded, "task", "reschedule", str(rows[0]["id"]), "fri")  # done already
    assert refused.exit_code == 1 and "is done; nothing to reschedule" in refused.output
    bad = run(seeded, "task", "reschedule", str(rows[1]["id"]), "someday")
    assert bad.exit_code == 1 and "due date: 'someday' is not a date" in bad.output
    assert "Traceback" not in bad.output + refused.output
    assert snapshot_of(seeded) == before


def test_cli_trash_list_and_restore(seeded: Path) -> None:
    db = open_database(seeded)
    with db.session() as s:
        trash_record(s, "deal", 1)
        trash_record(s, "company", 1)
    db.close()
    listed = run(seeded, "trash", "list")
    assert "D1" in listed.output and "C1" in listed.output and "Website relaunch" in listed.output
    rows = json.loads(run(seeded, "trash", "list", "--json").output)
    assert {r["ref"] for r in rows} == {"D1", "C1"}
    result = run(seeded, "trash", "restore", "C1")
    assert result.exit_code == 0 and "Restored company C1 'Acme'" in result.output
    assert fetch(seeded, "SELECT deleted_at FROM company") == [(None,)]
    assert fetch(seeded, "SELECT deleted_at IS NOT NULL FROM deal") == [(1,)]
    assert "The trash is empty" not in run(seeded, "trash", "list").output
    run(seeded, "trash", "restore", "d1")
    assert "The trash is empty" in run(seeded, "trash", "list").output


def test_moving_a_deal_to_another_pipeline_records_the_change_and_undoes(seeded: Path) -> None:
    conn = open_database(seeded).raw()
    pid = conn.execute("INSERT INTO pipeline (name, position, created_at) VALUES ('Workshops', 1, '2026-01-01')").lastrowid
    conn.executemany(
        "INSERT INTO stage (pipeline_id, name, position, probability, kind) VALUES (?, ?, ?, ?, ?)",
        [(pid, "Enquiry", 0, 20, "open"), (pid, "Booked", 1, 80, "open"), (pid, "Held", 2, 100, "won")],
    )
    conn.close()
    db = open_database(seeded)
    with db.session() as s:
        update_record(s, "deal", 1, {"pipeline": "workshops"})
        assert form_values(s, "deal", 1)["stage"] == "Enquiry"  # Unqualified is not in Workshops
    assert fetch(seeded, "SELECT p.name, s.name FROM deal d JOIN pipeline p ON p.id = d.pipeline_id JOIN stage s ON s.id = d.stage_id") == [
        ("Workshops", "Enquiry")
    ]
    with db.session() as s:
        update_record(s, "deal", 1, {"pipeline": "Sales", "stage": "Negotiation"})
    with pytest.raises(ValidationError, match="unknown stage 'Won' in pipeline 'Workshops'"), db.session() as s:
        update_record(s, "deal", 1, {"pipeline": "Workshops", "stage": "Won"})
    with pytest.raises(ValidationError, match="unknown pipeline 'Nope'"), db.session() as s:
        update_record(s, "deal", 1, {"pipeline": "Nope"})
    with db.session() as s:
        undo_last_edit(s, "deal", 1)
        undo_last_edit(s, "deal", 1)
    assert fetch(seeded, "SELECT pipeline_id, stage_id FROM deal") == [(1, 1)]
    assert fetch(seeded, "SELECT count(*) FROM stage_change") == [(1,)]


def _define_custom_fields(db_path: Path) -> None:
    conn = open_database(db_path).raw()
    conn.executemany(
        "INSERT INTO custom_field (id, entity, name, kind, options, position) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (1, "deal", "PO number", "text", None, 0),
            (2, "deal", "Budget", "money", None, 1),
            (3, "deal", "Kick-off", "date", None, 2),
            (4, "deal", "Channel", "choice", '["Email", "Phone"]', 3),
            (5, "deal", "Fit", "rating", None, 4),
            (6, "deal", "NDA signed", "yesno", None, 5),
            (7, "deal", "Brief", "url", None, 6),
            (8, "deal", "Seats", "number", None, 7),
            (9, "company", "VAT id", "text", None, 0),
        ],
    )
    conn.close()


def test_custom_fields_are_checked_by_kind_saved_and_undone(seeded: Path) -> None:
    from crmtui.store.custom_fields import custom_rows

    _define_custom_fields(seeded)
    db = open_database(seeded)
    with db.session() as s:
        changed = update_record(s, "deal", 1, {
            "cf_1": "PO-77", "cf_2": "$2,500", "cf_3": "2026-12-01", "cf_4": "phone", "cf_5": "4",
            "cf_6": "y", "cf_7": "brief.example/x", "cf_8": "12",
        })
        assert len(changed) == 8
        shown = {f["name"]: v for f, v in custom_rows(s, "deal", 1)}
        assert shown == {"PO number": "PO-77", "Budget": "250000", "Kick-off": "2026-12-01", "Channel": "Phone",
                         "Fit": "4", "NDA signed": "yes", "Brief": "https://brief.example/x", "Seats": "12"}
        assert [f["name"] for f, _ in custom_rows(s, "company", 1)] == ["VAT id"]
    for key, value, reason in (
        ("cf_2", "lots", "Budget"), ("cf_3", "someday", "Kick-off: 'someday' is not a date"),
        ("cf_4", "Fax", "Channel: 'Fax' is not one of Email, Phone"), ("cf_5", "9", "Fit: '9' is not 1 to 5 stars"),
        ("cf_6", "maybe", "NDA signed: 'maybe' is not yes or no"), ("cf_7", "not a url", "Brief"),
        ("cf_8", "ten", "Seats: 'ten' is not a number"), ("cf_9", "x", "no custom field 'cf_9' on a deal"),
    ):
        with pytest.raises(ValidationError, match=reason), db.session() as s:
            update_record(s, "deal", 1, {key: value})
    with db.session() as s:
        update_record(s, "deal", 1, {"cf_1": "", "title": "Renamed"})
        assert undo_last_edit(s, "deal", 1) == "edit title, PO number"
    assert fetch(seeded, "SELECT field_id, value FROM custom_value WHERE field_id = 1") == [(1, "PO-77")]
    assert fetch(seeded, "SELECT title FROM deal WHERE id = 1") == [("Website relaunch",)]
    with db.session() as s:
        undo_last_edit(s, "deal", 1)
    assert fetch(seeded, "SELECT count(*) FROM custom_value") == [(0,)]
