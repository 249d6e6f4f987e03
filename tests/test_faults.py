"""Interrupted and repeated commands converge: a real copier CLI process is killed (SIGKILL, SIGINT)
at a point found by watching the project's files, the same command is run again, and the team's
files end byte for byte as after one uninterrupted run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers import COPIER, commit_all, git, git_init

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


def kill_when(argv: list[str], cwd: Path, ready, sig: int) -> None:
    """Start ARGV, send SIG as soon as READY() holds (polled, no fixed sleep), wait for the end."""
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    deadline = time.monotonic() + 120
    while not ready():
        assert process.poll() is None, "the command ended before the point it was to be killed at"
        assert time.monotonic() < deadline, "the point to kill at never came"
        time.sleep(0.001)
    os.killpg(process.pid, sig)
    process.wait(timeout=60)


@pytest.fixture
def uninterrupted(template_repo, tmp_path):
    """The state one clean adoption leaves."""
    mono = tmp_path / "clean"
    server = handmade_monorepo(mono)
    result = run(mono, adopt_command(template_repo))
    assert result.returncode == 0, result.stderr
    return team_state(server)


def test_adoption_run_twice_changes_nothing_of_the_teams(template_repo, tmp_path, uninterrupted):
    mono = tmp_path / "twice"
    server = handmade_monorepo(mono)
    for _ in range(2):
        result = run(mono, adopt_command(template_repo))
        assert result.returncode == 0, result.stderr
    assert team_state(server) == uninterrupted
    assert "CREATE TABLE asset.holding" in (server / "schemas" / "20_asset.sql").read_text()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT], ids=["SIGKILL", "SIGINT"])
def test_adoption_killed_after_its_first_move_converges_when_run_again(template_repo, tmp_path, uninterrupted, sig):
    mono = tmp_path / "killed"
    server = handmade_monorepo(mono)
    first_moved = server / "schemas" / "asset.sql"
    kill_when(adopt_command(template_repo), mono, lambda: not first_moved.exists(), sig)
    result = run(mono, adopt_command(template_repo))
    assert result.returncode == 0, result.stderr
    assert team_state(server) == uninterrupted
