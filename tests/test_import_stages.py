"""The stage a deal row's stage and status cells name (`importer.stages`), on its own."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmtui.store.db import open_database
from crmtui.store.errors import ValidationError
from crmtui.store.importer.cells import RowError
from crmtui.store.importer.mapping import build_mapping
from crmtui.store.importer.plan import COLS, ImportOptions, Plan, Table
from crmtui.store.importer.reading import CsvText
from crmtui.store.importer.stages import Stages

# The default pipeline (id 1): Unqualified 1, Qualification 2, Writing proposal 3, Proposal sent 4,
# Negotiation 5, Contract out for signature 6 (open); Won 7; Lost 8; N/A 9 (closed).
QUALIFICATION, NEGOTIATION, WON, LOST = 2, 5, 7, 8


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    database = open_database(tmp_path / "crm.db")
    connection = database.raw()
    yield connection
    connection.close()
    database.close()


def stages(conn: sqlite3.Connection, **options: object) -> Stages:
    header = ("Deal Name", "Deal Stage")
    csv_text = CsvText(name="deals.csv", text="", encoding="utf-8", delimiter=",", header_line=1, header=header)
    plan = Plan(csv_text, build_mapping(header, "deals"), ImportOptions("deals"), {e: Table(e) for e in COLS})
    return Stages(conn, ImportOptions("deals", **options), plan)  # type: ignore[arg-type]


def test_a_stage_is_found_by_name_in_any_case_and_spacing(conn: sqlite3.Connection) -> None:
    s = stages(conn)
    assert s.stage_for(1, "negotiation", None, "", 2) == (NEGOTIATION, None)
    assert s.stage_for(1, "Writing   PROPOSAL", None, "", 2) == (3, None)
    assert s.stage_for(1, "", None, "", 2) == (1, None)  # no stage: the pipeline's first open one


def test_closed_won_and_closed_lost_are_the_pipelines_won_and_lost_stages(conn: sqlite3.Connection) -> None:
    s = stages(conn)
    assert s.stage_for(1, "Closed Won", None, "", 2) == (WON, None)
    assert s.stage_for(1, "closed-lost", None, "", 2) == (LOST, None)


def test_a_status_says_where_the_deal_ended_and_the_stage_where_it_went_through(conn: sqlite3.Connection) -> None:
    s = stages(conn)
    assert s.stage_for(1, "Qualification", "won", "Won", 2) == (WON, QUALIFICATION)
    assert s.stage_for(1, "Lost", "lost", "lost", 2) == (LOST, None)
    assert s.stage_for(1, "", "lost", "LOST", 2) == (LOST, None)
    assert s.stage_for(1, "Negotiation", "open", "open", 2) == (NEGOTIATION, None)
    conn.execute("UPDATE stage SET deleted_at = '2026-01-01' WHERE kind = 'won'")
    with pytest.raises(RowError) as caught:
        stages(conn).stage_for(1, "Negotiation", "won", "Won", 2)
    assert (caught.value.field, caught.value.value, caught.value.reason) == (
        "status", "Won", "pipeline 'Sales' has no won stage")


def test_an_unknown_stage_is_listed_and_the_import_stops_unless_it_may_create_stages(
        conn: sqlite3.Connection) -> None:
    s = stages(conn)
    assert s.stage_for(1, "Discovery  call", None, "", 7) == (0, None)  # (no stage: nothing is written)
    assert s.stage_for(1, "discovery call", None, "", 9) == (0, None)
    assert s.plan.unknown_stages == {(1, "discovery call"): (7, "Discovery call")}
    assert s.plan.new_stages == []


def test_with_create_stages_an_unknown_stage_is_planned_after_the_last_open_one(conn: sqlite3.Connection) -> None:
    s = stages(conn, create_stages=True)
    assert s.stage_for(1, "Discovery call", None, "", 7) == (10, None)
    assert s.stage_for(1, "Demo", "won", "won", 8) == (WON, 11)  # went through it, then won
    assert s.stage_for(1, "DISCOVERY CALL", None, "", 9) == (10, None)  # planned once
    s.finish()
    # after "Contract out for signature" (position 5, 90%), before Won: Won and the rest move on by two
    assert s.plan.new_stages == [(10, 1, "Discovery call", 6, 90, "open"), (11, 1, "Demo", 7, 90, "open")]
    assert s.plan.stage_shifts == {1: (5, 2)}


def test_pipelines_are_found_by_name_and_an_unknown_one_is_named_with_those_there_are(
        conn: sqlite3.Connection) -> None:
    conn.execute("INSERT INTO pipeline (id, name, position, created_at) VALUES (2, 'Workshops', 1, '2026-01-01')")
    s = stages(conn)
    assert s.default_pipeline == 1
    assert s.pipeline_named("WORKSHOPS") == 2
    with pytest.raises(RowError) as caught:
        s.pipeline_named("Retainers")
    assert caught.value.field == "pipeline"
    assert caught.value.reason == "unknown pipeline 'Retainers' (pipelines: Sales, Workshops)"
    assert stages(conn, pipeline=" workshops").default_pipeline == 2
    with pytest.raises(ValidationError, match=r"--pipeline: unknown pipeline 'Nope' \(pipelines: Sales, Workshops\)"):
        stages(conn, pipeline="Nope")
