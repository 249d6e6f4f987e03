#!/usr/bin/env python3
"""Every project at once: `template.mjs update --all` against N single `copier update` runs (target:
no more than N single updates, ratio <= 1.1), and the cost of `template.mjs check --all` per project.

    python bench/update_all.py                  # 1, 5 and 20 projects
    python bench/update_all.py --sizes 1,5

The working tree's template is released as v1.0.0 and, with a convention change, v2.0.0 (the
tests' release_working_tree_v1_v2). For each size N, a monorepo with N projects on v1.0.0 is
generated and committed, then cloned twice: in one clone `node apps/p00/server/scripts/template.mjs
update --all` moves every project to v2.0.0; in the other, `copier update --trust --defaults
apps/pXX/server` runs N times, one after the other (which of the two goes first alternates by size).
Then the first clone is committed and `template.mjs check --all` is timed. Results:
bench/update-all-latest.md. Needs node and git; copier is taken from this Python's folder.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.helpers.copier_runs import copy_in_process  # noqa: E402
from tests.helpers.git import commit_all, git, git_init  # noqa: E402
from tests.helpers.releases import release_working_tree_v1_v2  # noqa: E402

TARGET = 1.1
SCRIPT = "scripts/template.mjs"


def monorepo(root: Path, template: Path, size: int) -> Path:
    git_init(root)
    (root / "README.md").write_text("# Bench monorepo\n")
    for i in range(size):
        slug = f"p{i:02d}"
        copy_in_process(root, template, f"apps/{slug}/server",
                        {"project_name": slug, "project_slug": slug, "domains": ["asset"], "use_better_auth": False},
                        ref="v1.0.0")
    commit_all(root, "projects on v1.0.0")
    return root


def clone(mono: Path, target: Path) -> Path:
    subprocess.run(["git", "clone", "-q", str(mono), str(target)], check=True)
    git(target, "config", "user.email", "bench@example.com")
    git(target, "config", "user.name", "Bench")
    return target


def timed(argv: list[str], cwd: Path, env: dict, ok=(0,)) -> float:
    start = time.perf_counter()
    result = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode not in ok:
        sys.exit(f"{' '.join(argv)} exited {result.returncode}:\n{result.stdout[-2000:]}{result.stderr[-2000:]}")
    return elapsed


def measure(template: Path, size: int, scratch: Path, env: dict, all_first: bool) -> dict:
    mono = monorepo(scratch / f"mono-{size}", template, size)
    at_once, one_by_one = clone(mono, scratch / f"all-{size}"), clone(mono, scratch / f"single-{size}")
    slugs = [f"p{i:02d}" for i in range(size)]

    def update_all() -> float:
        return timed(["node", f"apps/p00/server/{SCRIPT}", "update", "--all"], at_once, env)

    def singles() -> float:
        return sum(timed([sys.executable, "-m", "copier", "update", "--trust", "--defaults", f"apps/{s}/server"],
                         one_by_one, env) for s in slugs)

    if all_first:
        all_s, single_s = update_all(), singles()
    else:
        single_s, all_s = singles(), update_all()
    commit_all(at_once, "updated")
    check_s = timed(["node", f"apps/p00/server/{SCRIPT}", "check", "--all"], at_once, env)
    return {"size": size, "all": all_s, "single": single_s, "check": check_s}


def report(rows: list[dict]) -> str:
    load = os.getloadavg()[0]
    lines = [
        "# Every project at once (bench/update_all.py)",
        "",
        f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, load average {load:.1f} at the end.",
        "`update --all` against the same N single `copier update` runs (v1.0.0 -> v2.0.0 of the working",
        f"tree's template), one run each; target ratio <= {TARGET}. `check --all`: one render per project.",
        "",
        "| projects | update --all | N single updates | ratio | per project (--all) | check --all | check per project |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        n = row["size"]
        lines.append(f"| {n} | {row['all']:.1f} s | {row['single']:.1f} s | {row['all'] / row['single']:.2f}x | "
                     f"{row['all'] / n:.2f} s | {row['check']:.1f} s | {row['check'] / n:.2f} s |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1,5,20")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    # The script runs `copier` from PATH: this Python's.
    env = {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])}
    with tempfile.TemporaryDirectory(prefix="bench-update-all-") as tmp:
        scratch = Path(tmp)
        template = release_working_tree_v1_v2(scratch / "template")
        rows = []
        for index, size in enumerate(sizes):
            rows.append(measure(template, size, scratch, env, all_first=index % 2 == 0))
            print(f"{size} projects: {rows[-1]}", file=sys.stderr, flush=True)
    text = report(rows)
    (REPO / "bench" / "update-all-latest.md").write_text(text)
    print(text)
    return 0 if all(row["all"] <= TARGET * row["single"] for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
