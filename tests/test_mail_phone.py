"""`m` and `c` on the record pages: a new mail to the customer in the mail client (then, asked, an
email logged on the record), and their phone or email copied to the clipboard."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from textual.app import App

from crmtui.app import make_app
from crmtui.screens.confirm import ConfirmScreen
from crmtui.screens.record_screen import CopyPicker, mailto_url
from crmtui.store.companies import create_company
from crmtui.store.contacts import create_contact
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal
from tests.conftest import fetch


def seed(db_path: Path) -> None:
    db = open_database(db_path)
    with db.session() as s:
        acme = create_company(s, "Acme", email="hello@acme.com", phone="+1 555 0100")
        create_contact(s, "Jo Smith", email="jo@acme.com", phone="+1 555 0101", company_id=acme.id)  # contact 1
        create_deal(s, "Website relaunch & SEO?", company="#1", contact="#1", amount="12500")  # deal 1
        create_deal(s, "Logo", company="#1", amount="3000")  # deal 2: the company's email
        quiet = create_company(s, "Quiet Ltd")  # company 2: no email of its own
        create_contact(s, "Zoe Quinn", company_id=quiet.id)  # contact 2: nothing at all
        create_contact(s, "Al Brown", email="al@quiet.example", company_id=quiet.id)  # contact 3
        create_deal(s, "Silent", company="#2", contact="#2", amount="100", follow_up=False)  # deal 3
        create_company(s, "Nobody Inc")  # company 3: no email, no contacts
        create_contact(s, "Phone Only", phone="070-123 45 67")  # contact 4
    db.close()


@pytest.fixture
def seeded(db_path: Path, fixed_clock: dt.datetime) -> Path:
    seed(db_path)
    return db_path


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    urls: list[str] = []
    monkeypatch.setattr(App, "open_url", lambda self, url, **kw: urls.append(url))
    return urls


@pytest.fixture
def copied(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    texts: list[str] = []
    monkeypatch.setattr(App, "copy_to_clipboard", lambda self, text: texts.append(text))
    return texts


def emails(db: Path) -> list[tuple]:
    return fetch(db, "SELECT body, deal_id, company_id, contact_id FROM activity WHERE kind = 'email' AND deleted_at IS NULL")


def notices(app) -> list[str]:  # noqa: ANN001
    return [n.message for n in app._notifications]


async def _open(app, pilot, kind: str, record_id: int) -> None:  # noqa: ANN001
    app.open_record(kind, record_id)
    await pilot.pause()


@pytest.mark.parametrize(("kind", "record_id", "url", "who"), [
    ("deal", 1, "mailto:jo@acme.com?subject=Website%20relaunch%20%26%20SEO%3F", "Jo Smith <jo@acme.com>"),
    ("deal", 2, "mailto:hello@acme.com?subject=Logo", "Acme <hello@acme.com>"),
    ("company", 1, "mailto:hello@acme.com", "Acme <hello@acme.com>"),
    ("company", 2, "mailto:al@quiet.example", "Al Brown <al@quiet.example>"),  # its first contact with an email
    ("contact", 1, "mailto:jo@acme.com", "Jo Smith <jo@acme.com>"),
])
async def test_m_opens_a_mail_and_logs_it_only_after_yes(
        seeded: Path, opened: list[str], kind: str, record_id: int, url: str, who: str) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(app, pilot, kind, record_id)
        page = app.screen
        await pilot.press("m")
        await pilot.pause()
        assert opened == [url]
        assert isinstance(app.screen, ConfirmScreen)
        assert f"Log an email to {who.partition(' <')[0]}?" in app.screen.question
        assert emails(seeded) == []  # nothing logged before the answer
        await pilot.press("n")
        await pilot.pause()
        assert app.screen is page and emails(seeded) == []

        await pilot.press("m")
        await pilot.pause()
        assert opened == [url, url]
        await pilot.press("y")
        await pilot.pause()
        assert app.screen is page
        ((body, *owners),) = emails(seeded)
        assert body == f"Emailed {who}"
        assert owners[("deal", "company", "contact").index(kind)] == record_id
        assert "Logged the email (u undoes)" in notices(app)

        await pilot.press("u")  # undone like any logging on the page
        await pilot.pause()
        assert emails(seeded) == []


async def test_no_email_address_says_so_and_opens_nothing(seeded: Path, opened: list[str]) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        for kind, record_id, why in (("deal", 3, "the deal's contact and company have none"),
                                     ("company", 3, "the company and its contacts have none"),
                                     ("contact", 4, "e adds one")):
            await _open(app, pilot, kind, record_id)
            page = app.screen
            await pilot.press("m")
            await pilot.pause()
            assert app.screen is page, kind
            assert notices(app)[-1] == f"No email address to write to: {why}"
    assert opened == []
    assert emails(seeded) == []


async def test_c_copies_the_only_one_there_is(seeded: Path, copied: list[str]) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(app, pilot, "contact", 4)  # a phone, no email
        await pilot.press("c")
        await pilot.pause()
        assert copied == ["070-123 45 67"]
        assert notices(app)[-1] == "Copied Phone Only's phone 070-123 45 67"
        await _open(app, pilot, "contact", 3)  # an email, no phone
        await pilot.press("c")
        await pilot.pause()
        assert copied[-1] == "al@quiet.example"
        assert notices(app)[-1] == "Copied Al Brown's email al@quiet.example"
        await _open(app, pilot, "company", 3)  # neither
        page = app.screen
        await pilot.press("c")
        await pilot.pause()
        assert app.screen is page and len(copied) == 2
        assert notices(app)[-1] == "Nothing to copy: no phone or email (the company and its contacts have none)"


async def test_c_offers_phone_or_email_when_there_are_both(seeded: Path, copied: list[str]) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(app, pilot, "deal", 1)
        page = app.screen
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, CopyPicker) and copied == []
        await pilot.press("p")
        await pilot.pause()
        assert app.screen is page and copied == ["+1 555 0101"]
        assert notices(app)[-1] == "Copied Jo Smith's phone +1 555 0101"

        await pilot.press("c", "e")
        await pilot.pause()
        assert copied[-1] == "jo@acme.com"

        await pilot.press("c", "down", "enter")  # the highlighted one: the second, the email
        await pilot.pause()
        assert copied[-1] == "jo@acme.com" and len(copied) == 3

        await pilot.press("c", "escape")
        await pilot.pause()
        assert app.screen is page and len(copied) == 3

        await _open(app, pilot, "company", 1)
        await pilot.press("c", "p")
        await pilot.pause()
        assert copied[-1] == "+1 555 0100"  # the company's own, before its contacts'


async def test_privacy_mode_does_not_stop_mail_or_copy(seeded: Path, opened: list[str], copied: list[str]) -> None:
    app = make_app(open_database(seeded))
    async with app.run_test(size=(120, 40)) as pilot:
        await _open(app, pilot, "deal", 1)
        await pilot.press("dollar_sign")  # privacy hides amounts, not how to reach a customer
        await pilot.press("c", "e", "m", "n")
        await pilot.pause()
        assert copied == ["jo@acme.com"] and opened == ["mailto:jo@acme.com?subject=Website%20relaunch%20%26%20SEO%3F"]
        assert not any("12,500" in n or "12500" in n for n in notices(app))


def test_a_mailto_url_cannot_add_headers() -> None:
    assert mailto_url("jo+crm@acme.com") == "mailto:jo+crm@acme.com"
    assert mailto_url("a@b.c?cc=evil@x.y") == "mailto:a@b.c%3Fcc%3Devil@x.y"
    assert mailto_url("a@b.c", "Q&A: 50% off\nnow") == "mailto:a@b.c?subject=Q%26A%3A%2050%25%20off%0Anow"
