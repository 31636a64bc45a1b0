"""Planning the rows of a companies file: each row's values, merged into the company it matches
(`matching`) or a new one, and its tags."""

from __future__ import annotations

from crmtui.store.importer import values as V
from crmtui.store.importer.cells import RowError
from crmtui.store.importer.records import RecordRows, merged_into_earlier


class CompanyRows(RecordRows):
    def plan_row(self, line: int, fields: list[str]) -> None:
        """Plan one row of a companies file; a RowError when a value is wrong."""
        cells = self.cells
        name = cells.text(fields, "name", 200)
        if not name:
            raise RowError("name", "", "the company name is empty")
        website = cells.parse(fields, "website", V.url)
        domain_raw = cells.cell(fields, "domain")
        domain = V.domain_of(domain_raw) if domain_raw.strip() else None
        if domain_raw.strip() and domain is None:
            raise RowError("domain", domain_raw, f"{domain_raw.strip()!r} is not a domain name")
        email = cells.parse(fields, "email", V.email)
        domain = domain or V.domain_of(website) or V.company_domain_from_email(email)
        values = {
            "website": website, "email": email, "phone": cells.text(fields, "phone", 100),
            "address": cells.text(fields, "address", 500), "source": cells.text(fields, "source", 100),
            "category": cells.text(fields, "category", 100), "size": cells.text(fields, "size", 100),
            "notes": cells.text(fields, "notes"),
        }
        tags = cells.tags(fields)
        ext = cells.text(fields, "external_id", 200)
        custom = self._custom(fields) if self._custom is not None else None
        table = self.plan.tables["company"]
        before = table.next_id
        cid = self.records.company(name, domain, values, ext)
        if merged_into_earlier(table, cid, before):
            self.plan.merged_rows += 1
        self.tag_links.link("company", cid, tags)
        if custom is not None and cid is not None:
            self.records.set_custom("company", cid, custom)
