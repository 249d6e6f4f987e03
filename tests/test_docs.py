"""The docs stay in step with the template: docs/generate.md has one `### name` entry per question
copier.yml asks, and every relative link in README.md and docs/ reaches a file."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted((ROOT / "docs").glob("*.md"))
# [text](target): the target up to its closing parenthesis or a title.
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)")


def asked_questions(copier_yml: Path) -> set[str]:
    """Questions copier asks: not settings (`_...`), not `when: false`, not `ask: false`."""
    config = yaml.safe_load(copier_yml.read_text(encoding="utf-8"))
    return {name for name, question in config.items()
            if not name.startswith("_") and isinstance(question, dict)
            and question.get("when") not in (False, "false") and question.get("ask", True) not in (False, "false")}


def test_generate_doc_has_one_entry_per_asked_question():
    asked = asked_questions(ROOT / "copier.yml")
    documented = set(re.findall(r"^### (\S+)\s*$", (ROOT / "docs" / "generate.md").read_text(encoding="utf-8"), re.M))
    assert not asked - documented, f"docs/generate.md lacks a `### name` entry for: {sorted(asked - documented)}"
    assert not documented - asked, f"docs/generate.md documents questions copier.yml does not ask: {sorted(documented - asked)}"


def test_relative_links_reach_a_file():
    broken = []
    for page in [ROOT / "README.md", *DOCS]:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)  # code blocks hold no links
        for target in LINK.findall(text):
            path = target.split("#", 1)[0]
            if not path or re.match(r"[a-z][a-z0-9+.-]*:", path):  # an anchor on the page, or a URL
                continue
            if not (page.parent / path).exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, f"links to missing files: {broken}"
