"""Choice lists and general settings: `crmtui choices ...`, `crmtui settings ...`, the locale money and
dates are written in, and the app starting on the chosen screen with the chosen theme."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from crmtui.cli import app as cli_app
from crmtui.store import money, undo
from crmtui.store.dates import format_date
from crmtui.store.db import open_database
from crmtui.store.money import format_money, format_money_input, format_money_short, parse_amount, use_locale
from crmtui.store.settings import THEMES, card_fields, customer_focus
from tests.conftest import fetch, snapshot_of

runner = CliRunner()
NBSP = "\u00a0"


def run(db_path: Path, *args: str):
    return runner.invoke(cli_app, ["--db", str(db_path), *args], catch_exceptions=False)


def ok(db_path: Path, *args: str) -> str:
    result = run(db_path, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture(autouse=True)
def built_in_format() -> Iterator[None]:
    """The locale is process-wide: every test leaves the built-in format behind."""
    yield
    use_locale(None)


def settings_undo(db_path: Path) -> list[str]:
    return [r[0] for r in fetch(db_path, "SELECT label FROM undo_entry WHERE scope = 'settings' ORDER BY id")]


def undo_settings(db_path: Path) -> str:
    database = open_database(db_path)
    try:
        with database.session() as s:
            return undo.undo_last(s, scope="settings").label
    finally:
        database.close()


def all_but_the_undo_log(db_path: Path) -> list[tuple]:
    """Every row of every table but the undo log's (an undone change stays in it, marked undone)."""
    tables = [r[0] for r in fetch(db_path, "SELECT name FROM sqlite_master WHERE type = 'table'"
                                           " AND name != 'undo_entry' ORDER BY name")]
    return [(t, fetch(db_path, f'SELECT * FROM "{t}" ORDER BY 1')) for t in tables]


def choice_values(db_path: Path, name: str) -> list[str]:
    return [r[0] for r in fetch(db_path, "SELECT value FROM choice WHERE list_name = ? ORDER BY position, id", name)]


# --- choice lists ------------------------------------------------------------------------------


def test_choices_list_every_list_or_one(db_path: Path) -> None:
    lists = json.loads(ok(db_path, "choices", "list", "--json"))
    assert list(lists) == ["source", "lost-reason", "customer-size", "category"]
    assert lists["customer-size"] == ["small", "medium", "enterprise"]
    assert json.loads(ok(db_path, "choices", "list", "lost_reason", "--json")) == {"lost-reason": lists["lost-reason"]}
    table = ok(db_path, "choices", "list", "customer-size")
    assert "customer-size" in table and "enterprise" in table and "Referral" not in table


def test_add_move_and_remove_are_each_one_undo_entry(db_path: Path) -> None:
    assert ok(db_path, "choices", "add", "source", "  Podcast  ").strip() == "Added 'Podcast' to source"
    assert choice_values(db_path, "source")[-1] == "Podcast"
    ok(db_path, "choices", "move", "source", "podcast", "--first")
    assert choice_values(db_path, "source")[:2] == ["Podcast", "Referral"]
    ok(db_path, "choices", "move", "source", "Podcast", "--after", "website")
    assert choice_values(db_path, "source")[:3] == ["Referral", "Website", "Podcast"]
    ok(db_path, "choices", "move", "source", "Referral", "--last")
    assert choice_values(db_path, "source")[-1] == "Referral"
    ok(db_path, "choices", "remove", "source", "PODCAST")
    assert "Podcast" not in choice_values(db_path, "source")
    assert settings_undo(db_path) == [
        "Add 'Podcast' to source", "Move 'Podcast' in source", "Move 'Podcast' in source",
        "Move 'Referral' in source", "Remove 'Podcast' from source",
    ]
    undo_settings(db_path)  # the remove
    assert choice_values(db_path, "source") == [
        "Website", "Podcast", "Cold call", "Trade show", "LinkedIn", "Email campaign", "Partner", "Other", "Referral"]
    for _ in range(4):
        undo_settings(db_path)
    assert choice_values(db_path, "source") == [
        "Referral", "Website", "Cold call", "Trade show", "LinkedIn", "Email campaign", "Partner", "Other"]


def test_remove_keeps_what_records_say(db_path: Path) -> None:
    ok(db_path, "add", "deal", "Logo", "--source", "Partner")
    assert ok(db_path, "choices", "remove", "source", "partner").strip() == (
        "Removed 'partner' from source; 1 deal still say it")
    assert fetch(db_path, "SELECT source FROM deal") == [("Partner",)]
    assert "Partner" not in choice_values(db_path, "source")


def test_rename_renames_every_record_that_says_it_and_undo_puts_back_each_spelling(db_path: Path) -> None:
    ok(db_path, "add", "deal", "One", "--source", "Referral")
    ok(db_path, "add", "deal", "Two", "--source", "referral")
    ok(db_path, "add", "deal", "Three", "--source", "Website")
    ok(db_path, "add", "deal", "Gone", "--source", "REFERRAL")
    conn = sqlite3.connect(db_path)  # in the trash: it comes back saying the new name
    conn.execute("UPDATE deal SET deleted_at = '2026-01-01 00:00:00' WHERE title = 'Gone'")
    conn.commit()
    conn.close()
    ok(db_path, "add", "company", "Acme", "--source", "Referral")
    before = all_but_the_undo_log(db_path)
    assert ok(db_path, "choices", "rename", "source", "referral", "Word of mouth").strip() == (
        "Renamed 'referral' to 'Word of mouth' in source; 3 deals and 1 company now say it")
    assert fetch(db_path, "SELECT title, source FROM deal ORDER BY id") == [
        ("One", "Word of mouth"), ("Two", "Word of mouth"), ("Three", "Website"), ("Gone", "Word of mouth")]
    assert fetch(db_path, "SELECT source FROM company") == [("Word of mouth",)]
    assert choice_values(db_path, "source")[0] == "Word of mouth"
    assert settings_undo(db_path) == ["Rename 'Referral' to 'Word of mouth' in source"]
    assert undo_settings(db_path) == "Rename 'Referral' to 'Word of mouth' in source"
    assert all_but_the_undo_log(db_path) == before


@pytest.mark.parametrize(
    ("typed", "table", "column", "add"),
    [
        ("lost-reason", "deal", "lost_reason", ["add", "deal", "Lost one"]),
        ("customer-size", "company", "size", ["add", "company", "Acme"]),
        ("category", "company", "category", ["add", "company", "Acme"]),
    ],
)
def test_rename_follows_each_list_into_its_records(db_path: Path, typed: str, table: str, column: str,
                                                    add: list[str]) -> None:
    ok(db_path, *add)
    old = choice_values(db_path, typed.replace("-", "_"))[0]
    conn = sqlite3.connect(db_path)
    conn.execute(f"UPDATE {table} SET {column} = ?", (old.upper(),))  # any case
    conn.commit()
    conn.close()
    ok(db_path, "choices", "rename", typed, old, "Renamed value")
    assert fetch(db_path, f"SELECT {column} FROM {table}") == [("Renamed value",)]
    assert choice_values(db_path, typed.replace("-", "_"))[0] == "Renamed value"


def test_a_rename_used_by_thousands_of_deals_is_a_small_undo_entry(db_path: Path) -> None:
    ok(db_path, "add", "deal", "Seed", "--source", "Referral")
    conn = sqlite3.connect(db_path)
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)"
        " INSERT INTO deal (title, pipeline_id, stage_id, stage_entered_at, amount_cents, source, created_at, updated_at)"
        " SELECT 'Deal ' || i, pipeline_id, stage_id, stage_entered_at, 0, CASE i % 2 WHEN 0 THEN 'Referral'"
        " ELSE 'referral' END, created_at, updated_at FROM n, deal WHERE deal.id = 1"
    )
    conn.commit()
    conn.close()
    ok(db_path, "choices", "rename", "source", "Referral", "Word of mouth")
    assert fetch(db_path, "SELECT count(*) FROM deal WHERE source = 'Word of mouth'") == [(5001,)]
    ops = json.loads(fetch(db_path, "SELECT payload FROM undo_entry WHERE scope = 'settings'")[0][0])
    assert sorted(op["op"] for op in ops) == ["update", "update_ids", "update_ids"]  # the list, two spellings
    undo_settings(db_path)
    assert fetch(db_path, "SELECT source, count(*) FROM deal GROUP BY source ORDER BY source") == [
        ("Referral", 2501), ("referral", 2500)]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "sources", "X"], "unknown choice list 'sources' (lists: source, lost-reason, customer-size, category)"),
        (["add", "source", "referral"], "source: 'Referral' is already in the list"),
        (["add", "source", "   "], "value: must not be empty"),
        (["rename", "source", "Website", "LINKEDIN"], "source: 'LinkedIn' is already in the list"),
        (["rename", "customer-size", "huge", "Huge"],
         "customer-size: 'huge' is not in the list (values: small, medium, enterprise)"),
        (["rename", "category", "Retail", ""], "value: must not be empty"),
        (["remove", "lost-reason", "Bored"], "lost-reason: 'Bored' is not in the list (values: Price too high,"),
        (["move", "source", "Website"], "say where to move it: --after VALUE, --first or --last"),
        (["move", "source", "Website", "--first", "--last"], "say where to move it"),
        (["move", "source", "Website", "--after", "website"], "source: cannot move 'Website' after itself"),
        (["move", "source", "Website", "--after", "Nowhere"], "source: 'Nowhere' is not in the list"),
        (["list", "colours"], "unknown choice list 'colours'"),
    ],
)
def test_choice_refusals_say_why_and_write_nothing(db_path: Path, args: list[str], message: str) -> None:
    ok(db_path, "add", "deal", "Logo", "--source", "Website")
    before = snapshot_of(db_path)
    result = run(db_path, "choices", *args)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr
    assert "Traceback" not in result.output
    assert snapshot_of(db_path) == before


async def test_forms_and_pickers_offer_the_lists_as_they_are_now(db_path: Path) -> None:
    from crmtui.app import make_app
    from crmtui.screens.edit_forms import FormScreen
    from crmtui.screens.lost_reason import LostReasonScreen

    ok(db_path, "add", "company", "Acme")
    ok(db_path, "add", "deal", "Logo", "--company", "Acme", "--amount", "1000", "--stage", "Negotiation")
    ok(db_path, "choices", "add", "customer-size", "solo")
    ok(db_path, "choices", "rename", "lost-reason", "Timing", "Bad timing")
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("x")
        assert isinstance(app.screen, LostReasonScreen)
        reasons = [str(o.prompt) for o in app.screen.query_one("#lost-reasons").options]
        assert "Bad timing" in reasons and "Timing" not in reasons
        await pilot.press("escape")
        app.open_record("company", 1)
        await pilot.pause()
        await pilot.press("e")
        assert isinstance(app.screen, FormScreen)
        size = next(f for f in app.screen.fields if f.name == "size")
        assert size.suggestions == ["small", "medium", "enterprise", "solo"]


# --- settings ----------------------------------------------------------------------------------


def test_settings_show_lists_the_general_settings_then_the_rules(db_path: Path) -> None:
    shown = json.loads(ok(db_path, "settings", "show", "--json"))
    assert shown["currency"] == "USD" and shown["locale"] == "" and shown["theme"] == "textual-dark"
    assert shown["customer-focus"] == "company" and shown["start-screen"] == "board" and shown["card-fields"] == []
    assert shown["stale-days"] == 14
    table = ok(db_path, "settings", "show")
    assert table.index("start-screen") < table.index("stale-days")
    assert "textual-dark" in table and "How money, numbers and dates are written" in table


@pytest.mark.parametrize(
    ("key", "value", "stored", "shown"),
    [
        ("currency", "eur", "EUR", "EUR"),
        ("locale", "sv-se", "sv_SE", "sv_SE"),
        ("customer-focus", "Person", "person", "person"),
        ("start-screen", "agenda", "agenda", "agenda"),
        ("theme", "nord", "nord", "nord"),
        ("card-fields", "Amount, expected close", "amount,expected_close", "amount, expected_close"),
        ("stale-days", "30", "30", "30"),
    ],
)
def test_settings_set_stores_one_undo_entry(db_path: Path, key: str, value: str, stored: str, shown: str) -> None:
    ok(db_path, "settings", "show")  # the database exists
    before = fetch(db_path, "SELECT key, value FROM setting ORDER BY key")
    assert ok(db_path, "settings", "set", key, value).strip() == f"{key} = {shown}"
    assert fetch(db_path, "SELECT value FROM setting WHERE key = ?", key) == [(stored,)]
    ok(db_path, "settings", "set", key, value)  # the same again: nothing to undo
    assert settings_undo(db_path) == [f"Set {key} to {shown}"]
    undo_settings(db_path)
    assert fetch(db_path, "SELECT key, value FROM setting ORDER BY key") == before


def test_rules_show_only_the_follow_up_rules(db_path: Path) -> None:
    shown = json.loads(ok(db_path, "rules", "show", "--json"))
    assert "stale-days" in shown and "locale" not in shown and "card-fields" not in shown
    assert "theme" not in ok(db_path, "rules", "show")


def test_locale_none_puts_back_the_built_in_format(db_path: Path) -> None:
    ok(db_path, "settings", "set", "locale", "fr_FR")
    assert ok(db_path, "settings", "set", "locale", "none").strip() == "locale = none"
    ok(db_path, "add", "deal", "Logo", "--amount", "1234.50")
    assert "1,234.50" in ok(db_path, "deals", "list")


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("colour", "blue", "unknown setting 'colour' (settings: follow-up-on-new-deals,"),
        ("locale", "xx_YY", "locale: 'xx_YY' is not a locale Babel knows (e.g. en_US, sv_SE, fr_FR, de_DE)"),
        ("theme", "neon", "theme: 'neon' is not one of textual-dark, textual-light, nord,"),
        ("start-screen", "inbox", "start-screen: 'inbox' is not one of board, agenda, dashboard"),
        ("customer-focus", "firm", "customer-focus: 'firm' is not one of company, person"),
        ("card-fields", "amount, budget", "card-fields: 'budget' is not a deal field (fields: title, company,"),
        ("card-fields", "amount,cost,source,tags,title", "card-fields: 5 fields; a card shows at most 4"),
        ("currency", "euros", "currency"),
        ("stale-days", "0", "outside 1..3650"),
    ],
)
def test_setting_refusals_say_why_and_write_nothing(db_path: Path, key: str, value: str, message: str) -> None:
    ok(db_path, "settings", "show")
    before = snapshot_of(db_path)
    result = run(db_path, "settings", "set", key, value)
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("Error: ") and message in result.stderr, result.stderr
    assert snapshot_of(db_path) == before


def test_card_fields_take_custom_deal_fields_and_the_board_reads_them(db_path: Path) -> None:
    ok(db_path, "settings", "show")
    conn = sqlite3.connect(db_path)
    conn.execute("INSERT INTO custom_field (entity, name, kind) VALUES ('deal', 'Customer size', 'text')")
    conn.execute("INSERT INTO custom_field (entity, name, kind) VALUES ('company', 'Budget', 'money')")
    conn.commit()
    result = run(db_path, "settings", "set", "card-fields", "budget")
    assert result.exit_code == 1 and "custom: Customer size)" in result.stderr  # a company field is not a deal's
    ok(db_path, "settings", "set", "card-fields", "customer SIZE, confidence")
    ok(db_path, "settings", "set", "customer-focus", "person")
    assert card_fields(conn) == ("Customer size", "confidence")
    assert customer_focus(conn) == "person"
    conn.close()


def test_themes_are_textuals_own() -> None:
    from textual.theme import BUILTIN_THEMES

    assert THEMES == tuple(BUILTIN_THEMES)


# --- the locale --------------------------------------------------------------------------------


def test_sv_se_writes_amounts_the_swedish_way(db_path: Path) -> None:
    ok(db_path, "settings", "set", "currency", "SEK")
    ok(db_path, "settings", "set", "locale", "sv_SE")
    ok(db_path, "add", "deal", "Logo", "--amount", "1234.50")
    ok(db_path, "add", "deal", "Site", "--amount", "12 500 kr")
    listed = ok(db_path, "deals", "list")
    assert f"1{NBSP}234,50{NBSP}kr" in listed and f"12{NBSP}500{NBSP}kr" in listed
    assert f"1{NBSP}234,50{NBSP}kr" in ok(db_path, "deal", "show", "1")
    assert fetch(db_path, "SELECT amount_cents FROM deal ORDER BY id") == [(123450,), (1250000,)]


def test_fr_fr_writes_euros_the_french_way_and_reads_them_back(db_path: Path) -> None:
    ok(db_path, "settings", "set", "currency", "EUR")
    ok(db_path, "settings", "set", "locale", "fr_FR")
    ok(db_path, "add", "deal", "Logo", "--amount", "1234.50")
    assert f"1{NBSP}234,50{NBSP}€" in ok(db_path, "deals", "list")
    ok(db_path, "add", "deal", "Dollars", "--amount", format_money(987650, "USD"))  # `9 876,50 $US`
    assert fetch(db_path, "SELECT amount_cents FROM deal WHERE title = 'Dollars'") == [(987650,)]


def test_without_a_locale_money_and_dates_are_written_as_built_in() -> None:
    use_locale(None)
    assert format_money(123450, "USD") == "USD 1,234.50" and format_money(1234500) == "12,345"
    assert format_money_short(1250000) == "12.5k"
    assert format_date(dt.date(2026, 3, 5)) == "2026-03-05"
    assert money.format_number(12345) == "12,345"


def test_a_locale_writes_short_amounts_dates_and_numbers() -> None:
    use_locale("sv_SE", "SEK")
    assert format_money_short(1250000) == f"12,5{NBSP}tn{NBSP}kr"
    assert format_money_short(99996000) == f"1{NBSP}mn{NBSP}kr"  # never "1000 tn"
    assert format_money_short(95040) == f"950{NBSP}kr"
    assert format_money(-123450, "EUR") == f"-1{NBSP}234,50{NBSP}€"
    assert format_money(5, masked=True) == "•••••"
    assert format_date(dt.date(2026, 3, 5)) == "5 mars 2026"
    assert money.format_number(12345) == f"12{NBSP}345"
    use_locale("de_DE", "EUR")
    assert format_money_short(1234500) == f"12.345{NBSP}€"  # German has no short word below a million


async def test_an_amount_edited_in_a_locale_is_saved_as_it_was(db_path: Path) -> None:
    """The edit form offers `1234,50` in sv_SE: saving the form untouched keeps the amount."""
    from textual.widgets import Input

    from crmtui.app import make_app
    from crmtui.screens.edit_forms import FormScreen

    ok(db_path, "add", "deal", "Logo", "--amount", "1234.50")
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE deal SET cost_cents = 1200000")
    conn.commit()
    conn.close()
    ok(db_path, "settings", "set", "locale", "sv_SE")
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_record("deal", 1)
        await pilot.pause()
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.query_one("#field-amount", Input).value == "1234,50"
        form.query_one("#field-title", Input).value = "Logo and colours"
        await pilot.press("ctrl+s")
        await pilot.pause()
    assert fetch(db_path, "SELECT title, amount_cents, cost_cents FROM deal") == [("Logo and colours", 123450, 1200000)]


@given(st.integers(min_value=-10**13, max_value=10**13),
       st.sampled_from(["sv_SE", "fr_FR", "de_DE", "de_CH", "en_US", "en_IN", "nl_NL", "ja_JP", "pt_BR"]),
       st.sampled_from(["", "USD", "EUR", "SEK", "CHF", "INR", "JPY"]))
def test_what_a_locale_writes_reads_back(cents: int, locale: str, currency: str) -> None:
    use_locale(locale, "EUR")
    try:
        assert parse_amount(format_money(cents, currency)) == cents
        assert parse_amount(format_money_input(cents)) == cents
    finally:
        use_locale(None)


def test_an_unknown_stored_locale_falls_back_to_the_built_in_format() -> None:
    use_locale("tlh_XX")  # edited by hand in the database
    assert money.current_locale() is None and format_money(123450) == "1,234.50"


def test_babel_is_loaded_only_when_a_locale_is_set(db_path: Path) -> None:
    ok(db_path, "add", "deal", "Logo", "--amount", "1000")
    script = (
        "import sys; from typer.testing import CliRunner; from crmtui.cli import app; "
        f"r = CliRunner().invoke(app, ['--db', {str(db_path)!r}, 'deals', 'list']); "
        "print(r.exit_code, 'babel' in sys.modules)"
    )
    printed = lambda: subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,  # noqa: E731
                                     check=True).stdout.split()
    assert printed() == ["0", "False"]
    ok(db_path, "settings", "set", "locale", "en_GB")
    assert printed() == ["0", "True"]


# --- the app -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "screen"), [("dashboard", "DashboardScreen"), ("agenda", "AgendaScreen")])
async def test_the_app_opens_on_the_start_screen_over_the_board(db_path: Path, start: str, screen: str) -> None:
    from crmtui.app import make_app
    from crmtui.screens.board import BoardScreen

    ok(db_path, "settings", "set", "start-screen", start)
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert type(app.screen).__name__ == screen
        await pilot.press("b")
        assert isinstance(app.screen, BoardScreen)


async def test_the_app_uses_the_theme_and_the_locale(db_path: Path) -> None:
    from crmtui.app import make_app

    ok(db_path, "add", "deal", "Logo", "--amount", "1234", "--stage", "Negotiation")
    ok(db_path, "settings", "set", "theme", "nord")
    ok(db_path, "settings", "set", "currency", "SEK")
    ok(db_path, "settings", "set", "locale", "sv_SE")
    app = make_app(open_database(db_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert app.theme == "nord"
        assert f"1{NBSP}234{NBSP}kr" in str(app.screen.query_one("#board-summary").render())


def test_card_fields_know_every_built_in_deal_field() -> None:
    from crmtui.store import editing, settings

    assert settings.DEAL_FIELDS == tuple(editing.DEAL_FIELDS)


def test_a_company_size_is_one_of_the_customer_size_list_as_the_user_keeps_it(db_path: Path) -> None:
    ok(db_path, "add", "company", "Acme")
    ok(db_path, "choices", "add", "customer-size", "Solo")
    ok(db_path, "set", "C1", "size=solo")
    assert fetch(db_path, "SELECT size FROM company") == [("Solo",)]  # as the list spells it
    before = snapshot_of(db_path)
    refused = run(db_path, "set", "C1", "size=huge")
    assert refused.exit_code == 1
    assert "size: 'huge' is not one of small, medium, enterprise, Solo" in " ".join(refused.stderr.split())
    assert snapshot_of(db_path) == before
