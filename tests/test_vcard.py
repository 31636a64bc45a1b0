"""Contacts in and out as vCards: the sample address books Apple Contacts, Google Contacts and
Outlook write, through the CSV import's matching, summary, dry run, rejects and undo; the export
read back by vobject, and imported again into a new database."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from pathlib import Path

import vobject

from crmtui.store.vcard import fold
from tests.commands import ok, refused
from tests.conftest import fetch, snapshot_of

SAMPLES = Path(__file__).resolve().parent.parent / "data" / "samples"


def _contacts(db: Path) -> dict[str, dict]:
    rows = fetch(db, """
        SELECT p.name, p.email, p.phone, p.title, c.name, p.notes,
               (SELECT group_concat(name, '; ') FROM (SELECT t.name FROM contact_tag l JOIN tag t ON t.id = l.tag_id
                WHERE l.contact_id = p.id ORDER BY t.name))
        FROM contact p LEFT JOIN company c ON c.id = p.company_id WHERE p.deleted_at IS NULL""")
    return {r[0]: {"email": r[1], "phone": r[2], "title": r[3], "company": r[4], "notes": r[5], "tags": r[6]}
            for r in rows}


def _sample(tmp_path: Path, name: str) -> Path:
    return Path(shutil.copy(SAMPLES / name, tmp_path / name))


def test_apple_cards_grouped_emails_folded_note_and_a_photo(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    result = ok(db, "import", str(_sample(tmp_path, "contacts-apple.vcf")), "--json")
    summary = json.loads(result.stdout)
    assert (summary["type"], summary["rows"], summary["counts"]["contact"]["created"]) == ("contacts", 2, 2)
    asa = _contacts(db)["Åsa Öberg"]
    assert (asa["email"], asa["phone"], asa["title"], asa["company"], asa["tags"]) == (
        "asa@nordljus.se", "+46 70 123 45 67", "Head of Sales", "Nordljus AB", "Nordics; Prospect")
    assert asa["notes"] == ("Met at Nordic SaaS Summit, Stockholm.\nWants a proposal for the Q3 rollout; budget "
                            "approved by the CFO.\n\nOther emails: asa.oberg@gmail.com (home)\n"
                            "Other phones: +46 8 555 010 00 (work)")
    assert _contacts(db)["Łukasz Kowalski"]["company"] == "Wisła Logistics"


def test_google_cards_keep_every_email_and_phone(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    ok(db, "add", "company", "Bergwerk GmbH")  # matched as a CSV import matches it, not made again
    ok(db, "import", str(_sample(tmp_path, "contacts-google.vcf")))
    people = _contacts(db)
    assert set(people) == {"Jürgen Müller", "王小明", "Émile Zola-Dupré"}
    jurgen = people["Jürgen Müller"]
    assert (jurgen["email"], jurgen["phone"], jurgen["company"], jurgen["title"]) == (
        "juergen.mueller@bergwerk.de", "+49 151 2345 6789", "Bergwerk GmbH", "Geschäftsführer")
    assert jurgen["notes"].endswith("Other emails: jm1978@web.de (home), j.mueller@example.org\n"
                                    "Other phones: +49 30 1234 567 (work), +49 30 7654 321 (home)")
    assert jurgen["tags"] == "Germany; Partner"  # Google's myContacts group is not a tag
    assert people["王小明"]["company"] == "北京云科技有限公司" and people["王小明"]["title"] == "采购经理"
    assert people["Émile Zola-Dupré"]["tags"] is None  # (myContacts, starred)
    assert fetch(db, "SELECT count(*) FROM company WHERE name = 'Bergwerk GmbH'") == [(1,)]


def test_outlook_quoted_printable_and_vcard_2_1_types(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    ok(db, "import", str(_sample(tmp_path, "contacts-outlook.vcf")))
    people = _contacts(db)
    gunther = people["Günther Weiß"]
    assert (gunther["email"], gunther["phone"], gunther["company"]) == (
        "g.weiss@alpenblick.de", "+49 89 1234 5678", "Alpenblick Consulting")
    assert gunther["notes"] == ("Introduced by Anna at the München meetup.\nNeeds a quote before the board meeting, "
                                "then a workshop.\n\nOther emails: guenther.weiss@gmx.de\n"
                                "Other phones: +49 171 555 0101 (mobile)")
    assert people["John Smith"]["company"] == "Smith & Co." and people["John Smith"]["tags"] == "Customer; UK"


def test_vcard_4_uri_phones_preference_order_and_groups_left_out(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    summary = json.loads(ok(db, "import", str(_sample(tmp_path, "contacts-v4.vcf")), "--json").stdout)
    assert summary["rows"] == 2  # the KIND:group card is not a contact
    sofia = _contacts(db)["Sofía Hernández"]
    assert (sofia["email"], sofia["phone"]) == ("sofia.hernandez@proton.me", "+34-91-555-0100 ext. 12")
    assert sofia["notes"] == ("Speaks at DevConf, Madrid.\n\nOther emails: sofia@sol-digital.es (work)\n"
                              "Other phones: +34-600-123-456 (mobile)")
    assert set(_contacts(db)) == {"Sofía Hernández", "Thi Nguyen"}


def test_told_by_content_without_the_extension(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    ok(db, "import", "-", input=(SAMPLES / "contacts-google.vcf").read_bytes())
    assert len(_contacts(db)) == 3


def test_importing_again_updates_rather_than_duplicates(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    path = _sample(tmp_path, "contacts-google.vcf")
    ok(db, "import", str(path))
    path.write_text(path.read_text(encoding="utf-8").replace("TITLE:Geschäftsführer", "TITLE:CEO"),
                    encoding="utf-8", newline="")
    summary = json.loads(ok(db, "import", str(path), "--json").stdout)
    assert summary["counts"]["contact"]["created"] == 0 and summary["counts"]["contact"]["updated"] == 1
    assert fetch(db, "SELECT count(*) FROM contact") == [(3,)]
    assert _contacts(db)["Jürgen Müller"]["title"] == "CEO"


def test_dry_run_writes_nothing(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    ok(db, "add", "contact", "Someone Else")
    before = snapshot_of(db)
    summary = json.loads(ok(db, "import", str(_sample(tmp_path, "contacts-apple.vcf")), "--dry-run",
                            "--json").stdout)
    assert summary["dry_run"] and summary["counts"]["contact"]["created"] == 2
    assert snapshot_of(db) == before


_BROKEN = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ada Lovelace\r\nEMAIL:ada@example.org\r\nEND:VCARD\r\n"
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:;;;;\r\nORG:Nameless Ltd\r\nNOTE:no name\\, no email\r\nEND:VCARD\r\n"
)


def test_a_card_without_name_or_email_is_rejected_with_its_line(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    ok(db, "add", "contact", "Someone Else")
    path = tmp_path / "book.vcf"
    path.write_text(_BROKEN, encoding="utf-8", newline="")
    message = refused(db, "import", str(path))
    assert "line 6: the contact has neither a name nor an email address" in message
    assert "nothing was imported" in message
    ok(db, "import", str(path), "--skip-invalid")
    assert set(_contacts(db)) == {"Someone Else", "Ada Lovelace"}
    with (tmp_path / "book.rejects.csv").open(encoding="utf-8", newline="") as fh:
        rejects = list(csv.DictReader(fh))
    assert [(r["Organization"], r["Note"]) for r in rejects] == [("Nameless Ltd", "no name, no email")]
    assert rejects[0]["error"].startswith("line 6:")


def test_files_that_are_not_address_books_are_clear_errors(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    ok(db, "add", "contact", "Someone Else")
    empty = tmp_path / "none.vcf"
    empty.write_text("Name,Email\nAda,ada@example.org\n", encoding="utf-8")
    assert "none.vcf: holds no vCards" in refused(db, "import", str(empty))
    cut = tmp_path / "cut.vcf"
    cut.write_text(_BROKEN[:-12], encoding="utf-8", newline="")  # the last END:VCARD is missing
    assert "cut.vcf: line 6: the card that begins here never ends" in refused(db, "import", str(cut))


def test_undo_removes_what_the_import_made(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    ok(db, "add", "contact", "Someone Else")
    before = _contacts(db)
    summary = json.loads(ok(db, "import", str(_sample(tmp_path, "contacts-outlook.vcf")), "--json").stdout)
    assert len(_contacts(db)) == 3
    ok(db, "imports", "undo", str(summary["import_id"]), "--yes")
    assert _contacts(db) == before
    assert fetch(db, "SELECT count(*) FROM company WHERE deleted_at IS NULL") == [(0,)]


_PEOPLE = [
    ("Åsa Öberg", "asa@nordljus.se", "+46 70 123 45 67", "Head of Sales", "Nordljus AB", "Prospect; Nordics",
     "Met in Stockholm, 2026.\nWants a proposal; budget \\ approved."),
    ("Jürgen Weiß-Müller", "jwm@bergwerk.de", "", "Geschäftsführer", "Bergwerk GmbH", "Partner; Germany; VIP", ""),
    ("Łukasz Żółć", "lukasz@wisla.pl", "+48 22 555 01 23", "", "", "", "Line one\nLine two, with a comma"),
    ("王小明", "wang@example.cn", "", "采购经理", "北京云科技有限公司", "Prospect", "很高兴认识你。" * 20),
    ("Émile Zola", "", "+33 1 23 45 67 89", "", "", "", ""),
    ("Ludwig van Beethoven", "ludwig@example.at", "", "", "", "", ""),
]


def _seed(db: Path, tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["name", "email", "phone", "title", "company", "tags", "notes"])
        writer.writerows(_PEOPLE)
    ok(db, "import", str(path), "--type", "contacts")


def test_export_is_vcard_3_that_vobject_reads(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    _seed(db, tmp_path)
    with sqlite3.connect(db) as conn:  # a contact in the trash does not go out
        conn.execute("UPDATE contact SET deleted_at = '2026-01-02 03:04:05' WHERE id = 6")
    conn.close()
    out = tmp_path / "contacts.vcf"
    assert "5 contacts written to" in ok(db, "export", "--type", "contacts", "--format", "vcf", "-o", str(out)).stderr
    data = out.read_bytes()
    assert data.count(b"\r\n") == data.count(b"\n") and data.endswith(b"END:VCARD\r\n")
    assert max(len(line) for line in data.split(b"\r\n")) <= 75
    cards = {c.fn.value: c for c in vobject.readComponents(data.decode("utf-8"))}
    assert set(cards) == {p[0] for p in _PEOPLE[:5]}
    asa = cards["Åsa Öberg"]
    assert asa.version.value == "3.0"
    assert (asa.n.value.family, asa.n.value.given) == ("Öberg", "Åsa")
    assert asa.email.value == "asa@nordljus.se" and asa.tel.value == "+46 70 123 45 67"
    assert asa.org.value == ["Nordljus AB"] and asa.title.value == "Head of Sales"
    assert asa.note.value == _PEOPLE[0][6] and asa.categories.value == ["Nordics", "Prospect"]
    assert asa.uid.value.startswith("contact-1-") and asa.uid.value.endswith("@crmtui")
    assert len(asa.rev.value) == 16
    assert (cards["王小明"].n.value.given, cards["王小明"].n.value.family) == ("王小明", "")
    assert cards["王小明"].note.value == _PEOPLE[3][6]
    # the same uids the next time, from this database only
    again = tmp_path / "again.vcf"
    ok(db, "export", "--type", "contacts", "--format", "vcf", "-o", str(again))
    assert [c.uid.value for c in vobject.readComponents(again.read_text(encoding="utf-8"))] == [
        c.uid.value for c in vobject.readComponents(data.decode("utf-8"))]


def test_round_trip_into_a_new_database_gives_the_same_contacts(tmp_path: Path) -> None:
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    _seed(first, tmp_path)
    out = tmp_path / "book.vcf"
    ok(first, "export", "--type", "contacts", "--format", "vcf", "-o", str(out))
    ok(second, "import", str(out))
    assert _contacts(second) == _contacts(first)
    assert len(_contacts(second)) == len(_PEOPLE)


def test_export_to_standard_output(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    ok(db, "add", "contact", "Ada Lovelace", "--email", "ada@example.org", "--tag", "Math")
    data = ok(db, "export", "--type", "contacts", "--format", "vcf").stdout_bytes
    assert b"FN:Ada Lovelace\r\nN:Lovelace;Ada;;;\r\n" in data and b"CATEGORIES:Math\r\n" in data


def test_export_of_other_types_as_vcf_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    ok(db, "add", "contact", "Ada Lovelace")
    assert "--format vcf: exports contacts (--type contacts), not deals" in refused(
        db, "export", "--type", "deals", "--format", "vcf")
    assert "not csv, json, ics or vcf" in refused(db, "export", "--type", "contacts", "--format", "vcard")


def test_folding_never_splits_a_character() -> None:
    line = "NOTE:" + "å" * 100 + "王" * 30
    folded = fold(line).encode()
    parts = folded.split(b"\r\n")
    assert all(len(p) <= 75 for p in parts) and len(parts) > 3
    assert "".join(p.decode()[1:] if i else p.decode() for i, p in enumerate(parts)) == line



def test_an_address_book_is_read_as_contacts_and_said_so(tmp_path: Path) -> None:
    db = tmp_path / "crm.db"
    vcf = _sample(tmp_path, "contacts-google.vcf")
    assert "vCard" in refused(db, "import", str(vcf), "--type", "deals")
    assert not (tmp_path / "contacts-google.rejects.csv").exists()
    result = ok(db, "import", str(vcf))
    assert "as contacts: UTF-8, vCard" in result.stderr and "comma-delimited" not in result.stdout + result.stderr
