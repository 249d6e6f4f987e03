"""The rules every answer must follow, as plain functions.

copier.yml calls `answer_error(question, value)` through the `answer_error` filter;
a non-empty result is the message copier shows (and the question is asked again,
or a non-interactive run stops before writing anything).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

# Loaded by file path from filters.py (copier imports extensions by path), so no package import.
_KEYWORDS_FILE = Path(__file__).with_name("pg_keywords.py")
_namespace: dict = {}
exec(compile(_KEYWORDS_FILE.read_text(), str(_KEYWORDS_FILE), "exec"), _namespace)
PG_RESERVED: frozenset[str] = _namespace["RESERVED"]

SUPPORTED_POSTGRES_VERSIONS = ("14", "15", "16", "17", "18")  # CREATE OR REPLACE TRIGGER needs 14+
# Schemas the template itself creates or PostgreSQL owns: a domain may not take these names.
TAKEN_SCHEMAS = frozenset({"auth", "public", "information_schema"})
# PostgreSQL refuses these role names (CREATE ROLE: 'role name "public" is reserved').
RESERVED_ROLES = frozenset({"public", "none"})
# Databases every cluster already has and that `createdb` / the postgres image cannot create.
TEMPLATE_DATABASES = frozenset({"template0", "template1"})

_IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")
_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]*")
# ASCII digits only (str.isdigit() also accepts '²' and '٣'), no leading zero: the text lands
# as typed in compose.yaml, URLs and the README, so it must be the port's one canonical spelling.
_PORT = re.compile(r"[1-9][0-9]*")
_MAX_IDENTIFIER_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1


def identifier_error(value: object) -> str:
    """Why `value` cannot be a bare PostgreSQL identifier, or '' if it can."""
    if value is None or value == "":
        return "must not be empty"
    if not isinstance(value, str):
        return f"{value!r} must be a name (text), not a {type(value).__name__}"
    if not _IDENTIFIER.fullmatch(value):
        return (
            f"{value!r} must use only lowercase letters, digits and _, and start with a letter"
            f" (for example {to_identifier(value)!r})"
        )
    if len(value.encode()) > _MAX_IDENTIFIER_BYTES:
        return f"{value!r} is longer than PostgreSQL's {_MAX_IDENTIFIER_BYTES}-byte identifier limit"
    if value in PG_RESERVED:
        return f"{value!r} is a reserved PostgreSQL keyword; pick another word (for example {value + '_data'!r})"
    if value.startswith("pg_"):
        return f"{value!r} starts with pg_, which PostgreSQL reserves for system objects"
    return ""


def to_identifier(value: str) -> str:
    """The nearest valid identifier: the default database name (from the slug) and the hint in messages."""
    cleaned = re.sub(r"[^a-z0-9_]+", "_", value.lower()).strip("_")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "x_" + cleaned
    if cleaned in PG_RESERVED | TAKEN_SCHEMAS | RESERVED_ROLES | TEMPLATE_DATABASES or cleaned.startswith("pg_"):
        cleaned = "my_" + cleaned  # never suggest a name another rule refuses
    return cleaned[:_MAX_IDENTIFIER_BYTES]


def owner_role(db_name: str) -> str:
    """The default owner of DB_NAME: `<db_name>_owner`, shortened to fit the 63-byte limit."""
    suffix = "_owner"
    return to_identifier(db_name)[: _MAX_IDENTIFIER_BYTES - len(suffix)] + suffix


def database_error(value: object) -> str:
    if isinstance(value, str) and value in TEMPLATE_DATABASES:
        return f"{value!r} is one of PostgreSQL's template databases; pick your app's own name"
    return identifier_error(value)


def role_error(value: object) -> str:
    if isinstance(value, str) and value in RESERVED_ROLES:
        return f"{value!r} is a role name PostgreSQL reserves; pick another (for example {value + '_owner'!r})"
    return identifier_error(value)


def domain_error(value: object) -> str:
    if isinstance(value, str) and value in TAKEN_SCHEMAS:
        return f"{value!r} is a schema the template already manages (auth, public) or PostgreSQL owns"
    return identifier_error(value)


def domains_error(value: object) -> str:
    """The list of domain schemas: a list of distinct, valid schema names (may be empty)."""
    if not isinstance(value, list):  # also None: an emptied answer is not a list (write [] for none)
        return "must be a YAML list of schema names, for example [asset, portfolio] (or [] for none)"
    for item in value:
        if error := domain_error(item):
            return f"domain {error}"
    duplicates = sorted({d for d in value if value.count(d) > 1})
    if duplicates:
        return f"lists {', '.join(duplicates)} more than once; each domain needs exactly one schema"
    return ""


def slug_error(value: object) -> str:
    """The project's folder under apps/, also its npm and compose project name."""
    if not isinstance(value, str) or not value:
        return "must not be empty"
    if len(value) > 64 or not _SLUG.fullmatch(value):
        return (
            f"{value!r} must be a folder name of lowercase letters, digits, - and _, starting with a"
            " letter or digit, at most 64 characters (no /, spaces, dots)"
        )
    return ""


def port_error(value: object) -> str:
    text = str(value)  # no strip: ' 80' would land as-is in the README and answers file
    if not _PORT.fullmatch(text) or not 1 <= int(text) <= 65535:
        return f"{value!r} must be a whole number from 1 to 65535, written without a leading zero"
    return ""


def postgres_version_error(value: object) -> str:
    if str(value) not in SUPPORTED_POSTGRES_VERSIONS:
        return f"{value!r} must be one of the supported major versions {', '.join(SUPPORTED_POSTGRES_VERSIONS)}"
    return ""


def free_text_error(value: object, *, max_length: int = 200) -> str:
    """Text that is escaped wherever it lands, but must stay one printable line."""
    if not isinstance(value, str) or not value.strip():
        return "must not be empty"
    if len(value) > max_length:
        return f"must be at most {max_length} characters"
    if any(not ch.isprintable() for ch in value):
        return "must be one line of printable characters (no tabs, newlines or control characters)"
    return ""


def password_error(value: object) -> str:
    """The dev database password: stored single-quoted in .env, so no quotes or backslash."""
    if error := free_text_error(value, max_length=128):
        return error
    if not value.isascii() or any(ch in value for ch in " '\"\\`"):
        return "must be printable ASCII without spaces, quotes (' \" `) or backslashes"
    return ""


RULES: dict[str, Callable[[object], str]] = {
    "project_name": free_text_error,
    "project_slug": slug_error,
    "db_name": database_error,
    "db_user": role_error,
    "db_password": password_error,
    "postgres_version": postgres_version_error,
    "db_port": port_error,
    "atlas_repo": slug_error,
    "domains": domains_error,
}


def answer_error(value: object, question: str) -> str:
    """The message copier shows for a bad answer (names the question and the rule), or ''."""
    error = RULES[question](value)
    return f"{question}: {error}" if error else ""
