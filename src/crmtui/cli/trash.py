"""The trash and erasing for good: `crmtui trash list|restore|empty` and `crmtui purge`. Record ids:
`D12` a deal, `C7` a company, `P31` a contact (person), `A88` an activity or task, `F3` a custom
field (see store/trash.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from crmtui.cli.common import (RECORDS, CsvOption, DbOption, JsonOption, PlainTable, err, handles_errors, interactive,
                               one_format, open_db, open_session, out, print_csv, print_json)

if TYPE_CHECKING:
    from crmtui.store.erasure import Purge

app = typer.Typer()
trash_app = typer.Typer(help="What was deleted: list it, bring it back, or empty the trash.", no_args_is_help=True)
app.add_typer(trash_app, name="trash", rich_help_panel=RECORDS)

def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _listed(parts: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


@trash_app.command("list")
@handles_errors
def trash_list_cmd(
    ctx: typer.Context,
    json_out: JsonOption = False,
    csv_out: CsvOption = False,
    db: DbOption = None,
) -> None:
    """What is in the trash, newest first. IDs: D deal, C company, P contact, A activity/task, F custom field."""
    from crmtui.store.trash import trash_list

    one_format(json_out, csv_out)
    with open_session(ctx, db) as s:
        rows = trash_list(s)
    if json_out:
        print_json(rows)
        return
    if csv_out:
        print_csv(["id", "kind", "what", "deleted"],
                  ([r["ref"], r["kind"], r["label"], r["deleted_at"]] for r in rows))
        return
    if not rows:
        err.print("The trash is empty.")
        return
    table = PlainTable(show_edge=False, header_style="bold")
    for name in ("ID", "Kind", "What", "Deleted"):
        table.add_column(name, overflow="fold" if name == "What" else "ellipsis")
    for r in rows:
        table.add_row(r["ref"], r["kind"], r["label"], r["deleted_at"][:16].replace("T", " "))
    out.print(table)


@trash_app.command("restore")
@handles_errors
def trash_restore_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="ID", help="As `crmtui trash list` shows: D12, C7, P31, A88, F3.")],
    db: DbOption = None,
) -> None:
    """Bring a deal, company, contact, activity or custom field (with its values) back from the trash."""
    from crmtui.store.trash import parse_ref, restore

    parsed = parse_ref(ref)
    with open_session(ctx, db) as s:
        done, label = restore(s, parsed)
    out.print(f"Restored {done.kind} {done} {label!r}", markup=False)


def _days(value: str) -> int:
    """`30d` or `30` as days; a ValidationError naming the option otherwise."""
    from crmtui.store.errors import ValidationError

    match = re.fullmatch(r"\s*(\d{1,5})\s*d?\s*", value, re.IGNORECASE)
    if not match:
        raise ValidationError(f"--older-than: {value!r} is not a number of days (like 30d, or 0d for everything)",
                              "older_than")
    return int(match[1])


def _ago(days: int) -> str:
    """How long ago what is emptied was deleted ("" for all of it)."""
    return f" deleted more than {_count(days, 'day', 'days')} ago" if days else ""


@trash_app.command("empty")
@handles_errors
def trash_empty_cmd(
    ctx: typer.Context,
    older_than: Annotated[Optional[str], typer.Option(
        "--older-than", metavar="DAYS", help="Erase what was deleted more than this long ago, e.g. 30d; 0d: all of it"
                                             " (default: the trash-days setting, all of it when that is 0).")] = None,
    yes: Annotated[bool, typer.Option(
        "--yes", "-y", help="Do not ask first (it only asks in a terminal, never in a script or a pipe).")] = False,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Erase for good what has been in the trash a while, after a backup.

    With each record goes what belongs to it: a deal's activities and stage
    history, a contact's or company's own notes and tasks. Deals and contacts
    that refer to an erased company or contact stay, no longer linked to it."""
    from crmtui.store.erasure import counts_text, empty_trash, expired_counts
    from crmtui.store.settings import read_settings

    days = _days(older_than) if older_than is not None else None
    database = open_db(ctx, db)
    try:
        if days is None:
            days = read_settings(database)["trash-days"]
        if not yes and interactive():
            counts = expired_counts(database, days)
            if any(counts.values()):
                err.print(f"The trash holds {counts_text(counts)}{_ago(days)}. Emptying it erases them for good,"
                          " with their activities and history (a backup is taken first).", markup=False)
                if not typer.confirm("Empty the trash?", default=False, err=True):
                    err.print("The trash was not emptied.")
                    raise typer.Exit(1)
        emptied = empty_trash(database, days)
    finally:
        database.close()
    if json_out:
        print_json({"older_than_days": days, "emptied": emptied.counts, "erased": emptied.erased,
                    "backup": str(emptied.backup) if emptied.backup else None})
        return
    if emptied.backup is None:
        out.print(f"Nothing in the trash was{_ago(days)}; nothing was erased." if days else
                  "The trash is empty; nothing was erased.", markup=False)
        return
    out.print(f"Emptied the trash: erased {counts_text(emptied.counts)}{_ago(days)}, for good.", markup=False)
    out.print(f"A backup from before is at {emptied.backup}", markup=False)


# --- purge -------------------------------------------------------------------------------------


def _purge_text(plan: Purge, folder: Path) -> str:
    """What a purge erases and what it keeps, in a few sentences."""
    e = plan.erased
    on_deals = f" ({e['activity_on_deals']:,} of them on deals that stay)" if e["activity_on_deals"] else ""
    goes = [_count(e["activity"], "activity", "activities") + on_deals] if e["activity"] else []
    goes += [_count(e[key], one, many) for key, one, many in (
        ("stage_change", "stage change", "stage changes"), ("deal_link", "file link", "file links"),
        ("deal_line", "line item", "line items"), ("quote", "quote", "quotes"),
        ("quote_customer", "quote's customer block that names it", "quotes' customer blocks that name it"),
        ("tag_link", "tag link", "tag links"), ("custom_value", "custom field value", "custom field values"),
        ("history", "undo or import history entry that names it", "undo and import history entries that name it"))
        if e[key]]
    text = f"Erase for good: {plan.label}" + (f", with {_listed(goes)}" if goes else "") + "."
    staying = [(e[key], one, many) for key, one, many in (
        ("unlinked_deal", "deal", "deals"), ("unlinked_contact", "contact", "contacts"),
        ("unlinked_activity", "activity of other records", "activities of other records")) if e[key]]
    if staying:
        verb = "stays" if len(staying) == 1 and staying[0][0] == 1 else "stay"
        text += f" {_listed([_count(*s) for s in staying])} {verb}, no longer linked to it."
    if plan.backups:
        held = "The backup" if plan.backups == 1 else f"The {plan.backups:,} backups"
        text += (f" {held} in {folder} keep{'s its' if plan.backups == 1 else ' their'} copy: backups are not"
                 " rewritten (they go as the backup-keep setting prunes them; delete them to be sure).")
    return text + " This cannot be undone."


@app.command("purge", rich_help_panel=RECORDS)
@handles_errors
def purge_cmd(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(metavar="ID", help="The deal, company or contact: D12, C7 or P31.")],
    yes: Annotated[bool, typer.Option(
        "--yes", "-y", help="Erase without asking; required when not run in a terminal.")] = False,
    db: DbOption = None,
) -> None:
    """Erase a contact, company or deal for good (for a person who asks to be forgotten).

    Now, in the trash or not: the record with its activities, links, tags,
    custom values and finder entries; then the file is compacted, so nothing
    of it is left in the database. A company's deals and contacts stay, no
    longer linked to it. Backups are not rewritten."""
    from crmtui.store import backups
    from crmtui.store.erasure import purge, purge_preview
    from crmtui.store.errors import ValidationError
    from crmtui.store.trash import parse_ref

    record = parse_ref(ref, allowed=("deal", "company", "contact"))
    # No day's backup first: it would copy what is about to be erased into a new file.
    database = open_db(ctx, db, create=False, daily_backup=False)
    try:
        backups.refuse_if_open(database.path, "purge")  # (before asking; `purge` checks again)
        plan = purge_preview(database, record.kind, record.id)
        folder = backups.folder(database.path)
        if not yes:
            err.print(_purge_text(plan, folder), markup=False)
            if not interactive():
                raise ValidationError("purge erases for good: run it in a terminal to be asked, or add --yes;"
                                      " nothing was erased", "yes")
            if not typer.confirm(f"Erase {record} for good?", default=False, err=True):
                err.print("Nothing was erased.")
                raise typer.Exit(1)
        done = purge(database, record.kind, record.id)
    finally:
        database.close()
    out.print(f"Erased {done.label} for good, and compacted the database file.", markup=False)
    if not done.log_cleared:
        err.print(f"Warning: another program has the database open: until it closes, its write-ahead log"
                  f" ({database.path}-wal) may still hold what was erased", markup=False)
