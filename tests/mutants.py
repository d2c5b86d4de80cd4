"""Mutation testing of generated rules, run only against the checks that cover the mutation.

A mutation edits a generated rule file (a threshold moved, a guard removed). The rules it
changes, and every rule that reads them directly or through other recorded series, are the
*affected* rules. A check of a generated unit-test suite *covers* the mutation when it
expects an affected alert (``alert_rule_test``) or its expression reads an affected series
or alert (``promql_expr_test`` / ``metricsql_expr_test``, ``ALERTS{alertname=...}``).

:func:`assert_caught` keeps only the covering checks of the named suites and runs them on the
mutant, a test case at a time until one fails: one must, and its failure must name an
affected rule. That case also runs on the original rules and must pass: the subset is a
suite the engine runs (that every check passes on the original,
``test_generated_unit_tests_pass_*`` prove).

Why a subset is proof for the whole suite: promtool and vmalert-tool evaluate every rule
group of a test case from 0 up to the case's last ``eval_time``, the same way whichever
checks it holds, so a check that fails in the subset fails in the whole suite too. And both
engines stop at that last ``eval_time``, so running the checks up to growing horizons means a
mutation that a check catches at 5 m no longer replays three days.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import promql_parser
import yaml
from generated_rules import rules_in
from yaml_io import load_yaml

from generator import tools
from generator.prometheus.rule_reads import selectors
from generator.promql import parse_duration

ALERT_CHECK = "alert_rule_test"
CHECKS = (ALERT_CHECK, "promql_expr_test", "metricsql_expr_test")

# A rule's key in the dependency graph: ("record", metric name) or ("alert", alert name).
Key = tuple[str, str]


def reads(expr: str) -> set[Key] | None:
    """The recorded series and alerts ``expr`` reads; None if it does not parse as PromQL
    (a MetricsQL-only expression): the caller then keeps the check, to be safe."""
    try:
        tree = promql_parser.parse(expr)
    except ValueError:
        return None
    keys: set[Key] = set()
    for sel in selectors(tree):
        if sel.name in ("ALERTS", "ALERTS_FOR_STATE"):
            # An alert named by equality; any other alertname matcher, or none, may read any.
            on_name = [m for m in sel.matchers.matchers if m.name == "alertname"]
            if on_name and all(m.op == promql_parser.MatchOp.Equal for m in on_name):
                keys |= {("alert", m.value) for m in on_name}
            else:
                keys.add(("alert", "*"))
        elif sel.name:
            keys.add(("record", sel.name))
    return keys


def _key(rule: dict) -> Key:
    return ("record", rule["record"]) if "record" in rule else ("alert", rule["alert"])


def _touches(read: set[Key] | None, hit: set[Key]) -> bool:
    """Whether a rule or check reading ``read`` sees a change in ``hit``."""
    if read is None:
        return True
    return bool(read & hit) or (("alert", "*") in read and any(k[0] == "alert" for k in hit))


def affected(before: list[dict], after: list[dict]) -> set[Key]:
    """The rules a mutation changed, added or removed, closed over every rule that reads one
    of them (a recorded series, or an alert through ``ALERTS``)."""
    hit = {_key(r) for r in before if r not in after} | {_key(r) for r in after if r not in before}
    readers = [(_key(r), reads(r["expr"])) for r in (*before, *after)]
    while True:
        grown = {key for key, read in readers if _touches(read, hit)}
        if grown <= hit:
            return hit
        hit |= grown


def only(suite: dict, keep: Callable[[str, dict], bool]) -> dict:
    """``suite`` with only the checks for which ``keep(field, check)`` holds (``field`` is
    ``alert_rule_test`` or an expression-check field); cases left without checks go."""
    kept = []
    for case in suite["tests"]:
        checks = {f: [c for c in case[f] if keep(f, c)] for f in CHECKS if f in case}
        if any(checks.values()):
            rest = {k: v for k, v in case.items() if k not in CHECKS}
            kept.append(rest | {f: c for f, c in checks.items() if c})
    return {**suite, "tests": kept}


def covering(suite: dict, hit: set[Key]) -> dict:
    """``suite`` with only the checks that cover the affected rules ``hit``."""
    alerts = {name for kind, name in hit if kind == "alert"}
    return only(
        suite,
        lambda field, c: (
            c["alertname"] in alerts if field == ALERT_CHECK else _touches(reads(c["expr"]), hit)
        ),
    )


def horizons(suite: dict) -> list[int]:
    """Growing last evaluation times, in seconds, to run ``suite``'s checks up to, ending with
    its last ``eval_time``. Each is the latest ``eval_time`` within twice the one before (or,
    if none is, the next one), so every second step at least doubles: replaying up to each
    in turn costs at most about 4x replaying up to the first that catches the mutant, and
    a mutation a check catches at 2 h never waits for a check at 3 days."""
    times = sorted({parse_duration(c["eval_time"]) for _, c in _checks(suite)})
    steps = [times[0]]
    while steps[-1] < times[-1]:
        within = [t for t in times if steps[-1] < t <= 2 * steps[-1]]
        steps.append(within[-1] if within else next(t for t in times if t > steps[-1]))
    return steps


def _checks(suite: dict) -> Iterator[tuple[str, dict]]:
    for case in suite["tests"]:
        for field in CHECKS:
            for check in case.get(field, ()):
                yield field, check


def assert_caught(
    engine: tools.Engine,
    rules: Path,
    mutated: str,
    mutate: Callable[[str], str],
    suites: Iterable[str],
    scratch: Path,
    passed_whole: bool = False,
) -> None:
    """Assert that each suite in ``suites`` (``slo_values``) catches the mutation: once
    ``mutate`` has rewritten the rule file ``mutated`` (``alerts.yml``) of ``rules`` (a
    generated ``prometheus/`` folder), the suite's checks that cover it fail, naming an
    affected rule, while the test case that failed passes on the original rules.

    The covering checks run up to each of :func:`horizons` in turn, a case at a time, and
    stop at the first case that catches the mutant. Raises AssertionError if the mutation
    changes nothing, if no check covers it, if the mutant passes every covering check, or
    if the original fails.

    ``passed_whole``: the caller has just run each of ``suites`` whole on ``engine`` over the
    unmutated ``rules``, and it passed. The failing case is then not run on the original
    again: a case's checks are evaluated the same way whichever of its checks it holds and
    up to whichever horizon (see above), so a subset of a passing suite passes. That saves
    a replay, three days for the value cases."""
    original, mutant = scratch / "original" / "prometheus", scratch / "mutant" / "prometheus"
    shutil.copytree(rules, original)
    shutil.copytree(rules, mutant)
    text = (mutant / mutated).read_text(encoding="utf-8")
    assert mutate(text) != text, f"the mutation changed nothing in {mutated}"
    (mutant / mutated).write_text(mutate(text), encoding="utf-8")
    hit = affected(rules_in(original), rules_in(mutant))
    names = sorted(name for _, name in hit if name != "*")
    for suite in suites:
        paths = [
            next(p for p in tools.unit_test_files(engine, f / "tests") if p.stem == f"{suite}_test")
            for f in (original, mutant)
        ]
        checks = covering(load_yaml(paths[0].read_text(encoding="utf-8")), hit)
        assert checks["tests"], f"no check of {suite} covers {names}"
        for horizon in horizons(checks):
            subset = only(checks, lambda _, c, h=horizon: parse_duration(c["eval_time"]) <= h)
            found = _first_failing_case(engine, subset, paths[1])
            if found is not None:
                case, caught = found
                if passed_whole:
                    break
                # The case that fails on the mutant is one this engine runs, and passes.
                suite_text = yaml.safe_dump({**subset, "tests": [case]}, sort_keys=False)
                paths[0].write_text(suite_text, "utf-8")
                passed = tools.run_unit_tests(engine, paths[:1])
                assert passed.returncode == 0, (
                    f"{engine}: {suite}'s covering checks fail unmutated:\n"
                    f"{passed.stdout}{passed.stderr}"
                )
                break
        else:
            raise AssertionError(f"{engine} accepted the mutation of {mutated} in {suite}")
        report = caught.stdout + caught.stderr
        assert any(n in report for n in names), (
            f"{engine}: {suite} failed, naming none of {names}:\n{report}"
        )


def _first_failing_case(
    engine: tools.Engine, suite: dict, path: Path
) -> tuple[dict, subprocess.CompletedProcess[str]] | None:
    """Run ``suite``'s cases one at a time, written to ``path``, and return the first case
    that fails with its run (None if every case passes). Cases are independent (each
    replays its own series from 0), so stopping at the first failure leaves the verdict as
    the whole suite's, and a mutation that the first of two 3-day cases catches replays
    3 days once."""
    for case in suite["tests"]:
        path.write_text(yaml.safe_dump({**suite, "tests": [case]}, sort_keys=False), "utf-8")
        run = tools.run_unit_tests(engine, [path])
        if run.returncode != 0:
            return case, run
    return None


def budget_over_3d(text: str) -> str:
    """A recording-rule file whose budget remaining reads the 3-day error ratio (the longest
    burn-rate window) instead of the 30-day period's: it forgets incidents older than 3 days."""
    return re.sub(
        r"(record: slo:error_budget_remaining:ratio\n\s+expr: .*?)ratio_rate30d",
        r"\1ratio_rate3d",
        text,
    )
