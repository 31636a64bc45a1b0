"""The business profile: who sends the quotes (name, address, VAT number, bank details, ...), shown
in their header and footer. Kept in the `setting` table as `profile.KEY`; setting one is an undo
entry in scope "settings", as the other settings are."""

from __future__ import annotations

from pathlib import Path

from crmtui.store import undo
from crmtui.store.errors import ValidationError
from crmtui.store.sql import Session

PREFIX = "profile."
# key -> what it is, in the order `crmtui profile show` lists them.
KEYS: dict[str, str] = {
    "name": "Business name",
    "address": "Postal address (use \\n or several lines for line breaks)",
    "vat": "Organisation / VAT number",
    "email": "Email",
    "phone": "Phone",
    "website": "Website",
    "bank": "Bank details (IBAN, BIC, account)",
    "payment-terms": "Payment terms, e.g. 30 days net",
    "logo": "Logo image file (PNG or JPEG) for the header",
    "footer": "Footer text",
}
# What a quote needs to say who sent it: the first quote without them names them.
NEEDED = ("name", "address", "email")
MAX_LEN = 2000


def profile_key(key: str) -> str:
    """A profile key as given (`Payment terms`, `payment_terms`) -> its name (`payment-terms`)."""
    name = "-".join(str(key).strip().lower().replace("_", " ").split())
    aliases = {"org": "vat", "vat-number": "vat", "org-number": "vat", "terms": "payment-terms", "url": "website"}
    name = aliases.get(name, name)
    if name not in KEYS:
        raise ValidationError(f"unknown profile key {key!r} (keys: {', '.join(KEYS)})", "key")
    return name


def get_profile(session: Session) -> dict[str, str]:
    """Every profile key with its value ("" when not set)."""
    rows = session.execute("SELECT key, value FROM setting WHERE key LIKE 'profile.%'").fetchall()
    stored = {row["key"].removeprefix(PREFIX): row["value"] for row in rows}
    return {key: stored.get(key, "") for key in KEYS}


def missing_keys(profile: dict[str, str]) -> list[str]:
    """The keys a quote needs that the profile does not have yet."""
    return [key for key in NEEDED if not profile.get(key)]


def check_logo(value: str) -> str:
    """A logo path as stored (absolute), when Pillow can open the file as an image."""
    path = Path(value).expanduser()
    if not path.is_file():
        raise ValidationError(f"logo: no file {str(path)!r}", "logo")
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ValidationError(f"logo: {str(path)!r} is not an image crmtui can read (use a PNG or JPEG)",
                              "logo") from None
    return str(path.resolve())


def set_profile(session: Session, key: str, value: str) -> tuple[str, str]:
    """Set (or with an empty value, clear) a profile key; returns (key, stored value)."""
    key = profile_key(key)
    text = str(value).replace("\\n", "\n").strip()
    if len(text) > MAX_LEN:
        raise ValidationError(f"{key}: longer than {MAX_LEN} characters", key)
    if key == "logo" and text:
        text = check_logo(text)
    op = undo.setting_op(session, PREFIX + key)
    if (op["value"] or "") == text:
        return key, text
    if text:
        session.execute("INSERT INTO setting (key, value) VALUES (:k, :v)"
                        " ON CONFLICT (key) DO UPDATE SET value = excluded.value", {"k": PREFIX + key, "v": text})
    else:
        session.execute("DELETE FROM setting WHERE key = :k", {"k": PREFIX + key})
    undo.record(session, f"Set profile {key}", [op], scope="settings")
    return key, text
