#!/usr/bin/env python3
"""What `npm run schema:apply` adds to a bare `atlas schema apply`, at 50 domains (target <= 1.15x).

    python bench/apply.py              # 7 rounds
    python bench/apply.py --rounds 3

A 50-domain project without Atlas Pro (so the npm script also runs the trigger step: every
triggers/ file in one psql session) is generated, its dev database on a real PostgreSQL on
127.0.0.1 is brought in sync once, then both commands run on that synced database, alternating
(the first one rotates every round): `npm run schema:apply -- --auto-approve` and
`atlas schema apply --env dev --auto-approve`. The report gives medians and the ratio measured
in the same run (bench/apply-latest.md). Needs Atlas (ATLAS_BIN, or on PATH) and npm.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.helpers.copier_runs import cli_data  # noqa: E402
from tests.helpers.postgres import pg_bin, tcp_postgres  # noqa: E402

TARGET = 1.15
DOMAINS = [f"domain_{i:02d}" for i in range(50)]


def generate(root: Path, port: int) -> Path:
    import copier

    answers = {"project_name": "Bench", "project_slug": "bench", "domains": DOMAINS, "dev_database": "local",
               "db_port": str(port), "use_better_auth": False, "atlas_pro": False}
    project = root / "apps" / "bench" / "server"
    copier.run_copy(str(REPO), str(project), data=cli_data(answers), defaults=True, unsafe=True, vcs_ref="HEAD",
                    quiet=True)
    return project


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    atlas = os.environ.get("ATLAS_BIN") or shutil.which("atlas")
    if not atlas:
        sys.exit("Atlas not found: set ATLAS_BIN or put atlas on PATH")
    env = {**os.environ, "ATLAS_NO_UPDATE_NOTIFIER": "1",
           "PATH": os.pathsep.join([str(Path(atlas).parent), str(Path(pg_bin("psql")).parent), os.environ["PATH"]])}

    with tcp_postgres() as pg, tempfile.TemporaryDirectory(prefix="bench-apply-") as tmp:
        project = generate(Path(tmp), pg.port)
        pg.create_role("bench_owner", "dev_password")
        pg.create_database("bench", owner="bench_owner")
        pg.create_database("bench_atlas_dev", owner="bench_owner")
        commands = {
            "npm run schema:apply": ["npm", "run", "--silent", "schema:apply", "--", "--auto-approve"],
            "atlas schema apply": [atlas, "schema", "apply", "--env", "dev", "--auto-approve"],
        }

        def timed(argv: list[str]) -> float:
            start = time.perf_counter()
            subprocess.run(argv, cwd=project, env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
            return time.perf_counter() - start

        timed(commands["npm run schema:apply"])  # sync once; also a warm-up of both programs
        samples: dict[str, list[float]] = {name: [] for name in commands}
        names = list(commands)
        for round_no in range(args.rounds):
            for name in names[round_no % 2:] + names[:round_no % 2]:
                samples[name].append(timed(commands[name]))

    npm, bare = (statistics.median(samples[name]) for name in names)
    ratio = npm / bare
    lines = [
        "# `npm run schema:apply` vs. a bare `atlas schema apply` (50 domains, synced database)",
        "",
        f"{args.rounds} rounds, alternating; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores.",
        "",
        "| command | median | samples (s) |",
        "|---|---|---|",
        *(f"| `{name}` | {statistics.median(values):.3f} s | {', '.join(f'{v:.2f}' for v in values)} |"
          for name, values in samples.items()),
        "",
        f"Ratio: **{ratio:.3f}x** (target <= {TARGET}x): {'met' if ratio <= TARGET else 'NOT met'}.",
    ]
    report = "\n".join(lines) + "\n"
    (REPO / "bench" / "apply-latest.md").write_text(report)
    print(report)
    if ratio > TARGET:
        sys.exit(1)


if __name__ == "__main__":
    main()
