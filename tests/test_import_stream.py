"""A big deals import plans in a child process while this one writes (`importer.stream`): the
database must end up exactly as the one-process import leaves it, and every failure, on
either side, must leave it as it was.

The sizes are made small (a hand-over every 7 new deals, from 10 new deals on) so that a file
of a hundred rows goes through every path: several hand-overs, deals changed after they were
written, dates whose order a later row proves, tags, won and lost deals, a late bad row."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtui.cli import app
from crmtui.store.db import open_database
from crmtui.store.importer import apply, handover, plan, planner, stream
from tests.conftest import assert_finder_in_step, fetch, finder_terms, snapshot_of

runner = CliRunner()
HEADER = ["Record ID", "Deal Name", "Deal Stage", "Deal - Status", "Amount", "Close Date", "Associated Company",
          "Contact Email", "Tags", "Website"]


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handover, "CHUNK_ROWS", 7)
    monkeypatch.setattr(handover, "HAND_OVER_MASK", 0)
    monkeypatch.setattr(apply, "BULK_MIN_ROWS", 10)
    monkeypatch.delenv("CRMTUI_IMPORT_PROCESSES", raising=False)


@pytest.fixture
def chunks(monkeypatch: pytest.MonkeyPatch) -> list[handover.DealChunk]:
    """Every hand-over the writer got (in this process: the parent)."""
    got: list[handover.DealChunk] = []
    original = apply._DealWriter.__call__

    def spy(self: apply._DealWriter, chunk: handover.DealChunk) -> None:
        got.append(chunk)
        original(self, chunk)

    monkeypatch.setattr(apply._DealWriter, "__call__", spy)
    return got


def write_file(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        w.writerows(rows)
    return path


def busy_file(path: Path, n: int = 90) -> Path:
    rows = []
    for i in range(1, n + 1):
        stage, status = ("Proposal sent", "won") if i % 9 == 0 else ("Closed Lost", "") if i % 7 == 0 else (
            ("Qualification", "Negotiation", "Unqualified")[i % 3], "")
        # 03/04/2026 could be either order until line 41 shows 13/05/2026: day first (the rows
        # between wait for the end of the file)
        close = "" if i < 20 else "03/04/2026" if i < 40 else f"{i % 28 + 1:02d}/05/2026"
        company, email = (f"Firm {i % 6}", f"p{i % 11}@firm{i % 6}.example") if i != 2 else ("", "solo@nowhere.example")
        rows.append([f"R{i}", f"Deal {i}", stage, status, f"${100 * i:,}.00", close, company, email,
                     ("seo;web", "print", "")[i % 3]])
    # later rows change deals handed over long before: amount, stage, title, a new tag
    rows.append(["R3", "Deal 3 (renamed)", "Negotiation", "", "$999.00", "21/06/2026", "Firm 3", "p3@firm3.example",
                 "late-tag"])
    rows.append(["R5", "Deal 5", "Closed Won", "", "$5,000.00", "22/06/2026", "Firm 5", "p5@firm5.example", "print"])
    # no record id: the same title and company as an earlier row is the same deal
    rows.append(["", "Deal 8", "Negotiation", "", "$8,800.00", "", "Firm 2", "", ""])
    # a contact first seen without a company gets one; a company gets its website
    rows.append(["R2", "Deal 2", "Unqualified", "", "$200.00", "", "Firm 2", "solo@nowhere.example", "print"])
    rows.append(["R4", "Deal 4", "Negotiation", "", "$400.00", "", "Firm 4", "p4@firm4.example", "print",
                 "https://www.firm4.example"])
    return write_file(path, rows)


def busy_file_then(path: Path, row: list[str]) -> Path:
    """80 deals (85 rows), then `row`."""
    f = busy_file(path, 80)
    with f.open("a", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerow(row)
    return f


def imp(db: Path, *args: str):
    return runner.invoke(app, ["--db", str(db), "import", "-q", *args], catch_exceptions=False)


def state(db: Path) -> dict[str, list[tuple]]:
    """What an import leaves, ids of stage changes aside (handed-over deals number them as they go)."""
    return {
        "deal": fetch(db, "SELECT * FROM deal ORDER BY id"),
        "company": fetch(db, "SELECT * FROM company ORDER BY id"),
        "contact": fetch(db, "SELECT * FROM contact ORDER BY id"),
        "tag": fetch(db, "SELECT * FROM tag ORDER BY id"),
        "deal_tag": fetch(db, "SELECT * FROM deal_tag ORDER BY 1, 2"),
        "stage": fetch(db, "SELECT * FROM stage ORDER BY id"),
        "stage_change": fetch(db, "SELECT deal_id, from_stage_id, to_stage_id, changed_at FROM stage_change"
                                  " ORDER BY deal_id, changed_at, from_stage_id IS NOT NULL"),
        "finder": finder_terms(db)[0],  # every term, rowid, column and position it holds
        "schema": fetch(db, "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') ORDER BY name"),
    }


def fresh(path: Path) -> Path:
    open_database(path).close()
    return path


def test_the_two_process_import_writes_what_the_one_process_import_writes(
        tmp_path: Path, fixed_clock, chunks: list[handover.DealChunk], monkeypatch: pytest.MonkeyPatch) -> None:
    f = busy_file(tmp_path / "deals.csv")
    one = fresh(tmp_path / "one.db")
    monkeypatch.setenv("CRMTUI_IMPORT_PROCESSES", "1")
    assert imp(one, "--follow-up", str(f)).exit_code == 0
    assert chunks == []
    monkeypatch.delenv("CRMTUI_IMPORT_PROCESSES")
    two = fresh(tmp_path / "two.db")
    result = imp(two, "--follow-up", str(f))
    assert result.exit_code == 0, result.output
    # it really went in several hand-overs, and deals written early were written again
    assert len([c for c in chunks if not c.rewrite]) >= 5
    rewritten = {r[0] for c in chunks if c.rewrite for r in c.rows}
    assert {2, 3, 5, 8} <= rewritten
    # so were a company and a contact that later rows gave a website and a company
    assert [r[1] for c in chunks if c.rewrite for r in c.companies] == ["Firm 4"]
    assert [r[2] for c in chunks if c.rewrite for r in c.contacts] == ["solo@nowhere.example"]
    assert state(two) == state(one)
    assert_finder_in_step(two)  # deals written early and renamed by later rows: indexed as renamed
    assert fetch(two, "SELECT title, amount_cents, closed_on FROM deal WHERE external_id = 'R3'") == [
        ("Deal 3 (renamed)", 99900, None)]
    assert fetch(two, "SELECT expected_close FROM deal WHERE external_id = 'R25'") == [("2026-04-03",)]
    assert fetch(two, "SELECT count(*) FROM activity WHERE body = 'Follow up'") == fetch(
        one, "SELECT count(*) FROM activity WHERE body = 'Follow up'") != [(0,)]
    assert fetch(two, "PRAGMA integrity_check") == [("ok",)]
    assert fetch(two, "PRAGMA foreign_key_check") == []
    assert "95 rows" in result.output and "dates dmy" in result.output
    # each deal's last change (by id, as a move's undo finds it) is the one into the stage it is
    # in, and the import's changes are in the range it recorded (its undo deletes that range)
    assert fetch(two, "SELECT count(*) FROM stage_change WHERE from_stage_id IS NOT NULL")[0][0] >= 10
    assert fetch(two, "SELECT d.id FROM deal d JOIN stage_change sc ON sc.id = (SELECT max(id) FROM stage_change"
                      " WHERE deal_id = d.id) WHERE sc.to_stage_id != d.stage_id") == []
    assert fetch(two, "SELECT count(*) FROM stage_change sc JOIN import_change ic ON ic.entity = 'stage_change'"
                      " AND sc.id BETWEEN ic.first_id AND ic.last_id") == fetch(two, "SELECT count(*) FROM stage_change")


def test_a_big_file_over_existing_deals_updates_and_moves_them_as_one_process_does(
        tmp_path: Path, fixed_clock, chunks: list[handover.DealChunk], monkeypatch: pytest.MonkeyPatch) -> None:
    first = write_file(tmp_path / "first.csv", [
        [f"R{i}", f"Deal {i}", "Qualification", "", "$100.00", "", f"Firm {i % 3}", "", "old"] for i in range(1, 16)])
    second = busy_file(tmp_path / "second.csv", 60)  # R1-R15 again, changed, and 45 new deals
    results = {}
    for name, processes in (("one", "1"), ("two", "")):
        monkeypatch.setenv("CRMTUI_IMPORT_PROCESSES", processes)
        db = fresh(tmp_path / f"{name}.db")
        assert imp(db, str(first)).exit_code == 0
        after_first = state(db)
        result = imp(db, str(second))
        assert result.exit_code == 0, result.output
        results[name] = state(db)
        assert_finder_in_step(db)
        assert " 15 " in result.output.split("deals")[1].split("\n")[0]  # 15 updated
        undo = runner.invoke(app, ["--db", str(db), "imports", "undo", "2"], catch_exceptions=False)
        assert undo.exit_code == 0, undo.output
        assert state(db) == after_first
    assert chunks and not chunks[0].rewrite
    assert results["two"] == results["one"]
    # the second import moved R1 (Qualification -> Negotiation); undoing it took the move back
    two = tmp_path / "two.db"
    assert imp(two, str(second)).exit_code == 0
    assert fetch(two, "SELECT f.name, t.name FROM stage_change sc JOIN deal d ON d.id = sc.deal_id"
                      " LEFT JOIN stage f ON f.id = sc.from_stage_id JOIN stage t ON t.id = sc.to_stage_id"
                      " WHERE d.external_id = 'R1' ORDER BY sc.id") == [(None, "Qualification"),
                                                                       ("Qualification", "Negotiation")]


def test_undoing_a_two_process_import_leaves_the_database_as_it_was(
        tmp_path: Path, fixed_clock, chunks: list[handover.DealChunk]) -> None:
    db = fresh(tmp_path / "crm.db")
    before = state(db)
    assert imp(db, str(busy_file(tmp_path / "deals.csv"))).exit_code == 0
    assert chunks
    undo = runner.invoke(app, ["--db", str(db), "imports", "undo", "1"], catch_exceptions=False)
    assert undo.exit_code == 0, undo.output
    assert state(db) == before


@pytest.mark.parametrize("merging", [None, 8])
def test_the_finder_merges_its_index_as_before_after_a_two_process_import(
        tmp_path: Path, fixed_clock, chunks: list[handover.DealChunk], merging: int | None) -> None:
    # (the writer lets the finder's index merge less while it streams, and sets it back)
    db = fresh(tmp_path / "crm.db")
    if merging is not None:
        import sqlite3

        with sqlite3.connect(db) as conn:
            conn.execute("INSERT INTO search_index (search_index, rank) VALUES ('automerge', ?)", (merging,))
    assert imp(db, str(busy_file(tmp_path / "deals.csv"))).exit_code == 0
    assert chunks
    # (no row: FTS5's default, 4)
    assert fetch(db, "SELECT v FROM search_index_config WHERE k = 'automerge'") in ([(merging or 4,)], [] if
                                                                                    merging is None else None)
    assert_finder_in_step(db)


@pytest.mark.parametrize(("late_row", "message", "fix", "deals_after"), [
    (["R999", "Late", "Qualification", "", "twelve", "", "Firm 1", "", ""],
     "line 87, column 'Amount': 'twelve' is not an amount", "--skip-invalid", 80),
    (["R999", "Late", "Discovery call", "", "", "", "Firm 1", "", ""],
     "unknown stage: 'Discovery call'", "--create-stages", 81),
], ids=["bad amount", "unknown stage"])
def test_a_late_problem_after_deals_were_handed_over_writes_nothing(
        tmp_path: Path, chunks: list[handover.DealChunk], late_row: list[str], message: str, fix: str,
        deals_after: int) -> None:
    db = fresh(tmp_path / "crm.db")
    before = snapshot_of(db)
    f = busy_file_then(tmp_path / "deals.csv", late_row)
    result = imp(db, str(f))
    assert result.exit_code == 1
    assert message in result.output and fix in result.output and "Traceback" not in result.output
    assert chunks  # deals had been written in the transaction before the late row came
    assert snapshot_of(db) == before
    if fix == "--skip-invalid":  # not without the rejects file it promises
        chunks.clear()
        nowhere = tmp_path / "no such folder" / "rejects.csv"
        result = imp(db, fix, "--rejects", str(nowhere), str(f))
        assert result.exit_code == 1 and "cannot write the rejects file" in result.output
        assert chunks and snapshot_of(db) == before
    # the option the message names imports the file, as in one process
    assert imp(db, fix, str(f)).exit_code == 0
    assert fetch(db, "SELECT count(*) FROM deal")[0][0] == deals_after
    if fix == "--skip-invalid":
        assert (tmp_path / "deals.rejects.csv").exists()
    else:
        assert fetch(db, "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id"
                         " WHERE d.external_id = 'R999'") == [("Discovery call",)]


def test_a_system_that_will_not_fork_imports_in_one_process(
        tmp_path: Path, fixed_clock, monkeypatch: pytest.MonkeyPatch, chunks: list[handover.DealChunk]) -> None:
    f = busy_file(tmp_path / "deals.csv")
    one = fresh(tmp_path / "one.db")
    monkeypatch.setenv("CRMTUI_IMPORT_PROCESSES", "1")
    assert imp(one, str(f)).exit_code == 0
    monkeypatch.delenv("CRMTUI_IMPORT_PROCESSES")

    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(stream.os, "fork", no_fork)
    two = fresh(tmp_path / "two.db")
    result = imp(two, str(f))
    assert result.exit_code == 0, result.output
    assert chunks == []
    assert state(two) == state(one)


def test_a_planning_process_that_dies_leaves_the_database_as_it_was(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunks: list[handover.DealChunk]) -> None:
    db = fresh(tmp_path / "crm.db")
    before = snapshot_of(db)
    parent = os.getpid()
    real_finish = planner.Planner.finish

    def die(self: planner.Planner) -> plan.Plan:
        if os.getpid() != parent:
            os._exit(9)  # as if killed (out of memory, say) after handing deals over
        return real_finish(self)

    monkeypatch.setattr(planner.Planner, "finish", die)
    result = imp(db, str(busy_file(tmp_path / "deals.csv")))
    assert result.exit_code == 1
    assert "planning process stopped unexpectedly; nothing was written" in result.output
    assert "Traceback" not in result.output
    assert chunks
    assert snapshot_of(db) == before


def test_a_failure_in_the_planning_process_reaches_the_user_and_writes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunks: list[handover.DealChunk]) -> None:
    db = fresh(tmp_path / "crm.db")
    before = snapshot_of(db)

    def fail(self: planner.Planner) -> plan.Plan:
        raise MemoryError("no room for the plan")

    monkeypatch.setattr(planner.Planner, "finish", fail)
    result = runner.invoke(app, ["--db", str(db), "import", "-q", str(busy_file(tmp_path / "deals.csv"))])
    assert result.exit_code != 0
    assert isinstance(result.exception, MemoryError) and "no room for the plan" in str(result.exception)
    assert snapshot_of(db) == before


def test_a_write_that_fails_stops_the_planning_process_and_writes_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3

    db = fresh(tmp_path / "crm.db")
    before = snapshot_of(db)
    calls = []
    real = apply._DealWriter.__call__

    def full_disk(self: apply._DealWriter, chunk: handover.DealChunk) -> None:
        calls.append(chunk)
        if len(calls) == 3:
            raise sqlite3.OperationalError("database or disk is full")
        real(self, chunk)

    monkeypatch.setattr(apply._DealWriter, "__call__", full_disk)
    spawned: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            spawned.append(pid)
        return pid

    monkeypatch.setattr(stream.os, "fork", fork)
    result = imp(db, str(busy_file(tmp_path / "deals.csv")))
    assert result.exit_code == 1
    assert "disk is full" in result.output
    assert snapshot_of(db) == before
    # the child was stopped and collected: no process is left behind
    assert len(spawned) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(spawned[0], os.WNOHANG)


def test_small_files_re_imports_dry_runs_and_other_record_types_plan_in_one_process(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunks: list[handover.DealChunk]) -> None:
    forks: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        forks.append(1)
        return real_fork()

    monkeypatch.setattr(stream.os, "fork", fork)
    db = fresh(tmp_path / "crm.db")
    assert imp(db, str(busy_file(tmp_path / "small.csv", 6))).exit_code == 0  # 9 rows, 7 deals: too few
    assert imp(db, "--dry-run", str(busy_file(tmp_path / "big.csv"))).exit_code == 0
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("Name,Email\n" + "".join(f"P {i},p{i}@x.example\n" for i in range(40)), encoding="utf-8")
    assert imp(db, str(contacts)).exit_code == 0
    assert forks == []
    assert fetch(db, "SELECT count(*) FROM deal")[0][0] == 7
    # a big file forks when it has found more new deals than the table holds ...
    big = busy_file(tmp_path / "big.csv")
    assert imp(db, str(big)).exit_code == 0
    assert forks == [1] and chunks
    # ... and importing it again, which finds every deal, does not
    again = imp(db, str(big))
    assert again.exit_code == 0 and "Nothing changed" in again.output
    assert forks == [1]
