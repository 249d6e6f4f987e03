"""`copier update` on real git repositories with real copier: no user work is ever lost. The copier CLI
where its exit status and output are the point (a refused or conflicting update, the npm scripts);
copier's API in this process otherwise (the same run, the output read from fd 2).

The update mechanics run on small template releases written here (as copier's own tests do); the
tests about the template's own files on the real template, released as v1.0.0 and v2.0.0 by
tests/conftest.py (`template_repo`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from copier.errors import TaskError

from copier_atlas_postgres.tasks import update_guard
from tests.helpers.atlas import atlas_schemas
from tests.helpers.copier_runs import copy_in_process, generate, update, update_in_process
from tests.helpers.files import replace_once, snapshot
from tests.helpers.git import commit_all, git, git_init
from tests.helpers.postgres import load_schemas
from tests.helpers.releases import V2_PUSH, V2_README, small_template_release

USER_TABLE = """
-- Added by the team.
CREATE TABLE asset.holding (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  example_id uuid NOT NULL REFERENCES asset.example (id),
  quantity numeric NOT NULL
);
"""


# A small template for the update mechanics, written here as copier's own tests write theirs: one
# schema file per domain, the template's part of the shared files (which the update step merges),
# and the update step after every update, as copier.yml's last migration.
DOMAIN_FILE = "template/schemas/20_{% yield domain from domains %}{{ domain }}{% endyield %}.sql.jinja"
DOMAIN_FILE_BODY = ("-- Atlas loads schemas/ in file-name order.\n-- Name constraints and indexes explicitly.\n\n"
                    "CREATE SCHEMA {{ domain }};\n\n-- Tables\n\n-- Views\n\n-- Functions\n")
SMALL_V1 = {
    "copier.yml": (
        "_subdirectory: template\n"
        "_migrations:\n"
        "  - command: ['{{ _copier_python }}', '{{ _copier_conf.src_path }}/tasks.py', after-update, .]\n"
        "    when: \"{{ _stage == 'after' }}\"\n"
        "domains: {type: yaml, default: [asset, portfolio]}\n"),
    "template/{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers | to_nice_yaml }}",
    # Long enough that the header line and tables added at the end are separate hunks of a diff.
    DOMAIN_FILE: "-- Schema {{ domain }}: one business domain.\n" + DOMAIN_FILE_BODY,
    "template/.copier/package.fragment.json": "{}\n",
    "template/.copier/env.fragment": "",
    "template/.copier/gitignore.fragment": "",
}
# A convention change: the domain files' first line, and a new script in package.json.
CONVENTION_V2 = {
    DOMAIN_FILE: "-- Schema {{ domain }} (convention v2): one business domain.\n" + DOMAIN_FILE_BODY,
    "template/.copier/package.fragment.json": '{"scripts": {"template:check": "echo convention v2"}}\n',
}


@pytest.fixture(scope="module")
def small_release(tmp_path_factory) -> Path:
    """SMALL_V1 released as v1.0.0, then with CONVENTION_V2 as v2.0.0."""
    template = small_template_release(tmp_path_factory.mktemp("small") / "template", SMALL_V1, "v1.0.0")
    return small_template_release(template, CONVENTION_V2, "v2.0.0")


# ---- scenarios ----------------------------------------------------------------------------


def test_user_edits_and_convention_change_both_survive(template_repo, mono, fresh_db, capfd):
    """1. v1 project with edits in a domain file, package.json and README, updated to v2."""
    server = generate(template_repo, mono, "shop", ["asset"])
    domain = server / "schemas" / "20_asset.sql"
    domain.write_text(domain.read_text() + USER_TABLE)
    replace_once(server / "package.json", 'atlas schema apply --env dev"', 'atlas schema apply --env dev --auto-approve"')
    replace_once(server / "DATABASE.md", "# Demo shop: server database", "# Demo shop: server database (team Orders)")
    commit_all(mono, "user edits")
    env_file = server / ".env"
    env_file.write_text(env_file.read_text() + "MY_LOCAL_SETTING=1\n")  # git-ignored, machine-local
    env_before = env_file.read_bytes()

    capfd.readouterr()
    update_in_process(mono, "shop")  # raises unless it succeeds

    assert "ACTION NEEDED" not in capfd.readouterr().err
    sql = domain.read_text()
    assert "CREATE TABLE asset.holding" in sql
    assert "convention v2" in sql.splitlines()[0]
    package = json.loads((server / "package.json").read_text())
    assert package["scripts"]["schema:apply"].endswith("atlas schema apply --env dev --auto-approve")
    assert package["scripts"]["template:check"] == "echo convention v2"
    assert package["scripts"]["schema:push"] == V2_PUSH  # untouched by the user: the template's change
    readme = (server / "DATABASE.md").read_text()
    assert readme.startswith("# Demo shop: server database (team Orders)")
    assert V2_README in readme
    assert "_commit: v2.0.0" in (server / ".copier-answers.yml").read_text()
    assert env_file.read_bytes() == env_before
    assert "U" not in "".join(line[:2] for line in git(mono, "status", "--porcelain").splitlines())
    load_schemas(fresh_db, server)  # the merged SQL still loads in Atlas's file-name order


@pytest.mark.parametrize("conflict", ["inline", "rej"])
def test_overlapping_edit_fails_the_update_and_names_the_file(small_release, mono, conflict, capfd):
    """2. The user changed the line v2 changes: exit status 1, the file is named, their text stays.
    Inline through the CLI (its exit status); rej through copier's API (its TaskError's status)."""
    server = generate(small_release, mono, "shop", ["asset"])
    domain = server / "schemas" / "20_asset.sql"
    lines = domain.read_text().split("\n")
    lines[0] = "-- Asset schema: OUR OWN HEADER, written by the team."
    domain.write_text("\n".join(lines) + USER_TABLE)
    commit_all(mono, "user edits the header line")

    if conflict == "inline":
        result = update(mono, "shop", "--conflict", conflict)
        assert result.returncode == 1, result.stderr
        stderr = result.stderr
    else:
        capfd.readouterr()
        with pytest.raises(TaskError) as failed:
            update_in_process(mono, "shop", conflict=conflict)
        assert failed.value.returncode == 1
        stderr = capfd.readouterr().err

    named = "schemas/20_asset.sql" + ("" if conflict == "inline" else ".rej")
    assert "CONFLICTS" in stderr
    assert f"apps/shop/server/{named}\n" in stderr
    sql = domain.read_text()
    assert "CREATE TABLE asset.holding" in sql
    if conflict == "inline":  # both sides in the file, marked
        assert "OUR OWN HEADER" in sql
        assert "<<<<<<< before updating" in sql
        assert "convention v2" in sql
        assert "UU apps/shop/server/schemas/20_asset.sql" in git(mono, "status", "--porcelain")
    else:  # copier's rej mode: the template's line in the file, the user's rejected hunk in the .rej
        assert "convention v2" in sql
        assert "+-- Asset schema: OUR OWN HEADER" in (server / named).read_text()
    # The rest of the update is on disk, merged as usual.
    assert "template:check" in (server / "package.json").read_text()


def test_add_domain_with_readme_command_then_remove_edited_domain(template_repo, mono, fresh_db):
    """3. Add a domain with the command printed in the README; remove an edited one: it is kept."""
    server = generate(template_repo, mono, "shop", ["asset", "portfolio"], ref="v2.0.0")
    asset = server / "schemas" / "20_asset.sql"
    asset.write_text(asset.read_text() + USER_TABLE)
    portfolio = server / "schemas" / "20_portfolio.sql"
    portfolio.write_text(portfolio.read_text() + "\nCREATE TABLE portfolio.position (id bigint PRIMARY KEY);\n")
    commit_all(mono, "user tables")
    asset_before, portfolio_before = asset.read_text(), portfolio.read_text()

    # The generated README shows the command with the current list filled in.
    (command,) = [ln for ln in (server / "DATABASE.md").read_text().splitlines() if "domains=[" in ln]
    assert command.startswith("copier update --trust --defaults apps/shop/server"), command
    quoted = re.search(r"--data '(domains=\[.*\])'", command).group(1)
    assert quoted == "domains=[asset, portfolio, new_domain]"
    key, value = quoted.replace("new_domain", "billing").split("=", 1)  # as copier's CLI reads --data
    update_in_process(mono, "shop", {key: value})  # raises unless it succeeds

    assert (server / "schemas" / "20_billing.sql").is_file()
    assert (server / "triggers" / "20_billing.sql").is_file()
    assert "billing" in atlas_schemas(server)
    assert asset.read_text() == asset_before
    assert portfolio.read_text() == portfolio_before
    load_schemas(fresh_db, server)
    commit_all(mono, "add billing")

    result = update(mono, "shop", "--data", "domains=[asset, billing]")

    assert result.returncode != 0
    for path in ("schemas/20_portfolio.sql", "triggers/20_portfolio.sql"):
        assert f"apps/shop/server/{path}" in result.stderr
    assert "KEPT" in result.stderr
    assert "git rm apps/shop/server/schemas/20_portfolio.sql" in result.stderr
    assert portfolio.read_text() == portfolio_before  # restored with the user's table
    assert (server / "triggers" / "20_portfolio.sql").is_file()
    assert "portfolio" not in atlas_schemas(server)
    assert "- portfolio" not in (server / ".copier-answers.yml").read_text()
    assert git(mono, "status", "--porcelain", "--", "apps/shop/server/schemas", "apps/shop/server/triggers") == ""

    # Deleting deliberately, then updating again, is quiet.
    git(mono, "rm", "-q", "apps/shop/server/schemas/20_portfolio.sql", "apps/shop/server/triggers/20_portfolio.sql")
    commit_all(mono, "drop portfolio")
    update_in_process(mono, "shop")  # raises unless it succeeds
    assert not portfolio.exists()


def test_npm_scripts_update_and_add_a_domain(template_repo, mono):
    """The generated `npm run template:update` and `npm run domain:add -- <name>`, run in the project."""
    server = generate(template_repo, mono, "shop", ["asset"])
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # copier

    def npm_run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["npm", "run", "--silent", *args], cwd=server, env=env,
                              capture_output=True, text=True, timeout=300)

    # domain:add runs template:update's script (scripts/template-update.sh: copier update --trust
    # --defaults .) with the new list: one run shows both work from the project
    # folder, and the update to v2 comes with it.
    result = npm_run("domain:add", "--", "billing")

    assert result.returncode == 0, result.stderr
    assert "_commit: v2.0.0" in (server / ".copier-answers.yml").read_text()
    assert "template:check" in (server / "package.json").read_text()  # v2's change, merged
    assert atlas_schemas(server)[-2:] == ["asset", "billing"]
    assert (server / "schemas" / "20_billing.sql").is_file()
    assert (server / "triggers" / "20_billing.sql").is_file()
    assert "- billing" in (server / ".copier-answers.yml").read_text()
    commit_all(mono, "add billing")

    # Refusals: one line naming the rule, no traceback, non-zero, nothing changed.
    for args, reason in [((), "name the new domain, e.g. npm run domain:add -- billing"),
                         (("--", "x', 'y"), "try 'x_y'")]:  # one quoted item, never two
        result = npm_run("domain:add", *args)
        assert result.returncode != 0, args
        assert result.stderr.strip().splitlines() == [result.stderr.strip()], result.stderr  # one line
        assert result.stderr.startswith("domain:add: "), result.stderr
        assert reason in result.stderr, result.stderr
        assert git(mono, "status", "--porcelain") == "", args


def test_two_projects_update_independently_in_a_dirty_monorepo(small_release, mono):
    """4. Updating apps/a leaves apps/b untouched, while files elsewhere are modified/untracked."""
    a = generate(small_release, mono, "a", ["asset"])
    b = generate(small_release, mono, "b", ["asset"])
    (mono / "README.md").write_text("# The monorepo, edited and not committed\n")
    (mono / "notes.txt").write_text("untracked\n")
    (mono / "apps" / "web").mkdir()
    (mono / "apps" / "web" / "index.ts").write_text("export {};\n")
    b_before = snapshot(b)

    update_in_process(mono, "a")  # raises unless it succeeds

    assert "_commit: v2.0.0" in (a / ".copier-answers.yml").read_text()
    assert "template:check" in (a / "package.json").read_text()
    assert snapshot(b) == b_before
    assert "_commit: v1.0.0" in (b / ".copier-answers.yml").read_text()
    status = git(mono, "status", "--porcelain").splitlines()
    assert [line for line in status if "apps/b/" in line] == []
    assert " M README.md" in status
    assert "?? notes.txt" in status


def test_update_without_new_version_changes_nothing(template_repo, mono, capfd):
    """5. Already at the newest tag: exit 0, nothing changes, the edited .env is kept."""
    server = generate(template_repo, mono, "shop", ["asset"], ref="v2.0.0")
    env_file = server / ".env"
    env_file.write_text(env_file.read_text().replace("dev_password", "my_local_password"))
    before = snapshot(server)

    capfd.readouterr()
    update_in_process(mono, "shop")  # raises unless it succeeds

    err = capfd.readouterr().err
    assert "Keeping template version 2.0.0" in err
    assert "Nothing changed in apps/shop/server: it is up to date." in err
    assert "Next: review" not in err
    assert git(mono, "status", "--porcelain") == ""
    assert snapshot(server) == before


# SMALL_V1's v2 renames each domain file 20_<domain>.sql -> 30_<domain>.sql, with the migration
# CONTRIBUTING.md prescribes for a rename, listed before the update step.
RENAMING_V2 = {
    DOMAIN_FILE: None,
    DOMAIN_FILE.replace("/20_", "/30_"): SMALL_V1[DOMAIN_FILE],
    "copier.yml": SMALL_V1["copier.yml"].replace("_migrations:\n", (
        "_migrations:\n"
        "  - version: '2.0.0'\n"
        "    when: \"{{ _stage == 'after' }}\"\n"
        "    command: ['{{ _copier_python }}', '{{ _copier_conf.src_path }}/tasks.py', rename-files, ., schemas/20_, schemas/30_]\n")),
}


def test_release_renaming_domain_files_moves_the_users_text(tmp_path, mono, capfd):
    """A release that renames edited files: the migration moves the user's text to the new names,
    staged as renames, and the update step after it finds nothing lost."""
    template = small_template_release(tmp_path / "renaming", SMALL_V1, "v1.0.0")
    small_template_release(template, RENAMING_V2, "v2.0.0")
    copy_in_process(mono, template, "apps/shop/server", {}, ref="v1.0.0")
    server = mono / "apps" / "shop" / "server"
    asset = server / "schemas" / "20_asset.sql"
    asset.write_text(asset.read_text() + USER_TABLE)
    commit_all(mono, "user table")
    committed = {p: (server / p).read_text() for p in ("schemas/20_asset.sql", "schemas/20_portfolio.sql")}

    capfd.readouterr()
    update_in_process(mono, "shop")  # raises unless it succeeds

    assert "renamed schemas/20_asset.sql -> schemas/30_asset.sql" in capfd.readouterr().err
    for old, text in committed.items():
        new = old.replace("/20_", "/30_")
        assert not (server / old).exists()
        assert (server / new).read_text() == text
    renamed = git(mono, "diff", "--cached", "-M", "--name-status", "--", "apps/shop/server").splitlines()
    assert "R100\tapps/shop/server/schemas/20_asset.sql\tapps/shop/server/schemas/30_asset.sql" in renamed
    assert git(mono, "diff", "--name-only", "--", "apps/shop/server/schemas") == ""


# ---- the guard's functions on a plain git repository (no copier) ---------------------------


def test_guard_finds_rej_files_markers_and_unstaged_deletions(tmp_path):
    repo = tmp_path / "repo"
    git_init(repo)
    (repo / "schemas").mkdir()
    (repo / "schemas" / "20_a.sql").write_text("CREATE SCHEMA a;\n")
    (repo / "schemas" / "20_b.sql").write_text("CREATE SCHEMA b;\n")
    (repo / "package.json").write_text("{}\n")
    (repo / ".gitignore").write_text("*.rej\n")
    commit_all(repo, "init")
    assert update_guard.guard(repo) == 0

    (repo / "schemas" / "20_a.sql").unlink()  # as copier deletes: index untouched
    git(repo, "rm", "-q", "schemas/20_b.sql")  # deliberate: left alone
    (repo / "package.json").write_text("<<<<<<< before updating\n{}\n=======\n{ }\n>>>>>>> after updating\n")
    (repo / "README.md.rej").write_text("@@ -1 +1 @@\n")  # git-ignored, still found

    assert update_guard.deleted_protected_files(repo) == ["schemas/20_a.sql"]
    assert update_guard.conflicted_files(repo) == ["README.md.rej", "package.json"]
    assert update_guard.guard(repo) == 1
    assert (repo / "schemas" / "20_a.sql").read_text() == "CREATE SCHEMA a;\n"
    assert not (repo / "schemas" / "20_b.sql").exists()


def test_update_from_release_0_1_0(upgrade_repo, mono, fresh_db, capfd):
    """A project generated by 0.1.0, when package.json, README.md and .env.example were whole
    template files, updated to this version: the template's changes arrive, the team's stay."""
    server = generate(upgrade_repo, mono, "shop", ["asset"], ref="v0.1.0", use_better_auth=True,
                      better_auth_plugins=["organization"])
    package = json.loads((server / "package.json").read_text())
    package["scripts"]["dev"] = "bun run src/index.ts"
    package["scripts"]["schema:inspect"] = "atlas schema inspect --env dev --format x"
    package["dependencies"]["hono"] = "^4.0.0"
    (server / "package.json").write_text(json.dumps(package, indent=2) + "\n")
    readme = (server / "README.md").read_text()
    commit_all(mono, "the team's edits")
    env_file = server / ".env"
    env_file.write_text(env_file.read_text() + "MY_LINE=1\n")
    env_before = env_file.read_text()

    capfd.readouterr()
    update_in_process(mono, "shop")  # raises unless it succeeds
    stderr = capfd.readouterr().err

    scripts = json.loads((server / "package.json").read_text())["scripts"]
    dependencies = json.loads((server / "package.json").read_text())["dependencies"]
    assert scripts["schema:apply"] == ("node scripts/schema-views.mjs --after sh scripts/apply-triggers.sh --after"
                                       " atlas schema apply --env dev")
    assert scripts["db:check"] == "sh scripts/db-check.sh"
    assert "migrate:apply" not in scripts
    assert scripts["dev"] == "bun run src/index.ts"
    assert scripts["schema:inspect"].endswith("--format x")
    assert dependencies["hono"] == "^4.0.0"
    assert dependencies["better-auth"] != "1.7.5"
    assert "kept your" not in stderr  # nothing the team changed collided with the template
    assert "README.md is yours now" in stderr
    assert (server / "README.md").read_text() == readme
    assert (server / "DATABASE.md").is_file()
    assert env_file.read_text() == env_before  # same answers: .env untouched, secret and own line
    load_schemas(fresh_db, server)
