"""Find and run every engine's tools, by engine and version, in one place.

Engines come from Debian (``tests/install_tools.sh`` installs them):

========================  =========  ==========================================================
engine                    suite      tools
========================  =========  ==========================================================
``prometheus-2.42``       bookworm   promtool, prometheus (the system's own, on ``PATH``)
``prometheus-2.53``       trixie     promtool, prometheus (``.tools/trixie/usr/bin``)
``prometheus-3.5``        sid        promtool, prometheus 3.5 LTS (``.tools/sid/usr/bin``)
``victoriametrics``       sid        victoria-metrics, vmalert, vmalert-tool 1.145
``alertmanager-0.25``     bookworm   alertmanager, amtool (``PATH``)
``alertmanager-0.28``     trixie     alertmanager, amtool
``alertmanager-0.33``     sid        alertmanager, amtool
========================  =========  ==========================================================

Tests ask for :data:`RULE_ENGINES` or :data:`ALERTMANAGERS` ("every engine"), so adding an
engine is one line here and one package name in the install script.
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass

from .prometheus import vmalert_unittests

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
TOOLS_DIR = PROJECT_ROOT / ".tools"

SUITES = ("system", "trixie", "sid")
# Debian installs the Alertmanager server under a prefixed name, in every suite.
_BINARY: Mapping[str, str] = {"alertmanager": "prometheus-alertmanager"}

_HOW_TO_GET: Mapping[str, str] = {
    "system": "run `make test` (it installs it), or "
    "`sudo apt-get install prometheus prometheus-alertmanager`",
    "trixie": "run `make test` (it installs it), or `tests/install_tools.sh`",
    "sid": "run `make test` (it installs it), or `tests/install_tools.sh`",
}


class ToolMissing(RuntimeError):
    """A required tool is not installed; the message says how to get it."""

    def __init__(self, tool: str, suite: str, where: str) -> None:
        super().__init__(f"{tool} ({suite}) not found in {where}: {_HOW_TO_GET[suite]}")
        self.tool = tool
        self.suite = suite


@dataclass(frozen=True)
class Engine:
    """One engine at one version: its ``name`` (``prometheus-3.5``), its ``family``
    (``prometheus``, ``victoriametrics`` or ``alertmanager``), the Debian ``suite`` its
    binaries come from, and the ``tools`` it brings."""

    name: str
    family: str
    version: str
    suite: str
    tools: tuple[str, ...]

    def tool(self, tool: str) -> pathlib.Path:
        """Return the path of one of this engine's tools; raises :class:`ToolMissing`."""
        if tool not in self.tools:
            raise ValueError(f"{self.name} has no {tool!r}; it has {', '.join(self.tools)}")
        return find(tool, self.suite)

    def __str__(self) -> str:
        return self.name


_PROM = ("promtool", "prometheus")
PROMETHEUS_2_42 = Engine("prometheus-2.42", "prometheus", "2.42", "system", _PROM)
PROMETHEUS_2_53 = Engine("prometheus-2.53", "prometheus", "2.53.3", "trixie", _PROM)
PROMETHEUS_3_5 = Engine("prometheus-3.5", "prometheus", "3.5.3", "sid", _PROM)
VICTORIAMETRICS = Engine(
    "victoriametrics",
    "victoriametrics",
    "1.145.0",
    "sid",
    ("victoria-metrics", "vmalert", "vmalert-tool"),
)
PROMETHEUSES = (PROMETHEUS_2_42, PROMETHEUS_2_53, PROMETHEUS_3_5)
# Every engine that loads the generated rules and runs their unit tests.
RULE_ENGINES = (*PROMETHEUSES, VICTORIAMETRICS)
# The engines whose unit tests read native-histogram series ({{schema:0 ...}}): promtool 2.42
# refuses the notation, and VictoriaMetrics evaluates no native histograms (measured).
NATIVE_HISTOGRAM_ENGINES = (PROMETHEUS_2_53, PROMETHEUS_3_5)
ALERTMANAGERS = (
    Engine("alertmanager-0.25", "alertmanager", "0.25", "system", ("alertmanager", "amtool")),
    Engine("alertmanager-0.28", "alertmanager", "0.28.1", "trixie", ("alertmanager", "amtool")),
    Engine("alertmanager-0.33", "alertmanager", "0.33.1", "sid", ("alertmanager", "amtool")),
)
# The generated config uses bot_token_file, which Alertmanager reads from 0.26 on.
CONFIG_ALERTMANAGERS = ALERTMANAGERS[1:]
ENGINES = {e.name: e for e in (*RULE_ENGINES, *ALERTMANAGERS)}


def engine(name: str) -> Engine:
    """Return the engine called ``name`` (``prometheus-3.5``); ValueError lists the known ones."""
    try:
        return ENGINES[name]
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; expected one of {', '.join(ENGINES)}") from None


def find(tool: str, suite: str = "system") -> pathlib.Path:
    """Return the path of ``tool`` from one Debian suite.

    ``system`` searches ``PATH`` (bookworm's packages); ``trixie`` and ``sid`` look in
    ``.tools/<suite>/usr/bin``. Raises :class:`ToolMissing` if the tool is absent, and
    ``ValueError`` for an unknown suite.
    """
    if suite not in SUITES:
        raise ValueError(f"unknown suite {suite!r}; expected one of {', '.join(SUITES)}")
    binary = _BINARY.get(tool, tool)
    if suite == "system":
        found = shutil.which(binary)
        if found is None:
            raise ToolMissing(tool, suite, "PATH")
        return pathlib.Path(found)
    folder = TOOLS_DIR / suite / "usr" / "bin"
    path = folder / binary
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise ToolMissing(tool, suite, str(folder))
    return path


def promtools() -> list[pathlib.Path]:
    """Every promtool, oldest first (2.42, 2.53, 3.5); raises :class:`ToolMissing`."""
    return [e.tool("promtool") for e in PROMETHEUSES]


# The Go runtime's settings for the tools :func:`run` starts, where the caller's environment
# sets none. The tests run two tools at once on two cores (pytest-xdist), and a unit-test run
# allocates steadily on a small live heap: with Go's defaults (GOGC=100, a GC thread per core)
# collecting is a large share of its CPU, and its GC threads take the other worker's core.
# Measured on Samokoder's suites, three runs each: burn_rate_times on promtool 2.42, 21 to
# about 16.5 CPU-seconds; the threshold and MetricAbsent suites on vmalert-tool, 16 to 9.3.
# The heap then peaks at up to 800 MiB (from about 170), and GOMEMLIMIT makes the runtime
# collect harder as it nears 1 GiB. Neither setting changes what a tool computes.
GO_RUNTIME = {"GOMAXPROCS": "1", "GOGC": "800", "GOMEMLIMIT": "1GiB"}


def run(
    tool_path: str | os.PathLike[str],
    *args: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run a tool and capture its text output; a nonzero exit does not raise. The Go runtime
    gets :data:`GO_RUNTIME` for whatever the environment leaves unset."""
    return subprocess.run(
        [os.fspath(tool_path), *(os.fspath(a) for a in args)],
        cwd=cwd,
        env={**GO_RUNTIME, **os.environ},
        input=input,
        stdin=subprocess.DEVNULL if input is None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def version(tool_path: str | os.PathLike[str]) -> str:
    """First line of ``<tool> --version`` (e.g. ``promtool, version 2.42.0+ds ...``)."""
    proc = run(tool_path, "--version")
    out = (proc.stdout or proc.stderr).strip()
    return out.splitlines()[0] if out else ""


def unit_test_files(engine: Engine, tests_dir: pathlib.Path) -> list[pathlib.Path]:
    """Return the generated unit-test files ``engine`` runs from ``tests_dir``.

    promtool runs ``tests/*.yml``, and from 2.53 ``tests/native/*.yml`` (native-histogram
    series); vmalert-tool runs the same files, except where a twin in vmalert-tool's dialect
    exists in ``tests/vmalert/`` (suites with expression checks).
    """
    files = sorted(tests_dir.glob("*.yml"))
    if engine in NATIVE_HISTOGRAM_ENGINES:
        files += sorted((tests_dir / "native").glob("*.yml"))
    if engine.family != "victoriametrics":
        return files
    twins = tests_dir / vmalert_unittests.FOLDER
    return [twins / p.name if (twins / p.name).is_file() else p for p in files]


def run_unit_tests(
    engine: Engine, files: list[pathlib.Path], cwd: pathlib.Path | None = None, timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """Run generated unit-test files on ``engine`` in one process: ``promtool test rules``
    or ``vmalert-tool unittest`` (without vmalert's ``alertgroup`` label, which promtool's
    format cannot expect). Returns the finished process; a nonzero exit does not raise."""
    if engine.family == "victoriametrics":
        args = ["unittest", "--disableAlertgroupLabel"]
        for f in files:
            args += ["--files", str(f)]
        return run(engine.tool("vmalert-tool"), *args, cwd=cwd, timeout=timeout)
    return run(engine.tool("promtool"), "test", "rules", *files, cwd=cwd, timeout=timeout)


def check_rule_files(engine: Engine, files: list[pathlib.Path]) -> subprocess.CompletedProcess[str]:
    """Load rule files the way ``engine`` does: ``promtool check rules --lint=all
    --lint-fatal``, or ``vmalert -dryRun`` (MetricsQL parse, group and template checks)."""
    if engine.family == "victoriametrics":
        return run(engine.tool("vmalert"), "-dryRun", *(f"-rule={f}" for f in files))
    return run(engine.tool("promtool"), "check", "rules", "--lint=all", "--lint-fatal", *files)
