"""Generation cost: whole-process wall time and peak RSS of ``python -m generator generate``
for the real spec and for synthetic folders of N distinct services derived from it."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import tempfile
from dataclasses import dataclass

ROOT = pathlib.Path(__file__).resolve().parents[2]
SPEC = ROOT / "slo_specs" / "samokoder.yaml"
BUDGET_SECONDS = 300.0  # a size predicted to take longer than this is replaced by a smaller one


@dataclass(frozen=True)
class Run:
    """One measured ``generate`` process."""

    label: str
    services: int
    wall: float  # seconds
    rss_mib: float  # peak resident set size


def write_specs(folder: pathlib.Path, count: int) -> None:
    """Write ``count`` specs derived from Samokoder's, each with its own service name, jobs,
    metric-name prefix, dashboard uid (every occurrence of the name is replaced)."""
    text = SPEC.read_text()
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        name = f"svc{i:04d}"
        (folder / f"{name}.yaml").write_text(text.replace("samokoder", name))


def measure(args: list[str], label: str, services: int) -> Run:
    """Run the generator once under /usr/bin/time; return its wall time and peak RSS."""
    cmd = ["/usr/bin/time", "-f", "%e %M", sys.executable, "-m", "generator", "generate", *args]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    wall, rss_kib = proc.stderr.strip().splitlines()[-1].split()
    return Run(label, services, float(wall), int(rss_kib) / 1024)


def run_all(sizes: tuple[int, ...] = (10, 100, 1000)) -> tuple[list[Run], list[str]]:
    """Return the runs (the real spec, then each size) and notes on sizes replaced."""
    notes: list[str] = []
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="bench-gen-") as tmp:
        root = pathlib.Path(tmp)
        runs.append(
            measure(["--spec", str(SPEC), "--out", str(root / "out1")], "slo_specs/samokoder", 1)
        )
        for n in sizes:
            if len(runs) > 1:
                last = runs[-1]
                predicted = last.wall / last.services * n
                if predicted > BUDGET_SECONDS:
                    smaller = max(last.services, int(BUDGET_SECONDS / predicted * n) // 100 * 100)
                    notes.append(
                        f"{n} services were predicted to take {predicted:.0f} s "
                        f"(> {BUDGET_SECONDS:.0f} s); measured {smaller} instead."
                    )
                    n = smaller
            specs = root / f"specs{n}"
            write_specs(specs, n)
            out = root / f"out{n}"
            runs.append(measure(["--spec-dir", str(specs), "--out", str(out)], f"{n} synthetic", n))
    return runs, notes
