"""promtool tests of latency SLIs on native histograms, in promtool's native-histogram series
notation (``{{schema:0 count:... buckets:[...]}}``).

Only promtool 2.53 and later read that notation (2.42 refuses ``{`` in a series), and
VictoriaMetrics evaluates no native histograms at all, so these suites live in their own
folder, ``tests/native/``, which ``tools.unit_test_files`` gives only to the engines of
``tools.NATIVE_HISTOGRAM_ENGINES``.

One case per SLO: clean traffic, every observation in a schema-0 bucket wholly at or below
the threshold, then an outage with every observation in a bucket wholly above it (so
``histogram_fraction`` reads exact shares, whatever its interpolation inside a bucket). It
asserts the rate window's error ratio (0, then 1), that no burn-rate alert fires while clean,
and that the fastest pair pages during the outage.
"""

from __future__ import annotations

import math

from .. import signals as names
from ..promql import format_duration
from ..spec.model import SLO, Service
from .burn_rate_tests import _firing, _never, alert_selector
from .promtool_cases import labels_text
from .rule_files import group_order, loaded_files
from .synthetic import Feed, labels_for, slo_labels

FOLDER = "native"
FILE = "native_histogram_test.yml"
PER_MINUTE = 600  # observations a minute: whole numbers keep promtool's sums exact


def _buckets(threshold: float) -> tuple[int, int]:
    """Return the schema-0 bucket indices wholly at or below, and wholly above, the
    threshold: bucket ``i`` holds ``(2**(i-1), 2**i]``."""
    low = math.floor(math.log2(threshold))
    while 2.0**low > threshold:  # float log2 of a value just under a power of two
        low -= 1
    high = math.ceil(math.log2(threshold)) + 1
    while 2.0 ** (high - 1) < threshold:
        high += 1
    return low, high


def _histogram(low: int, high: int, good: int, bad: int) -> str:
    """Return one native-histogram sample: ``good`` observations in bucket ``low`` and
    ``bad`` in bucket ``high`` (the sum is a nominal 1 s an observation)."""
    counts = [0] * (high - low + 1)
    counts[0], counts[-1] = good, bad
    inner = " ".join(str(c) for c in counts)
    total = good + bad
    return f"{{{{schema:0 sum:{total} count:{total} offset:{low} buckets:[{inner}]}}}}"


def native_case(service: Service, slo: SLO) -> dict:
    """Return the clean-then-outage case of one native-histogram SLO."""
    w = service.rate_window
    burns = service.slo_burn_rates(slo)
    fastest = min(burns, key=lambda b: (b.long, b.short)) if burns else None
    clean = 2 * w // 60  # minutes
    outage = (fastest.long + fastest.for_) // 60 + 2 * w // 60 if fastest else 2 * w // 60
    low, high = _buckets(slo.sli.threshold)
    labels = labels_for(slo.sli.total.all_matchers)
    name = slo.sli.total.metric.name
    # promtool 2.53 reads nothing after a histogram expansion (``{{...}}+{{...}}x3 ...`` is a
    # parse error), so each phase is a series of its own, its expansion last: one series
    # holds good observations for minutes 0..clean, then another (a label no selector reads
    # tells them apart) only bad ones.
    restarted = tuple(sorted({**dict(labels), "native_test_phase": "outage"}.items()))
    zero = _histogram(low, high, 0, 0)
    good = f"{zero}+{_histogram(low, high, PER_MINUTE, 0)}x{clean}"
    bad = f"_x{clean} {zero}+{_histogram(low, high, 0, PER_MINUTE)}x{outage - 1}"
    ratio = f"{names.slo_error_ratio(w)}{names.slo_selector(service, slo)}"
    sample = labels_text(names.slo_error_ratio(w), slo_labels(service, slo))
    end = (clean + outage) * 60
    checks = [
        {"expr": ratio, "eval_time": format_duration(clean * 60), "exp_samples": []},
        {"expr": ratio, "eval_time": format_duration(end)},
    ]
    checks[0]["exp_samples"] = [{"labels": sample, "value": 0}]
    checks[1]["exp_samples"] = [{"labels": sample, "value": 1}]
    if fastest is not None:
        page = alert_selector(service, slo, fastest)
        checks += [_never(page, 0, clean * 60), _firing(page, end, 1)]
    return {
        "name": f"{slo.name}: a native histogram's outage reads as errors and pages",
        "interval": "1m",
        "input_series": [
            {"series": Feed(name, labels, 0, True).selector, "values": good},
            {"series": Feed(name, restarted, 0, True).selector, "values": bad},
        ],
        "promql_expr_test": checks,
    }


def native_suite(service: Service, rules_dir: str = "../..") -> dict | None:
    """Return the native-histogram suite of ``service`` (None without such SLOs); rule files
    are named from ``tests/native/``."""
    cases = [native_case(service, s) for s in service.slos if s.sli.native]
    if not cases:
        return None
    return {
        "rule_files": [f"{rules_dir}/{name}" for name in loaded_files(service)],
        "evaluation_interval": format_duration(service.rate_window),
        "group_eval_order": group_order(service),
        "tests": cases,
    }
