"""A generated project's files: editing one in place, a snapshot of a folder, the .env's
DATABASE_URL, a compose file checked against the compose spec."""

from __future__ import annotations

import functools
import importlib.resources
import json
from pathlib import Path

import jsonschema


def replace_once(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{path.name}: expected exactly one {old!r}"
    path.write_text(text.replace(old, new))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def database_url(server: Path) -> str:
    """DATABASE_URL of the server's .env, as its sh scripts read it (single-quoted, taken literally;
    the last assignment wins). Plain text parsing: the demo and bench/ import this module too."""
    lines = (server / ".env").read_text().splitlines()
    return next(line.split("=", 1)[1] for line in reversed(lines) if line.startswith("DATABASE_URL=")).strip("'")


@functools.cache
def _compose_spec() -> jsonschema.protocols.Validator:
    """The compose spec's JSON schema, the one `check-jsonschema --builtin-schema vendor.compose-spec`
    checks against, read once per process."""
    vendored = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(vendored.read_text())
    return jsonschema.validators.validator_for(schema)(schema, format_checker=jsonschema.FormatChecker())


def compose_errors(spec: dict) -> list[str]:
    """What the compose spec finds wrong in a compose file (parsed), one line each."""
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _compose_spec().iter_errors(spec)]
