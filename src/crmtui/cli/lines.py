"""`crmtui lines`: a deal's line items (what it sells), and the totals its amount follows."""

from __future__ import annotations

from typing import Annotated, Any, Optional

import typer

from crmtui.cli.common import (SALES, CsvOption, DbOption, JsonOption, PlainTable, csv_money, handles_errors,
                               one_format, open_session, out, print_csv, print_json, say, with_default_command)

app = typer.Typer()
lines_app = typer.Typer(
    cls=with_default_command("show"),
    help="A deal's line items and totals: crmtui lines DEAL shows them; add, set, remove change them"
         " (the deal's amount follows them).",
    no_args_is_help=True,
)
app.add_typer(lines_app, name="lines", rich_help_panel=SALES)

DealArg = Annotated[str, typer.Argument(metavar="DEAL", help="The deal's id.")]
LineArg = Annotated[str, typer.Argument(metavar="LINE_ID", help="The line's id (the # column of crmtui lines DEAL).")]


def _deal_now(session: Any, deal_id: int) -> str:  # noqa: ANN401 - a store Session
    """`deal #3 'Site' is now 1,200` for a write's message."""
    from crmtui.store.deals import get_deal
    from crmtui.store.money import format_money

    deal = get_deal(session, deal_id)
    return f"deal #{deal.id} {deal.title!r} amount now {format_money(deal.amount_cents, deal.currency or '')}"


@lines_app.command("show")
@handles_errors
def lines_show(ctx: typer.Context, deal: DealArg, json_out: JsonOption = False, csv_out: CsvOption = False,
               db: DbOption = None) -> None:
    """A deal's lines (# is the line id for set and remove) and the totals under them."""
    from crmtui.store.deals import deal_detail

    one_format(json_out, csv_out)
    with open_session(ctx, db) as s:
        row = deal_detail(s, deal)
    if json_out:
        print_json({key: row[key] for key in ("id", "title", "currency", "amount", "amount_cents", "discount",
                                               "lines", "totals")})
        return
    if csv_out:
        print_csv(["id", "position", "product", "code", "description", "quantity", "unit", "unit_price",
                   "discount", "tax", "net"],
                  ([ln["id"], ln["position"], ln["product"], ln["code"], ln["description"], ln["quantity"], ln["unit"],
                    csv_money(ln["unit_price_cents"]), ln["discount"], ln["tax"], csv_money(ln["net_cents"])]
                   for ln in row["lines"]))
        return
    if not row["lines"]:
        say(f"Deal #{row['id']} {row['title']!r} has no line items; its amount is typed by hand."
             f" Add one: crmtui lines add {row['id']} PRODUCT --qty 2")
        return
    out.print(_lines_table(row))
    out.print(_totals_table(row))


def _lines_table(row: dict[str, Any]) -> PlainTable:
    from crmtui.store.money import format_money

    table = PlainTable(title=f"#{row['id']} {row['title']}", show_edge=False, header_style="bold")
    for name in ("#", "Product / description", "Qty", "Unit", "Price", "Discount", "Tax", "Net"):
        table.add_column(name, justify="left" if name in ("Product / description", "Unit") else "right")
    for ln in row["lines"]:
        what = " — ".join(x for x in (ln["product"], ln["description"]) if x)
        table.add_row(str(ln["id"]), what, ln["quantity"], ln["unit"] or "", format_money(ln["unit_price_cents"]),
                      f"{ln['discount']}%" if ln["discount"] != "0" else "", f"{ln['tax']}%", format_money(ln["net_cents"]))
    return table


def _totals_table(row: dict[str, Any]) -> PlainTable:
    from crmtui.store.money import format_money

    totals = row["totals"]
    money = lambda cents: format_money(cents, row["currency"] or "")  # noqa: E731
    table = PlainTable.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("Subtotal", money(totals["subtotal_cents"]))
    if totals["line_discount_cents"]:
        table.add_row("Line discounts", money(-totals["line_discount_cents"]))
    if row["discount"]:
        table.add_row(f"Deal discount ({row['discount']})", money(-totals["deal_discount_cents"]))
    table.add_row("Net", money(totals["net_cents"]))
    for tax in totals["taxes"]:
        table.add_row(f"Tax {tax['rate']}% on {money(tax['base_cents'])}", money(tax["tax_cents"]))
    table.add_row("Total", money(totals["total_cents"]))
    return table


@lines_app.command("add")
@handles_errors
def lines_add(
    ctx: typer.Context,
    deal: DealArg,
    what: Annotated[str, typer.Argument(metavar="PRODUCT|TEXT", help="A product (#id, code or name), or the text"
                                        " of a line without a product (then give --price).")],
    qty: Annotated[str, typer.Option("--qty", metavar="2", help="Quantity: 2, 1.5, 0.25.")] = "1",
    price: Annotated[Optional[str], typer.Option("--price", metavar="P", help="Price per unit (default: the"
                                                 " product's).")] = None,
    discount: Annotated[Optional[str], typer.Option("--discount", metavar="10", help="Discount on the line,"
                                                    " in %.")] = None,
    tax: Annotated[Optional[str], typer.Option("--tax", metavar="25", help="Tax rate in % (default: the"
                                               " product's, else 0).")] = None,
    description: Annotated[Optional[str], typer.Option("--description", metavar="T", help="The line's"
                                                       " description.")] = None,
    db: DbOption = None,
) -> None:
    """Add a line to a deal; the deal's amount becomes the lines' net total."""
    from crmtui.store.lines import add_line

    with open_session(ctx, db) as s:
        line = add_line(s, deal, what, quantity=qty, price=price, discount=discount, description=description, tax=tax)
        said = _deal_now(s, line.deal_id)
    say(f"Added line #{line.id}; {said}")


@lines_app.command("set")
@handles_errors
def lines_set(
    ctx: typer.Context,
    line_id: LineArg,
    assignments: Annotated[list[str], typer.Argument(metavar="FIELD=VALUE...", help="quantity, price, discount,"
                                                     " description, tax, unit or cost; cost= clears the cost.")],
    db: DbOption = None,
) -> None:
    """Change fields of a line: crmtui lines set 7 quantity=3 discount=10."""
    from crmtui.store.editing import parse_assignments
    from crmtui.store.lines import set_line_fields

    with open_session(ctx, db) as s:
        line = set_line_fields(s, line_id, parse_assignments(assignments))
        said = _deal_now(s, line.deal_id)
    say(f"Changed line #{line.id}; {said}")


@lines_app.command("remove")
@handles_errors
def lines_remove(ctx: typer.Context, line_id: LineArg, db: DbOption = None) -> None:
    """Take a line off its deal (`u` on the deal page brings it back); the last one leaves the amount as it was."""
    from crmtui.store.lines import remove_line

    with open_session(ctx, db) as s:
        line = remove_line(s, line_id)
        said = _deal_now(s, line.deal_id)
    say(f"Removed line #{line.id}; {said}")
