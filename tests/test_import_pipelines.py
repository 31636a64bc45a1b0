"""A deals file with stages of its own, as a user meets it: `--map-stage`, `--new-pipeline` (with
`--stage-order`, the order asked at a terminal, or the file's order), `--create-stages`, undo, and
the funnel and win rate afterwards, worked out by hand."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

import crmtui.cli.data
from crmtui.store import reports as R
from crmtui.store.db import open_database
from crmtui.store.importer.apply import prepare
from crmtui.store.importer.stages import file_stages
from tests.commands import ok, run
from tests.conftest import fetch, snapshot_of


# Stages of their own: open ones named out of their order (Proposal, Lead, Meeting: really Lead,
# Meeting, Proposal), and won / lost / closed ones in several words. A8 was lost the day it was
# created; every other closed deal closed weeks after its creation.
OWN_STAGES = """\
Deal Name,Company,Deal Stage,Amount,Create Date,Closed On
A1,Acme,Proposal,1000,2026-01-05,
A2,Bolt,Lead,2000,2026-01-10,
A3,Cobalt,Closed Won,3000,2026-01-15,2026-02-20
A4,Delta,Dead,4000,2026-02-01,2026-02-15
A5,Echo,won,5000,2026-02-02,2026-03-10
A6,Fox,Cancelled,600,2026-02-03,2026-03-11
A7,Golf,Meeting,700,2026-02-04,
A8,Hotel,Lost,800,2026-02-05,2026-02-05
A9,India,LEAD ,900,2026-02-06,
"""
IN_ORDER = "Lead,Meeting,Proposal"


@pytest.fixture
def empty_db(db_path: Path) -> Iterator[Path]:
    open_database(db_path).close()
    yield db_path
    assert fetch(db_path, "PRAGMA foreign_key_check") == []


@pytest.fixture
def own_stages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # (messages name the file as given)
    path = Path("deals.csv")
    path.write_text(OWN_STAGES)
    return path


def stages_of(db: Path, pipeline: str) -> list[tuple]:
    return fetch(db, "SELECT s.name, s.kind, s.probability FROM stage s JOIN pipeline p ON p.id = s.pipeline_id"
                     " WHERE p.name = ? AND s.deleted_at IS NULL ORDER BY s.position", pipeline)


def deal_stages(db: Path) -> list[tuple]:
    return fetch(db, "SELECT d.title, p.name, s.name FROM deal d JOIN stage s ON s.id = d.stage_id"
                     " JOIN pipeline p ON p.id = d.pipeline_id ORDER BY d.id")


def history(db: Path, title: str) -> list[tuple]:
    return fetch(db, "SELECT f.name, t.name, substr(sc.changed_at, 1, 10) FROM stage_change sc"
                     " JOIN deal d ON d.id = sc.deal_id LEFT JOIN stage f ON f.id = sc.from_stage_id"
                     " JOIN stage t ON t.id = sc.to_stage_id WHERE d.title = ? ORDER BY sc.changed_at, sc.id", title)


def test_file_stages_lists_the_stages_of_a_file_as_they_first_appear(own_stages: Path) -> None:
    """What --new-pipeline (and the import screen) starts from: one entry per stage in any case
    and spacing, with its rows, its kind by its words and the line it first appears on."""
    csv_text, mapping = prepare(own_stages)
    assert [(s.name, s.rows, s.kind, s.line) for s in file_stages(csv_text, mapping)] == [
        ("Proposal", 1, "open", 2), ("Lead", 2, "open", 3), ("Closed Won", 1, "won", 4), ("Dead", 1, "lost", 5),
        ("won", 1, "won", 6), ("Cancelled", 1, "closed", 7), ("Meeting", 1, "open", 8), ("Lost", 1, "lost", 9)]


# --- unknown stages, and --map-stage ------------------------------------------------------------


def test_unknown_stages_stop_the_import_with_their_names_and_the_three_ways_out(empty_db: Path,
                                                                                 own_stages: Path) -> None:
    before = snapshot_of(empty_db)
    result = run(empty_db, "import", str(own_stages))
    assert result.exit_code == 1
    # (won, lost and closed words are the pipeline's Won, Lost and N/A stages: not unknown)
    assert ("deals.csv: 3 unknown stages: 'Proposal', 'Lead', 'Meeting' (first on line 2). Map each to a stage of"
            " the pipeline with --map-stage 'Proposal=STAGE' (see crmtui stages), make a new pipeline of the"
            " file's stages with --new-pipeline NAME, or add them to the pipeline with --create-stages"
            in result.stderr)
    assert "Traceback" not in result.output
    assert snapshot_of(empty_db) == before


def test_map_stage_reads_their_stages_as_ours_in_any_case_and_spacing(empty_db: Path, own_stages: Path) -> None:
    result = ok(empty_db, "import", str(own_stages), "--map-stage", " lead =unqualified",
                "--map-stage", "MEETING=Qualification", "--map-stage", "Proposal=proposal  SENT",
                "--map-stage", "Demo=Negotiation")
    assert deal_stages(empty_db) == [
        ("A1", "Sales", "Proposal sent"), ("A2", "Sales", "Unqualified"), ("A3", "Sales", "Won"),
        ("A4", "Sales", "Lost"), ("A5", "Sales", "Won"), ("A6", "Sales", "N/A"), ("A7", "Sales", "Qualification"),
        ("A8", "Sales", "Lost"), ("A9", "Sales", "Unqualified")]
    # a stage the file never has: said, not an error
    assert ("Note: --map-stage: deals.csv has no stage 'Demo'; its stages: Proposal, Lead, Closed Won, Dead, won,"
            " Cancelled, Meeting, Lost") in result.stderr
    assert fetch(empty_db, "SELECT count(*) FROM stage") == [(9,)]  # none added


def test_map_stage_to_a_stage_the_pipeline_lacks_names_its_stages(empty_db: Path, own_stages: Path) -> None:
    before = snapshot_of(empty_db)
    result = run(empty_db, "import", str(own_stages), "--map-stage", "Lead=Discovery")
    assert result.exit_code == 1
    assert ("--map-stage 'Lead=Discovery': pipeline 'Sales' has no stage 'Discovery' (its stages: Unqualified,"
            " Qualification, Writing proposal, Proposal sent, Negotiation, Contract out for signature, Won, Lost, N/A)"
            in result.stderr)
    assert snapshot_of(empty_db) == before


# --- --new-pipeline -------------------------------------------------------------------------------


def test_new_pipeline_is_made_of_the_files_stages_in_stage_order(empty_db: Path, own_stages: Path) -> None:
    result = ok(empty_db, "import", str(own_stages), "--new-pipeline", "Legacy CRM", "--stage-order", IN_ORDER)
    # open stages in the order given, probabilities spread evenly; one won, lost and closed stage
    # each (named as the file first names it): "won" is Closed Won, "Lost" is Dead
    assert stages_of(empty_db, "Legacy CRM") == [
        ("Lead", "open", 25), ("Meeting", "open", 50), ("Proposal", "open", 75), ("Closed Won", "won", 100),
        ("Dead", "lost", 0), ("Cancelled", "closed", 0)]
    assert ("New pipeline 'Legacy CRM': Lead (25%), Meeting (50%), Proposal (75%), Closed Won (won), Dead (lost),"
            " Cancelled (closed)") in result.stdout
    assert "Note:" not in result.stderr
    # a database without deals opens on the pipeline it was filled into
    assert fetch(empty_db, "SELECT name, is_default FROM pipeline ORDER BY position") == [("Sales", 0),
                                                                                         ("Legacy CRM", 1)]
    assert "'Legacy CRM' is the default pipeline now: the database had no deals before." in result.stdout
    assert [(title, stage) for title, pipeline, stage in deal_stages(empty_db) if pipeline == "Legacy CRM"] == [
        ("A1", "Proposal"), ("A2", "Lead"), ("A3", "Closed Won"), ("A4", "Dead"), ("A5", "Closed Won"),
        ("A6", "Cancelled"), ("A7", "Meeting"), ("A8", "Dead"), ("A9", "Lead")]
    # A deal imported straight into a later stage: created when it was, in its stage since it entered it.
    assert history(empty_db, "A1") == [(None, "Proposal", "2026-01-05")]
    assert history(empty_db, "A3") == [(None, "Lead", "2026-01-15"), ("Lead", "Closed Won", "2026-02-20")]
    assert history(empty_db, "A8") == [(None, "Dead", "2026-02-05")]  # lost the day it came in
    assert fetch(empty_db, "SELECT substr(created_at, 1, 10), closed_on FROM deal WHERE title = 'A3'") == [
        ("2026-01-15", "2026-02-20")]


def test_new_pipeline_in_a_dry_run_is_shown_and_nothing_is_written(empty_db: Path, own_stages: Path) -> None:
    before = snapshot_of(empty_db)
    result = ok(empty_db, "import", str(own_stages), "--new-pipeline", "Legacy", "--stage-order", IN_ORDER,
                "--dry-run")
    assert "New pipeline 'Legacy': Lead (25%), Meeting (50%), Proposal (75%)" in result.stdout
    assert "Dry run: nothing was written." in result.stdout
    assert snapshot_of(empty_db) == before
    data = json.loads(ok(empty_db, "import", str(own_stages), "--new-pipeline", "Legacy", "--dry-run",
                         "--json").stdout)
    assert data["new_pipeline"]["name"] == "Legacy"
    assert [(s["name"], s["kind"]) for s in data["new_pipeline"]["stages"]][:3] == [
        ("Proposal", "open"), ("Lead", "open"), ("Meeting", "open")]
    assert snapshot_of(empty_db) == before


def test_new_pipeline_without_an_order_keeps_the_files_and_says_how_to_set_it(empty_db: Path,
                                                                               own_stages: Path) -> None:
    result = ok(empty_db, "import", str(own_stages), "--new-pipeline", "Legacy")
    assert [name for name, kind, _p in stages_of(empty_db, "Legacy") if kind == "open"] == [
        "Proposal", "Lead", "Meeting"]
    assert ("Note: the open stages of the new pipeline 'Legacy' are in the order they first appear in deals.csv:"
            " Proposal, Lead, Meeting; give another with --stage-order 'Proposal,Lead,Meeting'") in result.stderr


def test_new_pipeline_asks_a_person_at_a_terminal_for_the_order(empty_db: Path, own_stages: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crmtui.cli.data, "interactive", lambda: True)
    # a wrong answer is said and asked again
    result = ok(empty_db, "import", str(own_stages), "--new-pipeline", "Legacy", input="2 3\n2 3 1\n")
    assert ("The open stages of deals.csv, as they first appear:\n  1. Proposal (1 row)\n  2. Lead (2 rows)\n"
            "  3. Meeting (1 row)\n") in result.stderr
    assert "Error: give each number from 1 to 3 once (1 missing)" in result.stderr
    assert [name for name, kind, _p in stages_of(empty_db, "Legacy") if kind == "open"] == [
        "Lead", "Meeting", "Proposal"]
    assert "Note:" not in result.stderr
    # Enter keeps the file's order (chosen, so not a note)
    result = ok(empty_db, "import", str(own_stages), "--new-pipeline", "Legacy 2", input="\n")
    assert [name for name, kind, _p in stages_of(empty_db, "Legacy 2") if kind == "open"] == [
        "Proposal", "Lead", "Meeting"]
    assert "Note:" not in result.stderr


def test_new_pipeline_with_map_stage_merges_their_stages(empty_db: Path, own_stages: Path) -> None:
    ok(empty_db, "import", str(own_stages), "--new-pipeline", "Legacy", "--map-stage", "Meeting=lead",
       "--stage-order", "Lead,Proposal")
    assert [name for name, kind, _p in stages_of(empty_db, "Legacy") if kind == "open"] == ["Lead", "Proposal"]
    assert fetch(empty_db, "SELECT s.name FROM deal d JOIN stage s ON s.id = d.stage_id WHERE d.title = 'A7'") == [
        ("Lead",)]


@pytest.mark.parametrize(("args", "message"), [
    (["--new-pipeline", "SALES"], "--new-pipeline: there is already a pipeline called 'Sales'; choose another name,"
                                  " or import into it with --pipeline 'Sales'"),
    (["--new-pipeline", "Legacy", "--stage-order", "Lead,Meeting,Pitch,Proposal"],
     "--stage-order: 'Pitch' is not one of the open stages of deals.csv (Proposal, Lead, Meeting)"),
    (["--new-pipeline", "Legacy", "--stage-order", "Lead,Proposal"],
     "--stage-order misses 'Meeting': name each of the open stages of deals.csv once (Proposal, Lead, Meeting)"),
    (["--new-pipeline", "Legacy", "--stage-order", "Lead,Meeting,Proposal,Closed Won"],
     "--stage-order: 'Closed Won' is not one of the open stages of deals.csv (Proposal, Lead, Meeting)"),
    (["--new-pipeline", "Legacy", "--stage-order", "Lead,lead ,Meeting"], "--stage-order: 'lead' is named twice"),
    (["--new-pipeline", "Legacy", "--pipeline", "Sales"], "--new-pipeline and --pipeline: give one of them"),
    (["--new-pipeline", "Legacy", "--create-stages"], "--create-stages adds stages to a pipeline that exists"),
    (["--stage-order", IN_ORDER], "--stage-order orders the stages --new-pipeline or --create-stages makes"),
    (["--new-pipeline", "Legacy", "--map-stage", "Lead=Won"], None),  # (fine: Lead's deals are won)
    (["--new-pipeline", "Legacy", "--map-stage", "Lead=Pitch"],
     "--map-stage 'Lead=Pitch': pipeline 'Legacy' has no stage 'Pitch' (its stages: Proposal, Meeting, Closed Won,"
     " Dead, Cancelled)"),
    (["--map-stage", "Lead"], "--map-stage 'Lead': write it as 'Their stage=Our stage'"),
    (["--map-stage", "Lead=Won", "--map-stage", "lead=Lost"], "--map-stage: 'lead' is mapped twice, to 'Won' and"
                                                                " to 'Lost'"),
])
def test_stage_options_that_do_not_fit_are_refused_and_nothing_is_written(
        empty_db: Path, own_stages: Path, args: list[str], message: str | None) -> None:
    before = snapshot_of(empty_db)
    result = run(empty_db, "import", str(own_stages), "--dry-run", *args)
    if message is None:
        assert result.exit_code == 0, result.output
        return
    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert snapshot_of(empty_db) == before


def test_new_pipeline_needs_a_file_of_deals_with_stages(empty_db: Path, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    companies = tmp_path / "companies.csv"
    companies.write_text("Company Name,Website\nAcme,acme.com\n")
    result = run(empty_db, "import", "companies.csv", "--new-pipeline", "Legacy")
    assert result.exit_code == 1
    assert "--new-pipeline: only for a file of deals, and this one holds companies" in result.stderr
    no_stage = tmp_path / "no_stage.csv"
    no_stage.write_text("Deal Name,Amount\nA1,100\n")
    result = run(empty_db, "import", "no_stage.csv", "--new-pipeline", "Legacy")
    assert result.exit_code == 1
    assert "--new-pipeline: no_stage.csv has no stage column to make the pipeline's stages of" in result.stderr
    closed_only = tmp_path / "closed_only.csv"
    closed_only.write_text("Deal Name,Deal Stage\nA1,Won\nA2,Lost\n")
    result = run(empty_db, "import", "closed_only.csv", "--new-pipeline", "Legacy")
    assert result.exit_code == 1
    assert ("the stages of closed_only.csv (Won, Lost) all say won, lost or closed, and a pipeline needs an open"
            " stage") in result.stderr
    assert fetch(empty_db, "SELECT count(*) FROM pipeline") == [(1,)]


# --- --create-stages ------------------------------------------------------------------------------


def test_create_stages_puts_new_open_stages_before_won_lost_and_closed(empty_db: Path, own_stages: Path) -> None:
    result = ok(empty_db, "import", str(own_stages), "--create-stages", "--stage-order", IN_ORDER)
    assert "New stages: Lead, Meeting, Proposal" in result.stdout
    assert [name for name, _kind, _p in stages_of(empty_db, "Sales")] == [
        "Unqualified", "Qualification", "Writing proposal", "Proposal sent", "Negotiation",
        "Contract out for signature", "Lead", "Meeting", "Proposal", "Won", "Lost", "N/A"]
    assert {p for name, _k, p in stages_of(empty_db, "Sales") if name in ("Lead", "Meeting", "Proposal")} == {90}
    # the same command again adds nothing, and --stage-order may name the stages that are there now
    assert "Nothing changed" in ok(empty_db, "import", str(own_stages), "--create-stages",
                                   "--stage-order", IN_ORDER).stdout


def test_create_stages_without_an_order_adds_them_as_the_file_names_them_and_never_after_won(
        empty_db: Path, own_stages: Path) -> None:
    # a pipeline whose last open stage was put after its won, lost and N/A stages
    ok(empty_db, "stages", "move", "Contract out for signature", "--last")
    ok(empty_db, "import", str(own_stages), "--create-stages")
    assert [name for name, _kind, _p in stages_of(empty_db, "Sales")] == [
        "Unqualified", "Qualification", "Writing proposal", "Proposal sent", "Negotiation", "Proposal", "Lead",
        "Meeting", "Won", "Lost", "N/A", "Contract out for signature"]
    assert {p for name, _k, p in stages_of(empty_db, "Sales") if name in ("Lead", "Meeting", "Proposal")} == {70}


def test_create_stages_adds_a_lost_stage_the_pipeline_lacks_as_a_lost_one(empty_db: Path, own_stages: Path) -> None:
    ok(empty_db, "stages", "delete", "Lost")
    result = ok(empty_db, "import", str(own_stages), "--create-stages", "--stage-order", IN_ORDER)
    assert "New stages: Lead, Meeting, Proposal, Dead" in result.stdout
    assert [(name, kind) for name, kind, _p in stages_of(empty_db, "Sales")][6:] == [
        ("Lead", "open"), ("Meeting", "open"), ("Proposal", "open"), ("Won", "won"), ("N/A", "closed"),
        ("Dead", "lost")]
    assert [(title, stage) for title, _p, stage in deal_stages(empty_db) if title in ("A4", "A8")] == [
        ("A4", "Dead"), ("A8", "Dead")]


def test_create_stages_with_a_stage_order_that_misses_one_is_refused(empty_db: Path, own_stages: Path) -> None:
    before = snapshot_of(empty_db)
    result = run(empty_db, "import", str(own_stages), "--create-stages", "--stage-order", "Lead,Proposal")
    assert result.exit_code == 1
    assert ("--stage-order misses 'Meeting': name each of the stages --create-stages adds once (Proposal, Lead,"
            " Meeting)") in result.stderr
    assert snapshot_of(empty_db) == before


# --- undo -----------------------------------------------------------------------------------------


def test_undo_removes_the_new_pipeline_and_its_stages(empty_db: Path, own_stages: Path) -> None:
    before = {t: fetch(empty_db, f"SELECT * FROM {t} ORDER BY id") for t in ("pipeline", "stage", "deal")}
    ok(empty_db, "import", str(own_stages), "--new-pipeline", "Legacy", "--stage-order", IN_ORDER)
    result = ok(empty_db, "imports", "undo", "1")
    assert result.stdout == ("Undid import #1: removed 9 deals, 9 companies, 0 contacts, 1 pipeline and 6 stages.\n")
    assert {t: fetch(empty_db, f"SELECT * FROM {t} ORDER BY id") for t in ("pipeline", "stage", "deal")} == before
    assert fetch(empty_db, "SELECT count(*) FROM stage_change") == [(0,)]


def test_a_new_pipeline_stays_beside_the_default_when_the_database_has_deals(empty_db: Path,
                                                                             own_stages: Path) -> None:
    ok(empty_db, "add", "deal", "Ours already")
    result = ok(empty_db, "import", str(own_stages), "--new-pipeline", "Legacy", "--stage-order", IN_ORDER, "--json")
    assert json.loads(result.stdout)["new_pipeline"]["default"] is False
    assert fetch(empty_db, "SELECT name, is_default FROM pipeline ORDER BY position") == [("Sales", 1), ("Legacy", 0)]


def test_undo_gives_the_default_back_unless_another_was_chosen_since(empty_db: Path, own_stages: Path,
                                                                     tmp_path: Path) -> None:
    ok(empty_db, "import", str(own_stages), "--new-pipeline", "Legacy", "--stage-order", IN_ORDER)
    report = json.loads(ok(empty_db, "report", "--json", "--period", "all").stdout)
    assert report["funnel"]["pipeline"] == "Legacy"  # the funnel shows the deals without --pipeline
    ok(empty_db, "add", "deal", "Added since", "--pipeline", "Legacy", "--stage", "Meeting")
    ok(empty_db, "imports", "undo", "1")  # Legacy stays for the deal added since, no longer the default
    assert fetch(empty_db, "SELECT name, is_default FROM pipeline ORDER BY position") == [("Sales", 1), ("Legacy", 0)]


def test_undo_keeps_the_new_pipeline_while_a_deal_added_since_is_in_it(empty_db: Path, own_stages: Path) -> None:
    ok(empty_db, "import", str(own_stages), "--new-pipeline", "Legacy", "--stage-order", IN_ORDER)
    ok(empty_db, "add", "deal", "Added since", "--pipeline", "Legacy", "--stage", "Meeting")
    result = ok(empty_db, "imports", "undo", "1")
    assert "removed 9 deals, 9 companies, 0 contacts and 5 stages." in result.stdout
    assert ("  stage #11 'Meeting': in use\n  pipeline #2 'Legacy': 1 of its stages stays\n") in result.stdout
    assert stages_of(empty_db, "Legacy") == [("Meeting", "open", 50)]
    assert deal_stages(empty_db) == [("Added since", "Legacy", "Meeting")]


# --- the funnel and the win rate afterwards ---------------------------------------------------------


def test_funnel_and_win_rate_after_a_new_pipeline_import(empty_db: Path, own_stages: Path) -> None:
    ok(empty_db, "import", str(own_stages), "--new-pipeline", "Legacy", "--stage-order", IN_ORDER)
    report = json.loads(ok(empty_db, "report", "--json", "--period", "all", "--pipeline", "Legacy").stdout)
    funnel = report["funnel"]
    # Furthest stage of each deal, in the pipeline's order Lead < Meeting < Proposal < Closed Won:
    # A1 Proposal; A2, A9 Lead; A3, A5 Closed Won; A7 Meeting; and the lost and N/A ones A4, A6
    # (created in Lead, closed later) and A8 (lost the day it came in: never in an open stage,
    # it entered the pipeline at its first stage). Cumulative: a deal counts in every stage up to
    # its furthest.
    assert funnel["deals"] == 9
    assert [(s["stage"], s["reached"]) for s in funnel["stages"]] == [
        ("Lead", 9), ("Meeting", 4), ("Proposal", 3), ("Closed Won", 2)]  # Meeting: A1, A3, A5, A7
    assert [s["conversion"] for s in funnel["stages"]] == [pytest.approx(4 / 9), 0.75, pytest.approx(2 / 3), None]
    # Win rate: won A3, A5; lost A4 (Dead) and A8 (Lost); A6 (Cancelled) is N/A and counts in neither.
    cards = report["cards"]
    assert (cards["won_deals"], cards["lost_deals"], cards["win_rate"]) == (2, 2, 0.5)
    assert cards["won"] == 8000
    # The funnel's top is every deal created (open and N/A ones too): won over it is 2/9, not the win rate.
    assert funnel["stages"][-1]["reached"] / funnel["stages"][0]["reached"] == pytest.approx(2 / 9)
    # Drilling into the first stage lists the deals the funnel counts there: all nine.
    database = open_database(empty_db)
    try:
        with database.session() as s:
            lead = funnel["stages"][0]["stage_id"]
            filt = R.make_filter("all", pipeline="Legacy")
            assert R.drill_count(s, filt, R.Drill("funnel", lead))[0] == 9
            assert R.drill_count(s, filt, R.Drill("funnel", funnel["stages"][1]["stage_id"]))[0] == 4
    finally:
        database.close()


def test_the_importer_limits_stage_names_as_the_pipeline_setup_does() -> None:
    from crmtui.store import setup_pipelines
    from crmtui.store.importer import stages

    assert stages.NAME_MAX == setup_pipelines.NAME_MAX  # (kept apart: setup_pipelines loads SQLAlchemy)
