"""Generation cost, this tree against a baseline commit, measured in one run.

- whole ``python -m generator generate`` processes: one real spec (median of 5), then
  synthetic folders of N distinct services derived from it: wall time, CPU time of the
  process and its workers, peak RSS of the largest process;
- where one service's time goes, in-process, one core: loading the spec, each planner,
  writing into the staged tree.

The baseline is the generator as it was before the generation-speed work (``BASELINE``),
checked out with ``git worktree`` and run by the same interpreter on the same inputs.

Not a test: nothing asserts on timing. Run as ``python -m tests.bench.generation``;
``make bench`` runs it too and it writes tests/bench/GENERATION.md.
"""

from __future__ import annotations

import contextlib
import copy
import datetime
import os
import pathlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2]))
    __package__ = "tests.bench"

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC = ROOT / "slo_specs" / "samokoder.yaml"
RESULTS = pathlib.Path(__file__).with_name("GENERATION.md")
BASELINE = "953e937"  # main before issue 13's generation work (and issue 11's streaming)
BUDGET_SECONDS = 400.0  # a size predicted to take longer than this is measured smaller
ONE_SPEC_RUNS = 11
ONE_PROCESS = "this tree, --jobs 1"
CACHED = "cache"  # in a version's name: runs with the cache of generated services
WARM_RUNS = 3  # runs over the largest folder with one spec edited before each
# The rows of split() that do not depend on the planners.
UNPLANNED = ("load and check the spec", "serialise (YAML, JSON)", "write into the staged tree")
GOALS = {1: 0.3, 1000: 10.0}  # issue 13: seconds for one spec, and for 1000 services on 2 CPUs

# Peak RSS and CPU time of one command, read by a wrapper whose only child it is.
_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - start
if proc.returncode:
    sys.exit(proc.stderr)
use = resource.getrusage(resource.RUSAGE_CHILDREN)
print(wall, use.ru_utime + use.ru_stime, use.ru_maxrss)
"""


@dataclass(frozen=True)
class Run:
    """One measured ``generate`` process."""

    version: str  # "this tree" or "baseline"
    services: int
    wall: float  # seconds
    cpu: float  # seconds of CPU, every process
    rss_mib: float  # peak resident set size of the largest process


def write_specs(folder: pathlib.Path, count: int) -> None:
    """Write ``count`` specs derived from Samokoder's, each with its own service name, jobs,
    metric-name prefix, dashboard uid (every occurrence of the name is replaced)."""
    text = SPEC.read_text()
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        name = f"svc{i:04d}"
        (folder / f"{name}.yaml").write_text(text.replace("samokoder", name))


def measure(tree: pathlib.Path, args: list[str], version: str, services: int) -> Run:
    """Run ``generate`` of the generator in ``tree`` once; return its cost. This tree runs
    without its cache of generated services unless ``version`` names the cache."""
    no_cache = ["--no-cache"] if tree == ROOT and CACHED not in version else []
    cmd = [sys.executable, "-m", "generator", "generate", *no_cache, *args]
    proc = subprocess.run(
        [sys.executable, "-c", _MEASURE, *cmd], cwd=tree, capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} in {tree} failed:\n{proc.stderr[-2000:]}")
    wall, cpu, rss_kib = proc.stdout.split()
    return Run(version, services, float(wall), float(cpu), int(rss_kib) / 1024)


@contextlib.contextmanager
def baseline_tree(commit: str = BASELINE) -> Iterator[pathlib.Path]:
    """Yield a checkout of ``commit`` (removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        tree = pathlib.Path(tmp) / "tree"
        git = ["git", "-C", str(ROOT)]
        subprocess.run([*git, "worktree", "add", "--detach", str(tree), commit], check=True)
        try:
            yield tree
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=False)


def one_spec(tree: pathlib.Path, version: str, out: pathlib.Path, *args: str) -> Run:
    """Return the median-wall run of ``ONE_SPEC_RUNS`` generations of the real spec."""
    runs = [
        measure(tree, ["--spec", str(SPEC), "--out", str(out), *args], version, 1)
        for _ in range(ONE_SPEC_RUNS)
    ]
    return sorted(runs, key=lambda r: r.wall)[len(runs) // 2]


def fleets(sizes: tuple[int, ...], root: pathlib.Path) -> tuple[list[Run], list[str]]:
    """Return the runs of both versions for each size, and notes on sizes measured smaller."""
    runs: list[Run] = []
    notes: list[str] = []
    with baseline_tree() as base:
        trees = {"this tree": ROOT, "baseline": base}
        for version, tree in trees.items():
            runs.append(one_spec(tree, version, root / f"one-{len(runs)}"))
        # The same tree in one process: what the helper that plans a lone spec's dashboard,
        # docs and deploy targets on the second core saves.
        runs.append(one_spec(ROOT, ONE_PROCESS, root / "one-jobs1", "--jobs", "1"))
        for version, tree in trees.items():
            last: Run | None = None
            for n in sizes:
                if last is not None and last.wall / last.services * n > BUDGET_SECONDS:
                    predicted = last.wall / last.services * n
                    smaller = max(last.services, int(BUDGET_SECONDS / predicted * n) // 100 * 100)
                    notes.append(
                        f"{version}: {n} services were predicted to take {predicted:.0f} s "
                        f"(> {BUDGET_SECONDS:.0f} s); measured {smaller} instead."
                    )
                    n = smaller
                specs = root / f"specs{n}"
                if not specs.exists():
                    write_specs(specs, n)
                out = root / f"out-{version.replace(' ', '-')}-{n}"
                last = measure(tree, ["--spec-dir", str(specs), "--out", str(out)], version, n)
                runs.append(last)
    runs += cached(max(sizes), root)
    return runs, notes


def cached(n: int, root: pathlib.Path) -> list[Run]:
    """Return this tree's runs with its cache of generated services (a pre-commit hook's
    case): one spec unchanged since the last run (median of ``ONE_SPEC_RUNS``), then ``n``
    services with one spec edited since the last run (median of ``WARM_RUNS``, a different
    spec each time), and with none edited. The runs that fill the cache are not counted."""
    one = root / "one-cached"
    measure(ROOT, ["--spec", str(SPEC), "--out", str(one)], CACHED, 1)
    runs = [one_spec(ROOT, f"this tree, {CACHED}: the spec unchanged", one)]
    specs, out = root / f"specs{n}", root / f"out-cached-{n}"
    args = ["--spec-dir", str(specs), "--out", str(out)]
    measure(ROOT, args, CACHED, n)
    edited = []
    for i in range(WARM_RUNS):
        spec = sorted(specs.glob("*.yaml"))[i * n // WARM_RUNS]
        spec.write_text(spec.read_text() + f"# edited before warm run {i}\n")
        edited.append(measure(ROOT, args, f"this tree, {CACHED}: 1 spec edited", n))
    runs.append(sorted(edited, key=lambda r: r.wall)[len(edited) // 2])
    runs.append(measure(ROOT, args, f"this tree, {CACHED}: no spec edited", n))
    return runs


def split(count: int, root: pathlib.Path) -> dict[str, float]:
    """Return CPU seconds per service spent loading specs, in each planner, serialising and
    writing into the staged tree, in-process on one core, over ``count`` synthetic services.

    Per service: the rule groups first (the other planners reuse them), then each other
    planner alone, less the time it spent in the YAML and JSON writers (``yaml_text.dump``,
    ``json_text.dump``, timed around every call); then the whole ``service_files`` of a
    deep copy of the service (planners memoise per service object, so the copy is planned
    from scratch), whose writers' time is the serialising row.
    """
    from generator import alertmanager, output, targets
    from generator.cli import _load_all
    from generator.docs import render as docs
    from generator.grafana.files import files as grafana_files
    from generator.plan import service_files
    from generator.prometheus import unittests, vmalert_unittests
    from generator.prometheus.rule_files import rule_files

    specs = root / f"split{count}"
    write_specs(specs, count)
    clock = time.process_time
    start = clock()
    services = _load_all(sorted(specs.glob("*.yaml")), 1)  # one core: process_time sees it
    spent = {"load and check the spec": clock() - start, "rule groups": 0.0}
    others = {
        "promtool tests": unittests.suites,
        "vmalert-tool tests": vmalert_unittests.vmalert_suites,
        "Alertmanager route": alertmanager.route_file,
        "docs (Jinja2)": docs.files,
        "dashboard (grafanalib)": grafana_files,
        "deploy targets": targets.files,
    }
    spent.update(dict.fromkeys(others, 0.0))
    spent["serialise (YAML, JSON)"] = spent["write into the staged tree"] = 0.0
    with output.replacing(root / "split-out") as stage:
        for service in services:
            with _timed_writers() as writing:
                start = clock()
                rule_files(service)
                spent["rule groups"] += clock() - start
                for name, planner in others.items():
                    before, start = writing[0], clock()
                    planner(service)
                    spent[name] += clock() - start - (writing[0] - before)
            with _timed_writers() as writing:
                files = service_files(copy.deepcopy(service))
            spent["serialise (YAML, JSON)"] += writing[0]
            start = clock()
            stage.add(files)
            spent["write into the staged tree"] += clock() - start
    return {k: v / count for k, v in spent.items()}


@contextlib.contextmanager
def _timed_writers() -> Iterator[list[float]]:
    """Yield a one-item list that ends up holding the CPU seconds spent in the YAML and
    JSON writers while the block ran."""
    from generator import json_text, yaml_text

    spent = [0.0]
    originals = {module: module.dump for module in (yaml_text, json_text)}

    def timed(write):
        def dump(data):
            start = time.process_time()
            try:
                return write(data)
            finally:
                spent[0] += time.process_time() - start

        return dump

    for module, write in originals.items():
        module.dump = timed(write)
    try:
        yield spent
    finally:
        for module, write in originals.items():
            module.dump = write


def render(
    runs: list[Run], notes: list[str], per_service: dict[str, float], when: str, load: str
) -> str:
    """Return GENERATION.md."""
    from generator.parallel import cores

    lines = [
        "# Generation cost",
        "",
        f"Written by `make bench` (`python -m tests.bench.generation`) on {when}; one run, "
        f"not an average across runs. Machine: {cores()} CPUs, Python "
        f"{sys.version.split()[0]}; load average {load} (other work shares the cores: compare "
        "the two versions' ratios, and CPU time, before wall times). Not a test: nothing "
        "asserts on these numbers.",
        "",
        f"*Baseline* is commit `{BASELINE}` (before this round's generation work), checked out "
        "and run by the same interpreter on the same inputs in the same run. Synthetic folders "
        "hold copies of `slo_specs/samokoder.yaml` with the service name (and so jobs, metric "
        "prefixes, dashboard uid) replaced. One spec: median of "
        f"{ONE_SPEC_RUNS} whole processes. This tree runs with `--no-cache` (every service "
        f"planned, as after an edit) except in the *{CACHED}* rows: its cache of generated "
        "services, filled by a run before (not counted), with one spec edited before each "
        f"run (median of {WARM_RUNS}, a different spec each time) or none.",
        "",
        "| Version | Services | Wall (s) | Per service (ms) | CPU (s) | CPU / wall "
        "| Peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        lines.append(
            f"| {r.version} | {r.services} | {r.wall:.2f} | {1000 * r.wall / r.services:.0f} "
            f"| {r.cpu:.2f} | {r.cpu / r.wall:.2f} | {r.rss_mib:.0f} |"
        )
    lines += [""] + [f"Note: {n}" for n in notes] + ([""] if notes else [])
    by_size: dict[int, dict[str, Run]] = {}
    for r in runs:
        by_size.setdefault(r.services, {})[r.version] = r
    ratios = [
        f"{n} service(s): wall x{pair['this tree'].wall / pair['baseline'].wall:.2f}, "
        f"peak RSS x{pair['this tree'].rss_mib / pair['baseline'].rss_mib:.2f}"
        for n, pair in sorted(by_size.items())
        if "this tree" in pair and "baseline" in pair
    ]
    lines += ["This tree against the baseline: " + "; ".join(ratios) + ".", ""]
    goals = [
        f"{n} service(s) in at most {limit:g} s, {version}: {run.wall:.2f} s, "
        + ("met" if run.wall <= limit else f"not met (x{run.wall / limit:.1f} the goal)")
        for n, limit in GOALS.items()
        for version, run in by_size.get(n, {}).items()
        if version.startswith("this tree") and version != ONE_PROCESS
    ]
    lines += ["Issue 13's goals, this tree: " + "; ".join(goals) + ".", ""]
    total = sum(per_service.values())
    lines += [
        "Where one service's time goes (this tree, in-process, one core, CPU time per service):",
        "",
        "| Step | ms per service | Share |",
        "|---|---:|---:|",
        *(f"| {k} | {1000 * v:.1f} | {100 * v / total:.0f} % |" for k, v in per_service.items()),
        f"| total | {1000 * total:.1f} | 100 % |",
        "",
    ]
    # Issue 13's budget for 1000 services with every one planned, in CPU time a service.
    budget = GOALS[1000] * cores() / 1000
    fixed = sum(per_service[step] for step in UNPLANNED)
    lines += [
        f"1000 services in {GOALS[1000]:g} s on {cores()} CPUs leave {1000 * budget:.0f} "
        "CPU-ms a service. Loading the spec, serialising its files and writing them, which "
        f"every planned service pays whatever its planners cost, take {1000 * fixed:.1f} ms "
        f"(x{fixed / budget:.1f} that budget) before any planner runs.",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    """Measure, write GENERATION.md; return the exit status."""
    sizes = tuple(int(x) for x in os.environ.get("BENCH_SIZES", "10,100,1000").split(","))
    load_before = os.getloadavg()[1]
    with tempfile.TemporaryDirectory(prefix="bench-gen-") as tmp:
        root = pathlib.Path(tmp)
        os.environ["XDG_CACHE_HOME"] = str(root / "cache-home")  # not the user's ~/.cache
        print(f"generation: 1 spec, then {sizes} services, this tree and {BASELINE}", flush=True)
        runs, notes = fleets(sizes, root)
        for r in runs:
            print(f"  {r.version}, {r.services}: {r.wall:.2f} s, {r.rss_mib:.0f} MiB", flush=True)
        per_service = split(50, root)
    when = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = f"{load_before:.1f} at the start, {os.getloadavg()[1]:.1f} at the end (5 min)"
    RESULTS.write_text(render(runs, notes, per_service, when, load))
    print(f"wrote {RESULTS}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
