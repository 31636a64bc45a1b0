"""Writing a quote: Jinja2 templates to HTML or Markdown, and the HTML drawn as a PDF by fpdf2.

The built-in templates are in crmtui/templates; the user's own go in <config>/templates/ as
NAME.html.j2 (HTML and PDF) and NAME.md.j2 (Markdown), and a user's `quote.html.j2` replaces the
built-in one. Templates run sandboxed, with every field required (a misspelt field is an error
naming the template and line). The PDF embeds DejaVu Sans (Latin, Greek, Cyrillic) with Droid Sans
Fallback for the characters it lacks (Chinese, Japanese, Korean), so no name turns into boxes.
"""

from __future__ import annotations

import base64
import datetime as dt
import mimetypes
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmtui.store import clock
from crmtui.store.errors import ValidationError

PACKAGE = Path(__file__).resolve().parent.parent
BUILTIN_TEMPLATES = PACKAGE / "templates"
FONTS = PACKAGE / "fonts"
DEFAULT_NAME = "quote"
SUFFIXES = {"html": ".html.j2", "pdf": ".html.j2", "md": ".md.j2"}
_NAME = re.compile(r"[\w][\w .-]*")


@dataclass
class LoadedTemplate:
    name: str
    path: Path
    template: Any  # a jinja2.Template


def user_templates_dir() -> Path:
    from crmtui.locations import config_dir

    return config_dir() / "templates"


def _md(value: Any) -> str:  # noqa: ANN401
    """A value inside a Markdown table cell: one line, its pipes escaped."""
    return " ".join(str(value).split()).replace("|", "\\|")


def _environment(folder: Path) -> Any:  # noqa: ANN401
    from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
    from jinja2.sandbox import SandboxedEnvironment

    env = SandboxedEnvironment(
        loader=FileSystemLoader(folder),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = _md
    return env


def load_template(name: str | None, fmt: str) -> LoadedTemplate:
    """The template for a format: the user's NAME (required to exist), else the user's `quote`,
    else the built-in one. A template that does not parse is an error naming its file and line."""
    from jinja2 import TemplateSyntaxError

    folder = user_templates_dir()
    chosen = (name or "").strip()
    if chosen.endswith(SUFFIXES[fmt]):
        chosen = chosen.removesuffix(SUFFIXES[fmt])
    file = f"{chosen or DEFAULT_NAME}{SUFFIXES[fmt]}"
    if chosen:
        if not _NAME.fullmatch(chosen) or not (folder / file).is_file():
            raise ValidationError(f"no template {chosen!r} for {fmt} (looked in {folder} for {file})", "template")
    elif not (folder / file).is_file():
        folder = BUILTIN_TEMPLATES
    try:
        template = _environment(folder).get_template(file)
    except TemplateSyntaxError as exc:
        raise ValidationError(f"template {folder / file}, line {exc.lineno}: {exc.message}", "template") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationError(f"template {folder / file}: cannot be read ({exc})", "template") from None
    return LoadedTemplate(chosen or DEFAULT_NAME, folder / file, template)


def render(loaded: LoadedTemplate, fields: dict[str, Any], fmt: str) -> bytes:
    """The quote's file content: the template rendered with `fields` (the quote's snapshot), as
    UTF-8 text, or for "pdf" the rendered HTML drawn as a PDF."""
    context = {**fields, "logo_src": logo_source(fields["profile"].get("logo", "")) if fmt != "md" else ""}
    try:
        text = loaded.template.render(**context)
    except Exception as exc:  # a user's template may fail in any way: say where
        raise ValidationError(f"template {loaded.path}{_line_of(loaded.path)}: {exc}", "template") from None
    if fmt != "pdf":
        return text.encode("utf-8")
    try:
        return bytes(pdf_document(text, fields["number"]).output())
    except ValidationError:
        raise
    except Exception as exc:  # fpdf2 refuses some HTML (a table row wider than the first, an unknown font)
        raise ValidationError(f"template {loaded.path}: the PDF cannot be drawn from its HTML ({exc})",
                              "template") from None


def _line_of(path: Path) -> str:
    """", line N" of the template's frame in the exception being handled (Jinja2 puts the
    template's own file and line in the traceback)."""
    tb = sys.exc_info()[2]
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == str(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    return f", line {line}" if line else ""


def logo_source(path: str) -> str:
    """The logo as a data: URI, so an HTML quote carries it and fpdf2 draws it; "" without one."""
    if not path:
        return ""
    kind = mimetypes.guess_type(path)[0] or "image/png"
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ValidationError(f"logo: cannot read {path!r}: {exc.strerror}", "logo") from None
    return f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"


_HEAD = re.compile(r"<head\b.*?</head\s*>|<!DOCTYPE[^>]*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
MAIN_FONT = "dejavu"
FALLBACK_FONT = "droid"


def pdf_document(html: str, number: str = "") -> Any:  # noqa: ANN401
    """An fpdf2 document with the quote's HTML drawn on A4 (the <head> skipped: fpdf2 would print
    the styles), numbered pages in the footer."""
    from fpdf import FPDF
    from fpdf.enums import VAlign
    from fpdf.fonts import FontFace, TextStyle
    from fpdf.html import HTML2FPDF

    class QuotePDF(FPDF):
        def set_font(self, family: str | None = None, style: Any = "", size: float = 0) -> None:  # noqa: ANN401
            # Italics are drawn upright: the fonts have no italic face, and no text may be lost.
            style = (style if isinstance(style, str) else style.style).upper().replace("I", "")
            super().set_font(family, style, size)

        def footer(self) -> None:
            self.set_y(-12)
            self.set_font(MAIN_FONT, size=7.5)
            self.set_text_color(120)
            self.cell(0, 5, f"{number}   {self.page_no()}/{{nb}}", align="R")

    class QuoteHTML(HTML2FPDF):
        """fpdf2's HTML drawing with table cells at the top of their row and a small space after
        a table, as a browser draws them. A table moves the page down itself: the blank lines
        fpdf2 adds around it would only pile up under the next paragraph."""

        _table_edge = False

        def _ln(self, h: float | None = None) -> None:
            if not self._table_edge:
                super()._ln(h)

        def handle_starttag(self, tag: str, attrs: Any) -> None:  # noqa: ANN401
            self._table_edge = tag == "table"
            try:
                super().handle_starttag(tag, attrs)
            finally:
                self._table_edge = False
            if tag == "table" and self.table is not None:
                self.table._v_align = VAlign.T

        def handle_endtag(self, tag: str) -> None:
            self._table_edge = tag == "table"
            try:
                super().handle_endtag(tag)
            finally:
                self._table_edge = False
            if tag == "table":
                self.pdf.set_y(self.pdf.y + 3)

    QuotePDF.HTML2FPDF_CLASS = QuoteHTML
    pdf = QuotePDF(format="A4")
    pdf.set_margins(18, 16, 18)
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_title(f"Quote {number}")
    # The store's clock: with a fixed one (tests, the sample) the same quote makes the same bytes.
    pdf.set_creation_date(clock.utcnow().replace(tzinfo=dt.timezone.utc))
    pdf.add_font(MAIN_FONT, "", FONTS / "DejaVuSans.ttf")
    pdf.add_font(MAIN_FONT, "B", FONTS / "DejaVuSans-Bold.ttf")
    main = [font.cmap for key, font in pdf.fonts.items() if key.startswith(MAIN_FONT)]
    if any(not all(ord(c) in cmap for cmap in main) for c in set(html) if c.isprintable() and not c.isspace()):
        # Read only when needed (a second a document): for bold text too, there being no bold face.
        pdf.add_font(FALLBACK_FONT, "", FONTS / "DroidSansFallback.ttf")
        pdf.set_fallback_fonts([FALLBACK_FONT], exact_match=False)
    pdf.set_font(MAIN_FONT, size=10)
    pdf.add_page()
    heading = {"color": "#1f3a5f", "font_family": MAIN_FONT, "font_style": "B"}
    pdf.write_html(
        _HEAD.sub("", html),
        tag_styles={
            "h1": TextStyle(font_size_pt=18, t_margin=2, b_margin=2, **heading),
            "h2": TextStyle(font_size_pt=14, t_margin=3, b_margin=1, **heading),
            "h3": TextStyle(font_size_pt=12, t_margin=3, b_margin=1, **heading),
            "code": FontFace(family=MAIN_FONT),
            "pre": TextStyle(font_family=MAIN_FONT),
        },
        warn_on_tags_not_matching=False,
    )
    return pdf


def missing_glyphs(pdf: Any) -> dict[str, list[str]]:  # noqa: ANN401
    """The characters a drawn document has no glyph for, by font (after `output()`)."""
    return {key: [chr(c) for c in font.missing_glyphs] for key, font in pdf.fonts.items()
            if getattr(font, "missing_glyphs", None)}
