"""Cell values as people write them, turned into what the database stores.

Built on the foundation parsers (money, dates, validate, tags). Big files repeat the same few
hundred amounts, dates and stage names, so each parser's answers are cached per distinct text.
Every function raises ValidationError with a reason (the caller adds line and column).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from crmtui.store import clock
from crmtui.store.dates import numeric_date_order_hint, parse_date
from crmtui.store.errors import ValidationError
from crmtui.store.money import parse_amount
from crmtui.store.validate import clean_confidence, clean_currency, clean_email, clean_url, normalise_domain

# Web mail: an address there says nothing about the company a person works for.
FREE_MAIL = frozenset({
    "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de", "hotmail.com",
    "hotmail.co.uk", "hotmail.fr", "outlook.com", "live.com", "msn.com", "icloud.com", "me.com", "mac.com",
    "aol.com", "gmx.de", "gmx.net", "gmx.com", "web.de", "proton.me", "protonmail.com", "mail.com",
    "yandex.com", "yandex.ru", "mail.ru", "zoho.com", "fastmail.com", "t-online.de", "orange.fr", "free.fr",
    "libero.it", "qq.com", "163.com", "hey.com", "pm.me",
})
_SYMBOLS = {"$": "USD", "us$": "USD", "€": "EUR", "£": "GBP", "¥": "JPY", "₹": "INR", "chf": "CHF", "fr.": "CHF",
            "a$": "AUD", "c$": "CAD", "r$": "BRL", "zł": "PLN", "kr": "SEK", "₽": "RUB", "₺": "TRY"}
_CODE = re.compile(r"(?<![A-Za-z])([A-Z]{3})(?![A-Za-z])")
_EMAIL_SPLIT = re.compile(r"\s*(?::::|[;,\s])\s*")
_TAG_SPLIT = re.compile(r"\s+:::\s+|[;,]")
_TAG_PART_SPLIT = re.compile(r"[;,]")
_NAME_PUNCT = re.compile(r"[^\w\s&+]")
_LEGAL = re.compile(
    r"\s+(?:inc|incorporated|llc|l l c|ltd|limited|gmbh|ag|sa|sas|sarl|bv|nv|plc|corp|corporation|co|company|"
    r"oy|ab|as|aps|srl|spa|pty|pte|kg|ug)$"
)


def text(value: str) -> str | None:
    """Trimmed text; empty is None."""
    value = value.strip()
    return value or None


# The amounts most files write: `12500`, `12,500.00`, `$12,500.50`, `9.000,00`, `1234,5`: digits,
# maybe grouped in threes by one mark, maybe cents after the other. (Not a group after a lone `0`:
# `0,500` is half a unit to the general parser.) Grouped by commas first: the most common shape,
# tried first, is the quickest to match (amounts with cents rarely repeat: each is read once).
_common_shape = re.compile(r"\$?(?:[1-9]\d{0,2}(?:,\d{3}){1,3}(?:\.\d\d?)?|\d{1,12}(?:[.,]\d\d?)?"
                           r"|[1-9]\d{0,2}(?:\.\d{3}){1,3}(?:,\d\d?)?)", re.ASCII).fullmatch
_MARKS = frozenset(".,")


def common_amount(value: str) -> tuple[int, str | None] | None:
    """`amount` of an amount written in a common shape, without the general parser (5x faster: a
    file of amounts with cents repeats few of them); None for any other shape."""
    if _common_shape(value) is None:
        return None
    # Its digits are the cents, when two come after the decimal mark (a mark two or three places
    # from the end is the decimal one: groups have three digits).
    digits = value.replace(",", "").replace(".", "")
    if digits[0] == "$":
        cents, currency = int(digits[1:]), "USD"
    else:
        cents, currency = int(digits), None
    if value[-3:-2] not in _MARKS:
        cents *= 10 if value[-2:-1] in _MARKS else 100
    return cents, currency


# The amounts read so far, by cell: the first 4,096 distinct cells of the process. A file repeats
# few amounts (`$12,500.00`) or hardly any (`12,345.67`, with cents): the first kind is found
# here, the second misses at the cost of one look-up, not a cache's bookkeeping of every miss
# (with lru_cache, 0.5 us of each amount's 1.1 us).
_read_amounts: dict[str, tuple[int | None, str | None]] = {}
_READ_AMOUNTS_KEPT = 4096


def amount(value: str) -> tuple[int | None, str | None]:
    """(cents, currency written with it) from `$12,500.00`, `USD 4,000`, `1.234,56 €`, `7 500`."""
    got = _read_amounts.get(value)
    if got is None:
        got = common_amount(value) or _any_amount(value)
        if len(_read_amounts) < _READ_AMOUNTS_KEPT:
            _read_amounts[value] = got
    return got


def _any_amount(value: str) -> tuple[int | None, str | None]:
    """`amount` of a shape `common_amount` does not read, by the general parser."""
    cents = parse_amount(value)
    if cents is not None and cents < 0:
        raise ValidationError(f"{value.strip()!r}: an amount must not be negative")
    return cents, currency_in(value)


def currency_in(value: str) -> str | None:
    if m := _CODE.search(value):
        return m[1]
    low = value.lower()
    for symbol, code in _SYMBOLS.items():
        if symbol in low:
            return code
    return None


@lru_cache(maxsize=4096)
def currency(value: str) -> str | None:
    return clean_currency(value)


@lru_cache(maxsize=65536)
def date(value: str, order: str | None) -> str | None:
    """A date as stored (`YYYY-MM-DD`), or None for an empty cell."""
    day = parse_date(value, field="date", date_order=order, relative=False)
    return day.isoformat() if day else None


@lru_cache(maxsize=65536)
def timestamp(value: str, order: str | None) -> str | None:
    """A timestamp as stored (naive UTC `YYYY-MM-DD HH:MM:SS.ffffff`). A bare date is midnight;
    an ISO time with an offset is converted to UTC."""
    s = value.strip()
    if not s:
        return None
    iso = s.replace("Z", "+00:00").replace("z", "+00:00")
    if len(s) > 10 and s[:4].isdigit() and s[4] == "-":
        try:
            moment = dt.datetime.fromisoformat(iso)
        except ValueError:
            moment = None
        if moment is not None:
            if moment.tzinfo is not None:
                moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
            return clock.to_db(moment)
    day = parse_date(s, field="date", date_order=order, relative=False)
    return clock.to_db(dt.datetime.combine(day, dt.time())) if day else None


@lru_cache(maxsize=65536)
def date_hint(value: str) -> str | None:
    """The day/month order a value proves (`15/03/2026` -> "dmy"), else None."""
    return numeric_date_order_hint(value) if value else None


@lru_cache(maxsize=65536)
def email(value: str) -> str | None:
    """The first address of a cell that may hold several (`a@x.com ::: b@x.com`, `a@x.com; b@x.com`)."""
    s = value.strip()
    if not s:
        return None
    for part in _EMAIL_SPLIT.split(s):
        part = part.strip().strip("<>\"'")
        if "@" in part:
            return clean_email(part)
    return clean_email(s)


@lru_cache(maxsize=16384)
def url(value: str) -> str | None:
    try:
        return clean_url(value, "website")
    except ValueError as exc:  # urlsplit: "Invalid IPv6 URL" for a stray bracket
        if isinstance(exc, ValidationError):
            raise
        raise ValidationError(f"{value.strip()!r} is not a web address") from None


@lru_cache(maxsize=16384)
def domain_of(value: str | None) -> str | None:
    """A normalised domain, or None (also for text no URL parser accepts)."""
    if not value:
        return None
    try:
        return normalise_domain(value)
    except ValueError:
        return None


def company_domain_from_email(address: str | None) -> str | None:
    """The company domain an email address gives, None for web mail."""
    dom = domain_of(address)
    return None if dom is None or dom in FREE_MAIL else dom


def clean_tags(values: list[str]) -> list[str]:
    """`store.tags.clean_tags` (a test checks they agree): that module loads the ORM models,
    0.04 s of every import's start-up for a ten-line function."""
    seen: dict[str, str] = {}
    for value in values:
        for part in _TAG_PART_SPLIT.split(value):
            name = " ".join(part.strip().lstrip("#").split())
            if not name:
                continue
            if len(name) > 60:
                raise ValidationError(f"tag {name[:20]!r}…: longer than 60 characters", "tag")
            seen.setdefault(name.casefold(), name)
    return list(seen.values())


@lru_cache(maxsize=16384)
def tags(value: str) -> tuple[str, ...]:
    """Tags split on `;`, `,` or Google's ` ::: `; Google's system groups (`* myContacts`) dropped."""
    parts = [p.strip() for p in _TAG_SPLIT.split(value)]
    kept = [p for p in parts if p and not p.startswith("* ") and p.casefold() not in ("mycontacts", "starred")]
    return tuple(clean_tags(kept))


@lru_cache(maxsize=1024)
def confidence(value: str) -> int | None:
    s = value.strip()
    if not s:
        return None
    if s.count("★"):
        return clean_confidence(s.count("★"))
    return clean_confidence(s)


@lru_cache(maxsize=65536)
def name_key(value: str | None) -> str:
    """How company names are compared: case and punctuation ignored (`ACME, Inc.` = `Acme Inc`)."""
    if not value:
        return ""
    return " ".join(_NAME_PUNCT.sub(" ", value.casefold()).split())


@lru_cache(maxsize=65536)
def base_key(value: str | None) -> str:
    """A name key without its legal form (`acme inc` -> `acme`): `Acme` may be `Acme Inc`, but
    `Acme Ltd` is not `Acme GmbH`."""
    key = name_key(value)
    return _LEGAL.sub("", key) or key


def title_key(value: str) -> str:
    return " ".join(value.casefold().split())


def email_key(value: str | None) -> str | None:
    return value.strip().casefold() if value else None


def person_key(value: str | None) -> str:
    return " ".join((value or "").casefold().split())


STATUS_WORDS = {
    "open": "open", "active": "open", "in progress": "open", "inprogress": "open",
    "won": "won", "win": "won", "closed won": "won", "closedwon": "won", "closed-won": "won", "success": "won",
    "lost": "lost", "loss": "lost", "closed lost": "lost", "closedlost": "lost", "closed-lost": "lost",
    "closed": "closed", "n/a": "closed", "na": "closed", "cancelled": "closed", "canceled": "closed",
}


def status(value: str) -> str | None:
    """open / won / lost / closed from a status cell (`Won`, `closedwon`, `Closed Lost`, ...)."""
    s = " ".join(value.strip().casefold().split())
    if not s:
        return None
    if s in STATUS_WORDS:
        return STATUS_WORDS[s]
    raise ValidationError(f"{value.strip()!r} is not a status (open, won, lost or closed)")
