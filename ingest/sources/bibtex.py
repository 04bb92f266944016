"""BibTeX and BibLaTeX files → canonical records.

bibtexparser 2 splits the file into blocks, and its middlewares do the generic work: ``@string``
references, enclosing braces and quotes, field names in any case, month macros, splitting co-authors
and name parts, LaTeX → Unicode. This module adds only what they do not do, each for a reason given
where it is done:

- ``#`` concatenation (``author = stefan # " and " # xavier``) and a missing comma between two fields;
- LaTeX: name parts are decoded too, url/doi/eprint are not LaTeX, ``%`` is a percent sign and not a
  comment, math sub/superscripts become Unicode (``DNA$_2$`` → ``DNA₂``) or ``<sub>``/``<sup>``,
  ``\\textit``/``\\textbf``/``\\textsc`` become the rich-text markup CSL and Zotero use;
- names: ``{World Health Organization}`` (one braced token) is a literal, ``and others`` is no person;
- BibLaTeX data inheritance (``crossref``, ``xdata``), ``date`` ranges, ``@set``/``@xdata`` (not works);
- entry types and fields onto CSL variables, following Zotero's BibTeX import translator.

Errors. bibtexparser does not raise on bad input: it returns failed blocks. ``parse`` turns every
failed block, a repeated cite key and text after an entry that looks like its lost fields (an extra
``}`` closed the entry early) into a ``ParseError`` naming the file, the line and the entry. By default
the first one is raised before any record is yielded (a file loads whole or not at all).
``parse(source, skip_bad=True)`` yields the good entries instead and lists one ``ParseError`` per bad
entry in the ``errors`` of the ``RecordStream`` it returns (the list passed as ``errors``, if any);
a file with no good entry at all still raises.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass, field as dataclass_field
from typing import Dict, Iterator, List, Optional, Tuple

import bibtexparser
from bibtexparser.library import Library
from bibtexparser.middlewares import (
    LatexDecodingMiddleware,
    MonthIntMiddleware,
    NormalizeFieldKeys,
    RemoveEnclosingMiddleware,
    ResolveStringReferencesMiddleware,
    SeparateCoAuthors,
    SplitNameParts,
)
from bibtexparser.middlewares.middleware import BlockMiddleware, LibraryMiddleware
from bibtexparser.middlewares.names import NameParts, parse_single_name_into_parts
from bibtexparser.model import (
    DuplicateBlockKeyBlock,
    DuplicateFieldKeyBlock,
    Entry,
    Field,
    ImplicitComment,
    MiddlewareErrorBlock,
    ParsingFailedBlock,
    String,
)
from pylatexenc import latexwalker, macrospec
from pylatexenc.latex2text import (
    LatexNodes2Text,
    MacroTextSpec,
    SpecialsTextSpec,
    get_default_latex_context_db,
)

from ..normalize import PARTICLES, normalize_doi, normalize_issns, normalize_pmcid, normalize_pmid, parse_date
from ..records import ParseError, Record, RecordStream
from . import Source, read_text

# Failed blocks become ParseErrors here; bibtexparser's own warnings about them would only be noise.
logging.getLogger("bibtexparser").addHandler(logging.NullHandler())

_ENTRY_START = re.compile(r"^[ \t]*@[A-Za-z][\w-]*[ \t]*[{(]", re.MULTILINE)


def sniff(head: str) -> bool:
    """An ``@type{`` or ``@type(`` at the start of a line, in a file that is not HTML/XML."""
    if head.lstrip()[:1] == "<":
        return False
    return bool(_ENTRY_START.search(head))


# --- entry types and fields ---------------------------------------------------------------------

# BibTeX/BibLaTeX entry type → CSL type, as Zotero's BibTeX translator reads them (its item types
# through Zotero's own CSL mapping); BibLaTeX types Zotero drops get their nearest CSL type.
CSL_TYPES: Dict[str, str] = {
    "article": "article-journal",
    "suppperiodical": "article-journal",
    "periodical": "periodical",
    "book": "book",
    "mvbook": "book",
    "booklet": "book",
    "manual": "book",
    "proceedings": "book",
    "mvproceedings": "book",
    "collection": "book",
    "mvcollection": "book",
    "reference": "book",
    "mvreference": "book",
    "inbook": "chapter",
    "incollection": "chapter",
    "bookinbook": "chapter",
    "suppbook": "chapter",
    "suppcollection": "chapter",
    "inreference": "entry-encyclopedia",
    "inproceedings": "paper-conference",
    "conference": "paper-conference",
    "phdthesis": "thesis",
    "mastersthesis": "thesis",
    "thesis": "thesis",
    "techreport": "report",
    "report": "report",
    "misc": "document",
    "online": "webpage",
    "electronic": "webpage",
    "www": "webpage",
    "webpage": "webpage",
    "unpublished": "manuscript",
    "patent": "patent",
    "software": "software",
    "dataset": "dataset",
    "letter": "personal_communication",
    "movie": "motion_picture",
    "video": "motion_picture",
    "audio": "song",
    "artwork": "graphic",
    "legislation": "bill",
    "jurisdiction": "legal_case",
    "standard": "standard",
}
UNKNOWN_TYPE = "document"

# Entries that hold data for other entries, not works of their own.
NOT_WORKS = {"set", "xdata"}

# BibLaTeX ``entrysubtype`` of an article that says which kind of periodical it is in.
ARTICLE_SUBTYPES = {"magazine": "article-magazine", "newspaper": "article-newspaper"}

THESIS_GENRES = {"phdthesis": "PhD Thesis", "mastersthesis": "Master's Thesis", "mathesis": "Master's Thesis"}

NAME_FIELDS = ("author", "editor", "translator", "bookauthor")
NAME_ROLES = {"author": "author", "editor": "editor", "translator": "translator", "bookauthor": "container-author"}

# Not LaTeX: a % or _ in a URL is literal, and braces around a DOI are not casing.
# EDTF dates use ~ and % (approximate, uncertain); keys are keys. Keywords are decoded one by one
# after splitting on , and ; (keyword_tags).
VERBATIM_FIELDS = {"url", "doi", "eprint", "file", "pdf", "urlraw", "verba", "verbb", "verbc", "sentelink",
                   "local-url", "date", "urldate", "eventdate", "origdate", "crossref", "xdata", "xref",
                   "entryset", "ids", "keywords"}

# Identifiers Zotero keeps as "Label: value" lines in Extra, which is CSL's note.
# (arxivid is Mendeley's.)
EXTRA_ID_FIELDS = {"lccn": "LCCN", "mrnumber": "MR", "zmnumber": "Zbl", "arxivid": "arXiv"}
EPRINT_LABELS = {"arxiv": "arXiv", "jstor": "JSTOR", "hdl": "HDL", "googlebooks": "GoogleBooksID"}
NOTE_FIELDS = ("note", "annote", "annotation", "comment", "review", "notes")

MONTH_NAMES = ["january", "february", "march", "april", "may", "june", "july", "august", "september",
               "october", "november", "december"]


# --- middlewares: what bibtexparser's own do not do ----------------------------------------------


class RecoverRepeatedFields(BlockMiddleware):
    """A field given twice: the first value counts and the entry is kept, as BibTeX itself does
    (bibtexparser turns such an entry into a failed block). Repeated keywords are joined."""

    def __init__(self):
        super().__init__(allow_inplace_modification=True, allow_parallel_execution=True)

    def transform_entry(self, entry: Entry, library: Library) -> Entry:
        entry.fields = first_of_each_field(entry.fields)
        return entry

    def transform_failed_block(self, failed_block, library):
        if isinstance(failed_block, DuplicateFieldKeyBlock):
            entry = failed_block.ignore_error_block
            entry.fields = first_of_each_field(entry.fields)
            return entry
        return failed_block


def first_of_each_field(fields: List[Field]) -> List[Field]:
    kept: Dict[str, Field] = {}
    for item in fields:
        key = item.key.lower()
        if key not in kept:
            kept[key] = item
        elif key in ("keywords", "keyword") and isinstance(item.value, str):
            first = kept[key]
            first.value = "{" + unenclosed(first.value) + ", " + unenclosed(item.value) + "}"
    return list(kept.values())


def unenclosed(raw: str) -> str:
    operands = split_value(raw)
    if operands and len(operands) == 1 and operands[0][0] == "text":
        return operands[0][1]
    return raw.strip()


class ValueSyntaxError(ValueError):
    pass


def split_value(raw: str) -> Optional[List[Tuple[str, str]]]:
    """A raw field value as its ``#``-separated operands: ``("text", inner)`` for ``{…}``/``"…"``,
    ``("name", word)`` for a macro name or number. None when it is not a valid value."""
    try:
        operands, rest = _operands(raw)
    except ValueSyntaxError:
        return None
    return operands if not rest.strip() else None


_BARE_WORD = re.compile(r"[^\s#{}\"=,]+")  # a macro name or a number


def _operands(raw: str) -> Tuple[List[Tuple[str, str]], str]:
    """Operands up to the end of a valid value, and what follows it (empty for a clean value)."""
    operands: List[Tuple[str, str]] = []
    position = 0
    length = len(raw)
    while True:
        while position < length and raw[position].isspace():
            position += 1
        if position >= length:
            raise ValueSyntaxError("value missing")
        char = raw[position]
        if char == "{":
            end = _closing_brace(raw, position)
            operands.append(("text", raw[position + 1:end]))
            position = end + 1
        elif char == '"':
            end = _closing_quote(raw, position)
            operands.append(("text", raw[position + 1:end]))
            position = end + 1
        else:
            match = _BARE_WORD.match(raw, position)
            if not match:
                raise ValueSyntaxError(f"unexpected {char!r}")
            operands.append(("name", match.group(0)))
            position = match.end()
        while position < length and raw[position].isspace():
            position += 1
        if position < length and raw[position] == "#":
            position += 1
            continue
        return operands, raw[position:]


def _closing_brace(raw: str, start: int) -> int:
    # bibtexparser's splitter convention: a brace directly after a backslash is escaped.
    depth = 0
    for index in range(start, len(raw)):
        char = raw[index]
        if char in "{}" and index > 0 and raw[index - 1] == "\\":
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    raise ValueSyntaxError("unbalanced braces")


def _closing_quote(raw: str, start: int) -> int:
    depth = 0
    for index in range(start + 1, len(raw)):
        char = raw[index]
        if char in "{}" and raw[index - 1] == "\\":
            continue
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
        elif char == '"' and depth == 0:
            return index
    raise ValueSyntaxError("unclosed quote")


_FIELD_START = re.compile(r"([A-Za-z][\w:.+/-]*)\s*=")


class ResolveConcatenation(LibraryMiddleware):
    """``#`` concatenation in @string definitions and fields, which ResolveStringReferencesMiddleware
    leaves alone (it only replaces a value that is one macro name); also splits two fields run
    together by a missing comma (``title = {A}`` newline ``year = 2001``), as Zotero reads them, and
    rejects a value that is no valid BibTeX value."""

    def __init__(self):
        super().__init__(allow_inplace_modification=True)

    def transform(self, library: Library) -> Library:
        # Month macros are predefined by BibTeX's standard styles.
        macros: Dict[str, str] = {name[:3]: name.capitalize() for name in MONTH_NAMES}
        blocks = []
        for block in library.blocks:
            if isinstance(block, String):
                operands = split_value(block.value) if isinstance(block.value, str) else None
                if operands and (len(operands) > 1 or operands[0][0] == "name"):
                    block.value = "{" + self._joined(operands, macros) + "}"
                if operands:
                    macros[block.key.lower()] = unenclosed(block.value)
                blocks.append(block)
            elif isinstance(block, Entry):
                blocks.append(self._transform_entry(block, macros))
            else:
                blocks.append(block)
        return Library(blocks=blocks, fail_on_duplicate_key=False)

    @staticmethod
    def _joined(operands, macros) -> str:
        parts = []
        for kind, text in operands:
            if kind == "text":
                parts.append(text)
            else:
                # An undefined macro is kept as written (as Zotero does), not dropped (as BibTeX does).
                parts.append(macros.get(text.lower(), text))
        return "".join(parts)

    def _transform_entry(self, entry: Entry, macros):
        fields: List[Field] = []
        seen = {item.key.lower() for item in entry.fields}
        for item in entry.fields:
            raw = item.value
            pending = [(item.key, raw)]
            while pending:
                key, raw = pending.pop(0)
                if not raw.strip():
                    continue  # "pages = ," : an empty value, as Zotero reads it
                try:
                    operands, rest = _operands(raw)
                except ValueSyntaxError as error:
                    return MiddlewareErrorBlock(
                        entry, ValueError(f"field {key!r} (line {item.start_line + 1}): {error}")
                    )
                following = _FIELD_START.match(rest)
                if rest.strip() and not following:
                    return MiddlewareErrorBlock(
                        entry,
                        ValueError(
                            f"field {key!r} (line {item.start_line + 1}): unexpected text after the value: "
                            f"{rest.strip()[:40]!r}"
                        ),
                    )
                if len(operands) > 1:
                    value = "{" + self._joined(operands, macros) + "}"
                else:
                    value = raw[: len(raw) - len(rest)].strip() if rest else raw
                fields.append(Field(key, value, item.start_line))
                if following:
                    next_key = following.group(1)
                    if next_key.lower() not in seen:
                        seen.add(next_key.lower())
                        pending.append((next_key, rest[following.end():]))
        entry.fields = fields
        return entry


@dataclass
class WrittenName(NameParts):
    """Name parts plus how the name was written: ``inverted`` when "Last, First" (a comma)."""

    inverted: bool = False


class LenientSplitNameParts(SplitNameParts):
    """SplitNameParts in bibtexparser's non-strict mode (BibTeX itself reads "Smith, J., Jr, X" and
    unbalanced braces in a name without failing the entry), remembering the written form."""

    def _transform_field_value(self, names):
        out = []
        for name in names:
            parts = parse_single_name_into_parts(name, strict=False)
            out.append(
                WrittenName(parts.first, parts.von, parts.last, parts.jr, inverted=has_top_level_comma(name))
            )
        return out


def has_top_level_comma(name: str) -> bool:
    depth = 0
    for index, char in enumerate(name):
        if char == "{" and (index == 0 or name[index - 1] != "\\"):
            depth += 1
        elif char == "}" and (index == 0 or name[index - 1] != "\\"):
            depth = max(depth - 1, 0)
        elif char == "," and depth == 0:
            return True
    return False


# --- LaTeX → Unicode ----------------------------------------------------------------------------

_SUPERSCRIPTS = dict(zip("0123456789+-=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱ"))
_SUBSCRIPTS = dict(zip("0123456789+-=()", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎"))


def _script(tag: str, table: Dict[str, str]):
    """Unicode sub/superscript characters when every character has one, else ``<sub>``/``<sup>``
    (Zotero's choice: ``DNA₂``, ``Σ⁰``, but ``4<sup>ème</sup>``)."""

    def render(node, l2tobj):
        arguments = node.nodeargd.argnlist if node.nodeargd else []
        content = l2tobj.nodelist_to_text([arg for arg in arguments[-1:] if arg is not None]).strip()
        if content and all(char in table for char in content):
            return "".join(table[char] for char in content)
        return f"<{tag}>{content}</{tag}>" if content else ""

    return render


# Journal macros of the AAS journals' BibTeX style, which NASA ADS exports use (journal = {\\apj}).
AAS_JOURNALS = {
    "aj": "Astronomical Journal", "actaa": "Acta Astronomica",
    "araa": "Annual Review of Astronomy and Astrophysics", "apj": "Astrophysical Journal",
    "apjl": "Astrophysical Journal Letters", "apjs": "Astrophysical Journal Supplement",
    "ao": "Applied Optics", "apss": "Astrophysics and Space Science", "aap": "Astronomy and Astrophysics",
    "aapr": "Astronomy and Astrophysics Reviews", "aaps": "Astronomy and Astrophysics Supplement",
    "baas": "Bulletin of the American Astronomical Society", "icarus": "Icarus",
    "jcap": "Journal of Cosmology and Astroparticle Physics", "jgr": "Journal of Geophysical Research",
    "memras": "Memoirs of the Royal Astronomical Society",
    "mnras": "Monthly Notices of the Royal Astronomical Society",
    "na": "New Astronomy", "nar": "New Astronomy Review", "nat": "Nature",
    "pasa": "Publications of the Astronomical Society of Australia",
    "pasj": "Publications of the Astronomical Society of Japan",
    "pasp": "Publications of the Astronomical Society of the Pacific", "physrep": "Physics Reports",
    "pra": "Physical Review A", "prb": "Physical Review B", "prc": "Physical Review C", "prd": "Physical Review D",
    "pre": "Physical Review E", "prl": "Physical Review Letters", "planss": "Planetary and Space Science",
    "procspie": "Proceedings of the SPIE", "qjras": "Quarterly Journal of the Royal Astronomical Society",
    "solphys": "Solar Physics", "ssr": "Space Science Reviews",
}


def _text_context():
    context = get_default_latex_context_db()
    context.add_context_category(
        "refsette-bibtex",
        prepend=True,
        macros=[
            MacroTextSpec("textit", simplify_repl="<i>%s</i>"),
            MacroTextSpec("emph", simplify_repl="<i>%s</i>"),
            MacroTextSpec("textsl", simplify_repl="<i>%s</i>"),
            MacroTextSpec("textbf", simplify_repl="<b>%s</b>"),
            MacroTextSpec("textsc", simplify_repl='<span style="font-variant:small-caps;">%s</span>'),
            MacroTextSpec("textsuperscript", simplify_repl=_script("sup", _SUPERSCRIPTS)),
            MacroTextSpec("textsubscript", simplify_repl=_script("sub", _SUBSCRIPTS)),
            MacroTextSpec("mbox", simplify_repl="%s"),
            MacroTextSpec("hbox", simplify_repl="%s"),
            MacroTextSpec("url", simplify_repl="%s"),
            MacroTextSpec("href", simplify_repl="%(2)s"),
            MacroTextSpec("textquotesingle", simplify_repl="'"),
            MacroTextSpec("textquotedbl", simplify_repl='"'),
            MacroTextSpec("textasciitilde", simplify_repl="~"),
            MacroTextSpec("textasciicircum", simplify_repl="^"),
            MacroTextSpec("textunderscore", simplify_repl="_"),
            MacroTextSpec("textbar", simplify_repl="|"),
            MacroTextSpec("textless", simplify_repl="<"),
            MacroTextSpec("textgreater", simplify_repl=">"),
            MacroTextSpec("TeX", simplify_repl="TeX"),
            MacroTextSpec("LaTeX", simplify_repl="LaTeX"),
            MacroTextSpec("BibTeX", simplify_repl="BibTeX"),
        ] + [MacroTextSpec(macro, simplify_repl=title) for macro, title in AAS_JOURNALS.items()],
        # An unescaped & in a field is an ampersand, not a table column separator.
        specials=[SpecialsTextSpec("&", "&")],
    )
    return context


def _parse_context():
    context = latexwalker.get_default_latex_context_db()
    context.add_context_category(
        "refsette-bibtex",
        prepend=True,
        macros=[
            macrospec.MacroSpec("textsuperscript", "{"),
            macrospec.MacroSpec("textsubscript", "{"),
            macrospec.MacroSpec("href", "{{"),
            macrospec.MacroSpec("mbox", "{"),
            macrospec.MacroSpec("hbox", "{"),
        ],
    )
    return context


_NEEDS_LATEX = re.compile(r"[\\{}$~%&^_#]")
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
_UNESCAPED_DOLLAR = re.compile(r"(?<!\\)\$")
# \~ with nothing to put the tilde on: the character itself (Zotero reads it as U+223C, tilde operator).
_LONE_TILDE = re.compile(r"\\~(?:\{\}|(?![A-Za-z{\\]))")
_MATH = re.compile(r"(?<!\\)\$(.+?)(?<!\\)\$", re.DOTALL)
_TAGS = re.compile(r"</?(?:i|b|sup|sub|span)(?:\s[^>]*)?>")  # the markup the decoder writes


class BibDecoder(LatexNodes2Text):
    """LaTeX → text with the macros a bibliography uses. The text is prepared first (why: pylatexenc
    reads LaTeX documents, and a .bib field is not one): ``%`` is a percent sign, an unpaired ``$`` is
    a dollar sign, an unmatched brace is kept as a character, math ``^``/``_`` become
    ``\\textsuperscript``/``\\textsubscript``."""

    def __init__(self):
        super().__init__(latex_context=_text_context(), math_mode="text")
        self._parse_context = _parse_context()

    def latex_to_text(self, latex, **parse_flags):
        return self._cached(latex)

    @functools.lru_cache(maxsize=65536)  # names and journals repeat through a library
    def _cached(self, latex: str) -> str:
        if not _NEEDS_LATEX.search(latex):
            return collapse(_typographic(latex))
        prepared = prepare_latex(latex)
        try:
            walker = latexwalker.LatexWalker(prepared, latex_context=self._parse_context, tolerant_parsing=True)
            nodes, _, _ = walker.get_latex_nodes()
            return collapse(self.nodelist_to_text(nodes))
        except (AttributeError, IndexError, KeyError, TypeError, ValueError):
            # pylatexenc's specs for document macros (\date, \verb, \input, \href …) index arguments
            # that a field may not give them: such a field is read as text without its macros.
            return plain_text(prepared)


_LATEX_ESCAPE_OR_MACRO = re.compile(r"\\(?:([^A-Za-z])|[A-Za-z]+\*?)|[{}]")


def plain_text(latex: str) -> str:
    """LaTeX with its macros and grouping braces dropped and its escaped characters kept."""
    return collapse(_typographic(_LATEX_ESCAPE_OR_MACRO.sub(lambda match: match.group(1) or "", latex)))


def _typographic(text: str) -> str:
    """TeX ligatures of plain text, as pylatexenc renders them (the fast path skips pylatexenc)."""
    return text.replace("---", "\u2014").replace("--", "\u2013").replace("``", "\u201c").replace("''", "\u201d")


def collapse(text: str) -> str:
    """Line wrapping, tabs and ties (``~`` → no-break space) are layout: one space."""
    return re.sub(r"\s+", " ", text).strip()


def prepare_latex(text: str) -> str:
    text = _UNESCAPED_PERCENT.sub(r"\\%", text)
    text = _LONE_TILDE.sub("\u223c", text)
    if len(_UNESCAPED_DOLLAR.findall(text)) % 2:
        text = _UNESCAPED_DOLLAR.sub(r"\\$", text)
    text = _MATH.sub(lambda match: "$" + math_scripts(match.group(1)) + "$", text)
    return escape_unmatched_braces(text)


def math_scripts(math: str) -> str:
    """``^{0}`` → ``\\textsuperscript{0}``, ``_2`` → ``\\textsubscript{2}`` inside math."""
    out = []
    index = 0
    while index < len(math):
        char = math[index]
        if char in "^_" and (index == 0 or math[index - 1] != "\\") and index + 1 < len(math):
            macro = "\\textsuperscript" if char == "^" else "\\textsubscript"
            start = index + 1
            if math[start] == "{":
                try:
                    end = _closing_brace(math, start) + 1
                except ValueSyntaxError:
                    end = len(math)
                argument = math[start:end]
            elif math[start] == "\\":
                word = re.match(r"\\(?:[A-Za-z]+|.)", math[start:])
                argument = "{" + word.group(0) + "}"
                end = start + len(word.group(0))
            else:
                argument = "{" + math[start] + "}"
                end = start + 1
            out.append(macro + argument)
            index = end
            continue
        out.append(char)
        index += 1
    return "".join(out)


def escape_unmatched_braces(text: str) -> str:
    opened: List[int] = []
    unmatched: List[int] = []
    for index, char in enumerate(text):
        if char in "{}" and index > 0 and text[index - 1] == "\\" and not _escaped_backslash(text, index - 1):
            continue
        if char == "{":
            opened.append(index)
        elif char == "}":
            if opened:
                opened.pop()
            else:
                unmatched.append(index)
    unmatched.extend(opened)
    for index in sorted(unmatched, reverse=True):
        text = text[:index] + "\\" + text[index:]
    return text


def _escaped_backslash(text: str, index: int) -> bool:
    """Whether the backslash at ``index`` is itself escaped (``\\\\``)."""
    count = 0
    while index >= 0 and text[index] == "\\":
        count += 1
        index -= 1
    return count % 2 == 0


_VERBATIM_ESCAPES = re.compile(r"\\([_%#&$~])")


def unescape_verbatim(value: str) -> str:
    """``{https://x.org/a\\_b}`` → ``https://x.org/a_b``: escapes written for BibTeX's sake."""
    value = value.strip()
    match = re.fullmatch(r"\\(?:url|href)\{(.*?)\}(?:\{.*\})?", value, re.DOTALL)
    if match:
        value = match.group(1)
    while value.startswith("{") and value.endswith("}"):
        value = value[1:-1].strip()
    return _VERBATIM_ESCAPES.sub(r"\1", value).replace("$\\backslash$", "\\")


class DecodeLatex(LatexDecodingMiddleware):
    """The stock middleware with a bibliography decoder, keeping verbatim fields (url, doi, eprint)
    out of LaTeX and decoding name parts too (the stock middleware skips lists of names)."""

    def __init__(self, decoder: "BibDecoder"):
        super().__init__(decoder=decoder)

    def transform_entry(self, entry: Entry, library: Library):
        order = [item.key for item in entry.fields]
        set_aside = [
            item for item in entry.fields if item.key in VERBATIM_FIELDS or isinstance(item.value, list)
        ]
        entry.fields = [item for item in entry.fields if item not in set_aside]
        result = super().transform_entry(entry, library)
        target = result.ignore_error_block if isinstance(result, MiddlewareErrorBlock) else result
        for item in set_aside:
            if isinstance(item.value, list):
                item.value = [self._decode_name(name) for name in item.value]
            elif item.key != "keywords":
                item.value = unescape_verbatim(item.value) if isinstance(item.value, str) else item.value
        target.fields = sorted(target.fields + set_aside, key=lambda item: order.index(item.key))
        return result

    def _decode_name(self, name):
        if not isinstance(name, NameParts):
            return name

        def decode(words):
            return [_TAGS.sub("", self._decoder.latex_to_text(word)) for word in words]

        name.first, name.von, name.last, name.jr = (
            decode(name.first), decode(name.von), decode(name.last), decode(name.jr)
        )
        return name


_DECODER = BibDecoder()


def parse_stack():
    return [
        RecoverRepeatedFields(),
        NormalizeFieldKeys(),
        ResolveConcatenation(),
        ResolveStringReferencesMiddleware(),
        RemoveEnclosingMiddleware(),
        MonthIntMiddleware(),
        SeparateCoAuthors(name_fields=NAME_FIELDS),
        LenientSplitNameParts(name_fields=NAME_FIELDS),
        DecodeLatex(_DECODER),
    ]


# --- parsing ------------------------------------------------------------------------------------


@dataclass
class ParsedEntry:
    entry_type: str
    key: str
    line: int
    fields: Dict[str, object] = dataclass_field(default_factory=dict)


def parse(
    source: Source, skip_bad: bool = False, errors: Optional[List[ParseError]] = None
) -> RecordStream:
    """Records of a BibTeX/BibLaTeX file. See the module docstring for ``skip_bad`` and ``errors``."""
    errors = [] if errors is None else errors
    return RecordStream(_records(source, skip_bad, errors), errors)


def _records(source: Source, skip_bad: bool, errors: List[ParseError]) -> Iterator[Record]:
    name, text = read_text(source)
    entries, problems = read_library(text, name)
    if problems and (not skip_bad or not entries):
        first = problems[0]
        if len(problems) > 1:
            more = f" (and {len(problems) - 1} more bad entries)"
            first = ParseError(first.message + more, first.path, first.location)
        raise first
    errors.extend(problems)
    resolve_inheritance(entries)
    for entry in entries:
        if entry.entry_type not in NOT_WORKS:
            yield entry_to_record(entry)


def read_library(text: str, name: str) -> Tuple[List[ParsedEntry], List[ParseError]]:
    """The good entries of a file, and one ParseError per bad one."""
    library = bibtexparser.parse_string(text, parse_stack=parse_stack())
    entries: List[ParsedEntry] = []
    problems: List[ParseError] = []
    meaningful = False
    previous: Optional[ParsedEntry] = None
    for block in library.blocks:
        if isinstance(block, Entry):
            meaningful = True
            previous = ParsedEntry(block.entry_type.lower(), block.key, block.start_line + 1,
                                   {item.key: item.value for item in block.fields})
            entries.append(previous)
        elif isinstance(block, DuplicateBlockKeyBlock) and isinstance(block.ignore_error_block, String):
            meaningful = True  # @string defined twice: the first definition holds, as in BibTeX
        elif isinstance(block, ParsingFailedBlock):
            meaningful = True
            problems.append(failed_block_error(block, name))
            previous = None
        elif isinstance(block, ImplicitComment):
            stray = lost_fields(block.comment)
            if stray and previous is not None:
                entries.remove(previous)
                problems.append(ParseError(
                    f"@{previous.entry_type} {previous.key!r}: text after the end of the entry looks like "
                    f"more of its fields ({stray!r}): a closing brace too many?",
                    name, f"line {previous.line}",
                ))
                previous = None
            elif block.comment.strip():
                previous = None
        else:
            meaningful = True
            previous = None
    if not meaningful and text.strip():
        raise ParseError("no BibTeX entries found (no @type{key, …} in the file)", name)
    return entries, problems


_LOST_FIELD = re.compile(r"^\s*,?\s*([A-Za-z][\w-]*\s*=\s*[^\s].{0,30})")


def lost_fields(comment: str) -> Optional[str]:
    match = _LOST_FIELD.match(comment or "")
    return match.group(1).split("\n")[0] if match else None


_BLOCK_HEAD = re.compile(r"@\s*([A-Za-z][\w-]*)\s*[{(]\s*([^,\s=]*)")


def failed_block_error(block: ParsingFailedBlock, name: str) -> ParseError:
    head = _BLOCK_HEAD.match(block.raw or "")
    entry_type, key = (head.group(1).lower(), head.group(2)) if head else ("entry", "")
    if isinstance(block, DuplicateBlockKeyBlock):
        key = block.key
        first_line = (block.previous_block.start_line or 0) + 1
        message = f"cite key {key!r} is already used by the entry on line {first_line}"
    else:
        reason = getattr(block.error, "abort_reason", None) or str(block.error)
        message = reason.strip()
        if "end of file" in message or "Unexpected block start" in message or "unbalanced" in message:
            message += " (unbalanced braces or quotes?)"
    what = f"@{entry_type} {key!r}" if key else f"@{entry_type}"
    return ParseError(f"{what}: {message}", name, f"line {(block.start_line or 0) + 1}")


# --- BibLaTeX data inheritance ------------------------------------------------------------------

NEVER_INHERITED = {
    "ids", "crossref", "xref", "xdata", "entryset", "entrysubtype", "execute", "label", "options",
    "presort", "related", "relatedoptions", "relatedstring", "relatedtype", "shorthand",
    "shorthandintro", "sortkey",
}
TITLE_ONLY = {"shorttitle", "sorttitle", "indextitle", "indexsorttitle"}
MULTIVOLUME = {"mvbook", "mvcollection", "mvreference", "mvproceedings"}
BOOKLIKE = {"book", "collection", "reference", "proceedings", "booklet", "manual"}
IN_BOOK = {"inbook", "bookinbook", "suppbook", "incollection", "inreference", "suppcollection",
           "inproceedings", "conference"}


def title_prefix(parent_type: str, child_type: str) -> Optional[str]:
    """Where a parent's title goes in the child (biblatex manual, appendix B): ``book`` →
    booktitle, ``main`` → maintitle, ``journal`` → journaltitle; None: same-name inheritance."""
    if parent_type in MULTIVOLUME and (child_type in IN_BOOK or child_type in BOOKLIKE):
        return "main"
    if parent_type in BOOKLIKE and child_type in IN_BOOK:
        return "book"
    if parent_type == "periodical" and child_type in ("article", "suppperiodical"):
        return "journal"
    return None


def resolve_inheritance(entries: List[ParsedEntry]) -> None:
    """Fill each entry's missing fields from its ``xdata`` and ``crossref`` entries (recursively)."""
    by_key: Dict[str, ParsedEntry] = {}
    for entry in entries:
        by_key.setdefault(entry.key, entry)
        by_key.setdefault(entry.key.lower(), entry)
    done: set = set()
    for entry in entries:
        _resolve(entry, by_key, done, ())


def _resolve(entry: ParsedEntry, by_key, done: set, chain: tuple) -> None:
    if id(entry) in done or id(entry) in chain or len(chain) > 8:
        return
    chain = chain + (id(entry),)
    fields = entry.fields
    for key in re.split(r"\s*,\s*", str(fields.get("xdata") or "").strip()):
        source = by_key.get(key) or by_key.get(key.lower())
        if key and source is not None:
            _resolve(source, by_key, done, chain)
            for name, value in source.fields.items():
                if name not in NEVER_INHERITED:
                    fields.setdefault(name, value)
    parent_key = str(fields.get("crossref") or "").strip()
    parent = by_key.get(parent_key) or by_key.get(parent_key.lower()) if parent_key else None
    if parent is not None and parent is not entry:
        _resolve(parent, by_key, done, chain)
        prefix = title_prefix(parent.entry_type, entry.entry_type)
        if prefix:
            for suffix in ("title", "subtitle", "titleaddon"):
                if suffix in parent.fields:
                    fields.setdefault(prefix + suffix, parent.fields[suffix])
        book_part = entry.entry_type in ("inbook", "bookinbook", "suppbook")
        if book_part and parent.entry_type in BOOKLIKE | MULTIVOLUME:
            if "author" in parent.fields:
                fields.setdefault("bookauthor", parent.fields["author"])
        for name, value in parent.fields.items():
            if name in NEVER_INHERITED:
                continue
            if prefix and (name in TITLE_ONLY or name in ("title", "subtitle", "titleaddon")):
                continue
            fields.setdefault(name, value)
    done.add(id(entry))


# --- entry → record -----------------------------------------------------------------------------


def entry_to_record(entry: ParsedEntry) -> Record:
    fields = {name: value for name, value in entry.fields.items() if not _empty(value)}
    entry_type = entry.entry_type
    csl_type = CSL_TYPES.get(entry_type, UNKNOWN_TYPE)
    if csl_type == "article-journal":
        csl_type = ARTICLE_SUBTYPES.get(text_of(fields.get("entrysubtype")).lower(), csl_type)
    record: Record = {"type": csl_type}
    put = _putter(record)
    get = lambda *names: first_text(fields, *names)  # noqa: E731

    put("title", joined_title(get("title"), get("subtitle")))
    put("title-short", get("shorttitle"))
    container, short = container_titles(fields, csl_type)
    put("container-title", container)
    put("container-title-short", short)
    put("collection-title", get("series"))

    for role_field in NAME_FIELDS:
        names = [csl_name(name) for name in fields.get(role_field) or [] if isinstance(name, NameParts)]
        names = [name for name in names if name]
        if names:
            record[NAME_ROLES[role_field]] = names

    put("issued", issued(fields))
    put("accessed", date_field(get("urldate", "lastchecked")))
    put("event-date", date_field(get("eventdate")))
    put("original-date", date_field(get("origdate")))

    put("volume", get("volume"))
    put("number-of-volumes", get("volumes"))
    number = get("number")
    if csl_type in ("report", "patent", "standard", "bill", "legal_case"):
        put("number", number)
        put("issue", get("issue"))
    elif csl_type in ("book", "chapter"):
        put("collection-number", number)
        put("issue", get("issue"))
    else:
        put("issue", number or get("issue"))
    if csl_type in ("book", "thesis", "manuscript"):
        put("number-of-pages", get("pagetotal", "pages"))
    else:
        put("page", get("pages"))
        put("number-of-pages", get("pagetotal"))
    put("chapter-number", get("chapter"))
    put("edition", get("edition"))
    put("version", get("version"))

    put("publisher", get("publisher", "school", "institution", "organization"))
    place, event_place = places(fields, csl_type)
    put("publisher-place", place)
    put("event-place", event_place)
    put("event-title", get("eventtitle"))
    put("original-publisher", get("origpublisher"))
    put("original-publisher-place", get("origlocation"))

    genre = get("type")
    put("genre", THESIS_GENRES.get((genre or "").lower(), genre) or THESIS_GENRES.get(entry_type))
    put("language", get("language", "langid"))
    put("abstract", get("abstract"))
    put("license", get("copyright"))
    put("ISBN", get("isbn"))
    put("ISSN", normalize_issns(get("issn")))

    extra_lines = identifiers(fields, record)
    notes = []
    for name in NOTE_FIELDS:
        note = get(name)
        if not note:
            continue
        label = re.match(r"^(PMID|PMCID|LCCN|MR|Zbl)\s*:\s*(\S.*)$", note)
        if label:
            _put_identifier(record, extra_lines, label.group(1), label.group(2))
        else:
            notes.append({"content": note, "key": None})
    howpublished = get("howpublished")
    if howpublished and re.match(r"^(https?://|mailto:)", howpublished):
        record.setdefault("URL", howpublished)
    elif howpublished:
        extra_lines.append(f"Published: {howpublished}")
    if extra_lines:
        record["note"] = "\n".join(extra_lines)
    if notes:
        record["notes"] = notes

    tags = keyword_tags(fields.get("keywords") or fields.get("keyword"))
    if tags:
        record["tags"] = tags
    if entry.key:
        record["cite_key"] = entry.key
        record["source_key"] = entry.key
    return record


def _putter(record: Record):
    def put(key: str, value) -> None:
        if not _empty(value) and key not in record:
            record[key] = value
    return put


def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == [] or value == {}


def text_of(value) -> str:
    if value is None or isinstance(value, list):
        return ""
    return collapse(str(value))


def first_text(fields: dict, *names: str) -> Optional[str]:
    for name in names:
        value = text_of(fields.get(name))
        if value:
            return value
    return None


def joined_title(title: Optional[str], subtitle: Optional[str]) -> Optional[str]:
    """``Title: Subtitle``, without a colon when the title already ends in punctuation (Zotero's rule)."""
    if not subtitle:
        return title
    if not title:
        return subtitle
    if not re.search(r"[-–—:!?.;]$", title) and not re.match(r"^[-–—:.;¡¿]", subtitle):
        return f"{title}: {subtitle}"
    return f"{title} {subtitle}"


def container_titles(fields: dict, csl_type: str) -> Tuple[Optional[str], Optional[str]]:
    """Container title and its abbreviation. ``fjournal`` (AMS/MathSciNet) is the full title and then
    ``journal`` the abbreviation; BibLaTeX's ``shortjournal`` is the abbreviation."""
    journal = joined_title(first_text(fields, "journaltitle"), first_text(fields, "journalsubtitle"))
    book = joined_title(first_text(fields, "booktitle"), first_text(fields, "booksubtitle"))
    full_journal = first_text(fields, "fjournal")
    plain_journal = first_text(fields, "journal")
    short = first_text(fields, "shortjournal")
    if full_journal:
        journal = journal or full_journal
        if plain_journal and plain_journal != full_journal:
            short = short or plain_journal
    journal = journal or plain_journal
    if csl_type in ("chapter", "paper-conference", "entry-encyclopedia"):
        return book or journal or first_text(fields, "maintitle"), short
    if csl_type == "book":
        return journal, short  # a @proceedings' own booktitle repeats its title (Zotero drops it too)
    return journal or book, short


def places(fields: dict, csl_type: str) -> Tuple[Optional[str], Optional[str]]:
    """Publisher place and event place. ``location`` is BibLaTeX's ``address``, except that ACM and
    others write the venue of a conference there (Zotero: event-place for a conference paper)."""
    address = first_text(fields, "address")
    location = first_text(fields, "location")
    venue = first_text(fields, "venue")
    if csl_type == "paper-conference":
        return address, venue or location
    return address or location, venue


def csl_name(name: NameParts) -> Optional[dict]:
    first, von, last, jr = (" ".join(part).strip() for part in (name.first, name.von, name.last, name.jr))
    inverted = getattr(name, "inverted", False)
    if not (first or von or last or jr):
        return None
    if not inverted and not (first or von or jr) and len(name.last) == 1:
        # One token ("{World Health Organization}", "Aristotle"): a literal name, as in Zotero.
        return None if last.lower() == "others" else {"literal": last}
    if not inverted and name.von and not all(word.lower() in PARTICLES for word in name.von):
        # Lowercase words that are no name particle ("Corporation for Digital Scholarship", an
        # unbraced organisation): the last word is the family name, as Zotero reads it.
        words = " ".join(part for part in (first, von, last) if part).split(" ")
        return {"family": words[-1], "given": " ".join(words[:-1])}
    family = " ".join(part for part in (von, last) if part) or first
    given = first if (von or last) else ""
    if jr:
        # Zotero keeps "Jr"/"III" after the given name ("Michael, III"); so do we, for one shape of names.
        given = f"{given}, {jr}" if given else jr
    return {"family": family, "given": given} if given else {"family": family}


# --- dates --------------------------------------------------------------------------------------

_EDTF_DATE = re.compile(r"(-?\d{1,4})(?:-(\d{2}))?(?:-(\d{2}))?(?:T[\d:.]+(?:Z|[+-][\d:]+)?)?")


def edtf_date(text: str) -> Optional[dict]:
    """BibLaTeX's ``date``: ISO 8601-2 (EDTF level 1): ``2010``, ``2010-03``, ``2010-03-05``, ranges
    ``2010/2011`` and open ``2010/..``, seasons ``2010-21``, ``?``/``~`` approximate. bibtexparser
    leaves dates as text and no installed library reads EDTF, hence by hand."""
    cleaned = text.strip()
    circa = bool(re.search(r"[~?%]", cleaned))
    cleaned = re.sub(r"[~?%]", "", cleaned)
    pieces = cleaned.split("/")
    if len(pieces) > 2:
        return None
    parts, season = [], None
    for piece in pieces:
        piece = piece.strip()
        if piece in ("", ".."):
            continue
        match = _EDTF_DATE.fullmatch(piece)
        if not match:
            return None
        date = [int(match.group(1))]
        if match.group(2):
            month = int(match.group(2))
            if 1 <= month <= 12:
                date.append(month)
                if match.group(3) and 1 <= int(match.group(3)) <= 31:
                    date.append(int(match.group(3)))
            elif 21 <= month <= 24 and season is None:
                season = month - 20
            else:
                return None
        parts.append(date)
    if not parts:
        return None
    out: dict = {"date-parts": parts}
    if season:
        out["season"] = season
    if circa:
        out["circa"] = True
    return out


def date_field(text: Optional[str]) -> Optional[dict]:
    """A date field: EDTF first, then the free-text forms people write (``March 2010``)."""
    if not text:
        return None
    parsed = edtf_date(text)
    if parsed:
        return parsed
    parts = parse_date(text)
    if parts:
        return {"date-parts": [parts]}
    return {"literal": text} if re.search(r"[^\W\d_]", text) else None


def issued(fields: dict) -> Optional[dict]:
    """``date`` wins over ``year``/``month``/``day`` (Zotero: "if both occur, date should hold all")."""
    date = first_text(fields, "date")
    if date:
        return date_field(date)
    year = first_text(fields, "year")
    if not year:
        return None
    if not re.fullmatch(r"-?\d{1,4}", year):
        return date_field(year)
    parts = [int(year)]
    month = month_number(fields.get("month"))
    if month:
        parts.append(month)
        # A day in its own field (BibLaTeX) or after the month name ("mar # {~15}" → "March 15").
        day = text_of(fields.get("day"))
        month_text = fields.get("month")
        if not day and isinstance(month_text, str):
            day = "".join(re.findall(r"\s(\d{1,2})$", text_of(month_text)))
        if day.isdigit() and 1 <= int(day) <= 31:
            parts.append(int(day))
    return {"date-parts": [parts]}


def month_number(value) -> Optional[int]:
    """MonthIntMiddleware already made ``mar``/``March``/``3`` an int; this reads what is left
    (``Mar.``, ``{march}``, ``03``)."""
    if isinstance(value, int):
        return value if 1 <= value <= 12 else None
    text = text_of(value).lower()
    if re.fullmatch(r"\d{1,2}", text):
        return int(text) if 1 <= int(text) <= 12 else None
    match = re.match(r"([a-z]{3})", text)
    for index, name in enumerate(MONTH_NAMES, start=1):
        if match and name.startswith(match.group(1)):
            return index
    return None


# --- identifiers and keywords -------------------------------------------------------------------


def identifiers(fields: dict, record: Record) -> List[str]:
    """DOI, PMID, PMCID and URL into their variables; other identifiers as Zotero's Extra lines."""
    extra: List[str] = []
    doi = normalize_doi(text_of(fields.get("doi")))
    url = text_of(fields.get("url"))
    if url:
        record["URL"] = url
    if not doi and url and re.search(r"doi\.org/", url, re.IGNORECASE):
        doi = normalize_doi(url)
    if doi:
        record["DOI"] = doi
    for name, label in EXTRA_ID_FIELDS.items():
        value = text_of(fields.get(name))
        if value:
            extra.append(f"{label}: {value}")
    _put_identifier(record, extra, "PMID", text_of(fields.get("pmid")))
    _put_identifier(record, extra, "PMCID", text_of(fields.get("pmcid")))
    eprint = text_of(fields.get("eprint"))
    eprint_type = (text_of(fields.get("eprinttype")) or text_of(fields.get("archiveprefix"))).lower()
    if eprint and eprint_type:
        if eprint_type in ("pubmed", "pmid"):
            _put_identifier(record, extra, "PMID", eprint)
        elif eprint_type in ("pmc", "pmcid", "pubmedcentral"):
            _put_identifier(record, extra, "PMCID", eprint)
        elif eprint_type == "doi":
            record.setdefault("DOI", normalize_doi(eprint) or eprint)
        elif eprint_type in EPRINT_LABELS:
            label = EPRINT_LABELS[eprint_type]
            extra.append(f"{label}: {re.sub('^' + label + ':', '', eprint, flags=re.IGNORECASE).strip()}")
    return extra


def _put_identifier(record: Record, extra: List[str], label: str, value: Optional[str]) -> None:
    """PMID/PMCID that look like one go to their variable; anything else stays an Extra line."""
    if not value:
        return
    normalizer = {"PMID": normalize_pmid, "PMCID": normalize_pmcid}.get(label)
    shape = r"(?:PMC)?\d+" if label == "PMCID" else r"\d+"
    looks_right = normalizer and re.fullmatch(shape, value.strip(), re.IGNORECASE)
    if looks_right:
        record.setdefault(label, normalizer(value))
    else:
        extra.append(f"{label}: {value.strip()}")


def keyword_tags(value) -> List[dict]:
    """``keywords = {a, b; c}`` → tags of kind ``keyword`` (split on , and ; as Zotero does)."""
    if not isinstance(value, str) or not value.strip():
        return []
    tags, seen = [], set()
    for word in re.split(r"\s*[,;]\s*", value):
        name = _TAGS.sub("", _DECODER.latex_to_text(word)) if word.strip() else ""
        if name and name.lower() not in seen:
            seen.add(name.lower())
            tags.append({"name": name, "kind": "keyword"})
    return tags
