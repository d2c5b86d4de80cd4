"""The small pieces of PromQL the generator reads and writes: durations, numbers, matchers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
_MATCHER = re.compile(
    r'\s*(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*"(?P<value>(?:[^"\\]|\\.)*)"\s*(?:,|$)'
)


def parse_duration(text: str) -> int:
    """Return the number of seconds in a Prometheus duration such as ``1h30m``.

    Raises ValueError with a plain sentence when the text is not a positive duration.
    """
    match = _DURATION.match(text.strip()) if isinstance(text, str) else None
    if not text or not match or not any(match.groups()):
        raise ValueError(
            f"{text!r} is not a duration; write a number and a unit, such as 30s, 5m, 1h or 30d"
        )
    units = ("y", "w", "d", "h", "m", "s", "ms")
    seconds = sum(int(v) * _UNITS[u] for u, v in zip(units, match.groups(), strict=True) if v)
    if seconds <= 0:
        raise ValueError(f"{text!r} is zero; a duration must be positive")
    if seconds != int(seconds):
        raise ValueError(f"{text!r} is not a whole number of seconds")
    return int(seconds)


def format_duration(seconds: int) -> str:
    """Return the shortest Prometheus spelling of a duration: 300 -> ``5m``, 86400 -> ``1d``."""
    out = ""
    for unit in ("d", "h", "m", "s"):
        size = _UNITS[unit]
        if seconds >= size:
            out += f"{seconds // size}{unit}"
            seconds %= size
    return out or "0s"


def format_number(value: float) -> str:
    """Return a number as a human writes it: ``0.001``, ``14.4``, ``5000``; never ``1e-03``.

    Twelve significant digits drop binary float noise such as 0.0009999999999999432.
    """
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"cannot format {value}")
    text = format(Decimal(f"{value:.12g}").normalize(), "f")
    return "0" if text in ("-0", "") else text


@dataclass(frozen=True)
class Matcher:
    """One PromQL label matcher, e.g. ``status=~"5.."``."""

    name: str
    op: str
    value: str

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """Parse ``job="api", status=~"5.."`` into Matchers; raise ValueError on bad syntax."""
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    matchers: list[Matcher] = []
    pos = 0
    while pos < len(text):
        match = _MATCHER.match(text, pos)
        if not match:
            raise ValueError(
                f"cannot read a label matcher at {text[pos : pos + 20]!r}; "
                'write matchers like job="api", status=~"5.."'
            )
        m = Matcher(match["name"], match["op"], match["value"])
        if m.op in ("=~", "!~"):
            try:
                re.compile(m.value.replace("\\\\", "\\"))
            except re.error as exc:
                raise ValueError(f"{m} has an invalid regular expression: {exc}") from None
        if m.name == "__name__":
            raise ValueError("select the metric by its `name`, not by a __name__ matcher")
        matchers.append(m)
        pos = match.end()
    names = [m.name for m in matchers if m.op == "="]
    if len(names) != len(set(names)):
        raise ValueError("a label is matched for equality twice")
    return tuple(matchers)


def selector(metric: str, matchers: tuple[Matcher, ...]) -> str:
    """Return ``metric{a="b", ...}``, or the bare metric name when there are no matchers."""
    if not matchers:
        return metric
    return metric + "{" + ", ".join(str(m) for m in matchers) + "}"
