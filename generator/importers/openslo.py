"""Import OpenSLO v1 documents (``apiVersion: openslo/v1``): SLO, SLI, AlertPolicy,
AlertCondition, Service and DataSource, with Prometheus metric sources.

Field names and meanings follow the OpenSLO v1 specification (github.com/OpenSLO/OpenSLO,
README.md). What maps:

- ``ratioMetric`` good or bad over total: bare counter selectors (``counter: true``) or
  ``sum(rate(counter{...}[{{.window}}]))`` become this project's ``bad``/``good``/``total``
  series; other queries with a ``{{.window}}`` placeholder stay raw PromQL; ``raw`` with
  ``rawType`` becomes ``ratio_query``.
- ``thresholdMetric`` on a histogram's ``_bucket`` series with ``op: lte`` becomes a latency
  SLI: the share of observations at or under ``value``, which is what a bucket counts.
- ``AlertCondition`` burn rates (``op: gt``/``gte``) become ``burn_rates`` rows: the long
  window is ``lookbackWindow``, the share of budget is threshold x lookback / period, and the
  short window (which OpenSLO does not have; this project requires one) is a twelfth of the
  long one, the SRE Workbook's ratio, in whole 5-minute slices.
"""

from __future__ import annotations

from decimal import Decimal

from .. import promql
from ..spec.errors import Path
from .common import (
    Document,
    Imported,
    Metrics,
    Problems,
    bare_counter,
    declare_raw_metrics,
    events_sli,
    mapping,
    plain_counter,
    read,
    text,
    window_query,
)
from .common import (
    name as name_of,
)

API = "openslo/v1"
KINDS = ("SLO", "SLI", "AlertPolicy", "AlertCondition", "AlertNotificationTarget")
KINDS += ("Service", "DataSource")
SEVERITY = {"page": "critical", "critical": "critical", "ticket": "warning", "warning": "warning"}
_SHORTHAND = {"m": 60, "h": 3600, "d": 86400, "w": 604800}
SLICE = 300  # this project's default rate window: every alert window is whole slices of it
DEFAULT_PERIOD = "30d"


def import_file(path: str) -> Imported:
    """Return the specs (one per ``spec.service``, in the order first seen) equivalent to the
    OpenSLO documents in the file at ``path``, and notes on fields left out on purpose;
    raise SpecInvalid naming every field that has no equivalent."""
    problems = Problems()
    docs = read(path)
    named: dict[tuple[str, str], Document] = {}
    for doc in docs:
        data = doc.data
        assert isinstance(data, dict)
        mapping(doc, (), data, dict.fromkeys(("apiVersion", "kind", "metadata", "spec")), problems)
        if data.get("apiVersion") != API:
            problems.refuse(
                doc,
                ("apiVersion",) if "apiVersion" in data else (),
                f"not an OpenSLO v1 document: expected `apiVersion: {API}`",
            )
            continue
        if data.get("kind") not in KINDS:
            problems.refuse(doc, ("kind",), f"expected a kind among {', '.join(KINDS)}")
            continue
        name = (data.get("metadata") or {}).get("name")
        if not isinstance(name, str):
            problems.refuse(doc, ("metadata", "name"), "every document needs metadata.name")
            continue
        named[(data["kind"], name)] = doc
        _note_metadata(problems, doc, (), data)
    problems.check()
    importer = _Importer(named, problems)
    for (kind, _), doc in named.items():
        if kind == "SLO":
            importer.slo(doc)
        elif kind == "AlertNotificationTarget":
            problems.note(doc, ("kind",), _TARGETS)
    specs = importer.finish()
    problems.check()
    return problems.imported(specs)


def _note_metadata(problems: Problems, doc: Document, path: Path, data: dict) -> None:
    """Note an OpenSLO document's ``metadata.labels`` and ``annotations``: they describe the
    document (OpenSLO gives them no meaning on alerts), so nothing is made of them."""
    metadata = data.get("metadata")
    for key in ("labels", "annotations"):
        if isinstance(metadata, dict) and metadata.get(key):
            problems.note(
                doc,
                (*path, "metadata", key),
                f"metadata.{key} is not imported: they describe the {data.get('kind')} "
                "document, not its alerts; set alert labels under the SLO's `labels`, "
                "`page_alert` or `ticket_alert`",
            )


_TARGETS = (
    "notification targets are not imported: write where alerts go under `routing` "
    "(receivers and routes by label or severity)"
)


class _Importer:
    def __init__(self, named: dict[tuple[str, str], Document], problems: Problems):
        self.named = named
        self.problems = problems
        self.services: dict[str, dict] = {}
        self.metrics: dict[str, Metrics] = {}
        # per service: [(doc, path of alertPolicies, burn rows)] for each SLO
        self.alerts: dict[str, list[tuple[Document, Path, tuple, dict]]] = {}
        self.periods: dict[str, tuple[Document, Path, int]] = {}

    def refuse(self, doc: Document, path: Path, message: str) -> None:
        self.problems.refuse(doc, path, message)

    def slo(self, doc: Document) -> None:
        data = doc.data
        assert isinstance(data, dict)
        spec = mapping(doc, ("spec",), data.get("spec"), _SLO_FIELDS, self.problems)
        service = name_of(doc, ("spec", "service"), spec.get("service"), "service", self.problems)
        if service is None:
            return
        period = self.period(doc, spec)
        if period is not None:
            first = self.periods.setdefault(service, (doc, ("spec", "timeWindow"), period))
            if first[2] != period:
                self.refuse(
                    doc,
                    ("spec", "timeWindow"),
                    f"service {service!r} has SLOs over {promql.format_duration(first[2])} "
                    "already; this project gives all SLOs of a service one period",
                )
        method = spec.get("budgetingMethod", "Occurrences")
        if method != "Occurrences":
            self.refuse(
                doc,
                ("spec", "budgetingMethod"),
                f"{method} cannot be imported: this project's error budget counts bad events "
                "over all events in the period (Occurrences), not time slices",
            )
        out = self.services.get(service)
        if out is None:
            out = self.services[service] = {"service": service, "metrics": {}, "slos": []}
            self.metrics[service] = Metrics(out["metrics"])
            described = self.named.get(("Service", service))
            if described is not None:
                about = ((described.data or {}).get("spec") or {}).get("description")
                if isinstance(about, str) and about:
                    out["description"] = about
        sli = self.indicator(doc, ("spec",), spec)
        objectives = spec.get("objectives")
        if not isinstance(objectives, list) or not objectives:
            self.refuse(doc, ("spec", "objectives"), "expected a list of at least one objective")
            return
        if sli is not None and sli[0] == "threshold" and len(objectives) > 1:
            self.refuse(doc, ("spec", "objectives"), "a thresholdMetric SLO has one objective")
        rows = self.alert_policies(doc, spec, period)
        name = name_of(doc, ("metadata", "name"), data["metadata"]["name"], "SLO", self.problems)
        for i, objective in enumerate(objectives):
            at = ("spec", "objectives", i)
            slo = self.objective(doc, at, objective, sli, service)
            if slo is None:
                continue
            head: dict = {"name": name if len(objectives) == 1 else f"{name}-{i + 1}"}
            head["objective"] = slo.pop("objective")
            description = spec.get("description")
            if isinstance(description, str) and description:
                head["description"] = description
            slo = head | slo
            self.alerts.setdefault(service, []).append((doc, ("spec", "alertPolicies"), rows, slo))
            self.problems.origins[(service, len(out["slos"]))] = (doc, at)
            out["slos"].append(slo)

    def period(self, doc: Document, spec: dict) -> int | None:
        """Return the SLO's rolling period in seconds (None when refused)."""
        windows = spec.get("timeWindow")
        if windows is None:
            self.problems.note(
                doc,
                ("spec",),
                f"no timeWindow: the period is this project's default, {DEFAULT_PERIOD}",
            )
            return promql.parse_duration(DEFAULT_PERIOD)
        at = ("spec", "timeWindow")
        if not isinstance(windows, list) or len(windows) != 1:
            self.refuse(doc, at, "expected a list of exactly one time window")
            return None
        window = mapping(doc, (*at, 0), windows[0], _WINDOW_FIELDS, self.problems)
        if "calendar" in window or window.get("isRolling") is False:
            self.refuse(
                doc,
                (*at, 0),
                "a calendar-aligned window cannot be imported: this project's period is "
                "rolling (the last period, at every evaluation)",
            )
            return None
        return self.shorthand(doc, (*at, 0, "duration"), window.get("duration"))

    def shorthand(self, doc: Document, path: Path, value: object) -> int | None:
        """Return the seconds of an OpenSLO duration-shorthand (``4w``, ``30d``, ``1h``)."""
        if isinstance(value, str) and value[:-1].isdigit() and value[-1] in _SHORTHAND:
            seconds = int(value[:-1]) * _SHORTHAND[value[-1]]
            if seconds > 0:
                return seconds
        unit = value[-1:] if isinstance(value, str) else ""
        why = (
            "months, quarters and years have no fixed length, so they cannot be a Prometheus "
            "window; write days (30d) or weeks (4w)"
            if unit in ("M", "Q", "Y")
            else "expected a number and one of m, h, d, w, such as 30d"
        )
        self.refuse(doc, path, f"{value!r} cannot be imported: {why}")
        return None

    def indicator(self, doc: Document, path: Path, spec: dict) -> tuple | None:
        """Return the SLO's SLI as ("ratio", sli) or ("threshold", histogram key, matchers)."""
        if "indicator" in spec:
            inline = mapping(
                doc, (*path, "indicator"), spec["indicator"], _INLINE_FIELDS, self.problems
            )
            sli_doc, sli_path, body = doc, (*path, "indicator", "spec"), inline.get("spec")
        elif "indicatorRef" in spec:
            ref = spec["indicatorRef"]
            found = self.named.get(("SLI", ref)) if isinstance(ref, str) else None
            if found is None:
                self.refuse(doc, (*path, "indicatorRef"), f"no SLI document is named {ref!r}")
                return None
            sli_doc, sli_path, body = found, ("spec",), found.data.get("spec")  # type: ignore[union-attr]
        else:
            self.refuse(doc, path, "an SLO needs an indicator or an indicatorRef")
            return None
        sli = mapping(sli_doc, sli_path, body, _SLI_FIELDS, self.problems)
        service = spec.get("service")
        metrics = self.metrics.get(service) if isinstance(service, str) else None
        if metrics is None:
            return None
        if "ratioMetric" in sli:
            ratio = self.ratio(sli_doc, (*sli_path, "ratioMetric"), sli["ratioMetric"], metrics)
            declare_raw_metrics(ratio, metrics)
            return ("ratio", ratio) if ratio is not None else None
        if "thresholdMetric" in sli:
            return self.threshold(
                sli_doc, (*sli_path, "thresholdMetric"), sli["thresholdMetric"], metrics
            )
        self.refuse(sli_doc, sli_path, "an SLI needs a ratioMetric or a thresholdMetric")
        return None

    def query(self, doc: Document, path: Path, value: object) -> str | None:
        """Return the PromQL query of a metric source; refuse other sources."""
        source = mapping(doc, path, value, {"metricSource": ""}, self.problems).get("metricSource")
        at = (*path, "metricSource")
        source = mapping(doc, at, source, _SOURCE_FIELDS, self.problems)
        kind = source.get("type")
        ref = source.get("metricSourceRef")
        if kind is None and isinstance(ref, str) and ("DataSource", ref) in self.named:
            kind = ((self.named[("DataSource", ref)].data or {}).get("spec") or {}).get("type")
        if not isinstance(kind, str) or kind.lower() != "prometheus":
            self.refuse(
                doc,
                (*at, "type") if "type" in source else at,
                f"a {kind or 'untyped'} metric source cannot be imported: only Prometheus "
                "queries (type: Prometheus, spec.query) can",
            )
            return None
        body = mapping(doc, (*at, "spec"), source.get("spec"), {"query": ""}, self.problems)
        return text(doc, (*at, "spec", "query"), body.get("query"), self.problems)

    def ratio(self, doc: Document, path: Path, value: object, metrics: Metrics) -> dict | None:
        ratio = mapping(doc, path, value, _RATIO_FIELDS, self.problems)
        if "raw" in ratio:
            query = self.query(doc, (*path, "raw"), ratio["raw"])
            kind = ratio.get("rawType")
            if kind not in ("success", "failure"):
                self.refuse(doc, (*path, "rawType"), "expected success or failure with raw")
                return None
            if query is None:
                return None
            query = window_query(doc, (*path, "raw"), query, self.problems)
            if query is None:
                return None
            return {"ratio_query": query if kind == "failure" else f"1 - ({query})"}
        part = "bad" if "bad" in ratio else "good" if "good" in ratio else None
        if part is None or "total" not in ratio or ("bad" in ratio and "good" in ratio):
            self.refuse(doc, path, "expected good or bad, and total (or raw)")
            return None
        queries = [self.query(doc, (*path, k), ratio[k]) for k in (part, "total")]
        if queries[0] is None or queries[1] is None:
            return None
        counter = ratio.get("counter")
        if "{{" not in queries[0] + queries[1]:
            # No window: each query reads counters whose growth over a window counts events.
            counters = [bare_counter(q) for q in queries]
            if counter is not True or not all(counters):
                self.refuse(
                    doc,
                    (*path, "counter") if counter is not True else (*path, part),
                    "without a {{.window}} placeholder, only counters (counter: true) read "
                    "as a bare selector, name{...}, can be imported: their increase over "
                    "each window counts the events",
                )
                return None
            native = events_sli(part, counters[0], counters[1], metrics)  # type: ignore[arg-type]
            if native is None:
                self.refuse(doc, (*path, part), _NOT_A_PART)
            return native
        windowed = [
            window_query(doc, (*path, k, "metricSource", "spec", "query"), q, self.problems)
            for k, q in zip((part, "total"), queries, strict=True)
        ]
        if windowed[0] is None or windowed[1] is None:
            return None
        counters = [plain_counter(q) for q in windowed]
        if counters[0] and counters[1]:
            native = events_sli(part, counters[0], counters[1], metrics)
            if native is not None:
                return native
        bad = windowed[0] if part == "bad" else f"({windowed[1]}) - ({windowed[0]})"
        return {"error_query": bad, "total_query": windowed[1]}

    def threshold(self, doc: Document, path: Path, value: object, metrics: Metrics) -> tuple | None:
        query = self.query(doc, path, value)
        if query is None:
            return None
        counter = bare_counter(query)
        if (
            counter is None
            or not counter.name.endswith("_bucket")
            or any(m.name == "le" for m in counter.matchers)
        ):
            self.refuse(
                doc,
                (*path, "metricSource", "spec", "query"),
                "a thresholdMetric can be imported only as a histogram's buckets, "
                "name_bucket{...} without an le matcher: the share of observations at or under "
                "the objective's value is then a latency SLI",
            )
            return None
        name = counter.name.removesuffix("_bucket")
        return ("threshold", metrics.series(name, counter.matchers, "histogram"))

    def objective(
        self, doc: Document, path: Path, value: object, sli: tuple | None, service: str
    ) -> dict | None:
        objective = mapping(doc, path, value, _OBJECTIVE_FIELDS, self.problems)
        for key in ("indicator", "indicatorRef", "compositeWeight"):
            if key in objective:
                self.refuse(
                    doc,
                    (*path, key),
                    "composite SLOs cannot be imported: this project has one SLI per SLO; "
                    "write each objective as an SLO of its own",
                )
        if "timeSliceTarget" in objective or "timeSliceWindow" in objective:
            key = "timeSliceTarget" if "timeSliceTarget" in objective else "timeSliceWindow"
            self.refuse(doc, (*path, key), "time slices cannot be imported (see budgetingMethod)")
        target = self.target(doc, path, objective)
        if sli is None or target is None:
            return None
        if sli[0] == "ratio":
            for key in ("op", "value"):
                if key in objective:
                    self.refuse(doc, (*path, key), f"`{key}` applies to a thresholdMetric only")
            return {"objective": target, "sli": sli[1]}
        op, bound = objective.get("op"), objective.get("value")
        if op != "lte":
            self.refuse(
                doc,
                (*path, "op"),
                f"op {op!r} cannot be imported: a histogram bucket counts observations at or "
                "under its bound, which is op: lte",
            )
            return None
        if isinstance(bound, bool) or not isinstance(bound, int | float) or bound <= 0:
            self.refuse(doc, (*path, "value"), "expected the bound (a number above 0)")
            return None
        sli[1]["threshold"] = bound  # the series' match is set once every use is known
        return {"objective": target, "sli": {"latency": sli[1]}}

    def target(self, doc: Document, path: Path, objective: dict) -> float | None:
        """Return the objective in percent, from ``target`` (0..1) or ``targetPercent``."""
        if ("target" in objective) == ("targetPercent" in objective):
            self.refuse(doc, path, "expected one of target or targetPercent")
            return None
        key = "target" if "target" in objective else "targetPercent"
        value = objective[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.refuse(doc, (*path, key), "expected a number")
            return None
        # Decimal keeps 0.999 at 99.9, where the float product is 99.89999999999999.
        percent = Decimal(str(value)) * (100 if key == "target" else 1)
        if not 0 < percent < 100:
            self.refuse(
                doc,
                (*path, key),
                f"{value} cannot be imported: this project needs an objective above 0 and "
                "below 100 % (at 100 % there is no error budget to burn)",
            )
            return None
        return _number(percent)

    def alert_policies(self, doc: Document, spec: dict, period: int | None) -> tuple:
        """Return the SLO's burn-rate rows (severity, long, short, budget %, for), sorted."""
        at = ("spec", "alertPolicies")
        policies = spec.get("alertPolicies") or []
        if not isinstance(policies, list):
            self.refuse(doc, at, "expected a list of alert policies")
            return ()
        rows = []
        for i, item in enumerate(policies):
            found = self.resolve(doc, (*at, i), item, "AlertPolicy", "alertPolicyRef")
            if found is None:
                continue
            pdoc, ppath, body = found
            policy = mapping(pdoc, ppath, body, _POLICY_FIELDS, self.problems)
            if policy.get("alertWhenBreaching") is False:
                self.problems.note(
                    pdoc, (*ppath, "alertWhenBreaching"), "this policy never alerts; left out"
                )
                continue
            for key in ("alertWhenNoData", "alertWhenResolved", "notificationTargets"):
                if key in policy:
                    self.problems.note(pdoc, (*ppath, key), f"{key} is not imported: {_WHY[key]}")
            conditions = policy.get("conditions")
            if not isinstance(conditions, list) or not conditions:
                self.refuse(pdoc, (*ppath, "conditions"), "expected a list of one condition")
                continue
            for j, cond in enumerate(conditions):
                found = self.resolve(
                    pdoc, (*ppath, "conditions", j), cond, "AlertCondition", "conditionRef"
                )
                if found is not None and period is not None:
                    row = self.condition(*found, period)
                    if row is not None:
                        rows.append(row)
        return tuple(sorted(set(rows)))

    def resolve(
        self, doc: Document, path: Path, item: object, kind: str, ref_key: str
    ) -> tuple[Document, Path, object] | None:
        """Return the document, path and spec of an inline or referenced ``kind``."""
        if isinstance(item, dict) and ref_key in item:
            ref = item[ref_key]
            found = self.named.get((kind, ref)) if isinstance(ref, str) else None
            if found is None:
                self.refuse(doc, (*path, ref_key), f"no {kind} document is named {ref!r}")
                return None
            return found, ("spec",), found.data.get("spec")  # type: ignore[union-attr]
        if isinstance(item, dict) and item.get("kind") == kind:
            mapping(doc, path, item, _INLINE_FIELDS | {"kind": ""}, self.problems)
            _note_metadata(self.problems, doc, path, item)
            return doc, (*path, "spec"), item.get("spec")
        self.refuse(doc, path, f"expected {ref_key} or an inline {kind}")
        return None

    def condition(self, doc: Document, path: Path, body: object, period: int) -> tuple | None:
        spec = mapping(doc, path, body, _CONDITION_FIELDS, self.problems)
        severity = spec.get("severity")
        ours = SEVERITY.get(severity.lower()) if isinstance(severity, str) else None
        if ours is None:
            self.refuse(
                doc,
                (*path, "severity"),
                f"severity {severity!r} cannot be imported: this project's burn-rate alerts "
                "are critical (page) or warning (ticket); write one of those words",
            )
        at = (*path, "condition")
        cond = mapping(doc, at, spec.get("condition"), _BURN_FIELDS, self.problems)
        if cond.get("kind", "burnrate") != "burnrate":
            self.refuse(doc, (*at, "kind"), "only burnrate conditions can be imported")
            return None
        if cond.get("op") not in ("gt", "gte"):
            self.refuse(
                doc,
                (*at, "op"),
                f"op {cond.get('op')!r} cannot be imported: a burn-rate alert fires when the "
                "burn rate is above its threshold (gt or gte)",
            )
            return None
        threshold = cond.get("threshold")
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or threshold <= 0:
            self.refuse(doc, (*at, "threshold"), "expected a burn rate above 0")
            return None
        long_ = self.shorthand(doc, (*at, "lookbackWindow"), cond.get("lookbackWindow"))
        after = cond.get("alertAfter", "0m")
        for_ = 0 if after in ("0m", "0s", 0) else self.shorthand(doc, (*at, "alertAfter"), after)
        if long_ is None or ours is None or for_ is None:
            return None
        short = max(SLICE, round(long_ / 12 / SLICE) * SLICE)
        if long_ % SLICE or short >= long_:
            self.refuse(
                doc,
                (*at, "lookbackWindow"),
                "a lookback window must be whole 5-minute slices and at least 10m, so that a "
                "shorter window can reset the alert",
            )
            return None
        budget = Decimal(str(threshold)) * long_ * 100 / period
        if budget > 100:
            self.refuse(
                doc,
                (*at, "threshold"),
                f"a burn rate of {threshold} over {cond['lookbackWindow']} spends more than the "
                "whole period's budget, so the alert could never fire",
            )
            return None
        fmt = promql.format_duration
        return (ours, fmt(long_), fmt(short), _number(budget), fmt(for_) if for_ else "")

    def finish(self) -> list[dict]:
        """Return the specs: each service's period, its burn rates, and each SLO's switches."""
        specs = []
        for name, spec in self.services.items():
            period = self.periods.get(name)
            if period is not None:
                spec["period"] = promql.format_duration(period[2])
            rowsets = {rows for _, _, rows, _ in self.alerts.get(name, []) if rows}
            if len(rowsets) > 1:
                first = next(rows for _, _, rows, _ in self.alerts[name] if rows)
                doc, path, _, _ = next(x for x in self.alerts[name] if x[2] and x[2] != first)
                self.refuse(
                    doc,
                    path,
                    f"the SLOs of service {name!r} have different burn-rate alert policies; "
                    "this project gives all SLOs of a service the same burn-rate windows",
                )
            if rowsets:
                rows = rowsets.pop()
                spec["burn_rates"] = [
                    {"severity": s, "long": lw, "short": sw, "budget_consumed": b}
                    | ({"for": f} if f else {})
                    for s, lw, sw, b, f in rows
                ]
            for doc, path, rows, slo in self.alerts.get(name, []):
                severities = {r[0] for r in rows}
                if not rows:
                    self.problems.note(
                        doc,
                        path,
                        f"SLO {slo['name']!r} has no burn-rate alert policy: page "
                        "and ticket burn-rate alerts are switched off",
                    )
                if "critical" not in severities:
                    slo["page"] = False
                if "warning" not in severities:
                    slo["ticket"] = False
            self.metrics[name].finish()
            if not spec["metrics"]:
                del spec["metrics"]
            order = ("service", "description", "period", "metrics", "slos", "burn_rates")
            specs.append({k: spec[k] for k in order if k in spec})
        return specs


def _number(value: Decimal) -> float | int:
    """Return ``value`` as an int when whole, else the float it spells (no float noise)."""
    value = value.normalize()
    return int(value) if value == value.to_integral_value() else float(value)


_NOT_A_PART = (
    "the part and the total read one counter, but the part's matchers do not add to the "
    "total's, so the part is not a share of the total"
)
_WHY = {
    "alertWhenNoData": "the generated MetricAbsent alert fires when an SLI's metric is missing",
    "alertWhenResolved": "Alertmanager's receivers decide whether resolved alerts are sent",
    "notificationTargets": "write where alerts go under `routing`",
}
_SLO_FIELDS = dict.fromkeys(
    (
        "description",
        "service",
        "indicator",
        "indicatorRef",
        "timeWindow",
        "budgetingMethod",
        "objectives",
        "alertPolicies",
    )
)
_WINDOW_FIELDS = dict.fromkeys(("duration", "isRolling", "calendar"))
_INLINE_FIELDS = dict.fromkeys(("metadata", "spec"))
_SLI_FIELDS = dict.fromkeys(("description", "thresholdMetric", "ratioMetric"))
_SOURCE_FIELDS = dict.fromkeys(("metricSourceRef", "type", "spec"))
_RATIO_FIELDS = dict.fromkeys(("counter", "good", "bad", "total", "rawType", "raw"))
_OBJECTIVE_FIELDS = dict.fromkeys(
    (
        "displayName",
        "op",
        "value",
        "target",
        "targetPercent",
        "timeSliceTarget",
        "timeSliceWindow",
        "indicator",
        "indicatorRef",
        "compositeWeight",
    )
)
_POLICY_FIELDS = dict.fromkeys(
    (
        "description",
        "alertWhenNoData",
        "alertWhenResolved",
        "alertWhenBreaching",
        "conditions",
        "notificationTargets",
    )
)
_CONDITION_FIELDS = dict.fromkeys(("description", "severity", "condition"))
_BURN_FIELDS = dict.fromkeys(("kind", "op", "threshold", "lookbackWindow", "alertAfter"))
