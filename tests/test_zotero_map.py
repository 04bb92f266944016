"""Zotero item JSON → canonical record (ingest.zotero_map)."""

from __future__ import annotations

import json

import pytest

from ingest.records import CREATOR_ROLES
from ingest.zotero_map import (
    CREATOR_TYPE_TO_CSL,
    ITEM_TYPE_TO_CSL,
    PRIMARY_CREATOR_TYPE,
    csl_name,
    csl_role,
    item_to_record,
    split_extra,
    tag_records,
)


@pytest.mark.parametrize(
    "item_type, csl",
    [
        ("journalArticle", "article-journal"),
        ("book", "book"),
        ("bookSection", "chapter"),
        ("conferencePaper", "paper-conference"),
        ("thesis", "thesis"),
        ("report", "report"),
        ("webpage", "webpage"),
        ("preprint", "article"),
        ("magazineArticle", "article-magazine"),
        ("newspaperArticle", "article-newspaper"),
        ("manuscript", "manuscript"),
        ("film", "motion_picture"),
        ("videoRecording", "motion_picture"),
        ("artwork", "graphic"),
        ("computerProgram", "software"),
        ("document", "document"),
        ("dataset", "dataset"),
        ("letter", "personal_communication"),
        ("statute", "legislation"),
        ("case", "legal_case"),
        ("audioRecording", "song"),
        ("somethingNew", "document"),
    ],
)
def test_item_types(item_type, csl):
    assert item_to_record({"itemType": item_type})["type"] == csl


@pytest.mark.parametrize(
    "creator_type, item_type, role",
    [
        ("author", "journalArticle", "author"),
        ("editor", "bookSection", "editor"),
        ("bookAuthor", "bookSection", "container-author"),
        ("seriesEditor", "book", "collection-editor"),
        ("translator", "book", "translator"),
        ("reviewedAuthor", "journalArticle", "reviewed-author"),
        ("castMember", "film", "performer"),
        ("scriptwriter", "film", "script-writer"),
        # the item type's primary creator is the CSL author
        ("director", "film", "author"),
        ("artist", "artwork", "author"),
        ("inventor", "patent", "author"),
        ("programmer", "computerProgram", "author"),
        ("performer", "audioRecording", "author"),
        ("director", "radioBroadcast", "author"),
        # no CSL role: kept as a contributor rather than dropped
        ("attorneyAgent", "patent", "contributor"),
        ("wordsBy", "audioRecording", "contributor"),
        ("sponsor", "statute", "contributor"),
        (None, "journalArticle", "author"),
    ],
)
def test_creator_roles(creator_type, item_type, role):
    assert csl_role(creator_type, item_type) == role


@pytest.mark.parametrize(
    "creator, name",
    [
        ({"firstName": "Arthur Conan", "lastName": "Doyle"}, {"family": "Doyle", "given": "Arthur Conan"}),
        ({"firstName": "", "lastName": "R. Creighton Buck"}, {"family": "R. Creighton Buck"}),
        ({"name": "World Health Organization"}, {"literal": "World Health Organization"}),
        ({"lastName": "Council on Clinical Cardiology", "fieldMode": 1},
         {"literal": "Council on Clinical Cardiology"}),
        ({"firstName": " Iruka N. ", "lastName": "Okeke "}, {"family": "Okeke", "given": "Iruka N."}),
        ({"firstName": "", "lastName": ""}, None),
    ],
)
def test_creator_names(creator, name):
    assert csl_name(creator) == name


@pytest.mark.parametrize(
    "extra, identifiers, note",
    [
        ("PMID: 20664272", {"PMID": "20664272"}, None),
        ("PMID: 8692918 \nPMCID: PMC38908", {"PMID": "8692918", "PMCID": "PMC38908"}, None),
        ("DOI: 10.12345/123456\nMR: MR123456", {"DOI": "10.12345/123456"}, "MR: MR123456"),
        ("Citation Key: test_item_2021", {"cite_key": "test_item_2021"}, None),
        ("ArticleType: research-article / Full publication date: May, 1980", {},
         "ArticleType: research-article / Full publication date: May, 1980"),
        ("", {}, None),
    ],
)
def test_extra(extra, identifiers, note):
    assert split_extra(extra) == (identifiers, note)


def test_tag_kinds():
    tags = [{"tag": "Adult", "type": 1}, {"tag": "spectroscopy"}, "Keyword4", {"tag": " "}]
    assert tag_records(tags) == [
        {"name": "Adult", "kind": "automatic"},
        {"name": "spectroscopy", "kind": "manual"},
        {"name": "Keyword4", "kind": "manual"},
    ]


@pytest.mark.parametrize(
    "data, expected",
    [
        ({"itemType": "bookSection", "bookTitle": "Antimicrobial Resistance"},
         {"container-title": "Antimicrobial Resistance"}),
        ({"itemType": "conferencePaper", "proceedingsTitle": "Proc. KDD", "conferenceName": "KDD '07"},
         {"container-title": "Proc. KDD", "event-title": "KDD '07"}),
        ({"itemType": "webpage", "websiteTitle": "HowStuffWorks"}, {"container-title": "HowStuffWorks"}),
        ({"itemType": "journalArticle", "publicationTitle": "Nature", "journalAbbreviation": "Nature"},
         {"container-title": "Nature", "container-title-short": "Nature"}),
        ({"itemType": "thesis", "university": "MIT", "thesisType": "PhD thesis", "numPages": "214"},
         {"publisher": "MIT", "genre": "PhD thesis", "number-of-pages": "214"}),
        ({"itemType": "report", "institution": "WHO", "reportNumber": "TR-7", "place": "Geneva"},
         {"publisher": "WHO", "number": "TR-7", "publisher-place": "Geneva"}),
        ({"itemType": "case", "caseName": "Roe v. Wade", "dateDecided": "1973", "court": "SCOTUS"},
         {"title": "Roe v. Wade", "issued": {"date-parts": [[1973]]}, "authority": "SCOTUS"}),
        ({"itemType": "book", "series": "Lecture notes", "seriesTitle": "LNM", "seriesNumber": "2058"},
         {"collection-title": "LNM", "collection-number": "2058"}),
        ({"itemType": "journalArticle", "DOI": "https://doi.org/10.2307/2321200", "url": "http://x.org"},
         {"DOI": "10.2307/2321200", "URL": "http://x.org"}),
        ({"itemType": "journalArticle", "PMID": "35128459", "extra": "PMID: 1\nPMCID: PMC8816568"},
         {"PMID": "35128459", "PMCID": "PMC8816568"}),
        ({"itemType": "journalArticle", "date": "January 07 , 2011"}, {"issued": {"date-parts": [[2011, 1, 7]]}}),
        ({"itemType": "book", "date": "08/1993"}, {"issued": {"date-parts": [[1993, 8]]}}),
        ({"itemType": "webpage", "accessDate": "2011-02-02T22:26:36Z"}, {"accessed": {"date-parts": [[2011, 2, 2]]}}),
        ({"itemType": "patent", "references": "US 123\n\nUS 456"},
         {"references": [{"raw": "US 123"}, {"raw": "US 456"}]}),
        ({"itemType": "book", "citationKey": "bachar2013"}, {"cite_key": "bachar2013"}),
    ],
)
def test_fields(data, expected):
    record = item_to_record(data)
    assert {key: record.get(key) for key in expected} == expected


def test_parsed_date_preferred():
    record = item_to_record({"itemType": "book", "date": "Spring 1980"}, meta={"parsedDate": "1980-05-01"})
    assert record["issued"] == {"date-parts": [[1980, 5, 1]]}


def test_translator_notes_and_creator_order():
    record = item_to_record({
        "itemType": "bookSection",
        "creators": [
            {"firstName": "Hans", "lastName": "Peters", "creatorType": "editor"},
            {"firstName": "Astrid", "lastName": "Lindqvist", "creatorType": "author"},
            {"firstName": "Émilie", "lastName": "Dubois", "creatorType": "editor"},
        ],
        "notes": [{"note": "<p>Accepted for publication</p>"}],
    })
    assert record["editor"] == [{"family": "Peters", "given": "Hans"}, {"family": "Dubois", "given": "Émilie"}]
    assert record["author"] == [{"family": "Lindqvist", "given": "Astrid"}]
    assert record["notes"] == [{"content": "<p>Accepted for publication</p>", "key": None}]


def user_items(corpus):
    library = json.loads((corpus / "zotero-api" / "user_library.json").read_text(encoding="utf-8"))
    return {item["data"]["key"]: item for item in library["items"]}


def test_api_journal_article(corpus):
    item = user_items(corpus)["3EWF3P9V"]
    record = item_to_record(item["data"], item.get("meta"))
    assert record["type"] == "article-journal"
    assert record["container-title"] == "International archives of allergy and immunology"
    assert record["container-title-short"] == "Int Arch Allergy Immunol"
    assert (record["volume"], record["issue"], record["page"]) == ("154", "1", "6-14")
    assert record["PMID"] == "20664272" and "note" not in record
    assert record["issued"] == {"date-parts": [[2011]]}
    assert record["author"] == [
        {"family": "Asero", "given": "Riccardo"}, {"family": "Antonicelli", "given": "Leonardo"}
    ]
    assert record["zotero_key"] == record["source_key"] == "3EWF3P9V"
    assert {"name": "Adult", "kind": "automatic"} in record["tags"]
    assert "DOI" not in record  # empty fields leave no key


def test_api_book_section_with_literal_author(corpus):
    item = user_items(corpus)["D3WSV6FJ"]
    record = item_to_record(item["data"], item.get("meta"))
    assert record["type"] == "chapter"
    assert record["author"] == [{"literal": "World Health Organization"}]
    assert [e["family"] for e in record["editor"]] == ["Okeke", "Laxminarayan"]
    assert record["collection-editor"] == [{"family": "Smith", "given": "Peter G."}]
    assert record["container-title"] == "Antimicrobial Resistance in Developing Countries"
    assert (record["publisher"], record["publisher-place"]) == ("Springer", "New York")
    assert record["DOI"] == "10.1007/978-0-387-89370-9_3"
    assert record["collections"] == [{"key": "BX9965IJ"}, {"key": "2GUIGKC9"}]
    assert record["tags"] == [
        {"name": "Drug Resistance, Bacterial", "kind": "automatic"},
        {"name": "public health", "kind": "manual"},
    ]


def test_api_raw_title_kept(corpus):
    record = item_to_record(user_items(corpus)["X9TNE4WB"]["data"])
    assert record["title"].startswith("<script>alert(1)</script>")


def test_schema_primary_creators_and_roles(corpus):
    """The schema extract's primary creator of each type is our CSL author; every creator type it
    lists has a canonical role."""
    schema = json.loads((corpus / "zotero-api" / "item_type_fields.json").read_text(encoding="utf-8"))
    for item_type, spec in schema["itemTypes"].items():
        assert PRIMARY_CREATOR_TYPE.get(item_type, "author") == spec["primaryCreatorType"], item_type
        assert csl_role(spec["primaryCreatorType"], item_type) == "author"
        for creator_type in spec["creatorTypes"]:
            assert csl_role(creator_type, item_type) in CREATOR_ROLES, (item_type, creator_type)
    assert set(CREATOR_TYPE_TO_CSL.values()) <= set(CREATOR_ROLES)


def test_every_translator_item_type_is_mapped(corpus):
    item_types = set()
    for path in (corpus / "zotero-translators").glob("*.json"):
        for case in json.loads(path.read_text(encoding="utf-8")):
            item_types.update(item["itemType"] for item in case["items"])
    assert item_types - set(ITEM_TYPE_TO_CSL) == set()


def test_every_api_item_maps(corpus):
    for key, item in user_items(corpus).items():
        record = item_to_record(item["data"], item.get("meta"))
        if item["data"]["itemType"] not in ("note", "attachment"):
            assert record.get("title"), key
            assert record["type"] != "document", key
