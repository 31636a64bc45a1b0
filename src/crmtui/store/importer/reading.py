"""From the bytes of a CSV file to rows of text: encoding, delimiter, preamble, line endings.

Files come from spreadsheets and other CRMs as they really are: UTF-8 with or without a BOM,
UTF-16 with a BOM (Excel's "Unicode text"), Windows-1252 / Latin-1, with commas, semicolons, tabs
or pipes, CR-only line endings (old Mac exports), blank lines, Excel's trailing `,,,,` rows and a
preamble before the header (LinkedIn's Connections.csv starts with "Notes:" lines). Anything we
cannot decode with confidence is refused with a message naming `--encoding`, never guessed into
mojibake.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import os
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crmtui.store.errors import ValidationError

DELIMITERS = (",", ";", "\t", "|")
DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
SAMPLE_ROWS = 40  # rows looked at to find the delimiter and the header
# Encodings charset-normalizer may name for Western European text that cp1252 reads the same way
# (for short files it often cannot tell cp1252 from its neighbours; cp1252 is what Excel writes).
_WESTERN = {"cp1252", "latin_1", "iso8859_15", "iso8859_1", "windows_1252"}
_WESTERN_NEIGHBOURS = {"cp1250", "cp1257", "cp775", "cp850", "cp852", "mac_roman", "mac_iceland", "mac_latin2",
                       "mac_turkish", "iso8859_2", "iso8859_9", "iso8859_10", "iso8859_13", "iso8859_14",
                       "iso8859_16", "cp1254", "cp437", "cp858", "cp1256"}
_BINARY_MAGIC = {
    b"PK\x03\x04": "a zip archive or an Excel/Numbers workbook (.xlsx); save it as CSV first",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls); save it as CSV first",
    b"%PDF": "a PDF document",
    b"SQLite format 3": "an SQLite database",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}


@dataclass
class CsvText:
    """A decoded CSV file and how it was read."""

    name: str  # the file name as given ("-" for standard input shows as "<stdin>")
    text: str
    encoding: str  # what we decoded it as ("utf-8", "utf-8-sig", "utf-16", "cp1252", ...)
    delimiter: str = ","
    header_line: int = 1  # 1-based line of the header in the file
    header: tuple[str, ...] = ()
    skip_records: int = 0  # csv records before the header (preamble, blank lines)
    # A big file's rows are read again from `path` rather than kept in memory as `text` (which is
    # then ""): 100,000 deals are a 22 MB string held for the whole import otherwise.
    path: Path | None = None
    chars: int = 0  # the text's length, and roughly how many records it holds (progress bar)
    line_count: int = 0
    stamp: tuple[int, int] | None = None  # the file's size and mtime when it was read
    rows: list[tuple[int, list[str]]] | None = None  # a table read from another format (vCard): its rows

    @property
    def delimiter_name(self) -> str:
        return DELIMITER_NAMES.get(self.delimiter, repr(self.delimiter))

    @property
    def layout(self) -> str:
        """How the text is laid out, for people: "comma-delimited", ..., or "vCard"."""
        return "vCard" if self.rows is not None else f"{self.delimiter_name}-delimited"


def read_bytes(source: str | Path, stdin: io.BufferedIOBase | None = None) -> tuple[str, bytes]:
    """The raw bytes of `source` (a path, or "-" for standard input) and its display name."""
    if str(source) == "-":
        stream = stdin if stdin is not None else sys.stdin.buffer
        return "<stdin>", stream.read()
    path = Path(source)
    name = str(source)
    if not path.exists():
        raise ValidationError(f"{name}: no such file", "file")
    if path.is_dir():
        raise ValidationError(f"{name}: is a directory, not a CSV file", "file")
    try:
        return name, path.read_bytes()
    except OSError as exc:
        raise ValidationError(f"{name}: cannot read the file ({exc.strerror})", "file") from None


def decode(name: str, data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode a CSV file's bytes. Returns (text, encoding used).

    With `encoding` given it is used strictly. Otherwise: a BOM decides (UTF-8, UTF-16, UTF-32);
    then UTF-8; then Windows-1252 when charset-normalizer agrees the text is Western European.
    Anything else is refused with a message naming `--encoding`.
    """
    if encoding:
        try:
            codec = codecs.lookup(encoding)
        except LookupError:
            raise ValidationError(
                f"--encoding: unknown encoding {encoding!r} (try utf-8, cp1252, latin-1 or utf-16)", "encoding"
            ) from None
        if codec.name == "utf-8" and data.startswith(codecs.BOM_UTF8):
            codec = codecs.lookup("utf-8-sig")
        try:
            return codec.decode(data)[0], codec.name
        except UnicodeDecodeError as exc:
            raise ValidationError(
                f"{name}: is not valid {codec.name} (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                "check --encoding", "encoding"
            ) from None
    for bom, codec_name in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                            (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                            (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(codec_name), codec_name
            except UnicodeDecodeError as exc:
                raise ValidationError(
                    f"{name}: starts like {codec_name} but is not valid {codec_name} (offset {exc.start}); "
                    "give --encoding", "encoding"
                ) from None
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise ValidationError(f"{name}: is not a CSV text file: it looks like {what}", "file")
    if b"\x00" in data[:4096]:
        guessed = _utf16_without_bom(data)
        if guessed:
            return data.decode(guessed), guessed
        raise ValidationError(f"{name}: is not a text file (binary data at offset {data.index(0)})", "file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        if not looks_like_text(text):
            raise ValidationError(f"{name}: is not a text file (it holds control characters)", "file")
        return text, "utf-8"
    return _decode_legacy(name, data)


def _utf16_without_bom(data: bytes) -> str | None:
    sample = data[:4096]
    even, odd = sample[0::2].count(0), sample[1::2].count(0)
    half = len(sample) // 2
    codec = "utf-16-le" if odd > 0.4 * half and even < 0.05 * half else (
        "utf-16-be" if even > 0.4 * half and odd < 0.05 * half else None)
    if codec is None:
        return None
    try:
        text = data.decode(codec)
    except UnicodeDecodeError:
        return None
    return codec if looks_like_text(text) else None


def looks_like_text(text: str) -> bool:
    """Mostly printable characters (a binary file decodes to control characters)."""
    sample = text[:8192]
    if not sample:
        return True
    bad = sum(1 for ch in sample if not ch.isprintable() and ch not in "\r\n\t")
    return bad <= len(sample) * 0.02


def _decode_legacy(name: str, data: bytes) -> tuple[str, str]:
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    best = matches[0] if matches else None
    candidates = {m.encoding for m in matches}
    western = best is not None and (
        best.encoding in _WESTERN or (best.encoding in _WESTERN_NEIGHBOURS and candidates & _WESTERN)
    )
    if western:
        for codec_name in ("cp1252", "latin-1"):
            try:
                return data.decode(codec_name), codec_name
            except UnicodeDecodeError:
                continue
    if best is None:
        raise ValidationError(
            f"{name}: is not UTF-8 and its encoding cannot be recognised; "
            "save it as UTF-8, or give --encoding (e.g. --encoding cp1252)", "encoding"
        )
    language = f", {best.language}" if best.language and best.language != "Unknown" else ""
    raise ValidationError(
        f"{name}: is not UTF-8; it looks like {best.encoding}{language}. If that is right, "
        f"give --encoding {best.encoding}", "encoding"
    )


def raise_field_limit() -> None:
    """Allow fields longer than the csv module's default 128 KiB (long notes, HTML bodies)."""
    limit = sys.maxsize
    while True:
        try:
            csv.field_size_limit(limit)
            return
        except OverflowError:
            limit //= 10


def _reader(lines: Iterable[str], delimiter: str) -> Any:
    return csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True,
                      skipinitialspace=False, strict=False)


def _records(text: str, delimiter: str, ended: list[bool]) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) for each CSV record, blank ones included; `ended` is marked
    when the reader reaches the end of the text (see `_until_end`)."""
    reader = _reader(_until_end(_lines(text), ended), delimiter)
    line = 1
    for fields in reader:
        yield line, fields
        line = reader.line_num + 1


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")
_group = re.Match.group


def _lines(text: str) -> Iterator[str]:
    """The lines of `text` ending in CRLF, LF or a lone CR (old Mac exports), one at a time
    (io.StringIO would hold a 4-bytes-per-character copy of the whole file)."""
    return map(_group, _LINE.finditer(text))


def _until_end(lines: Iterator[str], ended: list[bool]) -> Iterator[str]:
    """`lines`, then a note in `ended` that the reader asked past the last one (chained, not
    wrapped: no Python call per line)."""
    def mark() -> Iterator[str]:
        ended.append(True)
        yield from ()

    return itertools.chain(lines, mark())


def is_blank(fields: list[str]) -> bool:
    # (whitespace is whitespace character by character: one join and strip, not one per cell)
    return not "".join(fields).strip()


def sniff(name: str, text: str, delimiter: str | None = None) -> tuple[str, int, int, tuple[str, ...]]:
    """Find the delimiter and the header row. Returns (delimiter, header line, records before the
    header, header cells).

    For each candidate delimiter the first rows are split; the delimiter whose rows most often
    share one field count (above 1) wins, unless its quotes do not close where another's do (in
    `"a",";"` a semicolon would open a quote that the file never closes). The header is the
    first row with that many fields, so preamble lines ("Notes:", an export title) and blank
    lines before it are skipped.
    """
    if delimiter is not None:
        if delimiter in ("\\t", "tab", "TAB"):
            delimiter = "\t"
        if len(delimiter) != 1 or delimiter in ('"', "\r", "\n"):
            raise ValidationError(f"--delimiter: {delimiter!r} must be one character (, ; | or tab)", "delimiter")
    if not text or text.isspace():
        raise ValidationError(f"{name}: the file is empty", "file")
    best: tuple[tuple[bool, float], str, int, int, tuple[str, ...]] | None = None
    for cand in (delimiter,) if delimiter else DELIMITERS:
        rows = []
        ended: list[bool] = []
        unclosed = False
        try:
            for index, (line, fields) in enumerate(_records(text, cand, ended)):
                unclosed = bool(ended)  # (a record that comes after the end is in an open quote)
                if not is_blank(fields):
                    rows.append((index, line, fields))
                if len(rows) >= SAMPLE_ROWS:
                    break
        except csv.Error:
            continue
        if not rows:
            continue
        widths = Counter(len(_trim(f)) for _i, _l, f in rows)
        width, count = max(widths.items(), key=lambda kv: (kv[1] * (kv[0] > 1), kv[0]))
        # Prefer consistency, then more columns; a single column scores lowest.
        score = (width > 1 and not unclosed,
                 (count / len(rows)) * (1 if width > 1 else 0.01) + width * 1e-6)
        # (>=: data rows may end in empty cells that the header names)
        header = next((r for r in rows if len(_trim(r[2])) >= width), rows[0])
        if best is None or score > best[0]:
            best = (score, cand, header[1], header[0], tuple(c.strip() for c in _trim(header[2])))
    if best is None:
        raise ValidationError(f"{name}: cannot read it as CSV (unbalanced quotes?)", "file")
    _score, chosen, line, skip, header = best
    if not any(header):
        raise ValidationError(f"{name}: the file has no header row", "file")
    return chosen, line, skip, header


def _trim(fields: list[str]) -> list[str]:
    """Fields without the empty cells Excel leaves at the end of a row."""
    end = len(fields)
    while end > 1 and not fields[end - 1].strip():
        end -= 1
    return fields[:end]


def open_csv(source: str | Path, *, encoding: str | None = None, delimiter: str | None = None,
             stdin: io.BufferedIOBase | None = None) -> CsvText:
    """Read, decode and sniff a CSV file (or "-" for standard input)."""
    raise_field_limit()
    name, data = read_bytes(source, stdin)
    if not data or data.isspace():
        raise ValidationError(f"{name}: the file is empty", "file")
    text, used = decode(name, data, encoding)
    del data
    if text.startswith("\ufeff"):
        text = text[1:]
    from crmtui.store import vcard

    if vcard.is_vcard(source, text):  # an address book: its cards as a table of contacts
        return CsvText(name=name, text="", encoding=used, header=vcard.HEADER, rows=vcard.contact_rows(name, text),
                       chars=len(text), line_count=text.count("\n") or 1)
    chosen, line, skip, header = sniff(name, text, delimiter)
    path = Path(source) if str(source) != "-" and len(text) >= STREAM_MIN_CHARS else None
    stamp = None
    if path is not None:
        # only a regular file can be read again (not a pipe: `crmtui import <(gunzip -c f.gz)`)
        stamp = _stamp(path) if path.is_file() else None
        if stamp is None:
            path = None
    return CsvText(name=name, text="" if path else text, encoding=used, delimiter=chosen, header_line=line,
                   header=header, skip_records=skip, path=path, chars=len(text), line_count=count_lines(text),
                   stamp=stamp)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


STREAM_MIN_CHARS = 1_000_000


def _file_lines(csv_text: CsvText) -> Iterator[str]:
    """The lines of the file again, decoded as when it was opened (newline="": split at CRLF, LF
    or a lone CR, endings kept, exactly like `_lines`)."""
    fh = open(csv_text.path, encoding=csv_text.encoding, newline="")  # type: ignore[arg-type]  # noqa: SIM115
    with fh:
        st = os.fstat(fh.fileno())
        if (st.st_size, st.st_mtime_ns) != csv_text.stamp:
            raise ValidationError(f"{csv_text.name}: the file changed while it was being imported; "
                                  "import it again", "file")
        first = fh.readline()
        if first.startswith("\ufeff"):
            first = first[1:]
        if first:
            yield first
        yield from fh


class UnclosedQuote(ValidationError):
    """A quoted value whose closing quote never comes: the reader took the rest of the file into
    it. It is always the file's last record."""

    def __init__(self, name: str, line: int, column: int, swallowed: int, fields: list[str]) -> None:
        self.line, self.column, self.swallowed, self.fields = line, column, swallowed, fields
        after = ""
        if swallowed == 1:
            after = f", so the line after it (line {line + 1}) was read as part of it, not as a row"
        elif swallowed:
            after = (f", so the {swallowed:,} lines after it ({line + 1}–{line + swallowed}) were read as part of it,"
                     " not as rows")
        self.reason = f"the quote that opens this value is never closed{after}; close or remove the quote"
        super().__init__(f"{name}: line {line}: {self.reason}", "file")


def _unclosed(name: str, reader: Any, fields: list[str]) -> UnclosedQuote:
    """The error for a record the reader returned at the end of the file (csv returns a record
    there only while inside a quoted value, which is then its last field)."""
    spanned = max(1, len(_LINE.findall(fields[-1])))  # the lines from the quote's to the last
    line = reader.line_num - spanned + 1
    return UnclosedQuote(name, line, len(fields) - 1, spanned - 1, fields)


def data_rows(csv_text: CsvText) -> Iterator[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank record after the header. A quote that is never
    closed raises UnclosedQuote after the rows before it."""
    if csv_text.rows is not None:
        yield from csv_text.rows
        return
    ended: list[bool] = []
    lines = _lines(csv_text.text) if csv_text.path is None else _file_lines(csv_text)
    reader = _reader(_until_end(lines, ended), csv_text.delimiter)
    try:
        for _ in range(csv_text.skip_records + 1):
            fields = next(reader, None)
        if ended and fields:  # in the header (or the lines before it)
            raise ValidationError(_unclosed(csv_text.name, reader, fields).message, "file")
        line = reader.line_num + 1
        for fields in reader:
            if ended:
                raise _unclosed(csv_text.name, reader, fields)
            if fields and "".join(fields).strip():
                yield line, fields
            line = reader.line_num + 1
    except (OSError, UnicodeDecodeError) as exc:  # the file changed or went away since it was opened
        raise ValidationError(f"{csv_text.name}: cannot read the file again ({exc}); was it changed while "
                              "importing?", "file") from None


def count_lines(text: str) -> int:
    """Roughly how many records the text holds (for a progress bar)."""
    return text.count("\n") or text.count("\r") or 1
