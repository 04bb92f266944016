"""A deterministic generator of realistic reference libraries, for the ingest and serving benchmarks.

    python bench/generate.py 100000                       # CSL-JSON Lines shards under bench/data/
    python bench/generate.py 100000 --format pubmed-xml   # the same library as PubMed XML shards

The same ``(n, seed)`` always gives the same bytes. What the library looks like (DESIGN.md's facts about
real exports, at the scale of a large lab's or a review group's collection):

- 1–30 authors per work (median 5, a long tail), drawn from a pool of people with Zipf-like reuse: a few
  people sign hundreds or thousands of works, over half sign one (Lotka's law). Surnames are Zipf-distributed too, so unrelated people
  share a surname and an initial ("Wang J"), as in PubMed.
- about n/50 journals, Zipf-distributed (a few journals hold a large share), each with a title, an
  ISO abbreviation and an ISSN.
- titles of 6–18 words from a medical vocabulary, an abstract for half the works, 0–8 keywords,
  0–40 references (about half of them to works in the same library, by DOI or PMID).
- identifiers: every work has a PMID; 90% a DOI; 20% a PMCID; 1% of records repeat an earlier work
  (same DOI/PMID, as a second export of it would), so merging is exercised too.

Files are written in shards of ``--shard-size`` records (PubMed's baseline files hold 30,000): one
transaction per file in the loader, and a shard is what a real download looks like.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import math
import os
import random
import sys
from pathlib import Path
from typing import Dict, Iterator, List, Optional
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "bench" / "data"
FORMATS = {"csl-json": "jsonl", "pubmed-xml": "xml"}
DEFAULT_SHARD = 25_000

MEDICAL_WORDS = """cancer breast tumor therapy trastuzumab patients clinical trial outcomes survival
randomized cohort study analysis risk factors treatment chemotherapy receptor expression gene protein
cell cells immune response antibody inhibitor signaling pathway mutation genome sequencing disease
diabetes cardiovascular heart failure stroke infection virus bacterial resistance antibiotic vaccine
children adults elderly women men pregnancy hospital care quality mortality incidence prevalence
metastatic adjuvant neoadjuvant efficacy safety toxicity dose phase review systematic meta evidence
model mouse human tissue blood plasma serum biomarker diagnosis screening imaging magnetic resonance
surgery surgical outcome recurrence prognosis prognostic predictive marker molecular targeted novel
association effect effects role impact mechanism mechanisms regulation inflammation inflammatory
kidney liver lung brain neural cognitive depression anxiety mental health obesity insulin glucose
metabolism lipid cholesterol hypertension pressure exercise diet nutrition vitamin supplementation
population national international global cross sectional longitudinal retrospective prospective
multicenter pilot feasibility protocol guideline guidelines consensus recommendations management
""".split()
SYLLABLES = """ba be bi bo bu ka ke ki ko ku la le li lo lu ma me mi mo mu na ne ni no nu pa pe pi po pu
ra re ri ro ru sa se si so su ta te ti to tu va ve vi vo wa we wi ya yo za ze zi zo an en in on ar er
ir or al el il ol han son berg ström mann ez ov sky ner ton ley ford""".split()
PARTICLES = ("van", "de", "von", "van der", "da", "di", "le")
ACCENTED = {"a": "á", "e": "é", "o": "ö", "u": "ü", "i": "í"}
TYPES = (("article-journal", 85), ("paper-conference", 5), ("chapter", 4), ("book", 3), ("report", 3))
LANGUAGES = (("eng", 92), ("ger", 2), ("fre", 2), ("spa", 2), ("chi", 2))
AFFILIATION_PLACES = (
    "Mayo Clinic, Rochester, MN, USA", "University of Oxford, Oxford, UK",
    "Charité Universitätsmedizin Berlin, Berlin, Germany", "Karolinska Institutet, Stockholm, Sweden",
    "Peking University, Beijing, China", "University of Tokyo, Tokyo, Japan",
    "Institut Curie, Paris, France", "University of Toronto, Toronto, Canada",
    "University of São Paulo, São Paulo, Brazil", "University of Melbourne, Melbourne, Australia",
)


class Zipf:
    """Ranks 0..size-1 drawn with weight 1/(rank + offset)**exponent (Zipf–Mandelbrot)."""

    def __init__(self, size: int, exponent: float = 1.0, offset: float = 2.7):
        total, cumulative = 0.0, []
        for rank in range(size):
            total += 1.0 / (rank + offset) ** exponent
            cumulative.append(total)
        self.cumulative, self.total = cumulative, total

    def draw(self, rng: random.Random) -> int:
        return bisect.bisect(self.cumulative, rng.random() * self.total)


def weighted(choices) -> List[str]:
    return [value for value, weight in choices for _ in range(weight)]


def word_list(rng: random.Random, count: int, parts: tuple, capital: bool) -> List[str]:
    seen, words = set(), []
    while len(words) < count:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice(parts)))
        if word in seen:
            continue
        seen.add(word)
        words.append(word.capitalize() if capital else word)
    return words


class Library:
    """The vocabularies and pools of one library of ``n`` works; ``works()`` yields them in order."""

    def __init__(self, n: int, seed: int = 1):
        self.n, self.seed = n, seed
        rng = random.Random(f"refsette-bench-vocab-{seed}")
        self.vocabulary = MEDICAL_WORDS + word_list(rng, 6000, (2, 3, 4), capital=False)
        self.word_zipf = Zipf(len(self.vocabulary), 1.0, 8)
        self.families = self._families(rng, 40_000)
        self.givens = word_list(rng, 3000, (2, 3), capital=True)
        family_zipf, given_zipf = Zipf(len(self.families), 1.0, 10), Zipf(len(self.givens), 1.0, 5)
        # People: each has a fixed name (some with a middle initial, a few with an ORCID).
        people = max(200, n * 4)
        self.people = []
        for index in range(people):
            family = self.families[family_zipf.draw(rng)]
            given = self.givens[given_zipf.draw(rng)]
            if rng.random() < 0.3:
                given += " " + rng.choice("ABCDEFGHJKLMNPRSTW") + "."
            orcid = None
            if rng.random() < 0.1:
                digits = f"{index:012d}"
                orcid = f"0000-{digits[:4]}-{digits[4:8]}-{digits[8:11]}X"
            self.people.append((family, given, orcid))
        # Zipf–Mandelbrot: the offset flattens the head, as in real bibliographies (Lotka's law holds
        # in the tail, not at the top): over half the people sign one work, the most prolific signs
        # 0.7% of 10,000 works and 0.4% of 100,000.
        self.person_zipf = Zipf(people, 1.0, 300)
        journals = max(5, n // 50)
        self.journals = []
        for index in range(journals):
            words = [self.vocabulary[self.word_zipf.draw(rng)] for _ in range(rng.randint(1, 4))]
            title = "Journal of " + " ".join(w.capitalize() for w in words)
            if index % 7 == 0:
                title = " ".join(w.capitalize() for w in words) + " Research"
            abbreviation = "J " + " ".join(w[:5].capitalize() for w in words)
            issn = f"{1000 + index // 1000:04d}-{index % 1000:03d}{self._issn_check(index)}"
            self.journals.append((title, abbreviation, issn))
        self.journal_zipf = Zipf(journals, 1.0, 3)
        self.keywords = word_list(rng, 2000, (2, 3, 4), capital=False)
        self.keyword_zipf = Zipf(len(self.keywords), 1.0, 5)
        self.author_counts = weighted([(c, max(1, int(100 * math.exp(-((c - 5) ** 2) / 30) + (30 - c))))
                                       for c in range(1, 31)])

    @staticmethod
    def _families(rng: random.Random, count: int) -> List[str]:
        names = word_list(rng, count, (2, 3, 3, 4), capital=True)
        for index in range(0, count, 37):  # particles: "van der Berg"
            names[index] = rng.choice(PARTICLES) + " " + names[index]
        for index in range(5, count, 23):  # accents: "Müller", "Gómez"
            name = names[index]
            vowel = next((i for i, c in enumerate(name) if c in ACCENTED), None)
            if vowel is not None:
                names[index] = name[:vowel] + ACCENTED[name[vowel]] + name[vowel + 1:]
        return names

    @staticmethod
    def _issn_check(index: int) -> str:
        return "X" if index % 11 == 10 else str(index % 10)

    def doi(self, index: int) -> str:
        return f"10.{5000 + index % 900}/bench.{self.seed}.{index}"

    def pmid(self, index: int) -> str:
        return str(30_000_000 + index)

    def words(self, rng: random.Random, count: int) -> List[str]:
        return [self.vocabulary[self.word_zipf.draw(rng)] for _ in range(count)]

    def works(self) -> Iterator[dict]:
        """Each work as a neutral dict (the writers turn it into CSL-JSON or PubMed XML)."""
        rng = random.Random(f"refsette-bench-works-{self.seed}-{self.n}")
        types, languages = weighted(TYPES), weighted(LANGUAGES)
        for index in range(self.n):
            original = index
            if index > 100 and rng.random() < 0.01:
                original = rng.randrange(index)  # a second export of an earlier work
            yield self.work(original, rng.random(), types, languages)

    def work(self, index: int, noise: float, types, languages) -> dict:
        # A work's own content depends only on its index: a repeated record describes the same work.
        rng = random.Random(self.seed * 1_000_003 + index)
        title_words = self.words(rng, rng.randint(6, 18))
        title = " ".join(title_words).capitalize()
        people = sorted({self.person_zipf.draw(rng) for _ in range(rng.choice(self.author_counts))},
                        key=lambda _: rng.random())
        year = max(1950, 2024 - int(abs(rng.gauss(0, 12))))
        work = {
            "index": index,
            "type": rng.choice(types),
            "title": title,
            "authors": [self.people[p] for p in people],
            "journal": self.journals[self.journal_zipf.draw(rng)],
            "year": year,
            "month": rng.randint(1, 12),
            "volume": str(rng.randint(1, 120)),
            "issue": str(rng.randint(1, 12)),
            "pmid": self.pmid(index),
            "doi": self.doi(index) if rng.random() < 0.9 else None,
            "pmcid": f"PMC{5_000_000 + index}" if rng.random() < 0.2 else None,
            "language": rng.choice(languages),
            "keywords": sorted({self.keywords[self.keyword_zipf.draw(rng)] for _ in range(rng.randint(0, 8))}),
        }
        first = rng.randint(1, 2000)
        work["page"] = f"{first}-{first + rng.randint(1, 30)}" if rng.random() < 0.85 else f"e{first}"
        if rng.random() < 0.5:
            sentences = []
            for _ in range(rng.randint(4, 10)):
                sentences.append(" ".join(self.words(rng, rng.randint(10, 25))).capitalize() + ".")
            work["abstract"] = " ".join(sentences)
        references = []
        for _ in range(rng.randint(0, 40)):
            if rng.random() < 0.5 and self.n > 1:
                cited = rng.randrange(self.n)
                reference = {"DOI": self.doi(cited)} if rng.random() < 0.7 else {"PMID": self.pmid(cited)}
            else:
                reference = {"DOI": f"10.{1000 + rng.randrange(4000)}/ext.{rng.randrange(10 ** 9)}"}
            who = self.people[self.person_zipf.draw(rng)]
            reference["raw"] = (f"{who[0]} {who[1][:1]}. {' '.join(self.words(rng, 8)).capitalize()}. "
                                f"{self.journals[self.journal_zipf.draw(rng)][1]}. {rng.randint(1950, 2024)}")
            references.append(reference)
        work["references"] = references
        work["affiliations"] = [
            (position, AFFILIATION_PLACES[(index + position) % len(AFFILIATION_PLACES)])
            for position in range(1, len(people) + 1) if rng.random() < 0.3
        ]
        if noise < 0.5 and work["type"] == "article-journal":
            work["title"] = work["title"] + "."  # exports disagree on the final full stop
        return work


# ---- writers -----------------------------------------------------------------------------------

def csl_item(work: dict) -> dict:
    family_given = []
    for family, given, orcid in work["authors"]:
        person = {"family": family, "given": given}
        if orcid:
            person["ORCID"] = "https://orcid.org/" + orcid
        family_given.append(person)
    journal_title, abbreviation, issn = work["journal"]
    item = {
        "id": f"bench-{work['index']}",
        "type": work["type"],
        "title": work["title"],
        "author": family_given,
        "issued": {"date-parts": [[work["year"], work["month"]]]},
        "volume": work["volume"],
        "issue": work["issue"],
        "page": work["page"],
        "language": work["language"],
    }
    if work["type"] in ("article-journal", "paper-conference", "chapter"):
        item["container-title"] = journal_title
        item["container-title-short"] = abbreviation
        item["ISSN"] = issn
    for key, csl in (("doi", "DOI"), ("pmid", "PMID"), ("pmcid", "PMCID"), ("abstract", "abstract")):
        if work.get(key):
            item[csl] = work[key]
    if work["keywords"]:
        item["keyword"] = "; ".join(work["keywords"])
    if work["references"]:
        item["references"] = work["references"]
    return item


def pubmed_article(work: dict) -> str:
    journal_title, abbreviation, issn = work["journal"]
    authors = []
    affiliations = dict(work["affiliations"])
    for position, (family, given, orcid) in enumerate(work["authors"], start=1):
        initials = "".join(part[0] for part in given.replace(".", "").split())
        parts = [f"<LastName>{escape(family)}</LastName><ForeName>{escape(given.replace('.', ''))}</ForeName>"
                 f"<Initials>{initials}</Initials>"]
        if orcid:
            parts.append(f'<Identifier Source="ORCID">{orcid}</Identifier>')
        if position in affiliations:
            parts.append(f"<AffiliationInfo><Affiliation>{escape(affiliations[position])}</Affiliation></AffiliationInfo>")
        authors.append('<Author ValidYN="Y">' + "".join(parts) + "</Author>")
    ids = [f'<ArticleId IdType="pubmed">{work["pmid"]}</ArticleId>']
    if work["doi"]:
        ids.append(f'<ArticleId IdType="doi">{work["doi"]}</ArticleId>')
    if work["pmcid"]:
        ids.append(f'<ArticleId IdType="pmc">{work["pmcid"]}</ArticleId>')
    references = []
    for reference in work["references"]:
        kind, value = ("doi", reference["DOI"]) if "DOI" in reference else ("pubmed", reference["PMID"])
        references.append(f"<Reference><Citation>{escape(reference['raw'])}</Citation><ArticleIdList>"
                          f'<ArticleId IdType="{kind}">{value}</ArticleId></ArticleIdList></Reference>')
    abstract = f"<Abstract><AbstractText>{escape(work['abstract'])}</AbstractText></Abstract>" if work.get("abstract") else ""
    keywords = ""
    if work["keywords"]:
        keywords = ('<KeywordList Owner="NOTNLM">'
                    + "".join(f'<Keyword MajorTopicYN="N">{escape(k)}</Keyword>' for k in work["keywords"])
                    + "</KeywordList>")
    doi = f'<ELocationID EIdType="doi" ValidYN="Y">{work["doi"]}</ELocationID>' if work["doi"] else ""
    return (
        '<PubmedArticle><MedlineCitation Status="MEDLINE" Owner="NLM">'
        f'<PMID Version="1">{work["pmid"]}</PMID>'
        '<Article PubModel="Print">'
        f'<Journal><ISSN IssnType="Print">{issn}</ISSN><JournalIssue CitedMedium="Print">'
        f'<Volume>{work["volume"]}</Volume><Issue>{work["issue"]}</Issue>'
        f'<PubDate><Year>{work["year"]}</Year><Month>{work["month"]:02d}</Month></PubDate></JournalIssue>'
        f'<Title>{escape(journal_title)}</Title><ISOAbbreviation>{escape(abbreviation)}</ISOAbbreviation></Journal>'
        f'<ArticleTitle>{escape(work["title"])}</ArticleTitle>'
        f'<Pagination><MedlinePgn>{escape(work["page"])}</MedlinePgn></Pagination>{doi}{abstract}'
        f'<AuthorList CompleteYN="Y">{"".join(authors)}</AuthorList>'
        f'<Language>{work["language"]}</Language>'
        '<PublicationTypeList><PublicationType UI="D016428">Journal Article</PublicationType></PublicationTypeList>'
        f'</Article>{keywords}</MedlineCitation>'
        f'<PubmedData><ArticleIdList>{"".join(ids)}</ArticleIdList>'
        + (f'<ReferenceList>{"".join(references)}</ReferenceList>' if references else "")
        + "</PubmedData></PubmedArticle>\n"
    )


XML_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE PubmedArticleSet PUBLIC "-//NLM//DTD PubMedArticle, '
            '1st January 2024//EN" "https://dtd.nlm.nih.gov/ncbi/pubmed/out/pubmed_240101.dtd">\n<PubmedArticleSet>\n')


def library_dir(n: int, fmt: str, seed: int = 1, data: Path = DATA) -> Path:
    return data / f"{fmt}-{n}-s{seed}"


def write(n: int, fmt: str, seed: int = 1, shard_size: int = DEFAULT_SHARD, data: Path = DATA) -> List[Path]:
    """Write the library as shards (once: an existing complete set is reused) and return their paths."""
    folder = library_dir(n, fmt, seed, data)
    done = folder / "COMPLETE"
    if done.exists():
        return sorted(p for p in folder.iterdir() if p.suffix == "." + FORMATS[fmt])
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():
        old.unlink()
    works = Library(n, seed).works()
    paths = []
    for number in itertools.count(1):
        batch = list(itertools.islice(works, shard_size))
        if not batch:
            break
        path = folder / f"part-{number:04d}.{FORMATS[fmt]}"
        tmp = path.with_suffix(".tmp")
        with open(tmp, "w", encoding="utf-8") as out:
            if fmt == "csl-json":
                for work in batch:
                    out.write(json.dumps(csl_item(work), ensure_ascii=False) + "\n")
            else:
                out.write(XML_HEAD)
                for work in batch:
                    out.write(pubmed_article(work))
                out.write("</PubmedArticleSet>\n")
        os.replace(tmp, path)
        paths.append(path)
    done.write_text(f"{n} works, seed {seed}, {len(paths)} shards of {shard_size}\n")
    return paths


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of records")
    parser.add_argument("--format", choices=sorted(FORMATS), default="csl-json")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--shard-size", type=int, default=DEFAULT_SHARD)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args(argv)
    paths = write(args.n, args.format, args.seed, args.shard_size, args.data)
    size = sum(p.stat().st_size for p in paths)
    print(f"{len(paths)} files, {size / 1e6:.1f} MB in {library_dir(args.n, args.format, args.seed, args.data)}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
