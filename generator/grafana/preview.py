"""An SVG picture of the dashboard's layout, drawn from its JSON, for reviewers.

The dashboard's variables (with their queries and what each is chained on) and links; rows,
panel boxes at their grid positions, titles, panel types, units, the runbooks each panel links
to, what each panel reads and threshold colours. Query text wraps between PromQL tokens, never
inside a name, string, number, range or variable. Plain string building: the same JSON always
gives the same bytes.
"""

from __future__ import annotations

import re
from html import escape

from ..promql import format_number

COLUMN = 40  # px per grid column; 24 columns = 960 px
GRID_ROW = 30  # px per grid row, as in Grafana
GAP = 4
TOP = 56  # room for the dashboard title; its variables and links add lines below it
CHAR = 6.6  # average glyph width at 12 px, to cut titles that would overflow
MONO = 0.62  # monospace glyph width per px of font size
COLOURS = {"green": "#73bf69", "yellow": "#fade2a", "red": "#f2495c"}


def _text(x: float, y: float, text: str, size: int = 12, **attrs: str) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:g}" y="{y:g}" font-size="{size}"{extra}>{escape(text)}</text>'


def _fit(text: str, width: float, size: int = 12) -> str:
    room = int(width / (CHAR * size / 12))
    return text if len(text) <= room else text[: max(room - 1, 1)] + "…"


# One PromQL (or legend) token: a string, a range or {{label}}, a $variable, a name, a number,
# a run of spaces, or any other single character.
_TOKEN = re.compile(
    r'"(?:[^"\\]|\\.)*"|\[[^\]]*\]|\{\{[^}]*\}\}|\$\{?\w+\}?|[A-Za-z_:][\w:]*'
    r"|\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|\s+|.",
    re.S,
)


def wrap(text: str, room: int) -> list[str]:
    """Return ``text`` cut into lines of at most ``room`` characters between tokens; a token
    longer than ``room`` gets a line of its own. The lines joined give ``text`` back."""
    lines, line = [], ""
    for token in _TOKEN.findall(text):
        if line and len(line) + len(token) > room and not token.isspace():
            lines.append(line)
            line = ""
        line += token
    return [*lines, line] if line else lines


def _variables(dashboard: dict) -> str:
    parts = []
    previous: list[str] = []
    for v in dashboard.get("templating", {}).get("list", []):
        query = v.get("query", "")
        label = v.get("label") or v["name"]
        if v.get("type") == "datasource":
            parts.append(f"{label} ({query})")
        else:
            chained = [p for p in previous if f"${p}" in str(query)]
            after = f", chained on {', '.join('$' + c for c in chained)}" if chained else ""
            parts.append(f"${v['name']}: {query}{after}")
        previous.append(v["name"])
    return "Variables: " + " · ".join(parts)


def _links(dashboard: dict) -> str:
    return "Links: " + " · ".join(f"{x['title']} → {x['url']}" for x in dashboard.get("links", []))


def _steps_label(steps: list[dict]) -> str:
    parts = []
    for step in steps:
        value = step.get("value")
        bound = "" if value is None else f" ≥ {format_number(value)}"
        parts.append(step["color"] + bound)
    return ", ".join(parts)


def _panel(panel: dict, top: float) -> list[str]:
    pos = panel["gridPos"]
    x, y = pos["x"] * COLUMN + GAP / 2, top + pos["y"] * GRID_ROW + GAP / 2
    w, h = pos["w"] * COLUMN - GAP, pos["h"] * GRID_ROW - GAP
    defaults = panel.get("fieldConfig", {}).get("defaults", {})
    steps = defaults.get("thresholds", {}).get("steps", [])
    out = [
        f'<g id="panel-{panel["id"]}">',
        f'<rect x="{x:g}" y="{y:g}" width="{w:g}" height="{h:g}" rx="3" '
        'fill="#f4f5f5" stroke="#c7d0d9"/>',
        _text(x + 8, y + 18, _fit(panel["title"], w - 16), font_weight="bold"),
        _text(
            x + 8,
            y + 34,
            _fit(f"{panel['type']} · {defaults.get('unit', '')}", w - 16),
            11,
            fill="#555",
        ),
    ]
    top = y + 52  # from here on: the panel's own lines
    room = int((w - 16) / (MONO * 10))
    runbooks = [link["title"].removeprefix("Runbook: ") for link in panel.get("links", [])]
    if runbooks:
        for line in wrap("runbooks: " + ", ".join(runbooks), room):
            out.append(_text(x + 8, top, line, 10, fill="#1f60c4", font_family="monospace"))
            top += 13
        top += 2
    # What the panel reads, wrapped, so a reviewer can match it with the recording rules.
    lines = [
        line
        for target in panel.get("targets", [])
        for line in wrap(f"{target.get('legendFormat', '')} ← {target.get('expr', '')}", room)
    ]
    fits = max(int((y + h - 26 - top) / 13), 0)
    if len(lines) > fits:
        lines = [*lines[: max(fits - 1, 0)], "…"]
    for i, line in enumerate(lines):
        out.append(_text(x + 8, top + 13 * i, line, 10, fill="#333", font_family="monospace"))
    if len(steps) <= 1:  # only Grafana's mandatory base step: the panel has no levels
        out.append(_text(x + 8, y + h - 11, "no thresholds", 10, fill="#8e8e8e"))
        out.append("</g>")
        return out
    # The colour strip: one band per threshold step, in Grafana's order (lowest first).
    band = (w - 16) / len(steps)
    for i, step in enumerate(steps):
        colour = COLOURS.get(step["color"], step["color"])
        out.append(
            f'<rect x="{x + 8 + i * band:g}" y="{y + h - 22:g}" width="{band:g}" height="14" '
            f'fill="{colour}"><title>{escape(_steps_label(steps))}</title></rect>'
        )
        value = step.get("value")
        label = "base" if value is None else f"≥ {format_number(value)}"
        out.append(_text(x + 12 + i * band, y + h - 11, _fit(label, band - 6, 10), 10))
    out.append("</g>")
    return out


def svg(dashboard: dict, header: str = "") -> str:
    """Return the SVG of ``dashboard`` (Grafana JSON); ``header`` becomes an XML comment."""
    panels = dashboard["panels"]
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    width = 24 * COLUMN
    room = int((width - 16) / (MONO * 11))
    header_lines = wrap(_variables(dashboard), room) + wrap(_links(dashboard), room)
    top = TOP + 16 * len(header_lines) + 4
    height = top + bottom * GRID_ROW + 8
    comment = header.replace("--", "- -")  # "--" may not appear inside an XML comment
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<!--\n{comment}-->" if header else "",
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        _text(8, 24, dashboard["title"], 18, font_weight="bold"),
        _text(
            8,
            44,
            f"/d/{dashboard['uid']} · {sum(p['type'] != 'row' for p in panels)} panels "
            "· colours: green ok, yellow warning, red critical",
            11,
            fill="#555",
        ),
    ]
    for i, line in enumerate(header_lines):
        out.append(_text(8, TOP + 10 + 16 * i, line, 11, fill="#333", font_family="monospace"))
    for panel in panels:
        if panel["type"] == "row":
            y = top + panel["gridPos"]["y"] * GRID_ROW
            out.append(f'<line x1="0" y1="{y + 26}" x2="{width}" y2="{y + 26}" stroke="#8e8e8e"/>')
            out.append(_text(8, y + 21, panel["title"], 14, font_weight="bold"))
        else:
            out.extend(_panel(panel, top))
    out.append("</svg>")
    return "\n".join(line for line in out if line) + "\n"
