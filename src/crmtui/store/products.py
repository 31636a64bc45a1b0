"""The product catalogue: what the consultant sells, at what price, tax rate and cost.

A product is referred to as `#12` (its id), by its code, or by its name (any case). Archived
products stay findable by reference (old lines and quotes name them) but are not offered in lists
and finders.
"""

from __future__ import annotations

from typing import Any

from crmtui.store.errors import NotFound
from crmtui.store.models import Product
from crmtui.store.sql import Session


def get_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None or product.deleted_at is not None:
        raise NotFound(f"no product with id {product_id}")
    return product


def find_product(session: Session, ref: str | int) -> Product | None:
    """A product by `#id`, code or name (case-insensitive), archived or not; None when none."""
    text = " ".join(str(ref).split())
    if text.startswith("#") and text[1:].isdigit():
        product = session.get(Product, int(text[1:]))
        return product if product is not None and product.deleted_at is None else None
    for column in ("code", "name"):
        found = session.find(Product, f"lower({column}) = ? AND deleted_at IS NULL", [text.lower()],
                             order="archived_at IS NOT NULL, id")
        if found:
            return found[0]
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
