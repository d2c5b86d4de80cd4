"""Which spec files the commands read when no ``--spec`` is given: every ``*.yaml`` and
``*.yml`` in ``--spec-dir`` (the pre-commit hook fires on both), and a missing or empty
folder is reported under the name the user gave, not a default."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_support import CHECKOUT, SAMOKODER, run_cli

# What every tree holds besides its services (Samokoder has routing).
SHARED = {"_grafana", "alertmanager.yml"}


def test_yml_and_yaml_specs_are_both_read(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    shutil.copy(SAMOKODER, specs / "samokoder.yaml")
    shutil.copy(CHECKOUT, specs / "checkout.yml")
    (specs / "notes.txt").write_text("not a spec\n")
    proc = run_cli("validate", "--spec-dir", specs, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "checkout.yml: ok" in proc.stdout and "samokoder.yaml: ok" in proc.stdout
    proc = run_cli("generate", "--spec-dir", specs, "--out", tmp_path / "out", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert {p.name for p in (tmp_path / "out").iterdir()} == SHARED | {"samokoder", "checkout"}


def test_the_same_service_as_yml_and_yaml_is_an_error(tmp_path: Path) -> None:
    specs = tmp_path / "specs"
    specs.mkdir()
    shutil.copy(SAMOKODER, specs / "samokoder.yaml")
    shutil.copy(SAMOKODER, specs / "samokoder.yml")
    proc = run_cli("validate", "--spec-dir", specs, cwd=tmp_path)
    assert proc.returncode == 2
    assert "is also the service of" in proc.stderr, proc.stderr


@pytest.mark.parametrize("command", ["validate", "generate", "check"])
@pytest.mark.parametrize("state", ["missing", "empty"])
def test_a_missing_or_empty_spec_dir_is_named_as_given(
    tmp_path: Path, command: str, state: str
) -> None:
    specs = tmp_path / "my-specs"
    if state == "empty":
        specs.mkdir()
        (specs / "README.md").write_text("specs go here\n")
    proc = run_cli(command, "--spec-dir", "my-specs", cwd=tmp_path)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    first = proc.stderr.splitlines()[0]
    assert first.startswith("my-specs:1:1: "), first
    assert ("no such folder" if state == "missing" else "no spec found") in first
    assert not (tmp_path / "out").exists()
