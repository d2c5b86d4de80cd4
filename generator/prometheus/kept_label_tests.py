"""Generated tests of the kept labels (``cluster_label``, an SLO's ``group_by``): two clusters
(or groups) at once, an outage in one of them, and the other stays silent.

For every SLO that keeps labels (``signals.kept_labels``) one case feeds the SLI's series
twice: once with the first value of every kept label (group A, at 100 % errors) and once
with a second value of each (group B, clean traffic). It checks, from the engine's own
``ALERTS`` series:

- A's fastest page (its first critical burn-rate pair) fires, carrying A's kept labels;
- no alert at all fires with any of B's kept-label values: neither B's cluster nor B's
  group, whatever the alert kind (burn rate, budget, threshold or absence).

Label values come from the SLI's matchers (``label_values.value_for``), so a regex on a kept
label (``endpoint=~"/api/.*"``) gives two values it selects.
"""

from __future__ import annotations

from .. import label_values, signals
from ..promql import Matcher, format_duration, quote
from ..spec.model import SLO, Service
from .burn_rate_tests import SAMPLE, _firing, _never, alert_selector
from .promtool_cases import EXPRESSION_TESTS
from .synthetic import Feed, UntestableSpec, segments, sli_feeds

OUTAGE_MINUTES = 30  # A's outage runs from the first sample; checks read up to its end


def two_values(slo: SLO, label: str) -> tuple[str, str]:
    """Return two different non-empty values of ``label`` that the SLI's total selects."""
    own = tuple(m for m in slo.sli.total.all_matchers if m.name == label)
    try:
        first = label_values.value_for((*own, Matcher(label, "!=", "")))
        second = label_values.value_for(
            (*own, Matcher(label, "!=", ""), Matcher(label, "!=", first))
        )
    except label_values.Unsatisfiable as exc:
        raise UntestableSpec(str(exc)) from None
    return first, second


def groups(service: Service, slo: SLO) -> tuple[dict[str, str], dict[str, str]]:
    """Return the kept labels of group A and of group B (every label differs)."""
    kept = signals.kept_labels(service, slo)
    pairs = {label: two_values(slo, label) for label in kept}
    return {k: v[0] for k, v in pairs.items()}, {k: v[1] for k, v in pairs.items()}


def _with(feeds: list[Feed], labels: dict[str, str]) -> list[Feed]:
    return [
        Feed(f.name, tuple(sorted({**dict(f.labels), **labels}.items())), f.step, f.counter)
        for f in feeds
    ]


def _alerts_of(labels: dict[str, str]) -> list[str]:
    """Return one ``ALERTS`` selector per kept label value: any alert carrying it."""
    return [f'ALERTS{{alertstate="firing", {k}="{quote(v)}"}}' for k, v in labels.items()]


def outage_case(service: Service, slo: SLO) -> dict | None:
    """Return the case for one SLO with kept labels (None without any, or without a page)."""
    pages = [b for b in service.slo_burn_rates(slo) if b.severity == "critical"]
    if not signals.kept_labels(service, slo) or not pages:
        return None
    a, b = groups(service, slo)
    hot = _with(sli_feeds(slo.sli, 1.0), a)
    cold = _with(sli_feeds(slo.sli, 0.0), b)
    minutes = OUTAGE_MINUTES + 1
    series = [{"series": f.selector, "values": segments([(minutes, f.step)])} for f in hot + cold]
    end = OUTAGE_MINUTES * SAMPLE
    fires = alert_selector(service, slo, pages[0], a)
    checks = [_firing(fires, end, 1)]
    checks += [_never(sel, 0, end) for sel in _alerts_of(b)]
    where = ", ".join(f"{k}={v}" for k, v in a.items())
    other = ", ".join(f"{k}={v}" for k, v in b.items())
    return {
        "name": f"{slo.burn_alert}: an outage of the {slo.name} SLO in {where} pages for it "
        f"alone; {other}, with clean traffic, raises no alert of any kind",
        "interval": format_duration(SAMPLE),
        "input_series": series,
        EXPRESSION_TESTS: checks,
    }


def kept_label_cases(service: Service) -> list[dict]:
    """Return one :func:`outage_case` per SLO that keeps labels."""
    return [c for slo in service.slos if (c := outage_case(service, slo)) is not None]
