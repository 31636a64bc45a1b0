"""The deal, company and contact pages: every key, every validation error, asserting the database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, Select, Static

from crmtui.app import make_app
from crmtui.screens.board import BoardScreen
from crmtui.screens.company_detail import CompanyDetailScreen
from crmtui.screens.contact_detail import ContactDetailScreen
from crmtui.screens.deal_detail import DealDetailScreen
from crmtui.screens.edit_forms import ConfirmScreen, FormScreen
from crmtui.store import clock
from crmtui.store.activities import add_task, log_activity
from crmtui.store.companies import create_company
from crmtui.store.contacts import create_contact
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal, mark_lost, mark_won, move_deal
from crmtui.widgets import opener
from tests.conftest import FIXED_NOW, fetch


def seed(db_path: Path) -> None:
    """A small history: Acme with two contacts and three deals (open, won, lost), a private client."""
    db = open_database(db_path)
    start = FIXED_NOW - dt.timedelta(days=40)
    clock.set_fixed_now(start)
    with db.session() as s:
        acme = create_company(s, "Acme", domain="acme.com", email="hello@acme.com", phone="+1 555 0100",
                              website="https://acme.com", size="medium", source="Referral")
        create_contact(s, "Jo Smith", email="jo@acme.com", phone="+1 555 0101", title="CEO", company_id=acme.id)
        create_contact(s, "Sam Lee", email="sam@acme.com", company_id=acme.id)
        create_deal(s, "Website relaunch", company="#1", contact="#1", amount="12500", cost="4000",
                    confidence=4, source="Referral", tags=["website"], expected_close="2026-12-15",
                    proposal_url="https://docs.example/p/1")
        create_deal(s, "Logo", company="#1", contact="#1", amount="3000")
        create_deal(s, "SEO audit", company="#1", amount="2000")
        create_contact(s, "Pat Solo", email="pat@mail.example")
        create_deal(s, "Coaching", contact="#3", amount="900")
        log_activity(s, "call", "deal", 1, "Kick-off call, budget confirmed")
    clock.set_fixed_now(start + dt.timedelta(days=10))
    with db.session() as s:
        move_deal(s, 1, "Writing proposal")
        mark_won(s, 2)
    clock.set_fixed_now(start + dt.timedelta(days=25))
    with db.session() as s:
        move_deal(s, 1, "Proposal sent")
        mark_lost(s, 3, "Price too high")
        log_activity(s, "email", "deal", 1, "Sent the proposal")
        add_task(s, "deal", 1, "Follow up on the proposal", "2026-11-20")
        add_task(s, "deal", 1, "Book workshop", "2026-12-02")
        log_activity(s, "note", "contact", 1, "Prefers mornings")
    clock.set_fixed_now(FIXED_NOW)
    db.close()


@pytest.fixture
def seeded(db_path: Path, fixed_clock: dt.datetime) -> Path:
    seed(db_path)
    return db_path


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    opener.set_opener(calls.append)
    yield calls
    opener.set_opener(None)


def focus_timeline_row(screen, text: str) -> None:  # noqa: ANN001
    """Focus the timeline with its cursor on the entry whose text holds `text`."""
    table = screen.query_one("#timeline", DataTable)
    table.focus()
    table.move_cursor(row=next(i for i in range(table.row_count) if text in str(table.get_row_at(i)[2])))


def text_of(screen, selector: str) -> str:  # noqa: ANN001
    """What a Static shows, as plain text (Rich tables rendered wide enough not to cut)."""
    from rich.console import Console

    content = screen.query_one(selector, Static).content
    if isinstance(content, str):
        from rich.text import Text

        return Text.from_markup(content).plain
    console = Console(width=200, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(content)
    return console.export_text()


async def open_deal(app, pilot, deal_id: int = 1) -> DealDetailScreen:  # noqa: ANN001
    app.open_record("deal", deal_id)
    await pilot.pause()
    assert isinstance(app.screen, DealDetailScreen)
    return app.screen


# --- the deal page -------------------------------------------------------------------------


async def test_deal_page_shows_every_field_and_the_customer_live(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        facts = text_of(screen, "#facts")
        for expected in ("Website relaunch", "Acme", "Jo Smith, CEO", "jo@acme.com", "+1 555 0101",
                         "Proposal sent (50%)", "12,500", "4,000", "8,500", "6,250", "★★★★☆", "2026-12-15",
                         "Referral", "website", "https://docs.example/p/1", "Sales"):
            assert expected in facts, expected
        history = text_of(screen, "#history")
        assert "Unqualified" in history and "10 d" in history and "15 d" in history and "15 d so far" in history
        assert "Follow up on the proposal" in text_of(screen, "#next-task")
        assert "overdue" in text_of(screen, "#next-task")
        # The customer is looked up: rename the company elsewhere, refresh, and the deal shows it.
        other = open_database(seeded)
        with other.session() as s:
            from crmtui.store.editing import update_record

            update_record(s, "company", 1, {"name": "Acme Corp"})
            update_record(s, "contact", 1, {"email": "jo@acme.example"})
        other.close()
        await pilot.press("r")
        facts = text_of(screen, "#facts")
        assert "Acme Corp" in facts and "jo@acme.example" in facts


async def test_deal_timeline_newest_first_with_stage_changes(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        table = screen.query_one("#timeline", DataTable)
        rows = [str(table.get_row_at(i)[2]) for i in range(table.row_count)]
        assert rows[:3] == ["Follow up on the proposal (due 2026-11-20)", "Book workshop (due 2026-12-02)",
                            "Prefers mornings"] or rows[0].startswith(("Follow up", "Book workshop"))
        assert rows.index("Writing proposal → Proposal sent") < rows.index("Unqualified → Writing proposal")
        assert rows.index("Sent the proposal") < rows.index("Kick-off call, budget confirmed")
        assert rows[-1] == "created in Unqualified" or "created in Unqualified" in rows


async def test_privacy_masks_money_on_the_deal_page(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        await pilot.press("dollar_sign")
        await pilot.pause()
        facts = text_of(screen, "#facts")
        assert "12,500" not in facts and "8,500" not in facts and "•••••" in facts
        await pilot.press("dollar_sign")
        await pilot.pause()
        assert "12,500" in text_of(screen, "#facts")


async def test_a_logs_an_activity_typed_in_the_form(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_deal(app, pilot)
        await pilot.press("a")
        form = app.screen
        assert isinstance(form, FormScreen)
        form.query_one("#field-kind").value = "meeting"
        await pilot.press("tab")  # kind -> date
        await pilot.press(*"31.31.2026")
        assert "date: '31.31.2026' is not a date" in text_of(form, "#error-date")
        assert form.query_one("#field-date").has_class("-invalid")
        await pilot.press("ctrl+s")
        assert app.screen is form
        form.query_one("#field-date", Input).value = "2026-11-21"
        await pilot.press("tab")  # date -> text
        await pilot.press(*"Workshop with the team")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, DealDetailScreen)
    assert fetch(seeded, "SELECT kind, body, occurred_at, deal_id, company_id FROM activity WHERE body LIKE 'Workshop%'") == [
        ("meeting", "Workshop with the team", "2026-11-21 12:00:00.000000", 1, 1)
    ]


async def test_activity_form_refuses_empty_text(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_deal(app, pilot)
        await pilot.press("a")
        form = app.screen
        await pilot.press("ctrl+s")
        assert app.screen is form
        assert "text: required" in text_of(form, "#error-text")
        assert form.query_one("#field-text").has_class("-invalid")
        assert "Not saved" in text_of(form, "#form-message")
        await pilot.press("escape")  # nothing typed: closes without asking
        assert isinstance(app.screen, DealDetailScreen)
    assert fetch(seeded, "SELECT count(*) FROM activity") == [(5,)]


async def test_t_adds_a_task_with_a_relative_due_date(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_deal(app, pilot)
        await pilot.press("t")
        form = app.screen
        await pilot.press(*"Send contract")
        await pilot.press("tab")
        form.query_one("#field-due", Input).value = ""
        await pilot.press(*"someday")
        assert "due date: 'someday' is not a date" in text_of(form, "#error-due")
        await pilot.press("ctrl+s")
        assert app.screen is form
        form.query_one("#field-due", Input).value = "fri"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, DealDetailScreen)
    assert fetch(seeded, "SELECT body, due_on, deal_id FROM activity WHERE body = 'Send contract'") == [
        ("Send contract", "2026-11-27", 1)
    ]


async def test_space_completes_the_next_task_and_u_undoes_it(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        screen.query_one("#related").focus()
        await pilot.press("space")
        await pilot.pause()
        assert fetch(seeded, "SELECT body FROM activity WHERE done_at IS NOT NULL") == [("Follow up on the proposal",)]
        assert "Book workshop" in text_of(screen, "#next-task")
        await pilot.press("u")
        await pilot.pause()
        assert fetch(seeded, "SELECT count(*) FROM activity WHERE done_at IS NOT NULL") == [(0,)]


async def test_space_on_a_task_in_the_timeline_completes_that_task(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        focus_timeline_row(screen, "Book workshop")
        await pilot.press("space")
        await pilot.pause()
    assert fetch(seeded, "SELECT body FROM activity WHERE done_at IS NOT NULL") == [("Book workshop",)]


async def test_D_reschedules_the_next_task_and_u_undoes_it(seeded: Path) -> None:
    from crmtui.screens.prompt import PromptScreen

    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        screen.query_one("#related").focus()
        await pilot.press("D")
        await pilot.pause()
        prompt = app.screen
        assert isinstance(prompt, PromptScreen)
        assert "Follow up on the proposal" in prompt.title_text and "2026-11-20" in prompt.title_text
        prompt.query_one(Input).value = "someday"
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is prompt  # a bad date is said in the prompt; nothing is written
        assert "not a date" in str(prompt.query_one("#prompt-error", Static).render())
        assert fetch(seeded, "SELECT due_on FROM activity WHERE body = 'Follow up on the proposal'") == [("2026-11-20",)]
        prompt.query_one(Input).value = "+1w"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DealDetailScreen)
        assert fetch(seeded, "SELECT due_on FROM activity WHERE body = 'Follow up on the proposal'") == [("2026-11-30",)]
        await pilot.press("u")
        await pilot.pause()
        assert fetch(seeded, "SELECT due_on FROM activity WHERE body = 'Follow up on the proposal'") == [("2026-11-20",)]
        await pilot.press("D")
        await pilot.pause()
        await pilot.press("escape")  # cancelled: nothing changes
        await pilot.pause()
        assert isinstance(app.screen, DealDetailScreen)
    assert fetch(seeded, "SELECT body, due_on FROM activity WHERE kind = 'task' ORDER BY id") == [
        ("Follow up on the proposal", "2026-11-20"), ("Book workshop", "2026-12-02")]


async def test_D_on_a_task_in_the_timeline_reschedules_that_task(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        focus_timeline_row(screen, "Book workshop")
        await pilot.press("D")
        await pilot.pause()
        app.screen.query_one(Input).value = "2027-01-08"
        await pilot.press("enter")
        await pilot.pause()
    assert fetch(seeded, "SELECT body, due_on FROM activity WHERE kind = 'task' ORDER BY id") == [
        ("Follow up on the proposal", "2026-11-20"), ("Book workshop", "2027-01-08")]


async def test_D_without_an_open_task_says_so(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_record("deal", 2)
        await pilot.pause()
        await pilot.press("D")
        await pilot.pause()
        assert isinstance(app.screen, DealDetailScreen)
        assert any("No open task here" in str(n.message) for n in app._notifications)


async def test_e_edits_the_deal_and_u_undoes(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        await pilot.press("e")
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.query_one("#field-amount", Input).value == "12500"
        form.query_one("#field-amount", Input).value = "15,000"
        form.query_one("#field-stage", Input).value = "Negotiation"
        form.query_one("#field-tags", Input).value = "website, seo"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert "15,000" in text_of(screen, "#facts") and "Negotiation" in text_of(screen, "#facts")
        assert fetch(seeded, "SELECT amount_cents, stage_id FROM deal WHERE id = 1") == [(1500000, 5)]
        await pilot.press("u")
        await pilot.pause()
        assert fetch(seeded, "SELECT amount_cents, stage_id FROM deal WHERE id = 1") == [(1250000, 4)]
        assert "12,500" in text_of(screen, "#facts")


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("title", "", "title: required"),
        ("amount", "12,5x", "amount"),
        ("cost", "-10", "cost: must not be negative"),
        ("confidence", "7", "confidence: '7' is not 1 to 5 stars"),
        ("expected_close", "next blursday", "expected close: 'next blursday' is not a date"),
        ("proposal_url", "not a url", "proposal URL: 'not a url' is not a web address"),
        ("currency", "euros", "currency: 'euros' is not a three-letter ISO code"),
    ],
)
async def test_deal_form_marks_each_invalid_field_and_refuses_to_save(seeded: Path, field: str, value: str, reason: str) -> None:
    before = fetch(seeded, "SELECT * FROM deal WHERE id = 1")
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_deal(app, pilot)
        await pilot.press("e")
        form = app.screen
        widget = form.query_one(f"#field-{field}", Input)
        widget.focus()
        widget.value = ""
        await pilot.press(*value) if value else None
        await pilot.pause()
        assert widget.has_class("-invalid")
        assert reason in text_of(form, f"#error-{field}")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert reason in text_of(form, "#form-message")
    assert fetch(seeded, "SELECT * FROM deal WHERE id = 1") == before


async def test_deal_form_refuses_an_unknown_company_with_the_stores_reason(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_deal(app, pilot)
        await pilot.press("e")
        form = app.screen
        form.query_one("#field-company", Input).value = "Nobody Ltd"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is form
        assert "no company called 'Nobody Ltd'" in text_of(form, "#form-message")
        assert form.query_one("#field-company").has_class("-invalid")
    assert fetch(seeded, "SELECT company_id FROM deal WHERE id = 1") == [(1,)]


async def test_esc_asks_before_dropping_unsaved_changes(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        await pilot.press("e")
        form = app.screen
        form.query_one("#field-title", Input).value = "Changed title"
        await pilot.press("escape")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep editing
        assert app.screen is form
        await pilot.press("escape")
        await pilot.press("y")  # drop
        await pilot.pause()
        assert app.screen is screen
    assert fetch(seeded, "SELECT title FROM deal WHERE id = 1") == [("Website relaunch",)]


async def test_delete_moves_the_deal_to_the_trash_after_asking(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await open_deal(app, pilot)
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert isinstance(app.screen, DealDetailScreen)
        assert fetch(seeded, "SELECT deleted_at FROM deal WHERE id = 1") == [(None,)]
        await pilot.press("delete")
        await pilot.press("y")
        await pilot.pause()
        assert isinstance(app.screen, BoardScreen)  # back where it was opened, not a blank screen
        assert not any("is gone" in n.message for n in app._notifications)
    assert fetch(seeded, "SELECT deleted_at IS NOT NULL FROM deal WHERE id = 1") == [(1,)]


async def test_o_opens_the_proposal_and_f_the_linked_file(seeded: Path, opened: list[str], tmp_path: Path) -> None:
    contract = tmp_path / "signed.pdf"
    contract.write_bytes(b"%PDF")
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        await pilot.press("o")
        assert opened == ["https://docs.example/p/1"]
        await pilot.press("f")  # nothing linked yet
        assert opened == ["https://docs.example/p/1"]
        await pilot.press("L")
        form = app.screen
        await pilot.press("ctrl+s")  # empty path refused
        assert app.screen is form and "path or URL: required" in text_of(form, "#error-target")
        form.query_one("#field-target", Input).value = str(contract)
        form.query_one("#field-kind").value = "contract"
        form.query_one("#field-label", Input).value = "Signed contract"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        assert fetch(seeded, "SELECT kind, target, label FROM deal_link") == [("contract", str(contract), "Signed contract")]
        await pilot.press("f")
        assert opened[-1] == str(contract)
        # enter on the file in the Linked list opens it too
        related = screen.query_one("#related", DataTable)
        related.focus()
        related.move_cursor(row=related.get_row_index("link:1"))
        await pilot.press("enter")
        assert opened[-1] == str(contract)


async def test_a_missing_file_says_so(seeded: Path) -> None:
    from crmtui.store.editing import add_link

    db = open_database(seeded)
    with db.session() as s:
        add_link(s, 1, "/nonexistent/contract.pdf")
    app = make_app(db)
    opener.set_opener(None)  # the real opener: checks the file exists before launching anything
    async with app.run_test(size=(120, 40)) as pilot:
        await open_deal(app, pilot)
        await pilot.press("f")
        await pilot.pause()
        assert any("no such file" in n.message for n in app._notifications)


# --- moving between records ----------------------------------------------------------------


async def test_enter_moves_to_linked_records_with_a_breadcrumb_and_esc_goes_back(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        deal = await open_deal(app, pilot)
        related = deal.query_one("#related", DataTable)
        related.focus()
        related.move_cursor(row=related.get_row_index("company:1"))
        await pilot.press("enter")
        await pilot.pause()
        company = app.screen
        assert isinstance(company, CompanyDetailScreen)
        assert text_of(company, "#crumbs").replace(" ", "") == "Websiterelaunch›Acme"
        contacts = company.query_one("#contacts", DataTable)
        contacts.focus()
        contacts.move_cursor(row=contacts.get_row_index("contact:2"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ContactDetailScreen)
        assert text_of(app.screen, "#crumbs").replace(" ", "") == "Websiterelaunch›Acme›SamLee"
        await pilot.press("escape")
        assert app.screen is company
        await pilot.press("escape")
        assert app.screen is deal


async def test_company_page_references_and_new_deal(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_record("company", 1)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, CompanyDetailScreen)
        summary = text_of(screen, "#summary")
        assert "Open pipeline 12,500 (1)" in summary
        assert "Lifetime value 3,000 (1 won)" in summary
        assert "Lost 2,000 (1)" in summary
        deals = screen.query_one("#deals", DataTable)
        assert deals.row_count == 3
        assert screen.query_one("#contacts", DataTable).row_count == 2
        facts = text_of(screen, "#facts")
        assert "acme.com" in facts and "medium" in facts and "hello@acme.com" in facts
        timeline = screen.query_one("#timeline", DataTable)
        texts = [str(timeline.get_row_at(i)[3]) for i in range(timeline.row_count)]
        assert "Kick-off call, budget confirmed" in texts and "Logo" not in texts
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, FormScreen)
        assert form.query_one("#field-company", Input).value == "#1"
        await pilot.press("ctrl+s")
        assert app.screen is form and "title: required" in text_of(form, "#error-title")
        form.query_one("#field-title", Input).value = "Newsletter"
        form.query_one("#field-amount", Input).value = "1,200"
        await pilot.press("ctrl+s")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, DealDetailScreen)
        assert "Newsletter" in text_of(app.screen, "#facts")
    assert fetch(seeded, "SELECT company_id, amount_cents FROM deal WHERE title = 'Newsletter'") == [(1, 120000)]
    # The follow-up rule (on by default) gives the new deal its "Follow up" task.
    assert fetch(
        seeded, "SELECT a.body FROM activity a JOIN deal d ON d.id = a.deal_id WHERE d.title = 'Newsletter'"
    ) == [("Follow up",)]


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("name", "", "name: required"),
        ("email", "hello@", "email: 'hello@' is not an email address"),
        ("website", "ftp://acme", "website"),
        ("domain", "acme", "domain: 'acme' is not a domain name"),
    ],
)
async def test_company_form_validation(seeded: Path, field: str, value: str, reason: str) -> None:
    before = fetch(seeded, "SELECT * FROM company")
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_record("company", 1)
        await pilot.pause()
        await pilot.press("e")
        form = app.screen
        form.query_one(f"#field-{field}", Input).value = value
        await pilot.pause()
        assert form.query_one(f"#field-{field}").has_class("-invalid")
        await pilot.press("ctrl+s")
        assert app.screen is form
        assert reason in text_of(form, "#form-message")
    assert fetch(seeded, "SELECT * FROM company") == before


async def test_company_edit_log_task_undo_delete(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_record("company", 1)
        await pilot.pause()
        screen = app.screen
        await pilot.press("e")
        app.screen.query_one("#field-email", Input).value = "sales@acme.com"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert fetch(seeded, "SELECT email FROM company WHERE id = 1") == [("sales@acme.com",)]
        await pilot.press("a")
        app.screen.query_one("#field-text", Input).value = "Annual review"
        await pilot.press("ctrl+s")
        await pilot.press("t")
        app.screen.query_one("#field-text", Input).value = "Renewal call"
        app.screen.query_one("#field-due", Input).value = "+3d"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert fetch(seeded, "SELECT kind, company_id, deal_id, due_on FROM activity WHERE body IN ('Annual review', 'Renewal call') ORDER BY id") == [
            ("note", 1, None, None), ("task", 1, None, "2026-11-26")
        ]
        await pilot.press("u")  # the task
        await pilot.press("u")  # the note
        await pilot.press("u")  # the email
        await pilot.pause()
        assert fetch(seeded, "SELECT email FROM company WHERE id = 1") == [("hello@acme.com",)]
        assert fetch(seeded, "SELECT count(*) FROM activity WHERE body IN ('Annual review', 'Renewal call') AND deleted_at IS NULL") == [(0,)]
        await pilot.press("delete", "y")
        await pilot.pause()
        assert app.screen is not screen
    assert fetch(seeded, "SELECT deleted_at IS NOT NULL FROM company WHERE id = 1") == [(1,)]


async def test_contact_page_company_deals_activities(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_record("contact", 1)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ContactDetailScreen)
        facts = text_of(screen, "#facts")
        assert "Jo Smith" in facts and "CEO" in facts and "jo@acme.com" in facts and "Acme" in facts
        deals = screen.query_one("#deals", DataTable)
        assert deals.row_count == 2  # Website relaunch and Logo (SEO audit has no contact)
        timeline = screen.query_one("#timeline", DataTable)
        texts = [str(timeline.get_row_at(i)[3]) for i in range(timeline.row_count)]
        assert "Prefers mornings" in texts
        await pilot.press("e")
        form = app.screen
        form.query_one("#field-email", Input).value = "jo at acme"
        await pilot.press("ctrl+s")
        assert app.screen is form and "is not an email address" in text_of(form, "#error-email")
        form.query_one("#field-email", Input).value = "jo@acme.org"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert fetch(seeded, "SELECT email FROM contact WHERE id = 1") == [("jo@acme.org",)]
        deals.focus()
        deals.move_cursor(row=deals.get_row_index("deal:2"))
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DealDetailScreen) and app.screen.record_id == 2
        await pilot.press("escape")
        related = screen.query_one("#related", DataTable)
        related.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, CompanyDetailScreen)


async def test_private_customer_contact_without_company(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_record("deal", 4)
        await pilot.pause()
        facts = text_of(app.screen, "#facts")
        assert "Pat Solo" in facts and "pat@mail.example" in facts
        app.open_record("contact", 3)
        await pilot.pause()
        assert "no company" in str(app.screen.query_one("#related", DataTable).get_row_at(0)[0])


async def test_delete_in_the_timeline_trashes_that_activity_and_u_brings_it_back(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        table = screen.query_one("#timeline", DataTable)
        table.focus()
        index = next(i for i in range(table.row_count) if str(table.get_row_at(i)[2]) == "Sent the proposal")
        table.move_cursor(row=index)
        await pilot.pause()
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        assert fetch(seeded, "SELECT deleted_at IS NOT NULL FROM activity WHERE body = 'Sent the proposal'") == [(1,)]
        assert fetch(seeded, "SELECT deleted_at FROM deal WHERE id = 1") == [(None,)]
        await pilot.press("u")
        await pilot.pause()
        assert fetch(seeded, "SELECT deleted_at FROM activity WHERE body = 'Sent the proposal'") == [(None,)]
        # On a stage change there is no entry to delete: delete means the deal again (asks first).
        index = next(i for i in range(table.row_count) if "created in" in str(table.get_row_at(i)[2]))
        table.move_cursor(row=index)
        await pilot.pause()
        await pilot.press("delete")
        assert isinstance(app.screen, ConfirmScreen)
        assert "deal" in str(app.screen.query_one("#confirm-question", Static).render())
        await pilot.press("n")


async def test_privacy_masks_money_on_company_and_contact_pages(seeded: Path) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        app.open_record("company", 1)
        await pilot.pause()
        await pilot.press("dollar_sign")
        await pilot.pause()
        screen = app.screen
        assert "12,500" not in text_of(screen, "#summary") and "•••••" in text_of(screen, "#summary")
        deals = screen.query_one("#deals", DataTable)
        assert all(str(deals.get_row_at(i)[3]) == "•••••" for i in range(deals.row_count))
        app.open_record("contact", 1)
        await pilot.pause()
        assert "•••••" in text_of(app.screen, "#summary")
        await pilot.press("dollar_sign")
        await pilot.pause()
        assert "12,500" in text_of(app.screen, "#summary")


async def test_custom_fields_show_on_the_page_and_are_edited_in_the_form(seeded: Path) -> None:
    conn = open_database(seeded).raw()
    conn.executemany(
        "INSERT INTO custom_field (id, entity, name, kind, options, position) VALUES (?, ?, ?, ?, ?, ?)",
        [(1, "deal", "Budget", "money", None, 0), (2, "deal", "Fit", "rating", None, 1), (3, "company", "VAT id", "text", None, 0)],
    )
    conn.close()
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_deal(app, pilot)
        assert "Budget" in text_of(screen, "#custom")
        await pilot.press("e")
        form = app.screen
        form.query_one("#field-cf_1", Input).value = "3,00x"
        await pilot.pause()
        assert "Budget: '3,00x' is not an amount" in text_of(form, "#error-cf_1")
        await pilot.press("ctrl+s")
        assert app.screen is form
        form.query_one("#field-cf_2", Select).value = "5"  # a rating is a pick list of stars
        form.query_one("#field-cf_1", Input).value = "3,000"
        await pilot.pause()
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen
        custom = text_of(screen, "#custom")
        assert "★★★★★" in custom and "3,000" in custom
        await pilot.press("dollar_sign")
        await pilot.pause()
        assert "3,000" not in text_of(screen, "#custom")
        app.open_record("company", 1)
        await pilot.pause()
        assert "VAT id" in text_of(app.screen, "#facts")
    assert fetch(seeded, "SELECT field_id, value FROM custom_value ORDER BY field_id") == [(1, "300000"), (2, "5")]
