"""Follow-up rules with a fixed clock, their edges, and the `today`, `rules` and `snooze` commands."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtui.cli import app
from crmtui.store import clock, migrations
from crmtui.store.db import Database, open_database
from crmtui.store.deals import create_deal, delete_deal, mark_won, move_deal
from crmtui.store.deals import snooze_deal
from crmtui.store.followups import compute_agenda
from crmtui.store.models import Activity
from crmtui.store.settings import set_setting
from tests.conftest import fetch, snapshot_of

TODAY = dt.date(2026, 11, 23)
NOON = dt.time(12, 0)


def at(days_ago: int) -> dt.datetime:
    return dt.datetime.combine(TODAY - dt.timedelta(days=days_ago), NOON)


@pytest.fixture
def clocked():
    clock.set_fixed_now(dt.datetime.combine(TODAY, dt.time(9, 30)))
    yield
    clock.set_fixed_now(None)


def deal_at(db: Database, days_ago: int, title: str, **kwargs) -> int:
    clock.set_fixed_now(at(days_ago))
    try:
        with db.session() as s:
            return create_deal(s, title, **kwargs).id
    finally:
        clock.set_fixed_now(dt.datetime.combine(TODAY, dt.time(9, 30)))


def add_activity(db: Database, deal_id: int, kind: str, days_ago: int, due_in: int | None = None, done: bool = False) -> int:
    with db.session() as s:
        a = Activity(kind=kind, body=f"{kind} text", deal_id=deal_id, occurred_at=at(days_ago), created_at=at(days_ago),
                     due_on=TODAY + dt.timedelta(days=due_in) if due_in is not None else None,
                     done_at=at(0) if done else None)
        s.add(a)
        return a.id


def section_ids(db: Database, name: str) -> list[int]:
    with db.session() as s:
        return sorted(i.deal_id for i in compute_agenda(s, today=TODAY).items[name])


def test_stale_edges(db: Database, clocked) -> None:
    exactly = deal_at(db, 14, "Exactly 14 days")
    almost = deal_at(db, 13, "13 days")
    with_future_task = deal_at(db, 30, "Has a task ahead")
    add_activity(db, with_future_task, "task", 30, due_in=3)
    with_old_task = deal_at(db, 30, "Only an overdue task")
    add_activity(db, with_old_task, "task", 30, due_in=-2)
    touched = deal_at(db, 30, "Recent call")
    add_activity(db, touched, "call", 2)
    closed = deal_at(db, 30, "Won long ago")
    with db.session() as s:
        mark_won(s, closed)
    deleted = deal_at(db, 30, "In the trash")
    with db.session() as s:
        delete_deal(s, deleted)
    snoozed = deal_at(db, 30, "Snoozed")
    with db.session() as s:
        snooze_deal(s, snoozed, "+1w")
    assert section_ids(db, "stale") == [exactly, with_old_task]
    # The snooze ends: the deal shows again on that day.
    with db.session() as s:
        agenda = compute_agenda(s, today=TODAY + dt.timedelta(days=7))
    assert snoozed in [i.deal_id for i in agenda.items["stale"]]


def test_stale_days_rule_is_read_from_settings(db: Database, clocked) -> None:
    d = deal_at(db, 20, "Twenty days")
    assert section_ids(db, "stale") == [d]
    with db.session() as s:
        set_setting(s, "stale-days", "21")
    assert section_ids(db, "stale") == []


def test_a_stage_move_counts_as_activity(db: Database, clocked) -> None:
    d = deal_at(db, 30, "Moved yesterday")
    clock.set_fixed_now(at(1))
    with db.session() as s:
        move_deal(s, d, "Qualification")
    clock.set_fixed_now(dt.datetime.combine(TODAY, dt.time(9, 30)))
    assert section_ids(db, "stale") == []


def test_aging_edges(db: Database, clocked) -> None:
    over = deal_at(db, 8, "Unqualified 8 days")  # Unqualified expects 7
    exact = deal_at(db, 7, "Unqualified 7 days")
    closed = deal_at(db, 40, "Lost", stage="Lost")
    assert section_ids(db, "aging") == [over]
    with db.session() as s:
        (item,) = compute_agenda(s, today=TODAY).items["aging"]
    assert item.reason == "in Unqualified for 8 days (expected 7)"
    assert exact and closed


def test_no_next_step_follows_open_tasks(db: Database, clocked) -> None:
    d = deal_at(db, 1, "Fresh")
    assert section_ids(db, "no_next_step") == [d]
    task = add_activity(db, d, "task", 0, due_in=1)
    assert section_ids(db, "no_next_step") == []
    with db.session() as s:
        done = s.get(Activity, task)
        done.done_at = clock.utcnow()
        s.add(done)
    assert section_ids(db, "no_next_step") == [d]


def test_closing_soon_and_overdue_closes(db: Database, clocked) -> None:
    in7 = deal_at(db, 1, "In 7 days", expected_close=(TODAY + dt.timedelta(days=7)).isoformat())
    deal_at(db, 1, "In 8 days", expected_close=(TODAY + dt.timedelta(days=8)).isoformat())
    past = deal_at(db, 1, "Past", expected_close=(TODAY - dt.timedelta(days=3)).isoformat())
    assert section_ids(db, "closing") == sorted([in7, past])
    with db.session() as s:
        reasons = {i.deal_id: i.reason for i in compute_agenda(s, today=TODAY).items["closing"]}
    assert reasons[past] == "expected close was 3 days ago"
    assert reasons[in7] == "expected close in 7 days"


def test_tasks_overdue_and_due_today(db: Database, clocked) -> None:
    d = deal_at(db, 1, "Deal")
    late = add_activity(db, d, "task", 5, due_in=-3)
    add_activity(db, d, "task", 5, due_in=-1, done=True)
    add_activity(db, d, "task", 0, due_in=0)
    add_activity(db, d, "task", 0, due_in=1)
    gone = deal_at(db, 1, "Deleted deal")
    add_activity(db, gone, "task", 5, due_in=-3)
    with db.session() as s:
        delete_deal(s, gone)
    with db.session() as s:
        agenda = compute_agenda(s, today=TODAY)
    assert [i.task_id for i in agenda.items["overdue_tasks"]] == [late]
    assert agenda.counts["overdue_tasks"] == 1 and agenda.counts["due_today"] == 1
    assert agenda.items["overdue_tasks"][0].reason == "task “task text” was due 3 days ago"


def test_trigger_columns_follow_every_write(db: Database, db_path: Path, clocked) -> None:
    d = deal_at(db, 10, "Deal")
    t1 = add_activity(db, d, "task", 0, due_in=5)
    add_activity(db, d, "task", 0, due_in=2)
    assert fetch(db_path, "SELECT open_tasks, next_task_due, last_task_due FROM deal") == [
        (2, "2026-11-25", "2026-11-28")
    ]
    with db.session() as s:
        gone = s.get(Activity, t1)
        gone.deleted_at = clock.utcnow()
        s.add(gone)
    assert fetch(db_path, "SELECT open_tasks, next_task_due, last_task_due FROM deal") == [
        (1, "2026-11-25", "2026-11-25")
    ]


def test_new_deals_get_a_follow_up_task_by_the_rule(db: Database, db_path: Path, clocked) -> None:
    with db.session() as s:
        create_deal(s, "Rule says yes", follow_up=None)
        create_deal(s, "Store default: no")
        set_setting(s, "follow-up-days", "3")
        create_deal(s, "Three days", follow_up=None)
        set_setting(s, "follow-up-on-new-deals", "off")
        create_deal(s, "Rule says no", follow_up=None)
    tasks = fetch(db_path, "SELECT d.title, a.body, a.due_on FROM activity a JOIN deal d ON d.id = a.deal_id ORDER BY a.id")
    assert tasks == [("Rule says yes", "Follow up", "2026-11-25"), ("Three days", "Follow up", "2026-11-26")]


def test_agenda_json_is_stable(db: Database, clocked) -> None:
    d = deal_at(db, 20, "Old deal", amount="1500")
    with db.session() as s:
        data = compute_agenda(s, today=TODAY).to_json()
    assert data["counts"] == {"overdue_tasks": 0, "due_today": 0, "stale": 1, "aging": 1, "no_next_step": 1,
                              "closing": 0}
    stale = data["sections"]["stale"][0]
    assert stale["deal_id"] == d and stale["amount"] == "1500.00" and stale["reason"] == "no activity for 20 days"


# --- the CLI ------------------------------------------------------------------------------------

runner = CliRunner()


def cli(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_today_exit_codes_and_json(db_path: Path, clocked) -> None:
    empty = cli("--db", str(db_path), "today")
    assert empty.exit_code == 0 and "Nothing due today" in empty.stdout
    assert cli("--db", str(db_path), "add", "deal", "Call Acme", "--no-follow-up").exit_code == 0
    result = cli("--db", str(db_path), "today")
    assert result.exit_code == 1
    assert "No next step (1)" in result.stdout and "Call Acme" in result.stdout
    data = json.loads(cli("--db", str(db_path), "today", "--json").stdout)
    assert data["counts"]["no_next_step"] == 1 and data["total"] == 1


def test_today_lines_too_long_for_the_terminal_wrap_under_their_text(db: Database, clocked) -> None:
    from crmtui.cli.common import out
    from crmtui.cli.followups import print_agenda

    deal_at(db, 3, "Quarterly advisory retainer for the whole northern region – Pioneerwave")
    with db.session() as s:
        agenda = compute_agenda(s)
    width = out.width
    try:
        out.width = 60
        with out.capture() as capture:
            print_agenda(agenda)
    finally:
        out.width = width
    lines = capture.get().splitlines()
    first = next(i for i, line in enumerate(lines) if "Quarterly advisory" in line)
    indent = lines[first].index("Quarterly")
    assert lines[first].lstrip().startswith("#")  # the id, then the text
    assert lines[first + 1].strip() and lines[first + 1][:indent].strip() == ""  # wrapped, under the text
    assert all(len(line) <= 60 for line in lines)


def test_add_deal_follows_the_rule_and_flags(db_path: Path, clocked) -> None:
    cli("--db", str(db_path), "add", "deal", "A")
    cli("--db", str(db_path), "add", "deal", "B", "--no-follow-up")
    cli("--db", str(db_path), "rules", "set", "follow-up-on-new-deals", "off")
    cli("--db", str(db_path), "add", "deal", "C")
    cli("--db", str(db_path), "add", "deal", "D", "--follow-up")
    assert fetch(db_path, "SELECT d.title, a.due_on FROM activity a JOIN deal d ON d.id = a.deal_id ORDER BY d.id") == [
        ("A", "2026-11-25"), ("D", "2026-11-25")
    ]


def test_rules_show_and_set(db_path: Path) -> None:
    assert cli("--db", str(db_path), "rules", "set", "stale-days", "30").stdout.strip() == "stale-days = 30"
    data = json.loads(cli("--db", str(db_path), "rules", "show", "--json").stdout)
    assert data["stale-days"] == 30 and data["follow-up-days"] == 2
    assert "stale-days" in cli("--db", str(db_path), "rules", "show").stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["rules", "set", "stale-days", "soon"], "not a whole number of days"),
        (["rules", "set", "stale-days", "0"], "outside 1..3650"),
        (["rules", "set", "nope", "1"], "unknown setting 'nope'"),
        (["rules", "set", "follow-up-on-new-deals", "maybe"], "not on/off"),
        (["snooze", "99", "+1w"], "no deal with id 99"),
        (["snooze", "1", "whenever"], "is not a date"),
        (["snooze", "1", "2020-01-01"], "is not in the future"),
    ],
)
def test_bad_input_writes_nothing(db_path: Path, args: list[str], message: str, clocked) -> None:
    cli("--db", str(db_path), "add", "deal", "A")
    before = snapshot_of(db_path)
    result = cli("--db", str(db_path), *args)
    assert result.exit_code == 1 and message in result.stderr
    assert snapshot_of(db_path) == before


def test_snooze_and_wake(db_path: Path, clocked) -> None:
    cli("--db", str(db_path), "add", "deal", "A", "--no-follow-up")
    assert "until 2026-11-30" in cli("--db", str(db_path), "snooze", "1", "+1w").stdout
    assert fetch(db_path, "SELECT snoozed_until FROM deal") == [("2026-11-30",)]
    assert cli("--db", str(db_path), "today").exit_code == 0
    cli("--db", str(db_path), "snooze", "1", "off")
    assert fetch(db_path, "SELECT snoozed_until FROM deal") == [(None,)]
    assert cli("--db", str(db_path), "today").exit_code == 1


def test_migration_to_5_backfills_from_existing_activities(db_path: Path) -> None:
    conn = migrations.connect_raw(db_path)
    conn.execute("PRAGMA journal_mode = WAL")
    migrations.migrate(conn, upto=4)
    conn.execute("INSERT INTO deal (title, pipeline_id, stage_id, stage_entered_at, created_at, updated_at) VALUES"
                 " ('Old', 1, 1, '2026-01-05 10:00:00.000000', '2026-01-01 10:00:00.000000', '2026-01-05 10:00:00.000000')")
    conn.execute("INSERT INTO activity (kind, body, deal_id, occurred_at, created_at) VALUES"
                 " ('call', 'hi', 1, '2026-02-01 10:00:00.000000', '2026-02-01 10:00:00.000000')")
    conn.execute("INSERT INTO activity (kind, body, deal_id, occurred_at, created_at, due_on) VALUES"
                 " ('task', 'next', 1, '2026-02-01 10:00:00.000000', '2026-02-01 10:00:00.000000', '2026-03-01')")
    conn.close()
    open_database(db_path).close()
    assert fetch(db_path, "SELECT last_touch_at, open_tasks, next_task_due, snoozed_until FROM deal") == [
        ("2026-02-01 10:00:00.000000", 1, "2026-03-01", None)
    ]
    assert fetch(db_path, "PRAGMA user_version") == [(migrations.LATEST_VERSION,)]
    assert sqlite3.connect(db_path).execute("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'tr_activity_deal_%'").fetchone() == (3,)


# --- imports: the follow-up task only with the flag or the rule -----------------------------------

DEALS_CSV = "title,company,stage,amount\nSite,Acme,Qualification,1000\nLogo,Bolt,Won,500\n"


def _import(db_path: Path, tmp_path: Path, *args: str):
    csv_file = tmp_path / "deals.csv"
    csv_file.write_text(DEALS_CSV)
    return cli("--db", str(db_path), "import", str(csv_file), "--quiet", *args)


def test_import_adds_no_follow_up_by_default(db_path: Path, tmp_path: Path, clocked) -> None:
    assert _import(db_path, tmp_path).exit_code == 0
    assert fetch(db_path, "SELECT count(*) FROM activity") == [(0,)]


def test_import_follow_up_flag_adds_tasks_to_open_deals_and_undo_removes_them(
    db_path: Path, tmp_path: Path, clocked
) -> None:
    result = _import(db_path, tmp_path, "--follow-up")
    assert result.exit_code == 0, result.output
    assert fetch(db_path, "SELECT d.title, a.body, a.due_on FROM activity a JOIN deal d ON d.id = a.deal_id") == [
        ("Site", "Follow up", "2026-11-25")
    ]
    assert fetch(db_path, "SELECT open_tasks FROM deal ORDER BY id") == [(1,), (0,)]
    undone = cli("--db", str(db_path), "imports", "undo", "1")
    assert undone.exit_code == 0, undone.output
    assert fetch(db_path, "SELECT count(*) FROM activity") == [(0,)]
    assert fetch(db_path, "SELECT count(*) FROM deal") == [(0,)]


def test_import_follows_the_follow_up_on_import_rule(db_path: Path, tmp_path: Path, clocked) -> None:
    cli("--db", str(db_path), "rules", "set", "follow-up-on-import", "on")
    cli("--db", str(db_path), "rules", "set", "follow-up-days", "5")
    assert _import(db_path, tmp_path).exit_code == 0
    assert fetch(db_path, "SELECT body, due_on FROM activity") == [("Follow up", "2026-11-28")]
    # --no-follow-up wins over the rule (a second file, new deals)
    other = tmp_path / "more.csv"
    other.write_text("title,company,stage\nAudit,Cato,Qualification\n")
    assert cli("--db", str(db_path), "import", str(other), "--quiet", "--no-follow-up").exit_code == 0
    assert fetch(db_path, "SELECT count(*) FROM activity") == [(1,)]
