"""Facets that stay fast at a million works: over a junction table (authors, tags, collections of
works), column facets counted at build time, and the works-per-year chart's counts.

Datasette's array facets read a JSON column of every row the page selects (``json_each`` over
``select *`` of the whole table): 2–20 s at 100,000 works, far past the 200 ms facet time limit.
A ``related`` facet counts rows of the junction table instead, through its indexes, and selects
works with a query argument of its own (``?_author=12``) that becomes an indexed
``id in (select work_id from work_authors where author_id = ?)``. Datasette's ``_through`` would do
the same but cannot be combined with column filters in 0.65 (both name their parameter ``p0``).

Configured in metadata.yml, one entry per facet in the table's ``facets`` list::

    - related:
        name: author              # the facet's name (and key in the JSON facet_results)
        param: _author            # the query argument that selects a value; repeat it to AND them
        table: work_authors       # the junction table…
        key: work_id              # …its column pointing at this table's primary key (default work_id)
        column: author_id         # …and its column pointing at the facet's values
        match: {role: author}     # optional equality conditions on the junction table
        labels: authors           # the table that names the values (its primary key must be id)
        label: name               # …and the column with the name
        parent: parent_id         # optional: values form a tree (collections); a value counts and
                                  # selects its descendants' rows too

On a page with no filter, search or selection, with one column filter (``?year=2024``) or with the
works of one prolific author (``?_author=181``), the counts are read from ``facet_counts``, where
``refsette ingest`` stores them once per build (``FACET_PAIRS``, ``FACET_GIVEN`` and
``FACET_AUTHOR_GIVEN`` in ingest/schema.py): at a million works the author facet takes
seconds to count, and year, type or journal 0.1–0.3 s each, against Datasette's 200 ms facet time
limit. The database is served immutable, so those are the page's numbers. Anything not stored (other
pages, more values than were kept, a database built by something else) is counted as usual.

A ``counted`` facet is a column facet that does this (same values, labels, links, and
``"type": "column"`` in the JSON); it counts like Datasette's on any other page::

    facets:
      - counted: year

A ``year_chart`` facet (``- year_chart: year``) counts the page's rows per year, every year (not the
top 30), with the page's filters and search; plugins/year_chart.py draws it.

The counted facets and the charts of a page that must be counted live (a search, several filters)
are counted by one statement: it selects the page's rows once, then groups them by each column.
One statement per facet would match the search again for each (bench/README.md: a topic word's
page at a million works). The statement has the time limit of the facets it counts together
(``facet_time_limit_ms`` each), and if it runs out they are all reported timed out.

This module must not import ``ingest``: ``datasette publish`` copies only the plugins folder.
"""

from __future__ import annotations

import asyncio
import re
from typing import Dict, List, Optional, Tuple

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import ColumnFacet, Facet, load_facet_configs
from datasette.filters import FilterArguments
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args, path_with_replaced_args

TYPE = "related"
# Datasette's table SQL is "select <columns> from <table> <where>": no where, no filter.
_HAS_WHERE = re.compile(r"\)?\s+where\s+", re.IGNORECASE)


# Query arguments that change how a page looks, not which rows it selects.
PRESENTATION = {"_size", "_sort", "_sort_desc", "_labels", "_nolabels", "_col", "_nocol", "_json", "_shape",
                "_trace", "_extra", "_nofacet", "_nocount", "_next", "_timelimit", "_ttl", "_context"}
# Values kept per facet of a filtered page (FACET_STORED in ingest/schema.py): all of the
# unfiltered page's are kept.
STORED_PER_PAGE = 31
# The related facets' selections whose pages may be stored (FACET_AUTHOR_GIVEN in ingest/schema.py:
# the works of a prolific author); a column filter's are stored for the columns of FACET_GIVEN.
STORED_PARAMS = frozenset({"_author"})


def unfiltered(sql: str) -> bool:
    return not _HAS_WHERE.search(sql.split(" from ", 1)[-1])


def selection_key(request, sql: str) -> Optional[str]:
    """How ``facet_counts`` names the rows this page selects: "" for all of them, "year=2024" for one
    column equal to one value, "_author=181" for one author's works; None for any other selection
    (nothing is stored for it)."""
    chosen = []
    for key in request.args.keys():
        if key in PRESENTATION or key.startswith("_facet"):
            continue
        values = request.args.getlist(key)
        if (key.startswith("_") and key not in STORED_PARAMS) or "__" in key or len(values) != 1:
            return None
        chosen.append(f"{key}={values[0]}")
    if not chosen:
        return "" if unfiltered(sql) else None
    return chosen[0] if len(chosen) == 1 else None


async def stored_counts(datasette, database: str, facet: str, given: Optional[str], limit: int) -> Optional[List[dict]]:
    """{value, count} of ``facet`` ("table.facet") on the page ``given`` (``selection_key``), most
    first, at most ``limit``; [] when the page was counted and none of its works has a value; None
    when they are not all stored."""
    if given is None:
        return None
    db = datasette.get_database(database)
    if not (await db.execute("select 1 from pragma_table_info('facet_counts') where name = 'given'")).rows:
        return None  # not counted at build time (or by a build that counted the unfiltered page only)
    rows = [{"value": row["value"], "count": row["count"]} for row in await db.execute(
        "select value, count from facet_counts where facet = ? and given = ? order by count desc, value limit ?",
        [facet, given, limit])]
    if given and len(rows) >= STORED_PER_PAGE and limit > STORED_PER_PAGE:
        return None  # kept only the first values of this page's
    if not rows and given:
        # Nothing stored for this facet: none of the page's works has a value (reports have no
        # journal) if the page was counted, which its own facet says ("type=report" has the value
        # "report" in works.type, "_author=181" the author 181 in works.author).
        witness = f"{facet.split('.', 1)[0]}.{given.split('=', 1)[0].lstrip('_')}"
        if (await db.execute("select 1 from facet_counts where facet = ? and given = ? limit 1", [witness, given])).rows:
            return []
    return rows or None


def facet_column(config: dict) -> str:
    """The column of a column facet's or chart's configuration (``- counted: year`` or
    ``- counted: {column: year}``)."""
    return config.get("column") or config["simple"]


# Where the counts of a page's column facets and charts are kept while its facets are worked out.
_PAGE_COUNTS = "refsette.page_column_counts"
# Kinds of column count: a facet's most frequent values (count desc, value), a chart's every value.
TOP, EVERY = "top", "every"


def page_counts_sql(sql: str, wanted: List[Tuple[str, str]], limit: int) -> str:
    """One statement counting the rows of ``sql`` per value of each (kind, column) in ``wanted``:
    rows (facet: index in ``wanted``, value, count). SQLite materialises the page's rows once, as a
    common table expression read more than once."""
    columns = ", ".join(dict.fromkeys(escape_sqlite(column) for _, column in wanted))
    arms = []
    for index, (kind, column) in enumerate(wanted):
        name = escape_sqlite(column)
        order = f"count desc, value limit {int(limit)}" if kind == TOP else "value"
        arms.append(f"select * from (select {index} as facet, {name} as value, count(*) as count from page "
                    f"where {name} is not null group by {name} order by {order})")
    return f"with page as (select {columns} from ({sql})) " + " union all ".join(arms)


async def page_column_counts(facet: Facet) -> Tuple[Dict[Tuple[str, str], Optional[List[dict]]], int]:
    """{(kind, column): rows or None if timed out} for every counted facet and chart of the page,
    and the facet size they were counted for; worked out once per request, whichever facet asks first."""
    shared = facet.request.scope.get(_PAGE_COUNTS)
    if shared is None:
        shared = facet.request.scope[_PAGE_COUNTS] = asyncio.ensure_future(_count_page_columns(facet))
    return await shared


async def _count_page_columns(facet: Facet):
    configs = load_facet_configs(facet.request, facet.metadata)
    size = facet.get_facet_size()
    wanted = list(dict.fromkeys(
        [(TOP, facet_column(config["config"])) for config in configs.get(CountedFacet.type, [])]
        + [(EVERY, facet_column(config["config"])) for config in configs.get(YearChartFacet.type, [])]))
    given = selection_key(facet.request, facet.sql) if facet.table else None
    counts: Dict[Tuple[str, str], Optional[List[dict]]] = {}
    live = []
    for kind, column in wanted:
        rows = await stored_counts(facet.ds, facet.database, f"{facet.table}.{column}", given,
                                   size + 1 if kind == TOP else 1_000_000)
        if rows is None:
            live.append((kind, column))
        else:
            counts[(kind, column)] = rows if kind == TOP else sorted(rows, key=lambda row: row["value"])
    if live:
        try:
            rows = await facet.ds.execute(
                facet.database, page_counts_sql(facet.sql, live, size + 1), facet.params, truncate=False,
                custom_time_limit=facet.ds.setting("facet_time_limit_ms") * len(live))
        except QueryInterrupted:
            counts.update({key: None for key in live})
        else:
            counts.update({key: [] for key in live})
            for row in rows:
                counts[live[row["facet"]]].append({"value": row["value"], "count": row["count"]})
    return counts, size


def absolute(datasette, request, path: str) -> str:
    """``datasette.absolute_url`` of ``path`` under the base URL: of a plain string, not of
    Datasette's PrefixedUrlString, each of whose method calls (and urljoin makes dozens) lists
    ``dir(str)``: with a toggle link per facet value that was most of a facet's time in Python."""
    return datasette.absolute_url(request, str(datasette.urls.path(path)))


def related_configs(table_metadata: Optional[dict]) -> List[dict]:
    """The ``related`` facet configurations of a table, with defaults filled in."""
    configs = []
    for entry in (table_metadata or {}).get("facets") or []:
        if isinstance(entry, dict) and TYPE in entry and isinstance(entry[TYPE], dict):
            config = dict(entry[TYPE])
            config.setdefault("key", "work_id")
            config.setdefault("pk", "id")
            config.setdefault("label", "name")
            config.setdefault("match", {})
            config.setdefault("param", "_" + config["name"])
            configs.append(config)
    return configs


def values_subquery(config: dict, placeholder: str) -> str:
    """SQL for the set of facet values one selected value stands for: itself, or its subtree."""
    if not config.get("parent"):
        return placeholder
    labels, parent = escape_sqlite(config["labels"]), escape_sqlite(config["parent"])
    return (f"(with recursive down(id) as (select {placeholder} union "
            f"select {labels}.id from {labels} join down on {labels}.{parent} = down.id) select id from down)")


def match_sql(config: dict, alias: str, prefix: str) -> Tuple[str, Dict[str, object]]:
    clauses, params = [], {}
    for index, (column, value) in enumerate(sorted(config["match"].items())):
        name = f"{prefix}_m{index}"
        clauses.append(f"{alias}.{escape_sqlite(column)} = :{name}")
        params[name] = value
    return "".join(" and " + clause for clause in clauses), params


def selection_clause(config: dict, values: List[str], prefix: str) -> Tuple[List[str], Dict[str, object]]:
    """``pk in (…)`` clauses (one per selected value: they AND) and their parameters."""
    clauses, params = [], {}
    table, key, column = escape_sqlite(config["table"]), escape_sqlite(config["key"]), escape_sqlite(config["column"])
    match, match_params = match_sql(config, "t", prefix)
    for index, value in enumerate(values):
        name = f"{prefix}_{index}"
        params[name] = value
        operator = "in" if config.get("parent") else "="
        clauses.append(
            f"{escape_sqlite(config['pk'])} in (select t.{key} from {table} t "
            f"where t.{column} {operator} {values_subquery(config, ':' + name)}{match})"
        )
    if clauses:
        params.update(match_params)
    return clauses, params


def count_sql(config: dict, inner_sql: Optional[str], limit: Optional[int], only: int = 0) -> str:
    """Works per value: through the junction table's indexes; restricted to the page's rows only
    when the page has filters (``inner_sql``). ``only`` > 0 restricts to values :only_0…"""
    table, key, column = escape_sqlite(config["table"]), escape_sqlite(config["key"]), escape_sqlite(config["column"])
    match, _ = match_sql(config, "t", "facet")
    restrict = f" and t.{key} in (select {escape_sqlite(config['pk'])} from ({inner_sql}))" if inner_sql else ""
    if config.get("parent"):
        labels, parent = escape_sqlite(config["labels"]), escape_sqlite(config["parent"])
        value = "tree.ancestor"
        source = (f"with recursive tree(ancestor, id) as (select id, id from {labels} union "
                  f"select tree.ancestor, {labels}.id from {labels} join tree on {labels}.{parent} = tree.id) "
                  f"select tree.ancestor as value, count(distinct t.{key}) as count "
                  f"from {table} t join tree on tree.id = t.{column} where 1")
    else:
        value = f"t.{column}"
        source = f"select t.{column} as value, count(distinct t.{key}) as count from {table} t where 1"
    chosen = ""
    if only:
        chosen = f" and {value} in ({', '.join(f':only_{i}' for i in range(only))})"
    tail = f" limit {int(limit)}" if limit else ""
    return f"{source}{match}{restrict}{chosen} group by value order by count desc, value{tail}"


class RelatedFacet(Facet):
    type = TYPE

    async def facet_results(self):
        results, timed_out = [], []
        configs = {c["name"]: c for c in related_configs(self.metadata)}
        size = self.get_facet_size()
        # Only metadata configures these: a junction table from the query string would be arbitrary SQL.
        for source_and_config in self.get_configs():
            if source_and_config["source"] != "metadata":
                continue
            config = configs.get(source_and_config["config"].get("name"))
            if config is None:
                continue
            inner = None if unfiltered(self.sql) else self.sql
            params = dict(self.params) if isinstance(self.params, dict) else {}
            _, match_params = match_sql(config, "t", "facet")
            params.update(match_params)
            selected = self.request.args.getlist(config["param"])
            stored = await stored_counts(self.ds, self.database, f"{self.table}.{config['name']}",
                                         selection_key(self.request, self.sql), size + 1)
            if stored is None and not await self.has_rows(config):
                stored = []  # nothing to count (a library without collections or affiliations)
            try:
                rows = stored if stored is not None else [dict(r) for r in await self.ds.execute(
                    self.database, count_sql(config, inner, size + 1), params, truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"))]
                shown = {str(row["value"]) for row in rows[:size]}
                missing = [value for value in selected if value not in shown]
                if missing:
                    extra = dict(params, **{f"only_{i}": v for i, v in enumerate(missing)})
                    rows = rows[:size] + [dict(r) for r in await self.ds.execute(
                        self.database, count_sql(config, inner, None, only=len(missing)), extra,
                        truncate=False, custom_time_limit=self.ds.setting("facet_time_limit_ms"))]
            except QueryInterrupted:
                timed_out.append(config["name"])
                continue
            truncated = len(rows) > size and not selected
            rows = rows if selected else rows[:size]
            labels = await self.labels(config, [row["value"] for row in rows])
            values = []
            for row in rows:
                value = str(row["value"])
                is_selected = value in selected
                if is_selected:
                    path = path_with_removed_args(self.request, {config["param"]: value})
                else:
                    path = path_with_added_args(self.request, {config["param"]: value, "_next": None})
                values.append({
                    "value": row["value"], "label": labels.get(row["value"], row["value"]),
                    "count": row["count"], "toggle_url": absolute(self.ds, self.request, path),
                    "selected": is_selected,
                })
            results.append({
                "name": config["name"], "type": self.type, "param": config["param"], "results": values,
                "hideable": False, "toggle_url": "", "truncated": truncated,
            })
        return results, timed_out

    async def has_rows(self, config: dict) -> bool:
        """Whether the junction table holds anything: counting an empty one still selects the page's
        works first, which is most of a search's facet time."""
        sql = f"select exists(select 1 from {escape_sqlite(config['table'])}) as found"
        return bool((await self.ds.execute(self.database, sql)).first()["found"])

    async def labels(self, config: dict, values: list) -> dict:
        if not values:
            return {}
        marks = ", ".join("?" for _ in values)
        sql = (f"select id, {escape_sqlite(config['label'])} as label from {escape_sqlite(config['labels'])} "
               f"where id in ({marks})")
        return {row["id"]: row["label"] for row in await self.ds.execute(self.database, sql, values)}


class CountedFacet(ColumnFacet):
    type = "counted"

    async def facet_results(self):
        counts, size = await page_column_counts(self)
        results, timed_out = [], []
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = facet_column(config)
            rows = counts.get((TOP, column))
            if rows is None:
                timed_out.append(column)
            else:
                results.append(await self.result(column, source_and_config["source"], rows, size))
        return results, timed_out

    async def result(self, column: str, source: str, rows: List[dict], size: int) -> dict:
        """What ``ColumnFacet.facet_results`` gives for ``column``, from its ``size`` + 1 top rows."""
        shown = rows[:size]
        expanded = await self.ds.expand_foreign_keys(self.database, self.table, column, [r["value"] for r in shown])
        column_qs = f"{column}__exact" if column.startswith("_") else column
        pairs = self.get_querystring_pairs()
        values = []
        for row in shown:
            selected = (column_qs, str(row["value"])) in pairs
            path = (path_with_removed_args(self.request, {column_qs: str(row["value"])}) if selected
                    else path_with_added_args(self.request, {column_qs: row["value"]}))
            values.append({
                "value": row["value"], "label": expanded.get((column, row["value"]), row["value"]),
                "count": row["count"], "selected": selected,
                "toggle_url": absolute(self.ds, self.request, path),
            })
        return {
            # "column" to clients: it is one, counted another way
            "name": column, "type": "column", "hideable": source != "metadata",
            "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet": column})),
            "results": values, "truncated": len(rows) > size,
        }


class YearChartFacet(Facet):
    """Counts per year of the rows the page selects: every year, not only the top ones."""

    type = "year_chart"

    async def facet_results(self):
        results, timed_out = [], []
        pairs = self.get_querystring_pairs()
        counts, _ = await page_column_counts(self)
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = facet_column(config)
            name = config.get("name") or f"{column}_chart"
            rows = counts.get((EVERY, column))
            if rows is None:
                timed_out.append(name)
                continue
            values = []
            for row in rows:
                selected = (column, str(row["value"])) in pairs
                if selected:
                    path = path_with_removed_args(self.request, {column: str(row["value"])})
                else:
                    path = path_with_replaced_args(self.request, {column: str(row["value"]), "_next": None})
                values.append({
                    "value": row["value"], "count": row["count"], "selected": selected,
                    "toggle_url": self.ds.urls.path(path),
                })
            results.append({
                "name": name, "type": self.type, "column": column, "results": values,
                "hideable": False, "toggle_url": "", "truncated": False,
            })
        return results, timed_out


@hookimpl
def register_facet_classes():
    return [RelatedFacet, CountedFacet, YearChartFacet]


@hookimpl
def filters_from_request(request, database, table, datasette):
    async def inner():
        where, params, descriptions = [], {}, []
        for config in related_configs(datasette.table_metadata(database, table)):
            values = request.args.getlist(config["param"])
            if not values:
                continue
            prefix = "related_" + re.sub(r"\W", "_", config["name"])
            clauses, clause_params = selection_clause(config, values, prefix)
            where += clauses
            params.update(clause_params)
            marks = ", ".join("?" for _ in values)
            labels = {str(row[0]): row[1] for row in await datasette.get_database(database).execute(
                f"select id, {escape_sqlite(config['label'])} from {escape_sqlite(config['labels'])} "
                f"where id in ({marks})", values)}
            descriptions += [f'{config["name"]} is "{labels.get(value, value)}"' for value in values]
        return FilterArguments(where, params, descriptions)

    return inner
