"""Raw PromQL SLIs (issue 15, section 1): ``error_query`` / ``total_query`` and
``ratio_query`` with a ``{{ window }}`` placeholder.

The verdicts are the engines': the fixture spec's generated rules load and its generated
tests pass on every rule engine, and fail once a raw SLI's recorded query goes silent. The
kind: any raw query built from random selectors and functions that ``validate`` accepts loads
in promtool, and a malformed one is refused with a position inside the query.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import depth
import pytest
import yaml
from cli_support import ROOT, run_cli, unit_test_failures
from depth import draws
from hypothesis import given, settings
from hypothesis import strategies as st
from yaml_io import load_yaml

from generator import tools
from generator.output import to_yaml
from generator.prometheus import recording
from generator.spec.errors import SpecInvalid
from generator.spec.loader import load, load_text

SPEC = ROOT / "tests" / "fixtures" / "specs" / "raw_sli.yaml"
PROMETHEUS_3 = tools.engine("prometheus-3.5")


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return out/storefront generated from the raw-SLI fixture spec."""
    out = tmp_path_factory.mktemp("raw") / "out"
    proc = run_cli("generate", "--spec", SPEC, "--out", out)
    assert proc.returncode == 0, proc.stderr
    return out / "storefront"


def test_the_fixture_spec_reads_each_raw_shape() -> None:
    """The issue's shapes: counted error/total queries, a counted ratio query, and a join
    the synthetic series cannot drive (watched for absence through every total selector)."""
    slos = {s.name: s.sli for s in load(SPEC).slos}
    assert slos["requests"].kind == "query" and slos["requests"].testable
    assert slos["checkout-ratio"].kind == "ratio_query" and slos["checkout-ratio"].testable
    assert not slos["checkout-ratio"].weighted
    search = slos["search"]
    assert search.kind == "query" and not search.testable
    watched = {search.total.metric.name, *(s.metric.name for s in search.inputs)}
    assert watched == {"storefront_search_total", "storefront_build_info"}


@pytest.mark.deep
def test_raw_slis_load_and_their_generated_tests_pass_on_every_engine(generated: Path) -> None:
    rules = sorted((generated / "prometheus").glob("*.yml"))
    for engine in tools.RULE_ENGINES:
        proc = tools.check_rule_files(engine, rules)
        assert proc.returncode == 0, f"{engine}: {proc.stdout}{proc.stderr}"
    tests = generated / "prometheus" / "tests"
    engines = depth.engines("raw SLIs", tools.RULE_ENGINES, replays=True)
    assert unit_test_failures(tests, engines) == []
    alerts = (tests / "slo_alerts_test.yml").read_text()
    for slo in ("requests", "checkout-ratio"):  # both driven by synthesised series
        assert f'slo="{slo}"' in alerts or f"slo: {slo}" in alerts
    assert "storefront_build_info" in (tests / "absent_data_alerts_test.yml").read_text()


@pytest.mark.parametrize("engine", [PROMETHEUS_3, tools.VICTORIAMETRICS], ids=lambda e: e.name)
def test_an_error_side_without_series_is_not_an_absent_metric(
    engine: tools.Engine, generated: Path, tmp_path: Path
) -> None:
    """Before the first failed checkout, ``storefront_checkouts_failed_total`` (the ratio
    query's error side) has no series at all: MetricAbsent stays silent for 2h while every
    all-events selector is exported. (The generated absent_data_alerts_test.yml, run above on
    every engine, shows it firing when an all-events metric is renamed.)"""
    exported = [
        'up{job="storefront", instance="a:1"}',
        'storefront_http_requests_total{job="storefront", instance="a:1"}',
        'storefront_checkouts_total{job="storefront", instance="a:1"}',
        'storefront_search_total{job="storefront", instance="a:1"}',
        'storefront_build_info{channel="stable", instance="a:1"}',
    ]
    suite = {
        "rule_files": [str(generated / "prometheus" / "alerts.yml")],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": "1m",
                "input_series": [
                    {"series": s, "values": "1+0x120" if s.startswith("up") else "1+1x120"}
                    for s in exported
                ],
                "alert_rule_test": [
                    {"eval_time": f"{m}m", "alertname": "MetricAbsent", "exp_alerts": []}
                    for m in (31, 120)
                ],
            }
        ],
    }
    path = tmp_path / "error_side_test.yml"
    path.write_text(yaml.safe_dump(suite, sort_keys=False))
    proc = tools.run_unit_tests(engine, [path])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _mute(rules: Path, query_start: str) -> None:
    """Rewrite every recorded rule whose expr starts with ``query_start`` to read nothing."""
    data = load_yaml(rules.read_text())
    hits = 0
    for group in data["groups"]:
        for rule in group["rules"]:
            if rule["expr"].startswith(query_start):
                rule["expr"] = f"0 * ({rule['expr']})"
                hits += 1
    assert hits, query_start
    rules.write_text(yaml.safe_dump(data, sort_keys=False))


@pytest.mark.parametrize(
    "query_start",
    [
        'sum(rate(storefront_http_requests_total{job="storefront", code=~"5.."}',
        "(sum(increase(storefront_checkouts_failed_total",
    ],
    ids=["error_query", "ratio_query"],
)
def test_a_raw_sli_that_stops_seeing_errors_fails_its_generated_tests(
    generated: Path, tmp_path: Path, query_start: str
) -> None:
    """No silent gap: the synthesised outage must page through the user's own query."""
    copy = tmp_path / "storefront"
    subprocess.run(["cp", "-r", str(generated), str(copy)], check=True)
    _mute(copy / "prometheus" / "slo_recording_rules.yml", query_start)
    tests = copy / "prometheus" / "tests"
    proc = tools.run_unit_tests(PROMETHEUS_3, [tests / "slo_alerts_test.yml"], cwd=tests)
    assert proc.returncode != 0, proc.stdout


# -- the kind: random raw queries -----------------------------------------------------------

_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_VALUES = st.sampled_from(["api", "5..", "GET|POST", "", ".*", "[a-z]+", "prod-eu", "4[0-9]{2}"])
_OPS = st.sampled_from(["=", "!=", "=~", "!~"])


@st.composite
def selectors(draw, name: str) -> str:
    labels = draw(st.lists(_NAMES.filter(lambda n: n != "le"), max_size=3, unique=True))
    matchers = [f'{lbl}{draw(_OPS)}"{draw(_VALUES)}"' for lbl in labels]
    return name + ("{" + ", ".join(matchers) + "}" if matchers else "")


@st.composite
def queries(draw, name: str, fn: str) -> str:
    """A query over ``name``: the counted shape or one the tests cannot drive."""
    sel = draw(selectors(name))
    rng = f"{sel}[{draw(st.sampled_from(['{{ window }}', '{{window}}', '{{  window}}']))}]"
    shape = draw(
        st.sampled_from(
            [
                "sum({f}({r}))",
                "sum by (job) ({f}({r}))",
                "max without (instance) ({f}({r}))",
                "sum({f}({r} offset 1m))",
                "sum({f}({r})) * on () group_left () max(up)",
                "(sum({f}({r})))",
                "clamp_min(sum({f}({r})), 0)",
            ]
        )
    )
    return shape.format(f=fn, r=rng)


SPEC_HEAD = """service: shop
metrics:
  requests: {name: shop_requests_total, type: counter, selector: 'job="shop"'}
slos:
  - name: raw
    objective: 99.5
    sli:
"""


@settings(**draws(deep=60, quick=12), deadline=None)
@given(data=st.data())
def test_any_raw_query_validate_accepts_loads_in_promtool(tmp_path_factory, data) -> None:
    fn = data.draw(st.sampled_from(["rate", "increase"]))
    ratio = data.draw(st.booleans())
    bad = data.draw(queries("shop_errors_total", fn))
    total = data.draw(queries("shop_requests_total", fn))
    if ratio:
        sli = f"      ratio_query: '{bad} / {total}'\n"
    else:
        sli = f"      error_query: '{bad}'\n      total_query: '{total}'\n"
    try:
        service = load_text("raw.yaml", SPEC_HEAD + sli)
    except SpecInvalid as exc:  # only a counted query whose selector matches no series
        assert all("series" in e.message for e in exc.errors), exc.errors
        return
    rules = tmp_path_factory.mktemp("rules") / "rules.yml"
    rules.write_bytes(to_yaml({"groups": recording.groups(service)}, "raw.yaml"))
    proc = tools.check_rule_files(PROMETHEUS_3, [rules])
    assert proc.returncode == 0, f"{sli}\n{proc.stdout}{proc.stderr}"
    assert "{{" not in rules.read_text()


@settings(**draws(deep=60, quick=12), deadline=None)
@given(data=st.data())
def test_a_malformed_raw_query_is_refused_at_its_character(data) -> None:
    """A stray template, or a regex Go's RE2 refuses, spliced into a valid query: validate
    refuses it at the very line and column of the splice, inside the YAML string."""
    query = data.draw(queries("shop_requests_total", "rate"))
    style = data.draw(st.sampled_from(["single", "block"]))
    flaw = data.draw(st.sampled_from(["template", "regex"]))
    if flaw == "template":  # anywhere but inside the query's own placeholders
        spans = [range(m.start() + 1, m.end()) for m in re.finditer(r"\{\{.*?\}\}", query)]
        inside = {i for span in spans for i in span}
        at = data.draw(st.integers(0, len(query)).filter(lambda i: i not in inside))
        bad = data.draw(st.sampled_from(["{{ interval }}", "{{ .Window }}", "{{window"]))
        query = query[:at] + bad + query[at:]
    else:
        at = query.index("shop_requests_total") + len("shop_requests_total")
        bad_matcher = '{code=~"(?<c>5).."}'
        if query[at] == "{":  # a selector with matchers: add one
            query, at = query[: at + 1] + 'code=~"(?<c>5)..", ' + query[at + 1 :], at + 8
        else:
            query, at = query[:at] + bad_matcher + query[at:], at + 8
    if style == "single":
        line, column = 8, len("      ratio_query: '") + 1 + at
        sli = f"      ratio_query: '{query}'\n"
    else:
        line, column = 9, 9 + at
        sli = f"      ratio_query: |\n        {query}\n"
    with pytest.raises(SpecInvalid) as raised:
        load_text("raw.yaml", SPEC_HEAD + sli)
    spots = {(e.line, e.column) for e in raised.value.errors}
    assert (line, column) in spots, [str(e) for e in raised.value.errors]
    assert all(re.match(r"slos\[0\]\.sli\.ratio_query$", e.path) for e in raised.value.errors)
