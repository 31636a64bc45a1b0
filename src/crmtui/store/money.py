"""Money as people write it, stored as integer minor units (cents)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from crmtui.store.errors import ValidationError

# Currency words and symbols that may stand before or after an amount.
_CURRENCY_TOKENS = re.compile(
    r"(?i)(?:[A-Z]{3}(?![a-z])|[$€£¥₹₽₩₺₪₫฿₴₦]|kr\.?|fr\.?|chf|zł|r\$|us\$|a\$|c\$)"
)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")


def parse_amount(text: str | int | float | Decimal | None, *, field: str = "amount") -> int | None:
    """Parse an amount such as `12500`, `$12,500.00`, `USD 4,000`, `1.234,56 €`, `7 500`.

    Returns integer cents, or None for an empty value. Raises ValidationError for anything
    that is not clearly a number (`12,5x`).
    """
    if text is None:
        return None
    if isinstance(text, bool):
        raise ValidationError(f"{field}: {text!r} is not an amount", field)
    if isinstance(text, int):
        return text * 100
    if isinstance(text, (float, Decimal)):
        return _to_cents(Decimal(str(text)), str(text), field)
    raw = str(text)
    s = raw.strip()
    if not s:
        return None
    negative = False
    if s.startswith("(") and s.endswith(")"):
        negative, s = True, s[1:-1]
    s = _CURRENCY_TOKENS.sub("", s)
    s = _SPACES.sub("", s)
    if s.startswith("-"):
        negative, s = not negative, s[1:]
    elif s.endswith("-"):
        negative, s = not negative, s[:-1]
    if s.startswith("+"):
        s = s[1:]
    if not s or not re.fullmatch(r"[0-9.,]+", s) or not re.search(r"[0-9]", s):
        raise ValidationError(f"{field}: {raw.strip()!r} is not an amount (try 12500 or 12,500.00)", field)
    s = _normalise_separators(s, raw, field)
    try:
        value = Decimal(s)
    except InvalidOperation:
        raise ValidationError(f"{field}: {raw.strip()!r} is not an amount", field) from None
    if negative:
        value = -value
    return _to_cents(value, raw, field)


def _normalise_separators(s: str, raw: str, field: str) -> str:
    """Decide which of `,` and `.` is the decimal mark and drop the thousands marks."""
    commas, dots = s.count(","), s.count(".")
    if commas and dots:
        decimal_mark = "," if s.rfind(",") > s.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        if s.count(decimal_mark) > 1:
            raise ValidationError(f"{field}: {raw.strip()!r} is not an amount", field)
        int_part, frac = s.split(decimal_mark)
        _check_groups(int_part, thousands, raw, field)
        return int_part.replace(thousands, "") + "." + frac
    mark = "," if commas else "." if dots else ""
    if not mark:
        return s
    count = commas or dots
    head, _, tail = s.rpartition(mark)
    if count > 1:
        _check_groups(s, mark, raw, field)
        return s.replace(mark, "")
    # One mark: three digits after it and a short head reads as thousands (12,500 / 1.500).
    if len(tail) == 3 and 1 <= len(head) <= 3 and head != "0":
        return head + tail
    return head + "." + tail


def _check_groups(int_part: str, mark: str, raw: str, field: str) -> None:
    groups = int_part.split(mark)
    if len(groups) > 1 and (not 1 <= len(groups[0]) <= 3 or any(len(g) != 3 for g in groups[1:])):
        raise ValidationError(f"{field}: {raw.strip()!r} is not an amount (misplaced separator)", field)


def _to_cents(value: Decimal, raw: str, field: str) -> int:
    cents = value * 100
    if cents != cents.to_integral_value():
        raise ValidationError(f"{field}: {raw.strip()!r} has more than two decimals", field)
    if abs(cents) >= 10**15:
        raise ValidationError(f"{field}: {raw.strip()!r} is too large", field)
    return int(cents)


def format_money(cents: int | None, currency: str = "", *, masked: bool = False) -> str:
    """`1234500` -> `12,345` (whole units when there are no cents), `12,345.50` otherwise."""
    if cents is None:
        return ""
    if masked:
        return "•••••"
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    body = f"{units:,}" if rest == 0 else f"{units:,}.{rest:02d}"
    return f"{sign}{currency + ' ' if currency else ''}{body}"


def format_money_short(cents: int | None, currency: str = "", *, masked: bool = False) -> str:
    """Compact money for narrow places: 950, 12.5k, 3.2M (`EUR 12.5k` with a currency)."""
    if cents is None:
        return ""
    if masked:
        return "•••"
    units = cents / 100
    body = f"{units:.0f}"
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        # From just under the limit: 999,960 reads 1M, not 1000k.
        if abs(units) >= limit * 0.9995:
            value = units / limit
            text = f"{value:.1f}" if abs(value) < 99.95 else f"{value:.0f}"
            body = text.removesuffix(".0") + suffix
            break
    return f"{currency + ' ' if currency else ''}{body}"
