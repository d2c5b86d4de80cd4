"""Latency SLIs on native histograms (issue 15, section 1): ``latency: {..., native: true}``.

Measured on the engines themselves: Prometheus 2.42, 2.53 and 3.5 load the rules
(``histogram_fraction`` and ``histogram_count`` parse from 2.40); promtool reads the
native-histogram series notation from 2.53 on, so the generated native suite runs there and
2.42 runs the others; vmalert refuses the rules, so ``validate`` refuses ``deploy.vmalert``
beside a native SLI (tests/fixtures/bad/125-*).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_support import ROOT, run_cli

from generator import tools
from generator.prometheus import native_tests

SPEC = ROOT / "tests" / "fixtures" / "native" / "render.yaml"


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("native") / "out"
    proc = run_cli("generate", "--spec", SPEC, "--out", out)
    assert proc.returncode == 0, proc.stderr
    return out / "render" / "prometheus"


def _rules(prometheus: Path) -> list[Path]:
    return sorted(prometheus.glob("*.yml"))


def test_native_slo_rules_load_and_tests_pass_on_every_prometheus(generated: Path) -> None:
    native = generated / "tests" / native_tests.FOLDER / native_tests.FILE
    assert native.is_file()
    for engine in tools.PROMETHEUSES:
        proc = tools.check_rule_files(engine, _rules(generated))
        assert proc.returncode == 0, f"{engine}: {proc.stdout}{proc.stderr}"
        files = tools.unit_test_files(engine, generated / "tests")
        assert (native in files) == (engine in tools.NATIVE_HISTOGRAM_ENGINES), engine
        run = tools.run_unit_tests(engine, files)
        assert run.returncode == 0, f"{engine}: {run.stdout[-3000:]}{run.stderr[-2000:]}"


def test_promtool_2_42_cannot_read_the_native_series_notation(generated: Path) -> None:
    """Why 2.42 does not get the native suite: its promtool refuses the notation."""
    tests = generated / "tests" / native_tests.FOLDER
    run = tools.run_unit_tests(tools.PROMETHEUS_2_42, [tests / native_tests.FILE])
    assert run.returncode != 0 and "unexpected character" in run.stdout + run.stderr


def test_vmalert_refuses_native_histogram_rules(generated: Path) -> None:
    """Why validate refuses deploy.vmalert with a native SLI: MetricsQL lacks the functions."""
    proc = tools.check_rule_files(tools.VICTORIAMETRICS, _rules(generated))
    assert proc.returncode != 0 and "histogram_count" in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("before", "after"),
    [("(1 - histogram_fraction", "(0 * histogram_fraction"), ("(1 - histogram_", "(histogram_")],
    ids=["never-bad", "fraction-read-as-errors"],
)
def test_a_wrong_native_error_ratio_fails_the_native_suite(
    generated: Path, tmp_path: Path, before: str, after: str
) -> None:
    copy = tmp_path / "prometheus"
    shutil.copytree(generated, copy)
    rules = copy / "slo_recording_rules.yml"
    text = rules.read_text()
    assert before in text
    rules.write_text(text.replace(before, after))
    tests = copy / "tests" / native_tests.FOLDER
    run = tools.run_unit_tests(tools.PROMETHEUS_3_5, [tests / native_tests.FILE], cwd=tests)
    assert run.returncode != 0, run.stdout


def test_each_environment_gets_a_native_suite_of_its_own_rules(tmp_path: Path) -> None:
    """With ``environments``, the native suite sits beside each environment's rule files
    (``prometheus/<env>/tests/native/``), loads them and expects their groups: it passes on
    every engine that reads the notation. (It used to name ``../../recording_rules.yml``
    from ``prometheus/tests/native/``, a file that does not exist then.)"""
    spec = tmp_path / "render.yaml"
    text = SPEC.read_text(encoding="utf-8")
    spec.write_text(text + "\nenvironments:\n  prod: 'env=\"prod\"'\n  eu: 'env=\"eu\"'\n")
    out = tmp_path / "out"
    proc = run_cli("generate", "--spec", spec, "--out", out)
    assert proc.returncode == 0, proc.stderr
    prometheus = out / "render" / "prometheus"
    assert not (prometheus / "tests" / native_tests.FOLDER).exists()
    for env in ("prod", "eu"):
        native = prometheus / env / "tests" / native_tests.FOLDER / native_tests.FILE
        assert native.is_file(), env
        for engine in tools.NATIVE_HISTOGRAM_ENGINES:
            files = tools.unit_test_files(engine, prometheus / env / "tests")
            assert native in files
            run = tools.run_unit_tests(engine, files)
            assert run.returncode == 0, f"{engine} {env}: {run.stdout[-3000:]}{run.stderr[-2000:]}"
