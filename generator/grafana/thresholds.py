"""A panel's warning and critical levels as Grafana's colour steps.

Shared by the dashboard (its panels' thresholds) and the docs (which say what each colour
means), so it imports nothing of grafanalib: the docs are planned without it.
"""

from __future__ import annotations

from ..spec.dashboard import Levels

OK, WARNING, CRITICAL = "green", "yellow", "red"


def threshold_steps(levels: Levels | None) -> list[tuple[str, float | None]]:
    """Return Grafana's colour steps, lowest first: ``(colour, from value)``; the base has None."""
    if levels is None:
        return [(OK, None)]
    if levels.direction == "above":
        steps: list[tuple[str, float | None]] = [(OK, None), (WARNING, levels.warning)]
        if levels.critical is not None:
            steps.append((CRITICAL, levels.critical))
        return steps
    if levels.critical is None:
        return [(WARNING, None), (OK, levels.warning)]
    return [(CRITICAL, None), (WARNING, levels.critical), (OK, levels.warning)]
