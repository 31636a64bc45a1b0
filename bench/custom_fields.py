"""The board and a deal page with 10 custom deal fields at 100,000 deals.

Usage: python bench/custom_fields.py [--deals N] [--db PATH]

Builds `crmtui demo --deals N` in a temporary directory (or uses `--db PATH` of a database without
custom fields, which it changes), measures the board's first paint and a deal page, adds 10
custom deal fields (choice, multichoice, money, number, date, rating, yes/no, text and a lookup
of the company's size), gives every deal values for them with plain SQL, and shows four of them
on the cards (`card-fields`: two extra lines). Then, each in a fresh process as `crmtui` runs
(headless, 120x40):
- first paint and the keys, as bench/board_keys.py measures them (its budgets, at 100,000 deals);
- a filter by a field: wall time from the filter being applied (after the 0.15 s typing pause)
  until the board shows the matching cards, for several fields and operators, and the same for
  a sort by a field;
- a deal page: wall time from `enter` on a card until the page has drawn its fields.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import board_keys  # noqa: E402 - the board's own bench: first paint, keys and their budgets

SIZE = board_keys.SIZE
FIELDS = [  # name, kind, options or lookup, the value of deal `id` in SQL
    ("Type", "choice", "Retainer,Project,Workshop",
     "CASE id % 3 WHEN 0 THEN 'Retainer' WHEN 1 THEN 'Project' ELSE 'Workshop' END"),
    ("Size", "choice", "Small,Medium,Large", "CASE id % 3 WHEN 0 THEN 'Small' WHEN 1 THEN 'Medium' ELSE 'Large' END"),
    ("Services", "multichoice", "Branding,Website,SEO",
     """CASE id % 4 WHEN 0 THEN '["Branding"]' WHEN 1 THEN '["Website", "SEO"]' WHEN 2 THEN '["SEO"]'"""
     """ ELSE '["Branding", "Website"]' END"""),
    ("Budget", "money", None, "(id * 7919 % 50000) * 100"),
    ("Hours", "number", None, "id % 200"),
    ("Decision", "date", None, "date('2026-01-01', '+' || (id % 700) || ' days')"),
    ("Fit", "rating", None, "1 + id % 5"),
    ("Urgent", "yesno", None, "CASE WHEN id % 7 = 0 THEN 'yes' ELSE 'no' END"),
    ("Brief", "text", None, "'Brief ' || id"),
    ("Customer size", "lookup", "company.size", None),
]
CARD_FIELDS = "Type,Budget,Customer size,Fit"
FILTERS = ["type:retainer", "budget>25000", "services:seo", "customer_size:enterprise", "fit>=4 urgent:yes",
           "decision<2026-03-01", "amount>50000 #seo", "website"]  # the last: a word, as before fields
SORTS = ["Budget", "Decision", "Fit"]


def add_fields(db: Path) -> None:
    """The fields, their values (9 x N rows, one INSERT per field) and the card fields."""
    from crmtui.store.db import open_database
    from crmtui.store.field_setup import add_field
    from crmtui.store.settings import set_setting

    database = open_database(db)
    ids = {}
    with database.session() as s:
        for name, kind, extra, _sql in FIELDS:
            lookup = extra if kind == "lookup" else None
            options = extra if kind != "lookup" else None
            ids[name] = add_field(s, "deal", name, kind, options=options, lookup=lookup)["id"]
        set_setting(s, "card-fields", CARD_FIELDS)
    database.close()
    conn = __import__("sqlite3").connect(db)
    with conn:
        for name, _kind, _extra, sql in FIELDS:
            if sql is not None:
                conn.execute(f"INSERT INTO custom_value (field_id, entity_id, value)"  # noqa: S608 - our own SQL
                             f" SELECT ?, id, {sql} FROM deal WHERE deleted_at IS NULL", (ids[name],))
    conn.close()


async def _painted(app, pilot) -> None:  # noqa: ANN001
    while not board_keys._columns_drawn(app):
        await pilot.pause()
    await pilot.pause()


def child_filters(db: str) -> None:
    """Filter and sort by fields through the board, as the filter line and the sort prompt do."""
    from crmtui.app import make_app
    from crmtui.store.board import BoardFilter, find_sort, load_board
    from crmtui.store.db import open_database

    async def run() -> dict[str, float]:
        app = make_app(open_database(db), own_process=True)
        out: dict[str, float] = {}
        async with app.run_test(size=SIZE) as pilot:
            await _painted(app, pilot)
            screen = app.screen

            async def applied(action) -> float:  # noqa: ANN001
                start = time.perf_counter()
                action()
                await app.workers.wait_for_complete()
                await pilot.pause()
                return (time.perf_counter() - start) * 1000

            await applied(lambda: screen._apply_filter("type:project"))  # warm up: imports, first queries
            await applied(lambda: screen._apply_filter(""))
            for text in FILTERS:  # the worker's query alone, on a connection of its own
                conn = app.database.raw()
                start = time.perf_counter()
                load_board(conn, flt=BoardFilter.parse(text, conn))
                out[f"query {text}"] = (time.perf_counter() - start) * 1000
                conn.close()
            for text in FILTERS:
                out[f"filter {text}"] = statistics.median([await applied(lambda t=t: screen._apply_filter(t))
                                                           for t in ("", text, "", text, "", text)][1::2])
                shown = sum(c.count for c in screen.columns if c.stage.is_open)
                out[f"shown {text}"] = shown
            await applied(lambda: screen._apply_filter(""))
            for name in SORTS:
                key = find_sort(screen._conn, name)
                out[f"sort {name}"] = statistics.median([await applied(lambda k=key: screen.reload(sort=k))
                                                         for _ in range(3)])
            out["sort back to close"] = await applied(lambda: screen.reload(sort="close"))
            await pilot.press("q")
        return out

    print(json.dumps(asyncio.run(run())), flush=True)


def child_deal_page(db: str) -> None:
    """`enter` on a card until the deal page has drawn, five deals."""
    from crmtui.app import make_app
    from crmtui.screens.deal_detail import DealDetailScreen
    from crmtui.store.db import open_database

    async def run() -> list[float]:
        app = make_app(open_database(db), own_process=True)
        times = []
        async with app.run_test(size=SIZE) as pilot:
            await _painted(app, pilot)
            for i in range(6):
                await pilot.press("j")
                start = time.perf_counter()
                await pilot.press("enter")
                while not isinstance(app.screen, DealDetailScreen):
                    await pilot.pause()
                await app.workers.wait_for_complete()
                await pilot.pause()
                if i:  # the first opens the module too
                    times.append((time.perf_counter() - start) * 1000)
                await pilot.press("escape")
                await pilot.pause()
            await pilot.press("q")
        return times

    print(json.dumps(asyncio.run(run())), flush=True)


def _child(flag: str, db: Path, env: dict[str, str]) -> object:
    out = subprocess.run([sys.executable, __file__, flag, str(db)], check=True, capture_output=True, text=True,
                         env=env).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> None:
    children = {"--filters": child_filters, "--deal-page": child_deal_page}
    if len(sys.argv) == 3 and sys.argv[1] in children:
        children[sys.argv[1]](sys.argv[2])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--deals", type=int, default=100_000)
    parser.add_argument("--db", type=Path)
    args = parser.parse_args()
    env = {**os.environ, "TEXTUAL_ANIMATIONS": "none"}
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or Path(tmp) / "fields.db"
        if args.db is None:
            subprocess.run([sys.executable, "-m", "crmtui.cli", "--db", str(db), "demo", "--deals", str(args.deals)],
                           check=True, capture_output=True)
        plain_paint, _rss = board_keys.first_paint(db)
        plain_pages = _child("--deal-page", db, env)
        start = time.perf_counter()
        add_fields(db)
        deals = __import__("sqlite3").connect(db).execute("SELECT count(*) FROM deal").fetchone()[0]
        print(f"board with {deals:,} deals and {len(FIELDS)} custom deal fields (values written in"
              f" {time.perf_counter() - start:.1f} s), cards show {CARD_FIELDS}, {SIZE[0]}x{SIZE[1]}")
        factor = 1 if deals <= 10_000 else 2
        budget = board_keys.BUDGET

        def row(label: str, value: float, unit: str, limit: float | None) -> None:
            mark = "" if limit is None else ("  ok" if value <= limit else "  OVER")
            shown = "" if limit is None else f"  (budget {limit:g} {unit})"
            print(f"  {label:<40} {value:9.2f} {unit}{shown}{mark}")

        paint, paint_rss = board_keys.first_paint(db)
        keys = json.loads(subprocess.run([sys.executable, board_keys.__file__, "--keys", str(db)], check=True,
                                         capture_output=True, text=True, env=env).stdout.strip().splitlines()[-1])
        noop = keys["noop_ms"]
        row("first paint from process start", paint, "s", budget["first_paint_s"] * factor)
        row("  the same before the fields were added", plain_paint, "s", None)
        row("down (j) over no-op", keys["down_ms"] - noop, "ms", budget["nav_ms"] * factor)
        row("across columns (l/h) over no-op", keys["across_ms"] - noop, "ms", budget["nav_ms"] * factor)
        row("stage move (>/<) over no-op", keys["move_ms"] - noop, "ms", budget["move_ms"] * factor)
        row("peak memory (keys run)", keys["rss_mb"], "MB", budget["rss_mb"] * factor)
        row("peak memory (first paint run)", paint_rss, "MB", budget["rss_mb"] * factor)
        filters = _child("--filters", db, env)
        print("  filter applied -> cards shown (wall time; the board's first paint budget is"
              f" {budget['first_paint_s'] * factor:g} s):")
        for text in FILTERS:
            row(f"  /{text}  ({int(filters[f'shown {text}']):,} open)", filters[f"filter {text}"], "ms", None)
            row("    of which the query (worker thread)", filters[f"query {text}"], "ms", None)
        for name in SORTS:
            row(f"  sort by {name}", filters[f"sort {name}"], "ms", None)
        row("  sort back to expected close (no field)", filters["sort back to close"], "ms", None)
        pages = _child("--deal-page", db, env)
        row("deal page open (enter -> drawn), median", statistics.median(pages), "ms", None)
        row("deal page open, slowest of 5", max(pages), "ms", None)
        row("  the same before the fields were added", statistics.median(plain_pages), "ms", None)


if __name__ == "__main__":
    main()
