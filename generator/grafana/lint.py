"""The project's dashboard lint: what grafana/dashboard-linter checks, on our own JSON.

:func:`lint` returns a list of problems (empty when the dashboard is clean); each problem names
the rule (after dashboard-linter's rule names) and the panel.
"""

from __future__ import annotations

import re

from .compat import DATASOURCE_NAME, DATASOURCE_REF, DATASOURCE_TYPE

PANEL_TYPES = frozenset({"stat", "timeseries", "gauge", "bargauge", "table"})
RATE_FUNCTIONS = ("rate", "irate", "increase")
_CALL = re.compile(r"\b(rate|irate|increase)\s*\(")
_RANGE = re.compile(r"\[([^\]]*)\]")
_TOTAL = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*_total\b")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _calls(expr: str) -> list[tuple[str, int, int]]:
    """Return ``(function, start, end)`` of every rate/irate/increase call's argument text."""
    out = []
    for match in _CALL.finditer(expr):
        depth, i = 1, match.end()
        while i < len(expr) and depth:
            depth += {"(": 1, ")": -1}.get(expr[i], 0)
            i += 1
        out.append((match.group(1), match.end(), i - 1))
    return out


def expr_problems(expr: str) -> list[str]:
    """Return the problems of one panel expression (rate windows and bare counters)."""
    # Label values may hold anything, e.g. a regex with "_total"; look at the code only.
    code = _STRING.sub(lambda m: '"' + " " * (len(m.group()) - 2) + '"', expr)
    problems = []
    calls = _calls(code)
    for func, start, end in calls:
        windows = _RANGE.findall(code[start:end])
        allowed = ("$__rate_interval", "$__range") if func == "increase" else ("$__rate_interval",)
        for window in windows:
            if window not in allowed:
                problems.append(
                    f"target-rate-interval: {func}() over [{window}]; use [$__rate_interval]"
                )
    for match in _TOTAL.finditer(code):
        if not any(start <= match.start() < end for _, start, end in calls):
            problems.append(
                f"counter-outside-rate: {match.group()} is a counter; read it through rate() "
                "or increase()"
            )
    return problems


def _overlap(a: dict, b: dict) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def _panels(dashboard: dict) -> list[dict]:
    out = []
    for panel in dashboard.get("panels", []):
        out.append(panel)
        out.extend(panel.get("panels", []))  # a collapsed row holds its panels
    return out


def lint(dashboard: dict) -> list[str]:
    """Return every problem found in ``dashboard`` (Grafana JSON); empty means clean."""
    problems = []
    if dashboard.get("editable") is not False:
        problems.append("uneditable-dashboard: set editable to false; the dashboard is generated")
    variables = dashboard.get("templating", {}).get("list", [])
    ds = next((v for v in variables if v.get("name") == DATASOURCE_NAME), None)
    if (
        ds is None
        or ds.get("type") != "datasource"
        or ds.get("query") != DATASOURCE_TYPE
        or ds.get("label") != "Data source"
    ):
        problems.append(
            f"template-datasource: need a {DATASOURCE_NAME!r} variable of type datasource, "
            f"query {DATASOURCE_TYPE!r}, labelled 'Data source'"
        )
    panels = _panels(dashboard)
    ids = [p.get("id") for p in panels]
    for dup in sorted({i for i in ids if ids.count(i) > 1}, key=str):
        problems.append(f"panel-id: id {dup} is used by more than one panel")
    placed = []
    for panel in panels:
        name = f"panel {panel.get('id')} {panel.get('title', '')!r}"
        pos = panel.get("gridPos") or {}
        if not all(isinstance(pos.get(k), int) for k in "xywh") or pos["x"] + pos["w"] > 24:
            problems.append(f"panel-grid: {name} has no position inside the 24 columns")
        else:
            for other_name, other in placed:
                if _overlap(pos, other):
                    problems.append(f"panel-overlap: {name} overlaps {other_name}")
            placed.append((name, pos))
        if panel.get("type") == "row":
            continue
        problems.extend(_panel_problems(name, panel))
    return problems


def _panel_problems(name: str, panel: dict) -> list[str]:
    problems = []
    if panel.get("type") not in PANEL_TYPES:
        problems.append(f"panel-type: {name} is {panel.get('type')!r}; use {sorted(PANEL_TYPES)}")
    if not panel.get("title") or not panel.get("description"):
        problems.append(f"panel-title-description: {name} needs a title and a description")
    if not panel.get("fieldConfig", {}).get("defaults", {}).get("unit"):
        problems.append(f"panel-units: {name} has no unit")
    if panel.get("datasource") != DATASOURCE_REF:
        problems.append(f"panel-datasource: {name} does not use the ${DATASOURCE_NAME} variable")
    targets = panel.get("targets") or []
    if not targets:
        problems.append(f"panel-targets: {name} has no query")
    for target in targets:
        ref = f"{name} target {target.get('refId')}"
        if target.get("datasource") != DATASOURCE_REF:
            problems.append(f"target-datasource: {ref} does not use ${DATASOURCE_NAME}")
        if not target.get("legendFormat"):
            problems.append(f"target-legend: {ref} has no legend naming its series")
        problems.extend(f"{p} ({ref})" for p in expr_problems(target.get("expr", "")))
    return problems
