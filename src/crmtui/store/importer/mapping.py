"""Which CSV column is which field: synonyms for the common exports, custom fields, `--map`
overrides, and the record type a file holds when `--type` is not given.

Headers are compared case- and punctuation-insensitively ("Deal - Title", "deal_title" and
"DealTitle" are all `dealtitle`). Each field lists its synonyms best first, so when a file has
both Outlook's "Title" (Mr./Ms.) and "Job Title", the job title wins. A header no synonym names
is read by its words (`_WORD_RULES`: "close_value" is the amount, "Date Added" the creation,
"client_name" the company), for a field no other column has. A deals file without a title
column makes its titles of its product and customer columns (`Mapping.title_product`).

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
    "expected_close": ("expectedclose", "expectedclosedate", "dealexpectedclosedate", "estimatedclosedate"),
    # Salesforce's and HubSpot's "Close Date": the day a won or lost deal closed, the day an open
    # one is expected to close. Next to an expected close column it is the day deals closed.
    "close_date": ("closedate", "closingdate", "dealclosedate"),
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


# A header no synonym names is read by its words ("close_value", "Opportunity Amount", "Date
# Added", "client_name"): a rule matches a header that has a word of each of its groups (`|`
# between groups; `date` stands for the words of a date) and no other words than those, the
# rule's other words and the words that name the file's record type. The first rule that
# matches wins. So "Account owner", "Expected revenue" or "Weighted amount" match none.
_DATE_WORDS = "date time on at day when"
_RECORD_WORDS = {"deals": "deal deals opportunity opportunities opp",
                 "companies": "company account organisation organization org client customer business firm",
                 "contacts": "contact person"}
_NOTES = ("notes", "notes note comments comment description remarks", "internal")
_TAGS = ("tags", "tags tag labels label", "")
_ID = ("external_id", "id identifier", "record crm external")
_WORD_RULES: dict[str, tuple[tuple[str, str, str], ...]] = {  # record type -> (field, groups, other words)
    "deals": (
        ("currency", "currency", "value amount code iso"),
        ("expected_close", "expected estimated target forecast projected planned | close closing", "date"),
        ("closed_on", "won lost closed actual | date", "close"),
        ("close_date", "close closing | date", ""),
        ("created_at", "created creation create engaged engage engagement opened added | date", "first"),
        ("amount", "value amount worth", "close closing closed won total contract sale sales final net gross"),
        ("stage", "stage phase", "sales pipeline current name"),
        ("lost_reason", "lost loss | reason cause", "for"),
        ("company", "account company organisation organization org client customer firm", "name associated"),
        ("contact", "contact person", "name primary main"),
        ("contact_email", "email mail", "e contact person primary work address"),
        ("source", "source channel origin", "lead original acquisition marketing"),
        ("confidence", "confidence", "level rating"),
        _NOTES, _TAGS, _ID,
        ("title", "project", "name title"),
    ),
    "companies": (
        ("name", _RECORD_WORDS["companies"], "name legal"),
        ("domain", "domain", "web email name"),
        ("website", "website site web homepage url", "address main"),
        ("email", "email mail", "e address general main info contact"),
        ("phone", "phone telephone tel", "number main office"),
        ("address", "address street location headquarters hq", "office billing main head postal full"),
        ("category", "sector industry vertical category", "main primary"),
        ("size", "size segment", ""),
        ("source", "source channel origin", "lead original acquisition"),
        _NOTES, _TAGS, _ID,
    ),
    "contacts": (
        ("company", "account company organisation organization org client customer employer firm", "name"),
        ("email", "email mail", "e address work primary business"),
        ("phone", "phone telephone tel mobile cell", "number work business main primary direct"),
        ("title", "title position role", "job work"),
        _NOTES, _TAGS, _ID,
    ),
}


def _word_sets(text: str) -> frozenset[str]:
    return frozenset(" ".join(_DATE_WORDS if w == "date" else w for w in text.split()).split())


_RULES = {kind: [(name, [_word_sets(g) for g in groups.split("|")],
                  frozenset().union(*(_word_sets(g) for g in groups.split("|")), _word_sets(others),
                                    _word_sets(_RECORD_WORDS[kind])))
                 for name, groups, others in rules] for kind, rules in _WORD_RULES.items()}
# Columns a file of companies has (with a column that names the company): "sector", "employees",
# "year_established", "revenue", "office_location", "subsidiary_of".
_COMPANY_LIKE = frozenset("sector industry vertical employees employee headcount staff revenue revenues turnover "
                          "founded established incorporated website domain homepage subsidiary parent headquarters "
                          "hq office location size".split())
_DEAL_ONLY = {"amount", "stage", "expected_close", "close_date", "closed_on", "lost_reason"}
# A deals file without a title column makes its titles of its product or service and its customer.
_PRODUCT_WORDS = frozenset("product products service services offering item package sku".split())
_PRODUCT_OTHER = _PRODUCT_WORDS | frozenset("name type line sold deal".split())


def normalise_header(text: str) -> str:
    """`Deal - Title` -> `dealtitle`, `E-mail 1 - Value` -> `email1value`."""
    return re.sub(r"[\W_]+", "", text.casefold())


def header_words(text: str) -> frozenset[str]:
    """The words of a header, split on punctuation, `_`, spaces and camelCase:
    `close_value` and `CloseValue` -> {close, value}."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", " ", text)
    return frozenset(w for w in re.split(r"[\W_]+", spaced.casefold()) if w)


def word_field(header: str, record_type: str) -> str | None:
    """The field of `record_type` a header's words name (`_WORD_RULES`), or None."""
    words = header_words(header)
    if words:
        for name, groups, allowed in _RULES[record_type]:
            if words <= allowed and all(words & group for group in groups):
                return name
    return None


def _names_companies(header: tuple[str, ...]) -> bool:
    """A column names the company ("account", "Client name") and another is company-like."""
    named = [h for h in header if word_field(h, "companies") == "name"]
    return bool(named) and any(header_words(h) & _COMPANY_LIKE for h in header if h not in named)


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
    unknown: list[int] = field(default_factory=list)  # the columns that match no field, in file order
    # A deals file without a title column: the columns its titles are made of (None: none such).
    title_product: int | None = None
    title_customer: int | None = None
    # The custom fields --create-fields makes of the unknown columns (`new_fields.NewField`);
    # None: not asked for.
    new_fields: list[Any] | None = None

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

    def titles_made_from(self) -> list[str]:
        """The columns a deals file without a title column makes titles of ([]: it has one)."""
        return [self.header[i] for i in (self.title_product, self.title_customer) if i is not None]


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
    if {word_field(h, "deals") for h in header} & _DEAL_ONLY:  # "close_value", "Sales stage"
        return "deals"
    if _names_companies(header):
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
    unknown: list[int] = []  # no synonym names them
    named_missing: list[int] = []
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
            if found is None and (why or "").startswith("no "):  # `field:NAME` of no such field
                named_missing.append(i)
            continue
        found_builtin = rank.get(normalise_header(h))
        if found_builtin is None:
            unknown.append(i)
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
    unknown = _by_words(header, record_type, columns, unknown, ignored_why)
    if record_type == "deals":
        _settle_close_date(header, columns, ignored_why)
    ignored = [(header[i], ignored_why.get(i, "not a known field")) for i in range(len(header))
               if columns[i] is None and header[i]]
    mapping = Mapping(record_type, header, columns, ignored, overridden, custom, sorted(unknown + named_missing))
    if record_type == "deals":
        _titles_to_make(mapping, rank)
    _require(mapping)
    return mapping


def _titles_to_make(mapping: Mapping, rank: dict[str, tuple[str, int]]) -> None:
    """A deals file with no title column (not even one --map leaves out) makes its titles of its
    product or service column and its customer's: set `title_product` and `title_customer`."""
    header, columns = mapping.header, mapping.columns
    if mapping.has("title") or any(rank.get(normalise_header(h), ("",))[0] == "title"
                                   or word_field(h, "deals") == "title" for h in header):
        return
    mapping.title_customer = next((columns.index(f) for f in ("company", "contact") if f in columns), None)
    # (the product column may feed tags or a custom field too: made by a first import, say)
    mapping.title_product = next((i for i, h in enumerate(header) if _names_a_product(h) and i not in mapping.overridden
                                  and (columns[i] in (None, "tags") or columns[i].startswith(FIELD_PREFIX))), None)


def _by_words(header: tuple[str, ...], record_type: str, columns: list[str | None], unmatched: list[int],
              ignored_why: dict[int, str]) -> list[int]:
    """The `unmatched` columns mapped by their words where they name a field no other column
    has; returns those that match no field."""
    unknown = []
    for i in unmatched:
        name = word_field(header[i], record_type)
        if name is None:
            unknown.append(i)
        elif name in columns:
            ignored_why[i] = f"{name} comes from {header[columns.index(name)]!r}"
        else:
            columns[i] = name
    return unknown


def _settle_close_date(header: tuple[str, ...], columns: list[str | None], ignored_why: dict[int, str]) -> None:
    """A "close date" next to an expected close column is the day deals closed."""
    if "close_date" not in columns or "expected_close" not in columns:
        return
    i = columns.index("close_date")
    if "closed_on" not in columns:
        columns[i] = "closed_on"
    else:
        columns[i] = None
        ignored_why[i] = (f"expected_close and closed_on come from {header[columns.index('expected_close')]!r} and "
                          f"{header[columns.index('closed_on')]!r}")


def _names_a_product(header: str) -> bool:
    """"product", "Service", "Product name": what a deal sold, to make its title of."""
    words = header_words(header)
    return bool(words & _PRODUCT_WORDS) and words <= _PRODUCT_OTHER


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
    if not any(mapping.has(f) for f in options) and not mapping.titles_made_from():
        what = " or ".join(options)
        raise ValidationError(
            f"no column gives the {mapping.record_type[:-1]} {what}; name one with --map 'CSV column={options[0]}' "
            f"(columns: {', '.join(repr(h) for h in mapping.header)})", "map")
