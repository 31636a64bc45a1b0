"""`crmtui quote`, `crmtui quotes` and `crmtui profile`: numbered quotes (PDF, HTML, Markdown)
made from a deal's line items, their status, and the business profile printed on them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from crmtui.cli.common import (SALES, CsvOption, DbOption, JsonOption, PlainTable, csv_money, handles_errors,
                               err, interactive, one_format, open_session, out, print_csv, print_json,
                               say, with_default_command)

app = typer.Typer()
quote_app = typer.Typer(
    cls=with_default_command("make"),
    help="Make a quote: crmtui quote DEAL writes a numbered PDF (or HTML, Markdown) of the deal's line items;"
         " sent, accept and decline change its status.",
    no_args_is_help=True,
)
quotes_app = typer.Typer(help="The quotes made: crmtui quotes list [DEAL].", no_args_is_help=True)
profile_app = typer.Typer(help="The business profile a quote's header and footer show: show, set KEY VALUE.",
                          no_args_is_help=True)
app.add_typer(quote_app, name="quote", rich_help_panel=SALES)
app.add_typer(quotes_app, name="quotes", rich_help_panel=SALES)
app.add_typer(profile_app, name="profile", rich_help_panel=SALES)

QuoteArg = Annotated[str, typer.Argument(metavar="QUOTE_ID", help="The quote's number (Q-2026-0001) or id.")]
NoteOption = Annotated[Optional[str], typer.Option("--note", metavar="TEXT", help="A note for the deal's timeline.")]
_SUFFIX_FORMATS = {".pdf": "pdf", ".html": "html", ".htm": "html", ".md": "md", ".markdown": "md"}


@quote_app.command("make")
@handles_errors
def quote_make(
    ctx: typer.Context,
    deal: Annotated[str, typer.Argument(metavar="DEAL", help="The deal's id.")],
    valid_until: Annotated[Optional[str], typer.Option(
        "--valid-until", metavar="DATE|+30d", help="Last day the quote holds (default: 30 days from today).")] = None,
    template: Annotated[Optional[str], typer.Option(
        "--template", metavar="NAME", help="Your template NAME.html.j2 / NAME.md.j2 in the config folder's"
                                           " templates/ (default: the built-in one).")] = None,
    fmt: Annotated[Optional[str], typer.Option(
        "--format", metavar="pdf|html|md", help="The file's format (default: from -o's suffix, else pdf).")] = None,
    output: Annotated[Optional[Path], typer.Option(
        "-o", "--output", metavar="FILE", help="Where to write it (default: quotes/ beside the database).")] = None,
    db: DbOption = None,
) -> None:
    """Write a numbered quote of a deal's line items, link it on the deal page and note it in its timeline."""
    from crmtui.store.dates import format_date
    from crmtui.store.errors import ValidationError
    from crmtui.store.quotes import FORMATS, make_quote

    chosen = (fmt or "").strip().lower() or (_SUFFIX_FORMATS.get(output.suffix.lower(), "pdf") if output else "pdf")
    if chosen not in FORMATS:
        raise ValidationError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
    with open_session(ctx, db) as s:
        made = make_quote(s, deal, valid_until=valid_until, template=template, fmt=chosen, output=output)
    say(f"Made quote {made.number} for deal #{made.deal_id} {made.deal_title!r}: {made.total},"
         f" valid until {format_date(made.valid_until)}")
    say(f"File: {made.path}")
    if made.missing_profile:
        from crmtui.store.profile import KEYS

        example = {"name": "'Your business'", "address": "'Street 1\\n12345 City'", "email": "you@example.com"}
        first = made.missing_profile[0]
        err.print(f"Note: the business profile has no {', '.join(made.missing_profile)} yet, so the quote does not"
                  f" say who sent it. Set them: crmtui profile set {first} {example.get(first, 'VALUE')}"
                  f" (keys: {', '.join(KEYS)})", markup=False)


def _status(ctx: typer.Context, db: Path | None, quote: str, status: str, note: str | None,
            lost_reason: str | None = None) -> None:
    from crmtui.store.quotes import set_status

    with open_session(ctx, db) as s:
        change = set_status(s, quote, status, note=note, lost_reason=lost_reason)
    more = ""
    if change.stage:
        more = f"; the deal moved to {change.stage!r}"
    elif change.lost:
        more = f"; the deal is lost ({lost_reason.strip()})"  # type: ignore[union-attr]
    say(f"Quote {change.number} {status}{more}. The deal page's undo (u) reverses it.")


@quote_app.command("sent")
@handles_errors
def quote_sent(ctx: typer.Context, quote: QuoteArg, note: NoteOption = None, db: DbOption = None) -> None:
    """Mark a quote sent to the customer."""
    _status(ctx, db, quote, "sent", note)


@quote_app.command("accept")
@handles_errors
def quote_accept(ctx: typer.Context, quote: QuoteArg, note: NoteOption = None, db: DbOption = None) -> None:
    """Mark a quote accepted; the deal moves to the quote-accept-stage setting's stage when its pipeline has it."""
    _status(ctx, db, quote, "accepted", note)


@quote_app.command("decline")
@handles_errors
def quote_decline(
    ctx: typer.Context,
    quote: QuoteArg,
    note: NoteOption = None,
    lost: Annotated[Optional[str], typer.Option("--lost", metavar="REASON",
                                                help="Mark the deal lost too, with this reason.")] = None,
    not_lost: Annotated[bool, typer.Option("--not-lost", help="Keep the deal open (do not ask).")] = False,
    db: DbOption = None,
) -> None:
    """Mark a quote declined; asks whether the deal is lost (--lost REASON or --not-lost in scripts)."""
    from crmtui.store.errors import ValidationError

    if lost is not None and not_lost:
        raise ValidationError("choose one of --lost and --not-lost")
    if lost is not None and not lost.strip():
        raise ValidationError("--lost: give the reason the deal was lost")
    if lost is None and not not_lost and interactive() and typer.confirm("Mark the deal lost?", default=False):
        lost = typer.prompt("Reason")
    _status(ctx, db, quote, "declined", note, lost)


@quotes_app.command("list")
@handles_errors
def quotes_list(
    ctx: typer.Context,
    deal: Annotated[Optional[str], typer.Argument(metavar="[DEAL]", help="Only this deal's quotes.")] = None,
    json_out: JsonOption = False,
    csv_out: CsvOption = False,
    db: DbOption = None,
) -> None:
    """The quotes made, newest first: number, deal, status (expired: past its date, not accepted), total, file."""
    from crmtui.store.quotes import list_quotes

    one_format(json_out, csv_out)
    with open_session(ctx, db) as s:
        rows = list_quotes(s, deal)
    if json_out:
        print_json(rows)
        return
    if csv_out:
        print_csv(["id", "number", "deal_id", "deal", "status", "issued_on", "valid_until", "total", "currency", "path"],
                  ([q["id"], q["number"], q["deal_id"], q["deal"], q["status"], q["issued_on"], q["valid_until"],
                    csv_money(q["total_cents"]), q["currency"], q["path"]] for q in rows))
        return
    if not rows:
        say("No quotes yet. Make one: crmtui quote DEAL (the deal needs line items: crmtui lines add)")
        return
    table = PlainTable(show_edge=False, header_style="bold")
    for name in ("Number", "Deal", "Status", "Issued", "Valid until", "Total", "File"):
        table.add_column(name, justify="right" if name == "Total" else "left")
    for q in rows:
        table.add_row(q["number"], f"#{q['deal_id']} {q['deal']}", q["status"], _text(q["issued_on"]),
                      _text(q["valid_until"]), q["total"], q["path"] or "")
    out.print(table)


def _text(value: Any) -> str:  # noqa: ANN401
    import datetime as dt

    from crmtui.store.dates import format_date

    return format_date(dt.date.fromisoformat(str(value)[:10])) if value else ""


@profile_app.command("show")
@handles_errors
def profile_show(ctx: typer.Context, json_out: JsonOption = False, db: DbOption = None) -> None:
    """The business profile: what a quote's header and footer show, and the keys not set."""
    from crmtui.store.profile import KEYS, get_profile, missing_keys

    with open_session(ctx, db) as s:
        profile = get_profile(s)
    if json_out:
        print_json(profile)
        return
    table = PlainTable(show_edge=False, header_style="bold")
    for name in ("Key", "Value", "What it is"):
        table.add_column(name)
    for key, value in profile.items():
        table.add_row(key, value or "-", KEYS[key])
    out.print(table)
    missing = missing_keys(profile)
    if missing:
        say(f"A quote needs {', '.join(missing)}: crmtui profile set {missing[0]} VALUE")


@profile_app.command("set")
@handles_errors
def profile_set(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(metavar="KEY", help="name, address, vat, email, phone, website, bank,"
                                                           " payment-terms, logo or footer.")],
    value: Annotated[str, typer.Argument(metavar="VALUE", help="The value ('' clears it; \\n breaks a line).")],
    db: DbOption = None,
) -> None:
    """Set a key of the business profile (a logo must be an image file: PNG or JPEG)."""
    from crmtui.store.profile import set_profile

    with open_session(ctx, db) as s:
        key, stored = set_profile(s, key, value)
    say(f"profile {key} = {stored}" if stored else f"profile {key} cleared")
