"""questions/defaults.py's one precedence: a hand-made server in the destination, then the
monorepo's shared PostgreSQL (in the `shared` mode), then the value derived from earlier answers.
Pure Python on tiny folders: a monorepo root, its compose file, a hand-made server's two files."""

from __future__ import annotations

import pytest

from copier_atlas_postgres.questions.defaults import default_answer, dev_database_default

DERIVED = "derived"


def shared_compose(password: str = "secret") -> str:
    return ("services:\n  postgres:\n    image: postgres:16\n    environment:\n      POSTGRES_USER: admin\n"
            f"      POSTGRES_PASSWORD: \"{password}\"\n    ports: [\"5499:5432\"]\n")


def handmade_atlas_hcl(port: int = 5444) -> str:
    return ('env "dev" {\n'
            f'  url = "postgres://hand:made@localhost:{port}/shop_db?sslmode=disable"\n'
            '  dev = "docker://postgres/15/dev"\n  schema {\n    src = "file://schemas"\n  }\n}\n')


def world(root, parts: str):
    """A monorepo at ROOT with PARTS ('shared', 'handmade', 'handmade@5499', '+'-joined); its app's server folder."""
    (root / ".git").mkdir()
    dst = root / "apps" / "shop" / "server"
    dst.mkdir(parents=True)
    for part in filter(None, parts.split("+")):
        if part.startswith("shared"):
            (root / "compose.yaml").write_text(shared_compose(*part.split(":")[1:]))
        elif part.startswith("handmade"):
            (dst / "atlas.hcl").write_text(handmade_atlas_hcl(*map(int, part.split("@")[1:])))
            (dst / "schemas").mkdir()
            (dst / "schemas" / "public.sql").write_text("CREATE TABLE item (id int);\n")
    return dst


@pytest.mark.parametrize(("parts", "question", "dev_database", "expected"), [
    ("", "db_user", "shared", DERIVED),  # no service: derived
    ("shared", "db_user", "shared", "admin"),  # the shared service's setting
    ("shared", "postgres_version", "shared", "16"),
    ("shared", "db_user", "embedded", DERIVED),  # only the shared mode takes the service's settings
    ("shared", "db_name", "shared", DERIVED),  # not a setting of the service
    ("shared:it's", "db_password", "shared", DERIVED),  # a setting its question's rule refuses
    ("handmade", "db_user", "embedded", "hand"),  # the hand-made server's
    ("handmade", "db_port", "docker", "5444"),
    ("handmade", "atlas_repo", "docker", DERIVED),  # a question its files do not answer
    ("handmade+shared", "db_user", "shared", "hand"),  # the hand-made server before the shared service
    ("handmade+shared", "postgres_version", "shared", "15"),
    ("handmade+shared", "shared_service", "shared", "postgres"),  # what only the service says
])
def test_default_answer(tmp_path, parts, question, dev_database, expected):
    assert default_answer(world(tmp_path, parts), question, dev_database, DERIVED) == expected


@pytest.mark.parametrize(("parts", "mode"), [
    ("", "embedded"),  # needs nothing but node
    ("shared", "shared"),  # the monorepo already runs a PostgreSQL
    ("handmade", "docker"),  # what the hand-made server's atlas.hcl says
    ("handmade+shared", "docker"),  # its atlas.hcl reaches another server than the shared one
    ("handmade@5499+shared", "shared"),  # ...or the shared one, on its port
])
def test_dev_database_default(tmp_path, parts, mode):
    assert dev_database_default(world(tmp_path, parts)) == mode
