"""Conformance: our parsers against Zotero's own import test cases.

Each file of ``../shared/corpus/zotero-translators/`` is a list of ``{"input": text, "items": [...]}``
taken from a Zotero import translator. Every case's input goes through our parser for that format;
Zotero's expected items go through ``ingest.zotero_map.item_to_record``; the two lists of records are
compared item by item, in order, on the bibliographic fields in COMPARED_FIELDS.

    python bench/conformance.py                 # the per-format table
    python bench/conformance.py --format ris --misses

A case is exact when both sides have the same number of items and every item matches on every compared
field. ``run(fmt)`` returns the figures and the misses for tests.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import io
import json
import os
import re
import sys
import unicodedata
from pathlib import Path
from typing import Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script from anywhere
    sys.path.insert(0, str(ROOT))

from ingest.normalize import normalize_doi, split_pages  # noqa: E402
from ingest.records import CREATOR_ROLES, Record  # noqa: E402
from ingest.sources import FORMATS  # noqa: E402
from ingest.zotero_map import item_to_record  # noqa: E402

# Our format name → the corpus file of Zotero's test cases for it.
CASE_FILES: Dict[str, str] = {
    "ris": "ris.json",
    "bibtex": "bibtex.json",
    "medline": "medline-nbib.json",
    "pubmed-xml": "pubmed-xml.json",
    "csl-json": "csl-json.json",
    "endnote-xml": "endnote-xml.json",
    "refer-bibix": "refer-bibix.json",
}

COMPARED_FIELDS = (
    "type", "title", "creators", "year", "date", "container-title", "volume", "issue", "page",
    "DOI", "ISSN",
)


def corpus_dir() -> Path:
    """Same rule as tests/conftest.py: ``$REFSETTE_SHARED/corpus`` or ``../shared/corpus``."""
    return Path(os.environ.get("REFSETTE_SHARED", ROOT.parent / "shared")) / "corpus"


def load_cases(fmt: str, corpus: Optional[Path] = None) -> List[dict]:
    path = (corpus or corpus_dir()) / "zotero-translators" / CASE_FILES[fmt]
    return json.loads(path.read_text(encoding="utf-8"))


def parser_for(fmt: str):
    """The parser module for ``fmt``, or None while nobody has written it.

    Only a missing module counts as "no parser": an ImportError inside an existing module is a bug
    and propagates.
    """
    module_name = FORMATS.get(fmt)
    if module_name is None or importlib.util.find_spec(module_name) is None:
        return None
    return importlib.import_module(module_name)


# --- normalisation: only what is representation, never content -------------------------------------

# Zotero keeps rich-text markup in titles (<i>, <b>, <sup>, <sub>, small-caps and nocase spans);
# it is formatting, and other formats carry the same title as plain text or LaTeX.
_MARKUP = re.compile(r"</?(?:i|b|u|sup|sub|sc|span)(?:\s[^>]*)?>", re.IGNORECASE)
# Every dash between page numbers is typography: "330–339", "330—339" and "330-339" are one range.
_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
# Initials are written "J. L.", "J.L." or "JL" by different exporters.
_INITIALS_ONLY = re.compile(r"^[A-Z\u00C0-\u00DE]( [A-Z\u00C0-\u00DE])*$")


def text(value) -> Optional[str]:
    """Unicode NFC and collapsed whitespace: composed/decomposed accents and line wrapping are
    representation."""
    if value is None:
        return None
    out = re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(value))).strip()
    return out or None


def title_view(value) -> Optional[str]:
    return text(_MARKUP.sub("", str(value))) if value else None


def page_view(value) -> Optional[str]:
    # Spaces around the dash ("330 - 339") are line-setting, not content.
    return text(_DASHES.sub("-", str(value)).replace(" ", "")) if value else None


def doi_view(value) -> Optional[str]:
    # DOIs are case-insensitive by definition; "doi:"/"https://doi.org/" prefixes are transport.
    if not value:
        return None
    return normalize_doi(str(value)) or text(str(value).lower())


def issn_view(value) -> Optional[str]:
    # The hyphen is optional in an ISSN and several ISSNs come in any order and separator.
    if not value:
        return None
    values = value if isinstance(value, list) else [value]
    found = set()
    for item in values:
        found.update(
            f"{a}-{b.upper()}" for a, b in re.findall(r"\b(\d{4})-?(\d{3}[\dXx])\b", str(item))
        )
    if found:
        return " ".join(sorted(found))
    return text(" ".join(str(v) for v in values))


def given_view(value) -> Optional[str]:
    given = text(str(value or "").replace(".", " "))
    if given and _INITIALS_ONLY.match(given):
        given = given.replace(" ", "")
    return given


def name_view(name: dict) -> str:
    """A name as ``Family, Given``; a one-part name (a literal, or a family name alone) as itself,
    since CSL renders the two alike and sources rarely say which one they meant."""
    if name.get("literal"):
        return text(name["literal"]) or ""
    family = text(name.get("family")) or ""
    given = given_view(name.get("given"))
    return f"{family}, {given}" if family and given else family or given or ""


def creators_view(record: Record) -> Dict[str, List[str]]:
    """Names per CSL role, in order. Roles are compared one by one because a record keeps each
    role's order but not the interleaving of roles."""
    roles = {}
    for role in CREATOR_ROLES:
        names = record.get(role)
        if isinstance(names, list) and names:
            roles[role] = [name_view(n) for n in names if isinstance(n, dict)]
    return roles


def date_view(record: Record) -> List[int]:
    parts = (record.get("issued") or {}).get("date-parts") or [[]]
    out = []
    for part in (parts[0] or [])[:3]:
        try:
            out.append(int(part))
        except (TypeError, ValueError):
            break
    return out


def compare(ours: Record, zotero: Record) -> List[Tuple[str, object, object, str]]:
    """(field, ours, Zotero's, kind) for every compared field on which the two records differ;
    kind is ``differs``, ``missing`` (Zotero has a value, we do not) or ``extra`` (the reverse)."""
    misses: List[Tuple[str, object, object, str]] = []

    def check(field, a, b):
        a, b = a or None, b or None
        if a != b:
            misses.append((field, a, b, miss_kind(a, b)))

    check("type", ours.get("type"), zotero.get("type"))
    check("title", title_view(ours.get("title")), title_view(zotero.get("title")))
    our_roles, their_roles = creators_view(ours), creators_view(zotero)
    for role in sorted(set(our_roles) | set(their_roles)):
        check(f"creators.{role}", our_roles.get(role), their_roles.get(role))
    our_date, their_date = date_view(ours), date_view(zotero)
    check("year", our_date[:1], their_date[:1])
    # Month and day count only when both sides have them: a source may simply carry less.
    for position, field in ((1, "month"), (2, "day")):
        if len(our_date) > position and len(their_date) > position:
            check(f"date.{field}", our_date[position], their_date[position])
    for field in ("container-title", "volume", "issue"):
        check(field, text(ours.get(field)), text(zotero.get(field)))
    # Our side as the library stores it: the loader expands abbreviated ranges (1306-7 → 1306–1307).
    check("page", page_view(split_pages(ours.get("page"))[0]), page_view(zotero.get("page")))
    check("DOI", doi_view(ours.get("DOI")), doi_view(zotero.get("DOI")))
    our_issns, their_issns = issn_view(ours.get("ISSN")), issn_view(zotero.get("ISSN"))
    if our_issns and their_issns and set(their_issns.split()) < set(our_issns.split()):
        # A journal's print, electronic and linking ISSNs all name it: more of them is more, not wrong.
        misses.append(("ISSN", our_issns, their_issns, "extra"))
    else:
        check("ISSN", our_issns, their_issns)
    return misses


def miss_kind(ours, zotero) -> str:
    """``extra``: we found a value where Zotero's item has none; ``missing``: the reverse;
    ``differs``: both have one."""
    if zotero is None:
        return "extra"
    return "missing" if ours is None else "differs"


def parse_case(module, case_input: str) -> Tuple[List[Record], Optional[str]]:
    """Our records for one case's input, or the error that stopped the parser."""
    records: List[Record] = []
    try:
        for record in module.parse(io.BytesIO(case_input.encode("utf-8"))):
            records.append(record)
    except Exception as error:  # a crash is a finding to report, not a reason to stop the bench
        return records, f"{type(error).__name__}: {error}"
    return records, None


def run(fmt: str, corpus: Optional[Path] = None, strict: bool = False) -> dict:
    """Figures and misses of one format: cases, exact cases, percent, items, items exact.

    A value we find where Zotero's expected item has none (a DOI in a MEDLINE ``AID`` line that Zotero
    does not read) is listed as an ``extra`` miss but leaves the item exact: the suite measures whether
    we reproduce what Zotero reads, not whether we read no more. ``strict=True`` counts extras too.
    """
    cases = load_cases(fmt, corpus)
    expected_items = sum(len(case["items"]) for case in cases)
    result = {
        "format": fmt, "status": "ok", "cases": len(cases), "exact": 0, "percent": None,
        "items": expected_items, "items_exact": 0, "extras": 0, "errors": 0, "misses": [],
    }
    module = parser_for(fmt)
    if module is None:
        result.update(status="no parser", exact=None, items_exact=None, extras=None)
        return result

    for case_index, case in enumerate(cases):
        ours, error = parse_case(module, case["input"])
        theirs = [item_to_record(item) for item in case["items"]]
        case_exact = error is None and len(ours) == len(theirs)
        if error:
            result["errors"] += 1
            result["misses"].append(
                miss(case_index, None, "parse", error, f"{len(theirs)} items", "differs")
            )
        elif len(ours) != len(theirs):
            result["misses"].append(
                miss(case_index, None, "item count", len(ours), len(theirs), "differs")
            )
        for item_index, zotero_record in enumerate(theirs):
            if item_index >= len(ours):
                case_exact = False
                continue
            item_exact = True
            for field, our_value, their_value, kind in compare(ours[item_index], zotero_record):
                result["misses"].append(miss(case_index, item_index, field, our_value, their_value, kind))
                if kind == "extra":
                    result["extras"] += 1
                if kind != "extra" or strict:
                    item_exact = False
            if item_exact:
                result["items_exact"] += 1
            else:
                case_exact = False
        if case_exact:
            result["exact"] += 1
    result["percent"] = round(100.0 * result["exact"] / len(cases), 1) if cases else 0.0
    return result


def miss(case, item, field, ours, zotero, kind) -> dict:
    return {"case": case, "item": item, "field": field, "kind": kind, "ours": ours, "zotero": zotero}


def table(results: List[dict]) -> str:
    header = ("format", "cases", "exact", "%", "items", "items exact", "extras")
    rows = [header]
    for r in results:
        if r["status"] == "no parser":
            rows.append((r["format"], str(r["cases"]), "no parser", "", str(r["items"]), "", ""))
        else:
            rows.append((
                r["format"], str(r["cases"]), str(r["exact"]), f"{r['percent']:.1f}",
                str(r["items"]), str(r["items_exact"]), str(r["extras"]),
            ))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["| " + " | ".join(cell.ljust(w) for cell, w in zip(row, widths)) + " |" for row in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def format_misses(result: dict) -> str:
    lines = []
    for m in result["misses"]:
        where = f"case {m['case']}" + (f" item {m['item']}" if m["item"] is not None else "")
        lines.append(
            f"{result['format']} {where} {m['field']} ({m['kind']}): "
            f"ours {m['ours']!r} / zotero {m['zotero']!r}"
        )
    return "\n".join(lines)


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--format", choices=sorted(CASE_FILES), help="only this format")
    parser.add_argument("--misses", action="store_true", help="list every field that differs")
    parser.add_argument(
        "--strict", action="store_true", help="values Zotero does not have (extras) break exactness too"
    )
    args = parser.parse_args(argv)
    formats = [args.format] if args.format else list(CASE_FILES)
    if not (corpus_dir() / "zotero-translators").is_dir():
        print(f"corpus not found: {corpus_dir()}", file=sys.stderr)
        return 2
    results = [run(fmt, strict=args.strict) for fmt in formats]
    print(table(results))
    if args.misses:
        for result in results:
            if result["misses"]:
                print()
                print(format_misses(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
