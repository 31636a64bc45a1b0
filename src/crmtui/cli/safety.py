"""Keeping the database safe: `crmtui backup`, `crmtui backups list`, `crmtui restore` and
`crmtui doctor`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from crmtui.cli.common import (SAFETY, CsvOption, DbOption, JsonOption, db_path, handles_errors, one_format, open_db,
                               out, print_csv, print_json, record_table)

app = typer.Typer()
backups_app = typer.Typer(help="The backups of the database (in backups/ beside it).", no_args_is_help=True)
app.add_typer(backups_app, name="backups", rich_help_panel=SAFETY)


def _path(ctx: typer.Context, db: Path | None) -> Path:
    return db_path(ctx, db).expanduser().absolute()


def _size(n: float) -> str:
    for unit in ("bytes", "KB", "MB"):
        if n < 1000:
            return f"{n:,.0f} {unit}"
        n /= 1000
    return f"{n:,.1f} GB"


def _deals(n: int | None) -> str:
    return "unreadable" if n is None else f"{n:,} deal{'s' if n != 1 else ''}"


@app.command("backup", rich_help_panel=SAFETY)
@handles_errors
def backup(
    ctx: typer.Context,
    output: Annotated[Optional[Path], typer.Option(
        "--output", "-o", metavar="FILE", help="Write it to FILE (a new file, or a folder) instead of backups/"
                                               " beside the database; such a copy is never pruned.")] = None,
    db: DbOption = None,
) -> None:
    """Back the database up now: a consistent copy, even while the app is open."""
    from crmtui.store import backups

    database = open_db(ctx, db, create=False, daily_backup=False)
    database.close()
    if output is not None:
        written = backups.backup_to(database.path, output.expanduser(), database.busy_timeout)
    else:
        written = backups.take_backup(database.path, "manual", busy_timeout=database.busy_timeout)
    out.print(f"Backed up {database.path.name} ({_deals(backups.deal_count(written))},"
              f" {_size(written.stat().st_size)}) to {written}", markup=False)


@backups_app.command("list")
@handles_errors
def backups_list(ctx: typer.Context, json_out: JsonOption = False, csv_out: CsvOption = False,
                 db: DbOption = None) -> None:
    """The backups of the database, newest first: when, why, size and deals."""
    from crmtui.store import backups

    one_format(json_out, csv_out)
    path = _path(ctx, db)
    rows = [{"taken_at": backups.local_time(b.taken_at).isoformat(timespec="seconds"), "reason": b.why,
             "size": b.path.stat().st_size, "deals": backups.deal_count(b.path), "path": str(b.path)}
            for b in backups.list_backups(path)]
    if json_out:
        print_json(rows)
        return
    if csv_out:  # the size in bytes, the file with its folder
        print_csv(["taken", "why", "size", "deals", "file"],
                  ([r["taken_at"], r["reason"], r["size"], r["deals"], r["path"]] for r in rows))
        return
    if not rows:
        out.print(f"No backups of {path} yet (they go to {backups.folder(path)}).", markup=False)
        return
    columns = [("Taken", "fixed"), ("Why", "text"), ("Size", "figure"), ("Deals", "figure"), ("File", "text")]
    table = [[r["taken_at"][:16].replace("T", " "), r["reason"], _size(r["size"]),
              "?" if r["deals"] is None else f"{r['deals']:,}", Path(r["path"]).name] for r in rows]
    out.print(record_table(columns, table, main="File"))
    out.print(f"In {backups.folder(path)}; restore one with crmtui restore FILE (or latest).", markup=False)


@app.command("restore", rich_help_panel=SAFETY)
@handles_errors
def restore(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(metavar="FILE|latest", help="A backup file (crmtui backups list), or"
                                                                      " latest for the newest one.")],
    db: DbOption = None,
) -> None:
    """Put the database back as a backup has it (the current one is backed up first).

    The file must be a crmtui database that passes SQLite's integrity check; an older schema is brought up to date.
    Refused while another program has the database open."""
    from crmtui.store import backups
    from crmtui.store.errors import DatabaseError

    path = _path(ctx, db)
    if source == "latest":
        found = backups.list_backups(path)
        if not found:
            raise DatabaseError(f"{path}: no backups yet in {backups.folder(path)}")
        file = found[0].path
    else:
        file = Path(source)
    done = backups.restore(path, file)
    upgraded = f", upgraded from schema {done.upgraded_from}" if done.upgraded_from else ""
    out.print(f"Restored {path} from {done.source} ({_deals(done.deals)}{upgraded}).", markup=False)
    if done.previous:
        out.print(f"The database as it was is backed up at {done.previous}", markup=False)


@app.command("doctor", rich_help_panel=SAFETY)
@handles_errors
def doctor(
    ctx: typer.Context,
    repair: Annotated[bool, typer.Option("--repair", help="Rebuild what is derived, after a backup.")] = False,
    json_out: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Check the database for damage and for what is out of step; --repair puts it right.

    Checks integrity, foreign keys, the finder's index, the follow-up columns (last touch, open tasks, next due),
    the journal mode, file permissions and the age of the last backup.
    Prints each problem and exits 1 when there is one; --repair rebuilds what is derived, after a backup."""
    from crmtui.store import doctor as checks

    database = open_db(ctx, db, create=False)
    try:
        findings = checks.examine(database)
        repaired = checks.repair(database, findings) if repair else []
        left = checks.examine(database) if repaired else findings
    finally:
        database.close()
    if json_out:
        print_json({"database": str(database.path), "findings": [f.to_json() for f in findings],
                    **({"repaired": repaired, "remaining": [f.to_json() for f in left]} if repair else {})})
    else:
        _say_findings(database.path, findings, repaired, left, repair)
    if left:
        raise typer.Exit(1)


def _say_findings(path: Path, findings: list[Any], repaired: list[str], left: list[Any], repair: bool) -> None:
    from crmtui.store.doctor import CHECKS

    if not findings:
        out.print(f"{path}: no problems ({', '.join(CHECKS)} checked).", markup=False)
        return
    out.print(f"{path}: {len(findings)} problem{'s' if len(findings) > 1 else ''}", markup=False)
    for f in findings:
        out.print(f"  {f.check}: {f.problem}", markup=False)
    if repaired:
        out.print("Repaired:", markup=False)
        for line in repaired:
            out.print(f"  {line}", markup=False)
        if left:
            out.print("Still:", markup=False)
            for f in left:
                out.print(f"  {f.check}: {f.problem}", markup=False)
        else:
            out.print("No problems left.", markup=False)
    elif repair:
        out.print("Nothing to repair: doctor rebuilds what is derived from the records, and these are not.",
                  markup=False)
    elif any(f.repairable for f in findings):
        out.print("crmtui doctor --repair rebuilds what is derived, after a backup.", markup=False)
