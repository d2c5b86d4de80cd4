"""Alert test cases that cannot see each other, run side by side in one test group.

promtool and vmalert-tool evaluate every loaded rule at every step of a test group, from 0
to the group's last ``eval_time``, so a suite's cost is about its groups' steps times its
rules, however few series each group holds (measured on promtool 2.42 with Samokoder's 119
rules: one 20-minute threshold case 0.34 s, ten side by side 0.56 s). Cases whose checks
cannot tell whether the others are there share one group instead.

Two cases may share a group when, for each of them, none of its input series is a metric
that the other's checked alerts read (through every recording and ``ALERTS`` series they
read, :mod:`rule_reads`), they write no metric in common, they check no alert name in
common (a check expects *every* alert of its name), and they sample at the same interval.
Then each check sees exactly the series it would see alone: an alert's value depends only on
the metrics it reads, and a series never fed reads as absent either way. A case whose checked
alerts' reads cannot be bounded, or that checks expressions, keeps a group of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import promql_parser

from .rule_reads import ANYTHING, metric_name

ALERT_CHECKS = "alert_rule_test"
NAME_SEPARATOR = "; "
_ALERTS_ONLY = {"name", "interval", "input_series", ALERT_CHECKS}


@dataclass
class _Group:
    interval: str | None  # None: a case of its own, which nothing joins
    cases: list[dict] = field(default_factory=list)
    writes: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)
    alerts: set[str] = field(default_factory=set)


def _written(case: dict) -> set[str] | None:
    """The metric names of a case's input series; None if one has no plain name."""
    names = set()
    for series in case["input_series"]:
        name = metric_name(promql_parser.parse(series["series"]))
        if name is None:
            return None
        names.add(name)
    return names


def pack(cases: list[dict], reads: Mapping[str, frozenset[str] | None]) -> list[dict]:
    """Return ``cases`` (promtool test groups checking alerts only) packed into as few groups
    as the rule above allows: each case joins the first group it may share, in order. A
    packed group's name is its cases' names joined by ``"; "``, its checks theirs in order,
    its input series theirs. ``reads``: each alert name's raw metric reads
    (:func:`rule_reads.raw_reads` over the rule files the suite loads)."""
    groups: list[_Group] = []
    for case in cases:
        written = _written(case)
        checked = {c["alertname"] for c in case.get(ALERT_CHECKS, ())}
        found = [reads.get(name, ANYTHING) for name in checked]
        if written is None or ANYTHING in found or set(case) - _ALERTS_ONLY:
            groups.append(_Group(interval=None, cases=[case]))
            continue
        read = set().union(*found)
        for g in groups:
            if (
                g.interval == case["interval"]
                and not (g.writes & written)
                and not (g.writes & read)
                and not (g.reads & written)
                and not (g.alerts & checked)
            ):
                break
        else:
            g = _Group(interval=case["interval"])
            groups.append(g)
        g.cases.append(case)
        g.writes |= written
        g.reads |= read
        g.alerts |= checked
    return [_joined(g.cases) for g in groups]


def _joined(cases: list[dict]) -> dict:
    if len(cases) == 1:
        return cases[0]
    return {
        "name": NAME_SEPARATOR.join(c["name"] for c in cases),
        "interval": cases[0]["interval"],
        "input_series": [s for c in cases for s in c["input_series"]],
        ALERT_CHECKS: [check for c in cases for check in c[ALERT_CHECKS]],
    }
