"""RIS exports (EndNote, Zotero, Embase, Ovid, Scopus, ProQuest, Rayyan, Web of Science-to-RIS …).

rispy's ``RisParser`` runs the line loop of each record (tag lines, continuation lines, ``ER``). The
rest is here because rispy does not do it:

- Record boundaries with line numbers, and errors where rispy is silent: it drops a last record that
  has no ``ER``, reports no positions, and finds nothing (no error) in a file that is not RIS, such as
  Web of Science's tagged format.
- What each tag means, which depends on the record type. Zotero's RIS translator is the reference:
  its type map, its per-type tag map, its precedence (``DA`` over ``Y1`` over ``PY``, ``TI`` over
  ``T1``, ``AB`` over ``N2``: the legacy tags are read last and never overwrite), the fields each item
  type keeps, its repairs (``SP``+``EP`` joined, a lone ``JA``/``JO`` as the journal title, ``ST``
  as the title when there is none) and its reading of ProCite's ``N1  - Label: value`` fields and
  Citavi's ``H1``/``H2``. That is re-expressed below as tables; the Zotero item it gives becomes a
  record through ``zotero_map.item_to_record``, the project's one Zotero → CSL mapping, down to
  two of its quirks (see ``ABBREVIATION_IS_CONTAINER`` and ``SHORT_TITLE_IS_TITLE``).
- What real exports need beyond Zotero: the DOI of a ``dx.doi.org`` link (``DO``, ``UR``,
  ``L1``–``L3``, ``M3``), ISSN or ISBN told apart by the shape and check digit of ``SN`` whatever the
  type, the PMID in ``AN`` when ``DB``/``DP`` names MEDLINE, the PMCID in EndNote's ``C2``, an article
  number in ``C7`` as the page, a season in the date (``2017///Spring``), PubMed-style ``Last FM``
  names, ``AD`` affiliations, and a journal title and abbreviation swapped by the exporter put back.

Bad input raises ``ParseError`` naming the file, the record (its number in the file) and the line:
a record without ``ER``, a tag line outside any record, a file with no RIS record at all.
``parse(source, skip_bad=True)`` leaves such records out and goes on; the returned stream's ``errors``
list collects their errors (pass ``errors=some_list`` to collect into a list of your own). A file
that is not RIS at all, or not text, is an error either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Dict, Iterator, List, Optional, Tuple
from urllib.parse import unquote

from rispy import RisParser

from .. import normalize
from ..records import ParseError, Record, RecordStream
from ..zotero_map import csl_role, item_to_record
from . import Source, read_text

# Zotero's tolerance: one or two spaces before the dash (``TY - JOUR``), and an empty value (``ER  -``).
TAG_LINE = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: (.*))?$")

# How many non-blank lines may come before the first ``TY`` line for a file to still look like RIS
# (EndNote and database exports put a few header lines first).
SNIFF_LINES = 12

# Continuation lines of these tags are separate values (EndNote writes one keyword, affiliation,
# ISSN or link per line under a single tag).
LINE_LIST_TAGS = {"KW", "AD", "SN", "UR", "L1", "L2", "L3", "L4"}
# Continuation lines of these tags may be paragraphs (Zotero's rule, see ``_join_paragraphs``).
PARAGRAPH_TAGS = {"AB", "N1", "N2", "RN"}
# A file whose lines are all shorter than this was wrapped by its exporter: a line break in an
# abstract is then a wrap, not a paragraph, unless the line before it is short.
WRAPPED_WIDTH = 85
SHORT_LINE = 65


# ---------------------------------------------------------------------------------------------
# Types


# RIS type → Zotero item type (Zotero's table; anything else is a journal article, as in Zotero,
# which also reads ``UNPB`` and ``GRANT`` that way).
RIS_TYPES = {
    "ABST": "journalArticle", "ADVS": "film", "AGGR": "document", "ANCIENT": "document",
    "ART": "artwork", "BILL": "bill", "BLOG": "blogPost", "BOOK": "book", "CASE": "case",
    "CHAP": "bookSection", "CHART": "artwork", "CLSWK": "book", "COMP": "computerProgram",
    "CONF": "conferencePaper", "CPAPER": "conferencePaper", "CTLG": "magazineArticle",
    "DATA": "dataset", "DBASE": "dataset", "DICT": "dictionaryEntry", "EBOOK": "book",
    "ECHAP": "bookSection", "EDBOOK": "book", "EJOUR": "journalArticle", "ELEC": "webpage",
    "ENCYC": "encyclopediaArticle", "EQUA": "document", "FIGURE": "artwork", "GEN": "journalArticle",
    "GOVDOC": "report", "GRNT": "document", "HEAR": "hearing", "ICOMM": "email",
    "INPR": "manuscript", "JFULL": "journalArticle", "JOUR": "journalArticle", "LEGAL": "case",
    "MANSCPT": "manuscript", "MAP": "map", "MGZN": "magazineArticle", "MPCT": "film",
    "MULTI": "videoRecording", "MUSIC": "audioRecording", "NEWS": "newspaperArticle",
    "PAMP": "manuscript", "PAT": "patent", "PCOMM": "letter", "RPRT": "report", "SER": "book",
    "SLIDE": "presentation", "SOUND": "audioRecording", "STAND": "report", "STAT": "statute",
    "THES": "thesis", "UNBILL": "manuscript", "UNPD": "manuscript", "VIDEO": "videoRecording",
    "WEB": "webpage",
}
DEFAULT_ITEM_TYPE = "journalArticle"

# EndNote's reference type names, which some tools write in TY instead of the RIS code.
ENDNOTE_TYPE_NAMES = {
    "abstract": "ABST", "aggregated database": "AGGR", "ancient text": "ANCIENT", "artwork": "ART",
    "audiovisual material": "ADVS", "bill": "BILL", "blog": "BLOG", "book": "BOOK",
    "book section": "CHAP", "case": "CASE", "catalog": "CTLG", "chart or table": "CHART",
    "classical work": "CLSWK", "computer program": "COMP", "conference paper": "CPAPER",
    "conference proceedings": "CONF", "dataset": "DATA", "dictionary": "DICT", "edited book": "EDBOOK",
    "electronic article": "EJOUR", "electronic book": "EBOOK", "electronic book section": "ECHAP",
    "encyclopedia": "ENCYC", "equation": "EQUA", "figure": "FIGURE", "film or broadcast": "MPCT",
    "generic": "GEN", "government document": "GOVDOC", "grant": "GRNT", "hearing": "HEAR",
    "journal article": "JOUR", "legal rule or regulation": "LEGAL", "magazine article": "MGZN",
    "manuscript": "MANSCPT", "map": "MAP", "music": "MUSIC", "newspaper article": "NEWS",
    "online database": "DBASE", "online multimedia": "MULTI", "pamphlet": "PAMP", "patent": "PAT",
    "personal communication": "PCOMM", "report": "RPRT", "serial": "SER", "standard": "STAND",
    "statute": "STAT", "thesis": "THES", "unenacted bill": "UNBILL", "unpublished work": "UNPD",
    "web page": "ELEC", "journal": "JFULL", "press release": "PRESS", "interview": "PCOMM",
}

# ---------------------------------------------------------------------------------------------
# Tags → Zotero fields


def _per_type(default: Optional[str] = None, exclude: str = "", **fields: str) -> dict:
    """A tag's mapping: ``field="itemType itemType"`` pairs, a default for other types, excluded types."""
    by_type = {item_type: name for name, types in fields.items() for item_type in types.split()}
    return {"default": default, "by_type": by_type, "exclude": set(exclude.split())}


_AUTHOR = _per_type(
    "creators/author", **{
        "creators/artist": "artwork", "creators/cartographer": "map",
        "creators/composer": "audioRecording",
        "creators/director": "film radioBroadcast tvBroadcast videoRecording",
        "creators/interviewee": "interview", "creators/inventor": "patent",
        "creators/podcaster": "podcast", "creators/programmer": "computerProgram",
    })
_DATE = _per_type("date", dateEnacted="statute", dateDecided="case", issueDate="patent")
_TITLE = _per_type("title")

# The tags of the RIS specification, read first.
TAG_FIELDS = {
    "AB": "abstractNote", "AN": "archiveLocation", "CN": "callNumber", "DB": "archive", "DO": "DOI",
    "DP": "libraryCatalog", "J2": "journalAbbreviation", "KW": "tags", "L1": "attachment",
    "L2": "attachment", "L4": "attachment", "N1": "notes", "ST": "shortTitle", "UR": "url",
    "Y2": "accessDate", "TI": _TITLE, "AU": _AUTHOR, "A1": _AUTHOR, "DA": _DATE, "PY": _DATE,
    "T2": _per_type(
        code="bill statute", bookTitle="bookSection", blogTitle="blogPost",
        conferenceName="conferencePaper", dictionaryTitle="dictionaryEntry",
        encyclopediaTitle="encyclopediaArticle", committee="hearing", forumTitle="forumPost",
        websiteTitle="webpage", programTitle="radioBroadcast tvBroadcast", meetingName="presentation",
        seriesTitle="computerProgram map report", series="book",
        publicationTitle="journalArticle magazineArticle newspaperArticle"),
    "T3": _per_type(legislativeBody="hearing bill", series="bookSection conferencePaper journalArticle",
                    seriesTitle="audioRecording"),
    "A2": _per_type(**{
        "creators/sponsor": "bill", "creators/performer": "audioRecording",
        "creators/presenter": "presentation", "creators/interviewer": "interview",
        "creators/editor": "journalArticle bookSection conferencePaper dictionaryEntry document "
                           "encyclopediaArticle",
        "creators/seriesEditor": "book report", "creators/recipient": "email instantMessage letter",
        "reporter": "case", "issuingAuthority": "patent"}),
    "A3": _per_type(**{
        "creators/contributor": "thesis", "creators/cosponsor": "bill",
        "creators/producer": "film tvBroadcast videoRecording radioBroadcast",
        "creators/editor": "book",
        "creators/seriesEditor": "bookSection conferencePaper dictionaryEntry encyclopediaArticle map"}),
    "A4": _per_type("creators/translator", **{
        "creators/counsel": "case", "creators/contributor": "conferencePaper film dataset"}),
    "C1": _per_type(filingDate="patent", place="conferencePaper", scale="map",
                    **{"creators/castMember": "radioBroadcast tvBroadcast videoRecording"}),
    "C2": _per_type(issueDate="patent", **{"creators/bookAuthor": "bookSection",
                                           "creators/commenter": "blogPost"}),
    "C3": _per_type(artworkSize="artwork", proceedingsTitle="conferencePaper", country="patent"),
    "C4": _per_type(genre="film", **{"creators/wordsBy": "audioRecording",
                                     "creators/attorneyAgent": "patent"}),
    "C5": _per_type(references="patent", audioRecordingFormat="audioRecording radioBroadcast",
                    videoRecordingFormat="film tvBroadcast videoRecording"),
    "C6": _per_type(legalStatus="patent"),
    "CY": _per_type("place", exclude="conferencePaper", repositoryLocation="dataset"),
    "ET": _per_type("edition", session="bill hearing statute",
                    versionNumber="computerProgram dataset"),
    "IS": _per_type("issue", exclude="dataset", numberOfVolumes="bookSection"),
    "LA": _per_type("language", programmingLanguage="computerProgram"),
    "M1": _per_type(seriesNumber="book", billNumber="bill", system="computerProgram",
                    documentNumber="hearing", applicationNumber="patent", publicLawNumber="statute",
                    episodeNumber="podcast radioBroadcast tvBroadcast"),
    "M3": _per_type(manuscriptType="manuscript", mapType="map", reportType="report",
                    thesisType="thesis", websiteType="blogPost webpage", postType="forumPost",
                    letterType="letter", interviewMedium="interview",
                    presentationType="presentation", artworkMedium="artwork", audioFileType="podcast"),
    "NV": _per_type("numberOfVolumes", exclude="bookSection", identifier="dataset"),
    "OP": _per_type(history="hearing statute bill case", priorityNumbers="patent"),
    "PB": _per_type("publisher", label="audioRecording", court="case", distributor="film",
                    assignee="patent", institution="report", repository="dataset",
                    university="thesis", company="computerProgram", studio="videoRecording",
                    network="radioBroadcast tvBroadcast"),
    "SE": _per_type("section", exclude="case"),
    "SN": _per_type("ISBN", patentNumber="patent", reportNumber="report",
                    ISSN="journalArticle magazineArticle newspaperArticle"),
    "SP": _per_type("pages", codePages="bill", numPages="book thesis manuscript", firstPage="case",
                    runningTime="film"),
    "SV": _per_type(seriesNumber="bookSection", docketNumber="case"),
    "VL": _per_type("volume", exclude="patent webpage", codeNumber="statute", codeVolume="bill",
                    reporterVolume="case"),
}

# Legacy and vendor tags: read after all the others, so they never overwrite a field already set.
LEGACY_TAG_FIELDS = {
    "AD": "unsupported", "AV": "archiveLocation", "CA": "unsupported", "CR": "rights",
    "CT": "title", "CY": "place", "ED": "creators/editor", "EP": "pages", "H1": "unsupported",
    "H2": "unsupported", "ID": "ignore", "JA": "journalAbbreviation", "JF": "publicationTitle",
    "LB": "unsupported", "M2": "extra", "M3": "DOI", "N2": "abstractNote", "NV": "numberOfVolumes",
    "RI": "unsupported", "RN": "notes", "TA": "unsupported", "TT": "unsupported", "OP": "unsupported",
    "T2": "backupPublicationTitle", "T1": _TITLE, "Y1": _DATE,
    "BT": _per_type("backupPublicationTitle", title="book manuscript", bookTitle="bookSection"),
    "IS": _per_type(versionNumber="dataset"),
    "JO": _per_type("journalAbbreviation", conferenceName="conferencePaper"),
    "M1": _per_type("extra", issue="journalArticle", numberOfVolumes="bookSection",
                    accessDate="webpage"),
    "SE": _per_type(),
    "T3": _per_type(series="book"),
    "VL": _per_type(accessDate="webpage"),
}


def zotero_field(tag: str, item_type: str) -> Optional[str]:
    """The Zotero field a tag fills for an item type (None: the tag means nothing for that type)."""
    for table in (TAG_FIELDS, LEGACY_TAG_FIELDS):
        mapping = table.get(tag)
        if isinstance(mapping, str):
            return mapping
        if mapping:
            chosen = mapping["by_type"].get(item_type)
            if not chosen and item_type not in mapping["exclude"]:
                chosen = mapping["default"]
            if chosen:
                return chosen
    return None


def is_legacy(tag: str) -> bool:
    return tag in LEGACY_TAG_FIELDS


# Fields each Zotero item type keeps (Zotero's schema, restricted to what RIS tags can fill);
# ``_COMMON`` fields are kept by every type, ``_ARCHIVE`` by most.
_COMMON = "title abstractNote date language shortTitle url accessDate rights extra DOI"
_ARCHIVE = "archive archiveLocation libraryCatalog callNumber"
_TYPE_FIELDS = {
    "artwork": f"{_ARCHIVE} artworkMedium artworkSize",
    "audioRecording": f"{_ARCHIVE} audioRecordingFormat seriesTitle volume numberOfVolumes place label "
                      "runningTime ISBN",
    "bill": "billNumber code codeVolume section codePages legislativeBody session history",
    "blogPost": "blogTitle websiteType",
    "book": f"{_ARCHIVE} series seriesNumber volume numberOfVolumes edition place publisher numPages "
            "ISBN ISSN",
    "bookSection": f"{_ARCHIVE} bookTitle series seriesNumber volume numberOfVolumes edition place "
                   "publisher pages ISBN",
    "case": "caseName court dateDecided docketNumber reporter reporterVolume firstPage history",
    "computerProgram": f"{_ARCHIVE} seriesTitle versionNumber system place company programmingLanguage "
                       "ISBN",
    "conferencePaper": f"{_ARCHIVE} proceedingsTitle conferenceName place publisher volume pages series "
                       "ISBN ISSN",
    "dataset": f"{_ARCHIVE} identifier versionNumber repository repositoryLocation",
    "dictionaryEntry": f"{_ARCHIVE} dictionaryTitle series seriesNumber volume numberOfVolumes edition "
                       "place publisher pages ISBN",
    "document": f"{_ARCHIVE} publisher place",
    "email": "",
    "encyclopediaArticle": f"{_ARCHIVE} encyclopediaTitle series seriesNumber volume numberOfVolumes "
                           "edition place publisher pages ISBN",
    "film": f"{_ARCHIVE} distributor genre videoRecordingFormat runningTime place",
    "hearing": "committee place publisher numberOfVolumes documentNumber pages legislativeBody session "
               "history",
    "journalArticle": f"{_ARCHIVE} publicationTitle volume issue pages series seriesTitle "
                      "journalAbbreviation section place publisher ISSN",
    "letter": f"{_ARCHIVE} letterType",
    "magazineArticle": f"{_ARCHIVE} publicationTitle volume issue pages place publisher ISSN",
    "manuscript": f"{_ARCHIVE} manuscriptType place numPages institution",
    "map": f"{_ARCHIVE} mapType scale seriesTitle edition place publisher ISBN",
    "newspaperArticle": f"{_ARCHIVE} publicationTitle place edition section pages volume issue publisher "
                        "ISSN",
    "patent": "place country assignee issuingAuthority patentNumber filingDate pages applicationNumber "
              "priorityNumbers issueDate references legalStatus",
    "presentation": "presentationType place meetingName",
    "report": f"{_ARCHIVE} reportNumber reportType seriesTitle place institution pages ISBN",
    "statute": "nameOfAct code codeNumber publicLawNumber dateEnacted pages section session history",
    "thesis": f"{_ARCHIVE} thesisType university place numPages",
    "videoRecording": f"{_ARCHIVE} videoRecordingFormat seriesTitle volume numberOfVolumes place studio "
                      "runningTime ISBN",
    "webpage": "websiteTitle websiteType place publisher",
}
ITEM_TYPE_FIELDS = {
    item_type: set(_COMMON.split()) | set(fields.split()) for item_type, fields in _TYPE_FIELDS.items()
}
ITEM_TYPE_FIELDS["computerProgram"].discard("language")  # it has programmingLanguage instead
# The title field of these types has its own name in Zotero; CSL calls them all ``title``.
for _item_type in ("case", "email", "statute"):
    ITEM_TYPE_FIELDS[_item_type].add("title")

# Zotero's base fields under their name in each item type.
BASE_FIELDS = {
    "audioRecording": {"publisher": "label", "medium": "audioRecordingFormat"},
    "bill": {"number": "billNumber", "volume": "codeVolume", "pages": "codePages"},
    "blogPost": {"publicationTitle": "blogTitle", "type": "websiteType"},
    "bookSection": {"publicationTitle": "bookTitle"},
    "case": {"date": "dateDecided", "number": "docketNumber", "volume": "reporterVolume",
             "pages": "firstPage"},
    "computerProgram": {"publisher": "company"},
    "conferencePaper": {"publicationTitle": "proceedingsTitle"},
    "dataset": {"publisher": "repository", "place": "repositoryLocation", "number": "identifier"},
    "dictionaryEntry": {"publicationTitle": "dictionaryTitle"},
    "encyclopediaArticle": {"publicationTitle": "encyclopediaTitle"},
    "film": {"publisher": "distributor", "type": "genre", "medium": "videoRecordingFormat"},
    "hearing": {"number": "documentNumber"},
    "letter": {"type": "letterType"},
    "manuscript": {"publisher": "institution", "type": "manuscriptType"},
    "map": {"type": "mapType"},
    "patent": {"date": "issueDate", "number": "patentNumber"},
    "presentation": {"type": "presentationType"},
    "report": {"publisher": "institution", "number": "reportNumber", "type": "reportType"},
    "statute": {"date": "dateEnacted", "number": "publicLawNumber", "volume": "codeNumber"},
    "thesis": {"publisher": "university", "type": "thesisType"},
    "videoRecording": {"publisher": "studio", "medium": "videoRecordingFormat"},
    "webpage": {"publicationTitle": "websiteTitle", "type": "websiteType"},
}

# Two quirks of Zotero's RIS translator, copied because the goal is to read RIS as Zotero itself does
# (its own import tests expect them): once every tag is read, it copies the journal abbreviation (J2,
# or JO/JA) into the generic ``publicationTitle`` and the short title (ST) into the generic ``title``
# when those are empty. For these types T2 and TI filled the type's own field (``bookTitle``,
# ``caseName`` …) instead, so the generic one is empty, takes the copy, and is saved over it; journal,
# magazine and newspaper articles keep their T2.
ABBREVIATION_IS_CONTAINER = {
    "blogPost", "bookSection", "dictionaryEntry", "encyclopediaArticle", "webpage",
}
SHORT_TITLE_IS_TITLE = {"case", "statute"}

# Fields whose value is a date in RIS's ``YYYY/MM/DD/other`` shape.
DATE_FIELDS = {"date", "accessDate", "filingDate", "issueDate", "dateEnacted", "dateDecided"}

# Zotero's ``publicationTitle`` under its name in each item type (Zotero's base-field mapping).
PUBLICATION_TITLE_FIELD = {
    "journalArticle": "publicationTitle", "magazineArticle": "publicationTitle",
    "newspaperArticle": "publicationTitle", "bookSection": "bookTitle",
    "conferencePaper": "proceedingsTitle", "webpage": "websiteTitle", "blogPost": "blogTitle",
    "dictionaryEntry": "dictionaryTitle", "encyclopediaArticle": "encyclopediaTitle",
}


# ---------------------------------------------------------------------------------------------
# Reading records


@dataclass
class TaggedValue:
    """One tag line and its continuation lines, as written (each line stripped)."""

    tag: str
    lines: List[str]


@dataclass
class RawRecord:
    number: int  # 1-based position in the file
    line: int  # line of its TY tag
    lines: List[str]  # from the TY line up to the line before ER
    fields: List[TaggedValue] = field(default_factory=list)

    @property
    def location(self) -> str:
        return f"record {self.number} (line {self.line})"

    def values(self, *tags: str) -> List[TaggedValue]:
        return [value for value in self.fields if value.tag in tags]


class _TagLineReader(RisParser):
    """rispy's line loop, keeping every tag line in file order with its own continuation lines.

    rispy's record dict merges a repeated tag with its continuation lines (or keeps only the first
    value of a tag not declared a list), and Zotero's rules need both apart, in order.
    """

    def __init__(self):
        super().__init__(mapping={"TY": "TY"}, list_tags=[], ignore=[])

    def parse_line(self, line: str):
        # rispy wants exactly two spaces before the dash; Zotero (and Refworks' exports) allow one.
        match = TAG_LINE.match(line.rstrip())
        if match:
            return match.group(1), (match.group(2) or "").strip()
        return None, line.strip()

    def _iter_till_start(self, lines) -> dict:
        for line in lines:
            tag, value = self.parse_line(line)
            if tag == self.START_TAG:
                return {"TY": value, "fields": []}
        raise StopIteration

    def _add_tag(self, record: dict, tag: str, content: str, extend_multiline: bool = False) -> None:
        if extend_multiline:
            if record["fields"]:
                record["fields"][-1].lines.append(content)
            return
        record["fields"].append(TaggedValue(tag, [content]))


def read_fields(raw: RawRecord) -> Tuple[str, List[TaggedValue]]:
    """(TY value, tagged values) of one record's lines."""
    [parsed] = _TagLineReader().parse_lines(iter(raw.lines + ["ER  - "]))
    return parsed["TY"], parsed["fields"]


def split_records(text: str, name: str, skip_bad: bool) -> Iterator[object]:
    """The records of a file in order (``RawRecord``), with a ``ParseError`` in place of each bad one
    when ``skip_bad`` (else the error is raised).

    Lines outside records are skipped (export headers, ``Record #1 of 2``), except tag lines: data
    there belongs to no record, so it is an error rather than a silent loss.
    """
    lines = text.split("\n")
    if not any(_is_type_line(line) for line in lines):
        raise ParseError(_not_ris_message(text), name)
    current: Optional[RawRecord] = None
    number = 0

    def fail(message: str, location: str):
        error = ParseError(message, name, location)
        if not skip_bad:
            raise error
        return error

    for line_number, line in enumerate(lines, start=1):
        match = TAG_LINE.match(line.rstrip())
        tag = match.group(1) if match else None
        if current is None:
            if tag == "TY":
                number += 1
                current = RawRecord(number, line_number, [line])
            elif tag and tag != "ER":  # a stray ER after a record is harmless
                yield fail(
                    f"tag line {_shorten(line)!r} is outside any record (records run from "
                    "'TY  - ' to 'ER  - ')",
                    f"line {line_number}" + (f", after record {number}" if number else ""),
                )
        elif tag == "ER":
            yield current
            current = None
        elif tag == "TY":
            yield fail(
                f"record has no 'ER  - ' line before the next record starts at line {line_number}",
                current.location,
            )
            number += 1
            current = RawRecord(number, line_number, [line])
        else:
            current.lines.append(line)
    if current is not None:
        yield fail("record has no 'ER  - ' line: the file ends inside it", current.location)


def _not_ris_message(text: str) -> str:
    head = [line for line in text.split("\n") if line.strip()][:5]
    if not head:
        return "empty file: no RIS record"
    if head[0].startswith("FN ") or any(re.match(r"^PT [A-Z]\b", line) for line in head):
        return ("this is Web of Science's tagged format (FN/PT/AU lines), not RIS: no 'TY  - ' line; "
                "export as RIS ('Other file formats' → 'RIS') or load it as another format")
    if any(re.match(r"^PMID- ", line) for line in head):
        return "this looks like MEDLINE/PubMed format, not RIS: no 'TY  - ' line"
    return f"no RIS record found: no 'TY  - ' line (the file starts {_shorten(head[0])!r})"


def _shorten(text: str, width: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= width else text[: width - 1] + "…"


def sniff(head: str) -> bool:
    """A ``TY  - `` tag line among the first non-blank lines (after a BOM or an export header)."""
    lines = [line for line in head.lstrip("\ufeff").split("\n") if line.strip()][:SNIFF_LINES]
    return any(_is_type_line(line) for line in lines)


def _is_type_line(line: str) -> bool:
    match = TAG_LINE.match(line.rstrip())
    return bool(match and match.group(1) == "TY" and (match.group(2) or "").strip())


# ---------------------------------------------------------------------------------------------
# Parsing


def parse(source: Source, skip_bad: bool = False, errors: Optional[List[ParseError]] = None) -> RecordStream:
    """Canonical records of a RIS file (see the module docstring for ``skip_bad`` and ``errors``)."""
    return RecordStream(_records(source, skip_bad), errors)


def parse_text(text: str, name: str = "<ris>", skip_bad: bool = False) -> Iterator[object]:
    """Records (and, with ``skip_bad``, ParseErrors of bad ones) of RIS text already decoded."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    # Some services break long lines with Unicode line separators; they are spaces (as in Zotero).
    text = re.sub(r"\s?[\u2028\u2029]\s?", " ", text)
    wrapped = max((len(line) for line in text.split("\n")), default=0) <= WRAPPED_WIDTH
    procite = ProCiteState()
    for item in split_records(text, name, skip_bad):
        if isinstance(item, ParseError):
            yield item
            continue
        try:
            yield to_record(item, wrapped, procite)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
            failure = ParseError(f"record could not be read ({error})", name, item.location)
            if not skip_bad:
                raise failure from error
            yield failure


def _records(source: Source, skip_bad: bool) -> Iterator[object]:
    name, text = read_text(source)
    yield from parse_text(text, name, skip_bad)


# ---------------------------------------------------------------------------------------------
# Raw record → Zotero item (Zotero's RIS import rules)


def tag_value(value: TaggedValue, wrapped: bool) -> str:
    """A tag's text with its continuation lines: one per line for list tags, paragraphs kept in
    notes and abstracts, otherwise joined by spaces (a wrapped title)."""
    if value.tag in LINE_LIST_TAGS:
        return "\n".join(line for line in value.lines if line)
    if value.tag in PARAGRAPH_TAGS:
        return _join_paragraphs(value.lines, wrapped).strip()
    return " ".join(line for line in value.lines if line).strip()


def _join_paragraphs(lines: List[str], wrapped: bool) -> str:
    """Zotero's guess: a new line is a new paragraph when the file is not hard-wrapped, when the
    line before it is short, or when it is blank."""
    text = lines[0]
    previous_length = len(lines[0]) + 6
    for line in lines[1:]:
        if not wrapped or previous_length < SHORT_LINE or not line:
            text += "\n" + line
        else:
            text += ("" if text.endswith(" ") else " ") + line
        previous_length = len(line)
    return re.sub(r"\n{3,}", "\n\n", text)


@dataclass
class ZoteroItem:
    item_type: str
    fields: Dict[str, str] = field(default_factory=dict)
    creators: List[Tuple[str, str]] = field(default_factory=list)  # (creator type, name as written)
    tags: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)
    backup: Dict[str, str] = field(default_factory=dict)
    unkept: Dict[str, str] = field(default_factory=dict)

    def field_name(self, name: str) -> Optional[str]:
        """The field a value for ``name`` lands in for this item type (Zotero's base fields: a
        manuscript's ``publisher`` is its ``institution``), or None when the type has no such field."""
        name = BASE_FIELDS.get(self.item_type, {}).get(name, name)
        return name if name in ITEM_TYPE_FIELDS.get(self.item_type, ITEM_TYPE_FIELDS["document"]) else None

    def keeps(self, name: str) -> bool:
        return self.field_name(name) is not None

    def set_once(self, name: str, value: str) -> None:
        if not value:
            return
        kept = self.field_name(name)
        if kept:
            self.fields.setdefault(kept, value)
        else:
            # Zotero holds fields its item type lacks until the item is complete (a web page's
            # journal abbreviation can still become its website title), then drops them.
            self.unkept.setdefault(name, value)


def item_type_of(ty_value: str) -> Tuple[str, str]:
    """(RIS type code, Zotero item type) of a TY value: a code, or an EndNote type name."""
    code = ty_value.strip().upper()
    if code not in RIS_TYPES and not re.fullmatch(r"[A-Z0-9]+", ty_value.strip()):
        code = ENDNOTE_TYPE_NAMES.get(re.sub(r"\s+", " ", ty_value.strip().lower()), code)
    return code, RIS_TYPES.get(code, DEFAULT_ITEM_TYPE)


def zotero_item(ris_type: str, item_type: str, values: List[TaggedValue], wrapped: bool) -> ZoteroItem:
    item = ZoteroItem(item_type)
    if ris_type == "EDBOOK":
        # EndNote writes the editors of an edited book as its authors.
        values = [TaggedValue("A3", v.lines) if v.tag == "AU" else v for v in values]
    deferred = []
    for value in values:
        if is_legacy(value.tag):
            deferred.append(value)
        else:
            apply_tag(item, value.tag, tag_value(value, wrapped))
    for value in deferred:
        apply_tag(item, value.tag, tag_value(value, wrapped))
    complete(item)
    return item


def apply_tag(item: ZoteroItem, tag: str, value: str) -> None:
    value = value.strip()
    if not value or tag in ("TY", "ER"):
        return
    target = zotero_field(tag, item.item_type)
    if not target or target in ("ignore", "unsupported", "attachment"):
        return
    if tag in ("N1", "RN"):
        if value != item.fields.get("title"):
            item.notes.append(value)
        return
    if tag == "EP":
        pages = item.fields.get("pages")
        if pages and "-" not in pages:
            item.fields["pages"] = f"{pages}-{value}"
        elif pages:
            item.backup.setdefault("numPages", value)
        else:
            item.backup.setdefault("endPage", value)
        return
    if tag == "PY":
        item.backup.setdefault("date", ris_date(value))
        item.backup.setdefault("dateField", target)
        return
    if target == "accessDate" and tag in ("M1", "VL"):
        # EndNote writes a web page's access date (M1) or year (VL) there.
        item.backup.setdefault("accessDate", ris_date(value))
        return
    if tag == "UR" and value.startswith("PM:"):
        # Reference Manager puts PMIDs in UR.
        item.fields["extra"] = _add_line(item.fields.get("extra"), "PMID: " + value[3:].strip())
        return
    if tag == "UR":
        value = re.split(r"\s+|;\s+", value)[0]  # several links, one per line or separated
    if target.startswith("creators/"):
        item.creators.append((target.split("/", 1)[1], value))
    elif target == "backupPublicationTitle":
        item.backup.setdefault("publicationTitle", value)
    elif target == "tags":
        item.tags.extend(split_keywords(value))
    elif target == "notes":
        item.notes.append(value)
    elif target == "extra":
        if item.keeps("extra"):
            item.fields["extra"] = _add_line(item.fields.get("extra"), value)
    elif target == "DOI":
        doi = clean_doi(value)
        if doi and not item.fields.get("DOI"):
            item.fields["DOI"] = doi
    elif target in DATE_FIELDS:
        item.set_once(target, ris_date(value))
    else:
        item.set_once(target, value)


def complete(item: ZoteroItem) -> None:
    """Zotero's clean-up once every tag is read."""
    fields, backup = item.fields, item.backup
    container = PUBLICATION_TITLE_FIELD.get(item.item_type)
    if container and backup.get("publicationTitle") and not fields.get(container):
        fields[container] = backup["publicationTitle"]
    if backup.get("numPages") and item.keeps("numPages"):
        fields.setdefault("numPages", backup["numPages"])
    if backup.get("endPage"):
        pages = fields.get("pages")
        if not pages:
            item.set_once("pages", backup["endPage"])
        elif "-" not in pages:
            fields["pages"] = f"{pages}-{backup['endPage']}"
        elif item.keeps("numPages"):
            fields.setdefault("numPages", backup["endPage"])
    if "date" in backup:
        date_field = backup["dateField"]
        if not fields.get(date_field):
            item.set_once(date_field, backup["date"])
        else:
            fields[date_field] = re.sub(r"\b0000\b", backup["date"], fields[date_field], count=1)
    if backup.get("accessDate"):
        item.set_once("accessDate", backup["accessDate"])
    abbreviation = fields.get("journalAbbreviation") or item.unkept.get("journalAbbreviation")
    if abbreviation and container and (
        not fields.get(container) or item.item_type in ABBREVIATION_IS_CONTAINER
    ):
        # Sites like Nature write only JA/JO: the abbreviation is then the container's title.
        fields[container] = abbreviation
    if fields.get("shortTitle") and (not fields.get("title") or item.item_type in SHORT_TITLE_IS_TITLE):
        fields["title"] = fields["shortTitle"]
    if len(item.tags) == 1:
        # A single keyword line is often a comma-separated list (Zotero's guess too).
        item.tags = [tag for tag in re.split(r"\s*,\s*", item.tags[0]) if tag]


def _add_line(text: Optional[str], line: str) -> str:
    return f"{text}\n{line}" if text else line


def split_keywords(value: str) -> List[str]:
    """One keyword per line or per ``;`` (Reference Manager prefixes continuation lines with ``%K``)."""
    parts = re.split(r"\s*(?:[\r\n]+\s*)+(?:%K\s+)?|\s*(?:;\s*)+", value)
    return [part for part in parts if part]


_RIS_DATE = re.compile(r"^(\d+)(?:/(\d{0,2})(?:/(\d{0,2})(?:(?:/|\s)([^/]*))?)?)?$")


def ris_date(value: str) -> str:
    """RIS ``YYYY/MM/DD/other`` → ``YYYY-MM-DD`` with unknown parts left out (``2019//`` → ``2019``,
    ``1948/07//`` → ``1948-07``). A month without a year (EndNote's ``DA  - May``) becomes
    ``0000 May`` for the year from ``PY`` to fill in, as Zotero does; anything else stays as written."""
    value = value.strip()
    match = _RIS_DATE.match(value)
    if not match:
        if not re.search(r"\b\d{4}\b", value):
            month = re.search(r"[A-Za-z]+", value)
            if month:
                day = re.search(r"\b(?:[1-3]\d|[1-9])\b", value)
                return "0000 " + month.group(0) + (" " + day.group(0) if day else "")
        return value
    parts = []
    for part in match.groups()[:3]:
        part = (part or "").lstrip("0")
        if not part:
            break
        parts.append(part)
    if not parts:
        return ""
    out = parts[0].zfill(4)
    for part in parts[1:]:
        out += "-" + part.zfill(2)
    return out


_DOI = re.compile(r"10\.\d{4,9}/[^\s]*[^\s.,;]")


def clean_doi(value: str) -> Optional[str]:
    """The DOI in a value (``doi:``, ``https://dx.doi.org/`` links, URL-encoded links), case kept."""
    if not value:
        return None
    if "%2F" in value.upper():
        value = unquote(value)
    match = _DOI.search(value)
    return match.group(0) if match else None


# ---------------------------------------------------------------------------------------------
# Zotero item → canonical record


def to_record(raw: RawRecord, wrapped: bool = False, procite: Optional["ProCiteState"] = None) -> Record:
    ty_value, raw.fields = read_fields(raw)
    ris_type, item_type = item_type_of(ty_value)
    raw.fields = clean_procite(raw.fields, ris_type, item_type, procite or ProCiteState(), wrapped)
    raw.fields = clean_citavi(raw.fields)
    item = zotero_item(ris_type, item_type, raw.fields, wrapped)
    # The CSL side is the project's one Zotero → CSL mapping, as for Zotero's own libraries.
    record = item_to_record({
        "itemType": item_type, **item.fields, "notes": [{"note": note} for note in item.notes],
    })
    put_creators(record, item)
    put_season(record, raw, wrapped)
    put_identifiers(record, raw, item, wrapped)
    fix_container_titles(record)
    put_article_number(record, raw, wrapped)
    if item.tags:
        record["tags"] = [{"name": tag, "kind": "keyword"} for tag in dict.fromkeys(item.tags)]
    affiliations = affiliations_of(raw, len(record.get("author", [])), wrapped)
    if affiliations:
        record["affiliations"] = affiliations
    record["source_key"] = _first(raw, wrapped, "ID") or f"#{raw.number}"
    return record


def _first(raw: RawRecord, wrapped: bool, *tags: str) -> Optional[str]:
    for value in raw.values(*tags):
        text = tag_value(value, wrapped)
        if text:
            return text
    return None


_SEASON = re.compile(r"\b(spring|summer|autumn|fall|winter)\b", re.IGNORECASE)


def put_season(record: Record, raw: RawRecord, wrapped: bool) -> None:
    """``PY  - 2017///Spring``: the season Zotero drops is kept as CSL's ``season``."""
    issued = record.get("issued")
    if not issued or len(issued["date-parts"][0]) != 1:
        return
    for value in raw.values("DA", "PY", "Y1"):
        season = _SEASON.search(tag_value(value, wrapped))
        if season:
            issued["season"] = season.group(1).capitalize()
            return


def put_creators(record: Record, item: ZoteroItem) -> None:
    for creator_type, written in item.creators:
        person = parse_name(written)
        if person:
            record.setdefault(csl_role(creator_type, item.item_type), []).append(person)


# ---------------------------------------------------------------------------------------------
# Dialects: ProCite and Citavi (Zotero's translator reads both)


def ris_tag_for(field_name: str, item_type: str) -> Optional[str]:
    """The RIS tag that fills a Zotero field for an item type (the map read backwards)."""
    for table in (TAG_FIELDS, LEGACY_TAG_FIELDS):
        for tag, mapping in table.items():
            if mapping == field_name:
                return tag
            if isinstance(mapping, dict):
                if mapping["by_type"].get(item_type) == field_name:
                    return tag
                if (mapping["default"] == field_name and item_type not in mapping["exclude"]
                        and item_type not in mapping["by_type"]):
                    return tag
    return None


# ProCite writes many fields as ``N1  - Label: value`` notes.
PROCITE_FIELDS = {
    "Call Number": "callNumber", "Edition": "edition", "ISBN": "ISBN", "Language": "language",
    "Publisher Name": "publisher", "Series Title": "series", "Proceedings Title": "proceedingsTitle",
    "Page(s)": "pages", "Volume ID": "volume", "Issue ID": "issue", "Issue Identification": "issue",
    "Series Volume ID": "seriesNumber", "Scale": "scale", "Place of Publication": "place",
    "Histroy": "history", "Size": "artworkSize",  # "Histroy": ProCite's own spelling
}
PROCITE_ROLES = {
    "actor": "castMember", "author": "author", "cartographer": "cartographer", "composer": "composer",
    "composed": "composer", "director": "director", "directed": "director", "performer": "performer",
    "performed": "performer", "producer": "producer", "produced": "producer", "editor": "editor",
    "ed": "editor", "edited": "editor", "editor-in-chief": "editor", "compiler": "editor",
    "compiled": "editor", "collected": "editor", "assembled": "editor", "presenter": "presenter",
    "presented": "presenter", "translator": "translator", "translated": "translator",
    "introduction": "contributor",
}
PROCITE_ROLE_NOTES = {
    "Artist Role", "Series Editor Role", "Editor/Compiler Role", "Cartographer Role", "Composer Role",
    "Producer Role", "Director Role", "Performer Role", "Author Role",
}
_PROCITE_NOTE = re.compile(r"^([A-Za-z,\s]+?)\s*:\s*([\s\S]*)$")
_CREATOR_TAGS = ("A1", "A2", "A3")


@dataclass
class ProCiteState:
    """Whether the file has shown itself to be a ProCite export (a note turned into a field)."""

    seen: bool = False


def clean_procite(values: List[TaggedValue], ris_type: str, item_type: str, state: ProCiteState,
                  wrapped: bool) -> List[TaggedValue]:
    values = [TaggedValue(v.tag, list(v.lines)) for v in values]

    def retag(value: TaggedValue, tag: Optional[str], text: Optional[str] = None) -> None:
        value.tag = tag or "__dropped"
        if text is not None:
            value.lines = [text]
        state.seen = True

    def retag_all(source: str, target: str) -> None:
        for value in values:
            if value.tag == source:
                value.tag = target

    if state.seen and ris_type in ("CHAP", "BOOK"):
        retag_all("VL", "ET")  # ProCite's VL is the edition of a book
    index = 0
    while index < len(values):
        value = values[index]
        match = _PROCITE_NOTE.match(tag_value(value, wrapped)) if value.tag == "N1" else None
        index += 1
        if not match:
            continue
        label, text = match.group(1), match.group(2).strip()
        if label in ("Author, Subsidiary", "Author, Monographic"):
            tags = {v.tag for v in values}
            tag = "A3" if {"A1", "A2"} <= tags else "A2" if "A1" in tags else "A1"
            names = [_first_last(name) for name in re.split(r";\s*", text)]
            retag(value, tag, names[0])
            for offset, name in enumerate(names[1:]):
                values.insert(index + offset, TaggedValue(tag, [name]))
            index += len(names) - 1
        elif label in PROCITE_ROLE_NOTES:
            tags = []
            for role in re.split(r"\s*(?:,|and)\s*", re.sub(r"s\b|\.|\s+by\b|with an\s*", "", text.lower())):
                creator_type = PROCITE_ROLES.get(role)
                if creator_type:
                    tag = ris_tag_for("creators/" + creator_type, item_type)
                    if not tag:
                        tags = []
                        break
                    if tag not in tags:
                        tags.append(tag)
            if tags and _retag_creators_before(values, index - 1, tags):
                retag(value, None)
        elif label in ("Record ID", "Record Number"):
            retag(value, "ID", text)
        elif label == "Notes":
            value.lines = [text]
        elif label == "Connective Phrase" and text.lower() == "in":
            retag(value, None)
        elif label == "Extent of Work":
            extent = re.fullmatch(r"(\d+)\s*(pages?|p(?:p|gs?)?|vols?|volumes?)\.?", text, re.IGNORECASE)
            field_name = extent and ("numPages" if extent.group(2)[0].lower() == "p" else "numberOfVolumes")
            tag = field_name and ris_tag_for(field_name, item_type)
            if tag:
                retag(value, tag, extent.group(1))
        elif label in PROCITE_FIELDS:
            tag = ris_tag_for(PROCITE_FIELDS[label], item_type)
            if tag:
                retag(value, tag, text)
    if state.seen:
        _procite_type_fixes(values, ris_type, retag_all)
    return [value for value in values if value.tag != "__dropped"]


def _first_last(name: str) -> str:
    """ProCite's ``First Last`` → ``Last, First``."""
    name = name.strip()
    if "," in name or " " not in name:
        return name
    first, last = name.rsplit(" ", 1)
    return f"{last}, {first}"


def _retag_creators_before(values: List[TaggedValue], index: int, tags: List[str]) -> bool:
    """Give the run of same-tag creator lines just before ``index`` the role a ProCite role note
    names (one line per role when it names several)."""
    position = index - 1
    run_tag = values[position].tag if position >= 0 else None
    if run_tag not in _CREATOR_TAGS:
        return False
    while position >= 0 and values[position].tag == run_tag:
        creator = values[position]
        creator.tag = tags[0]
        for extra in tags[1:]:
            values.insert(position + 1, TaggedValue(extra, list(creator.lines)))
        position -= 1
    return True


def _procite_type_fixes(values: List[TaggedValue], ris_type: str, retag_all) -> None:
    if ris_type == "CHAP":
        order = ["TI", "T2", "T3"]  # ProCite lists analytic, monographic, series titles in order
        for value in values:
            if value.tag in ("TI", "T1", "T2", "T3") and order:
                value.tag = order.pop(0)
    if ris_type == "BOOK":
        retag_all("IS", "VL")
    volumes = [v for v in values if v.tag == "VL"]
    if ris_type in ("CHAP", "BOOK") and len(volumes) > 1:
        volumes[0].tag = "ET"
    if ris_type == "COMP":
        retag_all("IS", "ET")
    if ris_type == "BILL":
        retag_all("CY", "T2")
        retag_all("VL", "M1")
        retag_all("SP", "SE")
    if ris_type == "ART":
        retag_all("M1", "M3")


def clean_citavi(values: List[TaggedValue]) -> List[TaggedValue]:
    """Citavi lists libraries (H1) and call numbers (H2); the first pair is the item's own."""
    tags = [value.tag for value in values]
    if "CN" in tags or "DP" in tags or "H2" not in tags:
        return values
    values = [TaggedValue(v.tag, list(v.lines)) for v in values]
    if "H1" not in tags:
        values[tags.index("H2")].tag = "CN"
        return values
    for first, second in zip(values, values[1:]):
        if first.tag == "H1" and second.tag == "H2":
            first.tag, second.tag = "DP", "CN"
            break
    return values


# Words that make a comma-less name an organisation rather than ``Surname Initials``.
_GROUP_WORDS = re.compile(
    r"\b(group|consortium|collaborat\w*|committee|investigators|trialists|society|association|"
    r"network|panel|team|council|organi[sz]ation|institute|university|department|ministry|agency|"
    r"foundation|centre|center|office|board|alliance|registry|study|program|programme|project|"
    r"inc|ltd|corporation|company|research|health|services)\b",
    re.IGNORECASE,
)


def parse_name(written: str) -> Optional[dict]:
    """``Last, First`` (Zotero's rule: before the first comma is the family name), ``Last, First, Jr.``,
    PubMed's ``Last FM``; anything else is an organisation's name, kept whole."""
    text = re.sub(r"\s+", " ", written).strip().strip(";")
    if not text:
        return None
    if "," in text:
        family, given = (part.strip() for part in text.split(",", 1))
        if not family:
            return {"literal": given} if given else None
        person = {"family": family}
        suffix = re.match(r"^(.*?),\s*(Jr\.?|Sr\.?|I{2,3}|IV|2nd|3rd)$", given)
        if suffix:
            given, person["suffix"] = suffix.group(1).strip(), suffix.group(2)
        if given:
            person["given"] = given
        return person
    if not _GROUP_WORDS.search(text) and len(text.split()) <= 4:
        parsed = normalize.parse_surname_initials(text)
        if "family" in parsed:
            return {"family": parsed["family"], "given": parsed["given"]}
    return {"literal": text}


_PMID_DATABASES = re.compile(r"medline|pubmed|\bnlm\b", re.IGNORECASE)


def put_identifiers(record: Record, raw: RawRecord, item: ZoteroItem, wrapped: bool) -> None:
    if "DOI" not in record:
        # Exports put the DOI link in UR or a link tag when they have no DO (or an M3 that is not one).
        for value in raw.values("UR", "L1", "L2", "L3", "L4"):
            for link in tag_value(value, wrapped).split():
                if re.search(r"doi\.org/", link, re.IGNORECASE) and clean_doi(link):
                    record["DOI"] = normalize.normalize_doi(clean_doi(link))
                    break
            if "DOI" in record:
                break
    put_standard_numbers(record, raw, item, wrapped)
    database = " ".join(filter(None, (_first(raw, wrapped, "DB"), _first(raw, wrapped, "DP"))))
    accession = _first(raw, wrapped, "AN")
    if accession and _PMID_DATABASES.search(database) and re.fullmatch(r"\d{1,9}", accession):
        record["PMID"] = normalize.normalize_pmid(accession)
    extra = item.fields.get("extra") or ""
    pmid = re.search(r"^PMID:\s*(\d+)", extra, re.MULTILINE)
    if pmid and "PMID" not in record:
        record["PMID"] = normalize.normalize_pmid(pmid.group(1))
    for value in raw.values("C1", "C2", "C3", "C4", "C5", "C6", "C7", "C8"):
        text = tag_value(value, wrapped)
        if re.fullmatch(r"PMC\d+", text):
            record["PMCID"] = text
            break


_ISSN = re.compile(r"^(\d{4})-?(\d{3}[\dXx])(?![\dXx-])")


def put_standard_numbers(record: Record, raw: RawRecord, item: ZoteroItem, wrapped: bool) -> None:
    """ISSN or ISBN by the shape of each ``SN`` value (a book in a series has an ISSN, a journal
    supplement an ISBN); values of neither shape stay where Zotero puts them."""
    issns, isbns = [], []
    for value in raw.values("SN"):
        for part in re.split(r"\n|;\s*", tag_value(value, wrapped)):
            part = part.strip()
            issn = _ISSN.match(part)
            isbn = isbn_of(part)
            if issn and issn_checks(issn.group(1) + issn.group(2)):
                issns.append(f"{issn.group(1)}-{issn.group(2).upper()}")
            elif isbn:
                isbns.append(isbn)
    if not (issns or isbns):
        return
    if issns:
        record["ISSN"] = list(dict.fromkeys(issns))
    elif item.fields.get("ISSN"):
        record.pop("ISSN", None)  # the SN Zotero read as an ISSN is an ISBN
    if isbns:
        record["ISBN"] = " ".join(dict.fromkeys(isbns))
    elif record.get("ISBN") == item.fields.get("ISBN"):
        record.pop("ISBN", None)  # the raw SN Zotero put there is the other number
    if record.get("number") and record["number"] == item.fields.get(
        {"patent": "patentNumber", "report": "reportNumber"}.get(item.item_type, "")
    ) and (issns or isbns):
        del record["number"]


def isbn_of(value: str) -> Optional[str]:
    """A valid ISBN at the start of a value (``978-3-16-148410-0 (pbk.)``), without spaces."""
    match = re.match(r"^(?:ISBN(?:-1[03])?:?\s*)?(\d[\d -]{8,16}[\dXx])(?![\w-])", value)
    if not match:
        return None
    digits = re.sub(r"[ -]", "", match.group(1)).upper()
    if isbn_checks(digits):
        return re.sub(r"\s", "", match.group(1)).upper()
    return None


def isbn_checks(digits: str) -> bool:
    """ISBN-10 (mod 11, X = 10) or ISBN-13 (weights 1, 3) check digit."""
    if len(digits) == 10 and digits[:9].isdigit() and (digits[9].isdigit() or digits[9] == "X"):
        values = [int(d) for d in digits[:9]] + [10 if digits[9] == "X" else int(digits[9])]
        return sum((10 - i) * v for i, v in enumerate(values)) % 11 == 0
    if len(digits) == 13 and digits.isdigit():
        return sum((3 if i % 2 else 1) * int(d) for i, d in enumerate(digits)) % 10 == 0
    return False


def issn_checks(digits: str) -> bool:
    """ISSN check digit (mod 11, X = 10): a report number of the same shape is not an ISSN."""
    digits = digits.upper()
    total = sum((8 - i) * int(d) for i, d in enumerate(digits[:7]))
    check = (11 - total % 11) % 11
    return digits[7] == ("X" if check == 10 else str(check))


def fix_container_titles(record: Record) -> None:
    """Put right a journal title and abbreviation the exporter swapped (EndNote writes PubMed's
    ``Scand J Respir Dis Suppl`` in T2 and the full title in J2)."""
    title, short = record.get("container-title"), record.get("container-title-short")
    if title and short and abbreviates(title, short) and not abbreviates(short, title):
        record["container-title"], record["container-title-short"] = short, title
    if record.get("title-short") and record.get("title-short") == record.get("title"):
        del record["title-short"]


_STOP_WORDS = {"of", "the", "and", "for", "in", "on", "de", "la", "du", "der", "und", "a", "an", "&"}


def abbreviates(short: str, full: str) -> bool:
    """Whether ``short`` is an abbreviation of ``full``: shorter, and each of its words, in order, the
    letters of a word of ``full`` starting with the same letter (``Natl`` for ``National``)."""
    short_words = re.findall(r"[^\W\d_]+", normalize.fold(short))
    full_words = [w for w in re.findall(r"[^\W\d_]+", normalize.fold(full)) if w not in _STOP_WORDS]
    if not short_words or len(short) >= len(full):
        return False
    position = 0
    for word in short_words:
        while position < len(full_words) and not _letters_in(word, full_words[position]):
            position += 1
        if position == len(full_words):
            return False
        position += 1
    return True


def _letters_in(abbreviation: str, word: str) -> bool:
    if abbreviation[0] != word[0]:
        return False
    letters = iter(word)
    return all(letter in letters for letter in abbreviation)


def put_article_number(record: Record, raw: RawRecord, wrapped: bool) -> None:
    """EndNote and Scopus write an article number in C7; it is the page of an article without one."""
    if "page" in record or not record["type"].startswith("article"):
        return
    number = _first(raw, wrapped, "C7")
    if number and re.fullmatch(r"[A-Za-z]?\d[\w.-]*", number):
        record["page"] = number


def affiliations_of(raw: RawRecord, author_count: int, wrapped: bool) -> List[dict]:
    """One affiliation per AD line (or ``;``-separated part). RIS does not say whose it is, so the
    author position is known only when there is a single author."""
    position = 1 if author_count == 1 else None
    out = []
    for value in raw.values("AD"):
        for part in re.split(r"\n|;\s+", tag_value(value, wrapped)):
            part = part.strip().strip(";").strip()
            if part:
                out.append({"author_position": position, "raw": part})
    return out
