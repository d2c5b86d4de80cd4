"""promtool unit tests (placeholder while the generator grows)."""

from __future__ import annotations

from ..spec.model import Service


def suites(service: Service) -> dict[str, dict]:
    """Return promtool test files by name."""
    return {}
