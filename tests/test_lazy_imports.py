"""What each command imports: the costly libraries only where their work is done.

A pre-commit hook runs ``validate`` or ``generate`` on one spec, so start-up is most of its
time: grafanalib's classes take about 90 ms to import, Jinja2 25 ms and the jsonschema
package 120 ms (``python -X importtime``). Each command runs in a fresh interpreter here,
through ``cli.run`` as ``python -m generator`` does, and reports the modules it ended with.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from cli_support import ROOT, SAMOKODER

COSTLY = ("grafanalib", "jinja2", "jsonschema")
_DRIVER = """
import json, os, sys
from generator import cli
status = 0
try:
    cli.main(sys.argv[1:], standalone_mode=False)
except SystemExit as exc:
    status = exc.code
print(json.dumps([status, [m for m in {costly!r} if m in sys.modules]]), file=sys.__stdout__)
sys.__stdout__.flush()
os._exit(0)
"""


def imported(*args: str, cwd=ROOT, status: int = 0, of: tuple[str, ...] = COSTLY) -> list[str]:
    """Return which modules ``of`` the command ``args`` imported (in its main process),
    once it ended with exit ``status``."""
    proc = subprocess.run(
        [sys.executable, "-c", _DRIVER.format(costly=of), *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    ended, modules = json.loads(proc.stdout.strip().splitlines()[-1])
    assert (ended or 0) == status, proc.stderr
    return modules


def test_validate_of_a_good_spec_imports_none_of_them() -> None:
    assert imported("validate", "--spec", str(SAMOKODER)) == []


def test_a_block_scalar_description_imports_none_of_them(tmp_path) -> None:
    """Text ending with a newline makes jsonschema-rs only stricter: no second opinion."""
    spec = tmp_path / "block.yaml"
    text = SAMOKODER.read_text(encoding="utf-8")
    spec.write_text(
        re.sub(
            r"\ndescription: [^\n]*", "\ndescription: |\n  Checkout, in one line.", text, count=1
        )
    )
    assert imported("validate", "--spec", str(spec)) == []


def test_a_spec_with_a_mistake_imports_only_the_schema_explainer(tmp_path) -> None:
    spec = tmp_path / "bad.yaml"
    spec.write_text(SAMOKODER.read_text(encoding="utf-8").replace("\nperiod:", "\nperiode:", 1))
    assert imported("validate", "--spec", str(spec), status=2) == ["jsonschema"]


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_generate_imports_the_explainer_never(tmp_path, jobs: str) -> None:
    """With two jobs, grafanalib is imported by the forked helper only; with one, here."""
    out = tmp_path / "out"
    args = ("generate", "--no-cache", "--jobs", jobs, "--spec", str(SAMOKODER), "--out", str(out))
    want = ["grafanalib", "jinja2"] if jobs == "1" else ["jinja2"]
    assert imported(*args) == want
    assert (out / "samokoder" / "grafana").is_dir()


POOLS = ("multiprocessing", "concurrent.futures")


def test_a_lone_spec_is_planned_without_a_process_pool(tmp_path) -> None:
    """One spec is planned here and in one forked helper, over two plain pipes; the old
    tree is removed by plain threads. Importing the pools' modules cost about 20 ms of
    start-up before the helper was forked, and 5 ms more at the swap."""
    out = tmp_path / "out"
    for _ in range(2):  # the second run swaps out the first one's tree
        assert (
            imported(
                "generate", "--no-cache", "--spec", str(SAMOKODER), "--out", str(out), of=POOLS
            )
            == []
        )


def test_several_specs_on_two_jobs_use_the_process_pool(tmp_path) -> None:
    """The pool is imported where it works: the mutation that never forks fails here."""
    specs = tmp_path / "specs"
    specs.mkdir()
    for name in ("one", "two"):
        text = SAMOKODER.read_text(encoding="utf-8").replace("samokoder", name)
        (specs / f"{name}.yaml").write_text(text, encoding="utf-8")
    args = ("generate", "--no-cache", "--jobs", "2", "--spec-dir", str(specs))
    assert imported(*args, "--out", str(tmp_path / "out"), of=POOLS) == list(POOLS)
