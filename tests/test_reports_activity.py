"""The sales activity report on a small hand-made history: the store figures, `crmtui report
--activities` (JSON, tables, Markdown) and the dashboard's section with its drill-down.
Now = Monday 2026-11-23 09:30; "month" is November 2026, in weeks cut to the month:
Nov 1 (the week of Oct 26), Nov 2–8, 9–15, 16–22, 23–29, Nov 30.

| deal | created (stage)        | moves                                          | tag |
| W    | 11-02 (Unqualified)    | Qualification 11-05, Proposal sent 11-10, won 11-16 | seo |
| L    | 11-02 (Unqualified)    | Qualification 11-09, lost 11-18                 |     |
| O    | 10-01 (Qualification)  | open                                            |     |
| U    | 10-01 (Unqualified)    | open, a note in October only: untouched         |     |
| X    | 11-02                  | deleted, a call on 11-04: never counts           |     |

Activities (noon, after the day's move), with the stage each falls in:
W: note 11-03 (Unqualified), call + email 11-06 (Qualification), meeting 11-12 (Proposal sent),
   task due 11-14 done 11-13 (on time; Proposal sent), a call 11-07 that is deleted.
L: call 11-03 (Unqualified), note 11-10 (Qualification), task due 11-12 done 11-17 (late;
   Qualification).
O: note 11-01, meeting 11-20, task due 11-19 still open (overdue), task due 11-25 (not yet).
The company Acme, no deal: an email 11-21 (counts only without a pipeline or tag filter).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from textual.widgets import DataTable
from typer.testing import CliRunner

from crmtui.app import make_app
from crmtui.cli import app as cli_app
from crmtui.store.clock import to_db
from crmtui.store.db import Database, open_database
from crmtui.store.deals import create_deal, delete_deal, mark_lost, mark_won, move_deal
from crmtui.store.reports import make_filter
from crmtui.store.reports_activity import ActivityDrill, activity_drill_count, activity_drill_page, activity_report
from tests.test_reports_data import at

runner = CliRunner()

WEEKS = ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30"]
#            notes calls emails meetings logged done overdue
BY_WEEK = [(1, 0, 0, 0, 1, 0, 0),  # Nov 1: O's note
           (1, 2, 1, 0, 4, 0, 0),  # W's note, call, email; L's call (not the deleted call, not X's)
           (1, 0, 0, 1, 2, 1, 1),  # L's note, W's meeting; W's task done; L's task due 11-12 done late
           (0, 0, 1, 1, 2, 1, 1),  # O's meeting, Acme's email; L's task done 11-17; O's task due 11-19 open
           (0, 0, 0, 0, 0, 0, 0),  # O's task due 11-25 is not overdue yet
           (0, 0, 0, 0, 0, 0, 0)]
COUNTS = ("notes", "calls", "emails", "meetings", "logged", "tasks_done", "tasks_overdue")


def build(db: Database) -> dict[str, int]:
    ids = {
        "W": at(db, "2026-11-02", create_deal, "Won deal", company="Acme", amount=1000, tags=["seo"]),
        "L": at(db, "2026-11-02", create_deal, "Lost deal", company="Bolt", amount=2000),
        "O": at(db, "2026-10-01", create_deal, "Open deal", company="Crane", amount=3000, stage="Qualification"),
        "U": at(db, "2026-10-01", create_deal, "Untouched deal", company="Dune", amount=4000),
        "X": at(db, "2026-11-02", create_deal, "Deleted deal", company="Fjord", amount=5000),
    }
    at(db, "2026-11-05", move_deal, ids["W"], "Qualification")
    at(db, "2026-11-10", move_deal, ids["W"], "Proposal sent")
    at(db, "2026-11-16", mark_won, ids["W"])
    at(db, "2026-11-09", move_deal, ids["L"], "Qualification")
    at(db, "2026-11-18", mark_lost, ids["L"], "Price")
    at(db, "2026-11-19", delete_deal, ids["X"])

    def t(day: str) -> str:
        return to_db(dt.datetime.fromisoformat(day + "T12:00:00"))

    conn = db.raw()
    try:
        acme = conn.execute("SELECT id FROM company WHERE name = 'Acme'").fetchone()[0]
        rows = [  # kind, body, deal, company, occurred, due, done, deleted
            ("note", "W intro", ids["W"], None, t("2026-11-03"), None, None, None),
            ("call", "W call", ids["W"], None, t("2026-11-06"), None, None, None),
            ("email", "W email", ids["W"], None, t("2026-11-06"), None, None, None),
            ("meeting", "W workshop", ids["W"], None, t("2026-11-12"), None, None, None),
            ("task", "W send quote", ids["W"], None, t("2026-11-10"), "2026-11-14", t("2026-11-13"), None),
            ("call", "W deleted call", ids["W"], None, t("2026-11-07"), None, None, t("2026-11-08")),
            ("call", "L call", ids["L"], None, t("2026-11-03"), None, None, None),
            ("note", "L note", ids["L"], None, t("2026-11-10"), None, None, None),
            ("task", "L chase", ids["L"], None, t("2026-11-10"), "2026-11-12", t("2026-11-17"), None),
            ("note", "O note", ids["O"], None, t("2026-11-01"), None, None, None),
            ("meeting", "O meeting", ids["O"], None, t("2026-11-20"), None, None, None),
            ("task", "O overdue", ids["O"], None, t("2026-11-15"), "2026-11-19", None, None),
            ("task", "O later", ids["O"], None, t("2026-11-15"), "2026-11-25", None, None),
            ("note", "U old note", ids["U"], None, t("2026-10-15"), None, None, None),
            ("email", "Acme newsletter", None, acme, t("2026-11-21"), None, None, None),
            ("call", "X call", ids["X"], None, t("2026-11-04"), None, None, None),
        ]
        conn.executemany(
            "INSERT INTO activity (kind, body, deal_id, company_id, occurred_at, due_on, done_at, created_at,"
            " deleted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [(k, b, d, c, o, due, done, o, deleted) for k, b, d, c, o, due, done, deleted in rows],
        )
        conn.commit()
    finally:
        conn.close()
    return ids


@pytest.fixture
def data(db: Database, fixed_clock) -> Database:  # noqa: ANN001
    build(db)
    return db


@pytest.fixture
def seeded(db_path: Path, fixed_clock) -> Path:  # noqa: ANN001
    db = open_database(db_path)
    build(db)
    db.close()
    return db_path


def report(db: Database, **kw) -> dict:  # noqa: ANN003
    with db.session() as s:
        return activity_report(s, make_filter(**kw))


def bodies(db: Database, drill: ActivityDrill, **kw) -> list[str]:  # noqa: ANN003
    with db.session() as s:
        filt = make_filter(**kw)
        n, _title = activity_drill_count(s, filt, drill)
        rows = activity_drill_page(s, filt, drill, limit=50)
    assert n == len(rows)
    return sorted(r["body"] for r in rows)


# --- the store ----------------------------------------------------------------------------------


def test_per_week_of_the_month(data: Database) -> None:
    rep = report(data, period="month")
    assert rep["bucket"] == "week"
    assert [b["bucket"] for b in rep["buckets"]] == WEEKS
    assert [(b["start"], b["end"]) for b in rep["buckets"]][0] == ("2026-11-01", "2026-11-01")  # cut to the month
    assert rep["buckets"][-1]["end"] == "2026-11-30"
    assert [tuple(b[k] for k in COUNTS) for b in rep["buckets"]] == BY_WEEK
    assert rep["totals"] == dict(zip(COUNTS, (3, 2, 2, 2, 9, 2, 2)))


def test_per_stage_won_against_lost(data: Database) -> None:
    rep = report(data, period="month")
    rows = {r["stage"]: (r["won"], r["lost"], r["won_deals"], r["lost_deals"]) for r in rep["by_stage"]}
    assert rows["Unqualified"] == (1, 1, 1, 1)  # W's note; L's call
    assert rows["Qualification"] == (2, 2, 1, 1)  # W's call + email; L's note + late task (done 11-17)
    assert rows["Proposal sent"] == (2, 0, 1, 0)  # W's meeting + task done on time
    assert rows["Negotiation"] == (0, 0, 0, 0)  # open stages are listed even without work
    assert rep["outcomes"] == {"won_deals": 1, "lost_deals": 1, "won_activities": 5, "lost_activities": 3,
                               "won_per_deal": 5.0, "lost_per_deal": 3.0}


def test_deals_touched_and_untouched(data: Database) -> None:
    assert report(data, period="month")["deals"] == {"touched": 3, "open": 2, "open_untouched": 1}  # W, L, O; U
    # In October only U's note: O was created then but nothing was logged on it.
    october = report(data, date_from="2026-10-01", date_to="2026-10-31")
    assert october["deals"] == {"touched": 1, "open": 2, "open_untouched": 1}
    assert october["totals"]["notes"] == 1 and october["bucket"] == "week"


def test_longer_periods_go_by_month(data: Database) -> None:
    rep = report(data, period="12m")
    assert rep["bucket"] == "month"
    months = {b["bucket"]: b for b in rep["buckets"]}
    assert list(months)[0] == "2025-11" and list(months)[-1] == "2026-11"
    assert (months["2026-10"]["notes"], months["2026-10"]["logged"]) == (1, 1)  # U's note
    assert months["2026-11"]["logged"] == 9 and months["2026-11"]["tasks_overdue"] == 2
    assert months["2025-11"]["start"] == "2025-11-24"  # cut to the rolling year
    # All time: from the first month with activity to this month.
    assert [b["bucket"] for b in report(data, period="all")["buckets"]] == ["2026-10", "2026-11"]


def test_tag_and_pipeline_filters(data: Database) -> None:
    seo = report(data, period="month", tag="seo")  # W only; not Acme's email on the company alone
    assert seo["totals"] == dict(zip(COUNTS, (1, 1, 1, 1, 4, 1, 0)))
    assert seo["deals"] == {"touched": 1, "open": 0, "open_untouched": 0}
    assert seo["outcomes"]["lost_deals"] == 0
    sales = report(data, period="month", pipeline="Sales")
    assert sales["totals"]["emails"] == 1 and sales["totals"]["logged"] == 8


def test_drill_to_the_activities(data: Database) -> None:
    assert bodies(data, ActivityDrill("call", "2026-11-02", "2026-11-08"), period="month") == ["L call", "W call"]
    assert bodies(data, ActivityDrill("tasks_overdue", "2026-11-09", "2026-11-15"), period="month") == ["L chase"]
    assert bodies(data, ActivityDrill("all", "2026-11-16", "2026-11-22"), period="month") == [
        "Acme newsletter", "L chase", "O meeting", "O overdue"]
    with data.session() as s:
        qualification = s.execute("SELECT id FROM stage WHERE name = 'Qualification'").scalar()
    stage = ActivityDrill("stage", stage_id=qualification)
    assert bodies(data, stage, period="month") == ["L chase", "L note", "W call", "W email"]
    assert bodies(data, ActivityDrill("stage", stage_id=qualification, outcome="won"), period="month") == [
        "W call", "W email"]


# --- the command --------------------------------------------------------------------------------


def run(db_path: Path, *args: str):  # noqa: ANN201
    return runner.invoke(cli_app, ["--db", str(db_path), "report", "--activities", *args], catch_exceptions=False)


def test_json_keys_and_figures(seeded: Path) -> None:
    result = run(seeded, "--period", "month", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["filter", "bucket", "buckets", "totals", "by_stage", "outcomes", "deals"]
    assert data["filter"] == {"period": "month", "label": "This month", "from": "2026-11-01", "to": "2026-11-30",
                              "pipeline": None, "tag": None, "today": "2026-11-23"}
    assert data["buckets"][1] == {"bucket": "2026-11-02", "start": "2026-11-02", "end": "2026-11-08", "notes": 1,
                                  "calls": 2, "emails": 1, "meetings": 0, "logged": 4, "tasks_done": 0,
                                  "tasks_overdue": 0}
    assert set(data["by_stage"][0]) == {"stage_id", "stage", "kind", "pipeline", "won", "lost", "won_deals",
                                        "lost_deals", "won_per_deal", "lost_per_deal"}
    assert data["deals"] == {"touched": 3, "open": 2, "open_untouched": 1}
    seo = json.loads(run(seeded, "--period", "month", "--tag", "seo", "--json").stdout)
    assert seo["totals"]["logged"] == 4


def test_tables_and_markdown(seeded: Path) -> None:
    result = run(seeded, "--period", "month")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "This month (2026-11-01 to 2026-11-30) · all pipelines · per week" in text
    for line in ("Activity per week", "Work per stage on the deals closed in the period (1 won, 1 lost)",
                 "Open and left untouched"):
        assert line in text
    week = next(line for line in text.splitlines() if line.lstrip().startswith("2 Nov"))
    assert [c.strip() for c in week.split("│")[1:8]] == ["1", "2", "1", "0", "4", "0", "0"] and "█" in week
    md = run(seeded, "--period", "month", "--markdown").stdout
    assert md.startswith("## Sales activity: This month")
    assert "| 2 Nov | 1 | 2 | 1 | 0 | 4 | 0 | 0 |" in md
    assert "| Qualification | 2 | 2 | 2 | 2 |" in md
    assert "| Total | 3 | 2 | 2 | 2 | 9 | 2 | 2 |" in md
    assert "| Open and left untouched | 1 |" in md


def test_bad_options_are_refused(seeded: Path) -> None:
    result = runner.invoke(cli_app, ["--db", str(seeded), "report", "--activities", "--by", "Type"])
    assert result.exit_code != 0 and "--by" in result.output and "Traceback" not in result.output
    result = runner.invoke(cli_app, ["--db", str(seeded), "report", "--activities", "--period", "decade"])
    assert result.exit_code != 0 and "'decade' is not one of" in result.output


# --- the dashboard ------------------------------------------------------------------------------


async def settle(pilot) -> None:  # noqa: ANN001
    for _ in range(3):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def cells(table: DataTable) -> list[list[str]]:
    return [[str(c) for c in table.get_row_at(i)] for i in range(table.row_count)]


async def test_dashboard_section_and_its_drill_down(seeded: Path) -> None:
    from crmtui.screens.dashboard import ActivityListScreen, DashboardScreen
    from crmtui.screens.deal_list import DealListScreen

    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        for _ in range(3):  # 12 months -> year to date -> all time -> this month
            await pilot.press("p")
            await settle(pilot)
        buckets = screen.query_one("#activity-buckets", DataTable)
        assert [r[0] for r in cells(buckets)] == ["1 Nov", "2 Nov", "9 Nov", "16 Nov", "23 Nov", "30 Nov"]
        assert [[int(c) for c in r[1:]] for r in cells(buckets)] == [
            [n, c, e, m, d, o] for n, c, e, m, _logged, d, o in BY_WEEK]
        assert "Σ 9 logged" in str(buckets.border_subtitle)
        stages = cells(screen.query_one("#activity-stages", DataTable))
        assert stages == [["Unqualified", "1", "1"], ["Qualification", "2", "2"], ["Proposal sent", "2", "0"]]
        assert [r[1] for r in cells(screen.query_one("#activity-deals", DataTable))] == ["3", "1", "2"]
        # The calls of the week of 2 Nov: down a row, right to the calls, enter.
        buckets.focus()
        await pilot.press("down", "right", "right", "enter")
        await settle(pilot)
        assert isinstance(app.screen, ActivityListScreen)
        table = app.screen.query_one(DataTable)
        assert sorted(r[4] for r in cells(table)) == ["L call", "W call"]
        assert "Calls, 2 Nov – 8 Nov 2026" in str(app.screen.query_one("#activity-list-title").render())
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        # The work in Qualification on the deals won and lost.
        screen.query_one("#activity-stages", DataTable).focus()
        await pilot.press("down", "enter")
        await settle(pilot)
        assert sorted(r[4] for r in cells(app.screen.query_one(DataTable))) == [
            "L chase", "L note", "W call", "W email"]
        await pilot.press("escape")
        await settle(pilot)
        # The open deal left untouched.
        screen.query_one("#activity-deals", DataTable).focus()
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DealListScreen)
        deals = app.screen.query_one(DataTable)
        assert [str(deals.get_row_at(i)[1]) for i in range(deals.row_count)] == ["Untouched deal"]


def test_dashboard_section_snapshot(seeded: Path, snap_compare) -> None:  # noqa: ANN001
    async def run_before(pilot) -> None:  # noqa: ANN001
        await pilot.pause()
        await pilot.press("d")
        await settle(pilot)
        for _ in range(3):
            await pilot.press("p")
            await settle(pilot)
        section = pilot.app.screen.query_one("#dash-activity")
        pilot.app.screen.query_one("#dash-body").scroll_to_widget(section, animate=False, top=True)
        await pilot.pause()

    app = make_app(open_database(seeded))
    app.sub_title = "crm.db"
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


async def test_the_dashboard_section_of_an_empty_database_says_so(tmp_path: Path) -> None:
    from crmtui.screens.dashboard import DashboardScreen

    app = make_app(open_database(tmp_path / "empty.db"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        assert cells(app.screen.query_one("#activity-buckets", DataTable)) == [["no activity logged", "", "", "", "",
                                                                               "", ""]]
