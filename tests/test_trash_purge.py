"""The trash keeps records `trash-days` days, then the app offers to erase them (`crmtui trash
empty` does it from the shell); `crmtui purge` erases one deal, company or contact at once, for a
person who asks to be forgotten, leaving nothing of it in the database's file."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import crmtui.cli.trash
from crmtui.app import make_app
from crmtui.cli import app as cli
from crmtui.screens.confirm import ConfirmScreen
from crmtui.store import backups, clock
from crmtui.store.db import open_database
from crmtui.store.doctor import examine
from tests.commands import ok
from tests.conftest import FIXED_NOW, assert_finder_in_step, fetch, snapshot_of

runner = CliRunner()
LONG_AGO = FIXED_NOW - dt.timedelta(days=40)
LATELY = FIXED_NOW - dt.timedelta(days=10)


def run(db: Path, *args: str, input: str | None = None):  # noqa: ANN201
    return runner.invoke(cli, ["--db", str(db), *args], input=input, catch_exceptions=False)


def refused(db: Path, *args: str) -> str:
    """A command that must fail: one error line, exit 1, the database as it was."""
    before = snapshot_of(db)
    result = run(db, *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error:") and result.stderr.count("\n") == 1, result.stderr
    assert snapshot_of(db) == before
    return result.stderr


def in_store(db: Path, work: Callable[[Any], Any], *, at: dt.datetime | None = None) -> Any:  # noqa: ANN401
    """Do what the app does, in one transaction, at `at` (else the fixed now)."""
    clock.set_fixed_now(at or FIXED_NOW)
    database = open_database(db)
    try:
        with database.session() as s:
            return work(s)
    finally:
        database.close()
        clock.set_fixed_now(FIXED_NOW)


def trash(db: Path, *refs: str, at: dt.datetime = LONG_AGO) -> None:
    from crmtui.store.trash import move_to_trash

    in_store(db, lambda s: [move_to_trash(s, ref) for ref in refs], at=at)


def sound(db: Path) -> None:
    """Foreign keys hold, the finder and the columns kept by triggers are in step."""
    assert fetch(db, "PRAGMA foreign_key_check") == []
    assert_finder_in_step(db)
    database = open_database(db)
    try:
        assert [f for f in examine(database) if f.check in ("integrity", "foreign keys", "finder", "follow-ups")] == []
    finally:
        database.close()


def count(db: Path, table: str, where: str = "1") -> int:
    return fetch(db, f"SELECT count(*) FROM {table} WHERE {where}")[0][0]


@pytest.fixture
def crm(db_path: Path, fixed_clock: dt.datetime) -> Iterator[Path]:
    """Acme (C1) with Zebulon (P1) and Ann (P2); deal D1 'Website relaunch' for Acme and Zebulon,
    moved once, tagged, with a link, a custom value and a call; deal D2 'Logo' for Acme; notes on
    Zebulon and on Acme; a custom contact field with Zebulon's value."""
    from crmtui.store.editing import add_link

    ok(db_path, "add", "company", "Acme", "--domain", "acme.example", "--email", "hello@acme.example")
    ok(db_path, "add", "contact", "Zebulon Quixote", "--email", "zeb.quixote@example.org", "--company", "Acme",
       "--tag", "vip")
    ok(db_path, "add", "contact", "Ann Other", "--email", "ann@acme.example", "--company", "Acme")
    ok(db_path, "add", "deal", "Website relaunch", "--company", "Acme", "--contact", "zeb.quixote@example.org",
       "--tag", "web", "--amount", "12500")
    ok(db_path, "add", "deal", "Logo", "--company", "Acme", "--amount", "900")
    ok(db_path, "move", "1", "Proposal sent")
    ok(db_path, "fields", "add", "contact", "Birthday", "--kind", "date")
    ok(db_path, "fields", "add", "deal", "Budget", "--kind", "money")
    ok(db_path, "set", "P1", "Birthday=1980-02-03")
    ok(db_path, "set", "D1", "Budget=15000")
    ok(db_path, "log", "D1", "--call", "Talked budget with Zebulon")
    ok(db_path, "log", "P1", "--note", "Zebulon prefers email")
    ok(db_path, "log", "C1", "--note", "Acme moves offices in March")
    in_store(db_path, lambda s: add_link(s, 1, "https://files.example/contract.pdf", kind="contract"))
    yield db_path
    sound(db_path)


# --- the setting -------------------------------------------------------------------------------


def test_trash_days_is_a_setting_of_30_days(crm: Path) -> None:
    shown = ok(crm, "settings", "show").stdout
    assert "trash-days" in shown and "erase it for good" in shown
    assert ok(crm, "settings", "set", "trash-days", "60d").stdout == "trash-days = 60\n"
    assert fetch(crm, "SELECT value FROM setting WHERE key = 'trash-days'") == [("60",)]
    assert "outside 0..3650" in refused(crm, "settings", "set", "trash-days", "4000")


# --- emptying the trash ------------------------------------------------------------------------


def test_trash_empty_erases_what_is_older_than_the_setting_with_what_belongs_to_it(crm: Path) -> None:
    trash(crm, "D1", "A4")  # 40 days ago: the deal, and the note on Zebulon
    trash(crm, "D2", at=LATELY)
    result = ok(crm, "trash", "empty")
    assert result.stdout.splitlines()[0] == "Emptied the trash: erased 1 deal and 1 activity deleted more than" \
                                            " 30 days ago, for good."
    assert fetch(crm, "SELECT id FROM deal") == [(2,)]  # deleted 10 days ago: still in the trash
    assert count(crm, "activity", "deal_id = 1 OR id = 4") == 0
    assert count(crm, "stage_change", "deal_id = 1") == 0
    assert count(crm, "deal_tag", "deal_id = 1") == count(crm, "deal_link") == 0
    assert count(crm, "custom_value", "field_id = 2") == 0  # D1's budget
    assert fetch(crm, "SELECT field_id, entity_id FROM custom_value") == [(1, 1)]  # Zebulon's birthday stays
    assert fetch(crm, "SELECT id, company_id FROM contact ORDER BY id") == [(1, 1), (2, 1)]
    # a backup from before, which still holds them
    (backup,) = [b for b in backups.list_backups(crm) if b.reason == "before-trash-empty"]
    assert f"A backup from before is at {backup.path}" in result.stdout
    assert fetch(backup.path, "SELECT id FROM deal ORDER BY id") == [(1,), (2,)]


def test_the_setting_and_older_than_say_how_old_0d_empties_everything(crm: Path) -> None:
    trash(crm, "D1", "C1")
    trash(crm, "P2", at=LATELY)
    ok(crm, "settings", "set", "trash-days", "60")
    before = snapshot_of(crm)
    assert ok(crm, "trash", "empty").stdout == "Nothing in the trash was deleted more than 60 days ago; nothing" \
                                               " was erased.\n"
    assert snapshot_of(crm) == before and backups.list_backups(crm) == []
    assert ok(crm, "trash", "empty", "--older-than", "35d").stdout.startswith(
        "Emptied the trash: erased 1 deal and 1 company deleted more than 35 days ago, for good.")
    result = ok(crm, "trash", "empty", "--older-than", "0d", "--json")
    import json

    data = json.loads(result.stdout)
    assert data["older_than_days"] == 0
    assert data["emptied"] == {"deal": 0, "company": 0, "contact": 1, "activity": 0, "field": 0}
    assert count(crm, "contact") == 1 and count(crm, "company") == 0
    assert ok(crm, "trash", "empty", "--older-than", "0").stdout == "The trash is empty; nothing was erased.\n"


def test_an_erased_company_or_contact_leaves_the_records_that_refer_to_it_unlinked(crm: Path) -> None:
    trash(crm, "C1", "P1")
    ok(crm, "trash", "empty", "--yes")
    # the deals and Ann stay, no longer linked; the call on D1 stays on its deal
    assert fetch(crm, "SELECT id, company_id, contact_id FROM deal ORDER BY id") == [(1, None, None), (2, None, None)]
    assert fetch(crm, "SELECT id, company_id FROM contact") == [(2, None)]
    bodies = [r[0] for r in fetch(crm, "SELECT body FROM activity ORDER BY id")]
    assert "Talked budget with Zebulon" in bodies
    assert "Zebulon prefers email" not in bodies and "Acme moves offices in March" not in bodies
    assert fetch(crm, "SELECT company_id, contact_id FROM activity WHERE body = 'Talked budget with Zebulon'") == [
        (None, None)]
    assert count(crm, "contact_tag") == count(crm, "custom_value", "field_id = 1") == 0


def test_trash_empty_asks_first_in_a_terminal(crm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crmtui.cli.trash, "interactive", lambda: True)
    trash(crm, "D2", "C1")
    before = snapshot_of(crm)
    result = run(crm, "trash", "empty", input="n\n")
    assert result.exit_code == 1
    assert "The trash holds 1 deal and 1 company deleted more than 30 days ago. Emptying it erases them for" \
           " good" in result.stderr
    assert "The trash was not emptied." in result.stderr
    assert snapshot_of(crm) == before
    assert "Emptied the trash: erased 1 deal and 1 company" in ok(crm, "trash", "empty", input="y\n").stdout
    assert count(crm, "deal") == 1


def test_trash_empty_refuses_a_bad_age(crm: Path) -> None:
    assert refused(crm, "trash", "empty", "--older-than", "a month") == (
        "Error: --older-than: 'a month' is not a number of days (like 30d, or 0d for everything)\n")


def test_an_undo_never_brings_back_nor_points_at_an_erased_record(crm: Path) -> None:
    from crmtui.store.board_actions import move_to_stage
    from crmtui.store.board_actions import undo_last as board_undo
    from crmtui.store.companies import create_company
    from crmtui.store.editing import undo_last_edit, update_record

    in_store(crm, lambda s: create_company(s, "Bolt"))  # C2
    in_store(crm, lambda s: update_record(s, "deal", 2, {"company": "Bolt"}))
    in_store(crm, lambda s: update_record(s, "deal", 2, {"company": "Acme", "title": "Logo and colours"}))
    in_store(crm, lambda s: move_to_stage(s, 1, "Negotiation"))
    trash(crm, "C2", "D1")
    ok(crm, "trash", "empty")
    in_store(crm, lambda s: create_company(s, "Cato"))  # takes id 2 again: an old undo must not reach it
    assert fetch(crm, "SELECT id, name FROM company ORDER BY id") == [(1, "Acme"), (2, "Cato")]
    # D2's last edit is undone but for its company, which pointed at Bolt; D1's move is forgotten
    assert in_store(crm, lambda s: undo_last_edit(s, "deal", 2)) == "edit company, title"
    assert fetch(crm, "SELECT title, company_id FROM deal") == [("Logo", 1)]
    assert in_store(crm, board_undo) is None
    assert fetch(crm, "SELECT id, deleted_at FROM company ORDER BY id") == [(1, None), (2, None)]


def test_undoing_an_import_leaves_new_records_that_took_erased_ids(crm: Path, tmp_path: Path) -> None:
    csv = tmp_path / "deals.csv"
    csv.write_text("Title,Company,Stage\nAudit,Dune,Qualification\nRetainer,Eon,Qualification\n", encoding="utf-8")
    ok(crm, "import", str(csv), "--quiet", "--follow-up")  # deals 3 and 4, their follow-up tasks A6 and A7
    trash(crm, "D4")
    ok(crm, "trash", "empty")
    ok(crm, "add", "deal", "Workshop", "--no-follow-up")  # takes id 4 again
    ok(crm, "task", "add", "D1", "Send the contract", "--due", "tomorrow")  # takes id 7 again
    assert fetch(crm, "SELECT max(id) FROM deal UNION ALL SELECT max(id) FROM activity") == [(4,), (7,)]
    ok(crm, "imports", "undo", "1")
    assert fetch(crm, "SELECT id, title FROM deal ORDER BY id") == [(1, "Website relaunch"), (2, "Logo"),
                                                                    (4, "Workshop")]
    assert fetch(crm, "SELECT deal_id FROM activity WHERE body = 'Send the contract'") == [(1,)]


# --- the app asks at start-up --------------------------------------------------------------------


async def _start(db: Path) -> Any:  # noqa: ANN401
    return make_app(open_database(db))


async def test_the_app_offers_to_empty_the_trash_and_yes_empties_it(crm: Path) -> None:
    trash(crm, "D2", "A4")
    trash(crm, "P2", at=LATELY)
    app = await _start(crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert app.screen.question.startswith(
            "Empty the trash of 2 records (1 deal and 1 activity) deleted more than 30 days ago?")
        await pilot.press("y")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
    app.database.close()
    assert fetch(crm, "SELECT id FROM deal") == [(1,)]
    assert count(crm, "activity", "id = 4") == 0 and count(crm, "contact", "id = 2") == 1
    assert [b.reason for b in backups.list_backups(crm)] == ["before-trash-empty"]


async def test_no_keeps_the_trash_and_the_app_asks_again_tomorrow(crm: Path) -> None:
    trash(crm, "D2")
    before = snapshot_of(crm)
    app = await _start(crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.press("n")
        await app.workers.wait_for_complete()
    app.database.close()
    assert count(crm, "deal", "id = 2") == 1
    assert [r for r in snapshot_of(crm) if r not in before] == [("trash-kept-on", "2026-11-23")]
    for day, asked in ((FIXED_NOW + dt.timedelta(hours=1), False), (FIXED_NOW + dt.timedelta(days=1), True)):
        clock.set_fixed_now(day)
        app = await _start(crm)
        async with app.run_test(size=(120, 40)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert isinstance(app.screen, ConfirmScreen) is asked
        app.database.close()
    clock.set_fixed_now(FIXED_NOW)


async def test_the_app_does_not_ask_when_trash_days_is_0(crm: Path) -> None:
    trash(crm, "D2")
    ok(crm, "settings", "set", "trash-days", "0")
    app = await _start(crm)
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert not isinstance(app.screen, ConfirmScreen)
    app.database.close()
    assert count(crm, "deal", "id = 2") == 1


def test_commands_never_empty_the_trash_by_themselves(crm: Path) -> None:
    trash(crm, "D2")
    for command in (("today",), ("deals", "list"), ("trash", "list")):
        run(crm, *command)
    assert count(crm, "deal", "id = 2") == 1


# --- purge -------------------------------------------------------------------------------------


def _file_bytes(db: Path) -> bytes:
    """Everything on disk of the database: the file and its write-ahead log."""
    wal = Path(f"{db}-wal")
    return (db.read_bytes() + (wal.read_bytes() if wal.exists() else b"")).lower()


@pytest.fixture
def no_secure_delete(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deleted rows stay in the file's free pages, as in SQLite builds without SECURE_DELETE (this
    one has it): only compacting the file takes them out."""
    from crmtui.store import db

    def pragmas(conn: sqlite3.Connection, busy_timeout: float) -> None:
        apply(conn, busy_timeout)
        conn.execute("PRAGMA secure_delete = OFF")

    apply = db._apply_pragmas
    monkeypatch.setattr(db, "_apply_pragmas", pragmas)


def test_purge_a_contact_leaves_nothing_of_them_in_the_file(no_secure_delete: None, crm: Path, tmp_path: Path) -> None:
    csv = tmp_path / "people.csv"
    csv.write_text("Name,Email,Company\nHal Jordan,hal@acme.example,Acme\n", encoding="utf-8")
    ok(crm, "import", str(csv), "--quiet", "--type", "contacts")
    ok(crm, "set", "P1", "email=zebulon.q@example.org", "phone=+1 555 0199")  # the old email in the undo log
    ok(crm, "lines", "add", "1", "Workshop", "--price", "900")  # a quote of D1 names them as its customer
    ok(crm, "quote", "1", "--format", "md", "-o", str(tmp_path / "quote.md"))
    ok(crm, "backup")
    assert b"zebulon" in _file_bytes(crm)
    assert "1 quote's customer block that names it" in run(crm, "purge", "P1").stderr
    result = ok(crm, "purge", "P1", "--yes")
    assert result.stdout == ("Erased contact P1 'Zebulon Quixote' <zebulon.q@example.org> for good, and compacted"
                             " the database file.\n")
    assert count(crm, "contact", "id = 1") == 0
    # every activity on their timeline, the call on D1 too; D1 stays, without them
    assert count(crm, "activity", "contact_id = 1 OR body LIKE '%Zebulon%'") == 0
    assert fetch(crm, "SELECT id, contact_id FROM deal ORDER BY id") == [(1, None), (2, None)]
    assert count(crm, "contact_tag") == count(crm, "custom_value", "field_id = 1") == 0
    assert count(crm, "undo_entry", "payload LIKE '%zeb%' OR scope = 'contact:1'") == 0
    data = _file_bytes(crm)
    for trace in (b"zebulon", b"quixote", b"zeb.quixote@example.org", b"555 0199"):
        assert trace not in data, trace
    assert b"ann other" in data  # (the test reads what it should)
    (snapshot,) = fetch(crm, "SELECT snapshot FROM quote")[0]
    customer = json.loads(snapshot)["customer"]
    assert customer["contact"] == customer["contact_email"] == "" and customer["company"] == "Acme"
    # backups are not rewritten: the one taken before still has them
    (manual,) = [b.path for b in backups.list_backups(crm) if b.reason == "manual"]
    assert fetch(manual, "SELECT name FROM contact WHERE id = 1") == [("Zebulon Quixote",)]


def test_purge_names_what_goes_and_asks_in_a_terminal(crm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crmtui.cli.trash, "interactive", lambda: True)
    ok(crm, "backup")
    before = snapshot_of(crm)
    result = run(crm, "purge", "P1", input="n\n")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Erase for good: contact P1 'Zebulon Quixote' <zeb.quixote@example.org>, with 3 activities (2 of them on"
        " deals that stay), 1 tag link, 1 custom field value and ")
    assert f"1 deal stays, no longer linked to it. The backup in {crm.parent / 'backups'} keeps its copy: backups" \
           " are not rewritten" in result.stderr
    assert "This cannot be undone." in result.stderr and "Nothing was erased." in result.stderr
    assert snapshot_of(crm) == before
    ok(crm, "purge", "P1", input="y\n")
    assert count(crm, "contact", "id = 1") == 0


def test_purge_a_deal_takes_its_history_and_leaves_its_customer(crm: Path) -> None:
    preview = run(crm, "purge", "D1").stderr
    assert preview.startswith("Erase for good: deal D1 'Website relaunch', with 2 activities, 2 stage changes,"
                              " 1 file link, 1 tag link, 1 custom field value and ")
    ok(crm, "purge", "D1", "--yes")
    assert fetch(crm, "SELECT id FROM deal") == [(2,)]
    for table in ("stage_change", "deal_tag", "deal_link", "activity"):
        assert count(crm, table, "deal_id = 1") == 0, table
    assert count(crm, "custom_value", "field_id = 2") == 0
    assert count(crm, "contact") == 2 and count(crm, "company") == 1


def test_purge_a_company_keeps_its_deals_and_contacts_unlinked(crm: Path) -> None:
    trash(crm, "C1")  # in the trash or not
    preview = run(crm, "purge", "C1").stderr
    assert preview.startswith("Erase for good: company C1 'Acme' (acme.example), with 1 activity and ")
    assert "2 deals, 2 contacts and 4 activities of other records stay, no longer linked to it." in preview
    ok(crm, "purge", "C1", "--yes")
    assert count(crm, "company") == 0
    assert fetch(crm, "SELECT company_id FROM deal UNION SELECT company_id FROM contact") == [(None,)]
    assert count(crm, "activity", "body = 'Acme moves offices in March'") == 0
    assert count(crm, "activity") == 4  # two follow-ups, the call, the note on Zebulon


def test_purge_refuses_without_a_terminal_or_yes_and_an_unknown_or_wrong_id(crm: Path) -> None:
    before = snapshot_of(crm)
    result = run(crm, "purge", "P1")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1] == ("Error: purge erases for good: run it in a terminal to be asked, or add"
                                              " --yes; nothing was erased")
    assert snapshot_of(crm) == before
    assert refused(crm, "purge", "P9", "--yes") == "Error: no contact with id 9\n"
    assert "is not a record id" in refused(crm, "purge", "12", "--yes")
    assert "is not a record id" in refused(crm, "purge", "A4", "--yes")


def test_purge_refuses_while_another_program_has_the_database_open(crm: Path) -> None:
    import subprocess
    import sys

    code = ("import sys; from crmtui.store.db import open_database; "
            "db = open_database(sys.argv[1], daily_backup=False); "
            "conn = db.raw(); conn.execute('SELECT count(*) FROM deal').fetchone(); print('ready', flush=True);"
            " sys.stdin.read()")
    holder = subprocess.Popen([sys.executable, "-c", code, str(crm)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              text=True)
    try:
        assert holder.stdout.readline() == "ready\n"
        message = refused(crm, "purge", "P1", "--yes")
    finally:
        holder.communicate("", timeout=30)
    assert message.startswith(f"Error: {crm}: open in another program (pid {holder.pid}")
    assert message.endswith("close it, then purge\n")


def test_a_deal_with_line_items_and_a_quote_is_purged_and_emptied_from_the_trash_with_them(
        crm: Path, tmp_path: Path) -> None:
    ok(crm, "products", "add", "Consulting day", "--price", "1200", "--code", "CD")
    for deal in ("1", "2"):
        ok(crm, "lines", "add", deal, "CD", "--qty", "2")
    ok(crm, "quote", "1", "--format", "md", "-o", str(tmp_path / "q1.md"))
    ok(crm, "quote", "2", "--format", "md", "-o", str(tmp_path / "q2.md"))
    preview = run(crm, "purge", "D1").stderr
    assert "1 line item, 1 quote," in preview
    ok(crm, "purge", "D1", "--yes")
    assert count(crm, "deal_line", "deal_id = 1") == 0 and count(crm, "quote", "deal_id = 1") == 0
    assert count(crm, "deal_line", "deal_id = 2") == 1 and count(crm, "quote", "deal_id = 2") == 1
    assert (tmp_path / "q1.md").exists()  # the file stays where it was written, as a linked file does
    trash(crm, "D2")  # 40 days ago
    ok(crm, "trash", "empty", "--yes")
    assert count(crm, "deal") == 0 and count(crm, "deal_line") == 0 and count(crm, "quote") == 0
    assert fetch(crm, "PRAGMA foreign_key_check") == []
