"""A fake Zotero Web API v3 server for tests, bound to 127.0.0.1 on a free port.

It serves the corpus libraries (``../shared/corpus/zotero-api/*_library.json``) with the protocol
behaviour DESIGN.md lists: ``since`` and object versions, ``start``/``limit`` pages (capped, silently)
with ``Link`` rel="next"/"last"/"alternate" and ``Total-Results``, ``Last-Modified-Version``,
``If-Modified-Since-Version`` → 304, ``/deleted?since=`` (400 without it), trashed items hidden
unless ``includeTrashed=1``, ``429 Retry-After`` and ``Backoff`` on demand, 403 without the key.
Mutations bump versions as the real server does; deleting a collection or a tag does not bump the
items that had it.
"""

from __future__ import annotations

import copy
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable, Dict, List, Optional
from urllib.parse import parse_qs, urlencode, urlsplit

API_ROOT = "https://api.zotero.org/"


class FakeLibrary:
    """One library's objects, versions and delete log."""

    def __init__(self, corpus: dict):
        self.type = corpus["library"]["type"]
        self.id = corpus["library"]["id"]
        self.info = {k: v for k, v in corpus["library"].items()}
        self.version = corpus["libraryVersion"]
        self.items: Dict[str, dict] = {}
        for obj in corpus["items"]:
            data = copy.deepcopy(obj["data"])
            alternate = obj.get("alternate") or f"https://www.zotero.org/{self.prefix}/items/{data['key']}"
            self.items[data["key"]] = {"data": data, "meta": copy.deepcopy(obj.get("meta") or {}),
                                       "alternate": alternate}
        self.collections = {obj["data"]["key"]: copy.deepcopy(obj["data"]) for obj in corpus["collections"]}
        self.deleted: List[dict] = copy.deepcopy(corpus.get("deleted") or [])
        self.settings = copy.deepcopy(corpus.get("settings") or {})

    @property
    def prefix(self) -> str:
        return f"{self.type}s/{self.id}"

    def bump(self, step: int = 1) -> int:
        self.version += step
        return self.version

    # ---- mutations, as a client's writes would leave the server ---------------------------------

    def edit_item(self, key: str, **fields) -> int:
        version = self.bump()
        data = self.items[key]["data"]
        data.update(fields)
        data["version"] = version
        return version

    def add_item(self, data: dict, meta: Optional[dict] = None) -> int:
        version = self.bump()
        data = copy.deepcopy(data)
        data["version"] = version
        self.items[data["key"]] = {"data": data, "meta": meta or {},
                                   "alternate": f"https://www.zotero.org/{self.prefix}/items/{data['key']}"}
        return version

    def trash_item(self, key: str) -> int:
        return self.edit_item(key, deleted=1)

    def restore_item(self, key: str) -> int:
        version = self.bump()
        data = self.items[key]["data"]
        data.pop("deleted", None)
        data["version"] = version
        return version

    def delete_item(self, key: str) -> int:
        """Deleting an item deletes its children too; the log lists them all."""
        version = self.bump()
        doomed = [key] + [k for k, obj in self.items.items() if obj["data"].get("parentItem") == key]
        for doomed_key in doomed:
            del self.items[doomed_key]
            self.deleted.append({"type": "items", "key": doomed_key, "version": version})
        return version

    def edit_collection(self, key: str, **fields) -> int:
        version = self.bump()
        self.collections[key].update(fields)
        self.collections[key]["version"] = version
        return version

    def add_collection(self, data: dict) -> int:
        version = self.bump()
        self.collections[data["key"]] = {**data, "version": version}
        return version

    def delete_collection(self, key: str) -> int:
        """Subcollections go too; items leave it without a new version (dataserver behaviour)."""
        version = self.bump()
        doomed = {key}
        changed = True
        while changed:
            children = {k for k, c in self.collections.items() if c.get("parentCollection") in doomed}
            changed = not children <= doomed
            doomed |= children
        for doomed_key in sorted(doomed):
            del self.collections[doomed_key]
            self.deleted.append({"type": "collections", "key": doomed_key, "version": version})
        for obj in self.items.values():
            if "collections" in obj["data"]:
                obj["data"]["collections"] = [c for c in obj["data"]["collections"] if c not in doomed]
        return version

    def delete_tag(self, name: str) -> int:
        version = self.bump()
        for obj in self.items.values():
            tags = obj["data"].get("tags")
            if tags:
                obj["data"]["tags"] = [t for t in tags if t.get("tag") != name]
        self.deleted.append({"type": "tags", "key": name, "version": version})
        return version

    def change_setting(self, name: str, value) -> int:
        version = self.bump()
        self.settings[name] = {"value": value, "version": version}
        return version

    # ---- responses -------------------------------------------------------------------------------

    def num_children(self, key: str) -> int:
        return sum(1 for obj in self.items.values() if obj["data"].get("parentItem") == key)

    def item_json(self, obj: dict, base: str) -> dict:
        data = obj["data"]
        links = {
            "self": {"href": f"{base}{self.prefix}/items/{data['key']}", "type": "application/json"},
            "alternate": {"href": obj["alternate"], "type": "text/html"},
        }
        if data.get("parentItem"):
            links["up"] = {"href": f"{base}{self.prefix}/items/{data['parentItem']}", "type": "application/json"}
        meta = dict(obj["meta"])
        if not data.get("parentItem"):
            meta["numChildren"] = self.num_children(data["key"])
        return {"key": data["key"], "version": data["version"], "library": self.info, "links": links,
                "meta": meta, "data": data}

    def collection_json(self, data: dict, base: str) -> dict:
        key = data["key"]
        meta = {
            "numCollections": sum(1 for c in self.collections.values() if c.get("parentCollection") == key),
            "numItems": sum(1 for obj in self.items.values() if key in (obj["data"].get("collections") or [])),
        }
        return {"key": key, "version": data["version"], "library": self.info,
                "links": {"self": {"href": f"{base}{self.prefix}/collections/{key}", "type": "application/json"},
                          "alternate": {"href": f"https://www.zotero.org/{self.prefix}/collections/{key}",
                                        "type": "text/html"}},
                "meta": meta, "data": data}


class FakeZoteroServer:
    """Start with ``with FakeZoteroServer([...]) as server``; ``server.url`` is the API root."""

    def __init__(self, libraries: List[FakeLibrary], api_key: Optional[str] = None, max_limit: int = 100,
                 root: str = "/"):
        self.libraries = {library.prefix: library for library in libraries}
        self.api_key = api_key
        self.max_limit = max_limit
        self.root = root if root.endswith("/") else root + "/"
        self.lock = threading.RLock()
        self.requests: List[dict] = []
        self.responses: List[int] = []
        self.pending_429: List[float] = []
        self.pending_backoff: List[float] = []
        self.on_request: Optional[Callable[[dict], None]] = None
        self.httpd: Optional[ThreadingHTTPServer] = None
        self.thread: Optional[threading.Thread] = None

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "FakeZoteroServer":
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802 (http.server's name)
                server.handle(self)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       name="fake-zotero", daemon=True)
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.thread.join(timeout=5)
            self.httpd = None

    def __enter__(self) -> "FakeZoteroServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}{self.root}"

    # ---- fault injection -----------------------------------------------------------------------

    def fail_with_429(self, retry_after: float = 1, times: int = 1) -> None:
        with self.lock:
            self.pending_429.extend([retry_after] * times)

    def send_backoff(self, seconds: float = 1, times: int = 1) -> None:
        with self.lock:
            self.pending_backoff.extend([seconds] * times)

    # ---- requests ------------------------------------------------------------------------------

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        record = {"path": parts.path, "query": query, "headers": {k.lower(): v for k, v in handler.headers.items()}}
        with self.lock:
            self.requests.append(record)
            if self.on_request is not None:
                self.on_request(record)
            status, headers, body = self.respond(parts.path, query, record["headers"])
            self.responses.append(status)
        payload = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        handler.send_response(status)
        headers.setdefault("Zotero-API-Version", "3")
        if body is not None:
            headers["Content-Type"] = "application/json"
        headers["Content-Length"] = str(len(payload))
        for name, value in headers.items():
            handler.send_header(name, value)
        handler.end_headers()
        if payload:
            handler.wfile.write(payload)

    def respond(self, path: str, query: dict, headers: dict):
        if self.pending_429:
            return 429, {"Retry-After": _number(self.pending_429.pop(0))}, {"error": "Too Many Requests"}
        extra = {}
        if self.pending_backoff:
            extra["Backoff"] = _number(self.pending_backoff.pop(0))
        if not path.startswith(self.root):
            return 404, {}, {"error": "Not found"}
        parts = path[len(self.root):].strip("/").split("/")
        if len(parts) < 3 or f"{parts[0]}/{parts[1]}" not in self.libraries:
            return 404, {}, {"error": "Not found"}
        library = self.libraries[f"{parts[0]}/{parts[1]}"]
        if self.api_key is not None and not self.authorised(headers):
            return 403, {}, {"error": "Forbidden"}
        endpoint = "/".join(parts[2:])
        if endpoint == "deleted":
            status, head, body = self.deleted(library, query)
        elif endpoint in ("items", "items/top", "collections"):
            status, head, body = self.listing(library, endpoint, path, query, headers)
        else:
            return 404, {}, {"error": "Not found"}
        head.update(extra)
        return status, head, body

    def authorised(self, headers: dict) -> bool:
        bearer = headers.get("authorization", "")
        return headers.get("zotero-api-key") == self.api_key or bearer == f"Bearer {self.api_key}"

    def deleted(self, library: FakeLibrary, query: dict):
        since = query.get("since")
        if since is None or not since.isdigit():
            return 400, {}, {"error": "'since' parameter must be provided"}
        body = {"collections": [], "items": [], "searches": [], "tags": [], "settings": []}
        for entry in library.deleted:
            if entry["version"] > int(since):
                body[entry["type"]].append(entry["key"])
        return 200, {"Last-Modified-Version": str(library.version)}, body

    def listing(self, library: FakeLibrary, endpoint: str, path: str, query: dict, headers: dict):
        if query.get("format", "json") != "json":
            return 400, {}, {"error": "only format=json is served here"}
        head = {"Last-Modified-Version": str(library.version)}
        if_modified = headers.get("if-modified-since-version")
        if if_modified is not None and if_modified.isdigit() and library.version <= int(if_modified):
            return 304, head, None
        since = int(query.get("since") or 0)
        base = self.url
        if endpoint == "collections":
            objects = sorted(library.collections.values(), key=lambda c: (c["name"].lower(), c["key"]))
            objects = [library.collection_json(c, base) for c in objects if c["version"] > since]
        else:
            trashed = query.get("includeTrashed") == "1"
            selected = [obj for obj in library.items.values()
                        if obj["data"]["version"] > since and (trashed or not obj["data"].get("deleted"))
                        and (endpoint == "items" or not obj["data"].get("parentItem"))]
            # the API's default order: dateModified, newest first
            selected.sort(key=lambda o: (o["data"].get("dateModified") or "", o["data"]["key"]), reverse=True)
            objects = selected
        limit = min(int(query.get("limit") or 25), self.max_limit)
        start = int(query.get("start") or 0)
        total = len(objects)
        head["Total-Results"] = str(total)
        head["Link"] = self.links(path, query, start, limit, total, library)
        page = objects[start:start + limit]
        if endpoint != "collections":
            page = [library.item_json(obj, base) for obj in page]
        return 200, head, page

    def links(self, path: str, query: dict, start: int, limit: int, total: int, library: FakeLibrary) -> str:
        origin = self.url[: -len(self.root)]

        def at(offset: int) -> str:
            params = {k: v for k, v in query.items() if k != "start"}
            if offset:
                params["start"] = str(offset)
            return f"{origin}{path}?{urlencode(params)}"

        links = []
        if start > 0:
            links.append(f'<{at(0)}>; rel="first"')
            links.append(f'<{at(max(0, start - limit))}>; rel="prev"')
        if start + limit < total:
            links.append(f'<{at(start + limit)}>; rel="next"')
        if total > limit:
            links.append(f'<{at(((total - 1) // limit) * limit)}>; rel="last"')
        links.append(f'<https://www.zotero.org/{library.prefix}/items>; rel="alternate"')
        return ", ".join(links)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def load_library(corpus_dir, name: str) -> FakeLibrary:
    with open(corpus_dir / "zotero-api" / f"{name}_library.json", encoding="utf-8") as fp:
        return FakeLibrary(json.load(fp))
