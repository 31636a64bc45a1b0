"""The dashboard: stat cards, per-month bars, breakdowns, funnel and forecast, read at a glance.

The figures come from `store.reports` in a worker thread (the screen never waits on SQL), and
reload when the filter changes, when the screen comes back, and when another connection commits
(a cheap `PRAGMA data_version` on a connection of our own). Choosing a card, a bar or a row opens
the deals behind it. `g` turns the lead sources table into a breakdown by a custom deal field
(choice, multichoice, yes/no, lookup) and on through each such field, then back.

The sales activity section (`store.reports_activity`) loads in a worker of its own once the
other figures are shown, so its scan of the activity table never delays them. Choosing one of
its cells or rows lists the activities behind it (or, for deals touched, the deals).
"""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import Any

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Header, Input, Label, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from crmtui.store.errors import CrmError
from crmtui.store.money import format_money, format_money_short
from crmtui.store.reports import (
    Drill,
    ReportFilter,
    breakdown_fields,
    filter_choices,
    full_report,
    make_filter,
    month_label,
)
from crmtui.store.reports_activity import (
    ActivityDrill,
    activity_drill_count,
    activity_drill_page,
    activity_report,
    bucket_label,
)
from crmtui.store.reports_products import product_drill, sales_by_product
from crmtui.widgets.charts import Bar, BarChart
from crmtui.widgets.fit_table import Amount, Col, FitTable, Row
from crmtui.widgets.footer import AppFooter
from crmtui.widgets.stat_card import StatCard

# How often the screen asks SQLite whether anything changed (seconds).
CHANGE_CHECK_INTERVAL = 2.0
# Below this width, two columns of charts and tables instead of four and three.
NARROW_WIDTH = 110

# (card id, label, its short form for narrow terminals, the deals behind it)
CARDS = [
    ("open-pipeline", "Open pipeline", "Open value", Drill("open")),
    ("weighted", "Weighted value", "Weighted", Drill("open")),
    ("won-month", "Won this month", "Won month", Drill("won_month")),
    ("won-quarter", "Won this quarter", "Won quarter", Drill("won_quarter")),
    ("win-rate", "Win rate", "Win rate", Drill("closed_period")),
    ("average-won", "Avg won deal", "Avg won", Drill("won_period")),
    ("cycle", "Avg sales cycle", "Avg cycle", Drill("won_period")),
    ("open-deals", "Open deals", "Open deals", Drill("open")),
    ("no-next-step", "No next step", "No next step", Drill("no_next_step")),
    ("aging", "Aging deals", "Aging deals", Drill("aging")),
]
# (chart id, title, money?, month field, drill figure)
CHARTS = [
    ("chart-generated", "Pipeline generated", True, "created_cents", "created"),
    ("chart-sales", "Sales (won)", True, "won_cents", "won"),
    ("chart-new", "New deals", False, "created_deals", "created"),
    ("chart-lost", "Deals lost", False, "lost_deals", "lost"),
]
# (table id, title, column names: a name, then its figures)
TABLES = [
    ("table-products", "Sales by product", ("Product", "Qty", "Unit", "Net", "Deals")),
    ("table-tags", "Sales & pipeline by tag", ("Tag", "Won", "New", "Open")),
    ("table-stages", "Deals by stage", ("Stage", "Deals", "Value")),
    ("table-sources", "Lead sources", ("Source", "Deals", "Won", "Win")),
    ("table-field", "By field", ("Field", "Deals", "Won", "Win")),  # in place of sources, by `g`
    ("table-lost", "Lost reasons", ("Reason", "Deals", "Value")),
    ("table-funnel", "Funnel", ("Stage", "Reached", "→ next")),
    ("table-forecast", "Forecast by close month", ("Close", "Deals", "Amount", "Weighted")),
]
# The sales activity section: per bucket, a column per figure (what choosing a cell in it lists).
ACTIVITY_COLUMNS = (("Week", "all"), ("Notes", "note"), ("Calls", "call"), ("Emails", "email"),
                    ("Meetings", "meeting"), ("Done", "tasks_done"), ("Overdue", "tasks_overdue"))
ACTIVITY_COUNTS = ("notes", "calls", "emails", "meetings", "tasks_done", "tasks_overdue")


def _pct(ratio: float | None) -> str:
    return "—" if ratio is None else f"{ratio * 100:.0f}%"


def _is_empty(report: dict[str, Any]) -> bool:
    months = report["months"]
    return not report["cards"]["open_deals"] and not any(
        m["created_deals"] or m["won_deals"] or m["lost_deals"] for m in months)


def _deals(n: int) -> str:
    return f"{n:,} deal" if n == 1 else f"{n:,} deals"


def _right(text: str, style: str = "") -> Text:
    return Text(text, justify="right", style=style)


class BreakdownTable(FitTable):
    """A breakdown table: one click on a row chooses it (DataTable needs two: highlight, select).
    The figures (compact amounts, counts, rates) always show whole; the names give way."""

    def __init__(self, columns: tuple[str, ...], **kwargs: Any) -> None:  # noqa: ANN401
        name, *figures = columns
        super().__init__([Col(name, "0", shrink_to=8), *(Col(f, str(n)) for n, f in enumerate(figures, 1))],
                         fill=True, **kwargs)

    def on_click(self, event: events.Click) -> None:
        row = event.style.meta.get("row")
        if isinstance(row, int) and row >= 0 and "column" in event.style.meta:
            event.prevent_default()  # not DataTable's own click handling as well
            event.stop()
            self.focus()
            self.move_cursor(row=row)
            self.action_select_cursor()


class ActivityTable(BreakdownTable):
    """The activity per week or month: a cell cursor, since each column is a figure of its own."""

    def on_click(self, event: events.Click) -> None:
        row, column = event.style.meta.get("row"), event.style.meta.get("column")
        if isinstance(row, int) and row >= 0 and isinstance(column, int):
            event.prevent_default()
            event.stop()
            self.focus()
            self.move_cursor(row=row, column=column)
            self.action_select_cursor()


class DashboardScreen(Screen[None]):
    """Every figure of `store.reports.full_report` for the chosen period, pipeline and tag."""

    CSS_PATH = "dashboard.tcss"
    BINDINGS = [
        Binding("p", "next_period", "Period", id="dashboard.period"),
        Binding("f", "custom_period", "From–to", id="dashboard.from_to"),
        Binding("l", "next_pipeline", "Pipeline", id="dashboard.pipeline"),
        Binding("t", "pick_tag", "Tag", id="dashboard.tag"),
        Binding("g", "next_breakdown", "By field", show=False,
                tooltip="Lead sources, or deals by a choice, yes/no or lookup field (each in turn)",
                id="dashboard.by_field"),
        Binding("r", "reload", "Refresh", id="dashboard.refresh"),
        Binding("escape", "back", "Back", id="dashboard.back"),
    ]

    def __init__(self, filt: ReportFilter | None = None) -> None:
        super().__init__()
        self.filt = filt or ReportFilter()
        self.by_field: str | None = None  # the field the sources table breaks deals down by
        self.report: dict[str, Any] | None = None
        self.activity: dict[str, Any] | None = None  # the sales activity section's figures
        self.row_drills: dict[str, dict[str, Drill]] = {}
        self._watch_conn: sqlite3.Connection | None = None
        self._data_version: int | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="dash-filters", classes="screen-title")
        with VerticalScroll(id="dash-body"):
            with Grid(id="dash-cards"):
                for card_id, label, short_label, drill in CARDS:
                    yield StatCard(label, short_label=short_label, drill=drill, id=card_id)
            with Grid(id="dash-charts"):
                for chart_id, title, money, _field, _figure in CHARTS:
                    yield BarChart(title, money=money, id=chart_id)
            with Grid(id="dash-tables"):
                for table_id, title, columns in TABLES:
                    table = BreakdownTable(columns, id=table_id, cursor_type="row", zebra_stripes=True,
                                           classes="dash-table")
                    table.border_title = title
                    yield table
            with Grid(id="dash-activity"):
                buckets = ActivityTable(tuple(name for name, _figure in ACTIVITY_COLUMNS), id="activity-buckets",
                                        cursor_type="cell", zebra_stripes=True, classes="dash-table")
                buckets.border_title = "Sales activity"
                yield buckets
                stages = BreakdownTable(("Stage", "Won", "Lost"), id="activity-stages", cursor_type="row",
                                        zebra_stripes=True, classes="dash-table")
                stages.border_title = "Work per stage"
                yield stages
                reach = BreakdownTable(("Deals", "Count"), id="activity-deals", cursor_type="row",
                                       zebra_stripes=True, classes="dash-table")
                reach.border_title = "Deals touched"
                yield reach
        yield AppFooter()

    def on_mount(self) -> None:
        self.title = "Dashboard"
        self._show_breakdown()
        self._set_width_class(self.size.width)
        self._show_filters(loading=True)
        self.query_one("#dash-body").loading = True
        self.watch(self.app, "privacy", lambda _on: self._render_report(), init=False)
        try:
            self._watch_conn = self.app.database.raw()
            self._data_version = self._read_data_version()
        except sqlite3.Error:
            self._watch_conn = None
        self.set_interval(CHANGE_CHECK_INTERVAL, self._check_for_changes)
        self.load_figures()

    def on_unmount(self) -> None:
        if self._watch_conn is not None:
            self._watch_conn.close()
            self._watch_conn = None

    def on_resize(self, event: Any) -> None:
        self._set_width_class(event.size.width)

    def _set_width_class(self, width: int) -> None:
        narrow = width < NARROW_WIDTH
        self.set_class(narrow, "-narrow")
        for card in self.query(StatCard):
            card.set_class(narrow, "-compact")

    # --- loading -----------------------------------------------------------------------------

    def _read_data_version(self) -> int | None:
        if self._watch_conn is None:
            return None
        return self._watch_conn.execute("PRAGMA data_version").fetchone()[0]

    def _check_for_changes(self) -> None:
        """Reload when another connection has committed since the figures were read."""
        if not self.is_current:
            return
        try:
            version = self._read_data_version()
        except sqlite3.Error:
            return
        if version is not None and version != self._data_version:
            self._data_version = version
            self.load_figures()

    def on_screen_resume(self) -> None:
        if self.report is not None:
            self._check_for_changes()

    def action_reload(self) -> None:
        self.load_figures()

    def load_figures(self) -> None:
        self._show_filters(loading=True)
        self.query_one("#dash-activity").loading = True
        self._load(self.filt, self.by_field)

    @work(thread=True, exclusive=True, group="dashboard-activity")
    def _load_activity(self, filt: ReportFilter) -> None:
        worker = get_current_worker()
        try:
            with self.app.database.session(write=False) as session:
                activity = activity_report(session, filt)
        except CrmError as exc:
            if not worker.is_cancelled:
                self.app.call_from_thread(self.notify, exc.message, severity="error", timeout=6)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._activity_loaded, filt, activity)

    def _activity_loaded(self, filt: ReportFilter, activity: dict[str, Any]) -> None:
        if filt != self.filt:
            return
        self.activity = activity
        self.query_one("#dash-activity").loading = False
        self._render_activity()

    @work(thread=True, exclusive=True, group="dashboard-figures")
    def _load(self, filt: ReportFilter, by_field: str | None) -> None:
        worker = get_current_worker()
        try:
            with self.app.database.session(write=False) as session:  # (writers in other shells go on)
                report = full_report(session, filt, by=[by_field] if by_field else ())
                report["sales_by_product"] = sales_by_product(session, filt)
                report["breakdown_fields"] = [f["name"] for f in breakdown_fields(session)]
        except CrmError as exc:
            if not worker.is_cancelled:
                self.app.call_from_thread(self._failed, filt, exc.message)
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._loaded, filt, by_field, report)

    def _loaded(self, filt: ReportFilter, by_field: str | None, report: dict[str, Any]) -> None:
        if filt != self.filt or by_field != self.by_field:  # older figures arriving late
            return
        self.report = report
        self.query_one("#dash-body").loading = False
        self._render_report()
        self._load_activity(filt)  # after the first figures: it never holds them up

    def _failed(self, filt: ReportFilter, message: str) -> None:
        self.query_one("#dash-body").loading = False
        self.notify(message, severity="error", timeout=6)
        if self.by_field:  # a field deleted meanwhile: back to lead sources
            self.by_field = None
            self._show_breakdown()
            self.load_figures()
        elif filt.tag or filt.pipeline:  # a tag or pipeline that is gone: drop it and carry on
            self.filt = ReportFilter(period=filt.period, start=filt.start, end=filt.end)
            self.load_figures()
        else:
            self._show_filters()
            self.query_one("#dash-activity").loading = False

    # --- filters -----------------------------------------------------------------------------

    def _show_filters(self, *, loading: bool = False) -> None:
        f = self.filt
        text = Text()
        text.append("Period ", style="dim")
        text.append(f.label(), style="bold")
        if self.report is not None and f.period not in ("all", "custom"):
            rf = self.report["filter"]
            text.append(f" ({rf['from']} – {rf['to']})", style="dim")
        text.append("   Pipeline ", style="dim")
        text.append(str(f.pipeline) if f.pipeline else "all", style="bold")
        text.append("   Tag ", style="dim")
        text.append(f.tag or "all", style="bold")
        if loading:
            text.append("   updating…", style="italic")
        elif self.report is not None and _is_empty(self.report):
            # On a line of its own: at 80 columns the filters fill the first.
            text.append("\nNothing to count here yet: no deals in this period and none open.", style="italic")
        self.query_one("#dash-filters", Static).update(text)

    def _set_filter(self, filt: ReportFilter) -> None:
        self.filt = filt
        self.load_figures()

    def action_next_period(self) -> None:
        self._set_filter(self.filt.next_period())

    def action_next_pipeline(self) -> None:
        with self.app.database.session() as session:
            names = filter_choices(session)["pipelines"]
        cycle: list[str | None] = [None, *names]
        current = next((i for i, n in enumerate(cycle) if n and str(n).casefold() == str(self.filt.pipeline or "").casefold()), 0)
        self._set_filter(ReportFilter(self.filt.period, self.filt.start, self.filt.end,
                                      cycle[(current + 1) % len(cycle)], self.filt.tag))

    def action_pick_tag(self) -> None:
        with self.app.database.session() as session:
            tags = filter_choices(session)["tags"]

        def chosen(tag: str | None) -> None:
            if tag is not None:
                self._set_filter(ReportFilter(self.filt.period, self.filt.start, self.filt.end,
                                              self.filt.pipeline, tag or None))

        self.app.push_screen(TagPicker(tags, self.filt.tag), chosen)

    def action_next_breakdown(self) -> None:
        """Lead sources, then deals by each choice, multichoice, yes/no and lookup deal field."""
        with self.app.database.session() as session:
            names = [f["name"] for f in breakdown_fields(session)]
        if not names:
            self.notify("No field to break deals down by: add a choice, yes/no or lookup field to deals"
                        " (crmtui fields add deal Type --kind choice --options 'A,B')", timeout=5, markup=False)
            return
        self.by_field = self._next_breakdown(names)
        self._show_breakdown()
        self.load_figures()

    def _next_breakdown(self, names: list[str]) -> str | None:
        """The field `g` goes to from the current one (None: back to lead sources)."""
        cycle: list[str | None] = [None, *names]
        current = next((i for i, n in enumerate(cycle) if n and n.casefold() == (self.by_field or "").casefold()), 0)
        return cycle[(current + 1) % len(cycle)]

    def _show_breakdown(self) -> None:
        """The sources table, or in its place the breakdown by the chosen field."""
        by_field = self.query_one("#table-field", BreakdownTable)
        by_field.display = self.by_field is not None
        self.query_one("#table-sources", BreakdownTable).display = self.by_field is None
        if self.by_field is not None:
            by_field.border_title = f"By {self.by_field}"

    def action_custom_period(self) -> None:
        def chosen(filt: ReportFilter | None) -> None:
            if filt is not None:
                self._set_filter(ReportFilter("custom", filt.start, filt.end, self.filt.pipeline, self.filt.tag))

        self.app.push_screen(PeriodDialog(self.filt), chosen)

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.app.pop_screen()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "back":
            return len(self.app.screen_stack) > 2
        return True

    # --- drawing the figures -------------------------------------------------------------------

    def _render_activity(self) -> None:
        a = self.activity
        if a is None:
            return
        unit = "Week" if a["bucket"] == "week" else "Month"
        t = a["totals"]
        rows: list[tuple[str, Drill | None, tuple[Any, ...]]] = [
            (f"bucket-{i}", None, (bucket_label(b), *(_right(f"{b[k]:,}") for k in ACTIVITY_COUNTS)))
            for i, b in enumerate(a["buckets"])
        ] if any(t[k] for k in ACTIVITY_COUNTS) else []  # (a column of zeros says less than one line)
        buckets = self.query_one("#activity-buckets", ActivityTable)
        buckets.border_title = f"Sales activity per {a['bucket']}"
        buckets.border_subtitle = (f"Σ {t['logged']:,} logged · {t['tasks_done']:,} tasks done"
                                   f" · {t['tasks_overdue']:,} overdue")
        self._fill_table("activity-buckets", rows, "no activity logged", unit)
        o = a["outcomes"]
        self._fill_table("activity-stages", [
            (f"astage-{r['stage_id']}", None, (
                Text(r["stage"], style="" if r["kind"] == "open" else "dim"), _right(f"{r['won']:,}"),
                _right(f"{r['lost']:,}")))
            for r in a["by_stage"] if r["won"] or r["lost"]
        ], "none won or lost")
        self.query_one("#activity-stages", BreakdownTable).border_subtitle = (
            f"{o['won_deals']:,} won · {o['lost_deals']:,} lost")
        d = a["deals"]
        self._fill_table("activity-deals", [
            ("touched", Drill("touched"), ("Touched", _right(f"{d['touched']:,}"))),
            ("untouched", Drill("untouched"), (
                Text("Open, untouched", style="bold red" if d["open_untouched"] else ""),
                _right(f"{d['open_untouched']:,}"))),
            ("open", Drill("open"), ("Open now", _right(f"{d['open']:,}"))),
        ], "")

    def _activity_drill(self, table_id: str, row: int, column: int) -> ActivityDrill | None:
        """The activities behind a cell of the per-bucket table or a row of the per-stage one."""
        a = self.activity
        if a is None:
            return None
        if table_id == "activity-buckets" and 0 <= row < len(a["buckets"]):
            b = a["buckets"][row]
            return ActivityDrill(ACTIVITY_COLUMNS[min(column, len(ACTIVITY_COLUMNS) - 1)][1], b["start"], b["end"])
        stages = [r for r in a["by_stage"] if r["won"] or r["lost"]]
        if table_id == "activity-stages" and 0 <= row < len(stages):
            return ActivityDrill("stage", stage_id=stages[row]["stage_id"])
        return None

    def _render_report(self) -> None:
        report = self.report
        if report is None:
            return
        masked = self.app.privacy
        self._show_filters()
        self._render_cards(report["cards"], masked)
        months = report["months"]
        for chart_id, _title, money, field, figure in CHARTS:
            chart = self.query_one(f"#{chart_id}", BarChart)
            bars = [Bar(dt_label(m["month"]), m[field], Drill(figure, m["month"])) for m in months]
            total = sum(m[field] for m in months)
            summary = ("Σ " + format_money_short(total, masked=masked)) if money else f"Σ {total:,}"
            chart.set_bars(bars, masked=masked, summary=summary)
        self._render_tables(report, masked)

    def _render_cards(self, c: dict[str, Any], masked: bool) -> None:
        def card(card_id: str) -> StatCard:
            return self.query_one(f"#{card_id}", StatCard)

        def money(card_id: str, cents: int | None, note: str) -> None:
            if cents is None:
                card(card_id).show("—", note)
            else:
                card(card_id).show(format_money(cents, masked=masked), note,
                                   short=format_money_short(cents, masked=masked))

        money("open-pipeline", c["open_pipeline_cents"], f"{_deals(c['open_deals'])} open")
        money("weighted", c["weighted_forecast_cents"], "Σ amount × stage %")
        today = self.report["filter"]["today"] if self.report else ""
        money("won-month", c["won_this_month_cents"],
              f"{c['won_this_month_deals']:,} in {month_label(today[:7]) if today else ''}")
        quarter = f"Q{(int(today[5:7]) - 1) // 3 + 1} {today[:4]}" if today else ""
        money("won-quarter", c["won_this_quarter_cents"], f"{c['won_this_quarter_deals']:,} in {quarter}")
        card("win-rate").show(_pct(c["win_rate"]), f"{c['won_deals']:,} of {c['won_deals'] + c['lost_deals']:,} closed")
        money("average-won", c["average_won_cents"], f"of {c['won_deals']:,} won")
        cycle = c["average_cycle_days"]
        card("cycle").show("—" if cycle is None else f"{cycle:g} days", "created → won")
        card("open-deals").show(f"{c['open_deals']:,}", "open now")
        card("no-next-step").show(f"{c['no_next_step']:,}", "open, no open task", warn=c["no_next_step"] > 0)
        card("aging").show(f"{c['aging']:,}", "over the stage's days", warn=c["aging"] > 0)

    def _fill_table(self, table_id: str, rows: list[tuple[str, Drill | None, tuple[Any, ...]]], empty: str,
                    name: str | None = None) -> None:
        """Show a table's rows; `name` heads its first column instead of the usual name."""
        table = self.query_one(f"#{table_id}", BreakdownTable)
        shown: list[Row] = [(key, cells) for key, _drill, cells in rows]
        if not rows:
            shown = [("-empty", (Text(empty, style="dim"), *[""] * (len(table.specs) - 1)))]
        table.show(shown, [replace(table.specs[0], label=name), *table.specs[1:]] if name else None)
        self.row_drills[table_id] = {key: drill for key, drill, _cells in rows if drill is not None}

    def _render_tables(self, r: dict[str, Any], masked: bool) -> None:
        def short(cents: int) -> str:
            return format_money_short(cents, masked=masked)

        self._fill_table("table-tags", [
            (f"tag-{t['tag_id']}", Drill("tag", t["tag_id"]),
             (t["tag"], _right(short(t["won_cents"])), _right(short(t["created_cents"])), _right(short(t["open_cents"]))))
            for t in r["by_tag"]
        ], "no tagged deals")
        multi = len({s["pipeline"] for s in r["by_stage"]}) > 1
        stage_rows: list[tuple[str, Drill | None, tuple[Any, ...]]] = []
        heading = None
        for s in r["by_stage"]:
            if multi and s["pipeline"] != heading:
                # Several pipelines: a heading row (choosing it opens nothing) before each one's stages.
                heading = s["pipeline"]
                stage_rows.append((f"pipeline-{len(stage_rows)}", None, (Text(heading, style="bold underline"), "", "")))
            stage_rows.append((f"stage-{s['stage_id']}", Drill("stage", s["stage_id"]), (
                Text(s["stage"], style="" if s["kind"] == "open" else "dim"),
                _right(f"{s['deals']:,}"), _right(short(s["amount_cents"])))))
        self._fill_table("table-stages", stage_rows, "no stages")
        self._fill_table("table-sources", [
            (f"source-{i}", Drill("source", s["source"]),
             (s["source"] or "(none)", _right(f"{s['deals']:,}"), _right(short(s["won_cents"])), _right(_pct(s["win_rate"]))))
            for i, s in enumerate(r["sources"])
        ], "no deals in this period")
        # When there are fields to break deals down by, the table says which key shows them.
        names = r.get("breakdown_fields", [])
        following = self._next_breakdown(names)
        hint = (f"g: by {following}" if following else "g: lead sources") if names else ""
        for table_id in ("#table-sources", "#table-field"):
            self.query_one(table_id, BreakdownTable).border_subtitle = hint
        for breakdown in r.get("by_field", []):
            self.query_one("#table-field", BreakdownTable).border_title = f"By {breakdown['field']}"
            self._fill_table("table-field", [
                (f"field-{i}", Drill("field", f"{breakdown['field_id']}:{row['value']}"),
                 (row["value"] or "(none)", _right(f"{row['deals']:,}"), _right(short(row["won_cents"])),
                  _right(_pct(row["win_rate"]))))
                for i, row in enumerate(breakdown["rows"])
            ], "no deals in this period", breakdown["field"])
        self._fill_table("table-lost", [
            (f"lost-{i}", Drill("lost_reason", s["reason"]),
             (s["reason"] or "(none)", _right(f"{s['deals']:,}"), _right(short(s["amount_cents"]))))
            for i, s in enumerate(r["lost_reasons"])
        ], "nothing lost in this period")
        funnel = r["funnel"]
        self.query_one("#table-funnel", DataTable).border_title = f"Funnel · {funnel['pipeline']} · {funnel['deals']:,} deals"
        self._fill_table("table-funnel", [
            (f"funnel-{s['stage_id']}", Drill("funnel", s["stage_id"]),
             (s["stage"], _right(f"{s['reached']:,}"), _right(_pct(s["conversion"]) if s["conversion"] is not None else "")))
            for s in funnel["stages"]
        ], "no open stages")
        fc = r["forecast"]
        rows: list[tuple[str, Drill, tuple[Any, ...]]] = []
        if fc["overdue_deals"]:
            rows.append(("overdue", Drill("overdue"), (
                Text("⚠ overdue", style="bold red"), _right(f"{fc['overdue_deals']:,}"),
                _right(short(fc["overdue_cents"])), _right(""))))
        for m in fc["months"]:
            label = dt_label(m["month"]) if m["month"] else "no date"
            if m["overdue_deals"]:
                label += " ⚠"
            rows.append((f"fc-{m['month'] or 'none'}", Drill("forecast", m["month"] or ""), (
                label, _right(f"{m['deals']:,}"), _right(short(m["amount_cents"])), _right(short(m["weighted_cents"])))))
        self._fill_table("table-forecast", rows, "no open deals")
        self._fill_table("table-products", [
            (f"product-{i}", product_drill(p), (
                p["product"] or Text("(no description)", style="dim"), _right(p["quantity"]), p["unit"],
                Amount(p["net_cents"], masked=masked), _right(f"{p['deals']:,}")))
            for i, p in enumerate(r["sales_by_product"])
        ], "no won deals with line items in this period")
        self.query_one("#table-products", BreakdownTable).border_subtitle = "net before deal discounts"

    # --- choosing a figure opens its deals ---------------------------------------------------------

    def _open_deals(self, drill: Drill) -> None:
        from crmtui.screens.deal_list import DealListScreen

        self.app.push_screen(DealListScreen(self.filt, drill))

    @on(BarChart.Chosen)
    def _bar_chosen(self, event: BarChart.Chosen) -> None:
        self._open_deals(event.bar.key)

    @on(StatCard.Chosen)
    def _card_chosen(self, event: StatCard.Chosen) -> None:
        self._open_deals(event.card.drill)

    @on(DataTable.RowSelected, ".dash-table")
    def _row_chosen(self, event: DataTable.RowSelected) -> None:
        drill = self.row_drills.get(event.data_table.id or "", {}).get(str(event.row_key.value))
        if drill is not None:
            self._open_deals(drill)
        elif event.data_table.id == "activity-stages":
            self._open_activities(self._activity_drill("activity-stages", event.cursor_row, 0))

    @on(DataTable.CellSelected, "#activity-buckets")
    def _cell_chosen(self, event: DataTable.CellSelected) -> None:
        self._open_activities(self._activity_drill("activity-buckets", event.coordinate.row, event.coordinate.column))

    def _open_activities(self, drill: ActivityDrill | None) -> None:
        if drill is not None:
            self.app.push_screen(ActivityListScreen(self.filt, drill))


def dt_label(month: str) -> str:
    """`2026-03` -> `Mar 26` (short, for chart rows)."""
    full = month_label(month)
    return full[:4] + full[-2:]


class TagPicker(ModalScreen[str | None]):
    """Choose the tag the figures are about (or all tags). Returns "" for all, None for cancel."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="tag_picker.cancel")]

    def __init__(self, tags: list[str], current: str | None) -> None:
        super().__init__()
        self.tags = tags
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="tag-picker-box", classes="dash-dialog"):
            yield Label("Show figures for the tag:", classes="screen-title")
            options = [Option("All tags", id="")] + [Option(t, id=t) for t in self.tags]
            yield OptionList(*options, id="tag-picker-list")
            yield Static("[dim]enter chooses · esc cancels[/]", markup=True)

    def on_mount(self) -> None:
        option_list = self.query_one(OptionList)
        if self.current:
            index = next((i + 1 for i, t in enumerate(self.tags) if t.casefold() == self.current.casefold()), 0)
            option_list.highlighted = index
        else:
            option_list.highlighted = 0

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(event.option.id or "")


class PeriodDialog(ModalScreen[ReportFilter | None]):
    """A from–to period; dates as people write them (2026-03-01, 1 Mar 2026, 01.03.2026)."""

    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="period_dialog.cancel")]

    def __init__(self, filt: ReportFilter) -> None:
        super().__init__()
        self.filt = filt

    def compose(self) -> ComposeResult:
        with Vertical(id="period-box", classes="dash-dialog"):
            yield Label("Figures for a period of your choice", classes="screen-title")
            with Horizontal(classes="period-row"):
                yield Label("From", classes="period-label")
                yield Input(value=str(self.filt.start or ""), placeholder="2026-01-01 (empty: the beginning)", id="period-from")
            with Horizontal(classes="period-row"):
                yield Label("To", classes="period-label")
                yield Input(value=str(self.filt.end or ""), placeholder="2026-06-30 (empty: today)", id="period-to")
            yield Static("", id="period-error")
            yield Static("[dim]enter applies · esc cancels[/]", markup=True)

    @on(Input.Submitted)
    def _apply(self) -> None:
        start = self.query_one("#period-from", Input).value
        end = self.query_one("#period-to", Input).value
        if not start.strip() and not end.strip():
            self.query_one("#period-error", Static).update(Text("Give a from date, a to date, or both.", style="red"))
            return
        try:
            filt = make_filter(None, date_from=start, date_to=end or None)
        except CrmError as exc:
            self.query_one("#period-error", Static).update(Text(exc.message, style="red"))
            return
        if filt.end is None:
            from crmtui.store import clock

            filt = ReportFilter("custom", filt.start, clock.today())
        self.dismiss(filt)


class ActivityListScreen(Screen[None]):
    """A page of the activities behind a figure of the sales activity section; `]` and `[` turn
    pages, enter opens the deal (or the company or contact) an activity was logged on."""

    CSS_PATH = "dashboard.tcss"
    PAGE_SIZE = 100
    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="activity_list.back"),
        Binding("right_square_bracket", "page(1)", "Next page", id="activity_list.next_page"),
        Binding("left_square_bracket", "page(-1)", "Previous page", id="activity_list.previous_page"),
    ]
    COLUMNS = [Col("Day", "day"), Col("Kind", "kind"), Col("Deal", "deal", shrink_to=12),
               Col("Customer", "customer", shrink_to=10, drop=1), Col("What", "body", shrink_to=12)]

    def __init__(self, filt: ReportFilter, drill: ActivityDrill) -> None:
        super().__init__()
        self.filt = filt
        self.drill = drill
        self.page = 0
        self.total = 0
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Loading…", id="activity-list-title", classes="screen-title")
        yield FitTable(self.COLUMNS, id="activity-list-table", cursor_type="row", zebra_stripes=True, fill=True)
        yield AppFooter()

    def on_mount(self) -> None:
        self.title = "Activities"
        self.query_one(DataTable).loading = True
        self._load(0)

    def action_page(self, step: int) -> None:
        target = max(0, min((self.total - 1) // self.PAGE_SIZE, self.page + step))
        if target != self.page:
            self._load(target)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "page":
            step = int(parameters[0]) if parameters else 0
            return None if not 0 <= self.page + step <= max(0, (self.total - 1) // self.PAGE_SIZE) else True
        return True

    @work(thread=True, exclusive=True, group="activity-list")
    def _load(self, page: int) -> None:
        worker = get_current_worker()
        try:
            with self.app.database.session(write=False) as session:
                total, heading = activity_drill_count(session, self.filt, self.drill)
                rows = activity_drill_page(session, self.filt, self.drill, offset=page * self.PAGE_SIZE,
                                           limit=self.PAGE_SIZE)
        except CrmError as exc:
            self.app.call_from_thread(self.notify, exc.message, severity="error")
            return
        if not worker.is_cancelled:
            self.app.call_from_thread(self._loaded, page, total, heading, rows)

    def _loaded(self, page: int, total: int, heading: str, rows: list[dict[str, Any]]) -> None:
        self.page, self.total, self.rows = page, total, rows
        table = self.query_one(FitTable)
        table.loading = False
        shown = []
        for r in rows:
            kind = r["kind"]
            if kind == "task":
                kind = "task ✓" if r["done"] else f"task due {r['due_on']}"
            shown.append((str(r["id"]), (r["day"], kind, r["deal"] or "", r["customer"], r["body"])))
        table.show(shown)
        first = page * self.PAGE_SIZE + 1
        span = f"{first:,}–{first + len(rows) - 1:,} of {total:,}" if total else "no activities"
        title = Text()
        title.append(heading, style="bold")
        where = [self.filt.label(), f"pipeline {self.filt.pipeline}" if self.filt.pipeline else "all pipelines"]
        if self.filt.tag:
            where.append(f"tag {self.filt.tag}")
        title.append(f"  ·  {' · '.join(where)}  ·  {span}")
        self.query_one("#activity-list-title", Static).update(title)
        self.refresh_bindings()

    @on(DataTable.RowSelected, "#activity-list-table")
    def _open(self, event: DataTable.RowSelected) -> None:
        row = next((r for r in self.rows if str(r["id"]) == str(event.row_key.value)), None)
        if row is None:
            return
        for kind, key in (("deal", "deal_id"), ("company", "company_id"), ("contact", "contact_id")):
            if row[key] is not None:
                self.app.open_record(kind, int(row[key]))
                return
