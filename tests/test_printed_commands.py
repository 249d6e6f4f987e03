"""Every command DATABASE.md tells the team to type names a script the project has."""

from __future__ import annotations

import json
import re

import pytest

from tests.helpers import MATRIX

RUN = re.compile(r"\b(?:npm|pnpm|yarn|bun) run (?:--silent )?([a-z][a-z:-]*)")


@pytest.mark.parametrize("answers", MATRIX)
def test_database_md_names_only_scripts_the_project_has(render, answers):
    project = render(**answers)
    scripts = json.loads((project / "package.json").read_text())["scripts"]
    named = set(RUN.findall((project / "DATABASE.md").read_text()))
    assert named and named <= set(scripts), sorted(named - set(scripts))
