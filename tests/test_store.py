"""The service layer the CLI and the TUI share."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmtui.store import clock
from crmtui.store.companies import create_company
from crmtui.store.contacts import create_contact
from crmtui.store.db import Database
from crmtui.store.deals import (
    create_deal,
    deal_detail,
    deal_rows,
    delete_deal,
    mark_lost,
    mark_won,
    move_deal,
    restore_deal,
    step_deal,
)
from crmtui.store.demo import generate_demo
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.validate import normalise_domain
from tests.conftest import FIXED_NOW, fetch


def test_create_deal_links_company_contact_and_records_first_stage(db: Database, db_path: Path, fixed_clock) -> None:
    with db.session() as s:
        deal = create_deal(
            s, "Website relaunch", company="Acme", contact="jo@acme.com", amount="$12,500.50",
            tags=["website", "#SEO", "website"], expected_close="2027-01-15", confidence=4, source="Referral",
        )
    row = fetch(db_path, "SELECT title, amount_cents, expected_close, confidence, source, company_id, contact_id FROM deal")
    assert row == [("Website relaunch", 1250050, "2027-01-15", 4, "Referral", 1, 1)]
    assert fetch(db_path, "SELECT name FROM company") == [("Acme",)]
    assert fetch(db_path, "SELECT email, company_id FROM contact") == [("jo@acme.com", 1)]
    assert fetch(db_path, "SELECT from_stage_id, to_stage_id, changed_at FROM stage_change") == [
        (None, 1, "2026-11-23 09:30:00.000000")
    ]
    with db.session() as s:
        assert deal_detail(s, deal.id)["tags"] == ["SEO", "website"]


def test_a_deal_can_belong_to_a_person_without_company(db: Database) -> None:
    with db.session() as s:
        create_deal(s, "Coaching", contact="Ann Lee")
        (row,) = deal_rows(s)
    assert row["company"] is None and row["contact"] == "Ann Lee"


def test_same_company_name_is_reused_case_insensitively(db: Database, db_path: Path) -> None:
    with db.session() as s:
        create_deal(s, "A", company="Acme")
        create_deal(s, "B", company="  ACME ")
    assert fetch(db_path, "SELECT count(*) FROM company") == [(1,)]


def test_moves_record_history_and_close_dates(db: Database, db_path: Path, fixed_clock) -> None:
    with db.session() as s:
        deal = create_deal(s, "Deal", amount=1000)
    with db.session() as s:
        move_deal(s, deal.id, "proposal sent")
        step_deal(s, deal.id, +1)
    assert fetch(db_path, "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id") == [("Negotiation",)]
    with db.session() as s:
        mark_won(s, deal.id)
    assert fetch(db_path, "SELECT closed_on, lost_reason FROM deal") == [("2026-11-23", None)]
    with db.session() as s:
        move_deal(s, deal.id, "Negotiation")
    assert fetch(db_path, "SELECT closed_on FROM deal") == [(None,)]
    with db.session() as s:
        mark_lost(s, deal.id, "Price too high")
    assert fetch(db_path, "SELECT closed_on, lost_reason FROM deal") == [("2026-11-23", "Price too high")]
    moves = fetch(db_path, "SELECT f.name, t.name FROM stage_change c LEFT JOIN stage f ON f.id = c.from_stage_id "
                  "JOIN stage t ON t.id = c.to_stage_id ORDER BY c.id")
    assert moves == [
        (None, "Unqualified"),
        ("Unqualified", "Proposal sent"),
        ("Proposal sent", "Negotiation"),
        ("Negotiation", "Won"),
        ("Won", "Negotiation"),
        ("Negotiation", "Lost"),
    ]


def test_stage_entered_at_follows_the_clock(db: Database, db_path: Path) -> None:
    clock.set_fixed_now(dt.datetime(2026, 1, 1, 12))
    try:
        with db.session() as s:
            deal = create_deal(s, "Deal")
        clock.set_fixed_now(dt.datetime(2026, 1, 10, 8))
        with db.session() as s:
            move_deal(s, deal.id, "Qualification")
    finally:
        clock.set_fixed_now(None)
    assert fetch(db_path, "SELECT stage_entered_at FROM deal") == [("2026-01-10 08:00:00.000000",)]


def test_invalid_input_writes_nothing(db: Database, db_path: Path) -> None:
    with pytest.raises(ValidationError, match="amount"):
        with db.session() as s:
            create_deal(s, "Deal", company="NewCo", amount="12,5x")
    with pytest.raises(ValidationError, match="unknown stage"):
        with db.session() as s:
            create_deal(s, "Deal", company="NewCo", stage="Nope")
    with pytest.raises(ValidationError, match="title"):
        with db.session() as s:
            create_deal(s, "   ")
    assert fetch(db_path, "SELECT count(*) FROM company") == [(0,)]
    assert fetch(db_path, "SELECT count(*) FROM deal") == [(0,)]


def test_lost_needs_a_reason_and_missing_deals_are_reported(db: Database) -> None:
    with db.session() as s:
        deal = create_deal(s, "Deal")
    with pytest.raises(ValidationError, match="reason"):
        with db.session() as s:
            mark_lost(s, deal.id, " ")
    with pytest.raises(NotFound, match="no deal with id 99"):
        with db.session() as s:
            mark_won(s, 99)


def test_stepping_past_the_ends_is_refused(db: Database) -> None:
    with db.session() as s:
        deal = create_deal(s, "Deal")
    with pytest.raises(ValidationError, match="first open stage"):
        with db.session() as s:
            step_deal(s, deal.id, -1)


def test_trash_and_restore(db: Database) -> None:
    with db.session() as s:
        deal = create_deal(s, "Deal")
    with db.session() as s:
        delete_deal(s, deal.id)
    with db.session() as s:
        assert deal_rows(s) == []
        with pytest.raises(NotFound):
            move_deal(s, deal.id, "Won")
    with db.session() as s:
        restore_deal(s, deal.id)
        assert [r["id"] for r in deal_rows(s)] == [deal.id]


def test_filters(db: Database) -> None:
    with db.session() as s:
        a = create_deal(s, "A", tags=["seo"])
        b = create_deal(s, "B", stage="Negotiation")
        c = create_deal(s, "C")
        mark_won(s, c.id)
    with db.session() as s:
        assert [r["id"] for r in deal_rows(s, tag="SEO")] == [a.id]
        assert [r["id"] for r in deal_rows(s, stage="negotiation")] == [b.id]
        assert [r["id"] for r in deal_rows(s, status="won")] == [c.id]
        assert sorted(r["id"] for r in deal_rows(s, status="open")) == [a.id, b.id]


def test_companies_and_contacts_validate(db: Database) -> None:
    with db.session() as s:
        company = create_company(s, "Acme", website="https://www.Acme.com/about")
        assert company.domain == "acme.com"
        with pytest.raises(ValidationError, match="email"):
            create_contact(s, "Jo", email="not-an-email")
    assert normalise_domain("jo@Sub.Acme.com") == "sub.acme.com"
    assert normalise_domain("acme") is None


def test_demo_is_deterministic_and_covers_every_stage(tmp_path: Path, fixed_clock) -> None:
    from crmtui.store.db import open_database

    dumps = []
    for name in ("a.db", "b.db"):
        db = open_database(tmp_path / name)
        summary = generate_demo(db, deals=400, seed=7)
        db.close()
        dumps.append(fetch(tmp_path / name, "SELECT title, stage_id, amount_cents, created_at FROM deal ORDER BY id"))
        assert summary.deals == 400
        assert summary.open_deals > 200  # most deals are open
    assert dumps[0] == dumps[1]
    stages = {r[0] for r in fetch(tmp_path / "a.db", "SELECT DISTINCT s.kind FROM deal d JOIN stage s ON s.id = d.stage_id")}
    assert stages == {"open", "won", "lost", "closed"}
    created = [r[0] for r in fetch(tmp_path / "a.db", "SELECT min(created_at), max(created_at) FROM deal")[0]]
    assert created[0] < str(FIXED_NOW - dt.timedelta(days=500)) and created[1] <= str(FIXED_NOW)
    # Every deal's history starts with its creation and ends in its current stage.
    bad = fetch(
        tmp_path / "a.db",
        "SELECT d.id FROM deal d WHERE d.stage_id != (SELECT to_stage_id FROM stage_change c WHERE c.deal_id = d.id "
        "ORDER BY changed_at DESC, id DESC LIMIT 1)",
    )
    assert bad == []
    assert fetch(tmp_path / "a.db", "SELECT count(*) FROM deal d JOIN stage s ON s.id = d.stage_id "
                 "WHERE s.kind = 'lost' AND d.lost_reason IS NULL") == [(0,)]


def test_demo_refuses_a_database_with_deals(db: Database, db_path: Path) -> None:
    with db.session() as s:
        create_deal(s, "Mine")
    with pytest.raises(ValidationError, match="already has 1 deals"):
        generate_demo(db, deals=10)
    assert fetch(db_path, "SELECT count(*) FROM deal") == [(1,)]


@pytest.mark.parametrize("deals", [200, 1500])
def test_demo_is_a_well_kept_pipeline(tmp_path: Path, fixed_clock, deals: int) -> None:
    """About one open deal in six needs attention in triage and a few tasks are overdue: a new user
    sees a pipeline in order, with something to triage. The same seed gives the same data."""
    from crmtui.store.db import open_database
    from crmtui.store.followups import attention_queue, compute_agenda

    dumps = []
    for name in ("a.db", "b.db"):
        db = open_database(tmp_path / name)
        generate_demo(db, deals=deals, seed=11)
        with db.session() as s:
            queue = attention_queue(s)
            overdue = compute_agenda(s, limit=0).counts["overdue_tasks"]
        db.close()
        dumps.append([fetch(tmp_path / name, f"SELECT * FROM {table} ORDER BY 1, 2")
                      for table in ("deal", "stage_change", "activity", "deal_tag")])
    open_deals = fetch(tmp_path / "a.db", "SELECT count(*) FROM deal d JOIN stage s ON s.id = d.stage_id"
                       " WHERE s.kind = 'open'")[0][0]
    open_tasks = fetch(tmp_path / "a.db", "SELECT count(*) FROM activity WHERE kind = 'task' AND done_at IS NULL")[0][0]
    assert 0.08 <= len(queue) / open_deals <= 0.25
    assert 0 < overdue <= 0.05 * open_tasks
    assert dumps[0] == dumps[1]
