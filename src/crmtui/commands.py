"""The command palette (ctrl+p): go to any deal, company or contact, and the app's commands."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

COMMANDS = [
    ("New deal", "Add a deal (title, customer, amount, stage)", "new_deal"),
    ("Companies", "The list of companies", "companies"),
    ("Contacts", "The list of contacts", "contacts"),
    ("Trash", "Deleted records; restore them", "trash"),
    ("Products", "The catalogue: what you sell, its prices, tax rates and costs (R)", "products"),
    ("Import a file", "Deals, companies or contacts from a CSV file: columns, stages, preview (I)", "import_file"),
    ("Find", "Jump to a deal, company or contact (ctrl+f)", "finder"),
    ("Settings", "Pipelines and stages, fields, choice lists, follow-up rules, currency, locale, theme (,)",
     "settings"),
]


class RecordCommands(Provider):
    """'Go to deal …' for every record matching the query, plus the app's screens."""

    async def discover(self) -> Hits:
        for name, help_text, action in COMMANDS:
            yield DiscoveryHit(name, getattr(self.app, f"action_{action}"), help=help_text)

    async def search(self, query: str) -> Hits:
        from crmtui.store.search import find_records

        matcher = self.matcher(query)
        for name, help_text, action in COMMANDS:
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), getattr(self.app, f"action_{action}"), help=help_text)
        if len(query.strip()) < 2:
            return
        with self.app.database.session() as s:
            found = find_records(s, query, limit=10)
        for n, f in enumerate(found):
            text = f"Go to {f.kind}: {f.label}"
            yield Hit(
                0.9 - n * 0.01, matcher.highlight(text) if matcher.match(text) else text,
                partial(self.app.open_record, f.kind, f.id), text=text, help=f.detail or None,
            )
