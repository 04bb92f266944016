"""The same paper from BibTeX, RIS and PubMed XML is one work, one author per person, one journal."""

import itertools

import pytest
import sqlite_utils

from ingest.loader import Loader

from conftest import FIXTURES

CROSS = FIXTURES / "crosssource"
DOI = "10.1056/nejmoa1715274"


def build(path, files):
    db = sqlite_utils.Database(path)
    loader = Loader(db)
    for f in files:
        loader.load_file(str(f))
    loader.finish()
    return db


def sources(corpus):
    return [CROSS / "nejm-2018.bib", CROSS / "nejm-2018.ris", corpus / "samples/pubmed-xml/pubmed-29768149.xml"]


@pytest.mark.corpus
@pytest.mark.parametrize("order", list(itertools.permutations(range(3))), ids=str)
def test_one_work_three_sources_in_any_order(tmp_path, corpus, order):
    files = [sources(corpus)[i] for i in order]
    db = build(tmp_path / "x.db", files)
    works = db.execute("select id, title, pmid, year, pages, journal_id from works where doi = ?", [DOI]).fetchall()
    assert len(works) == 1
    work_id, title, pmid, year, pages, journal_id = works[0]
    assert pmid == "29768149" and year == 2018 and pages == "1865–1876"
    # PubMed XML outranks the others whatever the order: its title wins.
    assert title == "Inhaled Combined Budesonide-Formoterol as Needed in Mild Asthma"
    assert db.execute("select count(*) from work_sources where work_id = ?", [work_id]).fetchone()[0] == 3
    authors = db.execute(
        """select authors.family, authors.given from work_authors join authors on authors.id = author_id
           where work_id = ? order by position""", [work_id]).fetchall()
    assert [a[0] for a in authors][:3] == ["O'Byrne", "FitzGerald", "Bateman"]
    # One row per person: ten authors, whatever spellings the three files used.
    people = db.execute(
        "select count(*) from authors where family in (%s)" % ",".join("?" * 10),
        [a[0] for a in authors]).fetchone()[0]
    assert people == 10
    assert dict(authors)["FitzGerald"] == "J. Mark"
    spellings = {r[0] for r in db.execute(
        "select author_variants.name from author_variants join authors on authors.id = author_id where authors.family = 'FitzGerald'")}
    assert {"FitzGerald, J.", "FitzGerald, J. Mark"} <= spellings
    journal = db["journals"].get(journal_id)
    assert journal["title"] in ("The New England Journal of Medicine", "New England Journal of Medicine")
    assert journal["abbreviation"] == "N Engl J Med"
    assert db.execute("select count(*) from journals where id != ? and title like '%Engl%'", [journal_id]).fetchone()[0] == 0


def test_same_title_is_not_the_same_work(tmp_path):
    db = build(tmp_path / "y.db", [CROSS / "nejm-2018.bib", CROSS / "nejm-2018.ris"])
    editorials = db.execute("select id, authors_text from works where title = 'Editorial' order by id").fetchall()
    assert len(editorials) == 2  # same title and year, different first authors
    # ...but both are in one journal: ISSN 0732-183X joins "J Clin Oncol" and "Journal of Clinical Oncology".
    journals = db.execute("select distinct journal_id from works where title = 'Editorial'").fetchall()
    assert len(journals) == 1
    journal = db["journals"].get(journals[0][0])
    assert (journal["title"], journal["abbreviation"], journal["issn"]) == (
        "Journal of Clinical Oncology", "J Clin Oncol", "0732-183X")
