"""Load a spec file: YAML with positions, then JSON Schema, then semantic checks, then Model."""

from __future__ import annotations

import functools
import json
from pathlib import Path as FsPath
from typing import TYPE_CHECKING

import jsonschema_rs

from .. import label_values, promql
from .. import signals as recorded_names
from .dashboard import resolve as resolve_dashboard
from .deploy import pattern_hint as deploy_pattern_hint
from .deploy import resolve as resolve_deploy
from .errors import Path, SpecError, SpecInvalid, closest, format_path
from .model import (
    ABSENT_ALERT,
    BUDGET_CRITICAL_ALERT,
    BUDGET_LOW_ALERT,
    BURN_ALERT,
    DEFAULT_BURN_RATES,
    GENERATED_ANNOTATIONS,
    RESERVED_LABELS,
    SLI,
    SLO,
    TARGET_DOWN_ALERT,
    AbsentDataPolicy,
    BurnRate,
    ErrorBudgetPolicy,
    Labels,
    Metric,
    Runbook,
    Series,
    Service,
    SeverityAlert,
    Signal,
    Threshold,
    scrape_jobs,
)
from .raw_sli import raw_sli
from .routing import resolve as resolve_routing
from .spec_file import Unreadable, read_bytes
from .yaml_source import Source, kind_of, read

if TYPE_CHECKING:
    import jsonschema

MAX_FOR = 3600
ENV_LABEL = recorded_names.ENV_LABEL
MAX_SLOW_BURN_FOR = 3 * 3600
MAX_AVAILABILITY_WINDOW = 3600
DEFAULT_UNITS = {"ratio": "percent", "quantile": "seconds", "availability": "percent"}
# Why a label of the alerted series cannot be an alert's own label: a rule label overwrites
# the series' label of that name.
_KEPT_BY_SIGNAL = (
    "is a label of this signal's series (its recording keeps it), and a rule label of that "
    "name would overwrite it and merge the alerts it tells apart"
)
# Labels that cannot be a cluster_label or a group_by label, and why.
_NOT_KEPT = {
    **{k: "is a label the generator sets on its rules" for k in RESERVED_LABELS},
    "job": "is kept on every recording already",
    "le": "is a histogram's bucket bound",
    "alertstate": "is the label Prometheus sets on ALERTS",
}
_SERIES_LABELS = {
    "job": "is set by the generator on TargetDown and kept on every recording",
    "instance": "tells TargetDown's targets apart (a rule label would merge them)",
}


def schema() -> dict:
    """Return the spec's JSON Schema (shipped in the package)."""
    text = FsPath(__file__).with_name("schema.json").read_text(encoding="utf-8")
    return json.loads(text)


# Fields whose default can clash with a written field (see Resolver.clash).
_DEFAULTS: dict[Path, str] = {
    ("period",): "30d",
    ("scrape_interval",): "1m",
    ("rate_window",): "5m",
    **{
        (("burn_rates", i, w)): str(v)
        for i, row in enumerate(DEFAULT_BURN_RATES)
        for w, v in (("long", row[1]), ("short", row[2]))
    },
}

# Two validators of the one schema. jsonschema-rs decides: compiled, it checks a spec in
# about 0.04 ms and imports in about 20 ms, where the jsonschema package takes about 10 ms
# and 120 ms (measured on Samokoder's spec). Its regular expressions follow ECMA-262, as
# JSON Schema asks for `pattern`; where that dialect and Python's `re` read a text
# differently, both must accept it (see schema_errors). The jsonschema package is imported
# only then and for a spec that fails, to explain it in a reader's words (it keeps the
# failing subschema and the alternatives a oneOf tried).
_DECIDER = jsonschema_rs.validator_for(schema())


@functools.cache
def _explainer() -> jsonschema.Draft202012Validator:
    import jsonschema

    return jsonschema.Draft202012Validator(schema())


def load(path: str | FsPath, raw: bytes | None = None) -> Service:
    """Return the Service a spec file describes, or raise SpecInvalid with every problem.
    ``raw``: the file's bytes, already read (the bytes the cache keyed the spec by)."""
    name = str(path)
    try:
        raw = read_bytes(path) if raw is None else raw
    except OSError as exc:
        message = f"cannot read: {exc.strerror}"
        raise SpecInvalid([SpecError(name, 1, 1, "(top level)", message)]) from None
    except Unreadable as exc:
        raise SpecInvalid([SpecError(name, 1, 1, "(top level)", str(exc))]) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        message = "the file is not UTF-8"
        raise SpecInvalid([SpecError(name, line, 1, "(top level)", message)]) from None
    return load_text(name, text)


def load_text(name: str, text: str) -> Service:
    """Return the Service described by ``text`` (read from file ``name``)."""
    try:
        source, errors = read(name, text)
    except RecursionError:
        source, errors = (
            None,
            [SpecError(name, 1, 1, "(top level)", "the document nests too deeply")],
        )
    if source is None:
        raise SpecInvalid(errors)
    errors = schema_errors(source)
    if errors:
        raise SpecInvalid(errors)
    return _Resolver(source).service()


def schema_errors(source: Source) -> list[SpecError]:
    """Return one SpecError per JSON Schema violation, in a reader's words; [] when the spec
    fits the schema.

    jsonschema-rs decides, except for a spec holding text that Python's ``re`` may refuse
    where ECMA-262 accepts (:func:`python_stricter`): there the spec must satisfy both, so the
    jsonschema package decides too. A value JSON has no type for (a non-text key) is left to
    the jsonschema package alone. What only jsonschema-rs refuses (a pattern's '$' before a
    final newline, U+FEFF in ``\\s``) is reported beside the rest."""
    data = source.data
    try:
        fits: bool | None = _DECIDER.is_valid(data)
    except ValueError:  # jsonschema-rs takes JSON's types only
        fits = None
    if fits and not _holds_text(data, python_stricter):
        return []
    out = [found for error in _explainer().iter_errors(data) for found in _describe(source, error)]
    if fits is False:
        try:
            decided = list(_DECIDER.iter_errors(data))
        except ValueError:  # a type JSON lacks, or nesting, past where is_valid stopped
            decided = []
        out += [
            source.error(at, _pattern_message(path, value, pattern))
            for error in decided
            for at, path, value, pattern in _dialect_refusals(error, tuple(error.instance_path))
        ]
        if not out:  # a difference of the two not characterised here: jsonschema-rs's words
            out = [source.error(tuple(e.instance_path), e.message) for e in decided]
    return out


# Where a `pattern` reads a text differently in ECMA-262 (jsonschema-rs) and in Python's
# `re` (the jsonschema package); tests/test_schema_validators.py finds no other difference,
# for any code point, in any of the schema's patterns (which use `\s` only inside `[^...]`):
# - Python's `\s` also holds the four C0 separators and NEL, so Python refuses more;
# - ECMA-262's `\s` also holds U+FEFF, and Python's `$` also matches before a final
#   newline, so there ECMA-262 refuses more.
_WIDER_PYTHON_SPACE = frozenset("\x1c\x1d\x1e\x1f\x85")
_WIDER_ECMA_SPACE = frozenset("\ufeff")


def python_stricter(text: str) -> bool:
    """True when Python's ``re`` may refuse ``text`` where ECMA-262 accepts it."""
    return not _WIDER_PYTHON_SPACE.isdisjoint(text)


def dialect_sensitive(text: str) -> bool:
    """True when the two dialects may read ``text`` differently, in either direction."""
    return python_stricter(text) or text.endswith("\n") or not _WIDER_ECMA_SPACE.isdisjoint(text)


def _holds_text(data: object, test) -> bool:
    """True when ``test`` holds for a key or text value of ``data`` (nested dicts, lists)."""
    pending = [data]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            pending.extend(node)
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, str) and test(node):
            return True
    return False


def _dialect_refusals(error: jsonschema_rs.ValidationError, path: Path):
    """Yield (where, path, text, pattern) of each dialect-sensitive text that ``error``, or
    what it holds (a key's error, a ``oneOf``'s alternatives), refuses by a pattern: the
    refusals that the jsonschema package may not find. A key is reported where it is
    written, and worded by its mapping's ``path``."""
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Pattern):
        if isinstance(error.instance, str) and dialect_sensitive(error.instance):
            yield path, path, error.instance, kind.pattern
    elif isinstance(kind, jsonschema_rs.ValidationErrorKind.PropertyNames):
        key = kind.error.instance  # JSON Schema reports a bad key at its mapping
        for _, _, text, pattern in _dialect_refusals(kind.error, path):
            yield (*path, key), path, text, pattern
    elif isinstance(
        kind,
        jsonschema_rs.ValidationErrorKind.OneOfNotValid | jsonschema_rs.ValidationErrorKind.AnyOf,
    ):
        for alternative in kind.context:
            for sub in alternative:
                yield from _dialect_refusals(sub, tuple(sub.instance_path))


def _describe(source: Source, error: jsonschema.ValidationError) -> list[SpecError]:
    path: Path = tuple(error.absolute_path)
    if error.validator in ("oneOf", "anyOf") and error.context:
        return _describe_alternatives(source, error)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list(error.schema.get("properties", {}))
        out = []
        for key in error.instance:
            if key in allowed:
                continue
            hint = closest(key, allowed)
            tip = f"; did you mean {hint!r}?" if hint else f"; allowed: {', '.join(allowed)}"
            if not allowed:
                tip = "; this section takes no fields (write {})"
            out.append(source.error((*path, key), f"unknown field {key!r}{tip}"))
        return out
    messages = {
        "required": lambda: error.message.replace("is a required property", "is required"),
        "type": lambda: (
            f"expected {_WANTED.get(error.validator_value, error.validator_value)}, "
            f"found {_found(error.instance)}"
        ),
        "enum": lambda: (
            f"{_show(error.instance)} is not one of {', '.join(map(str, error.validator_value))}"
        ),
        "minItems": lambda: "at least one entry is required",
        "minProperties": lambda: "at least one entry is required",
        "maxProperties": lambda: (
            f"write only one of these here; found {', '.join(map(str, error.instance))}"
        ),
        "minLength": lambda: "must not be empty",
        "maxLength": lambda: (
            f"{len(error.instance)} characters is too long; the limit is {error.validator_value}"
        ),
        "pattern": lambda: _pattern_message(path, error.instance, error.validator_value),
        "exclusiveMaximum": lambda: f"{error.instance} must be less than {error.validator_value}",
        "exclusiveMinimum": lambda: (
            f"{error.instance} must be greater than {error.validator_value}"
        ),
        "maximum": lambda: f"{error.instance} is greater than the maximum {error.validator_value}",
        "minimum": lambda: f"{error.instance} is less than the minimum {error.validator_value}",
    }
    if path[-1:] == ("objective",) and error.validator.startswith("exclusiveM"):
        # 100 % leaves no error budget to alert on, and 0 % is no objective at all.
        messages[error.validator] = lambda: (
            f"{error.instance} is not strictly between 0 and 100; an objective is a "
            "percentage such as 99.9"
        )
    message = messages.get(error.validator, lambda: error.message)()
    if error.validator == "type" and error.validator_value == "number":
        message += _seconds_hint(error.instance)
    if "propertyNames" in error.absolute_schema_path:
        # JSON Schema reports a bad key at the mapping that holds it; point at the key.
        return [source.error((*path, error.instance), message)]
    return [source.error(path, message)]


def _describe_alternatives(source: Source, error: jsonschema.ValidationError) -> list[SpecError]:
    """Describe a value that fits none of a ``oneOf``'s forms (an SLI is bad+total,
    good+total or latency): the problems of the form whose fields it uses, or, when it uses
    none of them, the list of forms and the fields it has."""
    forms = [f.get("required", []) for f in error.validator_value]
    found = list(error.instance) if isinstance(error.instance, dict) else []
    shared = [len(set(required) & set(found)) for required in forms]
    if all(forms) and found and max(shared) > 0:
        best = shared.index(max(shared))
        return [
            problem
            for sub in error.context
            if sub.relative_schema_path[0] == best
            for problem in _describe(source, sub)
        ]
    if not all(forms) or not isinstance(error.instance, dict):
        from jsonschema.exceptions import best_match as best

        best_match = best(error.context)
        return _describe(source, best_match) if best_match is not None else []
    field = next((p for p in reversed(error.absolute_path) if isinstance(p, str)), "")
    noun = _FORM_NOUNS.get(str(field), f"'{field}'" if field else "this value")
    accepted = ["{" + ", ".join(required) + "}" for required in forms]
    listed = ", ".join(accepted[:-1]) + f" or {accepted[-1]}" if len(accepted) > 1 else accepted[0]
    message = f"{noun} is one of {listed}; found {{{', '.join(found)}}}"
    return [source.error(tuple(error.absolute_path), message)]


# What a reader calls the values that a oneOf lets take several forms.
_FORM_NOUNS = {"sli": "an SLI", "routes": "a route"}


_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}


def _seconds_hint(value: object) -> str:
    """Return a hint for a duration written where seconds are wanted: '300ms' -> 0.3."""
    if not isinstance(value, str):
        return ""
    number, unit = value.strip().rstrip("smh"), value.strip()[len(value.strip().rstrip("smh")) :]
    try:
        seconds = float(number) * _SECONDS[unit]
    except (KeyError, ValueError):
        return ""
    return f"; write seconds as a number, such as {promql.format_number(seconds)} for {value}"


# JSON Schema type names in a YAML writer's words.
_WANTED = {
    "number": "a number",
    "integer": "a whole number",
    "string": "text",
    "object": "a mapping",
    "array": "a list",
    "boolean": "true or false",
}


def _found(value: object) -> str:
    """Return what was found, as in ``text 'high'``, ``a list`` or ``true``."""
    if isinstance(value, bool):
        return str(value).lower()
    shown = _show(value)
    return f"{kind_of(value)} {shown}" if shown else kind_of(value)


def _show(value: object) -> str:
    """Return a short repr of a scalar (a long one cut to 40 characters); '' for collections."""
    if isinstance(value, dict | list):
        return ""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


RECEIVER_NAME_RULE = (
    "a receiver name is lower-case letters, digits, '_' and '-', starting with a letter"
)
URL_RULE = (
    "a URL starts with http:// or https:// and has no spaces or braces (Prometheus would "
    "read '{{' as a Go template; write a brace as %7B or %7D)"
)


# What each of the schema's patterns asks for, in a reader's words (a field named in
# _FIELD_RULES words it for that field); tests/test_schema_validators.py checks that every
# pattern of the schema has a sentence here.
_PATTERN_RULES = {
    "^https?://[^\\s{}]+$": URL_RULE,
    "^[a-z][a-z0-9_-]{0,30}$": "an environment name is lower-case letters, digits, '_' and '-', "
    "starting with a letter, at most 31 characters",
    "^[a-zA-Z0-9_-]{1,40}$": "a dashboard uid is 1 to 40 letters, digits, '_' and '-'",
    "^/[^\\s]*[^/\\s]$": "a secret file is an absolute path (starting with '/') to a file, "
    "without spaces, not ending in '/'",
    '^[^@\\s<>"]+@[^@\\s<>"]+$': "an e-mail address is one name@domain, without spaces, "
    "quotes or angle brackets",
    "^[a-z][a-z0-9_]{0,62}$": "use lower-case letters, digits and '_', starting with a letter",
    "^[a-zA-Z_][a-zA-Z0-9_]*$": "use letters, digits and '_', starting with a letter",
    "^[a-z][a-z0-9-]{0,62}$": "a name is lower-case letters, digits and '-', starting with a "
    "letter",
    "^[A-Z][A-Za-z0-9]{0,38}$": "an alert name is CamelCase letters and digits, under 40 "
    "characters",
    "^[A-Za-z0-9.-]+:[0-9]{1,5}$": "a smarthost is host:port, such as smtp.example.com:587",
    "^[a-z][a-z0-9_-]{0,62}$": RECEIVER_NAME_RULE,
    "^[#@]?[^\\s#@]{1,80}$": "a Slack channel is #channel or @user: up to 80 characters, "
    "without spaces",
    "^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?/$": "an Opsgenie API URL is https://<host>/, with "
    "an optional port, ending in '/'",
}
_FIELD_RULES = {
    "service": "a service name is a slug: lower-case letters, digits and '-', starting with a "
    "letter",
}


def _pattern_message(path: Path, value: object, pattern: str) -> str:
    """Say why ``value`` at ``path`` does not match the schema's ``pattern``."""
    if path[:1] == ("deploy",):
        return f"{value!r} is not valid: {deploy_pattern_hint(path)}"
    field = next((p for p in reversed(path) if isinstance(p, str)), "")
    rule = _FIELD_RULES.get(field) or _PATTERN_RULES.get(pattern, f"it must match {pattern}")
    return f"{value!r} is not valid: {rule}"


def label_values_ok(matchers: tuple[promql.Matcher, ...]) -> bool:
    """Return True when some series satisfies ``matchers`` (reported where they are read)."""
    try:
        label_values.labels_for(matchers)
    except label_values.Unsatisfiable:
        return False
    return True


class _Resolver:
    """Semantic checks and model building; collects every problem before raising."""

    def __init__(self, source: Source):
        self.src = source
        self.d: dict = source.data  # type: ignore[assignment]
        self.errors: list[SpecError] = []
        self.environment = ""  # resolving one environment's copy of the service
        self.environment_matchers: tuple[promql.Matcher, ...] = ()

    def fail(self, path: Path, message: str) -> None:
        self.errors.append(self.src.error(path, message))

    def clash(self, paths: tuple[Path, ...], message: str) -> None:
        """Report a conflict between fields at the first of ``paths`` the spec writes.

        A field left out takes its default, which lives in no line of the file: the error
        then sits on a field that is written, and names each default in the conflict
        (``rate_window is not set: its default is 5m``), never at 1:1 on a missing path.
        """
        written = [p for p in paths if self._written(p)]
        defaults = [
            f"{format_path(p)} is not set: its default is {_DEFAULTS[p]}"
            for p in paths
            if not self._written(p) and p in _DEFAULTS
        ]
        where = written[0] if written else paths[0]
        self.fail(where, "; ".join([message, *defaults]))

    def _written(self, path: Path) -> bool:
        return tuple(path) in self.src.positions

    def duration(self, path: Path, default: str | None = None, value: object = None) -> int:
        """Return the seconds of the duration at ``path`` (or of ``value``); 0 after a failure."""
        if value is None:
            value = self._get(path, default)
        try:
            return promql.parse_duration(value)
        except ValueError as exc:
            self.fail(path, str(exc))
            return 0

    def _get(self, path: Path, default: object = None) -> object:
        node: object = self.d
        for part in path:
            in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
            if (isinstance(node, dict) and part in node) or in_list:
                node = node[part]
            else:
                return default
        return node

    def matchers(self, path: Path) -> tuple[promql.Matcher, ...]:
        text = self._get(path, "")
        try:
            return promql.parse_matchers(text)
        except ValueError as exc:
            self.fail(path, f"invalid selector: {exc}")
            return ()

    def selects(
        self,
        path: Path,
        matchers: tuple[promql.Matcher, ...],
        avoid: tuple[promql.Matcher, ...] | None = None,
        prefix: str = "invalid selector: ",
    ) -> bool:
        """Check that some series satisfies ``matchers`` (and misses ``avoid``, when given),
        with the label values the generated tests will use; report at ``path`` if none does."""
        try:
            label_values.labels_for(matchers, avoid or ())
        except label_values.Unsatisfiable as exc:
            self.fail(path, f"{prefix}{exc}")
            return False
        return True

    # -- sections ---------------------------------------------------------------------------

    def service(self) -> Service:
        period = self.duration(("period",), "30d")
        scrape = self.duration(("scrape_interval",), "1m")
        rate_window = self.duration(("rate_window",), "5m")
        if scrape and rate_window and rate_window < 2 * scrape:
            self.clash(
                (("rate_window",), ("scrape_interval",)),
                "a rate window must span at least two scrape intervals",
            )
        # TargetDown sets `job` and reads `up`'s `instance`: a rule label would merge them.
        labels = self.alert_labels(("labels",), _SERIES_LABELS)
        annotations = self.alert_annotations(("annotations",))
        envs = {ENV_LABEL} if self.d.get("environments") else set()  # set on every rule
        self.grouping_labels({key for key, _ in labels} | envs)
        metrics = self.metrics()
        slos = self.slos(metrics, period)
        burn_rates = self.burn_rates(period, scrape)
        self.reachable_burn_rates(slos, burn_rates)
        self.windows_tile(rate_window, period, burn_rates)
        windows = sorted({rate_window} | {w for b in burn_rates for w in (b.long, b.short)})
        signals = self.signals(metrics, slos, windows)
        error_budget = self.error_budget()
        rows = self.thresholds(signals)
        thresholds = tuple(row for row, enabled in rows if enabled)
        self.burn_alert_names(slos)
        self.kept_labels(slos)
        quiet_jobs = self.jobs(metrics)
        job_runbooks = self.job_runbooks(quiet_jobs)
        self.absolute_urls()
        routing = resolve_routing(self.src, self.errors)
        if routing is not None and "runbook_base_url" not in self.d:
            # The default runbook_url is a path in this repository: fine on a dashboard
            # beside the checkout, useless in a Telegram message or on a pager.
            self.fail(
                ("routing",),
                "alerts sent to people need runbook links they can open: set "
                "runbook_base_url to where docs/alerts.md is served, such as "
                f"https://git.example.com/org/repo/blob/main/out/{self.d['service']}"
                "/docs/alerts.md",
            )
        # A switched-off row still colours its signal's panels.
        every_row = tuple(row for row, _ in rows)
        dashboard = resolve_dashboard(self, metrics, signals, slos, every_row, error_budget)
        deploy = resolve_deploy(self.src, self.errors)
        environments = self.environments() if not self.errors and not self.environment else ()
        if self.errors:
            raise SpecInvalid(self.errors)
        if self.environment:
            labels = tuple(sorted((*labels, (ENV_LABEL, self.environment))))
        return Service(
            name=self.d["service"],
            source=self.src.file,
            description=self.d.get("description", ""),
            period=period,
            scrape_interval=scrape,
            rate_window=rate_window,
            labels=labels,
            runbook_base_url=self.d.get("runbook_base_url", ""),
            metrics=tuple(metrics.values()),
            signals=signals,
            slos=slos,
            burn_rates=burn_rates,
            error_budget=error_budget,
            thresholds=thresholds,
            slo_windows=tuple(windows),
            absent_data=AbsentDataPolicy(**self.d.get("absent_data", {})),
            routing=routing,
            dashboard=dashboard,
            grafana_url=self.d.get("grafana_url", "").rstrip("/"),
            deploy=deploy,
            annotations=annotations,
            quiet_jobs=quiet_jobs,
            cluster_label=self.d.get("cluster_label", ""),
            environments=environments,
            environment=self.environment,
            environment_matchers=self.environment_matchers,
            job_runbooks=job_runbooks,
        )

    def environments(self) -> tuple[Service, ...]:
        """Return one resolved copy of the service per environment, sorted by name: every
        metric's selector (and ``up``'s) gains the environment's matchers, and every rule an
        ``env`` label. An environment's selector is parsed with the PromQL matcher grammar
        (regexes as RE2); one that no series can satisfy together with a metric's selector
        is reported at that metric's selector."""
        envs = self.d.get("environments") or {}
        if not envs:
            return ()
        for path, labels in ((("labels",), self.d.get("labels") or {}), *self.slo_label_maps()):
            if ENV_LABEL in labels:
                self.fail(
                    (*path, ENV_LABEL),
                    f"{ENV_LABEL!r} is set on every rule to its environment's name; choose "
                    "another label",
                )
        if self.d.get("cluster_label") == ENV_LABEL:
            self.fail(
                ("cluster_label",),
                f"{ENV_LABEL!r} is set on every rule to its environment's name; choose "
                "another label",
            )
        for i, s in enumerate(self.d["slos"]):
            for j, label in enumerate(s.get("group_by", [])):
                if label == ENV_LABEL:
                    self.fail(
                        ("slos", i, "group_by", j),
                        f"{ENV_LABEL!r} is set per environment; each environment has its own rules",
                    )
        parsed = {name: self.matchers(("environments", name)) for name in sorted(envs)}
        if not self.errors:
            self.disjoint_environments(parsed)
        out = []
        for name, matchers in parsed.items():
            if self.errors:
                continue
            copy = _Resolver(self.src)
            copy.environment, copy.environment_matchers = name, matchers
            try:
                out.append(copy.service())
            except SpecInvalid as exc:
                self.errors += exc.errors
        return tuple(out)

    def disjoint_environments(self, envs: dict[str, tuple[promql.Matcher, ...]]) -> None:
        """Report two environments whose selectors both select some series (one found with
        the label values the generated tests use, each matcher checked with RE2): its every
        alert would fire in both environments, and each environment's rules count its events.
        Selectors on different labels (``env="prod"``, ``region="eu"``) overlap too."""
        names = list(envs)
        for i, first in enumerate(names):
            for second in names[i + 1 :]:
                try:
                    both = label_values.labels_for(envs[first] + envs[second])
                except label_values.Unsatisfiable:
                    continue
                series = ", ".join(f'{k}="{promql.quote(v)}"' for k, v in both.items() if v)
                self.fail(
                    ("environments", second),
                    f"environments {first!r} and {second!r} overlap: a series with "
                    f"{{{series}}} is in both, so its alerts would fire in both and both "
                    "would count its events; make their selectors exclude each other",
                )

    def alert_labels(self, path: Path, generated: dict[str, str] | None = None) -> Labels:
        """Return the labels at ``path`` (a mapping; none when absent), sorted.

        A label the generator sets on the alert (:data:`RESERVED_LABELS`), or one of
        ``generated`` (name -> why), is refused: a rule label overwrites the series' own, so
        it would break routing, inhibition or the alert's identity. A value is one printable
        line without ``{{`` (Prometheus expands templates in labels)."""
        out = tuple(sorted((self._get(path) or {}).items()))
        for key, value in out:
            at = (*path, key)
            if key in RESERVED_LABELS:
                self.fail(at, f"{key!r} is set by the generator; choose another label")
            elif generated and key in generated:
                self.fail(at, f"{key!r} {generated[key]}; choose another label")
            if not value.isprintable():
                self.fail(at, "a label value is one line of printable text")
            elif "{{" in value:
                # Prometheus expands templates in alert labels; a routing label must be literal.
                self.fail(at, "a label value cannot contain '{{' (template syntax)")
        return out

    def alert_annotations(self, path: Path) -> Labels:
        """Return the annotations at ``path`` (a mapping; none when absent), sorted; the ones
        the generator writes (:data:`GENERATED_ANNOTATIONS`) are refused."""
        out = tuple(sorted((self._get(path) or {}).items()))
        for key, _ in out:
            if key in GENERATED_ANNOTATIONS:
                self.fail(
                    (*path, key),
                    f"{key!r} is an annotation the generator writes on every alert; choose "
                    "another name",
                )
        return out

    def severity_alert(self, slo_path: Path, switch: str) -> SeverityAlert:
        """Return the SLO's ``<switch>_alert`` extras (``page`` or ``ticket``), checked as
        the SLO's own ``labels`` and ``annotations``; refused beside ``<switch>: false``,
        which leaves them no alert to go on."""
        path = (*slo_path, f"{switch}_alert")
        if self._get(path) is None:
            return SeverityAlert()
        if self._get((*slo_path, switch)) is False:
            self.clash(
                (path, (*slo_path, switch)),
                f"{switch}_alert sets labels or annotations on the {switch} alerts, but "
                f"{switch}: false switches them off; remove one of the two",
            )
        return SeverityAlert(
            labels=self.alert_labels((*path, "labels")),
            annotations=self.alert_annotations((*path, "annotations")),
        )

    def slo_label_maps(self) -> list[tuple[Path, dict[str, str]]]:
        """Return ``(path, labels)`` of every SLO's own alert labels: its ``labels`` and
        those of its ``page_alert`` and ``ticket_alert``."""
        out = []
        for i, s in enumerate(self.d["slos"]):
            out.append((("slos", i, "labels"), s.get("labels") or {}))
            for extra in ("page_alert", "ticket_alert"):
                given = (s.get(extra) or {}).get("labels") or {}
                out.append((("slos", i, extra, "labels"), given))
        return out

    def kept_labels(self, slos: tuple[SLO, ...]) -> None:
        """Check ``cluster_label`` and every SLO's ``group_by``: labels the rules keep through
        every aggregation (see ``signals.kept_labels``).

        Refused: a label the generator sets or already keeps (:data:`_NOT_KEPT`), a label
        some alert sets as its own (it would overwrite the series' value and merge the
        clusters or groups), the cluster label again in ``group_by``, and a ``group_by``
        label the SLI's selectors make useless: one that the total's selector fixes to one
        value (a single group), or one that tells bad events from good ones (every group
        would be all bad or all good).
        """
        cluster = self.d.get("cluster_label", "")
        own = [(("labels",), self.d.get("labels") or {}), *self.slo_label_maps()]
        rows = self.d.get("thresholds") or []
        own += [(("thresholds", i, "labels"), t.get("labels") or {}) for i, t in enumerate(rows)]

        def check(at: Path, label: str, what: str) -> bool:
            if label in _NOT_KEPT:
                self.fail(at, f"{label!r} {_NOT_KEPT[label]}, so it cannot be {what}")
                return False
            if label.startswith("__"):
                self.fail(at, f"{label!r} is reserved for Prometheus's internal use")
                return False
            for path, labels in own:
                if label in labels:
                    self.fail(
                        (*path, label),
                        f"{label!r} is {what}, which every alert keeps from its series; an "
                        "alert label of that name would overwrite it and merge the alerts it "
                        "tells apart",
                    )
            return True

        if cluster:
            check(("cluster_label",), cluster, "the cluster label")
        raw = {s["name"]: i for i, s in enumerate(self.d["slos"])}
        for slo in slos:
            if self.d.get("environments") and slo.sli.raw:
                # The generator adds an environment's selector to the metrics it reads, but
                # cannot rewrite the user's query: every copy would read every environment.
                self.fail(
                    ("slos", raw[slo.name], "sli"),
                    "environments need an SLI of metrics (bad/good/total or a latency "
                    "histogram); a raw query cannot be given each environment's selector, so "
                    "every environment's rules would read every environment's series",
                )
                continue
            if (cluster or slo.group_by) and (slo.sli.raw or slo.sli.native):
                # The user's query (or the histogram sum) decides which labels survive, so
                # the generator cannot promise the rules keep these.
                self.fail(
                    ("slos", raw[slo.name], "sli"),
                    "cluster_label and group_by need an SLI of metrics (bad/good/total or a "
                    "classic-histogram latency); a raw query or a native histogram cannot "
                    "keep their labels yet",
                )
                continue
            for j, label in enumerate(slo.group_by):
                at = ("slos", raw[slo.name], "group_by", j)
                if label == cluster:
                    self.fail(at, f"{label!r} is the cluster label, which every SLO keeps already")
                    continue
                if not check(at, label, "a group_by label"):
                    continue
                fixed = [m for m in slo.sli.total.all_matchers if m.name == label and m.op == "="]
                if fixed:
                    self.fail(
                        at,
                        f"the SLI's total selects only {fixed[0]}, so grouping by "
                        f"{label!r} gives one group; remove it from group_by or from the selector",
                    )
                part = slo.sli.bad or slo.sli.good
                if part is not None and any(m.name == label for m in part.matchers):
                    self.fail(
                        at,
                        f"{label!r} tells the SLI's bad events from its good ones, so every "
                        "group would be all bad or all good; group by a label both share",
                    )

    def runbook(self, path: Path) -> Runbook:
        """Return the runbook at ``path`` (none when absent). Its text goes only into the
        Markdown runbook, never into an annotation, so no Go template can read it."""
        given = self._get(path) or {}
        return Runbook(
            steps=tuple(given.get("steps", ())),
            mitigation=given.get("mitigation", ""),
            escalation=given.get("escalation", ""),
        )

    def job_runbooks(self, quiet: tuple[str, ...]) -> tuple[tuple[str, Runbook], ...]:
        """Return ``(job, runbook)`` for each job with ``jobs.<job>.runbook``, sorted; a job
        whose TargetDown is switched off has no alert to read it, and is refused."""
        out = []
        for job, settings in sorted(self.d.get("jobs", {}).items()):
            if "runbook" not in settings:
                continue
            if job in quiet:
                self.fail(
                    ("jobs", job, "runbook"),
                    f"job {job!r} has target_down: false, so no alert shows this runbook; "
                    "remove one of them",
                )
            out.append((job, self.runbook(("jobs", job, "runbook"))))
        return tuple(out)

    def absolute_urls(self) -> None:
        """Links are built by appending: ``<runbook_base_url>#<section>`` and
        ``<grafana_url>/d/<uid>?viewPanel=<id>``; a fragment or query in the base would
        swallow what is appended (the schema already asks for http(s) and no spaces)."""
        problems = {
            "runbook_base_url": (
                "#",
                "a fragment ('#') leaves no room for the '#<section>' the generator appends; "
                "give the address of alerts.md without it",
            ),
            "grafana_url": (
                "?#",
                "a query or fragment ('?', '#') would swallow the '/d/<uid>' the generator "
                "appends; give Grafana's root address (a sub-path is fine)",
            ),
        }
        for key, (bad, message) in problems.items():
            value = self.d.get(key, "")
            if isinstance(value, str) and any(c in value for c in bad):
                self.fail((key,), message)

    def jobs(self, metrics: dict[str, Metric]) -> tuple[str, ...]:
        """Return the scrape jobs whose TargetDown is switched off (``jobs.<job>.target_down:
        false``); a job the metrics' selectors do not name is refused."""
        known = scrape_jobs(tuple(metrics.values()))
        out = []
        for job, settings in sorted(self.d.get("jobs", {}).items()):
            if job not in known:
                names = f"name {', '.join(known)}" if known else "name no job"
                self.fail(
                    ("jobs", job),
                    f"unknown job {job!r}: the metrics' selectors {names}, and only those get "
                    "TargetDown",
                )
            elif settings.get("target_down", True) is False:
                out.append(job)
        return tuple(out)

    def burn_alert_names(self, slos: tuple[SLO, ...]) -> None:
        """An SLO's ``alert_name`` is unique among the service's alerts: no alert the
        generator writes (but ErrorBudgetBurn, the default), no threshold row's, no other
        SLO's (a switched-off row's name included). Two alerts of one name would share a
        runbook section and an inhibition."""
        index = {s["name"]: i for i, s in enumerate(self.d["slos"])}
        rows = {t["alert"]: i for i, t in enumerate(self.d.get("thresholds", []))}
        generated = {BUDGET_LOW_ALERT, BUDGET_CRITICAL_ALERT, ABSENT_ALERT, TARGET_DOWN_ALERT}
        seen: dict[str, str] = {}
        for slo in slos:
            path = ("slos", index[slo.name], "alert_name")
            name = slo.burn_alert
            if not self._written(path):
                continue
            if name in generated:
                self.fail(path, f"{name!r} is an alert the generator writes; choose another")
            elif name in rows:
                self.fail(
                    path,
                    f"{name!r} is already the alert of thresholds[{rows[name]}]; an alert "
                    "name is used by one alert only",
                )
            elif name in seen and name != BURN_ALERT:
                self.fail(
                    path,
                    f"{name!r} is already the burn-rate alert of the {seen[name]} SLO; an "
                    "alert name is used by one SLO only",
                )
            seen.setdefault(name, slo.name)

    def metrics(self) -> dict[str, Metric]:
        out = {}
        names: dict[str, str] = {}
        # Sorted: the order of keys in a YAML mapping carries no meaning, so it must not
        # change the order of generated rules.
        for key, m in sorted(self.d["metrics"].items()):
            path = ("metrics", key)
            name = m["name"]
            if not promql.METRIC_NAME.match(name):
                self.fail((*path, "name"), promql.legacy_name_problem(name, "metric"))
            elif ":" in name:
                self.fail(
                    (*path, "name"),
                    f"{name!r} has a colon: colons are reserved for recording rules' names",
                )
            elif name in names:
                self.fail((*path, "name"), f"{name!r} is already declared as metrics.{names[name]}")
            names[name] = key
            if m["type"] == "histogram" and name.endswith(("_bucket", "_count", "_sum")):
                self.fail(
                    (*path, "name"), "name a histogram without its _bucket/_count/_sum suffix"
                )
            matchers = self.matchers((*path, "selector")) + self.environment_matchers
            where = f"in environment {self.environment!r}: " if self.environment else ""
            self.selects((*path, "selector"), matchers, prefix=f"invalid selector: {where}")
            for i, labels in enumerate(m.get("breakdowns", [])):
                if "le" in labels:
                    self.fail((*path, "breakdowns", i), "'le' is the histogram's bucket label")
                if len(set(labels)) != len(labels):
                    self.fail((*path, "breakdowns", i), "a label is listed twice")
            if m["type"] != "histogram":
                for extra in ("buckets", "quantiles"):
                    if extra in m:
                        self.fail((*path, extra), f"only histograms have {extra}")
            buckets = m.get("buckets", [])
            if buckets != sorted(set(buckets)):
                self.fail((*path, "buckets"), "bucket bounds must be increasing, without repeats")
            out[key] = Metric(
                key=key,
                name=name,
                type=m["type"],
                help=m.get("help", ""),
                matchers=matchers,
                breakdowns=tuple(tuple(b) for b in m.get("breakdowns", [])),
                buckets=tuple(float(b) for b in buckets),
                quantiles=tuple(sorted(set(float(q) for q in m.get("quantiles", [])))),
            )
        self.unique_recordings(out)
        return out

    def unique_recordings(self, metrics: dict[str, Metric]) -> None:
        """Refuse two recordings of the same series: a breakdown by ``job`` alone (the
        metric's own recording), a breakdown listed twice (in any order), or ``x_total``
        beside ``x`` (a rate drops ``_total``). ``promtool --lint-fatal`` rejects the file,
        and where the two expressions differ the series would flap between them."""
        seen: dict[tuple, tuple[str, str]] = {}  # identity -> (what, metric key)
        for key, metric in sorted(metrics.items()):
            if metric.type not in ("counter", "histogram"):
                continue  # gauges are read as they are, never recorded per breakdown
            for i, breakdown in enumerate(((),) + metric.breakdowns):
                labels = recorded_names.by_labels(breakdown)
                ident = (metric.type, recorded_names.base_name(metric), frozenset(labels))
                what = f"metrics.{key}" + (f".breakdowns[{i - 1}]" if i else "")
                if ident not in seen:
                    seen[ident] = (what, key)
                    continue
                other, other_key = seen[ident]
                if other_key != key and metrics[other_key].name == metric.name:
                    continue  # the same name twice: reported as such in metrics()
                why = f"both group by {', '.join(sorted(labels))}"
                if other_key != key:
                    pair = f"{metrics[other_key].name} and {metric.name}"
                    why += f"; a rate drops _total, so {pair} share a name"
                elif "job" in breakdown:
                    why += "; every recording keeps job"
                path = ("metrics", key, "breakdowns", i - 1) if i else ("metrics", key, "name")
                self.fail(path, f"records the same series as {other} ({why}); remove or rename one")

    def series(
        self, metrics: dict[str, Metric], path: Path, types: tuple[str, ...]
    ) -> Series | None:
        ref = self._get(path) or {}
        key = ref.get("metric")
        metric = metrics.get(key)
        if metric is None:
            hint = closest(key, list(metrics))
            tip = f"; did you mean {hint!r}?" if hint else ""
            self.fail((*path, "metric"), f"unknown metric {key!r}: it is not under metrics{tip}")
            return None
        if metric.type not in types:
            self.fail(
                (*path, "metric"),
                f"metrics.{key} is a {metric.type}; this needs a {' or '.join(types)}",
            )
            return None
        series = Series(metric, self.matchers((*path, "match")))
        if series.matchers and label_values_ok(metric.matchers):
            self.selects((*path, "match"), series.all_matchers)
        return series

    def apart(self, path: Path, part: Series | None, whole: Series | None, of: str) -> None:
        """A part of the same metric as its whole (bad of total, numerator of denominator)
        needs a series the whole selects and the part does not, or the ratio is constant."""
        if part is None or whole is None or part.metric.name != whole.metric.name:
            return
        if not (label_values_ok(part.all_matchers) and label_values_ok(whole.all_matchers)):
            return  # already reported where the selector is
        if not part.matchers and self._get((*path, "match")) is None:
            self.fail(
                path,
                f"{path[-1]} reads the same metric as {of} with no `match`, so it selects every "
                f"series {of} selects and the ratio never changes; add a `match`",
            )
            return
        if not part.matchers:
            return
        at = (*path, "match")
        if self.selects(
            at, part.all_matchers + whole.matchers, prefix=f"{path[-1]} is no part of {of}: "
        ):
            self.selects(at, whole.all_matchers, part.matchers, f"{path[-1]} is all of {of}: ")

    def slos(self, metrics: dict[str, Metric], period: int) -> tuple[SLO, ...]:
        out = []
        seen: set[str] = set()
        for i, s in enumerate(self.d["slos"]):
            path = ("slos", i)
            if s["name"] in seen:
                self.fail((*path, "name"), f"duplicate SLO name {s['name']!r}")
            seen.add(s["name"])
            if round(s["objective"], 6) != s["objective"]:
                # Past six decimals the error budget rounds towards 0 and the alerts divide by it.
                self.fail((*path, "objective"), "an objective has at most 6 decimal places")
            slo_period = self.duration((*path, "period")) if "period" in s else period
            sli = self.sli(metrics, (*path, "sli"))
            if sli is None:
                continue
            out.append(
                SLO(
                    name=s["name"],
                    slo_type=s.get("slo_type", s["name"].replace("-", "_")),
                    objective=float(s["objective"]),
                    period=slo_period,
                    description=s.get("description", ""),
                    runbook_url=s.get("runbook_url", ""),
                    sli=sli,
                    labels=self.alert_labels((*path, "labels")),
                    annotations=self.alert_annotations((*path, "annotations")),
                    page=s.get("page", True),
                    ticket=s.get("ticket", True),
                    burn_alert=s.get("alert_name", BURN_ALERT),
                    group_by=tuple(s.get("group_by", ())),
                    runbook=self.runbook((*path, "runbook")),
                    page_alert=self.severity_alert(path, "page"),
                    ticket_alert=self.severity_alert(path, "ticket"),
                )
            )
        periods = {s.period for s in out}
        if len(periods) > 1:
            self.fail(("slos",), "all SLOs of a service share one period; set `period` at the top")
        return tuple(out)

    def sli(self, metrics: dict[str, Metric], path: Path) -> SLI | None:
        sli = self._get(path)
        if "error_query" in sli or "ratio_query" in sli:
            raw, problems = raw_sli(self.src, path, sli)
            self.errors += problems
            return raw
        if "latency" in sli:
            lat = sli["latency"]
            hist = self.series(metrics, (*path, "latency"), ("histogram",))
            if hist is None:
                return None
            threshold = float(lat["threshold"])
            native = bool(lat.get("native", False))
            if native and self._get(("deploy", "vmalert")) is not None:
                self.fail(
                    (*path, "latency", "native"),
                    "VictoriaMetrics cannot evaluate a native histogram (histogram_count and "
                    "histogram_fraction are not MetricsQL), so vmalert would refuse the rules; "
                    "drop deploy.vmalert or read the classic buckets (native: false)",
                )
            if native:
                return SLI("latency", total=hist, threshold=threshold, native=True)
            if hist.metric.buckets and threshold not in hist.metric.buckets:
                bounds = ", ".join(promql.format_number(b) for b in hist.metric.buckets)
                self.fail(
                    (*path, "latency", "threshold"),
                    f"{promql.format_number(threshold)} is not a bucket bound of "
                    f"metrics.{hist.metric.key} ({bounds}); the SLI needs an exact bucket",
                )
            return SLI("latency", total=hist, threshold=threshold)
        total = self.series(metrics, (*path, "total"), ("counter",))
        which = "bad" if "bad" in sli else "good"
        part = self.series(metrics, (*path, which), ("counter",))
        if total is None or part is None:
            return None
        self.apart((*path, which), part, total, "total")
        return SLI("events", total=total, **{which: part})

    def grouping_labels(self, service_labels: set[str]) -> None:
        """Refuse a ``by`` or ``breakdowns`` label that the generated rules set themselves.

        A rule's static labels overwrite the series' own, so grouping by ``service`` (or
        ``severity``, ``slo``, a label under ``labels:``) would give two groups the same
        labels: Prometheus then fails the rule ("same labelset after applying rule labels")
        as soon as the label has two real values, which no single-valued test shows.
        """
        set_by_rules = set(RESERVED_LABELS) | service_labels

        def walk(node: object, path: Path) -> None:
            if isinstance(node, dict):
                for key, value in node.items():
                    if key in ("by", "breakdowns") and isinstance(value, list):
                        rows = value if key == "breakdowns" else [value]
                        for i, row in enumerate(rows):
                            at = (*path, key, i) if key == "breakdowns" else (*path, key)
                            for j, label in enumerate(row if isinstance(row, list) else []):
                                if label in set_by_rules:
                                    self.fail(
                                        (*at, j),
                                        f"{label!r} is a label every generated rule sets, so "
                                        "grouping by it would merge the groups it tells apart "
                                        "(Prometheus refuses the rule once it has two values); "
                                        "relabel it at scrape time and group by the new name",
                                    )
                    else:
                        walk(value, (*path, key))
            elif isinstance(node, list):
                for i, item in enumerate(node):
                    walk(item, (*path, i))

        walk(self.d, ())

    def burn_rates(self, period: int, scrape: int) -> tuple[BurnRate, ...]:
        rows = self.d.get("burn_rates")
        if rows is None:
            rows = [
                {"severity": s, "long": lw, "short": sw, "budget_consumed": b}
                for s, lw, sw, b in DEFAULT_BURN_RATES
            ]
        out = []
        for i, r in enumerate(rows):
            path = ("burn_rates", i)
            long_ = self.duration((*path, "long"), value=r["long"])
            short = self.duration((*path, "short"), value=r["short"])
            for_ = self.duration((*path, "for"), value=r["for"]) if "for" in r else 0
            if long_ and short and short >= long_:
                self.fail((*path, "short"), "the short window must be shorter than the long one")
            if long_ and period and long_ > period:
                self.clash(
                    ((*path, "long"), ("period",)),
                    f"the {r['long']} burn-rate window is longer than the SLO period",
                )
            if short and scrape and short < 2 * scrape:
                self.clash(
                    ((*path, "short"), ("scrape_interval",)),
                    f"the {r['short']} burn-rate window must span at least two scrape intervals",
                )
            if for_ > MAX_SLOW_BURN_FOR:
                self.fail(
                    (*path, "for"), "`for` longer than 3h hides real incidents; use 3h or less"
                )
            out.append(BurnRate(r["severity"], long_, short, float(r["budget_consumed"]), for_))
        return tuple(out)

    def windows_tile(self, rate_window: int, period: int, burn_rates: tuple[BurnRate, ...]) -> None:
        """Every SLO window is a whole number of rate windows, and the rate window a whole
        number of minutes.

        SLO events are recorded in slices of one rate window, and an error ratio over a
        window sums the slices inside it. A window that the slices do not tile (5m over 2m
        slices) sums 2 or 3 slices depending on the evaluation phase and the engine (ranges
        are left-open since Prometheus 3), so the alert fires on a different span than its
        name says and the generated tests pass on one engine and fail on another. The
        generated tests feed one sample a minute, hence whole minutes.
        """
        if not rate_window:
            return
        if rate_window % 60:
            self.clash(
                (("rate_window",),),
                "a rate window is a whole number of minutes (SLO events are counted in "
                "rate-window slices, and the generated tests step by the minute)",
            )
            return
        rows = [(("period",), period)]
        rows += [
            ((("burn_rates", i, w)), v)
            for i, b in enumerate(burn_rates)
            for w, v in (("long", b.long), ("short", b.short))
        ]
        untiled = [(path, w) for path, w in rows if w and w % rate_window]
        why = (
            f"not a whole number of {promql.format_duration(rate_window)} rate windows, the "
            "slices SLO events are counted in: it would sum a different span on each evaluation"
        )
        if untiled and self._written(("rate_window",)):
            spans = sorted({w for _, w in untiled})
            self.fail(
                ("rate_window",),
                f"the {', '.join(map(promql.format_duration, spans))} "
                f"window{'s are' if len(spans) > 1 else ' is'} {why}; choose a rate window "
                "that divides every burn-rate window and the period",
            )
            return
        for path, window in untiled:
            self.clash(
                (path, ("rate_window",)), f"the {promql.format_duration(window)} window is {why}"
            )

    def reachable_burn_rates(self, slos: tuple[SLO, ...], burn_rates: tuple[BurnRate, ...]) -> None:
        """An alert at burn rate x fires when errors exceed x times the budget; past 100 %
        errors that can never happen, and the alert would silently never page. Only the
        pairs the SLO alerts on count: with ``page: false`` a 90 % SLO needs no 14.4x pair."""
        index = {s["name"]: i for i, s in enumerate(self.d["slos"])}
        for slo in slos:
            for b in slo.alerting(burn_rates):
                if b.long and b.factor(slo.period) * slo.error_budget >= 1:
                    self.fail(
                        ("slos", index[slo.name], "objective"),
                        f"the {promql.format_duration(b.long)}/{promql.format_duration(b.short)} "
                        f"burn rate ({promql.format_number(b.factor(slo.period))}x) times an "
                        f"error budget of {promql.format_number(100 - slo.objective)}% exceeds "
                        "100 % errors, so that alert could never fire; raise the objective, "
                        "set `burn_rates`, or switch the SLO's "
                        f"{'pages' if b.severity == 'critical' else 'tickets'} off with "
                        f"`{'page' if b.severity == 'critical' else 'ticket'}: false`",
                    )

    def signals(
        self, metrics: dict[str, Metric], slos: tuple[SLO, ...], windows: list[int]
    ) -> tuple[Signal, ...]:
        out = []
        for key, s in sorted(self.d.get("signals", {}).items()):
            path = ("signals", key)
            kind = s["kind"]
            common = {"key": key, "kind": kind, "help": s.get("help", "")}
            unit = s.get("unit", DEFAULT_UNITS.get(kind, "short"))
            if kind == "ratio":
                num = self.series(metrics, (*path, "numerator"), ("counter", "gauge"))
                den = self.series(metrics, (*path, "denominator"), ("counter", "gauge"))
                if num and den and num.metric.type != den.metric.type:
                    self.fail(
                        (*path, "denominator"), "numerator and denominator must be the same type"
                    )
                elif num and den and num.metric.type == "counter":
                    self.apart((*path, "numerator"), num, den, "the denominator")
                elif (
                    num
                    and den
                    and label_values_ok(num.all_matchers)
                    and label_values_ok(den.all_matchers)
                ):
                    # Gauges are divided series by series: one series must feed both.
                    self.selects(
                        (*path, "numerator"),
                        num.all_matchers + den.all_matchers,
                        prefix="gauges are divided series by series, so one series must fit the "
                        "numerator and the denominator: ",
                    )
                out.append(
                    Signal(
                        **common,
                        unit=unit,
                        numerator=num,
                        denominator=den,
                        complement=bool(s.get("complement", False)),
                        by=tuple(s.get("by", ())),
                        aggregate=s.get("aggregate", "sum"),
                    )
                )
            elif kind == "gauge":
                series = self.series(metrics, path, ("gauge",))
                out.append(
                    Signal(
                        **common,
                        unit=unit,
                        series=series,
                        by=tuple(s.get("by", ())),
                        aggregate=s.get("aggregate", "max"),
                    )
                )
            elif kind == "quantile":
                series = self.series(metrics, path, ("histogram",))
                q = float(s["quantile"])
                if series and q not in series.metric.quantiles:
                    self.fail(
                        (*path, "quantile"),
                        f"metrics.{series.metric.key} does not record the "
                        f"{promql.format_number(q)} quantile; add it to its `quantiles`",
                    )
                out.append(Signal(**common, unit=unit, series=series, quantile=q))
            else:  # availability
                window = self.duration((*path, "window"))
                names = [x.name for x in slos]
                if s["slo"] not in names:
                    self.fail((*path, "slo"), f"unknown SLO {s['slo']!r}; SLOs: {', '.join(names)}")
                if window > MAX_AVAILABILITY_WINDOW:
                    self.fail((*path, "window"), "an availability window is at most 1h")
                elif window and window not in windows:
                    known = ", ".join(promql.format_duration(w) for w in windows)
                    self.fail((*path, "window"), f"use a recorded SLO window: {known}")
                if unit != "percent":
                    self.fail((*path, "unit"), "availability is measured in percent")
                out.append(Signal(**common, unit="percent", slo=s["slo"], window=window))
        return tuple(out)

    def error_budget(self) -> ErrorBudgetPolicy:
        e = self.d.get("error_budget", {})
        policy = ErrorBudgetPolicy(
            healthy_above=float(e.get("healthy_above", 50)),
            low_below=float(e.get("low_below", 25)),
            critical_below=float(e.get("critical_below", 10)),
            for_=self.duration(("error_budget", "for"), "15m"),
        )
        if not policy.critical_below < policy.low_below <= policy.healthy_above:
            self.fail(
                ("error_budget",),
                "expected critical_below < low_below <= healthy_above "
                "(got "
                + ", ".join(
                    map(
                        promql.format_number,
                        (policy.critical_below, policy.low_below, policy.healthy_above),
                    )
                )
                + ")",
            )
        if policy.for_ > MAX_FOR:
            self.fail(("error_budget", "for"), "`for` is at most 1h")
        return policy

    def thresholds(self, signals: tuple[Signal, ...]) -> list[tuple[Threshold, bool]]:
        """Return every threshold row with its ``enabled`` switch."""
        by_key = {s.key: s for s in signals}
        taken = {
            BURN_ALERT,
            BUDGET_LOW_ALERT,
            BUDGET_CRITICAL_ALERT,
            ABSENT_ALERT,
            TARGET_DOWN_ALERT,
        }
        seen: dict[str, int] = {}
        out = []
        for i, t in enumerate(self.d.get("thresholds", [])):
            path = ("thresholds", i)
            name = t["alert"]
            if name in taken:
                self.fail(
                    (*path, "alert"), f"{name!r} is an alert the generator writes; choose another"
                )
            elif name in seen:
                self.fail(
                    (*path, "alert"), f"duplicate alert name {name!r} (thresholds[{seen[name]}])"
                )
            seen.setdefault(name, i)
            signal = by_key.get(t["signal"])
            if signal is None:
                hint = closest(t["signal"], list(by_key))
                tip = f"; did you mean {hint!r}?" if hint else ""
                self.fail((*path, "signal"), f"unknown signal {t['signal']!r}{tip}")
                continue
            direction = t.get("direction", "above")
            if signal.kind == "quantile" and signal.series and signal.series.metric.buckets:
                # histogram_quantile never returns more than the largest finite bucket bound.
                top = max(signal.series.metric.buckets)
                for level in ("warning", "critical"):
                    if direction == "above" and level in t and t[level] >= top:
                        self.fail(
                            (*path, level),
                            f"{promql.format_number(t[level])} is not below the largest bucket "
                            f"of metrics.{signal.series.metric.key} "
                            f"({promql.format_number(top)}); the alert could never fire",
                        )
            warning, critical = float(t["warning"]), t.get("critical")
            if critical is not None:
                critical = float(critical)
                worse = critical > warning if direction == "above" else critical < warning
                if not worse:
                    word = "above" if direction == "above" else "below"
                    self.fail(
                        (*path, "critical"),
                        f"critical ({promql.format_number(critical)}) must be {word} warning "
                        f"({promql.format_number(warning)}) for a threshold on the "
                        f"{direction} side",
                    )
            if signal.unit == "percent":
                for level in ("warning", "critical"):
                    value = t.get(level)
                    if value is None:
                        continue
                    if direction == "above" and value >= 100:
                        self.fail(
                            (*path, level),
                            f"a percentage never exceeds 100, so {value} never fires",
                        )
                    elif direction == "below" and value <= 0:
                        self.fail(
                            (*path, level),
                            f"a percentage never drops below 0, so {value} never fires",
                        )
            if not t["summary"].isprintable():
                self.fail(
                    (*path, "summary"),
                    "a summary is one plain sentence on one line; put details in `description`",
                )
            for_ = self.duration((*path, "for"), "5m")
            if for_ > MAX_FOR:
                self.fail((*path, "for"), "`for` is at most 1h; a longer one hides real incidents")
            kept = {k: _KEPT_BY_SIGNAL for k in recorded_names.by_labels(signal.by)}
            out.append(
                (
                    Threshold(
                        alert=name,
                        signal=signal,
                        direction=direction,
                        warning=warning,
                        critical=critical,
                        for_=for_,
                        summary=t["summary"],
                        description=t.get("description", ""),
                        runbook_url=t.get("runbook_url", ""),
                        labels=self.alert_labels((*path, "labels"), kept),
                        annotations=self.alert_annotations((*path, "annotations")),
                        runbook=self.runbook((*path, "runbook")),
                    ),
                    t.get("enabled", True),
                )
            )
        return out
