"""Datasette settings refsette serves a library with, locally (``refsette serve``) and published."""

SETTINGS = {
    # Suggested facets cost seconds per works page on a large library (bench/README.md).
    "suggest_facets": "off",
    # Datasette's default of 1 s is less than a search for a word in half of a million works needs on
    # a 2-core machine to select its first page (1.0–1.2 s, more with a cold cache: bench/README.md);
    # past the limit the page is an error. Facets keep their own, lower limit.
    "sql_time_limit_ms": "3000",
}


def setting_args() -> list:
    """``--setting NAME VALUE`` for each of SETTINGS."""
    return [arg for name, value in SETTINGS.items() for arg in ("--setting", name, value)]
