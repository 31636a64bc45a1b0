"""`crmtui report` over the hand-made history: tables, --json, --markdown and bad options."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from crmtui.cli import app
from crmtui.store.db import open_database
from tests.conftest import snapshot_of
from tests.test_reports_data import build

runner = CliRunner()


@pytest.fixture
def seeded(db_path: Path, fixed_clock) -> Path:  # noqa: ANN001
    db = open_database(db_path)
    build(db)
    db.close()
    return db_path


def run(db_path: Path, *args: str):  # noqa: ANN201
    return runner.invoke(app, ["--db", str(db_path), "report", *args], catch_exceptions=False)


def test_json_gives_every_figure_as_numbers(seeded: Path) -> None:
    result = run(seeded, "--period", "all", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    cards = data["cards"]
    assert cards["open_pipeline"] == 12000 and cards["weighted_forecast"] == 4800
    assert cards["average_won"] == 1566.67 and cards["win_rate"] == 0.6 and cards["average_cycle_days"] == 110.3
    assert (cards["won_this_month"], cards["won_this_month_deals"]) == (3000, 1)
    assert data["filter"] == {"period": "all", "label": "All time", "from": None, "to": None, "pipeline": None,
                              "tag": None, "today": "2026-11-23"}
    dec = data["months"][0]
    assert dec == {"month": "2025-12", "created_deals": 2, "created": 3000, "won_deals": 0, "won": 0,
                   "lost_deals": 0, "lost": 0}
    assert [s["reached"] for s in data["funnel"]["stages"]] == [7, 5, 4, 4, 3, 2, 2]
    assert data["forecast"]["overdue"] == 5000 and data["forecast"]["overdue_deals"] == 1
    assert data["currency"] == "USD"


def test_filters_reach_the_figures(seeded: Path) -> None:
    q = json.loads(run(seeded, "--period", "quarter", "--tag", "website", "--json").stdout)
    assert q["filter"]["tag"] == "website" and q["filter"]["from"] == "2026-10-01"
    assert (q["cards"]["won_deals"], q["cards"]["open_pipeline"]) == (1, 5000)
    custom = json.loads(run(seeded, "--from", "2025-12-01", "--to", "2026-01-31", "--json").stdout)
    assert custom["cards"]["win_rate"] == 0.5 and [m["month"] for m in custom["months"]] == ["2025-12", "2026-01"]
    w = json.loads(run(seeded, "--pipeline", "Workshops", "--period", "ytd", "--json").stdout)
    assert w["cards"]["won"] == 700 and w["funnel"]["pipeline"] == "Workshops"


def test_tables_show_cards_months_and_breakdowns(seeded: Path) -> None:
    result = run(seeded, "--period", "12m")
    assert result.exit_code == 0
    text = result.stdout
    assert "Last 12 months (2025-11-24 to 2026-11-23) · all pipelines · amounts in USD" in text
    assert "Open pipeline" in text and "12,000" in text and "Weighted forecast" in text and "4,800" in text
    assert "60% (3 won, 2 lost)" in text and "110.3 days" in text
    lines = text.splitlines()
    dec = next(line for line in lines if line.strip().startswith("Dec 2025"))
    assert "3,000" in dec and "│" in dec
    nov = next(line for line in lines if line.strip().startswith("Nov 2026") and "12,000" in line)
    assert "█" in nov  # the biggest sales month carries the longest bar
    assert "Funnel: Sales, 7 deals created in the period" in text  # D1-D7, from Dec 10 on
    assert "Funnel: Sales, 4 deals created in the period" in run(seeded, "--period", "quarter").stdout
    assert "Timing" in text and "Price too high" in text
    assert "Referral" in text and "67%" in text


def test_last_12_months_names_the_range_it_counts(seeded: Path) -> None:
    from tests.test_reports import _edge_deals

    db = open_database(seeded)
    _edge_deals(db)  # won on 23 Nov 2025 (out), 24 Nov 2025 (in) and today
    db.close()
    text = run(seeded, "--period", "12m").stdout
    assert "Last 12 months (2025-11-24 to 2026-11-23)" in text
    assert "71% (5 won, 2 lost)" in text
    data = json.loads(run(seeded, "--period", "12m", "--json").stdout)
    assert (data["filter"]["from"], data["filter"]["to"], data["cards"]["won_deals"]) == ("2025-11-24", "2026-11-23", 5)


def test_tables_fit_a_narrow_terminal_without_cutting_a_figure(seeded: Path, fixed_clock) -> None:  # noqa: ANN001
    """In an 80-column terminal the figures stay whole (their headers wrap) and the bars take the
    room left, or step aside; at 160 columns every bar table has its 16-cell bars."""
    from crmtui.cli.common import out
    from crmtui.cli.reports import print_tables
    from crmtui.store import reports as R

    db = open_database(seeded)
    with db.session() as s:
        rep = R.full_report(s, R.make_filter("all"))
    db.close()
    # Big figures, as on a real database: the widest the tables get.
    for m in rep["months"]:
        m["created_cents"], m["created_deals"] = m["created_cents"] * 10_000, m["created_deals"] * 1000
    for t in rep["by_tag"]:
        t["open_cents"], t["created_cents"] = 15_579_250_00 + t["open_cents"], 6_859_000_00
        t["won_cents"], t["open_deals"], t["created_deals"] = 1_349_000_00 + t["won_cents"], 712, 1321
    figures = ([f"{m['created_cents'] // 100:,}" for m in rep["months"]] + ["6,859,000", "1,321", "712"]
               + [f"{t[key] // 100:,}" for t in rep["by_tag"] for key in ("open_cents", "won_cents")])
    width = out.width
    try:
        for columns in (80, 160):
            out.width = columns
            with out.capture() as capture:
                print_tables(rep)
            text = capture.get()
            lines = text.splitlines()
            assert max(len(line) for line in lines) <= columns
            for figure in figures:
                assert figure in text, (columns, figure)

            def bar(start: str) -> int:
                return next(line for line in lines if line.strip().startswith(start) and "│" in line).count("█")

            assert bar("Unqualified") == 16  # the funnel's top row: room for a whole bar at 80 too
            assert 0 < bar("Nov 2026") <= 16 and bar("branding") == (16 if columns == 160 else 0)
        assert "█" * 16 in next(line for line in lines if line.strip().startswith("Nov 2026"))
    finally:
        out.width = width


def test_markdown(seeded: Path) -> None:
    result = run(seeded, "--period", "all", "--markdown")
    assert result.exit_code == 0
    md = result.stdout
    assert md.startswith("## Sales report: All time · all pipelines · amounts in USD")
    assert "| Win rate | 60% (3 won, 2 lost) |" in md
    assert "| Month | Pipeline generated | New deals | Sales | Won | Lost deals |" in md
    assert "| Dec 2025 | 3,000 | 2 | 0 | 0 | 0 |" in md
    assert "| Jan 2026 | 3,000 | 1 | 1,000 | 1 | 1 |" in md
    assert "| (none) | 2 | 1 | 700 | 0 | 100% |" in md  # deals without a source
    assert "| Unqualified | 7 | 71% |" in md
    assert "| Nov 2026 | 1 | 5,000 | 3,500 | 1 |" in md
    assert "| No close date | 1 | 1,000 | 100 |   |" in md


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "fortnight"], "period: 'fortnight' is not one of month, quarter, 12m, ytd, all"),
        (["--from", "2026-05-01", "--to", "2026-04-01"], "from: 2026-05-01 is after to (2026-04-01)"),
        (["--from", "soonish"], "from:"),
        (["--tag", "nope"], "unknown tag 'nope'"),
        (["--pipeline", "Nope"], "unknown pipeline 'Nope'"),
        (["--json", "--markdown"], "choose one of --json, --markdown and --csv"),
    ],
)
def test_bad_options_one_line_and_nothing_written(seeded: Path, args: list[str], message: str) -> None:
    before = snapshot_of(seeded)
    result = run(seeded, *args)
    assert result.exit_code == 1
    assert message in result.stderr and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert snapshot_of(seeded) == before


def test_empty_database(db_path: Path, fixed_clock) -> None:  # noqa: ANN001
    result = run(db_path, "--period", "month")
    assert result.exit_code == 0
    assert "Win rate" in result.stdout and "nothing in this period" in result.stdout
