"""Every answer rule, called directly (the plain functions copier.yml's validators use)."""

from __future__ import annotations

import re

import pytest
from pglast import keywords

from copier_atlas_postgres.questions import defaults, rules
from copier_atlas_postgres.questions.rules import RULES, answer_error, display_width
from copier_atlas_postgres.world import sql_text

# (question, value, fragment of the message) -- fragment None means the value is accepted.
OK = None
IDENT_BAD = [
    ("Shop", "try 'shop'"),
    ("1shop", "try 'x_1shop'"),
    ("my-shop", "try 'my_shop'"),
    ("my shop", "try 'my_shop'"),
    ("shöp", "try 'sh_p'"),
    ("a" * 64, "63 bytes"),
    ("select", "reserved"),
    ("user", "reserved"),
    ("authorization", "reserved"),  # TYPE_FUNC_NAME keyword
    ("pg_x", "pg_"),
    ("", "must not be empty"),
    (None, "must not be empty"),
    (7, "must be a name"),
]
IDENT_OK = ["shop", "s", "shop_2", "a" * 63, "int", "name", "users", "pgx"]

CASES = [
    *[(q, v, frag) for q in ("db_name", "db_user") for v, frag in IDENT_BAD],
    *[(q, v, OK) for q in ("db_name", "db_user") for v in IDENT_OK],
    ("db_name", "template1", "template"),
    ("db_name", "template0", "template"),
    ("db_name", "postgres", OK),
    ("db_user", "public", "reserved role: try 'public_owner'"),
    ("db_user", "none", "reserved role: try 'none_owner'"),
    ("db_user", "postgres", OK),
    # domains: a YAML list of distinct schema names
    *[("domains", [v], frag) for v, frag in IDENT_BAD if v is not None],
    ("domains", [None], "must not be empty"),
    ("domains", ["auth"], "pick another"),
    ("domains", ["public"], "pick another"),
    ("domains", ["information_schema"], "pick another"),
    ("domains", ["asset", "feed", "asset"], "lists asset twice"),
    ("domains", "asset", "YAML list"),
    ("domains", {"asset": 1}, "YAML list"),
    ("domains", None, "YAML list"),
    ("domains", [], OK),
    ("domains", ["asset"], OK),
    ("domains", ["asset", "portfolio", "feed", "int", "a" * 63], OK),
    # slug (and atlas_repo): a safe folder name
    *[
        (q, v, frag)
        for q in ("project_slug", "atlas_repo")
        for v, frag in [
            ("a/b", "try 'a-b'"),
            ("..", "try 'app'"),
            ("a..b", "try 'a-b'"),
            ("my shop", "try 'my-shop'"),
            (".shop", "try 'shop'"),
            ("-shop", "try 'shop'"),
            ("Shop", "try 'shop'"),
            ("a" * 65, "at most 64"),
            ("", "must not be empty"),
            ("shop", OK),
            ("my-shop_2", OK),
            ("1shop", OK),
            ("a" * 64, OK),
        ]
    ],
    # port: an integer 1-65535, asked as text
    ("db_port", "0", "1-65535"),
    ("db_port", "65536", "1-65535"),
    ("db_port", "abc", "whole number"),
    ("db_port", "-1", "whole number"),
    ("db_port", "54.32", "whole number"),
    ("db_port", "", "whole number"),
    ("db_port", " 80", "whole number"),
    ("db_port", "²", "whole number"),  # str.isdigit() is True, int() raises
    ("db_port", "٣", "whole number"),  # Arabic-Indic 3: int() would accept it
    ("db_port", "080", "no leading 0"),
    ("db_port", "00", "whole number"),
    ("db_port", "80", OK),
    ("db_port", "1", OK),
    ("db_port", "65535", OK),
    ("db_port", "5432", OK),
    ("db_port", 5433, OK),
    # version: a supported major
    ("postgres_version", "13", "14, 15, 16, 17, 18"),
    ("postgres_version", "19", "14, 15, 16, 17, 18"),
    ("postgres_version", "17.2", "14, 15, 16, 17, 18"),
    ("postgres_version", "", "14, 15, 16, 17, 18"),
    *[("postgres_version", v, OK) for v in ("14", "15", "16", "17", "18")],
    ("postgres_version", 17, OK),
    # dev password: free text, escaped where it lands; one line, printable ASCII, no quotes
    ("db_password", "dev_password", OK),
    ("db_password", "p@ss/w:rd?#%&=+${x}%{y}$$", OK),
    ("db_password", "a" * 128, OK),
    ("db_password", "a" * 129, "at most 128"),
    ("db_password", "", "must not be empty"),
    ("db_password", "two words", "no spaces"),
    ("db_password", "it's", "quotes"),
    ('db_password', 'say"hi', "quotes"),
    ("db_password", "back`tick", "quotes"),
    ("db_password", "back\\slash", "\\"),
    ("db_password", "pässword", "ASCII"),
    ("db_password", "line\nbreak", "one line"),
    ("db_password", "tab\there", "one line"),
    # project name: free text, one printable line
    ("project_name", "My App", OK),
    ("project_name", "Ünïcødé \"quoted\" ${x} %{y} {{ z }} <b>&'", OK),
    ("project_name", "x" * 200, OK),
    ("project_name", "x" * 201, "at most 200"),
    ("project_name", "", "must not be empty"),
    ("project_name", "   ", "must not be empty"),
    ("project_name", "two\nlines", "one line"),
    ("project_name", "bell\x07", "one line"),
    ("project_name", "sep\u2028arator", "one line"),
    # package manager: one of those whose commands the template knows (the name reaches shell text)
    ("package_manager", "pnpm", OK),
    ("package_manager", "PNPM", "one of npm, pnpm, yarn, bun"),
    ("package_manager", "pnpm; rm -rf /", "one of npm, pnpm, yarn, bun"),
    # dev database: one of the modes
    ("dev_database", "shared", OK),
    ("dev_database", "Shared", "shared, embedded, docker or local"),
    # the shared mode's service and compose file, found at copy time (they reach sh and package.json)
    ("shared_service", "postgres", OK),
    ("shared_service", "db.main-1", OK),
    ("shared_service", "", OK),  # none found: copier.yml's shared_service_check names dev_database
    ("shared_service", "pg; rm -rf /", "a compose service name"),
    ("shared_service", "-pg", "a compose service name"),
    ("shared_compose_file", "../../../docker-compose.yml", OK),
    ("shared_compose_file", "../../../compose.dev.yaml", OK),
    ("shared_compose_file", "../x/compose.yaml", "../../../compose.yaml"),
    ("shared_compose_file", "../../../compose.yaml; rm -rf /", "../../../compose.yaml"),
    ("shared_compose_file", "/etc/compose.yaml", "../../../compose.yaml"),
    ("compose_file", "compose.db.yaml", OK),
    ("compose_file", "../../compose.yaml", "e.g. compose.yaml"),
    ("app_auth_config", "src/lib/auth.ts", OK),
    ("app_auth_config", "", OK),  # the template writes src/auth.ts
    ("app_auth_config", "src/auth.ts; touch /tmp/x", "e.g. auth.ts"),
]


def _id(case):
    question, value, fragment = case
    return f"{question}-{'ok' if fragment is None else 'bad'}-{value!r:.20}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_rule(case):
    question, value, fragment = case
    message = answer_error(value, question)
    if fragment is None:
        assert message == ""
    else:
        assert fragment in message, message  # the rule, or its fix (copier's prefix names the question)
        assert display_width(f"Validation error for question '{question}': {message}") <= 80, message


def test_every_rule_has_good_and_bad_cases():
    for question in RULES:
        outcomes = {fragment is None for q, _, fragment in CASES if q == question}
        assert outcomes == {True, False}, question


def test_every_free_text_question_has_a_validator():
    """copier.yml: each question a user answers, except plain choices and booleans, is validated by
    its rule (questions never asked are computed from the destination)."""
    import yaml

    from tests.helpers.releases import TEMPLATE_ROOT

    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    questions = {k: v for k, v in config.items() if not k.startswith("_") and v.get("when", True) is not False}
    # better_auth_plugins has its own rule: extensions/better_auth.py plugins_error (tested there).
    validated = {k for k, v in questions.items() if "validator" in v} - {"better_auth_plugins"}
    assert validated == set(RULES)  # also the never-asked answers --data may set (they reach scripts)
    for name in validated:  # answer_error(value, question[, destination[, adopted_domains]])
        assert questions[name]["validator"] in (
            f"{{{{ {name} | answer_error('{name}') }}}}", f"{{{{ {name} | answer_error('{name}', _copier_conf.dst_path) }}}}",
            f"{{{{ {name} | answer_error('{name}', _copier_conf.dst_path, adopted_domains | default([])) }}}}")
    unvalidated = {k for k, v in questions.items() if v.get("ask", True)} - validated
    for name in unvalidated:  # only closed questions may go without a validator
        assert questions[name]["type"] == "bool" or "choices" in questions[name], name


def test_keywords_match_pglast():
    """extensions/pg_keywords.py is generated from pglast: a pglast bump must regenerate it."""
    expected = keywords.RESERVED_KEYWORDS | keywords.TYPE_FUNC_NAME_KEYWORDS
    assert sql_text.PG_RESERVED == expected, "run maint/pg_keywords.py"
    assert {"select", "user", "table", "authorization", "left"} <= sql_text.PG_RESERVED


def test_suggestions_are_valid_identifiers():
    for question, value in [
        *[(q, v) for q in ("db_name", "db_user") for v in ("My Shop", "1shop", "ÄÖ", "---", "Select", "PG_X", "A" * 80)],
        ("db_user", "Public"), ("db_name", "Template1"), ("domains", ["Auth"]),
    ]:
        message = answer_error(value, question)
        suggestion = re.search(r"try '([^'\u2026]*)'", message)  # shown whole when it fits the line
        if len(value) > 30:
            continue  # a long value's suggestion may not fit on the line; the rule is shown instead
        assert suggestion, message
        good = [suggestion.group(1)] if question == "domains" else suggestion.group(1)
        assert answer_error(good, question) == "", (value, suggestion.group(1))


@pytest.mark.parametrize("slug", ["shop", "my-shop", "x" * 64, "a" + "-b" * 31, "select", "pg-admin", "1st"])
def test_default_database_and_owner_are_valid_for_any_slug(slug):
    """copier does not validate defaults taken with --defaults: they must be valid by construction."""
    assert answer_error(slug, "project_slug") == ""
    db_name = rules.to_identifier(slug)
    assert answer_error(db_name, "db_name") == ""
    assert answer_error(defaults.owner_role(db_name), "db_user") == ""


@pytest.mark.parametrize(
    "destination, name, slug",
    [
        ("apps/shop/server", "Whatever", "shop"),
        ("/tmp/x", "My Shop!", "my-shop"),
        ("/tmp/x", "!!!", "app"),
        ("/tmp/x", "Ünïcødé Shop", "n-c-d-shop"),
        ("/tmp/x", "x" * 100, "x" * 64),
    ],
)
def test_default_slug_is_a_valid_slug(destination, name, slug):
    assert defaults.default_slug(destination, name) == slug
    assert answer_error(slug, "project_slug") == ""


def test_prompts_and_messages_fit_80_columns():
    """At 80 columns a prompt shows '🎤 <help>' and a refusal one line, 'Validation error for question
    'q': <message>'; longer lines are cut, and the fix with them. Every help text and choice label,
    and the message for every bad value of the validation tables, fits."""
    import jinja2
    import yaml

    from tests.helpers.releases import TEMPLATE_ROOT
    from tests.test_bad_input import BAD

    config = yaml.safe_load((TEMPLATE_ROOT / "copier.yml").read_text())
    for name, question in config.items():
        if name.startswith("_") or "help" not in question:
            continue
        lines = jinja2.Template(question["help"]).render().splitlines()
        assert display_width("🎤 " + lines[0]) <= 80, name
        assert all(display_width(line) <= 80 for line in lines[1:]), name
        labels = question.get("choices", [])
        assert all(display_width(f"  » {label}") <= 80 for label in labels), name
    for question, value, fragment in [*CASES, *BAD]:
        if fragment is not None and question in RULES:
            message = answer_error(value, question)
            assert display_width(f"Validation error for question '{question}': {message}") <= 80, message
