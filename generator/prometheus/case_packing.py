"""Alert test cases that cannot see each other, run side by side in one test group.

promtool and vmalert-tool evaluate every loaded rule at every step of a test group, from 0
to the group's last ``eval_time``, so a suite's cost is about its groups' steps times its
rules, however few series each group holds (measured on promtool 2.42 with Samokoder's 119
rules: one 20-minute threshold case 0.34 s, ten side by side 0.56 s). Cases whose checks
cannot tell whether the others are there share one group instead.

Two cases may share a group when all of these hold:

- neither writes (as an input series) a metric that the other's checked alerts read,
  through every recording and ``ALERTS`` series they read (:mod:`rule_reads`): an alert's
  value depends only on the metrics it reads, and a series never written reads as absent
  either way;
- they write no metric in common;
- their series never meet in a rule that may fail on what it meets (a vector join, a
  relabelling), checked or not: a test group fails on any rule's error;
- they check no alert name in common: a check expects *every* alert of its name (and
  vmalert-tool keys expected alerts by time, group and name, so two would overwrite);
- they sample at the same interval.

Each check then sees exactly the series it would see alone. A member's series end at its
own last check; the group's later steps read them as they were at that check, then as
absent. A case whose checked alerts' reads cannot be bounded, or that checks expressions,
keeps a group of its own, and so does every case when a rule that may fail has reads that
cannot be bounded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import promql_parser

from .rule_reads import ANYTHING, metric_name

ALERT_CHECKS = "alert_rule_test"
NAME_SEPARATOR = "; "
_PACKABLE_KEYS = {"name", "interval", "input_series", ALERT_CHECKS}


@dataclass
class _Group:
    interval: str
    closed: bool = False  # a case of its own, which no other joins
    cases: list[dict] = field(default_factory=list)
    writes: set[str] = field(default_factory=set)
    reads: set[str] = field(default_factory=set)
    alerts: set[str] = field(default_factory=set)


def _written(case: dict) -> set[str] | None:
    """The metric names of a case's input series; None if one has no plain name."""
    names = set()
    for series in case["input_series"]:
        try:
            name = metric_name(promql_parser.parse(series["series"]))
        except ValueError:
            return None
        if name is None:
            return None
        names.add(name)
    return names


def _meet(a: set[str], b: set[str], joins: list[frozenset[str]]) -> bool:
    """Whether series of metrics ``a`` and ``b`` (two cases') meet in one of ``joins``."""
    return any(a & join and b & join for join in joins)


def pack(
    cases: list[dict],
    alert_reads: Mapping[str, frozenset[str] | None],
    joins: Iterable[frozenset[str] | None] = (),
) -> list[dict]:
    """Return ``cases`` (promtool test groups checking alerts) packed into as few groups as
    the rules above allow: each case joins the first group it may share, in order. A packed
    group's name is its cases' names joined by ``"; "``, its checks and input series theirs
    in order. ``alert_reads``: each alert name's raw metric reads; ``joins``: the raw reads
    of each loaded rule that may fail on the series it meets
    (:class:`rule_reads.RuleReads`, over the rule files the suite loads)."""
    joins = list(joins)
    bounded = ANYTHING not in joins
    groups: list[_Group] = []
    for case in cases:
        case_writes = _written(case)
        checked = {c["alertname"] for c in case.get(ALERT_CHECKS, ())}
        found = [alert_reads.get(name, ANYTHING) for name in checked]
        if not bounded or case_writes is None or ANYTHING in found or set(case) - _PACKABLE_KEYS:
            groups.append(_Group(case.get("interval", ""), closed=True, cases=[case]))
            continue
        case_reads = set().union(*found)
        group = _first_fit(groups, case["interval"], case_writes, case_reads, checked, joins)
        if group is None:
            group = _Group(case["interval"])
            groups.append(group)
        group.cases.append(case)
        group.writes |= case_writes
        group.reads |= case_reads
        group.alerts |= checked
    return [_joined(g.cases) for g in groups]


def _first_fit(
    groups: list[_Group],
    interval: str,
    writes: set[str],
    reads: set[str],
    alerts: set[str],
    joins: list[frozenset[str]],
) -> _Group | None:
    """The first of ``groups`` a case (its interval, writes, reads, checked alerts) may join."""
    for group in groups:
        if (
            not group.closed
            and group.interval == interval
            and not group.writes & (writes | reads)
            and not group.reads & writes
            and not group.alerts & alerts
            and not _meet(group.writes, writes, joins)
        ):
            return group
    return None


def _joined(cases: list[dict]) -> dict:
    if len(cases) == 1:
        return cases[0]
    return {
        "name": NAME_SEPARATOR.join(c["name"] for c in cases),
        "interval": cases[0]["interval"],
        "input_series": [s for c in cases for s in c["input_series"]],
        ALERT_CHECKS: [check for c in cases for check in c[ALERT_CHECKS]],
    }
