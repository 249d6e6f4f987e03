"""Answers that change later, and several projects in one monorepo (real git, real copier: its CLI for
a refused copy, its API in this process for the runs that succeed)."""

from __future__ import annotations

import itertools
import re

import psycopg
import yaml

from copier_atlas_postgres.questions.defaults import listened_on
from tests.helpers.copier_runs import copier, copy_in_process, generate, update_in_process
from tests.helpers.git import commit_all


def free_on_this_machine(count: int, skip: tuple[int, ...] = ()) -> list[str]:
    """The first COUNT ports from 5432 that nothing on this machine listens on (the port default
    skips those too), leaving out SKIP: what a monorepo's new projects get, in order."""
    free = (port for port in itertools.count(5432) if port not in skip and not listened_on(port))
    return [str(next(free)) for _ in range(count)]


def answers_of(server):
    return yaml.safe_load((server / ".copier-answers.yml").read_text())


def env_file_url(server) -> str:
    return re.search(r"^DATABASE_URL='(.*)'$", (server / ".env").read_text(), re.M).group(1)


def test_env_follows_changed_answers_and_keeps_secret_and_own_lines(template_repo, mono, pg_tcp, capfd):
    server = generate(template_repo, mono, "shop", ["asset"], use_better_auth=True, dev_database="docker")
    env_file = server / ".env"
    env_file.write_text(env_file.read_text() + "MY_OWN_SETTING='kept as typed'   # mine\n")
    secret_line = next(line for line in env_file.read_text().splitlines() if line.startswith("BETTER_AUTH_SECRET="))
    password = "n3w:p@ss/w%rd"

    capfd.readouterr()
    update_in_process(mono, "shop", {"db_port": str(pg_tcp.port), "db_user": "shop_admin", "db_password": password})
    stderr = capfd.readouterr().err  # the update succeeded (update_in_process raises otherwise)

    assert ".env: updated POSTGRES_USER, POSTGRES_PASSWORD, DATABASE_URL" in stderr
    assert secret_line.split("=", 1)[1] not in stderr
    assert password not in stderr
    text = env_file.read_text()
    assert secret_line in text.splitlines()
    assert text.endswith("MY_OWN_SETTING='kept as typed'   # mine\n")
    assert "POSTGRES_USER='shop_admin'" in text
    # The URL .env now holds reaches the database the new answers describe (compose, atlas.hcl agree).
    pg_tcp.create_role("shop_admin", password)
    pg_tcp.create_database(answers_of(server)["db_name"], owner="shop_admin")
    url = env_file_url(server).replace("localhost", "127.0.0.1")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("shop_admin",)
    assert f"127.0.0.1:{pg_tcp.port}:5432" in (server / "compose.yaml").read_text()
    assert f"@localhost:{pg_tcp.port}/" in (server / "atlas.hcl").read_text()
    assert "Next: review `git diff -- apps/shop/server`" in stderr


def test_slug_is_the_folder_name(template_repo, mono):
    refused = copier(mono, "copy", "--trust", "--defaults", "--vcs-ref", "v1.0.0", "--data", "project_slug=store",
                     str(template_repo), "apps/shop2/server")
    assert refused.returncode != 0
    assert "Validation error for question 'project_slug': 'store': the folder is 'shop2'" in refused.stderr
    assert not (mono / "apps").exists()

    server = generate(template_repo, mono, "shop2", [], project_slug=None, dev_database="docker")  # the folder decides
    assert answers_of(server)["project_slug"] == "shop2"
    assert 'name: "shop2-db"' in (server / "compose.yaml").read_text()


def test_three_projects_get_three_ports_and_next_steps(template_repo, mono, capfd):
    outputs = {}
    for slug in ("web", "api", "admin"):
        capfd.readouterr()
        copy_in_process(mono, template_repo, f"apps/{slug}/server", {"dev_database": "docker"}, ref="v1.0.0")
        outputs[slug] = capfd.readouterr().err
        commit_all(mono, slug)
    servers = {slug: mono / "apps" / slug / "server" for slug in outputs}
    ports = [answers_of(server)["db_port"] for server in servers.values()]
    assert ports == free_on_this_machine(3)
    names = {yaml.safe_load((server / "compose.yaml").read_text())["name"] for server in servers.values()}
    assert names == {"web-db", "api-db", "admin-db"}
    for slug, output in outputs.items():
        assert f"Next, in apps/{slug}/server" in output
        assert "npm run schema:apply" in output
    assert f"127.0.0.1:{ports[2]} (Docker)" in outputs["admin"]
    # The next step's lines fit a terminal.
    assert all(len(line) <= 80 for output in outputs.values() for line in output.split("Next, in", 1)[1].splitlines())


def test_an_existing_projects_port_never_moves_by_itself(template_repo, mono):
    """Defaults only steer new projects: two projects made before on the same port keep it."""
    generate(template_repo, mono, "a", [])
    second = generate(template_repo, mono, "b", [], db_port="5432")
    update_in_process(mono, "b")  # raises unless it succeeds
    assert answers_of(second)["db_port"] == "5432"


def test_local_projects_share_one_server_port(template_repo, mono):
    """One local PostgreSQL serves every local project: its port is the default; a container
    project takes the next port no other project (nor that server) uses."""
    generate(template_repo, mono, "web", [], dev_database="local", db_port="5439")
    api = generate(template_repo, mono, "api", [], dev_database="local", db_port=None)
    admin = generate(template_repo, mono, "admin", [], db_port=None)
    assert answers_of(api)["db_port"] == "5439"
    first, second = free_on_this_machine(2, skip=(5439,))
    assert answers_of(admin)["db_port"] == first
    docs = generate(template_repo, mono, "docs", [], dev_database="docker", db_port=None)
    assert answers_of(docs)["db_port"] == second
