"""What the template writes or runs never reads user text as options, never leaks a secret, and never
changes bytes it does not own: script arguments, .env's secret and mode, symlinked and CRLF shared
files, an unreadable atlas.hcl, a waiver file that is not UTF-8. Real copier, git, sh and psql."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import copier
import psycopg
import pytest
from copier.errors import UserMessageError

from copier_atlas_postgres.world import hcl_text
from tests.helpers.git import commit_all, git_init
from tests.helpers.postgres import load_schemas, pg_bin
from tests.helpers.releases import release_working_tree_as_v1

DATA = Path(__file__).parent / "data"


def client_env(**extra: str) -> dict:
    return {**os.environ, "PATH": f"{Path(pg_bin('psql')).parent}{os.pathsep}{os.environ['PATH']}", **extra}


def sh(project: Path, *argv: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", *argv], cwd=project, env=client_env(**env), capture_output=True, text=True,
                          timeout=60)


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    """The working tree's template as a git release (copied from in-process, like a user's URL)."""
    return release_working_tree_as_v1(tmp_path_factory.mktemp("release") / "template")


def copy(release: Path, server: Path, overwrite: bool = False, **data) -> None:
    """`copier copy --trust --defaults` in-process (the refusals raise UserMessageError)."""
    copier.run_copy(str(release), str(server), data={"project_name": "Shop", "project_slug": "shop", **data},
                    vcs_ref="v1.0.0", defaults=True, unsafe=True, quiet=True, overwrite=overwrite)


def app_server(tmp_path: Path, files: dict[str, bytes]) -> Path:
    """apps/shop/server of a monorepo holding FILES, committed."""
    mono = tmp_path / "monorepo"
    server = mono / "apps" / "shop" / "server"
    server.mkdir(parents=True)
    for name, content in files.items():
        (server / name).write_bytes(content)
    git_init(mono)
    commit_all(mono, "app")
    return server


# ---- the generated scripts ---------------------------------------------------------------------


@pytest.mark.parametrize("script", ["scripts/db-check.sh", "scripts/apply-triggers.sh"])
def test_script_arguments_are_never_psql_options(render, tmp_path, script):
    project = shutil.copytree(render(domains=["asset"], atlas_pro=False), tmp_path / "server")
    marker = tmp_path / "ran"
    run = sh(project, script, f"-c\\! touch {marker}")
    assert run.returncode != 0 and "is not a database URL" in run.stderr, run
    assert not marker.exists()
    help_text = sh(project, script, "--help")
    assert help_text.returncode == 0 and f"sh {script}" in help_text.stdout, help_text


def test_trigger_files_run_in_one_psql_session_and_an_error_names_its_file(render, fresh_db, tmp_path):
    project = shutil.copytree(render(domains=["asset"], atlas_pro=False), tmp_path / "server")
    load_schemas(fresh_db, project)
    calls = tmp_path / "psql-calls"
    wrapper = tmp_path / "psql"
    wrapper.write_text(f'#!/bin/sh\necho call >> "{calls}"\nexec "{pg_bin("psql")}" "$@"\n')
    wrapper.chmod(0o755)
    (project / "triggers" / "15_broken.sql").write_text("SELECT no_such_function();\n")

    failed = sh(project, "scripts/apply-triggers.sh", fresh_db, PSQL=str(wrapper))
    assert failed.returncode != 0 and "triggers/15_broken.sql" in failed.stderr, failed
    assert "applied" not in failed.stdout
    with psycopg.connect(fresh_db) as conn:  # stopped at the broken file: 20_asset.sql never ran
        assert not conn.execute("SELECT 1 FROM pg_trigger WHERE tgname = 'update_example_updated_at'").fetchall()

    (project / "triggers" / "15_broken.sql").unlink()
    calls.unlink()
    applied = sh(project, "scripts/apply-triggers.sh", fresh_db, PSQL=str(wrapper))
    assert applied.returncode == 0, applied
    assert applied.stdout.split("\n") == ["applied triggers/10_public.sql", "applied triggers/20_asset.sql", ""]
    assert calls.read_text() == "call\n"
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT 1 FROM pg_trigger WHERE tgname = 'update_example_updated_at'").fetchall()


def test_a_waiver_line_that_is_not_utf8_is_named(render, fresh_db, tmp_path):
    project = shutil.copytree(render(domains=["asset"]), tmp_path / "server")
    load_schemas(fresh_db, project)
    waivers = project / "db-check-waivers.txt"
    lines = waivers.read_bytes().count(b"\n")
    waivers.write_bytes(waivers.read_bytes() + b"asset.example uuid-pk caf\xe9 au lait\n")
    run = sh(project, "scripts/db-check.sh", fresh_db)
    assert run.returncode == 2, run
    assert f"db-check-waivers.txt:{lines + 1}: not UTF-8 text" in run.stderr


# ---- .env: private, and never a secret in a file git tracks ------------------------------------


def test_env_is_private(release, tmp_path):
    server = tmp_path / "apps" / "shop" / "server"
    copy(release, server, use_better_auth=True)
    assert stat.S_IMODE((server / ".env").stat().st_mode) == 0o600
    assert "BETTER_AUTH_SECRET=" in (server / ".env").read_text()


def test_a_tracked_env_never_gets_the_secret(release, tmp_path, capfd):
    server = app_server(tmp_path, {".env": b"APP_MODE=dev\n", "package.json": b'{"name": "shop-server"}\n'})
    copy(release, server, use_better_auth=True)
    env = (server / ".env").read_text()
    assert env.startswith("APP_MODE=dev\n") and "DATABASE_URL=" in env
    assert "BETTER_AUTH_SECRET" not in env
    assert ".env is tracked by git: BETTER_AUTH_SECRET NOT written into it" in capfd.readouterr().err


# ---- shared files: symlinks and line endings ---------------------------------------------------


def test_a_shared_file_linked_out_of_the_server_is_refused(release, tmp_path):
    server = app_server(tmp_path, {"README.md": b"# shop\n"})
    elsewhere = tmp_path / "monorepo" / "packages" / "config" / "package.json"
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_bytes(b'{"name": "shared-config"}\n')
    (server / "package.json").symlink_to(elsewhere)
    with pytest.raises(UserMessageError) as refusal:
        copy(release, server)
    assert f"package.json is a symlink to {elsewhere}, outside this server" in str(refusal.value)
    assert sorted(p.name for p in server.iterdir()) == ["README.md", "package.json"]
    assert elsewhere.read_bytes() == b'{"name": "shared-config"}\n'


def test_a_shared_file_linked_inside_the_server_is_merged_into_its_target(release, tmp_path):
    server = app_server(tmp_path, {"README.md": b"# shop\n"})
    (server / "config").mkdir()
    (server / "config" / "package.json").write_bytes(b'{"name": "shop-server"}\n')
    (server / "package.json").symlink_to("config/package.json")
    copy(release, server)
    assert (server / "package.json").is_symlink()
    assert '"schema:apply"' in (server / "config" / "package.json").read_text()


def test_crlf_shared_files_keep_their_line_endings(release, tmp_path):
    theirs = {".env": b"APP_MODE=dev\r\n", ".gitignore": b"dist/\r\n",
              "package.json": b'{\r\n  "name": "shop-server",\r\n  "scripts": {\r\n    "dev": "bun run src/index.ts"\r\n  }\r\n}\r\n'}
    server = app_server(tmp_path, theirs)
    copy(release, server, use_better_auth=True)
    for name, before in theirs.items():
        after = (server / name).read_bytes()
        assert after.count(b"\n") == after.count(b"\r\n") > before.count(b"\n"), (name, after)
        assert before.splitlines()[0] in after.splitlines(), name


# ---- adoption: an unreadable atlas.hcl, and no secret in the report ----------------------------


def handmade_server(tmp_path: Path, atlas_hcl: str) -> Path:
    mono = tmp_path / "monorepo"
    server = mono / "apps" / "shop" / "server"
    shutil.copytree(DATA / "handmade-server", server)
    (server / "atlas.hcl").write_text(atlas_hcl)
    git_init(mono)
    commit_all(mono, "hand-made server")
    return server


def test_an_unreadable_atlas_hcl_is_refused_with_its_line(release, tmp_path):
    broken = 'env "dev" {\n  url = "postgres://team:teampw@localhost:5432/shop\n  dev = "docker://postgres/17/dev"\n}\n'
    server = handmade_server(tmp_path, broken)
    before = {p: p.read_bytes() for p in server.rglob("*") if p.is_file()}
    with pytest.raises(UserMessageError) as refusal:
        copy(release, server, overwrite=True)
    assert "atlas.hcl: line 2: a string is not terminated" in str(refusal.value)
    assert {p: p.read_bytes() for p in server.rglob("*") if p.is_file()} == before


def test_the_adoption_report_echoes_no_secret(release, tmp_path, capfd):
    atlas_hcl = (DATA / "handmade-server" / "atlas.hcl").read_text()
    server = handmade_server(tmp_path, atlas_hcl + 'variable "db_pass" {\n  default = "teampw-9"\n}\n')
    copy(release, server, overwrite=True)
    err = capfd.readouterr().err
    assert "variable.db_pass.default = \"…\"" in err and "teampw-9" not in err


@pytest.mark.parametrize(("text", "problem"), [
    ('env "dev" {\n  url = "x\n}\n', "line 2: a string is not terminated"),
    # a later line's quote does not end it: a string ends on its own line
    ('env "dev" {\n  url = "x\n  dev = "docker://postgres/17/dev"\n}\n', "line 2: a string is not terminated"),
    ('env "dev" {\n  url = "x"\n', "line 1: block env dev is not closed"),
    ('x = 1\n}\n', "line 2: '}' closes no block"),
])
def test_hcl_reader_refuses_what_atlas_would(text, problem):
    with pytest.raises(ValueError, match=problem):
        hcl_text.read(text)
