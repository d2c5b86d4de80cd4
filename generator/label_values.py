"""Label values that satisfy, or break, PromQL label matchers: the inputs of generated tests.

Values are derived from the matchers' structure, never searched blindly: an ``=`` matcher
gives its value, a regex its matching strings, enumerated in a fixed order by ``sre_yield``
(from the regex's parse tree, with exact counts, so an empty character class costs nothing),
and these are bent (a character added or dropped) to miss ``!=`` / ``!~`` matchers. Every
candidate is then judged by ``Matcher.holds``: RE2, anchored as Prometheus anchors it, so a
value is used only when Prometheus would agree. Short strings over the label alphabet are
the last resort, for RE2 syntax Python's parser cannot read (``\\pL``, ``[[:alpha:]]``).

Everything here is deterministic: the same matchers give the same values in every run.
"""

from __future__ import annotations

import functools
import itertools
import re
import string
import warnings
from collections.abc import Iterator

from .promql import Matcher, fullmatch

with warnings.catch_warnings():
    # sre_yield reads Python's sre_parse tree; the module is deprecated in name only.
    warnings.simplefilter("ignore", DeprecationWarning)
    import sre_yield

# What `.` and negated classes stand for: characters a label value can hold without quoting
# worries, digits first so `5..` gives `500`.
CHARSET = string.digits + string.ascii_lowercase + string.ascii_uppercase + "_-.:/"
SAMPLES = 24  # strings taken from each regex's enumeration
MAX_REPEAT = 3  # `*`, `+` and `{n,}` enumerated up to this many repeats
_SHORT_LENGTHS = (1, 2)  # last resort: every string this long over the label alphabet


class Unsatisfiable(ValueError):
    """No label value satisfies a set of matchers (a plain sentence says which)."""


def _for_python(pattern: str) -> str:
    """Return an RE2 pattern in Python's syntax, close enough to enumerate candidates from.

    Candidates are judged by RE2 afterwards, so a loose translation costs nothing but misses.
    """
    pattern = re.sub(r"\\Q(.*?)(?:\\E|$)", lambda m: re.escape(m[1]), pattern)
    posix = {"alpha": "a-zA-Z", "digit": "0-9", "alnum": "a-zA-Z0-9", "word": "a-zA-Z0-9_",
             "lower": "a-z", "upper": "A-Z", "xdigit": "0-9a-fA-F", "space": " "}  # fmt: skip
    pattern = re.sub(r"\[:(\w+):\]", lambda m: posix.get(m[1], m[0]), pattern)
    pattern = re.sub(r"\\[pP](?:\{[^}]*\}|\w)", "a", pattern)
    pattern = re.sub(r"\(\?[imsU]+\)", "", pattern)  # Python allows flags only at the start
    pattern = re.sub(r"\(\?[imsU-]+:", "(?:", pattern)
    return re.sub(r"\\z", r"\\Z", pattern)


@functools.lru_cache(maxsize=1024)
def samples(pattern: str) -> tuple[str, ...]:
    """Return up to SAMPLES strings the RE2 ``pattern`` matches, shortest repeats first.

    Fewer (or none) when the pattern has fewer matches within MAX_REPEAT repeats, or when
    Python's parser cannot read its RE2 syntax.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            strings = sre_yield.AllStrings(
                _for_python(pattern), charset=CHARSET, max_count=MAX_REPEAT
            )
            found = [strings[i] for i in range(min(SAMPLES, len(strings)))]
    except Exception:  # any parse failure only means "no samples"
        return ()
    return tuple(s for s in found if "\n" not in s)


def finite_matches(pattern: str, limit: int) -> tuple[str, ...] | None:
    """Return every non-empty string the RE2 ``pattern`` matches, in enumeration order, when
    they are at most ``limit``; None when it matches unboundedly many (a ``*``, ``.``, a
    negated class), more than ``limit``, or when this cannot tell (flags such as ``(?i)``,
    RE2 syntax Python's parser reads otherwise). ``api|worker``, ``shop-(api|web)`` and
    ``web-[0-2]`` are finite lists; every string is checked with RE2 before it is returned.

    Finite means the same count with a wider alphabet and one more allowed repeat: whatever
    ``.``, a negated class or an unbounded repeat stands for changes it."""
    if "(?" in pattern or _for_python(pattern) != pattern:
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            found = sre_yield.AllStrings(pattern, charset=CHARSET, max_count=MAX_REPEAT)
            wider = sre_yield.AllStrings(pattern, charset=CHARSET + "é ", max_count=MAX_REPEAT + 1)
            if len(found) != len(wider) or len(found) > limit:
                return None
            strings = tuple(found[i] for i in range(len(found)))
    except Exception:  # any parse failure: cannot tell
        return None
    if not all(fullmatch(pattern, s) for s in strings):
        return None
    return tuple(dict.fromkeys(s for s in strings if s))


def _alphabet(matchers: tuple[Matcher, ...]) -> str:
    """Return CHARSET and every other character the matchers spell, in a fixed order."""
    extra = sorted({c for m in matchers for c in m.text if c.isprintable() and c not in CHARSET})
    return CHARSET + "".join(extra)


def _candidates(matchers: tuple[Matcher, ...]) -> Iterator[str]:
    """Yield label values worth trying for one label's matchers, most telling first."""
    seeds = [m.text for m in matchers if m.op in ("=", "!=")]
    for m in matchers:
        if m.op in ("=~", "!~"):
            seeds.extend(samples(m.text))
    yield from (m.text for m in matchers if m.op == "=")
    yield from (s for m in matchers if m.op == "=~" for s in samples(m.text))
    alphabet = _alphabet(matchers)
    for seed in seeds:
        yield seed
        for char in alphabet:
            yield seed + char
            yield char + seed
        yield seed[:-1]
        yield seed[1:]
    yield ""
    for size in _SHORT_LENGTHS:
        for chars in itertools.product(alphabet, repeat=size):
            yield "".join(chars)


@functools.lru_cache(maxsize=4096)
def value_for(matchers: tuple[Matcher, ...]) -> str:
    """Return one label value that satisfies every matcher (all on the same label).

    ``""`` stands for the label being absent, as in Prometheus. Raises Unsatisfiable when no
    candidate fits, naming the matchers.
    """
    for value in _candidates(matchers):
        if all(m.holds(value) for m in matchers):
            return value
    together = ", ".join(map(str, matchers))
    if len(matchers) == 1:
        raise Unsatisfiable(f"{together} matches no label value, so it selects no series")
    raise Unsatisfiable(f"no label value satisfies {together} together, so it selects no series")


def labels_for(matchers: tuple[Matcher, ...], avoid: tuple[Matcher, ...] = ()) -> dict[str, str]:
    """Return ``{label: value}`` for every label the matchers name, satisfying all of
    ``matchers`` and, when ``avoid`` is given, missing at least one of ``avoid`` (a series
    the ``matchers`` select but the ``avoid`` selector does not). Empty values stand for
    absent labels. Raises Unsatisfiable with a plain sentence.
    """
    names = sorted({m.name for m in matchers})
    labels = {n: value_for(tuple(m for m in matchers if m.name == n)) for n in names}
    if not avoid:
        return labels
    for miss in avoid:
        own = tuple(m for m in matchers if m.name == miss.name)
        try:
            value = value_for((*own, miss.negated()))
        except Unsatisfiable:
            continue
        return {**labels, miss.name: value}
    raise Unsatisfiable(
        f"every series that {', '.join(map(str, matchers)) or '{}'} selects also matches "
        f"{', '.join(map(str, avoid))}, so no series tells them apart"
    )
