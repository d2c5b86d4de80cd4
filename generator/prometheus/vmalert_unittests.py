"""The unit tests in vmalert-tool's dialect, for VictoriaMetrics.

``vmalert-tool unittest`` reads promtool's test format, except that expression checks are
called ``metricsql_expr_test``. Only the suites that check expressions differ, so only they
get a twin here, in ``tests/vmalert/``; the alert suites run unchanged on both tools:

    vmalert-tool unittest --disableAlertgroupLabel \\
        --files 'tests/*_alerts_test.yml' --files 'tests/vmalert/*.yml'
"""

from __future__ import annotations

from ..spec.model import Service
from .promtool_cases import EXPRESSION_TESTS
from .unittests import suites

METRICSQL_TESTS = "metricsql_expr_test"
FOLDER = "vmalert"  # beside the promtool suites, under prometheus/tests/


def vmalert_suites(service: Service) -> dict[str, dict]:
    """Return the suites with expression checks, renamed to vmalert-tool's field, by their
    path under ``prometheus/tests/`` (``vmalert/slo_values_test.yml``)."""
    out = {}
    for name, suite in suites(service, rules_dir="../..").items():
        if not any(EXPRESSION_TESTS in case for case in suite["tests"]):
            continue
        tests = [
            {(METRICSQL_TESTS if key == EXPRESSION_TESTS else key): v for key, v in case.items()}
            for case in suite["tests"]
        ]
        out[f"{FOLDER}/{name}"] = {**suite, "tests": tests}
    return out
