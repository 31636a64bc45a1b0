"""Money as people write it, stored as integer minor units (cents).

Amounts are written the built-in way (`USD 12,345.50`) unless a locale is in use (the `locale`
setting, applied with `use_locale` when the app or a command opens the database): then Babel
writes them as that locale does (`1 234,50 kr` for sv_SE, with no-break spaces so an amount never
breaks across lines). Babel is imported only when a locale is set.
"""

from __future__ import annotations

import copy
import functools
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from crmtui.store.errors import ValidationError

_locale: Any = None  # the babel Locale in use, or None: the built-in format
_default_currency = ""  # with a locale, an amount without a currency is in this one


def use_locale(code: str | None, currency: str = "") -> None:
    """Write money, numbers and dates as locale `code` (e.g. "sv_SE") does from now on, amounts
    without a currency of their own in `currency` (the database default); None or "": the
    built-in format. A code Babel does not know (a hand-edited setting) means the built-in format."""
    global _locale, _default_currency
    _locale, _default_currency = None, currency or ""
    if code:
        from babel import Locale, UnknownLocaleError

        try:
            _locale = Locale.parse(code.replace("-", "_"))
        except (UnknownLocaleError, ValueError, TypeError):
            _locale = None


def current_locale() -> Any:
    """The babel Locale in use, or None (the built-in format)."""
    return _locale


def check_locale(code: str) -> str:
    """A locale code as Babel knows it (`sv-se` -> `sv_SE`), or ValidationError."""
    from babel import Locale, UnknownLocaleError

    try:
        return str(Locale.parse(code.strip().replace("-", "_")))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValidationError(f"locale: {code!r} is not a locale Babel knows (e.g. en_US, sv_SE, fr_FR, de_DE)",
                              "locale") from None


# Currency words and symbols that may stand before or after an amount.
_CURRENCY_TOKENS = re.compile(
    r"(?i)(?:[A-Z]{3}(?![a-z])|[$€£¥₹₽₩₺₪₫฿₴₦]|kr\.?|fr\.?|chf|zł|r\$|us\$|a\$|c\$)"
)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
_BIDI_MARKS = re.compile("[\u200e\u200f\u061c]")  # around amounts in right-to-left locales


def parse_amount(text: str | int | float | Decimal | None, *, field: str = "amount") -> int | None:
    """Parse an amount such as `12500`, `$12,500.00`, `USD 4,000`, `1.234,56 €`, `7 500`.

    Returns integer cents, or None for an empty value. Raises ValidationError for anything
    that is not clearly a number (`12,5x`).
    """
    if text is None:
        return None
    try:
        return _parse_builtin(text, field)
    except ValidationError:
        cents = _parse_in_locale(text, field) if _locale is not None and isinstance(text, str) else None
        if cents is None:
            raise
        return cents


def _parse_builtin(text: str | int | float | Decimal, field: str) -> int | None:
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


def _parse_in_locale(raw: str, field: str) -> int | None:
    """What format_money writes in the locale in use that the built-in parser does not read
    (`$US` in fr_FR, `₹12,34,567.50` in en_IN, `CHF 1’234.50` in de_CH); None if not that either."""
    from babel.numbers import NumberFormatError, parse_decimal

    s = _symbols_of(str(_locale)).sub("", _BIDI_MARKS.sub("", raw))
    s = _SPACES.sub("", s).replace(_locale.number_symbols["latn"]["group"], "")
    negative = s.startswith("-") or s.startswith("\u2212")
    try:
        value = parse_decimal(s.lstrip("-\u2212"), locale=_locale, strict=True)
    except NumberFormatError:
        return None
    return _to_cents(-value if negative else value, raw, field)


@functools.lru_cache(maxsize=4)
def _symbols_of(code: str) -> re.Pattern[str]:
    """Every currency symbol and ISO code a locale writes, longest first."""
    from babel import Locale

    locale = Locale.parse(code)
    words = {word for word in (*locale.currency_symbols.values(), *locale.currencies) if word and not word[0].isdigit()}
    return re.compile("|".join(re.escape(w) for w in sorted(words, key=len, reverse=True)))


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


def format_money(cents: int | None, currency: str = "", *, masked: bool = False, always_cents: bool = False) -> str:
    """`1234500` -> `12,345` (whole units when there are no cents, unless `always_cents`: a
    document's column of figures), `12,345.50` otherwise; in a locale, as it writes money
    (`12 345 kr`, `1 234,50 kr`), in the default currency when none is given."""
    if cents is None:
        return ""
    if masked:
        return "•••••"
    whole = cents % 100 == 0 and not always_cents
    if _locale is not None:
        return _in_locale(Decimal(cents).scaleb(-2), currency, whole=whole)
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    body = f"{units:,}" if whole else f"{units:,}.{rest:02d}"
    return f"{sign}{currency + ' ' if currency else ''}{body}"


def plain_decimal(cents: int) -> str:
    """Cents as a plain decimal for machines (exports, CSV): 1250000 -> "12500.00", -5 -> "-0.05";
    no grouping, no currency, whatever the locale."""
    return f"{'-' if cents < 0 else ''}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def format_money_input(cents: int | None) -> str:
    """An amount as a form offers it for editing: no currency, no grouping, whole units without
    decimals (`1234`, `1234.50`; `1234,50` in a locale that writes a decimal comma). parse_amount
    reads it back in any locale."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    units, rest = divmod(abs(cents), 100)
    if rest == 0:
        return f"{sign}{units}"
    mark = "," if _locale is not None and _locale.number_symbols["latn"]["decimal"] == "," else "."
    return f"{sign}{units}{mark}{rest:02d}"


def _in_locale(value: Decimal, currency: str, *, whole: bool) -> str:
    """Babel's writing of an amount in the locale in use: whole units without decimals, as the
    built-in format does. Narrow no-break spaces (fr_FR) become no-break spaces: every terminal
    font has those."""
    from babel.numbers import format_currency, format_decimal

    currency = currency or _default_currency
    digits = "" if whole else ".00"
    if currency:
        pattern = _locale.currency_formats["standard"]
        if whole:
            pattern = _whole(pattern)
        text = format_currency(value, currency, format=pattern, locale=_locale, currency_digits=False)
    else:
        text = format_decimal(value, format=f"#,##0{digits}", locale=_locale)
    return text.replace("\u202f", "\u00a0")


def _whole(pattern: Any) -> Any:
    whole = copy.copy(pattern)
    whole.frac_prec = (0, 0)
    return whole


def format_money_short(cents: int | None, currency: str = "", *, masked: bool = False) -> str:
    """Compact money for narrow places: 950, 12.5k, 3.2M (`EUR 12.5k` with a currency)."""
    if cents is None:
        return ""
    if masked:
        return "•••"
    if _locale is not None:
        return _short_in_locale(Decimal(cents).scaleb(-2), currency)
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


def _short_in_locale(value: Decimal, currency: str) -> str:
    """Babel's compact writing (`12,5 tn kr`); under a thousand, whole units."""
    from babel.numbers import format_compact_currency, format_compact_decimal

    if abs(value) < 1000 or not _abbreviates(value):
        return _in_locale(value.quantize(Decimal(1)), currency, whole=True)
    rounded = value.quantize(Decimal(1).scaleb(value.adjusted() - 2))
    if rounded.adjusted() > value.adjusted():
        value = rounded  # just under a step reads as the next one: 1 mn, not 1000 tn
    currency = currency or _default_currency
    if currency:
        text = format_compact_currency(value, currency, locale=_locale, fraction_digits=1)
    else:
        text = format_compact_decimal(value, locale=_locale, fraction_digits=1)
    return text.replace("\u202f", "\u00a0")


def _abbreviates(value: Decimal) -> bool:
    """Whether the locale has a short word for amounts this large (de_DE has none below a million)."""
    steps = _locale.compact_decimal_formats["short"]["other"]
    below = [int(m) for m in steps if int(m) <= abs(value)]
    return bool(below) and steps[str(max(below))].pattern != "0"


def format_number(number: int) -> str:
    """A count as the locale in use writes it (`12,345` built in, `12 345` in sv_SE)."""
    if _locale is None:
        return f"{number:,}"
    from babel.numbers import format_decimal

    return format_decimal(number, locale=_locale).replace("\u202f", "\u00a0")
