"""Facets over a junction table (authors, tags, collections of works) that stay fast at 100k works.

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

This module must not import ``ingest``: ``datasette publish`` copies only the plugins folder.
"""

from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.filters import FilterArguments
from datasette.utils import escape_sqlite, path_with_added_args, path_with_removed_args

TYPE = "related"
# Datasette's table SQL is "select <columns> from <table> <where>": no where, no filter.
_HAS_WHERE = re.compile(r"\)?\s+where\s+", re.IGNORECASE)


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
            inner = self.sql if _HAS_WHERE.search(self.sql.split(" from ", 1)[-1]) else None
            params = dict(self.params) if isinstance(self.params, dict) else {}
            _, match_params = match_sql(config, "t", "facet")
            params.update(match_params)
            selected = self.request.args.getlist(config["param"])
            try:
                rows = [dict(r) for r in await self.ds.execute(
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
                    "count": row["count"], "toggle_url": self.ds.absolute_url(self.request, self.ds.urls.path(path)),
                    "selected": is_selected,
                })
            results.append({
                "name": config["name"], "type": self.type, "param": config["param"], "results": values,
                "hideable": False, "toggle_url": "", "truncated": truncated,
            })
        return results, timed_out

    async def labels(self, config: dict, values: list) -> dict:
        if not values:
            return {}
        marks = ", ".join("?" for _ in values)
        sql = (f"select id, {escape_sqlite(config['label'])} as label from {escape_sqlite(config['labels'])} "
               f"where id in ({marks})")
        return {row["id"]: row["label"] for row in await self.ds.execute(self.database, sql, values)}


@hookimpl
def register_facet_classes():
    return [RelatedFacet]


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
