"""Seeds and mutations for fuzzing the parsers (``tests/test_fuzz.py`` and ``bench/fuzz.py``).

Seeds are real records: the project's fixtures under ``tests/fixtures/`` and, when the corpus is beside
the repository, Zotero's import test cases and the real exports in ``../shared/corpus``. Big files are
cut into single records (a fuzzer spends its time where the records are read, not in re-reading one
long file).

A mutation is a tuple ``(operation, a, b, c)`` of plain values, so a failing input is reproduced from
its seed and its list of mutations alone (``mutate``), and hypothesis can shrink both.
"""

from __future__ import annotations

import io
import json
import os
import random
import re
import traceback
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ingest.records import ParseError
from ingest.sources import FORMATS, module_for

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"

# The text formats fuzzed byte-wise; zotero-sqlite is a database, fuzzed by its own pages (bench only).
TEXT_FORMATS = ("bibtex", "ris", "csl-json", "medline", "pubmed-xml", "bibpage")

# Zotero's test-case files per format (corpus/zotero-translators).
CASE_FILES = {
    "bibtex": "bibtex.json",
    "ris": "ris.json",
    "csl-json": "csl-json.json",
    "medline": "medline-nbib.json",
    "pubmed-xml": "pubmed-xml.json",
}
FIXTURE_GLOBS = {
    "bibtex": ["bibtex/*.bib", "crosssource/*.bib"],
    "ris": ["ris/*", "crosssource/*.ris"],
    "csl-json": ["csljson/*.json", "exports/*.json"],
    "medline": ["medline/*"],
    "pubmed-xml": ["pubmed_xml/*.xml"],
    "bibpage": ["bibpage/*.txt"],
}
CORPUS_GLOBS = {
    "ris": ["samples/exports/ris/*", "samples/exports/bad/*.ris"],
    "medline": ["samples/exports/medline/*"],
    "pubmed-xml": ["samples/pubmed-xml/*.xml"],
}
SEED_GLOBS_IN_REPO = {"bibpage": ["seeds/trastuzumab.txt"], "pubmed-xml": ["seeds/pubmed-sample.xml"]}

# Seeds longer than this are cut into records (or left out when they cannot be cut).
MAX_SEED_BYTES = 24_000

# Characters whose loss breaks a format's structure: deleting one is a mutation of its own.
STRUCTURAL = b"{}[]()<>@,=\"':;-/\\#%&$\n"

# Tokens a parser treats specially, spliced in at random places.
TOKENS: Dict[str, List[bytes]] = {
    "bibtex": [b"@article{", b"@string{", b"@comment{", b"@preamble{", b"crossref = {", b"xdata = {",
               b"date = {", b"year = {", b"author = {", b" and ", b" and others", b"{\\\"o}", b"$_2$",
               b"\\textit{", b"\\url{", b"#", b"}", b"{", b"month = jan", b"pages = {1--}", b"@set{s,",
               b"entryset = {", b"date = {2020/..}", b"date = {-0044}", b"{{}}", b"\\", b"%"],
    "ris": [b"TY  - JOUR\n", b"ER  - \n", b"AU  - ", b"PY  - ", b"DA  - ", b"SP  - ", b"EP  - ", b"SN  - ",
            b"N1  - Record ID: ", b"N1  - Author, Subsidiary: ", b"N1  - Author Role: ", b"H1  - ",
            b"H2  - ", b"C7  - ", b"DO  - http://dx.doi.org/", b"TY  - CHAP\n", b"TY  - BOOK\n",
            b"TY  - Journal Article\n", b"2019//", b"///Spring", "\u2028".encode(),
            b"N1  - Extent of Work: 12 pages", b"ST  - ", b"UR  - "],
    "csl-json": [b"null", b"true", b"[]", b"{}", b"[[]]", b"-1", b"1e999", b"99999999999999999999999",
                 b"\"date-parts\": [[", b"\"author\": ", b"\"literal\"", b"\"\\u0000\"", b"\"\\ud800\"",
                 b"NaN", b"Infinity", b"{\"family\": {}}", b"\"issued\": ", b"\"keyword\": ",
                 b"\"references\": "],
    "medline": [b"PMID- ", b"PMID- 1\n", b"PMC - ", b"FAU - ", b"AU  - ", b"AD  - ", b"AUID- ", b"DP  - ",
                b"LID - ", b" [doi]", b"PG  - ", b"TI  - ", b"MH  - ", b"      ", b"ISBN - ", b"OT  - ",
                b"SO  - ", b"PT  - ", b"\n\n"],
    "pubmed-xml": [b"<PubmedArticle>", b"</PubmedArticle>", b"<PMID>", b"</PMID>", b"<MedlineDate>",
                   b"<Author>", b"<CollectiveName>", b"<i>", b"<sup>", b"&nbsp;", b"&amp;", b"&#0;",
                   b"&#xD800;", b"<!ENTITY x \"y\">", b"&x;", b"<![CDATA[", b"]]>", b"<DeleteCitation>",
                   b"<PubmedBookArticle>", b"<Year>", b"<Month>Feb</Month>", b"<Day>31</Day>",
                   b"<MedlinePgn>", b"<ELocationID EIdType=\"doi\">"],
    "bibpage": [b"Summary: ", b"\n  1. ", b" pubmed", b" publisher", b". 2017;", b";12(3):", b":e0173593",
                b" author reply 71", b"\n    ..", b"et al", b"Top Publications\n", b"99999. "],
}

# (operation, a, b, c): a and b are positions or counts taken modulo the input's size, c a byte.
Mutation = Tuple[str, int, int, int]
OPERATIONS = (
    "truncate", "flip", "delete_range", "insert_bytes", "delete_structural", "delete_line",
    "duplicate_line", "swap_lines", "repeat_chunk", "insert_token", "reencode", "delete_tag",
    "json_value",
)
ENCODINGS = ("utf-16", "utf-16-le", "utf-16-be", "utf-32", "latin-1", "utf-8-sig", "crlf", "cr",
             "cp1252")
JSON_VALUES = (None, True, False, 0, -1, 1.5, 1e308, -(10 ** 30), 10 ** 30, "", " ", "x", "2019//",
               [], {}, [[]], [None], [[2020, 13, 45]], {"date-parts": [[None]]}, {"literal": None},
               {"family": []}, ["a", ["b"]], "\u0000", "\u202e", "a" * 300)


def corpus_dir() -> Path:
    return Path(os.environ.get("REFSETTE_SHARED", ROOT.parent / "shared")) / "corpus"


# ---- seeds -------------------------------------------------------------------------------------


def split_records(fmt: str, data: bytes) -> List[bytes]:
    """A file cut into single-record files of the same format (the whole file when it is small)."""
    if len(data) <= MAX_SEED_BYTES:
        return [data]
    text = data.decode("utf-8", errors="replace")
    if fmt == "ris":
        parts = [p + "ER  - \n" for p in re.split(r"(?m)^ER {1,2}-.*\n?", text) if "TY  -" in p]
    elif fmt == "medline":
        parts = [p + "\n" for p in re.split(r"\n\s*\n", text) if p.strip()]
    elif fmt == "bibtex":
        parts = ["@" + p for p in re.split(r"(?m)^@", text) if p.strip()]
    elif fmt == "pubmed-xml":
        parts = [
            "<?xml version=\"1.0\"?>\n<PubmedArticleSet>\n" + p + "\n</PubmedArticleSet>\n"
            for p in re.findall(r"<PubmedArticle>.*?</PubmedArticle>", text, re.S)
        ]
    elif fmt == "csl-json":
        try:
            items = json.loads(text)
        except ValueError:
            return []
        parts = [json.dumps([item], ensure_ascii=False) for item in items] if isinstance(items, list) else []
    else:
        parts = []
    return [p.encode("utf-8") for p in parts if len(p.encode("utf-8")) <= MAX_SEED_BYTES]


def seeds(fmt: str, corpus: Optional[Path] = None) -> List[Tuple[str, bytes]]:
    """(name, bytes) of the real records a format is fuzzed from."""
    corpus = corpus if corpus is not None else corpus_dir()
    found: List[Tuple[str, bytes]] = []

    def add(name: str, data: bytes) -> None:
        pieces = split_records(fmt, data)
        for index, piece in enumerate(pieces):
            found.append((f"{name}#{index + 1}" if len(pieces) > 1 else name, piece))

    for pattern in FIXTURE_GLOBS.get(fmt, []):
        for path in sorted(FIXTURES.glob(pattern)):
            add(f"tests/fixtures/{path.relative_to(FIXTURES)}", path.read_bytes())
    for pattern in SEED_GLOBS_IN_REPO.get(fmt, []):
        for path in sorted(ROOT.glob(pattern)):
            add(str(path.relative_to(ROOT)), path.read_bytes())
    if corpus.is_dir():
        for pattern in CORPUS_GLOBS.get(fmt, []):
            for path in sorted(corpus.glob(pattern)):
                add(f"corpus/{path.relative_to(corpus)}", path.read_bytes())
        if fmt == "csl-json":
            found.extend(csl_json_seeds(corpus))
        case_file = corpus / "zotero-translators" / CASE_FILES.get(fmt, "-")
        if case_file.is_file():
            for number, case in enumerate(json.loads(case_file.read_text("utf-8")), start=1):
                add(f"corpus/zotero-translators/{case_file.name}[{number}]", case["input"].encode("utf-8"))
    return found


def csl_json_seeds(corpus: Path) -> List[Tuple[str, bytes]]:
    """Real exports of other formats as CSL-JSON: the canonical record is CSL-JSON, so the records our
    MEDLINE and PubMed XML readers make of the corpus are CSL-JSON items with real-world values."""
    found = []
    for fmt, pattern in (("medline", "samples/exports/medline/*"), ("pubmed-xml", "samples/pubmed-xml/*.xml"),
                         ("ris", "samples/exports/ris/*")):
        for path in sorted(corpus.glob(pattern)):
            try:
                records = list(module_for(fmt).parse(path))
            except ParseError:
                continue
            for start in range(0, len(records), 5):
                items = [dict(record, id=record.get("source_key")) for record in records[start:start + 5]]
                data = json.dumps(items, ensure_ascii=False, default=str).encode("utf-8")
                found.append((f"corpus/{path.relative_to(corpus)} as CSL-JSON #{start // 5 + 1}", data))
    return found


# ---- mutations ---------------------------------------------------------------------------------


def _lines(data: bytes) -> List[bytes]:
    return data.split(b"\n")


def reencode(data: bytes, which: int) -> bytes:
    """The same text in another encoding or with other line endings (a lossy encoding replaces)."""
    encoding = ENCODINGS[which % len(ENCODINGS)]
    text = data.decode("utf-8", errors="replace")
    if encoding == "crlf":
        return text.replace("\n", "\r\n").encode("utf-8")
    if encoding == "cr":
        return text.replace("\n", "\r").encode("utf-8")
    if encoding in ("utf-16-le", "utf-16-be"):
        # No BOM: the way some Windows tools write it.
        return text.encode(encoding)
    return text.encode(encoding, errors="replace")


def json_value(data: bytes, a: int, b: int) -> bytes:
    """A JSON document with one of its values (the a-th, depth-first) replaced by a value of another
    type; not JSON: unchanged."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return data
    slots: List[Tuple[object, object]] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key in list(node):
                slots.append((node, key))
                walk(node[key])
        elif isinstance(node, list):
            for index in range(len(node)):
                slots.append((node, index))
                walk(node[index])

    walk(document)
    if not slots:
        return data
    container, key = slots[a % len(slots)]
    container[key] = JSON_VALUES[b % len(JSON_VALUES)]
    return json.dumps(document, ensure_ascii=b % 2 == 0).encode("utf-8")


_XML_ELEMENT = re.compile(rb"<([A-Za-z][\w.-]*)[^<>]*>[^<]*</\1>")
_XML_TAG = re.compile(rb"</?[A-Za-z][^<>]*>")
_TAG_PREFIX = re.compile(rb"(?m)^[A-Z][A-Z0-9]{1,3} {0,3}- ?")


def delete_tag(fmt: str, data: bytes, a: int, b: int) -> bytes:
    """Remove a piece of markup: an XML element or tag, a RIS/MEDLINE tag prefix, a BibTeX field name
    or an ``@type{`` head."""
    if fmt == "pubmed-xml":
        pattern = _XML_ELEMENT if b % 2 else _XML_TAG
    elif fmt in ("ris", "medline"):
        pattern = _TAG_PREFIX
    elif fmt == "bibtex":
        pattern = re.compile(rb"@\w+\s*[{(]" if b % 2 else rb"\w+\s*=\s*")
    elif fmt == "csl-json":
        pattern = re.compile(rb"\"[\w-]+\"\s*:\s*")
    else:
        pattern = re.compile(rb"(?m)^\s*\d+\.\s+" if b % 2 else rb"\d{4};")
    matches = list(pattern.finditer(data))
    if not matches:
        return data
    match = matches[a % len(matches)]
    return data[: match.start()] + data[match.end():]


def apply(fmt: str, data: bytes, mutation: Mutation) -> bytes:
    operation, a, b, c = mutation
    size = max(len(data), 1)
    if operation == "truncate":
        return data[: a % size]
    if operation == "flip":
        if not data:
            return bytes([c])
        position = a % len(data)
        return data[:position] + bytes([data[position] ^ (c or 1)]) + data[position + 1:]
    if operation == "delete_range":
        start = a % size
        return data[:start] + data[start + 1 + b % 64:]
    if operation == "insert_bytes":
        position = a % (len(data) + 1)
        junk = bytes((c * (i + 7) + b) % 256 for i in range(1 + b % 16))
        return data[:position] + junk + data[position:]
    if operation == "delete_structural":
        positions = [i for i, byte in enumerate(data) if byte in STRUCTURAL]
        if not positions:
            return data
        position = positions[a % len(positions)]
        return data[:position] + data[position + 1:]
    if operation in ("delete_line", "duplicate_line", "swap_lines"):
        lines = _lines(data)
        i, j = a % len(lines), b % len(lines)
        if operation == "delete_line":
            del lines[i]
        elif operation == "duplicate_line":
            lines.insert(j, lines[i])
        else:
            lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)
    if operation == "repeat_chunk":
        start = a % size
        chunk = data[start: start + 1 + b % 200]
        return data[:start] + chunk * (2 + c % 3) + data[start:]
    if operation == "insert_token":
        tokens = TOKENS[fmt]
        position = a % (len(data) + 1)
        return data[:position] + tokens[b % len(tokens)] + data[position:]
    if operation == "reencode":
        return reencode(data, a)
    if operation == "delete_tag":
        return delete_tag(fmt, data, a, b)
    if operation == "json_value":
        return json_value(data, a, b) if fmt == "csl-json" else data
    raise ValueError(f"unknown mutation {operation!r}")


def mutate(fmt: str, data: bytes, mutations: Sequence[Mutation]) -> bytes:
    for mutation in mutations:
        data = apply(fmt, data, mutation)
    return data


def random_mutations(rng: random.Random, fmt: str) -> List[Mutation]:
    """One to four mutations, the structure-aware ones more often for the formats they suit."""
    operations = list(OPERATIONS)
    if fmt == "csl-json":
        operations += ["json_value"] * 6
    if fmt == "pubmed-xml":
        operations += ["delete_tag"] * 3
    count = rng.choice((1, 1, 1, 2, 2, 3, 4))
    return [
        (rng.choice(operations), rng.randrange(1 << 20), rng.randrange(1 << 16), rng.randrange(256))
        for _ in range(count)
    ]


# ---- the property ------------------------------------------------------------------------------


def sniffers() -> List[Callable[[str], bool]]:
    return [module_for(fmt).sniff for fmt in FORMATS]


def check(fmt: str, data: bytes, skip_bad: bool) -> Optional[BaseException]:
    """Parse ``data`` as ``fmt`` (and show its head to every format's sniffer): None when only
    records or ``ParseError`` came out, else the exception that escaped."""
    head = data[:65536].decode("utf-8", errors="ignore")
    try:
        for sniff in sniffers():
            sniff(head)
        stream = module_for(fmt).parse(io.BytesIO(data), skip_bad=skip_bad)
        for record in stream:
            if not isinstance(record, dict):
                raise TypeError(f"parser yielded {type(record).__name__}, not a record")
        for error in stream.errors:
            if not isinstance(error, ParseError):
                raise TypeError(f"errors holds {type(error).__name__}, not ParseError")
    except ParseError:
        return None
    except Exception as error:  # noqa: BLE001 - anything else escaping is what the fuzzer looks for
        return error
    return None


def describe(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "ingest" in f.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    return f"{type(error).__name__}: {error} (at {where})"


# ---- zotero.sqlite -----------------------------------------------------------------------------

# Tables the Zotero reader never reads: dropped from the fuzzing seeds, so that a mutation lands in
# data that is read (and each input is a quarter of the size).
ZOTERO_UNREAD_TABLES = (
    "charsets", "collectionRelations", "dbDebug1", "deletedSearches", "feedItems", "fieldFormats",
    "fileTypeMimeTypes", "fileTypes", "fulltextItemWords", "fulltextItems", "fulltextWords", "groupItems",
    "highlights", "itemAnnotations", "itemSeeAlso", "proxies", "proxyHosts", "publicationsItems",
    "retractedItems", "savedSearchConditions", "savedSearches", "storageDeleteLog", "syncCache",
    "syncDeleteLog", "syncObjectTypes", "syncQueue", "syncedSettings", "transactionLog",
    "transactionSets", "transactions", "translatorCache", "version", "zoteroDummyTable",
)


def zotero_seeds(corpus: Optional[Path] = None) -> List[Tuple[str, bytes]]:
    """The corpus' real zotero.sqlite files, without the tables the reader never reads."""
    import sqlite3
    import tempfile

    corpus = corpus if corpus is not None else corpus_dir()
    found = []
    for path in sorted((corpus / "samples" / "zotero-sqlite").glob("*.sqlite")):
        with tempfile.TemporaryDirectory(prefix="refsette-fuzz-") as tmp:
            copy = Path(tmp) / "zotero.sqlite"
            copy.write_bytes(path.read_bytes())
            connection = sqlite3.connect(copy)
            connection.execute("PRAGMA foreign_keys = OFF")
            connection.execute("PRAGMA synchronous = OFF")  # a scratch copy: no need to wait for the disk
            connection.execute("PRAGMA journal_mode = MEMORY")
            for (trigger,) in connection.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
                connection.execute(f"DROP TRIGGER [{trigger}]")
            for table in ZOTERO_UNREAD_TABLES:
                connection.execute(f"DROP TABLE IF EXISTS [{table}]")
            connection.commit()
            connection.execute("VACUUM")
            connection.close()
            found.append((f"corpus/samples/zotero-sqlite/{path.name}", copy.read_bytes()))
    return found


def sqlite_mutations(rng: random.Random, size: int) -> List[Mutation]:
    """Page-aware damage to a database: bytes flipped in a page, a page zeroed, the file cut at a page
    boundary or inside one, a page copied over another."""
    pages = max(size // 4096, 1)
    out = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        kind = rng.choice(("flip", "flip", "flip", "zero_page", "truncate", "truncate_page", "copy_page",
                           "header"))
        out.append((kind, rng.randrange(pages), rng.randrange(4096), rng.randrange(256)))
    return out


def damage_sqlite(data: bytes, mutations: Sequence[Mutation]) -> bytes:
    page_size = 4096
    for kind, page, offset, byte in mutations:
        pages = max(len(data) // page_size, 1)
        page %= pages
        position = min(page * page_size + offset, max(len(data) - 1, 0))
        if kind == "flip" and data:
            data = data[:position] + bytes([data[position] ^ (byte or 1)]) + data[position + 1:]
        elif kind == "zero_page":
            data = data[: page * page_size] + bytes(page_size) + data[(page + 1) * page_size:]
        elif kind == "truncate":
            data = data[:position]
        elif kind == "truncate_page":
            data = data[: max(page, 1) * page_size]
        elif kind == "copy_page":
            source = data[(byte % pages) * page_size: (byte % pages + 1) * page_size]
            data = data[: page * page_size] + source + data[page * page_size + len(source):]
        elif kind == "header":
            # The 100-byte header: page size, reserved bytes, schema cookie, text encoding …
            position = 16 + offset % 84
            data = data[:position] + bytes([byte]) + data[position + 1:]
    return data


def check_sqlite(data: bytes) -> Optional[BaseException]:
    """Read ``data`` as a zotero.sqlite: None when only records or ``ParseError`` came out."""
    try:
        for record in module_for("zotero-sqlite").parse(io.BytesIO(data)):
            if not isinstance(record, dict):
                raise TypeError(f"parser yielded {type(record).__name__}, not a record")
    except ParseError:
        return None
    except Exception as error:  # noqa: BLE001 - anything else escaping is what the fuzzer looks for
        return error
    return None
