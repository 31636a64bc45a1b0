"""A small, fixed pipeline for the board tests (with the `fixed_clock` fixture: 2026-11-23 09:30)."""

from __future__ import annotations

from crmtui.store.clock import to_db
from crmtui.store.db import Database
from crmtui.store.deals import create_deal, mark_lost, mark_won
from crmtui.store.tags import set_tags


def seed_board(db: Database) -> dict[str, int]:
    """Deals in several stages, a contact-only customer, tasks, an aging deal, recent and old
    closed deals. Returns deal ids by title."""
    ids: dict[str, int] = {}
    with db.session() as s:
        for title, kw in [
            ("Website relaunch", dict(company="Acme", amount="12500", stage="Proposal sent", confidence=4,
                                      expected_close="2026-12-15")),
            ("Brand refresh", dict(company="Bolt", amount="4000", expected_close="2026-12-01")),
            ("SEO audit", dict(company="Cobalt", amount="2500", expected_close="2027-01-10")),
            ("Logo design", dict(contact="Jane Roe", amount="1800", stage="Qualification", confidence=2)),
            ("Team workshop", dict(company="Acme", amount="6000", stage="Negotiation", confidence=5,
                                   expected_close="2026-11-30")),
            ("Care plan", dict(company="Bolt", amount="9000", stage="Negotiation", expected_close="2026-12-20")),
            ("Retainer", dict(company="Bolt", amount="9000", stage="Contract out for signature")),
            ("Old shop", dict(company="Cobalt", amount="3000", stage="Writing proposal")),
            ("Archive", dict(company="Acme", amount="7000", stage="Writing proposal")),
        ]:
            ids[title] = create_deal(s, title, **kw).id
        set_tags(s, "deal", ids["SEO audit"], ["seo"])
        set_tags(s, "deal", ids["Website relaunch"], ["website", "design"])
        mark_won(s, ids["Retainer"])
        mark_lost(s, ids["Old shop"], "Price too high")
        mark_won(s, ids["Archive"])
    conn = db.raw()
    try:
        # An old win (out of the closed columns' 30 days) and an aging deal (30 days in Negotiation,
        # expected 21).
        conn.execute("UPDATE deal SET closed_on = '2026-08-01' WHERE id = ?", (ids["Archive"],))
        conn.execute(
            "UPDATE deal SET stage_entered_at = ? WHERE id = ?", ("2026-10-24 09:30:00.000000", ids["Team workshop"])
        )
        now = to_db(__import__("datetime").datetime(2026, 11, 20, 9, 0))
        for deal, due in ((ids["Website relaunch"], "2026-11-24"), (ids["Brand refresh"], "2026-11-20"),
                          (ids["Team workshop"], "2026-11-23")):
            conn.execute(
                "INSERT INTO activity (kind, body, deal_id, occurred_at, due_on, created_at)"
                " VALUES ('task', 'Follow up', ?, ?, ?, ?)",
                (deal, now, due, now),
            )
    finally:
        conn.close()
    return ids
