"""What is already in the destination of `copier copy`, read before anything is written.

Most `apps/<project>/server/` folders exist before the template reaches them: an app server with
its own package.json and code, or a server whose database was built by hand from the convention
doc (handmade_server.py). copier.yml asks this module

* which existing files would stop the copy (`copy_problems`: refused before any question; only
  what an interrupted earlier copy wrote is cleared first),
* where the app's own Better Auth config and compose file are (`app_auth_config`, `compose_file`:
  the template then leaves them alone), and
* for a hand-made convention-doc server, the answers its files already give (`existing_answers`),
  and the answers' rules that depend on them (`answer_error`, `given_answer_error`).

A copy over a folder the template generated and that is committed is refused: it names `copier update`.
"""

from __future__ import annotations

import json
from pathlib import Path

from . import answers, workspace
from .git import git, lock_advice, stale_index_lock
from .layout import ANSWERS_FILE, AUTH_CONFIG_PLACES, COMPOSE_FILES, COPY_STARTED, SHARED_FILES, SIDE_COMPOSE_FILE, TEMPLATE_FILES, WRITTEN


def copier_operation() -> str | None:
    """'copy' or 'update' while copier runs, else None: the value copier's tasks get as
    _copier_operation, which copier 9.19 keeps in a context variable of its own (an update renders
    the new version through its copy, so a question sees no other sign of which one runs)."""
    try:
        from copier._main import _operation
    except ImportError:
        return None
    return _operation.get(None)


def is_generated(dst: Path) -> bool:
    return (Path(dst) / ANSWERS_FILE).is_file()


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


# ---- a server built by hand from the convention doc ----------------------------------------------


def convention_server(dst: object):
    """The hand-made server in DST (a handmade_server.ConventionServer: atlas.hcl and schemas/*.sql,
    or schema files alone), or None. ValueError when its atlas.hcl cannot be read."""
    dst = Path(str(dst))
    if is_generated(dst) or not any((dst / "schemas").glob("*.sql")):
        return None
    from . import handmade_server  # only a destination with schema files needs the SQL and HCL readers

    hcl = dst / "atlas.hcl"
    return handmade_server.read_convention_server(dst, hcl.read_text() if hcl.is_file() else None)


_answers_cache: dict[tuple, dict] = {}


def existing_answers(dst: object) -> dict:
    """Answer defaults from a hand-made convention-doc server in DST (empty for any other folder).
    Only values that pass the question's own rule are offered."""
    dst = Path(str(dst))
    if not any((dst / "schemas").glob("*.sql")):
        return {}
    key = (str(dst.resolve()), _signature(dst))
    if key not in _answers_cache:
        try:
            server = convention_server(dst)
        except ValueError:  # an unreadable atlas.hcl: the copy is refused before any question
            server = None
        found = server.answers() if server else {}
        _answers_cache[key] = {k: v for k, v in found.items() if k not in answers.RULES
                               or not answers.answer_error(v, k, None, found.get("adopted_domains"))}
    return _answers_cache[key]


# The questions whose defaults the shared dev database's service gives, and its settings they take.
SHARED_DEFAULTS = {"user": "db_user", "password": "db_password", "version": "postgres_version"}


def dev_database_default(dst: object) -> str:
    """`shared` where the monorepo's root compose file runs a PostgreSQL (for a hand-made server:
    the one its atlas.hcl reaches, on that port), else what a hand-made server says, else `embedded`."""
    found = existing_answers(dst)
    shared = workspace.shared_postgres(dst)
    if shared is not None and found.get("db_port", shared.port) == shared.port:
        return "shared"
    return found.get("dev_database", "embedded")


def shared_default(dst: object, dev_database: object, setting: str, fallback: object) -> object:
    """In the shared dev database mode, the service's SETTING when it passes its question's rule; else FALLBACK."""
    if dev_database != "shared":
        return fallback
    value = workspace.shared_postgres_setting(dst, setting, None)
    question = SHARED_DEFAULTS.get(setting)
    if value is None or (question and answers.RULES[question](value)):
        return fallback
    return value


def _signature(dst: Path) -> tuple:
    paths = [dst / "atlas.hcl", dst / ANSWERS_FILE, *sorted((dst / "schemas").glob("*.sql"))]
    return tuple((p.name, p.stat().st_mtime_ns, p.stat().st_size) for p in paths if p.is_file())


# ---- what stops a copy -----------------------------------------------------------------------------


def copy_problems(dst: object, overwrite: bool = False) -> list[str]:
    """Why `copier copy` into DST would replace or break the app's files (one line each, with the
    way out), or [] when it can go ahead. Only what an interrupted earlier copy wrote is cleared
    first (clear_interrupted_copy); nothing of the app's is changed."""
    return copy_refusal(dst, overwrite)[0]


def copy_refusal(dst: object, overwrite: bool = False) -> tuple[list[str], list[str]]:
    """copy_problems, and the shell commands that put a database schema the template cannot adopt
    as it is into the layout it adopts (server_layout.py; [] when there is none to print)."""
    dst = Path(str(dst))
    if (dst / COPY_STARTED).is_file() and (lock := stale_index_lock(dst)):
        return [lock_advice(lock)], []  # an interrupted copy cannot be undone while git is locked
    clear_interrupted_copy(dst)
    if is_generated(dst) and copier_operation() == "copy" and \
            git(dst, "ls-files", "--error-unmatch", "--", ANSWERS_FILE, check=False).returncode == 0:
        return [f"{ANSWERS_FILE}: this folder is generated and committed; copying again would write over"
                f" your edits. Template changes come with: copier update --trust --defaults {dst}"], []
    if not dst.is_dir() or is_generated(dst):
        return [], []
    from . import server_layout

    problems, commands, server = [], [], None
    try:
        layout = server_layout.read_layout(dst)
        if not layout.problems:
            server = convention_server(dst)
    except ValueError as error:  # atlas.hcl: its dev database and settings would be lost: refuse
        return [f"atlas.hcl: {error}; it cannot be read, so adopting it would lose its settings: fix it,"
                " then copy again"], []
    for pattern in TEMPLATE_FILES:
        if server is not None and pattern.startswith("schemas/"):
            continue  # the team's schema files: adoption moves them
        for path in sorted(dst.glob(pattern)):
            rel = path.relative_to(dst).as_posix()
            if path.is_file() or any(path.iterdir()):
                problems.append(f"{rel}: the template writes this path; move yours elsewhere first")
    problems += filter(None, (symlink_problem(dst, name) for name in SHARED_FILES))
    if compose_file(dst) == SIDE_COMPOSE_FILE and (dst / SIDE_COMPOSE_FILE).exists():
        problems.append(f"{SIDE_COMPOSE_FILE}: the template's database service goes there (you have"
                        " another compose file too); rename yours")
    if (dst / "package.json").is_file():
        try:
            if not isinstance(json.loads((dst / "package.json").read_text()), dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            problems.append(f"package.json: not valid JSON ({error}); fix it, then copy again")
    problems += layout.problems
    commands = layout.commands(dst)
    if server is not None:
        problems += server.name_problems() + server.list_problems() + server.load_plan().problems
        problems += _adoption_problems(dst, [f.path for f in server.files], overwrite)
    return problems, commands


def _adoption_problems(dst: Path, schema_files: list[str], overwrite: bool) -> list[str]:
    problems = []
    hcl = ["atlas.hcl"] if (dst / "atlas.hcl").is_file() else []
    if not overwrite:
        replaced = "the new atlas.hcl replaces it; what the old one set that the template does not is" \
                   " listed after the copy" if hcl else "its schema files move onto the template's names"
        problems.append(f"{(hcl or ['schemas/'])[0]}: a server built by hand (the convention doc's layout); to"
                        f" adopt it, run the same command with --overwrite ({replaced})")
    status = git(dst, "status", "--porcelain", "--", *hcl, "schemas", check=False)
    tracked = git(dst, "ls-files", "--error-unmatch", *hcl, *schema_files, check=False)
    if status.returncode or tracked.returncode:
        problems.append(f"{', '.join([*hcl, 'schemas/'])}: adopting moves them with `git mv`; put the server in"
                        " git and commit them first")
    elif status.stdout.strip():
        problems.append(f"{', '.join([*hcl, 'schemas/'])}: uncommitted changes; commit them first (adoption moves"
                        " the files with their history)")
    return problems


def symlink_problem(project: Path, name: str) -> str:
    """Why the template must not write the shared file NAME: a symlink out of the server ('' if fine)."""
    path = project / name
    if not path.is_symlink():
        return ""
    target = path.resolve()
    if target.is_relative_to(project.resolve()):
        return ""
    return (f"{name} is a symlink to {target}, outside this server: the template does not write"
            f" through it; replace the link with a file, or merge .copier/ into it by hand")


def clear_interrupted_copy(dst: Path) -> list[str]:
    """Put DST back as an interrupted copy found it, so running the same command again finishes that
    copy: what the copy wrote (paths the template writes that were not there when it started, per
    COPY_STARTED, and that the last commit does not hold) is removed; what an adoption had begun
    (staged moves, files moved away) is taken back from the last commit. Returns the removed paths."""
    marker = dst / COPY_STARTED
    if not marker.is_file():
        return []
    try:
        before = set(json.loads(marker.read_text()))
    except ValueError:
        return []  # unreadable: touch nothing
    in_git = git(dst, "rev-parse", "--is-inside-work-tree", check=False).returncode == 0
    committed = set(git(dst, "ls-tree", "-r", "-z", "--name-only", "HEAD", check=False).stdout.split("\0")) if in_git else set()
    written = {p for pattern in WRITTEN for found in dst.glob(pattern)
               for p in ([found] if found.is_file() or found.is_symlink() else found.rglob("*")) if not p.is_dir()}
    removed = sorted(rel for rel in (p.relative_to(dst).as_posix() for p in written)
                     if rel not in before and rel not in committed)
    for rel in removed:
        (dst / rel).unlink()
    for folder in sorted({(dst / rel).parent for rel in removed}, key=lambda p: len(p.parts), reverse=True):
        if folder != dst and folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()
    if in_git:
        git(dst, "reset", "-q", "--", ".", check=False)  # the index as the last commit has it; no file changes
        # An adoption starts only with atlas.hcl and schemas/ committed, so their committed text is the
        # team's; any other file comes back only where the copy left it missing.
        adopted = [rel for rel in before & committed if rel == "atlas.hcl" or rel.startswith("schemas/")]
        if back := sorted({*adopted, *(rel for rel in before & committed if not (dst / rel).exists())}):
            git(dst, "checkout", "HEAD", "--", *back, check=False)
    return removed


def mark_copy_started(dst: object) -> str:
    """COPY_STARTED in DST, listing the files there now (kept from a first, interrupted attempt):
    copier.yml's last question, computed once every answer is in and before copier writes."""
    dst = Path(str(dst))
    marker = dst / COPY_STARTED
    if marker.exists() or is_generated(dst):
        return ""
    dst.mkdir(parents=True, exist_ok=True)
    files = sorted(p.relative_to(dst).as_posix() for p in dst.rglob("*") if p.is_file() and ".git" not in p.parts)
    marker.write_text(json.dumps(files) + "\n")
    return ""


def refuse_copy_problems(dst: object, overwrite: bool = False) -> str:
    """copier.yml's first check: stop with one clear message (exit 1, nothing written) or return ''."""
    problems, commands = copy_refusal(dst, overwrite)
    if not problems:
        return ""
    from copier.errors import UserMessageError

    lines = [f"Nothing was written: copying into {dst} would replace your files or leave them out of Atlas.",
             *(f"  - {line}" for line in problems)]
    if commands:
        lines += ["These commands put them where the template adopts them (git mv keeps their history; point",
                  "whatever else reads them, such as sqlc or a compose init script, at the new paths); run",
                  "them, then copy again with --overwrite (README, \"A server that already exists\"):",
                  *(f"    {command}" for command in commands)]
    raise UserMessageError("\n".join(lines))


def refuse_given_answers(data: object, dst: object) -> str:
    """copier.yml's check of the answers given with `--data`: a bad one stops the run in one line
    (exit 1, nothing written), before any question; '' when all are fine."""
    if message := given_answer_error(data, dst):
        from copier.errors import UserMessageError

        raise UserMessageError(message)
    return ""


def refuse_shared_without_service(dev_database: object, shared_service: object) -> str:
    """The `shared` dev database where the monorepo's root compose file has no PostgreSQL service
    (shared_service found none): stop in one line naming the question (exit 1, nothing written)."""
    if dev_database != "shared" or shared_service:
        return ""
    from copier.errors import UserMessageError

    raise UserMessageError(f"Validation error for question 'dev_database': {answers.fit('dev_database', workspace.NO_SHARED_POSTGRES)}")


# ---- the answers' rules that depend on what the destination already holds ----------------------


def answer_error(value: object, question: str, dst: object = None, adopted_domains: object = None) -> str:
    """copier.yml's validators: answers.py's rule for QUESTION, then, adopting a hand-made server,
    the rule that every schema its files define stays a domain ('' if fine)."""
    message = answers.answer_error(value, question, dst, adopted_domains)
    if not message and question == "domains" and dst and isinstance(value, list):
        message = answers.fit(question, adoption_domains_error(value, dst))
    return message


def adoption_domains_error(value: list, dst: object) -> answers.Problem | str:
    """Adopting a hand-made server: every schema its files define stays a domain (else Atlas would
    stop managing it, and a later domain:add would write a second file for it)."""
    theirs = existing_answers(dst).get("adopted_domains") or []
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
    for question, value in data.items():
        if question not in answers.RULES:
            continue
        if question == "domains" and isinstance(value, str):  # a YAML question: copier parses it later
            try:
                value = yaml.safe_load(value)
            except yaml.YAMLError:
                return f"Validation error for question 'domains': {answers.fit('domains', answers.domains_error(None))}"
        adopted = given_adopted_domains(data, dst) if question == "domains" else None
        if message := answer_error(value, question, dst, adopted):
            return f"Validation error for question '{question}': {message}"
    return ""


def given_adopted_domains(data: dict, dst: object) -> list[str]:
    """The adopted_domains answer a run with DATA into DST will have: given (an update renders the
    project's last answers again), recorded in the project's answers file, or what a hand-made
    server's files define."""
    if "adopted_domains" in data:
        return answers.adopted_list(data["adopted_domains"])
    recorded_file = Path(str(dst or "")) / ANSWERS_FILE
    if dst and recorded_file.is_file():
        import yaml  # copier's own dependency

        try:
            recorded = yaml.safe_load(recorded_file.read_text())
        except yaml.YAMLError:
            return []
        return answers.adopted_list(recorded.get("adopted_domains") if isinstance(recorded, dict) else None)
    return answers.adopted_list(existing_answers(dst).get("adopted_domains")) if dst else []
