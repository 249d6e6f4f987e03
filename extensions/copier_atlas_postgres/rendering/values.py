"""How answers are written into generated files: URLs, HCL strings, .env values, derived names."""

from __future__ import annotations

import json
from urllib.parse import quote


def postgres_url(user: str, password: str, port: object, database: str, host: str = "localhost") -> str:
    """A libpq URL; user, password and database are percent-encoded so any character survives."""

    def enc(text: str) -> str:
        return quote(str(text), safe="")

    return f"postgres://{enc(user)}:{enc(password)}@{host}:{int(str(port))}/{enc(database)}?sslmode=disable"


def hcl_string(value: str) -> str:
    """A quoted HCL string literal whose value is exactly `value` (HCL interpolates ${ and %{)."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    escaped = escaped.replace("\t", "\\t").replace("${", "$${").replace("%{", "%%{")
    return f'"{escaped}"'


def dotenv_value(value: str) -> str:
    """A single-quoted .env value: read literally by docker compose and by POSIX sh (`. ./.env`)."""
    if "'" in value or "\n" in value:
        raise ValueError("a .env value cannot hold a single quote or a newline")
    return f"'{value}'"


def json_string(value: str) -> str:
    """A JSON (and so also YAML) string literal."""
    return json.dumps(value, ensure_ascii=False)


def schema_names(domains: list[str] | None, use_better_auth: bool) -> list[str]:
    """Every schema the files in schemas/ create, in load order: atlas.hcl must list exactly these."""
    return (["auth"] if use_better_auth else []) + ["public"] + list(domains or [])


def hcl_list(values: list[str]) -> str:
    return "[" + ", ".join(hcl_string(v) for v in values) + "]"


def scratch_database(database: str) -> str:
    """Name of the empty database Atlas plans against when there is no Docker (63-byte limit)."""
    return f"{database[:53]}_atlas_dev"


def postgres_data_dir(version: object) -> str:
    """Where the official postgres image keeps its data: 18+ moved it to a versioned subfolder."""
    return "/var/lib/postgresql" if int(str(version)) >= 18 else "/var/lib/postgresql/data"


def example_domain(domains: list[str] | None) -> str:
    """The name DATABASE.md's add-a-domain lines use: new_domain, or new_domain_2, ... when a domain
    has that name already (those lines must still work after `domain:add new_domain`)."""
    taken = set(domains or [])
    return next(name for n in range(1, len(taken) + 2)
                if (name := "new_domain" if n == 1 else f"new_domain_{n}") not in taken)
