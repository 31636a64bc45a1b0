"""Remake the sample quote (quote-sample.pdf, .html and .md beside this script) from the demo data.

A demo database (as `crmtui demo` makes it) in a temporary folder, with German money and dates
(de_DE, EUR); one of its open deals gets a customer whose names need more than ASCII (Müller &
Søn Brauerei, 山田太郎), line items from the demo catalogue and a free one, a business profile,
and a quote in each format. The clock is fixed, so the files come out the same each time.

    .venv/bin/python data/samples/make_sample_quote.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOW = dt.datetime(2026, 12, 7, 10, 0)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["CRMTUI_CONFIG_DIR"] = str(Path(tmp) / "config")  # no user template of yours in the sample
        from crmtui.store import clock, lines, money, quote_render, quotes
        from crmtui.store.models import Quote
        from crmtui.store.db import open_database
        from crmtui.store.demo import generate_demo
        from crmtui.store.editing import set_fields
        from crmtui.store.profile import set_profile
        from crmtui.store.settings import set_setting

        clock.set_fixed_now(NOW)
        database = open_database(Path(tmp) / "demo.db")
        generate_demo(database, deals=60, seed=42)
        with database.session() as s:
            set_setting(s, "currency", "EUR")
            set_setting(s, "locale", "de_DE")
        money.use_locale("de_DE", "EUR")
        with database.session() as s:
            deal = s.execute(
                "SELECT d.id, d.company_id, d.contact_id FROM deal d JOIN stage st ON st.id = d.stage_id"
                " WHERE st.kind = 'open' AND d.company_id IS NOT NULL AND d.contact_id IS NOT NULL"
                " AND d.deleted_at IS NULL ORDER BY d.id LIMIT 1").fetchone()
            s.execute("UPDATE deal SET currency = NULL, title = 'Neue Markenstrategie 2027' WHERE id = :id",
                      {"id": deal["id"]})
            set_fields(s, "company", deal["company_id"], {
                "name": "Müller & Søn Brauerei GmbH", "address": "Große Straße 5, 10115 Berlin",
                "email": "einkauf@mueller-soen.example"})
            set_fields(s, "contact", deal["contact_id"], {"name": "山田太郎", "email": "taro.yamada@mueller-soen.example",
                                                          "title": "Leiter Einkauf"})
            lines.add_line(s, deal["id"], "WKSHP", quantity="2", description="Workshop (halber Tag): Zielbild & Marke")
            lines.add_line(s, deal["id"], "CONS-DAY", quantity="3.5", discount="10")
            lines.add_line(s, deal["id"], "TRAIN", quantity="4", description="Schulungsplatz für Łukasz, Zoë, 김민준")
            lines.add_line(s, deal["id"], "Reisekosten Berlin ↔ Malmö (pauschal, £/€ umgerechnet)", price="480",
                           tax="19")
            for key, value in (
                ("name", "Nordlicht Beratung – Åsa Lindström"), ("address", "Kungsgatan 12\\n211 49 Malmö, Sverige"),
                ("vat", "SE 556677-8899 01"), ("email", "asa@nordlicht.example"), ("phone", "+46 40 123 45 67"),
                ("website", "https://nordlicht.example"), ("bank", "IBAN SE45 5000 0000 0583 9825 7466 · BIC ESSESESS"),
                ("payment-terms", "30 Tage netto"), ("footer", "Vielen Dank für Ihr Vertrauen! Tack för förtroendet.")):
                set_profile(s, key, value)
        with database.session() as s:
            made = quotes.make_quote(s, deal["id"], fmt="pdf", valid_until="+30d", output=HERE / "quote-sample.pdf")
            snapshot = json.loads(s.get(Quote, made.id).snapshot)
        print(f"{made.number}: {made.path} ({made.total})")
        for fmt in ("html", "md"):  # the same quote, from its snapshot
            target = HERE / f"quote-sample.{fmt}"
            target.write_bytes(quote_render.render(quote_render.load_template(None, fmt), snapshot, fmt))
            print(f"{made.number}: {target}")

if __name__ == "__main__":
    main()
