"""Field checks shared by every way data comes in (CLI, TUI forms, import)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from crmtui.store.errors import ValidationError
from crmtui.store.money import parse_amount

_EMAIL = re.compile(r"[^@\s<>(),;:\"]+@[^@\s<>(),;:\"]+\.[^@\s<>(),;:\"]+")


def clean_amount(value: str | None, field: str) -> int | None:
    """An amount as typed, in cents (None when empty); never negative."""
    cents = parse_amount(value or None, field=field)
    if cents is not None and cents < 0:
        raise ValidationError(f"{field}: must not be negative", field)
    return cents


def clean_text(value: str | None) -> str | None:
    """Trim; empty becomes None."""
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def require_text(value: str | None, field: str, *, max_len: int = 200) -> str:
    text = " ".join((value or "").split())
    if not text:
        raise ValidationError(f"{field}: required", field)
    if len(text) > max_len:
        raise ValidationError(f"{field}: longer than {max_len} characters", field)
    return text


def clean_email(value: str | None, field: str = "email") -> str | None:
    """A trimmed, validated email address, or None."""
    text = clean_text(value)
    if text is None:
        return None
    text = text.removeprefix("mailto:")
    if not _EMAIL.fullmatch(text):
        raise ValidationError(f"{field}: {text!r} is not an email address", field)
    return text


def clean_url(value: str | None, field: str = "url") -> str | None:
    """A URL with a scheme (https:// added to a bare host), or None."""
    text = clean_text(value)
    if text is None:
        return None
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
    except ValueError:
        raise ValidationError(f"{field}: {value!r} is not a web address", field) from None
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in text or "." not in parts.netloc:
        raise ValidationError(f"{field}: {value!r} is not a web address", field)
    return text


def normalise_domain(value: str | None) -> str | None:
    """`https://www.Acme.com/x` -> `acme.com`; `jo@acme.com` -> `acme.com`."""
    text = clean_text(value)
    if text is None:
        return None
    text = text.lower()
    if "@" in text and "://" not in text:
        text = text.rsplit("@", 1)[1]
    if "://" not in text:
        text = "http://" + text
    try:
        host = urlsplit(text).hostname or ""
    except ValueError:  # "[b]Co" reads as a broken IPv6 literal: not a domain
        return None
    host = host.removeprefix("www.").strip(".")
    if not re.fullmatch(r"[\w.-]+", host):
        return None
    return host if "." in host else None


def clean_confidence(value: int | str | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        stars = int(str(value).strip().count("*") or value) if "*" in str(value) else int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"confidence: {value!r} is not 1 to 5 stars", "confidence") from None
    if not 1 <= stars <= 5:
        raise ValidationError(f"confidence: {value!r} is not 1 to 5 stars", "confidence")
    return stars


def clean_currency(value: str | None) -> str | None:
    text = clean_text(value)
    if text is None:
        return None
    text = text.upper()
    if not re.fullmatch(r"[A-Z]{3}", text):
        raise ValidationError(f"currency: {value!r} is not a three-letter ISO code (EUR, USD, ...)", "currency")
    return text
