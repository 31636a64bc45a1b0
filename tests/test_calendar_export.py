"""Open tasks (and meetings) out as an iCalendar file, read back with the same library a
calendar's importer would use."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from icalendar import Calendar

from tests.commands import ok, refused, run


def _events(path: Path) -> dict[str, dict]:
    cal = Calendar.from_ical(path.read_bytes())
    return {str(e["uid"]): {"summary": str(e["summary"]), "start": e.decoded("dtstart"), "end": e.decoded("dtend"),
                            "description": str(e["description"])}
            for e in cal.walk("VEVENT")}


def _seed(db: Path) -> None:
    ok(db, "add", "contact", "Åsa Öberg", "--email", "asa@acme.example", "--company", "Acme Ltd")
    ok(db, "add", "deal", "Logo refresh", "--company", "Acme Ltd", "--contact", "asa@acme.example", "--no-follow-up")
    ok(db, "task", "add", "1", "Send the offer", "--due", "2026-12-10")
    ok(db, "task", "add", "1", "Call back", "--due", "2026-12-03")
    ok(db, "task", "add", "C1", "Renew the contract", "--due", "2027-01-15")
    ok(db, "task", "add", "1", "Done already", "--due", "2026-12-01")
    ok(db, "task", "done", "A4")
    ok(db, "log", "1", "--meeting", "Kick-off workshop", "--date", "2026-11-20")


def test_open_tasks_become_all_day_events_with_the_customer(tmp_path: Path, fixed_clock) -> None:  # noqa: ANN001
    db = tmp_path / "crm.db"
    _seed(db)
    out = tmp_path / "tasks.ics"
    result = ok(db, "export", "--type", "tasks", "-o", str(out))
    assert "3 tasks written to" in result.stderr
    events = _events(out)
    assert sorted(e["summary"] for e in events.values()) == [
        "Call back – Acme Ltd", "Renew the contract – Acme Ltd", "Send the offer – Acme Ltd"]
    offer = next(e for e in events.values() if e["summary"].startswith("Send the offer"))
    assert (offer["start"], offer["end"]) == (dt.date(2026, 12, 10), dt.date(2026, 12, 11))
    assert "Deal: Logo refresh (crmtui deal show 1)" in offer["description"]
    assert "Contact: Åsa Öberg <asa@acme.example>" in offer["description"]
    assert not any("Done already" in e["summary"] or "Kick-off" in e["summary"] for e in events.values())


def test_uids_stay_the_same_so_a_new_file_updates_the_calendar(tmp_path: Path, fixed_clock) -> None:  # noqa: ANN001
    db = tmp_path / "crm.db"
    _seed(db)
    first, second = tmp_path / "a.ics", tmp_path / "b.ics"
    ok(db, "export", "--type", "tasks", "-o", str(first))
    ok(db, "task", "reschedule", "A1", "2026-12-12")
    ok(db, "task", "done", "A2")
    ok(db, "export", "--type", "tasks", "--format", "ics", "-o", str(second))
    before, after = _events(first), _events(second)
    assert set(after) < set(before) and len(after) == 2  # the done task left; no new uid
    moved = next(uid for uid, e in after.items() if e["summary"].startswith("Send the offer"))
    assert before[moved]["start"] == dt.date(2026, 12, 10) and after[moved]["start"] == dt.date(2026, 12, 12)
    other = tmp_path / "other.db"  # another database: other uids, even for the same ids
    _seed(other)
    ok(other, "export", "--type", "tasks", "-o", str(tmp_path / "c.ics"))
    assert not set(_events(tmp_path / "c.ics")) & set(before)


def test_meetings_come_along_when_asked(tmp_path: Path, fixed_clock) -> None:  # noqa: ANN001
    db = tmp_path / "crm.db"
    _seed(db)
    result = ok(db, "export", "--type", "tasks", "--meetings")
    cal = Calendar.from_ical(result.stdout.encode())
    meeting = next(e for e in cal.walk("VEVENT") if str(e["summary"]).startswith("Kick-off"))
    start = meeting.decoded("dtstart")
    assert isinstance(start, dt.datetime) and start.date() == dt.date(2026, 11, 20)
    assert meeting.decoded("dtend") - start == dt.timedelta(hours=1)


def test_wrong_combinations_and_paths_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    ok(db, "add", "deal", "Logo refresh")
    assert "exports as ics" in refused(db, "export", "--type", "tasks", "--format", "csv")
    assert "exports tasks" in refused(db, "export", "--type", "deals", "--format", "ics")
    assert "only with --type tasks" in refused(db, "export", "--type", "deals", "--meetings")
    assert "cannot write" in refused(db, "export", "--type", "tasks", "-o", str(tmp_path / "no" / "such" / "x.ics"))
    assert run(db, "export", "--type", "tasks").exit_code == 0  # an empty calendar is still a calendar
