"""Every command DATABASE.md tells the team to type names a script the project has, and works as
typed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.answers import MATRIX
from tests.helpers.atlas import atlas_schemas
from tests.helpers.copier_runs import copy_in_process, generate
from tests.helpers.git import commit_all

RUN = re.compile(r"\b(?:npm|pnpm|yarn|bun) run (?:--silent )?([a-z][a-z:-]*)")


@pytest.mark.parametrize("answers", MATRIX)
def test_database_md_names_only_scripts_the_project_has(render, answers):
    project = render(**answers)
    scripts = json.loads((project / "package.json").read_text())["scripts"]
    named = set(RUN.findall((project / "DATABASE.md").read_text()))
    assert named and named <= set(scripts), sorted(named - set(scripts))


def test_after_domain_add_database_mds_add_a_domain_line_works_as_typed(template_repo, mono):
    """domain:add takes the list from the answers file (package.json does not change); DATABASE.md's
    line then names another new domain, and works typed from the monorepo root."""
    server = generate(template_repo, mono, "shop", ["asset"])
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # copier
    added = subprocess.run(["npm", "run", "--silent", "domain:add", "--", "new_domain"], cwd=server, env=env,
                           capture_output=True, text=True, timeout=300)
    assert added.returncode == 0, added.stderr
    assert atlas_schemas(server)[-2:] == ["asset", "new_domain"]
    commit_all(mono, "add new_domain")

    (line,) = [line for line in (server / "DATABASE.md").read_text().splitlines()
               if line.startswith("copier update") and "domains=" in line]
    assert line.count("new_domain") == 2 and "new_domain_2]" in line
    typed = subprocess.run(["sh", "-c", line], cwd=mono, env=env, capture_output=True, text=True, timeout=300)
    assert typed.returncode == 0, typed.stderr
    assert atlas_schemas(server)[-3:] == ["asset", "new_domain", "new_domain_2"]


def test_an_apps_own_scripts_under_our_names_leave_ours_a_name_of_their_own(template_dir, mono, capfd):
    """The app keeps `schema:apply` and `schema:diff` with other flags: ours go under db:schema:apply
    and db:schema:diff, which the next steps and DATABASE.md then name (the app's stay as they were)."""
    server = mono / "apps" / "shop" / "server"
    server.mkdir(parents=True)
    own = {"schema:apply": "atlas schema apply --env dev --auto-approve", "schema:diff": "atlas schema diff --env dev"}
    (server / "package.json").write_text(json.dumps({"name": "shop-server", "scripts": own}))
    commit_all(mono, "app")
    capfd.readouterr()
    copy_in_process(mono, template_dir, "apps/shop/server", {"dev_database": "local", "use_better_auth": False},
                    ref="HEAD")
    printed = capfd.readouterr().err
    scripts = json.loads((server / "package.json").read_text())["scripts"]
    assert {name: scripts[name] for name in own} == own
    assert scripts["db:schema:apply"].endswith("sh scripts/apply-triggers.sh --after atlas schema apply --env dev")
    assert scripts["db:schema:diff"] == "atlas schema diff --env dev --from env://url --to env://schema.src"
    for text in (printed.split("Next, in", 1)[1], (server / "DATABASE.md").read_text()):
        assert "npm run db:schema:apply" in text and not re.search(r"npm run schema:(apply|diff)\b", text)
    assert set(RUN.findall((server / "DATABASE.md").read_text())) <= set(scripts)
