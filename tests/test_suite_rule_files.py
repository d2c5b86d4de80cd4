"""Each generated suite loads some of the rule files (the SLO suites only the SLO files, since
promtool evaluates every loaded rule at every step). A check about a rule that is not loaded
would pass vacuously: an alert expected silent never fires, a series expected absent is
never recorded. So, for every suite of every shipped spec:

- every recorded series or alert that a check reads (``mutants.reads``: by name, or any
  alert for an ``ALERTS`` selector without an ``alertname`` equality) is loaded, when the
  service has such a rule at all;
- so are the inputs of every rule a check reads, and theirs in turn (the closure), so no
  rule a check depends on reads a series that the suite's rules never record. A loaded
  rule no check depends on may lack its inputs: it records nothing, and nothing reads it
  (the MetricAbsent suite loads ``alerts.yml`` alone, whose threshold rules read
  recordings).

The last test shows that the check fails: the same suites, each with one file it needs
dropped.
"""

from __future__ import annotations

import functools
import posixpath

import pytest
import yaml
from cli_support import ROOT, SAMOKODER
from depth import examples
from hypothesis import HealthCheck, given, settings
from mutants import ALERT_CHECK, CHECKS, reads
from test_properties import valid_specs

from generator.plan import service_files
from generator.prometheus.rule_files import FILES
from generator.spec.loader import load, load_text

FIXTURES = ROOT / "tests" / "fixtures"
SPECS = [
    SAMOKODER,
    FIXTURES / "native" / "render.yaml",
    *sorted((FIXTURES / "specs").glob("*.yaml")),
]


@functools.cache
def _parsed(content: bytes) -> dict:
    return yaml.load(content, Loader=yaml.CSafeLoader)


read_once = functools.cache(reads)


def _suites(files: dict[str, bytes]) -> dict[str, dict]:
    return {
        path: _parsed(content)
        for path, content in files.items()
        if "/tests/" in path and path.endswith(".yml")
    }


def _rules(files: dict[str, bytes], paths: list[str]) -> list[dict]:
    return [r for p in paths for g in _parsed(files[p])["groups"] for r in g["rules"]]


def _key(rule: dict) -> tuple[str, str]:
    return ("record", rule["record"]) if "record" in rule else ("alert", rule["alert"])


def unread(files: dict[str, bytes], path: str, suite: dict) -> list[str]:
    """Return what ``suite`` (the test file ``path`` among the generated ``files``) reads but
    does not load, one sentence each; empty when it loads every rule it reads.

    Rules are told apart by folder as well as name: every environment of a spec defines
    the same names, in ``prometheus/<env>/``. A loaded rule reads its own folder's series; a
    check may read any loaded folder's."""
    folder = posixpath.dirname(path)
    loaded_paths = [posixpath.normpath(posixpath.join(folder, f)) for f in suite["rule_files"]]
    # The rule folders: those of the loaded files, and the one above the suite's (a suite
    # that loads nothing still reads the rules beside it).
    dirs = sorted({posixpath.dirname(p) for p in loaded_paths} | {posixpath.dirname(folder)})
    every_paths = [f"{d}/{n}" for d in dirs for n in FILES if f"{d}/{n}" in files]

    def keyed(paths: list[str]) -> set[tuple[str, str, str]]:
        return {(posixpath.dirname(p), *_key(r)) for p in paths for r in _rules(files, [p])}

    missing = keyed(every_paths) - keyed(loaded_paths)
    loaded = {
        (posixpath.dirname(p), *_key(r)): r["expr"]
        for p in loaded_paths
        for r in _rules(files, [p])
    }
    followed: set[tuple[str, str, str]] = set()
    problems: list[str] = []

    def matching(keys, key: tuple[str, str], where: str | None):
        return sorted(
            k for k in keys if where in (None, k[0]) and k[1] == key[0] and key[1] in ("*", k[2])
        )

    def need(key: tuple[str, str], who: str, where: str | None = None) -> None:
        """``who`` reads ``key`` (a name, or "*" for any of its kind) in folder ``where``
        (None: in any loaded folder); so does whatever reads the rules it names."""
        hits = matching(missing, key, where)
        problems.extend(f"{path}: {who} reads {d}/{n}, which is not loaded" for d, _, n in hits)
        for found in matching(loaded, key, where):
            if found not in followed:
                followed.add(found)
                for input_key in read_by(loaded[found]):
                    need(input_key, f"rule {found[2]}", found[0])

    def read_by(expr: str) -> set[tuple[str, str]]:
        keys = read_once(expr)
        # Unparsed (MetricsQL only): it may read anything.
        return {("record", "*"), ("alert", "*")} if keys is None else keys

    for case in suite["tests"]:
        for field in CHECKS:
            for check in case.get(field, ()):
                if field == ALERT_CHECK:
                    need(("alert", check["alertname"]), f"{case.get('name', '')[:40]!r}")
                else:
                    for key in read_by(check["expr"]):
                        need(key, f"{case.get('name', '')[:40]!r} ({check['expr'][:60]})")
    return problems


@pytest.fixture(scope="module", params=SPECS, ids=lambda p: p.stem)
def generated(request) -> dict[str, bytes]:
    return service_files(load(request.param))


def test_every_suite_loads_every_rule_its_checks_read(generated: dict[str, bytes]) -> None:
    suites = _suites(generated)
    assert suites
    problems = [p for path, suite in suites.items() for p in unread(generated, path, suite)]
    assert not problems, "\n".join(problems[:20])


@settings(
    max_examples=examples(deep=200, quick=25),
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(spec=valid_specs())
def test_every_suite_of_a_random_spec_loads_every_rule_its_checks_read(spec: dict) -> None:
    """The kind beyond the shipped specs: which files a suite loads follows from what the
    spec watches (a threshold on an availability signal reads the SLO recordings)."""
    text = yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)
    generated = service_files(load_text("random.yaml", text))
    problems = [
        p for path, suite in _suites(generated).items() for p in unread(generated, path, suite)
    ]
    assert not problems, "\n".join(problems[:20])


def test_the_slo_suites_load_no_signal_rule() -> None:
    """What the split buys: the days-long SLO suites evaluate no golden-signal, threshold,
    TargetDown or MetricAbsent rule at each of their steps."""
    suites = _suites(service_files(load(SAMOKODER)))
    for name in ("burn_rate_times", "slo_alerts", "slo_values"):
        files = suites[f"samokoder/prometheus/tests/{name}_test.yml"]["rule_files"]
        assert {posixpath.basename(f) for f in files} <= {
            "slo_recording_rules.yml",
            "slo_alerts.yml",
        }, name


@pytest.mark.parametrize("spec", [SAMOKODER, ROOT / "tests/fixtures/specs/clusters.yaml"])
def test_a_suite_without_a_file_it_reads_is_reported(spec) -> None:
    """The check can fail: drop each loaded file in turn from every suite; a file that a
    check reads, directly or through the rules it reads, is then reported. At least the SLO
    alerts of the burn-rate suite, the alerts of the MetricAbsent suite, the recordings the
    threshold alerts read (an availability threshold reads the SLO recordings) and the
    signal alerts of the kept-label suite (it expects no alert of any kind for the other
    cluster) must be, and each environment's SLO alerts in the suite of two environments
    (the other environment defines the same alert names)."""
    files = service_files(load(spec))
    reported = set()
    for path, suite in _suites(files).items():
        for dropped in suite["rule_files"]:
            rest = [f for f in suite["rule_files"] if f != dropped]
            if unread(files, path, {**suite, "rule_files": rest}):
                reported.add((posixpath.basename(path), dropped.removeprefix("../")))
    assert ("burn_rate_times_test.yml", "slo_alerts.yml") in reported
    if spec == SAMOKODER:
        assert {
            ("absent_data_alerts_test.yml", "alerts.yml"),
            ("threshold_alerts_test.yml", "recording_rules.yml"),
            ("threshold_alerts_test.yml", "slo_recording_rules.yml"),
        } <= reported
    if "clusters" in spec.name:
        assert ("kept_labels_test.yml", "alerts.yml") in reported
        dropped = {d for s, d in reported if s == "environments_test.yml"}
        assert {"staging/slo_alerts.yml", "prod/slo_alerts.yml"} <= dropped, dropped
