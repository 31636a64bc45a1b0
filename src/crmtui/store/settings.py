"""Settings kept in the database (the `setting` table), with typed defaults.

The follow-up rules live here so the TUI, the CLI and imports read the same values.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmtui.store.errors import ValidationError

if TYPE_CHECKING:  # the importer reads rules over plain sqlite3: keep this module light
    from sqlmodel import Session


@dataclass(frozen=True)
class SettingSpec:
    key: str
    kind: str  # int / bool / text
    default: Any
    help: str
    minimum: int = 0
    maximum: int = 3650


SPECS: dict[str, SettingSpec] = {
    s.key: s
    for s in (
        SettingSpec("follow-up-on-new-deals", "bool", True, "Add a 'Follow up' task to every new deal"),
        SettingSpec("follow-up-days", "int", 2, "Days after creation the 'Follow up' task is due", 0, 365),
        SettingSpec("follow-up-on-import", "bool", False, "Imports add the 'Follow up' task too"),
        SettingSpec("stale-days", "int", 14, "An open deal with no activity for this many days is stale", 1, 3650),
        SettingSpec("closing-soon-days", "int", 7, "Expected close within this many days counts as closing soon", 0, 365),
        SettingSpec("open-agenda-on-start", "bool", False, "Open the agenda at start-up when something is due"),
        SettingSpec("currency", "text", "USD", "Default currency (ISO code) for amounts"),
    )
}

_TRUE = {"1", "true", "yes", "on", "y"}
_FALSE = {"0", "false", "no", "off", "n"}


def parse_setting(key: str, value: str) -> Any:
    """Check a value typed by the user for `key`; returns the typed value."""
    spec = SPECS.get(key)
    if spec is None:
        raise ValidationError(f"unknown setting {key!r} (settings: {', '.join(SPECS)})", "key")
    raw = str(value).strip()
    if spec.kind == "bool":
        if raw.lower() in _TRUE:
            return True
        if raw.lower() in _FALSE:
            return False
        raise ValidationError(f"{key}: {value!r} is not on/off (use on, off, yes, no, true or false)", key)
    if spec.kind == "int":
        try:
            number = int(raw.removesuffix("d"))
        except ValueError:
            raise ValidationError(f"{key}: {value!r} is not a whole number of days", key) from None
        if not spec.minimum <= number <= spec.maximum:
            raise ValidationError(f"{key}: {number} is outside {spec.minimum}..{spec.maximum}", key)
        return number
    if key == "currency":
        from crmtui.store.validate import clean_currency

        return clean_currency(raw) or spec.default
    return raw


def _encode(spec: SettingSpec, value: Any) -> str:
    if spec.kind == "bool":
        return "on" if value else "off"
    return str(value)


def get_setting(session: Session, key: str) -> Any:
    """The value of a setting, or its default."""
    return all_settings(session)[key]


def all_settings(session: Session) -> dict[str, Any]:
    """Every known setting with its value (stored or default)."""
    from sqlalchemy import text

    return settings_from_rows(session.connection().execute(text("SELECT key, value FROM setting")).all())


def settings_from_rows(rows: Any) -> dict[str, Any]:
    """Typed settings from (key, value) rows of the setting table (any connection)."""
    stored = dict(rows)
    values = {}
    for key, spec in SPECS.items():
        raw = stored.get(key)
        try:
            values[key] = spec.default if raw is None else parse_setting(key, raw)
        except ValidationError:
            values[key] = spec.default  # a hand-edited bad value falls back to the default
    return values


def set_setting(session: Session, key: str, value: Any) -> Any:
    """Validate and store a setting; returns the typed value."""
    from sqlalchemy import text

    typed = parse_setting(key, value if isinstance(value, str) else _encode(SPECS[key], value) if key in SPECS else value)
    session.connection().execute(
        text("INSERT INTO setting (key, value) VALUES (:k, :v) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
        {"k": key, "v": _encode(SPECS[key], typed)},
    )
    return typed
