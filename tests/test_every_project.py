"""Every project of a monorepo at once: scripts/template.mjs updates each project made from the
template (one summary, exit 1 when one needs action) and checks that each is in step with its
release. Real git, copier and node; small template releases for the mechanics, the real template
for its own renders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import copier
import pytest

from tests.helpers.copier_runs import copy_in_process, working_directory
from tests.helpers.git import commit_all, git
from tests.helpers.npm import run_npm_script
from tests.helpers.processes import kill_when
from tests.helpers.releases import TEMPLATE_ROOT, small_template_release

SCRIPT = "scripts/template.mjs"
# A small template: DATABASE.md (owned), the script itself, the update step and its mark of a
# half-applied update (copier.yml's update_started, through the template's own filters).
SMALL_V1 = {
    "copier.yml": (
        "_subdirectory: template\n"
        "_jinja_extensions: [copier_template_extensions.TemplateExtensionLoader, extensions/loader.py:TemplateFilters]\n"
        "_migrations:\n"
        "  - command: ['{{ _copier_python }}', '{{ _copier_conf.src_path }}/tasks.py', after-update, .]\n"
        "    when: \"{{ _stage == 'after' }}\"\n"
        "package_manager: {type: str, default: npm}\n"
        "team: {type: str, default: ''}\n"
        "update_started: {type: str, when: false, default: '{{ _copier_conf.dst_path | mark_update_started }}'}\n"),
    "template/{{ _copier_conf.answers_file }}.jinja": "{{ _copier_answers | to_nice_yaml }}",
    "template/DATABASE.md": "# Database\n\nThe workflow.\n\nMore lines.\n\nConvention v1.\n",
    f"template/{SCRIPT}.jinja": (TEMPLATE_ROOT / "template" / f"{SCRIPT}.jinja").read_text(),
    "template/.copier/package.fragment.json": "{}\n",
    "template/.copier/env.fragment": "",
    "template/.copier/gitignore.fragment": "",
}
CONVENTION_V2 = {"template/DATABASE.md": "# Database\n\nThe workflow.\n\nMore lines.\n\nConvention v2.\n"}


@pytest.fixture(autouse=True)
def copier_on_path(monkeypatch):
    """The script runs `copier` as a user's shell finds it: this Python's copier first."""
    monkeypatch.setenv("PATH", os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))


@pytest.fixture(scope="module")
def releases(tmp_path_factory) -> tuple[Path, Path]:
    """The small template as v1.0.0 and v2.0.0, and another template (one release)."""
    root = tmp_path_factory.mktemp("releases")
    ours = small_template_release(root / "ours", SMALL_V1, "v1.0.0")
    small_template_release(ours, CONVENTION_V2, "v2.0.0")
    other = small_template_release(root / "other", {**SMALL_V1, "template/DATABASE.md": "Another template.\n"}, "v1.0.0")
    return ours, other


def make(mono: Path, template: Path, slug: str, ref: str = "v1.0.0", **answers) -> Path:
    copy_in_process(mono, template, f"apps/{slug}/server", answers, ref=ref)
    commit_all(mono, f"generate {slug}")
    return mono / "apps" / slug / "server"


def template_mjs(mono: Path, slug: str, *args: str) -> subprocess.CompletedProcess:
    """The documented command from the monorepo root: node apps/<slug>/server/scripts/template.mjs ARGS."""
    return subprocess.run(["node", f"apps/{slug}/server/{SCRIPT}", *args], cwd=mono, capture_output=True,
                          text=True, timeout=300)


def summary(result: subprocess.CompletedProcess) -> dict[str, str]:
    """project folder -> its line of the summary."""
    return dict(line.strip().split(": ", 1) for line in result.stdout.splitlines() if line.startswith("  apps/"))


def test_every_project_updated_in_one_run_with_one_summary(releases, mono):
    ours, other = releases
    make(mono, ours, "a")
    make(mono, ours, "b", ref="v2.0.0", package_manager="pnpm")
    conflicting = make(mono, ours, "c", package_manager="bun")
    (conflicting / "DATABASE.md").write_text((conflicting / "DATABASE.md").read_text().replace("v1.", "v1 (ours)."))
    dirty = make(mono, ours, "d")
    foreign = make(mono, other, "e")
    commit_all(mono, "team edits")
    (dirty / "notes.txt").write_text("work in progress\n")
    foreign_before = (foreign / ".copier-answers.yml").read_text()

    result = template_mjs(mono, "b", "update", "--all", "--vcs-ref", "v2.0.0", "--data", "team=core")

    assert result.returncode == 1, result.stderr
    assert summary(result) == {
        "apps/a/server": "updated from v1.0.0 to v2.0.0",
        "apps/b/server": "updated on v2.0.0 (answers)",
        "apps/c/server": "conflicts: DATABASE.md (updated from v1.0.0 to v2.0.0)",
        "apps/d/server": "refused: uncommitted changes (apps/d/server/notes.txt); commit or stash them",
        "apps/e/server": f"left alone (made from {other})",
    }
    for slug in "abc":  # the same options reached every project
        assert "team: core" in (mono / "apps" / slug / "server" / ".copier-answers.yml").read_text()
    assert (foreign / ".copier-answers.yml").read_text() == foreign_before
    assert git(mono, "status", "--porcelain", "--", "apps/e").strip() == ""

    # Run again as it is: no project changes, the same lines, the not-yet-committed update named.
    again = template_mjs(mono, "a", "update", "--all")
    assert again.returncode == 1
    assert summary(again) == {**summary(result), "apps/a/server": "updated from v1.0.0 to v2.0.0 (not committed yet)",
                              "apps/b/server": "updated on v2.0.0 (answers) (not committed yet)",
                              "apps/c/server": "conflicts: DATABASE.md"}


def test_a_run_killed_midway_names_the_half_applied_project_and_the_next_run_converges(releases, mono):
    ours, _ = releases
    for slug in "ab":
        make(mono, ours, slug)
    started = mono / "apps" / "b" / "server" / ".copier-update-started"
    kill_when(["node", f"apps/a/server/{SCRIPT}", "update", "--all"], mono, started.exists, signal.SIGKILL)

    rerun = template_mjs(mono, "a", "update", "--all")

    assert rerun.returncode == 1
    recovery = "(cd apps/b/server && git checkout -- . && git clean -fd -- .)"
    assert summary(rerun) == {
        "apps/a/server": "updated from v1.0.0 to v2.0.0 (not committed yet)",
        "apps/b/server": f"interrupted update: put it back with `{recovery}`, then run this again",
    }
    subprocess.run(recovery, shell=True, cwd=mono, check=True, capture_output=True)
    commit_all(mono, "update a")
    final = template_mjs(mono, "a", "update", "--all")
    assert final.returncode == 0, final.stdout + final.stderr
    assert summary(final) == {"apps/a/server": "nothing to change (v2.0.0)",
                              "apps/b/server": "updated from v1.0.0 to v2.0.0"}
    assert "Convention v2." in (mono / "apps" / "b" / "server" / "DATABASE.md").read_text()


def test_check_names_each_drift_and_passes_once_fixed(releases, mono):
    ours, _ = releases
    server = make(mono, ours, "a")
    (server / "DATABASE.md").write_text((server / "DATABASE.md").read_text() + "A team note.\n")
    (server / "schemas.sql").write_text("<<<<<<< before updating\nold\n=======\nnew\n>>>>>>> after updating\n")
    (server / "package.json.rej").write_text("@@ a hunk @@\n")
    commit_all(mono, "drift")

    red = template_mjs(mono, "a", "check")

    assert red.returncode == 1
    assert [line.strip() for line in red.stdout.split("apps/a/server: ", 1)[1].splitlines()] == [
        "behind: on v1.0.0, newest release v2.0.0 (template:update)",
        ".rej file: package.json.rej",
        "conflict markers: schemas.sql",
        "edited: DATABASE.md (not what v1.0.0 writes; the template owns it)",
        "Not in step (above).",
    ]
    git(server, "rm", "-q", "schemas.sql", "package.json.rej")
    git(server, "checkout", "HEAD~1", "--", "DATABASE.md")
    commit_all(mono, "fixed")
    with working_directory(mono):
        copier.run_update("apps/a/server", defaults=True, unsafe=True, overwrite=True)
    commit_all(mono, "updated")

    green = template_mjs(mono, "a", "check", "--all")
    assert green.returncode == 0, green.stdout + green.stderr
    assert summary(green) == {"apps/a/server": "in step (v2.0.0)"}


def test_the_real_templates_project_is_in_step_as_generated(template_repo, mono):
    """The real template's renders: a fresh project checks green through its package.json script."""
    server = make(mono, template_repo, "shop", ref="v2.0.0", project_name="Shop", project_slug="shop",
                  use_better_auth=False, domains=["asset"])
    scripts = json.loads((server / "package.json").read_text())["scripts"]
    assert scripts["template:check"] == f"node {SCRIPT} check"

    result = run_npm_script(server, "template:check")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "apps/shop/server: in step (v2.0.0)" in result.stdout
