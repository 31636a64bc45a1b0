"""The report module against a hand-made history (tests/test_reports_data.py): every expected
figure below is worked out by hand from that table. Now = 2026-11-23 09:30."""

from __future__ import annotations

import datetime as dt

import pytest

from crmtui.store import reports as R
from crmtui.store.db import Database
from crmtui.store.errors import ValidationError
from tests.test_reports_data import build


@pytest.fixture
def data(db: Database, fixed_clock) -> tuple[Database, dict[str, int]]:  # noqa: ANN001
    return db, build(db)


def report(db: Database, **kw) -> dict:  # noqa: ANN003
    with db.session() as s:
        return R.full_report(s, R.make_filter(**kw))


def titles(db: Database, figure: str, key=None, **kw) -> list[str]:  # noqa: ANN001, ANN003
    with db.session() as s:
        filt = R.make_filter(**kw)
        n, _title = R.drill_count(s, filt, R.Drill(figure, key))
        rows = R.drill_page(s, filt, R.Drill(figure, key), limit=50)
    assert n == len(rows)
    return [r["title"] for r in rows]


def test_stat_cards_all_time(data) -> None:  # noqa: ANN001
    db, _ = data
    c = report(db, period="all")["cards"]
    # Open: D5 5000 (Negotiation 70%), D6 6000 (Qualification 20%), D7 1000 (Unqualified 10%).
    assert c["open_deals"] == 3
    assert c["open_pipeline_cents"] == 12_000_00
    assert c["weighted_forecast_cents"] == 3500_00 + 1200_00 + 100_00
    # Won this month / quarter: D3 (Nov 2); D8 is deleted and never counts.
    assert (c["won_this_month_deals"], c["won_this_month_cents"]) == (1, 3000_00)
    assert (c["won_this_quarter_deals"], c["won_this_quarter_cents"]) == (1, 3000_00)
    # Won D1, D3, D9; lost D2, D4.
    assert (c["won_deals"], c["lost_deals"], c["won_cents"]) == (3, 2, 4700_00)
    assert c["win_rate"] == pytest.approx(3 / 5)
    assert c["average_won_cents"] == 156_667  # 4700 / 3 = 1566.666…, rounded to the cent
    # Cycle: D1 Dec 10 -> Jan 5 = 26 days, D3 Jan 15 -> Nov 2 = 291, D9 Mar 1 -> Mar 15 = 14.
    assert c["average_cycle_days"] == round((26 + 291 + 14) / 3, 1) == 110.3
    # No next step: D5 (no task, only a note), D7 (its tasks are done or deleted); D6 has one.
    assert c["no_next_step"] == 2
    # Aging: D5 has sat 22 days in Negotiation (expected 21); D6 3 of 14; D7 1 of 7.
    assert c["aging"] == 1


def test_won_this_month_and_quarter_at_their_edges(data) -> None:  # noqa: ANN001
    """The calendar cards read a range of the close index: its first and last days count, the days
    just outside do not, whatever the period and with the pipeline and tag filters."""
    from crmtui.store.deals import create_deal, mark_won
    from tests.test_reports_data import at

    db, _ = data
    for name, won_on, amount, tags in (("Sep 30", "2026-09-30", 11, ["seo"]), ("Oct 1", "2026-10-01", 22, ["seo"]),
                                       ("Oct 31", "2026-10-31", 44, []), ("Nov 30", "2026-11-30", 88, ["seo"]),
                                       ("Dec 31", "2026-12-31", 160, []), ("Jan 1", "2027-01-01", 320, ["seo"])):
        deal = at(db, "2026-09-01", create_deal, name, amount=amount, tags=tags)
        at(db, won_on, mark_won, deal)
    # Won in Q4 2026: D3 (Nov 2, 3000), Oct 1, Oct 31, Nov 30, Dec 31; in November: D3 and Nov 30.
    for period in ("all", "month", "12m"):
        c = report(db, period=period)["cards"]
        assert (c["won_this_quarter_deals"], c["won_this_quarter_cents"]) == (5, 3000_00 + 314_00), period
        assert (c["won_this_month_deals"], c["won_this_month_cents"]) == (2, 3088_00), period
    seo = report(db, period="all", tag="seo", pipeline="Sales")["cards"]
    assert (seo["won_this_quarter_deals"], seo["won_this_quarter_cents"]) == (2, 110_00)
    assert (seo["won_this_month_deals"], seo["won_this_month_cents"]) == (1, 88_00)
    assert report(db, period="all", pipeline="Workshops")["cards"]["won_this_quarter_deals"] == 0


def test_win_rate_and_averages_follow_the_period(data) -> None:  # noqa: ANN001
    db, _ = data
    quarter = report(db, period="quarter")["cards"]  # Oct-Dec 2026: won D3, lost D4
    assert (quarter["won_deals"], quarter["lost_deals"], quarter["win_rate"]) == (1, 1, 0.5)
    assert quarter["average_cycle_days"] == 291.0
    month = report(db, period="month")["cards"]  # Nov 2026: won D3 only
    assert month["win_rate"] == 1.0 and month["average_won_cents"] == 3000_00
    # Dec 2025 - Jan 2026: won D1, lost D2.
    custom = report(db, date_from="2025-12-01", date_to="31.01.2026")
    assert custom["filter"]["from"] == "2025-12-01" and custom["filter"]["to"] == "2026-01-31"
    assert (custom["cards"]["won_deals"], custom["cards"]["lost_deals"]) == (1, 1)
    assert custom["cards"]["average_cycle_days"] == 26.0
    # Snapshot figures ignore the period.
    assert custom["cards"]["open_pipeline_cents"] == 12_000_00
    # Nothing closed in Feb 2026: no win rate rather than 0 %.
    empty = report(db, date_from="2026-02-01", date_to="2026-02-28")["cards"]
    assert empty["win_rate"] is None and empty["average_cycle_days"] is None and empty["average_won_cents"] is None


def test_per_month_across_the_year_boundary(data) -> None:  # noqa: ANN001
    db, _ = data
    months = {m["month"]: m for m in report(db, period="12m")["months"]}
    # Rolling, 24 Nov 2025 – 23 Nov 2026: both ends are parts of a month.
    assert list(months) == ["2025-11", "2025-12"] + [f"2026-{m:02d}" for m in range(1, 12)]
    assert (months["2025-12"]["created_deals"], months["2025-12"]["created_cents"]) == (2, 3000_00)  # D1 + D2
    assert (months["2026-01"]["created_deals"], months["2026-01"]["created_cents"]) == (1, 3000_00)  # D3
    assert months["2026-01"]["won_cents"] == 1000_00 and months["2026-01"]["lost_deals"] == 1  # D1 won, D2 lost
    assert months["2026-01"]["lost_cents"] == 2000_00
    assert months["2026-03"]["won_cents"] == 700_00 and months["2026-03"]["created_cents"] == 700_00  # D9
    assert (months["2026-10"]["created_cents"], months["2026-10"]["lost_deals"]) == (4000_00, 1)  # D4
    # November: D5 + D6 + D7 created (D8 deleted), D3 won.
    assert (months["2026-11"]["created_deals"], months["2026-11"]["created_cents"]) == (3, 12_000_00)
    assert (months["2026-11"]["won_deals"], months["2026-11"]["won_cents"]) == (1, 3000_00)
    assert months["2026-02"] == {"month": "2026-02", "created_deals": 0, "created_cents": 0, "won_deals": 0,
                                 "won_cents": 0, "lost_deals": 0, "lost_cents": 0}
    # All time starts at the first deal's month.
    assert [m["month"] for m in report(db, period="all")["months"]][0] == "2025-12"
    # A from-to inside a year: only its months, and only what happened inside it.
    jan = report(db, date_from="2026-01-01", date_to="2026-01-14")["months"]
    assert [(m["month"], m["created_deals"], m["won_cents"], m["lost_deals"]) for m in jan] == [("2026-01", 0, 1000_00, 1)]


def _edge_deals(db: Database) -> None:
    """Deals created and won on the first day of the last 12 months (24 Nov 2025), the day before
    it and today (23 Nov 2026, before now)."""
    from crmtui.store.deals import create_deal, mark_won
    from tests.test_reports_data import at

    for title, day, amount in (("Out", "2025-11-23", 20), ("In", "2025-11-24", 50), ("Today", "2026-11-23T09:00:00", 30)):
        at(db, day, mark_won, at(db, day, create_deal, title, amount=amount))


def test_last_12_months_is_the_year_up_to_today(data) -> None:  # noqa: ANN001
    """The range the report names is the range it counts: from 24 Nov 2025 to today, 23 Nov 2026."""
    db, _ = data
    _edge_deals(db)
    rep = report(db, period="12m")
    assert (rep["filter"]["label"], rep["filter"]["from"], rep["filter"]["to"]) == (
        "Last 12 months", "2025-11-24", "2026-11-23")
    # Won: D1, D3, D9 of the history, and In and Today; not Out, a day before the range.
    assert (rep["cards"]["won_deals"], rep["cards"]["won_cents"]) == (5, 4700_00 + 50_00 + 30_00)
    assert sorted(titles(db, "won_period", period="12m")) == ["Alpha", "Gamma", "In", "Iota", "Today"]
    months = {m["month"]: m for m in rep["months"]}
    assert (months["2025-11"]["created_deals"], months["2025-11"]["won_cents"]) == (1, 50_00)  # In, not Out
    assert (months["2026-11"]["won_deals"], months["2026-11"]["won_cents"]) == (2, 3000_00 + 30_00)  # D3, Today
    assert sum(m["won_deals"] for m in rep["months"]) == rep["cards"]["won_deals"]
    assert titles(db, "created", "2025-11", period="12m") == ["In"]


def test_breakdowns(data) -> None:  # noqa: ANN001
    db, _ = data
    rep = report(db, period="all")
    tags = {t["tag"]: t for t in rep["by_tag"]}
    assert [t["tag"] for t in rep["by_tag"]] == ["branding", "website", "seo"]
    assert {k: tags["branding"][k] for k in ("won_deals", "won_cents", "created_deals", "created_cents",
                                             "open_deals", "open_cents")} == {
        "won_deals": 2, "won_cents": 4000_00, "created_deals": 3, "created_cents": 10_000_00,
        "open_deals": 1, "open_cents": 6000_00}
    assert (tags["website"]["won_cents"], tags["website"]["open_cents"], tags["website"]["created_cents"]) == (
        3000_00, 5000_00, 10_000_00)
    assert (tags["seo"]["won_deals"], tags["seo"]["created_cents"]) == (0, 4000_00)

    stages = {(r["pipeline"], r["stage"]): r for r in rep["by_stage"]}
    assert len(rep["by_stage"]) == 9 + 3
    assert (stages["Sales", "Negotiation"]["deals"], stages["Sales", "Negotiation"]["weighted_cents"]) == (1, 3500_00)
    assert (stages["Sales", "Won"]["deals"], stages["Sales", "Won"]["amount_cents"]) == (2, 4000_00)
    assert (stages["Sales", "Lost"]["deals"], stages["Sales", "Lost"]["amount_cents"]) == (2, 6000_00)
    assert stages["Sales", "Writing proposal"]["deals"] == 0
    assert stages["Workshops", "Done"]["amount_cents"] == 700_00

    sources = [(r["source"], r["deals"], r["won_deals"], r["won_cents"], r["lost_deals"], r["win_rate"])
               for r in rep["sources"]]
    assert sources == [
        ("Referral", 3, 2, 4000_00, 1, pytest.approx(2 / 3)),
        ("", 2, 1, 700_00, 0, 1.0),  # D7 and D9 have no source
        ("Website", 2, 0, 0, 1, 0.0),
        ("LinkedIn", 1, 0, 0, 0, None),
    ]
    assert [(r["reason"], r["deals"], r["amount_cents"], r["share"]) for r in rep["lost_reasons"]] == [
        ("Timing", 1, 4000_00, 0.5), ("Price too high", 1, 2000_00, 0.5)]
    # The quarter: only D4 was lost.
    assert [r["reason"] for r in report(db, period="quarter")["lost_reasons"]] == ["Timing"]


def test_funnel_from_stage_history(data) -> None:  # noqa: ANN001
    db, _ = data
    f = report(db, period="all")["funnel"]
    assert f["pipeline"] == "Sales" and f["deals"] == 7  # D1-D7 (D8 deleted, D9 in Workshops)
    # Furthest reached: D1 Won, D2 Unqualified (lost), D3 Won (skipped stages), D4 Proposal sent,
    # D5 Negotiation, D6 Qualification, D7 Unqualified.
    assert [(s["stage"], s["reached"]) for s in f["stages"]] == [
        ("Unqualified", 7), ("Qualification", 5), ("Writing proposal", 4), ("Proposal sent", 4),
        ("Negotiation", 3), ("Contract out for signature", 2), ("Won", 2)]
    assert [s["conversion"] for s in f["stages"]] == [
        pytest.approx(5 / 7), pytest.approx(4 / 5), 1.0, pytest.approx(3 / 4), pytest.approx(2 / 3), 1.0, None]
    # Created this quarter: D4, D5, D6, D7.
    q = report(db, period="quarter")["funnel"]
    assert [s["reached"] for s in q["stages"]] == [4, 3, 2, 2, 1, 0, 0]
    assert [s["conversion"] for s in q["stages"]][-3:] == [0.0, None, None]
    w = report(db, period="all", pipeline="workshops")["funnel"]
    assert [(s["stage"], s["reached"]) for s in w["stages"]] == [("Booked", 1), ("Done", 1)]


@pytest.mark.parametrize("kw", [
    {"period": "all"}, {"period": "quarter"}, {"period": "12m", "tag": "branding"},
    {"date_from": "2025-12-01", "date_to": "2026-01-31"}, {"date_from": "2026-10-01"}, {"date_to": "2025-12-15"},
    {"period": "all", "pipeline": "Workshops"}, {"date_from": "2026-02-01", "date_to": "2026-02-28"},
])
def test_funnel_counts_the_same_from_the_whole_history_or_deal_by_deal(data, kw) -> None:  # noqa: ANN001
    """A long period streams the whole stage history; a short one (a tenth of the deals or less)
    seeks each of its deals' history. Both give the same counts."""
    db, _ = data
    with db.session() as s:
        sc = R._scope(s, R.make_filter(**kw))
        counts = {}
        for sequential in (True, False):
            sc.sequential, sc.cache = sequential, {}
            counts[sequential] = R._funnel_counts(s, sc)[2]
    assert counts[True] == counts[False]
    if kw == {"period": "all"}:
        assert sum(counts[True].values()) == 7  # D1-D7


def test_forecast_by_expected_close_month(data) -> None:  # noqa: ANN001
    db, _ = data
    fc = report(db, period="month")["forecast"]
    assert [(m["month"], m["deals"], m["amount_cents"], m["weighted_cents"], m["overdue_deals"]) for m in fc["months"]] == [
        ("2026-11", 1, 5000_00, 3500_00, 1),  # D5, expected Nov 10: overdue
        ("2026-12", 1, 6000_00, 1200_00, 0),  # D6
        (None, 1, 1000_00, 100_00, 0),  # D7 has no close date
    ]
    assert (fc["overdue_deals"], fc["overdue_cents"]) == (1, 5000_00)


def test_pipeline_and_tag_filters(data) -> None:  # noqa: ANN001
    db, _ = data
    w = report(db, period="all", pipeline="Workshops")
    assert w["filter"]["pipeline"] == "Workshops"
    assert (w["cards"]["won_deals"], w["cards"]["won_cents"], w["cards"]["open_deals"]) == (1, 700_00, 0)
    assert [r["stage"] for r in w["by_stage"]] == ["Booked", "Done", "Cancelled"]
    assert sum(m["created_deals"] for m in w["months"]) == 1
    b = report(db, period="all", tag="#Branding")  # case and '#' don't matter
    assert b["filter"]["tag"] == "branding"
    # D1 (won), D3 (won), D6 (open 6000 at 20 %); D8 is deleted.
    assert (b["cards"]["open_pipeline_cents"], b["cards"]["weighted_forecast_cents"]) == (6000_00, 1200_00)
    assert (b["cards"]["won_deals"], b["cards"]["lost_deals"], b["cards"]["win_rate"]) == (2, 0, 1.0)
    assert [(r["source"], r["deals"]) for r in b["sources"]] == [("Referral", 2), ("LinkedIn", 1)]
    assert [s["reached"] for s in b["funnel"]["stages"]] == [3, 3, 2, 2, 2, 2, 2]  # D1, D3 won; D6 in Qualification
    both = report(db, period="quarter", tag="website", pipeline="Sales")
    assert both["cards"]["open_pipeline_cents"] == 5000_00 and both["cards"]["won_deals"] == 1  # D5; D3 won Nov 2


def test_drill_lists_the_deals_behind_each_figure(data) -> None:  # noqa: ANN001
    db, ids = data
    assert titles(db, "created", "2025-12", period="12m") == ["Beta", "Alpha"]
    assert titles(db, "won", "2026-11", period="12m") == ["Gamma"]
    assert titles(db, "lost", "2026-01", period="all") == ["Beta"]
    assert titles(db, "funnel", _stage_id(db, "Negotiation"), period="all") == ["Epsilon", "Gamma", "Alpha"]
    assert titles(db, "stage", _stage_id(db, "Won"), period="all") == ["Gamma", "Alpha"]
    assert titles(db, "stage", _stage_id(db, "Won"), period="quarter") == ["Gamma"]
    assert titles(db, "source", "", period="all") == ["Eta", "Iota"]
    assert titles(db, "lost_reason", "Timing", period="all") == ["Delta"]
    assert titles(db, "forecast", "2026-12") == ["Zeta"]
    assert titles(db, "forecast", "") == ["Eta"]
    assert titles(db, "overdue") == ["Epsilon"]
    assert titles(db, "no_next_step") == ["Eta", "Epsilon"]
    assert titles(db, "aging") == ["Epsilon"]
    assert titles(db, "open", tag="branding") == ["Zeta"]
    assert titles(db, "won_month") == ["Gamma"]
    with db.session() as s:
        tag_id = s.execute("SELECT id FROM tag WHERE name = 'branding'").scalar()
    assert titles(db, "tag", tag_id, period="all") == ["Zeta", "Gamma", "Alpha"]
    # Paging: two at a time, newest first, never the deleted deal.
    with db.session() as s:
        filt = R.make_filter("all")
        pages = [[r["id"] for r in R.drill_page(s, filt, R.Drill("created", m), offset=o, limit=1)]
                 for m, o in (("2025-12", 0), ("2025-12", 1), ("2025-12", 2))]
    assert pages == [[ids["D2"]], [ids["D1"]], []]


def _stage_id(db: Database, name: str) -> int:
    with db.session() as s:
        return s.execute(
            "SELECT s.id FROM stage s JOIN pipeline p ON p.id = s.pipeline_id WHERE p.name = 'Sales' AND s.name = ?",
            (name,),
        ).scalar()


def test_empty_database_gives_zeros_not_errors(db: Database, fixed_clock) -> None:  # noqa: ANN001
    rep = report(db, period="all")
    assert rep["cards"]["open_deals"] == 0 and rep["cards"]["win_rate"] is None
    assert [m["month"] for m in rep["months"]] == ["2026-11"]
    assert rep["by_tag"] == [] and rep["sources"] == [] and rep["forecast"]["months"] == []
    assert [s["reached"] for s in rep["funnel"]["stages"]] == [0] * 7


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"period": "fortnight"}, "period: 'fortnight' is not one of month, quarter, 12m, ytd, all"),
        ({"date_from": "2026-05-01", "date_to": "2026-04-01"}, "from: 2026-05-01 is after to (2026-04-01)"),
        ({"date_from": "someday"}, "from"),
        ({"period": "month", "date_from": "2026-01-01"}, "give either --period or --from/--to"),
    ],
)
def test_bad_filters_say_what_is_wrong(kwargs, message) -> None:  # noqa: ANN001
    with pytest.raises(ValidationError) as info:
        R.make_filter(**kwargs)
    assert message in info.value.message


def test_unknown_pipeline_or_tag(data) -> None:  # noqa: ANN001
    db, _ = data
    with pytest.raises(ValidationError, match="unknown tag 'nope'.*branding"):
        report(db, tag="nope")
    with pytest.raises(ValidationError, match="unknown pipeline 'Nope'"):
        report(db, pipeline="Nope")


def test_periods_and_json() -> None:
    today = dt.date(2026, 11, 23)
    w = lambda p: R.period_window(R.make_filter(p), today)  # noqa: E731
    assert w("month") == (dt.date(2026, 11, 1), dt.date(2026, 11, 30))
    assert w("quarter") == (dt.date(2026, 10, 1), dt.date(2026, 12, 31))
    assert w("12m") == (dt.date(2025, 11, 24), today)
    assert R.period_window(R.make_filter("12m"), dt.date(2028, 2, 29)) == (dt.date(2027, 3, 1), dt.date(2028, 2, 29))
    assert w("ytd") == (dt.date(2026, 1, 1), today)
    assert w("all") == (None, None)
    assert R.period_window(R.make_filter(date_from="2026-02-03"), today) == (dt.date(2026, 2, 3), None)
    assert R.make_filter("last-12-months").period == "12m" and R.make_filter("Year to date").period == "ytd"
    assert R.make_filter("all").next_period().period == "month"
    assert R.report_json({"a_cents": 1250, "b": [{"c_cents": 1}], "d_cents": None}) == {"a": 12.5, "b": [{"c": 0.01}], "d": None}
    assert R.cents_to_number(1_250_000) == 12500


def test_the_big_scans_group_from_index_order_without_sorting(data) -> None:  # noqa: ANN001
    """The created / closed / open / tag scans of a long period read an index that hands rows over
    in group order (schema 7): SQLite must not sort every deal ("USE TEMP B-TREE FOR GROUP BY"),
    which made each scan 4-9x slower on 100,000 deals. Won this month / quarter seeks a range of
    the close index."""
    db, _ids = data
    statements: list[tuple[str, dict]] = []

    for filt in (R.ReportFilter(period="all"), R.ReportFilter(period="all", pipeline="Sales", tag="website")):
        with db.session() as s:
            execute = s.execute

            def seen(sql, params=(), execute=execute):  # noqa: ANN001, ANN202
                statements.append((sql, params))
                return execute(sql, params)

            s.execute = seen
            sc = R._scope(s, filt)
            assert sc.sequential
            for scan in (R._created_groups, R._closed_groups, R._open_groups, R._tag_groups, R._calendar,
                         R._funnel_counts):
                statements.clear()
                scan(s, sc)
                sql, params = statements[-1]
                plan = " / ".join(r[3] for r in execute("EXPLAIN QUERY PLAN " + sql, params))
                if scan is R._funnel_counts:
                    # Grouped by deal from the history index, streamed into the join (not
                    # written to a temporary table first); only the few ranks are sorted.
                    assert "COVERING INDEX ix_stage_change_deal_stage" in plan, plan
                    assert "MATERIALIZE" not in plan and plan.count("TEMP B-TREE") == 1, plan
                else:
                    assert " INDEX ix_" in plan and "TEMP B-TREE" not in plan, (scan.__name__, plan)
