"""`crmtui imports undo` never takes work done since the import: what nobody touched goes, what
was worked on since stays and is listed, and a field edited again keeps the newer value."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from crmtui.store.db import open_database
from tests.commands import ok, run
from tests.conftest import assert_finder_in_step, fetch, snapshot_of

IMPORTED = "2026-11-23T09:30:00"
LATER = "2026-11-24T14:00:00"

FIVE_DEALS = ("Deal Name,Associated Company,Contact Name,Contact Email,Deal Stage,Amount\n"
              "Audit,Acme,Ann Lee,ann@acme.example,Qualification,100\n"
              "Retainer,Bolt,,,Qualification,200\n"
              "Workshop,Cato,,,Qualification,300\n"
              "Website,Dune,,,Qualification,400\n"
              "Logo,Eon,,,Qualification,500\n")


@pytest.fixture
def crm(db_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CRMTUI_NOW", IMPORTED)
    open_database(db_path).close()
    yield db_path
    assert fetch(db_path, "PRAGMA foreign_key_check") == []
    assert_finder_in_step(db_path)


def imp(db: Path, tmp_path: Path, text: str, *args: str, name: str = "deals.csv"):
    f = tmp_path / name
    f.write_text(text, encoding="utf-8")
    return ok(db, "import", str(f), "--quiet", *args)


def in_the_store(db: Path, work: Callable[[Any], object]) -> None:
    """Do what the app's screens do (edit a record, link a file, delete), in one transaction."""
    database = open_database(db)
    try:
        with database.session() as session:
            work(session)
    finally:
        database.close()


def edit(db: Path, kind: str, record_id: int, **values: str) -> None:
    from crmtui.store.editing import update_record

    in_the_store(db, lambda s: update_record(s, kind, record_id, values))


def test_undo_removes_what_nobody_touched_and_keeps_and_lists_what_was_worked_on_since(
        crm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from crmtui.store.editing import add_link
    from crmtui.store.trash import move_to_trash

    imp(crm, tmp_path, FIVE_DEALS)
    monkeypatch.setenv("CRMTUI_NOW", LATER)
    ok(crm, "move", "1", "Negotiation")
    ok(crm, "log", "2", "--note", "Asked for a quote")
    in_the_store(crm, lambda s: add_link(s, 3, "https://docs.example/brief"))
    edit(crm, "deal", 4, amount="450")
    in_the_store(crm, lambda s: move_to_trash(s, "D4"))  # edited, then deleted: restorable, so it stays

    result = ok(crm, "imports", "undo", "1")
    assert result.stdout == (
        "Undid import #1: removed 1 deal, 1 company and 0 contacts.\n"
        "Kept 9 records it created:\n"
        "  deal #1 'Audit': edited since\n"
        "  deal #2 'Retainer': 1 activity since\n"
        "  deal #3 'Workshop': 1 link since\n"
        "  deal #4 'Website': edited since, in the trash\n"
        "  contact #1 'Ann Lee': its deal #1 stays\n"
        "  company #1 'Acme': its deal #1 stays\n"
        "  company #2 'Bolt': 1 activity since\n"
        "  company #3 'Cato': its deal #3 stays\n"
        "  company #4 'Dune': its deal #4 stays\n")
    assert fetch(crm, "SELECT d.id, d.title, c.name, p.name, s.name, d.amount_cents, d.deleted_at IS NOT NULL"
                      " FROM deal d JOIN stage s ON s.id = d.stage_id LEFT JOIN company c ON c.id = d.company_id"
                      " LEFT JOIN contact p ON p.id = d.contact_id ORDER BY d.id") == [
        (1, "Audit", "Acme", "Ann Lee", "Negotiation", 10000, 0),
        (2, "Retainer", "Bolt", None, "Qualification", 20000, 0),
        (3, "Workshop", "Cato", None, "Qualification", 30000, 0),
        (4, "Website", "Dune", None, "Qualification", 45000, 1)]
    assert fetch(crm, "SELECT name FROM company ORDER BY id") == [("Acme",), ("Bolt",), ("Cato",), ("Dune",)]
    # the kept deals keep their whole history (the import's first stage included) and their work
    assert fetch(crm, "SELECT sc.deal_id, f.name, t.name FROM stage_change sc"
                      " LEFT JOIN stage f ON f.id = sc.from_stage_id JOIN stage t ON t.id = sc.to_stage_id"
                      " ORDER BY sc.id") == [
        (1, None, "Qualification"), (2, None, "Qualification"), (3, None, "Qualification"),
        (4, None, "Qualification"),
        (1, "Qualification", "Negotiation")]
    assert fetch(crm, "SELECT kind, body, deal_id, company_id FROM activity") == [("note", "Asked for a quote", 2, 2)]
    assert fetch(crm, "SELECT deal_id, target FROM deal_link") == [(3, "https://docs.example/brief")]
    assert "Restored deal D4 'Website'" in ok(crm, "trash", "restore", "D4").stdout


def test_the_question_before_an_undo_lists_what_it_keeps_and_changes_nothing(
        crm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import crmtui.cli.data

    imp(crm, tmp_path, FIVE_DEALS)
    monkeypatch.setenv("CRMTUI_NOW", LATER)
    ok(crm, "won", "2")
    monkeypatch.setattr(crmtui.cli.data, "interactive", lambda: True)
    before = snapshot_of(crm)
    declined = run(crm, "imports", "undo", "1", input="n\n")
    assert declined.exit_code == 1
    assert (f"Import #1 ({tmp_path / 'deals.csv'}, 2026-11-23 09:30) created 5 deals, 5 companies and 1 contact."
            " Undoing it deletes them, but keeps 2 of them:\n"
            "  deal #2 'Retainer': edited since\n"
            "  company #2 'Bolt': its deal #2 stays\n"
            "Undo import #1? [y/N]") in declined.stderr
    assert snapshot_of(crm) == before  # the preview is the undo, rolled back
    accepted = run(crm, "imports", "undo", "1", input="y\n")
    assert accepted.exit_code == 0
    assert "removed 4 deals, 4 companies and 1 contact." in accepted.stdout
    assert "Kept 2 records it created:\n  deal #2 'Retainer': edited since\n" in accepted.stdout
    assert fetch(crm, "SELECT d.title, s.name FROM deal d JOIN stage s ON s.id = d.stage_id") == [("Retainer", "Won")]


def test_a_record_the_import_changed_keeps_the_fields_edited_since_and_its_move_stays_in_its_history(
        crm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    imp(crm, tmp_path, "Record ID,Deal Name,Deal Stage,Amount\nR1,Audit,Qualification,100\n"
                       "R2,Retainer,Qualification,200\nR3,Setup,Qualification,300\nR4,Pitch,Qualification,400\n",
        name="first.csv")
    r3 = "SELECT title, stage_id, stage_entered_at, amount_cents, updated_at FROM deal WHERE id = 3"
    r3_before = fetch(crm, r3)
    monkeypatch.setenv("CRMTUI_NOW", "2026-11-23T12:00:00")
    imp(crm, tmp_path, "Record ID,Deal Name,Deal Stage,Amount,Lost Reason\nR1,Audit,Negotiation,150,\n"
                       "R2,Retainer,Negotiation,250,\nR3,Setup,Negotiation,350,\nR4,Pitch,Lost,400,Price\n",
        name="second.csv")
    monkeypatch.setenv("CRMTUI_NOW", LATER)
    edit(crm, "deal", 1, amount="175")  # R1: the amount edited again, the stage not
    ok(crm, "won", "2")  # R2: moved on since
    edit(crm, "deal", 2, title="Retainer 2027")  # (a field the import did not change)
    ok(crm, "lost", "4", "--reason", "Went in-house")  # R4: the reason it was lost, given again

    result = ok(crm, "imports", "undo", "2")
    assert result.stdout == (
        "Undid import #2: removed 0 deals, 0 companies and 0 contacts; restored 3 changed records.\n"
        "Kept the fields edited since in 3 records it changed:\n"
        "  deal #1 'Audit': amount\n"
        "  deal #2 'Retainer 2027': stage\n"
        "  deal #4 'Pitch': stage, closed on, lost reason\n")
    assert fetch(crm, "SELECT d.title, s.name, d.amount_cents, d.closed_on, d.lost_reason FROM deal d"
                      " JOIN stage s ON s.id = d.stage_id ORDER BY d.id") == [
        ("Audit", "Qualification", 17500, None, None), ("Retainer 2027", "Won", 20000, "2026-11-24", None),
        ("Setup", "Qualification", 30000, None, None), ("Pitch", "Lost", 40000, "2026-11-23", "Went in-house")]
    # R3, untouched since, is as it was, last updated by the first import (so undoing that one
    # still sees it untouched)
    assert fetch(crm, r3) == r3_before and r3_before[0][-1] == "2026-11-23 09:30:00.000000"
    # R2 did go through Negotiation, and on to Won from there: that move stays in its history
    assert fetch(crm, "SELECT f.name, t.name FROM stage_change sc LEFT JOIN stage f ON f.id = sc.from_stage_id"
                      " JOIN stage t ON t.id = sc.to_stage_id WHERE sc.deal_id = 2 ORDER BY sc.id") == [
        (None, "Qualification"), ("Qualification", "Negotiation"), ("Negotiation", "Won")]
    assert fetch(crm, "SELECT count(*) FROM stage_change WHERE deal_id IN (1, 3)") == [(2,)]
    assert fetch(crm, "SELECT count(*) FROM stage_change WHERE deal_id = 4") == [(2,)]


def test_an_earlier_import_sees_its_records_untouched_once_a_later_import_of_them_is_undone(
        crm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    imp(crm, tmp_path, "Record ID,Deal Name,Amount\nR1,Audit,100\nR2,Retainer,200\n", name="first.csv")
    monkeypatch.setenv("CRMTUI_NOW", "2026-11-23T12:00:00")
    imp(crm, tmp_path, "Record ID,Deal Name,Amount\nR1,Audit,150\n", name="second.csv")
    monkeypatch.setenv("CRMTUI_NOW", LATER)
    edit(crm, "deal", 2, amount="250")
    ok(crm, "imports", "undo", "2")
    result = ok(crm, "imports", "undo", "1")
    assert result.stdout == ("Undid import #1: removed 1 deal, 0 companies and 0 contacts.\n"
                             "Kept 1 record it created:\n  deal #2 'Retainer': edited since\n")
    assert fetch(crm, "SELECT title, amount_cents FROM deal") == [("Retainer", 25000)]


def test_a_follow_up_task_done_since_keeps_its_deal_and_untouched_ones_go(
        crm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    imp(crm, tmp_path, "Deal Name,Deal Stage\nAudit,Qualification\nRetainer,Qualification\n", "--follow-up")
    assert fetch(crm, "SELECT id, deal_id FROM activity ORDER BY id") == [(1, 1), (2, 2)]
    monkeypatch.setenv("CRMTUI_NOW", LATER)
    ok(crm, "task", "done", "1")
    result = ok(crm, "imports", "undo", "1")
    assert "removed 1 deal" in result.stdout and "  deal #1 'Audit': 1 activity since\n" in result.stdout
    assert fetch(crm, "SELECT a.id, d.title, a.done_at FROM activity a JOIN deal d ON d.id = a.deal_id") == [
        (1, "Audit", "2026-11-24 14:00:00.000000")]
    assert fetch(crm, "SELECT title, open_tasks FROM deal") == [("Audit", 0)]


def test_a_record_added_since_keeps_the_imported_one_it_refers_to(
        crm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    imp(crm, tmp_path, FIVE_DEALS)
    monkeypatch.setenv("CRMTUI_NOW", LATER)
    ok(crm, "add", "deal", "Follow-on", "--company", "Bolt")
    ok(crm, "add", "deal", "Phase 2", "--company", "Bolt")
    ok(crm, "add", "contact", "Bo Berg", "--company", "Cato")
    result = ok(crm, "imports", "undo", "1")
    assert "removed 5 deals, 3 companies and 1 contact." in result.stdout
    assert "Kept 2 records it created:\n" in result.stdout
    assert "  company #2 'Bolt': " in result.stdout and ", 2 deals refer to it\n" in result.stdout
    assert "  company #3 'Cato': contact #2 refers to it\n" in result.stdout
    assert fetch(crm, "SELECT d.title, c.name FROM deal d JOIN company c ON c.id = d.company_id") == [
        ("Follow-on", "Bolt"), ("Phase 2", "Bolt")]
    assert fetch(crm, "SELECT p.name, c.name FROM contact p JOIN company c ON c.id = p.company_id") == [
        ("Bo Berg", "Cato")]


def test_a_stage_the_import_added_stays_while_a_deal_that_stays_is_in_it(
        crm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    imp(crm, tmp_path, "Deal Name,Deal Stage\nAudit,Discovery\nRetainer,Discovery\n", "--create-stages")
    monkeypatch.setenv("CRMTUI_NOW", LATER)
    ok(crm, "log", "1", "--call", "Booked the kickoff")
    result = ok(crm, "imports", "undo", "1")
    assert "  deal #1 'Audit': 1 activity since\n" in result.stdout
    assert "  stage #10 'Discovery': in use\n" in result.stdout
    assert fetch(crm, "SELECT d.title, s.name FROM deal d JOIN stage s ON s.id = d.stage_id") == [
        ("Audit", "Discovery")]


def test_a_tag_a_later_import_gave_an_imported_record_keeps_it(
        crm: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    imp(crm, tmp_path, "Record ID,Deal Name,Tags\nR1,Audit,\nR2,Retainer,\n", name="first.csv")
    monkeypatch.setenv("CRMTUI_NOW", LATER)
    imp(crm, tmp_path, "Record ID,Deal Name,Tags\nR1,Audit,vip\n", name="second.csv")
    result = ok(crm, "imports", "undo", "1")
    assert "removed 1 deal" in result.stdout and "  deal #1 'Audit': " in result.stdout
    assert "tagged by import #2" in result.stdout
    assert fetch(crm, "SELECT d.title, t.name FROM deal d JOIN deal_tag dt ON dt.deal_id = d.id"
                      " JOIN tag t ON t.id = dt.tag_id") == [("Audit", "vip")]
