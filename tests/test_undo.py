"""The persisted undo log."""

from __future__ import annotations

from pathlib import Path

import pytest

from crmtui.store import undo
from crmtui.store.db import Database, open_database
from crmtui.store.deals import create_deal, move_deal
from crmtui.store.models import StageChange
from tests.conftest import fetch


def _move_with_undo(db: Database, deal_id: int, stage: str) -> None:
    with db.session() as s:
        op = undo.update_op(s, "deal", deal_id, ["stage_id", "stage_entered_at", "closed_on", "lost_reason", "updated_at"])
        result = move_deal(s, deal_id, stage)
        change = s.find(StageChange, "deal_id = ?", [deal_id], order="id DESC")[0]
        undo.record(s, f"move to {result.to_stage.name}", [op, {"op": "delete_row", "table": "stage_change", "id": change.id}])


def test_undo_restores_exactly_and_survives_a_restart(db_path: Path, fixed_clock) -> None:
    db = open_database(db_path)
    with db.session() as s:
        deal = create_deal(s, "Deal", expected_close="2027-01-01")
    before = fetch(db_path, "SELECT * FROM deal")
    _move_with_undo(db, deal.id, "Won")
    _move_with_undo(db, deal.id, "Lost")
    db.close()

    db = open_database(db_path)  # a restart
    with db.session() as s:
        assert [e.label for e in undo.pending(s)] == ["move to Lost", "move to Won"]
        assert undo.undo_last(s).label == "move to Lost"
    assert fetch(db_path, "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id") == [("Won",)]
    with db.session() as s:
        undo.undo_last(s)
    assert fetch(db_path, "SELECT * FROM deal") == before
    assert fetch(db_path, "SELECT count(*) FROM stage_change") == [(1,)]
    with db.session() as s:
        assert undo.undo_last(s) is None
    db.close()


def test_undo_refuses_unknown_tables(db: Database) -> None:
    with pytest.raises(undo.UndoError):
        with db.session() as s:
            undo.update_op(s, "sqlite_master", 1, ["name"])


def test_depth_is_bounded(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(undo, "MAX_DEPTH", 20)
    with db.session() as s:
        deal = create_deal(s, "Deal")
        for i in range(30):
            undo.record(s, f"change {i}", [undo.update_op(s, "deal", deal.id, ["title"])])
    with db.session() as s:
        labels = [e.label for e in undo.pending(s, limit=100)]
    assert len(labels) == 20 and labels[0] == "change 29"


def test_undo_puts_back_a_deleted_row_and_a_setting(db_path) -> None:  # noqa: ANN001

    from crmtui.store import undo
    from crmtui.store.db import open_database

    db = open_database(db_path)
    with db.session() as s:
        conn = s
        row = dict(conn.execute("SELECT id, list_name, value, position FROM choice WHERE value = 'Referral'")
                   .fetchone())
        ops = [{"op": "insert", "table": "choice", "values": row}, undo.setting_op(s, "stale-days"),
               undo.setting_op(s, "currency")]
        conn.execute("DELETE FROM choice WHERE id = :id", {"id": row["id"]})
        conn.execute("INSERT INTO setting (key, value) VALUES ('stale-days', '30')")
        conn.execute("UPDATE setting SET value = 'EUR' WHERE key = 'currency'")
        undo.record(s, "setup", ops, scope="settings")
    with db.session() as s:
        assert undo.undo_last(s, scope="settings") is not None
    with db.session() as s:
        conn = s
        assert tuple(conn.execute("SELECT id, value FROM choice WHERE value = 'Referral'").fetchone()) == (row["id"], "Referral")
        assert conn.execute("SELECT value FROM setting WHERE key = 'stale-days'").fetchall() == []
        assert conn.execute("SELECT value FROM setting WHERE key = 'currency'").scalar() == "USD"
    db.close()
