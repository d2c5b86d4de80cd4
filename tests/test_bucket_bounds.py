"""A latency SLI's ``le`` matcher matches the bound however clients and engines spell it.

Prometheus 3 rewrites ``le`` to Go's float spelling on ingestion (``1e+06``, ``2.0``);
Prometheus 2 and VictoriaMetrics keep what the client wrote: Go's client ``1e+06``, the
Python client ``2.0``, the Java client ``1.0E7``, hand-written exporters ``1000000``. A
matcher that misses one spelling counts zero bad events, and the SLO reads perfect while
requests are slow.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import re2  # google-re2: Go's regexp and RE2 share this syntax and semantics, Python's re not
import yaml
from generated_rules import write_recording_files
from hypothesis import given
from hypothesis import strategies as st

from generator import tools
from generator.plan import service_files
from generator.prometheus.rule_files import RECORDING_FILES
from generator.promql import bound_pattern, go_float, openmetrics_bound
from generator.spec.loader import load

BOUNDS = [1e-05, 0.0001, 0.005, 0.25, 2, 2.5, 100000, 1e6, 1.5e7, 123456789, 1e21]


def java_double(value: float) -> str:
    """``Double.toString`` (the Java client): plain within [1e-3, 1e7), else ``1.5E-5``."""
    digits, power = _digits(value)
    if 1e-3 <= value < 1e7:
        text = format(Decimal(repr(value)).normalize(), "f")
        return text if "." in text else text + ".0"
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{mantissa}E{power}"


def _digits(value: float) -> tuple[str, int]:
    _, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    text = "".join(map(str, digits))
    assert isinstance(exponent, int)
    return text, len(text) + exponent - 1


def plain(value: float) -> str:
    """The plain decimal a hand-written exporter prints: ``1000000``, ``0.00001``."""
    return format(Decimal(repr(value)).normalize(), "f")


SPELLINGS = {
    "go": go_float,
    "prometheus-3": openmetrics_bound,
    "python": lambda v: repr(float(v)),
    "java": java_double,
    "plain": plain,
    "padded": lambda v: plain(v) + ("00" if "." in plain(v) else ".000"),
}


def test_go_float_matches_known_go_output() -> None:
    # strconv.FormatFloat(v, 'g', -1, 64), as Go prints these.
    known = {1e6: "1e+06", 100000: "100000", 2: "2", 0.25: "0.25", 1e-05: "1e-05"}
    known |= {0.0001: "0.0001", 1.5e7: "1.5e+07", 123456789: "1.23456789e+08", 1e21: "1e+21"}
    assert {v: go_float(v) for v in known} == known
    assert openmetrics_bound(2) == "2.0" and openmetrics_bound(1e6) == "1e+06"


@given(
    st.floats(min_value=1e-12, max_value=1e22, allow_nan=False, allow_infinity=False),
    st.sampled_from(sorted(SPELLINGS)),
)
def test_the_pattern_matches_every_spelling_and_no_other_number(value: float, how: str) -> None:
    pattern = re2.compile(bound_pattern(value))
    assert pattern.fullmatch(SPELLINGS[how](value)), (value, SPELLINGS[how](value))
    for other in (value * 10, value / 10, value * 2):
        if other != value and float(SPELLINGS[how](other)) != value:
            assert not pattern.fullmatch(SPELLINGS[how](other)), (value, other)
    assert not pattern.fullmatch("+Inf")


def _spec(tmp_path: Path) -> Path:
    metrics = {
        f"h{i}": {
            "name": f"bounds_h{i}_seconds",
            "type": "histogram",
            "selector": 'job="bounds"',
            "buckets": [bound],
            "quantiles": [0.5],
        }
        for i, bound in enumerate(BOUNDS)
    }
    slos = [
        {
            "name": f"lat{i}",
            "objective": 99,
            "sli": {"latency": {"metric": f"h{i}", "threshold": b}},
        }
        for i, b in enumerate(BOUNDS)
    ]
    spec = {"service": "bounds", "period": "30d", "scrape_interval": "1m", "metrics": metrics}
    path = tmp_path / "bounds.yaml"
    path.write_text(yaml.safe_dump({**spec, "slos": slos}, sort_keys=False))
    return path


def _suite(expr_field: str) -> dict:
    """Half of every histogram's observations are above the bound, spelt each way in turn:
    over each 5m window 500 requests, 250 of them bad."""
    tests = []
    for how, spell in sorted(SPELLINGS.items()):
        series = []
        for i, bound in enumerate(BOUNDS):
            name = f"bounds_h{i}_seconds"
            labels = 'job="bounds", instance="a:1"'
            series += [
                {"series": f"{name}_count{{{labels}}}", "values": "0+100x20"},
                {"series": f'{name}_bucket{{{labels}, le="{spell(bound)}"}}', "values": "0+50x20"},
                {"series": f'{name}_bucket{{{labels}, le="+Inf"}}', "values": "0+100x20"},
            ]
        checks = [
            {
                "expr": f'slo:sli_bad_events:increase5m{{slo="lat{i}"}}',
                "eval_time": "15m",
                "exp_samples": [
                    {
                        "labels": "slo:sli_bad_events:increase5m"
                        f'{{service="bounds", slo="lat{i}", slo_type="lat{i}"}}',
                        "value": 250,
                    }
                ],
            }
            for i in range(len(BOUNDS))
        ]
        tests.append({"name": f"le spelt as {how}", "interval": "1m", "input_series": series})
        tests[-1][expr_field] = checks
    return {"rule_files": list(RECORDING_FILES), "evaluation_interval": "5m", "tests": tests}


@pytest.mark.parametrize("engine", [pytest.param(e, id=e.name) for e in tools.RULE_ENGINES])
def test_every_engine_counts_slow_requests_whatever_the_le_spelling(
    tmp_path: Path, engine: tools.Engine
) -> None:
    service = load(_spec(tmp_path))
    assert write_recording_files(service_files(service), "bounds", tmp_path) == list(
        RECORDING_FILES
    )
    field = "metricsql_expr_test" if engine.family == "victoriametrics" else "promql_expr_test"
    suite = tmp_path / "bounds_test.yml"
    suite.write_text(yaml.safe_dump(_suite(field), sort_keys=False))
    proc = tools.run_unit_tests(engine, [suite], cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
