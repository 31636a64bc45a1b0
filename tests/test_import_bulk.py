"""What the fast paths of `crmtui import` must keep: imported records are findable, a big import
into an empty database leaves the same schema (indexes, triggers) and the same data as a small
one would, and the importer's copy of the tag cleaner agrees with the store's."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from crmtui.cli import app
from crmtui.store import tags as store_tags
from crmtui.store.db import open_database
from crmtui.store.errors import ValidationError
from crmtui.store.importer import values
from crmtui.store.search import find_records
from tests.conftest import assert_finder_in_step, fetch

DATA = Path(__file__).parent / "data" / "import"
runner = CliRunner()


def imp(db: Path, *args: str) -> None:
    result = runner.invoke(app, ["--db", str(db), "import", "-q", *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output


def schema(db: Path) -> list[tuple]:
    return fetch(db, "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('index', 'trigger')"
                     " ORDER BY type, name")


def found(db: Path, query: str) -> set[tuple[str, str]]:
    database = open_database(db)
    try:
        with database.session() as s:
            return {(f.kind, f.label) for f in find_records(s, query, limit=50)}
    finally:
        database.close()


@pytest.fixture
def empty_db(db_path: Path) -> Iterator[Path]:
    open_database(db_path).close()
    yield db_path
    # the importer writes with foreign keys off (its plan assigns every id): none may dangle
    assert fetch(db_path, "PRAGMA foreign_key_check") == []


def test_imported_deals_companies_and_contacts_are_findable(empty_db: Path) -> None:
    imp(empty_db, str(DATA / "hubspot_deals.csv"))
    assert ("deal", "Website relaunch") in found(empty_db, "websi rel")
    assert ("company", "Acme Inc.") in found(empty_db, "acme")
    assert any(kind == "contact" for kind, _label in found(empty_db, "jo@acme.com"))


def write_deals(path: Path, n: int, offset: int = 0) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Record ID", "Deal Name", "Deal Stage", "Amount", "Associated Company", "Company Domain Name",
                    "Contact Name", "Contact Email", "Tags"])
        for i in range(offset, offset + n):
            w.writerow([f"R{i}", f"Bulk deal {i}", ("Qualification", "Closed Won", "Negotiation")[i % 3],
                        f"{100 + i}.00", f"Firm {i % 300}", f"firm{i % 300}.example", f"Person {i % 700}",
                        f"person{i % 700}@firm{i % 300}.example", ("seo;web", "print")[i % 2]])


def test_a_big_import_into_an_empty_database_keeps_indexes_triggers_and_the_finder(empty_db: Path,
                                                                                 tmp_path: Path) -> None:
    before = schema(empty_db)
    f = tmp_path / "big.csv"
    write_deals(f, 6000)  # above the size where indexes are dropped and built again at the end
    imp(empty_db, str(f))
    assert schema(empty_db) == before
    assert fetch(empty_db, "SELECT count(*) FROM deal")[0][0] == 6000
    assert fetch(empty_db, "PRAGMA integrity_check") == [("ok",)]
    assert fetch(empty_db, "PRAGMA foreign_key_check") == []
    # the finder's index holds every live record once, as its triggers would have written it
    assert fetch(empty_db, "SELECT count(*) FROM search_index")[0][0] == (
        fetch(empty_db, "SELECT (SELECT count(*) FROM deal) + (SELECT count(*) FROM company)"
                        " + (SELECT count(*) FROM contact)")[0][0])
    assert ("deal", "Bulk deal 4321") in found(empty_db, "bulk deal 4321")
    assert ("company", "Firm 123") in found(empty_db, "firm 123")
    assert ("contact", "Person 456") in found(empty_db, "person 456")
    assert_finder_in_step(empty_db)
    # every deal's last touch as the follow-up triggers would set it
    assert fetch(empty_db, "SELECT count(*) FROM deal WHERE last_touch_at IS NOT max(created_at, stage_entered_at)"
                 ) == [(0,)]
    # a second, small import on top goes through the triggers: findable as well
    g = tmp_path / "more.csv"
    write_deals(g, 10, offset=6000)
    imp(empty_db, str(g))
    assert ("deal", "Bulk deal 6005") in found(empty_db, "bulk deal 6005")
    assert schema(empty_db) == before
    # a second big one (indexes kept: fewer rows than the table has) sets the finder's trigger
    # aside and indexes its rows in one statement: each record once, the trigger back in place
    h = tmp_path / "again.csv"
    write_deals(h, 1500, offset=7000)
    imp(empty_db, str(h))
    assert ("deal", "Bulk deal 8499") in found(empty_db, "bulk deal 8499")
    assert_finder_in_step(empty_db)
    assert fetch(empty_db, "SELECT count(*) FROM search_index")[0][0] == (
        fetch(empty_db, "SELECT (SELECT count(*) FROM deal) + (SELECT count(*) FROM company)"
                        " + (SELECT count(*) FROM contact)")[0][0])
    assert schema(empty_db) == before


@pytest.mark.parametrize("processes", ["1", "2"])
def test_columns_a_big_file_leaves_empty_are_stored_as_nulls_and_the_rest_as_given(
        empty_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: str) -> None:
    """Bulk inserts leave out the columns no row of a batch fills (they default to NULL): a
    column filled in one row only keeps that value, the others stay NULL, defaults stay."""
    monkeypatch.setenv("CRMTUI_IMPORT_PROCESSES", processes)
    f = tmp_path / "sparse.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["Deal Name", "Amount", "Cost", "Notes", "Lost Reason", "Deal Stage"])
        for i in range(6000):
            w.writerow([f"Sparse deal {i}", "" if i == 7 else f"{i}.00", "12.50" if i == 5432 else "", "", "",
                        "Closed Lost" if i == 99 else "Qualification"])
    imp(empty_db, str(f))
    assert fetch(empty_db, "SELECT count(*), count(cost_cents), count(notes), count(lost_reason), count(currency),"
                           " count(confidence), count(last_touch_at), sum(open_tasks), count(closed_on) FROM deal"
                 ) == [(6000, 1, 0, 0, 0, 0, 6000, 0, 1)]
    assert fetch(empty_db, "SELECT title, cost_cents FROM deal WHERE cost_cents IS NOT NULL") == [
        ("Sparse deal 5432", 1250)]
    assert fetch(empty_db, "SELECT amount_cents FROM deal WHERE title IN ('Sparse deal 7', 'Sparse deal 8')"
                           " ORDER BY id") == [(0,), (800,)]


tag_text = st.text(alphabet=st.sampled_from(list("ab Z#;,:\t\n-é")), max_size=70)


@settings(max_examples=200, deadline=None)
@given(st.lists(tag_text, max_size=4))
def test_the_importers_tag_cleaner_agrees_with_the_stores(raw: list[str]) -> None:
    def outcome(clean):  # noqa: ANN001
        try:
            return clean(list(raw))
        except ValidationError as exc:
            return ("error", exc.message)

    assert outcome(values.clean_tags) == outcome(store_tags.clean_tags)


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(st.lists(st.text(alphabet=st.sampled_from(list("ab é,;\"\n\r\t€")), max_size=8), min_size=3,
                           max_size=3), min_size=1, max_size=6),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
    preamble=st.booleans(),
)
def test_a_big_file_read_again_from_disk_gives_the_same_rows_as_held_in_memory(
        tmp_path_factory, rows, newline, encoding, preamble) -> None:
    import io

    from crmtui.store.importer import reading

    buffer = io.StringIO()
    if preamble:
        buffer.write("Notes:" + newline + newline)
    w = csv.writer(buffer, lineterminator=newline, quoting=csv.QUOTE_ALL)
    w.writerows([["Deal Name", "Amount", "Company"], *rows, ["", "", ""]])
    data = buffer.getvalue().encode(encoding)
    f = tmp_path_factory.mktemp("stream") / "deals.csv"
    f.write_bytes(data)
    try:
        in_memory = reading.open_csv("-", stdin=io.BytesIO(data))
    except ValidationError:  # a few cp1252 bytes are too few to recognise: refused either way
        assume(False)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(reading, "STREAM_MIN_CHARS", 0)
        streamed = reading.open_csv(str(f))
    assert streamed.path is not None and streamed.text == ""
    assert (streamed.header, streamed.encoding, streamed.delimiter, streamed.skip_records) == (
        in_memory.header, in_memory.encoding, in_memory.delimiter, in_memory.skip_records)
    assert list(reading.data_rows(streamed)) == list(reading.data_rows(in_memory))



@pytest.mark.parametrize("n", [0, 1, 3, 10, 12])
def test_insert_many_writes_every_row_across_statement_boundaries(n: int) -> None:
    import sqlite3

    from crmtui.store.bulk import insert_many

    conn = sqlite3.connect(":memory:")
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 10)  # 3 rows of 3 values per statement
    conn.execute("CREATE TABLE t (a INTEGER, b TEXT, c)")
    rows = [(i, f"row {i}", None if i % 2 else i * 1.5) for i in range(n)]
    insert_many(conn, "INSERT INTO t (a, b, c) VALUES", 3, iter(rows))
    assert conn.execute("SELECT a, b, c FROM t ORDER BY rowid").fetchall() == rows
    with pytest.raises(ValueError):
        insert_many(conn, "INSERT INTO t (a, b, c) VALUES", 3, [(1, "x", None), (2, "y")])


def test_a_file_changed_during_the_import_is_refused_and_nothing_is_written(empty_db: Path, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from crmtui.store.importer import reading
    from tests.conftest import snapshot_of

    monkeypatch.setattr(reading, "STREAM_MIN_CHARS", 0)
    f = tmp_path / "deals.csv"
    write_deals(f, 20)
    before = snapshot_of(empty_db)
    real_open_csv = reading.open_csv

    def open_then_change(*args, **kwargs):  # noqa: ANN002, ANN003
        opened = real_open_csv(*args, **kwargs)
        with f.open("a", encoding="utf-8") as fh:
            fh.write("R99,Sneaked in,Qualification,1,Firm,firm.example,,,\n")
        return opened

    monkeypatch.setattr("crmtui.store.importer.apply.open_csv", open_then_change)
    result = runner.invoke(app, ["--db", str(empty_db), "import", "-q", str(f)])
    assert result.exit_code == 1
    assert "changed while it was being imported" in result.output
    assert snapshot_of(empty_db) == before


def test_a_pipe_is_read_once_and_kept_in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os
    import threading

    from crmtui.store.importer import reading

    monkeypatch.setattr(reading, "STREAM_MIN_CHARS", 0)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    text = "Deal Name,Amount\nA,1\nB,2\n"
    writer = threading.Thread(target=lambda: fifo.write_text(text, encoding="utf-8"))
    writer.start()
    opened = reading.open_csv(str(fifo))
    writer.join()
    assert opened.path is None
    assert [fields for _line, fields in reading.data_rows(opened)] == [["A", "1"], ["B", "2"]]


def journal_mode_in_header(db: Path) -> bytes:
    """The file header's journal mode: b"\\x02\\x02" WAL, b"\\x01\\x01" a rollback journal."""
    return db.read_bytes()[18:20]


@pytest.mark.parametrize("open_elsewhere", [False, True])
def test_a_big_file_is_written_with_a_rollback_journal_unless_the_database_is_open_elsewhere(
        empty_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, open_elsewhere: bool) -> None:
    import sqlite3

    from crmtui.store.importer import apply, reading

    monkeypatch.setattr(reading, "STREAM_MIN_CHARS", 0)  # (a big file: 1 MB)
    f = tmp_path / "big.csv"
    write_deals(f, 6000)
    seen = []
    real_write_plan = apply.write_plan

    def spy(conn, plan, writer=None):  # noqa: ANN001, ANN202
        seen.append((conn.execute("PRAGMA journal_mode").fetchone()[0], journal_mode_in_header(empty_db)))
        return real_write_plan(conn, plan, writer)

    monkeypatch.setattr(apply, "write_plan", spy)
    other = sqlite3.connect(empty_db) if open_elsewhere else None
    try:
        if other is not None:  # the app, say: it reads on while the import writes
            assert other.execute("SELECT count(*) FROM deal").fetchone() == (0,)
        imp(empty_db, str(f))
        if other is not None:
            assert other.execute("SELECT count(*) FROM deal").fetchone() == (6000,)
    finally:
        if other is not None:
            other.close()
    assert seen == ([("wal", b"\x02\x02")] if open_elsewhere else [("delete", b"\x01\x01")])
    # and back in WAL mode, with no journal left beside it
    assert journal_mode_in_header(empty_db) == b"\x02\x02"
    assert fetch(empty_db, "PRAGMA journal_mode") == [("wal",)]
    assert not Path(f"{empty_db}-journal").exists()
    assert fetch(empty_db, "SELECT count(*) FROM deal") == [(6000,)]
    assert fetch(empty_db, "PRAGMA integrity_check") == [("ok",)]
    # a file with a bad row writes nothing, and leaves the database in WAL mode as well
    before = fetch(empty_db, "SELECT count(*), max(id) FROM deal")
    g = tmp_path / "bad.csv"
    write_deals(g, 6000, offset=10_000)
    g.write_text(g.read_text(encoding="utf-8").replace("10500.00", "ten", 1), encoding="utf-8")
    result = runner.invoke(app, ["--db", str(empty_db), "import", "-q", str(g)])
    assert result.exit_code == 1 and "'ten' is not an amount" in result.output
    assert fetch(empty_db, "SELECT count(*), max(id) FROM deal") == before
    assert journal_mode_in_header(empty_db) == b"\x02\x02"


def test_an_import_killed_while_writing_with_a_rollback_journal_leaves_the_database_as_it_was(
        empty_db: Path, tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.conftest import snapshot_of

    f = tmp_path / "big.csv"
    write_deals(f, 30_000)  # 2 MB: a big file
    before = snapshot_of(empty_db)
    size = empty_db.stat().st_size
    journal = Path(f"{empty_db}-journal")
    proc = subprocess.Popen([sys.executable, "-c", "from crmtui.cli import main; main()", "--db", str(empty_db),
                             "import", "-q", str(f)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        # until the import has written new pages into the database file itself, beside its journal
        deadline = time.monotonic() + 60
        while not (journal.exists() and empty_db.stat().st_size > size):
            assert proc.poll() is None, "the import ended before it was seen writing"
            assert time.monotonic() < deadline
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert journal.exists()  # a hot journal: the next connection rolls the file back from it
    assert snapshot_of(empty_db) == before
    assert fetch(empty_db, "PRAGMA integrity_check") == [("ok",)]
    open_database(empty_db).close()  # crmtui opens it: back in WAL mode
    assert journal_mode_in_header(empty_db) == b"\x02\x02"
    assert snapshot_of(empty_db) == before
    imp(empty_db, str(f))  # and the import goes through
    assert fetch(empty_db, "SELECT count(*) FROM deal") == [(30_000,)]
