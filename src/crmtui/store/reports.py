"""The dashboard's figures, computed in SQL, shared by the TUI and `crmtui report`.

Every figure is read through one `ReportFilter` (period, pipeline, tag). What the period means
for each figure:

- snapshot figures describe the pipeline *now* and ignore the period: open pipeline value,
  weighted forecast, open deal count, deals with no next step, aging deals, open deals by stage,
  the forecast by expected close month. (Won this month / this quarter are calendar figures.)
- deals *created* in the period: pipeline generated, new deals, the funnel cohort, deals per
  source and per tag.
- deals *closed* in the period (by close date): sales (won), deals lost, win rate, average won
  deal value, average sales cycle, lost reasons, closed stages in "by stage".

Deleted deals never count. Money is integer cents throughout; `report_json` turns it into units.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import text
from sqlmodel import Session

from crmtui.store import clock
from crmtui.store.dates import parse_date
from crmtui.store.errors import ValidationError
from crmtui.store.pipelines import find_pipeline, list_pipelines, list_stages

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
    if filt.period == "12m":
        return _add_months(today, -11), _month_end(today)
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

    @property
    def base(self) -> str:
        where = ["d.deleted_at IS NULL"]
        if self.pipeline_id is not None:
            where.append("d.pipeline_id = :pipeline_id")
        if self.tag_id is not None:
            where.append("EXISTS (SELECT 1 FROM deal_tag ft WHERE ft.deal_id = d.id AND ft.tag_id = :tag_id)")
        return " AND ".join(where)

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
    return _Scope(filt, today, now, start, end, pipeline_id, pipeline_name, tag_id, tag_name, params)


def _find_tag(session: Session, name: str) -> tuple[int, str]:
    name = name.lstrip("#").strip()
    row = session.connection().execute(
        text("SELECT id, name FROM tag WHERE name = :n COLLATE NOCASE"), {"n": name}
    ).first()
    if row is None:
        known = [r[0] for r in session.connection().execute(text("SELECT name FROM tag ORDER BY name LIMIT 12"))]
        hint = f" (tags: {', '.join(known)}{', …' if len(known) == 12 else ''})" if known else " (there are no tags yet)"
        raise ValidationError(f"unknown tag {name!r}{hint}", "tag")
    return row[0], row[1]


def _all(session: Session, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(r) for r in session.connection().execute(text(sql), params).mappings()]


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


# --- the figures -----------------------------------------------------------------------------------


def stat_cards(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> dict[str, Any]:
    """The stat cards: open pipeline, weighted forecast, won this month/quarter, win rate,
    average won deal, average sales cycle (days, creation to close of won deals), open deals,
    open deals without an open task, open deals older in their stage than its expected days."""
    sc = _sc or _scope(session, filt)
    row = _all(
        session,
        f"""
        SELECT
          coalesce(sum(CASE WHEN s.kind = 'open' THEN d.amount_cents END), 0) AS open_cents,
          coalesce(sum(CASE WHEN s.kind = 'open' THEN d.amount_cents * s.probability END), 0) AS weighted_x100,
          count(CASE WHEN s.kind = 'open' THEN 1 END) AS open_deals,
          count(CASE WHEN s.kind = 'open' AND s.expected_days IS NOT NULL
                      AND julianday(:now) - julianday(d.stage_entered_at) > s.expected_days THEN 1 END) AS aging,
          count(CASE WHEN s.kind = 'won' AND d.closed_on BETWEEN :month_start AND :month_end THEN 1 END) AS won_month,
          coalesce(sum(CASE WHEN s.kind = 'won' AND d.closed_on BETWEEN :month_start AND :month_end
                       THEN d.amount_cents END), 0) AS won_month_cents,
          count(CASE WHEN s.kind = 'won' AND d.closed_on BETWEEN :quarter_start AND :quarter_end THEN 1 END) AS won_quarter,
          coalesce(sum(CASE WHEN s.kind = 'won' AND d.closed_on BETWEEN :quarter_start AND :quarter_end
                       THEN d.amount_cents END), 0) AS won_quarter_cents,
          count(CASE WHEN s.kind = 'won' AND {sc.closed_in} THEN 1 END) AS won,
          coalesce(sum(CASE WHEN s.kind = 'won' AND {sc.closed_in} THEN d.amount_cents END), 0) AS won_cents,
          coalesce(sum(CASE WHEN s.kind = 'won' AND {sc.closed_in}
                       THEN julianday(d.closed_on) - julianday(date(d.created_at)) END), 0) AS cycle_days,
          count(CASE WHEN s.kind = 'lost' AND {sc.closed_in} THEN 1 END) AS lost
        FROM deal d JOIN stage s ON s.id = d.stage_id
        WHERE {sc.base}
        """,
        sc.params,
    )[0]
    # Open deals with an open task; "no next step" is the rest.
    with_task = session.connection().execute(
        text(
            f"""
            SELECT count(*) FROM deal d JOIN stage s ON s.id = d.stage_id
            WHERE {sc.base} AND s.kind = 'open' AND d.id IN (
                SELECT a.deal_id FROM activity a
                WHERE a.kind = 'task' AND a.done_at IS NULL AND a.deleted_at IS NULL AND a.deal_id IS NOT NULL)
            """
        ),
        sc.params,
    ).scalar_one()
    won, lost = row["won"], row["lost"]
    return {
        "open_pipeline_cents": row["open_cents"],
        "weighted_forecast_cents": row["weighted_x100"] // 100,
        "won_this_month_cents": row["won_month_cents"],
        "won_this_month_deals": row["won_month"],
        "won_this_quarter_cents": row["won_quarter_cents"],
        "won_this_quarter_deals": row["won_quarter"],
        "won_deals": won,
        "won_cents": row["won_cents"],
        "lost_deals": lost,
        "win_rate": _ratio(won, won + lost),
        "average_won_cents": (row["won_cents"] + won // 2) // won if won else None,
        "average_cycle_days": round(row["cycle_days"] / won, 1) if won else None,
        "open_deals": row["open_deals"],
        "no_next_step": row["open_deals"] - with_task,
        "aging": row["aging"],
    }


def _months_of(session: Session, sc: _Scope) -> list[str]:
    start, end = sc.start, sc.end
    if start is None or end is None:
        row = session.connection().execute(
            text(f"SELECT min(d.created_at), min(d.closed_on), max(d.created_at), max(d.closed_on) FROM deal d WHERE {sc.base}"),
            sc.params,
        ).first()
        firsts = [dt.date.fromisoformat(str(v)[:10]) for v in row[:2] if v]
        lasts = [dt.date.fromisoformat(str(v)[:10]) for v in row[2:] if v]
        if start is None:
            start = min(firsts) if firsts else sc.today
        if end is None:
            end = max([sc.today, *lasts])
    if start > end:
        return []
    return month_keys(start, end)


def monthly(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> list[dict[str, Any]]:
    """Per month of the period: pipeline generated (value and count of deals created), sales
    (value and count won, by close date) and deals lost (count and value, by close date)."""
    sc = _sc or _scope(session, filt)
    months = {
        key: {"month": key, "created_deals": 0, "created_cents": 0, "won_deals": 0, "won_cents": 0, "lost_deals": 0, "lost_cents": 0}
        for key in _months_of(session, sc)
    }
    for r in _all(
        session,
        f"""SELECT substr(d.created_at, 1, 7) AS month, count(*) AS n, coalesce(sum(d.amount_cents), 0) AS cents
            FROM deal d WHERE {sc.base} AND {sc.created_in} GROUP BY month""",
        sc.params,
    ):
        if r["month"] in months:
            months[r["month"]].update(created_deals=r["n"], created_cents=r["cents"])
    for r in _all(
        session,
        f"""SELECT substr(d.closed_on, 1, 7) AS month, s.kind, count(*) AS n, coalesce(sum(d.amount_cents), 0) AS cents
            FROM deal d JOIN stage s ON s.id = d.stage_id
            WHERE {sc.base} AND {sc.closed_in} AND s.kind IN ('won', 'lost') GROUP BY month, s.kind""",
        sc.params,
    ):
        if r["month"] in months:
            months[r["month"]].update({f"{r['kind']}_deals": r["n"], f"{r['kind']}_cents": r["cents"]})
    return list(months.values())


def by_tag(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> list[dict[str, Any]]:
    """Per tag (the service sold): sales (won in the period), pipeline generated (created in
    the period) and open pipeline now. Biggest sales first."""
    sc = _sc or _scope(session, filt)
    return _all(
        session,
        f"""
        SELECT t.id AS tag_id, t.name AS tag,
          count(CASE WHEN s.kind = 'won' AND {sc.closed_in} THEN 1 END) AS won_deals,
          coalesce(sum(CASE WHEN s.kind = 'won' AND {sc.closed_in} THEN d.amount_cents END), 0) AS won_cents,
          count(CASE WHEN {sc.created_in} THEN 1 END) AS created_deals,
          coalesce(sum(CASE WHEN {sc.created_in} THEN d.amount_cents END), 0) AS created_cents,
          count(CASE WHEN s.kind = 'open' THEN 1 END) AS open_deals,
          coalesce(sum(CASE WHEN s.kind = 'open' THEN d.amount_cents END), 0) AS open_cents
        FROM deal_tag dt JOIN tag t ON t.id = dt.tag_id JOIN deal d ON d.id = dt.deal_id
        JOIN stage s ON s.id = d.stage_id
        WHERE {sc.base}
        GROUP BY t.id
        HAVING won_deals + created_deals + open_deals > 0
        ORDER BY won_cents DESC, created_cents DESC, t.name
        """,
        sc.params,
    )


def by_stage(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> list[dict[str, Any]]:
    """Deals and value per stage: open stages hold the open deals now; won, lost and closed
    stages the deals closed in the period. Every stage is listed, in pipeline order."""
    sc = _sc or _scope(session, filt)
    where = "s.deleted_at IS NULL" + (" AND s.pipeline_id = :pipeline_id" if sc.pipeline_id is not None else "")
    rows = _all(
        session,
        f"""
        SELECT s.id AS stage_id, s.name AS stage, s.kind, s.probability, p.name AS pipeline,
               count(d.id) AS deals, coalesce(sum(d.amount_cents), 0) AS amount_cents,
               coalesce(sum(d.amount_cents * s.probability), 0) AS weighted_x100
        FROM stage s JOIN pipeline p ON p.id = s.pipeline_id AND p.deleted_at IS NULL
        LEFT JOIN deal d ON d.stage_id = s.id AND {sc.base} AND (s.kind = 'open' OR {sc.closed_in})
        WHERE {where}
        GROUP BY s.id
        ORDER BY p.position, p.id, s.position, s.id
        """,
        sc.params,
    )
    for r in rows:
        r["weighted_cents"] = r.pop("weighted_x100") // 100
    return rows


def by_source(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> list[dict[str, Any]]:
    """Lead source attribution: deals created in the period, and won value and win rate of the
    deals closed in the period, per source ("" when the deal has none). Biggest won value first."""
    sc = _sc or _scope(session, filt)
    rows = _all(
        session,
        f"""
        SELECT coalesce(d.source, '') AS source,
          count(CASE WHEN {sc.created_in} THEN 1 END) AS deals,
          count(CASE WHEN s.kind = 'won' AND {sc.closed_in} THEN 1 END) AS won_deals,
          coalesce(sum(CASE WHEN s.kind = 'won' AND {sc.closed_in} THEN d.amount_cents END), 0) AS won_cents,
          count(CASE WHEN s.kind = 'lost' AND {sc.closed_in} THEN 1 END) AS lost_deals
        FROM deal d JOIN stage s ON s.id = d.stage_id
        WHERE {sc.base}
        GROUP BY 1
        HAVING deals + won_deals + lost_deals > 0
        ORDER BY won_cents DESC, deals DESC, 1
        """,
        sc.params,
    )
    for r in rows:
        r["win_rate"] = _ratio(r["won_deals"], r["won_deals"] + r["lost_deals"])
    return rows


def lost_reasons(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> list[dict[str, Any]]:
    """Deals lost in the period per reason ("" when none was given): count and value."""
    sc = _sc or _scope(session, filt)
    rows = _all(
        session,
        f"""
        SELECT coalesce(d.lost_reason, '') AS reason, count(*) AS deals, coalesce(sum(d.amount_cents), 0) AS amount_cents
        FROM deal d JOIN stage s ON s.id = d.stage_id
        WHERE {sc.base} AND s.kind = 'lost' AND {sc.closed_in}
        GROUP BY 1 ORDER BY deals DESC, amount_cents DESC, 1
        """,
        sc.params,
    )
    total = sum(r["deals"] for r in rows)
    for r in rows:
        r["share"] = _ratio(r["deals"], total)
    return rows


def _funnel_stages(session: Session, sc: _Scope) -> tuple[Any, list[tuple[Any, int]]]:
    """The funnel's pipeline (the filter's, else the default) and its open stages then its won
    stage, each with its rank."""
    pipe = find_pipeline(session, sc.pipeline_id)
    stages = list_stages(session, pipe.id)
    ordered = [s for s in stages if s.kind == "open"] + [s for s in stages if s.kind == "won"]
    return pipe, [(s, i) for i, s in enumerate(ordered)]


def funnel(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> dict[str, Any]:
    """Of the deals created in the period (in one pipeline), how many reached each open stage and
    the won stage, from the stage history. Reached = entered that stage or a later one (a lost
    or N/A stage is not "later"). Conversion = share of a stage's deals that reached the next."""
    sc = _sc or _scope(session, filt)
    pipe, ranked = _funnel_stages(session, sc)
    params = dict(sc.params, funnel_pipeline=pipe.id)
    counts: dict[int, int] = {}
    total = 0
    if ranked:
        values = ", ".join(f"({s.id}, {rank})" for s, rank in ranked)  # ids and ranks are ints we made
        rows = _all(
            session,
            f"""
            WITH rk(stage_id, r) AS (VALUES {values}),
            cohort AS (SELECT d.id, d.stage_id FROM deal d
                       WHERE {sc.base} AND {sc.created_in} AND d.pipeline_id = :funnel_pipeline),
            reach AS (
                SELECT c.id, max(coalesce(rk.r, -1)) AS r FROM (
                    SELECT id, stage_id FROM cohort
                    UNION ALL
                    SELECT sc.deal_id, sc.to_stage_id FROM stage_change sc JOIN cohort ON cohort.id = sc.deal_id
                ) c LEFT JOIN rk ON rk.stage_id = c.stage_id
                GROUP BY c.id
            )
            SELECT r, count(*) AS n FROM reach GROUP BY r
            """,
            params,
        )
        counts = {r["r"]: r["n"] for r in rows}
        total = sum(counts.values())
    stages_out = []
    for s, rank in ranked:
        reached = sum(n for r, n in counts.items() if r >= rank)
        stages_out.append({"stage_id": s.id, "stage": s.name, "kind": s.kind, "rank": rank, "reached": reached})
    for i, row in enumerate(stages_out):
        row["conversion"] = _ratio(stages_out[i + 1]["reached"], row["reached"]) if i + 1 < len(stages_out) else None
    return {"pipeline": pipe.name, "pipeline_id": pipe.id, "deals": total, "stages": stages_out}


def forecast(session: Session, filt: ReportFilter, *, _sc: _Scope | None = None) -> dict[str, Any]:
    """Open deals by expected close month: count, amount, weighted amount, and how many of them
    are overdue (expected close before today). Deals without a close date come last (month None)."""
    sc = _sc or _scope(session, filt)
    rows = _all(
        session,
        f"""
        SELECT substr(d.expected_close, 1, 7) AS month, count(*) AS deals,
               coalesce(sum(d.amount_cents), 0) AS amount_cents,
               coalesce(sum(d.amount_cents * s.probability), 0) AS weighted_x100,
               count(CASE WHEN d.expected_close < :today THEN 1 END) AS overdue_deals,
               coalesce(sum(CASE WHEN d.expected_close < :today THEN d.amount_cents END), 0) AS overdue_cents
        FROM deal d JOIN stage s ON s.id = d.stage_id
        WHERE {sc.base} AND s.kind = 'open'
        GROUP BY 1 ORDER BY month IS NULL, month
        """,
        sc.params,
    )
    for r in rows:
        r["weighted_cents"] = r.pop("weighted_x100") // 100
    return {
        "months": rows,
        "overdue_deals": sum(r["overdue_deals"] for r in rows),
        "overdue_cents": sum(r["overdue_cents"] for r in rows),
    }


def full_report(session: Session, filt: ReportFilter | None = None) -> dict[str, Any]:
    """Every figure of the dashboard for one filter, as plain data (money in integer cents)."""
    filt = filt or ReportFilter()
    sc = _scope(session, filt)
    currency = session.connection().execute(text("SELECT value FROM setting WHERE key = 'currency'")).scalar()
    return {
        "filter": {
            "period": filt.period,
            "label": filt.label(),
            "from": sc.start.isoformat() if sc.start else None,
            "to": sc.end.isoformat() if sc.end else None,
            "pipeline": sc.pipeline_name,
            "tag": sc.tag_name,
            "today": sc.today.isoformat(),
        },
        "currency": currency or "",
        "cards": stat_cards(session, filt, _sc=sc),
        "months": monthly(session, filt, _sc=sc),
        "by_tag": by_tag(session, filt, _sc=sc),
        "by_stage": by_stage(session, filt, _sc=sc),
        "sources": by_source(session, filt, _sc=sc),
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
    tags = [r[0] for r in session.connection().execute(text("SELECT name FROM tag ORDER BY name COLLATE NOCASE"))]
    return {"pipelines": [p.name for p in list_pipelines(session)], "tags": tags}


# --- the deals behind a figure ------------------------------------------------------------------------

# Figures a bar, row or card can open; `key` says which bar or row.
DRILLS = (
    "created", "won", "lost",  # per month: key = "YYYY-MM"
    "stage",  # key = stage id
    "tag",  # key = tag id
    "source",  # key = source ("" for none)
    "lost_reason",  # key = reason ("" for none)
    "funnel",  # key = stage id of the funnel stage
    "forecast",  # key = "YYYY-MM", or "" for no close date
    "overdue", "open", "won_period", "won_month", "won_quarter", "closed_period", "no_next_step", "aging",
)


@dataclass(frozen=True)
class Drill:
    """Which figure's deals to list: a figure name from DRILLS and the bar's or row's key."""

    figure: str
    key: str | int | None = None


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
        name = session.connection().execute(text("SELECT name FROM stage WHERE id = :i"), {"i": int(key)}).scalar()  # type: ignore[arg-type]
        return (f"d.stage_id = :drill_stage AND (s.kind = 'open' OR {sc.closed_in})", p,
                f"Deals in {name or 'stage #' + str(key)}")
    if f == "tag":
        p["drill_tag"] = int(key)  # type: ignore[arg-type]
        name = session.connection().execute(text("SELECT name FROM tag WHERE id = :i"), {"i": int(key)}).scalar()  # type: ignore[arg-type]
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
    if f == "lost_reason":
        p["drill_reason"] = str(key or "")
        return (f"s.kind = 'lost' AND {sc.closed_in} AND coalesce(d.lost_reason, '') = :drill_reason", p,
                f"Deals lost: {key or '(no reason)'}")
    if f == "funnel":
        pipe, ranked = _funnel_stages(session, sc)
        rank = next((r for s, r in ranked if s.id == int(key)), None)  # type: ignore[arg-type]
        if rank is None:
            raise ValidationError(f"stage #{key} is not in the funnel of {pipe.name!r}", "stage")
        ids = [s.id for s, r in ranked if r >= rank]
        names = {s.id: s.name for s, _ in ranked}
        id_list = ", ".join(str(i) for i in ids)  # stage ids from the database: ints
        p["funnel_pipeline"] = pipe.id
        return (
            f"d.pipeline_id = :funnel_pipeline AND {sc.created_in} AND (d.stage_id IN ({id_list}) OR EXISTS ("
            f"SELECT 1 FROM stage_change x WHERE x.deal_id = d.id AND x.to_stage_id IN ({id_list})))",
            p, f"Deals that reached {names[int(key)]}",  # type: ignore[arg-type]
        )
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


def drill_count(session: Session, filt: ReportFilter, drill: Drill) -> tuple[int, str]:
    """How many deals are behind a figure, and the list's title."""
    sc = _scope(session, filt)
    where, params, title = _drill_where(session, sc, drill)
    n = session.connection().execute(
        text(f"SELECT count(*) FROM deal d JOIN stage s ON s.id = d.stage_id WHERE {sc.base} AND {where}"),
        {**sc.params, **params},
    ).scalar_one()
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
