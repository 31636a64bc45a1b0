"""Records from the shell: `crmtui add`, `deals|companies|contacts list`, `deal show`, `move`,
`won` and `lost` (the trash and erasing for good: cli/trash.py)."""

from __future__ import annotations

import json
from typing import Annotated, Any, Optional

import typer
from rich.markup import escape

from crmtui.cli.common import (DAILY, RECORDS, CsvOption, DbOption, JsonOption, PlainTable, csv_money, err,
                               handles_errors, interactive, one_format, open_db, open_session, out, print_csv,
                               print_json, print_paged, record_table)

app = typer.Typer()
add_app = typer.Typer(help="Add a deal, company or contact.", no_args_is_help=True)
deals_app = typer.Typer(help="List deals.", no_args_is_help=True)
companies_app = typer.Typer(help="List companies.", no_args_is_help=True)
contacts_app = typer.Typer(help="List contacts.", no_args_is_help=True)
deal_app = typer.Typer(help="Show one deal, or set its discount.", no_args_is_help=True)
app.add_typer(add_app, name="add", rich_help_panel=RECORDS)
app.add_typer(deals_app, name="deals", rich_help_panel=RECORDS)
app.add_typer(deal_app, name="deal", rich_help_panel=RECORDS)
app.add_typer(companies_app, name="companies", rich_help_panel=RECORDS)
app.add_typer(contacts_app, name="contacts", rich_help_panel=RECORDS)


# --- add ---------------------------------------------------------------------------------------


@add_app.command("deal")
@handles_errors
def add_deal(
    ctx: typer.Context,
    title: Annotated[str, typer.Argument(help="What is being sold, e.g. 'Website relaunch'.")],
    company: Annotated[Optional[str], typer.Option(help="Company name (created if new) or #id.")] = None,
    contact: Annotated[Optional[str], typer.Option(help="Contact name or email (created if new) or #id.")] = None,
    amount: Annotated[Optional[str], typer.Option(help="Amount, e.g. 12500 or 12,500.00.")] = None,
    stage: Annotated[Optional[str], typer.Option(help="Stage name (default: the first open stage).")] = None,
    pipeline: Annotated[Optional[str], typer.Option(help="Pipeline name (default: the default pipeline).")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="A tag (the service sold); repeat for more.")] = None,
    source: Annotated[Optional[str], typer.Option(help="Where the lead came from.")] = None,
    close_date: Annotated[Optional[str], typer.Option("--close-date", help="Expected close date.")] = None,
    confidence: Annotated[Optional[int], typer.Option(help="Your confidence, 1-5 stars.")] = None,
    follow_up: Annotated[
        Optional[bool],
        typer.Option("--follow-up/--no-follow-up", help="Add the 'Follow up' task (default: the follow-up rule)."),
    ] = None,
    fields: Annotated[Optional[list[str]], typer.Option(
        "--field", help="A custom field: 'Name=value' (repeat); required fields are asked for in a terminal.")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Add a deal."""
    from crmtui.store.board_actions import new_deal_fields
    from crmtui.store.custom_fields import write_custom_values
    from crmtui.store.deals import create_deal, deal_detail

    database = open_db(ctx, db)
    try:
        with database.session(write=False) as s:  # (asking a person holds no write lock)
            typed = _custom_typed(s, fields or [])
        with database.session() as s:
            values = new_deal_fields(s, typed)
            deal = create_deal(
                s, title, company=company, contact=contact, amount=amount, stage=stage, pipeline=pipeline,
                tags=tag, source=source, expected_close=close_date, confidence=confidence, follow_up=follow_up,
            )
            write_custom_values(s, deal.id, values)
            row = deal_detail(s, deal.id)
    finally:
        database.close()
    if json_out:
        print_json(row)
    else:
        out.print(escape(f"Added deal #{row['id']} {row['title']!r} in {row['stage']}" + _amount_suffix(row)))


def _custom_typed(session: Any, assignments: list[str]) -> dict[str, str]:  # noqa: ANN401 - a store Session
    """A new deal's `--field` values by form name (`cf_7`), with the required fields that were
    not given asked for at a terminal; in a script a missing one is an error saying how to give it."""
    from crmtui.store.board_actions import required_fields
    from crmtui.store.custom_fields import CUSTOM_PREFIX, find_field
    from crmtui.store.editing import parse_assignments
    from crmtui.store.errors import ValidationError

    typed = {f"{CUSTOM_PREFIX}{find_field(session, 'deal', name)['id']}": value
             for name, value in parse_assignments(assignments).items()}
    missing = [f for f in required_fields(session) if not typed.get(f"{CUSTOM_PREFIX}{f['id']}", "").strip()]
    if missing and not interactive():
        names = ", ".join(f["name"] for f in missing)
        raise ValidationError(f"{names}: required for a new deal; give {'it' if len(missing) == 1 else 'each'} with "
                              f"--field '{missing[0]['name']}=VALUE'", missing[0]["name"])
    for field in missing:
        options = f" ({', '.join(field['choices'])})" if field["choices"] else ""
        typed[f"{CUSTOM_PREFIX}{field['id']}"] = typer.prompt(f"{field['name']}{options}", err=True)
    return typed


def _amount_suffix(row: dict[str, Any]) -> str:
    from crmtui.store.money import format_money

    return f", {format_money(row['amount_cents'])}" if row["amount_cents"] else ""


@add_app.command("company")
@handles_errors
def add_company(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Company name.")],
    domain: Annotated[Optional[str], typer.Option(help="Web domain, e.g. acme.com.")] = None,
    website: Annotated[Optional[str], typer.Option(help="Website URL.")] = None,
    email: Annotated[Optional[str], typer.Option(help="General email address.")] = None,
    phone: Annotated[Optional[str], typer.Option(help="Phone number.")] = None,
    source: Annotated[Optional[str], typer.Option(help="Where the customer came from.")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="A tag; repeat for more.")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Add a company."""
    from crmtui.store.companies import create_company
    from crmtui.store.listing import company_rows

    with open_session(ctx, db) as s:
        company = create_company(
            s, name, domain=domain, website=website, email=email, phone=phone, source=source, tags=tag
        )
        (row,) = company_rows(s, company_id=company.id)
    if json_out:
        print_json(row)
    else:
        out.print(escape(f"Added company #{row['id']} {row['name']!r}" + (f" ({row['domain']})" if row["domain"] else "")))


@add_app.command("contact")
@handles_errors
def add_contact(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The person's name.")],
    email: Annotated[Optional[str], typer.Option(help="Email address.")] = None,
    phone: Annotated[Optional[str], typer.Option(help="Phone number.")] = None,
    title: Annotated[Optional[str], typer.Option(help="Job title.")] = None,
    company: Annotated[Optional[str], typer.Option(help="Company name (created if new) or #id.")] = None,
    tag: Annotated[Optional[list[str]], typer.Option("--tag", help="A tag; repeat for more.")] = None,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Add a contact."""
    from crmtui.store.contacts import create_contact
    from crmtui.store.listing import contact_rows

    with open_session(ctx, db) as s:
        contact = create_contact(s, name, email=email, phone=phone, title=title, company=company, tags=tag)
        (row,) = contact_rows(s, contact_id=contact.id)
    if json_out:
        print_json(row)
    else:
        out.print(escape(f"Added contact #{row['id']} {row['name']!r}" + (f" at {row['company']}" if row["company"] else "")))


# --- lists -------------------------------------------------------------------------------------


@deals_app.command("list")
@handles_errors
def deals_list(
    ctx: typer.Context,
    stage: Annotated[Optional[str], typer.Option(help="Only deals in this stage.")] = None,
    tag: Annotated[Optional[str], typer.Option(help="Only deals with this tag.")] = None,
    pipeline: Annotated[Optional[str], typer.Option(help="Only deals in this pipeline.")] = None,
    open_: Annotated[bool, typer.Option("--open", help="Only open deals.")] = False,
    won: Annotated[bool, typer.Option("--won", help="Only won deals.")] = False,
    lost: Annotated[bool, typer.Option("--lost", help="Only lost deals.")] = False,
    limit: Annotated[Optional[int], typer.Option(help="At most this many (newest first).", min=1)] = None,
    json_out: JsonOption = False,
    csv_out: CsvOption = False,
    db: DbOption = None,
) -> None:
    """List deals, newest first."""
    from crmtui.store.deals import deal_rows
    from crmtui.store.errors import ValidationError
    from crmtui.store.money import format_money

    one_format(json_out, csv_out)
    chosen = [name for name, on in (("open", open_), ("won", won), ("lost", lost)) if on]
    if len(chosen) > 1:
        raise ValidationError("choose one of --open, --won and --lost")
    with open_session(ctx, db) as s:
        rows = deal_rows(s, stage=stage, tag=tag, pipeline=pipeline, status=chosen[0] if chosen else None, limit=limit)
    if json_out:
        print_json(rows)
        return
    if csv_out:
        print_csv(["id", "title", "customer", "stage", "amount", "close", "tags"],
                  ([r["id"], r["title"], r["company"] or r["contact"], r["stage"], csv_money(r["amount_cents"]),
                    r["closed_on"] or r["expected_close"], r["tags"]] for r in rows))
        return
    if not rows:
        err.print("No deals match. Add one with [bold]crmtui add deal TITLE[/], or try [bold]crmtui demo[/].")
        return
    print_paged(ctx, record_table(
        [("ID", "figure"), ("Title", "text"), ("Customer", "text"), ("Stage", "text"), ("Amount", "figure"),
         ("Close", "fixed"), ("Tags", "text")],
        [[str(r["id"]), r["title"], r["company"] or r["contact"] or "", r["stage"], format_money(r["amount_cents"]),
          str(r["closed_on"] or r["expected_close"] or ""), ", ".join(r["tags"])] for r in rows],
        main="Title"))


@companies_app.command("list")
@handles_errors
def companies_list(
    ctx: typer.Context,
    tag: Annotated[Optional[str], typer.Option(help="Only companies with this tag.")] = None,
    search: Annotated[Optional[str], typer.Option(help="Name or domain contains this.")] = None,
    limit: Annotated[Optional[int], typer.Option(help="At most this many.", min=1)] = None,
    json_out: JsonOption = False,
    csv_out: CsvOption = False,
    db: DbOption = None,
) -> None:
    """List companies by name."""
    from crmtui.store.listing import company_rows
    from crmtui.store.money import format_money

    one_format(json_out, csv_out)
    with open_session(ctx, db) as s:
        rows = company_rows(s, tag=tag, search=search, limit=limit)
    if json_out:
        print_json(rows)
        return
    if csv_out:
        print_csv(["id", "name", "domain", "open_deals", "won", "tags"],
                  ([r["id"], r["name"], r["domain"], r["open_deals"], csv_money(r["won_cents"]), r["tags"]]
                   for r in rows))
        return
    if not rows:
        err.print("No companies match. Add one with [bold]crmtui add company NAME[/].")
        return
    print_paged(ctx, record_table(
        [("ID", "figure"), ("Name", "text"), ("Domain", "text"), ("Open deals", "figure"), ("Won", "figure"),
         ("Tags", "text")],
        [[str(r["id"]), r["name"], r["domain"] or "", str(r["open_deals"]), format_money(r["won_cents"]),
          ", ".join(r["tags"])] for r in rows],
        main="Name"))


@contacts_app.command("list")
@handles_errors
def contacts_list(
    ctx: typer.Context,
    tag: Annotated[Optional[str], typer.Option(help="Only contacts with this tag.")] = None,
    company: Annotated[Optional[str], typer.Option(help="Only contacts of this company (name or #id).")] = None,
    search: Annotated[Optional[str], typer.Option(help="Name or email contains this.")] = None,
    limit: Annotated[Optional[int], typer.Option(help="At most this many.", min=1)] = None,
    json_out: JsonOption = False,
    csv_out: CsvOption = False,
    db: DbOption = None,
) -> None:
    """List contacts by name."""
    from crmtui.store.listing import contact_rows

    one_format(json_out, csv_out)
    with open_session(ctx, db) as s:
        rows = contact_rows(s, tag=tag, company=company, search=search, limit=limit)
    if json_out:
        print_json(rows)
        return
    if csv_out:
        print_csv(["id", "name", "email", "company", "title", "tags"],
                  ([r["id"], r["name"], r["email"], r["company"], r["title"], r["tags"]] for r in rows))
        return
    if not rows:
        err.print("No contacts match. Add one with [bold]crmtui add contact NAME[/].")
        return
    print_paged(ctx, record_table(
        [("ID", "figure"), ("Name", "text"), ("Email", "text"), ("Company", "text"), ("Title", "text"),
         ("Tags", "text")],
        [[str(r["id"]), r["name"], r["email"] or "", r["company"] or "", r["title"] or "", ", ".join(r["tags"])]
         for r in rows],
        main="Name"))


# --- one deal ----------------------------------------------------------------------------------


@deal_app.command("show")
@handles_errors
def deal_show(
    ctx: typer.Context,
    deal_id: Annotated[str, typer.Argument(metavar="ID", help="The deal's id.")],
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Show a deal, its customer and its stage history."""
    from crmtui.store.custom_fields import custom_rows, custom_text
    from crmtui.store.deals import deal_detail
    from crmtui.store.money import format_money

    with open_session(ctx, db) as s:
        row = deal_detail(s, deal_id)
        custom = [] if json_out else custom_rows(s, "deal", row["id"])
    if json_out:
        print_json(row)
        return
    table = PlainTable.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    fields = [
        ("Deal", f"#{row['id']} {row['title']}"),
        ("Customer", row["company"] or row["contact"] or "—"),
        ("Contact", " ".join(x for x in (row["contact"], f"<{row['contact_email']}>" if row["contact_email"] else "") if x) or "—"),
        ("Stage", f"{row['stage']} ({row['pipeline']}, {row['probability']}%)"),
        ("Amount", format_money(row["amount_cents"], row["currency"] or "")),
        ("Cost", format_money(row["cost_cents"]) if row["cost_cents"] is not None else "—"),
        ("Profit", format_money(row["amount_cents"] - row["cost_cents"]) if row["cost_cents"] is not None else "—"),
        ("Confidence", "★" * row["confidence"] if row["confidence"] else "—"),
        ("Expected close", str(row["expected_close"] or "—")),
        ("Closed", str(row["closed_on"] or "—")),
        ("Lost reason", row["lost_reason"] or "—"),
        ("Source", row["source"] or "—"),
        ("Tags", ", ".join(row["tags"]) or "—"),
        ("Proposal", row["proposal_url"] or "—"),
    ]
    if row["lines"]:  # the amount above is their net: say so, and where they are listed
        total = format_money(row["totals"]["total_cents"], row["currency"] or "")
        fields.insert(5, ("Line items", f"{len(row['lines'])}, {total} with tax (crmtui lines {row['id']})"))
    fields += [(field["name"], custom_text(field, stored)) for field, stored in custom]  # as the deal page shows them
    for k, v in fields:
        table.add_row(k, v)
    out.print(table)
    out.print()
    out.print("[bold]Stage history[/]")
    for h in row["stage_history"]:
        out.print(f"  {h['at'][:10]}  {(h['from'] or 'created') + ' → ' if h['from'] else 'created in '}{h['to']}", markup=False)


@deal_app.command("discount")
@handles_errors
def deal_discount(
    ctx: typer.Context,
    deal_id: Annotated[str, typer.Argument(metavar="ID", help="The deal's id.")],
    discount: Annotated[str, typer.Argument(metavar="5%|500", help="A percentage of the lines' net (5%), an"
                                            " amount (500), or 0 / none to clear it.")],
    db: DbOption = None,
) -> None:
    """A discount on the whole deal, shared across its lines' tax rates; its amount follows."""
    from crmtui.store.lines import discount_text, has_lines, set_deal_discount
    from crmtui.store.money import format_money

    with open_session(ctx, db) as s:
        deal = set_deal_discount(s, deal_id, discount)
        lines = has_lines(s, deal.id)
    what = discount_text(deal.discount_bp, deal.discount_cents)
    amount = format_money(deal.amount_cents, deal.currency or "")
    tail = f"amount now {amount}" if lines else f"no line items yet, so the amount stays {amount}"
    out.print(f"Deal #{deal.id} {deal.title!r}: {'discount ' + what if what else 'no discount'}; {tail}",
              markup=False)


@app.command(rich_help_panel=DAILY)
@handles_errors
def move(
    ctx: typer.Context,
    deal_id: Annotated[str, typer.Argument(metavar="ID", help="The deal's id.")],
    stage: Annotated[str, typer.Argument(help="The stage to move to (name, or 1-based position).")],
    db: DbOption = None,
) -> None:
    """Move a deal to another stage of its pipeline."""
    from crmtui.store.deals import move_deal

    with open_session(ctx, db) as s:
        result = move_deal(s, deal_id, stage)
        added = _added_tasks(s, result.added_tasks)
    if result.changed:
        out.print(f"Moved deal #{result.deal.id} from {result.from_stage.name} to {result.to_stage.name}", markup=False)
    else:
        out.print(f"Deal #{result.deal.id} is already in {result.to_stage.name}", markup=False)
    _say_added(added)


@app.command(rich_help_panel=DAILY)
@handles_errors
def won(
    ctx: typer.Context,
    deal_id: Annotated[str, typer.Argument(metavar="ID", help="The deal's id.")],
    db: DbOption = None,
) -> None:
    """Mark a deal as won (closed today)."""
    from crmtui.store.deals import mark_won

    with open_session(ctx, db) as s:
        result = mark_won(s, deal_id)
        added = _added_tasks(s, result.added_tasks)
    verb = "Marked" if result.changed else "Already"
    out.print(f"{verb} deal #{result.deal.id} won ({result.to_stage.name})", markup=False)
    _say_added(added)


@app.command(rich_help_panel=DAILY)
@handles_errors
def lost(
    ctx: typer.Context,
    deal_id: Annotated[str, typer.Argument(metavar="ID", help="The deal's id.")],
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why it was lost, e.g. 'Price too high'.")],
    db: DbOption = None,
) -> None:
    """Mark a deal as lost, with a reason (closed today)."""
    from crmtui.store.deals import mark_lost

    with open_session(ctx, db) as s:
        result = mark_lost(s, deal_id, reason)
        added = _added_tasks(s, result.added_tasks)
    out.print(f"Marked deal #{result.deal.id} lost ({result.deal.lost_reason})", markup=False)
    _say_added(added)


def _added_tasks(session: Any, ids: list[int]) -> list[tuple[str, str]]:  # noqa: ANN401
    """(text, due day) of the tasks a move added from the stage's playbook."""
    if not ids:
        return []
    return [(r[0], r[1]) for r in session.execute(
        "SELECT body, due_on FROM activity WHERE id IN (SELECT value FROM json_each(:ids)) ORDER BY id",
        {"ids": json.dumps(ids)})]


def _say_added(added: list[tuple[str, str]]) -> None:
    for body, due in added:
        out.print(f"  + task “{body}” due {due} (the stage's playbook)", markup=False)
