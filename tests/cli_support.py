"""Helpers for tests that run the real command line and compare whole output trees."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMOKODER = ROOT / "slo_specs" / "samokoder.yaml"
CHECKOUT = ROOT / "tests" / "fixtures" / "specs" / "checkout.yaml"


def run_cli(
    *args: str | os.PathLike[str],
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Return the finished ``python -m generator ARGS`` process (output captured as text)."""
    return subprocess.run(
        [sys.executable, "-m", "generator", *map(os.fspath, args)],
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def run_cli_in_process(*args: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    """Return what ``python -m generator ARGS`` run from ``ROOT`` would: the same ``main``
    run in this process by click's ``CliRunner``, its exit status, and its stdout and stderr
    as text. An exception that escapes ``main`` is appended to stderr as Python would print
    it (a ``Traceback``), so a caller's "no traceback" check means the same as on a
    subprocess.

    For the many-case tests (a bad spec, over a hundred times): a subprocess costs an
    interpreter and the generator's imports per case. :func:`run_cli` proves the real entry
    point; the bad-input tests run it too, on cases of their own."""
    import contextlib
    import traceback

    from click.testing import CliRunner

    from generator.cli import main

    argv = [os.fspath(a) for a in args]
    with contextlib.chdir(ROOT):
        result = CliRunner().invoke(main, argv, prog_name="slo-generator")
    stderr = result.stderr
    if result.exc_info is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(*result.exc_info))
    return subprocess.CompletedProcess(
        ["slo-generator", *argv], result.exit_code, result.stdout, stderr
    )


# Runs its arguments as a command and prints the command's own peak RSS: getrusage's
# RUSAGE_CHILDREN in a test process also counts every earlier child (promtool, vmalert-tool).
_PEAK_RSS = """
import resource, subprocess, sys
proc = subprocess.run(sys.argv[1:], capture_output=True, text=True)
sys.stderr.write(proc.stderr)
sys.stdout.write(proc.stdout)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(proc.returncode)
"""


def run_cli_peak(
    *args: str | os.PathLike[str], cwd: Path = ROOT, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], int]:
    """Return the finished ``python -m generator ARGS`` process and its peak RSS in KiB
    (measured alone, by a wrapper process whose only child it is); the last line of its
    stdout is the measurement and is removed."""
    cmd = [sys.executable, "-m", "generator", *map(os.fspath, args)]
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, *cmd],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    out, _, peak = proc.stdout.rstrip("\n").rpartition("\n")
    proc.stdout = out + "\n" if out else ""
    return proc, int(peak)


def tree(root: Path) -> dict[str, bytes | str]:
    """Return everything under ``root``: file -> bytes, folder -> "dir", symlink -> "link:<to>".

    Hidden entries are included, so a leftover staging folder shows up as a difference.
    """
    out: dict[str, bytes | str] = {}
    if not root.exists():
        return out
    for dirpath, dirnames, filenames in os.walk(root):
        base = Path(dirpath)
        for name in dirnames + filenames:
            path = base / name
            rel = str(path.relative_to(root))
            if path.is_symlink():
                out[rel] = f"link:{os.readlink(path)}"
            elif path.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = path.read_bytes()
    return dict(sorted(out.items()))


def unit_test_failures(tests_dir: Path, engines: Sequence, workers: int = 2) -> list[str]:
    """Run the generated unit tests in ``tests_dir`` on each of ``engines`` (one process
    each, ``workers`` at once); return one report per engine that failed (empty when every
    engine passed). Callers pick ``engines`` by the profile: ``depth.engines`` for a test
    marked ``deep``, ``depth.example_engines`` for a Hypothesis example."""
    from concurrent.futures import ThreadPoolExecutor

    from generator import tools

    with ThreadPoolExecutor(max_workers=workers) as pool:
        runs = list(
            pool.map(
                lambda e: tools.run_unit_tests(e, tools.unit_test_files(e, tests_dir)), engines
            )
        )
    return [
        f"{e}:\n{r.stdout[-3000:]}{r.stderr[-3000:]}"
        for e, r in zip(engines, runs, strict=True)
        if r.returncode != 0
    ]


def routes_test(
    amtool: Path, config: Path, labels: Mapping[str, str], want: list[str]
) -> subprocess.CompletedProcess:
    """Run ``amtool config routes test`` on ``config`` for an alert with ``labels``, asking
    it to verify that the alert reaches exactly ``want`` in order (exit status 0 if so).
    Label values are passed double-quoted, so quotes, spaces and backslashes survive."""
    from generator import tools

    return tools.run(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={config}",
        f"--verify.receivers={','.join(want)}",
        *(f"{k}={am_quoted(v)}" for k, v in sorted(labels.items())),
    )


def am_quoted(value: str) -> str:
    """``value`` as a double-quoted Alertmanager matcher string."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
