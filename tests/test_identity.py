"""Who is the same person, which works cite which: the loader's identity rules on small records."""

import pytest
import sqlite_utils

from ingest.loader import Loader


def load(tmp_path, *batches):
    db = sqlite_utils.Database(tmp_path / "identity.db")
    loader = Loader(db)
    for number, (fmt, records) in enumerate(batches):
        loader.load_records(records, path=f"batch-{number}", fmt=fmt)
    loader.finish()
    return db


def work(title, authors, doi=None, year=2019, **extra):
    record = {"type": "article-journal", "title": title, "author": authors, "issued": {"date-parts": [[year]]}}
    if doi:
        record["DOI"] = doi
    record.update(extra)
    return record


def authors_named(db, family):
    return db.execute("select id, given, initials, orcid from authors where family = ? order by id", [family]).fetchall()


def test_three_spellings_sharing_a_coauthor_are_one_person(tmp_path):
    db = load(
        tmp_path,
        ("bibpage", [work("HER2 one", [{"family": "Sliwkowski", "given": "M.", "initials": "M"},
                                       {"family": "Fox", "given": "J.", "initials": "J"}])]),
        ("bibtex", [work("HER2 two", [{"family": "Sliwkowski", "given": "Mark X."}, {"family": "Fox", "given": "Judith"}])]),
        ("ris", [work("HER2 three", [{"family": "Fox", "given": "J."}, {"family": "Sliwkowski", "given": "M. X."}])]),
    )
    (person,) = authors_named(db, "Sliwkowski")
    assert person[1:3] == ("Mark X.", "MX")  # the fullest spelling wins the display name
    spellings = {r[0] for r in db.execute("select name from author_variants where author_id = ?", [person[0]])}
    assert spellings == {"Sliwkowski M", "Sliwkowski, Mark X.", "Sliwkowski, M. X."}
    merges = db.execute("select count(*) from authors join author_variants on author_id = authors.id "
                        "where authors.id = ?", [person[0]]).fetchone()[0]
    assert merges == 3


def test_compatible_initials_without_shared_evidence_stay_apart(tmp_path):
    db = load(tmp_path, ("bibtex", [
        work("Paper A", [{"family": "Lee", "given": "J."}, {"family": "Kim", "given": "A."}]),
        work("Paper B", [{"family": "Lee", "given": "J. H."}, {"family": "Park", "given": "S."}]),
    ]))
    assert len(authors_named(db, "Lee")) == 2


def test_incompatible_or_ambiguous_spellings_never_merge(tmp_path):
    # "Maria" could be M. X. or M. Y. (both wrote with Kim): ambiguous evidence merges nothing.
    db = load(tmp_path, ("bibtex", [
        work("Paper A", [{"family": "Smith", "given": "M. X."}, {"family": "Kim", "given": "A."}]),
        work("Paper B", [{"family": "Smith", "given": "M. Y."}, {"family": "Kim", "given": "A."}]),
        work("Paper C", [{"family": "Smith", "given": "Maria"}, {"family": "Kim", "given": "A."}]),
        work("Paper D", [{"family": "Smith", "given": "Mark"}, {"family": "Kim", "given": "A."}]),
    ]))
    givens = sorted(r[1] for r in authors_named(db, "Smith"))
    assert givens == ["M. X.", "M. Y.", "Maria", "Mark"]


def test_two_orcids_are_two_people_one_orcid_is_one(tmp_path):
    a = {"family": "Wang", "given": "Li", "ORCID": "https://orcid.org/0000-0002-1825-0097"}
    b = {"family": "Wang", "given": "Li", "ORCID": "0000-0001-5109-3700"}
    a_again = {"family": "Wang", "given": "L.", "ORCID": "0000-0002-1825-0097"}
    db = load(tmp_path, ("csl-json", [
        work("Paper A", [a, {"family": "Zhou", "given": "Y."}]),
        work("Paper B", [b, {"family": "Zhou", "given": "Y."}]),
        work("Paper C", [a_again]),
    ]))
    rows = authors_named(db, "Wang")
    assert sorted(r[3] for r in rows) == ["0000-0001-5109-3700", "0000-0002-1825-0097"]
    owner = {r[3]: r[0] for r in rows}["0000-0002-1825-0097"]
    assert db.execute("select count(*) from work_authors where author_id = ?", [owner]).fetchone()[0] == 2


def test_citations_resolve_by_doi_and_pmid_in_any_load_order(tmp_path):
    citing = work("A review", [{"family": "Doe", "given": "A."}], doi="10.1000/review", references=[
        {"DOI": "https://doi.org/10.1000/CITED-ONE"},
        {"PMID": "123456", "raw": "Roe B. Another paper. J Foo. 2001."},
        {"raw": "Somebody C. Not in the library. 1999."},
    ])
    cited = [work("Cited one", [{"family": "Roe", "given": "B."}], doi="10.1000/cited-one"),
             work("Cited two", [{"family": "Roe", "given": "B."}], PMID="123456", year=2001)]
    for batches in ([("csl-json", [citing]), ("csl-json", cited)], [("csl-json", cited), ("csl-json", [citing])]):
        path = tmp_path / f"order-{batches[0][1][0]['title'][:4]}.db"
        db = sqlite_utils.Database(path)
        loader = Loader(db)
        for number, (fmt, records) in enumerate(batches):
            loader.load_records(records, path=f"b{number}", fmt=fmt)
        loader.finish()
        rows = db.execute(
            """select citations.position, works.title, citations.raw from citations
               left join works on works.id = citations.cited_work_id order by position""").fetchall()
        assert rows == [
            (1, "Cited one", None),
            (2, "Cited two", "Roe B. Another paper. J Foo. 2001."),
            (3, None, "Somebody C. Not in the library. 1999."),
        ]


@pytest.mark.parametrize("first, second, same", [
    ({"DOI": "10.1200/JCO.2010.29.8144"}, {"DOI": "https://doi.org/10.1200/jco.2010.29.8144"}, True),
    ({"PMID": "0012345"}, {"PMID": "12345"}, True),
    ({"PMCID": "PMC5511"}, {"PMCID": "5511"}, True),
    ({}, {}, True),  # same title, year and first author
    ({"DOI": "10.1000/a"}, {"DOI": "10.1000/b"}, False),  # same title, different identifiers
])
def test_work_identity(tmp_path, first, second, same):
    base = work("Vulvodynia.", [{"family": "Haefner", "given": "H. K."}])
    db = load(tmp_path, ("ris", [{**base, **first}]), ("bibtex", [{**base, **second}]))
    assert db["works"].count == (1 if same else 2)


@pytest.mark.parametrize("cache", ["roomy", "evicting"])
def test_namesakes_out_of_memory_are_found_by_spelling_as_in_memory(tmp_path, monkeypatch, cache):
    """Two Jane A. Smiths kept apart by their ORCIDs; a later Jane A. Smith without one is the first
    of them, "Smith, Jane" without the initial is a namesake the walk judges, and an ORCID holder
    spelled more fully completes her row — with every namesake in memory, and with the cache
    evicting after each author (the table's spelling index answers instead)."""
    import ingest.loader as loader_module

    if cache == "evicting":
        monkeypatch.setattr(loader_module, "AUTHOR_GENERATION", 1)
    filler = [work(f"Filler {n}", [{"family": f"Filler{n}", "given": "Zed"}]) for n in range(5)]
    db = load(tmp_path, ("bibtex", [
        work("One", [{"family": "Smith", "given": "Jane A.", "ORCID": "0000-0001-0000-0001"}]),
        work("Two", [{"family": "Smith", "given": "Jane A.", "ORCID": "0000-0001-0000-0002"}]),
        *filler,
        work("Three", [{"family": "Smith", "given": "Jane A."}, {"family": "Kim", "given": "A."}]),
        work("Four", [{"family": "Smith", "given": "Jane"}, {"family": "Kim", "given": "A."}]),
        work("Five", [{"family": "Smith", "given": "Jane Alice", "ORCID": "0000-0001-0000-0002"}]),
        work("Six", [{"family": "Smith", "given": "Jane A.", "initials": "JA"}]),
    ]))
    smiths = authors_named(db, "Smith")
    first, second = smiths[0][0], smiths[1][0]
    by_title = dict(db.execute("""select works.title, work_authors.author_id from works
        join work_authors on work_authors.work_id = works.id where work_authors.position = 1"""))
    assert by_title["Three"] == first and by_title["Six"] == first
    assert by_title["Five"] == second and smiths[1][1] == "Jane Alice"
    assert by_title["Four"] != second
    spellings = dict(db.execute("select id, spelling from authors where family = 'Smith'"))
    assert spellings[first] == "smith|JA|jane" and spellings[second] == "smith|JA|jane alice"
