"""Property tests: any answer the validators accept lands escaped, and the project still works.

Example counts: the rendered-project property runs RENDER_EXAMPLES real `copier copy`s; the
pure-function properties run PURE_EXAMPLES examples each (no copier).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

import copier
import hcl2
import pglast
import psycopg
import yaml
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st
from pglast import keywords

from copier_atlas_postgres.questions.rules import answer_error
from copier_atlas_postgres.rendering.values import hcl_string, postgres_url
from tests.helpers.postgres import load_schemas

RENDER_EXAMPLES = 10
PURE_EXAMPLES = 300
settings.register_profile(
    # No "explain" phase: it re-renders the project hundreds of times after a failure.
    "copier-render", max_examples=RENDER_EXAMPLES, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile("pure", max_examples=PURE_EXAMPLES, deadline=None)

# ---- Strategies: generate broadly, keep what the validators accept ----------

# Characters that matter somewhere: URL delimiters, HCL interpolation, shell, YAML, JSON, SQL.
NASTY = list("$%{}@/:?#&=+;,[]!*()<>|^~.-_\"'\\` \t\n") + ["${", "%{", "$${", "%%{", "}}", "{{", "%25", "%40"]
nasty_text = st.lists(st.sampled_from(NASTY) | st.text(min_size=1, max_size=3), max_size=12).map("".join)
# Mostly from characters that can pass, so the filters rarely reject; the rest is anything at all.
printable_ascii = st.characters(min_codepoint=0x21, max_codepoint=0x7E)
passwords = (
    st.lists(st.sampled_from(NASTY) | st.text(printable_ascii, min_size=1, max_size=4), min_size=1, max_size=12).map("".join)
    | st.text(st.characters(codec="ascii"), min_size=1, max_size=40)
).filter(lambda p: answer_error(p, "db_password") == "")
project_names = (
    st.lists(st.sampled_from(NASTY) | st.text(st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp")), min_size=1,
                                               max_size=6), min_size=1, max_size=10).map("".join)
    | st.text(min_size=1, max_size=60)
).filter(lambda n: answer_error(n, "project_name") == "")
# Non-reserved keywords are the identifiers most likely to break bare SQL, so draw them often.
keyword_like = st.sampled_from(sorted(keywords.UNRESERVED_KEYWORDS | keywords.COL_NAME_KEYWORDS))
identifiers = (st.from_regex(r"[a-z][a-z0-9_]{0,62}", fullmatch=True) | keyword_like).filter(
    lambda i: answer_error(i, "db_name") == ""
)
roles = (st.from_regex(r"[a-z][a-z0-9_]{0,62}", fullmatch=True) | keyword_like).filter(
    lambda i: answer_error(i, "db_user") == ""
)
domain_lists = st.lists(identifiers, max_size=3, unique=True).filter(lambda d: answer_error(d, "domains") == "")


# ---- Reading the files back the way their tools do ----------------------------

def hcl2_loads(text: str) -> dict:
    """Parse HCL with python-hcl2, which rejects an escaped `$${`/`%%{` that is not closed by `}`.

    HCL's own scanner (hashicorp/hcl scan_tokens.rl: TemplateNotInterp = '$' TemplateInterp) reads
    `$${` as the literal `${` whatever follows; `\\u0024{` means the same, so rewrite to that first.
    """
    return hcl2.loads(text.replace("$${", "\\u0024{").replace("%%{", "\\u0025{"))


def hcl_value(literal: str) -> str:
    """The value of a quoted HCL string literal as python-hcl2 returns it (quotes and escapes kept)."""
    assert literal[0] == literal[-1] == '"', literal
    body, out, i = literal[1:-1], [], 0
    simple = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}
    while i < len(body):
        if body[i] == "\\":
            kind = body[i + 1]
            if kind in simple:
                out.append(simple[kind])
                i += 2
            elif kind in "uU":
                width = 4 if kind == "u" else 8
                out.append(chr(int(body[i + 2:i + 2 + width], 16)))
                i += 2 + width
            else:
                raise AssertionError(f"unknown HCL escape \\{kind} in {literal}")
        elif body.startswith(("$${", "%%{"), i):
            out.append(body[i] + "{")
            i += 3
        elif body.startswith(("${", "%{"), i):
            raise AssertionError(f"HCL would interpolate {body[i:]!r} in {literal}")
        else:
            out.append(body[i])
            i += 1
    return "".join(out)


def url_parts(url: str) -> tuple[str, str, int, str]:
    parts = urlsplit(url)
    assert parts.scheme == "postgres"
    assert parts.hostname == "localhost"
    return unquote(parts.username), unquote(parts.password), parts.port, unquote(parts.path.removeprefix("/"))


def sh_reads(project: Path, variable: str) -> str:
    result = subprocess.run(
        ["sh", "-c", f'. ./.env; printf %s "${variable}"'], cwd=project, capture_output=True, text=True, check=True,
    )
    return result.stdout


# ---- The rendered project, for any accepted answers ------------------------------

@settings(settings.get_profile("copier-render"))
@given(
    password=passwords, name=project_names, db_name=identifiers, db_user=roles, domains=domain_lists,
    port=st.integers(1, 65535), dev=st.sampled_from(["docker", "local"]), pro=st.booleans(),
)
@example(  # always tried: every character class that needs escaping somewhere
    password="p@ss/w:rd?#%25&=+${x}%{y}$${z}!", name='Quote " \\ ${x} %{y} {{ z }} <b>&\'', db_name="int",
    db_user="name", domains=["asset", "between"], port=6543, dev="local", pro=True,
)
def test_any_accepted_answers_give_a_working_project(pg_server, template_dir, password, name, db_name, db_user, domains, port, dev, pro):
    answers = {
        "project_name": name, "project_slug": "shop", "db_name": db_name, "db_user": db_user, "db_password": password,
        "db_port": str(port), "domains": domains, "dev_database": dev, "atlas_pro": pro, "use_better_auth": False,
    }
    with tempfile.TemporaryDirectory(prefix="cap-prop-") as tmp:
        project = Path(tmp) / "server"
        copier.run_copy(str(template_dir), str(project), data=answers, defaults=True, unsafe=True, vcs_ref="HEAD",
                        quiet=True)
        credentials = (db_user, password, port, db_name)

        # atlas.hcl: valid HCL; the dev URL decodes to exactly the answers; prod only from getenv.
        atlas = hcl2_loads((project / "atlas.hcl").read_text())
        envs = {label.strip('"'): body for block in atlas["env"] for label, body in block.items()}
        assert url_parts(hcl_value(envs["dev"]["url"])) == credentials
        assert envs["prod"]["url"] == '${getenv("DATABASE_URL")}'
        if dev == "local":
            scratch = next(block["scratch_database"] for block in atlas["locals"])
            assert url_parts(hcl_value(scratch))[:3] == credentials[:3]
        assert [hcl_value(s) for s in envs["dev"]["schemas"]] == ["public", *domains]

        # .env: what sh (and compose, same single-quote rule) reads back.
        assert sh_reads(project, "POSTGRES_PASSWORD") == password
        assert sh_reads(project, "POSTGRES_USER") == db_user
        assert url_parts(sh_reads(project, "DATABASE_URL")) == credentials

        # JSON and YAML.
        package = json.loads((project / "package.json").read_text())
        assert package["description"] == f"{name}: server"
        recorded = yaml.safe_load((project / ".copier-answers.yml").read_text())
        assert (recorded["project_name"], recorded["db_password"]) == (name, password)
        if dev == "docker":
            compose = yaml.safe_load((project / "compose.yaml").read_text())
            assert compose["services"]["postgres"]["ports"] == [f"127.0.0.1:{port}:5432"]

        # SQL: loads into a real PostgreSQL (and so do the trigger files without Pro);
        # the identifiers are valid bare as role and database names too.
        database = f"p_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        try:
            uri = pg_server.get_uri(database)
            load_schemas(uri, project)
            with psycopg.connect(uri) as conn:  # one transaction, rolled back at the end
                for trigger_file in sorted((project / "triggers").glob("*.sql")):
                    conn.execute(trigger_file.read_text())
                conn.rollback()
        finally:
            with psycopg.connect(pg_server.get_uri(), autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        # The identifiers are valid bare where they land outside the schemas (README's createdb -O,
        # the postgres image's CREATE ROLE / CREATE DATABASE): PostgreSQL's own grammar accepts them.
        pglast.parse_sql(f"CREATE ROLE {db_user}; CREATE DATABASE {db_name} OWNER {db_user}")


# ---- The escaping functions alone (fast: many more examples) ---------------------

any_line = st.lists(st.text(st.characters(exclude_categories=("Cs", "Cc"))) | st.sampled_from(NASTY + ["\r"])).map("".join)


@settings(settings.get_profile("pure"))
@given(value=any_line | nasty_text)
def test_hcl_string_round_trips(value):
    literal = hcl_string(value)
    parsed = hcl2_loads(f"x = {literal}\n")["x"]
    assert hcl_value(parsed) == value  # hcl_value also fails on any ${ or %{ HCL would interpolate


@settings(settings.get_profile("pure"))
@given(user=st.text(min_size=1) | nasty_text, password=st.text() | nasty_text, database=st.text(min_size=1),
       port=st.integers(1, 65535))
def test_postgres_url_round_trips(user, password, database, port):
    assume(user and database)
    url = postgres_url(user, password, str(port), database)
    assert url_parts(url.removesuffix("?sslmode=disable")) == (user, password, port, database)
    assert urlsplit(url).query == "sslmode=disable"


@settings(settings.get_profile("pure"))
@given(password=passwords)
def test_accepted_passwords_survive_every_format(password):
    """The three encodings of one accepted password, without rendering."""
    assert hcl_value(hcl2_loads(f"x = {hcl_string(password)}\n")["x"]) == password
    assert json.loads(json.dumps(password)) == password
    assert unquote(urlsplit(postgres_url("u", password, "5432", "d")).password) == password


# ---- Safe defaults -------------------------------------------------------------------

def test_safe_defaults(render, tmp_path):
    """Prod URL only from the environment, dev port on loopback, .env ignored, no secret tracked."""
    import shutil

    password = "Dev-Only_Marker%9z"
    project = shutil.copytree(render(use_better_auth=False, db_password=password, db_port="6543", dev_database="docker"),
                              tmp_path / "p")

    atlas = hcl2_loads((project / "atlas.hcl").read_text())
    envs = {label.strip('"'): body for block in atlas["env"] for label, body in block.items()}
    assert envs["prod"]["url"] == '${getenv("DATABASE_URL")}'
    assert all(urlsplit(hcl_value(env["url"])).hostname == "localhost" for name, env in envs.items() if name != "prod")

    compose = yaml.safe_load((project / "compose.yaml").read_text())
    assert compose["services"]["postgres"]["ports"] == ["127.0.0.1:6543:5432"]

    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.invalid"]
    subprocess.run([*git, "init", "-q"], cwd=project, check=True)
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    tracked = subprocess.run(["git", "ls-files"], cwd=project, check=True, capture_output=True, text=True).stdout.split()
    assert ".env" not in tracked
    assert ".env.example" in tracked
    holding_password = {f for f in tracked if password in (project / f).read_text()} | {
        f for f in tracked if quote_password(password) in (project / f).read_text()
    }
    # The dev password is a dev-only credential (documented): only these may carry it.
    allowed = {".env.example", ".copier/env.fragment", "atlas.hcl", ".copier-answers.yml"}
    assert holding_password <= allowed, holding_password
    assert "Dev-Only" in (project / ".env").read_text()


def quote_password(password: str) -> str:
    from urllib.parse import quote

    return quote(password, safe="")


def test_better_auth_secret_is_fresh_and_only_in_env(render):
    """Each project gets its own random BETTER_AUTH_SECRET in .env; tracked files hold a placeholder."""
    projects = [render(use_better_auth=True, db_port=port) for port in ("5432", "5433")]
    secrets = []
    for project in projects:
        env = dict(line.split("=", 1) for line in (project / ".env").read_text().splitlines() if "=" in line)
        secret = env["BETTER_AUTH_SECRET"].strip("'")
        assert len(secret) >= 32
        assert "replace" not in secret
        assert "BETTER_AUTH_SECRET='replace-with-a-long-random-string'" in (project / ".env.example").read_text()
        others = [p for p in project.rglob("*") if p.is_file() and p.name != ".env"]
        assert not [p for p in others if secret in p.read_text(errors="replace")]
        secrets.append(secret)
    assert secrets[0] != secrets[1]
