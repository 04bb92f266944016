import pytest

from ingest import normalize as norm


@pytest.mark.parametrize("raw, expected", [
    ("1306-7", ("1306–1307", "1306", "1307")),
    ("309-18", ("309–318", "309", "318")),
    ("e369-70", ("e369–e370", "e369", "e370")),
    ("S110-2", ("S110–S112", "S110", "S112")),
    ("S58-9", ("S58–S59", "S58", "S59")),
    ("R116", ("R116", "R116", None)),
    ("e0173593", ("e0173593", "e0173593", None)),
    ("122-131", ("122–131", "122", "131")),
    ("122–131", ("122–131", "122", "131")),
    ("0012-0015", ("0012–0015", "0012", "0015")),
    ("1010428317707436", ("1010428317707436", "1010428317707436", None)),
    ("", (None, None, None)),
    (None, (None, None, None)),
    ("12-12", ("12", "12", None)),
    ("1, 5-8", ("1, 5-8", "1", "8")),
])
def test_split_pages(raw, expected):
    assert norm.split_pages(raw) == expected


@pytest.mark.parametrize("raw, expected", [
    ("10.1200/JCO.2010.29.8144", "10.1200/jco.2010.29.8144"),
    ("https://doi.org/10.1038/nature12373", "10.1038/nature12373"),
    ("http://dx.doi.org/10.1016/j.ejca.2017.05.009.", "10.1016/j.ejca.2017.05.009"),
    ("doi: 10.1002/ijc.30", "10.1002/ijc.30"),
    ("not a doi", None),
    (None, None),
])
def test_normalize_doi(raw, expected):
    assert norm.normalize_doi(raw) == expected


@pytest.mark.parametrize("raw, pmid, pmcid", [
    ("PMID: 0012345", "12345", "PMC12345"),
    ("29768149", "29768149", "PMC29768149"),
    ("pmc5511", "5511", "PMC5511"),
])
def test_identifiers(raw, pmid, pmcid):
    assert norm.normalize_pmid(raw) == pmid
    assert norm.normalize_pmcid(raw) == pmcid


@pytest.mark.parametrize("raw, expected", [
    ("0732183x", "0732-183X"), ("1527-7755", "1527-7755"), ("ISSN 0028-4793 (Print)", "0028-4793"), ("12", None),
])
def test_normalize_issn(raw, expected):
    assert norm.normalize_issn(raw) == expected


@pytest.mark.parametrize("text, expected", [
    ("von Minckwitz G", {"family": "von Minckwitz", "given": "G.", "initials": "G"}),
    ("Carvajal Hausdorf D", {"family": "Carvajal Hausdorf", "given": "D.", "initials": "D"}),
    ("De Las Heras P", {"family": "De Las Heras", "given": "P.", "initials": "P"}),
    ("Øijordsbakken M", {"family": "Øijordsbakken", "given": "M.", "initials": "M"}),
    ("Sliwkowski MX", {"family": "Sliwkowski", "given": "M. X.", "initials": "MX"}),
    ("Early Breast Cancer Trialists' Collaborative Group", {"literal": "Early Breast Cancer Trialists' Collaborative Group"}),
])
def test_parse_surname_initials(text, expected):
    assert norm.parse_surname_initials(text) == expected


@pytest.mark.parametrize("given, initials", [
    ("Mark X.", "MX"), ("M. X.", "MX"), ("MX", "MX"), ("Jean-Pierre", "JP"), ("", ""), (None, ""),
])
def test_initials_of(given, initials):
    assert norm.initials_of(given) == initials


@pytest.mark.parametrize("family, given, key", [
    ("Sliwkowski", "Mark X.", "sliwkowski m"),
    ("Sliwkowski", "M", "sliwkowski m"),
    ("Ríos Luci", "C.", "rios luci c"),
    ("Øijordsbakken", "M", "oijordsbakken m"),
])
def test_name_key(family, given, key):
    assert norm.name_key(family, given) == key


@pytest.mark.parametrize("raw, parts", [
    ("2019//", [2019]),
    ("1948/07//", [1948, 7]),
    ("2017 Mar 5", [2017, 3, 5]),
    ("2016 Nov-Dec", [2016, 11]),
    ("2017-03-05", [2017, 3, 5]),
    ("March 2017", [2017, 3]),
    ("08/1993", [1993, 8]),
    ("January 07 , 2011", [2011, 1, 7]),
    ("2010 Spring", [2010]),
    ("no date", None),
])
def test_parse_date(raw, parts):
    assert norm.parse_date(raw) == parts


@pytest.mark.parametrize("a, b, same", [
    ("J Clin Oncol", "J. Clin. Oncol.", True),
    ("The Lancet", "Lancet", True),
    ("Journal of Clinical Oncology", "J Clin Oncol", False),
])
def test_journal_key(a, b, same):
    assert (norm.journal_key(a) == norm.journal_key(b)) is same


def test_title_key_ignores_case_markup_and_accents():
    assert norm.title_key("<i>Trastuzumab</i>: Résumé.") == norm.title_key("trastuzumab resume")


def test_cite_key_base():
    assert norm.cite_key_base("von Minckwitz", 2017, "Adjuvant Pertuzumab and Trastuzumab") == "vonminckwitz2017adjuvant"
