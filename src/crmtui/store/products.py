"""The product catalogue: what the consultant sells, at what price, tax rate and cost.

A product is referred to as `#12` (its id), by its code, or by its name (any case). Archived
products stay findable by reference (old lines and quotes name them) but are not offered in lists
and finders. Each write (add, set, archive, restore) is one undo entry in scope "products".
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping
from typing import Any

from crmtui.store import clock, undo
from crmtui.store.errors import NotFound, ValidationError
from crmtui.store.line_totals import parse_percent
from crmtui.store.models import Product
from crmtui.store.sql import Session
from crmtui.store.validate import clean_amount, clean_currency, clean_text, require_text


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None or product.deleted_at is not None:
        raise NotFound(f"no product with id {product_id}")
    return product


def find_product(session: Session, ref: str | int) -> Product | None:
    """A product by `#id`, code or name (case-insensitive), archived or not; None when none. A bare
    number that is no product's code or name is an id."""
    text = " ".join(str(ref).split())
    if text.startswith("#") and text[1:].isdigit():
        product = session.get(Product, int(text[1:]))
        return product if product is not None and product.deleted_at is None else None
    for column in ("code", "name"):
        found = session.find(Product, f"lower({column}) = ? AND deleted_at IS NULL", [text.lower()],
                             order="archived_at IS NOT NULL, id")
        if found:
            return found[0]
    if text.isdigit() and len(text) < 19:  # a bare id, when no code or name is that number
        return find_product(session, f"#{text}")
    return None


def require_product(session: Session, ref: str | int) -> Product:
    """`find_product`, or a NotFound that names what was asked for."""
    product = find_product(session, ref)
    if product is None:
        raise NotFound(f"no product {str(ref).strip()!r} (give its #id, code or name: crmtui products list)")
    return product


def search_products(session: Session, text: str = "", *, limit: int = 20, include_archived: bool = False) -> list[Any]:
    """Products whose name, code or description contains `text` (any case), names starting with it
    first, then by name: what a finder shows as the user types."""
    pattern = f"%{text.strip().lower()}%"
    archived = "" if include_archived else " AND archived_at IS NULL"
    return session.execute(
        "SELECT id, name, code, unit, price_cents, currency, tax_bp, cost_cents, description, archived_at"
        " FROM product WHERE deleted_at IS NULL" + archived +
        " AND (lower(name) LIKE :p OR lower(coalesce(code, '')) LIKE :p OR lower(coalesce(description, '')) LIKE :p)"
        " ORDER BY lower(name) NOT LIKE :start, lower(name), id LIMIT :limit",
        {"p": pattern, "start": f"{text.strip().lower()}%", "limit": limit},
    ).fetchall()


SCOPE = "products"
# The fields `products set` knows, as people name them, and the column each one writes.
FIELDS = {"name": "name", "code": "code", "unit": "unit", "price": "price_cents", "currency": "currency",
          "tax": "tax_bp", "cost": "cost_cents", "description": "description", "active": "archived_at"}
_ALIASES = {"unit price": "price", "unit_price": "price", "vat": "tax", "tax rate": "tax", "sku": "code",
            "cost per unit": "cost"}
DEFAULT_UNIT = "piece"
_YES = {"yes", "y", "true", "1", "on", "active"}
_NO = {"no", "n", "false", "0", "off", "archived"}


def list_products(session: Session, *, include_archived: bool = False) -> list[Product]:
    """The catalogue by name (any case); archived products too with `include_archived`."""
    where = "deleted_at IS NULL" + ("" if include_archived else " AND archived_at IS NULL")
    return session.find(Product, where, order="lower(name), id")


def default_currency(session: Session) -> str:
    """The database's currency: a product without a currency of its own is priced in it."""
    from crmtui.store.settings import get_setting

    return get_setting(session, "currency")


def product_json(product: Product, currency: str) -> dict[str, Any]:
    """A product as `products list --json` and the export write it: money and tax as plain decimals."""
    from crmtui.store.line_totals import percent_text
    from crmtui.store.money import plain_decimal

    return {"id": product.id, "name": product.name, "code": product.code, "unit": product.unit,
            "price": plain_decimal(product.price_cents), "currency": product.currency or currency,
            "tax": percent_text(product.tax_bp),
            "cost": None if product.cost_cents is None else plain_decimal(product.cost_cents),
            "description": product.description, "active": product.archived_at is None}


def field_name(name: str) -> str:
    """A field of `products set` as typed (`Price`, `unit price`, `vat`), as FIELDS names it."""
    key = " ".join(name.strip().lower().split())
    key = _ALIASES.get(key, key)
    if key not in FIELDS:
        raise ValidationError(f"products have no field {name.strip()!r} (fields: {', '.join(FIELDS)})", "field")
    return key


def clean_value(field: str, value: str | None) -> Any:
    """The stored value of a product field from what was typed, or ValidationError naming the field.
    `active`: a yes/no, as True/False."""
    text = (value or "").strip()
    if field == "name":
        return require_text(text, "name")
    if field == "code":
        return clean_text(text) and require_text(text, "code", max_len=60)
    if field == "unit":
        return require_text(text, "unit", max_len=30) if text else DEFAULT_UNIT
    if field in ("price", "cost"):
        cents = clean_amount(text, field)
        if cents is None and field == "price":
            raise ValidationError("price: required (0 for no charge)", "price")
        return cents
    if field == "currency":
        return clean_currency(text)
    if field == "tax":
        return parse_percent(text, field="tax") if text else 0
    if field == "description":
        return clean_text(text)
    if text.lower() in _YES:
        return True
    if text.lower() in _NO:
        return False
    raise ValidationError(f"active: {text!r} is not yes or no", "active")


def check_code(session: Session, code: str | None, product_id: int | None) -> None:
    """One live product per code (any case): the schema's unique index, said in words."""
    if code is None:
        return
    taken = session.execute(
        "SELECT id, name FROM product WHERE lower(code) = :code AND deleted_at IS NULL AND id IS NOT :id",
        {"code": code.lower(), "id": product_id}).fetchone()
    if taken is not None:
        raise ValidationError(f"code: {code!r} is already the code of product #{taken['id']} {taken['name']!r}",
                              "code")


def save_product(session: Session, product: Product) -> None:
    try:
        session.add(product)
    except sqlite3.IntegrityError:  # (a code taken since the check, in another case: the index says so)
        raise ValidationError(f"code: {product.code!r} is already another product's code", "code") from None


def add_product(session: Session, name: str, *, price: str, unit: str | None = None, tax: str | None = None,
                cost: str | None = None, code: str | None = None, currency: str | None = None,
                description: str | None = None) -> Product:
    """Add a product to the catalogue, the values as typed (`--price 1200`, `--tax 25%`): checked
    as `products set` checks them. One undo entry (scope "products")."""
    now = clock.utcnow()
    product = Product(name=clean_value("name", name), code=clean_value("code", code),
                      unit=clean_value("unit", unit), price_cents=clean_value("price", price),
                      currency=clean_value("currency", currency), tax_bp=clean_value("tax", tax),
                      cost_cents=clean_value("cost", cost), description=clean_value("description", description),
                      created_at=now, updated_at=now)
    check_code(session, product.code, None)
    save_product(session, product)
    undo.record(session, f"add product {product.name}", [{"op": "trash", "table": "product", "id": product.id}],
                scope=SCOPE)
    return product


def set_product_fields(session: Session, ref: str | int, assignments: Mapping[str, str]) -> tuple[Product, list[str]]:
    """Change fields of a product by name (`price=1500 tax=12 active=no`; `FIELD=` clears one that
    may be empty). Returns the product and the fields that changed; one undo entry when any did."""
    product = require_product(session, ref)
    values = {}
    for name, value in assignments.items():
        field = field_name(name)
        if field in values:
            raise ValidationError(f"{field}: given twice", field)
        values[field] = clean_value(field, value)
    return product, _change(session, product, values, f"edit product {product.name}")


def _change(session: Session, product: Product, values: Mapping[str, Any], label: str) -> list[str]:
    """Write `values` (by field, cleaned) to `product`, with its undo entry; the fields that changed."""
    changed = []
    for field, value in values.items():
        if field == "active":
            if value == (product.archived_at is None):
                continue
            product.archived_at = None if value else clock.utcnow()
        elif getattr(product, FIELDS[field]) != value:
            setattr(product, FIELDS[field], value)
        else:
            continue
        changed.append(field)
    if not changed:
        return []
    if "code" in changed:
        check_code(session, product.code, product.id)
    op = undo.update_op(session, "product", product.id,
                        [FIELDS[f] for f in changed] + ["updated_at"])
    product.updated_at = clock.utcnow()
    save_product(session, product)
    undo.record(session, label, [op], scope=SCOPE)
    return changed


def archive_product(session: Session, ref: str | int) -> Product:
    """Archive a product: no longer offered for new lines, kept for the lines and quotes that name it."""
    product = require_product(session, ref)
    if product.archived_at is not None:
        raise ValidationError(f"product #{product.id} {product.name!r} is already archived "
                              f"(bring it back: crmtui products restore #{product.id})", "active")
    _change(session, product, {"active": False}, f"archive product {product.name}")
    return product


def restore_product(session: Session, ref: str | int) -> Product:
    """Offer an archived product again."""
    product = require_product(session, ref)
    if product.archived_at is None:
        raise ValidationError(f"product #{product.id} {product.name!r} is not archived", "active")
    _change(session, product, {"active": True}, f"restore product {product.name}")
    return product
