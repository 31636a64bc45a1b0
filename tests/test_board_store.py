"""The board's queries (store/board.py) and its undoable changes (store/board_actions.py)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from crmtui.store import board_actions
from crmtui.store.board import BoardData, BoardFilter, company_suggestion, load_board, lost_reasons
from crmtui.store.db import Database, open_database
from crmtui.store.errors import ValidationError
from tests.board_seed import seed_board
from tests.conftest import fetch, snapshot_of


def _titles(data: BoardData, stage_name: str) -> list[str]:
    stage = next(s for s in data.stages if s.name == stage_name)
    column = data.column(stage.id)
    return [c.title for c in data.cards(stage.id, 0, column.count)]


@pytest.fixture
def seeded(db: Database, fixed_clock) -> tuple[Database, dict[str, int]]:  # noqa: ANN001
    return db, seed_board(db)


def _board(db: Database, **kw) -> BoardData:  # noqa: ANN003
    conn = db.raw()
    return BoardData(conn, load_board(conn, **kw))


def test_columns_hold_open_deals_and_recent_closed_ones(seeded) -> None:  # noqa: ANN001
    db, ids = seeded
    data = _board(db)
    assert [s.name for s in data.stages][:2] == ["Unqualified", "Qualification"]
    counts = {s.name: data.column(s.id).count for s in data.stages}
    assert counts == {
        "Unqualified": 2, "Qualification": 1, "Writing proposal": 0, "Proposal sent": 1, "Negotiation": 2,
        "Contract out for signature": 0, "Won": 1, "Lost": 1, "N/A": 0,
    }  # "Archive" was won in August: not in the last 30 days
    negotiation = next(s for s in data.stages if s.name == "Negotiation")
    assert data.column(negotiation.id).amount_cents == 1_500_000
    assert data.column(negotiation.id).weighted_cents == 1_050_000  # 70 %
    assert data.snapshot.open_totals() == (6, 3_580_000, 65_000 + 36_000 + 625_000 + 1_050_000)
    card = data.cards(negotiation.id, 0, 2)[0]
    assert card.title == "Team workshop" and card.customer == "Acme"
    assert card.days_in_stage(dt.date(2026, 11, 23)) == 30 and card.next_due == dt.date(2026, 11, 23)
    logo = data.cards(next(s.id for s in data.stages if s.name == "Qualification"), 0, 1)[0]
    assert logo.customer == "Jane Roe" and logo.next_due is None  # a person, no company


def test_sorts_order_each_column(seeded) -> None:  # noqa: ANN001
    db, _ = seeded
    assert _titles(_board(db), "Unqualified") == ["Brand refresh", "SEO audit"]  # expected close
    assert _titles(_board(db, sort="amount"), "Negotiation") == ["Care plan", "Team workshop"]
    assert _titles(_board(db, sort="age"), "Negotiation") == ["Team workshop", "Care plan"]  # longest first
    with db.session() as s:
        board_actions.step(s, _id(db, "SEO audit"), 1)
        board_actions.step(s, _id(db, "SEO audit"), -1)
    assert _titles(_board(db, sort="updated"), "Unqualified") == ["SEO audit", "Brand refresh"]
    # Closed columns by close date, newest first; a deal won now goes to the top (also on resync).
    conn = db.raw()
    conn.execute("UPDATE deal SET closed_on = '2026-11-10' WHERE title = 'Retainer'")
    conn.close()
    data = _board(db)
    with db.session() as s:
        board_actions.win(s, _id(db, "Care plan"))
    data.resync([_id(db, "Care plan")])
    assert _titles(data, "Won") == ["Care plan", "Retainer"]
    assert _titles(_board(db), "Won") == ["Care plan", "Retainer"]


def _id(db: Database, title: str) -> int:
    return fetch(db.path, "SELECT id FROM deal WHERE title = ?", title)[0][0]


def test_filter_over_title_company_contact_and_tags(seeded) -> None:  # noqa: ANN001
    db, _ = seeded

    def shown(text: str) -> set[str]:
        data = _board(db, flt=BoardFilter.parse(text))
        return {t for s in data.stages for t in _titles(data, s.name)}

    assert shown("acme") == {"Website relaunch", "Team workshop"}
    assert shown("jane") == {"Logo design"}
    assert shown("#seo") == {"SEO audit"}
    assert shown("#des") == {"Website relaunch"}  # a tag by its beginning, while typing
    assert shown("design") == {"Website relaunch", "Logo design"}  # a word matches tags too
    assert shown("acme work") == {"Team workshop"}  # every word must match
    assert shown("100%_") == set()  # LIKE wildcards are plain characters
    assert BoardFilter.parse("  #  ") == BoardFilter("#", (), ()) and not BoardFilter.parse("#")


def test_resync_moves_a_deal_between_columns_and_totals(seeded) -> None:  # noqa: ANN001
    db, ids = seeded
    data = _board(db)
    stage = {s.name: s.id for s in data.stages}
    with db.session() as s:
        board_actions.step(s, ids["Brand refresh"], 1)
    placed = data.resync([ids["Brand refresh"]], {ids["Brand refresh"]: (stage["Unqualified"], 0)})
    assert placed == {ids["Brand refresh"]: (stage["Qualification"], 0)}
    assert data.column(stage["Unqualified"]).count == 1 and data.column(stage["Unqualified"]).amount_cents == 250_000
    assert data.column(stage["Qualification"]).amount_cents == 580_000
    # Trashed: out of the board.
    with db.session() as s:
        board_actions.trash(s, ids["Brand refresh"])
    assert data.resync([ids["Brand refresh"]]) == {}
    assert data.column(stage["Qualification"]).count == 1
    # What a full reload says agrees with what resync kept.
    fresh = _board(db)
    assert {s: fresh.column(s).ids for s in stage.values()} == {s: data.column(s).ids for s in stage.values()}


def test_each_change_is_undone_exactly(seeded) -> None:  # noqa: ANN001
    db, ids = seeded
    before = snapshot_of(db.path)
    deal = ids["Website relaunch"]
    with db.session() as s:
        board_actions.step(s, deal, 1)
    with db.session() as s:
        board_actions.win(s, deal)
    with db.session() as s:
        board_actions.lose(s, deal, "Timing")
    with db.session() as s:
        board_actions.trash(s, deal)
    with db.session() as s:
        new = board_actions.create(s, "Fresh", company="Newco Ltd", amount="1.500,50", expected_close="2027-02-01")
    assert fetch(db.path, "SELECT amount_cents, expected_close FROM deal WHERE id = ?", new.id) == [(150050, "2027-02-01")]
    labels = []
    for _ in range(5):
        with db.session() as s:
            labels.append(board_actions.undo_last(s).label)
    assert labels == [
        "new deal “Fresh”", "trash “Website relaunch”", "lost “Website relaunch”", "won “Website relaunch”",
        "move “Website relaunch” to Negotiation",
    ]
    assert fetch(db.path, "SELECT * FROM deal WHERE id = ?", deal) == [
        r for r in _rows(before, "deal") if r[0] == deal
    ]
    assert fetch(db.path, "SELECT deleted_at IS NOT NULL FROM deal WHERE id = ?", new.id) == [(1,)]
    assert fetch(db.path, "SELECT deleted_at IS NOT NULL FROM company WHERE name = 'Newco Ltd'") == [(1,)]
    assert fetch(db.path, "SELECT count(*) FROM stage_change WHERE deal_id = ?", deal) == [(1,)]
    with db.session() as s:
        assert board_actions.undo_last(s) is None


def _rows(snapshot: list[tuple], table: str) -> list[tuple]:
    out, inside = [], False
    for row in snapshot:
        if len(row) == 1 and isinstance(row[0], str):
            inside = row[0] == table
        elif inside:
            out.append(row)
    return out


def test_undo_survives_a_restart(db_path: Path, fixed_clock) -> None:  # noqa: ANN001
    db = open_database(db_path)
    ids = seed_board(db)
    with db.session() as s:
        board_actions.win(s, ids["Brand refresh"])
    db.close()
    db = open_database(db_path)
    with db.session() as s:
        undone = board_actions.undo_last(s)
    assert undone.deal_ids == [ids["Brand refresh"]]
    assert fetch(db_path, "SELECT s.name, d.closed_on FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.id = ?",
                 ids["Brand refresh"]) == [("Unqualified", None)]
    db.close()


def test_bad_changes_write_nothing(seeded) -> None:  # noqa: ANN001
    db, ids = seeded
    before = snapshot_of(db.path)
    for change in (
        lambda s: board_actions.step(s, ids["Retainer"], 1),  # closed: can't go forward
        lambda s: board_actions.step(s, ids["Brand refresh"], -1),  # already first
        lambda s: board_actions.lose(s, ids["Brand refresh"], "   "),
        lambda s: board_actions.create(s, "X", amount="12,5x"),
        lambda s: board_actions.create(s, "X", expected_close="31/31/2026"),
        lambda s: board_actions.create(s, "  "),
    ):
        with pytest.raises(ValidationError):
            with db.session() as s:
                change(s)
    assert snapshot_of(db.path) == before


def test_suggestions_and_lost_reasons(seeded) -> None:  # noqa: ANN001
    db, _ = seeded
    conn = db.raw()
    assert company_suggestion(conn, "ac") == "Acme"
    assert company_suggestion(conn, "zz") is None and company_suggestion(conn, " ") is None
    assert lost_reasons(conn)[0] == "Price too high"
    conn.close()
