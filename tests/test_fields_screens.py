"""Custom and hidden fields in the app, as a user meets them: the record pages, the edit forms and
quick add. Key presses, then what the database holds and what the page shows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, SelectionList, Static

from crmtui.app import make_app
from crmtui.screens.board import BoardScreen
from crmtui.screens.company_detail import CompanyDetailScreen
from crmtui.screens.deal_detail import DealDetailScreen
from crmtui.screens.edit_forms import FormScreen
from crmtui.screens.quick_add import QuickAddScreen
from crmtui.screens.record_screen import LinkPicker
from crmtui.store import field_setup
from crmtui.store.db import open_database
from crmtui.store.editing import set_fields
from crmtui.widgets import opener
from tests.conftest import fetch, snapshot_of
from tests.test_detail import open_deal, seed, text_of


def define(db_path: Path, *fields: tuple) -> None:
    """Add custom fields: (entity, name, kind, keyword arguments)."""
    db = open_database(db_path)
    with db.session() as s:
        for entity, name, kind, options in fields:
            field_setup.add_field(s, entity, name, kind, **options)
    db.close()


def set_values(db_path: Path, kind: str, record_id: int, **values: str) -> None:
    db = open_database(db_path)
    with db.session() as s:
        set_fields(s, kind, record_id, values)
    db.close()


def stored(db_path: Path, name: str, record_id: int = 1) -> str | None:
    rows = fetch(db_path, "SELECT v.value FROM custom_value v JOIN custom_field f ON f.id = v.field_id"
                          " WHERE f.name = ? AND v.entity_id = ?", name, record_id)
    return rows[0][0] if rows else None


def field_id(db_path: Path, name: str) -> str:
    return f"cf_{fetch(db_path, 'SELECT id FROM custom_field WHERE name = ?', name)[0][0]}"


DEAL_FIELDS = (
    ("deal", "Type", "choice", {"options": "Branding,Website,SEO"}),
    ("deal", "Channels", "multichoice", {"options": "Ads,SEO,Email"}),
    ("deal", "Fit", "rating", {}),
    ("deal", "Budget", "money", {}),
    ("deal", "Kick-off", "date", {}),
)


@pytest.fixture
def seeded(db_path: Path, fixed_clock: dt.datetime) -> Path:
    seed(db_path)
    return db_path


@pytest.fixture
def opened() -> list[str]:
    calls: list[str] = []
    opener.set_opener(calls.append)
    yield calls
    opener.set_opener(None)


async def edit_form(app, pilot) -> FormScreen:  # noqa: ANN001
    await pilot.press("e")
    await pilot.pause()
    assert isinstance(app.screen, FormScreen)
    return app.screen


async def focus(pilot, form: FormScreen, name: str) -> None:  # noqa: ANN001
    form.query_one(f"#field-{name}").focus()
    await pilot.pause()


# --- editing custom fields on a deal's page ----------------------------------------------------


async def test_custom_fields_are_edited_on_the_deal_page_and_shown(seeded: Path) -> None:
    define(seeded, *DEAL_FIELDS)
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        form = await edit_form(app, pilot)
        # A choice field is a pick list: enter opens it, the options follow the empty one.
        await focus(pilot, form, field_id(seeded, "Type"))
        assert isinstance(form.focused, Select)
        await pilot.press("enter", "down", "down", "enter")  # Website
        # Multichoice: a list to tick with space.
        await focus(pilot, form, field_id(seeded, "Channels"))
        assert isinstance(form.focused, SelectionList)
        await pilot.press("space", "down", "down", "space")  # Ads, Email
        # A rating is a pick list of stars.
        await focus(pilot, form, field_id(seeded, "Fit"))
        await pilot.press("enter", "down", "down", "down", "down", "enter")  # ★★★★☆
        await focus(pilot, form, field_id(seeded, "Budget"))
        await pilot.press(*"25,000")
        await focus(pilot, form, field_id(seeded, "Kick-off"))
        await pilot.press(*"2026-12-01")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert [stored(seeded, n) for n in ("Type", "Channels", "Fit", "Budget", "Kick-off")] == [
            "Website", '["Ads", "Email"]', "4", "2500000", "2026-12-01"]
        custom = text_of(screen, "#custom")
        for expected in ("Type", "Website", "Ads, Email", "★★★★☆", "25,000", "2026-12-01"):
            assert expected in custom, expected
        # Money is masked in privacy mode.
        await pilot.press("dollar_sign")
        await pilot.pause()
        assert "25,000" not in text_of(screen, "#custom") and "•••••" in text_of(screen, "#custom")
        # One undo entry: u puts every field back.
        await pilot.press("u")
        await pilot.pause()
        assert [stored(seeded, n) for n in ("Type", "Channels", "Fit", "Budget", "Kick-off")] == [None] * 5


async def test_a_bad_custom_value_shows_why_and_saves_nothing(seeded: Path) -> None:
    define(seeded, *DEAL_FIELDS)
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_deal(app, pilot)
        before = snapshot_of(seeded)
        form = await edit_form(app, pilot)
        budget, kick_off = field_id(seeded, "Budget"), field_id(seeded, "Kick-off")
        await focus(pilot, form, budget)
        await pilot.press(*"12,5x")
        error = str(form.query_one(f"#error-{budget}", Static).render())
        assert "Budget" in error and "'12,5x'" in error  # as you type
        assert form.query_one(f"#field-{budget}").has_class("-invalid")
        await focus(pilot, form, kick_off)
        await pilot.press(*"31/31/2026")
        assert "Kick-off" in str(form.query_one(f"#error-{kick_off}", Static).render())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "Not saved: Budget" in str(form.query_one("#form-message", Static).render())
        assert snapshot_of(seeded) == before


async def test_a_record_keeps_an_option_no_longer_offered_when_saved(seeded: Path) -> None:
    define(seeded, *DEAL_FIELDS)
    set_values(seeded, "deal", 1, Type="SEO", Channels="SEO, Email")
    db = open_database(seeded)
    with db.session() as s:
        field_setup.remove_option(s, "deal", "Type", "SEO")
        field_setup.remove_option(s, "deal", "Channels", "SEO")
    db.close()
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_deal(app, pilot)
        form = await edit_form(app, pilot)
        type_field = form.query_one(f"#field-{field_id(seeded, 'Type')}", Select)
        assert type_field.selection == "SEO"
        await focus(pilot, form, field_id(seeded, "Budget"))
        await pilot.press(*"900")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert not isinstance(app.screen, FormScreen)
        assert (stored(seeded, "Type"), stored(seeded, "Channels"), stored(seeded, "Budget")) == (
            "SEO", '["SEO", "Email"]', "90000")


# --- lookups and hidden fields -------------------------------------------------------------------


async def test_a_lookup_follows_the_company_and_cannot_be_edited(seeded: Path) -> None:
    define(seeded, ("deal", "Customer size", "lookup", {"lookup": "company.size"}))
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        assert "medium  from company" in text_of(screen, "#custom")
        # On the form it is shown, not edited, and not sent.
        form = await edit_form(app, pilot)
        name = field_id(seeded, "Customer size")
        assert not form.query(f"Input#field-{name}") and "medium" in str(form.query_one(f"#field-{name}").render())
        assert name not in form.values()
        await pilot.press("escape")
        await pilot.pause()
        # Edit the company from the deal's page: the deal shows the new size.
        related = screen.query_one("#related", DataTable)
        related.focus()
        related.move_cursor(row=related.get_row_index("company:1"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CompanyDetailScreen)
        form = await edit_form(app, pilot)
        form.query_one("#field-size", Input).value = "enterprise"
        await pilot.press("ctrl+s", "escape")
        await pilot.pause()
        assert app.screen is screen
        assert "enterprise  from company" in text_of(screen, "#custom")
        assert fetch(seeded, "SELECT count(*) FROM custom_value") == [(0,)]


async def test_a_hidden_field_leaves_the_page_and_the_form_but_keeps_its_value(seeded: Path) -> None:
    db = open_database(seeded)
    with db.session() as s:
        field_setup.hide_field(s, "deal", "cost")
        field_setup.hide_field(s, "deal", "proposal_url")
        field_setup.hide_field(s, "company", "size")
        field_setup.hide_field(s, "contact", "company")
    db.close()
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        facts = text_of(screen, "#facts")
        assert "Cost" not in facts and "Profit" not in facts and "12,500" in facts
        assert "docs.example" not in facts and screen.query_one("#related", DataTable).row_count == 2  # no proposal
        assert "open_proposal" not in [b.binding.action for b in screen.active_bindings.values() if b.enabled]
        form = await edit_form(app, pilot)
        assert not form.query("#field-cost") and "cost" not in form.values()
        form.query_one("#field-amount", Input).value = "13000"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert fetch(seeded, "SELECT amount_cents, cost_cents, proposal_url FROM deal WHERE id = 1") == [
            (1300000, 400000, "https://docs.example/p/1")]
        app.open_record("company", 1)
        await pilot.pause()
        company = app.screen
        assert "Size" not in text_of(company, "#facts") and "Domain" in text_of(company, "#facts")
        form = await edit_form(app, pilot)
        assert not form.query("#field-size")
        form.query_one("#field-phone", Input).value = "+1 555 0199"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert fetch(seeded, "SELECT phone, size FROM company WHERE id = 1") == [("+1 555 0199", "medium")]
        # A contact whose company field is hidden: no company on the page, the deals come first.
        app.open_record("contact", 1)
        await pilot.pause()
        contact = app.screen
        assert "Company" not in text_of(contact, "#facts") and not contact.query_one("#related").display
        assert contact.focused is contact.query_one("#deals")
        assert fetch(seeded, "SELECT company_id FROM contact WHERE id = 1") == [(1,)]


# --- quick add ---------------------------------------------------------------------------------


async def test_quick_add_asks_for_a_required_field(seeded: Path) -> None:
    define(seeded, ("deal", "Type", "choice", {"options": "Branding,Website,SEO", "required": True}),
           ("deal", "Channels", "multichoice", {"options": "Ads,SEO,Email", "required": True}),
           ("deal", "Budget", "money", {}))
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        before = snapshot_of(seeded)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, QuickAddScreen)
        assert not form.query(f"#qa-{field_id(seeded, 'Budget').replace('_', '-')}")  # not required: not asked
        type_id = f"qa-{field_id(seeded, 'Type').replace('_', '-')}"
        channels_id = f"qa-{field_id(seeded, 'Channels').replace('_', '-')}"
        await pilot.press(*"Photo shoot", "enter")
        await pilot.pause()
        assert isinstance(app.screen, QuickAddScreen)
        assert "Type: required for a new deal" in str(form.query_one(f"#{type_id}-error").render())
        assert "Channels: required for a new deal" in str(form.query_one(f"#{channels_id}-error").render())
        assert form.focused is form.query_one(f"#{type_id}")
        assert snapshot_of(seeded) == before
        await pilot.press("enter", "down", "down", "enter")  # Website
        assert not form.query_one(f"#{type_id}-error").display  # the error goes as soon as it is right
        # Multichoice is typed, each option completed as you type (→ accepts).
        await pilot.press("tab", *"se")
        await pilot.pause()
        await pilot.press("right", *", x")
        await pilot.press("enter")
        await pilot.pause()
        assert "Channels: 'x' is not one of Ads, SEO, Email" in str(form.query_one(f"#{channels_id}-error").render())
        assert snapshot_of(seeded) == before
        await pilot.press("backspace", *"a")
        await pilot.pause()
        await pilot.press("right")
        assert form.query_one(f"#{channels_id}", Input).value == "SEO, Ads"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)
        ((deal_id,),) = fetch(seeded, "SELECT id FROM deal WHERE title = 'Photo shoot'")
        assert (stored(seeded, "Type", deal_id), stored(seeded, "Channels", deal_id)) == ("Website", '["Ads", "SEO"]')
        await pilot.press("u")  # undo: the new deal goes to the trash
        assert fetch(seeded, "SELECT deleted_at IS NOT NULL FROM deal WHERE id = ?", deal_id) == [(1,)]


async def test_the_new_deal_form_asks_for_a_required_field(seeded: Path) -> None:
    define(seeded, ("deal", "Fit", "rating", {"required": True}))
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_record("company", 1)
        await pilot.pause()
        before = snapshot_of(seeded)
        await pilot.press("n")
        await pilot.pause()
        form = app.screen
        assert isinstance(form, FormScreen)
        fit = field_id(seeded, "Fit")
        form.query_one("#field-title", Input).value = "Workshop"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form and "Fit: required for a new deal" in str(form.query_one(f"#error-{fit}").render())
        assert snapshot_of(seeded) == before
        await focus(pilot, form, fit)
        await pilot.press("enter", "down", "down", "enter")  # ★★☆☆☆
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, DealDetailScreen)
        assert stored(seeded, "Fit", app.screen.record_id) == "2"


def test_a_new_deal_without_a_required_field_is_refused_by_the_store(seeded: Path) -> None:
    from crmtui.store import board_actions
    from crmtui.store.errors import ValidationError

    define(seeded, ("deal", "Type", "choice", {"options": "Branding,Website", "required": True}))
    before = snapshot_of(seeded)
    db = open_database(seeded)
    with pytest.raises(ValidationError, match="Type: required for a new deal"), db.session() as s:
        board_actions.create(s, "Photo shoot", custom={field_id(seeded, "Type"): " "})
    with pytest.raises(ValidationError, match="Type: 'Logo' is not one of Branding, Website"), db.session() as s:
        board_actions.create(s, "Photo shoot", custom={field_id(seeded, "Type"): "Logo"})
    db.close()
    assert snapshot_of(seeded) == before


# --- links -------------------------------------------------------------------------------------


async def test_w_opens_a_url_field(seeded: Path, opened: list[str]) -> None:
    define(seeded, ("deal", "Brief", "url", {}), ("deal", "Board", "url", {}),
           ("company", "Portal", "url", {}))
    set_values(seeded, "deal", 1, Brief="https://docs.example/brief")
    set_values(seeded, "company", 1, Portal="https://portal.acme.example")
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        await pilot.press("w")
        assert opened == ["https://docs.example/brief"]
        # In the Linked list too, where enter opens it.
        related = screen.query_one("#related", DataTable)
        related.move_cursor(row=related.get_row_index("url:0"))
        await pilot.press("enter")
        assert opened[-1] == "https://docs.example/brief"
        # Two links: w asks which.
        set_values(seeded, "deal", 1, Board="https://trello.example/b/1")
        await pilot.press("r", "w")
        await pilot.pause()
        assert isinstance(app.screen, LinkPicker)
        await pilot.press("down", "enter")
        await pilot.pause()
        assert app.screen is screen and opened[-1] == "https://trello.example/b/1"
        app.open_record("company", 1)
        await pilot.pause()
        await pilot.press("w")
        assert opened[-1] == "https://portal.acme.example"


async def test_w_is_not_offered_without_a_link(seeded: Path, opened: list[str]) -> None:
    define(seeded, ("deal", "Brief", "url", {}))
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        assert "open_link" not in [b.binding.action for b in screen.active_bindings.values() if b.enabled]
        await pilot.press("w")
        assert opened == []


# --- how the deal page looks -------------------------------------------------------------------


def _snapshot_app(db_path: Path):  # noqa: ANN202
    define(db_path, *DEAL_FIELDS, ("deal", "Brief", "url", {}), ("deal", "Signed NDA", "yesno", {}),
           ("deal", "Customer size", "lookup", {"lookup": "company.size"}),
           ("company", "VAT id", "text", {}), ("deal", "VAT", "lookup", {"lookup": "company.VAT id"}))
    set_values(db_path, "deal", 1, Type="Website", Channels="Ads, Email", Fit="4", Budget="25000",
               **{"Kick-off": "2026-12-01", "Brief": "https://docs.example/brief", "Signed NDA": "yes"})
    set_values(db_path, "company", 1, **{"VAT id": "SE556677889901"})
    db = open_database(db_path)
    with db.session() as s:
        field_setup.hide_field(s, "deal", "cost")
    db.close()
    app = make_app(open_database(db_path))
    app.sub_title = "crm.db"  # the real path differs from run to run
    return app


def test_deal_page_with_custom_fields_snapshot_120x40(seeded: Path, snap_compare) -> None:  # noqa: ANN001
    app = _snapshot_app(seeded)

    async def open_it(pilot) -> None:  # noqa: ANN001
        app.open_record("deal", 1)
        await pilot.pause()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 40), run_before=open_it)


def test_deal_page_with_custom_fields_snapshot_80x24(seeded: Path, snap_compare) -> None:  # noqa: ANN001
    app = _snapshot_app(seeded)

    async def open_and_scroll(pilot) -> None:  # noqa: ANN001
        app.open_record("deal", 1)
        await pilot.pause()
        app.screen.query_one("#detail-side").focus()
        await pilot.press("end")  # the side column scrolls to the custom fields
        await pilot.pause()

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_and_scroll)
