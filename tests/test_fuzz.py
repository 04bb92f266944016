"""Fuzzing the parsers with hypothesis: whatever the bytes, only ``ParseError`` comes out.

Inputs are real records (``fuzz_inputs.seeds``: the fixtures, the corpus' exports and Zotero's import
test cases) damaged by a few mutations that hypothesis draws and shrinks: truncation, byte flips,
deleted structural characters, tags and lines, duplicated or swapped lines, repeated chunks, format
tokens spliced in, another encoding, a JSON value of another type. ``bench/fuzz.py`` runs the same
property on 100,000 inputs per format; this is its quick sample, plus the inputs it once crashed on.
"""

from __future__ import annotations

import gc
import io
import json
import sys

import pytest
import sqlite_utils
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fuzz_inputs
from ingest.loader import Loader
from ingest.records import ParseError
from ingest.sources import module_for

EXAMPLES = 300

SEEDS = {fmt: fuzz_inputs.seeds(fmt) for fmt in fuzz_inputs.TEXT_FORMATS}

mutation = st.tuples(
    st.sampled_from(fuzz_inputs.OPERATIONS),
    st.integers(0, 1 << 20),
    st.integers(0, 1 << 16),
    st.integers(0, 255),
)


def assert_only_parse_errors(fmt: str, data: bytes, skip_bad: bool) -> None:
    problem = fuzz_inputs.check(fmt, data, skip_bad)
    assert problem is None, f"{fuzz_inputs.describe(problem)} for {data[:300]!r}"


@pytest.mark.parametrize("fmt", fuzz_inputs.TEXT_FORMATS)
def test_every_format_has_real_seeds(fmt):
    assert len(SEEDS[fmt]) >= 3
    # Mostly good records to damage (a few fixtures are broken on purpose).
    readable = 0
    for _, data in SEEDS[fmt]:
        try:
            readable += bool(list(module_for(fmt).parse(io.BytesIO(data))))
        except ParseError:
            pass
    assert readable >= len(SEEDS[fmt]) * 0.6


@pytest.mark.parametrize("fmt", fuzz_inputs.TEXT_FORMATS)
def test_mutated_real_records_raise_only_parse_errors(fmt):
    seeds = SEEDS[fmt]

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.sampled_from(range(len(seeds))), st.lists(mutation, min_size=1, max_size=4), st.booleans())
    def run(seed_index, mutations, skip_bad):
        data = fuzz_inputs.mutate(fmt, seeds[seed_index][1], mutations)
        assert_only_parse_errors(fmt, data, skip_bad)

    run()


@pytest.mark.parametrize("fmt", fuzz_inputs.TEXT_FORMATS)
def test_arbitrary_bytes_raise_only_parse_errors(fmt):
    @settings(max_examples=EXAMPLES // 3, deadline=None, database=None, derandomize=True)
    @given(st.binary(max_size=2048), st.booleans())
    def run(data, skip_bad):
        assert_only_parse_errors(fmt, data, skip_bad)

    run()


@pytest.mark.corpus
def test_damaged_zotero_databases_raise_only_parse_errors(corpus):
    seeds = fuzz_inputs.zotero_seeds(corpus)
    assert len(seeds) == 4

    @settings(max_examples=60, deadline=None, database=None, derandomize=True)
    @given(st.sampled_from(range(len(seeds))), st.randoms(use_true_random=False))
    def run(seed_index, rng):
        data = seeds[seed_index][1]
        damaged = fuzz_inputs.damage_sqlite(data, fuzz_inputs.sqlite_mutations(rng, len(data)))
        problem = fuzz_inputs.check_sqlite(damaged)
        assert problem is None, fuzz_inputs.describe(problem)

    run()


# ---- what the fuzzer found: each input that once escaped as something else -------------------------

REGRESSIONS = [
    # csljson.date_value iterated a "date-parts" that is a number or a boolean (TypeError).
    ("csl-json", b'[{"title": "t", "issued": {"date-parts": 5}}]'),
    ("csl-json", b'[{"title": "t", "issued": {"date-parts": true}}]'),
    ("csl-json", b'[{"title": "t", "issued": {"date-parts": 1.5}}]'),
    # pylatexenc's specs of document macros index arguments a field does not give (AttributeError,
    # IndexError, KeyError from bibtex.BibDecoder), in names too.
    ("bibtex", b"@article{a,\n author = {Smith, \\date},\n title = {T}\n}\n"),
    ("bibtex", b"@article{a,\n author = {\\verb},\n title = {T}\n}\n"),
    ("bibtex", b"@article{a,\n title = {\\input}\n}\n"),
    ("bibtex", b"@article{a,\n title = {\\href}\n}\n"),
    ("bibtex", b"@article{a,\n author = {Smith, \\title},\n title = {T}\n}\n"),
    ("bibtex", b"@inproceedings{k,\n author = {Cuturi, Marco and D\\date = {2020/..}textquotesingle aspremont, A},\n"
               b" title = {White Functionals}\n}\n"),
]


@pytest.mark.parametrize("fmt, data", REGRESSIONS, ids=[f"{fmt}-{i}" for i, (fmt, _) in enumerate(REGRESSIONS)])
@pytest.mark.parametrize("skip_bad", [False, True])
def test_inputs_that_once_crashed_a_parser(fmt, data, skip_bad):
    assert_only_parse_errors(fmt, data, skip_bad)


def test_latex_a_field_misuses_is_read_as_text():
    [record] = module_for("bibtex").parse(io.BytesIO(REGRESSIONS[3][1]))
    assert record["author"] == [{"family": "Smith"}] and record["title"] == "T"


def test_entity_markup_is_refused_without_confusing_lxml():
    """An internal entity holding a record's start tag: lxml's iterparse reported elements of the
    entity's declaration and later failed to free them ("Tried to unregister unknown proxy")."""
    data = (b'<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n  <!ENTITY lol "lol">\n'
            b'  <!ENTITY lol2 "<PubmedArticle>&lol;&lol;">\n  <!ENTITY lol3 "&lol2;&lol2;">\n]>\n'
            b"<PubmedArticleSet><PubmedArticle><MedlineCitation><PMID>1</PMID><Article><ArticleTitle>"
            b"&lol3;</ArticleTitle></Article></MedlineCitation></PubmedArticle></PubmedArticleSet>\n")
    unraisable = []
    previous, sys.unraisablehook = sys.unraisablehook, unraisable.append
    try:
        with pytest.raises(ParseError, match=r"line 4: .*entity 'lol2'"):
            list(module_for("pubmed-xml").parse(io.BytesIO(data)))
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert unraisable == []


def test_a_year_too_big_for_sqlite_is_no_year():
    """The loader cannot store an integer past 2**63: the CSL-JSON reader yielded such a year."""
    data = json.dumps([{"title": "Far future", "issued": {"date-parts": [[10 ** 22, 1]]}},
                       {"title": "Plain", "issued": {"date-parts": [[2019, 13]]}}]).encode()
    records = list(module_for("csl-json").parse(io.BytesIO(data)))
    assert "issued" not in records[0] and records[1]["issued"] == {"date-parts": [[2019, 13]]}
    db = sqlite_utils.Database(memory=True)
    Loader(db).load_records(records, path="future.json", fmt="csl-json")
    assert [row["year"] for row in db.query("SELECT year FROM works ORDER BY title")] == [None, 2019]


def test_entity_markup_past_the_first_read_is_refused_too():
    filler = "".join(f'  <!ENTITY e{i} "plain value {i}">\n' for i in range(3000))  # ~100 KB of DTD
    data = ('<?xml version="1.0"?>\n<!DOCTYPE PubmedArticleSet [\n' + filler +
            '  <!ENTITY rec "<PubmedArticle><MedlineCitation><PMID>5</PMID></MedlineCitation></PubmedArticle>">\n'
            "]>\n<PubmedArticleSet>&rec;</PubmedArticleSet>\n").encode("ascii")
    with pytest.raises(ParseError, match=r"line 3003: .*entity 'rec'"):
        list(module_for("pubmed-xml").parse(io.BytesIO(data)))
