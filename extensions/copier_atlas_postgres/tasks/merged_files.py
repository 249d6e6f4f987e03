"""Merge the template's part of the files it shares with the app: package.json, .gitignore, .env, .env.example.

An app server already has these files (its dependencies, its own scripts, its own settings), so the
template never writes them whole. It renders its part into `.copier/` (template-owned, updated by
copier like any generated file), and after `copier copy` and every `copier update`
(tasks.py after-copy, after-update) this module merges that part into the app's files:

* package.json: the template's `scripts`, `dependencies` and `devDependencies` entries. Only those objects are
  rewritten (with the file's own indentation); every other key, and the bytes around them, stay.
* .gitignore: missing lines are added; nothing is removed.
* .env and .env.example: the template's keys (database settings, Better Auth) are added when
  missing; every other line stays byte for byte. BETTER_AUTH_SECRET gets a fresh random value in
  .env (never changed afterwards) and the placeholder in .env.example.

Each entry is merged three ways, like copier's own update: BASE is the template's part as the last
commit holds it (copier updates only a committed folder, and an update that stopped is undone, not
committed: its files and the base go back together; absent on a first copy, and for .env when the
file does not exist yet, as in a fresh clone), NEW is the part just rendered, CURRENT is the app's
file. Every file is written whole or not at all (atomic.py).

* CURRENT equals NEW: nothing to do. Missing and never offered before: added.
* CURRENT equals BASE (the user did not touch it): the template's change is applied.
* Otherwise the user's value wins in package.json (their edit of a template script survives; the
  output names it with the template's new value), while in .env the template's value wins when the
  answers changed it (.env must follow the answers that atlas.hcl and compose.yaml follow).
* An entry the user deleted stays deleted; an entry the template dropped is removed if untouched.

Plain functions (stdlib and copier's own packages: this runs in the user's copier environment);
tests call them directly.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from ..atomic import write_atomically
from ..git import committed, git
from ..project_files import ANSWERS_FILE, MERGED_FILES
from ..questions.destination import symlink_problem
from ..world import app_runtime

FRAGMENTS = Path(".copier")
PACKAGE_FRAGMENT = FRAGMENTS / "package.fragment.json"
ENV_FRAGMENT = FRAGMENTS / "env.fragment"
GITIGNORE_FRAGMENT = FRAGMENTS / "gitignore.fragment"
FRAGMENT_FILES = (PACKAGE_FRAGMENT, ENV_FRAGMENT, GITIGNORE_FRAGMENT)
# Where earlier versions recorded the fragments as last merged: read once, as that base, then removed.
OLD_MERGE_BASE = FRAGMENTS / "merge-base.json"
PACKAGE_SECTIONS = ("scripts", "dependencies", "devDependencies")
# Per-machine secrets: generated once in .env, a placeholder in .env.example, never rewritten.
SECRET_KEYS = frozenset({"BETTER_AUTH_SECRET"})


@dataclass
class Report:
    """What a merge did, one line per fact, for the copy/update output (never a secret's value)."""

    lines: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # the user's version won: worth a look

    def add(self, line: str) -> None:
        self.lines.append(line)

    def keep(self, line: str) -> None:
        self.kept.append(line)


# ---- three-way merge of named entries ----------------------------------------------------------


def merge_entries(current: dict, base: dict | None, new: dict, *, user_wins: bool) -> tuple[dict, dict]:
    """Merge the template's entries NEW into CURRENT, knowing what the template wrote last (BASE).

    Returns (merged, changes): merged keeps CURRENT's order with new keys appended; changes maps each
    key to 'added', 'updated', 'removed', 'kept' (the user's differing value won) or 'replaced'
    (the template's new value won over the user's own).
    """
    merged = dict(current)
    changes: dict[str, str] = {}
    base = base or {}
    for key, value in new.items():
        if key not in current:
            if key not in base:  # never offered before (or a first copy): add it
                merged[key] = value
                changes[key] = "added"
            # else: the user deleted the template's entry; respect that
        elif current[key] == value:
            continue
        elif key in base and current[key] == base[key]:
            merged[key] = value
            changes[key] = "updated"
        elif key in base and base[key] == value:
            continue  # the template did not change it: the user's value stands, nothing to say
        elif key in base and not user_wins:
            merged[key] = value
            changes[key] = "replaced"
        else:
            changes[key] = "kept"
    for key, value in base.items():
        if key not in new and key in current and current[key] == value:
            del merged[key]
            changes[key] = "removed"
    return merged, changes


# ---- package.json -------------------------------------------------------------------------------

_DECODER = json.JSONDecoder()
_WHITESPACE = re.compile(r"[ \t\n\r]*")


def _skip(text: str, index: int) -> int:
    return _WHITESPACE.match(text, index).end()


def top_level_members(text: str) -> tuple[dict[str, tuple[int, int]], int]:
    """Spans (start, end) of each top-level member's value, and the index of the closing brace."""
    index = _skip(text, 0)
    if text[index:index + 1] != "{":
        raise ValueError("package.json must hold a JSON object")
    spans: dict[str, tuple[int, int]] = {}
    index = _skip(text, index + 1)
    while text[index:index + 1] != "}":
        if text[index:index + 1] != '"':
            raise ValueError(f"package.json: expected a key at character {index}")
        key, index = json.decoder.scanstring(text, index + 1)
        index = _skip(text, index)
        if text[index:index + 1] != ":":
            raise ValueError(f"package.json: expected ':' at character {index}")
        start = _skip(text, index + 1)
        _, end = _DECODER.raw_decode(text, start)
        spans[key] = (start, end)
        index = _skip(text, end)
        if text[index:index + 1] == ",":
            index = _skip(text, index + 1)
    return spans, index


def indent_unit(text: str) -> str:
    """The indentation of the first indented line (npm writes two spaces)."""
    match = re.search(r"\n([ \t]+)\S", text)
    return match.group(1) if match else "  "


def _dump(value: object, unit: str, depth: int) -> str:
    lines = json.dumps(value, indent=unit, ensure_ascii=False).split("\n")
    return "\n".join([lines[0], *(unit * depth + line for line in lines[1:])])


def merge_package_json(text: str, base: dict | None, new: dict, report: Report) -> str:
    """The app's package.json with the template's scripts and dependencies merged in."""
    current = json.loads(text)  # a clear error for invalid JSON before any surgery
    spans, closing = top_level_members(text)
    unit = indent_unit(text)
    edits: list[tuple[int, int, str]] = []
    appended: list[str] = []
    for section in PACKAGE_SECTIONS:
        wanted = new.get(section, {})
        theirs = current.get(section, {})
        merged, changes = merge_entries(theirs, (base or {}).get(section), wanted, user_wins=True)
        _describe(f"package.json {section}", changes, wanted, report)
        if merged == theirs:
            continue
        if section in spans:
            start, end = spans[section]
            edits.append((start, end, _dump(merged, unit, 1)))
        elif merged:
            appended.append(f"{unit}{json.dumps(section)}: {_dump(merged, unit, 1)}")
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
        if start < closing:
            closing += len(replacement) - (end - start)
    if appended:
        body_end = len(text[:closing].rstrip())
        separator = "," if text[:body_end].rstrip()[-1] != "{" else ""
        text = text[:body_end] + separator + "\n" + ",\n".join(appended) + "\n" + text[closing:]
    return text


def _describe(what: str, changes: dict[str, str], new: dict, report: Report) -> None:
    by_kind: dict[str, list[str]] = {}
    for key, kind in changes.items():
        by_kind.setdefault(kind, []).append(key)
    for kind in ("added", "updated", "removed"):
        if by_kind.get(kind):
            report.add(f"{what}: {kind} {', '.join(by_kind[kind])}")
    for key in by_kind.get("kept", []):
        report.keep(f"{what}: kept your {key!r}; the template's is {json.dumps(new[key], ensure_ascii=False)}")


# ---- .gitignore -----------------------------------------------------------------------------------


def fragment_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def merge_gitignore(text: str, wanted: list[str], report: Report) -> str:
    present = {line.strip() for line in text.splitlines()}
    missing = [line for line in wanted if line.strip() not in present]
    if not missing:
        return text
    report.add(f".gitignore: added {', '.join(missing)}")
    if text and not text.endswith("\n"):
        text += "\n"
    return text + "".join(f"{line}\n" for line in missing)


# ---- .env files -------------------------------------------------------------------------------------

_ENV_LINE = re.compile(r"^(\s*(?:export\s+)?)([A-Za-z_][A-Za-z0-9_]*)(\s*=)(.*)$")


def env_values(text: str) -> dict[str, str]:
    """KEY -> raw value (as written, quotes included); the last assignment wins, as in sh."""
    values = {}
    for line in text.splitlines():
        if match := _ENV_LINE.match(line):
            values[match.group(2)] = match.group(4)
    return values


# Env files an app may load over .env (dotenv-flow, Next.js, Vite, `node --env-file`); the
# template's scripts (Atlas through atlas.hcl's URL, db:up, db:check, the auth scripts) read .env.
APP_ENV_FILES = (".env.local", ".env.development", ".env.development.local")
# What the app's own Better Auth needs at run time, from the template's .env keys.
RUNTIME_KEYS = ("DATABASE_URL", "BETTER_AUTH_SECRET", "BETTER_AUTH_URL")


def env_file_notes(project: object) -> list[str]:
    """For each env file of the app's that sets one of the template's .env keys to another value
    than .env: the keys, and that the app and the template's scripts would then disagree."""
    project = Path(str(project))

    def values(name: str) -> dict[str, str]:
        try:
            text = (project / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return {}
        return {key: value.strip().strip("'\"") for key, value in env_values(text).items()}

    ours, keys = values(".env"), values(str(ENV_FRAGMENT)).keys() - SECRET_KEYS
    needed = [key for key in RUNTIME_KEYS if key in values(str(ENV_FRAGMENT))]
    notes = []
    for name in app_runtime.app_env_files(project, APP_ENV_FILES):
        theirs = values(name)
        if differing := sorted(key for key in keys if key in theirs and theirs[key] != ours.get(key)):
            verb = "differs" if len(differing) == 1 else "differ"
            notes += [f"{name}: {', '.join(differing)} {verb} from .env, which the template's scripts read;",
                      f"  if the app loads {name}, it uses another database: make them agree."]
        if missing := [key for key in needed if key not in theirs]:
            # Copied from .env by a command, so that no secret is printed.
            notes += [f"{name}: the app loads it; add from .env what it lacks",
                      f"  ({', '.join(missing)}):", f"  grep -E '^{_keys_pattern(missing)}=' .env >> {name}"]
    return notes


def _keys_pattern(keys: list[str]) -> str:
    """An extended regex for exactly these keys, short enough for one line: (DATABASE_URL|BETTER_AUTH_(SECRET|URL))."""
    groups: dict[str, list[str]] = {}
    for key in keys:
        prefix, _, rest = key.rpartition("_")
        groups.setdefault(prefix + "_" if prefix else "", []).append(rest)
    parts = [prefix + (rests[0] if len(rests) == 1 else f"({'|'.join(rests)})") for prefix, rests in groups.items()]
    return parts[0] if len(parts) == 1 else f"({'|'.join(parts)})"


def merge_env(text: str, base: dict | None, new: dict, *, secret: str | None, name: str, report: Report) -> str:
    """The app's .env/.env.example with the template's keys merged in; other lines byte for byte.

    `secret`: the value for keys in SECRET_KEYS when they are missing (None: the fragment's placeholder).
    """
    current = env_values(text)
    plain_new = {k: v for k, v in new.items() if k not in SECRET_KEYS}
    merged, changes = merge_entries(current, base, plain_new, user_wins=False)
    for key in SECRET_KEYS & new.keys():
        if key not in current:
            merged[key] = new[key] if secret is None else f"'{secret}'"
            changes[key] = "added"
    rewritten = {k for k, kind in changes.items() if kind in ("updated", "replaced")}
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        match = _ENV_LINE.match(line.rstrip("\r\n"))
        if match and match.group(2) in rewritten:
            ending = line[len(line.rstrip("\r\n")):]
            lines[i] = f"{match.group(1)}{match.group(2)}{match.group(3)}{merged[match.group(2)]}{ending}"
    added = [k for k in new if changes.get(k) == "added"]  # in the fragment's order
    if added:
        if lines and not lines[-1].endswith("\n"):
            lines[-1] += "\n"
        lines += [f"{key}={merged[key]}\n" for key in added]
    for kind in ("added", "updated"):
        keys = [k for k, v in changes.items() if v == kind]
        if keys:
            report.add(f"{name}: {kind} {', '.join(keys)}")
    replaced = [k for k, v in changes.items() if v == "replaced"]
    if replaced:
        report.keep(f"{name}: the answers changed {', '.join(replaced)}: your own value was replaced")
    kept = [k for k, v in changes.items() if v == "kept"]
    if kept and base is None:
        report.keep(f"{name}: kept your {', '.join(kept)} (differs from atlas.hcl's dev database: review)")
    return "".join(lines)


# ---- the project ----------------------------------------------------------------------------------------


def merge_base(project: Path, fragment: Path) -> str | None:
    """The fragment as the last commit holds it; in a project whose last release recorded the base
    in OLD_MERGE_BASE (a regular file, never a link), that record, once."""
    old = project / OLD_MERGE_BASE
    if old.is_file() and not old.is_symlink():
        try:
            return json.loads(old.read_text())[fragment.name]
        except (OSError, ValueError, KeyError, TypeError):
            pass
    return committed_fragment(project, fragment)


def committed_fragment(project: Path, fragment: Path) -> str | None:
    """The fragment as the project's last commit has it: None on a first copy (or outside git).
    A project last updated by a release without .copier/ gets what that release wrote instead."""
    text = committed(project, fragment.as_posix())
    if text is None and fragment != GITIGNORE_FRAGMENT and committed(project, ".copier-answers.yml"):
        return release_without_fragments(project).get(fragment)
    return text


_old_renders: dict[Path, dict] = {}


def release_without_fragments(project: Path) -> dict[Path, str]:
    """The template's part as a release from before .copier/ wrote it (it rendered package.json
    and .env.example whole): that release rendered again with the project's last answers, the way
    copier's own update renders the old version."""
    if project not in _old_renders:
        import tempfile

        import copier
        import yaml

        answers = yaml.safe_load(committed(project, ".copier-answers.yml"))
        data = {k: v for k, v in answers.items() if not k.startswith("_")}
        with tempfile.TemporaryDirectory() as folder:
            copier.run_copy(answers["_src_path"], folder, data=data, vcs_ref=answers["_commit"], defaults=True,
                            overwrite=True, unsafe=True, quiet=True, skip_tasks=True)
            package = json.loads((Path(folder) / "package.json").read_text())
            _old_renders[project] = {
                PACKAGE_FRAGMENT: json.dumps({k: package[k] for k in PACKAGE_SECTIONS if k in package}),
                ENV_FRAGMENT: (Path(folder) / ".env.example").read_text(),
            }
    return _old_renders[project]


def merge_files(project: Path, base_of=merge_base) -> Report:
    """Merge every fragment of .copier/ into its file; returns what was done.

    Each file keeps its line endings (a CRLF file stays CRLF). A shared file that is a symlink
    is merged into its target only when that target is inside the server (ValueError otherwise)."""
    report = Report()
    for name in MERGED_FILES:
        if problem := symlink_problem(project, name):
            raise ValueError(problem)
    if missing := [f for f in FRAGMENT_FILES if not (project / f).is_file()]:
        rebuild_fragments(project, missing)
        report.add(f"{', '.join(f.as_posix() for f in missing)}: missing, written again from the template")

    def base(fragment: Path) -> str | None:
        return base_of(project, fragment)

    new_package = json.loads((project / PACKAGE_FRAGMENT).read_text())
    old_package = base(PACKAGE_FRAGMENT)
    _merge_file(project / "package.json", "{}\n", lambda text: merge_package_json(
        text, json.loads(old_package) if old_package else None, new_package, report))

    wanted = fragment_lines((project / GITIGNORE_FRAGMENT).read_text())
    _merge_file(project / ".gitignore", "", lambda text: merge_gitignore(text, wanted, report))

    new_env = env_values((project / ENV_FRAGMENT).read_text())
    old_env_text = base(ENV_FRAGMENT)
    old_env = env_values(old_env_text) if old_env_text is not None else None
    env_tracked = tracked(project, ".env")
    for name, secret in ((".env", secrets.token_urlsafe(32)), (".env.example", None)):
        fragment = new_env
        if name == ".env" and env_tracked:  # a secret never goes into a file git would commit
            fragment = {k: v for k, v in new_env.items() if k not in SECRET_KEYS}
            if missing := [k for k in SECRET_KEYS & new_env.keys() if k not in env_values(_read(project / name))]:
                report.keep(f".env is tracked by git: {', '.join(sorted(missing))} NOT written into it. Stop tracking"
                            " it (`git rm --cached .env`; .gitignore lists it), commit, then run the update"
                            " again (`npm run template:update`) to add it")
        # A file without a single key was not made yet (.env is git-ignored: in a fresh clone it is
        # missing, or copier's starting file), not one whose every key the team deleted: it gets
        # the whole fragment.
        env_base = old_env if env_values(_read(project / name)) else None
        _merge_file(project / name, "", lambda text, f=fragment, n=name, k=secret, b=env_base: merge_env(
            text, b, f, secret=k, name=n, report=report))
    _keep_private(project / ".env", report)
    if (project / OLD_MERGE_BASE).is_file() or (project / OLD_MERGE_BASE).is_symlink():
        (project / OLD_MERGE_BASE).unlink()  # the last commit is the base from now on
        report.add(f"{OLD_MERGE_BASE.as_posix()}: removed (the base of the next merge is the last commit)")
    return report


def rebuild_fragments(project: Path, fragments: list[Path]) -> None:
    """FRAGMENTS as this template version renders them with the project's answers (someone deleted
    them): rendered in a scratch folder, the way copier renders a version during an update."""
    import tempfile

    import copier
    import yaml

    template = Path(__file__).resolve().parents[3]  # extensions/copier_atlas_postgres/tasks/ -> the template
    answers = yaml.safe_load((project / ANSWERS_FILE).read_text()) or {}
    data = {k: v for k, v in answers.items() if not k.startswith("_")}
    with tempfile.TemporaryDirectory() as folder:
        copier.run_copy(str(template), folder, data=data, defaults=True, overwrite=True, unsafe=True, quiet=True,
                        skip_tasks=True, vcs_ref="HEAD" if (template / ".git").exists() else None)
        for fragment in fragments:
            (project / fragment).parent.mkdir(exist_ok=True)
            write_atomically(project / fragment, (Path(folder) / fragment).read_text())


def tracked(project: Path, name: str) -> bool:
    return git(project, "ls-files", "--error-unmatch", "--", name, check=False).returncode == 0


def _read(path: Path) -> str:
    """The file's text with its line endings as they are ('' when it does not exist)."""
    if not path.exists():
        return ""
    with path.open(encoding="utf-8", newline="") as handle:
        return handle.read()


def _merge_file(path: Path, empty: str, merge) -> None:
    """MERGE(text) written to PATH, in the file's own line endings: a file with CRLF endings only
    is merged as LF and written back as CRLF; any other file is merged as it is."""
    old = _read(path) if path.exists() else empty
    crlf = "\r\n" in old and old.count("\r\n") == old.count("\n")
    new = merge(old.replace("\r\n", "\n") if crlf else old)
    if crlf:
        new = new.replace("\n", "\r\n")
    if new != old or not path.exists():
        # A link inside the server (symlink_problem refused the others) is written at its target.
        write_atomically(path.resolve() if path.is_symlink() else path, new,
                         mode=0o600 if path.name == ".env" else None)


def _keep_private(path: Path, report: Report) -> None:
    """.env holds the dev password and the auth secret: readable by its owner only."""
    if path.is_file() and path.stat().st_mode & 0o077:
        path.chmod(path.stat().st_mode & 0o700)
        report.add(".env: readable by you only now (mode 600): it holds secrets")


def report_text(report: Report, heading: str) -> str:
    """The report as printed after copy/update ('' when nothing was done)."""
    if not report.lines and not report.kept:
        return ""
    out = [heading, *(f"  {line}" for line in report.lines)]
    if report.kept:
        out += ["  Review (your version was kept, or the answers replaced your value):",
                *(f"    {line}" for line in report.kept)]
    return "\n".join(out)
