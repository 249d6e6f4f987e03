"""No byte of the team's lost: writes whole or not at all (a full disk, a planted link), an update
killed half-way recognised and undone by following the messages as printed, a fresh clone's
update, a project of the release before updated, computed answers checked like typed ones."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from copier_atlas_postgres.atomic import write_atomically
from tests.helpers.copier_runs import COPIER, generate, update_in_process
from tests.helpers.git import commit_all, git
from tests.helpers.processes import kill_when
from tests.helpers.releases import release_from_history, release_working_tree_after
from tests.test_faults import project_with_a_team_table, run

TEAM_TABLE = "CREATE TABLE asset.holding (id uuid PRIMARY KEY);\n"  # as project_with_a_team_table adds it
UPDATE = [*COPIER, "update", "--trust", "--defaults", "apps/shop/server"]


@contextlib.contextmanager
def small_disk(where: Path, size: str = "4m"):
    """A tmpfs of SIZE mounted at WHERE (root only), unmounted afterwards."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("mounting a small tmpfs needs root")
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def fill(disk: Path) -> Path:
    """Fill DISK to the last byte; returns the filler (delete it to free the space)."""
    filler = disk / "filler"
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for chunk in (65536, 1):
            with contextlib.suppress(OSError):
                while True:
                    os.write(handle, b"\0" * chunk)
    finally:
        os.close(handle)
    return filler


# ---- one write ------------------------------------------------------------------------------------


def test_a_write_keeps_mode_and_endings_and_never_follows_a_link(tmp_path):
    env = tmp_path / ".env"
    env.write_bytes(b"A=1\r\n")
    env.chmod(0o600)
    write_atomically(env, "A=1\r\nB=2\r\n")
    assert env.read_bytes() == b"A=1\r\nB=2\r\n"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600

    outside = tmp_path / "outside.txt"
    outside.write_text("theirs\n")
    planted = tmp_path / "package.json"
    planted.symlink_to(outside)
    write_atomically(planted, "{}\n")
    assert outside.read_text() == "theirs\n"  # the link is replaced, its target untouched
    assert not planted.is_symlink() and planted.read_text() == "{}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", "outside.txt", "package.json"]


def test_a_full_disk_leaves_the_old_file_whole(tmp_path):
    with small_disk(tmp_path / "disk") as disk:
        env = disk / ".env"
        env.write_text("DATABASE_URL=postgres://dev@localhost:5432/dev\n")
        filler = fill(disk)
        with pytest.raises(OSError):
            write_atomically(env, "DATABASE_URL=postgres://dev@localhost:5440/dev\n" * 100)
        assert env.read_text() == "DATABASE_URL=postgres://dev@localhost:5432/dev\n"
        assert sorted(p.name for p in disk.iterdir()) == [".env", "filler"]  # no temporary file left
        filler.unlink()


# ---- an update killed half-way -----------------------------------------------------------------


def test_an_update_killed_half_way_loses_nothing_when_copiers_message_is_followed(template_repo, tmp_path):
    mono = tmp_path / "mono"
    server = project_with_a_team_table(template_repo, mono)
    domain = server / "schemas" / "20_asset.sql"
    # The window: copier has written v2's files over the team's and not yet put their edits back.
    kill_when(UPDATE, mono, lambda: domain.exists() and "asset.holding" not in domain.read_text(), 9)
    assert (server / ".copier-update-started").is_file()

    again = run(mono, UPDATE)
    assert again.returncode != 0 and "Destination repository is dirty" in again.stderr
    commit_all(mono, "what copier said: commit, then retry")  # the trap: the team's table is not in it
    refused = run(mono, UPDATE)
    assert refused.returncode != 0 and "Nothing was written" in refused.stderr, refused.stderr
    undo = re.search(r"^\s+(git revert --no-edit \w+)$", refused.stderr, re.M).group(1)
    subprocess.run(undo, shell=True, cwd=mono, check=True, capture_output=True)  # as typed
    final = run(mono, UPDATE)

    assert final.returncode == 0, final.stderr
    assert domain.read_text().endswith(TEAM_TABLE)
    assert "_commit: v2.0.0" in (server / ".copier-answers.yml").read_text()
    assert not (server / ".copier-update-started").exists()


def test_a_full_disk_during_an_update_is_undone_by_the_printed_command(template_repo, tmp_path):
    mono = tmp_path / "mono"
    project_with_a_team_table(template_repo, mono)
    with small_disk(tmp_path / "disk", "64m") as disk:
        moved = disk / "monorepo"
        shutil.copytree(mono, moved, symlinks=True)
        server = moved / "apps" / "shop" / "server"
        env_before = (server / ".env").read_bytes()
        # The disk fills once the update has started writing there: copier's writes or the merge fail.
        update = subprocess.Popen(UPDATE, cwd=moved, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not (server / ".copier-update-started").exists():
            assert update.poll() is None, "the update ended before it started writing"
        filler = fill(disk)
        assert update.wait(timeout=300) != 0
        filler.unlink()
        assert (server / ".env").read_bytes() == env_before  # whole

        def template_update() -> subprocess.CompletedProcess:
            return subprocess.run(["sh", "scripts/template-update.sh"], cwd=server, capture_output=True, text=True,
                                  env={**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"})

        stopped = template_update()
        assert stopped.returncode == 1 and "do not commit" in stopped.stderr, stopped.stderr
        subprocess.run(stopped.stderr.rsplit(": ", 1)[1].strip(), shell=True, cwd=server, check=True)  # as printed
        again = template_update()
        assert again.returncode == 0, again.stderr
        assert (server / "schemas" / "20_asset.sql").read_text().endswith(TEAM_TABLE)
        assert (server / ".env").read_bytes() == env_before


# ---- a fresh clone, a planted link, the release before ------------------------------------------


def test_a_fresh_clone_updates_to_a_complete_env_and_writes_through_no_planted_link(template_repo, mono, tmp_path):
    server = generate(template_repo, mono, "shop", ["asset"], use_better_auth=True)
    outside = tmp_path / "outside.txt"
    outside.write_text("theirs\n")
    (server / ".copier" / "merge-base.json.tmp").symlink_to(outside)  # planted by a pull request
    commit_all(mono, "a planted link")
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(mono), str(clone))
    assert not (clone / "apps" / "shop" / "server" / ".env").exists()  # git-ignored

    update_in_process(clone, "shop")  # raises unless it succeeds
    env = (clone / "apps" / "shop" / "server" / ".env").read_text()
    example = (clone / "apps" / "shop" / "server" / ".env.example").read_text()
    for key in re.findall(r"^([A-Z_]+)=", example, re.M):
        assert re.search(rf"^{key}=.+", env, re.M), key
    assert "DATABASE_URL=" in env and "BETTER_AUTH_SECRET='" in env
    assert outside.read_text() == "theirs\n"


# The last commit of this repository whose projects record the merge base in .copier/merge-base.json.
RELEASE_WITH_MERGE_BASE_FILE = "7ed0932"


def test_a_project_of_the_release_before_updates_and_drops_merge_base_json(tmp_path, mono):
    repo = release_from_history(tmp_path / "template", RELEASE_WITH_MERGE_BASE_FILE, "v1.0.0")
    release_working_tree_after(repo, "v1.1.0")

    server = generate(repo, mono, "shop", ["asset"])
    assert (server / ".copier" / "merge-base.json").is_file()
    (server / "package.json").write_text((server / "package.json").read_text().replace(
        '"db:check": "sh scripts/db-check.sh"', '"db:check": "sh scripts/db-check.sh --verbose"'))
    domain = server / "schemas" / "20_asset.sql"
    domain.write_text(domain.read_text() + TEAM_TABLE)
    env = server / ".env"
    env.write_text(env.read_text() + "APP_ONLY=kept\n")
    commit_all(mono, "the team's edits")

    update_in_process(mono, "shop", {"db_port": "5440"})

    assert not (server / ".copier" / "merge-base.json").exists()
    assert '"db:check": "sh scripts/db-check.sh --verbose"' in (server / "package.json").read_text()
    assert domain.read_text().endswith(TEAM_TABLE)
    assert "APP_ONLY=kept\n" in env.read_text() and ":5440/" in env.read_text()


# ---- computed answers ---------------------------------------------------------------------------


@pytest.mark.parametrize("data", ["app_auth_config=src/auth.ts; touch /tmp/x", "compose_file=../../compose.yaml"])
def test_a_bad_computed_answer_is_one_line_and_nothing_written(template_repo, mono, data):
    result = run(mono, [*COPIER, "copy", "--trust", "--defaults", "--vcs-ref", "v1.0.0", "--data", data,
                        str(template_repo), "apps/shop/server"])
    question = data.split("=", 1)[0]
    assert result.returncode != 0
    assert f"Validation error for question '{question}'" in result.stderr and "Traceback" not in result.stderr
    assert not (mono / "apps").exists()
