"""A real Datasette server on 127.0.0.1 for browser tests and the screenshot script.

Started with the same arguments as ``refsette serve`` (``ingest.cli.datasette_args``) on port 0; the
port is read from uvicorn's "running on" line. The configuration folder is a copy of the
repository's in which the map's tiles come from ``static/blank-tile.png``, so a browser pointed at
it needs nothing but this server.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from pathlib import Path
from typing import Optional

import yaml

from ingest.cli import datasette_args

ROOT = Path(__file__).resolve().parents[1]
RUNNING_ON = re.compile(r"running on (https?://[\d.]+:(\d+))", re.IGNORECASE)
OFFLINE_TILE = "/static/blank-tile.png"


def offline_root(directory: Path) -> Path:
    """A configuration folder like the repository's, with map tiles served locally."""
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    settings = metadata.setdefault("plugins", {}).setdefault("datasette-cluster-map", {})
    settings["tile_layer"] = OFFLINE_TILE
    settings["tile_layer_options"] = {"maxZoom": 19, "attribution": "tiles: none (offline)"}
    (directory / "metadata.yml").write_text(yaml.safe_dump(metadata, allow_unicode=True), encoding="utf-8")
    for name in ("plugins", "templates", "static"):
        target = directory / name
        if not target.exists():
            target.symlink_to(ROOT / name, target_is_directory=True)
    return directory


class LiveServer:
    def __init__(self, database: Path, startup_timeout: float = 30.0):
        self.database = Path(database)
        self.startup_timeout = startup_timeout
        self.process: Optional[subprocess.Popen] = None
        self.url: Optional[str] = None
        self.log: deque = deque(maxlen=200)
        self._root = Path(tempfile.mkdtemp(prefix="refsette-root-"))

    def start(self) -> "LiveServer":
        args = datasette_args(self.database, offline_root(self._root), "127.0.0.1", 0)
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env,
            start_new_session=True,
        )
        found = threading.Event()

        def read_log():
            for line in self.process.stderr:
                self.log.append(line.rstrip())
                match = RUNNING_ON.search(line)
                if match and not found.is_set():
                    self.url = match.group(1)
                    found.set()

        threading.Thread(target=read_log, daemon=True).start()
        deadline = time.monotonic() + self.startup_timeout
        while not found.wait(0.1):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("datasette did not start:\n" + "\n".join(self.log))
        return self

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        shutil.rmtree(self._root, ignore_errors=True)

    def __enter__(self) -> "LiveServer":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
