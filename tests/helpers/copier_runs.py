"""Running copier as a user does: its CLI in its own process (exit status and stderr real), or
its API in this process with the same arguments, for a successful run."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import copier as copier_api

from .git import commit_all

COPIER = [sys.executable, "-m", "copier"]


def copier(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """The copier CLI as a user runs it (its own process, so exit status and stderr are real)."""
    return subprocess.run([*COPIER, *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def data_args(answers: dict) -> list[str]:
    args = []
    for key, value in answers.items():
        if isinstance(value, list):
            value = "[" + ", ".join(value) + "]"
        elif isinstance(value, bool):
            value = str(value).lower()
        args += ["--data", f"{key}={value}"]
    return args


def cli_data(answers: dict) -> dict[str, str]:
    """ANSWERS as copier's CLI hands `--data NAME=VALUE` to its API: every value the typed text."""
    return dict(arg.split("=", 1) for arg in data_args(answers)[1::2])


@contextlib.contextmanager
def working_directory(path: Path):
    """`cd PATH` for the block (contextlib.chdir needs Python 3.11)."""
    previous = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(previous)


def copy_in_process(cwd: Path, template: Path, destination: str, answers: dict, ref: str | None = None,
                    overwrite: bool = False) -> None:
    """`copier copy --trust --defaults [--overwrite] [--vcs-ref REF] --data ... TEMPLATE DESTINATION`
    from CWD, through copier's API in this process: what its CLI calls, with the same arguments, for
    a test that checks a successful run (a failure raises; what the run prints reaches fd 2, where
    pytest's capfd reads it). Tests of a refused or failing run use the CLI (`copier`)."""
    with working_directory(cwd):
        copier_api.run_copy(str(template), destination, data=cli_data(answers), defaults=True, unsafe=True,
                            vcs_ref=ref, overwrite=overwrite)


def update_in_process(mono: Path, slug: str, answers: dict | None = None, conflict: str = "inline") -> None:
    """`copier update --trust --defaults [--conflict CONFLICT] apps/<slug>/server [--data ...]` from
    the monorepo root, through copier's API in this process, as copy_in_process (a failure raises:
    the update guard's exit 1 as copier's TaskError, whose returncode is the CLI's exit status)."""
    with working_directory(mono):
        copier_api.run_update(f"apps/{slug}/server", data=cli_data(answers or {}), defaults=True, unsafe=True,
                              overwrite=True, conflict=conflict)


def generate(template: Path, mono: Path, folder: str, domains: list[str], ref: str = "v1.0.0", **answers) -> Path:
    """`copier copy` into apps/<folder>/server, committed; ANSWERS override the defaults (None drops one).
    Run in this process (copy_in_process): the tests check the project, not this command's output."""
    answers = {"project_name": f"Demo {folder}", "project_slug": folder, "domains": domains,
               "use_better_auth": False, **answers}
    answers = {key: value for key, value in answers.items() if value is not None}
    copy_in_process(mono, template, f"apps/{folder}/server", answers, ref=ref)
    commit_all(mono, f"generate {folder}")
    return mono / "apps" / folder / "server"


def update(mono: Path, slug: str, *extra: str) -> subprocess.CompletedProcess:
    """The documented command: copier update --trust --defaults apps/<slug>/server."""
    return copier(mono, "update", "--trust", "--defaults", f"apps/{slug}/server", *extra)
