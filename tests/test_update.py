"""`copier update` on real git repositories with the real copier CLI: no user work is ever lost.

The template is released twice inside the test (module fixture `template_repo`): the working
tree's copier.yml, template/ and extensions/ are copied to a temporary git repository, tagged
v1.0.0; then a convention changes (first line of the domain file, a new package.json script,
a new README line) and is tagged v2.0.0. Projects are generated at v1.0.0 into a monorepo as
`apps/<slug>/server` and updated with the documented command, run from the monorepo root.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEMPLATE_ROOT, load_schemas

sys.path.insert(0, str(TEMPLATE_ROOT / "extensions"))
import update_guard  # noqa: E402  (plain functions; copier runs the same file as a script)

COPIER = [sys.executable, "-m", "copier"]
V2_DOMAIN_LINE = "-- Schema {{ domain }} (convention v2): one business domain; add its tables below."
V2_SCRIPT = '"template:check": "echo convention v2",'
V2_README = "Convention v2: run `npm run template:check` after each template update."
USER_TABLE = """
-- Added by the team.
CREATE TABLE asset.holding (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  example_id uuid NOT NULL REFERENCES asset.example (id),
  quantity numeric NOT NULL
);
"""


# ---- helpers ------------------------------------------------------------------------------


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def git_init(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "test@example.com")
    git(path, "config", "user.name", "Test")
    git(path, "config", "commit.gpgsign", "false")


def commit_all(repo: Path, message: str) -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--allow-empty", "-m", message)


def copier(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The copier CLI as a user runs it (its own process, so exit status and stderr are real)."""
    return subprocess.run([*COPIER, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def data_args(answers: dict) -> list[str]:
    args = []
    for key, value in answers.items():
        if isinstance(value, list):
            value = "[" + ", ".join(value) + "]"
        elif isinstance(value, bool):
            value = str(value).lower()
        args += ["--data", f"{key}={value}"]
    return args


def generate(template: Path, mono: Path, slug: str, domains: list[str], ref: str = "v1.0.0") -> Path:
    answers = {"project_name": f"Demo {slug}", "project_slug": slug, "domains": domains, "use_better_auth": False}
    result = copier(mono, "copy", "--trust", "--defaults", "--vcs-ref", ref, *data_args(answers),
                    str(template), f"apps/{slug}/server")
    assert result.returncode == 0, result.stderr
    commit_all(mono, f"generate {slug}")
    return mono / "apps" / slug / "server"


def update(mono: Path, slug: str, *extra: str) -> subprocess.CompletedProcess:
    """The documented command: copier update --trust --defaults apps/<slug>/server."""
    return copier(mono, "update", "--trust", "--defaults", f"apps/{slug}/server", *extra)


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name}: expected exactly one {old!r}"
    path.write_text(text.replace(old, new))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def atlas_schemas(project: Path) -> list[str]:
    line = re.search(r"^\s*schemas\s*=\s*\[(.*)\]", (project / "atlas.hcl").read_text(), re.M)
    return re.findall(r'"([^"]+)"', line.group(1))


# ---- fixtures -----------------------------------------------------------------------------


def release_working_tree_as_v1(repo: Path) -> Path:
    """A git repository holding the working tree's template, tagged v1.0.0."""
    repo.mkdir(parents=True)
    shutil.copy2(TEMPLATE_ROOT / "copier.yml", repo / "copier.yml")
    for folder in ("template", "extensions"):
        shutil.copytree(TEMPLATE_ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__"))
    git_init(repo)
    commit_all(repo, "v1")
    git(repo, "tag", "v1.0.0")
    return repo


@pytest.fixture(scope="module")
def template_repo(tmp_path_factory) -> Path:
    """The template released as v1.0.0, then with a convention change as v2.0.0 (absolute path)."""
    repo = release_working_tree_as_v1(tmp_path_factory.mktemp("template") / "copier-atlas-postgres")

    # v2: the same files change in regions a user rarely touches.
    (domain_file,) = (repo / "template" / "schemas").glob("20_*.sql.jinja")
    first, rest = domain_file.read_text().split("\n", 1)
    assert first.startswith("-- "), first
    domain_file.write_text(f"{V2_DOMAIN_LINE}\n{rest}")
    replace_once(repo / "template" / "package.json.jinja", '"scripts": {', '"scripts": {\n    ' + V2_SCRIPT)
    readme = repo / "template" / "README.md.jinja"
    readme.write_text(readme.read_text().rstrip("\n") + f"\n\n{V2_README}\n")
    commit_all(repo, "v2: convention change")
    git(repo, "tag", "v2.0.0")
    return repo


@pytest.fixture(scope="module")
def renaming_template_repo(tmp_path_factory) -> Path:
    """v2.0.0 renames every domain file 20_<domain>.sql -> 30_<domain>.sql, with the migration
    that CHANGELOG.md prescribes for a rename (extensions/rename_files.py, stage after)."""
    repo = release_working_tree_as_v1(tmp_path_factory.mktemp("renaming") / "copier-atlas-postgres")
    for folder in ("schemas", "triggers"):
        for path in (repo / "template").glob(f"*{folder}*/20_*"):
            git(repo, "mv", str(path), str(path.with_name("30_" + path.name[3:])))
    migration = (
        '_migrations:\n'
        '  - version: "2.0.0"\n'
        '    when: "{{ _stage == \'after\' }}"\n'
        '    command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/extensions/rename_files.py",\n'
        '              schemas/20_, schemas/30_, triggers/20_, triggers/30_]\n'
    )
    replace_once(repo / "copier.yml", "_migrations:\n", migration)
    commit_all(repo, "v2: domain files renamed 20_ -> 30_")
    git(repo, "tag", "v2.0.0")
    return repo


@pytest.fixture
def mono(tmp_path) -> Path:
    """An empty monorepo with one committed file outside apps/."""
    root = tmp_path / "monorepo"
    git_init(root)
    (root / "README.md").write_text("# The monorepo\n")
    commit_all(root, "monorepo")
    return root


# ---- scenarios ----------------------------------------------------------------------------


def test_user_edits_and_convention_change_both_survive(template_repo, mono, fresh_db):
    """1. v1 project with edits in a domain file, package.json and README, updated to v2."""
    server = generate(template_repo, mono, "shop", ["asset"])
    domain = server / "schemas" / "20_asset.sql"
    domain.write_text(domain.read_text() + USER_TABLE)
    replace_once(server / "package.json", 'atlas schema apply --env dev"', 'atlas schema apply --env dev --auto-approve"')
    replace_once(server / "README.md", "# Demo shop: server database", "# Demo shop: server database (team Orders)")
    commit_all(mono, "user edits")
    env_file = server / ".env"
    env_file.write_text(env_file.read_text() + "MY_LOCAL_SETTING=1\n")  # git-ignored, machine-local
    env_before = env_file.read_bytes()

    result = update(mono, "shop")

    assert result.returncode == 0, result.stderr
    assert "ACTION NEEDED" not in result.stderr
    sql = domain.read_text()
    assert "CREATE TABLE asset.holding" in sql and "convention v2" in sql.splitlines()[0]
    package = json.loads((server / "package.json").read_text())
    assert package["scripts"]["schema:apply"].endswith("atlas schema apply --env dev --auto-approve")
    assert package["scripts"]["template:check"] == "echo convention v2"
    readme = (server / "README.md").read_text()
    assert readme.startswith("# Demo shop: server database (team Orders)") and V2_README in readme
    assert "_commit: v2.0.0" in (server / ".copier-answers.yml").read_text()
    assert env_file.read_bytes() == env_before
    assert "U" not in "".join(line[:2] for line in git(mono, "status", "--porcelain").splitlines())
    load_schemas(fresh_db, server)  # the merged SQL still loads in Atlas's file-name order


@pytest.mark.parametrize("conflict", ["inline", "rej"])
def test_overlapping_edit_fails_the_update_and_names_the_file(template_repo, mono, conflict):
    """2. The user changed the line v2 changes: exit status 1, the file is named, their text stays."""
    server = generate(template_repo, mono, "shop", ["asset"])
    domain = server / "schemas" / "20_asset.sql"
    lines = domain.read_text().split("\n")
    lines[0] = "-- Asset schema: OUR OWN HEADER, written by the team."
    domain.write_text("\n".join(lines) + USER_TABLE)
    commit_all(mono, "user edits the header line")

    result = update(mono, "shop", "--conflict", conflict)

    assert result.returncode != 0, result.stderr
    named = "schemas/20_asset.sql" + ("" if conflict == "inline" else ".rej")
    assert "CONFLICTS" in result.stderr and f"apps/shop/server/{named}\n" in result.stderr
    sql = domain.read_text()
    assert "CREATE TABLE asset.holding" in sql
    if conflict == "inline":  # both sides in the file, marked
        assert "OUR OWN HEADER" in sql
        assert "<<<<<<< before updating" in sql and "convention v2" in sql
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
    (command,) = [ln for ln in (server / "README.md").read_text().splitlines() if "domains=[" in ln]
    assert command.startswith("copier update --trust --defaults apps/shop/server"), command
    quoted = re.search(r"--data '(domains=\[.*\])'", command).group(1)
    assert quoted == "domains=[asset, portfolio, new_domain]"
    result = update(mono, "shop", "--data", quoted.replace("new_domain", "billing"))

    assert result.returncode == 0, result.stderr
    assert (server / "schemas" / "20_billing.sql").is_file()
    assert (server / "triggers" / "20_billing.sql").is_file()
    assert "billing" in atlas_schemas(server)
    assert asset.read_text() == asset_before and portfolio.read_text() == portfolio_before
    load_schemas(fresh_db, server)
    commit_all(mono, "add billing")

    result = update(mono, "shop", "--data", "domains=[asset, billing]")

    assert result.returncode != 0
    for path in ("schemas/20_portfolio.sql", "triggers/20_portfolio.sql"):
        assert f"apps/shop/server/{path}" in result.stderr
    assert "KEPT" in result.stderr and "git rm apps/shop/server/schemas/20_portfolio.sql" in result.stderr
    assert portfolio.read_text() == portfolio_before  # restored with the user's table
    assert (server / "triggers" / "20_portfolio.sql").is_file()
    assert "portfolio" not in atlas_schemas(server)
    assert "- portfolio" not in (server / ".copier-answers.yml").read_text()
    assert git(mono, "status", "--porcelain", "--", "apps/shop/server/schemas", "apps/shop/server/triggers") == ""

    # Deleting deliberately, then updating again, is quiet.
    git(mono, "rm", "-q", "apps/shop/server/schemas/20_portfolio.sql", "apps/shop/server/triggers/20_portfolio.sql")
    commit_all(mono, "drop portfolio")
    result = update(mono, "shop")
    assert result.returncode == 0, result.stderr
    assert not portfolio.exists()


def test_npm_scripts_update_and_add_a_domain(template_repo, mono):
    """The generated `npm run template:update` and `npm run domain:add -- <name>`, run in the project."""
    server = generate(template_repo, mono, "shop", ["asset"])
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}  # copier

    def npm_run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["npm", "run", "--silent", *args], cwd=server, env=env,
                              capture_output=True, text=True, timeout=300)

    result = npm_run("template:update")
    assert result.returncode == 0, result.stderr
    assert "_commit: v2.0.0" in (server / ".copier-answers.yml").read_text()
    commit_all(mono, "update shop")

    result = npm_run("domain:add", "--", "billing")

    assert result.returncode == 0, result.stderr
    assert atlas_schemas(server)[-2:] == ["asset", "billing"]
    assert (server / "schemas" / "20_billing.sql").is_file() and (server / "triggers" / "20_billing.sql").is_file()
    assert "- billing" in (server / ".copier-answers.yml").read_text()


def test_two_projects_update_independently_in_a_dirty_monorepo(template_repo, mono):
    """4. Updating apps/a leaves apps/b untouched, while files elsewhere are modified/untracked."""
    a = generate(template_repo, mono, "a", ["asset"])
    b = generate(template_repo, mono, "b", ["asset"])
    (mono / "README.md").write_text("# The monorepo, edited and not committed\n")
    (mono / "notes.txt").write_text("untracked\n")
    (mono / "apps" / "web").mkdir()
    (mono / "apps" / "web" / "index.ts").write_text("export {};\n")
    b_before = snapshot(b)

    result = update(mono, "a")

    assert result.returncode == 0, result.stderr
    assert "_commit: v2.0.0" in (a / ".copier-answers.yml").read_text()
    assert "template:check" in (a / "package.json").read_text()
    assert snapshot(b) == b_before
    assert "_commit: v1.0.0" in (b / ".copier-answers.yml").read_text()
    status = git(mono, "status", "--porcelain").splitlines()
    assert [line for line in status if "apps/b/" in line] == []
    assert " M README.md" in status and "?? notes.txt" in status


def test_update_without_new_version_changes_nothing(template_repo, mono):
    """5. Already at the newest tag: exit 0, nothing changes, the edited .env is kept."""
    server = generate(template_repo, mono, "shop", ["asset"], ref="v2.0.0")
    env_file = server / ".env"
    env_file.write_text(env_file.read_text().replace("dev_password", "my_local_password"))
    before = snapshot(server)

    result = update(mono, "shop")

    assert result.returncode == 0, result.stderr
    assert "Keeping template version 2.0.0" in result.stderr
    assert git(mono, "status", "--porcelain") == ""
    assert snapshot(server) == before


def test_release_renaming_domain_files_moves_the_users_text(renaming_template_repo, mono, fresh_db):
    """A release that renames edited files: the migration moves the user's text to the new names."""
    server = generate(renaming_template_repo, mono, "shop", ["asset", "portfolio"])
    asset = server / "schemas" / "20_asset.sql"
    asset.write_text(asset.read_text() + USER_TABLE)
    commit_all(mono, "user table")
    committed = {p: (server / p).read_text() for p in
                 ("schemas/20_asset.sql", "schemas/20_portfolio.sql", "triggers/20_asset.sql")}

    result = update(mono, "shop")

    assert result.returncode == 0, result.stderr
    assert "renamed schemas/20_asset.sql -> schemas/30_asset.sql" in result.stderr
    for old, text in committed.items():
        new = old.replace("/20_", "/30_")
        assert not (server / old).exists() and (server / new).read_text() == text
    renamed = git(mono, "diff", "--cached", "-M", "--name-status", "--", "apps/shop/server").splitlines()
    assert "R100\tapps/shop/server/schemas/20_asset.sql\tapps/shop/server/schemas/30_asset.sql" in renamed
    assert git(mono, "diff", "--name-only", "--", "apps/shop/server/schemas") == ""
    load_schemas(fresh_db, server)


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
