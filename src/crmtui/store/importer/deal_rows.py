"""Planning the rows of a deals file: each row's values, its stage, its customer (company and
contact, found or new), then the deal it is: new, one the database holds, or one an earlier row
of the file planned (the row merges into it).

This is the hot path of a big import (100,000 rows in well under a second), so it runs a few
calls per row, not one per cell: the cells come out of the row in one `itemgetter` call and are
parsed inline, and answers that repeat from row to row (a stage, a company, a contact, a set of
tags) are cached by the cells that asked.
"""

from __future__ import annotations

import datetime as dt
import operator
from collections.abc import Callable
from typing import Any

from crmtui.store import clock
from crmtui.store.importer import values as V
from crmtui.store.importer.cells import MAX_TEXT, DealCells, RowError
from crmtui.store.importer.handover import DealHandover
from crmtui.store.importer.matching import DealKey, Matcher
from crmtui.store.importer.plan import POS, Plan
from crmtui.store.importer.records import Records
from crmtui.store.importer.stages import Stages
from crmtui.store.importer.tags import TagLinks

_DL = POS["deal"]
_EXT, _PIPELINE, _STAGE, _ENTERED, _AMOUNT, _COST, _EXPECTED, _CLOSED, _LOST, _CREATED = (_DL[c] for c in (
    "external_id", "pipeline_id", "stage_id", "stage_entered_at", "amount_cents", "cost_cents", "expected_close",
    "closed_on", "lost_reason", "created_at"))
_CONTACT_COMPANY = POS["contact"]["company_id"]
# The columns a deal row fills on a deal that exists, in that order.
_FILL_COLS = ("title", "company_id", "contact_id", "amount_cents", "cost_cents", "currency", "confidence",
              "expected_close", "source", "lost_reason", "proposal_url", "notes", "external_id")
_pick_fill = operator.itemgetter(*(_DL[c] for c in _FILL_COLS))


class DealRows:
    """Plans each row of a deals file into the plan's deal table (and its companies, contacts,
    stages and tag links). `through` and `moved` are the planner's: what finishing the plan makes
    stage changes of. `custom` reads a row's custom values (`custom.CustomCells.values`; None: the
    file has no custom columns)."""

    def __init__(self, plan: Plan, cells: DealCells, stages: Stages, matcher: Matcher, records: Records,
                 tags: TagLinks, handing: DealHandover, through: dict[int, int],
                 moved: dict[int, tuple[int, int, str]],
                 custom: Callable[[list[str]], dict[int, str] | None] | None = None,
                 lined: dict[int, int] | None = None) -> None:
        self.plan = plan
        self.deals = plan.tables["deal"]
        self.contacts = plan.tables["contact"]
        self.cells = cells
        self.stages = stages
        self.stage_kind = stages.stage_kind
        self.default_pipeline = stages.default_pipeline
        self.matcher = matcher
        # (the matcher's own dicts, one attribute lookup away on every row)
        self.dl_by_ext, self.dl_by_key, self.claimed = matcher.dl_by_ext, matcher.dl_by_key, matcher.claimed
        self.records = records
        self.tag_links = tags
        self.handing = handing
        self.through = through  # new deal -> the open stage it passed before its won/lost stage
        self.moved = moved  # deal that exists -> (stage it had, stage it gets, when)
        self.now = plan.now
        self.today = clock.today().isoformat()
        self.tomorrow = (clock.today() + dt.timedelta(days=1)).isoformat()
        self._parsed, self._pick_plain = cells.parsed, cells.plain
        self._custom = custom
        # deals that have line items -> whether a line has a cost: the lines decide their amount
        # (and then their cost), so a row does not change it
        self.lined = lined or {}
        # what tells two rows apart when the file has no external id: an `id` column; in a file
        # whose titles are made (of product and customer), where two rows say nothing more alike
        # than that, the row itself (a re-import still finds the deals: by title and customer)
        self._plain_id_ix = next((i for i, h in enumerate(plan.mapping.header) if h.strip().casefold() == "id"), -1)
        self._row_is_a_deal = cells.make_title is not None
        self.close_date = cells.expected_name == "close_date"  # won and lost rows: the day they closed
        # Big files name the same stage, customer and tags on many rows: the same cells give the
        # same answer, found once.
        self.stage_cache: dict[tuple[int, str, str], tuple[int, int | None]] = {}
        self.company_cache: dict[tuple[str | None, str | None], int | None] = {}
        self.contact_cache: dict[tuple[str | None, str | None, int | None], tuple[int | None, int | None]] = {}
        self.customer_cache: dict[tuple[str | None, ...], tuple[int | None, int | None]] = {}
        self.shared: dict[str, str] = {}  # a few sources and dates on 100,000 rows: one string each

    def plan_row(self, line: int, fields: list[str]) -> None:
        """Plan one row of a deals file; a RowError when a value is wrong."""
        (title, cents, cost_cents, currency, expected, closed_on, created_at, entered_at, confidence, proposal,
         raw_email, website, tags) = self._parsed(fields)
        r_pipeline, r_stage, r_status, r_source, r_lost, r_notes, r_ext, r_company, r_contact = self._pick_plain(fields)
        pipeline_id = self.default_pipeline
        raw_pipeline = r_pipeline.strip()
        if raw_pipeline:
            pipeline_id = self.stages.pipeline_named(raw_pipeline)
        sk = (pipeline_id, r_stage, r_status)
        found_stage = self.stage_cache.get(sk)
        if found_stage is None:
            found_stage = self.stage_cache[sk] = self._stage_for(line, fields, pipeline_id)
        stage_id, through = found_stage
        kind = self.stage_kind.get(stage_id, "open")
        if kind == "open":
            closed_on = None
        elif closed_on and closed_on > self.today:
            closed_on = self._closed_by_today(closed_on, kind, fields)
        source = r_source.strip() or None
        lost_reason = r_lost.strip() or None
        notes = r_notes.strip() or None
        ext = r_ext.strip() or None
        company_name = r_company.strip() or None
        contact_name = r_contact.strip() or None
        if source is not None:
            source = self.shared.setdefault(source, source)
        if max(len(r_company), len(r_contact), len(r_source), len(r_lost), len(r_ext)) > MAX_TEXT:
            _check_lengths(company=company_name, contact=contact_name, source=source, lost_reason=lost_reason,
                           external_id=ext)
        custom = self._custom(fields) if self._custom is not None else None

        # Every value is valid: now find or plan the customer, then the deal.
        company_id, contact_id = self._customer(company_name, website, contact_name, raw_email)
        did = self.dl_by_ext.get(ext) if ext else None
        key = (title.casefold(), company_id, None if company_id else contact_id)
        row_id = ext or fields[self._plain_id_ix].strip() or (f"line {line}" if self._row_is_a_deal else None)
        # Most rows of a big file name a deal no other has the key of: no matching call for them.
        fresh_key = did is None and self.matcher.key_log is None and key not in self.dl_by_key
        if did is None and not fresh_key:
            did = self.matcher.same_deal(key, row_id)
        if did is not None and did not in self.claimed:
            if row_id is not None and row_id == self.deals.rows[did][_EXT]:
                row_id = self.deals.rows[did][_EXT]  # the same text: keep one copy, not the file's as well
            self.claimed[did] = row_id
        if kind != "open" and expected is not None and self.close_date:
            expected, closed_on = None, closed_on or self._closed_on(expected, entered_at, did)
        # The deal as the row gives it, in DEAL_COLS order (amount, creation and stage entry as
        # written: a new deal fills them in)
        given = [did, title, company_id, contact_id, pipeline_id, stage_id, entered_at, cents, cost_cents, currency,
                 confidence, expected, closed_on, source, lost_reason if kind == "lost" else None, proposal, notes,
                 ext, created_at, self.now]
        if did is None:
            self._new_deal(given, kind, through, key, fresh_key, row_id, tags)
        else:
            self._known_deal(given, kind, through, key, tags, fields)
        if custom is not None:
            self.records.set_custom("deal", given[0], custom)

    def _stage_for(self, line: int, fields: list[str], pipeline_id: int) -> tuple[int, int | None]:
        """(stage id, the open stage it went through first or None) from the stage and status cells."""
        cells = self.cells
        status = cells.parse(fields, "status", V.status)
        return self.stages.stage_for(pipeline_id, cells.cell(fields, "stage").strip(), status,
                                     cells.cell(fields, "status"), line)

    def _closed_on(self, close_date: str, entered_at: str | None, did: int | None) -> str | None:
        """The day a won or lost row closed, from its "close date". One still ahead was only
        expected, and the deal closed early: a new deal on the day it entered its stage or today,
        one that exists as it stands (None)."""
        if close_date <= self.today:
            return close_date
        if did is not None:
            return None
        return min((entered_at or self.today)[:10], self.today)

    def _closed_by_today(self, closed_on: str, kind: str, fields: list[str]) -> str:
        """A won or lost deal's close date, which is after today: today when it is tomorrow (the
        date was written in a time zone ahead), else a RowError."""
        if closed_on > self.tomorrow:
            raw = self.cells.cell(fields, "closed_on").strip()
            raise RowError("closed_on", raw, f"{raw!r} is after today ({self.today}); a {kind} deal has closed already")
        return self.today

    def _customer(self, company_name: str | None, website: str | None, contact_name: str | None,
                  raw_email: str) -> tuple[int | None, int | None]:
        """The ids of the row's company and contact (None: none), found or planned new. A row with
        a contact and no company gets the contact's, or the company of the contact's domain.
        `raw_email` is the email cell as written: read (and checked) the first time it comes."""
        if company_name or website:  # (then the same four cells always give the same customer)
            key = (company_name, website, contact_name, raw_email)
            found = self.customer_cache.get(key)
            if found is None:
                found = self.customer_cache[key] = self._find_customer(company_name, website, contact_name,
                                                                       self.cells.email(raw_email))
            return found
        return self._find_customer(company_name, website, contact_name, self.cells.email(raw_email))

    def _find_customer(self, company_name: str | None, website: str | None, contact_name: str | None,
                       contact_email: str | None) -> tuple[int | None, int | None]:
        company_id = None
        if company_name or website:
            ck = (company_name, website)
            company_id = self.company_cache.get(ck)
            if company_id is None:
                company_id = self.records.company(company_name, V.domain_of(website) if website else None,
                                                  {"website": website} if website else None, only_empty=True)
                self.company_cache[ck] = company_id
        if company_id is None and contact_email and not company_name:
            company_id = self.matcher.co_by_domain.get(V.company_domain_from_email(contact_email) or "")
        contact_id = None
        if contact_name or contact_email:
            pk = (contact_name, contact_email, company_id)
            found = self.contact_cache.get(pk)
            if found is None:
                contact_id = self.records.contact(contact_name, contact_email, company_id)
                if company_id is None and contact_id is not None:
                    company_id = self.contacts.rows[contact_id][_CONTACT_COMPANY]
                self.contact_cache[pk] = (contact_id, company_id)
            else:
                contact_id, company_id = found
        return company_id, contact_id

    def _new_deal(self, row: list[Any], kind: str, through: int | None, key: DealKey, fresh_key: bool,
                  row_id: str | None, tags: tuple[str, ...]) -> None:
        """`row` (as the file gives it) planned as a new deal, with its id and dates, indexed for
        the rows after it."""
        t = self.deals
        did = row[0] = t.next_id
        t.next_id += 1
        expected, closed_on, entered_at = row[_EXPECTED], row[_CLOSED], row[_ENTERED]
        created = row[_CREATED] = row[_CREATED] or self.now
        if kind != "open" and not closed_on:
            # a closed deal's "Close Date" (HubSpot, Salesforce) is the day it closed; one still
            # ahead was only expected, and the deal closed early: by today at the latest
            if expected and expected <= self.today:
                closed_on = row[_CLOSED] = expected
            else:
                closed_on = row[_CLOSED] = min((entered_at or (self.today if expected else created))[:10], self.today)
        if entered_at:
            entered = entered_at
        elif closed_on and kind != "open":
            entered = f"{closed_on} 00:00:00.000000"
            entered = self.shared.setdefault(entered, entered)
        else:
            entered = created
        row[_ENTERED] = created if entered < created else entered
        if through is None and row[_ENTERED] > created:
            # It entered its stage after its creation: its history starts where deals start, the
            # pipeline's first open stage, on the day it was created.
            through = self.stages.first_open.get(row[_PIPELINE])
        if not row[_AMOUNT]:
            row[_AMOUNT] = 0
        t.rows[did] = row
        if through is not None:
            self.through[did] = through
        ext = row[_EXT]
        if ext:
            self.dl_by_ext[ext] = did
        if fresh_key:
            self.dl_by_key[key] = did  # (what `add_key` does for a key not seen yet)
        else:
            self.matcher.add_key(key, did)
        if row_id is not None and not ext:
            self.claimed[did] = row_id  # (with an external id the row keeps it)
        if tags:
            ids = self.tag_links.cache.get(tags)
            if ids is not None:  # (what `TagLinks.link` does for a new deal with tags seen before)
                self.tag_links.new.setdefault("deal", []).extend([(did, tid) for tid in ids])
            else:
                self.tag_links.link("deal", did, tags)

    def _known_deal(self, given: list[Any], kind: str, through: int | None, key: DealKey, tags: tuple[str, ...],
                    fields: list[str]) -> None:
        """`given` (the row's deal as the file gives it) merged into the deal it matched: one the
        database holds, or one an earlier row planned."""
        t = self.deals
        did = given[0]
        row = t.rows[did]
        if did in self.lined:
            given[_AMOUNT] = row[_AMOUNT]
            if self.lined[did]:
                given[_COST] = row[_COST]
        stage_id, closed_on, ext = given[_STAGE], given[_CLOSED], given[_EXT]
        if (row is t.original.get(did) and row[_STAGE] == stage_id
                and (kind == "open" or not closed_on or row[_CLOSED] == closed_on)
                and _pick_fill(row) == _pick_fill(given)):
            # A loaded deal the row repeats as it is (re-importing a file): what `merge` would
            # find, in one tuple comparison (100,000 unchanged deals: ~0.2 s less).
            # (its key is the one it was loaded with: dl_by_key has it, or will)
            if ext:
                self.dl_by_ext[ext] = did
            t.touched.add(did)
            self.tag_links.link("deal", did, tags)
            return
        fill: dict[str, Any] = dict(zip(_FILL_COLS, _pick_fill(given)))
        is_new = did >= t.first_new
        if is_new:
            self.plan.merged_rows += 1
            if did < self.handing.streamed_to:
                self.handing.rewrite.add(did)  # written already: write it again when the file is done
        cells = self.cells
        if row[_STAGE] != stage_id and cells.cell(fields, "stage").strip() + cells.cell(fields, "status").strip():
            self._move(did, given, kind, through, fill)
        elif kind != "open" and closed_on:
            fill["closed_on"] = closed_on
        self.records.merge("deal", did, fill)
        row = t.rows[did]
        if row is not t.original.get(did):
            # (a loaded row that nothing changed was indexed by these very values when loaded)
            self.matcher.index_deal(did, row)
        if ext:
            self.dl_by_ext[ext] = did
        self.matcher.add_key(key, did)
        if not is_new:
            t.touched.add(did)
        self.tag_links.link("deal", did, tags)

    def _move(self, did: int, given: list[Any], kind: str, through: int | None, fill: dict[str, Any]) -> None:
        """A row puts a deal in another stage: `fill` gets the stage and its dates, a deal that
        exists a stage change, and a new one the open stage it passed (or none)."""
        t = self.deals
        stage_id, closed_on, entered_at = given[_STAGE], given[_CLOSED], given[_ENTERED]
        fill["pipeline_id"] = given[_PIPELINE]
        fill["stage_id"] = stage_id
        when = entered_at or self.now
        fill["closed_on"] = (closed_on or self.today) if kind != "open" else None
        stored = t.original.get(did)
        if stored is not None and stored[_STAGE] == stage_id and not entered_at:
            # Back to the stage it has in the database (an earlier row of this file moved it):
            # since then as before, so that importing the file again changes nothing.
            when = stored[_ENTERED]
            fill["closed_on"] = (closed_on or stored[_CLOSED]) if kind != "open" else None
        fill["stage_entered_at"] = when
        row = t.rows[did]
        if type(row) is tuple:
            row = t.rows[did] = list(row)
        if kind == "open":
            row[_CLOSED] = None  # back to an open stage: not closed any more
        if kind != "lost":
            row[_LOST] = None
        if did >= t.first_new:
            if through is None and when > row[_CREATED]:  # (as `_new_deal` has it)
                through = self.stages.first_open.get(given[_PIPELINE])
            if through is not None:
                self.through[did] = through
            else:
                self.through.pop(did, None)
        else:
            previous = self.moved.get(did)
            self.moved[did] = (previous[0] if previous else row[_STAGE], stage_id, when)


def _check_lengths(**texts: str | None) -> None:
    """A RowError for the first of `texts` (field -> stripped cell) longer than MAX_TEXT."""
    for name, value in texts.items():
        if value and len(value) > MAX_TEXT:
            raise RowError(name, value[:20] + "…", f"longer than {MAX_TEXT} characters")
