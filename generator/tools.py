"""Locate and run the Prometheus command-line tools (promtool, amtool, prometheus, alertmanager).

Two flavours exist: ``system`` (whatever is on ``PATH``, Debian bookworm:
promtool/prometheus 2.42, amtool 0.25) and ``trixie`` (Debian trixie binaries,
prometheus 2.53 / alertmanager 0.28, unpacked into ``.tools/trixie`` by
``tests/install_tools.sh``).
"""

from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
from collections.abc import Mapping

PROJECT_ROOT = pathlib.Path(__file__).resolve().parent.parent
TRIXIE_DIR = PROJECT_ROOT / ".tools" / "trixie" / "usr" / "bin"

TOOLS = frozenset({"promtool", "prometheus", "amtool", "alertmanager"})
# Debian installs the Alertmanager server under a prefixed name, in both flavours.
_BINARY: Mapping[str, str] = {"alertmanager": "prometheus-alertmanager"}
FLAVOURS = frozenset({"system", "trixie"})

_HOW_TO_GET: Mapping[str, str] = {
    "system": "run `make test` (it installs it), or "
    "`sudo apt-get install prometheus prometheus-alertmanager`",
    "trixie": "run `make test` (it installs it), or `tests/install_tools.sh`",
}


class ToolMissing(RuntimeError):
    """A required Prometheus tool is not installed; the message says how to get it."""

    def __init__(self, tool: str, flavour: str, where: str) -> None:
        super().__init__(f"{tool} ({flavour}) not found in {where}: {_HOW_TO_GET[flavour]}")
        self.tool = tool
        self.flavour = flavour


def find(tool: str, flavour: str = "system") -> pathlib.Path:
    """Return the path of ``tool`` in the given flavour.

    ``system`` searches ``PATH``; ``trixie`` looks in :data:`TRIXIE_DIR`.
    Raises :class:`ToolMissing` if the tool is absent, ``ValueError`` for an
    unknown tool or flavour.
    """
    if tool not in TOOLS:
        raise ValueError(f"unknown tool {tool!r}; expected one of {sorted(TOOLS)}")
    if flavour not in FLAVOURS:
        raise ValueError(f"unknown flavour {flavour!r}; expected one of {sorted(FLAVOURS)}")
    if flavour == "system":
        found = shutil.which(_BINARY.get(tool, tool))
        if found is None:
            raise ToolMissing(tool, flavour, "PATH")
        return pathlib.Path(found)
    path = TRIXIE_DIR / _BINARY.get(tool, tool)
    if not (path.is_file() and os.access(path, os.X_OK)):
        raise ToolMissing(tool, flavour, str(TRIXIE_DIR))
    return path


def promtools() -> list[pathlib.Path]:
    """Both promtool versions, system first then trixie; raises :class:`ToolMissing`."""
    return [find("promtool", "system"), find("promtool", "trixie")]


def run(
    tool_path: str | os.PathLike[str],
    *args: str | os.PathLike[str],
    cwd: str | os.PathLike[str] | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run a tool and capture its text output; a nonzero exit does not raise."""
    return subprocess.run(
        [os.fspath(tool_path), *(os.fspath(a) for a in args)],
        cwd=cwd,
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
