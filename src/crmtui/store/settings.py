"""Settings kept in the database (the `setting` table), with typed defaults.

The follow-up rules and the general settings (currency, locale, theme, ...) live here so the
TUI, the CLI and imports read the same values. Changing one is an undo entry in scope "settings".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crmtui.store.backups import Keep, parse_keep
from crmtui.store.errors import ValidationError

if TYPE_CHECKING:  # the importer reads rules over plain sqlite3: keep this module light
    from crmtui.store.sql import Session

    from crmtui.store.db import Database


@dataclass(frozen=True)
class SettingSpec:
    key: str
    kind: str  # int / bool / text / currency / locale / choice (one of `options`) / fields (card fields) / keep
    # / quote-number (a numbering pattern)
    default: Any
    help: str
    minimum: int = 0
    maximum: int = 3650
    options: tuple[str, ...] = ()
    rule: bool = True  # a follow-up rule (`crmtui rules`); else a general setting


# Textual's built-in themes (textual.theme.BUILTIN_THEMES; a test keeps the two in step): the
# store never imports textual.
THEMES = (
    "textual-dark", "textual-light", "nord", "gruvbox", "catppuccin-mocha", "dracula", "tokyo-night", "monokai",
    "flexoki", "catppuccin-latte", "catppuccin-frappe", "catppuccin-macchiato", "solarized-light",
    "solarized-dark", "rose-pine", "rose-pine-moon", "rose-pine-dawn", "atom-one-dark", "atom-one-light",
    "ansi-dark", "ansi-light",
)
CARD_FIELDS_MAX = 4  # two lines of two

SPECS: dict[str, SettingSpec] = {
    s.key: s
    for s in (
        SettingSpec("follow-up-on-new-deals", "bool", True, "Add a 'Follow up' task to every new deal"),
        SettingSpec("follow-up-days", "int", 2, "Days after creation the 'Follow up' task is due", 0, 365),
        SettingSpec("follow-up-on-import", "bool", False, "Imports add the 'Follow up' task too"),
        SettingSpec("stale-days", "int", 14, "An open deal with no activity for this many days is stale", 1, 3650),
        SettingSpec("closing-soon-days", "int", 7, "Expected close within this many days counts as closing soon", 0, 365),
        SettingSpec("open-agenda-on-start", "bool", False, "Open the agenda at start-up when something is due"),
        SettingSpec("currency", "currency", "USD", "Default currency (ISO code) for amounts", rule=False),
        SettingSpec("locale", "locale", "", "How money, numbers and dates are written, e.g. sv_SE, fr_FR, en_US"
                    " (none: 12,345.50 and 2026-03-05)", rule=False),
        SettingSpec("customer-focus", "choice", "company", "What a card and quick add put first: the company or"
                    " the person", options=("company", "person"), rule=False),
        SettingSpec("start-screen", "choice", "board", "The screen crmtui opens on",
                    options=("board", "agenda", "dashboard"), rule=False),
        SettingSpec("theme", "choice", "textual-dark", "The colour theme of the app", options=THEMES, rule=False),
        SettingSpec("pager", "bool", True, "Long listings in a terminal open in a pager ($PAGER, else less), as git's"
                    " do; --no-pager turns it off once", rule=False),
        SettingSpec("card-fields", "fields", (), f"Deal fields a board card shows (up to {CARD_FIELDS_MAX},"
                    " comma-separated; none: the usual card)", rule=False),
        SettingSpec("backup-keep", "keep", Keep(), "Backups kept in backups/ beside the database: the newest of"
                    " each of the last N days, weeks and months (and all of the last 24 hours)", rule=False),
        SettingSpec("trash-days", "int", 30, "Days a deleted record stays in the trash before the app offers to"
                    " erase it for good (0: until you empty it, crmtui trash empty)", 0, 3650, rule=False),
        SettingSpec("quote-number", "quote-number", "Q-{year}-{seq:04}", "How quotes are numbered: {seq} the"
                    " running number ({seq:04}: four digits), {year} the year (numbering restarts each year)",
                    rule=False),
        SettingSpec("quote-accept-stage", "text", "Contract out for signature", "The stage an accepted quote moves"
                    " its deal to, when the deal's pipeline has it (none: the deal stays)", rule=False),
    )
}
RULES = tuple(key for key, spec in SPECS.items() if spec.rule)
GENERAL = tuple(key for key, spec in SPECS.items() if not spec.rule)
_NONE = {"", "none", "default", "-"}

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
    if spec.kind == "currency":
        from crmtui.store.validate import clean_currency

        return clean_currency(raw) or spec.default
    if spec.kind == "locale":
        if raw.lower() in _NONE:
            return ""
        from crmtui.store.money import check_locale

        return check_locale(raw)
    if spec.kind == "choice":
        for option in spec.options:
            if option == raw.lower():
                return option
        raise ValidationError(f"{key}: {value!r} is not one of {', '.join(spec.options)}", key)
    if spec.kind == "fields":
        return _field_list(raw)
    if spec.kind == "keep":
        return parse_keep(raw)
    if spec.kind == "quote-number":
        return check_quote_pattern(raw)
    if spec.kind == "text" and raw.lower() in _NONE:
        return ""
    return raw


def check_quote_pattern(pattern: str) -> str:
    """A quote-number pattern: text with {seq} (the running number, e.g. {seq:04}) and maybe {year}."""
    import string

    try:
        names = {name for _text, name, _spec, _conv in string.Formatter().parse(pattern) if name is not None}
        pattern.format(year=2026, seq=1)
    except (ValueError, IndexError, KeyError):
        names = {"?"}
    if "seq" not in names or names - {"seq", "year"}:
        raise ValidationError(f"quote-number: {pattern!r} must hold {{seq}} (the running number, e.g. {{seq:04}})"
                              " and no other field than {year}", "quote-number")
    return pattern


def _field_list(raw: str) -> tuple[str, ...]:
    """Comma-separated names, each once (the names are checked against the database on saving)."""
    if raw.lower() in _NONE:
        return ()
    names: list[str] = []
    for part in raw.split(","):
        name = " ".join(part.split())
        if name and name.casefold() not in {n.casefold() for n in names}:
            names.append(name)
    if len(names) > CARD_FIELDS_MAX:
        raise ValidationError(f"card-fields: {len(names)} fields; a card shows at most {CARD_FIELDS_MAX}", "card-fields")
    return tuple(names)


def _decode(spec: SettingSpec, raw: str) -> Any:
    """A stored value, typed. A locale is not checked here (that needs Babel): using it does."""
    if spec.kind == "locale":
        return raw.strip()
    return parse_setting(spec.key, raw)


def _encode(spec: SettingSpec, value: Any) -> str:
    if spec.kind == "bool":
        return "on" if value else "off"
    if spec.kind == "fields":
        return ",".join(value)
    return str(value)


def show_value(key: str, value: Any) -> str:
    """A setting's value as a person reads it (on/off, a comma list, "none")."""
    spec = SPECS[key]
    if spec.kind == "bool":
        return "on" if value else "off"
    if spec.kind == "fields":
        return ", ".join(value) or "none"
    return str(value) if value != "" else "none"


def get_setting(session: Session, key: str) -> Any:
    """The value of a setting, or its default."""
    return all_settings(session)[key]


def all_settings(session: Session) -> dict[str, Any]:
    """Every known setting with its value (stored or default)."""
    return settings_from_rows(session.execute("SELECT key, value FROM setting").fetchall())


def settings_from_rows(rows: Any) -> dict[str, Any]:
    """Typed settings from (key, value) rows of the setting table (any connection)."""
    stored = dict(rows)
    values = {}
    for key, spec in SPECS.items():
        raw = stored.get(key)
        try:
            values[key] = spec.default if raw is None else _decode(spec, raw)
        except ValidationError:
            values[key] = spec.default  # a hand-edited bad value falls back to the default
    return values


def set_setting(session: Session, key: str, value: Any) -> Any:
    """Validate and store a setting, as one undo entry in scope "settings" (none when the value
    stays as it was); returns the typed value."""
    from crmtui.store import undo

    typed = parse_setting(key, value if isinstance(value, str) else _encode(SPECS[key], value) if key in SPECS else value)
    if SPECS[key].kind == "fields":
        typed = _known_deal_fields(session, typed)
    encoded = _encode(SPECS[key], typed)
    op = undo.setting_op(session, key)
    if op["value"] == encoded:
        return typed
    session.execute(
        "INSERT INTO setting (key, value) VALUES (:k, :v) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {"k": key, "v": encoded},
    )
    undo.record(session, f"Set {key} to {show_value(key, typed)}", [op], scope="settings")
    return typed


# The built-in fields of a deal, as forms name them (store.editing.DEAL_FIELDS, which imports far
# more than settings may: settings are read by the modules editing uses).
DEAL_FIELDS = ("title", "company", "contact", "pipeline", "stage", "amount", "cost", "currency", "confidence",
               "expected_close", "closed_on", "source", "lost_reason", "proposal_url", "tags", "notes")


def _known_deal_fields(session: Session, names: tuple[str, ...]) -> tuple[str, ...]:
    """Each name as a built-in deal field (`expected close` -> expected_close) or a custom deal
    field (as it is spelled in its definition); an unknown name is refused, naming the fields."""
    custom = [r[0] for r in session.execute(
        "SELECT name FROM custom_field WHERE entity = 'deal' AND deleted_at IS NULL ORDER BY position, id")]
    known = {name.casefold(): name for name in custom} | {name: name for name in DEAL_FIELDS}
    found = []
    for name in names:
        field = known.get("_".join(name.casefold().replace("-", " ").split())) or known.get(name.casefold())
        if field is None:
            raise ValidationError(f"card-fields: {name!r} is not a deal field (fields: {', '.join(DEAL_FIELDS)}"
                                  f"{'; custom: ' + ', '.join(custom) if custom else ''})", "card-fields")
        found.append(field)
    return tuple(found)


def read_settings(database: Database) -> dict[str, Any]:
    """Every setting of a database, read outside any transaction (when the app or a command starts)."""
    from crmtui.store.db import translate_errors

    with translate_errors(database.path, database.busy_timeout):
        conn = database.raw()
        try:
            return _stored(conn)
        finally:
            conn.close()


def _stored(conn: Any) -> dict[str, Any]:  # noqa: ANN401
    """Settings over a Session or a plain sqlite3 connection."""
    return all_settings(conn)


def customer_focus(conn: Any) -> str:
    """What a card and quick add put first: "company" or "person". A Session or sqlite3 connection."""
    return _stored(conn)["customer-focus"]


def card_fields(conn: Any) -> tuple[str, ...]:
    """The deal fields a board card shows (built-in names such as `amount`, or custom field names);
    empty: the usual card. A Session or sqlite3 connection."""
    return _stored(conn)["card-fields"]
