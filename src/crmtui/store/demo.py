"""Realistic, deterministic sample data, written in bulk (100,000 deals in seconds).

Everything is relative to today: 18 months of deals with their stage history, won and lost deals
with reasons, activities and tasks, tags (the service sold) and sources. The pipeline is well kept,
as a new user's own should be: most open deals moved lately, have a next step ahead and close
later; about one in six needs attention (the follow-up rules), so triage has something to show.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import itertools
import random
import sqlite3
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from crmtui.store import clock
from crmtui.store.clock import to_db
from crmtui.store.bulk import back_to_wal, build_indexes, insert_many, write_pages_once
from crmtui.store.db import Database, translate_errors
from crmtui.store.errors import ValidationError
from crmtui.store.settings import settings_from_rows

_A = ("North", "Blue", "Silver", "Red", "Green", "Bright", "Iron", "Clear", "Swift", "Oak", "Pine", "Stone",
      "River", "Sun", "Moon", "Star", "Cedar", "Maple", "Golden", "Copper", "Harbor", "Summit", "Lake", "Polar",
      "Amber", "Coral", "Crystal", "Echo", "Falcon", "Granite", "Hazel", "Indigo", "Juniper", "Lumen", "Meadow",
      "Nova", "Orchid", "Pioneer", "Quartz", "Raven")
_B = ("wind", "peak", "field", "brook", "gate", "wave", "stone", "light", "works", "ridge", "point", "bridge",
      "vale", "crest", "forge", "line", "path", "port", "shore", "spring", "view", "wood", "yard", "leaf",
      "hill", "mark", "mill", "dale", "haven", "land")
_SUFFIX = ("Studio", "Consulting", "Labs", "GmbH", "Ltd", "& Co", "Partners", "Group", "Bakery", "Architects",
           "Dental", "Logistics", "Media", "Foods", "Hotels", "Legal", "Fitness", "Software", "Retail", "Clinic")
_FIRST = ("Anna", "Ben", "Clara", "David", "Eva", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Karin", "Leo",
          "Maria", "Nils", "Olga", "Paul", "Quinn", "Rosa", "Sam", "Tara", "Uma", "Victor", "Wendy", "Xavier",
          "Yara", "Zoe", "Omar", "Lena", "Marco", "Sofia", "Tom", "Julia", "Ravi", "Mei", "Lucas", "Emma")
_LAST = ("Schmidt", "Jansen", "Rossi", "Garcia", "Novak", "Smith", "Dubois", "Larsen", "Kowalski", "Silva",
         "Müller", "Brown", "Costa", "Ito", "Kim", "Patel", "Nguyen", "Fischer", "Moreau", "Berg", "Weber",
         "Lopez", "Meyer", "Horvat", "Olsen", "Tanaka", "Khan", "Wagner", "Bianchi", "Martin")
_CITIES = ("Berlin", "Lisbon", "Austin", "Leeds", "Utrecht", "Lyon", "Oslo", "Porto", "Denver", "Ghent")
_SERVICES = ("branding", "website", "seo", "social media", "strategy", "workshop", "retainer", "copywriting",
             "photography", "analytics")
_WORK = {
    "branding": ("Brand refresh", "Logo and identity", "Brand guidelines"),
    "website": ("Website relaunch", "Landing pages", "Shop redesign", "Website care plan"),
    "seo": ("SEO audit", "Local SEO", "Content SEO sprint"),
    "social media": ("Social media plan", "Instagram campaign", "LinkedIn ghostwriting"),
    "strategy": ("Go-to-market plan", "Pricing review", "Growth strategy"),
    "workshop": ("Team workshop", "Design sprint", "Offsite facilitation"),
    "retainer": ("Monthly retainer", "Quarterly advisory"),
    "copywriting": ("Website copy", "Newsletter series", "Case studies"),
    "photography": ("Product shoot", "Team portraits"),
    "analytics": ("Analytics setup", "Dashboard build", "Tracking audit"),
}
_NOTES = ("Discussed scope and timeline", "Sent follow-up with references", "Asked for budget range",
          "Intro call went well", "They compare us with two agencies", "Decision maker joins next call",
          "Shared portfolio", "Waiting for internal approval", "Clarified deliverables", "Price feedback: tight")
_TASKS = ("Follow up", "Send proposal", "Call back", "Prepare quote", "Schedule workshop", "Check in")
_SOURCES = ("Referral", "Website", "Cold call", "Trade show", "LinkedIn", "Email campaign", "Partner")
_LOST = ("Price too high", "Chose a competitor", "No budget", "No decision / ghosted", "Timing", "Scope mismatch")
_HISTORY_DAYS = 548  # 18 months


@dataclass
class DemoSummary:
    companies: int
    contacts: int
    deals: int
    stage_changes: int
    activities: int
    open_deals: int


def _company_names(n: int, rng: random.Random) -> list[str]:
    combos = [f"{a}{b} {s}" for a, b, s in itertools.product(_A, _B, _SUFFIX)]
    rng.shuffle(combos)
    names = combos[:n]
    for i in range(len(names), n):
        names.append(f"{combos[i % len(combos)]} {_CITIES[(i // len(combos)) % len(_CITIES)]} {i // (len(combos) * len(_CITIES)) + 1}")
    return names


def _stamper(start: dt.datetime, days: int) -> Callable[[float], str]:
    """`to_db(start + timedelta(seconds=s))` for `start` at a whole second and 0 <= s <= `days`
    days, twice as fast: the date and the time of day come from lists made once, not from a
    datetime each (the demo makes six timestamps a deal). Microseconds round half to even, as
    timedelta rounds them."""
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    offset = (start - midnight).seconds
    dates = [f"{midnight.date() + dt.timedelta(days=d)} " for d in range(days + 2)]
    times = [f"{h:02}:{m:02}:{s:02}." for h in range(24) for m in range(60) for s in range(60)]

    def stamp(seconds: float) -> str:
        whole = int(seconds)
        micro = round((seconds - whole) * 1e6)
        if micro == 1_000_000:
            whole, micro = whole + 1, 0
        day, second = divmod(offset + whole, 86400)
        return f"{dates[day]}{times[second]}{micro:06}"

    return stamp


def _care(
    rand: Callable[[], float], nth_open: int, expected_days: int, stale_days: int, soon_days: int
) -> tuple[float, float, int | None, int]:
    """How well the `nth_open` open deal is kept, relative to today: (days in its stage, days since
    it was last worked on, when its task is due in days or None for no task, its expected close in days).

    Most deals are on track; one in six needs attention, each for one reason of the follow-up rules
    in turn, so the shares hold at any size.
    """
    in_stage, quiet, due, close = rand() * expected_days, 0.0, 1 + int(rand() * 14), soon_days + 1 + int(rand() * 90)
    if nth_open % 6 == 5:
        problem = nth_open // 6 % 6
        if problem == 0:  # in its stage longer than expected
            in_stage = expected_days + 1 + rand() * 30
        elif problem == 1:  # stale: nothing done for a while, nothing planned
            quiet = stale_days + rand() * 30
            in_stage, due = max(in_stage, quiet), None
        elif problem == 2:  # no next step
            due = None
        elif problem == 3:  # an overdue task
            due = -1 - int(rand() * 10)
        elif problem == 4:  # a task due today
            due = 0
        else:  # expected close passed or closing soon
            close = int(rand() * (soon_days + 21)) - 20
    return in_stage, quiet, due, close


def generate_demo(db: Database, *, deals: int = 200, seed: int = 42, force: bool = False) -> DemoSummary:
    """Fill `db` with sample data in one transaction. Refuses a database that has deals unless
    `force`."""
    if deals < 1 or deals > 5_000_000:
        raise ValidationError("deals: give a number from 1 to 5,000,000", "deals")
    with translate_errors(db.path, db.busy_timeout):
        conn = db.raw()
        try:
            existing = conn.execute("SELECT count(*) FROM deal WHERE deleted_at IS NULL").fetchone()[0]
            if existing and not force:
                raise ValidationError(
                    f"{db.path} already has {existing:,} deals; use a new --db, or --force to add more", "db"
                )
            # A big page cache keeps index inserts in memory during the bulk write.
            conn.execute("PRAGMA cache_size = -262144")
            conn.execute("PRAGMA temp_store = MEMORY")  # (statement journals: see importer.apply)
            # Every id the demo writes is one it read or handed out itself: checking each
            # foreign key row by row only costs time (and this connection is closed at the end).
            conn.execute("PRAGMA foreign_keys = OFF")
            conn.execute("PRAGMA ignore_check_constraints = ON")  # and its values are valid by construction
            # Into a new database nobody else has open, each page is written once (see `bulk`).
            once = not existing and write_pages_once(conn, db.busy_timeout)
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Into empty tables, building the indexes once at the end (a sort) is much faster
                # than updating them row by row; all inside the same transaction.
                indexes = _drop_indexes(conn) if not existing else []
                # Millions of rows' values, made and let go of in batches, and no cycles among
                # them: the cyclic GC would only rescan them.
                was_enabled = gc.isenabled()
                gc.disable()
                try:
                    summary = _fill(conn, deals, seed)
                finally:
                    if was_enabled:
                        gc.enable()
                _add_catalogue(conn)
                if indexes:  # the finder's triggers were dropped with the indexes: index the rows now,
                    # while a scan reads them in id order (FTS5 appends ascending ids fastest)
                    from crmtui.store.search_index import rebuild_index

                    rebuild_index(conn)
                build_indexes(conn, indexes)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            finally:
                if once:
                    back_to_wal(conn)
        finally:
            conn.close()
    return summary


_BULK_TABLES = ("company", "contact", "deal", "stage_change", "activity", "deal_tag")

# A consultant's catalogue: (name, code, unit, price, tax %, cost per unit, archived). No random
# draws: the deals a seed gives stay the same.
CATALOGUE = (
    ("Consulting day", "CONS-DAY", "day", 120000, 25, 45000, False),
    ("Consulting hour", "CONS-HR", "hour", 16000, 25, 6000, False),
    ("Workshop (half day)", "WKSHP", "piece", 250000, 25, 80000, False),
    ("Strategy retainer", "RET-M", "month", 400000, 25, 150000, False),
    ("Software licence", "LIC-Y", "year", 180000, 25, 60000, False),
    ("Implementation project", "IMPL", "piece", 1500000, 25, 600000, False),
    ("Training seat", "TRAIN", "piece", 45000, 6, 12000, False),
    ("Support block (10 hours)", "SUP-10", "piece", 140000, 25, 50000, True),
)


def _add_catalogue(conn: sqlite3.Connection) -> None:
    """The sample catalogue, into a database without products (a --force run into one with a
    catalogue leaves it alone)."""
    if conn.execute("SELECT 1 FROM product LIMIT 1").fetchone():
        return
    now = to_db(clock.utcnow())
    conn.executemany(
        "INSERT INTO product (name, code, unit, price_cents, tax_bp, cost_cents, archived_at, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(name, code, unit, price, tax * 100, cost, now if archived else None, now, now)
         for name, code, unit, price, tax, cost, archived in CATALOGUE])


def _drop_indexes(conn: sqlite3.Connection) -> list[str]:
    """Drop the (non-unique) indexes and the triggers of the tables the demo fills; returns their
    CREATE statements. The demo writes the values the triggers would keep itself."""
    # (the trash's indexes stay: no row the demo writes enters them, and building one reads its
    # whole table to find nothing, 11 ms for 100,000 deals)
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') AND sql IS NOT NULL"
        " AND sql NOT LIKE '%%WHERE deleted_at IS NOT NULL' AND tbl_name IN (%s) ORDER BY type"
        % ",".join("?" * len(_BULK_TABLES)),
        _BULK_TABLES,
    ).fetchall()
    for kind, name, _sql in rows:
        conn.execute(f'DROP {kind.upper()} "{name}"')
    return [sql for _kind, _name, sql in rows]


_COMPANY = "INTO company (id, name, website, domain, email, phone, address, source, size, created_at, updated_at)"
_CONTACT = "INTO contact (id, name, email, phone, title, company_id, created_at, updated_at)"
_DEAL = (
    "INTO deal (id, title, company_id, contact_id, pipeline_id, stage_id, stage_entered_at, amount_cents, cost_cents,"
    " confidence, expected_close, closed_on, source, lost_reason, proposal_url, created_at, updated_at,"
    " last_touch_at, open_tasks, next_task_due, last_task_due)"
)
_STAGE_CHANGE = "INTO stage_change (deal_id, from_stage_id, to_stage_id, changed_at)"
_ACTIVITY = "INTO activity (kind, body, deal_id, company_id, contact_id, occurred_at, due_on, done_at, created_at)"
_DEAL_TAG = "OR IGNORE INTO deal_tag (deal_id, tag_id)"
_DEALS_A_WRITE = 5000  # deals generated, then written: their rows stay few and in the CPU's cache


def _insert(conn: sqlite3.Connection, into: str, rows: list[tuple]) -> None:
    """`INSERT {into} VALUES` ("INTO table (columns)") for `rows`, 100 rows a statement."""
    width = into.count(",") + 1
    insert_many(conn, f"INSERT {into} VALUES", width, rows, values=100 * width)


def _write(conn: sqlite3.Connection, tables: dict[str, list[tuple]], written: Counter[str]) -> None:
    """Insert the rows gathered in `tables` (by `_insert` target), count them and empty the lists."""
    for into, rows in tables.items():
        _insert(conn, into, rows)
        written[into] += len(rows)
        rows.clear()


def _companies(rng: random.Random, n: int, first_id: int, start: dt.datetime) -> list[tuple]:
    """`n` companies with ids from `first_id`, as `_COMPANY` rows; created in the 400 days before `start`."""
    rows = []
    for cid, name in enumerate(_company_names(n, rng), first_id):
        slug = "".join(filter(str.isalnum, name.lower()))[:24]
        created = to_db(start - dt.timedelta(days=rng.randint(0, 400)))
        rows.append((
            cid, name, f"https://www.{slug}.example", f"{slug}.example", f"hello@{slug}.example",
            f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}", f"{rng.randint(1, 250)} Main St, {rng.choice(_CITIES)}",
            rng.choice(_SOURCES), rng.choice(("small", "small", "medium", "enterprise")), created, created,
        ))
    return rows


def _contacts(
    rng: random.Random, companies: list[tuple], n_solo: int, first_id: int, start: dt.datetime
) -> tuple[list[tuple], dict[int, int], list[int]]:
    """One or two people at each company and `n_solo` without one, with ids from `first_id`: their
    `_CONTACT` rows, each company's first contact, and the ids of those without a company."""
    rows = []
    company_contact: dict[int, int] = {}
    ids = itertools.count(first_id)
    for company_id, _name, _web, domain, *_rest, created in companies:
        for _ in range(1 if rng.random() < 0.6 else 2):
            cid, first, last = next(ids), rng.choice(_FIRST), rng.choice(_LAST)
            rows.append((
                cid, f"{first} {last}", f"{first.lower()}.{last.lower()}@{domain}".replace("ü", "ue"),
                f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
                rng.choice(("CEO", "Founder", "Marketing lead", "Head of Sales", "Owner", "COO")),
                company_id, created, created,
            ))
            company_contact.setdefault(company_id, cid)
    solo = []
    for _ in range(n_solo):
        cid, first, last = next(ids), rng.choice(_FIRST), rng.choice(_LAST)
        solo.append(cid)
        rows.append((cid, f"{first} {last}", f"{first.lower()}{cid}@mail.example", None, "Freelancer",
                     None, to_db(start), to_db(start)))
    return rows, company_contact, solo


def _fill(conn: sqlite3.Connection, n_deals: int, seed: int) -> DemoSummary:
    rng = random.Random(seed)
    now = clock.utcnow().replace(microsecond=0)
    today = clock.today()
    start = now - dt.timedelta(days=_HISTORY_DAYS)
    pipeline_id = conn.execute("SELECT id FROM pipeline WHERE is_default = 1 AND deleted_at IS NULL").fetchone()[0]
    stages = conn.execute(
        "SELECT id, kind, expected_days FROM stage WHERE pipeline_id = ? AND deleted_at IS NULL ORDER BY position",
        (pipeline_id,),
    ).fetchall()
    open_stages = [s for s in stages if s[1] == "open"]
    won = next(s for s in stages if s[1] == "won")
    lost = next(s for s in stages if s[1] == "lost")
    closed = next((s for s in stages if s[1] == "closed"), lost)
    rules = settings_from_rows(conn.execute("SELECT key, value FROM setting"))
    stale_days, soon_days = int(rules["stale-days"]), int(rules["closing-soon-days"])

    base_company = conn.execute("SELECT coalesce(max(id), 0) FROM company").fetchone()[0]
    base_contact = conn.execute("SELECT coalesce(max(id), 0) FROM contact").fetchone()[0]
    base_deal = conn.execute("SELECT coalesce(max(id), 0) FROM deal").fetchone()[0]

    companies = _companies(rng, max(8, n_deals // 3), base_company + 1, start)
    _insert(conn, _COMPANY, companies)
    # Some customers are people without a company.
    contacts, company_contact, solo = _contacts(rng, companies, max(2, n_deals // 50), base_contact + 1, start)
    _insert(conn, _CONTACT, contacts)

    tag_ids = {}
    for name in _SERVICES:
        row = conn.execute("SELECT id FROM tag WHERE name = ? COLLATE NOCASE", (name,)).fetchone()
        tag_ids[name] = row[0] if row else conn.execute("INSERT INTO tag (name) VALUES (?)", (name,)).lastrowid

    deal_rows, change_rows, activity_rows, tag_rows = [], [], [], []
    tables = {_DEAL: deal_rows, _STAGE_CHANGE: change_rows, _ACTIVITY: activity_rows, _DEAL_TAG: tag_rows}
    written: Counter[str] = Counter()
    open_count = 0
    span = (now - start).total_seconds()
    # Hot loop: plain floats and a local random() (rng.choice/randint cost more than the inserts).
    rand = rng.random

    def pick(seq):  # noqa: ANN001, ANN202
        return seq[int(rand() * len(seq))]

    n_open = len(open_stages)
    n_companies_ = len(companies)
    amounts = (1500, 2500, 4000, 6000, 8000, 12000, 15000, 20000, 30000, 45000, 80000)
    stars_open = (None, None, 1, 2, 3, 3, 4, 4, 5)
    kinds = ("note", "call", "email", "meeting")
    stamp = _stamper(start, _HISTORY_DAYS)

    @functools.cache
    def day(from_today: int) -> str:
        return (today + dt.timedelta(days=from_today)).isoformat()

    for i in range(n_deals):
        did = base_deal + i + 1
        # Newer deals are more common (a growing practice), and the older a deal, the likelier it closed.
        created_s = float(int(span * (1 - rand() ** 1.7)))  # seconds after `start`
        age_days = (span - created_s) / 86400
        service = pick(_SERVICES)
        company_id = None
        if rand() < 0.94:
            company = companies[int(rand() * n_companies_)]
            company_id = company[0]
            contact_id = company_contact.get(company_id)
            customer = company[1].split(" ")[0]
        else:
            contact_id = pick(solo)
            customer = "Private"
        title = f"{pick(_WORK[service])} – {customer}"
        amount = pick(amounts) + int(rand() * 11) * 250
        cost = int(amount * (0.25 + 0.35 * rand())) // 50 * 50
        # Walk the open stages; some deals then close.
        reach = min(n_open, 1 + int(rand() ** 0.8 * n_open * min(1.0, age_days / 60 + 0.3)))
        closes = rand() < min(0.9, age_days / 420)
        path = open_stages[:reach]
        outcome = None
        end_s = span  # when the stage walk ends: by now, or when an open deal entered its stage
        if closes:
            roll = rand() + reach * 0.07
            outcome = won if roll > 0.75 else (closed if roll < 0.12 else lost)
            path = [*path, outcome]
        else:
            in_stage, quiet, due_in, close_in = _care(rand, open_count, path[-1][2] or 30, stale_days, soon_days)
            end_s = span - in_stage * 86400
            # Old enough to have spent that long in its stage (a first-stage deal entered it on creation).
            created_s = end_s if reach == 1 else min(created_s, end_s - (reach - 1) * 4 * 86400)
        t = created_s
        prev_stage = None
        last = len(path) - 1
        for j, stage in enumerate(path):
            if j == last and not closes:
                t = end_s
            elif j:
                t = min(end_s, t + int((end_s - t) * (0.05 + 0.3 * rand())))
            when = stamp(t)
            if j == 0:
                created_db = when
            change_rows.append((did, prev_stage, stage[0], when))
            prev_stage = stage[0]
        entered_db = when
        is_open = outcome is None
        open_count += is_open
        entered_day = entered_db[:10]
        expected = day(close_in) if is_open else entered_day
        deal_rows.append((
            did, title, company_id, contact_id, pipeline_id, prev_stage, entered_db, amount * 100, cost * 100,
            pick(stars_open) if is_open else 1 + int(rand() * 5),
            expected, None if is_open else entered_day, pick(_SOURCES),
            pick(_LOST) if outcome is lost else None,
            f"https://docs.example/proposals/{did}" if reach >= 4 else None,
            created_db, entered_db,
        ))
        tag_rows.append((did, tag_ids[service]))
        if rand() < 0.3:
            extra = pick(_SERVICES)
            if extra != service:
                tag_rows.append((did, tag_ids[extra]))
        touched = entered_db
        # Notes while the deal was worked on: up to its close, or its last touch when open.
        notes_end = t if closes else span - quiet * 86400
        for _ in range(int(rand() * 4)):
            when = stamp(int(created_s + (notes_end - created_s) * rand()))
            touched = max(touched, when)
            activity_rows.append((pick(kinds), pick(_NOTES), did, company_id, contact_id, when, None, None, when))
        due_iso = None
        if is_open and due_in is not None:
            due_iso = day(due_in)
            # Set when the deal was last worked on.
            activity_rows.append(("task", pick(_TASKS), did, company_id, contact_id, touched, due_iso, None, touched))
        # What the follow-up triggers keep: last touch and open tasks.
        deal_rows[-1] += (touched, 1 if due_iso else 0, due_iso, due_iso)
        if len(deal_rows) == _DEALS_A_WRITE:
            _write(conn, tables, written)
    _write(conn, tables, written)
    return DemoSummary(len(companies), len(contacts), n_deals, written[_STAGE_CHANGE], written[_ACTIVITY], open_count)
