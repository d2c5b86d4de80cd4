"""The recorded SLO event counts are exact slices: summed over any run of slices, they equal
the increase the raw samples show, whatever the scrape phase and jitter, across a scrape
gap, a series born and one dying mid-history; only a slice holding a counter reset may be
off, and by no more than ``increase()``'s extrapolation of that one slice can claim.

The history is 75 minutes of five instances scraped every 15 s at their own phase with
+-2 s jitter (1 s resolution, blanks between scrapes), random traffic per scrape, one
restart (counters back to 0, one scrape missed) at 37m20s, one instance first scraped at 0
at 22m47s, one gone at 58m13s and one missing 2m30s of scrapes. Expected values come from
the samples alone (:func:`exact`), never from the rule text. The old shape,
``sum(increase(x[5m]))``, fails the same checks on every engine (the mutation test).
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from generated_rules import write_recording_files

from generator import signals as names
from generator import tools
from generator.plan import service_files
from generator.prometheus import recording
from generator.prometheus.rule_files import RECORDING_FILES, group_order, loaded_files
from generator.spec.loader import load

SLICE = 300  # s: the spec's rate window, the event-count group's interval
END = 75 * 60
SCRAPE, JITTER = 15, 2
RESTART = ("i3", 37 * 60 + 20)  # inside the slice (35m, 40m]
BORN = ("i4", 22 * 60 + 47)  # inside the slice (20m, 25m]
DIES = ("i2", 58 * 60 + 13)
GAP = ("i1", 45 * 60, 47 * 60 + 30)
INSTANCES = ("i0", "i1", "i2", "i3", "i4")

SPEC = {
    "service": "slices",
    "period": "30d",
    "scrape_interval": "15s",
    "metrics": {
        "requests": {
            "name": "slices_requests_total",
            "type": "counter",
            "selector": 'job="slices"',
        },
        "duration": {
            "name": "slices_duration_seconds",
            "type": "histogram",
            "selector": 'job="slices"',
            "buckets": [0.5],
        },
    },
    "slos": [
        {
            "name": "availability",
            "objective": 99,
            "sli": {
                "bad": {"metric": "requests", "match": 'status=~"5.."'},
                "total": {"metric": "requests"},
            },
        },
        {
            "name": "success",
            "objective": 99,
            "sli": {
                "good": {"metric": "requests", "match": 'status!~"5.."'},
                "total": {"metric": "requests"},
            },
        },
        {
            "name": "latency",
            "objective": 95,
            "sli": {"latency": {"metric": "duration", "threshold": 0.5}},
        },
    ],
}


@dataclass
class Series:
    """One counter's samples: (second, value)."""

    selector: str
    samples: list[tuple[int, float]] = field(default_factory=list)

    def values(self) -> str:
        """promtool's notation at a 1 s interval: each value at its second, blanks between."""
        out, at = [], 0
        for t, v in self.samples:
            if t > at:
                out.append(f"_x{t - at}")
            out.append(str(int(v)))
            at = t + 1
        return " ".join(out)


def history() -> dict[str, list[Series]]:
    """Return every instance's series (a fixed seed: the same history on every run)."""
    rng = random.Random(13)
    out: dict[str, list[Series]] = {}
    for inst in INSTANCES:
        labels = f'instance="{inst}", job="slices"'
        ok = Series(f'slices_requests_total{{{labels}, status="200"}}')
        bad = Series(f'slices_requests_total{{{labels}, status="500"}}')
        count = Series(f"slices_duration_seconds_count{{{labels}}}")
        fast = Series(f'slices_duration_seconds_bucket{{{labels}, le="0.5"}}')
        inf = Series(f'slices_duration_seconds_bucket{{{labels}, le="+Inf"}}')
        counters = [0.0] * 5
        phase, t = rng.randint(0, SCRAPE - 1), 0
        times = []
        while (t := phase + len(times) * SCRAPE) < END:
            times.append(min(END, max(0, t + rng.randint(-JITTER, JITTER))))
        restarted = False
        for t in times:
            if inst == BORN[0] and t < BORN[1]:
                continue
            if inst == DIES[0] and t > DIES[1]:
                break
            if inst == GAP[0] and GAP[1] <= t <= GAP[2]:
                continue
            if inst == RESTART[0] and not restarted and t > RESTART[1]:
                restarted, counters = True, [0.0] * 5
                continue  # the scrape during the restart fails
            if not (inst == BORN[0] and not ok.samples):  # a new series is first seen at 0
                n = rng.randint(0, 200)
                errors = rng.randint(0, n // 8)
                slow = rng.randint(0, n // 4)
                for i, step in enumerate((n - errors, errors, n, n - slow, n)):
                    counters[i] += step
            for s, v in zip((ok, bad, count, fast, inf), counters, strict=True):
                s.samples.append((t, v))
        out[inst] = [ok, bad, count, fast, inf]
    return out


def exact(series: Series, start: int, end: int) -> float:
    """Return the events ``series`` shows in ``(start, end]``: each sample's step from the
    one before (from 0 after a reset; a series' first sample adds nothing)."""
    total, prev = 0.0, None
    for t, v in series.samples:
        if start < t <= end and prev is not None:
            total += v - prev if v >= prev else v
        prev = v
    return total


def reset_bound(series: Series) -> float:
    """Return how far ``increase()`` can be from the events of the slice holding the
    restart: it counts the increments between the slice's own samples (at most the events)
    and extrapolates them to the slice (times slice / sampled span), so it lies in
    ``[0, events * slice / span]``."""
    end = -(-RESTART[1] // SLICE) * SLICE
    inside = [t for t, _ in series.samples if end - SLICE < t <= end]
    return exact(series, end - SLICE, end) * SLICE / (inside[-1] - inside[0])


def counts(sli: str, kind: str, hist: dict[str, list[Series]]) -> list[tuple[int, Series]]:
    """Return (sign, series) that make up an SLO's bad (``kind="bad"``) or all events."""
    out = []
    for ok, bad, count, fast, _ in hist.values():
        if sli == "latency":
            out += [(1, count)] + ([(-1, fast)] if kind == "bad" else [])
        elif kind == "bad" and sli == "availability":
            out += [(1, bad)]
        else:  # all events; bad for "success" is all events minus the good ones
            out += [(1, ok), (1, bad)] + ([(-1, ok)] if kind == "bad" else [])
    return out


# Summed windows (start, end]: the birth's slice, the gap's and the death's, each without
# the restart's slice (exact), and the whole history with it (within the restart's bound).
WINDOWS = ((5 * 60, 35 * 60), (40 * 60, END), (0, END))


def _check(record: str, slo: str, start: int, end: int, expected: float, slack: float) -> dict:
    """``|sum of the slices in (start, end] - expected| <= slack``: the expression is 1."""
    # A second short of whole slices: Prometheus 2's ranges are closed at both ends.
    summed = f'sum_over_time({record}{{slo="{slo}"}}[{end - start - 1}s])'
    return {
        "expr": f"abs({summed} - {expected!r}) <= bool {slack!r}",
        "eval_time": f"{end}s",
        "exp_samples": [
            {"labels": f'{{service="slices", slo="{slo}", slo_type="{slo}"}}', "value": 1}
        ],
    }


def suite(service, hist: dict[str, list[Series]]) -> dict:
    """The promtool suite: every SLO's bad and all-event counts over every window."""
    checks = []
    for slo in SPEC["slos"]:
        sli = slo["name"]
        for kind, record in (
            ("bad", names.slo_bad_events(service)),
            ("all", names.slo_events(service)),
        ):
            parts = counts(sli, kind, hist)
            for start, end in WINDOWS:
                expected = sum(sign * exact(s, start, end) for sign, s in parts)
                slack = 1e-9 * max(1.0, sum(exact(s, start, end) for _, s in parts))
                if start < RESTART[1] <= end:
                    slack += sum(reset_bound(s) for _, s in parts if RESTART[0] in s.selector)
                checks.append(_check(record, sli, start, end, expected, slack))
    series = [{"series": s.selector, "values": s.values()} for ss in hist.values() for s in ss]
    return {
        "rule_files": loaded_files(service, RECORDING_FILES),
        "evaluation_interval": f"{SLICE}s",
        "group_eval_order": group_order(service, RECORDING_FILES),
        "tests": [
            {
                "name": "exact slices",
                "interval": "1s",
                "input_series": series,
                "promql_expr_test": checks,
            }
        ],
    }


def _run(tmp_path: Path, engine: tools.Engine) -> tuple[int, str]:
    spec = tmp_path / "slices.yaml"
    spec.write_text(yaml.safe_dump(SPEC, sort_keys=False))
    service = load(spec)
    write_recording_files(service_files(service), "slices", tmp_path)
    path = tmp_path / "slices_test.yml"
    path.write_text(yaml.safe_dump(suite(service, history()), sort_keys=False))
    proc = tools.run_unit_tests(engine, [path], cwd=tmp_path)
    return proc.returncode, proc.stdout + proc.stderr


def test_the_history_has_what_the_checks_rely_on() -> None:
    """Unaligned phases, a restart inside its slice, a birth at 0, and real traffic."""
    hist = history()
    phases = {s[0].samples[0][0] % SCRAPE for s in hist.values()}
    assert len(phases) > 2, phases
    i3 = hist[RESTART[0]][2].samples
    assert any(b[1] < a[1] for a, b in itertools.pairwise(i3)), "no reset"
    assert hist[BORN[0]][2].samples[0][1] == 0 and hist[BORN[0]][2].samples[0][0] > BORN[1]


ENGINES = [pytest.param(e, id=e.name) for e in tools.PROMETHEUSES]


@pytest.mark.parametrize("engine", ENGINES)
def test_slices_sum_to_the_exact_increase(tmp_path: Path, engine: tools.Engine) -> None:
    code, out = _run(tmp_path, engine)
    assert code == 0, out[-6000:]


@pytest.mark.parametrize("engine", ENGINES)
def test_increase_slices_are_not_exact(
    tmp_path: Path, engine: tools.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The mutation: today's ``sum(increase(x[5m]))`` slices fail the same checks."""
    monkeypatch.setattr(recording, "slice_increase", lambda sel, w: f"increase({sel}[{w}])")
    code, out = _run(tmp_path, engine)
    assert "increase(" in (tmp_path / "slo_recording_rules.yml").read_text()
    assert code != 0, "increase() slices passed the exactness checks"
    failed = [line for line in out.splitlines() if "expr:" in line]  # the failed checks
    for slo in SPEC["slos"]:
        for record in ("slo:sli_bad_events:increase5m", "slo:sli_events:increase5m"):
            for start, end in WINDOWS[:2]:  # the windows without the restart: exact
                window = f'{record}{{slo=\\"{slo["name"]}\\"}}[{end - start - 1}s]'
                assert any(window in f for f in failed), (window, failed)
