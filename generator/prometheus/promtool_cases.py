"""Building blocks of the generated promtool tests: input series and expected alerts."""

from __future__ import annotations

import re

from ..promql import format_number
from .humanize import humanize, humanize_duration
from .synthetic import Feed

EXPRESSION_TESTS = "promql_expr_test"  # vmalert-tool's twin field: metricsql_expr_test


def input_series(feeds: list[Feed], minutes: int) -> list[dict[str, str]]:
    out, seen = [], set()
    for f in feeds:
        if f.selector in seen:
            continue
        seen.add(f.selector)
        values = (
            f"0+{format_number(f.step)}x{minutes}"
            if f.counter
            else (f"{format_number(f.step)}+0x{minutes}")
        )
        out.append({"series": f.selector, "values": values})
    return out


def render(template: str, value: float, labels: dict[str, str]) -> str:
    """Return an annotation as Prometheus renders it for ``value`` and ``labels``."""
    text = template.replace("{{ $value | humanizeDuration }}", humanize_duration(value))
    text = text.replace("{{ $value | humanize }}", humanize(value))
    text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels.get(m[1], ""), text)
    return text.replace('{{ "{{" }}', "{{")


# Annotations that are links: a test expects them from the Model (alerts.link_annotations),
# not from the rule, so a rule leading to the wrong place fails its test.
LINK_ANNOTATIONS = ("runbook_url", "dashboard_url", "panel_url")


def expect(rule: dict, value: float, labels: dict[str, str], links: dict[str, str]) -> dict:
    """Return the expected alert of ``rule`` at ``value`` for series ``labels``: its text
    annotations rendered as Prometheus does, its links as given (from the Model)."""
    text = {
        k: render(v, value, labels)
        for k, v in rule["annotations"].items()
        if k not in LINK_ANNOTATIONS
    }
    return {"exp_labels": {**labels, **rule["labels"]}, "exp_annotations": {**text, **links}}


def labels_text(metric: str, labels: dict[str, str]) -> str:
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    return f"{metric}{{{inner}}}"
