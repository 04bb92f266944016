"""Input formats: one module per format, each a pure generator of canonical records.

Every module exposes ``parse(source, skip_bad=False, errors=None) -> RecordStream`` where ``source`` is
a path or an open binary/text file (with ``skip_bad``, unreadable records are skipped and their
``ParseError`` listed in the stream's ``errors``), and ``sniff(head: str) -> bool`` telling whether the
start of a file looks like its format. Formats are detected from content, never from the file name: real RIS and MEDLINE files arrive
as ``.txt``.
"""

from __future__ import annotations

import codecs
import gzip
import importlib
import io
import os
import re
from typing import IO, Iterator, Tuple, Union

from ..records import ParseError, Record

Source = Union[str, os.PathLike, IO]

# Order matters for detection: the most specific signatures first.
FORMATS = {
    "zotero-sqlite": "ingest.sources.zotero_sqlite",
    "pubmed-xml": "ingest.sources.pubmed_xml",
    "csl-json": "ingest.sources.csljson",
    "ris": "ingest.sources.ris",
    "medline": "ingest.sources.medline",
    "bibtex": "ingest.sources.bibtex",
    "bibpage": "ingest.sources.bibpage",
}

SQLITE_MAGIC = b"SQLite format 3\x00"
XML_ENCODING = re.compile(rb"""^(?:\xef\xbb\xbf)?\s*<\?xml\s[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
GZIP_MAGIC = b"\x1f\x8b"


def module_for(fmt: str):
    if fmt not in FORMATS:
        raise ParseError(f"unknown format {fmt!r}; known: {', '.join(FORMATS)}")
    return importlib.import_module(FORMATS[fmt])


def source_name(source: Source) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return getattr(source, "name", "<stream>")


def read_bytes(source: Source) -> bytes:
    """All bytes of a source, gunzipped when it is gzip-compressed (PubMed baseline files are)."""
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as fp:
            data = fp.read()
    else:
        data = source.read()
        data = data.encode("utf-8") if isinstance(data, str) else data
    if data.startswith(GZIP_MAGIC):
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise ParseError(f"damaged gzip file ({error})", source_name(source)) from None
    return data


def _head(path) -> bytes:
    with open(path, "rb") as fp:
        head = fp.read(65536)
    if head.startswith(GZIP_MAGIC):
        with gzip.open(path, "rb") as fp:
            try:
                return fp.read(65536)
            except (OSError, EOFError) as error:
                raise ParseError(f"damaged gzip file ({error})", source_name(path)) from None
    return head


def decode(data: bytes, name: str) -> str:
    """Bytes to text: UTF-8 (BOM dropped) or BOM-marked UTF-16/32; anything else is a clear error."""
    for bom, encoding in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError as error:
                raise ParseError(f"not valid {encoding} text ({error.reason})", name) from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        raise ParseError(
            f"not UTF-8 text: byte 0x{data[error.start]:02x} at offset {error.start} "
            "(save the file as UTF-8 and try again)",
            name,
            f"line {line}",
        ) from None


def read_text(source: Source) -> Tuple[str, str]:
    """(name, text) of a source, decoded, with CRLF/CR line endings made LF."""
    name = source_name(source)
    if isinstance(source, io.TextIOBase):
        text = source.read()
    else:
        text = decode(read_bytes(source), name)
    if "\x00" in text:
        raise ParseError("binary data (NUL bytes) in a text file", name)
    return name, text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")


def utf8_lines(source: Source) -> Iterator[Tuple[int, str]]:
    """(line number, text) of a UTF-8 file (gzip-compressed or not), read a line at a time.

    For formats whose records are lines (JSON Lines): memory stays that of one line, whatever the size
    of the file. A line that is not UTF-8 or holds a NUL byte raises ParseError naming it; the caller
    has already used the lines before it (the loader's transaction drops them with the file)."""
    name = source_name(source)
    with open(source, "rb") as raw:
        compressed = raw.read(2) == GZIP_MAGIC
    opened = gzip.open(source, "rb") if compressed else open(source, "rb")
    with opened as fp:
        number = 0
        try:
            for number, line in enumerate(fp, start=1):
                if number == 1 and line.startswith(codecs.BOM_UTF8):
                    line = line[len(codecs.BOM_UTF8):]
                try:
                    text = line.decode("utf-8")
                except UnicodeDecodeError as error:
                    raise ParseError(
                        f"not UTF-8 text: byte 0x{line[error.start]:02x} at column {error.start + 1} "
                        "(save the file as UTF-8 and try again)", name, f"line {number}") from None
                if "\x00" in text:
                    raise ParseError("binary data (NUL bytes) in a text file", name, f"line {number}")
                yield number, text
        except (OSError, EOFError) as error:
            raise ParseError(f"damaged gzip file ({error})", name, f"line {number + 1}") from None


def detect(source: Source) -> str:
    """Name of the format of ``source`` (a path), from its content."""
    name = source_name(source)
    head_bytes = _head(source)
    if head_bytes.startswith(SQLITE_MAGIC):
        return "zotero-sqlite"
    if not head_bytes.strip():
        raise ParseError("empty file", name)
    declared = XML_ENCODING.match(head_bytes)
    if declared and declared.group(1).decode("ascii").lower().replace("_", "-") not in ("utf-8", "utf8"):
        # XML says how it is encoded, and the XML parser reads it so: no UTF-8 to insist on.
        head = head_bytes.decode("latin-1")
    else:
        try:
            head = decode(head_bytes, name)
        except ParseError:
            # The first 64 KiB may end mid-character; only a real error counts.
            head = head_bytes.decode("utf-8", errors="ignore")
            decode(read_bytes(source), name)
    if "\x00" in head:
        raise ParseError(
            "format not recognised: NUL bytes in the file, so binary data, or UTF-16/UTF-32 text without "
            "a byte-order mark "
            "(save the file as UTF-8 and try again)",
            name,
            f"line {head.count(chr(10), 0, head.index(chr(0))) + 1}",
        )
    head = head.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    for fmt in FORMATS:
        if fmt == "zotero-sqlite":
            continue
        try:
            module = module_for(fmt)
        except ImportError:
            continue
        if module.sniff(head):
            return fmt
    if re.match(r"^(?:FN |VR |PT [A-Z]\b)", head.lstrip(), re.MULTILINE):
        raise ParseError(
            "Web of Science tagged format (FN/PT/AU … ER) is not supported; export the records as RIS "
            "or BibTeX from Web of Science instead",
            name,
            "line 1",
        )
    raise ParseError(
        "format not recognised (expected BibTeX, RIS, CSL-JSON, MEDLINE, PubMed XML, "
        "a Zotero database or a bibliography page); use --format to force one",
        name,
    )


def parse(source: Source, fmt: str | None = None, skip_bad: bool = False, errors=None) -> Iterator[Record]:
    """Records of ``source`` in format ``fmt`` (detected when None)."""
    fmt = fmt or detect(source)
    return module_for(fmt).parse(source, skip_bad=skip_bad, errors=errors)
