"""SCHEMA.md and src/db/types.ts (scripts/schema-views.mjs) from a real apply, read by the tools that
read them: Mermaid's own parser and TypeScript's compiler.

One project with two domains, Better Auth and foreign keys across schemas (to `auth.user`, and
between domains), applied through real Atlas on a password-protected PostgreSQL."""

from __future__ import annotations

import json
import subprocess

import psycopg
import pytest

from tests.helpers.npm import install_schema_view_tools
from tests.test_atlas_engine import dev_url, make_project

# A domain table that points into auth (and the domain-to-domain key make_project adds).
OWNER_KEY = """ALTER TABLE asset.holding ADD COLUMN owner_id text;
ALTER TABLE asset.holding ADD CONSTRAINT holding_owner_fk FOREIGN KEY (owner_id) REFERENCES auth."user" (id);
CREATE INDEX holding_owner_id_idx ON asset.holding (owner_id);
"""
SCHEMAS = ("asset", "auth", "portfolio", "public")

# Every ```mermaid block of a Markdown file through mermaid's parser (under jsdom's DOM): per block,
# its entities (by their label) and its relationships (by their role: the foreign key's name).
READ_DIAGRAMS = """
import fs from "node:fs";
import { JSDOM } from "jsdom";
const dom = new JSDOM("");
globalThis.window = dom.window;
globalThis.document = dom.window.document;
const { default: mermaid } = await import("mermaid");
const blocks = [...fs.readFileSync(process.argv[2], "utf8").matchAll(/```mermaid\\n([\\s\\S]*?)```/g)];
const diagrams = [];
for (const [, text] of blocks) {
  await mermaid.parse(text);  // throws on a syntax error
  const { db } = await mermaid.mermaidAPI.getDiagramFromText(text);
  diagrams.push({
    entities: [...db.getEntities().values()].map((e) => e.alias || e.label),
    relationships: db.getRelationships().map((r) => r.roleA),
  });
}
console.log(JSON.stringify(diagrams));
"""
QUERIES = """import type { Kysely } from "kysely";
import type { DB } from "./db/types";

declare const db: Kysely<DB>;

export const holdings = db
  .selectFrom("asset.holding")
  .innerJoin("auth.user", "auth.user.id", "asset.holding.owner_id")
  .select(["asset.holding.name", "auth.user.email"])
  .where("auth.user.emailVerified", "=", true);
export const notes = db.selectFrom("note").select("body");
"""
WRONG_COLUMN = """import type { Kysely } from "kysely";
import type { DB } from "./db/types";

declare const db: Kysely<DB>;

export const holdings = db.selectFrom("asset.holding").select("asset.holding.no_such_column");
"""

# Only the two files: no @types packages (Mermaid's node_modules brings thirty, seconds of tsc).
TSCONFIG = {"compilerOptions": {"noEmit": True, "strict": True, "skipLibCheck": True, "module": "esnext",
                                "moduleResolution": "bundler", "target": "es2022", "types": []},
            "files": ["src/queries.ts", "src/wrong.ts"]}


def catalog(url: str) -> tuple[set[str], set[str], set[str]]:
    """The tables of the managed schemas, their foreign keys, and the keys that cross schemas."""
    with psycopg.connect(url) as conn:
        tables = {row[0] for row in conn.execute(
            "SELECT table_schema || '.' || table_name FROM information_schema.tables"
            " WHERE table_schema = ANY(%s) AND table_type = 'BASE TABLE'", (list(SCHEMAS),))}
        keys = conn.execute(
            "SELECT c.conname, c.connamespace = r.relnamespace FROM pg_constraint c JOIN pg_class r"
            " ON r.oid = c.confrelid WHERE c.contype = 'f' AND c.connamespace::regnamespace::text = ANY(%s)",
            (list(SCHEMAS),)).fetchall()
    return tables, {name for name, _ in keys}, {name for name, inside in keys if not inside}


@pytest.fixture(scope="module")
def tools():
    return install_schema_view_tools()


def test_after_apply_the_diagram_parses_and_the_types_compile(atlas, pg_tcp, render, tmp_path, tools):
    project = make_project(render, pg_tcp, atlas, tmp_path, dev_database="local", production_path="declarative")
    project.append("schemas/90_cross_domain.sql", OWNER_KEY)
    (project.path / "node_modules").symlink_to(tools / "node_modules", target_is_directory=True)
    erd, types = project.path / "SCHEMA.md", project.path / "src" / "db" / "types.ts"

    # The apply writes both; a second one (nothing changed) writes nothing, and what the check
    # regenerates is the same bytes.
    first = project.ok("schema:apply", "--auto-approve")
    assert "wrote SCHEMA.md" in first and "wrote src/db/types.ts" in first
    written = erd.read_bytes(), types.read_bytes()
    second = project.ok("schema:apply", "--auto-approve")
    assert "Schema is synced" in second and "wrote" not in second
    project.ok("db:views:check")

    # Mermaid's parser and tsc read them side by side.
    (project.path / "read-diagrams.mjs").write_text(READ_DIAGRAMS)  # beside node_modules, where node finds them
    diagrams = subprocess.Popen(["node", "read-diagrams.mjs", "SCHEMA.md"], cwd=project.path, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    (project.path / "src" / "queries.ts").write_text(QUERIES)
    (project.path / "src" / "wrong.ts").write_text(WRONG_COLUMN)
    (project.path / "tsconfig.json").write_text(json.dumps(TSCONFIG))
    tsc = subprocess.run([str(tools / "node_modules" / ".bin" / "tsc"), "-p", "."], cwd=project.path,
                         capture_output=True, text=True, timeout=120)
    errors = [line for line in tsc.stdout.splitlines() if "error TS" in line]
    assert errors and all(line.startswith("src/wrong.ts(6,") for line in errors), tsc.stdout
    assert "no_such_column" in tsc.stdout

    out, err = diagrams.communicate(timeout=120)
    assert diagrams.returncode == 0, err
    overview, *per_schema = json.loads(out)
    tables, keys, crossing = catalog(dev_url(project))
    assert {"holding_owner_fk", "example_asset_fk"} <= crossing
    assert len(per_schema) == len(SCHEMAS)
    assert sorted(e for d in per_schema for e in d["entities"]) == sorted(tables)
    assert sorted(r for d in per_schema for r in d["relationships"]) == sorted(keys - crossing)
    assert sorted(overview["relationships"]) == sorted(crossing)

    # Stale: the database moved on without the files.
    with psycopg.connect(dev_url(project), autocommit=True) as conn:
        conn.execute("ALTER TABLE asset.holding ADD COLUMN note text")
    stale = project.npm("db:views:check")
    assert stale.returncode == 1
    assert [line.split()[0] for line in stale.stderr.splitlines()] == ["SCHEMA.md", "src/db/types.ts"]

    # An app's own file of that name is never overwritten.
    erd.write_text("# Our schema notes\n")
    refused = project.npm("db:erd")
    assert refused.returncode == 1 and erd.read_text() == "# Our schema notes\n"
    assert refused.stderr == "schema-views: SCHEMA.md exists and was not written by this script: move it, then run again\n"

    # No database: one line, nothing written.
    project.replace(".env", dev_url(project), "postgres://nobody:x@127.0.0.1:1/none?sslmode=disable")
    for script in ("db:types", "db:erd"):
        down = project.npm(script)
        assert down.returncode == 1 and down.stdout == "", script
        assert down.stderr.startswith("schema-views: cannot read the dev database (DATABASE_URL in .env):"), script
        assert down.stderr.count("\n") == 1, down.stderr
    assert types.read_bytes() == written[1]
