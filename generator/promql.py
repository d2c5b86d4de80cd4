"""The small pieces of PromQL the generator reads and writes: durations, numbers, matchers."""

from __future__ import annotations

import functools
import re
import warnings
from dataclasses import dataclass
from decimal import Decimal

# Python's own regex parser, only to estimate how Prometheus 2.5x expands a regex.
from re import _constants as _sre_constants  # type: ignore[attr-defined]
from re import _parser as _sre_parser  # type: ignore[attr-defined]

import re2

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_DURATION = re.compile(
    r"^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$"
)
# Prometheus's names, whole: `\Z`, as Python's `$` also matches before a final newline.
METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*\Z")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*\Z")
# A PromQL string: double- or single-quoted with Go's escapes, or a raw `backtick` string.
_STRING = r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`[^`]*`'
_MATCHER = re.compile(
    r"\s*(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*(?P<quoted>"
    + _STRING
    + r")\s*(?:,|$)"
)


_UTF8_REASON = (
    "Prometheus 3 accepts other UTF-8 names only in quoted selectors, which Prometheus 2 and "
    "VictoriaMetrics cannot load; rename it (or relabel it at scrape time) to letters, digits "
    "and underscores, not starting with a digit"
)


def legacy_name_problem(name: str, kind: str) -> str:
    """Return why ``name`` is not a legacy (pre-UTF-8) metric or label name, as a sentence.

    The generated rules must load on every engine (Prometheus 2.x, 3.x, VictoriaMetrics),
    so UTF-8 names such as ``http.server.duration`` are refused rather than quoted.
    """
    return f"{name!r} is not a valid {kind} name: {_UTF8_REASON}"


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


def _shortest_digits(value: float) -> tuple[str, int]:
    """Return the shortest significant digits of ``abs(value)`` that read back as the same
    float, and the decimal exponent of the first digit: 1500000.0 -> ("15", 6)."""
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"a bucket bound must be finite, not {value}")
    if value == 0:
        return "0", 0
    _, digit_tuple, exponent = Decimal(repr(float(abs(value)))).normalize().as_tuple()
    assert isinstance(exponent, int)
    return "".join(map(str, digit_tuple)), len(digit_tuple) + exponent - 1


def go_float(value: float) -> str:
    """Return a finite ``value`` as Go's ``strconv.FormatFloat(v, 'g', -1, 64)`` writes it:
    the shortest digits, in exponent form (``1e+06``, ``1.5e-05``) when the decimal exponent
    is below -4 or at least 6."""
    digits, power = _shortest_digits(value)
    minus = "-" if value < 0 else ""
    if power < -4 or power >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{minus}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"
    return minus + format(Decimal(repr(float(abs(value)))).normalize(), "f")


def openmetrics_bound(value: float) -> str:
    """Return a bucket bound as Prometheus 3 stores ``le`` after normalising it: Go's
    ``%g`` with ``.0`` added to an integer (``2.0``, ``0.25``, ``1e+06``)."""
    text = go_float(value)
    return text if any(c in text for c in ".e") else text + ".0"


def bound_pattern(value: float) -> str:
    """Return an RE2 pattern that matches every spelling of a histogram bucket bound.

    Clients and engines write the same ``le`` differently: Go's client and Prometheus 3's
    normalisation use Go's ``%g`` (``1e+06``, ``2.0`` in OpenMetrics), the Python client
    ``2.0`` and ``1e+06``, the Java client ``1.0E7``, hand-written exporters ``1000000``. The
    pattern accepts the plain decimal (with or without a trailing ``.0…``) and every
    exponent form of the same float (``e``/``E``, optional ``+``, zero-padded exponent);
    nothing else. ``value`` must be finite.
    """
    digits, power = _shortest_digits(value)
    point = power + 1  # digits before the decimal point
    if value == 0:
        plain = r"0(\.0*)?"
    elif point >= len(digits):
        plain = digits + "0" * (point - len(digits)) + r"(\.0*)?"
    elif point > 0:
        plain = digits[:point] + r"\." + digits[point:] + "0*"
    else:
        plain = r"0?\." + "0" * -point + digits + "0*"
    mantissa = digits[0] + (r"\." + digits[1:] + "0*" if len(digits) > 1 else r"(\.0*)?")
    scientific = mantissa + (r"[eE]\+?0*" if power >= 0 else r"[eE]-0*") + str(abs(power))
    minus = "-" if value < 0 else ""
    return f"{minus}(?:{plain}|{scientific})"


# Go's one-letter escapes, as PromQL's lexer and strconv.Unquote accept them.
_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_HEX_DIGITS = {"x": 2, "u": 4, "U": 8}
_RE2_OPTIONS = re2.Options()
_RE2_OPTIONS.log_errors = False  # errors are values here; RE2 would also print them


def unquote(quoted: str) -> str:
    """Return the text of a PromQL string literal (``"..."``, ``'...'`` or `` `...` ``).

    Escapes follow PromQL's lexer, which takes Go's: ``\\a \\b \\f \\n \\r \\t \\v \\\\``, the
    string's own quote, ``\\ooo`` (three octal digits), ``\\xhh``, ``\\uhhhh`` and
    ``\\Uhhhhhhhh``; a raw `` `...` `` string has none. Raises ValueError with a plain sentence
    for any other escape (``\\d`` is one: in a double-quoted regex it is written ``\\\\d``), and
    for text that is not UTF-8 once unescaped.
    """
    quote, body = quoted[0], quoted[1:-1]
    if quote == "`":
        return body
    out = bytearray()
    i = 0
    while i < len(body):
        char = body[i]
        if char != "\\":
            out += char.encode("utf-8")
            i += 1
            continue
        esc = body[i + 1]
        if esc in _ESCAPES or esc in ("\\", quote):
            out += _ESCAPES.get(esc, esc).encode("utf-8")
            i += 2
        elif esc in "01234567":
            digits = body[i + 1 : i + 4]
            if not re.fullmatch("[0-7]{3}", digits) or int(digits, 8) > 255:
                raise ValueError(f"{quoted}: an octal escape is \\ and three digits up to \\377")
            out.append(int(digits, 8))
            i += 4
        elif esc in _HEX_DIGITS:
            size = _HEX_DIGITS[esc]
            digits = body[i + 2 : i + 2 + size]
            if not re.fullmatch(f"[0-9a-fA-F]{{{size}}}", digits):
                raise ValueError(f"{quoted}: \\{esc} must be followed by {size} hex digits")
            code = int(digits, 16)
            if esc == "x":
                out.append(code)
            elif code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
                raise ValueError(f"{quoted}: \\{esc}{digits} is not a Unicode character")
            else:
                out += chr(code).encode("utf-8")
            i += 2 + size
        else:
            raise ValueError(
                f"unknown escape sequence \\{esc} in {quoted}: PromQL strings take Go's escapes; "
                f"for a regex's \\{esc} write \\\\{esc}, or quote the regex with backticks"
            )
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{quoted} is not UTF-8 once its escapes are read") from None


_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f\x7f]')


def quote(text: str) -> str:
    """Return ``text`` as the inside of a double-quoted PromQL string (``unquote``'s inverse)."""
    if not _NEEDS_ESCAPE.search(text):
        return text  # the common case, and most label values are quoted many times
    out = []
    for char in text:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif ord(char) < 0x20 or char == "\x7f":
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


@functools.lru_cache(maxsize=4096)
def _re2_fullmatch(pattern: str):
    return re2.compile(f"^(?:{pattern})$", _RE2_OPTIONS)


# Prometheus 2.5x simplifies a regex before compiling it: `x{m,n}` becomes n - m nested
# optional copies of x, and Go refuses a parse tree more than 1000 levels deep.
_MAX_SIMPLIFIED_HEIGHT = 1000


def _simplified_height(pattern: str) -> int:
    """Return about how deep Go's parse tree of ``pattern`` is once Prometheus 2.5x has
    simplified it (0 when Python's parser cannot read the pattern).

    Measured on promtool 2.53: ``a{0,499}`` loads and ``a{0,500}`` or ``((a{0,499}))`` do
    not; the estimate matches those and errs on the refusing side elsewhere.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # FutureWarning on RE2's [[:alpha:]]
            tree = _sre_parser.parse(pattern)
    except Exception:  # RE2 syntax Python cannot read; RE2 itself has accepted it
        return 0

    def height(items) -> int:
        heights = [node(op, av) for op, av in items]
        return (max(heights, default=0) + (len(heights) > 1)) if heights else 1

    def node(op, av) -> int:
        if op in (_sre_constants.MAX_REPEAT, _sre_constants.MIN_REPEAT):
            low, high, sub = av
            if high == _sre_constants.MAXREPEAT or (low, high) == (0, 1):
                return 1 + height(sub)
            return 2 * (high - low) + height(sub) + (high > low)
        if op == _sre_constants.SUBPATTERN:
            return height(av[3]) + (av[0] is not None)
        if op == _sre_constants.BRANCH:
            return 1 + max(height(b) for b in av[1])
        return 1

    return height(tree)


def regex_problem(pattern: str) -> str | None:
    """Return why Prometheus would refuse ``pattern`` as a label-matcher regex, or None.

    Prometheus (and VictoriaMetrics) compile a matcher's regex with Go's ``regexp``, which is
    RE2 syntax, anchored as ``^(?:pattern)$``. The check is Google's RE2 itself, plus the two
    spellings the C++ RE2 accepts but Go refuses: ``\\C`` (any byte) and ``(?<name>...)``
    (Go reads it only from 1.22, so Prometheus 2.42 and older refuse it).
    """
    for text in (pattern, f"^(?:{pattern})$"):
        try:
            re2.compile(text, _RE2_OPTIONS)
        except re2.error as exc:
            reason = exc.args[0]
            reason = reason.decode("utf-8", "replace") if isinstance(reason, bytes) else reason
            hint = ""
            if reason.startswith(("invalid perl operator", "invalid escape sequence: \\")):
                hint = " (RE2 has no lookaround and no backreferences)"
            return f"{reason}{hint}"
    for token in re.findall(r"\\.|\(\?<(?![=!])|\[[^\]]*\]", pattern):
        if token == "\\C":
            return r"\C (any byte) is not supported by Go's regexp, which Prometheus uses"
        if token == "(?<":
            return "write a named group as (?P<name>...): Prometheus 2.42 and older refuse (?<name>"
    if _simplified_height(pattern) > _MAX_SIMPLIFIED_HEIGHT:
        return (
            "a counted repetition {m,n} spans too many optional copies: Prometheus 2.53 "
            "expands it and refuses the result (expression nests too deeply); narrow the range"
        )
    return None


@functools.lru_cache(maxsize=4096)
def fullmatch(pattern: str, value: str) -> bool:
    """Return True when the RE2 ``pattern`` matches all of ``value``, as a PromQL regex matcher
    does (Prometheus anchors it at both ends). ``pattern`` must pass ``regex_problem``.
    Cached: the test planners ask the same question of every synthetic series they sum."""
    return _re2_fullmatch(pattern).search(value) is not None


@dataclass(frozen=True)
class Matcher:
    """One PromQL label matcher, e.g. ``status=~"5.."``.

    ``value`` is the inside of a double-quoted PromQL string, escaped and ready to write into
    a rule; ``text`` is the label value or regex it stands for.
    """

    name: str
    op: str
    value: str

    def __str__(self) -> str:
        return f'{self.name}{self.op}"{self.value}"'

    @functools.cached_property
    def text(self) -> str:
        """Return the unescaped label value (``=``, ``!=``) or RE2 regex (``=~``, ``!~``)."""
        return unquote(f'"{self.value}"')

    def holds(self, value: str) -> bool:
        """Return True when a label with ``value`` (``""`` for a missing label) satisfies
        the matcher, as Prometheus decides it: regexes with RE2, anchored at both ends."""
        if self.op in ("=", "!="):
            return (value == self.text) == (self.op == "=")
        return fullmatch(self.text, value) == (self.op == "=~")

    def negated(self) -> Matcher:
        """Return the matcher that holds exactly where this one does not."""
        op = {"=": "!=", "!=": "=", "=~": "!~", "!~": "=~"}[self.op]
        return Matcher(self.name, op, self.value)


def parse_matchers(text: str) -> tuple[Matcher, ...]:
    """Parse ``job="api", status=~"5.."`` into Matchers; raise ValueError on bad syntax.

    Strings follow PromQL (see ``unquote``) and regexes RE2 (see ``regex_problem``); each
    Matcher keeps its text re-escaped for a double-quoted string.
    """
    text = text.strip()
    if text.startswith("{") and text.endswith("}"):
        text = text[1:-1]
    matchers: list[Matcher] = []
    pos = 0
    while pos < len(text):
        match = _MATCHER.match(text, pos)
        quoted = re.match(r'\s*"((?:[^"\\]|\\.)*)"\s*(=~|!~|!=|=)', text[pos:])
        if quoted:
            raise ValueError(legacy_name_problem(quoted[1], "label"))
        if not match:
            raise ValueError(
                f"cannot read a label matcher at {text[pos : pos + 20]!r}; "
                'write matchers like job="api", status=~"5.."'
            )
        m = Matcher(match["name"], match["op"], quote(unquote(match["quoted"])))
        if m.op in ("=~", "!~") and (problem := regex_problem(m.text)):
            raise ValueError(f"{m} is not a regular expression Prometheus accepts: {problem}")
        if m.name == "__name__":
            raise ValueError("select the metric by its `name`, not by a __name__ matcher")
        matchers.append(m)
        pos = match.end()
    names = [m.name for m in matchers if m.op == "="]
    if len(names) != len(set(names)):
        raise ValueError("a label is matched for equality twice")
    return tuple(matchers)


def absent_labels(matchers: tuple[Matcher, ...]) -> dict[str, str]:
    """Return the labels of ``absent(metric{matchers})``'s series, as Prometheus builds them
    (``createLabelsForAbsentFunction``): each label matched for equality exactly once, and
    no label that another matcher on the same name (``!=``, ``=~``, ``!~``) also names."""
    labels: dict[str, str] = {}
    dropped: set[str] = set()
    for m in matchers:
        if m.op == "=" and m.name not in labels and m.name not in dropped:
            labels[m.name] = m.text
        else:
            labels.pop(m.name, None)
            dropped.add(m.name)
    return labels


def le_matcher(bound: float) -> Matcher:
    """Return ``le=~"..."``: the bucket label matcher for every spelling of ``bound``."""
    return Matcher("le", "=~", bound_pattern(bound).replace("\\", "\\\\"))


def selector(metric: str, matchers: tuple[Matcher, ...]) -> str:
    """Return ``metric{a="b", ...}``, or the bare metric name when there are no matchers."""
    if not matchers:
        return metric
    return metric + "{" + ", ".join(str(m) for m in matchers) + "}"
