"""Every question's default, by one precedence: what a hand-made server in the destination says
(inferred from its atlas.hcl and schema files), then what the monorepo's shared PostgreSQL says (in
the `shared` dev database mode), then the value derived from the answers before it, or fixed.

copier.yml asks `default_answer` for each question; the derived values (`owner_role`,
`default_slug`, `free_port`, ...) are the last step of that precedence.
"""

from __future__ import annotations

import socket
from pathlib import Path, PurePath

from ..project_files import AUTH_CONFIG_PLACES, COMPOSE_FILES, SIDE_COMPOSE_FILE, is_generated
from ..world import compose, monorepo
from . import rules
from .rules import _MAX_IDENTIFIER_BYTES, to_identifier, to_slug


def inferred_answers(dst: object) -> dict:
    """The answers a hand-made server in DST gives (empty for any other folder), those that pass
    their question's rule."""
    if not any((Path(str(dst)) / "schemas").glob("*.sql")):
        return {}
    from ..world import handmade_server  # only a destination with schema files needs the SQL and HCL readers

    found = handmade_server.answers_in(dst)
    return {k: v for k, v in found.items() if k not in rules.RULES
            or not rules.answer_error(v, k, None, found.get("adopted_domains"))}


# The questions whose defaults the shared dev database's service gives, and its settings they take.
SHARED_DEFAULTS = {"user": "db_user", "password": "db_password", "version": "postgres_version",
                   "compose_file": "shared_compose_file", "service": "shared_service"}


def dev_database_default(dst: object) -> str:
    """`shared` where the monorepo's root compose file runs a PostgreSQL (for a hand-made server:
    the one its atlas.hcl reaches, on that port), else what a hand-made server says, else `embedded`."""
    found = inferred_answers(dst)
    shared = compose.shared_postgres(dst)
    if shared is not None and found.get("db_port", shared.port) == shared.port:
        return "shared"
    return found.get("dev_database", "embedded")


def shared_default(dst: object, dev_database: object, setting: str, fallback: object) -> object:
    """In the shared dev database mode, the service's SETTING when it passes its question's rule; else FALLBACK."""
    if dev_database != "shared":
        return fallback
    value = compose.shared_postgres_setting(dst, setting, None)
    question = SHARED_DEFAULTS.get(setting)
    if value is None or (question and rules.RULES[question](value)):
        return fallback
    return value


def default_answer(dst: object, question: str, dev_database: object, derived: object) -> object:
    """QUESTION's default: inferred from a hand-made server in DST, else the monorepo's shared
    PostgreSQL's setting (the `shared` mode), else DERIVED (from the answers before it, or fixed)."""
    inferred = inferred_answers(dst)
    if question in inferred:
        return inferred[question]
    setting = next((key for key, name in SHARED_DEFAULTS.items() if name == question), None)
    return shared_default(dst, dev_database, setting, derived) if setting else derived


# ---- derived from the answers before, or from where the project is -------------------------------


def owner_role(db_name: str) -> str:
    """The default owner of DB_NAME: `<db_name>_owner`, shortened to fit the 63-byte limit."""
    suffix = "_owner"
    return to_identifier(db_name)[: _MAX_IDENTIFIER_BYTES - len(suffix)] + suffix


def default_slug(destination: object, project_name: str) -> str:
    """apps/<slug>/server is the documented destination: take <slug> from it, else from the name."""
    path = PurePath(str(destination))
    return to_slug(path.parent.name if path.name == "server" and path.parent.name else project_name)


def free_port(dst: object, dev_database: str = "docker") -> str:
    """The default host port. The monorepo's shared PostgreSQL: the port its root compose file
    publishes. A local server serves every local project: the port the other local projects
    answered (5432 when there is none). A server per project (embedded, a container): the first
    port from 5432 up that no other project uses (a local server's port included), no compose
    file of the monorepo publishes (a shared PostgreSQL at the root, say) and no program on this
    machine listens on."""
    if dev_database == "shared":
        return str(compose.shared_postgres_setting(dst, "port", monorepo.FIRST_PORT))
    projects = monorepo.other_projects(dst)
    if dev_database == "local":
        return str(next((p.port for p in projects if p.dev_database == "local"), monorepo.FIRST_PORT))
    used = {p.port for p in projects} | compose.taken_ports(dst)
    port = monorepo.FIRST_PORT
    while port in used or listened_on(port):
        port += 1
    return str(port)


def listened_on(port: int) -> bool:
    """Whether a program on this machine listens on PORT of 127.0.0.1 (a PostgreSQL of its own, a
    container's published port): the dev database could not start there."""
    with socket.socket() as probe:
        # SO_REUSEADDR: only a listener makes the bind fail, not a connection closing on that port.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return True
    return False


def app_auth_config(dst: object) -> str:
    """The app's own Better Auth config file (relative path), or '' when the template writes src/auth.ts."""
    dst = Path(str(dst))
    if is_generated(dst):
        return ""
    return next((place for place in AUTH_CONFIG_PLACES if (dst / place).is_file()), "")


def compose_file(dst: object) -> str:
    """compose.yaml, or compose.db.yaml when the app already has a compose file of its own."""
    dst = Path(str(dst))
    if not is_generated(dst) and any((dst / name).is_file() for name in COMPOSE_FILES):
        return SIDE_COMPOSE_FILE
    return "compose.yaml"
