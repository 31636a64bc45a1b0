"""A row's cells by field name, parsed with `values`.

Rows come padded to the header's width plus one empty cell, which every unmapped field reads
(index -1). A value that does not parse becomes a RowError naming its field; the planner turns
that into the rejected row's message, with the file's own column name. The file's day/month
order lives here too: the first date that tells it sets it for every row after.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from crmtui.store.errors import ValidationError
from crmtui.store.importer import values as V
from crmtui.store.importer.mapping import Mapping

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
MAX_TEXT = 200  # characters of a deal's title, company, contact, source, lost reason, external id
# The cells of a deal row that take parsing, and those taken as text, in the order they are picked.
_DEAL_PARSED = ("title", "amount", "cost", "currency", "expected_close", "closed_on", "created_at",
                "stage_entered_at", "confidence", "proposal_url", "contact_email", "website", "tags")
_DEAL_PLAIN = ("pipeline", "stage", "status", "source", "lost_reason", "notes", "external_id", "company", "contact")


class RowError(Exception):
    """Why a row cannot be imported: the field at fault (None: the row as a whole), the value as
    written, and the reason."""

    def __init__(self, field: str | None, value: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field, self.value, self.reason = field, value, reason


def unguard(value: str) -> str:
    """Take off the `'` our export (or a careful spreadsheet) puts before `=`, `+`, `-`, `@`."""
    if value[:1] == "'" and value[1:2] in _FORMULA_START:
        return value[1:]
    return value


def row_error(name: str, raw: str, exc: Exception) -> RowError:
    """A parser's complaint about `raw` (the cell of field `name`) as a RowError."""
    message = exc.message if isinstance(exc, ValidationError) else f"{raw.strip()!r}: {exc}"
    # "amount: '12,5x' is not an amount" -> "'12,5x' is not an amount"
    if ": " in message and not message.startswith("'") and message.split(": ", 1)[0].replace(" ", "").isalpha():
        message = message.split(": ", 1)[1]
    return RowError(name, raw, message)


class Cells:
    """The cells of one file's rows by field, and the file's day/month order (`order`)."""

    def __init__(self, mapping: Mapping, date_order: str | None) -> None:
        self.ix: dict[str, int] = {f: mapping.columns.index(f) for f in mapping.columns if f}
        self.order = date_order

    def index(self, name: str) -> int:
        """The position of field `name` in a padded row (-1, the empty cell, when unmapped)."""
        return self.ix.get(name, -1)

    def cell(self, fields: list[str], name: str) -> str:
        return fields[self.ix.get(name, -1)]

    def parse(self, fields: list[str], name: str, parser: Callable[..., Any], *args: Any) -> Any:
        """`parser(cell, *args)`, None for an empty cell."""
        raw = fields[self.ix.get(name, -1)]
        if not raw:
            return None
        try:
            return parser(raw, *args)
        except (ValidationError, ValueError) as exc:  # ValueError: a library parser's own complaint
            raise row_error(name, raw, exc) from exc

    def text(self, fields: list[str], name: str, max_len: int = 10_000_000) -> str | None:
        raw = fields[self.ix.get(name, -1)]
        value = raw.strip() if raw else None
        if value and len(value) > max_len:
            raise RowError(name, value[:20] + "…", f"longer than {max_len} characters")
        return value or None

    def tags(self, fields: list[str]) -> tuple[str, ...]:
        return self.parse(fields, "tags", V.tags) or ()

    def hint(self, raw: str) -> str | None:
        """The day/month order, set from `raw` when that date tells it."""
        hint = V.date_hint(raw)
        if hint:
            self.order = hint
        return self.order


class DealCells(Cells):
    """The cells of a deals file's rows, picked out of a row at once (`plain`, `parsed`): a big
    file has 100,000 rows of a dozen cells, too many for a call per cell."""

    def __init__(self, mapping: Mapping, date_order: str | None, default_currency: str) -> None:
        super().__init__(mapping, date_order)
        self.default_currency = default_currency  # an amount in it is stored without a currency
        # A "close date" is read where an expected close is: the row's stage tells which it is
        # (`DealRows`). (A file never has both: `mapping` makes the close date closed_on then.)
        self.expected_name = "close_date" if "close_date" in self.ix else "expected_close"
        self.make_title = _title_maker(mapping)
        self._pick_parsed = operator.itemgetter(*(self.index(self.expected_name if name == "expected_close" else name)
                                                  for name in _DEAL_PARSED))
        self.plain = operator.itemgetter(*(self.index(name) for name in _DEAL_PLAIN))  # row -> those cells

    def parsed(self, fields: list[str]) -> tuple[Any, ...]:
        """The cells of a row that take parsing, parsed (a RowError naming the first bad one); the
        contact's email as written (see `email`)."""
        (r_title, r_amount, r_cost, r_currency, r_expected, r_closed, r_created, r_entered, r_confidence,
         r_proposal, r_email, r_website, r_tags) = self._pick_parsed(fields)
        # (most titles have single spaces and no other white space: then stripping is enough)
        title = r_title.strip() if r_title.isprintable() and "  " not in r_title else " ".join(r_title.split())
        if not title:
            if self.make_title is None:
                raise RowError("title", "", "the deal title is empty")
            title = self.make_title(fields)
        if len(title) > MAX_TEXT:
            raise RowError("title", title[:20] + "…", f"longer than {MAX_TEXT} characters")
        # The cells in order, each parser's error naming its field (`name`); inline rather than
        # one helper call per cell: 100,000 rows x 8 cells.
        order = self.order
        name = "amount"
        try:
            cents, written_currency = V.amount(r_amount) if r_amount else (None, None)
            name = "cost"
            cost_cents = V.amount(r_cost)[0] if r_cost else None
            name = "currency"
            currency = (V.currency(r_currency) if r_currency else None) or written_currency
            if currency == self.default_currency:
                currency = None
            expected = closed_on = created_at = entered_at = None
            if r_expected:
                name = self.expected_name
                if order is None:
                    order = self.hint(r_expected)
                expected = V.date(r_expected, order)
            if r_closed:
                name = "closed_on"
                if order is None:
                    order = self.hint(r_closed)
                closed_on = V.date(r_closed, order)
            if r_created:
                name = "created_at"
                if order is None:
                    order = self.hint(r_created)
                created_at = V.timestamp(r_created, order)
            if r_entered:
                name = "stage_entered_at"
                if order is None:
                    order = self.hint(r_entered)
                entered_at = V.timestamp(r_entered, order)
            name = "confidence"
            confidence = V.confidence(r_confidence) if r_confidence else None
            name = "proposal_url"
            proposal = V.url(r_proposal) if r_proposal else None
            name = "website"
            website = V.url(r_website) if r_website else None
            name = "tags"
            tags = V.tags(r_tags) if r_tags else ()
        except (ValidationError, ValueError) as exc:  # ValueError: a library parser's own complaint
            raise row_error(name, self.cell(fields, name), exc) from exc
        return (title, cents, cost_cents, currency, expected, closed_on, created_at, entered_at, confidence, proposal,
                r_email, website, tags)

    def email(self, raw: str) -> str | None:
        """The contact email of a row, from its cell as written (which `parsed` leaves as it is:
        most rows name a customer seen before, found by the cells alone)."""
        if not raw:
            return None
        try:
            return V.email(raw)
        except (ValidationError, ValueError) as exc:
            raise row_error("contact_email", raw, exc) from exc


def _title_maker(mapping: Mapping) -> Callable[[list[str]], str] | None:
    """What makes a row's title when the file has no title column (None: it has one, or nothing
    to make one of): "Website redesign – Acme" of its product and customer, the product alone,
    or "Acme deal" (as Pipedrive names a deal it is given no title for)."""
    product, customer = mapping.title_product, mapping.title_customer
    if product is None and customer is None:
        return None
    p, c = (-1 if i is None else i for i in (product, customer))  # (-1: the row's empty cell)
    columns = " and ".join(repr(h) for h in mapping.titles_made_from())

    def make(fields: list[str]) -> str:
        what, who = " ".join(fields[p].split()), " ".join(fields[c].split())
        title = f"{what} – {who}" if what and who else what or (f"{who} deal" if who else "")
        if not title:
            raise RowError(None, "", f"no title, and none to make: {columns} {'is' if ' and ' not in columns else 'are'}"
                                     " empty")
        if len(title) > MAX_TEXT:
            raise RowError(None, title[:20] + "…", f"the title made of {columns} is longer than {MAX_TEXT} characters")
        return title

    return make
