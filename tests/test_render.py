"""`copier copy` writes the expected tree for every kind of project."""

from __future__ import annotations

import pytest

from tests.helpers.answers import DEFAULT_DEV_DATABASE, MATRIX


def tree(project):
    return {str(p.relative_to(project)) for p in project.rglob("*") if p.is_file()}


@pytest.mark.parametrize("answers", MATRIX)
def test_tree(render, answers):
    project = render(**answers)
    domains = answers.get("domains", [])
    auth = answers.get("use_better_auth", True)
    pro = answers.get("atlas_pro", False)
    dev_database = answers.get("dev_database", DEFAULT_DEV_DATABASE)

    expected = {".copier-answers.yml", ".env", ".env.example", ".gitignore", "README.md", "DATABASE.md", "atlas.hcl",
                "package.json", ".copier/package.fragment.json", ".copier/env.fragment", ".copier/gitignore.fragment"}
    expected.add("schemas/10_public.sql")
    expected |= {"scripts/db-check.sh", "scripts/db-check.sql", "db-check-waivers.txt", "scripts/domain-add.sh",
                 "scripts/template-update.sh", "scripts/dotenv.mjs", "scripts/schema-views.mjs", "scripts/template.mjs"}
    expected |= {"scripts/db-lint.mjs", "db-lint-waivers.txt", "scripts/db-drift.mjs", "scripts/atlas-cli.mjs",
                 "ci/github-workflow.yml", "scripts/ci-workflow.sh"}
    expected |= {f"schemas/20_{d}.sql" for d in domains}
    if auth:
        expected |= {"schemas/00_auth.sql", "schemas/01_auth_custom.sql", "src/auth.ts", "scripts/auth-schema.mjs",
                     "scripts/auth-config.mjs", "scripts/auth-try.mjs"}
    if not pro:
        expected |= {"scripts/apply-triggers.sh", "triggers/10_public.sql"}
        expected |= {f"triggers/20_{d}.sql" for d in domains}
    if dev_database == "docker":
        expected |= {"compose.yaml", "scripts/docker-check.sh"}
    if dev_database == "embedded":
        expected |= {"scripts/dev-postgres.mjs", "scripts/node-psql.mjs"}
    if dev_database == "shared":
        expected.add("scripts/shared-postgres.sh")
    assert tree(project) == expected


def test_env_is_ignored_and_example_is_not(render):
    project = render()
    ignored = (project / ".gitignore").read_text().split()
    assert ".env" in ignored
    assert ".env.example" not in ignored


def test_readme_names_the_mode_and_the_differences(render):
    free = (render(atlas_pro=False, domains=["asset"]) / "DATABASE.md").read_text()
    pro = (render(atlas_pro=True, domains=["asset"]) / "DATABASE.md").read_text()
    assert "## Mode: Atlas without Pro" in free
    assert "apply-triggers.sh" in free
    assert "## Mode: Atlas Pro" in pro
    assert "atlas login" in pro
    for text in (free, pro):
        line = next(line for line in text.splitlines() if "differs from the convention doc" in line)
        assert "getenv()" in line
        assert "file-name order" in line
