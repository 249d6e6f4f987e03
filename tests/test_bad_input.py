"""Bad answers through real `copier copy --data`: refused, named, and nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import copier
import pytest
import yaml
from copier.errors import UserMessageError

from copier_atlas_postgres.world.better_auth import PLUGINS

# One bad value per rule family: (question, value as typed after --data, what the message must say).
BAD = [
    ("project_name", "", "must not be empty"),
    ("project_slug", "../evil", "try 'evil'"),
    ("atlas_repo", "my repo", "try 'my-repo'"),
    ("db_name", "Select", "try 'my_select'"),
    ("db_name", "select", "reserved"),
    ("db_user", "pg_owner", "try 'owner'"),
    ("db_user", "public", "try 'public_owner'"),
    ("db_password", "it's", "quotes"),
    ("db_port", "abc", "1-65535"),
    ("db_port", "65536", "1-65535"),
    ("postgres_version", "13", "one of 14, 15, 16, 17, 18"),
    ("domains", "[asset, user]", "'user': reserved: try 'user_data'"),
    ("domains", "[auth]", "pick another"),
    ("domains", "[asset, asset]", "lists asset twice"),
    ("domains", "asset", "YAML list"),
    # The rules the rows above do not reach, one value each.
    ("project_name", "x" * 201, "at most 200 characters"),
    ("project_slug", ".hidden", "try 'hidden'"),
    ("project_slug", "..", "try 'app'"),
    ("project_slug", "store", "'store': the folder is 'shop'"),
    ("db_name", "a" * 64, "63 bytes"),
    ("db_name", "template0", "template"),
    ("db_user", "none", "try 'none_owner'"),
    ("db_password", "back\\slash", "\\"),
    ("db_password", "two words", "no spaces"),
    ("db_port", "0", "1-65535"),
    ("db_port", "080", "no leading 0"),
    ("domains", "[pg_stuff]", "try 'stuff'"),
    ("domains", "[information_schema]", "pick another"),
    ("domains", "[Asset]", "try 'asset'"),
]
# Edge values each rule must accept, through the same call (one project written per value).
GOOD = [
    ("project_name", "Ünïcødé & Co. \"quoted\" ${x} %{y} #1"),
    ("project_slug", "a" * 64),
    ("project_slug", "9lives_shop-2"),
    ("db_name", "a" * 63),
    ("db_name", "int"),  # an unreserved keyword is a fine name
    ("db_user", "shop_owner"),
    ("db_password", "p@ss:w/rd?#%{}$[]"),
    ("db_port", "1"),
    ("db_port", "65535"),
    ("postgres_version", "14"),
    ("domains", "[]"),
    ("domains", "[asset, portfolio, feed, " + "d" * 63 + "]"),
    ("atlas_repo", "shop-schemas"),
]
BASE = {"project_name": "Demo Shop", "project_slug": "shop", "use_better_auth": False}


def snapshot(root: Path) -> dict[str, tuple]:
    """Every path under root with its kind, bytes, mode and mtime."""
    state = {}
    for path in sorted(root.rglob("*")):
        stat = path.lstat()
        content = path.read_bytes() if path.is_file() else None
        state[str(path.relative_to(root))] = (stat.st_mode, stat.st_mtime_ns, content)
    return state


def copy(template: Path, destination: Path, question: str, value: str) -> None:
    copier.run_copy(
        str(template), str(destination), data={**BASE, question: value},
        defaults=True, unsafe=True, vcs_ref="HEAD", quiet=True,
    )


# Every case into an existing destination (the stricter check); one per family also into a new one.
NEW_DESTINATION = {"project_slug", "db_name", "db_password", "db_port", "postgres_version", "domains"}
CASES = [
    pytest.param(q, v, rule, existing, id=f"{q}={v}-{'existing' if existing else 'new'}-dst")
    for existing in (True, False)
    for index, (q, v, rule) in enumerate(BAD)
    if existing or (q in NEW_DESTINATION and q not in {b[0] for b in BAD[:index]})
]


@pytest.mark.parametrize("question, value, rule, existing", CASES)
def test_bad_answer_is_refused_and_nothing_is_written(template_dir, tmp_path, question, value, rule, existing):
    destination = tmp_path / "apps" / "shop" / "server"
    if existing:
        destination.mkdir(parents=True)
        (destination / "notes.txt").write_text("mine\n")
        (destination / "package.json").write_text('{"name": "the-app", "scripts": {"dev": "bun run x"}}\n')
    before = snapshot(tmp_path)

    with pytest.raises((ValueError, UserMessageError)) as caught:  # the latter: stopped before any question
        copy(template_dir, destination, question, value)

    message = str(caught.value)
    assert f"'{question}'" in message, message  # copier names the question...
    assert rule in message, message  # ...and our message the rule
    assert snapshot(tmp_path) == before  # no destination created, existing one untouched, no ../evil
    assert destination.exists() == existing


@pytest.mark.parametrize("question, value", GOOD, ids=[f"{q}={v[:20]}" for q, v in GOOD])
def test_good_answer_is_accepted_and_recorded(template_dir, tmp_path, question, value):
    """The control: the same call with an edge value the rule accepts writes the project."""
    folder = value if question == "project_slug" else "shop"  # the slug is the folder's name
    destination = tmp_path / "apps" / folder / "server"
    copy(template_dir, destination, question, value)
    recorded = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    expected = yaml.safe_load(value) if question == "domains" else value
    assert recorded[question] == expected
    assert (destination / "package.json").is_file()


def test_cli_shows_question_and_rule(template_dir, tmp_path):
    """What a person sees from the command line: exit 1 and the message, no project folder."""
    destination = tmp_path / "server"
    env = {**os.environ, "NO_COLOR": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "copier", "copy", "--trust", "--defaults", "--vcs-ref", "HEAD",
         "--data", "use_better_auth=false", "--data", "domains=[asset, select]",
         str(template_dir), str(destination)],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == "Validation error for question 'domains': 'select': reserved: try 'select_data'"
    assert "Traceback" not in result.stderr
    assert not destination.exists()


# ---- The prompts as a person meets them -------------------------------------

CLEAR = "\x15"  # Ctrl-U: prompts start with the default filled in; clear it before typing
ENTER = "\r"


def test_interactive_prompt_refuses_then_accepts(template_dir, tmp_path):
    """`copier copy` in a pseudo-terminal: bad answers are shown the rule and asked again."""
    pexpect = pytest.importorskip("pexpect")
    destination = tmp_path / "apps" / "typed" / "server"
    # PROMPT_TOOLKIT_NO_CPR: pexpect never answers the cursor-position query, which costs ~1 s a prompt.
    env = {**os.environ, "TERM": "xterm", "NO_COLOR": "1", "PROMPT_TOOLKIT_NO_CPR": "1"}
    child = pexpect.spawn(
        sys.executable, ["-m", "copier", "copy", "--trust", "--vcs-ref", "HEAD", str(template_dir), str(destination)],
        env=env, dimensions=(40, 200), encoding="utf-8", timeout=30,
    )
    screen = []
    child.logfile_read = _Collect(screen)
    # (text to wait for on screen, keys to type)
    steps = [
        ("Name of the app", CLEAR + "Typed Shop" + ENTER),
        ("Folder name under apps/", ENTER),  # default from apps/typed/server: typed
        ("package manager", ENTER),  # no workspace around the destination: npm
        ("Where the development database runs", ENTER),  # no monorepo PostgreSQL: embedded
        ("PostgreSQL database name", ENTER),
        ("PostgreSQL user that owns the database", ENTER),
        ("Password of the local dev database", CLEAR + "p@ss/w${x}%{y}" + ENTER),
        ("PostgreSQL major version", ENTER),
        ("Host port of the local development database", CLEAR + "abc" + ENTER),
        ("Validation error for question 'db_port': a whole number 1-65535, no leading 0",
         CLEAR + "6543" + ENTER),
        ("Business domains", CLEAR + "[asset, select]" + ENTER),
        ("Validation error for question 'domains': 'select': reserved: try 'select_data'",
         CLEAR + "[asset, portfolio]" + ENTER),
        ("Atlas schema registry repository name", ENTER),
        ("Atlas Pro", ENTER),
        ("How production gets schema changes", "\x1b[B" + ENTER),  # arrow down: versioned
        ("Does the server use Better Auth", "y"),
        ("Better Auth plugins", ""),
        ("stripe", ENTER),  # the last plugin offered is on screen: choose none
    ]
    try:
        for text, keys in steps:
            child.expect_exact(text)
            child.send(keys)
        child.expect(pexpect.EOF)
    except (pexpect.TIMEOUT, pexpect.EOF) as error:
        raise AssertionError(f"waiting for {text!r}; screen so far:\n{''.join(screen)[-3000:]}") from error
    child.close()
    assert child.exitstatus == 0, "".join(screen)[-3000:]
    # The plugins offered are the Better Auth data's, in its order (copier.yml renders them from it).
    drawn = "".join(screen)
    offered = drawn[drawn.index("Better Auth plugins"):]
    positions = [offered.find(f" {plugin}") for plugin in PLUGINS]
    assert -1 not in positions, dict(zip(PLUGINS, positions, strict=True))
    assert positions == sorted(positions), dict(zip(PLUGINS, positions, strict=True))

    import yaml

    recorded = yaml.safe_load((destination / ".copier-answers.yml").read_text())
    assert recorded["db_port"] == "6543"
    assert recorded["domains"] == ["asset", "portfolio"]
    assert recorded["production_path"] == "versioned"
    assert recorded["better_auth_plugins"] == []
    assert recorded["db_password"] == "p@ss/w${x}%{y}"
    assert (recorded["project_slug"], recorded["db_name"], recorded["db_user"]) == ("typed", "typed", "typed_owner")
    assert recorded["dev_database"] == "embedded"  # the default, chosen with Enter
    assert "@localhost:6543/typed?" in (destination / "atlas.hcl").read_text()
    assert sorted(p.name for p in (destination / "schemas").glob("20_*")) == ["20_asset.sql", "20_portfolio.sql"]


class _Collect:
    """pexpect log sink that keeps what the program drew (shown when a step times out)."""

    def __init__(self, into: list):
        self.into = into

    def write(self, text: str) -> None:
        self.into.append(text)

    def flush(self) -> None:
        pass
