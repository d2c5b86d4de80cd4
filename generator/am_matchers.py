"""Alertmanager label matchers (``team="payments"``, ``env=~"prod|stage"``): parse, check, print.

Alertmanager 0.28 and 0.33 read a route's ``matchers`` with two parsers: the classic one
and, from 0.27, the UTF-8 one (by default it tries the UTF-8 parser and falls back to the
classic one). This module accepts only what both read alike, so a route means the same on
every version: a label name in Prometheus' grammar (``[a-zA-Z_][a-zA-Z0-9_]*``), one of the
four operators ``=``, ``!=``, ``=~``, ``!~``, and a value, double-quoted (escapes ``\\"``,
``\\\\`` and ``\\n``) or bare (letters, digits and ``_.:/-``). A regex must compile with Go's
``regexp`` (RE2), anchored as Alertmanager anchors it. Printing is canonical: the value is
always double-quoted, so the output never depends on how the spec spelled it. Matchers are
:class:`generator.promql.Matcher` values (``str()`` prints them, ``holds()`` evaluates them).
"""

from __future__ import annotations

import re

from .promql import LABEL_NAME, Matcher, regex_problem

OPERATORS = ("=", "!=", "=~", "!~")
_MATCHER = re.compile(
    r"""\s*(?P<name>[^\s=!~"]*)\s*(?P<op>=~|!~|!=|=)\s*"""
    r"""(?:"(?P<quoted>(?:[^"\\]|\\.)*)"|(?P<bare>[A-Za-z0-9_.:/-]*))\s*"""
)
_UNESCAPE = {'"': '"', "\\": "\\", "n": "\n"}


class MatcherError(ValueError):
    """A matcher Alertmanager would refuse or read differently; ``column`` is 1-based
    within the matcher's text."""

    def __init__(self, message: str, column: int = 1) -> None:
        super().__init__(message)
        self.column = column


def _unescape(text: str, offset: int) -> str:
    out, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "\\":
            nxt = text[i + 1]
            if nxt not in _UNESCAPE:
                raise MatcherError(
                    f"'\\{nxt}' is not an escape Alertmanager reads alike on every version; "
                    'use \\", \\\\ or \\n',
                    offset + i + 1,
                )
            out.append(_UNESCAPE[nxt])
            i += 2
            continue
        out.append(char)
        i += 1
    return "".join(out)


def label_value_problem(value: str) -> str | None:
    """Return why ``value`` cannot be an alert label value to route on, or None."""
    if not value.isprintable():
        return "a label value is one line of printable text"
    return None


def matcher(name: str, op: str, value: str) -> Matcher:
    """Return the Matcher ``name op value``; raises MatcherError when Alertmanager (or the
    Prometheus rule that sets the label) would refuse it."""
    if not LABEL_NAME.match(name):
        raise MatcherError(f"{name!r} is not a label name: use letters, digits and '_'")
    if op not in OPERATORS:
        raise MatcherError(f"{op!r} is not a matcher operator; use one of {', '.join(OPERATORS)}")
    if op in ("=~", "!~"):
        if (why := regex_problem(value)) is not None:
            raise MatcherError(f"invalid regex {value!r}: {why}")
    elif (why := label_value_problem(value)) is not None:
        raise MatcherError(why)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return Matcher(name, op, escaped)


def parse(text: str) -> Matcher:
    """Return the Matcher written as ``text`` (``team="payments"``, ``env!~"dev|test"``).

    Raises MatcherError, with the column of the problem, for anything else: braces, a
    label name outside Prometheus' grammar, an unknown operator, an unterminated or badly
    escaped value, a regex RE2 refuses.
    """
    found = _MATCHER.fullmatch(text)
    if found is None:
        stripped = text.lstrip()
        if stripped.startswith("{"):
            raise MatcherError("write one matcher per list item, without braces", 1)
        op = re.search(r"=~|!~|!=|=", text)
        if op is None:
            raise MatcherError("expected name, operator (=, !=, =~, !~) and value", 1)
        value = text[op.end() :].lstrip()
        column = len(text) - len(value) + 1
        if value.startswith('"'):
            raise MatcherError("the quoted value is not closed, or text follows it", column)
        raise MatcherError(
            "quote the value (\"...\"): bare values are letters, digits and '_.:/-' only",
            column,
        )
    name, op = found["name"], found["op"]
    quoted = found["quoted"]
    value = _unescape(quoted, found.start("quoted")) if quoted is not None else found["bare"]
    try:
        return matcher(name, op, value)
    except MatcherError as exc:
        column = found.start("name") + 1
        if "regex" in str(exc) or "label value" in str(exc):
            column = (found.start("quoted") if quoted is not None else found.start("bare")) + 1
        raise MatcherError(str(exc), column) from None
