"""Prometheus's ``humanize`` and ``humanizeDuration`` template functions, so generated
tests can state the exact annotation text an alert renders."""

from __future__ import annotations


def _g4(value: float) -> str:
    return f"{value:.4g}"


def humanize(value: float) -> str:
    """Return ``value`` with an SI prefix and four significant digits, as Prometheus does."""
    if value == 0 or value != value or abs(value) == float("inf"):
        return _g4(value)
    prefix = ""
    if abs(value) >= 1:
        for p in ("k", "M", "G", "T", "P", "E", "Z", "Y"):
            if abs(value) < 1000:
                break
            prefix, value = p, value / 1000
        return _g4(value) + prefix
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(value) >= 1:
            break
        prefix, value = p, value * 1000
    return _g4(value) + prefix


def humanize_duration(value: float) -> str:
    """Return seconds as Prometheus's ``humanizeDuration`` prints them (``1m 30s``, ``4.85s``)."""
    if value == 0 or value != value or abs(value) == float("inf"):
        return _g4(value) + "s"
    if abs(value) >= 1:
        sign = "-" if value < 0 else ""
        whole = int(abs(value))
        seconds, minutes = whole % 60, whole // 60 % 60
        hours, days = whole // 3600 % 24, whole // 86400
        if days:
            return f"{sign}{days}d {hours}h {minutes}m {seconds}s"
        if hours:
            return f"{sign}{hours}h {minutes}m {seconds}s"
        if minutes:
            return f"{sign}{minutes}m {seconds}s"
        return f"{sign}{_g4(abs(value))}s"
    prefix = ""
    for p in ("m", "u", "n", "p", "f", "a", "z", "y"):
        if abs(value) >= 1:
            break
        prefix, value = p, value * 1000
    return f"{_g4(value)}{prefix}s"
