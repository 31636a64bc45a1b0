"""`crmtui report`: the dashboard's figures from the shell, as tables, JSON, CSV or Markdown."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Optional

import typer

from crmtui.cli.common import REPORTS, DbOption, PlainTable, handles_errors, open_session, out, print_csv, print_json

app = typer.Typer()

_EIGHTHS = " ▏▎▍▌▋▊▉█"


def bar_text(value: int | float, maximum: int | float, width: int) -> str:
    """A horizontal bar of `width` cells at most, in eighths of a cell."""
    if maximum <= 0 or value <= 0 or width <= 0:
        return ""
    eighths = max(1, round(value / maximum * width * 8))
    full, rest = divmod(eighths, 8)
    return "█" * full + (_EIGHTHS[rest] if rest else "")


def percent(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:.0f}%"


def _money(cents: int | None) -> str:
    from crmtui.store.money import format_money

    return "—" if cents is None else format_money(cents)


@app.command(rich_help_panel=REPORTS)
@handles_errors
def report(
    ctx: typer.Context,
    period: Annotated[
        Optional[str],
        typer.Option("--period", "-p", help="month, quarter, 12m, ytd or all (default: 12m).", show_default=False),
    ] = None,
    date_from: Annotated[Optional[str], typer.Option("--from", help="First day of a custom period.")] = None,
    date_to: Annotated[Optional[str], typer.Option("--to", help="Last day of a custom period.")] = None,
    pipeline: Annotated[Optional[str], typer.Option(help="Only this pipeline (default: all).")] = None,
    tag: Annotated[Optional[str], typer.Option(help="Only deals with this tag.")] = None,
    by: Annotated[
        Optional[list[str]],
        typer.Option("--by", help="Also break deals down by a choice, multichoice, yes/no or lookup deal field"
                     " (deals, won value, win rate per value); give it again for another field.", show_default=False),
    ] = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON for scripts (amounts in currency units).")] = False,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print Markdown to paste into a note.")] = False,
    csv_out: Annotated[bool, typer.Option(
        "--csv", help="Print every figure as a CSV row: section, row, column, value (as --json has them).")] = False,
    activities: Annotated[
        bool,
        typer.Option("--activities", help="The sales activity report instead: work logged per week or month,"
                     " work per stage on deals won and lost, deals touched and left untouched."),
    ] = False,
    db: DbOption = None,
) -> None:
    """The dashboard's figures: stat cards, per month, sales by product, breakdowns, funnel and forecast.

    `--by FIELD` adds "sales by type", "by customer size": a breakdown by a custom deal field.
    `--activities` shows how much selling work was done, and what it led to."""
    from crmtui.store.errors import ValidationError
    from crmtui.store.reports import full_report, make_filter, report_json
    from crmtui.store.reports_products import sales_by_product

    if json_out + markdown + csv_out > 1:
        raise ValidationError("choose one of --json, --markdown and --csv")
    if activities and by:
        raise ValidationError("--by breaks down the sales report: leave it out with --activities", "by")
    filt = make_filter(period, date_from=date_from, date_to=date_to, pipeline=pipeline, tag=tag)
    if activities:
        from crmtui.store.reports_activity import activity_report

        with open_session(ctx, db) as s:
            rep = activity_report(s, filt)
        if json_out:
            print_json(rep)
        elif csv_out:
            print_csv(["section", "row", "column", "value"], figure_rows(rep))
        elif markdown:
            typer.echo(render_activity_markdown(rep))
        else:
            print_activity_tables(rep)
        return
    with open_session(ctx, db) as s:
        rep = full_report(s, filt, by=by or ())
        rep["sales_by_product"] = sales_by_product(s, filt)
    if json_out:
        print_json(report_json(rep))
    elif csv_out:
        print_csv(["section", "row", "column", "value"], figure_rows(report_json(rep)))
    elif markdown:
        typer.echo(render_markdown(rep))
    else:
        print_tables(rep)


def figure_rows(data: dict[str, Any], section: str = "") -> Iterator[tuple[Any, ...]]:
    """A report's JSON as long-format rows (section, row, column, value), which a spreadsheet's
    pivot table or a script reads whatever the report holds: a list's items are rows named by
    their first text field (month, tag, stage, ...), a nested object is a section of its own."""
    for key, value in data.items():
        name = f"{section}.{key}" if section else key
        if isinstance(value, dict):
            yield from figure_rows(value, name)
        elif isinstance(value, list):
            for item in value:
                if not isinstance(item, dict):
                    yield name, "", "", item
                    continue
                label_key = next((k for k, v in item.items() if isinstance(v, str)), None)
                label = item[label_key] if label_key else ""
                for column, cell in item.items():
                    if isinstance(cell, (dict, list)):
                        yield from figure_rows({column: cell}, f"{name}[{label}]")
                    elif column != label_key:
                        yield name, label, column, cell
        else:
            yield section, "", key, value


# --- plain figures, shared by the table and Markdown renderings ---------------------------------------


def _scope_line(rep: dict[str, Any]) -> str:
    f = rep["filter"]
    span = ""
    if f["from"] or f["to"]:
        span = f" ({f['from'] or '…'} to {f['to'] or '…'})"
    parts = [f"{f['label']}{span}", f"pipeline {f['pipeline']}" if f["pipeline"] else "all pipelines"]
    if f["tag"]:
        parts.append(f"tag {f['tag']}")
    if rep["currency"]:
        parts.append(f"amounts in {rep['currency']}")
    return " · ".join(parts)


def card_rows(rep: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, value) for each stat card."""
    c = rep["cards"]
    cycle = "—" if c["average_cycle_days"] is None else f"{c['average_cycle_days']:g} days"
    return [
        ("Open pipeline", _money(c["open_pipeline_cents"])),
        ("Weighted forecast", _money(c["weighted_forecast_cents"])),
        ("Won this month", f"{_money(c['won_this_month_cents'])} ({c['won_this_month_deals']:,})"),
        ("Won this quarter", f"{_money(c['won_this_quarter_cents'])} ({c['won_this_quarter_deals']:,})"),
        ("Win rate", f"{percent(c['win_rate'])} ({c['won_deals']:,} won, {c['lost_deals']:,} lost)"),
        ("Average won deal", _money(c["average_won_cents"])),
        ("Average sales cycle", cycle),
        ("Open deals", f"{c['open_deals']:,}"),
        ("No next step", f"{c['no_next_step']:,}"),
        ("Aging in stage", f"{c['aging']:,}"),
    ]


PRODUCTS_TITLE = "Sales by product (won deals' lines, before deal discounts)"
# What a section with no rows says, when not "nothing in this period".
EMPTY_SECTIONS = {PRODUCTS_TITLE: "no won deals with line items in this period"}


def _month_name(key: str | None) -> str:
    from crmtui.store.reports import month_label

    return "No close date" if key is None else month_label(key)


def _sections(rep: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(title, headers, rows, justify per column as 'l'/'r') for every table after the cards."""
    sections = []
    months = rep["months"]
    sections.append((
        "Per month",
        ["Month", "Pipeline generated", "New deals", "Sales", "Won", "Lost deals"],
        [[_month_name(m["month"]), _money(m["created_cents"]), f"{m['created_deals']:,}", _money(m["won_cents"]),
          f"{m['won_deals']:,}", f"{m['lost_deals']:,}"] for m in months],
        "lrrrrr",
    ))
    sections.append((
        PRODUCTS_TITLE,
        ["Product", "Quantity", "Unit", "Net", "Deals"],
        [[r["product"] or "(no description)", r["quantity"], r["unit"], _money(r["net_cents"]), f"{r['deals']:,}"]
         for r in rep.get("sales_by_product", [])],
        "lrlrr",
    ))
    sections.append((
        "Sales and pipeline by tag",
        ["Tag", "Sales", "Won", "Pipeline generated", "Created", "Open pipeline", "Open"],
        [[t["tag"], _money(t["won_cents"]), f"{t['won_deals']:,}", _money(t["created_cents"]),
          f"{t['created_deals']:,}", _money(t["open_cents"]), f"{t['open_deals']:,}"] for t in rep["by_tag"]],
        "lrrrrrr",
    ))
    multi = len({r["pipeline"] for r in rep["by_stage"]}) > 1
    sections.append((
        "Deals and value by stage (open now; closed in the period)",
        ["Stage", "Kind", "Deals", "Value", "Weighted"],
        [[(f"{r['pipeline']}: " if multi else "") + r["stage"], r["kind"], f"{r['deals']:,}", _money(r["amount_cents"]),
          _money(r["weighted_cents"]) if r["kind"] == "open" else ""] for r in rep["by_stage"]],
        "llrrr",
    ))
    sections.append((
        "Lead sources",
        ["Source", "Deals", "Won", "Won value", "Lost", "Win rate"],
        [[r["source"] or "(none)", f"{r['deals']:,}", f"{r['won_deals']:,}", _money(r["won_cents"]),
          f"{r['lost_deals']:,}", percent(r["win_rate"])] for r in rep["sources"]],
        "lrrrrr",
    ))
    sections.append((
        "Lost reasons",
        ["Reason", "Deals", "Value", "Share"],
        [[r["reason"] or "(none)", f"{r['deals']:,}", _money(r["amount_cents"]), percent(r["share"])]
         for r in rep["lost_reasons"]],
        "lrrr",
    ))
    f = rep["funnel"]
    sections.append((
        f"Funnel: {f['pipeline']}, {f['deals']:,} deals created in the period",
        ["Stage", "Reached", "To next stage"],
        [[s["stage"], f"{s['reached']:,}", percent(s["conversion"]) if s["conversion"] is not None else ""]
         for s in f["stages"]],
        "lrr",
    ))
    fc = rep["forecast"]
    sections.append((
        f"Forecast by expected close month (open deals; {fc['overdue_deals']:,} overdue, {_money(fc['overdue_cents'])})",
        ["Close month", "Deals", "Amount", "Weighted", "Overdue"],
        [[_month_name(m["month"]), f"{m['deals']:,}", _money(m["amount_cents"]), _money(m["weighted_cents"]),
          f"{m['overdue_deals']:,}" if m["overdue_deals"] else ""] for m in fc["months"]],
        "lrrrr",
    ))
    for breakdown in rep.get("by_field", []):  # last: what `--by` asked for ends the report
        sections.append((
            f"By {breakdown['field']} (deals created; won and lost in the period)",
            [breakdown["field"], "Deals", "Won", "Won value", "Lost", "Win rate"],
            [[r["value"] or "(none)", f"{r['deals']:,}", f"{r['won_deals']:,}", _money(r["won_cents"]),
              f"{r['lost_deals']:,}", percent(r["win_rate"])] for r in breakdown["rows"]],
            "lrrrrr",
        ))
    return sections


# --- renderings ---------------------------------------------------------------------------------------


BAR_WIDTH = 16
BAR_MIN_WIDTH = 4


def print_tables(rep: dict[str, Any]) -> None:
    """Rich tables; the month, tag, stage, funnel and forecast tables carry a bar per row.

    A figure is never cut: its column is at least as wide as its longest value, and a header too
    long for that wraps. The bars take the room the figures leave, up to BAR_WIDTH cells, and are
    left out when that is less than BAR_MIN_WIDTH (an 80-column terminal)."""
    from rich.markup import escape

    out.print(f"[bold]crmtui report[/] · {escape(_scope_line(rep))}")
    out.print()
    cards = PlainTable.grid(padding=(0, 2))
    cards.add_column(style="bold")
    cards.add_column(justify="right")
    cards.add_column(style="bold")
    cards.add_column(justify="right")
    rows = card_rows(rep)
    half = (len(rows) + 1) // 2
    for left, right in zip(rows[:half], rows[half:] + [("", "")]):
        cards.add_row(*left, *right)
    out.print(cards)
    bar_values = _bar_values(rep)
    for index, section in enumerate(_sections(rep)):
        _print_section(*section, bar_values.get(index))


def _print_section(title: str, headers: list[str], body: list[list[str]], justify: str,
                   values: list[int] | None) -> None:
    """One table after a blank line, with a bar per row for `values` when there is room."""
    from rich.measure import Measurement

    out.print()
    if not body:
        out.print(f"[bold]{title}[/]\n  [dim]{EMPTY_SECTIONS.get(title, 'nothing in this period')}[/]")
        return
    bars: list[str] | None = None
    if values:
        natural = Measurement.get(out, out.options, _section_table(title, headers, body, justify)).maximum
        width = min(BAR_WIDTH, out.width - natural - 3)  # 3: the column rule and its padding
        if width >= BAR_MIN_WIDTH:
            top = max(values, default=0)
            bars = [bar_text(v, top, width) for v in values]
    out.print(_section_table(title, headers, body, justify, bars))


def _section_table(title: str, headers: list[str], body: list[list[str]], justify: str,
                   bars: list[str] | None = None) -> PlainTable:
    table = PlainTable(title=title, title_justify="left", title_style="bold", show_edge=False, header_style="bold")
    for k, (name, j) in enumerate(zip(headers, justify)):
        if j == "r":  # a figure: never cut; its header wraps instead
            table.add_column(name, justify="right", min_width=max((len(row[k]) for row in body), default=1))
        else:  # a name: cut with an ellipsis when the terminal is too narrow for it
            table.add_column(name, no_wrap=True, overflow="ellipsis")
    if bars is not None:
        table.add_column("", no_wrap=True, style="cyan")
    for i, row in enumerate(body):
        table.add_row(*row, *([bars[i]] if bars is not None else []))
    return table


def _bar_values(rep: dict[str, Any]) -> dict[int, list[int]]:
    """What the bars of the section at each index show (see `_sections` order)."""
    return {
        0: [m["won_cents"] for m in rep["months"]],
        1: [r["net_cents"] for r in rep.get("sales_by_product", [])],
        2: [t["won_cents"] for t in rep["by_tag"]],
        3: [r["amount_cents"] for r in rep["by_stage"]],
        6: [s["reached"] for s in rep["funnel"]["stages"]],
        7: [m["weighted_cents"] for m in rep["forecast"]["months"]],
        **{8 + i: [r["won_cents"] for r in b["rows"]] for i, b in enumerate(rep.get("by_field", []))},
    }


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|") or " "


def render_markdown(rep: dict[str, Any]) -> str:
    lines = [f"## Sales report: {_scope_line(rep)}", "", "| Figure | Value |", "| --- | ---: |"]
    lines += [f"| {_md_cell(k)} | {_md_cell(v)} |" for k, v in card_rows(rep)]
    for title, headers, body, justify in _sections(rep):
        lines += ["", f"### {title}", ""]
        if not body:
            lines.append(EMPTY_SECTIONS.get(title, "nothing in this period").capitalize() + ".")
            continue
        lines.append("| " + " | ".join(headers) + " |")
        lines.append("| " + " | ".join("---:" if j == "r" else "---" for j in justify) + " |")
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in body]
    return "\n".join(lines)


# --- the sales activity report (`--activities`) ----------------------------------------------------


def _per_deal(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def _activity_scope_line(rep: dict[str, Any]) -> str:
    return _scope_line({**rep, "currency": ""}) + f" · per {rep['bucket']}"


def activity_sections(rep: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]], str]]:
    """(title, headers, rows, justify) of the activity report's tables."""
    from crmtui.store.reports_activity import bucket_label

    unit = "Week of" if rep["bucket"] == "week" else "Month"
    counts = ("notes", "calls", "emails", "meetings", "logged", "tasks_done", "tasks_overdue")
    t = rep["totals"]
    buckets = [[bucket_label(b), *(f"{b[k]:,}" for k in counts)] for b in rep["buckets"]]
    if buckets:
        buckets.append(["Total", *(f"{t[k]:,}" for k in counts)])
    o = rep["outcomes"]
    multi = len({r["pipeline"] for r in rep["by_stage"]}) > 1
    stages = [[(f"{r['pipeline']}: " if multi else "") + r["stage"], f"{r['won']:,}", _per_deal(r["won_per_deal"]),
               f"{r['lost']:,}", _per_deal(r["lost_per_deal"])] for r in rep["by_stage"]]
    if o["won_deals"] or o["lost_deals"]:
        stages.append(["All stages", f"{o['won_activities']:,}", _per_deal(o["won_per_deal"]),
                       f"{o['lost_activities']:,}", _per_deal(o["lost_per_deal"])])
    d = rep["deals"]
    return [
        (f"Activity per {rep['bucket']}",
         [unit, "Notes", "Calls", "Emails", "Meetings", "Logged", "Tasks done", "Tasks overdue"], buckets, "lrrrrrrr"),
        (f"Work per stage on the deals closed in the period ({o['won_deals']:,} won, {o['lost_deals']:,} lost)",
         ["Stage", "On won deals", "Per won deal", "On lost deals", "Per lost deal"],
         stages if o["won_deals"] or o["lost_deals"] else [], "lrrrr"),
        ("Deals",
         ["", "Deals"],
         [["Touched in the period", f"{d['touched']:,}"], ["Open now", f"{d['open']:,}"],
          ["Open and left untouched", f"{d['open_untouched']:,}"]], "lr"),
    ]


def print_activity_tables(rep: dict[str, Any]) -> None:
    """The activity report as tables: a bar per bucket (activities logged) and per stage (work on
    won deals), drawn as `print_tables` draws them."""
    from rich.markup import escape

    out.print(f"[bold]crmtui report --activities[/] · {escape(_activity_scope_line(rep))}")
    sections = activity_sections(rep)
    bars = {0: [b["logged"] for b in rep["buckets"]] + [0], 1: [r["won"] for r in rep["by_stage"]] + [0]}
    for index, section in enumerate(sections):
        values = bars.get(index)
        _print_section(*section, values[:len(section[2])] if values and section[2] else None)


def render_activity_markdown(rep: dict[str, Any]) -> str:
    lines = [f"## Sales activity: {_activity_scope_line(rep)}"]
    for title, headers, body, justify in activity_sections(rep):
        lines += ["", f"### {title}", ""]
        if not body:
            lines.append("Nothing in this period.")
            continue
        lines.append("| " + " | ".join(_md_cell(h) for h in headers) + " |")
        lines.append("| " + " | ".join("---:" if j == "r" else "---" for j in justify) + " |")
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in body]
    return "\n".join(lines)
