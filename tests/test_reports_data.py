"""A small, hand-made history for the report tests: every figure is worked out in the tests.

The clock is set before each step, so creation, stage changes and close dates fall where the
comments say. "Now" is the conftest clock, 2026-11-23 09:30 UTC.

| deal | pipeline  | created    | amount | path (date)                                           | tags              | source   |
| D1   | Sales     | 2025-12-10 | 1000   | Qualification 12-15, Proposal sent 12-20, Won 2026-01-05 | branding      | Referral |
| D2   | Sales     | 2025-12-20 | 2000   | Lost 2026-01-10 "Price too high"                      | website           | Website  |
| D3   | Sales     | 2026-01-15 | 3000   | Negotiation 02-01, Won 2026-11-02                     | branding, website | Referral |
| D4   | Sales     | 2026-10-01 | 4000   | Proposal sent 10-05, Lost 10-20 "Timing"              | seo               | Referral |
| D5   | Sales     | 2026-11-01 | 5000   | created in Negotiation, close 2026-11-10 (overdue)    | website           | Website  |
| D6   | Sales     | 2026-11-20 | 6000   | created in Qualification, close 2026-12-15, open task | branding          | LinkedIn |
| D7   | Sales     | 2026-11-22 | 1000   | Unqualified, no close date, a done and a deleted task | –                 | –        |
| D8   | Sales     | 2026-11-05 | 100000 | Won 2026-11-06, then deleted                          | branding          | Referral |
| D9   | Workshops | 2026-03-01 | 700    | Won 2026-03-15                                        | –                 | –        |
"""

from __future__ import annotations

import datetime as dt

from crmtui.store import clock
from crmtui.store.clock import to_db
from crmtui.store.db import Database
from crmtui.store.deals import create_deal, delete_deal, mark_lost, mark_won, move_deal
from tests.conftest import FIXED_NOW


def at(db: Database, when: str, fn, *args, **kwargs):  # noqa: ANN001
    """Run a store service at a given time (ISO date or datetime)."""
    moment = dt.datetime.fromisoformat(when if "T" in when else when + "T10:00:00")
    clock.set_fixed_now(moment)
    try:
        with db.session() as s:
            result = fn(s, *args, **kwargs)
            return getattr(result, "id", None) or getattr(getattr(result, "deal", None), "id", None)
    finally:
        clock.set_fixed_now(FIXED_NOW)


def build(db: Database) -> dict[str, int]:
    """Write the history above; returns deal ids by name."""
    conn = db.raw()
    try:
        now = to_db(dt.datetime(2025, 1, 1))
        pid = conn.execute(
            "INSERT INTO pipeline (name, position, is_default, created_at) VALUES ('Workshops', 1, 0, ?)", (now,)
        ).lastrowid
        conn.executemany(
            "INSERT INTO stage (pipeline_id, name, position, probability, expected_days, kind) VALUES (?, ?, ?, ?, ?, ?)",
            [(pid, "Booked", 0, 50, 10, "open"), (pid, "Done", 1, 100, None, "won"),
             (pid, "Cancelled", 2, 0, None, "lost")],
        )
    finally:
        conn.close()
    ids: dict[str, int] = {}
    ids["D1"] = at(db, "2025-12-10", create_deal, "Alpha", company="Acme", amount=1000, tags=["branding"], source="Referral")
    at(db, "2025-12-15", move_deal, ids["D1"], "Qualification")
    at(db, "2025-12-20", move_deal, ids["D1"], "Proposal sent")
    at(db, "2026-01-05", mark_won, ids["D1"])
    ids["D2"] = at(db, "2025-12-20", create_deal, "Beta", company="Bolt", amount=2000, tags=["website"], source="Website")
    at(db, "2026-01-10", mark_lost, ids["D2"], "Price too high")
    ids["D3"] = at(db, "2026-01-15", create_deal, "Gamma", company="Acme", amount=3000, tags=["branding", "website"],
                   source="Referral")
    at(db, "2026-02-01", move_deal, ids["D3"], "Negotiation")
    at(db, "2026-11-02", mark_won, ids["D3"])
    ids["D4"] = at(db, "2026-10-01", create_deal, "Delta", company="Crane", amount=4000, tags=["seo"], source="Referral")
    at(db, "2026-10-05", move_deal, ids["D4"], "Proposal sent")
    at(db, "2026-10-20", mark_lost, ids["D4"], "Timing")
    ids["D5"] = at(db, "2026-11-01", create_deal, "Epsilon", company="Dune", amount=5000, stage="Negotiation",
                   tags=["website"], source="Website", expected_close="2026-11-10")
    ids["D6"] = at(db, "2026-11-20", create_deal, "Zeta", contact="Eve Private", amount=6000, stage="Qualification",
                   tags=["branding"], source="LinkedIn", expected_close="2026-12-15")
    ids["D7"] = at(db, "2026-11-22", create_deal, "Eta", company="Fjord", amount=1000)
    ids["D8"] = at(db, "2026-11-05", create_deal, "Theta", company="Acme", amount=100000, tags=["branding"],
                   source="Referral")
    at(db, "2026-11-06", mark_won, ids["D8"])
    at(db, "2026-11-07", delete_deal, ids["D8"])
    ids["D9"] = at(db, "2026-03-01", create_deal, "Iota", company="Gala", amount=700, pipeline="Workshops")
    at(db, "2026-03-15", mark_won, ids["D9"])
    conn = db.raw()
    try:
        t = to_db(dt.datetime(2026, 11, 21))
        conn.executemany(
            "INSERT INTO activity (kind, body, deal_id, occurred_at, due_on, done_at, created_at, deleted_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                ("task", "Call Zeta", ids["D6"], t, "2026-11-25", None, t, None),  # open: D6 has a next step
                ("task", "Sent intro", ids["D7"], t, "2026-11-21", t, t, None),  # done
                ("task", "Old idea", ids["D7"], t, "2026-11-30", None, t, t),  # deleted
                ("note", "Not a task", ids["D5"], t, None, None, t, None),
            ],
        )
        # The deleted deal keeps an open task: it must not count anywhere.
        conn.execute(
            "INSERT INTO activity (kind, body, deal_id, occurred_at, due_on, created_at) VALUES ('task', 'x', ?, ?, ?, ?)",
            (ids["D8"], t, "2026-11-25", t),
        )
    finally:
        conn.close()
    return ids
