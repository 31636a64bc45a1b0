"""A deal's page: every field (but the hidden ones), the customer looked up live, profit, stage
history with days per stage, the next open task, linked records, files and links, the custom
fields, and the timeline."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Header, Static

from crmtui.markup import plain
from crmtui.screens.record_screen import RecordScreen, custom_value, field_label, links_of
from crmtui.store.activities import get_record, next_open_task, stage_history, timeline
from crmtui.store.custom_fields import custom_rows
from crmtui.store.deals import deal_detail
from crmtui.store.errors import CrmError, NotFound
from crmtui.store.field_setup import hidden_fields
from crmtui.store.lines import line_rows, totals_of
from crmtui.store.models import Stage
from crmtui.store.money import format_money
from crmtui.store.quotes import list_quotes
from crmtui.widgets.footer import AppFooter
from crmtui.widgets.line_items import EMPTY_LINES, LineTable, QuoteTable, render_totals
from crmtui.widgets.timeline import Timeline


def stars(n: int | None) -> str:
    return "★" * n + "☆" * (5 - n) if n else "—"


def task_line(task: Any, today: Any) -> str:  # noqa: ANN401
    if task is None:
        return "[dim]Next: no open task — t adds one[/]"
    due = task.due_on
    if due is None:
        when = ""
    elif due < today:
        when = f"[b red]overdue since {due.isoformat()}[/]"
    elif due == today:
        when = "[b yellow]due today[/]"
    else:
        when = f"due {due.isoformat()}"
    return f"[b]Next:[/] ☐ {plain(task.body)}  {when}  [dim](space marks it done)[/]"


class DealDetailScreen(RecordScreen):
    """One deal, editable. Opened by `app.open_record("deal", id)`."""
    kind = "deal"
    CSS_PATH = "detail.tcss"
    VERTICAL_BREAKPOINTS = [(0, "-short"), (32, "-tall")]  # a short screen gives the lines less room
    HELP_SECTIONS = (("Products", LineTable), ("Quotes", QuoteTable))  # their keys, in F1 help
    BINDINGS = [
        Binding("plus", "add_line", "Product", tooltip="Add a line item: a product found as you type, or a line of"
                " your own", id="deal.add_line"),
        Binding("Q", "make_quote", "Quote", tooltip="Write a quote from the line items (a PDF, HTML or Markdown"
                " file)", id="deal.quote"),
        Binding("percent_sign", "deal_discount", "Discount", show=False, tooltip="A discount on the whole deal:"
                " 5% or an amount", id="deal.discount"),
        Binding("o", "open_proposal", "Proposal", tooltip="Open the proposal URL", id="deal.proposal"),
        Binding("f", "open_file", "Files", tooltip="Open a linked file (the one under the cursor in Linked)", id="deal.files"),
        Binding("L", "add_link", "Link file", tooltip="Link a file path or URL to this deal", id="deal.add_link"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="crumbs", classes="crumbs")
        yield Static("", id="next-task", classes="next-task")
        with Horizontal(id="detail-top"):
            with VerticalScroll(id="facts-scroll"):
                yield Static("", id="facts", classes="facts")
            with VerticalScroll(id="detail-side"):
                yield Static("", id="history", classes="history")
                yield Static("Linked (enter opens)", classes="section-title")
                yield DataTable(id="related", cursor_type="row", show_header=False)
                yield Static("", id="quotes-title", classes="section-title")
                yield QuoteTable(id="quotes")
                yield Static("", id="custom", classes="custom-facts")
        yield Static("", id="lines-title", classes="section-title")
        yield LineTable(id="lines")
        yield Static("", id="lines-totals", classes="lines-totals")
        yield Static("Timeline (newest first)", classes="section-title")
        yield Timeline(id="timeline")
        yield AppFooter()

    def refresh_data(self) -> None:
        from crmtui.store.editing import deal_links

        try:
            with self.database.session() as s:
                row = deal_detail(s, self.record_id)
                row["notes"] = get_record(s, "deal", self.record_id).notes  # deal_rows leaves notes out
                custom = custom_rows(s, "deal", self.record_id)
                hidden = hidden_fields(s, "deal")
                row["stage_color"] = s.get(Stage, row["stage_id"]).color
                customer = _customer(s, row)
                stays = stage_history(s, self.record_id)
                task = next_open_task(s, "deal", self.record_id)
                entries = timeline(s, "deal", self.record_id)
                links = [(link.id, link.kind, link.target, link.label) for link in deal_links(s, self.record_id)]
                lines = line_rows(s, self.record_id)
                totals = totals_of(s, self.record_id, lines)
                quotes = list_quotes(s, deal=self.record_id)
        except NotFound:
            self.record_gone(f"Deal #{self.record_id} is gone (deleted elsewhere)")
            return
        if hidden != getattr(self, "hidden", None):
            self.refresh_bindings()  # a hidden proposal URL takes `o` off the footer
        self.row, self.links, self.hidden = row, links, hidden
        self.set_crumb(row["title"])
        self.query_one("#facts", Static).update(render_facts(row, customer, len(links), masked=self.masked,
                                                             hidden=hidden))
        self.query_one("#custom", Static).update(render_custom(custom, masked=self.masked))
        self.query_one("#custom", Static).display = bool(custom)
        self.show_links(links_of(custom))
        self.query_one("#history", Static).update(render_history(stays))
        self.query_one("#next-task", Static).update(task_line(task, self.today))
        related = self.query_one("#related", DataTable)
        related.clear(columns=True)
        related.add_column("what", width=9)
        related.add_column("target", width=48)
        if row["company_id"] and "company" not in hidden:
            related.add_row("Company", customer["company"], key=f"company:{row['company_id']}")
        if row["contact_id"] and "contact" not in hidden:
            related.add_row("Contact", customer["contact"], key=f"contact:{row['contact_id']}")
        if row["proposal_url"] and "proposal_url" not in hidden:
            related.add_row("Proposal", row["proposal_url"], key="proposal")
        for link_id, kind, target, label in links:
            related.add_row(kind.capitalize(), label or target, key=f"link:{link_id}")
        for i, (name, url) in enumerate(self.web_links):
            related.add_row(field_label(name, 9), url, key=f"url:{i}")
        if not related.row_count:
            related.add_row("", Text("no company, contact or files — e edits, L links a file", style="dim"), key="none")
        self.query_one(Timeline).show(entries, self.today)
        self.show_lines(lines, totals)
        self.show_quotes(quotes)

    def show_lines(self, lines: list[Any], totals: Any) -> None:  # noqa: ANN401
        """The Products section: the lines and their totals, or how to add the first."""
        self.lines = {line["id"]: line for line in lines}
        self.set_class(bool(lines), "-has-lines")
        title = Text("Products", style="bold")
        if lines:
            title.append("  + adds · enter edits · ctrl+↑↓ moves · del removes", style="dim not bold")
        else:
            title.append(f"  {EMPTY_LINES}", style="dim not bold")
        self.query_one("#lines-title", Static).update(title)
        table = self.query_one("#lines", LineTable)
        table.display = bool(lines)
        table.show(lines, masked=self.masked)
        shown = self.query_one("#lines-totals", Static)
        shown.display = bool(lines)
        shown.update(render_totals(totals, self.row["currency"] or "", masked=self.masked))

    def show_quotes(self, quotes: list[dict[str, Any]]) -> None:
        self.quotes = {quote["id"]: quote for quote in quotes}
        title = "Quotes (Q makes one)" if quotes else "Quotes: none (Q makes one)"
        self.query_one("#quotes-title", Static).update(title)
        table = self.query_one("#quotes", QuoteTable)
        table.display = bool(quotes)
        table.show(quotes, masked=self.masked)

    # --- keys -------------------------------------------------------------------------------

    @on(DataTable.RowSelected, "#related")
    def _open_related(self, event: DataTable.RowSelected) -> None:
        key = event.row_key.value
        if self.open_linked(key):
            return
        if key == "proposal":
            self.action_open_proposal()
        elif key and key.startswith("url:"):
            self.open_target(self.web_links[int(key[4:])][1])
        elif key and key.startswith("link:"):
            link = next((x for x in self.links if f"link:{x[0]}" == key), None)
            if link:
                self.open_target(link[2])

    @on(DataTable.RowSelected, "#quotes")
    def _open_quote(self, event: DataTable.RowSelected) -> None:
        quote = self.quotes.get(int(str(event.row_key.value).removeprefix("quote:")))
        if quote and quote["path"]:
            self.open_target(quote["path"])

    @on(DataTable.RowSelected, "#timeline")
    def _open_timeline_deal(self, event: DataTable.RowSelected) -> None:
        pass  # a deal's timeline entries are all about this deal

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "open_proposal" and "proposal_url" in getattr(self, "hidden", ()):
            return False
        return super().check_action(action, parameters)

    def action_open_proposal(self) -> None:
        url = self.row.get("proposal_url") if hasattr(self, "row") else None
        if not url:
            self.notify("No proposal URL on this deal (e edits it)", severity="warning", timeout=3)
            return
        self.open_target(url)

    def action_open_link(self) -> None:
        """The link under the cursor in Linked, else the deal's link (a list when there are several)."""
        related = self.query_one("#related", DataTable)
        key = self.row_key(related) if related.has_focus else None
        if key and key.startswith("url:"):
            self.open_target(self.web_links[int(key[4:])][1])
            return
        super().action_open_link()

    def action_open_file(self) -> None:
        related = self.query_one("#related", DataTable)
        key = self.row_key(related)
        chosen = next((x for x in self.links if f"link:{x[0]}" == key), None) if key else None
        if chosen is None and self.links:
            chosen = self.links[0]
            if len(self.links) > 1:
                self.notify("Several files: pick one in the Linked list and press enter", timeout=3)
                related.focus()
                related.move_cursor(row=related.get_row_index(f"link:{chosen[0]}"))
                return
        if chosen is None:
            self.notify("No files linked to this deal (L links one)", severity="warning", timeout=3)
            return
        self.open_target(chosen[2])

    def action_add_link(self) -> None:
        from crmtui.screens.edit_forms import FormField, FormScreen
        from crmtui.store.editing import LINK_KINDS, add_link

        def required(value: str) -> str | None:
            return None if value.strip() else "path or URL: required"

        def save(values: dict[str, str]) -> None:
            with self.database.session() as s:
                add_link(s, self.record_id, values["target"], kind=values["kind"], label=values["label"])

        form = FormScreen(
            f"Link a file to deal #{self.record_id}",
            [
                FormField("target", "Path or URL", "", required, placeholder="~/contracts/acme-signed.pdf"),
                FormField("kind", "Kind", "file", choices=[(k, k) for k in LINK_KINDS]),
                FormField("label", "Label", "", placeholder="Signed contract"),
            ],
            save,
        )
        self.app.push_screen(form, lambda ok: self._after_form(ok, "Linked"))

    # --- line items and quotes --------------------------------------------------------------

    def _write(self, write: Callable[[Any], Any], message: str | Callable[[Any], str]) -> Any:  # noqa: ANN401
        """Run one write in its own transaction; say what it did (or why not) and show the result."""
        try:
            with self.database.session() as s:
                result = write(s)
        except CrmError as exc:
            self.notify(exc.message, severity="error", markup=False)
            return None
        self.notify(message(result) if callable(message) else message, timeout=3, markup=False)
        self.refresh_data()
        return result

    def action_add_line(self) -> None:
        from crmtui.screens.product_picker import ProductPicker
        from crmtui.store.lines import add_line

        def picked(choice: Any) -> None:  # noqa: ANN401
            if choice is None:
                return
            line = self._write(lambda s: add_line(s, self.record_id, choice.ref, price=choice.price),
                               f"Added {choice.name} (u undoes)")
            if line is not None:
                table = self.query_one("#lines", LineTable)
                table.focus()
                table.select_line(line.id)

        title = f"Add a product to {self.row['title']}" if hasattr(self, "row") else "Add a product"
        self.app.push_screen(ProductPicker(self.database, title, masked=self.masked), picked)

    @on(LineTable.LineAction)
    def _line_action(self, event: LineTable.LineAction) -> None:
        from crmtui.store.lines import move_line, remove_line, set_line_fields

        line_id = event.line_id
        if event.remove:
            self._write(lambda s: remove_line(s, line_id), "Removed the line (u undoes)")
        elif event.step:
            try:
                with self.database.session() as s:
                    moved = move_line(s, line_id, event.step)
            except CrmError as exc:
                self.notify(exc.message, severity="error", markup=False)
                return
            if moved:
                self.refresh_data()
        elif line_id in self.lines:
            from crmtui.screens.line_form import line_form

            def save(edits: dict[str, str]) -> None:  # a refusal stays in the form
                with self.database.session() as s:
                    set_line_fields(s, line_id, edits)

            self.app.push_screen(line_form(self.lines[line_id], save),
                                 lambda ok: self._after_form(ok, "Line saved (u undoes)"))

    def action_deal_discount(self) -> None:
        from crmtui.screens.prompt import PromptScreen
        from crmtui.store.lines import discount_text, parse_deal_discount, set_deal_discount

        def check(value: str) -> str | None:
            try:
                parse_deal_discount(value)
            except CrmError as exc:
                return exc.message
            return None

        def save(value: str) -> None:  # a refusal stays in the prompt
            with self.database.session() as s:
                set_deal_discount(s, self.record_id, value)

        current = discount_text(self.row.get("discount_bp"), self.row.get("discount_cents")) or ""
        prompt = PromptScreen(f"Discount on {self.row['title']}", value=current, placeholder="5% or 500",
                              hint="5% of the lines' net, or an amount; empty or none: no discount · esc cancels",
                              check=check, save=save)
        self.app.push_screen(prompt, lambda value: self._after_form(value is not None, "Discount saved (u undoes)"))

    def action_make_quote(self) -> None:
        from crmtui.screens.line_form import quote_form
        from crmtui.store.quotes import make_quote

        if not getattr(self, "lines", None):
            self.notify("No line items to quote: + adds a product first", severity="warning", timeout=4)
            return
        made: list[Any] = []

        def save(values: dict[str, str]) -> None:  # a refusal (no business profile, ...) stays in the form
            with self.database.session() as s:
                made.append(make_quote(s, self.record_id, valid_until=values["valid_until"] or None,
                                       fmt=values["format"]))

        def done(ok: bool | None) -> None:
            if ok and made:
                quote = made[0]
                missing = (f"\nYour business profile has no {', '.join(quote.missing_profile)} yet:"
                           " crmtui profile set KEY VALUE" if quote.missing_profile else "")
                self.notify(f"Quote {quote.number} written: {quote.path} (u undoes){missing}", timeout=8, markup=False)
            self.refresh_data()

        self.app.push_screen(quote_form(self.row["title"], self.today, save), done)

    @on(QuoteTable.StatusRequested)
    def _quote_status(self, event: QuoteTable.StatusRequested) -> None:
        from crmtui.screens.confirm import ConfirmScreen
        from crmtui.screens.lost_reason import LostReasonScreen

        quote_id, status = event.quote_id, event.status
        number = self.quotes[quote_id]["number"] if quote_id in self.quotes else f"#{quote_id}"
        if status == "declined" and self.quotes.get(quote_id, {}).get("status") in ("accepted", "declined"):
            self.notify(f"Quote {number} is {self.quotes[quote_id]['status']} already", severity="warning", timeout=3)
            return
        if status != "declined":
            self._set_quote_status(quote_id, number, status)
            return

        def lost(yes: bool | None) -> None:
            if not yes:
                self._set_quote_status(quote_id, number, status)
                return
            self.app.push_screen(LostReasonScreen(self.database),
                                 lambda reason: self._set_quote_status(quote_id, number, status, reason) if reason else None)

        self.app.push_screen(ConfirmScreen(f"Quote {number} declined.\n\nMark the deal lost?", yes="Lost",
                                           no="Keep it open"), lost)

    def _set_quote_status(self, quote_id: int, number: str, status: str, lost_reason: str | None = None) -> None:
        from crmtui.store.quotes import set_status

        def said(change: Any) -> str:  # noqa: ANN401
            moved = f"; the deal moved to {change.stage}" if change.stage else "; the deal is lost" if change.lost else ""
            return f"Quote {number} {status}{moved} (u undoes)"

        self._write(lambda s: set_status(s, quote_id, status, lost_reason=lost_reason), said)


def _customer(session: Any, row: dict[str, Any]) -> dict[str, str]:  # noqa: ANN401
    """The customer's name, email and phone, looked up now from the company and the contact."""
    out = {"company": "", "company_email": "", "company_phone": "", "contact": "", "email": "", "phone": "", "title": ""}
    if row["company_id"]:
        c = session.execute("SELECT name, email, phone, deleted_at FROM company WHERE id = :id", {"id": row["company_id"]}).fetchone()
        if c:
            out.update(company=c[0] + (" (in trash)" if c[3] else ""), company_email=c[1] or "", company_phone=c[2] or "")
    if row["contact_id"]:
        p = session.execute("SELECT name, email, phone, title, deleted_at FROM contact WHERE id = :id", {"id": row["contact_id"]}).fetchone()
        if p:
            out.update(contact=p[0] + (" (in trash)" if p[4] else ""), email=p[1] or "", phone=p[2] or "", title=p[3] or "")
    return out


def render_facts(
    row: dict[str, Any], customer: dict[str, str], n_links: int, *, masked: bool, hidden: set[str] | None = None
) -> Table:
    """The deal's own fields, but the hidden ones (what derives from a hidden field goes with it:
    profit with the cost, the weighted value with the amount)."""
    hidden = hidden or set()
    currency = row["currency"] or ""

    def money(cents: int | None) -> Text:
        return Text("—" if cents is None else format_money(cents, currency, masked=masked))

    def shown(*fields: str) -> bool:
        return not hidden.intersection(fields)

    profit = None if row["cost_cents"] is None else row["amount_cents"] - row["cost_cents"]
    weighted = row["amount_cents"] * row["probability"] // 100
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True, min_width=14)
    grid.add_column(overflow="ellipsis", no_wrap=True)
    grid.add_row(Text(f"#{row['id']}", style="dim"), Text(row["title"], style="bold"))
    if shown("company"):
        grid.add_row("Customer", customer["company"] or customer["contact"] or "—")
    if shown("contact"):
        title = f", {customer['title']}" if customer["title"] else ""
        grid.add_row("Contact", customer["contact"] + title if customer["contact"] else "—")
    grid.add_row("Email", customer["email"] or customer["company_email"] or "—")
    grid.add_row("Phone", customer["phone"] or customer["company_phone"] or "—")
    entered = row["stage_entered_at"][:10]
    stage = Text(row["stage"], style=f"bold {row['stage_color']}" if row.get("stage_color") else "")
    grid.add_row("Stage", stage.append(f" ({row['probability']}%) since {entered}"))
    if shown("amount"):
        amount = money(row["amount_cents"])
        if row["currency"] and shown("currency"):
            amount.append(f"  ({row['currency']})", style="dim")
        grid.add_row("Amount", amount)
    if shown("cost"):
        grid.add_row("Cost", money(row["cost_cents"]))
    if shown("amount", "cost"):
        profit_text = money(profit)
        if profit is not None and profit < 0 and not masked:
            profit_text.stylize("red")
        grid.add_row("Profit", profit_text)
    if shown("amount"):
        grid.add_row("Weighted", money(weighted))
    grid.add_row("Pipeline", row["pipeline"])
    for field, label, value in (
        ("confidence", "Confidence", stars(row["confidence"])),
        ("expected_close", "Expected close", str(row["expected_close"] or "—")),
        ("closed_on", "Closed on", str(row["closed_on"] or "—")),
        ("source", "Source", row["source"] or "—"),
    ):
        if shown(field):
            grid.add_row(label, value)
    if (row["stage_kind"] == "lost" or row["lost_reason"]) and shown("lost_reason"):
        grid.add_row("Lost reason", row["lost_reason"] or "—")
    if shown("tags"):
        grid.add_row("Tags", ", ".join(row["tags"]) or "—")
    if shown("proposal_url"):
        grid.add_row("Proposal", row["proposal_url"] or "—")
    grid.add_row("Files", f"{n_links} linked" if n_links else "—")
    if shown("notes"):
        grid.add_row("Notes", row.get("notes") or "—")
    return grid


def render_custom(custom: list[tuple[dict[str, Any], str | None]], *, masked: bool) -> Table:
    """The deal's custom fields, under their own heading: a looked-up one says where from."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True, min_width=14)
    grid.add_column(overflow="ellipsis", no_wrap=True)
    grid.add_row(Text("Custom fields", style="bold"), "")
    for field, stored in custom:
        grid.add_row(field_label(field["name"]), custom_value(field, stored, masked=masked))
    return grid


def render_history(stays: list[Any]) -> Table:  # noqa: ANN401
    grid = Table.grid(padding=(0, 1))
    grid.add_column(style="dim", no_wrap=True)
    grid.add_column(no_wrap=True, overflow="ellipsis")
    grid.add_column(justify="right", no_wrap=True)
    grid.add_row(Text("Stage history", style="bold"), "", "")
    for stay in stays[-8:]:
        days = f"{stay.days} d" + (" so far" if stay.left is None else "")
        grid.add_row(stay.entered.strftime("%Y-%m-%d"), stay.stage, Text(days, style="bold" if stay.left is None else ""))
    if len(stays) > 8:
        grid.add_row("", Text(f"(+{len(stays) - 8} earlier)", style="dim"), "")
    return grid


__all__ = ["DealDetailScreen", "CrmError"]
