"""An adoption checks its own result before it says "adopted", the way a team would.

1. Nothing the team's files defined is missing: every schema, table, view, type, sequence,
   domain, function, index and extension of their committed files is defined again by the files
   the adoption wrote (schemas/, triggers/, extensions/), read with the same SQL reader; the doc's
   updated_at boilerplate counts as there (triggers/ writes it).
2. The new schemas/ load on an empty database: the Atlas engine loads extensions/ then schemas/
   on the dev database Atlas plans against ($ATLAS_DEV_URL, else the answered scratch database),
   offline, in a few hundred milliseconds. When neither Atlas nor such a database is at hand (a
   Docker dev database, Atlas not installed), that is said, with the command that checks it.

Any difference refuses the adoption: steps.py restores the team's committed files.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..project_files import EXTENSIONS_FOLDER
from ..rendering.values import postgres_url, scratch_database
from ..world import sql_text
from ..world.handmade_server import defines_something

# CREATE <kind>: the word the kind's name follows.
_NAMED = {"schema": "schema", "table": "table", "view": "view", "materialized": "view", "type": "type",
          "sequence": "sequence", "domain": "domain", "function": "function", "procedure": "procedure",
          "index": "index", "extension": "extension"}
_BOILERPLATE = "update_updated_at_column"
ADOPTED_FOLDERS = ("schemas", "triggers", EXTENSIONS_FOLDER)


def definitions(texts: list[str]) -> set[tuple[str, str]]:
    """(kind, qualified name) of everything TEXTS create."""
    found = set()
    for text in texts:
        for statement in sql_text.split_statements(text):
            kind = statement.kind.split()
            if len(kind) != 2 or kind[0] != "create" or kind[1] not in _NAMED:
                continue
            name = sql_text.qualified_name_after(statement, _NAMED[kind[1]])
            if name is None:
                continue
            schema = name[0] or ("" if kind[1] in ("schema", "extension", "index") else "public")
            found.add((_NAMED[kind[1]], f"{schema}.{name[1]}" if schema else name[1]))
    return found


def missing(project: Path, server) -> list[str]:
    """What the team's committed schema files define and the adopted files do not."""
    theirs = definitions([f.text for f in server.files])
    ours = definitions([p.read_text() for folder in ADOPTED_FOLDERS for p in sorted((project / folder).glob("*.sql"))])
    ours_by_name = {(kind, name.rsplit(".", 1)[-1]) for kind, name in ours}
    lost = []
    for kind, name in sorted(theirs - ours):
        if _BOILERPLATE in name or (kind == "index" and (kind, name) in ours_by_name):
            continue  # triggers/ writes the boilerplate; an index is named without its schema
        lost.append(f"{kind} {name}")
    return lost


def dev_url(answers: dict) -> str | None:
    """The empty database Atlas plans against, as atlas.hcl picks it; None for Docker's."""
    if url := os.environ.get("ATLAS_DEV_URL"):
        return url
    if answers.get("dev_database") == "docker":
        return None
    return postgres_url(answers.get("db_user", ""), answers.get("db_password", ""), answers.get("db_port", 5432),
                        scratch_database(str(answers.get("db_name", ""))))


def load_error(project: Path, answers: dict) -> tuple[bool, str]:
    """(checked, Atlas's error or ''): extensions/ then schemas/ loaded by the Atlas engine on the
    dev database. checked is False when Atlas or the dev database is not at hand."""
    atlas, url = shutil.which("atlas"), dev_url(answers)
    if atlas is None or url is None:
        return False, ""
    with tempfile.TemporaryDirectory() as folder:
        # One folder in load order: extensions first ("000_" sorts before the numbered files).
        for path in sorted((project / EXTENSIONS_FOLDER).glob("*.sql")):
            shutil.copy(path, Path(folder) / f"000_{path.name}")
        for path in sorted((project / "schemas").glob("*.sql")):
            shutil.copy(path, Path(folder) / path.name)
        if not any(defines_something(s) for p in Path(folder).iterdir() for s in sql_text.split_statements(p.read_text())):
            return True, ""
        try:
            run = subprocess.run([atlas, "schema", "inspect", "--url", f"file://{folder}", "--dev-url", url,
                                  "--format", "{{ sql . }}"], capture_output=True, text=True, timeout=120,
                                 env={**os.environ, "ATLAS_NO_UPDATE_NOTIFIER": "1"})
        except (OSError, subprocess.TimeoutExpired) as error:
            return False, str(error)
    if run.returncode == 0:
        return True, ""
    error = (run.stderr or run.stdout).strip()
    if _UNREACHABLE.search(error):
        return False, error  # the dev database is not up: not a fault of the files
    return True, error


_UNREACHABLE = re.compile(r"connection refused|no such host|dial tcp|authentication failed|timeout"
                          r"|database \S+ does not exist|role \S+ does not exist", re.I)
