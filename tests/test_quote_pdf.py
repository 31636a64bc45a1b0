"""A quote's PDF, read back with pypdf: the customer, each line, the totals and names in any script
(å ä ö é ü ł ß € £, 山田太郎, 김민준) are there as text, in fonts embedded in the file, with no
glyph missing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pypdf import PdfReader

from crmtui.store import lines, money, quote_render, quotes
from crmtui.store.db import open_database
from crmtui.store.deals import create_deal
from crmtui.store.profile import KEYS, set_profile

LINES = (
    ("Workshop für Straße & Bäckerei", "2", "1200.50", "25"),
    ("Łódź café rebrand, 山田太郎 design", "1.5", "800", "12"),
    ("Support £ and € pricing — 김민준", "3", "99.99", "0"),
)


@pytest.fixture(autouse=True)
def builtin_money() -> None:
    money.use_locale(None)
    yield
    money.use_locale(None)


@pytest.fixture
def quote_pdf(db_path: Path, fixed_clock: dt.datetime) -> tuple[Path, dict]:
    database = open_database(db_path)
    with database.session() as s:
        deal = create_deal(s, "Ny webbplats åäö", company="Åkerlund & Søn Öl AB", contact="山田太郎", currency="EUR")
        for text, qty, price, tax in LINES:
            lines.add_line(s, deal.id, text, quantity=qty, price=price, tax=tax)
        for key, value in (("name", "Kim Jørgensen Ärztebüro"), ("address", "Große Straße 5\\n10115 Berlin"),
                           ("email", "kim@example.de"), ("bank", "IBAN DE89 3704 0044 0532 0130 00"),
                           ("footer", "Danke schön — 김민준 ありがとう")):
            set_profile(s, key, value)
        made = quotes.make_quote(s, deal.id, fmt="pdf")
    with database.session() as s:
        snapshot = quotes.list_quotes(s)[0]
    return made.path, snapshot


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def test_the_pdf_holds_customer_lines_totals_and_every_name(quote_pdf: tuple[Path, dict]) -> None:
    path, listed = quote_pdf
    text = pdf_text(path)
    for expected in (
        "Quote Q-2026-0001", "Åkerlund & Søn Öl AB", "山田太郎", "Kim Jørgensen Ärztebüro", "Große Straße 5",
        "Ny webbplats åäö", "Workshop für Straße & Bäckerei", "Łódź café rebrand, 山田太郎 design",
        "Support £ and € pricing — 김민준", "Danke schön — 김민준 ありがとう", "IBAN DE89 3704 0044 0532 0130 00",
        # each line's quantity, unit price and amount
        "2", "EUR 1,200.50", "EUR 2,401.00", "1.5", "EUR 800.00", "EUR 1,200.00", "3", "EUR 99.99", "EUR 299.97",
        # totals per tax rate, and the total
        "Subtotal", "EUR 3,900.97", "Tax 0 % on EUR 299.97", "EUR 0.00", "Tax 12 % on EUR 1,200.00", "EUR 144.00",
        "Tax 25 % on EUR 2,401.00", "EUR 600.25", "EUR 4,645.22",
    ):
        assert expected in text, expected
    assert listed["total"] == "EUR 4,645.22"


def test_the_fonts_are_embedded(quote_pdf: tuple[Path, dict]) -> None:
    path, _ = quote_pdf
    page = PdfReader(path).pages[0]
    fonts = {font["/BaseFont"]: font for font in (ref.get_object() for ref in page["/Resources"]["/Font"].values())}
    assert sorted(name.split("+")[1] for name in fonts) == ["DejaVuSansBold", "DejaVuSansBook", "DroidSansFallback"]
    for name, font in fonts.items():
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor, name  # the glyphs travel with the file


def test_no_glyph_is_missing(db_path: Path, fixed_clock: dt.datetime) -> None:
    from fpdf import FPDF

    database = open_database(db_path)
    with database.session() as s:
        deal = create_deal(s, "Deal", company="山田商事", contact="김민준")
        for text, qty, price, tax in LINES:
            lines.add_line(s, deal.id, text, quantity=qty, price=price, tax=tax)
        rows = lines.line_rows(s, deal.id)
        snapshot = quotes.quote_snapshot(s, deal, rows, number="Q-1", issued=dt.date(2026, 1, 5),
                                         until=dt.date(2026, 2, 4),
                                         currency="GBP", profile={**dict.fromkeys(KEYS, ""), "name": "Jürgen Łukasz"})
    loaded = quote_render.load_template(None, "pdf")
    pdf = quote_render.pdf_document(loaded.template.render(**snapshot, logo_src=""), "Q-1")
    pdf.output()
    assert quote_render.missing_glyphs(pdf) == {}
    # The check sees a missing glyph: DejaVu Sans alone has no CJK.
    bare = FPDF()
    bare.add_font("dejavu", "", quote_render.FONTS / "DejaVuSans.ttf")
    bare.set_font("dejavu", size=10)
    bare.add_page()
    bare.cell(text="山田太郎")
    bare.output()
    assert quote_render.missing_glyphs(bare) == {"dejavu": list("山田太郎")}


def test_the_same_quote_in_html_and_markdown(db_path: Path, fixed_clock: dt.datetime) -> None:
    database = open_database(db_path)
    with database.session() as s:
        deal = create_deal(s, "Site <b>", company="Åkerlund & Søn", contact="김민준")
        for text, qty, price, tax in LINES:
            lines.add_line(s, deal.id, text, quantity=qty, price=price, tax=tax)
        html = quotes.make_quote(s, deal.id, fmt="html").path.read_text(encoding="utf-8")
        md = quotes.make_quote(s, deal.id, fmt="md").path.read_text(encoding="utf-8")
    assert "Site &lt;b&gt;" in html and "Åkerlund &amp; Søn" in html and "김민준" in html  # escaped, not markup
    assert '<meta charset="utf-8">' in html
    assert "| Łódź café rebrand, 山田太郎 design | 1.5 | USD 800.00 |  | 12 % | USD 1,200.00 |" in md
    assert "**USD 4,645.22**" in md
