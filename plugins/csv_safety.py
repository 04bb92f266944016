"""CSV/TSV downloads that a spreadsheet cannot run: formula cells are neutralised (CSV injection).

A cell that begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
spreadsheets skip before reading a formula) is taken as a formula by Excel, LibreOffice and Google
Sheets; titles, abstracts and notes in a library come from anywhere. As OWASP's "CSV Injection" page
advises, such a cell gets a single quote in front (``'=HYPERLINK(…)``), which spreadsheets show as text.

A cell that is a plain number (``-12``, ``+3.5``, ``-1e-3``) is left alone, against OWASP's blanket
advice: it cannot be a formula, and prefixing it would turn the negative longitudes of the map, or any
negative value, into text. ``-2+3+cmd|' /C calc'!A0`` is no number and is prefixed.

Datasette's own CSV writer does not do this, so this is an ASGI wrapper around every response whose
path ends in ``.csv`` or ``.tsv`` (or whose type is ``text/csv``/``text/tab-separated-values``). It
rewrites the body as it streams (``?_stream=on`` downloads are never held in memory): a small state
machine follows the quoting across chunk boundaries and holds back at most the start of one cell
(a sign and up to ``NUMBER_LENGTH`` characters, while it may still be a number). Quoting stays valid:
the quote goes inside a quoted cell, and a quote is no special character in an unquoted one.
"""

from __future__ import annotations

import re
from typing import List, Optional

from datasette import hookimpl

TRIGGERS = frozenset(b"=+-@\t\r")
SIGNS = frozenset(b"+-")
QUOTE = ord('"')
LINE_ENDS = frozenset(b"\r\n")
NUMBER_BYTES = frozenset(b"0123456789.eE+-")
PREFIX = b"'"
# A cell that starts with a sign is held back until it is known to be a number or not; no number a
# database holds is longer than this.
NUMBER_LENGTH = 64
_NUMBER = re.compile(rb"[+-](?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
SAFE_TYPES = ("text/csv", "text/plain", "text/tab-separated-values")


class CellNeutraliser:
    """Feed it the bytes of a CSV (or TSV) file in chunks of any size; it returns them with every
    formula cell prefixed. Works on bytes: the characters it looks at are ASCII, and no byte of a
    multi-byte UTF-8 character is ASCII, so a chunk may end anywhere."""

    # States: at the start of a cell; inside an unquoted cell; inside a quoted cell; just after a
    # quote inside a quoted cell (an escaped quote or the end of the cell).
    START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED = range(4)

    def __init__(self, delimiter: bytes = b","):
        self.delimiter = delimiter[0]
        self._cell_end = re.compile(b"[" + re.escape(delimiter[:1]) + b"\r\n]")
        self.state = self.START
        self.first_content = False  # a quoted cell whose first character is still to come
        self.held: Optional[bytearray] = None  # a cell start held back: it may be a number
        self.held_quote = False  # a quote came after the held start of a quoted cell

    def feed(self, chunk: bytes) -> bytes:
        out = bytearray()
        position, end = 0, len(chunk)
        while position < end:
            if self.held is None and not self.held_quote:
                # Inside a cell nothing matters until its end (or, quoted, the next quote): copied
                # whole, so that a download streams at the speed of bytes, not of Python steps.
                if self.state == self.UNQUOTED:
                    found = self._cell_end.search(chunk, position)
                    stop = found.start() if found else end
                elif self.state == self.QUOTED and not self.first_content:
                    stop = chunk.find(b'"', position)
                    stop = end if stop < 0 else stop
                else:
                    stop = position
                if stop > position:
                    out += chunk[position:stop]
                    position = stop
                    if position == end:
                        break
            self._step(chunk[position], out)
            position += 1
        return bytes(out)

    def close(self) -> bytes:
        out = bytearray()
        self._release(out, whole_cell=True)
        if self.held_quote:
            self.held_quote = False
            out.append(QUOTE)
        return bytes(out)

    # ---- the state machine ---------------------------------------------------------------------

    def _step(self, byte: int, out: bytearray) -> None:
        if self.held_quote:
            # A quote after a held start in a quoted cell: the cell's end, or the first of an escaped pair.
            self.held_quote = False
            self._release(out, whole_cell=byte != QUOTE)
            out.append(QUOTE)
            self.state = self.QUOTE_IN_QUOTED
        elif self.held is not None:
            if self.state == self.QUOTED and byte == QUOTE:
                self.held_quote = True
                return
            if self._content_ends(byte):
                self._release(out, whole_cell=True)
            elif byte in NUMBER_BYTES and len(self.held) < NUMBER_LENGTH:
                self.held.append(byte)
                return
            else:
                self._release(out, whole_cell=False)
        if self.state == self.START:
            if byte == QUOTE:
                out.append(byte)
                self.state, self.first_content = self.QUOTED, True
                return
            if self._ends_cell(byte):
                out.append(byte)  # an empty cell
                return
            self.state = self.UNQUOTED
            if not self._begin_content(byte, out):
                out.append(byte)
            return
        if self.state == self.UNQUOTED:
            out.append(byte)
            if self._ends_cell(byte):
                self.state = self.START
            return
        if self.state == self.QUOTED:
            if byte == QUOTE:
                out.append(byte)
                self.state = self.QUOTE_IN_QUOTED
                return
            if self.first_content:
                self.first_content = False
                if self._begin_content(byte, out):
                    return
            out.append(byte)
            return
        # QUOTE_IN_QUOTED: the quote before was either the first of an escaped pair or the closing one.
        out.append(byte)
        self.first_content = False
        if byte == QUOTE:
            self.state = self.QUOTED
        elif self._ends_cell(byte):
            self.state = self.START
        else:
            self.state = self.UNQUOTED  # not valid CSV: the rest of the cell passes through

    def _ends_cell(self, byte: int) -> bool:
        return byte == self.delimiter or byte in LINE_ENDS

    def _content_ends(self, byte: int) -> bool:
        return byte == QUOTE if self.state == self.QUOTED else self._ends_cell(byte)

    def _begin_content(self, byte: int, out: bytearray) -> bool:
        """At a cell's first character: hold back a sign, or prefix another trigger. True: consumed."""
        if byte in SIGNS:
            self.held = bytearray([byte])
            return True
        if byte in TRIGGERS:
            out += PREFIX
        return False

    def _release(self, out: bytearray, whole_cell: bool) -> None:
        """Write a held cell start: as it is when the whole cell is a number, else prefixed."""
        if self.held is None:
            return
        held, self.held = bytes(self.held), None
        if not (whole_cell and _NUMBER.fullmatch(held)):
            out += PREFIX
        out += held


def _header(headers: List[tuple], name: bytes) -> Optional[bytes]:
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def _is_delimited(scope, headers: List[tuple]) -> Optional[bytes]:
    """The delimiter of a CSV/TSV response, or None for any other response."""
    content_type = (_header(headers, b"content-type") or b"").decode("latin-1").split(";")[0].strip().lower()
    path = scope.get("path", "")
    if content_type == "text/tab-separated-values" or (path.endswith(".tsv") and content_type in SAFE_TYPES):
        return b"\t"
    if content_type == "text/csv" or (path.endswith(".csv") and content_type in SAFE_TYPES):
        return b","
    return None


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def neutralising_app(scope, receive, send):
            if scope.get("type") != "http":
                await app(scope, receive, send)
                return
            neutraliser: List[Optional[CellNeutraliser]] = [None]

            async def neutralising_send(message):
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers") or [])
                    delimiter = _is_delimited(scope, headers)
                    if delimiter is not None:
                        neutraliser[0] = CellNeutraliser(delimiter)
                        # The body grows by a byte per neutralised cell.
                        headers = [(k, v) for k, v in headers if k.lower() != b"content-length"]
                        message = dict(message, headers=headers)
                elif message["type"] == "http.response.body" and neutraliser[0] is not None:
                    body = neutraliser[0].feed(message.get("body", b""))
                    if not message.get("more_body", False):
                        body += neutraliser[0].close()
                    message = dict(message, body=body)
                await send(message)

            await app(scope, receive, neutralising_send)

        return neutralising_app

    return wrap
