"""Conformance with Zotero's own import test cases (bench/conformance.py).

FLOORS holds, per format, the share of Zotero's cases our parser must reproduce exactly. A floor only
ever goes up: raise it when a parser improves, so that no later change can quietly lose a case.
"""

from __future__ import annotations

import importlib.util

import pytest

from conftest import ROOT

FLOORS = {
    "ris": 100.0,
    "bibtex": 95.8,
    "medline": 100.0,
    "pubmed-xml": 100.0,
    "csl-json": 100.0,
}


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_conformance", ROOT / "bench" / "conformance.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


conformance = load_bench()


@pytest.mark.corpus
@pytest.mark.parametrize("fmt", sorted(FLOORS))
def test_exact_cases_above_floor(fmt, corpus):
    if conformance.parser_for(fmt) is None:
        pytest.skip(f"no parser for {fmt} yet (ingest/sources/{conformance.FORMATS[fmt].rsplit('.', 1)[1]}.py)")
    result = conformance.run(fmt, corpus)
    assert result["status"] == "ok"
    misses = "\n".join(conformance.format_misses(result).splitlines()[:20])
    assert result["percent"] >= FLOORS[fmt], (
        f"{fmt}: {result['exact']}/{result['cases']} cases exact ({result['percent']}%), "
        f"floor {FLOORS[fmt]}%\n{misses}"
    )


@pytest.mark.corpus
def test_formats_without_parser_are_reported(corpus):
    result = conformance.run("endnote-xml", corpus)
    assert (result["status"], result["cases"], result["items"]) == ("no parser", 3, 12)
    assert "no parser" in conformance.table([result])


ARTICLE = {
    "type": "article-journal",
    "title": "Molecular structure of nucleic acids",
    "author": [{"family": "Watson", "given": "J. D."}, {"family": "Crick", "given": "F. H. C."}],
    "issued": {"date-parts": [[1953, 4, 25]]},
    "container-title": "Nature",
    "volume": "171",
    "issue": "4356",
    "page": "737-738",
    "DOI": "10.1038/171737a0",
    "ISSN": "0028-0836",
}


@pytest.mark.parametrize(
    "change",
    [
        {"page": "737\u2013738"},  # en dash
        {"page": "737 - 738"},
        {"page": "737-8"},
        {"DOI": "10.1038/171737A0"},
        {"DOI": "https://doi.org/10.1038/171737a0"},
        {"ISSN": "00280836"},
        {"title": "Molecular  structure of\nnucleic acids"},
        {"title": "Molecular structure of <i>nucleic acids</i>"},
        {"title": "Molecular structure of nucleic acids".replace("c a", "c\u00a0a")},
        {"author": [{"family": "Watson", "given": "J D"}, {"family": "Crick", "given": "FHC"}]},
        {"issued": {"date-parts": [[1953, 4]]}},  # less precise: month and day compared only if both have them
        {"abstract": "anything outside the compared fields"},
    ],
)
def test_representation_is_not_a_miss(change):
    # "737-8" is how MEDLINE writes 737-738; the loader expands it, so it is representation too.
    assert conformance.compare({**ARTICLE, **change}, ARTICLE) == []


@pytest.mark.parametrize(
    "change, field",
    [
        ({"page": "737-9"}, "page"),  # expanded as the library stores it (737–739), still not Zotero's range
        ({"title": "Molecular structure of nucleic acids."}, "title"),
        ({"title": "molecular structure of nucleic acids"}, "title"),
        ({"author": [{"family": "Crick", "given": "F. H. C."}, {"family": "Watson", "given": "J. D."}]},
         "creators.author"),
        ({"author": [{"family": "Watson", "given": "James D."}, {"family": "Crick", "given": "F. H. C."}]},
         "creators.author"),
        ({"editor": ARTICLE["author"], "author": None}, "creators.author"),
        ({"issued": {"date-parts": [[1953, 5, 25]]}}, "date.month"),
        ({"issued": {"date-parts": [[1954]]}}, "year"),
        ({"issued": None}, "year"),
        ({"container-title": "Nature (London)"}, "container-title"),
        ({"volume": None}, "volume"),
        ({"issue": "4357"}, "issue"),
        ({"DOI": "10.1038/171737b0"}, "DOI"),
        ({"ISSN": "1476-4687"}, "ISSN"),
        ({"type": "article"}, "type"),
    ],
)
def test_content_difference_is_a_miss(change, field):
    assert field in [m[0] for m in conformance.compare({**ARTICLE, **change}, ARTICLE)]


@pytest.mark.parametrize(
    "ours, zotero",
    [
        ({"literal": "World Health Organization"}, {"family": "World Health Organization"}),
        ({"family": "Okeke", "given": "I. N."}, {"family": "Okeke", "given": "I.N."}),
    ],
)
def test_name_representations(ours, zotero):
    assert conformance.name_view(ours) == conformance.name_view(zotero)


@pytest.mark.parametrize(
    "ours, zotero, field, kind",
    [
        ({"DOI": "10.1186/s40468-019-0086-7"}, {}, "DOI", "extra"),
        ({}, {"DOI": "10.1186/s40468-019-0086-7"}, "DOI", "missing"),
        ({"title": "A"}, {"title": "B"}, "title", "differs"),
        ({"ISSN": ["1552-4450", "1552-4469"]}, {"ISSN": "1552-4469"}, "ISSN", "extra"),
        ({"ISSN": "1552-4469"}, {"ISSN": "1552-4450 1552-4469"}, "ISSN", "differs"),
        ({"editor": [{"literal": "X"}]}, {}, "creators.editor", "extra"),
    ],
)
def test_miss_kinds(ours, zotero, field, kind):
    base = {"type": "article-journal"}
    misses = conformance.compare({**base, **ours}, {**base, **zotero})
    assert [(m[0], m[3]) for m in misses] == [(field, kind)]
