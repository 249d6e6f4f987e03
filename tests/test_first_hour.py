"""The first hour on machines our other tests do not model: a port something else already listens
on, no Docker. Each copy's printed next steps are followed as typed."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import yaml

from tests.helpers import commit_all, copier, copy_in_process, git_init, give_to, unprivileged_user
from tests.test_embedded_dev_database import Newcomer, npm_install


def next_step_commands(printed: str, package_manager: str = "npm") -> list[str]:
    """The commands of a copy's printed next steps, as typed (without their comments)."""
    steps = printed.split("Next, in", 1)[1].splitlines()[1:]
    return [line.split(" #", 1)[0].strip() for line in steps if line.strip().startswith(f"{package_manager} ")]


@contextlib.contextmanager
def listener_on(port: int):
    """A program listening on PORT of 127.0.0.1 (nothing to do when one already does)."""
    with socket.socket() as held:
        try:
            held.bind(("127.0.0.1", port))
            held.listen()
        except OSError:
            pass  # something on this machine already listens there: the same situation
        yield


def test_a_busy_5432_is_never_the_default_and_the_printed_steps_start_postgres(template_dir, atlas, capfd):
    """A local PostgreSQL on 5432 (here a plain listener, held throughout): the copy's default port
    skips it, and the printed next steps, typed as they are, start the dev database on that port."""
    user = unprivileged_user()
    base = Path(tempfile.mkdtemp(prefix="cap-first-hour-"))
    base.chmod(0o755)
    mono = base / "mono"
    git_init(mono)
    (base / "home").mkdir()
    server = mono / "apps" / "shop" / "server"
    with listener_on(5432), listener_on(5433):
        capfd.readouterr()
        copy_in_process(mono, template_dir, "apps/shop/server",
                        {"project_name": "Shop", "project_slug": "shop", "domains": ["asset"]}, ref="HEAD")
        printed = capfd.readouterr().err
        port = int(yaml.safe_load((server / ".copier-answers.yml").read_text())["db_port"])
        assert port > 5433
        commit_all(mono, "shop")
        give_to(user, base)
        newcomer = Newcomer(server, port, base / "home", atlas, user)
        try:
            commands = next_step_commands(printed)
            assert commands[:2] == ["npm install", "npm run db:up"], printed
            npm_install(newcomer)  # `npm install`, from the test cache
            up = newcomer.ok("sh", "-c", commands[1])
            assert f"is running on 127.0.0.1:{port}" in up
        finally:
            newcomer.run("node", "scripts/dev-postgres.mjs", "down")
            shutil.rmtree(base, ignore_errors=True)


def test_a_workspace_dependency_without_the_workspace_stops_in_one_line(template_dir, tmp_path):
    """An app folder copied out of its pnpm workspace (`workspace:*`, no pnpm files around): the
    package manager default, npm, cannot install it; --defaults stops in one line, nothing written."""
    git_init(tmp_path)
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "package.json").write_text('{"dependencies": {"@repo/ui": "workspace:*"}}\n')
    commit_all(tmp_path, "app")
    refused = copier(tmp_path, "copy", "--trust", "--defaults", str(template_dir), "server")
    assert refused.returncode == 1
    assert refused.stderr.strip() == "Validation error for question 'package_manager': workspace: needs pnpm, not npm"
    assert sorted(p.name for p in (tmp_path / "server").iterdir()) == ["package.json"]


def run_as_typed(cwd: Path, command: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
