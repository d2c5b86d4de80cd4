"""Selectors as Prometheus reads them: which strings and regexes it accepts, which label
values a matcher selects, and that every selector `validate` accepts can be generated and
tested on every engine (issue 14, items 1 and 2).

The verdicts are the engines' own: a rule holding the selector is loaded by each engine, and
the label values the generator derives are put through each engine's unit-test runner.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import depth
import pytest
import yaml
from cli_support import ROOT, run_cli, unit_test_failures

from generator import label_values, tools
from generator.prometheus.promtool_cases import EXPRESSION_TESTS
from generator.prometheus.vmalert_unittests import METRICSQL_TESTS
from generator.promql import Matcher, parse_matchers, quote

SELECTORS_SPEC = ROOT / "tests" / "fixtures" / "specs" / "selectors.yaml"

# Selector texts as a spec writes them (the YAML value of `selector` or `match`): strings in
# PromQL's three quotings with Go's escapes, and regexes from RE2's syntax and beyond it.
SELECTOR_TEXTS = [
    r'job=~"shop-(api|canary)"',
    r'code=~"(?!50[13])5.."',  # lookahead: Perl, not RE2
    r'code=~"5..(?<=3)"',  # lookbehind
    r'code=~"(5)\\1"',  # backreference
    r'code=~"\d+"',  # \d is no PromQL string escape
    r'code=~"\\d+"',
    r"code=~`\d+`",
    r"code=~'5\\d\\d'",
    r"job='it\'s'",
    r'job="it\'s"',  # \' is no escape inside double quotes
    r'job="tab\there"',
    r'job="\x41\u00e9\U0001F600"',
    r'job="\101"',
    r'job="\400"',  # octal above \377
    r'job="\q"',
    r'job=~"\\pL+"',
    r'job=~"[[:alpha:]]+"',
    r'job=~"\\Qa.b\\E"',
    r'job=~"(?i)shop"',
    r'job=~"a(?i)b"',
    r'job=~"(?P<name>a)"',
    r'job=~"(?<name>a)"',  # Go reads it from 1.22 only: Prometheus 2.42 refuses
    r'job=~"a\\C"',  # any byte: C++ RE2 only
    r'job=~"a{2,1000}"',  # Prometheus 2.53 expands it and refuses the depth
    r'job=~"a{0,499}"',
    r'job=~"a{0,500}"',
    r'job=~"((a{0,499}))"',
    r'job=~"(a{0,300}){0,2}"',
    r'job=~"a{1001}"',
    r'job=~"a++"',  # possessive
    r'job=~"a)(b"',
    r'job=~"\\z"',
    r'job=~"\\Z"',
    r'job=~"[^\\x00-\\x{10FFFF}]"',
    r'job=~""',
    r'job!~".*", job=~"a"',
]


def _accepted(text: str) -> bool:
    try:
        parse_matchers(text)
    except ValueError:
        return False
    return True


def _rule_file(folder: Path, name: str, selector: str) -> Path:
    """Write a rule file whose one recording reads ``metric{selector}`` as written."""
    path = folder / f"{name}.yml"
    rule = {"record": "job:x:sum", "expr": f"sum(x{{{selector}}})"}
    path.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": [rule]}]}), "utf-8")
    return path


def _loads_everywhere(files: list[Path]) -> list[bool]:
    """Return, per file, whether every rule engine loads it."""

    def one(path: Path) -> bool:
        return all(tools.check_rule_files(e, [path]).returncode == 0 for e in tools.RULE_ENGINES)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(one, files))


def test_the_loader_accepts_exactly_the_selectors_every_engine_loads(tmp_path: Path) -> None:
    """Item 2's kind: a selector is accepted iff Prometheus 2.42, 2.53, 3.5 and
    VictoriaMetrics all load a rule that reads it as written; and once accepted, the
    selector as the generator writes it back loads everywhere too."""
    files = [_rule_file(tmp_path, f"raw{i}", t) for i, t in enumerate(SELECTOR_TEXTS)]
    engines_say = _loads_everywhere(files)
    ours = [_accepted(t) for t in SELECTOR_TEXTS]
    disagree = [
        f"{t}: engines {'load' if e else 'refuse'} it, the loader {'accepts' if o else 'refuses'}"
        for t, e, o in zip(SELECTOR_TEXTS, engines_say, ours, strict=True)
        if e != o
    ]
    assert not disagree, "\n".join(disagree)
    assert any(ours) and not all(ours)
    written = [
        _rule_file(tmp_path, f"ours{i}", ", ".join(map(str, parse_matchers(t))))
        for i, t in enumerate(SELECTOR_TEXTS)
        if _accepted(t)
    ]
    assert all(_loads_everywhere(written))


def test_the_lookahead_of_issue_14_is_refused_with_re2s_reason() -> None:
    with pytest.raises(ValueError, match=r"invalid perl operator: \(\?!.*RE2 has no lookaround"):
        parse_matchers('code=~"(?!50[13])5.."')


def test_a_regex_d_in_double_quotes_is_an_unknown_escape() -> None:
    with pytest.raises(ValueError, match=r"unknown escape sequence \\d .* write \\\\d"):
        parse_matchers(r'code=~"\d+"')
    assert parse_matchers(r"code=~`\d+`") == parse_matchers(r'code=~"\\d+"')


# One label's matchers, alone and in the combinations the issue names. Each set must give a
# label value that the engines select; each single matcher also a value they do not select.
MATCHER_SETS = [
    'job=~"shop-(api|canary)"',
    'job=~"a.*", job!="abc"',
    'job=~"a.*", job!="a"',
    'job=~"a.*", job=~".*z"',
    'job!~".+"',  # only the empty value (the label is absent)
    'job!~"[^x]*"',  # almost everything: only values with an x escape it
    'job=~".*"',
    'job!=""',
    'job=~"", job!~"x"',
    'code=~"5..|429", code!="503", code!~"50[0-2]"',
    'code=~"[1-5][0-9]{2}", code!~"[2-4].."',
    'path=~"/api/v[0-9]+/.*", path!~".*/internal/.*"',
    "mode=~`idle|iowait`",
    r'queue=~"[[:alpha:]]+\\d?"',
    r'name=~"\\pL+"',
    'host=~"(?i)WEB-\\\\d+"',
    'le=~"0\\\\.25|2\\\\.5e-01"',
    'q=~"a\\"b\\\\\\\\c"',  # a quote and a backslash in the value
    'job=~"x{3}y?"',
    'job=~"[^a-z0-9_.:/-]+"',
]
UNSATISFIABLE = [
    'job!~".*"',
    'job="a", job=~"b.*"',
    'job=~"a.*", job!~"a.*"',
    'job=~"[a-c]", job!~"[abc]"',
    'job="a", job!="a"',
    'job=~"[^\\\\x00-\\\\x{10FFFF}]"',
]


def _case(i: int, matchers: tuple[Matcher, ...], value: str, selected: bool) -> dict:
    """A promtool unit test case: one series with ``value``; the selector counts it or not."""
    labels = dict(label_values.labels_for(matchers))
    name = matchers[0].name
    if value:
        labels[name] = value
    else:
        labels.pop(name, None)
    inner = ", ".join(f'{k}="{quote(v)}"' for k, v in sorted(labels.items()) if v)
    sel = ", ".join(map(str, matchers))
    return {
        "interval": "1m",
        "input_series": [{"series": f'x{{case="{i}", {inner}}}', "values": "1"}],
        "promql_expr_test": [
            {
                "expr": f'count(x{{case="{i}", {sel}}})',
                "eval_time": "0m",
                "exp_samples": [{"labels": "{}", "value": 1}] if selected else [],
            }
        ],
    }


def test_derived_label_values_select_what_the_engines_select(tmp_path: Path) -> None:
    """Item 1's kind: for every matcher set, the derived value is one each engine's own
    matcher selects, and for every single matcher, its derived miss is one the engine drops.
    Values are judged by the engines, not by the code that derived them."""
    cases = []
    for text in MATCHER_SETS:
        matchers = parse_matchers(text)
        cases.append(_case(len(cases), matchers, label_values.value_for(matchers), True))
        for m in matchers:
            try:
                miss = label_values.value_for((m.negated(),))
            except label_values.Unsatisfiable:
                assert m.op in ("=~", "!~"), m  # only a regex can match every value
                continue
            cases.append(_case(len(cases), (m,), miss, False))
    # vmalert-tool wants a rule group to load; this one is not read by the checks.
    rules = _rule_file(tmp_path, "rules", 'case="none"')
    for engine in tools.RULE_ENGINES:
        field = METRICSQL_TESTS if engine.family == "victoriametrics" else EXPRESSION_TESTS
        tests = [{field if k == EXPRESSION_TESTS else k: v for k, v in c.items()} for c in cases]
        suite = tmp_path / f"{engine.family}_values_test.yml"
        suite.write_text(yaml.safe_dump({"rule_files": [str(rules)], "tests": tests}), "utf-8")
        proc = tools.run_unit_tests(engine, [suite])
        assert proc.returncode == 0, f"{engine}:\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"


@pytest.mark.parametrize("text", UNSATISFIABLE)
def test_an_unsatisfiable_combination_is_named(text: str) -> None:
    with pytest.raises(label_values.Unsatisfiable, match="selects no series"):
        label_values.value_for(parse_matchers(text))


def test_derived_values_are_the_same_in_every_run() -> None:
    script = (
        "from generator import label_values; from generator.promql import parse_matchers;"
        f"print([label_values.value_for(parse_matchers(t)) for t in {MATCHER_SETS!r}])"
    )
    runs = set()
    for seed in ("0", "1", "12345"):  # str hashing (set order) differs per seed
        proc = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        )
        runs.add(proc.stdout)
    assert len(runs) == 1, runs


@pytest.mark.deep
@pytest.mark.long(4)
def test_issue_14_regex_job_validates_generates_and_its_tests_pass_everywhere(
    tmp_path: Path,
) -> None:
    """Item 1's instance (`job=~"shop-(api|canary)"`) with the combinations SREs write:
    negative and empty-string matchers, several on one label, a backtick regex, POSIX
    classes. validate and generate both succeed, and the generated suites pass on every
    engine."""
    spec = SELECTORS_SPEC.relative_to(ROOT)
    assert run_cli("validate", "--spec", spec).returncode == 0
    out = tmp_path / "out"
    proc = run_cli("generate", "--spec", spec, "--out", out)
    assert proc.returncode == 0, proc.stderr
    rules = out / "shop" / "prometheus"
    for engine in tools.RULE_ENGINES:
        loaded = tools.check_rule_files(engine, sorted(rules.glob("*.yml")))
        assert loaded.returncode == 0, f"{engine}:\n{loaded.stdout}{loaded.stderr}"
    failed = unit_test_failures(
        rules / "tests", depth.engines("issue-14 regex job", tools.RULE_ENGINES, replays=True)
    )
    assert not failed, "\n".join(failed)
    # The regex job is exercised with a value it matches, written into the test inputs.
    inputs = "".join(p.read_text() for p in (rules / "tests").glob("*.yml"))
    assert any(f'job="shop-{x}"' in inputs for x in ("api", "canary"))
