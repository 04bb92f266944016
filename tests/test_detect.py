"""Format detection (ingest.sources.detect): from content, never from the file name.

Every real export of the corpus, every input of Zotero's own import tests and the seed page are
copied under a misleading name (and gzip-compressed) and must still be recognised; files that are
not a supported format, or not text, must give a ParseError that says why.
"""

from __future__ import annotations

import codecs
import gzip
import json
import shutil
from pathlib import Path

import pytest

from conftest import SEEDS
from ingest.records import ParseError
from ingest.sources import FORMATS, detect, parse

# Corpus folders whose every file is of one format.
SAMPLE_FOLDERS = {
    "samples/exports/ris": "ris",
    "samples/exports/medline": "medline",
    "samples/pubmed-xml": "pubmed-xml",
}
# samples/exports/bad: a format name, or the words the error must contain.
BAD_SAMPLES = {
    "rispy-example_utf_chars.ris": "ris",  # BOM, "TY  - Journal Article", title only in ST
    "rispy-example_wos.ris": ParseError("Web of Science"),
}
# Zotero's import test cases per format (an input with no parser of ours is not recognised).
TRANSLATOR_CASES = {
    "ris.json": "ris",
    "bibtex.json": "bibtex",
    "medline-nbib.json": "medline",
    "pubmed-xml.json": "pubmed-xml",
    "csl-json.json": "csl-json",
    "endnote-xml.json": "endnote-xml",
    "refer-bibix.json": "refer-bibix",
}


def misleading_name(expected) -> str:
    """A file name whose extension names another format than the content's."""
    return "references.ris" if expected == "bibtex" else "references.bib"


def check(path: Path, expected) -> str:
    """'' when ``path`` is detected as ``expected`` (a format, or a ParseError with these words),
    else what went wrong."""
    try:
        found = detect(path)
    except ParseError as error:
        if isinstance(expected, ParseError) and expected.message in str(error):
            return ""
        return f"{path.name}: ParseError {error}"
    return "" if found == expected else f"{path.name}: detected {found!r}, expected {expected!r}"


def plain_and_gzipped(data: bytes, expected, folder: Path, label: str) -> list:
    """Check ``data`` as a plain file and as a gzip-compressed one, both misleadingly named."""
    problems = []
    for suffix, content in (("", data), (".gz", gzip.compress(data))):
        copy = folder / f"{label}-{misleading_name(expected)}{suffix}"
        copy.write_bytes(content)
        problem = check(copy, expected)
        if problem:
            problems.append(f"{label}{suffix}: {problem}")
    return problems


@pytest.mark.corpus
@pytest.mark.parametrize("folder, expected", sorted(SAMPLE_FOLDERS.items()))
def test_every_real_export_is_detected(corpus, tmp_path, folder, expected):
    files = sorted(p for p in (corpus / folder).iterdir() if p.is_file() and p.suffix != ".md")
    assert files, f"no samples in {folder}"
    problems = [check(path, expected) for path in files]
    for path in files:
        problems += plain_and_gzipped(path.read_bytes(), expected, tmp_path, path.name)
    assert not [p for p in problems if p]


@pytest.mark.corpus
def test_bad_exports_are_detected_or_clearly_refused(corpus, tmp_path):
    folder = corpus / "samples" / "exports" / "bad"
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix != ".md")
    assert files == sorted(BAD_SAMPLES), "a new file in bad/ needs its expected outcome here"
    problems = []
    for name, expected in BAD_SAMPLES.items():
        problems.append(check(folder / name, expected))
        problems += plain_and_gzipped((folder / name).read_bytes(), expected, tmp_path, name)
    assert not [p for p in problems if p]


@pytest.mark.corpus
def test_web_of_science_error_names_the_file_and_the_way_out(corpus):
    path = corpus / "samples" / "exports" / "bad" / "rispy-example_wos.ris"
    with pytest.raises(ParseError) as caught:
        detect(path)
    assert caught.value.path == str(path) and caught.value.location == "line 1"
    assert "export the records as RIS" in caught.value.message


@pytest.mark.corpus
@pytest.mark.parametrize("case_file, fmt", sorted(TRANSLATOR_CASES.items()))
def test_zotero_translator_inputs_are_detected(corpus, tmp_path, case_file, fmt):
    cases = json.loads((corpus / "zotero-translators" / case_file).read_text(encoding="utf-8"))
    expected = fmt if fmt in FORMATS else ParseError("format not recognised")
    problems = []
    for number, case in enumerate(cases):
        problems += plain_and_gzipped(case["input"].encode("utf-8"), expected, tmp_path, f"case{number}")
    assert cases and not problems


def test_seed_page_is_a_bibliography_page(tmp_path):
    seed = SEEDS / "trastuzumab.txt"
    assert detect(seed) == "bibpage"
    assert not plain_and_gzipped(seed.read_bytes(), "bibpage", tmp_path, "seed")


@pytest.mark.corpus
def test_zotero_databases_are_detected_by_their_header(corpus, tmp_path):
    databases = sorted((corpus / "samples" / "zotero-sqlite").glob("*.sqlite"))
    assert databases
    for database in databases:
        copy = tmp_path / f"{database.stem}.txt"
        shutil.copyfile(database, copy)
        assert detect(copy) == "zotero-sqlite", database.name


# --- files that are not what they seem --------------------------------------------------------


@pytest.mark.parametrize(
    "content, words",
    [
        (b"", "empty file"),
        (b"  \n\n\t\n", "empty file"),
        (gzip.compress(b""), "empty file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "not UTF-8 text: byte 0x89 at offset 0"),
        (bytes(range(32)) * 8, "format not recognised"),
        (gzip.compress(b"TY  - JOUR\nER  - \n")[:20], "damaged gzip file"),
        (b"Dear colleague,\nplease find the papers attached.\n", "format not recognised"),
    ],
    ids=["empty", "blank", "empty-gzip", "png", "control-bytes", "truncated-gzip", "prose"],
)
def test_unreadable_files_are_parse_errors(tmp_path, content, words):
    path = tmp_path / "upload.ris"
    path.write_bytes(content)
    with pytest.raises(ParseError) as caught:
        detect(path)
    assert words in str(caught.value) and caught.value.path == str(path)


@pytest.mark.corpus
def test_latin1_file_is_refused_at_its_first_non_utf8_line(corpus, tmp_path):
    original = corpus / "samples" / "exports" / "medline" / "searchbuildR-testset_pubmed.txt"
    text = original.read_text(encoding="utf-8")
    first_line = next(n for n, line in enumerate(text.split("\n"), 1) if any(ord(c) > 127 for c in line))
    path = tmp_path / "pubmed.txt"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(ParseError) as caught:
        detect(path)
    assert "not UTF-8 text" in caught.value.message and "save the file as UTF-8" in caught.value.message
    assert caught.value.location == f"line {first_line}"


@pytest.mark.corpus
@pytest.mark.parametrize("bom, encoding", [(codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_utf16_file_with_bom_is_decoded(corpus, tmp_path, bom, encoding):
    original = corpus / "samples" / "exports" / "bad" / "rispy-example_utf_chars.ris"
    text = original.read_text(encoding="utf-8-sig")
    path = tmp_path / "export.txt"
    path.write_bytes(bom + text.encode(encoding))
    assert detect(path) == "ris"
    assert list(parse(path)) == list(parse(original))
    assert any(ord(c) > 1000 for c in json.dumps(list(parse(path)), ensure_ascii=False))
