"""`crmtui products`: the catalogue of what is sold (list, add, set, archive, restore)."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from crmtui.cli.common import (SALES, CsvOption, DbOption, JsonOption, PlainTable, csv_money, handles_errors,
                               one_format, open_session, out, print_csv, print_json, say)

app = typer.Typer()
products_app = typer.Typer(help="The catalogue of what you sell: list, add, set, archive, restore.",
                           no_args_is_help=True)
app.add_typer(products_app, name="products", rich_help_panel=SALES)

RefArgument = Annotated[str, typer.Argument(metavar="REF", help="The product: #id, code or name (any case).")]


@products_app.command("list")
@handles_errors
def products_list(
    ctx: typer.Context,
    include_archived: Annotated[bool, typer.Option("--all", help="Archived products too.")] = False,
    json_out: JsonOption = False, csv_out: CsvOption = False, db: DbOption = None,
) -> None:
    """The catalogue by name: code, unit, price, tax rate and cost of each product."""
    from crmtui.store.line_totals import percent_text
    from crmtui.store.money import format_money
    from crmtui.store.products import default_currency, list_products, product_json

    one_format(json_out, csv_out)
    with open_session(ctx, db) as s:
        products = list_products(s, include_archived=include_archived)
        currency = default_currency(s)
    if json_out:
        print_json([product_json(p, currency) for p in products])
        return
    if csv_out:
        print_csv(["id", "name", "code", "unit", "price", "currency", "tax", "cost", "description", "active"],
                  ([p.id, p.name, p.code, p.unit, csv_money(p.price_cents), p.currency or currency,
                    percent_text(p.tax_bp), csv_money(p.cost_cents), p.description, p.archived_at is None]
                   for p in products))
        return
    if not products:
        say("No products yet. Add one: crmtui products add 'Consulting day' --price 1200 --unit day")
        return
    table = PlainTable(show_edge=False, header_style="bold")
    for name in ("ID", "Name", "Code", "Unit", "Price", "Tax", "Cost") + (("Active",) if include_archived else ()):
        table.add_column(name, justify="right" if name in ("ID", "Price", "Tax", "Cost") else "left")
    for p in products:
        row = [f"#{p.id}", p.name, p.code or "", p.unit, format_money(p.price_cents, p.currency or currency),
               f"{percent_text(p.tax_bp)} %", format_money(p.cost_cents, p.currency or currency)]
        table.add_row(*row, *(("yes" if p.archived_at is None else "archived",) if include_archived else ()))
    out.print(table)


@products_app.command("add")
@handles_errors
def products_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="What it is called, e.g. 'Consulting day'.")],
    price: Annotated[str, typer.Option("--price", metavar="P", help="Unit price, e.g. 1200 or 1 200,50.")],
    unit: Annotated[Optional[str], typer.Option(
        "--unit", metavar="U", help="hour, day, piece, month, ... (default: piece).")] = None,
    tax: Annotated[Optional[str], typer.Option("--tax", metavar="25", help="Tax rate in %, e.g. 25 or 12.5.")] = None,
    cost: Annotated[Optional[str], typer.Option("--cost", metavar="C", help="What a unit costs you (for profit).")
                    ] = None,
    code: Annotated[Optional[str], typer.Option("--code", metavar="X", help="A short code or SKU, unique.")] = None,
    currency: Annotated[Optional[str], typer.Option(
        "--currency", metavar="EUR", help="Its currency (default: the database's).")] = None,
    description: Annotated[Optional[str], typer.Option("--description", help="A line for quotes.")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Add a product to the catalogue."""
    from crmtui.store.products import add_product, default_currency

    with open_session(ctx, db) as s:
        product = add_product(s, name, price=price, unit=unit, tax=tax, cost=cost, code=code, currency=currency,
                              description=description)
        shown = _shown(product, default_currency(s))
    if json_out:
        print_json(shown["json"])
    else:
        say(f"Added product #{product.id} {product.name!r}: {shown['price']} per {product.unit}")


def _shown(product: Any, currency: str) -> dict[str, Any]:  # noqa: ANN401 - a store Product
    from crmtui.store.money import format_money
    from crmtui.store.products import product_json

    return {"json": product_json(product, currency),
            "price": format_money(product.price_cents, product.currency or currency)}


@products_app.command("set")
@handles_errors
def products_set(
    ctx: typer.Context,
    ref: RefArgument,
    assignments: Annotated[list[str], typer.Argument(
        metavar="FIELD=VALUE...",
        help="name, code, unit, price, currency, tax, cost, description, active (yes/no); FIELD= clears.")],
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Change fields of a product, e.g. price=1500 tax=12 'description=Half a day on site'."""
    from crmtui.store.editing import parse_assignments
    from crmtui.store.products import default_currency, set_product_fields

    values = parse_assignments(assignments)
    with open_session(ctx, db) as s:
        product, changed = set_product_fields(s, ref, values)
        shown = _shown(product, default_currency(s))
    if json_out:
        print_json(shown["json"])
    elif changed:
        say(f"Updated product #{product.id} {product.name!r}: {', '.join(changed)}")
    else:
        say(f"Nothing to change on product #{product.id} {product.name!r}")


@products_app.command("archive")
@handles_errors
def products_archive(ctx: typer.Context, ref: RefArgument, db: DbOption = None) -> None:
    """Archive a product: no longer offered for new lines; the lines and quotes that name it keep it."""
    from crmtui.store.products import archive_product

    with open_session(ctx, db) as s:
        product = archive_product(s, ref)
    say(f"Archived product #{product.id} {product.name!r} (bring it back: crmtui products restore #{product.id})")


@products_app.command("restore")
@handles_errors
def products_restore(ctx: typer.Context, ref: RefArgument, db: DbOption = None) -> None:
    """Offer an archived product again."""
    from crmtui.store.products import restore_product

    with open_session(ctx, db) as s:
        product = restore_product(s, ref)
    say(f"Restored product #{product.id} {product.name!r}")
