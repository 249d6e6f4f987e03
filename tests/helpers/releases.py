"""Template releases in real git repositories: the working tree's release files, a small
template written in a test (as copier's own tests build theirs), the real 0.1.0 release."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from .files import replace_once
from .git import commit_all, git, git_init

TEMPLATE_ROOT = Path(__file__).resolve().parents[2]
# What a release of the template holds: copier reads these (tests/ and the tools are not needed).
RELEASE_FILES = ("copier.yml", "tasks.py", "template", "extensions")


def small_template_release(repo: Path, files: dict[str, str | None], tag: str) -> Path:
    """A release of a small template, built as copier's own tests build theirs: FILES (path ->
    text; None removes the path) written into REPO, committed and tagged TAG. The first release
    also gets this checkout's tasks.py and extensions/, which the template's tasks run. For tests
    of update mechanics, where the whole template would only add rendering time."""
    if not (repo / ".git").exists():
        for name in ("tasks.py", "extensions"):
            copy_release_files(TEMPLATE_ROOT, repo, names=(name,))
        git_init(repo)
    for path, text in files.items():
        if text is None:
            git(repo, "rm", "-q", "--", path)
        else:
            (repo / path).parent.mkdir(parents=True, exist_ok=True)
            (repo / path).write_text(text)
    commit_all(repo, tag)
    git(repo, "tag", tag)
    return repo


def copy_release_files(source: Path, target: Path, names: tuple[str, ...] = RELEASE_FILES) -> None:
    """The template's release files of SOURCE (a checkout), or those NAMES of them, into TARGET."""
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        if (source / name).is_dir():
            shutil.copytree(source / name, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif (source / name).is_file():
            shutil.copy2(source / name, target / name)


def release_working_tree_as_v1(repo: Path) -> Path:
    """A git repository holding the working tree's template, tagged v1.0.0."""
    copy_release_files(TEMPLATE_ROOT, repo)
    git_init(repo)
    commit_all(repo, "v1")
    git(repo, "tag", "v1.0.0")
    return repo


# The commit released as v0.1.0: package.json, README.md and .env.example were whole template files
# then (no .copier/ fragments). Taken from this repository's history.
RELEASE_0_1_0 = "ad3ccf5"


# What the working tree's v2 changes (release_working_tree_v1_v2), some of it for the tests to look for.
V2_DOMAIN_LINE = "-- Schema {{ domain }} (convention v2): one business domain; add its tables below."
V2_SCRIPT = ("convention:notes", "echo convention v2")
V2_PUSH = "atlas schema push --env dev --tag latest"
V2_README = "Convention v2: run `npm run template:check` after each template update."


def release_working_tree_v1_v2(repo: Path) -> Path:
    """The working tree's template tagged v1.0.0, then with a convention change tagged v2.0.0: the
    same files change in regions a user rarely touches (for the tests about the template's files;
    the update mechanics use small_template_release)."""
    release_working_tree_as_v1(repo)
    (domain_file,) = (repo / "template" / "schemas").glob("20_*.sql.jinja")
    first = next(line for line in domain_file.read_text().splitlines() if line.startswith("-- "))
    replace_once(domain_file, first, V2_DOMAIN_LINE)
    package_part = repo / "extensions" / "copier_atlas_postgres" / "rendering" / "package_json.py"
    replace_once(package_part, '        "db:check": ', f'        {V2_SCRIPT[0]!r}: {V2_SCRIPT[1]!r},\n        "db:check": ')
    replace_once(package_part, '"atlas schema push --env dev"', json.dumps(V2_PUSH))
    readme = repo / "template" / "DATABASE.md.jinja"
    readme.write_text(readme.read_text().rstrip("\n") + f"\n\n{V2_README}\n")
    commit_all(repo, "v2: convention change")
    git(repo, "tag", "v2.0.0")
    return repo


def release_0_1_0_then_working_tree(repo: Path) -> Path:
    """The real 0.1.0 release (RELEASE_0_1_0) tagged v0.1.0, then the working tree's template tagged v0.2.0."""
    release_from_history(repo, RELEASE_0_1_0, "v0.1.0", names=("copier.yml", "template", "extensions"))
    return release_working_tree_after(repo, "v0.2.0")


def release_from_history(repo: Path, commit: str, tag: str, names: tuple[str, ...] = RELEASE_FILES) -> Path:
    """A git repository REPO holding this repository's release files (NAMES) at COMMIT, tagged TAG."""
    repo.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit, *names], cwd=TEMPLATE_ROOT, check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(repo)], input=archive, check=True)
    git_init(repo)
    commit_all(repo, tag)
    git(repo, "tag", tag)
    return repo


def release_working_tree_after(repo: Path, tag: str) -> Path:
    """The working tree's template committed over REPO's last release, tagged TAG."""
    for folder in ("template", "extensions"):
        shutil.rmtree(repo / folder)
    copy_release_files(TEMPLATE_ROOT, repo)
    commit_all(repo, tag)
    git(repo, "tag", tag)
    return repo
