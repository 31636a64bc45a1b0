"""The dashboard's figures, computed in SQL, shared by the TUI and `crmtui report`.

Every figure is read through one `ReportFilter` (period, pipeline, tag). What the period means
for each figure:

- snapshot figures describe the pipeline *now* and ignore the period: open pipeline value,
  weighted forecast, open deal count, deals with no next step, aging deals, open deals by stage,
  the forecast by expected close month. (Won this month / this quarter are calendar figures.)
- deals *created* in the period: pipeline generated, new deals, the funnel cohort, deals per
  source, per tag and per value of a field.
- deals *closed* in the period (by close date): sales (won), deals lost, win rate, average won
  deal value, average sales cycle, lost reasons, closed stages in "by stage", won value and win
  rate per source and per value of a field.

Deleted deals never count. Money is integer cents throughout; `report_json` turns it into units.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from crmtui.store import clock
from crmtui.store.dates import parse_date
from crmtui.store.errors import ValidationError
from crmtui.store.pipelines import find_pipeline, list_pipelines, list_stages
from crmtui.store.sql import Session

# Period names, in the order the dashboard cycles through them.
PERIODS = ("month", "quarter", "12m", "ytd", "all")
PERIOD_LABELS = {
    "month": "This month",
    "quarter": "This quarter",
    "12m": "Last 12 months",
    "ytd": "Year to date",
    "all": "All time",
    "custom": "From–to",
}
_PERIOD_ALIASES = {
    "month": "month", "this-month": "month", "this_month": "month",
    "quarter": "quarter", "this-quarter": "quarter", "this_quarter": "quarter", "q": "quarter",
    "12m": "12m", "last-12-months": "12m", "last_12_months": "12m", "year": "12m",
    "ytd": "ytd", "year-to-date": "ytd", "year_to_date": "ytd",
    "all": "all", "all-time": "all", "all_time": "all",
}
PERIOD_CHOICES = "month, quarter, 12m, ytd, all"


@dataclass(frozen=True)
class ReportFilter:
    """What the figures are about. `start`/`end` (inclusive) are used when period is "custom"."""

    period: str = "12m"
    start: dt.date | None = None
    end: dt.date | None = None
    pipeline: str | int | None = None  # None: every pipeline
    tag: str | None = None

    def label(self) -> str:
        if self.period == "custom":
            return f"{self.start or '…'} to {self.end or '…'}"
        return PERIOD_LABELS[self.period]

    def next_period(self) -> ReportFilter:
        """The next preset period (the dashboard's `p`)."""
        index = PERIODS.index(self.period) + 1 if self.period in PERIODS else 0
        return replace(self, period=PERIODS[index % len(PERIODS)], start=None, end=None)


def make_filter(
    period: str | None = None,
    *,
    date_from: str | dt.date | None = None,
    date_to: str | dt.date | None = None,
    pipeline: str | int | None = None,
    tag: str | None = None,
) -> ReportFilter:
    """A filter from what a person typed: a period name, or from/to dates (any format
    `parse_date` reads). Raises ValidationError naming the option that is wrong."""
    start = parse_date(date_from, field="from") if date_from not in (None, "") else None
    end = parse_date(date_to, field="to") if date_to not in (None, "") else None
    if start or end:
        if period not in (None, "", "custom"):
            raise ValidationError("period: give either --period or --from/--to, not both", "period")
        if start and end and start > end:
            raise ValidationError(f"from: {start} is after to ({end})", "from")
        name = "custom"
    elif period in (None, ""):
        name = "12m"
    else:
        key = str(period).strip().lower().replace(" ", "-")
        if key not in _PERIOD_ALIASES:
            raise ValidationError(f"period: {period!r} is not one of {PERIOD_CHOICES}", "period")
        name = _PERIOD_ALIASES[key]
    tag = tag.lstrip("#").strip() if tag else None
    pipeline = pipeline.strip() if isinstance(pipeline, str) else pipeline
    return ReportFilter(period=name, start=start, end=end, pipeline=pipeline or None, tag=tag or None)


# --- calendar helpers ---------------------------------------------------------------------------


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def _month_end(day: dt.date) -> dt.date:
    return _add_months(day, 1) - dt.timedelta(days=1)


def _year_before(day: dt.date) -> dt.date:
    """The same day a year earlier (28 Feb for 29 Feb)."""
    return day.replace(year=day.year - 1, day=min(day.day, 28) if day.month == 2 else day.day)


def _quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def period_window(filt: ReportFilter, today: dt.date | None = None) -> tuple[dt.date | None, dt.date | None]:
    """The period as (first day, last day), both inclusive; None for an open end."""
    today = today or clock.today()
    if filt.period == "month":
        return _month_start(today), _month_end(today)
    if filt.period == "quarter":
        start = _quarter_start(today)
        return start, _add_months(start, 3) - dt.timedelta(days=1)
    if filt.period == "12m":  # rolling, up to today: 8 Dec 2025 – 7 Dec 2026
        return _year_before(today) + dt.timedelta(days=1), today
    if filt.period == "ytd":
        return dt.date(today.year, 1, 1), today
    if filt.period == "all":
        return None, None
    if filt.period == "custom":
        return filt.start, filt.end
    raise ValidationError(f"period: {filt.period!r} is not one of {PERIOD_CHOICES}", "period")


def month_keys(first: dt.date, last: dt.date) -> list[str]:
    """`YYYY-MM` for every month from `first`'s to `last`'s, in order."""
    keys, day = [], _month_start(first)
    while day <= last:
        keys.append(day.strftime("%Y-%m"))
        day = _add_months(day, 1)
    return keys


def month_label(key: str) -> str:
    """`2026-03` -> `Mar 2026`."""
    year, month = key.split("-")
    return dt.date(int(year), int(month), 1).strftime("%b %Y")


# --- the scope: a filter turned into SQL ----------------------------------------------------------


@dataclass
class _Scope:
    """SQL fragments and bound parameters for one filter (alias `d` = deal, `s` = its stage)."""

    filt: ReportFilter
    today: dt.date
    now: dt.datetime
    start: dt.date | None
    end: dt.date | None
    pipeline_id: int | None
    pipeline_name: str | None
    tag_id: int | None
    tag_name: str | None
    params: dict[str, Any] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)  # scans shared by several figures
    sequential: bool = True  # the period holds more than a tenth of the deals (see `deals_by`)

    @property
    def base(self) -> str:
        where = ["d.deleted_at IS NULL"]
        if self.pipeline_id is not None:
            where.append("d.pipeline_id = :pipeline_id")
        if self.tag_id is not None:
            where.append("EXISTS (SELECT 1 FROM deal_tag ft WHERE ft.deal_id = d.id AND ft.tag_id = :tag_id)")
        return " AND ".join(where)

    def deals_by(self, index: str) -> str:
        """`deal d` for a scan of the period's deals. When the period holds more than a tenth of
        the deals, read through `index` (schema 7): it hands the rows over in the scan's group
        order and holds every column the scan reads, so SQLite neither sorts nor reads a deal row.
        A short period is left to the planner, which reads it through the date indexes."""
        return f"deal d INDEXED BY {index}" if self.sequential else "deal d"

    @property
    def join(self) -> str:
        """The join after `deals`: CROSS JOIN keeps the deal table as the outer loop."""
        return "CROSS JOIN" if self.sequential else "JOIN"

    @property
    def created_in(self) -> str:
        """Created in the period (timestamps compare as text against `YYYY-MM-DD`)."""
        parts = []
        if self.start is not None:
            parts.append("d.created_at >= :start")
        if self.end is not None:
            parts.append("d.created_at < :end_next")
        return "(" + " AND ".join(parts) + ")" if parts else "1"

    @property
    def closed_in(self) -> str:
        """Closed in the period (by close date)."""
        parts = ["d.closed_on IS NOT NULL"]
        if self.start is not None:
            parts.append("d.closed_on >= :start")
        if self.end is not None:
            parts.append("d.closed_on <= :end")
        return "(" + " AND ".join(parts) + ")"


def _scope(session: Session, filt: ReportFilter) -> _Scope:
    today = clock.today()
    start, end = period_window(filt, today)
    pipeline_id = pipeline_name = None
    if filt.pipeline not in (None, ""):
        pipe = find_pipeline(session, filt.pipeline)
        pipeline_id, pipeline_name = pipe.id, pipe.name
    tag_id = tag_name = None
    if filt.tag:
        tag_id, tag_name = _find_tag(session, filt.tag)
    now = clock.utcnow()
    params: dict[str, Any] = {
        "today": today.isoformat(),
        "now": clock.to_db(now),
        "month_start": _month_start(today).isoformat(),
        "month_end": _month_end(today).isoformat(),
        "quarter_start": _quarter_start(today).isoformat(),
        "quarter_end": (_add_months(_quarter_start(today), 3) - dt.timedelta(days=1)).isoformat(),
    }
    if start is not None:
        params["start"] = start.isoformat()
    if end is not None:
        params["end"] = end.isoformat()
        params["end_next"] = (end + dt.timedelta(days=1)).isoformat()
    if pipeline_id is not None:
        params["pipeline_id"] = pipeline_id
    if tag_id is not None:
        params["tag_id"] = tag_id
    sc = _Scope(filt, today, now, start, end, pipeline_id, pipeline_name, tag_id, tag_name, params)
    if start is not None or end is not None:
        # How much of the table the period covers, from the creation-date index alone.
        total = session.execute("SELECT coalesce(max(id), 0) FROM deal").scalar()
        in_period = session.execute(
            f"SELECT count(*) FROM deal d INDEXED BY ix_deal_created WHERE {sc.created_in}", params
        ).scalar() if total else 0
        sc.sequential = in_period * 10 > total
    return sc


def _find_tag(session: Session, name: str) -> tuple[int, str]:
    name = name.lstrip("#").strip()
    row = session.execute(
        "SELECT id, name FROM tag WHERE name = :n COLLATE NOCASE", {"n": name}
    ).fetchone()
    if row is None:
        known = [r[0] for r in session.execute("SELECT name FROM tag ORDER BY name LIMIT 12")]
        hint = f" (tags: {', '.join(known)}{', …' if len(known) == 12 else ''})" if known else " (there are no tags yet)"
        raise ValidationError(f"unknown tag {name!r}{hint}", "tag")
    return row[0], row[1]


def _all(session: Session, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in session.execute(sql, params)]


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- the scans: each reads its deals once, grouped finely; the figures add the groups up -----------


def _stages(session: Session, sc: _Scope) -> dict[int, dict[str, Any]]:
    """Live stages (of the filter's pipeline, else all) by id, in pipeline order."""
    if "stages" not in sc.cache:
        where = "s.deleted_at IS NULL" + (" AND s.pipeline_id = :pipeline_id" if sc.pipeline_id is not None else "")
        rows = _all(
            session,
            f"""SELECT s.id, s.name, s.kind, s.probability, s.expected_days, s.pipeline_id, p.name AS pipeline
                FROM stage s JOIN pipeline p ON p.id = s.pipeline_id AND p.deleted_at IS NULL
                WHERE {where} ORDER BY p.position, p.id, s.position, s.id""",
            sc.params,
        )
        sc.cache["stages"] = {r["id"]: r for r in rows}
    return sc.cache["stages"]


def _stage_ids(session: Session, sc: _Scope) -> dict[str, list[str]]:
    """The ids of every stage (deleted ones too: their deals still count) by kind, as SQL text
    for `IN (...)` lists (ints we read, so safe to put in the SQL)."""
    if "stage_ids" not in sc.cache:
        kinds: dict[str, list[str]] = {"open": [], "won": [], "lost": [], "closed": []}
        for sid, kind in session.execute("SELECT id, kind FROM stage ORDER BY id"):
            kinds.setdefault(kind, []).append(str(sid))
        sc.cache["stage_ids"] = kinds
    return sc.cache["stage_ids"]


def _in_list(session: Session, sc: _Scope, kind: str) -> str:
    """The ids of the stages of `kind`, for `stage_id IN (...)`: "NULL" when there are none."""
    return ", ".join(_stage_ids(session, sc)[kind]) or "NULL"


def _open_groups(session: Session, sc: _Scope) -> list[dict[str, Any]]:
    """Open deals now, per stage and expected close month: count, amount, overdue, without a task."""
    if "open" not in sc.cache:
        # Per stage and close DATE, in the order of the index on (stage_id, expected_close, ...):
        # SQLite groups without sorting; the days are added up into months here (a few hundred rows).
        days = _all(
            session,
            f"""
            SELECT d.stage_id, d.expected_close AS day, count(*) AS n, coalesce(sum(d.amount_cents), 0) AS cents,
                   count(CASE WHEN d.expected_close < :today THEN 1 END) AS overdue,
                   coalesce(sum(CASE WHEN d.expected_close < :today THEN d.amount_cents END), 0) AS overdue_cents,
                   count(CASE WHEN d.open_tasks = 0 THEN 1 END) AS no_task
            FROM deal d INDEXED BY ix_deal_close
            WHERE {sc.base} AND d.stage_id IN ({_in_list(session, sc, "open")})
            GROUP BY d.stage_id, d.expected_close
            """,
            sc.params,
        )
        groups: dict[tuple[int, str | None], dict[str, Any]] = {}
        for day in days:
            month = day["day"][:7] if day["day"] else None
            g = groups.get((day["stage_id"], month))
            if g is None:
                groups[(day["stage_id"], month)] = {
                    "stage_id": day["stage_id"], "month": month, "n": day["n"], "cents": day["cents"],
                    "overdue": day["overdue"], "overdue_cents": day["overdue_cents"], "no_task": day["no_task"]}
            else:
                for key in ("n", "cents", "overdue", "overdue_cents", "no_task"):
                    g[key] += day[key]
        sc.cache["open"] = list(groups.values())
    return sc.cache["open"]


def _closed_groups(session: Session, sc: _Scope) -> list[dict[str, Any]]:
    """Deals closed in the period, per stage, close month, source and lost reason: count,
    amount and the sum of their sales cycles in days (creation date to close date)."""
    if "closed" not in sc.cache:
        sc.cache["closed"] = _all(
            session,
            f"""
            SELECT d.stage_id, s.kind, substr(d.closed_on, 1, 7) AS month, coalesce(d.source, '') AS source,
                   coalesce(d.lost_reason, '') AS reason, count(*) AS n, coalesce(sum(d.amount_cents), 0) AS cents,
                   sum(julianday(d.closed_on) - julianday(substr(d.created_at, 1, 10))) AS cycle_days
            FROM {sc.deals_by("ix_deal_report_closed")} {sc.join} stage s ON s.id = d.stage_id
            WHERE {sc.base} AND s.kind != 'open' AND {sc.closed_in}
            GROUP BY d.stage_id, substr(d.closed_on, 1, 7), d.source, d.lost_reason
            """,
            sc.params,
        )
    return sc.cache["closed"]


def _created_groups(session: Session, sc: _Scope) -> list[dict[str, Any]]:
    """Deals created in the period, per creation month and source: count and amount."""
    if "created" not in sc.cache:
        sc.cache["created"] = _all(
            session,
            f"""
            SELECT substr(d.created_at, 1, 7) AS month, coalesce(d.source, '') AS source, count(*) AS n,
                   coalesce(sum(d.amount_cents), 0) AS cents
            FROM {sc.deals_by("ix_deal_report_created")} WHERE {sc.base} AND {sc.created_in}
            GROUP BY substr(d.created_at, 1, 7), d.source
            """,
            sc.params,
        )
    return sc.cache["created"]


def _tag_groups(session: Session, sc: _Scope) -> list[dict[str, Any]]:
    """Per tag: tagged deals created in the period, won (closed) in the period, and open now,
    each as count and amount. Read in tag order from the index on deal_tag (tag_id, deal_id), so
    SQLite groups without sorting the 100,000s of tag links; the stage kinds are id lists."""
    if "tags" not in sc.cache:
        won = f"d.stage_id IN ({_in_list(session, sc, 'won')}) AND {sc.closed_in}"
        opened = f"d.stage_id IN ({_in_list(session, sc, 'open')})"
        sc.cache["tags"] = _all(
            session,
            f"""
            SELECT dt.tag_id,
                   count(CASE WHEN {sc.created_in} THEN 1 END) AS created_deals,
                   coalesce(sum(CASE WHEN {sc.created_in} THEN d.amount_cents END), 0) AS created_cents,
                   count(CASE WHEN {won} THEN 1 END) AS won_deals,
                   coalesce(sum(CASE WHEN {won} THEN d.amount_cents END), 0) AS won_cents,
                   count(CASE WHEN {opened} THEN 1 END) AS open_deals,
                   coalesce(sum(CASE WHEN {opened} THEN d.amount_cents END), 0) AS open_cents
            FROM deal_tag dt INDEXED BY ix_deal_tag_tag CROSS JOIN deal d ON d.id = dt.deal_id
            WHERE {sc.base}
            GROUP BY dt.tag_id
            """,
            sc.params,
        )
    return sc.cache["tags"]


def _calendar(session: Session, sc: _Scope) -> dict[str, int]:
    """Won this month and this quarter: calendar figures, whatever the period. Read from the
    covering close index (stage, close month, ...): a seek to the quarter's months of each won
    stage, not a walk through every won deal (which the planner chose when the index statistics
    were sampled, 26 ms against 1 ms on 100k deals)."""
    if "calendar" not in sc.cache:
        won = _in_list(session, sc, "won")
        sc.cache["calendar"] = _all(
            session,
            f"""
            SELECT count(*) AS quarter, coalesce(sum(d.amount_cents), 0) AS quarter_cents,
                   count(CASE WHEN d.closed_on >= :month_start AND d.closed_on <= :month_end THEN 1 END) AS month,
                   coalesce(sum(CASE WHEN d.closed_on >= :month_start AND d.closed_on <= :month_end
                                THEN d.amount_cents END), 0) AS month_cents
            FROM deal d INDEXED BY ix_deal_report_closed
            WHERE {sc.base} AND d.closed_on IS NOT NULL AND d.stage_id IN ({won})
              AND substr(d.closed_on, 1, 7) BETWEEN substr(:quarter_start, 1, 7) AND substr(:quarter_end, 1, 7)
              AND d.closed_on BETWEEN :quarter_start AND :quarter_end
            """,
            sc.params,
        )[0]
    return sc.cache["calendar"]


def _aging(session: Session, sc: _Scope) -> int:
    """Open deals older in their stage than its expected days (index on stage and entry time)."""
    if "aging" not in sc.cache:
        cutoffs = [(sid, clock.to_db(sc.now - dt.timedelta(days=s["expected_days"])))
                   for sid, s in _stages(session, sc).items() if s["kind"] == "open" and s["expected_days"] is not None]
        aging = 0
        if cutoffs:
            values = ", ".join(f"(:aging_stage_{i}, :aging_cutoff_{i})" for i in range(len(cutoffs)))
            params = dict(sc.params)
            for i, (sid, cutoff) in enumerate(cutoffs):
                params[f"aging_stage_{i}"], params[f"aging_cutoff_{i}"] = sid, cutoff
            aging = session.execute(
                f"""WITH cut(stage_id, cutoff) AS (VALUES {values})
                        SELECT count(*) FROM cut JOIN deal d ON d.stage_id = cut.stage_id
                        WHERE {sc.base} AND d.stage_entered_at < cut.cutoff""",
                params,
            ).scalar()
        sc.cache["aging"] = aging
    return sc.cache["aging"]


def _weighted(cents_by_stage: dict[int, int], stages: dict[int, dict[str, Any]]) -> int:
    """Σ amount × probability, in cents (rounded down once, at the end)."""
    return sum(cents * stages[sid]["probability"] for sid, cents in cents_by_stage.items() if sid in stages) // 100


# --- the figures -----------------------------------------------------------------------------------


def stat_cards(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> dict[str, Any]:
    """The stat cards: open pipeline, weighted forecast, won this month/quarter, win rate,
    average won deal, average sales cycle (days, creation to close of won deals), open deals,
    open deals without an open task, open deals older in their stage than its expected days."""
    sc = _sc or _scope(session, filt)
    stages = _stages(session, sc)
    open_cents: dict[int, int] = {}
    open_deals = no_task = 0
    for g in _open_groups(session, sc):
        open_cents[g["stage_id"]] = open_cents.get(g["stage_id"], 0) + g["cents"]
        open_deals += g["n"]
        no_task += g["no_task"]
    won = lost = won_cents = 0
    cycle_days = 0.0
    for g in _closed_groups(session, sc):
        if g["kind"] == "won":
            won += g["n"]
            won_cents += g["cents"]
            cycle_days += g["cycle_days"] or 0
        elif g["kind"] == "lost":
            lost += g["n"]
    calendar = _calendar(session, sc)
    aging = _aging(session, sc)
    return {
        "open_pipeline_cents": sum(open_cents.values()),
        "weighted_forecast_cents": _weighted(open_cents, stages),
        "won_this_month_cents": calendar["month_cents"],
        "won_this_month_deals": calendar["month"],
        "won_this_quarter_cents": calendar["quarter_cents"],
        "won_this_quarter_deals": calendar["quarter"],
        "won_deals": won,
        "won_cents": won_cents,
        "lost_deals": lost,
        "win_rate": _ratio(won, won + lost),
        "average_won_cents": (won_cents + won // 2) // won if won else None,
        "average_cycle_days": round(cycle_days / won, 1) if won else None,
        "open_deals": open_deals,
        "no_next_step": no_task,
        "aging": aging,
    }


def monthly(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> list[dict[str, Any]]:
    """Per month of the period: pipeline generated (value and count of deals created), sales
    (value and count won, by close date) and deals lost (count and value, by close date).
    "All time" runs from the first month with a deal created or closed to this month."""
    sc = _sc or _scope(session, filt)
    created, closed = _created_groups(session, sc), _closed_groups(session, sc)
    start, end = sc.start, sc.end
    seen = [g["month"] for g in created] + [g["month"] for g in closed if g["kind"] in ("won", "lost")]
    if start is None:
        start = dt.date.fromisoformat(min(seen) + "-01") if seen else sc.today
    if end is None:
        end = max([sc.today] + ([dt.date.fromisoformat(max(seen) + "-01")] if seen else []))
    months = {
        key: {"month": key, "created_deals": 0, "created_cents": 0, "won_deals": 0, "won_cents": 0,
              "lost_deals": 0, "lost_cents": 0}
        for key in (month_keys(start, end) if start <= end else [])
    }
    for g in created:
        if g["month"] in months:
            months[g["month"]]["created_deals"] += g["n"]
            months[g["month"]]["created_cents"] += g["cents"]
    for g in closed:
        if g["kind"] in ("won", "lost") and g["month"] in months:
            months[g["month"]][f"{g['kind']}_deals"] += g["n"]
            months[g["month"]][f"{g['kind']}_cents"] += g["cents"]
    return list(months.values())


def by_tag(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> list[dict[str, Any]]:
    """Per tag (the service sold): sales (won in the period), pipeline generated (created in
    the period) and open pipeline now. Biggest sales first."""
    sc = _sc or _scope(session, filt)
    names = dict(session.execute("SELECT id, name FROM tag").fetchall())
    tags = {g["tag_id"]: {"tag_id": g["tag_id"], "tag": names.get(g["tag_id"], ""), **{
        key: g[key] for key in ("won_deals", "won_cents", "created_deals", "created_cents", "open_deals", "open_cents")}}
        for g in _tag_groups(session, sc)}
    rows = [t for t in tags.values() if t["won_deals"] + t["created_deals"] + t["open_deals"]]
    return sorted(rows, key=lambda t: (-t["won_cents"], -t["created_cents"], t["tag"].casefold()))


def by_stage(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> list[dict[str, Any]]:
    """Deals and value per stage: open stages hold the open deals now; won, lost and closed
    stages the deals closed in the period. Every stage is listed, in pipeline order."""
    sc = _sc or _scope(session, filt)
    counts: dict[int, list[int]] = {}
    for g in _open_groups(session, sc) + _closed_groups(session, sc):
        c = counts.setdefault(g["stage_id"], [0, 0])
        c[0] += g["n"]
        c[1] += g["cents"]
    rows = []
    for sid, s in _stages(session, sc).items():
        deals, cents = counts.get(sid, (0, 0))
        rows.append({"stage_id": sid, "stage": s["name"], "kind": s["kind"], "probability": s["probability"],
                     "pipeline": s["pipeline"], "deals": deals, "amount_cents": cents,
                     "weighted_cents": cents * s["probability"] // 100})
    return rows


def by_source(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> list[dict[str, Any]]:
    """Lead source attribution: deals created in the period, and won value and win rate of the
    deals closed in the period, per source ("" when the deal has none). Biggest won value first."""
    sc = _sc or _scope(session, filt)
    sources: dict[str, dict[str, Any]] = {}

    def row(name: str) -> dict[str, Any]:
        return sources.setdefault(name, {"source": name, "deals": 0, "won_deals": 0, "won_cents": 0, "lost_deals": 0})

    for g in _created_groups(session, sc):
        row(g["source"])["deals"] += g["n"]
    for g in _closed_groups(session, sc):
        if g["kind"] == "won":
            row(g["source"])["won_deals"] += g["n"]
            row(g["source"])["won_cents"] += g["cents"]
        elif g["kind"] == "lost":
            row(g["source"])["lost_deals"] += g["n"]
    for r in sources.values():
        r["win_rate"] = _ratio(r["won_deals"], r["won_deals"] + r["lost_deals"])
    rows = [r for r in sources.values() if r["deals"] + r["won_deals"] + r["lost_deals"]]
    return sorted(rows, key=lambda r: (-r["won_cents"], -r["deals"], r["source"]))


BREAKDOWN_KINDS = ("choice", "multichoice", "yesno", "lookup")


def breakdown_fields(session: Session) -> list[dict[str, Any]]:
    """The custom deal fields deals can be broken down by: choice, multichoice, yes/no, lookup."""
    from crmtui.store.custom_fields import custom_fields

    return [f for f in custom_fields(session, "deal") if f["kind"] in BREAKDOWN_KINDS]


def breakdown_field(session: Session, name: str) -> dict[str, Any]:
    """A deal field to break deals down by, by name; ValidationError naming the usable fields
    when it is unknown or of another kind (a number or a date has too many values to group by)."""
    from crmtui.store.custom_fields import custom_fields, name_key

    usable = breakdown_fields(session)
    names = ", ".join(f["name"] for f in usable) or (
        "none yet: add one with crmtui fields add deal NAME --kind choice --options 'A,B'")
    found = next((f for f in custom_fields(session, "deal") if name_key(f["name"]) == name_key(name)), None)
    if found is None:
        raise ValidationError(f"by: no deal field called {name!r} (fields to break down by: {names})", "by")
    if found not in usable:
        raise ValidationError(f"by: {found['name']} is a {found['kind']} field; a breakdown takes a choice,"
                              f" multichoice, yes/no or lookup field ({names})", "by")
    return found


def _field_value_sql(definition: dict[str, Any]) -> tuple[str, str]:
    """The value a deal is counted under (over the scan `x` with the stored value `x.v`), and the
    join that gives it: a multichoice deal is counted under each of its options (none: NULL)."""
    if definition["value_kind"] == "multichoice":
        return "j.value", "LEFT JOIN json_each(CASE WHEN json_valid(x.v) THEN x.v ELSE json_array(x.v) END) j"
    return "x.v", ""


def by_field(session: Session, filt: ReportFilter, name: str, *, _sc: _Scope | None = None) -> dict[str, Any]:
    """Deals per value of a choice, multichoice, yes/no or lookup deal field, as lead sources
    are: deals created in the period, and won value and win rate of the deals closed in the
    period ("" for no value). A multichoice deal counts under each of its values; a lookup
    groups deals by their company's or contact's value. Biggest won value first, no value last."""
    from crmtui.store.custom_fields import value_sql

    sc = _sc or _scope(session, filt)
    definition = breakdown_field(session, name)
    value, join = _field_value_sql(definition)
    closed = f"s.kind IN ('won', 'lost') AND {sc.closed_in}"
    rows = _all(
        session,
        f"""
        SELECT coalesce({value}, '') AS value, sum(x.created) AS deals, sum(x.won) AS won_deals,
               coalesce(sum(x.won * x.amount_cents), 0) AS won_cents, sum(x.lost) AS lost_deals
        FROM (SELECT {value_sql([definition], "d")[0]} AS v, d.amount_cents, {sc.created_in} AS created,
                     s.kind = 'won' AND {closed} AS won, s.kind = 'lost' AND {closed} AS lost
              FROM deal d JOIN stage s ON s.id = d.stage_id
              WHERE {sc.base} AND ({sc.created_in} OR {closed})) x {join}
        GROUP BY 1
        """,
        sc.params,
    )
    for r in rows:
        r["win_rate"] = _ratio(r["won_deals"], r["won_deals"] + r["lost_deals"])
    ordered = sorted(rows, key=lambda r: (r["value"] == "", -r["won_cents"], -r["deals"], str(r["value"])))
    return {"field": definition["name"], "field_id": definition["id"], "kind": definition["kind"], "rows": ordered}


def lost_reasons(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> list[dict[str, Any]]:
    """Deals lost in the period per reason ("" when none was given): count, value and share."""
    sc = _sc or _scope(session, filt)
    reasons: dict[str, dict[str, Any]] = {}
    for g in _closed_groups(session, sc):
        if g["kind"] == "lost":
            r = reasons.setdefault(g["reason"], {"reason": g["reason"], "deals": 0, "amount_cents": 0})
            r["deals"] += g["n"]
            r["amount_cents"] += g["cents"]
    total = sum(r["deals"] for r in reasons.values())
    for r in reasons.values():
        r["share"] = _ratio(r["deals"], total)
    return sorted(reasons.values(), key=lambda r: (-r["deals"], -r["amount_cents"], r["reason"]))


def _funnel_stages(session: Session, sc: _Scope) -> tuple[Any, list[tuple[Any, int]]]:
    """The funnel's pipeline (the filter's, else the default) and its open stages then its won
    stage, each with its rank."""
    pipe = find_pipeline(session, sc.pipeline_id)
    stages = list_stages(session, pipe.id)
    ordered = [s for s in stages if s.kind == "open"] + [s for s in stages if s.kind == "won"]
    return pipe, [(s, i) for i, s in enumerate(ordered)]


def _funnel_ranks(session: Session, pipe: Any, ranked: list[tuple[Any, int]]) -> dict[int, int]:
    """The rank of every stage a deal may have passed, by id: a live stage's own; a deleted open
    stage that of the live open stage before it (a deal that reached it got at least that far), a
    deleted won stage that of the first won stage."""
    ranks = {s.id: rank for s, rank in ranked}
    won = min((rank for s, rank in ranked if s.kind == "won"), default=None)
    last_open = None
    rows = session.execute(
        "SELECT id, kind, deleted_at FROM stage WHERE pipeline_id = :p ORDER BY position, id", {"p": pipe.id})
    for stage_id, kind, deleted_at in rows:
        if stage_id in ranks:
            last_open = ranks[stage_id] if kind == "open" else last_open
        elif deleted_at is not None:
            rank = last_open if kind == "open" else won if kind == "won" else None
            if rank is not None:
                ranks[stage_id] = rank
    return ranks


def _funnel_counts(session: Session, sc: _Scope) -> tuple[Any, list[tuple[Any, int]], dict[int, int]]:
    """The funnel's pipeline, its ranked stages, and how many cohort deals got furthest to each rank."""
    if "funnel" not in sc.cache:
        pipe, ranked = _funnel_stages(session, sc)
        params = dict(sc.params, funnel_pipeline=pipe.id)
        counts: dict[int, int] = {}
        if ranked:
            ranks = _funnel_ranks(session, pipe, ranked)
            current = " ".join(f"WHEN {sid} THEN {rank}" for sid, rank in ranks.items())  # ints we made
            # Each deal's furthest rank over its stage history (the covering index on stage_change
            # (deal_id, to_stage_id), schema 6) and its current stage. Every deal has history: the
            # services, the demo and the importer all record the stage a deal is created in.
            if sc.sequential:
                # A long period: the whole history, grouped by deal in index order, as a subquery
                # in FROM that SQLite streams into the join (a CTE was written to a temporary
                # table first: +15 ms on 100k deals).
                sql = f"""
                    SELECT max(h.r, CASE d.stage_id {current} ELSE -1 END) AS r, count(*) AS n
                    FROM (SELECT sc.deal_id, max(CASE sc.to_stage_id {current} ELSE -1 END) AS r
                          FROM stage_change sc INDEXED BY ix_stage_change_deal_stage GROUP BY sc.deal_id) h
                    CROSS JOIN deal d ON d.id = h.deal_id
                    WHERE {sc.base} AND {sc.created_in} AND d.pipeline_id = :funnel_pipeline
                    GROUP BY 1"""
            else:
                # A short period: its deals from the creation-date index, each with a seek into its
                # own history (a week of 100k deals: 2 ms, against 70-120 ms for the whole history).
                sql = f"""
                    SELECT r, count(*) AS n FROM (
                        SELECT max((SELECT max(CASE sc.to_stage_id {current} ELSE -1 END)
                                    FROM stage_change sc INDEXED BY ix_stage_change_deal_stage
                                    WHERE sc.deal_id = d.id),
                                   CASE d.stage_id {current} ELSE -1 END) AS r
                        FROM deal d INDEXED BY ix_deal_created
                        WHERE {sc.base} AND {sc.created_in} AND d.pipeline_id = :funnel_pipeline)
                    GROUP BY r"""
            rows = _all(session, sql, params)
            counts = {r["r"]: r["n"] for r in rows}
        sc.cache["funnel"] = (pipe, ranked, counts)
    return sc.cache["funnel"]


def funnel(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> dict[str, Any]:
    """Of the deals created in the period (in one pipeline), how many reached each open stage and
    the won stage, from the stage history, cumulatively: reached = entered that stage or a later
    one, in the pipeline's order (a deal that skipped stages counts in each of them; a lost or
    N/A stage is not "later"). Every deal reached the first open stage: one that never was in
    an open stage of the pipeline (imported straight into Lost) entered the pipeline there.
    Conversion = share of a stage's deals that reached the next."""
    sc = _sc or _scope(session, filt)
    pipe, ranked, counts = _funnel_counts(session, sc)
    total = sum(counts.values())
    least = 0 if ranked and ranked[0][0].kind == "open" else -1  # the rank every deal reached
    stages_out = []
    for s, rank in ranked:
        reached = sum(n for r, n in counts.items() if max(r, least) >= rank)
        stages_out.append({"stage_id": s.id, "stage": s.name, "kind": s.kind, "rank": rank, "reached": reached})
    for i, row in enumerate(stages_out):
        row["conversion"] = _ratio(stages_out[i + 1]["reached"], row["reached"]) if i + 1 < len(stages_out) else None
    return {"pipeline": pipe.name, "pipeline_id": pipe.id, "deals": total, "stages": stages_out}


def forecast(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> dict[str, Any]:
    """Open deals by expected close month: count, amount, weighted amount, and how many of them
    are overdue (expected close before today). Deals without a close date come last (month None)."""
    sc = _sc or _scope(session, filt)
    stages = _stages(session, sc)
    months: dict[str | None, dict[str, Any]] = {}
    weighted_x100: dict[str | None, int] = {}
    for g in _open_groups(session, sc):
        m = months.setdefault(g["month"], {"month": g["month"], "deals": 0, "amount_cents": 0, "weighted_cents": 0,
                                           "overdue_deals": 0, "overdue_cents": 0})
        m["deals"] += g["n"]
        m["amount_cents"] += g["cents"]
        m["overdue_deals"] += g["overdue"]
        m["overdue_cents"] += g["overdue_cents"]
        probability = stages[g["stage_id"]]["probability"] if g["stage_id"] in stages else 0
        weighted_x100[g["month"]] = weighted_x100.get(g["month"], 0) + g["cents"] * probability
    for key, m in months.items():
        m["weighted_cents"] = weighted_x100[key] // 100
    rows = sorted(months.values(), key=lambda m: (m["month"] is None, m["month"] or ""))
    return {
        "months": rows,
        "overdue_deals": sum(r["overdue_deals"] for r in rows),
        "overdue_cents": sum(r["overdue_cents"] for r in rows),
    }


# KiB of SQLite page cache for each report connection (the default 2 MB holds ~5% of 100k deals).
REPORT_CACHE_KIB = 65536
# Bytes of the database file each report connection may read through memory mapping.
REPORT_MMAP_BYTES = 256 * 1024 * 1024

# The scans behind every figure; full_report runs them side by side (see _prefetch), the
# longest first (on 100k deals: tags ~130 ms, funnel ~85, closed 26, open 18, created 14, the rest 5).
_SCANS = (_tag_groups, _funnel_counts, _closed_groups, _open_groups, _created_groups, _aging, _calendar)


def _prefetch(session: Session, sc: _Scope, workers: int) -> None:
    """Run the scans at once on connections of their own. SQLite does the work outside the GIL,
    so on a machine with two or more cores the report takes about as long as its slowest scan.
    Each connection reads its own snapshot: a write committed in the few milliseconds between
    their starts could show in one scan and not in another (this is a dashboard, not a ledger)."""
    database = session.database
    if database is None:  # a session on a bare connection: the scans run one by one, when read
        return

    def run(scan: Any) -> None:
        with database.session(write=False) as own:  # (writing sessions would run one at a time)
            # A page cache big enough for the deal table keeps a refresh from re-reading it, and
            # reading the file through memory mapping spares the first report (each connection
            # starts with an empty cache) a copy of every page: the dashboard's first figures
            # come about 0.08 s sooner on 100k deals.
            own.execute(f"PRAGMA cache_size = -{REPORT_CACHE_KIB}")
            own.execute(f"PRAGMA mmap_size = {REPORT_MMAP_BYTES}")
            scan(own, sc)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        for future in [pool.submit(run, scan) for scan in _SCANS]:
            future.result()


def filter_json(filt: ReportFilter, sc: _Scope) -> dict[str, Any]:
    """What a report covers, as its JSON says it."""
    return {
        "period": filt.period,
        "label": filt.label(),
        "from": sc.start.isoformat() if sc.start else None,
        "to": sc.end.isoformat() if sc.end else None,
        "pipeline": sc.pipeline_name,
        "tag": sc.tag_name,
        "today": sc.today.isoformat(),
    }


def full_report(
    session: Session, filt: ReportFilter | None = None, *, workers: int = 2, by: Sequence[str] = ()
) -> dict[str, Any]:
    """Every figure of the dashboard for one filter, as plain data (money in integer cents), and
    a breakdown (`by_field`) for each deal field named in `by`.

    `workers` > 1 runs the underlying scans in parallel threads (each with its own connection)."""
    filt = filt or ReportFilter()
    sc = _scope(session, filt)
    for name in by:  # a wrong field is refused before any figure is read
        breakdown_field(session, name)
    _stages(session, sc)
    _stage_ids(session, sc)  # read once, before the scans share them across threads
    if workers > 1:
        _prefetch(session, sc, workers)
    currency = session.execute("SELECT value FROM setting WHERE key = 'currency'").scalar()
    return {
        "filter": filter_json(filt, sc),
        "currency": currency or "",
        "cards": stat_cards(session, filt, _sc=sc),
        "months": monthly(session, filt, _sc=sc),
        "by_tag": by_tag(session, filt, _sc=sc),
        "by_stage": by_stage(session, filt, _sc=sc),
        "sources": by_source(session, filt, _sc=sc),
        "by_field": [by_field(session, filt, name, _sc=sc) for name in by],
        "lost_reasons": lost_reasons(session, filt, _sc=sc),
        "funnel": funnel(session, filt, _sc=sc),
        "forecast": forecast(session, filt, _sc=sc),
    }


def report_json(report: dict[str, Any]) -> dict[str, Any]:
    """The report for scripts: `x_cents` becomes `x` in currency units (a number)."""

    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if key.endswith("_cents") and (item is None or isinstance(item, int)):
                    name = key.removesuffix("_cents")
                    assert name not in value, f"report key {name!r} would be overwritten"
                    out[name] = None if item is None else cents_to_number(item)
                else:
                    out[key] = convert(item)
            return out
        if isinstance(value, list):
            return [convert(v) for v in value]
        return value

    return convert(report)


def cents_to_number(cents: int) -> int | float:
    """12_500_00 -> 12500; 12_500_50 -> 12500.5."""
    units, rest = divmod(cents, 100)
    return units if rest == 0 else cents / 100


def filter_choices(session: Session) -> dict[str, list[str]]:
    """Pipelines and tags a person can filter by (for pickers)."""
    tags = [r[0] for r in session.execute("SELECT name FROM tag ORDER BY name COLLATE NOCASE")]
    return {"pipelines": [p.name for p in list_pipelines(session)], "tags": tags}


# --- the deals behind a figure ------------------------------------------------------------------------

# Figures a bar, row or card can open; `key` says which bar or row.
DRILLS = (
    "created", "won", "lost",  # per month: key = "YYYY-MM"
    "stage",  # key = stage id
    "tag",  # key = tag id
    "source",  # key = source ("" for none)
    "field",  # key = "FIELD_ID:VALUE" (a custom deal field's value, "" for none)
    "lost_reason",  # key = reason ("" for none)
    "funnel",  # key = stage id of the funnel stage
    "forecast",  # key = "YYYY-MM", or "" for no close date
    "overdue", "open", "won_period", "won_month", "won_quarter", "closed_period", "no_next_step", "aging",
    "touched", "untouched",  # an activity in the period (touched_sql); untouched: open deals without
    "product",  # key = JSON [product id, free text, unit]: a row of reports_products.sales_by_product
)

# What tells the rows of sales by product apart, over a line `l`: the product id, else the
# line's own text (compared in any case); and the line's unit (copied from the product).
PRODUCT_LINE_TEXT = "CASE WHEN l.product_id IS NULL THEN trim(l.description) END"
PRODUCT_LINE_UNIT = "coalesce(l.unit, '')"


@dataclass(frozen=True)
class Drill:
    """Which figure's deals to list: a figure name from DRILLS and the bar's or row's key."""

    figure: str
    key: str | int | None = None


def period_between(column: str, sc: _Scope, first: str = "start", last: str = "end_next") -> str:
    """`column` (a timestamp or date, as text) inside the period; open ends are left out."""
    parts = [f"{column} IS NOT NULL"]
    if sc.start is not None:
        parts.append(f"{column} >= :{first}")
    if sc.end is not None:
        parts.append(f"{column} < :{last}")
    return "(" + " AND ".join(parts) + ")"


def touched_sql(sc: _Scope) -> str:
    """The deal `d` has an activity logged, or a task done, in the period (the activity report's
    "touched", and its drill-down here)."""
    return (f"EXISTS (SELECT 1 FROM activity a WHERE a.deal_id = d.id AND a.deleted_at IS NULL"
            f" AND ({period_between('a.occurred_at', sc)} OR {period_between('a.done_at', sc)}))")


def _drill_where(session: Session, sc: _Scope, drill: Drill) -> tuple[str, dict[str, Any], str]:
    """The WHERE clause (beyond the filter) of a figure's deals, its parameters and a title."""
    p: dict[str, Any] = {}
    f, key = drill.figure, drill.key
    if f in ("created", "won", "lost", "forecast") and key:
        month = str(key)
        try:
            first = dt.date.fromisoformat(month + "-01")
        except ValueError:
            raise ValidationError(f"month: {month!r} is not YYYY-MM", "month") from None
        p["m0"], p["m1"] = first.isoformat(), _add_months(first, 1).isoformat()
        label = month_label(month)
    if f == "created":
        return f"{sc.created_in} AND d.created_at >= :m0 AND d.created_at < :m1", p, f"Deals created in {label}"
    if f in ("won", "lost"):
        return (f"s.kind = '{f}' AND {sc.closed_in} AND d.closed_on >= :m0 AND d.closed_on < :m1", p,
                f"Deals {f} in {label}")
    if f == "forecast":
        if key:
            return ("s.kind = 'open' AND d.expected_close >= :m0 AND d.expected_close < :m1", p,
                    f"Open deals expected to close in {label}")
        return "s.kind = 'open' AND d.expected_close IS NULL", p, "Open deals without a close date"
    if f == "overdue":
        return "s.kind = 'open' AND d.expected_close < :today", p, "Open deals past their expected close"
    if f == "stage":
        p["drill_stage"] = int(key)  # type: ignore[arg-type]
        name = session.execute("SELECT name FROM stage WHERE id = :i", {"i": int(key)}).scalar()  # type: ignore[arg-type]
        return (f"d.stage_id = :drill_stage AND (s.kind = 'open' OR {sc.closed_in})", p,
                f"Deals in {name or 'stage #' + str(key)}")
    if f == "tag":
        p["drill_tag"] = int(key)  # type: ignore[arg-type]
        name = session.execute("SELECT name FROM tag WHERE id = :i", {"i": int(key)}).scalar()  # type: ignore[arg-type]
        return (
            "EXISTS (SELECT 1 FROM deal_tag x WHERE x.deal_id = d.id AND x.tag_id = :drill_tag)"
            f" AND ({sc.created_in} OR s.kind = 'open' OR (s.kind = 'won' AND {sc.closed_in}))",
            p, f"Deals tagged {name or '#' + str(key)}",
        )
    if f == "source":
        p["drill_source"] = str(key or "")
        return (
            f"coalesce(d.source, '') = :drill_source AND ({sc.created_in} OR (s.kind IN ('won', 'lost') AND {sc.closed_in}))",
            p, f"Deals from {key or '(no source)'}",
        )
    if f == "field":
        return _field_drill(session, sc, str(key or ""), p)
    if f == "lost_reason":
        p["drill_reason"] = str(key or "")
        return (f"s.kind = 'lost' AND {sc.closed_in} AND coalesce(d.lost_reason, '') = :drill_reason", p,
                f"Deals lost: {key or '(no reason)'}")
    if f == "funnel":
        pipe, ranked = _funnel_stages(session, sc)
        rank = next((r for s, r in ranked if s.id == int(key)), None)  # type: ignore[arg-type]
        if rank is None:
            raise ValidationError(f"stage #{key} is not in the funnel of {pipe.name!r}", "stage")
        ids = [sid for sid, r in _funnel_ranks(session, pipe, ranked).items() if r >= rank]
        names = {s.id: s.name for s, _ in ranked}
        id_list = ", ".join(str(i) for i in ids)  # stage ids from the database: ints
        p["funnel_pipeline"] = pipe.id
        first_open = rank == 0 and ranked[0][0].kind == "open"  # every deal reached it: see `funnel`
        reached = "" if first_open else (
            f" AND (d.stage_id IN ({id_list}) OR EXISTS ("
            f"SELECT 1 FROM stage_change x WHERE x.deal_id = d.id AND x.to_stage_id IN ({id_list})))")
        return (f"d.pipeline_id = :funnel_pipeline AND {sc.created_in}{reached}", p,
                f"Deals that reached {names[int(key)]}")  # type: ignore[arg-type]
    if f == "product":
        return _product_drill(session, sc, str(key or ""), p)
    if f in ("touched", "untouched"):
        if f == "touched":
            return touched_sql(sc), p, "Deals touched in the period"
        return f"s.kind = 'open' AND NOT {touched_sql(sc)}", p, "Open deals left untouched in the period"
    simple = {
        "open": ("s.kind = 'open'", "Open deals"),
        "won_period": (f"s.kind = 'won' AND {sc.closed_in}", "Deals won in the period"),
        "closed_period": (f"s.kind IN ('won', 'lost') AND {sc.closed_in}", "Deals won or lost in the period"),
        "won_month": ("s.kind = 'won' AND d.closed_on BETWEEN :month_start AND :month_end", "Deals won this month"),
        "won_quarter": ("s.kind = 'won' AND d.closed_on BETWEEN :quarter_start AND :quarter_end",
                        "Deals won this quarter"),
        "no_next_step": (
            "s.kind = 'open' AND NOT EXISTS (SELECT 1 FROM activity a WHERE a.deal_id = d.id AND a.kind = 'task'"
            " AND a.done_at IS NULL AND a.deleted_at IS NULL)",
            "Open deals with no next step",
        ),
        "aging": (
            "s.kind = 'open' AND s.expected_days IS NOT NULL"
            " AND julianday(:now) - julianday(d.stage_entered_at) > s.expected_days",
            "Open deals aging in their stage",
        ),
    }
    if f in simple:
        where, title = simple[f]
        return where, p, title
    raise ValidationError(f"figure: {f!r} is not one of {', '.join(DRILLS)}", "figure")


def _field_drill(session: Session, sc: _Scope, key: str, p: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """The deals of one row of a field breakdown (`by_field`): key "FIELD_ID:VALUE"."""
    from crmtui.store.custom_fields import value_sql

    field_id, _, value = key.partition(":")
    definition = next((f for f in breakdown_fields(session) if str(f["id"]) == field_id), None)
    if definition is None:
        raise ValidationError(f"field: no breakdown field #{field_id}", "field")
    stored = value_sql([definition], "d")[0]
    p["drill_value"] = value
    if definition["value_kind"] == "multichoice":
        has = ("EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(v.v) THEN v.v ELSE json_array(v.v) END) j"
               " WHERE j.value = :drill_value)")
        none = "(v.v IS NULL OR v.v IN ('', '[]'))"
        match = f"(SELECT {none if value == '' else has} FROM (SELECT {stored} AS v) v)"
    else:
        match = f"coalesce({stored}, '') = :drill_value"
    where = f"{match} AND ({sc.created_in} OR (s.kind IN ('won', 'lost') AND {sc.closed_in}))"
    return where, p, f"Deals with {definition['name']}: {value or '(none)'}"


def _product_drill(session: Session, sc: _Scope, key: str, p: dict[str, Any]) -> tuple[str, dict[str, Any], str]:
    """The deals won in the period with a line of one row of sales by product."""
    try:
        product_id, text, unit = json.loads(key)
    except (ValueError, TypeError):
        raise ValidationError(f"product: {key!r} is not [product id, text, unit]", "product") from None
    p["drill_product"], p["drill_text"], p["drill_unit"] = product_id, text, unit
    same = "l.product_id = :drill_product" if product_id is not None else (
        f"l.product_id IS NULL AND {PRODUCT_LINE_TEXT} = :drill_text COLLATE NOCASE")
    where = (f"s.kind = 'won' AND {sc.closed_in} AND EXISTS (SELECT 1 FROM deal_line l WHERE l.deal_id = d.id"
             f" AND l.deleted_at IS NULL AND {same} AND {PRODUCT_LINE_UNIT} = :drill_unit)")
    if product_id is None:
        name = text or "(no description)"
    else:
        name = session.execute("SELECT name FROM product WHERE id = :i", {"i": product_id}).scalar()
    return where, p, f"Deals won with {name or f'product #{product_id}'}" + (f" ({unit})" if unit else "")


def drill_count(session: Session, filt: ReportFilter, drill: Drill) -> tuple[int, str]:
    """How many deals are behind a figure, and the list's title."""
    sc = _scope(session, filt)
    where, params, title = _drill_where(session, sc, drill)
    n = session.execute(
        f"SELECT count(*) FROM deal d JOIN stage s ON s.id = d.stage_id WHERE {sc.base} AND {where}",
        {**sc.params, **params},
    ).scalar()
    return n, title


def drill_page(
    session: Session, filt: ReportFilter, drill: Drill, *, offset: int = 0, limit: int = 100
) -> list[dict[str, Any]]:
    """One page of the deals behind a figure (newest first): id, title, customer, stage, amount,
    created date, close date (actual, else expected)."""
    sc = _scope(session, filt)
    where, params, _title = _drill_where(session, sc, drill)
    return _all(
        session,
        f"""
        SELECT d.id, d.title, coalesce(c.name, p.name, '') AS customer, s.name AS stage, s.kind AS stage_kind,
               d.amount_cents, d.currency, substr(d.created_at, 1, 10) AS created,
               coalesce(d.closed_on, d.expected_close) AS close_date, d.closed_on IS NOT NULL AS closed
        FROM deal d JOIN stage s ON s.id = d.stage_id
        LEFT JOIN company c ON c.id = d.company_id
        LEFT JOIN contact p ON p.id = d.contact_id
        WHERE {sc.base} AND {where}
        ORDER BY d.created_at DESC, d.id DESC
        LIMIT :limit OFFSET :offset
        """,
        {**sc.params, **params, "limit": limit, "offset": offset},
    )
