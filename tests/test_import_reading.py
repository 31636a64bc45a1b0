"""Reading CSV files: whatever a spreadsheet writes, the cells come back; a quote that is never
closed is an error, not the rest of the file in one cell."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crmtui.store.db import open_database
from crmtui.store.importer import apply, handover, reading
from crmtui.store.importer.reading import UnclosedQuote, data_rows, open_csv
from tests.conftest import fetch, snapshot_of

# Cells as people type them: letters of any script, digits, punctuation, quotes, the delimiters
# themselves and line breaks inside a cell (leading/trailing spaces are trimmed by the header
# reader only, so cells are kept without them).
cell = st.text(
    alphabet=st.sampled_from(list("abcXYZ019 äéßøçЖ漢€$.,;|\t\"'-\n\r")), min_size=1, max_size=12
).map(str.strip).filter(bool)
HEADER = ["Deal Name", "Amount", "Company", "Notes"]


@settings(max_examples=150, deadline=None)
@given(
    rows=st.lists(st.lists(cell, min_size=4, max_size=4), min_size=1, max_size=8),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    newline=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]),
    quote_all=st.booleans(),
)
def test_cells_survive_any_dialect(rows, delimiter, newline, encoding, quote_all) -> None:
    if not quote_all:
        # Python's writer quotes CR or LF only when it is part of its line terminator (spreadsheets
        # always quote them); a file with a bare line break inside a cell is unreadable by any
        # CSV reader, so don't write one.
        for ch in "\r\n":
            if ch not in newline:
                rows = [[c.replace(ch, " ") for c in row] for row in rows]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=newline,
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    writer.writerow(HEADER)
    writer.writerows(rows)
    data = buffer.getvalue().encode(encoding)
    parsed = open_csv("-", stdin=io.BytesIO(data))
    assert parsed.delimiter == delimiter
    assert list(parsed.header) == HEADER
    assert [fields for _line, fields in data_rows(parsed)] == rows


FIELDS_HEADER = ["Deal Name", "Amount", "Currency", "Deal Stage", "Deal - Status", "Close Date", "Create Date",
                 "Company", "Website", "Contact", "Contact Email", "Tags", "Confidence", "Proposal URL", "Record ID"]
junk = st.text(alphabet=st.sampled_from(list("aZ09 .,-/:@[]()$€%'\"#*★")), max_size=14)


COMPANY_HEADER = ["Company name", "Domain", "Website", "Email", "Phone", "Tags", "Record ID"]
CONTACT_HEADER = ["First Name", "Last Name", "E-mail 1 - Value", "Company", "Company Website", "Job Title",
                  "Group Membership", "Id"]


@settings(max_examples=60, deadline=None)
@given(data=st.data(), header=st.sampled_from([FIELDS_HEADER, COMPANY_HEADER, CONTACT_HEADER]))
def test_any_cell_content_is_imported_or_rejected_never_a_crash(tmp_path_factory, data, header) -> None:
    rows = data.draw(st.lists(st.lists(junk, min_size=len(header), max_size=len(header)), min_size=1, max_size=4))
    from typer.testing import CliRunner

    from crmtui.cli import app

    folder = tmp_path_factory.mktemp("fuzz")
    f = folder / "in.csv"
    with f.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    result = CliRunner().invoke(app, ["--db", str(folder / "x.db"), "import", "-q", "--create-stages", str(f)])
    assert result.exit_code in (0, 1), (result.output, repr(result.exception))
    assert "internal error" not in result.output and result.exception is None or isinstance(
        result.exception, SystemExit)


# --- a quote that is never closed ---------------------------------------------------------


def _imp(db: Path, *args: str):
    from typer.testing import CliRunner

    from crmtui.cli import app

    return CliRunner().invoke(app, ["--db", str(db), "import", "-q", *args], catch_exceptions=False)


@pytest.fixture(params=["in memory", "read again from the file, planned in a second process"])
def handed_over(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> list[int] | None:
    """Both ways a deals file is read: a small file from memory (None); a big one again from the
    file, by a second process that hands the deals it plans to this one (sizes made small, as in
    test_import_stream): the ids of the deals handed over."""
    if request.param == "in memory":
        monkeypatch.setenv("CRMTUI_IMPORT_PROCESSES", "1")
        return None
    monkeypatch.delenv("CRMTUI_IMPORT_PROCESSES", raising=False)
    monkeypatch.setattr(reading, "STREAM_MIN_CHARS", 0)
    monkeypatch.setattr(handover, "CHUNK_ROWS", 3)
    monkeypatch.setattr(handover, "HAND_OVER_MASK", 0)
    monkeypatch.setattr(apply, "BULK_MIN_ROWS", 5)
    handed: list[int] = []
    write = apply._DealWriter.__call__

    def spy(self: apply._DealWriter, chunk: handover.DealChunk) -> None:
        handed.extend(row[0] for row in chunk.rows)
        write(self, chunk)

    monkeypatch.setattr(apply._DealWriter, "__call__", spy)
    return handed


def _deals_file(path: Path, middle: str, before: int = 12, after: int = 2) -> Path:
    """`before` good rows, the `middle` text, `after` good rows."""
    head = "".join(f"Deal {i},Firm {i},{i}00,\n" for i in range(1, before + 1))
    tail = "".join(f"Late {i},Firm {i},{i}00,\n" for i in range(1, after + 1))
    path.write_text("Deal Name,Company,Amount,Notes\n" + head + middle + tail, encoding="utf-8", newline="")
    return path


def test_a_quote_never_closed_is_an_error_naming_its_line(tmp_path: Path, handed_over: list[int] | None) -> None:
    db = tmp_path / "crm.db"
    open_database(db).close()
    before = snapshot_of(db)
    f = _deals_file(tmp_path / "deals.csv", 'Audit,"Acme,100,\n')  # line 14, then lines 15 and 16
    result = _imp(db, str(f))
    assert result.exit_code == 1
    message = ("line 14, column 'Company': the quote that opens this value is never closed, so the 2 lines "
               "after it (15–16) were read as part of it, not as rows; close or remove the quote")
    assert message in result.output and "--skip-invalid" in result.output and "Traceback" not in result.output
    assert snapshot_of(db) == before

    result = _imp(db, "--skip-invalid", str(f))
    assert result.exit_code == 0, result.output
    assert message in result.output and "1 row skipped" in result.output
    assert fetch(db, "SELECT title FROM deal ORDER BY id") == [(f"Deal {i}",) for i in range(1, 13)]
    assert handed_over is None or handed_over  # (the second process did hand deals over)
    # the rejects file keeps what the value swallowed: nothing is lost
    with (tmp_path / "deals.rejects.csv").open(newline="", encoding="utf-8") as fh:
        rejected = list(csv.reader(fh))
    assert rejected[1][:2] == ["Audit", "Acme,100,\nLate 1,Firm 1,100,\nLate 2,Firm 2,200,\n"]
    assert rejected[1][-1].startswith("line 14, column 'Company': the quote")


def test_values_over_several_lines_still_import(tmp_path: Path, handed_over: list[int] | None) -> None:
    db = tmp_path / "crm.db"
    open_database(db).close()
    f = _deals_file(tmp_path / "deals.csv", 'Audit,Acme,100,"Called Jo.\n""Send the quote""\n\nthen wait"\n')
    result = _imp(db, str(f))
    assert result.exit_code == 0, result.output
    assert fetch(db, "SELECT notes FROM deal WHERE title = 'Audit'") == [('Called Jo.\n"Send the quote"\n\nthen wait',)]
    assert fetch(db, "SELECT count(*) FROM deal")[0][0] == 15
    assert handed_over is None or handed_over


@pytest.mark.parametrize("streamed", [False, True], ids=["in memory", "read again from the file"])
@pytest.mark.parametrize(("text", "rows", "line", "swallowed"), [
    # a value over two lines, then one whose quote is never closed: the quote's own line
    ('A,"one\ntwo","three\nB,x,y\r\nC,y,z\n', [], 3, 2),
    ('A,x\nB,"y', ["A"], 3, 0),  # the last line, without a line break
    ('A,x\nB,"\n', ["A"], 3, 0),
    ('A,x\rB,"y\rC,z', ["A"], 3, 1),  # old Mac line endings
], ids=["after a value over two lines", "last line", "nothing after it", "CR line endings"])
def test_the_line_a_quote_never_closed_opens_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool,
                                                 text: str, rows: list[str], line: int, swallowed: int) -> None:
    f = tmp_path / "in.csv"
    f.write_text("Deal Name,Notes,Company\n" + text, encoding="utf-8", newline="")
    if streamed:
        monkeypatch.setattr(reading, "STREAM_MIN_CHARS", 0)
    opened = open_csv(str(f))
    assert (opened.path is not None) == streamed
    read = []
    with pytest.raises(UnclosedQuote) as caught:
        for _line, fields in data_rows(opened):
            read.append(fields[0])
    assert read == rows  # the rows before it come first
    assert (caught.value.line, caught.value.swallowed) == (line, swallowed)


def test_a_quote_never_closed_in_the_header_stops_the_import(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    open_database(db).close()
    before = snapshot_of(db)
    f = tmp_path / "deals.csv"
    f.write_text('Deal Name,"Company,Amount\nWebsite,Beta,200\nAudit,Acme,100\n', encoding="utf-8")
    result = _imp(db, str(f))
    assert result.exit_code == 1
    assert ("line 1: the quote that opens this value is never closed, so the 2 lines after it (2–3) were read as "
            "part of it, not as rows") in result.output
    assert snapshot_of(db) == before


def test_the_delimiter_is_one_under_which_every_quote_closes() -> None:
    # split at ";", the second line would open a quote that the file never closes
    data = b'"Deal Name","Amount","Company"\n"",";",""\n";","",""\n"","",""\n'
    parsed = open_csv("-", stdin=io.BytesIO(data))
    assert parsed.delimiter == ","
    assert [fields for _line, fields in data_rows(parsed)] == [["", ";", ""], [";", "", ""]]
