"""What the importers share: reading documents with positions, collecting refusals, reading
Sloth-style PromQL (``{{.window}}``) and mapping plain counter queries to this project's
``metrics`` and ``bad``/``good``/``total`` SLI series."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .. import promql, raw_query
from ..spec.errors import Path, SpecError, SpecInvalid, format_path
from ..spec.model import GENERATED_ANNOTATIONS, RESERVED_LABELS
from ..spec.spec_file import Unreadable, read_bytes
from ..spec.yaml_source import Source, kind_of, read_documents

# Sloth's (and Sloth-flavoured OpenSLO's) window placeholder, a Go template: {{.window}}.
_GO_WINDOW = re.compile(r"\{\{-?\s*\.window\s*-?\}\}")
WINDOW = "{{ window }}"  # this project's placeholder in raw SLI queries
_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_STRING = r'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|`[^`]*`'
# sum(rate(name{matchers}[{{.window}}])) or increase(): the shape whose ratio is exactly
# this project's bad (or good) over total events; anything else stays a raw query.
_PLAIN_COUNTER = re.compile(
    r"\s*sum\s*\(\s*(?P<func>rate|increase)\s*\(\s*(?P<name>" + _NAME + r")\s*"
    r"(?:\{(?P<matchers>(?:" + _STRING + r"|[^{}\"'`])*)\})?\s*"
    r"\[\s*\{\{\s*window\s*\}\}\s*\]\s*\)\s*\)\s*"
)
# A bare counter selector, name{matchers}: OpenSLO's ratioMetric with counter: true.
_SELECTOR = re.compile(
    r"\s*(?P<name>" + _NAME + r")\s*(?:\{(?P<matchers>(?:" + _STRING + r"|[^{}\"'`])*)\})?\s*"
)


@dataclass(frozen=True)
class Document:
    """One YAML document of an imported file; ``number`` counts from 1 in the file."""

    source: Source
    number: int
    of: int

    @property
    def data(self) -> object:
        return self.source.data

    def error(self, path: Path, message: str) -> SpecError:
        """Return a SpecError at ``path`` in this document (named when the file has several)."""
        error = self.source.error(path, message)
        if self.of > 1:
            where = f"[document {self.number}] {format_path(path)}"
            return SpecError(error.file, error.line, error.column, where, message)
        return error


@dataclass
class Problems:
    """The refusals found so far (``check`` raises them all at once), notes on what was
    left out on purpose (printed, not fatal), and where each imported SLO came from."""

    errors: list[SpecError] = field(default_factory=list)
    notes: list[SpecError] = field(default_factory=list)
    # (service, index in its spec's slos) -> the source document and path of that SLO
    origins: dict[tuple[str, int], tuple[Document, Path]] = field(default_factory=dict)

    def imported(self, specs: list[dict]) -> Imported:
        """Return ``specs`` with these notes and origins."""
        return Imported(specs, self.notes, self.origins)

    def refuse(self, doc: Document, path: Path, message: str) -> None:
        self.errors.append(doc.error(path, message))

    def note(self, doc: Document, path: Path, message: str) -> None:
        self.notes.append(doc.error(path, f"note: {message}"))

    def check(self) -> None:
        """Raise SpecInvalid with every refusal, if any."""
        if self.errors:
            raise SpecInvalid(self.errors)


@dataclass(frozen=True)
class Imported:
    """What an import gives: the specs, notes on fields left out, and the SLOs' origins."""

    specs: list[dict]
    notes: list[SpecError]
    origins: dict[tuple[str, int], tuple[Document, Path]]

    def relocate(self, service: str, errors: list[SpecError]) -> list[SpecError]:
        """Return ``errors`` found in the imported spec of ``service``, each one about an SLO
        moved to that SLO's place in the imported file, saying which spec field it is."""
        out = []
        for error in errors:
            found = re.match(r"slos\[(\d+)\]", error.path)
            origin = self.origins.get((service, int(found[1]))) if found else None
            if origin is None:
                out.append(error)
                continue
            doc, path = origin
            # The spec field's own place when the source has a field of that name there.
            field = re.match(r"\.([A-Za-z_][A-Za-z0-9_]*)", error.path[found.end() :])
            if field and (*path, field[1]) in doc.source.positions:
                path = (*path, field[1])
            message = f"{error.message} (in the imported spec: {error.path})"
            out.append(doc.error(path, message))
        return out


def read(path: str) -> list[Document]:
    """Return every non-empty YAML document of the file at ``path``; raise SpecInvalid when
    it cannot be read (as the spec loader would say it)."""
    try:
        raw = read_bytes(path)
    except OSError as exc:
        message = f"cannot read: {exc.strerror}"
        raise SpecInvalid([SpecError(path, 1, 1, "(top level)", message)]) from None
    except Unreadable as exc:
        raise SpecInvalid([SpecError(path, 1, 1, "(top level)", str(exc))]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = "the file is not UTF-8"
        raise SpecInvalid([SpecError(path, line, 1, "(top level)", message)]) from None
    sources, errors = read_documents(path, text)
    if errors:
        raise SpecInvalid(errors)
    docs = [Document(s, i + 1, len(sources)) for i, s in enumerate(sources)]
    problems = Problems()
    for doc in docs:
        if not isinstance(doc.data, dict):
            problems.refuse(
                doc, (), f"a document is a mapping of fields; found {kind_of(doc.data)}"
            )
    problems.check()
    return docs


def mapping(
    doc: Document, path: Path, value: object, known: Mapping[str, str], problems: Problems
) -> dict:
    """Return ``value`` as a mapping (``{}`` for null), refusing keys not in ``known``.

    ``known`` maps each accepted key to a word on it; a key written in the other spelling
    of the format (``error_query`` in a CRD, ``errorQuery`` in prometheus/v1) is named.
    """
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.refuse(doc, path, f"expected a mapping; found {kind_of(value)}")
        return {}
    for key in value:
        if key not in known:
            twin = next((k for k in known if _squash(k) == _squash(key)), None)
            hint = f"; did you mean {twin!r}?" if twin else f"; known: {', '.join(known)}"
            problems.refuse(doc, (*path, key), f"unknown field {key!r}{hint}")
    return value


def _squash(key: str) -> str:
    return key.replace("_", "").lower()


def text(doc: Document, path: Path, value: object, problems: Problems) -> str | None:
    """Return ``value`` when it is text, else refuse it."""
    if isinstance(value, str):
        return value
    found = "it is missing" if value is None else f"found {kind_of(value)}"
    problems.refuse(doc, path, f"expected text; {found}")
    return None


def window_query(doc: Document, path: Path, query: str, problems: Problems) -> str | None:
    """Return ``query`` with Sloth's ``{{.window}}`` written as this project's
    ``{{ window }}``; refuse a query without the placeholder or with another template."""
    out = _GO_WINDOW.sub(WINDOW, query)
    rest = out.replace(WINDOW, "")
    if "{{" in rest or "}}" in rest:
        problems.refuse(
            doc,
            path,
            "the query uses a Go template other than {{.window}}; only the window "
            "placeholder can be imported",
        )
        return None
    if WINDOW not in out:
        problems.refuse(
            doc,
            path,
            "the query has no {{.window}} placeholder, so it cannot be evaluated over the "
            "SLO's windows; write its range as [{{.window}}]",
        )
        return None
    return out.strip()


@dataclass(frozen=True)
class Counter:
    """A counter read as a whole: its metric name, its matchers, and how it was summed."""

    name: str
    matchers: tuple[promql.Matcher, ...]
    func: str  # rate | increase | "" (a bare selector)


def plain_counter(query: str) -> Counter | None:
    """Return the counter of ``sum(rate(name{...}[{{ window }}]))`` (or ``increase``), else
    None: only that shape is exactly a count of events (this project sums every series)."""
    match = _PLAIN_COUNTER.fullmatch(query)
    return _counter(match, match["func"]) if match else None


def bare_counter(query: str) -> Counter | None:
    """Return the counter of a bare selector ``name{...}``, else None."""
    match = _SELECTOR.fullmatch(query)
    return _counter(match, "") if match else None


def _counter(match: re.Match, func: str) -> Counter | None:
    try:
        matchers = promql.parse_matchers(match["matchers"] or "")
    except ValueError:
        return None
    return Counter(match["name"], matchers, func)


@dataclass
class Metrics:
    """The ``metrics`` section being built: one entry per metric name (the spec declares a
    name once), selected by the matchers every use of it shares; each series keeps the rest
    of its own matchers as its ``match``. Call :meth:`finish` once every use is known."""

    entries: dict[str, dict] = field(default_factory=dict)
    _uses: dict[str, list[tuple[promql.Matcher, ...]]] = field(default_factory=dict)
    _series: list[tuple[dict, str, tuple[promql.Matcher, ...]]] = field(default_factory=list)

    def use(self, name: str, matchers: tuple[promql.Matcher, ...], kind: str = "counter") -> str:
        """Record that ``name`` (a ``kind`` metric; a histogram by its name without
        ``_bucket``) is read with ``matchers``; return its key."""
        for key, entry in self.entries.items():
            if entry["name"] == name:
                self._uses[key].append(matchers)
                return key
        base = re.sub(r"[^a-z0-9_]+", "_", name.lower()).strip("_")
        base = re.sub(r"_total$", "", base) or "metric"
        if not base[0].isalpha():
            base = f"m_{base}"
        base = base[:56]
        key, n = base, 1
        while key in self.entries:
            n += 1
            key = f"{base}_{n}"
        self.entries[key] = {"name": name, "type": kind}
        self._uses[key] = [matchers]
        return key

    def series(
        self, name: str, matchers: tuple[promql.Matcher, ...], kind: str = "counter"
    ) -> dict:
        """Return the SLI series ``{metric: key}`` reading ``name{matchers}``; its ``match``
        is filled in by :meth:`finish`."""
        out = {"metric": self.use(name, matchers, kind)}
        self._series.append((out, out["metric"], matchers))
        return out

    def finish(self) -> None:
        """Set each metric's ``selector`` (the matchers all its uses share) and each series'
        ``match`` (its other matchers)."""
        shared: dict[str, tuple[promql.Matcher, ...]] = {}
        for key, uses in self._uses.items():
            shared[key] = tuple(m for m in uses[0] if all(m in other for other in uses[1:]))
            if shared[key]:
                self.entries[key]["selector"] = ", ".join(str(m) for m in shared[key])
        for out, key, matchers in self._series:
            extra = [str(m) for m in matchers if m not in shared[key]]
            if extra:
                out["match"] = ", ".join(extra)


def events_sli(part: str, counter: Counter, total: Counter, metrics: Metrics) -> dict | None:
    """Return the SLI ``{part: ..., total: ...}`` (``part`` is bad or good) that counts the
    same events as ``counter`` over ``total``, or None when no such SLI is exact.

    Exact when both read counters the same way and either name different metrics, or one
    metric where the part's matchers add to the total's (the part is then a share of it)."""
    if counter.func != total.func:
        return None  # rate over increase is off by the window's length
    if counter.name == total.name:
        extra = [m for m in counter.matchers if m not in total.matchers]
        if not extra or any(m not in counter.matchers for m in total.matchers):
            return None
    return {
        part: metrics.series(counter.name, counter.matchers),
        "total": metrics.series(total.name, total.matchers),
    }


def labels(
    doc: Document, path: Path, value: object, problems: Problems, what: str = "label"
) -> dict[str, str]:
    """Return the labels (or annotations, with ``what='annotation'``) at ``path`` as text.
    A label this project's generator sets on every alert itself is refused; such an
    annotation (``summary``, ``description``, ...) is noted and left out, as is an empty one."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problems.refuse(doc, path, f"expected a mapping of {what}s; found {kind_of(value)}")
        return {}
    out: dict[str, str] = {}
    taken = RESERVED_LABELS if what == "label" else GENERATED_ANNOTATIONS
    article = "an" if what[0] in "aeiou" else "a"
    for key, item in value.items():
        at = (*path, key)
        if not isinstance(item, str | int | float) or isinstance(item, bool):
            problems.refuse(doc, at, f"a {what} value is text; found {kind_of(item)}")
        elif what == "label" and not str(item).isprintable():
            problems.refuse(doc, at, "a label value is one line of printable text")
        elif what == "annotation" and item == "":
            # Prometheus shows an empty annotation as none, and a spec's may not be empty.
            problems.note(doc, at, "an empty annotation is left out (Prometheus drops it)")
        elif what == "annotation" and key in taken:
            # Sloth's getting-started spec rewrites the summary: the spec still imports.
            problems.note(
                doc,
                at,
                f"{key!r} is an annotation the generator writes on every alert itself (from "
                "the SLO, its burn rate and windows); left out",
            )
        elif key in taken:
            problems.refuse(
                doc,
                at,
                f"{key!r} is {article} {what} the generator sets on every alert itself, so it "
                f"cannot be imported; rename the {what}, or drop it",
            )
        else:
            out[key] = str(item)
    return out


# Prometheus' naming conventions: counters end in _total, a histogram's series are counters.
_COUNTER_SUFFIXES = ("_total", "_count", "_sum", "_bucket")


def declare_raw_metrics(sli: dict | None, metrics: Metrics) -> None:
    """Record in ``metrics`` each metric a raw SLI query (``error_query``, ``total_query``,
    ``ratio_query``) reads, with the matchers of each selector; a new one is typed counter
    when its name ends as counters' do
    (``_total``, ``_count``, ``_sum``, ``_bucket``), else gauge. The spec then lists what
    the service exports, as this project's specs do (and ``metrics`` is never empty)."""
    found: dict[str, list[tuple[promql.Matcher, ...]]] = {}
    for key in ("error_query", "total_query", "ratio_query"):
        if sli and isinstance(sli.get(key), str):
            query, _ = raw_query.parse(sli[key])
            for sel in query.selectors if query else ():
                found.setdefault(sel.name, []).append(sel.matchers)
    for name, uses in found.items():
        kind = "counter" if name.endswith(_COUNTER_SUFFIXES) else "gauge"
        for matchers in uses:
            metrics.use(name, matchers, kind)


@functools.cache
def _name_patterns() -> dict[str, Callable[[str], bool]]:
    """The spec schema's checks of the names an import writes, read as the spec's validator
    reads them (ECMA-262 regular expressions: '$' is the end of the text)."""
    import jsonschema_rs

    from ..spec.loader import schema  # the loader is heavy; only a check needs it

    spec = schema()
    slo = spec["$defs"]["slo"]["properties"]
    fields = {
        "service": spec["properties"]["service"],
        "SLO": slo["name"],
        "alert": slo["alert_name"],
    }
    return {kind: jsonschema_rs.validator_for(field).is_valid for kind, field in fields.items()}


_NAME_WORDS = {
    "service": "lower-case letters, digits and '-', starting with a letter (at most 63)",
    "SLO": "lower-case letters, digits and '-', starting with a letter (at most 63)",
    "alert": "CamelCase letters and digits, starting with a capital (under 40)",
}


def name(doc: Document, path: Path, value: object, kind: str, problems: Problems) -> str | None:
    """Return ``value`` when it can be this project's ``kind`` name (``service``, ``SLO`` or
    ``alert``, by the spec schema's pattern); else refuse it, saying what a name is."""
    found = text(doc, path, value, problems)
    if found is None or _name_patterns()[kind](found):
        return found
    article = "a" if kind == "service" else "an"
    why = f"{found!r} cannot be {article} {kind} name in this project: write {_NAME_WORDS[kind]}"
    problems.refuse(doc, path, why)
    return None
