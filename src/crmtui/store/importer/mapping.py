"""Which CSV column is which field: synonyms for the common exports, custom fields, `--map`
overrides, and the record type a file holds when `--type` is not given.

Headers are compared case- and punctuation-insensitively ("Deal - Title", "deal_title" and
"DealTitle" are all `dealtitle`). Each field lists its synonyms best first, so when a file has
both Outlook's "Title" (Mr./Ms.) and "Job Title", the job title wins.

A column named like one of the record type's custom fields (as `custom_fields.name_key` compares
names), or `field:NAME`, feeds that field; so does `--map 'Col=field:NAME'`. The export writes a
custom field as a column named as the field, or `field:NAME` when one of its own columns has that
name: a bare header is the built-in column exactly then, so export -> import reads every column
back. A lookup field is read from the customer: its column is ignored, with the reason.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from crmtui.store.errors import ValidationError

RECORD_TYPES = ("deals", "companies", "contacts")
ENTITY_OF_TYPE = {"deals": "deal", "companies": "company", "contacts": "contact"}
FIELD_PREFIX = "field:"  # a custom field by name: the column `field:Budget`, `--map 'Col=field:Budget'`

# field -> synonyms (normalised headers), best first. Sources: HubSpot, Pipedrive, Salesforce,
# Google Contacts, Outlook and LinkedIn exports, and crmtui's own export.
DEAL_FIELDS: dict[str, tuple[str, ...]] = {
    "title": ("title", "dealname", "dealtitle", "opportunityname", "name", "deal", "opportunity", "subject"),
    "amount": ("amount", "dealvalue", "value", "dealamount", "amountincompanycurrency", "dealsize", "price",
               "total"),
    "currency": ("currency", "dealcurrencyofvalue", "currencyofvalue", "currencyisocode", "dealcurrency",
                 "opportunitycurrency"),
    "cost": ("cost", "costs", "dealcost"),
    "stage": ("stage", "dealstage", "stagename", "pipelinestage", "dealstagename"),
    "status": ("status", "dealstatus", "wonlost", "outcome", "result"),
    "pipeline": ("pipeline", "dealpipeline", "pipelinename"),
    "company": ("company", "companyname", "associatedcompany", "organizationname", "organization",
                "dealorganization", "dealorganizationname", "organisation", "accountname", "account", "client",
                "customer"),
    "website": ("website", "companywebsite", "companydomainname", "domain", "companydomain",
                "organizationwebsite", "url"),
    "contact": ("contact", "contactname", "associatedcontact", "personname", "dealcontactperson", "person",
                "primarycontact", "contactperson"),
    "contact_email": ("contactemail", "personemail", "email", "emailaddress", "primaryemail", "personemailwork",
                      "associatedcontactemail"),
    "expected_close": ("expectedclose", "closedate", "expectedclosedate", "dealexpectedclosedate", "closingdate",
                       "estimatedclosedate"),
    "closed_on": ("closedat", "closedon", "closeddate", "dateclosed", "actualclosedate", "dealclosedon",
                  "dealwontime", "wontime", "deallosttime", "losttime", "closedtime"),
    "created_at": ("createdat", "createdate", "createddate", "dealdealcreated", "dealcreated", "dealcreatedate",
                   "created", "dateadded", "addtime", "dealaddtime"),
    "stage_entered_at": ("stageenteredat", "dealstagechangetime", "stagechangetime", "laststagechange",
                         "dealstagechangedate"),
    "source": ("source", "leadsource", "dealsource", "originalsource", "sourcechannel", "dealoriginalsource"),
    "tags": ("tags", "tag", "labels", "label", "deallabel", "deallabels", "services", "service"),
    "confidence": ("confidence", "rating", "stars"),
    "lost_reason": ("lostreason", "deallostreason", "closedlostreason", "reasonlost", "lossreason"),
    "proposal_url": ("proposalurl", "proposal"),
    "notes": ("notes", "note", "description", "dealdescription", "comments"),
    "external_id": ("externalid", "recordid", "dealid", "opportunityid", "id"),
}
COMPANY_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name", "companyname", "company", "organizationname", "organization", "organisation",
             "organisationname", "accountname", "account"),
    "domain": ("domain", "companydomainname", "domainname", "companydomain", "organizationdomain"),
    "website": ("website", "websiteurl", "companywebsite", "organizationwebsite", "url", "web", "homepage"),
    "email": ("email", "emailaddress", "companyemail", "organizationemail", "generalemail"),
    "phone": ("phone", "phonenumber", "companyphone", "organizationphone", "telephone", "tel", "mainphone"),
    "address": ("address", "fulladdress", "streetaddress", "organizationaddress", "billingaddress",
                "companyaddress", "billingstreet", "street"),
    "source": ("source", "leadsource", "originalsource", "companysource"),
    "category": ("category", "industry", "organizationindustry", "sector", "type", "companytype"),
    "size": ("size", "customersize", "companysize", "segment"),
    "tags": ("tags", "tag", "labels", "label", "organizationlabels"),
    "notes": ("notes", "note", "description", "comments", "about"),
    "external_id": ("externalid", "recordid", "companyid", "accountid", "organizationid", "id"),
}
CONTACT_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("name", "fullname", "contactname", "personname", "displayname", "contact", "person"),
    "first_name": ("firstname", "givenname", "first", "personfirstname"),
    "middle_name": ("middlename", "additionalname"),
    "last_name": ("lastname", "familyname", "surname", "last", "personlastname"),
    "email": ("email", "emailaddress", "email1value", "personemail", "primaryemail", "workemail", "personemailwork",
              "emailaddresses", "email1"),
    "phone": ("phone", "phonenumber", "phone1value", "mobilephone", "businessphone", "mobile", "personphone",
              "personphonework", "telephone", "primaryphone", "workphone", "homephone"),
    "title": ("jobtitle", "position", "organization1title", "role", "title", "persontitle"),
    "company": ("company", "companyname", "organization1name", "organizationname", "organization",
                "associatedcompany", "personorganization", "accountname", "employer"),
    "website": ("companywebsite", "companydomainname", "companydomain", "organizationwebsite"),
    "tags": ("tags", "tag", "labels", "label", "grouplabels", "groupmembership", "categories", "personlabels"),
    "notes": ("notes", "note", "description", "comments"),
    "external_id": ("externalid", "recordid", "contactid", "personid", "id"),
}
FIELDS = {"deals": DEAL_FIELDS, "companies": COMPANY_FIELDS, "contacts": CONTACT_FIELDS}

# Headers that only a file of that type has: decide the type when --type is not given.
_DEAL_MARKERS = {"dealname", "dealtitle", "dealvalue", "dealstage", "stage", "stagename", "opportunityname",
                 "amount", "dealamount", "pipeline", "dealstatus", "closedate", "expectedclosedate", "dealid",
                 "opportunityid", "expectedclose", "dealpipeline", "lostreason", "deallostreason"}
_CONTACT_MARKERS = {"firstname", "lastname", "fullname", "givenname", "familyname", "email1value", "jobtitle",
                    "position", "connectedon", "personname", "contactname", "mobilephone",
                    "middlename", "personemail", "contactid", "personid", "groupmembership"}
_COMPANY_MARKERS = {"companyname", "domain", "companydomainname", "website", "organizationname", "accountname",
                    "industry", "companyid", "accountid", "organizationid", "companysize", "numberofemployees"}


def normalise_header(text: str) -> str:
    """`Deal - Title` -> `dealtitle`, `E-mail 1 - Value` -> `email1value`."""
    return re.sub(r"[\W_]+", "", text.casefold())


@dataclass
class Mapping:
    """Which column feeds which field. `columns[i]` is the field of column i, or None."""

    record_type: str
    header: tuple[str, ...]
    columns: list[str | None]
    ignored: list[tuple[str, str]] = field(default_factory=list)  # (header, why)
    overridden: set[int] = field(default_factory=set)
    # A column that feeds a custom field has `field:NAME` in `columns`; this is that field (a
    # `custom_fields.custom_fields` dict) by it.
    custom: dict[str, dict[str, Any]] = field(default_factory=dict)

    def index(self, name: str) -> int | None:
        try:
            return self.columns.index(name)
        except ValueError:
            return None

    def has(self, name: str) -> bool:
        return name in self.columns

    def header_of(self, name: str) -> str:
        i = self.index(name)
        return self.header[i] if i is not None else name

    def pairs(self) -> list[tuple[str, str]]:
        """(CSV column, field) for every mapped column, in file order."""
        return [(self.header[i], f) for i, f in enumerate(self.columns) if f]


def detect_type(header: tuple[str, ...]) -> str | None:
    """The record type the headers make clear, or None."""
    names = {normalise_header(h) for h in header}
    if names & _DEAL_MARKERS:
        return "deals"
    person, company = names & _CONTACT_MARKERS, names & _COMPANY_MARKERS
    if person and len(person) >= len(company):
        return "contacts"
    if company:
        return "companies"
    if names & {"email", "emailaddress", "email1value"}:  # Name, Email, Phone: people
        return "contacts"
    return None


def parse_map_options(options: list[str] | None) -> list[tuple[str, str]]:
    """`--map 'CSV column=field'` options as (column, field) pairs; `'Column='` ignores a column."""
    pairs = []
    for option in options or []:
        if "=" not in option:
            raise ValidationError(f"--map {option!r}: write it as 'CSV column=field'", "map")
        column, _, target = option.rpartition("=")
        if not column.strip():
            raise ValidationError(f"--map {option!r}: the CSV column name is missing", "map")
        pairs.append((column.strip(), target.strip()))
    return pairs


def build_mapping(header: tuple[str, ...], record_type: str, overrides: list[tuple[str, str]] | None = None,
                  fields: Sequence[dict[str, Any]] = ()) -> Mapping:
    """Map each header to a field of `record_type`, or to one of its custom `fields` (as
    `custom_fields.custom_fields` gives them); overrides (column, field) win."""
    builtin = FIELDS[record_type]
    custom_fields = _CustomFields(record_type, fields)
    rank: dict[str, tuple[str, int]] = {}
    for name, synonyms in builtin.items():
        for position, synonym in enumerate(synonyms):
            rank.setdefault(synonym, (name, position))
    columns: list[str | None] = [None] * len(header)
    custom: dict[str, dict[str, Any]] = {}
    ignored_why: dict[int, str] = {}
    overridden: set[int] = set()
    for column, target in overrides or []:
        idx = _find_column(header, column)
        if target and target not in builtin:
            found = custom_fields.named_in_map(column, target)
            target = custom_fields.key(found)
            custom[target] = found
        if target and target in columns:
            other = header[columns.index(target)]
            raise ValidationError(f"--map {column}={target}: column {other!r} is also mapped to {target!r}", "map")
        columns[idx] = target or None
        overridden.add(idx)
        if not target:
            ignored_why[idx] = "--map"
    best: dict[str, tuple[int, int]] = {}  # field -> (synonym position, column)
    for i, h in enumerate(header):
        if i in overridden:
            continue
        if custom_fields.names(h):
            found, why = custom_fields.of_header(h)
            key = custom_fields.key(found) if found else None
            if key is not None and key in columns:
                why = f"{key} comes from {header[columns.index(key)]!r}"
            elif key is not None:
                columns[i] = key
                custom[key] = found
                continue
            ignored_why[i] = why or "not a known field"
            continue
        found_builtin = rank.get(normalise_header(h))
        if found_builtin is None:
            ignored_why[i] = "not a known field"
            continue
        name, position = found_builtin
        if name in columns:  # taken by --map
            ignored_why[i] = f"{name} comes from --map"
            continue
        if name not in best or position < best[name][0]:
            if name in best:
                ignored_why[best[name][1]] = f"{name} comes from {h!r}"
            best[name] = (position, i)
        else:
            ignored_why[i] = f"{name} comes from {header[best[name][1]]!r}"
    for name, (_pos, i) in best.items():
        columns[i] = name
    ignored = [(header[i], ignored_why.get(i, "not a known field")) for i in range(len(header))
               if columns[i] is None and header[i]]
    mapping = Mapping(record_type, header, columns, ignored, overridden, custom)
    _require(mapping)
    return mapping


class _CustomFields:
    """The custom fields of a record type, as the columns of a file and `--map` name them."""

    def __init__(self, record_type: str, fields: Sequence[dict[str, Any]]) -> None:
        self.record_type = record_type
        self.entity = ENTITY_OF_TYPE[record_type]
        self.fields = list(fields)
        self.by_key: dict[str, dict[str, Any]] = {}
        self.bare: set[str] = set()  # the name keys of fields the export writes under their own name
        if not self.fields:
            return
        # (crmtui.store.custom_fields loads SQLAlchemy: only a database with custom fields pays for it)
        from crmtui.store.custom_fields import name_key
        from crmtui.store.exporter import COLUMNS, csv_columns

        self.name_key = name_key
        export_header = csv_columns(record_type, self.fields)[len(COLUMNS[record_type]):]
        for f, written in zip(self.fields, export_header, strict=True):
            key = name_key(f["name"])
            self.by_key[key] = f
            if not written.startswith(FIELD_PREFIX):
                self.bare.add(key)

    @staticmethod
    def key(found: dict[str, Any]) -> str:
        """What `Mapping.columns` holds for a column that feeds custom field `found`."""
        return FIELD_PREFIX + found["name"]

    def names(self, header: str) -> bool:
        """Whether `header` names a custom field (one that exists or not): `field:NAME`, or a
        field's name where the export would write it so."""
        if header.strip()[:len(FIELD_PREFIX)].casefold() == FIELD_PREFIX:
            return True
        return bool(self.by_key) and self.name_key(header) in self.bare

    def of_header(self, header: str) -> tuple[dict[str, Any] | None, str | None]:
        """(the field a header that `names` one feeds, None) or (None, why it feeds none)."""
        text = header.strip()
        if text[:len(FIELD_PREFIX)].casefold() == FIELD_PREFIX:
            text = text[len(FIELD_PREFIX):]
        found = self.by_key.get(self.name_key(text)) if self.by_key else None
        if found is None:
            return None, f"no {self.entity} field called {text.strip()!r}"
        if found["kind"] == "lookup":
            return None, f"a lookup field: read from {found['source'] or found['lookup']}, not imported"
        return found, None

    def named_in_map(self, column: str, target: str) -> dict[str, Any]:
        """The custom field `--map column=target` names (`field:NAME`, or a custom field's own
        name); ValidationError naming the fields there are when it names none, or a lookup."""
        prefixed = target[:len(FIELD_PREFIX)].casefold() == FIELD_PREFIX
        name = target[len(FIELD_PREFIX):].strip() if prefixed else target
        found = self.by_key.get(self.name_key(name)) if self.by_key else None
        if found is None:
            what = f"no {self.entity} field called {name!r}" if prefixed else f"{target!r} is not a {self.entity} field"
            custom = f"; custom: {', '.join(self.key(f) for f in self.fields)}" if self.fields else ""
            raise ValidationError(f"--map {column}={target}: {what} (fields: {', '.join(FIELDS[self.record_type])}"
                                  f"{custom})", "map")
        if found["kind"] == "lookup":
            source = found["source"] or found["lookup"]
            raise ValidationError(f"--map {column}={target}: {found['name']!r} is a lookup field, read from {source};"
                                  f" change it on the {source.partition('.')[0]}", "map")
        return found


def _find_column(header: tuple[str, ...], column: str) -> int:
    for i, h in enumerate(header):
        if h == column:
            return i
    wanted = normalise_header(column)
    for i, h in enumerate(header):
        if normalise_header(h) == wanted:
            return i
    raise ValidationError(
        f"--map {column!r}: the file has no such column (columns: {', '.join(repr(h) for h in header)})", "map")


def _require(mapping: Mapping) -> None:
    """The field a record cannot be made without must come from some column."""
    needed = {"deals": ("title",), "companies": ("name",), "contacts": ("name", "first_name", "last_name", "email")}
    options = needed[mapping.record_type]
    if not any(mapping.has(f) for f in options):
        what = " or ".join(options)
        raise ValidationError(
            f"no column gives the {mapping.record_type[:-1]} {what}; name one with --map 'CSV column={options[0]}' "
            f"(columns: {', '.join(repr(h) for h in mapping.header)})", "map")
