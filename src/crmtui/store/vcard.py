"""Contacts as vCards: out as one vCard 3.0 file, in from the cards Apple Contacts, Google
Contacts and Outlook write (vCard 2.1, 3.0 and 4.0).

Import turns the cards into the table a contacts CSV would be (one row per card, numbered by the
line its BEGIN:VCARD is on), so matching, the summary, --dry-run, rejects and undo are the CSV
import's. A card gives one email and one phone: the preferred one (TYPE=PREF, or the lowest
PREF=n), else the first; the others are kept readable at the end of the notes ("Other emails:
…", "Other phones: …"). ORG's first part is the company, CATEGORIES the tags. PHOTO, ADR, UID,
X- properties and the rest are left out; contact groups (KIND:group) are not contacts.

The cards are read by hand rather than with vobject, which raises on Outlook's vCard 2.1
shapes (quoted-printable values with soft line breaks, base64 photos ending in a blank line).
"""

from __future__ import annotations

import quopri
import re
import sqlite3
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from crmtui.store.errors import ValidationError

# The columns of the table the cards become: names the contacts mapping knows (shown in the
# mapping table and in the rejects file).
HEADER = ("Name", "Email", "Phone", "Title", "Organization", "Categories", "Note")
EXTENSIONS = (".vcf", ".vcard")

_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)
_TYPE_WORDS = {"CELL": "mobile", "WORK": "work", "HOME": "home", "FAX": "fax", "PAGER": "pager", "MAIN": "main",
               "IPHONE": "iPhone", "TEXT": "text", "VIDEO": "video", "OTHER": "other"}
_NOT_LABELS = {"PREF", "VOICE", "INTERNET", "X400", "MSG", "BBS", "MODEM", "CAR", "ISDN", "PCS"}
# Words that start a family name ("Ludwig van Beethoven": van Beethoven)
_PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "del", "della", "du", "le", "la", "ter", "ten", "af",
              "zu", "dos", "das", "bin", "ibn", "al"}


# --- reading ------------------------------------------------------------------------------------


def is_vcard(source: str | Path, text: str) -> bool:
    """A vCard file: told by its extension, or by its first line being BEGIN:VCARD."""
    return Path(str(source)).suffix.lower() in EXTENSIONS or text.lstrip()[:11].upper() == "BEGIN:VCARD"


@dataclass
class Property:
    name: str  # upper case, without the group ("item1.EMAIL" -> "EMAIL")
    group: str
    params: dict[str, list[str]]  # keys upper case; a vCard 2.1 bare parameter is a TYPE
    value: str  # unfolded and quoted-printable decoded; still escaped

    def types(self) -> set[str]:
        return {t.upper() for v in self.params.get("TYPE", []) for t in v.split(",")}

    def text(self) -> str:
        return unescape(self.value).replace("\r\n", "\n").replace("\r", "\n").strip()


@dataclass
class Card:
    line: int  # of BEGIN:VCARD
    props: list[Property] = field(default_factory=list)

    def all(self, name: str) -> list[Property]:
        return [p for p in self.props if p.name == name]

    def first(self, name: str) -> str:
        return next((t for p in self.all(name) if (t := p.text())), "")


def unescape(value: str) -> str:
    r"""`\n` a new line, `\,` `\;` `\\` the character itself."""
    return _UNESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), value)


def split_unescaped(value: str, sep: str) -> list[str]:
    """The parts of a structured value (N, ORG: `;`) or a list (CATEGORIES: `,`), unescaped."""
    parts, current, i = [], [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            current.append(value[i:i + 2])
            i += 2
            continue
        if ch == sep:
            parts.append(unescape("".join(current)))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append(unescape("".join(current)))
    return parts


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, content line) with folded lines joined: a line starting with a space or tab
    continues the one before; a quoted-printable value ending in `=` goes on on the next line."""
    current: str | None = None
    start = 0
    for number, raw in enumerate(_LINE.findall(text), 1):
        line = raw.rstrip("\r\n")
        if not raw:
            break
        if current is not None and current.endswith("=") and _is_qp(current):
            current = current[:-1] + line  # (vCard 2.1: the next line is not indented)
        elif current is not None and line[:1] in (" ", "\t"):
            current += line[1:]
        else:
            if current is not None:
                yield start, current
            current, start = line, number
    if current is not None:
        yield start, current


def _is_qp(line: str) -> bool:
    head = line.split(":", 1)[0].upper()
    return "QUOTED-PRINTABLE" in head


def _property(line: str) -> Property | None:
    """One content line as a Property (None when it is not `NAME[;params]:value`)."""
    head, value, quoted = [], "", False
    for i, ch in enumerate(line):
        if ch == '"':
            quoted = not quoted
        elif ch == ":" and not quoted:
            value = line[i + 1:]
            break
        head.append(ch)
    else:
        return None
    name, *raw_params = _split_params("".join(head))
    group, _, name = name.rpartition(".")
    if not name.strip():
        return None
    params: dict[str, list[str]] = {}
    for raw in raw_params:
        key, eq, val = raw.partition("=")
        key, val = (key.strip().upper(), val) if eq else ("TYPE", key)
        params.setdefault(key, []).append(val.strip().strip('"'))
    encoding = {v.upper() for v in params.get("ENCODING", [])}
    if encoding & {"QUOTED-PRINTABLE", "QP"}:
        value = _quoted_printable(value, (params.get("CHARSET") or ["utf-8"])[0])
    return Property(name.strip().upper(), group, params, value)


def _split_params(head: str) -> list[str]:
    parts, current, quoted = [], [], False
    for ch in head:
        if ch == '"':
            quoted = not quoted
        if ch == ";" and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _quoted_printable(value: str, charset: str) -> str:
    data = quopri.decodestring(value.encode("latin-1", "replace"))
    try:
        return data.decode(charset)
    except (LookupError, UnicodeDecodeError):
        return data.decode("utf-8", "replace")


def read_cards(name: str, text: str) -> list[Card]:
    """Every card of the file. A card that never ends is an error naming its line."""
    cards: list[Card] = []
    card: Card | None = None
    for number, line in _logical_lines(text):
        upper = line.strip().upper()
        if upper == "BEGIN:VCARD":
            if card is not None:
                raise ValidationError(f"{name}: line {card.line}: the card that begins here has no END:VCARD "
                                      f"before the next BEGIN:VCARD (line {number})", "file")
            card = Card(number)
        elif upper == "END:VCARD":
            if card is None:
                raise ValidationError(f"{name}: line {number}: END:VCARD without a BEGIN:VCARD before it", "file")
            cards.append(card)
            card = None
        elif card is not None and (prop := _property(line)) is not None:
            card.props.append(prop)
    if card is not None:
        raise ValidationError(f"{name}: line {card.line}: the card that begins here never ends "
                              "(no END:VCARD; is the file cut short?)", "file")
    if not cards:
        raise ValidationError(f"{name}: holds no vCards (no BEGIN:VCARD … END:VCARD); "
                              "export the contacts from the address book as vCard (.vcf)", "file")
    return cards


def _preferred_first(props: list[Property]) -> list[Property]:
    """The properties with the preferred one first: TYPE=PREF (3.0) or the lowest PREF=n (4.0)."""
    def rank(item: tuple[int, Property]) -> tuple[int, int]:
        index, p = item
        pref = next((int(v) for v in p.params.get("PREF", []) if v.isdigit()), None)
        if pref is None and "PREF" in p.types():
            pref = 0
        return (pref if pref is not None else 101, index)

    return [p for _i, p in sorted(enumerate(props), key=rank)]


def _label(card: Card, prop: Property) -> str:
    """What kind of address or number it is: Apple's X-ABLabel of the group, else its TYPE."""
    if prop.group:
        label = next((p.text() for p in card.props if p.group == prop.group and p.name == "X-ABLABEL"), "")
        label = label.removeprefix("_$!<").removesuffix(">!$_")
        if label:
            return label.lower()
    words = [_TYPE_WORDS.get(t, t.lower()) for t in sorted(prop.types()) if t not in _NOT_LABELS
             and not t.startswith("X-")]
    return ", ".join(words)


def _phone(prop: Property) -> str:
    value = prop.text()
    if value.lower().startswith("tel:"):  # vCard 4.0: TEL;VALUE=uri:tel:+1-555-0100
        value = urllib.parse.unquote(value[4:]).replace(";ext=", " ext. ")
    return value


def _values(card: Card, name: str) -> tuple[str, list[str]]:
    """The preferred value of a property, and the others as "value (label)"."""
    ordered = [(p, v) for p in _preferred_first(card.all(name)) if (v := _phone(p) if name == "TEL" else p.text())]
    if not ordered:
        return "", []
    others = []
    for p, v in ordered[1:]:
        label = _label(card, p)
        others.append(f"{v} ({label})" if label else v)
    return ordered[0][1], others


def _name(card: Card) -> str:
    full = " ".join(card.first("FN").split())
    if full:
        return full
    n = next((split_unescaped(p.value, ";") for p in card.all("N") if p.value.strip(" ;")), [])
    # N is family;given;additional;prefix;suffix: written in the order people say it
    order = [3, 1, 2, 0, 4]
    return " ".join(" ".join(n[i].split()) for i in order if i < len(n) and n[i].strip())


def card_row(card: Card) -> list[str] | None:
    """A card as a row of HEADER (None for a contact group, which is not a contact)."""
    if card.first("KIND").lower() == "group" or card.first("X-ADDRESSBOOKSERVER-KIND").lower() == "group":
        return None
    email, other_emails = _values(card, "EMAIL")
    phone, other_phones = _values(card, "TEL")
    org = next((split_unescaped(p.value, ";")[0].strip() for p in card.all("ORG") if p.value.strip(" ;")), "")
    tags = [t.strip() for p in card.all("CATEGORIES") for t in split_unescaped(p.value, ",") if t.strip()]
    notes = "\n".join(p.text() for p in card.all("NOTE") if p.text())
    extra = [f"Other emails: {', '.join(other_emails)}" if other_emails else "",
             f"Other phones: {', '.join(other_phones)}" if other_phones else ""]
    extra_text = "\n".join(e for e in extra if e)
    if extra_text:
        notes = f"{notes}\n\n{extra_text}" if notes else extra_text
    return [_name(card), email, phone, card.first("TITLE"), org, "; ".join(tags), notes]


def contact_rows(name: str, text: str) -> list[tuple[int, list[str]]]:
    """The cards of a vCard file as rows (line, values in HEADER's order) of the table a contacts
    CSV is read into."""
    rows = [(card.line, row) for card in read_cards(name, text) if (row := card_row(card)) is not None]
    if not rows:
        raise ValidationError(f"{name}: holds only contact groups, no contacts", "file")
    return rows


# --- writing ------------------------------------------------------------------------------------


_CONTACTS = """
    SELECT p.id, p.name, p.email, p.phone, p.title, c.name AS company, p.notes, p.updated_at
    FROM contact p LEFT JOIN company c ON c.id = p.company_id
    WHERE p.deleted_at IS NULL ORDER BY p.id"""
_TAGS = """
    SELECT l.contact_id, t.name FROM contact_tag l JOIN tag t ON t.id = l.tag_id
    ORDER BY l.contact_id, t.name COLLATE NOCASE"""


def escape(value: str) -> str:
    """A text value as vCard writes it: `\\`, `,`, `;` escaped, new lines as `\\n`."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return (value.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n"))


def fold(line: str) -> str:
    """A content line folded at 75 octets (UTF-8; never inside a character), CRLF and a space."""
    if len(line) <= 18 or len(line.encode()) <= 75:
        return line
    chunks, chunk, size, limit = [], [], 0, 75
    for ch in line:
        n = len(ch.encode())
        if size + n > limit:
            chunks.append("".join(chunk))
            chunk, size, limit = [], 0, 74  # the continuation's leading space is the 75th octet
        chunk.append(ch)
        size += n
    chunks.append("".join(chunk))
    return "\r\n ".join(chunks)


def name_parts(name: str) -> tuple[str, str, str]:
    """(family, given, additional) of a full name: one word is the given name; "Family, Given"
    as written; otherwise the last word is the family name, with a particle before it
    ("Ludwig van Beethoven": van Beethoven), the first the given name, the rest additional."""
    if "," in name:
        family, _, given = name.partition(",")
        return family.strip(), given.strip(), ""
    words = name.split()
    if len(words) <= 1:
        return "", name.strip(), ""
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in _PARTICLES:
        start -= 1
    return " ".join(words[start:]), words[0], " ".join(words[1:start])


def _rev(stamp: str | None) -> str:
    digits = re.sub(r"[^0-9]", "", str(stamp or ""))[:14]
    return f"{digits[:8]}T{digits[8:14]}Z" if len(digits) == 14 else ""


def write_vcards(conn: sqlite3.Connection) -> tuple[str, int]:
    """Every live contact as a vCard 3.0, and how many. Each UID is the contact's id and the
    database's own id (as the calendar export's): an address book updates the card it has."""
    from crmtui.store.calendar import database_identity

    identity = database_identity(conn)
    tags: dict[int, list[str]] = {}
    for contact_id, tag in conn.execute(_TAGS):
        tags.setdefault(contact_id, []).append(tag)
    out: list[str] = []
    count = 0
    for row in conn.execute(_CONTACTS):
        cid, name, email, phone, title, company, notes, updated = row
        family, given, additional = name_parts(name or "")
        lines = ["BEGIN:VCARD", "VERSION:3.0", "PRODID:-//crmtui//contacts//EN",
                 f"UID:contact-{cid}-{identity}@crmtui", f"FN:{escape(name or '')}",
                 f"N:{escape(family)};{escape(given)};{escape(additional)};;"]
        if email:
            lines.append(f"EMAIL;TYPE=INTERNET:{escape(email)}")
        if phone:
            lines.append(f"TEL;TYPE=VOICE:{escape(phone)}")
        if company:
            lines.append(f"ORG:{escape(company)}")
        if title:
            lines.append(f"TITLE:{escape(title)}")
        if notes:
            lines.append(f"NOTE:{escape(notes)}")
        if cid in tags:
            lines.append("CATEGORIES:" + ",".join(escape(t) for t in tags[cid]))
        if rev := _rev(updated):
            lines.append(f"REV:{rev}")
        lines.append("END:VCARD")
        out.extend(fold(line) for line in lines)
        count += 1
    return "".join(line + "\r\n" for line in out), count


def export_contacts(conn: sqlite3.Connection, kind: str) -> tuple[str, dict[str, int]]:
    """`crmtui export --format vcf`: the text of the file and how many contacts it holds."""
    if kind != "contacts":
        raise ValidationError(f"--format vcf: exports contacts (--type contacts), not {kind}", "format")
    text, count = write_vcards(conn)
    return text, {"contacts": count}


__all__ = ["HEADER", "contact_rows", "export_contacts", "is_vcard", "read_cards", "write_vcards"]
