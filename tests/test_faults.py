"""Interrupted and repeated commands converge: a real copier CLI process is killed (SIGKILL, SIGINT)
at a point found by watching the project's files, the same command is run again, and the team's
files end byte for byte as after one uninterrupted run."""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
from pathlib import Path

import pytest
from copier.errors import TaskError, UserMessageError

from tests.helpers.copier_runs import COPIER, copy_in_process, generate, update_in_process
from tests.helpers.git import commit_all, git, git_init
from tests.helpers.processes import kill_when
from tests.helpers.releases import V2_README

DATA = Path(__file__).parent / "data"
ADOPT = ["copy", "--trust", "--defaults", "--overwrite", "--vcs-ref", "v1.0.0"]


def handmade_monorepo(root: Path) -> Path:
    """A monorepo whose apps/shop/server was built by hand from the convention doc, committed."""
    server = root / "apps" / "shop" / "server"
    shutil.copytree(DATA / "handmade-server", server)
    git_init(root)
    commit_all(root, "hand-made server")
    return server


def adopt_command(template: Path) -> list[str]:
    return [*COPIER, *ADOPT, str(template), "apps/shop/server"]


def run(mono: Path, argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=mono, capture_output=True, text=True, timeout=300)


def team_state(server: Path) -> tuple[dict[str, bytes], str]:
    """What the adoption leaves for the team to commit: the schema files, triggers, atlas.hcl and
    package.json as bytes, and what git has staged (the renames that keep history)."""
    files = {str(p.relative_to(server)): p.read_bytes()
             for folder in ("schemas", "triggers") for p in sorted((server / folder).glob("*")) if p.is_file()}
    files |= {name: (server / name).read_bytes() for name in ("atlas.hcl", "package.json")}
    return files, git(server, "diff", "--cached", "--name-status", "-M", "--", ".")


def adopt_in_process(template: Path, mono: Path) -> None:
    """The adoption command through copier's API in this process (a failure raises)."""
    copy_in_process(mono, template, "apps/shop/server", {}, ref="v1.0.0", overwrite=True)


@pytest.fixture(scope="module")
def uninterrupted(template_repo, tmp_path_factory):
    """The state one clean adoption leaves."""
    mono = tmp_path_factory.mktemp("adoption") / "clean"
    server = handmade_monorepo(mono)
    adopt_in_process(template_repo, mono)
    return team_state(server)


def test_adoption_run_twice_changes_nothing_of_the_teams(template_repo, tmp_path, uninterrupted, capfd):
    mono = tmp_path / "twice"
    server = handmade_monorepo(mono)
    adopt_in_process(template_repo, mono)
    capfd.readouterr()
    adopt_in_process(template_repo, mono)
    assert "an earlier run had made 3 of these moves" in capfd.readouterr().err  # says what it found
    assert team_state(server) == uninterrupted
    assert "CREATE TABLE asset.holding" in (server / "schemas" / "20_asset.sql").read_text()


# One signal per command keeps the module short: SIGKILL where git itself may be cut off (the adoption's
# moves), SIGINT (Ctrl-C, copier's own clean-up runs) for the copy and the update.
@pytest.mark.parametrize("sig", [signal.SIGKILL], ids=["SIGKILL"])
def test_adoption_killed_after_its_first_move_converges_when_run_again(template_repo, tmp_path, uninterrupted, sig):
    mono = tmp_path / "killed"
    server = handmade_monorepo(mono)
    first_moved = server / "schemas" / "asset.sql"
    kill_when(adopt_command(template_repo), mono, lambda: not first_moved.exists(), sig)
    result = run(mono, adopt_command(template_repo))
    if result.returncode and "a git command was interrupted" in result.stderr:  # killed inside git itself
        recovery = re.search(r"^\s+(rm .*index\.lock.*)$", result.stderr, re.M).group(1)
        subprocess.run(recovery, shell=True, cwd=mono, check=True)  # the one command printed, as typed
        result = run(mono, adopt_command(template_repo))
    assert result.returncode == 0, result.stderr
    assert team_state(server) == uninterrupted


# ---- state that went missing or a merge that did not finish ------------------------------------


def test_deleted_copier_folder_is_rebuilt_and_the_guard_still_keeps_edited_files(template_repo, mono, capfd):
    server = generate(template_repo, mono, "shop", ["asset", "portfolio"])
    domain = server / "schemas" / "20_asset.sql"
    domain.write_text(domain.read_text() + "\nCREATE TABLE asset.holding (id uuid PRIMARY KEY);\n")
    git(mono, "rm", "-r", "-q", "apps/shop/server/.copier")
    commit_all(mono, "the team's table; .copier/ deleted")
    theirs = domain.read_bytes()

    capfd.readouterr()
    with pytest.raises(TaskError) as failed:
        update_in_process(mono, "shop", {"domains": ["portfolio"]})
    stderr = capfd.readouterr().err

    assert failed.value.returncode == 1
    assert "KEPT" in stderr and "apps/shop/server/schemas/20_asset.sql" in stderr
    assert domain.read_bytes() == theirs and (server / "triggers" / "20_asset.sql").is_file()
    assert ".copier/package.fragment.json, .copier/env.fragment, .copier/gitignore.fragment: missing, written" \
           " again from the template" in stderr
    assert json.loads((server / ".copier" / "package.fragment.json").read_text())["scripts"]["schema:apply"]


def test_a_merge_that_would_stop_refuses_the_update_before_anything_is_written(template_repo, mono):
    server = generate(template_repo, mono, "shop", ["asset"])
    package = server / "package.json"
    good = package.read_text()
    package.write_text(good + "}\n")  # invalid JSON: the merge could not finish
    commit_all(mono, "a broken package.json")

    with pytest.raises(UserMessageError, match=r"package.json: not valid JSON .*; fix it, then update again"):
        update_in_process(mono, "shop", {"db_port": "5440"})
    assert git(mono, "status", "--porcelain") == ""  # nothing written

    package.write_text(good)  # the team fixes it and commits, as the message says
    commit_all(mono, "package.json fixed")
    update_in_process(mono, "shop", {"db_port": "5440"})  # raises unless it succeeds

    assert ":5440/" in (server / ".env").read_text() and ":5440/" in (server / "atlas.hcl").read_text()
    assert not (server / ".copier-update-started").exists()


# ---- a copy into an app server, killed while copier writes -------------------------------------

APP_FILES = {"package.json": b'{\n  "name": "shop-server",\n  "scripts": {"dev": "bun run src/index.ts"}\n}\n',
             "README.md": b"# Shop server\n", "src/index.ts": b"console.log('shop');\n"}


def app_monorepo(root: Path) -> Path:
    server = root / "apps" / "shop" / "server"
    for name, content in APP_FILES.items():
        (server / name).parent.mkdir(parents=True, exist_ok=True)
        (server / name).write_bytes(content)
    git_init(root)
    commit_all(root, "the app")
    return server


def project_files(server: Path) -> dict[str, bytes]:
    """Every file of the server but .env (its secret is random in each run)."""
    return {str(p.relative_to(server)): p.read_bytes() for p in sorted(server.rglob("*"))
            if p.is_file() and p.name != ".env"}


COPY = [*COPIER, "copy", "--trust", "--defaults", "--vcs-ref", "v1.0.0", "--data", "domains=[asset]"]


@pytest.fixture(scope="module")
def clean_copy(template_repo, tmp_path_factory) -> dict[str, bytes]:
    mono = tmp_path_factory.mktemp("copy") / "clean"
    server = app_monorepo(mono)
    copy_in_process(mono, template_repo, "apps/shop/server", {"domains": ["asset"]}, ref="v1.0.0")
    return project_files(server)


@pytest.mark.parametrize("sig", [signal.SIGINT], ids=["SIGINT"])
def test_copy_killed_while_copier_writes_converges_when_run_again(template_repo, tmp_path, clean_copy, sig):
    command = [*COPY, str(template_repo), "apps/shop/server"]
    mono = tmp_path / "killed"
    server = app_monorepo(mono)
    kill_when(command, mono, lambda: (server / "DATABASE.md").exists(), sig)
    result = run(mono, command)

    assert result.returncode == 0, result.stderr
    assert project_files(server) == clean_copy
    assert {name: (server / name).read_bytes() for name in ("README.md", "src/index.ts")} == \
        {name: APP_FILES[name] for name in ("README.md", "src/index.ts")}


# ---- an update killed while copier applies it -------------------------------------------------


def interrupted_section_command(server: Path) -> str:
    """The recovery command of DATABASE.md's "If a command was interrupted", as committed."""
    text = git(server, "show", "HEAD:./DATABASE.md").split("## If a command was interrupted", 1)[1]
    return re.search(r"```sh\n(.*?)\n\s*```", text, re.S).group(1).strip()


def project_with_a_team_table(template: Path, mono: Path) -> Path:
    git_init(mono)
    (mono / "README.md").write_text("# The monorepo\n")
    commit_all(mono, "monorepo")
    server = generate(template, mono, "shop", ["asset"])
    domain = server / "schemas" / "20_asset.sql"
    domain.write_text(domain.read_text() + "\nCREATE TABLE asset.holding (id uuid PRIMARY KEY);\n")
    commit_all(mono, "the team's table")
    return server


@pytest.fixture(scope="module")
def clean_update(template_repo, tmp_path_factory) -> dict[str, bytes]:
    mono = tmp_path_factory.mktemp("update") / "clean"
    server = project_with_a_team_table(template_repo, mono)
    update_in_process(mono, "shop")
    return project_files(server)


@pytest.mark.parametrize("sig", [signal.SIGINT], ids=["SIGINT"])
def test_update_killed_midway_recovers_with_the_documented_command(template_repo, tmp_path, clean_update, sig, capfd):
    mono = tmp_path / "killed"
    server = project_with_a_team_table(template_repo, mono)
    readme = server / "DATABASE.md"
    command = [*COPIER, "update", "--trust", "--defaults", "apps/shop/server"]
    kill_when(command, mono, lambda: V2_README in readme.read_text(), sig)
    with pytest.raises(UserMessageError, match="dirty"):  # copier refuses the half-updated folder
        update_in_process(mono, "shop")

    subprocess.run(["sh", "-c", interrupted_section_command(server)], cwd=server, check=True)
    update_in_process(mono, "shop")  # raises unless it succeeds

    assert project_files(server) == clean_update
    assert "CREATE TABLE asset.holding" in (server / "schemas" / "20_asset.sql").read_text()


def test_copying_again_over_a_committed_project_changes_nothing(template_repo, tmp_path):
    mono = tmp_path / "mono"
    server = project_with_a_team_table(template_repo, mono)
    before = project_files(server)
    result = run(mono, [*COPY, "--overwrite", str(template_repo), "apps/shop/server"])
    assert result.returncode == 1
    assert "generated and committed" in result.stderr and "copier update --trust --defaults apps/shop/server" in result.stderr
    assert project_files(server) == before and git(mono, "status", "--porcelain") == ""
