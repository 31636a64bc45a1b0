"""The sales activity report: how much selling work was done in a period, and what it led to.

Read through the dashboard's `ReportFilter` (period, pipeline, tag). The figures:

- per bucket of the period (weeks, Monday to Sunday, for a month or a quarter and a from–to of up
  to 92 days; calendar months for anything longer), cut to the period's ends:
  - notes, calls, emails and meetings *logged*: by the day they happened (`occurred_at`);
  - tasks *done*: by the day they were marked done;
  - tasks *left overdue*: by their due date, the tasks whose due date has passed (before today)
    and that were not done by it: still open, or done on a later day. A task due today or later
    is not overdue yet; a task done on or before its due date never is.
- per stage, the work spent on the deals *closed in the period* (won against lost): every logged
  activity and done task of such a deal, counted in the stage the deal was in when it happened
  (from the deal's stage history; before its first recorded change, the stage it started in).
  Work logged after the close counts in the won or lost stage.
- deals *touched*: deals with an activity of any kind logged, or a task done, in the period; the
  *open deals left untouched*: deals open now without one.

With a pipeline or tag filter only activities on the deals it selects count; without one,
activities logged on a company or contact alone count too. Deleted activities and the activities
of deleted deals never count.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from crmtui.store.errors import ValidationError
from crmtui.store.reports import (ReportFilter, _all, _in_list, _Scope, _scope, _stages, month_keys, month_label,
                                  filter_json, period_between)
from crmtui.store.sql import Session

# The kinds logged as they happen, in the order the report shows them (JSON key, kind).
LOGGED_KINDS = (("notes", "note"), ("calls", "call"), ("emails", "email"), ("meetings", "meeting"))
# A from–to period up to this many days is shown in weeks, a longer one in months.
WEEKS_UP_TO_DAYS = 92
COUNTS = ("notes", "calls", "emails", "meetings", "logged", "tasks_done", "tasks_overdue")


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def bucket_size(sc: _Scope) -> str:
    """'week' or 'month': weeks for a month, a quarter or a short from–to period."""
    if sc.filt.period in ("month", "quarter"):
        return "week"
    if sc.filt.period == "custom" and sc.start and sc.end:
        return "week" if (sc.end - sc.start).days < WEEKS_UP_TO_DAYS else "month"
    return "month"


def bucket_label(bucket: dict[str, Any]) -> str:
    """`Nov 2026` for a month; `16 Nov` for a week: its first day in the period (its Monday, but
    for a week cut by the period's start)."""
    if bucket["bucket"].count("-") == 1:
        return month_label(bucket["bucket"])
    return dt.date.fromisoformat(bucket["start"]).strftime("%d %b").lstrip("0")


# --- SQL fragments ------------------------------------------------------------------------------


def _activity_scope(sc: _Scope) -> str:
    """The activities the filter counts (alias `a`, its deal `d` LEFT JOINed)."""
    if sc.pipeline_id is None and sc.tag_id is None:
        return f"a.deleted_at IS NULL AND (a.deal_id IS NULL OR ({sc.base}))"
    return f"a.deleted_at IS NULL AND a.deal_id IS NOT NULL AND d.id IS NOT NULL AND {sc.base}"


_OVERDUE = "a.due_on < :today AND (a.done_at IS NULL OR substr(a.done_at, 1, 10) > a.due_on)"


def _work_sql(sc: _Scope, session: Session) -> str:
    """The work on deals closed in the period: one row per logged activity or done task, with the
    deal's outcome (won/lost) and the stage the deal was in at that moment."""
    closed = f"{_in_list(session, sc, 'won')}, {_in_list(session, sc, 'lost')}"
    return f"""
        WITH work AS (
            SELECT a.id AS activity_id, a.deal_id, s.kind AS outcome,
                   CASE WHEN a.kind = 'task' THEN a.done_at ELSE a.occurred_at END AS at
            FROM deal d JOIN stage s ON s.id = d.stage_id
            JOIN activity a ON a.deal_id = d.id
            WHERE {sc.base} AND d.stage_id IN ({closed}) AND s.kind IN ('won', 'lost') AND {sc.closed_in}
              AND a.deleted_at IS NULL AND (a.kind != 'task' OR a.done_at IS NOT NULL)
        ), staged AS (
            SELECT w.*, coalesce(
                (SELECT x.to_stage_id FROM stage_change x WHERE x.deal_id = w.deal_id AND x.changed_at <= w.at
                 ORDER BY x.changed_at DESC, x.id DESC LIMIT 1),
                (SELECT coalesce(x.from_stage_id, x.to_stage_id) FROM stage_change x WHERE x.deal_id = w.deal_id
                 ORDER BY x.changed_at, x.id LIMIT 1),
                (SELECT d.stage_id FROM deal d WHERE d.id = w.deal_id)) AS stage_id
            FROM work w
        )"""


# --- the figures ------------------------------------------------------------------------------------


def _buckets(session: Session, sc: _Scope) -> tuple[str, list[dict[str, Any]]]:
    """Per bucket of the period: logged activities by kind, tasks done, tasks left overdue."""
    days = _all(
        session,
        f"""
        SELECT a.kind AS what, substr(a.occurred_at, 1, 10) AS day, count(*) AS n
        FROM activity a LEFT JOIN deal d ON d.id = a.deal_id
        WHERE {_activity_scope(sc)} AND a.kind != 'task' AND {period_between("a.occurred_at", sc)}
        GROUP BY a.kind, day
        UNION ALL
        SELECT 'done', substr(a.done_at, 1, 10), count(*)
        FROM activity a LEFT JOIN deal d ON d.id = a.deal_id
        WHERE {_activity_scope(sc)} AND a.kind = 'task' AND {period_between("a.done_at", sc)}
        GROUP BY substr(a.done_at, 1, 10)
        UNION ALL
        SELECT 'overdue', a.due_on, count(*)
        FROM activity a LEFT JOIN deal d ON d.id = a.deal_id
        WHERE {_activity_scope(sc)} AND a.kind = 'task' AND {period_between("a.due_on", sc, "start", "end_next")}
          AND {_OVERDUE}
        GROUP BY a.due_on
        """,
        sc.params,
    )
    size = bucket_size(sc)
    start, end = sc.start, sc.end
    seen = [r["day"] for r in days if r["day"]]
    if start is None:
        start = dt.date.fromisoformat(min(seen)) if seen else sc.today
    if end is None:
        end = max([sc.today] + ([dt.date.fromisoformat(max(seen))] if seen else []))
    buckets: dict[str, dict[str, Any]] = {}
    for key, first, last in _bucket_ranges(size, start, end):
        buckets[key] = {"bucket": key, "start": first.isoformat(), "end": last.isoformat(), **dict.fromkeys(COUNTS, 0)}
    names = {kind: name for name, kind in LOGGED_KINDS} | {"done": "tasks_done", "overdue": "tasks_overdue"}
    for r in days:
        day = dt.date.fromisoformat(r["day"])
        b = buckets.get(day.isoformat()[:7] if size == "month" else _monday(day).isoformat())
        if b is None or r["what"] not in names:
            continue
        b[names[r["what"]]] += r["n"]
        if r["what"] in ("note", "call", "email", "meeting"):
            b["logged"] += r["n"]
    return size, list(buckets.values())


def _bucket_ranges(size: str, start: dt.date, end: dt.date) -> list[tuple[str, dt.date, dt.date]]:
    """(key, first day, last day) of each bucket from `start` to `end`, cut to them."""
    if start > end:
        return []
    if size == "month":
        ranges = []
        for key in month_keys(start, end):
            first = dt.date.fromisoformat(key + "-01")
            nxt = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
            ranges.append((key, max(first, start), min(nxt - dt.timedelta(days=1), end)))
        return ranges
    ranges, monday = [], _monday(start)
    while monday <= end:
        ranges.append((monday.isoformat(), max(monday, start), min(monday + dt.timedelta(days=6), end)))
        monday += dt.timedelta(days=7)
    return ranges


def _by_stage(session: Session, sc: _Scope) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per stage: the work on deals won and on deals lost in the period, and the outcomes."""
    groups = _all(
        session,
        _work_sql(sc, session) + """
        SELECT stage_id, outcome, count(*) AS n, count(DISTINCT deal_id) AS deals
        FROM staged GROUP BY stage_id, outcome""",
        sc.params,
    )
    closed = _all(
        session,
        f"""SELECT s.kind, count(*) AS n FROM deal d JOIN stage s ON s.id = d.stage_id
            WHERE {sc.base} AND s.kind IN ('won', 'lost') AND {sc.closed_in} GROUP BY s.kind""",
        sc.params,
    )
    won_deals = next((r["n"] for r in closed if r["kind"] == "won"), 0)
    lost_deals = next((r["n"] for r in closed if r["kind"] == "lost"), 0)
    stages = dict(_stages(session, sc))
    missing = {g["stage_id"] for g in groups} - set(stages)
    for sid in sorted(missing):  # a deleted stage, or one of another pipeline the deal moved from
        row = session.execute(
            """SELECT s.id, s.name, s.kind, p.name AS pipeline FROM stage s
               JOIN pipeline p ON p.id = s.pipeline_id WHERE s.id = :i""", {"i": sid}).fetchone()
        stages[sid] = dict(row) if row else {"id": sid, "name": f"stage #{sid}", "kind": "open", "pipeline": ""}
    counts = {(g["stage_id"], g["outcome"]): g for g in groups}
    rows = []
    for sid, s in stages.items():
        won, lost = counts.get((sid, "won"), {}), counts.get((sid, "lost"), {})
        if s["kind"] != "open" and not won and not lost:
            continue
        rows.append({
            "stage_id": sid, "stage": s["name"], "kind": s["kind"], "pipeline": s["pipeline"],
            "won": won.get("n", 0), "lost": lost.get("n", 0),
            "won_deals": won.get("deals", 0), "lost_deals": lost.get("deals", 0),
            "won_per_deal": _per(won.get("n", 0), won_deals), "lost_per_deal": _per(lost.get("n", 0), lost_deals),
        })
    won_total, lost_total = sum(r["won"] for r in rows), sum(r["lost"] for r in rows)
    outcomes = {
        "won_deals": won_deals, "lost_deals": lost_deals, "won_activities": won_total, "lost_activities": lost_total,
        "won_per_deal": _per(won_total, won_deals), "lost_per_deal": _per(lost_total, lost_deals),
    }
    return rows, outcomes


def _per(activities: int, deals: int) -> float | None:
    return round(activities / deals, 1) if deals else None


def _reach(session: Session, sc: _Scope) -> dict[str, int]:
    """Deals touched in the period, deals open now, and open deals left untouched."""
    opened = f"d.stage_id IN ({_in_list(session, sc, 'open')})"
    row = session.execute(
        f"""
        SELECT count(*) AS touched, count(CASE WHEN {opened} THEN 1 END) AS touched_open
        FROM deal d WHERE {sc.base} AND d.id IN (
            SELECT a.deal_id FROM activity a WHERE a.deal_id IS NOT NULL AND a.deleted_at IS NULL
              AND ({period_between('a.occurred_at', sc)} OR {period_between('a.done_at', sc)}))
        """,
        sc.params,
    ).fetchone()
    open_deals = session.execute(f"SELECT count(*) FROM deal d WHERE {sc.base} AND {opened}", sc.params).scalar()
    return {"touched": row["touched"], "open": open_deals, "open_untouched": open_deals - row["touched_open"]}


def activity_report(session: Session, filt: ReportFilter | None = None) -> dict[str, Any]:
    """Every figure of the sales activity report for one filter, as plain data (see the module)."""
    filt = filt or ReportFilter()
    sc = _scope(session, filt)
    size, buckets = _buckets(session, sc)
    stages, outcomes = _by_stage(session, sc)
    return {
        "filter": filter_json(filt, sc),
        "bucket": size,
        "buckets": buckets,
        "totals": {key: sum(b[key] for b in buckets) for key in COUNTS},
        "by_stage": stages,
        "outcomes": outcomes,
        "deals": _reach(session, sc),
    }


# --- the activities behind a figure --------------------------------------------------------------

# Figures a bucket cell or stage row can open.
ACTIVITY_DRILLS = ("all", "logged", "note", "call", "email", "meeting", "tasks_done", "tasks_overdue", "stage")


@dataclass(frozen=True)
class ActivityDrill:
    """Which activities to list: a figure of ACTIVITY_DRILLS; a bucket's days (`start`/`end`,
    ISO dates) for the bucket figures; a stage id and outcome ("won", "lost", None for both)
    for "stage"."""

    figure: str
    start: str | None = None
    end: str | None = None
    stage_id: int | None = None
    outcome: str | None = None


def _drill_where(sc: _Scope, drill: ActivityDrill) -> tuple[str, dict[str, Any], str]:
    """The WHERE clause (beyond the filter) of a bucket figure's activities, parameters, title."""
    if drill.figure not in ACTIVITY_DRILLS:
        raise ValidationError(f"figure: {drill.figure!r} is not one of {', '.join(ACTIVITY_DRILLS)}", "figure")
    try:
        first = dt.date.fromisoformat(drill.start or "")
        last = dt.date.fromisoformat(drill.end or "")
    except ValueError:
        raise ValidationError("dates: a bucket needs its first and last day as YYYY-MM-DD", "start") from None
    p = {"b0": first.isoformat(), "b1": (last + dt.timedelta(days=1)).isoformat()}
    span = first.strftime("%d %b %Y").lstrip("0") if first == last else (
        f"{first.strftime('%d %b').lstrip('0')} – {last.strftime('%d %b %Y').lstrip('0')}")
    logged = "(a.kind != 'task' AND a.occurred_at >= :b0 AND a.occurred_at < :b1)"
    done = "(a.kind = 'task' AND a.done_at >= :b0 AND a.done_at < :b1)"
    overdue = f"(a.kind = 'task' AND a.due_on >= :b0 AND a.due_on < :b1 AND {_OVERDUE})"
    kinds = {kind: (f"(a.kind = '{kind}' AND a.occurred_at >= :b0 AND a.occurred_at < :b1)", f"{name.capitalize()}")
             for name, kind in LOGGED_KINDS}
    choices = {
        "all": (f"({logged} OR {done} OR {overdue})", "Activities"),
        "logged": (logged, "Notes, calls, emails and meetings"),
        "tasks_done": (done, "Tasks done"),
        "tasks_overdue": (overdue, "Tasks left overdue, due"),
        **kinds,
    }
    where, title = choices[drill.figure]
    return where, p, f"{title} {span}" if drill.figure == "tasks_overdue" else f"{title}, {span}"


def _drill_query(session: Session, sc: _Scope, drill: ActivityDrill) -> tuple[str, dict[str, Any], str]:
    """SQL selecting the drill's activity ids (column `id`), its parameters and a title."""
    if drill.figure == "stage":
        if drill.stage_id is None or drill.outcome not in (None, "won", "lost"):
            raise ValidationError("stage: give a stage id and an outcome of won, lost or neither", "stage")
        name = session.execute("SELECT name FROM stage WHERE id = :i", {"i": drill.stage_id}).scalar()
        outcome = {"won": "won", "lost": "lost"}.get(drill.outcome or "", "won or lost")
        p = {"drill_stage": drill.stage_id, "drill_outcome": drill.outcome}
        sql = (_work_sql(sc, session) + " SELECT activity_id AS id FROM staged WHERE stage_id = :drill_stage"
               " AND (:drill_outcome IS NULL OR outcome = :drill_outcome)")
        return sql, p, f"Work in {name or 'stage #' + str(drill.stage_id)} on deals {outcome} in the period"
    where, p, title = _drill_where(sc, drill)
    sql = f"SELECT a.id FROM activity a LEFT JOIN deal d ON d.id = a.deal_id WHERE {_activity_scope(sc)} AND {where}"
    return sql, p, title


def activity_drill_count(session: Session, filt: ReportFilter, drill: ActivityDrill) -> tuple[int, str]:
    """How many activities are behind a figure, and the list's title."""
    sc = _scope(session, filt)
    sql, p, title = _drill_query(session, sc, drill)
    return session.execute(f"SELECT count(*) FROM ({sql})", {**sc.params, **p}).scalar(), title


def activity_drill_page(session: Session, filt: ReportFilter, drill: ActivityDrill, *, offset: int = 0,
                        limit: int = 100) -> list[dict[str, Any]]:
    """One page of the activities behind a figure, latest first: id, kind, day (logged: when it
    happened; task: when done, else its due date), body, due date, done?, the deal (id, title) and
    the customer (company, else contact) with its id."""
    sc = _scope(session, filt)
    sql, p, _title = _drill_query(session, sc, drill)
    return _all(
        session,
        f"""
        WITH ids AS ({sql})
        SELECT a.id, a.kind, a.body, a.due_on, a.done_at IS NOT NULL AS done,
               substr(CASE WHEN a.kind != 'task' THEN a.occurred_at WHEN a.done_at IS NOT NULL THEN a.done_at
                           ELSE a.due_on END, 1, 10) AS day,
               a.deal_id, d.title AS deal, coalesce(c.name, ct.name, '') AS customer,
               coalesce(a.company_id, d.company_id) AS company_id, coalesce(a.contact_id, d.contact_id) AS contact_id
        FROM activity a JOIN ids ON ids.id = a.id
        LEFT JOIN deal d ON d.id = a.deal_id
        LEFT JOIN company c ON c.id = coalesce(a.company_id, d.company_id)
        LEFT JOIN contact ct ON ct.id = coalesce(a.contact_id, d.contact_id)
        ORDER BY day DESC, a.id DESC
        LIMIT :limit OFFSET :offset
        """,
        {**sc.params, **p, "limit": limit, "offset": offset},
    )
