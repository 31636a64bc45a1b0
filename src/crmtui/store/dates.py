"""Dates as people write them: ISO, `15 Mar 2026`, `15.03.2026`, `03/15/2026`, `tomorrow`, `fri`, `+3d`."""

from __future__ import annotations

import datetime as dt
import re

from crmtui.store.errors import ValidationError

MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("jan", "january", "janv", "januar", "ene", "enero", "gen"),
            ("feb", "february", "febr", "fev", "fevr", "februar", "febrero"),
            ("mar", "march", "mars", "marz", "maerz", "marzo", "mrt"),
            ("apr", "april", "avr", "avril", "abr", "abril"),
            ("may", "mai", "mei", "mayo", "mag"),
            ("jun", "june", "juin", "juni", "junio", "giu"),
            ("jul", "july", "juil", "juli", "julio", "lug"),
            ("aug", "august", "aout", "ago", "agosto"),
            ("sep", "sept", "september", "septembre", "septiembre", "set"),
            ("oct", "october", "okt", "oktober", "octobre", "octubre", "ott"),
            ("nov", "november", "novembre", "noviembre"),
            ("dec", "december", "dez", "dezember", "decembre", "dic", "diciembre"),
        ],
        start=1,
    )
    for name in names
}
WEEKDAYS = {
    name: i
    for i, names in enumerate(
        [
            ("mon", "monday"),
            ("tue", "tues", "tuesday"),
            ("wed", "wednesday"),
            ("thu", "thur", "thurs", "thursday"),
            ("fri", "friday"),
            ("sat", "saturday"),
            ("sun", "sunday"),
        ]
    )
    for name in names
}
DATE_ORDERS = ("dmy", "mdy", "ymd")

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?", re.I)
_NUMERIC = re.compile(r"(\d{1,4})[./-](\d{1,2})[./-](\d{1,4})(?:[T ,]+[0-9:.]+\s*(?:[ap]\.?m\.?)?)?", re.I)
_WORDY_DMY = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[\s.-]+([a-z]+)\.?,?[\s.-]+(\d{2,4})", re.I)
_WORDY_MDY = re.compile(r"([a-z]+)\.?[\s.-]+(\d{1,2})(?:st|nd|rd|th)?,?[\s.-]+(\d{2,4})", re.I)
_RELATIVE = re.compile(r"([+-]?)\s*(\d+)\s*([dwmy])", re.I)


class AmbiguousDate(ValidationError):
    """`03/04/2026` without a known day/month order."""


def parse_date(
    text: str | dt.date | None,
    *,
    field: str = "date",
    date_order: str | None = None,
    today: dt.date | None = None,
    relative: bool = True,
) -> dt.date | None:
    """Parse a date. Returns None for an empty value; raises ValidationError otherwise.

    Numeric dates with both parts <= 12 need `date_order` ("dmy", "mdy" or "ymd"), else
    AmbiguousDate is raised. Relative words (`today`, `tomorrow`, `fri`, `+3d`) need `relative`.
    """
    if text is None:
        return None
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    raw = str(text)
    s = raw.strip().lower()
    if not s:
        return None
    try:
        result = _parse(s, date_order, today, relative)
    except AmbiguousDate:
        raise AmbiguousDate(
            f"{field}: {raw.strip()!r} could be day/month or month/day; give the order (dmy or mdy)",
            field,
        ) from None
    except ValueError:
        result = None
    if result is None:
        raise ValidationError(
            f"{field}: {raw.strip()!r} is not a date (try 2026-03-15, 15 Mar 2026 or +3d)", field
        )
    return result


def _parse(s: str, date_order: str | None, today: dt.date | None, relative: bool) -> dt.date | None:
    if m := _ISO.fullmatch(s):
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    if m := _NUMERIC.fullmatch(s):
        return _numeric(m[1], m[2], m[3], date_order, s)
    if m := _WORDY_DMY.fullmatch(s):
        if m[2] in MONTHS:
            return dt.date(_year(m[3]), MONTHS[m[2]], int(m[1]))
    if m := _WORDY_MDY.fullmatch(s):
        if m[1] in MONTHS:
            return dt.date(_year(m[3]), MONTHS[m[1]], int(m[2]))
    if re.fullmatch(r"\d{8}", s):
        return dt.date(int(s[:4]), int(s[4:6]), int(s[6:]))
    if not relative:
        return None
    from crmtui.store import clock

    base = today or clock.today()
    if s in ("today", "now", "tod"):
        return base
    if s in ("tomorrow", "tmr", "tom"):
        return base + dt.timedelta(days=1)
    if s == "yesterday":
        return base - dt.timedelta(days=1)
    word = s.removeprefix("next ")
    if word in WEEKDAYS:
        ahead = (WEEKDAYS[word] - base.weekday()) % 7 or 7
        return base + dt.timedelta(days=ahead)
    if m := _RELATIVE.fullmatch(s):
        n = int(m[2]) * (-1 if m[1] == "-" else 1)
        unit = m[3].lower()
        if unit == "d":
            return base + dt.timedelta(days=n)
        if unit == "w":
            return base + dt.timedelta(weeks=n)
        if unit == "m":
            return _add_months(base, n)
        return _add_months(base, 12 * n)
    return None


def _year(text: str) -> int:
    y = int(text)
    if len(text) == 2:
        y += 2000 if y < 70 else 1900
    return y


def _numeric(a: str, b: str, c: str, date_order: str | None, s: str) -> dt.date:
    if len(a) == 4:  # 2026/03/15
        return dt.date(int(a), int(b), int(c))
    if len(c) not in (2, 4):
        raise ValueError(s)
    if date_order == "ymd" and len(c) == 2:  # 26-03-15: the year first, in two digits
        if len(a) != 2:
            raise ValueError(s)
        return dt.date(_year(a), int(b), int(c))
    first, second, year = int(a), int(b), _year(c)
    if first > 12 and second <= 12:
        return dt.date(year, second, first)
    if second > 12 and first <= 12:
        return dt.date(year, first, second)
    if first == second:
        return dt.date(year, first, second)
    if date_order == "dmy":
        return dt.date(year, second, first)
    if date_order == "mdy":
        return dt.date(year, first, second)
    raise AmbiguousDate(
        f"{s!r} could be day/month or month/day: give the order (dmy or mdy)", "date"
    )


def numeric_date_order_hint(text: str) -> str | None:
    """For a value like `15/03/2026` return the order it proves ("dmy"/"mdy"), else None."""
    m = _NUMERIC.fullmatch(text.strip().lower())
    if not m or len(m[1]) == 4:
        return None
    first, second = int(m[1]), int(m[2])
    if first > 12 >= second:
        return "dmy"
    if second > 12 >= first:
        return "mdy"
    return None


def _add_months(day: dt.date, months: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError("bad month arithmetic")


def format_date(day: dt.date | None) -> str:
    """A date as the locale in use writes it (`5 mars 2026` in sv_SE, `Mar 5, 2026` in en_US),
    else ISO (`2026-03-05`)."""
    if not day:
        return ""
    from crmtui.store.money import current_locale

    locale = current_locale()
    if locale is None:
        return day.isoformat()
    from babel.dates import format_date as babel_date

    return babel_date(day, "medium", locale=locale).replace("\u202f", "\u00a0")
