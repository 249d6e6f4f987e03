"""The first hour on machines our other tests do not model: a port something else already listens
on, no Docker. Each copy's printed next steps are followed as typed."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import yaml

from tests.helpers.copier_runs import copier, copy_in_process
from tests.helpers.git import commit_all, git_init
from tests.helpers.postgres import give_to, unprivileged_user
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


SHOP = {"project_name": "Shop", "project_slug": "shop", "domains": ["asset"]}
# Set in the test's own network namespace: a listener held on 5432 there leaves the other tests'
# port defaults alone.
OWN_NETWORK = "CAP_TEST_OWN_NETWORK"


def test_a_busy_5432_is_never_the_default_and_the_printed_steps_start_postgres(template_dir, atlas, capfd):
    """A local PostgreSQL on 5432 (here a plain listener, held throughout): the copy's default port
    skips it, and the printed next steps, typed as they are, start the dev database on that port."""
    if not os.environ.get(OWN_NETWORK):
        if os.geteuid() != 0 or not shutil.which("unshare"):
            pytest.skip("needs root and unshare: the listener on 5432 gets a network namespace of its own")
        with tempfile.TemporaryDirectory() as warm:  # the namespace has no network: npm's packages first
            git_init(Path(warm))
            copy_in_process(Path(warm), template_dir, "apps/shop/server", SHOP, ref="HEAD")
            npm_install(Newcomer(Path(warm) / "apps/shop/server", 0, Path(warm), atlas, None))
        inner = subprocess.run(["unshare", "--net", "sh", "-c", 'ip link set lo up && exec "$@"', "sh",
                                sys.executable, "-m", "pytest", "-q", "-n", "0", "-p", "no:cacheprovider",
                                f"{__file__}::{test_a_busy_5432_is_never_the_default_and_the_printed_steps_start_postgres.__name__}"],
                               env={**os.environ, OWN_NETWORK: "1"}, capture_output=True, text=True, timeout=300)
        assert inner.returncode == 0 and " passed" in inner.stdout, inner.stdout + inner.stderr
        return
    user = unprivileged_user()
    base = Path(tempfile.mkdtemp(prefix="cap-first-hour-"))
    base.chmod(0o755)
    mono = base / "mono"
    git_init(mono)
    (base / "home").mkdir()
    server = mono / "apps" / "shop" / "server"
    with listener_on(5432), listener_on(5433):
        capfd.readouterr()
        copy_in_process(mono, template_dir, "apps/shop/server", SHOP, ref="HEAD")
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


# The docker CLI without its compose plugin, and no daemon, as the real one answers.
DOCKER_WITHOUT_COMPOSE = """#!/bin/sh
case "$1" in
  compose) echo "unknown shorthand flag: 'f' in -f" >&2; exit 125 ;;
  info) echo "Cannot connect to the Docker daemon at unix:///var/run/docker.sock." >&2; exit 1 ;;
esac
"""


def test_docker_mode_without_docker_says_what_is_missing_and_the_way_out_works(template_repo, mono, atlas, capfd,
                                                                                 monkeypatch, tmp_path):
    """No docker command, then a docker CLI without compose and daemon: the copy warns, and every
    script that needs Docker says in one line what is missing and how to do without; that way out,
    typed as printed, switches the project to PostgreSQL from npm."""
    no_docker = os.pathsep.join([str(Path(atlas).parent), "/usr/bin", "/bin"])  # node, npm, git; no docker
    monkeypatch.setenv("PATH", no_docker)
    capfd.readouterr()
    copy_in_process(mono, template_repo, "apps/shop/server", {"dev_database": "docker", "use_better_auth": False},
                    ref="v1.0.0")
    printed = capfd.readouterr().err
    assert "Warning: dev_database docker: needs Docker: no docker command (install Docker)" in " ".join(printed.split())
    server = mono / "apps" / "shop" / "server"
    fake = tmp_path / "fake-docker"
    fake.mkdir()
    (fake / "docker").write_text(DOCKER_WITHOUT_COMPOSE)
    (fake / "docker").chmod(0o755)

    scripts = json.loads((server / "package.json").read_text())["scripts"]
    needing = sorted(name for name, command in scripts.items() if "docker-check.sh" in command)
    assert {"db:up", "db:down", "schema:apply", "schema:diff"} <= set(needing)
    steps = [command for command in next_step_commands(printed) if "template:update" not in command]  # the way out
    assert set(steps) <= {f"npm run {name}" for name in needing}
    lines = {}
    for path, missing in ((no_docker, "no docker command"), (f"{fake}{os.pathsep}{no_docker}", None)):
        for name in needing:
            run = subprocess.run(["npm", "run", name], cwd=server, capture_output=True, text=True, timeout=120,
                                 env={**os.environ, "PATH": path, "npm_config_update_notifier": "false"})
            expected = missing or ("no compose plugin" if name.startswith("db:") else "daemon does not answer")
            (line,) = [line for line in run.stderr.splitlines() if line.startswith(f"{name}: needs Docker: ")]
            assert run.returncode != 0 and expected in line, run.stderr
            assert "unknown shorthand" not in run.stderr and "Cannot connect" not in run.stderr
            lines[name] = line

    commit_all(mono, "shop")
    way_out = lines["db:up"].split("commit, then ", 1)[1]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{no_docker}"}  # copier
    switched = subprocess.run(["sh", "-c", way_out], cwd=server, env=env, capture_output=True, text=True, timeout=300)
    assert switched.returncode == 0, switched.stderr
    assert json.loads((server / "package.json").read_text())["scripts"]["db:up"] == "node scripts/dev-postgres.mjs up"
    assert not (server / "compose.yaml").exists()


def test_a_relative_template_path_is_warned_about_with_the_absolute_one(template_dir, mono, capfd):
    """copier records the path as typed; from the project folder (template:update) it leads nowhere."""
    capfd.readouterr()
    copy_in_process(mono, Path(os.path.relpath(template_dir, mono)), "apps/shop/server", {"use_better_auth": False})
    printed = capfd.readouterr().err
    assert f"    _src_path: {template_dir.resolve()}\n" in printed, printed
    assert "Warning: the template path ../" in printed
