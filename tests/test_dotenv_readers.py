""".env is data for every script: each shape a valid dotenv file takes (CRLF, a byte-order mark,
quotes, spaces around a value, a value with spaces, backticks and $(...)) reaches every sh script
that reads .env and the node scripts as the same DATABASE_URL, and nothing in it runs. The sh
scripts call a psql that records what it was given (PSQL)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from copier_atlas_postgres.world import better_auth
from tests.helpers.answers import SHARED_ANSWERS
from tests.helpers.npm import install_release_set

URL = "postgres://shop_owner:pw@localhost:5999/shop?sslmode=disable"


def shapes(ran: Path) -> dict[str, bytes]:
    """.env files that node's dotenv parser reads as DATABASE_URL=URL; RAN/<n> exists if sh ran one."""
    run = f"`touch {ran}/1` $(touch {ran}/2)"
    lines = ["POSTGRES_USER=shop_owner", "POSTGRES_DB=shop", "APP_NAME=My App"]
    return {
        "crlf": "\r\n".join([f"DATABASE_URL='{URL}'", *lines, ""]).encode(),
        "bom": "\ufeff".encode() + "\n".join([f"DATABASE_URL={URL}", *lines, ""]).encode(),
        "double quotes, spaces": "\n".join([f'DATABASE_URL = "{URL}"  ', *lines, ""]).encode(),
        "commands": "\n".join([f"NOTE={run}", f"QUOTED=\"{run}\"", f"DATABASE_URL={URL}", *lines, ""]).encode(),
        "export, comments": "\n".join(["# the dev database", f"export DATABASE_URL='{URL}' # local", *lines, ""]).encode(),
    }


@pytest.fixture
def projects(render, tmp_path) -> dict[str, Path]:
    """The embedded and the shared render, copied, with a psql that records its arguments."""
    psql = tmp_path / "psql"
    psql.write_text('#!/bin/sh\nprintf "%s\\n" "$@" >> "$PSQL_LOG"\n')
    psql.chmod(0o755)
    found = {}
    for name, answers in {"embedded": {"domains": ["asset"]}, "shared": {"domains": ["asset"], **SHARED_ANSWERS}}.items():
        found[name] = tmp_path / name
        shutil.copytree(render(**answers), found[name])
    return found


def sh_sees(project: Path, script: str, tmp_path: Path) -> list[str]:
    """The --dbname values SCRIPT gave psql."""
    log = tmp_path / "psql.log"
    log.unlink(missing_ok=True)
    subprocess.run(["sh", script], cwd=project, capture_output=True, text=True, timeout=60,
                   env={"PATH": "/usr/local/bin:/usr/bin:/bin", "PSQL": str(tmp_path / "psql"), "PSQL_LOG": str(log),
                        "DATABASE_URL": "postgres://prod/never"})
    lines = log.read_text().splitlines() if log.exists() else []
    return sorted({line.removeprefix("--dbname=") for line in lines if line.startswith("--dbname=")})


def node_sees(project: Path) -> str:
    """DATABASE_URL as the auth scripts load it (scripts/auth-config.mjs), over the shell's, with the
    pinned Better Auth installed (the scripts check its version first)."""
    installed, _ = install_release_set(better_auth.RELEASES[0].version)
    (project / "probe.mjs").write_text("console.log(process.env.DATABASE_URL);\nexport const auth = { options: {} };\n")
    result = subprocess.run(["node", "--input-type=module", "-e",
                             'import { loadAuth } from "./scripts/auth-config.mjs"; await loadAuth("probe.mjs", "x");'],
                            cwd=project, capture_output=True, text=True, timeout=60,
                            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "DATABASE_URL": "postgres://prod/never",
                                 "NODE_PATH": str(installed / "node_modules")})
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_every_script_reads_each_env_shape_as_node_does(projects, tmp_path):
    ran = tmp_path / "ran"
    ran.mkdir()
    server_url = URL.replace("/shop?", "/postgres?")  # shared-postgres.sh connects to the server's own database
    for shape, content in shapes(ran).items():
        for project in projects.values():
            (project / ".env").write_bytes(content)
        embedded, shared = projects["embedded"], projects["shared"]
        seen = {
            "db-check.sh": sh_sees(embedded, "scripts/db-check.sh", tmp_path),
            "apply-triggers.sh": sh_sees(embedded, "scripts/apply-triggers.sh", tmp_path),
            "shared-postgres.sh": sh_sees(shared, "scripts/shared-postgres.sh", tmp_path),
            "auth-config.mjs": [node_sees(embedded)],
        }
        assert seen == {"db-check.sh": [URL], "apply-triggers.sh": [URL], "shared-postgres.sh": [server_url],
                        "auth-config.mjs": [URL]}, shape
        assert not list(ran.iterdir()), f"{shape}: .env ran a command"


def test_a_key_env_lacks_is_empty_for_sh_never_the_shells(projects, tmp_path):
    """A DATABASE_URL the shell exports (a production URL, say) never stands in for .env's."""
    (projects["embedded"] / ".env").write_text("POSTGRES_DB=shop\n")
    result = subprocess.run(["sh", "scripts/db-check.sh"], cwd=projects["embedded"], capture_output=True, text=True,
                            env={"PATH": "/usr/local/bin:/usr/bin:/bin", "DATABASE_URL": "postgres://prod/never"})
    assert result.returncode == 2 and "db:check: DATABASE_URL is not set in .env" in result.stderr
