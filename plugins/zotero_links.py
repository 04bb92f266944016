"""An "Open in Zotero" link in the ``zotero_key`` column of ``works``.

``zotero://select/library/items/KEY`` selects an item of the user's own library in the desktop app,
``zotero://select/groups/ID/items/KEY`` one of a group library; ``works.zotero_library`` says which
(``users/475425`` or ``groups/169947``). Anything that is not a well-formed key renders as Datasette
would render it anyway, escaped.
"""

from __future__ import annotations

import re

from datasette import hookimpl
from markupsafe import Markup

ITEM_KEY = re.compile(r"^[A-Z0-9]{8}$")
GROUP_LIBRARY = re.compile(r"^groups/(\d+)$")


def zotero_select_url(key: str, library: str | None) -> str | None:
    """The ``zotero://`` address that selects an item, or None when ``key`` is not an item key."""
    if not isinstance(key, str) or not ITEM_KEY.match(key):
        return None
    group = GROUP_LIBRARY.match(library or "")
    if group:
        return f"zotero://select/groups/{group.group(1)}/items/{key}"
    return f"zotero://select/library/items/{key}"


def open_in_zotero(key: str, library: str | None):
    url = zotero_select_url(key, library)
    if url is None:
        return None
    return Markup('<a href="{}" title="Zotero item {}">Open in Zotero</a>').format(url, key)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if table != "works" or column != "zotero_key" or not value:
        return None
    keys = row.keys() if hasattr(row, "keys") else ()
    if "zotero_library" in keys:
        return open_in_zotero(value, row["zotero_library"])

    async def look_up_library():
        # a page that does not show zotero_library (?_col=…): ask the database which library it is
        result = await datasette.get_database(database).execute(
            "SELECT zotero_library FROM works WHERE zotero_key = ? LIMIT 1", [value])
        first = result.first()
        return open_in_zotero(value, first[0] if first else None)

    return look_up_library()

