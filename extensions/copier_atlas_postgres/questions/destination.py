"""What refuses a copy, read before anything is written; and the marker that lets an interrupted
copy be run again.

Most `apps/<project>/server/` folders exist before the template reaches them: an app server with
its own package.json and code, or a server whose database was built by hand from the convention
doc (world/handmade_server.py). `copy_problems` says which existing files stop the copy (refused
before any question; only what an interrupted earlier copy wrote is cleared first). A copy over a
folder the template generated and that is committed is refused: it names `copier update`.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..atomic import write_atomically
from ..git import git, lock_advice, stale_index_lock
from ..project_files import (
    ANSWERS_FILE,
    COPY_STARTED,
    MERGED_FILES,
    ROLL_BACK,
    SIDE_COMPOSE_FILE,
    TEMPLATE_FILES,
    UPDATE_STARTED,
    WRITTEN,
    is_generated,
)
from . import adopted_names
from .defaults import compose_file


def copier_operation() -> str | None:
    """'copy' or 'update' while copier runs, else None: the value copier's tasks get as
    _copier_operation, which copier 9.19 keeps in a context variable of its own (an update renders
    the new version through its copy, so a question sees no other sign of which one runs)."""
    try:
        from copier._main import _operation
    except ImportError:
        return None
    return _operation.get(None)


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
    from ..world import handmade_server, schema_sources

    problems, commands, server = [], [], None
    try:
        layout = schema_sources.read_layout(dst)
        if not layout.problems:
            server = handmade_server.in_destination(dst)
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
    problems += shared_file_problems(dst, "copy")
    if compose_file(dst) == SIDE_COMPOSE_FILE and (dst / SIDE_COMPOSE_FILE).exists():
        problems.append(f"{SIDE_COMPOSE_FILE}: the template's database service goes there (you have"
                        " another compose file too); rename yours")
    problems += layout.problems
    commands = layout.commands(dst)
    if server is not None:
        problems += adopted_names.name_problems(server) + server.list_problems() + server.load_plan().problems
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


def shared_file_problems(dst: Path, command: str) -> list[str]:
    """What would stop the merge of the shared files (tasks/merged_files.py): checked before
    anything is written, so the copy or update does not stop half-way."""
    problems = [p for p in (symlink_problem(dst, name) for name in MERGED_FILES) if p]
    if (dst / "package.json").is_file():
        try:
            if not isinstance(json.loads((dst / "package.json").read_text()), dict):
                raise ValueError("not a JSON object")
        except ValueError as error:
            problems.append(f"package.json: not valid JSON ({error}); fix it, then {command} again")
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
    write_atomically(marker, json.dumps(files) + "\n")
    return ""


# ---- what stops an update ----------------------------------------------------------------------------


def update_problems(dst: Path) -> list[str]:
    """Why `copier update` of DST must not start (one line each, with the way out), or []."""
    problems = []
    # copier refuses a folder holding an uncommitted UPDATE_STARTED ("dirty") before it asks
    # anything: one found here that git has is a half-applied update someone committed.
    if commit := git(dst, "log", "-1", "--format=%h", "--", UPDATE_STARTED, check=False).stdout.strip():
        if git(dst, "ls-files", "--error-unmatch", "--", UPDATE_STARTED, check=False).returncode == 0:
            problems.append(f"{UPDATE_STARTED}: commit {commit} holds an interrupted update, made before your"
                            f" edits were put back; undo it, then update again:\n      git revert --no-edit {commit}")
    return problems + shared_file_problems(dst, "update")


def mark_update_started(dst: object) -> str:
    """UPDATE_STARTED in DST when an update is about to write there (copier.yml's last question),
    after update_problems found nothing: stops in one line otherwise, nothing written."""
    dst = Path(str(dst)).resolve()
    if copier_operation() != "update" or not is_generated(dst):
        return ""  # a copy, or a version copier renders in a scratch folder
    if problems := update_problems(dst):
        from copier.errors import UserMessageError

        raise UserMessageError("\n".join([f"Nothing was written: updating {dst} would stop half-way.",
                                           *(f"  - {line}" for line in problems)]))
    write_atomically(dst / UPDATE_STARTED, (
        "An update of this folder started and has not finished. If no update is running, it was\n"
        f"interrupted: do not commit. Put the folder back, then update again:\n    {ROLL_BACK}\n"))
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
