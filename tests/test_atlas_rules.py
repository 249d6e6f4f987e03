"""Atlas's checked rules (../shared/reference/atlas.md) on what we render, for every answer combination,
without running Atlas (test_atlas_engine.py runs the generated project through the real engine)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import hcl2
import pglast
import pytest
from hcl2 import SerializationOptions

from tests.helpers.answers import DEFAULT_DEV_DATABASE, MATRIX
from tests.helpers.postgres import schema_files

# atlas.hcl functions: Atlas's own (cmdapi/project.go) plus the schemahcl stdlib ones we may use.
ATLAS_FUNCTIONS = {"file", "glob", "fileset", "getenv", "urlescape", "urluserinfo", "urlqueryset", "urlsetpath",
                   "coalescelist", "format", "join", "split", "lower", "upper", "replace", "concat"}
# The kinds a `diff { skip { ... } }` block can name (Atlas cmdapi/project.go, SkipChanges; newer
# releases add view/func/trigger kinds). The prod env gates every drop behind var.allow_drops and
# skips nothing else: a skipped modify_* kind would leave production silently on an old definition.
ATLAS_SKIP_KINDS = {f"{verb}_{kind}" for verb in ("add", "drop", "modify")
                    for kind in ("schema", "table", "column", "index", "foreign_key")}
DROP_CHANGES = {f"drop_{kind}" for kind in ("schema", "table", "column", "index", "foreign_key")}
PRO_ONLY_STATEMENTS = {"CreateFunctionStmt", "CreateTrigStmt", "CreateExtensionStmt", "DoStmt", "CreateEventTrigStmt"}


def parse_atlas_hcl(project: Path) -> dict[str, dict]:
    """The envs of atlas.hcl by name; the top-level blocks under "variable" and "locals"."""
    data = hcl2.loads(
        (project / "atlas.hcl").read_text(),
        serialization_options=SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False),
    )
    parsed = {name: single_blocks(body) for env in data["env"] for name, body in env.items()}
    parsed["variable"] = {name: body for block in data.get("variable", []) for name, body in block.items()}
    parsed["locals"] = {key: value for block in data.get("locals", []) for key, value in block.items()}
    return parsed


def single_blocks(body: dict) -> dict:
    """python-hcl2 gives each nested block as a list; each of ours must appear exactly once."""
    flat = {}
    for key, value in body.items():
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            assert len(value) == 1, f"block {key} appears {len(value)} times"
            value = single_blocks(value[0])
        flat[key] = value
    return flat


def hcl_tree(project: Path):
    return hcl2.parses_to_tree((project / "atlas.hcl").read_text())


def created_schemas(project: Path) -> set[str]:
    names = set()
    for path in schema_files(project):
        for raw in pglast.parse_sql(path.read_text()):
            if type(raw.stmt).__name__ == "CreateSchemaStmt":
                names.add(raw.stmt.schemaname)
    return names


def statement_kinds(path: Path) -> set[str]:
    return {type(raw.stmt).__name__ for raw in pglast.parse_sql(path.read_text())}


@pytest.mark.parametrize("answers", MATRIX)
def test_envs_schemas_and_urls(render, answers):
    project = render(**answers)
    parsed = parse_atlas_hcl(project)
    envs = {name: parsed[name] for name in ("dev", "prod")}
    assert set(parsed) == {"dev", "prod", "variable", "locals"}
    declarative = answers.get("production_path", "declarative") == "declarative"
    for name, env in envs.items():
        # Every schema a file creates is listed, and nothing else: an unlisted one is ignored
        # by Atlas, and a listed one no file creates would be planned as a drop.
        assert set(env["schemas"]) == created_schemas(project), name
        assert len(env["schemas"]) == len(set(env["schemas"])), name
        # SQL sources need a dev database in every env ("--dev-url cannot be empty").
        assert env["dev"] == "${local.dev_database}", name
        assert env["migration"]["dir"] == "file://migrations"
        assert "search_path" not in env["url"], f"{name}.url switches Atlas to schema scope"
    for env in (envs["dev"], envs["prod"]) if declarative else (envs["dev"],):
        assert env["schema"]["src"] == "file://schemas"
        assert env["schema"]["repo"]["name"] == answers.get("atlas_repo", "shop")
    assert envs["prod"]["url"] == '${getenv("DATABASE_URL")}'
    dev_url = urlsplit(envs["dev"]["url"])
    assert dev_url.scheme == "postgres"
    assert parse_qs(dev_url.query) == {"sslmode": ["disable"]}

    # The planning database: $ATLAS_DEV_URL when set, else the generated default.
    local = parsed["locals"]
    assert local["dev_database"] == '${getenv("ATLAS_DEV_URL") != "" ? getenv("ATLAS_DEV_URL") : local.scratch_database}'
    if answers.get("dev_database", DEFAULT_DEV_DATABASE) == "docker":
        assert local["scratch_database"] == f"docker://postgres/{answers.get('postgres_version', '17')}/dev"
    else:  # an empty scratch database on the local server, never the real one
        scratch = urlsplit(local["scratch_database"])
        assert scratch.path != dev_url.path
        assert scratch.netloc == dev_url.netloc
        assert "search_path" not in scratch.query

    if declarative:  # drops only with --var allow_drops=true; every other kind of change applies
        assert parsed["variable"] == {"allow_drops": {"type": "bool", "default": False}}
        skip = envs["prod"]["diff"]["skip"]
        assert set(skip) == DROP_CHANGES
        assert DROP_CHANGES <= ATLAS_SKIP_KINDS
        assert all(value == "${!var.allow_drops}" for value in skip.values())
    else:  # production only runs migrations/: `schema apply --env prod` has nothing to plan from
        assert "schema" not in envs["prod"]
        assert "diff" not in envs["prod"]
        assert parsed["variable"] == {}


@pytest.mark.parametrize("answers", MATRIX)
def test_only_atlas_functions_are_called(render, answers):
    tree = hcl_tree(render(**answers))
    called = {str(call.children[0].children[0]) for call in tree.find_data("function_call")}
    assert called <= ATLAS_FUNCTIONS
    assert "env" not in called  # env is a block type and a URL scheme, not a function
    assert "getenv" in called


@pytest.mark.parametrize("answers", MATRIX)
def test_every_block_spans_several_lines(render, answers):
    # A one-line block holds at most one argument and no nested block; Atlas rejects the file.
    for block in hcl_tree(render(**answers)).find_data("block"):
        braces = [tok for tok in block.scan_values(lambda v: getattr(v, "type", "") in ("LBRACE", "RBRACE"))]
        opening = next(t for t in braces if t.type == "LBRACE")
        closing = [t for t in braces if t.type == "RBRACE"][-1]
        assert closing.line > opening.line, f"block on one line at atlas.hcl:{opening.line}"


@pytest.mark.parametrize("answers", MATRIX)
def test_schema_folder_is_not_a_migration_folder(render, answers):
    project = render(**answers)
    env = parse_atlas_hcl(project)["dev"]
    schema_dir = env["schema"]["src"].removeprefix("file://")
    assert schema_dir != env["migration"]["dir"].removeprefix("file://")
    assert Path(schema_dir).name != "migrations"
    entries = list((project / schema_dir).iterdir())
    assert not any(p.is_dir() for p in entries), "Atlas fails on subfolders of a schema folder"
    assert not any(p.name == "atlas.sum" for p in entries)
    assert all(p.suffix == ".sql" for p in entries)


@pytest.mark.parametrize("answers", MATRIX)
def test_free_mode_keeps_pro_features_out_of_schemas(render, answers):
    project = render(**answers)
    kinds = set().union(*(statement_kinds(p) for p in schema_files(project)))
    assert "CreateExtensionStmt" not in kinds  # gated like functions; gen_random_uuid() is built in
    domains = answers.get("domains", [])
    if answers.get("atlas_pro", False):
        if domains:  # the doc's convention: function and trigger inside each domain file
            assert {"CreateFunctionStmt", "CreateTrigStmt"} <= kinds
    else:
        assert not kinds & PRO_ONLY_STATEMENTS
        for domain in domains:  # ...they live outside schemas/ instead
            assert "CreateFunctionStmt" in statement_kinds(project / "triggers" / f"20_{domain}.sql")


def test_auth_and_public_load_before_every_domain(render):
    # Names chosen to sort before "auth" and "public" in a plain alphabetical listing.
    project = render(domains=["account", "asset", "billing", "zeta"], use_better_auth=True)
    order = [p.stem.split("_", 1)[1] for p in schema_files(project)]
    assert order[:3] == ["auth", "auth_custom", "public"]
    assert order[3:] == ["account", "asset", "billing", "zeta"]


def test_function_bodies_are_valid_plpgsql(render):
    project = render(domains=["asset"], atlas_pro=True)
    for path in [*schema_files(project), *sorted(render(domains=["asset"]).glob("triggers/*.sql"))]:
        text = path.read_text()
        for statement in pglast.split(text):
            if type(pglast.parse_sql(statement)[0].stmt).__name__ == "CreateFunctionStmt":
                pglast.parse_plpgsql(statement)  # raises on a bad plpgsql body
