"""Raw PromQL SLIs (``error_query`` + ``total_query``, or ``ratio_query``) into the Model.

Each query is checked by :mod:`generator.raw_query`; a problem is reported at the character
of the query it is about (``file:line:column`` inside the YAML string). A query of the
*counted* shape (``sum(rate(sel[{{ window }}]))``) gives the SLI its ``bad`` and ``total``
series, so the generated tests can drive it; any other shape keeps only ``total`` (the first
selector of the total or ratio query), which MetricAbsent watches.
"""

from __future__ import annotations

from dataclasses import replace

from .. import label_values, raw_query
from .errors import Path, SpecError
from .model import SLI, Metric, Series
from .yaml_source import Source


def _series(sel: raw_query.Selector, matchers: tuple = (), extra: tuple = ()) -> Series:
    metric = Metric(sel.name, sel.name, "counter", "", matchers or sel.matchers)
    return Series(metric, extra)


def _pair(bad: raw_query.Selector, total: raw_query.Selector) -> tuple[Series, Series, str | None]:
    """Return the bad and total series of a counted pair, and why it cannot be driven (or
    None): on one metric, the bad series are those the total selects that also match the
    error selector's other matchers."""
    whole = _series(total)
    if bad.name != total.name:
        try:
            label_values.labels_for(bad.matchers)
        except label_values.Unsatisfiable as exc:
            return _series(bad), whole, str(exc)
        return _series(bad), whole, None
    extra = tuple(m for m in bad.matchers if m not in total.matchers)
    part = _series(bad, total.matchers, extra)
    if not extra:
        return (
            part,
            whole,
            (
                "the error query selects every series the total query selects, so the error ratio "
                'is always 1; add a matcher that picks the bad events (such as code=~"5..")'
            ),
        )
    try:
        label_values.labels_for(total.matchers + extra)
        label_values.labels_for(total.matchers, extra)
    except label_values.Unsatisfiable as exc:
        return part, whole, f"the error query's series cannot be told from the total's: {exc}"
    return part, whole, None


def raw_sli(src: Source, path: Path, sli: dict) -> tuple[SLI | None, list[SpecError]]:
    """Return the SLI of a raw ``sli`` mapping at ``path``, and the problems found."""
    keys = ("ratio_query",) if "ratio_query" in sli else ("error_query", "total_query")
    errors: list[SpecError] = []
    parsed: dict[str, raw_query.Query] = {}
    for key in keys:
        query, problems = raw_query.parse(sli[key])
        for p in problems:
            errors.append(src.error_at((*path, key), p.offset, p.message))
        if query is not None:
            parsed[key] = query
    if errors:
        return None, errors
    if "ratio_query" in parsed:
        q = parsed["ratio_query"]
        if q.ratio is None:
            total, *rest = map(_series, q.denominator)
            return SLI("ratio_query", total=total, inputs=tuple(rest), ratio_query=q.text), []
        (fb, eb), (ft, et) = q.ratio
        bad, total, why = _pair(eb, et)
        if fb != ft:
            why = _mixed(fb, ft)
        if why:
            at = q.text.find(f"{fb}(") if fb != ft else 0
            return None, [src.error_at((*path, "ratio_query"), at, why)]
        return SLI("ratio_query", total=total, bad=bad, ratio_query=q.text), []
    eq, tq = parsed["error_query"], parsed["total_query"]
    if eq.counted is None or tq.counted is None:
        total, *rest = map(_series, tq.selectors)
        sli = SLI("query", total=total, inputs=tuple(rest), error_query=eq.text)
        return replace(sli, total_query=tq.text), []
    (fb, eb), (ft, et) = eq.counted, tq.counted
    bad, total, why = _pair(eb, et)
    if fb != ft:
        why = _mixed(fb, ft)
    if why:
        at = eq.text.find(f"{fb}(") if fb != ft else 0
        return None, [src.error_at((*path, "error_query"), at, why)]
    return SLI("query", total=total, bad=bad, error_query=eq.text, total_query=tq.text), []


def _mixed(bad_fn: str, total_fn: str) -> str:
    return (
        f"the bad events are counted with {bad_fn}() and all events with {total_fn}(): the "
        "ratio would be off by the window's length in seconds; use the same function in both"
    )
