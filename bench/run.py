#!/usr/bin/env python3
"""What a `copier copy` / `copier update` of this template costs, against a bare template.

Run with the Python that has copier installed (the project venv):

    python bench/run.py                 # 7 rounds, cases 1-3
    python bench/run.py --quick         # 3 rounds, no warm-up round
    python bench/run.py --with-tests    # also the test suite's wall time and slowest ten tests
    python bench/run.py --profile       # also `-X importtime` and cProfile of one copy of this template

Every timed command is a new `copier` CLI process writing into a fresh folder. The
commands of all cases are alternated round-robin (the starting case rotates every round),
so machine drift and other load hit every case alike; the table shows medians and ratios
against a baseline measured in the same run. Timings are wall-clock and noisy on a shared
machine: read the ratios, not the absolute numbers.

Cases and their targets:
  1. this template, defaults           vs. a bare one-file git-tagged template   <= 1.3x
  2. this template with 50 domains     vs. with 1 domain (10 domains reported)   <= 1.5x
  3. `copier update` v0.1.0 -> v0.2.0 of a 5-domain project vs. a copy of it      <= 3x

Both templates are git repositories tagged v0.1.0 (this one is a snapshot of the working
tree's release files, the list tests/helpers/releases.py keeps), so both pay for copier's clone of a git
template. The report goes to bench/results/<timestamp>.md (git-ignored) and bench/latest.md.

Copier runs as subprocesses; the script itself needs the venv of the `test` extra only for
tests/helpers/.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
BENCH = REPO / "bench"
# `python bench/run.py` puts bench/, not the repository root, on sys.path: add the root once, so
# that the list of the template's release files comes from the one place the tests take it from.
sys.path.insert(0, str(REPO))
from tests.helpers.releases import copy_release_files  # noqa: E402

# This template's Python code, as copier loads it from a release (profile attribution).
PACKAGE = "copier_atlas_postgres"
PACKAGE_DIR = f"extensions/{PACKAGE}"

GIT_ENV = {
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@example.invalid",
    "GIT_CONFIG_GLOBAL": os.devnull,  # no user config (hooks, signing) in the temp repos
    "GIT_CONFIG_NOSYSTEM": "1",
    "NO_COLOR": "1",
}


def domains(n: int) -> list[str]:
    return [f"dom_{i:02d}" for i in range(1, n + 1)]


def domains_data(n: int) -> list[str]:
    return ["--data", "domains=[" + ", ".join(domains(n)) + "]"]


# ---- helpers -----------------------------------------------------------------


def env() -> dict[str, str]:
    e = dict(os.environ)
    e.update(GIT_ENV)
    return e


def run(cmd: list[str], cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(cmd, cwd=cwd, env=env(), capture_output=True, text=True)
    if check and proc.returncode != 0:
        sys.exit(f"command failed ({proc.returncode}): {' '.join(map(str, cmd))}\n{proc.stdout}\n{proc.stderr}")
    return proc


def git(cwd: Path, *args: str) -> None:
    run(["git", *args], cwd=cwd)


def git_commit_all(cwd: Path, message: str, tag: str | None = None) -> None:
    git(cwd, "add", "-A")
    git(cwd, "commit", "-q", "--no-verify", "-m", message)
    if tag:
        git(cwd, "tag", tag)


def fmt(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.3f}"


# ---- setup (not timed) -------------------------------------------------------


def make_bare_template(root: Path) -> Path:
    """A one-file template: copier.yml with _subdirectory and one question, one .jinja file."""
    tpl = root / "bare-template"
    (tpl / "template").mkdir(parents=True)
    (tpl / "copier.yml").write_text(
        "_subdirectory: template\n\nproject_name:\n  type: str\n  default: My App\n"
    )
    (tpl / "template" / "README.md.jinja").write_text("# {{ project_name }}\n")
    git(tpl, "init", "-q", "-b", "main")
    git_commit_all(tpl, "bare template", tag="v0.1.0")
    return tpl


def make_bare_yield_template(root: Path) -> Path:
    """Reference for case 2: this template's per-domain file layout with trivial content and no
    extensions (schemas/20_<domain>.sql and, in a conditional folder, triggers/20_<domain>.sql),
    i.e. what copier itself charges per yielded file."""
    tpl = root / "bare-yield-template"
    yield_name = "20_{% yield domain from domains %}{{ domain }}{% endyield %}.sql.jinja"
    for folder in ("schemas", "{% if not atlas_pro %}triggers{% endif %}"):
        (tpl / "template" / folder).mkdir(parents=True)
        (tpl / "template" / folder / yield_name).write_text("-- {{ domain }}\n")
    (tpl / "copier.yml").write_text(
        "_subdirectory: template\n\natlas_pro:\n  type: bool\n  default: false\n"
        "domains:\n  type: yaml\n  default: []\n"
    )
    git(tpl, "init", "-q", "-b", "main")
    git_commit_all(tpl, "bare yield template", tag="v0.1.0")
    return tpl


def snapshot_template(root: Path, source: Path = REPO) -> Path:
    """This template's release files (SOURCE's working tree) in a git repo tagged v0.1.0."""
    tpl = root / "this-template"
    copy_release_files(source, tpl)
    git(tpl, "init", "-q", "-b", "main")
    git_commit_all(tpl, "snapshot of the working tree", tag="v0.1.0")
    return tpl


def new_template_version(tpl: Path) -> None:
    """v0.2.0: a small change to a rendered file (what an ordinary template release looks like)."""
    readme = tpl / "template" / "DATABASE.md.jinja"
    readme.write_text(readme.read_text() + "\n<!-- template v0.2.0 -->\n")
    git_commit_all(tpl, "v0.2.0: small DATABASE.md change", tag="v0.2.0")


# ---- cases -------------------------------------------------------------------


@dataclass
class Case:
    key: str
    label: str
    argv: list[str]  # copier arguments; {dst} is replaced by a fresh folder
    prepare: str | None = None  # "project": dst is a fresh copy of the v0.1.0 project
    samples: list[float] = field(default_factory=list)


@dataclass
class Comparison:
    label: str
    case: str
    baseline: str
    target: float | None


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.copier = args.copier
        self.root = Path(tempfile.mkdtemp(prefix="copier-bench-"))
        self.runs = self.root / "runs"
        self.runs.mkdir()
        self.counter = 0

    # -- setup --

    def setup(self) -> None:
        self.bare = make_bare_template(self.root)
        self.bare_yield = make_bare_yield_template(self.root)
        self.tpl = snapshot_template(self.root, self.args.source)
        # Case 3's project: 5 domains, generated at v0.1.0, committed in its own git repo.
        self.project = self.root / "project-v0.1.0"
        run([self.copier, "copy", "--defaults", "--trust", "--vcs-ref", "v0.1.0", *domains_data(5),
             str(self.tpl), str(self.project)])
        git(self.project, "init", "-q", "-b", "main")
        git_commit_all(self.project, "generated at v0.1.0")
        new_template_version(self.tpl)
        # Sanity check: the update really goes v0.1.0 -> v0.2.0 and changes DATABASE.md.
        check = self.fresh_project()
        run([self.copier, "update", "--trust", "--defaults", *self.quiet()], cwd=check)
        answers = (check / ".copier-answers.yml").read_text()
        if "_commit: v0.2.0" not in answers or "template v0.2.0" not in (check / "DATABASE.md").read_text():
            sys.exit(f"update sanity check failed: project did not move to v0.2.0\n{answers}")
        shutil.rmtree(check)

        t = str(self.tpl)
        self.cases = [
            Case("bare", "bare one-file template, copy", ["copy", "--defaults", "--trust", str(self.bare), "{dst}"]),
            Case("this", "this template, copy (defaults, no domains)",
                 ["copy", "--defaults", "--trust", t, "{dst}"]),
            Case("d1", "copy, 1 domain", ["copy", "--defaults", "--trust", *domains_data(1), t, "{dst}"]),
            Case("d10", "copy, 10 domains", ["copy", "--defaults", "--trust", *domains_data(10), t, "{dst}"]),
            Case("d50", "copy, 50 domains", ["copy", "--defaults", "--trust", *domains_data(50), t, "{dst}"]),
            Case("y1", "bare yield template, copy, 1 domain",
                 ["copy", "--defaults", "--trust", *domains_data(1), str(self.bare_yield), "{dst}"]),
            Case("y50", "bare yield template, copy, 50 domains",
                 ["copy", "--defaults", "--trust", *domains_data(50), str(self.bare_yield), "{dst}"]),
            Case("d5", "copy, 5 domains (v0.2.0)", ["copy", "--defaults", "--trust", *domains_data(5), t, "{dst}"]),
            Case("update", "update v0.1.0 -> v0.2.0, 5 domains", ["update", "--trust", "--defaults"], prepare="project"),
        ]
        self.comparisons = [
            Comparison("1. this template vs. bare", "this", "bare", 1.3),
            Comparison("2. 10 domains vs. 1", "d10", "d1", None),
            Comparison("2. 50 domains vs. 1", "d50", "d1", 1.5),
            Comparison("2. reference: bare yield template, 50 vs. 1", "y50", "y1", None),
            Comparison("3. update vs. copy (5 domains)", "update", "d5", 3.0),
        ]

    def quiet(self) -> list[str]:
        return ["--quiet"]

    def fresh_project(self) -> Path:
        self.counter += 1
        dst = self.runs / f"project-{self.counter}"
        subprocess.run(["cp", "-a", str(self.project), str(dst)], check=True)
        return dst

    # -- timing --

    def time_case(self, case: Case) -> float:
        self.counter += 1
        if case.prepare == "project":
            cwd = self.fresh_project()
            cmd = [self.copier, *case.argv, *self.quiet()]
            cleanup = cwd
        else:
            cwd = None
            dst = self.runs / f"{case.key}-{self.counter}"
            cmd = [self.copier, *[str(dst) if a == "{dst}" else a for a in case.argv], *self.quiet()]
            cleanup = dst
        e = env()
        start = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, env=e, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"{case.key} failed ({proc.returncode}): {' '.join(cmd)}\n{proc.stderr}")
        shutil.rmtree(cleanup, ignore_errors=True)
        return elapsed

    def rounds(self) -> None:
        n = len(self.cases)
        if not self.args.quick:
            print("warm-up round (not counted) ...", flush=True)
            for case in self.cases:
                self.time_case(case)
        for r in range(self.args.repeat):
            order = self.cases[r % n:] + self.cases[: r % n]
            for case in order:
                case.samples.append(self.time_case(case))
            print(f"round {r + 1}/{self.args.repeat}: "
                  + "  ".join(f"{c.key}={c.samples[-1]:.2f}" for c in self.cases), flush=True)

    def paired(self, key: str, baseline: str) -> float:
        """Median of the per-round ratios (both commands ran in the same round, close in time)."""
        a = next(c for c in self.cases if c.key == key).samples
        b = next(c for c in self.cases if c.key == baseline).samples
        return statistics.median(x / y for x, y in zip(a, b, strict=True))

    def median(self, key: str) -> float:
        return statistics.median(next(c for c in self.cases if c.key == key).samples)

    # -- profile (optional) --

    def profile(self) -> str:
        """Where a copy spends its time: imports, this template's own code, copier's per-file work."""
        out = ["## Profile (`--profile`)", ""]
        dst = self.runs / "profile-importtime"
        cmd = [sys.executable, "-X", "importtime", "-m", "copier", "copy", "--defaults", "--trust", "--quiet",
               str(self.tpl), str(dst)]
        proc = subprocess.run(cmd, env=env(), capture_output=True, text=True, cwd=self.root)
        rows = []
        for line in proc.stderr.splitlines():
            m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
            if m:
                rows.append((int(m.group(2)), (len(m.group(3)) - 1) // 2, m.group(4)))
        total_top = sum(cum for cum, depth, _ in rows if depth == 0)
        # copier runs extensions/loader.py by path; the loader imports the package's modules under
        # `copier_atlas_postgres_<hash of its folder>` (see that file).
        ours = sum(cum for cum, depth, name in rows if depth == 0 and name.startswith(("extensions/", PACKAGE)))
        out.append(f"`python -X importtime -m copier copy` of this template (defaults): imports {total_top / 1e3:.0f} ms,"
                   f" of which this template's extensions/loader.py and {PACKAGE_DIR} modules {ours / 1e3:.1f} ms"
                   " (the package's `__init__` is run by the loader, not imported: see the cProfile numbers below"
                   " for its code's own time). Largest:")
        out += ["", "| cumulative ms | module |", "|---:|---|"]
        for cum, depth, name in sorted((r for r in rows if r[1] <= 1), reverse=True)[:8]:
            out.append(f"| {cum / 1e3:.0f} | {'. ' * depth}{name} |")
        shutil.rmtree(dst, ignore_errors=True)

        import pstats

        functions = [
            ("copier/_main.py", "run_copy"),
            ("copier/_main.py", "_render_template"),
            ("copier/_main.py", "_render_file"),
            ("copier/_main.py", "_sync_git_index_executable_bit"),
            ("copier/_main.py", "_render_path"),
            ("copier/_main.py", "_render_string"),
            ("copier/_main.py", "answers_relpath"),
            ("jinja2/environment.py", "compile"),
            ("subprocess.py", "communicate"),
        ]
        profiles = {}
        for key, n, tpl in (("d1", 1, self.tpl), ("d50", 50, self.tpl), ("y50", 50, self.bare_yield)):
            stats_file = self.root / f"{key}.pstats"
            dst = self.runs / f"profile-{key}"
            cmd = [sys.executable, "-m", "cProfile", "-o", str(stats_file), "-m", "copier", "copy", "--defaults",
                   "--trust", "--quiet", *domains_data(n), str(tpl), str(dst)]
            subprocess.run(cmd, env=env(), capture_output=True, text=True, cwd=self.root)
            shutil.rmtree(dst, ignore_errors=True)
            if stats_file.exists():
                profiles[key] = pstats.Stats(str(stats_file)).stats
        if not profiles:
            return "\n".join(out) + "\n"

        def cum(stats, path, name):
            hits = [v for k, v in stats.items() if k[0].endswith(path) and k[2] == name]
            return (max(h[3] for h in hits), max(h[1] for h in hits)) if hits else (0.0, 0)

        out += ["", "cProfile (times inflated by the profiler; compare rows, not with the table above):", "",
                "| function | this template, 1 domain | this template, 50 domains | bare yield template, 50 domains |",
                "|---|---|---|---|"]
        for path, name in functions:
            cells = []
            for key in ("d1", "d50", "y50"):
                t, calls = cum(profiles.get(key, {}), path, name)
                cells.append(f"{t:.3f} s / {calls} calls")
            out.append(f"| `{path.split('/')[-1]}:{name}` | " + " | ".join(cells) + " |")
        own = sum(v[2] for k, v in profiles.get("d50", {}).items()
                  if f"/{PACKAGE_DIR}/" in k[0] or k[0].endswith("/extensions/loader.py"))
        out += ["", f"This template's own Python code ({PACKAGE_DIR}/ and extensions/loader.py, own time)"
                f" in the 50-domain copy: {own * 1e3:.1f} ms."]
        return "\n".join(out) + "\n"

    # -- test suite (optional) --

    def tests(self) -> str:
        print("running the test suite (python -m pytest -q --durations=10) ...", flush=True)
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "--durations=10", "-p", "no:cacheprovider"],
                              cwd=REPO, capture_output=True, text=True)
        wall = time.perf_counter() - start
        lines = proc.stdout.splitlines()
        slow: list[str] = []
        grab = False
        for line in lines:
            if "slowest" in line and "durations" in line:
                grab = True
                continue
            if grab:
                if re.match(r"^\s*[\d.]+s\s+\w+", line):
                    slow.append(line.strip())
                elif line.startswith("=") or (slow and not line.strip()):
                    if slow:
                        grab = False
        summary = next((line.strip("= ") for line in reversed(lines) if re.search(r"\d+ (passed|failed|error)", line)), "?")
        suite_line = f"`python -m pytest -q --durations=10`: wall {wall:.1f} s, exit {proc.returncode}, {summary}"
        out = ["## Test suite", "", suite_line, "",
               "| time | phase | test |", "|---:|---|---|"]
        failed = [line.split(" - ")[0].removeprefix("FAILED ").removeprefix("ERROR ") for line in lines
                  if line.startswith(("FAILED ", "ERROR "))]
        if failed:
            out[3:3] = ["Failing (at the time of this run): " + ", ".join(f"`{f}`" for f in failed), ""]
        for line in slow:
            parts = line.split(None, 2)
            if len(parts) == 3:
                out.append(f"| {parts[0]} | {parts[1]} | `{parts[2]}` |")
        return "\n".join(out) + "\n"

    # -- report --

    def machine(self) -> str:
        cpu = "?"
        try:
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
        except OSError:
            pass
        copier_version = run([self.copier, "--version"], check=False).stdout.strip() or "?"
        try:
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        except OSError:
            load = "?"
        return (f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'}), "
                f"{cpu}; {platform.system()} {platform.release()}; Python {platform.python_version()}; "
                f"{copier_version}; load average at the end {load}")

    def table(self) -> str:
        lines = ["| case | median s | baseline (median s) | ratio | paired ratio | target | holds? |",
                 "|---|---:|---|---:|---:|---:|---|"]
        for comp in self.comparisons:
            m, b = self.median(comp.case), self.median(comp.baseline)
            ratio = m / b
            base_label = next(c.label for c in self.cases if c.key == comp.baseline)
            target = f"<= {comp.target:g}" if comp.target else "report"
            holds = "-" if comp.target is None else ("yes" if ratio <= comp.target else "**no**")
            lines.append(f"| {comp.label} | {fmt(m)} | {base_label} ({fmt(b)}) | {ratio:.2f} | "
                         f"{self.paired(comp.case, comp.baseline):.2f} | {target} | {holds} |")
        lines.append("")
        lines.append("ratio = median / baseline median (decides *holds?*); paired ratio = median of the per-round"
                     " ratios (less sensitive to load that changes during the run).")

        def per(a: str, b: str) -> float:
            """ms per extra domain between A (1 domain) and B (50 domains)."""
            return (self.median(b) - self.median(a)) / 49 * 1000

        lines.append("")
        lines.append(f"Growth per extra domain (50 vs. 1 domain, 2 files per domain): this template {per('d1', 'd50'):.1f} ms,"
                     f" bare yield template {per('y1', 'y50'):.1f} ms.")
        return "\n".join(lines) + "\n"

    def samples_table(self) -> str:
        lines = ["| case | median s | min s | max s | samples |", "|---|---:|---:|---:|---|"]
        for c in self.cases:
            lines.append(f"| {c.label} | {fmt(statistics.median(c.samples))} | {fmt(min(c.samples))} | "
                         f"{fmt(max(c.samples))} | {' '.join(f'{s:.2f}' for s in c.samples)} |")
        return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=None, help="rounds of every case (default 7, --quick 3)")
    parser.add_argument("--quick", action="store_true", help="3 rounds and no warm-up round")
    parser.add_argument("--with-tests", action="store_true", help="also time the whole test suite (slow)")
    parser.add_argument("--profile", action="store_true", help="also profile one copy (importtime, cProfile)")
    parser.add_argument("--copier", default=str(Path(sys.executable).with_name("copier")),
                        help="copier executable (default: the one next to this Python)")
    parser.add_argument("--no-write", action="store_true", help="print only; do not write bench/latest.md")
    parser.add_argument("--source", type=Path, default=REPO,
                        help="folder whose release files (copier.yml, tasks.py, template/, extensions/) are benchmarked (default: this"
                        " repo's working tree; point it at a patched copy to measure a proposed fix)")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder")
    args = parser.parse_args()
    if args.repeat is None:
        args.repeat = 3 if args.quick else 7
    if not Path(args.copier).exists() and not shutil.which(args.copier):
        sys.exit(f"copier not found at {args.copier}; run with the venv's python or pass --copier")

    bench = Bench(args)
    try:
        print(f"temp folder {bench.root}", flush=True)
        bench.setup()
        started = _dt.datetime.now(_dt.timezone.utc)
        bench.rounds()
        sections = [
            "# Benchmark: cost of `copier copy` / `copier update` of this template",
            "",
            f"Run {started.strftime('%Y-%m-%d %H:%M UTC')}, `python bench/run.py"
            + (" --quick" if args.quick else "") + (" --with-tests" if args.with_tests else "")
            + (" --profile" if args.profile else "") + "`"
            + (f" on `{args.source}`" if args.source.resolve() != REPO else "") + f", {args.repeat} rounds, commands alternated round-robin,"
            " each a new copier CLI process into a fresh folder (both templates git-tagged).",
            "",
            f"Machine: {bench.machine()}.",
            "",
            bench.table(),
            "### All samples",
            "",
            bench.samples_table(),
        ]
        if args.profile:
            sections.append(bench.profile())
        if args.with_tests:
            sections.append(bench.tests())
        report = "\n".join(sections)
        print()
        print(report)
        if not args.no_write:
            results = BENCH / "results"
            results.mkdir(exist_ok=True)
            stamp = started.strftime("%Y%m%dT%H%M%SZ")
            (results / f"{stamp}.md").write_text(report)
            (BENCH / "latest.md").write_text(report)
            print(f"written: bench/results/{stamp}.md and bench/latest.md")
    finally:
        if args.keep:
            print(f"kept {bench.root}")
        else:
            shutil.rmtree(bench.root, ignore_errors=True)


if __name__ == "__main__":
    main()
