"""Real git and the real copier CLI: template releases built in the test, monorepos, projects.

`template_repo` is the working tree's template released as v1.0.0, then with a convention change
as v2.0.0: the first line of the domain file, a changed and a new package.json script, a new
DATABASE.md line. Projects are generated into a monorepo as `apps/<slug>/server` and updated with
the documented command, run from the monorepo root.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEMPLATE_ROOT

COPIER = [sys.executable, "-m", "copier"]
V2_DOMAIN_LINE = "-- Schema {{ domain }} (convention v2): one business domain; add its tables below."
V2_SCRIPT = '"template:check": "echo convention v2",'
V2_PUSH = "atlas schema push --env dev --tag latest"
V2_README = "Convention v2: run `npm run template:check` after each template update."


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


def generate(template: Path, mono: Path, folder: str, domains: list[str], ref: str = "v1.0.0", **answers) -> Path:
    """`copier copy` into apps/<folder>/server, committed; ANSWERS override the defaults (None drops one)."""
    answers = {"project_name": f"Demo {folder}", "project_slug": folder, "domains": domains,
               "use_better_auth": False, **answers}
    answers = {key: value for key, value in answers.items() if value is not None}
    result = copier(mono, "copy", "--trust", "--defaults", "--vcs-ref", ref, *data_args(answers),
                    str(template), f"apps/{folder}/server")
    assert result.returncode == 0, result.stderr
    commit_all(mono, f"generate {folder}")
    return mono / "apps" / folder / "server"


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
    for folder in ("template", "extensions", "tasks"):
        shutil.copytree(TEMPLATE_ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__"))
    git_init(repo)
    commit_all(repo, "v1")
    git(repo, "tag", "v1.0.0")
    return repo


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory) -> Path:
    """The template released as v1.0.0, then with a convention change as v2.0.0 (absolute path)."""
    repo = release_working_tree_as_v1(tmp_path_factory.mktemp("template") / "copier-atlas-postgres")

    # v2: the same files change in regions a user rarely touches.
    (domain_file,) = (repo / "template" / "schemas").glob("20_*.sql.jinja")
    first, rest = domain_file.read_text().split("\n", 1)
    assert first.startswith("-- "), first
    domain_file.write_text(f"{V2_DOMAIN_LINE}\n{rest}")
    fragment = repo / "template" / ".copier" / "package.fragment.json.jinja"
    replace_once(fragment, '"scripts": {', '"scripts": {\n    ' + V2_SCRIPT)
    replace_once(fragment, '"atlas schema push --env dev"', json.dumps(V2_PUSH))
    readme = repo / "template" / "DATABASE.md.jinja"
    readme.write_text(readme.read_text().rstrip("\n") + f"\n\n{V2_README}\n")
    commit_all(repo, "v2: convention change")
    git(repo, "tag", "v2.0.0")
    return repo


@pytest.fixture(scope="session")
def renaming_template_repo(tmp_path_factory) -> Path:
    """v2.0.0 renames every domain file 20_<domain>.sql -> 30_<domain>.sql, with the migration
    that CHANGELOG.md prescribes for a rename (tasks/rename_files.py, stage after)."""
    repo = release_working_tree_as_v1(tmp_path_factory.mktemp("renaming") / "copier-atlas-postgres")
    for folder in ("schemas", "triggers"):
        for path in (repo / "template").glob(f"*{folder}*/20_*"):
            git(repo, "mv", str(path), str(path.with_name("30_" + path.name[3:])))
    migration = (
        '_migrations:\n'
        '  - version: "2.0.0"\n'
        '    when: "{{ _stage == \'after\' }}"\n'
        '    command: ["{{ _copier_python }}", "{{ _copier_conf.src_path }}/tasks/rename_files.py",\n'
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




# The commit released as v0.1.0: package.json, README.md and .env.example were whole template files
# then (no .copier/ fragments). Taken from this repository's history.
RELEASE_0_1_0 = "ad3ccf5"


@pytest.fixture(scope="session")
def upgrade_repo(tmp_path_factory) -> Path:
    """The real 0.1.0 release tagged v0.1.0, then the working tree's template tagged v0.2.0."""
    repo = tmp_path_factory.mktemp("upgrade") / "copier-atlas-postgres"
    repo.mkdir()
    archive = subprocess.run(["git", "archive", RELEASE_0_1_0, "copier.yml", "template", "extensions"],
                             cwd=TEMPLATE_ROOT, check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(repo)], input=archive, check=True)
    git_init(repo)
    commit_all(repo, "0.1.0")
    git(repo, "tag", "v0.1.0")
    for folder in ("template", "extensions"):
        shutil.rmtree(repo / folder)
    shutil.copy2(TEMPLATE_ROOT / "copier.yml", repo / "copier.yml")
    for folder in ("template", "extensions", "tasks"):
        shutil.copytree(TEMPLATE_ROOT / folder, repo / folder, ignore=shutil.ignore_patterns("__pycache__"))
    commit_all(repo, "0.2.0")
    git(repo, "tag", "v0.2.0")
    return repo
