"""Importing a catalogue: `crmtui import FILE --type products`.

A catalogue is small (tens to hundreds of rows), so it goes through the store's own product
checks row by row, in one transaction, rather than the streaming planner of deals. The file is
read as any import reads it (encoding, delimiter, header line); columns are known by their usual
names (`--map` names others). A row whose code, else name (any case), is a product's updates that
product, archived or not: its non-empty cells change it, an empty cell changes nothing. Any bad
row stops the import with every bad row named; nothing is written. The run is recorded, so
`crmtui imports undo` takes it back: it deletes the products it created (but those edited or put
on a deal since) and puts back the fields it changed (but those edited since).
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from crmtui.store import clock
from crmtui.store.db import Database
from crmtui.store.errors import CrmError, ValidationError
from crmtui.store.importer.cells import unguard
from crmtui.store.importer.mapping import parse_map_options
from crmtui.store.importer.reading import CsvText, data_rows
from crmtui.store.models import ImportChange, ImportRun, Product
from crmtui.store.products import FIELDS, check_code, clean_value, default_currency, field_name, save_product
from crmtui.store.sql import Session

# The usual names of each field's column, as words (case, spaces, `_` and `(%)` do not matter).
HEADERS = {
    "name": ("name", "product", "product name", "item", "item name", "title"),
    "code": ("code", "sku", "product code", "item code", "article number", "part number"),
    "unit": ("unit", "uom", "unit of measure", "units"),
    "price": ("price", "unit price", "list price", "sales price", "rate", "price per unit"),
    "currency": ("currency", "price currency"),
    "tax": ("tax", "vat", "tax rate", "vat rate", "gst", "sales tax"),
    "cost": ("cost", "unit cost", "cost price", "cost per unit", "purchase price", "cost of goods sold", "cogs"),
    "description": ("description", "details", "notes"),
    "active": ("active", "status", "enabled"),
    "archived": ("archived", "inactive", "discontinued"),
}
_COLUMNS = FIELDS  # field -> column
MAX_SHOWN_ERRORS = 20


def _words(header: str) -> str:
    return " ".join(re.sub(r"[^\w]+|_", " ", header.lower()).split())


class ProductRowsRejected(CrmError):
    """Rows of the file are wrong: nothing was imported. `errors` names each row, column and why."""

    def __init__(self, name: str, rows: int, errors: list[str]) -> None:
        n = len(errors)
        super().__init__(f"{name}: {n:,} of {rows:,} rows {'has' if n == 1 else 'have'} errors; nothing was imported."
                         " Fix them and import again")
        self.errors = errors


@dataclass
class ProductImport:
    """What an import of products did (or would do: `dry_run`)."""

    csv: CsvText
    columns: dict[str, int]  # field -> column
    ignored: list[str] = field(default_factory=list)  # headers that match no field
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    import_id: int | None = None
    dry_run: bool = False

    def summary(self) -> dict[str, Any]:
        """As `crmtui import --json` prints it."""
        return {"file": self.csv.name, "type": "products", "rows": self.rows, "dry_run": self.dry_run,
                "import_id": self.import_id,
                "columns": {self.csv.header[i]: f for f, i in self.columns.items()}, "ignored": self.ignored,
                "counts": {"product": self.counts()}}

    def counts(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


def map_product_columns(csv_text: CsvText, maps: list[str] | None = None) -> tuple[dict[str, int], list[str]]:
    """Which column gives each field (by the usual names; `--map 'Column=field'` wins, `'Column='`
    ignores one), and the headers that match none. A file without a name column is refused."""
    header = csv_text.header
    columns: dict[str, int] = {}
    taken: set[int] = set()
    for column, target in parse_map_options(maps):
        found = [i for i, h in enumerate(header) if h.strip().casefold() == column.casefold()]
        if not found:
            raise ValidationError(f"--map {column}={target}: {csv_text.name} has no column {column!r}"
                                  f" (headers: {', '.join(repr(h) for h in header)})", "map")
        taken.add(found[0])
        if target:
            wanted = "archived" if _words(target) in HEADERS["archived"] else _mapped_field(column, target)
            columns[wanted] = found[0]
    for i, h in enumerate(header):
        words = _words(h)
        for name, synonyms in HEADERS.items():
            if i not in taken and name not in columns and words in synonyms:
                columns[name] = i
                taken.add(i)
    if "name" not in columns:
        raise ValidationError(f"{csv_text.name}: no column gives the product name (headers: "
                              f"{', '.join(repr(h) for h in header)}); name one with --map 'COLUMN=name'", "name")
    if "active" in columns and "archived" in columns:
        raise ValidationError(f"{csv_text.name}: give one of the columns {header[columns['active']]!r} and "
                              f"{header[columns['archived']]!r}, not both", "active")
    return columns, [h for i, h in enumerate(header) if i not in taken and h.strip()]


def _mapped_field(column: str, target: str) -> str:
    try:
        return field_name(target)
    except ValidationError as exc:
        raise ValidationError(f"--map {column}={target}: {exc.message}", "map") from None


def import_products(db: Database, csv_text: CsvText, *, maps: list[str] | None = None,
                    dry_run: bool = False) -> ProductImport:
    """Import the products of `csv_text` in one transaction (rolled back for a `dry_run`), recorded
    as an import run when it changed anything. Raises ProductRowsRejected, writing nothing, when
    any row is wrong."""
    columns, ignored = map_product_columns(csv_text, maps)
    result = ProductImport(csv=csv_text, columns=columns, ignored=ignored, dry_run=dry_run)
    with db.writing(commit=not dry_run) as conn:
        from crmtui.store.importer.apply import ensure_import_tables

        ensure_import_tables(conn)
        session = Session(conn, db)
        currency = default_currency(session)
        now = clock.utcnow()
        changes: list[ImportChange] = []
        errors: list[str] = []
        for line, fields in data_rows(csv_text):
            result.rows += 1
            try:
                change = _import_row(session, csv_text, columns, line, fields, now, currency)
            except _RowError as exc:
                errors.append(exc.message)
                continue
            if change is None:
                result.unchanged += 1
            else:
                changes.append(change)
                result.created += change.action == "created"
                result.updated += change.action == "updated"
        if errors:
            raise ProductRowsRejected(csv_text.name, result.rows, errors)
        if changes:
            run = ImportRun(source=csv_text.name, record_type="products", encoding=csv_text.encoding,
                            delimiter=csv_text.delimiter_name, rows_read=result.rows, created_at=now,
                            summary=json.dumps({"type": "products", "counts": {"product": result.counts()},
                                                "rows": result.rows}))
            session.add(run)
            for change in changes:
                change.import_id = run.id
                session.add(change)
            result.import_id = None if dry_run else run.id
    return result


class _RowError(CrmError):
    pass


def _import_row(session: Session, csv_text: CsvText, columns: dict[str, int], line: int, fields: list[str],
                now: Any, currency: str) -> ImportChange | None:  # noqa: ANN401 - a datetime
    """Create or update the product of one row; what the import did (None: nothing changed)."""
    values: dict[str, Any] = {}
    for name, i in columns.items():
        raw = unguard(fields[i].strip()) if i < len(fields) else ""
        if not raw:
            continue
        try:
            value = clean_value("active" if name == "archived" else name, raw)
        except ValidationError as exc:
            raise _RowError(_where(line, csv_text.header[i], exc.message)) from None
        values["active" if name == "archived" else name] = (not value) if name == "archived" else value
    if values.get("currency") == currency:  # the database's: as the export writes a product without one
        values["currency"] = None
    if "name" not in values:
        raise _RowError(_where(line, csv_text.header[columns["name"]], "name: required"))
    product = _match(session, values)
    try:
        if product is None:
            return _create(session, values, now, line, csv_text, columns)
        return _update(session, product, values, now)
    except ValidationError as exc:  # a code another product has
        raise _RowError(_where(line, csv_text.header[columns.get("code", columns["name"])], exc.message)) from None


def _where(line: int, header: str, message: str) -> str:
    return f"line {line}, column {header!r}: {message}"


def _match(session: Session, values: dict[str, Any]) -> Product | None:
    """The product a row names: by its code, else by its name (any case), archived or not."""
    for key in ("code", "name"):
        if values.get(key):
            found = session.find(Product, f"lower({key}) = ? AND deleted_at IS NULL", [values[key].lower()],
                                 order="archived_at IS NOT NULL, id")
            if found:
                return found[0]
    return None


def _create(session: Session, values: dict[str, Any], now: Any, line: int, csv_text: CsvText,
            columns: dict[str, int]) -> ImportChange:  # noqa: ANN401
    if "price" not in values:
        header = csv_text.header[columns["price"]] if "price" in columns else None
        reason = "price: required for a new product (0 for no charge)"
        raise _RowError(_where(line, header, reason) if header else f"line {line}: {reason}; the file has no"
                        " price column")
    product = Product(name=values["name"], created_at=now, updated_at=now,
                      archived_at=None if values.get("active", True) else now,
                      **{_COLUMNS[f]: v for f, v in values.items() if f not in ("name", "active")})
    check_code(session, product.code, None)
    save_product(session, product)
    return ImportChange(import_id=0, entity="product", action="created", first_id=product.id, last_id=product.id)


def _update(session: Session, product: Product, values: dict[str, Any],
            now: Any) -> ImportChange | None:  # noqa: ANN401 - a datetime
    """Change the product's fields the row gives otherwise; None when it already matches."""
    wanted = dict(values)
    for key in ("code", "name"):  # (matched in any case: the case is not a change)
        if key in wanted and wanted[key].lower() == (getattr(product, key) or "").lower():
            del wanted[key]
    if "active" in wanted:
        wanted["active"] = None if wanted["active"] else (product.archived_at or now)
    changed = [f for f, v in wanted.items() if getattr(product, _COLUMNS[f]) != v]
    if not changed:
        return None
    if "code" in changed:
        check_code(session, wanted["code"], product.id)
    columns = [_COLUMNS[f] for f in changed] + ["updated_at"]
    old = _raw(session, product.id, columns)
    for f in changed:
        setattr(product, _COLUMNS[f], wanted[f])
    product.updated_at = now
    save_product(session, product)
    return ImportChange(import_id=0, entity="product", action="updated", first_id=product.id, last_id=product.id,
                        old_values=json.dumps(old), new_values=json.dumps(_raw(session, product.id, columns)))


def _raw(session: Session, product_id: int, columns: list[str]) -> dict[str, Any]:
    """Columns of a product as SQLite holds them (what undoing the import compares and puts back)."""
    assert set(columns) <= set(_COLUMNS.values()) | {"updated_at"}
    row = session.execute(f"SELECT {', '.join(columns)} FROM product WHERE id = :id", {"id": product_id}).fetchone()
    return dict(zip(columns, row, strict=True))


def remove_imported_products(conn: sqlite3.Connection, ranges: list[tuple[int, int]],
                             since: str) -> tuple[int, dict[int, list[str]]]:
    """Undoing an import: delete the products it created, but those edited since or named by a
    deal's line. Returns how many went, and why each other one stays."""
    removed, kept = 0, {}
    for first, last in ranges:
        for pid, updated_at, lines in conn.execute(
                "SELECT id, updated_at, (SELECT count(*) FROM deal_line l WHERE l.product_id = p.id)"
                " FROM product p WHERE id BETWEEN ? AND ?", (first, last)).fetchall():
            why = ["edited since"] if str(updated_at) != str(since) else []
            why += [f"on {lines} deal line{'' if lines == 1 else 's'}"] if lines else []
            if why:
                kept[pid] = why
            else:
                removed += conn.execute("DELETE FROM product WHERE id = ?", (pid,)).rowcount
    return removed, kept

