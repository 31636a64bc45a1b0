"""Planning the rows of a contacts file: each row's values, merged into the contact it matches
(`matching`) or a new one, the company it names (found or new), and its tags."""

from __future__ import annotations

from crmtui.store.importer import values as V
from crmtui.store.importer.cells import RowError
from crmtui.store.importer.records import RecordRows, merged_into_earlier


class ContactRows(RecordRows):
    def plan_row(self, line: int, fields: list[str]) -> None:
        """Plan one row of a contacts file; a RowError when a value is wrong."""
        cells = self.cells
        name = cells.text(fields, "name", 200)
        if not name:
            parts = [cells.text(fields, f, 100) for f in ("first_name", "middle_name", "last_name")]
            name = " ".join(p for p in parts if p) or None
        email = cells.parse(fields, "email", V.email)
        if not name and not email:
            raise RowError(None, None, "the contact has neither a name nor an email address")
        company_name = cells.text(fields, "company", 200)
        website = cells.parse(fields, "website", V.url)
        values = {"phone": cells.text(fields, "phone", 100), "title": cells.text(fields, "title", 200),
                  "notes": cells.text(fields, "notes")}
        tags = cells.tags(fields)
        ext = cells.text(fields, "external_id", 200)
        custom = self._custom(fields) if self._custom is not None else None
        company_id = None
        if company_name or website:
            domain = V.domain_of(website) if website else None
            company_id = self.records.company(company_name, domain, {"website": website} if website else None,
                                              only_empty=True)
        table = self.plan.tables["contact"]
        before = table.next_id
        cid = self.records.contact(name, email, company_id, values, ext)
        if merged_into_earlier(table, cid, before):
            self.plan.merged_rows += 1
        self.tag_links.link("contact", cid, tags)
        if custom is not None and cid is not None:
            self.records.set_custom("contact", cid, custom)
