"""Output is byte-identical across runs, hash seeds, locales, spec key order and file order.

Every test runs the real command line in a fresh project folder holding three specs (one with
non-ASCII text) and compares the whole out/ tree, byte for byte, with one baseline run.
"""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest
import yaml
from cli_support import CHECKOUT, ROOT, SAMOKODER, run_cli, tree
from click.testing import CliRunner
from yaml_io import load_yaml

from generator import alertmanager_config, cli, parallel
from generator.grafana import provisioning

SPECS = [SAMOKODER, CHECKOUT, ROOT / "tests" / "fixtures" / "hostile" / "literal-text.yaml"]
BASE_ENV = {"PYTHONHASHSEED": "0", "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}


def make_project(folder: Path, specs: list[tuple[str, bytes]]) -> Path:
    """Return ``folder`` holding slo_specs/ with ``specs`` written in the given order."""
    (folder / "slo_specs").mkdir(parents=True)
    for name, content in specs:
        (folder / "slo_specs" / name).write_bytes(content)
    return folder


def originals() -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in SPECS]


def generated(project: Path, *args: str, **env: str) -> dict[str, bytes | str]:
    """Run ``generate`` in ``project`` and return its out/ tree."""
    proc = run_cli("generate", *args, cwd=project, env={**BASE_ENV, **env})
    assert proc.returncode == 0, proc.stderr
    return tree(project / "out")


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes | str]:
    project = make_project(tmp_path_factory.mktemp("baseline"), originals())
    out = generated(project)
    services = {k.split("/")[0] for k in out} - {provisioning.TREE, alertmanager_config.FILE}
    assert services == {"samokoder", "checkout", "literal-text"}
    assert any("ünïcode".encode() in v for v in out.values() if isinstance(v, bytes))
    return out


def test_two_runs_are_identical(baseline, tmp_path: Path) -> None:
    project = make_project(tmp_path, originals())
    assert generated(project) == baseline
    assert generated(project) == baseline  # over an existing out/, too


@pytest.mark.parametrize("seed", ["1", "42", "4294967295", "random"])
def test_hash_seed_does_not_matter(baseline, tmp_path: Path, seed: str) -> None:
    project = make_project(tmp_path, originals())
    assert generated(project, PYTHONHASHSEED=seed) == baseline


@pytest.mark.parametrize("locale", ["C", "C.UTF-8", "POSIX"])
def test_locale_does_not_matter(baseline, tmp_path: Path, locale: str) -> None:
    project = make_project(tmp_path, originals())
    env = {"LC_ALL": locale, "LANG": locale, "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"}
    assert generated(project, **env) == baseline


def shuffled(data: object, rng: random.Random) -> object:
    """Return ``data`` with the keys of every mapping in a random order (lists keep theirs)."""
    if isinstance(data, dict):
        keys = list(data)
        rng.shuffle(keys)
        return {k: shuffled(data[k], rng) for k in keys}
    if isinstance(data, list):
        return [shuffled(x, rng) for x in data]
    return data


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_key_order_in_the_spec_does_not_matter(baseline, tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    specs = []
    for name, content in originals():
        data = load_yaml(content)
        mixed = shuffled(data, rng)
        assert mixed == data
        text = yaml.safe_dump(mixed, sort_keys=False, allow_unicode=True, width=10_000)
        specs.append((name, text.encode("utf-8")))
    assert [s for _, s in specs] != [c for _, c in originals()]
    project = make_project(tmp_path, specs)
    assert generated(project) == baseline


def test_file_order_does_not_matter(baseline, tmp_path: Path) -> None:
    # Created in reverse order, so the directory lists them differently, and passed to
    # --spec in both orders.
    project = make_project(tmp_path, list(reversed(originals())))
    assert generated(project) == baseline
    names = [f"slo_specs/{name}" for name, _ in originals()]
    for order in (names, list(reversed(names)), names[1:] + names[:1]):
        shutil.rmtree(project / "out")
        args = [arg for name in order for arg in ("--spec", name)]
        assert generated(project, *args) == baseline


@pytest.mark.parametrize("jobs", ["1", "2", "3"])
def test_the_number_of_processes_does_not_matter(baseline, tmp_path: Path, jobs: str) -> None:
    """Services planned in 1, 2 or 3 processes (3 > this machine's 2 cores, so workers race)
    write the same bytes; ``check`` agrees whatever its own process count."""
    project = make_project(tmp_path, originals())
    assert generated(project, "--jobs", jobs) == baseline
    proc = run_cli("check", "--jobs", "3" if jobs == "1" else "1", cwd=project, env=BASE_ENV)
    assert proc.returncode == 0, proc.stdout + proc.stderr


LONE_SPECS = [SAMOKODER, *sorted((ROOT / "tests" / "fixtures" / "specs").glob("*.yaml"))]


@pytest.mark.parametrize("spec", LONE_SPECS, ids=lambda p: p.stem)
def test_a_lone_spec_on_two_cores_writes_what_one_core_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: Path
) -> None:
    """With one spec and two processes, ``generate`` plans the service's dashboard and
    deploy targets in a forked helper while it plans the rules and their tests; with --jobs 1,
    all in one process. The helper did plan them, and the two trees are the same bytes."""
    handed = []
    real = parallel.Helper.submit

    def spy(self, fn, arg):
        handed.append(f"{fn.__module__}.{fn.__qualname__}")
        return real(self, fn, arg)

    monkeypatch.setattr(parallel.Helper, "submit", spy)
    trees = {}
    for jobs in ("2", "1"):
        out = tmp_path / f"jobs{jobs}"
        args = ["generate", "--spec", str(spec), "--out", str(out), "--jobs", jobs]
        result = CliRunner().invoke(cli.main, args)
        assert result.exit_code == 0, result.output
        trees[jobs] = tree(out)
    assert parallel.cores() >= 2, "this test needs a machine with two CPUs, as CI has"
    assert handed == ["generator.presentation.files"]  # with --jobs 2 only
    assert trees["2"] == trees["1"]
